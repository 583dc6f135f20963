"""Environment-adaptive covariate selection (EACS): constraints, summaries, the selector, and the proxy simulation."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from discovery import AdaptiveCovariateSelection
from discovery.invariance import candidate_sets, environment_summaries, leave_one_environment_out_losses
from scm import SCM, DataError, Gaussian, Linear, ParameterError, UnknownNodeError

KINDS = ("cause_shift", "p1_broken", "p2_broken", "p3_broken")
PROXIES = ("p1", "p2", "p3")


def proxy_scm() -> SCM:
    """y = x1 + u + noise with u hidden; p1, p2, p3 are noisy proxies of u (children of u, not causes of y)."""
    graph = nx.DiGraph([("u", "y"), ("x1", "y")] + [("u", p) for p in PROXIES])
    mechanisms = {"u": Linear(), "x1": Linear(), "y": Linear({"x1": 1.0, "u": 1.0}), **{p: Linear({"u": 1.0}) for p in PROXIES}}
    return SCM(graph, mechanisms, noise={"u": 1.0, "x1": 1.0, "y": 0.5, **dict.fromkeys(PROXIES, 0.5)})


def environment(kind: str, rng: np.random.Generator, n: int) -> pd.DataFrame:
    """One environment made with SCM.do: the causes shift in every kind; a broken proxy is drawn independently of u.

    The proxies help (they stand in for the hidden cause u) except where a shift breaks one:
    then its relation to u is gone, and a model that leans on it errs by its shifted values.
    """
    shifts = {"x1": Gaussian(rng.uniform(0.5, 2.5), mean=rng.normal(0, 1.0)), "u": Gaussian(rng.uniform(0.5, 2.0))}
    for p in PROXIES:
        if kind == f"{p}_broken":
            shifts[p] = Gaussian(rng.uniform(2.0, 4.0), mean=rng.choice([-1, 1]) * rng.uniform(0, 3))
    return proxy_scm().do(shifts).sample(n, random_state=rng).drop(columns="u")


def simulate(seed: int, n_env: int, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frames = [environment(KINDS[e % len(KINDS)], rng, n).assign(env=e) for e in range(n_env)]
    data = pd.concat(frames, ignore_index=True)
    return data[["x1", *PROXIES]], data["y"].to_numpy(), data["env"].to_numpy()


def ols_predict(train_x, train_y, test_x):
    design = np.column_stack([np.ones(len(train_x)), train_x])
    coef = np.linalg.lstsq(design, train_y, rcond=None)[0]
    return coef[0] + test_x @ coef[1:]


@pytest.mark.parametrize("selector", ["ridge", "neighbors"])
def test_eacs_beats_the_static_causal_set_and_erm_over_new_target_environments(selector):
    X, y, env = simulate(0, 24, 200)
    model = AdaptiveCovariateSelection(required=["x1"], selector=selector).fit(X, y, environment=env)
    Xt, yt, envt = simulate(1, 16, 200)
    errors = {"eacs": [], "causal": [], "erm": [], "oracle": []}
    for e in np.unique(envt):
        rows = envt == e
        errors["eacs"].append(np.mean((yt[rows] - model.predict(Xt[rows])) ** 2))
        errors["causal"].append(np.mean((yt[rows] - ols_predict(X[["x1"]].to_numpy(), y, Xt.loc[rows, ["x1"]].to_numpy())) ** 2))
        errors["erm"].append(np.mean((yt[rows] - ols_predict(X.to_numpy(), y, Xt[rows].to_numpy())) ** 2))
        best = min(
            np.mean((yt[rows] - ols_predict(X[list(s)].to_numpy(), y, Xt.loc[rows, list(s)].to_numpy())) ** 2)
            for s in model.candidate_sets_
        )
        errors["oracle"].append(best)
    mean = {k: float(np.mean(v)) for k, v in errors.items()}
    assert mean["eacs"] < 0.5 * mean["causal"] and mean["eacs"] < 0.85 * mean["erm"], mean
    assert mean["eacs"] < 1.2 * mean["oracle"], mean  # close to choosing the best set in every target environment
    # the selector reads the signature: a proxy that is broken (uncorrelated with the other) is left out
    broken = simulate(2, 4, 300)
    sets = [model.selected_set(broken[0][broken[2] == e]) for e in range(4)]
    assert sets[0] == ("x1", *PROXIES), sets
    assert all(f"p{e}" not in sets[e] for e in (1, 2, 3)), sets


def test_candidate_sets_respect_required_and_forbidden():
    assert candidate_sets(["a", "b", "c"], required=["a"], forbidden=["c"]) == [("a",), ("a", "b")]
    assert candidate_sets(["a", "b"], max_size=1) == [(), ("a",), ("b",)]
    with pytest.raises(UnknownNodeError, match="'zz'"):
        candidate_sets(["a", "b"], required=["zz"])
    with pytest.raises(UnknownNodeError, match="forbidden.*'q'"):
        candidate_sets(["a", "b"], forbidden=["q"])
    with pytest.raises(DataError, match="both required and forbidden"):
        candidate_sets(["a", "b"], required=["a"], forbidden=["a"])


def test_environment_summaries_match_numpy():
    rng = np.random.default_rng(0)
    v, codes = rng.normal(size=(60, 3)), np.repeat([0, 1], 30)
    s = environment_summaries(v, codes, 2)
    part = v[codes == 1]
    np.testing.assert_allclose(s[1, :3], part.mean(axis=0))
    np.testing.assert_allclose(s[1, 3:6], part.std(axis=0))
    np.testing.assert_allclose(s[1, 6:], np.corrcoef(part, rowvar=False)[np.triu_indices(3, 1)])


def test_leave_one_environment_out_losses_fit_on_the_other_environments():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 1))
    codes = np.repeat([0, 1, 2], 30)
    y = np.where(codes == 2, -1.0, 1.0) * x[:, 0]  # environment 2 flips the slope
    losses = leave_one_environment_out_losses(x, y, codes, 3, [[], [0]])
    assert losses[2, 1] > 3.0 > losses[0, 1]  # fitted on 0 and 1 (slope 1), scored on 2 (slope -1)


def test_errors_name_the_problem():
    X, y, env = simulate(0, 4, 30)
    with pytest.raises(DataError, match="environment"):
        AdaptiveCovariateSelection().fit(X, y)
    with pytest.raises(DataError, match="single value"):
        AdaptiveCovariateSelection().fit(X, y, environment=np.zeros(len(y)))
    one_row = np.arange(len(y))
    with pytest.raises(DataError, match="environment"):
        AdaptiveCovariateSelection().fit(X, y, environment=one_row)
    with pytest.raises(UnknownNodeError, match="'u'"):
        AdaptiveCovariateSelection(required=["u"]).fit(X, y, environment=env)
    with pytest.raises(ParameterError, match="n_neighbors"):
        AdaptiveCovariateSelection(n_neighbors=0).fit(X, y, environment=env)
    model = AdaptiveCovariateSelection().fit(X, y, environment=env)
    with pytest.raises(DataError, match="two rows"):
        model.selected_set(X.iloc[:1])
    with pytest.raises(UnknownNodeError, match="p2"):
        model.predict(X.drop(columns="p2"))
    with pytest.raises(ParameterError, match="selector"):
        AdaptiveCovariateSelection(selector="knn").fit(X, y, environment=env)


@pytest.mark.slow  # imports scikit-learn
def test_scikit_learn_tools_and_units():
    from sklearn.base import clone
    from sklearn.linear_model import Ridge

    X, y, env = simulate(3, 8, 60)
    model = AdaptiveCovariateSelection(required=["x1"], estimator=Ridge(alpha=1.0))
    assert clone(model).get_params()["required"] == ["x1"]
    model.fit(X, y, environment=env)
    assert model.predict(X).shape == (len(y),) and np.isfinite(model.score(X, y))
    # the choice does not depend on the units of a column
    scaled = AdaptiveCovariateSelection(required=["x1"]).fit(X.assign(p1=X["p1"] * 1e6), y, environment=env)
    plain = AdaptiveCovariateSelection(required=["x1"]).fit(X, y, environment=env)
    assert scaled.static_set_ == plain.static_set_
    assert scaled.selected_set(X.assign(p1=X["p1"] * 1e6)[env == 1]) == plain.selected_set(X[env == 1])
