"""Warnings attributed to the user's code rather than to this package or numba."""

import sys
import warnings

#: frames of these packages are skipped when choosing where a warning points: this
#: package, numba compiling it, and what runs between the user's line and ``fit``
_INTERNAL_PACKAGES = ("sklearn_reg", "numba", "importlib", "contextlib", "functools", "sklearn",
                      "joblib")


def _is_internal(frame):
    module = frame.f_globals.get("__name__", "")
    internal = module.split(".")[0] in _INTERNAL_PACKAGES
    return internal or frame.f_code.co_filename.startswith("<frozen")


def warn_from_caller(message, category):
    """Issue a warning located at the innermost frame outside sklearn_reg, numba, sklearn.

    A warning raised while numba compiles, or while the package is imported, would
    otherwise point at a line of numba or of the package; this one points at the
    user's ``fit``, ``cross_val_score`` or ``import`` line.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type
        A subclass of :class:`Warning`.
    """
    frame = sys._getframe(1)
    while frame is not None and _is_internal(frame):
        frame = frame.f_back
    if frame is None:  # only internal frames: fall back to the direct caller
        warnings.warn(message, category, stacklevel=2)
        return
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(
        message, category, frame.f_code.co_filename, frame.f_lineno,
        module=module_globals.get("__name__"), registry=registry,
    )  # no module_globals: their loader may not serve source (``python -c``), and it raises
