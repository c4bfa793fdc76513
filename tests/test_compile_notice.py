"""The CompileNotice: once per process, when numba really compiles a kernel of the package."""

import threading
import types
import warnings

import numba
import numpy as np
import pytest
from joblib import parallel_backend
from numba.core import event
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV

from sklearn_reg import RegularizedMLPClassifier, _base, _compile_notice
from sklearn_reg._compile_notice import announce_compilation, notice_message
from sklearn_reg._warnings import NO_LOCATION
from sklearn_reg.exceptions import CompileNotice


@pytest.fixture
def fresh_process(monkeypatch):
    """The notice's state as in a new process; the process's own listener is restored."""
    installed = _compile_notice._listener
    if installed is not None:
        event.unregister("numba:compile", installed)
    monkeypatch.setattr(_compile_notice, "_listener", None)
    yield
    if _compile_notice._listener is not None:
        event.unregister("numba:compile", _compile_notice._listener)
    if installed is not None:
        event.register("numba:compile", installed)


def _probe(module="sklearn_reg._probe"):
    """A new, not yet compiled numba function that claims to live in ``module``."""

    def scaled(x):
        return 2.0 * x[0]

    scaled.__module__ = module
    return numba.njit(scaled)


def _notices(caught):
    return [w for w in caught if issubclass(w.category, CompileNotice)]


def test_notice_fires_once_at_the_first_compile_of_a_kernel(fresh_process):
    first, second = _probe(), _probe()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        announce_compilation()
        assert first(np.ones(1)) == 2.0  # compiles: the notice
        assert second(np.ones(1)) == 2.0  # compiles too, but the process was told
    notices = _notices(caught)
    assert len(notices) == 1
    assert "compiling the training kernels for float64 input" in str(notices[0].message)


def test_notice_is_silent_when_nothing_compiles(fresh_process):
    kernel = _probe()
    kernel(np.ones(1))  # compiled before the notice is installed, as a warm cache is
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        announce_compilation()
        kernel(np.ones(1))
    assert _notices(caught) == []


def test_notice_ignores_functions_of_other_packages(fresh_process):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        announce_compilation()
        _probe(module="user_code")(np.ones(1))
        _probe(module="sklearn_regression_tools")(np.ones(1))
    assert _notices(caught) == []


def test_notice_names_the_input_dtype(fresh_process):
    announce_compilation()
    with pytest.warns(CompileNotice, match="for float32 input"):
        _probe()(np.ones(1, dtype=np.float32))


def test_notice_points_at_the_callers_line(fresh_process):
    announce_compilation()
    with pytest.warns(CompileNotice) as record:
        _probe()(np.ones(1))
    assert record[0].filename == __file__


def _as_package_code(function):
    """``function`` running with globals named as a module of the package, so that its
    frames count as the package's (as those of ``fit`` do)."""
    namespace = dict(function.__globals__, __name__="sklearn_reg._probe")
    return types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )


def test_notice_from_a_search_worker_thread_points_at_the_search_line(fresh_process, monkeypatch):
    """The first fit of a threaded GridSearchCV compiles in a joblib worker thread, whose
    stack holds only threading, multiprocessing.pool, joblib, scikit-learn and the
    package: the notice names the user's ``search.fit`` line, not a line of theirs."""
    probe, compiled_in = _probe(), []

    def announce_then_compile():
        announce_compilation()
        if not compiled_in:
            compiled_in.append(threading.current_thread())
            probe(np.ones(1))  # the first kernel call of a fit on a cold cache

    monkeypatch.setattr(_base, "announce_compilation", _as_package_code(announce_then_compile))
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(
        RegularizedMLPClassifier(max_iter=2, random_state=0),
        {"alpha": [1e-4, 1e-3]},
        cv=2,
        n_jobs=2,
    )
    with warnings.catch_warnings(record=True) as caught, parallel_backend("threading"):
        warnings.simplefilter("always")
        search_line = _line_after()
        search.fit(X, y)
    assert compiled_in[0] is not threading.main_thread()
    notices = _notices(caught)
    assert len(notices) == 1
    assert (notices[0].filename, notices[0].lineno) == (__file__, search_line)


def test_notice_from_a_thread_without_a_user_line_points_nowhere(fresh_process):
    """A thread running a kernel directly (its target is no user's function) while the
    main thread waits in the user's code: no line is the user's call, none is named."""
    announce_compilation()
    worker = threading.Thread(target=_probe(), args=(np.ones(1),))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        worker.start()
        worker.join()
    notices = _notices(caught)
    assert len(notices) == 1
    assert (notices[0].filename, notices[0].lineno) == (NO_LOCATION, 0)


def _line_after():
    """The number of the line after the caller's."""
    import sys

    return sys._getframe(1).f_lineno + 1


def test_notice_turned_into_an_error_does_not_break_the_compile(fresh_process):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileNotice)
        announce_compilation()
        assert _probe()(np.ones(1)) == 2.0


def test_silenced_notice_stays_silent(fresh_process):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=CompileNotice)
        announce_compilation()
        _probe()(np.ones(1))
    assert _notices(caught) == []


def test_announce_compilation_installs_one_listener(fresh_process):
    announce_compilation()
    listener = _compile_notice._listener
    announce_compilation()
    assert _compile_notice._listener is listener
    assert event._registered["numba:compile"].count(listener) == 1


def test_notice_message_says_once_or_every_process(monkeypatch):
    monkeypatch.setattr(_compile_notice._jit, "fallback_directory", None)
    assert "once per machine" in notice_message()
    monkeypatch.setattr(_compile_notice._jit, "fallback_directory", "")
    assert "every new process" in notice_message()
    assert "python -m sklearn_reg.compile" in notice_message()
