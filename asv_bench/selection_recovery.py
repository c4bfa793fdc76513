"""Feature-selection recovery: precision, recall, columns kept and time of each method.

Run from the repository root::

    python asv_bench/selection_recovery.py --quick               # 1 seed, smaller n: < ~3 min
    python asv_bench/selection_recovery.py                       # 3 seeds: < ~15 min
    python asv_bench/selection_recovery.py --methods group,stability --problems friedman1
    python asv_bench/selection_recovery.py --output recovery.rst  # .rst or .md table

Problems (``PROBLEMS``; the generators return raw data and the indices of the
informative columns):

- ``friedman1``: :func:`~sklearn.datasets.make_friedman1`, 2 000 × 100, noise 1: the
  first 5 columns, with an interaction (10·sin(π·x₀·x₁)) and a quadratic term;
  ``friedman1_20`` the same with 20 columns (5 informative, 15 noise);
- ``toeplitz``: 1 000 × 100 Gaussian columns with Σ_ij = 0.5^|i−j| (each column 0.5
  with its neighbours), y an additive non-linear function of 6 columns spread over
  the 100 (:func:`toeplitz`), noise 0.5;
- ``classification``: :func:`~sklearn.datasets.make_classification`, 5 000 × 100,
  ``n_informative=5, n_redundant=0, n_repeated=0, shuffle=False``: the first 5;
- ``diabetes+50``: scikit-learn's diabetes (442 × 10) and 50 Gaussian noise columns;
- ``breast_cancer+60``: scikit-learn's breast cancer (569 × 30, classification) and 60
  Gaussian noise columns. For the two real sets every real column counts as
  informative, by convention: some of them carry little signal (diabetes) or repeat
  others (radius, perimeter and area of breast cancer), so a recall below 1 need not
  be a failure there; precision says whether noise columns are kept;
- ``noise``: 1 000 × 50 Gaussian columns and a Gaussian y independent of them. Only
  the number kept means something (precision and recall are printed "-").

``--quick`` halves the synthetic problems (1 000, 1 000, 500, 2 000 and 500 rows; the real
sets are used whole) and runs 1 seed.

Protocol, for each problem and seed ``s``: the generator draws the data with
``random_state=s``; a 75/25 train/test split (``random_state=s``, stratified for
classification); ``StandardScaler`` fitted on the training rows (and, for regression,
y standardized with the training mean and standard deviation, which leaves R²
unchanged); each method selects columns from the training rows, its wall time
measured (the kernels are loaded by a warm-up before any timing).

Methods (``METHODS``; each a function of the training data returning the boolean
support), with the CV estimators at a modest budget (``CV_PARAMS``: one hidden layer of
32 units, Adam at 0.01, 3 folds, the default grid of 10 values of λ):

- ``l1``, ``group``: ``SelectFromModel(RegularizedMLP*CV(penalty=..., adaptive=False),
  prefit=True)``, the plain penalties, with its default threshold (1e-5 for 'l1', the
  mean importance for 'group');
- ``l1_1se``, ``group_1se``: the same with ``selection='1se'``;
- ``stability``: :class:`~sklearn_reg.StabilitySelection` with its defaults;
- ``exit_rank``: the ranking by ``feature_exit_alphas_`` of the 'group' CV estimator
  (the λ at which a column leaves the full-data path, as LassoNet ranks features):
  of the columns still in the model at ``alpha_``, those above the largest gap of
  the ranking (:func:`exit_rank_support`);
- ``adaptive_l1``, ``adaptive_group``: ``l1`` and ``group`` with ``adaptive=True``
  (γ = 1), what the CV estimators do by default (``adaptive='auto'``);
  ``adaptive2_l1``, ``adaptive2_group`` with ``adaptive=2.0`` (γ = 2);
  ``adaptive_group_zeros``: ``adaptive_group`` with ``threshold=1e-5``, the columns
  whose rows are not exactly zero; ``adaptive_l1_1se``, ``adaptive_group_1se``:
  ``adaptive_l1`` and ``adaptive_group_zeros`` with ``selection='1se'``;
- ``encoded_group``: ``adaptive_group_zeros`` on the
  :class:`~sklearn_reg.PiecewiseLinearEncoder` of the columns, with the encoder's
  ``feature_index_`` as ``feature_groups`` (a column is kept if any of its bins is),
  at the default learning rate 1e-3.

The score ratio is the held-out score (R², accuracy) of the reference estimator (the
'group' CV estimator of ``CV_PARAMS``) refitted on the selected columns, divided by
its score on all the columns ("-" where the score on all columns is not above 0, as
on the noise control). Without any column selected the refit is the constant
prediction (mean, most frequent class).

The report has one row per problem and method: the medians over the seeds of the
number of columns kept, precision (share of the kept columns that are informative),
recall (share of the informative columns kept), score ratio and fit time, and the
number of seeds whose selection is exactly the informative set.
"""

