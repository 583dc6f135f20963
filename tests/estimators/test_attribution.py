"""Attribution on SCMs: closed forms of linear models, agreement of the Monte-Carlo paths with them, the
root-cause answer on injected faults, intervals, and named errors on bad input."""

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import estimators as est
from scm import (
    SCM,
    AdditiveNoise,
    DataError,
    Gaussian,
    GraphError,
    Laplace,
    Linear,
    NotFittedError,
    NotInvertibleError,
    ParameterError,
    PostNonlinear,
    UnknownNodeError,
    shift,
)

matplotlib.use("Agg")

NODES = ["A", "B", "C", "D"]
W = [[0, 1.0, 0.5, 0], [0, 0, 0.8, 0], [0, 0, 0, 1.5], [0, 0, 0, 0]]  # A -> B -> C -> D, A -> C
STD = [1.0, 0.5, 1.0, 0.7]


@pytest.fixture(scope="module")
def model():
    return SCM.from_linear(W, nodes=NODES, noise_std=STD)


def _total_effects(model, target):
    """Total effect of each node's noise on ``target``, from the model's exact covariance with the noises."""
    nodes = model.nodes
    out = {}
    for v in nodes:
        shifted = model.do({v: shift(1.0)}).interventional_mean()
        out[v] = float(shifted[target] - model.interventional_mean()[target])
    return pd.Series(out)


# ------------------------------------------------------------------ closed forms
def test_icc_of_a_linear_model_is_squared_total_effect_times_noise_variance(model):
    res = est.intrinsic_causal_influence(model, "D")
    a = _total_effects(model, "D")
    expected = a**2 * pd.Series(np.square(STD), index=NODES)
    np.testing.assert_allclose(res.contributions[NODES], expected[NODES], rtol=1e-12)
    assert res.contributions.sum() == pytest.approx(model.interventional_cov().loc["D", "D"])  # adds up to Var(D)
    assert res.interval == "exact"


def test_arrow_strength_of_a_linear_model_is_weight_squared_times_parent_variance(model):
    res = est.arrow_strength(model, "C")
    cov = model.interventional_cov()
    assert list(res.contributions.index) == ["A", "B"]
    np.testing.assert_allclose(res.contributions, [0.5**2 * cov.loc["A", "A"], 0.8**2 * cov.loc["B", "B"]])


def test_unit_contributions_add_up_to_the_deviation_from_the_mean(model):
    unit = model.sample(3, random_state=1)
    res = est.unit_contributions(model, "D", unit)
    dev = unit["D"] - model.interventional_mean()["D"]
    np.testing.assert_allclose(res.contributions.sum(axis=1), dev, atol=1e-10)
    assert res.contributions.shape == (3, 4)


def test_distribution_change_of_linear_models_is_exact_and_adds_up(model):
    old = model.sample(2000, random_state=0)
    new = model.do({"B": shift(2.0)}).sample(2000, random_state=1)
    res = est.attribute_distribution_change(model, old, new, "D", changed=["B"], random_state=0)
    # only B's mechanism differs; its fitted shift times the total effect 0.8 * 1.5 is the whole change
    assert res.contributions.drop("B").abs().max() < 1e-9
    assert res.contributions["B"] == pytest.approx(2.0 * 0.8 * 1.5, abs=0.15)
    every = est.attribute_distribution_change(model, old, new, "D", changed="all", random_state=0)
    # with every mechanism fitted on each data set, the fitted means are the sample means: the Shapley values add up
    assert every.contributions.sum() == pytest.approx(every.details["total_change"], abs=1e-9)


# ------------------------------------------------------------------ Monte-Carlo paths against the closed forms
@pytest.mark.slow
def test_monte_carlo_icc_agrees_with_the_closed_form(model):
    exact = est.intrinsic_causal_influence(model, "D").contributions
    mc = est.intrinsic_causal_influence(model, "D", method="monte-carlo", random_state=0)
    z = (mc.contributions - exact) / mc.mc_std_err
    assert np.all(np.abs(z) < 5), z


