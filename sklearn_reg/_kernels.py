"""Compiled kernels: activations, losses, forward / backward, the training epoch, prediction.

Everything here is plain numba on numpy arrays, integer codes and the named records of
:mod:`sklearn_reg._records`, so that one compiled function serves every activation,
loss, penalty and solver of a dtype. The kernels know nothing of estimators.

Parameter layout. All parameters live in one flat vector ``params``: first every
weight matrix ``W_l`` of shape ``(units[l], units[l + 1])`` in C order, then every
bias ``b_l``. The weights are thus ``params[:n_weights]``, which is all that the
penalties touch. ``units = [n_features, h_1, ..., h_{L-1}, n_outputs]``.

Optional parts. The record fields that may be ``None`` (``X`` or the CSR arrays, the
dropout rates, the input-mask layout) are passed as direct arguments to the small
functions that branch on them, each code path guarded by ``is not None`` of the
argument it reads: numba prunes a branch whose condition tests an argument typed
``None`` (and only such a branch), so a dense fit without masks compiles no CSR and no
mask code. Exactly one of ``X`` and ``data`` is ``None``.
"""

import numpy as np

from ._exp import exp
from ._jit import jit
from ._masks import dropblock_mask, dropout_mask, permute, seed_state, spatial_dropout_mask
from ._optim import ADAM, adam_step, sgd_step
from ._penalties import l2_gradient, max_norm_project, penalty_rates, prox
from ._records import Data

# activation codes (hidden layers)
IDENTITY, LOGISTIC, TANH, RELU = 0, 1, 2, 3
# loss codes; each fixes its canonical output activation, so ∂loss/∂z = p − y
SQUARED_ERROR, POISSON, BINARY_LOG_LOSS, MULTINOMIAL_LOG_LOSS = 0, 1, 2, 3

#: rows per chunk in :func:`predict_raw`, bounding its memory
PREDICT_CHUNK = 4096


# ---------------------------------------------------------------------------
# activations and losses
# ---------------------------------------------------------------------------


@jit
def activate(z, b, activation):
    """h = f(z + b) in place, b added to every row: identity, 1 / (1 + e^−x), tanh x, max(x, 0)."""
    for r in range(z.shape[0]):
        h = z[r]  # one loop per activation, so that each vectorizes
        if activation == RELU:
            for c in range(h.shape[0]):
                h[c] = max(h[c] + b[c], 0.0)
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


@jit
def backprop_activation(delta, a, mask, dropped, activation):
    """δ ← δ·m·f'(z) with f'(z) from h = f(z) = a / m: 1, h(1 − h), 1 − h², 1[h > 0].

    ``a`` is the layer's output after its dropout mask m (m = 1 when not ``dropped``);
    where m = 0 the gradient is 0 whatever f'.
    """
    d = delta.reshape(delta.size)
    h = a.reshape(a.size)
    m = mask.reshape(mask.size)
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


@jit
def link_row(z, loss):
    """z ← p = ∇A(z) in place; returns A(z), the log-partition of the canonical link.

    A(z) = ½‖z‖² (p = z), Σ_k e^z (p = e^z), Σ_k softplus(z) (p = σ(z)), logsumexp(z)
    (p = softmax(z)): one exponential per output.
    """
    a = 0.0
    if loss == MULTINOMIAL_LOG_LOSS:
        zmax = z[0]
        for c in range(1, z.shape[0]):
            zmax = max(zmax, z[c])
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
                a += max(x, 0.0) + np.log1p(e)
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


# ---------------------------------------------------------------------------
# elementwise helpers (loops rather than array expressions: quicker to compile)
# ---------------------------------------------------------------------------


@jit
def fill(a, value):
    """a ← value everywhere (a C-contiguous)."""
    x = a.reshape(a.size)
    for i in range(x.shape[0]):
        x[i] = value


