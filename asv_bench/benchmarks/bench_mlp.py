"""asv benchmarks: fit, partial_fit, predict and peak memory of sklearn_reg's MLP.

Every benchmark is parametrized by ``implementation`` — ``'sklearn_reg'``
(:class:`~sklearn_reg.RegularizedMLPClassifier`) or ``'sklearn'``
(:class:`sklearn.neural_network.MLPClassifier`) — so that ``asv compare`` and the
web view show their ratio. ``regularizer`` selects sklearn_reg's penalty / dropout;
scikit-learn's MLP has only its L2 (``alpha``), so it runs ``'none'`` (alpha=0) and
``'l2'`` (the same strength, α_sklearn = 2·B·λ) and asv skips its other combinations.

Sizes are small, so that ``asv run --python=same --quick`` finishes in a few minutes
on 2 cores. ``setup`` builds the data and runs one tiny fit + predict, which loads
(or compiles) the numba kernels: compile time is never part of a timing. The cost
of the first fit in a fresh process is measured by ``asv_bench/compare.py``.

Run from ``asv_bench/``::

    asv machine --yes
    asv run --python=same --quick
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sklearn_reg import RegularizedMLPClassifier

N_SAMPLES, N_FEATURES, N_CLASSES = 5_000, 50, 3
N_PREDICT = 100_000
BATCH_SIZE = 200
LAMBDA = 1e-4

#: parameters shared by both implementations: a fixed number of Adam epochs
COMMON = dict(
    hidden_layer_sizes=(100,),
    solver="adam",
    batch_size=BATCH_SIZE,
    max_iter=5,
    tol=0.0,
    n_iter_no_change=10**9,
    random_state=0,
)
IMPLEMENTATIONS = ["sklearn_reg", "sklearn"]
REGULARIZERS = ["none", "l2", "l1", "wd", "dropout"]

SKLEARN_REG_PARAMS = {
    "none": dict(penalty=None),
    "l2": dict(penalty="l2", alpha=LAMBDA),
    "l1": dict(penalty="l1", alpha=LAMBDA),
    "wd": dict(penalty="wd", alpha=LAMBDA),
    "dropout": dict(penalty=None, dropout=0.5),
}
#: scikit-learn adds α/(2B)·‖W‖² per batch, so α = 2·B·λ is sklearn_reg's λ·‖W‖²
SKLEARN_PARAMS = {"none": dict(alpha=0.0), "l2": dict(alpha=2 * BATCH_SIZE * LAMBDA)}


def make_estimator(implementation, regularizer="l2"):
    """The estimator of ``implementation``; NotImplementedError (asv: skip) if it lacks
    the regularizer."""
    if implementation == "sklearn_reg":
        return RegularizedMLPClassifier(**COMMON, **SKLEARN_REG_PARAMS[regularizer])
    if regularizer not in SKLEARN_PARAMS:
        raise NotImplementedError(f"scikit-learn's MLP has no {regularizer!r} regularizer")
    return MLPClassifier(**COMMON, **SKLEARN_PARAMS[regularizer])


def make_data(n_samples=N_SAMPLES):
    """A 3-class problem with half of the features informative."""
    return make_classification(
        n_samples=n_samples,
        n_features=N_FEATURES,
        n_informative=N_FEATURES // 2,
        n_classes=N_CLASSES,
        random_state=0,
    )


def warm_up(estimator, X, y):
    """One tiny fit + predict, so that the numba kernels are loaded before timing."""
    clone(estimator).set_params(max_iter=1).fit(X[:300], y[:300]).predict(X[:10])


class _Benchmark:
    """Common setup: silence ConvergenceWarning (the epochs are fixed on purpose)."""

    timeout = 300

    def setup(self, implementation, regularizer="l2"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        self.estimator = make_estimator(implementation, regularizer)
        self.X, self.y = make_data()
        warm_up(self.estimator, self.X, self.y)


class Fit(_Benchmark):
    """``fit``: 5 Adam epochs on 5 000 × 50, hidden (100,), batch 200."""

    params = (IMPLEMENTATIONS, REGULARIZERS)
    param_names = ["implementation", "regularizer"]

    def time_fit(self, implementation, regularizer):
        clone(self.estimator).fit(self.X, self.y)

    def peakmem_fit(self, implementation, regularizer):
        clone(self.estimator).fit(self.X, self.y)


class PartialFit(_Benchmark):
    """``partial_fit``: one more epoch of an estimator already initialised."""

    params = (IMPLEMENTATIONS, REGULARIZERS)
    param_names = ["implementation", "regularizer"]

    def setup(self, implementation, regularizer):
        super().setup(implementation, regularizer)
        self.estimator.partial_fit(self.X, self.y, classes=np.unique(self.y))

    def time_partial_fit(self, implementation, regularizer):
        self.estimator.partial_fit(self.X, self.y)


class Predict(_Benchmark):
    """``predict`` on 100 000 rows (sklearn_reg predicts in chunks of bounded memory)."""

    params = (IMPLEMENTATIONS,)
    param_names = ["implementation"]

    def setup(self, implementation):
        super().setup(implementation)
        self.estimator.set_params(max_iter=1).fit(self.X, self.y)
        rng = np.random.default_rng(0)
        self.X_predict = rng.standard_normal((N_PREDICT, N_FEATURES))

    def time_predict(self, implementation):
        self.estimator.predict(self.X_predict)

    def peakmem_predict(self, implementation):
        self.estimator.predict(self.X_predict)
