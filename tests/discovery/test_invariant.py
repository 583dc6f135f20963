"""Anchor regression and IRM.

* AnchorRegression against its closed form (OLS of W y on W X with an explicit
  ``n x n`` matrix W = I - (1 - sqrt(gamma)) Pi_A), gamma = 1 (OLS), gamma = 0
  (partialling out) and gamma -> inf against two-stage least squares by hand;
* IRM: penalty 0 is least squares; the penalty moves the coefficients towards the
  invariant ones and shrinks the IRMv1 penalty term; determinism; no recompilation
  for a new number of steps; input validation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from discovery import IRM, AnchorRegression
from discovery.invariance import _irm_kernels
from scm import DataError, NotFittedError, ParameterError, UnknownNodeError


@pytest.fixture(scope="module")
def confounded():
    """x is shifted by the environment and confounded with y by h; the causal effect is 2."""
    rng = np.random.default_rng(0)
    env = np.repeat([0, 1, 2], 100)
    h = rng.normal(size=300)
    x1 = 1.5 * env + h + rng.normal(size=300)
    x2 = -1.0 * (env == 1) + 0.5 * h + rng.normal(size=300)
    y = 2.0 * x1 - 1.0 * x2 - 2.0 * h + rng.normal(size=300)
    return pd.DataFrame({"x1": x1, "x2": x2}), y, env


def closed_form(x, y, a, gamma):
    """OLS (with intercept) of W y on W X with W = I - (1 - sqrt(gamma)) Pi_A, Pi_A the
    projection on the centred anchors, formed explicitly."""
    n = len(y)
    xc, yc = x - x.mean(axis=0), y - y.mean()
    ac = a - a.mean(axis=0)
    proj = ac @ np.linalg.pinv(ac)
    w = np.eye(n) - (1 - np.sqrt(gamma)) * proj
    coef = np.linalg.lstsq(w @ xc, w @ yc, rcond=None)[0]
    return coef, y.mean() - x.mean(axis=0) @ coef


def two_stage_least_squares(x, y, a):
    """2SLS by hand: first stage X on [1, A], second stage y on [1, X_hat]."""
    za = np.column_stack([np.ones(len(y)), a])
    x_hat = za @ np.linalg.lstsq(za, x, rcond=None)[0]
    z2 = np.column_stack([np.ones(len(y)), x_hat])
    sol = np.linalg.lstsq(z2, y, rcond=None)[0]
    return sol[1:], sol[0]


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0, 2.0, 10.0, 1e4])
def test_anchor_closed_form_environment_anchors(confounded, gamma):
    x, y, env = confounded
    model = AnchorRegression(gamma=gamma).fit(x, y, env)
    onehot = np.eye(3)[env]
    coef, intercept = closed_form(x.to_numpy(), y, onehot, gamma)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9, atol=1e-10)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-9, abs=1e-10)
    assert model.anchor_names_ == [0, 1, 2]


@pytest.mark.parametrize("gamma", [0.0, 1.0, 7.0])
def test_anchor_closed_form_continuous_anchors(confounded, gamma):
    x, y, env = confounded
    rng = np.random.default_rng(1)
    a = np.column_stack([env + 0.1 * rng.normal(size=300), rng.normal(size=300)])
    model = AnchorRegression(gamma=gamma).fit(x, y, a)
    coef, intercept = closed_form(x.to_numpy(), y, a, gamma)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-9, atol=1e-10)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-9, abs=1e-10)
    assert model.anchor_names_ == ["A0", "A1"]


def test_anchor_gamma_one_is_ols_and_zero_partials_out(confounded):
    x, y, env = confounded
    xv = x.to_numpy()
    ols = np.linalg.lstsq(np.column_stack([xv, np.ones(300)]), y, rcond=None)[0]
    model = AnchorRegression(gamma=1.0).fit(x, y, env)
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], ols, rtol=1e-10)
    # gamma = 0: regress the within-environment residuals
    means_x = pd.DataFrame(xv).groupby(env).transform("mean").to_numpy()
    means_y = pd.Series(y).groupby(env).transform("mean").to_numpy()
    within = np.linalg.lstsq(xv - means_x, y - means_y, rcond=None)[0]
    np.testing.assert_allclose(AnchorRegression(gamma=0.0).fit(x, y, env).coef_, within, rtol=1e-10)


def test_anchor_limit_is_two_stage_least_squares(confounded):
    x, y, env = confounded
    onehot = np.eye(3)[env][:, 1:]
    coef, intercept = two_stage_least_squares(x.to_numpy(), y, onehot)
    exact = AnchorRegression(gamma=np.inf).fit(x, y, env)
    np.testing.assert_allclose(exact.coef_, coef, rtol=1e-9)
    assert exact.intercept_ == pytest.approx(intercept, rel=1e-9)
    # the path converges to it: the error shrinks like 1 / gamma
    errs = [np.abs(AnchorRegression(gamma=g).fit(x, y, env).coef_ - coef).max() for g in (1e2, 1e4, 1e6)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4
    # and IV removes the confounding bias that OLS has (true effects 2, -1)
    ols = AnchorRegression(gamma=1.0).fit(x, y, env).coef_
    assert np.abs(exact.coef_ - [2.0, -1.0]).max() < np.abs(ols - [2.0, -1.0]).max()


def test_anchor_underidentified_iv_raises(confounded):
    x, y, env = confounded
    with pytest.raises(DataError, match="not identified.*rank 1 < 2"):
        AnchorRegression(gamma=np.inf).fit(x, y, (env == 1).astype(int))


def test_anchor_column_names_and_predict(confounded):
    x, y, env = confounded
    frame = x.assign(y=y, site=np.array(["a", "b", "c"])[env])
    model = AnchorRegression(gamma=3.0).fit(frame, "y", "site")
    ref = AnchorRegression(gamma=3.0).fit(x, y, env)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-12)
    assert list(model.feature_names_in_) == ["x1", "x2"] and model.anchor_names_ == ["a", "b", "c"]
    pred = model.predict(frame)  # extra columns are ignored
    np.testing.assert_allclose(pred, x.to_numpy() @ model.coef_ + model.intercept_)
    np.testing.assert_allclose(model.predict(x.to_numpy()), pred)
    with pytest.raises(UnknownNodeError, match="x2"):
        model.predict(frame[["x1"]])
    with pytest.raises(DataError, match="3 columns"):
        model.predict(np.ones((2, 3)))


def test_anchor_bad_inputs(confounded):
    x, y, env = confounded
    for gamma in (-1.0, np.nan, "big", True):
        with pytest.raises(ParameterError, match="'gamma' parameter of AnchorRegression"):
            AnchorRegression(gamma=gamma).fit(x, y, env)
    with pytest.raises(ParameterError, match="anchor_kind"):
        AnchorRegression().fit(x, y, env, anchor_kind="onehot")
    with pytest.raises(DataError, match="single environment"):
        AnchorRegression().fit(x, y, np.zeros(300, dtype=int))
    with pytest.raises(UnknownNodeError, match="anchor column"):
        AnchorRegression().fit(x, y, "site")
    with pytest.raises(DataError, match="y 'x1' is also a column of X"):
        AnchorRegression().fit(x, x["x1"], env)
    with pytest.raises(DataError, match="anchors have 3 rows"):
        AnchorRegression().fit(x, y, [0, 1, 2])
    nan = x.copy()
    nan.iloc[0, 0] = np.nan
    with pytest.raises(DataError, match="'x1' holds NaN"):
        AnchorRegression().fit(nan, y, env)
    with pytest.raises(NotFittedError):
        AnchorRegression().predict(x)


# --------------------------------------------------------------------------- IRM
@pytest.fixture(scope="module")
def spurious():
    """x1 -> y -> x2; x2's noise grows in environment 1, so its relation to y is unstable."""
    rng = np.random.default_rng(0)
    env = np.repeat([0, 1], 600)
    x1 = rng.normal(size=1200) * (1 + env)
    y = x1 + rng.normal(size=1200)
    x2 = y + rng.normal(size=1200) * (0.3 + 2 * env)
    return pd.DataFrame({"x1": x1, "x2": x2}), y, env