import argparse
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification, make_friedman1
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sklearn_reg
from sklearn_reg import (
    PiecewiseLinearEncoder,
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressorCV,
    StabilitySelection,
)

# --------------------------------------------------------------------------- problems


@dataclass
class Problem:
    """Raw data of one problem and the indices of its informative columns.

    ``informative`` is None for the pure-noise control.
    """

    X: np.ndarray
    y: np.ndarray
    informative: np.ndarray | None
    classification: bool


def friedman1(seed, n_samples=2000, n_features=100):
    """Friedman #1: y depends on the first 5 of ``n_features`` uniform columns."""
    X, y = make_friedman1(n_samples, n_features, noise=1.0, random_state=seed)
    return Problem(X, y, np.arange(5), classification=False)


#: (coefficient, function) of each informative column of :func:`toeplitz`
TOEPLITZ_TERMS = (
    (1.0, lambda x: x),
    (-1.0, lambda x: x),
    (0.75, lambda x: x),
    (1.0, lambda x: np.sin(2 * x)),
    (0.5, lambda x: x**2 - 1),
    (0.75, np.abs),
)
TOEPLITZ_RHO, TOEPLITZ_NOISE = 0.5, 0.5


def toeplitz_columns(n_features):
    """The informative columns of :func:`toeplitz`: 6 spread evenly from the first to
    the last (0, 20, 40, 59, 79, 99 of 100)."""
    return np.linspace(0, n_features - 1, len(TOEPLITZ_TERMS)).round().astype(int)


def toeplitz(seed, n_samples=1000, n_features=100):
    """Gaussian columns with Σ_ij = ρ^|i−j| (ρ = 0.5), drawn as the AR(1) recursion
    x_j = ρ·x_{j−1} + √(1 − ρ²)·z_j, and
    y = x_a − x_b + 0.75·x_c + sin(2·x_d) + 0.5·(x_e² − 1) + 0.75·|x_f| + 0.5·ε
    on the columns of :func:`toeplitz_columns`."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, n_features):
        X[:, j] = TOEPLITZ_RHO * X[:, j - 1] + np.sqrt(1 - TOEPLITZ_RHO**2) * Z[:, j]
    columns = toeplitz_columns(n_features)
    y = sum(c * f(X[:, j]) for (c, f), j in zip(TOEPLITZ_TERMS, columns))
    y = y + TOEPLITZ_NOISE * rng.standard_normal(n_samples)
    return Problem(X, y, columns, classification=False)


def classification(seed, n_samples=5000, n_features=100):
    """``make_classification`` with 5 informative columns, unshuffled: the first 5."""
    X, y = make_classification(
        n_samples,
        n_features,
        n_informative=5,
        n_redundant=0,
        n_repeated=0,
        shuffle=False,
        random_state=seed,
    )
    return Problem(X, y, np.arange(5), classification=True)


def with_noise_columns(load, n_noise, classification, seed):
    """A scikit-learn data set with ``n_noise`` standard Gaussian columns appended:
    the real columns (first) count as informative."""
    X, y = load(return_X_y=True)
    noise = np.random.default_rng(seed).standard_normal((X.shape[0], n_noise))
    return Problem(
        np.hstack([X, noise]), y.astype(np.float64), np.arange(X.shape[1]), classification
    )


def diabetes(seed, n_noise=50):
    """Diabetes (10 real columns) and ``n_noise`` noise columns."""
    return with_noise_columns(load_diabetes, n_noise, False, seed)


def breast_cancer(seed, n_noise=60):
    """Breast cancer (30 real columns, 2 classes) and ``n_noise`` noise columns."""
    return with_noise_columns(load_breast_cancer, n_noise, True, seed)


def noise(seed, n_samples=1000, n_features=50):
    """Pure-noise control: y independent of X, both standard Gaussian."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    return Problem(X, rng.standard_normal(n_samples), None, classification=False)


