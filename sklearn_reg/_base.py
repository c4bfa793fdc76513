"""BaseRegularizedMLP: validation, parameter buffers, the fit / partial_fit loop."""

import contextlib
import copy
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from . import _kernels as K
from . import _penalties

_ACTIVATION_CODES = {"identity": K.IDENTITY, "logistic": K.LOGISTIC, "tanh": K.TANH, "relu": K.RELU}
_LBFGS_MAX_FUN = 15000  # scikit-learn's default ``max_fun``


#: multiply-adds of a batch's largest matrix product below which BLAS runs on one thread
_SMALL_PRODUCT = 1 << 24
_blas = []  # the ThreadpoolController, made at the first fit (a scikit-learn dependency)


def _blas_threads(units, batch_size):
    """One BLAS thread for batch-sized products, as scikit-learn's KMeans does: threaded
    OpenBLAS gains little on them on an idle machine and collapses when cores are shared."""
    batch = 200 if batch_size == "auto" else batch_size
    if batch * max(i * o for i, o in zip(units[:-1], units[1:])) > _SMALL_PRODUCT:
        return contextlib.nullcontext()
    if not _blas:
        _blas.append(ThreadpoolController())
    return _blas[0].limit(limits=1, user_api="blas")


def _kernel_array(a, dtype):
    """``a`` as a C-contiguous writable array of ``dtype``: read-only arrays (joblib's
    memmaps) would make numba compile another specialization of every kernel."""
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def _kernel_input(X, dtype):
    """(X, data, indices, indptr, is_sparse) as the kernels take them: dense or CSR."""
    if sp.issparse(X):
        X = X.tocsr()
        return (
            np.empty((0, 0), dtype=dtype),
            _kernel_array(X.data, dtype),
            _kernel_array(X.indices, np.int64),
            _kernel_array(X.indptr, np.int64),
            True,
        )
    none = np.empty(0, dtype=np.int64)
    return _kernel_array(X, dtype), np.empty(0, dtype=dtype), none, none, False


