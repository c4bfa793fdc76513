"""BaseRegularizedMLP: validation, parameter buffers, the fit / partial_fit loop."""

import contextlib
import copy
import threading
import types
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from scipy.special import xlogy
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from . import _kernels as K
from ._callbacks import CallbackSupportMixin, is_callback_state, start_fit
from ._compile_notice import announce_compilation
from ._optim import ADAM, SGD
from ._penalties import PENALTIES, PENALTY_CODES, value
from ._records import Network, Optimizer, Regularization, data_record, kernel_array
from ._schedule import Schedule

_ACTIVATION_CODES = {"identity": K.IDENTITY, "logistic": K.LOGISTIC, "tanh": K.TANH, "relu": K.RELU}

#: a training loss this many times above both the loss where the fit started and the loss
#: of the best constant prediction (at least 1) counts as diverging, as a non-finite one
DIVERGENCE_FACTOR = 1e4

#: multiply-adds of a batch's largest matrix product below which BLAS runs on one thread
_SMALL_PRODUCT = 1 << 24
_blas = {"controller": None, "users": 0, "limiter": None}  # shared by the fits of all threads
_blas_lock = threading.Lock()

#: per thread: whether fits leave reporting max_iter to their caller (the CV estimators
#: and regularization_path, which report once for many fits)
_quiet = threading.local()


@contextlib.contextmanager
def _max_iter_reported_by_caller():
    """In this thread, fits reaching ``max_iter`` raise no ConvergenceWarning of their own."""
    before = getattr(_quiet, "max_iter", False)
    _quiet.max_iter = True
    try:
        yield
    finally:
        _quiet.max_iter = before


#: ids of the estimator objects being fitted right now, in any thread
_fitting = set()
_fitting_lock = threading.Lock()


@contextlib.contextmanager
def _blas_threads(units, batch_size):
    """One BLAS thread for batch-sized products, as scikit-learn's KMeans does: threaded
    OpenBLAS gains little on them on an idle machine and collapses when cores are shared.

    The limit is process-wide, so concurrent fits share it: the first to enter sets it,
    the last to leave restores the original (never one fit restoring it under another).
    """
    batch = 200 if batch_size == "auto" else batch_size
    if batch * max(i * o for i, o in zip(units[:-1], units[1:])) > _SMALL_PRODUCT:
        yield
        return
    with _blas_lock:
        if _blas["controller"] is None:
            _blas["controller"] = ThreadpoolController()
        if _blas["users"] == 0:
            _blas["limiter"] = _blas["controller"].limit(limits=1, user_api="blas")
        _blas["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                _blas["limiter"].restore_original_limits()


@contextlib.contextmanager
def _exclusive_fit(estimator):
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


def _int_tuple(value):
    """``value`` (an int or a sequence of ints) as a tuple of Python ints, or None."""
    values = (value,) if isinstance(value, Integral) else value
    try:
        values = tuple(values)
    except TypeError:
        return None
    if not all(isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) for v in values):
        return None
    return tuple(int(v) for v in values)


def _constant_loss(Y, sw, loss):
    """Mean loss of the best constant prediction: the scale against which divergence is told."""
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


