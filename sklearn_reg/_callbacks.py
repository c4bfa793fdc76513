"""scikit-learn's callbacks on the epochs of a fit and on the paths of a CV fit.

With a scikit-learn that has :mod:`sklearn.callback` (1.9 and later), the estimators
derive from its ``CallbackSupportMixin`` and report their work as a tree of tasks, the
protocol of scikit-learn's own estimators (``LogisticRegression``, ``Pipeline``,
``GridSearchCV``):

- ``fit`` / ``partial_fit`` of a network is one task with one subtask per epoch
  ('sgd', 'adam') or per iteration ('lbfgs', plus one last empty subtask, as
  scikit-learn's L-BFGS bridge); at the end of each subtask the callbacks can ask for
  the model as it stands (``fitted_estimator``), which is built only if one asks;
- ``fit`` of a CV estimator is one task with one subtask per path (one per fold and
  the path on all the data, run in parallel), each with one subtask per λ, which is
  the task of the fit of the path's network at that λ (the callbacks propagate to it,
  as a search propagates them to its candidate fits).

With an older scikit-learn, :class:`CallbackSupportMixin` adds nothing and every task
object below is a no-op: the estimators work as before, without callbacks.

The per-epoch hooks cost nothing without callbacks: the fit loop tests ``epochs is
None`` once per epoch, and no subtask is created.
"""

import contextlib
import copy

import numpy as np

from ._train import views

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callback framework

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's mixin where scikit-learn has no callbacks."""

    CALLBACKS_AVAILABLE = False
else:
    CALLBACKS_AVAILABLE = True

#: the fitted attributes of a snapshot that grow during a fit (copied, not shared)
_CURVES = ("loss_curve_", "validation_scores_", "validation_loss_curve_")


def is_callback_state(name):
    """True for the attributes of scikit-learn's callback machinery on an estimator
    (``_skl_callbacks``, ``_callback_fit_ctx``, ``_parent_callback_ctx``, ...): they
    belong to the caller, never to a saved or copied fitted state."""
    return name.startswith("_skl") or "callback" in name


def _task_data(X, y, sample_weight):
    """The data arguments of the hooks; sample weights travel as metadata."""
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    return {"X": X, "y": y, "metadata": metadata}


def model_at(estimator, params):
    """The fitted attributes of ``estimator`` with the flat parameter vector ``params``.

    Parameters
    ----------
    estimator : BaseRegularizedMLP
        A network being fitted.
    params : ndarray of shape (n_parameters,)
        Flat parameters in the layout of ``coefs_`` / ``intercepts_`` (copied).

    Returns
    -------
    attributes : dict
        ``coefs_``, ``intercepts_`` and the curves recorded so far, all copies: set on
        a copy of the estimator they make a model that predicts as the fit stood, and
        stays so while the fit goes on.
    """
    flat = np.array(params, dtype=estimator.coefs_[0].dtype)
    coefs, intercepts = views(flat, estimator._units())
    attributes = {"coefs_": coefs, "intercepts_": intercepts}
    for name in _CURVES:
        curve = getattr(estimator, name, None)
        if isinstance(curve, list):
            attributes[name] = list(curve)
    return attributes


class _Subtasks:
    """The epochs (or L-BFGS iterations) of a fit, one subtask each, begun and ended in
    turn: at most one is open at a time."""

    def __init__(self, context, estimator, data, name):
        self.context = context
        self.estimator = estimator
        self.data = data
        self.name = name
        self.open = None

    def begin(self, params):
        """Begin the next subtask; ``params`` are the weights it starts from."""
        est = self.estimator
        self.open = self.context.subcontext(task_name=self.name)
        self.open.call_on_fit_task_begin(
            estimator=est, **self.data, reconstruction_attributes=lambda: model_at(est, params)
        )

    def end(self, params):
        """End the open subtask at the weights ``params``; True if a callback asks to
        stop the fit."""
        est, context, self.open = self.estimator, self.open, None
        return context.call_on_fit_task_end(
            estimator=est, **self.data, reconstruction_attributes=lambda: model_at(est, params)
        )

    def close(self):
        """End a subtask left open (one that did not run to its end) as an empty task."""
        if self.open is not None:
            context, self.open = self.open, None
            context.call_on_fit_task_end(estimator=self.estimator)


class FitTask:
    """The task of one ``fit`` / ``partial_fit`` of a network.

    Created after the input is validated: it initialises the estimator's callback
    context (merged with its parent's when a meta-estimator propagated one) and calls
    the begin hooks. :attr:`epochs` reports the subtasks, or is None when no callback is
    set on the estimator (then the fit loop calls nothing).

    Parameters
    ----------
    estimator : BaseRegularizedMLP
        The network being fitted.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The validated training data.
    y : array-like
        The targets as given to ``fit``.
    sample_weight : array-like or None
        The sample weights as given to ``fit``.
    incremental : bool
        True for ``partial_fit`` (one epoch).

    Attributes
    ----------
    epochs : _Subtasks or None
        The subtasks of the epochs ('sgd', 'adam') or iterations ('lbfgs').
    """

    def __init__(self, estimator, X, y, sample_weight, incremental):
        lbfgs = estimator.solver == "lbfgs"
        self.estimator = estimator
        self.data = _task_data(X, y, sample_weight)
        self.context = estimator._init_callback_context(
            task_name="partial_fit" if incremental else "fit",
            # L-BFGS: one more, the empty subtask after the last iteration
            max_subtasks=1 if incremental else estimator.max_iter + lbfgs,
        )
        self.context.call_on_fit_task_begin(estimator=estimator, **self.data)
        self.epochs = None
        if getattr(estimator, "_skl_callbacks", None):
            name = "iteration" if lbfgs else "epoch"
            self.epochs = _Subtasks(self.context, estimator, self.data, name)

    def end(self):
        """End the fit's task (after closing a subtask left open), with the model as
        fitted."""
        if self.epochs is not None:
            self.epochs.close()
        self.context.call_on_fit_task_end(
            estimator=self.estimator, **self.data, reconstruction_attributes={}
        )


