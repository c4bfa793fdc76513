"""param_grid of the CV estimators: training regularizers searched jointly with λ."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV

NET = dict(
    hidden_layer_sizes=(16,),
    learning_rate_init=0.01,
    max_iter=60,
    alphas=[1e-4, 1e-3, 1e-2],
    cv=3,
    random_state=0,
)


def _fit(Estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(**{**NET, **params}).fit(X, y)


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=300, n_features=8, noise=0.5, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def test_the_winner_is_the_combination_with_the_best_score_at_its_alpha(friedman):
    X, y = friedman
    grid = {"dropout": [0.0, 0.3], "max_norm": [None, 1.0]}
    searched = _fit(RegularizedMLPRegressorCV, X, y, param_grid=grid)
    results = searched.param_grid_results_
    assert results["params"] == [
        {"dropout": 0.0, "max_norm": None},
        {"dropout": 0.0, "max_norm": 1.0},
        {"dropout": 0.3, "max_norm": None},
        {"dropout": 0.3, "max_norm": 1.0},
    ]
    # each combination is the CV estimator fitted with it
    for params, alpha, mean in zip(results["params"], results["alpha"], results["mean_score"]):
        single = _fit(RegularizedMLPRegressorCV, X, y, **params)
        assert single.alpha_ == alpha
        assert single.scores_.mean(axis=0)[list(single.alphas_).index(alpha)] == mean
    best = int(np.argmax(results["mean_score"]))
    assert searched.best_params_ == results["params"][best]
    winner = _fit(RegularizedMLPRegressorCV, X, y, **searched.best_params_)
    assert searched.alpha_ == winner.alpha_
    np.testing.assert_array_equal(searched.scores_, winner.scores_)
    for a, b in zip(searched.coefs_, winner.coefs_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(searched.predict(X), winner.predict(X))


def test_the_parameters_stay_as_given(friedman):
    X, y = friedman
    searched = _fit(RegularizedMLPRegressorCV, X, y, param_grid={"dropout": [0.2, 0.4]})
    assert searched.dropout == 0.0
    assert searched.get_params()["param_grid"] == {"dropout": [0.2, 0.4]}
    assert searched.best_params_["dropout"] in (0.2, 0.4)


def test_every_combination_sees_the_same_folds_of_a_shuffling_splitter():
    X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    shuffled = KFold(3, shuffle=True)  # no random_state: new folds at every split
    searched = _fit(
        RegularizedMLPClassifierCV, X, y, cv=shuffled, param_grid={"dropout": [0.0, 0.0]}
    )
    # two identical combinations on the same folds: identical scores
    first, second = searched.param_grid_results_["mean_score"]
    assert first == second


def test_the_search_composes_with_adaptive(friedman):
    X, y = friedman
    searched = _fit(
        RegularizedMLPRegressorCV, X, y, penalty="group", param_grid={"l1_ratio": [0.5]}
    )
    assert searched.adaptive_weights_.shape == (8,)  # 'auto': the second fit ran


@pytest.mark.parametrize(
    "grid, match",
    [
        ({"activation": ["relu", "tanh"]}, "cannot search 'activation'"),
        ({"alpha": [1e-3]}, "cannot search 'alpha'.*alphas"),
        ({}, "at least one parameter"),
    ],
)
def test_a_parameter_that_acts_at_prediction_is_refused_by_name(friedman, grid, match):
    X, y = friedman
    with pytest.raises(ValueError, match=match):
        _fit(RegularizedMLPRegressorCV, X, y, param_grid=grid)