def irm_penalty(coef, intercept, x, y, env):
    """The IRMv1 penalty sum_e (d/dw R_e(w f))^2 at w = 1, on the original scale."""
    f = x @ coef + intercept
    return sum((-2 * np.mean((y[env == e] - f[env == e]) * f[env == e])) ** 2 for e in np.unique(env))


def test_irm_without_penalty_is_least_squares(spurious):
    x, y, env = spurious
    model = IRM(penalty=0.0, n_steps=1500).fit(x, y, env)
    ols = np.linalg.lstsq(np.column_stack([x, np.ones(len(y))]), y, rcond=None)[0]
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], ols, atol=1e-3)


@pytest.mark.slow
def test_irm_penalty_moves_towards_invariant_solution(spurious):
    x, y, env = spurious
    xv = x.to_numpy()
    ols = IRM(penalty=0.0).fit(x, y, env)
    irm = IRM(penalty=1000.0).fit(x, y, env)
    causal = np.array([1.0, 0.0])
    assert np.abs(irm.coef_ - causal).max() < 0.6 * np.abs(ols.coef_ - causal).max()
    assert irm_penalty(irm.coef_, irm.intercept_, xv, y, env) < 0.01 * irm_penalty(ols.coef_, ols.intercept_, xv, y, env)
    lbfgs = IRM(penalty=1000.0, solver="lbfgs", n_steps=100).fit(x, y, env)
    assert np.abs(lbfgs.coef_ - causal).max() < 0.6 * np.abs(ols.coef_ - causal).max()


def test_irm_is_deterministic_and_does_not_recompile(spurious):
    x, y, env = spurious
    a = IRM(n_steps=300, random_state=3).fit(x, y, env)
    size = _irm_kernels.irm_train._cache_size()
    b = IRM(n_steps=300, random_state=3).fit(x, y, env)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    IRM(n_steps=500, anneal_steps=20, penalty=5.0, random_state=4).fit(x, y, env)  # other steps, penalty, seed
    assert _irm_kernels.irm_train._cache_size() == size
    pred = a.predict(x)
    np.testing.assert_allclose(pred, x.to_numpy() @ a.coef_ + a.intercept_)
    assert a.environments_ == [0, 1] and a.get_params()["n_steps"] == 300
    assert repr(IRM(penalty=5.0)) == "IRM(penalty=5.0)"


def test_irm_bad_inputs(spurious):
    x, y, env = spurious
    bad = [({"penalty": -1.0}, "'penalty'"), ({"n_steps": 0}, "'n_steps'"), ({"learning_rate": 0.0}, "'learning_rate'"),
           ({"solver": "sgd"}, "'solver'"), ({"fit_intercept": 1}, "'fit_intercept'"), ({"anneal_steps": 1.5}, "'anneal_steps'")]
    for params, msg in bad:
        with pytest.raises(ParameterError, match=msg):
            IRM(**params).fit(x, y, env)
    with pytest.raises(DataError, match="at least two environments"):
        IRM().fit(x, y, np.zeros(len(y)))
    with pytest.raises(NotFittedError):
        IRM().predict(x)
