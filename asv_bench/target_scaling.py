"""What fitting a regression target in its own units costs.

``quality.py`` standardizes every regression target with the training split's mean and
standard deviation, as :class:`~sklearn.compose.TransformedTargetRegressor` with a
:class:`~sklearn.preprocessing.StandardScaler` does. This script fits the models on
the same splits of the small tier's regression sets (features preprocessed as there)
once on that standardized target and once on the target in its own units, and prints
the mean test R² over the seeds. R² does not depend on the target's units, so the two
columns differ only by what the fit learnt.

Run from the repository root (the data packages as for ``quality.py``)::

    python asv_bench/target_scaling.py --seeds 3
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality as Q  # noqa: E402

MODELS = ("reg", "reg_cv", "sk_mlp")


def r2_by_scale(name, seed, model):
    """Test R² of ``model`` fitted on the standardized target, then in its own units."""
    X, y = Q._load_cached(name)
    split = Q.make_split(X, y, Q.REGRESSION, seed, max_train=Q.TIERS["small"][1])
    scores = []
    for scale, shift in ((1.0, 0.0), (split.y_std, split.y_mean)):
        estimator = Q.MODELS[model].make(Q.REGRESSION, seed)
        estimator.fit(split.X_train, shift + scale * split.y_train)
        predicted = estimator.predict(split.X_test)
        scores.append(r2_score(shift + scale * split.y_test, predicted))
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args(argv)
    models = args.models.split(",")
    sets = [n for n in Q.TIERS["small"][0] if Q.DATASETS[n].task == Q.REGRESSION]
    print(
        f"{'data set':12s} {'target std':>10s}  "
        + "  ".join(f"{m + ' std.':>12s} {m + ' own':>12s}" for m in models)
    )
    means = {m: [] for m in models}
    for name in sets:
        _, y = Q._load_cached(name)
        cells = []
        for model in models:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                r2 = np.mean([r2_by_scale(name, s, model) for s in range(args.seeds)], axis=0)
            means[model].append(r2)
            cells.append(f"{r2[0]:12.3f} {r2[1]:12.3f}")
        print(f"{name:12s} {np.std(y):10.3g}  " + "  ".join(cells))
    cells = [
        f"{np.mean(means[m], axis=0)[0]:12.3f} {np.mean(means[m], axis=0)[1]:12.3f}" for m in models
    ]
    print(f"{'mean':12s} {'':10s}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
