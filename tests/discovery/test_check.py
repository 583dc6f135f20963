"""Checking a graph and a fitted model against data: discovery.evaluation.check_graph / check_mechanisms.

Known answers: the d-separation oracle (no violation on the true graph, at least one on a graph
missing an edge), the statements themselves against d-separation and minimality, the multiple-testing
corrections against statsmodels, the same-class share against CPDAG equality, Fisher-z's calibration on
linear-Gaussian data, R^2 and the log-likelihood against their closed forms, and DoWhy's falsify_graph
(dowhy 0.14) given the same Fisher-z test: the same statements, p-values, counts and permutation p-values.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import scm
from discovery import DSeparation, FisherZ, GraphCheck, MechanismCheck, check_graph, check_mechanisms
from discovery.evaluation import implied_independences, write_report
from discovery.evaluation._check import _class_signature
from scm import PDAG, SCM, CycleError, DataError, GraphError, ParameterError, UnknownNodeError
from tests.strategies import random_dags

from ..conftest import NAMED_GRAPHS


def _linear_data(graph: nx.DiGraph, n: int, seed: int, weight: float = 0.8) -> pd.DataFrame:
    nodes = list(graph.nodes)
    rng = np.random.default_rng(seed)
    w = pd.DataFrame(0.0, index=nodes, columns=nodes)
    for a, b in graph.edges:
        w.loc[a, b] = rng.choice([-1.0, 1.0]) * weight
    return SCM.from_linear(w).sample(n, random_state=seed)


DIAMOND = nx.DiGraph(NAMED_GRAPHS["diamond"])


# --------------------------------------------------------------------------- the statements
@pytest.mark.parametrize("implied", ["local_markov", "pairwise_minimal"])
def test_every_statement_is_a_d_separation(named_dag, implied):
    _, g = named_dag
    table = implied_independences(g, implied=implied)
    assert len(table)  # every named graph has a non-adjacent pair
    for r in table.itertuples():
        assert scm.d_separated(g, r.x, r.y, r.cond), (r.x, r.y, r.cond)
        assert not (g.has_edge(r.x, r.y) or g.has_edge(r.y, r.x))


def test_local_markov_is_the_parental_triples(named_dag):
    _, g = named_dag
    expected = {(x, y, tuple(sorted(g.predecessors(x), key=list(g).index)))
                for x in g for y in set(g) - nx.descendants(g, x) - set(g.predecessors(x)) - {x}}
    table = implied_independences(g)
    assert set(map(tuple, table[["x", "y", "cond"]].to_numpy())) == expected
    assert len(table) == len(expected)


def test_pairwise_minimal_is_one_minimal_separator_per_non_adjacent_pair(named_dag):
    _, g = named_dag
    table = implied_independences(g, implied="pairwise_minimal")
    pairs = {frozenset(p) for p in itertools.combinations(g, 2) if not (g.has_edge(*p) or g.has_edge(*p[::-1]))}
    assert {frozenset((r.x, r.y)) for r in table.itertuples()} == pairs and len(table) == len(pairs)
    for r in table.itertuples():
        for drop in r.cond:  # no proper subset separates
            assert not scm.d_separated(g, r.x, r.y, set(r.cond) - {drop})


def test_a_cpdag_is_checked_through_a_consistent_extension():
    g = DIAMOND
    cp = scm.cpdag(g)
    assert cp.undirected_edges  # a real CPDAG
    for implied in ("local_markov", "pairwise_minimal"):
        for r in implied_independences(cp, implied=implied).itertuples():
            assert scm.d_separated(g, r.x, r.y, r.cond)  # the class implies what the DAG implies
    res = check_graph(cp, ci_test=DSeparation(g))
    assert res.n_violated == 0 and scm.cpdag(res.dag) == cp


def test_graphs_that_cannot_be_checked_are_refused():
    with pytest.raises(GraphError, match=r"bidirected edges \[\('A', 'B'\)\]"):
        implied_independences(PDAG(["A", "B", "C"], directed=[("B", "C")], bidirected=[("A", "B")]))
    with pytest.raises(CycleError, match="A -> B -> A"):
        implied_independences(nx.DiGraph([("A", "B"), ("B", "A")]))
    with pytest.raises(ParameterError, match="'implied' parameter of implied_independences"):
        implied_independences(DIAMOND, implied="global")
    with pytest.raises(GraphError, match="graph must be"):
        implied_independences(3.5)


# --------------------------------------------------------------------------- the oracle
@pytest.mark.parametrize("implied", ["local_markov", "pairwise_minimal"])
def test_the_oracle_finds_no_violation_on_the_true_graph_and_one_on_a_graph_missing_an_edge(named_dag, implied):
    _, g = named_dag
    oracle = DSeparation(g)
    res = check_graph(g, ci_test=oracle, implied=implied, n_permutations=0)
    assert res.n_violated == 0 and res.n_violated_adjusted == 0 and not res.contradicted
    assert (res.table["pvalue"] == 1.0).all()
    for edge in g.edges:
        wrong = g.copy()
        wrong.remove_edge(*edge)
        bad = check_graph(wrong, ci_test=oracle, implied=implied, n_permutations=0)
        assert bad.n_violated >= 1 and bad.contradicted, edge
        assert (bad.table.loc[bad.table["violated"], "pvalue"] == 0.0).all()


@settings(max_examples=40, deadline=None)
@given(random_dags(min_nodes=2, max_nodes=7), st.randoms(use_true_random=False))
def test_property_the_oracle_never_contradicts_the_truth_and_always_a_missing_edge(dag, rnd):
    oracle = DSeparation(dag)
    for implied in ("local_markov", "pairwise_minimal"):
        assert check_graph(dag, ci_test=oracle, implied=implied, n_permutations=0).n_violated == 0
    if dag.number_of_edges():
        wrong = dag.copy()
        wrong.remove_edge(*rnd.choice(sorted(dag.edges)))
        assert check_graph(wrong, ci_test=oracle, n_permutations=0).contradicted
    # exhaustive (at most 3 nodes here) or sampled, the p-value is never 0: the identity, or the +1, counts
    res = check_graph(dag, ci_test=oracle, n_permutations=6, random_state=rnd.randrange(100))
    assert res.exhaustive == (len(dag) <= 3)
    if res.n_implied:
        assert 1 / (res.n_permutations + 1) <= res.permutation_pvalue <= 1
    if res.exhaustive:  # the identity is one of the permutations, and in the graph's class
        assert res.same_class_fraction >= 1 / res.n_permutations


def test_a_graph_of_the_same_class_is_not_contradicted_and_the_verdict_says_why_that_is_not_confirmation():
    g = nx.DiGraph([("A", "B"), ("B", "C")])
    same_class = nx.DiGraph([("C", "B"), ("B", "A")])
    res = check_graph(same_class, ci_test=DSeparation(g))
    assert res.n_violated == 0
    assert res.verdict.startswith("The data do not contradict the graph at alpha=0.05")
    assert "Not contradicting is not confirming" in res.verdict


# --------------------------------------------------------------------------- the permutation baseline
def test_the_same_class_share_is_cpdag_equality_of_the_relabelled_graphs(named_dag):
    _, g = named_dag
    nodes = list(g)
    pos = {v: i for i, v in enumerate(nodes)}
    edges = [(pos[a], pos[b]) for a, b in g.edges]
    reference = scm.cpdag(g)
    rng = np.random.default_rng(0)
    for _ in range(60):
        perm = rng.permutation(len(nodes))
        relabelled = nx.relabel_nodes(g, {v: nodes[perm[i]] for i, v in enumerate(nodes)})
        same = _class_signature(edges, len(nodes), perm) == _class_signature(edges, len(nodes))
        assert same == (scm.cpdag(relabelled) == reference)


def test_exhaustive_and_sampled_permutation_pvalues():
    g = nx.DiGraph([("A", "B"), ("B", "C"), ("D", "C")])
    oracle = DSeparation(g)
    res = check_graph(g, ci_test=oracle, n_permutations=24)
    assert res.exhaustive and res.n_permutations == 24 and len(res.permutation_violations) == 24
    k = int(np.sum(res.permutation_violations <= res.fraction_violated))
    assert res.permutation_pvalue == res.fraction_as_good == k / 24
    # one relabelling (the identity) in the class of a graph with a v-structure and no symmetry
    assert res.same_class_fraction == 1 / 24 and res.informative
    sampled = check_graph(g, ci_test=oracle, n_permutations=23, random_state=0)
    assert not sampled.exhaustive and sampled.n_permutations == 23
    k = int(np.sum(sampled.permutation_violations <= sampled.fraction_violated))
    assert sampled.permutation_pvalue == (1 + k) / 24 and sampled.fraction_as_good == k / 23
    again = check_graph(g, ci_test=oracle, n_permutations=23, random_state=0)
    np.testing.assert_array_equal(again.permutation_violations, sampled.permutation_violations)


def test_without_permutations_or_statements_the_verdict_says_what_is_missing():
    g = nx.DiGraph([("A", "B"), ("B", "C")])
    res = check_graph(g, ci_test=DSeparation(g), n_permutations=0)
    assert math.isnan(res.permutation_pvalue) and res.permutation_violations.size == 0
    assert "No permutation baseline was run (n_permutations=0)." in res.verdict
    complete = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C")])
    full = check_graph(complete, ci_test=DSeparation(complete))
    assert full.n_implied == 0 and not full.contradicted and math.isnan(full.fraction_violated)
    assert full.verdict.startswith("The graph implies no conditional independence")
    assert full.same_class_fraction == 1.0 and not full.informative  # every complete DAG is in one class


def test_an_uninformative_graph_is_said_to_be_weak():
    g = nx.DiGraph()
    g.add_nodes_from("ABC")  # every relabelling of the empty graph is the empty graph
    res = check_graph(g, ci_test=DSeparation(g))
    assert res.same_class_fraction == 1.0 and not res.informative
    assert "The comparison is weak for this graph: 100% of the relabelled graphs" in res.verdict


def test_the_tests_go_to_the_ci_test_in_batches():
    """The given graph's statements in one call per conditioning-set size, the permutations' new ones in one more."""
    g = nx.DiGraph(NAMED_GRAPHS["asia"])

    class Counting(DSeparation):
        calls = 0

        def test(self, queries):
            Counting.calls += 1
            return super().test(queries)

    res = check_graph(g, ci_test=Counting(g), n_permutations=50, random_state=0)
    sizes = {len(c) for c in res.table["cond"]}
    assert Counting.calls <= 2 * len(sizes) + 4, Counting.calls  # the permutations may add larger sets
    assert res.n_tests == len(set(map(lambda r: (frozenset((r.x, r.y)), r.cond), res.table.itertuples())))


# --------------------------------------------------------------------------- data
def test_on_data_from_the_graph_few_violations_and_the_graph_beats_random_relabellings():
    g = DIAMOND
    data = _linear_data(g, 2000, seed=0)
    res = check_graph(g, data, random_state=0)
    assert res.ci_test == "fisherz"
    assert not res.contradicted and res.n_violated <= 2
    assert res.permutation_pvalue <= 0.05 and res.informative
    assert "the graph fits the data better than such random graphs" in res.verdict


def test_on_data_from_another_graph_violations_are_found():
    truth = DIAMOND
    data = _linear_data(truth, 2000, seed=1)
    wrong = nx.DiGraph([("A", "B"), ("C", "B"), ("B", "D"), ("D", "E")])  # C's edge reversed, A -> C dropped
    wrong.add_node("C")
    res = check_graph(wrong, data, random_state=0)
    assert res.contradicted and res.n_violated_adjusted >= 2
    assert res.verdict.startswith(f"The data contradict the graph at alpha=0.05: {res.n_violated_adjusted} of its "
                                  f"{res.n_implied} implied independences")


@pytest.mark.parametrize("seeds", [range(3), pytest.param(range(3, 200), marks=pytest.mark.slow)])
def test_the_raw_violation_rate_on_the_true_graph_is_about_alpha(seeds):
    """Fisher-z is calibrated on linear-Gaussian data: about 5% of true statements are rejected at alpha=0.05
    (197 datasets: 5.1% of 5,516 distinct tests when this test was written)."""
    g = nx.DiGraph(NAMED_GRAPHS["asia"])
    tested = rejected = 0
    for seed in seeds:
        res = check_graph(g, _linear_data(g, 500, seed), n_permutations=0)
        distinct = res.table.drop_duplicates(subset=["pvalue"])
        tested += len(distinct)
        rejected += int(distinct["violated"].sum())
    rate = rejected / tested
    # binomial standard error of the rate at 5% (the tests of one dataset are dependent: a wide band)
    se = math.sqrt(0.05 * 0.95 / tested)
    assert rate <= 0.05 + 4 * se + (0.08 if len(seeds) < 10 else 0.0), (rate, tested)
    if len(seeds) >= 10:
        assert rate >= 0.05 - 4 * se, (rate, tested)


def test_corrections_match_statsmodels():
    from statsmodels.stats.multitest import multipletests

    g = nx.DiGraph(NAMED_GRAPHS["asia"])
    data = _linear_data(g, 300, seed=2, weight=0.3)
    for correction, method in (("holm", "holm"), ("bh", "fdr_bh")):
        res = check_graph(g, data, correction=correction, n_permutations=0)
        distinct = res.table.assign(pair=[frozenset((r.x, r.y)) for r in res.table.itertuples()])
        distinct = distinct.drop_duplicates(subset=["pair", "cond"])
        np.testing.assert_allclose(distinct["pvalue_adjusted"], multipletests(distinct["pvalue"], method=method)[1])
        assert res.n_violated_adjusted == int((res.table["pvalue_adjusted"] <= 0.05).sum()) <= res.n_violated


def test_extra_columns_are_ignored_and_an_instance_may_cover_more_variables():
    g = nx.DiGraph([("A", "B"), ("B", "C")])
    data = _linear_data(g, 400, seed=3).assign(Z=np.arange(400.0) % 7, note="x")
    res = check_graph(g, data, n_permutations=0)
    narrow = check_graph(g, data[["A", "B", "C"]], n_permutations=0)
    wide = check_graph(g, ci_test=FisherZ(data.drop(columns="note")), n_permutations=0)
    np.testing.assert_allclose(res.table["pvalue"], narrow.table["pvalue"], rtol=1e-12)
    np.testing.assert_allclose(res.table["pvalue"], wide.table["pvalue"], rtol=1e-12)
    assert res.n_implied == 1 and res.table["cond"].tolist() == [("B",)]


def test_check_graph_bad_input_is_named():
    g = nx.DiGraph([("age", "bmi"), ("bmi", "crp")])
    data = _linear_data(g, 100, seed=0)
    with pytest.raises(ParameterError, match="needs data for the 'fisherz' test"):
        check_graph(g)
    with pytest.raises(UnknownNodeError, match=r"unknown graph node\(s\) \['crp'\]"):
        check_graph(g, data.drop(columns="crp"))
    with pytest.raises(UnknownNodeError, match=r"\['crp'\]: not in the variables of the CI test"):
        check_graph(g, ci_test=DSeparation(nx.DiGraph([("age", "bmi")])))
    with pytest.raises(ParameterError, match="'alpha' parameter of check_graph"):
        check_graph(g, data, alpha=1.5)
    with pytest.raises(ParameterError, match="'n_permutations' parameter of check_graph must be in the range"):
        check_graph(g, data, n_permutations=10**6)
    with pytest.raises(ParameterError, match="'correction' parameter of check_graph"):
        check_graph(g, data, correction="bonferroni")
    with pytest.raises(ParameterError, match="'ci_test' parameter of check_graph"):
        check_graph(g, data, ci_test="pearson")
    with pytest.raises(DataError, match="'bmi'"):
        check_graph(g, data.assign(bmi=np.where(np.arange(100) == 3, np.nan, data["bmi"])))
    with pytest.raises(GraphError, match="bidirected"):
        check_graph(PDAG(["age", "bmi", "crp"], bidirected=[("age", "crp")]), data)


# --------------------------------------------------------------------------- DoWhy
def _fisherz_for_dowhy(X, Y, Z=None):
    """causal-learn's Fisher-z test (a peer implementation), called the way dowhy calls a CI test."""
    from causallearn.utils.cit import CIT

    a = np.column_stack([X.reshape(-1, 1), Y.reshape(-1, 1)] + ([Z.reshape(len(X), -1)] if Z is not None else []))
    return CIT(a, "fisherz")(0, 1, list(range(2, a.shape[1])))


