"""Head-to-head timings of sklearn_reg against scikit-learn's MLP and PyTorch.

Run from the repository root, in an environment with sklearn_reg installed::

    python asv_bench/compare.py                      # every case, < ~20 min on 2 cores
    python asv_bench/compare.py --quick              # smaller cases, 3 repeats, < ~5 min
    python asv_bench/compare.py --cases b,c,i --output results.md
    python asv_bench/compare.py --blas-threads 1     # steadier on a shared machine

It prints a markdown report (and writes it to ``--output`` if given):

- **Machine**: CPU model, cores, load average before and after, library versions,
  the BLAS libraries seen by threadpoolctl (if installed) and the values of
  ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` and the thread variables, which the
  script reports and never changes.
- **GEMM**: float64 and float32 GFLOP/s of ``numpy.matmul`` at the first-layer batch
  shape of each case and on a large square, with 1 and with all-core BLAS threads
  (threadpoolctl; on a busy machine multi-threaded BLAS on small shapes collapses).
- **Fit** (cases a–h): for each implementation the median wall time of ``fit`` over
  ``--repeats`` runs, the implementations alternated within each repeat (A B C,
  B C A, ...), its ratio to sklearn_reg, test accuracy, achieved GFLOP/s, time per
  epoch, the GEMM-only floor of an epoch (just the forward + backward matrix
  products at batch shape) and the ratio epoch / floor, i.e. how much of an epoch is
  spent outside the matrix products.
- **Predict** (case i): median time and peak traced memory of ``predict``.
- **Start-up** (case j): first fit in a fresh process with the numba cache on disk
  versus MLPClassifier's, the cold compile of every kernel (empty
  ``NUMBA_CACHE_DIR``), and the number of compiled signatures of
  ``sklearn_reg._kernels.train``.

Every fit trains the same network: ReLU hidden layers, Adam (learning rate 1e-3),
batch 200, a fixed number of epochs (``tol=0``, ``n_iter_no_change=10**9``), and the
same L2 strength — sklearn_reg's default λ = 1e-4 on Σ W², scikit-learn's
``alpha = 2·B·λ``, PyTorch's ``weight_decay = 2·λ`` on the weights only. PyTorch runs
only when ``import torch`` works (it is never a dependency of sklearn_reg): a plain
CPU training loop of the same model with ``torch.set_num_threads`` set to the cores.
Compile time is excluded from every timing but case j's: each implementation first
fits a few rows of the same dtype and input kind.
"""

import argparse
import dataclasses
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field

import numba
import numpy as np
import scipy
import scipy.linalg  # loads SciPy's BLAS, the one numba's np.dot calls, for threadpoolctl
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifier

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are left out
    torch = None
try:
    import threadpoolctl
except ImportError:  # optional: BLAS libraries unreported, GEMMs at the default threads only
    threadpoolctl = None

BATCH_SIZE = 200
LEARNING_RATE = 1e-3
LAMBDA = 1e-4  # sklearn_reg's default alpha: λ·Σ W² per objective
N_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
ENV_VARS = [
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMBA_CACHE_DIR",
]


# ---------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One benchmark: its data, network and training, and its ``--quick`` overrides."""

    key: str
    title: str
    kind: str = "fit"  # 'fit', 'predict' or 'startup'
    data: str = "dense"  # 'digits', 'dense' (make_classification) or 'sparse' (CSR)
    n_samples: int = 0  # training rows (the test set is 20 % more)
    n_features: int = 0
    epochs: int = 1
    hidden: tuple = (100,)
    dtype: str = "float64"
    params: dict = field(default_factory=dict)  # sklearn_reg's regularization
    quick: dict = field(default_factory=dict)


CASE_B = dict(n_samples=20_000, n_features=100, epochs=10, quick=dict(n_samples=5_000))
CASE_C = dict(n_samples=50_000, n_features=200, epochs=5, quick=dict(n_samples=10_000))

