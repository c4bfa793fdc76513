"""Interruption (Ctrl-C): a fit keeps the epochs it completed, a ``partial_fit`` the
model from before.
"""

import warnings

import numpy as np
import pytest
from estimator_state import STATE_ARG, _assert_same, _assert_usable, _optimizer_state, _snapshot
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor
from sklearn_reg import _kernels as K

# ---------------------------------------------------------------------------
# interruption (Ctrl-C)
# ---------------------------------------------------------------------------


def _interrupt_after(n, monkeypatch, run_the_epoch):
    """K.train raises KeyboardInterrupt once n epochs are done, before or after running.

    After it: the realistic case, Ctrl-C is raised as the kernel returns, its epochs
    already applied in place to the parameters and moments. Calls that would run past
    epoch n are cut to end there.
    """
    real = K.train
    done = []

    def interrupted(*args):
        room = n - len(done)
        if room <= 0:
            if run_the_epoch:
                real(*args)
            raise KeyboardInterrupt
        losses = args[-1][:room]
        out = real(*args[:-1], losses)
        done.extend([None] * out[0])
        return out

    monkeypatch.setattr(K, "train", interrupted)


@pytest.mark.parametrize("run_the_epoch", [False, True], ids=["before-epoch", "after-epoch"])
@pytest.mark.parametrize(
    "Estimator, solver", [(RegularizedMLPClassifier, "adam"), (RegularizedMLPRegressor, "sgd")]
)
def test_interrupted_fit_keeps_the_completed_epochs(monkeypatch, Estimator, solver, run_the_epoch):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    y = yc if Estimator is RegularizedMLPClassifier else Xc[:, 0]
    kw = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        dropout=0.1,
        tol=0,
        random_state=0,
        learning_rate="invscaling",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        done = Estimator(max_iter=4, **kw).fit(Xc, y)  # what 4 epochs give, uninterrupted
    _interrupt_after(4, monkeypatch, run_the_epoch)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est = Estimator(max_iter=50, **kw).fit(Xc, y)
    assert est.n_iter_ == len(est.loss_curve_) == 4
    _assert_usable(est, Xc)
    _assert_same(_optimizer_state(est), _optimizer_state(done))


def test_interrupted_partial_fit_leaves_the_model_as_before(monkeypatch):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(Xc, yc, classes=[0, 1])
    before = _snapshot(clf)
    _interrupt_after(0, monkeypatch, run_the_epoch=True)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.partial_fit(Xc, yc)
    _assert_same(vars(clf), before)


def test_interrupted_fit_with_early_stopping_restores_the_best_weights(monkeypatch):
    Xc, yc = make_classification(n_samples=300, n_features=6, random_state=0)
    epochs = []
    real = K.train

    def record_then_interrupt(*args):
        if len(epochs) == 6:
            real(*args)
            raise KeyboardInterrupt
        out = real(*args)
        epochs.append(args[STATE_ARG].params.copy())
        return out

    monkeypatch.setattr(K, "train", record_then_interrupt)
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        tol=0,
        n_iter_no_change=100,
        learning_rate_init=0.05,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(Xc, yc)
    assert clf.n_iter_ == len(clf.validation_scores_) == 6
    np.testing.assert_array_equal(
        clf._flat_params(), epochs[int(np.argmax(clf.validation_scores_))]
    )
    _assert_usable(clf, Xc)


def test_interrupted_lbfgs_keeps_the_last_iterate(monkeypatch):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    real = K.objective_grad
    calls = []

    def interrupted(*args):
        calls.append(None)
        if len(calls) > 15:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(K, "objective_grad", interrupted)
    with pytest.warns(UserWarning, match="interrupted"):
        clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(
            Xc, yc
        )
    assert 1 <= clf.n_iter_ < 15
    _assert_usable(clf, Xc)
    # interrupted before the first iterate: nothing to keep, the interrupt propagates
    calls.clear()
    calls.extend([None] * 15)
    fresh = RegularizedMLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(Xc, yc)
    assert not hasattr(fresh, "coefs_")
