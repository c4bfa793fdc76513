"""The one numba decorator of every kernel module, and where its compiled code is cached.

numba caches a compiled function beside its source (the package's ``__pycache__``) or,
if that folder is read-only, in the user's cache directory (``~/.cache/numba``); a
user-set ``NUMBA_CACHE_DIR`` takes precedence over both. When none of these is
writable (a read-only installation run by a user without a writable home, as in many
containers), numba refuses to cache and ``@njit(cache=True)`` raises at import. The
decorator here then caches in a per-user folder of the system's temporary directory,
or, failing that, compiles without a cache; either way it warns once, with
:class:`~sklearn_reg.exceptions.KernelCacheWarning`, how to make the cache persistent
(unless the kernels were compiled ahead of use into the package, see below: then
nothing compiles and there is nothing to warn about).

numba reads a cache only where it can also write, so kernels compiled ahead of use
into a read-only package's ``__pycache__`` (``python -m sklearn_reg.compile`` run by
the installer) would be ignored by every other user. When numba caches a kernel
elsewhere and that location holds no index for it yet, the decorator copies the
kernel's files from the package's ``__pycache__`` there: the other users start warm.
"""

import contextlib
import glob
import os
import shutil
import stat
import tempfile
import uuid

import numba
from numba import njit

from ._warnings import warn_from_caller
from .exceptions import KernelCacheWarning

#: releases the GIL; numpy's error model (no ZeroDivisionError checks), so that the
#: loops vectorize
OPTIONS = {"nogil": True, "error_model": "numpy"}

#: every dispatcher made by :func:`jit`, in definition order
kernels = []


#: where the kernels are cached when numba finds no place, decided once per process:
#: None while numba's own locations work, then the fallback directory, or "" for no cache
fallback_directory = None


def jit(py_func, **options):
    """Compile ``py_func`` with numba in nopython mode, cached on disk where possible.

    Parameters
    ----------
    py_func : function
        A kernel.
    **options
        More options of :func:`numba.njit`, added to :data:`OPTIONS`.

    Returns
    -------
    dispatcher : numba.core.registry.CPUDispatcher
        The compiled kernel (compiled lazily, at its first call per signature).

    See Also
    --------
    fallback_cache_dir : The directory used when numba's own locations fail.
    """
    dispatcher = _cached_jit(py_func, {**OPTIONS, **options})
    _seed_from_package_cache(dispatcher, py_func)
    kernels.append(dispatcher)
    return dispatcher


def helper(py_func):
    """:func:`jit` for a function that only compiled code calls.

    No Python or C entry point is built for it (quicker to compile), so it cannot be
    called from Python.
    """
    return jit(py_func, no_cpython_wrapper=True, no_cfunc_wrapper=True)


def _cached_jit(py_func, options):
    global fallback_directory
    try:  # numba's locations: NUMBA_CACHE_DIR, the package's __pycache__, the user cache
        return njit(cache=True, **options)(py_func)
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
    if fallback_directory is None:
        fallback_directory = fallback_cache_dir() or ""
        prebuilt = bool(_package_cache_files(py_func, "nbi"))  # copied there: no compile
        if not (fallback_directory and prebuilt):
            _warn_about_fallback(py_func, fallback_directory)
    if fallback_directory:
        with _numba_cache_dir(fallback_directory):
            try:
                return njit(cache=True, **options)(py_func)
            except RuntimeError as error:  # the directory became unusable meanwhile
                if "cannot cache" not in str(error):
                    raise
    return njit(**options)(py_func)


def _seed_from_package_cache(dispatcher, py_func):
    """Copy the kernel's cache files from the package's ``__pycache__`` to numba's choice.

    Only when numba caches the kernel elsewhere and holds no index for it there; never
    raises (a failed copy only means a compile). The index is copied last and each file
    is renamed into place, so a concurrent process never sees an index without its data.
    """
    stats = getattr(dispatcher, "stats", None)  # none under NUMBA_DISABLE_JIT
    target = stats.cache_path if stats is not None else None
    if target is None or os.path.abspath(target) == _package_cache(py_func):
        return
    try:
        indexes = _package_cache_files(py_func, "nbi")
        if not indexes or any(os.path.exists(os.path.join(target, os.path.basename(i)))
                              for i in indexes):
            return
        for path in _package_cache_files(py_func, "nbc") + indexes:
            _copy_atomically(path, os.path.join(target, os.path.basename(path)))
    except OSError:
        pass