CASES = [
    Case("a", "digits (StandardScaler)", data="digits", epochs=50, quick=dict(epochs=20)),
    Case("b", "make_classification 20000×100", **CASE_B),
    Case("c", "make_classification 50000×200", **CASE_C),
    Case("d", "case c in float32", dtype="float32", **CASE_C),
    Case("e", "case c, hidden (256, 128)", hidden=(256, 128), **CASE_C),
    Case("f", "case b, dropout=0.5", params=dict(dropout=0.5), **CASE_B),
    Case("g", "case b, penalty='l1'", params=dict(penalty="l1"), **CASE_B),
    Case(
        "h",
        "CSR 20000×5000, 1 % density, planted signal",
        data="sparse",
        n_samples=20_000,
        n_features=5_000,
        epochs=5,
        quick=dict(n_samples=5_000),
    ),
    Case(
        "i",
        "predict 1000000×100",
        kind="predict",
        n_samples=1_000_000,
        n_features=100,
        quick=dict(n_samples=200_000),
    ),
    Case("j", "first fit in a fresh process, cold compile, signatures", kind="startup"),
]


def quick_version(case):
    """The case with its ``--quick`` overrides applied."""
    return dataclasses.replace(case, **case.quick)


def case_label(case):
    """'c: make_classification 50000×200 [50000×200, 5 epochs]', the sizes as run."""
    size = f"{case.n_samples}×{case.n_features}" if case.n_samples else ""
    epochs = f", {case.epochs} epochs" if case.kind == "fit" else ""
    return f"{case.key}: {case.title} [{size}{epochs}]".replace("[, ", "[")


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------


def make_data(case):
    """(X_train, X_test, y_train, y_test) of a fit case, the test set 20 % as large."""
    rng = np.random.default_rng(0)
    if case.data == "digits":
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        return train_test_split(X.astype(case.dtype), y, test_size=0.2, random_state=0)
    n_total = case.n_samples + case.n_samples // 5
    if case.data == "sparse":
        X = sp.random(
            n_total,
            case.n_features,
            density=0.01,
            format="csr",
            random_state=rng,
            data_rvs=rng.standard_normal,
        )
        score = X @ rng.standard_normal(case.n_features)  # planted linear signal
        y = (score > np.median(score)).astype(int)
    else:
        X, y = make_classification(
            n_samples=n_total,
            n_features=case.n_features,
            n_informative=case.n_features // 2,
            random_state=0,
        )
    X = X.astype(case.dtype)
    return X[: case.n_samples], X[case.n_samples :], y[: case.n_samples], y[case.n_samples :]


def layer_shapes(units):
    """[(fan_in, fan_out)] of each layer of a network with these units."""
    return list(zip(units[:-1], units[1:]))


def network_units(case, n_features, n_classes):
    """[n_features, hidden..., n_outputs]: one logistic output for 2 classes, else softmax."""
    return [n_features, *case.hidden, 1 if n_classes == 2 else n_classes]


# ---------------------------------------------------------------------------
# the implementations: objects with fit(X, y) and predict(X)
# ---------------------------------------------------------------------------


def common_params(case):
    return dict(
        hidden_layer_sizes=case.hidden,
        solver="adam",
        batch_size=BATCH_SIZE,
        learning_rate_init=LEARNING_RATE,
        max_iter=case.epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
    )


def make_sklearn_reg(case):
    return RegularizedMLPClassifier(**common_params(case), alpha=LAMBDA, **case.params)


def make_sklearn(case):
    # scikit-learn adds α/(2B)·‖W‖² per batch: α = 2·B·λ is the same L2; no dropout or L1
    return MLPClassifier(**common_params(case), alpha=2 * BATCH_SIZE * LAMBDA)


