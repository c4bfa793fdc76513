"""scikit-learn's callbacks (sklearn.callback) on the estimators: one task per fit, one
subtask per epoch; CV fits as folds × λ × epochs; propagation from meta-estimators."""

import doctest
import pickle
import re
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.callback import CallbackSupportMixin, ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_reg import (
    RegularizedMLPClassifier,
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressor,
    RegularizedMLPRegressorCV,
)

ROOT = Path(__file__).parents[1]
NET = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)
# no stopping rule: a fit runs exactly max_iter epochs
ALL_EPOCHS = dict(NET, tol=0.0, n_iter_no_change=np.inf)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Progress bars rendered wide enough that every bar shows its percentage."""
    monkeypatch.setenv("COLUMNS", "200")


class Recorder:
    """A callback recording every hook call as (hook, context, fitted_estimator)."""

    def __init__(self, stop_at=None):
        self.calls = []
        self.roots = []
        self.stop_at = stop_at  # ask to stop at the end of this many epochs
        self._lock = threading.Lock()

    def setup(self, estimator, context):
        self.roots.append(context)

    def on_fit_task_begin(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        with self._lock:
            self.calls.append(("begin", context, fitted_estimator))

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        with self._lock:
            self.calls.append(("end", context, fitted_estimator))
            n_ended = sum(
                hook == "end" and ctx.task_name in ("epoch", "iteration") and model is not None
                for hook, ctx, model in self.calls
            )
        return self.stop_at is not None and n_ended >= self.stop_at

    def teardown(self, estimator, context):
        pass

    def ended(self, task_name):
        """The fitted estimators passed at the end of the tasks named ``task_name``."""
        return [
            model for hook, ctx, model in self.calls if hook == "end" and ctx.task_name == task_name
        ]


class PropagatedRecorder(Recorder):
    """The same, propagated by meta-estimators to the estimators they fit."""

    max_propagation_depth = None


def children(context, root):
    """The sub-tasks of ``context`` in the task tree under ``root``, in their order."""
    return [c for c in root if c.parent is context]


def bars_completed(output):
    """True when the progress bars printed in ``output`` all reached 100%."""
    return "100%" in output and not re.search(r"\b[0-9]{1,2}%", output)


# -- fit / partial_fit ---------------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator",
    [
        RegularizedMLPClassifier,
        RegularizedMLPRegressor,
        RegularizedMLPClassifierCV,
        RegularizedMLPRegressorCV,
    ],
)
def test_every_estimator_supports_callbacks(Estimator):
    estimator = Estimator()
    assert isinstance(estimator, CallbackSupportMixin)
    callback = Recorder()
    assert estimator.set_callbacks(callback) is estimator
    assert estimator._skl_callbacks == [callback]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fit_reports_one_subtask_per_epoch(digits, solver):
    X, y = digits
    recorder = Recorder()
    clf = RegularizedMLPClassifier(**ALL_EPOCHS, solver=solver, max_iter=6)
    clf.set_callbacks(recorder).fit(X, y)
    (root,) = recorder.roots
    assert (root.estimator_name, root.task_name, root.max_subtasks) == (
        "RegularizedMLPClassifier",
        "fit",
        6,
    )
    epochs = children(root, root)
    assert [c.task_name for c in epochs] == ["epoch"] * clf.n_iter_ == ["epoch"] * 6
    assert len(recorder.ended("epoch")) == 6
    # every task begun is ended, the fit's task last
    assert [hook for hook, *_ in recorder.calls] == ["begin"] + ["begin", "end"] * 6 + ["end"]


def test_fit_reports_the_epochs_it_ran_when_the_stopping_rule_ends_it(digits):
    X, y = digits
    recorder = Recorder()
    clf = RegularizedMLPClassifier(**NET, tol=10.0, n_iter_no_change=2, max_iter=50)
    clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ < 50
    assert len(recorder.ended("epoch")) == clf.n_iter_


def test_partial_fit_reports_one_epoch(digits):
    X, y = digits
    recorder = Recorder()
    clf = RegularizedMLPClassifier(**NET).set_callbacks(recorder)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert [(r.task_name, r.max_subtasks) for r in recorder.roots] == [("partial_fit", 1)] * 3
    assert len(recorder.ended("epoch")) == 3


def test_lbfgs_reports_one_subtask_per_iteration(digits):
    X, y = digits
    recorder = Recorder()
    clf = RegularizedMLPClassifier(**NET, solver="lbfgs", max_iter=8)
    clf.set_callbacks(recorder).fit(X, y)
    ended = recorder.ended("iteration")
    # as scikit-learn's L-BFGS bridge: one subtask per iteration, and a last, empty one
    assert len(ended) == clf.n_iter_ + 1 == 9
    assert all(model is not None for model in ended[:-1]) and ended[-1] is None


def test_fitted_estimator_is_the_model_at_the_end_of_each_epoch(digits):
    X, y = digits
    recorder = Recorder()
    clf = RegularizedMLPClassifier(**ALL_EPOCHS, max_iter=5).set_callbacks(recorder).fit(X, y)
    snapshots = recorder.ended("epoch")
    for k in (1, 3):  # the model after k epochs is the model a fit of k epochs gives
        short = RegularizedMLPClassifier(**ALL_EPOCHS, max_iter=k).fit(X, y)
        for W_snapshot, W in zip(snapshots[k - 1].coefs_, short.coefs_):
            np.testing.assert_array_equal(W_snapshot, W)
        np.testing.assert_array_equal(snapshots[k - 1].predict_proba(X), short.predict_proba(X))
        assert snapshots[k - 1].loss_curve_ == short.loss_curve_
    # snapshots are copies: the fit went on without changing them
    assert not np.array_equal(snapshots[0].coefs_[0], clf.coefs_[0])
    np.testing.assert_array_equal(snapshots[-1].coefs_[0], clf.coefs_[0])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_callback_asking_to_stop_ends_the_fit_without_convergence_warning(digits, solver):
    X, y = digits
    clf = RegularizedMLPClassifier(**ALL_EPOCHS, solver=solver, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.set_callbacks(Recorder(stop_at=3)).fit(X, y)
    assert clf.n_iter_ == 3


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", dropout=0.3),
        dict(solver="sgd", penalty="l1", early_stopping=True),
        dict(solver="lbfgs"),
    ],
)
def test_callbacks_leave_the_fitted_weights_bit_identical(digits, params):
    X, y = digits
    plain = RegularizedMLPClassifier(**NET, **params, max_iter=10).fit(X, y)
    watched = RegularizedMLPClassifier(**NET, **params, max_iter=10)
    watched.set_callbacks(ProgressBar(), ScoringMonitor(scoring="accuracy"), Recorder())
    watched.fit(X, y)
    for W, W_watched in zip(plain.coefs_ + plain.intercepts_, watched.coefs_ + watched.intercepts_):
        assert W.tobytes() == W_watched.tobytes()
    assert (plain.loss_, plain.n_iter_) == (watched.loss_, watched.n_iter_)


def test_a_failed_fit_keeps_the_callbacks_of_the_estimator(digits):
    X, y = digits
    recorder = Recorder()
    clf = RegularizedMLPClassifier(**NET, max_iter=5).set_callbacks(recorder)
    with pytest.raises(ValueError, match="diverged"):
        clf.set_params(learning_rate_init=1e12, penalty=None).fit(X * 1e6, y)
    assert clf._skl_callbacks[0] is recorder  # the very object, not a restored copy
    assert not hasattr(clf, "_callback_fit_ctx")  # torn down
    clf.set_params(learning_rate_init=0.01).fit(X, y)
    assert len(recorder.ended("epoch")) >= 5


# -- the off-the-shelf callbacks --------------------------------------------------------


def test_progress_bar_shows_the_epochs_of_fit_and_partial_fit(digits, capsys):
    X, y = digits
    clf = RegularizedMLPClassifier(**NET, max_iter=5).set_callbacks(ProgressBar())
    clf.fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"RegularizedMLPClassifier - fit", out)
    assert bars_completed(out)
    clf.partial_fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"RegularizedMLPClassifier - partial_fit", out)
    assert bars_completed(out)


def test_scoring_monitor_records_one_score_per_epoch(digits):
    X, y = digits
    monitor = ScoringMonitor(scoring="accuracy")
    clf = RegularizedMLPClassifier(**ALL_EPOCHS, max_iter=7).set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in epochs] == list(range(clf.n_iter_)) == list(range(7))
    # the score of the last epoch and of the whole fit are those of the fitted model
    (fit,) = [row for row in rows if row["task_name"] == "fit"]
    assert epochs[-1]["accuracy"] == fit["accuracy"] == clf.score(X, y)
    assert epochs[0]["accuracy"] < epochs[-1]["accuracy"]


def test_scoring_monitor_passes_the_sample_weights_to_the_scorer(digits):
    X, y = digits
    weights = np.where(y == 0, 10.0, 1.0)
    monitor = ScoringMonitor(scoring="accuracy")
    clf = RegularizedMLPClassifier(**NET, max_iter=3).set_callbacks(monitor)
    clf.fit(X, y, sample_weight=weights)
    (fit,) = [row for row in monitor.get_logs().data if row["task_name"] == "fit"]
    assert fit["accuracy"] == clf.score(X, y, sample_weight=weights) != clf.score(X, y)


# -- meta-estimators --------------------------------------------------------------------


def test_pipeline_propagates_callbacks_to_the_network(digits, capsys):
    X, y = digits
    recorder = PropagatedRecorder()
    pipe = make_pipeline(StandardScaler(), RegularizedMLPClassifier(**ALL_EPOCHS, max_iter=4))
    pipe.set_callbacks(recorder, ProgressBar(max_propagation_depth=None)).fit(X, y)
    (root,) = recorder.roots  # set up once, by the outermost estimator
    (fit,) = [
        c for c in root if c.estimator_name == "RegularizedMLPClassifier" and c.task_name == "fit"
    ]
    assert fit.source_task_name == "fit-final-estimator"
    assert [c.task_name for c in children(fit, root)] == ["epoch"] * 4
    out = capsys.readouterr().out
    assert re.search(r"Pipeline - fit-final-estimator \| RegularizedMLPClassifier - fit", out)
    assert bars_completed(out)
    assert not hasattr(pipe[-1], "_skl_callbacks")  # the propagated callbacks are removed


def test_grid_search_propagates_callbacks_to_each_candidate_fit(digits):
    X, y = digits
    recorder = PropagatedRecorder()
    search = GridSearchCV(
        RegularizedMLPClassifier(**ALL_EPOCHS, max_iter=3), {"alpha": [1e-4, 1e-2]}, cv=2
    )
    search.set_callbacks(recorder).fit(X, y)
    (root,) = recorder.roots
    fits = [
        c for c in root if c.estimator_name == "RegularizedMLPClassifier" and c.task_name == "fit"
    ]
    # 2 candidates × 2 splits, and the refit
    assert sorted(c.source_task_name for c in fits) == (
        ["candidate-split-evaluation"] * 4 + ["refit-with-best-params"]
    )
    assert all(len(children(fit, root)) == 3 for fit in fits)


# -- CV estimators: folds × λ × epochs ---------------------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cv_reports_folds_times_alphas_times_epochs(digits, n_jobs):
    X, y = digits
    recorder = PropagatedRecorder()
    alphas = [1e-4, 1e-3, 1e-2]
    cv = RegularizedMLPClassifierCV(
        **ALL_EPOCHS, alphas=alphas, cv=3, max_iter=4, path_max_iter=2, n_jobs=n_jobs
    )
    cv.set_callbacks(recorder).fit(X, y)
    (root,) = recorder.roots
    assert (root.estimator_name, root.task_name) == ("RegularizedMLPClassifierCV", "fit")
    paths = sorted(children(root, root), key=lambda c: c.task_id)
    assert [(p.task_name, p.task_id) for p in paths] == [
        ("fold-path", 0),
        ("fold-path", 1),
        ("fold-path", 2),
        ("full-data-path", 3),
    ]
    for path in paths:
        fits = children(path, root)
        assert [f.source_task_name for f in fits] == [f"alpha={a:.3g}" for a in alphas]
        assert [(f.estimator_name, f.task_name) for f in fits] == [
            ("RegularizedMLPClassifier", "fit")
        ] * 3
        # max_iter epochs at the first λ, path_max_iter at each later one
        assert [len(children(f, root)) for f in fits] == [4, 2, 2]
    # every task begun was ended, with the paths running on threads or not
    begun = [id(ctx) for hook, ctx, _ in recorder.calls if hook == "begin"]
    ended = [id(ctx) for hook, ctx, _ in recorder.calls if hook == "end"]
    assert sorted(begun) == sorted(ended) and len(set(begun)) == len(begun)
    assert len(recorder.ended("epoch")) == 4 * (4 + 2 + 2)


def test_progress_bar_shows_every_path_of_a_cv_fit(digits, capsys):
    X, y = digits
    cv = RegularizedMLPRegressorCV(
        **ALL_EPOCHS, alphas=[1e-3, 1e-2], cv=2, max_iter=3, path_max_iter=2, n_jobs=2
    )
    cv.set_callbacks(ProgressBar()).fit(X, y.astype(float))
    out = capsys.readouterr().out
    assert re.search(r"RegularizedMLPRegressorCV - fit", out)
    assert len(re.findall(r"RegularizedMLPRegressorCV - fold-path #\d", out)) == 2
    assert re.search(r"RegularizedMLPRegressorCV - full-data-path #2", out)
    assert len(re.findall(r"alpha=0\.01 \| RegularizedMLPRegressor - fit", out)) == 3
    assert bars_completed(out)


def test_scoring_monitor_on_a_cv_estimator_scores_each_alpha_of_each_path(digits):
    X, y = digits
    monitor = ScoringMonitor(scoring="accuracy")
    cv = (
        RegularizedMLPClassifierCV(**NET, alphas=[1e-4, 1e-2], cv=2, max_iter=5, path_max_iter=2)
        .set_callbacks(monitor)
        .fit(X, y)
    )
    rows = monitor.get_logs().data
    per_alpha = [row for row in rows if row["task_name"].startswith("alpha=")]
    assert len(per_alpha) == 3 * 2  # (2 folds + all the data) × 2 values of λ
    # the row of alpha_ on the full-data path scores the fitted model
    (chosen,) = [
        row
        for row in per_alpha
        if row["task_id_path"][1] == 2 and row["task_name"] == f"alpha={cv.alpha_:.3g}"
    ]
    assert chosen["accuracy"] == cv.score(X, y)


# -- clone and pickle, as scikit-learn's estimators -------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [RegularizedMLPClassifier(**NET, max_iter=3), LogisticRegression(max_iter=3)],
    ids=["RegularizedMLPClassifier", "LogisticRegression"],
)
def test_clone_shares_the_callbacks(estimator):
    monitor = ScoringMonitor(scoring="accuracy")
    copy = clone(estimator.set_callbacks(monitor))
    assert copy._skl_callbacks[0] is monitor


@pytest.mark.parametrize(
    "estimator",
    [RegularizedMLPClassifier(**NET, max_iter=3), LogisticRegression(max_iter=3)],
    ids=["RegularizedMLPClassifier", "LogisticRegression"],
)
def test_pickle_round_trip_keeps_the_callbacks_and_their_logs(digits, estimator):
    X, y = digits
    monitor = ScoringMonitor(scoring="accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = clone(estimator).set_callbacks(monitor, ProgressBar()).fit(X, y)
        restored = pickle.loads(pickle.dumps(estimator))
        restored.fit(X, y)
    restored_monitor = restored._skl_callbacks[0]
    assert restored_monitor is not monitor
    assert isinstance(restored._skl_callbacks[1], ProgressBar)
    logs = restored_monitor.get_logs(select="all")
    assert len(logs) == 2  # the run before pickling, and the new one
    assert logs[0].data == monitor.get_logs().data


# -- without scikit-learn's callback framework --------------------------------------------

_WITHOUT_CALLBACKS = """
import sys
import sklearn.base
import sklearn.callback._callback_support  # scikit-learn's own fit wrapper imports it
import sklearn.linear_model, sklearn.metrics, sklearn.model_selection, sklearn.pipeline
import sklearn.preprocessing, sklearn.utils.parallel
sys.modules["sklearn.callback"] = None  # from here on, as a scikit-learn without callbacks
from sklearn.datasets import load_digits
from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPClassifierCV
from sklearn_reg._callbacks import CALLBACKS_AVAILABLE
X, y = load_digits(return_X_y=True)
X, y = X[:200] / 16, y[:200]
clf = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=3).fit(X, y)
clf.partial_fit(X, y)
cv = RegularizedMLPClassifierCV(hidden_layer_sizes=(8,), alphas=[1e-4, 1e-2], cv=2, max_iter=3,
                                path_max_iter=2, n_jobs=2).fit(X, y)
print(CALLBACKS_AVAILABLE, hasattr(clf, "set_callbacks"), clf.n_iter_, cv.scores_.shape)
"""


def test_estimators_work_without_the_callback_framework():
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _WITHOUT_CALLBACKS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["False", "False", "1", "(2,", "2)"]


def test_documentation_page_snippets_run():
    result = doctest.testfile(
        str(ROOT / "docs" / "callbacks.rst"),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0
