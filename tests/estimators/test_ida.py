"""estimators.ida: closed forms, the enumeration oracle, finite samples, errors; effect() on a CPDAG."""

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scm
from estimators import EffectRange, IDAResult, NotIdentifiableError, effect, ida
from scm import PDAG, SCM, CycleError, DataError, GraphError, ParameterError, UnknownNodeError, cpdag, dags_in_class
from scm.simulate import random_dag, random_scm


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _linear(edges, nodes=None):
    """A linear SCM with unit-variance Gaussian noise from ``(a, b, weight)`` triples."""
    names = list(nodes) if nodes else list(dict.fromkeys(v for a, b, _ in edges for v in (a, b)))
    w = pd.DataFrame(0.0, index=names, columns=names)
    for a, b, weight in edges:
        w.loc[a, b] = weight
    return SCM.from_linear(w)


def _oracle(model, graph, x, y, **kw):
    """IDA with the model's exact covariance."""
    return ida(graph, treatment=x, outcome=y, covariance=model.interventional_cov(), n_obs="population", **kw)


def _weights(model) -> pd.DataFrame:
    """The weight matrix B of a linear SCM (B[i, j]: direct effect of i on j)."""
    nodes, B, *_ = model._linear_system()
    return pd.DataFrame(B, index=nodes, columns=nodes)


def _total_effects(B: pd.DataFrame) -> pd.DataFrame:
    """Sum over directed paths of the products of the weights: (I - B)^-1 (T[i, j]: total effect of i on j)."""
    d = len(B)
    return pd.DataFrame(np.linalg.inv(np.eye(d) - B.to_numpy()), index=B.index, columns=B.columns)


def _per_dag_effect(cov: pd.DataFrame, dag: nx.DiGraph, x, y) -> float:
    """The total effect of x on y in the linear SEM on ``dag`` that has covariance ``cov``: each node's weights by
    regressing it on its parents in ``dag`` (population moments), then the path sum. Independent of IDA's formula."""
    nodes = list(cov.index)
    S = cov.to_numpy()
    pos = {v: i for i, v in enumerate(nodes)}
    B = np.zeros((len(nodes), len(nodes)))
    for v in nodes:
        pa = [pos[p] for p in dag.predecessors(v)]
        if pa:
            B[pa, pos[v]] = np.linalg.solve(S[np.ix_(pa, pa)], S[pa, pos[v]])
    return float(_total_effects(pd.DataFrame(B, index=nodes, columns=nodes)).loc[x, y])


def _distinct(values, tol=1e-9) -> np.ndarray:
    v = np.sort(np.asarray(values, dtype=float))
    keep = np.concatenate([[True], np.diff(v) > tol]) if len(v) else np.zeros(0, bool)
    return v[keep]


# --------------------------------------------------------------------------- closed forms
def test_two_node_class():
    """x - y: x -> y gives the regression slope, y -> x gives 0 (y is a parent of x)."""
    model = _linear([("x", "y", 2.0)])
    res = _oracle(model, cpdag(model.graph), "x", "y")
    assert list(res.table["parents"]) == [(), ("y",)]
    np.testing.assert_allclose(res.effects, [2.0, 0.0], atol=1e-12)
    assert "y is a parent of x" in res.table["note"].iloc[1]
    assert not res.identified


def test_chain():
    """z -> x -> y: the CPDAG z - x - y lets x have parents {}, {z} or {y} (not both: z, y are not adjacent)."""
    model = _linear([("z", "x", 1.5), ("x", "y", -0.7)])
    for method in ("local", "optimal"):
        res = _oracle(model, cpdag(model.graph), "x", "y", method=method)
        assert list(res.table["parents"]) == [(), ("z",), ("y",)]
        np.testing.assert_allclose(res.effects, [-0.7, -0.7, 0.0], atol=1e-12)
    glob = _oracle(model, cpdag(model.graph), "x", "y", method="global")  # three DAGs: z->x->y, z<-x->y, z<-x<-y
    assert sorted(glob.table["parents"]) == [(), ("y",), ("z",)]


