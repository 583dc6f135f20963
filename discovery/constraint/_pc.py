"""The PC algorithm (PC-stable) with batched conditional-independence tests.

PC (Spirtes, Glymour and Scheines, 2000) learns the Markov equivalence class of a DAG from
conditional independences, in four phases, each a function of this module:

1. :func:`skeleton` -- start from the complete graph and remove the edge ``x - y`` as soon
   as ``x`` and ``y`` are independent given some set ``S`` of neighbours, for
   ``|S| = 0, 1, 2, ...``. Every test of a level goes to the CI test in one batched call.
2. :func:`apply_background_knowledge` -- orient the edges that background knowledge
   (:class:`~discovery.constraint.BackgroundKnowledge`) directs.
3. :func:`orient_colliders` -- orient every unshielded triple ``x - z - y`` whose middle node
   did not separate its ends as a collider ``x -> z <- y``.
4. :func:`scm.meek_rules` -- propagate the orientations with Meek's rules R1-R4.

:class:`PC` composes them as a scikit-learn-style estimator.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> a = rng.normal(size=2000); b = rng.normal(size=2000)
>>> c = a + b + rng.normal(size=2000)
>>> PC().fit(pd.DataFrame({"A": a, "B": b, "C": c})).graph_
PDAG(nodes=['A', 'B', 'C'], edges=['A -> C', 'B -> C'])
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import networkx as nx
import numpy as np
import pandas as pd

from scm import PDAG, ParameterError
from scm._cpdag import _meek_rounds, _meek_rules
from scm._graph import check_graph_input
from scm._validation import check_in_range, check_nodes, check_numeric_frame, check_option

from .._base import AnyOf, Boolean, Custom, Interval, Options, ParamsMixin, ci_test_constraints
from .._utils import progress as _progress
from ._background import BackgroundKnowledge, check_background_knowledge, check_knowledge_type
from ._runner import CIRecord, CIRunner, as_runner

__all__ = ["PC", "skeleton", "apply_background_knowledge", "orient_colliders", "SkeletonResult"]

logger = logging.getLogger(__name__)

ORIENTATION_RULES = ("sepset", "maxp", "definite_maxp")
CONFLICT_RULES = ("keep_existing", "overwrite", "bidirected")

#: The constraints of the search parameters PC and CD-NOD share (besides ``ci_test``).
SEARCH_CONSTRAINTS = {
    "alpha": Interval(Real, 0, 1),
    "max_cond_size": AnyOf(None, Interval(Integral, 0, None, closed="left")),
    "orientation": Options(ORIENTATION_RULES),
    "conflict": Options(CONFLICT_RULES),
}


# ------------------------------------------------------------------------ skeleton
@dataclass(frozen=True)
class SkeletonResult:
    """What :func:`skeleton` found.

    Attributes
    ----------
    graph : networkx.Graph
        The undirected skeleton over the CI test's variables.
    sepsets : Mapping
        ``frozenset({x, y}) -> tuple S`` for every removed pair: the first separating set
        found, in the order of the sorted names of ``S`` (so it does not depend on the
        column order). Pairs removed by background knowledge have no entry. A read-only
        :class:`SeparatingSets` mapping, equal to the dict of its items.
    separating_sets : Mapping
        ``frozenset({x, y}) -> tuple of tuples``: *every* set that separated ``x`` and ``y``
        at the level where their edge was removed (from both sides), name-sorted.
    n_tests : int
        The number of distinct CI tests run.
    tests : CIRecord
        The CI tests run, as index arrays (``pvalues`` is their table).
    max_level : int
        The largest conditioning-set size tested (-1 if no test was run).
    pvalues : pandas.DataFrame
        Every test run (columns x, y, cond, statistic, pvalue), built from ``tests`` at its
        first read.
    """

    graph: nx.Graph
    sepsets: Mapping
    separating_sets: Mapping
    n_tests: int
    tests: CIRecord = field(repr=False)
    max_level: int = -1

    @functools.cached_property
    def pvalues(self) -> pd.DataFrame:
        """Every test run (columns x, y, cond, statistic, pvalue)."""
        return self.tests.frame()


def skeleton(
    ci_test,
    *,
    alpha: float = 0.05,
    max_cond_size: int | None = None,
    stable: bool = True,
    background_knowledge: BackgroundKnowledge | None = None,
    progress: bool = False,
    runner: CIRunner | None = None,
) -> SkeletonResult:
    """Adjacency search of PC: remove ``x - y`` when ``x`` and ``y`` are independent given some ``S``.

    Level ``k = 0, 1, ...``: for every ordered adjacent pair ``(x, y)`` and every subset ``S``
    of size ``k`` of ``adj(x) \\ {y}``, test ``x`` independent of ``y`` given ``S``. With
    ``stable=True`` (PC-stable, Colombo and Maathuis 2014) the adjacencies are frozen at the
    start of the level, every test of the level is sent to the CI test in one batched call,
    and the edges whose some test has p-value ``> alpha`` are removed together at the end of
    the level. The search stops when no pair has ``k`` other neighbours, or after
    ``k = max_cond_size``.

    Parameters
    ----------
    ci_test : CITest
        A batched conditional-independence test (see :mod:`discovery.citest`); its
        ``variables`` are the nodes.
    alpha : float, default 0.05
        Significance level: ``p > alpha`` means independent.
    max_cond_size : int or None
        Largest conditioning-set size tested; ``None`` for no limit.
    stable : bool, default True
        PC-stable (order-independent). ``False`` removes the edges of a node as soon as its
        own tests of the level are done (one batched call per node), which is the original,
        column-order-dependent PC with fewer tests.
    background_knowledge : BackgroundKnowledge, optional
        Pairs forbidden in both directions are removed before any test and never tested;
        required edges are never tested nor removed.
    progress : bool, default False
        Show a tqdm progress bar over the levels.
    runner : CIRunner, optional
        A cached runner over ``ci_test`` shared with other phases (an estimator passes one so
        that a test asked twice runs once); by default the phase builds its own.

    Returns
    -------
    SkeletonResult

    Notes
    -----
    PC-stable tests every subset at a level even after an edge is found removable, so it
    runs more tests than the sequential PC; all of them come at the cost of one batched
    kernel call per level. Each distinct test (unordered pair, conditioning set) is run once.
    With ``stable=True`` the result does not depend on the order of the variables.

    The search is array-native: the adjacencies are a boolean matrix, a level's tests are
    generated as integer index rows (:func:`_level_queries`, by node degree), sent to the
    runner and the CI test as arrays (:meth:`CIRunner.run_arrays`), and the separating sets
    are kept as the index rows of the tests that separated; names appear in the output
    graph and when ``sepsets``, ``separating_sets`` or ``pvalues`` are read. A search on
    1,000 variables (a million tests) spends most of its time computing the tests
    (docs/benchmarks.md, "PC").

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from discovery import FisherZ
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1000); y = x + rng.normal(size=1000); z = y + rng.normal(size=1000)
    >>> res = skeleton(FisherZ(pd.DataFrame({"X": x, "Y": y, "Z": z})))
    >>> sorted(res.graph.edges), res.sepsets[frozenset({"X", "Z"})]
    ([('X', 'Y'), ('Y', 'Z')], ('Y',))
    >>> res.n_tests, res.max_level
    (6, 1)

    See Also
    --------
    orient_colliders : the next phase, on ``res.graph`` and ``res.separating_sets``.
    apply_background_knowledge : orient the edges that background knowledge directs.
    PC : the estimator composing the phases.
    """
    check_in_range(alpha, name="alpha", low=0, high=1, owner="skeleton")
    if max_cond_size is not None:
        check_in_range(max_cond_size, name="max_cond_size", low=0, inclusive="left", integer=True, owner="skeleton")
    tester = as_runner(ci_test, runner, owner="skeleton")
    names = tester.names
    d = len(names)
    bk = check_background_knowledge(background_knowledge, names)

    adj = ~np.eye(d, dtype=bool)
    untested = np.zeros((d, d), dtype=bool)  # required pairs: never tested nor removed
    if bk is not None:
        required, forbidden = bk._masks(names)
        untested = required | required.T
        adj &= ~(forbidden & forbidden.T & ~untested)
    separating: list[np.ndarray] = []  # per level: the rows [i, j, *S] of the tests with p > alpha
    n_before = tester.n_tests
    max_level = -1

    def test_and_remove(rows):
        """Run the level's rows; remove the pairs that some row separates; keep those rows."""
        pvals = tester.run_arrays(rows, unique=True)[1]
        sep = rows[pvals > alpha]
        if not len(sep):
            return 0
        separating.append(sep)
        before = int(np.count_nonzero(adj))
        adj[sep[:, 0], sep[:, 1]] = adj[sep[:, 1], sep[:, 0]] = False
        return (before - int(np.count_nonzero(adj))) // 2

    levels = itertools.count() if max_cond_size is None else range(max_cond_size + 1)
    bar = _progress(levels, progress, desc="PC skeleton", unit="level")
    for k in bar:
        if stable:
            rows = _level_queries(adj.copy(), k, untested)
            if not len(rows):
                break
            n_q, n_removed = len(rows), test_and_remove(rows)
        else:
            n_q = n_removed = 0
            for x in range(d):
                rows = _level_queries(adj, k, untested, sources=[x])
                if len(rows):
                    n_q += len(rows)
                    n_removed += test_and_remove(rows)
            if not n_q:
                break
        max_level = k
        logger.info("PC skeleton level %d: %d tests, %d edges removed", k, n_q, n_removed)

    graph = nx.Graph()
    graph.add_nodes_from(names)
    i, j = np.nonzero(np.triu(adj, 1))
    graph.add_edges_from((names[a], names[b]) for a, b in zip(i.tolist(), j.tolist()))
    store = _SeparatingStore(names, separating)
    return SkeletonResult(
        graph=graph,
        sepsets=SeparatingSets(store, first=True),
        separating_sets=SeparatingSets(store),
        n_tests=tester.n_tests - n_before,
        tests=tester.record(),
        max_level=max_level,
    )


