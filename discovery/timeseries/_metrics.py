"""Metrics between lagged time-series graphs: SHD and precision / recall / F1 of links and arrowheads."""

from __future__ import annotations

from scm import LaggedGraph
from scm._exceptions import GraphError

from .._utils import prf

__all__ = ["lagged_metrics"]


def _lagged_marks(g: LaggedGraph) -> dict:
    """link -> mark: lagged links keyed (source, target, lag); contemporaneous pairs by frozenset."""
    marks = {}
    for s, t, lag, kind in g.edges():
        if lag > 0:
            marks[(s, t, lag)] = "->"
        elif kind == "directed":
            marks[frozenset((s, t))] = ("->", s, t)
        else:
            marks[frozenset((s, t))] = (kind,)
    return marks


def lagged_metrics(true: LaggedGraph, est: LaggedGraph) -> dict:
    """SHD and precision/recall/F1 of links and arrowheads between two lagged graphs.

    A link is a lagged ``(source, target, lag)`` or a contemporaneous pair. SHD
    counts links present in one graph only plus contemporaneous pairs whose marks
    differ; the skeleton scores are over links; arrowheads over lagged links and
    oriented contemporaneous edges. Compare the estimate with ``true.cpdag()`` for
    constraint-based methods (:func:`compare` does).

    Examples
    --------
    >>> t = LaggedGraph(["X", "Y"], directed=[("X", "Y", 1), ("X", "Y", 0)])
    >>> e = LaggedGraph(["X", "Y"], directed=[("X", "Y", 1)], undirected=[("X", "Y")])
    >>> lagged_metrics(t, e)["shd"]
    1.0
    """
    for name, graph in (("true", true), ("est", est)):
        if not isinstance(graph, LaggedGraph):
            raise GraphError(f"lagged_metrics compares LaggedGraphs; {name} is a {type(graph).__name__}")
    if set(true.nodes) != set(est.nodes):
        raise GraphError(f"the lagged graphs have different nodes: {sorted(map(str, set(true.nodes) ^ set(est.nodes)))[:10]}")
    tm, em = _lagged_marks(true), _lagged_marks(est)
    shared = tm.keys() & em.keys()
    shd = len(tm.keys() ^ em.keys()) + sum(tm[k] != em[k] for k in shared)
    out = {"shd": float(shd)}
    out.update({f"skeleton_{k}": v for k, v in prf(len(shared), len(em) - len(shared), len(tm) - len(shared)).items()})

    def heads(marks):
        return {(k, m) for k, m in marks.items() if m == "->" or m[0] == "->"}

    th, eh = heads(tm), heads(em)
    out.update({f"arrowhead_{k}": v for k, v in prf(len(th & eh), len(eh - th), len(th - eh)).items()})
    out["n_edges"] = len(em)
    return out
