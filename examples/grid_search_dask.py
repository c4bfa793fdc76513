"""
The same search on a local Dask cluster
=======================================

scikit-learn's searches and the CV estimators of sklearn_reg parallelise with joblib,
so they run unchanged on a Dask cluster: create a ``distributed.Client`` and fit
inside ``joblib.parallel_backend("dask")``. Here the cluster is local — two workers
listening on the loopback interface only, no dashboard — but the code is the same
for a cluster of many machines (pass its scheduler address to ``Client``).

Needs ``dask[distributed]`` (``pip install sklearn_reg[dask]``).
"""

# %%
import sys
import time
import warnings

import numpy as np
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPClassifierCV

try:
    from distributed import Client, LocalCluster
except ImportError:
    print("This example needs dask[distributed]: pip install 'sklearn_reg[dask]'")
    sys.exit(0)

warnings.simplefilter("ignore", ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
alphas = [1e-4, 1e-3, 1e-2, 3e-2]
params = dict(
    hidden_layer_sizes=(32,), penalty="l1", learning_rate_init=0.01, max_iter=60, random_state=0
)


def search():
    """GridSearchCV over λ, then the CV estimator over the same grid and folds."""
    grid = GridSearchCV(RegularizedMLPClassifier(**params), {"alpha": alphas}, cv=folds)
    cv = RegularizedMLPClassifierCV(alphas=alphas, cv=folds, adaptive=False, **params)
    start = time.perf_counter()
    grid.fit(X, y)
    middle = time.perf_counter()
    cv.fit(X, y)
    return grid, cv, middle - start, time.perf_counter() - middle


# %%
# Locally, with joblib's default backend (n_jobs=None: one process).
local_grid, local_cv, t_grid, t_cv = search()
print(
    f"local:  GridSearchCV {t_grid:.1f} s, best α = {local_grid.best_params_['alpha']:g} "
    f"(CV accuracy {local_grid.best_score_:.3f}); "
    f"RegularizedMLPClassifierCV {t_cv:.1f} s, α = {local_cv.alpha_:g}"
)

# %%
# On a local Dask cluster: the same calls inside ``parallel_backend("dask")``.
# Two single-threaded workers in this process, talking TCP on the loopback interface;
# ``processes=True`` would start worker processes, and for a real cluster one passes
# the scheduler's address, ``Client("tcp://scheduler:8786")``.
with (
    LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster,
    Client(cluster) as client,
):
    print(
        f"Dask cluster at {client.scheduler.address} with "
        f"{len(client.scheduler_info()['workers'])} workers"
    )
    with parallel_backend("dask"):
        dask_grid, dask_cv, t_grid, t_cv = search()
print(
    f"dask:   GridSearchCV {t_grid:.1f} s, best α = {dask_grid.best_params_['alpha']:g} "
    f"(CV accuracy {dask_grid.best_score_:.3f}); "
    f"RegularizedMLPClassifierCV {t_cv:.1f} s, α = {dask_cv.alpha_:g}"
)

# %%
# Every seed is fixed, so the results are the same wherever the fits ran.
same = (
    np.array_equal(
        local_grid.cv_results_["mean_test_score"], dask_grid.cv_results_["mean_test_score"]
    )
    and np.array_equal(local_cv.scores_, dask_cv.scores_)
    and np.array_equal(local_cv.coefs_[0], dask_cv.coefs_[0])
)
print("identical results on Dask and locally:", same)
for alpha, score in zip(alphas, dask_grid.cv_results_["mean_test_score"]):
    print(f"  λ = {alpha:g}: GridSearchCV accuracy {score:.3f}")
