"""RegularizedMLPClassifier and RegularizedMLPRegressor: targets, outputs, scores."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d, compute_sample_weight
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import validate_data

from . import _kernels as K
from ._base import BaseRegularizedMLP
from ._penalties import (
    feature_selecting_penalties,
    mixed_penalties,
    penalty_parameter_doc,
    smooth_penalties,
)

_PARAMETERS = (
    """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons of the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers: f(x) = x, 1 / (1 + exp(-x)), tanh(x) or
        max(0, x).

    solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
        Optimizer. 'adam' and 'sgd' train in mini-batches in a compiled epoch kernel;
        'lbfgs' (full batch, :func:`scipy.optimize.minimize`) needs a smooth objective:
        ``penalty`` in """
    + ", ".join(smooth_penalties())
    + """ and no dropout.

"""
    + penalty_parameter_doc()
    + """

    alpha : float, default=1e-4
        Penalty strength λ ≥ 0, per objective: J(W) = Σ s_i·loss_i / Σ s_i + λ·Ω(W),
        independent of the batch size. scikit-learn's MLP adds α/(2·B)·‖W‖² per batch
        of size B, so ``alpha_sklearn ≈ 2·B·alpha``: the default 1e-4 (PyTorch's
        ``weight_decay=2e-4``) is a stronger L2 than scikit-learn's default at B = 200.

    l1_ratio : float, default=0.5
        Share of L1 in the mixed penalties ("""
    + ", ".join(mixed_penalties())
    + """), in
        [0, 1].

    penalty_weights : array-like of shape (n_features,) or None, default=None
        Weight w_j ≥ 0 of each input feature j in the penalties that act on the rows of
        the first layer ("""
    + ", ".join(repr(p) for p in feature_selecting_penalties())
    + """):
        the L1 part of row j of ``coefs_[0]`` becomes λ₁·w_j·‖W₁[j, :]‖₁ and its
        group part λ_g·w_j·√h₁·‖W₁[j, :]‖₂ (the deeper layers and the L2 part stay
        unweighted), so a larger weight removes the feature sooner and w_j = 0 leaves
        it unpenalized: the weights of the adaptive lasso (Zou, 2006) and the adaptive
        group lasso (Dinh & Ho, 2020). None weights every feature by 1; the other
        penalties refuse weights.

    feature_groups : array-like of shape (n_features,) or None, default=None
        Group label of each input feature for the group part of 'group' and
        'sparsegroup': the rows of ``coefs_[0]`` of one group are shrunk and removed
        as one block, λ_g·w̄_g·√(h₁·n_g)·‖W₁[g, :]‖₂ with n_g the group's size and w̄_g
        the mean of its ``penalty_weights``, so that a feature encoded as several
        columns (the output columns of one input of
        :class:`~sklearn_reg.PiecewiseLinearEncoder`, ``feature_groups=
        encoder.feature_index_``, or the one-hot columns of one categorical) is kept
        or removed whole. The L1 part stays per weight. None makes each feature a
        group of its own; the other penalties refuse groups.

    max_norm : float or None, default=None
        Max-norm constraint c > 0 (Srivastava et al., 2014): after each step, the
        incoming weight vector of every hidden unit (a column of ``coefs_[i]``,
        ``i < n_layers_ - 2``) is projected onto the ball ‖w‖₂ ≤ c, as Keras'
        ``MaxNorm(axis=0)``. Combines with every penalty and with dropout, with which
        it is the classic pairing. None applies no constraint.

    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Inverted dropout on the hidden activations, one rate in [0, 1) or one per
        hidden layer: in training each activation is zeroed with probability p and the
        survivors are multiplied by 1 / (1 − p); nothing is dropped or rescaled at
        prediction.

    dropblock : float, default=0.0
        DropBlock rate in [0, 1) on the input features viewed with ``feature_shape``:
        block seeds are drawn in the region where a whole block fits and each zeroes a
        ``block_size`` block. The seed rate γ is chosen so that the expected
        share of dropped inputs equals ``dropblock`` (the paper's
        γ = rate / b^d · Π_k n_k / (n_k − b + 1) undershoots it where blocks overlap).
        ``block_size=1`` is dropout on the inputs. The kept inputs are rescaled as
        ``dropblock_scale`` says.

    block_size : int or sequence of int, default=3
        Edge of the DropBlock blocks, one for every axis or one per axis of
        ``feature_shape``; at most the size of each axis.

    dropblock_schedule : {'linear', 'constant'}, default='linear'
        'linear' ramps the DropBlock rate from 0 to ``dropblock`` over ``max_iter``
        epochs (epoch k uses ``dropblock * min(1, k / max_iter)``), as the DropBlock
        paper recommends; 'constant' uses ``dropblock`` from the first epoch.

    dropblock_scale : {'feature', 'sample'}, default='feature'
        Rescaling of the inputs that DropBlock keeps. 'feature': each feature by
        1 / P(kept) = 1 / (1 − γ)^c, c the number of seeds whose block covers it (exact
        inverted DropBlock: every feature keeps its expectation, edges included, so
        training and prediction see it at the same scale). 'sample': the paper's
        count(mask) / count_ones(mask) per sample, which keeps each sample's total but
        over-weights the edge features, covered by fewer blocks.

    spatial_dropout : float, default=0.0
        Probability in [0, 1) of dropping a whole input channel (axis 0 of
        ``feature_shape``) of a sample; the kept channels are scaled by 1 / (1 − p).

    feature_shape : sequence of int or None, default=None
        Layout of the input columns in C order for ``dropblock`` and
        ``spatial_dropout``, e.g. ``(8, 8)`` for an image or ``(C, L)`` / ``(C, H, W)``
        with channels first; None means ``(n_features,)``.

    batch_size : int or 'auto', default='auto'
        Size of the mini-batches, ``min(200, n_samples)`` for 'auto'. Unused by
        'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the step size of 'sgd': constant, ``learning_rate_init / (t + 1)
        ** power_t`` with t the samples seen, or divided by 5 each time the stopping
        rule stalls (the training loss, or with ``early_stopping`` the validation
        metric; see ``n_iter_no_change``).

    learning_rate_init : float, default=1e-3
        Initial step size η of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs ('sgd', 'adam') or iterations ('lbfgs').

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the validation split, the shuffling and the
        dropout masks. An int gives bit-identical models in any process or thread.

    tol : float, default=1e-4
        Least improvement that counts: training stops when the training loss (with
        ``early_stopping``, the validation loss or score) does not improve by ``tol``
        for ``n_iter_no_change`` consecutive epochs; gradient tolerance of 'lbfgs'.

    verbose : bool, default=False
        Print the loss of each epoch, in scikit-learn's format.

    warm_start : bool, default=False
        Start ``fit`` from the previous solution instead of a new initialisation.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for single-output
        classification), evaluate it after every epoch, stop when
        ``early_stopping_metric`` stalls and restore the weights of its best epoch
        ('sgd', 'adam').

    early_stopping_metric : {'score', 'loss'}, default='score'
        What early stopping watches on the held-out data. 'score': scikit-learn's
        rule, the accuracy (classifier) or R² (regressor) must beat the best by
        ``tol`` within ``n_iter_no_change`` epochs, and the weights of the best score
        are restored. 'loss' (recommended): the weighted mean loss (log-loss, squared
        error or Poisson deviance, without the penalty) must fall below the best by
        more than ``tol``, the weights of the lowest loss are restored, and the
        patience is ``n_iter_no_change`` epochs but at least 200 optimizer steps
        (⌈200 / steps per epoch⌉ epochs: 100 on a few hundred rows, 10 from about
        4 300 rows on at the default batch size). The coarse accuracy of a small
        held-out set stops too early: on the small benchmark sets of the Quality page
        of the documentation, against training without early stopping, 'score' costs
        0.029 test accuracy on average and 'loss' gains 0.0015 (worst set −0.010).
        With 'loss', reaching ``max_iter`` warns ``ConvergenceWarning`` only if the
        loss improved within the last ``n_iter_no_change`` epochs. 'score' stays the
        default, scikit-learn's behaviour.

    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in (0, 1).

    beta_1 : float, default=0.9
        Decay of Adam's first moment, in [0, 1).

    beta_2 : float, default=0.999
        Decay of Adam's second moment, in [0, 1).

    epsilon : float, default=1e-8
        Adam's ε in η·m̂ / (√v̂ + ε).

    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping ('sgd', 'adam'); with
        ``early_stopping_metric='loss'``, a floor of the patience (see there).

    max_fun : int, default=15000
        Maximum number of loss function calls of 'lbfgs' (as in scikit-learn's MLP).
"""
)

_ATTRIBUTES = """
    loss_ : float
        Objective at the last epoch: the weighted mean loss over the epoch plus λ·Ω(W).

    best_loss_ : float or None
        Minimum of ``loss_curve_``; None with early stopping.

    loss_curve_ : list of float
        ``loss_`` at each epoch ('sgd', 'adam').

    validation_scores_ : list of float or None
        Score (accuracy or R²) on the held-out set at each epoch with early stopping,
        else None.

    validation_loss_curve_ : list of float
        Weighted mean loss on the held-out set at each epoch (early stopping only).

    best_validation_score_ : float or None
        Best of ``validation_scores_`` (None without early stopping); its weights are
        the ones restored with ``early_stopping_metric='score'``.

    best_validation_loss_ : float
        Lowest of ``validation_loss_curve_`` (early stopping only); its weights are the
        ones restored with ``early_stopping_metric='loss'``.

    t_ : int
        Number of training samples seen by the solver.

    coefs_ : list of ndarray
        ``coefs_[i]`` is the weight matrix of layer i, shape (units_i, units_i+1).

    intercepts_ : list of ndarray
        ``intercepts_[i]`` is the bias vector of layer i + 1.

    coef_ : ndarray of shape (n_hidden_1, n_features)
        ``coefs_[0].T``, read by :class:`~sklearn.feature_selection.SelectFromModel`:
        with ``penalty='l1'`` its default threshold 1e-5 keeps exactly the features
        whose row of ``coefs_[0]`` is not all zero.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when they are all strings.

    n_iter_ : int
        Number of epochs ('sgd', 'adam') or iterations ('lbfgs') run.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation.
"""


def _solver_is_stochastic(estimator):
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. lbfgs is not "
            "stochastic: it minimises the objective over the whole data at once."
        )
    return True


class RegularizedMLPClassifier(ClassifierMixin, BaseRegularizedMLP):
    __doc__ = f"""Multilayer perceptron classifier with the regularizers of deep learning.

    L1 (proximal), L2, decoupled weight decay, elastic-net and group penalties, dropout,
    DropBlock and spatial dropout, trained by compiled numba kernels.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: same
    parameters (``max_fun`` included), attributes and behaviour, plus the regularization
    parameters ``penalty``, ``l1_ratio``, ``max_norm``, ``dropout``, ``dropblock``,
    ``block_size``, ``dropblock_schedule``, ``dropblock_scale``, ``spatial_dropout`` and
    ``feature_shape``, and ``class_weight``. ``alpha`` keeps its name but is λ per
    objective (see below). It minimises the
    log-loss (logistic output for binary and multilabel targets, softmax for
    multiclass).

    Parameters
    ----------{_PARAMETERS}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: ``{{label: weight}}``
        or 'balanced', ``n_samples / (n_classes * np.bincount(y))``. 'balanced' is
        not available in ``partial_fit``.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.
{_ATTRIBUTES}
    See Also
    --------
    RegularizedMLPRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : The MLP of scikit-learn, with a batch-scaled L2.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.feature_selection import SelectFromModel
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_reg import RegularizedMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     RegularizedMLPClassifier(penalty="l1", alpha=0.01, max_iter=50, random_state=0),
    ... ).fit(X, y)
    >>> round(clf.score(X, y), 2) >= 0.95
    True
    >>> selector = SelectFromModel(clf[-1], prefit=True)
    >>> selector.transform(StandardScaler().fit_transform(X)).shape[1] < X.shape[1]
    True
    """

    _parameter_constraints: dict = {
        **BaseRegularizedMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    loss = "log_loss"  # the one loss of the classifier, as in scikit-learn's MLP

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        penalty="l2",
        alpha=1e-4,
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

    def _validate_input(self, X, y, incremental, reset, classes=None):
        if incremental and _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if type_of_target(y).startswith("multilabel") else classes)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, "
                        f"`y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # one class: a single all-zero output column, as in scikit-learn's MLP, so that the
        # network learns p → 0 and predict always returns that class
        Y = self._label_binarizer.transform(y).astype(X.dtype)
        return X, Y

    def _sample_weight(self, X, y, sample_weight, incremental):
        sw = super()._sample_weight(X, y, sample_weight, incremental)
        if self.class_weight is None:
            return sw
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: the class "
                "frequencies of the whole data are unknown. Pass a dict computed with "
                "sklearn.utils.class_weight.compute_class_weight instead."
            )
        return sw * compute_sample_weight(self.class_weight, np.asarray(y)).astype(X.dtype)

    def _loss_code(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return K.MULTINOMIAL_LOG_LOSS
        return K.BINARY_LOG_LOSS

    def _score_predictions(self, P, Y, sample_weight):
        """``accuracy_score`` of the labels of P and Y (as ``_label_binarizer`` decodes
        them: argmax, or every output thresholded at 0.5), without its input checks,
        which would cost more than the rest of an epoch on small data."""
        lb = self._label_binarizer
        if lb.classes_.shape[0] == 1:  # one class: every prediction is that class
            correct = np.ones(P.shape[0], dtype=bool)
        elif lb.y_type_ == "multiclass":
            correct = P.argmax(axis=1) == Y.argmax(axis=1)
        else:  # binary, multilabel (subset accuracy)
            correct = ((P > 0.5) == (Y > 0.5)).all(axis=1)
        return float(np.average(correct, weights=sample_weight))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a label-indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights s_i of the samples in the objective Σ s_i·loss_i / Σ s_i.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_solver_is_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over X and y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        classes : array of shape (n_classes,), default=None
            All the classes, required at the first call (``np.unique(y_all)``).

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def predict(self, X):
        """Predict the classes of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted classes (a label-indicator matrix for multilabel targets).
        """
        P = self._forward(X)
        if self.n_outputs_ == 1:
            P = P.ravel()
        return self._label_binarizer.inverse_transform(P)

    def predict_proba(self, X):
        """Probability of each class for X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, in the order of ``classes_``.
        """
        P = self._forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class.
        """
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class RegularizedMLPRegressor(RegressorMixin, BaseRegularizedMLP):
    __doc__ = f"""Multilayer perceptron regressor with the regularizers of deep learning.

    L1 (proximal), L2, decoupled weight decay, elastic-net and group penalties, dropout,
    DropBlock and spatial dropout, trained by compiled numba kernels.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: same
    parameters (``max_fun`` included), attributes and behaviour, plus the regularization
    parameters ``penalty``, ``l1_ratio``, ``max_norm``, ``dropout``, ``dropblock``,
    ``block_size``, ``dropblock_schedule``, ``dropblock_scale``, ``spatial_dropout`` and
    ``feature_shape``. ``alpha`` keeps its name but is λ per objective (see below).

    Parameters
    ----------
    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        Per-sample loss: ½·Σ_k (y_k − p_k)² with identity output, or the half Poisson
        deviance Σ_k y_k·log(y_k / p_k) − y_k + p_k with output p = exp(z).
{_PARAMETERS}
    Attributes
    ----------{_ATTRIBUTES}
    See Also
    --------
    RegularizedMLPClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : The MLP of scikit-learn, with a batch-scaled L2.

    Notes
    -----
    For several outputs the squared error is summed over the outputs (scikit-learn's
    ``loss_`` averages it, while its gradient sums), so ``loss_`` and gradient agree.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_reg import RegularizedMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(
    ...     StandardScaler(),
    ...     RegularizedMLPRegressor(penalty="wd", alpha=1e-3, learning_rate_init=0.01,
    ...                             max_iter=300, random_state=0),
    ... ).fit(X, y / y.std())
    >>> round(reg.score(X, y / y.std()), 1) >= 0.5
    True
    """

    _parameter_constraints: dict = {
        **BaseRegularizedMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        penalty="l2",
        alpha=1e-4,
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

    def _validate_input(self, X, y, incremental, reset, classes=None):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative, which is not allowed for loss='poisson'."
            )
        return X, np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)

    def _loss_code(self):
        return K.POISSON if self.loss == "poisson" else K.SQUARED_ERROR

    def _score_predictions(self, P, Y, sample_weight):
        """``r2_score`` (uniform average over the outputs, 1 for a perfect prediction of
        a constant, 0 for an imperfect one), without its input checks."""
        w = np.asarray(sample_weight, dtype=np.float64)[:, None]
        Y, P = Y.astype(np.float64), P.astype(np.float64)
        residual = (w * (Y - P) ** 2).sum(axis=0)
        spread = (w * (Y - (w * Y).sum(axis=0) / w.sum()) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(spread > 0, 1 - residual / spread, np.where(residual == 0, 1.0, 0.0))
        return float(r2.mean())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 input trains in float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values (non-negative for ``loss='poisson'``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights s_i of the samples in the objective Σ s_i·loss_i / Σ s_i.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_solver_is_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over X and y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predict the targets of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        P = self._forward(X)
        return P.ravel() if self.n_outputs_ == 1 else P
