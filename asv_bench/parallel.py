"""``n_jobs`` scaling of the CV estimator and of StabilitySelection, warm kernels.

Fits ``RegularizedMLPClassifierCV`` on digits and ``StabilitySelection`` on Friedman #1
(2000 × 50) with ``n_jobs=1`` and ``n_jobs=2`` alternately, ``--repeats`` times each,
and prints the medians and their ratio (above 1: two jobs are faster)::

    python asv_bench/parallel.py --repeats 3

Compare two checkouts side by side with ``PYTHONPATH=<checkout>``.
"""

import argparse
import statistics
import time
import warnings

from sklearn.datasets import load_digits, make_friedman1

from sklearn_reg import RegularizedMLPClassifierCV, StabilitySelection


def _problems():
    X, y = load_digits(return_X_y=True)
    Xf, yf = make_friedman1(n_samples=2000, n_features=50, random_state=0)
    return {
        "RegularizedMLPClassifierCV, digits": (
            lambda n_jobs: RegularizedMLPClassifierCV(n_jobs=n_jobs, random_state=0),
            X / 16,
            y,
        ),
        "StabilitySelection, Friedman #1 2000 × 50": (
            lambda n_jobs: StabilitySelection(n_jobs=n_jobs, random_state=0),
            Xf,
            yf,
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print("| estimator | n_jobs=1 (s) | n_jobs=2 (s) | ratio |")
    print("|---|---|---|---|")
    for name, (make, X, y) in _problems().items():
        make(1).fit(X[:200], y[:200])  # load (or compile) the kernels first
        times = {1: [], 2: []}
        for _ in range(args.repeats):
            for n_jobs in (1, 2):
                start = time.perf_counter()
                make(n_jobs).fit(X, y)
                times[n_jobs].append(time.perf_counter() - start)
        one, two = (statistics.median(times[n]) for n in (1, 2))
        print(f"| {name} | {one:.2f} | {two:.2f} | {one / two:.2f} |")


if __name__ == "__main__":
    main()