@functools.lru_cache(maxsize=64)
def _combinations(n: int, k: int) -> np.ndarray:
    """``(C(n, k), k)``: the ``k``-subsets of ``0 .. n - 1`` in lexicographic order (:func:`itertools.combinations`)."""
    return np.array(list(itertools.combinations(range(n), k)), dtype=np.int64).reshape(math.comb(n, k), k)


@functools.lru_cache(maxsize=256)
def _combination_template(m: int, k: int) -> np.ndarray:
    """``(m, C(m - 1, k), k)`` positions: for each position ``p`` of ``0 .. m - 1``, the ``k``-subsets of the others, in
    lexicographic order (the order of :func:`itertools.combinations`): the subsets of ``0 .. m - 2`` with every
    index from ``p`` on shifted up by one.

    Examples
    --------
    >>> _combination_template(3, 1)[:, :, 0].tolist()
    [[1, 2], [0, 2], [0, 1]]
    """
    base = _combinations(m - 1, k)
    skip = np.arange(m)[:, None, None]
    return base[None, :, :] + (base[None, :, :] >= skip)


def _level_queries(adj: np.ndarray, k: int, untested: np.ndarray, sources=None) -> np.ndarray:
    """The tests of level ``k`` of the adjacency search, as index rows ``[i, j, *S]`` (``i < j``, ``S`` sorted).

    For every ordered adjacent pair ``(x, y)`` (``x`` in ``sources``, default all) that is not
    ``untested``, and every ``k``-subset ``S`` of ``adj(x) \\ {y}``: one row per distinct test
    ``(i, j, S)``, in the order of a loop over ``x``, then ``y``, then the subsets (lexicographic),
    keeping the first occurrence of a test asked from both ends. Generated with array
    operations per degree: no Python object per query.

    Examples
    --------
    >>> adj = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=bool)
    >>> _level_queries(adj, 1, np.zeros((3, 3), dtype=bool)).tolist()
    [[0, 1, 2], [0, 2, 1], [1, 2, 0]]
    """
    d = adj.shape[0]
    sources = np.arange(d) if sources is None else np.asarray(sources, dtype=np.int64)
    if k == 0:
        mask = adj & ~untested
        if len(sources) < d:  # one node's tests (sequential PC): its pairs, from either end
            x = sources[0]
            ys = np.flatnonzero(mask[x])
            return np.stack([np.minimum(x, ys), np.maximum(x, ys)], axis=1).astype(np.int64)
        i, j = np.nonzero(np.triu(mask, 1))
        return np.stack([i, j], axis=1).astype(np.int64)
    deg = adj[sources].sum(axis=1)
    eligible = deg >= k + 1
    counts = np.zeros(len(sources), dtype=np.int64)
    for m in np.unique(deg[eligible]).tolist():
        counts[deg == m] = m * math.comb(m - 1, k)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    xs = np.empty(total, dtype=np.int64)
    ys = np.empty(total, dtype=np.int64)
    ss = np.empty((total, k), dtype=np.int64)
    for m in np.unique(deg[eligible]).tolist():
        group = np.flatnonzero(deg == m)
        nb = np.nonzero(adj[sources[group]])[1].reshape(len(group), m)  # sorted neighbours
        tmpl = _combination_template(m, k)
        per = tmpl.shape[0] * tmpl.shape[1]
        at = (offsets[group][:, None] + np.arange(per)[None, :]).reshape(-1)
        xs[at] = np.repeat(sources[group], per)
        ys[at] = np.repeat(nb, tmpl.shape[1], axis=1).reshape(-1)
        ss[at] = nb[:, tmpl].reshape(-1, k)
    keep = ~untested[xs, ys]
    if len(sources) == d:  # a test asked from both ends: keep it at the smaller end when both ask it
        keep &= (xs < ys) | ~adj[ys[:, None], ss].all(axis=1)
    xs, ys, ss = xs[keep], ys[keep], ss[keep]
    return np.concatenate([np.minimum(xs, ys)[:, None], np.maximum(xs, ys)[:, None], ss], axis=1)


