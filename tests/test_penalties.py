"""Penalty semantics, the formulas of the user guide: prox operators, Ω values, optimizer
steps, estimators.

The kernels are checked against the formulas of the contract written out in numpy:
soft-thresholding S_τ, block soft-thresholding, the L2 gradient 2λW, the decoupled
decay W ← W − ηλW, the proximal L1 step with τ = ηλ (SGD) or ηλ/(√v̂ + ε) (Adam), and
the group prox on the rows of the first layer.
"""

import warnings

import numpy as np
import pytest
from numba import njit
from sklearn.datasets import make_regression
from sklearn.feature_selection import SelectFromModel

from sklearn_reg import (
    RegularizedMLPRegressor,
    RegularizedMLPRegressorCV,
    StabilitySelection,
    _penalties,
    _records,
    regularization_path,
)
from sklearn_reg import _kernels as K
from sklearn_reg._optim import ADAM, SGD
from sklearn_reg._records import Network, Optimizer, Regularization, State, data_record

NONE, L2, L1, WD, ELASTICNET, GROUP = None, "l2", "l1", "wd", "elasticnet", "group"

# ---------------------------------------------------------------------------
# prox operators
# ---------------------------------------------------------------------------

TAUS = pytest.mark.parametrize("tau", [0.0, 0.5, 1.7])


@TAUS
def test_soft_threshold_equals_closed_form_on_a_grid(tau):
    xs = np.linspace(-3.0, 3.0, 601)
    got = np.array([_penalties.soft_threshold(x, tau) for x in xs])
    expected = np.sign(xs) * np.maximum(np.abs(xs) - tau, 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0.0)


@pytest.mark.parametrize("tau", [0.5, 1.7])
def test_soft_threshold_yields_exact_zeros_inside_the_threshold(tau):
    inside = np.concatenate([np.linspace(-tau, tau, 101), [-tau, tau, 0.0, -0.0]])
    got = np.array([_penalties.soft_threshold(x, tau) for x in inside])
    assert np.all(got == 0.0)
    assert np.count_nonzero(got) == 0


def test_soft_threshold_shrinks_by_tau_outside_the_threshold():
    tau = 0.5
    assert _penalties.soft_threshold(2.0, tau) == 2.0 - tau
    assert _penalties.soft_threshold(-2.0, tau) == -2.0 + tau


def block_soft_threshold(w, tau):
    """BST_τ(w) = w·max(1 − τ / ‖w‖₂, 0), the factor from the kernel."""
    w = np.array(w, dtype=np.float64)
    return w * _penalties.block_shrink(np.linalg.norm(w), tau)


@TAUS
def test_block_soft_threshold_equals_closed_form_above_the_threshold(tau):
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = rng.normal(size=4)
        w *= (tau + rng.uniform(0.1, 3.0)) / np.linalg.norm(w)  # ‖w‖ > τ
        expected = w * max(1.0 - tau / np.linalg.norm(w), 0.0)
        np.testing.assert_allclose(block_soft_threshold(w, tau), expected, rtol=1e-14)


@pytest.mark.parametrize("tau", [0.5, 1.7])
def test_block_soft_threshold_zeroes_the_whole_block_when_norm_is_at_most_tau(tau):
    rng = np.random.default_rng(1)
    for norm in [0.0, 1e-12, 0.3 * tau, 0.999 * tau]:
        w = rng.normal(size=4)
        w *= norm / np.linalg.norm(w)
        assert np.all(block_soft_threshold(w, tau) == 0.0)
    # ‖(3, 4)·τ/5‖ = τ exactly: the boundary belongs to the zero set
    assert np.all(block_soft_threshold(np.array([3.0, 4.0]) * tau / 5.0, tau) == 0.0)


@pytest.mark.parametrize("tau", [0.0, 0.5])
def test_block_soft_threshold_of_the_zero_vector_is_zero_not_nan(tau):
    got = block_soft_threshold(np.zeros(3), tau)
    assert np.all(np.isfinite(got))
    assert np.all(got == 0.0)


def test_block_soft_threshold_with_zero_tau_is_the_identity():
    w = np.random.default_rng(2).normal(size=5)
    np.testing.assert_array_equal(block_soft_threshold(w, 0.0), w)


# ---------------------------------------------------------------------------
# Ω(W), the value reported in loss_
# ---------------------------------------------------------------------------


@pytest.fixture
def coefs():
    rng = np.random.default_rng(3)
    return [rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 2))]


@pytest.mark.parametrize("penalty", [None, "wd"])
def test_value_of_none_and_wd_is_zero(coefs, penalty):
    assert _penalties.value(penalty, coefs, 0.5) == 0.0


def test_value_of_l2_is_sum_of_squared_weights(coefs):
    expected = sum(np.sum(W**2) for W in coefs)
    np.testing.assert_allclose(_penalties.value("l2", coefs, 0.5), expected, rtol=1e-14)


def test_value_of_l1_is_sum_of_absolute_weights(coefs):
    expected = sum(np.sum(np.abs(W)) for W in coefs)
    np.testing.assert_allclose(_penalties.value("l1", coefs, 0.5), expected, rtol=1e-14)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_value_of_elasticnet_mixes_l1_and_l2(coefs, l1_ratio):
    l1 = sum(np.sum(np.abs(W)) for W in coefs)
    l2 = sum(np.sum(W**2) for W in coefs)
    expected = l1_ratio * l1 + (1.0 - l1_ratio) * l2
    got = _penalties.value("elasticnet", coefs, l1_ratio)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_value_of_group_is_scaled_sum_of_first_layer_row_norms(coefs):
    W0 = coefs[0]
    expected = np.sqrt(W0.shape[1]) * sum(np.sqrt(np.sum(row**2)) for row in W0)
    np.testing.assert_allclose(_penalties.value("group", coefs, 0.5), expected, rtol=1e-14)
    # deeper layers are not penalised
    deeper_changed = [W0] + [10.0 * W for W in coefs[1:]]
    assert _penalties.value("group", deeper_changed, 0.5) == _penalties.value("group", coefs, 0.5)


