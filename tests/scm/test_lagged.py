"""LaggedGraph: construction, validation, conversions and the time-series CPDAG."""

import json
import warnings

import networkx as nx
import numpy as np
import pytest

import scm
from scm import CycleError, GraphError, LaggedGraph, UnknownNodeError


@pytest.fixture
def mixed():
    return LaggedGraph(
        ["X", "Y", "Z"],
        directed=[("X", "X", 1), ("X", "Y", 2), ("Y", "Z", 0)],
        undirected=[("X", "Y")],
        conflicting=[("X", "Z")],
        tau_max=3,
    )


def test_accessors(mixed):
    assert mixed.nodes == ("X", "Y", "Z")
    assert mixed.lagged_links == {("X", "X", 1), ("X", "Y", 2)}
    assert mixed.contemporaneous_edges == {("Y", "Z"), frozenset({"X", "Y"})}
    assert mixed.conflicting_edges == {frozenset({"X", "Z"})}
    assert mixed.tau_max == 3
    assert mixed.parents("Z") == {("Y", 0)} and mixed.parents("Y") == {("X", 2)}
    assert mixed.has_link("X", "Y", 2) and not mixed.has_link("Y", "X", 2)
    assert mixed.adjacent("Z", "X") and mixed.adjacent("Y", "X") and not mixed.adjacent("Y", "X", 1)
    assert mixed.edges() == [
        ("X", "X", 1, "directed"),
        ("X", "Y", 2, "directed"),
        ("Y", "Z", 0, "directed"),
        ("X", "Y", 0, "undirected"),
        ("X", "Z", 0, "conflict"),
    ]
    assert len(mixed) == 3 and "Z" in mixed
    with pytest.raises(AttributeError, match="immutable"):
        mixed.foo = 1
    with pytest.raises(UnknownNodeError, match="'W'"):
        mixed.parents("W")


def test_repr_and_default_tau_max():
    g = LaggedGraph(["A", "B"], directed=[("A", "B", 3)])
    assert g.tau_max == 3
    assert repr(g) == "LaggedGraph(nodes=['A', 'B'], edges=['A(t-3) -> B(t)'])"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"directed": [("A", "A", 0)]}, GraphError, "self-loop"),
        ({"directed": [("A", "B", -1)]}, GraphError, "lag"),
        ({"directed": [("A", "B", 1.5)]}, GraphError, "lag"),
        ({"directed": [("A", "C", 1)]}, UnknownNodeError, "'C'"),
        ({"directed": [("A", "B", 0), ("B", "A", 0)]}, GraphError, "more than one"),
        ({"directed": [("A", "B", 0)], "undirected": [("A", "B")]}, GraphError, "more than one"),
        ({"undirected": [("A", "B", 1)]}, GraphError, "contemporaneous"),
        ({"directed": [("A", "B", 3)], "tau_max": 2}, GraphError, "tau_max"),
        ({"directed": [("A", "B")]}, GraphError, r"\(source, target, lag\)"),
    ],
)
def test_rejects_bad_edges(kwargs, error, match):
    with pytest.raises(error, match=match):
        LaggedGraph(["A", "B"], **kwargs)
    with pytest.raises(GraphError, match="listed twice"):
        LaggedGraph(["A", "A"])


def test_array_encoding_and_round_trip(mixed):
    a = mixed.to_array()
    assert a.shape == (3, 3, 4)
    assert a[0, 0, 1] == 1 and a[0, 1, 2] == 1 and a[1, 0, 2] == 0
    assert a[1, 2, 0] == 1 and a[2, 1, 0] == 0  # Y -> Z
    assert a[0, 1, 0] == a[1, 0, 0] == 1  # X - Y
    assert a[0, 2, 0] == a[2, 0, 0] == 2  # X x-x Z
    assert a.sum() == 1 + 1 + 1 + 2 + 4
    assert LaggedGraph.from_array(a, nodes=mixed.nodes) == mixed
    assert LaggedGraph.from_array(a, nodes=mixed.nodes).tau_max == 3
    assert mixed.to_array(tau_max=5).shape == (3, 3, 6)
    with pytest.raises(GraphError, match="smaller"):
        mixed.to_array(tau_max=1)
    bad = np.zeros((2, 2, 1), dtype=int)
    bad[0, 1, 0], bad[1, 0, 0] = 1, 2
    with pytest.raises(GraphError, match="invalid"):
        LaggedGraph.from_array(bad)
    with pytest.raises(GraphError, match="shape"):
        LaggedGraph.from_array(np.zeros((2, 3, 1)))


