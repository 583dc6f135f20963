"""Helpers shared by the benchmark scripts of this folder.

The scripts run as ``python benchmarks/bench_x.py`` from the repository root, so this
folder (the script's own) is first on ``sys.path`` and they import these helpers with
``from _common import ...``. This module imports only the standard library at import
time: a script imports it *before* numpy, then calls :func:`pin_blas_threads` while
numpy's BLAS can still be configured. numpy, threadpoolctl and the measured packages are
imported inside the functions that need them, once the script has imported them anyway.

Typical start of a script::

    import argparse
    import sys

    from _common import add_repo_to_path, pin_blas_threads

    _parser = argparse.ArgumentParser()
    _parser.add_argument("--blas-threads", default="1")
    ARGS = _parser.parse_args()
    pin_blas_threads(ARGS.blas_threads)  # before numpy (or anything that imports it)
    add_repo_to_path()

    import numpy as np  # noqa: E402
"""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "BLAS_VARS",
    "REPO",
    "add_repo_to_path",
    "blas_settings",
    "command_line",
    "load_average",
    "machine_description",
    "package_version",
    "pin_blas_threads",
    "replace_markdown_section",
    "timed",
]

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""The environment variables that size the BLAS and OpenMP thread pools."""

REPO = Path(__file__).resolve().parents[1]
"""The repository root (the parent of this folder)."""


# ----------------------------------------------------------------------------- set-up
def pin_blas_threads(value: str = "1", variables=BLAS_VARS) -> None:
    """Set the thread-count variables to ``value``; ``"default"`` leaves them alone.

    Must run before numpy (or anything that imports it) is imported: BLAS reads the
    variables once, when it is loaded.

    Parameters
    ----------
    value : str or int
        The thread count, or ``"default"`` to keep the environment as it is.
    variables : iterable of str
        The variables to set (default :data:`BLAS_VARS`, all three).
    """
    if str(value) == "default":
        return
    if "numpy" in sys.modules:
        raise RuntimeError("pin_blas_threads must run before numpy is imported")
    for var in variables:
        os.environ[var] = str(value)


def add_repo_to_path() -> Path:
    """Put the repository root first on ``sys.path`` (unless it is there) and return it."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return REPO


# --------------------------------------------------------------------------- machine
def blas_settings(markdown: bool = False) -> str:
    """``"OPENBLAS_NUM_THREADS=1, ..."`` as the environment has them now (``unset`` if absent).

    With ``markdown=True`` each setting is wrapped in backticks.
    """
    tick = "`" if markdown else ""
    return ", ".join(f"{tick}{v}={os.environ.get(v, 'unset')}{tick}" for v in BLAS_VARS)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, ``"0.52, 0.61, 0.70"``."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def package_version(name: str) -> str:
    """The version of the importable package ``name`` (its ``__version__``, else its
    distribution metadata), or ``"not installed"``."""
    try:
        module = importlib.import_module(name)
        found = getattr(module, "__version__", None)
        if found is None:
            from importlib.metadata import version

            found = version(name)
        return str(found)
    except Exception:  # missing, or broken: the description must not stop a benchmark
        return "not installed"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _nproc() -> str:
    try:
        # GNU nproc honours OMP_NUM_THREADS, which the scripts set: ask it without.
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT")}
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True, env=env).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


def _blas_pools() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    return ", ".join(f"{i['internal_api']} {i['num_threads']} thread(s)" for i in threadpool_info() if i["user_api"] == "blas")


def machine_description(extra_packages=()) -> dict:
    """What a benchmark report says about the machine and the software.

    Imports numpy (so call it once the script has, after :func:`pin_blas_threads`).

    Parameters
    ----------
    extra_packages : iterable of str
        Importable package names whose versions to add, each under its own name
        (``"sklearn"``, ``"dowhy"``, ``"jax"``, ...; see :func:`package_version`).

    Returns
    -------
    dict
        ``nproc`` (GNU ``nproc`` without the OpenMP variables, else ``os.cpu_count()``),
        ``cpu`` (the model name), ``python``, ``numpy``, ``blas`` (threadpoolctl's view of
        the loaded BLAS pools), ``load`` (:func:`load_average`) and one entry per extra
        package; all strings.
    """
    import numpy as np

    info = {
        "nproc": _nproc(),
        "cpu": _cpu_name(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas_pools(),
        "load": load_average(),
    }
    for name in extra_packages:
        info[name] = package_version(name)
    return info


# ---------------------------------------------------------------------------- timing
def timed(fn, repeat: int, before=None):
    """Run ``fn`` ``repeat`` times (calling ``before`` first each time, untimed).

    Returns the last result and the fastest wall-clock time in seconds: the machine is
    shared, and the minimum is the least disturbed run.
    """
    times, out = [], None
    for _ in range(repeat):
        if before is not None:
            before()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, min(times)


# --------------------------------------------------------------------------- reports
def command_line(script: str) -> str:
    """The command that reproduces this run: ``python benchmarks/<script name> <arguments>``."""
    return " ".join(["python", f"benchmarks/{Path(script).name}", *sys.argv[1:]])


def replace_markdown_section(path, heading: str, section: str, *, new_file: str = "# Benchmarks\n") -> None:
    """Replace the section ``heading`` of the Markdown file ``path`` by ``section``.

    The section runs from the line ``heading`` to the next ``## `` heading (or the end of
    the file); ``section`` should start with ``heading`` itself. A file without that
    section gets it appended; a missing file is created with ``new_file`` as its start.
    The file is read just before writing: other benchmarks own the other sections.
    """
    path = Path(path)
    text = path.read_text() if path.exists() else new_file
    start = text.find(heading + "\n")
    if start < 0:
        text = text.rstrip() + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(heading))
        text = text[:start] + section + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
