"""Effect identification and estimation: scmkit ``estimators`` vs DoWhy, in one script.

Two parts, both libraries on the same graphs and the same data.

1. **Identification.** For bnlearn networks (alarm 37 nodes, hepar2 70, win95pts 76,
   andes 223) and Erdős–Rényi DAGs with 50, 100 and 150 nodes (expected degree 3),
   several treatment/outcome pairs with the outcome a descendant of the treatment and
   a non-empty minimal adjustment set (drawn from a seeded generator): the time of
   ``estimators.adjustment_set(G, t, y, kind="minimal")`` against DoWhy's
   ``CausalModel(data, t, y, graph=G).identify_effect()`` (its default identification:
   back-door sets by enumeration, then instruments and front-door sets). Every DoWhy call
   runs in a forked child process that is killed after ``--timeout`` seconds (default
   60), reported as ">60 s". The back-door set DoWhy returns is checked with
   ``estimators.is_valid_adjustment``.
2. **Estimation.** A random linear-Gaussian SCM on ``--est-nodes`` nodes (default 30)
   and ``--rows`` rows (default 10,000); the treatment/outcome pair (outcome a
   descendant) whose naive regression slope is furthest from the true effect. Two
   treatments: the continuous linear one, and a binary one (the treatment's linear
   mechanism thresholded at its mean; the rest of the model unchanged). The truth is
   the closed form ``E[y | do(t=1)] - E[y | do(t=0)]`` of the linear model (the same for
   both, as ``do`` replaces the treatment's mechanism). Both libraries get the same
   minimal adjustment set: scmkit ``RegressionAdjustment`` (least squares), ``AIPW``
   (binary; least squares and logistic regression), ``DoubleML`` (partially linear)
   against DoWhy ``backdoor.linear_regression`` (with its analytic confidence interval)
   and ``backdoor.propensity_score_weighting`` (binary; no interval: DoWhy's is a
   bootstrap). DoWhy is given the set as ``common_causes`` and the estimand's back-door
   variables are set to it, so its identification step is not part of the timing.
3. **Listing minimal adjustment sets.** ``estimators.adjustment_sets(G, t, y,
   kind="minimal")`` (default ``limit=10000``) before and after it listed minimal sets
   directly (issue 26): the source tree of ``--listing-before`` (default ``a61be00``, which
   enumerated every valid set among the admissible ancestors and kept the minimal ones)
   exported by ``git archive``, against this tree. Cases: issue 26's reproducer (a
   150-node random DAG, ``random_dag(150, expected_degree=4, random_state=0)``, X87 → X78,
   whose one minimal set is empty); for alarm and insurance, treatment → descendant pairs
   ranked three ways, ``--listing-pairs`` from each: the most minimal sets, the most
   admissible ancestors (the old path's work grows with them, 2^k candidate sets), the
   most admissible ancestors up to 12 (where the old path finishes); two synthetic graphs, 13
   back-door paths ``X <- A_i -> B_i -> Y`` (2^13 = 8192 minimal sets, 3^13 valid ones) and
   12 confounders each below a chain of 3 ancestors (1 minimal set, 4^12 valid ones). Both
   trees run in child processes with the same code, each call best of ``--repeat``.

BLAS is pinned to one thread (``OPENBLAS_NUM_THREADS=1``, ``OMP_NUM_THREADS=1``,
``MKL_NUM_THREADS=1``, set in ``os.environ`` before numpy is imported) for both
libraries; ``--blas-threads default`` leaves them alone.

Run from the repository root::

    python benchmarks/bench_effects.py --docs docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import sys

from _common import (
    add_repo_to_path,
    blas_settings,
    command_line,
    machine_description,
    pin_blas_threads,
    replace_markdown_section,
    timed,
)

# ----------------------------------------------------------------------------- BLAS threads
# Must happen before numpy (or anything that imports it) is imported.
_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--pairs", type=int, default=3, help="treatment/outcome pairs per graph (default 3)")
_parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed to one DoWhy identify_effect call (default 60)")
_parser.add_argument("--graphs", default="alarm,hepar2,win95pts,andes,ER50,ER100,ER150",
                     help="comma-separated bnlearn names and ER<n> random graphs (default: all seven)")
_parser.add_argument("--degree", type=float, default=3.0, help="expected degree of the ER graphs (default 3)")
_parser.add_argument("--est-nodes", type=int, default=30, help="nodes of the estimation SCM (default 30)")
_parser.add_argument("--rows", type=int, default=10_000, help="rows of the estimation data (default 10000)")
_parser.add_argument("--replicates", type=int, default=20, help="estimation: data sets drawn for the error and coverage "
                     "over repeated samples (default 20; the first one is timed)")
_parser.add_argument("--seed", type=int, default=0, help="seed of graphs, pairs, models, data and estimators (default 0)")
_parser.add_argument("--repeat", type=int, default=3, help="runs per timed step, the fastest reported (default 3); "
                     "DoWhy's identify_effect runs once")
_parser.add_argument("--blas-threads", default="1", help="value for OPENBLAS/OMP/MKL_NUM_THREADS, or 'default' (default 1)")
_parser.add_argument("--skip-identification", action="store_true", help="skip the identification part (DoWhy comparison)")
_parser.add_argument("--skip-estimation", action="store_true", help="skip the estimation part")
_parser.add_argument("--skip-listing", action="store_true", help="skip the listing part (adjustment_sets before and after)")
_parser.add_argument("--listing-before", default="a61be00",
                     help="git revision timed as 'before' in the listing part, or 'none' (default a61be00)")
_parser.add_argument("--listing-pairs", type=int, default=2,
                     help="listing part: pairs per bnlearn network by each of the three rankings (default 2)")
_parser.add_argument("--docs", metavar="PATH", help="write the results as the section of this Markdown file (e.g. docs/benchmarks.md)")
ARGS = _parser.parse_args()
pin_blas_threads(ARGS.blas_threads)
add_repo_to_path()

import datetime  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import multiprocessing  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from dowhy import CausalModel  # noqa: E402

from estimators import AIPW, DoubleML, RegressionAdjustment, adjustment_set, is_valid_adjustment  # noqa: E402
from scm import SCM, Functional  # noqa: E402
from scm.datasets import load_bnlearn  # noqa: E402
from scm.simulate import random_dag, random_scm  # noqa: E402

SECTION = "## Effect estimation"
LOADS: list = []  # (where, 1-min, 5-min, 15-min load average)


def note_load(where: str) -> None:
    LOADS.append((where, *os.getloadavg()))


# ---------------------------------------------------------------------------------- timing
def quiet_dowhy():
    """DoWhy logs every step at INFO/WARNING and warns about unobserved nodes: silence it."""
    logging.getLogger("dowhy").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def fmt_s(t) -> str:
    if t is None:
        return "-"
    if isinstance(t, str):
        return t
    return f"{t:.2g}" if t < 0.01 else (f"{t:.3g}" if t < 100 else f"{t:.0f}")


def fmt_ratio(a, b) -> str:
    if a is None or b is None:
        return "-"
    if isinstance(b, str):  # a timeout
        return f">{float(b.strip('> s')) / a:,.0f}x"
    return f"{b / a:,.1f}x" if b / a < 100 else f"{b / a:,.0f}x"


# ------------------------------------------------------------------------- identification
def load_graph(name: str, rng: np.random.Generator):
    """The DAG and 1,000 rows sampled from a model on it (DoWhy wants a data frame)."""
    if name.upper().startswith("ER"):
        n = int(name[2:])
        g = random_dag(n, expected_degree=ARGS.degree, kind="ER", random_state=rng)
        model = random_scm(g, kind="linear", random_state=rng)
    else:
        model = load_bnlearn(name)
        g = model.graph
    return nx.DiGraph(g), model.sample(1000, random_state=rng)


def draw_pairs(g: nx.DiGraph, k: int, rng: np.random.Generator) -> list:
    """``k`` pairs (t, y), y a descendant of t, with a non-empty minimal adjustment set, spread
    over the sizes of that set: the smallest, the largest, and evenly spaced ranks between.

    Candidates: all (t, y) with y a descendant of t, or 3,000 of them drawn at random if
    there are more; ties in size are broken at random.
    """
    pairs = [(t, y) for t in sorted(g.nodes, key=str) for y in sorted(nx.descendants(g, t), key=str)]
    if len(pairs) > 3000:
        pairs = [pairs[i] for i in sorted(rng.choice(len(pairs), 3000, replace=False))]
    sized = [(len(adjustment_set(g, t, y, kind="minimal")), float(rng.random()), t, y) for t, y in pairs]
    sized = sorted(s for s in sized if s[0] > 0)
    idx = np.unique(np.round(np.linspace(0, len(sized) - 1, k)).astype(int))
    return [(sized[i][2], sized[i][3]) for i in idx]


def _dowhy_identify_child(conn, data, t, y, g):
    quiet_dowhy()
    try:
        t0 = time.perf_counter()
        model = CausalModel(data=data, treatment=t, outcome=y, graph=g)
        t1 = time.perf_counter()
        est = model.identify_effect()
        t2 = time.perf_counter()
        bd = est.get_backdoor_variables()
        conn.send({"build": t1 - t0, "identify": t2 - t1, "backdoor": None if bd is None else list(bd),
                   "frontdoor": list(est.get_frontdoor_variables() or []), "iv": list(est.get_instrumental_variables() or [])})
    except Exception as exc:  # noqa: BLE001 - reported in the table
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def dowhy_identify(data, t, y, g, timeout: float) -> dict:
    """DoWhy's default identification in a forked child, killed after ``timeout`` seconds."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_dowhy_identify_child, args=(send, data, t, y, g), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    send.close()
    out = recv.recv() if recv.poll(timeout) else None
    wall = time.perf_counter() - t0
    if out is None:
        proc.kill()
        proc.join()
        return {"timeout": True, "wall": wall}
    proc.join()
    out["timeout"] = False
    return out


