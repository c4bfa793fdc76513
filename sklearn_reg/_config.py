"""The frozen configuration of a fit, built once from the estimator's validated parameters.

:func:`configure` checks what scikit-learn's parameter constraints cannot (layer sizes,
dropout rates per layer, the input-mask layout against the input width) and turns the
parameters into the kernels' records (:mod:`sklearn_reg._records`) and the few settings
the trainer reads in Python; :func:`check_solver` tells which regularizers a solver
accepts.
"""

import dataclasses
import math
from numbers import Integral

import numpy as np

from . import _kernels as K
from ._optim import ADAM, ADAPTIVE, CONSTANT, INVSCALING, SGD
from ._penalties import (
    PENALTIES,
    feature_selecting_penalties,
    group_index,
    group_penalties,
    rates,
    smooth_penalties,
)
from ._records import Network, Optimizer, Regularization, Stopping

ACTIVATION_CODES = {"identity": K.IDENTITY, "logistic": K.LOGISTIC, "tanh": K.TANH, "relu": K.RELU}
SCHEDULE_CODES = {"constant": CONSTANT, "invscaling": INVSCALING, "adaptive": ADAPTIVE}

#: a training loss this many times above both the loss where the fit started and the loss
#: of the best constant prediction (at least 1) counts as diverging, as a non-finite one
DIVERGENCE_FACTOR = 1e4

#: early stopping on the validation loss waits at least this many optimizer steps (and
#: at least ``n_iter_no_change`` epochs) for an improvement: on a few hundred rows an
#: epoch is one or two steps, too few to judge progress by (docs/quality.rst)
MIN_PATIENCE_STEPS = 200
#: ``path_max_iter='auto'``: each fit of a path after the first runs at most this many
#: epochs, and on large data as many as make PATH_STEPS optimizer steps (at least one):
#: a later λ only adjusts a trained network, and an epoch of 16 000 rows is 80 steps
#: (docs/quality.rst, medium tier)
PATH_MAX_EPOCHS, PATH_STEPS = 20, 400


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """What a fit does, fixed before it starts.

    Parameters
    ----------
    network : Network
        The architecture record.
    regularization : Regularization
        The regularization record at λ = ``alpha``.
    optimizer : Optimizer or None
        The stochastic optimizer's record; None for 'lbfgs'.
    stopping : Stopping
        The stopping rule's record.
    params : dict
        The estimator's parameters (``get_params(deep=False)``).
    """

    network: Network
    regularization: Regularization
    optimizer: Optimizer
    stopping: Stopping
    params: dict

    def __getattr__(self, name):  # the estimator's parameters, read as attributes
        try:
            return self.__dict__["params"][name]
        except KeyError:
            raise AttributeError(name) from None


def configure(estimator, units, n_samples):
    """The :class:`TrainingConfig` of a fit of ``estimator`` on ``n_samples`` rows.

    The solver's compatibility (:func:`check_solver`) is checked by the estimator before
    it reads any data, once per fit.

    Parameters
    ----------
    estimator : BaseRegularizedMLP
        The estimator, its parameters validated by scikit-learn's constraints.
    units : list of int
        ``[n_features, h_1, ..., n_outputs]``.
    n_samples : int
        Rows of the training data (after the early-stopping split).

    Returns
    -------
    config : TrainingConfig
    """
    p = estimator.get_params(deep=False)
    drop_rates = drop_rates_of(p["dropout"], len(units) - 2)
    shape, block = input_masks(p, int(units[0]))
    masked = p["dropblock"] > 0 or p["spatial_dropout"] > 0
    regularization = Regularization(
        *rates(p["penalty"], p["alpha"], p["l1_ratio"]),
        max_norm=0.0 if p["max_norm"] is None else float(p["max_norm"]),
        drop_rates=drop_rates,
        mask_shape=shape if masked else None,
        block_size=block,
        dropblock_rate=float(p["dropblock"]),
        dropblock_ramp=int(p["max_iter"]) if p["dropblock_schedule"] == "linear" else 0,
        spatial_rate=float(p["spatial_dropout"]),
        dropblock_per_feature=p["dropblock_scale"] == "feature",
        feature_weights=feature_weights_of(p["penalty_weights"], p["penalty"], int(units[0])),
        **group_index_of(p["feature_groups"], p["penalty"], int(units[0])),
    )
    network = Network(
        np.array(units, dtype=np.int64), ACTIVATION_CODES[p["activation"]], estimator._loss_code()
    )
    optimizer = None
    if p["solver"] != "lbfgs":
        optimizer = Optimizer(
            solver=ADAM if p["solver"] == "adam" else SGD,
            schedule=SCHEDULE_CODES[p["learning_rate"]],
            lr_init=float(p["learning_rate_init"]),
            power_t=float(p["power_t"]),
            momentum=float(p["momentum"]),
            nesterov=bool(p["nesterovs_momentum"]),
            beta_1=float(p["beta_1"]),
            beta_2=float(p["beta_2"]),
            epsilon=float(p["epsilon"]),
            batch_size=batch_size_of(p["batch_size"], n_samples),
            shuffle=bool(p["shuffle"]),
        )
    stopping = Stopping(
        float(p["tol"]),
        patience(p, optimizer, n_samples),
        DIVERGENCE_FACTOR,
        not p["early_stopping"],
    )
    return TrainingConfig(network, regularization, optimizer, stopping, p)


