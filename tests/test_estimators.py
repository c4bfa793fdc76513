"""Behaviour of the estimators: sparsity, feature selection, parity, drop-in use."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor


@pytest.fixture(scope="module")
def informative():
    """make_classification whose first 5 columns carry the signal (shuffle=False)."""
    X, y = make_classification(
        n_samples=1000,
        n_features=30,
        n_informative=5,
        n_redundant=0,
        n_repeated=0,
        shuffle=False,
        random_state=0,
    )
    return StandardScaler().fit_transform(X), y


def test_l1_prox_yields_exact_zeros_and_l2_none(informative):
    X, y = informative
    l1 = RegularizedMLPClassifier(penalty="l1", alpha=3e-3, max_iter=100, random_state=0).fit(X, y)
    l2 = RegularizedMLPClassifier(penalty="l2", alpha=3e-3, max_iter=100, random_state=0).fit(X, y)
    assert np.mean(l1.coefs_[0] == 0) > 0.5
    assert np.count_nonzero(l2.coefs_[0] == 0) == 0
    assert l1.score(X, y) > 0.85


@pytest.mark.parametrize("penalty, alpha", [("l1", 2e-2), ("group", 3e-3)])
def test_select_from_model_recovers_informative_columns(informative, penalty, alpha):
    X, y = informative
    clf = RegularizedMLPClassifier(penalty=penalty, alpha=alpha, max_iter=100, random_state=0)
    selector = SelectFromModel(clf).fit(X, y)
    kept = set(np.flatnonzero(selector.get_support()))
    true = set(range(5))
    precision = len(kept & true) / len(kept)
    recall = len(kept & true) / len(true)
    assert recall == 1.0
    assert precision >= 0.8


def test_select_from_model_default_threshold_keeps_exactly_nonzero_rows(informative):
    X, y = informative
    clf = RegularizedMLPClassifier(penalty="l1", alpha=3e-3, max_iter=60, random_state=0).fit(X, y)
    support = SelectFromModel(clf, prefit=True).get_support()
    assert np.array_equal(support, np.any(clf.coefs_[0] != 0, axis=1))
    assert clf.coef_.shape == (100, X.shape[1])
    assert np.shares_memory(clf.coef_, clf.coefs_[0])


@pytest.mark.parametrize("load", [load_digits, load_breast_cancer])
def test_l2_matches_mlpclassifier_accuracy_with_mapped_alpha(load):
    """alpha_sklearn ≈ 2·B·alpha: same model quality as MLPClassifier."""
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    sk = MLPClassifier(alpha=1e-4, max_iter=300, random_state=0).fit(X_train, y_train)
    ours = RegularizedMLPClassifier(
        penalty="l2", alpha=1e-4 / (2 * 200), max_iter=300, random_state=0
    ).fit(X_train, y_train)
    assert abs(ours.score(X_test, y_test) - sk.score(X_test, y_test)) <= 0.02


def test_initial_weights_are_those_of_mlpclassifier():
    X, y = make_classification(n_samples=50, n_features=6, random_state=0)
    kw = dict(
        hidden_layer_sizes=(5, 4),
        max_iter=1,
        random_state=3,
        solver="sgd",
        learning_rate_init=1e-12,
    )
    sk = MLPClassifier(**kw).fit(X, y)
    ours = RegularizedMLPClassifier(penalty=None, **kw).fit(X, y)
    for a, b in zip(sk.coefs_, ours.coefs_):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_same_random_state_gives_bit_identical_coefs():
    X, y = make_classification(n_samples=300, n_features=10, random_state=0)
    kw = dict(penalty="elasticnet", alpha=1e-3, dropout=0.2, max_iter=20, random_state=7)
    a = RegularizedMLPClassifier(**kw).fit(X, y)
    b = RegularizedMLPClassifier(**kw).fit(X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(wa, wb)
    c = RegularizedMLPClassifier(**{**kw, "random_state": 8}).fit(X, y)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


@pytest.mark.parametrize("Estimator", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_float32_input_trains_in_float32(Estimator):
    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    est = Estimator(max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    est64 = Estimator(max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coefs_[0], est64.coefs_[0], atol=1e-3)


def test_sparse_input_gives_the_dense_model():
    X, y = make_classification(n_samples=200, n_features=20, random_state=0)
    X[np.abs(X) < 1.0] = 0.0
    kw = dict(penalty="l1", alpha=1e-3, max_iter=5, random_state=0)
    dense = RegularizedMLPClassifier(**kw).fit(X, y)
    for fmt in (sp.csr_matrix, sp.csc_matrix):
        sparse = RegularizedMLPClassifier(**kw).fit(fmt(X), y)
        np.testing.assert_allclose(sparse.coefs_[0], dense.coefs_[0], atol=1e-10)
        np.testing.assert_allclose(sparse.predict_proba(fmt(X)), dense.predict_proba(X), atol=1e-10)


def test_grid_search_over_alpha_in_pipeline_is_deterministic_across_n_jobs():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        RegularizedMLPClassifier(
            hidden_layer_sizes=(20,), penalty="l1", max_iter=30, random_state=0
        ),
    )
    grid = {"regularizedmlpclassifier__alpha": [1e-4, 1e-3, 1e-2]}
    serial = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert serial.best_score_ > 0.9


def test_string_labels_multiclass_and_multilabel():
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = RegularizedMLPClassifier(max_iter=100, random_state=0).fit(X, labels)
    assert clf.out_activation_ == "softmax"
    assert set(clf.predict(X)) <= set(labels)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    Y = np.column_stack([y == 0, y == 1, y >= 1]).astype(int)
    multi = RegularizedMLPClassifier(max_iter=100, random_state=0).fit(X, Y)
    assert multi.out_activation_ == "logistic"
    assert multi.predict(X).shape == Y.shape
    assert multi.score(X, Y) > 0.6


def test_regressor_multi_output_and_poisson():
    X, y = make_regression(n_samples=300, n_features=5, n_targets=2, random_state=0)
    reg = RegularizedMLPRegressor(max_iter=300, learning_rate_init=0.01, random_state=0)
    reg.fit(X, y / y.std())
    assert reg.predict(X).shape == (300, 2)
    assert reg.score(X, y / y.std()) > 0.9
    rate = np.exp(X[:, 0] * 0.5)
    counts = np.random.default_rng(0).poisson(rate)
    pois = RegularizedMLPRegressor(
        loss="poisson", max_iter=200, learning_rate_init=0.01, random_state=0
    ).fit(X, counts)
    assert pois.out_activation_ == "exp"
    assert np.all(pois.predict(X) > 0)
    with pytest.raises(ValueError, match="negative"):
        RegularizedMLPRegressor(loss="poisson").fit(X, -counts - 1)


def test_class_weight_shifts_predictions_toward_the_weighted_class():
    X, y = make_classification(
        n_samples=400, n_features=5, weights=[0.8, 0.2], flip_y=0.2, random_state=0
    )
    plain = RegularizedMLPClassifier(max_iter=50, random_state=0).fit(X, y)
    balanced = RegularizedMLPClassifier(max_iter=50, random_state=0, class_weight="balanced").fit(
        X, y
    )
    assert (balanced.predict(X) == 1).sum() > (plain.predict(X) == 1).sum()
    dict_weighted = RegularizedMLPClassifier(max_iter=50, random_state=0, class_weight={0: 1, 1: 4})
    repeated = RegularizedMLPClassifier(max_iter=50, random_state=0)
    sw = np.where(y == 1, 4.0, 1.0)
    np.testing.assert_allclose(
        dict_weighted.fit(X, y).coefs_[0], repeated.fit(X, y, sample_weight=sw).coefs_[0]
    )
    with pytest.raises(ValueError, match="balanced"):
        RegularizedMLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize(
    "params, names",
    [
        ({"solver": "lbfgs", "penalty": "l1"}, ["lbfgs", "penalty"]),
        ({"solver": "lbfgs", "dropout": 0.5}, ["lbfgs", "dropout"]),
    ],
)
def test_lbfgs_rejects_nonsmooth_configurations_naming_both_parameters(params, names):
    X, y = make_classification(n_samples=50, random_state=0)
    with pytest.raises(ValueError) as exc:
        RegularizedMLPClassifier(**params).fit(X, y)
    for name in names:
        assert name in str(exc.value)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"penalty": "lasso"}, "penalty"),
        ({"alpha": -1.0}, "alpha"),
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"dropout": 1.0}, "dropout"),
        ({"solver": "rmsprop"}, "solver"),
    ],
)
def test_invalid_parameters_raise_invalid_parameter_error(params, name):
    X, y = make_classification(n_samples=50, random_state=0)
    with pytest.raises(InvalidParameterError, match=name):
        RegularizedMLPClassifier(**params).fit(X, y)


def test_dropout_per_layer_must_match_the_hidden_layers():
    X, y = make_classification(n_samples=50, random_state=0)
    with pytest.raises(ValueError, match="dropout"):
        RegularizedMLPClassifier(hidden_layer_sizes=(4, 4), dropout=[0.1]).fit(X, y)
    RegularizedMLPClassifier(hidden_layer_sizes=(4, 4), dropout=[0.1, 0.0], max_iter=2).fit(X, y)


def test_divergence_raises_and_never_leaves_nan_weights():
    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    reg = RegularizedMLPRegressor(
        solver="sgd", learning_rate_init=10.0, momentum=0.9, max_iter=50, random_state=0
    )
    with pytest.raises(ValueError, match="learning_rate_init.*StandardScaler"):
        reg.fit(X * 1e3, y * 1e3)
    assert not hasattr(reg, "coefs_")
    good = RegularizedMLPRegressor(max_iter=20, random_state=0).fit(X, y)
    good.set_params(solver="sgd", learning_rate_init=10.0)
    with pytest.raises(ValueError, match="diverged"):
        for _ in range(20):
            good.partial_fit(X * 1e3, y * 1e3)
    assert all(np.isfinite(c).all() for c in good.coefs_)
    assert good.n_iter_ == 1 and good.t_ >= 20 * 200  # one epoch per call, samples counted on


def test_partial_fit_failure_keeps_previous_model():
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    reg = RegularizedMLPRegressor(max_iter=5, random_state=0).fit(X, y)
    before = [c.copy() for c in reg.coefs_]
    with pytest.raises(ValueError):
        reg.partial_fit(X[:, :3], y)
    for a, b in zip(before, reg.coefs_):
        assert np.array_equal(a, b)


def test_partial_fit_runs_one_epoch_each_call_and_keeps_optimizer_state():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(random_state=0)
    for i in range(1, 4):
        clf.partial_fit(X, y, classes=[0, 1])
        assert clf.n_iter_ == 1  # the epochs of the last call, as in scikit-learn
        assert clf.t_ == 200 * i
        assert len(clf.loss_curve_) == i
    assert clf._n_steps == 3  # one Adam step per batch, kept across calls
    assert not hasattr(RegularizedMLPClassifier(solver="lbfgs"), "partial_fit")


def test_warm_start_continues_from_the_previous_solution():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(max_iter=5, warm_start=True, random_state=0).fit(X, y)
    loss = clf.loss_
    clf.fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 10
    assert clf.loss_ < loss


def test_early_stopping_restores_the_best_weights_and_records_validation_curves():
    X, y = make_classification(n_samples=500, n_features=10, random_state=0)
    clf = RegularizedMLPClassifier(early_stopping=True, max_iter=200, random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    assert clf.n_iter_ < 200


def test_max_iter_reached_warns_convergence():
    X, y = make_classification(n_samples=100, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        RegularizedMLPClassifier(max_iter=2).fit(X, y)


def test_verbose_prints_in_scikit_learn_format(capsys):
    X, y = make_classification(n_samples=100, random_state=0)
    RegularizedMLPClassifier(max_iter=3, verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r"Iteration \d+, loss = \d+\.\d{8}", line) for line in lines)


def test_alpha_is_independent_of_batch_size():
    """λ weighs the penalty per objective: the same shrinkage at batch 20 and at full batch."""
    X, y = make_regression(n_samples=400, n_features=5, noise=10, random_state=0)

    def squared_norm(alpha, batch_size):
        reg = RegularizedMLPRegressor(
            alpha=alpha,
            batch_size=batch_size,
            max_iter=300,
            tol=0,
            learning_rate_init=0.01,
            random_state=0,
        )
        return sum(np.sum(c**2) for c in reg.fit(X, y / y.std()).coefs_)

    small_batch, full_batch = squared_norm(0.1, 20), squared_norm(0.1, 400)
    assert small_batch == pytest.approx(full_batch, rel=0.05)
    assert full_batch < 0.9 * squared_norm(0.0, 400)


def test_clone_and_pickle_round_trip():
    import pickle

    X, y = make_classification(n_samples=100, random_state=0)
    clf = RegularizedMLPClassifier(penalty="l1", max_iter=5, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, y)
    assert restored.n_iter_ == 1 and len(restored.loss_curve_) == len(clf.loss_curve_) + 1
    assert clone(clf).get_params() == clf.get_params()