def test_from_simulated_lag_array():
    ds = scm.simulate.time_series(n_series=4, n_timepoints=20, max_lag=2, random_state=3)
    g = LaggedGraph.from_array(ds.metadata["lag_array"], nodes=ds.data.columns)
    links = ds.metadata["links"]
    expected = {(r.source, r.target, r.lag) for r in links.itertuples() if r.lag > 0}
    assert g.lagged_links == expected
    assert g.directed_contemporaneous == {(r.source, r.target) for r in links.itertuples() if r.lag == 0}
    assert nx.is_isomorphic(g.summary_graph(), ds.graph)


def test_json_and_dict_round_trip(mixed):
    text = mixed.to_json()
    data = json.loads(text)
    assert data["nodes"] == ["X", "Y", "Z"] and data["tau_max"] == 3
    assert {"source": "X", "target": "Y", "lag": 2, "kind": "directed"} in data["edges"]
    back = LaggedGraph.from_json(text)
    assert back == mixed and back.tau_max == 3 and hash(back) == hash(mixed)
    assert LaggedGraph.from_dict({"nodes": ["A", "B"], "edges": [{"source": "A", "target": "B", "lag": 1}]}).lagged_links == {("A", "B", 1)}
    with pytest.raises(GraphError, match="lagged graph JSON"):
        LaggedGraph.from_dict({"nodes": ["A"]})


def test_equality_ignores_declared_tau_max_and_node_order():
    a = LaggedGraph(["A", "B"], directed=[("A", "B", 1)], tau_max=4)
    b = LaggedGraph(["B", "A"], directed=[("A", "B", 1)])
    assert a == b and hash(a) == hash(b)
    assert a != LaggedGraph(["A", "B"], directed=[("A", "B", 2)])
    assert a.__eq__("not a graph") is NotImplemented


def test_unrolled_graph(mixed):
    g = LaggedGraph(["X", "Y"], directed=[("X", "X", 1), ("X", "Y", 2), ("X", "Y", 0)])
    u = g.to_unrolled(3)
    assert set(u.nodes) == {(v, -k) for v in "XY" for k in range(4)}
    assert u.has_edge(("X", -3), ("X", -2)) and u.has_edge(("X", -2), ("Y", 0)) and u.has_edge(("X", -1), ("Y", -1))
    assert not u.has_edge(("X", -4), ("Y", -2)) and u.number_of_edges() == 3 + 2 + 4
    assert u[("X", -2)][("Y", 0)] == {"kind": "directed", "lag": 2}
    assert nx.is_directed_acyclic_graph(u)
    both = mixed.to_unrolled(0)
    assert both.has_edge(("X", 0), ("Y", 0)) and both.has_edge(("Y", 0), ("X", 0))


def test_summary_graph(mixed):
    s = mixed.summary_graph()
    assert s["X"]["Y"]["lags"] == [0, 2] and s["Y"]["X"]["lags"] == [0]
    assert not s.has_edge("X", "X")


@pytest.mark.parametrize(
    "directed, expected_directed, expected_undirected",
    [
        # contemporaneous chain: nothing identified
        ([("X", "Y", 0), ("Y", "Z", 0)], set(), {frozenset("XY"), frozenset("YZ")}),
        # contemporaneous collider
        ([("X", "Y", 0), ("Z", "Y", 0)], {("X", "Y"), ("Z", "Y")}, set()),
        # collider with a lagged parent: Y(t-1) -> Y(t) <- X(t)
        ([("Y", "Y", 1), ("X", "Y", 0)], {("X", "Y")}, set()),
        # R1 from a lagged link: X(t-1) -> X(t) - Y(t), X(t-1) and Y(t) non-adjacent
        ([("X", "X", 1), ("X", "Y", 0)], {("X", "Y")}, set()),
        # shielded by a lagged link: X(t-1) -> Y(t) too, so X(t) - Y(t) stays undirected
        ([("X", "X", 1), ("X", "Y", 1), ("Y", "Y", 1), ("Y", "X", 1), ("X", "Y", 0)], set(), {frozenset("XY")}),
    ],
)
def test_cpdag(directed, expected_directed, expected_undirected):
    g = LaggedGraph(["X", "Y", "Z"], directed=directed)
    c = g.cpdag()
    assert c.lagged_links == g.lagged_links
    assert c.directed_contemporaneous == expected_directed
    assert c.undirected_contemporaneous == expected_undirected


def test_cpdag_errors():
    with pytest.raises(GraphError, match="all directed"):
        LaggedGraph(["A", "B"], undirected=[("A", "B")]).cpdag()
    with pytest.raises(CycleError, match="cycle"):
        LaggedGraph(["A", "B", "C"], directed=[("A", "B", 0), ("B", "C", 0), ("C", "A", 0)]).cpdag()


def test_lagged_graph_pickles_and_copies():
    import copy
    import pickle

    from scm import LaggedGraph

    g = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 1), ("Y", "Z", 0)], undirected=[("X", "Z")], tau_max=3)
    back = pickle.loads(pickle.dumps(g))
    assert back == g and back.tau_max == 3
    assert copy.deepcopy(g) == g


