"""ONNX export of the regularized MLPs through skl2onnx.

Importing this module registers a shape calculator and a converter with skl2onnx for
:class:`~sklearn_reg.RegularizedMLPClassifier`, :class:`~sklearn_reg.RegularizedMLPRegressor`
and their CV versions, so that :func:`skl2onnx.to_onnx` converts them alone or inside a
:class:`~sklearn.pipeline.Pipeline`::

    import sklearn_reg.onnx  # noqa: F401  (registers the converters)
    from skl2onnx import to_onnx
    onx = to_onnx(model, X[:1].astype(np.float32))

The graph is built from the public fitted attributes alone: ``coefs_``, ``intercepts_``,
``activation``, ``out_activation_``, ``classes_`` and ``n_outputs_``. Each layer is
``MatMul`` + ``Add`` followed by the hidden activation (``Identity``, ``Sigmoid``,
``Tanh``, ``Relu``); the output activation is ``Identity``, ``Sigmoid``, ``Softmax`` or
``Exp`` (Poisson loss).
A CV estimator fitted with ``refit='ensemble'`` is exported as the mean of its members'
networks (``ensemble_coefs_``, ``ensemble_intercepts_``): ``Sum`` of their predictions
(probabilities for a classifier) divided by their number, as its ``predict_proba`` /
``predict``.

Outputs follow skl2onnx's conventions:

- classifiers: ``label`` then ``probabilities``, shape (N, n_classes), in the order of
  ``classes_`` (binary: [1 − p, p]); the labels are int64 for integer, boolean or
  integral float classes and strings for string classes; for a multilabel target (one
  logistic output per label) ``label`` is the int64 indicator matrix (N, n_outputs) of
  ``predict``, 1 where the probability exceeds 0.5. skl2onnx's options ``zipmap``
  (True, the default: probabilities as a list of dictionaries; False: a tensor;
  'columns': one tensor per class), ``nocl`` and ``output_class_labels`` apply.
- regressors: ``variable``, shape (N, n_outputs) — (N, 1) for one output where
  ``predict`` returns (N,).

A float32 input (``FloatTensorType``, also int64 inputs) is computed in float32, a
float64 input (``DoubleTensorType``) in float64 with the weights cast to float64.
ONNX's ``ZipMap`` takes float32 probabilities only: with a float64 input, pass
``options={"zipmap": False}`` (or 'columns').
"""

import numpy as np

try:
    from onnx import TensorProto
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers, check_input_and_output_types
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError as error:  # pragma: no cover - the extra is installed in CI
    raise ImportError(
        "sklearn_reg.onnx needs skl2onnx and onnx: pip install 'sklearn_reg[onnx]'."
    ) from error

from sklearn.utils.validation import check_is_fitted

from ._cv import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV
from ._mlp import RegularizedMLPClassifier, RegularizedMLPRegressor

__all__ = [
    "calculate_classifier_output_shapes",
    "calculate_regressor_output_shapes",
    "convert_classifier",
    "convert_regressor",
    "register",
]

#: ONNX operator of each activation (hidden ``activation`` and ``out_activation_``)
ACTIVATION_OPS = {
    "identity": "Identity",
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "softmax": "Softmax",
    "exp": "Exp",
}

#: options of the classifiers' converter, as skl2onnx declares them for MLPClassifier
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "output_class_labels": [False, True],
}

_INPUT_TYPES = [FloatTensorType, DoubleTensorType, Int64TensorType]


# -- types -------------------------------------------------------------------------------


def _computes_in_double(operator):
    """Whether the graph computes in float64: exactly when its input is float64."""
    return isinstance(operator.inputs[0].type, DoubleTensorType)


def _precision(double):
    """(numpy dtype, ONNX element type) of the computation."""
    return (np.float64, TensorProto.DOUBLE) if double else (np.float32, TensorProto.FLOAT)


