"""Where the compiled kernels are cached, and that caching never breaks import or fit."""

import hashlib
import importlib.util
import io
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numba
import pytest
from numba.core import caching

from sklearn_reg import _jit
from sklearn_reg.exceptions import CompileNotice, KernelCacheWarning

PACKAGE = Path(__file__).parents[1] / "sklearn_reg"

#: imports the package, fits and predicts, and reports the warnings and the cache used
CHILD = textwrap.dedent("""
    import json, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import numpy as np
        import sklearn_reg
        from sklearn_reg import RegularizedMLPClassifier
        from sklearn_reg._compile_notice import announce_compilation
        from sklearn_reg._jit import fallback_directory
        announce_compilation()  # as the estimators do before their first kernel call
        X = np.random.RandomState(0).rand(20, 3)
        y = np.arange(20) % 2
        model = RegularizedMLPClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
        predictions = model.fit(X, y).predict(X)
    print(json.dumps({
        "package": sklearn_reg.__file__,
        "fallback_directory": fallback_directory,
        "predictions": predictions.tolist(),
        "warnings": [[w.category.__name__, str(w.message)] for w in caught],
    }))
""")


def _make_read_only_install(tmp_path):
    """A copy of the package that numba cannot cache beside, for a user without a home.

    As a normal user the copy is made read-only (chmod -R a-w) and HOME names a missing
    folder in a read-only one, as ``HOME=/nonexistent`` does. Root writes through
    permissions, so for root the same outcome is made by what stops root too: a regular
    file named ``__pycache__`` in the package folder, and a HOME below a regular file.
    """
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "sklearn_reg", ignore=shutil.ignore_patterns("__pycache__"))
    home = site / "nonexistent"
    if os.geteuid() == 0:
        (site / "sklearn_reg" / "__pycache__").write_text("")
        (tmp_path / "a-file").write_text("")
        home = tmp_path / "a-file" / "home"
    for path in [*site.rglob("*"), site]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return site, home


