"""PDAG, DAG validation, d-separation, CPDAGs, Meek rules and consistent extensions."""

import itertools
import json
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scm
from scm import PDAG, CycleError, GraphError, UnknownNodeError
from tests.conftest import NAMED_GRAPHS
from tests.strategies import random_dags, random_weights


# --------------------------------------------------------------------- PDAG
def test_pdag_basic_accessors():
    g = PDAG(["A", "B", "C", "D"], directed=[("A", "B")], undirected=[("B", "C")], bidirected=[("C", "D")])
    assert g.directed_edges == {("A", "B")}
    assert g.undirected_edges == {frozenset({"B", "C"})}
    assert g.bidirected_edges == {frozenset({"C", "D"})}
    assert g.parents("B") == {"A"} and g.children("A") == {"B"} and g.neighbors("B") == {"C"}
    assert g.adjacencies("C") == {"B", "D"}
    assert g.adjacent("D", "C") and not g.adjacent("A", "C")
    with pytest.raises(AttributeError):
        g.foo = 1


def test_pdag_rejects_bad_edges():
    with pytest.raises(UnknownNodeError, match="'Z'"):
        PDAG(["A"], directed=[("A", "Z")])
    with pytest.raises(GraphError, match="more than one edge"):
        PDAG(["A", "B"], directed=[("A", "B")], undirected=[("A", "B")])
    with pytest.raises(GraphError, match="self-loop"):
        PDAG(["A"], undirected=[("A", "A")])
    with pytest.raises(GraphError, match="listed twice"):
        PDAG(["A", "A"])


def test_bow_arc_directed_and_bidirected():
    g = PDAG(["X", "Y"], directed=[("X", "Y")], bidirected=[("X", "Y")])
    np.testing.assert_array_equal(g.to_adjacency(), [[0, 3], [2, 0]])
    assert PDAG.from_adjacency(g.to_adjacency(), nodes=g.nodes) == g
    assert PDAG.from_json(g.to_json()) == g
    assert g.edges() == [("X", "Y", "directed"), ("X", "Y", "bidirected")]
    with pytest.raises(GraphError, match="more than one edge"):
        PDAG(["X", "Y"], undirected=[("X", "Y")], bidirected=[("X", "Y")])
    with pytest.raises(GraphError, match="invalid adjacency"):
        PDAG.from_adjacency([[0, 2], [0, 0]])


def test_adjacency_encoding_round_trip():
    g = PDAG(["A", "B", "C", "D"], directed=[("A", "B")], undirected=[("B", "C")], bidirected=[("C", "D")])
    a = g.to_adjacency()
    expected = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 2], [0, 0, 2, 0]])
    np.testing.assert_array_equal(a, expected)
    assert PDAG.from_adjacency(a, nodes=g.nodes) == g


def test_networkx_round_trip_keeps_kinds():
    g = PDAG(["A", "B", "C"], directed=[("A", "B")], undirected=[("B", "C")])
    nxg = g.to_networkx()
    assert nxg.edges["A", "B"]["kind"] == "directed"
    assert nxg.has_edge("B", "C") and nxg.has_edge("C", "B")
    assert PDAG.from_networkx(nxg) == g


@settings(max_examples=60, deadline=None)
@given(random_dags(max_nodes=9), st.data())
def test_json_round_trip(dag, data):
    g = scm.cpdag(dag)
    # add a bidirected edge between some non-adjacent pair when one exists
    free = [(a, b) for a, b in itertools.combinations(dag.nodes, 2) if not g.adjacent(a, b)]
    if free:
        g = g.with_edges(bidirected=[data.draw(st.sampled_from(free))])
    text = g.to_json()
    back = PDAG.from_json(text)
    assert back == g and back.nodes == g.nodes
    parsed = json.loads(text)
    assert set(parsed) == {"nodes", "edges"}
    assert all(set(e) == {"source", "target", "kind"} for e in parsed["edges"])


