"""Divergence: a diverging fit never leaves NaN weights behind nor replaces a good model
by garbage; with early stopping it stops and restores the best weights.
"""

import copy
import warnings

import numpy as np
import pytest
from estimator_state import (
    ESTIMATORS,
    FAST,
    STATE_ARG,
    Y_CLF,
    X,
    _assert_same,
    _assert_usable,
    _optimizer_state,
    _snapshot,
    _weights,
)
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor
from sklearn_reg import _kernels as K

# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "solver, schedule, scale", [("adam", "constant", 1.0), ("sgd", "invscaling", 1e6)]
)
def test_diverging_partial_fit_restores_weights_and_optimizer_state(
    regression, solver, schedule, scale
):
    """adam: a switch to SGD at η = 10 blows up; sgd: its decayed η on data scaled by 1e6."""
    X, y = regression
    reg = RegularizedMLPRegressor(
        hidden_layer_sizes=(8,),
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=0.01,
        random_state=0,
    )
    for _ in range(5):
        reg.partial_fit(X, y)
    before = _snapshot(reg)
    state = _optimizer_state(reg)
    assert reg._n_steps == 5  # one batch of 200 per call
    assert solver == "adam" or reg._optimizer.learning_rate < 0.01  # invscaling has moved
    reg.set_params(
        solver="sgd", learning_rate_init=10.0 if solver == "adam" else 0.01, batch_size=1
    )
    with pytest.raises(ValueError, match=r"diverged at epoch 6.*Lower learning_rate_init"):
        reg.partial_fit(X * scale, y * scale)
    _assert_same(_optimizer_state(reg), state)
    _assert_same(vars(reg), {**before, **reg.get_params()})
    # the model trains on where it was: the same as if the failed call never happened
    reg.set_params(solver=solver, learning_rate_init=0.01, batch_size="auto")
    twin = RegularizedMLPRegressor(**reg.get_params())
    twin.__dict__.update(copy.deepcopy(before))
    _assert_same(vars(reg.partial_fit(X, y)), vars(twin.partial_fit(X, y)))


def test_diverging_warm_start_fit_restores_the_previous_model(regression):
    X, y = regression
    reg = RegularizedMLPRegressor(
        hidden_layer_sizes=(8,), max_iter=10, warm_start=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    before = _snapshot(reg)
    reg.set_params(solver="sgd", learning_rate_init=10.0, batch_size=1)
    with pytest.raises(ValueError, match="diverged.*Lower learning_rate_init.*StandardScaler"):
        reg.fit(X, y)
    _assert_same(vars(reg), {**before, **reg.get_params()})
    _assert_usable(reg, X)


def test_kernel_undoes_a_diverged_epoch_and_reports_it(monkeypatch, regression):
    """Rows 20–29 overflow the squared error: the loop returns before counting the epoch,
    its state (weights, moments, counters) as it was before the epoch."""
    X, y = regression
    reg = RegularizedMLPRegressor(
        hidden_layer_sizes=(8,), batch_size=10, shuffle=False, random_state=0
    ).partial_fit(X, y)
    returned = []
    real = K.train

    def spy(*args):
        state = args[STATE_ARG]
        before = [a.copy() for a in state]
        returned.append(real(*args))
        assert all(np.array_equal(a, b) for a, b in zip(state, before))
        return returned[-1]

    monkeypatch.setattr(K, "train", spy)
    y_bad = y.copy()
    y_bad[20:30] = 1e200
    before = _snapshot(reg)
    with pytest.raises(ValueError, match="diverged at epoch 2"):
        reg.partial_fit(X, y_bad)
    ((n_done, status, data_loss),) = returned
    assert n_done == 0 and status == K.DIVERGED and not np.isfinite(data_loss)
    _assert_same(vars(reg), before)


def _diverge_after(n_good, monkeypatch, record=None):
    """Make K.train run n_good real epochs (one per call, as early stopping calls it), then
    report a diverged one: the kernel undoes it and says so."""
    real = K.train
    calls = []

    def diverging(*args):
        calls.append(None)
        state = args[STATE_ARG]
        if len(calls) > n_good:
            return 0, K.DIVERGED, np.nan
        out = real(*args)
        if record is not None:
            record.append(state.params.copy())
        return out

    monkeypatch.setattr(K, "train", diverging)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_early_stopping_divergence_warns_and_restores_the_best_weights(monkeypatch, Estimator):
    Xc, yc = make_classification(n_samples=300, n_features=6, random_state=0)
    y = yc if Estimator is RegularizedMLPClassifier else Xc[:, 0]
    epochs = []
    _diverge_after(6, monkeypatch, record=epochs)
    est = Estimator(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        max_iter=50,
        tol=0,
        n_iter_no_change=100,
        learning_rate_init=0.05,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match="diverged at epoch 7; stopped and restored"):
        est.fit(Xc, y)
    # the diverged epoch is counted and scored NaN, as in scikit-learn
    assert est.n_iter_ == len(est.validation_scores_) == len(est.loss_curve_) == 7
    assert np.isnan(est.validation_scores_[-1]) and np.isnan(est.loss_curve_[-1])
    best = int(np.nanargmax(est.validation_scores_))
    np.testing.assert_array_equal(est._flat_params(), epochs[best])
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert np.isfinite(est._first_moment).all() and np.isfinite(est._second_moment).all()
    _assert_usable(est, Xc)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # r2 of huge outputs
def test_early_stopping_real_divergence_restores_the_best_epoch(regression):
    """SGD at η = 3 blows up at epoch 8; the model is that of the best epoch, bit for bit."""
    X, y = regression
    kw = dict(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=3.0,
        early_stopping=True,
        n_iter_no_change=1000,
        tol=0,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match="Training diverged at epoch .*restored"):
        est = RegularizedMLPRegressor(max_iter=100, **kw).fit(X, y)
    assert est.n_iter_ < 100
    best_epoch = int(np.argmax(est.validation_scores_)) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = RegularizedMLPRegressor(max_iter=best_epoch, **kw).fit(X, y)
    for a, b in zip(_weights(est), _weights(ref)):
        np.testing.assert_array_equal(a, b)
    _assert_usable(est, X)


def test_adam_second_moment_overflow_is_divergence_not_a_frozen_model():
    """|g| > 1e154 overflows g² to inf: Adam's steps become 0 with finite weights."""
    with pytest.raises(ValueError, match="diverged at epoch 1"):
        RegularizedMLPClassifier(**FAST).fit(X * 1e300, Y_CLF)


@pytest.mark.parametrize("first, second", [(False, True), (True, False)])
def test_warm_start_may_switch_early_stopping(first, second):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=5, early_stopping=first, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xc, yc)
        clf.set_params(warm_start=True, early_stopping=second).fit(Xc, yc)
    assert clf.n_iter_ == 5 and clf._n_epochs == 10
    assert (clf.validation_scores_ is not None) == second
    assert (clf.best_loss_ is None) == second
    _assert_usable(clf, Xc)