class _SeparatingStore:
    """The separating sets of a skeleton search as index arrays, named only when read.

    ``rows``: per level, the tests ``[i, j, *S]`` (``i < j``) whose p-value exceeded ``alpha``
    (every separating set of a pair is found at the level where its edge was removed).
    """

    def __init__(self, names, rows):
        self.names = list(names)
        self.d = len(self.names)
        self.rows = [np.asarray(r, dtype=np.int32) for r in rows]  # index rows; keys below in int64
        self._pairs = None

    def _index(self):
        """Sorted pair keys ``i * d + j`` and, per pair, its rows ``(level, row)``."""
        if self._pairs is None:
            level = np.concatenate([np.full(len(r), n) for n, r in enumerate(self.rows)]) if self.rows else np.empty(0, int)
            row = np.concatenate([np.arange(len(r)) for r in self.rows]) if self.rows else np.empty(0, int)
            key = np.concatenate([r[:, 0].astype(np.int64) * self.d + r[:, 1] for r in self.rows]) if self.rows else np.empty(0, int)
            order = np.argsort(key, kind="stable")
            ordered = key[order]
            start = np.flatnonzero(np.diff(ordered, prepend=-1))  # first row of each pair (keys are >= 0)
            self._pairs = (ordered[start], np.append(start, len(key)), level[order], row[order])
        return self._pairs

    def pair_keys(self) -> np.ndarray:
        """Sorted ``i * d + j`` of every pair with a separating set."""
        return self._index()[0]

    def member_keys(self) -> np.ndarray:
        """Sorted ``(i * d + j) * d + z`` for every ``z`` in some separating set of ``(i, j)`` (with repeats)."""
        d = self.d
        parts = [((r[:, 0].astype(np.int64) * d + r[:, 1])[:, None] * d + r[:, 2:]).reshape(-1) for r in self.rows if r.shape[1] > 2]
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def sets(self, at: int) -> tuple:
        """The named separating sets of the ``at``-th pair, name-sorted (by size, then names)."""
        _, bounds, level, row = self._index()
        names = self.names
        named = {
            tuple(sorted((names[v] for v in self.rows[lv][r, 2:].tolist()), key=str))
            for lv, r in zip(level[bounds[at] : bounds[at + 1]].tolist(), row[bounds[at] : bounds[at + 1]].tolist())
        }
        return tuple(sorted(named, key=lambda t: (len(t), [str(v) for v in t])))

    def locate(self, pair) -> int:
        """The position of a pair of names among the pairs with separating sets (KeyError if none)."""
        index = self._lookup()
        try:
            a, b = tuple(pair)
            i, j = index[a], index[b]
        except (KeyError, TypeError, ValueError):
            raise KeyError(pair) from None
        keys = self.pair_keys()
        key = min(i, j) * self.d + max(i, j)
        at = int(np.searchsorted(keys, key))
        if at >= len(keys) or keys[at] != key:
            raise KeyError(pair)
        return at

    def _lookup(self) -> dict:
        lookup = getattr(self, "_names_index", None)
        if lookup is None:
            lookup = self._names_index = {n: i for i, n in enumerate(self.names)}
        return lookup

    def pair(self, at: int) -> frozenset:
        i, j = divmod(int(self.pair_keys()[at]), self.d)
        return frozenset((self.names[i], self.names[j]))


