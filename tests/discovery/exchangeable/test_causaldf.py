"""Causal de Finetti: the oracle, the pairing of rows, the level of the combined tests, named errors."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from discovery import CausalDeFinetti, DSeparation
from discovery.exchangeable import (
    bivariate_rule,
    bivariate_tests,
    combine_pvalues,
    layer_edges,
    pair_samples,
    sink_layers,
    split_groups,
    two_sample_frames,
    two_sample_graph,
)
from scm import DataError, ParameterError, UnknownNodeError
from scm.simulate import grouped, random_dag


def _placeholder_frame(dag, n_groups=10, seed=0):
    """Data with the DAG's columns: the oracle reads only the names."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(2 * n_groups, dag.number_of_nodes())), columns=list(dag.nodes))
    return frame.assign(group=np.repeat(np.arange(n_groups), 2))


@pytest.mark.slow
def test_oracle_recovers_the_dag_on_50_random_dags():
    """d-separation in the two-sample graph identifies the unique DAG (not only its equivalence class)."""
    for seed in range(50):
        d = 2 + seed % 7  # 2 .. 8 nodes
        dag = random_dag(d, expected_degree=min(3, d - 1), random_state=seed)
        oracle = DSeparation(two_sample_graph(dag))
        model = CausalDeFinetti(ci_test=oracle).fit(_placeholder_frame(dag))
        assert set(model.graph_.edges) == set(dag.edges), (seed, sorted(dag.edges), sorted(model.graph_.edges))
        rank = {v: i for i, layer in enumerate(model.order_) for v in layer}
        assert all(rank[u] > rank[v] for u, v in dag.edges)  # layers are numbered from the sinks


def test_oracle_orients_what_pc_cannot():
    """A chain and its reversal share their CPDAG; the oracle tells them apart, phase by phase."""
    for dag in (nx.DiGraph([("A", "B"), ("B", "C")]), nx.DiGraph([("C", "B"), ("B", "A")])):
        oracle = DSeparation(two_sample_graph(dag))
        nodes = list(dag.nodes)
        order, sinks = sink_layers(oracle, nodes)
        assert order == [[list(nx.topological_sort(dag))[-1]], ["B"], [list(nx.topological_sort(dag))[0]]]
        graph, edges = layer_edges(oracle, nodes, order)
        assert set(graph.edges) == set(dag.edges)
        assert set(sinks["phase"]) == {"sink"} and set(edges["phase"]) == {"edge"}


def test_bivariate_oracle_and_rule():
    for edges, expected in (([("X", "Y")], "X -> Y"), ([("Y", "X")], "Y -> X"), ([], "none")):
        dag = nx.DiGraph()
        dag.add_nodes_from(["X", "Y"])
        dag.add_edges_from(edges)
        table = bivariate_tests(DSeparation(two_sample_graph(dag)), ["X", "Y"])
        assert bivariate_rule(*table["pvalue"].tolist()) == expected
    assert bivariate_rule(0.01, 0.02, 0.03) == "none"  # nothing passes: the largest p-value wins
    with pytest.raises(ParameterError, match="alpha"):
        bivariate_rule(0.5, 0.5, 0.5, alpha=2.0)


def test_pairing_uses_rows_as_documented():
    codes = np.repeat(np.arange(12), 5)
    disjoint = pair_samples(codes, pairing="disjoint", random_state=0)
    assert [len(layer) for layer in disjoint] == [12, 12]  # two pairs per group of 5, one row left out
    used = np.concatenate([layer.ravel() for layer in disjoint])
    assert len(used) == len(set(used)) == 48
    for layer in disjoint:  # one pair per group per layer, both rows from that group
        assert sorted(codes[layer[:, 0]]) == list(range(12)) and (codes[layer[:, 0]] == codes[layer[:, 1]]).all()
    assert len(pair_samples(codes, pairing="all")) == 20  # ordered pairs of 5 rows
    assert pair_samples(codes, pairing="first")[0][:2].tolist() == [[0, 1], [5, 6]]
    rest = pair_samples(codes, pairing="rest", random_state=0)
    assert [layer.shape for layer in rest] == [(12, 5)] * 5  # each row once as sample (1), against the other four
    for layer in rest:
        assert (codes[layer] == codes[layer[:, :1]]).all() and all(len(set(row)) == 5 for row in layer.tolist())
    frame = pd.DataFrame({"v": np.arange(60.0)})
    summed = two_sample_frames(frame, rest[:1])[0]
    assert np.allclose(summed["v^(1)"] + summed["v^(2)"], frame.groupby(codes)["v"].sum())  # sample (2): the other rows' sum
    few = pair_samples(np.r_[np.repeat(np.arange(20), 2), np.repeat([20, 21], 4)], pairing="disjoint")
    assert [len(layer) for layer in few] == [22]  # a second layer of 2 groups is dropped


def test_cauchy_combination_keeps_its_level_under_dependence():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5000, 1)) * np.ones((1, 3)) * 0.8 + 0.6 * rng.normal(size=(5000, 3))  # correlated
    from scipy.stats import norm

    p = norm.sf(z)
    combined = combine_pvalues(p.T)
    assert 0.04 < np.mean(combined < 0.05) < 0.062
    assert combine_pvalues([[0.3]]).tolist() == [0.3]


