"""Mask kernels of dropout, DropBlock and spatial dropout, as specifications.

The statistical tests draw many masks from fixed seeds, so they are deterministic; the
tolerances are set several standard errors above the Monte Carlo noise of the draws.
"""

import itertools

import numpy as np
import pytest

from sklearn_reg._masks import (
    dropblock_gamma,
    dropblock_gamma_exact,
    dropblock_mask,
    dropout_mask,
    seed_state,
    spatial_dropout_mask,
)

RATES = [0.1, 0.3]

# (feature_shape, block) per axis; 1-D, square 2-D (odd and even b), non-square 2-D, 3-D
DROPBLOCK_CONFIGS = [
    ((64,), (1,)),
    ((64,), (3,)),
    ((64,), (4,)),
    ((8, 8), (3, 3)),
    ((8, 8), (2, 2)),
    ((6, 10), (3, 3)),
    ((2, 8, 8), (1, 3, 3)),
]


def _ids(configs):
    return ["x".join(map(str, s)) + "_b" + "x".join(map(str, b)) for s, b in configs]


def _i64(t):
    return np.asarray(t, dtype=np.int64)


def _dropblock(shape, block, rate, n_rows, seed=0, stream=0, exact=True, per_feature=False):
    mask = np.empty((n_rows, int(np.prod(shape))))
    dropblock_mask(
        mask,
        _i64(shape),
        _i64(block),
        rate,
        seed_state(seed, stream),
        exact=exact,
        per_feature=per_feature,
    )
    return mask


def _coverage(shape, block):
    """c(pos): number of valid seeds (blocks anchored at them fit) whose block covers pos."""
    c = np.ones((), dtype=np.int64)
    for n, b in zip(shape, block):
        i = np.arange(n)
        c_k = np.minimum(i, n - b) - np.maximum(0, i - b + 1) + 1
        c = np.multiply.outer(c, c_k)
    return c


def _expected_drop_fraction(gamma, shape, block):
    """mean over positions of P(pos dropped) = 1 − (1 − γ)^c(pos)."""
    return np.mean(1.0 - (1.0 - gamma) ** _coverage(shape, block))


# --- drop fraction ---------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_dropout_drops_requested_fraction_and_scales_survivors(rate):
    mask = np.empty((20000, 64))
    dropout_mask(mask, rate, seed_state(0, 0))
    assert abs(np.mean(mask == 0.0) - rate) < 0.01
    np.testing.assert_allclose(mask[mask != 0.0], 1.0 / (1.0 - rate))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("shape, block", DROPBLOCK_CONFIGS, ids=_ids(DROPBLOCK_CONFIGS))
def test_dropblock_exact_gamma_drops_requested_fraction(shape, block, rate):
    mask = _dropblock(shape, block, rate, n_rows=20000, exact=True)
    assert abs(np.mean(mask == 0.0) - rate) < 0.01


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("shape, block", DROPBLOCK_CONFIGS, ids=_ids(DROPBLOCK_CONFIGS))
def test_dropblock_paper_gamma_drops_its_expected_fraction(shape, block, rate):
    # The contract's γ counts b^d drops per seed; overlaps and edge positions covered
    # by fewer seeds make the realised fraction 1 − mean (1 − γ)^c(pos) ≤ rate.
    gamma = dropblock_gamma(rate, _i64(shape), _i64(block))
    expected = _expected_drop_fraction(gamma, shape, block)
    assert expected <= rate + 1e-12
    mask = _dropblock(shape, block, rate, n_rows=20000, exact=False)
    assert abs(np.mean(mask == 0.0) - expected) < 0.01


