"""Penalties and constraints on the weights: code, value Ω, gradient or prox, one place each.

A penalty, as in skglm, is a ``value`` and a ``prox``. With λ = ``alpha`` each penalty
is split into three rates (:func:`penalty_rates`): λ₂ for the smooth part, whose
gradient 2λ₂W the optimizer adds to the data gradient (:func:`l2_gradient`), λ_wd for
the decoupled decay the optimizer applies to the weights from before its step
(:func:`decay`), and the non-smooth part, applied after the step by :func:`prox` with
the optimizer's per-coordinate step size (η for SGD, η / (√v̂ + ε) for Adam), so the
penalty never looks into the optimizer. The max-norm constraint is a prox too, the
projection onto a ball (:func:`max_norm_project`).

Adding a penalty: one entry in :data:`PENALTIES`, its rates in :func:`penalty_rates`,
its value in :func:`value`, and its prox in :func:`prox` if it has a non-smooth part.
"""

import math
from collections import namedtuple

import numpy as np

from ._jit import helper, jit

NONE, L2, L1, WD, ELASTICNET, GROUP = 0, 1, 2, 3, 4, 5

#: one registry row per penalty: its integer code, whether it is a differentiable term
#: of the objective (the only penalties L-BFGS may minimise; 'wd' is a rule of the step,
#: not a term), and for the documentation
#: Ω(W), the rates (λ₂, λ₁, λ_wd) of :func:`penalty_rates` (ρ = l1_ratio) and how a
#: step applies it, in LaTeX / reStructuredText
Penalty = namedtuple("Penalty", "code smooth omega rates applied")

PENALTIES = {
    "l2": Penalty(L2, True, r"\sum W^2", r"(\lambda, 0, 0)", r"gradient :math:`2\lambda_2 W`"),
    "l1": Penalty(L1, False, r"\sum |W|", r"(0, \lambda, 0)", "proximal step (soft-threshold)"),
    "wd": Penalty(WD, False, "0", r"(0, 0, \lambda)",
                  "decay of the pre-step weights (decoupled, none in the objective)"),
    "elasticnet": Penalty(ELASTICNET, False, r"\rho\sum|W| + (1-\rho)\sum W^2",
                          r"(\lambda(1-\rho), \lambda\rho, 0)", "gradient and proximal step"),
    "group": Penalty(GROUP, False, r"\sum_j \sqrt{h_1}\,\lVert W_1[j,:]\rVert_2", "(0, 0, 0)",
                     "block proximal step on the rows of the first layer"),
    None: Penalty(NONE, True, "0", "(0, 0, 0)", "nothing"),
}

#: penalty name → integer code of the kernels
PENALTY_CODES = {name: row.code for name, row in PENALTIES.items()}


def penalty_table():
    """The registry as the reStructuredText list-table of the user guide."""
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 14 34 22 30", "",
             "   * - ``penalty``", "     - :math:`\\Omega(W)`",
             "     - :math:`(\\lambda_2, \\lambda_1, \\lambda_{wd})`", "     - applied as"]
    for name, row in PENALTIES.items():
        lines += [f"   * - ``{name!r}``" if name else "   * - ``None``",
                  f"     - :math:`{row.omega}`", f"     - :math:`{row.rates}`",
                  f"     - {row.applied}"]
    return "\n".join(lines) + "\n"


def value(penalty, coefs, l1_ratio):
    """Ω(W) of ``penalty`` over the weight matrices ``coefs`` (biases excluded)."""
    if penalty in (None, "wd"):
        return 0.0
    l1 = sum(float(np.abs(W).sum()) for W in coefs)
    l2 = sum(float(np.vdot(W, W)) for W in coefs)
    if penalty == "l2":
        return l2
    if penalty == "l1":
        return l1
    if penalty == "elasticnet":
        return l1_ratio * l1 + (1.0 - l1_ratio) * l2
    W0 = coefs[0]  # 'group': rows of the first layer, one per input feature
    return float(np.sqrt(W0.shape[1]) * np.linalg.norm(W0, axis=1).sum())


# ---------------------------------------------------------------------------
# compiled: rates, gradient, decay, prox operators
# ---------------------------------------------------------------------------


@helper
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


@helper
def l2_gradient(w, lam2):
    """∂(λ₂·w²)/∂w = 2λ₂w."""
    return 2.0 * lam2 * w


@helper
def decay(w, lr, lam_wd):
    """η·λ_wd·w, the decoupled weight decay of one step."""
    return lr * lam_wd * w


@jit
def soft_threshold(x, tau):
    """S_τ(x) = sign(x)·max(|x| − τ, 0), the prox of τ·|x|."""
    s = abs(x) - tau
    s = 0.0 if s < 0.0 else s  # noqa: FURB136 (max(s, 0), as a conditional)
    return math.copysign(s, x) + (x - x)  # + 0: −0 → +0, NaN stays NaN


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


@helper
def group_prox(W0, step0, alpha):
    """W₀[j] ← BST_τ(W₀[j]) per input feature j, τ = λ·√h₁ · h₁ / Σ_c 1/step_jc.

    One threshold per row from the harmonic mean of the row's step sizes: η·λ·√h₁
    under SGD, η·λ·√h₁ / mean_c(√v̂_jc + ε) under Adam.
    """
    h = W0.shape[1]
    tau = alpha * np.sqrt(h)
    for j in range(W0.shape[0]):
        s = 0.0
        for c in range(h):
            s += 1.0 / step0[j, c]
        block_soft_threshold(W0[j], tau * (h / s))


@helper
def prox(weights, step, n_first, n_hidden_1, penalty, alpha, l1_ratio):
    """w ← prox of the penalty's non-smooth part with per-coordinate steps η_i = ``step[i]``.

    S_{λ₁·η_i} per weight ('l1', 'elasticnet'); block soft-threshold of the rows of W₁,
    the first ``n_first`` weights, ('group'); nothing for the smooth penalties.
    """
    lam1 = penalty_rates(penalty, alpha, l1_ratio)[1]
    if lam1 > 0.0:
        for i in range(weights.shape[0]):
            weights[i] = soft_threshold(weights[i], lam1 * step[i])
    elif penalty == GROUP:
        shape = (n_first // n_hidden_1, n_hidden_1)
        group_prox(weights[:n_first].reshape(shape), step[:n_first].reshape(shape), alpha)


@helper
def max_norm_project(W, c, norms):
    """W[:, k] ← W[:, k]·min(1, c / ‖W[:, k]‖₂) for every column k (a unit's incoming weights).

    The projection onto {‖W[:, k]‖₂ ≤ c}, the prox of its indicator; ``norms`` is a
    scratch buffer of at least ``W.shape[1]`` entries.
    """
    n = W.shape[1]
    for k in range(n):
        norms[k] = 0.0
    for j in range(W.shape[0]):  # row by row: W is C-ordered
        for k in range(n):
            norms[k] += W[j, k] * W[j, k]
    for k in range(n):
        norms[k] = c / np.sqrt(norms[k]) if norms[k] > c * c else 1.0  # min(1, c / ‖W[:, k]‖)
    for j in range(W.shape[0]):
        for k in range(n):
            W[j, k] *= norms[k]