def test_value_with_feature_weights_weighs_the_first_layer_rows_only(coefs):
    """Ω with weights w: ρ·(Σ_j w_j Σ_c |W₁[j, c]| + Σ_deeper |W|) + (1 − ρ)·ΣW² for
    elastic net, √h₁·Σ_j w_j‖W₁[j, :]‖₂ for group."""
    W0, deeper = coefs[0], coefs[1:]
    w = np.array([0.0, 0.5, 1.0, 2.0, 7.0])
    l1 = w @ np.abs(W0).sum(axis=1) + sum(np.abs(W).sum() for W in deeper)
    l2 = sum(np.sum(W**2) for W in coefs)
    np.testing.assert_allclose(
        _penalties.value("elasticnet", coefs, 0.3, w), 0.3 * l1 + 0.7 * l2, rtol=1e-14
    )
    group = np.sqrt(W0.shape[1]) * (w @ np.linalg.norm(W0, axis=1))
    np.testing.assert_allclose(_penalties.value("group", coefs, 0.5, w), group, rtol=1e-14)
    ones = np.ones(W0.shape[0])
    for name in ("l1", "group", "sparsegroup"):
        assert _penalties.value(name, coefs, 0.3, ones) == pytest.approx(
            _penalties.value(name, coefs, 0.3), rel=1e-14
        )


def test_value_of_l2_matches_the_penalty_in_the_kernel_objective(coefs):
    rng = np.random.default_rng(4)
    units = np.array([5, 4, 3, 2], dtype=np.int64)
    params = np.concatenate([W.ravel() for W in coefs] + [rng.normal(size=h) for h in units[1:]])
    X, Y, sw = rng.normal(size=(6, 5)), rng.normal(size=(6, 2)), rng.uniform(0.5, 2.0, 6)
    args = (data_record(X, np.float64), Y, sw, params, Network(units, K.TANH, K.SQUARED_ERROR))
    alpha = 0.3
    J_pen = K.objective_grad(*args, Regularization(l2=alpha), np.empty_like(params))
    J_data = K.objective_grad(*args, Regularization(), np.empty_like(params))
    np.testing.assert_allclose(
        J_pen - J_data, alpha * _penalties.value("l2", coefs, 0.5), rtol=1e-12
    )


# ---------------------------------------------------------------------------
# one optimizer step on a flat parameter vector: weights first, then biases
# ---------------------------------------------------------------------------

UNITS = np.array([3, 4, 2], dtype=np.int64)
N_WEIGHTS = int(K.n_weights_of(UNITS))  # 3·4 + 4·2 = 20 weights, then 4 + 2 biases
N_PARAMS = N_WEIGHTS + int(UNITS[1:].sum())
LR, LAM = 0.1, 0.4
BETA_1, BETA_2, EPS = 0.9, 0.999, 1e-8
ALL_PENALTIES = {
    "none": NONE,
    "l2": L2,
    "l1": L1,
    "wd": WD,
    "elasticnet": ELASTICNET,
    "group": GROUP,
}


def point(seed=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=N_PARAMS), rng.normal(size=N_PARAMS)


def step(
    params,
    grad,
    solver,
    penalty,
    alpha=LAM,
    lr=LR,
    l1_ratio=0.5,
    momentum=0.0,
    nesterov=False,
    t=1,
    m=None,
    v=None,
    feature_weights=None,
    feature_groups=None,
):
    """θ after one ``optimizer_step`` (copies in, moments updated in place if given)."""
    params = params.copy()
    if m is None:
        m = np.zeros(N_PARAMS)
    if v is None:
        v = np.zeros(N_PARAMS if solver == ADAM else 0)
    groups = {}
    if feature_groups is not None:
        groups = dict(zip(("group_ptr", "group_rows"), _penalties.group_index(feature_groups)))
    regularization = Regularization(
        *_penalties.rates(penalty, alpha, l1_ratio), feature_weights=feature_weights, **groups
    )
    optimizer = Optimizer(
        solver=solver,
        schedule=0,
        lr_init=lr,
        momentum=momentum,
        nesterov=nesterov,
        beta_1=BETA_1,
        beta_2=BETA_2,
        epsilon=EPS,
    )
    counters = np.zeros(_records.N_COUNTERS)
    counters[_records.LR] = lr
    counters[_records.STEPS] = t - 1  # the step counts itself
    K.optimizer_step(
        State(params, m, v, counters),
        grad,
        np.empty_like(params),
        Network(UNITS, K.TANH, K.SQUARED_ERROR),
        regularization,
        optimizer,
    )
    return params


def adam_quantities(g, t=1, m=None, v=None):
    """(m̂, √v̂ + ε) of Adam at step t from the previous moments (zero at t = 1)."""
    m = np.zeros_like(g) if m is None else m
    v = np.zeros_like(g) if v is None else v
    m = BETA_1 * m + (1 - BETA_1) * g
    v = BETA_2 * v + (1 - BETA_2) * g * g
    return m / (1 - BETA_1**t), np.sqrt(v / (1 - BETA_2**t)) + EPS


def soft_threshold_np(x, tau):
    return np.sign(x) * np.maximum(np.abs(x) - tau, 0.0)


W_, B_ = slice(0, N_WEIGHTS), slice(N_WEIGHTS, None)


def test_l2_sgd_step_adds_two_lambda_w_to_the_gradient():
    w, g = point()
    got = step(w, g, SGD, L2)
    np.testing.assert_allclose(got[W_], w[W_] - LR * (g[W_] + 2 * LAM * w[W_]), rtol=1e-14)
    np.testing.assert_allclose(got[B_], w[B_] - LR * g[B_], rtol=1e-14)


@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
@pytest.mark.parametrize("penalty", list(ALL_PENALTIES.values()), ids=list(ALL_PENALTIES))
def test_biases_are_never_penalized(solver, penalty):
    w, g = point()
    w[B_] = 0.01 * np.sign(w[B_])  # tiny biases: any shrinkage or prox would show
    unpenalized = step(w, g, solver, NONE)
    penalized = step(w, g, solver, penalty, alpha=5.0)
    np.testing.assert_array_equal(penalized[B_], unpenalized[B_])
    if penalty != NONE:
        assert not np.allclose(penalized[W_], unpenalized[W_])  # the penalty is active


