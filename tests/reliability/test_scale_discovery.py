"""The scale property of issue 26 for every public discovery estimator and CI test.

Multiplying one column by ``10**k`` (``k`` drawn in ``[-150, 150]``, the extremes always
tried) must leave every scale-invariant answer unchanged -- CI-test p-values, the graphs of
PC, CD-NOD, ICP, ICPGraph, nonlinear ICP, PCMCI, PCMCI+, NOTEARS and VI-DP-DAG with
``standardize=True`` -- and rescale every scale-equivariant estimate exactly, to rounding:
the coefficients and intervals of ICP, anchor regression and IRM. The estimators reach this
by running on z-scores whose moments cannot overflow (``discovery._utils.standardize``) and
mapping estimates back.

Not covered, on purpose:

* :class:`~discovery.citest.ChiSquare` and :class:`~discovery.citest.GSquare` take integer
  codes of categories, which have no scale: ``test_discrete_tests_take_codes_not_scales``
  states what they do instead (``10**k`` with ``k > 0`` relabels the codes and changes
  nothing; ``k < 0`` makes them non-integer, a ``DataError``).
* Linear NOTEARS on raw columns (``standardize=False``) is not scale-invariant by design
  (its penalty and threshold are in the units of the data); its handling of badly scaled
  raw columns is tested with its own estimator.
* ``discovery.compare`` scores graphs against the truth and never reads the data itself:
  its table is checked to follow its estimators (``test_compare_scores_follow_the_graphs``).

Each property runs in two profiles: a fast one (a few Hypothesis examples, small data) in
the default loop and a thorough one marked ``slow``. Hypothesis is derandomised, so a run
is reproducible.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

import scm
from discovery import (
    CDNOD,
    ICP,
    IRM,
    NOTEARS,
    PC,
    PCMCI,
    VIDPDAG,
    AnchorRegression,
    ICPGraph,
    NonlinearICP,
    PCMCIPlus,
    compare,
)
from discovery.citest import KCI, ChiSquare, FisherZ, GSquare
from scm import DataError

K_MIN, K_MAX = -150, 150
#: Hypothesis examples per property, besides the two extremes (k = 150 and k = -150) always tried.
PROFILES = [pytest.param(2, id="fast"), pytest.param(60, id="thorough", marks=pytest.mark.slow)]


def check_property(examples: int, n_columns: int, check) -> None:
    """Run ``check(column, factor)`` over Hypothesis draws of a column and ``factor = 10**k``.

    ``k = 150`` on the first column and ``k = -150`` on the last are always tried, then
    ``examples`` draws.
    """

    phases = tuple(Phase) if examples else (Phase.explicit,)  # 0: the two extremes only
    @settings(max_examples=max(examples, 1), phases=phases, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    @given(k=st.integers(K_MIN, K_MAX), column=st.integers(0, n_columns - 1))
    @example(k=K_MAX, column=0)
    @example(k=K_MIN, column=n_columns - 1)
    def run(k, column):
        check(column, 10.0**k)

    run()


def scaled(frame: pd.DataFrame, column: str, factor: float) -> pd.DataFrame:
    return frame.assign(**{column: frame[column] * factor})


def same_graph(a, b) -> None:
    """Two PDAGs, lagged graphs or DiGraphs with the same nodes and edges (and marks)."""
    if hasattr(a, "directed_edges"):
        assert (a.nodes, a.directed_edges, a.undirected_edges, a.bidirected_edges) == (
            b.nodes, b.directed_edges, b.undirected_edges, b.bidirected_edges)  # fmt: skip
    elif hasattr(a, "edges") and callable(a.edges) and not hasattr(a, "adj"):
        assert list(a.nodes) == list(b.nodes) and sorted(a.edges(), key=str) == sorted(b.edges(), key=str)
    else:
        assert list(a.nodes) == list(b.nodes) and sorted(a.edges) == sorted(b.edges)


# --------------------------------------------------------------------------- data
@functools.cache
def gaussian(n: int = 150, seed: int = 0) -> pd.DataFrame:
    """A -> B -> C <- D, linear Gaussian."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    d = rng.normal(size=n)
    b = a + rng.normal(size=n)
    c = 0.8 * b - 0.8 * d + rng.normal(size=n)
    return pd.DataFrame({"A": a, "B": b, "C": c, "D": d})