@pytest.mark.parametrize("rate", RATES)
def test_spatial_dropout_drops_requested_fraction_of_whole_channels(rate):
    n_channels, length = 4, 16
    mask = np.empty((20000, n_channels * length))
    spatial_dropout_mask(mask, n_channels, rate, seed_state(0, 0))
    assert abs(np.mean(mask == 0.0) - rate) < 0.01
    per_channel = mask.reshape(-1, n_channels, length)
    # each (row, channel) is constant: 0 or 1 / (1 − p)
    assert np.all(per_channel == per_channel[:, :, :1])
    assert set(np.unique(mask)) <= {0.0, 1.0 / (1.0 - rate)}


# --- γ ---------------------------------------------------------------------


def test_dropblock_gamma_is_the_contract_formula():
    # γ = rate / Π b_k · Π n_k / (n_k − b_k + 1)
    assert dropblock_gamma(0.1, _i64((8, 8)), _i64((3, 3))) == pytest.approx(0.1 / 9 * (8 / 6) ** 2)
    assert dropblock_gamma(0.3, _i64((6, 10)), _i64((3, 3))) == pytest.approx(
        0.3 / 9 * 6 / 4 * 10 / 8
    )
    assert dropblock_gamma(0.2, _i64((64,)), _i64((1,))) == pytest.approx(0.2)
    # clamped to [0, 1]; a block larger than the map is clipped to the map
    assert dropblock_gamma(1.5, _i64((4,)), _i64((1,))) == 1.0
    assert dropblock_gamma(-0.1, _i64((4,)), _i64((2,))) == 0.0
    assert dropblock_gamma(0.3, _i64((3,)), _i64((7,))) == pytest.approx(0.3)


@pytest.mark.parametrize("rate", [0.05, 0.3, 0.7])
@pytest.mark.parametrize("shape, block", DROPBLOCK_CONFIGS, ids=_ids(DROPBLOCK_CONFIGS))
def test_dropblock_gamma_exact_inverts_the_expected_drop_fraction(shape, block, rate):
    gamma = dropblock_gamma_exact(rate, _i64(shape), _i64(block))
    assert 0.0 < gamma < 1.0
    assert _expected_drop_fraction(gamma, shape, block) == pytest.approx(rate, abs=1e-10)


def test_dropblock_gamma_exact_is_rate_when_blocks_are_single_positions():
    for rate in [0.1, 0.3, 1 / 3]:
        assert dropblock_gamma_exact(rate, _i64((8, 8)), _i64((1, 1))) == rate


# --- structure of the mask -------------------------------------------------


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("shape, block", DROPBLOCK_CONFIGS, ids=_ids(DROPBLOCK_CONFIGS))
def test_dropblock_zeros_are_a_union_of_whole_blocks_inside_the_map(shape, block, exact):
    mask = _dropblock(shape, block, 0.3, n_rows=300, exact=exact)
    valid = [range(n - b + 1) for n, b in zip(shape, block)]
    for row in mask.reshape((-1,) + shape):
        zero = row == 0.0
        covered = np.zeros_like(zero)
        for seed in itertools.product(*valid):
            window = tuple(slice(s, s + b) for s, b in zip(seed, block))
            if zero[window].all():
                covered[window] = True
        assert np.array_equal(covered, zero)
    assert np.any(mask == 0.0) and np.any(mask != 0.0)


@pytest.mark.parametrize("shape, block", DROPBLOCK_CONFIGS, ids=_ids(DROPBLOCK_CONFIGS))
def test_dropblock_rescales_kept_entries_by_count_over_count_ones(shape, block):
    mask = _dropblock(shape, block, 0.3, n_rows=2000)
    n = mask.shape[1]
    for row in mask:
        kept = row != 0.0
        if kept.any():
            np.testing.assert_allclose(row[kept], n / kept.sum(), rtol=1e-12)
            # hence the row's total mass is preserved exactly
            assert row.sum() == pytest.approx(n, rel=1e-12)


def test_dropblock_with_unit_blocks_is_iid_dropout_from_the_same_draws():
    shape, block, rate = (8, 8), (1, 1), 0.3
    for exact in (True, False):
        mask = _dropblock(shape, block, rate, n_rows=500, seed=3, stream=7, exact=exact)
        reference = np.empty_like(mask)
        dropout_mask(reference, rate, seed_state(3, 7))
        assert np.array_equal(mask == 0.0, reference == 0.0)