def run_identification() -> list:
    rng = np.random.default_rng(ARGS.seed)
    rows = []
    for name in ARGS.graphs.split(","):
        g, data = load_graph(name, rng)
        label = f"{name} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges)"
        for t, y in draw_pairs(g, ARGS.pairs, rng):
            ours, t_ours = timed(lambda: adjustment_set(g, t, y, kind="minimal"), ARGS.repeat)
            if not is_valid_adjustment(g, t, y, ours):  # pragma: no cover - a bug in scmkit
                raise AssertionError(f"scmkit's minimal set for {t} -> {y} is not valid")
            note_load(f"{name} {t}->{y}")
            dw = dowhy_identify(data, t, y, g, ARGS.timeout)
            row = {"graph": label, "t": t, "y": y, "ours": sorted(map(str, ours)), "t_ours": t_ours, **dw}
            if not dw.get("timeout") and "error" not in dw and dw.get("backdoor") is not None:
                row["dowhy_valid"] = is_valid_adjustment(g, t, y, dw["backdoor"])
            rows.append(row)
            print(f"{label:40s} {str(t)[:14]:>14s} -> {str(y)[:14]:14s} scmkit {fmt_s(t_ours):>8s} s |Z|={len(ours):2d}   "
                  + (f"DoWhy >{ARGS.timeout:g} s (killed)" if dw.get("timeout") else
                     f"DoWhy error {dw['error']}" if "error" in dw else
                     f"DoWhy {fmt_s(dw['identify']):>8s} s (+{fmt_s(dw['build'])} s CausalModel) |Z|="
                     f"{len(dw['backdoor']) if dw['backdoor'] is not None else '-'} valid={row.get('dowhy_valid')}"),
                  flush=True)
    return rows


