"""The public docstrings follow numpydoc: sections, parameters and summaries validate."""

import inspect

import numpydoc.validate as numpydoc_validate
import pytest

import sklearn_reg

# As scikit-learn does, methods need no Examples / See Also / extended summary of their
# own (their class has them), and returned values need no name.
IGNORED = {"ES01", "EX01", "SA01", "RT02"}
METHODS = ["fit", "partial_fit", "predict", "predict_proba", "predict_log_proba", "score"]


def _public_names():
    for name in sklearn_reg.__all__:
        obj = getattr(sklearn_reg, name)
        yield f"sklearn_reg.{name}"
        if inspect.isclass(obj):
            instance = obj()
            yield from (f"sklearn_reg.{name}.{m}" for m in METHODS if hasattr(instance, m))


@pytest.mark.parametrize("name", list(_public_names()))
def test_public_docstring_validates(name):
    errors = [
        (code, msg)
        for code, msg in numpydoc_validate.validate(name)["errors"]
        if code not in IGNORED
    ]
    assert not errors, errors