def _check_model_and_input(operator):
    """The fitted model of ``operator``, after checking that its input has n_features_in_
    columns (when the width of the input is known)."""
    model = operator.raw_operator
    check_is_fitted(model)
    shape = operator.inputs[0].type.shape
    if len(shape) != 2 or (isinstance(shape[1], int) and shape[1] != model.n_features_in_):
        raise ValueError(
            f"{type(model).__name__} was fitted on {model.n_features_in_} features; the "
            f"ONNX input has shape {list(shape)}: pass an example of shape "
            f"(n_samples, {model.n_features_in_}) to to_onnx."
        )
    return model


def _is_multilabel(model):
    """Multilabel target: one logistic output per label (binary has a single output)."""
    return model.out_activation_ == "logistic" and model.n_outputs_ > 1


def _label_tensor(classes):
    """The class labels as an ONNX initializer: (element type, flat values).

    Integer, boolean and float labels (integral: scikit-learn rejects continuous targets)
    become int64, as skl2onnx does; string labels become UTF-8 strings.
    """
    classes = np.asarray(classes)
    values = classes.tolist()
    if classes.dtype.kind in "biuf":
        return TensorProto.INT64, classes.astype(np.int64)
    if all(isinstance(c, str) for c in values):
        return TensorProto.STRING, np.array([c.encode("utf-8") for c in values])
    raise ValueError(
        "ONNX export needs integer, boolean or string class labels; got labels of "
        f"dtype {classes.dtype}: {values!r}."
    )


# -- shape calculators -------------------------------------------------------------------


def calculate_classifier_output_shapes(operator):
    """Set the types and shapes of a classifier's outputs ``label`` and ``probabilities``.

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted :class:`~sklearn_reg.RegularizedMLPClassifier` (or CV).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the classifier is not fitted.
    ValueError
        If the input has not ``n_features_in_`` columns, or for a float64 input with the
        option ``zipmap=True``: ONNX's ``ZipMap`` accepts float32 probabilities only.
    """
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    model = _check_model_and_input(operator)
    n = operator.inputs[0].get_first_dimension()
    if _computes_in_double(operator):
        zipmap = operator.scope_inst.get_options(model, {"zipmap": True})["zipmap"]
        if zipmap is True:
            raise ValueError(
                "A float64 input computes float64 probabilities, which ONNX's ZipMap does "
                "not accept: convert with options={'zipmap': False} (or 'columns'), or "
                "with a float32 input."
            )
    proba_type = DoubleTensorType if _computes_in_double(operator) else FloatTensorType
    if _is_multilabel(model):
        operator.outputs[0].set_type(Int64TensorType([n, model.n_outputs_]))
        operator.outputs[1].set_type(proba_type([n, model.n_outputs_]))
        return
    element, _ = _label_tensor(get_label_classes(operator.scope_inst, model))
    label_type = StringTensorType if element == TensorProto.STRING else Int64TensorType
    operator.outputs[0].set_type(label_type([n]))
    operator.outputs[1].set_type(proba_type([n, len(model.classes_)]))


def calculate_regressor_output_shapes(operator):
    """Set the type and shape of a regressor's output ``variable``, (N, n_outputs).

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted :class:`~sklearn_reg.RegularizedMLPRegressor` (or CV).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the regressor is not fitted.
    ValueError
        If the input has not ``n_features_in_`` columns.
    """
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    model = _check_model_and_input(operator)
    n = operator.inputs[0].get_first_dimension()
    output_type = DoubleTensorType if _computes_in_double(operator) else FloatTensorType
    operator.outputs[0].set_type(output_type([n, model.n_outputs_]))


# -- converters --------------------------------------------------------------------------


def _constant(scope, container, stem, array, element):
    """Add ``array`` as an initializer of ONNX type ``element``; return its name."""
    name = scope.get_unique_variable_name(stem)
    array = np.asarray(array)
    container.add_initializer(name, element, list(array.shape), array.ravel())
    return name