# ------------------------------------------------------------------------------ Graphviz DOT
def _dot_edges(text):
    """(tail, head) -> attribute text of the visible edges of DOT text (one statement per line)."""
    import re

    out = {}
    for line in text.splitlines():
        m = re.fullmatch(r'\s*"(.+?)" -> "(.+?)" \[(.*)\];', line)
        if m and "style=invis" not in m[3]:
            assert (m[1], m[2]) not in out
            out[(m[1], m[2])] = m[3]
    return out


def test_to_dot_draws_each_edge_once_between_nodes_by_lag(mixed):
    text = mixed.to_dot(name="TS")
    assert text.startswith("digraph TS {\n  rankdir=LR;") and text.endswith("}")
    for lag in range(4):  # tau_max = 3: four columns, the nodes of a lag in one rank
        names = " ".join(f'"{v}(t-{lag})";' if lag else f'"{v}(t)";' for v in "XYZ")
        assert f'subgraph "lag {lag}" {{ rank=same; {names} }}' in text
    assert _dot_edges(text) == {
        ("X(t-1)", "X(t)"): 'label="1"',
        ("X(t-2)", "Y(t)"): 'label="2"',
        ("Y(t)", "Z(t)"): 'label="0"',
        ("X(t)", "Y(t)"): 'label="0", dir=none',
        ("X(t)", "Z(t)"): 'label="0", dir=none, style=dotted',
    }
    assert text.count("style=invis") == 3 * 3  # each variable's lags in one row


def test_to_dot_strengths_from_a_val_matrix_or_a_mapping(mixed):
    val = np.arange(3 * 3 * 4, dtype=float).reshape(3, 3, 4) / 100 - 0.2
    edges = _dot_edges(mixed.to_dot(strengths=val, digits=3))
    idx = {"X": 0, "Y": 1, "Z": 2}
    for (tail, head), attrs in edges.items():
        s, t = tail.split("(")[0], head.split("(")[0]
        lag = int(tail.split("t-")[1][:-1]) if "t-" in tail else 0
        assert attrs.startswith(f'label="{lag}: {val[idx[s], idx[t], lag]:.3g}"')
    # a mapping names some edges; an undirected edge under either order of its ends
    edges = _dot_edges(mixed.to_dot(strengths={("Y", "X", 0): 0.123456, ("X", "Y", 2): -1e-5}))
    assert edges[("X(t)", "Y(t)")] == 'label="0: 0.12", dir=none'
    assert edges[("X(t-2)", "Y(t)")] == 'label="2: -1e-05"'
    assert edges[("X(t-1)", "X(t)")] == 'label="1"'


def test_to_dot_is_valid_graphviz(mixed):
    pydot = pytest.importorskip("pydot")
    with warnings.catch_warnings():  # pydot's parser calls pyparsing's deprecated names
        warnings.simplefilter("ignore", DeprecationWarning)
        (parsed,) = pydot.graph_from_dot_data(mixed.to_dot())
    g = nx.nx_pydot.from_pydot(parsed)
    visible = {(a.strip('"'), b.strip('"')) for a, b, d in g.edges(data=True) if d.get("style") != "invis"}
    assert visible == set(_dot_edges(mixed.to_dot()))
    assert len({n.strip('"') for n in g.nodes}) == 3 * 4


@pytest.mark.parametrize(
    "strengths, error, match",
    [
        (np.zeros((3, 3)), scm.ParameterError, r"shape \(3, 3, L\) with L > 2"),
        (np.zeros((3, 3, 2)), scm.ParameterError, r"L > 2"),
        (np.full((3, 3, 4), np.nan), scm.ParameterError, r"strength of X\(t-1\) -> X\(t\) .* finite number; got nan"),
        ("strong", scm.ParameterError, "shape"),
        ({("X", "Y", 1): 0.5}, scm.ParameterError, r"X\(t-1\) -> Y\(t\), which is not an edge"),
        ({("X", "Q", 1): 0.5}, UnknownNodeError, "'Q'"),
        ({("X", "Y"): 0.5}, scm.ParameterError, r"\(source, target, lag\) tuples"),
        ({("X", "Y", 2): True}, scm.ParameterError, "finite number; got True"),
        ({("X", "Y", 2): np.inf}, scm.ParameterError, "finite number; got inf"),
    ],
)
def test_to_dot_refuses_bad_strengths(mixed, strengths, error, match):
    with pytest.raises(error, match=match):
        mixed.to_dot(strengths=strengths)


def test_to_dot_of_an_empty_graph_and_bad_digits():
    assert LaggedGraph(["A"]).to_dot() == 'digraph G {\n  rankdir=LR;\n  subgraph "lag 0" { rank=same; "A(t)"; }\n}'
    with pytest.raises(scm.ParameterError, match="'digits'"):
        LaggedGraph(["A"]).to_dot(digits=0)
