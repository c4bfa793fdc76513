"""The built wheel ships compiled kernels: installed from it, a first fit compiles nothing.

One wheel is built per test session (``pip wheel``, which compiles every kernel once per
CPU tier, 2-4 min) and installed into one fresh virtual environment; each test then runs
a fresh Python process. The tests share one xdist group (``--dist loadgroup``), so that
under ``-n 2`` one worker builds the wheel, not both. Any mismatch with the shipped
kernels (an edited source, another numba version, a truncated file) must fall back to
compiling, with the same predictions.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import numba
import numpy as np
import pytest

from sklearn_reg import _jit

ROOT = Path(__file__).parents[1]

pytestmark = pytest.mark.xdist_group("wheel")

#: fits and predicts; prints the kernels numba compiled, the notices and the predictions.
#: argv[1], if given, is the numba version the process pretends to have.
CHILD = textwrap.dedent("""
    import json, sys, warnings
    import numba
    if len(sys.argv) > 1:
        numba.__version__ = sys.argv[1]
    from numba.core import event
    with warnings.catch_warnings(record=True) as caught, \\
            event.install_recorder("numba:compile") as compiles:
        warnings.simplefilter("always")
        import numpy as np
        import sklearn_reg
        from sklearn_reg import RegularizedMLPClassifier, _jit
        from sklearn_reg._compile_notice import is_kernel
        rng = np.random.RandomState(0)
        X = rng.rand(60, 6)
        y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > 0.5)
        model = RegularizedMLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
        proba = model.fit(X, y).predict_proba(X)
        model.set_params(penalty="l1", penalty_weights=np.ones(6)).fit(X, y)  # adaptive
    print(json.dumps({
        "package": sklearn_reg.__file__,
        "compiled": sorted({ev.data["dispatcher"].py_func.__qualname__ for _, ev in compiles.buffer
                            if ev.is_start and is_kernel(ev.data["dispatcher"])}),
        "loaded": sorted(_jit.filename_base(k.py_func) for k in _jit.kernels
                         if sum(k.stats.cache_hits.values())),
        "origins": sorted({o for k in _jit.kernels for o in k._cache.origins.values()}),
        "notices": [str(w.message) for w in caught if w.category.__name__ == "CompileNotice"],
        "warnings": sorted({w.category.__name__ for w in caught}),
        "proba": proba.tolist(),
    }))
""")


def _clean_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NUMBA_") and k not in ("PYTHONPATH", "SKLEARN_REG_PREBUILD")
    }
    return {**env, **extra}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The wheel built from a copy of this checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "_prebuilt", "*.pyc")
    for name in ("build_tools", "sklearn_reg"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    # the PEP 517 hook that pip calls, run here (as --no-build-isolation does): the
    # kernels are compiled with this environment's numba, setuptools comes from a folder
    setuptools_dir = tmp / "setuptools"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--target",
            str(setuptools_dir),
            "setuptools>=77",
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    build = (
        f"import sys; sys.path[:0] = [{str(setuptools_dir)!r}, 'build_tools']; "
        f"import backend; print(backend.build_wheel({str(tmp / 'dist')!r}))"
    )
    (tmp / "dist").mkdir()
    out = subprocess.run(
        [sys.executable, "-c", build],
        cwd=source,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    (built,) = (tmp / "dist").glob("sklearn_reg-*.whl")
    return built


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel installed; its Python.

    The dependencies come from this process's environment (a ``.pth`` file names its
    site-packages, after the venv's own): only sklearn_reg is installed anew.
    """
    root = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    return python