def path_epochs(path_max_iter, optimizer, n_samples):
    """Epochs of each fit of a path after the first: ``path_max_iter``, or for 'auto'
    min(PATH_MAX_EPOCHS, ⌈PATH_STEPS / steps per epoch⌉) (PATH_MAX_EPOCHS iterations
    for 'lbfgs', which has no steps)."""
    if path_max_iter != "auto":
        return int(path_max_iter)
    if optimizer is None:
        return PATH_MAX_EPOCHS
    steps_per_epoch = math.ceil(n_samples / optimizer.batch_size)
    return min(PATH_MAX_EPOCHS, math.ceil(PATH_STEPS / steps_per_epoch))


def patience(p, optimizer, n_samples):
    """Epochs without improvement before the stopping rule acts: ``n_iter_no_change``;
    with early stopping on the validation loss at least ⌈MIN_PATIENCE_STEPS / steps per
    epoch⌉, an epoch being ⌈n_samples / batch size⌉ steps."""
    epochs = float(p["n_iter_no_change"])
    if optimizer is None or not p["early_stopping"] or p["early_stopping_metric"] != "loss":
        return epochs
    steps_per_epoch = math.ceil(n_samples / optimizer.batch_size)
    return max(epochs, float(math.ceil(MIN_PATIENCE_STEPS / steps_per_epoch)))


def batch_size_of(batch_size, n_samples):
    """Rows per batch: min(200, n) for 'auto', else clipped to [1, n] with scikit-learn's
    warning."""
    import warnings

    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped"
        )
    return int(np.clip(batch_size, 1, n_samples))


def hidden_sizes(hidden_layer_sizes):
    """The hidden layer sizes as a list of positive ints, or a clear error."""
    sizes = hidden_layer_sizes
    sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
    if not all(
        isinstance(h, Integral) and not isinstance(h, (bool, np.bool_)) and h > 0 for h in sizes
    ):
        raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes}.")
    return sizes


def drop_rates_of(dropout, n_hidden):
    """The dropout rate of each hidden layer, or None when no layer drops."""
    try:
        rates_ = np.asarray(dropout, dtype=np.float64)
    except (TypeError, ValueError):
        rates_ = np.full(n_hidden + 1, np.nan)  # not numbers: rejected below
    if rates_.ndim == 0:
        rates_ = np.full(n_hidden, float(rates_))
    if rates_.shape != (n_hidden,) or not np.all((rates_ >= 0) & (rates_ < 1)):
        raise ValueError(
            "dropout must be a float in [0, 1) or one such float per hidden layer "
            f"({n_hidden}), got {dropout!r}."
        )
    return rates_ if np.any(rates_ > 0) else None


def require_row_penalty(penalty, what, alternative):
    """A ValueError unless ``penalty`` acts on the first layer's rows, which ``what``
    (e.g. "penalty_weights weight") weighs; the message offers ``alternative``."""
    if penalty not in feature_selecting_penalties():
        raise ValueError(
            f"{what} the penalty of each input feature's row of the first layer, which "
            f"penalty={penalty!r} does not have: use penalty in "
            f"{', '.join(repr(p) for p in feature_selecting_penalties())}, or {alternative}."
        )


