"""Benchmark of the cross-validated estimators and the warm-started path.

Run from the repository root, in an environment with sklearn_reg installed::

    python asv_bench/cv_benchmark.py               # about 4 minutes on 2 cores
    python asv_bench/cv_benchmark.py --repeats 5   # more repeats for the medians

It prints:

1. **Digits, GridSearchCV vs RegularizedMLPClassifierCV** over the same grid of λ and
   the same 5 folds (penalty 'l1', n_jobs=2): the median wall time of each over
   ``--repeats`` runs (alternated), their ratio, and the quality of the chosen α:
   GridSearchCV's best mean CV accuracy, the mean CV accuracy that GridSearchCV's
   independent fits give to *our* ``alpha_``, and our path's best mean CV accuracy.
2. **Path order** on the same folds: mean CV accuracy along the path when it goes
   from weak to strong λ (the implementation) and from strong to weak (as LassoCV).
3. **Feature selection**: ``SelectFromModel`` over the CV estimator ('group' and
   'l1', ``selection='best'`` and ``'1se'``) on Friedman #1 (2000 × 50, 5 true
   columns) and make_classification (5000 × 100, 10 informative columns first):
   median time of the whole ``fit`` (CV + refit + selection) with n_jobs=2, the CPU
   seconds of the same fit in one process (n_jobs=1, ``time.process_time``: the work
   that 2 idle cores share, insensitive to other load on the machine), chosen α,
   columns kept, precision and recall; and the baseline, a plain MLP
   (``penalty=None``) with SelectFromModel's "mean" threshold on its first-layer
   norms. The issue quotes lassonet's path at 26 s and 49 s on these data on 2 cores.

Every timing runs with BLAS limited to one thread per process (threadpoolctl), the
parallelism coming from joblib (n_jobs=2): on 2 cores, BLAS threads on top of two
joblib workers only oversubscribe, and on a loaded machine two-thread OpenBLAS on
these small matrices can be many times slower than one thread. The loky workers
are started, and the numba kernels loaded, before any timing.
"""

import argparse
import os
import platform
import time
import warnings
from functools import partial

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_reg import (
    RegularizedMLPClassifier,
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressor,
    RegularizedMLPRegressorCV,
    regularization_path,
)

N_JOBS = 2
DIGITS_ALPHAS = np.geomspace(1e-5, 1e-1, 9)
DIGITS_PARAMS = dict(penalty="l1", random_state=0)  # defaults otherwise: (100,), Adam 1e-3
SELECTION_ALPHAS = np.geomspace(1e-4, 1e-1, 12)
SELECTION_PARAMS = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def median_times(fns, repeats):
    """Median wall time of each callable, alternated within each repeat; last outputs."""
    times = {name: [] for name in fns}
    outs = {}
    names = list(fns)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t, outs[name] = timed(fns[name])
            times[name].append(t)
    return {name: float(np.median(ts)) for name, ts in times.items()}, outs


def digits(repeats):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))

    def grid_search():
        return GridSearchCV(
            RegularizedMLPClassifier(**DIGITS_PARAMS),
            {"alpha": DIGITS_ALPHAS},
            cv=folds,
            n_jobs=N_JOBS,
        ).fit(X, y)

    def cv_estimator():
        return RegularizedMLPClassifierCV(  # one path per fold: the grid search's fits
            alphas=DIGITS_ALPHAS, cv=folds, n_jobs=N_JOBS, adaptive=False, **DIGITS_PARAMS
        ).fit(X, y)

    times, outs = median_times({"GridSearchCV": grid_search, "ClassifierCV": cv_estimator}, repeats)
    grid, ours = outs["GridSearchCV"], outs["ClassifierCV"]
    grid_scores = dict(zip(grid.cv_results_["param_alpha"], grid.cv_results_["mean_test_score"]))
    print(
        f"## 1. Digits (1797 × 64, 10 classes), penalty='l1', {len(DIGITS_ALPHAS)} values of λ "
        f"in [1e-5, 1e-1], 5 folds, n_jobs={N_JOBS}, median of {repeats}\n"
    )
    print(
        "| method | median time (s) | ratio | chosen α | mean CV acc. of chosen α (indep. fits) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| GridSearchCV | {times['GridSearchCV']:.2f} | 1.00 | {grid.best_params_['alpha']:.2g} "
        f"| {grid.best_score_:.4f} |"
    )
    print(
        f"| RegularizedMLPClassifierCV | {times['ClassifierCV']:.2f} | "
        f"{times['GridSearchCV'] / times['ClassifierCV']:.2f}× faster | {ours.alpha_:.2g} "
        f"| {grid_scores[ours.alpha_]:.4f} |"
    )
    print(
        f"\nour path's best mean CV accuracy: {ours.scores_.mean(axis=0).max():.4f} "
        f"(GridSearchCV's best: {grid.best_score_:.4f}); epochs of the full-data path up to "
        f"alpha_: {ours.n_iter_}"
    )
    print(
        "mean CV accuracy per λ, independent fits:",
        np.round(grid.cv_results_["mean_test_score"], 3),
    )
    print("mean CV accuracy per λ, warm-started path:", np.round(ours.scores_.mean(axis=0), 3))
    return X, y, folds


