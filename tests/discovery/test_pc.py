"""Tests of discovery.PC and its phases (skeleton, background knowledge, colliders, Meek)."""

from __future__ import annotations

import functools
import itertools
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scm
from discovery import PC, BackgroundKnowledge, DSeparation, FisherZ
from discovery.constraint import apply_background_knowledge, orient_colliders, skeleton
from scm import PDAG, DataError, ParameterError, UnknownNodeError, cpdag, d_separated

# ----------------------------------------------------------------------------- fixtures
NAMED_GRAPHS = {
    "chain": [("A", "B"), ("B", "C"), ("C", "D")],
    "fork": [("B", "A"), ("B", "C")],
    "collider": [("A", "C"), ("B", "C")],
    "collider_chain": [("A", "C"), ("B", "C"), ("C", "D"), ("D", "E")],
    "asia": [
        ("asia", "tub"), ("smoke", "lung"), ("smoke", "bronc"), ("tub", "either"),
        ("lung", "either"), ("either", "xray"), ("either", "dysp"), ("bronc", "dysp"),
    ],
}


def dummy_data(nodes, seed=0) -> pd.DataFrame:
    """Data whose only role is to carry the node names (for oracle tests)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(10, len(nodes))), columns=list(nodes))


def oracle_pc(dag, **kwargs) -> PC:
    return PC(ci_test=DSeparation(dag), **kwargs).fit(dummy_data(dag.nodes))


def linear_gaussian(seed: int, d: int, n: int, degree: float = 2.0) -> tuple[pd.DataFrame, nx.DiGraph]:
    """A random linear-Gaussian SCM (ER DAG, weights uniform +-[0.5, 2]) in a shuffled column order."""
    rng = np.random.default_rng(seed)
    p = min(1.0, degree / (d - 1))
    adj = np.triu(rng.random((d, d)) < p, 1)
    w = adj * rng.uniform(0.5, 2.0, (d, d)) * rng.choice([-1.0, 1.0], (d, d))
    x = np.zeros((n, d))
    for j in range(d):
        x[:, j] = x @ w[:, j] + rng.normal(size=n)
    perm = rng.permutation(d)
    names = [f"V{i}" for i in range(d)]
    dag = nx.DiGraph()
    dag.add_nodes_from(names[perm.tolist().index(j)] for j in range(d))
    inv = {j: names[perm.tolist().index(j)] for j in range(d)}
    dag.add_edges_from((inv[i], inv[j]) for i, j in zip(*np.nonzero(adj)))
    return pd.DataFrame(x[:, perm], columns=names), dag


def run_causallearn(data: pd.DataFrame, **kwargs) -> PDAG:
    from causallearn.search.ConstraintBased.PC import pc
    from causallearn.utils.cit import fisherz

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cg = pc(data.to_numpy(), 0.05, fisherz, show_progress=False, **kwargs)
    return PDAG.from_causallearn(cg.G.graph, list(data.columns))


class CountingOracle(DSeparation):
    """d-separation oracle that records every query it answers."""

    def __init__(self, graph):
        super().__init__(graph)
        self.asked = []

    def _test_group(self, xs, ys, ss):
        self.asked += [(self.variables[x], self.variables[y], tuple(self.variables[c] for c in s)) for x, y, s in zip(xs, ys, ss)]
        return super()._test_group(xs, ys, ss)


@st.composite
def random_dags(draw, min_nodes=5, max_nodes=12):
    d = draw(st.integers(min_nodes, max_nodes))
    density = draw(st.floats(0.05, 0.6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    order = rng.permutation(d)
    g = nx.DiGraph()
    g.add_nodes_from(f"N{i}" for i in range(d))
    for a, b in itertools.combinations(range(d), 2):
        if rng.random() < density:
            g.add_edge(f"N{order[a]}", f"N{order[b]}")
    return g


# ----------------------------------------------------------------------------- oracle
@pytest.mark.parametrize("name", sorted(NAMED_GRAPHS))
def test_oracle_recovers_cpdag_of_named_graphs(name):
    dag = nx.DiGraph(NAMED_GRAPHS[name])
    model = oracle_pc(dag)
    assert model.graph_ == cpdag(dag)
    same_edges = set(map(frozenset, model.skeleton_.edges)) == set(map(frozenset, dag.edges))
    assert nx.utils.graphs_equal(model.skeleton_, dag.to_undirected()) or same_edges


def test_oracle_asia_details():
    dag = nx.DiGraph(NAMED_GRAPHS["asia"])
    model = oracle_pc(dag)
    g = model.graph_
    assert g.has_directed("tub", "either") and g.has_directed("lung", "either")
    assert g.has_directed("either", "xray") and g.has_directed("either", "dysp") and g.has_directed("bronc", "dysp")
    assert g.has_undirected("asia", "tub") and g.has_undirected("smoke", "lung") and g.has_undirected("smoke", "bronc")
    # every recorded separating set separates in the true DAG
    for pair, sep in model.sepsets_.items():
        x, y = sorted(pair)
        assert d_separated(dag, x, y, sep)
    assert set(model.pvalues_.columns) == {"x", "y", "cond", "statistic", "pvalue"}
    assert len(model.pvalues_) == model.n_tests_
    assert model.n_features_in_ == 8 and list(model.feature_names_in_) == list(dag.nodes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
@pytest.mark.slow
def test_oracle_recovers_cpdag_of_random_dags(dag):
    assert oracle_pc(dag).graph_ == cpdag(dag)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(5, 9), st.sampled_from(["maxp", "definite_maxp"]))
def test_oracle_maxp_rules_recover_cpdag(dag, rule):
    assert oracle_pc(dag, orientation=rule).graph_ == cpdag(dag)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(5, 9))
def test_oracle_sequential_pc_recovers_cpdag(dag):
    assert oracle_pc(dag, stable=False).graph_ == cpdag(dag)


# ----------------------------------------------------------------------------- skeleton phase
def test_skeleton_of_chain_with_oracle():
    dag = nx.DiGraph(NAMED_GRAPHS["chain"])
    res = skeleton(DSeparation(dag))
    assert set(map(frozenset, res.graph.edges)) == set(map(frozenset, dag.edges))
    assert res.sepsets[frozenset({"A", "C"})] == ("B",)
    assert res.sepsets[frozenset({"A", "D"})] == ("B",)  # first in name order of the separating sets
    assert set(res.separating_sets[frozenset({"A", "D"})]) == {("B",), ("C",)}
    assert res.n_tests == len(res.pvalues)
    assert res.max_level == 1


def test_skeleton_batches_one_call_per_level():
    dag = nx.DiGraph(NAMED_GRAPHS["asia"])
    calls = []

    class Spy(DSeparation):
        def test(self, queries):
            queries = list(queries)
            calls.append({len(q[2]) for q in queries})
            return super().test(queries)

    res = skeleton(Spy(dag))
    assert all(len(sizes) == 1 for sizes in calls)
    assert [next(iter(s)) for s in calls] == list(range(res.max_level + 1))


def test_skeleton_max_cond_size():
    dag = nx.DiGraph(NAMED_GRAPHS["chain"])
    res = skeleton(DSeparation(dag), max_cond_size=0)
    assert res.graph.number_of_edges() == 6  # nothing is marginally independent in a chain
    assert res.max_level == 0
    assert set(res.pvalues["cond"].map(len)) == {0}


def test_skeleton_does_not_depend_on_column_order():
    data, _ = linear_gaussian(seed=3, d=10, n=600)
    ref = skeleton(FisherZ(data))
    rng = np.random.default_rng(0)
    for _ in range(3):
        perm = rng.permutation(data.columns)
        res = skeleton(FisherZ(data[perm]))
        assert set(map(frozenset, res.graph.edges)) == set(map(frozenset, ref.graph.edges))
        assert res.sepsets == ref.sepsets
        assert res.separating_sets == ref.separating_sets
        assert res.n_tests == ref.n_tests


def test_pc_graph_does_not_depend_on_column_order_under_oracle():
    dag = nx.DiGraph(NAMED_GRAPHS["asia"])
    ref = oracle_pc(dag).graph_
    nodes = list(dag.nodes)
    for seed in range(3):
        perm = list(np.random.default_rng(seed).permutation(nodes))
        model = PC(ci_test=DSeparation(dag)).fit(dummy_data(perm))
        assert model.graph_ == ref
        assert list(model.graph_.nodes) == perm


# ------------------------------------------------------- column order with conflicting colliders
def latent_gaussian(seed: int, d: int = 10, n: int = 500, n_latent: int = 3, degree: float = 2.5) -> pd.DataFrame:
    """A linear-Gaussian SCM on d + n_latent variables of which n_latent are hidden: hidden
    confounders make PC's colliders conflict (two colliders orient one edge both ways)."""
    rng = np.random.default_rng(seed)
    total = d + n_latent
    adj = np.triu(rng.random((total, total)) < min(1.0, degree / (total - 1)), 1)
    w = adj * rng.uniform(0.5, 2.0, (total, total)) * rng.choice([-1.0, 1.0], (total, total))
    x = np.zeros((n, total))
    for j in range(total):
        x[:, j] = x @ w[:, j] + rng.normal(size=n)
    keep = np.sort(rng.choice(total, d, replace=False))
    return pd.DataFrame(x[:, keep], columns=[f"V{i}" for i in range(d)])