def feature_weights_of(penalty_weights, penalty, n_features):
    """The penalty weights w_j of the input features as float64, or None; checked to be
    n_features finite values ≥ 0 for a penalty that acts on the first layer's rows."""
    if penalty_weights is None:
        return None
    require_row_penalty(penalty, "penalty_weights weight", "penalty_weights=None")
    try:
        w = np.asarray(penalty_weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"penalty_weights must be an array of numbers, got {penalty_weights!r}."
        ) from None
    if w.shape != (n_features,):
        raise ValueError(
            f"penalty_weights must hold one weight per input feature: X has {n_features} "
            f"features, penalty_weights has shape {w.shape}."
        )
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
    if bad.size:
        raise ValueError(
            "penalty_weights must be finite and non-negative (0 leaves a feature "
            f"unpenalized), got {w[bad[0]]} for feature {bad[0]}."
        )
    return np.array(w)  # a copy of our own: the kernels keep no view of the user's array


def group_index_of(feature_groups, penalty, n_features):
    """The ``group_ptr`` and ``group_rows`` fields of the regularization record of
    ``feature_groups`` (none for None), checked to label the n_features input features
    of a penalty with a group part."""
    if feature_groups is None:
        return {}
    if penalty not in group_penalties():
        raise ValueError(
            f"feature_groups groups the rows of the group penalty, which penalty={penalty!r} "
            f"does not have: use penalty in {', '.join(repr(p) for p in group_penalties())}, "
            "or feature_groups=None."
        )
    labels = np.asarray(feature_groups)
    if labels.shape != (n_features,):
        raise ValueError(
            f"feature_groups must hold one group label per input feature: X has "
            f"{n_features} features, feature_groups has shape {labels.shape}."
        )
    try:
        group_ptr, group_rows = group_index(labels)
    except TypeError:
        raise ValueError(
            f"feature_groups must hold sortable labels (ints or strings), got {labels!r}."
        ) from None
    return {"group_ptr": group_ptr, "group_rows": group_rows}


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


def input_masks(p, n_features):
    """(feature_shape, block) as int64 arrays, validated against the input width."""
    shape = (n_features,) if p["feature_shape"] is None else _int_tuple(p["feature_shape"])
    if shape is None or not 1 <= len(shape) <= 3 or min(shape) < 1:
        raise ValueError(
            f"feature_shape must be 1 to 3 positive integers, got {p['feature_shape']!r}."
        )
    if np.prod(shape) != n_features:
        raise ValueError(
            f"feature_shape={shape} holds {int(np.prod(shape))} features but X has "
            f"{n_features} features."
        )
    block = _int_tuple(p["block_size"])
    if isinstance(p["block_size"], Integral):
        block = block * len(shape)
    if block is None or len(block) != len(shape) or min(block) < 1:
        raise ValueError(
            f"block_size must be a positive integer or one per axis of feature_shape "
            f"{shape}, got {p['block_size']!r}."
        )
    if p["dropblock"] > 0 and any(b > n for b, n in zip(block, shape)):
        raise ValueError(
            f"block_size={p['block_size']!r} is larger than an axis of feature_shape {shape}."
        )
    if p["spatial_dropout"] > 0 and len(shape) < 2:
        raise ValueError(
            "spatial_dropout drops whole channels and needs a channel axis: set "
            f"feature_shape=(n_channels, ...), got feature_shape={p['feature_shape']!r}."
        )
    return np.array(shape, dtype=np.int64), np.array(block, dtype=np.int64)


def check_solver(p, drop_rates):
    """L-BFGS minimises a smooth, deterministic, unconstrained objective: refuse the rest."""
    if p["solver"] != "lbfgs":
        return
    if not PENALTIES[p["penalty"]].smooth:
        raise ValueError(
            f"solver='lbfgs' needs a smooth objective: penalty={p['penalty']!r} is "
            f"not supported with it. Use penalty in {', '.join(smooth_penalties())}, or "
            "solver='adam' / 'sgd'."
        )
    stochastic = {
        "dropout": drop_rates is not None,
        "dropblock": p["dropblock"] > 0,
        "spatial_dropout": p["spatial_dropout"] > 0,
        "max_norm": p["max_norm"] is not None,
    }
    for name, active in stochastic.items():
        if active:
            raise ValueError(
                f"solver='lbfgs' minimises a deterministic, unconstrained objective: "
                f"{name}={p[name]!r} is not supported with it. Use "
                "solver='adam' or 'sgd'."
            )
