"""Compiled kernels: activations, losses, forward / backward, prox, optimizer steps.

Everything here is plain numba on numpy arrays and integer codes, so that one
compiled function serves every configuration of a dtype (and input kind). The
kernels know nothing of estimators.

Parameter layout. All parameters live in one flat vector ``params``: first every
weight matrix ``W_l`` of shape ``(units[l], units[l + 1])`` in C order, then every
bias ``b_l``. The weights are thus ``params[:n_weights]``, which is all that the
penalties touch. ``units = [n_features, h_1, ..., h_{L-1}, n_outputs]``.

Input kinds. Dense input is a C-contiguous 2-D ``X``; CSR input is passed as
``(data, indices, indptr)`` with ``is_sparse=True`` and a ``(0, 0)`` placeholder
``X``. Only the first layer looks at the input, so only it has two code paths.
"""

import math

import numpy as np

from ._exp import exp
from ._jit import jit
from ._masks import dropblock_mask, dropout_mask, permute, seed_state, spatial_dropout_mask
from ._penalties import ELASTICNET, GROUP, L1, L2, WD


# activation codes (hidden layers)
IDENTITY, LOGISTIC, TANH, RELU = 0, 1, 2, 3
# loss codes; each fixes its canonical output activation, so ∂loss/∂z = p − y
SQUARED_ERROR, POISSON, BINARY_LOG_LOSS, MULTINOMIAL_LOG_LOSS = 0, 1, 2, 3
# solver codes
SGD, ADAM = 0, 1

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
def first_layer_forward(xb, data, indices, indptr, rows, is_sparse, W, z):
    """z = x·W for the batch; CSR rows are read in place (rows indexes them)."""
    if is_sparse:
        for r in range(z.shape[0]):
            i = rows[r]
            zr = z[r]
            fill(zr, 0.0)
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                Wj = W[indices[k]]
                for c in range(zr.shape[0]):
                    zr[c] += v * Wj[c]
    else:
        np.dot(xb, W, z)


@jit
def first_layer_gradient(xb, data, indices, indptr, rows, is_sparse, delta, gW):
    """∂J/∂W₁ = xᵀ·δ₁ for the batch (a scatter over the non-zeros for CSR)."""
    if is_sparse:
        for j in range(gW.shape[0]):
            fill(gW[j], 0.0)
        for r in range(delta.shape[0]):
            i = rows[r]
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                gj = gW[indices[k]]
                for c in range(delta.shape[1]):
                    gj[c] += v * delta[r, c]
    else:
        np.dot(xb.T, delta, gW)


@jit
def forward(xb, data, indices, indptr, rows, is_sparse, params, units, activation, masks,
            drop_rates, acts, out):
    """h_l = f(h_{l−1}·W_l + b_l)·m_l into ``acts``, and z_L = h_{L−1}·W_L + b_L into ``out``.

    Hidden layer l (1-based) is multiplied by its mask in ``masks`` where
    drop_rates[l − 1] > 0; the buffers are laid out by :func:`layer_buffer`.
    """
    nb = out.shape[0]
    L = units.shape[0] - 1
    for l in range(L):
        W, b = layer(params, units, l)
        z = out if l == L - 1 else layer_buffer(acts, units, l + 1, nb)
        if l == 0:
            first_layer_forward(xb, data, indices, indptr, rows, is_sparse, W, z)
        else:
            np.dot(layer_buffer(acts, units, l, nb), W, z)
        activate(z, b, activation if l < L - 1 else IDENTITY)
        if l < L - 1 and drop_rates[l] > 0.0:
            multiply(z, layer_buffer(masks, units, l + 1, nb))


