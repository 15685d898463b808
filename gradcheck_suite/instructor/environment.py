"""The environment a course was checked in, pinned: a wheel of this gradcheck-suite, a CPU torch range.

gradcheck-suite is not on PyPI, so a course ships the wheel of the exact version it was checked
with (built here from the installed source) beside a requirements.txt naming it and a CPU build of
torch: from the oldest torch the package supports up to the minor version the course was checked
with (`torch>=2.2,<2.14` when checked with 2.13).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..errors import BundleError

__all__ = ["CPU_TORCH_INDEX", "REQUIREMENTS_FILE", "build_wheel", "check_wheel", "requirements_text",
           "torch_requirement", "wheel_name"]

CPU_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's index of CPU-only builds
REQUIREMENTS_FILE = "requirements.txt"
TORCH_MINIMUM = "2.2"  # pyproject.toml's `torch>=2.2`
_SOURCE_PARTS = ("pyproject.toml", "README.md", "gradcheck_suite")


def wheel_name(version: str = __version__) -> str:
    """The file name of this version's wheel (pure Python, any platform)."""
    return f"gradcheck_suite-{version}-py3-none-any.whl"


def torch_requirement(version: str | None = None) -> str:
    """`torch>=MIN,<MAJOR.(MINOR+1)` for the torch running here (or `version`)."""
    found = version or metadata.version("torch")
    match = re.match(r"(\d+)\.(\d+)", found)
    if match is None:
        raise BundleError(f"torch {found}: cannot read its major.minor version")
    return f"torch>={TORCH_MINIMUM},<{match[1]}.{int(match[2]) + 1}"


def requirements_text(torch: str | None = None, wheel: str | None = None) -> str:
    """requirements.txt for a course: CPU torch in the checked range, and this gradcheck-suite's wheel,
    which `pip install -r requirements.txt` finds in the folder it is run from."""
    wheel = wheel or wheel_name()
    return (f"# The environment this course was checked with. From the folder holding this file and {wheel}\n"
            "# (gradcheck-suite is not on PyPI: the wheel comes with the course), run\n"
            "#     pip install -r requirements.txt\n"
            "# torch comes from PyTorch's CPU-only index (a plain `torch` is a CUDA build of several GB).\n"
            f"--extra-index-url {CPU_TORCH_INDEX}\n"
            f"{torch or torch_requirement()}\n"
            f"./{wheel}\n")


def project_root() -> Path:
    """The source of the installed gradcheck-suite (a checkout, or an editable install's)."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or 'name = "gradcheck-suite"' not in pyproject.read_text(encoding="utf-8"):
        raise BundleError(f"{root}: no pyproject.toml of gradcheck-suite here, so no wheel can be built from "
                                "the installed package; install gradcheck-suite from its source (pip install -e) "
                                "or pass --wheel PATH")
    return root


def check_wheel(given: Path) -> None:
    """BundleError unless `given` is a wheel of gradcheck-suite."""
    if not given.is_file() or not given.name.startswith("gradcheck_suite-") or given.suffix != ".whl":
        raise BundleError(f"--wheel {given}: expected a gradcheck_suite-<version>-py3-none-any.whl file")


def build_wheel(dest: Path, given: Path | None = None) -> Path:
    """This gradcheck-suite's wheel in `dest`: a copy of `given`, else built from the installed source
    (a clean copy of it, offline: `pip wheel --no-deps --no-build-isolation`)."""
    dest.mkdir(parents=True, exist_ok=True)
    if given is not None:
        check_wheel(given)
        return Path(shutil.copy2(given, dest / given.name))
    root = project_root()
    with tempfile.TemporaryDirectory(prefix="gradcheck-wheel-") as tmp:
        source = Path(tmp) / "source"
        for part in _SOURCE_PARTS:
            if (root / part).is_dir():
                shutil.copytree(root / part, source / part,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
            elif (root / part).is_file():
                source.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / part, source / part)
        built = Path(tmp) / "wheel"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q", "-w",
                   str(built), str(source)]
        # Offline with this environment's setuptools where it is recent enough; else pip fetches it
        # (a Python 3.12 virtual environment has no setuptools at all).
        done = subprocess.run(command[:5] + ["--no-build-isolation"] + command[5:], capture_output=True, text=True)
        if done.returncode != 0:
            done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(built.glob("gradcheck_suite-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise BundleError(f"building the wheel of {root} failed (pip wheel exit {done.returncode}):\n"
                                    + "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:]))
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))
