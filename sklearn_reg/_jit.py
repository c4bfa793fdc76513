"""The one numba decorator of every kernel module, and where its compiled code is cached.

Each kernel's compiled code is looked up, per signature, in three places, first hit wins:

1. numba's own cache location, where numba also saves what it compiles:
   ``NUMBA_CACHE_DIR`` if set, else the package's ``__pycache__`` if writable, else the
   user's cache directory (``~/.cache/numba``);
2. the package's ``__pycache__`` when numba caches elsewhere (kernels compiled ahead of
   use by ``python -m sklearn_reg.compile`` run by whoever installed the package), read
   only, as numba itself reads a cache only where it can write;
3. the kernels shipped in the package, ``sklearn_reg/_prebuilt/``, compiled when the
   wheel was built in tiers, the fastest this CPU can run first: on x86-64 CPUs with
   AVX2 and FMA (x86-64-v3: Intel since 2013, AMD since 2015) code for that level,
   ``_prebuilt/x86-64-v3/``, then code for a generic CPU of the platform, ``_prebuilt/``
   itself (``NUMBA_CPU_NAME=generic``: code that runs on any CPU of the architecture).
   numba's index key holds the CPU's name and features (``CPUCodegen.magic_tuple``);
   for these folders they are replaced by the tier's, recorded in its manifest,
   ``manifest.json``.

The read-only folders are used only when the manifest names this numba and Python
version and every file's SHA-256 digest matches; numba's index then also checks the
source file's content hash and the function's bytecode, and each loaded entry is checked
to be the function and signature asked for (numba's index has no lock, so a racing
writer can leave it pointing at another signature's data: numba issue #4807). Anything
else (another numba, Python or platform, an edited source, a truncated or corrupt
file) is a miss: numba compiles and saves in location 1, as without shipped kernels.

Generic code runs the epochs of ``asv_bench/compare.py`` about 1.3x slower than code
for the host CPU (no AVX); x86-64-v3 code runs them as fast as host code. Location 1
still comes first: ``python -m sklearn_reg.compile`` compiles host code there, ignoring
the shipped kernels, and every later process runs that instead.

When numba finds no writable location at all (a read-only installation run by a user
without a writable home, as in many containers), the kernels are cached in a per-user
folder of the system's temporary directory, or, failing that, not cached; either way a
:class:`~sklearn_reg.exceptions.KernelCacheWarning` says so once, how to make the cache
persistent, unless ready-made kernels (2 or 3) exist: then nothing compiles and there is
nothing to warn about.
"""

import contextlib
import functools
import hashlib
import json
import os
import pickle
import shutil
import stat
import sys
import tempfile
import types

import numba
from numba import njit
from numba.core import caching, compiler, sigutils
from numba.core.dispatcher import Dispatcher

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

#: the package's folder; kernels of modules below it can come from :data:`PREBUILT_DIR`
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

#: the kernels shipped in the package, compiled when it was built: the generic tier, and
#: the other tiers in subfolders named after their CPU (:func:`tier_folder`)
PREBUILT_DIR = os.path.join(PACKAGE_DIR, "_prebuilt")

#: the file of :data:`PREBUILT_DIR` that says for what its kernels were compiled
MANIFEST = "manifest.json"

#: the CPU part (name, features) of numba's key of code that runs on any CPU
GENERIC_CPU = ("generic", "")

#: the CPU part of numba's key of code for x86-64 CPUs with AVX2 and FMA (the psABI's
#: micro-architecture level x86-64-v3), shipped beside the generic code on x86-64
X86_64_V3 = ("x86-64-v3", "")

