"""The named records that carry the kernels' arguments, and the one place that builds them.

numba passes a namedtuple of arrays and scalars as one typed argument, so each kernel
takes a few records (the data, the network, the regularization, the optimizer, the
stopping rule, the training state) rather than dozens of positional values whose order
must match by hand. A field that is ``None`` makes a separate, smaller compilation in
which its code is left out: dense input compiles no CSR code, a fit without dropout no
mask code.
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp

Data = namedtuple("Data", "X data indices indptr", defaults=(None, None, None))
Data.__doc__ = """The input rows, dense or CSR; built by :func:`data_record`.

Parameters
----------
X : ndarray of shape (n_samples, n_features) or None
    Dense C-contiguous input; None for CSR input.
data, indices, indptr : ndarray or None
    The CSR arrays (values, int64 column indices, int64 row pointers); None for dense
    input.
"""

Network = namedtuple("Network", "units activation loss")
Network.__doc__ = """The architecture.

Parameters
----------
units : ndarray of int64, shape (n_layers,)
    ``[n_features, h_1, ..., h_{L-1}, n_outputs]``.
activation : int
    Code of the hidden activation (``_kernels.IDENTITY`` … ``RELU``).
loss : int
    Code of the loss, which fixes the output activation (``_kernels.SQUARED_ERROR`` …).
"""

Regularization = namedtuple(
    "Regularization",
    "l2 l1 wd group max_norm drop_rates mask_shape block_size dropblock_rate dropblock_ramp "
    "spatial_rate dropblock_per_feature feature_weights group_ptr group_rows",
    defaults=(
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        None,
        None,
        np.ones(1, dtype=np.int64),
        0.0,
        0,
        0.0,
        True,
        None,
        None,
        None,
    ),
)
Regularization.__doc__ = """What regularizes a training step.

Parameters
----------
l2, l1, wd, group : float
    The rates of the penalty (:func:`sklearn_reg._penalties.rates`): λ₂ of the gradient
    2λ₂W, λ₁ of the soft-threshold, λ_wd of the decoupled decay, λ_g of the block
    soft-threshold of the first layer's rows.
max_norm : float
    Radius of the max-norm ball of each hidden unit's incoming weights; 0 for none.
drop_rates : ndarray of float64, shape (n_hidden_layers,) or None
    Dropout rate of each hidden layer; None when no layer drops.
mask_shape : ndarray of int64 or None
    ``feature_shape`` of the inputs for DropBlock / spatial dropout; None when neither
    is on.
block_size : ndarray of int64
    DropBlock block edge per axis of ``mask_shape``.
dropblock_rate : float
    DropBlock's target rate.
dropblock_ramp : int
    Epochs over which the rate ramps linearly from 0 to the target (the paper's
    schedule: epoch e trains at rate·min(1, (e + 1) / ramp)); 0 for a constant rate.
spatial_rate : float
    Spatial-dropout rate.
dropblock_per_feature : bool
    Rescale DropBlock's kept inputs per feature by 1 / P(keep) (exact inverted DropBlock)
    rather than per sample by count / count_ones (the paper's normalisation).
feature_weights : ndarray of float64, shape (n_features,) or None
    Weight w_j ≥ 0 of input feature j in the non-smooth penalties of the first layer:
    row j of W₁ is soft-thresholded by λ₁·w_j·η and block soft-thresholded by
    λ_g·w_j (deeper layers unweighted); None for w = 1, whose code is left out.
group_ptr, group_rows : ndarray of int64 or None
    The groups of the first layer's rows that the block soft-threshold shrinks as one
    block, in CSR form: group g holds the rows ``group_rows[group_ptr[g]:group_ptr[g +
    1]]``; None for one group per row, whose code is left out.
"""

Optimizer = namedtuple(
    "Optimizer",
    "solver schedule lr_init power_t momentum nesterov beta_1 beta_2 epsilon batch_size shuffle",
    defaults=(0.001, 0.5, 0.9, True, 0.9, 0.999, 1e-8, 200, True),
)
Optimizer.__doc__ = """The stochastic optimizer and its learning-rate schedule.

Parameters
----------
solver : int
    ``_optim.SGD`` or ``_optim.ADAM``.
schedule : int
    ``_optim.CONSTANT``, ``INVSCALING`` (η = η₀ / (t + 1)^power_t, t the samples seen)
    or ``ADAPTIVE`` (η / 5 at each stall); SGD only, Adam keeps η₀.
lr_init : float
    η₀, ``learning_rate_init``.
power_t : float
    Exponent of 'invscaling'.
momentum : float
    SGD momentum μ.
nesterov : bool
    Nesterov's momentum for SGD.
beta_1, beta_2, epsilon : float
    Adam's decay rates and ε.
batch_size : int
    Rows per mini-batch.
shuffle : bool
    Whether each epoch visits the rows in a fresh random order.
"""

Stopping = namedtuple("Stopping", "tol n_iter_no_change divergence_factor on_training_loss")
Stopping.__doc__ = """The stopping rule and the divergence test of the compiled epoch loop.

Parameters
----------
tol : float
    Least improvement of the training loss that counts.
n_iter_no_change : float
    Epochs without improvement after which training stops ('adaptive' SGD first lowers
    η); may be ``inf``.
divergence_factor : float
    An epoch whose mean training loss exceeds this factor times the scale of the fit
    (``counters[SCALE]``) counts as diverging, as a non-finite one.
on_training_loss : bool
    Whether the loop applies the rule to the training loss itself; False with early
    stopping, whose rule reads validation scores outside the loop.
"""

State = namedtuple("State", "params first_moment second_moment counters")
State.__doc__ = """The training state, updated in place by the kernels.

Parameters
----------
params : ndarray of shape (n_params,)
    The flat parameter vector (weights, then biases).
first_moment : ndarray of shape (n_params,)
    SGD velocity or Adam's first moment.
second_moment : ndarray of shape (n_params,) or (0,)
    Adam's second moment (empty for SGD).
counters : ndarray of float64, shape (N_COUNTERS,)
    The scalars of the state, indexed by the constants below: optimizer steps
    (``STEPS``), the current η (``LR``), epochs without improvement (``STALLED``), the
    best training loss (``BEST_LOSS``), epochs since initialisation (``EPOCHS``, which
    seeds the masks and the DropBlock ramp), samples seen (``SEEN``, scikit-learn's
    ``t_``), the divergence scale (``SCALE``) and the epochs of the current call
    (``ITER``, scikit-learn's ``n_iter_``).
"""

#: indices of :attr:`State.counters`
STEPS, LR, STALLED, BEST_LOSS, EPOCHS, SEEN, SCALE, ITER = range(8)
N_COUNTERS = 8


def kernel_array(a, dtype):
    """``a`` as a C-contiguous writable array of ``dtype``: read-only arrays (joblib's
    memmaps) would make numba compile another specialization of every kernel."""
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def data_record(X, dtype):
    """The :class:`Data` record of ``X`` (dense array or sparse matrix) in ``dtype``."""
    if sp.issparse(X):
        X = X.tocsr()
        return Data(
            None,
            kernel_array(X.data, dtype),
            kernel_array(X.indices, np.int64),
            kernel_array(X.indptr, np.int64),
        )
    return Data(kernel_array(X, dtype))
