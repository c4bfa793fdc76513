"""setuptools hook of the build: the shipped kernels (see ``build_tools/backend.py``)."""

import os
import sys

from setuptools import setup

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "build_tools"))
from backend import BuildPy, KernelDistribution  # noqa: E402

setup(distclass=KernelDistribution, cmdclass={"build_py": BuildPy})
