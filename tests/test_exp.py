"""The vectorizable exponential: libm's values to 1 ulp, and its special cases."""

import numpy as np
import pytest
from numba import njit

from sklearn_reg._exp import EXP_MAX, EXP_MIN, exp


@njit
def exp_all(x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = exp(x[i])
    return out


def test_within_one_ulp_of_numpy_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            np.linspace(EXP_MIN, EXP_MAX, 1_000_001),
            rng.uniform(-1, 1, 100_000),
            rng.standard_normal(100_000) * 1e-8,
        ]
    )
    expected = np.exp(x)
    assert np.all(np.abs(exp_all(x) - expected) <= np.spacing(expected))


@pytest.mark.parametrize(
    "x, expected",
    [
        (0.0, 1.0),
        (-0.0, 1.0),
        (np.inf, np.inf),
        (EXP_MAX + 1e-9, np.inf),
        (1000.0, np.inf),
        (-np.inf, 0.0),
        (-1000.0, 0.0),
        (EXP_MIN - 1.0, 0.0),
    ],
)
def test_special_values(x, expected):
    assert exp_all(np.array([x]))[0] == expected


def test_nan_stays_nan():
    assert np.isnan(exp_all(np.array([np.nan]))[0])


def test_largest_finite_result_does_not_overflow():
    result = exp_all(np.array([EXP_MAX]))[0]
    assert np.isfinite(result)
    assert abs(result - np.exp(EXP_MAX)) <= np.spacing(np.exp(EXP_MAX))


def test_float32_input_is_exp_of_the_widened_value():
    x = np.random.default_rng(1).uniform(-80, 80, 10_000).astype(np.float32)
    np.testing.assert_array_equal(exp_all(x), exp_all(x.astype(np.float64)))