class _NoTask:
    """The task of a fit where scikit-learn has no callbacks: reports nothing."""

    epochs = None

    def end(self):
        pass

    def begin(self, X, y, sample_weight):
        pass

    def alpha(self, estimator, alpha, X, y, sample_weight):
        return contextlib.nullcontext()


NO_TASK = _NoTask()


def start_fit(estimator, X, y, sample_weight, incremental):
    """The :class:`FitTask` of a fit, begun; a no-op task without callback support."""
    if not CALLBACKS_AVAILABLE:
        return NO_TASK
    return FitTask(estimator, X, y, sample_weight, incremental)


class PathTask:
    """The task of one warm-started path of a CV fit: one subtask per λ.

    The subtask of each λ is a leaf of the CV estimator's task tree that becomes the
    task of the path network's fit at that λ: the callbacks propagate to the network,
    as a search propagates them to the estimator of each candidate and split.

    Parameters
    ----------
    caller : estimator
        The CV estimator, which calls the hooks of this task and of its λ subtasks.
    context : CallbackContext
        The context of the path, a subtask of the CV fit with one subtask per λ.
    """

    def __init__(self, caller, context):
        self.caller = caller
        self.context = context
        self.data = None

    def begin(self, X, y, sample_weight):
        """Begin the path on the training data ``X``, ``y`` of its fold."""
        self.data = _task_data(X, y, sample_weight)
        self.context.call_on_fit_task_begin(estimator=self.caller, **self.data)

    def end(self):
        """End the path."""
        self.context.call_on_fit_task_end(estimator=self.caller, **self.data)

    @contextlib.contextmanager
    def alpha(self, estimator, alpha, X, y, sample_weight):
        """The subtask of one λ, around the fit of ``estimator`` at ``alpha``.

        The callbacks see the CV estimator with the network's model at this λ as
        ``fitted_estimator`` when the subtask ends.
        """
        context = self.context.subcontext(task_name=f"alpha={alpha:.3g}")
        data = _task_data(X, y, sample_weight)
        with context.propagate_callback_context(estimator):
            context.call_on_fit_task_begin(estimator=self.caller, **data)
            yield
        context.call_on_fit_task_end(
            estimator=self.caller,
            **data,
            reconstruction_attributes=lambda: copy.deepcopy(
                {
                    name: value
                    for name, value in vars(estimator).items()
                    if (name.endswith("_") or name.startswith("_")) and not is_callback_state(name)
                }
            ),
        )


class CVFitTask:
    """The task of the fit of a CV estimator: one subtask per path, run in parallel.

    The subtasks are created here, in the calling thread, before the paths are
    dispatched (as a search creates those of its candidates): each path then works on
    its own subtree only, so paths on threads never touch a context together.

    Parameters
    ----------
    estimator : estimator
        The CV estimator being fitted.
    X, y, sample_weight :
        The validated data of the fit.
    n_folds : int
        Number of folds: the paths are ``fold_paths[i]`` (fold ``i``, task id ``i``)
        and ``full_path`` (all the data, task id ``n_folds``).
    n_alphas : int
        Number of values of λ on each path.

    Attributes
    ----------
    full_path : PathTask
        The task of the path on all the data.
    fold_paths : list of PathTask
        The task of the path of each fold.
    """

    def __init__(self, estimator, X, y, sample_weight, n_folds, n_alphas):
        self.estimator = estimator
        self.data = _task_data(X, y, sample_weight)
        self.context = estimator._init_callback_context(
            max_subtasks=n_folds + 1, sequential_subtasks=False
        )
        self.context.call_on_fit_task_begin(estimator=estimator, **self.data)
        self.fold_paths = [
            PathTask(
                estimator,
                self.context.subcontext(task_name="fold-path", task_id=i, max_subtasks=n_alphas),
            )
            for i in range(n_folds)
        ]
        self.full_path = PathTask(
            estimator,
            self.context.subcontext(
                task_name="full-data-path", task_id=n_folds, max_subtasks=n_alphas
            ),
        )

    def end(self):
        """End the CV fit, with the estimator as fitted."""
        self.context.call_on_fit_task_end(
            estimator=self.estimator, **self.data, reconstruction_attributes={}
        )


class NoCVTask(_NoTask):
    """The no-op CV task: every path reports to nobody."""

    def __init__(self, n_folds):
        self.full_path = NO_TASK
        self.fold_paths = [NO_TASK] * n_folds


def start_cv_fit(estimator, X, y, sample_weight, n_folds, n_alphas):
    """The :class:`CVFitTask` of a CV fit, begun; a no-op task without callback
    support."""
    if not CALLBACKS_AVAILABLE:
        return NoCVTask(n_folds)
    return CVFitTask(estimator, X, y, sample_weight, n_folds, n_alphas)
