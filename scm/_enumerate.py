"""The DAGs in a Markov equivalence class."""

from __future__ import annotations

import networkx as nx

from ._cpdag import _meek_rules, v_structures
from ._exceptions import GraphError
from ._graph import PDAG, check_directed_acyclic, check_graph_input
from ._validation import check_in_range

__all__ = ["dags_in_class"]


def dags_in_class(pdag: PDAG, *, limit: int | None = 10_000) -> list:
    """Every DAG represented by a CPDAG (or a PDAG closed under Meek's rules).

    Recursively orients one undirected edge both ways, closes under Meek's rules
    and keeps the fully directed, acyclic results with the v-structures of the
    input.

    Parameters
    ----------
    pdag : PDAG
    limit : int >= 1 or None
        Stop with an error past this many DAGs (None: no limit).

    Returns
    -------
    list of networkx.DiGraph

    Raises
    ------
    GraphError
        ``pdag`` is not a PDAG, has bidirected edges, or its class has more than ``limit`` DAGs.
    CycleError
        The directed edges of ``pdag`` close a directed cycle (named).
    ParameterError
        ``limit`` is neither an int >= 1 nor None.

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import cpdag
    >>> len(dags_in_class(cpdag(nx.DiGraph([("A", "B"), ("B", "C")]))))
    3
    """
    check_graph_input(pdag, (PDAG,), what="a PDAG (a CPDAG)", name="pdag", owner="dags_in_class",
                      hint=" (for a DAG's class: dags_in_class(scm.cpdag(dag)))")
    if limit is not None:
        limit = int(check_in_range(limit, name="limit", low=1, inclusive="left", integer=True, owner="dags_in_class"))
    if pdag.bidirected_edges:
        raise GraphError("dags_in_class needs a PDAG without bidirected edges")
    pos = {n: i for i, n in enumerate(pdag.nodes)}
    check_directed_acyclic(pdag, name="pdag")
    start = _meek_rules(pdag)

    target = {(a, c, b) for a, c, b in _directed_vstructs(start)}
    out: list = []
    seen = set()

    def rec(g: PDAG):
        d = nx.DiGraph()
        d.add_nodes_from(g.nodes)
        d.add_edges_from(g.directed_edges)
        if not nx.is_directed_acyclic_graph(d):
            return
        if not g.undirected_edges:
            if v_structures(d) == target and g not in seen:
                seen.add(g)
                out.append(d)
                if limit is not None and len(out) > limit:
                    raise GraphError(f"the class has more than {limit} DAGs; raise 'limit' or pass limit=None")
            return
        e = min(g.undirected_edges, key=lambda e: sorted(pos[x] for x in e))
        a, b = sorted(e, key=pos.__getitem__)
        for u, v in ((a, b), (b, a)):
            rec(_meek_rules(g.orient(u, v)))  # may close a cycle: rec drops those

    rec(start)
    return out


def _directed_vstructs(g: PDAG) -> set:
    """Unshielded colliders formed by the directed edges of a PDAG."""
    out = set()
    pos = {n: i for i, n in enumerate(g.nodes)}
    for c in g.nodes:
        pa = sorted(g.parents(c), key=pos.__getitem__)
        for i, a in enumerate(pa):
            for b in pa[i + 1:]:
                if not g.adjacent(a, b):
                    out.add((a, c, b))
    return out
