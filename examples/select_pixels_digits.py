"""
End to end on digits: a Pipeline, GridSearchCV over λ and SelectFromModel
=========================================================================

Of the 64 pixels of the 8×8 digit images, a few never vary at all (3 in the training
split below, all on the border) and many, mostly on the border, carry little
information. A proximal-L1 MLP sets whole rows of its first
layer exactly to zero, so :class:`~sklearn.feature_selection.SelectFromModel` drops
those pixels with its default threshold (1e-5 for ``penalty='l1'``). GridSearchCV tunes
the strength λ (``alpha``) of the selector by cross-validation; a small L2-regularized
MLP classifies the kept pixels.

The accuracy falls off a cliff at the strongest λ: the selector then keeps only a handful
of pixels, too few to tell ten digits apart. The search picks the λ that drops the most
pixels before accuracy starts to suffer.
"""

import time
import warnings

import numpy as np
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifier

# a fixed budget of epochs per fit; the search, not convergence, picks the model
warnings.simplefilter("ignore", ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
constant = np.flatnonzero(X_train.std(axis=0) == 0)
print(f"pixels constant in the training set: {constant.size} ({constant.tolist()})")

pipe = Pipeline([
    ("scale", StandardScaler()),
    ("select", SelectFromModel(RegularizedMLPClassifier(
        hidden_layer_sizes=(50,), penalty="l1", max_iter=60, random_state=0))),
    ("classify", RegularizedMLPClassifier(
        hidden_layer_sizes=(100,), penalty="l2", alpha=1e-4, max_iter=200, random_state=0)),
])
grid = {"select__estimator__alpha": [0.001, 0.003, 0.01, 0.03, 0.05]}
# threads: the compiled kernels release the GIL and are shared by every fit
search = GridSearchCV(pipe, grid, cv=3, n_jobs=2)
start = time.perf_counter()
with parallel_backend("threading"):
    search.fit(X_train, y_train)
elapsed = time.perf_counter() - start

print(f"GridSearchCV over {len(grid['select__estimator__alpha'])} values of λ, 3 folds: "
      f"{elapsed:.1f} s")
for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
    alpha = params["select__estimator__alpha"]
    selector = SelectFromModel(RegularizedMLPClassifier(
        hidden_layer_sizes=(50,), penalty="l1", alpha=alpha, max_iter=60, random_state=0))
    n_kept = selector.fit(StandardScaler().fit_transform(X_train), y_train).get_support().sum()
    print(f"  λ = {alpha:.4f}   keeps {n_kept:2d} of 64 pixels   CV accuracy {score:.3f}")
best = search.best_estimator_
kept = best.named_steps["select"].get_support()
print(f"best λ = {search.best_params_['select__estimator__alpha']:.4f}: "
      f"keeps {kept.sum()} of 64 pixels, test accuracy {best.score(X_test, y_test):.3f}")
print(f"constant pixels dropped: {np.isin(constant, np.flatnonzero(~kept)).sum()} of "
      f"{constant.size}")
print("pixels kept (#) and dropped (.):")
for row in kept.reshape(8, 8):
    print("  " + " ".join("#" if k else "." for k in row))
