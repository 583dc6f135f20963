"""CD-NOD: scmkit vs causal-learn, and scmkit at scale.

Run from the repository root::

    python benchmarks/bench_cdnod.py                 # everything
    python benchmarks/bench_cdnod.py --only kci      # n = 1000, d = 6, KCI
    python benchmarks/bench_cdnod.py --only large    # n = 20000, d = 20, Nystrom KCI
    python benchmarks/bench_cdnod.py --only sachs    # real data
    python benchmarks/bench_cdnod.py --quick         # kci at n = 400, d = 5, 3 domains (a minute)

1. ``kci``: CD-NOD with KCI at n = 1000, d = 6, 5 domains. Wall time of scmkit (phases 1-2
   with causal-learn's rule for conflicting colliders, ``conflict="keep_existing"``, first and
   second fit in the process; and all four phases) and of ``causallearn.search.ConstraintBased.CDNOD.cdnod(..., "kci")``
   (phases 1-2 only: it has no phase 3-4), JIT compilation included (the import of JAX excluded and logged), and their ratio. Both
   run in this process with ``OPENBLAS_NUM_THREADS=1`` set before numpy is imported
   (numpy's BLAS on 2 threads is many times slower for these matrix sizes). causal-learn
   runs in a subprocess with a time limit (``--cl-timeout``). The first fit also reports how
   many XLA programs it compiled and the seconds XLA spent compiling them
   (``jax.monitoring``'s backend-compile events).
2. ``large``: CD-NOD with low-rank KCI (``approximation="nystrom"``) at n = 20000, d = 20.
3. ``sachs``: CD-NOD on the Sachs et al. (2005) interventional data with the regime as the
   context, vs PC on the pooled data; SHD to the published consensus graphs.

Results are logged (``logging``) and written as JSON next to this script
(``bench_cdnod_results.json``).
"""

from __future__ import annotations

import os

from _common import add_repo_to_path, pin_blas_threads

pin_blas_threads("1", ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))  # before numpy is imported
add_repo_to_path()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

logger = logging.getLogger("bench_cdnod")
RESULTS = Path(__file__).with_name("bench_cdnod_results.json")
SACHS = Path("/work/shared/data/sachs")


# ----------------------------------------------------------------------------- data
def simulate(n: int, d: int, n_domains: int, seed: int = 0, degree: float = 2.0):
    """Nonlinear multi-domain data: random DAG, additive noise, independent changes.

    Every other node changes with the domain (mean shift, weight and noise scale drawn per
    domain). Returns (data, context array, DAG edge list, changing nodes).
    """
    rng = np.random.default_rng(seed)
    names = [f"X{i}" for i in range(d)]
    p = min(1.0, degree / max(d - 1, 1))
    adj = np.triu(rng.random((d, d)) < p, 1)
    dom = np.repeat(np.arange(n_domains), int(np.ceil(n / n_domains)))[:n]
    changing = [names[j] for j in range(d) if j % 2 == 0]
    x = np.zeros((n, d))
    for j in range(d):
        val = np.zeros(n)
        for i in np.flatnonzero(adj[:, j]):
            w = rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0])
            if names[j] in changing:
                w = w * rng.uniform(0.5, 1.5, n_domains)[dom]
            val += w * np.tanh(x[:, i])
        scale = rng.uniform(0.5, 1.5, n_domains)[dom] if names[j] in changing else 1.0
        shift = rng.uniform(-1, 1, n_domains)[dom] if names[j] in changing else 0.0
        x[:, j] = val + shift + scale * rng.normal(size=n)
    edges = [(names[i], names[j]) for i, j in zip(*np.nonzero(adj))]
    return pd.DataFrame(x, columns=names), dom, edges, changing


# ------------------------------------------------------------------------- runners
def run_scmkit(data, context, *, phases34: bool, **kwargs) -> dict:
    """One CD-NOD fit; ``wall_s`` includes JIT compilation but not the import of JAX.

    ``discovery`` imports its modules (and JAX) lazily, on first use: they are imported
    here before the clock starts, and that time is reported as ``import_s`` (zero
    after the first call in a process).
    """
    t0 = time.perf_counter()
    import discovery.citest._citest  # noqa: F401  (imports JAX)
    from discovery import CDNOD  # noqa: F401

    imported = time.perf_counter() - t0
    compiles = _CompileCounter()
    t0 = time.perf_counter()
    model = CDNOD(independent_changes=phases34, driving_force=phases34, **kwargs).fit(data, context=context)
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "import_s": imported,
        "n_compiles": compiles.count(),
        "compile_s": compiles.seconds(),
        "n_tests": model.n_tests_,
        "changing": model.changing_nodes_,
        "graph": model.graph_.to_dict(),
        "n_undirected_after_phase2": len(model.graph_phase2_.undirected_edges),
        "n_oriented_phase3": int(model.independent_changes_["applied"].sum()) if phases34 else 0,
    }