class SeparatingSets(Mapping):
    """``frozenset({x, y}) -> separating sets`` of a skeleton search, read from index arrays on demand.

    A read-only mapping (it compares equal to the dict with the same items): with
    ``first=False``, :attr:`SkeletonResult.separating_sets` (every set, a tuple of name
    tuples); with ``first=True``, :attr:`SkeletonResult.sepsets` (the first of them). A search on
    a thousand variables removes about half a million pairs: their sets stay arrays until read.

    Examples
    --------
    >>> seps = SeparatingSets(_SeparatingStore(["A", "B", "C"], [np.array([[0, 2, 1]])]))
    >>> seps == {frozenset({"A", "C"}): (("B",),)}, seps[frozenset({"A", "C"})]
    (True, (('B',),))
    """

    def __init__(self, store: _SeparatingStore, *, first: bool = False):
        self._store = store
        self._first = first

    def __getitem__(self, pair):
        sets = self._store.sets(self._store.locate(pair))
        return sets[0] if self._first else sets

    def __iter__(self):
        store = self._store
        return (store.pair(at) for at in range(len(store.pair_keys())))

    def __len__(self) -> int:
        return len(self._store.pair_keys())

    def __repr__(self) -> str:
        if len(self) <= 20:
            return repr(dict(self))
        return f"{type(self).__name__}({len(self)} pairs)"


# ------------------------------------------------------------ background knowledge
def apply_background_knowledge(graph, background_knowledge: BackgroundKnowledge | None, nodes=None) -> PDAG:
    """Turn a skeleton into a PDAG with the edges that background knowledge orients.

    Required edges are added (if missing) and directed as given; an edge forbidden in one
    direction is directed the other way (tiers included); an edge forbidden both ways is
    dropped. Every other edge stays undirected.

    Parameters
    ----------
    graph : networkx.Graph or PDAG
        The skeleton.
    background_knowledge : BackgroundKnowledge or None
    nodes : sequence, optional
        Node order of the result (default: the graph's).

    Returns
    -------
    PDAG

    Examples
    --------
    >>> import networkx as nx
    >>> from discovery.constraint import BackgroundKnowledge
    >>> g = nx.Graph([("A", "B"), ("B", "C")])
    >>> apply_background_knowledge(g, BackgroundKnowledge(tiers={"C": 0, "B": 1}, required=[("A", "C")]))
    PDAG(nodes=['A', 'B', 'C'], edges=['A -> C', 'C -> B', 'A - B'])

    See Also
    --------
    skeleton : the phase before.
    orient_colliders : the phase after; it never re-orients the edges directed here.
    BackgroundKnowledge : required and forbidden edges, tiers.
    """
    check_graph_input(graph, (nx.Graph, PDAG), name="graph", owner="apply_background_knowledge")
    if isinstance(graph, PDAG):
        pdag = graph
    else:
        nodes = list(graph.nodes) if nodes is None else list(nodes)
        pdag = PDAG(nodes, (), graph.edges)
    if background_knowledge is None:
        return pdag
    bk = check_background_knowledge(background_knowledge, pdag.nodes)
    directed, drop = [], []
    for a, b, kind in pdag.edges():
        if kind != "undirected":
            continue
        if bk.forbids_adjacency(a, b) and not (bk.is_required(a, b) or bk.is_required(b, a)):
            drop.append((a, b))
            continue
        forced = bk.forced_orientation(a, b)
        if forced is not None:
            directed.append(forced)
    directed += [e for e in sorted(bk.required, key=repr) if not pdag.has_directed(*e)]
    return pdag.without_edges(drop).with_edges(directed=directed)


# ------------------------------------------------------------------------ colliders
def _unshielded_triples(pdag: PDAG):
    """``(x, z, y)`` with ``x - z - y`` adjacent and ``x``, ``y`` not, ``x`` before ``y``;
    ordered by the middle node, then ``x``, then ``y`` (node order)."""
    nodes = list(pdag.nodes)
    adj = _adjacency_matrix(pdag)
    out = []
    for z in np.flatnonzero(adj.sum(axis=1) >= 2).tolist():
        nb = np.flatnonzero(adj[z])
        i, j = np.triu_indices(len(nb), 1)
        x, y = nb[i], nb[j]
        keep = ~adj[x, y]
        out.extend((nodes[a], nodes[z], nodes[b]) for a, b in zip(x[keep].tolist(), y[keep].tolist()))
    return out


def _adjacency_matrix(pdag: PDAG) -> np.ndarray:
    """Boolean ``(d, d)`` adjacency (any edge kind) of a PDAG in node order."""
    pos = {n: i for i, n in enumerate(pdag.nodes)}
    adj = np.zeros((len(pos), len(pos)), dtype=bool)
    for a, b, _ in pdag.edges():
        adj[pos[a], pos[b]] = adj[pos[b], pos[a]] = True
    return adj


def _sorted_contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in the sorted array ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _sepset_decisions(triples, separating_sets) -> list[bool]:
    """The ``"sepset"`` rule: ``z`` is a collider of ``(x, z, y)`` iff ``(x, y)`` has separating sets and ``z`` is in none."""
    if isinstance(separating_sets, SeparatingSets) and triples:
        store = separating_sets._store
        index = store._lookup()
        if all(v in index for t in triples for v in t):
            ids = np.array([[index[v] for v in t] for t in triples], dtype=np.int64)
            lo, hi = np.minimum(ids[:, 0], ids[:, 2]), np.maximum(ids[:, 0], ids[:, 2])
            pair = lo * store.d + hi
            return (_sorted_contains(store.pair_keys(), pair) & ~_sorted_contains(store.member_keys(), pair * store.d + ids[:, 1])).tolist()
    decisions = []
    for x, z, y in triples:
        sets = separating_sets.get(frozenset((x, y)))
        if sets is None:  # no separating set known (e.g. removed by background knowledge)
            decisions.append(False)
            continue
        if len(sets) == 0 or not isinstance(sets[0], (tuple, list, frozenset, set)):
            sets = (tuple(sets),)  # a single separating set
        decisions.append(all(z not in s for s in sets))
    return decisions


