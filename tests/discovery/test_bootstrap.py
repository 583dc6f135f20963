"""Bootstrap stability: frequencies with known answers, the resampling schemes, failures, seeds
across executors, the lock-step (batched) path against separate fits, consensus and plots."""

import concurrent.futures as cf
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from discovery import CDNOD, NOTEARS, PC, PCMCI, DSeparation, FisherZ, bootstrap, plot_graph
from discovery.citest import LockStep
from discovery.evaluation import BootstrapResult
from discovery.evaluation._bootstrap import _draw, _plan, _resample_rows
from scm import PDAG, DataError, LaggedGraph, ParameterError, UnknownNodeError
from tests.conftest import NAMED_GRAPHS


@pytest.fixture(scope="module")
def linear():
    return scm.simulate.simulate(n_nodes=10, n_samples=400, expected_degree=2.5, random_state=3)


@pytest.fixture(scope="module")
def envs():
    dag = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "D")])
    return scm.multi_environment(dag, n_environments=3, n_samples=150, changing=["B"], random_state=1)


@pytest.fixture(scope="module")
def series():
    return scm.simulate.time_series(n_series=3, n_timepoints=200, max_lag=1, contemporaneous=False, random_state=0)


class Toy:
    """A deterministic learner of a known answer: ``A -> B`` when the data hold ``n_distinct`` distinct rows, else
    no edge; raises when a row is missing (``fail_without``) or always."""

    def __init__(self, *, n_distinct=2, fail_without=None, fail_always=False, random_state=None):
        self.n_distinct = n_distinct
        self.fail_without = fail_without
        self.fail_always = fail_always
        self.random_state = random_state

    def get_params(self, deep=True):
        return {"n_distinct": self.n_distinct, "fail_without": self.fail_without, "fail_always": self.fail_always,
                "random_state": self.random_state}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, data):
        if self.fail_always:
            raise DataError("Toy refuses column 'A' always")
        values = set(map(tuple, data[["A", "B"]].to_numpy()))
        if self.fail_without is not None and self.fail_without not in values:
            raise DataError(f"Toy: row {self.fail_without} is missing")
        self.graph_ = PDAG(["A", "B"], directed=[("A", "B")] if len(values) == self.n_distinct else [])
        return self


def _toy(n_env: int):
    """Rows (0, 0) and (1, 1) in each of ``n_env`` environments (B shifted per environment)."""
    a = np.tile([0.0, 1.0], n_env)
    b = a + np.repeat(np.arange(n_env) * 10.0, 2)
    return pd.DataFrame({"A": a, "B": b, "env": np.repeat(np.arange(n_env), 2)})


# --------------------------------------------------------------------------- known answers
@pytest.mark.parametrize("name", sorted(NAMED_GRAPHS))
def test_oracle_gives_the_cpdag_on_every_resample(name):
    """With the d-separation oracle every resample learns the true CPDAG: its edges have frequency 1, no other
    edge appears, the consensus is the CPDAG and the stability 1."""
    dag = nx.DiGraph(NAMED_GRAPHS[name])
    nodes = list(dag.nodes)
    data = pd.DataFrame(np.random.default_rng(0).normal(size=(30, len(nodes))), columns=nodes)
    res = bootstrap(PC(ci_test=DSeparation(dag)), data, n_resamples=5, random_state=0)
    truth = scm.cpdag(dag)
    expected = {(a, b, kind) for a, b, kind in truth.edges()}
    assert set(zip(res.edges["source"], res.edges["target"], res.edges["kind"])) == expected
    assert (res.edges["frequency"] == 1.0).all() and (res.edges["count"] == 5).all() and (res.edges["lag"] == 0).all()
    assert res.consensus(1.0) == truth and res.stability() == 1.0
    assert len(res.adjacencies) == truth.skeleton().number_of_edges()


def test_rows_resampling_frequency_matches_its_probability():
    """Two distinct rows resampled with replacement: both come back with probability 1/2."""
    est = Toy()
    res = bootstrap(est, _toy(1)[["A", "B"]], n_resamples=400, random_state=0, executor="sequential")
    f = res.edges.loc[0, "frequency"]
    assert res.resampling == "rows" and abs(f - 0.5) < 4 * math.sqrt(0.25 / 400), f