#: name -> (generator, parameters of the full run, parameters of --quick)
PROBLEMS = {
    "friedman1": (friedman1, {}, {"n_samples": 1000}),
    "friedman1_20": (friedman1, {"n_features": 20}, {"n_samples": 1000, "n_features": 20}),
    "toeplitz": (toeplitz, {}, {"n_samples": 500}),
    "classification": (classification, {}, {"n_samples": 2000}),
    "diabetes+50": (diabetes, {}, {}),
    "breast_cancer+60": (breast_cancer, {}, {}),
    "noise": (noise, {}, {"n_samples": 500}),
}


# --------------------------------------------------------------------------- methods

#: the CV estimators' budget (a user's modest choice), ``random_state`` set per seed
CV_PARAMS = {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01, "cv": 3}


def cv_estimator(is_classification, seed, **params):
    """The CV estimator of the task with :data:`CV_PARAMS` and ``params``: a single fit
    (``adaptive=False``) unless ``params`` set ``adaptive``."""
    Estimator = RegularizedMLPClassifierCV if is_classification else RegularizedMLPRegressorCV
    return Estimator(random_state=seed, **{**CV_PARAMS, "adaptive": False, **params})


def select_from_model(X, y, is_classification, seed, threshold=None, **params):
    """``SelectFromModel`` (its default ``threshold`` if None) of the CV estimator fitted
    with ``params``."""
    estimator = cv_estimator(is_classification, seed, **params).fit(X, y)
    return SelectFromModel(estimator, threshold=threshold, prefit=True).get_support()


def encoded_group(X, y, is_classification, seed):
    """The adaptive group CV estimator on the :class:`~sklearn_reg.PiecewiseLinearEncoder`
    of ``X``, the bins of each column one group (``feature_groups``): the columns with a
    kept bin. At the default ``learning_rate_init`` (1e-3): at 0.01 the hundreds of
    non-negative encoded columns of the larger problems silence every ReLU within a few
    epochs (a constant prediction)."""
    encoder = PiecewiseLinearEncoder().fit(X)
    estimator = cv_estimator(
        is_classification,
        seed,
        penalty="group",
        adaptive=True,
        feature_groups=encoder.feature_index_,
        learning_rate_init=1e-3,
    ).fit(encoder.transform(X), y)
    kept = np.any(estimator.coefs_[0] != 0.0, axis=1)
    return np.isin(np.arange(X.shape[1]), encoder.feature_index_[kept])


def stability(X, y, is_classification, seed):
    """:class:`~sklearn_reg.StabilitySelection` with its defaults."""
    return StabilitySelection(random_state=seed).fit(X, y).get_support()


def exit_rank_support(exit_alphas, alphas, alpha):
    """The columns still in the model at ``alpha``, cut at the largest gap of their
    sorted log exit λ.

    LassoNet ranks the features by the λ at which they leave the path. The candidates
    are the columns whose exit λ is above ``alpha`` (the λ chosen by cross-validation:
    their row is not zero there); their ranking is cut where consecutive distinct exit
    λ's (decreasing) are furthest apart on a log scale, and the columns above the cut
    are kept (of equal gaps, the first: the fewest columns). A column that never leaves
    (``np.inf``) counts as leaving one step of the log-spaced grid ``alphas`` past its
    largest value. Candidates that all leave at the same λ are all kept.
    """
    exit_alphas = np.asarray(exit_alphas, dtype=np.float64)
    alphas = np.sort(np.asarray(alphas, dtype=np.float64))
    step = np.log(alphas[-1] / alphas[-2]) if alphas.size > 1 else np.log(10.0)
    log_exit = np.where(np.isfinite(exit_alphas), np.log(exit_alphas), np.log(alphas[-1]) + step)
    candidates = exit_alphas > alpha
    levels = np.unique(log_exit[candidates])[::-1]  # decreasing
    if levels.size < 2:
        return candidates
    cut = int(np.argmax(levels[:-1] - levels[1:]))
    return candidates & (log_exit >= levels[cut])


