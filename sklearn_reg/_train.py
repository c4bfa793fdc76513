"""Training: the state of a fit, and the trainer that updates it.

A :class:`TrainingState` holds everything a fit changes (weights, optimizer moments,
the counters of steps, epochs and the stopping rule, the curves); it snapshots and
rolls back as a unit and is the only writer of the estimator's training attributes
(:meth:`TrainingState.save`). A :class:`Trainer` runs a fit on a state with a frozen
:class:`~sklearn_reg._config.TrainingConfig`:

- 'sgd' / 'adam': the compiled loop :func:`sklearn_reg._kernels.train` runs many
  epochs per call without the GIL (the schedule, the stopping rule and the divergence
  test included), and returns to Python only where a callback, early-stopping
  validation or ``verbose`` needs it, or after about :data:`CHUNK_SECONDS` (so that
  Ctrl-C is honoured promptly and threads interleave);
- 'lbfgs': :func:`scipy.optimize.minimize` on the compiled full-batch objective.
"""

import contextlib
import threading
import time
import warnings

import numpy as np
import scipy.optimize
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import _kernels as K
from ._config import DIVERGENCE_FACTOR
from ._optim import ADAPTIVE, SGD
from ._records import (
    BEST_LOSS,
    EPOCHS,
    ITER,
    LR,
    N_COUNTERS,
    SCALE,
    SEEN,
    STALLED,
    STEPS,
    State,
    data_record,
)

#: wall time after which the compiled loop hands back to Python between epochs
CHUNK_SECONDS = 0.2

#: per thread: whether fits leave reporting max_iter to their caller (the CV estimators
#: and regularization_path, which report once for many fits)
_quiet = threading.local()


@contextlib.contextmanager
def max_iter_reported_by_caller():
    """In this thread, fits reaching ``max_iter`` raise no ConvergenceWarning of their own."""
    before = getattr(_quiet, "max_iter", False)
    _quiet.max_iter = True
    try:
        yield
    finally:
        _quiet.max_iter = before


def validation_size(fraction, n_samples):
    """Rows held out by early stopping: ⌈fraction·n⌉, as ``train_test_split`` takes them."""
    return int(np.ceil(fraction * n_samples))