def test_stratified_resampling_frequency_matches_its_probability():
    """Two environments of two rows each, resampled within environment: all four rows come back with probability
    1/2 * 1/2 = 1/4 (4!/4**4 = 0.094 if the rows were pooled)."""
    ds = scm.Dataset(_toy(2), kind="multi_environment", environment="env")
    res = bootstrap(Toy(n_distinct=4), ds, n_resamples=400, random_state=1, executor="sequential")
    f = res.edges.loc[0, "frequency"]
    assert res.resampling == "stratified" and abs(f - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 400), f


# --------------------------------------------------------------------------- resampling schemes
def test_stratified_rows_keep_the_context_counts(envs):
    plan = _plan(CDNOD(ci_test="fisherz"), envs, "auto", None, None)
    assert plan.resampling == "stratified"
    rows, _ = _draw(plan, 20, 0)
    counts = np.bincount(plan.strata)
    env = envs.data[envs.environment].to_numpy()
    for r in rows:
        assert len(r) == len(envs.data) and np.array_equal(np.bincount(plan.strata[r], minlength=len(counts)), counts)
        assert np.array_equal(np.sort(env[r]), np.sort(env))


@pytest.mark.parametrize("n, length", [(50, 4), (200, 6), (7, 7), (10, 1)])
def test_block_rows_are_contiguous_blocks(n, length):
    rng = np.random.default_rng(0)
    for _ in range(20):
        r = _resample_rows(n, "block", rng, block_length=length)
        assert len(r) == n and r.min() >= 0 and r.max() < n
        for start in range(0, n, length):
            block = r[start : start + length]
            assert np.array_equal(np.diff(block), np.ones(len(block) - 1)), block
            assert block[0] <= n - length


def test_series_get_the_block_bootstrap(series):
    res = bootstrap(PCMCI(), series, n_resamples=4, random_state=0)
    n = len(series.data)
    assert res.resampling == "block" and res.block_length == math.ceil(n ** (1 / 3))
    assert isinstance(res.consensus(), LaggedGraph) and (res.edges["lag"] >= 0).all()
    assert res.executor == "sequential"  # PCMCI's partial correlations are not pooled
    plan = _plan(PCMCI(), series.data, "auto", 5, None)
    assert plan.resampling == "block" and plan.block_length == 5


def test_a_time_index_context_is_resampled_by_rows():
    ds = scm.simulate.nonstationary(nx.DiGraph([("A", "B")]), n_samples=60, random_state=0)
    assert _plan(CDNOD(ci_test="fisherz"), ds, "auto", None, None).resampling == "rows"
    frame = ds.data
    plan = _plan(CDNOD(ci_test="fisherz"), frame, "auto", None, {"context": ds.environment})
    assert plan.resampling == "rows" and plan.environment == ds.environment  # one row per time value


# --------------------------------------------------------------------------- failures
def test_failed_resamples_are_counted_out_and_warned():
    """Resamples missing row (0, 0) fail (probability 1/4): the frequencies are over the others."""
    est = Toy(fail_without=(0.0, 0.0))
    with pytest.warns(UserWarning, match=r"resamples failed and are left out"):
        res = bootstrap(est, _toy(1)[["A", "B"]], n_resamples=200, random_state=0, executor="sequential")
    assert 0 < len(res.failures) < 200 and res.n_successes == 200 - len(res.failures)
    assert all(msg == "DataError: Toy: row (0.0, 0.0) is missing" for msg in res.failures.values())
    assert all(res.graphs[i] is None for i in res.failures)
    assert res.edges.loc[0, "frequency"] == res.edges.loc[0, "count"] / res.n_successes
    # every success had row (0, 0): the edge needs row (1, 1) too, which is missing with probability 1/3 given it
    assert abs(res.edges.loc[0, "frequency"] - 2 / 3) < 0.12


def test_when_every_resample_fails_the_fit_on_the_data_says_why():
    with pytest.raises(DataError, match="Toy refuses column 'A'"):
        bootstrap(Toy(fail_always=True), _toy(1)[["A", "B"]], n_resamples=3, random_state=0)
    # a fit on the data succeeds (it holds row (5, 5)), no resample of 1000 rows does: a DataError says so
    frame = pd.DataFrame({"A": [5.0] + [0.0] * 999, "B": [5.0] + [1.0] * 999})
    with pytest.raises(DataError, match="every one of the 3 resamples failed, though a fit on the data succeeds"):
        bootstrap(Toy(fail_without=(5.0, 5.0)), frame, n_resamples=3, random_state=2)
    with pytest.raises(DataError, match="at least 4"):  # PC's own error
        bootstrap(PC(), pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [2.0, 1.0, 3.0]}), n_resamples=3, random_state=0)


