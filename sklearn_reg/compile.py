"""Compile every numba kernel of sklearn_reg ahead of use: ``python -m sklearn_reg.compile``.

An installation from a source checkout (or with another numba than its wheel was built
with) compiles its kernels at the first ``fit``, which takes about half a minute; numba
then caches them on disk. A wheel ships them compiled for x86-64 CPUs with AVX2 and FMA
(as fast as host code) and for a generic CPU (about 1.3x slower epochs). Run this
command once where the package is installed (a container image build, a CI cache step,
each cluster worker) so that no user's first fit compiles, and every process runs
host-CPU code (it ignores the shipped kernels, and numba's cache is read before them)::

    python -m sklearn_reg.compile                 # float64 and float32
    python -m sklearn_reg.compile --dtype float64

It fits tiny models through the public estimators, for each dtype, on dense and CSR
input, with every solver, early stopping, and a regressor, then predicts: every kernel
signature that ``fit`` and ``predict`` use gets compiled and cached. It prints what it
compiled and how long it took. The cache lives where numba puts it: the package's
``__pycache__``, or ``NUMBA_CACHE_DIR`` if set (see the documentation page
"First run and deployment").

Building the package runs ``python -m sklearn_reg.compile --into DIR`` once per shipped
CPU tier, with ``NUMBA_CPU_NAME=generic`` and (on x86-64 CPUs that run it)
``NUMBA_CPU_NAME=x86-64-v3``: the same fits, whose cache files are then copied with a
manifest into ``DIR``, the tier's folder of ``_prebuilt`` that ships in the wheel (see
:mod:`sklearn_reg._jit`).
"""

import argparse
import os
import sys
import time
import warnings

import numba
import numpy as np
import scipy.sparse as sp
from numba.core import event
from sklearn.exceptions import ConvergenceWarning

from . import RegularizedMLPClassifier, RegularizedMLPRegressor, __version__, _jit
from .exceptions import CompileNotice

#: the input dtypes that the estimators keep (any other is converted to float64)
DTYPES = ("float64", "float32")


def _tiny_problem(dtype, sparse):
    """20 samples of 4 features, 3 classes, a regression target; as ``dtype``."""
    rng = np.random.RandomState(0)
    X = rng.rand(20, 4).astype(dtype)
    X[X < 0.3] = 0.0
    y_class = np.arange(20) % 3
    y_reg = X.sum(axis=1).astype(dtype)
    return (sp.csr_matrix(X) if sparse else X), y_class, y_reg


def _fit_and_predict(dtype, sparse):
    """Fit and predict through every path that reaches a kernel."""
    X, y_class, y_reg = _tiny_problem(dtype, sparse)
    small = {"hidden_layer_sizes": (3,), "max_iter": 2, "random_state": 0}
    masks = {"feature_shape": (2, 2), "block_size": 1}
    models = [
        RegularizedMLPClassifier(solver="adam", **small),
        RegularizedMLPClassifier(
            solver="sgd", early_stopping=True, validation_fraction=0.2, **small
        ),
        RegularizedMLPClassifier(solver="lbfgs", **small),
        # dropout and the input masks are compiled separately (a fit without them
        # compiles none of their code): each combination once
        RegularizedMLPClassifier(dropout=0.2, **small),
        RegularizedMLPClassifier(dropblock=0.2, **masks, **small),
        RegularizedMLPClassifier(dropout=0.2, spatial_dropout=0.2, **masks, **small),
    ]
    if not sparse:  # per-feature penalty weights: the second fit of adaptive='auto'
        models.append(RegularizedMLPClassifier(penalty="l1", penalty_weights=np.ones(4), **small))
    for model in models:
        model.fit(X, y_class).predict_proba(X)
    RegularizedMLPRegressor(
        solver="adam", early_stopping=True, validation_fraction=0.2, **small
    ).fit(X, y_reg).predict(X)


def compile_kernels(dtypes=DTYPES, layouts=("dense", "CSR"), verbose=False):
    """Compile (or load from numba's cache) every kernel for ``dtypes`` and ``layouts``.

    Code for this CPU: the kernels shipped in the wheel are not read meanwhile, so that
    numba's cache receives host-CPU code.

    Parameters
    ----------
    dtypes : sequence of str, default=("float64", "float32")
        Input dtypes to compile for.
    layouts : sequence of {"dense", "CSR"}, default=("dense", "CSR")
        Input layouts to compile for.
    verbose : bool, default=False
        Print one line per case to standard output.

    Returns
    -------
    report : list of dict
        One dict per (dtype, layout): ``dtype``, ``layout``, ``seconds`` and
        ``compiled``, the names of the kernels that numba compiled (empty when all came
        from the cache).

    Examples
    --------
    >>> from sklearn_reg.compile import compile_kernels
    >>> report = compile_kernels(["float64"], ["dense"])
    >>> [(r["dtype"], r["layout"]) for r in report]
    [('float64', 'dense')]
    """
    unknown = set(dtypes) - set(DTYPES)
    if unknown:
        raise ValueError(f"dtypes must be among {DTYPES}, got {sorted(unknown)}.")
    unknown = set(layouts) - {"dense", "CSR"}
    if unknown:
        raise ValueError(f"layouts must be among ('dense', 'CSR'), got {sorted(unknown)}.")
    kernel_ids = {id(k) for k in _jit.kernels}
    report = []
    saved, _jit.use_shipped = _jit.use_shipped, False  # compile code for this CPU
    try:
        for dtype in dtypes:
            for layout in layouts:
                report.append(_compile_case(dtype, layout, kernel_ids, verbose))
    finally:
        _jit.use_shipped = saved
    return report


