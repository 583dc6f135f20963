"""Root-cause ranking: top-1 and top-3 accuracy of every method over injected faults.

Four simulated settings (``scm.simulate.fault_dataset``: static data from a random linear SCM on
an Erdős–Rényi DAG, and a stable vector autoregression with lagged and contemporaneous links;
in each, a shifted noise or a changed mechanism of one node), and DoWhy's microservice-latency
system (``scm.datasets.microservice_faults``: one service at a time slowed by 1-3 s, the
website as the target). Each case has a normal window, a fault window, a true root cause and a
target downstream of it; every method ranks the target and its ancestors with
``estimators.rank_root_causes`` on the true graph, and, for time series, also on the graph
PCMCI+ learns from the normal window (``scmkit.learn_and_rank``; contemporaneous edges it leaves
unoriented dropped).

Run from the repository root::

    python benchmarks/bench_rootcause.py --docs docs/rootcause.md    # 100 cases per setting
    python benchmarks/bench_rootcause.py --quick                      # 10 cases per setting
"""

from __future__ import annotations

import argparse
import sys

from _common import add_repo_to_path, command_line, load_average, machine_description, pin_blas_threads, replace_markdown_section

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--cases", type=int, default=100, help="faults per setting (default 100)")
_parser.add_argument("--shapley-cases", type=int, default=30, help="of those, the first N also ranked by 'shapley' (default 30)")
_parser.add_argument("--nodes", type=int, default=8, help="variables of the simulated settings (default 8)")
_parser.add_argument("--strength", type=float, default=1.0, help="size of the injected change (default 1.0, see inject_fault)")
_parser.add_argument("--normal", type=int, default=500, help="rows of the normal window (default 500)")
_parser.add_argument("--fault", type=int, default=100, help="rows of the fault window (default 100; microservice: 10)")
_parser.add_argument("--no-learned", action="store_true", help="skip the runs on PCMCI+'s learned graphs")
_parser.add_argument("--quick", action="store_true", help="10 cases per setting, 5 with 'shapley'")
_parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
_parser.add_argument("--blas-threads", default="1", help="value for OPENBLAS/OMP/MKL_NUM_THREADS, or 'default' (default 1)")
_parser.add_argument("--docs", metavar="PATH", help="write the tables as the section of this Markdown file")
ARGS = _parser.parse_args()
if ARGS.quick:
    ARGS.cases, ARGS.shapley_cases = 10, 5
pin_blas_threads(ARGS.blas_threads)
add_repo_to_path()

import datetime  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from estimators import rank_root_causes  # noqa: E402
from scm.datasets import microservice_faults  # noqa: E402
from scm.simulate import fault_dataset  # noqa: E402
from scmkit import learn_and_rank  # noqa: E402

SECTION = "## Accuracy on injected faults"

#: (label, method, options) of every column of the table; "shapley" only on the first --shapley-cases cases.
METHODS = [
    ("attribution", "attribution", {}),
    ("shapley", "shapley", {}),
    ("distribution_change", "distribution_change", {}),
    ("rcd (fisherz)", "rcd", {"ci_test": "fisherz"}),
    ("rcd (gsquare)", "rcd", {"ci_test": "gsquare"}),
    ("rcd (no graph)", "rcd", {"ci_test": "fisherz", "graph": None}),
    ("random_walk", "random_walk", {}),
    ("zscore", "zscore", {"graph": None}),
]


def settings():
    """(setting label, graph label, list of cases)."""
    out = []
    for kind in ("static", "time_series"):
        for fault in ("shift", "mechanism"):
            cases = [fault_dataset(kind, fault, n_nodes=ARGS.nodes, n_normal=ARGS.normal, n_fault=ARGS.fault, strength=ARGS.strength,
                                   random_state=ARGS.seed + k) for k in range(ARGS.cases)]  # fmt: skip
            out.append((f"{kind}, {fault}", cases))
    out.append(("microservice (DoWhy), slow service", microservice_faults(ARGS.cases, n_normal=1000, n_fault=10,
                                                                           random_state=ARGS.seed)))  # fmt: skip
    return out


def rank(case, method, options, learned: bool):
    options = dict(options)
    graph = options.pop("graph", case.graph)
    if method == "shapley" and case.name.startswith("microservice"):
        options["n_anomalies"] = 1  # 11 players: about 3 s per attributed row
    if learned and graph is not None:
        return learn_and_rank(case.normal, case.fault, tau_max=2, method=method, target=case.target, random_state=0, **options)
    return rank_root_causes(case.normal, case.fault, graph, method=method, target=case.target, random_state=0, **options)