# --------------------------------------------------------------------------- seeds and executors
def test_same_result_on_every_executor(linear):
    runs = {ex: bootstrap(PC(), linear, n_resamples=8, random_state=5, executor=ex) for ex in ("sequential", "batched")}
    with cf.ThreadPoolExecutor(2) as pool:
        runs["threads"] = bootstrap(PC(), linear, n_resamples=8, random_state=5, executor=pool)
    ref = runs["sequential"]
    for name, res in runs.items():
        pd.testing.assert_frame_equal(res.edges, ref.edges, obj=name)
        assert res.graphs == ref.graphs, name
    assert runs["threads"].executor == "ThreadPoolExecutor"
    other = bootstrap(PC(), linear, n_resamples=8, random_state=6)
    assert other.graphs != ref.graphs  # another seed, other resamples


def test_an_estimator_random_state_gets_a_seed_per_resample():
    class Coin(Toy):
        def fit(self, data):
            edge = [("A", "B")] if self.random_state % 2 == 0 else [("B", "A")]
            self.graph_ = PDAG(["A", "B"], directed=edge)
            return self

    res = bootstrap(Coin(random_state=0), _toy(1)[["A", "B"]], n_resamples=200, random_state=0)
    counts = dict(zip(res.edges["source"], res.edges["count"]))
    assert counts["A"] + counts["B"] == 200 and 60 < counts["A"] < 140  # seeds vary: about half are even
    again = bootstrap(Coin(random_state=0), _toy(1)[["A", "B"]], n_resamples=200, random_state=0)
    pd.testing.assert_frame_equal(res.edges, again.edges)
    _, seeds = _draw(_plan(Coin(), _toy(1)[["A", "B"]], "auto", None, None), 50, 3)
    assert len(set(seeds)) == 50 and all(0 <= s < 2**31 for s in seeds)


@pytest.mark.slow
def test_notears_resamples_are_reproducible(linear):
    small = scm.Dataset(linear.X.iloc[:150, :5], graph=None)
    a = bootstrap(NOTEARS(max_iter=5), small, n_resamples=3, random_state=0)
    b = bootstrap(NOTEARS(max_iter=5), small, n_resamples=3, random_state=0, executor="sequential")
    assert a.executor == "sequential" and a.graphs == b.graphs


@pytest.mark.slow
def test_process_pool_and_dask_give_the_same_result(linear, envs):
    distributed = pytest.importorskip("distributed")
    ref = bootstrap(PC(), linear, n_resamples=6, random_state=1, executor="sequential")
    pooled = bootstrap(PC(), linear, n_resamples=6, random_state=1, n_jobs=2)
    assert pooled.executor == "ProcessPoolExecutor" and pooled.graphs == ref.graphs
    cref = bootstrap(CDNOD(ci_test="fisherz"), envs, n_resamples=4, random_state=1, executor="sequential")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            dask = bootstrap(PC(), linear, n_resamples=6, random_state=1, executor=client.get_executor())
            cdask = bootstrap(CDNOD(ci_test="fisherz"), envs, n_resamples=4, random_state=1, executor=client.get_executor())
    assert dask.graphs == ref.graphs and cdask.graphs == cref.graphs
    pd.testing.assert_frame_equal(dask.edges, ref.edges)


@pytest.mark.slow
def test_dask_in_process_cluster(linear):
    distributed = pytest.importorskip("distributed")
    ref = bootstrap(PC(), linear, n_resamples=4, random_state=2, executor="sequential")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            res = bootstrap(PC(), linear, n_resamples=4, random_state=2, executor=client.get_executor())
    assert res.graphs == ref.graphs


# --------------------------------------------------------------------------- the batched path
def test_batched_path_gives_the_graphs_of_separate_fits(linear):
    rows, _ = _draw(_plan(PC(), linear, "auto", None, None), 8, 0)
    frames = [linear.X.iloc[r].reset_index(drop=True) for r in rows]
    alone = [PC().fit(f) for f in frames]
    lock = LockStep()
    together = lock.map(lambda f: PC().fit(f), frames)
    for a, (t, err) in zip(alone, together):
        assert err is None and t.graph_ == a.graph_
        pd.testing.assert_frame_equal(t.pvalues_, a.pvalues_, check_exact=True)  # the same p-values, bit for bit
    # levels of at most 4,096 queries run in numpy (FisherZ's host path) and never reach the pool;
    # larger ones share kernel calls (the LockStep doctest shows the counts)
    assert lock.n_kernel_calls <= lock.n_solo_calls
    res = bootstrap(PC(), linear, n_resamples=8, random_state=0)
    assert res.executor == "batched" and res.graphs == [a.graph_ for a in alone]


