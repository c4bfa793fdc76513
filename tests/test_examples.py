"""Every example runs headless to completion."""

import functools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


@functools.cache
def _run(path):
    """The finished process of the example at ``path``, run headless in an empty folder."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run(
            [sys.executable, str(path)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path):
    result = _run(path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example should print what it found"


def test_digits_search_grid_stays_where_the_accuracy_holds():
    """The README's first example searches λ only where pixels are left to classify:
    no searched λ falls far below the best accuracy, the chosen one drops pixels, and
    the path goes on past the grid to the λ that keeps fewer than half of them."""
    result = _run(EXAMPLES_DIR / "select_pixels_digits.py")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = re.findall(
        r"λ = (\S+)\s+keeps\s+(\d+) of 64 pixels\s+CV accuracy (\S+) ± \S+"
        r"(\s+<- chosen)?",
        result.stdout,
    )
    accuracies = [float(accuracy) for _, _, accuracy, _ in rows]
    chosen = [int(kept) for _, kept, _, mark in rows if mark]
    assert len(rows) >= 4 and len(chosen) == 1, result.stdout
    assert min(accuracies) >= max(accuracies) - 0.03, result.stdout
    assert chosen[0] < int(rows[0][1]), result.stdout
    stop = re.search(
        r"keeps\s+(\d+) of 64 pixels\s+\(fewer than half: not searched\)", result.stdout
    )
    assert stop is not None and int(stop.group(1)) < 32, result.stdout
    test_accuracy = float(re.search(r"test accuracy (\S+)", result.stdout).group(1))
    assert test_accuracy >= 0.95, result.stdout
