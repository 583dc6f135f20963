"""Markov equivalence: the CPDAG of a DAG, Meek's rules and consistent extensions."""

from __future__ import annotations

import itertools
import warnings

import networkx as nx
import numpy as np

from ._exceptions import GraphError, OrientationWarning
from ._graph import PDAG, check_dag, check_directed_acyclic, check_graph_input

__all__ = ["cpdag", "v_structures", "meek_rules", "consistent_extension", "skeleton_pdag"]


def v_structures(dag) -> set:
    """Unshielded colliders ``(a, c, b)`` with ``a -> c <- b``, ``a`` and ``b`` not adjacent.

    Each v-structure is reported once, with ``a`` before ``b`` in node order.

    Examples
    --------
    >>> import networkx as nx
    >>> v_structures(nx.DiGraph([("A", "C"), ("B", "C")]))
    {('A', 'C', 'B')}
    """
    check_dag(dag)
    pos = {n: i for i, n in enumerate(dag.nodes)}
    out = set()
    for c in dag.nodes:
        parents = sorted(dag.predecessors(c), key=pos.__getitem__)
        for a, b in itertools.combinations(parents, 2):
            if not (dag.has_edge(a, b) or dag.has_edge(b, a)):
                out.add((a, c, b))
    return out


def skeleton_pdag(dag) -> PDAG:
    """The skeleton of a DAG (any networkx graph) as an all-undirected PDAG.

    Examples
    --------
    >>> import networkx as nx
    >>> skeleton_pdag(nx.DiGraph([("A", "B"), ("C", "B")]))
    PDAG(nodes=['A', 'B', 'C'], edges=['A - B', 'B - C'])
    """
    check_graph_input(dag, (nx.Graph,), name="dag", owner="skeleton_pdag")
    return PDAG(dag.nodes, (), dag.edges)


def cpdag(dag) -> PDAG:
    """The CPDAG (essential graph) of the Markov equivalence class of a DAG.

    The skeleton with the v-structures oriented, closed under Meek's rules
    (Meek 1995): an edge is directed iff it has the same direction in every DAG
    of the class.

    Parameters
    ----------
    dag : networkx.DiGraph

    Returns
    -------
    PDAG

    Examples
    --------
    >>> import networkx as nx
    >>> cpdag(nx.DiGraph([("A", "B"), ("B", "C")]))
    PDAG(nodes=['A', 'B', 'C'], edges=['A - B', 'B - C'])
    >>> cpdag(nx.DiGraph([("A", "C"), ("B", "C"), ("C", "D")]))
    PDAG(nodes=['A', 'C', 'B', 'D'], edges=['A -> C', 'C -> D', 'B -> C'])
    """
    check_dag(dag)
    directed = set()
    for a, c, b in v_structures(dag):
        directed |= {(a, c), (b, c)}
    undirected = [e for e in dag.edges if e not in directed]
    return _meek_rules(PDAG(dag.nodes, directed, undirected))  # a DAG's pattern: acyclic


