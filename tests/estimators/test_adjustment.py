"""Adjustment sets: brute-force and independent checks, CPDAGs, bnlearn networks vs pgmpy."""

import itertools
import logging
import sys
import warnings

import networkx as nx
import numpy as np
import pytest

import scm
from estimators import (
    NotIdentifiableError,
    adjustment_set,
    adjustment_sets,
    frontdoor_sets,
    is_valid_adjustment,
    is_valid_frontdoor,
)
from scm import PDAG


def _backdoor_ok(dag, x, y, z):
    """Pearl's back-door criterion, checked with networkx's d-separation (independent of scm's reachability engine)."""
    if set(z) & (nx.descendants(dag, x) | {x}):
        return False
    g = dag.copy()
    g.remove_edges_from(list(g.out_edges(x)))
    return nx.is_d_separator(g, {x}, {y}, set(z))


def _path_blocked(dag, path, z):
    anc_z = set(z)
    for v in z:
        anc_z |= nx.ancestors(dag, v)
    for a, b, c in zip(path, path[1:], path[2:]):
        collider = dag.has_edge(a, b) and dag.has_edge(c, b)
        if collider and b not in anc_z:
            return True
        if not collider and b in z:
            return True
    return False


def _adjustment_brute(dag, x, y, z):
    """Shpitser et al. (2010) adjustment criterion by enumerating paths (small graphs only)."""
    skel = dag.to_undirected()
    causal_nodes = set()
    for p in nx.all_simple_paths(dag, x, y):
        causal_nodes |= set(p[1:])
    forb = set(causal_nodes)
    for v in causal_nodes:
        forb |= nx.descendants(dag, v)
    if set(z) & (forb | {x}):
        return False
    for p in nx.all_simple_paths(skel, x, y):
        causal = all(dag.has_edge(a, b) for a, b in zip(p, p[1:]))
        if not causal and not _path_blocked(dag, p, set(z)):
            return False
    return True


