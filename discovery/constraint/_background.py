"""Background knowledge for constraint-based search: required and forbidden edges, tiers.

Background knowledge is what the analyst knows before looking at the data:

* a **required** edge ``a -> b`` is in the output, directed as given, whatever the tests say;
* a **forbidden** edge ``a -> b`` is never in the output. If both directions of a pair are
  forbidden, the pair is never adjacent (and never tested); if only ``a -> b`` is forbidden,
  an edge found between ``a`` and ``b`` is oriented ``b -> a``;
* **tiers** (a temporal order) forbid every edge from a later tier to an earlier one; nodes
  of the same tier may be joined either way, and nodes without a tier are unconstrained.

:class:`BackgroundKnowledge` only stores and checks the knowledge; :class:`discovery.PC`
applies it. Contradictions (an edge both required and forbidden, a pair required both ways, a
cycle of required edges) are errors when the object is built; node names are checked against
the data when it is used.

Examples
--------
>>> bk = BackgroundKnowledge(required=[("A", "B")], forbidden=[("C", "A")], tiers=[["A"], ["B", "C"]])
>>> bk.is_required("A", "B"), bk.is_forbidden("C", "A"), bk.is_forbidden("B", "A")
(True, True, True)
>>> bk.is_forbidden("B", "C"), bk.is_forbidden("C", "B")
(False, False)
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping

import networkx as nx

from scm import ParameterError
from scm._validation import check_nodes

__all__ = ["BackgroundKnowledge", "check_background_knowledge", "check_knowledge_type"]


def _edge_list(edges, *, name: str) -> frozenset:
    if edges is None:
        return frozenset()
    if isinstance(edges, (str, bytes)) or not isinstance(edges, Iterable):
        raise ParameterError(
            f"The {name!r} parameter of BackgroundKnowledge must be a list of (source, target) pairs; got {edges!r} instead."
        )
    out = []
    for e in edges:
        if isinstance(e, (str, bytes)) or not isinstance(e, Iterable) or len(tuple(e)) != 2:
            raise ParameterError(f"The {name!r} parameter of BackgroundKnowledge must hold (source, target) pairs; got {e!r} instead.")
        a, b = tuple(e)
        if a == b:
            raise ParameterError(f"The {name!r} parameter of BackgroundKnowledge holds a self-loop on {a!r}.")
        out.append((a, b))
    return frozenset(out)


def _tier_map(tiers) -> dict:
    if tiers is None:
        return {}
    if isinstance(tiers, Mapping):
        out = {}
        for node, tier in tiers.items():
            if isinstance(tier, bool) or not isinstance(tier, numbers.Integral):
                raise ParameterError(
                    f"The 'tiers' parameter of BackgroundKnowledge must map nodes to integer tiers; got {tier!r} for node {node!r} instead."
                )
            out[node] = int(tier)
        return out
    if isinstance(tiers, (str, bytes)) or not isinstance(tiers, Iterable):
        raise ParameterError(
            "The 'tiers' parameter of BackgroundKnowledge must be a mapping node -> tier or a list of lists of nodes; "
            f"got {tiers!r} instead."
        )
    out = {}
    for t, group in enumerate(tiers):
        if isinstance(group, (str, bytes)) or not isinstance(group, Iterable):
            raise ParameterError(
                "The 'tiers' parameter of BackgroundKnowledge, given as a list, must hold lists of nodes; "
                f"got {group!r} at position {t} instead."
            )
        for node in group:
            if node in out:
                raise ParameterError(f"The 'tiers' parameter of BackgroundKnowledge puts node {node!r} in tiers {out[node]} and {t}.")
            out[node] = t
    return out


class BackgroundKnowledge:
    """Required and forbidden directed edges and a tier order of the nodes.

    Parameters
    ----------
    required : iterable of (source, target), optional
        Directed edges that must be in the output, oriented as given.
    forbidden : iterable of (source, target), optional
        Directed edges that must not be in the output. Forbid both ``(a, b)`` and ``(b, a)``
        to keep ``a`` and ``b`` non-adjacent.
    tiers : mapping node -> int, or list of lists of nodes, optional
        Temporal tiers: an edge from a node of a later (larger) tier to a node of an earlier
        tier is forbidden. As a list, the tier of a node is the position of its list.

    Raises
    ------
    ParameterError
        If an edge is both required and forbidden (directly or by the tiers), a pair is
        required in both directions, the required edges form a directed cycle, or an argument
        is malformed. The message names the edge.

    See Also
    --------
    discovery.PC : applies the knowledge during search.

    Examples
    --------
    >>> bk = BackgroundKnowledge(forbidden=[("X", "Y"), ("Y", "X")], tiers={"Z": 0, "X": 1})
    >>> bk.is_forbidden("X", "Y"), bk.is_forbidden("X", "Z"), bk.is_forbidden("Z", "X")
    (True, True, False)
    >>> bk.forbids_adjacency("X", "Y")
    True
    >>> BackgroundKnowledge(required=[("A", "B")], forbidden=[("A", "B")])
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: BackgroundKnowledge requires and forbids the edge 'A' -> 'B'.
    """

    def __init__(self, *, required=(), forbidden=(), tiers=None):
        self.required = _edge_list(required, name="required")
        self.forbidden = _edge_list(forbidden, name="forbidden")
        self.tiers = _tier_map(tiers)
        self._check_consistent()

    # ------------------------------------------------------------------ queries
    def _tier_forbidden(self, a, b) -> bool:
        ta, tb = self.tiers.get(a), self.tiers.get(b)
        return ta is not None and tb is not None and ta > tb

    def is_forbidden(self, a: Hashable, b: Hashable) -> bool:
        """Whether the directed edge ``a -> b`` is forbidden (explicitly or by the tiers)."""
        return (a, b) in self.forbidden or self._tier_forbidden(a, b)

    def is_required(self, a: Hashable, b: Hashable) -> bool:
        """Whether the directed edge ``a -> b`` is required."""
        return (a, b) in self.required

    def forbids_adjacency(self, a: Hashable, b: Hashable) -> bool:
        """Whether both ``a -> b`` and ``b -> a`` are forbidden, so ``a`` and ``b`` are never adjacent."""
        return self.is_forbidden(a, b) and self.is_forbidden(b, a)

    def forced_orientation(self, a: Hashable, b: Hashable):
        """The direction imposed on an edge between ``a`` and ``b``, or ``None``.

        ``(a, b)`` if ``a -> b`` is required or ``b -> a`` is forbidden (and ``a -> b`` is not),
        ``(b, a)`` in the mirrored case, ``None`` if the knowledge says nothing about the direction.
        """
        if self.is_required(a, b):
            return (a, b)
        if self.is_required(b, a):
            return (b, a)
        fab, fba = self.is_forbidden(a, b), self.is_forbidden(b, a)
        if fba and not fab:
            return (a, b)
        if fab and not fba:
            return (b, a)
        return None

    def _masks(self, nodes) -> tuple:
        """Boolean ``(d, d)`` matrices over ``nodes``: ``required[a, b]`` (``a -> b`` required) and
        ``forbidden[a, b]`` (``a -> b`` forbidden, explicitly or by the tiers); nodes the knowledge
        does not mention have no entry. The array form of :meth:`is_required` and :meth:`is_forbidden`
        for a whole graph at once (PC's skeleton on thousands of variables).
        """
        import numpy as np

        index = {n: i for i, n in enumerate(nodes)}
        d = len(index)
        required = np.zeros((d, d), dtype=bool)
        forbidden = np.zeros((d, d), dtype=bool)
        for edges, mask in ((self.required, required), (self.forbidden, forbidden)):
            for a, b in edges:
                if a in index and b in index:
                    mask[index[a], index[b]] = True
        known = [(index[n], t) for n, t in self.tiers.items() if n in index]
        if known:
            pos = np.array([i for i, _ in known])
            tier = np.array([t for _, t in known])
            forbidden[np.ix_(pos, pos)] |= tier[:, None] > tier[None, :]
        return required, forbidden

    @property
    def nodes(self) -> set:
        """Every node the knowledge mentions."""
        out = set(self.tiers)
        for a, b in self.required | self.forbidden:
            out |= {a, b}
        return out

    # --------------------------------------------------------------- checking
    def _check_consistent(self) -> None:
        for a, b in sorted(self.required, key=repr):
            if (a, b) in self.forbidden:
                raise ParameterError(f"BackgroundKnowledge requires and forbids the edge {a!r} -> {b!r}.")
            if self._tier_forbidden(a, b):
                raise ParameterError(
                    f"BackgroundKnowledge requires the edge {a!r} -> {b!r}, but the tiers forbid it "
                    f"({a!r} is in tier {self.tiers[a]}, {b!r} in the earlier tier {self.tiers[b]})."
                )
            if (b, a) in self.required:
                x, y = sorted((a, b), key=repr)
                raise ParameterError(f"BackgroundKnowledge requires both {x!r} -> {y!r} and {y!r} -> {x!r}.")
        g = nx.DiGraph(list(self.required))
        if not nx.is_directed_acyclic_graph(g):
            cycle = [u for u, _ in nx.find_cycle(g)]
            text = " -> ".join(map(repr, cycle + cycle[:1]))
            raise ParameterError(f"BackgroundKnowledge requires a directed cycle of edges: {text}.")

    def check_nodes(self, nodes) -> BackgroundKnowledge:
        """Check that every node the knowledge mentions is in ``nodes``; return ``self``.

        Raises
        ------
        UnknownNodeError
            Naming the unknown node(s).
        """
        known = set(nodes)
        mentioned = sorted(self.nodes - known, key=repr)
        if mentioned:
            check_nodes(mentioned, known, what="node", where="the data (background knowledge)")
        return self

    def __repr__(self) -> str:
        parts = []
        if self.required:
            parts.append(f"required={sorted(self.required, key=repr)!r}")
        if self.forbidden:
            parts.append(f"forbidden={sorted(self.forbidden, key=repr)!r}")
        if self.tiers:
            parts.append(f"tiers={self.tiers!r}")
        return f"BackgroundKnowledge({', '.join(parts)})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, BackgroundKnowledge):
            return NotImplemented
        return (self.required, self.forbidden, self.tiers) == (other.required, other.forbidden, other.tiers)

    __hash__ = None  # mutable-looking container; not hashable


def check_background_knowledge(knowledge, nodes) -> BackgroundKnowledge | None:
    """Validate ``knowledge`` (``None``, a :class:`BackgroundKnowledge` or a dict of its keyword
    arguments) against the node names; return a :class:`BackgroundKnowledge` or ``None``.

    Examples
    --------
    >>> check_background_knowledge({"required": [("A", "B")]}, ["A", "B"])
    BackgroundKnowledge(required=[('A', 'B')])
    >>> check_background_knowledge({"required": [("A", "Q")]}, ["A", "B"])
    Traceback (most recent call last):
    ...
    scm._exceptions.UnknownNodeError: unknown node(s) ['Q']: not in the data (background knowledge) (known: ['A', 'B'])
    """
    if knowledge is None:
        return None
    if isinstance(knowledge, Mapping):
        unknown = set(knowledge) - {"required", "forbidden", "tiers"}
        if unknown:
            raise ParameterError(
                "The 'background_knowledge' parameter, given as a dict, accepts the keys ['required', 'forbidden', 'tiers']; "
                f"got {sorted(unknown)!r}."
            )
        knowledge = BackgroundKnowledge(**knowledge)
    check_knowledge_type(knowledge)
    return knowledge.check_nodes(nodes)


def check_knowledge_type(knowledge, *, name: str = "background_knowledge", owner: str | None = None) -> None:
    """Check that ``knowledge`` is ``None``, a :class:`BackgroundKnowledge` or a dict (its nodes are checked at fit).

    The constraint of PC's ``background_knowledge`` parameter (``name`` and ``owner`` are
    accepted for that and not shown: the message is the same wherever the knowledge comes from).

    Examples
    --------
    >>> check_knowledge_type([("A", "B")])
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'background_knowledge' parameter must be None, a BackgroundKnowledge or a dict; got list instead.
    """
    if knowledge is not None and not isinstance(knowledge, (Mapping, BackgroundKnowledge)):
        raise ParameterError(
            f"The 'background_knowledge' parameter must be None, a BackgroundKnowledge or a dict; got {type(knowledge).__name__} instead."
        )