def _fold_path(X, y, train, test, alphas):
    *_, models = regularization_path(
        X[train],
        y[train],
        alphas,
        estimator=RegularizedMLPClassifier(),
        return_models=True,
        **DIGITS_PARAMS,
    )
    return [m.score(X[test], y[test]) for m in models]


def path_order(X, y, folds):
    print("\n## 2. Path order on digits (same grid and folds)\n")
    print("| order | time (s) | mean CV acc. per λ (λ increasing) | best |")
    print("|---|---|---|---|")
    for name, alphas in [
        ("weak → strong (implemented)", DIGITS_ALPHAS),
        ("strong → weak (LassoCV's)", DIGITS_ALPHAS[::-1]),
    ]:
        jobs = [delayed(_fold_path)(X, y, train, test, alphas) for train, test in folds]
        t, scores = timed(partial(Parallel(n_jobs=N_JOBS), jobs))
        mean = np.mean(scores, axis=0)
        if alphas[0] > alphas[-1]:
            mean = mean[::-1]
        print(f"| {name} | {t:.2f} | {np.round(mean, 3)} | {mean.max():.4f} |")


def _precision_recall(support, n_true):
    kept = np.flatnonzero(support)
    true_kept = np.count_nonzero(kept < n_true)
    return true_kept / max(len(kept), 1), true_kept / n_true


def feature_selection(repeats):
    X, y = make_friedman1(n_samples=2000, n_features=50, noise=1.0, random_state=0)
    friedman = (
        StandardScaler().fit_transform(X),
        (y - y.mean()) / y.std(),
        5,
        RegularizedMLPRegressorCV,
        RegularizedMLPRegressor,
        26.0,
    )
    X, y = make_classification(
        n_samples=5000,
        n_features=100,
        n_informative=10,
        n_redundant=0,
        shuffle=False,
        random_state=0,
    )
    classification = (
        StandardScaler().fit_transform(X),
        y,
        10,
        RegularizedMLPClassifierCV,
        RegularizedMLPClassifier,
        49.0,
    )
    print(
        f"\n## 3. Feature selection: SelectFromModel over the CV estimator, "
        f"{len(SELECTION_ALPHAS)} values of λ in [1e-4, 1e-1], 5 folds, hidden (32,), "
        f"Adam 1e-2, n_jobs={N_JOBS}, median of {repeats}\n"
    )
    print(
        "| data | model | time (s) | CPU s, n_jobs=1 | time vs lassonet | α | kept | precision "
        "| recall |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for data_name, (X, y, n_true, CV, Base, lassonet) in [
        ("Friedman #1 2000×50", friedman),
        ("classification 5000×100", classification),
    ]:
        baseline = SelectFromModel(Base(penalty=None, **SELECTION_PARAMS))
        t, _ = timed(partial(baseline.fit, X, y))
        precision, recall = _precision_recall(baseline.get_support(), n_true)
        print(
            f"| {data_name} | plain MLP, 'mean' threshold | {t:.2f} | | | | "
            f"{baseline.get_support().sum()} | {precision:.2f} | {recall:.2f} |"
        )
        for penalty in ("group", "l1"):
            for selection in ("best", "1se"):
                selector = SelectFromModel(
                    CV(
                        alphas=SELECTION_ALPHAS,
                        penalty=penalty,
                        selection=selection,
                        adaptive=False,  # the plain penalties: selection_recovery.py
                        n_jobs=N_JOBS,
                        **SELECTION_PARAMS,
                    )
                )
                times, outs = median_times({"fit": partial(selector.fit, X, y)}, repeats)
                selector = outs["fit"]
                support = selector.get_support()
                precision, recall = _precision_recall(support, n_true)
                # CPU seconds of the same work in one process: what 2 idle cores
                # share, whatever else the machine runs
                serial = clone(selector).set_params(estimator__n_jobs=1)
                start = time.process_time()
                serial.fit(X, y)
                cpu = time.process_time() - start
                assert np.array_equal(serial.get_support(), support)
                print(
                    f"| {data_name} | CV '{penalty}', selection='{selection}' | "
                    f"{times['fit']:.2f} | {cpu:.2f} | 1/{lassonet / times['fit']:.0f} | "
                    f"{selector.estimator_.alpha_:.2g} | {support.sum()} | {precision:.2f} | "
                    f"{recall:.2f} |"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        f"# CV benchmark — {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"cores, load average before: {os.getloadavg()[0]:.1f}\n"
    )
    with threadpool_limits(limits=1, user_api="blas"):
        # start the loky workers and load the compiled kernels in them, untimed
        X, y = make_classification(n_samples=100, n_features=5, random_state=0)
        RegularizedMLPClassifierCV(alphas=2, cv=2, max_iter=2, n_jobs=N_JOBS).fit(X, y)
        X, y, folds = digits(args.repeats)
        path_order(X, y, folds)
        feature_selection(args.repeats)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
