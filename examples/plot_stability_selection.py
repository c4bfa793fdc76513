"""
Stability selection: the 5 true columns of Friedman #1 among 100, with an error bound
=====================================================================================

:class:`~sklearn_reg.StabilitySelection` splits the samples 50 times into two
disjoint halves and, on each of the 100 halves, trains one small network along a
grid of penalty strengths λ with the group penalty, which removes whole input
columns (rows of the first layer ``coefs_[0]`` set exactly to zero). The *stability
score* of a column at λ is the share of halves on which it survives at λ.

On :func:`~sklearn.datasets.make_friedman1`, only the first 5 of the 100 columns
enter the target y = 10·sin(π·x₀·x₁) + 20·(x₂ − 0.5)² + 10·x₃ + 5·x₄ + noise. At the
weakest λ every column survives on every half, so the scores are computed over a
*region* of strong λ, the widest whose Meinshausen–Bühlmann bound on the expected
number of false selections, q² / ((2·threshold − 1)·p), is at most
``max_false_selections`` (10 by default); a column is stable when its score reaches
``threshold`` (0.8) somewhere in that region.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1

from sklearn_reg import StabilitySelection

X, y = make_friedman1(n_samples=2000, n_features=100, noise=1.0, random_state=0)
N_TRUE = 5

start = time.perf_counter()
selector = StabilitySelection(n_jobs=2, random_state=0).fit(X, y)
elapsed = time.perf_counter() - start

support = selector.get_support(indices=True)
scores = selector.max_stability_scores_
print(
    f"StabilitySelection: {2 * selector.n_pairs} paths of {len(selector.alphas_)} values "
    f"of λ in {elapsed:.1f} s"
)
print(
    f"stable columns: {support.tolist()} "
    f"({np.count_nonzero(support < N_TRUE)}/{N_TRUE} informative)"
)
print(f"region used: λ ≥ {selector.alpha_min_:.3g}; q = {selector.q_:.1f} columns per half")
print(
    f"bound on the expected number of false selections: "
    f"{selector.expected_false_selections_:.2f} (Meinshausen–Bühlmann), "
    f"{selector.expected_false_selections_unimodal_:.2f} (Shah–Samworth, unimodal)"
)
print(
    f"scores of the informative columns: {np.round(scores[:N_TRUE], 2).tolist()}; "
    f"highest of the noise columns: {scores[N_TRUE:].max():.2f}"
)

# %%
# The stability paths: the score of each column against λ. Every column is kept at
# the weakest λ; the noise columns (gray) fall to zero within a few steps while the
# informative ones (red) stay near 1 over the shaded region, until λ is strong enough
# to remove them too. The right panel shows the mean number of columns kept per half.
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
alphas = selector.alphas_
ax.semilogx(alphas, selector.stability_scores_[N_TRUE:].T, color="tab:gray", lw=0.7)
for j in range(N_TRUE):
    ax.semilogx(
        alphas,
        selector.stability_scores_[j],
        color="tab:red",
        lw=1.8,
        label="informative" if j == 0 else None,
    )
ax.axhline(selector.threshold, color="black", ls="--", lw=1, label="threshold")
ax.axvspan(selector.alpha_min_, alphas[-1], color="tab:blue", alpha=0.1, label="region used")
ax.set_xlabel("λ (alpha)")
ax.set_ylabel("stability score (share of halves)")
ax.set_title("stability paths (gray: noise columns)")
ax.legend(loc="center right")

ax = axes[1]
ax.semilogx(alphas, selector.mean_n_selected_, marker="o")
ax.axvspan(selector.alpha_min_, alphas[-1], color="tab:blue", alpha=0.1)
ax.set_yscale("log")
ax.set_xlabel("λ (alpha)")
ax.set_ylabel("columns kept per half (mean)")
ax.set_title(
    f"q = {selector.q_:.1f} over the region, bound {selector.expected_false_selections_:.1f}"
)
fig.tight_layout()
plt.show()
