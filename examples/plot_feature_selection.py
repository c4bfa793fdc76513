"""
Selecting the 5 true columns of Friedman #1 among 100 with a cross-validated MLP
================================================================================

:func:`~sklearn.datasets.make_friedman1` draws 100 uniform columns, of which only the
first 5 enter the target
y = 10·sin(π·x₀·x₁) + 20·(x₂ − 0.5)² + 10·x₃ + 5·x₄ + noise — a non-linear function
that a linear Lasso cannot fit. :class:`~sklearn_reg.RegularizedMLPRegressorCV`
chooses the penalty strength λ by 5-fold cross-validation over a warm-started path,
and :class:`~sklearn.feature_selection.SelectFromModel` keeps the columns whose
first-layer weights survive, without being told how many to keep:

- ``penalty='group'`` removes whole rows of the first layer (one per input column);
  SelectFromModel's default threshold for it is the mean importance.
- ``penalty='l1'`` zeroes single weights; SelectFromModel's default threshold for it
  is 1e-5, i.e. it keeps every column with a non-zero weight left.

With these penalties the CV estimators fit twice by default (``adaptive='auto'``):
the adaptive lasso and adaptive group lasso, a second path whose penalty weighs each
column by the inverse norm of its row in the first fit. The plain penalties
(``adaptive=False``) show why.

The baseline is a plain MLP (no penalty), whose first-layer norms are all of the same
order.
"""

# %%
# Data: 2000 samples, 100 standardized columns, 5 of them informative.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPRegressor, RegularizedMLPRegressorCV

warnings.simplefilter("ignore", ConvergenceWarning)

X, y = make_friedman1(n_samples=2000, n_features=100, noise=1.0, random_state=0)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
TRUE = set(range(5))


def report(name, selector, elapsed):
    kept = {int(j) for j in np.flatnonzero(selector.get_support())}
    precision = len(kept & TRUE) / max(len(kept), 1)
    print(
        f"{name:<44} {elapsed:5.1f} s  keeps {len(kept):3d} columns, "
        f"{len(kept & TRUE)}/5 true, precision {precision:.2f}: "
        f"{sorted(kept) if len(kept) <= 12 else str(sorted(kept)[:12])[:-1] + ', ...]'}"
    )


# %%
# The baseline: a plain MLP and SelectFromModel's "mean" threshold.
params = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)
start = time.perf_counter()
plain = SelectFromModel(RegularizedMLPRegressor(penalty=None, **params)).fit(X, y)
report("plain MLP, threshold='mean'", plain, time.perf_counter() - start)

# %%
# The plain penalties (``adaptive=False``): 12 values of λ from 1e-4 to 1e-1, 5 folds
# in parallel.
alphas = np.geomspace(1e-4, 1e-1, 12)


def select(name, **cv_params):
    start = time.perf_counter()
    selector = SelectFromModel(
        RegularizedMLPRegressorCV(alphas=alphas, n_jobs=2, **params, **cv_params)
    ).fit(X, y)
    elapsed = time.perf_counter() - start
    report(f"{name} (α = {selector.estimator_.alpha_:.2g})", selector, elapsed)
    return selector


group = select("CV 'group', adaptive=False", penalty="group", adaptive=False)
l1 = select("CV 'l1', adaptive=False", penalty="l1", adaptive=False)

# %%
# With 'l1' the default threshold keeps every column with a weight left: at the λ
# that predicts best the lasso keeps noise columns (it is not selection consistent),
# with weights of size ~learning rate where the true columns have ≥ 0.5. The
# default, ``adaptive='auto'``, fits again with each column's penalty weighted by
# 1 / ‖W₁[j, :]‖ of that first fit: noise columns are penalized hard, and the
# model itself keeps only the true columns.
adaptive = select("CV 'l1', adaptive (default)", penalty="l1")

# %%
# Importances (L1 norm of each column's first-layer weights) of the four models.
fig, axes = plt.subplots(4, 1, figsize=(9, 9), sharex=True)
models = [
    ("plain MLP", plain.estimator_),
    ("CV 'group', adaptive=False", group.estimator_),
    ("CV 'l1', adaptive=False", l1.estimator_),
    ("CV 'l1' (adaptive, the default)", adaptive.estimator_),
]
for ax, (name, model) in zip(axes, models):
    importance = np.abs(model.coef_).sum(axis=0)
    colors = ["tab:red" if j in TRUE else "tab:gray" for j in range(X.shape[1])]
    ax.bar(np.arange(X.shape[1]), importance, color=colors)
    ax.set_ylabel("importance")
    ax.set_title(f"{name}: red = the 5 true columns")
axes[-1].set_xlabel("column")
fig.tight_layout()
plt.show()