def test_wd_sgd_step_decays_the_pre_step_weights():
    w, g = point()
    got = step(w, g, SGD, WD)
    np.testing.assert_allclose(got[W_], w[W_] - LR * g[W_] - LR * LAM * w[W_], rtol=1e-14)
    np.testing.assert_allclose(got[B_], w[B_] - LR * g[B_], rtol=1e-14)


def test_wd_equals_l2_with_half_lambda_under_plain_sgd_step():
    w, g = point()
    np.testing.assert_allclose(
        step(w, g, SGD, WD, alpha=2 * LAM), step(w, g, SGD, L2, alpha=LAM), rtol=1e-14
    )


@pytest.mark.parametrize("t", [1, 4])
def test_l2_under_adam_goes_through_the_moments(t):
    w, g = point()
    rng = np.random.default_rng(6)
    m0, v0 = rng.normal(size=N_PARAMS), rng.uniform(0.0, 2.0, N_PARAMS)
    g_pen = g.copy()
    g_pen[W_] += 2 * LAM * w[W_]
    m_hat, denom = adam_quantities(g_pen, t, m0 if t > 1 else None, v0 if t > 1 else None)
    got = step(w, g, ADAM, L2, t=t, m=m0.copy() if t > 1 else None, v=v0.copy() if t > 1 else None)
    np.testing.assert_allclose(got, w - LR * m_hat / denom, rtol=1e-12)


def test_wd_under_adam_is_decoupled_from_the_moments():
    w, g = point()
    m_hat, denom = adam_quantities(g)  # the moments see the raw gradient only
    expected = w - LR * m_hat / denom
    expected[W_] -= LR * LAM * w[W_]
    got = step(w, g, ADAM, WD)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # unlike under SGD, this is not L2 with half the strength
    l2 = step(w, g, ADAM, L2, alpha=LAM / 2)
    assert np.abs(got[W_] - l2[W_]).max() > 1e-3


def test_l1_prox_yields_exact_zeros_under_sgd():
    w, g = point()
    w[:6] = LR * g[:6] + np.linspace(-0.9, 0.9, 6) * LR * LAM  # |w − ηg| < ηλ: to be zeroed
    got = step(w, g, SGD, L1)
    expected_w = soft_threshold_np(w[W_] - LR * g[W_], LR * LAM)
    np.testing.assert_allclose(got[W_], expected_w, rtol=1e-12, atol=1e-15)
    assert np.all(got[:6] == 0.0)
    assert np.count_nonzero(got[W_] == 0.0) == np.count_nonzero(expected_w == 0.0)
    np.testing.assert_allclose(got[B_], w[B_] - LR * g[B_], rtol=1e-14)


def adam_case(t, point_seed, rng_seed):
    """(w, g, (m0, v0), m̂, √v̂ + ε) of Adam's step t at a point whose gradient is scaled
    by widely varying factors (so √v̂, hence the thresholds, vary widely); the moments
    before the step are None at t = 1."""
    w, g = point(point_seed)
    rng = np.random.default_rng(rng_seed)
    g *= rng.uniform(0.01, 10.0, N_PARAMS)
    m0 = rng.normal(size=N_PARAMS) if t > 1 else None
    v0 = rng.uniform(0.0, 2.0, N_PARAMS) if t > 1 else None
    return (w, g, (m0, v0), *adam_quantities(g, t, m0, v0))


def adam_l1_step(w, g, t, m0, v0, **kwargs):
    """The compiled step of 'l1' under Adam at step t, from copies of the moments."""
    m = None if m0 is None else m0.copy()
    v = None if v0 is None else v0.copy()
    return step(w, g, ADAM, L1, t=t, m=m, v=v, **kwargs)


@pytest.mark.parametrize("t", [1, 4])
def test_l1_prox_under_adam_uses_the_per_coordinate_threshold(t):
    w, g, moments, m_hat, denom = adam_case(t, point_seed=5, rng_seed=7)
    update = LR * m_hat / denom
    tau = LR * LAM / denom  # per coordinate
    w[:5] = update[:5] + 0.5 * tau[:5]  # w − update = τ/2 on five weights: zeroed
    plain = w - update
    got = adam_l1_step(w, g, t, *moments)
    np.testing.assert_allclose(
        got[W_], soft_threshold_np(plain[W_], tau[W_]), rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(got[B_], plain[B_], rtol=1e-12)
    assert np.all(got[:5] == 0.0)
    # a single scalar threshold ηλ (the SGD one) would not give this step
    assert not np.allclose(got[W_], soft_threshold_np(plain[W_], LR * LAM))


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_elasticnet_sgd_step_is_l2_gradient_then_l1_prox(l1_ratio):
    w, g = point()
    got = step(w, g, SGD, ELASTICNET, l1_ratio=l1_ratio)
    gradient_step = w[W_] - LR * (g[W_] + 2 * LAM * (1 - l1_ratio) * w[W_])
    expected = soft_threshold_np(gradient_step, LR * LAM * l1_ratio)
    np.testing.assert_allclose(got[W_], expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True], ids=["classic", "nesterov"])
def test_l2_gradient_goes_through_momentum_and_wd_does_not(nesterov):
    mu = 0.9
    w0, g1 = point(8)
    _, g2 = point(9)

    def two_steps(penalty, alpha):
        m = np.zeros(N_PARAMS)
        w1 = step(w0, g1, SGD, penalty, alpha=alpha, momentum=mu, nesterov=nesterov, m=m)
        return step(w1, g2, SGD, penalty, alpha=alpha, momentum=mu, nesterov=nesterov, m=m)

    def reference(l2, wd):
        w, v = w0.copy(), np.zeros(N_PARAMS)
        for g in (g1, g2):
            g = g.copy()
            g[W_] += 2 * l2 * w[W_]
            v = mu * v - LR * g
            new = w + (mu * v - LR * g if nesterov else v)
            new[W_] -= LR * wd * w[W_]
            w = new
        return w

    np.testing.assert_allclose(two_steps(L2, LAM), reference(LAM, 0.0), rtol=1e-12)
    np.testing.assert_allclose(two_steps(WD, LAM), reference(0.0, LAM), rtol=1e-12)
    assert not np.allclose(two_steps(WD, 2 * LAM), two_steps(L2, LAM))