def _run(site, home, tmp):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")
    }
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(site))
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=tmp, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _warnings_naming(report, text):
    return [w for w in report["warnings"] if text in w[1]]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_read_only_install_without_home_caches_in_temp_dir_and_warns_once(tmp_path):
    site, home = _make_read_only_install(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    try:
        cold = _run(site, home, tmp)  # the one process that compiles (10-30 s)
        warm = _run(site, home, tmp)
    finally:
        for path in [site, *site.rglob("*")]:  # let pytest remove the copy
            path.chmod(path.stat().st_mode | stat.S_IWUSR)

    assert cold["package"].startswith(str(site))
    assert cold["predictions"] == warm["predictions"]
    assert len(cold["predictions"]) == 20
    # the kernels are cached in a private folder of the temporary directory ...
    cache = Path(cold["fallback_directory"])
    assert cache.parent == tmp
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert any(cache.rglob("*_kernels.train-*.nbi"))
    for report in (cold, warm):
        # ... with exactly one warning, which says how to keep the cache
        naming = _warnings_naming(report, "NUMBA_CACHE_DIR")
        assert [w[0] for w in naming] == ["KernelCacheWarning"], report["warnings"]
        assert str(cache) in naming[0][1]
    # the first process compiled and said so once; the second loaded the cache
    assert [w[0] for w in cold["warnings"]].count("CompileNotice") == 1
    assert "CompileNotice" not in [w[0] for w in warm["warnings"]]


# -- the fallback, in process ------------------------------------------------------


def _probe_kernel_folder(tmp_path):
    """A folder holding ``probe_kernel.py``, a module of one ``_jit.jit`` kernel."""
    folder = tmp_path / "kernels"
    folder.mkdir()
    (folder / "probe_kernel.py").write_text(
        "from sklearn_reg._jit import jit\n\n\n@jit\ndef twice(x):\n    return 2 * x\n"
    )
    return folder


def _loader(folder):
    """A function importing ``folder/probe_kernel.py`` afresh at each call."""

    def load():
        spec = importlib.util.spec_from_file_location("probe_kernel", folder / "probe_kernel.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def uncacheable_module(tmp_path, monkeypatch):
    """Import a module of one ``_jit.jit`` kernel from a folder numba cannot cache beside.

    Returns a function that imports it afresh; numba's user cache directory and
    NUMBA_CACHE_DIR are made unusable, and the decision of the fallback is reset.
    """
    folder = _probe_kernel_folder(tmp_path)
    (folder / "__pycache__").write_text("")  # not a folder: stops root too
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "a-file" / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(_jit, "fallback_directory", None)
    monkeypatch.setattr(_jit, "kernels", [])

    return _loader(folder)


def test_kernel_is_cached_in_the_fallback_dir_when_numba_finds_no_place(
    uncacheable_module, tmp_path, monkeypatch
):
    fallback = tmp_path / "fallback"
    monkeypatch.setattr(_jit, "fallback_cache_dir", lambda: str(fallback))
    with pytest.warns(KernelCacheWarning, match="NUMBA_CACHE_DIR") as record:
        module = uncacheable_module()
    assert len(record) == 1
    assert module.twice(21) == 42
    assert module.twice.stats.cache_path.startswith(str(fallback))
    assert any(fallback.rglob("*.nbi"))
    assert numba.config.CACHE_DIR == ""  # restored: other numba users are unaffected


def test_kernel_compiles_without_cache_when_no_directory_is_writable(
    uncacheable_module, monkeypatch
):
    monkeypatch.setattr(_jit, "fallback_cache_dir", lambda: None)
    with pytest.warns(KernelCacheWarning, match="every new process") as record:
        module = uncacheable_module()
    assert len(record) == 1
    assert module.twice(21) == 42
    assert module.twice.stats.cache_path is None
    assert _jit.fallback_directory == ""


def test_fallback_is_decided_and_announced_once_per_process(
    uncacheable_module, tmp_path, monkeypatch
):
    monkeypatch.setattr(_jit, "fallback_cache_dir", lambda: str(tmp_path / "fallback"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uncacheable_module()
        uncacheable_module()
    assert [w.category for w in caught] == [KernelCacheWarning]
    assert len(_jit.kernels) == 2


def test_user_set_numba_cache_dir_is_respected(uncacheable_module, tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(chosen))
    with warnings.catch_warnings():
        warnings.simplefilter("error", KernelCacheWarning)
        module = uncacheable_module()
    assert module.twice.stats.cache_path.startswith(str(chosen))
    assert _jit.fallback_directory is None


def test_kernels_compiled_into_the_package_cache_serve_other_cache_locations(tmp_path, monkeypatch):
    folder = _probe_kernel_folder(tmp_path)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(_jit, "kernels", [])

    load = _loader(folder)
    installer = load()  # the package's own __pycache__, as for the installer
    assert installer.twice(21) == 42
    assert installer.twice.stats.cache_path == str(folder / "__pycache__")
    user_cache = tmp_path / "user-cache"  # where numba caches for another user
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(user_cache))
    user = load()
    assert user.twice.stats.cache_path.startswith(str(user_cache))
    assert user.twice(21) == 42
    assert sum(user.twice.stats.cache_hits.values()) == 1  # loaded, not compiled
    assert not any(user_cache.rglob("*.tmp.*"))


def test_prebuilt_package_cache_warms_the_fallback_without_warning(tmp_path, monkeypatch):
    folder = _probe_kernel_folder(tmp_path)
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    monkeypatch.setattr(_jit, "kernels", [])
    load = _loader(folder)
    assert load().twice(21) == 42  # compiled ahead of use into the package's __pycache__
    # another user: numba can use neither the package's __pycache__ nor a home
    in_tree = getattr(caching, "InTreeCacheLocator", None) or caching._InTreeCacheLocator
    monkeypatch.setattr(in_tree, "from_function", classmethod(lambda cls, f, path: None))
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "a-file" / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(_jit, "fallback_directory", None)
    monkeypatch.setattr(_jit, "fallback_cache_dir", lambda: str(tmp_path / "fallback"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", KernelCacheWarning)
        user = load()
    assert user.twice.stats.cache_path.startswith(str(tmp_path / "fallback"))
    assert user.twice(21) == 42
    assert sum(user.twice.stats.cache_hits.values()) == 1


# -- kernels shipped in the package ----------------------------------------------------


def _host_cpu():
    from numba.core.registry import cpu_target

    return tuple(cpu_target.target_context.codegen().magic_tuple()[1:])


@pytest.fixture
def shipped_probe(tmp_path, monkeypatch):
    """The probe kernel compiled for int64 and float64, shipped in ``_prebuilt`` beside it.

    The probe's folder stands for the package (``PACKAGE_DIR``); this machine's CPU
    stands for the generic one (the code is the same, only the key differs). numba's
    location is then an empty user cache. Returns the folder and its loader.
    """
    folder = _probe_kernel_folder(tmp_path)
    monkeypatch.setattr(_jit, "GENERIC_CPU", _host_cpu())
    monkeypatch.setattr(_jit, "PACKAGE_DIR", str(folder))
    monkeypatch.setattr(_jit, "PREBUILT_DIR", str(folder / "_prebuilt"))
    monkeypatch.setattr(_jit, "kernels", [])
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "build-cache"))
    load = _loader(folder)
    built = load()
    assert (built.twice(21), built.twice(2.5)) == (42, 5.0)
    assert _jit.save_shipped(str(folder / "_prebuilt"), [built.twice]) == 3  # index, 2 data
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "user-cache"))
    return folder, load


def _stats(dispatcher):
    return sum(dispatcher.stats.cache_hits.values()), sum(dispatcher.stats.cache_misses.values())


def _rewrite_shipped(folder, name, content):
    """Replace a shipped file and record its new digest in the manifest (a valid build)."""
    path = next((folder / "_prebuilt").rglob(name))
    path.write_bytes(content)
    manifest_path = folder / "_prebuilt" / _jit.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["."][path.name] = hashlib.sha256(content).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def test_shipped_kernel_is_loaded_without_compiling(shipped_probe, tmp_path):
    _, load = shipped_probe
    user = load()
    assert (user.twice(21), user.twice(2.5)) == (42, 5.0)
    assert _stats(user.twice) == (2, 0)
    assert set(user.twice._cache.origins.values()) == {f"shipped {_host_cpu()[0]}"}
    assert user.twice.stats.cache_path.startswith(str(tmp_path / "user-cache"))
    assert not any((tmp_path / "user-cache").rglob("*.nbi"))  # nothing to save


def test_compile_kernels_ignores_the_shipped_kernels_to_cache_host_code(shipped_probe, monkeypatch):
    _, load = shipped_probe
    monkeypatch.setattr(_jit, "use_shipped", False)  # as compile_kernels does meanwhile
    user = load()
    assert user.twice(21) == 42
    assert _stats(user.twice) == (0, 1)
    monkeypatch.setattr(_jit, "use_shipped", True)
    again = load()
    assert again.twice(21) == 42
    assert _stats(again.twice) == (1, 0)
    assert again.twice.stats.cache_path  # from numba's location, read first


def test_shipped_kernel_needs_the_sources_it_was_compiled_from(shipped_probe):
    folder, load = shipped_probe
    with open(folder / "probe_kernel.py", "a") as f:
        f.write("# edited\n")
    user = load()
    assert (user.twice(21), user.twice(2.5)) == (42, 5.0)
    assert _stats(user.twice) == (0, 2)


def test_shipped_kernels_need_every_source_of_the_package_unchanged(shipped_probe):
    # a kernel holds the code of the functions it calls, which may live in other files
    folder, load = shipped_probe
    (folder / "callee.py").write_text("# a module the kernel might call into\n")
    _jit._read_manifest.cache_clear()  # the sources are checked once per process
    user = load()
    assert user.twice(21) == 42
    assert _stats(user.twice) == (0, 1)


def test_shipped_kernels_of_another_numba_version_are_not_used(shipped_probe, monkeypatch):
    _, load = shipped_probe
    monkeypatch.setattr(numba, "__version__", "0.0.1")
    assert _jit.shipped_manifest() is None
    user = load()
    assert user.twice(21) == 42
    assert _stats(user.twice) == (0, 1)


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    "damage",
    ["truncated data", "truncated index", "another numba's index", "data of another signature"],
)
def test_damaged_shipped_kernel_files_fall_back_to_compiling(shipped_probe, tmp_path, damage):
    folder, load = shipped_probe
    shipped = folder / "_prebuilt"
    first, second = sorted(shipped.rglob("*.nbc"))
    if damage == "truncated data":
        _truncate(first)
        _truncate(second)
    elif damage == "truncated index":
        _truncate(next(shipped.rglob("*.nbi")))
    elif damage == "another numba's index":  # as if written by numba 0.0.1, digest updated
        index = next(shipped.rglob("*.nbi"))
        stream = io.BytesIO(index.read_bytes())
        pickle.load(stream)
        _rewrite_shipped(folder, index.name, pickle.dumps("0.0.1") + stream.read())
    else:  # an index pointing at the other signature's data (a racing writer, numba #4807)
        one, two = first.read_bytes(), second.read_bytes()
        _rewrite_shipped(folder, first.name, two)
        _rewrite_shipped(folder, second.name, one)
    user = load()
    assert (user.twice(21), user.twice(2.5)) == (42, 5.0)
    assert type(user.twice(21)) is int
    assert _stats(user.twice) == (0, 2)
    assert any((tmp_path / "user-cache").rglob("*.nbi"))  # compiled, then cached as usual
    again = load()
    assert (again.twice(21), again.twice(2.5)) == (42, 5.0)
    assert _stats(again.twice) == (2, 0)


