"""BaseRegularizedMLP: the scikit-learn surface of the networks; fitting is delegated.

The estimator validates its parameters and input, keeps the fitted attributes, runs a
fit as a transaction (a failing ``fit`` / ``partial_fit`` leaves the previous model
intact) and predicts. What a fit does is :mod:`sklearn_reg._train`'s.
"""

import contextlib
import copy
import types
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _kernels as K
from ._callbacks import CallbackSupportMixin, is_callback_state, start_fit
from ._compile_notice import announce_compilation
from ._config import (
    ACTIVATION_CODES,
    check_solver,
    configure,
    drop_rates_of,
    hidden_sizes,
    path_epochs,
)
from ._penalties import PENALTIES
from ._records import EPOCHS, LR, STALLED, STEPS, Network, data_record, kernel_array
from ._threads import blas_threads, exclusive_fit
from ._train import Trainer, TrainingState, max_iter_reported_by_caller, validation_size

#: output activation of each loss code
_OUT_ACTIVATIONS = {
    K.SQUARED_ERROR: "identity",
    K.POISSON: "exp",
    K.BINARY_LOG_LOSS: "logistic",
    K.MULTINOMIAL_LOG_LOSS: "softmax",
}


def flat_params(coefs, intercepts):
    """One flat parameter vector packed from the ``coefs`` / ``intercepts`` lists."""
    return np.concatenate([c.ravel() for c in coefs] + list(intercepts))


