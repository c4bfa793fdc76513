"""scikit-learn's own MLP tests, run against RegularizedMLPClassifier / RegularizedMLPRegressor.

The drop-in yardstick: the installed scikit-learn's
``sklearn/neural_network/tests/test_mlp.py`` is read at collection time, its import of
``MLPClassifier`` / ``MLPRegressor`` is rewritten to

    from sklearn_reg import RegularizedMLPClassifier as MLPClassifier, ...

and the rewritten source is imported as a module (with pytest's assertion rewriting, so
failures show the compared values). Each of its ``test_*`` functions is re-exported here
with its marks, so every scikit-learn test, with its parametrizations, is one test item
of this module (``tests/test_sklearn_mlp.py::test_warm_start_full_iteration[...]``).
The rewrite keeps every line in place: the line numbers of a failure's traceback are
those of the installed file.
Nothing of scikit-learn is copied into this repository: a newer scikit-learn brings its
newer tests.

Only tests that call scikit-learn's private methods are left out, each listed in
:data:`DESELECTED` with its reason.
"""

import ast
import atexit
import importlib.util
import inspect
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor

#: The estimators of scikit-learn's test file and the ones that replace them.
REPLACEMENTS = {
    "MLPClassifier": "RegularizedMLPClassifier",
    "MLPRegressor": "RegularizedMLPRegressor",
}

#: scikit-learn tests left out: name -> reason. Only tests calling private methods or
#: setting scikit-learn's private state by hand.
DESELECTED = {
    "test_fit": (
        "sets scikit-learn's private optimizer state by hand (_coef_grads, _coef_velocity, "
        "_intercept_velocity) and expects the weights of its per-batch gradient α·W; ours "
        "is per objective, 2λW (α_sklearn = 2·B·λ), and with alpha=0.05 the same worked "
        "example gives scikit-learn's numbers"
    ),
    "test_gradient": (
        "calls the private method MLPClassifier._loss_grad_lbfgs(theta, X, Y, ...) to "
        "compare the analytic gradient with finite differences; the same property is "
        "tested on our kernels in tests/test_kernels.py"
    ),
}

#: Name under which the rewritten scikit-learn test module is imported.
MODULE_NAME = "_sklearn_test_mlp_on_sklearn_reg"


def sklearn_mlp_test_path():
    """Path of the installed scikit-learn's ``neural_network/tests/test_mlp.py``.

    Returns
    -------
    path : pathlib.Path
        The test file of the installed scikit-learn.
    """
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "neural_network" / "tests" / "test_mlp.py"
    if not path.is_file():
        raise FileNotFoundError(
            f"scikit-learn's MLP tests are not installed at {path}: this module needs a "
            "scikit-learn installation that ships its tests (the PyPI wheels do)."
        )
    return path


def rewrite_imports(source):
    """Replace scikit-learn's MLP estimators by ours in a test module's source.

    Each ``from sklearn.neural_network import ...`` statement becomes one line importing
    the names of :data:`REPLACEMENTS` from ``sklearn_reg`` under scikit-learn's names,
    padded with blank lines so that every other line keeps its number (tracebacks then
    point at the right line of the installed file).

    Parameters
    ----------
    source : str
        Source of scikit-learn's test module.

    Returns
    -------
    source : str
        The same source importing ``RegularizedMLPClassifier as MLPClassifier`` and
        ``RegularizedMLPRegressor as MLPRegressor``.

    Raises
    ------
    ValueError
        If the module imports anything else from ``sklearn.neural_network``, or does
        not import the estimators that way: the rewrite would then test scikit-learn's
        classes, not ours.
    """
    lines = source.splitlines(keepends=True)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(
            alias.name.startswith("sklearn.neural_network") for alias in node.names
        ):
            raise ValueError(
                f"line {node.lineno}: `import sklearn.neural_network` is not rewritten"
            )
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sklearn.neural_network"
        ):
            names = [alias.name for alias in node.names]
            unknown = [
                name
                for name, alias in zip(names, node.names)
                if name not in REPLACEMENTS
                or alias.asname is not None
                or node.module != "sklearn.neural_network"
            ]
            if unknown:
                raise ValueError(
                    f"line {node.lineno}: `from {node.module} import {', '.join(names)}` "
                    f"imports {unknown}, which have no replacement in sklearn_reg"
                )
            found.append((node.lineno, node.end_lineno, names))
    if not found:
        raise ValueError("the test module does not import MLPClassifier / MLPRegressor")
    for first, last, names in found:
        aliases = ", ".join(f"{REPLACEMENTS[name]} as {name}" for name in names)
        lines[first - 1] = f"from sklearn_reg import {aliases}\n"
        lines[first:last] = ["\n"] * (last - first)
    return "".join(lines)