def test_monte_carlo_unit_contributions_agree_with_the_closed_form(model):
    unit = pd.Series({"A": 1.0, "B": 2.0, "C": 0.0, "D": 3.0})
    exact = est.unit_contributions(model, "D", unit).contributions
    mc = est.unit_contributions(model, "D", unit, method="monte-carlo", n_background=400, random_state=0)
    assert np.all(np.abs(mc.contributions - exact) < 5 * mc.mc_std_err + 1e-9)


def test_monte_carlo_arrow_strength_agrees_with_the_closed_form(model):
    exact = est.arrow_strength(model, "C").contributions
    mc = est.arrow_strength(model, "C", method="monte-carlo", n_outer=100, n_inner=100, random_state=0)
    assert np.all(np.abs(mc.contributions - exact) < 5 * mc.mc_std_err)


# ------------------------------------------------------------------ anomalies
def test_it_anomaly_score_matches_the_gaussian_tail(model):
    s = pd.DataFrame({"A": [2.0], "B": [2.0], "C": [2.6], "D": [3.9]})  # A at 2 std; the others at their means given parents
    scores = est.anomaly_scores(model, s, n_samples=20_000, random_state=0)
    assert scores.loc[0, "A"] == pytest.approx(-np.log(2 * stats.norm.sf(2.0)), abs=0.1)
    assert scores.loc[0, ["B", "C", "D"]].max() < 0.05
    z = est.anomaly_scores(model, s, kind="zscore", random_state=0)
    assert z.loc[0, "A"] == pytest.approx(2.0, abs=0.05)


def test_anomaly_attribution_finds_the_injected_root_cause(model):
    # every noise at its mean but B's, at 6 std; its descendants follow through the mechanisms
    faulty = pd.DataFrame({"A": [0.0], "B": [3.0], "C": [0.8 * 3.0], "D": [1.5 * 0.8 * 3.0]})
    res = est.attribute_anomalies(model, "D", faulty, n_distribution_samples=1000, random_state=0)
    assert res.contributions.idxmax() == "B"
    assert res.contributions["B"] > 3 * res.contributions.drop("B").abs().max()
    # the contributions add up to the target's IT score (up to DoWhy-GCM's +0.5 smoothing)
    full = est.anomaly_scores(model, faulty, n_samples=1000, random_state=0)  # per-node, not the target's marginal
    assert full.loc[faulty.index[0], "B"] > 5


def test_anomaly_attribution_of_several_units_and_nonlinear_mechanisms():
    g = nx.DiGraph([("X", "Y"), ("Y", "Z")])
    m = SCM(
        g,
        {
            "X": Linear(),
            "Y": AdditiveNoise(lambda P: np.tanh(P[:, 0]), parents=["X"]),
            "Z": AdditiveNoise(lambda P: P[:, 0] ** 2, parents=["Y"]),
        },
        {"X": Gaussian(1.0), "Y": Gaussian(0.3), "Z": Gaussian(0.2)},
    )
    units = pd.DataFrame({"X": [0.0, 0.0], "Y": [1.5, 0.0], "Z": [2.25, 2.0]})  # unit 0: Y's noise; unit 1: Z's noise
    res = est.attribute_anomalies(m, "Z", units, n_distribution_samples=500, random_state=0)
    assert res.contributions.shape == (2, 3)
    assert list(res.contributions.idxmax(axis=1)) == ["Y", "Z"]
    assert res.to_frame().index.nlevels == 2


# ------------------------------------------------------------------ intervals
def test_fitted_models_get_bootstrap_intervals(model):
    fitted = SCM.fit(model.graph, model.sample(300, random_state=0))
    res = est.intrinsic_causal_influence(fitted, "C", n_bootstrap=40, alpha=0.1, random_state=0)
    assert res.interval == "percentile bootstrap"
    frame = res.to_frame()
    assert list(frame.columns) == ["contribution", "std_err", "lower", "upper", "mc_std_err"]
    assert np.all(frame["lower"] <= frame["upper"]) and np.all(frame["std_err"] > 0)
    no_boot = est.intrinsic_causal_influence(fitted, "C")
    assert no_boot.interval == "not available" and no_boot.lower.isna().all()


