"""
Max-norm with dropout
=====================

Srivastava et al. (JMLR 2014) train their dropout networks with a large learning rate
and a *max-norm* constraint: after each step, the incoming weight vector of every hidden
unit is projected back onto the ball ‖w‖₂ ≤ c. The constraint lets the weights move fast
without blowing up, where an L2 penalty only pulls them back in proportion to their
size. Here a wide network with dropout on digits, trained with a high learning rate,
with an L2 penalty and with ``max_norm``: the figure shows the norms of the hidden units'
incoming weights after training. Without a constraint they spread up to about 10, L2
shrinks them all in proportion, max-norm leaves the small ones alone and stops every
other one at exactly c. On a problem as easy as digits the three reach about the same
test accuracy (printed); the constraint earns its place with longer training at high
learning rates, where the unconstrained weights keep growing.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

common = dict(
    hidden_layer_sizes=(256,),
    dropout=0.5,
    solver="sgd",
    learning_rate_init=0.5,
    momentum=0.9,
    max_iter=60,
    random_state=0,
)
models = {
    "dropout, no penalty": RegularizedMLPClassifier(penalty=None, **common),
    "dropout + L2 (λ = 1e-3)": RegularizedMLPClassifier(penalty="l2", alpha=1e-3, **common),
    "dropout + max-norm (c = 0.5)": RegularizedMLPClassifier(penalty=None, max_norm=0.5, **common),
}

fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(0, 10, 81)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of epochs
    for name, model in models.items():
        model.fit(X_train, y_train)
        norms = np.linalg.norm(model.coefs_[0], axis=0)  # one per hidden unit
        print(
            f"{name:28s} test accuracy {model.score(X_test, y_test):.3f}, "
            f"hidden-unit norms: median {np.median(norms):.2f}, max {norms.max():.2f}"
        )
        ax.hist(norms, bins=bins, alpha=0.6, label=name)
ax.axvline(0.5, color="k", linestyle=":", label="c = 0.5")
ax.set_xlabel("‖incoming weights‖₂ of a hidden unit")
ax.set_ylabel("hidden units")
ax.legend()
fig.tight_layout()
plt.show()