def _import_rewritten(source):
    """Import ``source`` as module :data:`MODULE_NAME`, with pytest's assertion rewriting.

    The source is written to a temporary directory removed at exit; the module is
    registered with :func:`pytest.register_assert_rewrite` before its import.
    """
    directory = tempfile.mkdtemp(prefix="sklearn_reg_sktests_")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = os.path.join(directory, MODULE_NAME + ".py")
    with open(path, "w", encoding="utf-8") as file:
        file.write(source)
    pytest.register_assert_rewrite(MODULE_NAME)
    sys.path.insert(0, directory)
    try:
        sys.modules.pop(MODULE_NAME, None)
        return importlib.import_module(MODULE_NAME)
    finally:
        sys.path.remove(directory)


def _global_random_seeds():
    """Seeds of scikit-learn's ``global_random_seed`` fixture, as its conftest reads them.

    ``SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` unset gives [42]; "all" gives 0..99; "a-b" the
    range a..b; "a" the single seed a.
    """
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        start, stop = value.split("-")
        return list(range(int(start), int(stop) + 1))
    return [int(value)]


@pytest.fixture(params=_global_random_seeds())
def global_random_seed(request):
    """scikit-learn's ``global_random_seed`` fixture (defined in its conftest)."""
    return request.param


SKLEARN_TEST_PATH = sklearn_mlp_test_path()
SKLEARN_TESTS = _import_rewritten(rewrite_imports(SKLEARN_TEST_PATH.read_text(encoding="utf-8")))
SKLEARN_TEST_NAMES = sorted(
    name
    for name, obj in vars(SKLEARN_TESTS).items()
    if (name.startswith("test_") and inspect.isfunction(obj))
    or (name.startswith("Test") and inspect.isclass(obj))
)

# Re-export scikit-learn's tests (the objects themselves, with their pytest marks), and
# the marks of its module, if it has any.
for _name in SKLEARN_TEST_NAMES:
    if _name not in DESELECTED:
        globals()[_name] = getattr(SKLEARN_TESTS, _name)
del _name
pytestmark = list(getattr(SKLEARN_TESTS, "pytestmark", []))


# -- the yardstick itself ---------------------------------------------------------------


def test_rewritten_module_tests_our_estimators():
    assert SKLEARN_TESTS.MLPClassifier is RegularizedMLPClassifier
    assert SKLEARN_TESTS.MLPRegressor is RegularizedMLPRegressor


def test_rewrite_keeps_line_numbers():
    source = SKLEARN_TEST_PATH.read_text(encoding="utf-8")
    assert len(rewrite_imports(source).splitlines()) == len(source.splitlines())


def test_rewrite_refuses_unreplaceable_imports():
    with pytest.raises(ValueError, match="BernoulliRBM"):
        rewrite_imports("from sklearn.neural_network import BernoulliRBM, MLPClassifier\n")
    with pytest.raises(ValueError, match="does not import"):
        rewrite_imports("import numpy as np\n")


def test_rewrite_replaces_multiline_imports():
    source = "from sklearn.neural_network import (\n    MLPClassifier,\n)\nx = 1\n"
    rewritten = rewrite_imports(source)
    assert rewritten.splitlines()[0] == (
        "from sklearn_reg import RegularizedMLPClassifier as MLPClassifier"
    )
    assert rewritten.splitlines()[3] == "x = 1"


def test_every_sklearn_test_is_collected_or_deselected():
    exported = {name for name in SKLEARN_TEST_NAMES if name in globals()}
    assert exported | set(DESELECTED) == set(SKLEARN_TEST_NAMES)
    assert not exported & set(DESELECTED)
    assert len(exported) >= 40  # scikit-learn 1.9.1 has 43 MLP test functions


def test_deselected_tests_exist_and_use_private_methods_or_state():
    for name, reason in DESELECTED.items():
        assert name in SKLEARN_TEST_NAMES, f"{name} is no longer a scikit-learn test"
        source = inspect.getsource(getattr(SKLEARN_TESTS, name))
        private = re.findall(r"\._([a-z]\w*)\(", source)  # private methods called
        private += re.findall(r"\._([a-z]\w*)\s*=", source)  # private state set by hand
        assert private, f"{name} uses no private method or state: it must run"
        assert any(f"_{name}" in reason for name in private), reason


def test_parametrize_marks_survive_the_reexport():
    marks = {mark.name for mark in getattr(globals()["test_early_stopping"], "pytestmark", [])}
    assert "parametrize" in marks
