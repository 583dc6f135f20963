"""d-separation and other DAG queries: topological order, ancestors, Markov blanket."""

from __future__ import annotations

import networkx as nx

from ._exceptions import GraphError
from ._graph import PDAG, check_dag
from ._reach import m_separated
from ._validation import check_nodes

__all__ = ["d_separated", "topological_order", "markov_blanket", "ancestors", "descendants"]


def _as_set(nodes, graph, what):
    return set(check_nodes(nodes, graph, what=what))


def d_separated(graph, x, y, z=()) -> bool:
    """Whether ``x`` and ``y`` are d-separated by ``z`` in the DAG ``graph``.

    ``x``, ``y`` and ``z`` may be single nodes or collections of nodes. The search
    is the linear-time reachability ("Bayes ball") algorithm of the package's one
    reachability engine (``scm._reach``, which also serves m-separation in ADMGs): a
    path is active if every collider on it is in ``z`` or has a descendant in ``z``, and
    no other node on it is in ``z``.

    Parameters
    ----------
    graph : networkx.DiGraph
        A DAG.
    x, y : node or collection of nodes
    z : node or collection of nodes, optional
        The conditioning set.

    Returns
    -------
    bool

    Raises
    ------
    UnknownNodeError
        If a node is not in the graph.
    GraphError
        If ``x``, ``y`` and ``z`` overlap.

    Examples
    --------
    >>> import networkx as nx
    >>> collider = nx.DiGraph([("A", "C"), ("B", "C")])
    >>> d_separated(collider, "A", "B"), d_separated(collider, "A", "B", "C")
    (True, False)
    """
    check_dag(graph)
    xs, ys, zs = _as_set(x, graph, "node"), _as_set(y, graph, "node"), _as_set(z, graph, "conditioning node")
    if (xs & ys) or (xs & zs) or (ys & zs):
        raise GraphError(f"x, y and z must be disjoint; overlap: {sorted(map(str, (xs & ys) | (xs & zs) | (ys & zs)))}")
    if not xs or not ys:
        return True
    return m_separated(graph.predecessors, graph.successors, None, xs, ys, zs)


def topological_order(graph) -> list:
    """The nodes of a DAG in a topological order (parents before children).

    Ties are broken by the graph's node order, so the result is deterministic.

    Examples
    --------
    >>> import networkx as nx
    >>> topological_order(nx.DiGraph([("B", "A"), ("C", "A")]))
    ['B', 'C', 'A']
    """
    check_dag(graph)
    pos = {n: i for i, n in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(graph, key=pos.__getitem__))


def ancestors(graph, nodes) -> set:
    """Strict ancestors of a node or set of nodes in a DiGraph."""
    out = set()
    for n in check_nodes(nodes, graph):
        out |= nx.ancestors(graph, n)
    return out


def descendants(graph, nodes) -> set:
    """Strict descendants of a node or set of nodes in a DiGraph."""
    out = set()
    for n in check_nodes(nodes, graph):
        out |= nx.descendants(graph, n)
    return out


def markov_blanket(graph, node) -> set:
    """Parents, children and the children's other parents of ``node``.

    Works on a DAG (:class:`networkx.DiGraph`) and on a :class:`PDAG`, where
    undirected neighbours are included too.

    Examples
    --------
    >>> import networkx as nx
    >>> sorted(markov_blanket(nx.DiGraph([("A", "B"), ("B", "C"), ("D", "C")]), "B"))
    ['A', 'C', 'D']
    """
    if isinstance(graph, PDAG):
        ch = graph.children(node)
        out = graph.parents(node) | ch | graph.neighbors(node)
        for c in ch:
            out |= graph.parents(c)
        out.discard(node)
        return out
    check_dag(graph)
    check_nodes([node], graph)
    out = set(graph.predecessors(node)) | set(graph.successors(node))
    for c in graph.successors(node):
        out |= set(graph.predecessors(c))
    out.discard(node)
    return out
