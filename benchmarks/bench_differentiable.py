"""Differentiable DAG learning: VI-DP-DAG and NOTEARS-JAX, accuracy and speed.

Parts (``--parts``, default all):

``steps``     milliseconds per VI-DP-DAG training step at d = 20, 50, 100 (CPU, batch 128,
              hidden (16, 16), one DAG sample per step, median of ``--repeat`` timings of a
              compiled 100-step chunk).
``notears``   NOTEARS-JAX against gCastle's ``Notears`` (numpy/scipy L-BFGS-B) on the same
              data and the same lambda1 = 0.1, w_threshold = 0.3, at d = 20 and 50: linear
              SEMs on ``--notears-graphs`` Erdős–Rényi DAGs per size (expected degree 2),
              Gaussian noise, n = 1000. Wall time of a first fit (JAX: including
              compilation) and of a compiled fit (median of 3), also with SciPy's L-BFGS
              memory of 10 pairs, SHD of each, ratios and their medians.
``sachs``     Sachs et al. (2005), 853 observational cells, 17-edge consensus graph: SHD,
              SID and directed average precision of VI-DP-DAG (``--seeds`` seeds), NOTEARS
              (linear) and PC (Fisher-z) on raw and standardised data.
``syntren``   the ten SynTReN datasets (500 x 20): average precision and SHD.
``simulated`` nonlinear (random MLP mechanisms) ER graphs, d = 10, 20, 50, n = 1000.
``notears_mlp`` NOTEARS-MLP against gCastle's ``NotearsNonlinear`` (PyTorch, SciPy's
              L-BFGS-B; needs ``pip install torch``) on the simulated nonlinear graphs of
              ``simulated`` at ``--mlp-sizes`` (default 10, 20), ``--mlp-graphs`` graphs each,
              with the papers' settings (lambda1 = lambda2 = 0.01, one hidden layer of 10
              units, w_threshold 0.3), on the same centred data: wall time of a first fit
              and a compiled fit, SHD, L-BFGS iterations. gCastle runs with 1 and 2 torch
              threads on the first graph of each size and keeps the faster for the rest.
``compile``   where a first VI-DP-DAG fit's time goes: a fit of 500 steps on Sachs, first in
              the process, with JAX's compile log captured (``jax_log_compiles``): seconds of
              XLA compilation per jitted program, and the wall time of the fit. Run it in a
              process of its own (``--parts compile``): programs compiled by an earlier
              part would be reused.

gCastle's package imports torch for type checks only; ``Notears`` itself is numpy/scipy.
Where torch is not installed, its ``linear.py`` is loaded with a stub ``torch`` module (one
empty ``Tensor`` class). BLAS is pinned to one thread (``OPENBLAS_NUM_THREADS=1`` and
friends) before numpy is imported, for both libraries.

Run from the repository root::

    python benchmarks/bench_differentiable.py --docs docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument(
    "--parts", default="steps,notears,notears_mlp,sachs,syntren,simulated", help="comma-separated parts to run (also: compile)"
)
_parser.add_argument("--seeds", type=int, default=5, help="VI-DP-DAG seeds on Sachs (default 5)")
_parser.add_argument("--sim-seeds", type=int, default=3, help="seeds of the simulated graphs at d = 10, 20 (d = 50: 1)")
_parser.add_argument("--notears-sizes", default="20,50", help="sizes of the NOTEARS comparison (default 20,50)")
_parser.add_argument("--notears-graphs", type=int, default=5, help="random graphs per NOTEARS size (default 5)")
_parser.add_argument("--mlp-sizes", default="10,20", help="sizes of the NOTEARS-MLP comparison (default 10,20)")
_parser.add_argument("--mlp-graphs", type=int, default=3, help="simulated graphs per NOTEARS-MLP size (default 3)")
_parser.add_argument("--step-sizes", default="20,50,100", help="sizes of the step timing (default 20,50,100)")
_parser.add_argument("--repeat", type=int, default=5, help="timings per step measurement (median)")
_parser.add_argument("--blas-threads", default="1", help="OPENBLAS/OMP/MKL_NUM_THREADS, or 'default'")
_parser.add_argument("--docs", metavar="PATH", help="append/replace the section of this Markdown file")
ARGS = _parser.parse_args()

if ARGS.blas_threads != "default":
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_v] = str(ARGS.blas_threads)

import importlib.util  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import jax  # noqa: E402

from discovery import NOTEARS, VIDPDAG, metrics  # noqa: E402
from scm import GraphError  # noqa: E402

SECTION = "## Differentiable DAG learning"
RESULTS: dict = {}


# ----------------------------------------------------------------------------- helpers
def load_gcastle_notears():
    """gCastle's ``Notears`` class without importing torch (see the module docstring)."""
    if "torch" not in sys.modules and importlib.util.find_spec("torch") is None:
        stub = types.ModuleType("torch")
        stub.Tensor = type("Tensor", (), {})
        sys.modules["torch"] = stub
    import castle  # noqa: F401  (castle/__init__ configures logging at INFO: silence it)

    logging.getLogger().setLevel(logging.WARNING)
    path = Path(castle.__file__).parent / "algorithms" / "gradient" / "notears" / "linear.py"
    spec = importlib.util.spec_from_file_location("castle_notears_linear", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Notears, castle.__version__


def linear_sem(d: int, n: int, seed: int):
    rng = np.random.default_rng(seed)
    b = np.triu((rng.random((d, d)) < 2.0 / (d - 1)).astype(float), 1)
    b *= rng.uniform(0.5, 2.0, (d, d)) * rng.choice([-1.0, 1.0], (d, d))
    p = rng.permutation(d)
    b = b[np.ix_(p, p)]
    x = rng.normal(size=(n, d)) @ np.linalg.inv(np.eye(d) - b)
    names = [f"X{i}" for i in range(d)]
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((names[i], names[j]) for i, j in zip(*np.nonzero(b)))
    return pd.DataFrame(x, columns=names), g


def adjacency_graph(adj: np.ndarray, names):
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((names[i], names[j]) for i, j in zip(*np.nonzero(adj)))
    return g


def scores(truth, graph, probs) -> dict:
    import networkx as nx

    out = {"shd": metrics.shd(truth, graph), "edges": graph.number_of_edges()}
    out["sid"] = float(metrics.sid(truth, graph)) if isinstance(graph, nx.DiGraph) else np.nan
    out["sid_lo"] = out["sid_hi"] = out["sid"]
    out["ap"] = metrics.average_precision(truth, probs) if probs is not None else np.nan
    return out


def pc_available():
    try:
        from discovery import PC

        return PC
    except Exception:  # pragma: no cover - PC is written by another engineer
        return None


def run_methods(data: pd.DataFrame, truth, seeds, *, vi_variants=None, with_pc=True, with_standardize=True) -> list[dict]:
    rows = []
    for label, kwargs in (vi_variants or {"VI-DP-DAG": {}}).items():
        for s in seeds:
            t = time.perf_counter()
            m = VIDPDAG(random_state=s, **kwargs).fit(data)
            rows.append({"method": label, "seed": s, "time": time.perf_counter() - t, **scores(truth, m.graph_, m.edge_probs_)})
    t = time.perf_counter()
    nt = NOTEARS().fit(data)
    rows.append({"method": "NOTEARS (linear)", "seed": 0, "time": time.perf_counter() - t, **scores(truth, nt.graph_, nt.weights_.abs())})
    if with_standardize:  # the same fit on z-scored columns (redundant on standardised input)
        t = time.perf_counter()
        nt = NOTEARS(standardize=True).fit(data)
        rows.append({
            "method": "NOTEARS (linear, standardize=True)", "seed": 0, "time": time.perf_counter() - t,
            **scores(truth, nt.graph_, nt.weights_.abs()),
        })
    t = time.perf_counter()
    nt = NOTEARS(model="mlp", random_state=0).fit(data)
    rows.append({"method": "NOTEARS (MLP)", "seed": 0, "time": time.perf_counter() - t, **scores(truth, nt.graph_, nt.weights_)})
    PC = pc_available()
    if with_pc and PC is not None:
        t = time.perf_counter()
        pc = PC(ci_test="fisherz").fit(data)
        r = {"method": "PC (Fisher-z)", "seed": 0, "time": time.perf_counter() - t}
        try:  # the range over the DAGs of PC's CPDAG
            lo, hi = metrics.sid_bounds(truth, pc.graph_)
        except GraphError:  # conflicting v-structures: PC's PDAG represents no DAG, so SID is undefined
            lo = hi = np.nan
        r.update(shd=metrics.shd(metrics.as_pdag(truth), pc.graph_), edges=len(pc.graph_.edges()), sid=np.nan,
                 sid_lo=float(lo), sid_hi=float(hi), ap=np.nan)
        # PC returns a CPDAG: SHD against the true DAG (undirected edges count as errors);
        # its directed AP scores directed edges 1 and undirected ones 0.5 both ways.
        r["ap"] = metrics.average_precision(truth, pc.graph_)
        rows.append(r)
    return rows


def summarise(rows: list[dict], keys=("shd", "sid", "sid_lo", "sid_hi", "ap", "edges", "time")) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    agg = df.groupby("method", sort=False)[list(keys)].agg(["mean", "std", "count"])
    return agg


def pm(mean, sd, n, fmt="{:.1f}") -> str:
    if n > 1 and np.isfinite(sd):
        return f"{fmt.format(mean)} ± {fmt.format(sd)}"
    return fmt.format(mean) if np.isfinite(mean) else "–"


# ----------------------------------------------------------------------------- parts
def part_steps():
    from discovery.differentiable._vidpdag import init_state, make_train_chunk

    out = []
    for d in [int(s) for s in ARGS.step_sizes.split(",")]:
        n = 1000
        init_opt, run = make_train_chunk(chunk_size=100, batch_size=128, lr=1e-3, lr_graph=3e-2, n_samples=1)
        params = init_state(jax.random.key(0), d, (16, 16))
        opt = init_opt(params)
        x = jax.random.normal(jax.random.key(1), (n, d))
        hyper = {k: jax.numpy.float32(v) for k, v in dict(tau=0.3, prior_p=1e-4, kl_weight=1.0, perm_weight=1.0, n_train=n).items()}
        t = time.perf_counter()
        jax.block_until_ready(run(params, opt, x, jax.random.key(2), 0, hyper))
        compile_s = time.perf_counter() - t
        times = []
        for r in range(ARGS.repeat):
            t = time.perf_counter()
            jax.block_until_ready(run(params, opt, x, jax.random.key(3), r + 1, hyper))
            times.append(time.perf_counter() - t)
        ms = statistics.median(times) / 100 * 1000
        out.append({"d": d, "ms_per_step": ms, "first_call_s": compile_s})
        print(f"steps d={d}: {ms:.2f} ms/step (first call incl. compile {compile_s:.1f} s)", flush=True)
    RESULTS["steps"] = out


def _notears_fit_times(data, repeat: int):
    """First fit (compiles) and the median of ``repeat`` compiled fits of NOTEARS-JAX."""
    t = time.perf_counter()
    first = NOTEARS(lambda1=0.1, w_threshold=0.3).fit(data)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        model = NOTEARS(lambda1=0.1, w_threshold=0.3).fit(data)
        warm.append(time.perf_counter() - t)
    return first, model, cold, float(np.median(warm))


def part_notears():
    import jax

    from discovery.differentiable import _notears

    Notears, version = load_gcastle_notears()
    RESULTS["gcastle_version"] = version
    out = []
    for d in [int(s) for s in ARGS.notears_sizes.split(",")]:
        for seed in range(d, d + ARGS.notears_graphs):
            data, truth = linear_sem(d, 1000, seed=seed)
            # scmkit's solver with SciPy's L-BFGS memory (10 pairs) instead of its default, for the record
            default_memory = _notears.LINEAR_LBFGS_MEMORY
            _notears.LINEAR_LBFGS_MEMORY = 10
            jax.clear_caches()
            _, mem10, _, warm10 = _notears_fit_times(data, repeat=3)
            _notears.LINEAR_LBFGS_MEMORY = default_memory
            jax.clear_caches()
            ours, ours2, cold, warm = _notears_fit_times(data, repeat=3)
            np.random.seed(0)
            t = time.perf_counter()
            theirs = Notears(lambda1=0.1, w_threshold=0.3)
            theirs.learn(data.to_numpy())
            tg = time.perf_counter() - t
            g_castle = adjacency_graph(np.asarray(theirs.causal_matrix), list(data.columns))
            # The peer at its best: `learn` wraps the data in castle's `Tensor` (an ndarray
            # subclass carrying pandas indexes), whose every arithmetic result rebuilds those
            # indexes; with pandas 3 that is most of its time. Its solver itself,
            # `notears_linear`, on a plain C-contiguous ndarray, runs the same iterations
            # (best of two runs).
            core = []
            for _ in range(2):
                t = time.perf_counter()
                w_core = theirs.notears_linear(
                    np.ascontiguousarray(data.to_numpy()), lambda1=0.1, loss_type="l2", max_iter=100, h_tol=1e-8,
                    rho_max=1e16,
                )
                core.append(time.perf_counter() - t)
            g_core = adjacency_graph((np.abs(w_core) > 0.3).astype(int), list(data.columns))
            row = {
                "d": d, "seed": seed, "edges": truth.number_of_edges(), "jax_first_s": cold, "jax_second_s": warm,
                "jax_mem10_s": warm10, "gcastle_s": tg, "gcastle_core_s": min(core),
                "shd_jax": metrics.shd(truth, ours.graph_), "shd_jax_mem10": metrics.shd(truth, mem10.graph_),
                "shd_gcastle": metrics.shd(truth, g_castle), "shd_gcastle_core": metrics.shd(truth, g_core),
                "inner": ours.n_inner_iter_, "outer": ours.n_iter_, "inner_mem10": mem10.n_inner_iter_,
                "h": ours.h_, "removed": len(ours.removed_edges_),
                "same_graph": set(ours2.graph_.edges) == set(ours.graph_.edges),
            }  # fmt: skip
            out.append(row)
            print(f"notears d={d} seed={seed}: {row}", flush=True)
    RESULTS["notears"] = out


def part_notears_mlp():
    """NOTEARS-MLP against gCastle's NotearsNonlinear on the simulated nonlinear graphs."""
    import contextlib

    import scipy.optimize

    try:
        import torch
    except ImportError:
        print("notears_mlp: torch is not installed (pip install torch); part skipped", flush=True)
        return
    import castle
    from castle.algorithms.gradient.notears.torch import NotearsNonlinear

    from scm.simulate import simulate

    logging.getLogger().setLevel(logging.WARNING)  # castle's import configures logging at INFO
    RESULTS["gcastle_version"] = castle.__version__
    RESULTS["torch_version"] = torch.__version__

    @contextlib.contextmanager
    def counting_lbfgsb():
        """Count gCastle's L-BFGS-B iterations (its optimiser calls scipy.optimize.minimize)."""
        counts, original = {"nit": 0}, scipy.optimize.minimize

        def minimize(*args, **kwargs):
            res = original(*args, **kwargs)
            counts["nit"] += int(res.nit)
            return res

        scipy.optimize.minimize = minimize
        try:
            yield counts
        finally:
            scipy.optimize.minimize = original

    def gcastle_fit(x, threads):
        torch.set_num_threads(threads)
        with counting_lbfgsb() as counts:
            t = time.perf_counter()
            model = NotearsNonlinear(lambda1=0.01, lambda2=0.01, hidden_layers=(10, 1), w_threshold=0.3)
            model.learn(x)
            elapsed = time.perf_counter() - t
        return model, elapsed, counts["nit"]

    out = []
    for d in [int(v) for v in ARGS.mlp_sizes.split(",")]:
        threads = None
        jax.clear_caches()
        for s in range(ARGS.mlp_graphs):
            ds = simulate(n_nodes=d, n_samples=1000, expected_degree=2.0, scm_kind="mlp", random_state=100 * d + s)
            x = ds.X.to_numpy(dtype=np.float64)
            x = x - x.mean(axis=0)
            data = pd.DataFrame(x, columns=ds.X.columns)
            t = time.perf_counter()
            ours = NOTEARS(model="mlp", lambda1=0.01, lambda2=0.01, hidden=(10,), random_state=0).fit(data)
            first = time.perf_counter() - t  # compiles on the first graph of each size only
            t = time.perf_counter()
            NOTEARS(model="mlp", lambda1=0.01, lambda2=0.01, hidden=(10,), random_state=0).fit(data)
            compiled = time.perf_counter() - t
            if threads is None:  # the peer's best torch thread count, chosen on the first graph
                runs = {k: gcastle_fit(x, k) for k in (1, 2)}
                threads = min(runs, key=lambda k: runs[k][1])
                theirs, tg, nit = runs[threads]
                other = runs[3 - threads][1]
            else:
                theirs, tg, nit = gcastle_fit(x, threads)
                other = float("nan")
            g_theirs = adjacency_graph(np.asarray(theirs.causal_matrix), list(data.columns))
            row = {
                "d": d, "graph_seed": 100 * d + s, "edges": ds.graph.number_of_edges(),
                "jax_first_s": first if s == 0 else float("nan"), "jax_s": compiled, "gcastle_s": tg,
                "gcastle_other_threads_s": other, "torch_threads": threads,
                "shd_jax": metrics.shd(ds.graph, ours.graph_), "shd_gcastle": metrics.shd(ds.graph, g_theirs),
                "ap_jax": metrics.average_precision(ds.graph, ours.weights_),
                "ap_gcastle": metrics.average_precision(
                    ds.graph, pd.DataFrame(np.abs(np.asarray(theirs.weight_causal_matrix)), index=data.columns, columns=data.columns)
                ),
                "inner": ours.n_inner_iter_, "inner_gcastle": nit, "h": ours.h_, "h_gcastle": float(theirs.h),
            }  # fmt: skip
            out.append(row)
            print(f"notears_mlp d={d} graph={100 * d + s}: {row}", flush=True)
    RESULTS["notears_mlp"] = out


def part_compile():
    import re

    class Compiles(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.seconds: dict[str, float] = {}

        def emit(self, record):
            m = re.search(r"Finished XLA compilation of jit\((\w+)\) in ([\d.e-]+) sec", record.getMessage())
            if m:
                self.seconds[m[1]] = self.seconds.get(m[1], 0.0) + float(m[2])

    x, _ = sachs_data()
    handler = Compiles()
    log = logging.getLogger("jax._src.dispatch")
    log.addHandler(handler)
    jax.config.update("jax_log_compiles", True)
    try:
        t = time.perf_counter()
        VIDPDAG(max_iter=500, random_state=0).fit(x)
        wall = time.perf_counter() - t
    finally:
        jax.config.update("jax_log_compiles", False)
        log.removeHandler(handler)
    top = sorted(handler.seconds.items(), key=lambda kv: -kv[1])
    RESULTS["compile"] = {"wall": wall, "programs": top, "total": sum(handler.seconds.values())}
    print(f"compile: first fit {wall:.1f} s, XLA compilation {RESULTS['compile']['total']:.1f} s: {top[:6]}", flush=True)


def sachs_data():
    try:
        from scm.datasets import load_sachs

        ds = load_sachs("observational")
        return ds.X, ds.graph
    except Exception:  # pragma: no cover - fallback to the raw GraN-DAG files
        base = Path("/work/shared/data/sachs/grandag_853")
        x = np.load(base / "data1.npy", allow_pickle=True)
        dag = np.load(base / "DAG1.npy", allow_pickle=True)
        names = [str(c) for c in np.load(base / "sachs-header.npy", allow_pickle=True)]
        return pd.DataFrame(x, columns=names), adjacency_graph(dag, names)


def part_sachs():
    x, truth = sachs_data()
    out = {}
    for name, data in (("raw", x), ("standardised", (x - x.mean()) / x.std())):
        variants = {"VI-DP-DAG": {}, "VI-DP-DAG (transform='rank')": {"transform": "rank"}}
        rows = run_methods(data, truth, range(ARGS.seeds), vi_variants=variants, with_standardize=name == "raw")
        out[name] = rows
        print(f"sachs {name}:\n{summarise(rows)}", flush=True)
    RESULTS["sachs"] = out


def part_syntren():
    from scm.datasets import load_syntren

    rows = []
    for i in range(1, 11):
        ds = load_syntren(i)
        for r in run_methods(ds.X, ds.graph, [0]):
            rows.append({"dataset": i, **r})
    RESULTS["syntren"] = rows
    print(f"syntren:\n{summarise(rows)}", flush=True)


def part_simulated():
    from scm.simulate import simulate

    rows = []
    for d in (10, 20, 50):
        seeds = range(ARGS.sim_seeds) if d < 50 else range(1)
        for s in seeds:
            ds = simulate(n_nodes=d, n_samples=1000, expected_degree=2.0, scm_kind="mlp", random_state=100 * d + s)
            for r in run_methods(ds.X, ds.graph, [s], with_pc=True):
                rows.append({"d": d, "graph_seed": s, **r})
        print(f"simulated d={d}:\n{summarise([r for r in rows if r['d'] == d])}", flush=True)
    RESULTS["simulated"] = rows


# ----------------------------------------------------------------------------- docs
def machine() -> str:
    from _common import machine_description  # benchmarks/ is on sys.path when this script runs

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()} ({machine_description()['cpu']}), {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, "
        f"jax {jax.__version__}, BLAS threads {ARGS.blas_threads}, load average at start {LOAD_AT_START:.1f} "
        f"(at the end {load:.1f})"
    )


def method_table(rows: list[dict], with_sid=True) -> list[str]:
    agg = summarise(rows)
    head = "| method | SHD | " + ("SID | " if with_sid else "") + "directed AP | edges | seconds per fit |"
    lines = [head, "|---|---|" + ("---|" if with_sid else "") + "---|---|---|"]
    for method in agg.index:
        a = agg.loc[method]
        n = int(a[("shd", "count")])
        cells = [method, pm(a[("shd", "mean")], a[("shd", "std")], n)]
        if with_sid:
            if np.isfinite(a[("sid", "mean")]) or not np.isfinite(a[("sid_lo", "mean")]):
                cells.append(pm(a[("sid", "mean")], a[("sid", "std")], n))
            else:  # a CPDAG: the smallest and largest SID of its DAGs (means over datasets)
                k = int(a[("sid_lo", "count")])
                defined = "" if k == n else f" ({k} of {n})"
                cells.append(f"{a[('sid_lo', 'mean')]:.1f}–{a[('sid_hi', 'mean')]:.1f}{defined}")
        cells += [
            pm(a[("ap", "mean")], a[("ap", "std")], n, "{:.3f}"),
            pm(a[("edges", "mean")], a[("edges", "std")], n),
            f"{a[('time', 'mean')]:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


SYNTREN_NOTE = (
    "Every method runs on the raw SynTReN expression values, whose column scales differ by three orders "
    "of magnitude (standard deviations 2.8 to 9,800). Linear NOTEARS does not reach h(W) <= 1e-8 there "
    "(it stops at rho = 1e16 and logs a warning: with the exact L1 penalty h is 3e-6 to 8e-6 on "
    "2026-12-03 and 2.9e-6 to 7.2e-6 on 2026-12-06 on the ten datasets; with the smoothed one before, "
    "1e-5 to 0.2); gCastle's Notears, run by hand on datasets 1-3 with the same settings (2026-11-22), "
    "gives SHD 72, 103 and 109 in 21 to 49 s (scmkit, 2026-12-03, exact L1: 64, 101 and 109 in 0.2 to 0.9"
    " s on a slower machine). The graphs are sparse (19 to 34 edges of 380 ordered pairs), so SHD mostly "
    "counts the false positives. NOTEARS-MLP (lambda1 0.01, centred but not scaled, as in the reference "
    "code) does worse than VI-DP-DAG and PC on these raw values; with the smoothed L1 penalty it used "
    "before OWL-QN (2026-12-03) it failed outright (SHD 170, 180 edges, h up to 212 at rho = 1e16). The "
    "row `standardize=True` is linear NOTEARS on z-scored columns: it keeps 19.3 edges instead of 84.0 "
    "and has the lowest SHD here (32.5), though every method's SHD is above the empty graph's (19 to 34, "
    "mean 23.5). It reaches h(W) <= 1e-8 on all 10 datasets (on 2026-12-03, 9 of them: 1.06e-8 on dataset"
    " 2), yet on 9 of them the thresholded graph still had cycles (1 to 3 edges removed per dataset on "
    "2026-12-06; on 2026-12-03 a cycle of 11 edges on dataset 3), broken at their weakest edge with a "
    "warning: a cycle of k edges enters h only through tr((W * W)^k) / k!, so long cycles of weights near"
    " the threshold barely move h. The variance grows from ancestor to descendant in 14 to 74 % of the "
    "ordered pairs of the SynTReN graphs (mean 44 %), against 67 to 89 % on the simulated graphs and 68 %"
    " on Sachs (a pairwise form of the varsortability of Reisach et al., 2021, computed by hand on "
    "2026-12-03); there standardising makes linear NOTEARS worse (Sachs SHD 11.0 -> 15.0 on the AMD EPYC "
    "machine, 12.0 -> 15.0 on the Intel Xeon; simulated d = 50: 20.0 -> 30.0)."
)


PREAMBLE = (
    "Default settings of every method (VI-DP-DAG: transform 'auto', hidden (16, 16), tau 0.3, prior_p 1e-4, "
    "lr_graph 3e-2, early stopping on a 20 % validation split; NOTEARS: lambda1 0.1, w_threshold 0.3; PC: "
    "Fisher-z, alpha 0.05). SHD counts a reversed edge as 1; PC's CPDAG is scored against the true DAG (an "
    "undirected edge counts as an error; in the AP it scores 0.5 both ways). VI-DP-DAG's average precision ranks "
    "its exact marginal edge probabilities, NOTEARS' ranks |W|. Each subsection gives the machine, the load and "
    "the command of the run that produced it (`--parts` reruns one subsection and keeps the others). "
    "PC returns a CPDAG, which stands for several DAGs: its SID cell is the smallest and the largest SID of "
    "those DAGs (`discovery.metrics.sid_bounds`; means of each over the datasets or graphs). Where PC's "
    "orientations conflict its PDAG has no DAG extension (every orientation of its undirected edges adds a "
    "cycle or a v-structure) and its SID is undefined; '(k of n)' says over how many datasets the range is "
    "averaged then."
)


def run_line(part: str) -> str:
    cmd = f"python benchmarks/bench_differentiable.py --parts {part}"
    if part == "sachs":
        cmd += f" --seeds {ARGS.seeds}"
    return f"Machine: {machine()}; {datetime.date.today().isoformat()}. Command: `{cmd} --docs docs/benchmarks.md`."


def render_parts() -> dict[str, list[str]]:
    """One Markdown subsection per part that ran, keyed by its heading."""
    out: dict[str, list[str]] = {}
    if "sachs" in RESULTS:
        lines = [run_line("sachs"), ""]
        for name, rows in RESULTS["sachs"].items():
            lines += [f"**{name} data** (VI-DP-DAG: mean ± sd over {ARGS.seeds} seeds; NOTEARS and PC are deterministic)", ""]
            lines += method_table(rows) + [""]
        lines += [
            "The empty graph has SHD 17; random scores have directed AP 17/110 = 0.155. VI-DP-DAG's likelihood "
            "is scale-free (per-node noise variances) but not shape-free: with the default transform='auto' it "
            "log-transforms the raw intensities (positive, skewness 2 to 27), which it cannot recognise once the "
            "columns are z-scored, so the standardised input is fitted untransformed (heavy tails). "
            "transform='rank' (normal scores) gives the same result on both inputs. Linear NOTEARS is not "
            "scale-free and its raw-data result leans on the marginal variances. NOTEARS-MLP is not scale-free "
            "either: the raw intensities (standard deviations up to ~1,000 times apart) give a dense, wrong graph, "
            "standardised data a sparse one.",
        ]
        out["### Sachs (853 observational cells, 17-edge consensus graph)"] = lines
    if "syntren" in RESULTS:
        lines = [run_line("syntren"), ""] + method_table(RESULTS["syntren"]) + ["", SYNTREN_NOTE]
        out["### SynTReN (10 datasets, 500 x 20), mean ± sd over the datasets"] = lines
    if "simulated" in RESULTS:
        lines = [run_line("simulated"), ""]
        for d in (10, 20, 50):
            rows = [r for r in RESULTS["simulated"] if r["d"] == d]
            if rows:
                k = len({r["graph_seed"] for r in rows})
                lines += [f"**d = {d}** ({k} graph{'s' if k > 1 else ''})", ""] + method_table(rows) + [""]
        out["### Simulated nonlinear ER graphs (random MLP mechanisms, expected degree 2, n = 1000)"] = lines
    if "steps" in RESULTS:
        lines = [run_line("steps"), "", "| d | ms per step | first call (compile) s |", "|---|---|---|"]
        lines += [f"| {r['d']} | {r['ms_per_step']:.2f} | {r['first_call_s']:.1f} |" for r in RESULTS["steps"]]
        lines += ["", "Batch 128, hidden (16, 16), one DAG sample per step; median of 100-step compiled chunks."]
        out["### VI-DP-DAG training step (CPU)"] = lines
    if "compile" in RESULTS:
        c = RESULTS["compile"]
        lines = [run_line("compile"), "", "| jitted program | XLA compilation s |", "|---|---|"]
        lines += [f"| `{name}` | {sec:.2f} |" for name, sec in c["programs"] if sec >= 0.05]
        lines += [
            f"| all {len(c['programs'])} programs | {c['total']:.2f} |",
            "",
            f"Wall time of the fit (500 steps, first in the process): {c['wall']:.1f} s. `run_chunk` is the "
            "training program, `val_elbo` the held-out ELBO, `init_state` the initialisation.",
        ]
        out["### VI-DP-DAG: compilation in a first fit (Sachs, 500 steps)"] = lines
    if "notears" in RESULTS:
        rows = RESULTS["notears"]
        lines = [
            run_line("notears"),
            "",
            "| d | graph | true edges | scmkit first fit s (incl. compile) | scmkit compiled fit s | same, SciPy's memory 10 s "
            "| gCastle `learn` s | gCastle `notears_linear` on an ndarray s | speed-up vs `learn` (first / compiled) | "
            "speed-up vs `notears_linear` (first / compiled) | SHD scmkit / memory 10 / `learn` / `notears_linear` | "
            "scmkit L-BFGS iterations (memory 10) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['d']} | {r['seed']} | {r['edges']} | {r['jax_first_s']:.2f} | {r['jax_second_s']:.2f} | "
                f"{r['jax_mem10_s']:.2f} | {r['gcastle_s']:.1f} | {r['gcastle_core_s']:.2f} | "
                f"{r['gcastle_s'] / r['jax_first_s']:.1f}x / {r['gcastle_s'] / r['jax_second_s']:.1f}x | "
                f"{r['gcastle_core_s'] / r['jax_first_s']:.1f}x / {r['gcastle_core_s'] / r['jax_second_s']:.1f}x | "
                f"{r['shd_jax']:.0f} / {r['shd_jax_mem10']:.0f} / {r['shd_gcastle']:.0f} / {r['shd_gcastle_core']:.0f} | "
                f"{r['inner']} ({r['inner_mem10']}) |"
            )
        lines += ["", "Medians over the graphs of each size:", "",
                  "| d | speed-up vs `learn` (first / compiled) | speed-up vs `notears_linear` (first / compiled) | "
                  "memory 5 against 10, compiled | graphs where scmkit's SHD is equal / lower / higher than `notears_linear`'s |",
                  "|---|---|---|---|---|"]
        for d in sorted({r["d"] for r in rows}):
            rs = [r for r in rows if r["d"] == d]
            med = lambda f: float(np.median([f(r) for r in rs]))  # noqa: E731
            equal = sum(r["shd_jax"] == r["shd_gcastle_core"] for r in rs)
            lower = sum(r["shd_jax"] < r["shd_gcastle_core"] for r in rs)
            lines.append(
                f"| {d} | {med(lambda r: r['gcastle_s'] / r['jax_first_s']):.1f}x / "
                f"{med(lambda r: r['gcastle_s'] / r['jax_second_s']):.1f}x | "
                f"{med(lambda r: r['gcastle_core_s'] / r['jax_first_s']):.1f}x / "
                f"{med(lambda r: r['gcastle_core_s'] / r['jax_second_s']):.1f}x | "
                f"{med(lambda r: r['jax_mem10_s'] / r['jax_second_s']):.2f}x faster | "
                f"{equal} / {lower} / {len(rs) - equal - lower} of {len(rs)} |"
            )
        high = [r for r in rows if r["h"] > 1e-8]
        h_line = "its fits end with h(W) <= 1e-8" + (
            " except on graph " + ", ".join(f"{r['seed']} (h = {r['h']:.1e} at rho_max, logged as a warning)" for r in high)
            if high else ""
        )
        lines += [
            "",
            "Linear SEMs on Erdős–Rényi DAGs (expected degree 2, edge weights ±[0.5, 2], Gaussian noise), graph = "
            "the seed of `linear_sem`. Same data, same lambda1 and threshold; gCastle uses the polynomial acyclicity "
            "function of Yu et al. (2019) and SciPy's L-BFGS-B on W = W+ - W-; scmkit uses tr(expm(W * W)) and "
            "L-BFGS (an Armijo line search that backtracks, or extends a step whose slope is still steep, SciPy's "
            "stopping rules, 5 stored pairs, in the weights of the standardised sources) with the L1 penalty exact "
            "(OWL-QN: pseudo-gradients and orthant projections) in float64, "
            "its first fit of each graph starts from empty JAX caches (`jax.clear_caches()`), so it includes "
            "tracing and compiling the solver, and the compiled time is the median of 3 later fits; "
            f"{h_line}. gCastle is timed twice: `Notears.learn` as its users call it, "
            "and its solver `notears_linear` on a plain ndarray (best of 2 runs), its best setting: `learn` wraps the "
            "data in castle's `Tensor`, an ndarray subclass that rebuilds pandas indexes after every arithmetic "
            "operation, which with pandas 3 is most of its time. The 'memory 10' columns rerun scmkit with SciPy's "
            "L-BFGS memory (recompiled): that is the evidence for the default of 5. scmkit's first fit in a "
            "process is mostly XLA tracing and compilation of the solver; with JAX's persistent compilation cache "
            "(docs/scaling.md) later processes skip it. Up to 32 nodes on CPU the solver is compiled with XLA's "
            "loop emitter instead of its fusion emitters (`discovery._jax.CPU_FAST_COMPILE_OPTIONS`; measurements "
            "in the subsection on XLA's loop emitter below).",
        ]
        version = RESULTS.get("gcastle_version", "")
        out[f"### NOTEARS-JAX vs gCastle {version} `Notears` (linear, lambda1 0.1, w_threshold 0.3, n = 1000)"] = lines
    if RESULTS.get("notears_mlp"):
        rows = RESULTS["notears_mlp"]
        lines = [
            run_line("notears_mlp"),
            "",
            "| d | graph | true edges | scmkit first fit s (incl. compile) | scmkit compiled fit s | gCastle s (torch threads) "
            "| speed-up first / compiled | SHD scmkit / gCastle | AP scmkit / gCastle | L-BFGS iterations scmkit / gCastle |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            first = f"{r['jax_first_s']:.2f}" if np.isfinite(r["jax_first_s"]) else "–"
            ratio_first = f"{r['gcastle_s'] / r['jax_first_s']:.1f}x" if np.isfinite(r["jax_first_s"]) else "–"
            other = f"; {3 - r['torch_threads']}: {r['gcastle_other_threads_s']:.1f}" if np.isfinite(r["gcastle_other_threads_s"]) else ""
            lines.append(
                f"| {r['d']} | {r['graph_seed']} | {r['edges']} | {first} | {r['jax_s']:.2f} | "
                f"{r['gcastle_s']:.1f} ({r['torch_threads']}{other}) | {ratio_first} / {r['gcastle_s'] / r['jax_s']:.1f}x | "
                f"{r['shd_jax']:.0f} / {r['shd_gcastle']:.0f} | {r['ap_jax']:.3f} / {r['ap_gcastle']:.3f} | "
                f"{r['inner']} / {r['inner_gcastle']} |"
            )
        lines += ["", "Medians over the graphs of each size:", "",
                  "| d | speed-up, compiled | SHD scmkit / gCastle (mean) | graphs with SHD scmkit <= gCastle |",
                  "|---|---|---|---|"]
        for d in sorted({r["d"] for r in rows}):
            rs = [r for r in rows if r["d"] == d]
            lines.append(
                f"| {d} | {float(np.median([r['gcastle_s'] / r['jax_s'] for r in rs])):.1f}x | "
                f"{np.mean([r['shd_jax'] for r in rs]):.1f} / {np.mean([r['shd_gcastle'] for r in rs]):.1f} | "
                f"{sum(r['shd_jax'] <= r['shd_gcastle'] for r in rs)} of {len(rs)} |"
            )
        lines += [
            "",
            "The graphs and data of the simulated nonlinear section (random MLP mechanisms, expected degree 2, "
            "n = 1000), centred, the same for both. Both fit one MLP per node with one hidden layer of 10 sigmoid "
            "units, lambda1 = lambda2 = 0.01 (the NOTEARS-MLP paper's), w_threshold 0.3, h_tol 1e-8, rho_max 1e16, in "
            "float64. gCastle is the reference implementation (PyTorch autograd, SciPy's L-BFGS-B on the bounded "
            "W+ - W- split, exact L1); scmkit runs one jitted OWL-QN per subproblem (L-BFGS with the exact L1 "
            "penalty and orthant projections; its NOTEARS defaults, `model='mlp'`). The scmkit first fit is the first of each size "
            "in the process (it compiles "
            "the solver); the compiled fit is the next fit of the same data. gCastle ran with 1 and 2 torch threads "
            "on the first graph of each size (both times shown) and with the faster setting on the others.",
        ]
        versions = RESULTS.get("gcastle_version", ""), RESULTS.get("torch_version", "")
        out[f"### NOTEARS-MLP vs gCastle {versions[0]} `NotearsNonlinear` (torch {versions[1]}, lambda1 = lambda2 = 0.01)"] = lines
    return out


def _split_subsections(body: str) -> tuple[str, list[tuple[str, str]]]:
    """``(text before the first ###, [(heading, text), ...])`` of a section body."""
    chunks = body.split("\n### ")
    head, subs = chunks[0], []
    for c in chunks[1:]:
        heading, _, text = c.partition("\n")
        subs.append(("### " + heading.strip(), text))
    return head, subs


def write_docs(path: Path) -> None:
    """Replace this run's subsections of the section; keep the others (and their order)."""
    new = render_parts()
    current = path.read_text() if path.exists() else "# Benchmarks\n"  # re-read just before writing
    if SECTION + "\n" in current:
        start = current.index(SECTION + "\n")
        nxt = current.find("\n## ", start + len(SECTION))
        body = current[start + len(SECTION) : nxt if nxt != -1 else len(current)]
        rest = current[nxt + 1 :] if nxt != -1 else ""
        before = current[:start]
    else:
        body, rest, before = "", "", current.rstrip() + "\n\n"
    _, subs = _split_subsections(body)
    merged, seen = [], set()
    for heading, text in subs:
        key = heading.split(" (")[0].split(" `")[0]
        match = next((h for h in new if h.split(" (")[0].split(" `")[0] == key), None)
        if match:
            merged.append((match, "\n".join(new[match])))
            seen.add(match)
        else:
            merged.append((heading, text.strip("\n")))
    merged += [(h, "\n".join(v)) for h, v in new.items() if h not in seen]
    text = SECTION + "\n\n" + PREAMBLE + "\n\n" + "\n\n".join(f"{h}\n\n{t.strip()}" for h, t in merged) + "\n"
    path.write_text(before + text + ("\n" + rest if rest else ""))


LOAD_AT_START = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    parts = [p.strip() for p in ARGS.parts.split(",") if p.strip()]
    funcs = {
        "steps": part_steps, "notears": part_notears, "sachs": part_sachs, "syntren": part_syntren,
        "simulated": part_simulated, "notears_mlp": part_notears_mlp, "compile": part_compile,
    }  # fmt: skip
    for p in parts:
        if p not in funcs:
            raise SystemExit(f"unknown part {p!r}; choose from {sorted(funcs)}")
    for p in parts:
        funcs[p]()
    for heading, lines in render_parts().items():
        print(heading + "\n\n" + "\n".join(lines) + "\n")
    if ARGS.docs:
        write_docs(Path(ARGS.docs))
        print(f"wrote section {SECTION!r} of {ARGS.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
