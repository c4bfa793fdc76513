"""Regularized multilayer perceptrons for scikit-learn, trained by numba kernels."""

from ._cv import (
    RegularizedMLPClassifierCV,
    RegularizedMLPRegressorCV,
    feature_exit_alphas,
    regularization_path,
)
from ._encoding import PiecewiseLinearEncoder
from ._mlp import RegularizedMLPClassifier, RegularizedMLPRegressor
from ._stability import StabilitySelection

__all__ = [
    "PiecewiseLinearEncoder",
    "RegularizedMLPClassifier",
    "RegularizedMLPClassifierCV",
    "RegularizedMLPRegressor",
    "RegularizedMLPRegressorCV",
    "StabilitySelection",
    "feature_exit_alphas",
    "regularization_path",
]
__version__ = "0.1.0"
