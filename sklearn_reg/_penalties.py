"""Penalties and constraints on the weights: one spec per penalty, and its compiled parts.

A penalty, as in skglm, is a ``value`` and a ``prox``. Here each penalty is one entry of
:data:`PENALTIES`, a :class:`Penalty` spec that carries everything derived from it: its
rates, whether it is smooth, what it zeroes, and its documentation. With λ = ``alpha``
every penalty is a combination of four rates (:func:`rates`), and the compiled code
knows only those: λ₂ for the smooth part, whose gradient 2λ₂W the optimizer adds to the
data gradient (:func:`l2_gradient`); λ_wd for the decoupled decay the optimizer applies
to the weights from before its step (:func:`decay`); λ₁ and λ_g for the non-smooth
parts, applied after the step by :func:`prox` with the optimizer's per-coordinate step
size (η for SGD, η / (√v̂ + ε) for Adam), so the penalty never looks into the optimizer:
the soft-threshold of every weight, then the block soft-threshold of the first layer's
rows, or of groups of rows (the prox of their sum, Simon et al. 2013).
:func:`penalty_term` is λ·Ω(W) from the same rates. The max-norm constraint is a prox
too, the projection onto a ball (:func:`max_norm_project`).

Adding a penalty: one entry in :data:`PENALTIES`.
"""

import math
import textwrap
from collections import namedtuple

import numpy as np

from ._jit import helper, jit

Rates = namedtuple("Rates", "l2 l1 wd group")
Rates.__doc__ = r"""The rates of a penalty at λ (see :func:`rates`).

Parameters
----------
l2 : float
    λ₂: the objective's term λ₂·Σ W², gradient 2λ₂W.
l1 : float
    λ₁: the objective's term λ₁·Σ \|W\|, a soft-threshold.
wd : float
    λ_wd: decoupled decay W ← W − η·λ_wd·W, not a term of the objective.
group : float
    λ_g: the objective's term λ_g·Σ_j √h₁·‖W₁[j, :]‖₂, a block soft-threshold of the rows
    of the first layer.
"""


class Penalty(namedtuple("Penalty", "rates smooth zeroes omega applied description")):
    """The spec of a penalty: everything the estimators, the kernels and the docs read.

    Parameters
    ----------
    rates : callable
        ``rates(alpha, l1_ratio)`` → :class:`Rates`.
    smooth : bool
        Whether λ·Ω is a differentiable term of the objective (the only penalties
        L-BFGS may minimise; 'wd' is a rule of the step, not a term).
    zeroes : tuple of str
        What its prox sets exactly to zero: 'weights' (single weights), 'rows' (whole
        rows of the first layer, i.e. input features).
    omega : str
        Ω(W) in LaTeX.
    applied : str
        How a step applies it (reStructuredText).
    description : str
        Its entry in the ``penalty`` parameter's documentation.
    """

    __slots__ = ()

    @property
    def selects_features(self):
        """Whether it can remove an input feature (a whole zero row of ``coefs_[0]``)."""
        return bool(self.zeroes)