def test_from_json_bad_shape():
    with pytest.raises(GraphError, match="nodes"):
        PDAG.from_json('{"vertices": []}')


def test_dot_export_marks_kinds():
    g = PDAG(["A", "B", "C"], directed=[("A", "B")], undirected=[("B", "C")])
    dot = g.to_dot()
    assert '"A" -> "B";' in dot and '"B" -> "C" [dir=none];' in dot



# ------------------------------------------------------- causal-learn interop
@st.composite
def random_pdags(draw, max_nodes=7):
    """A PDAG with an independent random edge kind (or none) on every pair; no bow arcs."""
    n = draw(st.integers(1, max_nodes))
    names = draw(st.permutations([f"V{i}" for i in range(n)]))
    buckets = {"directed": [], "undirected": [], "bidirected": []}
    for a, b in itertools.combinations(names, 2):
        kind = draw(st.sampled_from([None, "->", "<-", "-", "<->"]))
        if kind == "->":
            buckets["directed"].append((a, b))
        elif kind == "<-":
            buckets["directed"].append((b, a))
        elif kind == "-":
            buckets["undirected"].append((a, b))
        elif kind == "<->":
            buckets["bidirected"].append((a, b))
    return PDAG(names, **buckets)


@settings(max_examples=60, deadline=None)
@given(random_pdags())
def test_causallearn_round_trip(g):
    m = g.to_causallearn()
    assert m.shape == (len(g), len(g)) and not np.diag(m).any()
    pairs = {(int(m[i, j]), int(m[j, i])) for i, j in itertools.combinations(range(len(g)), 2)}
    assert pairs <= {(0, 0), (-1, 1), (1, -1), (-1, -1), (1, 1)}
    back = PDAG.from_causallearn(m, nodes=g.nodes)
    assert back == g and back.nodes == g.nodes
    np.testing.assert_array_equal(back.to_causallearn(), m)


def test_causallearn_edge_kinds():
    g = PDAG(["A", "B", "C", "D", "E"], directed=[("B", "A")], undirected=[("B", "C")], bidirected=[("C", "D")])
    m = g.to_causallearn()
    expected = np.zeros((5, 5), dtype=int)
    expected[1, 0], expected[0, 1] = -1, 1  # B -> A: tail at B, arrowhead at A
    expected[1, 2] = expected[2, 1] = -1  # B - C
    expected[2, 3] = expected[3, 2] = 1  # C <-> D
    np.testing.assert_array_equal(m, expected)  # E stays isolated
    assert PDAG.from_causallearn(expected, nodes=list("ABCDE")) == g
    # causal-learn's default names are X1 .. Xd, numbered from 1
    assert PDAG.from_causallearn(np.zeros((2, 2))).nodes == ("X1", "X2")
    assert PDAG.from_causallearn(np.array([[0, -1], [1, 0]])).directed_edges == {("X1", "X2")}


class _FakeNode:
    def __init__(self, name):
        self._name = name

    def get_name(self):
        return self._name


class _FakeGeneralGraph:
    """The two members of causal-learn's GeneralGraph that ``from_causallearn`` uses."""

    def __init__(self, graph, names):
        self.graph = np.asarray(graph)
        self._nodes = [_FakeNode(n) for n in names]

    def get_nodes(self):
        return list(self._nodes)


def test_causallearn_general_graph_like():
    gg = _FakeGeneralGraph([[0, -1, 0], [1, 0, 1], [0, 1, 0]], ["P", "Q", "R"])
    g = PDAG.from_causallearn(gg)
    assert g == PDAG(["P", "Q", "R"], directed=[("P", "Q")], bidirected=[("Q", "R")])
    assert g.nodes == ("P", "Q", "R")
    # explicit names take precedence over the graph's own
    assert PDAG.from_causallearn(gg, nodes=["a", "b", "c"]).nodes == ("a", "b", "c")