class TorchMLP:
    """The same network, trained by a plain PyTorch loop (Adam, batch 200, fixed epochs).

    The L2 is Adam's ``weight_decay = 2λ`` on the weights (not the biases); 'l1' adds
    λ·Σ|W| to the loss (the usual PyTorch idiom: a subgradient, no exact zeros);
    dropout is ``nn.Dropout`` after each hidden ReLU. CSR input is densified per batch.
    """

    PREDICT_CHUNK = 65_536

    def __init__(self, case):
        self.case = case

    def fit(self, X, y):
        torch.manual_seed(0)
        nn = torch.nn
        self.classes_, codes = np.unique(y, return_inverse=True)
        units = network_units(self.case, X.shape[1], len(self.classes_))
        drop = self.case.params.get("dropout", 0.0)
        layers = []
        for fan_in, fan_out in layer_shapes(units[:-1]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()] + ([nn.Dropout(drop)] if drop else [])
        layers.append(nn.Linear(units[-2], units[-1]))
        self.model = nn.Sequential(*layers).to(getattr(torch, self.case.dtype))
        weights = [p for name, p in self.model.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in self.model.named_parameters() if name.endswith("bias")]
        l1 = self.case.params.get("penalty") == "l1"
        optimizer = torch.optim.Adam(
            [
                {"params": weights, "weight_decay": 0.0 if l1 else 2 * LAMBDA},
                {"params": biases, "weight_decay": 0.0},
            ],
            lr=LEARNING_RATE,
        )
        if units[-1] == 1:
            loss_fn = nn.BCEWithLogitsLoss()
            target = torch.from_numpy(codes[:, None].astype(self.case.dtype))
        else:
            loss_fn, target = nn.CrossEntropyLoss(), torch.from_numpy(codes.astype(np.int64))
        self.model.train()
        data = self._tensor(X)
        for _ in range(self.case.epochs):
            order = torch.randperm(X.shape[0])
            for start in range(0, X.shape[0], BATCH_SIZE):
                rows = order[start : start + BATCH_SIZE]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(self.model(self._rows(data, rows)), target[rows])
                if l1:
                    loss = loss + LAMBDA * sum(w.abs().sum() for w in weights)
                loss.backward()
                optimizer.step()
        return self

    def predict(self, X):
        self.model.eval()
        data = self._tensor(X)
        with torch.no_grad():
            out = torch.cat(
                [
                    self.model(self._rows(data, slice(s, s + self.PREDICT_CHUNK)))
                    for s in range(0, X.shape[0], self.PREDICT_CHUNK)
                ]
            )
        codes = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1)
        return self.classes_[codes.numpy()]

    @staticmethod
    def _tensor(X):
        """A tensor sharing dense X's memory; CSR X stays CSR (densified per batch)."""
        return X if sp.issparse(X) else torch.from_numpy(X)

    @staticmethod
    def _rows(data, rows):
        if sp.issparse(data):
            rows = rows.numpy() if isinstance(rows, torch.Tensor) else rows
            return torch.from_numpy(data[rows].toarray())
        return data[rows]


IMPLEMENTATIONS = {"sklearn_reg": make_sklearn_reg, "sklearn": make_sklearn}
if torch is not None:
    IMPLEMENTATIONS["torch"] = TorchMLP


def implementation_note(name, case):
    """What differs from sklearn_reg's configuration, for the table's notes."""
    if name == "sklearn" and case.params:
        return "L2 only (no " + ", ".join(f"{k}={v!r}" for k, v in case.params.items()) + ")"
    if name == "torch" and case.params.get("penalty") == "l1":
        return "L1 as a loss term (subgradient)"
    if name == "torch" and case.data == "sparse":
        return "CSR batches densified"
    return ""


# ---------------------------------------------------------------------------
# measurement helpers
# ---------------------------------------------------------------------------