def _maxp_decisions(pdag, triples, tester, alpha, max_cond_size, definite):
    """Collider decisions by the largest p-value among subsets of adj(x) and adj(y)."""
    idx = tester.index
    adjs = {n: pdag.adjacencies(n) for n in pdag.nodes}
    per_triple = []
    keys = []
    for x, _, y in triples:
        conds = set()
        for end, other in ((x, y), (y, x)):
            pool = sorted(idx[v] for v in adjs[end] - {other})
            top = len(pool) if max_cond_size is None else min(len(pool), max_cond_size)
            for k in range(top + 1):
                conds.update(itertools.combinations(pool, k))
        tk = [tester.key(idx[x], idx[y], s) for s in sorted(conds)]
        per_triple.append(tk)
        keys.extend(tk)
    tester.run(keys)
    decisions = []
    for (_, z, _), tk in zip(triples, per_triple):
        zi = idx[z]
        with_z = [tester.pvalue(k) for k in tk if zi in k[2]]
        without = [tester.pvalue(k) for k in tk if zi not in k[2]]
        p_with = max(with_z, default=-math.inf)
        p_without = max(without, default=-math.inf)
        collider = p_without > p_with
        if definite and any(p > alpha for p in with_z):
            collider = False  # some set containing z separates: not definitely a collider
        decisions.append(collider)
    return decisions


def orient_colliders(
    pdag,
    separating_sets: dict | None = None,
    *,
    rule: str = "sepset",
    conflict: str = "bidirected",
    ci_test=None,
    alpha: float = 0.05,
    max_cond_size: int | None = None,
    background_knowledge: BackgroundKnowledge | None = None,
    runner: CIRunner | None = None,
    return_conflicts: bool = False,
):
    """Orient the unshielded colliders ``x -> z <- y`` of a PDAG.

    An unshielded triple is ``x - z - y`` with ``x`` and ``y`` not adjacent. Whether ``z`` is
    a collider is decided by ``rule``:

    * ``"sepset"``: ``z`` is in none of the sets that separated ``x`` and ``y`` during the
      skeleton search (``separating_sets``, all the separating sets found at the level where
      the edge was removed). A pair with no separating set (removed by background knowledge)
      gives no collider.
    * ``"maxp"`` (Ramsey 2016): test ``x`` against ``y`` given every subset of ``adj(x)`` and
      of ``adj(y)`` (up to ``max_cond_size``; batched) and call ``z`` a collider when the
      largest p-value is reached by a set without ``z`` (strictly larger than with ``z``).
    * ``"definite_maxp"``: as ``"maxp"``, but only when no set containing ``z`` separates
      ``x`` and ``y`` at level ``alpha`` (an unambiguous decision).

    Two colliders can point the same edge both ways (``a -> b <- c`` and ``b -> a <- d``);
    ``conflict`` decides:

    * ``"bidirected"`` (default): the edge becomes ``a <-> b``, a marked conflict, and each
      collider keeps its other arrowhead. Every collider is decided first and all are
      applied at once, so the result does not depend on the column order (Colombo and
      Maathuis, 2014; pcalg's ``solve.confl``; causal-learn's ``uc_priority=1``).
    * ``"keep_existing"`` (causal-learn's default ``uc_priority=2``): a collider that would
      reverse an already directed edge is skipped entirely;
    * ``"overwrite"`` (causal-learn's ``uc_priority=0``): a later collider re-orients the edge.

    The last two visit the triples by middle node, then ``x``, then ``y``, in the PDAG's
    node order, so on conflicting colliders their result depends on the column order.

    Edges directed by background knowledge are never re-oriented and a collider that
    contradicts them (or puts an arrowhead on a forbidden direction) is skipped.

    Parameters
    ----------
    pdag : PDAG or networkx.Graph
        The skeleton, possibly with edges already directed by background knowledge.
    separating_sets : dict
        ``frozenset({x, y}) -> tuple of tuples`` (or ``-> tuple``, a single set; ``()`` is the
        empty set), e.g. :attr:`SkeletonResult.separating_sets`. A pair without an entry has
        no known separating set and gives no collider. Needed for ``rule="sepset"``.
    rule : {"sepset", "maxp", "definite_maxp"}
    conflict : {"bidirected", "keep_existing", "overwrite"}, default "bidirected"
    ci_test : CITest, optional
        Needed for the max-p rules.
    alpha : float
        Level of the ``"definite_maxp"`` rule.
    max_cond_size : int or None
        Largest conditioning set of the max-p rules.
    background_knowledge : BackgroundKnowledge, optional
    runner : CIRunner, optional
        A cached runner over ``ci_test`` shared with the skeleton phase (the max-p rules
        then reuse its tests); by default the phase builds its own.
    return_conflicts : bool, default False
        Also return the conflicts.

    Returns
    -------
    PDAG
        A new graph.
    conflicts : list of tuple
        With ``return_conflicts=True``: ``(a, b, "colliders", into_a, into_b)`` for every edge
        ``a - b`` (``a < b`` by name) that colliders orient both ways, whatever ``conflict``
        does with it; ``into_a`` are the colliders ``(x, a, y)`` (``x < y`` by name) that put
        an arrowhead at ``a``, ``into_b`` those at ``b``. Sorted by names.

    Raises
    ------
    ParameterError
        For an invalid ``rule``, ``conflict`` or ``alpha``, or a missing ``separating_sets``
        (``"sepset"``) or ``ci_test`` (max-p rules).
    UnknownNodeError
        With a max-p rule, naming the nodes of the skeleton that are not variables of the CI test.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph([("A", "C"), ("B", "C"), ("C", "D")])
    >>> seps = {frozenset({"A", "B"}): ((),), frozenset({"A", "D"}): (("C",),), frozenset({"B", "D"}): (("C",),)}
    >>> orient_colliders(g, seps)
    PDAG(nodes=['A', 'C', 'B', 'D'], edges=['A -> C', 'B -> C', 'C - D'])

    Two colliders, ``A -> B <- C`` and ``B -> C <- D``, orient ``B - C`` both ways:

    >>> g = nx.Graph([("A", "B"), ("B", "C"), ("C", "D")])
    >>> seps = {frozenset("AC"): ((),), frozenset("BD"): ((),), frozenset("AD"): ((),)}
    >>> pdag, conflicts = orient_colliders(g, seps, return_conflicts=True)
    >>> pdag
    PDAG(nodes=['A', 'B', 'C', 'D'], edges=['A -> B', 'D -> C', 'B <-> C'])
    >>> conflicts
    [('B', 'C', 'colliders', (('A', 'B', 'C'),), (('B', 'C', 'D'),))]

    See Also
    --------
    skeleton : the phase before, which finds the separating sets.
    scm.meek_rules : the phase after, which propagates the orientations.
    """
    check_option(rule, ORIENTATION_RULES, name="rule", owner="orient_colliders")
    check_option(conflict, CONFLICT_RULES, name="conflict", owner="orient_colliders")
    if not isinstance(pdag, PDAG):
        pdag = PDAG(list(pdag.nodes), (), pdag.edges)
    bk = check_background_knowledge(background_knowledge, pdag.nodes)
    triples = _unshielded_triples(pdag)

    if rule == "sepset":
        if separating_sets is None:
            raise ParameterError("orient_colliders with rule='sepset' needs the 'separating_sets' of the skeleton search.")
        decisions = _sepset_decisions(triples, separating_sets)
    else:
        if ci_test is None and runner is None:
            raise ParameterError(f"orient_colliders with rule={rule!r} needs a 'ci_test'.")
        check_in_range(alpha, name="alpha", low=0, high=1, owner="orient_colliders")
        tester = as_runner(ci_test, runner, owner="orient_colliders")
        check_nodes(list(pdag.nodes), tester.index, what="skeleton node", where="the variables of the CI test")
        decisions = _maxp_decisions(pdag, triples, tester, alpha, max_cond_size, rule == "definite_maxp")

    colliders = [t for t, c in zip(triples, decisions) if c]
    fixed = set(pdag.directed_edges)  # directed before this phase: never re-oriented

    def allowed(x, z, y):
        for a in (x, y):
            if (z, a) in fixed:
                return False
            if bk is not None and (bk.is_forbidden(a, z) or bk.is_required(z, a)):
                return False
        return True

    colliders = [t for t in colliders if allowed(*t)]
    heads: dict = {}  # (a, z) -> the colliders (x, z, y) that put an arrowhead at z on a - z
    for x, z, y in colliders:
        triple = (x, z, y) if str(x) <= str(y) else (y, z, x)
        for a in (x, y):
            heads.setdefault((a, z), []).append(triple)
    conflicts = []
    for a, b in heads:
        if (b, a) in heads and str(a) < str(b):
            conflicts.append((a, b, "colliders", tuple(sorted(heads[(b, a)], key=_names)), tuple(sorted(heads[(a, b)], key=_names))))
    conflicts.sort(key=_names)
    for a, b, _, into_a, into_b in conflicts:
        logger.info("colliders orient %r - %r both ways: %s into %r, %s into %r", a, b, into_a, a, into_b, b)

    if conflict == "bidirected":
        both = {frozenset(c[:2]) for c in conflicts}
        directed = [e for e in heads if frozenset(e) not in both and e not in fixed]
        g = pdag.with_edges(directed=directed, bidirected=[tuple(e) for e in both])
    else:
        g = pdag
        for x, z, y in colliders:
            if conflict == "keep_existing" and (g.has_directed(z, x) or g.has_directed(z, y)):
                logger.debug("collider %r -> %r <- %r skipped: it would reverse an oriented edge", x, z, y)
                continue
            g = g.with_edges(directed=[(x, z), (y, z)])
    return (g, conflicts) if return_conflicts else g


