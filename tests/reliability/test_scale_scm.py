"""The scale property of issue 26 for every public fit and estimator of scm and estimators.

Multiply any column by ``10**k``, ``k`` in ``[-150, 150]``: a scale-equivariant answer (a
coefficient, an intercept, a noise scale, a sample, an interventional mean or covariance, a
counterfactual, an effect, its standard error and interval) rescales exactly, to floating-point
rounding; a scale-invariant one (the mechanisms ``"auto"`` chooses, estimated propensities, the
chosen adjustment set) does not change. Hypothesis draws ``k`` and the column; the unmarked tests
try a few draws plus both ends of the range, the ``slow`` ones many more.
"""

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import estimators
import scm
from estimators import AIPW, IPW, DoubleML, RegressionAdjustment
from scm import SCM

K = st.integers(-150, 150)
WHICH = st.integers(0, 1000)
FAST = settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

#: Relative tolerance of "exactly, to rounding" for least-squares answers, and for the flexible
#: (ridge on polynomial / spline features) and propensity-weighted ones.
RTOL = 1e-9
RTOL_FLEXIBLE = 1e-6

# ------------------------------------------------------------------ data, built once

GRAPH = nx.DiGraph([("V0", "V1"), ("V0", "V2"), ("V1", "V2"), ("V2", "V3"), ("V1", "V3")])
NODES = ["V0", "V1", "V2", "V3"]


def _nonlinear_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    v0 = rng.normal(size=n)
    v1 = 1.5 * v0 + rng.normal(size=n)
    v2 = 0.5 * v1 - v0 + 0.5 * rng.normal(size=n)
    v3 = np.sin(v2) + 0.3 * v1**2 + 0.3 * rng.normal(size=n)
    return pd.DataFrame({"V0": v0, "V1": v1, "V2": v2, "V3": v3})


DATA = _nonlinear_data()
W = pd.DataFrame(0.0, index=NODES, columns=NODES)
for (p, c), w in {("V0", "V1"): 1.5, ("V0", "V2"): -1.0, ("V1", "V2"): 0.5, ("V2", "V3"): 0.8, ("V1", "V3"): -0.7}.items():
    W.loc[p, c] = w
STD = pd.Series([1.0, 0.5, 2.0, 0.3], index=NODES)
INTERCEPTS = pd.Series([0.2, -1.0, 0.0, 3.0], index=NODES)


def _effect_data(n=300, seed=1):
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    x = (0.5 * z1 - 0.3 * z2 + rng.normal(size=n) > 0).astype(float)
    t = 0.5 * z1 + z2 + rng.normal(size=n)
    y = 2 * x + 0.7 * t + z1 - z2 + rng.normal(size=n)
    return pd.DataFrame({"x": x, "t": t, "y": y, "z1": z1, "z2": z2})


EFFECT_DATA = _effect_data()
EFFECT_GRAPH = nx.DiGraph([("z1", "x"), ("z2", "x"), ("z1", "t"), ("z2", "t"), ("x", "y"), ("t", "y"), ("z1", "y"), ("z2", "y")])


def _scaled(frame, column, k):
    return frame.assign(**{column: frame[column] * 10.0**k}), 10.0**k


def _close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=rtol, atol=0)


# ------------------------------------------------------------------ scm


def check_fit_linear(k, which):
    """SCM.fit (linear): intercepts, weights and noises rescale by the units of node and parent."""
    col = NODES[which % 4]
    scaled, f = _scaled(DATA, col, k)
    unit = {n: (f if n == col else 1.0) for n in NODES}
    for noise in ("empirical", "gaussian"):
        a, b = SCM.fit(GRAPH, DATA, noise=noise), SCM.fit(GRAPH, scaled, noise=noise)
        for n in NODES:
            ma, mb = a.mechanisms[n], b.mechanisms[n]
            _close(mb.intercept, ma.intercept * unit[n])
            _close(mb.weights, ma.weights * unit[n] / np.array([unit[p] for p in a.parents(n)]))
            if noise == "gaussian":
                _close(b.noise[n].std, a.noise[n].std * unit[n])
            else:
                _close(b.noise[n].values, a.noise[n].values * unit[n], rtol=1e-7)


