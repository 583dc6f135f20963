"""Start-up of the command line: wall-clock seconds of whole ``scmkit`` processes.

Each command runs in a fresh process (``python -m scmkit ...``), timed from the parent
from start to exit, ``--repeats`` times; the table gives the fastest and the median wall
clock (the machine is shared: the fastest run is the least disturbed one) and the fastest
CPU time of the process (user + system, from ``getrusage``), which other jobs on the machine
disturb much less: on an idle machine the wall clock of these single-threaded start-ups is
close to it. The data are the linear
Gaussian SCM of the default suite's ``linear-er10`` (10 variables, 1,000 rows, seed 0).

* ``compare --list``: the suite's algorithms and datasets;
* ``discover --method pc``: PC with Fisher-z, graph as JSON on stdout;
* ``discover --method pc --ci-test kci``, cold: a new, empty compilation-cache directory
  (``XDG_CACHE_HOME``) for each run, so every kernel compiles;
* the same, warm: a second process on the directory the cold run filled, which loads the
  compiled kernels instead (the script checks that it added no entry to the cache).

``--repo PATH`` runs another checkout's code (its ``PYTHONPATH``), e.g. the tree before a
change, for before / after figures; a tree without the cache has equal cold and warm runs.

Run: ``python benchmarks/bench_startup.py [--repeats 5] [--repo PATH]``.
"""

from __future__ import annotations

import os

from _common import REPO, blas_settings, machine_description, pin_blas_threads

pin_blas_threads("1")  # inherited by the timed processes (and set before numpy is imported here)

import argparse  # noqa: E402
import datetime  # noqa: E402
import pathlib  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def run(args, env, cwd) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``python -m scmkit ARGS`` process (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "scmkit", *args], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"scmkit {' '.join(args)} failed:\n{proc.stderr}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def entries(directory: pathlib.Path) -> int:
    path = directory / "scmkit" / "jax"
    return len(list(path.iterdir())) if path.exists() else 0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="processes per command (default 5)")
    parser.add_argument("--repo", default=str(REPO), help="the checkout whose code runs (default: this one)")
    args = parser.parse_args(argv)

    sys.path.insert(0, args.repo)
    from scm import simulate

    info = machine_description(["jax"])
    work = pathlib.Path(tempfile.mkdtemp(prefix="scmkit-startup-"))
    ds = simulate.simulate(n_nodes=10, n_samples=1000, expected_degree=2, scm_kind="linear", random_state=0)
    ds.data.to_csv(work / "data.csv", index=False)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "XLA_", "SCMKIT_"))}
    env = {**base, "PYTHONPATH": args.repo, "XDG_CACHE_HOME": str(work / "unused-cache")}

    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, code from {args.repo}")
    print(f"nproc {info['nproc']}, {info['cpu']}, Python {info['python']}, numpy {info['numpy']}, "
          f"jax {info['jax']}; {blas_settings()}; load average at the start {info['load']}")
    rows = {"compare --list": [], "discover --method pc (Fisher-z)": [], "discover --method pc --ci-test kci, cold cache": [],
            "discover --method pc --ci-test kci, warm cache": []}
    added_warm = []
    for i in range(args.repeats):
        rows["compare --list"].append(run(["compare", "--list"], env, work))
        rows["discover --method pc (Fisher-z)"].append(run(["discover", "data.csv", "--method", "pc"], env, work))
        cache = work / f"cache-{i}"
        kci_env = {**env, "XDG_CACHE_HOME": str(cache)}
        kci = ["discover", "data.csv", "--method", "pc", "--ci-test", "kci", "-o", f"kci-{i}.json"]
        rows["discover --method pc --ci-test kci, cold cache"].append(run(kci, kci_env, work))
        filled = entries(cache)
        rows["discover --method pc --ci-test kci, warm cache"].append(run(kci, kci_env, work))
        added_warm.append(entries(cache) - filled)
    print(f"load average at the end {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"\n{'command (a fresh process each)':<52} {'fastest':>8} {'median':>8} {'CPU':>6}   all runs, wall (s)")
    for name, runs in rows.items():
        walls = [w for w, _ in runs]
        print(f"{name:<52} {min(walls):8.2f} {statistics.median(walls):8.2f} {min(c for _, c in runs):6.2f}   "
              + " ".join(f"{t:.2f}" for t in walls))
    print(f"\ncache entries written by a cold KCI run: {entries(work / 'cache-0')}; "
          f"added by the warm runs: {added_warm}")


if __name__ == "__main__":
    main()
