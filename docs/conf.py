"""Sphinx configuration of the sklearn_reg documentation (extras: ``pip install .[docs]``)."""

project = "sklearn_reg"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc", "sphinx.ext.mathjax"]
autosummary_generate = True
numpydoc_show_class_members = False
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