@jit
def copy(dst, src):
    """dst ← src (same shape, both C-contiguous)."""
    x = dst.reshape(dst.size)
    y = src.reshape(src.size)
    for i in range(x.shape[0]):
        x[i] = y[i]


@jit
def multiply(a, m):
    """a ← a ⊙ m in place (same shape, both C-contiguous)."""
    x = a.reshape(a.size)
    y = m.reshape(m.size)
    for i in range(x.shape[0]):
        x[i] *= y[i]


# ---------------------------------------------------------------------------
# the network: views into the flat buffers, forward, backward
# ---------------------------------------------------------------------------


@jit
def n_weights_of(units):
    """Σ_l units[l]·units[l + 1], the number of weights (the penalised parameters)."""
    n = 0
    for l in range(units.shape[0] - 1):
        n += units[l] * units[l + 1]
    return n


@jit
def layer(params, units, l):
    """Views (W_l, b_l) into the flat parameter vector."""
    w = 0
    for k in range(l):
        w += units[k] * units[k + 1]
    b = n_weights_of(units)
    for k in range(l):
        b += units[k + 1]
    W = params[w : w + units[l] * units[l + 1]].reshape((units[l], units[l + 1]))
    return W, params[b : b + units[l + 1]]


@jit
def layer_buffer(buf, units, l, nb):
    """View (nb, units[l]) of hidden layer l ≥ 1 in a flat buffer packed for nb rows."""
    off = 0
    for k in range(1, l):
        off += nb * units[k]
    return buf[off : off + nb * units[l]].reshape((nb, units[l]))


@jit
def layer_dropped(drop_rates, l):
    """Whether hidden layer l + 1 (0-based rate index l) is dropped out; never if no rates."""
    if drop_rates is None:
        return False
    return drop_rates[l] > 0.0


@jit
def rows_of(X, start, stop):
    """X[start:stop]: every dense batch is this one slice type, so kernels compile once."""
    return X[start:stop]


@jit
def dense_rows(X, data, start, stop):
    """:func:`rows_of` for dense input; None for CSR input (guarded as :func:`rows_record`)."""
    if data is None:
        if X is not None:
            return rows_of(X, start, stop)
    if X is None:
        if data is not None:
            return None
    raise ValueError("exactly one of X and data must be given")


@jit
def first_layer_forward(X, data, indices, indptr, rows, W, z):
    """z = x·W for the batch: dense rows X, or the CSR rows ``rows`` read in place."""
    if X is not None:
        np.dot(X, W, z)
    if data is not None:
        for r in range(z.shape[0]):
            i = rows[r]
            zr = z[r]
            fill(zr, 0.0)
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                Wj = W[indices[k]]
                for c in range(zr.shape[0]):
                    zr[c] += v * Wj[c]


@jit
def first_layer_gradient(X, data, indices, indptr, rows, delta, gW):
    """∂J/∂W₁ = xᵀ·δ₁ for the batch (a scatter over the non-zeros for CSR)."""
    if X is not None:
        np.dot(X.T, delta, gW)
    if data is not None:
        for j in range(gW.shape[0]):
            fill(gW[j], 0.0)
        for r in range(delta.shape[0]):
            i = rows[r]
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                gj = gW[indices[k]]
                for c in range(delta.shape[1]):
                    gj[c] += v * delta[r, c]


@jit
def forward(batch, rows, params, network, drop_rates, masks, acts, out):
    """h_l = f(h_{l−1}·W_l + b_l)·m_l into ``acts``, and z_L = h_{L−1}·W_L + b_L into ``out``.

    ``batch`` is a :class:`~sklearn_reg._records.Data` record of the batch's rows (CSR
    rows are ``rows`` of it). Hidden layer l (1-based) is multiplied by its dropout mask
    in ``masks`` where drop_rates[l − 1] > 0; the buffers are laid out by
    :func:`layer_buffer`.
    """
    units = network.units
    nb = out.shape[0]
    L = units.shape[0] - 1
    for l in range(L):
        W, b = layer(params, units, l)
        z = out if l == L - 1 else layer_buffer(acts, units, l + 1, nb)
        if l == 0:
            first_layer_forward(batch.X, batch.data, batch.indices, batch.indptr, rows, W, z)
        else:
            np.dot(layer_buffer(acts, units, l, nb), W, z)
        activate(z, b, network.activation if l < L - 1 else IDENTITY)
        if l < L - 1 and layer_dropped(drop_rates, l):
            multiply(z, layer_buffer(masks, units, l + 1, nb))


