"""Start-up costs of sklearn_reg beside scikit-learn's MLPClassifier, in fresh processes.

Run from anywhere; each measurement is a new Python process::

    python asv_bench/startup.py                         # 3 repeats, this checkout
    python asv_bench/startup.py --repeats 5 --output startup.md
    python asv_bench/startup.py --ref /tmp/sklearn_reg-old   # another checkout too
    python asv_bench/startup.py --wheel dist/sklearn_reg-*.whl  # an installed wheel too

``--ref`` takes the root of another checkout of the project (for example an older
commit exported with ``git archive <commit> | tar -x -C /tmp/sklearn_reg-old``) and
times it in the same run, the implementations alternated within each repeat, so that
improvements are measured side by side on the same machine load. ``--wheel`` takes a
wheel built from the project (``pip wheel --no-deps -w dist .``), installs it into a
fresh virtual environment of the script's own (its dependencies are this environment's,
named by a ``.pth`` file) and times it too: a first fit from the kernels shipped in the
wheel, as after ``pip install sklearn_reg``.

Measured, for ``RegularizedMLPClassifier(max_iter=5)`` and
``MLPClassifier(max_iter=5)`` on digits (1797 × 64, float64):

- (a) **import**: ``from sklearn_reg import RegularizedMLPClassifier`` (resp.
  ``from sklearn.neural_network import MLPClassifier``), in-process wall time;
- (b) **cold first fit + predict**: the first ``fit`` and ``predict`` of a process whose
  numba cache is empty (a fresh temporary ``NUMBA_CACHE_DIR`` per run, and a copy of
  the package without ``__pycache__`` or shipped kernels): numba compiles every kernel;
  for the installed wheel, the user's cache is empty and the shipped kernels load;
- (c) **warm first fit + predict**: the same with the cache populated;
- (d) **RSS**: the peak resident set size (``resource.getrusage``) of the warm process
  after its fit and predict;
- (e) **cross_val_score(n_jobs=2)**, 5 folds, warm and cold cache: the loky workers are
  new processes, so each loads (warm) or compiles (cold) the kernels itself.

Each cell is the median over ``--repeats`` runs, with the range in parentheses.
scikit-learn's MLP compiles nothing: its cold and warm rows differ only by noise.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile

#: runs in each child process; prints one JSON object
_CHILD = r"""
import json, resource, sys, time, warnings
start = time.perf_counter()
if sys.argv[1] == "sklearn_reg":
    from sklearn_reg import RegularizedMLPClassifier as Estimator
else:
    from sklearn.neural_network import MLPClassifier as Estimator