def _random_dags(count, n, p, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        order = rng.permutation(n)
        g = nx.DiGraph()
        g.add_nodes_from(f"V{i}" for i in range(n))
        for i, j in itertools.combinations(range(n), 2):
            if rng.random() < p:
                a, b = sorted((order[i], order[j]))
                g.add_edge(f"V{a}", f"V{b}")
        yield g


def test_named_graphs():
    g = nx.DiGraph([("Z", "X"), ("Z", "Y"), ("X", "M"), ("M", "Y"), ("W", "Y"), ("X", "C"), ("Y", "D")])
    assert adjustment_set(g, "X", "Y") == {"Z"}
    assert adjustment_set(g, "X", "Y", kind="optimal") == {"Z", "W"}
    assert is_valid_adjustment(g, "X", "Y", {"Z", "C"})  # a non-causal descendant of X is allowed
    assert not is_valid_adjustment(g, "X", "Y", {"Z", "D"})
    m = nx.DiGraph([("U1", "A"), ("U1", "M"), ("U2", "M"), ("U2", "B"), ("A", "B")])
    assert adjustment_set(m, "A", "B") == frozenset()
    assert not is_valid_adjustment(m, "A", "B", ["M"])
    assert is_valid_adjustment(m, "A", "B", ["M", "U1"])


@pytest.mark.parametrize("seed", range(3))
def test_dag_criterion_matches_path_enumeration(seed):
    for dag in _random_dags(8, 7, 0.35, seed):
        nodes = list(dag.nodes)
        for x, y in itertools.permutations(nodes[:4], 2):
            rest = [v for v in nodes if v not in (x, y)]
            valid = {frozenset(z) for k in range(len(rest) + 1) for z in itertools.combinations(rest, k) if _adjustment_brute(dag, x, y, z)}
            candidates = map(frozenset, (c for k in range(len(rest) + 1) for c in itertools.combinations(rest, k)))
            ours = {z for z in candidates if is_valid_adjustment(dag, x, y, z)}
            assert ours == valid, (list(dag.edges), x, y)
            listed = adjustment_sets(dag, x, y, kind="all")
            assert set(listed) == valid
            minimal = {z for z in valid if not any(w < z for w in valid)}
            assert set(adjustment_sets(dag, x, y, kind="minimal")) == minimal
            if valid:
                assert adjustment_set(dag, x, y) in minimal
                o = adjustment_set(dag, x, y, kind="optimal")
                assert o in valid
            else:
                with pytest.raises(NotIdentifiableError):
                    adjustment_set(dag, x, y)


@pytest.mark.parametrize("seed", range(3))
def test_cpdag_criterion_is_validity_in_every_dag_of_the_class(seed):
    checked_non_amenable = 0
    for dag in _random_dags(10, 6, 0.4, 100 + seed):
        cp = scm.cpdag(dag)
        members = scm.dags_in_class(cp)
        nodes = list(dag.nodes)
        for x, y in itertools.permutations(nodes[:4], 2):
            rest = [v for v in nodes if v not in (x, y)]
            subsets = [frozenset(c) for k in range(len(rest) + 1) for c in itertools.combinations(rest, k)]
            in_all = {z for z in subsets if all(_adjustment_brute(d, x, y, z) for d in members)}
            ours = {z for z in subsets if is_valid_adjustment(cp, x, y, z)}
            assert ours == in_all, (list(dag.edges), x, y)
            try:
                z = adjustment_set(cp, x, y)
            except NotIdentifiableError as exc:
                assert not in_all
                checked_non_amenable += "CPDAG" in str(exc)
            else:
                assert z in in_all
                assert adjustment_set(cp, x, y, kind="optimal") in in_all
    assert checked_non_amenable > 0


def test_not_amenable_message():
    cp = PDAG(["X", "Y", "Z"], directed=[], undirected=[("X", "Y")])
    with pytest.raises(NotIdentifiableError, match=r"'X' - 'Y' is undirected"):
        adjustment_set(cp, "X", "Y")


def test_no_set_error_shows_open_path():
    g = nx.DiGraph([("U", "X"), ("U", "Y"), ("X", "Y")])
    with pytest.raises(NotIdentifiableError, match="X <- U -> Y") as info:
        adjustment_set(g, "X", "Y", exclude=["U"])
    assert info.value.path == ["X", "U", "Y"]
    assert adjustment_sets(g, "X", "Y", kind="all", exclude=["U"]) == []


def test_bad_input():
    g = nx.DiGraph([("Z", "X"), ("X", "Y")])
    with pytest.raises(KeyError, match="unknown treatment"):
        adjustment_set(g, "Q", "Y")
    with pytest.raises(ValueError, match="must be one of"):
        adjustment_set(g, "X", "Y", kind="smallest")
    with pytest.raises(ValueError, match="overlap"):
        adjustment_set(g, "X", "X")
    with pytest.raises(scm.CycleError, match="X -> Y -> X"):
        adjustment_set(nx.DiGraph([("X", "Y"), ("Y", "X")]), "X", "Y")


def test_frontdoor():
    fd = PDAG.from_edges([("X", "M"), ("M", "Y"), ("X", "Y", "bidirected")])
    assert frontdoor_sets(fd, "X", "Y") == [frozenset({"M"})]
    assert not is_valid_frontdoor(fd.with_edges(bidirected=[("M", "Y")]), "X", "Y", ["M"])
    two = PDAG.from_edges([("X", "A"), ("X", "B"), ("A", "Y"), ("B", "Y"), ("X", "Y", "bidirected")])
    assert frontdoor_sets(two, "X", "Y") == [frozenset({"A", "B"})]
    with pytest.raises(NotIdentifiableError):
        adjustment_set(fd, "X", "Y")


def test_admg_adjustment():
    g = PDAG.from_edges([("Z", "X"), ("X", "Y"), ("Z", "Y"), ("W", "Z"), ("W", "Y", "bidirected")])
    assert adjustment_set(g, "X", "Y") == {"Z"}
    assert not is_valid_adjustment(g.with_edges(bidirected=[("X", "Y")]), "X", "Y", ["Z"])


def test_minimal_set_on_150_nodes_is_valid_and_minimal():
    dag = scm.random_dag(150, expected_degree=4.0, random_state=1)
    order = list(nx.topological_sort(dag))
    x = next(v for v in order if len(nx.descendants(dag, v)) > 30)
    y = max(nx.descendants(dag, x), key=lambda v: len(nx.ancestors(dag, v)))
    z = adjustment_set(dag, x, y)
    assert _backdoor_ok(dag, x, y, z)
    assert not any(_backdoor_ok(dag, x, y, z - {v}) for v in z)  # no node can be dropped


def _confounder_ladder(k: int) -> nx.DiGraph:
    """X -> Y with k confounders C_i (each below a chain of 3 ancestors) and k mediated descendants of X."""
    g = nx.DiGraph([("X", "Y")])
    for i in range(k):
        g.add_edges_from([(f"C{i}", "X"), (f"C{i}", "Y"), ("X", f"M{i}"), (f"M{i}", f"D{i}")])
        nx.add_path(g, [f"A{i}_2", f"A{i}_1", f"A{i}_0", f"C{i}"])
    return g


def _lines_executed(fn):
    """``fn()`` and the number of Python lines it executed (a machine-independent count of work)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        count += event == "line"
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        out = fn()
    finally:
        sys.settrace(previous)
    return out, count


def test_minimal_set_work_grows_linearly_with_the_graph():
    """FindMinSep is a fixed number of reachability searches, so its work is linear in the size of
    the graph (no enumeration of candidate sets). Counted in executed lines, not seconds: the
    timing is measured by benchmarks/bench_effects.py (docs/benchmarks.md, "Identification: one adjustment set")."""
    work = {}
    for k in (50, 100, 200):
        g = _confounder_ladder(k)
        z, lines = _lines_executed(lambda g=g: adjustment_set(g, "X", "Y"))
        assert z == {f"C{i}" for i in range(k)}
        work[k] = lines / (g.number_of_nodes() + g.number_of_edges())
    # Measured: about 46 lines per node or edge at every k. Quadratic work would double the ratio
    # from k = 50 to 100 and again to 200.
    assert work[200] < 1.3 * work[50] and work[100] < 1.3 * work[50], work


# ------------------------------------------------------------------------------- bnlearn + pgmpy

NETWORKS = ["asia", "child", "insurance", "alarm"]


def _pairs(dag, k, seed):
    rng = np.random.default_rng(seed)
    pairs = [(x, y) for x in dag.nodes for y in nx.descendants(dag, x) if not dag.has_edge(x, y)]
    pairs.sort()
    idx = rng.permutation(len(pairs))[:k]
    return [pairs[i] for i in idx]


@pytest.fixture(scope="module")
def pgmpy_ci():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip("pgmpy")
        from pgmpy.base import DAG
        from pgmpy.inference import CausalInference

    def make(dag):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CausalInference(DAG(list(dag.edges)))

    return make


@pytest.mark.parametrize("name", NETWORKS)
def test_bnlearn_minimal_sets_valid_and_agree_with_pgmpy(name, pgmpy_ci):
    dag = scm.datasets.load_bnlearn(name).graph
    pairs = _pairs(dag, 25, seed=0)
    ci = pgmpy_ci(dag)
    equal = same_size = pgmpy_invalid = pgmpy_none = 0
    for x, y in pairs:
        z = adjustment_set(dag, x, y)
        assert is_valid_adjustment(dag, x, y, z)
        assert _backdoor_ok(dag, x, y, z), (x, y, z)
        assert adjustment_set(dag, x, y, kind="minimal", include=()) == z
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = ci.get_minimal_adjustment_set(x, y)
        if theirs is None:
            pgmpy_none += 1
            continue
        theirs = frozenset(theirs)
        ok = is_valid_adjustment(dag, x, y, theirs)
        assert ok == _backdoor_ok(dag, x, y, theirs)
        if theirs == z:
            equal += 1
        elif ok and len(theirs) == len(z):
            same_size += 1
        elif not ok:
            pgmpy_invalid += 1
        else:  # both valid and minimal, different sizes: allowed (minimal, not minimum)
            assert all(not is_valid_adjustment(dag, x, y, theirs - {v}) for v in theirs)
    # Every pgmpy set our criterion accepts agrees with ours (equal, or same size). The
    # sets it rejects are rejected by the independent back-door check too (asserted above):
    # pgmpy starts from pa(X) | pa(Y) without removing descendants of X, so a mediator
    # can survive its greedy pruning.
    logging.getLogger(__name__).info(
        "%s: %d pairs; equal %d, valid & same size %d, pgmpy invalid %d", name, len(pairs), equal, same_size, pgmpy_invalid
    )
    assert pgmpy_none == 0
    assert equal + same_size + pgmpy_invalid == len(pairs)