@jit
def loss_grad(batch, rows, Y, sw, params, network, drop_rates, masks, buffers, grad):
    """Σ s_i·ℓ_i over the batch; grad ← ∇_θ (Σ s_i·ℓ_i / Σ s_i) by backpropagation.

    ``Y`` / ``sw`` are the batch's targets and weights; ``masks`` holds the dropout masks
    (inverted dropout, already scaled) of the layers that :func:`layer_dropped`;
    ``buffers = (acts, deltas, outs)`` are flat work buffers of at least nb rows.
    """
    acts, deltas, outs = buffers
    units = network.units
    nb = Y.shape[0]
    L = units.shape[0] - 1
    out = outs[: nb * units[L]].reshape((nb, units[L]))
    forward(batch, rows, params, network, drop_rates, masks, acts, out)
    total = output_loss(out, Y, sw, network.loss)
    # backward: δ_L = s·(p − y) / Σs
    sw_sum = sw.sum()
    inv = 1.0 / sw_sum if sw_sum > 0.0 else 0.0
    for r in range(nb):
        s = sw[r] * inv
        for c in range(out.shape[1]):
            out[r, c] = s * (out[r, c] - Y[r, c])
    delta = out
    for l in range(L - 1, -1, -1):
        W, _ = layer(params, units, l)
        gW, gb = layer(grad, units, l)
        fill(gb, 0.0)
        for r in range(nb):
            dr = delta[r]
            for c in range(gb.shape[0]):
                gb[c] += dr[c]
        if l == 0:
            first_layer_gradient(batch.X, batch.data, batch.indices, batch.indptr, rows, delta,
                                 gW)
            break
        a = layer_buffer(acts, units, l, nb)
        np.dot(a.T, delta, gW)
        prev = layer_buffer(deltas, units, l, nb)
        np.dot(delta, W.T, prev)
        dropped = layer_dropped(drop_rates, l - 1)
        m = layer_buffer(masks, units, l, nb) if dropped else a  # a: unused then
        backprop_activation(prev, a, m, dropped, network.activation)
        delta = prev
    return total


# ---------------------------------------------------------------------------
# one optimizer step with the penalty's prox and the max-norm constraint
# ---------------------------------------------------------------------------


@jit
def optimizer_step(params, grad, step, network, regularization, optimizer, t):
    """One SGD / Adam step on θ with the penalty's gradient and decay, its prox, then the
    max-norm projection of every hidden unit's incoming weights; ``step`` is scratch."""
    units = network.units
    nw = n_weights_of(units)
    reg = regularization
    lam2, _, lam_wd = penalty_rates(reg.penalty, reg.alpha, reg.l1_ratio)
    opt = optimizer
    if opt.solver == ADAM:
        adam_step(params, grad, step, nw, opt.first_moment, opt.second_moment, t, opt.lr,
                  opt.beta_1, opt.beta_2, opt.epsilon, lam2, lam_wd)
    else:
        sgd_step(params, grad, step, nw, opt.first_moment, opt.lr, opt.momentum,
                 opt.nesterov, lam2, lam_wd)
    prox(params[:nw], step[:nw], units[0] * units[1], units[1], reg.penalty, reg.alpha,
         reg.l1_ratio)
    if reg.max_norm > 0.0:
        for l in range(units.shape[0] - 2):  # hidden units only, not the outputs
            max_norm_project(layer(params, units, l)[0], reg.max_norm, step)


