"""The one numba decorator of every kernel module."""

from numba import njit

#: compiled once per signature and cached on disk, releases the GIL; numpy's error model
#: (no ZeroDivisionError checks), so that the loops vectorize
jit = njit(cache=True, nogil=True, error_model="numpy")
