"""``python -m sklearn_reg.compile`` compiles every kernel that fit and predict use."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpydoc.validate as numpydoc_validate
import pytest

from sklearn_reg import _jit
from sklearn_reg.compile import cache_location, compile_kernels, main

ROOT = Path(__file__).parents[1]


def test_compile_command_reports_each_dtype_and_layout_and_exits_0():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "sklearn_reg.compile", "--dtype", "float64"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("sklearn_reg ")
    assert lines[1].startswith("cache: ") and "none" not in lines[1]
    assert [line.split()[:2] for line in lines[2:4]] == [["float64", "dense"], ["float64", "CSR"]]
    assert lines[-1].startswith("done in ")
    assert "float32" not in out.stdout


#: compiles for float64, then fits and predicts along many paths; prints every kernel that
#: needed a signature the compile did not provide (whether compiled or loaded from disk)
COVERAGE_CHILD = textwrap.dedent("""
    import warnings
    import numpy as np
    import scipy.sparse as sp
    from sklearn_reg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                             RegularizedMLPRegressor, _jit, regularization_path)
    from sklearn_reg.compile import compile_kernels

    compile_kernels(["float64"])
    before = {id(k): set(k.signatures) for k in _jit.kernels}
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    X = rng.rand(30, 8)
    y = np.arange(30) % 3
    small = {"hidden_layer_sizes": (4, 3), "max_iter": 2, "random_state": 0}
    for data in (X, sp.csr_matrix(X), sp.csc_matrix(X), np.asfortranarray(X), X.astype(int)):
        for params in [{}, {"solver": "sgd", "penalty": "l1"}, {"solver": "lbfgs"},
                       {"dropout": 0.3, "penalty": "group"}, {"early_stopping": True},
                       {"dropblock": 0.3, "feature_shape": (2, 4), "block_size": 2},
                       {"spatial_dropout": 0.3, "feature_shape": (2, 4)}]:
            RegularizedMLPClassifier(**small, **params).fit(data, y).predict_proba(data)
            RegularizedMLPRegressor(**small, **params).fit(data, X[:, 0]).predict(data)
        RegularizedMLPRegressor(loss="poisson", **small).fit(data, X[:, 0]).predict(data)
        RegularizedMLPClassifier(**small).partial_fit(data, y, classes=[0, 1, 2])
    RegularizedMLPClassifierCV(alphas=2, cv=2, path_max_iter=1, **small).fit(X, y)
    regularization_path(X, X[:, 0], alphas=2, path_max_iter=1, **small)
    print([k.py_func.__name__ for k in _jit.kernels if set(k.signatures) != before[id(k)]])
""")


def test_compiled_kernels_cover_every_fit_and_predict_path():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", COVERAGE_CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_compile_kernels_reports_what_it_compiled(capsys):
    report = compile_kernels(["float64"], ["dense"])
    assert [(r["dtype"], r["layout"]) for r in report] == [("float64", "dense")]
    assert report[0]["seconds"] > 0
    assert capsys.readouterr().out == ""
    again = compile_kernels(["float64"], ["dense"], verbose=True)
    assert again[0]["compiled"] == []  # compiled once per process at most
    assert capsys.readouterr().out.split()[:2] == ["float64", "dense"]


def test_cache_location_is_where_numba_caches_the_kernels():
    location = cache_location()
    assert all(k.stats.cache_path.startswith(location) for k in _jit.kernels)


@pytest.mark.parametrize("argv", [["--dtype", "float16"], ["--layout", "dense"]])
def test_bad_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: python -m sklearn_reg.compile" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match", [({"dtypes": ["float16"]}, "dtypes"), ({"layouts": ["CSC"]}, "layouts")]
)
def test_compile_kernels_rejects_unknown_dtypes_and_layouts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compile_kernels(**kwargs)


@pytest.mark.parametrize(
    "name",
    [
        "sklearn_reg.compile.compile_kernels",
        "sklearn_reg.compile.cache_location",
        "sklearn_reg.compile.main",
        "sklearn_reg.exceptions.CompileNotice",
        "sklearn_reg.exceptions.KernelCacheWarning",
    ],
)
def test_public_docstring_validates(name):
    ignored = {"ES01", "SA01", "RT02", "EX01"}
    errors = [
        (code, msg)
        for code, msg in numpydoc_validate.validate(name)["errors"]
        if code not in ignored
    ]
    assert not errors, errors


def test_compile_command_fails_when_nothing_can_be_cached(monkeypatch, capsys):
    monkeypatch.setattr("sklearn_reg.compile.cache_location", lambda: None)
    assert main(["--dtype", "float64"]) == 1
    captured = capsys.readouterr()
    assert "cache: none" in captured.out
    assert "NUMBA_CACHE_DIR" in captured.err