# latent_gaussian seeds whose colliders conflict (21 of seeds 0-29 do; measured 2026-12-07)
CONFLICT_SEEDS = (0, 2, 4, 5, 6, 7, 9, 11)


@functools.cache
def _latent_fit(seed: int, conflict: str = "bidirected") -> PC:
    return PC(conflict=conflict).fit(latent_gaussian(seed))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(CONFLICT_SEEDS), data=st.data())
def test_pc_graph_and_conflicts_do_not_depend_on_column_order(seed, data):
    """Issue 26: with conflicting colliders the default rule gives one graph for every column order."""
    frame = latent_gaussian(seed)
    perm = data.draw(st.permutations(list(frame.columns)))
    ref = _latent_fit(seed)
    model = PC().fit(frame[perm])
    assert model.graph_ == ref.graph_
    pd.testing.assert_frame_equal(model.conflicts_, ref.conflicts_)
    assert not ref.conflicts_.empty and all(ref.graph_.has_bidirected(r.x, r.y) for r in ref.conflicts_.itertuples())


def test_keep_existing_depends_on_column_order_where_colliders_conflict():
    """What the default replaces: causal-learn's rule (keep the first collider) changes the graph
    with the column order on the same data (so the property above fails with it)."""
    for seed in CONFLICT_SEEDS[:3]:
        frame = latent_gaussian(seed)
        ref = _latent_fit(seed, "keep_existing").graph_
        rng = np.random.default_rng(seed)
        graphs = [PC(conflict="keep_existing").fit(frame[rng.permutation(frame.columns)]).graph_ for _ in range(4)]
        assert any(g != ref for g in graphs)