def alternate(jobs, repeats):
    """Run each job once per repeat, the order rotated each repeat (A B C, B C A, ...);
    return ({name: [seconds]}, {name: [results]})."""
    names = list(jobs)
    times, results = {name: [] for name in names}, {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            results[name].append(jobs[name]())
            times[name].append(time.perf_counter() - start)
    return times, results


def best_rate(fn, work, min_time=0.1, rounds=5):
    """Best of ``rounds`` of work-units / second, each round looping ``fn`` ≥ min_time."""
    fn()
    best = 0.0
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < min_time or n == 0:
            fn()
            n += 1
        best = max(best, n * work / elapsed)
    return best


def traced_peak(fn):
    """Peak memory traced by tracemalloc while ``fn()`` runs, in bytes."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def warm_up(make_model, X, y):
    """Fit and predict a few rows, so compile / first-call costs are not timed."""
    rows = np.unique(y, return_index=True)[1].tolist() + list(range(400))
    make_model().fit(X[rows], y[rows]).predict(X[:10])


def layer_flops(units, n_samples, first_fan_in=None):
    """FLOPs of forward + backward over n_samples: 2·n·Σ k·fan_in·fan_out, k = 2 for the
    first layer (z = xW, ∂W = xᵀδ: no gradient for the input) and 3 for the others
    (≈ 6·n·Σ fan_in·fan_out). ``first_fan_in`` replaces n_features by the mean number
    of non-zeros per row for CSR input."""
    shapes = layer_shapes([first_fan_in or units[0], *units[1:]])
    return sum(
        2 * n_samples * (2 if depth == 0 else 3) * fan_in * fan_out
        for depth, (fan_in, fan_out) in enumerate(shapes)
    )


def batch_products(units, dtype, batch=BATCH_SIZE):
    """The matrix products of one mini-batch, as (a, b, out) for np.matmul."""
    rng = np.random.default_rng(0)
    products = []
    for depth, (fan_in, fan_out) in enumerate(layer_shapes(units)):
        a = rng.standard_normal((batch, fan_in)).astype(dtype)
        W = rng.standard_normal((fan_in, fan_out)).astype(dtype)
        delta = rng.standard_normal((batch, fan_out)).astype(dtype)
        products.append((a, W, np.empty((batch, fan_out), dtype)))  # z = a·W
        products.append((a.T, delta, np.empty((fan_in, fan_out), dtype)))  # ∂W = aᵀ·δ
        if depth > 0:
            products.append((delta, W.T, np.empty((batch, fan_in), dtype)))  # δ_prev = δ·Wᵀ
    return products


def blas_thread_counts():
    """BLAS thread counts to measure GEMMs with: 1 and the current count (every core,
    unless ``--blas-threads`` lowered it), with threadpoolctl; else only the default (None)."""
    if threadpoolctl is None:
        return [None]
    current = [
        info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]
    return sorted({1, max(current, default=N_CORES)})


def with_blas_threads(threads, fn):
    """fn() with the BLAS libraries limited to ``threads`` (None: unchanged)."""
    if threads is None:
        return fn()
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        return fn()


def gemm_floor(units, n_samples, dtype):
    """(seconds, BLAS threads) per epoch of just the forward + backward matrix products
    at batch shape, at the better of the thread counts."""
    products = batch_products(units, dtype)

    def one_batch():
        for a, b, out in products:
            np.matmul(a, b, out=out)

    rates = {
        t: with_blas_threads(t, lambda: best_rate(one_batch, 1.0)) for t in blas_thread_counts()
    }
    threads = max(rates, key=rates.get)
    return n_samples / BATCH_SIZE / rates[threads], threads


def matmul_gflops(m, k, n, dtype, threads=None):
    """GFLOP/s of numpy's (m×k)·(k×n) matmul with ``threads`` BLAS threads, best of 5."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype)
    rate = with_blas_threads(
        threads, lambda: best_rate(lambda: np.matmul(a, b, out=out), 2.0 * m * k * n)
    )
    return rate / 1e9


# ---------------------------------------------------------------------------
# reports: machine, GEMM
# ---------------------------------------------------------------------------


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def blas_libraries():
    """One line per native thread pool seen by threadpoolctl, if it is installed."""
    if threadpoolctl is None:
        return ["threadpoolctl not installed"]
    return [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('user_api')}, "
        f"{i.get('num_threads')} threads, {i.get('architecture') or '-'}) "
        f"{os.path.basename(i.get('filepath', ''))}"
        for i in threadpoolctl.threadpool_info()
    ]


