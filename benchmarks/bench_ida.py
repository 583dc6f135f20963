"""IDA against the enumerated class: exact values with the population covariance, convergence with samples.

No peer library here implements IDA (R's pcalg, its reference implementation, is not installed;
causal-learn, dowhy, pgmpy, tigramite and gcastle have none), so the reference is the class itself.
For random linear-Gaussian SCMs (``scm.simulate.random_dag`` + ``random_scm(kind="linear")``,
several sizes and degrees), every DAG of the CPDAG's class is enumerated (``scm.dags_in_class``)
and in each the total effect of ``x`` on ``y`` is computed from the population covariance
independently of IDA: the DAG's weights by regressing every node on its parents there, then the
sum over directed paths of the products of those weights, ``(I - B)^-1``.

Part 1 (population, ``covariance=model.interventional_cov(), n_obs="population"``):

- global IDA's multiset equals the per-DAG effects, multiplicities included;
- local IDA's distinct values equal theirs (Maathuis et al. 2009, Theorem 3.1), its rows are the
  distinct parent sets of ``x`` over the class;
- optimal IDA (Witte et al. 2020) gives local IDA's values row by row;
- the true effect (path sum of the true weights) is among them.

Part 2 (finite samples): on ``n`` rows drawn from the model, the largest error of a case's rows
against the population rows (same parent sets), for n = 1e3, 1e4, 1e5, its scaling with
``sqrt(n)``, the coverage of the 95% intervals, and the error of optimal IDA over local IDA's.

Run from the repository root::

    python benchmarks/bench_ida.py --docs docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys

from _common import add_repo_to_path, blas_settings, command_line, machine_description, pin_blas_threads, replace_markdown_section

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--graphs", type=int, default=50, help="random CPDAGs in part 1 (default 50)")
_parser.add_argument("--pairs", type=int, default=5, help="(x, y) pairs per graph (default 5)")
_parser.add_argument("--sizes", default="5,8,10,15", help="node counts, cycled over the graphs (default 5,8,10,15)")
_parser.add_argument("--degrees", default="2,2.5,3", help="expected degrees, cycled over the graphs (default 2,2.5,3)")
_parser.add_argument("--sample-cases", type=int, default=40, help="(graph, pair) cases of part 2 (default 40)")
_parser.add_argument("--n", default="1000,10000,100000", help="sample sizes of part 2 (default 1000,10000,100000)")
_parser.add_argument("--seed", type=int, default=0, help="seed of the graphs, weights and samples (default 0)")
_parser.add_argument("--blas-threads", default="1", help="value for OPENBLAS/OMP/MKL_NUM_THREADS, or 'default' (default 1)")
_parser.add_argument("--docs", metavar="PATH", help="write the results as the section of this Markdown file")
ARGS = _parser.parse_args()
pin_blas_threads(ARGS.blas_threads)
add_repo_to_path()

import datetime  # noqa: E402
import time  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from estimators import ida  # noqa: E402
from scm import cpdag, dags_in_class  # noqa: E402
from scm.simulate import random_dag, random_scm  # noqa: E402

SECTION = "## IDA against the enumerated class"


def total_effects(B: np.ndarray) -> np.ndarray:
    """``(I - B)^-1``: entry ``[i, j]`` is the sum over directed paths from i to j of the products of the weights."""
    return np.linalg.inv(np.eye(len(B)) - B)


def per_dag_effect(S: np.ndarray, pos: dict, dag: nx.DiGraph, x, y) -> float:
    """The total effect of x on y in the linear SEM on ``dag`` with covariance ``S`` (weights by regression on the
    parents in ``dag``, then the path sum)."""
    B = np.zeros_like(S)
    for v in dag.nodes:
        pa = [pos[p] for p in dag.predecessors(v)]
        if pa:
            B[pa, pos[v]] = np.linalg.solve(S[np.ix_(pa, pa)], S[pa, pos[v]])
    return float(total_effects(B)[pos[x], pos[y]])


def true_weights(model) -> np.ndarray:
    nodes, B, *_ = model._linear_system()
    return B


def distinct(values, tol=1e-9) -> np.ndarray:
    v = np.sort(np.asarray(values, dtype=float))
    return v[np.concatenate([[True], np.diff(v) > tol])] if len(v) else v


def draw_cases(rng):
    """The graphs of part 1 with their pairs: x with undirected neighbours first (the cases IDA is for)."""
    sizes = [int(s) for s in ARGS.sizes.split(",")]
    degrees = [float(s) for s in ARGS.degrees.split(",")]
    cases = []
    for k in range(ARGS.graphs):
        d, deg = sizes[k % len(sizes)], degrees[k % len(degrees)]
        dag = random_dag(d, expected_degree=min(deg, d - 1), random_state=rng)
        model = random_scm(dag, kind="linear", random_state=rng)
        g = cpdag(dag)
        nodes = list(dag.nodes)
        open_x = [v for v in nodes if g.neighbors(v)]
        pairs = []
        for _ in range(ARGS.pairs):
            x = rng.choice(open_x) if open_x and rng.random() < 0.8 else rng.choice(nodes)
            y = rng.choice([v for v in nodes if v != x])
            pairs.append((x, y))
        cases.append((dag, model, g, pairs))
    return cases


def part1(cases) -> dict:
    rows = []
    for _dag, model, g, pairs in cases:
        cov = model.interventional_cov()
        nodes = list(cov.index)
        pos = {v: i for i, v in enumerate(nodes)}
        S = cov.to_numpy()
        truth = total_effects(true_weights(model))
        members = dags_in_class(g, limit=None)
        for x, y in pairs:
            kw = {"treatment": x, "outcome": y, "covariance": cov, "n_obs": "population"}
            t0 = time.perf_counter()
            local = ida(g, **kw)
            t_local = time.perf_counter() - t0
            optimal = ida(g, method="optimal", **kw)
            t0 = time.perf_counter()
            glob = ida(g, method="global", **kw)
            t_global = time.perf_counter() - t0
            oracle = np.array([per_dag_effect(S, pos, m, x, y) for m in members])
            parent_sets = {frozenset(m.predecessors(x)) for m in members}
            dl, do = distinct(local.effects), distinct(oracle)
            rows.append({
                "d": len(nodes), "dags": len(members), "local_rows": len(local.table), "distinct": len(do),
                "same_count": len(dl) == len(do),
                "err_distinct": float(np.max(np.abs(dl - do))) if len(dl) == len(do) else np.inf,
                "err_global": float(np.max(np.abs(np.sort(glob.effects) - np.sort(oracle)))),
                "rows_are_parent_sets": set(map(frozenset, local.table["parents"])) == parent_sets
                and len(local.table) == len(parent_sets),
                "err_optimal": float(np.max(np.abs(optimal.effects - local.effects))),
                "truth_in": float(np.min(np.abs(local.effects - truth[pos[x], pos[y]]))) < 1e-10,
                "t_local": t_local, "t_global": t_global,
            })  # fmt: skip
    return pd.DataFrame(rows)


def part2(cases, rng) -> pd.DataFrame:
    sizes = [int(s) for s in ARGS.n.split(",")]
    flat = [(dag, model, g, p) for dag, model, g, pairs in cases for p in pairs
            if np.abs(ida(g, treatment=p[0], outcome=p[1], covariance=model.interventional_cov(), n_obs="population").effects).max() > 1e-8]
    picked = [flat[i] for i in rng.choice(len(flat), min(ARGS.sample_cases, len(flat)), replace=False)]
    rows = []
    for c, (_dag, model, g, (x, y)) in enumerate(picked):
        cov = model.interventional_cov()
        oracle = ida(g, treatment=x, outcome=y, covariance=cov, n_obs="population")
        for n in sizes:
            data = model.sample(n, random_state=rng)
            for method in ("local", "optimal"):
                res = ida(g, data, x, y, method=method)
                assert list(res.table["parents"]) == list(oracle.table["parents"])
                est, pop = res.effects, oracle.effects
                regressed = (res.table["note"] == "").to_numpy()
                inside = (res.table["ci_low"] <= pop) & (pop <= res.table["ci_high"])
                rows.append({"case": c, "n": n, "method": method, "max_err": float(np.max(np.abs(est - pop))),
                             "sq_err": ((est - pop) ** 2).tolist(), "covered": inside[regressed].tolist()})
    return pd.DataFrame(rows)


def render(p1: pd.DataFrame, p2: pd.DataFrame, info, seconds) -> str:
    n_pairs = len(p1)
    open_pairs = int((p1["distinct"] > 1).sum())
    by_d = p1.groupby("d").agg(pairs=("dags", "size"), dags_median=("dags", "median"), dags_max=("dags", "max"),
                               rows_median=("local_rows", "median"), rows_max=("local_rows", "max"),
                               t_local=("t_local", "median"), t_global=("t_global", "median"))
    lines = [
        SECTION,
        "",
        f"Machine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}, numpy {info['numpy']}; "
        f"{blas_settings(markdown=True)}; load average at start {info['load']}; {datetime.date.today().isoformat()}; "
        f"{seconds:.0f} s in all. Command: `{command_line(__file__)}`.",
        "",
        "No installed peer implements IDA (R's pcalg, the reference implementation, is not available here; causal-learn, "
        "dowhy, pgmpy, tigramite and gcastle have none), so `estimators.ida` is checked against the class itself: every "
        "DAG of the CPDAG's class is enumerated (`scm.dags_in_class`) and in each the total effect is computed from the "
        "population covariance independently of IDA (the DAG's weights by regressing each node on its parents there, "
        "then the path sum `(I - B)^-1`). Random linear-Gaussian SCMs: `random_dag` (Erdős–Rényi) with "
        f"`random_scm(kind='linear')`, sizes {ARGS.sizes}, expected degrees {ARGS.degrees}, seed {ARGS.seed}; "
        f"{ARGS.graphs} graphs, {ARGS.pairs} (x, y) pairs each (x drawn among the nodes with an undirected edge 4 times "
        "in 5).",
        "",
        f"**Population covariance** (`covariance=model.interventional_cov(), n_obs='population'`), {n_pairs} pairs, "
        f"{open_pairs} of them with more than one possible effect:",
        "",
        "| check | pairs where it holds | largest deviation |",
        "|---|---|---|",
        f"| global IDA's multiset = the per-DAG effects (with multiplicities) | {int((p1['err_global'] < 1e-10).sum())} / "
        f"{n_pairs} | {p1['err_global'].max():.1e} |",
        f"| local IDA's distinct values = the per-DAG distinct values | "
        f"{int(((p1['err_distinct'] < 1e-10) & p1['same_count']).sum())} / {n_pairs} | {p1['err_distinct'].max():.1e} |",
        f"| local IDA's rows = the distinct parent sets of x over the class | {int(p1['rows_are_parent_sets'].sum())} / "
        f"{n_pairs} | |",
        f"| optimal IDA = local IDA, row by row | {int((p1['err_optimal'] < 1e-10).sum())} / {n_pairs} | "
        f"{p1['err_optimal'].max():.1e} |",
        f"| the true effect (path sum of the true weights) is among local IDA's values | {int(p1['truth_in'].sum())} / "
        f"{n_pairs} | |",
        "",
        "Multiplicities: local IDA has one row per parent set, global IDA one per DAG; their distinct values agree, their "
        "counts do not (as Maathuis et al. 2009 state). Sizes of the classes and of local IDA's answer, and the median "
        "time of one call (population covariance; global includes the enumeration):",
        "",
        "| d | pairs | DAGs in the class (median, max) | local IDA rows (median, max) | local IDA | global IDA |",
        "|---|---|---|---|---|---|",
    ]
    for d, r in by_d.iterrows():
        lines.append(f"| {d} | {int(r['pairs'])} | {r['dags_median']:g}, {r['dags_max']:g} | {r['rows_median']:g}, "
                     f"{r['rows_max']:g} | {r['t_local'] * 1e3:.1f} ms | {r['t_global'] * 1e3:.1f} ms |")  # fmt: skip
    cases = p2["case"].nunique()
    lines += [
        "",
        f"**Finite samples**: {cases} of the (graph, pair) cases above with a non-zero possible effect, n rows drawn "
        "from the model; the error of a "
        "case is the largest |estimate - population value| over its rows (the same parent sets in the same order). "
        "The error shrinks as 1/sqrt(n) (the scaled median stays put) and the 95% t intervals cover the population "
        "values at their nominal rate (rows with an exact 0 and no interval, where the outcome is a parent or, for "
        "optimal IDA, where no DAG with those parents has a causal path, are left out of the coverage; the RMSE is over "
        "every row of every case, the same rows for both methods):",
        "",
        "| n | method | median error | largest error | median error x sqrt(n) | coverage of the 95% intervals | RMSE |",
        "|---|---|---|---|---|---|---|",
    ]
    for (n, method), grp in p2.groupby(["n", "method"], sort=True):
        sq = np.concatenate([np.asarray(v, float) for v in grp["sq_err"]])
        cov = np.concatenate([np.asarray(v, bool) for v in grp["covered"]])
        lines.append(f"| {n:,} | {method} | {grp['max_err'].median():.2e} | {grp['max_err'].max():.2e} | "
                     f"{grp['max_err'].median() * np.sqrt(n):.2f} | {cov.mean():.3f} ({cov.size} rows) | "
                     f"{np.sqrt(sq.mean()):.2e} |")  # fmt: skip
    rmse = {key: np.sqrt(np.concatenate([np.asarray(v, float) for v in grp["sq_err"]]).mean())
            for key, grp in p2.groupby(["n", "method"])}
    ratios = ", ".join(f"{rmse[(n, 'optimal')] / rmse[(n, 'local')]:.2f} at n = {n:,}" for n in sorted(p2["n"].unique()))
    lines += [
        "",
        "Optimal IDA adjusts each estimate for the O-set of the DAGs with that parent set instead of the parent set "
        f"(the valid set of smallest asymptotic variance, Witte et al. 2020): RMSE optimal / local {ratios}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    info = machine_description()
    start = time.perf_counter()
    rng = np.random.default_rng(ARGS.seed)
    cases = draw_cases(rng)
    p1 = part1(cases)
    p2 = part2(cases, rng)
    text = render(p1, p2, info, time.perf_counter() - start)
    print(text)
    if ARGS.docs:
        replace_markdown_section(ARGS.docs, SECTION, text)
    exact = (p1["err_global"] < 1e-10) & (p1["err_distinct"] < 1e-10) & p1["rows_are_parent_sets"] & (p1["err_optimal"] < 1e-10)
    return 0 if bool((exact & p1["truth_in"]).all()) else 1


if __name__ == "__main__":
    sys.exit(main())
