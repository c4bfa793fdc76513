"""Warnings attributed to the user's code rather than to this package, numba or Python's."""

import sys
import threading
import warnings

#: frames of these packages are skipped when choosing where a warning points: this
#: package, numba compiling it, and what runs between the user's line and ``fit``
_INTERNAL_PACKAGES = (
    "sklearn_reg",
    "numba",
    "importlib",
    "contextlib",
    "functools",
    "sklearn",
    "joblib",
)

#: where a warning with no user's line to name points (``<...>`` names no source file)
NO_LOCATION = "<sklearn_reg>"


def _top_module(frame):
    return frame.f_globals.get("__name__", "").split(".")[0]


def _is_standard_library(frame):
    """A frame of Python's standard library (``threading``, ``multiprocessing.pool``, ...),
    which runs worker threads and pools but is never the user's line."""
    module = _top_module(frame)
    return module in sys.stdlib_module_names or frame.f_code.co_filename.startswith("<frozen")


def _is_internal(frame):
    return _top_module(frame) in _INTERNAL_PACKAGES or _is_standard_library(frame)


def _first_user_frame(frame):
    """The first frame outside the internal packages and the standard library, walking
    out from ``frame``; None when the stack has none."""
    while frame is not None and _is_internal(frame):
        frame = frame.f_back
    return frame


def _main_thread_call_site():
    """The user's line that the main thread is running a call of the internal packages
    from (``search.fit(X, y)`` waiting for its worker threads), or None when the main
    thread is not inside such a call."""
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None and _is_standard_library(frame):  # waiting on a lock or queue
        frame = frame.f_back
    if frame is None or _top_module(frame) not in _INTERNAL_PACKAGES:
        return None
    return _first_user_frame(frame)


def call_site(frame):
    """The user's frame that a warning raised at ``frame`` should point at, or None.

    The innermost frame outside the internal packages and the standard library, walking
    out from ``frame``. A worker thread of a pool (joblib's threads in a
    ``GridSearchCV(n_jobs=2)``) has no user's frame in its own stack: its warning points
    at the user's line of the main thread when the main thread is inside a call of the
    internal packages, which is then the call waiting for the pool's work; else nowhere.

    Parameters
    ----------
    frame : frame or None
        Where the warning is raised.

    Returns
    -------
    frame or None
    """
    found = _first_user_frame(frame)
    if found is None and threading.current_thread() is not threading.main_thread():
        found = _main_thread_call_site()
    return found


def warn_from_caller(message, category):
    """Issue a warning located at the user's line, not at one of sklearn_reg, numba,
    scikit-learn, joblib or the standard library.

    A warning raised while numba compiles, or while the package is imported, would
    otherwise point at a line of numba or of the package; this one points at the
    user's ``fit``, ``cross_val_score`` or ``import`` line (see :func:`call_site` for a
    warning raised in a worker thread). With no user's line to name, it points at
    :data:`NO_LOCATION`, line 0, rather than at a line that is not the user's.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type
        A subclass of :class:`Warning`.
    """
    frame = call_site(sys._getframe(1))
    if frame is None:
        warnings.warn_explicit(message, category, NO_LOCATION, 0, module="sklearn_reg")
        return
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(
        message,
        category,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=module_globals.get("__name__"),
        registry=registry,
    )  # no module_globals: their loader may not serve source (``python -c``), and it raises