@pytest.mark.parametrize("phases", [
    pytest.param({"independent_changes": False}, id="phases-1-2"),
    pytest.param({}, id="phases-1-4", marks=pytest.mark.slow),
])
def test_batched_cdnod_and_background_knowledge(envs, linear, phases):
    cdnod = CDNOD(ci_test="fisherz", **phases)
    a = bootstrap(cdnod, envs, n_resamples=4, random_state=3, executor="batched")
    b = bootstrap(cdnod, envs, n_resamples=4, random_state=3, executor="sequential")
    assert a.graphs == b.graphs and a.executor == "batched"
    frame = envs.data
    c = bootstrap(cdnod, frame, n_resamples=4, random_state=3, fit_params={"context": envs.environment})
    assert c.graphs == a.graphs
    pc = PC(background_knowledge={"required": [("X0", "X1")]}, alpha=0.01)
    assert bootstrap(pc, linear, n_resamples=3, random_state=0).graphs == bootstrap(
        pc, linear, n_resamples=3, random_state=0, executor="sequential").graphs


def test_lockstep_returns_each_items_error():
    def fn(i):
        if i == 1:
            raise DataError("item 1")
        return FisherZ(np.random.default_rng(i).normal(size=(50, 10))).pvalues([(0, 1, [k]) for k in range(2, 10)] * 5)

    out = LockStep(max_threads=2).map(fn, range(4))
    assert [e is None for _, e in out] == [True, False, True, True] and str(out[1][1]) == "item 1"
    assert LockStep().map(fn, []) == []
    with pytest.raises(ParameterError, match="max_threads"):
        LockStep(max_threads=0)


# --------------------------------------------------------------------------- the result
def test_consensus_rules_and_stability():
    g = [PDAG("ABCD", directed=[("A", "B"), ("C", "D")]), PDAG("ABCD", directed=[("B", "A")], bidirected=[("C", "D")]),
         PDAG("ABCD", directed=[("A", "B")], undirected=[("B", "C")]), PDAG("ABCD", bidirected=[("C", "D")])]
    res = BootstrapResult(g + [None], {4: "DataError: x"}, nodes="ABCD", resampling="rows")
    assert res.n_resamples == 5 and res.n_successes == 4
    adj = {(s, t): f for s, t, f in zip(res.adjacencies["source"], res.adjacencies["target"], res.adjacencies["frequency"])}
    assert adj == {("A", "B"): 0.75, ("C", "D"): 0.75, ("B", "C"): 0.25}
    # A -> B twice beats B -> A once; C <-> D twice beats C -> D once; B - C only at 0.25
    assert res.consensus(0.5) == PDAG("ABCD", directed=[("A", "B")], bidirected=[("C", "D")])
    assert res.consensus(0.25) == PDAG("ABCD", directed=[("A", "B")], undirected=[("B", "C")], bidirected=[("C", "D")])
    tie = BootstrapResult([PDAG("AB", directed=[("A", "B")]), PDAG("AB", directed=[("B", "A")])], {}, nodes="AB",
                          resampling="rows")
    assert tie.consensus(1.0) == PDAG("AB", undirected=[("A", "B")]) and tie.stability() == 1.0
    assert res.stability() == pytest.approx((0.75 + 0.75 + 0.75) / 3)
    empty = BootstrapResult([PDAG("AB"), PDAG("AB")], {}, nodes="AB", resampling="rows")
    assert empty.stability() == 1.0 and empty.consensus() == PDAG("AB") and empty.edges.empty
    for bad in (0, 1.5, "half", float("nan")):
        with pytest.raises(ParameterError, match="threshold"):
            res.consensus(bad)
    assert "n_resamples=5, failures=1" in repr(res)