@pytest.mark.slow
@pytest.mark.parametrize("relabel", [False, True])
def test_parity_with_dowhy_falsify_graph(relabel):
    """Same statements, p-values to 1e-10, counts, LMC and informativeness p-values (all 720 permutations)."""
    import dowhy.gcm.config as config
    import dowhy.gcm.falsify as falsify

    config.disable_progress_bars()
    truth = nx.DiGraph([("A", "B"), ("C", "B"), ("C", "D"), ("B", "E"), ("D", "F"), ("E", "F")])
    data = _linear_data(truth, 500, seed=4)
    graph = nx.relabel_nodes(truth, dict(zip("ABCDEF", "FDBEAC"))) if relabel else truth
    ours = check_graph(graph, data, n_permutations=1000)
    np.random.seed(0)
    theirs = falsify.falsify_graph(graph, data, independence_test=_fisherz_for_dowhy,
                                   conditional_independence_test=_fisherz_for_dowhy, n_permutations=-1, n_jobs=1)
    lmc = theirs.summary[falsify.FalsifyConst.VALIDATE_LMC]
    tpa = theirs.summary[falsify.FalsifyConst.VALIDATE_TPA]
    local = lmc[falsify.FalsifyConst.LOCAL_VIOLATION_INSIGHT]
    mine = {(r.x, r.y): (r.pvalue, r.violated) for r in ours.table.itertuples()}
    assert set(mine) == set(local)
    for key, (p, violated) in mine.items():
        assert abs(p - local[key][0]) < 1e-10 and violated == local[key][1], key
    assert ours.n_implied == lmc[falsify.FalsifyConst.N_TESTS]
    assert ours.n_violated == lmc[falsify.FalsifyConst.GIVEN_VIOLATIONS]
    assert ours.exhaustive and ours.n_permutations == 720
    assert ours.permutation_pvalue == pytest.approx(lmc[falsify.FalsifyConst.P_VALUE], abs=1e-12)
    np.testing.assert_allclose(ours.permutation_violations, lmc[falsify.FalsifyConst.F_PERM_VIOLATIONS])
    assert ours.same_class_fraction == pytest.approx(tpa[falsify.FalsifyConst.P_VALUE], abs=1e-12)
    assert ours.informative == theirs.falsifiable
    assert (ours.permutation_pvalue > ours.alpha and ours.informative) == theirs.falsified


