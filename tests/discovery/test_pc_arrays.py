"""PC's array-native orchestration against the per-query Python it replaced.

The skeleton's level queries, the runner's array path, the lazily named separating sets and
Meek's rules on adjacency matrices must give exactly what the set-and-tuple code gave: the
references below are that code, kept here as the specification.
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from discovery import PC, FisherZ
from discovery.constraint import CIRunner, skeleton
from discovery.constraint._pc import SeparatingSets, _level_queries, _SeparatingStore
from scm import PDAG
from scm._cpdag import _meek_rounds


def _reference_level_queries(adj, k, untested):
    """The former loop: x, then y, then the k-subsets of adj(x) minus y; first occurrence of each test."""
    d = adj.shape[0]
    keys = []
    for x in range(d):
        nb = set(np.flatnonzero(adj[x]).tolist())
        for y in sorted(nb):
            if untested[x, y]:
                continue
            others = sorted(nb - {y})
            if len(others) < k:
                continue
            keys.extend((min(x, y), max(x, y), s) for s in itertools.combinations(others, k))
    return [[i, j, *s] for i, j, s in dict.fromkeys(keys)]


@pytest.mark.parametrize("seed", range(4))
def test_level_queries_are_the_loops_tests_in_its_order(seed):
    rng = np.random.default_rng(seed)
    d = 11
    adj = np.triu(rng.random((d, d)) < 0.45, 1)
    adj = adj | adj.T
    untested = np.triu(rng.random((d, d)) < 0.1, 1)
    untested = (untested | untested.T) & adj
    for k in range(4):
        got = _level_queries(adj, k, untested)
        assert got.tolist() == _reference_level_queries(adj, k, untested), k
        for x in range(d):  # one node's tests (sequential PC): the loop restricted to x, no deduplication
            rows = _level_queries(adj, k, untested, sources=[x])
            ref = [r for r in _reference_level_queries(adj & _only(x, d), k, untested)]
            assert sorted(rows.tolist()) == sorted(ref)


def _only(x, d):
    """Adjacency mask keeping the rows of node x (the loop then asks nothing of the others)."""
    mask = np.zeros((d, d), dtype=bool)
    mask[x] = True
    return mask


def test_runner_array_and_tuple_paths_share_one_cache():
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)), columns=list("ABCDEF"))
    test = FisherZ(data)
    runner = CIRunner.from_ci_test(test)
    rows = np.array([[0, 1, 2], [1, 0, 2], [3, 4, 5], [0, 1, 2]])  # a repeat and a reversed pair
    stats, pvals = runner.run_arrays(rows)
    assert runner.n_tests == 2 and runner.n_requested == 4 and runner.n_cached == 2
    ref = test.pvalues([("A", "B", ["C"]), ("D", "E", ["F"])])
    np.testing.assert_allclose(pvals, ref[[0, 0, 1, 0]], rtol=0, atol=0)
    runner.run([runner.key(1, 0, [2]), runner.key(0, 2, [1])])  # one cached (from the arrays), one new
    assert runner.n_tests == 3 and runner.n_cached == 3 and runner.n_calls == 2
    assert runner.pvalue((0, 1, (2,))) == pvals[0] and (0, 2, (1,)) in runner.cache
    again = runner.run_arrays(np.array([[2, 0, 1]]))[1]  # run by run(): cached
    assert runner.n_tests == 3 and again[0] == runner.pvalue((0, 2, (1,)))
    frame = runner.frame()
    assert frame["cond"].tolist() == [("C",), ("F",), ("B",)] and len(runner.cache) == 3
    assert runner.order == [(0, 1, (2,)), (3, 4, (5,)), (0, 2, (1,))]


class _TupleOnly(FisherZ):
    """Fisher-z that overrides ``test``: the runner must ask it tuple by tuple (the generic path)."""

    def test(self, queries):
        return super().test(queries)


@pytest.mark.slow
def test_pc_on_arrays_equals_pc_through_the_generic_path():
    """On 40 variables: the same graph, separating sets, tests and p-values (bit for bit) through
    index arrays as through the tuple interface every CI test has."""
    rng = np.random.default_rng(5)
    d, n = 40, 2000
    w = np.triu(rng.random((d, d)) < 0.08, 1) * rng.uniform(0.5, 1.5, (d, d))
    x = np.zeros((n, d))
    for j in range(d):
        x[:, j] = x @ w[:, j] + rng.normal(size=n)
    data = pd.DataFrame(x, columns=[f"V{j}" for j in range(d)])
    fast = PC(alpha=0.05).fit(data)
    slow = PC(ci_test=_TupleOnly(data), alpha=0.05).fit(data)
    assert fast.graph_ == slow.graph_ and fast.n_tests_ == slow.n_tests_
    assert fast.separating_sets_ == slow.separating_sets_ and fast.sepsets_ == slow.sepsets_
    pd.testing.assert_frame_equal(fast.pvalues_, slow.pvalues_, check_exact=True)


def test_separating_sets_mapping_reads_the_arrays_by_name():
    store = _SeparatingStore(["A", "B", "C", "D"], [np.array([[0, 3]]), np.array([[1, 3, 2], [1, 3, 0], [1, 3, 0]])])
    seps, first = SeparatingSets(store), SeparatingSets(store, first=True)
    assert len(seps) == 2 and set(seps) == {frozenset("AD"), frozenset("BD")}
    assert seps[frozenset("BD")] == (("A",), ("C",)) and first[frozenset("DB")] == ("A",)
    assert first[frozenset("AD")] == () and frozenset("AB") not in seps and seps.get(frozenset("AQ")) is None
    assert seps == {frozenset("AD"): ((),), frozenset("BD"): (("A",), ("C",))}


def test_pvalues_attribute_is_built_from_the_record():
    rng = np.random.default_rng(1)
    data = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("ABCD"))
    model = PC()
    with pytest.raises(AttributeError, match="pvalues_"):
        model.pvalues_  # noqa: B018
    model.fit(data)
    table = model.pvalues_
    assert table is model.pvalues_ and len(table) == model.n_tests_
    assert table.columns.tolist() == ["x", "y", "cond", "statistic", "pvalue"]
    res = skeleton(FisherZ(data))
    pd.testing.assert_frame_equal(res.pvalues, table)  # no orientation test here: the same tests


# ------------------------------------------------------------------------------ Meek's rules
def _reference_rounds(pdag, rules=("R1", "R2", "R3", "R4"), avoid_cycles=True):
    """The former set-based rounds (the specification of the array version)."""

    def closes_cycle(g, a, b):
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

    def orienting(g, a, b):
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
            for d in g.parents(b):
                if d == a or not g.adjacent(a, d):
                    continue
                if any(c not in (a, b) and g.has_undirected(a, c) and not g.adjacent(c, b) for c in g.parents(d)):
                    out.append("R4")
                    break
        return out

    g, frozen, conflicts = pdag, set(), []
    while True:
        claims = {}
        for e in g.undirected_edges:
            if e in frozen:
                continue
            x, y = tuple(e)
            for a, b in ((x, y), (y, x)):
                if avoid_cycles and closes_cycle(g, a, b):
                    continue
                fired = orienting(g, a, b)
                if fired:
                    claims[(a, b)] = fired
        if not claims:
            return g, sorted(conflicts, key=lambda c: (str(c[0]), str(c[1])))
        both = {frozenset(c) for c in claims if (c[1], c[0]) in claims}
        single = [c for c in claims if frozenset(c) not in both]
        new = g.with_edges(directed=single, bidirected=[tuple(e) for e in both])
        cut = []
        if avoid_cycles and single:
            dag = nx.DiGraph(list(new.directed_edges))
            comp = {n: i for i, scc in enumerate(nx.strongly_connected_components(dag)) if len(scc) > 1 for n in scc}
            cut = [(a, b) for a, b in single if a in comp and comp[a] == comp.get(b)]
            if cut:
                new = g.with_edges(directed=[c for c in single if c not in cut], bidirected=[tuple(e) for e in both])
        for e in both:
            a, b = sorted(e, key=str)
            conflicts.append((a, b, "both ways", tuple(claims[(b, a)]), tuple(claims[(a, b)])))
        for c in cut:
            a, b = sorted(c, key=str)
            conflicts.append((a, b, "cycle", tuple(claims.get((b, a), ())), tuple(claims.get((a, b), ()))))
        frozen |= both | {frozenset(c) for c in cut}
        g = new


def _random_pattern(rng, d):
    """A random PDAG: an acyclic or cyclic set of directed edges, undirected and a few bidirected ones."""
    nodes = [f"N{i}" for i in range(d)]
    directed, undirected, bidirected = [], [], []
    for i, j in itertools.combinations(range(d), 2):
        u = rng.random()
        if u < 0.15:
            directed.append((nodes[i], nodes[j]) if rng.random() < 0.8 else (nodes[j], nodes[i]))
        elif u < 0.38:
            undirected.append((nodes[i], nodes[j]))
        elif u < 0.41:
            bidirected.append((nodes[i], nodes[j]))
    return PDAG(nodes, directed, undirected, bidirected)


@pytest.mark.parametrize("avoid_cycles", [True, False])
def test_meek_rounds_on_matrices_equal_the_set_based_rounds(avoid_cycles):
    rng = np.random.default_rng(11)
    fired = 0
    for _ in range(40):
        g = _random_pattern(rng, int(rng.integers(5, 10)))
        for rules in (("R1", "R2", "R3", "R4"), ("R3", "R4"), ("R1",)):
            got = _meek_rounds(g, rules=rules, avoid_cycles=avoid_cycles)
            ref = _reference_rounds(g, rules=rules, avoid_cycles=avoid_cycles)
            assert got[0] == ref[0] and got[1] == ref[1], (g, rules)
            fired += got[0] != g
    assert fired > 20  # the patterns exercise the rules


def test_fisherz_executor_splits_large_batches_and_gives_the_same_pvalues():
    from concurrent.futures import ThreadPoolExecutor

    from scm import ParameterError

    rng = np.random.default_rng(2)
    data = pd.DataFrame(rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8)), columns=[f"C{i}" for i in range(8)])
    queries = [(i, j, [c]) for i in range(8) for j in range(i + 1, 8) for c in range(8) if c not in (i, j)]
    with ThreadPoolExecutor(2) as pool:
        spread = FisherZ(data, executor=pool, executor_chunk=7)
        got = spread.test(queries)
        assert PC(ci_test=spread).fit(data).graph_ == PC().fit(data).graph_
    ref = FisherZ(data).test(queries)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    import pickle

    assert pickle.loads(pickle.dumps(spread)).executor is None
    with pytest.raises(ParameterError, match="'executor' parameter of FisherZ"):
        FisherZ(data, executor="dask")
    with pytest.raises(ParameterError, match="executor_chunk"):
        FisherZ(data, executor_chunk=0)