def test_fisherz_orients_a_linear_pair_and_reports_every_test():
    ds = grouped({"A": [], "B": ["A"]}, n_groups=400, group_size=4, kind="linear", random_state=3)
    model = CausalDeFinetti(ci_test="fisherz").fit(ds.data)
    assert model.direction_ == "A -> B" and list(model.graph_.edges) == [("A", "B")]
    assert model.order_ == [["B"], ["A"]] and model.n_layers_ == 2 and model.n_groups_ == 400
    assert model.pvalues_[["x", "y"]].values.tolist() == [["A^(1)", "B^(2)"], ["B^(1)", "A^(2)"], ["A^(1)", "B^(1)"]]
    assert model.pvalues_["pvalue"].between(0, 1).all()


@pytest.mark.slow
def test_binary_chain_with_gsq_matches_the_truth():
    dag = nx.DiGraph([("A", "B"), ("B", "C")])
    ds = grouped(dag, n_groups=10000, group_size=2, kind="binary", random_state=1)  # the paper needs thousands
    model = CausalDeFinetti(ci_test="gsq").fit(ds.data.drop(columns="group"), groups=ds.data["group"].to_numpy())
    assert set(model.graph_.edges) == set(dag.edges)


def test_rest_pairing_runs_the_multivariate_procedure_on_two_variables():
    ds = grouped({"A": [], "B": ["A"]}, n_groups=400, group_size=4, kind="linear", random_state=3)
    model = CausalDeFinetti(ci_test="fisherz", pairing="rest").fit(ds.data)
    assert set(model.pvalues_["phase"]) == {"sink", "edge"} and model.n_layers_ == 4
    assert model.direction_ == "A -> B" and list(model.graph_.edges) == [("A", "B")]
    with pytest.raises(ParameterError, match="rest"):
        CausalDeFinetti(ci_test="fisherz", pairing="rest", procedure="bivariate").fit(ds.data)


def test_groups_as_an_array_give_the_column_result():
    ds = grouped({"A": [], "B": ["A"], "C": ["B"]}, n_groups=60, group_size=2, random_state=0)
    by_name = CausalDeFinetti(ci_test="fisherz").fit(ds.data, groups="group")
    by_array = CausalDeFinetti(ci_test="fisherz").fit(ds.data.drop(columns="group"), groups=ds.data["group"].to_numpy())
    assert by_name.pvalues_.equals(by_array.pvalues_)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d.assign(group=np.r_[99, d["group"].to_numpy()[1:]]), DataError, "single row"),
        (lambda d: d.drop(columns="group"), UnknownNodeError, "'group'"),
        (lambda d: d.assign(group=7), DataError, "constant"),
        (lambda d: d.assign(group=np.arange(len(d)) % 2), DataError, "2 group"),
        (lambda d: d.assign(A=np.r_[np.nan, d["A"].to_numpy()[1:]]), DataError, "'A'"),
        (lambda d: d.assign(group=np.r_[np.nan, d["group"].to_numpy()[1:]]), DataError, "NaN"),
    ],
)
def test_bad_input_gets_named_errors(change, error, match):
    data = grouped({"A": [], "B": ["A"]}, n_groups=10, group_size=2, random_state=0).data
    with pytest.raises(error, match=match):
        CausalDeFinetti(ci_test="fisherz").fit(change(data))


def test_bad_parameters_are_named():
    data = grouped({"A": [], "B": ["A"], "C": []}, n_groups=10, group_size=2, random_state=0).data
    with pytest.raises(ParameterError, match="pairing"):
        CausalDeFinetti(pairing="every").fit(data)
    with pytest.raises(ParameterError, match="bivariate"):
        CausalDeFinetti(ci_test="fisherz", procedure="bivariate").fit(data)
    with pytest.raises(ParameterError, match="two-sample"):
        CausalDeFinetti(ci_test=DSeparation(nx.DiGraph([("A", "B")]))).fit(data)
    with pytest.raises(ParameterError, match="two-sample"):  # the oracle's columns must follow the nodes
        sink_layers(DSeparation(two_sample_graph(nx.DiGraph([("B", "A")]))), ["A", "B"])
    with pytest.raises(ParameterError, match="order"):
        variables, codes = split_groups(data)
        from discovery import FisherZ

        layer_edges(FisherZ(two_sample_frames(variables, pair_samples(codes))[0]), ["A", "B", "C"], [["A"], ["B"]])


@pytest.mark.slow
def test_level_of_the_combined_cross_sample_test():
    """X^(1) _||_ Y^(2) | X^(2) holds when X -> Y: over 200 data sets of 100 groups x 4 rows (two layers,
    Cauchy-combined), Fisher-z rejects at alpha = 0.05 in 2 - 8 % of them."""
    rejected = []
    for seed in range(200):
        ds = grouped({"X": [], "Y": ["X"]}, n_groups=100, group_size=4, kind="linear", random_state=seed)
        p_xy = CausalDeFinetti(ci_test="fisherz").fit(ds.data).pvalues_["pvalue"].iloc[0]
        rejected.append(p_xy < 0.05)
    assert 0.02 <= np.mean(rejected) <= 0.08