imported = time.perf_counter()
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
X, y = load_digits(return_X_y=True)
warnings.simplefilter("ignore")
result = {"import": imported - start}
if sys.argv[2] == "fit":
    start = time.perf_counter()
    Estimator(max_iter=5, random_state=0).fit(X, y).predict(X)
    result["fit_predict"] = time.perf_counter() - start
    result["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
else:
    start = time.perf_counter()
    cross_val_score(Estimator(max_iter=5, random_state=0), X, y, cv=5, n_jobs=2)
    result["cv"] = time.perf_counter() - start
print(json.dumps(result))
"""

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_child(implementation, mode, pythonpath, cache_dir, workdir, python=sys.executable):
    """One fresh process; returns its JSON result."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run(
        [python, "-c", _CHILD, implementation, mode],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{implementation} {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _clean_copy(root, workdir):
    """A copy of the checkout's package without its ``__pycache__``, so that no cache
    compiled in the checkout (which sklearn_reg would copy into an empty
    ``NUMBA_CACHE_DIR``) makes a cold run warm."""
    copy = tempfile.mkdtemp(prefix="checkout-", dir=workdir)
    shutil.copytree(
        os.path.join(root, "sklearn_reg"),
        os.path.join(copy, "sklearn_reg"),
        ignore=shutil.ignore_patterns("__pycache__", "_prebuilt"),
    )
    return copy


def install_wheel(wheel, workdir):
    """A fresh virtual environment in ``workdir`` with ``wheel`` installed; its Python.

    Only sklearn_reg is installed; a ``.pth`` file names this environment's
    site-packages for the dependencies (after the venv's own, so the wheel's copy wins).
    """
    root = os.path.join(workdir, "wheel-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", root], check=True)
    python = os.path.join(
        root, "Scripts" if os.name == "nt" else "bin", "python.exe" if os.name == "nt" else "python"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        env=env,
        check=True,
    )
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    with open(os.path.join(purelib, "dependencies.pth"), "w") as f:
        f.write("\n".join(deps) + "\n")
    return python


def _commit(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.basename(root)


def _cell(values, unit, digits):
    if not values:
        return "–"
    median = statistics.median(values)
    spread = f" ({min(values):.{digits}f}–{max(values):.{digits}f})" if len(values) > 1 else ""
    return f"{median:.{digits}f} {unit}{spread}"


def measure(implementations, repeats, workdir, log=sys.stderr):
    """Time every measure for every implementation, alternating them within each repeat.

    Parameters
    ----------
    implementations : list of (label, package name, PYTHONPATH, Python)
        The package name is ``"sklearn_reg"`` or ``"sklearn"``; a checkout's package is
        timed from a clean copy, an installed one (empty PYTHONPATH) as it is.
    repeats : int
        Runs per measure.
    workdir : str
        A scratch directory for the child processes and the numba caches.
    log : file-like
        Progress lines.

    Returns
    -------
    results : dict
        ``results[label][measure]`` is the list of values of that measure.
    """
    results = {label: {} for label, _, _, _ in implementations}
    implementations = [
        (
            label,
            package,
            _clean_copy(path, workdir) if package == "sklearn_reg" and path else path,
            python,
        )
        for label, package, path, python in implementations
    ]
    warm = {}
    for label, package, path, python in implementations:  # populate each warm cache
        warm[label] = tempfile.mkdtemp(prefix="warm-", dir=workdir)
        _run_child(package, "fit", path, warm[label], workdir, python)
    for r in range(repeats):
        shift = r % len(implementations)
        order = implementations[shift:] + implementations[:shift]
        for label, package, path, python in order:
            print(f"repeat {r + 1}/{repeats}: {label}", file=log, flush=True)
            rec = results[label]
            w = _run_child(package, "fit", path, warm[label], workdir, python)
            rec.setdefault("import", []).append(w["import"])
            rec.setdefault("warm", []).append(w["fit_predict"])
            rec.setdefault("rss", []).append(w["maxrss_mib"])
            for mode, key in (("fit", "cold"), ("cv", "cv_cold")):
                cold = tempfile.mkdtemp(prefix="cold-", dir=workdir)
                c = _run_child(package, mode, path, cold, workdir, python)
                rec.setdefault(key, []).append(c["fit_predict" if mode == "fit" else "cv"])
                shutil.rmtree(cold, ignore_errors=True)
            rec.setdefault("cv_warm", []).append(
                _run_child(package, "cv", path, warm[label], workdir, python)["cv"]
            )
    return results


def table(implementations, results):
    """The markdown table: one row per measure, one column per implementation."""
    rows = [
        ("(a) import", "import", "s", 2),
        ("(b) cold first fit + predict", "cold", "s", 2),
        ("(c) warm first fit + predict", "warm", "s", 2),
        ("(d) RSS after warm fit + predict", "rss", "MiB", 0),
        ("(e) cross_val_score(n_jobs=2), cold", "cv_cold", "s", 2),
        ("(e) cross_val_score(n_jobs=2), warm", "cv_warm", "s", 2),
    ]
    labels = [label for label, _, _, _ in implementations]
    lines = ["| measure | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for name, key, unit, digits in rows:
        cells = [_cell(results[label].get(key, []), unit, digits) for label in labels]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    """Run the benchmark and print the markdown report.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; default ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measure (≥ 1)")
    parser.add_argument(
        "--ref", metavar="PATH", help="root of another checkout of the project, timed alongside"
    )
    parser.add_argument(
        "--wheel",
        metavar="WHEEL",
        help="a built wheel of the project, installed in a fresh venv and timed",
    )
    parser.add_argument("--output", metavar="FILE", help="also write the report here")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.wheel and not os.path.isfile(args.wheel):
        parser.error(f"--wheel {args.wheel} is no file")
    implementations = [
        (f"sklearn_reg checkout ({_commit(ROOT)})", "sklearn_reg", ROOT, sys.executable)
    ]
    if args.ref:
        ref = os.path.abspath(args.ref)
        if not os.path.isfile(os.path.join(ref, "sklearn_reg", "__init__.py")):
            parser.error(f"--ref {ref} holds no sklearn_reg package")
        implementations.append(
            (f"sklearn_reg ref ({_commit(ref)})", "sklearn_reg", ref, sys.executable)
        )
    implementations.append(("MLPClassifier", "sklearn", ROOT, sys.executable))

    import numba
    import sklearn

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="sklearn_reg-startup-") as workdir:
        if args.wheel:
            python = install_wheel(os.path.abspath(args.wheel), workdir)
            implementations.insert(0, ("sklearn_reg wheel", "sklearn_reg", "", python))
        results = measure(implementations, args.repeats, workdir)
    load_after = os.getloadavg()
    command = " ".join(["python", os.path.relpath(__file__)] + (argv or sys.argv[1:]))
    report = "\n".join(
        [
            f"Command: `{command}`  ",
            (
                f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
                f"numba {numba.__version__}, {os.cpu_count()} cores, load average "
                f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; medians of "
                f"{args.repeats} runs (range). Digits, float64, max_iter=5."
            ),
            "",
            table(implementations, results),
            "",
        ]
    )
    print(report)
    if args.output:
        with open(args.output, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