def machine_report(load_before):
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "numba": numba.__version__,
        "torch": torch.__version__ if torch is not None else "not installed",
    }
    rows = [
        ("CPU", cpu_model()),
        ("cores (affinity)", N_CORES),
        ("load average before / after", f"{load_before} / {load_average()}"),
    ]
    rows += [(name, version) for name, version in versions.items()]
    if torch is not None:
        rows.append(("torch threads", torch.get_num_threads()))
    rows += [(name, os.environ.get(name, "unset")) for name in ENV_VARS]
    rows += [("BLAS / OpenMP", lib) for lib in blas_libraries()]
    return ["## Machine", ""] + markdown_table(["", ""], rows)


def gemm_report(cases, quick):
    """GFLOP/s of numpy matmul at each fit case's first-layer shapes and a large square."""
    square = 1000 if quick else 2000
    shapes = {
        (BATCH_SIZE, case.n_features or 64, case.hidden[0])  # digits: 64 pixels
        for case in cases
        if case.kind == "fit" and case.data != "sparse"
    }
    shapes = sorted(shapes) + [(square, square, square)]
    columns = [(dtype, t) for dtype in ("float64", "float32") for t in blas_thread_counts()]
    header = ["shape"] + [
        f"{dtype} GFLOP/s" + (f", {t} BLAS thread{'s' * (t > 1)}" if t else "")
        for dtype, t in columns
    ]
    rows = [
        [f"{m}×{k} @ {k}×{n}"] + [f"{matmul_gflops(m, k, n, dtype, t):.1f}" for dtype, t in columns]
        for m, k, n in shapes
    ]
    return ["## GEMM: numpy.matmul, best of 5", ""] + markdown_table(header, rows)


# ---------------------------------------------------------------------------
# the runners of the three kinds of case
# ---------------------------------------------------------------------------


def run_fit_case(case, repeats):
    """Rows of the fit table: one per implementation."""
    X, X_test, y, y_test = make_data(case)
    makers = {name: (lambda make=make: make(case)) for name, make in IMPLEMENTATIONS.items()}
    for make_model in makers.values():
        warm_up(make_model, X, y)
    times, fitted = alternate(
        {name: (lambda m=m: m().fit(X, y)) for name, m in makers.items()}, repeats
    )
    units = network_units(case, X.shape[1], len(np.unique(y)))
    nnz_per_row = X.nnz / X.shape[0] if sp.issparse(X) else None
    flops = case.epochs * layer_flops(units, X.shape[0], nnz_per_row)
    floor = None if sp.issparse(X) else gemm_floor(units, X.shape[0], case.dtype)
    reference = np.median(times["sklearn_reg"])
    return [
        fit_row(
            case,
            name,
            times[name],
            reference,
            np.mean(models[-1].predict(X_test) == y_test),
            flops,
            floor,
        )
        for name, models in fitted.items()
    ]


def fit_row(case, name, times, reference, accuracy, flops, floor):
    """One row of the fit table; ``floor`` is (seconds per epoch, BLAS threads) or None."""
    median = np.median(times)
    epoch = median / case.epochs
    floor_cells = ["—", "—"]
    if floor is not None:
        seconds, threads = floor
        floor_cells = [
            f"{seconds * 1e3:.1f}" + (f" ({threads} thr)" if threads else ""),
            f"{epoch / seconds:.1f}",
        ]
    return [
        case_label(case),
        name,
        f"{median:.3f}",
        f"{min(times):.3f}–{max(times):.3f}",
        f"{median / reference:.2f}",
        f"{accuracy:.4f}",
        f"{flops / median / 1e9:.1f}",
        f"{epoch * 1e3:.1f}",
        *floor_cells,
        implementation_note(name, case),
    ]


