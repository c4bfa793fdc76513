"""Sphinx configuration of the sklearn_reg documentation.

Build (extras ``pip install -e ".[docs]"``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The gallery runs ``examples/plot_*.py`` (the other examples are rendered, not run).
Links to the Python, NumPy, SciPy and scikit-learn documentation need their
inventories from the network, so intersphinx is off unless
``SKLEARN_REG_DOCS_INTERSPHINX=1``: an offline build then has no inventory to fetch
and no warning to fail on.
"""

import os
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import sklearn_reg
from sklearn_reg._penalties import penalty_table

# the penalty table of the user guide, written from the registry the estimators read
os.makedirs(os.path.join(os.path.dirname(__file__), "generated"), exist_ok=True)
with open(os.path.join(os.path.dirname(__file__), "generated", "penalty_table.rst"), "w") as f:
    f.write(penalty_table())

project = "sklearn_reg"
author = "the sklearn_reg developers"
copyright = "2024, the sklearn_reg developers"
version = release = sklearn_reg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]
if os.environ.get("SKLEARN_REG_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "generated/penalty_table.rst",
    "**/*.ipynb",
    "**/*.py.md5",
    "**/*.codeobj.json",
]
default_role = "literal"

# -- API reference: autosummary pages from the numpydoc docstrings -------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- figures of the user guide (``.. plot::``), run at build time --------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.autolayout": True, "font.size": 9}

# -- gallery -----------------------------------------------------------------------
warnings.filterwarnings(
    "ignore", category=UserWarning, message="FigureCanvasAgg is non-interactive"
)
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",  # run only examples/plot_*.py
    "abort_on_example_error": True,
    "download_all_examples": False,
    "doc_module": ("sklearn_reg",),
    "backreferences_dir": "generated/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklearn_reg {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []


# Methods inherited from scikit-learn (``score``, ``set_params``, ``set_fit_request``, ...)
# keep their docstrings, whose ``:ref:`` / ``:term:`` roles point into scikit-learn's
# own documentation: render those as plain text.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]+?)(?:\s*<[^`>]+>)?`")


def _strip_sklearn_roles(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("sklearn.") or ".set_" in name and "_request" in name:
        lines[:] = [_SKLEARN_ROLE.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _strip_sklearn_roles)
