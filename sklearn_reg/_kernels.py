"""Compiled kernels: activations, losses, forward / backward, the training epoch, prediction.

Everything here is plain numba on numpy arrays, integer codes and the named records of
:mod:`sklearn_reg._records`, so that one compiled function serves every activation,
loss, penalty and solver of a dtype. The kernels know nothing of estimators.

Parameter layout. All parameters live in one flat vector ``params``: first every
weight matrix ``W_l`` of shape ``(units[l], units[l + 1])`` in C order, then every
bias ``b_l``. The weights are thus ``params[:n_weights]``, which is all that the
penalties touch. ``units = [n_features, h_1, ..., h_{L-1}, n_outputs]``. The hidden
layers of a batch of nb rows live in flat buffers, layer l ≥ 1 as an (nb, units[l])
block after those of the layers before it.

Optional parts. The record fields that may be ``None`` (``X`` or the CSR arrays, the
dropout rates, the input-mask layout) are passed as direct arguments to the small
functions that branch on them, each code path guarded by ``is not None`` of the
argument it reads: numba prunes a branch whose condition tests an argument typed
``None`` (and only such a branch), so a dense fit without masks compiles no CSR and no
mask code. Exactly one of ``X`` and ``data`` is ``None``.

The training loop. :func:`train` runs many epochs per call without the GIL: each
epoch (:func:`train_epoch`: shuffle, gather, masks, forward, loss, backward, optimizer
step, prox), its loss, the learning-rate schedule, the stopping rule (:func:`stall`)
and the divergence test, which undoes a diverged epoch; the state it updates is a
:class:`~sklearn_reg._records.State` record.

Compile time. numba compiles every called function as a library of its own, then links
its optimized code into each caller and optimizes and emits the whole again, level after
level. So the call tree is kept shallow: the large stages (the epoch, the forward and
backward passes, the optimizer step) are inlined into their callers at numba's IR level
(:func:`~sklearn_reg._jit.inlined`), one forward pass serves training and prediction,
the tiny helpers (views, fills, copies) are loops written in place, and the functions
that only compiled code calls are helpers (:func:`~sklearn_reg._jit.helper`), built
without the Python and C entry points of a :func:`~sklearn_reg._jit.jit` kernel.
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

from ._exp import exp
from ._jit import helper, inlined, jit
from ._masks import dropblock_mask, dropout_mask, permute, seed_state, spatial_dropout_mask
from ._optim import (
    ADAM,
    ADAPTIVE,
    ADAPTIVE_DIVISOR,
    MIN_ADAPTIVE_LR,
    SGD,
    adam_step,
    learning_rate,
    sgd_step,
)
from ._penalties import l2_gradient, max_norm_project, penalty_term, prox
from ._records import BEST_LOSS, EPOCHS, ITER, LR, SCALE, SEEN, STALLED, STEPS, State

# activation codes (hidden layers)
IDENTITY, LOGISTIC, TANH, RELU = 0, 1, 2, 3
# loss codes; each fixes its canonical output activation, so ∂loss/∂z = p − y
SQUARED_ERROR, POISSON, BINARY_LOG_LOSS, MULTINOMIAL_LOG_LOSS = 0, 1, 2, 3

# outcomes of the stopping rule and of :func:`train`
GOING, LOWERED, STOPPED, DIVERGED = 0, 1, 2, 3

#: rows per chunk in :func:`predict_raw`, bounding its memory
PREDICT_CHUNK = 4096


# ---------------------------------------------------------------------------
# matrix products
# ---------------------------------------------------------------------------

_BLAS_KIND = {types.float64: "d", types.float32: "s"}


@intrinsic
def gemm(typingctx, a, b, c, trans_a, trans_b):
    """c ← op(a)·op(b) with op(x) = xᵀ where ``trans_x``: BLAS gemm on C-contiguous 2-D arrays.

    The product ``np.dot(a, b, c)`` computes, but emitted in place through numba's own
    BLAS wrapper (``numba_xxgemm``, as ``np.dot`` uses it): no function of its own is
    compiled for each combination of array layouts, so the four products of a layer
    cost no compilation. Row-major c = op(a)·op(b) is computed as the column-major
    cᵀ = op(b)ᵀ·op(a)ᵀ; an empty inner dimension gives zeros; mismatched shapes raise
    a ValueError.
    """
    arrays = (a, b, c)
    if not all(isinstance(x, types.Array) and x.ndim == 2 and x.layout == "C" for x in arrays):
        return None
    if not (a.dtype == b.dtype == c.dtype and a.dtype in _BLAS_KIND):
        return None

    def codegen(context, builder, signature, args):
        from numba.np.linalg import ensure_blas

        ensure_blas()
        A, B, C = (
            context.make_array(t)(context, builder, v) for t, v in zip(signature.args[:3], args[:3])
        )
        ta, tb = args[3], args[4]
        rows_a, cols_a = cgutils.unpack_tuple(builder, A.shape, 2)
        rows_b, cols_b = cgutils.unpack_tuple(builder, B.shape, 2)
        rows_c, cols_c = cgutils.unpack_tuple(builder, C.shape, 2)
        m = builder.select(ta, cols_a, rows_a)
        k = builder.select(ta, rows_a, cols_a)
        n = builder.select(tb, rows_b, cols_b)
        mismatch = builder.or_(
            builder.icmp_signed("!=", k, builder.select(tb, cols_b, rows_b)),
            builder.or_(builder.icmp_signed("!=", m, rows_c), builder.icmp_signed("!=", n, cols_c)),
        )
        with builder.if_then(mismatch, likely=False):
            context.call_conv.return_user_exc(
                builder, ValueError, ("incompatible array shapes for gemm",)
            )
        char = ir.IntType(8)
        intp = context.get_value_type(types.intp)
        voidp = cgutils.voidptr_t
        T, N = ir.Constant(char, ord("t")), ir.Constant(char, ord("n"))
        fnty = ir.FunctionType(
            ir.IntType(32),
            [
                char,
                char,
                char,
                intp,
                intp,
                intp,
                voidp,
                voidp,
                intp,
                voidp,
                intp,
                voidp,
                voidp,
                intp,
            ],
        )
        xxgemm = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        dtype = signature.args[0].dtype
        alpha = cgutils.alloca_once_value(builder, context.get_constant(dtype, 1.0))
        beta = cgutils.alloca_once_value(builder, context.get_constant(dtype, 0.0))
        zero = ir.Constant(intp, 0)
        nonempty = builder.and_(
            builder.icmp_signed(">", m, zero), builder.icmp_signed(">", n, zero)
        )
        with (
            builder.if_then(nonempty),
            builder.if_else(builder.icmp_signed(">", k, zero)) as (product, empty),
        ):
            with product:
                status = builder.call(
                    xxgemm,
                    (
                        ir.Constant(char, ord(_BLAS_KIND[dtype])),
                        builder.select(tb, T, N),
                        builder.select(ta, T, N),
                        n,
                        m,
                        k,
                        builder.bitcast(alpha, voidp),
                        builder.bitcast(B.data, voidp),
                        cols_b,
                        builder.bitcast(A.data, voidp),
                        cols_a,
                        builder.bitcast(beta, voidp),
                        builder.bitcast(C.data, voidp),
                        n,
                    ),
                )
                with builder.if_then(cgutils.is_not_null(builder, status), likely=False):
                    pyapi = context.get_python_api(builder)  # as np.dot does
                    pyapi.gil_ensure()
                    pyapi.fatal_error("BLAS wrapper returned with an error")
            with empty:  # a sum over nothing
                cgutils.memset(builder, C.data, builder.mul(C.itemsize, C.nitems), 0)
        return context.get_dummy_value()

    return types.none(a, b, c, trans_a, trans_b), codegen


if config.DISABLE_JIT:  # the kernels as plain Python (line coverage): the same product

    def gemm(a, b, c, trans_a, trans_b):  # noqa: F811
        """c ← op(a)·op(b), as the intrinsic computes it."""
        np.dot(a.T if trans_a else a, b.T if trans_b else b, out=c)


# ---------------------------------------------------------------------------
# activations and losses
# ---------------------------------------------------------------------------


@helper
def activate(z, b, activation):
    """h = f(z + b) in place, b added to every row: identity, 1 / (1 + e^−x), tanh x, max(x, 0)."""
    for r in range(z.shape[0]):
        h = z[r]  # one loop per activation, so that each vectorizes
        if activation == RELU:
            for c in range(h.shape[0]):
                x = h[c] + b[c]
                h[c] = 0.0 if x < 0.0 else x  # noqa: FURB136 (max(x, 0), NaN kept)
        elif activation == LOGISTIC:
            for c in range(h.shape[0]):
                h[c] = 1.0 / (1.0 + exp(-(h[c] + b[c])))
        elif activation == TANH:  # sign(x)·(1 − e^−2|x|) / (1 + e^−2|x|): 4× libm's tanh
            for c in range(h.shape[0]):
                x = h[c] + b[c]
                e = exp(-2.0 * abs(x))
                h[c] = np.sign(x) * ((1.0 - e) / (1.0 + e))
        else:
            for c in range(h.shape[0]):
                h[c] += b[c]


@helper
def backprop_activation(d, h, m, dropped, activation):
    """δ ← δ·m·f'(z) with f'(z) from h = f(z) = a / m: 1, h(1 − h), 1 − h², 1[h > 0].

    Flat views of one layer: ``h`` is its output after its dropout mask m (m = 1 when
    not ``dropped``); where m = 0 the gradient is 0 whatever f'.
    """
    if dropped:
        for i in range(d.shape[0]):
            d[i] *= m[i]
    if activation == RELU:  # h > 0 ⇔ a > 0 where m > 0
        for i in range(d.shape[0]):
            d[i] = d[i] if h[i] > 0.0 else 0.0
    elif activation == LOGISTIC or activation == TANH:
        for i in range(d.shape[0]):
            x = h[i]
            if dropped:
                x = x / m[i] if m[i] != 0.0 else 0.0
            d[i] *= x * (1.0 - x) if activation == LOGISTIC else 1.0 - x * x


@helper
def link_row(z, loss):
    """z ← p = ∇A(z) in place; returns A(z), the log-partition of the canonical link.

    A(z) = ½‖z‖² (p = z), Σ_k e^z (p = e^z), Σ_k softplus(z) (p = σ(z)), logsumexp(z)
    (p = softmax(z)): one exponential per output.
    """
    a = 0.0
    if loss == MULTINOMIAL_LOG_LOSS:
        zmax = z[0]
        for c in range(1, z.shape[0]):
            zmax = z[c] if z[c] > zmax else zmax  # noqa: FURB136
        s = 0.0
        for c in range(z.shape[0]):
            z[c] = np.exp(z[c] - zmax)
            s += z[c]
        inv = 1.0 / s
        for c in range(z.shape[0]):
            z[c] *= inv
        a = zmax + np.log(s)
    else:
        for c in range(z.shape[0]):
            x = z[c]
            if loss == SQUARED_ERROR:
                a += 0.5 * x * x
            elif loss == POISSON:
                z[c] = np.exp(x)
                a += z[c]
            else:  # BINARY_LOG_LOSS: e = e^−|x|, softplus(x) = max(x, 0) + log1p(e)
                e = np.exp(-abs(x))
                z[c] = 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
                a += (x if x > 0.0 else 0.0) + np.log1p(e)  # noqa: FURB136
    return a


@jit
def output_activation(z, loss):
    """p = g(z) in place, the output activation (∇A) that ``loss`` pairs with."""
    if loss != SQUARED_ERROR:
        for r in range(z.shape[0]):
            link_row(z[r], loss)


@jit
def output_loss(z, y, sw, loss):
    """Σ_i s_i·ℓ(y_i, z_i), then turns raw outputs z into predictions p = ∇A(z) in place.

    Each loss is canonical, ℓ = A(z) − y·z + c(y): c = ½‖y‖² (squared error),
    Σ_k y·log y − y (Poisson, the half deviance), 0 (log losses); so ∂ℓ/∂z = p − y.
    """
    total = 0.0
    for r in range(z.shape[0]):
        row = 0.0
        for c in range(z.shape[1]):
            t = y[r, c]
            row -= t * z[r, c]
            if loss == SQUARED_ERROR:
                row += 0.5 * t * t
            elif loss == POISSON and t > 0.0:
                row += t * np.log(t) - t
        total += sw[r] * (row + link_row(z[r], loss))
    return total


@helper
def output_delta(p, y, sw):
    """p ← δ_L = s_i·(p_i − y_i) / Σ s, the gradient of the mean loss in the raw outputs;
    returns Σ s."""
    sw_sum = 0.0
    for r in range(sw.shape[0]):
        sw_sum += sw[r]
    inv = 1.0 / sw_sum if sw_sum > 0.0 else 0.0
    for r in range(p.shape[0]):
        s = sw[r] * inv
        for c in range(p.shape[1]):
            p[r, c] = s * (p[r, c] - y[r, c])
    return sw_sum


# ---------------------------------------------------------------------------
# the network: forward, backward, on views into the flat buffers
# ---------------------------------------------------------------------------


@jit
def n_weights_of(units):
    """Σ_l units[l]·units[l + 1], the number of weights (the penalised parameters)."""
    n = 0
    for l in range(units.shape[0] - 1):
        n += units[l] * units[l + 1]
    return n


@helper
def layer_dropped(drop_rates, l):
    """Whether hidden layer l + 1 (0-based rate index l) is dropped out; never if no rates."""
    if drop_rates is None:
        return False
    return drop_rates[l] > 0.0


@helper
def dense_rows(X, start, stop, empty):
    """X[start:stop], the dense rows of a batch; ``empty`` (no columns: CSR rows are read in
    place) when X is None."""
    if X is not None:
        return X[start:stop]
    return empty


@helper
def first_layer_forward(xb, data, indices, indptr, rows, W, z):
    """z = x·W for the batch: its dense rows ``xb``, or, when ``xb`` has no columns, the CSR
    rows ``rows`` of (data, indices, indptr) read in place."""
    if data is not None:
        if xb.shape[1] == 0:
            for r in range(z.shape[0]):
                i = rows[r]
                zr = z[r]
                for c in range(zr.shape[0]):
                    zr[c] = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    v = data[k]
                    Wj = W[indices[k]]
                    for c in range(zr.shape[0]):
                        zr[c] += v * Wj[c]
            return
    gemm(xb, W, z, False, False)


@helper
def first_layer_gradient(xb, data, indices, indptr, rows, delta, gW):
    """∂J/∂W₁ = xᵀ·δ₁ for the batch, read as :func:`first_layer_forward` reads it (a
    scatter over the non-zeros for CSR rows read in place)."""
    if data is not None:
        if xb.shape[1] == 0:
            for j in range(gW.shape[0]):
                for c in range(gW.shape[1]):
                    gW[j, c] = 0.0
            for r in range(delta.shape[0]):
                i = rows[r]
                for k in range(indptr[i], indptr[i + 1]):
                    v = data[k]
                    gj = gW[indices[k]]
                    for c in range(delta.shape[1]):
                        gj[c] += v * delta[r, c]
            return
    gemm(xb, delta, gW, True, False)


@inlined
def forward(xb, data, rows, params, network, drop_rates, masks, acts, out):
    """h_l = f(h_{l−1}·W_l + b_l)·m_l into ``acts``, and z_L = h_{L−1}·W_L + b_L into ``out``.

    The batch is its dense rows ``xb``, or, when ``xb`` has no columns, the rows ``rows``
    of the CSR input record ``data``. Hidden layer l (1-based) is multiplied by its dropout mask
    in ``masks`` where drop_rates[l − 1] > 0. Training and prediction share this one
    compilation.
    """
    units = network.units
    nb = out.shape[0]
    L = units.shape[0] - 1
    w = 0  # offsets of W_l and b_l in params, of h_{l+1} in acts
    b = 0
    for l in range(L):
        b += units[l] * units[l + 1]
    a = 0
    for l in range(L):
        n_in, n_out = units[l], units[l + 1]
        W = params[w : w + n_in * n_out].reshape((n_in, n_out))
        bias = params[b : b + n_out]
        last = l == L - 1
        z = out if last else acts[a : a + nb * n_out].reshape((nb, n_out))
        if l == 0:
            first_layer_forward(xb, data.data, data.indices, data.indptr, rows, W, z)
        else:
            gemm(acts[a - nb * n_in : a].reshape((nb, n_in)), W, z, False, False)
        activate(z, bias, IDENTITY if last else network.activation)
        if not last:
            if layer_dropped(drop_rates, l):
                h = acts[a : a + nb * n_out]
                m = masks[a : a + nb * n_out]
                for i in range(h.shape[0]):
                    h[i] *= m[i]
            a += nb * n_out
        w += n_in * n_out
        b += n_out


@inlined
def backward(xb, data, rows, params, network, drop_rates, masks, acts, deltas, delta, grad):
    """grad ← ∇_θ by backpropagation of δ_L = ``delta`` (overwritten) through the layers
    that :func:`forward` left in ``acts``; ``deltas`` is a scratch buffer shaped as it."""
    units = network.units
    nb = delta.shape[0]
    L = units.shape[0] - 1
    w = 0  # ends of W_l and b_l in params, of h_l in acts
    b = 0
    a = 0
    for l in range(L):
        w += units[l] * units[l + 1]
        b += units[l + 1]
        if l > 0:
            a += nb * units[l]
    b += w
    for l in range(L - 1, -1, -1):
        n_in, n_out = units[l], units[l + 1]
        w -= n_in * n_out
        b -= n_out
        W = params[w : w + n_in * n_out].reshape((n_in, n_out))
        gW = grad[w : w + n_in * n_out].reshape((n_in, n_out))
        gb = grad[b : b + n_out]
        for c in range(n_out):
            gb[c] = 0.0
        for r in range(nb):
            for c in range(n_out):
                gb[c] += delta[r, c]
        if l == 0:
            first_layer_gradient(xb, data.data, data.indices, data.indptr, rows, delta, gW)
            break
        a -= nb * n_in
        h = acts[a : a + nb * n_in]
        gemm(h.reshape((nb, n_in)), delta, gW, True, False)  # hᵀ·δ
        prev = deltas[a : a + nb * n_in]
        gemm(delta, W, prev.reshape((nb, n_in)), False, True)  # δ·Wᵀ
        dropped = layer_dropped(drop_rates, l - 1)
        backprop_activation(
            prev, h, masks[a : a + nb * n_in] if dropped else h, dropped, network.activation
        )
        delta = prev.reshape((nb, n_in))


@jit
def loss_grad(batch, rows, Y, sw, params, network, drop_rates, masks, buffers, grad):
    """Σ s_i·ℓ_i over the batch; grad ← ∇_θ (Σ s_i·ℓ_i / Σ s_i) by backpropagation.

    ``Y`` / ``sw`` are the batch's targets and weights; ``masks`` holds the dropout masks
    (inverted dropout, already scaled) of the layers that :func:`layer_dropped`;
    ``buffers = (acts, deltas, outs)`` are flat work buffers of at least nb rows.
    """
    acts, deltas, outs = buffers
    nb, n_out = Y.shape
    out = outs[: nb * n_out].reshape((nb, n_out))
    xb = dense_rows(batch.X, 0, nb, outs[:0].reshape((nb, 0)))
    forward(xb, batch, rows, params, network, drop_rates, masks, acts, out)
    total = output_loss(out, Y, sw, network.loss)
    output_delta(out, Y, sw)
    backward(xb, batch, rows, params, network, drop_rates, masks, acts, deltas, out, grad)
    return total


# ---------------------------------------------------------------------------
# one optimizer step with the penalty's prox and the max-norm constraint
# ---------------------------------------------------------------------------


@jit(inline="always")
def optimizer_step(state, grad, step, network, regularization, optimizer):
    """θ ← prox(θ − step(∇J)): one SGD / Adam step with the penalty's gradient and decay,
    its prox, then the max-norm projection of every hidden unit's incoming weights.

    Counts the step in ``state.counters[STEPS]`` first (Adam's bias correction reads it)
    and uses the η of ``state.counters[LR]``; ``step`` is scratch.
    """
    units = network.units
    nw = units[0] * units[1]  # not 0: a literal would compile the steps for it as well
    for l in range(1, units.shape[0] - 1):
        nw += units[l] * units[l + 1]
    c = state.counters
    c[STEPS] += 1.0
    params = state.params
    reg = regularization
    if optimizer.solver == ADAM:
        adam_step(
            params,
            grad,
            step,
            nw,
            state.first_moment,
            state.second_moment,
            c[STEPS],
            c[LR],
            optimizer,
            reg,
        )
    else:
        sgd_step(params, grad, step, nw, state.first_moment, c[LR], optimizer, reg)
    prox(params[:nw], step[:nw], units[0] * units[1], units[1], reg)
    if reg.max_norm > 0.0:
        w = 0
        for l in range(units.shape[0] - 2):  # hidden units only, not the outputs
            n_in, n_out = units[l], units[l + 1]
            max_norm_project(
                params[w : w + n_in * n_out].reshape((n_in, n_out)), reg.max_norm, step
            )
            w += n_in * n_out


@helper
def gather(X, mask_shape, data, indices, indptr, rows, xb):
    """xb[r] ← x_{rows[r]}: dense rows copied; CSR rows scattered only when input masks
    need them dense (otherwise the first layer reads them in place)."""
    if X is not None:
        for r in range(rows.shape[0]):
            src = X[rows[r]]
            dst = xb[r]
            for c in range(dst.shape[0]):
                dst[c] = src[c]
    if data is not None:
        if mask_shape is not None:
            for r in range(rows.shape[0]):
                i = rows[r]
                for c in range(xb.shape[1]):
                    xb[r, c] = 0.0
                for k in range(indptr[i], indptr[i + 1]):
                    xb[r, indices[k]] = data[k]


@helper
def mask_inputs(xb, xmask, mask_shape, regularization, rate, state):
    """xb ← xb ⊙ m for the DropBlock (at ``rate``) and spatial-dropout masks m of the batch."""
    if mask_shape is None:
        return
    reg = regularization
    x = xb.reshape(xb.size)
    m = xmask.reshape(xmask.size)
    if rate > 0.0:
        dropblock_mask(
            xmask,
            mask_shape,
            reg.block_size,
            rate,
            state,
            exact=True,
            per_feature=reg.dropblock_per_feature,
        )
        for i in range(x.shape[0]):
            x[i] *= m[i]
    if reg.spatial_rate > 0.0:
        spatial_dropout_mask(xmask, mask_shape[0], reg.spatial_rate, state)
        for i in range(x.shape[0]):
            x[i] *= m[i]


@helper
def draw_dropout_masks(masks, units, drop_rates, nb, state):
    """Inverted-dropout masks of every dropped hidden layer for a batch of nb rows."""
    if drop_rates is None:
        return
    a = 0
    for l in range(1, units.shape[0] - 1):
        if drop_rates[l - 1] > 0.0:
            dropout_mask(
                masks[a : a + nb * units[l]].reshape((nb, units[l])), drop_rates[l - 1], state
            )
        a += nb * units[l]


@helper
def dropblock_rate(regularization, epoch):
    """DropBlock's rate at ``epoch`` (0-based): rate·min(1, (epoch + 1) / ramp), or rate."""
    reg = regularization
    if reg.dropblock_ramp <= 0:
        return reg.dropblock_rate
    ramp = (epoch + 1.0) / reg.dropblock_ramp
    return reg.dropblock_rate * (ramp if ramp < 1.0 else 1.0)  # noqa: FURB136


@inlined
def train_epoch(data, Y, sw, state, network, regularization, optimizer, seed):
    """One pass over the data in mini-batches: shuffle, gather, masks, backprop, step, prox.

    The input batch is multiplied by a DropBlock mask (on the features viewed with
    ``mask_shape``) and / or a spatial-dropout mask (channels = axis 0); CSR rows are
    then gathered densely, since the mask touches every feature. The masks and the
    order of the rows are drawn from (``seed``, the epoch's number).

    Returns (Σ s_i·ℓ_i, Σ s_i, first): the epoch stops early, its sum non-finite, as soon
    as a batch loss is not finite; ``first`` is the mean loss of the first batch, at the
    weights the epoch started from.
    """
    reg = regularization
    units = network.units
    batch_size = optimizer.batch_size
    n, n_out = Y.shape
    epoch = state.counters[EPOCHS]
    rate = dropblock_rate(reg, epoch)
    rng = seed_state(seed, np.int64(epoch))
    idx = np.empty(n, dtype=np.int64)  # loops rather than np.arange: quicker to compile
    for i in range(n):
        idx[i] = i
    if optimizer.shuffle:
        permute(idx, rng)
    hidden = 0
    for l in range(1, units.shape[0] - 1):
        hidden += batch_size * units[l]
    params = state.params
    dtype = params.dtype
    acts = np.empty(hidden, dtype=dtype)
    deltas = np.empty(hidden, dtype=dtype)
    outs = np.empty(batch_size * n_out, dtype=dtype)
    masks = np.empty(hidden if reg.drop_rates is not None else 0, dtype=dtype)
    dense = data.X is not None or reg.mask_shape is not None
    n_in = units[0] if dense else 0
    xbuf = np.empty(batch_size * n_in, dtype=dtype).reshape((batch_size, n_in))
    n_mask = units[0] if reg.mask_shape is not None else 0
    xmask = np.empty(batch_size * n_mask, dtype=dtype).reshape((batch_size, n_mask))
    ybuf = np.empty(batch_size * n_out, dtype=dtype).reshape((batch_size, n_out))
    swb_all = np.empty(batch_size, dtype=dtype)
    grad = np.empty(params.shape[0], dtype=dtype)
    step = np.empty(params.shape[0], dtype=dtype)
    total = 0.0
    weight = 0.0
    first = np.nan
    for start in range(0, n, batch_size):
        nb = n - start if n - start < batch_size else batch_size  # noqa: FURB136
        rows = idx[start : start + nb]
        xb = xbuf[:nb]
        yb = ybuf[:nb]
        swb = swb_all[:nb]
        gather(data.X, reg.mask_shape, data.data, data.indices, data.indptr, rows, xb)
        for r in range(nb):
            for c in range(n_out):
                yb[r, c] = Y[rows[r], c]
            swb[r] = sw[rows[r]]
        mask_inputs(xb, xmask[:nb], reg.mask_shape, reg, rate, rng)
        draw_dropout_masks(masks, units, reg.drop_rates, nb, rng)
        out = outs[: nb * n_out].reshape((nb, n_out))
        forward(xb, data, rows, params, network, reg.drop_rates, masks, acts, out)
        batch_loss = output_loss(out, yb, swb, network.loss)
        batch_weight = output_delta(out, yb, swb)
        if start == 0:
            first = batch_loss / batch_weight
        if not np.isfinite(batch_loss):
            return total + batch_loss, weight + batch_weight, first
        backward(xb, data, rows, params, network, reg.drop_rates, masks, acts, deltas, out, grad)
        total += batch_loss
        weight += batch_weight
        optimizer_step(state, grad, step, network, reg, optimizer)
    return total, weight, first


@helper
def all_finite(a):
    """Whether every entry of the 1-D array ``a`` is finite."""
    finite = True
    for i in range(a.shape[0]):
        finite &= np.isfinite(a[i])
    return finite


@helper
def copy_into(dst, src):
    """dst ← src, 1-D arrays of one length (a loop: slice assignment compiles numba's
    broadcasting and its error messages, seconds of compile time)."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


@helper
def copy_state(dst, src):
    """dst ← src for every array of two :class:`~sklearn_reg._records.State` records."""
    copy_into(dst.params, src.params)
    copy_into(dst.first_moment, src.first_moment)
    copy_into(dst.second_moment, src.second_moment)
    copy_into(dst.counters, src.counters)


@jit
def stall(counters, improved, optimizer, stopping):
    """The stopping rule after an epoch: count it as ``improved`` or not, then act.

    Returns GOING, LOWERED ('adaptive' SGD divided η by 5 at a stall of more than
    ``n_iter_no_change`` epochs) or STOPPED (stalled, and η cannot be lowered).
    """
    c = counters
    c[STALLED] = 0.0 if improved else c[STALLED] + 1.0
    if c[STALLED] <= stopping.n_iter_no_change:
        return GOING
    if optimizer.solver == SGD and optimizer.schedule == ADAPTIVE and c[LR] > MIN_ADAPTIVE_LR:
        c[LR] /= ADAPTIVE_DIVISOR
        c[STALLED] = 0.0
        return LOWERED
    return STOPPED


@jit
def train(data, Y, sw, state, network, regularization, optimizer, stopping, seed, losses):
    """Up to ``losses.shape[0]`` epochs, without the GIL: each epoch, its loss, the schedule,
    the stopping rule and the divergence test.

    ``losses[e]`` ← the mean training loss of epoch e plus λ·Ω(W). An epoch diverges
    when its loss is not finite, exceeds ``stopping.divergence_factor`` × the scale
    ``counters[SCALE]`` (raised to the first batch's loss at the first epoch of a call),
    or leaves non-finite weights or moments: it is then undone (weights, moments and
    counters as before it) and the loop ends.

    Returns (epochs run, status, data loss of the last epoch): status GOING (every epoch
    ran), LOWERED / STOPPED (the stopping rule's outcome after the last epoch) or
    DIVERGED (the epoch after the ones run diverged; its data loss is returned).
    """
    params, m, v, c = state
    before = State(np.empty_like(params), np.empty_like(m), np.empty_like(v), np.empty_like(c))
    units = network.units
    nw = n_weights_of(units)
    data_loss = np.nan
    for e in range(losses.shape[0]):
        copy_state(before, state)
        total, weight, first = train_epoch(
            data, Y, sw, state, network, regularization, optimizer, seed
        )
        if c[ITER] == 0.0 and np.isfinite(first) and first > c[SCALE]:
            c[SCALE] = first
        data_loss = total / weight
        if not (
            np.isfinite(data_loss)
            and data_loss <= stopping.divergence_factor * c[SCALE]
            and all_finite(params)
            and all_finite(m)
            and all_finite(v)
        ):
            copy_state(state, before)
            return e, DIVERGED, data_loss
        c[ITER] += 1.0
        c[EPOCHS] += 1.0
        c[SEEN] += Y.shape[0]
        losses[e] = data_loss + penalty_term(
            params[:nw], units[0] * units[1], units[1], regularization
        )
        c[LR] = learning_rate(optimizer, c[LR], c[SEEN])
        status = GOING
        if stopping.on_training_loss:
            improved = losses[e] <= c[BEST_LOSS] - stopping.tol
            c[BEST_LOSS] = losses[e] if losses[e] < c[BEST_LOSS] else c[BEST_LOSS]
            status = stall(c, improved, optimizer, stopping)
        if status == STOPPED or e == losses.shape[0] - 1:
            return e + 1, status, data_loss
    return losses.shape[0], GOING, data_loss


@jit
def objective_grad(data, Y, sw, params, network, regularization, grad):
    """J = Σ s_i·ℓ_i / Σ s_i + λ·Ω(W) and grad ← ∇J over the whole data, for L-BFGS: a smooth
    penalty's Ω is λ₂·Σ W² (its only rate), gradient 2λ₂W."""
    n, n_out = Y.shape
    units = network.units
    hidden = 0
    for l in range(1, units.shape[0] - 1):
        hidden += n * units[l]
    acts = np.empty(hidden, dtype=params.dtype)
    buffers = (acts, np.empty(hidden, dtype=params.dtype), np.empty(n * n_out, dtype=params.dtype))
    rows = np.empty(n, dtype=np.int64)
    for i in range(n):
        rows[i] = i
    total = loss_grad(data, rows, Y, sw, params, network, None, acts, buffers, grad)
    nw = n_weights_of(units)
    for i in range(nw):
        grad[i] += l2_gradient(params[i], regularization.l2)
    sw_sum = 0.0
    for r in range(n):
        sw_sum += sw[r]
    return total / sw_sum + penalty_term(params[:nw], units[0] * units[1], units[1], regularization)


@jit
def predict_raw(data, params, network, out):
    """out ← the network's raw outputs z_L (before the output activation), in row chunks."""
    n = out.shape[0]
    chunk = PREDICT_CHUNK if n > PREDICT_CHUNK else (n if n > 1 else 1)  # noqa: FURB136
    units = network.units
    hidden = 0
    for l in range(1, units.shape[0] - 1):
        hidden += chunk * units[l]
    acts = np.empty(hidden, dtype=params.dtype)
    rows = np.empty(n, dtype=np.int64)
    for i in range(n):
        rows[i] = i
    for start in range(0, n, chunk):
        stop = start + chunk if start + chunk < n else n  # noqa: FURB136
        xb = dense_rows(data.X, start, stop, acts[:0].reshape((stop - start, 0)))
        forward(xb, data, rows[start:stop], params, network, None, acts, acts, out[start:stop])