class _CompileCounter:
    """XLA compilations since construction, from ``jax.monitoring``'s backend-compile events.

    The listener is registered once per process; each counter reads the events after its start.
    """

    _events: list = []
    _registered = False

    def __init__(self):
        import jax.monitoring

        if not _CompileCounter._registered:
            jax.monitoring.register_event_duration_secs_listener(self._listen)
            _CompileCounter._registered = True
        self._start = len(self._events)

    @classmethod
    def _listen(cls, event, duration, **_):
        if event == "/jax/core/compile/backend_compile_duration":
            cls._events.append(duration)

    def count(self) -> int:
        return len(self._events) - self._start

    def seconds(self) -> float:
        return float(sum(self._events[self._start :]))


_CL_SCRIPT = r"""
import os, sys, time, json
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
import numpy as np
from causallearn.search.ConstraintBased.CDNOD import cdnod
arr = np.load(sys.argv[1])
x, c = arr[:, :-1], arr[:, -1:]
t0 = time.perf_counter()
cg = cdnod(x, c, 0.05, sys.argv[2], show_progress=False)
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "graph": cg.G.graph.tolist()}))
"""


def run_causallearn(data, context, test: str, timeout: float) -> dict:
    """causal-learn's cdnod in a subprocess (so a time limit can stop it)."""
    tmp = Path("/tmp/bench_cdnod_cl.npy")
    np.save(tmp, np.column_stack([data.to_numpy(float), np.asarray(context, float)]))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CL_SCRIPT, str(tmp), test], capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return {"wall_s": None, "timed_out_after_s": timeout}
    if out.returncode != 0:
        return {"wall_s": None, "error": out.stderr[-2000:]}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = time.perf_counter() - t0
    return res


def bench_kci(cl_timeout: float, n: int = 1000, d: int = 6, n_domains: int = 5) -> dict:
    data, dom, edges, changing = simulate(n, d, n_domains, seed=0)
    load = {"start": os.getloadavg()[0]}
    logger.info("KCI benchmark: n=%d, d=%d, %d domains; true edges %s, changing %s", n, d, n_domains, edges, changing)
    # causal-learn keeps the first orientation where colliders conflict: conflict="keep_existing"
    ours12 = run_scmkit(data, dom, phases34=False, ci_test="kci", conflict="keep_existing")
    logger.info("scmkit CD-NOD phases 1-2 (KCI), first fit: %.2f s, %d tests, %d XLA compilations (%.2f s) "
                "(import of JAX and scmkit before it: %.1f s)",
                ours12["wall_s"], ours12["n_tests"], ours12["n_compiles"], ours12["compile_s"], ours12["import_s"])
    again = run_scmkit(data, dom, phases34=False, ci_test="kci", conflict="keep_existing")
    logger.info("scmkit CD-NOD phases 1-2 (KCI), second fit in the process: %.2f s, %d compilations",
                again["wall_s"], again["n_compiles"])
    ours = run_scmkit(data, dom, phases34=True, ci_test="kci")
    logger.info("scmkit CD-NOD phases 1-4 (KCI, third fit in the process): %.2f s", ours["wall_s"])
    load["scmkit_end"] = os.getloadavg()[0]
    cl = run_causallearn(data, dom, "kci", cl_timeout)
    load["end"] = os.getloadavg()[0]
    if cl.get("wall_s"):
        from scm import PDAG

        ratio = cl["wall_s"] / ours12["wall_s"]
        logger.info("causal-learn cdnod (KCI): %.1f s; ratio %.1fx with compilation, %.1fx compiled (load average %s)",
                    cl["wall_s"], ratio, cl["wall_s"] / again["wall_s"], load)
        cl_graph = np.asarray(cl.pop("graph"))
        names = list(data.columns) + ["C"]
        theirs, mine = PDAG.from_causallearn(cl_graph, names), PDAG.from_dict(ours12["graph"])
        cl["same_graph_as_scmkit"] = bool(theirs == mine)
        adjacencies = lambda g: {frozenset(e) for e in g.skeleton().edges()}  # noqa: E731
        cl["same_skeleton_as_scmkit"] = adjacencies(theirs) == adjacencies(mine)
        logger.info("same skeleton as scmkit: %s; same graph: %s", cl["same_skeleton_as_scmkit"], cl["same_graph_as_scmkit"])
    else:
        ratio = None
        logger.info("causal-learn cdnod (KCI) did not finish: %s", cl)
    return {"setting": f"n={n}, d={d}, {n_domains} domains, KCI", "truth": {"edges": edges, "changing": changing},
            "scmkit_phases12": ours12, "scmkit_phases12_second_fit": again, "scmkit_phases1234": ours, "causallearn": cl,
            "speedup_phases12": ratio, "speedup_phases12_compiled": cl["wall_s"] / again["wall_s"] if ratio else None,
            "load_average": load}