def _sachs_condition(regime: str, log: bool) -> pd.DataFrame:
    data = scm.datasets.load_sachs("interventional").data
    rows = data[data["regime"] == regime].drop(columns="regime")
    return np.log(rows) if log else rows


# Sachs conditions where causal-learn's rule gave column-order-dependent graphs (issue 26)
@pytest.mark.parametrize("regime, log", [("cd3_cd28+aktinhib", False), ("cd3_cd28+psitect", False),
                                         ("cd3_cd28+ly", False), ("cd3_cd28+icam2", True)])
def test_pc_on_sachs_conditions_does_not_depend_on_column_order(regime, log):
    frame = _sachs_condition(regime, log)
    ref = PC().fit(frame)
    assert not ref.conflicts_.empty
    rng = np.random.default_rng(0)
    keep = PC(conflict="keep_existing").fit(frame).graph_
    keep_differs = False
    for _ in range(10):
        perm = list(rng.permutation(frame.columns))
        model = PC().fit(frame[perm])
        assert model.graph_ == ref.graph_
        pd.testing.assert_frame_equal(model.conflicts_, ref.conflicts_)
        keep_differs |= PC(conflict="keep_existing").fit(frame[perm]).graph_ != keep
    assert keep_differs


def _random_pdag(draw, nodes):
    edges = {}
    for a, b in itertools.combinations(nodes, 2):
        kind = draw(st.sampled_from(["none", "none", "undirected", "undirected", "forward", "backward", "bidirected"]))
        if kind != "none":
            edges[(a, b)] = kind
    directed = [(a, b) if k == "forward" else (b, a) for (a, b), k in edges.items() if k in ("forward", "backward")]
    undirected = [e for e, k in edges.items() if k == "undirected"]
    bidirected = [e for e, k in edges.items() if k == "bidirected"]
    return directed, undirected, bidirected


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_meek_rules_in_rounds_do_not_depend_on_node_order(data):
    """Any PDAG, consistent or not: the order-independent rules give one graph for every node
    order, close no new directed cycle, and on the pattern of a DAG give its CPDAG, as the rules
    one at a time do. A directed cycle is refused by the public meek_rules (CycleError); the
    unchecked rules, which PC and CD-NOD run on their estimated patterns, still take it."""
    from scm._cpdag import _meek_rules

    nodes = list("ABCDEFG")[: data.draw(st.integers(3, 7))]
    directed, undirected, bidirected = _random_pdag(data.draw, nodes)
    ref = _meek_rules(PDAG(nodes, directed, undirected, bidirected), order_independent=True)
    perm = data.draw(st.permutations(nodes))
    assert _meek_rules(PDAG(perm, directed, undirected, bidirected), order_independent=True) == ref
    if nx.is_directed_acyclic_graph(nx.DiGraph(directed)):
        assert scm.meek_rules(PDAG(nodes, directed, undirected, bidirected), order_independent=True) == ref
        assert nx.is_directed_acyclic_graph(nx.DiGraph(list(ref.directed_edges)))
    else:
        with pytest.raises(scm.CycleError, match="directed cycle"):
            scm.meek_rules(PDAG(nodes, directed, undirected, bidirected), order_independent=True)
    dag = nx.DiGraph()
    dag.add_nodes_from(perm)
    dag.add_edges_from((a, b) for a, b in itertools.combinations(nodes, 2) if data.draw(st.booleans()))
    heads = {(a, c) for a, c, b in scm.v_structures(dag)} | {(b, c) for a, c, b in scm.v_structures(dag)}
    pattern = PDAG(perm, heads, [e for e in dag.edges if e not in heads])
    assert scm.meek_rules(pattern, order_independent=True) == scm.meek_rules(pattern) == scm.cpdag(dag)


