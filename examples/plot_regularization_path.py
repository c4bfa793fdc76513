"""
The regularization path: selected features and CV score against λ
===================================================================

:func:`~sklearn_reg.regularization_path` trains one network along a grid of penalty
strengths λ, from weak to strong, each fit starting from the weights of the previous
one; :class:`~sklearn_reg.RegularizedMLPRegressorCV` runs that path on every fold
and scores each λ on the held-out data. Here, on Friedman #1 with 5 informative
columns out of 30, we plot

- the importance of each column (norm of its row of the first layer) along the path
  on all the data: the group penalty drives the noise columns to exactly zero first;
- the number of selected columns and the mean CV R² (± one standard error)
  against λ, with the choices of ``selection='best'`` and ``selection='1se'``.
"""

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPRegressorCV, regularization_path

warnings.simplefilter("ignore", ConvergenceWarning)

X, y = make_friedman1(n_samples=2000, n_features=30, noise=1.0, random_state=0)
X = StandardScaler().fit_transform(X)
y = (y - y.mean()) / y.std()
N_TRUE = 5
alphas = np.geomspace(1e-4, 1e-1, 12)
params = dict(penalty="group", hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0)

# %%
# The path on all the data.
start = time.perf_counter()
alphas, coefs, losses, n_selected = regularization_path(X, y, alphas, **params)
print(f"regularization_path: {len(alphas)} values of λ in {time.perf_counter() - start:.1f} s")
for alpha, loss, n in zip(alphas, losses, n_selected):
    print(f"  λ = {alpha:.2e}   training objective {loss:.3f}   columns kept {n:3d}")
importance = np.array([np.linalg.norm(c[0], axis=1) for c in coefs])  # (n_alphas, n_features)

# %%
# Cross-validation over the same path, both selection rules. ``adaptive=False``: one
# path per fold, as above (by default the CV estimators fit the 'group' penalty twice,
# the second path reweighted by the first: the adaptive group lasso).
start = time.perf_counter()
cv_params = dict(alphas=alphas, adaptive=False, n_jobs=2, **params)
best = RegularizedMLPRegressorCV(**cv_params).fit(X, y)
print(f"RegularizedMLPRegressorCV: 5 folds in {time.perf_counter() - start:.1f} s")
one_se = RegularizedMLPRegressorCV(selection="1se", **cv_params).fit(X, y)
mean = best.scores_.mean(axis=0)
se = best.scores_.std(axis=0, ddof=1) / np.sqrt(best.scores_.shape[0])
for name, est in [("best", best), ("1se", one_se)]:
    kept = np.flatnonzero(np.any(est.coefs_[0] != 0, axis=1))
    print(
        f"selection='{name}': α = {est.alpha_:.2e}, CV R² "
        f"{mean[list(alphas).index(est.alpha_)]:.3f}, {len(kept)} columns kept, "
        f"{np.count_nonzero(kept < N_TRUE)}/{N_TRUE} informative"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
ax.semilogx(alphas, importance[:, N_TRUE:], color="tab:gray", lw=0.8)
ax.semilogx(alphas, importance[:, :N_TRUE], color="tab:red")
ax.set_xlabel("λ (alpha)")
ax.set_ylabel("‖row of coefs_[0]‖")
ax.set_title("importances along the path (red: informative)")

ax = axes[1]
ax.errorbar(alphas, mean, yerr=se, color="tab:blue", marker="o", capsize=3)
ax.set_xscale("log")
ax.set_xlabel("λ (alpha)")
ax.set_ylabel("mean CV R²", color="tab:blue")
ax.axvline(best.alpha_, color="tab:blue", ls="--", label="selection='best'")
ax.axvline(one_se.alpha_, color="tab:green", ls=":", label="selection='1se'")
ax.legend(loc="lower left")
twin = ax.twinx()
twin.step(alphas, best.n_features_selected_, where="mid", color="tab:orange")
twin.set_ylabel("columns selected", color="tab:orange")
ax.set_title("CV score and selected columns")
fig.tight_layout()
plt.show()