def _names(item) -> tuple:
    """A sort key by string names (column-order independent)."""
    return tuple(str(v) for v in item) if isinstance(item, tuple) else (str(item),)


def _conflict_table(conflicts, graph: PDAG) -> pd.DataFrame:
    """The conflicts of an orientation phase as a table (the ``conflicts_`` of PC and CD-NOD).

    Parameters
    ----------
    conflicts : list of tuple
        ``(a, b, phase, into_a, into_b)`` records, as returned by
        :func:`orient_colliders` (``return_conflicts=True``) and by the order-independent
        Meek rules.
    graph : PDAG
        The final graph, to report what each conflicted edge became.

    Returns
    -------
    pandas.DataFrame
        One row per record, columns ``x, y, phase, into_x, into_y, edge``: the edge ``x - y``
        (``x < y`` by name); the phase (``"colliders"``, ``"meek: both ways"``,
        ``"meek: cycle"``); what put an arrowhead at ``x`` and at ``y`` (unshielded colliders
        ``(u, x, v)``, or Meek rule names); the edge in ``graph`` (``"x <-> y"``,
        ``"x -> y"``, ``"y -> x"``, ``"x - y"``). Sorted by names.

    Examples
    --------
    >>> g = PDAG(list("ABCD"), directed=[("A", "B"), ("D", "C")], bidirected=[("B", "C")])
    >>> _conflict_table([("B", "C", "colliders", (("A", "B", "C"),), (("B", "C", "D"),))], g)[["x", "y", "edge"]]
       x  y      edge
    0  B  C  B <-> C
    """

    def edge(a, b):
        if graph.has_bidirected(a, b):
            return f"{a} <-> {b}"
        if graph.has_directed(a, b):
            return f"{a} -> {b}"
        if graph.has_directed(b, a):
            return f"{b} -> {a}"
        return f"{a} - {b}" if graph.has_undirected(a, b) else ""

    rows = [
        {"x": a, "y": b, "phase": phase, "into_x": into_a, "into_y": into_b, "edge": edge(a, b)}
        for a, b, phase, into_a, into_b in conflicts
    ]
    table = pd.DataFrame(rows, columns=["x", "y", "phase", "into_x", "into_y", "edge"])
    if len(table):
        order = sorted(range(len(rows)), key=lambda i: (str(rows[i]["phase"]), str(rows[i]["x"]), str(rows[i]["y"])))
        table = table.iloc[order].reset_index(drop=True)
    return table


