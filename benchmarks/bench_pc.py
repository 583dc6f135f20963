"""PC with Fisher-z: scmkit against causal-learn on random linear-Gaussian SCMs, from 50 to thousands of variables.

Run from the repository root::

    python benchmarks/bench_pc.py                 # everything below (causal-learn at d = 300 alone takes ~6 min)
    python benchmarks/bench_pc.py --quick         # first fits at d = 50, d = 100 against causal-learn, d = 1000 alone

Every fit runs in a fresh subprocess of this script (``--worker``) with ``OPENBLAS_NUM_THREADS=1``
(set before numpy is imported; numpy's BLAS on 2 threads is slower for the small matrices of
PC), so the times include everything a first fit pays: scmkit's JIT compilation (if a batch
needs the JAX kernel at all) and causal-learn's warm-up; the imports of the libraries are timed
separately. The data come from a random Erdos-Renyi DAG with expected degree 2 and edge weights
uniform on +-[0.5, 2] in a random causal order (:func:`linear_sem`), the same in every process
(and, up to d = 1000, the same as the data of the earlier versions of this script).

Parts (``--parts``):

``first``
    The first fit at d = 50, n = 10,000, alpha 0.05 in a fresh process, one subprocess per
    library: fit time and the whole process (imports included).
``scaling``
    d = ``--sizes`` (default 100, 300, 1000, 3000), n = 5,000, alpha 0.01: scmkit at every
    size, causal-learn up to ``--causallearn-max`` (default 300; at 1000 it does not finish in
    10 minutes). Checks that both find the same skeleton and, with causal-learn's conflict rule
    (``conflict="keep_existing"``), the same CPDAG; prints the ratios and the fitted exponent of
    time against d, and with ``--plot`` draws them on a log-log plot.
``big``
    d = ``--big`` (default 5000): time and peak memory (``ru_maxrss``) of one fit.
``reference``
    With ``--reference-repo PATH`` (a checkout of the code before a change): the CPDAG,
    skeleton, separating sets and number of tests of both on ``--seeds`` at d = 1000 (and
    their times).
``dask`` (not in the default parts)
    A level's batch of Fisher-z tests in this process against the same batch split over a
    local Dask cluster (``FisherZ(executor=...)``), and a PC fit both ways (docs/scaling.md).
``profile``
    cProfile of a fit at d = ``--profile-d`` (default 1000): the top entries and the share of
    the time spent in the CI test (Fisher-z: the correlation matrix and the partial
    correlations); with ``--reference-repo`` for the old code too.

The script exits with status 1 if scmkit and causal-learn find different skeletons.
"""

from __future__ import annotations

import os

from _common import REPO, add_repo_to_path, pin_blas_threads