@functools.cache
def environments(n_per: int = 80, seed: int = 0):
    """x1 (shifted by the environment) -> y -> x2 (shifted in environment 2); the predictors and the target."""
    rng = np.random.default_rng(seed)
    env = np.repeat([0, 1, 2], n_per)
    n = len(env)
    x1 = rng.normal(size=n) + env
    y = 1.5 * x1 + rng.normal(size=n)
    x2 = y + rng.normal(size=n) + 3.0 * (env == 2)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": y}), env


@functools.cache
def series(T: int = 200, seed: int = 0) -> pd.DataFrame:
    """X0(t-1) -> X1(t), X1(t-1) -> X2(t), autocorrelated."""
    rng = np.random.default_rng(seed)
    x = np.zeros((T, 3))
    e = rng.normal(size=(T, 3))
    for t in range(1, T):
        x[t, 0] = 0.5 * x[t - 1, 0] + e[t, 0]
        x[t, 1] = 0.4 * x[t - 1, 1] + 0.7 * x[t - 1, 0] + e[t, 1]
        x[t, 2] = 0.4 * x[t - 1, 2] + 0.7 * x[t - 1, 1] + e[t, 2]
    return pd.DataFrame(x, columns=["X0", "X1", "X2"])


# --------------------------------------------------------------------------- CI tests
QUERIES = [("A", "C", ()), ("A", "C", ("B",)), ("A", "D", ("C",)), ("B", "D", ("A", "C"))]


@pytest.mark.parametrize("examples", PROFILES)
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(FisherZ, id="fisherz"),
        pytest.param(KCI, id="kci-exact"),
        pytest.param(functools.partial(KCI, approximation="nystrom", n_components=50), id="kci-nystrom"),
        # the same standardised data reach these; slow only, for the time the kernels take to compile
        pytest.param(functools.partial(KCI, approximation="dense"), id="kci-dense", marks=pytest.mark.slow),
        pytest.param(functools.partial(KCI, approximation="rff", n_components=50), id="kci-rff", marks=pytest.mark.slow),
        pytest.param(functools.partial(KCI, width="median"), id="kci-median", marks=pytest.mark.slow),
    ],
)
def test_ci_test_pvalues_do_not_depend_on_the_scale_of_a_column(make, examples):
    data = gaussian()
    base = make(data).pvalues(QUERIES)

    def check(column, factor):
        got = make(scaled(data, data.columns[column], factor)).pvalues(QUERIES)
        np.testing.assert_allclose(got, base, rtol=1e-6, atol=1e-12)

    check_property(examples, data.shape[1], check)


