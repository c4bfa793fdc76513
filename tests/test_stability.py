"""StabilitySelection: it finds the informative features, its error bound holds on
noise, and it behaves as a scikit-learn feature selector."""

import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_reg import (
    RegularizedMLPClassifier,
    RegularizedMLPRegressor,
    RegularizedMLPRegressorCV,
    StabilitySelection,
    _stability,
    regularization_path,
)
from sklearn_reg._stability import (
    complementary_halves,
    mb_bound,
    unimodal_bound,
    union_sizes,
)

#: a small, fast configuration for the API tests
FAST = {"n_pairs": 5, "alphas": [1e-3, 1e-2, 3e-2, 1e-1], "random_state": 0}


@pytest.fixture(scope="module")
def classification():
    """400 samples, 12 columns, the first 3 informative."""
    return make_classification(
        n_samples=400, n_features=12, n_informative=3, n_redundant=0, shuffle=False, random_state=0
    )


@pytest.fixture(scope="module")
def fitted(classification):
    X, y = classification
    return StabilitySelection(**FAST).fit(X, y)


# -- the specification: the true features, and nothing else -------------------------


def test_selects_exactly_the_five_true_columns_of_friedman1():
    X, y = make_friedman1(n_samples=2000, n_features=100, noise=1.0, random_state=0)
    selector = StabilitySelection(n_jobs=2, random_state=0).fit(X, y)
    assert selector.get_support(indices=True).tolist() == [0, 1, 2, 3, 4]