FIT_HEADER = [
    "case",
    "implementation",
    "median s",
    "min–max s",
    "÷ sklearn_reg",
    "test accuracy",
    "GFLOP/s",
    "ms / epoch",
    "GEMM floor ms / epoch",
    "epoch ÷ floor",
    "notes",
]
FIT_LEGEND = [
    "÷ sklearn_reg: median time over sklearn_reg's (> 1: sklearn_reg is faster). "
    "Accuracy on a held-out 20 %. GFLOP/s: FLOPs of forward + backward, "
    "2·n·Σ k·fan_in·fan_out per epoch (k = 2 for the first layer, 3 for the others; "
    "for CSR the first fan_in is the mean non-zeros per row), over the median time. "
    "GEMM floor: best time of just those matrix products with numpy.matmul at batch "
    "shape (200 rows), per epoch, at the better of 1 and all-core BLAS threads (shown); "
    "epoch ÷ floor > 1 is the time spent elsewhere "
    "(gathering batches, activations, optimizer, Python) — no floor for CSR input.",
    "",
]


def run_predict_case(case, repeats):
    """Rows of the predict table: time and peak traced memory of predict on many rows."""
    fit_case = dataclasses.replace(case, kind="fit", n_samples=2_000, epochs=1)
    X, _, y, _ = make_data(fit_case)
    X_big = np.random.default_rng(0).standard_normal((case.n_samples, case.n_features))
    models = {name: make(fit_case).fit(X, y) for name, make in IMPLEMENTATIONS.items()}
    for model in models.values():
        model.predict(X[:10])
    times, _ = alternate(
        {name: (lambda m=m: m.predict(X_big)) for name, m in models.items()}, repeats
    )
    units = network_units(case, case.n_features, 2)
    flops = 2 * case.n_samples * sum(a * b for a, b in layer_shapes(units))
    reference = np.median(times["sklearn_reg"])
    rows = []
    for name, model in models.items():
        median = np.median(times[name])
        peak = (
            "— (torch allocator)"
            if name == "torch"
            else f"{traced_peak(lambda m=model: m.predict(X_big)) / 2**20:.1f}"
        )
        rows.append(
            (
                case_label(case),
                name,
                f"{median:.3f}",
                f"{median / reference:.2f}",
                f"{flops / median / 1e9:.1f}",
                peak,
            )
        )
    return rows


PREDICT_HEADER = [
    "case",
    "implementation",
    "median s",
    "÷ sklearn_reg",
    "GFLOP/s",
    "peak traced MiB",
]
PREDICT_LEGEND = [
    "Each model is first fitted for 1 epoch on 2000 rows; X is float64 standard normal. "
    "Peak traced MiB: tracemalloc's peak during predict, allocations of numpy / Python "
    "only: buffers allocated inside numba kernels (sklearn_reg: one chunk of 4096 rows × "
    "hidden units) and PyTorch's allocator are not traced.",
    "",
]

#: run in a fresh interpreter: prints JSON timings of the first fits + predicts
STARTUP_SCRIPT = r"""
import json, sys, time, warnings
t0 = time.perf_counter()
if sys.argv[1] == "sklearn_reg":
    from sklearn_reg import RegularizedMLPClassifier as Estimator
else:
    from sklearn.neural_network import MLPClassifier as Estimator
import numpy as np, scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
imported = time.perf_counter() - t0
warnings.simplefilter("ignore", ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X = X / 16.0

def fit_predict(X):
    start = time.perf_counter()
    Estimator(max_iter=5, random_state=0).fit(X, y).predict(X)
    return time.perf_counter() - start

out = {"import": imported, "first": fit_predict(X), "second": fit_predict(X)}
if "--every-kind" in sys.argv:
    out["float32"] = fit_predict(X.astype(np.float32))
    out["csr"] = fit_predict(sp.csr_matrix(X))
print(json.dumps(out))
"""

