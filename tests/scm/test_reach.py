"""The reachability engine (scm._reach): searches, d-separation in DAGs, m-separation in ADMGs."""

import itertools

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from scm._reach import m_connecting_path, m_separated, reachable
from tests.strategies import random_dags

CHILDREN = {"A": ["B", "C"], "B": ["D"], "C": ["D"], "D": ["E"], "E": []}


def test_reachable_sources_blocked_and_avoided():
    step = CHILDREN.__getitem__
    assert reachable(step, ["A"]) == {"A", "B", "C", "D", "E"}
    assert reachable(step, ["A"], blocked={"D"}) == {"A", "B", "C", "D"}  # reached, not crossed
    assert reachable(step, ["A"], avoid={"B", "C"}) == {"A"}  # never entered
    assert reachable(step, ["A", "D"], blocked={"A", "D"}) == {"A", "B", "C", "D", "E"}  # sources are crossed
    assert reachable(step, []) == set()


def _adjacency(dag, bidirected):
    sib = {v: set() for v in dag.nodes}
    for a, b in bidirected:
        sib[a].add(b)
        sib[b].add(a)
    return dag.pred.__getitem__, dag.succ.__getitem__, sib.__getitem__


def _canonical_dag(dag, bidirected):
    """The DAG in which each a <-> b is a latent common cause U_ab -> a, U_ab -> b."""
    g = dag.copy()
    for a, b in bidirected:
        g.add_edges_from([(f"U_{a}_{b}", a), (f"U_{a}_{b}", b)])
    return g


def _is_open(dag, bidirected, path, zs):
    """Whether ``path`` is m-connecting given ``zs`` for some choice of its edges (a pair can hold
    a directed and a bidirected edge, a bow arc), checked triple by triple."""
    sib = {frozenset(e) for e in bidirected}
    anc = set(zs).union(*(nx.ancestors(dag, z) for z in zs)) if zs else set()

    def kinds(a, b):  # the edges a *-* b as (arrowhead at a, arrowhead at b)
        out = [(False, True)] if dag.has_edge(a, b) else []
        out += [(True, False)] if dag.has_edge(b, a) else []
        return out + ([(True, True)] if frozenset((a, b)) in sib else [])

    for edges in itertools.product(*(kinds(a, b) for a, b in zip(path, path[1:]))):
        ok = True
        for (_, head_in), (head_out, _), b in zip(edges, edges[1:], path[1:-1]):
            collider = head_in and head_out
            ok &= b in anc if collider else b not in zs
        if ok:
            return True
    return False


@settings(max_examples=60, deadline=None)
@given(random_dags(min_nodes=2, max_nodes=7), st.data())
def test_m_separation_is_d_separation_in_the_canonical_dag(dag, data):
    """m-separation in an ADMG equals d-separation (networkx) of the same nodes once every
    bidirected edge is a latent common cause; a reported path is m-connecting."""
    nodes = list(dag.nodes)
    pairs = list(itertools.combinations(nodes, 2))
    bidirected = [p for p, keep in zip(pairs, data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))) if keep]
    canonical = _canonical_dag(dag, bidirected)
    pa, ch, sib = _adjacency(dag, bidirected)
    x, y = data.draw(st.sampled_from(pairs))
    rest = [v for v in nodes if v not in (x, y)]
    zs = set(data.draw(st.lists(st.sampled_from(rest), unique=True)) if rest else [])
    sep = m_separated(pa, ch, sib, [x], [y], zs)
    assert sep == nx.is_d_separator(canonical, {x}, {y}, zs)
    path = m_connecting_path(pa, ch, sib, [x], [y], zs)
    assert (path is None) == sep
    if path is not None:
        assert path[0] == x and path[-1] == y and len(set(path)) == len(path)
        assert _is_open(dag, bidirected, path, zs)
    # without bidirected edges it is d-separation in the DAG
    assert m_separated(dag.predecessors, dag.successors, None, [x], [y], zs) == nx.is_d_separator(dag, {x}, {y}, zs)


def test_shortest_path_and_sets_of_nodes():
    dag = nx.DiGraph([("X", "A"), ("A", "B"), ("B", "Y"), ("X", "Y2")])
    pa, ch, sib = _adjacency(dag, [("X", "Y")])
    assert m_connecting_path(pa, ch, sib, ["X"], ["Y"], []) == ["X", "Y"]  # the bidirected edge is shortest
    assert m_connecting_path(pa, ch, sib, ["X"], ["Y", "Y2"], ["A"]) in (["X", "Y"], ["X", "Y2"])
    assert m_separated(pa, ch, None, ["X"], ["Y"], ["A"])
    assert m_separated(pa, ch, None, [], ["Y"], [])