def check_fit_auto(k, which):
    """SCM.fit (auto): the same mechanisms are chosen, and the fitted models' samples rescale."""
    col = NODES[which % 4]
    scaled, f = _scaled(DATA, col, k)
    a = SCM.fit(GRAPH, DATA, "auto", random_state=0)
    b = SCM.fit(GRAPH, scaled, "auto", random_state=0)
    assert b.fitted_mechanisms_ == a.fitted_mechanisms_
    sa, sb = a.sample(40, random_state=1), b.sample(40, random_state=1)
    for n in NODES:
        _close(sb[n], sa[n] * (f if n == col else 1.0), rtol=RTOL_FLEXIBLE)


def check_fit_phases(k, which):
    """The phases of fit_scm: encoding, choice, one node's spline mechanism and its noise."""
    col = NODES[which % 4]
    scaled, f = _scaled(DATA, col, k)
    ga, ea, _ = scm.check_fit_data(GRAPH, DATA)
    gb, eb, _ = scm.check_fit_data(GRAPH, scaled)
    _close(eb[col], ea[col] * f, rtol=0)
    assert scm.choose_mechanisms(gb, eb, "auto", random_state=3) == scm.choose_mechanisms(ga, ea, "auto", random_state=3)
    node = "V3"
    ma, mb = scm.fit_mechanism(ga, ea, node, "spline"), scm.fit_mechanism(gb, eb, node, "spline")
    parents = list(ma.parents)
    Pa, Pb = ea[parents].to_numpy(), eb[parents].to_numpy()
    unit = f if col == node else 1.0
    _close(mb.mean(Pb), ma.mean(Pa) * unit, rtol=RTOL_FLEXIBLE)
    na, nb = scm.fit_noise(ga, ea, node, ma, "gaussian"), scm.fit_noise(gb, eb, node, mb, "gaussian")
    _close(nb.std, na.std * unit, rtol=RTOL_FLEXIBLE)


def _rescaled_linear(col, f):
    """The linear SCM of W, STD, INTERCEPTS with node ``col`` measured in units 1/f."""
    w = W.copy()
    w[col] = w[col] * f
    w.loc[col] = w.loc[col] / f
    return SCM.from_linear(w, noise_std=STD * np.where(STD.index == col, f, 1.0),
                           intercepts=INTERCEPTS * np.where(INTERCEPTS.index == col, f, 1.0))