PENALTIES = {
    "l2": Penalty(
        lambda a, r: Rates(a, 0.0, 0.0, 0.0),
        True,
        (),
        r"\sum W^2",
        r"gradient :math:`2\lambda W`",
        "λ·Σ W² added to the objective (its gradient 2λW goes through the optimizer).",
    ),
    "l1": Penalty(
        lambda a, r: Rates(0.0, a, 0.0, 0.0),
        False,
        ("weights",),
        r"\sum |W|",
        "proximal step (soft-threshold)",
        "λ·Σ \\|W\\| applied as a proximal step after each update, "
        "W ← sign(W)·max(\\|W\\| − τ, 0) with τ = η·λ for SGD and τ = η·λ / (√v̂ + ε) "
        "per coordinate for Adam. It sets weights exactly to zero.",
    ),
    "wd": Penalty(
        lambda a, r: Rates(0.0, 0.0, a, 0.0),
        False,
        (),
        "0",
        "decay of the pre-step weights (decoupled, none in the objective)",
        "decoupled weight decay, W ← W − η·λ·W − (optimizer step), as AdamW. Equal to "
        "'l2' with half the ``alpha`` under SGD without momentum, different with "
        "momentum and under Adam.",
    ),
    "elasticnet": Penalty(
        lambda a, r: Rates(a * (1.0 - r), a * r, 0.0, 0.0),
        False,
        ("weights",),
        r"\rho\sum|W| + (1-\rho)\sum W^2",
        "gradient and proximal step",
        "λ·(l1_ratio·Σ\\|W\\| + (1 − l1_ratio)·Σ W²), the L2 part as a gradient and the "
        "L1 part as a prox.",
    ),
    "group": Penalty(
        lambda a, r: Rates(0.0, 0.0, 0.0, a),
        False,
        ("rows",),
        r"\sum_j \sqrt{h_1}\,\lVert W_1[j,:]\rVert_2",
        "block proximal step on the rows of the first layer",
        "λ·Σ_j √h₁·‖W₁[j, :]‖₂ over the input features j, applied by block "
        "soft-thresholding the rows of ``coefs_[0]``: removes whole features.",
    ),
    "sparsegroup": Penalty(
        lambda a, r: Rates(0.0, a * r, 0.0, a * (1.0 - r)),
        False,
        ("weights", "rows"),
        r"\rho\sum|W| + (1-\rho)\sum_j \sqrt{h_1}\,\lVert W_1[j,:]\rVert_2",
        "soft-threshold, then block proximal step on the rows of the first layer",
        "sparse group lasso (Simon et al. 2013), λ·(l1_ratio·Σ\\|W\\| + (1 − l1_ratio)·"
        "Σ_j √h₁·‖W₁[j, :]‖₂), applied by soft-thresholding every weight, then "
        "block soft-thresholding the rows of ``coefs_[0]``: removes whole features and "
        "prunes weights inside the kept ones.",
    ),
    None: Penalty(lambda a, r: Rates(0.0, 0.0, 0.0, 0.0), True, (), "0", "nothing", "no penalty."),
}


def rates(penalty, alpha, l1_ratio):
    """The :class:`Rates` (λ₂, λ₁, λ_wd, λ_g) of ``penalty`` at λ = ``alpha``.

    Parameters
    ----------
    penalty : str or None
        A key of :data:`PENALTIES`.
    alpha : float
        λ.
    l1_ratio : float
        ρ, the share of L1 of the mixed penalties.

    Returns
    -------
    rates : Rates
    """
    return Rates(*(float(x) for x in PENALTIES[penalty].rates(float(alpha), float(l1_ratio))))


def penalty_table():
    """The registry as the reStructuredText list-table of the user guide."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 14 34 22 30",
        "",
        "   * - ``penalty``",
        "     - :math:`\\Omega(W)`",
        "     - :math:`(\\lambda_2, \\lambda_1, \\lambda_{wd}, \\lambda_g) / \\lambda`",
        "     - applied as",
    ]
    for name, spec in PENALTIES.items():
        at_one = ", ".join(_symbolic(x) for x in spec.rates(1.0, _RHO))
        lines += [
            f"   * - ``{name!r}``" if name else "   * - ``None``",
            f"     - :math:`{spec.omega}`",
            f"     - :math:`({at_one})`",
            f"     - {spec.applied}",
        ]
    return "\n".join(lines) + "\n"


#: a ρ whose multiples are told apart in :func:`penalty_table`
_RHO = 0.25


def _symbolic(x):
    return {0.0: "0", 1.0: "1", _RHO: r"\rho", 1.0 - _RHO: r"1 - \rho"}[x]


def penalty_parameter_doc():
    """The entries of the ``penalty`` parameter's numpydoc, one bullet per penalty."""
    names = ", ".join(repr(p) for p in PENALTIES if p is not None)
    bullets = "\n".join(_bullet(name, spec.description) for name, spec in PENALTIES.items())
    return (
        f"    penalty : {{{names}}} or None, default='l2'\n"
        "        Regularizer of the weights (never the biases). With λ = ``alpha``:\n\n"
        f"{bullets}"
    )


def _bullet(name, text, width=88):
    label = "None" if name is None else repr(name)
    return textwrap.fill(
        f"- {label}: {text}", width, initial_indent=" " * 8, subsequent_indent=" " * 10
    )


def smooth_penalties():
    """The names of the penalties that L-BFGS may minimise, as reprs for messages."""
    return [repr(p) for p, spec in PENALTIES.items() if spec.smooth]


def mixed_penalties():
    """The names of the penalties that ``l1_ratio`` mixes, as reprs."""
    return [
        repr(p) for p, spec in PENALTIES.items() if spec.rates(1.0, 0.25) != spec.rates(1.0, 0.75)
    ]


