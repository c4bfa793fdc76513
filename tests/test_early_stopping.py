"""Early stopping: the validation-loss rule, its patience, the weights it restores.

The stopping rule is driven with crafted validation sequences (the kernel's
``output_loss`` or the estimator's score replaced, one value per epoch), so that the
epoch where training stops and the epoch whose weights come back follow from the
rule's definition:

- 'loss': epoch e is the best so far if L_e < min(L_<e), an improvement if
  L_e < min(L_<e) − tol;
- 'score' (scikit-learn's): best if S_e > max(S_<e), an improvement if
  S_e ≥ max(S_<e) + tol;

training stops after the epoch at which ``patience + 1`` epochs in a row brought no
improvement (the last improvement at epoch i, 0-based, gives ``n_iter_ = i + patience +
2``); with 'loss' the patience is max(n_iter_no_change, ⌈200 / steps per epoch⌉).
"""

import itertools
import warnings

import numpy as np
import pytest
from estimator_state import ESTIMATORS, STATE_ARG
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor, regularization_path
from sklearn_reg import _kernels as K

#: 100 rows: early stopping holds out 20 and trains on 80
X, Y_CLF = make_classification(n_samples=100, n_features=4, random_state=0)
#: a noisy target, which the network overfits
Y_REG = X[:, 0] + 0.5 * X[:, 1] + np.random.default_rng(0).normal(scale=0.5, size=100)
SPLIT = {"validation_fraction": 0.2}


def _y(Estimator):
    return Y_CLF if Estimator is RegularizedMLPClassifier else Y_REG


def _fake_validation_losses(monkeypatch, values):
    """The validation loss of the k-th evaluation is ``values[k]`` (the predictions still
    go through the output activation, for the score)."""
    # compiled before the patch: the training kernel calls output_loss too, and numba
    # would compile it against the fake if this process had not compiled it yet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for Estimator in (RegularizedMLPClassifier, RegularizedMLPRegressor):
            Estimator(max_iter=1, early_stopping=True, **SPLIT).fit(X, _y(Estimator))
    calls, real = itertools.count(), K.output_loss

    def output_loss(P, Y, sw, loss):
        real(P, Y, sw, loss)
        return values[next(calls)] * sw.sum()  # the trainer divides by Σ sw

    monkeypatch.setattr(K, "output_loss", output_loss)


def _record_epochs(monkeypatch):
    """The flat parameters after every call of the training kernel (one epoch per call
    with early stopping)."""
    epochs, real = [], K.train

    def train(*args):
        out = real(*args)
        epochs.append(args[STATE_ARG].params.copy())
        return out

    monkeypatch.setattr(K, "train", train)
    return epochs


#: a loss that falls for 3 epochs, stalls, then beats its best at epoch 4 by less than
#: tol = 1e-3 (a new best, not an improvement), then stalls for good
CRAFTED = [1.0, 0.9, 0.8, 0.80005, 0.79995] + [0.85] * 400
BEST_EPOCH = 4  # lowest loss; the last improvement is epoch 2


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "batch_size, n_iter_no_change, patience",
    [
        (4, 3, 10),  # 20 steps per epoch: ⌈200 / 20⌉ = 10 epochs > 3
        (4, 15, 15),  # n_iter_no_change above the floor: the user's number
        (40, 3, 100),  # 2 steps per epoch: ⌈200 / 2⌉ = 100
        ("auto", 10, 200),  # min(200, 80) = 80 rows, 1 step per epoch: 200
    ],
)
def test_loss_rule_stops_where_the_closed_form_says(
    monkeypatch, Estimator, batch_size, n_iter_no_change, patience
):
    _fake_validation_losses(monkeypatch, CRAFTED)
    epochs = _record_epochs(monkeypatch)
    est = Estimator(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        early_stopping_metric="loss",
        batch_size=batch_size,
        n_iter_no_change=n_iter_no_change,
        tol=1e-3,
        max_iter=300,
        random_state=0,
        **SPLIT,
    ).fit(X, _y(Estimator))
    # the last improvement is epoch 2: 2 + patience + 2 epochs
    assert est.n_iter_ == patience + 4
    assert len(est.validation_loss_curve_) == len(est.validation_scores_) == est.n_iter_
    np.testing.assert_allclose(est.validation_loss_curve_, CRAFTED[: est.n_iter_])
    assert est.best_validation_loss_ == min(est.validation_loss_curve_)
    assert est.best_validation_score_ == max(est.validation_scores_)
    # the weights of the lowest loss, not of the last improvement nor the last epoch
    np.testing.assert_array_equal(est._flat_params(), epochs[BEST_EPOCH])
    assert not np.array_equal(epochs[BEST_EPOCH], epochs[2])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_score_rule_is_scikit_learns_with_the_users_patience(monkeypatch, Estimator):
    """Same crafted sequence as a score (higher is better): patience n_iter_no_change, an
    equal score counts as an improvement (S ≥ S_best + tol with tol = 0), the weights are
    those of the best score."""
    scores = iter([0.5, 0.6, 0.6, 0.7, 0.65] + [0.6] * 400)
    monkeypatch.setattr(Estimator, "_score_predictions", lambda self, P, Y, sw: next(scores))
    epochs = _record_epochs(monkeypatch)
    est = Estimator(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        batch_size=40,  # 2 steps per epoch: the loss rule's floor would be 100 epochs
        n_iter_no_change=3,
        tol=0.0,
        max_iter=300,
        random_state=0,
        **SPLIT,
    ).fit(X, _y(Estimator))
    assert est.get_params()["early_stopping_metric"] == "score"  # the default
    # last improvement at epoch 3: 3 + 3 + 2 epochs
    assert est.n_iter_ == 8
    assert est.best_validation_score_ == 0.7
    np.testing.assert_array_equal(est._flat_params(), epochs[3])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("metric", ["loss", "score"])