#: the LLVM features that x86-64-v3 code may use beyond x86-64's (levels v2 and v3)
X86_64_V3_FEATURES = (
    *("cx16", "sahf", "popcnt", "sse3", "sse4.1", "sse4.2", "ssse3"),
    *("avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "xsave"),
)

#: whether the shipped kernels are read; ``SKLEARN_REG_SHIPPED_KERNELS=0`` turns them off
#: (then numba compiles code for this CPU on first use, as in a source checkout), and
#: :func:`sklearn_reg.compile.compile_kernels` turns them off while it compiles
use_shipped = os.environ.get("SKLEARN_REG_SHIPPED_KERNELS", "1").strip() != "0"


def jit(py_func=None, **options):
    """Compile ``py_func`` with numba in nopython mode, cached on disk where possible.

    Parameters
    ----------
    py_func : function, optional
        A kernel; without it, ``jit(**options)`` is the decorator with these options.
    **options
        More options of :func:`numba.njit`, added to :data:`OPTIONS`.

    Returns
    -------
    dispatcher : numba.core.registry.CPUDispatcher
        The compiled kernel (compiled lazily, at its first call per signature), whose
        cache is a :class:`KernelCache`.

    See Also
    --------
    fallback_cache_dir : The directory used when numba's own locations fail.
    """
    if py_func is None:
        return functools.partial(jit, **options)
    dispatcher = njit(**{**OPTIONS, **options})(py_func)
    if isinstance(dispatcher, Dispatcher):  # not under NUMBA_DISABLE_JIT
        dispatcher._cache = KernelCache(py_func, _writable_cache(py_func))
    kernels.append(dispatcher)
    return dispatcher


def helper(py_func):
    """:func:`jit` for a function that only compiled code calls.

    No Python or C entry point is built for it (quicker to compile), so it cannot be
    called from Python.
    """
    return jit(py_func, no_cpython_wrapper=True, no_cfunc_wrapper=True)


def inlined(py_func):
    """:func:`helper` inlined into its callers at numba's IR level.

    numba compiles a called function as a library of its own, then links it into each
    caller and optimizes the whole again, level after level; an inlined function is
    compiled once, as part of its caller. For the large stages of the training loop
    (the epoch, the forward and backward passes): a cold first fit compiles about a
    third faster. Their small callees stay helpers, since numba prunes the branches on
    ``None`` arguments (CSR or dense input, dropout on or off) only in a function of
    its own.
    """
    return jit(py_func, inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)


# -- the cache of one kernel ----------------------------------------------------------


class KernelCache(caching._Cache):
    """numba's cache of one kernel, then the read-only folders of ready-made kernels.

    Parameters
    ----------
    py_func : function
        The kernel.
    writable : numba.core.caching.FunctionCache or None
        numba's cache in its own location (where compiled code is saved), or None when
        there is no writable location.
    """

    def __init__(self, py_func, writable):
        self._py_func = py_func
        self._writable = writable
        self._read_only = _read_only_folders(py_func, writable)
        self._enabled = True
        #: where each signature loaded in this process came from (:meth:`load_overload`)
        self.origins = {}

    def __repr__(self):
        return f"<KernelCache py_func={self._py_func.__qualname__!r}>"

    @property
    def cache_path(self):
        """The folder where compiled code is saved, or None."""
        return None if self._writable is None else self._writable.cache_path

    def load_overload(self, sig, target_context):
        """The compiled code of ``sig`` from the first folder holding it, or None."""
        if not self._enabled:
            return None
        target_context.refresh()
        if self._writable is not None:
            cres = self._writable.load_overload(sig, target_context)
            if cres is not None:
                self.origins[sig] = "numba's cache"
                return cres
        codegen = target_context.codegen()
        for folder in self._read_only:
            if folder.shipped and not use_shipped:
                continue
            cres = folder.load(sig, codegen, target_context)
            if cres is not None:
                self.origins[sig] = folder.origin
                return cres
        return None

    def save_overload(self, sig, data):
        """Save compiled code in numba's location (the read-only folders stay as they are)."""
        if self._enabled and self._writable is not None:
            self._writable.save_overload(sig, data)

    def enable(self):
        """Use the cache."""
        self._enabled = True

    def disable(self):
        """Neither load nor save."""
        self._enabled = False

    def flush(self):
        """Empty numba's index of the kernel."""
        if self._writable is not None:
            self._writable.flush()


class _CheckedIndexFile(caching.IndexDataCacheFile):
    """numba's index and data files of one kernel; unreadable files count as missing.

    With ``digests`` (file name → SHA-256 hex digest), a file is read only if its
    content has that digest.
    """

    def __init__(self, cache_path, filename_base, source_stamp, digests=None):
        super().__init__(cache_path, filename_base, source_stamp)
        self._digests = digests

    def _verified(self, path):
        if self._digests is None:
            return
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if self._digests.get(os.path.basename(path)) != digest:
            raise ValueError(f"{path} is not the file that was shipped")

    def _load_index(self):
        try:
            if self._digests is not None and not os.path.exists(self._index_path):
                return {}
            self._verified(self._index_path)
            return super()._load_index()
        except Exception:  # truncated, corrupt, of another format: as if empty
            return {}

    def _load_data(self, name):
        path = self._data_path(name)
        with open(path, "rb") as f:
            data = f.read()
        if (
            self._digests is not None
            and self._digests.get(name) != hashlib.sha256(data).hexdigest()
        ):
            raise ValueError(f"{path} is not the file that was shipped")
        return pickle.loads(data)


class _WritableCache(caching.FunctionCache):
    """numba's cache of a kernel in numba's location, read with the checks of this module."""

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = _CheckedIndexFile(
            self._cache_path, self._impl.filename_base, self._impl.locator.get_source_stamp()
        )

    def _load_overload(self, sig, target_context):
        if not self._enabled:
            return None
        key = self._index_key(sig, target_context.codegen())
        return _load_checked(self._cache_file, key, self._py_func, sig, target_context)


class _ReadOnlyFolder:
    """A folder of ready-made cache files of one kernel, keyed for one CPU.

    Parameters
    ----------
    py_func : function
        The kernel.
    file : _CheckedIndexFile
        Its index and data files there.
    cpu : tuple or None
        The CPU part of numba's key for the files (name, features) of a shipped tier,
        or None for the CPU of this process (the package's ``__pycache__``).
    """

    def __init__(self, py_func, file, cpu=None):
        self._py_func = py_func
        self._file = file
        self._cpu = cpu
        self.shipped = cpu is not None
        self.origin = "__pycache__" if cpu is None else f"shipped {cpu[0]}"

    def load(self, sig, codegen, target_context):
        """The compiled code of ``sig``, or None."""
        magic = codegen.magic_tuple()
        if self._cpu is not None:
            magic = (magic[0], *self._cpu)
        key = caching.Cache._index_key(
            types.SimpleNamespace(_py_func=self._py_func),
            sig,
            types.SimpleNamespace(magic_tuple=lambda: magic),
        )
        return _load_checked(self._file, key, self._py_func, sig, target_context)


def _load_checked(cache_file, key, py_func, sig, target_context):
    """The entry ``key`` of ``cache_file`` rebuilt, if it is ``py_func`` for ``sig``; or None.

    Never raises: a missing, unreadable or mismatched entry means a compile.
    """
    try:
        payload = cache_file.load(key)
        if payload is None or not _is_entry_of(payload, py_func, sig):
            return None
        return compiler.CompileResult._rebuild(target_context, *payload)
    except Exception:
        return None


def _is_entry_of(payload, py_func, sig):
    """Whether a reduced compile result is of ``py_func`` and the argument types ``sig``."""
    fndesc, signature = payload[1], payload[3]
    args, _ = sigutils.normalize_signature(sig)
    return (
        fndesc.qualname == py_func.__qualname__
        and fndesc.modname == py_func.__module__
        and tuple(signature.args) == tuple(args)
    )


# -- where the ready-made kernels are --------------------------------------------------


def _read_only_folders(py_func, writable):
    """The read-only folders to look in after numba's location, in order."""
    source = os.path.abspath(py_func.__code__.co_filename)
    if not os.path.isfile(source):
        return []
    stamp = (
        writable._impl.locator.get_source_stamp()
        if writable is not None
        else caching.InTreeCacheLocator(py_func, source).get_source_stamp()
    )
    base = filename_base(py_func)
    folders = []
    pycache = _package_cache(py_func)
    if writable is None or os.path.abspath(writable.cache_path) != pycache:
        folders.append(_ReadOnlyFolder(py_func, _CheckedIndexFile(pycache, base, stamp)))
    for cpu in shipped_tiers():
        manifest = shipped_manifest(cpu)
        shipped = _shipped_folder(py_func, cpu)
        if manifest is not None and shipped is not None:
            digests = manifest["files"].get(os.path.relpath(shipped, tier_folder(cpu)), {})
            folders.append(
                _ReadOnlyFolder(py_func, _CheckedIndexFile(shipped, base, stamp, digests), cpu)
            )
    return folders


def shipped_tiers():
    """The CPUs of the shipped tiers that this process can run, the fastest first.

    Returns
    -------
    tiers : list of tuple
        :data:`X86_64_V3` if this is an x86-64 CPU with all of
        :data:`X86_64_V3_FEATURES`, then :data:`GENERIC_CPU`.
    """
    return [X86_64_V3, GENERIC_CPU] if _runs_x86_64_v3() else [GENERIC_CPU]


@functools.lru_cache(maxsize=None)
def _runs_x86_64_v3():
    from llvmlite import binding

    try:
        if not binding.get_process_triple().startswith("x86_64"):
            return False
        features = binding.get_host_cpu_features()
    except RuntimeError:  # features unknown: only the generic tier is safe
        return False
    return all(features.get(name, False) for name in X86_64_V3_FEATURES)


def tier_folder(cpu):
    """The folder of the shipped kernels compiled for ``cpu``.

    Parameters
    ----------
    cpu : tuple
        The CPU part of numba's key, (name, features).

    Returns
    -------
    folder : str
        :data:`PREBUILT_DIR` for :data:`GENERIC_CPU`, else its subfolder named after the
        CPU, such as ``_prebuilt/x86-64-v3``.
    """
    return PREBUILT_DIR if tuple(cpu) == tuple(GENERIC_CPU) else os.path.join(PREBUILT_DIR, cpu[0])


def filename_base(py_func):
    """The start of the names of numba's cache files of ``py_func``.

    ``<module>.<qualname>-<first line>.py<major><minor><abiflags>``, as numba's
    ``CacheImpl.get_filename_base`` makes it.

    Parameters
    ----------
    py_func : function

    Returns
    -------
    base : str
    """
    module = os.path.splitext(os.path.basename(py_func.__code__.co_filename))[0]
    qualname = py_func.__qualname__.replace("<", "").replace(">", "")
    version = f"{sys.version_info[0]}{sys.version_info[1]}{getattr(sys, 'abiflags', '')}"
    return f"{module}.{qualname}-{py_func.__code__.co_firstlineno}.py{version}"


def _package_cache(py_func):
    """The ``__pycache__`` folder beside the kernel's source file."""
    return os.path.join(
        os.path.dirname(os.path.abspath(py_func.__code__.co_filename)), "__pycache__"
    )


def _shipped_folder(py_func, cpu):
    """The folder of the ``cpu`` tier for the kernel's module, or None if not ours."""
    source_dir = os.path.dirname(os.path.abspath(py_func.__code__.co_filename))
    relative = os.path.relpath(source_dir, PACKAGE_DIR)
    if relative.startswith(os.pardir) or os.path.isabs(relative):
        return None
    return os.path.normpath(os.path.join(tier_folder(cpu), relative))


def interpreter_tag():
    """What the shipped kernels must have been compiled with: numba, Python, platform.

    Returns
    -------
    tag : dict
        ``numba`` (its version), ``python`` (``major.minor`` and ABI flags) and
        ``machine`` (the LLVM target triple of this process).
    """
    from llvmlite import binding

    return {
        "numba": numba.__version__,
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}{getattr(sys, 'abiflags', '')}",
        "machine": binding.get_process_triple(),
    }