def test_distribution_change_bootstrap_resamples_both_data_sets(model):
    old = model.sample(200, random_state=0)
    new = model.do({"C": shift(1.0)}).sample(200, random_state=1)
    res = est.attribute_distribution_change(model, old, new, "D", changed="all", n_bootstrap=20, alpha=0.2, random_state=0)
    assert res.interval == "percentile bootstrap"
    assert res.lower["C"] < 1.5 < res.upper["C"]  # C's shift of 1 times the weight 1.5


def test_plot_draws_bars_with_whiskers(model):
    import matplotlib.pyplot as plt

    fitted = SCM.fit(model.graph, model.sample(200, random_state=0))
    res = est.arrow_strength(fitted, "C", n_bootstrap=20, alpha=0.2, random_state=0)
    ax = res.plot()
    assert len(ax.patches) == 2 and ax.get_title().startswith("arrow strength")
    plt.close(ax.figure)


# ------------------------------------------------------------------ distribution change: tests and the robust estimator
def test_mechanism_change_test_flags_only_the_changed_mechanism(model):
    old = model.sample(1000, random_state=0)
    new = model.do({"C": Linear({"A": 0.5, "B": 1.6})}).sample(1000, random_state=1)  # C's weight on B doubled
    res = est.attribute_distribution_change(model, old, new, "D", random_state=0)
    assert list(res.details["changed"][res.details["changed"]].index) == ["C"]
    assert res.details["pvalues"]["C"] < 1e-6


@pytest.mark.slow
def test_robust_estimator_agrees_with_mechanism_replacement(model):
    old = model.sample(3000, random_state=0)
    new = model.do({"A": shift(1.0), "C": Linear({"A": 0.5, "B": 1.6})}).sample(3000, random_state=1)
    shap = est.attribute_distribution_change(model, old, new, "D", changed="all", random_state=0)
    robust = est.attribute_distribution_change(model, old, new, "D", method="robust", random_state=0)
    np.testing.assert_allclose(robust.contributions, shap.contributions, atol=0.15)
    for measure in ["variance"]:
        s = est.attribute_distribution_change(model, old, new, "D", changed="all", measure=measure, random_state=0)
        r = est.attribute_distribution_change(model, old, new, "D", method="robust", measure=measure, random_state=0)
        np.testing.assert_allclose(r.contributions, s.contributions, atol=0.1 * abs(s.details["total_change"]) + 0.2)


# ------------------------------------------------------------------ bad input
def test_bad_input_gets_named_errors(model):
    s = model.sample(20, random_state=0)
    with pytest.raises(NotFittedError, match="SCM.fit"):
        est.attribute_anomalies(model.graph, "D", s)
    with pytest.raises(UnknownNodeError, match="'Q'"):
        est.intrinsic_causal_influence(model, "Q")
    with pytest.raises(GraphError, match="no ancestors"):
        est.arrow_strength(model, "A")
    with pytest.raises(DataError, match="old_data has 5 rows"):
        est.attribute_distribution_change(model, s.iloc[:5], s, "D")
    with pytest.raises(UnknownNodeError, match="'C'"):
        est.unit_contributions(model, "D", s.drop(columns="C"))
    with pytest.raises(ParameterError, match="measure"):
        est.attribute_distribution_change(model, s, s, "D", measure="median")
    with pytest.raises(ParameterError, match="kind"):
        est.anomaly_scores(model, s, kind="iforest")
    with pytest.raises(DataError, match="'B'"):
        est.anomaly_scores(model, s.assign(B=np.nan))
    with pytest.raises(ParameterError, match="n_bootstrap"):
        est.intrinsic_causal_influence(model, "D", n_bootstrap=5)  # a hand-built model has no data to resample
    with pytest.raises(ParameterError, match="'exact'"):
        est.intrinsic_causal_influence(_nonlinear(), "Z", method="exact")


