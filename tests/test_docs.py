"""The ``>>>`` snippets of the documentation pages run and print what they show."""

import doctest
import functools
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
PAGES = [
    "getting_started.rst",
    "user_guide.rst",
    "feature_selection.rst",
    "stability_selection.rst",
]


@pytest.mark.parametrize("page", PAGES)
def test_page_snippets_run(page):
    result = doctest.testfile(
        str(DOCS / page),
        module_relative=False,
        report=True,
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_usage_runs_and_prints_what_it_shows(capsys):
    """The README's Usage snippet runs, warns nothing, and prints a real selection."""
    import re
    import warnings

    readme = (DOCS.parent / "README.md").read_text()
    code = re.search(r"## Usage\n\n```python\n(.*?)```", readme, re.S).group(1)
    assert "# λ = 0.00022, features kept: 9 of 30" in code  # what this machine printed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    kept = int(re.fullmatch(r"λ = \S+, features kept: (\d+) of 30\n", out).group(1))
    assert 5 <= kept < 30, out


# -- the docs extra installs what the documentation build imports -------------------

ROOT = DOCS.parent


def _autosummary_entries(page):
    """The dotted names listed by the ``autosummary`` directives of an .rst page, each
    prefixed with the ``currentmodule`` in force."""
    import re

    current, entries, in_block = "", [], False
    for line in (DOCS / page).read_text().splitlines():
        module = re.fullmatch(r"\.\. currentmodule:: (\S+)", line.strip())
        if module:
            current = module.group(1) + "."
        elif line.startswith(".. autosummary::"):
            in_block = True
        elif line.strip() and not line.startswith(" "):
            in_block = False
        elif in_block and line.strip() and not line.strip().startswith(":"):
            entries.append(current + line.strip())
    return entries


def _module_file(dotted):
    """The source file of the module ``dotted`` of this project, or None."""
    path = ROOT.joinpath(*dotted.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _defining_module(name):
    """The longest dotted prefix of ``name`` that is a module of this project."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if _module_file(".".join(parts[:end])) is not None:
            return ".".join(parts[:end])
    raise AssertionError(f"{name} names no module of the project")


def _run_time_statements(tree):
    """The statements of a module that run when it is imported or executed: those nested
    in ``if`` / ``try`` / ``with`` included, the bodies of functions and classes not."""
    import ast

    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _imported_names(path, package):
    """Dotted names that the file at ``path`` (in ``package``, for relative imports)
    imports as it runs: modules, and ``module.name`` for ``from module import name``."""
    import ast

    names = set()
    for node in _run_time_statements(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _third_party_imports(path, package):
    """Top-level names of the packages outside the project and the standard library that
    running the file at ``path`` imports, through the project's modules it imports."""
    import sys

    seen, todo, external = set(), [(path, package)], set()
    while todo:
        path, package = todo.pop()
        for name in _imported_names(path, package):
            top = name.split(".")[0]
            if _module_file(top) is None:
                if top not in sys.stdlib_module_names and _module_file(name) is None:
                    external.add(top)
            elif (source := _module_file(name)) is not None and name not in seen:
                seen.add(name)
                todo.append(
                    (source, name if source.name == "__init__.py" else name.rpartition(".")[0])
                )
    return external


def _installed_closure(requirements, extras_of_project):
    """Canonical names of the distributions that installing ``requirements`` brings in:
    their requirements, recursively, as the installed distributions' metadata declare
    them (a distribution not installed here counts, without its own requirements).
    ``extras_of_project`` maps each extra of this project to its requirements."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    closure, todo = set(), [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == canonicalize_name("sklearn_reg"):
            for extra in requirement.extras:
                todo.extend(Requirement(r) for r in extras_of_project[extra])
            continue
        key = (name, frozenset(requirement.extras))
        if key in closure:
            continue
        closure.add(key)
        try:
            declared = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in declared:
            dependency = Requirement(text)
            wanted = [{"extra": extra} for extra in ("", *requirement.extras)]
            if dependency.marker is None or any(map(dependency.marker.evaluate, wanted)):
                todo.append(dependency)
    return {name for name, _ in closure}


@functools.cache
def _docs_closure():
    """The distributions that ``pip install sklearn_reg[docs]`` installs."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return _installed_closure(project["dependencies"] + extras["docs"], extras)


@functools.cache
def _installed_providers():
    """Top-level import name → the installed distributions that provide it."""
    from importlib import metadata

    return metadata.packages_distributions()


def _distributions_of(import_name):
    """Canonical names of the installed distributions providing the top-level
    ``import_name`` (the name itself when nothing installed provides it)."""
    from packaging.utils import canonicalize_name

    provided = _installed_providers().get(import_name, [import_name])
    return {canonicalize_name(name) for name in provided}


#: what the documentation build runs: the API page's modules, conf.py and the gallery
DOCS_BUILD_IMPORTS = (
    [_defining_module(name) for name in _autosummary_entries("api.rst")]
    + ["docs/conf.py"]
    + [f"examples/{path.name}" for path in sorted((ROOT / "examples").glob("plot_*.py"))]
)


def test_api_page_lists_the_modules_the_build_imports():
    modules = set(DOCS_BUILD_IMPORTS)
    assert {"sklearn_reg", "sklearn_reg.onnx", "sklearn_reg.exceptions"} <= modules


@pytest.mark.parametrize("runs", sorted(set(DOCS_BUILD_IMPORTS)))
def test_docs_extra_installs_what_the_docs_build_imports(runs):
    """``sphinx-build`` after ``pip install ".[docs]"`` alone imports every module the
    API page lists and runs the gallery: all they import must come with that extra."""
    if runs.endswith(".py"):
        path, package = ROOT / runs, ""
    else:
        path = _module_file(runs)
        package = runs if path.name == "__init__.py" else runs.rpartition(".")[0]
    closure = _docs_closure()
    missing = sorted(
        name
        for name in _third_party_imports(path, package)
        if not _distributions_of(name) & closure
    )
    assert missing == [], f"{runs} imports {missing}, which the docs extra does not install"
