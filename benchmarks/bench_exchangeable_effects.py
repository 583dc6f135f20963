"""Do-Finetti effects on grouped data: convergence and coverage against the closed form.

The linear-Gaussian ICM simulator (:func:`scm.simulate.grouped`, ``kind="linear"``) draws every
group's own intercepts, slopes and noise scales. The true effect of ``do(X = 1)`` vs ``do(X = 0)``
on ``Y`` *within a group* is the sum over directed paths ``X -> ... -> Y`` of the products of that
group's slopes (closed form). :func:`estimators.ExchangeableModel` learns the prior from ``n_groups``
training groups, then, for each of ``n_new`` new groups, conditions on its first ``n`` rows and gives
a posterior estimate and a 95% interval for that group's effect. Reported per ``n``: the RMSE of
the estimate against the group's true effect, the interval's coverage (nominal 0.95) and mean width.

The discrete part runs the causal Pólya urn (:func:`scm.simulate.polya_urn`): the estimate of
``P(Y = 1 | do(X = 1))`` for a new group, against the closed form ``(a + k) / (a + b + n)`` given
the urn's initial composition, and the empirical frequency of ``Y = 1`` in the next row of groups
with the same history.

Run: ``python benchmarks/bench_exchangeable_effects.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from estimators import ExchangeableModel  # noqa: E402
from scm.simulate import grouped, polya_urn  # noqa: E402


def true_group_effect(graph: nx.DiGraph, params: pd.Series, treatment, outcome) -> float:
    """Sum over directed paths treatment -> outcome of the products of the group's slopes."""
    total = 0.0
    for path in nx.all_simple_paths(graph, treatment, outcome):
        total += float(np.prod([params[(child, parent)] for parent, child in zip(path[:-1], path[1:])]))
    return total


def pick_pair(graph: nx.DiGraph):
    """A (treatment, outcome) pair with a directed path, preferring the longest shortest path."""
    pairs = [(x, y) for x in graph for y in nx.descendants(graph, x)]
    return max(pairs, key=lambda p: (nx.shortest_path_length(graph, *p), str(p)))


def linear_run(n_nodes, n_groups, train_size, n_new, new_size, ns, seed, alpha=0.05, covariance="diagonal"):
    sizes = [train_size] * n_groups + [new_size] * n_new
    ds = grouped(n_nodes=n_nodes, expected_degree=2, n_groups=n_groups + n_new, group_size=sizes, kind="linear", random_state=seed)
    graph, data, params = ds.graph, ds.data, ds.metadata["parameters"]
    x, y = pick_pair(graph)
    t0 = time.perf_counter()
    model = ExchangeableModel(mechanism="linear", covariance=covariance).fit(data[data["group"] < n_groups], graph, groups="group")
    fit_time = time.perf_counter() - t0
    rows = []
    for g in range(n_groups, n_groups + n_new):
        rows_g = data[data["group"] == g]
        tau = true_group_effect(graph, params.loc[g], x, y)
        for n in ns:
            res = model.effect(x, y, value=1.0, baseline=0.0, observed=rows_g.iloc[:n], alpha=alpha, n_draws=2000, random_state=g)
            rows.append(
                {
                    "seed": seed,
                    "n": n,
                    "error": res.estimate - tau,
                    "covered": res.conf_int[0] <= tau <= res.conf_int[1],
                    "width": res.conf_int[1] - res.conf_int[0],
                }
            )
    return pd.DataFrame(rows), fit_time, (x, y)


def urn_run(n_groups, seed):
    """Closed form vs model vs simulated frequency for P(Y_3 = 1 | do(X_3 = 1), rows 1-2) on X -> Y."""
    balls = {"X": (1.0, 1.0), "Y": [(1.0, 3.0), (3.0, 1.0)]}
    ds = polya_urn(n_groups=n_groups, group_size=3, balls=balls, do={"X": 1}, do_rows=2, random_state=seed)
    d = ds.data
    first = d.groupby("group").nth(0).set_index("group")
    second = d.groupby("group").nth(1).set_index("group")
    third = d.groupby("group").nth(2).set_index("group")
    model = ExchangeableModel(mechanism="bernoulli").fit(d, ds.graph, groups="group", prior=ds.metadata["urns"])
    learned = ExchangeableModel(mechanism="bernoulli").fit(d, ds.graph, groups="group")
    out = []
    for h in [(1, 1, 1, 1), (1, 0, 0, 0), (0, 0, 1, 1), (1, 1, 0, 1)]:
        (x1, y1, x2, y2) = h
        mask = (first["X"] == x1) & (first["Y"] == y1) & (second["X"] == x2) & (second["Y"] == y2)
        hist = pd.DataFrame({"X": [x1, x2], "Y": [y1, y2]})
        k = sum(1 for xx, yy in ((x1, y1), (x2, y2)) if xx == 1 and yy == 1)
        m = sum(1 for xx in (x1, x2) if xx == 1)
        closed = (3.0 + k) / (4.0 + m)
        res = model.effect("X", "Y", value=1, observed=hist)
        res_learned = learned.effect("X", "Y", value=1, observed=hist)
        freq = third.loc[mask, "Y"].mean()
        se = np.sqrt(freq * (1 - freq) / mask.sum())
        out.append(
            {
                "history (x1,y1,x2,y2)": h,
                "closed form": closed,
                "model (known urns)": res.estimate,
                "model (learned prior)": res_learned.estimate,
                "simulated": freq,
                "simulated se": se,
                "groups": int(mask.sum()),
            }
        )
    return pd.DataFrame(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer groups and repetitions (about 10 s)")
    args = parser.parse_args(argv)
    if args.quick:
        settings = dict(n_nodes=5, n_groups=300, train_size=3, n_new=50, new_size=100, ns=(0, 2, 5, 20, 100))
        seeds, urn_groups, covariances = range(3), 40_000, ("diagonal",)
    else:
        settings = dict(n_nodes=5, n_groups=500, train_size=3, n_new=50, new_size=200, ns=(0, 2, 5, 20, 50, 200))
        seeds, urn_groups, covariances = range(20), 200_000, ("diagonal", "full")
    print(f"load: {open('/proc/loadavg').read().split()[:3]}")
    for covariance in covariances:
        tables, fit_times = [], []
        for seed in seeds:
            table, fit_time, _ = linear_run(seed=seed, covariance=covariance, **settings)
            tables.append(table)
            fit_times.append(fit_time)
        table = pd.concat(tables)
        per_graph = table.groupby(["n", "seed"])["covered"].mean().groupby("n")
        summary = table.groupby("n").agg(
            rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))),
            coverage=("covered", "mean"),
            width=("width", "mean"),
            cases=("error", "size"),
        )
        summary["coverage per graph (min-max)"] = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(per_graph.min(), per_graph.max())]
        print(
            f"\nLinear-Gaussian ICM ({len(seeds)} random 5-node graphs, prior covariance {covariance!r}, prior fitted on "
            f"{settings['n_groups']} groups of {settings['train_size']} rows, {np.median(fit_times):.2f} s median): "
            "95% posterior interval of a new group's own effect, by rows of it observed:"
        )
        print(summary.round(3).to_string())
    print("\nCausal Pólya urn X -> Y, P(Y_3 = 1 | do(X_3 = 1), rows 1-2):")
    print(urn_run(urn_groups, 0).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