def run() -> pd.DataFrame:
    rows = []
    for label, cases in settings():
        graphs = ["true"] + (["PCMCI+"] if label.startswith("time_series") and not ARGS.no_learned else [])
        for graph_label in graphs:
            for name, method, options in METHODS:
                if graph_label == "PCMCI+" and "graph" in options:
                    continue  # graph-free methods: the same as with the true graph
                todo = cases[: ARGS.shapley_cases] if method == "shapley" else cases
                start = time.perf_counter()
                for case in todo:
                    try:
                        table = rank(case, method, options, graph_label == "PCMCI+")
                        r = int(table.loc[case.root_cause, "rank"]) if case.root_cause in table.index else 10**6
                        error = ""
                    except Exception as exc:  # a failed case counts as a miss, and is reported
                        r, error = 10**6, f"{type(exc).__name__}: {exc}"
                    rows.append({"setting": label, "graph": graph_label, "method": name, "case": case.name, "rank": r,
                                 "candidates": len(table) if not error else np.nan, "error": error})  # fmt: skip
                per_case = (time.perf_counter() - start) / max(1, len(todo))
                for row in rows[-len(todo) :]:
                    row["seconds"] = per_case
                print(f"{label:40s} {graph_label:7s} {name:20s} top1 {np.mean([r['rank'] == 1 for r in rows[-len(todo):]]):.2f} "
                      f"({per_case:.2f} s/case)", file=sys.stderr)  # fmt: skip
    return pd.DataFrame(rows)


def render(results: pd.DataFrame, info: dict, seconds: float, load_before: str) -> str:
    results = results.assign(top1=results["rank"] == 1, top3=results["rank"] <= 3)
    lines = [
        SECTION,
        "",
        f"Machine: {info['cpu']}, {info['nproc']} cores; python {info['python']}; OpenBLAS threads 1. "
        f"Date {datetime.date.today()}, {seconds / 60:.1f} min in all; load average before / after: {load_before} / {load_average()}.",
        f"Command: `{command_line('benchmarks/bench_rootcause.py')}`.",
        "",
        f"Simulated settings: {ARGS.nodes} variables, {ARGS.normal} normal rows, {ARGS.fault} fault rows, strength {ARGS.strength:g} "
        "(a shift of 1-2 noise standard deviations; new weights moved by at least half the strength); the target is a random "
        "descendant of the root cause, the candidates the target and its ancestors. Microservice: 1000 normal requests, 10 slow "
        "ones, a delay of 1-3 s. Each cell: top-1 / top-3 accuracy in % over the cases (in brackets when fewer cases were run); "
        "the last column the mean number of candidates, i.e. what guessing would give (top-1 = 1 / candidates).",
        "",
    ]
    names = [m[0] for m in METHODS]
    lines.append("| setting | graph | " + " | ".join(names) + " | candidates |")
    lines.append("|---|---|" + "---|" * len(names) + "---|")
    for (setting, graph), grp in results.groupby(["setting", "graph"], sort=False):
        cells = []
        for name in names:
            g = grp[grp["method"] == name]
            if g.empty:
                cells.append("=")
                continue
            text = f"{100 * g['top1'].mean():.0f} / {100 * g['top3'].mean():.0f}"
            cells.append(f"({text}, n={len(g)})" if len(g) < ARGS.cases else text)
        lines.append(f"| {setting} | {graph} | " + " | ".join(cells) + f" | {grp['candidates'].mean():.1f} |")
    timing = results.groupby("method", sort=False)["seconds"].median()
    lines += [
        "",
        "`=`: a graph-free method, the same as with the true graph. Median seconds per case: "
        + ", ".join(f"{name} {timing.get(name, float('nan')):.2f}" for name in names)
        + ".",
    ]
    errors = results[results["error"] != ""]
    if len(errors):
        lines += ["", f"{len(errors)} case(s) failed (counted as misses); the first: `{errors['error'].iloc[0][:200]}`."]
    return "\n".join(lines) + "\n"


def main() -> int:
    info = machine_description()
    load_before = load_average()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run()
    text = render(results, info, time.perf_counter() - start, load_before)
    print(text)
    if ARGS.docs:
        replace_markdown_section(ARGS.docs, SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