def test_dropblock_with_channel_blocks_is_spatial_dropout_from_the_same_draws():
    shape, block, rate = (3, 4, 5), (1, 4, 5), 0.3
    mask = _dropblock(shape, block, rate, n_rows=500, seed=3, stream=7)
    reference = np.empty_like(mask)
    spatial_dropout_mask(reference, 3, rate, seed_state(3, 7))
    assert np.array_equal(mask == 0.0, reference == 0.0)


def test_dropblock_block_larger_than_the_map_is_clipped_not_an_error():
    clipped = _dropblock((3, 5), (9, 2), 0.3, n_rows=200, seed=1)
    fitting = _dropblock((3, 5), (3, 2), 0.3, n_rows=200, seed=1)
    np.testing.assert_array_equal(clipped, fitting)


def test_dropblock_keep_probability_is_one_minus_gamma_to_the_coverage():
    # P(pos kept) = (1 − γ)^c(pos): edge positions, covered by fewer valid seeds, are
    # kept more often than the centre, so after the per-row count/count_ones scaling
    # the per-feature mean of the mask is > 1 at the edges and < 1 in the centre;
    # only the row's total mass is preserved (see the rescaling test).
    shape, block = (8, 8), (3, 3)
    gamma = dropblock_gamma_exact(0.3, _i64(shape), _i64(block))
    kept = _dropblock(shape, block, 0.3, n_rows=40000) != 0.0
    expected = (1.0 - gamma) ** _coverage(shape, block).ravel()
    np.testing.assert_allclose(kept.mean(axis=0), expected, atol=0.01)


@pytest.mark.parametrize("shape, block", [((8, 8), (3, 3)), ((20,), (4,)), ((2, 5, 5), (1, 2, 2))])
def test_dropblock_per_feature_scaling_is_unbiased_for_every_feature(shape, block):
    # exact inverted DropBlock: each kept feature is divided by its own P(kept) =
    # (1 − γ)^c(pos), so E[m_j] = 1 for every feature j, edges and centre alike
    gamma = dropblock_gamma_exact(0.3, _i64(shape), _i64(block))
    mask = _dropblock(shape, block, 0.3, n_rows=40000, per_feature=True)
    keep = (1.0 - gamma) ** _coverage(shape, block).ravel()
    kept = mask != 0.0
    np.testing.assert_allclose(
        mask[kept], np.broadcast_to(1.0 / keep, mask.shape)[kept], rtol=1e-12
    )
    se = np.sqrt((1.0 - keep) / keep / mask.shape[0])  # std error of each feature's mean
    assert np.all(np.abs(mask.mean(axis=0) - 1.0) < 5 * se + 1e-12)
    # the drop pattern is the per-sample one, from the same draws: only the scale differs
    np.testing.assert_array_equal(kept, _dropblock(shape, block, 0.3, n_rows=40000) != 0.0)


@pytest.mark.parametrize(
    "shape, block, rate", [((1, 1), (1, 1), 0.999), ((2, 2), (2, 2), 0.99), ((3,), (5,), 0.95)]
)
def test_dropblock_all_dropped_rows_are_zero_not_nan(shape, block, rate):
    for exact in (True, False):
        mask = _dropblock(shape, block, rate, n_rows=200, exact=exact)
        assert np.all(np.isfinite(mask))
        all_dropped = (mask == 0.0).all(axis=1)
        assert all_dropped.sum() > 100


def test_spatial_dropout_everything_dropped_is_zero_not_nan():
    mask = np.empty((50, 8))
    spatial_dropout_mask(mask, 2, 1.0, seed_state(0, 0))
    assert np.array_equal(mask, np.zeros_like(mask))


# --- expectation -----------------------------------------------------------