@functools.lru_cache(maxsize=None)
def _read_manifest(path, cpu, numba_version, package_dir, modified):
    """The manifest at ``path`` if it fits; read once per file version (the arguments)."""
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        tag = interpreter_tag()
        if not (
            isinstance(manifest, dict)
            and isinstance(manifest.get("files"), dict)
            and all(manifest.get(k) == v for k, v in tag.items())
            and tuple(manifest.get("cpu", ())) == tuple(cpu)
            and manifest.get("sources") == source_digests()
        ):
            return None
        return manifest
    except (OSError, ValueError, TypeError):
        return None


def source_digests():
    """The SHA-256 digest of every Python file of the package, by path relative to it.

    The shipped kernels are used only if the package's sources are those they were
    compiled from: numba's own check looks at one kernel's file only, while a kernel
    holds the compiled code of the functions it calls from other files.

    Returns
    -------
    digests : dict
    """
    digests = {}
    for folder, subfolders, names in os.walk(PACKAGE_DIR):
        subfolders[:] = sorted(d for d in subfolders if d not in ("__pycache__", "_prebuilt"))
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                digests[os.path.relpath(path, PACKAGE_DIR).replace(os.sep, "/")] = digest
    return digests


def shipped_manifest(cpu=None):
    """The manifest of a tier of shipped kernels if it fits this process, else None.

    Parameters
    ----------
    cpu : tuple, optional
        The tier's CPU (:func:`shipped_tiers`); default :data:`GENERIC_CPU`.

    Returns
    -------
    manifest : dict or None
        ``files`` maps each folder of the tier (relative to it) to its files
        and their SHA-256 digests; the keys of :func:`interpreter_tag` and ``cpu`` say
        what the kernels were compiled for. None when there are no shipped kernels or
        they were compiled for another numba, Python or platform.
    """
    cpu = tuple(GENERIC_CPU if cpu is None else cpu)
    path = os.path.join(tier_folder(cpu), MANIFEST)
    try:
        st = os.stat(path)
    except OSError:
        return None
    modified = (st.st_mtime_ns, st.st_size)
    return _read_manifest(path, cpu, numba.__version__, PACKAGE_DIR, modified)