# ----------------------------------------------------------------------------- estimation
def estimation_problem(rng: np.random.Generator):
    """A random linear SCM and the confounded pair whose naive slope is furthest from the truth."""
    g = random_dag(ARGS.est_nodes, expected_degree=ARGS.degree, kind="ER", random_state=rng)
    model = random_scm(g, kind="linear", noise_scale=(0.5, 1.0), weight_range=(0.3, 1.0), random_state=rng)
    mean0 = model.interventional_mean()
    cov = model.interventional_cov()
    best = None
    for t in sorted(g.nodes):
        if g.in_degree(t) == 0:
            continue
        effects = model.interventional_mean({t: mean0[t] + 1.0}) - mean0  # do(t + 1) - obs mean = total effects
        for y in sorted(nx.descendants(g, t)):
            z = adjustment_set(g, t, y, kind="minimal")
            if not z or abs(effects[y]) < 0.2:
                continue
            naive = cov.loc[t, y] / cov.loc[t, t]
            bias = abs(naive - effects[y]) / np.sqrt(cov.loc[y, y])
            if best is None or bias > best[0]:
                best = (bias, t, y, sorted(z))
    _, t, y, z = best
    return g, model, t, y, z


def binary_treatment_model(model: SCM, t) -> SCM:
    """The same SCM with ``t``'s linear mechanism thresholded at t's mean: a binary, confounded treatment."""
    mech = model.mechanisms[t]
    cut = float(model.interventional_mean()[t])
    mechanisms = dict(model.mechanisms)
    mechanisms[t] = Functional(lambda P, u: (mech(P, u) > cut).astype(float), parents=mech.parents)
    return SCM(model.graph, mechanisms, model.noise)


def dowhy_estimator(data, t, y, z, method: str, ci: bool):
    """A function running DoWhy's estimator on ``data`` with the back-door set fixed to ``z``."""
    quiet_dowhy()
    model = CausalModel(data=data, treatment=t, outcome=y, common_causes=list(z))
    est = model.identify_effect()
    est.set_backdoor_variables(list(z))

    def go():
        res = model.estimate_effect(est, method_name=method, control_value=0, treatment_value=1,
                                    confidence_intervals=ci, target_units="ate")
        lo_hi = None
        if ci:
            arr = np.asarray(res.get_confidence_intervals(), dtype=float).ravel()
            lo_hi = (float(arr[0]), float(arr[1]))
        return float(res.value), lo_hi

    return go


