"""ONNX export: onnxruntime reproduces ``predict`` / ``predict_proba`` of every estimator.

A float64 input computes in float64 and agrees to 1e-12; a float32 input computes in
float32 and agrees to 1e-5 (onnxruntime's float32 Sigmoid / Tanh are approximations
within a few ulp). Labels agree exactly.
"""

import doctest
from pathlib import Path

import numpy as np
import numpydoc.validate as numpydoc_validate
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_reg import (
    RegularizedMLPClassifier,
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressor,
    RegularizedMLPRegressorCV,
)

rt = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
onnx_export = pytest.importorskip("sklearn_reg.onnx")  # registers the converters
to_onnx = skl2onnx.to_onnx

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
DTYPES = [np.float32, np.float64]
#: largest |Δ| allowed between onnxruntime and the estimator, per input dtype
ATOL = {np.float32: 1e-5, np.float64: 1e-12}
DOCS = Path(__file__).parents[1] / "docs"

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 6))
CLASSIFICATION_TARGETS = {
    "binary": (X[:, 0] + X[:, 1] > 0).astype(np.int64),
    "multiclass": np.digitize(X[:, 0] * X[:, 1], [-0.5, 0.5]),
    "strings": np.array(["low", "mid", "high"])[np.digitize(X[:, 0] - X[:, 2], [-0.7, 0.7])],
    "multilabel": (X[:, :3] > 0).astype(np.int64),
}
REGRESSION_TARGETS = {
    "squared_error": ("squared_error", X[:, 0] ** 2 + X[:, 1]),
    "multi_output": ("squared_error", np.c_[X[:, 0] ** 2, np.sin(X[:, 1]), X[:, 2]]),
    "poisson": ("poisson", rng.poisson(np.exp(0.5 * X[:, 0])).astype(np.float64)),
}


def run(onx, X):
    """Outputs of the ONNX model ``onx`` on ``X``, by onnxruntime."""
    session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def classifier(**params):
    return RegularizedMLPClassifier(
        **{
            "hidden_layer_sizes": (16, 8),
            "max_iter": 60,
            "learning_rate_init": 0.01,
            "random_state": 0,
            **params,
        }
    )


def regressor(**params):
    return RegularizedMLPRegressor(
        **{
            "hidden_layer_sizes": (16, 8),
            "max_iter": 60,
            "learning_rate_init": 0.01,
            "random_state": 0,
            **params,
        }
    )


def assert_classifier_matches(model, onx, X):
    label, proba = run(onx, X)
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL[X.dtype.type])
    assert proba.dtype == X.dtype


def assert_regressor_matches(model, onx, X):
    (prediction,) = run(onx, X)
    assert prediction.shape == (X.shape[0], model.n_outputs_)
    assert prediction.dtype == X.dtype
    expected = model.predict(X).reshape(X.shape[0], -1)
    np.testing.assert_allclose(
        prediction, expected, rtol=ATOL[X.dtype.type], atol=ATOL[X.dtype.type]
    )


# -- every target, activation and input dtype ----------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("target", CLASSIFICATION_TARGETS)
def test_classifier_labels_and_probabilities_match_onnxruntime(target, activation, dtype):
    Xd = X.astype(dtype)
    model = classifier(activation=activation).fit(Xd, CLASSIFICATION_TARGETS[target])
    assert model.coefs_[0].dtype == dtype
    assert_classifier_matches(model, to_onnx(model, Xd[:1], options={"zipmap": False}), Xd)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("target", REGRESSION_TARGETS)
def test_regressor_predictions_match_onnxruntime(target, activation, dtype):
    Xd = X.astype(dtype)
    loss, y = REGRESSION_TARGETS[target]
    model = regressor(loss=loss, activation=activation).fit(Xd, y)
    assert model.out_activation_ == ("exp" if loss == "poisson" else "identity")
    assert_regressor_matches(model, to_onnx(model, Xd[:1]), Xd)


def test_multilabel_label_is_the_indicator_matrix_of_predict():
    Xf = X.astype(np.float32)
    model = classifier().fit(Xf, CLASSIFICATION_TARGETS["multilabel"])
    label, proba = run(to_onnx(model, Xf[:1], options={"zipmap": False}), Xf)
    assert label.shape == proba.shape == (X.shape[0], 3)
    np.testing.assert_array_equal(label, (model.predict_proba(Xf) > 0.5).astype(np.int64))
    assert 0 < label.mean() < 1


