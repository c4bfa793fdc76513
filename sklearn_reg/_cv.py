"""Cross-validated regularized MLPs over a warm-started regularization path.

:func:`regularization_path` fits one network along a grid of penalty strengths λ,
each fit starting from the weights of the previous one. The CV estimators
:class:`RegularizedMLPClassifierCV` / :class:`RegularizedMLPRegressorCV` run that
path on every training fold (folds in parallel with joblib, so also under its dask
backend), score every λ on the held-out fold, choose ``alpha_`` and keep the model of
the path fitted on all the data at ``alpha_``.

Why the CV estimators inherit from the estimators (where ``LassoCV`` composes a path
function): the fitted CV estimator *is* the network at ``alpha_`` — ``predict``,
``predict_proba``, ``coef_``, ``penalty`` (which ``SelectFromModel`` reads for its
threshold), the ONNX converters and the callbacks all work on it unchanged. The path
itself is composed: :func:`regularization_path` is a function that the CV estimators call
on clones, and only ``partial_fit`` is switched off. Their constructors list their own
parameters (scikit-learn's ``get_params`` reads the signature); the bodies store them with
one shared call.

Design of the path, measured in ``asv_bench/cv_benchmark.py``:

- **Order: weak to strong λ** (dense to sparse, as LassoNet). The first fit, at the
  smallest λ, trains a dense network from the random initialisation (``max_iter``
  epochs); each stronger λ prunes and shrinks it. The opposite order (strong to weak,
  as ``LassoCV``) zeroes the whole network at the strongest λ with 'l1' and regrows
  it poorly from there: on digits (9 values of λ, 5 folds, 'l1') its best mean CV
  accuracy is 0.966 against 0.982 for weak to strong; independent fits reach 0.979.
- **Epochs: ``max_iter`` for the first λ, at most ``path_max_iter`` for each later
  λ**, with the usual stopping rule (``tol``, ``n_iter_no_change``) restarted at every
  λ. Reaching ``path_max_iter`` is the plan, not a failure, so it raises no
  ``ConvergenceWarning``. With the defaults (200, and 20 on small data), on digits, a
  path of 9 values costs about 300 epochs per fold where independent fits cost about
  1500. On large data 'auto' budgets a later λ in optimizer steps (400) rather than
  epochs: on the medium tier of ``asv_bench/quality.py`` (16 000 training rows per
  fold) 20 epochs per λ cost 1.5 times the CPU of 400 steps for the same scores.
"""

import inspect
import re
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._adaptive import adaptive_gamma, fit_adaptive
from ._callbacks import NO_TASK, NoCVTask, start_cv_fit
from ._grid import fit_param_grid
from ._mlp import _ATTRIBUTES, _PARAMETERS, RegularizedMLPClassifier, RegularizedMLPRegressor
from ._threads import one_blas_thread
from ._train import max_iter_reported_by_caller

#: range of the default log-spaced grid of λ (``alphas=<int>``)
ALPHA_MIN, ALPHA_MAX = 1e-5, 1e-1
#: an int grid gains values above ALPHA_MAX, one at a time, while the chosen λ is the
#: largest of the grid and below ALPHA_LIMIT (three decades on, where a network on
#: standardized data has long been a constant)
ALPHA_LIMIT = 1e2


def is_count(alphas):
    """Whether the parameter ``alphas`` is a number of grid values (an int, not a bool)
    rather than the values themselves."""
    return isinstance(alphas, Integral) and not isinstance(alphas, bool)


def _extends(alphas, grid, index):
    """Whether the CV estimators continue ``grid``, made from the parameter ``alphas``,
    by one more λ: ``alphas`` is an int ≥ 2 (a grid with a ratio; a given array is kept
    as it is), the chosen ``index`` is the last and the last λ is below ALPHA_LIMIT."""
    default = is_count(alphas) and alphas >= 2
    return default and index == grid.size - 1 and grid[-1] < ALPHA_LIMIT


