"""Penalties: names to integer codes, and the value of Ω for ``loss_``.

A penalty, as in skglm, is a ``value`` and a ``prox``; the prox operators and the
gradient of the smooth parts live in the compiled kernels (``_kernels``), keyed by
the integer codes defined here.

=============  ================================================  ======================
penalty        Ω(W) (λ·Ω is added to the data loss)              applied as
=============  ================================================  ======================
``None``       0                                                 nothing
``'l2'``       Σ W²                                              gradient 2λW
``'l1'``       Σ |W|                                             prox S_τ (soft-threshold)
``'wd'``       0 (decoupled: W ← W − η·λ·W each step)            decay after the step
``'elasticnet'`` l1_ratio·Σ|W| + (1 − l1_ratio)·Σ W²             gradient + prox
``'group'``    Σ_j √h₁·‖W₁[j, :]‖₂ over input features j         block soft-threshold
=============  ================================================  ======================
"""

import numpy as np

NONE, L2, L1, WD, ELASTICNET, GROUP = 0, 1, 2, 3, 4, 5

PENALTY_CODES = {None: NONE, "l2": L2, "l1": L1, "wd": WD, "elasticnet": ELASTICNET, "group": GROUP}

#: penalties whose objective is differentiable, the only ones L-BFGS may minimise
SMOOTH_PENALTIES = (None, "l2")


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