def test_selects_exactly_the_ten_informative_columns_of_make_classification():
    X, y = make_classification(
        n_samples=5000,
        n_features=100,
        n_informative=10,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    selector = StabilitySelection(n_jobs=2, random_state=0).fit(X, y)
    assert selector.get_support(indices=True).tolist() == list(range(10))


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_selections_on_pure_noise_stay_within_the_reported_bound(task):
    n_selected, bounds = [], []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((300, 40))
        y = rng.standard_normal(300) if task == "regression" else rng.integers(0, 2, 300)
        selector = StabilitySelection(n_pairs=8, random_state=seed).fit(X, y)
        n_selected.append(selector.get_support().sum())
        bounds.append(selector.expected_false_selections_)
    assert np.mean(n_selected) <= np.mean(bounds)
    assert np.mean(n_selected) <= 1  # the bound is loose: noise is (almost) never stable


# -- what the fitted attributes mean ----------------------------------------------------


def test_stability_scores_are_selection_frequencies_over_the_halves(fitted):
    scores = fitted.stability_scores_
    assert scores.shape == (12, 4)
    n_halves = 2 * fitted.n_pairs
    assert np.allclose(scores * n_halves, np.round(scores * n_halves))  # counts / n_halves
    assert np.all((0 <= scores) & (scores <= 1))
    # the mean number of features selected per half is the sum of the frequencies
    assert np.allclose(fitted.mean_n_selected_, scores.sum(axis=0))


def test_weakest_alpha_keeps_every_feature_so_the_region_leaves_it_out(fitted):
    assert np.all(fitted.stability_scores_[:, 0] == 1)
    assert fitted.alpha_min_ > fitted.alphas_[0]


def test_support_is_the_max_score_over_the_region_against_the_threshold(fitted):
    region = fitted.alphas_ >= fitted.alpha_min_
    best = fitted.stability_scores_[:, region].max(axis=1)
    assert np.array_equal(fitted.max_stability_scores_, best)
    assert np.array_equal(fitted.get_support(), best >= fitted.threshold)
    assert fitted.get_support(indices=True).tolist() == [0, 1, 2]


def test_reported_bound_is_meinshausen_buhlmann_at_q_and_within_the_target(fitted):
    p = fitted.n_features_in_
    expected = fitted.q_**2 / ((2 * fitted.threshold - 1) * p)
    assert fitted.expected_false_selections_ == pytest.approx(expected)
    assert fitted.expected_false_selections_ <= fitted.max_false_selections
    assert fitted.expected_false_selections_unimodal_ <= fitted.expected_false_selections_


def test_whole_grid_with_a_dense_weak_end_makes_every_feature_stable(classification):
    X, y = classification
    selector = StabilitySelection(**FAST, max_false_selections=None).fit(X, y)
    assert selector.alpha_min_ == selector.alphas_[0]
    assert selector.q_ == X.shape[1]
    assert selector.get_support().all()


def test_a_smaller_target_narrows_the_region_toward_strong_alphas(classification):
    X, y = classification
    loose = StabilitySelection(**FAST, max_false_selections=50).fit(X, y)
    tight = StabilitySelection(**FAST, max_false_selections=2).fit(X, y)
    assert tight.alpha_min_ >= loose.alpha_min_
    assert tight.expected_false_selections_ <= 2


def test_warns_and_uses_the_strongest_alpha_when_no_region_meets_the_target(classification):
    X, y = classification
    with pytest.warns(UserWarning, match="Add stronger values of λ"):
        selector = StabilitySelection(
            n_pairs=2, alphas=[1e-4, 2e-4], max_false_selections=0.5, random_state=0
        ).fit(X, y)
    assert selector.alpha_min_ == 2e-4


def test_a_higher_threshold_keeps_a_subset(classification):
    X, y = classification
    low = StabilitySelection(**FAST, threshold=0.55).fit(X, y).get_support()
    high = StabilitySelection(**FAST, threshold=1.0).fit(X, y).get_support()
    assert np.all(low[high])


# -- the bounds and the halves, as functions --------------------------------------------


def test_mb_bound_closed_form():
    assert mb_bound(10, 100, 0.6) == pytest.approx(5.0)
    assert mb_bound(10, 100, 0.9) == pytest.approx(1.25)


def test_unimodal_bound_matches_shah_samworth_constants():
    # π ≤ 3/4: q²/p / (2·(2π − 1 − 1/(2B))); π > 3/4: q²/p · 4·(1 − π + 1/(2B)) / (1 + 1/B)
    assert unimodal_bound(10, 100, 0.6, 50) == pytest.approx(1 / (2 * (0.2 - 0.01)))
    assert unimodal_bound(10, 100, 0.9, 50) == pytest.approx(4 * (0.1 + 0.01) / 1.02)
    # out of its range (π too close to 1/2 for θ = q/p) it falls back to the worst case
    assert unimodal_bound(80, 100, 0.6, 50) == pytest.approx(mb_bound(80, 100, 0.6))


def test_union_sizes_count_features_selected_anywhere_in_the_region():
    # two halves, three values of λ (increasing), three features
    selected = np.array(
        [
            [[1, 1, 1], [1, 0, 0], [0, 0, 0]],
            [[1, 1, 0], [0, 1, 0], [0, 0, 1]],
        ],
        dtype=bool,
    )
    # from λ_2: {}, {2} → 0.5; from λ_1: {0}, {1, 2} → 1.5; from λ_0: 3 and 3 → 3
    assert union_sizes(selected).tolist() == [3.0, 1.5, 0.5]


@pytest.mark.parametrize("stratify", [False, True])
def test_halves_of_a_pair_are_disjoint_and_of_half_the_size(stratify):
    y = np.array([0] * 30 + [1] * 71)
    pairs = complementary_halves(y, 20, np.random.RandomState(0), stratify)
    for first, second in pairs:
        assert len(first) == len(second) == 50
        assert not set(first) & set(second)
        if stratify:
            assert abs(np.sum(y[first] == 0) - 15) <= 1


# -- scikit-learn API ---------------------------------------------------------------------


def test_transform_keeps_the_selected_columns(fitted, classification):
    X, _ = classification
    assert np.array_equal(fitted.transform(X), X[:, fitted.get_support()])


def test_feature_names_of_a_dataframe_go_through(classification):
    pd = pytest.importorskip("pandas")
    X, y = classification
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    selector = StabilitySelection(**FAST).fit(frame, y)
    assert list(selector.feature_names_in_) == list(frame.columns)
    assert selector.get_feature_names_out().tolist() == ["x0", "x1", "x2"]


def test_works_as_the_first_step_of_a_pipeline(classification):
    X, y = classification
    pipe = make_pipeline(StabilitySelection(**FAST), LogisticRegression()).fit(X, y)
    assert pipe[-1].coef_.shape == (1, 3)
    assert np.array_equal(pipe[:-1].transform(X), X[:, :3])


def test_clone_gives_an_unfitted_copy_with_the_same_parameters(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "stability_scores_")


def test_same_random_state_same_result_for_any_n_jobs(classification):
    X, y = classification
    one = StabilitySelection(**FAST, n_jobs=1).fit(X, y)
    two = StabilitySelection(**FAST, n_jobs=2).fit(X, y)
    assert np.array_equal(one.stability_scores_, two.stability_scores_)
    other = StabilitySelection(**{**FAST, "random_state": 1}).fit(X, y)
    assert not np.array_equal(one.stability_scores_, other.stability_scores_)


def test_template_estimator_is_left_unchanged(classification):
    X, y = classification
    template = RegularizedMLPClassifier(
        penalty="group", hidden_layer_sizes=(8,), max_iter=10, learning_rate_init=0.01
    )
    params = template.get_params()
    selector = StabilitySelection(template, **FAST).fit(X, y)
    assert template.get_params() == params
    assert not hasattr(template, "coefs_")
    assert selector.get_support()[:3].all()


def _filters():
    """The warnings filters, with their message and module patterns as strings."""
    return [
        (
            action,
            getattr(message, "pattern", message),
            category,
            getattr(module, "pattern", module),
            lineno,
        )
        for action, message, category, module, lineno in warnings.filters
    ]


def test_fixed_budgets_warn_nothing_and_leave_the_warnings_filters_alone(
    classification, monkeypatch
):
    """Every path reaches max_iter on purpose and says nothing of it, in the worker
    threads too, through a thread-local switch: the process-wide warnings filters,
    which other threads read meanwhile, are the same before, during and after fit.

    (scikit-learn's ``Parallel`` rebuilds the caller's filters in each worker, as
    compiled patterns: the same filters, compared by their patterns.)"""
    X, y = classification
    template = RegularizedMLPClassifier(penalty="group", hidden_layer_sizes=(8,), max_iter=2)
    seen = []  # (thread, warnings filters) at the start of each path

    def observed_path(*args, **kwargs):
        seen.append((threading.current_thread(), _filters()))
        return regularization_path(*args, **kwargs)

    monkeypatch.setattr(_stability, "regularization_path", observed_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = _filters()
        StabilitySelection(template, **FAST, path_max_iter=2, n_jobs=2).fit(X, y)
        after = _filters()
    assert [w.message for w in caught if w.category is ConvergenceWarning] == []
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clone(template).fit(X, y)  # what each path's first fit would say on its own
    assert after == before
    assert len(seen) == 2 * FAST["n_pairs"]
    assert any(thread is not threading.main_thread() for thread, _ in seen)
    assert all(filters == before for _, filters in seen)


def test_sparse_input_selects_the_informative_columns(classification):
    X, y = classification
    selector = StabilitySelection(**FAST).fit(sp.csr_matrix(X), y)
    assert selector.get_support(indices=True).tolist() == [0, 1, 2]


def test_sample_weight_of_ones_changes_nothing(classification):
    X, y = classification
    plain = StabilitySelection(**FAST).fit(X, y)
    weighted = StabilitySelection(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    assert np.array_equal(plain.stability_scores_, weighted.stability_scores_)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"threshold": 0.5}, "threshold"),
        ({"threshold": 1.2}, "threshold"),
        ({"n_pairs": 0}, "n_pairs"),
        ({"max_false_selections": 0}, "max_false_selections"),
        ({"path_max_iter": 0}, "path_max_iter"),
        ({"alphas": 0}, "alphas"),
    ],
)
def test_out_of_range_parameters_raise(classification, params, match):
    X, y = classification
    with pytest.raises(InvalidParameterError, match=match):
        StabilitySelection(**params).fit(X, y)