def _alpha_grid(alphas):
    """The grid of λ: ``n`` log-spaced values in [ALPHA_MIN, ALPHA_MAX] (increasing) for
    an int, else the given values in their order, checked to be finite and ≥ 0."""
    if is_count(alphas):
        if alphas < 1:
            raise ValueError(f"alphas must be a positive int or an array of λ ≥ 0, got {alphas}.")
        return np.geomspace(ALPHA_MIN, ALPHA_MAX, int(alphas))
    grid = np.asarray(alphas, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(
            "alphas must be a positive int or a non-empty 1-D array of finite λ ≥ 0, "
            f"got {alphas!r}."
        )
    return grid


def _n_features_selected(estimator):
    """Number of input features with a non-zero row in the first layer ``coefs_[0]``."""
    return int(np.count_nonzero(np.any(estimator.coefs_[0] != 0, axis=1)))


def regularization_path(
    X,
    y,
    alphas=10,
    *,
    estimator=None,
    path_max_iter="auto",
    sample_weight=None,
    return_models=False,
    **params,
):
    """Fit a regularized MLP along a grid of λ, each fit warm-started from the last.

    The analogue of :func:`sklearn.linear_model.lasso_path` for
    :class:`RegularizedMLPClassifier` / :class:`RegularizedMLPRegressor`: one network
    is trained at ``alphas[0]`` for ``max_iter`` epochs, then ``alpha`` is set to each
    next value and training continues from the current weights for at most
    ``path_max_iter`` epochs (the stopping rule of ``tol`` / ``n_iter_no_change`` is
    restarted at each λ). Going from weak to strong λ, as the default grid does,
    prunes a dense network step by step.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.

    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Target values: class labels for a classifier, real values for a regressor.

    alphas : int or array-like of shape (n_alphas,), default=10
        The values of λ, fitted in the order given. An int ``n`` gives ``n`` values
        log-spaced from 1e-5 to 1e-1, increasing (dense to sparse). λ is per objective
        and the loss is a mean per sample, so on standardized features this range goes
        from practically unregularized to a network with (almost) every weight zero.

    estimator : RegularizedMLPClassifier or RegularizedMLPRegressor, default=None
        Template of the network (cloned, never modified). None builds a
        :class:`RegularizedMLPRegressor` if ``y`` is continuous and a
        :class:`RegularizedMLPClassifier` otherwise.

    path_max_iter : int or 'auto', default='auto'
        Maximum number of epochs at each λ after the first (which gets the
        estimator's ``max_iter``).
        'auto' is 20 epochs, or fewer on large data: as many as make 400 optimizer
        steps (5 epochs of 16 000 rows in batches of 200, at least 1), as a later λ
        only adjusts a trained network; 20 iterations for 'lbfgs'.

    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the training objective.

    return_models : bool, default=False
        Also return the fitted estimator at each λ (independent copies, with
        ``alpha`` set to that λ and the template's ``max_iter`` and ``warm_start``).

    **params : dict
        Parameters of the estimator (set on the template), e.g. ``penalty='l1'``,
        ``hidden_layer_sizes=(32,)``, ``random_state=0``; not ``alpha``.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The values of λ, in the order fitted.

    coefs : list of length n_alphas
        ``coefs[k]`` is a copy of the ``coefs_`` list (one weight matrix per layer) of
        the model at ``alphas[k]``; ``coefs[k][0]``, shape (n_features, n_hidden_1), is
        the first layer, whose non-zero rows are the selected features.

    losses : ndarray of shape (n_alphas,)
        Training objective ``loss_`` (mean loss over the last epoch plus λ·Ω(W)) at
        the end of each fit.

    n_features_selected : ndarray of shape (n_alphas,)
        Number of features with a non-zero row in ``coefs[k][0]``.

    models : list of estimators
        The fitted estimator at each λ; only when ``return_models=True``.

    See Also
    --------
    RegularizedMLPClassifierCV : Chooses λ by cross-validation over this path.
    RegularizedMLPRegressorCV : Chooses λ by cross-validation over this path.
    sklearn.linear_model.lasso_path : The path of the linear Lasso.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_reg import regularization_path
    >>> X, y = make_classification(n_samples=200, n_features=10, n_informative=3,
    ...                            n_redundant=0, shuffle=False, random_state=0)
    >>> alphas, coefs, losses, n_selected = regularization_path(
    ...     X, y, [1e-4, 1e-2, 1e-1], penalty="group", hidden_layer_sizes=(8,),
    ...     learning_rate_init=0.01, max_iter=50, random_state=0)
    >>> coefs[0][0].shape
    (10, 8)
    >>> bool(n_selected[0] >= n_selected[-1])
    True
    """
    if "alpha" in params:
        raise ValueError("regularization_path takes the values of λ as `alphas`, not `alpha`.")
    if path_max_iter != "auto" and (not isinstance(path_max_iter, Integral) or path_max_iter < 1):
        raise ValueError(f"path_max_iter must be a positive int or 'auto', got {path_max_iter!r}.")
    alphas = _alpha_grid(alphas)
    if estimator is None:
        continuous = type_of_target(y, input_name="y").startswith("continuous")
        estimator = RegularizedMLPRegressor() if continuous else RegularizedMLPClassifier()
    estimator = clone(estimator).set_params(**params)
    return _warm_started_path(estimator, X, y, alphas, path_max_iter, sample_weight, return_models)


def _warm_started_path(
    path, X, y, alphas, path_max_iter, sample_weight, return_models, task=NO_TASK, resume=False
):
    """The loop of :func:`regularization_path` on the network ``path`` (modified; with
    ``resume``, the fitted path continued); ``task`` reports it to the callbacks of a CV
    fit, one subtask per λ."""
    max_iter, warm_start = path.max_iter, path.warm_start
    coefs, losses, n_selected, models = [], [], [], []

    def record(model):
        coefs.append([W.copy() for W in model.coefs_])
        losses.append(float(model.loss_))
        n_selected.append(_n_features_selected(model))
        if return_models:
            models.append(model._fitted_copy().set_params(max_iter=max_iter, warm_start=warm_start))

    def context(model, alpha):
        return task.alpha(model, alpha, X, y, sample_weight)

    task.begin(X, y, sample_weight)
    path._fit_path(X, y, sample_weight, alphas, path_max_iter, record, context, resume)
    task.end()
    path.set_params(max_iter=max_iter)
    result = (alphas, coefs, np.array(losses), np.array(n_selected))
    return result + (models,) if return_models else result


def feature_exit_alphas(alphas, coefs):
    """For each input feature, the λ at which it leaves the model along a path.

    The importance of a feature as LassoNet defines it: the first λ of the path from
    which the feature's row of the first layer ``coefs[k][0]`` stays exactly zero up to
    the end of the path; the larger, the longer the feature resists the penalty.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        The increasing values of λ of a path, as returned by :func:`regularization_path`.

    coefs : list of length n_alphas
        The weights along the path, as returned by :func:`regularization_path`:
        ``coefs[k][0]`` has shape (n_features, n_hidden_1).

    Returns
    -------
    exit_alphas : ndarray of shape (n_features,)
        The λ at which each feature leaves for good; ``np.inf`` for a feature still in
        the model at the largest λ.

    See Also
    --------
    regularization_path : The path whose output this reads.
    RegularizedMLPClassifierCV : Its ``feature_exit_alphas_`` come from this function.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_reg import feature_exit_alphas
    >>> rows = lambda *active: [np.array([[a, a] for a in active], dtype=float)]
    >>> feature_exit_alphas([0.1, 1.0, 10.0], [rows(1, 1, 1), rows(1, 0, 1), rows(1, 0, 0)])
    array([inf,  1., 10.])
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    active = np.array([np.any(np.asarray(c[0]) != 0, axis=1) for c in coefs])
    if active.shape[0] != alphas.shape[0]:
        raise ValueError(f"coefs has {active.shape[0]} points of the path, alphas {alphas.size}.")
    # index of the first λ after the last one at which the feature is active
    last = np.where(active.any(axis=0), alphas.size - 1 - np.argmax(active[::-1], axis=0), -1)
    return np.where(last + 1 < alphas.size, alphas[np.minimum(last + 1, alphas.size - 1)], np.inf)


def _fold_scores(
    path,
    X,
    y,
    sample_weight,
    train,
    test,
    alphas,
    path_max_iter,
    scorer,
    task=NO_TASK,
    keep_weights=False,
    resume=False,
):
    """(scores, weights, path) of the path fitted on ``train``, and whether its first fit
    reached ``max_iter`` (reported once by the CV estimator, not per path).

    ``path`` is the unfitted base estimator (a clone of it is fitted) or, with
    ``resume``, the fitted path returned by an earlier call, continued over ``alphas``.
    ``scores[k]`` is the score on ``test`` at ``alphas[k]``. ``weights`` is None, or with
    ``keep_weights`` the (coefs, intercepts) copies at every λ: the members of
    ``refit='ensemble'``, kept at every λ as the chosen one is known only once every fold
    has its scores (one weight set of the network per λ, without the optimizer's state).
    """
    path = path if resume else clone(path)
    with max_iter_reported_by_caller():
        *_, models = _warm_started_path(
            path,
            _safe_indexing(X, train),
            _safe_indexing(y, train),
            alphas,
            path_max_iter,
            None if sample_weight is None else sample_weight[train],
            return_models=True,
            task=task,
            resume=resume,
        )
    X_test, y_test = _safe_indexing(X, test), _safe_indexing(y, test)
    scores = np.array([scorer(model, X_test, y_test) for model in models], dtype=np.float64)
    weights = [_weights(model) for model in models] if keep_weights else None
    return (scores, weights, path), _reached_max_iter(models[0])


def _weights(model):
    """Copies of the ``coefs_`` and ``intercepts_`` lists of ``model``."""
    return [W.copy() for W in model.coefs_], [b.copy() for b in model.intercepts_]


def _full_path(path, X, y, sample_weight, alphas, path_max_iter, task=NO_TASK, resume=False):
    """The path on all the data: (models, n_features_selected, path), and whether its
    first fit reached ``max_iter``; ``path`` as in :func:`_fold_scores`."""
    path = path if resume else clone(path)
    with max_iter_reported_by_caller():
        _, _, _, n_selected, models = _warm_started_path(
            path,
            X,
            y,
            alphas,
            path_max_iter,
            sample_weight,
            return_models=True,
            task=task,
            resume=resume,
        )
    return (models, n_selected, path), _reached_max_iter(models[0])


def _reached_max_iter(model):
    return model.solver != "lbfgs" and model.n_iter_ >= model.max_iter


def _members(fold_weights, index):
    """The ensemble of ``refit='ensemble'``: (coefs, intercepts), one list entry per
    fold, the weights of each fold's path at ``alphas[index]``."""
    weights = [path_weights[index] for path_weights in fold_weights]
    return [coefs for coefs, _ in weights], [intercepts for _, intercepts in weights]


def _select_index(scores, selection):
    """Index of the chosen λ in an increasing grid from ``scores`` (n_folds, n_alphas).

    'best': the highest mean score (the weakest λ among ties). '1se': the strongest λ
    whose mean score is within one standard error (std over folds / √n_folds) of the
    highest mean.
    """
    mean = np.nanmean(scores, axis=0)
    if np.all(np.isnan(mean)):
        raise ValueError("Every cross-validation score is NaN: no value of λ can be chosen.")
    best = int(np.nanargmax(mean))
    if selection == "best":
        return best
    n_folds = scores.shape[0]
    se = np.nanstd(scores[:, best], ddof=1) / np.sqrt(n_folds) if n_folds > 1 else 0.0
    return int(np.flatnonzero(mean >= mean[best] - se).max())


def _never(estimator):
    raise AttributeError(
        "partial_fit is not available on a cross-validated estimator: fit chooses λ "
        "over whole paths. Use the base estimator at `alpha_` for incremental learning."
    )


def _parameter_docs(text):
    """The numpydoc blocks of ``_PARAMETERS`` by parameter name."""
    blocks = re.split(r"\n(?=    \w+ : )", text.strip("\n"))
    return {block.split(" : ")[0].strip(): block for block in blocks if " : " in block}


_CV_PARAMETERS = """
    alphas : int or array-like of shape (n_alphas,), default=10
        The grid of λ. An int ``n`` gives ``n`` values log-spaced from 1e-5 to 1e-1:
        λ is per objective and the loss is a mean per sample, so on standardized
        features and targets this range goes from practically unregularized to a
        strongly regularized network. Where the chosen λ is the largest of this grid
        (``n`` ≥ 2), every path is continued one more λ at a time by the grid's ratio,
        warm-started as along the path, until a smaller λ wins, the full-data model
        has no input feature left or λ passes 100; ``alphas_`` is the grid so
        extended. Given values are sorted increasing and kept as they are.

    cv : int, cross-validation generator or iterable, default=None
        Splitting strategy, as in :func:`sklearn.model_selection.check_cv`: None is 5
        folds, stratified for classification.

    scoring : str, callable or None, default=None
        Score of each λ on each held-out fold, as in
        :func:`sklearn.metrics.check_scoring`; None uses the estimator's ``score``
        (accuracy for the classifier, R² for the regressor).

    n_jobs : int, default=None
        Number of jobs running the paths (one per fold, plus the path on all the data)
        in parallel with joblib, in threads (the compiled kernels release the GIL, so
        the threads share one set of compiled kernels) unless a
        :obj:`joblib.parallel_backend` context picks another backend, e.g. ``"dask"``.
        None means 1; -1 uses all processors.

    selection : {'best', '1se'}, default='best'
        Rule choosing ``alpha_``: 'best' takes the highest mean score over the folds;
        '1se' the strongest λ whose mean score is within one standard error of the
        highest (the one-standard-error rule of glmnet and LassoNet), which keeps
        fewer features at nearly the same score.

    path_max_iter : int or 'auto', default='auto'
        Maximum number of epochs at each λ after the first of the path, which gets
        ``max_iter``. The stopping rule (``tol``, ``n_iter_no_change``) is restarted at
        each λ.
        'auto' is 20 epochs, or fewer on large data: as many as make 400 optimizer
        steps (5 epochs of 16 000 rows in batches of 200, at least 1), as a later λ
        only adjusts a trained network; 20 iterations for 'lbfgs'.

    refit : True or 'ensemble', default=True
        What predicts once ``alpha_`` is chosen. True: the model of the path fitted on
        all the data at ``alpha_``. 'ensemble': the K models of the fold paths at
        ``alpha_`` (fitted anyway to score λ, so no extra training), whose predicted
        probabilities (classifier) or predictions (regressor) are averaged by
        ``predict``, ``predict_proba`` and ``score``; they are kept as
        ``ensemble_coefs_`` / ``ensemble_intercepts_``. Either way the fitted
        attributes of the base estimator (``coefs_``, ``coef_`` and so what
        :class:`~sklearn.feature_selection.SelectFromModel` selects, ``loss_curve_``,
        ...), ``n_features_selected_`` and ``feature_exit_alphas_`` describe the
        full-data model at ``alpha_``: the selected features do not depend on
        ``refit``.

    adaptive : 'auto', bool or float, default='auto'
        The adaptive lasso (Zou, 2006) and adaptive group lasso (Dinh & Ho, 2020),
        for the penalties that act on the first layer's rows: fit as without it, then
        weigh each feature j by w_j = 1 / (‖W₁[j, :]‖₂^γ + 1e-12) from the first layer
        of the model at its ``alpha_`` (times ``penalty_weights`` if given) and fit
        again, the path with these ``penalty_weights`` and the choice of λ by
        ``selection`` included: weak features are penalized hard, strong ones lightly,
        and the features that the first fit removed stay removed. True is γ = 1, a
        float > 0 is γ; 'auto' is True for the penalties that select input features
        ('l1', 'elasticnet', 'group', 'sparsegroup') and False for the others. It
        costs a second fit and selects the informative features where the plain
        penalty at the prediction-optimal λ also keeps noise; ``adaptive=False`` is
        the single fit.

    param_grid : dict or None, default=None
        Regularizers of training searched jointly with λ, as in
        :class:`~sklearn.model_selection.GridSearchCV`: ``{name: values}``, e.g.
        ``{'dropout': [0.0, 0.1, 0.2]}``, over 'dropout', 'dropblock', 'block_size',
        'spatial_dropout', 'max_norm' and 'l1_ratio' (none of them acts at
        prediction). Each combination gets the whole procedure on the same folds (the
        paths over ``alphas``, ``selection``, ``adaptive``), at that many times the
        cost; the combination whose chosen λ has the highest mean score wins
        (``best_params_``). The parameters of this estimator are left as given.
"""

_CV_EXTRA_PARAMETERS = """
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: ``{label: weight}``
        or 'balanced', ``n_samples / (n_classes * np.bincount(y))``.

    loss : {'squared_error', 'poisson'}, default='squared_error'
        Per-sample loss: ½·Σ_k (y_k − p_k)² with identity output, or the half Poisson
        deviance Σ_k y_k·log(y_k / p_k) − y_k + p_k with output p = exp(z).
"""

_CV_OVERRIDES = {
    "max_iter": """    max_iter : int, default=200
        Maximum number of epochs ('sgd', 'adam') or iterations ('lbfgs') of the first
        fit of each path, at the smallest λ; later values of λ get ``path_max_iter``.""",
    "warm_start": """    warm_start : bool, default=False
        Unused: the path always starts each λ from the weights of the previous one,
        and every call to ``fit`` starts afresh. Kept to mirror the base estimator.""",
}

_CV_ATTRIBUTES = """
    alpha_ : float
        The chosen λ.

    alphas_ : ndarray of shape (n_alphas,)
        The grid of λ, increasing (the order of the path).

    scores_ : ndarray of shape (n_folds, n_alphas)
        Score of each λ on each held-out fold.

    n_features_selected_ : ndarray of shape (n_alphas,)
        Number of features (non-zero rows of ``coefs_[0]``) kept at each λ by the path
        fitted on all the data, whose model at ``alpha_`` is this estimator.

    feature_exit_alphas_ : ndarray of shape (n_features,)
        For each feature, the λ of the full-data path from which its row of
        ``coefs_[0]`` stays zero (``np.inf`` if it never leaves): an importance from
        the path, as LassoNet's, see :func:`feature_exit_alphas`.

    ensemble_coefs_ : list of length n_folds of list of ndarray
        With ``refit='ensemble'`` only: ``ensemble_coefs_[k]`` is the ``coefs_`` of
        the path of fold k at ``alpha_``, a member of the ensemble that predicts.

    ensemble_intercepts_ : list of length n_folds of list of ndarray
        With ``refit='ensemble'`` only: the ``intercepts_`` of each member.

    adaptive_weights_ : ndarray of shape (n_features,)
        The weights w_j of the second fit; only with ``adaptive``.

    best_params_ : dict
        With ``param_grid`` only: the combination of the fitted network.

    param_grid_results_ : dict of list
        With ``param_grid`` only: ``'params'``, every combination; ``'alpha'``, the λ
        chosen for each; ``'mean_score'``, the mean held-out score at that λ.
"""


def _cv_docstring(cls, kind, peer, base, examples, extra_attributes=""):
    """The docstring of a CV estimator: its parameters in the order of its signature,
    documented as in the base estimator except ``alpha`` (gone) and a few overrides."""
    docs = _parameter_docs(_PARAMETERS)
    docs.update(_parameter_docs(_CV_PARAMETERS))
    docs.update(_parameter_docs(_CV_EXTRA_PARAMETERS))
    docs.update(_CV_OVERRIDES)
    names = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
    params = "\n\n".join(docs[n].rstrip() for n in names)
    task = "regression" if "Classifier" in base else "classification"
    return f"""{kind} with λ chosen by cross-validation over a warm-started path.

    The analogue of :class:`~sklearn.linear_model.LassoCV` /
    :class:`~sklearn.linear_model.LogisticRegressionCV` for :class:`{base}`.
    On each fold, :func:`regularization_path` trains one network along the grid
    ``alphas`` from weak to strong λ (dense to sparse), each λ starting from the
    weights of the previous one: the first λ gets ``max_iter`` epochs, each later one
    at most ``path_max_iter``, so the search costs a fraction of independent fits. The
    folds, and the path on all the data, run in parallel with joblib (``n_jobs``, or
    any joblib backend such as dask). ``alpha_`` is chosen from ``scores_`` by
    ``selection`` and this estimator becomes the model of the full-data path at
    ``alpha_``: it has every fitted attribute of :class:`{base}`, its
    ``predict`` / ``score``, and ``penalty``, so that
    :class:`~sklearn.feature_selection.SelectFromModel` uses the threshold 1e-5 (exact
    zeros) for ``penalty='l1'`` and the mean importance otherwise. With
    ``refit='ensemble'``, the fold models at ``alpha_`` predict instead, averaged.

    Parameters
    ----------
{params}

    Attributes
    ----------{_CV_ATTRIBUTES}{extra_attributes}{_ATTRIBUTES}
    See Also
    --------
    {peer} : The same for {task}.
    {base} : The network at a fixed λ.
    regularization_path : The warm-started path over λ.
    sklearn.linear_model.LassoCV : Cross-validated Lasso, whose path is warm-started too.

    Notes
    -----
    ``loss_curve_`` of the fitted model covers its whole path, from the smallest λ up to
    ``alpha_`` (the full-data path is fitted over the whole grid before ``alpha_`` is
    known, and the model at ``alpha_`` is a copy taken along it); ``n_iter_`` counts the
    epochs at ``alpha_``.
    Sample weights weight the training objective, not the fold scores.

    Examples
    --------{examples}"""


class _RegularizedMLPCVMixin:
    """fit / partial_fit / the prediction of the CV estimators, shared by the classifier
    and regressor."""

    _cv_parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "selection": [StrOptions({"best", "1se"})],
        "path_max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "refit": [Options(bool, {True}), StrOptions({"ensemble"})],
        "adaptive": ["boolean", Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "param_grid": [dict, None],
    }

    def _base_estimator(self):
        """The unfitted base estimator with every parameter of this one (λ aside)."""
        names = self._estimator_class._get_param_names()
        return self._estimator_class(**{n: getattr(self, n) for n in names if n != "alpha"})

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose λ by cross-validation and fit the model at ``alpha_`` on all the data.

        With ``refit='ensemble'``, the fold models at ``alpha_`` are kept to predict.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the training objective of every fit.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)  # the public attributes of a previous fit
        if self.param_grid is not None:  # one CV fit per combination: see _grid.py
            return fit_param_grid(self, X, y, sample_weight)
        gamma = adaptive_gamma(self.adaptive, self.penalty)
        if gamma:  # two fits, the second weighted by the first: see _adaptive.py
            return fit_adaptive(self, X, y, sample_weight, gamma)
        alphas = np.unique(_alpha_grid(self.alphas))
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=not is_classifier(self),
            dtype=(np.float64, np.float32),
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)

        estimator = self._base_estimator()
        scorer = check_scoring(estimator, scoring=self.scoring)
        folds = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))
        task = start_cv_fit(self, X, y, sample_weight, len(folds), len(alphas))
        paths = [estimator] * (len(folds) + 1)
        full, fold_results, unconverged = self._paths(
            paths, X, y, sample_weight, folds, alphas, scorer, task
        )
        if unconverged:
            warnings.warn(
                f"The first fit (smallest λ, max_iter={self.max_iter} epochs) of "
                f"{unconverged} of the {len(folds) + 1} paths reached max_iter without "
                "converging. Increase max_iter, or scale the features.",
                ConvergenceWarning,
            )
        models, n_selected = full[0], list(full[1])
        scores = np.vstack([fold_scores for fold_scores, _, _ in fold_results])
        members = [fold_weights for _, fold_weights, _ in fold_results]
        index = _select_index(scores, self.selection)
        # the chosen λ is the largest of the default grid: continue every path upward
        while _extends(self.alphas, alphas, index) and n_selected[-1] > 0:
            alphas = np.append(alphas, alphas[-1] ** 2 / alphas[-2])
            paths = [full[2]] + [path for _, _, path in fold_results]
            full, fold_results, _ = self._paths(
                paths, X, y, sample_weight, folds, alphas[-1:], scorer, NoCVTask(len(folds)), True
            )
            models += full[0]
            n_selected += list(full[1])
            scores = np.hstack([scores, np.vstack([r[0] for r in fold_results])])
            if self.refit == "ensemble":
                members = [a + b for a, (_, b, _) in zip(members, fold_results)]
            index = _select_index(scores, self.selection)

        self.scores_ = scores
        if self.refit == "ensemble":
            self.ensemble_coefs_, self.ensemble_intercepts_ = _members(members, index)
        self._adopt(models[index])
        self.alphas_ = alphas
        self.alpha_ = float(alphas[index])
        self.n_features_selected_ = np.array(n_selected)
        self.feature_exit_alphas_ = feature_exit_alphas(alphas, [m.coefs_ for m in models])
        task.end()
        return self

    def _paths(self, paths, X, y, sample_weight, folds, alphas, scorer, task, resume=False):
        """Run the full-data path (``paths[0]``) and the fold paths (``paths[1:]``) over
        ``alphas``, reported to the CV ``task``: ((models, n_features_selected, path), the
        :func:`_fold_scores` of each fold, the number of paths whose first fit reached
        ``max_iter``). ``paths`` are the base estimator, or with ``resume`` the paths
        returned before, continued."""
        # the full-data path first: the longest job starts first
        jobs = [
            delayed(_full_path)(
                paths[0], X, y, sample_weight, alphas, self.path_max_iter, task.full_path, resume
            )
        ]
        jobs += [
            delayed(_fold_scores)(
                path,
                X,
                y,
                sample_weight,
                train,
                test,
                alphas,
                self.path_max_iter,
                scorer,
                fold_task,
                keep_weights=self.refit == "ensemble",
                resume=resume,
            )
            for path, (train, test), fold_task in zip(paths[1:], folds, task.fold_paths)
        ]
        # threads unless the user chose a joblib backend: the kernels release the GIL, so
        # the folds share one process's compiled kernels (one compile, no loading per worker)
        with one_blas_thread(effective_n_jobs(self.n_jobs) > 1):
            results = Parallel(n_jobs=self.n_jobs, prefer="threads")(jobs)
        unconverged = sum(reached for _, reached in results)
        return results[0][0], [r[0] for r in results[1:]], unconverged

    def _weight_sets(self):
        """The networks whose outputs ``predict`` averages: the members with
        ``refit='ensemble'``, else the model at ``alpha_``."""
        if hasattr(self, "ensemble_coefs_"):
            return list(zip(self.ensemble_coefs_, self.ensemble_intercepts_))
        return super()._weight_sets()

    @available_if(_never)
    def partial_fit(self, X, y, **kwargs):
        """Not available: a cross-validated estimator is fitted over whole paths."""


