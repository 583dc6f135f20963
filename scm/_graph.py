"""Graph types: DAG validation and the immutable partially directed graph ``PDAG``.

A DAG is a plain :class:`networkx.DiGraph`; :func:`check_dag` validates one.
A :class:`PDAG` holds named nodes and edges of explicit kinds (``"directed"``,
``"undirected"``, ``"bidirected"``). It represents CPDAGs (the output of
constraint-based search), patterns, and graphs with latent confounders.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Hashable, Iterable, Mapping

import networkx as nx
import numpy as np

from ._exceptions import CycleError, GraphError, UnknownNodeError

__all__ = ["EDGE_KINDS", "PDAG", "check_dag", "as_dag", "adjacency_to_dag", "dag_to_adjacency"]  # and, internal: check_graph_input

EDGE_KINDS = ("directed", "undirected", "bidirected")


def _kind_text(kind: type) -> str:
    if kind is nx.DiGraph:
        return "a networkx.DiGraph"
    if kind is nx.Graph:
        return "a networkx graph"
    return f"a {kind.__name__}"


def check_graph_input(graph, kinds=(nx.DiGraph,), *, what: str | None = None, name: str = "graph", owner: str | None = None,
                      hint: str = ""):
    """``graph`` itself if it is one of ``kinds``, else a :class:`GraphError` naming the argument and what is accepted.

    The one type check of every function that reads a graph (a string, an array or ``None``
    where a graph is expected would otherwise fail later with an ``AttributeError``).
    ``networkx.Graph`` in ``kinds`` accepts any networkx graph (directed or not); a multigraph
    only when a multigraph class is in ``kinds``.

    Parameters
    ----------
    graph
        The argument.
    kinds : tuple of type
        The accepted classes (``networkx.DiGraph``, ``networkx.Graph``, :class:`PDAG`,
        :class:`LaggedGraph`).
    what : str, optional
        How to say what is accepted (default: from ``kinds``, e.g. "a networkx.DiGraph or a PDAG").
    name, owner : str
        The argument's name and the function's, for the message.
    hint : str
        Appended to the message (e.g. how to convert).

    Examples
    --------
    >>> check_graph_input("A -> B", (nx.DiGraph, PDAG), name="dag", owner="cpdag")
    Traceback (most recent call last):
    ...
    scm._exceptions.GraphError: cpdag expects a networkx.DiGraph or a PDAG as 'dag'; got str 'A -> B'
    """
    kinds = tuple(kinds)
    multi_ok = any(issubclass(k, nx.MultiGraph) for k in kinds)
    if isinstance(graph, kinds) and (multi_ok or not isinstance(graph, nx.MultiGraph)):
        return graph
    if what is None:
        texts = [_kind_text(k) for k in kinds]
        what = " or ".join([", ".join(texts[:-1]), texts[-1]] if len(texts) > 1 else texts)
    got = type(graph).__name__
    if isinstance(graph, str):
        got += f" {graph[:40]!r}"
    if owner:
        raise GraphError(f"{owner} expects {what} as {name!r}; got {got}{hint}")
    raise GraphError(f"{name} must be {what}; got {got}{hint}")


def check_dag(graph, *, name: str = "graph") -> nx.DiGraph:
    """Check that ``graph`` is a :class:`networkx.DiGraph` without directed cycles.

    Parameters
    ----------
    graph : networkx.DiGraph
        The candidate DAG.
    name : str
        How to call the graph in error messages.

    Returns
    -------
    networkx.DiGraph
        The same object (not a copy).

    Raises
    ------
    CycleError
        Naming one cycle, e.g. ``A -> B -> A``.
    GraphError
        If ``graph`` is not a directed graph.

    Examples
    --------
    >>> import networkx as nx
    >>> check_dag(nx.DiGraph([("A", "B"), ("B", "A")]))
    Traceback (most recent call last):
    ...
    scm._exceptions.CycleError: graph has a directed cycle: A -> B -> A
    """
    check_graph_input(graph, (nx.DiGraph,), name=name)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = [u for u, _ in nx.find_cycle(graph)]
        text = " -> ".join(map(str, cycle + cycle[:1]))
        raise CycleError(f"{name} has a directed cycle: {text}", cycle=cycle)
    return graph


def check_directed_acyclic(pdag, *, name: str = "pdag") -> nx.DiGraph:
    """The directed edges of a :class:`PDAG` as a DiGraph over its nodes, checked acyclic by :func:`check_dag`.

    Raises
    ------
    CycleError
        Naming one cycle of the directed edges, e.g. ``pdag has a directed cycle: A -> B -> A``.
    """
    g = nx.DiGraph()
    g.add_nodes_from(pdag.nodes)
    g.add_edges_from(pdag.directed_edges)
    return check_dag(g, name=name)


def as_dag(graph, *, name: str = "graph") -> nx.DiGraph:
    """Accept a DiGraph, a fully directed PDAG, an edge list or a mapping node -> parents."""
    if isinstance(graph, PDAG):
        if graph.undirected_edges or graph.bidirected_edges:
            raise GraphError(
                f"{name} has undirected or bidirected edges; a DAG is needed (for a CPDAG: scm.dags_in_class lists the "
                "DAGs of its class, SCM.fit(..., orientation='all') fits them all, estimators.ida gives the possible effects)"
            )
        graph = graph.to_networkx()
    elif isinstance(graph, Mapping):
        g = nx.DiGraph()
        g.add_nodes_from(graph)
        for child, parents in graph.items():
            g.add_edges_from((p, child) for p in parents)
        graph = g
    elif not isinstance(graph, nx.DiGraph):
        try:
            graph = nx.DiGraph(list(graph))
        except Exception as exc:
            raise GraphError(f"{name} must be a networkx.DiGraph, a PDAG, an edge list or a mapping; got {type(graph).__name__}") from exc
    return check_dag(graph, name=name)


def adjacency_to_dag(adjacency, nodes=None) -> nx.DiGraph:
    """Build a DiGraph from an adjacency array where ``A[i, j] != 0`` means ``i -> j``.

    Examples
    --------
    >>> g = adjacency_to_dag([[0, 1], [0, 0]], nodes=["X", "Y"])
    >>> list(g.edges)
    [('X', 'Y')]
    """
    a, nodes = check_weighted_adjacency(adjacency, nodes)
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    ii, jj = np.nonzero(a)
    g.add_edges_from((nodes[i], nodes[j]) for i, j in zip(ii, jj))
    return check_dag(g, name="adjacency")


def check_weighted_adjacency(adjacency, nodes=None, *, name: str = "adjacency") -> tuple[np.ndarray, list]:
    """A (weighted) adjacency array and its node names, checked: the one check of every reader of one.

    ``adjacency`` must be a square 2-D array (nested lists are read as one) of finite numbers
    (booleans are kept as they are), with one name per row when ``nodes`` is given (default:
    ``X0, X1, ...``). Used by :func:`adjacency_to_dag` and by
    :func:`discovery.differentiable.break_cycles` (NOTEARS' weights).

    Returns
    -------
    array : ndarray of shape (d, d)
        Floats (or the booleans as given).
    nodes : list

    Raises
    ------
    GraphError
        Naming ``name``: not square, a number of names other than its rows, or an entry that is
        NaN, inf or not a number (named by its row and column nodes).

    Examples
    --------
    >>> check_weighted_adjacency([[0, 0.5], [float("nan"), 0]], ["X", "Y"], name="weights")
    Traceback (most recent call last):
    ...
    scm._exceptions.GraphError: weights entry ['Y', 'X'] is nan; entries must be finite numbers (0: no edge)
    """
    try:
        a = np.asarray(adjacency)
    except (TypeError, ValueError):
        raise GraphError(f"{name} must be a square 2-D array of numbers; got {type(adjacency).__name__}") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise GraphError(f"{name} must be a square 2-D array; got shape {a.shape}")
    nodes = list(nodes) if nodes is not None else [f"X{i}" for i in range(a.shape[0])]
    if len(nodes) != a.shape[0]:
        raise GraphError(f"{name} has {a.shape[0]} rows but {len(nodes)} node names were given")
    return _finite_numbers(a, nodes, name), nodes


def _finite_numbers(a: np.ndarray, nodes: list, name: str = "adjacency") -> np.ndarray:
    """A weighted adjacency array as floats, or a GraphError naming the first NaN, inf or non-number by its nodes.

    (NaN is "nonzero", so it would silently become an edge.)
    """
    if a.dtype.kind == "b":
        return a
    try:
        numeric = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        numeric = None
    ok = (
        np.isfinite(numeric) if numeric is not None
        else np.vectorize(lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), otypes=[bool])(a)
    )
    if not ok.all():
        i, j = (int(v) for v in np.argwhere(~ok)[0])
        bad = a[i, j].item() if hasattr(a[i, j], "item") else a[i, j]
        raise GraphError(f"{name} entry [{nodes[i]!r}, {nodes[j]!r}] is {bad!r}; entries must be finite numbers (0: no edge)")
    return numeric


def _integer_codes(a: np.ndarray, nodes: list, *, allowed=None, what: str) -> np.ndarray:
    """An adjacency array's entries as int64, or a GraphError naming the first bad entry by its nodes.

    Entries must be integers (in ``allowed`` when given); NaN, fractions and strings are named
    with their row and column nodes (and lag, for a 3-D array) instead of numpy's "cannot convert
    float NaN to integer".
    """
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    try:
        numeric = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        numeric = None
    if numeric is None:
        ok = np.vectorize(lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), otypes=[bool])(a)
    else:
        ok = np.isfinite(numeric) & (numeric == np.round(numeric)) & (np.abs(numeric) < 2.0**62)  # int64 can hold it
        if allowed is not None:
            ok &= np.isin(numeric, np.asarray(allowed, dtype=float))
    if not ok.all():
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        where = f"[{nodes[idx[0]]!r}, {nodes[idx[1]]!r}" + (f", lag {idx[2]}]" if len(idx) == 3 else "]")
        expected = f"integer codes {list(allowed)}" if allowed is not None else "integers"
        bad = a[idx].item() if hasattr(a[idx], "item") else a[idx]
        raise GraphError(f"{what} entry {where} is {bad!r}; entries must be {expected}")
    return numeric.astype(np.int64)


def dag_to_adjacency(graph, nodes=None) -> np.ndarray:
    """Adjacency array of a DAG, ``A[i, j] = 1`` meaning ``i -> j``.

    Parameters
    ----------
    graph : networkx.DiGraph
        A DAG (checked by :func:`check_dag`).
    nodes : sequence, optional
        The order of the rows and columns (default: the graph's node order).

    Raises
    ------
    GraphError
        ``graph`` is not a networkx.DiGraph.
    CycleError
        ``graph`` has a directed cycle (named).

    Examples
    --------
    >>> dag_to_adjacency(nx.DiGraph([("X", "Y")]))
    array([[0, 1],
           [0, 0]])
    """
    check_dag(graph)
    nodes = list(graph.nodes) if nodes is None else list(nodes)
    return nx.to_numpy_array(graph, nodelist=nodes, weight=None, dtype=int)


def _load_json(text, what: str):
    """``json.loads(text)``, with malformed text (or a non-string) as a GraphError saying where it breaks."""
    if not isinstance(text, (str, bytes, bytearray)):
        raise GraphError(f"{what} must be a string of JSON text; got {type(text).__name__} (for a dict, use from_dict)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


class PDAG:
    """An immutable partially directed graph over named nodes.

    Edges have explicit kinds: ``"directed"`` (``a -> b``), ``"undirected"``
    (``a - b``: the direction is not identified) and ``"bidirected"``
    (``a <-> b``: a latent confounder). Between two nodes there is at most one
    directed or undirected edge, plus possibly a bidirected edge next to a directed
    one (a "bow arc" ``a -> b, a <-> b`` of an acyclic directed mixed graph).

    Parameters
    ----------
    nodes : iterable of hashable
        Node names, in the order used by :meth:`to_adjacency`.
    directed : iterable of (source, target)
    undirected : iterable of pairs
    bidirected : iterable of pairs

    Examples
    --------
    >>> g = PDAG(["A", "B", "C"], directed=[("A", "C")], undirected=[("A", "B")])
    >>> g
    PDAG(nodes=['A', 'B', 'C'], edges=['A -> C', 'A - B'])
    >>> g.adjacent("A", "B"), g.has_directed("C", "A")
    (True, False)
    >>> PDAG.from_json(g.to_json()) == g
    True
    """

    __slots__ = ("_nodes", "_directed", "_undirected", "_bidirected", "_hash")

    def __init__(self, nodes: Iterable[Hashable] = (), directed=(), undirected=(), bidirected=()):
        nodes = list(nodes)
        seen = set()
        for n in nodes:
            if n in seen:
                raise GraphError(f"node {n!r} is listed twice")
            seen.add(n)
        d = frozenset((u, v) for u, v in directed)
        und = frozenset(frozenset(e) for e in undirected)
        bid = frozenset(frozenset(e) for e in bidirected)
        # Every edge endpoint must be a node; self-loops and double edges are errors.
        pairs: dict[tuple, str] = {}
        for kind, edges in (("directed", [frozenset(e) for e in d]), ("undirected", und), ("bidirected", bid)):
            layer = "latent" if kind == "bidirected" else "main"
            for e in edges:
                if len(e) != 2:
                    raise GraphError(f"self-loop on {next(iter(e))!r} is not allowed")
                for x in e:
                    if x not in seen:
                        raise UnknownNodeError(f"edge endpoint {x!r} is not a node of the graph")
                if (e, layer) in pairs or (kind == "bidirected" and pairs.get((e, "main")) == "undirected"):
                    a, b = sorted(e, key=str)
                    other = pairs.get((e, layer)) or pairs.get((e, "main"))
                    raise GraphError(f"more than one edge between {a!r} and {b!r} ({other} and {kind})")
                if kind == "undirected" and (e, "latent") in pairs:
                    a, b = sorted(e, key=str)
                    raise GraphError(f"more than one edge between {a!r} and {b!r} (bidirected and undirected)")
                pairs[(e, layer)] = kind
        object.__setattr__(self, "_nodes", tuple(nodes))
        object.__setattr__(self, "_directed", d)
        object.__setattr__(self, "_undirected", und)
        object.__setattr__(self, "_bidirected", bid)
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, key, value):
        raise AttributeError("PDAG is immutable; use with_edges / without_edges")

    def __reduce__(self):
        # Immutable with __slots__: pickle and copy rebuild through the constructor.
        return (PDAG, (self._nodes, tuple(self._directed), tuple(map(tuple, self._undirected)), tuple(map(tuple, self._bidirected))))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # ----------------------------------------------------------------- access
    @property
    def nodes(self) -> tuple:
        """The node names, in order."""
        return self._nodes

    @property
    def directed_edges(self) -> frozenset:
        """Set of ``(source, target)`` tuples."""
        return self._directed

    @property
    def undirected_edges(self) -> frozenset:
        """Set of frozensets ``{a, b}``."""
        return self._undirected

    @property
    def bidirected_edges(self) -> frozenset:
        """Set of frozensets ``{a, b}`` (latent confounders)."""
        return self._bidirected

    def edges(self) -> list[tuple]:
        """All edges as ``(a, b, kind)`` triples in a deterministic order."""
        pos = {n: i for i, n in enumerate(self._nodes)}
        out = [(u, v, "directed") for u, v in self._directed]
        for kind, es in (("undirected", self._undirected), ("bidirected", self._bidirected)):
            for e in es:
                a, b = sorted(e, key=pos.__getitem__)
                out.append((a, b, kind))
        return sorted(out, key=lambda t: (EDGE_KINDS.index(t[2]), pos[t[0]], pos[t[1]]))

    def __contains__(self, node) -> bool:
        return node in set(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def _check(self, node):
        if node not in self._nodes:
            raise UnknownNodeError(f"node {node!r} is not in the graph (nodes: {list(self._nodes)[:10]})")

    def has_directed(self, a, b) -> bool:
        """Whether ``a -> b`` is an edge."""
        return (a, b) in self._directed

    def has_undirected(self, a, b) -> bool:
        """Whether ``a - b`` is an edge."""
        return frozenset((a, b)) in self._undirected

    def has_bidirected(self, a, b) -> bool:
        """Whether ``a <-> b`` is an edge."""
        return frozenset((a, b)) in self._bidirected

    def adjacent(self, a, b) -> bool:
        """Whether ``a`` and ``b`` share an edge of any kind."""
        pair = frozenset((a, b))
        return (a, b) in self._directed or (b, a) in self._directed or pair in self._undirected or pair in self._bidirected

    def parents(self, node) -> set:
        """Nodes ``p`` with ``p -> node``."""
        self._check(node)
        return {u for u, v in self._directed if v == node}

    def children(self, node) -> set:
        """Nodes ``c`` with ``node -> c``."""
        self._check(node)
        return {v for u, v in self._directed if u == node}

    def neighbors(self, node) -> set:
        """Nodes joined to ``node`` by an undirected edge."""
        self._check(node)
        return {x for e in self._undirected if node in e for x in e if x != node}

    def adjacencies(self, node) -> set:
        """Every node sharing an edge of any kind with ``node``."""
        self._check(node)
        out = {v for u, v in self._directed if u == node} | {u for u, v in self._directed if v == node}
        for es in (self._undirected, self._bidirected):
            out |= {x for e in es if node in e for x in e if x != node}
        return out

    def skeleton(self) -> nx.Graph:
        """The undirected skeleton as a :class:`networkx.Graph`."""
        g = nx.Graph()
        g.add_nodes_from(self._nodes)
        g.add_edges_from((a, b) for a, b, _ in self.edges())
        return g

    # ------------------------------------------------------------- modifying
    def with_edges(self, directed=(), undirected=(), bidirected=()) -> PDAG:
        """A new PDAG with the given edges added.

        A directed or undirected edge replaces the directed or undirected edge between
        the same pair; a bidirected edge replaces a bidirected one (and an undirected
        one, which cannot stand next to it).
        """
        main = {frozenset(e) for e in list(directed) + list(undirected)}
        latent = {frozenset(e) for e in bidirected}
        d = {e for e in self._directed if frozenset(e) not in main} | set(map(tuple, directed))
        u = {e for e in self._undirected if e not in main and e not in latent} | {frozenset(e) for e in undirected}
        b = {e for e in self._bidirected if e not in latent and e not in {frozenset(x) for x in undirected}} | latent
        return PDAG(self._nodes, d, u, b)

    def without_edges(self, pairs) -> PDAG:
        """A new PDAG with every edge between the given pairs removed."""
        drop = {frozenset(p) for p in pairs}
        return PDAG(
            self._nodes,
            [e for e in self._directed if frozenset(e) not in drop],
            [e for e in self._undirected if e not in drop],
            [e for e in self._bidirected if e not in drop],
        )

    def orient(self, a, b) -> PDAG:
        """A new PDAG with the edge between ``a`` and ``b`` replaced by ``a -> b``."""
        if not self.adjacent(a, b):
            raise GraphError(f"{a!r} and {b!r} are not adjacent")
        return self.with_edges(directed=[(a, b)])

    # ----------------------------------------------------------- conversions
    @classmethod
    def from_edges(cls, edges: Iterable[tuple], nodes: Iterable | None = None) -> PDAG:
        """Build from ``(a, b, kind)`` triples (``kind`` defaults to ``"directed"``).

        Examples
        --------
        >>> PDAG.from_edges([("X", "Y"), ("Y", "Z", "undirected")])
        PDAG(nodes=['X', 'Y', 'Z'], edges=['X -> Y', 'Y - Z'])
        """
        if isinstance(edges, (str, bytes)) or not isinstance(edges, Iterable):
            raise GraphError(f"edges must be a list of (a, b) or (a, b, kind) tuples; got {edges!r}")
        edges = list(edges)
        for e in edges:
            if isinstance(e, (str, bytes)) or not isinstance(e, Iterable) or len(tuple(e)) not in (2, 3):
                raise GraphError(f"each edge must be an (a, b) or (a, b, kind) tuple; got {e!r}")
        edges = [tuple(e) for e in edges]
        order = list(nodes) if nodes is not None else []
        if nodes is None:
            for e in edges:
                for x in e[:2]:
                    if x not in order:
                        order.append(x)
        buckets = {k: [] for k in EDGE_KINDS}
        for e in edges:
            kind = e[2] if len(e) > 2 else "directed"
            if kind not in buckets:
                raise GraphError(f"unknown edge kind {kind!r}; expected one of {list(EDGE_KINDS)}")
            buckets[kind].append(e[:2])
        return cls(order, buckets["directed"], buckets["undirected"], buckets["bidirected"])

    @classmethod
    def from_networkx(cls, graph) -> PDAG:
        """From a DiGraph (all edges directed; a pair of opposite edges becomes undirected),
        or from an undirected Graph (all edges undirected)."""
        check_graph_input(graph, (nx.Graph, nx.MultiGraph), what="a networkx graph", owner="PDAG.from_networkx")
        if isinstance(graph, nx.DiGraph):
            directed, undirected = [], set()
            for u, v in graph.edges:
                if graph.has_edge(v, u):
                    undirected.add(frozenset((u, v)))
                else:
                    directed.append((u, v))
            return cls(graph.nodes, directed, undirected)
        return cls(graph.nodes, (), graph.edges)

    def to_networkx(self) -> nx.DiGraph:
        """A DiGraph: directed edges once, undirected edges as two opposite edges.

        Bidirected edges are kept as two opposite edges with attribute ``kind="bidirected"``;
        every edge carries a ``kind`` attribute.
        """
        g = nx.DiGraph()
        g.add_nodes_from(self._nodes)
        for u, v in self._directed:
            g.add_edge(u, v, kind="directed")
        for kind, es in (("undirected", self._undirected), ("bidirected", self._bidirected)):
            for e in es:
                a, b = tuple(e)
                g.add_edge(a, b, kind=kind)
                g.add_edge(b, a, kind=kind)
        return g

    @classmethod
    def from_adjacency(cls, adjacency, nodes=None) -> PDAG:
        """Inverse of :meth:`to_adjacency` (bit 1: tail-or-line ``i -> j`` / ``i - j``; bit 2: ``i <-> j``)."""
        a = np.asarray(adjacency)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise GraphError(f"adjacency must be square; got shape {a.shape}")
        nodes = list(nodes) if nodes is not None else [f"X{i}" for i in range(a.shape[0])]
        a = _integer_codes(a, nodes, allowed=(0, 1, 2, 3), what="adjacency")
        if len(nodes) != a.shape[0]:
            raise GraphError(f"adjacency has {a.shape[0]} rows but {len(nodes)} node names were given")
        d, u, b = [], [], []
        n = a.shape[0]
        for i in range(n):
            if a[i, i]:
                raise GraphError(f"adjacency has a self-loop on {nodes[i]!r}")
            for j in range(i + 1, n):
                x, y = int(a[i, j]), int(a[j, i])
                if x not in (0, 1, 2, 3) or y not in (0, 1, 2, 3) or (x & 2) != (y & 2):
                    raise GraphError(f"invalid adjacency entries {x}, {y} between {nodes[i]!r} and {nodes[j]!r}")
                if x & 2:
                    b.append((nodes[i], nodes[j]))
                mx, my = x & 1, y & 1
                if mx and my:
                    u.append((nodes[i], nodes[j]))
                elif mx:
                    d.append((nodes[i], nodes[j]))
                elif my:
                    d.append((nodes[j], nodes[i]))
        return cls(nodes, d, u, b)

    def to_adjacency(self) -> np.ndarray:
        """Integer adjacency array in the order of :attr:`nodes`.

        Encoding, as bit flags: ``A[i, j] = 1`` and ``A[j, i] = 0`` for ``i -> j``;
        ``A[i, j] = A[j, i] = 1`` for ``i - j``; ``A[i, j] = A[j, i] = 2`` for ``i <-> j``;
        a bow arc ``i -> j, i <-> j`` is ``A[i, j] = 3, A[j, i] = 2``; 0 for no edge.
        For a DAG this is the usual convention ``A[i, j] = 1`` iff ``i -> j``.
        """
        pos = {n: i for i, n in enumerate(self._nodes)}
        a = np.zeros((len(self._nodes),) * 2, dtype=int)
        for u, v in self._directed:
            a[pos[u], pos[v]] = 1
        for val, es in ((1, self._undirected), (2, self._bidirected)):
            for e in es:
                x, y = tuple(e)
                a[pos[x], pos[y]] |= val
                a[pos[y], pos[x]] |= val
        return a

    @classmethod
    def from_causallearn(cls, graph, nodes=None) -> PDAG:
        """From causal-learn's graph matrix or its ``GeneralGraph``.

        causal-learn stores endpoint marks in a square integer matrix ``G`` where
        ``G[i, j]`` is the mark at node ``i`` of the edge between ``i`` and ``j``
        (``-1`` a tail, ``1`` an arrowhead): ``G[i, j] = -1, G[j, i] = 1`` is ``i -> j``;
        ``G[i, j] = G[j, i] = -1`` is ``i - j``; ``G[i, j] = G[j, i] = 1`` is ``i <-> j``;
        ``0, 0`` is no edge. This is the matrix behind ``cg.G.graph`` of causal-learn's
        ``pc``, ``cdnod``, ``ges`` and friends. Other marks (such as FCI's circle ``2``)
        have no PDAG counterpart and are rejected.

        Parameters
        ----------
        graph : array_like or causallearn.graph.GeneralGraph.GeneralGraph
            The square mark matrix, or any object with a ``.graph`` matrix attribute and
            a ``.get_nodes()`` method returning nodes with ``.get_name()`` (a causal-learn
            ``GeneralGraph``; causal-learn itself is not imported).
        nodes : iterable of hashable, optional
            Node names in matrix order. By default the ``GeneralGraph``'s node names, and
            for a bare matrix causal-learn's own default names ``"X1"`` ... ``"Xd"``
            (numbered from 1, unlike :meth:`from_adjacency`), so that names match what
            causal-learn prints for the same graph.

        Returns
        -------
        PDAG

        Raises
        ------
        GraphError
            If the matrix is not square, has a non-zero diagonal, the number of names
            does not match it, or a pair of entries is not one of the five encodings
            above (the message names both nodes and both values).

        See Also
        --------
        to_causallearn : the inverse.

        Examples
        --------
        >>> import numpy as np
        >>> G = np.array([[0, -1, 0], [1, 0, -1], [0, -1, 0]])
        >>> PDAG.from_causallearn(G)
        PDAG(nodes=['X1', 'X2', 'X3'], edges=['X1 -> X2', 'X2 - X3'])
        >>> PDAG.from_causallearn(G, nodes=["A", "B", "C"])
        PDAG(nodes=['A', 'B', 'C'], edges=['A -> B', 'B - C'])
        """
        if hasattr(graph, "graph") and callable(getattr(graph, "get_nodes", None)):
            if nodes is None:
                nodes = [n.get_name() for n in graph.get_nodes()]
            graph = graph.graph
        g = np.asarray(graph)
        if g.ndim != 2 or g.shape[0] != g.shape[1]:
            raise GraphError(f"causal-learn graph matrix must be square; got shape {g.shape}")
        d = g.shape[0]
        nodes = list(nodes) if nodes is not None else [f"X{i + 1}" for i in range(d)]
        if len(nodes) != d:
            raise GraphError(f"causal-learn graph matrix has {d} rows but {len(nodes)} node names were given")
        g = g.tolist()  # plain Python numbers, for comparisons and messages
        directed, undirected, bidirected = [], [], []
        for i in range(d):
            if g[i][i] != 0:
                raise GraphError(f"causal-learn graph matrix has {g[i][i]!r} on the diagonal at {nodes[i]!r}; expected 0")
            for j in range(i + 1, d):
                marks = (g[i][j], g[j][i])
                if marks == (0, 0):
                    continue
                if marks == (-1, 1):
                    directed.append((nodes[i], nodes[j]))
                elif marks == (1, -1):
                    directed.append((nodes[j], nodes[i]))
                elif marks == (-1, -1):
                    undirected.append((nodes[i], nodes[j]))
                elif marks == (1, 1):
                    bidirected.append((nodes[i], nodes[j]))
                else:
                    raise GraphError(
                        f"invalid causal-learn marks between {nodes[i]!r} and {nodes[j]!r}: "
                        f"G[i, j] = {marks[0]!r}, G[j, i] = {marks[1]!r}; expected one of "
                        "(0, 0), (-1, 1), (1, -1), (-1, -1), (1, 1)"
                    )
        return cls(nodes, directed, undirected, bidirected)

    def to_causallearn(self) -> np.ndarray:
        """causal-learn's mark matrix of this graph, in the order of :attr:`nodes`.

        ``G[i, j] = -1, G[j, i] = 1`` for ``i -> j``; ``-1, -1`` for ``i - j``; ``1, 1``
        for ``i <-> j``; 0 for no edge (see :meth:`from_causallearn`). The node names are
        :attr:`nodes`; pass them back as ``nodes=`` to round-trip.

        Returns
        -------
        numpy.ndarray
            A square ``int`` array.

        Raises
        ------
        GraphError
            If the graph has a bow arc (``a -> b`` and ``a <-> b`` on one pair), which the
            encoding cannot hold.

        Examples
        --------
        >>> g = PDAG(["A", "B", "C"], directed=[("A", "B")], bidirected=[("B", "C")])
        >>> g.to_causallearn()
        array([[ 0, -1,  0],
               [ 1,  0,  1],
               [ 0,  1,  0]])
        >>> PDAG.from_causallearn(g.to_causallearn(), nodes=g.nodes) == g
        True
        """
        pos = {n: i for i, n in enumerate(self._nodes)}
        g = np.zeros((len(self._nodes),) * 2, dtype=int)
        for u, v in self._directed:
            if frozenset((u, v)) in self._bidirected:
                raise GraphError(
                    f"{u!r} -> {v!r} together with {u!r} <-> {v!r} (a bow arc) cannot be written "
                    "in causal-learn's matrix, which holds one edge per pair"
                )
            g[pos[u], pos[v]], g[pos[v], pos[u]] = -1, 1
        for mark, es in ((-1, self._undirected), (1, self._bidirected)):
            for e in es:
                x, y = tuple(e)
                g[pos[x], pos[y]] = g[pos[y], pos[x]] = mark
        return g

    def to_dict(self) -> dict:
        """``{"nodes": [...], "edges": [{"source", "target", "kind"}, ...]}``."""
        return {
            "nodes": list(self._nodes),
            "edges": [{"source": a, "target": b, "kind": k} for a, b, k in self.edges()],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> PDAG:
        """Inverse of :meth:`to_dict`."""
        try:
            nodes = data["nodes"]
            edges = [(e["source"], e["target"], e.get("kind", "directed")) for e in data["edges"]]
        except (KeyError, TypeError) as exc:
            raise GraphError(
                'graph JSON must look like {"nodes": [...], "edges": [{"source": ..., "target": ..., "kind": ...}]}'
            ) from exc
        return cls.from_edges(edges, nodes=nodes)

    def to_json(self, **kwargs) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> PDAG:
        """Inverse of :meth:`to_json`.

        Raises
        ------
        GraphError
            If ``text`` is not JSON (the position of the error is given) or not a graph's JSON.
        """
        return cls.from_dict(_load_json(text, "graph JSON"))

    def to_dot(self, name: str = "G") -> str:
        """Graphviz DOT text; undirected edges have no arrowheads, bidirected two.

        Examples
        --------
        >>> print(PDAG.from_edges([("A", "B")]).to_dot())
        digraph G {
          "A";
          "B";
          "A" -> "B";
        }
        """
        def q(x):
            return '"' + str(x).replace('"', '\\"') + '"'

        lines = [f"digraph {name} {{"]
        lines += [f"  {q(n)};" for n in self._nodes]
        for a, b, k in self.edges():
            attr = {"directed": "", "undirected": " [dir=none]", "bidirected": " [dir=both, style=dashed]"}[k]
            lines.append(f"  {q(a)} -> {q(b)}{attr};")
        lines.append("}")
        return "\n".join(lines)

    def is_dag(self) -> bool:
        """Whether every edge is directed and there is no directed cycle."""
        if self._undirected or self._bidirected:
            return False
        return nx.is_directed_acyclic_graph(self.to_networkx())

    # -------------------------------------------------------------- dunders
    def __eq__(self, other) -> bool:
        if not isinstance(other, PDAG):
            return NotImplemented
        return (
            set(self._nodes) == set(other._nodes)
            and self._directed == other._directed
            and self._undirected == other._undirected
            and self._bidirected == other._bidirected
        )

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((frozenset(self._nodes), self._directed, self._undirected, self._bidirected)))
        return self._hash

    def __repr__(self) -> str:
        sym = {"directed": "->", "undirected": "-", "bidirected": "<->"}
        shown = [f"{a} {sym[k]} {b}" for a, b, k in self.edges()]
        more = ""
        if len(shown) > 20:
            more, shown = f", ... {len(shown) - 20} more", shown[:20]
        return f"PDAG(nodes={list(self._nodes)!r}, edges={shown!r}{more})"