def test_causallearn_errors():
    with pytest.raises(GraphError, match=r"square; got shape \(2, 3\)"):
        PDAG.from_causallearn(np.zeros((2, 3)))
    with pytest.raises(GraphError, match="square"):
        PDAG.from_causallearn(np.zeros(4))
    with pytest.raises(GraphError, match="2 rows but 3 node names"):
        PDAG.from_causallearn(np.zeros((2, 2)), nodes=["A", "B", "C"])
    with pytest.raises(GraphError, match="2 rows but 1 node names"):
        PDAG.from_causallearn(_FakeGeneralGraph(np.zeros((2, 2)), ["A", "B"]), nodes=["A"])
    with pytest.raises(ValueError, match=r"between 'A' and 'C': G\[i, j\] = 2, G\[j, i\] = 1"):
        PDAG.from_causallearn(np.array([[0, 0, 2], [0, 0, 0], [1, 0, 0]]), nodes=["A", "B", "C"])
    with pytest.raises(GraphError, match=r"between 'X1' and 'X2': G\[i, j\] = 1, G\[j, i\] = 0"):
        PDAG.from_causallearn(np.array([[0, 1], [0, 0]]))
    with pytest.raises(GraphError, match="diagonal at 'X2'"):
        PDAG.from_causallearn(np.array([[0, 0], [0, -1]]))
    with pytest.raises(GraphError, match="listed twice"):
        PDAG.from_causallearn(np.zeros((2, 2)), nodes=["A", "A"])
    bow = PDAG(["X", "Y"], directed=[("X", "Y")], bidirected=[("X", "Y")])
    with pytest.raises(GraphError, match="bow arc"):
        bow.to_causallearn()


def test_causallearn_general_graph_from_pc():
    pytest.importorskip("causallearn")
    from causallearn.search.ConstraintBased.PC import pc
    from causallearn.utils.cit import fisherz

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 5))
    x[:, 2] += x[:, 0] - x[:, 1]  # a collider 0 -> 2 <- 1, then a chain 2 -> 3 -> 4
    x[:, 3] += x[:, 2]
    x[:, 4] += 0.8 * x[:, 3]
    for node_names in (None, ["a", "b", "c", "d", "e"]):
        cg = pc(x, 0.05, fisherz, show_progress=False, node_names=node_names)
        names = [f"X{i + 1}" for i in range(5)] if node_names is None else node_names
        g = PDAG.from_causallearn(cg.G)
        assert g == PDAG.from_causallearn(cg.G.graph, names) and g.nodes == tuple(names)
        assert g.has_directed(names[0], names[2]) and g.has_directed(names[1], names[2])
        np.testing.assert_array_equal(g.to_causallearn(), cg.G.graph)

# ----------------------------------------------------------------- validation
def test_cycle_is_named():
    with pytest.raises(CycleError, match="A -> B -> C -> A") as err:
        scm.check_dag(nx.DiGraph([("A", "B"), ("B", "C"), ("C", "A")]))
    assert err.value.cycle == ["A", "B", "C"]
    assert isinstance(err.value, ValueError)