@pytest.mark.parametrize("damage", ["truncated index", "data of another signature"])
def test_damaged_user_cache_files_fall_back_to_compiling(tmp_path, monkeypatch, damage):
    folder = _probe_kernel_folder(tmp_path)
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setattr(_jit, "kernels", [])
    load = _loader(folder)
    first = load()
    assert (first.twice(21), first.twice(2.5)) == (42, 5.0)
    if damage == "truncated index":
        _truncate(next((tmp_path / "user-cache").rglob("*.nbi")))
    else:
        one, two = sorted((tmp_path / "user-cache").rglob("*.nbc"))
        content = one.read_bytes()
        one.write_bytes(two.read_bytes())
        two.write_bytes(content)
    user = load()
    assert (user.twice(21), user.twice(2.5)) == (42, 5.0)
    assert type(user.twice(21)) is int
    assert _stats(user.twice) == (0, 2)


@pytest.mark.parametrize("runs_v3", [True, False])
def test_x86_64_v3_tier_is_read_before_the_generic_one_where_the_cpu_runs_it(monkeypatch, runs_v3):
    monkeypatch.setattr(_jit, "_runs_x86_64_v3", lambda: runs_v3)
    expected = [("x86-64-v3", ""), ("generic", "")] if runs_v3 else [("generic", "")]
    assert _jit.shipped_tiers() == expected
    assert _jit.tier_folder(_jit.GENERIC_CPU) == _jit.PREBUILT_DIR
    assert _jit.tier_folder(_jit.X86_64_V3) == os.path.join(_jit.PREBUILT_DIR, "x86-64-v3")


