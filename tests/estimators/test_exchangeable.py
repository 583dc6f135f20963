"""Do-Finetti effects (ExchangeableModel, exchangeable_effect) against closed forms.

- the causal Pólya urn: with the urn's initial composition as the prior, the answer is the urn's
  predictive ``(a + k) / (a + b + n)`` exactly, rows where a node was *set* leave its urn alone;
- the linear-Gaussian model: the conjugate posterior by hand; the estimate equals the posterior
  mean of the group's effect (checked by Monte Carlo); the prior learned by EM recovers the
  simulator's; over repeated new groups of :func:`scm.simulate.grouped` the estimate converges to
  each group's own effect (the closed form from its slopes) and the 95% interval covers it at
  about its nominal rate.
"""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from estimators import ExchangeableEffectResult, ExchangeableModel, exchangeable_effect
from estimators._exchangeable import fit_beta_prior
from scm import CycleError, DataError, NotFittedError, ParameterError, UnknownNodeError
from scm.simulate import grouped, polya_urn

XY = nx.DiGraph([("X", "Y")])


def _urn_model(balls=None):
    balls = balls or {"X": (2.0, 1.0), "Y": [(1.0, 3.0), (3.0, 1.0)]}
    ds = polya_urn(n_groups=30, group_size=3, balls=balls, random_state=0)
    return ExchangeableModel(mechanism="bernoulli").fit(ds.data, ds.graph, groups="group", prior=ds.metadata["urns"])


# ----------------------------------------------------------------------------- the urn, exactly
def test_urn_answer_is_the_urns_predictive():
    model = _urn_model()
    hist = pd.DataFrame({"X": [1, 1, 0, 1], "Y": [1, 0, 0, 1]})
    # Y's urn under X = 1 started (3 ones, 1 zero) and saw Y = 1, 0, 1
    res = model.effect("X", "Y", value=1, observed=hist, random_state=0)
    assert res.estimate == pytest.approx((3 + 2) / (4 + 3))
    assert res.prior_estimate == pytest.approx(3 / 4)
    # the contrast: urn X = 0 started (1, 3) and saw one 0
    res = model.effect("X", "Y", value=1, baseline=0, observed=hist, random_state=0)
    assert res.estimate == pytest.approx(5 / 7 - 1 / 5)
    lo, hi = res.conf_int
    assert lo < res.estimate < hi and isinstance(res, ExchangeableEffectResult)


def test_a_set_value_does_not_teach_its_own_urn():
    model = _urn_model()
    hist = pd.DataFrame({"X": [1], "Y": [1]})
    seen = model.effect(None, "X", observed=hist)
    set_ = model.effect(None, "X", observed=hist, intervened={"X": np.array([True])})
    assert seen.estimate == pytest.approx((2 + 1) / (3 + 1))
    assert set_.estimate == pytest.approx(2 / 3)  # X's urn untouched
    # ... while Y's urn still learnt from the row (under X = 1)
    y_next = model.effect("X", "Y", value=1, observed=hist, intervened={"X": np.array([True])})
    assert y_next.estimate == pytest.approx((3 + 1) / (4 + 1))


def test_urn_answer_matches_the_simulated_urn():
    """The model's P(Y_3 = 1 | do(X_3 = 1), rows 1-2) against the frequency in simulated urns."""
    ds = polya_urn(n_groups=20_000, group_size=3, balls={"Y": [(1.0, 3.0), (3.0, 1.0)]}, do={"X": 1}, do_rows=2, random_state=1)
    v = ds.data[["X", "Y"]].to_numpy().reshape(-1, 3, 2)
    assert (v[:, 2, 0] == 1).all() and ds.metadata["intervened"]["X"].sum() == 20_000
    model = ExchangeableModel(mechanism="bernoulli").fit(ds.data, ds.graph, groups="group", prior=ds.metadata["urns"])
    mask = (v[:, 0, 0] == 1) & (v[:, 0, 1] == 1) & (v[:, 1, 0] == 1) & (v[:, 1, 1] == 1)
    freq, n = v[mask, 2, 1].mean(), mask.sum()
    res = model.effect("X", "Y", value=1, observed=pd.DataFrame({"X": [1, 1], "Y": [1, 1]}))
    assert res.estimate == pytest.approx(5 / 6)
    assert abs(freq - res.estimate) < 4 * np.sqrt(freq * (1 - freq) / n)