def test_collider_identifies_the_effect():
    """z -> x <- w, x -> y: every edge is compelled, one parent set, one effect."""
    model = _linear([("z", "x", 1.0), ("w", "x", -1.0), ("x", "y", 0.8)])
    g = cpdag(model.graph)
    assert not g.undirected_edges
    res = _oracle(model, g, "x", "y")
    assert res.identified and list(res.table["parents"]) == [("z", "w")]
    np.testing.assert_allclose(res.effects, [0.8], atol=1e-12)
    assert "identified" in res.summary()


def test_undirected_neighbours_triangle():
    """z -> x, z -> y, x -> y (weights 1, 0.5, 2): the CPDAG is a triangle; every subset of {z, y} is a clique.

    {}: cov(x, y) / var(x) = (2 * 2 + 0.5 * 1) / 2 = 2.25; {z}: 2; {y}, {z, y}: 0."""
    model = _linear([("z", "x", 1.0), ("z", "y", 0.5), ("x", "y", 2.0)])
    res = _oracle(model, cpdag(model.graph), "x", "y")
    assert list(res.table["parents"]) == [(), ("z",), ("y",), ("z", "y")]
    np.testing.assert_allclose(res.effects, [2.25, 2.0, 0.0, 0.0], atol=1e-12)
    assert res.range == EffectRange(0.0, 2.25, 0.0, 2.25)
    assert np.all(res.table["std_err"] == 0) and res.n_obs == "population"


def test_witte_figure_4b():
    """The DAG of Witte, Henckel, Maathuis and Didelez (2020), Figure 4(b): local IDA's multiset is (0, 0, 1.5, 2.5, 2.5)
    (their code, with pcalg), the true effect 1.5."""
    edges = [("V1", "X", 1), ("V1", "V2", 1), ("V1", "V3", 1), ("X", "V3", 1), ("X", "V4", 1), ("V3", "V2", 0.5),
             ("V3", "V5", 0.5), ("V3", "Y", 1), ("V2", "Y", 0.5), ("V5", "Y", 0.5)]
    model = _linear(edges, nodes=["V1", "X", "V4", "V3", "V2", "V5", "Y"])
    assert _total_effects(_weights(model)).loc["X", "Y"] == pytest.approx(1.5)
    g = cpdag(model.graph)
    local = _oracle(model, g, "X", "Y")
    np.testing.assert_allclose(np.sort(local.effects), [0, 0, 1.5, 2.5, 2.5], atol=1e-12)
    optimal = _oracle(model, g, "X", "Y", method="optimal")
    np.testing.assert_allclose(optimal.effects, local.effects, atol=1e-12)
    assert list(optimal.table["parents"]) == list(local.table["parents"])
    # the O-set differs from the parents where it can: it never holds the treatment's parents that only confound
    assert any(a != p for a, p in zip(optimal.table["adjustment"], optimal.table["parents"]))


