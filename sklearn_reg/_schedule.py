"""The learning-rate schedule and the stopping rule of the stochastic solvers.

As scikit-learn's ``_stochastic_optimizers`` hold theirs: one small object per fit,
read from and written back to the estimator's state (plain floats and ints on the
estimator, so that it pickles and clones as plain data).
"""


class Schedule:
    """η per epoch and the rule that stops training (or, for 'adaptive' SGD, lowers η).

    - η: ``learning_rate_init`` for Adam and constant SGD; η₀ / (t + 1)^power_t after
      each epoch for 'invscaling' SGD (t = samples seen); divided by 5 for 'adaptive'
      SGD each time the progress stalls, until it is below 1e-6.
    - Progress stalls when the training loss (or, with early stopping, the validation
      score) has not improved by ``tol`` for more than ``n_iter_no_change`` epochs.

    Parameters
    ----------
    estimator : BaseRegularizedMLP
        The estimator whose parameters and state (``_learning_rate``,
        ``_no_improvement_count``) the schedule reads; :meth:`save` writes them back.
    """

    #: 'adaptive' SGD stops once η would fall below this
    MIN_ADAPTIVE_LR = 1e-6
    #: 'adaptive' SGD divides η by this at each stall
    ADAPTIVE_DIVISOR = 5.0

    def __init__(self, estimator):
        self.estimator = estimator
        self.adaptive = estimator.solver == "sgd" and estimator.learning_rate == "adaptive"
        self.invscaling = estimator.solver == "sgd" and estimator.learning_rate == "invscaling"
        self.learning_rate = estimator._learning_rate
        self.no_improvement_count = estimator._no_improvement_count

    @property
    def lr(self):
        """η of the next epoch."""
        if self.estimator.solver == "sgd":
            return self.learning_rate
        return float(self.estimator.learning_rate_init)

    def record(self, improved):
        """Count one more epoch without improvement, or reset the count."""
        self.no_improvement_count = 0 if improved else self.no_improvement_count + 1

    def epoch_end(self, n_samples_seen):
        """Update η after an epoch ('invscaling': η₀ / (t + 1)^power_t)."""
        est = self.estimator
        if self.invscaling:
            self.learning_rate = est.learning_rate_init / (n_samples_seen + 1) ** est.power_t

    def should_stop(self, early_stopping, verbose):
        """True when progress has stalled and η cannot be lowered any more."""
        est = self.estimator
        if self.no_improvement_count <= est.n_iter_no_change:
            return False
        what = "Validation score" if early_stopping else "Training loss"
        msg = (
            f"{what} did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs."
        )
        if self.adaptive and self.learning_rate > self.MIN_ADAPTIVE_LR:
            self.learning_rate /= self.ADAPTIVE_DIVISOR
            self.no_improvement_count = 0
            if verbose:
                print(msg + " Setting learning rate to %f" % self.learning_rate)
            return False
        if verbose:
            print(msg + (" Learning rate too small." if self.adaptive else "") + " Stopping.")
        return True

    def save(self):
        """Write η and the stall count back to the estimator."""
        self.estimator._learning_rate = self.learning_rate
        self.estimator._no_improvement_count = self.no_improvement_count
