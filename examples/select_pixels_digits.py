"""
End to end on digits: a Pipeline, GridSearchCV over λ and SelectFromModel
=========================================================================

The 8×8 digit images have pixels that never vary (the border) and pixels that carry
little information. A proximal-L1 MLP sets whole rows of its first layer exactly to
zero, so :class:`~sklearn.feature_selection.SelectFromModel` drops those pixels with
its default threshold. GridSearchCV tunes the strength λ (``alpha``) of the
selector by cross-validation; a small L2-regularized MLP classifies the kept pixels.
"""

import time
import warnings

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

pipe = Pipeline([
    ("scale", StandardScaler()),
    ("select", SelectFromModel(RegularizedMLPClassifier(
        hidden_layer_sizes=(50,), penalty="l1", max_iter=60, random_state=0))),
    ("classify", RegularizedMLPClassifier(
        hidden_layer_sizes=(100,), penalty="l2", alpha=1e-4, max_iter=200, random_state=0)),
])
search = GridSearchCV(pipe, {"select__estimator__alpha": [0.001, 0.003, 0.01, 0.03, 0.05]}, cv=3, n_jobs=2)

start = time.perf_counter()
search.fit(X_train, y_train)
elapsed = time.perf_counter() - start

print(f"GridSearchCV over {len(search.cv_results_['params'])} values of λ, 3 folds: {elapsed:.1f} s")
for alpha, score in zip(search.cv_results_["param_select__estimator__alpha"],
                        search.cv_results_["mean_test_score"]):
    print(f"  λ = {alpha:.4f}   CV accuracy {score:.3f}")
best = search.best_estimator_
kept = best.named_steps["select"].get_support()
print(f"best λ = {search.best_params_['select__estimator__alpha']:.4f}: "
      f"keeps {kept.sum()} of 64 pixels, test accuracy {best.score(X_test, y_test):.3f}")
print("pixels kept (#) and dropped (.):")
for row in kept.reshape(8, 8):
    print("  " + " ".join("#" if k else "." for k in row))