# --------------------------------------------------------------------------- check_mechanisms
def test_linear_mechanisms_score_their_closed_forms():
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.normal(size=n)
    data = pd.DataFrame({"X": x, "Y": 2 * x + rng.normal(size=n)})
    res = check_mechanisms({"X": [], "Y": ["X"]}, data, random_state=0)
    assert isinstance(res, MechanismCheck) and res.n_folds == 5
    y = res.table.set_index("node").loc["Y"]
    assert y["mechanism"] == "linear" and y["parents"] == ("X",)
    assert abs(y["r2"] - 0.8) < 0.02  # var(2X) / var(Y) = 4 / 5
    assert abs(y["loglik"] - (-0.5 * math.log(2 * math.pi * math.e))) < 0.04  # N(0, 1) noise: -entropy
    assert y["residual_dependent"] == False  # noqa: E712 (a pandas boolean)
    root = res.table.set_index("node").loc["X"]
    assert math.isnan(root["r2"]) and root["r2_status"] == "not applicable: root node"
    assert root["residual_status"] == "not applicable: root node" and root["residual_dependent"] is pd.NA
    assert abs(root["loglik"] - (-0.5 * math.log(2 * math.pi * math.e))) < 0.04
    assert "from 0.80 (Y)" in res.verdict and "does not show that the mechanisms are right" in res.verdict