def run_estimation() -> dict:
    rng = np.random.default_rng(ARGS.seed + 1)
    g, model, t, y, z = estimation_problem(rng)
    truth = float(model.interventional_mean({t: 1.0})[y] - model.interventional_mean({t: 0.0})[y])
    cov = model.interventional_cov()
    naive = float(cov.loc[t, y] / cov.loc[t, t])
    out = {"graph": g, "t": t, "y": y, "z": z, "truth": truth, "naive": naive, "scenarios": []}
    seed = ARGS.seed
    for kind in ("continuous", "binary"):
        note_load(f"estimation {kind}")
        m = model if kind == "continuous" else binary_treatment_model(model, t)
        if kind == "binary":  # the thresholded model by simulation, as a check that the truth is unchanged
            check = float(m.do({t: 1.0}).sample(200_000, random_state=seed)[y].mean()
                          - m.do({t: 0.0}).sample(200_000, random_state=seed)[y].mean())
            out["binary_mc_check"] = check
        ours = [("RegressionAdjustment (least squares)", "linear regression", lambda: RegressionAdjustment())]
        if kind == "binary":
            ours.append(("AIPW (least squares + logistic, 5 folds)", "propensity weighting", lambda: AIPW(random_state=seed)))
        ours.append(("DoubleML partially linear (least squares" + (" + logistic" if kind == "binary" else "") + ", 5 folds)",
                     None, lambda: DoubleML(random_state=seed)))
        theirs = {"linear regression": ("backdoor.linear_regression", True)}
        if kind == "binary":
            theirs["propensity weighting"] = ("backdoor.propensity_score_weighting", False)
        rows = [{"scmkit": label, "errs": [], "cover": [], **({"dowhy": theirs[match][0], "d_errs": [], "d_cover": []}
                                                               if match else {})} for label, match, _ in ours]
        share = None
        for rep in range(ARGS.replicates):
            data = m.sample(ARGS.rows, random_state=np.random.default_rng([seed + 2, rep]))
            share = share if share is not None else float(data[t].mean())
            runs = {k: dowhy_estimator(data, t, y, z, meth, ci) for k, (meth, ci) in theirs.items()}
            dw = {k: timed(go, ARGS.repeat if rep == 0 else 1) for k, go in runs.items()}
            for r, (_, match, make) in zip(rows, ours):
                fitted, secs = timed(lambda make=make: make().fit(data, t, y, adjustment=z), ARGS.repeat if rep == 0 else 1)
                lo, hi = map(float, fitted.conf_int_)
                r["errs"].append(fitted.effect_ - truth)
                r["cover"].append(lo <= truth <= hi)
                if rep == 0:
                    r.update({"effect": fitted.effect_, "ci": (lo, hi), "secs": secs})
                if match is not None:
                    (value, ci), dsecs = dw[match]
                    r["d_errs"].append(value - truth)
                    if ci:
                        r["d_cover"].append(ci[0] <= truth <= ci[1])
                    if rep == 0:
                        r.update({"d_effect": value, "d_ci": ci, "d_secs": dsecs})
        out["scenarios"].append((kind, share, rows))
    return out


# ------------------------------------------------------------------------------- listing
LISTING_HEADING = "### Identification: listing minimal adjustment sets"

# Run in a child process with PYTHONPATH set to the tree being timed: the same code for both trees.
_LISTING_CHILD = r"""
import json, sys, time
import networkx as nx
from estimators import adjustment_sets
spec = json.load(sys.stdin)
out = []
for case in spec["cases"]:
    g = nx.DiGraph()
    g.add_nodes_from(case["nodes"])
    g.add_edges_from(map(tuple, case["edges"]))
    best = None
    for _ in range(spec["repeat"]):
        t0 = time.perf_counter()
        try:
            res = {"sets": sorted(sorted(map(str, z)) for z in adjustment_sets(g, case["t"], case["y"], kind="minimal"))}
        except Exception as exc:
            res = {"error": f"{type(exc).__name__}: {exc}"}
        secs = time.perf_counter() - t0
        best = secs if best is None else min(best, secs)
    out.append({**res, "secs": best})
json.dump(out, sys.stdout)
"""


