"""Stability selection of input features with regularized MLPs.

Meinshausen & Bühlmann (2010), with the complementary pairs of Shah & Samworth (2013):
the samples are split ``n_pairs`` times into two disjoint halves; on each half,
:func:`~sklearn_reg.regularization_path` trains one network along the grid of λ with a
penalty that removes whole input features ('group', 'l1', 'elasticnet'), and feature
j is *selected at λ* when its row of the first layer ``coefs_[0]`` is not exactly
zero there. The frequency of that event over the 2·n_pairs halves is the stability
score of j at λ. The stable features are those whose score reaches ``threshold`` at
some λ of the region used, and the expected number of false selections among them is
bounded by q² / ((2·threshold − 1)·p), q the mean number of features selected per half
over that region.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn import config_context
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, is_classifier
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._cv import is_count, regularization_path
from ._mlp import RegularizedMLPClassifier, RegularizedMLPRegressor
from ._penalties import feature_selecting_penalties
from ._threads import one_blas_thread
from ._train import max_iter_reported_by_caller

#: penalties whose proximal step sets whole rows of ``coefs_[0]`` exactly to zero
SPARSE_PENALTIES = feature_selecting_penalties()

#: range of the default log-spaced grid of λ (``alphas=<int>``), for standardized data
ALPHA_MIN, ALPHA_MAX = 1e-3, 3e-1

#: the network trained on each half when ``estimator=None`` (its batch size is below)
DEFAULT_NETWORK = {
    "penalty": "group",
    "hidden_layer_sizes": (16,),
    "learning_rate_init": 0.01,
    "max_iter": 8,
    "tol": 0.0,
    "n_iter_no_change": 10**9,
}
#: default batch size: about ``BATCHES_PER_EPOCH`` Adam steps per epoch on a half,
#: clipped to [BATCH_MIN, BATCH_MAX] samples
BATCHES_PER_EPOCH, BATCH_MIN, BATCH_MAX = 20, 10, 100


def default_estimator(y, n_half):
    """The network of ``estimator=None`` for targets ``y`` and halves of ``n_half``
    samples: a regressor for a continuous ``y``, a classifier otherwise, with
    :data:`DEFAULT_NETWORK` and about :data:`BATCHES_PER_EPOCH` steps per epoch."""
    continuous = type_of_target(y, input_name="y").startswith("continuous")
    Estimator = RegularizedMLPRegressor if continuous else RegularizedMLPClassifier
    batch_size = int(np.clip(n_half // BATCHES_PER_EPOCH, BATCH_MIN, BATCH_MAX))
    return Estimator(**DEFAULT_NETWORK, batch_size=min(batch_size, n_half))


def alpha_grid(alphas):
    """The increasing grid of λ: ``n`` log-spaced values in [ALPHA_MIN, ALPHA_MAX] for an
    int ``n``, else the given values sorted, checked to be finite and > 0."""
    if is_count(alphas):
        return np.geomspace(ALPHA_MIN, ALPHA_MAX, int(alphas))
    grid = np.asarray(alphas, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(
            f"alphas must be a positive int or a non-empty 1-D array of finite λ > 0, got "
            f"{alphas!r}."
        )
    return np.unique(grid)


def complementary_halves(y, n_pairs, random_state, stratify):
    """``n_pairs`` pairs of disjoint halves of the samples, index arrays of ⌊n/2⌋ each.

    Each pair cuts a random permutation in two. With ``stratify`` the permutation is
    first sorted by class (stably) and the halves take alternate positions, so each
    gets half of every class (± 1 sample).
    """
    n = y.shape[0]
    half = n // 2
    pairs = []
    for _ in range(n_pairs):
        order = random_state.permutation(n)
        if stratify:
            order = order[np.argsort(y[order], kind="stable")]
            pairs.append((order[0::2][:half], order[1::2][:half]))
        else:
            pairs.append((order[:half], order[half : 2 * half]))
    return pairs


def selection_path(estimator, X, y, sample_weight, alphas, path_max_iter, seed, validate):
    """Boolean array (n_alphas, n_features): feature j is selected at ``alphas[k]``, i.e.
    its row of ``coefs_[0]`` is not exactly zero at that point of the warm-started path
    trained on (X, y). ``validate=False`` skips scikit-learn's checks of the parameters
    and of finiteness, already made on the first path. Its fits are fixed budgets, on
    purpose: reaching ``max_iter`` warns nothing, in whichever thread the path runs
    (a thread-local switch, not the process-wide warnings filters)."""
    with (
        config_context(assume_finite=not validate, skip_parameter_validation=not validate),
        max_iter_reported_by_caller(),
    ):
        _, coefs, _, _ = regularization_path(
            X,
            y,
            alphas,
            estimator=estimator,
            path_max_iter=path_max_iter,
            sample_weight=sample_weight,
            random_state=seed,
        )
    return np.array([np.any(c[0] != 0, axis=1) for c in coefs])


def union_sizes(selected):
    """q of each region {λ_l : l ≥ k} of an increasing grid: the mean over the halves of
    the number of features selected at λ_k or any stronger λ.

    ``selected`` has shape (n_halves, n_alphas, n_features).
    """
    union = np.logical_or.accumulate(selected[:, ::-1], axis=1)[:, ::-1]
    return union.sum(axis=2).mean(axis=0)


def mb_bound(q, n_features, threshold):
    """Meinshausen & Bühlmann's bound (their Theorem 1) on the expected number of false
    selections: E[V] ≤ q² / ((2·π_thr − 1)·p)."""
    return q**2 / ((2 * threshold - 1) * n_features)


def unimodal_bound(q, n_features, threshold, n_pairs):
    """Shah & Samworth's bound for complementary pairs when the selection frequencies
    of the noise features have unimodal distributions (their eq. 8): q²/p times
    1 / (2·(2π − 1 − 1/(2B))) for π ≤ 3/4 and 4·(1 − π + 1/(2B)) / (1 + 1/B) for π > 3/4,
    B = n_pairs. Where it does not apply (π ≤ 1/2 + min(θ², 1/(2B) + 3θ²/4), θ = q/p),
    :func:`mb_bound`; else the smaller of the two."""
    theta, B = q / n_features, n_pairs
    worst = mb_bound(q, n_features, threshold)
    if threshold <= 0.75:
        if threshold <= 0.5 + min(theta**2, 1 / (2 * B) + 0.75 * theta**2):
            return worst
        constant = 1 / (2 * (2 * threshold - 1 - 1 / (2 * B)))
    else:
        constant = 4 * (1 - threshold + 1 / (2 * B)) / (1 + 1 / B)
    return min(worst, constant * q**2 / n_features)


def region_start(bounds, max_false_selections):
    """Index k of the widest region {λ_l : l ≥ k} whose bound is at most
    ``max_false_selections`` (0 for None); the strongest λ alone, with a warning, if
    even its bound exceeds it."""
    if max_false_selections is None:
        return 0
    within = np.flatnonzero(bounds <= max_false_selections)
    if within.size:
        return int(within[0])
    warnings.warn(
        f"At the strongest λ the bound on the expected number of false selections is "
        f"{bounds[-1]:.3g} > max_false_selections={max_false_selections}: the support "
        "uses that λ alone. Add stronger values of λ to `alphas`.",
        UserWarning,
    )
    return len(bounds) - 1


def standardized(X, y, scale_y):
    """X with unit-variance columns (also centred when dense; constant columns are left
    as they are) and, if ``scale_y``, y centred with unit variance."""
    if hasattr(X, "toarray"):
        mean = np.asarray(X.mean(axis=0)).ravel()
        var = np.asarray(X.multiply(X).mean(axis=0)).ravel() - mean**2
        std = np.sqrt(np.maximum(var, 0))
        X = X.multiply(1 / np.where(std > 0, std, 1)).tocsr()
    else:
        std = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1)
    if scale_y:
        y_std = y.std(axis=0)
        y = (y - y.mean(axis=0)) / np.where(y_std > 0, y_std, 1)
    return X, y


class StabilitySelection(SelectorMixin, MetaEstimatorMixin, BaseEstimator):
    """Stability selection of input features with a sparse regularized MLP.

    Meinshausen & Bühlmann (2010) with the complementary pairs of Shah & Samworth
    (2013). The samples are split ``n_pairs`` times into two disjoint halves of
    ⌊n/2⌋ (stratified by class for a classifier); on each of the 2·``n_pairs`` halves
    :func:`regularization_path` trains one network from weak to strong λ, each λ
    warm-started from the previous one, with a penalty that removes whole input
    features ('group', 'l1' or 'elasticnet': their proximal steps set rows of the first
    layer ``coefs_[0]`` exactly to zero). Feature j is selected at λ on a half when its
    row is not zero there; ``stability_scores_[j, k]`` is the share of halves where j
    is selected at ``alphas_[k]``.

    The stable features (``support_``) are those whose score reaches ``threshold`` at
    some λ of the *region* ``alphas_ >= alpha_min_``. For that region, with q (``q_``)
    the mean over the halves of the number of features selected at one λ of the
    region at least, and p the number of features, the expected number V of noise
    features among the stable ones obeys (Meinshausen & Bühlmann, Theorem 1; Shah &
    Samworth, Theorem 1 for complementary pairs)

        E[V] ≤ q² / ((2·threshold − 1)·p)  (``expected_false_selections_``).

    The region is the widest strong end of the grid whose bound is at most
    ``max_false_selections``: the weakest values of λ, where (nearly) every feature is
    kept on every half, are left out, since there every feature is stable.

    Parameters
    ----------
    estimator : RegularizedMLPClassifier or RegularizedMLPRegressor, default=None
        Template of the network trained on each half (cloned; its ``alpha`` is set
        along the path and its ``random_state`` is drawn from ``random_state``). Its
        ``penalty`` must be 'group', 'l1' or 'elasticnet'. None builds, like
        :func:`regularization_path`, a regressor if ``y`` is continuous and a
        classifier otherwise, with ``penalty='group'``, one hidden layer of 16 ReLU
        units, Adam with ``learning_rate_init=0.01``, ``max_iter=8`` epochs at the
        first λ and a batch size of about 1/20 of a half (between 10 and 100).

    alphas : int or array-like of shape (n_alphas,), default=8
        The grid of λ, fitted in increasing order. An int ``n`` gives ``n`` values
        log-spaced from 1e-3 (a dense network) to 0.3 (most features removed) which,
        with ``standardize=True``, do not depend on the units of X or y.

    n_pairs : int, default=50
        Number of complementary pairs of halves, so 2·``n_pairs`` paths are trained.

    threshold : float, default=0.8
        Selection frequency π_thr in (0.5, 1] a feature must reach at some λ of the
        region to be stable. For a given region, a higher value selects fewer features
        and lowers the bound; for a given ``max_false_selections``, it widens the
        region toward weaker λ.

    max_false_selections : float or None, default=10.0
        Largest bound on the expected number of false selections allowed for the
        region of λ used: the region is the widest ``alphas_ >= alpha_min_`` with
        q² / ((2·threshold − 1)·p) ≤ ``max_false_selections``, i.e.
        q ≤ √(max_false_selections·(2·threshold − 1)·p) (≈ 24 features for p = 100 with
        the defaults). A bound, not an estimate: see Notes. None uses the whole grid.

    path_max_iter : int, default=2
        Epochs at each λ after the first one of each path (``max_iter`` of the
        estimator at the first).

    standardize : bool, default=True
        Scale the columns of X to unit variance (and centre them when X is dense), and
        centre and scale y for a squared-error regressor, before splitting, so that
        the penalty treats every feature alike and λ does not depend on units.
        :meth:`transform` selects columns of X as given.

    n_jobs : int, default=None
        Number of paths trained in parallel with joblib, in threads (the training
        kernels release the GIL). None means 1 unless in a
        :obj:`joblib.parallel_backend` context; -1 uses all processors.

    random_state : int, RandomState instance or None, default=None
        Draws the halves and the seed of each network. An int gives the same result
        for any ``n_jobs``.

    Attributes
    ----------
    stability_scores_ : ndarray of shape (n_features, n_alphas)
        Selection frequency of each feature at each λ over the 2·``n_pairs`` halves.

    alphas_ : ndarray of shape (n_alphas,)
        The grid of λ, increasing.

    alpha_min_ : float
        Weakest λ of the region used: ``support_`` and the bounds refer to the values
        ``alphas_ >= alpha_min_``.

    max_stability_scores_ : ndarray of shape (n_features,)
        Highest score of each feature over the region; ``support_`` is
        ``max_stability_scores_ >= threshold``.

    support_ : ndarray of shape (n_features,)
        Mask of the stable features.

    mean_n_selected_ : ndarray of shape (n_alphas,)
        Mean number of features selected per half at each λ.

    q_ : float
        Mean number over the halves of the features selected at one λ of the region
        at least, the q of the bounds.

    expected_false_selections_ : float
        Meinshausen & Bühlmann's bound q² / ((2·threshold − 1)·p) on the expected
        number of noise features in ``support_``.

    expected_false_selections_unimodal_ : float
        Shah & Samworth's tighter bound, valid when the selection frequency of each
        noise feature has a unimodal distribution (their eq. 8); equal to
        ``expected_false_selections_`` where it does not apply.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    regularization_path : The warm-started path trained on each half.
    RegularizedMLPRegressorCV : Chooses one λ by cross-validation instead.
    sklearn.feature_selection.SelectFromModel : Selection from one fitted model.

    Notes
    -----
    The bounds assume, as Meinshausen & Bühlmann's theorem does, that the noise
    features are exchangeable and that the network selects them no more often than
    random guessing would; Shah & Samworth's version needs no exchangeability and
    bounds the number of selected features whose selection probability on a half is
    below q/p. q is estimated by its mean over the halves, and the region is chosen on
    the same halves. The bound is loose: on Friedman #1 and ``make_classification``
    (100 columns, 4 seeds each) no noise column was selected where it read 1.3 to 6.

    Each half trains for a fixed budget of epochs, on purpose: stability selection
    needs the pattern of zeros, not a converged predictor (so ConvergenceWarnings are
    silenced), and the networks train in float32.

    References
    ----------
    N. Meinshausen and P. Bühlmann, "Stability selection", J. R. Statist. Soc. B 72
    (2010), 417-473.

    R. D. Shah and R. J. Samworth, "Variable selection with error control: another
    look at stability selection", J. R. Statist. Soc. B 75 (2013), 55-80.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_reg import StabilitySelection
    >>> X, y = make_classification(n_samples=400, n_features=20, n_informative=3,
    ...                            n_redundant=0, shuffle=False, random_state=0)
    >>> selector = StabilitySelection(n_pairs=10, random_state=0).fit(X, y)
    >>> selector.stability_scores_.shape
    (20, 8)
    >>> selector.get_support(indices=True)
    array([0, 1, 2])
    >>> selector.transform(X).shape
    (400, 3)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "n_pairs": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, 0.5, 1, closed="right")],
        "max_false_selections": [Interval(Real, 0, None, closed="neither"), None],
        "path_max_iter": [Interval(Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        alphas=8,
        n_pairs=50,
        threshold=0.8,
        max_false_selections=10.0,
        path_max_iter=2,
        standardize=True,
        n_jobs=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.alphas = alphas
        self.n_pairs = n_pairs
        self.threshold = threshold
        self.max_false_selections = max_false_selections
        self.path_max_iter = path_max_iter
        self.standardize = standardize
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _template(self, y, n_half):
        """The network trained on each half, checked to be able to remove features."""
        if self.estimator is None:
            return default_estimator(y, n_half)
        if (
            not isinstance(self.estimator, (RegularizedMLPClassifier, RegularizedMLPRegressor))
            or "alpha" not in self.estimator.get_params()
        ):
            raise ValueError(
                "estimator must be a RegularizedMLPClassifier or a RegularizedMLPRegressor, "
                f"whose `alpha` is set along the path; got {self.estimator!r}."
            )
        if self.estimator.penalty not in SPARSE_PENALTIES:
            raise ValueError(
                f"estimator.penalty={self.estimator.penalty!r} never sets the weights of a "
                f"feature exactly to zero, so it selects every feature at every λ; use one "
                f"of {SPARSE_PENALTIES}."
            )
        return self.estimator

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train a path on every half and select the stable features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values: class labels for a classifier, real values for a regressor.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the training objective of every network.

        Returns
        -------
        self : object
            The fitted selector.
        """
        X, y = validate_data(
            self, X, y, accept_sparse="csr", multi_output=True, dtype=(np.float64, np.float32)
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        n_samples, n_features = X.shape
        if n_samples < 4:
            raise ValueError(
                "Stability selection needs at least 4 samples (2 in each half); got "
                f"n_samples = {n_samples}."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        alphas = alpha_grid(self.alphas)
        template = self._template(y, n_samples // 2)
        classifier = is_classifier(template)
        if self.standardize:
            scale_y = not classifier and template.loss == "squared_error"
            X, y = standardized(X, y, scale_y)
        X = X.astype(np.float32)  # the zeros of coefs_[0] need no more precision

        rs = check_random_state(self.random_state)
        stratify = classifier and y.ndim == 1
        if stratify:
            classes, counts = np.unique(y, return_counts=True)
            if counts.min() < 2:
                raise ValueError(
                    f"Class {classes[counts.argmin()]!r} has {counts.min()} sample: every "
                    "class needs at least 2 samples, so that each half contains it."
                )
        pairs = complementary_halves(y, self.n_pairs, rs, stratify)
        halves = [half for pair in pairs for half in pair]
        seeds = rs.randint(np.iinfo(np.int32).max, size=len(halves))
        args = [
            (
                template,
                X[half],
                y[half],
                None if sample_weight is None else sample_weight[half],
                alphas,
                self.path_max_iter,
                int(seed),
            )
            for half, seed in zip(halves, seeds)
        ]
        threads = effective_n_jobs(self.n_jobs) > 1
        with one_blas_thread(threads):
            first = selection_path(*args[0], validate=True)  # checks the parameters once
            rest = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(selection_path)(*a, validate=False) for a in args[1:]
            )
        selected = np.array([first, *rest])  # (n_halves, n_alphas, n_features)

        q = union_sizes(selected)
        bounds = mb_bound(q, n_features, self.threshold)
        start = region_start(bounds, self.max_false_selections)
        self.alphas_ = alphas
        self.stability_scores_ = selected.mean(axis=0).T
        self.mean_n_selected_ = selected.sum(axis=2).mean(axis=0)
        self.alpha_min_ = float(alphas[start])
        self.max_stability_scores_ = self.stability_scores_[:, start:].max(axis=1)
        self.support_ = self.max_stability_scores_ >= self.threshold
        self.q_ = float(q[start])
        self.expected_false_selections_ = float(bounds[start])
        self.expected_false_selections_unimodal_ = float(
            unimodal_bound(self.q_, n_features, self.threshold, self.n_pairs)
        )
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.sparse = True
        return tags