def test_non_invertible_mechanisms_are_refused_by_name():
    g = nx.DiGraph([("X", "Y")])
    m = SCM(g, {"X": Linear(), "Y": PostNonlinear(lambda P: P[:, 0], np.tanh)})
    with pytest.raises(NotInvertibleError, match="Y"):
        est.attribute_anomalies(m, "Y", pd.DataFrame({"X": [0.0], "Y": [0.5]}))


def _nonlinear():
    g = nx.DiGraph([("X", "Z")])
    return SCM(g, {"X": Linear(), "Z": AdditiveNoise(np.sin, parents=["X"])})


def test_tail_thresholds_agree_with_the_quantile_score():
    from estimators._attribution import _quantile_score, _tail_thresholds

    rng = np.random.default_rng(0)
    ref = np.sort(rng.normal(size=300))
    x = np.concatenate([rng.normal(size=50) * 2, ref[[0, 5, 150, 299]], [10.0, -10.0]])
    y = rng.normal(size=4000) * 2
    low, high = _tail_thresholds(ref, x)
    fast = (y[None, :] <= low[:, None]) | (y[None, :] > high[:, None])
    slow = _quantile_score(ref, y)[None, :] >= _quantile_score(ref, x)[:, None]
    np.testing.assert_array_equal(fast, slow)


# ------------------------------------------------------------------------------------------- KL measures
def test_gaussian_kl_and_the_knn_estimator_against_known_values():
    from estimators._divergence import gaussian_kl, knn_kl

    # KL(N(1, 4) || N(0, 1)) by numerical integration of p log(p / q)
    x = np.linspace(-15, 17, 40001)
    p, q = stats.norm.pdf(x, 1, 2), stats.norm.pdf(x, 0, 1)
    assert float(gaussian_kl(1.0, 4.0, 0.0, 1.0)) == pytest.approx(np.trapezoid(p * np.log(p / q), x), rel=1e-6)
    rng = np.random.default_rng(0)
    # the 1-NN estimator converges slowly (a downward bias of a few percent at these sizes when Q covers P, more
    # when P's tails reach beyond Q's): KL(N(0, 1) || N(1, 4)) = 0.443
    est_ = knn_kl(rng.normal(0, 1, (10, 2000)), rng.normal(1, 2, (10, 2000)))
    assert est_.mean() == pytest.approx(float(gaussian_kl(0.0, 1.0, 1.0, 4.0)), abs=0.04)
    # ties (resampled, discrete draws) give a finite answer, and equal samples give 0
    d = rng.integers(0, 20, 500).astype(float)
    assert np.isfinite(knn_kl(d, d + 0.5)) and float(knn_kl(d, d)) == 0.0


def test_kl_arrow_strength_of_two_nodes_by_hand_and_by_monte_carlo():
    # Y = 2 X + N, Var X = 1, Var N = 1: Y | x ~ N(2x, 1); cut, Y | x ~ N(0, 5); E_x KL = log(5) / 2
    model = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"])
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)  # E over x ~ N(0, 1) by Gauss-Hermite quadrature
    by_hand = float(np.sum(weights * (0.5 * (np.log(5.0) + (1 + 4 * nodes**2) / 5 - 1))) / np.sqrt(2 * np.pi))
    exact = est.arrow_strength(model, "Y", measure="kl")
    assert exact.contributions["X"] == pytest.approx(by_hand, rel=1e-10) and by_hand == pytest.approx(0.5 * np.log(5))
    assert exact.interval == "exact" and "nats" in exact.quantity
    mc = est.arrow_strength(model, "Y", measure="kl", method="monte-carlo", n_outer=200, n_inner=300, random_state=0)
    assert abs(mc.contributions["X"] - by_hand) < 4 * mc.mc_std_err["X"] + 0.03  # + the 1-NN estimator's small bias


