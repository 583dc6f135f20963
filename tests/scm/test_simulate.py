"""Simulators: random DAGs and SCMs, multi-environment, nonstationary and time-series data."""

import pickle

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scm import (
    SCM,
    AdditiveNoise,
    CycleError,
    Dataset,
    Discrete,
    Gaussian,
    LaggedGraph,
    Laplace,
    Linear,
    ParameterError,
    Shifted,
    UnknownNodeError,
)
from scm.simulate import (
    RandomGPFunction,
    RandomMLP,
    VARProcess,
    draw_innovations,
    draw_lagged_structure,
    multi_environment,
    nonstationary,
    random_dag,
    random_scm,
    simulate,
    simulate_var,
    time_series,
)
from tests.conftest import NAMED_GRAPHS


# --------------------------------------------------------------------- helpers
def _ols(y, X):
    """Intercept, coefficients and residual variance of OLS of y on X."""
    D = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(D, y, rcond=None)
    resid = y - D @ coef
    return coef[0], coef[1:], resid.var()


def _is_topological(graph, order):
    pos = {n: i for i, n in enumerate(order)}
    return all(pos[u] < pos[v] for u, v in graph.edges)


def _frames_equal(a: Dataset, b: Dataset):
    pd.testing.assert_frame_equal(a.data, b.data)
    assert sorted(a.graph.edges) == sorted(b.graph.edges)


# --------------------------------------------------------------------- determinism
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda rs: simulate(6, 50, random_state=rs), id="simulate"),
        pytest.param(lambda rs: simulate(6, 50, graph_kind="SF", scm_kind="gp", noise="laplace", random_state=rs), id="simulate-sf-gp"),
        pytest.param(
            lambda rs: multi_environment(nx.DiGraph(NAMED_GRAPHS["asia"]), 3, 40, change="mixed", random_state=rs), id="multi_environment"
        ),
        pytest.param(
            lambda rs: nonstationary(nx.DiGraph(NAMED_GRAPHS["diamond"]), 60, drift="random_walk", random_state=rs), id="nonstationary"
        ),
        pytest.param(lambda rs: time_series(4, 60, 2, nonlinear=True, random_state=rs), id="time_series"),
    ],
)
def test_generators_are_deterministic_given_a_seed(make):
    _frames_equal(make(3), make(3))
    _frames_equal(make(3), make(np.random.default_rng(3)))
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(make(3).data, make(4).data)


def test_random_dag_and_scm_are_deterministic():
    for kind in ("ER", "SF"):
        assert sorted(random_dag(12, 3, kind, random_state=5).edges) == sorted(random_dag(12, 3, kind, random_state=5).edges)
    g = random_dag(6, 2, random_state=0)
    for kind in ("linear", "mlp", "gp"):
        a = random_scm(g, kind, random_state=1).sample(20, random_state=2)
        b = random_scm(g, kind, random_state=1).sample(20, random_state=2)
        pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------- random_dag
@pytest.mark.parametrize("kind", ["ER", "SF"])
@pytest.mark.parametrize("degree", [1.0, 2.0, 4.0])
def test_random_dag_is_acyclic_with_the_expected_mean_degree(kind, degree):
    n, reps = 30, 200
    means = []
    for seed in range(reps):
        g = random_dag(n, degree, kind, random_state=seed)
        assert nx.is_directed_acyclic_graph(g)
        assert list(g.nodes) == [f"X{i}" for i in range(n)]
        means.append(2 * g.number_of_edges() / n)
    if kind == "SF":  # exactly round(degree * n / 2) edges
        assert set(means) == {2 * round(degree * n / 2) / n}
    else:  # mean of 200 graphs: standard error <= 2 sqrt(p (1 - p) n (n - 1) / 2) / n / sqrt(200) < 0.03
        assert abs(np.mean(means) - degree) < 0.1