def bench_large() -> dict:
    data, dom, edges, changing = simulate(20000, 20, 5, seed=1, degree=1.5)
    logger.info("large benchmark: n=20000, d=20, Nystrom KCI")
    res = run_scmkit(data, dom, phases34=True, ci_test="kci", ci_test_kwargs={"approximation": "nystrom"}, max_cond_size=3)
    logger.info("scmkit CD-NOD phases 1-4 (Nystrom KCI, max_cond_size=3): %.1f s, %d tests", res["wall_s"], res["n_tests"])
    res["truth"] = {"edges": edges, "changing": changing}
    return {"setting": "n=20000, d=20, 5 domains, KCI nystrom, max_cond_size=3", **res}


# ---------------------------------------------------------------------------- Sachs
def _shd(pdag, truth_edges, nodes) -> int:
    """SHD between a PDAG and a DAG: missing + extra adjacencies + wrongly oriented
    (an undirected edge counts as one error when the true edge is directed)."""
    true_dir = {tuple(e) for e in truth_edges}
    true_adj = {frozenset(e) for e in true_dir}
    est_adj = {frozenset((a, b)) for a, b, _ in pdag.edges() if a in nodes and b in nodes}
    shd = len(true_adj ^ est_adj)
    for a, b, kind in pdag.edges():
        if frozenset((a, b)) not in true_adj:
            continue
        if kind != "directed" or (a, b) not in true_dir:
            shd += 1
    return shd


def bench_sachs() -> dict:
    raw = pd.read_csv(SACHS / "cmu_sachs.2005.with_experiment_indicators.txt", sep="\t")
    proteins = list(raw.columns[:11])
    regimes = list(raw.columns[11:])
    regime = raw[regimes].astype(int).astype(str).agg("".join, axis=1)
    graphs = json.loads((SACHS / "sachs_ground_truth_graphs_by_source.json").read_text())
    data = raw[proteins]
    out = {"n": len(raw), "n_regimes": int(regime.nunique())}
    from discovery import CDNOD, PC

    t0 = time.perf_counter()
    context = pd.Series(regime.to_numpy(), name="regime")
    cd = CDNOD(ci_test="fisherz", independent_changes=False, driving_force=False).fit(data, context=context)
    out["cdnod_fisherz_wall_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pc = PC(ci_test="fisherz").fit(data)
    out["pc_fisherz_wall_s"] = time.perf_counter() - t0
    out["cdnod_changing"] = cd.changing_nodes_
    out["shd"] = {}
    lower = {p.lower(): p for p in proteins}
    lower.update({"plcg": lower.get("plc", "plc"), "plcgamma": lower.get("plc", "plc")})
    for source, g in _graph_sources(graphs):
        edges = [(lower.get(a.lower(), a), lower.get(b.lower(), b)) for a, b in g]
        out["shd"][source] = {"cdnod": _shd(cd.graph_, edges, set(proteins)), "pc_pooled": _shd(pc.graph_, edges, set(proteins)),
                              "n_true_edges": len(edges)}
    logger.info("Sachs: %s", out)
    return out


def _graph_sources(graphs):
    """Yield (source name, list of (a, b) edges) from the JSON, whatever its nesting."""
    items = graphs.items() if isinstance(graphs, dict) else enumerate(graphs)
    for key, val in items:
        if isinstance(val, dict) and "edges" in val:
            val = val["edges"]
        if isinstance(val, list) and val and isinstance(val[0], (list, tuple)) and len(val[0]) >= 2:
            yield str(key), [(str(e[0]), str(e[1])) for e in val]
        elif isinstance(val, list) and val and isinstance(val[0], dict):
            yield str(key), [(str(e.get("source", e.get("from"))), str(e.get("target", e.get("to")))) for e in val]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["kci", "large", "sachs"], action="append")
    parser.add_argument("--cl-timeout", type=float, default=1800.0, help="time limit of causal-learn's run (s)")
    parser.add_argument("--quick", action="store_true", help="only kci, at n = 400, d = 5, 3 domains")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    which = ["kci_quick"] if args.quick else (args.only or ["kci", "large", "sachs"])
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = {"kci": lambda: bench_kci(args.cl_timeout), "kci_quick": lambda: bench_kci(args.cl_timeout, 400, 5, 3),
            "large": bench_large, "sachs": bench_sachs}
    for name in which:
        results[name] = runs[name]()
        RESULTS.write_text(json.dumps(results, indent=2, default=str))
    logger.info("results written to %s", RESULTS)


if __name__ == "__main__":
    main()
