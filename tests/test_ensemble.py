"""refit='ensemble' of the CV estimators: the fold models at alpha_ predict, averaged."""

import warnings
from functools import partial

import numpy as np
import pytest
import test_cv
import test_persistence
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_reg import (
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressorCV,
    regularization_path,
)

NET = dict(hidden_layer_sizes=(12,), learning_rate_init=0.01, max_iter=80, random_state=0)
ALPHAS = [1e-4, 1e-3, 1e-2]


def _fit(Estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(**{**NET, "alphas": ALPHAS, **params}).fit(X, y)


def _numpy_output(X, coefs, intercepts, out_activation):
    """g(z_L) of a ReLU network, z_{l+1} = relu(z_l)·W_{l+1} + b_{l+1}, in plain numpy."""
    a = np.asarray(X, dtype=np.float64)
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        z = a @ W + b
        a = np.maximum(z, 0.0) if k < len(coefs) - 1 else z
    if out_activation == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if out_activation == "logistic":
        return 1.0 / (1.0 + np.exp(-z))
    return z


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=300, n_features=8, noise=0.5, random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def classifiers(three_classes):
    """(refit=True, refit='ensemble') on the same folds, penalty 'l1'."""
    X, y = three_classes
    folds = list(StratifiedKFold(3).split(X, y))
    kw = dict(cv=folds, penalty="l1", adaptive=False)  # one path: its fold models
    return (
        _fit(RegularizedMLPClassifierCV, X, y, **kw),
        _fit(RegularizedMLPClassifierCV, X, y, refit="ensemble", **kw),
        folds,
    )


# -- what predicts ---------------------------------------------------------------------


def test_classifier_probabilities_are_the_mean_of_the_members(three_classes, classifiers):
    X, _ = three_classes
    _, ensemble, folds = classifiers
    assert len(ensemble.ensemble_coefs_) == len(ensemble.ensemble_intercepts_) == len(folds)
    members = [
        _numpy_output(X, coefs, intercepts, "softmax")
        for coefs, intercepts in zip(ensemble.ensemble_coefs_, ensemble.ensemble_intercepts_)
    ]
    proba = ensemble.predict_proba(X)
    np.testing.assert_allclose(proba, np.mean(members, axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ensemble.predict(X), ensemble.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(ensemble.predict_log_proba(X), np.log(proba))
    # the members disagree somewhere: the average is not any one of them
    assert min(np.abs(proba - m).max() for m in members) > 1e-3


def test_binary_probabilities_sum_to_one(three_classes):
    X, y = three_classes
    ensemble = _fit(RegularizedMLPClassifierCV, X, y == 0, cv=3, refit="ensemble")
    members = [
        _numpy_output(X, coefs, intercepts, "logistic")
        for coefs, intercepts in zip(ensemble.ensemble_coefs_, ensemble.ensemble_intercepts_)
    ]
    p = np.mean(members, axis=0).ravel()
    proba = ensemble.predict_proba(X)
    np.testing.assert_allclose(proba, np.c_[1 - p, p], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ensemble.predict(X), p > 0.5)


def test_multilabel_probabilities_are_the_mean_of_the_members(three_classes):
    X, _ = three_classes
    Y = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0].astype(int)
    ensemble = _fit(RegularizedMLPClassifierCV, X, Y, cv=KFold(3), refit="ensemble")
    members = [
        _numpy_output(X, coefs, intercepts, "logistic")
        for coefs, intercepts in zip(ensemble.ensemble_coefs_, ensemble.ensemble_intercepts_)
    ]
    np.testing.assert_allclose(ensemble.predict_proba(X), np.mean(members, axis=0), rtol=1e-10)
    np.testing.assert_array_equal(ensemble.predict(X), np.mean(members, axis=0) > 0.5)


def test_regressor_predictions_are_the_mean_of_the_members(friedman):
    X, y = friedman
    ensemble = _fit(RegularizedMLPRegressorCV, X, y, cv=4, refit="ensemble")
    assert len(ensemble.ensemble_coefs_) == 4
    members = [
        _numpy_output(X, coefs, intercepts, "identity").ravel()
        for coefs, intercepts in zip(ensemble.ensemble_coefs_, ensemble.ensemble_intercepts_)
    ]
    prediction = ensemble.predict(X)
    np.testing.assert_allclose(prediction, np.mean(members, axis=0), rtol=1e-10, atol=1e-12)
    residual = ((y - prediction) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert ensemble.score(X, y) == pytest.approx(1 - residual)


def test_float32_members_predict_in_float32(three_classes):
    X, y = three_classes
    ensemble = _fit(RegularizedMLPClassifierCV, X.astype(np.float32), y, cv=3, refit="ensemble")
    assert all(W.dtype == np.float32 for coefs in ensemble.ensemble_coefs_ for W in coefs)
    assert ensemble.predict_proba(X.astype(np.float32)).dtype == np.float32


# -- the members are the fold models at alpha_ ---------------------------------------


def test_members_are_the_fold_paths_at_alpha_(three_classes, classifiers):
    X, y = three_classes
    plain, ensemble, folds = classifiers
    # the same folds choose the same λ: refit changes only what predicts
    np.testing.assert_array_equal(ensemble.scores_, plain.scores_)
    assert ensemble.alpha_ == plain.alpha_
    index = ALPHAS.index(ensemble.alpha_)
    for f, (train, _) in enumerate(folds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            *_, models = regularization_path(
                X[train], y[train], ALPHAS, penalty="l1", return_models=True, **NET
            )
        for W, V in zip(ensemble.ensemble_coefs_[f], models[index].coefs_):
            np.testing.assert_array_equal(W, V)
        for b, c in zip(ensemble.ensemble_intercepts_[f], models[index].intercepts_):
            np.testing.assert_array_equal(b, c)


def test_coef_stays_the_full_data_model_for_selection(three_classes, classifiers):
    X, y = three_classes
    plain, ensemble, _ = classifiers
    for name in ("coefs_", "intercepts_"):
        for W, V in zip(getattr(ensemble, name), getattr(plain, name)):
            np.testing.assert_array_equal(W, V)
    np.testing.assert_array_equal(ensemble.coef_, ensemble.coefs_[0].T)
    np.testing.assert_array_equal(ensemble.n_features_selected_, plain.n_features_selected_)
    np.testing.assert_array_equal(ensemble.feature_exit_alphas_, plain.feature_exit_alphas_)
    selector = SelectFromModel(ensemble, prefit=True).fit(X, y)
    assert selector.threshold_ == 1e-5  # penalty='l1': exact zeros
    np.testing.assert_array_equal(selector.get_support(), np.any(ensemble.coefs_[0] != 0, axis=1))
    np.testing.assert_array_equal(
        selector.get_support(), SelectFromModel(plain, prefit=True).get_support()
    )


def test_refit_true_predicts_with_the_full_data_model(three_classes, classifiers):
    X, _ = three_classes
    plain, _, _ = classifiers
    assert not hasattr(plain, "ensemble_coefs_") and not hasattr(plain, "ensemble_intercepts_")
    np.testing.assert_allclose(
        plain.predict_proba(X),
        _numpy_output(X, plain.coefs_, plain.intercepts_, "softmax"),
        rtol=1e-10,
        atol=1e-12,
    )


def test_refitting_with_refit_true_drops_the_members(friedman):
    X, y = friedman
    est = _fit(RegularizedMLPRegressorCV, X, y, cv=3, refit="ensemble")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(refit=True).fit(X, y)
    assert not hasattr(est, "ensemble_coefs_")
    np.testing.assert_allclose(
        est.predict(X), _numpy_output(X, est.coefs_, est.intercepts_, "identity").ravel()
    )


def test_feature_names_are_checked_once(three_classes):
    pd = pytest.importorskip("pandas")
    X, y = three_classes
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    ensemble = _fit(RegularizedMLPClassifierCV, df, y, cv=3, refit="ensemble")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = ensemble.predict_proba(df)
    with pytest.warns(UserWarning, match="feature names") as record:
        np.testing.assert_array_equal(ensemble.predict_proba(X), proba)
    assert len(record) == 1


# -- parameters, persistence, export, callbacks -------------------------------------


@pytest.mark.parametrize("refit", [False, None, "mean", "True", 1])
def test_bad_refit_values_are_rejected(three_classes, refit):
    X, y = three_classes
    with pytest.raises(InvalidParameterError, match=r"'refit' parameter .*\{True\}.*'ensemble'"):
        RegularizedMLPClassifierCV(refit=refit).fit(X, y)


def test_clone_keeps_refit_and_no_members(classifiers):
    _, ensemble, _ = classifiers
    copy = clone(ensemble)
    assert copy.refit == "ensemble" and not hasattr(copy, "ensemble_coefs_")


# the members are plain lists of numpy arrays: skops distrusts only the class itself
ROUND_TRIPS = [
    test_persistence._pickle,
    test_persistence._joblib,
    partial(test_persistence._skops, module="sklearn_reg._cv"),
]


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "joblib", "skops"])
def test_persisted_ensemble_predicts_identically(three_classes, classifiers, round_trip, tmp_path):
    X, _ = three_classes
    _, ensemble, _ = classifiers
    loaded = round_trip(ensemble, tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(X), ensemble.predict_proba(X))
    for coefs, kept in zip(loaded.ensemble_coefs_, ensemble.ensemble_coefs_):
        for W, V in zip(coefs, kept):
            np.testing.assert_array_equal(W, V)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("binary", [False, True], ids=["multiclass", "binary"])
def test_onnx_exports_the_mean_of_the_members(three_classes, dtype, binary):
    rt = pytest.importorskip("onnxruntime")
    to_onnx = pytest.importorskip("skl2onnx").to_onnx
    pytest.importorskip("sklearn_reg.onnx")
    X, y = three_classes
    X = X.astype(dtype)
    ensemble = _fit(RegularizedMLPClassifierCV, X, y == 0 if binary else y, refit="ensemble")
    onx = to_onnx(ensemble, X[:1], options={"zipmap": False})
    session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_array_equal(label, ensemble.predict(X))
    atol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(proba, ensemble.predict_proba(X), rtol=0, atol=atol)
    assert sum(node.op_type == "MatMul" for node in onx.graph.node) == 5 * 2  # 5 folds


def test_onnx_regressor_exports_the_mean_of_the_members(friedman):
    rt = pytest.importorskip("onnxruntime")
    to_onnx = pytest.importorskip("skl2onnx").to_onnx
    pytest.importorskip("sklearn_reg.onnx")
    X, y = friedman
    ensemble = _fit(RegularizedMLPRegressorCV, X, y, cv=3, refit="ensemble")
    onx = to_onnx(ensemble, X[:1])
    session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    (prediction,) = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(prediction.ravel(), ensemble.predict(X), rtol=1e-12, atol=1e-12)


def test_callbacks_see_each_path_and_the_ensemble_at_the_end(three_classes):
    callback = pytest.importorskip("sklearn.callback")
    X, y = three_classes
    logs = {}
    for refit in (True, "ensemble"):
        monitor = callback.ScoringMonitor(scoring="accuracy")
        est = _fit(
            RegularizedMLPClassifierCV, X, y, alphas=[1e-4, 1e-2], cv=2, max_iter=10, refit=refit
        )
        est.set_callbacks(monitor)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        rows = monitor.get_logs().data
        logs[refit] = (est, [r["accuracy"] for r in rows if r["task_name"].startswith("alpha=")])
        (root,) = [r for r in rows if r["task_name"] == "fit"]
        assert root["accuracy"] == est.score(X, y)  # the fitted estimator, as it predicts
    # (2 folds + all the data) × 2 values of λ, each scoring its path's network at that λ
    assert len(logs[True][1]) == 6 and logs[True][1] == logs["ensemble"][1]


# -- scikit-learn compatibility --------------------------------------------------------

SMALL = dict(test_cv.SMALL, refit="ensemble")  # the budget of the CV estimators' checks


@parametrize_with_checks([RegularizedMLPClassifierCV(**SMALL), RegularizedMLPRegressorCV(**SMALL)])
def test_ensemble_estimators_are_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