def test_meek_rules_in_rounds_mark_conflicts():
    from scm._cpdag import _meek_rounds

    # A -> B - C <- D, A, C and B, D non-adjacent: R1 orients B - C both ways
    g = PDAG(list("ABCD"), directed=[("A", "B"), ("D", "C")], undirected=[("B", "C")])
    out, conflicts = _meek_rounds(g)
    assert out == PDAG(list("ABCD"), directed=[("A", "B"), ("D", "C")], bidirected=[("B", "C")])
    assert conflicts == [("B", "C", "both ways", ("R1",), ("R1",))]
    # one at a time, the node order decides
    assert scm.meek_rules(g) != scm.meek_rules(PDAG(list("DCBA"), g.directed_edges, g.undirected_edges))


# ----------------------------------------------------------------------------- collider phase
def _star():
    # A - C - B with A, B separated by {} ; C - D with C in every separating set of A, D
    return nx.Graph([("A", "C"), ("B", "C"), ("C", "D")])


def test_orient_colliders_sepset_rule():
    seps = {frozenset("AB"): ((),), frozenset("AD"): (("C",),), frozenset("BD"): (("C",),)}
    g = orient_colliders(_star(), seps)
    assert g == PDAG(["A", "B", "C", "D"], directed=[("A", "C"), ("B", "C")], undirected=[("C", "D")])


def test_orient_colliders_uses_every_separating_set():
    # z in one of the separating sets of (A, B): not a collider (as causal-learn's uc_sepset)
    seps = {frozenset("AB"): ((), ("C",)), frozenset("AD"): (("C",),), frozenset("BD"): (("C",),)}
    g = orient_colliders(_star(), seps)
    assert not g.directed_edges


def test_orient_colliders_single_set_and_missing_set():
    g = orient_colliders(nx.Graph([("A", "C"), ("B", "C")]), {frozenset("AB"): ()})
    assert g.has_directed("A", "C") and g.has_directed("B", "C")
    g = orient_colliders(nx.Graph([("A", "C"), ("B", "C")]), {})
    assert not g.directed_edges  # no separating set known: no collider


# Two conflicting colliders: A -> B <- C  and  B -> C <- D  (B - C oriented both ways).
_CONFLICT = nx.Graph([("A", "B"), ("B", "C"), ("C", "D")])
_CONFLICT_SEPS = {frozenset("AC"): ((),), frozenset("BD"): ((),), frozenset("AD"): ((),)}


@pytest.mark.parametrize(
    "conflict, directed, bidirected",
    [
        ("keep_existing", {("A", "B"), ("C", "B")}, set()),
        ("overwrite", {("A", "B"), ("B", "C"), ("D", "C")}, set()),
        ("bidirected", {("A", "B"), ("D", "C")}, {frozenset("BC")}),
    ],
)
def test_collider_conflict_rules(conflict, directed, bidirected):
    g = orient_colliders(_CONFLICT, _CONFLICT_SEPS, conflict=conflict)
    assert set(g.directed_edges) == directed
    assert set(g.bidirected_edges) == bidirected


