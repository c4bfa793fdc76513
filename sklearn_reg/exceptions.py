"""Warning categories of sklearn_reg.

Filter them like any other warning, for example::

    import warnings
    from sklearn_reg.exceptions import CompileNotice

    warnings.filterwarnings("ignore", category=CompileNotice)
"""

__all__ = ["CompileNotice", "KernelCacheWarning"]


class CompileNotice(UserWarning):
    """Announces that numba is compiling the training kernels in this process.

    Issued at most once per process, when a fit or predict first needs kernels that
    numba's on-disk cache does not hold yet (a new installation, a new input dtype, an
    emptied cache). The compile takes 10 to 30 s, more on a busy machine; later fits on the same
    machine load the kernels from the cache. ``python -m sklearn_reg.compile`` does
    it ahead of use.

    See Also
    --------
    KernelCacheWarning : Issued when the compiled kernels cannot be cached persistently.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_reg.exceptions import CompileNotice
    >>> warnings.filterwarnings("ignore", category=CompileNotice)
    """


class KernelCacheWarning(UserWarning):
    """Warns that numba cannot cache the kernels where it normally would.

    Issued at most once per process, at import, when neither the package's
    ``__pycache__`` folder nor numba's user cache directory is writable and no
    ``NUMBA_CACHE_DIR`` is set: the kernels are then cached in a per-user folder of
    the system's temporary directory, or, if that is not writable either, not cached
    at all. Setting the environment variable ``NUMBA_CACHE_DIR`` to a writable
    directory makes the cache persistent and silences this warning.

    See Also
    --------
    CompileNotice : Announces the one-time compile of the kernels.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_reg.exceptions import KernelCacheWarning
    >>> warnings.filterwarnings("ignore", category=KernelCacheWarning)
    """