def _node(scope, container, op_type, inputs, stem, output=None, **attrs):
    """Add one node; its output is ``output`` or a fresh name from ``stem``."""
    output = output or scope.get_unique_variable_name(stem)
    container.add_node(
        op_type, inputs, output, name=scope.get_unique_operator_name(op_type), **attrs
    )
    return output


def _network(scope, container, model, coefs, intercepts, a, double, output=None):
    """One network's predictions g(z_L) on the ONNX tensor ``a``; return the output's name.

    z_1 = a·W_1 + b_1, a_l = f(z_l) for the hidden layers, z_{l+1} = a_l·W_{l+1} + b_{l+1},
    prediction g(z_L) with f = ``activation`` and g = ``out_activation_``, computed in
    float64 if ``double`` else float32.
    """
    dtype, element = _precision(double)
    n_layers = len(coefs)
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        W = _constant(scope, container, f"coefficient{k}", np.asarray(W, dtype), element)
        b = _constant(scope, container, f"intercept{k}", np.asarray(b, dtype)[None, :], element)
        z = _node(scope, container, "MatMul", [a, W], f"product{k}")
        z = _node(scope, container, "Add", [z, b], f"preactivation{k}")
        if k < n_layers - 1:
            a = _node(scope, container, ACTIVATION_OPS[model.activation], [z], f"activation{k}")
    attrs = {"axis": 1} if model.out_activation_ == "softmax" else {}
    return _node(
        scope, container, ACTIVATION_OPS[model.out_activation_], [z], "prediction", output, **attrs
    )


def _forward(scope, container, model, input_name, double, output=None):
    """The model's predictions as ONNX nodes (:func:`_network`); return the output's name.

    A CV estimator fitted with ``refit='ensemble'`` predicts the mean of its members,
    (Σ_k g(z_L^(k))) / K: probabilities for a classifier, values for a regressor.
    """
    dtype, element = _precision(double)
    x = _node(scope, container, "Cast", [input_name], "cast_input", to=element)
    if not hasattr(model, "ensemble_coefs_"):
        return _network(scope, container, model, model.coefs_, model.intercepts_, x, double, output)
    members = zip(model.ensemble_coefs_, model.ensemble_intercepts_)
    predictions = [_network(scope, container, model, *weights, x, double) for weights in members]
    total = _node(scope, container, "Sum", predictions, "sum_of_members")
    count = _constant(scope, container, "n_members", np.full((), len(predictions), dtype), element)
    return _node(scope, container, "Div", [total, count], "mean_of_members", output)


def convert_classifier(scope, operator, container):
    """Add the ONNX nodes of a fitted classifier: ``label`` and ``probabilities``.

    ``label`` reproduces ``predict`` and ``probabilities`` ``predict_proba``.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Names of the graph.
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted :class:`~sklearn_reg.RegularizedMLPClassifier` (or CV).
    container : skl2onnx.common._container.ModelComponentContainer
        The graph under construction.
    """
    model = operator.raw_operator
    double = _computes_in_double(operator)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    dtype, element = _precision(double)
    if model.n_outputs_ == 1:  # binary: p = P(classes_[1]), probabilities [1 − p, p]
        p = _forward(scope, container, model, operator.inputs[0].full_name, double)
        one = _constant(scope, container, "one", np.ones((), dtype), element)
        q = _node(scope, container, "Sub", [one, p], "complement")
        _node(scope, container, "Concat", [q, p], "probabilities", proba, axis=1)
    else:
        _forward(scope, container, model, operator.inputs[0].full_name, double, proba)
    if _is_multilabel(model):  # the indicator matrix 1{p_k > 1/2}
        half = _constant(scope, container, "half", np.full((), 0.5, dtype), element)
        above = _node(scope, container, "Greater", [proba, half], "above_half")
        _node(scope, container, "Cast", [above], "label", label, to=TensorProto.INT64)
        return
    # label = classes_[argmax_k P_k], the first maximum as numpy's argmax (binary: p > 1/2)
    index = _node(scope, container, "ArgMax", [proba], "argmax", axis=1, keepdims=0)
    element, classes = _label_tensor(get_label_classes(scope, model))
    classes = _constant(scope, container, "classes", classes, element)
    _node(scope, container, "Gather", [classes, index], "label", label, axis=0)


