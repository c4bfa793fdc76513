"""
End to end on digits: a Pipeline, GridSearchCV over λ and SelectFromModel
=========================================================================

Of the 64 pixels of the 8×8 digit images, a few never vary at all (4 in the training
split below, all on the border) and many, mostly on the border, carry little
information. A proximal-L1 MLP sets whole rows of its first layer exactly to zero, so
:class:`~sklearn.feature_selection.SelectFromModel` drops those pixels with its default
threshold (1e-5 for ``penalty='l1'``). GridSearchCV tunes the strength λ (``alpha``) of
the selector by cross-validation; a small L2-regularized MLP classifies the kept pixels.

The grid comes from the data: λ doubles from 1e-3 until the selector, fitted alone on
the training set, keeps fewer than half of the pixels; from there on, too few pixels
are left to tell ten digits apart, so the search covers the values below. Of those, the
search keeps the strongest λ whose accuracy is within one standard error of the best
(the rule of ``selection='1se'`` in the CV estimators): the fewest pixels at no
measurable cost. The path printed around it shows the pixels each λ keeps.
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


def selector(alpha=1e-3):
    """The L1 network whose zero rows of ``coefs_[0]`` drop pixels."""
    return RegularizedMLPClassifier(
        hidden_layer_sizes=(50,), penalty="l1", alpha=alpha, max_iter=60, random_state=0
    )


def pixels_kept(alpha, X_scaled, y):
    """Number of pixels that the selector at ``alpha``, fitted on (X_scaled, y), keeps."""
    return int(SelectFromModel(selector(alpha)).fit(X_scaled, y).get_support().sum())


def path_until_half_the_pixels_go(X_scaled, y, start=1e-3):
    """{λ: pixels kept} for λ = start, 2·start, 4·start, ... up to the first λ at which
    the selector keeps fewer than half of the pixels."""
    kept, alpha = {}, start
    while not kept or min(kept.values()) >= X_scaled.shape[1] / 2:
        kept[alpha] = pixels_kept(alpha, X_scaled, y)
        alpha *= 2
    return kept


def strongest_within_one_standard_error(cv_results):
    """Index of the largest λ whose mean CV score is within one standard error of the
    best mean (``refit`` callable of GridSearchCV; the grid is increasing)."""
    mean, std = cv_results["mean_test_score"], cv_results["std_test_score"]
    n_folds = sum(key.startswith("split") and key.endswith("_test_score") for key in cv_results)
    best = int(np.argmax(mean))
    return int(np.flatnonzero(mean >= mean[best] - std[best] / np.sqrt(n_folds)).max())


start = time.perf_counter()
path = path_until_half_the_pixels_go(StandardScaler().fit_transform(X_train), y_train)
alphas = list(path)[:-1]  # the last one keeps fewer than half of the pixels
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("select", SelectFromModel(selector())),
        (
            "classify",
            RegularizedMLPClassifier(
                hidden_layer_sizes=(100,), penalty="l2", alpha=1e-4, max_iter=200, random_state=0
            ),
        ),
    ]
)
# threads: the compiled kernels release the GIL and are shared by every fit, which (as
# prediction) runs its batch-sized products on one BLAS thread: two at a time do not
# oversubscribe the cores
search = GridSearchCV(
    pipe,
    {"select__estimator__alpha": alphas},
    cv=3,
    n_jobs=2,
    refit=strongest_within_one_standard_error,
)
with parallel_backend("threading"):
    search.fit(X_train, y_train)
elapsed = time.perf_counter() - start

chosen = search.best_params_["select__estimator__alpha"]
print(
    f"λ doubled from {alphas[0]:g} to {list(path)[-1]:g}; GridSearchCV over the "
    f"{len(alphas)} values below, 3 folds: {elapsed:.1f} s"
)
results = search.cv_results_
for alpha, n_kept in path.items():
    line = f"  λ = {alpha:.4f}   keeps {n_kept:2d} of 64 pixels"
    if alpha in alphas:
        k = alphas.index(alpha)
        line += (
            f"   CV accuracy {results['mean_test_score'][k]:.3f} ± "
            f"{results['std_test_score'][k]:.3f}" + ("   <- chosen" if alpha == chosen else "")
        )
    else:
        line += "   (fewer than half: not searched)"
    print(line)
best = search.best_estimator_
kept = best.named_steps["select"].get_support()
print(
    f"chosen λ = {chosen:.4f}: keeps {kept.sum()} of 64 pixels, test accuracy "
    f"{best.score(X_test, y_test):.3f}"
)
print(
    f"constant pixels dropped: {np.isin(constant, np.flatnonzero(~kept)).sum()} of {constant.size}"
)
print("pixels kept (#) and dropped (.):")
for row in kept.reshape(8, 8):
    print("  " + " ".join("#" if k else "." for k in row))