@jit
def loss_grad(xb, data, indices, indptr, rows, is_sparse, yb, swb, params, units,
              activation, loss, masks, drop_rates, acts, deltas, outs, grad):
    """Σ s_i·ℓ_i over the batch; grad ← ∇_θ (Σ s_i·ℓ_i / Σ s_i) by backpropagation.

    Hidden layer l (1-based) with drop_rates[l − 1] > 0 is multiplied by its mask in
    ``masks`` (inverted dropout, already scaled). ``masks`` / ``acts`` / ``deltas`` /
    ``outs`` are flat buffers of at least nb rows, laid out by :func:`layer_buffer`.
    """
    nb = yb.shape[0]
    L = units.shape[0] - 1
    out = outs[: nb * units[L]].reshape((nb, units[L]))
    forward(xb, data, indices, indptr, rows, is_sparse, params, units, activation, masks,
            drop_rates, acts, out)
    total = output_loss(out, yb, swb, loss)
    # backward: δ_L = s·(p − y) / Σs
    sw_sum = swb.sum()
    inv = 1.0 / sw_sum if sw_sum > 0.0 else 0.0
    for r in range(nb):
        s = swb[r] * inv
        for c in range(out.shape[1]):
            out[r, c] = s * (out[r, c] - yb[r, c])
    delta = out
    for l in range(L - 1, -1, -1):
        W, _ = layer(params, units, l)
        gW, gb = layer(grad, units, l)
        for c in range(gb.shape[0]):
            gb[c] = 0.0
        for r in range(nb):
            dr = delta[r]
            for c in range(gb.shape[0]):
                gb[c] += dr[c]
        if l == 0:
            first_layer_gradient(xb, data, indices, indptr, rows, is_sparse, delta, gW)
            break
        a = layer_buffer(acts, units, l, nb)
        np.dot(a.T, delta, gW)
        prev = layer_buffer(deltas, units, l, nb)
        np.dot(delta, W.T, prev)
        m = layer_buffer(masks, units, l, nb)
        backprop_activation(prev, a, m, drop_rates[l - 1] > 0.0, activation)
        delta = prev
    return total


# ---------------------------------------------------------------------------
# prox operators and optimizer steps
# ---------------------------------------------------------------------------


@jit
def soft_threshold(x, tau):
    """S_τ(x) = sign(x)·max(|x| − τ, 0), the prox of τ·|x|."""
    return math.copysign(max(abs(x) - tau, 0.0), x) + (x - x)  # + 0: −0 → +0, NaN stays NaN


@jit
def block_soft_threshold(w, tau):
    """BST_τ(w) = w·max(1 − τ / ‖w‖₂, 0) in place, the prox of τ·‖w‖₂."""
    sq = 0.0
    for c in range(w.shape[0]):
        sq += w[c] * w[c]
    norm = np.sqrt(sq)
    scale = 1.0 - tau / norm if norm > tau else 0.0
    for c in range(w.shape[0]):
        w[c] *= scale


@jit
def penalty_rates(penalty, alpha, l1_ratio):
    """(λ₂, λ₁, λ_wd): the L2 gradient 2λ₂W, the L1 prox weight, the decoupled decay."""
    if penalty == L2:
        return alpha, 0.0, 0.0
    if penalty == L1:
        return 0.0, alpha, 0.0
    if penalty == WD:
        return 0.0, 0.0, alpha
    if penalty == ELASTICNET:
        return alpha * (1.0 - l1_ratio), alpha * l1_ratio, 0.0
    return 0.0, 0.0, 0.0


@jit
def sgd_step(params, grad, n_weights, velocity, lr, momentum, nesterov, lam2, lam1, lam_wd):
    """v ← μv − η(g + 2λ₂w); w ← S_{ηλ₁}(w + [μv − η(g + 2λ₂w) if Nesterov else v] − ηλ_wd·w)."""
    nest = 1.0 if nesterov else 0.0
    for i in range(params.shape[0]):
        penalized = 1.0 if i < n_weights else 0.0  # biases are never penalized
        w = params[i]
        g = grad[i] + penalized * 2.0 * lam2 * w
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        new = w + nest * (momentum * v - lr * g) + (1.0 - nest) * v - penalized * lr * lam_wd * w
        params[i] = soft_threshold(new, penalized * lr * lam1)