def group_point():
    """A point whose first-layer rows after the plain step have norms around τ = ηλ√h₁."""
    w, g = point(10)
    tau = LR * LAM * np.sqrt(UNITS[1])
    W0 = w[: UNITS[0] * UNITS[1]].reshape(UNITS[0], UNITS[1])
    G0 = g[: UNITS[0] * UNITS[1]].reshape(UNITS[0], UNITS[1])
    for j, norm in enumerate([0.4 * tau, 3.0 * tau, 0.9 * tau]):  # rows 0 and 2 die
        u = np.random.default_rng(j).normal(size=UNITS[1])
        W0[j] = LR * G0[j] + u * norm / np.linalg.norm(u)
    return w, g, tau


def test_group_prox_zeroes_whole_rows_below_threshold_under_sgd():
    w, g, tau = group_point()
    got = step(w, g, SGD, GROUP)
    plain = w - LR * g
    n0 = UNITS[0] * UNITS[1]
    U0 = plain[:n0].reshape(UNITS[0], UNITS[1])
    expected0 = U0 * np.maximum(1 - tau / np.linalg.norm(U0, axis=1, keepdims=True), 0.0)
    G0 = got[:n0].reshape(UNITS[0], UNITS[1])
    np.testing.assert_allclose(G0, expected0, rtol=1e-12, atol=1e-15)
    assert np.all(G0[[0, 2]] == 0.0)
    assert np.all(G0[1] != 0.0)
    # deeper layers and biases take the plain step, unshrunk
    np.testing.assert_allclose(got[n0:], plain[n0:], rtol=1e-14)


def test_group_prox_under_adam_removes_whole_rows_and_leaves_deeper_layers_unshrunk():
    w, g = point(11)
    m_hat, denom = adam_quantities(g)
    plain = w - LR * m_hat / denom
    n0 = UNITS[0] * UNITS[1]
    got = step(w, g, ADAM, GROUP, alpha=50.0)  # strong enough to remove every row
    assert np.all(got[:n0] == 0.0)
    np.testing.assert_allclose(got[n0:], plain[n0:], rtol=1e-12)
    weak = step(w, g, ADAM, GROUP, alpha=1e-6)  # rows survive, shrunk as blocks
    U0, G0 = plain[:n0].reshape(UNITS[0], -1), weak[:n0].reshape(UNITS[0], -1)
    scale = np.sum(G0 * U0, axis=1) / np.sum(U0 * U0, axis=1)
    np.testing.assert_allclose(G0, scale[:, None] * U0, rtol=1e-10)
    assert np.all((scale > 0.0) & (scale < 1.0))


# ---------------------------------------------------------------------------
# per-feature weights: row j of the first layer thresholded by λ·w_j
# ---------------------------------------------------------------------------

#: one weight per input feature (UNITS[0] = 3): unpenalized, light, heavy
FEATURE_WEIGHTS = np.array([0.0, 0.5, 3.0])
N_FIRST = UNITS[0] * UNITS[1]


def row_thresholds(tau):
    """τ·w_j for each weight of the first layer (row-major, UNITS[1] per row)."""
    return np.repeat(FEATURE_WEIGHTS, UNITS[1]) * tau[:N_FIRST]


def test_weighted_l1_sgd_step_thresholds_row_j_by_lambda_w_j_and_deeper_layers_by_lambda():
    w, g = point()
    plain = w - LR * g
    got = step(w, g, SGD, L1, feature_weights=FEATURE_WEIGHTS)
    tau = np.full(N_WEIGHTS, LR * LAM)
    expected_first = soft_threshold_np(plain[:N_FIRST], row_thresholds(tau))
    np.testing.assert_allclose(got[:N_FIRST], expected_first, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        got[N_FIRST:N_WEIGHTS], soft_threshold_np(plain[N_FIRST:N_WEIGHTS], LR * LAM), rtol=1e-12
    )
    np.testing.assert_allclose(got[B_], plain[B_], rtol=1e-14)
    np.testing.assert_array_equal(got[: UNITS[1]], plain[: UNITS[1]])  # w_0 = 0: untouched


@pytest.mark.parametrize("t", [1, 4])
def test_weighted_l1_under_adam_thresholds_each_weight_by_eta_lambda_w_j_over_its_denominator(t):
    w, g, moments, m_hat, denom = adam_case(t, point_seed=12, rng_seed=8)
    plain = w - LR * m_hat / denom
    tau = LR * LAM / denom
    got = adam_l1_step(w, g, t, *moments, feature_weights=FEATURE_WEIGHTS)
    expected = soft_threshold_np(
        plain[W_], np.concatenate([row_thresholds(tau), tau[N_FIRST:N_WEIGHTS]])
    )
    np.testing.assert_allclose(got[W_], expected, rtol=1e-12, atol=1e-15)


def test_weighted_group_sgd_step_block_thresholds_row_j_by_eta_lambda_w_j_sqrt_h():
    w, g = point(13)
    plain = w - LR * g
    got = step(w, g, SGD, GROUP, alpha=2.0, feature_weights=FEATURE_WEIGHTS)
    U0 = plain[:N_FIRST].reshape(UNITS[0], UNITS[1])
    tau = LR * 2.0 * np.sqrt(UNITS[1]) * FEATURE_WEIGHTS[:, None]
    expected0 = U0 * np.maximum(1 - tau / np.linalg.norm(U0, axis=1, keepdims=True), 0.0)
    G0 = got[:N_FIRST].reshape(UNITS[0], UNITS[1])
    np.testing.assert_allclose(G0, expected0, rtol=1e-12, atol=1e-15)
    assert np.all(G0[2] == 0.0) and np.all(G0[1] != 0.0)  # the heavy row goes, the light stays
    np.testing.assert_array_equal(G0[0], U0[0])  # w_0 = 0: unpenalized
    np.testing.assert_allclose(got[N_FIRST:], plain[N_FIRST:], rtol=1e-14)