class RegularizedMLPClassifierCV(_RegularizedMLPCVMixin, RegularizedMLPClassifier):
    _estimator_class = RegularizedMLPClassifier
    _parameter_constraints: dict = {
        **{
            k: v for k, v in RegularizedMLPClassifier._parameter_constraints.items() if k != "alpha"
        },
        **_RegularizedMLPCVMixin._cv_parameter_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        alphas=10,
        cv=None,
        scoring=None,
        n_jobs=None,
        selection="best",
        path_max_iter="auto",
        refit=True,
        adaptive="auto",
        param_grid=None,
        solver="adam",
        penalty="l2",
        l1_ratio=0.5,
        penalty_weights=None,
        feature_groups=None,
        max_norm=None,
        dropout=0.0,
        dropblock=0.0,
        block_size=3,
        dropblock_schedule="linear",
        dropblock_scale="feature",
        spatial_dropout=0.0,
        feature_shape=None,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        early_stopping_metric="score",
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
    ):
        self._store_parameters(locals())


class RegularizedMLPRegressorCV(_RegularizedMLPCVMixin, RegularizedMLPRegressor):
    _estimator_class = RegularizedMLPRegressor
    _parameter_constraints: dict = {
        **{k: v for k, v in RegularizedMLPRegressor._parameter_constraints.items() if k != "alpha"},
        **_RegularizedMLPCVMixin._cv_parameter_constraints,
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        alphas=10,
        cv=None,
        scoring=None,
        n_jobs=None,
        selection="best",
        path_max_iter="auto",
        refit=True,
        adaptive="auto",
        param_grid=None,
        solver="adam",
        penalty="l2",
        l1_ratio=0.5,
        penalty_weights=None,
        feature_groups=None,
        max_norm=None,
        dropout=0.0,
        dropblock=0.0,
        block_size=3,
        dropblock_schedule="linear",
        dropblock_scale="feature",
        spatial_dropout=0.0,
        feature_shape=None,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        early_stopping_metric="score",
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        self._store_parameters(locals())


_CLASSIFIER_EXAMPLES = """
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.feature_selection import SelectFromModel
    >>> from sklearn_reg import RegularizedMLPClassifierCV
    >>> X, y = make_classification(n_samples=300, n_features=20, n_informative=3,
    ...                            n_redundant=0, shuffle=False, random_state=0)
    >>> clf = RegularizedMLPClassifierCV(
    ...     alphas=[1e-3, 1e-2, 3e-2], penalty="group", hidden_layer_sizes=(16,),
    ...     learning_rate_init=0.01, max_iter=100, cv=3, random_state=0).fit(X, y)
    >>> clf.scores_.shape
    (3, 3)
    >>> clf.alpha_ in clf.alphas_
    True
    >>> bool(clf.score(X, y) > 0.8)
    True
    >>> support = SelectFromModel(clf, prefit=True).get_support()
    >>> bool(support[:3].all())
    True
    """

_REGRESSOR_EXAMPLES = """
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_reg import RegularizedMLPRegressorCV
    >>> X, y = make_friedman1(n_samples=400, n_features=10, noise=1.0, random_state=0)
    >>> X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    >>> reg = RegularizedMLPRegressorCV(
    ...     alphas=[1e-3, 3e-3, 1e-2], penalty="group", hidden_layer_sizes=(16,),
    ...     learning_rate_init=0.01, cv=3, random_state=0).fit(X, y)
    >>> reg.n_features_selected_.shape
    (3,)
    >>> bool(reg.score(X, y) > 0.7)
    True
    """

RegularizedMLPClassifierCV.__doc__ = _cv_docstring(
    RegularizedMLPClassifierCV,
    "Multilayer perceptron classifier",
    "RegularizedMLPRegressorCV",
    "RegularizedMLPClassifier",
    _CLASSIFIER_EXAMPLES,
    extra_attributes="""
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.
""",
)
RegularizedMLPRegressorCV.__doc__ = _cv_docstring(
    RegularizedMLPRegressorCV,
    "Multilayer perceptron regressor",
    "RegularizedMLPClassifierCV",
    "RegularizedMLPRegressor",
    _REGRESSOR_EXAMPLES,
)
