"""What each early-stopping rule costs, from fits that never stop.

For every data set and seed of ``quality.py``'s protocol (same splits and
preprocessing), this script fits ``reg`` (no early stopping, ``max_iter=200``) and one
network with ``early_stopping=True`` that never stops (``n_iter_no_change=inf``),
recording the weights of every epoch through the trainer's per-epoch validation; each
epoch's weights are then scored on the test split. A stopping rule is a function of
the validation curves alone, so the epoch where it would stop and the epoch whose
weights it would restore follow from the recorded curves, and its test score is that
of the restored epoch: every rule and patience is measured on the same fits. The
rules ``score, patience 10`` and ``loss, at least 200 steps`` reproduce the
``reg_es`` and ``reg_es_loss`` models of ``quality.py`` exactly (same weights).

Run from the repository root (the data packages as for ``quality.py``)::

    python asv_bench/early_stopping_rules.py --seeds 3 --max-train 4000

It prints, for each rule, the mean and worst (over the data sets) difference to
``reg`` of the mean test accuracy, log-loss and R², and the median epochs run. The
per-epoch hook is the private ``Trainer._validate``: this is a measurement script,
not an API.
"""

import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, r2_score

from sklearn_reg import RegularizedMLPClassifier, RegularizedMLPRegressor, _train
from sklearn_reg._config import MIN_PATIENCE_STEPS

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality as Q  # noqa: E402

#: the sets of the small tier where early stopping cost most, and the regressions
DEFAULT_SETS = (
    "breast_cancer,digits,penguins,german,crx,splice,spambase,phoneme,satimage,magic,"
    "letter,credit_data,attrition,oj,diabetes,ames,concrete,saratoga_houses,wage,"
    "bikeshare,carseats,auto"
)


def stop_and_best(curve, metric, tol, patience):
    """(epochs run, restored epoch) of the rule on a validation curve.

    'loss': epoch e is the best if L_e < min(L_<e), an improvement if L_e < min(L_<e) −
    tol; 'score': best if S_e > max(S_<e), an improvement if S_e ≥ max(S_<e) + tol.
    Training stops after the epoch at which ``patience + 1`` epochs in a row brought
    no improvement.
    """
    sign = 1.0 if metric == "loss" else -1.0
    best, best_epoch, stalled = np.inf, 0, 0
    for e, value in enumerate(sign * np.asarray(curve)):
        improved = value < best - tol if metric == "loss" else value <= best - tol
        if value < best:
            best, best_epoch = value, e
        stalled = 0 if improved else stalled + 1
        if stalled > patience:
            return e + 1, best_epoch
    return len(curve), best_epoch


def _loss_patience(steps):
    return lambda fit: max(10, math.ceil(steps / fit["steps_per_epoch"]))


RULES = {
    "score, patience 10 (reg_es)": ("score", lambda fit: 10),
    "loss, patience 10": ("loss", lambda fit: 10),
    "loss, patience 16": ("loss", lambda fit: 16),
    "loss, patience 20": ("loss", lambda fit: 20),
    "loss, patience 30": ("loss", lambda fit: 30),
    "loss, at least 100 steps": ("loss", _loss_patience(100)),
    f"loss, at least {MIN_PATIENCE_STEPS} steps (reg_es_loss)": (
        "loss",
        _loss_patience(MIN_PATIENCE_STEPS),
    ),
    "loss, at least 400 steps": ("loss", _loss_patience(400)),
    "loss, never stop (best of 200 epochs)": ("loss", lambda fit: np.inf),
}


def record_fits(sets, seeds, max_train, log=print):
    """The test scores of ``reg`` and of every epoch of a never-stopping fit."""
    epochs = []
    validate = _train.Trainer._validate

    def recording(self, validation, nothing_to_restore):
        out = validate(self, validation, nothing_to_restore)
        epochs.append(self.state.params.copy())
        return out

    _train.Trainer._validate = recording
    fits = []
    try:
        for name in sets:
            task = Q.DATASETS[name].task
            X, y = Q.load_dataset(name)
            for seed in seeds:
                fits.append(_one(name, task, X, y, seed, max_train, epochs))
                log(f"{name} seed={seed}: {len(epochs)} epochs")
    finally:
        _train.Trainer._validate = validate
    return fits


def _one(name, task, X, y, seed, max_train, epochs):
    Q._limit_threads()
    split = Q.make_split(X, y, task, seed, max_train)
    Estimator = RegularizedMLPClassifier if task == Q.CLASSIFICATION else RegularizedMLPRegressor

    def scores(model):
        if task == Q.CLASSIFICATION:
            proba = model.predict_proba(split.X_test)
            return (
                accuracy_score(split.y_test, proba.argmax(axis=1)),
                log_loss(split.y_test, proba, labels=np.arange(proba.shape[1])),
            )
        return (r2_score(split.y_test, model.predict(split.X_test)),)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = Estimator(random_state=seed).fit(split.X_train, split.y_train)
        epochs.clear()
        es = Estimator(
            random_state=seed, early_stopping=True, n_iter_no_change=np.inf, tol=0.0
        ).fit(split.X_train, split.y_train)
    per_epoch = []
    for params in epochs:
        model = es._fitted_copy()
        model.coefs_, model.intercepts_ = _train.views(params, model._units())
        per_epoch.append(scores(model))
    n_train = len(split.y_train) - _train.validation_size(0.1, len(split.y_train))
    return {
        "dataset": name,
        "task": task,
        "seed": seed,
        "reg": scores(reg),
        "validation_loss": es.validation_loss_curve_,
        "validation_score": es.validation_scores_,
        "test": per_epoch,
        "steps_per_epoch": math.ceil(n_train / min(200, n_train)),
    }


def rule_table(fits, tol=1e-4):
    """One row per rule: mean and worst difference to ``reg`` over the data sets."""
    rows = []
    for rule, (metric, patience) in RULES.items():
        for fit in fits:
            curve = fit["validation_loss" if metric == "loss" else "validation_score"]
            n_epochs, best = stop_and_best(curve, metric, tol, patience(fit))
            row = {"rule": rule, "dataset": fit["dataset"], "epochs": n_epochs}
            names = ("accuracy", "log_loss") if fit["task"] == Q.CLASSIFICATION else ("r2",)
            for k, name in enumerate(names):
                row[name] = fit["test"][best][k] - fit["reg"][k]
            rows.append(row)
    per_set = pd.DataFrame(rows).groupby(["rule", "dataset"], sort=False).mean()
    table = per_set.groupby("rule", sort=False).agg(
        accuracy_mean=("accuracy", "mean"),
        accuracy_worst=("accuracy", "min"),
        log_loss_mean=("log_loss", "mean"),
        log_loss_worst=("log_loss", "max"),
        r2_mean=("r2", "mean"),
        r2_worst=("r2", "min"),
        median_epochs=("epochs", "median"),
    )
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=DEFAULT_SETS, help="comma-separated data sets")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    parser.add_argument("--max-train", type=int, default=4000, help="training rows cap")
    args = parser.parse_args(argv)
    sets = Q.available_sets(Q._keys(args.sets, Q.DATASETS, "data sets"))
    fits = record_fits(sets, range(args.seeds), args.max_train or None)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(rule_table(fits).round(4))
    return 0


if __name__ == "__main__":
    sys.exit(main())
