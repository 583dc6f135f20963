"""CausIRL: its splits and penalties by hand, its training against least squares, scikit-learn conformity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from discovery import CausIRL
from discovery.invariance import _irm_kernels
from discovery.invariance._predictors import matching_splits
from scm import ConvergenceError, DataError, NotFittedError, ParameterError

from .test_invariant import _assert_conforms, _run_estimator_checks


@pytest.fixture(scope="module")
def shifted_child():
    """y = x1 + noise; x2 a child of y shifted by 2 in environment 1 (the example of the docstring)."""
    rng = np.random.default_rng(0)
    env = np.repeat([0, 1], 1000)
    x1 = rng.normal(size=2000)
    y = x1 + rng.normal(size=2000)
    x2 = y + 0.5 * rng.normal(size=2000) + 2.0 * env
    return pd.DataFrame({"x1": x1, "x2": x2}), y, env


# --------------------------------------------------------------------------- splits and penalties
def test_matching_splits_cut_each_environment_once():
    codes = np.repeat([0, 1, 2], [50, 30, 20])
    rows, first, second = matching_splits(codes, 3, n_splits=6, n_rows=64, random_state=1)
    assert rows.shape == (64,) and len(np.unique(rows)) == 64 and first.shape == second.shape == (6, 64)
    np.testing.assert_allclose(first.sum(axis=1), 1.0)
    np.testing.assert_allclose(second.sum(axis=1), 1.0)
    assert np.all((first > 0) != (second > 0))  # every penalty row is in exactly one mixture
    assert np.all((first > 0).sum(axis=1) >= 2) and np.all((second > 0).sum(axis=1) >= 2)
    # the mixtures weigh the environments differently from split to split
    share = np.array([[first[s, codes[rows] == e].sum() for e in range(3)] for s in range(6)])
    assert share.std(axis=0).max() > 0.05
    # deterministic in the seed; one environment: both mixtures are every row
    np.testing.assert_array_equal(matching_splits(codes, 3, 6, 64, 1)[1], first)
    _, a, b = matching_splits(np.zeros(10, dtype=np.int64), 1, 3, 64, 0)
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_penalties_by_hand():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    f = rng.normal(size=12)
    member = np.zeros((2, 12), dtype=bool)
    member[0, :5] = True
    member[1, 3:9] = True
    first = member / member.sum(axis=1, keepdims=True)
    second = ~member / (~member).sum(axis=1, keepdims=True)
    theta = 0.7
    with jax.enable_x64(True):
        mmd = float(_irm_kernels.mmd_penalty(jnp.asarray(f), jnp.asarray(first), jnp.asarray(second), theta))
        coral = float(_irm_kernels.coral_penalty(jnp.asarray(f), jnp.asarray(first), jnp.asarray(second), theta))
    want_mmd, want_coral = [], []
    for m in member:
        a, b = f[m], f[~m]

        def k(u, v):
            return np.exp(-0.5 * theta * (u[:, None] - v[None, :]) ** 2).mean()

        want_mmd.append(k(a, a) + k(b, b) - 2 * k(a, b))
        want_coral.append((a.mean() - b.mean()) ** 2 + (a.var() - b.var()) ** 2)
    assert mmd == pytest.approx(np.mean(want_mmd), rel=1e-12)
    assert coral == pytest.approx(np.mean(want_coral), rel=1e-12)


# --------------------------------------------------------------------------- training
@pytest.mark.slow
def test_without_penalty_or_environment_causirl_is_least_squares(shifted_child):
    X, y, env = shifted_child
    design = np.column_stack([np.ones(len(y)), X.to_numpy()])
    ols = np.linalg.lstsq(design, y, rcond=None)[0]
    for model in (
        CausIRL(penalty_weight=0.0, solver="lbfgs", n_steps=200).fit(X, y, environment=env),
        CausIRL(penalty_weight=50.0, solver="lbfgs", n_steps=200).fit(X, y),
    ):
        np.testing.assert_allclose(model.coef_, ols[1:], atol=1e-6)  # equal environment sizes: equal weights
        assert model.intercept_ == pytest.approx(ols[0], abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("penalty", ["mmd", "coral"])
def test_the_penalty_moves_weight_off_the_shifted_child(shifted_child, penalty):
    X, y, env = shifted_child
    erm = CausIRL(penalty=penalty, penalty_weight=0.0).fit(X, y, environment=env).coef_
    strong = CausIRL(penalty=penalty, penalty_weight=30.0).fit(X, y, environment=env).coef_
    # the weight on the shifted child drops far more than that on the invariant cause
    assert strong[1] < 0.3 * erm[1] and strong[0] > 0.5 * erm[0], (erm, strong)
    adam = CausIRL(penalty=penalty, penalty_weight=30.0, n_steps=2000).fit(X, y, environment=env)
    lbfgs = CausIRL(penalty=penalty, penalty_weight=30.0, solver="lbfgs", n_steps=300).fit(X, y, environment=env)
    np.testing.assert_allclose(adam.coef_, lbfgs.coef_, atol=2e-3)  # both solvers reach the same optimum


@pytest.mark.slow
def test_causirl_is_deterministic_and_does_not_recompile(shifted_child):
    X, y, env = shifted_child
    a = CausIRL(n_steps=100, random_state=3).fit(X, y, environment=env)
    size = _irm_kernels.causirl_train._cache_size()
    b = CausIRL(n_steps=100, random_state=3).fit(X, y, environment=env)
    CausIRL(n_steps=150, penalty_weight=5.0, random_state=4, n_splits=8).fit(X, y, environment=env)
    assert _irm_kernels.causirl_train._cache_size() == size
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_allclose(a.predict(X), X.to_numpy() @ a.coef_ + a.intercept_)


@pytest.mark.slow
def test_causirl_bad_inputs(shifted_child):
    X, y, env = shifted_child
    bad = [
        ({"penalty": "wasserstein"}, "'penalty'"),
        ({"penalty_weight": -1.0}, "'penalty_weight'"),
        ({"n_splits": 0}, "'n_splits'"),
        ({"penalty_rows": 2}, "'penalty_rows'"),
        ({"solver": "sgd"}, "'solver'"),
    ]
    for params, msg in bad:
        with pytest.raises(ParameterError, match=msg):
            CausIRL(**params).fit(X, y, environment=env)
    with pytest.raises(DataError, match="at least two environments"):
        CausIRL().fit(X, y, environment=np.zeros(len(y)))
    with pytest.raises(DataError, match="at least two environments of p = 2 rows each"):
        CausIRL().fit(X.head(3), y[:3], environment=[0, 1, 1])
    with pytest.raises(DataError, match="every environment needs at least p = 2 rows.*too few in environment"):
        CausIRL().fit(X.head(10), y[:10], environment=np.arange(10))  # a single row per environment
    with pytest.raises(NotFittedError):
        CausIRL().predict(X)
    with pytest.raises(ConvergenceError, match="CausIRL diverged.*lower 'learning_rate'"):
        CausIRL(learning_rate=1e6, n_steps=20).fit(X, y, environment=env)


@pytest.mark.slow
def test_causirl_passes_scikit_learns_estimator_checks():
    # MMD only: CORAL runs the same fit code (the checks take ~10 s each on an idle machine)
    _assert_conforms(_run_estimator_checks(CausIRL(penalty="mmd", n_steps=50, penalty_rows=64)))
