"""Metrics that compare an estimated graph with the truth.

Graphs may be DAGs (:class:`networkx.DiGraph`), partially directed graphs
(:class:`scm.PDAG`) or, for the ranking metrics, a DataFrame of edge
probabilities ``P.loc[i, j] = P(i -> j)``. Nodes are matched by name.
"""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from scm import PDAG
from scm._exceptions import DataError, GraphError, ParameterError
from scm._validation import check_in_range, check_option

from .._utils import prf
from ._graphs import _aligned, _check_same_nodes, _pair_marks, as_pdag
from ._sid import sid_bounds

logger = logging.getLogger(__name__)

__all__ = [
    "shd",
    "skeleton_scores",
    "arrowhead_scores",
    "average_precision",
    "auroc",
    "as_pdag",
    "all_metrics",
]


def shd(true, est, *, reversed_cost: float = 1.0) -> float:
    """Structural Hamming distance: the number of node pairs whose edges differ.

    A missing or an extra edge costs 1; an edge present in both with a different
    mark (reversed, or directed in one and undirected in the other) costs
    ``reversed_cost`` (1 by default, as in most papers; cdt uses 2 for reversals).
    Compare CPDAGs with CPDAGs and DAGs with DAGs.

    Examples
    --------
    >>> import networkx as nx
    >>> shd(nx.DiGraph([("A", "B"), ("B", "C")]), nx.DiGraph([("B", "A"), ("A", "C"), ("B", "C")]))
    2.0
    """
    reversed_cost = check_in_range(reversed_cost, name="reversed_cost", low=0.0, inclusive="left", owner="shd")
    t, e = _aligned(true, est)
    mt, me = _pair_marks(t), _pair_marks(e)
    out = 0.0
    for pair in set(mt) | set(me):
        if pair not in mt or pair not in me:
            out += 1
        elif mt[pair] != me[pair]:
            out += reversed_cost
    return out


def skeleton_scores(true, est) -> dict:
    """Precision, recall and F1 of the adjacencies (edge marks ignored).

    Examples
    --------
    >>> import networkx as nx
    >>> skeleton_scores(nx.DiGraph([("A", "B"), ("C", "B")]), nx.DiGraph([("B", "A"), ("A", "C")]))
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5}
    """
    t, e = _aligned(true, est)
    st, se = set(_pair_marks(t)), set(_pair_marks(e))
    return prf(len(st & se), len(se - st), len(st - se))


def _arrowheads(g: PDAG) -> set:
    heads = set(g.directed_edges)
    for e in g.bidirected_edges:
        a, b = tuple(e)
        heads |= {(a, b), (b, a)}
    return heads


def arrowhead_scores(true, est) -> dict:
    """Precision, recall and F1 of arrowheads (``a -> b`` puts a head at ``b``).

    Parameters
    ----------
    true, est : networkx.DiGraph, scm.PDAG or adjacency DataFrame
        On the same nodes; undirected edges carry no arrowhead.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (0 where undefined).

    Examples
    --------
    >>> import networkx as nx
    >>> arrowhead_scores(nx.DiGraph([("A", "B"), ("B", "C")]), nx.DiGraph([("A", "B"), ("C", "B")]))
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5}
    """
    t, e = _aligned(true, est)
    ht, he = _arrowheads(t), _arrowheads(e)
    return prf(len(ht & he), len(he - ht), len(ht - he))


def _frame_scores(frame: pd.DataFrame, nodes: list) -> np.ndarray:
    """``frame.loc[i, j]`` as a float matrix over ``nodes``, rows and columns matched by label."""
    for axis, labels in (("index", frame.index), ("columns", frame.columns)):
        if labels.has_duplicates:
            raise GraphError(f"edge probabilities: the {axis} has duplicated labels {sorted(map(str, labels[labels.duplicated()]))[:10]}")
        missing, extra = set(nodes) - set(labels), set(labels) - set(nodes)
        if missing or extra:
            raise GraphError(
                f"edge probabilities must be a square DataFrame over the true graph's nodes; its {axis} "
                f"misses {sorted(map(str, missing))[:10]} and has extra labels {sorted(map(str, extra))[:10]}"
            )
    frame = frame.loc[nodes, nodes]
    try:
        p = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise DataError(f"edge probabilities must be numbers: {err}") from None
    bad = ~np.isfinite(p) & ~np.eye(len(nodes), dtype=bool)  # the diagonal is never read
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise DataError(f"edge probabilities hold NaN or inf (first at [{nodes[i]!r}, {nodes[j]!r}]: {p[i, j]})")
    return p


def _prob_matrix(edge_probs, nodes):
    if isinstance(edge_probs, pd.DataFrame):
        return _frame_scores(edge_probs, nodes)
    if isinstance(edge_probs, (nx.DiGraph, PDAG)):
        g = as_pdag(edge_probs)
        _check_same_nodes(nodes, g.nodes)
        pos = {n: k for k, n in enumerate(nodes)}
        p = np.zeros((len(nodes), len(nodes)))
        for u, v in g.directed_edges:
            p[pos[u], pos[v]] = 1.0
        for es in (g.undirected_edges, g.bidirected_edges):
            for ed in es:
                a, b = tuple(ed)
                p[pos[a], pos[b]] = p[pos[b], pos[a]] = 0.5
        return p
    raise GraphError(
        "edge probabilities must be a DataFrame P.loc[i, j] = P(i -> j) (or a DiGraph or PDAG); "
        f"got {type(edge_probs).__name__}"
    )