# ---------------------------------------------------------------------------
# the fused training epoch, full-batch objective, chunked prediction
# ---------------------------------------------------------------------------


@jit
def gather(X, mask_shape, data, indices, indptr, rows, xb):
    """xb[r] ← x_{rows[r]}: dense rows copied; CSR rows scattered only when input masks
    need them dense (otherwise the first layer reads them in place)."""
    if X is not None:
        for r in range(rows.shape[0]):
            copy(xb[r], X[rows[r]])
    if data is not None:
        if mask_shape is not None:
            for r in range(rows.shape[0]):
                i = rows[r]
                fill(xb[r], 0.0)
                for k in range(indptr[i], indptr[i + 1]):
                    xb[r, indices[k]] = data[k]


@jit
def rows_record(X, values, data, rows):
    """The :class:`Data` record of a batch: the input record ``data`` itself for CSR input
    (X None, CSR ``values``: its rows are read in place), else the dense ``rows``. (Two
    guarded returns, so that numba keeps exactly one of them for each input kind.)"""
    if X is None:
        if values is not None:
            return data
    if values is None:
        if X is not None:
            return Data(rows, None, None, None)
    raise ValueError("exactly one of X and data must be given")


@jit
def batch_loss_grad(data, mask_shape, xb, rows, Y, sw, params, network, drop_rates, masks,
                    buffers, grad):
    """:func:`loss_grad` of the batch: on the gathered dense rows ``xb`` when input masks
    are on (CSR rows included), else on the input's own kind."""
    if mask_shape is not None:
        return loss_grad(Data(xb, None, None, None), rows, Y, sw, params, network, drop_rates,
                         masks, buffers, grad)
    return loss_grad(rows_record(data.X, data.data, data, xb), rows, Y, sw, params, network,
                     drop_rates, masks, buffers, grad)


@jit
def mask_inputs(xb, xmask, mask_shape, regularization, state):
    """xb ← xb ⊙ m for the DropBlock and spatial-dropout masks m drawn for the batch."""
    if mask_shape is None:
        return
    reg = regularization
    if reg.dropblock_rate > 0.0:
        dropblock_mask(xmask, mask_shape, reg.block_size, reg.dropblock_rate, state,
                       exact=True, per_feature=reg.dropblock_per_feature)
        multiply(xb, xmask)
    if reg.spatial_rate > 0.0:
        spatial_dropout_mask(xmask, mask_shape[0], reg.spatial_rate, state)
        multiply(xb, xmask)


@jit
def draw_dropout_masks(masks, units, drop_rates, nb, state):
    """Inverted-dropout masks of every dropped hidden layer for a batch of nb rows."""
    if drop_rates is None:
        return
    for l in range(1, units.shape[0] - 1):
        if drop_rates[l - 1] > 0.0:
            dropout_mask(layer_buffer(masks, units, l, nb), drop_rates[l - 1], state)


@jit
def hidden_size(units, n_rows):
    """Σ_l n_rows·h_l over the hidden layers: the length of a flat per-layer buffer."""
    hidden = 0
    for l in range(1, units.shape[0] - 1):
        hidden += n_rows * units[l]
    return hidden


