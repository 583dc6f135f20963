"""estimators.effect: choices, explanations, SCM queries and errors."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from estimators import AIPW, NotIdentifiableError, effect
from scm import PDAG, SCM, AdditiveNoise, Linear


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _binary_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    x = (rng.random(n) < 1 / (1 + np.exp(-0.7 * z))).astype(float)
    return pd.DataFrame({"z": z, "x": x, "y": 1.5 * x + z + rng.normal(size=n)})


G = nx.DiGraph([("z", "x"), ("z", "y"), ("x", "y")])


def test_binary_uses_aipw_and_explains():
    res = effect(_binary_data(), G, "x", "y", random_state=0)
    assert res.method == "adjustment: AIPW"
    assert isinstance(res.estimator, AIPW)
    assert res.adjustment_set == ["z"]
    assert abs(res.estimate - 1.5) < 4 * res.std_err
    assert "O-set" in res.explanation and "doubly robust" in res.explanation
    assert res.estimand == "Σ_{z} P(y | x, z) P(z)"


def test_continuous_uses_doubleml():
    model = scm.SCM.from_linear(pd.DataFrame([[0, 1, 1], [0, 0, 2], [0, 0, 0]], index=list("zxy"), columns=list("zxy"), dtype=float))
    res = effect(model.sample(2000, random_state=1), model.graph, "x", "y", random_state=0)
    assert res.method == "adjustment: DoubleML"
    assert abs(res.estimate - 2.0) < 4 * res.std_err
    assert res.dose_response is not None


def test_scm_closed_form_and_simulation():
    g = nx.DiGraph([("z", "x"), ("z", "y"), ("x", "y")])
    lin = SCM(g, {"z": Linear(), "x": Linear({"z": 1.0}), "y": Linear({"x": 2.0, "z": 1.0})})
    res = effect(lin, treatment="x", outcome="y", value=[0.0, 1.0, 2.0])
    assert res.method == "closed form"
    np.testing.assert_allclose(res.dose_response.estimate, [0.0, 2.0, 4.0])
    nonlin = SCM(g, {"z": Linear(), "x": Linear({"z": 1.0}), "y": AdditiveNoise(lambda P: P[:, 1] ** 2 + P[:, 0])})
    res = effect(nonlin, treatment="x", outcome="y", value=2.0, baseline=0.0, n_samples=20_000, random_state=0)
    assert res.method == "simulation"
    assert abs(res.estimate - 4.0) < 4 * res.std_err + 1e-9
    assert "simulation" in res.explanation


def test_front_door_by_id_plug_in():
    rng = np.random.default_rng(3)
    n = 20_000
    u = rng.random(n) < 0.5
    x = (rng.random(n) < np.where(u, 0.8, 0.2)).astype(int)
    m = (rng.random(n) < np.where(x == 1, 0.9, 0.1)).astype(int)
    y = (rng.random(n) < 0.1 + 0.5 * m + 0.3 * u).astype(int)
    data = pd.DataFrame({"x": x, "m": m, "y": y})
    fd = PDAG.from_edges([("x", "m"), ("m", "y"), ("x", "y", "bidirected")])
    res = effect(data, fd, "x", "y", random_state=0)
    assert res.method == "ID: plug-in"
    assert abs(res.estimate - 0.5 * 0.8) < 4 * res.std_err  # P(m=1|do x=1) - P(m=1|do x=0) = 0.8
    assert "Σ_{m}" in res.estimand


def test_errors():
    data = _binary_data(300)
    with pytest.raises(KeyError, match="treatment 'q' is not a column"):
        effect(data, G, "q", "y")
    with pytest.raises(ValueError, match="must be one of"):
        effect(data, G, "x", "y", estimator="magic")
    bow = nx.DiGraph([("u", "x"), ("u", "y"), ("x", "y")])
    with pytest.raises(NotIdentifiableError, match="hedge") as info:
        effect(data.drop(columns="z"), bow, "x", "y")
    assert info.value.hedge is not None
    # z -> y - x is not closed under Meek's rules: they orient y -> x, so every DAG it represents has y -> x and the
    # effect of x on y is 0 (it was refused as "not identifiable by adjustment in this CPDAG" before IDA)
    cp = PDAG(["x", "y", "z"], directed=[("z", "y")], undirected=[("x", "y")])
    res = effect(data, cp, "x", "y")
    assert res.identified and (res.estimate, res.std_err, res.conf_int) == (0.0, 0.0, (0.0, 0.0))
    assert "not a CPDAG" in res.explanation and "y is a parent of x" in res.explanation
    with pytest.raises(NotIdentifiableError, match="every node observed"):
        effect(data, PDAG(["x", "y", "z"], undirected=[("x", "y"), ("y", "z")]), "x", "y", latent=["z"])


# --------------------------------------------------------------------------- a fitted SCM: uncertainty from the bootstrap
def _confounded(n=400, seed=0):
    truth = SCM(G, {"z": Linear(), "x": Linear({"z": 0.8}), "y": Linear({"x": 1.5, "z": 1.0})})
    return truth, truth.sample(n, random_state=seed)


def test_fitted_scm_without_bootstrap_has_no_interval():
    truth, data = _confounded()
    model = SCM.fit(G, data)
    res = effect(model, treatment="x", outcome="y", value=1.0, baseline=0.0)
    assert res.method == "closed form" and abs(res.estimate - 1.5) < 0.2
    assert np.isnan(res.std_err) and all(np.isnan(res.conf_int))  # never a zero-width interval for an estimated model
    assert "not available" in res.explanation and "n_bootstrap" in res.explanation
    assert res.uncertainty.interval == "not available"
    exact = effect(truth, treatment="x", outcome="y", value=1.0, baseline=0.0)  # a given model: exact, and said so
    assert exact.std_err == 0.0 and exact.conf_int == (1.5, 1.5) and "exact" in exact.explanation


def test_fitted_scm_bootstrap_matches_the_ols_standard_error():
    _, data = _confounded()
    model = SCM.fit(G, data)
    res = effect(model, treatment="x", outcome="y", value=2.0, baseline=0.0, n_bootstrap=400, random_state=0)
    D = np.column_stack([np.ones(len(data)), data[["z", "x"]].to_numpy()])
    beta, *_ = np.linalg.lstsq(D, data["y"].to_numpy(), rcond=None)
    resid = data["y"].to_numpy() - D @ beta
    se_slope = np.sqrt(resid @ resid / (len(data) - 3) * np.linalg.inv(D.T @ D)[2, 2])
    assert res.estimate == pytest.approx(2 * beta[2])
    assert res.std_err == pytest.approx(2 * se_slope, rel=0.15)  # 400 refits: ~3.5% (one sd) Monte-Carlo error
    assert res.conf_int[0] < res.estimate < res.conf_int[1]
    assert res.uncertainty.replicates.shape == (400, 1) and res.uncertainty.n_failed == 0
    assert "bootstrap: 400 refits" in res.explanation
    again = effect(model, treatment="x", outcome="y", value=2.0, baseline=0.0, n_bootstrap=400, random_state=0)
    assert again.conf_int == res.conf_int


def test_fitted_nonlinear_scm_bootstrap_and_dose_response():
    _, data = _confounded(300)
    model = SCM.fit(G, data, mechanism={"y": "spline"})
    res = effect(model, treatment="x", outcome="y", value=[0.0, 1.0], n_samples=500, n_bootstrap=50, random_state=0)
    assert res.method == "simulation" and "Monte-Carlo std. error of the estimate alone" in res.explanation
    curve = res.dose_response
    assert list(curve.columns) == ["x", "estimate", "std_err", "lower", "upper"]
    assert np.isfinite(curve[["std_err", "lower", "upper"]].to_numpy()).all()
    assert (curve["lower"] < curve["estimate"]).all() and (curve["estimate"] < curve["upper"]).all()


def test_n_bootstrap_is_checked_and_is_for_scms():
    _, data = _confounded(100)
    model = SCM.fit(G, data)
    for bad in (1, -2, 1.5, "50"):
        with pytest.raises(scm.ParameterError, match="n_bootstrap"):
            effect(model, treatment="x", outcome="y", value=1.0, n_bootstrap=bad)
    with pytest.raises(scm.ParameterError, match="n_bootstrap.*fitted to data"):
        effect(model.do({"z": 0.0}), treatment="x", outcome="y", value=1.0, n_bootstrap=50)
    with pytest.raises(scm.ParameterError, match="n_bootstrap.*bootstrap="):
        effect(data, G, "x", "y", n_bootstrap=100)