def test_restored_weights_are_those_of_the_best_epoch_bit_for_bit(Estimator, metric):
    """On real validation curves: the model equals a fit stopped by max_iter at the epoch
    of the lowest validation loss (highest score)."""
    kw = dict(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        early_stopping_metric=metric,
        learning_rate_init=0.02,
        batch_size=10,  # 8 steps per epoch: patience 25 epochs with 'loss', 10 with 'score'
        random_state=0,
        **SPLIT,
    )
    est = Estimator(max_iter=200, **kw).fit(X, _y(Estimator))
    assert est.n_iter_ < 200  # stopped by the rule
    curve = est.validation_loss_curve_ if metric == "loss" else est.validation_scores_
    best = int(np.argmin(curve) if metric == "loss" else np.argmax(curve))
    assert best < est.n_iter_ - 1  # an earlier epoch than the last one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        snapshot = Estimator(max_iter=best + 1, **kw).fit(X, _y(Estimator))
    for a, b in zip(est.coefs_ + est.intercepts_, snapshot.coefs_ + snapshot.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert est.best_validation_loss_ == min(est.validation_loss_curve_)


def test_loss_rule_runs_on_the_loss_not_the_score(monkeypatch):
    """A validation accuracy that never improves after the first epoch stops the score
    rule at once; the loss rule goes on while the loss falls."""
    kw = dict(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=300,
        random_state=0,
    )
    monkeypatch.setattr(RegularizedMLPClassifier, "_score_predictions", lambda *a: 0.5)
    _fake_validation_losses(monkeypatch, list(np.linspace(1.0, 0.5, 30)) + [0.6] * 300)
    est = RegularizedMLPClassifier(early_stopping_metric="loss", **SPLIT, **kw).fit(X, Y_CLF)
    assert est.n_iter_ == 29 + 200 + 2  # 80 rows: 1 step per epoch, patience 200
    _fake_validation_losses(monkeypatch, list(np.linspace(1.0, 0.5, 30)))
    est = RegularizedMLPClassifier(early_stopping_metric="score", **SPLIT, **kw).fit(X, Y_CLF)
    assert est.n_iter_ == 0 + 3 + 2  # patience n_iter_no_change = 3


@pytest.mark.parametrize(
    "losses, warns",
    [
        (list(np.linspace(1.0, 0.5, 300)), True),  # still falling at max_iter
        (list(np.linspace(1.0, 0.5, 45)) + [0.6] * 300, True),  # best 5 epochs before the end
        (list(np.linspace(1.0, 0.5, 30)) + [0.6] * 300, False),  # 20 epochs without a best
    ],
)
def test_max_iter_warns_only_while_the_users_patience_has_not_run_out(monkeypatch, losses, warns):
    """80 rows: 1 step per epoch, so the loss rule waits 200 epochs, longer than
    max_iter = 50. Reaching max_iter is convergence if the loss has not improved for
    more than ``n_iter_no_change`` = 10 epochs."""
    _fake_validation_losses(monkeypatch, losses)
    est = RegularizedMLPClassifier(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        early_stopping_metric="loss",
        max_iter=50,
        random_state=0,
        **SPLIT,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, Y_CLF)
    assert est.n_iter_ == 50
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught) == warns


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_one_class_data_stops_by_score_and_goes_on_by_loss(Estimator):
    """scikit-learn's ``test_preserve_feature_names`` data (8 training rows, y constant):
    the validation score is constant, so the score rule stops after ``n_iter_no_change``
    epochs; the validation loss falls as the output approaches y, so the loss rule runs
    to max_iter and warns, which that test turns into an error (why 'score' stays the
    default)."""
    X_small = np.random.RandomState(0).randn(10, 2)
    y = np.ones(10)
    kw = dict(early_stopping=True, validation_fraction=0.2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est = Estimator(early_stopping_metric="score", **kw).fit(X_small, y)
    assert est.n_iter_ == 12
    with pytest.warns(ConvergenceWarning):
        est = Estimator(early_stopping_metric="loss", **kw).fit(X_small, y)
    assert est.n_iter_ == 200
    assert np.all(np.diff(est.validation_loss_curve_[-20:]) < 0)


def test_warm_start_keeps_the_best_loss_of_the_previous_fit(monkeypatch):
    """As scikit-learn keeps the best score: a warm start none of whose epochs beats the
    previous fit's lowest validation loss ends on the previous fit's weights."""
    _fake_validation_losses(monkeypatch, [1.0, 0.5, 0.2, 0.3, 0.3] + [0.4] * 300)
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        early_stopping_metric="loss",
        warm_start=True,
        max_iter=5,
        batch_size=40,  # 2 steps per epoch: patience 100
        random_state=0,
        **SPLIT,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y_CLF)
    first = clf._flat_params().copy()
    assert clf.best_validation_loss_ == pytest.approx(0.2)
    clf.set_params(max_iter=300).fit(X, Y_CLF)
    assert clf.best_validation_loss_ == pytest.approx(0.2)
    # no epoch improves; the count goes on from the first fit's 2 (as scikit-learn's
    # _no_improvement_count) and passes 100 after 99 epochs
    assert clf.n_iter_ == 99
    assert len(clf.validation_loss_curve_) == 5 + 99
    np.testing.assert_array_equal(clf._flat_params(), first)


