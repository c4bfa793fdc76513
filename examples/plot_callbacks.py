"""
Watching a fit: progress bars and learning curves with scikit-learn's callbacks
===============================================================================

With scikit-learn 1.9 or later, the estimators support scikit-learn's callbacks
(:mod:`sklearn.callback`): set them with ``set_callbacks`` and they follow every epoch.

- :class:`~sklearn.callback.ProgressBar` (it needs the ``rich`` package) draws one bar
  per fit that advances with the epochs; on a CV estimator the bars nest as the work
  does: the fit, then one path per fold (and one on all the data), then the fit of
  the network at each λ of the path, which advances with its epochs.
- :class:`~sklearn.callback.ScoringMonitor` scores the model at the end of every epoch.
  It scores on the training data the fit receives; a scorer of its ``scoring`` dict
  may score held-out data instead, which gives the validation curve of the same fit.

The data: the digits, 500 images for training and the other 1297 for validation.
"""

# %%
import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPClassifierCV

warnings.simplefilter("ignore", ConvergenceWarning)
# rich draws its bars to the width of the terminal: give it one where there is none
# (as when the documentation is built), wide enough for the nested descriptions
os.environ.setdefault("COLUMNS", "120")

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=500, stratify=y, random_state=0)
params = dict(learning_rate_init=3e-3, random_state=0)

# %%
# Progress bars on a CV estimator
# -------------------------------
#
# The task tree of :class:`~sklearn_reg.RegularizedMLPClassifierCV`: its fit has one
# subtask per path (3 folds and the path on all the data, which run in parallel on
# threads here), each path one subtask per λ, which is the fit of the network at that
# λ, with one subtask per epoch: the bars of the networks' fits advance epoch by
# epoch. ``ProgressBar(max_propagation_depth=0)`` would stop at the paths.

start = time.perf_counter()
cv = RegularizedMLPClassifierCV(
    **params,
    hidden_layer_sizes=(64,),
    alphas=[1e-4, 1e-3, 1e-2],
    cv=3,
    max_iter=60,
    path_max_iter=15,
    n_jobs=2,
)
cv.set_callbacks(ProgressBar()).fit(X_train, y_train)
print(
    f"RegularizedMLPClassifierCV: alpha_ = {cv.alpha_:g} in "
    f"{time.perf_counter() - start:.2f} s, mean CV accuracy per λ "
    f"{np.round(cv.scores_.mean(axis=0), 3)}"
)

# %%
# A progress bar and learning curves on a fit
# -------------------------------------------
#
# One bar per fit, one step per epoch. The scorers of a
# :class:`~sklearn.callback.ScoringMonitor` receive the model as it stands at the end
# of each epoch and the data of the fit; the ``"validation"`` scorer below scores the
# held-out images instead. Two fits of the same network, without and with dropout:
# the printed lines give the epoch of the best validation accuracy of each.


def validation_accuracy(estimator, X, y):
    """Accuracy on the held-out images (the arguments are the training data)."""
    return estimator.score(X_val, y_val)


curves = {}
for dropout in (0.0, 0.5):
    monitor = ScoringMonitor(scoring={"train": "accuracy", "validation": validation_accuracy})
    clf = RegularizedMLPClassifier(
        **params, hidden_layer_sizes=(128,), dropout=dropout, max_iter=100
    )
    start = time.perf_counter()
    clf.set_callbacks(ProgressBar(), monitor).fit(X_train, y_train)
    epochs = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    curves[dropout] = {
        name: np.array([row[name] for row in epochs]) for name in ("train", "validation")
    }
    best = int(np.argmax(curves[dropout]["validation"]))
    print(
        f"dropout={dropout}: {len(epochs)} epochs scored in "
        f"{time.perf_counter() - start:.1f} s; best validation accuracy "
        f"{curves[dropout]['validation'][best]:.3f} at epoch {best + 1}; at the end "
        f"train {curves[dropout]['train'][-1]:.3f}, validation "
        f"{curves[dropout]['validation'][-1]:.3f}"
    )

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, (dropout, curve) in zip(axes, curves.items()):
    epoch = np.arange(1, len(curve["train"]) + 1)
    ax.plot(epoch, curve["train"], label="train")
    ax.plot(epoch, curve["validation"], label="validation")
    ax.set_xlabel("epoch")
    ax.set_title(f"dropout = {dropout}")
    ax.legend(loc="lower right")
axes[0].set_ylabel("accuracy")
axes[0].set_ylim(0.8, 1.005)
fig.suptitle("ScoringMonitor: accuracy at the end of each epoch")
fig.tight_layout()
plt.show()