def constant_loss(Y, sw, loss):
    """Mean loss of the best constant prediction: the scale against which divergence is told."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge targets: an infinite scale
        return _constant_loss(Y.astype(np.float64), sw.astype(np.float64), loss)


def _constant_loss(Y, sw, loss):
    w = sw / sw.sum()
    p = w @ Y
    if loss == K.SQUARED_ERROR:
        per_row = 0.5 * ((Y - p) ** 2).sum(axis=1)
    elif loss == K.POISSON:
        p = np.maximum(p, np.finfo(np.float64).tiny)
        per_row = (xlogy(Y, Y / p) - Y + p).sum(axis=1)
    elif loss == K.BINARY_LOG_LOSS:
        p = np.clip(p, 1e-15, 1 - 1e-15)
        per_row = -(xlogy(Y, p) + xlogy(1 - Y, 1 - p)).sum(axis=1)
    else:
        per_row = -xlogy(Y, np.maximum(p, 1e-15)).sum(axis=1)
    return float(w @ per_row)


class TrainingState:
    """Everything a fit changes, as one unit.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        The flat parameters; ``coefs_`` / ``intercepts_`` are views into it.
    first_moment, second_moment : ndarray
        The optimizer's moments (``second_moment`` empty for SGD).
    counters : ndarray of float64, shape (N_COUNTERS,)
        The scalars indexed by :mod:`sklearn_reg._records`' constants.
    curves : dict
        ``loss_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
        ``validation_loss_curve_``, ``best_validation_score_``,
        ``best_validation_loss_`` (those that exist).
    """

    #: the estimator's attributes that hold the curves of the stochastic solvers
    CURVES = (
        "loss_",
        "loss_curve_",
        "best_loss_",
        "validation_scores_",
        "validation_loss_curve_",
        "best_validation_score_",
        "best_validation_loss_",
    )

    def __init__(self, params, first_moment, second_moment, counters, curves):
        self.params = params
        self.first_moment = first_moment
        self.second_moment = second_moment
        self.counters = counters
        self.curves = curves

    @classmethod
    def new(cls, params, learning_rate_init):
        """The state of a freshly initialised network ``params``."""
        counters = np.zeros(N_COUNTERS)
        counters[LR] = learning_rate_init
        counters[BEST_LOSS] = np.inf
        return cls(params, np.zeros_like(params), np.zeros_like(params[:0]), counters, {})

    @classmethod
    def load(cls, estimator):
        """The state of a fitted ``estimator`` (its parameters packed into one vector)."""
        params = np.concatenate([c.ravel() for c in estimator.coefs_] + list(estimator.intercepts_))
        curves = {k: getattr(estimator, k) for k in cls.CURVES if hasattr(estimator, k)}
        return cls(
            params,
            estimator._first_moment,
            estimator._second_moment,
            estimator._counters.copy(),
            curves,
        )

    def record(self):
        """The kernels' :class:`~sklearn_reg._records.State` record (shares the arrays)."""
        return State(self.params, self.first_moment, self.second_moment, self.counters)

    def snapshot(self):
        """A copy of the arrays and curves, for :meth:`restore`."""
        curves = {k: list(v) if isinstance(v, list) else v for k, v in self.curves.items()}
        return (
            [a.copy() for a in (self.params, self.first_moment, self.second_moment, self.counters)],
            curves,
        )

    def copy(self):
        """An independent copy."""
        arrays, curves = self.snapshot()
        return TrainingState(*arrays, curves)

    def restore(self, snapshot):
        """Back to the state of :meth:`snapshot` (in place: views stay valid)."""
        arrays, curves = snapshot
        for a, b in zip(
            (self.params, self.first_moment, self.second_moment, self.counters), arrays
        ):
            a[...] = b
        self.curves = {k: list(v) if isinstance(v, list) else v for k, v in curves.items()}

    def reset_optimizer(self, n_second, learning_rate_init):
        """Fresh moments (``n_second`` entries of Adam's second moment), steps and η."""
        self.first_moment = np.zeros_like(self.params)
        self.second_moment = np.zeros_like(self.params[:n_second])
        self.counters[STEPS] = 0
        self.counters[LR] = learning_rate_init

    def reset_stopping_rule(self, early_stopping):
        """The stopping rule's state from scratch, for ``early_stopping`` or not."""
        self.counters[STALLED] = 0
        self.counters[BEST_LOSS] = np.inf
        if early_stopping:
            self.curves.update(
                validation_scores_=[],
                validation_loss_curve_=[],
                best_validation_score_=-np.inf,
                best_validation_loss_=np.inf,
                best_loss_=None,
            )
        else:
            self.curves.update(
                validation_scores_=None, best_validation_score_=None, best_loss_=np.inf
            )
            self.curves.pop("validation_loss_curve_", None)
            self.curves.pop("best_validation_loss_", None)

    def restart_stopping_rule(self):
        """Forget the best loss / validation score and the stall count, keeping the
        curves: the next fit's objective differs (a new λ of a warm-started path)."""
        self.counters[STALLED] = 0
        self.counters[BEST_LOSS] = np.inf
        if self.curves.get("best_validation_score_") is not None:
            self.curves["best_validation_score_"] = -np.inf
            self.curves["best_validation_loss_"] = np.inf
        elif "best_loss_" in self.curves:
            self.curves["best_loss_"] = np.inf

    def save(self, estimator, units):
        """Write the state to the estimator's fitted attributes."""
        coefs, intercepts = views(self.params, units)
        c = self.counters
        estimator.coefs_, estimator.intercepts_ = coefs, intercepts
        estimator._first_moment, estimator._second_moment = self.first_moment, self.second_moment
        estimator._counters = c
        estimator.n_iter_, estimator.t_ = int(c[ITER]), int(c[SEEN])
        for name, curve in self.curves.items():
            setattr(estimator, name, curve)


def views(params, units):
    """(coefs, intercepts): views of the weight matrices and biases in ``params``."""
    coefs, intercepts = [], []
    w, b = 0, sum(i * o for i, o in zip(units[:-1], units[1:]))
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        coefs.append(params[w : w + fan_in * fan_out].reshape(fan_in, fan_out))
        intercepts.append(params[b : b + fan_out])
        w += fan_in * fan_out
        b += fan_out
    return coefs, intercepts


def diverged(config, where, cause="the loss or the weights became non-finite"):
    """The ValueError of a diverged fit: where, why and the remedy."""
    remedy = (
        "Scale the features"
        if config.solver == "lbfgs"
        else (f"Lower learning_rate_init (now {config.learning_rate_init}) or scale the features")
    )
    if config.solver == "sgd" and config.regularization.l2 > 0:
        remedy += (
            "; with plain SGD the L2 step is W ← (1 − 2ηλ)W − η∇, unstable once "
            "2·learning_rate_init·alpha > 2"
        )
    return ValueError(
        f"Training diverged {where}: {cause}. {remedy}, e.g. with "
        "sklearn.preprocessing.StandardScaler. (Solver produced non-finite parameter "
        "weights. The input data may contain large values and need to be preprocessed.)"
    )


