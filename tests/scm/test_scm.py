"""Structural causal models: sampling, do, counterfactuals, closed forms and fitting."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scm
from scm import SCM, AdditiveNoise, Discrete, Functional, Linear, PostNonlinear, shift


def random_linear_scm(d=20, p=0.2, seed=0):
    rng = np.random.default_rng(seed)
    names = [f"N{i}" for i in rng.permutation(d)]  # column order is not the causal order
    W = np.triu(rng.uniform(0.3, 1.0, (d, d)) * rng.choice([-1, 1], (d, d)) * (rng.random((d, d)) < p), 1)
    W = pd.DataFrame(W, index=names, columns=names)
    noise_std = pd.Series(rng.uniform(0.5, 1.5, d), index=names)
    return SCM.from_linear(W, noise_std=noise_std, intercepts=pd.Series(rng.normal(size=d), index=names))


@pytest.fixture
def nonlinear_model():
    g = nx.DiGraph([("X", "Y"), ("X", "Z"), ("Y", "Z")])
    return SCM(
        g,
        {
            "X": Linear(intercept=1.0),
            "Y": AdditiveNoise(lambda P: np.tanh(P[:, 0]) * 2.0, parents=["X"]),
            "Z": AdditiveNoise(lambda P: P[:, 0] * P[:, 1] + np.sin(P[:, 1]), parents=["X", "Y"]),
        },
        {"X": scm.Gaussian(1.0), "Y": scm.Laplace(0.5), "Z": stats.t(df=5)},
    )


def test_sample_is_seeded_and_shaped(nonlinear_model):
    a = nonlinear_model.sample(500, random_state=3)
    b = nonlinear_model.sample(500, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["X", "Y", "Z"] and a.shape == (500, 3)
    assert not nonlinear_model.sample(500, random_state=4).equals(a)


def test_do_returns_new_model_and_keeps_non_descendants():
    model = random_linear_scm(seed=1)
    x = "N7"
    desc = nx.descendants(model.graph, x)
    edges_before = set(model.graph.edges)
    intervened = model.do({x: 2.5})
    assert set(model.graph.edges) == edges_before
    assert intervened.graph is not model.graph
    assert not any(intervened.graph.has_edge(p, x) for p in model.graph.predecessors(x))
    base = model.sample(2000, random_state=7)
    after = intervened.sample(2000, random_state=7)
    non_desc = [n for n in model.nodes if n not in desc and n != x]
    # identical noise draws: non-descendants are unchanged sample by sample
    pd.testing.assert_frame_equal(base[non_desc], after[non_desc])
    assert (after[x] == 2.5).all()
    # and in distribution, by the closed form
    m0, m1 = model.interventional_mean(), model.interventional_mean({x: 2.5})
    c0, c1 = model.interventional_cov(), model.interventional_cov({x: 2.5})
    np.testing.assert_allclose(m0[non_desc], m1[non_desc], atol=1e-12)
    np.testing.assert_allclose(c0.loc[non_desc, non_desc], c1.loc[non_desc, non_desc], atol=1e-12)


def test_monte_carlo_interventional_means_match_closed_form():
    model = random_linear_scm(d=20, seed=2)
    interventions = {"N3": 1.5, "N11": -2.0}
    exact = model.interventional_mean(interventions)
    var = np.diag(model.interventional_cov(interventions))
    n = 20000
    sample = model.do(interventions).sample(n, random_state=11)
    se = np.sqrt(var / n)
    z = np.abs(sample.mean() - exact) / np.where(se > 0, se, 1.0)
    assert (z[se > 0] < 4).all(), z.sort_values().tail()
    np.testing.assert_allclose(sample.mean()[se == 0], exact[se == 0])
    # the covariance too, loosely
    np.testing.assert_allclose(sample.cov().to_numpy(), model.interventional_cov(interventions).to_numpy(), atol=0.15)


def test_closed_form_chain_by_hand():
    W = pd.DataFrame([[0, 2.0, 0], [0, 0, -3.0], [0, 0, 0]], index=list("ABC"), columns=list("ABC"))
    m = SCM.from_linear(W, noise_std={"A": 1.0, "B": 2.0, "C": 0.5}, intercepts={"A": 1.0, "C": 4.0})
    mean = m.interventional_mean()
    assert mean.to_dict() == pytest.approx({"A": 1.0, "B": 2.0, "C": 4.0 - 6.0})
    assert m.interventional_mean({"B": 1.0})["C"] == pytest.approx(1.0)
    assert m.interventional_mean({"A": shift(1.0)})["C"] == pytest.approx(-2.0 - 6.0)
    cov = m.interventional_cov()
    assert cov.loc["C", "C"] == pytest.approx(9 * (4 * 1 + 4) + 0.25)
    # a distributional intervention: B ~ U(0, 2) cuts A -> B
    assert m.interventional_mean({"B": scm.Uniform(0, 2)})["C"] == pytest.approx(4.0 - 3.0)
    assert m.interventional_cov({"B": scm.Uniform(0, 2)}).loc["A", "C"] == pytest.approx(0.0)


def test_soft_and_mechanism_interventions():
    g = nx.DiGraph([("X", "Y")])
    m = SCM(g, {"X": Linear(), "Y": Linear({"X": 1.0})}, {"X": 1.0, "Y": 0.0})
    soft = m.do({"Y": lambda P: 3 * P[:, 0]})
    s = soft.sample(100, random_state=0)
    np.testing.assert_allclose(s["Y"], 3 * s["X"])
    assert soft.graph.has_edge("X", "Y")
    rep = m.do({"Y": Linear({"X": -1.0}, intercept=2.0)})
    assert rep.interventional_mean()["Y"] == pytest.approx(2.0)


def test_counterfactual_additive_noise_by_hand(nonlinear_model):
    obs = nonlinear_model.sample(50, random_state=5)
    cf = nonlinear_model.counterfactual(obs, {"X": 0.3})
    ux = obs["X"] - 1.0
    uy = obs["Y"] - 2 * np.tanh(obs["X"])
    uz = obs["Z"] - (obs["X"] * obs["Y"] + np.sin(obs["Y"]))
    y_cf = 2 * np.tanh(0.3) + uy
    z_cf = 0.3 * y_cf + np.sin(y_cf) + uz
    assert (ux.abs() > 0).all()
    np.testing.assert_allclose(cf["X"], 0.3, atol=1e-10)
    np.testing.assert_allclose(cf["Y"], y_cf, rtol=0, atol=1e-10)
    np.testing.assert_allclose(cf["Z"], z_cf, rtol=0, atol=1e-10)
    # shift intervention on Y keeps Y's own noise
    cf2 = nonlinear_model.counterfactual(obs, {"Y": shift(1.0)})
    np.testing.assert_allclose(cf2["Y"], obs["Y"] + 1.0, atol=1e-10)
    np.testing.assert_allclose(cf2["Z"], obs["X"] * (obs["Y"] + 1) + np.sin(obs["Y"] + 1) + uz, atol=1e-10)
    np.testing.assert_allclose(cf2["X"], obs["X"], atol=0)
    assert cf.index.equals(obs.index)


def test_counterfactual_post_nonlinear_and_linear_effects():
    g = nx.DiGraph([("X", "Y")])
    m = SCM(g, {"X": Linear(), "Y": PostNonlinear(lambda P: P[:, 0], np.exp, np.log, parents=["X"])})
    obs = m.sample(20, random_state=1)
    cf = m.counterfactual(obs, {"X": shift(0.5)})
    np.testing.assert_allclose(cf["Y"], obs["Y"] * np.exp(0.5), rtol=1e-12)
    lin = random_linear_scm(d=8, seed=4)
    o = lin.sample(10, random_state=2)
    x = lin.nodes[0]
    cf = lin.counterfactual(o, {x: shift(1.0)})
    # in a linear SCM the counterfactual change is the total effect of x
    total = lin.interventional_mean({x: 1.0}) - lin.interventional_mean({x: 0.0})
    np.testing.assert_allclose((cf - o).to_numpy(), np.tile(total.to_numpy(), (10, 1)), atol=1e-10)


def test_counterfactual_discrete_posterior():
    g = nx.DiGraph([("A", "B")])
    m = SCM(g, {"A": Discrete([0.5, 0.5]), "B": Discrete([[0.9, 0.1], [0.3, 0.7]], parents=["A"])})
    obs = pd.DataFrame({"A": [0, 0, 1], "B": [0, 1, 1]})
    cf = m.counterfactual(obs, {"A": 1}, n_samples=4000, random_state=0)
    assert cf.index.names == ["unit", "draw"]
    p = cf.groupby(level="unit")["B"].mean()
    # unit 0: A=0,B=0 means U_B in [0, 0.9); under A=1, B=1 iff U_B >= 0.3: P = 0.6/0.9
    assert p[0] == pytest.approx(0.6 / 0.9, abs=0.03)
    # unit 1: A=0,B=1 means U_B in [0.9, 1): under A=1, B=1 surely
    assert p[1] == 1.0
    # unit 2: already A=1; the counterfactual equals the observation
    assert p[2] == 1.0
    # a discrete root with a child: sampling gives the marginals
    s = m.sample(20000, random_state=1)
    assert s["B"].mean() == pytest.approx(0.5 * 0.1 + 0.5 * 0.7, abs=0.02)


def test_counterfactual_not_invertible_names_node():
    g = nx.DiGraph([("X", "Y"), ("Y", "Z")])
    m = SCM(g, {"X": Linear(), "Y": Functional(lambda P, u: P[:, 0] * np.exp(u)), "Z": Linear({"Y": 1.0})})
    obs = m.sample(5, random_state=0)
    with pytest.raises(scm.NotInvertibleError, match=r"\['Y'\]"):
        m.counterfactual(obs, {"X": 1.0})
    # Y is not affected by an intervention on Z: no abduction needed for it
    cf = m.counterfactual(obs, {"Z": 0.0})
    assert (cf["Z"] == 0).all()


def test_abduct_recovers_the_noise_and_predict_inverts_it(nonlinear_model):
    noise = nonlinear_model.sample_noise(300, random_state=4)
    obs = nonlinear_model.predict(noise)  # predict of drawn noise is a sample
    pd.testing.assert_frame_equal(obs, nonlinear_model.sample(300, random_state=4))
    back = nonlinear_model.abduct(obs)
    np.testing.assert_allclose(back.to_numpy(), noise.to_numpy(), rtol=0, atol=1e-12)
    # abduct then predict, no intervention: the observed rows again (exactly for the model's own samples)
    pd.testing.assert_frame_equal(nonlinear_model.predict(back), obs, check_exact=True)
    other = pd.DataFrame(np.random.default_rng(0).normal(scale=10, size=(200, 3)), columns=["X", "Y", "Z"], index=range(5, 205))
    again = nonlinear_model.predict(nonlinear_model.abduct(other))
    assert again.index.equals(other.index)
    np.testing.assert_allclose(again.to_numpy(), other.to_numpy(), rtol=1e-13, atol=1e-12)
    # only the requested nodes; their mechanisms alone need be invertible
    assert list(nonlinear_model.abduct(obs, nodes=["Z", "Y"]).columns) == ["Y", "Z"]


def test_abduct_discrete_draws_and_not_invertible_names_node():
    m = SCM(nx.DiGraph([("A", "B")]), {"A": Discrete([0.5, 0.5]), "B": Discrete([[0.9, 0.1], [0.3, 0.7]], parents=["A"])})
    obs = pd.DataFrame({"A": [0, 1], "B": [1, 1]}, index=["u", "v"])
    u = m.abduct(obs, n_samples=500, random_state=0)
    assert u.index.names == ["unit", "draw"] and len(u) == 1000
    ub = u["B"].groupby(level="unit")
    assert ub.min()["u"] >= 0.9 and ub.max()["v"] < 1 and ub.min()["v"] >= 0.3  # the posterior intervals
    pd.testing.assert_frame_equal(m.predict(u), obs.loc[u.index.get_level_values("unit")].set_axis(u.index), check_dtype=False)
    f = SCM(nx.DiGraph([("X", "Y")]), {"X": Linear(), "Y": Functional(lambda P, e: P[:, 0] * np.exp(e))})
    data = f.sample(5, random_state=0)
    with pytest.raises(scm.NotInvertibleError, match=r"\['Y'\]"):
        f.abduct(data)
    assert list(f.abduct(data, nodes=["X"]).columns) == ["X"]


def test_predict_fixed_nodes_and_missing_noise():
    m = SCM(nx.DiGraph([("X", "Y"), ("Y", "Z")]), {"X": Linear(), "Y": Linear({"X": 2.0}), "Z": Linear({"Y": -1.0})})
    noise = pd.DataFrame({"X": [1.0, 2.0], "Z": [0.5, 0.0]})
    out = m.predict(noise, fixed={"Y": [10.0, 20.0]})
    assert out["Y"].tolist() == [10.0, 20.0] and out["Z"].tolist() == [-9.5, -20.0] and out["X"].tolist() == [1.0, 2.0]
    with pytest.raises(scm.UnknownNodeError, match=r"\['Y'\]"):
        m.predict(noise)
    with pytest.raises(scm.DataError, match="'Y'"):
        m.predict(noise, fixed={"Y": [1.0]})


def test_counterfactual_is_abduct_do_predict(nonlinear_model):
    obs = nonlinear_model.sample(40, random_state=7)
    for iv in ({"X": 0.3}, {"Y": shift(1.0)}):
        by_steps = nonlinear_model.do(iv).predict(nonlinear_model.abduct(obs))
        pd.testing.assert_frame_equal(nonlinear_model.counterfactual(obs, iv), by_steps, check_exact=True)


def test_fit_recovers_linear_model_and_refuses_changed_graph():
    truth = random_linear_scm(d=10, seed=6)
    data = truth.sample(20000, random_state=1)
    g = truth.graph.copy()
    fitted = SCM.fit(g, data)
    for node in truth.nodes:
        t, f = truth.mechanisms[node], fitted.mechanisms[node]
        assert f.intercept == pytest.approx(t.intercept, abs=0.08)
        for p, w in t.coefficients.items():
            assert f.coefficients[p] == pytest.approx(w, abs=0.05)
    query = {truth.nodes[0]: 1.0}
    np.testing.assert_allclose(fitted.interventional_mean(query), truth.interventional_mean(query), atol=0.1)
    assert fitted.fitted_mechanisms_ == {n: "linear" for n in truth.nodes}
    u, v = next(iter(g.edges))
    g.remove_edge(u, v)
    with pytest.raises(scm.GraphChangedError, match=repr(v)):
        fitted.sample(10)


def test_fit_auto_picks_nonlinear_where_needed():
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=n)
    y = 2 * x + rng.normal(scale=0.3, size=n)
    z = np.sin(2 * x) + x**2 + rng.normal(scale=0.3, size=n)
    data = pd.DataFrame({"X": x, "Y": y, "Z": z})
    g = nx.DiGraph([("X", "Y"), ("X", "Z")])
    fitted = SCM.fit(g, data, mechanism="auto", random_state=0)
    assert fitted.fitted_mechanisms_["Y"] == "linear"
    assert fitted.fitted_mechanisms_["Z"] in ("quadratic", "spline")
    # counterfactuals of the fitted additive-noise model are exact given its fit
    cf = fitted.counterfactual(data.head(5), {"X": 0.0})
    f = fitted.mechanisms["Z"]
    uz = data["Z"].head(5).to_numpy() - f.mean(data[["X"]].head(5).to_numpy())
    np.testing.assert_allclose(cf["Z"], f.mean(np.zeros((5, 1))) + uz, atol=1e-10)


def test_fit_discrete_tables():
    model = scm.SCM(
        nx.DiGraph([("A", "B")]),
        {"A": Discrete([0.3, 0.7]), "B": Discrete([[0.8, 0.2], [0.25, 0.75]], parents=["A"])},
    )
    data = model.sample(40000, random_state=3)
    fitted = SCM.fit(model.graph, data)
    np.testing.assert_allclose(fitted.mechanisms["B"].table, model.mechanisms["B"].table, atol=0.02)
    assert fitted.fitted_mechanisms_ == {"A": "discrete", "B": "discrete"}


def test_fit_with_regressor_and_mapping():
    from sklearn.neighbors import KNeighborsRegressor

    g = nx.DiGraph([("X", "Y")])
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    data = pd.DataFrame({"X": x, "Y": np.abs(x) + 0.1 * rng.normal(size=500)})
    fitted = SCM.fit(g, data, mechanism={"Y": KNeighborsRegressor(10)}, noise="gaussian")
    assert fitted.fitted_mechanisms_["Y"] == "KNeighborsRegressor"
    assert isinstance(fitted.noise["Y"], scm.Gaussian)


# ----------------------------------------------------------------------------- the phases of SCM.fit
@pytest.fixture
def mixed_data():
    rng = np.random.default_rng(2)
    n = 2000
    a = rng.choice(["lo", "hi"], size=n, p=[0.3, 0.7])
    b = np.where(rng.random(n) < np.where(a == "hi", 0.8, 0.1), 1, 0)
    x = rng.normal(size=n)
    y = 1.5 * x - 2.0 * b + rng.normal(scale=0.5, size=n)
    z = np.sin(2 * y) + y**2 / 4 + rng.normal(scale=0.2, size=n)
    g = nx.DiGraph([("A", "B"), ("B", "Y"), ("X", "Y"), ("Y", "Z")])
    return g, pd.DataFrame({"A": a, "B": b, "X": x, "Y": y, "Z": z})


def test_check_fit_data_encodes_and_names_bad_columns(mixed_data):
    g, data = mixed_data
    dag, encoded, states = scm.check_fit_data(g, data)
    assert dag is g and list(encoded.columns) == list(g.nodes)
    assert states == {"A": ("hi", "lo"), "B": (0, 1)}
    assert encoded["A"].tolist()[:5] == [("hi", "lo").index(v) for v in data["A"][:5]]
    assert encoded["Y"].dtype == float and (encoded["Y"] == data["Y"]).all()
    with pytest.raises(scm.DataError, match=r"discrete node 'B' has continuous parent\(s\) \['X'\]"):
        scm.check_fit_data(nx.DiGraph([("X", "B")]), data)
    with pytest.raises(scm.DataError, match=r"\['A'\] are non-numeric but parents of the continuous node 'Y'"):
        scm.check_fit_data(nx.DiGraph([("A", "Y")]), data)
    with pytest.raises(scm.DataError, match="'X' holds inf"):
        scm.check_fit_data(g, data.assign(X=np.inf))
    with pytest.raises(scm.UnknownNodeError, match="'Q'"):
        scm.check_fit_data(nx.DiGraph([("X", "Q")]), data)


def test_choose_mechanisms_resolves_auto_per_node(mixed_data):
    g, data = mixed_data
    dag, encoded, states = scm.check_fit_data(g, data)
    choice = scm.choose_mechanisms(dag, encoded, "auto", states=states, random_state=0)
    assert choice == {"A": "discrete", "B": "discrete", "Y": "linear", "X": "linear", "Z": choice["Z"]}
    assert choice["Z"] in ("quadratic", "spline")
    assert scm.choose_mechanisms(dag, encoded, "auto", states=states, random_state=0) == choice  # seeded
    knn = pytest.importorskip("sklearn.neighbors").KNeighborsRegressor(5)
    mapped = scm.choose_mechanisms(dag, encoded, {"Z": knn}, states=states)
    assert mapped["Z"] is knn and mapped["Y"] == "linear"
    with pytest.raises(scm.ParameterError, match=r"\['linear', 'auto', 'quadratic', 'spline'\]; got 'cubic'"):
        scm.choose_mechanisms(dag, encoded, "cubic", states=states)
    with pytest.raises(scm.ParameterError, match="node 'Y'"):  # the first continuous node
        scm.choose_mechanisms(dag, encoded, object(), states=states)


def test_fit_mechanism_one_node(mixed_data):
    g, data = mixed_data
    dag, encoded, states = scm.check_fit_data(g, data)
    y = scm.fit_mechanism(dag, encoded, "Y", "linear", states=states)
    assert y.parents == ("B", "X") and y.coefficients["X"] == pytest.approx(1.5, abs=0.05)
    assert y.coefficients["B"] == pytest.approx(-2.0, abs=0.05)
    b = scm.fit_mechanism(dag, encoded, "B", "discrete", states=states)
    np.testing.assert_allclose(b.table, [[0.2, 0.8], [0.9, 0.1]], atol=0.04)  # rows: A = "hi", "lo"
    z = scm.fit_mechanism(dag, encoded, "Z", "spline", states=states)
    line = scm.fit_mechanism(dag, encoded, "Z", "linear", states=states)
    mse = {m: np.mean((f.mean(encoded[["Y"]].to_numpy()) - data["Z"]) ** 2) for m, f in (("spline", z), ("linear", line))}
    assert isinstance(z, AdditiveNoise) and mse["spline"] < mse["linear"] / 4, mse
    with pytest.raises(scm.ParameterError, match="node 'Y' is continuous"):
        scm.fit_mechanism(dag, encoded, "Y", "discrete", states=states)
    with pytest.raises(scm.ParameterError, match="node 'B' is discrete"):
        scm.fit_mechanism(dag, encoded, "B", "linear", states=states)


def test_fit_noise_residuals(mixed_data):
    g, data = mixed_data
    dag, encoded, states = scm.check_fit_data(g, data)
    y = scm.fit_mechanism(dag, encoded, "Y", "linear", states=states)
    resid = data["Y"].to_numpy() - y.mean(encoded[["B", "X"]].to_numpy())
    empirical = scm.fit_noise(dag, encoded, "Y", y)
    np.testing.assert_array_equal(empirical.values, resid)
    gauss = scm.fit_noise(dag, encoded, "Y", y, "gaussian")
    assert (gauss.std, gauss.loc) == (float(resid.std()), float(resid.mean()))
    assert isinstance(scm.fit_noise(dag, encoded, "B", scm.fit_mechanism(dag, encoded, "B", "discrete", states=states)), scm.Uniform)


def test_fit_scm_composes_the_phases(mixed_data):
    g, data = mixed_data
    fitted = SCM.fit(g, data, mechanism="auto", noise="gaussian", random_state=0)
    dag, encoded, states = scm.check_fit_data(g, data)
    choice = scm.choose_mechanisms(dag, encoded, "auto", states=states, random_state=0)
    assert fitted.fitted_mechanisms_ == choice
    for node in g.nodes:
        mech = scm.fit_mechanism(dag, encoded, node, choice[node], states=states)
        assert repr(fitted.mechanisms[node]) == repr(mech.bind(fitted.parents(node)) if not isinstance(mech, Discrete) else mech)
        noise = scm.fit_noise(dag, encoded, node, mech, "gaussian")
        assert repr(fitted.noise[node]) == repr(noise)