def test_learned_beta_prior_recovers_the_urn():
    ds = polya_urn(n_groups=3000, group_size=4, balls=(2.0, 6.0), random_state=2)
    model = ExchangeableModel().fit(ds.data, ds.graph, groups="group")
    assert model.mechanism_ == "bernoulli"
    a, b = model.prior_["X"][["a", "b"]].to_numpy()[0]
    assert a / (a + b) == pytest.approx(0.25, abs=0.02)
    assert a + b == pytest.approx(8.0, rel=0.35)
    # no over-dispersion: the concentration goes to its cap (one shared probability)
    k = np.full(50, 3.0)
    n = np.full(50, 6.0)
    a, b = fit_beta_prior(k, n)
    assert a / (a + b) == pytest.approx(0.5) and a + b > 100


# ----------------------------------------------------------------------------- linear, closed forms
def _linear_prior(mean_slope=1.0, slope_var=0.25, noise=0.5):
    return {
        "X": {"mean": pd.Series({"intercept": 0.0}), "cov": pd.DataFrame([[1.0]], ["intercept"], ["intercept"]), "noise_var": 1.0},
        "Y": {
            "mean": pd.Series({"intercept": 0.0, "X": mean_slope}),
            "cov": pd.DataFrame(np.diag([1e-6, slope_var]), ["intercept", "X"], ["intercept", "X"]),
            "noise_var": noise,
        },
    }


def _two_groups():
    return pd.DataFrame({"X": [0.0, 1.0, 2.0, 3.0], "Y": [0.0, 1.0, 2.0, 3.5], "g": [0, 0, 1, 1]})


def test_linear_posterior_is_the_conjugate_one():
    model = ExchangeableModel(mechanism="linear").fit(_two_groups(), XY, groups="g", prior=_linear_prior())
    obs = pd.DataFrame({"X": [1.0, 2.0], "Y": [2.0, 4.5]})
    res = model.effect("X", "Y", value=1.0, baseline=0.0, observed=obs, n_draws=20_000, random_state=0)
    # slope posterior with an (almost) known zero intercept: precision 1/0.25 + sum x^2 / 0.5
    prec = 1 / 0.25 + (1 + 4) / 0.5
    mean = (1.0 / 0.25 + (1 * 2.0 + 2 * 4.5) / 0.5) / prec
    assert res.estimate == pytest.approx(mean, rel=1e-4)
    assert res.std_err == pytest.approx(prec**-0.5, rel=0.03)
    assert res.prior_estimate == pytest.approx(1.0)
    assert res.n_observed == 2


def test_estimate_is_the_posterior_mean_of_the_group_effect():
    """Through a mediator the effect is a product of two random slopes: its posterior mean is the
    product of the posterior means (independent mechanisms), which the draws confirm."""
    g = nx.DiGraph([("X", "M"), ("M", "Y"), ("X", "Y")])
    ds = grouped(g, n_groups=150, group_size=3, kind="linear", random_state=3)
    model = ExchangeableModel().fit(ds.data, g, groups="group")
    obs = ds.data[ds.data["group"] == 0].drop(columns="group")
    res = model.effect("X", "Y", value=2.0, baseline=-1.0, observed=obs, n_draws=40_000, random_state=0)
    assert res.draws.mean() == pytest.approx(res.estimate, abs=4 * res.std_err / np.sqrt(40_000) + 1e-9)
    post = model.posterior(obs)
    by_hand = 3.0 * (post["Y"]["mean"]["X"] + post["M"]["mean"]["X"] * post["Y"]["mean"]["M"])
    assert res.estimate == pytest.approx(by_hand)


