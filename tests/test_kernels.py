"""Kernel-level correctness: gradients, losses, prediction and compile signatures.

Every compiled kernel of ``sklearn_reg._kernels`` is checked against an independent
numpy / scipy reference: finite differences for the gradients, closed forms for the
losses, a plain numpy forward pass for the predictions.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, softmax, xlogy

from sklearn_reg import _kernels as K
from sklearn_reg._optim import ADAM, CONSTANT, SGD
from sklearn_reg._records import (
    EPOCHS,
    LR,
    N_COUNTERS,
    SCALE,
    STEPS,
    Network,
    Optimizer,
    Regularization,
    State,
    Stopping,
    data_record,
)

ACTIVATIONS = {"identity": K.IDENTITY, "logistic": K.LOGISTIC, "tanh": K.TANH, "relu": K.RELU}
LOSSES = {
    "squared_error": K.SQUARED_ERROR,
    "poisson": K.POISSON,
    "binary_log_loss": K.BINARY_LOG_LOSS,
    "multinomial_log_loss": K.MULTINOMIAL_LOG_LOSS,
}
N_SAMPLES, N_FEATURES, HIDDEN = 7, 5, (4, 3)


# ---------------------------------------------------------------------------
# numpy reference implementation
# ---------------------------------------------------------------------------


def n_outputs_of(loss):
    return 3 if loss == K.MULTINOMIAL_LOG_LOSS else 2


def units_of(n_outputs):
    return np.array([N_FEATURES, *HIDDEN, n_outputs], dtype=np.int64)


def unpack(params, units):
    """[(W_l, b_l)]: weights first (C order, layer by layer), then the biases."""
    layers, w, b = [], 0, int(sum(units[l] * units[l + 1] for l in range(len(units) - 1)))
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        W = params[w : w + fan_in * fan_out].reshape(fan_in, fan_out)
        layers.append((W, params[b : b + fan_out]))
        w += fan_in * fan_out
        b += fan_out
    return layers


def activate_np(z, activation):
    return {
        K.IDENTITY: lambda v: v,
        K.LOGISTIC: expit,
        K.TANH: np.tanh,
        K.RELU: lambda v: np.maximum(v, 0.0),
    }[activation](z)


def forward_np(X, params, units, activation, masks=None):
    """Raw outputs z_L of the network; ``masks[l]`` multiplies hidden layer l + 1."""
    h = X.toarray() if sp.issparse(X) else X
    layers = unpack(params, units)
    for l, (W, b) in enumerate(layers):
        z = h @ W + b
        if l < len(layers) - 1:
            h = activate_np(z, activation)
            if masks is not None and masks[l] is not None:
                h = h * masks[l]
    return z


def sample_losses_np(z, Y, loss):
    """Per-sample losses ℓ_i from raw outputs z, in the textbook closed forms."""
    if loss == K.SQUARED_ERROR:
        return 0.5 * ((z - Y) ** 2).sum(axis=1)
    if loss == K.POISSON:  # half Poisson deviance y·log(y/p) − y + p, p = e^z
        p = np.exp(z)
        return (xlogy(Y, Y / p) - Y + p).sum(axis=1)
    if loss == K.BINARY_LOG_LOSS:  # −[y·log σ(z) + (1 − y)·log(1 − σ(z))]
        return -(Y * log_expit(z) + (1 - Y) * log_expit(-z)).sum(axis=1)
    return -(Y * log_softmax(z, axis=1)).sum(axis=1)  # −Σ y·log softmax(z)


def predictions_np(z, loss):
    return {
        K.SQUARED_ERROR: lambda v: v,
        K.POISSON: np.exp,
        K.BINARY_LOG_LOSS: expit,
        K.MULTINOMIAL_LOG_LOSS: lambda v: softmax(v, axis=1),
    }[loss](z)


def targets(loss, n, n_outputs, rng):
    """Targets valid for the loss: real, counts (with zeros), 0/1, one-hot."""
    if loss == K.SQUARED_ERROR:
        return rng.normal(size=(n, n_outputs))
    if loss == K.POISSON:
        return rng.poisson(1.5, size=(n, n_outputs)).astype(float)
    if loss == K.BINARY_LOG_LOSS:
        Y = (rng.uniform(size=(n, n_outputs)) < 0.5).astype(float)
        Y[0], Y[1] = 0.0, 1.0  # both classes present in every output
        return Y
    return np.eye(n_outputs)[np.arange(n) % n_outputs][rng.permutation(n)]


def problem(loss, seed=0, n=N_SAMPLES, sparse_density=None):
    """(X, Y, sw, params, units) in float64: a tiny network at a random point."""
    rng = np.random.default_rng(seed)
    n_outputs = n_outputs_of(loss)
    units = units_of(n_outputs)
    X = rng.normal(size=(n, N_FEATURES))
    if sparse_density is not None:
        X[rng.uniform(size=X.shape) > sparse_density] = 0.0
    Y = targets(loss, n, n_outputs, rng)
    sw = rng.uniform(0.2, 3.0, size=n)  # non-uniform sample weights
    n_params = K.n_weights_of(units) + int(units[1:].sum())
    params = rng.normal(scale=0.7, size=n_params)
    return X, Y, sw, params, units


def kernel_input(X, dtype):
    """The :class:`Data` record of X: dense C array, or CSR arrays."""
    return data_record(sp.csr_matrix(X) if sp.issparse(X) else X, dtype)


def objective(X, Y, sw, params, units, activation, loss, alpha):
    """(J, ∇J) from ``objective_grad`` in the dtype of ``params``."""
    dtype = params.dtype
    grad = np.full_like(params, np.nan)
    J = K.objective_grad(
        kernel_input(X, dtype),
        np.ascontiguousarray(Y, dtype=dtype),
        np.ascontiguousarray(sw, dtype=dtype),
        params,
        Network(units, activation, loss),
        Regularization(l2=alpha),
        grad,
    )
    return J, grad


def central_differences(f, theta, h=1e-6):
    """∂f/∂θ_k ≈ (f(θ + h·e_k) − f(θ − h·e_k)) / 2h in float64."""
    g = np.empty_like(theta)
    for k in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[k] += h
        down[k] -= h
        g[k] = (f(up) - f(down)) / (2 * h)
    return g


def assert_gradient_close(g, g_ref, rtol):
    """‖g − g_ref‖∞ ≤ rtol·‖g_ref‖∞, and the gradient is not trivially zero."""
    scale = np.abs(g_ref).max()
    assert scale > 1e-3
    err = np.abs(g - g_ref).max()
    assert err <= rtol * scale, f"max error {err:.3g} > {rtol:g} × {scale:.3g}"


# ---------------------------------------------------------------------------
# the full-batch objective and its gradient
# ---------------------------------------------------------------------------

GRADIENT_CASES = pytest.mark.parametrize("loss", list(LOSSES.values()), ids=list(LOSSES))
ACTIVATION_CASES = pytest.mark.parametrize(
    "activation", list(ACTIVATIONS.values()), ids=list(ACTIVATIONS)
)
PENALTY_CASES = pytest.mark.parametrize("alpha", [0.0, 0.3], ids=["none", "l2"])


@GRADIENT_CASES
@ACTIVATION_CASES
@PENALTY_CASES
def test_objective_value_is_weighted_mean_loss_plus_l2(loss, activation, alpha):
    X, Y, sw, params, units = problem(loss)
    J, _ = objective(X, Y, sw, params, units, activation, loss, alpha)
    ell = sample_losses_np(forward_np(X, params, units, activation), Y, loss)
    weights = params[: K.n_weights_of(units)]
    expected = np.sum(sw * ell) / np.sum(sw) + alpha * np.sum(weights**2)
    np.testing.assert_allclose(J, expected, rtol=1e-12)


@GRADIENT_CASES
@ACTIVATION_CASES
@PENALTY_CASES
def test_objective_gradient_matches_finite_differences_float64(loss, activation, alpha):
    X, Y, sw, params, units = problem(loss)
    _, grad = objective(X, Y, sw, params, units, activation, loss, alpha)
    fd = central_differences(
        lambda theta: objective(X, Y, sw, theta, units, activation, loss, alpha)[0], params
    )
    assert_gradient_close(grad, fd, rtol=1e-6)


@GRADIENT_CASES
@ACTIVATION_CASES
@PENALTY_CASES
def test_objective_gradient_matches_finite_differences_float32(loss, activation, alpha):
    X, Y, sw, params, units = problem(loss)
    # the same point in both precisions: float32 values, widened exactly to float64
    X = X.astype(np.float32).astype(np.float64)
    params32 = params.astype(np.float32)
    J32, grad32 = objective(X.astype(np.float32), Y, sw, params32, units, activation, loss, alpha)
    assert grad32.dtype == np.float32
    params64 = params32.astype(np.float64)
    fd = central_differences(
        lambda theta: objective(X, Y, sw, theta, units, activation, loss, alpha)[0], params64
    )
    assert_gradient_close(grad32.astype(np.float64), fd, rtol=1e-4)
    J64, _ = objective(X, Y, sw, params64, units, activation, loss, alpha)
    np.testing.assert_allclose(J32, J64, rtol=1e-5)


@GRADIENT_CASES
@ACTIVATION_CASES
def test_csr_input_gives_the_dense_objective_and_gradient(loss, activation):
    X, Y, sw, params, units = problem(loss, sparse_density=0.5)
    assert 0 < np.count_nonzero(X) < X.size
    Xs = sp.csr_matrix(X)
    J_dense, g_dense = objective(X, Y, sw, params, units, activation, loss, 0.3)
    J_csr, g_csr = objective(Xs, Y, sw, params, units, activation, loss, 0.3)
    np.testing.assert_allclose(J_csr, J_dense, rtol=1e-12)
    np.testing.assert_allclose(g_csr, g_dense, rtol=1e-10, atol=1e-12)
    fd = central_differences(
        lambda theta: objective(Xs, Y, sw, theta, units, activation, loss, 0.3)[0], params
    )
    assert_gradient_close(g_csr, fd, rtol=1e-6)


# ---------------------------------------------------------------------------
# loss_grad with a fixed dropout mask
# ---------------------------------------------------------------------------


def dropout_buffers(units, nb, drop_rates, rng, fill_unused=np.nan):
    """(flat masks, per-layer masks) laid out as ``layer_buffer``: layer 1's (nb, h₁) first.

    Layers with rate p > 0 get 0 or 1/(1 − p) (at least one of each); the others
    are filled with ``fill_unused``, which the kernel must never read.
    """
    hidden = units[1:-1]
    flat = np.full(nb * int(hidden.sum()), fill_unused)
    per_layer, off = [], 0
    for h, p in zip(hidden, drop_rates):
        view = flat[off : off + nb * h].reshape(nb, h)
        off += nb * h
        if p > 0:
            keep = rng.uniform(size=(nb, h)) >= p
            keep.flat[0], keep.flat[1] = False, True
            view[:] = np.where(keep, 1.0 / (1.0 - p), 0.0)
            per_layer.append(view.copy())
        else:
            per_layer.append(None)
    return flat, per_layer


def batch_loss_grad(X, Y, sw, params, units, activation, loss, masks, drop_rates):
    """(Σ s_i·ℓ_i, grad) from ``loss_grad`` on the whole data as one batch."""
    nb = Y.shape[0]
    n_hidden_units = nb * int(units[1:-1].sum())
    grad = np.full_like(params, np.nan)
    total = K.loss_grad(
        kernel_input(X, params.dtype),
        np.arange(nb),
        Y,
        sw,
        params,
        Network(units, activation, loss),
        np.asarray(drop_rates, dtype=np.float64),
        masks,
        (np.empty(n_hidden_units), np.empty(n_hidden_units), np.empty(Y.size)),
        grad,
    )
    return total, grad


DROP_CASES = pytest.mark.parametrize(
    "drop_rates", [(0.5, 0.0), (0.0, 0.3), (0.5, 0.25)], ids=["layer1", "layer2", "both"]
)


@DROP_CASES
@ACTIVATION_CASES
@pytest.mark.parametrize(
    "loss", [K.SQUARED_ERROR, K.MULTINOMIAL_LOG_LOSS], ids=["squared_error", "multinomial_log_loss"]
)
def test_loss_grad_with_fixed_dropout_mask_matches_finite_differences(drop_rates, activation, loss):
    X, Y, sw, params, units = problem(loss, seed=1)
    masks, per_layer = dropout_buffers(units, Y.shape[0], drop_rates, np.random.default_rng(2))
    total, grad = batch_loss_grad(X, Y, sw, params, units, activation, loss, masks, drop_rates)

    ell = sample_losses_np(forward_np(X, params, units, activation, per_layer), Y, loss)
    np.testing.assert_allclose(total, np.sum(sw * ell), rtol=1e-12)
    fd = central_differences(
        lambda theta: (
            batch_loss_grad(X, Y, sw, theta, units, activation, loss, masks, drop_rates)[0]
            / sw.sum()
        ),
        params,
    )
    assert_gradient_close(grad, fd, rtol=1e-6)


@ACTIVATION_CASES
def test_loss_grad_without_dropout_ignores_the_mask_buffer_and_equals_objective(activation):
    loss = K.BINARY_LOG_LOSS
    X, Y, sw, params, units = problem(loss, seed=3)
    masks, _ = dropout_buffers(units, Y.shape[0], (0.0, 0.0), None, fill_unused=np.nan)
    total, grad = batch_loss_grad(X, Y, sw, params, units, activation, loss, masks, (0.0, 0.0))
    J, g_objective = objective(X, Y, sw, params, units, activation, loss, 0.0)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(total / sw.sum(), J, rtol=1e-12)
    np.testing.assert_allclose(grad, g_objective, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# output losses and activations
# ---------------------------------------------------------------------------


@GRADIENT_CASES
def test_output_loss_equals_closed_form_and_writes_predictions(loss):
    rng = np.random.default_rng(4)
    n_outputs = n_outputs_of(loss)
    z = rng.normal(scale=2.0, size=(N_SAMPLES, n_outputs))
    Y = targets(loss, N_SAMPLES, n_outputs, rng)
    sw = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    out = z.copy()
    total = K.output_loss(out, Y, sw, loss)
    np.testing.assert_allclose(total, np.sum(sw * sample_losses_np(z, Y, loss)), rtol=1e-12)
    np.testing.assert_allclose(out, predictions_np(z, loss), rtol=1e-12)


@GRADIENT_CASES
def test_output_activation_agrees_with_output_loss_predictions(loss):
    rng = np.random.default_rng(5)
    z = rng.normal(scale=2.0, size=(N_SAMPLES, n_outputs_of(loss)))
    Y = targets(loss, N_SAMPLES, z.shape[1], rng)
    from_loss, from_activation = z.copy(), z.copy()
    K.output_loss(from_loss, Y, np.ones(N_SAMPLES), loss)
    K.output_activation(from_activation, loss)
    np.testing.assert_allclose(from_activation, from_loss, rtol=1e-14)
    if loss == K.MULTINOMIAL_LOG_LOSS:
        np.testing.assert_allclose(from_activation.sum(axis=1), 1.0, rtol=1e-14)


def test_binary_log_loss_is_finite_and_exact_for_huge_logits():
    z = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    sw = np.ones(4)
    out = z.copy()
    total = K.output_loss(out, Y, sw, K.BINARY_LOG_LOSS)
    # the two wrong-sided samples each cost |z|, the right-sided ones nothing
    assert np.isfinite(total)
    np.testing.assert_allclose(total, np.sum(sample_losses_np(z, Y, K.BINARY_LOG_LOSS)))
    np.testing.assert_allclose(total, 2000.0)
    np.testing.assert_array_equal(out.ravel(), [1.0, 0.0, 1.0, 0.0])


def test_multinomial_log_loss_is_finite_for_huge_logits():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    Y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    out = z.copy()
    total = K.output_loss(out, Y, np.ones(2), K.MULTINOMIAL_LOG_LOSS)
    assert np.isfinite(total)
    np.testing.assert_allclose(total, np.sum(sample_losses_np(z, Y, K.MULTINOMIAL_LOG_LOSS)))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


# ---------------------------------------------------------------------------
# prediction
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n_samples", [0, 1, K.PREDICT_CHUNK + 37], ids=["empty", "one", "more_than_a_chunk"]
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_raw_equals_numpy_forward_pass(n_samples, sparse, dtype):
    X, _, _, params, units = problem(K.SQUARED_ERROR, seed=6, n=n_samples, sparse_density=0.6)
    X = X.astype(dtype).astype(np.float64)
    params = params.astype(dtype)
    out = np.full((n_samples, units[-1]), np.nan, dtype=dtype)
    X_in = sp.csr_matrix(X) if sparse else X
    K.predict_raw(kernel_input(X_in, dtype), params, Network(units, K.TANH, K.SQUARED_ERROR), out)
    expected = forward_np(X, params.astype(np.float64), units, K.TANH)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------
# the fused training epoch
# ---------------------------------------------------------------------------


def run_epoch(X, Y, sw, params, units, **overrides):
    """(params after one epoch of ``train``, (mean data loss, optimizer steps, status));
    keywords override the defaults of the records."""
    dtype = params.dtype
    n_features = int(units[0])
    kw = dict(
        activation=K.TANH,
        loss=K.SQUARED_ERROR,
        drop_rates=None,
        mask_shape=None,
        dropblock_rate=0.0,
        spatial_rate=0.0,
        dropblock_per_feature=False,
        solver=SGD,
        schedule=CONSTANT,
        lr=0.1,
        momentum=0.0,
        nesterov=False,
        batch_size=Y.shape[0],
        shuffle=False,
        seed=0,
        epoch=0,
    )
    kw.update(overrides)
    if kw["mask_shape"] is None and (kw["dropblock_rate"] or kw["spatial_rate"]):
        kw["mask_shape"] = np.array([n_features], dtype=np.int64)
    params = params.copy()
    counters = np.zeros(N_COUNTERS)
    counters[[LR, EPOCHS, SCALE]] = kw.pop("lr"), kw.pop("epoch"), np.inf
    state = State(
        params,
        np.zeros_like(params),
        np.zeros_like(params if kw["solver"] == ADAM else params[:0]),
        counters,
    )
    network = Network(units, kw.pop("activation"), kw.pop("loss"))
    regularization = Regularization(**{k: kw.pop(k) for k in Regularization._fields if k in kw})
    optimizer = Optimizer(**{k: kw.pop(k) for k in Optimizer._fields if k in kw})
    stopping = Stopping(0.0, np.inf, np.inf, False)
    n_done, status, data_loss = K.train(
        kernel_input(X, dtype),
        np.ascontiguousarray(Y, dtype=dtype),
        np.ascontiguousarray(sw, dtype=dtype),
        state,
        network,
        regularization,
        optimizer,
        stopping,
        kw.pop("seed"),
        np.empty(1),
    )
    assert not kw, kw
    assert n_done == 1 and status == K.GOING
    return params, (data_loss, counters[STEPS])


@pytest.mark.parametrize("alpha", [0.0, 0.3], ids=["none", "l2"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_full_batch_sgd_epoch_is_one_gradient_step_on_the_objective(alpha, sparse):
    X, Y, sw, params, units = problem(K.SQUARED_ERROR, seed=7, sparse_density=0.6)
    X_in = sp.csr_matrix(X) if sparse else X
    J, grad = objective(X, Y, sw, params, units, K.TANH, K.SQUARED_ERROR, alpha)
    lr = 0.1
    new, (data_loss, steps) = run_epoch(X_in, Y, sw, params, units, l2=alpha, lr=lr)
    np.testing.assert_allclose(new, params - lr * grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        data_loss, J - alpha * np.sum(params[: K.n_weights_of(units)] ** 2), rtol=1e-12
    )
    assert steps == 1


INPUT_MASKS = {  # feature_shape, block, dropblock rate, spatial rate
    "no_input_mask": ([N_FEATURES], [1], 0.0, 0.0),
    "dropblock": ([N_FEATURES], [2], 0.3, 0.0),
    "spatial_dropout": ([N_FEATURES, 1], [1, 1], 0.0, 0.4),
}


@pytest.mark.parametrize("masks", list(INPUT_MASKS.values()), ids=list(INPUT_MASKS))
@pytest.mark.parametrize("solver", [SGD, ADAM], ids=["sgd", "adam"])
def test_train_epoch_on_csr_input_equals_dense_input(masks, solver):
    X, Y, sw, params, units = problem(K.MULTINOMIAL_LOG_LOSS, seed=8, n=11, sparse_density=0.5)
    shape, block, dropblock_rate, spatial_rate = masks
    config = dict(
        loss=K.MULTINOMIAL_LOG_LOSS,
        activation=K.RELU,
        l1=0.01,  # the L1 prox
        drop_rates=np.array([0.3, 0.2]),
        mask_shape=np.array(shape, dtype=np.int64),
        block_size=np.array(block, dtype=np.int64),
        dropblock_rate=dropblock_rate,
        spatial_rate=spatial_rate,
        solver=solver,
        lr=0.05,
        momentum=0.9,
        batch_size=3,
        shuffle=True,
        seed=42,
        epoch=3,
    )
    dense, (dense_loss, dense_t) = run_epoch(X, Y, sw, params, units, **config)
    csr, (csr_loss, csr_t) = run_epoch(sp.csr_matrix(X), Y, sw, params, units, **config)
    assert dense_t == csr_t == 4  # ⌈11 / 3⌉ optimizer steps
    assert not np.allclose(dense, params)
    np.testing.assert_allclose(csr, dense, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(csr_loss, dense_loss, rtol=1e-12)


# ---------------------------------------------------------------------------
# compile-signature economy
# ---------------------------------------------------------------------------

# Run in a fresh interpreter: the dispatchers' ``signatures`` are per process, and other
# test modules (scikit-learn's estimator checks) may already have compiled variants.
SIGNATURE_SCRIPT = textwrap.dedent(
    """
    import json, warnings
    import numpy as np, scipy.sparse as sp
    from numba.core import types
    from sklearn_reg import _kernels as K, RegularizedMLPClassifier, RegularizedMLPRegressor
    from sklearn_reg._optim import ADAM, SGD
    from sklearn_reg._records import (N_COUNTERS, Network, Optimizer, Regularization, State,
                                      Stopping, data_record)

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 6))
    X[rng.uniform(size=X.shape) < 0.5] = 0.0
    y = rng.normal(size=12)

    def kind(data_type):  # the Data record's numba type: (dtype, input kind)
        X, data = data_type.types[0], data_type.types[1]
        dense = not isinstance(X, types.NoneType)
        return str((X if dense else data).dtype), "dense" if dense else "csr"

    def snapshot():
        names = ["train", "objective_grad", "predict_raw"]
        return {n: [[*kind(s[0]), str(s)] for s in getattr(K, n).signatures] for n in names}

    # the epoch kernel called directly over many codes, dense and CSR
    units = np.array([6, 4, 3, 2], dtype=np.int64)
    configs = [  # activation, loss, rates, solver, dropout, dropblock, spatial, max-norm
        (K.IDENTITY, K.SQUARED_ERROR, (0, 0, 0, 0), SGD, 0.0, 0.0, 0.0, 0.0),
        (K.LOGISTIC, K.POISSON, (1e-3, 0, 0, 0), ADAM, 0.2, 0.3, 0.0, 1.0),
        (K.TANH, K.BINARY_LOG_LOSS, (0, 1e-3, 0, 0), SGD, 0.0, 0.0, 0.4, 0.0),
        (K.RELU, K.MULTINOMIAL_LOG_LOSS, (0, 0, 1e-3, 0), ADAM, 0.5, 0.2, 0.2, 2.0),
        (K.TANH, K.SQUARED_ERROR, (1e-3, 1e-3, 0, 0), SGD, 0.1, 0.0, 0.0, 0.0),
        (K.RELU, K.SQUARED_ERROR, (0, 0, 0, 1e-3), ADAM, 0.0, 0.1, 0.0, 0.5),
        (K.RELU, K.BINARY_LOG_LOSS, (0, 1e-3, 0, 1e-3), SGD, 0.0, 0.0, 0.0, 0.0),
        (K.IDENTITY, K.POISSON, (0, 1e-3, 0, 0), ADAM, 0.3, 0.0, 0.0, 3.0),
    ]
    for dtype in (np.float64, np.float32):
        for Xin in (X, sp.csr_matrix(X)):
            for act, loss, rates, solver, p, dropblock, spatial, max_norm in configs:
                Y = np.zeros((12, 2), dtype=dtype)
                Y[np.arange(12), np.arange(12) % 2] = 1.0
                params = (rng.normal(size=K.n_weights_of(units) + 9) * 0.3).astype(dtype)
                masked = dropblock > 0 or spatial > 0
                reg = Regularization(
                    *map(float, rates), max_norm=max_norm,
                    drop_rates=np.array([p, p]) if p else None,
                    mask_shape=np.array([2, 3], dtype=np.int64) if masked else None,
                    block_size=np.array([1, 2], dtype=np.int64), dropblock_rate=dropblock,
                    dropblock_ramp=int(10 * dropblock), spatial_rate=spatial,
                    dropblock_per_feature=bool(int(1e3 * sum(rates)) % 2))
                opt = Optimizer(solver=solver, schedule=int(max_norm) % 3, batch_size=5)
                state = State(params, np.zeros_like(params),
                              np.zeros_like(params if solver == ADAM else params[:0]),
                              np.zeros(N_COUNTERS))
                K.train(data_record(Xin, dtype), Y, np.ones(12, dtype=dtype), state,
                        Network(units, act, loss), reg, opt, Stopping(1e-4, 10.0, 1e4, True),
                        7, np.empty(2))

    # and through the estimators, as users reach them
    fits = [
        (RegularizedMLPRegressor, dict(solver="sgd", penalty="wd")),
        (RegularizedMLPRegressor, dict(solver="adam", penalty="l1", dropout=0.2)),
        (RegularizedMLPRegressor, dict(solver="adam", penalty="group", early_stopping=True)),
        (RegularizedMLPRegressor, dict(solver="adam", dropblock=0.2, block_size=2,
                                       feature_shape=(2, 3))),
        (RegularizedMLPRegressor, dict(solver="lbfgs", penalty="l2")),
        (RegularizedMLPClassifier, dict(solver="adam", penalty="elasticnet",
                                        spatial_dropout=0.3, feature_shape=(2, 3))),
        (RegularizedMLPClassifier, dict(solver="sgd", max_norm=1.0, dropout=0.1)),
        (RegularizedMLPClassifier, dict(solver="lbfgs", penalty=None)),
    ]
    for dtype in (np.float64, np.float32):
        for Xin in (X.astype(dtype), sp.csr_matrix(X.astype(dtype))):
            for Est, kw in fits:
                target = y > 0 if Est is RegularizedMLPClassifier else y
                Est(hidden_layer_sizes=(3,), max_iter=3, random_state=0, **kw).fit(
                    Xin, target).predict(Xin)
    writable = snapshot()

    # read-only inputs (joblib memmaps under GridSearchCV(n_jobs>1), Dask, ...)
    X_ro, y_ro = X.copy(), y.copy()
    X_ro.setflags(write=False)
    y_ro.setflags(write=False)
    for dtype in (np.float64, np.float32):
        Xd = X_ro.astype(dtype)
        Xd.setflags(write=False)
        RegularizedMLPRegressor(hidden_layer_sizes=(3,), max_iter=3, solver="sgd").fit(
            Xd, y_ro).predict(Xd)
        RegularizedMLPRegressor(hidden_layer_sizes=(3,), max_iter=3, solver="lbfgs").fit(Xd, y_ro)
    print(json.dumps({"writable": writable, "readonly": snapshot()}))
    """
)


@pytest.fixture(scope="module")
def signatures():
    """Dispatcher signatures after exercising the kernels in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", SIGNATURE_SCRIPT], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _count(sigs):
    """Number of compiled signatures per (dtype, input kind)."""
    counts = {}
    for dtype, kind, _ in sigs:
        counts[dtype, kind] = counts.get((dtype, kind), 0) + 1
    return counts


KINDS = {(d, k) for d in ("float32", "float64") for k in ("dense", "csr")}


def test_train_signature_once_per_dtype_input_kind_and_mask_family(signatures):
    # every activation, loss, penalty, solver and max-norm shares one compilation; only
    # the dtype, dense / CSR input and whether dropout / input masks are on make another
    # (so a fit compiles none of the mask or CSR code it does not use): 2 × 2 × 2 × 2
    counts = _count(signatures["writable"]["train"])
    assert set(counts) == KINDS
    assert all(n == 4 for n in counts.values()), signatures["writable"]["train"]


@pytest.mark.parametrize("kernel", ["objective_grad", "predict_raw"])
def test_one_compiled_signature_per_dtype_and_input_kind(signatures, kernel):
    counts = _count(signatures["writable"][kernel])
    assert counts == {kind: 1 for kind in KINDS}, signatures["writable"][kernel]


@pytest.mark.parametrize("kernel", ["train", "objective_grad", "predict_raw"])
def test_read_only_input_reuses_the_compiled_signature(signatures, kernel):
    # read-only arrays are a distinct numba type: passed through they would compile
    # (and cache) another specialization of every kernel per read-only argument
    assert _count(signatures["readonly"][kernel]) == _count(signatures["writable"][kernel])
