"""Root-cause ranking: closed forms of the scores, peers for the tests, the lagged window, errors, accuracy."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import estimators
from estimators import prepare_windows, rank_root_causes, rank_scores
from estimators._rootcause import _fisherz_logp, _gsquare_logp
from scm import DataError, GraphError, LaggedGraph, NotFittedError, ParameterError, UnknownNodeError
from scm.simulate import fault_dataset

CHAIN = nx.DiGraph([("A", "B"), ("B", "C")])


def _windows(shift_node="B", delta=3.0, n=300, m=60, seed=0):
    """The chain A -> B -> C (weights 0.8, unit noise); ``shift_node``'s mechanism shifted by ``delta`` in the fault window."""
    rng = np.random.default_rng(seed)

    def draw(k, d):
        a = rng.normal(size=k) + (d if shift_node == "A" else 0)
        b = 0.8 * a + rng.normal(size=k) + (d if shift_node == "B" else 0)
        c = 0.8 * b + rng.normal(size=k) + (d if shift_node == "C" else 0)
        return pd.DataFrame({"A": a, "B": b, "C": c})

    return draw(n, 0.0), draw(m, delta)


# ----------------------------------------------------------------------------- scores, against closed forms and peers
def test_zscore_is_the_largest_standardised_deviation():
    normal, fault = _windows()
    table = rank_root_causes(normal, fault, method="zscore")
    expected = ((fault - normal.mean()).abs().max() / normal.std(ddof=1)).sort_values(ascending=False)
    assert table.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(table["score"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert table["rank"].tolist() == [1, 2, 3]


def test_fisherz_pvalue_closed_form_without_conditioning():
    normal, fault = _windows(delta=0.3)
    x = np.r_[normal["B"], fault["B"]]
    f = np.r_[np.zeros(len(normal)), np.ones(len(fault))]
    r = np.corrcoef(x, f)[0, 1]
    expected = 2 * stats.norm.sf(abs(np.arctanh(r)) * np.sqrt(len(x) - 3))
    assert np.exp(_fisherz_logp(x, f, np.empty((len(x), 0)))) == pytest.approx(expected, rel=1e-10)


@pytest.mark.slow
def test_fisherz_pvalue_equals_causal_learn():
    from causallearn.utils.cit import CIT

    normal, fault = _windows(delta=0.3)
    data = pd.concat([normal, fault], ignore_index=True)
    f = np.r_[np.zeros(len(normal)), np.ones(len(fault))]
    arr = np.column_stack([data.to_numpy(), f])
    test = CIT(arr, "fisherz")
    for x, z in ((1, []), (1, [0]), (2, [1]), (2, [0, 1])):
        ours = np.exp(_fisherz_logp(arr[:, x], f, arr[:, z].reshape(len(f), -1)))
        assert ours == pytest.approx(test(x, 3, z), rel=1e-6)


def test_gsquare_without_conditioning_equals_scipy_g_test():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    f = (rng.random(400) < 0.3).astype(float)
    x[f == 1] += 0.4
    ours = np.exp(_gsquare_logp(x, f, np.empty((400, 0)), 4))
    edges = np.unique(np.quantile(x, [0.25, 0.5, 0.75]))
    table = np.zeros((4, 2))
    np.add.at(table, (np.searchsorted(edges, x, side="right"), f.astype(int)), 1)
    g2, p, *_ = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    assert ours == pytest.approx(p, rel=1e-9)


def test_rcd_with_the_graph_conditions_on_the_parents():
    normal, fault = _windows("B")
    table = rank_root_causes(normal, fault, CHAIN, method="rcd")
    assert table.index[0] == "B"
    # C depends on the fault indicator only through B: given B its p-value is not small
    assert table.loc["C", "score"] < 2.0 < table.loc["B", "score"]


def test_rcd_without_a_graph_searches_small_conditioning_sets():
    normal, fault = _windows("B")
    assert rank_root_causes(normal, fault, method="rcd", max_conditioning=1).index[0] == "B"
    calls = []

    def ci_test(x, f, Z):
        calls.append(Z.shape[1])
        return 0.5

    table = rank_root_causes(normal, fault, method="rcd", ci_test=ci_test, max_conditioning=1)
    assert sorted(set(calls)) == [0, 1] and len(calls) == 3 * 3  # per variable: {} and each of the two others
    np.testing.assert_allclose(table["score"], -np.log10(0.5))


def test_random_walk_is_a_distribution_over_the_variables():
    normal, fault = _windows("A")
    table = rank_root_causes(normal, fault, CHAIN, method="random_walk")
    assert table["score"].sum() == pytest.approx(1.0) and (table["score"] > 0).all()
    with_target = rank_root_causes(normal, fault, CHAIN, target="C", method="random_walk", restart=0.3)
    assert set(with_target.index) == {"A", "B", "C"}


def test_attribution_ranks_the_shifted_node_first_with_and_without_target():
    normal, fault = _windows("B")
    assert rank_root_causes(normal, fault, CHAIN, random_state=0).index[0] == "B"
    table = rank_root_causes(normal, fault, CHAIN, target="C", random_state=0)
    assert table.index[0] == "B" and table.attrs["method"] == "attribution"


def test_bootstrap_columns_and_frequencies():
    normal, fault = _windows("B", delta=4.0)
    table = rank_root_causes(normal, fault, CHAIN, method="rcd", n_bootstrap=10, random_state=0)
    assert list(table.columns) == ["score", "rank", "rank1_frequency", "top3_frequency", "score_low", "score_high"]
    assert table.loc["B", "rank1_frequency"] == 1.0 and (table["top3_frequency"] == 1.0).all()
    assert (table["score_low"] <= table["score_high"]).all()
    again = rank_root_causes(normal, fault, CHAIN, method="rcd", n_bootstrap=10, random_state=0)
    pd.testing.assert_frame_equal(table, again)


def test_rank_scores_ties_share_the_best_rank():
    table = rank_scores(pd.Series({"A": 1.0, "B": 1.0, "C": 0.0}))
    assert table["rank"].tolist() == [1, 1, 3]


# ----------------------------------------------------------------------------- time series
def test_prepare_windows_builds_the_lagged_window():
    data = pd.DataFrame({"X": np.arange(12.0), "Y": np.arange(12.0) ** 2})
    g = LaggedGraph(["X", "Y"], directed=[("X", "Y", 2), ("Y", "Y", 1)])
    win = prepare_windows(data, data.iloc[:5], g)
    assert win.kind == "time_series" and len(win.normal) == 10 and len(win.fault) == 3
    assert set(win.parents["Y"]) == {"X[t-2]", "Y[t-1]"} and win.parents["X"] == []
    np.testing.assert_array_equal(win.normal["X[t-2]"].to_numpy(), np.arange(10.0))
    np.testing.assert_array_equal(win.normal["Y[t-1]"].to_numpy(), np.arange(1.0, 11.0) ** 2)
    assert sorted(win.dag.predecessors("Y")) == ["X[t-2]", "Y[t-1]"]


def test_time_series_shift_is_found_by_every_method():
    case = fault_dataset("time_series", "shift", n_nodes=4, n_normal=300, n_fault=60, strength=3.0, random_state=2)
    for method in ("attribution", "rcd", "zscore"):
        table = rank_root_causes(case.normal, case.fault, case.graph, method=method, random_state=0)
        assert table.index[0] == case.root_cause, method
        assert table.attrs["kind"] == "time_series"


# ----------------------------------------------------------------------------- errors
def test_named_errors():
    normal, fault = _windows()
    with pytest.raises(NotFittedError, match="model"):
        rank_root_causes(normal, fault, CHAIN, model="fitted?")
    with pytest.raises(UnknownNodeError, match="'Z'"):
        rank_root_causes(normal, fault, CHAIN, target="Z", method="zscore")
    with pytest.raises(UnknownNodeError, match="'D'"):
        rank_root_causes(normal, fault, nx.DiGraph([("A", "B"), ("B", "C"), ("C", "D")]), method="rcd")
    with pytest.raises(DataError, match="normal window has 5 rows; at least 10"):
        rank_root_causes(normal.iloc[:5], fault, CHAIN)
    with pytest.raises(DataError, match="fault window has 0 rows"):
        rank_root_causes(normal, fault.iloc[:0], CHAIN)
    with pytest.raises(GraphError, match="target 'A' has no ancestors"):
        rank_root_causes(normal, fault, CHAIN, target="A")
    with pytest.raises(GraphError, match="needs a graph"):
        rank_root_causes(normal, fault, method="random_walk")
    with pytest.raises(ParameterError, match="'target' parameter.*distribution_change"):
        rank_root_causes(normal, fault, CHAIN, method="distribution_change")
    with pytest.raises(ParameterError, match="'method'.*'pagerank'"):
        rank_root_causes(normal, fault, CHAIN, method="pagerank")
    with pytest.raises(UnknownNodeError, match="only in the fault window: \\['D'\\]"):
        rank_root_causes(normal, fault.assign(D=1.0), CHAIN)
    with pytest.raises(ParameterError, match="returned 2.0"):
        rank_root_causes(normal, fault, CHAIN, method="rcd", ci_test=lambda x, f, Z: 2.0)


def test_time_series_errors():
    data = pd.DataFrame({"X": np.arange(20.0), "Y": np.sin(np.arange(20.0))})
    g = LaggedGraph(["X", "Y"], directed=[("X", "Y", 3)], undirected=[("X", "Y")])
    with pytest.raises(GraphError, match="contemporaneous edge directed"):
        rank_root_causes(data, data, g, method="attribution")
    with pytest.raises(DataError, match="fault window has 3 rows; at least 4"):
        rank_root_causes(data, data.iloc[:3], g, method="rcd")
    with pytest.raises(ParameterError, match="static data"):
        import scm

        rank_root_causes(data, data, g, model=scm.SCM.fit(nx.DiGraph([("X", "Y")]), data), method="attribution")


def test_public_names():
    assert {"rank_root_causes", "prepare_windows", "rank_scores"} <= set(estimators.__all__)


# ----------------------------------------------------------------------------- accuracy (slow)
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["static", "time_series"])
@pytest.mark.parametrize("fault", ["shift", "mechanism"])
def test_attribution_accuracy_on_injected_faults(kind, fault):
    top1 = []
    for seed in range(12):
        case = fault_dataset(kind, fault, n_nodes=6, n_normal=300, n_fault=60, random_state=seed)
        table = rank_root_causes(case.normal, case.fault, case.graph, target=case.target, random_state=0)
        top1.append(table.index[0] == case.root_cause)
    assert np.mean(top1) >= 0.8


@pytest.mark.slow
def test_microservice_outlier_is_the_caching_service():
    from scm.datasets import load_microservice_anomaly, microservice_graph, microservice_scm

    normal = microservice_scm().sample(2000, random_state=0)
    for method in ("attribution", "shapley", "zscore"):
        table = rank_root_causes(normal, load_microservice_anomaly(), microservice_graph(), target="Website", method=method,
                                 random_state=0)  # fmt: skip
        assert table.index[0] == "Caching Service", method
