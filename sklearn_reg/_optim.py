"""Compiled optimizer steps: SGD with (Nesterov) momentum and Adam, and their schedule codes.

Each step updates the flat parameter vector in place, adds the smooth penalty's
gradient and the decoupled decay to the weights (the first ``n_weights`` entries, never
the biases), and writes its per-coordinate step size into ``step`` for the prox that
follows (:func:`sklearn_reg._penalties.prox`).
"""

import numpy as np

from ._jit import helper
from ._penalties import decay, l2_gradient

# solver codes
SGD, ADAM = 0, 1
# learning-rate schedule codes ('sgd' only)
CONSTANT, INVSCALING, ADAPTIVE = 0, 1, 2
#: 'adaptive' SGD divides η by this at each stall ...
ADAPTIVE_DIVISOR = 5.0
#: ... and stops once η is below this
MIN_ADAPTIVE_LR = 1e-6


@helper
def sgd_step(params, grad, step, n_weights, velocity, lr, optimizer, regularization):
    """v ← μv − η(g + 2λ₂w); w ← w + [μv − η(g + 2λ₂w) if Nesterov else v] − ηλ_wd·w."""
    nest = 1.0 if optimizer.nesterov else 0.0
    momentum = optimizer.momentum
    lam2, lam_wd = regularization.l2, regularization.wd
    for i in range(params.shape[0]):
        penalized = 1.0 if i < n_weights else 0.0  # biases are never penalized
        w = params[i]
        g = grad[i] + penalized * l2_gradient(w, lam2)
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        params[i] = (
            w + nest * (momentum * v - lr * g) + (1.0 - nest) * v - penalized * decay(w, lr, lam_wd)
        )
        step[i] = lr


@helper
def adam_step(params, grad, step, n_weights, m, v, t, lr, optimizer, regularization):
    """Adam at step t on g + 2λ₂w: w ← w − η_i·m̂ − ηλ_wd·w with η_i = η / (√v̂ + ε)."""
    beta_1, beta_2, epsilon = optimizer.beta_1, optimizer.beta_2, optimizer.epsilon
    lam2, lam_wd = regularization.l2, regularization.wd
    c1 = 1.0 / (1.0 - beta_1**t)
    c2 = 1.0 / (1.0 - beta_2**t)
    for i in range(params.shape[0]):
        penalized = 1.0 if i < n_weights else 0.0  # biases are never penalized
        w = params[i]
        g = grad[i] + penalized * l2_gradient(w, lam2)
        mi = beta_1 * m[i] + (1.0 - beta_1) * g
        vi = beta_2 * v[i] + (1.0 - beta_2) * g * g
        m[i] = mi
        v[i] = vi
        s = lr / (np.sqrt(vi * c2) + epsilon)
        step[i] = s
        params[i] = w - s * (mi * c1) - penalized * decay(w, lr, lam_wd)


@helper
def learning_rate(optimizer, lr, n_samples_seen):
    """η of the next epoch: η₀ / (t + 1)^power_t for 'invscaling' SGD, else unchanged."""
    if optimizer.solver == SGD and optimizer.schedule == INVSCALING:
        return optimizer.lr_init / (n_samples_seen + 1.0) ** optimizer.power_t
    return lr
