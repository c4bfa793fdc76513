"""Threads: concurrent fits and predictions of different objects are bit-identical to
serial ones; one object fitted from two threads fails loudly in one of them.
"""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from estimator_state import _assert_usable, _weights
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor
from sklearn_reg import _kernels as K

# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, method",
    [(RegularizedMLPClassifier, "predict_proba"), (RegularizedMLPRegressor, "predict")],
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_concurrent_predict_equals_serial_predict(Estimator, method, sparse):
    """predict releases the GIL in the kernel: 4 threads at once, results bit-identical."""
    Xc, yc = make_classification(
        n_samples=300, n_features=10, n_classes=3, n_informative=5, random_state=0
    )
    y = yc if Estimator is RegularizedMLPClassifier else Xc[:, :2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(32, 16), max_iter=5, random_state=0).fit(Xc, y)
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(K.PREDICT_CHUNK + 500 * i, 10)) for i in range(8)]
    if sparse:
        inputs = [sp.csr_matrix(np.where(np.abs(a) > 1, a, 0.0)) for a in inputs]
    predict = getattr(est, method)
    serial = [predict(a) for a in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            for got, want in zip(pool.map(predict, inputs), serial):
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_fitting_one_estimator_from_two_threads_fails_loudly_in_one(monkeypatch, method):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    clf.partial_fit(Xc, yc, classes=[0, 1])
    inside, release = threading.Event(), threading.Event()
    real = K.train

    def held(*args):  # the first fit waits inside its kernel until the second one has run
        inside.set()
        release.wait(60)
        return real(*args)

    monkeypatch.setattr(K, "train", held)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            first = pool.submit(getattr(clf, method), Xc, yc)
            assert inside.wait(60)
            with pytest.raises(RuntimeError, match="already being fitted in another thread"):
                getattr(clf, method)(Xc[:, :3], yc)  # other data: would break the model
            release.set()
            assert first.result() is clf
    monkeypatch.setattr(K, "train", real)
    assert clf.n_features_in_ == 6 and clf.coefs_[0].shape == (6, 8)
    _assert_usable(clf, Xc)
    clf.partial_fit(Xc, yc)  # the object is free again


def test_different_estimators_fit_in_threads_bit_identical_to_serial():
    Xc, yc = make_classification(n_samples=300, n_features=8, random_state=0)
    params = [
        dict(penalty=p, dropout=d, random_state=s)
        for p, d, s in [("l1", 0.0, 0), ("l2", 0.2, 1), ("group", 0.1, 2), ("wd", 0.0, 3)]
    ]

    def fit(kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return RegularizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, **kw).fit(Xc, yc)

    serial = [fit(kw) for kw in params]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(fit, params))
    for a, b in zip(serial, threaded):
        for u, v in zip(_weights(a), _weights(b)):
            np.testing.assert_array_equal(u, v)


def test_concurrent_fits_restore_the_blas_thread_limit_they_share():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    Xc, yc = make_classification(n_samples=400, n_features=8, random_state=0)

    def fit(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            RegularizedMLPClassifier(
                hidden_layer_sizes=(8,), max_iter=20 + 7 * seed, random_state=seed
            ).fit(Xc, yc)
        return blas_threads()

    with ThreadPoolExecutor(max_workers=3) as pool:
        during = list(pool.map(fit, range(6)))
    assert blas_threads() == before
    assert all(set(d) <= {1} | set(before) for d in during)


def test_a_fit_in_any_thread_limits_blas_even_where_another_thread_set_a_limit():
    """threadpoolctl lets one Python thread at a time set OpenBLAS's limit; a fit or
    predict in a worker thread still gets its one BLAS thread after the main thread set
    one (here the user's limit of 2), and the user's limit is back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from sklearn_reg._threads import one_blas_thread

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    def in_worker():
        with one_blas_thread():
            return blas_threads()

    before = blas_threads()
    with threadpool_limits(limits=2, user_api="blas"):
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(in_worker).result() == {1}
        assert blas_threads() == {2}
    assert blas_threads() == before
