"""Fits and threads: one BLAS thread for small products, one fit per estimator at a time."""

import contextlib
import threading

from threadpoolctl import OpenBLASController, ThreadpoolController

#: multiply-adds of a batch's largest matrix product below which BLAS runs on one thread
_SMALL_PRODUCT = 1 << 24
_blas = {"controller": None, "users": 0, "limiter": None}  # shared by the fits of all threads
_blas_lock = threading.Lock()

#: ids of the estimator objects being fitted right now, in any thread
_fitting = set()
_fitting_lock = threading.Lock()


@contextlib.contextmanager
def blas_threads(units, batch_size):
    """One BLAS thread for batch-sized products, as scikit-learn's KMeans does: threaded
    OpenBLAS gains little on them on an idle machine and collapses when cores are shared.
    """
    batch = 200 if batch_size == "auto" else batch_size
    if batch * max(i * o for i, o in zip(units[:-1], units[1:])) > _SMALL_PRODUCT:
        yield
    else:
        with one_blas_thread():
            yield


@contextlib.contextmanager
def one_blas_thread(active=True):
    """BLAS on one thread while inside (nothing if not ``active``).

    For fits and for fits in parallel threads (the CV estimators' folds, stability
    selection's halves), whose concurrent BLAS calls oversubscribe the cores many times
    over otherwise. The limit is process-wide, so its holders share it: the first to
    enter sets it, the last to leave restores the original (never one holder restoring
    it under another).
    """
    if not active:
        yield
        return
    with _blas_lock:
        if _blas["controller"] is None:
            _blas["controller"] = ThreadpoolController()
        if _blas["users"] == 0:
            with _openblas_control():
                _blas["limiter"] = _blas["controller"].limit(limits=1, user_api="blas")
        _blas["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                with _openblas_control():
                    _blas["limiter"].restore_original_limits()


@contextlib.contextmanager
def _openblas_control():
    """This thread sets OpenBLAS's process-wide limit, then no thread holds it.

    threadpoolctl ≥ 3.8 lets one Python thread at a time set a pthreads OpenBLAS's limit
    (the first to set one, for as long as it lives) and ignores the others. The holders
    of :func:`one_blas_thread` share one limit, set by the first to enter and restored
    by the last to leave, in whichever threads they run: so the setting thread takes
    control for the call and hands it back to no thread afterwards.
    """
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
    try:
        yield
    finally:
        if clear is not None:
            clear(force=True)


@contextlib.contextmanager
def exclusive_fit(estimator):
    """Refuse a second concurrent fit of the same estimator object (they would share
    its buffers); different objects fit in parallel freely."""
    with _fitting_lock:
        if id(estimator) in _fitting:
            raise RuntimeError(
                f"This {type(estimator).__name__} is already being fitted in another "
                "thread; fitting one estimator object from two threads at once would mix "
                "their updates. Fit a clone per thread (sklearn.base.clone)."
            )
        _fitting.add(id(estimator))
    try:
        yield
    finally:
        with _fitting_lock:
            _fitting.discard(id(estimator))