def test_collider_conflict_keep_existing_matches_causallearn_and_bidirected_differs():
    """The documented difference: causal-learn's default keeps the first collider (our
    conflict='keep_existing'); the default conflict='bidirected' marks the contested edge <->
    regardless of visiting order, as causal-learn's uc_priority=1 does, and reports it."""
    rng = np.random.default_rng(0)
    n = 3000
    a, d = rng.normal(size=n), rng.normal(size=n)
    # A and C independent, B and D independent, but B - C dependent: colliders at B and at C
    latent = rng.normal(size=n)
    b = a + latent + rng.normal(size=n)
    c = d + latent + rng.normal(size=n)
    data = pd.DataFrame({"A": a, "B": b, "C": c, "D": d})
    ours = PC(conflict="keep_existing").fit(data).graph_
    theirs = run_causallearn(data)
    assert ours == theirs
    assert ours == PDAG(list("ABCD"), directed=[("A", "B"), ("C", "B")], undirected=[("C", "D")])
    # the later collider B -> C <- D wins with "overwrite" (causal-learn uc_priority=0)
    over = PC(conflict="overwrite").fit(data).graph_
    assert over == PDAG(list("ABCD"), directed=[("A", "B"), ("B", "C"), ("D", "C")])
    assert over == run_causallearn(data, uc_priority=0)
    default = PC().fit(data)
    both = default.graph_
    assert both == PC(conflict="bidirected").fit(data).graph_
    assert both == PDAG(list("ABCD"), directed=[("A", "B"), ("D", "C")], bidirected=[("B", "C")])
    assert both == run_causallearn(data, uc_priority=1)
    reversed_order = PC().fit(data[["D", "C", "B", "A"]])
    assert reversed_order.graph_ == both  # order-independent
    assert PC(conflict="keep_existing").fit(data[["D", "C", "B", "A"]]).graph_ != ours  # causal-learn's rule is not
    table = default.conflicts_
    assert table[["x", "y", "phase", "edge"]].values.tolist() == [["B", "C", "colliders", "B <-> C"]]
    assert table.loc[0, "into_x"] == (("A", "B", "C"),) and table.loc[0, "into_y"] == (("B", "C", "D"),)
    pd.testing.assert_frame_equal(reversed_order.conflicts_, table)
    keep = PC(conflict="keep_existing").fit(data)  # the conflict is reported whatever the rule does with it
    assert keep.conflicts_[["x", "y", "edge"]].values.tolist() == [["B", "C", "C -> B"]]


def test_orient_colliders_maxp_needs_ci_test():
    with pytest.raises(ParameterError, match="ci_test"):
        orient_colliders(_star(), {}, rule="maxp")
    with pytest.raises(ParameterError, match="'rule' parameter of orient_colliders must be one of"):
        orient_colliders(_star(), {}, rule="max-p")


def test_orient_colliders_maxp_with_oracle():
    dag = nx.DiGraph(NAMED_GRAPHS["collider_chain"])
    skel = nx.Graph(dag.to_undirected())
    for rule in ("maxp", "definite_maxp"):
        g = orient_colliders(skel, rule=rule, ci_test=DSeparation(dag))
        assert set(g.directed_edges) == {("A", "C"), ("B", "C")}


# ----------------------------------------------------------------------------- background knowledge
def test_background_knowledge_validation():
    with pytest.raises(ParameterError, match="requires and forbids the edge 'A' -> 'B'"):
        BackgroundKnowledge(required=[("A", "B")], forbidden=[("A", "B")])
    with pytest.raises(ParameterError, match="tiers forbid it"):
        BackgroundKnowledge(required=[("B", "A")], tiers=[["A"], ["B"]])
    with pytest.raises(ParameterError, match="requires both"):
        BackgroundKnowledge(required=[("A", "B"), ("B", "A")])
    with pytest.raises(ParameterError, match="directed cycle"):
        BackgroundKnowledge(required=[("A", "B"), ("B", "C"), ("C", "A")])
    with pytest.raises(ParameterError, match="tiers 0 and 1"):
        BackgroundKnowledge(tiers=[["A"], ["A"]])
    with pytest.raises(ParameterError, match="self-loop"):
        BackgroundKnowledge(forbidden=[("A", "A")])
    data = dummy_data(["A", "B", "C"])
    with pytest.raises(UnknownNodeError, match="'Q'"):
        PC(background_knowledge=BackgroundKnowledge(forbidden=[("A", "Q")])).fit(data)
    with pytest.raises(UnknownNodeError, match="'Z'"):
        PC(background_knowledge={"tiers": {"Z": 0}}).fit(data)