@pytest.mark.parametrize("residual_test", ["kci", "fisherz"])
def test_a_linear_fit_of_a_nonlinear_mechanism_leaves_dependent_residuals(residual_test):
    rng = np.random.default_rng(1)
    n = 600
    x = rng.normal(size=n)
    data = pd.DataFrame({"X": x, "Y": x + 0.5 * rng.normal(size=n), "Z": x**2 + 0.5 * x + 0.3 * rng.normal(size=n)})
    graph = {"X": [], "Y": ["X"], "Z": ["X"]}
    linear = check_mechanisms(graph, data, residual_test=residual_test, random_state=0).table.set_index("node")
    assert linear.loc["Z", "residual_dependent"] and linear.loc["Z", "residual_pvalue"] < 1e-6
    assert not linear.loc["Y", "residual_dependent"]
    right = check_mechanisms(graph, data, mechanism={"Z": "quadratic"}, residual_test=residual_test, random_state=0)
    right = right.table.set_index("node")
    assert right.loc["Z", "mechanism"] == "quadratic" and right.loc["Y", "mechanism"] == "linear"
    assert not right.loc["Z", "residual_dependent"] and right.loc["Z", "r2"] > linear.loc["Z", "r2"] + 0.4


def test_kci_accepts_a_spline_fit_of_a_smooth_mechanism():
    rng = np.random.default_rng(1)
    x = rng.normal(size=600)
    data = pd.DataFrame({"X": x, "Z": np.sin(2 * x) + x**2 + 0.3 * rng.normal(size=600)})
    res = check_mechanisms({"X": [], "Z": ["X"]}, data, mechanism="spline", random_state=0).table.set_index("node")
    assert not res.loc["Z", "residual_dependent"] and res.loc["Z", "r2"] > 0.9


