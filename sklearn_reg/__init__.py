"""Regularized multilayer perceptrons for scikit-learn, trained by numba kernels."""

from ._mlp import RegularizedMLPClassifier, RegularizedMLPRegressor

__all__ = ["RegularizedMLPClassifier", "RegularizedMLPRegressor"]
__version__ = "0.1.0"