def save_shipped(destination, dispatchers, cpu=None):
    """Copy the cache files of ``dispatchers`` for ``cpu`` with a manifest to ``destination``.

    ``destination`` becomes a tier folder (:func:`tier_folder`): one subfolder per
    kernel folder of the package (``.`` for the package itself) holding each kernel's
    index (``.nbi``) and data (``.nbc``) files, and :data:`MANIFEST`, which names the
    numba, Python and platform, the digest of every source file (:func:`source_digests`)
    and of every cache file.

    Parameters
    ----------
    destination : str
        A folder, created if missing.
    dispatchers : list of numba.core.registry.CPUDispatcher
        Kernels made by :func:`jit`, compiled in this process for ``cpu`` (with
        ``NUMBA_CPU_NAME`` and ``NUMBA_CPU_FEATURES`` set to it); those with no compiled
        signature are left out.
    cpu : tuple, optional
        The tier's CPU part of numba's key; default :data:`GENERIC_CPU`.

    Returns
    -------
    n_files : int
        The number of cache files written.

    Raises
    ------
    RuntimeError
        If a compiled signature is missing from a kernel's cache in numba's location,
        or is not code for ``cpu``: the shipped kernels would be incomplete or wrong.
    """
    cpu = tuple(GENERIC_CPU if cpu is None else cpu)
    files = {}
    for dispatcher in dispatchers:
        if not dispatcher.signatures:
            continue
        writable = getattr(getattr(dispatcher, "_cache", None), "_writable", None)
        overloads = writable._cache_file._load_index() if writable is not None else {}
        keys = [key for key in overloads if tuple(key[1][1:]) == cpu]
        missing = set(map(tuple, dispatcher.signatures)) - {tuple(key[0]) for key in keys}
        if missing:
            raise RuntimeError(
                f"numba's cache of {dispatcher.py_func.__qualname__} lacks "
                f"{cpu[0]}-CPU code for {sorted(map(str, missing))}."
            )
        folder = os.path.relpath(_shipped_folder(dispatcher.py_func, cpu), tier_folder(cpu))
        os.makedirs(os.path.join(destination, folder), exist_ok=True)
        index = os.path.basename(writable._cache_file._index_path)
        for name in [index, *sorted({overloads[key] for key in keys})]:
            target = os.path.join(destination, folder, name)
            shutil.copyfile(os.path.join(writable.cache_path, name), target)
            with open(target, "rb") as f:
                files.setdefault(folder, {})[name] = hashlib.sha256(f.read()).hexdigest()
    manifest = {
        **interpreter_tag(),
        "cpu": list(cpu),
        "sources": source_digests(),
        "files": files,
    }
    with open(os.path.join(destination, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    return sum(len(names) for names in files.values())


def _has_ready_made(py_func):
    """Whether the kernel has compiled code in a read-only folder (then nothing compiles)."""
    base = filename_base(py_func)
    folders = [_package_cache(py_func)]
    for cpu in shipped_tiers():
        if shipped_manifest(cpu) is not None and _shipped_folder(py_func, cpu) is not None:
            folders.append(_shipped_folder(py_func, cpu))
    return any(os.path.exists(os.path.join(folder, f"{base}.nbi")) for folder in folders)


# -- numba's writable location, or the fallback ----------------------------------------


def _writable_cache(py_func):
    """numba's cache of ``py_func`` in the first writable location, or None if none is."""
    global fallback_directory
    try:  # numba's locations: NUMBA_CACHE_DIR, the package's __pycache__, the user cache
        return _WritableCache(py_func)
    except RuntimeError as error:
        if "cannot cache" not in str(error):
            raise
    if fallback_directory is None:
        fallback_directory = fallback_cache_dir() or ""
        if not _has_ready_made(py_func):
            _warn_about_fallback(py_func, fallback_directory)
    if fallback_directory:
        with _numba_cache_dir(fallback_directory):
            try:
                return _WritableCache(py_func)
            except RuntimeError as error:  # the directory became unusable meanwhile
                if "cannot cache" not in str(error):
                    raise
    return None


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
    pycache = os.path.join(
        os.path.dirname(os.path.abspath(py_func.__code__.co_filename)), "__pycache__"
    )
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
