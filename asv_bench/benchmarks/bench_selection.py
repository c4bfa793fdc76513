"""asv benchmarks: time and quality of :class:`~sklearn_reg.StabilitySelection`.

``Fit`` times ``fit`` with the default parameters (50 complementary pairs, so 100
warm-started paths of 8 values of λ) on a small problem, parametrized by the task
(``'regression'``: Friedman #1; ``'classification'``: ``make_classification``) and by
``n_jobs`` (1, or 2 threads). ``Quality`` tracks, on the two problems of the test
suite (Friedman #1 with 2 000 rows and 5 informative columns of 100;
``make_classification`` with 5 000 rows and 10 informative columns of 100), the
precision and recall of the selected columns and the reported bound on the expected
number of false selections; it fits each problem once, in ``setup_cache``.

``setup`` runs one tiny fit, which loads (or compiles) the numba kernels: compile time
is never part of a timing.

Run from ``asv_bench/``::

    asv machine --yes
    asv run --python=same --quick --bench bench_selection

or, without asv, ``python asv_bench/benchmarks/bench_selection.py`` prints the median
wall and CPU time of 3 fits of each test-suite problem with ``n_jobs`` 1 and 2, and
what they select.
"""

import os
import time

import numpy as np
from sklearn.datasets import make_classification, make_friedman1

from sklearn_reg import StabilitySelection

TASKS = ["regression", "classification"]


def make_data(task, n_samples, n_features, n_informative):
    """(X, y, informative columns) of Friedman #1 (5 informative columns, whatever
    ``n_informative``) or of ``make_classification`` (the first ``n_informative``)."""
    if task == "regression":
        X, y = make_friedman1(n_samples=n_samples, n_features=n_features, noise=1.0, random_state=0)
        return X, y, set(range(5))
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    return X, y, set(range(n_informative))


def warm_up(X, y):
    """One tiny fit, so that the numba kernels are loaded before timing."""
    StabilitySelection(
        n_pairs=1, alphas=[1e-3, 1e-2], max_false_selections=None, random_state=0
    ).fit(X[::10], y[::10])


class Fit:
    """``fit`` with the defaults on 1 000 rows × 50 columns (5 informative)."""

    params = (TASKS, [1, 2])
    param_names = ["task", "n_jobs"]
    timeout = 300

    def setup(self, task, n_jobs):
        self.X, self.y, _ = make_data(task, 1_000, 50, 5)
        warm_up(self.X, self.y)

    def time_fit(self, task, n_jobs):
        StabilitySelection(n_jobs=n_jobs, random_state=0).fit(self.X, self.y)


#: the problems of the test suite: (n_samples, n_informative) per task, 100 columns
TEST_PROBLEMS = {"regression": (2_000, 5), "classification": (5_000, 10)}


class Quality:
    """Precision, recall and bound of the selection on the problems of the test suite."""

    params = (TASKS,)
    param_names = ["task"]
    timeout = 600

    def setup_cache(self):
        results = {}
        for task, (n_samples, n_informative) in TEST_PROBLEMS.items():
            X, y, informative = make_data(task, n_samples, 100, n_informative)
            selector = StabilitySelection(n_jobs=2, random_state=0).fit(X, y)
            selected = set(np.flatnonzero(selector.get_support()).tolist())
            hits = len(selected & informative)
            results[task] = {
                "precision": hits / max(len(selected), 1),
                "recall": hits / len(informative),
                "bound": selector.expected_false_selections_,
            }
        return results

    def track_precision(self, results, task):
        return results[task]["precision"]

    track_precision.unit = "share of selected columns that are informative"

    def track_recall(self, results, task):
        return results[task]["recall"]

    track_recall.unit = "share of informative columns selected"

    def track_expected_false_selections(self, results, task):
        return results[task]["bound"]

    track_expected_false_selections.unit = "columns (Meinshausen-Bühlmann bound)"


def main(repeats=3):
    """Median wall and CPU time of ``repeats`` fits of each test-suite problem."""
    print(f"load average {os.getloadavg()[0]:.1f}")
    for task, (n_samples, n_informative) in TEST_PROBLEMS.items():
        X, y, informative = make_data(task, n_samples, 100, n_informative)
        warm_up(X, y)
        for n_jobs in (1, 2):
            walls, cpus = [], []
            for _ in range(repeats):
                wall, cpu = time.perf_counter(), time.process_time()
                selector = StabilitySelection(n_jobs=n_jobs, random_state=0).fit(X, y)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            selected = np.flatnonzero(selector.get_support()).tolist()
            print(
                f"{task:14s} n_jobs={n_jobs}: wall {np.median(walls):5.1f} s, CPU "
                f"{np.median(cpus):5.1f} s (medians of {repeats}); selected {selected} "
                f"(exact: {set(selected) == informative}), bound "
                f"{selector.expected_false_selections_:.2f}",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
