"""The bundled default comparison behind ``scmkit compare``.

Runs every applicable algorithm on the real Sachs data and on simulated data
with known truth, scores each result against the truth and writes a small
report (``results.csv`` and ``index.html``).
"""

from __future__ import annotations

import html
import logging
import pathlib
import time

import pandas as pd

from ._metrics import all_metrics

__all__ = ["default_datasets", "default_algorithms", "run_default_suite"]

logger = logging.getLogger(__name__)


def default_datasets(seed: int = 0) -> dict:
    """name -> ``scm.Dataset`` of the default suite."""
    from scm import datasets, simulate

    return {
        "sachs": datasets.load_sachs("observational"),
        "sachs-regimes": datasets.load_sachs("interventional"),
        "linear-er10": simulate.simulate(n_nodes=10, n_samples=1000, expected_degree=2, scm_kind="linear", random_state=seed),
        "multi-env-er8": simulate.multi_environment(
            simulate.random_dag(8, 2, random_state=seed), n_environments=4, n_samples=300, changing=3, random_state=seed
        ),
    }


def default_algorithms() -> dict:
    """name -> (factory, applicable dataset kinds, fit keyword builder)."""
    from . import CDNOD, PC

    def plain(ds):
        return (ds.X,), {}

    def with_context(ds):
        return (ds.data,), {"context": ds.environment}

    return {
        "pc-fisherz": (lambda seed: PC(ci_test="fisherz"), {"observational", "multi_environment"}, plain),
        "cdnod-fisherz": (lambda seed: CDNOD(ci_test="fisherz"), {"multi_environment"}, with_context),
    }


def _truth_over(ds, est_graph):
    """The true graph restricted/extended to the estimate's nodes (context nodes get their true edges)."""
    import networkx as nx

    from scm import PDAG

    truth = ds.graph
    if not isinstance(truth, nx.DiGraph):
        return truth
    g = truth.copy()
    for node in est_graph.nodes:
        if node not in g:
            g.add_node(node)
            g.add_edges_from((node, c) for c in ds.changed_nodes)
    return PDAG.from_networkx(g)


def run_default_suite(algorithms=None, datasets=None, seeds=(0,), output="scmkit-report") -> pd.DataFrame:
    """Run the default comparison and write the report; returns the tidy results table."""
    from scm._exceptions import ParameterError

    algos = default_algorithms()
    unknown = [a for a in (algorithms or []) if a not in algos]
    if unknown:
        raise ParameterError(f"unknown algorithm(s) {unknown}; known: {sorted(algos)}")
    rows = []
    for seed in seeds:
        dsets = default_datasets(seed)
        bad = [d for d in (datasets or []) if d not in dsets]
        if bad:
            raise ParameterError(f"unknown dataset(s) {bad}; known: {sorted(dsets)}")
        for dname, ds in dsets.items():
            if datasets and dname not in datasets:
                continue
            for aname, (factory, kinds, fit_args) in algos.items():
                if (algorithms and aname not in algorithms) or ds.kind not in kinds:
                    continue
                args, kwargs = fit_args(ds)
                t0 = time.perf_counter()
                est = factory(seed).fit(*args, **kwargs)
                secs = time.perf_counter() - t0
                truth = _truth_over(ds, est.graph_)
                scores = all_metrics(truth, est.graph_, compare="cpdag")
                rows.append({"algorithm": aname, "dataset": dname, "seed": seed, **scores, "fit_seconds": secs})
                logger.info("%s on %s (seed %d): SHD %.0f in %.2f s", aname, dname, seed, scores["shd"], secs)
    table = pd.DataFrame(rows)
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "results.csv", index=False)
    (out / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>scmkit compare</title></head><body>"
        "<h1>scmkit compare</h1><p>Scores against the known graphs (CPDAG of the truth for constraint-based "
        "methods).</p>" + table.to_html(index=False, float_format=lambda v: f"{v:.3g}", escape=True)
        + f"<p>{html.escape(pd.Timestamp.now().isoformat(timespec='seconds'))}</p></body></html>"
    )
    return table
