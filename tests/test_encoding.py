"""PiecewiseLinearEncoder: the encoding of Gorishniy et al. (2022), eq. 1."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_reg import PiecewiseLinearEncoder, RegularizedMLPRegressor, RegularizedMLPRegressorCV


@parametrize_with_checks([PiecewiseLinearEncoder()])
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


def _data(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.standard_normal(n), rng.exponential(size=n), rng.integers(0, 2, n), np.ones(n)]
    )


def test_edges_are_the_training_quantiles_and_ties_collapse_bins():
    X = _data()
    encoder = PiecewiseLinearEncoder(n_bins=4).fit(X)
    np.testing.assert_array_equal(
        encoder.bin_edges_[0], np.quantile(X[:, 0], [0, 0.25, 0.5, 0.75, 1])
    )
    few = np.repeat([[0.0], [1.0], [2.0]], [10, 1, 10], axis=0)  # 3 values, 8 bins asked
    np.testing.assert_array_equal(
        PiecewiseLinearEncoder(n_bins=8).fit(few).bin_edges_[0], [0, 1, 2]
    )


def test_within_the_edges_every_ramp_is_in_0_1_and_all_below_a_bin_are_full():
    X = _data()
    encoder = PiecewiseLinearEncoder(n_bins=8).fit(X)
    Z = encoder.transform(X)[:, encoder.feature_index_ == 0]
    assert Z.shape == (len(X), 8)
    assert Z.min() >= 0.0 and Z.max() <= 1.0
    # a row is 1 … 1, r, 0 … 0 with r in [0, 1]: the ramps never increase along a row
    assert (np.diff(Z, axis=1) <= 0).all()


@pytest.mark.parametrize("x", [-10.0, -1.3, 0.0, 0.42, 2.5, 50.0])
def test_the_encoding_is_linear_in_x_and_gives_x_back_inside_and_outside_the_range(x):
    # b_0 + Σ_t (b_t − b_{t−1}) e_t = x: e_1 is not clipped below, e_T not above
    encoder = PiecewiseLinearEncoder(n_bins=6).fit(_data())
    edges = encoder.bin_edges_[0]
    row = np.array([[x, 1.0, 0.0, 1.0]])
    e = encoder.transform(row)[0, encoder.feature_index_ == 0]
    assert edges[0] + np.diff(edges) @ e == pytest.approx(x)


def test_columns_with_few_distinct_values_pass_through_and_map_back_to_their_feature():
    X = _data()
    encoder = PiecewiseLinearEncoder(n_bins=5).fit(X)
    assert encoder.bin_edges_[2] is None and encoder.bin_edges_[3] is None
    np.testing.assert_array_equal(encoder.feature_index_, [0] * 5 + [1] * 5 + [2, 3])
    Z = encoder.transform(X)
    np.testing.assert_array_equal(Z[:, -2:], X[:, 2:])
    names = encoder.get_feature_names_out(["a", "b", "c", "d"])
    assert names.tolist() == [f"a_bin{t}" for t in range(5)] + [f"b_bin{t}" for t in range(5)] + [
        "c",
        "d",
    ]


def test_missing_values_are_refused_with_a_clear_error():
    X = _data()
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        PiecewiseLinearEncoder().fit(X)


def test_a_linear_model_on_the_encoding_bends_at_the_edges_and_so_does_the_mlp():
    # y = |x| is piecewise linear: linear in the ramps, not in x
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (400, 1))
    y = np.abs(x).ravel()
    assert LinearRegression().fit(x, y).score(x, y) < 0.01
    linear = make_pipeline(PiecewiseLinearEncoder(n_bins=8), LinearRegression()).fit(x, y)
    assert linear.score(x, y) > 0.99
    mlp = make_pipeline(PiecewiseLinearEncoder(n_bins=8), RegularizedMLPRegressor(random_state=0))
    assert mlp.fit(x, y).score(x, y) > 0.95


def test_with_feature_groups_the_group_penalty_keeps_or_removes_each_encoded_input_whole():
    """Friedman #1 with 5 noise inputs, 4 bins each: grouped by ``feature_index_``, the
    CV estimator (adaptive group lasso) keeps exactly the bins of the 5 informative
    inputs."""
    X, y = make_friedman1(n_samples=400, n_features=10, noise=0.5, random_state=0)
    encoder = PiecewiseLinearEncoder(n_bins=4).fit(X)
    Z, index = encoder.transform(X), encoder.feature_index_
    net = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, cv=3)
    model = RegularizedMLPRegressorCV(
        penalty="group", feature_groups=index, random_state=0, **net
    ).fit(Z, (y - y.mean()) / y.std())
    kept = np.any(model.coefs_[0] != 0.0, axis=1)
    for j in range(10):
        assert kept[index == j].all() or not kept[index == j].any(), f"input {j} split"
    np.testing.assert_array_equal(np.unique(index[kept]), np.arange(5))
    np.testing.assert_allclose(  # one adaptive weight per input, shared by its bins
        model.adaptive_weights_, model.adaptive_weights_[::4].repeat(4)
    )
    np.testing.assert_array_equal(
        SelectFromModel(model, prefit=True, threshold=1e-5).get_support(), kept
    )