#: run in a fresh interpreter: fits every configuration, counts the training loop's signatures
SIGNATURE_SCRIPT = r"""
import itertools, json, warnings
import numpy as np, scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn_reg import RegularizedMLPClassifier, _kernels as K
warnings.simplefilter("ignore", ConvergenceWarning)
rng = np.random.default_rng(0)
X, y = rng.standard_normal((60, 8)), np.arange(60) % 3
grid = itertools.product([None, "l2", "l1", "wd", "elasticnet", "group"],
                         ["identity", "logistic", "tanh", "relu"], ["sgd", "adam", "lbfgs"])
fits = 0
for penalty, activation, solver in grid:
    if solver == "lbfgs" and penalty not in (None, "l2"):
        continue
    RegularizedMLPClassifier((5,), activation, solver=solver, penalty=penalty, max_iter=2,
                             random_state=0).fit(X, y)
    fits += 1
out = {"fits": fits, "float64": len(K.train.signatures)}
RegularizedMLPClassifier((5,), max_iter=2).fit(X.astype(np.float32), y)
out["+ float32"] = len(K.train.signatures)
RegularizedMLPClassifier((5,), max_iter=2).fit(sp.csr_matrix(X), y)
out["+ CSR"] = len(K.train.signatures)
out["signatures"] = [str(s) for s in K.train.signatures]
print(json.dumps(out))
"""