@pytest.mark.parametrize("penalty", [L1, ELASTICNET, GROUP, "sparsegroup"])
@pytest.mark.parametrize("solver", [SGD, ADAM])
def test_feature_weights_of_one_give_the_unweighted_step_bit_for_bit(penalty, solver):
    w, g = point(14)
    ones = np.ones(UNITS[0])
    np.testing.assert_array_equal(
        step(w, g, solver, penalty, feature_weights=ones), step(w, g, solver, penalty)
    )


def test_a_huge_feature_weight_keeps_its_row_at_zero_and_its_penalty_at_zero():
    """The adaptive weight 1 / TINY of a feature that a first fit removed."""
    w, g = point(15)
    huge = np.array([1.0, 1e12, 1.0])
    for penalty in (L1, GROUP):
        got = step(w, g, ADAM, penalty, alpha=1e-5, feature_weights=huge)
        row = got[UNITS[1] : 2 * UNITS[1]]
        assert np.all(row == 0.0)
        reg = Regularization(*_penalties.rates(penalty, 1e-5, 0.5), feature_weights=huge)
        term = penalty_term(got[W_], N_FIRST, int(UNITS[1]), reg)
        assert np.isfinite(term) and term < 1.0


# ---------------------------------------------------------------------------
# through the estimator
# ---------------------------------------------------------------------------


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return RegularizedMLPRegressor(random_state=0, **params).fit(X, y)


def _max_coef_difference(a, b):
    return max(np.abs(p - q).max() for p, q in zip(a.coefs_, b.coefs_))


@pytest.fixture(scope="module")
def small_regression():
    X, y = make_regression(n_samples=40, n_features=6, noise=1.0, random_state=0)
    return X, (y - y.mean()) / y.std()


FULL_BATCH = dict(
    hidden_layer_sizes=(4,),
    momentum=0.0,
    batch_size=40,
    shuffle=False,
    learning_rate="constant",
    learning_rate_init=0.01,
    max_iter=5,
)


def test_wd_equals_l2_under_plain_sgd(small_regression):
    X, y = small_regression
    lam = 0.05
    wd = _fit(X, y, solver="sgd", penalty="wd", alpha=2 * lam, **FULL_BATCH)
    l2 = _fit(X, y, solver="sgd", penalty="l2", alpha=lam, **FULL_BATCH)
    unpenalized = _fit(X, y, solver="sgd", penalty=None, **FULL_BATCH)
    for a, b in zip(wd.coefs_ + wd.intercepts_, l2.coefs_ + l2.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    assert _max_coef_difference(l2, unpenalized) > 1e-3  # the penalty did act


def test_wd_differs_from_l2_under_adam(small_regression):
    X, y = small_regression
    lam = 0.05
    wd = _fit(X, y, solver="adam", penalty="wd", alpha=2 * lam, **FULL_BATCH)
    l2 = _fit(X, y, solver="adam", penalty="l2", alpha=lam, **FULL_BATCH)
    unpenalized = _fit(X, y, solver="adam", penalty=None, **FULL_BATCH)
    penalty_effect = _max_coef_difference(l2, unpenalized)
    assert penalty_effect > 1e-3
    assert _max_coef_difference(wd, l2) > 0.1 * penalty_effect


@pytest.fixture(scope="module")
def sparse_regression():
    """30 features of which only 3 are informative."""
    X, y, coef = make_regression(
        n_samples=200, n_features=30, n_informative=3, noise=1.0, coef=True, random_state=0
    )
    return X, (y - y.mean()) / y.std(), coef != 0


SPARSITY_FIT = dict(
    hidden_layer_sizes=(8,), solver="adam", alpha=1e-2, learning_rate_init=1e-2, max_iter=100
)


def test_l1_under_adam_yields_exact_zeros_on_irrelevant_features(sparse_regression):
    X, y, informative = sparse_regression
    W0 = _fit(X, y, penalty="l1", **SPARSITY_FIT).coefs_[0]
    assert np.mean(W0 == 0.0) > 0.5
    assert np.mean(W0[~informative] == 0.0) > 0.5
    assert np.all(np.any(W0[informative] != 0.0, axis=1))  # informative features kept


def test_l2_under_adam_yields_no_exact_zeros(sparse_regression):
    X, y, _ = sparse_regression
    W0 = _fit(X, y, penalty="l2", **SPARSITY_FIT).coefs_[0]
    assert np.count_nonzero(W0 == 0.0) == 0


# ---------------------------------------------------------------------------
# max-norm: the projection of each hidden unit's incoming weights onto a ball
# ---------------------------------------------------------------------------


@njit
def max_norm_project(W, c, norms):
    """The compiled-only projection, called from compiled code as the optimizer step does."""
    _penalties.max_norm_project(W, c, norms)


def test_max_norm_projection_is_the_closed_form_column_rescaling():
    rng = np.random.default_rng(12)
    W = rng.normal(size=(7, 5)) * np.array([0.1, 1.0, 3.0, 0.5, 10.0])  # column norms vary
    c = 1.5
    norms = np.linalg.norm(W, axis=0)
    expected = W * np.minimum(1.0, c / norms)
    got = W.copy()
    max_norm_project(got, c, np.empty(5))
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(got, axis=0), np.minimum(norms, c), rtol=1e-14)
    assert np.any(norms < c) and np.any(norms > c)  # both cases were exercised