def feature_selecting_penalties():
    """The penalties whose prox can zero a whole input feature."""
    return tuple(p for p, spec in PENALTIES.items() if spec.selects_features)


def group_penalties():
    """The penalties with a group part, the block soft-threshold of the first layer's
    rows (the blocks that ``feature_groups`` groups)."""
    return tuple(p for p, spec in PENALTIES.items() if "rows" in spec.zeroes)


def value(penalty, coefs, l1_ratio, feature_weights=None, feature_groups=None):
    r"""Ω(W) of ``penalty`` over the weight matrices ``coefs`` (biases excluded).

    λ·Ω with λ = 1, from the penalty's rates: λ₂·Σ W² + λ₁·Σ w_j·\|W\| +
    λ_g·Σ_g w̄_g·√(h₁·n_g)·‖W₁[g, :]‖₂ ('wd' is no term of the objective: 0), with w_j
    the weight of input feature j (``feature_weights``, default 1) on the first layer's
    row j, g the groups of rows (``feature_groups``, labels per row; default one group
    per row) and w̄_g the mean of w_j over g; the deeper layers and the L2 part are
    unweighted.
    """
    r = rates(penalty, 1.0, l1_ratio)
    W0 = coefs[0]  # rows of the first layer, one per input feature
    w = np.ones(W0.shape[0]) if feature_weights is None else np.asarray(feature_weights)
    groups = np.arange(W0.shape[0]) if feature_groups is None else np.asarray(feature_groups)
    total = 0.0
    if r.l2:
        total += r.l2 * sum(float(np.vdot(W, W)) for W in coefs)
    if r.l1:
        first = float(w @ np.abs(W0).sum(axis=1))
        total += r.l1 * (first + sum(float(np.abs(W).sum()) for W in coefs[1:]))
    if r.group:
        for g in np.unique(groups):
            rows = groups == g
            size = rows.sum() * W0.shape[1]
            total += r.group * w[rows].mean() * np.sqrt(size) * np.linalg.norm(W0[rows])
    return total


def group_index(feature_groups):
    """``(group_ptr, group_rows)`` of the rows labelled ``feature_groups`` (one label per
    row), the CSR form of the kernels' groups: the rows of the g-th label in sorted
    order are ``group_rows[group_ptr[g]:group_ptr[g + 1]]``."""
    labels, inverse = np.unique(np.asarray(feature_groups), return_inverse=True)
    rows = np.argsort(inverse, kind="stable").astype(np.int64)
    ptr = np.zeros(labels.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(inverse, minlength=labels.size), out=ptr[1:])
    return ptr, rows


# ---------------------------------------------------------------------------
# compiled: gradient, decay, value, prox operators
# ---------------------------------------------------------------------------


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
def block_shrink(norm, tau):
    """max(1 − τ / ‖w‖₂, 0), the factor of BST_τ(w) = w·max(1 − τ / ‖w‖₂, 0), the prox of
    τ·‖w‖₂, from the block's norm: 0 for ‖w‖₂ ≤ τ (never 0 / 0)."""
    return 1.0 - tau / norm if norm > tau else 0.0


@helper
def feature_weight(feature_weights, j):
    """w_j, the penalty weight of input feature j: 1 without weights (None)."""
    if feature_weights is None:
        return 1.0
    return feature_weights[j]


@helper
def n_groups(group_ptr, n_rows):
    """G, the groups of the first layer's rows: one per row without groups (None)."""
    if group_ptr is None:
        return n_rows
    return group_ptr.shape[0] - 1


@helper
def group_start(group_ptr, g):
    """Position of group g's first row in ``group_rows`` (g itself without groups)."""
    if group_ptr is None:
        return g
    return group_ptr[g]


@helper
def group_row(group_rows, k):
    """Row of the first layer at position k of the rows sorted by group (k without
    groups)."""
    if group_rows is None:
        return k
    return group_rows[k]


@helper
def group_block(W0, regularization, g):
    """(‖W₀[g]‖₂², w̄_g, n_g): the squared norm of group g's block of rows, the mean of
    their feature weights and their number."""
    ptr = regularization.group_ptr
    start, stop = group_start(ptr, g), group_start(ptr, g + 1)
    sq = 0.0
    w = 0.0
    for k in range(start, stop):
        j = group_row(regularization.group_rows, k)
        w += feature_weight(regularization.feature_weights, j)
        for c in range(W0.shape[1]):
            sq += W0[j, c] * W0[j, c]
    return sq, w / (stop - start), stop - start