def test_tiers_as_mapping_and_list_agree():
    a = BackgroundKnowledge(tiers={"A": 0, "B": 1, "C": 1})
    b = BackgroundKnowledge(tiers=[["A"], ["B", "C"]])
    assert a == b
    assert a.is_forbidden("B", "A") and not a.is_forbidden("A", "B") and not a.is_forbidden("B", "C")
    assert a.forced_orientation("B", "A") == ("A", "B") and a.forced_orientation("B", "C") is None


def test_forbidden_pair_is_never_tested_causallearn_171():
    """causal-learn issue #171: forbidden pairs were still tested."""
    dag = nx.DiGraph(NAMED_GRAPHS["asia"])
    oracle = CountingOracle(dag)
    bk = BackgroundKnowledge(forbidden=[("asia", "smoke"), ("smoke", "asia"), ("xray", "dysp"), ("dysp", "xray")])
    model = PC(ci_test=oracle, background_knowledge=bk).fit(dummy_data(dag.nodes))
    tested = {frozenset(q[:2]) for q in oracle.asked}
    assert frozenset({"asia", "smoke"}) not in tested and frozenset({"xray", "dysp"}) not in tested
    assert not model.pvalues_[["x", "y"]].apply(frozenset, axis=1).isin([frozenset({"asia", "smoke"})]).any()
    assert model.n_tests_ == len(set(oracle.asked)) == len(model.pvalues_)
    assert model.graph_ == cpdag(dag)  # true non-edges: forbidding them changes nothing


def test_forbidden_pair_gives_no_false_collider_causallearn_224():
    """causal-learn issue #224: X -> Y -> Z with X - Z forbidden gave X -> Y <- Z."""
    dag = nx.DiGraph([("X", "Y"), ("Y", "Z")])
    bk = BackgroundKnowledge(forbidden=[("X", "Z"), ("Z", "X")])
    model = oracle_pc(dag, background_knowledge=bk)
    assert model.graph_ == PDAG(["X", "Y", "Z"], undirected=[("X", "Y"), ("Y", "Z")])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags(5, 9), st.integers(0, 2**32 - 1), st.sampled_from(["keep_existing", "overwrite", "bidirected"]))
def test_output_never_contradicts_background_knowledge_causallearn_219(dag, seed, conflict):
    """causal-learn issue #219 (and dowhy #1343): forbidden edges and tier order violated in the output.

    Random knowledge (some of it false about the true DAG) is drawn; whatever the tests say,
    no output edge may point a forbidden way and every required edge must be present as given.
    """
    rng = np.random.default_rng(seed)
    nodes = list(dag.nodes)
    pairs = list(itertools.permutations(nodes, 2))
    idx = rng.choice(len(pairs), size=min(len(pairs), 6), replace=False)
    forbidden = [pairs[i] for i in idx[:4]]
    required = [p for p in (pairs[i] for i in idx[4:]) if p not in forbidden and p[::-1] not in forbidden]
    tiers = {n: int(rng.integers(0, 3)) for n in rng.choice(nodes, size=3, replace=False)}
    try:
        bk = BackgroundKnowledge(required=required, forbidden=forbidden, tiers=tiers)
    except ParameterError:
        return  # contradictory draw
    g = oracle_pc(dag, background_knowledge=bk, conflict=conflict).graph_
    for a, b in g.directed_edges:
        assert not bk.is_forbidden(a, b), (a, b)
    for e in g.undirected_edges | g.bidirected_edges:
        a, b = tuple(e)
        assert not bk.is_forbidden(a, b) and not bk.is_forbidden(b, a), (a, b)
    for a, b in bk.required:
        assert g.has_directed(a, b), (a, b)


def test_required_edge_missing_from_data_is_added_causallearn_76():
    """causal-learn issue #76: a required edge the skeleton search would remove was lost."""
    dag = nx.DiGraph([("A", "B")])
    dag.add_node("C")
    model = oracle_pc(dag, background_knowledge=BackgroundKnowledge(required=[("A", "C")]))
    assert model.graph_.has_directed("A", "C")
    assert model.graph_.has_undirected("A", "B")
    assert frozenset({"A", "C"}) not in {frozenset(q) for q in model.pvalues_[["x", "y"]].itertuples(index=False)}