def test_a_fitted_scm_is_refitted_with_its_own_kinds():
    rng = np.random.default_rng(2)
    x = rng.normal(size=800)
    data = pd.DataFrame({"X": x, "Y": x + 0.3 * rng.normal(size=800), "Z": x**2 + 0.3 * rng.normal(size=800)})
    model = SCM.fit({"X": [], "Y": ["X"], "Z": ["X"]}, data, mechanism="auto", random_state=0)
    assert model.fitted_mechanisms_["Z"] != "linear"
    res = check_mechanisms(model, data, random_state=0).table.set_index("node")
    assert res.loc["Z", "mechanism"] == model.fitted_mechanisms_["Z"] and not res.loc["Z", "residual_dependent"]
    hand = SCM(nx.DiGraph([("X", "Y")]), {"X": scm.Linear({}), "Y": scm.Functional(lambda p, e: p[:, 0] + e)})
    with pytest.raises(ParameterError, match="cannot refit the mechanism of node 'Y' \\(Functional\\): pass mechanism="):
        check_mechanisms(hand, data)
    assert check_mechanisms(hand, data, mechanism="linear").table["node"].tolist() == ["X", "Y"]


def test_discrete_nodes_score_their_conditional_entropy():
    table = np.array([[0.9, 0.1], [0.3, 0.7]])
    model = SCM(nx.DiGraph([("A", "B")]), {"A": scm.Discrete([0.4, 0.6]), "B": scm.Discrete(table, parents=["A"])})
    data = model.sample(6000, random_state=0).astype(int)
    res = check_mechanisms(model, data, random_state=0).table.set_index("node")
    entropy = -np.sum(table * np.log(table), axis=1)  # H(B | A = a)
    assert abs(res.loc["B", "loglik"] + (0.4 * entropy[0] + 0.6 * entropy[1])) < 0.02
    assert abs(res.loc["A", "loglik"] + stats.entropy([0.4, 0.6])) < 0.02
    assert (res["r2_status"] == "not applicable: discrete node").all() and res["r2"].isna().all()