def meek_rules(pdag: PDAG, *, rules=("R1", "R2", "R3", "R4"), avoid_cycles: bool = True, order_independent: bool = False) -> PDAG:
    """Close a PDAG under Meek's orientation rules R1-R4.

    R1: ``c -> a - b`` with ``c``, ``b`` non-adjacent gives ``a -> b``.
    R2: ``a -> c -> b`` with ``a - b`` gives ``a -> b``.
    R3: ``a - c -> b`` and ``a - d -> b``, ``c``, ``d`` non-adjacent, ``a - b`` gives ``a -> b``.
    R4: ``a - c -> d -> b`` with ``a`` adjacent to ``d``, ``c`` and ``b`` non-adjacent and
    ``a - b`` gives ``a -> b``.

    Directed edges are never reversed; bidirected edges are left alone.

    On a pattern that comes from a DAG the rules never create a directed cycle.
    On a pattern estimated from finite samples (inconsistent colliders) they can:
    with ``avoid_cycles=True`` (the default, as in causal-learn and Tetrad) an
    orientation that would close a directed cycle is skipped and the edge stays
    undirected unless another rule orients it the other way.

    By default the rules are applied one orientation at a time, to the first edge in node
    order that a rule orients (as causal-learn does); on an inconsistent pattern the result
    can then depend on the node order (two rules orienting one edge both ways, or the cycle
    check seeing different earlier orientations). ``order_independent=True`` applies them in
    rounds instead: every orientation that some rule implies in the current graph is found
    first, then all are made at once; an edge that rules orient both ways becomes
    bidirected (a conflict, as in pcalg's ``solve.confl``, Colombo and Maathuis 2014), and
    orientations of one round that together would close a directed cycle are not made (the
    edges stay undirected). On a pattern that comes from a DAG both give the same graph.

    Parameters
    ----------
    pdag : PDAG
    rules : tuple of str
        Which rules to apply (all four by default).
    avoid_cycles : bool
        Skip orientations that would close a directed cycle.
    order_independent : bool
        Apply the rules in rounds, so that the result does not depend on the node order.

    Returns
    -------
    PDAG
        A new graph; the input is unchanged.

    Raises
    ------
    GraphError
        ``pdag`` is not a PDAG, or an unknown rule.
    CycleError
        The directed edges of ``pdag`` close a directed cycle (named): the rules assume a
        pattern of some DAG.

    Examples
    --------
    >>> g = PDAG(["A", "B", "C"], directed=[("A", "B")], undirected=[("B", "C")])
    >>> meek_rules(g)
    PDAG(nodes=['A', 'B', 'C'], edges=['A -> B', 'B -> C'])

    ``A -> B - C <- D`` with ``A, C`` and ``B, D`` non-adjacent: R1 orients ``B - C`` both
    ways. One at a time the first edge end in node order wins; in rounds it is a conflict:

    >>> g = PDAG(list("ABCD"), directed=[("A", "B"), ("D", "C")], undirected=[("B", "C")])
    >>> meek_rules(g).directed_edges == {("A", "B"), ("D", "C"), ("B", "C")}
    True
    >>> meek_rules(g, order_independent=True).has_bidirected("B", "C")
    True
    """
    check_graph_input(pdag, (PDAG,), name="pdag", owner="meek_rules")
    check_directed_acyclic(pdag, name="pdag")
    return _meek_rules(pdag, rules=rules, avoid_cycles=avoid_cycles, order_independent=order_independent)


def _meek_rules(pdag: PDAG, *, rules=("R1", "R2", "R3", "R4"), avoid_cycles: bool = True, order_independent: bool = False) -> PDAG:
    """:func:`meek_rules` without the check that the directed edges are acyclic.

    For the callers whose patterns come from a DAG (:func:`cpdag`) or are built step by step
    (:func:`dags_in_class`), and for estimated patterns (PC with ``conflict`` other than
    ``"bidirected"``), where inconsistent colliders may already close a directed cycle and
    the rules still run as they always have.
    """
    unknown = set(rules) - {"R1", "R2", "R3", "R4"}
    if unknown:
        raise GraphError(f"unknown Meek rule(s) {sorted(unknown)}; expected R1, R2, R3, R4")
    if order_independent:
        return _meek_rounds(pdag, rules=rules, avoid_cycles=avoid_cycles)[0]
    g = pdag
    while True:
        hit = _first_orientation(g, set(rules), avoid_cycles)
        if hit is None:
            return g
        g = g.orient(*hit)


def _rules_orienting(g: PDAG, a, b, rules: set) -> list:
    """The rules among ``rules`` that orient the undirected edge ``a - b`` as ``a -> b`` in ``g``."""
    out = []
    if "R1" in rules and any(not g.adjacent(c, b) for c in g.parents(a)):
        out.append("R1")
    if "R2" in rules and (g.children(a) & g.parents(b)):
        out.append("R2")
    if "R3" in rules:
        cands = g.neighbors(a) & g.parents(b)
        if any(not g.adjacent(c, d) for c, d in itertools.combinations(cands, 2)):
            out.append("R3")
    if "R4" in rules:
        hit = False
        for d in g.parents(b):
            if d == a or not g.adjacent(a, d):
                continue
            if any(c not in (a, b) and g.has_undirected(a, c) and not g.adjacent(c, b) for c in g.parents(d)):
                hit = True
                break
        if hit:
            out.append("R4")
    return out


