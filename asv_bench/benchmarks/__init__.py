"""asv benchmarks of sklearn_reg against scikit-learn's MLP (see bench_mlp.py)."""
