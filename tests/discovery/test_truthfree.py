"""compare without a known truth: edge counts, agreement, consensus, the held-out log-likelihood, notes."""

import math
import pathlib

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from discovery import PC, PCMCI, PCMCIPlus, bootstrap, compare
from discovery.evaluation import (
    agreement_matrix,
    build_tasks,
    consensus_graph,
    edge_counts,
    edge_frequencies,
    heldout_loglik,
    run_default_suite,
)
from discovery.metrics import shd
from scm import PDAG, DataError, GraphError, LaggedGraph, ParameterError, UnknownNodeError


class Fixed:
    """An 'algorithm' that returns a given graph (a DiGraph or PDAG over the data's columns)."""

    def __init__(self, graph=None):
        self.graph = graph

    def get_params(self, deep=True):
        return {"graph": self.graph}

    def set_params(self, **params):
        self.graph = params.get("graph", self.graph)
        return self

    def fit(self, data):
        self.graph_ = self.graph if self.graph is not None else PDAG(list(data.columns))
        return self


@pytest.fixture(scope="module")
def linear():
    """A linear-Gaussian SCM on a 5-node DAG whose class has 6 DAGs; PC finds that CPDAG (2 directed, 3 undirected edges)."""
    return scm.simulate.simulate(n_nodes=5, n_samples=400, expected_degree=2, scm_kind="linear", random_state=2)


@pytest.fixture(scope="module")
def truth_free(linear):
    """PC and an oracle that returns the true DAG, on the data with the truth dropped."""
    return compare({"pc": PC(), "oracle": Fixed(linear.graph)}, {"shop": linear.data}, executor="sequential")


# --------------------------------------------------------------------------- the table
def test_truth_free_table_reports_edges_agreement_and_fit_not_nan(truth_free):
    res = truth_free
    assert list(res["status"]) == ["ok", "ok"]
    for col in ("shd", "sid", "skeleton_f1", "arrowhead_f1", "average_precision"):
        assert col not in res.columns  # need a truth: absent, not NaN
    cols = ["n_edges", "n_directed", "n_undirected", "n_bidirected", "mean_shd_to_others", "heldout_loglik", "heldout_loglik_se"]
    assert res[cols].notna().all().all()
    assert "n_lagged" not in res.columns and "stability" not in res.columns  # no time series, no bootstrap asked
    assert list(res.columns[-6:]) == ["fit_seconds", "status", "error", "notes", "warnings", "cached"]
    assert (res["notes"] == "").all()  # every value there, nothing to explain


def test_edge_counts_are_those_of_the_learned_graphs(truth_free):
    for r in truth_free.itertuples(index=False):
        g = truth_free.attrs["graphs"][(r.algorithm, r.dataset, r.seed)]
        assert (r.n_directed, r.n_undirected, r.n_bidirected) == (
            len(g.directed_edges), len(g.undirected_edges), len(g.bidirected_edges))
        assert r.n_edges == len(g.directed_edges) + len(g.undirected_edges) + len(g.bidirected_edges)
    # PC learns the CPDAG: undirected edges; the oracle a DAG
    table = truth_free.set_index("algorithm")
    assert table.loc["pc", "n_undirected"] == 3 and table.loc["oracle", "n_undirected"] == 0


def test_a_cpdag_scores_as_the_dags_of_its_class_through_the_harness(truth_free, linear):
    """PC recovers the true CPDAG here: its held-out score is the true DAG's, on the same folds."""
    graphs = truth_free.attrs["graphs"]
    assert graphs[("pc", "shop", 0)] == scm.cpdag(linear.graph)
    table = truth_free.set_index("algorithm")
    assert table.loc["pc", "heldout_loglik"] == pytest.approx(table.loc["oracle", "heldout_loglik"], rel=1e-12)


def test_agreement_matrix_is_the_shd_between_outputs(truth_free):
    graphs = truth_free.attrs["graphs"]
    m = truth_free.attrs["agreement"][("shop", 0)]
    pc, nt = graphs[("pc", "shop", 0)], graphs[("oracle", "shop", 0)]
    assert list(m.index) == list(m.columns) == ["pc", "oracle"]
    assert (np.diag(m.to_numpy()) == 0).all() and (m.to_numpy() == m.to_numpy().T).all()
    assert m.loc["pc", "oracle"] == shd(pc, nt) == shd(nt, pc) > 0
    assert list(truth_free["mean_shd_to_others"]) == [shd(pc, nt)] * 2