def test_lagged_consensus_counts_conflicts_as_bidirected():
    g1 = LaggedGraph("XY", directed=[("X", "Y", 1), ("X", "X", 1)], conflicting=[("X", "Y")], tau_max=2)
    g2 = LaggedGraph("XY", directed=[("X", "Y", 1), ("Y", "X", 0)], tau_max=2)
    g3 = LaggedGraph("XY", directed=[("Y", "X", 2)], conflicting=[("X", "Y")], tau_max=2)
    res = BootstrapResult([g1, g2, g3], {}, nodes="XY", resampling="block")
    rows = set(zip(res.edges["source"], res.edges["target"], res.edges["kind"], res.edges["lag"], res.edges["count"]))
    assert rows == {("X", "Y", "directed", 1, 2), ("X", "Y", "bidirected", 0, 2), ("X", "X", "directed", 1, 1),
                    ("Y", "X", "directed", 0, 1), ("Y", "X", "directed", 2, 1)}
    assert res.consensus(0.5) == LaggedGraph("XY", directed=[("X", "Y", 1)], conflicting=[("X", "Y")])
    assert res.consensus(0.5).tau_max == 2


def test_plot_graph_draws_frequencies(linear):
    import matplotlib

    matplotlib.use("Agg")
    res = bootstrap(PC(), linear, n_resamples=5, random_state=0)
    graph = res.consensus(0.5)
    ax = plot_graph(graph, frequencies=res)
    labels = sorted(t.get_text() for t in ax.texts if "." in t.get_text())
    assert len(labels) == len(graph.edges()) and all(0 <= float(x) <= 1 for x in labels)
    widths = sorted(p.get_linewidth() for p in ax.patches)
    assert widths[0] >= 0.6 + 3.4 * 0.5 - 1e-9 and widths[-1] <= 4.0 + 1e-9
    ax.figure.clear()
    ax = plot_graph(graph, truth=linear.graph, frequencies=res.edges)
    assert ax.get_legend() is not None
    ax.figure.clear()
    with pytest.raises(ParameterError, match="frequencies"):
        plot_graph(graph, frequencies=[0.5])


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_resamples": 0}, ParameterError, "n_resamples"),
    ({"n_resamples": 10**6}, ParameterError, "n_resamples"),
    ({"n_resamples": 2.5}, ParameterError, "n_resamples"),
    ({"resampling": "jackknife"}, ParameterError, "resampling"),
    ({"resampling": "stratified"}, ParameterError, "environment column"),
    ({"block_length": 3}, ParameterError, "block_length"),
    ({"resampling": "block", "block_length": 0}, ParameterError, "block_length"),
    ({"random_state": -1}, ParameterError, "random_state"),
    ({"executor": "dask"}, ParameterError, "executor"),
    ({"executor": object()}, ParameterError, "executor"),
    ({"n_jobs": 0}, ParameterError, "n_jobs"),
    ({"progress": "yes"}, ParameterError, "progress"),
    ({"fit_params": [1]}, ParameterError, "fit_params"),
])
def test_bad_parameters(linear, kwargs, error, match):
    with pytest.raises(error, match=match):
        bootstrap(PC(), linear, **{"n_resamples": 2, **kwargs})


def test_bad_inputs(linear, envs, series):
    with pytest.raises(DataError, match="DataFrame or an scm.Dataset"):
        bootstrap(PC(), linear.X.to_numpy(), n_resamples=2)
    with pytest.raises(ParameterError, match="'fit' method"):
        bootstrap("pc", linear, n_resamples=2)
    with pytest.raises(ParameterError, match="built on the full data"):
        bootstrap(PC(ci_test=FisherZ(linear.X)), linear, n_resamples=2)
    with pytest.raises(ParameterError, match="context column"):
        bootstrap(CDNOD(), envs.data, n_resamples=2)
    with pytest.raises(UnknownNodeError, match="'site'"):
        bootstrap(CDNOD(), envs.data, n_resamples=2, fit_params={"context": "site"})
    with pytest.raises(ParameterError, match="differs from the dataset's environment column"):
        bootstrap(CDNOD(), envs, n_resamples=2, fit_params={"context": "A"})
    with pytest.raises(ParameterError, match="PCMCI does not apply to observational data"):
        bootstrap(PCMCI(), linear, n_resamples=2)
    with pytest.raises(ParameterError, match="executor='batched'"):
        bootstrap(NOTEARS(), linear, n_resamples=2, executor="batched")
    nan = linear.X.copy()
    nan.iloc[3, 2] = np.nan
    with pytest.raises(DataError, match="'X2' holds NaN"):
        bootstrap(PC(), nan, n_resamples=2)
    single = scm.Dataset(_toy(1).assign(env=[0, 1]), kind="multi_environment", environment="env")
    with pytest.warns(UserWarning, match="one row only"):
        res = bootstrap(Toy(), single, n_resamples=2, resampling="stratified")
    assert (res.edges["frequency"] == 1.0).all()  # each row is its own stratum: kept as it is