def _meek_rounds(pdag: PDAG, *, rules=("R1", "R2", "R3", "R4"), avoid_cycles: bool = True) -> tuple[PDAG, list]:
    """Meek's rules applied in rounds (order-independent), with the conflicts they met.

    See :func:`meek_rules` (``order_independent=True``), which returns the graph only. The
    graph is held as boolean adjacency matrices and every round evaluates the rules for all
    undirected edges at once (:func:`_round_claims`), so a pattern on thousands of nodes
    takes milliseconds per round.

    Returns
    -------
    graph : PDAG
    conflicts : list of tuple
        ``(a, b, kind, rules_into_a, rules_into_b)`` for every edge left unoriented or made
        bidirected by a conflict, ``a < b`` by their string names: ``kind`` is
        ``"both ways"`` (rules orient the edge both ways: it becomes ``a <-> b``) or
        ``"cycle"`` (its orientation with the others of its round would close a directed
        cycle: it stays ``a - b``); ``rules_into_x`` are the rules that put an arrowhead
        at ``x``. Sorted by names.
    """
    check_graph_input(pdag, (PDAG,), name="pdag", owner="meek_rules")
    rules = set(rules)
    unknown = rules - {"R1", "R2", "R3", "R4"}
    if unknown:
        raise GraphError(f"unknown Meek rule(s) {sorted(unknown)}; expected R1, R2, R3, R4")
    nodes = list(pdag.nodes)
    directed, undirected, bidirected = _pdag_matrices(pdag)
    frozen = np.zeros_like(undirected)  # edges settled by a conflict: left alone afterwards
    conflicts = []
    while True:
        claims = _round_claims(directed, undirected, bidirected, undirected & ~frozen, rules, avoid_cycles)
        if not claims:
            graph = _matrices_pdag(nodes, directed, undirected, bidirected)
            return graph, sorted(conflicts, key=lambda c: (str(c[0]), str(c[1])))
        both = sorted({(min(c), max(c)) for c in claims if (c[1], c[0]) in claims})
        pairs = set(both)
        single = [c for c in claims if (min(c), max(c)) not in pairs]
        new = directed.copy()
        for a, b in single:
            new[a, b] = True
        cut = []
        if avoid_cycles and single:
            dag = nx.DiGraph()
            dag.add_edges_from(zip(*(v.tolist() for v in np.nonzero(new))))
            comp = {n: i for i, scc in enumerate(nx.strongly_connected_components(dag)) if len(scc) > 1 for n in scc}
            cut = [(a, b) for a, b in single if a in comp and comp[a] == comp.get(b)]
            for a, b in cut:
                new[a, b] = False
        for a, b in single:
            if (a, b) not in cut:
                undirected[a, b] = undirected[b, a] = False
        for a, b in both:
            undirected[a, b] = undirected[b, a] = False
            bidirected[a, b] = bidirected[b, a] = True
            frozen[a, b] = frozen[b, a] = True
        directed = new
        for a, b in both:
            x, y = sorted((nodes[a], nodes[b]), key=str)
            ix, iy = (a, b) if x == nodes[a] else (b, a)
            conflicts.append((x, y, "both ways", tuple(claims[(iy, ix)]), tuple(claims[(ix, iy)])))
        for a, b in cut:
            x, y = sorted((nodes[a], nodes[b]), key=str)
            ix, iy = (a, b) if x == nodes[a] else (b, a)
            conflicts.append((x, y, "cycle", tuple(claims.get((iy, ix), ())), tuple(claims.get((ix, iy), ()))))
            frozen[a, b] = frozen[b, a] = True


def _pdag_matrices(pdag: PDAG) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean ``(d, d)`` matrices of a PDAG's edges in node order: directed ``[a, b]`` for
    ``a -> b``, undirected and bidirected (both symmetric)."""
    pos = {n: i for i, n in enumerate(pdag.nodes)}
    d = len(pos)
    directed = np.zeros((d, d), dtype=bool)
    undirected = np.zeros((d, d), dtype=bool)
    bidirected = np.zeros((d, d), dtype=bool)
    for u, v in pdag.directed_edges:
        directed[pos[u], pos[v]] = True
    for mat, edges in ((undirected, pdag.undirected_edges), (bidirected, pdag.bidirected_edges)):
        for e in edges:
            a, b = (pos[x] for x in e)
            mat[a, b] = mat[b, a] = True
    return directed, undirected, bidirected


def _matrices_pdag(nodes, directed, undirected, bidirected) -> PDAG:
    """The PDAG of :func:`_pdag_matrices`'s matrices."""

    def pairs(mat):
        return [(nodes[a], nodes[b]) for a, b in zip(*(v.tolist() for v in np.nonzero(mat)))]

    return PDAG(nodes, pairs(directed), pairs(np.triu(undirected)), pairs(np.triu(bidirected)))