class BaseRegularizedMLP(BaseEstimator, ABC):
    """Base class of the regularized MLP estimators; use the subclasses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATION_CODES))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "penalty": [StrOptions({"l1", "l2", "wd", "elasticnet", "group"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "dropblock": [Interval(Real, 0, 1, closed="left")],
        "block_size": [Interval(Integral, 1, None, closed="left"), tuple],
        "dropblock_schedule": [StrOptions({"linear", "constant"})],
        "spatial_dropout": [Interval(Real, 0, 1, closed="left")],
        "feature_shape": [tuple, None],
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
    }

    @abstractmethod
    def __init__(self, hidden_layer_sizes, activation, solver, penalty, alpha, l1_ratio,
                 dropout, dropblock, block_size, dropblock_schedule, spatial_dropout,
                 feature_shape, batch_size, learning_rate, learning_rate_init, power_t, max_iter,
                 loss, shuffle, random_state, tol, verbose, warm_start, momentum,
                 nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2,
                 epsilon, n_iter_no_change):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.dropout = dropout
        self.dropblock = dropblock
        self.block_size = block_size
        self.dropblock_schedule = dropblock_schedule
        self.spatial_dropout = spatial_dropout
        self.feature_shape = feature_shape
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- configuration ---------------------------------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(h, Integral) and not isinstance(h, (bool, np.bool_)) and h > 0
                   for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
        return sizes

    def _drop_rates(self, n_hidden):
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
        return np.concatenate([rates, [0.0]])  # never empty, for the kernels' typing

    def _input_masks(self, X):
        """(feature_shape, block) as int64 arrays for the input masks, validated against X."""
        n_features = X.shape[1]
        shape = (n_features,) if self.feature_shape is None else tuple(self.feature_shape)
        if not all(isinstance(n, Integral) and n > 0 for n in shape) or not 1 <= len(shape) <= 3:
            raise ValueError(f"feature_shape must be 1 to 3 positive integers, got {self.feature_shape!r}.")
        if np.prod(shape) != n_features:
            raise ValueError(
                f"feature_shape={shape} holds {int(np.prod(shape))} features but X has "
                f"{n_features} features."
            )
        block = self.block_size
        block = tuple(block) if isinstance(block, tuple) else (block,) * len(shape)
        positive = all(isinstance(b, Integral) and b >= 1 for b in block)
        if not positive or self.dropblock > 0:
            if len(block) != len(shape) or not positive:
                raise ValueError(
                    f"block_size must be a positive integer or one per axis of feature_shape "
                    f"{shape}, got {self.block_size!r}."
                )
            if any(b > n for b, n in zip(block, shape)):
                raise ValueError(f"block_size={self.block_size!r} is larger than an axis of feature_shape {shape}.")
        if self.spatial_dropout > 0 and len(shape) < 2:
            raise ValueError(
                "spatial_dropout drops whole channels and needs a channel axis: set "
                f"feature_shape=(n_channels, ...), got feature_shape={self.feature_shape!r}."
            )
        return np.array(shape, dtype=np.int64), np.array(block[: len(shape)], dtype=np.int64)

    def _dropblock_rate(self):
        """The DropBlock rate of the next epoch: ramped linearly from 0 over max_iter epochs."""
        if self.dropblock_schedule == "constant":
            return float(self.dropblock)
        return float(self.dropblock) * min(1.0, (self.n_iter_ + 1) / self.max_iter)

    def _check_solver_compatibility(self, drop_rates):
        if self.solver != "lbfgs":
            return
        if self.penalty not in _penalties.SMOOTH_PENALTIES:
            raise ValueError(
                f"solver='lbfgs' needs a smooth objective: penalty={self.penalty!r} is "
                "not supported with it. Use penalty='l2' or None, or solver='adam' / 'sgd'."
            )
        masks = {"dropout": np.any(drop_rates > 0), "dropblock": self.dropblock > 0,
                 "spatial_dropout": self.spatial_dropout > 0}
        for name, active in masks.items():
            if active:
                raise ValueError(
                    f"solver='lbfgs' minimises a deterministic objective: {name}="
                    f"{getattr(self, name)!r} is not supported with it. Use solver='adam' or 'sgd'."
                )

    # -- parameters ------------------------------------------------------------

    def _initialize(self, units, dtype, rs):
        """Glorot-uniform weights as scikit-learn's MLP draws them, reset attributes."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = units[-1]
        self.n_layers_ = len(units)
        self.out_activation_ = self._out_activation()
        coefs, intercepts = [], []
        factor = 2.0 if self.activation == "logistic" else 6.0
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
            intercepts.append(rs.uniform(-bound, bound, fan_out))
        self._set_params(np.concatenate([c.ravel() for c in coefs] + intercepts).astype(dtype), units)
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
        return np.array([self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_], dtype=np.int64)

    def _flat_params(self):
        """A flat parameter vector packed from ``coefs_`` / ``intercepts_``."""
        return np.concatenate([c.ravel() for c in self.coefs_] + list(self.intercepts_))

    def _fitted_state(self):
        return {k: v for k, v in vars(self).items() if k.endswith("_") or k.startswith("_")}

    def _restore(self, state):
        for k in list(self._fitted_state()):
            delattr(self, k)
        for k, v in state.items():
            setattr(self, k, v)

    # -- fit ---------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden = self._hidden_sizes()
        drop_rates = self._drop_rates(len(hidden))
        self._check_solver_compatibility(drop_rates)
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        saved = copy.deepcopy(self._fitted_state())
        try:
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
            X = X.astype(dtype, copy=False)
            Y = _kernel_array(Y, dtype)
            sw = _kernel_array(sw, dtype)
            input_masks = self._input_masks(X)  # validates feature_shape for every solver
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, sw)
            else:
                with _blas_threads(units, self.batch_size):
                    self._fit_stochastic(X, Y, sw, drop_rates, input_masks, rs, incremental)
        except BaseException:
            self._restore(saved)
            raise
        return self

    def _diverged(self, where):
        remedy = "Scale the features" if self.solver == "lbfgs" else (
            f"Lower learning_rate_init (now {self.learning_rate_init}) or scale the features"
        )
        return ValueError(
            f"Training diverged {where}: the loss or the weights became non-finite. "
            f"{remedy}, e.g. with sklearn.preprocessing.StandardScaler."
        )

    def _fit_lbfgs(self, X, Y, sw):
        params = self._flat_params()
        units = self._units()
        self._set_params(params, units)
        grad = np.empty_like(params)
        alpha = self.alpha if self.penalty == "l2" else 0.0
        args = _kernel_input(X, params.dtype) + (Y, sw)
        activation = _ACTIVATION_CODES[self.activation]

        def objective(theta):
            params[:] = theta
            J = K.objective_grad(*args, params, units, activation, self._loss_code(), alpha, grad)
            return J, grad.astype(np.float64)

        def report(intermediate_result):
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (report.n, intermediate_result.fun))
            report.last = scipy.optimize.OptimizeResult(
                x=intermediate_result.x.copy(), fun=intermediate_result.fun, nit=report.n, status=0
            )
            report.n += 1

        report.n = 1
        report.last = None  # the last iterate, kept if the user interrupts
        try:
            res = scipy.optimize.minimize(
                objective, params.astype(np.float64), method="L-BFGS-B", jac=True, callback=report,
                options={"maxfun": _LBFGS_MAX_FUN, "maxiter": self.max_iter, "gtol": self.tol},
            )
        except KeyboardInterrupt:
            if report.last is None:
                raise
            warnings.warn("Training interrupted by user.")
            res = report.last
        if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
            raise self._diverged("in L-BFGS")
        if res.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}): "
                f"{res.message}. Increase max_iter or scale the data.",
                ConvergenceWarning,
            )
        params[:] = res.x
        self.n_iter_ = min(res.nit, self.max_iter)
        self.loss_ = float(res.fun)

    def _fit_stochastic(self, X, Y, sw, drop_rates, input_masks, rs, incremental):
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        params = self._flat_params()
        units = self._units()
        self._set_params(params, units)
        if not hasattr(self, "loss_curve_"):  # continuing an 'lbfgs' fit
            self.loss_curve_ = []
            self._init_stopping_state()
        elif (self.validation_scores_ is None) == bool(self.early_stopping):
            self._init_stopping_state()  # early_stopping was switched since the last fit
        n_second = params.shape[0] if self.solver == "adam" else 0
        if (not incremental or not hasattr(self, "_first_moment")
                or self._second_moment.shape[0] != n_second):  # new, or the solver changed
            self._first_moment = np.zeros_like(params)
            self._second_moment = np.zeros_like(params[:n_second])
            self._n_steps = 0
            self._learning_rate = float(self.learning_rate_init)

        early_stopping = self.early_stopping
        if early_stopping:
            stratify = None
            if self.out_activation_ == "softmax":
                stratify = Y.argmax(axis=1)
            elif is_classifier(self) and self.n_outputs_ == 1:
                stratify = Y[:, 0]
            n_val = int(np.ceil(self.validation_fraction * X.shape[0]))
            if n_val < 2 or n_val >= X.shape[0]:
                raise ValueError(  # before train_test_split, whose message names test_size
                    f"early_stopping holds out validation_fraction={self.validation_fraction} "
                    f"of the {X.shape[0]} samples: {n_val} for validation, "
                    f"{X.shape[0] - n_val} for training; it needs at least 2 and 1. Adjust "
                    "'validation_fraction' or use more samples."
                )
            X, X_val, Y, Y_val, sw, sw_val = train_test_split(
                X, Y, sw, random_state=rs, test_size=self.validation_fraction, stratify=stratify
            )
            val_input = _kernel_input(X_val, params.dtype)

        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        train_input = _kernel_input(X, params.dtype)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        config = (
            units, _ACTIVATION_CODES[self.activation], self._loss_code(),
            _penalties.PENALTY_CODES[self.penalty], float(self.alpha), float(self.l1_ratio),
            drop_rates, *input_masks,
        )
        solver = K.ADAM if self.solver == "adam" else K.SGD
        # the parameters of the best validation score: on a warm start, the current ones
        best = params.copy() if early_stopping and self.validation_scores_ else None
        # the optimizer's state from before the running epoch, to roll that epoch back
        state = (params, self._first_moment, self._second_moment)
        before = [np.empty_like(a) for a in state]
        n_steps_before = self._n_steps
        in_epoch = False

        def roll_back_epoch():
            for a, b in zip(state, before):
                a[:] = b
            self._n_steps = n_steps_before

        try:
            for _ in range(self.max_iter):
                lr = self._learning_rate if self.solver == "sgd" else float(self.learning_rate_init)
                for a, b in zip(state, before):
                    b[:] = a
                n_steps_before = self._n_steps
                in_epoch = True
                loss_sum, weight_sum, self._n_steps, finite = K.train_epoch(
                    *train_input, Y, sw, params, *config, self._dropblock_rate(),
                    float(self.spatial_dropout), solver, lr, float(self.momentum),
                    bool(self.nesterovs_momentum), float(self.beta_1), float(self.beta_2),
                    float(self.epsilon), self._first_moment, self._second_moment,
                    self._n_steps, batch_size, bool(self.shuffle), seed, self.n_iter_,
                )
                in_epoch = False
                # an overflowing gradient can leave the weights finite but Adam's v infinite
                finite = finite and all(np.isfinite(m).all() for m in state[1:])
                if not finite:
                    if early_stopping and self.validation_scores_:
                        roll_back_epoch()  # finite moments; the best weights follow below
                        warnings.warn(
                            f"Training diverged at epoch {self.n_iter_ + 1}; stopped and "
                            "restored the weights of the best validation score. Lower "
                            "learning_rate_init or scale the features.",
                            ConvergenceWarning,
                        )
                        break
                    raise self._diverged(f"at epoch {self.n_iter_ + 1}")
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_ = loss_sum / weight_sum + self.alpha * _penalties.value(
                    self.penalty, self.coefs_, self.l1_ratio
                )
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                if early_stopping:
                    if self._validate_epoch(params, units, val_input, Y_val, sw_val):
                        best = params.copy()
                else:
                    self._update_no_improvement(self.loss_curve_[-1] > self.best_loss_ - self.tol)
                    self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    self._learning_rate = self.learning_rate_init / (self.t_ + 1) ** self.power_t

                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if early_stopping else "Training loss"
                    msg = (
                        f"{what} did not improve more than tol={self.tol:f} for "
                        f"{self.n_iter_no_change} consecutive epochs."
                    )
                    if self.solver == "sgd" and self.learning_rate == "adaptive" and self._learning_rate > 1e-6:
                        self._learning_rate /= 5.0
                        self._no_improvement_count = 0
                        if self.verbose:
                            print(msg + " Setting learning rate to %f" % self._learning_rate)
                    else:
                        if self.verbose:
                            small = " Learning rate too small." if self.learning_rate == "adaptive" and self.solver == "sgd" else ""
                            print(msg + small + " Stopping.")
                        break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                        "optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            # Ctrl-C is raised as the kernel returns, after its epoch changed the
            # parameters and moments in place: roll back that uncounted epoch.
            if in_epoch:
                roll_back_epoch()
            warnings.warn("Training interrupted by user.")
        if best is not None:
            params[:] = best

    def _update_no_improvement(self, no_improvement):
        self._no_improvement_count = self._no_improvement_count + 1 if no_improvement else 0

    def _validate_epoch(self, params, units, val_input, Y_val, sw_val):
        """Score the validation set; True when the score is the best so far."""
        P = self._raw_output(val_input, params, units, Y_val.shape[0])
        val_loss = K.output_loss(P, Y_val, sw_val, self._loss_code()) / sw_val.sum()
        score = self._score_predictions(P, Y_val, sw_val)
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(float(val_loss))
        if self.verbose:
            print("Validation score: %f" % score)
        self._update_no_improvement(score < self.best_validation_score_ + self.tol)
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            return True
        return False

    # -- predict -----------------------------------------------------------------

    def _raw_output(self, kernel_input, params, units, n_samples):
        out = np.empty((n_samples, units[-1]), dtype=params.dtype)
        K.predict_raw(*kernel_input, params, units, _ACTIVATION_CODES[self.activation], out)
        return out

    def _forward(self, X):
        """Predictions after the output activation, shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False)
        params = self._flat_params()
        out = self._raw_output(_kernel_input(X, params.dtype), params, self._units(), X.shape[0])
        K.output_activation(out, self._loss_code())
        return out
