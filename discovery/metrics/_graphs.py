"""Reading graphs for comparison: any accepted form -> :class:`scm.PDAG`, nodes matched by name.

Shared by the distance metrics (:mod:`._metrics`) and SID (:mod:`._sid`), so neither
imports the other's helpers.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from scm import PDAG
from scm._exceptions import DataError, GraphError

__all__ = ["as_pdag"]


def as_pdag(graph, nodes=None) -> PDAG:
    """Turn a DiGraph, a PDAG, an undirected Graph or an adjacency matrix into a PDAG.

    A DataFrame (or an array with ``nodes``) is read in the encoding of
    :meth:`scm.PDAG.to_adjacency`: 0 for no mark, 1 for a tail or line, 2 for the
    bidirected flag. Rows are matched to columns by label. Edge probabilities and
    weights are not adjacencies: threshold them first (``P > 0.5``).

    Examples
    --------
    >>> import pandas as pd
    >>> sorted(as_pdag(pd.DataFrame([[0, 1], [0, 0]], index=["A", "B"], columns=["A", "B"])).directed_edges)
    [('A', 'B')]
    """
    if isinstance(graph, PDAG):
        return graph
    if isinstance(graph, nx.Graph):
        return PDAG.from_networkx(graph)
    if isinstance(graph, pd.DataFrame):
        for axis, labels in (("index", graph.index), ("columns", graph.columns)):
            if labels.has_duplicates:
                dup = sorted(map(str, labels[labels.duplicated()]))[:10]
                raise GraphError(f"an adjacency DataFrame has duplicated labels in its {axis}: {dup}")
        if set(graph.index) != set(graph.columns):
            differ = sorted(map(str, set(graph.index) ^ set(graph.columns)))[:10]
            raise GraphError(f"an adjacency DataFrame needs the same labels on rows and columns; they differ in {differ}")
        cols = list(graph.columns)
        return PDAG.from_adjacency(_adjacency_codes(graph.loc[cols, cols].to_numpy(), cols), nodes=cols)
    if nodes is not None:
        nodes = list(nodes)
        return PDAG.from_adjacency(_adjacency_codes(np.asarray(graph), nodes), nodes=nodes)
    raise GraphError(f"cannot compare a {type(graph).__name__}; give a DiGraph, PDAG or DataFrame")


def _adjacency_codes(a: np.ndarray, nodes: list) -> np.ndarray:
    """Check that ``a`` holds the integer codes 0-3 of an adjacency (booleans count as 0/1)."""
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] != len(nodes):
        raise GraphError(f"an adjacency must be square over the {len(nodes)} nodes; got shape {a.shape}")
    try:
        if a.dtype.kind in "USMm":
            raise TypeError
        f = a.astype(float)
    except (TypeError, ValueError):
        raise DataError(f"an adjacency must hold numbers; got dtype {a.dtype}") from None
    bad = ~np.isfinite(f) | (f != np.round(f)) | (f < 0) | (f > 3)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        value = a[i, j].item() if hasattr(a[i, j], "item") else a[i, j]
        raise GraphError(
            f"an adjacency holds {value!r} at [{nodes[i]!r}, {nodes[j]!r}]; expected the codes 0-3 of "
            "PDAG.to_adjacency. Threshold edge probabilities or weights first (e.g. P > 0.5); "
            "average_precision and auroc take the probabilities themselves"
        )
    return f.astype(int)


def _pair_marks(g: PDAG) -> dict:
    """pair -> mark: 'a->b' as (a, b), undirected as 'u', bidirected as 'b'."""
    marks: dict = {}
    for u, v in g.directed_edges:
        marks.setdefault(frozenset((u, v)), set()).add(("->", u, v))
    for e in g.undirected_edges:
        marks.setdefault(e, set()).add(("-",))
    for e in g.bidirected_edges:
        marks.setdefault(e, set()).add(("<->",))
    return {k: frozenset(v) for k, v in marks.items()}


def _check_same_nodes(a, b) -> None:
    if set(a) != set(b):
        differ = sorted(map(str, set(a) ^ set(b)))
        raise GraphError(f"the graphs have different nodes: {differ[:10]}")


def _aligned(true, est):
    t, e = as_pdag(true), as_pdag(est)
    _check_same_nodes(t.nodes, e.nodes)
    return t, e