def test_adjacency_to_dag_convention():
    g = scm.adjacency_to_dag(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), nodes=["a", "b", "c"])
    assert set(g.edges) == {("a", "b"), ("a", "c"), ("b", "c")}
    np.testing.assert_array_equal(scm.dag_to_adjacency(g), [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    with pytest.raises(CycleError):
        scm.adjacency_to_dag([[0, 1], [1, 0]])


# ------------------------------------------------------------- d-separation
def _partial_corr(cov: pd.DataFrame, x, y, z):
    idx = [x, y, *z]
    prec = np.linalg.inv(cov.loc[idx, idx].to_numpy())
    return -prec[0, 1] / np.sqrt(prec[0, 0] * prec[1, 1])


def _check_markov_and_faithful(dag, seed):
    """d-separation <=> zero partial correlation in a random linear-Gaussian model.

    The covariance is the exact one of the model, so the check has no sampling noise;
    with random weights, d-connection gives a non-zero partial correlation (faithfulness
    holds with probability one).
    """
    w = random_weights(dag, seed)
    mechs = {n: scm.Linear({p: w[(p, n)] for p in dag.predecessors(n)}) for n in dag.nodes}
    cov = scm.SCM(dag, mechs).interventional_cov()
    nodes = list(dag.nodes)
    for x, y in itertools.combinations(nodes, 2):
        rest = [n for n in nodes if n not in (x, y)]
        for k in range(min(len(rest), 3) + 1):
            for z in itertools.combinations(rest, k):
                sep = scm.d_separated(dag, x, y, z)
                assert sep == nx.is_d_separator(dag, {x}, {y}, set(z))
                r = _partial_corr(cov, x, y, z)
                if sep:
                    assert abs(r) < 1e-9, (x, y, z, r)
                else:
                    assert abs(r) > 1e-6, (x, y, z, r)


def test_markov_property_named(named_dag):
    _, dag = named_dag
    _check_markov_and_faithful(dag, seed=0)


@settings(max_examples=40, deadline=None)
@given(random_dags(max_nodes=7), st.integers(0, 2**16))
@pytest.mark.slow
def test_markov_property_random(dag, seed):
    _check_markov_and_faithful(dag, seed)


def test_d_separation_sets_and_errors():
    dag = nx.DiGraph(NAMED_GRAPHS["asia"])
    assert scm.d_separated(dag, {"asia", "smoke"}, "xray", {"either"})
    assert not scm.d_separated(dag, "tub", "lung", {"dysp"})  # descendant of a collider
    with pytest.raises(UnknownNodeError, match="nope"):
        scm.d_separated(dag, "asia", "nope")
    with pytest.raises(GraphError, match="disjoint"):
        scm.d_separated(dag, "asia", "tub", {"asia"})


def test_topological_order_and_blanket():
    dag = nx.DiGraph(NAMED_GRAPHS["asia"])
    order = scm.topological_order(dag)
    assert all(order.index(u) < order.index(v) for u, v in dag.edges)
    assert scm.markov_blanket(dag, "lung") == {"smoke", "either", "tub"}
    assert scm.markov_blanket(dag, "either") == {"tub", "lung", "xray", "dysp", "bronc"}


# ------------------------------------------------------------------ CPDAG
def test_cpdag_of_known_graphs():
    cp = scm.cpdag(nx.DiGraph(NAMED_GRAPHS["asia"]))
    assert cp.directed_edges == {
        ("tub", "either"), ("lung", "either"), ("either", "xray"), ("either", "dysp"), ("bronc", "dysp"),
    }
    assert cp.undirected_edges == {frozenset({"asia", "tub"}), frozenset({"smoke", "lung"}), frozenset({"smoke", "bronc"})}
    assert scm.cpdag(nx.DiGraph(NAMED_GRAPHS["chain"])).directed_edges == set()
    assert scm.cpdag(nx.DiGraph(NAMED_GRAPHS["collider"])).directed_edges == {("A", "B"), ("C", "B")}
    # diamond: A->B->D<-C<-A with D->E: the collider at D orients B->D, C->D, then D->E by R1.
    cp = scm.cpdag(nx.DiGraph(NAMED_GRAPHS["diamond"]))
    assert cp.directed_edges == {("B", "D"), ("C", "D"), ("D", "E")}
    assert cp.undirected_edges == {frozenset({"A", "B"}), frozenset({"A", "C"})}


def test_meek_r3_and_r4():
    # R3: a - c -> b, a - d -> b, c, d non-adjacent, a - b  =>  a -> b
    g = PDAG(["a", "b", "c", "d"], directed=[("c", "b"), ("d", "b")], undirected=[("a", "b"), ("a", "c"), ("a", "d")])
    assert scm.meek_rules(g).has_directed("a", "b")
    assert not scm.meek_rules(g, rules=("R1", "R2")).has_directed("a", "b")
    # R4: a - c -> d -> b with a adjacent to d, c and b non-adjacent, a - b  =>  a -> b
    g = PDAG(["a", "b", "c", "d"], directed=[("c", "d"), ("d", "b")], undirected=[("a", "b"), ("a", "c"), ("a", "d")])
    out = scm.meek_rules(g, rules=("R4",))
    assert out.has_directed("a", "b")


@settings(max_examples=60, deadline=None)
@given(random_dags(max_nodes=9))
def test_cpdag_properties(dag):
    cp = scm.cpdag(dag)
    # same skeleton, same v-structures, closed under Meek's rules, and idempotent
    assert set(map(frozenset, cp.skeleton().edges)) == set(map(frozenset, dag.edges))
    assert all(dag.has_edge(u, v) for u, v in cp.directed_edges)
    assert scm.meek_rules(cp) == cp
    if cp.undirected_edges:
        with pytest.warns(scm.OrientationWarning) as caught:
            ext = scm.consistent_extension(cp)
        assert len(caught) == 1  # once per call, listing every edge it chose
        message = str(caught[0].message)
        assert f"oriented {len(cp.undirected_edges)} undirected edge(s)" in message
        listed = message.split("arbitrary choice: ", 1)[1].split(";", 1)[0].split(", ")
        chosen = {f"{u} -> {v}" for u, v in ext.edges if frozenset((u, v)) in cp.undirected_edges}
        assert set(listed) == chosen and len(listed) == len(chosen)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing chosen, nothing said
            ext = scm.consistent_extension(cp)
    assert nx.is_directed_acyclic_graph(ext)
    assert scm.v_structures(ext) == scm.v_structures(dag)
    assert scm.cpdag(ext) == cp


def test_consistent_extension_errors():
    with pytest.raises(GraphError, match="no consistent extension"):
        scm.consistent_extension(PDAG(list("ABCD"), undirected=[("A", "B"), ("B", "C"), ("C", "D"), ("D", "A")]))
    with pytest.raises(GraphError, match="bidirected"):
        scm.consistent_extension(PDAG(["A", "B"], bidirected=[("A", "B")]))


@settings(max_examples=40, deadline=None)
@given(random_dags(max_nodes=7))
def test_dags_in_class_are_the_markov_equivalent_dags(dag):
    cp = scm.cpdag(dag)
    members = scm.dags_in_class(cp)
    assert any(set(m.edges) == set(dag.edges) for m in members)
    assert len({frozenset(m.edges) for m in members}) == len(members)
    for m in members:
        assert scm.cpdag(m) == cp
    # brute force over all orientations of the undirected edges
    und = [tuple(e) for e in cp.undirected_edges]
    count = 0
    for bits in itertools.product([0, 1], repeat=len(und)):
        g = nx.DiGraph()
        g.add_nodes_from(dag.nodes)
        g.add_edges_from(cp.directed_edges)
        g.add_edges_from((a, b) if bit else (b, a) for (a, b), bit in zip(und, bits))
        if nx.is_directed_acyclic_graph(g) and scm.cpdag(g) == cp:
            count += 1
    assert count == len(members)


def test_meek_rules_skip_orientations_that_close_a_cycle():
    # A pattern no DAG has: R1 (d -> b - c, d and c non-adjacent) wants b -> c, which would close
    # c -> a -> b -> c; R2 (c -> a -> b) orients it c -> b instead.
    g = PDAG(["a", "b", "c", "d"], directed=[("d", "b"), ("c", "a"), ("a", "b")], undirected=[("b", "c")])
    out = scm.meek_rules(g)
    assert out.has_directed("c", "b")
    unsafe = scm.meek_rules(g, avoid_cycles=False)
    assert unsafe.has_directed("b", "c")


def test_pdag_pickles_and_copies():
    import copy
    import pickle

    g = PDAG(["A", "B", "C"], directed=[("A", "B")], undirected=[("B", "C")], bidirected=[("A", "B")])
    back = pickle.loads(pickle.dumps(g))
    assert back == g and back.nodes == g.nodes
    assert copy.deepcopy(g) == g and copy.copy(g) is g