@pytest.mark.parametrize("cls", [ChiSquare, GSquare])
def test_discrete_tests_take_codes_not_scales(cls):
    """Codes are labels: 10**k (k > 0) relabels them and changes nothing; k < 0 makes them non-integer (named)."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, size=300)
    b = (a + (rng.random(300) < 0.3)) % 3
    c = (b + (rng.random(300) < 0.3)) % 3
    codes = pd.DataFrame({"a": a, "b": b, "c": c}).astype(float)
    queries = [("a", "c", ()), ("a", "c", ("b",))]
    base = cls(codes).pvalues(queries)
    np.testing.assert_array_equal(cls(scaled(codes, "b", 1e150)).pvalues(queries), base)
    with pytest.raises(DataError, match=r"integer-coded discrete data; column\(s\) \['b'\]"):
        cls(scaled(codes, "b", 1e-150))


# --------------------------------------------------------------------------- graphs
@pytest.mark.parametrize("examples", PROFILES)
@pytest.mark.parametrize(
    "make, context",
    [
        pytest.param(lambda: PC(ci_test="fisherz"), False, id="pc-fisherz"),
        pytest.param(lambda: PC(ci_test="kci"), False, id="pc-kci"),
        pytest.param(lambda: CDNOD(ci_test="fisherz"), True, id="cdnod-fisherz"),
        pytest.param(lambda: CDNOD(ci_test="kci", independent_changes=False, driving_force=False), True, id="cdnod-kci"),
    ],
)
def test_constraint_graphs_do_not_depend_on_the_scale_of_a_column(make, context, examples):
    data = gaussian()
    ctx = {"context": pd.Series(np.repeat([0, 1], len(data) // 2), name="E")} if context else {}
    base = make().fit(data, **ctx)

    def check(column, factor):
        got = make().fit(scaled(data, data.columns[column], factor), **ctx)
        same_graph(got.graph_, base.graph_)
        if context:
            assert got.changing_nodes_ == base.changing_nodes_
            pd.testing.assert_frame_equal(got.independent_changes_, base.independent_changes_, rtol=1e-6)

    check_property(examples, data.shape[1], check)


@pytest.mark.parametrize("examples", PROFILES)
@pytest.mark.parametrize("cls", [PCMCI, PCMCIPlus])
def test_time_series_graphs_do_not_depend_on_the_scale_of_a_series(cls, examples):
    data = series()
    base = cls(tau_max=2).fit(data)

    def check(column, factor):
        got = cls(tau_max=2).fit(scaled(data, data.columns[column], factor))
        same_graph(got.graph_, base.graph_)
        np.testing.assert_allclose(got.p_matrix_, base.p_matrix_, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(got.val_matrix_, base.val_matrix_, rtol=1e-9, atol=1e-12)

    check_property(examples, data.shape[1], check)


@pytest.mark.parametrize("examples", PROFILES)
def test_standardised_notears_does_not_depend_on_the_scale_of_a_column(examples):
    data = gaussian()
    base = NOTEARS(standardize=True).fit(data)

    def check(column, factor):
        got = NOTEARS(standardize=True).fit(scaled(data, data.columns[column], factor))
        same_graph(got.graph_, base.graph_)
        # the inputs differ by rounding; the solver stops at inner_tol = 1e-4, so the weights agree to about that
        np.testing.assert_allclose(got.weights_, base.weights_, atol=2e-3)

    check_property(examples, data.shape[1], check)


@pytest.mark.parametrize("examples", [pytest.param(0, id="fast"), pytest.param(15, id="thorough", marks=pytest.mark.slow)])
def test_standardised_vidpdag_graph_does_not_depend_on_the_scale_of_a_column(examples):
    data = gaussian()

    def fit(frame):
        return VIDPDAG(standardize=True, max_iter=300, chunk_size=100, random_state=0).fit(frame)

    base = fit(data)

    def check(column, factor):
        same_graph(fit(scaled(data, data.columns[column], factor)).graph_, base.graph_)

    check_property(examples, data.shape[1], check)


# --------------------------------------------------------------------------- invariance
@pytest.mark.parametrize("examples", PROFILES)
@pytest.mark.parametrize("test", ["approximate", "exact"])
def test_icp_answers_are_invariant_and_its_estimates_equivariant(test, examples):
    frame, env = environments()
    base = ICP(test=test).fit(frame, "y", env)
    assert base.parents_ == frozenset({"x1"})

    def check(column, factor):
        name = frame.columns[column]
        got = ICP(test=test).fit(scaled(frame, name, factor), "y", env)
        assert got.parents_ == base.parents_ and got.accepted_sets_ == base.accepted_sets_
        assert got.set_pvalues_ == pytest.approx(base.set_pvalues_, rel=1e-8, abs=1e-300)
        # a predictor scaled by f: its coefficient and interval by 1/f; the target: all by f
        per_column = np.array([factor if c == name else 1.0 for c in base.feature_names_in_])
        unit = np.full(len(per_column), factor) if name == "y" else 1.0 / per_column
        np.testing.assert_allclose(got.conf_intervals_.to_numpy(), base.conf_intervals_.to_numpy() * unit[:, None], rtol=1e-8)
        coef = got.coefficients({"x1"}).to_numpy()
        expect = base.coefficients({"x1"}).to_numpy() * np.append(unit, factor if name == "y" else 1.0)
        np.testing.assert_allclose(coef, expect, rtol=1e-8, atol=1e-12 * np.abs(expect).max())

    check_property(examples, frame.shape[1], check)


@pytest.mark.parametrize("examples", PROFILES)
def test_icpgraph_does_not_depend_on_the_scale_of_a_column(examples):
    frame, env = environments()
    data = frame.assign(environment=env)
    base = ICPGraph().fit(data)

    def check(column, factor):
        got = ICPGraph().fit(scaled(data, frame.columns[column], factor))
        same_graph(got.graph_, base.graph_)
        assert got.rejected_ == base.rejected_

    check_property(examples, frame.shape[1], check)


@pytest.mark.parametrize("examples", [pytest.param(0, id="fast"), pytest.param(25, id="thorough", marks=pytest.mark.slow)])
@pytest.mark.parametrize("test", ["residuals", "kci"])
def test_nonlinear_icp_does_not_depend_on_the_scale_of_a_column(test, examples):
    from sklearn.ensemble import RandomForestRegressor

    frame, env = environments(n_per=50)
    rf = RandomForestRegressor(n_estimators=30, min_samples_leaf=5, oob_score=True, random_state=0)
    base = NonlinearICP(regressor=rf, test=test).fit(frame, "y", env)

    def check(column, factor):
        got = NonlinearICP(regressor=rf, test=test).fit(scaled(frame, frame.columns[column], factor), "y", env)
        assert got.parents_ == base.parents_
        assert got.set_pvalues_ == pytest.approx(base.set_pvalues_, rel=1e-6, abs=1e-300)

    check_property(examples, frame.shape[1], check)


def _equivariant_fit(make, frame, env, anchors=None):
    model = make()
    keyword = "anchors" if isinstance(model, AnchorRegression) else "environment"  # keyword only: scikit-learn's fit(X, y)
    model.fit(frame.drop(columns="y"), frame["y"].to_numpy(), **{keyword: env if anchors is None else anchors})
    return model.coef_, model.intercept_


@pytest.mark.parametrize("examples", PROFILES)
@pytest.mark.parametrize(
    "make, extra_predictor",
    [
        pytest.param(lambda: AnchorRegression(gamma=5.0), True, id="anchor"),
        pytest.param(lambda: AnchorRegression(gamma=np.inf), False, id="anchor-iv"),  # 3 environments: 2 predictors at most
        pytest.param(lambda: AnchorRegression(gamma=0.0), True, id="anchor-partial"),
        pytest.param(lambda: IRM(n_steps=300), True, id="irm-adam"),
        pytest.param(lambda: IRM(n_steps=30, solver="lbfgs"), True, id="irm-lbfgs", marks=pytest.mark.slow),
    ],
)
def test_invariant_regression_coefficients_rescale_with_their_column(make, extra_predictor, examples):
    frame, env = environments()
    if extra_predictor:
        frame = frame.assign(x3=np.random.default_rng(1).normal(size=len(env)) + 0.5 * env)
    coef0, icept0 = _equivariant_fit(make, frame, env)
    predictors = [c for c in frame.columns if c != "y"]

    def check(column, factor):
        name = frame.columns[column]
        coef, icept = _equivariant_fit(make, scaled(frame, name, factor), env)
        if name == "y":  # the target scaled by f: every coefficient and the intercept by f
            np.testing.assert_allclose(coef, coef0 * factor, rtol=1e-6)
            assert icept == pytest.approx(icept0 * factor, rel=1e-6)
        else:  # a predictor scaled by f: its coefficient by 1/f, the others and the intercept unchanged
            np.testing.assert_allclose(coef, coef0 / np.array([factor if c == name else 1.0 for c in predictors]), rtol=1e-6)
            assert icept == pytest.approx(icept0, rel=1e-6, abs=1e-9)

    check_property(examples, frame.shape[1], check)


@pytest.mark.parametrize("examples", PROFILES)
def test_anchor_regression_does_not_depend_on_the_scale_of_continuous_anchors(examples):
    frame, env = environments()
    rng = np.random.default_rng(2)
    anchors = pd.DataFrame({"a1": env + rng.normal(size=len(env)), "a2": rng.normal(size=len(env))})
    coef0, icept0 = _equivariant_fit(lambda: AnchorRegression(gamma=5.0), frame, env, anchors)

    def check(column, factor):
        coef, icept = _equivariant_fit(lambda: AnchorRegression(gamma=5.0), frame, env, scaled(anchors, anchors.columns[column], factor))
        np.testing.assert_allclose(coef, coef0, rtol=1e-8)
        assert icept == pytest.approx(icept0, rel=1e-8)

    check_property(examples, anchors.shape[1], check)


# --------------------------------------------------------------------------- the harness
def test_compare_scores_follow_the_graphs():
    """compare scores graphs against the truth, not the data: a rescaled column leaves its table unchanged."""
    ds = scm.simulate.simulate(n_nodes=5, n_samples=300, random_state=0)
    big = dataclasses.replace(ds, data=scaled(ds.data, ds.data.columns[2], 1e150))
    algorithms = {"pc": PC(), "notears": NOTEARS(standardize=True)}
    metrics = ["shd", "skeleton_f1", "arrowhead_f1"]
    plain = compare(algorithms, {"d": ds}, metrics=metrics, executor="sequential")[["algorithm"] + metrics]
    rescaled = compare(algorithms, {"d": big}, metrics=metrics, executor="sequential")[["algorithm"] + metrics]
    pd.testing.assert_frame_equal(plain, rescaled)
