"""Random masks of the stochastic regularizers, from an explicit RNG state.

The state is a ``uint64`` array of length 1 advanced by SplitMix64, created per epoch
from the estimator's seed by :func:`seed_state`; numba's global ``np.random`` (thread
local, shared by every estimator of a thread) is never used.
"""

import numpy as np

from ._jit import helper, jit


@helper
def splitmix64(state):
    """x ← x + 0x9E3779B97F4A7C15; return mix(x) (Steele, Lea & Flood's SplitMix64)."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@helper
def uniform(state):
    """u = (top 53 bits of the next draw) / 2^53, uniform on [0, 1)."""
    return np.float64(splitmix64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@jit
def seed_state(seed, stream):
    """State of stream ``stream`` (e.g. the epoch) of generator ``seed``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed) ^ (np.uint64(stream) * np.uint64(0xD1B54A32D192ED03))
    splitmix64(state)
    return state


@jit
def permute(idx, state):
    """Fisher–Yates shuffle of ``idx`` in place."""
    for i in range(idx.shape[0] - 1, 0, -1):
        j = np.int64(uniform(state) * (i + 1))
        idx[i], idx[j] = idx[j], idx[i]


@jit
def dropout_mask(mask, p, state):
    """m = 0 with probability p, else 1 / (1 − p) (inverted dropout)."""
    scale = 1.0 / (1.0 - p)
    for r in range(mask.shape[0]):
        for c in range(mask.shape[1]):
            mask[r, c] = 0.0 if uniform(state) < p else scale


# ---------------------------------------------------------------------------
# DropBlock (Ghiasi, Lin & Le, NeurIPS 2018) and spatial dropout (Tompson et al., 2015)
#
# ``shape`` / ``block`` are int64 arrays of d = 1, 2 or 3 axes. Internally they are
# padded on the left to 3 axes with n = b = 1 (a 1-axis of one position changes no
# index, no count and no γ), so one triple loop serves every d. A block edge is clipped
# to [1, n_k] per axis: a block larger than the map covers the whole axis instead of
# raising an IndexError (the estimator validates ``block_size`` as well).
# ---------------------------------------------------------------------------


@helper
def _shape3(shape, block):
    """(n₀, n₁, n₂, b₀, b₁, b₂): map and block edges padded to 3 axes, b_k ∈ [1, n_k]."""
    if shape.shape[0] > 3 or block.shape[0] > 3:
        raise ValueError("feature_shape must have 1, 2 or 3 axes")
    n = np.ones(3, dtype=np.int64)
    b = np.ones(3, dtype=np.int64)
    for k in range(shape.shape[0]):
        n[3 - shape.shape[0] + k] = max(1, shape[k])
    for k in range(block.shape[0]):
        j = 3 - block.shape[0] + k
        b[j] = max(1, min(block[k], n[j]))
    return n[0], n[1], n[2], b[0], b[1], b[2]


@jit
def dropblock_gamma(rate, shape, block):
    """γ = rate / Π_k b_k · Π_k n_k / (n_k − b_k + 1), clamped to [0, 1] (the paper's γ).

    The DropBlock paper's formula. It counts every seed as b^d dropped
    positions, ignoring that blocks overlap and that edge positions are covered by
    fewer seeds, so the realised drop fraction is *below* ``rate`` (0.095 for 0.1 and
    0.256 for 0.3 with b = 3 on an 8×8 map); :func:`dropblock_gamma_exact` hits it.
    """
    n0, n1, n2, b0, b1, b2 = _shape3(shape, block)
    g = rate / (b0 * b1 * b2)
    g *= n0 / (n0 - b0 + 1.0) * n1 / (n1 - b1 + 1.0) * n2 / (n2 - b2 + 1.0)
    return min(max(g, 0.0), 1.0)


@helper
def _seeds_covering(i, n, b):
    """c_k(i) = #{valid seeds s ∈ [0, n − b] : s ≤ i ≤ s + b − 1} along one axis."""
    return min(i, n - b) - max(0, i - b + 1) + 1


@jit
def coverage(n0, n1, n2, b0, b1, b2):
    """c(pos) = Π_k c_k(i_k), the number of valid seeds whose block covers pos, in C order."""
    c = np.empty(n0 * n1 * n2, dtype=np.int64)
    for i0 in range(n0):
        c0 = _seeds_covering(i0, n0, b0)
        for i1 in range(n1):
            c1 = _seeds_covering(i1, n1, b1)
            for i2 in range(n2):
                c[(i0 * n1 + i1) * n2 + i2] = c0 * c1 * _seeds_covering(i2, n2, b2)
    return c


