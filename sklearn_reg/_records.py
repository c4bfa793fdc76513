"""The named records that carry the kernels' arguments, and the one place that builds them.

numba passes a namedtuple of arrays and scalars as one typed argument, so each kernel
takes a few records (the data, the network, the regularization, the optimizer) rather
than dozens of positional values whose order must match by hand. A field that is
``None`` makes a separate, smaller compilation in which its code is left out: dense
input compiles no CSR code, a fit without dropout no mask code.
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp

Data = namedtuple("Data", "X data indices indptr")
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
Network.__doc__ = """The architecture; built by the estimator's ``_network_record``.

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
    "penalty alpha l1_ratio max_norm drop_rates mask_shape block_size dropblock_rate "
    "spatial_rate dropblock_per_feature",
)
Regularization.__doc__ = """What regularizes a training step; built by the estimator's
``_regularization_record``.

Parameters
----------
penalty : int
    Penalty code (``_penalties.NONE`` … ``GROUP``).
alpha : float
    λ, the penalty strength.
l1_ratio : float
    Share of L1 in the elastic net.
max_norm : float
    Radius of the max-norm ball of each hidden unit's incoming weights; 0 for none.
drop_rates : ndarray of float64, shape (n_hidden_layers,) or None
    Dropout rate of each hidden layer; None when no layer drops.
mask_shape : ndarray of int64 or None
    ``feature_shape`` of the inputs for DropBlock / spatial dropout; None when neither
    is on.
block_size : ndarray of int64
    DropBlock block edge per axis of ``mask_shape``.
dropblock_rate, spatial_rate : float
    DropBlock rate of the current epoch and spatial-dropout rate.
dropblock_per_feature : bool
    Rescale DropBlock's kept inputs per feature by 1 / P(keep) (exact inverted DropBlock)
    rather than per sample by count / count_ones (the paper's normalisation).
"""

Optimizer = namedtuple(
    "Optimizer",
    "solver lr momentum nesterov beta_1 beta_2 epsilon first_moment second_moment "
    "batch_size shuffle",
)
Optimizer.__doc__ = """The stochastic optimizer and its state; built by the estimator's
``_optimizer_record``.

Parameters
----------
solver : int
    ``_optim.SGD`` or ``_optim.ADAM``.
lr : float
    Learning rate η of the epoch (after the schedule).
momentum : float
    SGD momentum μ.
nesterov : bool
    Nesterov's momentum for SGD.
beta_1, beta_2, epsilon : float
    Adam's decay rates and ε.
first_moment : ndarray of shape (n_params,)
    SGD velocity or Adam's first moment, updated in place.
second_moment : ndarray of shape (n_params,) or (0,)
    Adam's second moment, updated in place (empty for SGD).
batch_size : int
    Rows per mini-batch.
shuffle : bool
    Whether each epoch visits the rows in a fresh random order.
"""


def kernel_array(a, dtype):
    """``a`` as a C-contiguous writable array of ``dtype``: read-only arrays (joblib's
    memmaps) would make numba compile another specialization of every kernel."""
    return np.require(a, dtype=dtype, requirements=["C", "W"])


def data_record(X, dtype):
    """The :class:`Data` record of ``X`` (dense array or sparse matrix) in ``dtype``."""
    if sp.issparse(X):
        X = X.tocsr()
        return Data(None, kernel_array(X.data, dtype), kernel_array(X.indices, np.int64),
                    kernel_array(X.indptr, np.int64))
    return Data(kernel_array(X, dtype), None, None, None)