@jit
def train_epoch(data, Y, sw, params, network, regularization, optimizer, t, seed, epoch):
    """One pass over the data in mini-batches: shuffle, gather, masks, backprop, step, prox.

    ``data`` / ``network`` / ``regularization`` / ``optimizer`` are the records of
    :mod:`sklearn_reg._records`. The input batch is multiplied by a DropBlock mask (on
    the features viewed with ``mask_shape``) and / or a spatial-dropout mask (channels
    = axis 0); CSR rows are then gathered densely, since the mask touches every feature.

    Returns (Σ s_i·ℓ_i, Σ s_i, t, finite, first): t counts the optimizer steps, the epoch
    stops early with ``finite=False`` as soon as a batch loss is not finite, and
    ``first`` is the mean loss of the first batch, at the weights the epoch started from.
    """
    reg = regularization
    units = network.units
    batch_size = optimizer.batch_size
    n = Y.shape[0]
    state = seed_state(seed, epoch)
    idx = np.arange(n)
    if optimizer.shuffle:
        permute(idx, state)
    hidden = hidden_size(units, batch_size)
    acts = np.empty(hidden, dtype=params.dtype)
    buffers = (acts, np.empty(hidden, dtype=params.dtype),
               np.empty(batch_size * Y.shape[1], dtype=params.dtype))
    masks = np.empty(hidden if reg.drop_rates is not None else 0, dtype=params.dtype)
    dense = data.X is not None or reg.mask_shape is not None
    xbuf = np.empty((batch_size, units[0] if dense else 0), dtype=params.dtype)
    xmask = np.empty((batch_size, units[0] if reg.mask_shape is not None else 0),
                     dtype=params.dtype)
    ybuf = np.empty((batch_size, Y.shape[1]), dtype=params.dtype)
    swbuf = np.empty(batch_size, dtype=params.dtype)
    grad = np.empty_like(params)
    step = np.empty_like(params)
    total = 0.0
    weight = 0.0
    first = np.nan
    for start in range(0, n, batch_size):
        nb = min(batch_size, n - start)
        rows = idx[start : start + nb]
        xb = rows_of(xbuf, 0, nb)
        yb = ybuf[:nb]
        swb = swbuf[:nb]
        gather(data.X, reg.mask_shape, data.data, data.indices, data.indptr, rows, xb)
        for r in range(nb):
            copy(yb[r], Y[rows[r]])
            swb[r] = sw[rows[r]]
        mask_inputs(xb, xmask[:nb], reg.mask_shape, reg, state)
        draw_dropout_masks(masks, units, reg.drop_rates, nb, state)
        batch_loss = batch_loss_grad(data, reg.mask_shape, xb, rows, yb, swb, params, network,
                                     reg.drop_rates, masks, buffers, grad)
        if start == 0:
            first = batch_loss / swb.sum()
        if not np.isfinite(batch_loss):
            return total + batch_loss, weight, t, False, first
        total += batch_loss
        weight += swb.sum()
        t += 1
        optimizer_step(params, grad, step, network, reg, optimizer, t)
    finite = True
    for i in range(params.shape[0]):
        finite &= np.isfinite(params[i])
    return total, weight, t, finite, first


@jit
def objective_grad(data, Y, sw, params, network, alpha, grad):
    """J = Σ s_i·ℓ_i / Σ s_i + λ·Σ W² and grad ← ∇J, over the whole data (L-BFGS)."""
    n = Y.shape[0]
    hidden = hidden_size(network.units, n)
    buffers = (np.empty(hidden, dtype=params.dtype), np.empty(hidden, dtype=params.dtype),
               np.empty(Y.size, dtype=params.dtype))
    batch = rows_record(data.X, data.data, data, dense_rows(data.X, data.data, 0, n))
    total = loss_grad(batch, np.arange(n), Y, sw, params, network, None, buffers[0], buffers,
                      grad)
    nw = n_weights_of(network.units)
    sq = 0.0
    for i in range(nw):
        sq += params[i] * params[i]
        grad[i] += l2_gradient(params[i], alpha)
    return total / sw.sum() + alpha * sq


@jit
def predict_raw(data, params, network, out):
    """out ← the network's raw outputs z_L (before the output activation), in row chunks."""
    n = out.shape[0]
    chunk = min(PREDICT_CHUNK, max(n, 1))
    acts = np.empty(hidden_size(network.units, chunk), dtype=params.dtype)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        forward(rows_record(data.X, data.data, data, dense_rows(data.X, data.data, start, stop)),
                np.arange(start, stop), params, network, None, acts, acts, out[start:stop])