def test_em_recovers_the_simulated_prior():
    ds = grouped(XY, n_groups=2000, group_size=3, kind="linear", random_state=4)
    model = ExchangeableModel().fit(ds.data, XY, groups="group")
    prior = ds.metadata["prior"]
    w, sd = prior.loc[("Y", "X"), ["a", "b"]]
    assert model.prior_["Y"]["mean"]["X"] == pytest.approx(w, abs=0.1 * abs(w) + 0.05)
    assert model.prior_["Y"]["cov"].loc["X", "X"] ** 0.5 == pytest.approx(sd, rel=0.25)
    assert model.prior_["X"]["cov"].loc["intercept", "intercept"] ** 0.5 == pytest.approx(prior.loc[("X", "intercept"), "b"], rel=0.15)


def true_group_effect(graph, params, treatment, outcome):
    return sum(np.prod([params[(c, p)] for p, c in zip(path[:-1], path[1:])]) for path in nx.all_simple_paths(graph, treatment, outcome))


@pytest.mark.slow
def test_converges_and_covers_on_the_linear_icm_simulator():
    """Over 150 new groups: RMSE falls with the rows observed, the 95% interval covers each group's
    own effect (closed form from its slopes) in 0.88-0.99 of the cases at every n."""
    n_train, n_new = 400, 150
    g = nx.DiGraph([("A", "X"), ("A", "Y"), ("X", "M"), ("M", "Y"), ("X", "Y")])
    ds = grouped(g, n_groups=n_train + n_new, group_size=[3] * n_train + [100] * n_new, kind="linear", random_state=5)
    data, params = ds.data, ds.metadata["parameters"]
    model = ExchangeableModel().fit(data[data["group"] < n_train], g, groups="group")
    ns = (0, 5, 25, 100)
    err, cover = {n: [] for n in ns}, {n: [] for n in ns}
    for grp in range(n_train, n_train + n_new):
        rows = data[data["group"] == grp]
        tau = true_group_effect(g, params.loc[grp], "X", "Y")
        for n in ns:
            res = model.effect("X", "Y", value=1.0, baseline=0.0, observed=rows.iloc[:n], n_draws=1000, random_state=grp)
            err[n].append(res.estimate - tau)
            cover[n].append(res.conf_int[0] <= tau <= res.conf_int[1])
    rmse = [np.sqrt(np.mean(np.square(err[n]))) for n in ns]
    assert all(a > b for a, b in zip(rmse, rmse[1:])), rmse
    assert rmse[-1] < 0.5 * rmse[0], rmse
    for n in ns:
        assert 0.88 <= np.mean(cover[n]) <= 0.99, (n, np.mean(cover[n]))


def test_exchangeable_effect_leaves_the_new_group_out_of_the_prior():
    ds = grouped(XY, n_groups=60, group_size=4, kind="linear", random_state=6)
    res = exchangeable_effect(ds.data, XY, "X", "Y", groups="group", new_group=7, value=1.0, baseline=0.0, n_observed=2, random_state=0)
    model = ExchangeableModel().fit(ds.data[ds.data["group"] != 7], XY, groups="group")
    ref = model.effect("X", "Y", value=1.0, baseline=0.0, observed=ds.data[ds.data["group"] == 7].iloc[:2], random_state=0)
    assert res.estimate == pytest.approx(ref.estimate) and res.conf_int == pytest.approx(ref.conf_int)
    assert res.n_observed == 2 and "n_observed=2" in repr(res)


# ----------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def lin():
    ds = grouped(XY, n_groups=20, group_size=3, kind="linear", random_state=7)
    return ds.data, ExchangeableModel().fit(ds.data, XY, groups="group")


