"""Structural intervention distance (Peters and Bühlmann, 2015), for DAG and CPDAG estimates.

The SID of an estimate ``H`` against the true DAG ``G`` counts the ordered pairs
``(i, j)`` for which adjusting for the parents of ``i`` in ``H`` gives a wrong
``p(x_j | do(x_i))`` in ``G``. A pair's verdict depends on ``H`` only through the
parent set of ``i``, so everything here is computed per *query* ``(i, Z)``: node
``i`` adjusted for the set ``Z``, against every target ``j`` at once
(:func:`_adjustment_errors`). For a CPDAG estimate the parent sets of a node range
over its chain component's orientations; :func:`sid_bounds` evaluates each distinct
query once and combines them per component.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from scm import PDAG, cpdag
from scm._exceptions import GraphError
from scm._validation import check_in_range, check_option

from ._graphs import _aligned

__all__ = ["sid", "sid_bounds"]


# --------------------------------------------------------------------------- the kernel
def _reach(adj: np.ndarray) -> np.ndarray:
    """``R[u, v]``: ``v`` is ``u`` or a descendant of ``u`` in the DAG ``adj`` (bool)."""
    d = adj.shape[0]
    reach = np.eye(d, dtype=bool)
    order = list(nx.topological_sort(nx.from_numpy_array(adj.astype(np.int8), create_using=nx.DiGraph)))
    for u in reversed(order):  # children first
        ch = np.flatnonzero(adj[u])
        if ch.size:
            reach[u] |= reach[ch].any(axis=0)
    return reach


def _d_connected_rows(af: np.ndarray, start_up, start_down, z, an_z, blocked) -> np.ndarray:
    """Bayes-ball reachability of many rows at once: which nodes each row reaches.

    Row ``r`` starts with the states ``start_up[r]`` (nodes entered from a child,
    moving against the arrows) and ``start_down[r]`` (entered from a parent), is
    blocked by ``z[r]`` (non-colliders in it stop the walk; colliders pass when in
    ``an_z[r]``, the conditioning set and its ancestors) and never enters the node
    ``blocked[r]`` (one-hot). All arguments but ``af`` (float adjacency
    ``af[u, v] = 1`` for ``u -> v``) are bool arrays of shape (rows, d).
    """
    open_ = ~blocked
    vis_up, vis_down = start_up & open_, start_down & open_
    fr_up, fr_down = vis_up, vis_down
    while fr_up.any() or fr_down.any():
        through_up = (fr_up & ~z).astype(af.dtype)  # non-collider: on to parents and children
        bounce = (fr_down & an_z).astype(af.dtype)  # open collider: back up to the parents
        onward = (fr_down & ~z).astype(af.dtype)  # chain: on to the children
        new_up = ((through_up + bounce) @ af.T > 0) & open_ & ~vis_up
        new_down = ((through_up + onward) @ af > 0) & open_ & ~vis_down
        vis_up |= new_up
        vis_down |= new_down
        fr_up, fr_down = new_up, new_down
    return vis_up | vis_down


def _adjustment_errors(adj: np.ndarray, reach: np.ndarray, treat: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``err[q, j]``: adjusting for ``z[q]`` gives a wrong ``p(x_j | do(x_treat[q]))`` in the DAG ``adj``.

    For ``j`` in ``z[q]`` the estimate claims no effect, wrong iff ``j`` is a
    descendant of ``i = treat[q]``. Otherwise ``z[q]`` must satisfy the adjustment
    criterion of Shpitser et al. (2010), complete for a single treatment: (a) no
    member of ``z[q]`` descends from a node ``w != i`` on a directed path from ``i``
    to ``j``; (b) ``z[q]`` d-separates ``i`` and ``j`` once the first edges of those
    directed paths (``i -> c`` with ``c`` an ancestor of ``j`` or ``j`` itself) are
    removed. (b) is decided for all ``j`` at once: a d-connecting walk from ``i``
    never needs to come back to ``i``, so walks are grouped by their first edge, and
    a walk that leaves by ``i -> c`` counts only for the targets ``c`` does not reach.
    """
    d = adj.shape[0]
    q = treat.size
    self_ = np.zeros((q, d), dtype=bool)
    self_[np.arange(q), treat] = True
    desc = reach[treat] & ~self_
    an_z = (z.astype(np.float32) @ reach.T.astype(np.float32)) > 0  # nodes with a descendant-or-self in z
    forbidden = desc & an_z  # w on i's directed paths with a member of z at or below it
    bad_a = ((forbidden.astype(np.float32) @ reach.astype(np.float32)) > 0) & desc

    # one Bayes-ball row for the walks leaving i through its parents, one per child
    child_q, child = np.nonzero(adj[treat])
    owner = np.concatenate([np.arange(q), child_q])
    start_up = np.concatenate([adj[:, treat].T, np.zeros((child.size, d), dtype=bool)])
    start_down = np.zeros((owner.size, d), dtype=bool)
    start_down[q + np.arange(child.size), child] = True
    reached = _d_connected_rows(adj.astype(np.float32), start_up, start_down, z[owner], an_z[owner], self_[owner])
    reached[q:] &= ~reach[child]  # leaving by i -> c is a causal first edge for what c reaches
    bad_b = np.zeros((q, d), dtype=bool)
    np.logical_or.at(bad_b, owner, reached)
    return np.where(z, desc, (bad_a | bad_b) & ~self_)


