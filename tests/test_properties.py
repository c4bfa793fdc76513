"""Property-based tests (hypothesis) of the kernels: prox operators, masks, gradients.

Each property holds for every input hypothesis draws, not just for a hand-picked grid:
soft-thresholding S_τ and block soft-thresholding BST_τ (closed forms, shrinkage, zero
sets, the semigroup law S_a∘S_b = S_{a+b}, non-expansiveness, prox optimality), the
drop rates of the random masks, and ∇J of ``objective_grad`` against central finite
differences on random small networks, dtypes and input kinds.

The examples are few and small so that the module also runs in pure Python under
``NUMBA_DISABLE_JIT=1`` (the coverage run, .ci/coverage.sh) in seconds.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sklearn_reg import _kernels as K
from sklearn_reg import _masks as M
from sklearn_reg import _penalties
from sklearn_reg._records import Network, Regularization, data_record

# no example database written into the repository; no deadline (the first example compiles)
FAST = settings(max_examples=60, deadline=None, database=None)
SLOW = settings(max_examples=10, deadline=None, database=None)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
taus = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)
seeds = st.integers(0, 2**31 - 1)


def ST(x, tau):
    return _penalties.soft_threshold(float(x), float(tau))


def BST(w, tau):
    """BST_τ(w) = w·max(1 − τ / ‖w‖₂, 0), the factor from the kernel."""
    return w * _penalties.block_shrink(np.linalg.norm(w), tau)


# ---------------------------------------------------------------------------
# soft-thresholding S_τ(x) = sign(x)·max(|x| − τ, 0)
# ---------------------------------------------------------------------------


@FAST
@given(finite, taus)
def test_soft_threshold_is_exactly_the_closed_form(x, tau):
    assert ST(x, tau) == np.sign(x) * max(abs(x) - tau, 0.0)


@FAST
@given(finite, taus)
def test_soft_threshold_shrinks_toward_zero_without_changing_sign(x, tau):
    s = ST(x, tau)
    assert abs(s) <= abs(x)
    assert s * x >= 0.0
    assert abs(x - s) <= tau + 2 * np.spacing(abs(x))  # moves by at most τ (+ rounding)


@FAST
@given(finite, taus)
def test_soft_threshold_zero_set_is_the_interval_minus_tau_tau(x, tau):
    assert ST(0.0, tau) == 0.0
    assert (ST(x, tau) == 0.0) == (abs(x) <= tau)


@FAST
@given(finite)
def test_soft_threshold_with_zero_tau_is_the_identity_hence_idempotent(x):
    assert ST(x, 0.0) == x
    assert ST(ST(x, 0.0), 0.0) == ST(x, 0.0)


@FAST
@given(finite, st.floats(1e-6, 1e6))
def test_soft_threshold_fixed_points_are_zero_only(x, tau):
    """S_τ(S_τ(x)) = S_τ(x) only where S_τ(x) = 0: a prox step is not idempotent."""
    s = ST(x, tau)
    assert (ST(s, tau) == s) == (s == 0.0)


@FAST
@given(finite, taus, taus)
def test_soft_threshold_semigroup(x, a, b):
    """S_a ∘ S_b = S_{a+b}: two prox steps of τ/2 equal one of τ (up to rounding)."""
    assert ST(ST(x, b), a) == pytest.approx(ST(x, a + b), rel=1e-12, abs=1e-9 * (a + b + abs(x)))


@FAST
@given(finite, finite, taus)
def test_soft_threshold_is_nonexpansive(x, y, tau):
    assert abs(ST(x, tau) - ST(y, tau)) <= abs(x - y) * (1 + 1e-15) + 1e-9


@FAST
@given(finite, taus, st.lists(finite, min_size=1, max_size=5))
def test_soft_threshold_minimises_the_prox_objective(x, tau, others):
    """S_τ(x) = argmin_z ½(z − x)² + τ|z|."""

    def objective(z):
        return 0.5 * (z - x) ** 2 + tau * abs(z)

    s = ST(x, tau)
    for z in others + [0.0, x]:
        assert objective(s) <= objective(z) * (1 + 1e-12) + 1e-9


# ---------------------------------------------------------------------------
# block soft-thresholding BST_τ(w) = w·max(1 − τ/‖w‖₂, 0)
# ---------------------------------------------------------------------------

blocks = hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-1e3, 1e3))
block_taus = st.floats(0.0, 1e3)


@FAST
@given(blocks, block_taus)
def test_block_soft_threshold_is_the_closed_form(w, tau):
    norm = np.linalg.norm(w)
    expected = w * max(1.0 - tau / norm, 0.0) if norm > 0 else w
    np.testing.assert_allclose(BST(w, tau), expected, rtol=1e-12, atol=1e-12)


@FAST
@given(blocks, block_taus)
def test_block_soft_threshold_shrinks_the_norm_and_keeps_the_direction(w, tau):
    b = BST(w, tau)
    assert np.linalg.norm(b) <= np.linalg.norm(w) * (1 + 1e-15)
    assert np.all(b * w >= 0.0)  # each coordinate keeps its sign or becomes 0
    assert np.all(np.abs(b) <= np.abs(w))


@FAST
@given(blocks, block_taus)
def test_block_soft_threshold_zeroes_the_whole_block_iff_norm_at_most_tau(w, tau):
    b, norm = BST(w, tau), np.linalg.norm(w)
    if norm <= tau:
        assert np.all(b == 0.0)
    elif norm > tau * (1 + 1e-9) and np.abs(w).max() > 1e-150:  # clear of rounding, underflow
        assert np.any(b != 0.0)
    assert np.all(BST(np.zeros_like(w), tau) == 0.0)  # 0/0 never makes a NaN


@FAST
@given(st.floats(-1e3, 1e3), block_taus)
def test_block_soft_threshold_of_one_coordinate_is_soft_threshold(x, tau):
    assert BST(np.array([x]), tau)[0] == pytest.approx(ST(x, tau), rel=1e-12, abs=1e-12)


@FAST
@given(blocks, block_taus, block_taus)
def test_block_soft_threshold_semigroup(w, a, b):
    np.testing.assert_allclose(
        BST(BST(w, b), a), BST(w, a + b), rtol=1e-9, atol=1e-9 * (1 + np.abs(w).max())
    )


@FAST
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.float64, n, elements=st.floats(-1e3, 1e3)),
            hnp.arrays(np.float64, n, elements=st.floats(-1e3, 1e3)),
        )
    ),
    block_taus,
)
def test_block_soft_threshold_is_nonexpansive(uv, tau):
    u, v = uv
    assert np.linalg.norm(BST(u, tau) - BST(v, tau)) <= np.linalg.norm(u - v) * (1 + 1e-12) + 1e-9


@FAST
@given(
    hnp.arrays(np.float32, st.integers(1, 6), elements=st.floats(-1e3, 1e3, width=32)),
    st.floats(0.0, 1e3),
)
def test_block_soft_threshold_in_float32_stays_float32_and_close(w, tau):
    b = BST(w, tau)
    assert b.dtype == np.float32
    np.testing.assert_allclose(
        b, BST(w.astype(np.float64), tau), rtol=1e-5, atol=1e-5 * (1 + np.abs(w).max())
    )


# ---------------------------------------------------------------------------
# random masks: the requested rates
# ---------------------------------------------------------------------------


def _within(observed_mean, expected, sd, n, k=6.0):
    """|mean − expected| ≤ k standard errors (k = 6: a false alarm ~ 1e-9 per example)."""
    return abs(observed_mean - expected) <= k * sd / np.sqrt(n) + 1e-12


@SLOW
@given(st.floats(0.0, 0.95), seeds)
def test_dropout_mask_drops_the_requested_fraction(p, seed):
    mask = np.empty((100, 100))
    M.dropout_mask(mask, p, M.seed_state(seed, 0))
    assert set(np.unique(mask)) <= {0.0, 1.0 / (1.0 - p)}
    dropped = (mask == 0.0).mean()
    assert _within(dropped, p, np.sqrt(p * (1 - p)), mask.size)
    assert _within(mask.mean(), 1.0, np.sqrt(p / (1 - p)), mask.size)  # E[m] = 1


@SLOW
@given(st.floats(0.0, 0.95), st.integers(1, 8), st.integers(1, 5), seeds)
def test_spatial_dropout_mask_drops_whole_channels_at_the_requested_rate(p, channels, rest, seed):
    rows = 2000 // channels
    mask = np.empty((rows, channels * rest))
    M.spatial_dropout_mask(mask, channels, p, M.seed_state(seed, 1))
    per_channel = mask.reshape(rows, channels, rest)
    assert np.all(per_channel == per_channel[:, :, :1])  # a channel is kept or dropped whole
    dropped = (per_channel[:, :, 0] == 0.0).mean()
    assert _within(dropped, p, np.sqrt(p * (1 - p)), rows * channels)


@st.composite
def layouts(draw):
    """(shape, block): 1 to 3 axes of 1..7 positions, a block edge in [1, n] per axis."""
    shape = draw(st.lists(st.integers(1, 7), min_size=1, max_size=3))
    block = [draw(st.integers(1, n)) for n in shape]
    return np.array(shape, dtype=np.int64), np.array(block, dtype=np.int64)


def _coverage(shape, block):
    """c(pos): the number of valid seeds whose block covers each position, by numpy."""
    counts = [
        np.array([min(i, n - b) - max(0, i - b + 1) + 1 for i in range(n)])
        for n, b in zip(shape, block)
    ]
    c = counts[0]
    for k in counts[1:]:
        c = np.multiply.outer(c, k)
    return c.ravel()


def _drop_fraction(gamma, shape, block):
    """E[share dropped] = mean_pos 1 − (1 − γ)^c(pos), computed as −expm1(c·log1p(−γ))."""
    return np.mean(-np.expm1(_coverage(shape, block) * np.log1p(-gamma)))


@FAST
@given(layouts(), st.floats(0.01, 0.9))
def test_dropblock_exact_gamma_solves_the_expected_drop_fraction(layout, rate):
    shape, block = layout
    gamma = M.dropblock_gamma_exact(rate, shape, block)
    expected = _drop_fraction(gamma, shape, block)
    assume(gamma < 1.0)  # a rate above what one full seed layer can reach saturates γ at 1
    assert 0.0 < gamma
    assert expected == pytest.approx(rate, abs=1e-9)


@FAST
@given(layouts(), st.one_of(st.just(0.0), st.floats(1e-9, 0.9)))  # exact γ solves to |f| < 1e-13
def test_dropblock_paper_gamma_is_the_formula_and_never_overshoots_the_rate(layout, rate):
    """γ = rate / Π b · Π n / (n − b + 1); E[drop] ≤ rate by the union bound."""
    shape, block = layout
    gamma = M.dropblock_gamma(rate, shape, block)
    formula = rate / np.prod(block) * np.prod(shape / (shape - block + 1.0))
    assert gamma == pytest.approx(min(formula, 1.0), rel=1e-12)
    if formula < 1.0:
        expected = _drop_fraction(gamma, shape, block)
        assert expected <= rate * (1 + 1e-12)
        assert gamma <= M.dropblock_gamma_exact(rate, shape, block) * (1 + 1e-9) or rate == 0


@FAST
@given(layouts())
def test_dropblock_exact_gamma_is_zero_and_one_at_the_ends(layout):
    shape, block = layout
    assert M.dropblock_gamma_exact(0.0, shape, block) == 0.0
    assert M.dropblock_gamma_exact(1.0, shape, block) == 1.0


def test_mask_kernels_reject_malformed_layouts_with_value_error():
    state = M.seed_state(0, 0)
    with pytest.raises(ValueError, match="1, 2 or 3 axes"):
        M.dropblock_mask(
            np.empty((2, 16)), np.array([2, 2, 2, 2]), np.array([1, 1, 1, 1]), 0.1, state
        )
    with pytest.raises(ValueError, match="prod\\(feature_shape\\) columns"):
        M.dropblock_mask(np.empty((2, 15)), np.array([4, 4]), np.array([2, 2]), 0.1, state)
    with pytest.raises(ValueError, match="multiple of n_channels"):
        M.spatial_dropout_mask(np.empty((2, 15)), 4, 0.1, state)


@SLOW
@given(layouts(), st.floats(0.05, 0.8), seeds)
def test_dropblock_mask_drops_the_requested_fraction(layout, rate, seed):
    shape, block = layout
    assume(M.dropblock_gamma_exact(rate, shape, block) < 1.0)
    rows = 400
    mask = np.empty((rows, int(np.prod(shape))))
    M.dropblock_mask(mask, shape, block, rate, M.seed_state(seed, 2), True)
    per_row = (mask == 0.0).mean(axis=1)
    assert _within(per_row.mean(), rate, max(per_row.std(), 1e-3), rows)
    kept = per_row < 1.0
    np.testing.assert_allclose(mask[kept].sum(axis=1), mask.shape[1])  # mass preserved


@FAST
@given(st.integers(0, 300), seeds)
def test_permute_is_a_permutation(n, seed):
    idx = np.arange(n)
    M.permute(idx, M.seed_state(seed, 3))
    np.testing.assert_array_equal(np.sort(idx), np.arange(n))


# ---------------------------------------------------------------------------
# ∇J of objective_grad against central finite differences
# ---------------------------------------------------------------------------

ACTIVATIONS = [K.IDENTITY, K.LOGISTIC, K.TANH, K.RELU]
LOSSES = [K.SQUARED_ERROR, K.POISSON, K.BINARY_LOG_LOSS, K.MULTINOMIAL_LOG_LOSS]


@st.composite
def problems(draw):
    rng = np.random.default_rng(draw(seeds))
    n = draw(st.integers(1, 5))
    n_features = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 4), max_size=2))
    activation = draw(st.sampled_from(ACTIVATIONS))
    loss = draw(st.sampled_from(LOSSES))
    n_out = 3 if loss == K.MULTINOMIAL_LOG_LOSS else draw(st.integers(1, 2))
    X = rng.normal(size=(n, n_features))
    X[rng.random(X.shape) < 0.3] = 0.0  # some structural zeros for CSR
    if loss == K.MULTINOMIAL_LOG_LOSS:
        Y = np.eye(n_out)[rng.integers(n_out, size=n)]
    elif loss == K.BINARY_LOG_LOSS:
        Y = rng.integers(2, size=(n, n_out)).astype(float)
    elif loss == K.POISSON:
        Y = rng.poisson(1.0, size=(n, n_out)).astype(float)
    else:
        Y = rng.normal(size=(n, n_out))
    sw = rng.uniform(0.1, 2.0, size=n)
    units = np.array([n_features, *hidden, n_out], dtype=np.int64)
    n_params = int(sum(a * b + b for a, b in zip(units[:-1], units[1:])))
    params = rng.normal(scale=0.7, size=n_params)
    alpha = draw(st.sampled_from([0.0, 1e-3, 0.5]))
    return X, Y, sw, units, params, activation, loss, alpha


def _objective(X, Y, sw, units, params, activation, loss, alpha, sparse=False):
    dtype = params.dtype
    Xin = sp.csr_matrix(X.astype(dtype)) if sparse else X.astype(dtype)
    grad = np.empty_like(params)
    J = K.objective_grad(
        data_record(Xin, dtype),
        Y.astype(dtype),
        sw.astype(dtype),
        params,
        Network(units, activation, loss),
        Regularization(l2=alpha),
        grad,
    )
    return J, grad


def _pre_activations(X, units, params):
    """z of each hidden layer, by numpy (to keep finite differences off relu's kink)."""
    n_w = int(sum(a * b for a, b in zip(units[:-1], units[1:])))
    w, b, a, zs = 0, n_w, X, []
    for fan_in, fan_out in zip(units[:-2], units[1:-1]):
        W = params[w : w + fan_in * fan_out].reshape(fan_in, fan_out)
        z = a @ W + params[b : b + fan_out]
        zs.append(z)
        a = np.maximum(z, 0.0)
        w += fan_in * fan_out
        b += fan_out
    return zs


@settings(max_examples=25, deadline=None, database=None)
@given(problems(), st.sampled_from([np.float64, np.float32]), st.booleans())
def test_objective_grad_matches_central_differences(problem, dtype, sparse):
    X, Y, sw, units, params, activation, loss, alpha = problem
    if activation == K.RELU:
        assume(all(np.abs(z).min() > 1e-3 for z in _pre_activations(X, units, params)))
    params = params.astype(dtype).astype(np.float64)  # a point both dtypes represent
    J, grad = _objective(X, Y, sw, units, params.astype(dtype), activation, loss, alpha, sparse)
    assert grad.dtype == dtype and np.isfinite(J) and np.isfinite(grad).all()
    h = 1e-6
    numeric = np.empty_like(params)
    for i in range(params.size):
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (
            _objective(X, Y, sw, units, up, activation, loss, alpha)[0]
            - _objective(X, Y, sw, units, down, activation, loss, alpha)[0]
        ) / (2 * h)
    scale = max(1.0, np.abs(numeric).max())
    tol = 1e-6 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(grad, numeric, rtol=tol, atol=tol * scale)
    J64 = _objective(X, Y, sw, units, params, activation, loss, alpha)[0]
    assert J == pytest.approx(J64, rel=tol)