def _round_claims(directed, undirected, bidirected, open_edges, rules: set, avoid_cycles: bool) -> dict:
    """One round of Meek's rules on matrices: ``(a, b) -> [rules orienting a -> b]`` for every
    undirected edge of ``open_edges`` (a symmetric part of ``undirected``) that some rule orients and (with
    ``avoid_cycles``) whose orientation does not close a directed cycle of ``directed``.

    The rules, for the edge ``a - b`` (see :func:`meek_rules`): R1, a parent of ``a`` not
    adjacent to ``b``; R2, a child of ``a`` that is a parent of ``b``; R3, two non-adjacent
    undirected neighbours of ``a`` that are parents of ``b``; R4, a parent ``d`` of ``b``
    adjacent to ``a`` with a parent ``c`` (not ``a``, ``b``) that is an undirected neighbour
    of ``a`` and not adjacent to ``b``. Evaluated for every edge at once with array
    operations; R3 and R4 only on the edges that pass their cheap necessary conditions.
    """
    ea, eb = np.nonzero(open_edges)  # both directions of every undirected edge
    if not len(ea):
        return {}
    adj = directed | directed.T | bidirected | undirected
    fired = {}
    if "R1" in rules:
        fired["R1"] = (directed[:, ea] & ~adj[:, eb]).any(axis=0)
    if "R2" in rules:
        fired["R2"] = (directed[ea, :] & directed[:, eb].T).any(axis=1)
    if "R3" in rules:
        cands = undirected[ea, :] & directed[:, eb].T
        hit = np.zeros(len(ea), dtype=bool)
        for e in np.flatnonzero(cands.sum(axis=1) >= 2).tolist():
            c = np.flatnonzero(cands[e])
            block = adj[np.ix_(c, c)] | np.eye(len(c), dtype=bool)
            hit[e] = not block.all()
        fired["R3"] = hit
    if "R4" in rules:
        mids = directed[:, eb].T & adj[ea, :]  # d: parents of b adjacent to a
        ends = undirected[ea, :] & ~adj[eb, :]  # c: undirected neighbours of a not adjacent to b
        ends[np.arange(len(ea)), eb] = False
        hit = np.zeros(len(ea), dtype=bool)
        for e in np.flatnonzero(mids.any(axis=1) & ends.any(axis=1)).tolist():
            hit[e] = bool(directed[np.ix_(np.flatnonzero(ends[e]), np.flatnonzero(mids[e]))].any())
        fired["R4"] = hit
    names = [r for r in ("R1", "R2", "R3", "R4") if r in fired]
    claims = {}
    reach: dict[int, np.ndarray] = {}
    for e in np.flatnonzero(np.any([fired[r] for r in names], axis=0)).tolist():
        a, b = int(ea[e]), int(eb[e])
        if avoid_cycles:
            if b not in reach:
                reach[b] = _descendants(directed, b)
            if reach[b][a]:
                continue
        claims[(a, b)] = [r for r in names if fired[r][e]]
    return claims


def _descendants(directed: np.ndarray, source: int) -> np.ndarray:
    """Boolean mask of the nodes reachable from ``source`` along directed edges (``source`` included)."""
    seen = np.zeros(directed.shape[0], dtype=bool)
    seen[source] = True
    frontier = np.array([source])
    while len(frontier):
        nxt = directed[frontier].any(axis=0) & ~seen
        seen |= nxt
        frontier = np.flatnonzero(nxt)
    return seen


def _closes_cycle(g: PDAG, a, b) -> bool:
    """Whether a directed path ``b -> ... -> a`` exists (so ``a -> b`` would close a cycle)."""
    stack, seen = [b], {b}
    while stack:
        n = stack.pop()
        if n == a:
            return True
        for c in g.children(n):
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return False


def _first_orientation(g: PDAG, rules: set, avoid_cycles: bool = True):
    """The first undirected edge ``(a, b)``, in node order, that a rule orients ``a -> b``."""
    pos = {n: i for i, n in enumerate(g.nodes)}
    for e in sorted(g.undirected_edges, key=lambda e: sorted(pos[x] for x in e)):
        x, y = sorted(e, key=pos.__getitem__)
        for a, b in ((x, y), (y, x)):
            if avoid_cycles and _closes_cycle(g, a, b):
                continue
            if "R1" in rules and any(not g.adjacent(c, b) for c in g.parents(a)):
                return a, b
            if "R2" in rules and (g.children(a) & g.parents(b)):
                return a, b
            if "R3" in rules:
                cands = sorted(g.neighbors(a) & g.parents(b), key=pos.__getitem__)
                if any(not g.adjacent(c, d) for c, d in itertools.combinations(cands, 2)):
                    return a, b
            if "R4" in rules:
                for d in g.parents(b):
                    if d == a or not g.adjacent(a, d):
                        continue
                    for c in g.parents(d):
                        if c not in (a, b) and g.has_undirected(a, c) and not g.adjacent(c, b):
                            return a, b
    return None


