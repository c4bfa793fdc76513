"""``param_grid`` of the CV estimators: training regularizers searched jointly with λ.

Each combination of ``ParameterGrid(param_grid)`` (say ``{'dropout': [0.0, 0.2]}``)
gets the CV estimator's whole procedure on the same folds: its paths over ``alphas``,
its choice of λ by ``selection``, and the second fit of ``adaptive``. The combination
whose chosen λ has the highest mean held-out score wins (the first listed among ties)
and the estimator takes its fitted state, as :func:`~sklearn_reg._adaptive.fit_adaptive`
takes that of its second fit. Only parameters that act in training alone can be
searched, so that the fitted network predicts (and exports) with the estimator's own
parameters: the stochastic regularizers, the max-norm bound and the mix of the penalty.
"""

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import ParameterGrid, check_cv

#: the parameters ``param_grid`` may search: none of them acts at prediction
SEARCHABLE = (
    "dropout",
    "dropblock",
    "block_size",
    "spatial_dropout",
    "max_norm",
    "l1_ratio",
)


def check_param_grid(param_grid):
    """``ParameterGrid(param_grid)``, or a ValueError naming a parameter that cannot be
    searched."""
    if not param_grid:
        raise ValueError("param_grid must name at least one parameter, got an empty dict.")
    for name in param_grid:
        if name not in SEARCHABLE:
            raise ValueError(
                f"param_grid cannot search {name!r}: it searches the parameters that act "
                f"in training only, {', '.join(map(repr, SEARCHABLE))}; λ is searched by "
                "`alphas`."
            )
    return ParameterGrid(param_grid)


def fit_param_grid(cv, X, y, sample_weight):
    """Fit the CV estimator ``cv`` once per combination of its ``param_grid`` and keep
    the best.

    Returns
    -------
    cv : the CV estimator, fitted; ``best_params_`` and ``param_grid_results_`` added
    """
    grid = check_param_grid(cv.param_grid)
    # the same folds for every combination, also from a shuffling splitter
    folds = list(check_cv(cv.cv, y, classifier=is_classifier(cv)).split(X, y))
    fits = [
        clone(cv).set_params(param_grid=None, cv=folds, **params).fit(X, y, sample_weight)
        for params in grid
    ]
    means = np.array([np.nanmean(f.scores_[:, list(f.alphas_).index(f.alpha_)]) for f in fits])
    best = int(np.nanargmax(means))
    cv._adopt(fits[best])
    cv.best_params_ = dict(grid[best])
    cv.param_grid_results_ = {
        "params": [dict(p) for p in grid],
        "alpha": np.array([f.alpha_ for f in fits]),
        "mean_score": means,
    }
    return cv