@jit
def adam_step(params, grad, n_weights, m, v, t, lr, beta_1, beta_2, epsilon, lam2, lam1, lam_wd):
    """Adam at step t with g + 2λ₂w; w ← S_τ(w − η·m̂/(√v̂ + ε) − ηλ_wd·w), τ = ηλ₁/(√v̂ + ε)."""
    c1 = 1.0 / (1.0 - beta_1**t)
    c2 = 1.0 / (1.0 - beta_2**t)
    for i in range(params.shape[0]):
        penalized = 1.0 if i < n_weights else 0.0  # biases are never penalized
        w = params[i]
        g = grad[i] + penalized * 2.0 * lam2 * w
        mi = beta_1 * m[i] + (1.0 - beta_1) * g
        vi = beta_2 * v[i] + (1.0 - beta_2) * g * g
        m[i] = mi
        v[i] = vi
        step = lr / (np.sqrt(vi * c2) + epsilon)
        new = w - step * (mi * c1) - penalized * lr * lam_wd * w
        params[i] = soft_threshold(new, penalized * lam1 * step)


@jit
def group_prox(W0, v0, t, solver, lr, alpha, beta_2, epsilon):
    """W₀[j] ← BST_τ(W₀[j]) per input feature j, τ = η·λ·√h₁ (÷ mean_j(√v̂ + ε) under Adam)."""
    h = W0.shape[1]
    tau = lr * alpha * np.sqrt(h)
    c2 = 1.0 / (1.0 - beta_2**t) if solver == ADAM else 1.0
    for j in range(W0.shape[0]):
        scale = 1.0
        if solver == ADAM:  # scalar preconditioner per group: the mean of √v̂ + ε
            s = 0.0
            for c in range(h):
                s += np.sqrt(v0[j, c] * c2) + epsilon
            scale = h / s
        block_soft_threshold(W0[j], tau * scale)


@jit
def optimizer_step(params, grad, units, solver, lr, momentum, nesterov, beta_1, beta_2,
                   epsilon, first_moment, second_moment, t, penalty, alpha, l1_ratio):
    """One SGD / Adam step on θ with the penalty's gradient, decay and prox."""
    nw = n_weights_of(units)
    lam2, lam1, lam_wd = penalty_rates(penalty, alpha, l1_ratio)
    if solver == ADAM:
        adam_step(params, grad, nw, first_moment, second_moment, t, lr, beta_1, beta_2,
                  epsilon, lam2, lam1, lam_wd)
    else:
        sgd_step(params, grad, nw, first_moment, lr, momentum, nesterov, lam2, lam1, lam_wd)
    if penalty == GROUP:
        n0 = units[0] * units[1]  # W₁ leads the flat vector
        W0 = params[:n0].reshape((units[0], units[1]))
        v0 = W0
        if solver == ADAM:
            v0 = second_moment[:n0].reshape((units[0], units[1]))
        group_prox(W0, v0, t, solver, lr, alpha, beta_2, epsilon)


# ---------------------------------------------------------------------------
# the fused training epoch, full-batch objective, chunked prediction
# ---------------------------------------------------------------------------