def test_a_constant_child_is_undefined_not_inapplicable():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"X": rng.normal(size=50), "Y": np.full(50, 2.0)})
    row = check_mechanisms({"X": [], "Y": ["X"]}, data, random_state=0).table.set_index("node").loc["Y"]
    assert math.isnan(row["r2"]) and row["r2_status"] == "undefined: constant column"
    assert row["residual_status"].startswith("undefined: residuals are constant")


def test_check_mechanisms_bad_input_is_named():
    g = {"age": [], "bmi": ["age"]}
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"age": rng.normal(size=30), "bmi": rng.normal(size=30)})
    with pytest.raises(ParameterError, match="'n_folds' parameter of check_mechanisms must be in the range"):
        check_mechanisms(g, data, n_folds=1)
    with pytest.raises(ParameterError, match=r"'n_folds' parameter of check_mechanisms must be at most the number of rows \(30\)"):
        check_mechanisms(g, data, n_folds=31)
    with pytest.raises(ParameterError, match="'residual_test' parameter of check_mechanisms"):
        check_mechanisms(g, data, residual_test="hsic")
    with pytest.raises(DataError, match="'bmi'"):
        check_mechanisms(g, data.assign(bmi=np.r_[np.nan, data["bmi"].to_numpy()[1:]]))
    with pytest.raises(UnknownNodeError, match="bmi"):
        check_mechanisms(g, data[["age"]])