pin_blas_threads("1")  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def linear_sem(d: int, n: int, seed: int, expected_degree: float = 2.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Data of a random linear-Gaussian SCM and its weighted adjacency (``W[i, j]``: ``i -> j``)."""
    rng = np.random.default_rng(seed)
    p = min(1.0, expected_degree / (d - 1))
    order = rng.permutation(d)
    upper = np.triu(rng.random((d, d)) < p, 1)
    weights = upper * rng.uniform(0.5, 2.0, (d, d)) * rng.choice([-1.0, 1.0], (d, d))
    w = np.zeros((d, d))
    w[np.ix_(order, order)] = weights  # random causal order
    x = np.zeros((n, d))
    for j in order:
        if d <= 1000:
            x[:, j] = x @ w[:, j] + rng.normal(size=n)
        else:  # the same up to rounding, without the d x n products of zero weights
            parents = np.flatnonzero(w[:, j])
            x[:, j] = x[:, parents] @ w[parents, j] + rng.normal(size=n)
    return pd.DataFrame(x, columns=[f"X{i}" for i in range(d)]), w


def skeleton_edges_causallearn(graph: np.ndarray, names) -> set:
    d = len(names)
    return {frozenset((names[i], names[j])) for i in range(d) for j in range(i + 1, d) if graph[i, j] != 0}


# ------------------------------------------------------------------------------------------ worker
def _graph_json(graph) -> dict:
    return {
        "directed": sorted(map(list, graph.directed_edges)),
        "undirected": sorted(sorted(e) for e in graph.undirected_edges),
        "bidirected": sorted(sorted(e) for e in graph.bidirected_edges),
    }


def worker(args) -> dict:
    """One fit in this (fresh) process; the result as a JSON-able dict."""
    import resource

    data, _ = linear_sem(args.d, args.n, args.seed)
    names = list(data.columns)
    out = {"lib": args.lib, "d": args.d, "n": args.n, "seed": args.seed, "alpha": args.alpha}
    t0 = time.perf_counter()
    if args.lib == "causal-learn":
        from causallearn.search.ConstraintBased.PC import pc as cl_pc
        from causallearn.utils.cit import fisherz

        out["import_s"] = time.perf_counter() - t0
        t1, c1 = time.perf_counter(), time.process_time()
        cg = cl_pc(data.to_numpy(), args.alpha, fisherz, show_progress=False)
        out["fit_s"], out["cpu_s"] = time.perf_counter() - t1, time.process_time() - c1
        out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        add_repo_to_path()
        from scm import PDAG

        out["skeleton"] = sorted(sorted(e) for e in skeleton_edges_causallearn(cg.G.graph, names))
        out["cpdag"] = _graph_json(PDAG.from_causallearn(cg.G.graph, names))
        return out
    repo = args.repo or str(REPO)
    sys.path.insert(0, repo)
    import discovery
    from discovery import PC

    if not discovery.__file__.startswith(os.path.realpath(repo)) and not discovery.__file__.startswith(repo):
        raise RuntimeError(f"imported {discovery.__file__}, not the code of {repo}")
    out["import_s"] = time.perf_counter() - t0
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t1, c1 = time.perf_counter(), time.process_time()
    model = PC(alpha=args.alpha).fit(data)
    out["fit_s"], out["cpu_s"] = time.perf_counter() - t1, time.process_time() - c1
    if profiler is not None:
        profiler.disable()
        out["profile"] = _profile_summary(profiler, out["fit_s"])
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["jax_imported"] = "jax" in sys.modules
    out["n_tests"] = int(model.n_tests_)
    out["skeleton"] = sorted(sorted(e) for e in model.skeleton_.edges)
    out["cpdag"] = _graph_json(model.graph_)
    out["n_conflicts"] = len(model.conflicts_)
    if args.details:
        out["separating_sets"] = sorted([sorted(k), sorted(map(list, v))] for k, v in model.separating_sets_.items())
        out["pvalues_sum"] = float(model.pvalues_["pvalue"].sum())
    if args.keep_existing:
        out["cpdag_keep_existing"] = _graph_json(PC(alpha=args.alpha, conflict="keep_existing").fit(data).graph_)
    return out


def _profile_summary(profiler, total: float) -> dict:
    """The top entries of a profile by own time, and the share of the fit inside the CI test."""
    import io
    import pstats

    stats = pstats.Stats(profiler)
    buf = io.StringIO()
    stats.stream = buf
    stats.sort_stats("tottime").print_stats(15)
    cumulative = {f"{os.path.basename(k[0])}:{k[2]}": v[3] for k, v in stats.stats.items()}
    kernel = cumulative.get("_citest.py:_test_group", 0.0)
    build = cumulative.get("_citest.py:__init__", 0.0)
    return {"top": buf.getvalue(), "test_group_s": kernel, "fisherz_init_s": build, "total_s": total}


def run_worker(lib: str, d: int, n: int, seed: int, alpha: float, *, repo=None, extra=(), timeout=None) -> dict | None:
    """Run :func:`worker` in a fresh subprocess; ``None`` if it timed out."""
    cmd = [sys.executable, __file__, "--worker", lib, "--d", str(d), "--n", str(n), "--seed", str(seed), "--alpha", str(alpha)]
    if repo:
        cmd += ["--repo", repo]
    cmd += list(extra)
    env = dict(os.environ, PYTHONPATH=repo or str(REPO))
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return None
    if res.returncode != 0:
        raise RuntimeError(f"worker {lib} d={d} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - t0
    return out


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# ------------------------------------------------------------------------------------------- parts
def part_first(args) -> None:
    print(f"\n## First fit in a fresh process: d = 50, n = 10,000, alpha 0.05 (load {load()})")
    rows = []
    for rep in range(args.repeats):
        ours = run_worker("scmkit", 50, 10_000, args.seed, 0.05, extra=["--keep-existing"])
        theirs = run_worker("causal-learn", 50, 10_000, args.seed, 0.05)
        rows.append((ours, theirs))
        same = ours["skeleton"] == theirs["skeleton"]
        print(
            f"run {rep}: causal-learn fit {theirs['fit_s']:.3f} s (CPU {theirs['cpu_s']:.3f} s, process {theirs['process_s']:.2f} s), "
            f"scmkit fit {ours['fit_s']:.3f} s (CPU {ours['cpu_s']:.3f} s, process {ours['process_s']:.2f} s, JAX imported: "
            f"{ours['jax_imported']}): {theirs['fit_s'] / ours['fit_s']:.1f}x fit, {theirs['cpu_s'] / ours['cpu_s']:.1f}x CPU, "
            f"{theirs['process_s'] / ours['process_s']:.1f}x process; "
            f"same skeleton {same}, same CPDAG with keep_existing {ours['cpdag_keep_existing'] == theirs['cpdag']}"
        )
    print(f"load after: {load()}")


def fitted_exponent(ds, ts) -> float:
    return float(np.polyfit(np.log(ds), np.log(ts), 1)[0])


def part_scaling(args) -> int:
    print(f"\n## Time against d: n = {args.n}, alpha {args.alpha}, fresh process per fit (load {load()})")
    print("wall-clock and CPU seconds of the fit (CPU: the process's own time, what an idle machine's wall clock would show)")
    print(
        f"{'d':>6s} {'scmkit wall':>11s} {'cpu':>6s} {'causal-learn wall':>17s} {'cpu':>7s} {'ratio wall':>10s} {'cpu':>6s} "
        f"{'tests':>9s} {'edges':>6s} {'same skeleton':>13s} {'same CPDAG':>10s} {'conflicts':>9s}  load"
    )
    given = {}
    for path in args.causallearn_json or ():
        with open(path) as fh:
            res = json.loads(fh.read().strip().splitlines()[-1])
        if res.get("n") == args.n and res.get("seed") == args.seed and res.get("alpha") in (None, args.alpha):
            given[res["d"]] = res
    status = 0
    table = []
    for d in args.sizes:
        compare = d <= args.causallearn_max or d in given
        ours = run_worker("scmkit", d, args.n, args.seed, args.alpha, extra=["--keep-existing"] if compare else [])
        theirs = given.get(d)
        if theirs is None and d <= args.causallearn_max:
            theirs = run_worker("causal-learn", d, args.n, args.seed, args.alpha, timeout=args.causallearn_timeout or None)
        nan = float("nan")
        t_cl, c_cl = (theirs["fit_s"], theirs.get("cpu_s", nan)) if theirs else (nan, nan)
        same_skel = same_cpdag = "-"
        if theirs:
            same_skel = ours["skeleton"] == theirs["skeleton"]
            same_cpdag = ours["cpdag_keep_existing"] == theirs["cpdag"]
            status |= int(not same_skel)
        table.append((d, ours["fit_s"], ours["cpu_s"], t_cl, c_cl))
        print(
            f"{d:6d} {ours['fit_s']:11.2f} {ours['cpu_s']:6.2f} {t_cl:17.2f} {c_cl:7.2f} {t_cl / ours['fit_s']:9.0f}x "
            f"{c_cl / ours['cpu_s']:5.0f}x {ours['n_tests']:9d} {len(ours['skeleton']):6d} {same_skel!s:>13s} "
            f"{same_cpdag!s:>10s} {ours['n_conflicts']:9d}  {load()}"
        )
    ds = np.array([r[0] for r in table], dtype=float)
    for label, col_ours, col_cl in (("wall", 1, 3), ("CPU", 2, 4)):
        ts = np.array([r[col_ours] for r in table])
        cl = np.array([r[col_cl] for r in table])
        k_ours = fitted_exponent(ds, ts) if len(ds) > 1 else float("nan")
        ok = np.isfinite(cl)
        k_cl = fitted_exponent(ds[ok], cl[ok]) if ok.sum() > 1 else float("nan")
        on = ds[ok].astype(int).tolist()
        print(f"fitted exponent of {label} time (time ~ d^k): scmkit k = {k_ours:.2f}; causal-learn k = {k_cl:.2f} (on d = {on})")
        if args.plot and label == "CPU":
            plot(args.plot, ds, ts, cl, k_ours, k_cl, args)
    return status


def plot(path, ds, ts, cl, k_ours, k_cl, args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.loglog(ds, ts, "o-", label=f"scmkit PC (first fit, incl. compilation): k = {k_ours:.2f}")
    ok = np.isfinite(cl)
    if ok.any():
        ax.loglog(ds[ok], cl[ok], "s-", label=f"causal-learn pc: k = {k_cl:.2f}")
        if ok.sum() > 1 and (~ok).any():
            coef = np.polyfit(np.log(ds[ok]), np.log(cl[ok]), 1)
            ax.loglog(
                ds[~ok],
                np.exp(np.polyval(coef, np.log(ds[~ok]))),
                "s:",
                mfc="none",
                color="C1",
                label="causal-learn, extrapolated (not run: > 10 min)",
            )
    ax.set_xlabel("variables d")
    ax.set_ylabel("CPU seconds of the fit")
    ax.set_title(f"PC, Fisher-z: n = {args.n}, expected degree 2, alpha {args.alpha}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


def part_big(args) -> None:
    print(f"\n## d = {args.big}, n = {args.n}, alpha {args.alpha} (load {load()})")
    ours = run_worker("scmkit", args.big, args.n, args.seed, args.alpha)
    print(
        f"scmkit fit {ours['fit_s']:.1f} s (CPU {ours['cpu_s']:.1f} s), peak memory (ru_maxrss) {ours['maxrss_mb']:.0f} MB, "
        f"{ours['n_tests']} tests, "
        f"{len(ours['skeleton'])} skeleton edges, JAX imported: {ours['jax_imported']}; load {load()}"
    )


def part_reference(args) -> int:
    if not args.reference_repo:
        print("\n## reference: skipped (no --reference-repo)")
        return 0
    print(f"\n## Against the code in {args.reference_repo}: d = {args.reference_d}, n = {args.n}, alpha {args.alpha} (load {load()})")
    status = 0
    for seed in args.seeds:
        new = run_worker("scmkit", args.reference_d, args.n, seed, args.alpha, extra=["--details"])
        old = run_worker("scmkit", args.reference_d, args.n, seed, args.alpha, repo=args.reference_repo, extra=["--details"])
        same = {k: new[k] == old[k] for k in ("cpdag", "skeleton", "separating_sets", "n_tests")}
        dp = abs(new["pvalues_sum"] - old["pvalues_sum"])
        status |= int(not all(same.values()))
        print(
            f"seed {seed}: before {old['fit_s']:.2f} s (CPU {old['cpu_s']:.2f}), after {new['fit_s']:.2f} s (CPU {new['cpu_s']:.2f}) "
            f"({old['fit_s'] / new['fit_s']:.0f}x); "
            f"same {same}; |sum of p-values before - after| {dp:.1e}; load {load()}"
        )
    return status


def part_profile(args) -> None:
    repos = [("after", None)] + ([("before", args.reference_repo)] if args.reference_repo else [])
    for label, repo in repos:
        res = run_worker("scmkit", args.profile_d, args.n, args.seed, args.alpha, repo=repo, extra=["--profile"])
        prof = res["profile"]
        share = (prof["test_group_s"] + prof["fisherz_init_s"]) / prof["total_s"]
        print(
            f"\n## Profile {label} (d = {args.profile_d}, load {load()}): fit {prof['total_s']:.2f} s under cProfile; "
            f"CI test {share:.0%} of it (partial correlations and p-values {prof['test_group_s']:.2f} s, "
            f"correlation matrix and checks {prof['fisherz_init_s']:.2f} s)"
        )
        print("\n".join(line for line in prof["top"].splitlines() if line.strip())[:4000])


def part_dask(args) -> None:
    """A level's batch on this process against the same batch split over a local Dask cluster."""
    from distributed import Client, LocalCluster

    add_repo_to_path()
    from discovery import PC, FisherZ

    d = args.dask_d
    data, _ = linear_sem(d, args.n, args.seed)
    rng = np.random.default_rng(0)
    print(
        f"\n## A level of Fisher-z tests (|S| = 1) on d = {d}: this process against a LocalCluster "
        f"({args.dask_workers} worker processes, 1 thread each) (load {load()})"
    )
    with (
        LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        local = FisherZ(data)
        remote = FisherZ(data, executor=client.get_executor(), executor_chunk=args.dask_chunk)
        warm = np.tile(np.array([[0, 1, 2]]), (60_000, 1))  # not timed: scipy.special's import, the broadcast of the matrix
        local._test_group(warm[:, 0], warm[:, 1], warm[:, 2:])
        remote._on_executor(warm)
        print(f"{'queries':>10s} {'this process s':>15s} {'cluster s':>10s} {'ratio':>6s}")
        for size in args.dask_sizes:
            xs = rng.integers(0, d, size)
            ys = (xs + 1 + rng.integers(0, d - 2, size)) % d
            zs = (ys + 1 + rng.integers(0, d - 2, size)) % d
            zs = np.where(zs == xs, (zs + 1) % d, zs)
            lo, hi = np.minimum(xs, ys), np.maximum(xs, ys)
            t0 = time.perf_counter()
            a = local._test_group(lo, hi, zs[:, None])[1]
            t1 = time.perf_counter()
            b = remote._test_group(lo, hi, zs[:, None])[1]
            t2 = time.perf_counter()
            assert np.array_equal(a, b)
            print(f"{size:10d} {t1 - t0:15.3f} {t2 - t1:10.3f} {(t1 - t0) / (t2 - t1):5.2f}x  (load {load()})")
        t0 = time.perf_counter()
        one = PC(alpha=args.alpha).fit(data)
        t1 = time.perf_counter()
        spread = PC(ci_test=FisherZ(data, executor=client.get_executor(), executor_chunk=args.dask_chunk), alpha=args.alpha).fit(data)
        t2 = time.perf_counter()
        print(
            f"PC at d = {d}: this process {t1 - t0:.2f} s, levels over the cluster {t2 - t1:.2f} s "
            f"(the matrix broadcast included); same graph: {one.graph_ == spread.graph_}; load {load()}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["first", "scaling", "big", "reference", "profile"],
        choices=["first", "scaling", "big", "reference", "profile", "dask"],
    )
    parser.add_argument("--quick", action="store_true", help="first fits, d = 100 and 1000 (causal-learn at 100 only)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000, 3000])
    parser.add_argument("--causallearn-max", type=int, default=300)
    parser.add_argument("--causallearn-timeout", type=float, default=600, help="wall-clock seconds (0: none)")
    parser.add_argument("--causallearn-json", nargs="+", default=None, help="causal-learn results of --worker runs to reuse")
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process first fits at d = 50")
    parser.add_argument("--big", type=int, default=5000)
    parser.add_argument("--reference-repo", default=None)
    parser.add_argument("--reference-d", type=int, default=1000)
    parser.add_argument("--profile-d", type=int, default=1000)
    parser.add_argument("--dask-d", type=int, default=2000)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--dask-chunk", type=int, default=262_144)
    parser.add_argument("--dask-sizes", type=int, nargs="+", default=[262_144, 1_048_576, 4_194_304])
    parser.add_argument("--plot", default=None, help="write the log-log plot of the scaling part here (PNG)")
    # worker mode
    parser.add_argument("--worker", choices=["scmkit", "causal-learn"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--d", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--repo", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--details", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--keep-existing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.lib = args.worker
        print(json.dumps(worker(args)))
        return 0
    if args.quick:
        args.parts = [p for p in args.parts if p in ("first", "scaling")]
        args.sizes, args.causallearn_max, args.repeats = [100, 1000], 100, 1
    print(
        f"bench_pc: {' '.join(sys.argv)}; python {sys.version.split()[0]}, numpy {np.__version__}, "
        f"{os.cpu_count()} cores, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    status = 0
    if "first" in args.parts:
        part_first(args)
    if "scaling" in args.parts:
        status |= part_scaling(args)
    if "big" in args.parts:
        part_big(args)
    if "reference" in args.parts:
        status |= part_reference(args)
    if "profile" in args.parts:
        part_profile(args)
    if "dask" in args.parts:
        part_dask(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
