"""Reliability: bad input, divergence, interruption, threads, persistence, memory.

Every failure is a clear ``ValueError`` / ``TypeError`` / ``InvalidParameterError``
naming the parameter or the problem, never an ``IndexError``, a numba
typing error, a crash or NaN weights; and a failing call leaves the estimator exactly
as it was, so a good model is never lost.
"""

import copy
import pickle
import threading
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor
from sklearn_reg import _kernels as K

ESTIMATORS = (RegularizedMLPClassifier, RegularizedMLPRegressor)
FAST = {"hidden_layer_sizes": (3,), "max_iter": 3, "random_state": 0}

_rng = np.random.default_rng(0)
X = _rng.normal(size=(40, 4))
Y_CLF = (X[:, 0] > 0).astype(int)
Y_REG = X[:, 0] + 0.1 * X[:, 1]


def _target(est):
    return Y_CLF if isinstance(est, RegularizedMLPClassifier) else Y_REG


def _is_clf(est):
    return isinstance(est, RegularizedMLPClassifier)


# ---------------------------------------------------------------------------
# helpers: exact comparison of the whole estimator state
# ---------------------------------------------------------------------------


def _assert_same(a, b, path="estimator"):
    """a and b are equal, recursively and bit for bit (NaN equal to NaN)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {set(a) ^ set(b)}"
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same(u, v, f"{path}[{i}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _assert_same(vars(a), vars(b), path)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _snapshot(est):
    return copy.deepcopy(vars(est))


def _weights(est):
    return est.coefs_ + est.intercepts_


def _assert_usable(est, X=X):
    assert all(np.isfinite(w).all() for w in _weights(est))
    pred = est.predict(X)
    assert pred.shape[0] == X.shape[0]
    if _is_clf(est):
        assert set(np.unique(pred)) <= set(est.classes_)
        proba = est.predict_proba(X)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.isfinite(pred).all()


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
# divergence
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    return (X - X.mean(0)) / X.std(0), y / y.std()


def _optimizer_state(est):
    return {
        k: copy.deepcopy(getattr(est, k))
        for k in (
            "coefs_",
            "intercepts_",
            "_first_moment",
            "_second_moment",
            "_counters",
            "n_iter_",
            "t_",
            "loss_",
            "loss_curve_",
        )
    }


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


STATE_ARG = 3  # K.train(data, Y, sw, state, ...)


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
# interruption (Ctrl-C)
# ---------------------------------------------------------------------------


def _interrupt_after(n, monkeypatch, run_the_epoch):
    """K.train raises KeyboardInterrupt once n epochs are done, before or after running.

    After it: the realistic case, Ctrl-C is raised as the kernel returns, its epochs
    already applied in place to the parameters and moments. Calls that would run past
    epoch n are cut to end there.
    """
    real = K.train
    done = []

    def interrupted(*args):
        room = n - len(done)
        if room <= 0:
            if run_the_epoch:
                real(*args)
            raise KeyboardInterrupt
        losses = args[-1][:room]
        out = real(*args[:-1], losses)
        done.extend([None] * out[0])
        return out

    monkeypatch.setattr(K, "train", interrupted)


@pytest.mark.parametrize("run_the_epoch", [False, True], ids=["before-epoch", "after-epoch"])
@pytest.mark.parametrize(
    "Estimator, solver", [(RegularizedMLPClassifier, "adam"), (RegularizedMLPRegressor, "sgd")]
)
def test_interrupted_fit_keeps_the_completed_epochs(monkeypatch, Estimator, solver, run_the_epoch):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    y = yc if Estimator is RegularizedMLPClassifier else Xc[:, 0]
    kw = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        dropout=0.1,
        tol=0,
        random_state=0,
        learning_rate="invscaling",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        done = Estimator(max_iter=4, **kw).fit(Xc, y)  # what 4 epochs give, uninterrupted
    _interrupt_after(4, monkeypatch, run_the_epoch)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est = Estimator(max_iter=50, **kw).fit(Xc, y)
    assert est.n_iter_ == len(est.loss_curve_) == 4
    _assert_usable(est, Xc)
    _assert_same(_optimizer_state(est), _optimizer_state(done))


def test_interrupted_partial_fit_leaves_the_model_as_before(monkeypatch):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(Xc, yc, classes=[0, 1])
    before = _snapshot(clf)
    _interrupt_after(0, monkeypatch, run_the_epoch=True)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.partial_fit(Xc, yc)
    _assert_same(vars(clf), before)


def test_interrupted_fit_with_early_stopping_restores_the_best_weights(monkeypatch):
    Xc, yc = make_classification(n_samples=300, n_features=6, random_state=0)
    epochs = []
    real = K.train

    def record_then_interrupt(*args):
        if len(epochs) == 6:
            real(*args)
            raise KeyboardInterrupt
        out = real(*args)
        epochs.append(args[STATE_ARG].params.copy())
        return out

    monkeypatch.setattr(K, "train", record_then_interrupt)
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        tol=0,
        n_iter_no_change=100,
        learning_rate_init=0.05,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(Xc, yc)
    assert clf.n_iter_ == len(clf.validation_scores_) == 6
    np.testing.assert_array_equal(
        clf._flat_params(), epochs[int(np.argmax(clf.validation_scores_))]
    )
    _assert_usable(clf, Xc)


def test_interrupted_lbfgs_keeps_the_last_iterate(monkeypatch):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    real = K.objective_grad
    calls = []

    def interrupted(*args):
        calls.append(None)
        if len(calls) > 15:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(K, "objective_grad", interrupted)
    with pytest.warns(UserWarning, match="interrupted"):
        clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(
            Xc, yc
        )
    assert 1 <= clf.n_iter_ < 15
    _assert_usable(clf, Xc)
    # interrupted before the first iterate: nothing to keep, the interrupt propagates
    calls.clear()
    calls.extend([None] * 15)
    fresh = RegularizedMLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(Xc, yc)
    assert not hasattr(fresh, "coefs_")


# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, method",
    [(RegularizedMLPClassifier, "predict_proba"), (RegularizedMLPRegressor, "predict")],
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_concurrent_predict_equals_serial_predict(Estimator, method, sparse):
    """predict releases the GIL in the kernel: 4 threads at once, results bit-identical."""
    Xc, yc = make_classification(
        n_samples=300, n_features=10, n_classes=3, n_informative=5, random_state=0
    )
    y = yc if Estimator is RegularizedMLPClassifier else Xc[:, :2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(32, 16), max_iter=5, random_state=0).fit(Xc, y)
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(K.PREDICT_CHUNK + 500 * i, 10)) for i in range(8)]
    if sparse:
        inputs = [sp.csr_matrix(np.where(np.abs(a) > 1, a, 0.0)) for a in inputs]
    predict = getattr(est, method)
    serial = [predict(a) for a in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            for got, want in zip(pool.map(predict, inputs), serial):
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_fitting_one_estimator_from_two_threads_fails_loudly_in_one(monkeypatch, method):
    Xc, yc = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    clf.partial_fit(Xc, yc, classes=[0, 1])
    inside, release = threading.Event(), threading.Event()
    real = K.train

    def held(*args):  # the first fit waits inside its kernel until the second one has run
        inside.set()
        release.wait(60)
        return real(*args)

    monkeypatch.setattr(K, "train", held)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            first = pool.submit(getattr(clf, method), Xc, yc)
            assert inside.wait(60)
            with pytest.raises(RuntimeError, match="already being fitted in another thread"):
                getattr(clf, method)(Xc[:, :3], yc)  # other data: would break the model
            release.set()
            assert first.result() is clf
    monkeypatch.setattr(K, "train", real)
    assert clf.n_features_in_ == 6 and clf.coefs_[0].shape == (6, 8)
    _assert_usable(clf, Xc)
    clf.partial_fit(Xc, yc)  # the object is free again


def test_different_estimators_fit_in_threads_bit_identical_to_serial():
    Xc, yc = make_classification(n_samples=300, n_features=8, random_state=0)
    params = [
        dict(penalty=p, dropout=d, random_state=s)
        for p, d, s in [("l1", 0.0, 0), ("l2", 0.2, 1), ("group", 0.1, 2), ("wd", 0.0, 3)]
    ]

    def fit(kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return RegularizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, **kw).fit(Xc, yc)

    serial = [fit(kw) for kw in params]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(fit, params))
    for a, b in zip(serial, threaded):
        for u, v in zip(_weights(a), _weights(b)):
            np.testing.assert_array_equal(u, v)


def test_concurrent_fits_restore_the_blas_thread_limit_they_share():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    Xc, yc = make_classification(n_samples=400, n_features=8, random_state=0)

    def fit(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            RegularizedMLPClassifier(
                hidden_layer_sizes=(8,), max_iter=20 + 7 * seed, random_state=seed
            ).fit(Xc, yc)
        return blas_threads()

    with ThreadPoolExecutor(max_workers=3) as pool:
        during = list(pool.map(fit, range(6)))
    assert blas_threads() == before
    assert all(set(d) <= {1} | set(before) for d in during)


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


# ---------------------------------------------------------------------------
# persistence
# ---------------------------------------------------------------------------


def _pickle(est, tmp_path):
    return pickle.loads(pickle.dumps(est))


def _joblib(est, tmp_path):
    joblib.dump(est, tmp_path / "model.joblib")
    return joblib.load(tmp_path / "model.joblib")


def _skops(est, tmp_path):
    """skops refuses unknown types: the user must trust the estimator class itself.

    ``get_untrusted_types`` lists exactly ``sklearn_reg._mlp.RegularizedMLPClassifier``
    (or ``...RegularizedMLPRegressor``): the fitted state holds only numpy arrays,
    Python scalars / lists / tuples / dicts and scikit-learn's ``LabelBinarizer``, which
    skops trusts by default.
    """
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"sklearn_reg._mlp.{type(est).__name__}"]
    return sio.load(path, trusted=untrusted)


ROUND_TRIPS = [_pickle, _joblib, _skops]

PERSISTED = [
    (RegularizedMLPClassifier, {"penalty": "l1", "dropout": 0.2, "early_stopping": True}, "labels"),
    (
        RegularizedMLPClassifier,
        {
            "solver": "sgd",
            "learning_rate": "invscaling",
            "class_weight": {"ant": 1.0, "bee": 2.0, "cat": 0.5},
        },
        "labels",
    ),
    (RegularizedMLPClassifier, {"early_stopping": True, "penalty": "group"}, "multilabel"),
    (
        RegularizedMLPClassifier,
        {"solver": "lbfgs", "random_state": np.random.RandomState(0)},
        "labels",
    ),
    (
        RegularizedMLPRegressor,
        {"penalty": "elasticnet", "dropblock": 0.2, "feature_shape": (2, 4), "block_size": (1, 2)},
        "regression",
    ),
    (RegularizedMLPRegressor, {"loss": "poisson", "penalty": "wd"}, "counts"),
]


def _persist_data(kind):
    Xc, yc = make_classification(
        n_samples=150, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    y = {
        "labels": np.array(["ant", "bee", "cat"])[yc],
        "multilabel": np.column_stack([yc == 0, yc >= 1, Xc[:, 0] > 0]).astype(int),
        "regression": Xc[:, :2] @ [1.0, -0.5],
        "counts": np.random.default_rng(0).poisson(np.exp(0.3 * Xc[:, 0])),
    }[kind]
    return Xc.astype(np.float32) if kind == "regression" else Xc, y


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "joblib", "skops"])
@pytest.mark.parametrize(
    "Estimator, params, kind", PERSISTED, ids=[f"{E.__name__[14:]}-{k}" for E, _, k in PERSISTED]
)
def test_round_trip_gives_identical_predictions_and_training_continues(
    tmp_path, round_trip, Estimator, params, kind
):
    """pickle, joblib and skops: same predictions, and partial_fit continues bit-identically.

    skops loads only types the user trusts; ``skops.io.get_untrusted_types`` lists exactly
    one, the estimator class (``sklearn_reg._mlp.RegularizedMLPClassifier`` or
    ``sklearn_reg._mlp.RegularizedMLPRegressor``): see :func:`_skops`.
    """
    X, y = _persist_data(kind)
    est = Estimator(hidden_layer_sizes=(6,), max_iter=5, **{"random_state": 0, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    loaded = round_trip(est, tmp_path)
    _assert_same_predictions(loaded, est, X)
    if est.solver == "lbfgs":
        return
    for model in (est, loaded):
        model.set_params(early_stopping=False)  # partial_fit does not support it
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)  # partial_fit after load equals partial_fit without it
    _assert_same_predictions(loaded, est, X)
    _assert_same(_optimizer_state(loaded), _optimizer_state(est))
    again = round_trip(loaded, tmp_path)  # after partial_fit, round-trips again
    _assert_same_predictions(again, est, X)
    est.partial_fit(X, y)
    again.partial_fit(X, y)
    _assert_same(_optimizer_state(again), _optimizer_state(est))


def _assert_same_predictions(a, b, X):
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    if _is_clf(a):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    for u, v in zip(_weights(a), _weights(b)):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "joblib", "skops"])
def test_round_trip_of_a_partial_fit_model_then_warm_start(tmp_path, round_trip):
    X, y = _persist_data("labels")
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(6,), max_iter=3, warm_start=True, random_state=0
    )
    clf.partial_fit(X, y, classes=["ant", "bee", "cat"])
    loaded = round_trip(clf, tmp_path)
    _assert_same_predictions(loaded, clf, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        loaded.fit(X, y)
    _assert_same_predictions(loaded, clf, X)
    assert loaded.n_iter_ == clf.n_iter_ == 3


# ---------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator, method",
    [
        (RegularizedMLPRegressor, "predict"),
        (RegularizedMLPClassifier, "predict_proba"),
        (RegularizedMLPClassifier, "predict"),
    ],
)
def test_predict_peak_memory_is_one_chunk_not_n_samples_times_width(Estimator, method):
    """tracemalloc sees numpy's and numba's (NRT) allocations alike.

    200,000 × 20 through a hidden layer of 256: an unchunked forward pass would hold
    200,000 × 256 × 8 B = 410 MB of activations; chunked, it holds PREDICT_CHUNK rows
    (8.4 MB) and the outputs: 10.1 MB measured for each method.
    """
    n, width = 200_000, 256
    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(300, 20))
    y = (Xs[:, 0] > 0).astype(int) if Estimator is RegularizedMLPClassifier else Xs[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(width,), max_iter=1, random_state=0).fit(Xs, y)
    X_big = rng.normal(size=(n, 20))
    getattr(est, method)(X_big[:10])  # compiled, nothing cached
    tracemalloc.start()
    try:
        out = getattr(est, method)(X_big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    chunk = K.PREDICT_CHUNK * width * 8
    bound = 3 * out.nbytes + 2 * chunk + 2**20
    assert chunk <= peak <= bound, (peak, bound)  # ≥: the kernel's buffer is visible
    assert bound < n * width * 8 / 10


# ---------------------------------------------------------------------------
# smoke: the messages name the remedy
# ---------------------------------------------------------------------------


def test_lbfgs_divergence_message_does_not_suggest_the_unused_learning_rate():
    with pytest.raises(ValueError) as exc:
        RegularizedMLPRegressor(solver="lbfgs", **FAST).fit(X * 1e300, Y_REG)
    assert "learning_rate_init" not in str(exc.value)
    assert "StandardScaler" in str(exc.value)