def test_agreement_matrix_three_graphs_and_shared_nodes():
    a = PDAG("ABC", directed=[("A", "B"), ("B", "C")])
    b = PDAG("ABC", directed=[("B", "A")], undirected=[("B", "C")])
    c = PDAG("ABC")
    m = agreement_matrix({"a": a, "b": b, "c": c})
    expected = [[0, 2, 2], [2, 0, 2], [2, 2, 0]]
    assert m.to_numpy().tolist() == expected
    for x, y in (("a", "b"), ("a", "c"), ("b", "c")):
        assert m.loc[x, y] == shd({"a": a, "b": b, "c": c}[x], {"a": a, "b": b, "c": c}[y])
    # a context node only one graph has is left out of the pair (CD-NOD against PC)
    ctx = PDAG(["A", "B", "C", "env"], directed=[("A", "B"), ("B", "C"), ("env", "A")])
    assert agreement_matrix([a, ctx]).iloc[0, 1] == 0
    lag_a = LaggedGraph(["X", "Y"], directed=[("X", "Y", 1)])
    lag_b = LaggedGraph(["X", "Y"], directed=[("X", "Y", 2)], undirected=[("X", "Y")])
    assert agreement_matrix([lag_a, lag_b]).iloc[0, 1] == 3
    with pytest.raises(GraphError, match="mix"):
        agreement_matrix([a, lag_a])
    with pytest.raises(ParameterError, match="at least one"):
        agreement_matrix({})


def test_consensus_and_edge_frequencies():
    g1 = PDAG("ABCD", directed=[("A", "B"), ("C", "B")], undirected=[("C", "D")])
    g2 = PDAG("ABCD", directed=[("A", "B"), ("B", "C")])
    g3 = PDAG("ABCD", directed=[("B", "A")], bidirected=[("C", "D")])
    freq = edge_frequencies({"g1": g1, "g2": g2, "g3": g3})
    got = {(r.source, r.target, r.kind): (r.count, r.frequency) for r in freq.itertuples(index=False)}
    assert got == {("A", "B", "directed"): (2, 2 / 3), ("B", "A", "directed"): (1, 1 / 3), ("C", "B", "directed"): (1, 1 / 3),
                   ("B", "C", "directed"): (1, 1 / 3), ("C", "D", "undirected"): (1, 1 / 3), ("C", "D", "bidirected"): (1, 1 / 3)}
    # A-B in 3/3 (A -> B by 2 of 3), B-C and C-D in 2/3 with no majority mark: undirected
    assert consensus_graph([g1, g2, g3]) == PDAG("ABCD", directed=[("A", "B")], undirected=[("B", "C"), ("C", "D")])
    assert consensus_graph([g1, g2, g3], threshold=0.7) == PDAG("ABCD", directed=[("A", "B")])
    assert consensus_graph([g1]) == g1  # one graph: itself
    lag = consensus_graph([LaggedGraph("XY", directed=[("X", "Y", 1), ("Y", "Y", 1)]), LaggedGraph("XY", directed=[("X", "Y", 1)])])
    assert lag == LaggedGraph("XY", directed=[("X", "Y", 1)])
    with pytest.raises(ParameterError, match="threshold"):
        consensus_graph([g1], threshold=1.0)


def test_consensus_in_the_table(truth_free):
    graphs = truth_free.attrs["graphs"]
    expected = consensus_graph([graphs[("pc", "shop", 0)], graphs[("oracle", "shop", 0)]])
    assert truth_free.attrs["consensus"][("shop", 0)] == expected
    freq = truth_free.attrs["edge_frequencies"][("shop", 0)]
    assert set(freq.columns) == {"source", "target", "kind", "count", "frequency"}


def test_edge_counts_of_lagged_graphs():
    g = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 1), ("Y", "Y", 2), ("X", "Z", 0)], undirected=[("Y", "Z")],
                    conflicting=[("X", "Y")])
    assert edge_counts(g) == {"n_edges": 5, "n_directed": 3, "n_undirected": 1, "n_bidirected": 1, "n_lagged": 2,
                              "n_contemporaneous": 3}
    with pytest.raises(GraphError, match="str"):
        edge_counts("X -> Y")