# --------------------------------------------------------------------------- checks
def _require_dag(g: PDAG, which: str, hint: str = "") -> None:
    for kind, es in (("undirected", g.undirected_edges), ("bidirected", g.bidirected_edges)):
        if es:
            a, b = sorted(map(str, next(iter(sorted(es, key=lambda e: sorted(map(str, e)))))))
            mark = "-" if kind == "undirected" else "<->"
            raise GraphError(f"sid needs the {which} graph to be a DAG; it has the {kind} edge {a} {mark} {b}{hint}")
    try:
        cycle = nx.find_cycle(g.to_networkx())
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join(str(u) for u, _ in cycle) + f" -> {cycle[0][0]}"
    raise GraphError(f"sid needs the {which} graph to be a DAG; it has the cycle {path}")


def _setup(true, est):
    t, e = _aligned(true, est)
    _require_dag(t, "true")
    nodes = list(t.nodes)
    pos = {n: k for k, n in enumerate(nodes)}
    adj = np.zeros((len(nodes), len(nodes)), dtype=bool)
    for u, v in t.directed_edges:
        adj[pos[u], pos[v]] = True
    return e, pos, adj, _reach(adj)


class _Queries:
    """Distinct ``(node, adjustment set)`` queries, evaluated in one batch."""

    def __init__(self, d: int):
        self.d = d
        self.index: dict = {}

    def add(self, i: int, parents) -> int:
        return self.index.setdefault((i, frozenset(parents)), len(self.index))

    def error_counts(self, adj, reach) -> np.ndarray:
        keys = list(self.index)
        treat = np.array([i for i, _ in keys], dtype=np.intp)
        z = np.zeros((len(keys), self.d), dtype=bool)
        for row, (_, parents) in enumerate(keys):
            z[row, list(parents)] = True
        return _adjustment_errors(adj, reach, treat, z).sum(axis=1)


# --------------------------------------------------------------------------- public
def sid(true, est) -> int:
    """Structural intervention distance (Peters and Bühlmann, 2015).

    The number of ordered pairs ``(i, j)``, ``i != j``, for which the estimated DAG,
    used to adjust for the estimated parents of ``i``, gives a wrong
    ``p(x_j | do(x_i))`` in the true DAG. If ``j`` is an estimated parent of ``i``
    the estimate says "no effect", which is right iff ``j`` is not a descendant of
    ``i``; otherwise the estimated parents must be a valid adjustment set for
    ``(i, j)`` in the true DAG. Unlike the SHD it weighs an edge by the
    interventional distributions it gets wrong, and it is not symmetric.

    Parameters
    ----------
    true, est : networkx.DiGraph, scm.PDAG or adjacency DataFrame
        Two DAGs over the same nodes, matched by name. For a CPDAG estimate use
        :func:`sid_bounds`.

    Returns
    -------
    int
        Between 0 and ``d * (d - 1)``.

    Raises
    ------
    GraphError
        If either graph is not a DAG (naming the undirected or bidirected edge or
        the cycle found), or the node sets differ.

    See Also
    --------
    sid_bounds : the range of the SID over the DAGs a CPDAG represents.

    Notes
    -----
    All targets ``j`` of a node ``i`` are decided together: one reachability pass
    over the true DAG for the adjustment criterion's forbidden nodes and one
    Bayes-ball pass per edge leaving ``i``, batched as boolean matrix products over
    all nodes. A 100-node pair takes milliseconds.

    Examples
    --------
    >>> import networkx as nx
    >>> truth = nx.DiGraph([("A", "B"), ("B", "C")])
    >>> sid(truth, truth), sid(truth, nx.DiGraph([("B", "A"), ("B", "C")]))
    (0, 3)
    """
    e, pos, adj, reach = _setup(true, est)
    _require_dag(e, "estimated", hint="; for a CPDAG estimate use sid_bounds")
    queries = _Queries(len(pos))
    for n in e.nodes:
        queries.add(pos[n], (pos[p] for p in e.parents(n)))
    return int(queries.error_counts(adj, reach).sum())


