"""Persistence and memory: pickle, joblib and skops round trips predict identically and
train on; prediction runs in bounded memory.
"""

import pickle
import tracemalloc
import warnings

import joblib
import numpy as np
import pytest
from estimator_state import _assert_same, _is_clf, _optimizer_state, _weights
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor
from sklearn_reg import _kernels as K

# ---------------------------------------------------------------------------
# persistence
# ---------------------------------------------------------------------------


def _pickle(est, tmp_path):
    return pickle.loads(pickle.dumps(est))


def _joblib(est, tmp_path):
    joblib.dump(est, tmp_path / "model.joblib")
    return joblib.load(tmp_path / "model.joblib")


def _skops(est, tmp_path, module="sklearn_reg._mlp"):
    """skops refuses unknown types: the user must trust the estimator class itself.

    ``get_untrusted_types`` lists exactly ``sklearn_reg._mlp.RegularizedMLPClassifier``
    (or ``...RegularizedMLPRegressor``): the fitted state holds only numpy arrays,
    Python scalars / lists / tuples / dicts and scikit-learn's ``LabelBinarizer``, which
    skops trusts by default.
    """
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"{module}.{type(est).__name__}"]
    return sio.load(path, trusted=untrusted)


ROUND_TRIPS = [_pickle, _joblib, _skops]

PERSISTED = [
    (RegularizedMLPClassifier, {"penalty": "l1", "dropout": 0.2, "early_stopping": True}, "labels"),
    (
        RegularizedMLPClassifier,
        {
            "solver": "sgd",
            "learning_rate": "invscaling",
            "class_weight": {"ant": 1.0, "bee": 2.0, "cat": 0.5},
        },
        "labels",
    ),
    (RegularizedMLPClassifier, {"early_stopping": True, "penalty": "group"}, "multilabel"),
    (
        RegularizedMLPClassifier,
        {"solver": "lbfgs", "random_state": np.random.RandomState(0)},
        "labels",
    ),
    (
        RegularizedMLPRegressor,
        {"penalty": "elasticnet", "dropblock": 0.2, "feature_shape": (2, 4), "block_size": (1, 2)},
        "regression",
    ),
    (RegularizedMLPRegressor, {"loss": "poisson", "penalty": "wd"}, "counts"),
]


def _persist_data(kind):
    Xc, yc = make_classification(
        n_samples=150, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    y = {
        "labels": np.array(["ant", "bee", "cat"])[yc],
        "multilabel": np.column_stack([yc == 0, yc >= 1, Xc[:, 0] > 0]).astype(int),
        "regression": Xc[:, :2] @ [1.0, -0.5],
        "counts": np.random.default_rng(0).poisson(np.exp(0.3 * Xc[:, 0])),
    }[kind]
    return Xc.astype(np.float32) if kind == "regression" else Xc, y


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "joblib", "skops"])
@pytest.mark.parametrize(
    "Estimator, params, kind", PERSISTED, ids=[f"{E.__name__[14:]}-{k}" for E, _, k in PERSISTED]
)
def test_round_trip_gives_identical_predictions_and_training_continues(
    tmp_path, round_trip, Estimator, params, kind
):
    """pickle, joblib and skops: same predictions, and partial_fit continues bit-identically.

    skops loads only types the user trusts; ``skops.io.get_untrusted_types`` lists exactly
    one, the estimator class (``sklearn_reg._mlp.RegularizedMLPClassifier`` or
    ``sklearn_reg._mlp.RegularizedMLPRegressor``): see :func:`_skops`.
    """
    X, y = _persist_data(kind)
    est = Estimator(hidden_layer_sizes=(6,), max_iter=5, **{"random_state": 0, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    loaded = round_trip(est, tmp_path)
    _assert_same_predictions(loaded, est, X)
    if est.solver == "lbfgs":
        return
    for model in (est, loaded):
        model.set_params(early_stopping=False)  # partial_fit does not support it
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)  # partial_fit after load equals partial_fit without it
    _assert_same_predictions(loaded, est, X)
    _assert_same(_optimizer_state(loaded), _optimizer_state(est))
    again = round_trip(loaded, tmp_path)  # after partial_fit, round-trips again
    _assert_same_predictions(again, est, X)
    est.partial_fit(X, y)
    again.partial_fit(X, y)
    _assert_same(_optimizer_state(again), _optimizer_state(est))


def _assert_same_predictions(a, b, X):
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    if _is_clf(a):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    for u, v in zip(_weights(a), _weights(b)):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "joblib", "skops"])
def test_round_trip_of_a_partial_fit_model_then_warm_start(tmp_path, round_trip):
    X, y = _persist_data("labels")
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(6,), max_iter=3, warm_start=True, random_state=0
    )
    clf.partial_fit(X, y, classes=["ant", "bee", "cat"])
    loaded = round_trip(clf, tmp_path)
    _assert_same_predictions(loaded, clf, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        loaded.fit(X, y)
    _assert_same_predictions(loaded, clf, X)
    assert loaded.n_iter_ == clf.n_iter_ == 3


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, method",
    [
        (RegularizedMLPRegressor, "predict"),
        (RegularizedMLPClassifier, "predict_proba"),
        (RegularizedMLPClassifier, "predict"),
    ],
)
def test_predict_peak_memory_is_one_chunk_not_n_samples_times_width(Estimator, method):
    """tracemalloc sees numpy's and numba's (NRT) allocations alike.

    200,000 × 20 through a hidden layer of 256: an unchunked forward pass would hold
    200,000 × 256 × 8 B = 410 MB of activations; chunked, it holds PREDICT_CHUNK rows
    (8.4 MB) and the outputs: 10.1 MB measured for each method.
    """
    n, width = 200_000, 256
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(300, 20))
    y = (Xs[:, 0] > 0).astype(int) if Estimator is RegularizedMLPClassifier else Xs[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(width,), max_iter=1, random_state=0).fit(Xs, y)
    X_big = rng.normal(size=(n, 20))
    getattr(est, method)(X_big[:10])  # compiled, nothing cached
    tracemalloc.start()
    try:
        out = getattr(est, method)(X_big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    chunk = K.PREDICT_CHUNK * width * 8
    bound = 3 * out.nbytes + 2 * chunk + 2**20
    assert chunk <= peak <= bound, (peak, bound)  # ≥: the kernel's buffer is visible
    assert bound < n * width * 8 / 10
