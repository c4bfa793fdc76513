#!/usr/bin/env bash
# Line coverage of sklearn_reg, the numba kernels included; fails below 90 %.
#
# numba compiles the kernels, so coverage cannot see their lines in a normal run:
#   1. the whole suite, JIT on, as CI runs it (pytest-cov over pytest-xdist, 2 workers);
#   2. the kernel tests again with NUMBA_DISABLE_JIT=1, the kernels then running as
#      plain Python (the SplitMix64 RNG wraps around uint64 there too, bit-identical to
#      the compiled one, but numpy warns "overflow encountered in scalar multiply/add":
#      those RuntimeWarnings are expected and filtered). tests/test_masks.py is left
#      out of this step: its statistical tests draw millions of uniforms, which take
#      minutes in pure Python; test_properties.py covers the mask kernels on small inputs.
#   3. combine the two and print the report with the missing lines.
#
# Assumes the package and its test extra are installed in the active environment,
# including: coverage, pytest-cov, pytest-xdist, hypothesis, skops.
# Usage: .ci/coverage.sh [extra pytest arguments for step 1]
set -euo pipefail
cd "$(dirname "$0")/.."

data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
start=$SECONDS

echo "coverage: 1/2 the test suite (JIT on)"
COVERAGE_FILE="$data/.coverage.jit" python -m pytest -n 2 -q -p no:cacheprovider \
    --cov=sklearn_reg --cov-report= "$@"
jit=$((SECONDS - start))

echo "coverage: 2/2 the kernel tests with NUMBA_DISABLE_JIT=1"
NUMBA_DISABLE_JIT=1 COVERAGE_FILE="$data/.coverage.nojit" python -m coverage run \
    --source=sklearn_reg -m pytest -q -p no:cacheprovider \
    -W "ignore:overflow encountered in scalar:RuntimeWarning" \
    -k "not signature" \
    tests/test_kernels.py tests/test_penalties.py tests/test_properties.py tests/test_exp.py
nojit=$((SECONDS - start - jit))

python -m coverage combine --quiet --data-file="$data/.coverage" \
    "$data/.coverage.jit" "$data/.coverage.nojit"
echo "coverage: combined line coverage of sklearn_reg (step 1 ${jit} s, step 2 ${nojit} s)"
python -m coverage report --data-file="$data/.coverage" --show-missing --fail-under=90