def _fit(python, tmp, pythonpath=None, numba_version=None, home=None):
    """Fit and predict in a fresh process of ``python``; its report.

    With ``pythonpath`` the package is imported from there, with an empty
    ``NUMBA_CACHE_DIR`` unless ``home`` is given (then numba looks for its locations).
    """
    env = _clean_env(TMPDIR=str(tmp))
    if home is None:
        home = tmp / "home"
        home.mkdir(exist_ok=True)
        if pythonpath:
            env.update(NUMBA_CACHE_DIR=str(tmp / "numba-cache"))
    env.update(HOME=str(home), XDG_CACHE_HOME=str(Path(home) / ".cache"))
    if pythonpath:
        env.update(PYTHONPATH=str(pythonpath))
    args = [numba_version] if numba_version else []
    out = subprocess.run(
        [str(python), "-c", CHILD, *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def first_fit(venv, tmp_path_factory):
    """The report of the first fit of the fresh environment."""
    return _fit(venv, tmp_path_factory.mktemp("first-fit"))


#: the tiers of shipped kernels this machine runs, fastest first: (folder, CPU)
TIERS = [("_prebuilt", ["generic", ""])]
if _jit.X86_64_V3 in _jit.shipped_tiers():
    TIERS.insert(0, ("_prebuilt/x86-64-v3", ["x86-64-v3", ""]))


@pytest.mark.parametrize("folder, cpu", TIERS)
def test_wheel_ships_kernels_of_each_cpu_tier_for_this_python_and_platform(wheel, folder, cpu):
    assert not wheel.name.endswith("-none-any.whl")  # machine code: a platform wheel
    with zipfile.ZipFile(wheel) as archive:
        manifest = json.loads(archive.read(f"sklearn_reg/{folder}/manifest.json"))
        names = archive.namelist()
    assert manifest["numba"] == numba.__version__
    assert manifest["cpu"] == cpu
    shipped = {
        f"sklearn_reg/{folder}/{subfolder}/{name}".replace("/./", "/")
        for subfolder, files in manifest["files"].items()
        for name in files
    }
    assert shipped <= set(names)
    assert any(name.endswith(".nbc") for name in shipped)
    assert not any("__pycache__" in name for name in names)


def test_installed_wheel_fits_and_predicts_without_compiling(venv, first_fit):
    assert Path(first_fit["package"]).is_relative_to(venv.parents[1])
    assert first_fit["compiled"] == []
    assert first_fit["notices"] == []
    assert first_fit["loaded"]
    # the fastest tier this CPU runs
    assert first_fit["origins"] == [f"shipped {TIERS[0][1][0]}"]


@pytest.mark.skipif(len(TIERS) == 1, reason="this CPU runs the generic tier only")
def test_without_the_x86_64_v3_tier_the_generic_kernels_run(venv, first_fit, tmp_path):
    site = _installed_copy(venv, tmp_path)
    shutil.rmtree(site / "sklearn_reg" / "_prebuilt" / "x86-64-v3")
    report = _fit(venv, tmp_path, pythonpath=site)
    assert report["package"].startswith(str(site))
    assert report["compiled"] == []
    assert report["origins"] == ["shipped generic"]
    # the same model: other instructions (FMA) round differently
    np.testing.assert_allclose(report["proba"], first_fit["proba"], rtol=1e-9, atol=1e-12)


def _installed_copy(venv, tmp):
    """A copy of the installed package (with its shipped kernels) to damage."""
    installed = next(venv.parents[1].glob("lib*/**/site-packages/sklearn_reg"))
    site = tmp / "site"
    shutil.copytree(installed, site / "sklearn_reg", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _assert_compiled_with_same_predictions(report, reference):
    assert report["compiled"], "nothing compiled: the shipped kernels were used"
    assert len(report["notices"]) == 1
    assert np.array_equal(np.argmax(report["proba"], axis=1), np.argmax(reference["proba"], axis=1))
    np.testing.assert_allclose(report["proba"], reference["proba"], rtol=1e-9, atol=1e-12)


def test_edited_kernel_source_falls_back_to_compiling(venv, first_fit, tmp_path):
    site = _installed_copy(venv, tmp_path)
    # the module defining the most kernels
    source = max(
        site.joinpath("sklearn_reg").glob("*.py"),
        key=lambda p: p.read_text().count("\n@jit") + p.read_text().count("\n@helper"),
    )
    with open(source, "a") as f:
        f.write("\n# edited after installation\n")
    report = _fit(venv, tmp_path, pythonpath=site)
    assert report["package"].startswith(str(site))
    _assert_compiled_with_same_predictions(report, first_fit)


def test_another_numba_version_falls_back_to_compiling(venv, first_fit, tmp_path):
    site = _installed_copy(venv, tmp_path)
    report = _fit(venv, tmp_path, pythonpath=site, numba_version=numba.__version__ + ".other")
    _assert_compiled_with_same_predictions(report, first_fit)


def test_truncated_shipped_file_falls_back_to_compiling(venv, first_fit, tmp_path):
    site = _installed_copy(venv, tmp_path)
    base = first_fit["loaded"][0]  # a kernel that fit calls: its files are read
    damaged = sorted(site.rglob(f"_prebuilt/**/{base}.*.nbc"))
    assert damaged
    for path in damaged:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    report = _fit(venv, tmp_path, pythonpath=site)
    assert report["package"].startswith(str(site))
    assert base.split(".", 1)[1].rsplit("-", 1)[0] in report["compiled"]
    _assert_compiled_with_same_predictions(report, first_fit)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_read_only_install_without_home_uses_the_shipped_kernels_without_warning(
    venv, first_fit, tmp_path
):
    site = _installed_copy(venv, tmp_path)
    home = site / "nonexistent"  # a HOME that cannot be created
    if os.geteuid() == 0:  # root writes through permissions: stop it as test_cache does
        (site / "sklearn_reg" / "__pycache__").write_text("")
        (tmp_path / "a-file").write_text("")
        home = tmp_path / "a-file" / "home"
    paths = [site, *site.rglob("*")]
    for path in paths:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        report = _fit(venv, tmp_path, pythonpath=site, home=home)
    finally:
        for path in paths:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert report["package"].startswith(str(site))
    assert report["compiled"] == []
    assert "KernelCacheWarning" not in report["warnings"]
    assert report["notices"] == []
    np.testing.assert_array_equal(report["proba"], first_fit["proba"])