def sid_bounds(true, est, *, method: str = "exact", limit: int | None = 10_000) -> tuple[int, int]:
    """The smallest and largest SID of the DAGs a CPDAG (or a DAG) estimate represents.

    A CPDAG, as returned by PC, stands for every DAG in its Markov equivalence
    class; their SIDs against the true DAG differ. ``sid_bounds`` returns the range,
    so a CPDAG can be ranked beside DAG estimates (a DAG gives ``(sid, sid)``).

    Parameters
    ----------
    true : networkx.DiGraph, scm.PDAG or adjacency DataFrame
        The true DAG.
    est : scm.PDAG, networkx.DiGraph or adjacency DataFrame
        A DAG, a CPDAG, or a PDAG without bidirected edges (its DAGs are those of
        :func:`scm.dags_in_class`).
    method : {"exact", "local"}, default "exact"
        ``"exact"``: the minimum and maximum over the DAGs represented. For a CPDAG
        the chain components (connected components of the undirected edges) are
        oriented independently of each other (Andersson et al., 1997), so each
        component's orientations are enumerated on their own. ``"local"``: per
        node, the extremes over its possible parent sets (its directed parents and
        any clique of its undirected neighbours; Maathuis et al., 2009), summed
        over the nodes. The local sums need no enumeration of orientations but
        bracket the exact range, possibly loosely: ``local[0] <= exact[0]`` and
        ``exact[1] <= local[1]``. CPDAGs only.
    limit : int or None, default 10000
        ``"exact"``: refuse a chain component with more orientations than this;
        ``"local"``: refuse a node with more possible parent sets. None: no limit.

    Returns
    -------
    (int, int)
        ``(lower, upper)``.

    Raises
    ------
    GraphError
        If the true graph is not a DAG, the estimate has bidirected edges or
        directed cycles, represents no DAG, or (``"local"``) is not a CPDAG; or a
        component or node exceeds ``limit``.

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import cpdag
    >>> truth = nx.DiGraph([("A", "B"), ("B", "C")])
    >>> sid_bounds(truth, cpdag(truth))  # A -> B -> C: 0, A <- B -> C: 3, A <- B <- C: 6
    (0, 6)
    >>> sid_bounds(truth, truth)
    (0, 0)
    """
    check_option(method, ("exact", "local"), name="method", owner="sid_bounds")
    if limit is not None:
        limit = int(check_in_range(limit, name="limit", low=1, inclusive="left", integer=True, owner="sid_bounds"))
    e, pos, adj, reach = _setup(true, est)
    if e.bidirected_edges:
        a, b = sorted(map(str, next(iter(e.bidirected_edges))))
        raise GraphError(f"sid_bounds needs a DAG, CPDAG or PDAG estimate; it has the bidirected edge {a} <-> {b}")
    if e.is_dag():
        s = sid(true, est)
        return s, s
    directed = nx.DiGraph(list(e.directed_edges))
    if not nx.is_directed_acyclic_graph(directed):
        _require_dag(PDAG(e.nodes, directed=e.directed_edges), "estimated")  # names the cycle
    is_cpdag = _is_cpdag(e)
    if method == "local":
        if not is_cpdag:
            raise GraphError("sid_bounds(method='local') needs a CPDAG estimate; this PDAG is not the CPDAG of any DAG")
        return _local_bounds(e, pos, adj, reach, limit)
    if is_cpdag:
        return _component_bounds(e, pos, adj, reach, limit)
    from scm import dags_in_class

    members = dags_in_class(e, limit=limit)
    if not members:
        raise GraphError(
            f"the estimate represents no DAG: every orientation of its {len(e.undirected_edges)} undirected edges adds "
            "a directed cycle or a v-structure it does not have (PC's orientations can conflict like this on finite "
            "samples), so its SID is undefined"
        )
    queries = _Queries(len(pos))
    rows = [[queries.add(pos[n], (pos[p] for p in g.predecessors(n))) for n in e.nodes] for g in members]
    counts = queries.error_counts(adj, reach)
    totals = counts[np.array(rows)].sum(axis=1)
    return int(totals.min()), int(totals.max())


