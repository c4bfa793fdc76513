"""What uninformative columns cost each model (Grinsztajn et al. 2022, section 5.3).

``quality.py``'s protocol on classification sets, run once on the real columns and
once with ``K`` × as many uninformative ones appended after preprocessing (half
standard Gaussian, half shuffled copies of the real columns: ``quality.add_noise_columns``),
for each ``K`` of ``--noise``. Run from the repository root (the data packages as for
``quality.py``)::

    python asv_bench/noise_robustness.py --seeds 3 --jobs 2

It prints, for each model and ``K``, the mean test accuracy over the data sets, the
mean and worst accuracy lost against ``K = 0`` (same splits and seeds), and that loss
as a fraction of scikit-learn's MLP's. The raw results go to one CSV per ``K`` in
``--output-dir`` (``--resume`` keeps them).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality as Q  # noqa: E402

DEFAULT_SETS = "breast_cancer,german,credit_data,spambase,phoneme,magic"
DEFAULT_MODELS = "reg_cv,reg_cv_group,reg_cv_group_adaptive,sk_mlp,hgb"


def loss_table(accuracies, baseline="sk_mlp"):
    """Rows (model, K, mean accuracy, mean loss, worst loss, loss / baseline's loss).

    Parameters
    ----------
    accuracies : dict
        ``{K: DataFrame}`` of mean test accuracy over the seeds, data sets × models;
        ``K = 0`` is the reference.
    baseline : str, default='sk_mlp'
        The model whose mean loss is the unit of the last column.
    """
    rows = []
    reference = accuracies[0]
    for model in reference.columns:
        for k, frame in sorted(accuracies.items()):
            lost = reference[model] - frame[model]
            base = (reference[baseline] - frame[baseline]).mean() if k else np.nan
            rows.append(
                (
                    model,
                    k,
                    frame[model].mean(),
                    lost.mean() if k else np.nan,
                    lost.max() if k else np.nan,
                    lost.mean() / base if k and base > 0 else np.nan,
                )
            )
    return rows


def _format(rows):
    header = ["model", "noise ×", "accuracy", "lost", "worst set", "lost / sk_mlp's"]
    cells = [
        [m, str(k), f"{a:.4f}"]
        + ["—" if np.isnan(v) else f"{v:+.4f}" if j < 2 else f"{v:.2f}" for j, v in enumerate(r)]
        for m, k, a, *r in rows
    ]
    return Q.format_table(header, cells, "rst")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=DEFAULT_SETS, help="classification sets")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="models of quality.py")
    parser.add_argument("--noise", default="1,2", help="multiples of the real columns")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--max-train", type=int, default=4000)
    parser.add_argument("--output-dir", default=str(Q.RESULTS_DIR / "noise"))
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    sets = Q.available_sets(Q._keys(args.sets, Q.DATASETS, "data sets"))
    if any(Q.DATASETS[s].task != Q.CLASSIFICATION for s in sets):
        raise ValueError("--sets: accuracy is measured on classification sets only")
    models = Q.parse_models(args.models)
    if "sk_mlp" not in models:
        raise ValueError("--models must include sk_mlp, the unit of the last column")
    levels = [0, *(int(k) for k in args.noise.split(","))]
    accuracies = {}
    for k in levels:
        results = Q.run(
            sets,
            list(range(args.seeds)),
            models,
            Path(args.output_dir) / f"noise{k}.csv",
            jobs=args.jobs,
            max_train=args.max_train,
            resume=args.resume,
            log=lambda line, k=k: print(f"noise ×{k} {line}", flush=True),
            noise=k,
        )
        accuracies[k] = results.groupby(["dataset", "model"]).accuracy.mean().unstack()[models]
    print(_format(loss_table(accuracies)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