@pytest.mark.parametrize("alphas", [[-1e-3, 1e-2], [0.0, 1e-2], [[1e-3]], [np.nan]])
def test_bad_alphas_raise(classification, alphas):
    X, y = classification
    with pytest.raises(ValueError, match="alphas must be"):
        StabilitySelection(alphas=alphas).fit(X, y)


@pytest.mark.parametrize(
    "estimator, match",
    [
        (RegularizedMLPRegressor(penalty="l2"), "never sets the weights"),
        (RegularizedMLPRegressor(penalty=None), "never sets the weights"),
        (Lasso(), "RegularizedMLPClassifier or a RegularizedMLPRegressor"),
        (RegularizedMLPRegressorCV(penalty="group"), "`alpha` is set along the path"),
    ],
)
def test_estimators_that_cannot_select_raise(estimator, match):
    X, y = make_friedman1(n_samples=50, n_features=6, random_state=0)
    with pytest.raises(ValueError, match=match):
        StabilitySelection(estimator, **FAST).fit(X, y)


def test_too_few_samples_raise():
    with pytest.raises(ValueError, match="at least 4 samples"):
        StabilitySelection(**FAST).fit(np.eye(3), [0.0, 1.0, 2.0])


def test_a_class_with_one_sample_raises(classification):
    X, y = classification
    y = y.copy()
    y[0] = 2  # a third class, seen once: one half of every pair would miss it
    with pytest.raises(ValueError, match="at least 2 samples"):
        StabilitySelection(**FAST).fit(X, y)


def test_bad_estimator_parameters_raise_the_estimators_error(classification):
    X, y = classification
    with pytest.raises(InvalidParameterError, match="learning_rate_init"):
        StabilitySelection(
            RegularizedMLPClassifier(penalty="group", learning_rate_init=-1), **FAST
        ).fit(X, y)


@parametrize_with_checks(
    [
        StabilitySelection(
            n_pairs=2, alphas=[1e-3, 1e-2], max_false_selections=None, random_state=0
        ),
    ]
)
def test_sklearn_compatible_selector(estimator, check):
    check(estimator)