def test_max_norm_projection_leaves_columns_inside_the_ball_bit_for_bit():
    W = np.random.default_rng(13).normal(size=(6, 4))
    got = W.copy()
    max_norm_project(got, np.linalg.norm(W, axis=0).max() * 1.01, np.empty(4))
    np.testing.assert_array_equal(got, W)


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "wd", "group"])
def test_max_norm_bounds_every_hidden_unit_after_fit_and_leaves_the_outputs_free(
    small_regression, penalty
):
    X, y = small_regression
    c = 0.3
    reg = _fit(
        X,
        y * 50,
        hidden_layer_sizes=(8, 6),
        max_norm=c,
        penalty=penalty,
        dropout=0.2,
        learning_rate_init=0.05,
        max_iter=30,
    )
    free = _fit(
        X,
        y * 50,
        hidden_layer_sizes=(8, 6),
        penalty=penalty,
        dropout=0.2,
        learning_rate_init=0.05,
        max_iter=30,
    )
    for W in reg.coefs_[:-1]:  # the incoming weights of the hidden units
        assert np.linalg.norm(W, axis=0).max() <= c * (1 + 1e-12)
    assert max(np.linalg.norm(W, axis=0).max() for W in free.coefs_[:-1]) > c  # it binds
    assert np.linalg.norm(reg.coefs_[-1], axis=0).max() > c  # output layer unconstrained


def test_max_norm_larger_than_every_norm_changes_nothing(small_regression):
    X, y = small_regression
    free = _fit(X, y, **FULL_BATCH)
    loose = _fit(X, y, max_norm=1e6, **FULL_BATCH)
    for a, b in zip(free.coefs_ + free.intercepts_, loose.coefs_ + loose.intercepts_):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# sparse group lasso: L1 on every weight, group lasso on the first layer's rows
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("l1_ratio", [0.0, 0.4, 1.0])
def test_value_of_sparsegroup_mixes_l1_and_the_first_layer_row_norms(coefs, l1_ratio):
    W0 = coefs[0]
    l1 = sum(np.sum(np.abs(W)) for W in coefs)
    group = np.sqrt(W0.shape[1]) * np.linalg.norm(W0, axis=1).sum()
    np.testing.assert_allclose(
        _penalties.value("sparsegroup", coefs, l1_ratio),
        l1_ratio * l1 + (1.0 - l1_ratio) * group,
        rtol=1e-14,
    )


def test_sparsegroup_sgd_step_soft_thresholds_then_shrinks_the_rows():
    """The prox of λ(ρ‖·‖₁ + (1 − ρ)√h₁‖·‖₂) per row: BST_{η·λ(1−ρ)√h₁}(S_{η·λρ}(w))."""
    w, g, _ = group_point()
    rho = 0.3
    got = step(w, g, SGD, "sparsegroup", l1_ratio=rho)
    shrunk = soft_threshold_np(w - LR * g, LR * LAM * rho)
    n0 = UNITS[0] * UNITS[1]
    U0 = shrunk[:n0].reshape(UNITS[0], UNITS[1])
    tau = LR * LAM * (1.0 - rho) * np.sqrt(UNITS[1])
    norms = np.linalg.norm(U0, axis=1, keepdims=True)
    expected0 = U0 * np.maximum(1 - tau / np.where(norms > 0, norms, 1.0), 0.0)
    np.testing.assert_allclose(got[:n0].reshape(UNITS[0], -1), expected0, rtol=1e-12, atol=1e-15)
    # deeper weights get the soft-threshold alone, the biases nothing
    np.testing.assert_allclose(got[n0:N_WEIGHTS], shrunk[n0:N_WEIGHTS], rtol=1e-14)
    np.testing.assert_allclose(got[B_], (w - LR * g)[B_], rtol=1e-14)


def test_sparsegroup_removes_features_and_prunes_weights_inside_the_kept_ones(sparse_regression):
    X, y, informative = sparse_regression
    fit = {**SPARSITY_FIT, "hidden_layer_sizes": (32,)}  # more units than 3 features need
    W0 = _fit(X, y, penalty="sparsegroup", l1_ratio=0.5, **fit).coefs_[0]
    kept = np.any(W0 != 0.0, axis=1)
    assert np.all(kept[informative])  # the informative features stay
    assert not np.all(kept[~informative])  # whole noise features go
    assert np.any(W0[kept] == 0.0)  # and weights inside the kept rows are pruned


def test_penalty_term_of_the_kernels_equals_value_times_alpha(coefs):
    """λ·Ω compiled (for loss_) and in Python (the docs' formula) agree for every penalty."""
    units = np.array([5, 4, 3, 2], dtype=np.int64)
    weights = np.concatenate([W.ravel() for W in coefs])
    for name in _penalties.PENALTIES:
        reg = Regularization(*_penalties.rates(name, 0.7, 0.3))
        got = penalty_term(weights, int(units[0] * units[1]), int(units[1]), reg)
        np.testing.assert_allclose(
            got, 0.7 * _penalties.value(name, coefs, 0.3), rtol=1e-12, err_msg=str(name)
        )


@pytest.mark.parametrize("name", ["l1", "elasticnet", "group", "sparsegroup"])
def test_penalty_term_with_feature_weights_equals_the_weighted_value_times_alpha(coefs, name):
    units = np.array([5, 4, 3, 2], dtype=np.int64)
    weights = np.concatenate([W.ravel() for W in coefs])
    w = np.array([0.0, 0.5, 1.0, 2.0, 7.0])
    reg = Regularization(*_penalties.rates(name, 0.7, 0.3), feature_weights=w)
    got = penalty_term(weights, int(units[0] * units[1]), int(units[1]), reg)
    np.testing.assert_allclose(got, 0.7 * _penalties.value(name, coefs, 0.3, w), rtol=1e-12)
    assert got != pytest.approx(0.7 * _penalties.value(name, coefs, 0.3))  # the weights count


@njit
def penalty_term(weights, n_first, n_hidden_1, regularization):
    """The compiled-only λ·Ω, called from compiled code as the epoch loop does."""
    return _penalties.penalty_term(weights, n_first, n_hidden_1, regularization)


SMOOTH = [
    p
    for p, spec in _penalties.PENALTIES.items()
    if spec.smooth and any(_penalties.rates(p, 1.0, 0.5))
]