# --------------------------------------------------------------------------- CPDAG estimates
def _is_cpdag(e: PDAG) -> bool:
    """Whether ``e`` is the CPDAG of one of the DAGs it represents."""
    member = _one_extension(e)
    return member is not None and cpdag(member) == e


def _one_extension(e: PDAG):
    """One DAG of the class, by orienting each chain component along a perfect elimination order."""
    g = nx.DiGraph()
    g.add_nodes_from(e.nodes)
    g.add_edges_from(e.directed_edges)
    und = nx.Graph()
    und.add_nodes_from(e.nodes)
    und.add_edges_from(tuple(x) for x in e.undirected_edges)
    for comp in nx.connected_components(und):
        if len(comp) < 2:
            continue
        sub = und.subgraph(comp)
        if not nx.is_chordal(sub):
            return None
        order = _mcs_order(sub)  # maximum cardinality search: edges point from earlier to later
        rank = {n: k for k, n in enumerate(order)}
        g.add_edges_from((a, b) if rank[a] < rank[b] else (b, a) for a, b in sub.edges)
    return g if nx.is_directed_acyclic_graph(g) else None


def _mcs_order(g: nx.Graph) -> list:
    """A maximum cardinality search order: orienting along it adds no v-structure in a chordal graph."""
    weight = {n: 0 for n in g}
    order: list = []
    while weight:
        n = max(weight, key=weight.__getitem__)
        order.append(n)
        del weight[n]
        for m in g[n]:
            if m in weight:
                weight[m] += 1
    return order


def _chain_components(e: PDAG) -> list:
    und = nx.Graph()
    und.add_nodes_from(e.nodes)
    und.add_edges_from(tuple(x) for x in e.undirected_edges)
    return [und.subgraph(c).copy() for c in nx.connected_components(und) if len(c) > 1]


def _component_bounds(e: PDAG, pos, adj, reach, limit) -> tuple[int, int]:
    from scm import dags_in_class

    queries = _Queries(len(pos))
    fixed = {n: {pos[p] for p in e.parents(n)} for n in e.nodes}
    in_component = set()
    per_component = []
    for comp in _chain_components(e):
        in_component |= set(comp)
        try:
            orientations = dags_in_class(PDAG(list(comp), undirected=list(comp.edges)), limit=limit)
        except GraphError:
            raise GraphError(
                f"a chain component of the estimate ({len(comp)} nodes, {comp.number_of_edges()} undirected edges, "
                f"e.g. {sorted(map(str, comp))[:5]}) has more than {limit} orientations; raise 'limit', pass "
                "limit=None, or use method='local'"
            ) from None
        per_component.append(
            [[queries.add(pos[n], fixed[n] | {pos[p] for p in o.predecessors(n)}) for n in comp] for o in orientations]
        )
    outside = [queries.add(pos[n], fixed[n]) for n in e.nodes if n not in in_component]
    counts = queries.error_counts(adj, reach)
    low = high = int(counts[outside].sum())
    for rows in per_component:
        totals = counts[np.array(rows)].sum(axis=1)
        low += int(totals.min())
        high += int(totals.max())
    return low, high


def _local_bounds(e: PDAG, pos, adj, reach, limit) -> tuple[int, int]:
    queries = _Queries(len(pos))
    per_node = []
    for n in e.nodes:
        fixed = {pos[p] for p in e.parents(n)}
        nbrs = sorted(e.neighbors(n), key=pos.__getitem__)
        options = []
        for k in range(len(nbrs) + 1):
            for s in itertools.combinations(nbrs, k):
                if all(e.adjacent(a, b) for a, b in itertools.combinations(s, 2)):
                    options.append(queries.add(pos[n], fixed | {pos[x] for x in s}))
                    if limit is not None and len(options) > limit:
                        raise GraphError(
                            f"node {n!r} of the estimate has more than {limit} possible parent sets "
                            f"({len(nbrs)} undirected neighbours); raise 'limit' or pass limit=None"
                        )
        per_node.append(options)
    counts = queries.error_counts(adj, reach)
    low = sum(int(counts[o].min()) for o in per_node)
    high = sum(int(counts[o].max()) for o in per_node)
    return low, high