class Trainer:
    """Runs one fit of a :class:`TrainingState` with a frozen configuration.

    Parameters
    ----------
    config : TrainingConfig
        What the fit does.
    state : TrainingState
        What it changes (in place).
    score : callable
        ``score(P, Y, sample_weight)``, the validation score of early stopping on
        predictions P (after the output activation).
    stratify : callable
        ``stratify(Y)``: the labels that stratify the early-stopping split, or None.
    """

    def __init__(self, config, state, score, stratify):
        self.config = config
        self.state = state
        self.score = score
        self.stratify = stratify

    def restart_stopping_rule(self):
        """Measure progress afresh (the objective changed: the next λ of a path)."""
        self.state.restart_stopping_rule()

    def fit(self, X, Y, sw, rs, incremental=False, epochs=None, publish=None):
        """Train on (X, Y, sw): one epoch for ``partial_fit``, else up to ``max_iter``.

        ``epochs`` reports each epoch to the callbacks; ``publish(state)`` is called
        before each of their hooks, so that they see the model as it stands.
        """
        if self.config.solver == "lbfgs":
            return self._fit_lbfgs(X, Y, sw, epochs, publish)
        return self._fit_stochastic(X, Y, sw, rs, incremental, epochs, publish)

    # -- stochastic solvers ----------------------------------------------------

    def _prepare(self, incremental):
        """The state at the start of a call: curves, stopping rule and optimizer as the
        call's parameters want them (fresh unless ``partial_fit`` continues alike)."""
        cfg, st = self.config, self.state
        st.curves.setdefault("loss_curve_", [])
        scores = st.curves.get("validation_scores_", False)
        if scores is False or (scores is None) == bool(cfg.early_stopping):
            st.reset_stopping_rule(cfg.early_stopping)  # new, or early_stopping switched
        n_second = st.params.shape[0] if cfg.solver == "adam" else 0
        if not incremental or st.second_moment.shape[0] != n_second:  # or solver changed
            st.reset_optimizer(n_second, cfg.learning_rate_init)
        if cfg.solver == "adam":
            st.counters[LR] = cfg.learning_rate_init

    def _fit_stochastic(self, X, Y, sw, rs, incremental, epochs, publish):
        cfg, st = self.config, self.state
        if cfg.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        self._prepare(incremental)
        validation = None
        if cfg.early_stopping:
            (X, Y, sw), validation = self.validation_split(X, Y, sw, rs)
        data = data_record(X, st.params.dtype)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        baseline = max(constant_loss(Y, sw, cfg.network.loss), 1.0)
        c = st.counters
        untouched = st.snapshot()  # what an interrupt before the first epoch leaves
        c[ITER], c[SCALE] = 0, baseline
        # the weights of the best validation loss (or score): on a warm start, the
        # current ones
        best = (
            st.params.copy() if validation is not None and st.curves["validation_scores_"] else None
        )
        max_iter = 1 if incremental else cfg.max_iter
        one_at_a_time = epochs is not None or validation is not None or bool(cfg.verbose)
        losses = np.empty(max_iter)
        chunk, data_loss, stopped, running = 1, np.nan, False, False
        try:
            while c[ITER] < max_iter and not stopped:
                n = 1 if one_at_a_time else int(min(chunk, max_iter - c[ITER]))
                if epochs is not None:
                    publish(st)
                    epochs.begin(st.params)
                snapshot = st.snapshot()
                started = time.perf_counter()
                running = True
                n_done, status, data_loss = K.train(
                    data,
                    Y,
                    sw,
                    st.record(),
                    cfg.network,
                    cfg.regularization,
                    cfg.optimizer,
                    cfg.stopping,
                    seed,
                    losses[:n],
                )
                running = False
                if time.perf_counter() - started < CHUNK_SECONDS / 2:
                    chunk *= 2
                self._record(losses[:n_done])
                if status == K.DIVERGED:
                    problem = self._divergence(data_loss)
                    if best is None:
                        raise diverged(cfg, f"at epoch {int(c[EPOCHS]) + 1}", problem)
                    self._count_diverged_epoch(Y.shape[0], problem)
                    break
                if validation is not None:
                    is_best, improved, problem = self._validate(validation, best is None)
                    if problem is not None:
                        self._warn_diverged(problem)
                        break
                    if is_best:
                        best = st.params.copy()
                    status = K.stall(c, improved, cfg.optimizer, cfg.stopping)
                stopped = status == K.STOPPED or incremental
                self._report_stall(status)
                if epochs is not None:
                    publish(st)
                    stopped |= bool(epochs.end(st.params))  # a callback asks to stop
            else:
                if not (stopped or getattr(_quiet, "max_iter", False) or self._settled(validation)):
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                        "optimization hasn't converged yet." % max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            # Ctrl-C is raised as the kernel returns, after its epochs changed the state in
            # place: undo those uncounted epochs
            if running:
                st.restore(snapshot)
            if c[ITER] == 0:
                st.restore(untouched)
            warnings.warn("Training interrupted by user.")
        if best is not None:
            st.params[:] = best
        elif np.isfinite(data_loss) and data_loss > DIVERGENCE_FACTOR * baseline:
            raise diverged(
                cfg,
                "by the end of the fit",
                f"the training loss {data_loss:.3g} is more than {DIVERGENCE_FACTOR:g} times "
                f"the loss of the best constant prediction ({baseline:.3g})",
            )

    def _record(self, losses):
        """Append the epochs' losses (data loss + λ·Ω) to the curves; verbose prints them."""
        st, c = self.state, self.state.counters
        curves = st.curves
        first = int(c[ITER]) - losses.shape[0]
        curves["loss_curve_"].extend(float(x) for x in losses)
        if losses.shape[0]:
            curves["loss_"] = float(losses[-1])
        if curves.get("best_loss_") is not None:
            curves["best_loss_"] = float(c[BEST_LOSS])
        if self.config.verbose:
            for k, loss in enumerate(losses):
                print("Iteration %d, loss = %.8f" % (first + k + 1, loss))

    def _divergence(self, data_loss):
        """Why the epoch the kernel undid diverged."""
        scale, factor = self.state.counters[SCALE], self.config.stopping.divergence_factor
        if np.isfinite(data_loss) and data_loss > factor * scale:
            return (
                f"the training loss {data_loss:.3g} exploded to more than "
                f"{factor:g} times where the fit started ({scale:.3g})"
            )
        return "the loss or the weights became non-finite"

    def _count_diverged_epoch(self, n_samples, problem):
        """With early stopping a diverged epoch counts, scored NaN, as in scikit-learn."""
        c, curves = self.state.counters, self.state.curves
        c[ITER] += 1
        c[EPOCHS] += 1
        c[SEEN] += n_samples
        curves["loss_"] = np.nan
        curves["loss_curve_"].append(np.nan)
        curves["validation_scores_"].append(np.nan)
        curves["validation_loss_curve_"].append(np.nan)
        if self.config.verbose:
            print("Iteration %d, loss = %.8f" % (int(c[ITER]), np.nan))
        self._warn_diverged(problem)

    def _warn_diverged(self, problem):
        warnings.warn(
            f"Training diverged at epoch {int(self.state.counters[EPOCHS])}; stopped and "
            f"restored the weights of the best validation {self._metric()} ({problem}). Lower "
            "learning_rate_init or scale the features.",
            ConvergenceWarning,
        )

    def _settled(self, validation):
        """Early stopping at ``max_iter``: the held-out metric has not improved by ``tol``
        for more than the user's ``n_iter_no_change`` epochs (the rule's longer patience on
        the validation loss had not run out), so the fit has converged."""
        stalled = self.state.counters[STALLED]
        return validation is not None and stalled > self.config.n_iter_no_change

    def _metric(self):
        """What early stopping watches: 'loss' or 'score'."""
        return self.config.early_stopping_metric

    def _validate(self, validation, nothing_to_restore):
        """Evaluate the held-out set: (the best epoch yet, better by ``tol``, the problem if
        its predictions are non-finite), by the validation loss L (best: L < L_best;
        better: L < L_best − tol) or the score S (best: S > S_best; better:
        S ≥ S_best + tol, as scikit-learn)."""
        cfg, curves = self.config, self.state.curves
        X_val, Y_val, sw_val = validation
        P = np.empty((Y_val.shape[0], Y_val.shape[1]), dtype=self.state.params.dtype)
        K.predict_raw(data_record(X_val, P.dtype), self.state.params, cfg.network, P)
        val_loss = K.output_loss(P, Y_val, sw_val, cfg.network.loss) / sw_val.sum()
        score = self.score(P, Y_val, sw_val) if np.isfinite(P).all() else np.nan
        curves["validation_scores_"].append(score)
        curves["validation_loss_curve_"].append(float(val_loss))
        if cfg.verbose:
            print("Validation score: %f" % score)
        if np.isnan(score):
            problem = "its validation predictions are non-finite"
            if nothing_to_restore:
                raise diverged(cfg, f"at epoch {int(self.state.counters[EPOCHS])}", problem)
            return False, False, problem
        best_score, best_loss = curves["best_validation_score_"], curves["best_validation_loss_"]
        curves["best_validation_score_"] = max(best_score, score)
        curves["best_validation_loss_"] = min(best_loss, float(val_loss))
        if self._metric() == "loss":
            return val_loss < best_loss, val_loss < best_loss - cfg.tol, None
        return score > best_score, score >= best_score + cfg.tol, None

    def _report_stall(self, status):
        """verbose: what the stopping rule did."""
        cfg = self.config
        if not cfg.verbose or status not in (K.LOWERED, K.STOPPED):
            return
        what = f"Validation {self._metric()}" if cfg.early_stopping else "Training loss"
        patience = cfg.stopping.n_iter_no_change
        msg = (
            f"{what} did not improve more than tol={cfg.tol:f} for "
            f"{int(patience) if np.isfinite(patience) else patience} consecutive epochs."
        )
        adaptive = cfg.optimizer.solver == SGD and cfg.optimizer.schedule == ADAPTIVE
        if status == K.LOWERED:
            print(msg + " Setting learning rate to %f" % self.state.counters[LR])
        else:
            print(msg + (" Learning rate too small." if adaptive else "") + " Stopping.")

    def validation_split(self, X, Y, sw, rs):
        """(X, Y, sw) for training and the held-out (X, Y, sw) of early stopping."""
        fraction = self.config.validation_fraction
        n_samples, n_val = X.shape[0], validation_size(fraction, X.shape[0])
        split = (
            f"early_stopping holds out validation_fraction={fraction} of "
            f"the {n_samples} samples: {n_val} for validation, {n_samples - n_val} for "
            "training"
        )
        if n_val >= n_samples:  # before train_test_split, whose message names test_size
            raise ValueError(
                f"The training set is empty: {split}. Adjust "
                "'validation_fraction' or use more samples."
            )
        try:
            X, X_val, Y, Y_val, sw, sw_val = train_test_split(
                X, Y, sw, random_state=rs, test_size=fraction, stratify=self.stratify(Y)
            )
        except ValueError as error:
            if "least populated" not in str(error):
                raise
            raise ValueError(
                f"{error} early_stopping holds out a validation set stratified by class, "
                "which needs at least 2 samples of every class: remove the rare classes or "
                "set early_stopping=False."
            ) from error
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the "
                f"size of your dataset: {split}; scoring needs at least 2."
            )
        return (X, Y, sw), (X_val, Y_val, sw_val)

    # -- L-BFGS ------------------------------------------------------------------

    def _fit_lbfgs(self, X, Y, sw, epochs, publish):
        cfg, st = self.config, self.state
        params = st.params
        grad = np.empty_like(params)
        data = data_record(X, params.dtype)

        def objective(theta):
            params[:] = theta
            J = K.objective_grad(data, Y, sw, params, cfg.network, cfg.regularization, grad)
            return J, grad.astype(np.float64)

        def report(intermediate_result):
            if cfg.verbose:
                print("Iteration %d, loss = %.8f" % (report.n, intermediate_result.fun))
            report.last = scipy.optimize.OptimizeResult(
                x=intermediate_result.x.copy(), fun=intermediate_result.fun, nit=report.n, status=0
            )
            report.n += 1
            if epochs is not None:  # end this iteration's subtask, begin the next one's
                publish(st)
                report.stopped = epochs.end(intermediate_result.x)
                epochs.begin(intermediate_result.x)
                if report.stopped:  # a callback asks to stop
                    raise StopIteration

        report.n = 1
        report.last = None  # the last iterate, kept if the user interrupts
        report.stopped = False
        if epochs is not None:
            publish(st)
            epochs.begin(params)
        try:
            res = scipy.optimize.minimize(
                objective,
                params.astype(np.float64),
                method="L-BFGS-B",
                jac=True,
                callback=report,
                options={"maxfun": cfg.max_fun, "maxiter": cfg.max_iter, "gtol": cfg.tol},
            )
        except KeyboardInterrupt:
            if report.last is None:
                raise
            warnings.warn("Training interrupted by user.")
            res = report.last
        if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
            raise diverged(cfg, "in L-BFGS")
        if res.status != 0 and not report.stopped:
            limit = (
                "max_iter"
                if res.nit >= cfg.max_iter
                else "max_fun"
                if res.get("nfev", 0) >= cfg.max_fun
                else None
            )
            warnings.warn(
                f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}): "
                f"{res.message}. "
                + (f"Increase {limit} or scale the data." if limit else "Scale the data."),
                ConvergenceWarning,
            )
        params[:] = res.x
        st.counters[ITER] = min(res.nit, cfg.max_iter)
        st.curves["loss_"] = float(res.fun)