class BaseRegularizedMLP(CallbackSupportMixin, BaseEstimator, ABC):
    """Base class of the regularized MLP estimators; use the subclasses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATION_CODES))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "penalty": [StrOptions({p for p in PENALTIES if p is not None}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "penalty_weights": ["array-like", None],
        "feature_groups": ["array-like", None],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "dropblock": [Interval(Real, 0, 1, closed="left")],
        "block_size": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "dropblock_schedule": [StrOptions({"linear", "constant"})],
        "dropblock_scale": [StrOptions({"feature", "sample"})],
        "spatial_dropout": [Interval(Real, 0, 1, closed="left")],
        "feature_shape": ["array-like", None],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "early_stopping_metric": [StrOptions({"loss", "score"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    def _store_parameters(self, parameters):
        """Set every constructor parameter from ``locals()`` of ``__init__``."""
        for name in self._get_param_names():
            setattr(self, name, parameters[name])

    # -- hooks of the subclasses ------------------------------------------------

    @abstractmethod
    def _validate_input(self, X, y, incremental, reset, classes=None):
        """Return X and the targets as a 2-D float array Y for the kernels."""

    @abstractmethod
    def _loss_code(self):
        """Integer code of the output loss (which fixes the output activation)."""

    @abstractmethod
    def _score_predictions(self, P, Y, sample_weight):
        """Validation score of predictions P (after the output activation) against Y."""

    def _sample_weight(self, X, y, sample_weight, incremental):
        """Sample weights for the objective (the classifier folds in class_weight)."""
        return _check_sample_weight(sample_weight, X, dtype=X.dtype)

    def _stratify(self, Y):
        """The labels that stratify the early-stopping split (classifiers), or None."""
        if self.out_activation_ == "softmax":
            return Y.argmax(axis=1)
        if is_classifier(self) and self.n_outputs_ == 1:
            return Y > 0.5  # as scikit-learn's MLP: its messages name the class 'True'
        return None

    # -- public and scikit-learn's private attributes ------------------------------

    @property
    def coef_(self):
        """First-layer weights, shape (n_hidden_1, n_features): ``coefs_[0].T``."""
        check_is_fitted(self)
        return self.coefs_[0].T

    @property
    def _optimizer(self):
        """The step size where scikit-learn's MLP keeps it, ``_optimizer.learning_rate``:
        η of 'sgd' after its schedule, ``learning_rate_init`` for 'adam' (read-only)."""
        if not hasattr(self, "_counters") or self.solver == "lbfgs":
            raise AttributeError("_optimizer exists after a fit with solver 'sgd' or 'adam'.")
        return types.SimpleNamespace(learning_rate=float(self._counters[LR]))

    @property
    def _no_improvement_count(self):
        """Epochs without improvement of the stopping rule (scikit-learn's attribute)."""
        return int(self._counters[STALLED])

    @property
    def _n_steps(self):
        """Optimizer steps since the optimizer was (re)started."""
        return int(self._counters[STEPS])

    @property
    def _n_epochs(self):
        """Epochs since initialisation (they seed the masks and the DropBlock ramp)."""
        return int(self._counters[EPOCHS])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fit ---------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        with self._fitting() as hidden:
            first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
            saved = copy.deepcopy(self._fitted_state())
            try:
                X_, Y, sw, rs = self._prepare(
                    X, y, sample_weight, hidden, incremental, first_pass, classes
                )
                self._train(
                    self._trainer(X_.shape[0]), (X_, Y, sw, rs), (X, y, sample_weight), incremental
                )
            except BaseException:
                self._restore(saved)
                raise
        return self

    def _fit_path(self, X, y, sample_weight, alphas, path_max_iter, each, context, resume=False):
        """Fit along the λ of ``alphas``, each fit warm-started from the one before.

        The first fit runs ``max_iter`` epochs from a fresh initialisation, each later
        one at most ``path_max_iter`` epochs (see :func:`path_epochs` for 'auto'), its
        stopping rule restarted; with ``resume`` the first fit is a later one too,
        warm-started from this fitted estimator (a path continued). The input is
        validated and encoded once. After the fit at each λ, ``each(self)`` is called;
        ``context(self, alpha)`` is entered around it (the callbacks' subtask of λ).
        """
        self._validate_params()
        with self._fitting() as hidden:
            X_, Y, sw, rs = self._prepare(X, y, sample_weight, hidden, False, not resume, None)
            for k, alpha in enumerate(alphas):
                self.set_params(alpha=float(alpha))
                if k == 0:
                    trainer = self._trainer(X_.shape[0])
                    n_train = self._n_train(X_.shape[0])
                    later = path_epochs(path_max_iter, trainer.config.optimizer, n_train)
                warm = resume or k > 0
                if warm:
                    self.set_params(max_iter=later)
                    trainer = self._trainer(X_.shape[0], trainer.state)
                    trainer.restart_stopping_rule()
                    rs = check_random_state(self.random_state)
                with (
                    context(self, alpha),
                    max_iter_reported_by_caller() if warm else contextlib.nullcontext(),
                ):
                    self._train(trainer, (X_, Y, sw, rs), (X, y, sample_weight), False)
                each(self)
        return self

    @contextlib.contextmanager
    def _fitting(self):
        """The checks before any data is read, and one fit of this object at a time."""
        announce_compilation()
        hidden = hidden_sizes(self.hidden_layer_sizes)
        check_solver(self.get_params(deep=False), drop_rates_of(self.dropout, len(hidden)))
        with exclusive_fit(self):
            yield hidden

    def _train(self, trainer, prepared, given, incremental):
        """Run ``trainer`` on the ``prepared`` data, reporting to the callbacks (which see
        the data as ``given``), and publish the state it leaves."""
        task = start_fit(self, *given, incremental)
        with blas_threads(self._units(), self.batch_size):
            trainer.fit(*prepared, incremental, task.epochs, self._publish)
        self._publish(trainer.state)
        task.end()

    def _fitted_copy(self):
        """A copy of this fitted estimator that its later fits leave unchanged."""
        model = copy.copy(self)
        TrainingState.load(self).copy().save(model, self._units())
        return model

    def _n_train(self, n_samples):
        """Training rows of a fit on ``n_samples`` rows, the early-stopping split aside."""
        if self.early_stopping and self.solver != "lbfgs":
            n_samples -= validation_size(self.validation_fraction, n_samples)
        return max(n_samples, 1)

    def _trainer(self, n_samples, state=None):
        """The trainer of a fit on ``n_samples`` rows, on ``state`` (default: this
        estimator's)."""
        config = configure(self, list(self._units()), self._n_train(n_samples))
        state = TrainingState.load(self) if state is None else state
        return Trainer(config, state, self._score_predictions, self._stratify)

    def _publish(self, state, units=None):
        """Make ``state`` the fitted state (:meth:`TrainingState.save` writes it)."""
        state.save(self, self._units() if units is None else units)

    def _prepare(self, X, y, sample_weight, hidden, incremental, first_pass, classes):
        """Validated X, targets Y, weights sw in the model's dtype, the random state."""
        X, Y = self._validate_input(X, y, incremental, reset=first_pass, classes=classes)
        sw = self._sample_weight(X, y, sample_weight, incremental)
        if np.any(sw < 0) or not sw.sum() > 0:
            raise ValueError(
                "sample_weight (times class_weight) must be non-negative with a positive "
                "sum: a negative weight makes the objective unbounded, a zero sum leaves "
                "nothing to fit."
            )
        units = [X.shape[1]] + hidden + [Y.shape[1]]
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(units, X.dtype, rs)
        elif list(self._units()) != units:
            raise ValueError(
                f"The layer sizes {units} differ from those of the fitted model "
                f"{list(self._units())}: warm_start and partial_fit keep the architecture."
            )
        dtype = self.coefs_[0].dtype
        return X.astype(dtype, copy=False), kernel_array(Y, dtype), kernel_array(sw, dtype), rs

    def _initialize(self, units, dtype, rs):
        """Glorot-uniform weights as scikit-learn's MLP draws them; a fresh state."""
        for name in TrainingState.CURVES:
            if hasattr(self, name):
                delattr(self, name)
        self.n_outputs_ = units[-1]
        self.n_layers_ = len(units)
        self.out_activation_ = _OUT_ACTIVATIONS[self._loss_code()]
        coefs, intercepts = [], []
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rs.uniform(-bound, bound, fan_out))
        params = np.concatenate([c.ravel() for c in coefs] + intercepts).astype(dtype)
        self._publish(TrainingState.new(params, float(self.learning_rate_init)), units)

    def _units(self):
        sizes = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        return np.array(sizes, dtype=np.int64)

    def _flat_params(self):
        """A flat parameter vector packed from ``coefs_`` / ``intercepts_``."""
        return flat_params(self.coefs_, self.intercepts_)

    def _weight_sets(self):
        """The (coefs, intercepts) of the networks whose outputs ``predict`` averages:
        the model's own."""
        return [(self.coefs_, self.intercepts_)]

    def _fitted_state(self):
        return {
            k: v
            for k, v in vars(self).items()
            if (k.endswith("_") or k.startswith("_")) and not is_callback_state(k)
        }

    def _adopt(self, fitted):
        """Take the fitted state of ``fitted``, an estimator fitted in this one's place."""
        for name, value in fitted._fitted_state().items():
            setattr(self, name, value)

    def _restore(self, state):
        for k in list(self._fitted_state()):
            delattr(self, k)
        for k, v in state.items():
            setattr(self, k, v)

    # -- predict -----------------------------------------------------------------

    def _forward(self, X):
        """Predictions after the output activation, shape (n_samples, n_outputs): the mean
        over the networks of :meth:`_weight_sets` (one, but for a fold ensemble)."""
        announce_compilation()
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )
        outputs = [self._output(X, *weights) for weights in self._weight_sets()]
        return outputs[0] if len(outputs) == 1 else sum(outputs) / len(outputs)

    def _output(self, X, coefs, intercepts):
        """g(z_L) on the validated ``X`` of the network with ``coefs`` / ``intercepts``."""
        params = flat_params(coefs, intercepts)
        out = np.empty((X.shape[0], self.n_outputs_), dtype=params.dtype)
        network = Network(self._units(), ACTIVATION_CODES[self.activation], self._loss_code())
        with blas_threads(network.units, min(X.shape[0], K.PREDICT_CHUNK)):
            K.predict_raw(data_record(X, params.dtype), params, network, out)
        K.output_activation(out, self._loss_code())
        return out