def test_bad_input_named_errors(lin):
    data, model = lin
    with pytest.raises(UnknownNodeError, match="'grp'"):
        ExchangeableModel().fit(data, XY, groups="grp")
    with pytest.raises(DataError, match="1 distinct group"):
        ExchangeableModel().fit(data.assign(group=0), XY, groups="group")
    with pytest.raises(DataError, match="'Y'"):
        ExchangeableModel().fit(data.assign(Y=np.where(data.index == 3, np.nan, data["Y"])), XY, groups="group")
    with pytest.raises(DataError, match="missing"):
        ExchangeableModel().fit(data.assign(group=data["group"].where(data.index != 2)), XY, groups="group")
    with pytest.raises(UnknownNodeError, match="'Z'"):
        ExchangeableModel().fit(data, nx.DiGraph([("X", "Z")]), groups="group")
    with pytest.raises(CycleError):
        ExchangeableModel().fit(data, nx.DiGraph([("X", "Y"), ("Y", "X")]), groups="group")
    with pytest.raises(DataError, match="0/1"):
        ExchangeableModel(mechanism="bernoulli").fit(data, XY, groups="group")
    with pytest.raises(ParameterError, match="'mechanism'"):
        ExchangeableModel(mechanism="probit").fit(data, XY, groups="group")
    with pytest.raises(NotFittedError):
        ExchangeableModel().effect("X", "Y", value=1.0)
    with pytest.raises(UnknownNodeError, match="'W'"):
        model.effect("W", "Y", value=1.0)
    with pytest.raises(ParameterError, match="'value'"):
        model.effect("X", "Y")
    with pytest.raises(ParameterError, match="same node"):
        model.effect("Y", "Y", value=1.0)
    with pytest.raises(ParameterError, match="'alpha'"):
        model.effect("X", "Y", value=1.0, alpha=1.5)
    with pytest.raises(ParameterError, match="boolean mask"):
        model.effect("X", "Y", value=1.0, observed=data.iloc[:2], intervened={"X": [1, 0, 1]})
    with pytest.raises(UnknownNodeError, match="new_group 99"):
        exchangeable_effect(data, XY, "X", "Y", groups="group", new_group=99, value=1.0)
    with pytest.raises(ParameterError, match="0 or 1"):
        _urn_model().effect("X", "Y", value=0.5)
    with pytest.raises(ParameterError, match=r"prior\['X'\]"):
        ExchangeableModel().fit(data, XY, groups="group", prior={"X": {"mean": [0.0]}})


def test_noise_spread_by_moments():
    """Groups' noise variances from a scaled inverse chi-squared: the method of moments finds its
    degrees of freedom; one shared variance gives none (inf); too few residual degrees: the fallback."""
    from estimators._exchangeable import FALLBACK_NOISE_DF, _group_stats, noise_df_moments

    rng = np.random.default_rng(8)
    G, m = 3000, 8
    X = np.column_stack([np.ones(G * m), rng.normal(size=G * m)])
    codes = np.repeat(np.arange(G), m)
    df = 8.0
    s2 = df * 0.5 / rng.chisquare(df, G)  # scaled-inv-chi2(8, 0.5)
    y = X @ [0.0, 1.0] + np.sqrt(s2)[codes] * rng.normal(size=G * m)
    assert noise_df_moments(*_group_stats(X, y, codes, G), 0.5) == pytest.approx(df, rel=0.3)
    y_shared = X @ [0.0, 1.0] + rng.normal(size=G * m)
    assert noise_df_moments(*_group_stats(X, y_shared, codes, G), 1.0) > 100
    pairs = np.arange(G * m) // 2  # two-row groups, two coefficients: no residual degrees of freedom
    assert noise_df_moments(*_group_stats(X, y, pairs, G * m // 2), 1.0) == FALLBACK_NOISE_DF


def test_options_shared_noise_and_full_covariance():
    ds = grouped(XY, n_groups=300, group_size=4, kind="linear", random_state=9)
    shared = ExchangeableModel(noise="shared", covariance="full").fit(ds.data, XY, groups="group")
    assert np.isinf(shared.prior_["Y"]["noise_df"]) and shared.prior_["Y"]["cov"].loc["intercept", "X"] != 0
    own = ExchangeableModel().fit(ds.data, XY, groups="group")
    assert np.isfinite(own.prior_["Y"]["noise_df"]) and own.prior_["Y"]["cov"].loc["intercept", "X"] == 0
