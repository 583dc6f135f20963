"""The reachability engine: graph searches shared by d-/m-separation, ancestors and adjustment.

Two searches cover every path question of the package:

- :func:`reachable` -- the nodes reached from ``sources`` by following a *step* function
  (parents, children, parents or undirected neighbours for *possible* ancestors, the
  bidirected neighbours for districts, an undirected moral graph, ...), with nodes that are
  reached but not passed through (``blocked``) and nodes that are never entered (``avoid``);
- :func:`m_connecting_path` -- a shortest m-connecting path between two node sets given a
  conditioning set in a graph with directed and bidirected edges (an ADMG; a DAG has no
  bidirected edges, and m-separation is then d-separation). It is the breadth-first
  "Bayes-ball" search over states ``(node, arrived with an arrowhead)``; :func:`m_separated`
  is its yes/no form.

The graph is given by step functions ``node -> iterable of nodes`` (``parents``, ``children``,
``spouses``), so the same code runs on a :class:`networkx.DiGraph` (``graph.predecessors``)
and on the adjacency sets of ``estimators``' working graphs. :func:`scm.d_separated` and the
adjustment, front-door and ID code of ``estimators`` use it; only SID keeps a vectorised batch
form of its own (``discovery.metrics._sid``).

Examples
--------
>>> import networkx as nx
>>> g = nx.DiGraph([("A", "C"), ("B", "C"), ("C", "D")])
>>> sorted(reachable(g.predecessors, ["D"]))            # ancestors of D, D included
['A', 'B', 'C', 'D']
>>> m_connecting_path(g.predecessors, g.successors, None, ["A"], ["B"], ["D"])
['A', 'C', 'B']
>>> m_separated(g.predecessors, g.successors, None, ["A"], ["B"], [])
True
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container, Hashable, Iterable

__all__ = ["reachable", "m_connecting_path", "m_separated"]

Step = Callable[[Hashable], Iterable[Hashable]]

_NOTHING: frozenset = frozenset()


def reachable(step: Step, sources: Iterable, *, blocked: Container = _NOTHING, avoid: Container = _NOTHING) -> set:
    """Every node reached from ``sources`` by following ``step``, sources included.

    Parameters
    ----------
    step : callable
        ``node -> iterable of nodes``: where the search may go from a node (e.g.
        ``graph.predecessors`` for ancestors).
    sources : iterable of nodes
        Where the search starts; sources are always passed through.
    blocked : container, optional
        Nodes that are reached (and returned) but not passed through.
    avoid : container, optional
        Nodes that are never entered (returned only if they are sources).

    Returns
    -------
    set

    Examples
    --------
    >>> children = {"A": ["B"], "B": ["C"], "C": ["D"], "D": []}.__getitem__
    >>> sorted(reachable(children, ["A"], blocked={"C"}))
    ['A', 'B', 'C']
    >>> sorted(reachable(children, ["A"], avoid={"C"}))
    ['A', 'B']
    """
    seen = set(sources)
    stack = list(seen)
    while stack:
        v = stack.pop()
        for w in step(v):
            if w not in seen and w not in avoid:
                seen.add(w)
                if w not in blocked:
                    stack.append(w)
    return seen


def m_connecting_path(parents: Step, children: Step, spouses: Step | None, xs, ys, zs) -> list | None:
    """A shortest m-connecting path from ``xs`` to ``ys`` given ``zs``, or None.

    A path is m-connecting (d-connecting in a DAG) when every collider on it (a node with
    arrowheads from both sides, ``->  <-``, ``-> <->``, ``<-> <->``) is an ancestor of ``zs``
    (``zs`` included) and no other node on it is in ``zs``. The search is breadth-first over
    states ``(node, arrived with an arrowhead)``, so its cost is linear in the size of the
    graph; neighbours are visited in the order the step functions give them, so the path
    returned is deterministic for a deterministic graph.

    Parameters
    ----------
    parents, children : callable
        ``node -> iterable``: the ``p`` of ``p -> node``, the ``c`` of ``node -> c``.
    spouses : callable or None
        ``node -> iterable``: the ``s`` of ``node <-> s`` (None for a DAG).
    xs, ys, zs : collections of nodes
        The two ends and the conditioning set (``xs`` and ``ys`` disjoint from ``zs``).

    Returns
    -------
    list or None
        The nodes of the path, from a node of ``xs`` to a node of ``ys`` (its inner nodes
        avoid ``xs``); None if ``xs`` and ``ys`` are m-separated by ``zs``.

    Examples
    --------
    >>> pa = {"X": [], "M": ["X"], "Y": ["M"]}.__getitem__
    >>> ch = {"X": ["M"], "M": ["Y"], "Y": []}.__getitem__
    >>> m_connecting_path(pa, ch, None, ["X"], ["Y"], []), m_connecting_path(pa, ch, None, ["X"], ["Y"], ["M"])
    (['X', 'M', 'Y'], None)
    >>> sib = {"X": ["Y"], "M": [], "Y": ["X"]}.__getitem__     # X <-> Y: a latent confounder
    >>> m_connecting_path(pa, ch, sib, ["X"], ["Y"], ["M"])
    ['X', 'Y']
    """
    zs = set(zs)
    anc_z = reachable(parents, zs)
    ys = set(ys)
    start = [(x, False) for x in xs]
    xs = {x for x, _ in start}
    prev: dict = dict.fromkeys(start)  # state -> the state it was reached from
    queue = deque(start)
    popleft, push = queue.popleft, queue.append
    while queue:
        state = popleft()
        v, into = state
        if v in ys:
            path = []
            s = state
            while s is not None:
                path.append(s[0])
                s = prev[s]
            return path[::-1]
        first = prev[state] is None
        # leave by a tail at v (v -> c): v is a non-collider on this step
        if first or v not in zs:
            for c in children(v):
                m = (c, True)
                if m not in prev and c not in xs:
                    prev[m] = state
                    push(m)
        # leave by an arrowhead at v (v <- p or v <-> s): a collider if v was entered by an arrowhead
        if first or (v in anc_z if into else v not in zs):
            for p in parents(v):
                m = (p, False)
                if m not in prev and p not in xs:
                    prev[m] = state
                    push(m)
            if spouses is not None:
                for sp in spouses(v):
                    m = (sp, True)
                    if m not in prev and sp not in xs:
                        prev[m] = state
                        push(m)
    return None


def m_separated(parents: Step, children: Step, spouses: Step | None, xs, ys, zs) -> bool:
    """Whether ``xs`` and ``ys`` are m-separated (d-separated in a DAG) by ``zs``.

    See :func:`m_connecting_path` for the arguments.

    Examples
    --------
    >>> pa = {"A": [], "B": [], "C": ["A", "B"]}.__getitem__
    >>> ch = {"A": ["C"], "B": ["C"], "C": []}.__getitem__
    >>> m_separated(pa, ch, None, ["A"], ["B"], []), m_separated(pa, ch, None, ["A"], ["B"], ["C"])
    (True, False)
    """
    return m_connecting_path(parents, children, spouses, xs, ys, zs) is None