@pytest.mark.parametrize("penalty", SMOOTH)
def test_lbfgs_minimises_every_smooth_penalty(small_regression, penalty):
    X, y = small_regression
    kw = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=200)
    free = _fit(X, y, penalty=None, **kw)
    penalized = _fit(X, y, penalty=penalty, alpha=0.1, **kw)
    norm = [sum(float(np.sum(W**2)) for W in m.coefs_) for m in (free, penalized)]
    assert norm[1] < 0.5 * norm[0]


@pytest.mark.parametrize(
    "penalty", [p for p, spec in _penalties.PENALTIES.items() if not spec.smooth]
)
def test_lbfgs_refuses_every_non_smooth_penalty(small_regression, penalty):
    X, y = small_regression
    with pytest.raises(ValueError, match=f"penalty={penalty!r} is not supported"):
        RegularizedMLPRegressor(solver="lbfgs", penalty=penalty).fit(X, y)


def test_sparsegroup_goes_through_the_path_the_cv_estimator_and_the_selectors(sparse_regression):
    X, y, informative = sparse_regression
    small = dict(hidden_layer_sizes=(8,), learning_rate_init=1e-2, max_iter=60, random_state=0)
    _, coefs, _, n_selected = regularization_path(
        X, y, [1e-3, 3e-2], penalty="sparsegroup", **small
    )
    assert n_selected[1] < n_selected[0] == X.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = RegularizedMLPRegressorCV(
            penalty="sparsegroup", alphas=[1e-3, 1e-2, 3e-2], cv=3, **small
        ).fit(X, y)
        stable = StabilitySelection(
            RegularizedMLPRegressor(penalty="sparsegroup", **small),
            alphas=3,
            n_pairs=3,
            random_state=0,
        ).fit(X, y)
    kept = SelectFromModel(cv, prefit=True).get_support()
    assert kept[informative].all() and kept.sum() < X.shape[1]
    scores = stable.max_stability_scores_  # the informative features are the most stable
    assert scores[informative].min() > scores[~informative].max()


# ---------------------------------------------------------------------------
# penalty_weights, the estimator parameter
# ---------------------------------------------------------------------------


def test_penalty_weights_of_one_fit_the_unweighted_model_bit_for_bit(sparse_regression):
    X, y, _ = sparse_regression
    plain = _fit(X, y, penalty="group", **SPARSITY_FIT)
    ones = _fit(X, y, penalty="group", penalty_weights=np.ones(X.shape[1]), **SPARSITY_FIT)
    assert _max_coef_difference(plain, ones) == 0.0
    assert plain.loss_ == ones.loss_


@pytest.mark.parametrize("penalty", ["l1", "group"])
def test_a_zero_penalty_weight_keeps_a_feature_that_the_penalty_removes(sparse_regression, penalty):
    X, y, informative = sparse_regression
    fit = {**SPARSITY_FIT, "alpha": 0.05}
    removed = np.flatnonzero(~np.any(_fit(X, y, penalty=penalty, **fit).coefs_[0], axis=1))
    assert removed.size > 0
    j = removed[0]
    weights = np.ones(X.shape[1])
    weights[j] = 0.0
    W0 = _fit(X, y, penalty=penalty, penalty_weights=weights, **fit).coefs_[0]
    assert np.any(W0[j] != 0.0)


@pytest.mark.parametrize(
    "weights, message",
    [
        (np.ones(29), "one weight per input feature: X has 30 features, .* shape \\(29,\\)"),
        (np.ones((30, 1)), "one weight per input feature"),
        (np.r_[np.ones(29), -1.0], "finite and non-negative .* got -1.0 for feature 29"),
        (np.r_[np.nan, np.ones(29)], "finite and non-negative .* got nan for feature 0"),
        (np.r_[np.inf, np.ones(29)], "finite and non-negative .* got inf for feature 0"),
        (["a"] * 30, "array of numbers"),
    ],
)
def test_bad_penalty_weights_are_refused_with_the_reason(sparse_regression, weights, message):
    X, y, _ = sparse_regression
    with pytest.raises(ValueError, match=message):
        RegularizedMLPRegressor(penalty="l1", penalty_weights=weights, max_iter=1).fit(X, y)


@pytest.mark.parametrize(
    "penalty",
    [p for p in _penalties.PENALTIES if p not in ("l1", "elasticnet", "group", "sparsegroup")],
)
def test_penalty_weights_are_refused_by_a_penalty_without_first_layer_rows(
    sparse_regression, penalty
):
    X, y, _ = sparse_regression
    est = RegularizedMLPRegressor(penalty=penalty, penalty_weights=np.ones(30), max_iter=1)
    with pytest.raises(ValueError, match=f"penalty={penalty!r} does not have"):
        est.fit(X, y)


# ---------------------------------------------------------------------------
# feature_groups: rows of the first layer shrunk and removed as one block
# ---------------------------------------------------------------------------


def test_group_index_lists_the_rows_of_each_label_in_csr_form():
    ptr, rows = _penalties.group_index(["b", "a", "b", "c", "a"])
    assert ptr.tolist() == [0, 2, 4, 5]  # a: rows 1, 4; b: 0, 2; c: 3
    assert rows.tolist() == [1, 4, 0, 2, 3]
    assert ptr.dtype == rows.dtype == np.int64


def test_value_with_feature_groups_is_the_block_norm_of_each_group(coefs):
    """Ω_group = Σ_g w̄_g·√(h₁·n_g)·‖W₁[g, :]‖_F, w̄_g the mean weight of the group."""
    W0 = coefs[0]
    groups = np.array([0, 1, 0, 2, 1])
    w = np.array([1.0, 2.0, 3.0, 0.5, 4.0])
    h = W0.shape[1]
    expected = (
        2.0 * np.sqrt(2 * h) * np.linalg.norm(W0[[0, 2]])
        + 3.0 * np.sqrt(2 * h) * np.linalg.norm(W0[[1, 4]])
        + 0.5 * np.sqrt(h) * np.linalg.norm(W0[3])
    )
    got = _penalties.value("group", coefs, 0.5, w, groups)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    singletons = _penalties.value("group", coefs, 0.5, w, np.arange(5))
    assert singletons == pytest.approx(_penalties.value("group", coefs, 0.5, w), rel=1e-14)


