"""Bootstrap edge frequencies: are they calibrated, and what does the batched (lock-step) path save?

Run from the repository root::

    python benchmarks/bench_bootstrap.py [--resamples 100] [--seeds 5] [--sizes 10 20] [--n 500]
                                         [--timing-sizes 10 20 30] [--docs docs/benchmarks.md]

Part 1, calibration. For every setting (linear-Gaussian and random-MLP SCMs of
:func:`scm.simulate.simulate`, expected degree 2), graph size and seed, the script draws one
data set, runs :func:`discovery.bootstrap` with PC (Fisher-z, alpha 0.05) and NOTEARS
(defaults) and pools, over data sets, every pair adjacent in at least one resample (its
adjacency frequency; true when the pair is adjacent in the true DAG) and every directed edge
found at least once (its frequency; correct when the true DAG has that direction). It
prints, per frequency bin, how many pairs (edges) fell in the bin and the share of them that
is true, with a 95% Wilson interval for the bin ``frequency >= 0.9``.

Part 2, time. PC's bootstrap of ``--timing-resamples`` resamples on linear-Gaussian data of
each ``--timing-sizes``, in-process one after the other (``executor="sequential"``), in
lock-step (``executor="batched"``) and on a local process pool of 2 workers (``n_jobs=2``,
spawn start method: each worker imports JAX and compiles its kernels). Best of
``--repeats``; the graphs of the three paths are checked to be identical, and the kernel
calls the lock-step path made are counted against those the separate fits make.

``OPENBLAS_NUM_THREADS=1`` is set before numpy is imported. With ``--docs`` the section
"## Bootstrap" of that Markdown file is replaced by the tables.
"""

from __future__ import annotations

from _common import add_repo_to_path, command_line, machine_description, pin_blas_threads, replace_markdown_section

pin_blas_threads("1")  # before numpy is imported
add_repo_to_path()

import argparse  # noqa: E402
import datetime  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

BINS = [(0.9, 1.0), (0.7, 0.9), (0.5, 0.7), (0.3, 0.5), (0.1, 0.3), (0.0, 0.1)]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``k / n``."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def in_bin(f: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (f >= lo) & ((f < hi) if hi < 1.0 else (f <= hi))


def calibration_rows(res, dag) -> tuple[list, list]:
    """(pairs, directed edges) of one bootstrap: (frequency, true?) each."""
    und = dag.to_undirected()
    pairs = [(f, und.has_edge(s, t)) for s, t, f in res.adjacencies[["source", "target", "frequency"]].itertuples(index=False)]
    directed = res.edges[res.edges["kind"] == "directed"]
    edges = [(f, dag.has_edge(s, t)) for s, t, f in directed[["source", "target", "frequency"]].itertuples(index=False)]
    return pairs, edges


def calibration(args) -> pd.DataFrame:
    import scm
    from discovery import NOTEARS, PC, bootstrap

    methods = {"PC (Fisher-z)": lambda: PC(), "NOTEARS": lambda: NOTEARS()}
    records = []
    for setting in args.settings:
        for d in args.sizes:
            for seed in range(args.seeds):
                ds = scm.simulate.simulate(n_nodes=d, n_samples=args.n, scm_kind=setting, random_state=seed)
                for name, make in methods.items():
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # a few resamples may fail or warn; counted in failures
                        res = bootstrap(make(), ds, n_resamples=args.resamples, random_state=seed)
                    pairs, edges = calibration_rows(res, ds.graph)
                    records += [(name, setting, d, seed, "pair", f, ok) for f, ok in pairs]
                    records += [(name, setting, d, seed, "directed", f, ok) for f, ok in edges]
                    print(f"{name:14s} {setting:6s} d={d:2d} seed={seed}: {res.n_successes}/{res.n_resamples} fits, "
                          f"{len(pairs)} pairs, stability {res.stability():.3f}, {time.perf_counter() - t0:.1f} s", flush=True)
    return pd.DataFrame(records, columns=["method", "setting", "d", "seed", "what", "frequency", "true"])


def calibration_table(table: pd.DataFrame, what: str) -> str:
    head = "| method | data | " + " | ".join(f"[{lo:.1f}, {hi:.1f}{']' if hi == 1.0 else ')'}" for lo, hi in BINS) + " | >= 0.9: 95% CI |"
    lines = [head, "|" + "---|" * (len(BINS) + 3)]
    for (method, setting), sub in table[table["what"] == what].groupby(["method", "setting"], sort=False):
        f, ok = sub["frequency"].to_numpy(), sub["true"].to_numpy(dtype=bool)
        cells = []
        for lo, hi in BINS:
            m = in_bin(f, lo, hi)
            cells.append(f"{ok[m].mean():.2f} ({ok[m].sum()}/{m.sum()})" if m.any() else "- (0/0)")
        top = in_bin(f, 0.9, 1.0)
        lo95, hi95 = wilson(int(ok[top].sum()), int(top.sum()))
        lines.append(f"| {method} | {setting} | " + " | ".join(cells) + f" | {lo95:.2f} - {hi95:.2f} |")
    return "\n".join(lines)