def test_one_way_forbidden_edge_is_oriented_the_other_way_and_propagates():
    dag = nx.DiGraph(NAMED_GRAPHS["chain"])  # A -> B -> C -> D, CPDAG all undirected
    model = oracle_pc(dag, background_knowledge=BackgroundKnowledge(forbidden=[("B", "A")]))
    assert model.graph_ == PDAG(list("ABCD"), directed=[("A", "B"), ("B", "C"), ("C", "D")])
    model = oracle_pc(dag, background_knowledge=BackgroundKnowledge(tiers=[["C"], ["B"]]))
    assert model.graph_.has_directed("C", "B") and model.graph_.has_directed("B", "A")
    assert model.graph_.has_undirected("C", "D")


def test_collider_contradicting_required_edge_is_skipped():
    dag = nx.DiGraph(NAMED_GRAPHS["collider"])  # A -> C <- B
    model = oracle_pc(dag, background_knowledge=BackgroundKnowledge(required=[("C", "A")]))
    assert model.graph_.has_directed("C", "A") and not model.graph_.has_directed("B", "C")


def test_apply_background_knowledge_phase():
    g = nx.Graph([("A", "B"), ("B", "C"), ("C", "D")])
    bk = BackgroundKnowledge(required=[("D", "A")], forbidden=[("B", "C"), ("C", "B"), ("A", "B")])
    out = apply_background_knowledge(g, bk)
    assert out == PDAG(list("ABCD"), directed=[("B", "A"), ("D", "A")], undirected=[("C", "D")])


# ----------------------------------------------------------------------------- parity with causal-learn
# d from {5, 10, 15} (few distinct shapes keep JIT compilation cheap), n in [500, 2000]
PARITY_CASES = [(seed, (5, 10, 15)[seed % 3], 500 + (seed * 379) % 1501) for seed in range(12)]


@pytest.mark.parametrize("seed, d, n", PARITY_CASES)
def test_parity_with_causallearn_default(seed, d, n):
    """causal-learn's default conflict rule is uc_priority=2, our conflict='keep_existing'; our
    default 'bidirected' is its uc_priority=1 (the same graph where the colliders do not conflict)."""
    data, _ = linear_gaussian(seed, d, n)
    ours = PC(conflict="keep_existing").fit(data)
    theirs = run_causallearn(data)
    assert set(map(frozenset, ours.skeleton_.edges)) == set(map(frozenset, theirs.skeleton().edges))
    assert ours.graph_ == theirs
    default = PC().fit(data)
    assert default.graph_ == run_causallearn(data, uc_priority=1)
    assert (default.graph_ == ours.graph_) == default.conflicts_.empty


def test_meek_cycle_check_matches_causallearn():
    """With inconsistent colliders (finite-sample errors) R1 would close a directed cycle;
    scm.meek_rules skips such an orientation, as causal-learn does, so the outputs agree."""
    from causallearn.search.ConstraintBased.PC import pc
    from causallearn.utils.cit import fisherz

    data, _ = linear_gaussian(1003, 8, 781, degree=3.0)
    names = list(data.columns)
    ours = PC(conflict="keep_existing").fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = PDAG.from_causallearn(pc(data.to_numpy(), 0.05, fisherz, show_progress=False).G.graph, names)
    sk = skeleton(FisherZ(data))
    unsafe = scm.meek_rules(orient_colliders(sk.graph, sk.separating_sets, conflict="keep_existing"), avoid_cycles=False)
    assert not nx.is_directed_acyclic_graph(nx.DiGraph(list(unsafe.directed_edges)))  # the case is real
    assert ours.graph_ == full
    assert nx.is_directed_acyclic_graph(nx.DiGraph(list(ours.graph_.directed_edges)))


def test_parity_with_causallearn_max_cond_size():
    # capped levels leave extra edges, whose colliders conflict; compare the skeletons
    data, _ = linear_gaussian(11, 10, 800, degree=3.0)
    ours = PC(max_cond_size=1).fit(data)
    theirs = run_causallearn(data, max_k=1)
    assert set(map(frozenset, ours.skeleton_.edges)) == set(map(frozenset, theirs.skeleton().edges))
    assert set(ours.pvalues_["cond"].map(len)) == {0, 1}


