"""The recovery benchmark ``asv_bench/selection_recovery.py``: its metrics, the
informative columns its problems claim, and one method run end to end on a tiny problem.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location(
    "selection_recovery", ROOT / "asv_bench" / "selection_recovery.py"
)
recovery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recovery)


# -- metrics -------------------------------------------------------------------------


def test_precision_recall_of_a_hand_computed_case():
    # kept {0, 1, 3}; informative {0, 1, 2}: 2 hits of 3 kept, 2 of 3 found
    support = np.array([True, True, False, True, False, False])
    precision, recall = recovery.precision_recall(support, np.array([0, 1, 2]))
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    # kept {0}; informative {0, 1}: every kept column is informative, half are found
    precision, recall = recovery.precision_recall(np.array([1, 0, 0, 0], bool), np.array([0, 1]))
    assert (precision, recall) == (1.0, 0.5)


def test_precision_is_undefined_without_kept_columns_and_both_without_informative():
    precision, recall = recovery.precision_recall(np.zeros(4, bool), np.array([0, 1]))
    assert np.isnan(precision) and recall == 0.0
    assert all(np.isnan(recovery.precision_recall(np.ones(4, bool), None)))


def test_exit_rank_cuts_the_largest_gap_of_the_log_exit_alphas():
    alphas = np.geomspace(1e-3, 1.0, 7)  # steps of √10
    # log10 of the exits: never (0.5, one step past the grid), 0, -0.5, -3, -3, -2.5:
    # every column is still in the model at alpha=1e-4; the gaps are 0.5, 0.5, 2, 0.5,
    # so the cut falls below -0.5
    exits = np.array([np.inf, 1.0, 10**-0.5, 1e-3, 1e-3, 10**-2.5])
    support = recovery.exit_rank_support(exits, alphas, alpha=1e-4)
    assert support.tolist() == [True, True, True, False, False, False]


def test_exit_rank_keeps_only_columns_still_in_the_model_at_alpha():
    alphas = np.geomspace(1e-3, 1e-1, 5)
    exits = np.array([1e-1, 1e-1, 10**-1.5, 1e-2, 1e-3])
    # at alpha=10**-1.5 only the first two are left: one level, both kept
    support = recovery.exit_rank_support(exits, alphas, alpha=10**-1.5)
    assert support.tolist() == [True, True, False, False, False]
    # at the end of the path nothing is left (the CV choice on pure noise)
    assert not recovery.exit_rank_support(exits, alphas, alpha=1e-1).any()


def test_summary_prints_dash_for_the_metrics_without_informative_columns():
    noise_record = {"kept": 2, "precision": np.nan, "recall": np.nan, "exact": None}
    noise_record.update(ratio=np.nan, time=1.0)
    record = {"kept": 6, "precision": 5 / 6, "recall": 1.0, "exact": False, "ratio": 1.0}
    results = {
        "noise": {"group": [noise_record]},
        "friedman1": {"group": [dict(record, time=2.0), dict(record, kept=5, time=4.0)]},
    }
    rows = recovery.summary_rows(results)
    assert rows[0] == ["noise", "group", "2", "-", "-", "-", "-", "1.0"]
    assert rows[1] == ["friedman1", "group", "5.5", "0.83", "1.00", "0/2", "1.000", "3.0"]
    table = recovery.rst_table(rows)
    assert table.startswith(".. list-table::") and "     - 0.83" in table


# -- the informative columns of each problem -----------------------------------------


def test_friedman1_depends_on_its_first_five_columns():
    problem = recovery.friedman1(0, n_samples=2000, n_features=20)
    X = problem.X
    signal = 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2
    signal += 10 * X[:, 3] + 5 * X[:, 4]
    assert problem.informative.tolist() == [0, 1, 2, 3, 4]
    assert np.std(problem.y - signal) == pytest.approx(1.0, abs=0.05)  # noise=1.0


def test_toeplitz_columns_have_the_claimed_correlation_and_informative_columns():
    problem = recovery.toeplitz(0, n_samples=20_000, n_features=8)
    lags = np.abs(np.subtract.outer(np.arange(8), np.arange(8)))
    np.testing.assert_allclose(np.cov(problem.X.T), 0.5**lags, atol=0.03)
    assert recovery.toeplitz(0, n_samples=10).informative.tolist() == [0, 20, 40, 59, 79, 99]

    a, b, c, d, e, f = problem.X[:, problem.informative].T
    signal = a - b + 0.75 * c + np.sin(2 * d) + 0.5 * (e**2 - 1) + 0.75 * np.abs(f)
    assert np.std(problem.y - signal) == pytest.approx(0.5, abs=0.02)


def test_unshuffled_make_classification_is_informative_in_its_first_five_columns():
    problem = recovery.classification(0, n_samples=2000, n_features=20)
    assert problem.classification and problem.informative.tolist() == [0, 1, 2, 3, 4]
    model = KNeighborsClassifier(n_neighbors=15)
    first, rest = problem.X[:, :5], problem.X[:, 5:]
    assert cross_val_score(model, first, problem.y, cv=3).mean() > 0.8
    assert cross_val_score(model, rest, problem.y, cv=3).mean() < 0.6  # chance: 0.5


@pytest.mark.parametrize(
    "generator, load, n_real, n_noise",
    [
        (recovery.diabetes, load_diabetes, 10, 50),
        (recovery.breast_cancer, load_breast_cancer, 30, 60),
    ],
)
def test_real_sets_keep_their_columns_first_and_append_gaussian_noise(
    generator, load, n_real, n_noise
):
    X_real, y_real = load(return_X_y=True)
    problem = generator(0)
    assert problem.X.shape == (X_real.shape[0], n_real + n_noise)
    np.testing.assert_array_equal(problem.X[:, :n_real], X_real)
    np.testing.assert_array_equal(problem.y, y_real)
    assert problem.informative.tolist() == list(range(n_real))
    noise = problem.X[:, n_real:]
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1) < 0.05
    assert not np.array_equal(noise, generator(1).X[:, n_real:])  # drawn per seed


def test_noise_control_has_no_informative_column():
    problem = recovery.noise(0, n_samples=2000, n_features=5)
    assert problem.informative is None and not problem.classification
    correlations = [np.corrcoef(column, problem.y)[0, 1] for column in problem.X.T]
    assert np.max(np.abs(correlations)) < 0.1  # 4.5 standard errors at n = 2000


# -- end to end ----------------------------------------------------------------------


def test_evaluate_reports_the_metrics_of_the_support_a_method_returns(monkeypatch):
    first_three = lambda X, y, is_classification, seed: np.arange(X.shape[1]) < 3  # noqa: E731
    monkeypatch.setitem(recovery.METHODS, "first_three", first_three)
    problem = recovery.friedman1(0, n_samples=300, n_features=10)
    record = recovery.evaluate(problem, ["first_three"], 0, log=lambda *a, **k: None)
    record = record["first_three"]
    assert (record["kept"], record["precision"], record["recall"]) == (3, 1.0, 0.6)
    assert record["exact"] is False and record["time"] >= 0
    assert 0 < record["ratio"] < 1.2  # 3 of the 5 columns against all 10


def test_group_method_finds_friedman_columns_on_a_tiny_problem():
    problem = recovery.friedman1(0, n_samples=400, n_features=10)
    record = recovery.evaluate(problem, ["group"], 0, log=lambda *a, **k: None)["group"]
    assert record["precision"] >= 0.8 and record["recall"] >= 0.6, record