def exit_rank(X, y, is_classification, seed):
    """:func:`exit_rank_support` of the 'group' CV estimator's ``feature_exit_alphas_``."""
    estimator = cv_estimator(is_classification, seed, penalty="group").fit(X, y)
    exits = estimator.feature_exit_alphas_
    return exit_rank_support(exits, estimator.alphas_, estimator.alpha_)


#: name -> function(X, y, is_classification, seed) -> boolean support
METHODS = {
    "l1": partial(select_from_model, penalty="l1"),
    "group": partial(select_from_model, penalty="group"),
    "l1_1se": partial(select_from_model, penalty="l1", selection="1se"),
    "group_1se": partial(select_from_model, penalty="group", selection="1se"),
    "stability": stability,
    "exit_rank": exit_rank,
    "adaptive_l1": partial(select_from_model, penalty="l1", adaptive=True),
    "adaptive_group": partial(select_from_model, penalty="group", adaptive=True),
    "adaptive2_l1": partial(select_from_model, penalty="l1", adaptive=2.0),
    "adaptive2_group": partial(select_from_model, penalty="group", adaptive=2.0),
    "adaptive_group_zeros": partial(
        select_from_model, penalty="group", adaptive=True, threshold=1e-5
    ),
    "adaptive_l1_1se": partial(select_from_model, penalty="l1", adaptive=True, selection="1se"),
    "adaptive_group_1se": partial(
        select_from_model, penalty="group", adaptive=True, selection="1se", threshold=1e-5
    ),
    "encoded_group": encoded_group,
}


# --------------------------------------------------------------------------- measures


def precision_recall(support, informative):
    """(precision, recall) of a boolean ``support`` against the informative indices.

    Precision is NaN when nothing is kept, both are NaN when ``informative`` is None
    (pure noise).
    """
    if informative is None:
        return np.nan, np.nan
    kept = set(np.flatnonzero(support).tolist())
    hits = len(kept & set(np.asarray(informative).tolist()))
    precision = hits / len(kept) if kept else np.nan
    return precision, hits / len(informative)


