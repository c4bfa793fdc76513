"""adaptive='auto'|True|γ of the CV estimators: the adaptive lasso and adaptive group lasso."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_reg import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV
from sklearn_reg._adaptive import TINY, adaptive_weights

NET = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, cv=3, random_state=0)


def _fit(Estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(**{**NET, **params}).fit(X, y)


def _kept(model):
    return np.flatnonzero(np.abs(model.coefs_[0]).sum(axis=1) > 0)


@pytest.fixture(scope="module")
def friedman():
    """Friedman #1: columns 0-4 informative (with an interaction), 15 noise columns."""
    X, y = make_friedman1(n_samples=400, n_features=20, noise=0.5, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def test_weights_are_one_over_the_row_norm_to_the_gamma_times_the_users_weights():
    W0 = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])  # row norms 5, 0.5, 0
    for gamma in (1.0, 2.0):
        np.testing.assert_allclose(
            adaptive_weights(W0, gamma), 1.0 / (np.array([5.0, 0.5, 0.0]) ** gamma + TINY)
        )
    np.testing.assert_allclose(
        adaptive_weights(W0, 1.0, penalty_weights=[2.0, 0.0, 1.0]),
        [2.0 / (5.0 + TINY), 0.0, 1.0 / TINY],
    )


@pytest.mark.parametrize("penalty", ["l1", "group"])
def test_adaptive_keeps_the_informative_columns_where_the_plain_penalty_keeps_noise(
    friedman, penalty
):
    X, y = friedman
    plain = _fit(RegularizedMLPRegressorCV, X, y, penalty=penalty, adaptive=False)
    adaptive = _fit(RegularizedMLPRegressorCV, X, y, penalty=penalty)  # 'auto': adaptive
    assert set(_kept(plain)) > set(range(5))  # the plain penalty keeps noise columns too
    np.testing.assert_array_equal(_kept(adaptive), np.arange(5))
    selector = SelectFromModel(adaptive, prefit=True)
    np.testing.assert_array_equal(np.flatnonzero(selector.get_support()), np.arange(5))


def test_adaptive_is_the_plain_fit_then_the_fit_weighted_by_its_first_layer(friedman):
    X, y = friedman
    adaptive = _fit(RegularizedMLPRegressorCV, X, y, penalty="group", adaptive=2.0)
    first = _fit(RegularizedMLPRegressorCV, X, y, penalty="group", adaptive=False)
    np.testing.assert_array_equal(
        adaptive.adaptive_weights_, adaptive_weights(first.coefs_[0], 2.0)
    )
    second = _fit(
        RegularizedMLPRegressorCV,
        X,
        y,
        penalty="group",
        penalty_weights=adaptive.adaptive_weights_,
        adaptive=False,
    )
    assert adaptive.alpha_ == second.alpha_
    np.testing.assert_array_equal(adaptive.scores_, second.scores_)
    for a, b in zip(adaptive.coefs_, second.coefs_):
        np.testing.assert_array_equal(a, b)
    # what the first fit removed, the second keeps removed
    removed = np.flatnonzero(np.abs(first.coefs_[0]).sum(axis=1) == 0)
    assert removed.size and not np.any(adaptive.coefs_[0][removed])


def test_adaptive_classifier_keeps_the_informative_columns_and_fewer_noise_columns():
    X, y = make_classification(
        n_samples=600, n_features=20, n_informative=4, n_redundant=0, shuffle=False, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    plain = _fit(RegularizedMLPClassifierCV, X, y, penalty="group", adaptive=False)
    adaptive = _fit(RegularizedMLPClassifierCV, X, y, penalty="group", adaptive=True)
    assert set(range(4)) <= set(_kept(adaptive)) < set(_kept(plain))
    assert adaptive.score(X, y) >= plain.score(X, y) - 0.02
    assert adaptive.adaptive_weights_.shape == (20,)


def test_a_zero_user_weight_stays_unpenalized_under_adaptive(friedman):
    X, y = friedman
    weights = np.ones(20)
    weights[19] = 0.0  # a noise column the user exempts from the penalty
    adaptive = _fit(
        RegularizedMLPRegressorCV, X, y, penalty="group", adaptive=True, penalty_weights=weights
    )
    assert adaptive.adaptive_weights_[19] == 0.0
    assert 19 in _kept(adaptive)


def test_auto_is_gamma_one_for_the_selecting_penalties(friedman):
    X, y = friedman
    auto = _fit(RegularizedMLPRegressorCV, X, y, penalty="elasticnet", alphas=3)
    explicit = _fit(RegularizedMLPRegressorCV, X, y, penalty="elasticnet", adaptive=True, alphas=3)
    np.testing.assert_array_equal(auto.adaptive_weights_, explicit.adaptive_weights_)
    for a, b in zip(auto.coefs_, explicit.coefs_):
        np.testing.assert_array_equal(a, b)


def test_auto_is_a_single_fit_for_the_penalties_without_first_layer_rows(friedman):
    X, y = friedman
    auto = _fit(RegularizedMLPRegressorCV, X, y, penalty="l2", alphas=3)
    single = _fit(RegularizedMLPRegressorCV, X, y, penalty="l2", adaptive=False, alphas=3)
    assert not hasattr(auto, "adaptive_weights_")
    np.testing.assert_array_equal(auto.scores_, single.scores_)


def test_adaptive_refuses_a_penalty_without_first_layer_rows(friedman):
    X, y = friedman
    with pytest.raises(ValueError, match=r"adaptive=True .*penalty='l2'"):
        _fit(RegularizedMLPRegressorCV, X, y, penalty="l2", adaptive=True)


@pytest.mark.parametrize("bad", [0.0, -1.0, "yes", None])
def test_bad_adaptive_values_are_refused_by_name(friedman, bad):
    X, y = friedman
    with pytest.raises(InvalidParameterError, match="adaptive"):
        _fit(RegularizedMLPRegressorCV, X, y, penalty="group", adaptive=bad)


def test_refitting_without_adaptive_drops_the_adaptive_weights(friedman):
    X, y = friedman
    model = _fit(RegularizedMLPRegressorCV, X, y, penalty="group", adaptive=True, alphas=3)
    assert hasattr(model, "adaptive_weights_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clone(model).fit(X, y)
        model.set_params(adaptive=False).fit(X, y)
    assert not hasattr(model, "adaptive_weights_")


def test_with_feature_groups_each_group_gets_the_weight_of_its_block_norm():
    W0 = np.array([[3.0, 0.0], [0.0, 4.0], [0.3, 0.4]])  # rows 0, 1 in one group: norm 5
    np.testing.assert_allclose(
        adaptive_weights(W0, 1.0, feature_groups=["a", "a", "b"]),
        1.0 / (np.array([5.0, 5.0, 0.5]) + TINY),
    )
