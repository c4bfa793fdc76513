"""
What each penalty does to the first-layer weights
=================================================

The same network (one hidden layer of 32 ReLU units, Adam) is trained on the
standardized 8×8 digit images without a penalty and with each penalty of
:class:`~sklearn_reg.RegularizedMLPClassifier`. The first layer ``coefs_[0]`` has one
row per pixel and one column per hidden unit, so it shows directly what each penalty
does:

- ``'l2'`` and ``'wd'`` shrink every weight and set none exactly to zero;
- ``'l1'`` (a proximal step) sets most single weights exactly to zero, scattered over
  the matrix, but removes few pixels entirely;
- ``'elasticnet'`` sits between the two;
- ``'group'`` (a block proximal step on the rows) sets whole rows to zero: it removes
  pixels, the border first.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifier

warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of 60 epochs

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# One fit per penalty, the same seed and budget. λ (``alpha``) is per objective:
# 1e-2 is a strong penalty here. 'wd' gets 10 times more: under Adam the L2 gradient
# 2λW is divided by √v̂ + ε, small for most weights, while the decay η·λ·W is not.
penalties = {
    "none": {"penalty": None},
    "l2, λ=1e-2": {"penalty": "l2", "alpha": 1e-2},
    "wd, λ=1e-1": {"penalty": "wd", "alpha": 1e-1},
    "l1, λ=1e-2": {"penalty": "l1", "alpha": 1e-2},
    "elasticnet, λ=1e-2": {"penalty": "elasticnet", "alpha": 1e-2, "l1_ratio": 0.5},
    "group, λ=1e-2": {"penalty": "group", "alpha": 1e-2},
}
weights = {}
print(
    f"{'penalty':20s} {'test acc.':>9s} {'‖W₁‖':>6s} {'zeros':>6s} {'pixels removed':>15s} "
    f"{'units cut off':>13s}"
)
for name, params in penalties.items():
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=60, random_state=0, **params
    )
    clf.fit(X_train, y_train)
    W = clf.coefs_[0]  # (64 pixels, 32 hidden units)
    weights[name] = W
    print(
        f"{name:20s} {clf.score(X_test, y_test):9.3f} {np.linalg.norm(W):6.2f} "
        f"{np.mean(W == 0):6.1%} {np.sum(~W.any(axis=1)):11d} / 64 "
        f"{np.sum(~W.any(axis=0)):8d} / 32"
    )

# %%
# Distribution of the weights
# ---------------------------
#
# Histograms of the magnitudes of the non-zero weights (log scale), with the share of
# weights that are exactly zero in each title.
fig, axes = plt.subplots(2, 3, figsize=(11, 5.5), sharex=True, layout="constrained")
bins = np.linspace(-5, 0.5, 56)
for ax, (name, W) in zip(axes.ravel(), weights.items()):
    ax.hist(np.log10(np.abs(W[W != 0])), bins=bins, color="tab:blue")
    ax.set_title(f"{name}: {np.mean(W == 0):.0%} exactly zero", fontsize=10)
for ax in axes[-1]:
    ax.set_xlabel("log10 |w| of the non-zero weights")
fig.suptitle("Non-zero first-layer weights on digits")

# %%
# Where the zeros are
# -------------------
#
# Top: the weight matrix, one row per pixel, exact zeros in black. Bottom: the norm of
# each pixel's row as an 8×8 image; pixels whose whole row is zero (removed from the
# model, hence dropped by :class:`~sklearn.feature_selection.SelectFromModel`) are
# marked with a red cross.
cmap = plt.get_cmap("RdBu_r").with_extremes(bad="black")
fig, axes = plt.subplots(
    2, 6, figsize=(13, 5.2), layout="constrained", gridspec_kw={"height_ratios": [2, 1]}
)
for c, (name, W) in enumerate(weights.items()):
    ax = axes[0, c]
    scale = np.percentile(np.abs(W[W != 0]), 98)  # colours per panel: 'group' is small
    ax.imshow(
        np.where(W == 0, np.nan, W),
        cmap=cmap,
        vmin=-scale,
        vmax=scale,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("hidden unit", fontsize=8)
    ax.set_ylabel("pixel" if c == 0 else "", fontsize=8)
    ax = axes[1, c]
    norms = np.linalg.norm(W, axis=1).reshape(8, 8)
    ax.imshow(norms, cmap="viridis", interpolation="nearest")
    removed = np.argwhere(norms == 0)
    ax.scatter(removed[:, 1], removed[:, 0], marker="x", color="red", s=25)
    ax.set_title(f"{len(removed)} pixels removed", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("First layer: exact zeros (black, top) and removed pixels (red, bottom)")
plt.show()

# %%
# 'l1' zeroes the most weights but removes few pixels: its zeros are scattered, a pixel
# disappears only when all 32 of its weights happen to be zero (it also cuts whole
# hidden units off from the input: the black columns). 'group' zeroes fewer weights,
# all of them in whole rows, so every zero it makes removes a pixel: for feature
# selection it is the penalty to use. 'l2' shrinks all the weights; 'wd' at ten times
# the λ shrinks them less under Adam (the user guide explains why).
