"""The adaptive lasso and the adaptive group lasso of the CV estimators (``adaptive``).

At the λ that predicts best, the lasso keeps noise features: it is not selection
consistent (Zou, 2006), and neither is the group lasso of a neural network's input
rows (Dinh & Ho, 2020). Their adaptive versions are: a second fit whose penalty weighs
each feature j by

    w_j = 1 / (‖W₁[j, :]‖₂^γ + TINY)

from the first layer ``W₁ = coefs_[0]`` of a first fit, so that a feature the first fit
found weak is penalized hard and a strong one lightly. :func:`fit_adaptive` runs the CV
estimator's whole procedure twice: the first path and its choice of λ (``alpha_``), then
the weights from the model at that λ, then the path and the choice again with the
weights as ``penalty_weights`` (:func:`sklearn_reg._penalties.prox` scales the first
layer's row j by w_j). The model at the first ``alpha_`` is the initial estimate
of Dinh & Ho's adaptive group lasso (a group-lasso fit); its zero rows get the weight
1 / TINY, which keeps them at zero in the second path at every λ of the grid.
"""

import numpy as np
from sklearn.base import clone

from ._config import feature_selecting_penalties, require_row_penalty

#: added to ‖W₁[j, :]‖^γ: a feature at zero in the first fit gets the finite weight
#: 1 / TINY = 1e12, whose threshold λ·w_j·η keeps its row at zero at any λ ≥ 1e-10 (a
#: row's Adam step moves it by about η), and λ·w_j·‖0‖ = 0 in ``loss_``, never NaN
TINY = 1e-12


def adaptive_weights(W0, gamma, penalty_weights=None, feature_groups=None):
    """w_j = p_j / (‖W₁[g(j), :]‖₂^γ + TINY) for the rows j of the first layer ``W0``.

    Parameters
    ----------
    W0 : ndarray of shape (n_features, n_hidden_1)
        The first layer ``coefs_[0]`` of the first fit.
    gamma : float
        γ > 0; the larger, the harder weak features are penalized.
    penalty_weights : array-like of shape (n_features,) or None
        The user's weights p_j of the first fit (1 if None), multiplied in: a feature
        that the user leaves unpenalized (p_j = 0) stays unpenalized.
    feature_groups : array-like of shape (n_features,) or None
        The group g(j) of each row; the norm is that of the group's block of rows, the
        same for all its rows. None: each row its own group.

    Returns
    -------
    weights : ndarray of float64, shape (n_features,)
    """
    W0 = np.asarray(W0, dtype=np.float64)
    sq = np.einsum("jc,jc->j", W0, W0)
    if feature_groups is not None:
        _, group = np.unique(np.asarray(feature_groups), return_inverse=True)
        sq = np.bincount(group, weights=sq)[group]
    weights = 1.0 / (np.sqrt(sq) ** gamma + TINY)
    if penalty_weights is not None:
        weights *= np.asarray(penalty_weights, dtype=np.float64)
    return weights


def adaptive_gamma(adaptive, penalty):
    """γ of the ``adaptive`` parameter, or 0 for a single fit: 'auto' is γ = 1 for the
    penalties that select input features and 0 for the others, True is γ = 1, False 0."""
    if adaptive == "auto":
        return 1.0 if penalty in feature_selecting_penalties() else 0.0
    return float(adaptive)


def fit_adaptive(cv, X, y, sample_weight, gamma):
    """Fit the CV estimator ``cv`` twice, the second path weighted by the first model.

    Both fits are fits of clones of ``cv`` with ``adaptive=False`` (the callbacks see
    two CV fits); ``cv`` takes the fitted state of the second and its weights as
    ``adaptive_weights_``. ``gamma`` is γ > 0 of the weights.

    Returns
    -------
    cv : the CV estimator, fitted
    """
    require_row_penalty(cv.penalty, f"adaptive={cv.adaptive!r} reweights", "adaptive=False")
    first = clone(cv).set_params(adaptive=False).fit(X, y, sample_weight)
    weights = adaptive_weights(first.coefs_[0], gamma, cv.penalty_weights, cv.feature_groups)
    second = clone(cv).set_params(adaptive=False, penalty_weights=weights)
    cv._adopt(second.fit(X, y, sample_weight))
    cv.adaptive_weights_ = weights
    return cv