def check_from_linear(k, which):
    """SCM.from_linear: samples, interventional means and covariances rescale."""
    col, target = NODES[which % 4], NODES[(which // 4) % 4]
    f = 10.0**k
    a, b = SCM.from_linear(W, noise_std=STD, intercepts=INTERCEPTS), _rescaled_linear(col, f)
    unit = np.array([f if n == col else 1.0 for n in NODES])
    _close(b.sample(30, random_state=2).to_numpy(), a.sample(30, random_state=2).to_numpy() * unit, rtol=1e-7)
    v = 1.7
    _close(b.interventional_mean({target: v * unit[NODES.index(target)]}), a.interventional_mean({target: v}) * unit)
    _close(b.interventional_cov(), a.interventional_cov().to_numpy() * np.outer(unit, unit))


def check_counterfactual(k, which):
    """SCM.counterfactual (and abduct / predict) of a fitted linear model: the answers rescale."""
    col, target = NODES[which % 4], NODES[(which // 4) % 3]
    scaled, f = _scaled(DATA, col, k)
    unit = np.array([f if n == col else 1.0 for n in NODES])
    a, b = SCM.fit(GRAPH, DATA), SCM.fit(GRAPH, scaled)
    obs_a, obs_b = DATA.iloc[:6], scaled.iloc[:6]
    value = 0.5
    cf_a = a.counterfactual(obs_a, {target: value})
    cf_b = b.counterfactual(obs_b, {target: value * unit[NODES.index(target)]})
    _close(cf_b.to_numpy(), cf_a.to_numpy() * unit, rtol=1e-7)


# ------------------------------------------------------------------ estimators


def _check_estimator(cls, k, which, treatments=("x", "t")):
    """An effect estimator on a binary (x) or continuous (t) treatment, one column scaled."""
    treatment = treatments[which % len(treatments)]
    other = "t" if treatment == "x" else "x"
    frame = EFFECT_DATA.drop(columns=[other])
    choices = ["y", "z1", "z2"] + (["t"] if treatment == "t" else [])
    col = choices[(which // 2) % len(choices)]
    scaled, f = _scaled(frame, col, k)
    mult = f if col == "y" else (1 / f if col == "t" else 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", estimators.PositivityWarning)
        a = cls(random_state=0).fit(frame, treatment, "y", adjustment=["z1", "z2"])
        b = cls(random_state=0).fit(scaled, treatment, "y", adjustment=["z1", "z2"])
    _close(b.effect_, a.effect_ * mult, rtol=RTOL_FLEXIBLE)
    _close(b.std_err_, a.std_err_ * mult, rtol=RTOL_FLEXIBLE)
    _close(b.conf_int_, np.array(a.conf_int_) * mult, rtol=RTOL_FLEXIBLE)
    if isinstance(a.positivity_, dict):  # estimated propensities: scale-invariant
        _close(b.positivity_["min_propensity"], a.positivity_["min_propensity"], rtol=RTOL_FLEXIBLE)
    if a.dose_response_ is not None:
        t_unit = f if col == "t" else 1.0
        y_unit = f if col == "y" else 1.0
        _close(b.dose_response_[treatment], a.dose_response_[treatment] * t_unit, rtol=RTOL_FLEXIBLE)
        _close(b.dose_response_[["estimate", "lower", "upper"]], a.dose_response_[["estimate", "lower", "upper"]] * y_unit,
               rtol=RTOL_FLEXIBLE)


def check_regression_adjustment(k, which):
    _check_estimator(RegressionAdjustment, k, which)


def check_ipw(k, which):
    _check_estimator(IPW, k, which, treatments=("x",))


def check_aipw(k, which):
    _check_estimator(AIPW, k, which)


def check_doubleml(k, which):
    _check_estimator(DoubleML, k, which)


def check_effect(k, which):
    """estimators.effect on data and a graph (the same adjustment set), and on a fitted SCM."""
    treatment = ("x", "t")[which % 2]
    frame = EFFECT_DATA.drop(columns=["t" if treatment == "x" else "x"])
    choices = ["y", "z1"] + (["t"] if treatment == "t" else [])
    col = choices[(which // 2) % len(choices)]
    scaled, f = _scaled(frame, col, k)
    mult = f if col == "y" else (1 / f if col == "t" else 1.0)
    graph = EFFECT_GRAPH.subgraph(frame.columns).copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", estimators.PositivityWarning)
        a = estimators.effect(frame, graph, treatment, "y", random_state=0)
        b = estimators.effect(scaled, graph, treatment, "y", random_state=0)
    assert b.adjustment_set == a.adjustment_set and b.method == a.method
    _close([b.estimate, b.std_err, *b.conf_int], np.array([a.estimate, a.std_err, *a.conf_int]) * mult, rtol=RTOL_FLEXIBLE)
    # On a linear SCM: E[V3 | do(V1 = v)] - E[V3 | do(V1 = 0)], with V1 or V3 rescaled.
    node = NODES[which % 4]
    g = 10.0**k
    unit = {n: (g if n == node else 1.0) for n in NODES}
    base = SCM.from_linear(W, noise_std=STD, intercepts=INTERCEPTS)
    ra = estimators.effect(base, treatment="V1", outcome="V3", value=2.0, baseline=0.0)
    rb = estimators.effect(_rescaled_linear(node, g), treatment="V1", outcome="V3", value=2.0 * unit["V1"], baseline=0.0)
    _close(rb.estimate, ra.estimate * unit["V3"])


CHECKS = [
    check_fit_linear,
    check_fit_auto,
    check_fit_phases,
    check_from_linear,
    check_counterfactual,
    check_regression_adjustment,
    check_ipw,
    check_aipw,
    check_doubleml,
    check_effect,
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__.removeprefix("check_") for c in CHECKS])
@FAST
@given(k=K, which=WHICH)
@example(k=150, which=0)
@example(k=-150, which=1)
@example(k=150, which=2)
@example(k=-150, which=3)
def test_scale_equivariance(check, k, which):
    """Rescaling a column by 10**k rescales the equivariant answers and leaves the invariant ones alone."""
    check(k, which)


@pytest.mark.slow
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__.removeprefix("check_") for c in CHECKS])
@THOROUGH
@given(k=K, which=WHICH)
def test_scale_equivariance_thoroughly(check, k, which):
    """The same property over many more draws of k and of the column."""
    check(k, which)
