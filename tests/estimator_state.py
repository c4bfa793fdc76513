"""What the reliability tests share: small data, the estimators, exact state comparison."""

import copy

import numpy as np

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor

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


STATE_ARG = 3  # K.train(data, Y, sw, state, ...)