def _compile_case(dtype, layout, kernel_ids, verbose):
    """Fit and predict for one dtype and layout; what numba compiled and how long it took."""
    start = time.perf_counter()
    with warnings.catch_warnings(), event.install_recorder("numba:compile") as rec:
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", CompileNotice)
        _fit_and_predict(dtype, layout == "CSR")
    seconds = time.perf_counter() - start
    compiled = sorted(
        {
            ev.data["dispatcher"].py_func.__name__
            for _, ev in rec.buffer
            if ev.is_start and id(ev.data["dispatcher"]) in kernel_ids
        }
    )
    if verbose:
        what = f"compiled {len(compiled)} kernels" if compiled else "nothing to compile"
        print(f"{dtype:8} {layout:6} {seconds:7.1f} s  {what}", flush=True)
    return {"dtype": dtype, "layout": layout, "seconds": seconds, "compiled": compiled}


def write_prebuilt(destination):
    """Compile every kernel for a shipped CPU tier and copy numba's files into ``destination``.

    The process must run with ``NUMBA_CPU_NAME`` and ``NUMBA_CPU_FEATURES`` naming a
    tier (numba reads them at import): ``generic`` (features unset), or ``x86-64-v3``
    with ``NUMBA_CPU_FEATURES=""``; it should use an empty ``NUMBA_CACHE_DIR``.
    ``destination`` receives one folder per kernel folder of the package (``.`` for the
    package itself) holding each kernel's index (``.nbi``) and data (``.nbc``) files, and
    :data:`sklearn_reg._jit.MANIFEST`, which names the numba, Python, platform and CPU
    and each file's SHA-256 digest.

    Parameters
    ----------
    destination : str
        A folder, created if missing; usually ``sklearn_reg/_prebuilt`` of a build (the
        generic tier) or its subfolder ``x86-64-v3``.

    Returns
    -------
    n_files : int
        The number of cache files written.

    Raises
    ------
    RuntimeError
        If numba does not compile for a shipped tier, this CPU cannot run the tier's
        code (the fits run it), or a signature that the fits compiled is missing from
        numba's cache (then the shipped kernels would be incomplete).
    """
    cpu = (str(numba.config.CPU_NAME).lower(), numba.config.CPU_FEATURES)
    if cpu not in (_jit.GENERIC_CPU, _jit.X86_64_V3):
        raise RuntimeError(
            "write_prebuilt needs the environment variable NUMBA_CPU_NAME=generic (and no "
            'NUMBA_CPU_FEATURES), or NUMBA_CPU_NAME=x86-64-v3 and NUMBA_CPU_FEATURES="".'
        )
    if cpu not in _jit.shipped_tiers():
        raise RuntimeError(f"this CPU cannot run {cpu[0]} code, which the fits run.")
    compile_kernels()
    return _jit.save_shipped(destination, _jit.kernels, cpu)


def cache_location():
    """Where numba caches the kernels in this process, or None if it does not.

    Returns
    -------
    directory : str or None
        The folder that holds numba's cache files of the kernels (the longest path
        common to them all).
    """
    paths = {getattr(k, "stats", None) and k.stats.cache_path for k in _jit.kernels}
    paths.discard(None)
    return os.path.commonpath(sorted(paths)) if paths else None


def main(argv=None):
    """Entry point of ``python -m sklearn_reg.compile``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments; default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 when the kernels are compiled and cached; 1 when numba has no cache
        directory, so that nothing outlives this process.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_reg.compile",
        description="Compile the numba kernels of sklearn_reg into numba's on-disk cache "
        "so that no first fit pays for it.",
    )
    parser.add_argument(
        "--dtype",
        choices=[*DTYPES, "all"],
        default="all",
        help="input dtype to compile for (default: all)",
    )
    parser.add_argument(
        "--into",
        metavar="DIR",
        help="also copy the compiled kernels with a manifest into DIR, as the "
        "package build does for each tier of its _prebuilt folder (needs "
        "NUMBA_CPU_NAME=generic, or NUMBA_CPU_NAME=x86-64-v3 and NUMBA_CPU_FEATURES='')",
    )
    args = parser.parse_args(argv)
    dtypes = DTYPES if args.dtype == "all" else (args.dtype,)
    if args.into:
        if args.dtype != "all":
            parser.error("--into compiles every dtype: leave out --dtype")
        start = time.perf_counter()
        try:
            n_files = write_prebuilt(args.into)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(
            f"sklearn_reg {__version__}: {n_files} cache files of "
            f"{numba.config.CPU_NAME}-CPU kernels in "
            f"{args.into} ({time.perf_counter() - start:.1f} s)"
        )
        return 0

    location = cache_location()
    print(
        f"sklearn_reg {__version__}: compiling the kernels for "
        f"{', '.join(dtypes)}, dense and CSR input"
    )
    print(f"cache: {location or 'none (no writable cache directory)'}", flush=True)
    start = time.perf_counter()
    report = compile_kernels(dtypes, verbose=True)
    n_compiled = len({name for r in report for name in r["compiled"]})
    print(
        f"done in {time.perf_counter() - start:.1f} s: {n_compiled} kernels compiled, "
        f"{len(_jit.kernels)} kernels in all"
    )
    if location is None:
        print("Nothing was cached: set NUMBA_CACHE_DIR to a writable directory.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