def test_kl_distribution_change_of_two_nodes_by_hand():
    from estimators._divergence import gaussian_kl

    before = SCM.from_linear([[0, 1.0], [0, 0]], nodes=["X", "Y"])
    after = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"], noise_std=[1.5, 1.0])
    old, new = before.sample(500, random_state=0), after.sample(500, random_state=1)
    model = SCM.fit(before.graph, old, noise="gaussian")
    res = est.attribute_distribution_change(model, old, new, "Y", measure="kl", changed="all")
    assert "exact KL" in res.method
    # the fitted models: X ~ N(mx, vx), Y = c + w X + N(0, vy); each coalition mixes old and new parts
    fits = {k: SCM.fit(before.graph, d, noise="gaussian") for k, d in (("old", old), ("new", new))}
    part = {
        k: (f.mechanisms["X"].intercept + f.noise["X"].mean, f.noise["X"].var, f.mechanisms["Y"], f.noise["Y"].mean, f.noise["Y"].var)
        for k, f in fits.items()
    }

    def moments(sx, sy):
        mx, vx, _, _, _ = part[sx]
        _, _, mech, my, vy = part[sy]
        (w,) = mech.weights
        return mech.intercept + w * mx + my, w * w * vx + vy

    v = {s: float(gaussian_kl(*moments("old", "old"), *moments(*s))) for s in [("new", "old"), ("old", "new"), ("new", "new")]}
    phi_x = 0.5 * (v["new", "old"] + v["new", "new"] - v["old", "new"])
    phi_y = 0.5 * (v["old", "new"] + v["new", "new"] - v["new", "old"])
    np.testing.assert_allclose(res.contributions[["X", "Y"]], [phi_x, phi_y], rtol=1e-9)
    assert res.contributions.sum() == pytest.approx(v["new", "new"])


def test_kl_distribution_change_monte_carlo_agrees_with_the_closed_form():
    before = SCM.from_linear([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]], nodes=["A", "B", "C"])
    old, new = before.sample(2000, random_state=2), before.do({"B": shift(2.0)}).sample(2000, random_state=102)
    exact = est.attribute_distribution_change(SCM.fit(before.graph, old, noise="gaussian"), old, new, "C", measure="kl", random_state=0)
    mc = est.attribute_distribution_change(before, old, new, "C", measure="kl", random_state=0)  # resampled noise: 1-NN
    assert "1-NN" in mc.method and mc.details["changed"].tolist() == [False, True, False]
    np.testing.assert_allclose(mc.contributions[["A", "C"]], 0.0, atol=1e-12)  # unchanged mechanisms share their draws
    assert abs(mc.contributions["B"] - exact.contributions["B"]) < 4 * mc.mc_std_err["B"] + 0.03
    assert exact.contributions["B"] == pytest.approx(4 / 6, abs=0.1)  # KL(N(0, 3) || N(2, 3)) of the true models


def test_kl_measures_refuse_what_they_cannot_estimate(model):
    old, new = model.sample(100, random_state=0), model.sample(100, random_state=1)
    with pytest.raises(ParameterError, match="method='robust'"):
        est.attribute_distribution_change(model, old, new, "D", method="robust", measure="kl")
    with pytest.raises(ParameterError, match="Empirical"):
        est.arrow_strength(SCM.fit(model.graph, old), "D", measure="kl")
    g = nx.DiGraph([("X", "Y")])
    laplace = SCM(g, {"X": Linear({}), "Y": Linear({"X": 1.0})}, {"X": Laplace(), "Y": Gaussian()})
    with pytest.raises(ParameterError, match="not Gaussian"):
        est.arrow_strength(laplace, "Y", measure="kl", method="exact")
    with pytest.raises(ParameterError, match="'measure'"):
        est.arrow_strength(model, "D", measure="entropy")
