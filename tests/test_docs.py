"""The ``>>>`` snippets of the documentation pages run and print what they show."""

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[1] / "docs"
PAGES = ["getting_started.rst", "user_guide.rst"]


@pytest.mark.parametrize("page", PAGES)
def test_page_snippets_run(page):
    result = doctest.testfile(str(DOCS / page), module_relative=False, report=True,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