class BaseRegularizedMLP(CallbackSupportMixin, BaseEstimator, ABC):
    """Base class of the regularized MLP estimators; use the subclasses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATION_CODES))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "penalty": [StrOptions({p for p in PENALTIES if p is not None}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
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

    # -- public attributes -------------------------------------------------------

    @property
    def coef_(self):
        """First-layer weights, shape (n_hidden_1, n_features): ``coefs_[0].T``."""
        check_is_fitted(self)
        return self.coefs_[0].T

    @property
    def _optimizer(self):
        """The step size where scikit-learn's MLP keeps it, ``_optimizer.learning_rate``:
        η of 'sgd' after its schedule, ``learning_rate_init`` for 'adam' (read-only)."""
        if not hasattr(self, "_learning_rate"):
            raise AttributeError("_optimizer exists after a fit with solver 'sgd' or 'adam'.")
        return types.SimpleNamespace(learning_rate=self._learning_rate)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- configuration: validated parameters -------------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(h, Integral) and not isinstance(h, (bool, np.bool_)) and h > 0
                   for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
        return sizes

    def _drop_rates(self, n_hidden):
        """The dropout rate of each hidden layer, or None when no layer drops."""
        try:
            rates = np.asarray(self.dropout, dtype=np.float64)
        except (TypeError, ValueError):
            rates = np.full(n_hidden + 1, np.nan)  # not numbers: rejected below
        if rates.ndim == 0:
            rates = np.full(n_hidden, float(rates))
        if rates.shape != (n_hidden,) or not np.all((rates >= 0) & (rates < 1)):
            raise ValueError(
                "dropout must be a float in [0, 1) or one such float per hidden layer "
                f"({n_hidden}), got {self.dropout!r}."
            )
        return rates if np.any(rates > 0) else None

    def _input_masks(self, n_features):
        """(feature_shape, block) as int64 arrays, validated against the input width."""
        shape = (n_features,) if self.feature_shape is None else _int_tuple(self.feature_shape)
        if shape is None or not 1 <= len(shape) <= 3 or min(shape) < 1:
            raise ValueError(
                f"feature_shape must be 1 to 3 positive integers, got {self.feature_shape!r}."
            )
        if np.prod(shape) != n_features:
            raise ValueError(
                f"feature_shape={shape} holds {int(np.prod(shape))} features but X has "
                f"{n_features} features."
            )
        block = _int_tuple(self.block_size)
        if isinstance(self.block_size, Integral):
            block = block * len(shape)
        if block is None or len(block) != len(shape) or min(block) < 1:
            raise ValueError(
                f"block_size must be a positive integer or one per axis of feature_shape "
                f"{shape}, got {self.block_size!r}."
            )
        if self.dropblock > 0 and any(b > n for b, n in zip(block, shape)):
            raise ValueError(
                f"block_size={self.block_size!r} is larger than an axis of feature_shape {shape}."
            )
        if self.spatial_dropout > 0 and len(shape) < 2:
            raise ValueError(
                "spatial_dropout drops whole channels and needs a channel axis: set "
                f"feature_shape=(n_channels, ...), got feature_shape={self.feature_shape!r}."
            )
        return np.array(shape, dtype=np.int64), np.array(block, dtype=np.int64)

    def _check_solver_compatibility(self, drop_rates):
        if self.solver != "lbfgs":
            return
        if not PENALTIES[self.penalty].smooth:
            smooth = [repr(p) for p, row in PENALTIES.items() if row.smooth]
            raise ValueError(
                f"solver='lbfgs' needs a smooth objective: penalty={self.penalty!r} is "
                f"not supported with it. Use penalty in {', '.join(smooth)}, or "
                "solver='adam' / 'sgd'."
            )
        stochastic = {"dropout": drop_rates is not None, "dropblock": self.dropblock > 0,
                      "spatial_dropout": self.spatial_dropout > 0,
                      "max_norm": self.max_norm is not None}
        for name, active in stochastic.items():
            if active:
                raise ValueError(
                    f"solver='lbfgs' minimises a deterministic, unconstrained objective: "
                    f"{name}={getattr(self, name)!r} is not supported with it. Use "
                    "solver='adam' or 'sgd'."
                )

    # -- the kernels' records ------------------------------------------------------

    def _network_record(self):
        return Network(self._units(), _ACTIVATION_CODES[self.activation], self._loss_code())

    def _regularization_record(self, drop_rates, input_masks, dropblock_rate):
        feature_shape, block = input_masks
        masked = self.dropblock > 0 or self.spatial_dropout > 0
        return Regularization(
            penalty=PENALTY_CODES[self.penalty], alpha=float(self.alpha),
            l1_ratio=float(self.l1_ratio),
            max_norm=0.0 if self.max_norm is None else float(self.max_norm),
            drop_rates=drop_rates, mask_shape=feature_shape if masked else None,
            block_size=block, dropblock_rate=dropblock_rate,
            spatial_rate=float(self.spatial_dropout),
            dropblock_per_feature=self.dropblock_scale == "feature",
        )

    def _optimizer_record(self, lr, batch_size):
        return Optimizer(
            solver=ADAM if self.solver == "adam" else SGD, lr=float(lr),
            momentum=float(self.momentum), nesterov=bool(self.nesterovs_momentum),
            beta_1=float(self.beta_1), beta_2=float(self.beta_2), epsilon=float(self.epsilon),
            first_moment=self._first_moment, second_moment=self._second_moment,
            batch_size=batch_size, shuffle=bool(self.shuffle),
        )

    def _dropblock_rate(self):
        """The DropBlock rate of the next epoch: ramped linearly from 0 over max_iter epochs."""
        if self.dropblock_schedule == "constant":
            return float(self.dropblock)
        return float(self.dropblock) * min(1.0, (self._n_epochs + 1) / self.max_iter)

    # -- parameters ------------------------------------------------------------

    def _initialize(self, units, dtype, rs):
        """Glorot-uniform weights as scikit-learn's MLP draws them, reset attributes."""
        self.n_iter_ = 0
        self.t_ = 0
        self._n_epochs = 0
        self.n_outputs_ = units[-1]
        self.n_layers_ = len(units)
        self.out_activation_ = self._out_activation()
        coefs, intercepts = [], []
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rs.uniform(-bound, bound, fan_out))
        params = np.concatenate([c.ravel() for c in coefs] + intercepts).astype(dtype)
        self._set_params(params, units)
        if self.solver != "lbfgs":
            self.loss_curve_ = []
            self._init_stopping_state()

    def _init_stopping_state(self):
        """The stopping rule's state of 'sgd' / 'adam', for the current early_stopping."""
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _out_activation(self):
        return {K.SQUARED_ERROR: "identity", K.POISSON: "exp", K.BINARY_LOG_LOSS: "logistic",
                K.MULTINOMIAL_LOG_LOSS: "softmax"}[self._loss_code()]

    def _set_params(self, params, units):
        """Make ``coefs_`` / ``intercepts_`` views into the flat parameter vector."""
        coefs, intercepts = [], []
        w = 0
        b = sum(i * o for i, o in zip(units[:-1], units[1:]))
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            coefs.append(params[w : w + fan_in * fan_out].reshape(fan_in, fan_out))
            intercepts.append(params[b : b + fan_out])
            w += fan_in * fan_out
            b += fan_out
        self.coefs_, self.intercepts_ = coefs, intercepts

    def _units(self):
        sizes = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        return np.array(sizes, dtype=np.int64)

    def _flat_params(self):
        """A flat parameter vector packed from ``coefs_`` / ``intercepts_``."""
        return np.concatenate([c.ravel() for c in self.coefs_] + list(self.intercepts_))

    def _fitted_state(self):
        return {k: v for k, v in vars(self).items()
                if (k.endswith("_") or k.startswith("_")) and not is_callback_state(k)}

    def _restore(self, state):
        for k in list(self._fitted_state()):
            delattr(self, k)
        for k, v in state.items():
            setattr(self, k, v)

    # -- fit ---------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        announce_compilation()
        hidden = self._hidden_sizes()
        drop_rates = self._drop_rates(len(hidden))
        self._check_solver_compatibility(drop_rates)
        with _exclusive_fit(self):
            first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
            saved = copy.deepcopy(self._fitted_state())
            try:
                X, Y, sw, units, rs = self._prepare(X, y, sample_weight, hidden, incremental,
                                                    first_pass, classes)
                input_masks = self._input_masks(X.shape[1])  # checked for every solver
                task = start_fit(self, X, y, sample_weight, incremental)
                if self.solver == "lbfgs":
                    self._fit_lbfgs(X, Y, sw, task.epochs)
                else:
                    with _blas_threads(units, self.batch_size):
                        self._fit_stochastic(X, Y, sw, drop_rates, input_masks, rs, incremental,
                                             task.epochs)
                task.end()
            except BaseException:
                self._restore(saved)
                raise
        return self

    def _prepare(self, X, y, sample_weight, hidden, incremental, first_pass, classes):
        """Validated X, targets Y, weights sw in the model's dtype; the layer sizes."""
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
        return (X.astype(dtype, copy=False), kernel_array(Y, dtype), kernel_array(sw, dtype),
                units, rs)

    def _diverged(self, where, cause="the loss or the weights became non-finite"):
        remedy = "Scale the features" if self.solver == "lbfgs" else (
            f"Lower learning_rate_init (now {self.learning_rate_init}) or scale the features"
        )
        if self.solver == "sgd" and self.penalty in ("l2", "elasticnet"):
            remedy += ("; with plain SGD the L2 step is W ← (1 − 2ηλ)W − η∇, unstable once "
                       "2·learning_rate_init·alpha > 2")
        return ValueError(
            f"Training diverged {where}: {cause}. {remedy}, e.g. with "
            "sklearn.preprocessing.StandardScaler. (Solver produced non-finite parameter "
            "weights. The input data may contain large values and need to be preprocessed.)"
        )

    def _fit_lbfgs(self, X, Y, sw, epochs=None):
        params = self._flat_params()
        network = self._network_record()
        self._set_params(params, network.units)
        grad = np.empty_like(params)
        alpha = self.alpha if self.penalty == "l2" else 0.0
        data = data_record(X, params.dtype)

        def objective(theta):
            params[:] = theta
            J = K.objective_grad(data, Y, sw, params, network, alpha, grad)
            return J, grad.astype(np.float64)

        def report(intermediate_result):
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (report.n, intermediate_result.fun))
            report.last = scipy.optimize.OptimizeResult(
                x=intermediate_result.x.copy(), fun=intermediate_result.fun, nit=report.n, status=0
            )
            report.n += 1
            if epochs is not None:  # end this iteration's subtask, begin the next one's
                report.stopped = epochs.end(intermediate_result.x)
                epochs.begin(intermediate_result.x)
                if report.stopped:  # a callback asks to stop
                    raise StopIteration

        report.n = 1
        report.last = None  # the last iterate, kept if the user interrupts
        report.stopped = False
        if epochs is not None:
            epochs.begin(params)
        try:
            res = scipy.optimize.minimize(
                objective, params.astype(np.float64), method="L-BFGS-B", jac=True, callback=report,
                options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
            )
        except KeyboardInterrupt:
            if report.last is None:
                raise
            warnings.warn("Training interrupted by user.")
            res = report.last
        if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
            raise self._diverged("in L-BFGS")
        if res.status != 0 and not report.stopped:
            limit = ("max_iter" if res.nit >= self.max_iter
                     else "max_fun" if res.get("nfev", 0) >= self.max_fun else None)
            warnings.warn(
                f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}): "
                f"{res.message}. "
                + (f"Increase {limit} or scale the data." if limit else "Scale the data."),
                ConvergenceWarning,
            )
        params[:] = res.x
        self.n_iter_ = min(res.nit, self.max_iter)
        self.loss_ = float(res.fun)

    # -- the stochastic solvers, stage by stage ------------------------------------

    def _reset_optimizer(self, params, incremental):
        """Fresh moments and η, unless partial_fit continues with the same solver."""
        if not hasattr(self, "loss_curve_"):  # continuing an 'lbfgs' fit
            self.loss_curve_ = []
        if (not hasattr(self, "validation_scores_")  # after 'lbfgs'
                or (self.validation_scores_ is None) == bool(self.early_stopping)):
            self._init_stopping_state()  # ... or early_stopping was switched since the last fit
        if not hasattr(self, "_n_epochs"):
            self._n_epochs = self.n_iter_
        n_second = params.shape[0] if self.solver == "adam" else 0
        if (not incremental or not hasattr(self, "_first_moment")
                or self._second_moment.shape[0] != n_second):  # new, or the solver changed
            self._first_moment = np.zeros_like(params)
            self._second_moment = np.zeros_like(params[:n_second])
            self._n_steps = 0
            self._learning_rate = float(self.learning_rate_init)

    def _validation_split(self, X, Y, sw, rs):
        """(X, Y, sw) for training and the held-out (X, Y, sw) of early stopping."""
        stratify = None
        if self.out_activation_ == "softmax":
            stratify = Y.argmax(axis=1)
        elif is_classifier(self) and self.n_outputs_ == 1:
            stratify = Y > 0.5  # as scikit-learn's MLP: its messages name the class 'True'

        n_samples, n_val = X.shape[0], int(np.ceil(self.validation_fraction * X.shape[0]))
        split = (f"early_stopping holds out validation_fraction={self.validation_fraction} of "
                 f"the {n_samples} samples: {n_val} for validation, {n_samples - n_val} for "
                 "training")
        if n_val >= n_samples:  # before train_test_split, whose message names test_size
            raise ValueError(f"The training set is empty: {split}. Adjust "
                             "'validation_fraction' or use more samples.")
        try:
            X, X_val, Y, Y_val, sw, sw_val = train_test_split(
                X, Y, sw, random_state=rs, test_size=self.validation_fraction, stratify=stratify
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

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _fit_stochastic(self, X, Y, sw, drop_rates, input_masks, rs, incremental, epochs=None):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        params = self._flat_params()
        network = self._network_record()
        self._set_params(params, network.units)
        self._reset_optimizer(params, incremental)
        validation = None
        if self.early_stopping:
            (X, Y, sw), validation = self._validation_split(X, Y, sw, rs)
        data = data_record(X, params.dtype)
        batch_size = self._batch_size(X.shape[0])
        seed = int(rs.randint(np.iinfo(np.int32).max))
        baseline = max(_constant_loss(Y.astype(np.float64), sw.astype(np.float64), network.loss),
                       1.0)
        scale = baseline
        data_loss = None
        schedule = Schedule(self)
        # the weights of the best validation score: on a warm start, the current ones
        best = params.copy() if validation is not None and self.validation_scores_ else None
        epoch = _Epoch(self, params)
        n_iter = 0  # n_iter_ counts the epochs of this call, as in scikit-learn
        try:
            for _ in range(self.max_iter):
                if epochs is not None:
                    epochs.begin(params)
                regularization = self._regularization_record(drop_rates, input_masks,
                                                      self._dropblock_rate())
                data_loss = epoch.run(data, Y, sw, network, regularization,
                                      self._optimizer_record(schedule.lr, batch_size), seed)
                if data_loss is not None and n_iter == 0:
                    scale = max(scale, epoch.start_loss)
                problem = epoch.divergence(data_loss, scale)
                if problem is not None and best is None:
                    raise self._diverged(f"at epoch {self._n_epochs + 1}", problem)
                if problem is not None:  # early stopping: count the epoch, score it NaN
                    epoch.roll_back()  # finite moments; the best weights follow below
                n_iter += 1
                self._end_epoch(np.nan if data_loss is None else data_loss, X.shape[0], n_iter)
                if validation is not None:
                    if problem is None and self._validate_epoch(params, network, validation,
                                                                schedule):
                        best = params.copy()
                    elif problem is None and np.isnan(self.validation_scores_[-1]):
                        problem = "its validation predictions are non-finite"
                        if best is None:
                            raise self._diverged(f"at epoch {self._n_epochs}", problem)
                    elif problem is not None:
                        self.validation_scores_.append(np.nan)
                        self.validation_loss_curve_.append(np.nan)
                    if problem is not None:
                        warnings.warn(
                            f"Training diverged at epoch {self._n_epochs}; stopped and "
                            "restored the weights of the best validation score "
                            f"({problem}). Lower learning_rate_init or scale the features.",
                            ConvergenceWarning,
                        )
                        break
                else:
                    schedule.record(self.loss_curve_[-1] <= self.best_loss_ - self.tol)
                    self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
                schedule.epoch_end(self.t_)
                if epochs is not None and epochs.end(params):
                    break  # a callback asks to stop
                if schedule.should_stop(validation is not None, self.verbose) or incremental:
                    break
                if n_iter == self.max_iter and not getattr(_quiet, "max_iter", False):
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                        "optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            # Ctrl-C is raised as the kernel returns, after its epoch changed the
            # parameters and moments in place: roll back that uncounted epoch.
            epoch.roll_back_if_running()
            warnings.warn("Training interrupted by user.")
        finally:
            schedule.save()
        if best is not None:
            params[:] = best
        elif data_loss is not None and data_loss > DIVERGENCE_FACTOR * baseline:
            raise self._diverged(
                "by the end of the fit",
                f"the training loss {data_loss:.3g} is more than {DIVERGENCE_FACTOR:g} times "
                f"the loss of the best constant prediction ({baseline:.3g})",
            )

    def _end_epoch(self, data_loss, n_samples, n_iter):
        """Count the epoch and record ``loss_`` (data loss + λ·Ω)."""
        self.n_iter_ = n_iter
        self._n_epochs += 1
        self.t_ += n_samples
        self.loss_ = data_loss + self.alpha * value(self.penalty, self.coefs_, self.l1_ratio)
        self.loss_curve_.append(self.loss_)
        if self.verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

    def _validate_epoch(self, params, network, validation, schedule):
        """Score the validation set; True when the score is the best so far."""
        X_val, Y_val, sw_val = validation
        P = self._raw_output(data_record(X_val, params.dtype), params, network.units,
                             Y_val.shape[0])
        val_loss = K.output_loss(P, Y_val, sw_val, network.loss) / sw_val.sum()
        score = self._score_predictions(P, Y_val, sw_val) if np.isfinite(P).all() else np.nan
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(float(val_loss))
        if self.verbose:
            print("Validation score: %f" % score)
        schedule.record(score >= self.best_validation_score_ + self.tol)
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            return True
        return False

    # -- predict -----------------------------------------------------------------

    def _raw_output(self, data, params, units, n_samples):
        out = np.empty((n_samples, units[-1]), dtype=params.dtype)
        K.predict_raw(data, params, self._network_record(), out)
        return out

    def _forward(self, X):
        """Predictions after the output activation, shape (n_samples, n_outputs)."""
        announce_compilation()
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=(np.float64, np.float32), reset=False)
        params = self._flat_params()
        out = self._raw_output(data_record(X, params.dtype), params, self._units(), X.shape[0])
        K.output_activation(out, self._loss_code())
        return out