@pytest.mark.parametrize(
    "labels",
    [np.array([-1, 7]), np.array([0.0, 1.0, 2.0]), np.array([False, True])],
    ids=["negative_int", "float", "bool"],
)
def test_numeric_labels_are_exported_as_int64(labels):
    Xf = X.astype(np.float32)
    y = labels[np.arange(X.shape[0]) % len(labels)]
    model = classifier().fit(Xf, y)
    label, _ = run(to_onnx(model, Xf[:1], options={"zipmap": False}), Xf)
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, model.predict(Xf).astype(np.int64))


# -- the CV estimators and pipelines --------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_classifier_cv_matches_onnxruntime(dtype):
    Xd = X.astype(dtype)
    model = RegularizedMLPClassifierCV(
        (8,), alphas=[1e-4, 1e-2], cv=2, max_iter=30, random_state=0
    ).fit(Xd, CLASSIFICATION_TARGETS["strings"])
    assert_classifier_matches(model, to_onnx(model, Xd[:1], options={"zipmap": False}), Xd)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_regressor_cv_matches_onnxruntime(dtype):
    Xd = X.astype(dtype)
    model = RegularizedMLPRegressorCV(
        hidden_layer_sizes=(8,), alphas=[1e-4, 1e-2], cv=2, max_iter=30, random_state=0
    )
    model.fit(Xd, REGRESSION_TARGETS["multi_output"][1])
    assert_regressor_matches(model, to_onnx(model, Xd[:1]), Xd)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_pipeline_with_scaler_matches_onnxruntime(dtype):
    Xd = (3.0 * X + 5.0).astype(dtype)
    pipe = make_pipeline(StandardScaler(), classifier(activation="tanh"))
    pipe.fit(Xd, CLASSIFICATION_TARGETS["multiclass"])
    assert_classifier_matches(pipe, to_onnx(pipe, Xd[:1], options={"zipmap": False}), Xd)


def test_regressor_pipeline_with_scaler_matches_onnxruntime():
    Xd = 3.0 * X + 5.0
    pipe = make_pipeline(StandardScaler(), regressor(loss="poisson"))
    pipe.fit(Xd, REGRESSION_TARGETS["poisson"][1])
    (prediction,) = run(to_onnx(pipe, Xd[:1]), Xd)
    assert prediction.shape == (X.shape[0], 1)
    np.testing.assert_allclose(prediction.ravel(), pipe.predict(Xd), rtol=1e-12, atol=1e-12)


# -- precision: the graph computes in the dtype of its input ------------------------------


def test_float64_model_exported_for_float32_input_computes_in_float32():
    model = classifier(activation="logistic").fit(X, CLASSIFICATION_TARGETS["multiclass"])
    Xf = X.astype(np.float32)
    label, proba = run(to_onnx(model, Xf[:1], options={"zipmap": False}), Xf)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))


def test_float32_model_exported_for_float64_input_computes_in_float64():
    Xf = X.astype(np.float32)
    model = regressor(activation="tanh").fit(Xf, REGRESSION_TARGETS["squared_error"][1])
    Xd = Xf.astype(np.float64)
    reference = Xd
    for W, b in zip(model.coefs_[:-1], model.intercepts_[:-1]):  # the network in float64
        reference = np.tanh(reference @ W.astype(np.float64) + b.astype(np.float64))
    reference = reference @ model.coefs_[-1].astype(np.float64) + model.intercepts_[-1]
    (prediction,) = run(to_onnx(model, Xd[:1]), Xd)
    assert prediction.dtype == np.float64
    np.testing.assert_allclose(prediction, reference, rtol=1e-12, atol=1e-12)


def test_int64_input_is_computed_in_float32():
    Xi = np.round(3 * X).astype(np.int64)
    model = classifier().fit(Xi.astype(np.float32), CLASSIFICATION_TARGETS["binary"])
    label, proba = run(to_onnx(model, Xi[:1], options={"zipmap": False}), Xi)
    assert proba.dtype == np.float32
    np.testing.assert_array_equal(label, model.predict(Xi.astype(np.float32)))
    np.testing.assert_allclose(proba, model.predict_proba(Xi.astype(np.float32)), atol=1e-5)


