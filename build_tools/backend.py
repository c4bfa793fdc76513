"""The build backend of sklearn_reg: setuptools, plus the build of the shipped kernels.

A wheel (``pip install .``, ``pip wheel .``, ``python -m build``) ships the numba
kernels compiled for a generic CPU in ``sklearn_reg/_prebuilt``, so that no user's first
``fit`` compiles (see ``sklearn_reg/_jit.py``). Compiling them means importing the
package, so a wheel build needs the package's own dependencies (numba, numpy, SciPy,
scikit-learn): this backend adds them to the build requirements, only when the kernels
are built. An editable install (``pip install -e .``) and ``SKLEARN_REG_PREBUILD=0`` build
none and need nothing more than setuptools.

The hook itself is :class:`BuildPy`, the ``build_py`` command of ``setup.py``.
"""

import os
import shutil
import subprocess
import sys
import tempfile

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 (the PEP 517 hooks not redefined here)
from setuptools.command.build_py import build_py
from setuptools.config.pyprojecttoml import load_file
from setuptools.dist import Distribution

#: the environment variable that turns the compilation of the shipped kernels off
SWITCH = "SKLEARN_REG_PREBUILD"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prebuild_enabled():
    """Whether a wheel build compiles the kernels: unless ``SKLEARN_REG_PREBUILD`` is 0."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def _runtime_dependencies():
    return list(load_file(os.path.join(ROOT, "pyproject.toml"))["project"]["dependencies"])


def get_requires_for_build_wheel(config_settings=None):
    """setuptools' requirements, and the package's own ones when the kernels are built."""
    requires = _setuptools.get_requires_for_build_wheel(config_settings)
    return requires + (_runtime_dependencies() if prebuild_enabled() else [])


class KernelDistribution(Distribution):
    """A distribution whose wheel is tied to one Python and platform when it ships kernels.

    The compiled kernels are machine code for one platform, and numba's cache files are
    per Python version, so the wheel gets a tag such as ``cp311-cp311-linux_x86_64``
    instead of ``py3-none-any``.
    """

    def has_ext_modules(self):
        return prebuild_enabled()


class BuildPy(build_py):
    """``build_py``, then ``python -m sklearn_reg.compile --into`` on the built copy.

    The compile runs in a fresh process with ``NUMBA_CPU_NAME=generic``, an empty
    ``NUMBA_CACHE_DIR`` and the build folder first on ``PYTHONPATH``, so the cache files
    are keyed on exactly the sources that go into the wheel. Skipped for editable
    installs (the sources change under them; kernels compile on first use as in any
    source checkout) and when ``SKLEARN_REG_PREBUILD=0``.
    """

    def run(self):
        super().run()
        if self.editable_mode or self.dry_run or not prebuild_enabled():
            return
        target = os.path.abspath(os.path.join(self.build_lib, "sklearn_reg", "_prebuilt"))
        shutil.rmtree(target, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="sklearn_reg-prebuild-") as scratch:
            env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
            path = [os.path.dirname(os.path.dirname(target)), env.get("PYTHONPATH", "")]
            env.update(
                NUMBA_CPU_NAME="generic",
                NUMBA_CACHE_DIR=os.path.join(scratch, "cache"),
                PYTHONDONTWRITEBYTECODE="1",
                PYTHONPATH=os.pathsep.join(filter(None, path)),
            )
            print(
                "sklearn_reg: compiling the numba kernels for a generic CPU (1-3 min; "
                f"{SWITCH}=0 skips it)",
                file=sys.stderr,
                flush=True,
            )
            out = subprocess.run(
                [sys.executable, "-m", "sklearn_reg.compile", "--into", target],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        if out.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise RuntimeError(
                "sklearn_reg: compiling the shipped kernels failed; build without them "
                f"(they then compile on first use) with {SWITCH}=0.\n{out.stdout}{out.stderr}"
            )
        print(out.stdout.strip(), file=sys.stderr, flush=True)
