"""Fixtures shared by the test modules."""

import pytest
from sklearn.datasets import make_regression


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    return (X - X.mean(0)) / X.std(0), y / y.std()