def run_script(script, *args, env=None):
    """(parsed JSON of the last stdout line, wall seconds) of a fresh interpreter."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"subprocess failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def run_startup_case(case, repeats):
    """Rows of the start-up table: warm first fit, cold compile, signature count."""
    run_script(STARTUP_SCRIPT, "sklearn_reg", "--every-kind")  # puts the numba cache on disk
    names = ["sklearn_reg", "sklearn"]
    _, runs = alternate(
        {name: (lambda n=name: run_script(STARTUP_SCRIPT, n)) for name in names}, repeats
    )
    warm = {
        name: {
            key: np.median([timings[key] for timings, _ in runs[name]])
            for key in ("import", "first", "second")
        }
        for name in names
    }
    for name in names:
        warm[name]["wall"] = np.median([wall for _, wall in runs[name]])
    with tempfile.TemporaryDirectory() as cache:
        cold, _ = run_script(
            STARTUP_SCRIPT, "sklearn_reg", "--every-kind", env={"NUMBA_CACHE_DIR": cache}
        )
    signatures, _ = run_script(SIGNATURE_SCRIPT)
    return _startup_rows(warm, cold, signatures, repeats)


def short_signature(signature):
    """numba's "Array(float64, 2, 'C', False, aligned=True)" written as "float64[2d C]"
    ("float64[2d C readonly]" for a read-only array)."""

    def short(match):
        dtype, ndim, layout, readonly = match.groups()
        return f"{dtype}[{ndim}d {layout}{' readonly' if readonly == 'True' else ''}]"

    return re.sub(r"Array\((\w+), (\d+), '(\w)', (\w+), aligned=True\)", short, signature)


def _startup_rows(warm, cold, signatures, repeats):
    ours, theirs = warm["sklearn_reg"], warm["sklearn"]
    rows = [
        (
            f"{label} (median of {repeats} processes)",
            f"{ours[key]:.3f}",
            f"{theirs[key]:.3f}",
            f"{theirs[key] / ours[key]:.2f}",
        )
        for key, label in [
            ("import", "import of the estimator, s"),
            ("first", "first fit + predict, warm numba cache, s"),
            ("second", "second fit + predict, same process, s"),
            ("wall", "whole process (interpreter start to exit), s"),
        ]
    ]
    rows += [
        (
            "cold compile: first float64 fit + predict, empty NUMBA_CACHE_DIR, s",
            f"{cold['first']:.2f}",
            f"{theirs['first']:.3f}",
            "—",
        ),
        (
            "cold compile: then the first float32 fit + predict, s",
            f"{cold['float32']:.2f}",
            "—",
            "—",
        ),
        ("cold compile: then the first CSR fit + predict, s", f"{cold['csr']:.2f}", "—", "—"),
        (
            f"train signatures after {signatures['fits']} float64 fits "
            "(penalty × activation × solver)",
            signatures["float64"],
            "—",
            "—",
        ),
        ("train signatures, + one float32 fit", signatures["+ float32"], "—", "—"),
        ("train signatures, + one CSR fit", signatures["+ CSR"], "—", "—"),
    ]
    return rows, signatures["signatures"]


STARTUP_HEADER = [
    "measurement (digits, 5 epochs)",
    "sklearn_reg",
    "sklearn",
    "sklearn ÷ sklearn_reg",
]


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller cases and 3 repeats (< ~5 min on 2 cores)"
    )
    parser.add_argument(
        "--cases",
        default=",".join(c.key for c in CASES),
        help="comma-separated case keys, default: all (%(default)s)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per implementation (default 3 with --quick, else 5)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS (and PyTorch) to this many threads for the cases, "
        "e.g. 1 on a shared machine (default: unchanged, all cores)",
    )
    parser.add_argument("--output", help="also write the markdown report to this file")
    return parser.parse_args(argv)


def selected_cases(args):
    keys = [k.strip() for k in args.cases.split(",") if k.strip()]
    unknown = sorted(set(keys) - {c.key for c in CASES})
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; choose among {[c.key for c in CASES]}")
    cases = [c for c in CASES if c.key in keys]
    return [quick_version(c) for c in cases] if args.quick else cases


def run_cases(cases, repeats):
    """({'fit' | 'predict' | 'startup': rows}, train signatures, failure lines)."""
    runners = {"fit": run_fit_case, "predict": run_predict_case}
    tables = {"fit": [], "predict": [], "startup": []}
    signatures, failures = [], []
    for case in cases:
        print(f"running {case_label(case)} ...", file=sys.stderr, flush=True)
        try:
            if case.kind == "startup":
                rows, signatures = run_startup_case(case, repeats)
            else:
                rows = runners[case.kind](case, repeats)
            tables[case.kind] += rows
        except Exception as exc:  # report it with the other cases' results
            last_line = (str(exc).strip().splitlines() or [""])[-1]
            failures.append(f"- {case_label(case)}: {type(exc).__name__}: {last_line}")
            print(f"case {case.key} failed: {exc}", file=sys.stderr, flush=True)
    return tables, signatures, failures


def render_report(args, repeats, machine, gemm, tables, signatures, failures):
    """The markdown report."""
    lines = [
        f"# sklearn_reg vs scikit-learn{' vs PyTorch' if torch else ''}"
        f"{' (--quick)' if args.quick else ''}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}; {repeats} repeats per implementation, "
        "the implementations alternated; times are medians; BLAS threads: "
        f"{args.blas_threads or 'default'}.",
        "",
    ]
    lines += machine + [""] + gemm + [""]
    if tables["fit"]:
        lines += ["## Fit", ""] + markdown_table(FIT_HEADER, tables["fit"]) + [""] + FIT_LEGEND
    if tables["predict"]:
        lines += ["## Predict", ""] + markdown_table(PREDICT_HEADER, tables["predict"])
        lines += [""] + PREDICT_LEGEND
    if tables["startup"]:
        lines += ["## Start-up", ""] + markdown_table(STARTUP_HEADER, tables["startup"])
        lines += ["", "train signatures:", ""]
        lines += [f"- `{short_signature(s)}`" for s in signatures] + [""]
    if failures:
        lines += ["## Failed cases", ""] + failures + [""]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.blas_threads and threadpoolctl is None:
        raise SystemExit("--blas-threads needs threadpoolctl (pip install threadpoolctl)")
    if torch is not None:
        torch.set_num_threads(args.blas_threads or N_CORES)
    repeats = args.repeats or (3 if args.quick else 5)
    cases = selected_cases(args)
    started, load_before = time.perf_counter(), load_average()
    print("measuring GEMM ...", file=sys.stderr, flush=True)
    gemm = gemm_report(cases, args.quick)
    tables, signatures, failures = with_blas_threads(
        args.blas_threads, lambda: run_cases(cases, repeats)
    )
    report = render_report(
        args, repeats, machine_report(load_before), gemm, tables, signatures, failures
    )
    report += f"\nTotal run time of this script: {time.perf_counter() - started:.0f} s."
    print(report)
    if args.output:
        with open(args.output, "w") as f:
            f.write(report + "\n")


if __name__ == "__main__":
    main()