@pytest.mark.parametrize("seed", [50, 53])
def test_parity_with_causallearn_maxp(seed):
    data, _ = linear_gaussian(seed, 10, 500 + (seed * 379) % 1501)
    assert PC(orientation="maxp", conflict="keep_existing").fit(data).graph_ == run_causallearn(data, uc_rule=1, uc_priority=2)
    assert PC(orientation="maxp").fit(data).graph_ == run_causallearn(data, uc_rule=1, uc_priority=1)


def test_pvalues_match_causallearn_fisherz():
    from causallearn.utils.cit import CIT

    data, _ = linear_gaussian(2, 5, 700)
    model = PC().fit(data)
    cit = CIT(data.to_numpy(), "fisherz")
    pos = {c: i for i, c in enumerate(data.columns)}
    ref = [cit(pos[r.x], pos[r.y], [pos[c] for c in r.cond]) for r in model.pvalues_.itertuples()]
    np.testing.assert_allclose(model.pvalues_["pvalue"], ref, rtol=1e-8, atol=1e-12)
    assert model.pvalues_["statistic"].notna().all()


# ----------------------------------------------------------------------------- API and bad input
def test_init_only_stores_parameters_and_fit_returns_self():
    model = PC(alpha=1.5, orientation="nope")  # no validation before fit
    assert model.get_params()["alpha"] == 1.5
    data, _ = linear_gaussian(0, 5, 300)
    good = PC(alpha=0.01)
    assert good.fit(data) is good
    assert repr(good) == "PC(alpha=0.01)"
    with pytest.raises(TypeError):
        PC(0.05)  # keyword-only


def test_array_input_gets_default_names():
    data, _ = linear_gaussian(1, 5, 400)
    model = PC().fit(data.to_numpy())
    assert list(model.graph_.nodes) == [f"X{i}" for i in range(5)]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"alpha": 1.5}, r"The 'alpha' parameter of PC must be in the range \(0, 1\); got 1.5 instead."),
        ({"alpha": 0}, r"The 'alpha' parameter of PC must be in the range \(0, 1\); got 0 instead."),
        ({"ci_test": "fishers"}, r"The 'ci_test' parameter of PC must be one of \['fisherz', 'kci', .*got 'fishers'"),
        ({"orientation": "majority"}, r"The 'orientation' parameter of PC must be one of \['sepset', 'maxp', 'definite_maxp'\]"),
        ({"conflict": "x"}, r"The 'conflict' parameter of PC must be one of \['keep_existing', 'overwrite', 'bidirected'\]"),
        ({"max_cond_size": -1}, r"The 'max_cond_size' parameter of PC must be in the range \[0, inf\)"),
        ({"stable": "yes"}, r"The 'stable' parameter of PC must be a bool"),
        ({"background_knowledge": [("A", "B")]}, r"background_knowledge"),
    ],
)
def test_bad_parameters(params, message):
    data, _ = linear_gaussian(0, 4, 100)
    with pytest.raises(ParameterError, match=message):
        PC(**params).fit(data)


def test_bad_data():
    data, _ = linear_gaussian(0, 4, 100)
    nan = data.copy()
    nan.iloc[7, 2] = np.nan
    with pytest.raises(DataError, match="column 'V2' holds NaN"):
        PC().fit(nan)
    const = data.assign(V1=3.0)
    with pytest.raises(DataError, match=r"\['V1'\] are constant"):
        PC().fit(const)
    with pytest.raises(DataError, match="non-numeric"):
        PC().fit(data.assign(V3="a"))


def test_ci_test_instance_and_kwargs():
    dag = nx.DiGraph(NAMED_GRAPHS["collider"])
    data = dummy_data(dag.nodes)
    by_name = PC(ci_test="dsep", ci_test_kwargs={"graph": dag}).fit(data)
    assert by_name.graph_ == cpdag(dag)
    with pytest.raises(ParameterError, match="ci_test_kwargs"):
        PC(ci_test=DSeparation(dag), ci_test_kwargs={"graph": dag}).fit(data)
    with pytest.raises(ParameterError, match="same variables"):
        PC(ci_test=DSeparation(dag)).fit(dummy_data(["A", "B", "Q"]))


def test_progress_and_logging(caplog, capsys):
    import logging

    data, _ = linear_gaussian(4, 5, 300)
    with caplog.at_level(logging.INFO, logger="discovery.constraint._pc"):
        PC(progress=True).fit(data)
    assert any("level 0" in r.getMessage() for r in caplog.records)
    out = capsys.readouterr()
    assert out.out == ""  # nothing printed on stdout (tqdm writes to stderr)