def _ranking_inputs(true, edge_probs, kind):
    check_option(kind, ("directed", "skeleton"), name="kind")
    t = as_pdag(true)
    nodes = list(t.nodes)
    p = _prob_matrix(edge_probs, nodes)
    a = t.to_adjacency() == 1
    if kind == "directed":
        mask = ~np.eye(len(nodes), dtype=bool)
        return a[mask].astype(int), p[mask]
    iu = np.triu_indices(len(nodes), 1)
    return (a | a.T)[iu].astype(int), np.maximum(p, p.T)[iu]


def average_precision(true, edge_probs, *, kind: str = "directed") -> float:
    """Average precision (area under the precision-recall curve) of edge scores.

    ``kind="directed"`` ranks ordered pairs ``i -> j``; ``"skeleton"`` ranks
    unordered pairs by ``max(P[i, j], P[j, i])``.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> P = pd.DataFrame([[0, 0.9, 0.2], [0.1, 0, 0.3], [0, 0, 0]], index=list("ABC"), columns=list("ABC"))
    >>> truth = nx.DiGraph([("A", "B"), ("B", "C")])
    >>> round(average_precision(truth, P), 3)
    1.0
    """
    y, s = _ranking_inputs(true, edge_probs, kind)
    if y.sum() == 0:
        raise ParameterError("the true graph has no edges: average precision is undefined")
    return float(average_precision_score(y, s))


def auroc(true, edge_probs, *, kind: str = "directed") -> float:
    """Area under the ROC curve of edge scores (see :func:`average_precision`).

    Parameters
    ----------
    true : networkx.DiGraph, scm.PDAG or adjacency DataFrame
    edge_probs : DataFrame
        ``P.loc[i, j]``: the score of ``i -> j``, over the true graph's nodes.
    kind : {"directed", "skeleton"}, default "directed"
        As in :func:`average_precision`.

    Returns
    -------
    float

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> P = pd.DataFrame([[0, 0.9, 0.2], [0.1, 0, 0.7], [0.3, 0.4, 0]], index=list("ABC"), columns=list("ABC"))
    >>> auroc(nx.DiGraph([("A", "B"), ("B", "C")]), P)
    1.0
    """
    y, s = _ranking_inputs(true, edge_probs, kind)
    if y.sum() == 0 or y.sum() == y.size:
        raise ParameterError("AUROC needs both edges and non-edges in the true graph")
    return float(roc_auc_score(y, s))


def _sid_columns(t: PDAG, e: PDAG) -> dict:
    """``sid`` (DAG estimates) and ``sid_lower`` / ``sid_upper`` (DAG or CPDAG estimates); NaN where undefined."""
    out = {"sid": np.nan, "sid_lower": np.nan, "sid_upper": np.nan}
    if not t.is_dag():
        return out
    try:
        low, high = sid_bounds(t, e)
    except GraphError as err:
        logger.info("SID not computed: %s", err)
        return out
    out.update(sid_lower=float(low), sid_upper=float(high))
    if e.is_dag():
        out["sid"] = float(low)
    return out


def all_metrics(true, est, *, edge_probs=None, compare: str = "auto", sid_truth=None) -> dict:
    """SHD, SID and skeleton/arrowhead precision, recall and F1 in one dict.

    ``sid`` is defined for DAG estimates; ``sid_lower`` and ``sid_upper`` are the
    range of :func:`sid_bounds` over the DAGs a CPDAG estimate represents (both
    equal ``sid`` for a DAG). All three are NaN when the true graph is not a DAG.

    Parameters
    ----------
    true, est : networkx.DiGraph, scm.PDAG or adjacency DataFrame
        The true and the estimated graph, on the same nodes.
    edge_probs : DataFrame, optional
        Edge probabilities of the estimate; adds ``average_precision``.
    compare : {"auto", "dag", "cpdag"}, default "auto"
        ``"cpdag"`` compares the CPDAG of a true DAG with the estimate (the fair
        comparison for constraint-based methods); ``"dag"`` compares as given;
        ``"auto"`` uses the CPDAG when the estimate has undirected edges.
    sid_truth : graph, optional
        The DAG the SID columns are computed against, when ``true`` is not a DAG
        (the harness scores CD-NOD against a reference PDAG but its SID against the
        true DAG with the context node); default ``true``.

    Returns
    -------
    dict
        ``shd``, ``skeleton_precision`` / ``_recall`` / ``_f1``, ``arrowhead_*``,
        ``n_edges``, ``sid``, ``sid_lower``, ``sid_upper`` (and ``average_precision``).

    Examples
    --------
    >>> import networkx as nx
    >>> m = all_metrics(nx.DiGraph([("A", "B"), ("B", "C")]), nx.DiGraph([("A", "B"), ("C", "B")]))
    >>> m["shd"], m["skeleton_f1"], m["sid"]
    (1.0, 1.0, 3.0)
    """
    from scm import cpdag

    check_option(compare, ("auto", "dag", "cpdag"), name="compare")
    t, e = as_pdag(true), as_pdag(est)
    if compare == "cpdag" or (compare == "auto" and e.undirected_edges and t.is_dag()):
        t_cmp = cpdag(t.to_networkx()) if t.is_dag() else t
    else:
        t_cmp = t
    out = {"shd": shd(t_cmp, e)}
    out.update({f"skeleton_{k}": v for k, v in skeleton_scores(t, e).items()})
    out.update({f"arrowhead_{k}": v for k, v in arrowhead_scores(t_cmp, e).items()})
    out["n_edges"] = len(e.edges())
    out.update(_sid_columns(t if sid_truth is None else as_pdag(sid_truth), e))
    if edge_probs is not None:
        out["average_precision"] = average_precision(t, edge_probs)
    return out