# --------------------------------------------------------------------------- held-out log-likelihood
def _loo_gaussian(dag: nx.DiGraph, data: pd.DataFrame) -> float:
    """Leave-one-out log-likelihood per row by hand: OLS per node and the MLE residual variance (numpy only)."""
    x = data.to_numpy(dtype=float)
    cols = list(data.columns)
    n = len(x)
    total = 0.0
    for i in range(n):
        train = np.delete(x, i, axis=0)
        for node in dag.nodes:
            j = cols.index(node)
            parents = [cols.index(p) for p in dag.predecessors(node)]
            design = np.column_stack([np.ones(n - 1)] + [train[:, p] for p in parents])
            beta, *_ = np.linalg.lstsq(design, train[:, j], rcond=None)
            var = np.mean((train[:, j] - design @ beta) ** 2)
            pred = beta[0] + sum(beta[k + 1] * x[i, p] for k, p in enumerate(parents))
            total += -0.5 * math.log(2 * math.pi * var) - 0.5 * (x[i, j] - pred) ** 2 / var
    return total / n


def test_heldout_loglik_matches_a_hand_computation():
    """Leave-one-out (n_folds = rows) makes the folds independent of the shuffle: compare with numpy."""
    model = scm.SCM.from_linear([[0, 1.5, 0.0], [0, 0, -0.7], [0, 0, 0]], nodes=["A", "B", "C"], noise_std=[1.0, 0.5, 2.0])
    data = model.sample(24, random_state=1) * [1.0, 10.0, 0.01]  # scales: the score is in the data's units
    for dag in (model.graph, nx.DiGraph([("A", "C"), ("B", "C")])):
        dag = dag.copy()
        dag.add_nodes_from("ABC")
        got = heldout_loglik(dag, data, n_folds=24)
        assert got["n_rows"] == 24 and got["n_folds"] == 24
        assert got["heldout_loglik"] == pytest.approx(_loo_gaussian(dag, data), rel=1e-10)


def test_true_graph_predicts_better_than_the_empty_graph(linear):
    empty = nx.empty_graph(list(linear.data.columns), create_using=nx.DiGraph)
    true = heldout_loglik(linear.graph, linear.data)
    none = heldout_loglik(empty, linear.data)
    gap = true["heldout_loglik"] - none["heldout_loglik"]
    assert gap > 10 * math.hypot(true["heldout_loglik_se"], none["heldout_loglik_se"])


def test_every_dag_of_a_markov_equivalence_class_has_the_same_score(linear):
    """Linear-Gaussian: one maximum-likelihood distribution per class, so one held-out score."""
    cls = scm.cpdag(linear.graph)
    dags = scm.dags_in_class(cls)
    assert len(dags) > 1
    scores = [heldout_loglik(d, linear.data, random_state=7)["heldout_loglik"] for d in dags]
    assert max(scores) - min(scores) < 1e-9 * abs(scores[0])
    assert heldout_loglik(cls, linear.data, random_state=7)["heldout_loglik"] == pytest.approx(scores[0], rel=1e-12)
    # a DAG outside the class scores differently: the test can fail
    other = linear.graph.copy()
    a, b = next(iter(other.edges))
    other.remove_edge(a, b)
    assert abs(heldout_loglik(other, linear.data, random_state=7)["heldout_loglik"] - scores[0]) > 1e-3


def test_heldout_loglik_of_lagged_graphs():
    ts = scm.simulate.time_series(n_series=3, n_timepoints=300, max_lag=1, random_state=0)
    truth = ts.metadata["lagged_graph"]
    got = heldout_loglik(truth, ts.data)
    assert got["n_rows"] == 299
    assert heldout_loglik(truth.cpdag(), ts.data)["heldout_loglik"] == pytest.approx(got["heldout_loglik"], rel=1e-12)
    assert got["heldout_loglik"] > heldout_loglik(LaggedGraph(truth.nodes, tau_max=1), ts.data)["heldout_loglik"] + 0.5
    with pytest.raises(GraphError, match="x-x"):
        heldout_loglik(LaggedGraph(truth.nodes, conflicting=[("X0", "X1")]), ts.data)
    with pytest.raises(ParameterError, match="context"):
        heldout_loglik(truth, ts.data, context="X0")


def test_heldout_loglik_conditions_on_the_context():
    dag = nx.DiGraph([("A", "B")])
    envs = scm.multi_environment(dag, n_environments=3, n_samples=200, changing=["B"], random_state=0)
    pooled = heldout_loglik(PDAG.from_networkx(dag), envs.data, context=envs.environment)
    with_ctx = PDAG(["A", "B", "environment"], directed=[("A", "B")], undirected=[("environment", "B")])  # oriented out of it
    conditioned = heldout_loglik(with_ctx, envs.data, context=envs.environment)
    assert conditioned["heldout_loglik"] > pooled["heldout_loglik"]
    with pytest.raises(UnknownNodeError, match="site"):
        heldout_loglik(dag, envs.data, context="site")
    with pytest.raises(DataError, match="environment"):  # an environment column must be named, not scored
        heldout_loglik(dag, envs.data)


