"""The notice that numba is compiling the kernels: once per process, only on a real compile.

numba broadcasts a ``"numba:compile"`` event when a dispatcher compiles a signature and
not when it loads one from its on-disk cache, so a listener on that event tells a cold
cache from a warm one exactly, whatever made the cache cold (first run, new dtype,
changed sources, emptied cache). Looking for the cache's index files instead is
fooled by a stale index (the sources changed) and by a dtype not compiled yet.
"""

import threading

import numpy as np
from numba import types
from numba.core import event

from . import _jit
from ._warnings import warn_from_caller
from .exceptions import CompileNotice

_PACKAGE = __name__.split(".")[0]


def is_kernel(dispatcher):
    """Whether a numba dispatcher compiles a function of this package.

    Parameters
    ----------
    dispatcher : numba.core.dispatcher.Dispatcher
        The dispatcher of a ``"numba:compile"`` event.

    Returns
    -------
    bool
    """
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", None) or ""
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")


def _input_dtype(argument_types):
    """The float dtype of the first float array argument, or None."""
    for t in argument_types:
        if isinstance(t, types.Array) and isinstance(t.dtype, types.Float):
            return np.dtype(str(t.dtype))
    return None


def notice_message(dtype=None):
    """The text of the :class:`~sklearn_reg.exceptions.CompileNotice`.

    Parameters
    ----------
    dtype : numpy.dtype, optional
        The input dtype being compiled for.

    Returns
    -------
    message : str
    """
    kind = f" for {dtype} input" if dtype is not None else ""
    if _jit.fallback_directory == "":
        when = "in every new process, as no cache directory is writable"
    else:
        when = "once per machine; later runs load them from numba's cache"
    return (
        f"sklearn_reg: compiling the training kernels{kind} (typically 10-30 s), {when}. "
        "`python -m sklearn_reg.compile` does it ahead of use."
    )


class _FirstCompileListener(event.Listener):
    """Issues the notice at the start of the first compile of a kernel of this package."""

    def __init__(self):
        self.lock = threading.Lock()
        self.announced = False

    def on_start(self, ev):
        if self.announced or not is_kernel(ev.data["dispatcher"]):
            return
        with self.lock:
            if self.announced:
                return
            self.announced = True
        try:
            warn_from_caller(notice_message(_input_dtype(ev.data["args"])), CompileNotice)
        except CompileNotice:  # warnings turned into errors must not break the compile
            pass

    def on_end(self, ev):
        pass


_listener = None
_install_lock = threading.Lock()


def announce_compilation():
    """Announce, once per process, the first compile of the kernels with a notice.

    Call it before the first kernel call of ``fit`` / ``predict``; calls after the first
    cost one global lookup. It registers a listener on numba's ``"numba:compile"``
    event, which issues a :class:`~sklearn_reg.exceptions.CompileNotice` when numba
    starts compiling a kernel of this package, i.e. only when the on-disk cache does
    not hold it yet, and never again in the process.

    See Also
    --------
    sklearn_reg.exceptions.CompileNotice : The notice; filter it to silence it.
    """
    global _listener
    if _listener is not None:
        return
    with _install_lock:
        if _listener is None:
            listener = _FirstCompileListener()
            event.register("numba:compile", listener)
            _listener = listener