# --------------------------------------------------------------------------- the report
def test_write_report_shows_the_checks(tmp_path):
    g = nx.DiGraph([("A", "B"), ("B", "C")])
    data = _linear_data(g, 300, seed=5)
    graph_check = check_graph(nx.DiGraph([("A", "C"), ("C", "B")]), data)
    mechanism_check = check_mechanisms(g, data, residual_test="fisherz", random_state=0)
    results = pd.DataFrame({"algorithm": ["pc"], "dataset": ["d"], "seed": [0], "shd": [1.0], "status": ["ok"], "error": [""]})
    page = write_report(results, tmp_path / "r", checks={"my graph": graph_check, "my model": mechanism_check})
    text = page.read_text()
    assert "<h2>Checks against the data</h2>" in text
    assert "my graph: graph against the data" in text and "my model: mechanisms against held-out data" in text
    assert "The data contradict the graph at alpha=0.05" in text and "background:#ffebee" in text
    results.attrs["checks"] = [graph_check]
    assert "GraphCheck: graph against the data" in write_report(results, tmp_path / "s").read_text()
    with pytest.raises(ParameterError, match="'checks' parameter of write_report must hold results"):
        write_report(results, tmp_path / "t", checks={"x": 3})
    with pytest.raises(ParameterError, match="'checks' parameter of write_report must be a result"):
        write_report(results, tmp_path / "u", checks=3)
    assert not (tmp_path / "t").exists() and not (tmp_path / "u").exists()  # refused before anything is written
    assert isinstance(graph_check, GraphCheck) and "<h3>" in graph_check._repr_html_()