class _Epoch:
    """One epoch of the compiled kernel, with what is needed to undo it.

    Holds the optimizer state from before the running epoch (parameters and moments), so
    that a diverged or interrupted epoch can be rolled back to finite values.
    """

    def __init__(self, estimator, params):
        self.estimator = estimator
        self.state = (params, estimator._first_moment, estimator._second_moment)
        self.before = [np.empty_like(a) for a in self.state]
        self.n_steps_before = estimator._n_steps
        self.running = False
        self.start_loss = None

    def run(self, data, Y, sw, network, regularization, optimizer, seed):
        """Run the kernel once; the epoch's mean data loss, or None if it was not finite."""
        est = self.estimator
        for a, b in zip(self.state, self.before):
            b[:] = a
        self.n_steps_before = est._n_steps
        self.running = True
        loss_sum, weight_sum, est._n_steps, finite, first = K.train_epoch(
            data, Y, sw, self.state[0], network, regularization, optimizer, est._n_steps,
            seed, est._n_epochs,
        )
        self.running = False
        self.start_loss = first
        # an overflowing gradient can leave the weights finite but Adam's v infinite
        finite = finite and all(np.isfinite(m).all() for m in self.state[1:])
        return loss_sum / weight_sum if finite else None

    def divergence(self, data_loss, scale):
        """Why the epoch counts as diverged (non-finite, or exploded), else None."""
        if data_loss is None:
            return "the loss or the weights became non-finite"
        if data_loss > DIVERGENCE_FACTOR * scale:
            return (f"the training loss {data_loss:.3g} exploded to more than "
                    f"{DIVERGENCE_FACTOR:g} times where the fit started ({scale:.3g})")
        return None

    def roll_back(self):
        """Restore the parameters and moments from before the last epoch."""
        for a, b in zip(self.state, self.before):
            a[:] = b
        self.estimator._n_steps = self.n_steps_before

    def roll_back_if_running(self):
        if self.running:
            self.roll_back()