def convert_regressor(scope, operator, container):
    """Add the ONNX nodes of a fitted regressor: ``variable``, ``predict`` as (N, n_outputs).

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Names of the graph.
    operator : skl2onnx.common._topology.Operator
        The operator of a fitted :class:`~sklearn_reg.RegularizedMLPRegressor` (or CV).
    container : skl2onnx.common._container.ModelComponentContainer
        The graph under construction.
    """
    _forward(
        scope,
        container,
        operator.raw_operator,
        operator.inputs[0].full_name,
        _computes_in_double(operator),
        operator.outputs[0].full_name,
    )


# -- registration ------------------------------------------------------------------------

#: estimator class → (skl2onnx alias, shape calculator, converter, options)
CONVERTERS = {
    RegularizedMLPClassifier: (
        "SklearnRegRegularizedMLPClassifier",
        calculate_classifier_output_shapes,
        convert_classifier,
        CLASSIFIER_OPTIONS,
    ),
    RegularizedMLPClassifierCV: (
        "SklearnRegRegularizedMLPClassifierCV",
        calculate_classifier_output_shapes,
        convert_classifier,
        CLASSIFIER_OPTIONS,
    ),
    RegularizedMLPRegressor: (
        "SklearnRegRegularizedMLPRegressor",
        calculate_regressor_output_shapes,
        convert_regressor,
        None,
    ),
    RegularizedMLPRegressorCV: (
        "SklearnRegRegularizedMLPRegressorCV",
        calculate_regressor_output_shapes,
        convert_regressor,
        None,
    ),
}


def register():
    """Register the ONNX converters of the sklearn_reg estimators with skl2onnx.

    Importing :mod:`sklearn_reg.onnx` already calls it; calling it again changes
    nothing (idempotent). Afterwards :func:`skl2onnx.to_onnx` converts
    :class:`~sklearn_reg.RegularizedMLPClassifier`,
    :class:`~sklearn_reg.RegularizedMLPRegressor`,
    :class:`~sklearn_reg.RegularizedMLPClassifierCV` and
    :class:`~sklearn_reg.RegularizedMLPRegressorCV`, alone or in a pipeline.

    Returns
    -------
    aliases : dict
        The skl2onnx alias of each registered estimator class.

    See Also
    --------
    skl2onnx.to_onnx : Converts a fitted model or pipeline to ONNX.
    skl2onnx.update_registered_converter : The registration used here.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as rt
    >>> from skl2onnx import to_onnx
    >>> from sklearn_reg import RegularizedMLPClassifier
    >>> from sklearn_reg.onnx import register
    >>> aliases = register()
    >>> aliases[RegularizedMLPClassifier]
    'SklearnRegRegularizedMLPClassifier'
    >>> X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> clf = RegularizedMLPClassifier((8,), max_iter=20, random_state=0).fit(X, y)
    >>> onx = to_onnx(clf, X[:1], options={"zipmap": False})
    >>> session = rt.InferenceSession(onx.SerializeToString(),
    ...                               providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(None, {"X": X})
    >>> bool(np.all(label == clf.predict(X)))
    True
    >>> bool(np.abs(proba - clf.predict_proba(X)).max() < 1e-5)
    True
    """
    for cls, (alias, shape_calculator, converter, options) in CONVERTERS.items():
        update_registered_converter(cls, alias, shape_calculator, converter, options=options)
    return {cls: alias for cls, (alias, *_) in CONVERTERS.items()}


register()