def admissible_ancestors(g: nx.DiGraph, t, y) -> int:
    """The number of ancestors of t and y that may be in an adjustment set (networkx only)."""
    rest = g.subgraph(set(g) - {t})
    down = set()
    for c in g.successors(t):
        down |= {c} | nx.descendants(rest, c)
    causal = down & ({y} | nx.ancestors(rest, y))
    forb = {t} | causal
    for v in causal:
        forb |= nx.descendants(g, v)
    pbd = g.copy()
    pbd.remove_edges_from([(t, c) for c in g.successors(t) if c in causal])
    return len((nx.ancestors(pbd, t) | nx.ancestors(pbd, y)) - forb - {y})


def listing_cases() -> list:
    from estimators import adjustment_sets

    cases = [("issue 26 reproducer (random DAG, 150 nodes)", random_dag(150, expected_degree=4.0, random_state=0), "X87", "X78")]
    for name in ("alarm", "insurance"):
        g = nx.DiGraph(load_bnlearn(name).graph)
        pairs = [(t, y) for t in sorted(g.nodes, key=str) for y in sorted(nx.descendants(g, t), key=str)]
        n_min = {p: len(adjustment_sets(g, *p, kind="minimal")) for p in pairs}
        n_anc = {p: admissible_ancestors(g, *p) for p in pairs}
        chosen = []
        for ranked in (sorted(pairs, key=lambda p: (-n_min[p], -n_anc[p], p)),  # the most minimal sets
                       sorted(pairs, key=lambda p: (-n_anc[p], -n_min[p], p)),  # the most candidates
                       sorted((p for p in pairs if n_anc[p] <= 12), key=lambda p: (-n_anc[p], -n_min[p], p))):
            chosen += [p for p in ranked if p not in chosen][:ARGS.listing_pairs]
        label = f"{name} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges)"
        cases += [(label, g, t, y) for t, y in chosen]
    paths = nx.DiGraph([("X", "Y")])
    for i in range(13):
        paths.add_edges_from([(f"A{i}", "X"), (f"A{i}", f"B{i}"), (f"B{i}", "Y")])
    cases.append(("13 back-door paths X <- A_i -> B_i -> Y", paths, "X", "Y"))
    ladder = nx.DiGraph([("X", "Y")])
    for i in range(12):
        ladder.add_edges_from([(f"C{i}", "X"), (f"C{i}", "Y"), ("X", f"M{i}"), (f"M{i}", f"D{i}")])
        nx.add_path(ladder, [f"A{i}_2", f"A{i}_1", f"A{i}_0", f"C{i}"])
    cases.append(("12 confounders below chains of 3 ancestors", ladder, "X", "Y"))
    return cases


def time_listing_tree(src: Path, cases: list) -> list:
    spec = {"repeat": ARGS.repeat, "cases": [{"nodes": list(g.nodes), "edges": list(g.edges), "t": t, "y": y}
                                             for _, g, t, y in cases]}
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run([sys.executable, "-c", _LISTING_CHILD], input=json.dumps(spec), capture_output=True,
                          text=True, env=env, cwd=src, check=True)
    return json.loads(proc.stdout)


def run_listing() -> dict:
    from _common import REPO

    cases = listing_cases()
    note_load("listing")
    after = time_listing_tree(REPO, cases)
    before = None
    if ARGS.listing_before.lower() != "none":
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "-C", str(REPO), "archive", ARGS.listing_before, "scm", "estimators"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            note_load("listing (before)")
            before = time_listing_tree(Path(tmp), cases)
    rows = []
    for i, (label, g, t, y) in enumerate(cases):
        a = after[i]
        if "error" in a:  # pragma: no cover - a bug in this tree
            raise AssertionError(f"adjustment_sets failed on {label}, {t} -> {y}: {a['error']}")
        row = {"graph": label, "t": t, "y": y, "anc": admissible_ancestors(g, t, y), "n": len(a["sets"]), "after": a["secs"]}
        if before is not None:
            b = before[i]
            row["before"] = b["secs"]
            row["before_error"] = b.get("error")
            if "error" not in b and b["sets"] != a["sets"]:  # pragma: no cover - a bug in one of the trees
                raise AssertionError(f"the two trees list different minimal sets on {label}, {t} -> {y}")
        rows.append(row)
        print(f"{label[:44]:44s} {str(t)[:12]:>12s} -> {str(y)[:12]:12s} |An adm|={row['anc']:3d} minimal sets {row['n']:5d}  "
              f"after {fmt_s(row['after']):>8s} s"
              + (f"  before {fmt_s(row['before']):>8s} s" + (" (error)" if row["before_error"] else "") if before else ""),
              flush=True)
    return {"rows": rows, "before": None if before is None else ARGS.listing_before}