def test_heldout_loglik_refuses_what_is_no_dag_model(linear):
    cols = list(linear.data.columns)
    with pytest.raises(GraphError, match="bidirected"):
        heldout_loglik(PDAG(cols, bidirected=[(cols[0], cols[1])]), linear.data)
    with pytest.raises(GraphError, match="cycle"):
        heldout_loglik(PDAG(cols, directed=[(cols[0], cols[1]), (cols[1], cols[0] if False else cols[2]), (cols[2], cols[0])]),
                       linear.data)
    with pytest.raises(GraphError, match="consistent extension"):
        heldout_loglik(PDAG(cols[:4] + [cols[4]], undirected=[(cols[0], cols[1]), (cols[1], cols[2]), (cols[2], cols[3]),
                                                              (cols[3], cols[0])]), linear.data)
    with pytest.raises(DataError, match=cols[4]):
        heldout_loglik(PDAG(cols[:4]), linear.data)  # a variable the graph lacks
    with pytest.raises(ParameterError, match="n_folds"):
        heldout_loglik(linear.graph, linear.data, n_folds=1)


def test_heldout_loglik_errors_name_the_data_columns():
    """Internal node names of the fitted design never reach the user."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    data = pd.DataFrame({"age": a, "twice_age": 2 * a, "crp": a + rng.normal(size=50)})
    with pytest.raises(DataError, match="age") as err:
        heldout_loglik(nx.DiGraph([("age", "crp"), ("twice_age", "crp")]), data)
    assert "'v0'" not in str(err.value) and "'v1'" not in str(err.value)


# --------------------------------------------------------------------------- notes: not applicable vs undefined
def test_notes_tell_not_applicable_from_undefined(linear):
    cols = list(linear.data.columns)
    bidirected = Fixed(PDAG(cols, bidirected=[(cols[0], cols[1])]))
    res = compare({"pc": PC(), "bi": bidirected}, {"sim": linear, "shop": linear.data}, executor="sequential")
    notes = res.attrs["notes"]
    # the truth-free dataset: the truth metrics do not apply
    assert notes[("pc", "shop", 0)]["shd"] == ("not applicable", "no true graph")
    # a graph with <->: no held-out score and no SID, whether or not a truth exists
    assert notes[("bi", "shop", 0)]["heldout_loglik"][0] == "undefined"
    assert notes[("bi", "sim", 0)]["sid_lower"] == ("undefined", "the estimate has <-> edges: it represents no DAG")
    row = res.set_index(["algorithm", "dataset"]).loc[("bi", "sim")]
    assert math.isnan(row["sid_lower"]) and math.isnan(row["heldout_loglik"]) and row["shd"] >= 1
    assert "heldout_loglik, heldout_loglik_se: undefined (the graph has 1 bidirected" in row["notes"]
    # PC's CPDAG on the truth dataset: the SID of a single DAG is undefined, its bounds are there
    pc = res.set_index(["algorithm", "dataset"]).loc[("pc", "sim")]
    assert pc["n_undirected"] > 0 and pc["n_bidirected"] == 0
    assert notes[("pc", "sim", 0)]["sid"][0] == "undefined" and not math.isnan(pc["sid_lower"])
    assert "average_precision" not in res.columns or notes[("pc", "sim", 0)]["average_precision"][0] == "not applicable"


def test_truth_mode_keeps_its_table_and_cache_keys(linear, tmp_path):
    """With a truth for every dataset, nothing truth-free is added: no notes column, the same keys."""
    res = compare({"pc": PC()}, {"sim": linear}, executor="sequential")
    assert "notes" not in res.columns and "heldout_loglik" not in res.columns and "agreement" not in res.attrs
    assert res.attrs["notes"][("pc", "sim", 0)] == {"sid": ("undefined", "the estimate is not a DAG: sid_lower and sid_upper "
                                                            "bound the SID of its class")}
    plan = build_tasks({"pc": PC()}, {"sim": linear}, cache_dir=tmp_path)
    free = build_tasks({"pc": PC()}, {"sim": linear.data}, cache_dir=tmp_path)
    assert plan.tasks[0].truth_free == frozenset() and free.tasks[0].truth_free
    assert plan.tasks[0].key != free.tasks[0].key


@pytest.mark.slow
def test_time_series_and_stability_columns():
    ts = scm.simulate.time_series(n_series=3, n_timepoints=300, max_lag=1, random_state=0)
    series = scm.Dataset(ts.data, kind="time_series")
    res = compare({"pcmci": PCMCI(tau_max=1), "pcmci+": PCMCIPlus(tau_max=1)}, {"ts": series}, executor="sequential",
                  n_bootstrap=2)
    graphs = res.attrs["graphs"]
    for r in res.itertuples(index=False):
        g = graphs[(r.algorithm, "ts", 0)]
        assert (r.n_lagged, r.n_contemporaneous) == (len(g.lagged_links), len(g.edges()) - len(g.lagged_links))
    assert res["stability"].between(0, 1).all()  # block resamples of the series (discovery.bootstrap)
    consensus = res.attrs["bootstrap_consensus"]
    assert set(consensus) == {("pcmci", "ts", 0), ("pcmci+", "ts", 0)} and all(isinstance(g, LaggedGraph) for g in consensus.values())


def test_stability_is_that_of_discovery_bootstrap(linear):
    res = compare({"pc": PC()}, {"shop": linear.data}, executor="sequential", n_bootstrap=5)
    direct = bootstrap(PC(), scm.Dataset(linear.data), n_resamples=5, random_state=0)
    assert res["stability"].iloc[0] == pytest.approx(direct.stability()) and 0 <= res["stability"].iloc[0] <= 1
    assert res.attrs["bootstrap_consensus"][("pc", "shop", 0)] == direct.consensus()


def test_a_failed_bootstrap_is_a_note_not_an_error(linear, monkeypatch):
    import discovery.evaluation._bootstrap as boot

    def broken(*args, **kwargs):
        raise scm.DataError("every resample failed")

    monkeypatch.setattr(boot, "bootstrap", broken)
    res = compare({"pc": PC()}, {"shop": linear.data}, executor="sequential", n_bootstrap=3)
    assert res["status"].iloc[0] == "ok" and math.isnan(res["stability"].iloc[0])
    assert res.attrs["notes"][("pc", "shop", 0)]["stability"] == (
        "undefined", "the bootstrap failed: DataError: every resample failed")


def test_compare_accepts_dataframes_and_checks_its_new_parameters(linear):
    with pytest.raises(ParameterError, match="n_bootstrap"):
        compare({"pc": PC()}, {"shop": linear.data}, n_bootstrap=-1)
    with pytest.raises(ParameterError, match="cv_folds"):
        compare({"pc": PC()}, {"shop": linear.data}, cv_folds=1)
    with pytest.raises(ParameterError, match="stability"):
        compare({"pc": PC()}, {"shop": linear.data}, metrics=["stability"])
    res = compare({"pc": PC()}, [linear.data], metrics=["n_edges", "heldout_loglik"], executor="sequential")
    assert list(res["dataset"]) == ["data"]
    assert [c for c in res.columns if c in ("n_edges", "heldout_loglik", "n_directed", "mean_shd_to_others")] == [
        "n_edges", "heldout_loglik"]


# --------------------------------------------------------------------------- where a truth exists, nothing changes
BEFORE = pathlib.Path(__file__).parent / "data" / "default_suite_before_truth_free.csv"


@pytest.mark.parametrize("algorithms, datasets", [
    (["pc-fisherz"], ["linear-er10"]),
    pytest.param(["pc-fisherz", "cdnod-fisherz", "icp", "pcmci-parcorr", "pcmciplus-parcorr"],
                 ["sachs", "linear-er10", "multi-env-er8", "timeseries-5"], marks=pytest.mark.slow),
])
def test_default_suite_table_is_unchanged(tmp_path, algorithms, datasets):
    """results.csv of the default suite, exactly as the code before the truth-free columns wrote it (the rows of its
    deterministic algorithms, fit_seconds aside; average_precision is a column only when VI-DP-DAG runs)."""
    run_default_suite(algorithms, datasets, output=tmp_path, executor="sequential")
    now = pd.read_csv(tmp_path / "results.csv").drop(columns="fit_seconds")
    before = pd.read_csv(BEFORE)
    before = before[before["algorithm"].isin(algorithms) & before["dataset"].isin(datasets)].reset_index(drop=True)
    before = before.drop(columns="average_precision")
    assert len(before) == len(now)
    pd.testing.assert_frame_equal(now, before, check_exact=True)