@jit
def dropblock_gamma_exact(rate, shape, block):
    """γ solving mean_pos [1 − (1 − γ)^c(pos)] = rate, c(pos) = Π_k c_k(i_k) seeds covering pos.

    P(pos kept) = (1 − γ)^c(pos) exactly (seeds are independent), so with this γ the
    expected drop fraction equals ``rate`` exactly, overlaps and edges included. The
    left side f(γ) is increasing and concave on [0, 1] with f(0) = 0 and f(1) = 1, so
    Newton's method started at γ = 0 climbs monotonically to the root; a bisection
    bracket guards it anyway. Costs a few passes over the n positions' coverage.
    b = 1 everywhere returns ``rate`` itself (bitwise), as i.i.d. dropout.
    """
    n0, n1, n2, b0, b1, b2 = _shape3(shape, block)
    if rate <= 0.0:
        return 0.0
    if rate >= 1.0:
        return 1.0
    if b0 * b1 * b2 == 1:
        return rate
    counts = coverage(n0, n1, n2, b0, b1, b2)
    n_pos = counts.shape[0]
    lo = 0.0
    hi = 1.0
    g = 0.0
    for _ in range(100):
        # f(γ) − rate and f'(γ) with 1 − (1 − γ)^c = −expm1(c·log1p(−γ)) for accuracy
        lg = np.log1p(-g) if g < 1.0 else -np.inf
        f = 0.0
        df = 0.0
        for p in range(n_pos):
            c = counts[p]
            kept = np.exp(c * lg)  # (1 − γ)^c
            f -= np.expm1(c * lg)
            df += c * kept / (1.0 - g) if g < 1.0 else 0.0
        f = f / n_pos - rate
        df /= n_pos
        if f > 0.0:
            hi = g
        else:
            lo = g
        if abs(f) < 1e-13:
            break
        step = g - f / df if df > 0.0 else -1.0
        g = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-15:
            break
    return min(max(g, 0.0), 1.0)


@helper
def keep_scale(n0, n1, n2, b0, b1, b2, gamma):
    """1 / P(pos kept) = (1 − γ)^−c(pos) for every position of the map, in C order."""
    counts = coverage(n0, n1, n2, b0, b1, b2)
    scale = np.empty(counts.shape[0])
    lg = np.log1p(-gamma) if gamma < 1.0 else -np.inf
    for p in range(counts.shape[0]):
        kept = np.exp(counts[p] * lg)
        scale[p] = 1.0 / kept if kept > 0.0 else 0.0
    return scale


@jit
def dropblock_mask(mask, shape, block, rate, state, exact=False, per_feature=False):
    """m = 0 on b₁×…×b_d blocks seeded with probability γ, else a scale: per row or per feature.

    ``mask`` is (n_rows, Π shape), each row the C-order flattening of ``shape``. Per
    row: every valid seed position s (s_k ≤ n_k − b_k on each axis, so the blocks fit)
    is drawn with probability γ, in C order of s, one ``uniform`` per valid position;
    a seed zeroes the block [s₀, s₀ + b₀) × … anchored at its *corner* (not centred),
    hence blocks always lie fully inside the map. Kept entries of the row are then set
    to n / (number kept); a row with everything dropped stays all zeros (no NaN).
    γ is :func:`dropblock_gamma` (``exact=False``, the paper's formula, which undershoots the
    rate) or :func:`dropblock_gamma_exact` (``exact=True``, hits the rate in
    expectation). Block edges are clipped to the map. With b = 1 this draws exactly
    the zeros of :func:`dropout_mask` from the same state (γ = rate, same uniforms),
    only the scale differs (per-row count/count_ones instead of 1 / (1 − p)).
    Σ_j m_j = n on every row that keeps something: the row's total mass is preserved.
    With ``per_feature=True`` the kept entries are instead scaled by 1 / P(keep) =
    1 / (1 − γ)^c(pos) (exact inverted DropBlock): E[m_j] = 1 for every feature j,
    edges included, as inverted dropout guarantees per unit.
    """
    n0, n1, n2, b0, b1, b2 = _shape3(shape, block)
    n = n0 * n1 * n2
    if mask.shape[1] != n:
        raise ValueError("mask has not prod(feature_shape) columns")
    g = dropblock_gamma_exact(rate, shape, block) if exact else dropblock_gamma(rate, shape, block)
    s0 = n1 * n2  # C-order strides of the padded map
    s1 = n2
    inv_keep = keep_scale(n0, n1, n2, b0, b1, b2, g) if per_feature else np.ones(0)
    for r in range(mask.shape[0]):
        row = mask[r]
        for c in range(n):
            row[c] = 1.0
        # seeds over the valid region, each zeroing the block anchored at it
        for i0 in range(n0 - b0 + 1):
            for i1 in range(n1 - b1 + 1):
                for i2 in range(n2 - b2 + 1):
                    if uniform(state) < g:
                        for j0 in range(i0, i0 + b0):
                            for j1 in range(i1, i1 + b1):
                                start = j0 * s0 + j1 * s1 + i2
                                for c in range(start, start + b2):
                                    row[c] = 0.0
        if per_feature:
            for c in range(n):
                row[c] *= inv_keep[c]
        else:
            kept = 0
            for c in range(n):
                if row[c] != 0.0:
                    kept += 1
            scale = n / kept if kept > 0 else 0.0
            for c in range(n):
                row[c] *= scale


@jit
def spatial_dropout_mask(mask, n_channels, p, state):
    """m[:, c, …] = 0 with probability p per (row, channel) c, else 1 / (1 − p).

    ``mask`` is (n_rows, C·rest) with the features channel-major, i.e. the C-order
    flattening of (C, …): channel c owns columns [c·rest, (c + 1)·rest). One
    ``uniform`` per (row, channel), in row-major order.
    """
    n_cols = mask.shape[1]
    if n_channels < 1 or n_cols % n_channels != 0:
        raise ValueError("the number of features is not a multiple of n_channels")
    rest = n_cols // n_channels
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    for r in range(mask.shape[0]):
        for c in range(n_channels):
            v = 0.0 if uniform(state) < p else scale
            for k in range(c * rest, (c + 1) * rest):
                mask[r, k] = v