def timing(args) -> tuple[list, dict]:
    import scm
    from discovery import PC, bootstrap
    from discovery.citest import LockStep
    from discovery.evaluation._bootstrap import _draw, _plan

    rows, calls = [], {}
    for d in args.timing_sizes:
        ds = scm.simulate.simulate(n_nodes=d, n_samples=args.timing_n, random_state=100 + d)
        bootstrap(PC(), ds, n_resamples=4, random_state=0, executor="batched")  # compile both kernels first
        bootstrap(PC(), ds, n_resamples=4, random_state=0, executor="sequential")
        times, graphs = {}, {}
        for label, kw in (("sequential", {"executor": "sequential"}), ("batched", {"executor": "batched"}),
                          ("process pool (2)", {"n_jobs": 2})):
            best = math.inf
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = bootstrap(PC(), ds, n_resamples=args.timing_resamples, random_state=1, **kw)
                best = min(best, time.perf_counter() - t0)
            times[label], graphs[label] = best, res.graphs
        same = graphs["batched"] == graphs["sequential"] == graphs["process pool (2)"]
        plan = _plan(PC(), ds, "auto", None, None)
        resampled, _ = _draw(plan, args.timing_resamples, 1)
        lock = LockStep()
        lock.map(lambda r: PC().fit(ds.X.iloc[r].reset_index(drop=True)), resampled)
        calls[d] = (lock.n_solo_calls, lock.n_kernel_calls)
        rows.append((d, times["sequential"], times["batched"], times["process pool (2)"], same))
        print(f"timing d={d}: sequential {times['sequential']:.2f} s, batched {times['batched']:.2f} s, "
              f"pool {times['process pool (2)']:.2f} s, same graphs {same}, kernel calls {calls[d]}", flush=True)
    return rows, calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--settings", nargs="+", default=["linear", "mlp"])
    parser.add_argument("--timing-sizes", type=int, nargs="+", default=[10, 20, 30])
    parser.add_argument("--timing-n", type=int, default=1000)
    parser.add_argument("--timing-resamples", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-calibration", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--docs", default=None, help="replace the section '## Bootstrap' of this Markdown file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    import jax

    start = machine_description(["jax"])
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    table = None if args.skip_calibration else calibration(args)
    cal_seconds = time.perf_counter() - t0
    rows, calls = ([], {}) if args.skip_timing else timing(args)
    end_load = machine_description()["load"]

    parts = ["## Bootstrap", "",
             "`discovery.bootstrap`: are its edge frequencies calibrated on simulated data, and what does the lock-step "
             "(batched) path of PC save? (`benchmarks/bench_bootstrap.py`).", "",
             f"- **Machine:** `nproc` = {start['nproc']}, {start['cpu']}; Python {start['python']}, numpy {start['numpy']}, "
             f"jax {jax.__version__}. Run on {started}; load average {start['load']} at the start, {end_load} at the end "
             f"(other sessions were running).",
             "- **Threads:** `OPENBLAS_NUM_THREADS=1` (and OMP, MKL) before numpy is imported.", "",
             "```bash", command_line(__file__), "```", ""]
    if table is not None:
        n_sets = len(args.settings) * len(args.sizes) * args.seeds
        parts += [f"### Calibration ({n_sets} data sets, {args.resamples} resamples each, {cal_seconds / 60:.0f} min)", "",
                  f"Simulated data (`scm.simulate.simulate`, n = {args.n}, expected degree 2, Gaussian noise of scale "
                  f"0.5-1, weights +-[0.5, 2]; `linear` and `mlp` mechanisms), d = {', '.join(map(str, args.sizes))}, "
                  f"seeds 0-{args.seeds - 1}; PC with Fisher-z (alpha 0.05), NOTEARS with its defaults; rows resampled "
                  f"with replacement. Each cell: the share of the pairs (edges) in that frequency bin that are true "
                  f"(true / all of them), pooled over the data sets.", "",
                  "**Adjacencies** (a pair found adjacent in at least one resample; true if adjacent in the true DAG):", "",
                  calibration_table(table, "pair"), "",
                  "**Directed edges** (`a -> b` found at least once; correct if the true DAG has `a -> b`):", "",
                  calibration_table(table, "directed"), ""]
    if rows:
        parts += [f"### Time: PC's {args.timing_resamples} resamples (linear-Gaussian, n = {args.timing_n}, best of "
                  f"{args.repeats})", "",
                  "| d | sequential (s) | batched, lock-step (s) | process pool, 2 workers (s) | batched speed-up | "
                  "same graphs | kernel calls: separate -> pooled |", "|---|---|---|---|---|---|---|"]
        for d, seq, bat, pool, same in rows:
            solo, pooled = calls[d]
            parts.append(f"| {d} | {seq:.2f} | {bat:.2f} | {pool:.2f} | {seq / bat:.2f}x | {'yes' if same else 'NO'} | "
                         f"{solo} -> {pooled} |")
        parts.append("")
    section = "\n".join(parts)
    print(section)
    if args.docs:
        replace_markdown_section(args.docs, "## Bootstrap", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