def test_warm_start_with_early_stopping_keeps_the_best_weights_when_none_improve():
    """As scikit-learn: a warm start that never beats the best score returns to its weights."""
    Xc, yc = make_classification(
        n_samples=200, n_features=4, n_informative=2, class_sep=3, random_state=0
    )
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        max_iter=50,
        learning_rate_init=0.05,
        warm_start=True,
        random_state=0,
    )
    clf.fit(Xc, yc)
    assert clf.best_validation_score_ == 1.0  # nothing can beat it
    best = [w.copy() for w in _weights(clf)]
    clf.fit(Xc, yc)
    for a, b in zip(best, _weights(clf)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("switch", [("lbfgs", "adam"), ("sgd", "adam"), ("adam", "sgd")])
def test_partial_fit_after_a_change_of_solver_starts_a_fresh_optimizer(switch):
    """sgd keeps no second moment: continuing with adam must not read past its end."""
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(8,), solver=switch[0], max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xc, yc)
    clf.set_params(solver=switch[1]).partial_fit(Xc, yc)
    n = clf._flat_params().shape[0]
    assert clf._first_moment.shape == (n,)
    assert clf._second_moment.shape == ((n,) if switch[1] == "adam" else (0,))
    assert clf._n_steps == 1  # one batch of 200 since the switch
    _assert_usable(clf, Xc)


# ---------------------------------------------------------------------------
# divergence caught before it is non-finite
# ---------------------------------------------------------------------------


def test_warm_start_that_explodes_raises_and_keeps_the_good_model():
    X, y = load_digits(return_X_y=True)
    clf = RegularizedMLPClassifier(warm_start=True, solver="sgd", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X / 16, y)
    before, score = _snapshot(clf), clf.score(X / 16, y)
    clf.set_params(learning_rate_init=1e3, max_iter=50)
    with pytest.raises(ValueError, match="diverged.*Lower learning_rate_init"):
        clf.fit(X * 1e6, y)
    _assert_same(vars(clf), {**before, **clf.get_params()})
    assert clf.score(X / 16, y) == score


def test_exploding_l2_under_plain_sgd_raises_naming_the_stability_bound():
    X, y = load_digits(return_X_y=True)
    clf = RegularizedMLPClassifier(alpha=1e6, solver="sgd", max_iter=20, random_state=0)
    with pytest.raises(ValueError, match=r"diverged.*2·learning_rate_init·alpha > 2"):
        clf.fit(X / 16, y)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unscaled_features_that_start_far_from_the_data_still_train(Estimator):
    """A fit that starts with a huge loss (unscaled inputs) and improves is not diverging."""
    Xc, yc = make_classification(n_samples=300, n_features=6, random_state=0)
    y = yc if Estimator is RegularizedMLPClassifier else Xc[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(16,), max_iter=50, random_state=0).fit(Xc * 300, y)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    _assert_usable(est, Xc * 300)
