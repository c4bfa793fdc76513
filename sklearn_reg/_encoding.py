"""Piecewise-linear encoding of numeric columns (Gorishniy et al. 2022)."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data


class PiecewiseLinearEncoder(TransformerMixin, BaseEstimator):
    """Encode each numeric column by its position within quantile bins.

    A column with bin edges b_0 < b_1 < … < b_T (quantiles of the training column)
    becomes T columns e_1 … e_T, e_t = clip((x − b_{t−1}) / (b_t − b_{t−1}), 0, 1),
    except that e_1 is not clipped below and e_T not above, so that values outside
    the training range extrapolate linearly. An MLP fed these columns can bend its
    response to a feature at every quantile from the first layer on (Gorishniy,
    Rubachev & Babenko, "On Embeddings for Numerical Features in Tabular Deep
    Learning", NeurIPS 2022, eq. 1). Columns with fewer than ``min_distinct``
    distinct training values (binary and one-hot columns) pass through unchanged.

    Parameters
    ----------
    n_bins : int, default=16
        Most bins per column; equal quantiles collapse, so a column with few
        distinct values gets fewer.
    min_distinct : int, default=3
        Columns with fewer distinct training values pass through unchanged.

    Attributes
    ----------
    bin_edges_ : list of ndarray or None
        For each input column its bin edges b_0 … b_T, or None when it passes
        through.
    feature_index_ : ndarray of shape (n_features_out,)
        The input column of each output column: the groups of output columns that
        belong to one input feature, e.g. to sum a selection's importances back to
        the features.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input columns, when ``X`` has string column names.

    See Also
    --------
    sklearn.preprocessing.KBinsDiscretizer : One-hot or ordinal bins (a step, not a
        ramp, within each bin).
    sklearn.preprocessing.SplineTransformer : B-spline bases of each column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_reg import PiecewiseLinearEncoder
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    >>> encoder = PiecewiseLinearEncoder(n_bins=2).fit(X)
    >>> encoder.bin_edges_[0]
    array([0., 2., 4.])
    >>> encoder.transform([[1.0], [3.0], [6.0]])
    array([[0.5, 0. ],
           [1. , 0.5],
           [1. , 2. ]])
    """

    _parameter_constraints = {
        "n_bins": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_distinct": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, n_bins=16, min_distinct=3):
        self.n_bins = n_bins
        self.min_distinct = min_distinct

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the bin edges of every column from its quantiles.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training data (no missing values).
        y : None
            Ignored.

        Returns
        -------
        self : PiecewiseLinearEncoder
            The fitted encoder.
        """
        X = validate_data(self, X, dtype=np.float64)
        quantiles = np.linspace(0.0, 1.0, self.n_bins + 1)
        self.bin_edges_ = [
            np.unique(np.quantile(column, quantiles))
            if np.unique(column).size >= self.min_distinct
            else None
            for column in X.T
        ]
        self.feature_index_ = np.concatenate(
            [
                np.full(1 if edges is None else len(edges) - 1, j, dtype=np.intp)
                for j, edges in enumerate(self.bin_edges_)
            ]
        )
        return self

    def transform(self, X):
        """Encode ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric data with the columns seen in ``fit``.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out)
            For each input column its encoding (or the column itself), in order.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        parts = []
        for column, edges in zip(X.T, self.bin_edges_):
            if edges is None:
                parts.append(column[:, None])
                continue
            lower, upper = edges[:-1], edges[1:]
            ramp = (column[:, None] - lower) / (upper - lower)
            ramp[:, 1:] = np.maximum(ramp[:, 1:], 0.0)
            ramp[:, :-1] = np.minimum(ramp[:, :-1], 1.0)
            parts.append(ramp)
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: ``{feature}_bin{t}``, or the feature's name.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; by default ``feature_names_in_``, else ``x0``, ``x1``, …

        Returns
        -------
        feature_names_out : ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        out = []
        for name, edges in zip(names, self.bin_edges_):
            out += [name] if edges is None else [f"{name}_bin{t}" for t in range(len(edges) - 1)]
        return np.asarray(out, dtype=object)