def test_scale_free_degrees_are_heavier_tailed_than_erdos_renyi():
    stats = {}
    for kind in ("ER", "SF"):
        max_deg, std_deg = [], []
        for seed in range(30):
            g = random_dag(100, 3, kind, random_state=seed)
            d = np.array([deg for _, deg in g.degree()])
            max_deg.append(d.max())
            std_deg.append(d.std())
        stats[kind] = (np.mean(max_deg), np.mean(std_deg))
    assert stats["SF"][0] > 2 * stats["ER"][0]
    assert stats["SF"][1] > 1.5 * stats["ER"][1]


def test_node_order_is_not_the_causal_order():
    graphs = [random_dag(10, 2, kind, random_state=s) for kind in ("ER", "SF") for s in range(40)]
    topological = [_is_topological(g, list(g.nodes)) for g in graphs]
    assert sum(topological) <= 2
    # and every name is a source in some graphs: no position is privileged
    roots = {n for g in graphs for n in g.nodes if g.in_degree(n) == 0 and g.out_degree(n) > 0}
    assert roots == {f"X{i}" for i in range(10)}


def test_random_dag_edge_cases_and_prefix():
    one = random_dag(1, 0, random_state=0)
    assert list(one.nodes) == ["X0"] and one.number_of_edges() == 0
    assert random_dag(7, 0, "SF", random_state=0).number_of_edges() == 0
    for kind in ("ER", "SF"):
        full = random_dag(6, 5, kind, random_state=0)
        assert full.number_of_edges() == 15 and nx.is_directed_acyclic_graph(full)
    g = random_dag(3, 1.5, prefix="gene", random_state=0)
    assert list(g.nodes) == ["gene0", "gene1", "gene2"]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 25),
    frac=st.floats(0, 1),
    kind=st.sampled_from(["ER", "SF"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_dag_property(n, frac, kind, seed):
    g = random_dag(n, frac * (n - 1), kind, random_state=seed)
    assert nx.is_directed_acyclic_graph(g)
    assert g.number_of_nodes() == n
    assert not any(u == v for u, v in g.edges)
    if kind == "SF":
        assert g.number_of_edges() == round(frac * (n - 1) * n / 2)


# --------------------------------------------------------------------- random_scm
@pytest.mark.parametrize("noise", ["gaussian", "uniform", "laplace"])
def test_linear_scm_covariance_matches_closed_form(noise):
    g = random_dag(8, 2.5, random_state=11)
    model = random_scm(g, "linear", noise=noise, noise_scale=(0.5, 1.0), random_state=12)
    n = 20_000
    data = model.sample(n, random_state=13)
    S = data.cov().to_numpy()
    Sigma = model.interventional_cov().to_numpy()
    # standard error of a sample covariance, Gaussian fourth moments; laplace has kurtosis 6
    se = np.sqrt((np.outer(np.diag(Sigma), np.diag(Sigma)) + Sigma**2) / n)
    assert np.all(np.abs(S - Sigma) < 6 * se)
    assert np.allclose(data.mean(), 0.0, atol=6 * np.sqrt(np.diag(Sigma) / n).max())


def test_linear_scm_weights_and_noise_scales_respect_ranges():
    g = random_dag(15, 4, random_state=0)
    model = random_scm(g, noise="uniform", noise_scale=0.7, weight_range=(0.5, 2.0), random_state=0)
    weights = np.concatenate([m.weights for m in model.mechanisms.values()])
    assert weights.size == g.number_of_edges()
    assert np.all((np.abs(weights) >= 0.5) & (np.abs(weights) <= 2.0))
    assert (weights > 0).any() and (weights < 0).any()
    assert np.allclose([nz.var for nz in model.noise.values()], 0.49)
    for node in g.nodes:
        assert set(model.parents(node)) == set(g.predecessors(node))


@pytest.mark.parametrize("kind, cls", [("mlp", RandomMLP), ("gp", RandomGPFunction)])
def test_nonlinear_scms_use_additive_noise_with_random_functions(kind, cls):
    g = random_dag(8, 3, random_state=2)
    model = random_scm(g, kind, noise="laplace", random_state=3)
    for node in g.nodes:
        mech = model.mechanisms[node]
        if model.parents(node):
            assert isinstance(mech, AdditiveNoise) and isinstance(mech.f, cls)
            out = mech.f(np.random.default_rng(0).normal(size=(5, len(model.parents(node)))))
            assert out.shape == (5,) and np.isfinite(out).all()
        else:
            assert isinstance(mech, Linear)
        assert isinstance(model.noise[node], Laplace)
    data = model.sample(500, random_state=0)
    assert np.isfinite(data.to_numpy()).all()
    # picklable (the comparison harness ships models to other processes)
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(clone.sample(50, random_state=1), model.sample(50, random_state=1))


def test_nonlinear_mechanisms_are_not_linear():
    g = nx.DiGraph([("A", "B")])
    x = np.random.default_rng(0).normal(size=(2000, 1))
    for kind in ("mlp", "gp"):
        r2 = []
        for seed in range(30):
            f = random_scm(g, kind, random_state=seed).mechanisms["B"].f(x)
            _, _, resid_var = _ols(f, x)
            r2.append(1 - resid_var / f.var())
        # a linear fit leaves a good part of the variance unexplained in many models
        assert np.mean(np.array(r2) < 0.8) > 0.25, (kind, np.round(r2, 2))


def test_gp_functions_have_the_rbf_covariance():
    x = np.array([[0.0], [0.5], [1.0], [2.0]])
    draws = np.array([RandomGPFunction.random(1, n_features=200, lengthscale=1.0, random_state=s)(x) for s in range(4000)])
    emp = draws.T @ draws / len(draws)
    d2 = (x - x.T) ** 2
    assert np.allclose(emp, np.exp(-d2 / 2), atol=0.08)


def test_random_scm_accepts_a_noise_object_and_a_mapping():
    model = random_scm({"A": [], "B": ["A"]}, noise=Gaussian(0.3), random_state=0)
    assert all(isinstance(nz, Gaussian) and nz.std == 0.3 for nz in model.noise.values())


# --------------------------------------------------------------------- simulate
def test_simulate_returns_data_with_its_ground_truth():
    ds = simulate(n_nodes=7, n_samples=300, expected_degree=2, graph_kind="SF", scm_kind="mlp", random_state=0)
    assert isinstance(ds, Dataset) and ds.kind == "observational"
    assert list(ds.data.columns) == [f"X{i}" for i in range(7)] and len(ds.data) == 300
    assert ds.graph is ds.scm.graph and nx.is_directed_acyclic_graph(ds.graph)
    assert ds.metadata["graph_kind"] == "SF" and ds.metadata["scm_kind"] == "mlp"
    assert ds.environment is None and ds.changed_nodes == frozenset()
    assert list(simulate(3, 5, 1, prefix="V", random_state=0).data.columns) == ["V0", "V1", "V2"]


# --------------------------------------------------------------------- multi_environment
def _env_fits(ds):
    """{(node, env): (intercept, coefficients, residual variance)} by OLS on the true parents."""
    model = ds.scm
    out = {}
    for env, frame in ds.data.groupby("environment"):
        for node in model.nodes:
            pa = list(model.parents(node))
            X = frame[pa].to_numpy() if pa else np.empty((len(frame), 0))
            out[node, env] = _ols(frame[node].to_numpy(), X)
    return out


@pytest.mark.parametrize("change", ["shift", "mechanism", "noise", "mixed"])
def test_multi_environment_changes_only_the_changing_nodes(change):
    g = nx.DiGraph(NAMED_GRAPHS["asia"])
    E, n = 4, 3000
    ds = multi_environment(g, E, n, changing=3, change=change, random_state=7)
    assert ds.kind == "multi_environment" and ds.environment == "environment"
    assert ds.data["environment"].dtype == np.int64
    assert ds.data["environment"].value_counts().sort_index().tolist() == [n] * E
    assert len(ds.changed_nodes) == 3 and "environment" not in ds.X.columns
    fits = _env_fits(ds)
    for node in g.nodes:
        b0, w0, v0 = fits[node, 0]
        for env in range(1, E):
            b, w, v = fits[node, env]
            d_int, d_coef, ratio = abs(b - b0), np.max(np.abs(w - w0), initial=0.0), v / v0
            if node in ds.changed_nodes:
                assert d_int > 0.4 or d_coef > 0.3 or not 0.7 < ratio < 1.4, (node, env)
            else:
                assert d_int < 0.2 and d_coef < 0.2 and 0.85 < ratio < 1.18, (node, env, d_int, d_coef, ratio)


def test_multi_environment_records_its_changes():
    g = nx.DiGraph(NAMED_GRAPHS["diamond"])
    ds = multi_environment(g, 5, [10, 20, 30, 40, 50], changing=["B", "D"], change="mixed", random_state=1)
    ch = ds.metadata["changes"]
    assert list(ch.columns) == ["environment", "node", "change", "parameter"]
    assert len(ch) == 4 * 2 and set(ch["node"]) == {"B", "D"} == set(ds.changed_nodes)
    assert set(ch["change"]) == {"shift", "mechanism", "noise"}
    assert ds.data["environment"].value_counts().sort_index().tolist() == [10, 20, 30, 40, 50]
    scms = ds.metadata["scms"]
    assert len(scms) == 5 and scms[0] is ds.scm
    for row in ch.itertuples():
        model = scms[row.environment]
        assert sorted(model.graph.edges) == sorted(g.edges)
        if row.change == "shift":
            assert isinstance(model.mechanisms[row.node], Shifted)
            assert model.mechanisms[row.node].delta == pytest.approx(row.parameter)
        elif row.change == "noise":
            assert np.sqrt(model.noise[row.node].var) == pytest.approx(row.parameter)
        else:
            assert np.isnan(row.parameter)
            assert model.mechanisms[row.node] is not ds.scm.mechanisms[row.node]
        for other in set(g.nodes) - ds.changed_nodes:
            assert repr(model.mechanisms[other]) == repr(ds.scm.mechanisms[other])
            assert model.noise[other] is ds.scm.noise[other]


def test_multi_environment_keeps_a_given_model_and_can_change_nothing():
    model = random_scm(random_dag(5, 2, random_state=0), "gp", random_state=0)
    ds = multi_environment(model, 3, 50, changing=0, random_state=0)
    assert ds.scm is model and ds.changed_nodes == frozenset() and ds.metadata["changes"].empty
    redrawn = multi_environment(model, 2, 50, changing=[n for n in model.nodes if model.parents(n)], change="mechanism", random_state=0)
    for node in redrawn.changed_nodes:
        new = redrawn.metadata["scms"][1].mechanisms[node]
        assert isinstance(new.f, RandomGPFunction) and new.parents == model.parents(node)


# --------------------------------------------------------------------- nonstationary
def _windows(ds, node, n_windows=10):
    """Per time window: OLS of the node on its true parents, and the true parameter's window mean/RMS."""
    model = ds.scm
    pa = list(model.parents(node))
    out = []
    for _, frame in ds.data.groupby(ds.data["time"] * n_windows // len(ds.data)):
        X = frame[pa].to_numpy() if pa else np.empty((len(frame), 0))
        out.append((*_ols(frame[node].to_numpy(), X), frame["time"].to_numpy()))
    return out


def test_nonstationary_intercept_drift_matches_the_data():
    g = nx.DiGraph(NAMED_GRAPHS["diamond"])
    ds = nonstationary(g, 5000, changing=["A", "D"], drift="sine", parameter="intercept", random_state=3)
    assert ds.kind == "nonstationary" and ds.environment == "time"
    assert ds.data["time"].tolist() == list(range(5000))
    params = ds.metadata["parameters"]
    assert list(params.columns) == ["A", "D"] and params.index.name == "time" and len(params) == 5000
    for node in g.nodes:
        for b, _, _, t in _windows(ds, node):
            truth = params[node].iloc[t].mean() if node in ds.changed_nodes else 0.0
            assert abs(b - truth) < 0.2, (node, b, truth)
    assert np.ptp(params["A"]) > 1.0 and np.ptp(params["D"]) > 1.0


def test_nonstationary_coefficient_drift_matches_the_data():
    g = nx.DiGraph(NAMED_GRAPHS["chain"])
    ds = nonstationary(g, 5000, changing=["B"], drift="linear", parameter="coefficient", random_state=4)
    theta = ds.metadata["parameters"]["B"]
    w = ds.scm.mechanisms["B"].weights[0]
    est = np.array([coef[0] for _, coef, _, _ in _windows(ds, "B")])
    truth = np.array([w * theta.iloc[t].mean() for *_, t in _windows(ds, "B")])
    assert np.max(np.abs(est - truth)) < 0.1
    assert np.ptp(truth) > 0.3 * abs(w)
    est_c = np.array([coef[0] for _, coef, _, _ in _windows(ds, "C")])
    assert np.ptp(est_c) < 0.15  # C's mechanism does not drift


def test_nonstationary_noise_drift_matches_the_data():
    g = nx.DiGraph(NAMED_GRAPHS["fork"])
    ds = nonstationary(g, 5000, changing=["C"], drift="random_walk", parameter="noise", random_state=5)
    sigma = ds.metadata["parameters"]["C"]
    for _, _, v, t in _windows(ds, "C"):
        assert np.sqrt(v) == pytest.approx(np.sqrt(np.mean(sigma.iloc[t] ** 2)), rel=0.1)
    base = np.sqrt(ds.scm.noise["C"].var)
    assert sigma.min() >= base / 2 - 1e-12 and sigma.max() <= 2 * base + 1e-12


@pytest.mark.parametrize("drift", ["sine", "random_walk", "linear"])
def test_drifts_are_smooth(drift):
    ds = nonstationary(nx.DiGraph(NAMED_GRAPHS["asia"]), 1000, changing=3, drift=drift, random_state=0)
    params = ds.metadata["parameters"]
    assert params.shape == (1000, 3)
    for node in params:
        p = params[node].to_numpy()
        assert np.max(np.abs(np.diff(p))) < 0.05 * np.ptp(p)


def test_nonstationary_coefficient_needs_parents():
    g = nx.DiGraph(NAMED_GRAPHS["chain"])
    with pytest.raises(ParameterError, match="'A'"):
        nonstationary(g, 100, changing=["A"], parameter="coefficient", random_state=0)
    ds = nonstationary(g, 100, changing=2, parameter="coefficient", random_state=0)
    assert ds.changed_nodes == {"B", "C"}


# --------------------------------------------------------------------- time_series
def _lagged_design(X, max_lag):
    T = X.shape[0]
    return np.hstack([X[max_lag - tau : T - tau] for tau in range(1, max_lag + 1)])


@pytest.mark.parametrize("contemporaneous", [False, True])
def test_time_series_ols_recovers_the_lagged_coefficients(contemporaneous):
    L = 2
    ds = time_series(5, 5000, L, contemporaneous=contemporaneous, n_links=6, random_state=21)
    assert ds.kind == "time_series"
    C = ds.metadata["coefficients"]
    X = ds.data.to_numpy()
    lagged = _lagged_design(X, L)  # column tau-1 block, series i: X_i(t - tau)
    now = X[L:]
    for j in range(5):
        cont = np.nonzero(C[:, j, 0])[0]
        _, coef, _ = _ols(now[:, j], np.hstack([lagged, now[:, cont]]))
        true = np.concatenate([C[:, j, tau] for tau in range(1, L + 1)] + [C[cont, j, 0]])
        assert np.max(np.abs(coef - true)) < 0.06, (j, coef, true)
    assert (C[:, :, 0] != 0).any() == contemporaneous


def test_time_series_ground_truth_is_consistent():
    ds = time_series(6, 200, 3, contemporaneous=True, n_links=12, random_state=2)
    A, C, links = ds.metadata["lag_array"], ds.metadata["coefficients"], ds.metadata["links"]
    assert A.shape == (6, 6, 4) and A.dtype == np.int64
    assert np.array_equal(A, (C != 0).astype(int))
    assert len(links) == A.sum() == 6 + 12
    names = list(ds.data.columns)
    for row in links.itertuples():
        i, j = names.index(row.source), names.index(row.target)
        assert A[i, j, row.lag] == 1 and C[i, j, row.lag] == pytest.approx(row.coefficient)
    assert np.all(np.diagonal(A[:, :, 1]) == 1)  # autocorrelation
    assert nx.is_directed_acyclic_graph(nx.DiGraph([(names[i], names[j]) for i, j in zip(*np.nonzero(A[:, :, 0]))]))
    summary = {(u, v) for u, v in ds.graph.edges}
    assert summary == {(r.source, r.target) for r in links.itertuples() if r.source != r.target}
    for u, v, lags in ds.graph.edges(data="lags"):
        assert lags == sorted(links[(links.source == u) & (links.target == v)]["lag"].tolist())


def test_time_series_is_rescaled_to_stability():
    ds = time_series(4, 2000, 2, coefficient_range=(1.0, 2.0), autocorrelation=0.9, n_links=8, random_state=0)
    assert ds.metadata["rescaled_by"] < 1 and ds.metadata["spectral_radius"] < 0.9
    X = ds.data.to_numpy()
    assert np.isfinite(X).all()
    first, second = X[:1000].std(axis=0), X[1000:].std(axis=0)
    assert np.allclose(first, second, rtol=0.3)  # stationary: no growth


def test_time_series_nonlinear_and_corner_cases():
    ds = time_series(5, 1000, 2, nonlinear=True, n_links=8, random_state=3)
    links = ds.metadata["links"]
    cross = links[links.source != links.target]
    assert set(cross["function"]) <= {"tanh", "sin", "relu"} and len(cross) == 8
    assert set(links[links.source == links.target]["function"]) == {"linear"}
    assert np.isfinite(ds.data.to_numpy()).all()
    single = time_series(1, 100, 1, random_state=0)
    assert single.data.shape == (100, 1) and len(single.metadata["links"]) == 1
    none = time_series(3, 50, 1, autocorrelation=None, n_links=0, random_state=0)
    assert none.metadata["lag_array"].sum() == 0 and none.graph.number_of_edges() == 0


def test_time_series_carries_its_lagged_graph():
    for kw in (dict(contemporaneous=True, n_links=9), dict(contemporaneous=False, nonlinear=True), dict(autocorrelation=None, n_links=0)):
        ds = time_series(5, 50, 3, random_state=4, **kw)
        truth = ds.metadata["lagged_graph"]
        assert isinstance(truth, LaggedGraph) and truth.tau_max == 3 and truth.nodes == tuple(ds.data.columns)
        assert truth == LaggedGraph.from_array(ds.metadata["lag_array"], nodes=ds.data.columns)  # the array stays, for old code
        assert sorted(truth.summary_graph().edges) == sorted(ds.graph.edges)
        assert ds.metadata["process"].graph == truth


def test_draw_lagged_structure_links_order_and_stability():
    p = draw_lagged_structure(6, max_lag=2, contemporaneous=True, n_links=10, coefficient_range=(1.0, 2.0), random_state=5)
    assert isinstance(p, VARProcess) and p.noise is None and p.nodes == tuple(f"X{i}" for i in range(6))
    assert len(p.links) == 6 + 10 and {(s, t, tau) for s, t, tau, *_ in p.links} == set(p.graph.lagged_links) | {
        (s, t, 0) for s, t in p.graph.directed_contemporaneous}
    rank = {n: k for k, n in enumerate(p.contemporaneous_order)}
    assert all(rank[s] < rank[t] for s, t, tau, *_ in p.links if tau == 0)  # lag 0 follows the causal order
    assert p.rescaled_by < 1 and p.spectral_radius < 0.9  # strong links were scaled down
    C = p.coefficients
    assert C.shape == (6, 6, 3) and np.count_nonzero(C) == len(p.links)
    table = p.links_table()
    assert list(table.columns) == ["source", "target", "lag", "coefficient", "function"] and len(table) == 16
    again = draw_lagged_structure(6, max_lag=2, contemporaneous=True, n_links=10, coefficient_range=(1.0, 2.0), random_state=5)
    assert again.links == p.links
    with pytest.raises(ParameterError, match="'max_lag' parameter of draw_lagged_structure"):
        draw_lagged_structure(3, max_lag=0)


def test_draw_innovations_one_noise_per_series():
    p = draw_lagged_structure(4, 1, random_state=0)
    q = draw_innovations(p, "uniform", (0.5, 2.0), random_state=1)
    assert p.noise is None and len(q.noise) == 4 and q.links == p.links
    assert all(0.5**2 - 1e-12 <= nz.var <= 2.0**2 + 1e-12 for nz in q.noise)
    fixed = draw_innovations(p, Laplace(1.0), random_state=1)
    assert all(nz is fixed.noise[0] for nz in fixed.noise)
    with pytest.raises(ParameterError, match="'noise' parameter of draw_innovations"):
        draw_innovations(p, "cauchy")


def test_simulate_var_runs_the_recursion():
    p = draw_lagged_structure(2, 1, contemporaneous=True, n_links=1, autocorrelation=0.5, random_state=3)
    (src, dst, lag, c, _), = [link for link in p.links if link[0] != link[1]]
    p = draw_innovations(p, Gaussian(0.0), random_state=0)  # no noise: the series stay at zero
    assert (simulate_var(p, 20, random_state=0).to_numpy() == 0).all()
    q = draw_innovations(p, Gaussian(0.0, 1.0), random_state=0)  # constant innovations of 1
    x = simulate_var(q, 30, burn_in=0, random_state=0)
    assert x.index.name == "time" and list(x.columns) == ["X0", "X1"]
    a = dict(((s, t, tau), coef) for s, t, tau, coef, _ in q.links)
    prev = np.zeros(2)
    for t in range(30):  # x_t = C_1^T x_{t-1} + C_0^T x_t + 1, solved in the causal order
        cur = np.ones(2)
        for j, name in enumerate(["X0", "X1"]):
            cur[j] += a[(name, name, 1)] * prev[j]
        if lag == 1:
            cur[["X0", "X1"].index(dst)] += c * prev[["X0", "X1"].index(src)]
        else:
            cur[["X0", "X1"].index(dst)] += c * cur[["X0", "X1"].index(src)]
        np.testing.assert_allclose(x.iloc[t].to_numpy(), cur, rtol=1e-12)
        prev = cur
    with pytest.raises(ParameterError, match="draw_innovations first"):
        simulate_var(draw_lagged_structure(2, 1, random_state=0), 10)


def test_time_series_is_its_three_phases():
    rng = np.random.default_rng(8)
    process = draw_lagged_structure(4, 3, False, True, n_links=5, random_state=rng)
    process = draw_innovations(process, "laplace", random_state=rng)
    data = simulate_var(process, 300, burn_in=50, random_state=rng)
    ds = time_series(4, 300, 3, False, True, n_links=5, noise="laplace", burn_in=50, random_state=8)
    pd.testing.assert_frame_equal(ds.data, data, check_exact=True)
    assert ds.metadata["lagged_graph"] == process.graph


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: random_dag(0, 0), "'n_nodes'.*range \\[1, inf\\).*got 0"),
        (lambda: random_dag(2.5, 1), "'n_nodes'.*must be an int"),
        (lambda: random_dag(5, -1), "'expected_degree'.*range \\[0, 4\\].*got -1"),
        (lambda: random_dag(5, 4.5), "'expected_degree'.*got 4.5"),
        (lambda: random_dag(5, 2, kind="BA"), "'kind'.*\\['ER', 'SF'\\].*'BA'"),
        (lambda: random_dag(5, 2, prefix=3), "'prefix'"),
        (lambda: random_scm(nx.DiGraph([("A", "B")]), kind="quadratic"), "\\['linear', 'mlp', 'gp'\\].*'quadratic'"),
        (lambda: random_scm(nx.DiGraph([("A", "B")]), noise="cauchy"), "'noise'.*'gaussian', 'uniform', 'laplace'.*'cauchy'"),
        (lambda: random_scm(nx.DiGraph([("A", "B")]), noise_scale=(1.0, 0.5)), "'noise_scale'.*low <= high"),
        (lambda: random_scm(nx.DiGraph([("A", "B")]), noise_scale=0), "'noise_scale'.*0 < low"),
        (lambda: random_scm(nx.DiGraph([("A", "B")]), weight_range=(-1, 2)), "'weight_range'"),
        (lambda: simulate(n_samples=0), "'n_samples'"),
        (lambda: simulate(scm_kind="nn"), "'scm_kind'.*\\['linear', 'mlp', 'gp'\\]"),
        (lambda: simulate(graph_kind="WS"), "'graph_kind'.*\\['ER', 'SF'\\]"),
        (lambda: multi_environment(nx.DiGraph([("A", "B")]), 1), "'n_environments'.*\\[2, inf\\)"),
        (lambda: multi_environment(nx.DiGraph([("A", "B")]), change="swap"), "'change'.*\\['shift', 'mechanism', 'noise', 'mixed'\\]"),
        (lambda: multi_environment(nx.DiGraph([("A", "B")]), changing=3), "'changing'.*\\[0, 2\\]"),
        (lambda: multi_environment(nx.DiGraph([("A", "B")]), strength=0), "'strength'"),
        (lambda: multi_environment(nx.DiGraph([("A", "B")]), 3, [10, 10]), "2 sizes for 3 environments"),
        (lambda: nonstationary(nx.DiGraph([("A", "B")]), drift="step"), "'drift'.*\\['sine', 'random_walk', 'linear'\\]"),
        (lambda: nonstationary(nx.DiGraph([("A", "B")]), parameter="slope"), "'parameter'.*\\['intercept', 'coefficient', 'noise'\\]"),
        (lambda: time_series(max_lag=0), "'max_lag'"),
        (lambda: time_series(2, 10, 1, contemporaneous=False, n_links=3), "'n_links'.*\\[0, 2\\]"),
        (lambda: time_series(max_spectral_radius=1.0), "'max_spectral_radius'"),
        (lambda: time_series(nonlinear="yes"), "'nonlinear'.*bool"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_unknown_changing_node_is_named():
    with pytest.raises(UnknownNodeError, match="'Z'"):
        multi_environment(nx.DiGraph([("A", "B")]), changing=["Z"])
    with pytest.raises(CycleError):  # a cyclic "DAG" is refused too
        random_scm(nx.DiGraph([("A", "B"), ("B", "A")]))
    assert issubclass(ParameterError, ValueError)


def test_models_are_plain_scms():
    assert isinstance(random_scm(random_dag(3, 1, random_state=0), random_state=0), SCM)


def test_discrete_nodes_do_not_change():
    model = SCM(nx.DiGraph([("D", "Y")]), {"D": Discrete([0.3, 0.7]), "Y": Linear({"D": 1.0})})
    with pytest.raises(ParameterError, match="discrete"):
        multi_environment(model, changing=["D"], random_state=0)
    with pytest.raises(ParameterError, match="discrete"):
        nonstationary(model, 20, changing=["D"], random_state=0)
    assert multi_environment(model, 2, 20, changing=1, random_state=0).changed_nodes == {"Y"}
    assert nonstationary(model, 20, changing=1, parameter="noise", random_state=0).changed_nodes == {"Y"}
