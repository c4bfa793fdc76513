"""RegularizedMLPClassifierCV / RegularizedMLPRegressorCV and regularization_path."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_reg import (
    RegularizedMLPClassifier,
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressor,
    RegularizedMLPRegressorCV,
    feature_exit_alphas,
    regularization_path,
)
from sklearn_reg._cv import ALPHA_LIMIT, ALPHA_MIN, _select_index
from sklearn_reg._train import TrainingState

CV_PARAMETERS = {
    "alphas",
    "cv",
    "scoring",
    "n_jobs",
    "selection",
    "path_max_iter",
    "refit",
    "adaptive",
    "param_grid",
}

# -- scikit-learn compatibility ------------------------------------------------------

SMALL = dict(
    hidden_layer_sizes=(8,),
    alphas=3,
    cv=3,
    path_max_iter=5,
    max_iter=100,
    learning_rate_init=0.01,
    random_state=0,
)


def _cv_estimators():
    yield RegularizedMLPClassifierCV(**SMALL)
    yield RegularizedMLPRegressorCV(**SMALL)
    yield RegularizedMLPClassifierCV(**SMALL, penalty="group", selection="1se")
    yield RegularizedMLPRegressorCV(**SMALL, penalty="l1")


@parametrize_with_checks(list(_cv_estimators()))
def test_cv_estimators_are_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize(
    "CV, Base",
    [
        (RegularizedMLPClassifierCV, RegularizedMLPClassifier),
        (RegularizedMLPRegressorCV, RegularizedMLPRegressor),
    ],
)
def test_cv_parameters_mirror_the_base_estimator(CV, Base):
    cv_names = set(CV._get_param_names())
    assert cv_names == (set(Base._get_param_names()) - {"alpha"}) | CV_PARAMETERS
    base_defaults = Base().get_params()
    for name, value in CV().get_params().items():
        if name not in CV_PARAMETERS:
            assert value == base_defaults[name], name
    for name in cv_names:
        assert f"\n    {name} : " in CV.__doc__, f"{name} is not documented"


def test_set_params_and_clone_round_trip():
    est = RegularizedMLPClassifierCV(alphas=[1e-3, 1e-2], penalty="l1", n_jobs=2)
    est.set_params(hidden_layer_sizes=(7,), selection="1se")
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert copy.penalty == "l1" and copy.hidden_layer_sizes == (7,)


def test_partial_fit_is_not_available():
    assert not hasattr(RegularizedMLPClassifierCV(), "partial_fit")
    assert not hasattr(RegularizedMLPRegressorCV(), "partial_fit")


@pytest.mark.parametrize("alphas", [0, [], [-1.0], [np.nan], [[1e-3]]])
def test_invalid_alphas_are_rejected(alphas):
    X, y = make_classification(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="alphas"):
        RegularizedMLPClassifierCV(alphas=alphas).fit(X, y)


# -- the path ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def informative():
    """make_classification whose first 5 columns carry the signal (shuffle=False)."""
    X, y = make_classification(
        n_samples=600, n_features=20, n_informative=5, n_redundant=0, shuffle=False, random_state=0
    )
    return StandardScaler().fit_transform(X), y


PATH = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, random_state=0)


def test_path_at_one_alpha_is_a_plain_fit(informative):
    X, y = informative
    _, coefs, losses, _, models = regularization_path(
        X, y, [3e-3], penalty="l1", return_models=True, **PATH
    )
    plain = RegularizedMLPClassifier(penalty="l1", alpha=3e-3, **PATH).fit(X, y)
    for W, V in zip(coefs[0], plain.coefs_):
        np.testing.assert_array_equal(W, V)
    assert losses[0] == plain.loss_
    assert models[0].get_params() == plain.get_params()


def test_path_warm_starts_each_alpha_from_the_previous(informative):
    X, y = informative
    alphas = [1e-4, 3e-3, 3e-2]
    _, coefs, losses, n_selected, models = regularization_path(
        X, y, alphas, penalty="group", path_max_iter=7, return_models=True, **PATH
    )
    # the same λ sequence by hand: set alpha, keep the weights, fit again
    manual = RegularizedMLPClassifier(penalty="group", warm_start=True, **PATH)
    for k, alpha in enumerate(alphas):
        manual.set_params(alpha=alpha, max_iter=PATH["max_iter"] if k == 0 else 7)
        if k:  # the objective changed: the stopping rule measures progress afresh
            state = TrainingState.load(manual)
            state.restart_stopping_rule()
            state.save(manual, manual._units())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            manual.fit(X, y)
        np.testing.assert_array_equal(coefs[k][0], manual.coefs_[0])
    # later λ get at most path_max_iter epochs each
    epochs = np.array([m.n_iter_ for m in models])  # the epochs at each λ
    assert np.all(epochs[1:] <= 7)
    assert epochs.sum() == len(models[-1].loss_curve_)
    # group lasso prunes whole rows as λ grows; the count matches coefs
    assert n_selected[0] == 20 and n_selected[-1] < 10
    assert list(n_selected) == [int(np.any(c[0] != 0, axis=1).sum()) for c in coefs]
    assert np.all(np.isfinite(losses))
    assert [m.alpha for m in models] == alphas


@pytest.mark.parametrize(
    "params, epochs",
    [
        (dict(batch_size=100), 20),  # 4 steps per epoch: 20 epochs are 80 steps
        (dict(batch_size=10), 10),  # 40 steps per epoch: 400 steps are 10 epochs
        (dict(batch_size=10, early_stopping=True), 12),  # 360 training rows: 36 steps
        (dict(batch_size=10, path_max_iter=3), 3),  # an int is the budget in epochs
    ],
)
def test_auto_path_budget_is_400_steps_capped_at_20_epochs(params, epochs):
    X, y = make_classification(n_samples=400, n_features=5, random_state=0)
    params = {"path_max_iter": "auto", **params}
    path_max_iter = params.pop("path_max_iter")
    *_, models = regularization_path(
        X,
        y,
        [1e-4, 1e-3, 1e-2],
        path_max_iter=path_max_iter,
        return_models=True,
        hidden_layer_sizes=(4,),
        max_iter=2,
        n_iter_no_change=1000,  # no stop by the rule: every fit runs its budget
        random_state=0,
        **params,
    )
    assert [m.n_iter_ for m in models] == [2, epochs, epochs]


def test_auto_path_budget_of_lbfgs_is_20_iterations_whatever_the_size():
    from sklearn_reg._config import path_epochs

    assert path_epochs("auto", None, 10**6) == 20  # 'lbfgs' has no optimizer record


def test_path_default_grid_and_inferred_estimator():
    X, y = make_friedman1(n_samples=100, n_features=6, random_state=0)
    alphas, coefs, _, _ = regularization_path(
        X, y, 4, hidden_layer_sizes=(4,), max_iter=20, path_max_iter=2, random_state=0
    )
    np.testing.assert_allclose(alphas, [1e-5, 1e-4 * 10 ** (1 / 3), 1e-2 * 10 ** (-1 / 3), 1e-1])
    assert coefs[0][-1].shape == (4, 1)  # a regressor: one output
    with pytest.raises(ValueError, match="alphas"):
        regularization_path(X, y, alpha=1e-3)


# -- CV estimators -----------------------------------------------------------------


def test_cv_scores_and_refit_come_from_the_path(informative):
    X, y = informative
    alphas = [1e-4, 1e-3, 1e-2]
    folds = list(StratifiedKFold(3).split(X, y))
    est = RegularizedMLPClassifierCV(
        alphas=alphas[::-1], cv=folds, penalty="l1", adaptive=False, **PATH
    ).fit(X, y)
    np.testing.assert_array_equal(est.alphas_, alphas)  # sorted weak to strong
    for f, (train, test) in enumerate(folds):
        *_, models = regularization_path(
            X[train], y[train], alphas, penalty="l1", return_models=True, **PATH
        )
        np.testing.assert_array_equal(est.scores_[f], [m.score(X[test], y[test]) for m in models])
    index = int(np.argmax(est.scores_.mean(axis=0)))
    assert est.alpha_ == alphas[index]
    _, coefs, _, n_selected = regularization_path(X, y, alphas, penalty="l1", **PATH)
    for W, V in zip(est.coefs_, coefs[index]):
        np.testing.assert_array_equal(W, V)
    np.testing.assert_array_equal(est.n_features_selected_, n_selected)
    assert est.n_features_in_ == 20
    np.testing.assert_array_equal(est.classes_, [0, 1])
    assert est.predict_proba(X).shape == (len(X), 2)
    assert est.score(X, y) > 0.85


def _small_first_layer(estimator, X, y):
    """A score that prefers the smallest first layer: the strongest λ always wins."""
    return -float(np.abs(estimator.coefs_[0]).sum())


def _large_first_layer(estimator, X, y):
    """A score that prefers the largest first layer: the weakest λ always wins."""
    return float(np.abs(estimator.coefs_[0]).sum())


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_int_grid_continues_upward_while_its_largest_lambda_is_chosen(informative, penalty):
    X, y = informative
    kw = dict(scoring=_small_first_layer, penalty=penalty, adaptive=False, refit="ensemble")
    est = RegularizedMLPClassifierCV(alphas=3, cv=3, **kw, **PATH).fit(X, y)
    n = est.alphas_.size
    assert n > 3  # 1e-5, 1e-3, 1e-1, then on by the grid's ratio
    np.testing.assert_allclose(est.alphas_, ALPHA_MIN * 100.0 ** np.arange(n))
    assert est.alpha_ == est.alphas_[-1]
    assert est.scores_.shape == (3, n) and est.n_features_selected_.shape == (n,)
    if penalty == "l2":  # never an exact zero: on to the limit
        assert est.alphas_[-1] >= ALPHA_LIMIT > est.alphas_[-2]
    else:  # until the first layer is zero, after which a larger λ changes nothing
        assert est.n_features_selected_[-1] == 0 and est.n_features_selected_[-2] > 0
    # each path continued is the path over the longer grid given outright
    given = RegularizedMLPClassifierCV(alphas=est.alphas_, cv=3, **kw, **PATH).fit(X, y)
    np.testing.assert_array_equal(est.scores_, given.scores_)
    np.testing.assert_array_equal(est.n_features_selected_, given.n_features_selected_)
    np.testing.assert_array_equal(est.feature_exit_alphas_, given.feature_exit_alphas_)
    for W, V in zip(est.coefs_ + est.ensemble_coefs_[0], given.coefs_ + given.ensemble_coefs_[0]):
        np.testing.assert_array_equal(W, V)
    np.testing.assert_array_equal(est.predict_proba(X), given.predict_proba(X))


def test_grid_is_kept_where_a_smaller_lambda_wins_or_the_grid_is_given(informative):
    X, y = informative
    kw = dict(cv=3, adaptive=False, **PATH)
    weakest = RegularizedMLPClassifierCV(alphas=3, scoring=_large_first_layer, **kw).fit(X, y)
    np.testing.assert_allclose(weakest.alphas_, [1e-5, 1e-3, 1e-1])
    given = RegularizedMLPClassifierCV(alphas=[1e-3, 1e-2], scoring=_small_first_layer, **kw)
    given.fit(X, y)
    np.testing.assert_array_equal(given.alphas_, [1e-3, 1e-2])
    assert given.alpha_ == 1e-2


def test_select_index_best_and_one_standard_error_rule():
    scores = np.array(
        [
            [0.80, 0.90, 0.91, 0.89, 0.70],
            [0.82, 0.92, 0.93, 0.91, 0.72],
            [0.78, 0.88, 0.89, 0.87, 0.68],
        ]
    )
    scores[:, 3] = [0.90, 0.92, 0.88]  # mean 0.90
    assert _select_index(scores, "best") == 2
    # se of the best = std([.91, .93, .89], ddof=1) / √3 ≈ 0.0115: 0.90 is within
    # 0.91 - 0.0115, the next (0.70) is not
    assert _select_index(scores, "1se") == 3
    assert _select_index(scores[:1], "1se") == 2  # one fold: no standard error


def test_n_jobs_gives_identical_results(informative):
    X, y = informative
    kw = dict(alphas=[1e-3, 1e-2], cv=3, penalty="group", **PATH)
    one = RegularizedMLPClassifierCV(n_jobs=1, **kw).fit(X, y)
    two = RegularizedMLPClassifierCV(n_jobs=2, **kw).fit(X, y)
    np.testing.assert_array_equal(one.scores_, two.scores_)
    np.testing.assert_array_equal(one.coefs_[0], two.coefs_[0])


def test_pipeline_and_feature_names(informative):
    pd = pytest.importorskip("pandas")
    X, y = informative
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    est = RegularizedMLPClassifierCV(alphas=[1e-3, 1e-2], cv=3, penalty="group", **PATH).fit(df, y)
    assert list(est.feature_names_in_) == list(df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)
    pipe = make_pipeline(StandardScaler(), clone(est)).fit(df, y)
    assert pipe.score(df, y) > 0.85


def test_select_from_model_gets_the_l1_threshold(informative):
    X, y = informative
    est = RegularizedMLPClassifierCV(alphas=[1e-2, 2e-2], cv=3, penalty="l1", **PATH).fit(X, y)
    selector = SelectFromModel(est, prefit=True).fit(X, y)  # prefit: no refit
    assert selector.threshold_ == 1e-5
    np.testing.assert_array_equal(selector.get_support(), np.any(est.coefs_[0] != 0, axis=1))


# -- quality targets (timings are in asv_bench/cv_benchmark.py) ----------------------------


def test_cv_chooses_an_alpha_as_good_as_grid_search():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alphas = [1e-4, 1e-3, 1e-2]
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    params = dict(
        hidden_layer_sizes=(32,), penalty="l1", learning_rate_init=0.01, max_iter=60, random_state=0
    )
    grid = GridSearchCV(RegularizedMLPClassifier(**params), {"alpha": alphas}, cv=folds).fit(X, y)
    ours = RegularizedMLPClassifierCV(alphas=alphas, cv=folds, **params).fit(X, y)
    grid_scores = dict(zip(grid.cv_results_["param_alpha"], grid.cv_results_["mean_test_score"]))
    # our α scores (by independent fits) within 0.01 of the best α of the grid search,
    # and our path's best CV score is as good
    assert grid_scores[ours.alpha_] >= grid.best_score_ - 0.01
    assert ours.scores_.mean(axis=0).max() >= grid.best_score_ - 0.01


def _precision_recall(support, n_true):
    kept = np.flatnonzero(support)
    true_kept = np.count_nonzero(kept < n_true)
    return true_kept / max(len(kept), 1), true_kept / n_true


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=2000, n_features=50, noise=1.0, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


FEATURE_SELECTION = dict(
    alphas=np.geomspace(1e-4, 1e-1, 12),
    penalty="group",
    hidden_layer_sizes=(32,),
    learning_rate_init=0.01,
    random_state=0,
    n_jobs=2,
)


@pytest.mark.parametrize("selection", ["best", "1se"])
def test_group_cv_selects_the_friedman_columns(friedman, selection):
    X, y = friedman
    est = RegularizedMLPRegressorCV(
        selection=selection, cv=KFold(5, shuffle=True, random_state=0), **FEATURE_SELECTION
    )
    support = SelectFromModel(est).fit(X, y).get_support()
    precision, recall = _precision_recall(support, 5)
    assert recall == 1.0 and precision >= 0.8, np.flatnonzero(support)


def test_group_cv_selects_the_informative_classification_columns():
    X, y = make_classification(
        n_samples=5000,
        n_features=100,
        n_informative=10,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    selector = SelectFromModel(RegularizedMLPClassifierCV(**FEATURE_SELECTION)).fit(X, y)
    support = selector.get_support()
    precision, recall = _precision_recall(support, 10)
    assert recall == 1.0 and precision >= 0.8, np.flatnonzero(support)


def test_plain_mlp_baseline_keeps_many_noise_columns(friedman):
    """The baseline the CV estimator beats: first-layer norms of an unpenalized MLP."""
    X, y = friedman
    mlp = RegularizedMLPRegressor(
        penalty=None, hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0
    )
    support = SelectFromModel(mlp).fit(X, y).get_support()
    precision, _ = _precision_recall(support, 5)
    assert precision < 0.8


def test_signature_is_keyword_only_after_activation():
    sig = inspect.signature(RegularizedMLPClassifierCV)
    kinds = [p.kind for p in sig.parameters.values()]
    assert kinds[:2] == [inspect.Parameter.POSITIONAL_OR_KEYWORD] * 2
    assert set(kinds[2:]) == {inspect.Parameter.KEYWORD_ONLY}


def test_feature_exit_alphas_is_the_lambda_from_which_a_row_stays_zero():
    alphas = np.array([1e-3, 1e-2, 1e-1, 1.0])
    active = np.array(
        [
            [1, 1, 1, 1],  # never leaves
            [1, 1, 0, 0],  # leaves at 1e-1
            [1, 0, 1, 0],  # comes back once, leaves for good at 1.0
            [0, 0, 0, 0],
        ]
    )  # never in: leaves at the first λ
    coefs = [[np.repeat(active[:, [k]], 3, axis=1) * 0.5] for k in range(alphas.size)]
    np.testing.assert_array_equal(feature_exit_alphas(alphas, coefs), [np.inf, 1e-1, 1.0, 1e-3])
    with pytest.raises(ValueError, match="3 points of the path, alphas 4"):
        feature_exit_alphas(alphas, coefs[:3])


def test_cv_exit_alphas_rank_the_informative_features_first():
    X, y = make_classification(
        n_samples=300, n_features=12, n_informative=3, n_redundant=0, shuffle=False, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RegularizedMLPClassifierCV(
            penalty="group",
            alphas=[1e-3, 1e-2, 3e-2, 1e-1, 3e-1],
            hidden_layer_sizes=(16,),
            learning_rate_init=0.01,
            max_iter=100,
            cv=3,
            random_state=0,
        ).fit(X, y)
    exits = clf.feature_exit_alphas_
    assert exits.shape == (12,)
    assert exits[:3].min() > np.median(exits[3:])  # the informative ones resist longest
