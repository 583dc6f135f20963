"""Covariate adjustment: the generalised adjustment criterion and front-door sets.

A set ``Z`` is an *adjustment set* for the effect of ``X`` on ``Y`` when

.. math:: P(y \\mid do(x)) = \\sum_z P(y \\mid x, z) P(z).

This module decides and constructs such sets on DAGs (:class:`networkx.DiGraph`),
CPDAGs (:class:`scm.PDAG` with directed and undirected edges, the output of
constraint-based discovery) and ADMGs (:class:`scm.PDAG` with directed and
bidirected edges; ``a <-> b`` is a latent confounder), by the generalised
adjustment criterion of Perković, Textor, Kalisch and Maathuis (2018) in the
constructive form of van der Zander, Liśkiewicz and Textor (2019):

- the *forbidden set* ``Forb`` holds ``X`` and every (possible) descendant of a node
  on a proper (possibly) causal path from ``X`` to ``Y``;
- the *proper back-door graph* removes the first edge of every proper causal path;
- ``Z`` is valid iff it avoids ``Forb`` and m-separates ``X`` from ``Y`` in that graph
  (in a CPDAG, additionally the graph must be *amenable*: every proper possibly
  causal path leaves ``X`` by a directed edge).

Everything is a reachability search, linear in the size of the (moralised) graph, by the
package's one reachability engine (``scm._reach``: m-connecting paths, ancestors,
constrained searches), which :func:`scm.d_separated` uses too.
The optimal set (:func:`adjustment_set` with ``kind="optimal"``) is the O-set of
Henckel, Perković and Maathuis (2022): the parents of the causal nodes minus the
forbidden set, the valid set with the smallest asymptotic variance for
regression-based estimators.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable

import networkx as nx

from scm import PDAG, CycleError, GraphError, ParameterError, ScmkitError
from scm._cpdag import _extension
from scm._reach import m_connecting_path, reachable
from scm._validation import check_in_range, check_option

__all__ = [
    "NotIdentifiableError",
    "adjustment_set",
    "adjustment_sets",
    "is_valid_adjustment",
    "frontdoor_sets",
    "is_valid_frontdoor",
]

logger = logging.getLogger(__name__)


class NotIdentifiableError(ScmkitError, ValueError):
    """A causal effect is not identifiable from the graph (or not by the requested means).

    Attributes
    ----------
    hedge : tuple of (frozenset, frozenset) or None
        For :func:`estimators.identify`: the two C-forests ``(F, F')`` of the hedge
        that witnesses non-identifiability (Shpitser and Pearl 2006).
    path : list or None
        For adjustment: an open non-causal path that no admissible set can block.
    """

    def __init__(self, message: str, *, hedge=None, path=None):
        super().__init__(message)
        self.hedge = hedge
        self.path = path


# ============================================================================ graph core


class _Graph:
    """Mutable working copy of a DAG, CPDAG or ADMG as adjacency sets.

    ``pa[v]``: nodes with ``p -> v``; ``ch[v]``: ``v -> c``; ``und[v]``: ``v - u``;
    ``sib[v]``: ``v <-> s``. ``kind`` is ``"dag"``, ``"cpdag"`` or ``"admg"``.
    """

    __slots__ = ("nodes", "pa", "ch", "und", "sib", "kind", "_pdag")

    def __init__(self, nodes, directed=(), undirected=(), bidirected=(), kind="dag", pdag=None):
        self.nodes = list(nodes)
        self.pa = {v: set() for v in self.nodes}
        self.ch = {v: set() for v in self.nodes}
        self.und = {v: set() for v in self.nodes}
        self.sib = {v: set() for v in self.nodes}
        for u, v in directed:
            self.pa[v].add(u)
            self.ch[u].add(v)
        for a, b in undirected:
            self.und[a].add(b)
            self.und[b].add(a)
        for a, b in bidirected:
            self.sib[a].add(b)
            self.sib[b].add(a)
        self.kind = kind
        self._pdag = pdag

    @classmethod
    def from_input(cls, graph, *, name: str = "graph") -> _Graph:
        if isinstance(graph, PDAG):
            und = [tuple(e) for e in graph.undirected_edges]
            bid = [tuple(e) for e in graph.bidirected_edges]
            if und and bid:
                raise GraphError(
                    f"{name} has both undirected and bidirected edges; give a CPDAG (directed + undirected) "
                    "or an ADMG (directed + bidirected)"
                )
            kind = "cpdag" if und else ("admg" if bid else "dag")
            g = cls(graph.nodes, graph.directed_edges, und, bid, kind=kind, pdag=graph)
        elif isinstance(graph, nx.DiGraph) and not isinstance(graph, nx.MultiDiGraph):
            g = cls(graph.nodes, graph.edges, kind="dag")
        else:
            raise GraphError(
                f"{name} must be a networkx.DiGraph (a DAG) or an scm.PDAG (CPDAG or ADMG); got {type(graph).__name__}"
            )
        g._check_acyclic(name)
        return g

    @classmethod
    def projected(cls, graph, latent, *, name: str = "graph") -> _Graph:
        """The latent projection of a DAG onto its observed nodes (an ADMG, bow arcs allowed).

        ``a -> b`` if a directed path from ``a`` to ``b`` has only latent inner nodes;
        ``a <-> b`` if some latent node reaches both by directed paths through latent nodes.
        """
        g = cls.from_input(graph, name=name)
        if g.kind != "dag":
            raise GraphError(f"latent= needs a DAG (networkx.DiGraph) with the latent nodes in it; got a {g.kind.upper()}")
        hidden = set(_as_node_set(latent, g, "latent node"))
        if not hidden:
            return g
        observed = set(g.nodes) - hidden

        def observed_reach(start):
            """The observed nodes reached from ``start`` by directed paths through latent nodes."""
            return {v for v in reachable(g.ch.__getitem__, [start], blocked=observed) if v != start and v in observed}

        obs = [v for v in g.nodes if v not in hidden]
        directed = [(a, b) for a in obs for b in observed_reach(a)]
        bidirected = set()
        for h in hidden:
            r = sorted(observed_reach(h), key=obs.index)
            bidirected |= {(a, b) for i, a in enumerate(r) for b in r[i + 1:]}
        return cls(obs, directed, (), sorted(bidirected), kind="admg" if bidirected else "dag")

    def _check_acyclic(self, name):
        d = nx.DiGraph()
        d.add_nodes_from(self.nodes)
        d.add_edges_from((u, v) for v in self.nodes for u in self.pa[v])
        if not nx.is_directed_acyclic_graph(d):
            cyc = [u for u, _ in nx.find_cycle(d)]
            raise CycleError(f"{name} has a directed cycle: {' -> '.join(map(str, cyc + cyc[:1]))}", cycle=cyc)

    def copy(self) -> _Graph:
        g = _Graph.__new__(_Graph)
        g.nodes = list(self.nodes)
        g.pa = {v: set(s) for v, s in self.pa.items()}
        g.ch = {v: set(s) for v, s in self.ch.items()}
        g.und = {v: set(s) for v, s in self.und.items()}
        g.sib = {v: set(s) for v, s in self.sib.items()}
        g.kind = self.kind
        g._pdag = self._pdag
        return g

    def remove_directed(self, edges):
        for u, v in edges:
            self.pa[v].discard(u)
            self.ch[u].discard(v)

    def subgraph(self, keep) -> _Graph:
        keep = set(keep)
        order = [v for v in self.nodes if v in keep]
        return _Graph(
            order,
            [(u, v) for v in order for u in self.pa[v] if u in keep],
            [(a, b) for a in order for b in self.und[a] if b in keep and str(a) <= str(b)],
            [(a, b) for a in order for b in self.sib[a] if b in keep],
            kind=self.kind,
        )

    def to_dag(self) -> _Graph:
        """A DAG of the class (CPDAG) or the directed part (used only where that is exact).

        The extension's arbitrary orientations are not warned about: in an amenable CPDAG a set is
        valid in every DAG of the class or in none (Perković et al. 2018), so separation may be
        checked in any of them; in a non-amenable one no answer is read off this DAG
        (:meth:`_Problem.check_amenable` refuses first, :meth:`_Problem.is_valid` says False).
        """
        if self.kind != "cpdag":
            return self
        dag, _ = _extension(self._pdag if self._pdag is not None else self._as_pdag())
        return _Graph(self.nodes, dag.edges, kind="dag")

    def _as_pdag(self) -> PDAG:
        return PDAG(
            self.nodes,
            [(u, v) for v in self.nodes for u in self.pa[v]],
            {frozenset((a, b)) for a in self.nodes for b in self.und[a]},
            {frozenset((a, b)) for a in self.nodes for b in self.sib[a]},
        )

    # -------------------------------------------------------------- reachability
    # every search goes to the engine of scm._reach, on these adjacency sets
    def _step(self, kind: str, possible: bool):
        adj = self.pa if kind == "up" else self.ch
        if possible:
            und = self.und
            return lambda v: adj[v] | und[v]
        return adj.__getitem__

    def ancestors(self, nodes, *, possible: bool = False) -> set:
        """Ancestors of ``nodes`` including themselves (``possible``: also via undirected edges)."""
        return reachable(self._step("up", possible), nodes)

    def descendants(self, nodes, *, possible: bool = False) -> set:
        """Descendants of ``nodes`` including themselves (``possible``: also via undirected edges)."""
        return reachable(self._step("down", possible), nodes)

    def districts(self, nodes=None) -> list:
        """Connected components of the bidirected part (C-components), restricted to ``nodes``."""
        nodes = set(self.nodes if nodes is None else nodes)
        outside = set(self.nodes) - nodes
        seen, out = set(), []
        for v in self.nodes:
            if v not in nodes or v in seen:
                continue
            comp = reachable(self.sib.__getitem__, [v], avoid=outside)
            seen |= comp
            out.append(comp)
        return out

    def m_connected_path(self, xs, ys, zs):
        """An m-connecting path from ``xs`` to ``ys`` given ``zs`` (DAG/ADMG), or None."""
        if self.kind == "cpdag":  # pragma: no cover - internal misuse
            raise GraphError("m-separation is computed on a DAG of the class")
        return m_connecting_path(self.pa.__getitem__, self.ch.__getitem__, self.sib.__getitem__, xs, ys, zs)

    def m_separated(self, xs, ys, zs) -> bool:
        return self.m_connected_path(xs, ys, zs) is None

    def moral(self, keep) -> dict:
        """The moral (augmented) graph of the induced subgraph on ``keep`` (an ancestral set)."""
        keep = set(keep)
        adj = {v: set() for v in keep}
        for v in keep:
            for u in self.pa[v] | self.sib[v]:
                if u in keep:
                    adj[v].add(u)
                    adj[u].add(v)
        for comp in self.districts(keep):
            members = set(comp)
            for c in comp:
                members |= self.pa[c] & keep
            if len(members) > 1:
                for a in members:
                    adj[a] |= members - {a}
        return adj


def _find_min_sep(g: _Graph, xs, ys, include, allowed):
    """A minimal m-separator Z with ``include ⊆ Z ⊆ allowed`` of ``xs`` and ``ys`` in the DAG/ADMG
    ``g``, or None (van der Zander, Liśkiewicz and Textor 2019, FindMinSep): two searches of
    the moral graph of the ancestors, where the candidate separators are reached but not crossed."""
    anc = g.ancestors(set(xs) | set(ys) | set(include))
    z0 = ((set(allowed) & anc) | set(include)) - set(xs) - set(ys)
    neighbours = g.moral(anc).__getitem__
    r1 = reachable(neighbours, xs, blocked=z0)
    if r1 & set(ys):
        return None
    z1 = (z0 & r1) | set(include)
    r2 = reachable(neighbours, ys, blocked=z1)
    return frozenset((z1 & r2) | set(include))


def _find_sep(g: _Graph, xs, ys, include, allowed):
    """Some m-separator Z with ``include ⊆ Z ⊆ allowed``, or None (FindSep)."""
    anc = g.ancestors(set(xs) | set(ys) | set(include))
    z = ((set(allowed) & anc) | set(include)) - set(xs) - set(ys)
    return frozenset(z) if g.m_separated(xs, ys, z) else None


def _list_sep(g: _Graph, xs, ys, allowed, order):
    """Every m-separator Z ⊆ ``allowed`` of ``xs`` and ``ys`` in the DAG/ADMG ``g`` (ListSep of
    van der Zander, Liśkiewicz and Textor 2019), as a generator.

    A state ``(I, R)`` stands for the separators ``Z`` with ``I ⊆ Z ⊆ R``; it is dropped unless
    :func:`_find_sep` finds one, and otherwise split on one undecided node ``v`` (the first in
    ``order``) into ``(I ∪ {v}, R)`` and ``(I, R \\ {v})``. Every kept state has a separator below
    it, and the depth is at most ``|allowed|``, so each separator comes after at most
    ``2 |allowed| + 1`` FindSep calls (each linear in the size of ``g``): polynomial delay. The
    search keeps its own stack (no recursion limit on large graphs).
    """
    stack = [(frozenset(), frozenset(allowed))]
    while stack:
        include, cand = stack.pop()
        if _find_sep(g, xs, ys, include, cand) is None:
            continue
        free = cand - include
        if not free:
            yield include
            continue
        v = min(free, key=order)
        stack.append((include, cand - {v}))
        stack.append((include | {v}, cand))


def _list_min_sep(g: _Graph, xs, ys, allowed, order):
    """Every minimal m-separator Z ⊆ ``allowed`` of ``xs`` and ``ys`` in the DAG/ADMG ``g``, as a
    generator with polynomial delay (ListMinSep of van der Zander, Liśkiewicz and Textor 2019,
    after Takata 2010).

    *Reduction.* A minimal separator lies inside ``A = An(xs ∪ ys)``, and for ``Z ⊆ A``
    m-separation in ``g`` is vertex separation in the moral (augmented) graph ``M`` of ``g[A]``.
    So the answer is the minimal vertex separators of ``xs`` and ``ys`` in ``M`` that avoid the
    nodes outside ``C = allowed ∩ A`` (``xs`` and ``ys`` each act as one contracted vertex).

    *Enumeration.* A minimal separator ``Z`` is ``N(K)`` for the component ``K`` of ``xs`` in
    ``M - Z`` (its *side*), and different separators have different sides, so the search
    partitions sides: a state ``(S, T)`` stands for the minimal separators whose side contains
    ``S`` and avoids ``T``. Its *closure* is the separator with the smallest such side: grow
    ``S`` through the nodes that cannot separate (outside ``C``) to ``S*``, take the component
    ``K_y`` of ``ys`` in ``M - N(S*)``, and ``Z = N(K_y)``; ``Z``'s side is contained in the side
    of every minimal separator ``Z' ⊆ C`` whose side contains ``S`` (``K_y(Z') ⊆ K_y`` because
    ``Z'`` avoids ``S*``, and ``Z' = N(K_y(Z'))``). Hence the state holds a separator iff ``ys`` is
    not reached from ``S*`` and ``Z``'s side avoids ``T``. If every node of ``Z`` is in ``T``,
    ``Z`` is the state's only separator and is output; otherwise the state splits on the first
    undecided ``v ∈ Z``: ``v`` on the side (a larger side) or ``v`` in ``T`` (``Z`` still there).

    *Cost.* The ``T``-branch always holds a separator, so between two outputs the search visits
    at most ``2 |C| + 1`` states, each a closure of three searches of ``M``:
    ``O(|C| (n + e(M)))`` per separator, ``O(n^3)`` at worst, and ``O(n^2)`` memory.
    """
    xs, ys = set(xs), set(ys)
    anc = g.ancestors(xs | ys)
    nbrs = g.moral(anc).__getitem__
    cand = (set(allowed) & anc) - xs - ys

    def closure(side):
        reach = reachable(nbrs, side, blocked=cand)  # S* and its neighbours, which are all in C
        if not ys.isdisjoint(reach):
            return None
        rim = (reach & cand) - side
        z = reachable(nbrs, ys, blocked=rim) & rim  # N(K_y)
        return frozenset(z), frozenset(reachable(nbrs, reach - rim, blocked=z) - z)

    stack = [(frozenset(xs), frozenset())]  # states (S, T)
    while stack:
        inside, off = stack.pop()
        closed = closure(inside)
        if closed is None:
            continue
        z, side = closed
        if not off.isdisjoint(side):
            continue
        free = z - off
        if not free:
            yield z
            continue
        v = min(free, key=order)
        stack.append((side, off | {v}))  # v off the side: still holds z, so no dead end
        stack.append((side | {v}, off))  # v on the side: explored first


# ============================================================================ the criterion


def _as_node_set(nodes, g: _Graph, what: str) -> list:
    from scm._validation import check_nodes

    if nodes is None:
        return []
    if isinstance(nodes, (str, int)) or not isinstance(nodes, Iterable) or (isinstance(nodes, Hashable) and nodes in g.pa):
        nodes = [nodes]
    return check_nodes(list(nodes), set(g.nodes), what=what)


class _Problem:
    """Everything the adjustment functions derive from ``(G, X, Y)``."""

    def __init__(self, graph, treatment, outcome, *, name="graph"):
        g = _Graph.from_input(graph, name=name)
        xs = _as_node_set(treatment, g, "treatment")
        ys = _as_node_set(outcome, g, "outcome")
        if not xs:
            raise ParameterError("treatment must name at least one node")
        if not ys:
            raise ParameterError("outcome must name at least one node")
        both = set(xs) & set(ys)
        if both:
            raise ParameterError(f"treatment and outcome overlap: {sorted(map(str, both))}")
        self.g, self.xs, self.ys = g, set(xs), set(ys)
        self.xs_list, self.ys_list = xs, ys
        possible = g.kind == "cpdag"
        d, a = _proper_causal(g, self.xs, self.ys, possible=possible)
        self.cn = d & a  # causal nodes: on proper (possibly) causal paths, X excluded
        self.amenable_violations = []
        if possible:
            for x in xs:
                for v in g.und[x]:
                    if v in a:
                        self.amenable_violations.append((x, v))
        self.forb = g.descendants(self.cn, possible=possible) | self.xs
        # The DAG in which separation is checked, and its proper back-door graph.
        dag = g.to_dag()
        cn_d = _causal_nodes(dag, self.xs, self.ys) if dag is not g else self.cn
        pbd = dag.copy()
        pbd.remove_directed([(x, w) for x in self.xs for w in dag.ch[x] if w in cn_d])
        self.dag, self.pbd = dag, pbd

    def check_amenable(self):
        if self.amenable_violations:
            x, v = self.amenable_violations[0]
            raise NotIdentifiableError(
                f"the effect of {_fmt(self.xs_list)} on {_fmt(self.ys_list)} is not identifiable by adjustment in "
                f"this CPDAG: the edge {x!r} - {v!r} is undirected and {v!r} is on a possibly causal path to the "
                "outcome, so the class holds DAGs where it is a confounder and DAGs where it is a mediator "
                "(orient the edge with background knowledge, or intervene)"
            )

    def allowed(self, exclude=()) -> set:
        return set(self.g.nodes) - self.forb - self.ys - set(exclude)

    def is_valid(self, z) -> bool:
        z = set(z)
        if self.amenable_violations or z & (self.forb | self.ys):
            return False
        return self.pbd.m_separated(self.xs, self.ys, z)

    def no_set_error(self, exclude) -> NotIdentifiableError:
        allowed = self.allowed(exclude)
        anc = self.pbd.ancestors(self.xs | self.ys)
        canon = (allowed & anc) - self.xs - self.ys
        path = self.pbd.m_connected_path(self.xs, self.ys, canon)
        what = ""
        if path is not None:
            what = f"; the non-causal path {_fmt_path(self.pbd, path)} stays open whatever admissible set is chosen"
        hidden = f" (nodes excluded from adjustment: {sorted(map(str, exclude))})" if exclude else ""
        return NotIdentifiableError(
            f"no valid adjustment set for the effect of {_fmt(self.xs_list)} on {_fmt(self.ys_list)}{hidden}{what}",
            path=path,
        )


def _proper_causal(g: _Graph, xs, ys, *, possible: bool = False) -> tuple[set, set]:
    """``(D, A)``: the nodes reached from ``xs`` by (possibly) causal paths that do not return to
    ``xs`` (``xs`` excluded), and the (possible) ancestors of ``ys`` along paths avoiding ``xs``."""
    xs = set(xs)
    d = reachable(g._step("down", possible), xs, avoid=xs) - xs
    a = reachable(g._step("up", possible), ys, avoid=xs)
    return d, a


def _causal_nodes(g: _Graph, xs, ys) -> set:
    """The nodes on proper causal paths from ``xs`` to ``ys`` (``xs`` excluded)."""
    d, a = _proper_causal(g, xs, ys)
    return d & a


def _fmt(nodes) -> str:
    nodes = list(nodes)
    return repr(nodes[0]) if len(nodes) == 1 else repr(sorted(nodes, key=str))


def _fmt_path(g: _Graph, path) -> str:
    out = [str(path[0])]
    for a, b in zip(path, path[1:]):
        if b in g.ch[a]:
            out.append(f"-> {b}")
        elif b in g.pa[a]:
            out.append(f"<- {b}")
        else:
            out.append(f"<-> {b}")
    return " ".join(out)


_SINGLE_KINDS = ("minimal", "optimal", "canonical")
_LIST_KINDS = ("minimal", "all", "optimal")


def adjustment_set(graph, treatment, outcome, kind: str = "minimal", *, include=(), exclude=()) -> frozenset:
    """One valid adjustment set for the effect of ``treatment`` on ``outcome``.

    Parameters
    ----------
    graph : networkx.DiGraph or scm.PDAG
        A DAG, a CPDAG (directed + undirected edges) or an ADMG (directed +
        bidirected edges, ``a <-> b`` being a latent confounder).
    treatment, outcome : node or collection of nodes
    kind : {"minimal", "optimal", "canonical"}
        ``"minimal"``: a set none of whose proper subsets is valid, found in linear
        time; ``"optimal"``: the O-set of Henckel et al. (2022) (DAGs and CPDAGs),
        the valid set giving the smallest asymptotic variance (when the outcome is
        not a descendant of the treatment the O-set is undefined and a minimal set
        is returned); ``"canonical"``: all
        admissible (possible) ancestors of treatment and outcome, valid iff any set is.
    include : collection of nodes
        Nodes the set must contain (``kind="minimal"`` only).
    exclude : collection of nodes
        Nodes that may not be used, e.g. unmeasured ones.

    Returns
    -------
    frozenset

    Raises
    ------
    NotIdentifiableError
        If no valid set exists (the message shows a non-causal path that stays
        open), or, in a CPDAG, if the effect is not identifiable by adjustment.
    UnknownNodeError
        If a node is not in the graph.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("Z", "X"), ("Z", "Y"), ("X", "M"), ("M", "Y"), ("W", "Y")])
    >>> sorted(adjustment_set(g, "X", "Y"))
    ['Z']
    >>> sorted(adjustment_set(g, "X", "Y", kind="optimal"))
    ['W', 'Z']
    >>> adjustment_set(g, "X", "Y", exclude=["Z"])
    Traceback (most recent call last):
    ...
    estimators._adjustment.NotIdentifiableError: no valid adjustment set for the effect of 'X' on 'Y' (nodes excluded ...: ['Z']); ...
    """
    check_option(kind, _SINGLE_KINDS, name="kind", owner="adjustment_set")
    prob = _Problem(graph, treatment, outcome)
    prob.check_amenable()
    exclude = set(_as_node_set(exclude, prob.g, "excluded node"))
    include = set(_as_node_set(include, prob.g, "included node"))
    if include and kind != "minimal":
        raise ParameterError("'include' is only used with kind='minimal'")
    bad = include & (prob.forb | prob.ys | exclude)
    if bad:
        raise NotIdentifiableError(
            f"included node(s) {sorted(map(str, bad))} cannot be in an adjustment set "
            "(treatment, outcome, excluded, or a descendant of a node on a causal path)"
        )
    allowed = prob.allowed(exclude) | include
    if kind == "optimal" and not (prob.cn & prob.ys):
        logger.info("no causal path from treatment to outcome: the O-set is undefined, returning a minimal set")
        kind = "minimal"
    if kind == "optimal":
        if prob.g.kind == "admg":
            raise GraphError("the optimal (O-) set is defined for DAGs and CPDAGs; this graph has bidirected edges")
        o = set()
        for c in prob.cn:
            o |= prob.g.pa[c]
        o -= prob.forb
        if o & exclude or not prob.is_valid(o):
            if _find_sep(prob.pbd, prob.xs, prob.ys, set(), allowed) is None:
                raise prob.no_set_error(exclude)
            raise NotIdentifiableError(
                f"the optimal set {sorted(map(str, o))} uses excluded node(s) {sorted(map(str, o & exclude))}; "
                "use kind='minimal' or 'canonical'"
            )
        return frozenset(o)
    if kind == "canonical":
        z = _find_sep(prob.pbd, prob.xs, prob.ys, set(), allowed)
        if z is None:
            raise prob.no_set_error(exclude)
        return z
    z = _find_min_sep(prob.pbd, prob.xs, prob.ys, include, allowed)
    if z is None:
        raise prob.no_set_error(exclude)
    return z


def adjustment_sets(graph, treatment, outcome, kind: str = "minimal", *, exclude=(), limit: int = 10_000) -> list:
    """Valid adjustment sets for the effect of ``treatment`` on ``outcome``.

    Parameters
    ----------
    graph : networkx.DiGraph or scm.PDAG
        A DAG, a CPDAG or an ADMG (see :func:`adjustment_set`).
    treatment, outcome : node or collection of nodes
    kind : {"minimal", "all", "optimal"}
        ``"minimal"``: every minimal valid set (no proper subset is valid); ``"all"``:
        every valid set; ``"optimal"``: the one-element list holding the O-set.
    exclude : collection of nodes
        Nodes that may not be used.
    limit : int
        The most sets returned. When there are more, :class:`scm.ParameterError` is
        raised as soon as set ``limit + 1`` is found (no partial list is returned):
        there can be exponentially many sets. Sets are listed directly, with
        polynomial delay, so reaching the limit costs at most ``limit + 1`` times the
        delay whatever the number of sets of other kinds; for one set use
        :func:`adjustment_set`, which is linear-time.

    Returns
    -------
    list of frozenset
        Sorted by size, then by the sorted node names. Empty if no set is valid.

    Raises
    ------
    NotIdentifiableError
        In a CPDAG that is not amenable relative to the effect.
    ParameterError
        If there are more than ``limit`` sets.

    Notes
    -----
    A set is valid iff it avoids the forbidden nodes and m-separates treatment and
    outcome in the proper back-door graph (of a DAG of the class, for a CPDAG), so the
    listings are separator listings of van der Zander, Liśkiewicz and Textor (2019) on
    that graph, restricted to the admissible nodes:

    - ``"minimal"``: ``ListMinSep``. Minimal sets lie among the ancestors of treatment
      and outcome, where m-separation is vertex separation in the moral graph of the
      ancestors (for an ADMG: the augmented graph, each district and its parents made a
      clique), and the minimal separators of that graph avoiding the inadmissible nodes
      are listed by Takata's (2010) backtracking over the component of the treatment:
      each set after at most ``2k + 1`` closures of three graph searches, ``k`` the
      number of admissible ancestors, i.e. ``O(n^3)`` per set at worst. Only minimal
      sets are ever generated, so ``limit`` counts minimal sets.
    - ``"all"``: ``ListSep``. Branch on one admissible node at a time (in or out) and
      drop every branch in which the largest remaining candidate set does not separate,
      so each set costs at most ``2k + 1`` linear-time tests, ``k`` the number of
      admissible nodes.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("A", "X"), ("B", "X"), ("A", "Y"), ("B", "Y"), ("X", "Y"), ("A", "B")])
    >>> [sorted(z) for z in adjustment_sets(g, "X", "Y", kind="all")]
    [['A', 'B']]
    >>> g = nx.DiGraph([("A", "B"), ("B", "X"), ("B", "Y"), ("A", "Y"), ("X", "Y")])
    >>> [sorted(z) for z in adjustment_sets(g, "X", "Y", kind="minimal")]
    [['B']]
    >>> [sorted(z) for z in adjustment_sets(g, "X", "Y", kind="all")]
    [['B'], ['A', 'B']]
    >>> g = nx.DiGraph([("A", "X"), ("A", "B"), ("B", "Y"), ("X", "Y")])    # X <- A -> B -> Y
    >>> adjustment_sets(g, "X", "Y", kind="minimal")
    [frozenset({'A'}), frozenset({'B'})]
    >>> adjustment_sets(g, "X", "Y", kind="minimal", limit=1)
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: more than limit=1 minimal adjustment sets; raise 'limit' or use adjustment_set() for one set
    """
    check_option(kind, _LIST_KINDS, name="kind", owner="adjustment_sets")
    check_in_range(limit, name="limit", low=1, inclusive="left", integer=True, owner="adjustment_sets")
    if kind == "optimal":
        try:
            return [adjustment_set(graph, treatment, outcome, kind="optimal", exclude=exclude)]
        except NotIdentifiableError as exc:
            if exc.path is not None:
                return []
            raise
    prob = _Problem(graph, treatment, outcome)
    prob.check_amenable()
    exclude = set(_as_node_set(exclude, prob.g, "excluded node"))
    pos = {v: i for i, v in enumerate(prob.g.nodes)}
    listing = _list_min_sep if kind == "minimal" else _list_sep
    out = []
    for z in listing(prob.pbd, prob.xs, prob.ys, prob.allowed(exclude), pos.__getitem__):
        if len(out) == limit:
            what = "minimal adjustment sets" if kind == "minimal" else "adjustment sets"
            raise ParameterError(f"more than limit={limit} {what}; raise 'limit' or use adjustment_set() for one set")
        out.append(z)
    return sorted(out, key=lambda z: (len(z), sorted(map(str, z))))


def is_valid_adjustment(graph, treatment, outcome, adjustment) -> bool:
    """Whether ``adjustment`` is a valid adjustment set (generalised adjustment criterion).

    Parameters
    ----------
    graph : networkx.DiGraph or scm.PDAG
        A DAG, a CPDAG or an ADMG.
    treatment, outcome : node or collection of nodes
    adjustment : collection of nodes

    Returns
    -------
    bool
        False also when a CPDAG is not amenable relative to the effect (then no
        set is valid in every DAG of the class).

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("Z", "X"), ("Z", "Y"), ("X", "M"), ("M", "Y")])
    >>> is_valid_adjustment(g, "X", "Y", ["Z"]), is_valid_adjustment(g, "X", "Y", ["Z", "M"])
    (True, False)
    """
    prob = _Problem(graph, treatment, outcome)
    z = set(_as_node_set(adjustment, prob.g, "adjustment node"))
    return prob.is_valid(z)


# ============================================================================ front door


def is_valid_frontdoor(graph, treatment, outcome, mediators) -> bool:
    """Whether ``mediators`` satisfies Pearl's front-door criterion.

    ``Z`` intercepts every directed path from ``X`` to ``Y``; no back-door path
    from ``X`` to ``Z`` is open; every back-door path from ``Z`` to ``Y`` is
    blocked by ``X``.

    Examples
    --------
    >>> from scm import PDAG
    >>> fd = PDAG.from_edges([("X", "M"), ("M", "Y"), ("X", "Y", "bidirected")])
    >>> is_valid_frontdoor(fd, "X", "Y", ["M"])
    True
    """
    g = _Graph.from_input(graph)
    if g.kind == "cpdag":
        raise GraphError("the front-door criterion needs a DAG or an ADMG, not a CPDAG")
    xs = set(_as_node_set(treatment, g, "treatment"))
    ys = set(_as_node_set(outcome, g, "outcome"))
    zs = set(_as_node_set(mediators, g, "mediator"))
    return _frontdoor_ok(g, xs, ys, zs)


def _frontdoor_ok(g: _Graph, xs, ys, zs) -> bool:
    if not zs or zs & (xs | ys):
        return False
    # (i) every directed path X -> ... -> Y meets Z: no node reached from X avoiding Z has a child in Y
    if any(c in ys for v in reachable(g.ch.__getitem__, xs, avoid=zs) for c in g.ch[v]):
        return False
    # (ii) no open back-door path from X to Z: separation in G with X's out-edges removed
    g2 = g.copy()
    g2.remove_directed([(x, c) for x in xs for c in list(g.ch[x])])
    if not g2.m_separated(xs, zs, set()):
        return False
    # (iii) back-door paths from Z to Y blocked by X: separation in G with Z's out-edges removed
    g3 = g.copy()
    g3.remove_directed([(z, c) for z in zs for c in list(g.ch[z])])
    return g3.m_separated(zs, ys, xs)


def frontdoor_sets(graph, treatment, outcome, *, exclude=(), max_size: int | None = None, limit: int = 10_000) -> list:
    """Minimal front-door sets for the effect of ``treatment`` on ``outcome``.

    Candidates are the observed nodes on directed paths from treatment to outcome
    (only they can intercept those paths without adding bias); every subset
    satisfying the front-door criterion and none of whose proper subsets does is
    returned.

    Parameters
    ----------
    graph : networkx.DiGraph or scm.PDAG
        A DAG or an ADMG.
    treatment, outcome : node or collection of nodes
    exclude : collection of nodes
        Unmeasured nodes that may not be used.
    max_size : int, optional
        Largest set size tried (default: all candidates).
    limit : int
        Most subsets tried before giving up with an error.

    Returns
    -------
    list of frozenset
        Sorted by size; empty when no front-door set exists.

    Examples
    --------
    >>> from scm import PDAG
    >>> fd = PDAG.from_edges([("X", "M"), ("M", "Y"), ("X", "Y", "bidirected")])
    >>> frontdoor_sets(fd, "X", "Y")
    [frozenset({'M'})]
    """
    import itertools

    g = _Graph.from_input(graph)
    if g.kind == "cpdag":
        raise GraphError("the front-door criterion needs a DAG or an ADMG, not a CPDAG")
    xs = set(_as_node_set(treatment, g, "treatment"))
    ys = set(_as_node_set(outcome, g, "outcome"))
    exclude = set(_as_node_set(exclude, g, "excluded node"))
    check_in_range(limit, name="limit", low=1, inclusive="left", integer=True, owner="frontdoor_sets")
    cand = (g.descendants(xs) & g.ancestors(ys)) - xs - ys - exclude
    pos = {v: i for i, v in enumerate(g.nodes)}
    cand = sorted(cand, key=pos.__getitem__)
    top = len(cand) if max_size is None else min(max_size, len(cand))
    found, tried = [], 0
    for k in range(1, top + 1):
        for combo in itertools.combinations(cand, k):
            tried += 1
            if tried > limit:
                raise ParameterError(f"more than limit={limit} candidate sets; give max_size or raise 'limit'")
            zs = set(combo)
            if any(f <= zs for f in found):
                continue
            if _frontdoor_ok(g, xs, ys, zs):
                found.append(frozenset(zs))
    return found