def test_each_alpha_of_a_path_measures_its_best_loss_afresh(monkeypatch):
    """regularization_path restarts the rule at every λ: the second λ's best loss is its
    own (0.5), not the first λ's lower 0.2."""
    _fake_validation_losses(monkeypatch, [1.0, 0.8, 0.6, 0.4, 0.2] + [0.5] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        *_, models = regularization_path(
            X,
            Y_CLF,
            [1e-4, 1e-2],
            path_max_iter=5,
            return_models=True,
            hidden_layer_sizes=(5,),
            early_stopping=True,
            early_stopping_metric="loss",
            max_iter=5,
            random_state=0,
            **SPLIT,
        )
    assert models[0].best_validation_loss_ == pytest.approx(0.2)
    assert models[1].best_validation_loss_ == pytest.approx(0.5)
    assert len(models[1].validation_loss_curve_) == 10


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("metric", ["loss", "score"])
def test_partial_fit_refuses_early_stopping(Estimator, metric):
    est = Estimator(early_stopping=True, early_stopping_metric=metric)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        if Estimator is RegularizedMLPClassifier:
            est.partial_fit(X, Y_CLF, classes=[0, 1])
        else:
            est.partial_fit(X, Y_REG)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad", ["accuracy", "Loss", None, 1])
def test_bad_early_stopping_metric_is_rejected_by_name(Estimator, bad):
    with pytest.raises(InvalidParameterError, match="early_stopping_metric"):
        Estimator(early_stopping=True, early_stopping_metric=bad).fit(X, _y(Estimator))


def test_without_early_stopping_the_metric_changes_nothing():
    fits = [
        RegularizedMLPRegressor(max_iter=20, random_state=0, early_stopping_metric=m).fit(X, Y_REG)
        for m in ("loss", "score")
    ]
    assert not hasattr(fits[0], "best_validation_loss_")
    assert fits[0].validation_scores_ is None
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])
    assert fits[0].loss_curve_ == fits[1].loss_curve_


def _fitted(Estimator, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X[:20], y)


@pytest.mark.parametrize(
    "labels",
    [
        "binary",
        "multiclass",
        "multilabel",
        "one class",
    ],
)
def test_validation_accuracy_is_scikit_learns(labels):
    """The early-stopping score, computed on the binarized targets, equals
    ``accuracy_score`` on the decoded labels (weighted, with ties and rounding at 0.5)."""
    rng = np.random.default_rng(0)
    y = {
        "binary": rng.choice(["a", "b"], 20),
        "multiclass": rng.integers(0, 4, 20),
        "multilabel": rng.integers(0, 2, (20, 3)),
        "one class": np.full(20, 7),
    }[labels]
    clf = _fitted(RegularizedMLPClassifier, y)
    lb = clf._label_binarizer
    Y = lb.transform(y).astype(float)
    P = rng.uniform(size=Y.shape).round(1)  # ties with 0.5 and between columns
    sw = rng.uniform(size=20)
    expected = accuracy_score(lb.inverse_transform(Y), lb.inverse_transform(P), sample_weight=sw)
    assert clf._score_predictions(P, Y, sw) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("outputs", ["one", "two", "constant"])
def test_validation_r2_is_scikit_learns(outputs):
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(20, 1 if outputs == "one" else 2))
    if outputs == "constant":
        Y[:, 1] = 3.0  # r2_score's force_finite: 1 if predicted exactly, else 0
    reg = _fitted(RegularizedMLPRegressor, Y if Y.shape[1] > 1 else Y[:, 0])
    P = Y + rng.normal(scale=0.5, size=Y.shape)
    sw = rng.uniform(size=20)
    for pred in (P, np.where(Y == 3.0, 3.0, P)):
        expected = r2_score(Y, pred, sample_weight=sw)
        assert reg._score_predictions(pred, Y, sw) == pytest.approx(expected, rel=1e-12)
