"""Lagged time-series graphs: the immutable :class:`LaggedGraph`.

A time-series graph over variables ``X_1 .. X_N`` has *links* ``X_i(t - tau) -> X_j(t)``
that hold for every time ``t`` (stationarity). A link is written ``(source, target, lag)``:

- ``lag >= 1``: a *lagged* link, always directed forward in time (``source == target``
  is allowed: autodependence);
- ``lag == 0``: a *contemporaneous* edge between two different variables, either
  directed (``X_i(t) -> X_j(t)``), undirected (``X_i(t) - X_j(t)``, the direction is not
  identified) or conflicting (``X_i(t) x-x X_j(t)``, a discovery algorithm found
  contradicting orientations).

Besides the accessors, the module converts graphs to and from a ``(N, N, tau_max + 1)``
integer array, a time-unrolled :class:`networkx.DiGraph`, JSON, Graphviz DOT and a summary
graph, reads link strengths (:func:`link_strengths`, e.g. PCMCI's ``val_matrix_``), and
computes the Markov-equivalence class of the contemporaneous part
(:meth:`LaggedGraph.cpdag`) that constraint-based time-series discovery can identify.

Examples
--------
>>> g = LaggedGraph(["X", "Y"], directed=[("X", "X", 1), ("X", "Y", 2)], undirected=[("X", "Y")])
>>> g
LaggedGraph(nodes=['X', 'Y'], edges=['X(t-1) -> X(t)', 'X(t-2) -> Y(t)', 'X(t) - Y(t)'])
>>> sorted(g.lagged_links), g.tau_max
([('X', 'X', 1), ('X', 'Y', 2)], 2)
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Hashable, Iterable, Mapping

import networkx as nx
import numpy as np

from ._exceptions import CycleError, GraphError, ParameterError, UnknownNodeError
from ._graph import _integer_codes, _load_json

__all__ = ["LaggedGraph", "LAGGED_EDGE_KINDS", "link_strengths"]

#: Edge kinds of a :class:`LaggedGraph`; lagged links are always ``"directed"``.
LAGGED_EDGE_KINDS = ("directed", "undirected", "conflict")

_SYMBOL = {"directed": "->", "undirected": "-", "conflict": "x-x"}


def _check_lag(lag, what) -> int:
    if isinstance(lag, bool) or not isinstance(lag, numbers.Integral) or int(lag) < 0:
        raise GraphError(f"the lag of {what} must be an int >= 0; got {lag!r}")
    return int(lag)


def _fmt(node, lag: int) -> str:
    return f"{node}(t)" if lag == 0 else f"{node}(t-{lag})"


def link_strengths(graph: LaggedGraph, strengths, *, owner: str = "LaggedGraph.to_dot") -> dict:
    """The strength of each edge of ``graph``, keyed as :meth:`LaggedGraph.edges` lists it.

    Parameters
    ----------
    graph : LaggedGraph
    strengths : array of shape (N, N, L) or mapping
        An array in tigramite's layout, as PCMCI's ``val_matrix_``: ``strengths[i, j, lag]``
        is the strength of ``nodes[i](t - lag) -> nodes[j](t)``, with ``N = len(graph.nodes)``
        and ``L`` more than the largest lag of an edge; entries of pairs that are not edges
        are ignored. Or a mapping ``(source, target, lag) -> value`` for some of the edges (an
        undirected or conflicting edge under either order of its ends).
    owner : str
        Who asks, for the error messages.

    Returns
    -------
    dict
        ``(source, target, lag) -> float`` for the edges that have a strength.

    Raises
    ------
    ParameterError
        If the array has the wrong shape, a key names no edge of the graph, or a strength of
        an edge is not a finite number.
    UnknownNodeError
        If a key names a node that is not in the graph.

    Examples
    --------
    >>> import numpy as np
    >>> g = LaggedGraph(["X", "Y"], directed=[("X", "Y", 1)])
    >>> val = np.zeros((2, 2, 2))
    >>> val[0, 1, 1] = 0.4
    >>> link_strengths(g, val)
    {('X', 'Y', 1): 0.4}
    >>> link_strengths(g, {("X", "Y", 1): -0.2})
    {('X', 'Y', 1): -0.2}
    """
    edges = graph.edges()
    out: dict = {}
    if isinstance(strengths, Mapping):
        where = {(s, t, lag): (s, t, lag) for s, t, lag, _ in edges}
        where.update({(t, s, 0): (s, t, 0) for s, t, lag, kind in edges if lag == 0 and kind != "directed"})
        for key, value in strengths.items():
            if not (isinstance(key, tuple) and len(key) == 3):
                raise ParameterError(f"the keys of 'strengths' of {owner} must be (source, target, lag) tuples; got {key!r}")
            s, t, lag = key
            for node in (s, t):
                graph._check(node)
            if key not in where:
                raise ParameterError(f"'strengths' of {owner} gives a strength for {_fmt(s, lag)} -> {_fmt(t, 0)}, "
                                     "which is not an edge of the graph")
            out[where[key]] = value
    else:
        try:
            array = np.asarray(strengths, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"'strengths' of {owner} must be an array of shape (N, N, tau_max + 1) or a mapping "
                                 f"(source, target, lag) -> value; got {type(strengths).__name__}") from None
        n = len(graph.nodes)
        longest = max((lag for _, _, lag, _ in edges), default=0)
        if array.ndim != 3 or array.shape[:2] != (n, n) or array.shape[2] <= longest:
            raise ParameterError(f"'strengths' of {owner} must have the shape ({n}, {n}, L) with L > {longest}, "
                                 f"the graph's longest lag, as val_matrix[i, j, lag]; got the shape {array.shape}")
        pos = {v: i for i, v in enumerate(graph.nodes)}
        out = {(s, t, lag): array[pos[s], pos[t], lag] for s, t, lag, _ in edges}
    for (s, t, lag), value in out.items():
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ParameterError(f"the strength of {_fmt(s, lag)} -> {_fmt(t, 0)} given to {owner} must be a finite "
                                 f"number; got {value!r}")
        out[(s, t, lag)] = float(value)
    return out


class LaggedGraph:
    """An immutable time-series graph with lagged and contemporaneous edges.

    Parameters
    ----------
    nodes : iterable of hashable
        Variable names, in the order used by :meth:`to_array`.
    directed : iterable of (source, target, lag)
        Directed links ``source(t - lag) -> target(t)``; ``lag >= 1`` for lagged links,
        ``lag == 0`` for directed contemporaneous edges (``source != target``).
    undirected : iterable of pairs
        Undirected contemporaneous edges ``a(t) - b(t)``.
    conflicting : iterable of pairs
        Contemporaneous adjacencies with conflicting orientations ``a(t) x-x b(t)``.
    tau_max : int, optional
        The largest lag the graph speaks about (default: the largest lag of its links).
        It sets the shape of :meth:`to_array`; it must be at least the largest lag.

    Raises
    ------
    GraphError
        On a negative lag, a contemporaneous self-loop, more than one contemporaneous edge
        between two variables, or a ``tau_max`` smaller than a link's lag.
    UnknownNodeError
        If an edge endpoint is not a node.

    Notes
    -----
    Two graphs are equal when they have the same node set and the same edges; the declared
    ``tau_max`` is not compared (so an estimate with ``tau_max=5`` equals a truth whose
    longest link has lag 2 when the links agree).

    Examples
    --------
    >>> g = LaggedGraph(["A", "B", "C"], directed=[("A", "B", 1), ("B", "C", 0)], tau_max=2)
    >>> g.parents("C"), g.tau_max
    ({('B', 0)}, 2)
    >>> LaggedGraph.from_json(g.to_json()) == g
    True
    >>> LaggedGraph.from_array(g.to_array(), nodes=g.nodes) == g
    True
    """

    __slots__ = ("_nodes", "_lagged", "_cdirected", "_undirected", "_conflicting", "_tau_max", "_hash")

    def __init__(self, nodes: Iterable[Hashable] = (), directed=(), undirected=(), conflicting=(), *, tau_max: int | None = None):
        nodes = list(nodes)
        seen: set = set()
        for n in nodes:
            if n in seen:
                raise GraphError(f"node {n!r} is listed twice")
            seen.add(n)

        def known(x):
            if x not in seen:
                raise UnknownNodeError(f"edge endpoint {x!r} is not a node of the graph")

        lagged, cdir = set(), set()
        for e in directed:
            e = tuple(e)
            if len(e) != 3:
                raise GraphError(f"a directed link must be (source, target, lag); got {e!r}")
            s, t, lag = e
            lag = _check_lag(lag, f"link {s!r} -> {t!r}")
            known(s), known(t)
            if lag == 0:
                if s == t:
                    raise GraphError(f"contemporaneous self-loop on {s!r} is not allowed")
                cdir.add((s, t))
            else:
                lagged.add((s, t, lag))
        pairs: dict[frozenset, str] = {}
        for s, t in cdir:
            key = frozenset((s, t))
            if key in pairs:
                raise GraphError(f"more than one contemporaneous edge between {s!r} and {t!r} ({s!r} -> {t!r} both ways)")
            pairs[key] = "directed"
        sets = {}
        for kind, edges in (("undirected", undirected), ("conflict", conflicting)):
            out = set()
            for e in edges:
                e = tuple(e)
                if len(e) == 3:
                    if _check_lag(e[2], f"edge {e[0]!r} - {e[1]!r}") != 0:
                        raise GraphError(f"{kind} edges are contemporaneous (lag 0); got {e!r}")
                    e = e[:2]
                if len(e) != 2:
                    raise GraphError(f"an {kind} edge must be a pair of nodes; got {e!r}")
                a, b = e
                known(a), known(b)
                if a == b:
                    raise GraphError(f"contemporaneous self-loop on {a!r} is not allowed")
                key = frozenset((a, b))
                if key in pairs and not (pairs[key] == kind and key in out):
                    raise GraphError(f"more than one contemporaneous edge between {a!r} and {b!r} ({pairs[key]} and {kind})")
                pairs[key] = kind
                out.add(key)
            sets[kind] = frozenset(out)
        longest = max([lag for *_, lag in lagged], default=0)
        if tau_max is None:
            tau_max = longest
        else:
            tau_max = _check_lag(tau_max, "tau_max")
            if tau_max < longest:
                raise GraphError(f"tau_max={tau_max} is smaller than the largest lag of a link ({longest})")
        object.__setattr__(self, "_nodes", tuple(nodes))
        object.__setattr__(self, "_lagged", frozenset(lagged))
        object.__setattr__(self, "_cdirected", frozenset(cdir))
        object.__setattr__(self, "_undirected", sets["undirected"])
        object.__setattr__(self, "_conflicting", sets["conflict"])
        object.__setattr__(self, "_tau_max", int(tau_max))
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, key, value):
        raise AttributeError("LaggedGraph is immutable; build a new one")

    def __reduce__(self):
        # Immutable with __slots__: pickle rebuilds through the dict form (tau_max kept).
        return (LaggedGraph.from_dict, (self.to_dict(),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # ----------------------------------------------------------------- access
    @property
    def nodes(self) -> tuple:
        """The variable names, in order."""
        return self._nodes

    @property
    def tau_max(self) -> int:
        """The largest lag the graph covers (declared, or the largest link lag)."""
        return self._tau_max

    @property
    def lagged_links(self) -> frozenset:
        """Set of lagged links ``(source, target, lag)`` with ``lag >= 1``."""
        return self._lagged

    @property
    def contemporaneous_edges(self) -> frozenset:
        """Contemporaneous edges: directed ``(source, target)`` tuples and undirected frozensets.

        Conflicting edges are in :attr:`conflicting_edges`, not here.
        """
        return self._cdirected | self._undirected

    @property
    def directed_contemporaneous(self) -> frozenset:
        """Directed contemporaneous edges ``(source, target)``."""
        return self._cdirected

    @property
    def undirected_contemporaneous(self) -> frozenset:
        """Undirected contemporaneous edges, as frozensets ``{a, b}``."""
        return self._undirected

    @property
    def conflicting_edges(self) -> frozenset:
        """Contemporaneous edges with conflicting orientations, as frozensets ``{a, b}``."""
        return self._conflicting

    def edges(self) -> list[tuple]:
        """All edges as ``(source, target, lag, kind)`` in a deterministic order.

        Lagged links first (by target, lag, source in node order), then contemporaneous
        edges (directed, undirected, conflicting). Undirected and conflicting edges list
        their endpoints in node order.
        """
        pos = {n: i for i, n in enumerate(self._nodes)}
        lagged = sorted(self._lagged, key=lambda e: (pos[e[1]], e[2], pos[e[0]]))
        out = [(s, t, lag, "directed") for s, t, lag in lagged]
        out += sorted(((s, t, 0, "directed") for s, t in self._cdirected), key=lambda e: (pos[e[0]], pos[e[1]]))
        for kind, es in (("undirected", self._undirected), ("conflict", self._conflicting)):
            rows = [tuple(sorted(e, key=pos.__getitem__)) for e in es]
            out += [(a, b, 0, kind) for a, b in sorted(rows, key=lambda e: (pos[e[0]], pos[e[1]]))]
        return out

    def _check(self, node):
        if node not in self._nodes:
            raise UnknownNodeError(f"node {node!r} is not in the graph (nodes: {list(self._nodes)[:10]})")

    def has_link(self, source, target, lag: int) -> bool:
        """Whether ``source(t - lag) -> target(t)`` is a directed edge."""
        if lag == 0:
            return (source, target) in self._cdirected
        return (source, target, lag) in self._lagged

    def adjacent(self, a, b, lag: int = 0) -> bool:
        """Whether ``a(t - lag)`` and ``b(t)`` share an edge of any kind."""
        if lag == 0:
            key = frozenset((a, b))
            return (a, b) in self._cdirected or (b, a) in self._cdirected or key in self._undirected or key in self._conflicting
        return (a, b, lag) in self._lagged

    def parents(self, node) -> set:
        """Directed parents of ``node(t)`` as ``(source, lag)`` pairs (lag 0 included)."""
        self._check(node)
        out = {(s, lag) for s, t, lag in self._lagged if t == node}
        return out | {(s, 0) for s, t in self._cdirected if t == node}

    def __contains__(self, node) -> bool:
        return node in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    # ----------------------------------------------------------- conversions
    @classmethod
    def from_edges(cls, edges: Iterable[tuple], nodes: Iterable | None = None, *, tau_max: int | None = None) -> LaggedGraph:
        """Build from ``(source, target, lag[, kind])`` tuples (``kind`` defaults to ``"directed"``).

        Examples
        --------
        >>> LaggedGraph.from_edges([("X", "Y", 1), ("Y", "Z", 0, "undirected")])
        LaggedGraph(nodes=['X', 'Y', 'Z'], edges=['X(t-1) -> Y(t)', 'Y(t) - Z(t)'])
        """
        edges = [tuple(e) for e in edges]
        order = list(nodes) if nodes is not None else []
        if nodes is None:
            for e in edges:
                for x in e[:2]:
                    if x not in order:
                        order.append(x)
        buckets: dict[str, list] = {k: [] for k in LAGGED_EDGE_KINDS}
        for e in edges:
            if len(e) not in (3, 4):
                raise GraphError(f"an edge must be (source, target, lag[, kind]); got {e!r}")
            kind = e[3] if len(e) == 4 else "directed"
            if kind not in buckets:
                raise GraphError(f"unknown edge kind {kind!r}; expected one of {list(LAGGED_EDGE_KINDS)}")
            if kind != "directed" and e[2] != 0:
                raise GraphError(f"{kind} edges are contemporaneous (lag 0); got {e!r}")
            buckets[kind].append(e[:3] if kind == "directed" else e[:2])
        return cls(order, buckets["directed"], buckets["undirected"], buckets["conflict"], tau_max=tau_max)

    @classmethod
    def from_array(cls, array, nodes=None) -> LaggedGraph:
        """Inverse of :meth:`to_array`.

        Parameters
        ----------
        array : array-like of shape (N, N, tau_max + 1)
            Integer codes, see :meth:`to_array`. Any nonzero lagged entry is a link.
        nodes : sequence, optional
            Variable names (default ``X0, X1, ...``).

        Returns
        -------
        LaggedGraph
            With ``tau_max = array.shape[2] - 1``.

        Examples
        --------
        >>> import numpy as np
        >>> a = np.zeros((2, 2, 2), dtype=int)
        >>> a[0, 1, 1] = 1                      # X0(t-1) -> X1(t)
        >>> a[0, 1, 0] = a[1, 0, 0] = 1         # X0(t) - X1(t)
        >>> LaggedGraph.from_array(a)
        LaggedGraph(nodes=['X0', 'X1'], edges=['X0(t-1) -> X1(t)', 'X0(t) - X1(t)'])
        """
        a = np.asarray(array)
        if a.ndim != 3 or a.shape[0] != a.shape[1] or a.shape[2] < 1:
            raise GraphError(f"a lagged adjacency array must have shape (N, N, tau_max + 1); got {a.shape}")
        n = a.shape[0]
        nodes = list(nodes) if nodes is not None else [f"X{i}" for i in range(n)]
        if len(nodes) != n:
            raise GraphError(f"the array has {n} variables but {len(nodes)} node names were given")
        a = _integer_codes(a, nodes, what="lagged adjacency array")
        ii, jj, tt = np.nonzero(a[:, :, 1:])
        directed = [(nodes[i], nodes[j], int(t) + 1) for i, j, t in zip(ii, jj, tt)]
        und, conf = [], []
        c = a[:, :, 0]
        for i in range(n):
            if c[i, i]:
                raise GraphError(f"the array has a contemporaneous self-loop on {nodes[i]!r}")
            for j in range(i + 1, n):
                x, y = c[i, j], c[j, i]
                if x == 0 and y == 0:
                    continue
                if x == 1 and y == 1:
                    und.append((nodes[i], nodes[j]))
                elif x == 2 and y == 2:
                    conf.append((nodes[i], nodes[j]))
                elif x == 1 and y == 0:
                    directed.append((nodes[i], nodes[j], 0))
                elif x == 0 and y == 1:
                    directed.append((nodes[j], nodes[i], 0))
                else:
                    raise GraphError(f"invalid contemporaneous entries {x}, {y} between {nodes[i]!r} and {nodes[j]!r}")
        return cls(nodes, directed, und, conf, tau_max=a.shape[2] - 1)

    def to_array(self, tau_max: int | None = None) -> np.ndarray:
        """Integer array of shape ``(N, N, tau_max + 1)`` in the order of :attr:`nodes`.

        Encoding, for variables ``i`` and ``j``:

        - lag ``tau >= 1``: ``A[i, j, tau] = 1`` iff ``X_i(t - tau) -> X_j(t)``, else 0 (the
          convention of ``scm.simulate.time_series``'s ``metadata["lag_array"]``);
        - lag 0: ``A[i, j, 0] = 1, A[j, i, 0] = 0`` for ``X_i(t) -> X_j(t)``;
          ``A[i, j, 0] = A[j, i, 0] = 1`` for the undirected ``X_i(t) - X_j(t)``;
          ``A[i, j, 0] = A[j, i, 0] = 2`` for a conflicting edge; 0 for no edge.

        Parameters
        ----------
        tau_max : int, optional
            Number of lag slices minus one (default :attr:`tau_max`; at least the largest lag).
        """
        tau_max = self._tau_max if tau_max is None else _check_lag(tau_max, "tau_max")
        longest = max([lag for *_, lag in self._lagged], default=0)
        if tau_max < longest:
            raise GraphError(f"tau_max={tau_max} is smaller than the largest lag of a link ({longest})")
        pos = {n: i for i, n in enumerate(self._nodes)}
        a = np.zeros((len(self._nodes), len(self._nodes), tau_max + 1), dtype=int)
        for s, t, lag in self._lagged:
            a[pos[s], pos[t], lag] = 1
        for s, t in self._cdirected:
            a[pos[s], pos[t], 0] = 1
        for val, es in ((1, self._undirected), (2, self._conflicting)):
            for e in es:
                x, y = tuple(e)
                a[pos[x], pos[y], 0] = a[pos[y], pos[x], 0] = val
        return a

    def to_unrolled(self, n_lags: int | None = None) -> nx.DiGraph:
        """The time-unrolled graph over a window of ``n_lags + 1`` time steps.

        Nodes are ``(var, -u)`` for ``u = 0 .. n_lags`` (``(var, 0)`` is time ``t``,
        ``(var, -2)`` is time ``t - 2``); every link is repeated at every time step where
        both endpoints fall in the window. Undirected and conflicting contemporaneous edges
        become two opposite edges; every edge carries a ``kind`` attribute and a ``lag``.

        Parameters
        ----------
        n_lags : int, optional
            Window length minus one (default :attr:`tau_max`).

        Returns
        -------
        networkx.DiGraph
            A DAG when every contemporaneous edge is directed and acyclic.

        Examples
        --------
        >>> g = LaggedGraph(["X", "Y"], directed=[("X", "Y", 1)])
        >>> sorted(g.to_unrolled(2).edges)
        [(('X', -2), ('Y', -1)), (('X', -1), ('Y', 0))]
        """
        n_lags = self._tau_max if n_lags is None else _check_lag(n_lags, "n_lags")
        g = nx.DiGraph()
        g.add_nodes_from((v, -u) for u in range(n_lags, -1, -1) for v in self._nodes)
        for u in range(n_lags + 1):
            for s, t, lag in sorted(self._lagged, key=repr):
                if u + lag <= n_lags:
                    g.add_edge((s, -(u + lag)), (t, -u), kind="directed", lag=lag)
            for s, t in self._cdirected:
                g.add_edge((s, -u), (t, -u), kind="directed", lag=0)
            for kind, es in (("undirected", self._undirected), ("conflict", self._conflicting)):
                for e in es:
                    a, b = tuple(e)
                    g.add_edge((a, -u), (b, -u), kind=kind, lag=0)
                    g.add_edge((b, -u), (a, -u), kind=kind, lag=0)
        return g

    def summary_graph(self) -> nx.DiGraph:
        """The summary graph: ``i -> j`` iff some link ``X_i(t - tau) -> X_j(t)`` with ``i != j``.

        Edge attribute ``lags`` lists the lags. Undirected and conflicting contemporaneous
        edges give edges both ways (lag 0). Self-dependence is not drawn.
        """
        g = nx.DiGraph()
        g.add_nodes_from(self._nodes)
        pairs = [(s, t, lag) for s, t, lag in self._lagged if s != t] + [(s, t, 0) for s, t in self._cdirected]
        for es in (self._undirected, self._conflicting):
            for e in es:
                a, b = tuple(e)
                pairs += [(a, b, 0), (b, a, 0)]
        for s, t, lag in pairs:
            if g.has_edge(s, t):
                g[s][t]["lags"] = sorted(set(g[s][t]["lags"]) | {lag})
            else:
                g.add_edge(s, t, lags=[lag])
        return g

    def to_dot(self, name: str = "G", *, strengths=None, digits: int = 2) -> str:
        """Graphviz DOT text of the time-series graph: one node per variable and lag, by lag.

        The nodes ``X(t-tau_max) .. X(t)`` of every variable; the nodes of one lag share a
        rank (a column, time running left to right), and an invisible edge between the
        consecutive lags of each variable keeps its nodes in one row. Each edge is drawn once,
        ending at time ``t``, labelled with its lag (and its strength, when given). As in
        :meth:`scm.PDAG.to_dot`: undirected edges have no arrowheads; conflicting ones
        (``x-x``) no arrowheads and a dotted line.

        Parameters
        ----------
        name : str
            The graph's name in the DOT text.
        strengths : array of shape (N, N, tau_max + 1) or mapping, optional
            Link strengths, e.g. a fitted PCMCI's ``val_matrix_`` (see :func:`link_strengths`);
            each edge with a strength is labelled ``"lag: strength"``.
        digits : int
            Significant digits of the strengths.

        Returns
        -------
        str

        Examples
        --------
        >>> g = LaggedGraph(["X", "Y"], directed=[("X", "Y", 1)], undirected=[("X", "Y")])
        >>> print(g.to_dot(strengths={("X", "Y", 1): 0.512, ("X", "Y", 0): -0.25}))
        digraph G {
          rankdir=LR;
          subgraph "lag 1" { rank=same; "X(t-1)"; "Y(t-1)"; }
          subgraph "lag 0" { rank=same; "X(t)"; "Y(t)"; }
          "X(t-1)" -> "X(t)" [style=invis];
          "Y(t-1)" -> "Y(t)" [style=invis];
          "X(t-1)" -> "Y(t)" [label="1: 0.51"];
          "X(t)" -> "Y(t)" [label="0: -0.25", dir=none];
        }
        """
        from ._validation import check_in_range

        digits = check_in_range(digits, name="digits", low=1, high=17, inclusive="both", owner="LaggedGraph.to_dot",
                                integer=True)
        values = {} if strengths is None else link_strengths(self, strengths)

        def q(x):
            return '"' + str(x).replace('"', '\\"') + '"'

        lines = [f"digraph {name} {{", "  rankdir=LR;"]
        for lag in range(self._tau_max, -1, -1):
            members = " ".join(f"{q(_fmt(v, lag))};" for v in self._nodes)
            lines.append(f"  subgraph {q(f'lag {lag}')} {{ rank=same; {members} }}")
        for v in self._nodes:
            lines += [f"  {q(_fmt(v, lag))} -> {q(_fmt(v, lag - 1))} [style=invis];" for lag in range(self._tau_max, 0, -1)]
        for s, t, lag, kind in self.edges():
            label = f"{lag}" if (s, t, lag) not in values else f"{lag}: {values[(s, t, lag)]:.{digits}g}"
            attrs = [f"label={q(label)}"] + {"directed": [], "undirected": ["dir=none"], "conflict": ["dir=none", "style=dotted"]}[kind]
            lines.append(f"  {q(_fmt(s, lag))} -> {q(_fmt(t, 0))} [{', '.join(attrs)}];")
        lines.append("}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """``{"nodes": [...], "tau_max": int, "edges": [{"source", "target", "lag", "kind"}, ...]}``."""
        return {
            "nodes": list(self._nodes),
            "tau_max": self._tau_max,
            "edges": [{"source": s, "target": t, "lag": lag, "kind": k} for s, t, lag, k in self.edges()],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> LaggedGraph:
        """Inverse of :meth:`to_dict` (``tau_max`` and ``kind`` are optional)."""
        try:
            nodes = data["nodes"]
            edges = [(e["source"], e["target"], e["lag"], e.get("kind", "directed")) for e in data["edges"]]
        except (KeyError, TypeError) as exc:
            raise GraphError(
                'lagged graph JSON must look like {"nodes": [...], "edges": '
                '[{"source": ..., "target": ..., "lag": ..., "kind": ...}]}'
            ) from exc
        return cls.from_edges(edges, nodes=nodes, tau_max=data.get("tau_max"))

    def to_json(self, **kwargs) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> LaggedGraph:
        """Inverse of :meth:`to_json`.

        Raises
        ------
        GraphError
            If ``text`` is not JSON (the position of the error is given) or not a lagged graph's JSON.
        """
        return cls.from_dict(_load_json(text, "lagged graph JSON"))

    # ------------------------------------------------------ equivalence class
    def cpdag(self) -> LaggedGraph:
        """The Markov-equivalence class of the contemporaneous part, given the time order.

        Lagged links keep their direction (time orders them). A contemporaneous edge stays
        directed when it is part of an unshielded collider ``a -> k(t) <- b`` (``a`` or ``b``
        may be lagged, ``a`` and ``b`` non-adjacent) or when Meek's rules
        (:func:`scm.meek_rules`) orient it from those and the lagged links; every other
        contemporaneous edge becomes undirected. This is what PCMCI+ recovers with a
        perfect CI test.

        Returns
        -------
        LaggedGraph

        Raises
        ------
        GraphError
            If a contemporaneous edge is undirected or conflicting.
        CycleError
            If the contemporaneous edges have a directed cycle.

        Examples
        --------
        >>> chain = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 0), ("Y", "Z", 0)])
        >>> chain.cpdag()
        LaggedGraph(nodes=['X', 'Y', 'Z'], edges=['X(t) - Y(t)', 'Y(t) - Z(t)'])

        With autodependence, time order identifies the direction: ``X(t-1) -> X(t) - Y(t)``
        with ``X(t-1)`` and ``Y(t)`` non-adjacent orients ``X(t) -> Y(t)`` (Meek's R1), and
        ``Y(t-1) -> Y(t) <- X(t)`` is an unshielded collider.

        >>> LaggedGraph(["X", "Y"], directed=[("X", "X", 1), ("X", "Y", 0)]).cpdag()
        LaggedGraph(nodes=['X', 'Y'], edges=['X(t-1) -> X(t)', 'X(t) -> Y(t)'])
        >>> LaggedGraph(["X", "Y"], directed=[("Y", "Y", 1), ("X", "Y", 0)]).cpdag()
        LaggedGraph(nodes=['X', 'Y'], edges=['Y(t-1) -> Y(t)', 'X(t) -> Y(t)'])
        >>> full = [(a, b, 1) for a in "XY" for b in "XY"] + [("X", "Y", 0)]
        >>> LaggedGraph(["X", "Y"], directed=full).cpdag().undirected_contemporaneous == {frozenset("XY")}
        True
        """
        from ._cpdag import _meek_rules
        from ._graph import PDAG

        if self._undirected or self._conflicting:
            raise GraphError("cpdag needs a graph whose contemporaneous edges are all directed")
        contemp = nx.DiGraph(list(self._cdirected))
        if contemp.number_of_edges() and not nx.is_directed_acyclic_graph(contemp):
            cycle = [u for u, _ in nx.find_cycle(contemp)]
            raise CycleError(
                "the contemporaneous edges have a directed cycle: " + " -> ".join(map(str, cycle + cycle[:1])), cycle=cycle
            )
        window = [(v, -u) for u in range(self._tau_max, -1, -1) for v in self._nodes]
        lagged_in = {((s, -lag), (t, 0)) for s, t, lag in self._lagged}

        def adjacent(a, b):  # window nodes, at least one of them at time t
            (va, ta), (vb, tb) = a, b
            if ta == 0 and tb == 0:
                return self.adjacent(va, vb, 0)
            if ta == 0:
                return (vb, va, -tb) in self._lagged
            return (va, vb, -ta) in self._lagged

        colliders = set()
        for k in self._nodes:
            parents = [(s, -lag) for s, lag in self.parents(k)]
            for x in range(len(parents)):
                for y in range(x + 1, len(parents)):
                    a, b = parents[x], parents[y]
                    if (a[1] == 0 or b[1] == 0) and not adjacent(a, b):
                        colliders |= {(a, (k, 0)), (b, (k, 0))}
        directed = lagged_in | colliders
        undirected = [((s, 0), (t, 0)) for s, t in self._cdirected if ((s, 0), (t, 0)) not in colliders]
        pdag = _meek_rules(PDAG(window, directed, undirected))  # as estimated: no acyclicity check
        new_dir = [(s, t, lag) for s, t, lag in self._lagged]
        new_dir += [(a[0], b[0], 0) for a, b in pdag.directed_edges if a[1] == 0 and b[1] == 0]
        new_und = [tuple(v for v, _ in e) for e in pdag.undirected_edges]
        return LaggedGraph(self._nodes, new_dir, new_und, tau_max=self._tau_max)

    # -------------------------------------------------------------- dunders
    def __eq__(self, other) -> bool:
        if not isinstance(other, LaggedGraph):
            return NotImplemented
        return (
            set(self._nodes) == set(other._nodes)
            and self._lagged == other._lagged
            and self._cdirected == other._cdirected
            and self._undirected == other._undirected
            and self._conflicting == other._conflicting
        )

    def __hash__(self) -> int:
        if self._hash is None:
            key = (frozenset(self._nodes), self._lagged, self._cdirected, self._undirected, self._conflicting)
            object.__setattr__(self, "_hash", hash(key))
        return self._hash

    def __repr__(self) -> str:
        shown = []
        for s, t, lag, kind in self.edges():
            shown.append(f"{_fmt(s, lag)} {_SYMBOL[kind]} {_fmt(t, 0)}")
        more = ""
        if len(shown) > 20:
            more, shown = f", ... {len(shown) - 20} more", shown[:20]
        return f"LaggedGraph(nodes={list(self._nodes)!r}, edges={shown!r}{more})"