def _package_cache(py_func):
    """The ``__pycache__`` folder beside the kernel's source file."""
    return os.path.join(os.path.dirname(os.path.abspath(py_func.__code__.co_filename)),
                        "__pycache__")


def _package_cache_files(py_func, extension):
    """The kernel's numba cache files of ``extension`` (nbi: index, nbc: data) there."""
    module = os.path.splitext(os.path.basename(py_func.__code__.co_filename))[0]
    qualname = py_func.__qualname__.replace("<", "").replace(">", "")
    base = f"{module}.{qualname}-{py_func.__code__.co_firstlineno}.py"  # numba's file names
    return glob.glob(os.path.join(glob.escape(_package_cache(py_func)),
                                  f"{glob.escape(base)}*.{extension}"))


def _copy_atomically(source, destination):
    partial = f"{destination}.tmp.{uuid.uuid4().hex[:16]}"
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, destination)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


@contextlib.contextmanager
def _numba_cache_dir(directory):
    """Point numba's ``CACHE_DIR`` at ``directory`` while a dispatcher picks its cache.

    numba chooses a function's cache location once, when the decorator runs, so the
    setting is restored right after: other numba users in the process are unaffected.
    """
    saved = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = directory
    try:
        yield
    finally:
        numba.config.CACHE_DIR = saved


def fallback_cache_dir(root=None):
    """A private, per-user cache directory under the temporary directory, or None.

    The directory is created with mode 0o700 and used only if it is a real directory
    (not a link) and, on POSIX systems, owned by the current user and writable by
    nobody else: numba's cache holds pickles, which must not come from another user.

    Parameters
    ----------
    root : str, optional
        Where to create it; default :func:`tempfile.gettempdir`.

    Returns
    -------
    directory : str or None
        ``<root>/sklearn_reg-numba-cache-<user id>``, or None if it cannot be created
        or is not safe to use.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_reg._jit import fallback_cache_dir
    >>> with tempfile.TemporaryDirectory() as root:
    ...     os.path.basename(fallback_cache_dir(root)).startswith("sklearn_reg-numba-cache-")
    True
    """
    try:
        root = tempfile.gettempdir() if root is None else root
        path = os.path.join(root, f"sklearn_reg-numba-cache-{_user_id()}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            return None
        # POSIX: ours alone (Windows has no such mode bits, and a per-user temp folder)
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
            return None
        if not os.access(path, os.W_OK | os.X_OK):
            return None
        return path
    except OSError:
        return None


def _user_id():
    if hasattr(os, "getuid"):
        return str(os.getuid())  # works in containers without a passwd entry
    try:
        import getpass

        return getpass.getuser()
    except (KeyError, OSError):  # no user name known (a uid without a passwd entry)
        return "user"


def _warn_about_fallback(py_func, directory):
    pycache = os.path.join(os.path.dirname(os.path.abspath(py_func.__code__.co_filename)),
                           "__pycache__")
    user_dir = numba.config.CACHE_DIR
    tried = f"NUMBA_CACHE_DIR={user_dir}, " if user_dir else ""
    tried += f"{pycache} and the user cache directory"
    if directory:
        outcome = (
            f"caching them in {directory} instead, which the system may clear (then the "
            "one-time compile of 10-30 s recurs)"
        )
    else:
        outcome = (
            "no temporary directory is writable either, so every new process compiles "
            "them again (10-30 s)"
        )
    warn_from_caller(
        f"sklearn_reg: numba cannot cache the compiled kernels in {tried}: {outcome}. "
        "Set the environment variable NUMBA_CACHE_DIR to a writable directory to keep "
        "the cache.",
        KernelCacheWarning,
    )
