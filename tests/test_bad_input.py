"""Bad input: every failure is a clear ``ValueError`` / ``TypeError`` /
``InvalidParameterError`` naming the parameter or the problem, never an ``IndexError``, a
numba typing error, a crash or NaN weights, and it leaves the estimator as it was.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from estimator_state import (
    ESTIMATORS,
    FAST,
    Y_CLF,
    Y_REG,
    X,
    _assert_same,
    _assert_usable,
    _is_clf,
    _snapshot,
    _target,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor

# ---------------------------------------------------------------------------
# bad input: one table, one test
# ---------------------------------------------------------------------------


def fit(X=X, y=None, **kw):
    return lambda est: est.fit(X, _target(est) if y is None else y, **kw)


def partial_fit(X=X, y=None, **kw):
    def call(est):
        first = {"classes": [0, 1]} if _is_clf(est) and not hasattr(est, "classes_") else {}
        return est.partial_fit(X, _target(est) if y is None else y, **{**first, **kw})

    return call


def method(name, X=X):
    return lambda est: getattr(est, name)(X)


def _case(Estimators, id, params, call, error, match, setup=None):
    """One row of the table per estimator: setup (a good fit first), call, expected error."""
    for Est in Estimators:
        yield pytest.param(Est, params, setup, call, error, match, id=f"{Est.__name__[14:]}-{id}")


BOTH, CLF, REG = ESTIMATORS, (RegularizedMLPClassifier,), (RegularizedMLPRegressor,)
IPE = InvalidParameterError

# every entry of _parameter_constraints: out of range and / or of the wrong type
PARAMETER_CASES = [
    ("hidden_layer_sizes", 0, IPE, "hidden_layer_sizes"),
    ("hidden_layer_sizes", (10, -1), ValueError, "hidden_layer_sizes.*positive"),
    ("hidden_layer_sizes", (10, 0), ValueError, "hidden_layer_sizes.*positive"),
    ("hidden_layer_sizes", "a", IPE, "hidden_layer_sizes"),
    ("hidden_layer_sizes", (2.5,), ValueError, "hidden_layer_sizes.*positive"),
    ("hidden_layer_sizes", (True,), ValueError, "hidden_layer_sizes.*positive"),
    ("hidden_layer_sizes", None, IPE, "hidden_layer_sizes"),
    ("activation", "x", IPE, "activation"),
    ("activation", 1, IPE, "activation"),
    ("solver", "rmsprop", IPE, "solver"),
    ("solver", None, IPE, "solver"),
    ("penalty", "lasso", IPE, "penalty"),
    ("penalty", 1, IPE, "penalty"),
    ("alpha", -1.0, IPE, "alpha"),
    ("alpha", np.nan, IPE, "alpha"),
    ("alpha", np.inf, IPE, "alpha"),
    ("alpha", "a", IPE, "alpha"),
    ("l1_ratio", 2.0, IPE, "l1_ratio"),
    ("l1_ratio", -0.1, IPE, "l1_ratio"),
    ("l1_ratio", "a", IPE, "l1_ratio"),
    ("dropout", 1.0, IPE, "dropout"),
    ("dropout", -0.1, IPE, "dropout"),
    ("dropout", "a", IPE, "dropout"),
    ("dropout", [0.1, 0.1], ValueError, r"dropout.*one such float per hidden layer \(1\)"),
    ("dropout", [1.0], ValueError, r"dropout.*\[0, 1\)"),
    ("dropout", ["a"], ValueError, "dropout"),
    ("dropout", [[0.1]], ValueError, "dropout"),
    ("dropblock", 1.0, IPE, "dropblock"),
    ("dropblock", -1.0, IPE, "dropblock"),
    ("dropblock", "a", IPE, "dropblock"),
    ("block_size", 0, IPE, "block_size"),
    ("block_size", 1.5, IPE, "block_size"),
    ("block_size", "a", IPE, "block_size"),
    ("block_size", (0,), ValueError, "block_size.*positive"),
    ("block_size", ("a",), ValueError, "block_size.*positive"),
    ("dropblock_schedule", "cosine", IPE, "dropblock_schedule"),
    ("spatial_dropout", 1.0, IPE, "spatial_dropout"),
    ("spatial_dropout", "a", IPE, "spatial_dropout"),
    ("feature_shape", 4, IPE, "feature_shape"),
    ("feature_shape", "ab", IPE, "feature_shape"),
    ("feature_shape", (3, 3), ValueError, r"feature_shape=\(3, 3\) holds 9 features but X has 4"),
    ("feature_shape", (2, -2), ValueError, "feature_shape.*positive integers"),
    ("feature_shape", (1, 1, 2, 2), ValueError, "feature_shape.*1 to 3"),
    ("feature_shape", (2.0, 2.0), ValueError, "feature_shape.*positive integers"),
    ("batch_size", 0, IPE, "batch_size"),
    ("batch_size", 1.5, IPE, "batch_size"),
    ("batch_size", "all", IPE, "batch_size"),
    ("learning_rate", "cosine", IPE, "learning_rate"),
    ("learning_rate_init", 0.0, IPE, "learning_rate_init"),
    ("learning_rate_init", -1.0, IPE, "learning_rate_init"),
    ("learning_rate_init", "a", IPE, "learning_rate_init"),
    ("power_t", -1.0, IPE, "power_t"),
    ("power_t", "a", IPE, "power_t"),
    ("max_iter", 0, IPE, "max_iter"),
    ("max_iter", 1.5, IPE, "max_iter"),
    ("shuffle", "yes", IPE, "shuffle"),
    ("random_state", -1, IPE, "random_state"),
    ("random_state", "a", IPE, "random_state"),
    ("tol", -1.0, IPE, "tol"),
    ("tol", "a", IPE, "tol"),
    ("verbose", -1, IPE, "verbose"),
    ("verbose", "a", IPE, "verbose"),
    ("warm_start", "yes", IPE, "warm_start"),
    ("momentum", 2.0, IPE, "momentum"),
    ("momentum", -0.1, IPE, "momentum"),
    ("nesterovs_momentum", "yes", IPE, "nesterovs_momentum"),
    ("early_stopping", "yes", IPE, "early_stopping"),
    ("early_stopping_metric", "accuracy", IPE, "early_stopping_metric"),
    ("penalty_weights", "abc", IPE, "penalty_weights"),
    ("feature_groups", "abc", IPE, "feature_groups"),
    ("validation_fraction", 1.0, IPE, "validation_fraction"),
    ("validation_fraction", 0.0, IPE, "validation_fraction"),
    ("beta_1", 1.0, IPE, "beta_1"),
    ("beta_1", -0.1, IPE, "beta_1"),
    ("beta_2", 1.0, IPE, "beta_2"),
    ("epsilon", 0.0, IPE, "epsilon"),
    ("epsilon", "a", IPE, "epsilon"),
    ("n_iter_no_change", 0, IPE, "n_iter_no_change"),
    ("n_iter_no_change", 2.5, IPE, "n_iter_no_change"),
    ("max_fun", 0, IPE, "max_fun"),
    ("max_fun", 1.5, IPE, "max_fun"),
    ("max_norm", 0.0, IPE, "max_norm"),
    ("max_norm", "a", IPE, "max_norm"),
    ("dropblock_scale", "row", IPE, "dropblock_scale"),
]
CLASSIFIER_PARAMETER_CASES = [
    ("class_weight", "auto", IPE, "class_weight"),
    ("class_weight", [1, 2], IPE, "class_weight"),
    ("class_weight", {5: 1.0}, ValueError, "class_weight"),
    ("class_weight", {0: -1.0, 1: 1.0}, ValueError, "sample_weight.*class_weight.*non-negative"),
]
REGRESSOR_PARAMETER_CASES = [
    ("loss", "log_loss", IPE, "loss"),
    ("loss", 2, IPE, "loss"),
]


def _parameter_rows():
    for Estimators, cases in [
        (BOTH, PARAMETER_CASES),
        (CLF, CLASSIFIER_PARAMETER_CASES),
        (REG, REGRESSOR_PARAMETER_CASES),
    ]:
        for name, value, error, match in cases:
            yield from _case(Estimators, f"{name}={value!r}", {name: value}, fit(), error, match)


def _bad_data_rows():
    nan_X = np.where(X > 1.5, np.nan, X)
    inf_X = np.where(X > 1.5, np.inf, X)
    yield from _case(BOTH, "X-nan", {}, fit(nan_X), ValueError, "X contains NaN")
    yield from _case(BOTH, "X-inf", {}, fit(inf_X), ValueError, "X contains infinity")
    yield from _case(BOTH, "csr-X-nan", {}, fit(sp.csr_matrix(nan_X)), ValueError, "NaN")
    yield from _case(
        REG, "y-nan", {}, fit(y=np.where(Y_REG > 1, np.nan, Y_REG)), ValueError, "y contains NaN"
    )
    yield from _case(
        REG,
        "y-inf",
        {},
        fit(y=np.where(Y_REG > 1, np.inf, Y_REG)),
        ValueError,
        "y contains infinity",
    )
    yield from _case(
        CLF, "y-nan", {}, fit(y=np.where(Y_REG > 1, np.nan, Y_CLF)), ValueError, "y contains NaN"
    )
    yield from _case(BOTH, "empty-X", {}, fit(X[:0], y=np.array([])), ValueError, "0 sample")
    yield from _case(BOTH, "no-features", {}, fit(X[:, :0]), ValueError, "0 feature")
    yield from _case(
        REG,
        "one-sample-early-stopping",
        {"early_stopping": True},
        fit(X[:1], y=Y_REG[:1]),
        ValueError,
        "validation_fraction.*1 samples",
    )
    yield from _case(
        REG,
        "too-few-for-validation",
        {"early_stopping": True},
        fit(X[:5], y=np.array([0, 1, 0, 1, 0])),
        ValueError,
        "validation set is too small.*validation_fraction=0.1 of the 5 samples: 1 for validation",
    )
    yield from _case(
        CLF,
        "one-member-class-for-validation",
        {"early_stopping": True},
        fit(X[:20], y=np.r_[np.zeros(19), 1]),
        ValueError,
        "least populated classes in y have only 1 member.*early_stopping",
    )
    yield from _case(CLF, "continuous-y", {}, fit(y=Y_REG), ValueError, "Unknown label type")
    yield from _case(REG, "string-y", {}, fit(y=np.full(40, "a")), ValueError, "convert string")
    yield from _case(
        BOTH,
        "length-mismatch",
        {},
        lambda est: est.fit(X, _target(est)[:-1]),
        ValueError,
        r"inconsistent numbers of samples: \[40, 39\]",
    )
    yield from _case(
        BOTH,
        "sample_weight-length",
        {},
        fit(sample_weight=np.ones(3)),
        ValueError,
        r"sample_weight.shape == \(3,\)",
    )
    yield from _case(
        BOTH,
        "sample_weight-negative",
        {},
        fit(sample_weight=-np.ones(40)),
        ValueError,
        "sample_weight.*non-negative",
    )
    yield from _case(
        BOTH, "sample_weight-zero", {}, fit(sample_weight=np.zeros(40)), ValueError, "non-zero"
    )
    yield from _case(
        BOTH,
        "sample_weight-nan",
        {},
        fit(sample_weight=np.full(40, np.nan)),
        ValueError,
        "sample_weight contains NaN",
    )
    yield from _case(
        BOTH,
        "strings-in-X",
        {},
        fit(np.full((40, 4), "a")),
        ValueError,
        "could not convert string to float",
    )
    yield from _case(BOTH, "complex-X", {}, fit(X + 1j), ValueError, "Complex data")
    yield from _case(BOTH, "3d-X", {}, fit(X.reshape(40, 2, 2)), ValueError, "dim 3")
    yield from _case(BOTH, "1d-X", {}, fit(X[:, 0]), ValueError, "Expected 2D array")
    yield from _case(
        BOTH, "huge-X-diverges", {}, fit(X * 1e300), ValueError, "diverged.*scale the features"
    )
    yield from _case(
        BOTH,
        "huge-X-diverges-lbfgs",
        {"solver": "lbfgs"},
        fit(X * 1e300),
        ValueError,
        "diverged in L-BFGS.*Scale the features",
    )
    yield from _case(
        REG,
        "poisson-negative-y",
        {"loss": "poisson"},
        fit(y=-np.abs(Y_REG)),
        ValueError,
        "negative.*poisson",
    )


def _incompatible_rows():
    for penalty in ["l1", "wd", "elasticnet", "group"]:
        yield from _case(
            BOTH,
            f"lbfgs-{penalty}",
            {"solver": "lbfgs", "penalty": penalty},
            fit(),
            ValueError,
            f"solver='lbfgs'.*penalty='{penalty}'",
        )
    for params in [
        {"dropout": 0.1},
        {"dropblock": 0.1},
        {"spatial_dropout": 0.1, "feature_shape": (2, 2)},
    ]:
        name = next(iter(params))
        yield from _case(
            BOTH,
            f"lbfgs-{name}",
            {"solver": "lbfgs", **params},
            fit(),
            ValueError,
            f"solver='lbfgs'.*{name}=",
        )
    yield from _case(
        BOTH,
        "spatial_dropout-without-channel-axis",
        {"spatial_dropout": 0.1},
        fit(),
        ValueError,
        "spatial_dropout.*channel axis",
    )
    yield from _case(
        BOTH,
        "block_size-axes-mismatch",
        {"dropblock": 0.1, "block_size": (2, 2)},
        fit(),
        ValueError,
        r"block_size.*one per axis of feature_shape \(4,\)",
    )
    yield from _case(
        BOTH,
        "block_size-larger-than-axis",
        {"dropblock": 0.1, "block_size": 5},
        fit(),
        ValueError,
        "block_size=5 is larger than an axis",
    )
    yield from _case(
        BOTH,
        "feature_shape-mismatch-lbfgs",
        {"solver": "lbfgs", "feature_shape": (3, 3)},
        fit(),
        ValueError,
        "feature_shape.*9 features but X has 4",
    )
    yield from _case(
        BOTH,
        "early_stopping-partial_fit",
        {"early_stopping": True},
        partial_fit(),
        ValueError,
        "partial_fit does not support early_stopping",
    )
    yield from _case(
        CLF,
        "balanced-partial_fit",
        {"class_weight": "balanced"},
        partial_fit(),
        ValueError,
        "class_weight='balanced' is not supported for partial_fit",
    )
    yield from _case(
        CLF,
        "partial_fit-without-classes",
        {},
        lambda est: est.partial_fit(X, Y_CLF),
        ValueError,
        "classes must be passed",
    )


def _after_fit_rows():
    fitted = "fit"
    narrow = X[:, :3]

    def score(est):
        return est.score(narrow, _target(est))

    yield from _case(
        BOTH,
        "score-wrong-n_features",
        {},
        score,
        ValueError,
        "X has 3 features, but .* is expecting 4",
        setup=fitted,
    )
    yield from _case(
        BOTH,
        "predict-wrong-n_features",
        {},
        method("predict", narrow),
        ValueError,
        "X has 3 features, but .* is expecting 4",
        setup=fitted,
    )
    for name in ["predict_proba", "predict_log_proba"]:
        yield from _case(
            CLF,
            f"{name}-wrong-n_features",
            {},
            method(name, narrow),
            ValueError,
            "X has 3 features",
            setup=fitted,
        )
    yield from _case(
        BOTH,
        "predict-csr-wrong-n_features",
        {},
        method("predict", sp.csr_matrix(narrow)),
        ValueError,
        "3 features",
        setup=fitted,
    )
    yield from _case(
        BOTH,
        "predict-nan",
        {},
        method("predict", np.full((2, 4), np.nan)),
        ValueError,
        "X contains NaN",
        setup=fitted,
    )
    yield from _case(
        BOTH, "predict-empty", {}, method("predict", X[:0]), ValueError, "0 sample", setup=fitted
    )
    yield from _case(
        BOTH,
        "predict-3d",
        {},
        method("predict", X.reshape(40, 2, 2)),
        ValueError,
        "dim 3",
        setup=fitted,
    )
    yield from _case(
        BOTH,
        "predict-strings",
        {},
        method("predict", np.full((2, 4), "a")),
        ValueError,
        "convert string",
        setup=fitted,
    )
    yield from _case(
        BOTH,
        "partial_fit-wrong-n_features",
        {},
        partial_fit(X[:, :3]),
        ValueError,
        "X has 3 features",
        setup=fitted,
    )
    yield from _case(
        REG,
        "partial_fit-new-output",
        {},
        partial_fit(y=np.c_[Y_REG, Y_REG]),
        ValueError,
        r"layer sizes \[4, 3, 2\] differ",
        setup=fitted,
    )
    yield from _case(
        CLF,
        "partial_fit-new-class",
        {},
        partial_fit(y=Y_CLF + 1),
        ValueError,
        "`y` has classes not in `self.classes_`",
        setup=fitted,
    )
    yield from _case(
        CLF,
        "warm_start-new-class",
        {"warm_start": True},
        fit(y=Y_CLF + 1),
        ValueError,
        "warm_start can only be used where `y` has the same classes",
        setup=fitted,
    )
    yield from _case(
        BOTH,
        "warm_start-new-architecture",
        {"warm_start": True, "hidden_layer_sizes": (5,)},
        fit(),
        ValueError,
        "warm_start and partial_fit keep the architecture",
        setup=fitted,
    )
    yield from _case(
        BOTH, "predict-before-fit", {}, method("predict"), NotFittedError, "not fitted"
    )


BAD_INPUT = [*_parameter_rows(), *_bad_data_rows(), *_incompatible_rows(), *_after_fit_rows()]


@pytest.mark.parametrize("Estimator, params, setup, call, error, match", BAD_INPUT)
def test_bad_input_raises_a_clear_error_and_leaves_the_estimator_unchanged(
    Estimator, params, setup, call, error, match
):
    est = Estimator(**{**FAST, **params})
    if setup == "fit":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.set_params(**FAST, warm_start=False).fit(X, _target(est)).set_params(**params)
    before = _snapshot(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(error, match=match) as exc:
            call(est)
    assert type(exc.value).__module__.split(".")[0] != "numba"
    _assert_same(vars(est), before)  # a failing call changes nothing, not even a first fit


def test_every_parameter_constraint_has_a_bad_input_case():
    names = {name for name, *_ in PARAMETER_CASES}
    for Estimator, extra in [
        (RegularizedMLPClassifier, CLASSIFIER_PARAMETER_CASES),
        (RegularizedMLPRegressor, REGRESSOR_PARAMETER_CASES),
    ]:
        covered = names | {name for name, *_ in extra}
        assert set(Estimator._parameter_constraints) == covered, Estimator.__name__


@pytest.mark.parametrize(
    "Estimator, params, fit_args",
    [
        (RegularizedMLPRegressor, {}, (X[:1], Y_REG[:1])),  # one sample
        (RegularizedMLPRegressor, {"solver": "lbfgs"}, (X[:1], Y_REG[:1])),
        (RegularizedMLPClassifier, {"hidden_layer_sizes": ()}, (X, Y_CLF)),  # no hidden layer
        (RegularizedMLPClassifier, {"hidden_layer_sizes": np.array([3, 2])}, (X, Y_CLF)),
        (RegularizedMLPRegressor, {"batch_size": 1000}, (X, Y_REG)),  # clipped, warns
        (RegularizedMLPClassifier, {"n_iter_no_change": np.inf}, (X, Y_CLF)),
        (RegularizedMLPClassifier, {}, (X > 0, Y_CLF)),  # bool X
        (RegularizedMLPRegressor, {}, ((X * 10).astype(int), Y_REG)),  # int X
        (RegularizedMLPRegressor, {}, (X.astype(np.float16), Y_REG)),  # float16 X
        (RegularizedMLPClassifier, {}, (X[:, :1], Y_CLF)),  # one feature
        (RegularizedMLPClassifier, {}, (X.tolist(), np.array(["a", "b"])[Y_CLF].tolist())),
        (RegularizedMLPClassifier, {"class_weight": {0: 0.0, 1: 1.0}}, (X, Y_CLF)),
        (RegularizedMLPClassifier, {}, (sp.coo_matrix(X), Y_CLF)),
        (RegularizedMLPClassifier, {}, (X[:1], Y_CLF[:1])),  # one sample, one class
        (RegularizedMLPClassifier, {}, (X, np.zeros(len(X)))),  # one class, as scikit-learn
        (RegularizedMLPClassifier, {"solver": "lbfgs"}, (X, np.full(len(X), "a"))),
        (
            RegularizedMLPRegressor,
            {
                "feature_shape": [2, 2],
                "dropblock": 0.2,  # lists, as grids
                "block_size": [1, 2],
            },
            (X, Y_REG),
        ),
    ],
)
def test_edge_inputs_that_are_valid_give_a_usable_model(Estimator, params, fit_args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, batch_size clipping
        est = Estimator(**{**FAST, **params}).fit(*fit_args)
    Xin = fit_args[0]
    _assert_usable(est, np.asarray(Xin.toarray() if sp.issparse(Xin) else Xin, dtype=float))


# ---------------------------------------------------------------------------
# smoke: the messages name the remedy
# ---------------------------------------------------------------------------


def test_lbfgs_divergence_message_does_not_suggest_the_unused_learning_rate():
    with pytest.raises(ValueError) as exc:
        RegularizedMLPRegressor(solver="lbfgs", **FAST).fit(X * 1e300, Y_REG)
    assert "learning_rate_init" not in str(exc.value)
    assert "StandardScaler" in str(exc.value)
