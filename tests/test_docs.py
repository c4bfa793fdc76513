"""The ``>>>`` snippets of the documentation pages run and print what they show."""

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
PAGES = ["getting_started.rst", "user_guide.rst", "stability_selection.rst"]


@pytest.mark.parametrize("page", PAGES)
def test_page_snippets_run(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False, report=True,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_usage_runs_and_prints_what_it_shows(capsys):
    """The README's Usage snippet runs, warns nothing, and prints a real selection."""
    import re
    import warnings

    readme = (DOCS.parent / "README.md").read_text()
    code = re.search(r"## Usage\n\n```python\n(.*?)```", readme, re.S).group(1)
    assert "# λ = 0.0006, features kept: 14 of 30" in code  # what this machine printed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    kept = int(re.fullmatch(r"λ = \S+, features kept: (\d+) of 30\n", out).group(1))
    assert 5 <= kept < 30, out