def test_shipped_manifest_of_another_cpu_tier_is_not_read(shipped_probe, monkeypatch):
    folder, load = shipped_probe
    assert _jit.shipped_manifest() is not None
    monkeypatch.setattr(_jit, "GENERIC_CPU", ("generic", ""))  # the probe's files: host CPU
    assert _jit.shipped_manifest() is None
    user = load()
    assert user.twice(21) == 42
    assert _stats(user.twice) == (0, 1)  # nothing shipped fits: numba compiled it


def test_shipped_manifest_is_none_without_shipped_kernels(tmp_path, monkeypatch):
    monkeypatch.setattr(_jit, "PREBUILT_DIR", str(tmp_path / "missing"))
    assert _jit.shipped_manifest() is None


def test_filename_base_is_numbas(tmp_path, monkeypatch):
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_jit, "kernels", [])
    module = _loader(_probe_kernel_folder(tmp_path))()
    writable = module.twice._cache._writable
    assert _jit.filename_base(module.twice.py_func) == writable._impl.filename_base


# -- the fallback directory ------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership")
def test_fallback_cache_dir_is_private_to_the_user(tmp_path):
    path = Path(_jit.fallback_cache_dir(str(tmp_path)))
    assert path.parent == tmp_path
    assert path.name == f"sklearn_reg-numba-cache-{os.getuid()}"
    assert path.stat().st_uid == os.getuid()
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_fallback_cache_dir_refuses_a_folder_others_can_write(tmp_path):
    planted = tmp_path / f"sklearn_reg-numba-cache-{os.getuid()}"
    planted.mkdir()
    planted.chmod(0o777)
    assert _jit.fallback_cache_dir(str(tmp_path)) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX links")
def test_fallback_cache_dir_refuses_a_symlink(tmp_path):
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / f"sklearn_reg-numba-cache-{os.getuid()}").symlink_to(tmp_path / "elsewhere")
    assert _jit.fallback_cache_dir(str(tmp_path)) is None


def test_fallback_cache_dir_is_none_when_it_cannot_be_created(tmp_path):
    (tmp_path / "a-file").write_text("")
    assert _jit.fallback_cache_dir(str(tmp_path / "a-file")) is None


def test_cache_warning_and_compile_notice_are_user_warnings():
    assert issubclass(KernelCacheWarning, UserWarning)
    assert issubclass(CompileNotice, UserWarning)
    assert not issubclass(KernelCacheWarning, CompileNotice)
    assert not issubclass(CompileNotice, KernelCacheWarning)