@jit
def train_epoch(X, data, indices, indptr, is_sparse, Y, sw, params, units, activation,
                loss, penalty, alpha, l1_ratio, drop_rates, feature_shape, block,
                dropblock_rate, spatial_rate, solver, lr, momentum, nesterov, beta_1,
                beta_2, epsilon, first_moment, second_moment, t, batch_size, shuffle,
                seed, epoch):
    """One pass over the data in mini-batches: shuffle, gather, masks, backprop, step, prox.

    The input batch is multiplied by a DropBlock mask (on the features viewed with
    ``feature_shape``) and / or a spatial-dropout mask (channels = axis 0); CSR rows
    are then gathered densely, since the mask touches every feature.

    Returns (Σ s_i·ℓ_i, Σ s_i, t, finite): t counts the optimizer steps, and the epoch
    stops early with ``finite=False`` as soon as a batch loss is not finite.
    """
    n = Y.shape[0]
    n_features = units[0]
    state = seed_state(seed, epoch)
    idx = np.arange(n)
    if shuffle:
        permute(idx, state)
    hidden = 0
    for l in range(1, units.shape[0] - 1):
        hidden += batch_size * units[l]
    acts = np.empty(hidden, dtype=params.dtype)
    deltas = np.empty(hidden, dtype=params.dtype)
    masks = np.empty(hidden, dtype=params.dtype)
    input_masked = dropblock_rate > 0.0 or spatial_rate > 0.0
    sparse_batch = is_sparse and not input_masked
    xbuf = np.empty((batch_size, 0 if sparse_batch else n_features), dtype=params.dtype)
    xmask = np.empty((batch_size, n_features if input_masked else 0), dtype=params.dtype)
    ybuf = np.empty((batch_size, Y.shape[1]), dtype=params.dtype)
    swbuf = np.empty(batch_size, dtype=params.dtype)
    outs = np.empty(batch_size * Y.shape[1], dtype=params.dtype)
    grad = np.empty_like(params)
    total = 0.0
    weight = 0.0
    for start in range(0, n, batch_size):
        nb = min(batch_size, n - start)
        rows = idx[start : start + nb]
        xb = xbuf[:nb]
        yb = ybuf[:nb]
        swb = swbuf[:nb]
        for r in range(nb):
            i = rows[r]
            if not is_sparse:
                copy(xb[r], X[i])
            elif not sparse_batch:
                fill(xb[r], 0.0)
                for k in range(indptr[i], indptr[i + 1]):
                    xb[r, indices[k]] = data[k]
            copy(yb[r], Y[i])
            swb[r] = sw[i]
        if dropblock_rate > 0.0:
            dropblock_mask(xmask[:nb], feature_shape, block, dropblock_rate, state, True)
            multiply(xb, xmask[:nb])
        if spatial_rate > 0.0:
            spatial_dropout_mask(xmask[:nb], feature_shape[0], spatial_rate, state)
            multiply(xb, xmask[:nb])
        for l in range(1, units.shape[0] - 1):
            if drop_rates[l - 1] > 0.0:
                dropout_mask(layer_buffer(masks, units, l, nb), drop_rates[l - 1], state)
        batch_loss = loss_grad(xb, data, indices, indptr, rows, sparse_batch, yb, swb,
                               params, units, activation, loss, masks, drop_rates,
                               acts, deltas, outs, grad)
        if not np.isfinite(batch_loss):
            return total + batch_loss, weight, t, False
        total += batch_loss
        weight += swb.sum()
        t += 1
        optimizer_step(params, grad, units, solver, lr, momentum, nesterov, beta_1, beta_2,
                       epsilon, first_moment, second_moment, t, penalty, alpha, l1_ratio)
    finite = True
    for i in range(params.shape[0]):
        finite &= np.isfinite(params[i])
    return total, weight, t, finite


@jit
def objective_grad(X, data, indices, indptr, is_sparse, Y, sw, params, units, activation,
                   loss, alpha, grad):
    """J = Σ s_i·ℓ_i / Σ s_i + λ·Σ W² and grad ← ∇J, over the whole data (L-BFGS)."""
    n = Y.shape[0]
    hidden = 0
    for l in range(1, units.shape[0] - 1):
        hidden += n * units[l]
    acts = np.empty(hidden, dtype=params.dtype)
    deltas = np.empty(hidden, dtype=params.dtype)
    no_drop = np.zeros(max(units.shape[0] - 2, 1))
    total = loss_grad(X, data, indices, indptr, np.arange(n), is_sparse, Y, sw, params,
                      units, activation, loss, acts, no_drop, acts, deltas,
                      np.empty(Y.size, dtype=params.dtype), grad)
    nw = n_weights_of(units)
    sq = 0.0
    for i in range(nw):
        sq += params[i] * params[i]
        grad[i] += 2.0 * alpha * params[i]
    return total / sw.sum() + alpha * sq


@jit
def predict_raw(X, data, indices, indptr, is_sparse, params, units, activation, out):
    """out ← the network's raw outputs z_L (before the output activation), in row chunks."""
    n = out.shape[0]
    L = units.shape[0] - 1
    chunk = min(PREDICT_CHUNK, max(n, 1))
    hidden = 0
    for l in range(1, L):
        hidden += chunk * units[l]
    acts = np.empty(hidden, dtype=params.dtype)
    no_drop = np.zeros(max(L - 1, 1))
    for start in range(0, n, chunk):
        nb = min(chunk, n - start)
        xb = X[start : start + nb] if not is_sparse else X
        forward(xb, data, indices, indptr, np.arange(start, start + nb), is_sparse, params,
                units, activation, acts, no_drop, acts, out[start : start + nb])
