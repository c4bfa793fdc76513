"""Scale-out: the searches and the CV estimators run unchanged on a Dask cluster.

Needs ``dask[distributed]`` (the ``sklearn_reg[dask]`` extra); skipped without it.
The cluster listens on the loopback interface only and has no dashboard.
"""

import numpy as np
import pytest
from joblib import parallel_backend
from scipy.stats import loguniform
from sklearn.datasets import make_classification, make_friedman1
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.preprocessing import StandardScaler

from sklearn_reg import (
    RegularizedMLPClassifier,
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressorCV,
)

distributed = pytest.importorskip("distributed")

PARAMS = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=50, random_state=0)


@pytest.fixture(scope="module")
def client():
    # threads in this process, talking TCP on the loopback interface (processes=False
    # alone would use the in-process transport, which rejects a host)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400, n_features=12, n_informative=4, n_redundant=0, shuffle=False, random_state=0
    )
    return StandardScaler().fit_transform(X), y


def _on_dask(search, X, y):
    """Fit under joblib's dask backend; check that the fits ran on the cluster's workers."""
    with distributed.get_task_stream() as stream, parallel_backend("dask"):
        search.fit(X, y)
    tasks = [str(task["key"]) for task in stream.data]
    assert tasks and all(task["worker"].startswith("tcp://127.0.0.1:") for task in stream.data)
    return search


def test_grid_search_on_dask_equals_local(client, data):
    X, y = data
    grid = {"alpha": [1e-4, 1e-3, 1e-2], "penalty": ["l1", "group"]}
    local = GridSearchCV(RegularizedMLPClassifier(**PARAMS), grid, cv=3).fit(X, y)
    remote = _on_dask(GridSearchCV(RegularizedMLPClassifier(**PARAMS), grid, cv=3), X, y)
    np.testing.assert_array_equal(
        local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"]
    )
    assert local.best_params_ == remote.best_params_
    np.testing.assert_array_equal(local.best_estimator_.coefs_[0], remote.best_estimator_.coefs_[0])


def test_randomized_search_on_dask_equals_local(client, data):
    X, y = data
    space = {"alpha": loguniform(1e-5, 1e-1), "penalty": ["l1", "wd"]}
    kw = dict(n_iter=4, cv=3, random_state=0)
    local = RandomizedSearchCV(RegularizedMLPClassifier(**PARAMS), space, **kw).fit(X, y)
    remote = _on_dask(RandomizedSearchCV(RegularizedMLPClassifier(**PARAMS), space, **kw), X, y)
    assert local.cv_results_["params"] == remote.cv_results_["params"]
    np.testing.assert_array_equal(
        local.cv_results_["mean_test_score"], remote.cv_results_["mean_test_score"]
    )


def test_cv_classifier_on_dask_equals_local(client, data):
    X, y = data
    kw = dict(alphas=[1e-4, 1e-3, 1e-2], cv=3, penalty="group", adaptive=False, **PARAMS)
    local = RegularizedMLPClassifierCV(**kw).fit(X, y)
    with distributed.get_task_stream() as stream:
        remote = _on_dask(RegularizedMLPClassifierCV(**kw), X, y)
    # one task per fold and one for the full-data path
    keys = [str(task["key"]) for task in stream.data]
    assert sum("_fold_scores" in k for k in keys) == 3 and sum("_full_path" in k for k in keys) == 1
    np.testing.assert_array_equal(local.scores_, remote.scores_)
    assert local.alpha_ == remote.alpha_
    for W, V in zip(local.coefs_, remote.coefs_):
        np.testing.assert_array_equal(W, V)
    np.testing.assert_array_equal(local.predict(X), remote.predict(X))


def test_cv_regressor_on_dask_equals_local(client):
    X, y = make_friedman1(n_samples=300, n_features=8, random_state=0)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    kw = dict(alphas=[1e-3, 1e-2], cv=3, penalty="l1", **PARAMS)
    local = RegularizedMLPRegressorCV(**kw).fit(X, y)
    remote = _on_dask(RegularizedMLPRegressorCV(**kw), X, y)
    np.testing.assert_array_equal(local.scores_, remote.scores_)
    np.testing.assert_array_equal(local.n_features_selected_, remote.n_features_selected_)
    np.testing.assert_array_equal(local.predict(X), remote.predict(X))