def _mean_of_masked_layer(mask, x, W):
    """mean over masks of (x ⊙ m) @ W, vs x @ W, relative to ‖x @ W‖."""
    estimate = ((x * mask) @ W).mean(axis=0)
    exact = x @ W
    return np.linalg.norm(estimate - exact) / np.linalg.norm(exact)


def _mask_of(kind, n_rows):
    shape = (4, 4, 4)  # 4 channels of 4×4 = 64 features
    mask = np.empty((n_rows, 64))
    state = seed_state(11, 0)
    if kind == "dropout":
        dropout_mask(mask, 0.3, state)
    elif kind == "spatial_dropout":
        spatial_dropout_mask(mask, 4, 0.3, state)
    elif kind == "dropblock_unit_blocks":
        dropblock_mask(mask, _i64(shape), _i64((1, 1, 1)), 0.3, state, True)
    elif kind == "dropblock_channel_blocks":
        dropblock_mask(mask, _i64(shape), _i64((1, 4, 4)), 0.3, state, True)
    return mask


@pytest.mark.parametrize(
    "kind", ["dropout", "spatial_dropout", "dropblock_unit_blocks", "dropblock_channel_blocks"]
)
def test_masked_linear_layer_is_unbiased(kind):
    # E[m_j] = 1 per feature when every feature is covered alike (i.i.d. or whole
    # channels); with 40000 masks the Monte Carlo error is ≈ 0.002 of ‖x @ W‖
    # (and 1 − rate^C ≈ 0.008 of the mass is lost to all-dropped rows for channels).
    rng = np.random.default_rng(0)
    x = rng.random(64)
    W = rng.standard_normal((64, 5))
    assert _mean_of_masked_layer(_mask_of(kind, 40000), x, W) < 0.02


def test_dropblock_masked_linear_layer_preserves_mass():
    # Σ_j m_j = n per kept row, so a layer with identical weight rows (W_j = w)
    # sees (1 ⊙ m) @ W = n·w on every such row, whatever the blocks.
    shape, block = (8, 8), (3, 3)
    mask = _dropblock(shape, block, 0.3, n_rows=5000)
    w = np.random.default_rng(1).standard_normal(3)
    W = np.tile(w, (64, 1))
    out = mask @ W
    kept_rows = (mask != 0.0).any(axis=1)
    np.testing.assert_allclose(out[kept_rows], np.tile(64 * w, (kept_rows.sum(), 1)), rtol=1e-10)


# --- determinism -----------------------------------------------------------


def _draw(kind, seed, stream):
    mask = np.empty((40, 64))
    state = seed_state(seed, stream)
    if kind == "dropout":
        dropout_mask(mask, 0.3, state)
    elif kind == "spatial_dropout":
        spatial_dropout_mask(mask, 4, 0.3, state)
    else:
        dropblock_mask(mask, _i64((8, 8)), _i64((3, 3)), 0.3, state, kind == "dropblock_exact")
    return mask


KINDS = ["dropout", "spatial_dropout", "dropblock_exact", "dropblock_paper"]


@pytest.mark.parametrize("kind", KINDS)
def test_masks_are_a_function_of_seed_and_stream(kind):
    np.testing.assert_array_equal(_draw(kind, 5, 2), _draw(kind, 5, 2))
    assert not np.array_equal(_draw(kind, 5, 2), _draw(kind, 5, 3))  # next epoch
    assert not np.array_equal(_draw(kind, 5, 2), _draw(kind, 6, 2))  # other seed


def test_consecutive_masks_from_one_state_differ():
    state = seed_state(0, 0)
    a = np.empty((40, 64))
    b = np.empty((40, 64))
    dropblock_mask(a, _i64((8, 8)), _i64((2, 2)), 0.3, state, True)
    dropblock_mask(b, _i64((8, 8)), _i64((2, 2)), 0.3, state, True)
    assert not np.array_equal(a, b)
