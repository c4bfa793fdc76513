"""The data code of ``asv_bench/quality.py``: loaders, split and preprocessing, ranking.

Only scikit-learn's bundled data sets are loaded here (the other sets need the
``bench`` extra and are checked by running the benchmark).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("quality", ROOT / "asv_bench" / "quality.py")
quality = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quality)

SKLEARN_SETS = [name for name, d in quality.DATASETS.items() if d.source == "scikit-learn"]


def test_sklearn_sets_are_the_expected_three():
    assert SKLEARN_SETS == ["breast_cancer", "digits", "diabetes"]


@pytest.mark.parametrize("name", SKLEARN_SETS)
def test_sklearn_loader_returns_documented_shape(name):
    dataset = quality.DATASETS[name]
    X, y = quality.load_dataset(name)
    assert X.shape == (dataset.rows, dataset.columns)
    assert y.shape == (dataset.rows,)
    assert quality.categorical_columns(X) == []
    if dataset.task == quality.REGRESSION:
        assert y.dtype == np.float64


@pytest.mark.parametrize(
    "name, shape, n_classes",
    [
        ("breast_cancer", (569, 30), 2),
        ("digits", (1797, 64), 10),
        ("diabetes", (442, 10), None),
    ],
)
def test_sklearn_shapes_match_scikit_learn_documentation(name, shape, n_classes):
    X, y = quality.load_dataset(name)
    assert X.shape == shape
    if n_classes is not None:
        assert len(np.unique(y)) == n_classes


@pytest.mark.parametrize("name", SKLEARN_SETS)
def test_results_page_lists_the_loaded_shape(name):
    # the data set table of docs/quality.rst: "name  rows  columns  categorical  missing"
    page = (ROOT / "docs" / "quality.rst").read_text()
    X, _ = quality.load_dataset(name)
    rows = [line.split() for line in page.splitlines() if line.startswith(f"{name} ")]
    shapes = [(int(r[1]), int(r[2])) for r in rows if all(c.isdigit() for c in r[1:5])]
    assert shapes == [X.shape]


def test_small_tier_has_sets_of_300_to_20000_rows_capped_at_4000_training_rows():
    sets, max_train = quality.TIERS["small"]
    rows = [quality.DATASETS[n].rows for n in sets]
    assert len(sets) >= 15 and min(rows) >= 300 and max(rows) <= 20000
    assert {quality.DATASETS[n].task for n in sets} == {quality.CLASSIFICATION, quality.REGRESSION}
    assert max_train == 4000


def test_medium_tier_has_at_least_8_sets_of_20000_to_400000_rows_of_both_tasks():
    sets, max_train = quality.TIERS["medium"]
    full_size = [n for n in sets if quality.DATASETS[n].rows > 20000]
    assert len(full_size) >= 8
    assert all(quality.DATASETS[n].rows <= 400000 for n in sets)
    assert {quality.DATASETS[n].task for n in full_size} == {
        quality.CLASSIFICATION,
        quality.REGRESSION,
    }
    assert max_train == 20000
    # every set of the package is in a tier
    assert set(quality.TIERS["small"][0]) | set(sets) == set(quality.DATASETS)


def test_unknown_set_raises_value_error():
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        quality.load_dataset("nope")


def _mixed_frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 2.0, n)
    x[:5] = np.nan
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    colour[5:8] = np.nan
    return pd.DataFrame({"x": x, "colour": colour}), x, colour


def test_preprocessing_uses_training_statistics_only():
    X, _, _ = _mixed_frame()
    y = np.arange(len(X), dtype=np.float64)
    split = quality.make_split(X, y, quality.REGRESSION, seed=3)
    # the scaled numeric column has mean 0 / std 1 on the training split, not the test one
    assert split.X_train[:, 0].mean() == pytest.approx(0.0, abs=1e-12)
    assert split.X_train[:, 0].std() == pytest.approx(1.0, rel=1e-6)
    assert split.y_train.mean() == pytest.approx(0.0, abs=1e-12)
    assert split.y_train.std() == pytest.approx(1.0)
    assert abs(split.y_test.mean()) > 1e-6
    # one-hot columns: red / green / blue and the "missing" category
    assert split.X_train.shape[1] == 1 + 4
    assert np.isfinite(split.X_train).all() and np.isfinite(split.X_test).all()


def test_split_is_stratified_and_depends_on_the_seed():
    X, _, _ = _mixed_frame(n=500)
    y = np.where(np.arange(500) < 100, "rare", "common")
    a = quality.make_split(X, y, quality.CLASSIFICATION, seed=0)
    b = quality.make_split(X, y, quality.CLASSIFICATION, seed=1)
    assert len(a.y_test) == 100 and np.bincount(a.y_test).tolist() == [80, 20]
    assert not np.array_equal(a.X_test, b.X_test)


def test_noise_columns_are_gaussian_and_shuffled_copies_and_keep_the_real_ones():
    X, _, _ = _mixed_frame(n=2000)
    y = np.arange(2000) % 2
    clean = quality.make_split(X, y, quality.CLASSIFICATION, seed=0)
    noisy = quality.make_split(X, y, quality.CLASSIFICATION, seed=0, noise=2)
    n = clean.X_train.shape[1]  # 5 real columns: 10 noise ones, 5 Gaussian and 5 copies
    assert noisy.X_train.shape[1] == noisy.X_test.shape[1] == 3 * n
    for real, part in [(clean.X_train, noisy.X_train), (clean.X_test, noisy.X_test)]:
        np.testing.assert_array_equal(part[:, :n], real)
        gaussian, copies = part[:, n : 2 * n], part[:, 2 * n :]
        assert abs(gaussian.mean()) < 0.05 and gaussian.std() == pytest.approx(1.0, abs=0.05)
        for j in range(n):
            # the same values in another order: the link to the rows (and the target) is gone
            np.testing.assert_array_equal(np.sort(copies[:, j]), np.sort(real[:, j]))
            assert not np.array_equal(copies[:, j], real[:, j])


def test_training_split_is_capped_and_test_split_is_not():
    X, _, _ = _mixed_frame(n=500)
    y = np.arange(500) % 2
    split = quality.make_split(X, y, quality.CLASSIFICATION, seed=0, max_train=150)
    assert len(split.y_train) == 150 and split.n_train_full == 400
    assert len(split.y_test) == 100
    assert np.bincount(split.y_train).tolist() == [75, 75]


def test_mean_ranks_share_ties_and_rank_failures_last():
    means = np.array([[0.9, 0.8, 0.8], [0.5, np.nan, 0.7]])
    ranks = quality.mean_ranks(means, higher_is_better=True)
    np.testing.assert_allclose(ranks, [(1 + 2) / 2, (2.5 + 3) / 2, (2.5 + 1) / 2])
    np.testing.assert_allclose(quality.mean_ranks(means[:1], higher_is_better=False), [3, 1.5, 1.5])


def test_wins_ties_losses_pair_the_seeds():
    a = np.array(
        [
            [0.90, 0.91, 0.92],  # always 0.1 better: a win
            [0.50, 0.60, 0.40],  # noisy around b: a tie
            [0.10, 0.10, 0.10],  # always worse: a loss
            [np.nan, 0.5, 0.5],
        ]
    )  # a failed seed: a loss
    b = np.array([[0.80, 0.81, 0.82], [0.50, 0.50, 0.50], [0.20, 0.20, 0.20], [0.40, 0.40, 0.40]])
    assert quality.wins_ties_losses(a, b, higher_is_better=True) == (1, 1, 2)
    # lower is better: the first and third data sets swap, the failure stays a loss
    assert quality.wins_ties_losses(a, b, higher_is_better=False) == (1, 1, 2)


def test_unknown_model_key_raises_value_error():
    with pytest.raises(ValueError, match="unknown models"):
        quality.parse_models("reg,nope")


def test_extra_configurations_set_early_stopping_and_dropout():
    es = quality.MODELS["reg_es"].make(quality.CLASSIFICATION, 0)
    dropout = quality.MODELS["reg_dropout"].make(quality.REGRESSION, 0)
    assert es.early_stopping and es.dropout == 0.0
    assert dropout.dropout == 0.2 and not dropout.early_stopping
    assert not quality.MODELS["reg_es"].default


def test_the_dropout_search_and_its_record_of_what_the_cv_chose():
    search = quality.MODELS["reg_cv_dropout"].make(quality.CLASSIFICATION, 0)
    assert search.param_grid == {"dropout": [0.0, 0.1, 0.2]}
    fitted = type("Fitted", (), {"alpha_": 1e-3, "best_params_": {"dropout": 0.1}})()
    assert quality._chosen(fitted) == "alpha=0.001 dropout=0.1"
    assert quality._chosen(quality.MODELS["reg"].make(quality.REGRESSION, 0)) == ""


def test_rows_of_a_later_csv_replace_those_of_an_earlier_one(tmp_path):
    row = dict(dataset="magic", task="classification", seed=0, error="")
    pd.DataFrame(
        [{**row, "model": "reg", "accuracy": 0.8}, {**row, "model": "hgb", "accuracy": 0.9}]
    ).to_csv(tmp_path / "first.csv", index=False)
    pd.DataFrame([{**row, "model": "reg", "accuracy": 0.85}]).to_csv(
        tmp_path / "rerun.csv", index=False
    )
    results = quality.read_results([tmp_path / "first.csv", tmp_path / "rerun.csv"])
    assert dict(zip(results.model, results.accuracy)) == {"hgb": 0.9, "reg": 0.85}


def test_report_leaves_out_data_sets_with_missing_fits():
    rows = [
        {"dataset": d, "seed": seed, "model": m}
        for d in ["german", "diabetes"]
        for seed in [0, 1]
        for m in ["reg", "hgb"]
    ]
    results = pd.DataFrame(rows[:-1])  # diabetes, seed 1, hgb is missing
    complete, incomplete = quality.complete_results(results)
    assert incomplete == ["diabetes"]
    assert set(complete.dataset) == {"german"} and len(complete) == 4


def test_versus_table_reports_the_difference_to_the_baseline():
    rows = [
        {
            "dataset": d,
            "task": quality.REGRESSION,
            "seed": seed,
            "model": m,
            "r2": {"reg": 0.5, "hgb": 0.7}[m] + 0.01 * seed,
            "fit_cpu_time": {"reg": 2.0, "hgb": 1.0}[m],
        }
        for d in ["diabetes", "concrete"]
        for seed in [0, 1, 2]
        for m in ["reg", "hgb"]
    ]
    table = quality.versus_table(pd.DataFrame(rows), "reg")
    assert table.splitlines()[-1] == "| HistGradientBoosting (`hgb`) | +0.2000 | 2/0/0 | 0.50 |"


def test_noise_loss_table_reports_the_loss_and_its_ratio_to_the_baseline():
    spec = importlib.util.spec_from_file_location(
        "noise_robustness", ROOT / "asv_bench" / "noise_robustness.py"
    )
    noise = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noise)
    sets = ["a", "b"]
    clean = pd.DataFrame({"ours": [0.90, 0.80], "sk_mlp": [0.90, 0.80]}, index=sets)
    noisy = pd.DataFrame({"ours": [0.89, 0.79], "sk_mlp": [0.86, 0.76]}, index=sets)
    rows = {(m, k): r for m, k, *r in noise.loss_table({0: clean, 2: noisy})}
    accuracy, lost, worst, ratio = rows["ours", 2]
    assert accuracy == pytest.approx(0.84)
    assert lost == pytest.approx(0.01) and worst == pytest.approx(0.01)
    assert ratio == pytest.approx(0.25)  # 0.01 lost against the baseline's 0.04
    assert rows["sk_mlp", 2][3] == pytest.approx(1.0)
    assert np.isnan(rows["ours", 0][1])  # no loss at K = 0