def test_outcome_parent_of_treatment_is_zero():
    """y -> x <- w compelled: y is a parent of x in every DAG, so the effect is 0 (and not regressed)."""
    model = _linear([("y", "x", 1.0), ("w", "x", 1.0)])
    res = _oracle(model, cpdag(model.graph), "x", "y")
    assert list(res.table["parents"]) == [("y", "w")]
    assert res.table.loc[0, ["effect", "std_err", "ci_low", "ci_high"]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert res.identified


def test_dag_input_has_one_row():
    model = _linear([("z", "x", 1.0), ("z", "y", 0.5), ("x", "y", 2.0)])
    for graph in (model.graph, PDAG(model.graph.nodes, model.graph.edges)):
        res = _oracle(model, graph, "x", "y")
        assert res.identified and list(res.table["parents"]) == [("z",)]
        np.testing.assert_allclose(res.effects, [2.0], atol=1e-12)


# --------------------------------------------------------------------------- the enumeration oracle
def _random_case(seed):
    n = (5, 6, 8, 10)[seed % 4]
    dag = random_dag(n, expected_degree=2.0 + (seed % 3) * 0.5, random_state=seed)
    return dag, random_scm(dag, kind="linear", random_state=seed)


def _check_against_enumeration(dag, model, pairs):
    cov = model.interventional_cov()
    truth = _total_effects(_weights(model))
    g = cpdag(dag)
    members = dags_in_class(g, limit=None)
    for x, y in pairs:
        local = _oracle(model, g, x, y)
        glob = _oracle(model, g, x, y, method="global")
        optimal = _oracle(model, g, x, y, method="optimal")
        per_dag = [_per_dag_effect(cov, d, x, y) for d in members]
        # global IDA = one effect per DAG of the class, with multiplicities (Maathuis et al. 2009)
        np.testing.assert_allclose(np.sort(glob.effects), np.sort(per_dag), atol=1e-10)
        # local IDA: the same distinct values (Theorem 3.1), one per locally valid parent set
        np.testing.assert_allclose(_distinct(local.effects), _distinct(per_dag), atol=1e-10)
        assert set(local.table["parents"]) == set(glob.table["parents"])
        assert len(local.table) == len(set(local.table["parents"]))
        # optimal IDA: the same parent sets; any valid adjustment set gives the same population effect
        assert list(optimal.table["parents"]) == list(local.table["parents"])
        np.testing.assert_allclose(optimal.effects, local.effects, atol=1e-10)
        # the true effect (path sum of the true weights) is one of them
        assert np.min(np.abs(local.effects - truth.loc[x, y])) < 1e-10


@pytest.mark.parametrize("seed", [0, 1, 2, 3, pytest.param(4, marks=pytest.mark.slow), pytest.param(5, marks=pytest.mark.slow)])
def test_population_ida_equals_the_enumerated_class(seed):
    dag, model = _random_case(seed)
    rng = np.random.default_rng(seed)
    nodes = list(dag.nodes)
    pairs = [tuple(rng.choice(nodes, 2, replace=False)) for _ in range(4)]
    _check_against_enumeration(dag, model, pairs)


@pytest.mark.slow
def test_population_ida_on_50_random_cpdags():
    """The study of docs/benchmarks.md ("IDA against the enumerated class"), as a test: 50 graphs of 5 to 10 nodes,
    6 (x, y) pairs each."""
    for seed in range(100, 150):
        dag, model = _random_case(seed)
        rng = np.random.default_rng(seed)
        nodes = list(dag.nodes)
        _check_against_enumeration(dag, model, [tuple(rng.choice(nodes, 2, replace=False)) for _ in range(6)])


# --------------------------------------------------------------------------- finite samples
def _ols_reference(data, x, y, adjustment, alpha):
    """Textbook OLS on the raw columns: coefficient of x, its standard error, the t interval."""
    X = np.column_stack([np.ones(len(data)), data[[x, *adjustment]].to_numpy()])
    Y = data[y].to_numpy()
    beta, *_ = np.linalg.lstsq(X, Y, rcond=None)
    df = len(Y) - X.shape[1]
    sigma2 = np.sum((Y - X @ beta) ** 2) / df
    se = np.sqrt(sigma2 * np.linalg.inv(X.T @ X)[1, 1])
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return beta[1], se, beta[1] - half, beta[1] + half


def test_standard_errors_are_ols():
    model = _linear([("z", "x", 1.0), ("z", "y", 0.5), ("x", "y", 2.0), ("x", "m", 1.0)])
    data = model.sample(300, random_state=3)
    for method in ("local", "optimal", "global"):
        res = ida(cpdag(model.graph), data, "x", "y", method=method, alpha=0.1)
        assert res.n_obs == 300
        for _, row in res.table.iterrows():
            if row["note"]:
                assert row["effect"] == 0.0 and row["std_err"] == 0.0
                continue
            np.testing.assert_allclose(row[["effect", "std_err", "ci_low", "ci_high"]].to_numpy(float),
                                       _ols_reference(data, "x", "y", list(row["adjustment"]), 0.1), rtol=1e-9)


def test_covariance_input_matches_data():
    model = _linear([("z", "x", 1.0), ("z", "y", 0.5), ("x", "y", 2.0)])
    data = model.sample(200, random_state=4)
    a = ida(cpdag(model.graph), data, "x", "y")
    b = ida(cpdag(model.graph), treatment="x", outcome="y", covariance=data.cov(), n_obs=200)
    pd.testing.assert_frame_equal(a.table, b.table, rtol=1e-10)


def test_scale_of_a_column_rescales_exactly():
    model = _linear([("z", "x", 1.0), ("z", "y", 0.5), ("x", "y", 2.0)])
    data = model.sample(500, random_state=5)
    base = ida(cpdag(model.graph), data, "x", "y").table
    big = ida(cpdag(model.graph), data.assign(x=data["x"] * 1e200, z=data["z"] * 1e-200), "x", "y").table
    cols = ["effect", "std_err", "ci_low", "ci_high"]
    np.testing.assert_allclose(big[cols].to_numpy(float) * 1e200, base[cols].to_numpy(float), rtol=1e-9)


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_estimates_converge_to_the_oracle(seed):
    """The rows of local IDA on n samples approach the population rows (same parent sets, same order) at rate
    1/sqrt(n); here: the largest error of one graph's rows at n = 1e5 is below that at n = 1e3 / 4."""
    dag, model = _random_case(seed)
    x, y = (lambda e: (e[0], e[1]))(next(iter(dag.edges)))  # an edge: a pair with a non-zero effect somewhere
    g = cpdag(dag)
    oracle = _oracle(model, g, x, y)
    errors = {}
    for n in (1_000, 100_000):
        res = ida(g, model.sample(n, random_state=seed), x, y)
        assert list(res.table["parents"]) == list(oracle.table["parents"])
        errors[n] = np.max(np.abs(res.effects - oracle.effects))
    assert errors[100_000] < errors[1_000] / 4


# --------------------------------------------------------------------------- errors
def _small():
    model = _linear([("z", "x", 1.0), ("x", "y", 2.0)])
    return model, cpdag(model.graph), model.sample(100, random_state=0)


def test_named_errors():
    model, g, data = _small()
    with pytest.raises(UnknownNodeError, match="treatment 'nope'"):
        ida(g, data, "nope", "y")
    with pytest.raises(UnknownNodeError, match="outcome 'nope'"):
        ida(g, data, "x", "nope")
    with pytest.raises(ParameterError, match="same node 'x'"):
        ida(g, data, "x", "x")
    with pytest.raises(ParameterError, match="'method'"):
        ida(g, data, "x", "y", method="semi-local")
    with pytest.raises(ParameterError, match="'alpha'"):
        ida(g, data, "x", "y", alpha=1.5)
    with pytest.raises(ParameterError, match="one treatment"):
        ida(g, data, ["x", "z"], "y")
    with pytest.raises(GraphError, match="bidirected"):
        ida(PDAG(["x", "y", "z"], directed=[("z", "x"), ("x", "y")], bidirected=[("x", "y")]), data, "x", "y")
    with pytest.raises(CycleError, match="x -> y -> z -> x|y -> z -> x -> y|z -> x -> y -> z"):
        ida(PDAG(["x", "y", "z"], directed=[("x", "y"), ("y", "z"), ("z", "x")]), data, "x", "y")
    with pytest.raises(GraphError, match="networkx.DiGraph"):
        ida("x -> y", data, "x", "y")
    with pytest.raises(DataError, match="'z'"):
        ida(g, data.assign(z=[f"s{i}" for i in range(100)]), "x", "y")
    with pytest.raises(DataError, match="'z'"):
        ida(g, data.assign(z=np.where(np.arange(100) == 5, np.nan, data["z"])), "x", "y")
    with pytest.raises(DataError, match="constant"):
        ida(g, data.assign(z=1.0), "x", "y")
    with pytest.raises(DataError, match="collinear"):
        ida(g, data.assign(z=2 * data["x"]), "x", "y")
    with pytest.raises(UnknownNodeError, match="'z'"):
        ida(g, data.drop(columns="z"), "x", "y")
    with pytest.raises(DataError, match="rows"):
        ida(g, data.iloc[:2], "x", "y")
    with pytest.raises(ParameterError, match="n_obs"):
        ida(g, treatment="x", outcome="y", covariance=data.cov())
    with pytest.raises(ParameterError, match="either data"):
        ida(g, data, "x", "y", covariance=data.cov(), n_obs=100)
    with pytest.raises(ParameterError, match="limit=1 "):
        ida(g, data, "x", "y", limit=1)
    with pytest.raises(ParameterError, match="more than limit=2 DAGs.*method='local'"):
        ida(g, data, "x", "y", method="global", limit=2)


def test_a_pdag_that_is_not_a_cpdag_needs_global():
    """A triangle with x -> y known (background knowledge): not the CPDAG of any DAG; 'global' enumerates the three
    DAGs it represents (the fourth orientation, y -> z -> x, closes a cycle)."""
    model = _linear([("x", "y", 1.0), ("y", "z", 1.0), ("x", "z", 0.5)])
    g = PDAG(["x", "y", "z"], directed=[("x", "y")], undirected=[("y", "z"), ("x", "z")])
    with pytest.raises(GraphError, match="not the CPDAG"):
        _oracle(model, g, "y", "z")
    res = _oracle(model, g, "y", "z", method="global")
    assert sorted(res.table["parents"]) == [("x",), ("x", "z"), ("x", "z")]
    np.testing.assert_allclose(sorted(res.effects), [0.0, 0.0, 1.0], atol=1e-12)


def test_result_summary_says_these_are_possible_effects():
    model, g, data = _small()
    res = ida(g, data, "x", "y")
    assert isinstance(res, IDAResult)
    text = res.summary()
    assert "possible effects" in text and "not their average" in text and "95% intervals" in text
    assert repr(res).startswith("IDAResult(treatment='x', outcome='y', method='local', 3 possible effects in [")
    r = res.range
    assert r.low == res.effects.min() and r.high == res.effects.max()
    assert r.ci_low == res.table["ci_low"].min() and r.ci_high == res.table["ci_high"].max()


# --------------------------------------------------------------------------- effect() on a CPDAG
def test_effect_on_a_cpdag_that_does_not_identify_reports_the_range():
    model = _linear([("z", "x", 1.0), ("z", "y", 0.5), ("x", "y", 2.0)])
    data = model.sample(1000, random_state=7)
    g = cpdag(model.graph)
    res = effect(data, g, "x", "y")
    assert not res.identified
    assert np.isnan(res.estimate) and np.isnan(res.std_err)
    expected = ida(g, data, "x", "y", method="optimal")
    pd.testing.assert_frame_equal(res.possible_effects.table, expected.table)
    assert res.range == expected.range
    assert res.conf_int == (expected.range.ci_low, expected.range.ci_high)
    assert "not identified" in repr(res) and "possible effects" in res.explanation
    with pytest.raises(ParameterError, match="estimator='auto'"):
        effect(data, g, "x", "y", estimator="aipw")
    with pytest.raises(NotIdentifiableError, match="every node observed"):
        effect(data.drop(columns="z"), g, "x", "y")


def test_effect_on_an_amenable_cpdag_is_one_number():
    """x -> y with x's other edges directed: the CPDAG identifies the effect; effect() estimates it as before."""
    model = _linear([("z", "x", 1.0), ("w", "x", 1.0), ("x", "y", 2.0)])
    data = model.sample(1000, random_state=8)
    res = effect(data, cpdag(model.graph), "x", "y", random_state=0)
    assert res.identified and res.possible_effects is None
    assert res.range == EffectRange(res.estimate, res.estimate, *res.conf_int)
    assert abs(res.estimate - 2.0) < 4 * res.std_err


# --------------------------------------------------------------------------- the Sachs reproducer (issue 27)
# The CPDAG that PC (Fisher-z, alpha 0.05) learns from the observational Sachs data; checked against a fresh PC
# fit in the slow test below.
SACHS_PC = PDAG(
    ["raf", "mek", "plc", "pip2", "pip3", "erk", "akt", "pka", "pkc", "p38", "jnk"],
    directed=[("p38", "pkc"), ("jnk", "pkc")],
    undirected=[("raf", "mek"), ("plc", "pip3"), ("pip2", "pip3"), ("erk", "akt"), ("erk", "pka"), ("akt", "pka")],
)


def test_sachs_raf_on_mek_is_a_range_over_both_orientations():
    """consistent_extension picks mek -> raf, so do(raf = 4) left mek unchanged; the class also holds raf -> mek."""
    data = scm.datasets.load_sachs().data
    res = ida(SACHS_PC, data, "raf", "mek")
    assert list(res.table["parents"]) == [(), ("mek",)]
    slope = float(np.polyfit(data["raf"], data["mek"], 1)[0])
    np.testing.assert_allclose(res.effects, [slope, 0.0], rtol=1e-9)
    assert slope > 0 and res.range.low == 0.0 and res.range.high == pytest.approx(slope, rel=1e-9)
    models = SCM.fit(SACHS_PC, data, orientation="all")
    assert len(models) == len(dags_in_class(SACHS_PC)) == 36
    answer = models.interventional_mean({"raf": 4.0}).loc["mek"]
    raf_to_mek = [i for i, d in enumerate(models.graphs) if d.has_edge("raf", "mek")]
    mek_to_raf = [i for i, d in enumerate(models.graphs) if d.has_edge("mek", "raf")]
    assert raf_to_mek and mek_to_raf
    unchanged = answer[[f"dag_{i}" for i in mek_to_raf]]
    moved = answer[[f"dag_{i}" for i in raf_to_mek]]
    np.testing.assert_allclose(unchanged, data["mek"].mean(), rtol=1e-9)  # mek -> raf: setting raf leaves mek alone
    np.testing.assert_allclose(moved, data["mek"].mean() + slope * (4.0 - data["raf"].mean()), rtol=1e-9)
    assert answer["min"] == min(unchanged.min(), moved.min()) and answer["max"] == max(unchanged.max(), moved.max())
    with pytest.warns(scm.OrientationWarning, match="mek -> raf"):
        one = SCM.fit(SACHS_PC, data, orientation="extension")
    assert one.interventional_mean({"raf": 4.0})["mek"] == pytest.approx(data["mek"].mean())


@pytest.mark.slow
def test_sachs_pc_cpdag_is_the_fixture():
    from discovery import PC

    assert PC().fit(scm.datasets.load_sachs().data).graph_ == SACHS_PC


# --------------------------------------------------------------------------- helpers of the oracle
def test_per_dag_oracle_is_the_path_sum_in_the_true_dag():
    for seed in range(3):
        dag, model = _random_case(seed)
        cov = model.interventional_cov()
        truth = _total_effects(_weights(model))
        for x, y in itertools.permutations(list(dag.nodes)[:4], 2):
            assert _per_dag_effect(cov, dag, x, y) == pytest.approx(truth.loc[x, y], abs=1e-10)