# -- skl2onnx's options ---------------------------------------------------------------------


def test_default_zipmap_gives_one_dictionary_of_probabilities_per_sample():
    Xf = X.astype(np.float32)
    model = classifier().fit(Xf, CLASSIFICATION_TARGETS["strings"])
    label, dictionaries = run(to_onnx(model, Xf[:1]), Xf)
    np.testing.assert_array_equal(label, model.predict(Xf))
    proba = np.array([[row[c] for c in model.classes_] for row in dictionaries])
    np.testing.assert_allclose(proba, model.predict_proba(Xf), rtol=0, atol=1e-5)


def test_zipmap_columns_gives_one_probability_tensor_per_class():
    Xf = X.astype(np.float32)
    model = classifier().fit(Xf, CLASSIFICATION_TARGETS["binary"])
    label, *columns = run(to_onnx(model, Xf[:1], options={"zipmap": "columns"}), Xf)
    np.testing.assert_array_equal(label, model.predict(Xf))
    assert len(columns) == 2
    np.testing.assert_allclose(np.column_stack(columns), model.predict_proba(Xf), atol=1e-5)


def test_nocl_gives_class_indices_as_labels():
    Xf = X.astype(np.float32)
    model = classifier().fit(Xf, CLASSIFICATION_TARGETS["strings"])
    label, _ = run(to_onnx(model, Xf[:1], options={"zipmap": False, "nocl": True}), Xf)
    np.testing.assert_array_equal(model.classes_[label], model.predict(Xf))


def test_output_class_labels_adds_the_classes_as_a_third_output():
    Xf = X.astype(np.float32)
    model = classifier().fit(Xf, CLASSIFICATION_TARGETS["strings"])
    options = {"zipmap": False, "output_class_labels": True}
    label, _, classes = run(to_onnx(model, Xf[:1], options=options), Xf)
    np.testing.assert_array_equal(classes, model.classes_)
    np.testing.assert_array_equal(label, model.predict(Xf))


def test_float64_input_with_zipmap_raises_value_error():
    model = classifier(max_iter=5).fit(X, CLASSIFICATION_TARGETS["binary"])
    with pytest.raises(ValueError, match="zipmap"):
        to_onnx(model, X[:1])


def test_unfitted_estimator_raises_not_fitted_error():
    with pytest.raises(NotFittedError):
        to_onnx(classifier(), X[:1].astype(np.float32), options={"zipmap": False})
    with pytest.raises(NotFittedError):
        to_onnx(regressor(), X[:1].astype(np.float32))


def test_input_of_another_width_raises_value_error():
    model = regressor(max_iter=5).fit(X, REGRESSION_TARGETS["squared_error"][1])
    with pytest.raises(ValueError, match="fitted on 6 features"):
        to_onnx(model, X[:1, :4])


# -- registration ---------------------------------------------------------------------------


def test_import_registers_every_estimator_and_register_is_idempotent():
    classes = [
        RegularizedMLPClassifier,
        RegularizedMLPClassifierCV,
        RegularizedMLPRegressor,
        RegularizedMLPRegressorCV,
    ]
    aliases = skl2onnx._supported_operators.sklearn_operator_name_map
    before = {cls: aliases[cls] for cls in classes}
    assert onnx_export.register() == before
    assert onnx_export.register() == before
    assert {cls: aliases[cls] for cls in classes} == before
    Xf = X.astype(np.float32)
    model = classifier(max_iter=5).fit(Xf, CLASSIFICATION_TARGETS["binary"])
    assert_classifier_matches(model, to_onnx(model, Xf[:1], options={"zipmap": False}), Xf)


# -- documentation --------------------------------------------------------------------------

PUBLIC = [f"sklearn_reg.onnx.{name}" for name in onnx_export.__all__]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_docstring_validates(name):
    ignored = {"ES01", "EX01", "SA01", "RT02"}
    errors = [
        (code, msg)
        for code, msg in numpydoc_validate.validate(name)["errors"]
        if code not in ignored
    ]
    assert not errors, errors


def test_onnx_page_snippets_run():
    result = doctest.testfile(
        str(DOCS / "onnx.rst"),
        module_relative=False,
        report=True,
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0
