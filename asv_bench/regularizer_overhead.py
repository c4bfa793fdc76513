"""Overhead of each regularizer: the same fit with and without it, in one run.

    OPENBLAS_NUM_THREADS=1 python asv_bench/regularizer_overhead.py [--repeats 15]

Fits RegularizedMLPClassifier (hidden (100,), adam, batch 200, a fixed number of
epochs) on digits (50 epochs, features viewed as 8×8) and on make_classification
50000×200 (5 epochs, features viewed as 8×25), alternating the configurations, and
prints the median CPU time of each and its ratio to the unregularized fit.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_reg import RegularizedMLPClassifier

CONFIGS = {
    "none": {"penalty": None},
    "l2": {"penalty": "l2"},
    "l1": {"penalty": "l1"},
    "wd": {"penalty": "wd"},
    "group": {"penalty": "group"},
    "dropout=0.5": {"penalty": None, "dropout": 0.5},
    "dropblock=0.1": {"penalty": None, "dropblock": 0.1, "dropblock_schedule": "constant"},
    "spatial_dropout=0.1": {"penalty": None, "spatial_dropout": 0.1},
}


def datasets():
    X, y = load_digits(return_X_y=True)
    yield "digits, 50 epochs", StandardScaler().fit_transform(X), y, 50, (8, 8)
    X, y = make_classification(50000, 200, random_state=0)
    yield "50000×200, 5 epochs", X, y, 5, (8, 25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, X, y, epochs, shape in datasets():
        fits = {
            key: RegularizedMLPClassifier(
                max_iter=epochs,
                tol=0,
                n_iter_no_change=np.inf,
                random_state=0,
                feature_shape=shape,
                **params,
            )
            for key, params in CONFIGS.items()
        }
        times = {key: [] for key in fits}
        for _ in range(args.repeats):  # alternate the configurations
            for key, model in fits.items():
                start = time.process_time()
                model.fit(X, y)
                times[key].append(time.process_time() - start)
        base = np.median(times["none"][1:])
        print(f"\n{name}: median CPU s over {args.repeats - 1} runs (first run dropped)")
        for key, t in times.items():
            print(f"  {key:<22} {np.median(t[1:]):7.3f}  ×{np.median(t[1:]) / base:.2f}")


if __name__ == "__main__":
    main()
