"""The build backend of sklearn_reg: setuptools, plus the build of the shipped kernels.

A wheel (``pip install .``, ``pip wheel .``, ``python -m build``) ships the numba
kernels compiled for a generic CPU in ``sklearn_reg/_prebuilt`` (and, on x86-64, for
x86-64-v3 CPUs in ``_prebuilt/x86-64-v3``), so that no user's first
``fit`` compiles (see ``sklearn_reg/_jit.py``). Compiling them means importing the
package, so a wheel build needs the package's own dependencies (numba, numpy, SciPy,
scikit-learn): this backend adds them to the build requirements, only when the kernels
are built. An editable install (``pip install -e .``) and ``SKLEARN_REG_PREBUILD=0`` build
none and need nothing more than setuptools.

The hook itself is :class:`BuildPy`, the ``build_py`` command of ``setup.py``.
"""

import os
import platform
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


#: the CPU tiers a wheel ships: (folder below ``_prebuilt``, numba's CPU settings)
TIERS = [(".", {"NUMBA_CPU_NAME": "generic"})]
if platform.machine().lower() in ("x86_64", "amd64"):
    TIERS.append(("x86-64-v3", {"NUMBA_CPU_NAME": "x86-64-v3", "NUMBA_CPU_FEATURES": ""}))


class BuildPy(build_py):
    """``build_py``, then ``python -m sklearn_reg.compile --into`` on the built copy.

    One compile per CPU tier of :data:`TIERS`, side by side, each in a fresh process with
    the tier's ``NUMBA_CPU_NAME``, an empty ``NUMBA_CACHE_DIR`` and the build folder
    first on ``PYTHONPATH``, so the cache files are keyed on exactly the sources that go
    into the wheel. The generic tier must build; a tier that this machine cannot run
    (the compile runs its code) is left out with a message. Skipped for editable
    installs (the sources change under them; kernels compile on first use as in any
    source checkout) and when ``SKLEARN_REG_PREBUILD=0``.
    """

    def run(self):
        super().run()
        if self.editable_mode or self.dry_run or not prebuild_enabled():
            return
        target = os.path.abspath(os.path.join(self.build_lib, "sklearn_reg", "_prebuilt"))
        shutil.rmtree(target, ignore_errors=True)
        print(
            "sklearn_reg: compiling the numba kernels for "
            f"{', '.join(env['NUMBA_CPU_NAME'] for _, env in TIERS)} CPUs (1-3 min; "
            f"{SWITCH}=0 skips it)",
            file=sys.stderr,
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix="sklearn_reg-prebuild-") as scratch:
            runs = [self._compile(target, folder, cpu, scratch) for folder, cpu in TIERS]
            results = [(folder, *run.communicate(), run.returncode) for folder, run in runs]
        for folder, stdout, stderr, status in results:
            if status == 0:
                print(stdout.strip(), file=sys.stderr, flush=True)
            elif folder != ".":
                shutil.rmtree(os.path.join(target, folder), ignore_errors=True)
                print(f"sklearn_reg: no {folder} kernels: {stderr.strip()}", file=sys.stderr)
            else:
                shutil.rmtree(target, ignore_errors=True)
                raise RuntimeError(
                    "sklearn_reg: compiling the shipped kernels failed; build without them "
                    f"(they then compile on first use) with {SWITCH}=0.\n{stdout}{stderr}"
                )

    @staticmethod
    def _compile(target, folder, cpu, scratch):
        """Start the compile of one tier into ``target/folder``: (folder, process)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        path = [os.path.dirname(os.path.dirname(target)), env.get("PYTHONPATH", "")]
        cwd = os.path.join(scratch, folder.strip(".") or "generic")
        os.makedirs(cwd)
        env.update(
            cpu,
            NUMBA_CACHE_DIR=os.path.join(cwd, "cache"),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONPATH=os.pathsep.join(filter(None, path)),
        )
        destination = os.path.normpath(os.path.join(target, folder))
        command = [sys.executable, "-m", "sklearn_reg.compile", "--into", destination]
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        return folder, process