@pytest.mark.parametrize("name", ["group", "sparsegroup"])
def test_penalty_term_with_feature_groups_equals_the_grouped_value_times_alpha(coefs, name):
    units = np.array([5, 4, 3, 2], dtype=np.int64)
    weights = np.concatenate([W.ravel() for W in coefs])
    groups = np.array([0, 1, 0, 2, 1])
    w = np.array([1.0, 2.0, 3.0, 0.5, 4.0])
    ptr, rows = _penalties.group_index(groups)
    reg = Regularization(
        *_penalties.rates(name, 0.7, 0.3), feature_weights=w, group_ptr=ptr, group_rows=rows
    )
    got = penalty_term(weights, int(units[0] * units[1]), int(units[1]), reg)
    np.testing.assert_allclose(got, 0.7 * _penalties.value(name, coefs, 0.3, w, groups), rtol=1e-12)
    assert got != pytest.approx(0.7 * _penalties.value(name, coefs, 0.3, w))  # groups count


def test_grouped_prox_under_sgd_shrinks_each_group_as_one_block():
    """Rows 0 and 1 form one group with τ = ηλ√(2h₁), row 2 is alone with τ = ηλ√h₁."""
    w, g, tau = group_point()
    got = step(w, g, SGD, GROUP, feature_groups=[0, 0, 1])
    plain = w - LR * g
    U0 = plain[:N_FIRST].reshape(UNITS[0], UNITS[1])
    expected = U0.copy()
    for rows, size in (([0, 1], 2), ([2], 1)):
        threshold = LR * LAM * np.sqrt(size * UNITS[1])
        expected[rows] *= max(1.0 - threshold / np.linalg.norm(U0[rows]), 0.0)
    G0 = got[:N_FIRST].reshape(UNITS[0], UNITS[1])
    np.testing.assert_allclose(G0, expected, rtol=1e-12, atol=1e-15)
    # row 0 (norm 0.4τ) alone dies; with row 1 (3τ) it survives, as a block
    assert np.all(G0[[0, 1]] != 0.0) and np.all(G0[2] == 0.0)
    assert np.all(step(w, g, SGD, GROUP)[:N_FIRST].reshape(UNITS[0], -1)[0] == 0.0)


def test_grouped_prox_under_adam_keeps_the_rows_of_a_group_proportional():
    w, g = point(11)
    m_hat, denom = adam_quantities(g)
    plain = w - LR * m_hat / denom
    got = step(w, g, ADAM, GROUP, alpha=1e-6, feature_groups=[1, 1, 0])
    U0 = plain[:N_FIRST].reshape(UNITS[0], -1)
    G0 = got[:N_FIRST].reshape(UNITS[0], -1)
    scale = np.sum(G0 * U0, axis=1) / np.sum(U0 * U0, axis=1)
    np.testing.assert_allclose(G0, scale[:, None] * U0, rtol=1e-10)
    assert scale[0] == pytest.approx(scale[1], rel=1e-12)  # one factor for the group
    assert abs(scale[0] - scale[2]) > 1e-9  # another for the row alone
    assert np.all(step(w, g, ADAM, GROUP, alpha=50.0, feature_groups=[1, 1, 0])[:N_FIRST] == 0)


def test_feature_groups_of_singletons_fit_the_ungrouped_model_bit_for_bit(sparse_regression):
    X, y, _ = sparse_regression
    plain = _fit(X, y, penalty="group", **SPARSITY_FIT)
    singletons = _fit(X, y, penalty="group", feature_groups=np.arange(30), **SPARSITY_FIT)
    assert _max_coef_difference(plain, singletons) == 0.0
    assert plain.loss_ == singletons.loss_


def test_features_of_one_group_are_kept_or_removed_together(sparse_regression):
    """Each informative feature shares a group with two noise features, the other noise
    features form groups of 3: whole groups go, those of the informative features stay."""
    X, y, informative = sparse_regression
    order = np.r_[np.flatnonzero(informative), np.flatnonzero(~informative)]
    groups = np.empty(30, dtype=np.int64)
    groups[order[:3]] = [0, 1, 2]
    groups[order[3:9]] = [0, 0, 1, 1, 2, 2]
    groups[order[9:]] = 3 + np.arange(21) // 3
    W0 = _fit(X, y, penalty="group", feature_groups=groups, **SPARSITY_FIT).coefs_[0]
    kept = np.any(W0 != 0.0, axis=1)
    kept_groups = {label: kept[groups == label] for label in range(10)}
    assert all(k.all() or not k.any() for k in kept_groups.values())
    assert all(kept_groups[label].all() for label in (0, 1, 2))
    assert not all(kept_groups[label].any() for label in range(3, 10))


@pytest.mark.parametrize(
    "groups, message",
    [
        (np.zeros(29), "one group label per input feature: X has 30 features, .*\\(29,\\)"),
        (np.zeros((30, 1)), "one group label per input feature"),
        (np.array([0, "a"] * 15, dtype=object), "sortable labels"),
    ],
)
def test_bad_feature_groups_are_refused_with_the_reason(sparse_regression, groups, message):
    X, y, _ = sparse_regression
    with pytest.raises(ValueError, match=message):
        RegularizedMLPRegressor(penalty="group", feature_groups=groups, max_iter=1).fit(X, y)


@pytest.mark.parametrize("penalty", ["l1", "l2", "elasticnet", None])
def test_feature_groups_are_refused_by_a_penalty_without_a_group_part(sparse_regression, penalty):
    X, y, _ = sparse_regression
    est = RegularizedMLPRegressor(penalty=penalty, feature_groups=np.arange(30), max_iter=1)
    with pytest.raises(ValueError, match=f"penalty={penalty!r} does not have"):
        est.fit(X, y)