def listing_table(res: dict) -> list:
    rev = res["before"]
    lines = [f"| graph | treatment → outcome | admissible ancestors | minimal sets | before ({rev}) s | after s | ratio |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        if rev is None:
            b, ratio = "-", "-"
        elif r["before_error"]:
            b, ratio = f"{fmt_s(r['before'])} (raised: *more than limit=10000*)", "-"
        else:
            b, ratio = fmt_s(r["before"]), fmt_ratio(r["after"], r["before"])
        lines.append(f"| {r['graph']} | {r['t']} → {r['y']} | {r['anc']} | {r['n']:,} | {b} | {fmt_s(r['after'])} | {ratio} |")
    return lines


def listing_section(info: dict, res: dict) -> str:
    rows = res["rows"]
    many = [r for r in rows if r["n"] >= 1000]
    per_set = "".join(f" {r['graph']}: {r['n']:,} sets in {fmt_s(r['after'])} s, {r['after'] / r['n'] * 1e6:.0f} µs per set."
                      for r in many)
    lines = [
        LISTING_HEADING,
        "",
        "`adjustment_sets(G, t, y, kind=\"minimal\")` with the default `limit=10000`, before and after it listed "
        "minimal sets directly (issue 26): *before* is the source tree of revision "
        f"`{res['before']}` (every valid set among the admissible ancestors enumerated by ListSep, then the minimal ones "
        "kept, so `limit` counted valid sets), *after* is ListMinSep (Takata's backtracking over the separators of "
        "the moral graph of the ancestors, polynomial delay; `limit` counts minimal sets). Both trees run the same code "
        "in child processes, best of "
        f"{ARGS.repeat} calls; both list the same sets wherever *before* finishes (checked). *Admissible ancestors*: the "
        "candidates of the old enumeration (ancestors of treatment and outcome, minus the forbidden nodes).",
        "",
        f"- **Machine:** `nproc` = {info['nproc']}, {info['cpu']}; Python {info['python']}. Run on "
        f"{datetime.date.today().isoformat()}; 1-minute load average {LOADS[-1][1]:.2f} (shared machine).",
        "",
        "```bash",
        command_line(__file__),
        "```",
        "",
        *listing_table(res),
        "",
        f"The bnlearn pairs are, per network, {ARGS.listing_pairs} treatment → descendant pairs from each of three rankings: "
        "the most minimal sets, the most admissible ancestors, the most admissible ancestors up to 12 (where *before* "
        "finishes)." + per_set,
        "",
    ]
    return "\n".join(lines)


def replace_listing_subsection(path: Path, text: str | None) -> None:
    """Put ``text`` (the listing subsection) at the end of the section, replacing an older one."""
    doc = path.read_text()
    start = doc.find(SECTION + "\n")
    if start < 0 or text is None:
        return
    end = doc.find("\n## ", start + len(SECTION))
    end = len(doc) if end < 0 else end + 1
    body = doc[start:end]
    old = body.find(LISTING_HEADING + "\n")
    if old >= 0:
        nxt = body.find("\n### ", old + len(LISTING_HEADING))
        body = body[:old] + (body[nxt + 1:] if nxt >= 0 else "")
    body = body.rstrip() + "\n\n" + text.rstrip() + "\n" + ("\n" if end < len(doc) else "")
    path.write_text(doc[:start] + body + doc[end:])


def existing_listing_subsection(path: Path) -> str | None:
    if not path.exists():
        return None
    doc = path.read_text()
    old = doc.find(LISTING_HEADING + "\n")
    if old < 0:
        return None
    ends = [i for i in (doc.find("\n### ", old + 1), doc.find("\n## ", old + 1)) if i >= 0]
    return doc[old:min(ends) + 1 if ends else len(doc)]


# ------------------------------------------------------------------------------------ docs
def ident_table(rows: list) -> list:
    lines = ["| graph | treatment → outcome | scmkit s | DoWhy s | ratio | agreement |", "|---|---|---:|---:|---:|---|"]
    for r in rows:
        if r.get("timeout"):
            dsecs, agree = f">{ARGS.timeout:g} s", f"DoWhy killed after {ARGS.timeout:g} s; scmkit \\|Z\\| = {len(r['ours'])}"
        elif "error" in r:
            dsecs, agree = None, f"DoWhy error: {r['error'][:80]}"
        else:
            dsecs = r["identify"]
            if r["backdoor"] is None:
                agree = f"DoWhy: no back-door set; scmkit \\|Z\\| = {len(r['ours'])}"
            else:
                same = sorted(map(str, r["backdoor"])) == r["ours"]
                agree = (f"\\|Z\\| {len(r['ours'])} / {len(r['backdoor'])}; DoWhy's set "
                         f"{'valid' if r['dowhy_valid'] else '**not valid**'}{', the same set' if same else ''}")
        lines.append(f"| {r['graph']} | {r['t']} → {r['y']} | {fmt_s(r['t_ours'])} | {fmt_s(dsecs)} | "
                     f"{fmt_ratio(r['t_ours'], dsecs)} | {agree} |")
    return lines


def est_table(res: dict) -> list:
    lines = ["| treatment | scmkit estimator | scmkit s | DoWhy method | DoWhy s | ratio | agreement (first data set) |",
             "|---|---|---:|---|---:|---:|---|"]
    for kind, _, rows in res["scenarios"]:
        for r in rows:
            if "dowhy" in r:
                agree = f"estimates {r['effect']:.4f} / {r['d_effect']:.4f} (differ by {abs(r['effect'] - r['d_effect']):.1e})"
                d = f"`{r['dowhy']}` | {fmt_s(r['d_secs'])} | {fmt_ratio(r['secs'], r['d_secs'])} | {agree}"
            else:
                d = f"- | - | - | estimate {r['effect']:.4f}"
            lines.append(f"| {kind} | {r['scmkit']} | {fmt_s(r['secs'])} | {d} |")
    return lines


def accuracy_table(res: dict) -> list:
    lines = ["| treatment | library: estimator | first data set: estimate [95% CI] | mean error | RMSE | "
             f"CI coverage ({ARGS.replicates} data sets) |", "|---|---|---|---:|---:|---:|"]

    def line(kind, name, v, ci, errs, cover):
        errs = np.asarray(errs)
        est = f"{v:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else " (no CI)")
        cov = f"{np.mean(cover):.0%}" if cover else "-"
        return f"| {kind} | {name} | {est} | {errs.mean():+.4f} | {np.sqrt(np.mean(errs ** 2)):.4f} | {cov} |"

    for kind, _, rows in res["scenarios"]:
        for r in rows:
            lines.append(line(kind, f"scmkit: {r['scmkit']}", r["effect"], r["ci"], r["errs"], r["cover"]))
        for r in rows:
            if "dowhy" in r:
                lines.append(line(kind, f"DoWhy: `{r['dowhy']}`", r["d_effect"], r["d_ci"], r["d_errs"], r["d_cover"]))
    return lines


def write_docs(path: Path, info: dict, ident: list | None, est: dict | None) -> None:
    blas = blas_settings(markdown=True)
    loads = [row[1] for row in LOADS]
    lines = [
        SECTION,
        "",
        f"scmkit `estimators` and DoWhy {info['dowhy']} in one script on the same graphs and data "
        "(`benchmarks/bench_effects.py`; its docstring gives every detail).",
        "",
        f"- **Machine:** `nproc` = {info['nproc']}, {info['cpu']}; Python {info['python']}, numpy {info['numpy']}, "
        f"scikit-learn {info['sklearn']}, dowhy {info['dowhy']}. Run on {datetime.date.today().isoformat()}.",
        f"- **Load:** the machine is shared with other sessions. 1-minute load average over the run: "
        f"{min(loads):.2f} to {max(loads):.2f} (mean {np.mean(loads):.2f}, sampled before each timed step; "
        f"{LOADS[0][1]:.2f}, {LOADS[0][2]:.2f}, {LOADS[0][3]:.2f} at the start) on {info['nproc']} cores, "
        "so all times are inflated, the single-threaded calls of both libraries alike.",
        f"- **Threads:** {blas}, set in `os.environ` before numpy is imported, for both libraries "
        f"(threadpoolctl: {info['blas']}).",
        f"- **Timing:** wall clock, best of {ARGS.repeat} runs, except DoWhy's `identify_effect`, run once in a forked "
        f"child process killed after {ARGS.timeout:g} s. Ratio = DoWhy time / scmkit time. Seeds from "
        f"`numpy.random.default_rng({ARGS.seed})`.",
        "",
        "```bash",
        command_line(__file__),
        "```",
        "",
    ]
    if ident:
        builds = [r["build"] for r in ident if "build" in r]
        n_to = sum(bool(r.get("timeout")) for r in ident)
        n_ok = [r for r in ident if "dowhy_valid" in r]
        lines += [
            "### Identification: one adjustment set",
            "",
            "scmkit `adjustment_set(G, t, y, kind=\"minimal\")` against DoWhy "
            "`CausalModel(data, t, y, graph=G).identify_effect()` (default method: back-door sets by enumeration, "
            "largest first and then from size 1 up, followed by the instrument and front-door searches). DoWhy's "
            "time is `identify_effect` alone; building the `CausalModel` took another "
            + (f"{min(builds):.2g} to {max(builds):.2g} s." if builds else "(not measured).")
            + f" Pairs: {ARGS.pairs} per graph, the outcome a descendant of the treatment, drawn among those whose "
            "minimal adjustment set is not empty (the others are trivial for both). *Agreement*: the sizes of "
            "scmkit's minimal set and of DoWhy's default back-door set, and whether DoWhy's set passes "
            "`estimators.is_valid_adjustment`; scmkit's own set is checked the same way.",
            "",
            *ident_table(ident),
            "",
            f"DoWhy was killed after {ARGS.timeout:g} s in {n_to} of {len(ident)} calls; "
            f"every back-door set it returned was {'valid' if all(r['dowhy_valid'] for r in n_ok) else '**not always valid**'} "
            f"({len(n_ok)} sets). Its default searches enumerate subsets of candidate variables, exponential in their number "
            "(DoWhy issue #1818 reports seconds to hours for graphs of this size); scmkit's minimal set comes from "
            "FindMinSep (van der Zander, Liśkiewicz and Textor 2019): reachability searches in the moral graph of "
            "the ancestors, linear in the size of the graph.",
            "",
        ]
    if est:
        g = est["graph"]
        binary_share = [s for k, s, _ in est["scenarios"] if k == "binary"]
        lines += [
            "### Estimation: one average effect",
            "",
            f"A random linear-Gaussian SCM on {g.number_of_nodes()} nodes (Erdős–Rényi, expected degree {ARGS.degree:g}, "
            f"{g.number_of_edges()} edges; weights ±[0.3, 1], noise sd in [0.5, 1]), {ARGS.rows:,} rows. Treatment "
            f"{est['t']}, outcome {est['y']} (the pair whose naive slope is furthest from the truth: "
            f"{est['naive']:.4f} against {est['truth']:.4f}); both libraries adjust for the same minimal set "
            f"{{{', '.join(map(str, est['z']))}}}. True effect E[y | do(t=1)] - E[y | do(t=0)] = "
            f"**{est['truth']:.4f}** from the closed form of the linear model. The binary treatment is the "
            "treatment's linear mechanism thresholded at its mean"
            + (f" ({binary_share[0]:.0%} treated)" if binary_share else "")
            + "; `do` replaces that mechanism, so the truth is the same"
            + (f" (a Monte-Carlo check with 200,000 draws per arm gives {est['binary_mc_check']:.4f})."
               if "binary_mc_check" in est else ".")
            + " scmkit's times include its interval (influence function); DoWhy's linear regression includes its "
            "analytic interval, its propensity weighting has none (a bootstrap would cost 100 more fits).",
            "",
            *est_table(est),
            "",
            f"Accuracy against the true effect {est['truth']:.4f}, over {ARGS.replicates} data sets of {ARGS.rows:,} rows "
            "drawn from the same model (the first is the timed one). Coverage: the share of the 95% intervals that "
            "contain the truth.",
            "",
            *accuracy_table(est),
            "",
        ]
    replace_markdown_section(path, SECTION, "\n".join(lines).rstrip() + "\n")


# ------------------------------------------------------------------------------------ main
def main() -> int:
    quiet_dowhy()
    info = machine_description(("sklearn", "dowhy"))
    note_load("start")
    print(f"load average at start: {LOADS[0][1]:.2f}, {LOADS[0][2]:.2f}, {LOADS[0][3]:.2f}; "
          f"{info['nproc']} cores; dowhy {info['dowhy']}; BLAS {info['blas']}", flush=True)
    ident = None if ARGS.skip_identification else run_identification()
    est = None if ARGS.skip_estimation else run_estimation()
    listing = None if ARGS.skip_listing else run_listing()
    note_load("end")
    if ident:
        print("\n" + "\n".join(ident_table(ident)))
    if est:
        print(f"\nestimation: {est['t']} -> {est['y']}, adjustment {est['z']}, truth {est['truth']:.4f}, "
              f"naive slope {est['naive']:.4f}")
        print("\n" + "\n".join(est_table(est)))
        print("\n" + "\n".join(accuracy_table(est)))
    loads = [row[1] for row in LOADS]
    print(f"\n1-minute load average during the run: {min(loads):.2f} to {max(loads):.2f} (mean {np.mean(loads):.2f})")
    if listing:
        print("\n" + "\n".join(listing_table(listing)))
    if ARGS.docs:
        path = Path(ARGS.docs)
        kept = existing_listing_subsection(path)
        if ident or est:  # the whole section is rewritten; a listing subsection not rerun is kept
            write_docs(path, info, ident, est)
        replace_listing_subsection(path, listing_section(info, listing) if listing else kept)
        print(f"wrote section {SECTION!r} of {ARGS.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