@helper
def group_prox(W0, step0, regularization):
    """W₀[g] ← BST_τ_g(W₀[g]) per group g of rows, τ_g = λ_g·w̄_g·√(h₁·n_g) · h₁·n_g / Σ 1/step.

    W₀[g] holds the rows of input features in group g (one row per group without
    groups), shrunk as one block. One threshold per block from the harmonic mean of its
    step sizes: η·λ_g·w̄_g·√(h₁·n_g) under SGD, divided by the mean of √v̂ + ε under Adam;
    w̄_g is the mean of the group's feature weights (1 without weights).
    """
    h = W0.shape[1]
    ptr = regularization.group_ptr
    rows = regularization.group_rows
    for g in range(n_groups(ptr, W0.shape[0])):
        sq, w, n = group_block(W0, regularization, g)
        s = 0.0
        for k in range(group_start(ptr, g), group_start(ptr, g + 1)):
            for c in range(h):
                s += 1.0 / step0[group_row(rows, k), c]
        scale = block_shrink(np.sqrt(sq), regularization.group * w * np.sqrt(n * h) * (n * h / s))
        for k in range(group_start(ptr, g), group_start(ptr, g + 1)):
            for c in range(h):
                W0[group_row(rows, k), c] *= scale


@helper
def prox(weights, step, n_first, n_hidden_1, regularization):
    r"""w ← BST_{λ_g·w̄_g}(S_{λ₁·w_j·η}(w)), the prox of the non-smooth part; η_i = ``step[i]``.

    The soft-threshold S_{λ₁·w_j·η_i} of every weight (w_j, the weight of input feature
    j, for the first layer's row j, the first ``n_first`` weights, ``n_hidden_1`` per
    row; 1 for the deeper layers), then the block soft-threshold of the groups of rows
    of W₁ (:func:`group_prox`): their composition is the prox of λ₁·Σ w_j\|W\| +
    λ_g·Σ_g w̄_g·√(h₁·n_g)‖W₁[g]‖₂ (Simon et al. 2013).
    """
    lam1 = regularization.l1
    weights_of = regularization.feature_weights
    if lam1 > 0.0:
        for j in range(n_first // n_hidden_1):  # the first layer, row by row
            tau = lam1 * feature_weight(weights_of, j)
            for i in range(j * n_hidden_1, (j + 1) * n_hidden_1):
                weights[i] = soft_threshold(weights[i], tau * step[i])
        for i in range(n_first, weights.shape[0]):
            weights[i] = soft_threshold(weights[i], lam1 * step[i])
    if regularization.group > 0.0:
        shape = (n_first // n_hidden_1, n_hidden_1)
        group_prox(
            weights[:n_first].reshape(shape),
            step[:n_first].reshape(shape),
            regularization,
        )


@helper
def penalty_term(weights, n_first, n_hidden_1, regularization):
    r"""λ·Ω(W) = λ₂·Σ W² + λ₁·Σ w_j\|W\| + λ_g·Σ_g w̄_g·√(h₁·n_g)·‖W₁[g, :]‖₂ (λ_wd is no term).

    w_j weights the first layer's row j (input feature j), w̄_g is the mean of w_j over
    the rows of group g (each row its own group without groups); 1 without weights and
    for the deeper layers.
    """
    reg = regularization
    sq = 0.0
    for i in range(weights.shape[0]):
        sq += weights[i] * weights[i]
    ab = 0.0
    for j in range(n_first // n_hidden_1):
        ra = 0.0
        for c in range(j * n_hidden_1, (j + 1) * n_hidden_1):
            ra += abs(weights[c])
        ab += feature_weight(reg.feature_weights, j) * ra
    for i in range(n_first, weights.shape[0]):
        ab += abs(weights[i])
    blocks = 0.0
    if reg.group > 0.0:
        W0 = weights[:n_first].reshape((n_first // n_hidden_1, n_hidden_1))
        for g in range(n_groups(reg.group_ptr, W0.shape[0])):
            block_sq, w, n = group_block(W0, reg, g)
            blocks += w * np.sqrt(n * n_hidden_1 * block_sq)
    return reg.l2 * sq + reg.l1 * ab + reg.group * blocks


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