def consistent_extension(pdag: PDAG) -> nx.DiGraph:
    """A DAG in the class of ``pdag``: orient every undirected edge without
    creating a new v-structure or a cycle (Dor and Tarsi, 1992).

    The class holds other DAGs too, which orient those edges differently, and
    interventional answers can depend on the choice (a confounder in one DAG is a
    mediator in another). So whenever an undirected edge is oriented, one
    :class:`scm.OrientationWarning` per call lists the edges chosen. To answer over the
    whole class instead: :func:`scm.dags_in_class`, ``SCM.fit(graph, data,
    orientation="all")`` or :func:`estimators.ida`.

    Raises
    ------
    GraphError
        If no such DAG exists (the PDAG is not extendable), or the graph has
        bidirected edges.

    Warns
    -----
    OrientationWarning
        When at least one undirected edge was oriented (the message lists them).

    Examples
    --------
    >>> import warnings
    >>> g = PDAG(["A", "B", "C"], undirected=[("A", "B"), ("B", "C")])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     dag = consistent_extension(g)
    >>> cpdag(dag) == g
    True
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    consistent_extension oriented 2 undirected edge(s) by an arbitrary choice: B -> A, C -> B; ...
    >>> consistent_extension(PDAG(["A", "B", "C", "D"], undirected=[("A", "B"), ("B", "C"), ("C", "D"), ("D", "A")]))
    Traceback (most recent call last):
    ...
    scm._exceptions.GraphError: the PDAG admits no consistent extension: ...
    """
    check_graph_input(pdag, (PDAG,), name="pdag", owner="consistent_extension", hint=" (for a DAG, the DAG itself is its extension)")
    dag, chosen = _extension(pdag)
    if chosen:
        _warn_orientation(chosen, "consistent_extension", stacklevel=2)
    return dag


def _warn_orientation(chosen, who: str, *, stacklevel: int = 2) -> None:
    """Issue the :class:`OrientationWarning` of ``who``, which oriented the edges ``chosen`` arbitrarily."""
    shown = ", ".join(f"{u} -> {v}" for u, v in chosen[:20]) + (f", ... {len(chosen) - 20} more" if len(chosen) > 20 else "")
    warnings.warn(
        f"{who} oriented {len(chosen)} undirected edge(s) by an arbitrary choice: {shown}; other DAGs of the class "
        "orient them differently and interventional answers can depend on it (answer over the class with "
        "SCM.fit(..., orientation='all') or estimators.ida)",
        OrientationWarning,
        stacklevel=stacklevel + 1,
    )


def _extension(pdag: PDAG) -> tuple[nx.DiGraph, list]:
    """:func:`consistent_extension` without the warning: the DAG and the formerly undirected edges it
    chose, as ``(u, v)`` for ``u -> v`` in node order.

    For callers whose answer provably does not depend on the choice (a check that holds in every DAG
    of the class, such as validity of an adjustment set in an amenable CPDAG).
    """
    if pdag.bidirected_edges:
        raise GraphError("consistent_extension needs a PDAG without bidirected edges")
    dag = check_directed_acyclic(pdag, name="pdag")
    remaining = set(pdag.nodes)
    dparents = {n: set() for n in pdag.nodes}
    dchildren = {n: set() for n in pdag.nodes}
    for u, v in pdag.directed_edges:
        dparents[v].add(u)
        dchildren[u].add(v)
    nbrs = {n: set() for n in pdag.nodes}
    for e in pdag.undirected_edges:
        a, b = tuple(e)
        nbrs[a].add(b)
        nbrs[b].add(a)
    pos = {n: i for i, n in enumerate(pdag.nodes)}

    def adj(a, b):
        return b in dparents[a] or b in dchildren[a] or b in nbrs[a]

    while remaining:
        for x in sorted(remaining, key=pos.__getitem__):
            if dchildren[x]:
                continue  # a sink of the remaining graph has no directed children
            ns = nbrs[x]
            adjacent_x = ns | dparents[x]
            if all(all(adj(y, w) for w in adjacent_x if w != y) for y in ns):
                for y in ns:
                    dag.add_edge(y, x)
                    nbrs[y].discard(x)
                for p in dparents[x]:
                    dchildren[p].discard(x)
                nbrs[x] = set()
                remaining.discard(x)
                break
        else:
            raise GraphError(
                "the PDAG admits no consistent extension: every orientation of its undirected edges "
                f"creates a new v-structure or a cycle (stuck at nodes {sorted(map(str, remaining))[:10]})"
            )
    chosen = [(u, v) for u, v in dag.edges if frozenset((u, v)) in pdag.undirected_edges]
    chosen.sort(key=lambda e: (pos[e[0]], pos[e[1]]))
    return dag, chosen