def split(problem, seed):
    """Scaled train and test parts: ``(X_train, X_test, y_train, y_test)``."""
    X_train, X_test, y_train, y_test = train_test_split(
        problem.X,
        problem.y,
        test_size=0.25,
        random_state=seed,
        stratify=problem.y if problem.classification else None,
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if not problem.classification:
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return X_train, X_test, y_train, y_test


def refit_score(data, columns, is_classification, seed):
    """Held-out score of the reference estimator (the 'group' CV estimator) on
    ``columns`` of the split ``data``; the constant prediction without columns."""
    X_train, X_test, y_train, y_test = data
    if columns.size == 0:
        model = DummyClassifier() if is_classification else DummyRegressor()
        return model.fit(X_train, y_train).score(X_test, y_test)
    model = cv_estimator(is_classification, seed, penalty="group")
    return model.fit(X_train[:, columns], y_train).score(X_test[:, columns], y_test)


def evaluate(problem, methods, seed, log=print):
    """One record (a dict) per method on one seed."""
    data = split(problem, seed)
    X_train, _, y_train, _ = data
    scores = {}  # refit score by selected columns: methods often agree

    def score(columns):
        key = tuple(columns.tolist())
        if key not in scores:
            scores[key] = refit_score(data, columns, problem.classification, seed)
        return scores[key]

    records = {}
    all_columns = np.arange(X_train.shape[1])
    for name in methods:
        function = METHODS[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            support = np.asarray(function(X_train, y_train, problem.classification, seed))
            elapsed = time.perf_counter() - start
            precision, recall = precision_recall(support, problem.informative)
            score_all, score_selected = score(all_columns), score(np.flatnonzero(support))
        exact = None
        if problem.informative is not None:
            exact = set(np.flatnonzero(support).tolist()) == set(problem.informative.tolist())
        records[name] = {
            "kept": int(support.sum()),
            "precision": precision,
            "recall": recall,
            "exact": exact,
            "ratio": score_selected / score_all if score_all > 0 else np.nan,
            "time": elapsed,
        }
        log(
            f"  seed {seed} {name:<15s} kept {support.sum():3d}  precision {precision:.2f}  "
            f"recall {recall:.2f}  score {score_selected:.3f} / {score_all:.3f}  "
            f"{elapsed:5.1f} s",
            flush=True,
        )
    return records


def warm_up(methods):
    """Every method once on tiny regression and classification data: the kernels
    are loaded (or compiled) before any timing."""
    for is_classification in (False, True):
        tiny = (classification if is_classification else friedman1)(0, n_samples=120)
        X = StandardScaler().fit_transform(tiny.X[:, :10])
        for name in methods:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                METHODS[name](X, tiny.y, is_classification, 0)


# --------------------------------------------------------------------------- report

COLUMNS = ["problem", "method", "kept", "precision", "recall", "exact", "score ratio", "time (s)"]


def _median(values, fmt):
    values = [v for v in values if v is not None and not np.isnan(v)]
    return format(float(np.median(values)), fmt) if values else "-"


def summary_rows(results):
    """Table rows (lists of str) from ``results[problem][method]``, a list of records
    (one per seed)."""
    rows = []
    for problem, by_method in results.items():
        for method, records in by_method.items():
            exact = [r["exact"] for r in records]
            rows.append(
                [
                    problem,
                    method,
                    _median([r["kept"] for r in records], "g"),
                    _median([r["precision"] for r in records], ".2f"),
                    _median([r["recall"] for r in records], ".2f"),
                    "-" if exact[0] is None else f"{sum(exact)}/{len(exact)}",
                    _median([r["ratio"] for r in records], ".3f"),
                    _median([r["time"] for r in records], ".1f"),
                ]
            )
    return rows


def markdown_table(rows):
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"


def rst_table(rows):
    """The rows as an RST ``list-table``."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [COLUMNS] + rows:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines) + "\n"


def machine_note():
    """One line on the machine and the versions."""
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"sklearn_reg {sklearn_reg.__version__}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed and smaller problems")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 3, 1 with --quick)")
    parser.add_argument("--methods", default="all", help="comma-separated keys of METHODS")
    parser.add_argument("--problems", default="all", help="comma-separated keys of PROBLEMS")
    parser.add_argument("--output", help="also write the table to this .md or .rst file")
    args = parser.parse_args(argv)

    methods = list(METHODS) if args.methods == "all" else args.methods.split(",")
    problems = list(PROBLEMS) if args.problems == "all" else args.problems.split(",")
    for kind, names, known in (("method", methods, METHODS), ("problem", problems, PROBLEMS)):
        unknown = [n for n in names if n not in known]
        if unknown:
            parser.error(f"unknown {kind} {unknown}; choose from {list(known)}")
    if args.output and not args.output.endswith((".md", ".rst")):
        parser.error(f"--output must end in .md or .rst, got {args.output!r}")
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    if n_seeds < 1:
        parser.error(f"--seeds must be at least 1, got {n_seeds}")

    print(machine_note())
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    warm_up(methods)
    results = {}
    for name in problems:
        generator, full, quick = PROBLEMS[name]
        by_seed = []
        for seed in range(n_seeds):
            problem = generator(seed, **(quick if args.quick else full))
            if seed == 0:
                print(f"{name}: {problem.X.shape[0]} × {problem.X.shape[1]}", flush=True)
            by_seed.append(evaluate(problem, methods, seed))
        results[name] = {m: [records[m] for records in by_seed] for m in methods}
    elapsed = time.perf_counter() - start
    rows = summary_rows(results)
    note = (
        f"{n_seeds} seed(s){', --quick' if args.quick else ''}; total {elapsed / 60:.1f} min; "
        f"load average {os.getloadavg()[0]:.1f} at the end; {machine_note()}"
    )
    print()
    print(markdown_table(rows))
    print(note)
    if args.output:
        table = rst_table(rows) if args.output.endswith(".rst") else markdown_table(rows)
        with open(args.output, "w") as file:
            command = " ".join(["selection_recovery.py", *(sys.argv[1:] if argv is None else argv)])
            file.write(f"{command}: {note}\n\n{table}")


if __name__ == "__main__":
    main()