def _orient_and_propagate(pdag: PDAG, collider_conflicts: list, conflict: str) -> tuple[PDAG, list]:
    """Meek's rules after the colliders: in order-independent rounds with ``conflict="bidirected"``.

    Returns the graph and every conflict (the colliders' and Meek's, as
    ``(a, b, phase, into_a, into_b)``).
    """
    if conflict != "bidirected":
        return _meek_rules(pdag), list(collider_conflicts)  # an estimated pattern may be cyclic
    graph, meek = _meek_rounds(pdag)
    return graph, list(collider_conflicts) + [(a, b, f"meek: {kind}", ia, ib) for a, b, kind, ia, ib in meek]


# --------------------------------------------------------------------------- estimator
class PC(ParamsMixin):
    """The PC algorithm (PC-stable) with batched conditional-independence tests.

    Learns a CPDAG (the Markov equivalence class of a DAG, assuming no latent confounders)
    from data by conditional-independence tests. The phases are :func:`skeleton`,
    :func:`apply_background_knowledge`, :func:`orient_colliders` and :func:`scm.meek_rules`.

    Parameters
    ----------
    ci_test : str or CITest, default "fisherz"
        Name of a CI test (see :func:`discovery.make_ci_test`) or an instance.
    alpha : float, default 0.05
        Significance level in (0, 1); ``p > alpha`` means independent.
    max_cond_size : int or None, default None
        Largest conditioning set tested (``None``: no limit).
    orientation : {"sepset", "maxp", "definite_maxp"}, default "sepset"
        How unshielded colliders are decided (see :func:`orient_colliders`).
    conflict : {"bidirected", "keep_existing", "overwrite"}, default "bidirected"
        What to do when two colliders orient one edge both ways: make it bidirected (a
        marked conflict; Meek's rules then run in order-independent rounds and mark their own
        conflicts the same way), so that the graph does not depend on the column order; or,
        depending on the column order, keep the first orientation (causal-learn's default,
        ``uc_priority=2``) or let the later one win (``uc_priority=0``). See Notes.
    stable : bool, default True
        PC-stable: the skeleton does not depend on the column order.
    background_knowledge : BackgroundKnowledge or dict, optional
        Required / forbidden edges and tiers (see :class:`BackgroundKnowledge`).
    ci_test_kwargs : dict, optional
        Keyword arguments of the CI test when ``ci_test`` is a name.
    progress : bool, default False
        Show a tqdm progress bar over the levels of the skeleton search.

    Attributes
    ----------
    graph_ : scm.PDAG
        The learned CPDAG over the column names; with ``conflict="bidirected"`` an edge
        whose orientations conflicted is bidirected.
    conflicts_ : pandas.DataFrame
        The edges whose orientations conflicted (columns ``x, y, phase, into_x, into_y,
        edge``; see :func:`discovery.constraint.orient_colliders`): colliders that orient
        an edge both ways (under every ``conflict`` rule) and, with ``"bidirected"``, Meek
        rules that do, or whose orientations together would close a cycle. Empty when the
        colliders are consistent.
    skeleton_ : networkx.Graph
        The skeleton found by the adjacency search.
    sepsets_ : dict
        ``frozenset({x, y}) -> tuple`` separating set of every removed pair (the first in the
        order of sorted names; pairs removed by background knowledge have none).
    pvalues_ : pandas.DataFrame
        Every CI test run, with columns ``x, y, cond, statistic, pvalue`` (``statistic`` is
        NaN if the CI test only returns p-values).
    n_tests_ : int
        The number of distinct CI tests run (skeleton and orientation).
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str

    Notes
    -----
    *Comparison with causal-learn.* With default settings, ``PC()`` on Fisher-z gives the
    same skeleton and orientations as ``causallearn.search.ConstraintBased.PC.pc(data, 0.05,
    fisherz)``: the same PC-stable tests (p-values agree to ~1e-10), the same collider rule
    (``uc_rule=0``: ``z`` is a collider iff it is in none of the separating sets found at the
    level where ``x - y`` was removed) and, where the colliders do not conflict, the same
    orientations. causal-learn's default conflict rule (``uc_priority=2``) is
    ``conflict="keep_existing"``, with the same visiting order of the unshielded triples
    (middle node, then ends, in column order); ``0`` is ``"overwrite"``, ``1`` is
    ``"bidirected"``. ``orientation="maxp"`` matches ``uc_rule=1``. The results can differ by
    design:

    * The default conflict rule is ``"bidirected"``, not causal-learn's ``uc_priority=2``:
      real data often give conflicting colliders (6 of the 18 single-condition fits of the
      Sachs data, raw and log), and keeping the first of them gives a graph that changes
      with the column order. Marking the contested edge ``<->`` does not, and
      ``conflicts_`` says where it happened; against a true DAG the marked edge counts as
      an error (docs/benchmarks.md, "PC"). Pass ``conflict="keep_existing"`` for
      causal-learn's graph.

    * Meek's rules are :func:`scm.meek_rules`: R1-R4, never reversing a directed edge and,
      like causal-learn, skipping an orientation that would close a directed cycle (which
      only happens when finite-sample errors make the colliders inconsistent). causal-learn
      applies R1-R3 only; R4 never fires without background knowledge, so the default
      results agree.
    * ``orientation="definite_maxp"`` only decides colliders (a collider needs every set
      containing ``z`` to reject independence and the largest p-value to come from a set
      without ``z``); causal-learn's ``uc_rule=2`` additionally restricts Meek's rules to
      definite non-colliders first, so propagation can differ.
    * Background knowledge: causal-learn tests pairs forbidden both ways, records an empty
      separating set for them (so it orients false colliders, its issue #224) and lets the
      collider and Meek phases orient edges into forbidden directions (#219). Here forbidden
      pairs are never tested and give no collider; required edges are kept even when the
      tests would remove them (#76); no output edge contradicts the knowledge.

    PC-stable with batching tests every conditioning set of a level for every pair (also
    after a separating set is found); ``n_tests_`` counts the distinct tests. The
    ``"sepset"`` rule uses all the separating sets found, so it does not depend on the order
    in which sets are tried; ``sepsets_`` reports one of them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n = 2000
    >>> smoke = rng.normal(size=n)
    >>> tar = 0.8 * smoke + rng.normal(size=n)
    >>> genes = rng.normal(size=n)
    >>> cancer = 0.7 * tar + 0.6 * genes + rng.normal(size=n)
    >>> data = pd.DataFrame({"smoke": smoke, "tar": tar, "genes": genes, "cancer": cancer})
    >>> model = PC(alpha=0.01).fit(data)
    >>> model.graph_
    PDAG(nodes=['smoke', 'tar', 'genes', 'cancer'], edges=['tar -> cancer', 'genes -> cancer', 'smoke - tar'])
    >>> model.sepsets_[frozenset({"smoke", "cancer"})]
    ('tar',)
    >>> model.pvalues_.columns.tolist()
    ['x', 'y', 'cond', 'statistic', 'pvalue']
    """

    def __init__(
        self,
        *,
        ci_test="fisherz",
        alpha: float = 0.05,
        max_cond_size: int | None = None,
        orientation: str = "sepset",
        conflict: str = "bidirected",
        stable: bool = True,
        background_knowledge=None,
        ci_test_kwargs: dict | None = None,
        progress: bool = False,
    ):
        self.ci_test = ci_test
        self.alpha = alpha
        self.max_cond_size = max_cond_size
        self.orientation = orientation
        self.conflict = conflict
        self.stable = stable
        self.background_knowledge = background_knowledge
        self.ci_test_kwargs = ci_test_kwargs
        self.progress = progress

    _parameter_constraints = {
        **ci_test_constraints(),
        **SEARCH_CONSTRAINTS,
        "stable": Boolean(),
        "background_knowledge": Custom(check_knowledge_type, "None, a BackgroundKnowledge or a dict"),
        "progress": Boolean(),
    }

    def _make_ci_test(self, frame: pd.DataFrame):
        from ..citest import resolve_ci_test

        return resolve_ci_test(self.ci_test, self.ci_test_kwargs, frame, owner="PC")

    def fit(self, data, y=None) -> PC:
        """Learn the CPDAG of ``data``.

        Parameters
        ----------
        data : pandas.DataFrame or array of shape (n_samples, n_features)
            Column names become node names (arrays: ``X0, X1, ...``).
        y : ignored

        Returns
        -------
        PC
            ``self``.

        Raises
        ------
        ParameterError
            For an invalid parameter (the message names it and lists allowed values).
        DataError
            For NaN/inf, non-numeric or constant columns (named).
        UnknownNodeError
            If the background knowledge names a node that is not a column.
        """
        self._validate_params()
        frame = check_numeric_frame(data, name="data", min_rows=4, allow_constant=False)
        names = list(frame.columns)
        bk = check_background_knowledge(self.background_knowledge, names)
        test = self._make_ci_test(frame)
        runner = CIRunner.from_ci_test(test)
        logger.info("PC on %d variables, %d samples, alpha=%g", len(names), frame.shape[0], self.alpha)
        skel = skeleton(
            test,
            alpha=self.alpha,
            max_cond_size=self.max_cond_size,
            stable=self.stable,
            background_knowledge=bk,
            progress=self.progress,
            runner=runner,
        )
        pdag = apply_background_knowledge(skel.graph, bk, nodes=names)
        pdag, conflicts = orient_colliders(
            pdag,
            skel.separating_sets,
            rule=self.orientation,
            conflict=self.conflict,
            ci_test=test,
            alpha=self.alpha,
            max_cond_size=self.max_cond_size,
            background_knowledge=bk,
            runner=runner,
            return_conflicts=True,
        )
        graph, conflicts = _orient_and_propagate(pdag, conflicts, self.conflict)
        if graph.directed_edges:
            dag_part = nx.DiGraph(list(graph.directed_edges))
            if not nx.is_directed_acyclic_graph(dag_part):
                cycle = [u for u, _ in nx.find_cycle(dag_part)]
                logger.warning(
                    "PC: the orientations close a directed cycle (%s); the colliders found are not "
                    "consistent with any DAG, usually because of CI-test errors at this sample size",
                    " -> ".join(map(str, cycle + cycle[:1])),
                )
        self.graph_ = PDAG(names, graph.directed_edges, graph.undirected_edges, graph.bidirected_edges)
        self.conflicts_ = _conflict_table(conflicts, self.graph_)
        if len(self.conflicts_):
            logger.info(
                "PC: %d conflicting orientations (conflict=%r): %s", len(self.conflicts_), self.conflict, ", ".join(self.conflicts_["edge"])
            )
        self.skeleton_ = skel.graph
        self.sepsets_ = skel.sepsets
        self.separating_sets_ = skel.separating_sets
        self._tests = runner.record()  # pvalues_ is built from it when read
        self.__dict__.pop("_pvalues", None)
        self.n_tests_ = runner.n_tests
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    @property
    def pvalues_(self) -> pd.DataFrame:
        """Every CI test run, with columns ``x, y, cond, statistic, pvalue`` (built at the first read)."""
        if "_tests" not in self.__dict__:
            raise AttributeError("'PC' object has no attribute 'pvalues_' (not fitted)")
        if "_pvalues" not in self.__dict__:
            self._pvalues = self._tests.frame()
        return self._pvalues

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "graph_")
