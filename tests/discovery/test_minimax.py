"""Causal minimax transfer: the search, the equivalence classes, the paper's counter-example against the exact worst case."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from discovery import MinimaxTransfer
from discovery.invariance import equivalence_classes, markov_boundary, search_subsets
from scm import SCM, DataError, Functional, GraphError, Linear, OrientationWarning, ParameterError, UnknownNodeError, random_dag

EXAMPLE = nx.DiGraph([("x1", "y"), ("y", "m"), ("y", "x2"), ("m", "x2")])
S, SIGMA = 3.0, 0.5  # std of y's own noise (the part x1 does not explain) and of x2's


def example_scm() -> SCM:
    """The counter-example: m is a mutable child of y, and x2 a stable child of both (x2 = y m + noise)."""
    mechanisms = {
        "x1": Linear(),
        "y": Linear({"x1": 1.0}),
        "m": Linear({"y": 0.3}),
        "x2": Functional(lambda P, u: P[:, 0] * P[:, 1] + u, parents=["y", "m"]),
    }
    return SCM(EXAMPLE, mechanisms, noise={"x1": 1.0, "y": S, "m": 0.3, "x2": SIGMA})


def example_data(seed: int = 0, n: int = 500, slopes=(-1.0, 0.5, 1.0)) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Training environments made with SCM.do: each sets m's mechanism to 2 tanh(a y / s) + noise, one slope a each."""
    rng = np.random.default_rng(seed)
    frames = []
    for e, a in enumerate(slopes):
        mech = Functional(lambda P, u, a=a: 2.0 * np.tanh(a * P[:, 0] / S) + u, parents=["y"])
        frames.append(example_scm().do({"m": mech}).sample(n, random_state=rng).assign(env=e))
    data = pd.concat(frames, ignore_index=True)
    return data[["x1", "m", "x2"]], data["y"].to_numpy(), data["env"].to_numpy()


def _gauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def exact_worst_case(predict, lo: float, hi: float, *, n_y: int = 61, n_m: int = 81, n_inner: int = 12) -> float:
    """sup over h: y -> [lo, hi] of E[(y - f(x1, x2, m))^2] on the simulator, with m = h(y).

    For each y the adversary picks the m of largest conditional risk (a pointwise maximum, so
    the supremum over measurable h is the expectation over y of the maximum over m), computed
    by Gauss-Hermite quadrature over y, x1 | y and x2's noise, on a grid of m.
    """
    zy, wy = _gauss(n_y)
    zi, wi = _gauss(n_inner)
    var_y = 1.0 + S**2
    y = zy * np.sqrt(var_y)
    m = np.linspace(lo, hi, n_m)
    yy, mm, a, b = np.meshgrid(y, m, zi, zi, indexing="ij")
    x1 = yy / var_y + np.sqrt(S**2 / var_y) * a
    x2 = yy * mm + SIGMA * b
    pred = predict(pd.DataFrame({"x1": x1.ravel(), "m": mm.ravel(), "x2": x2.ravel()})).reshape(yy.shape)
    risk = np.einsum("ymab,a,b->ym", (yy - pred) ** 2, wi, wi)
    return float(wy @ risk.max(axis=1))


def bayes_predictors():
    """E[y | x1, do(m)] and E[y | x1, x2, do(m)] of the simulator, in closed form."""

    def only_x1(frame):
        return frame["x1"].to_numpy()

    def whole(frame):
        x1, x2, m = frame["x1"].to_numpy(), frame["x2"].to_numpy(), frame["m"].to_numpy()
        return x1 + m * S**2 * (x2 - m * x1) / (m**2 * S**2 + SIGMA**2)

    return only_x1, whole


# --------------------------------------------------------------------------- fast
def test_exact_worst_case_matches_the_closed_form():
    """The yardstick itself: x1's risk is s^2 in every environment; the whole set's worst case is E[max(A, s^4 / 4(s^2 - A))]."""
    only_x1, whole = bayes_predictors()
    assert exact_worst_case(only_x1, -2.0, 2.0, n_y=41, n_m=5, n_inner=10) == pytest.approx(S**2, rel=1e-3)
    c = S**2 / (1 + S**2)
    z = np.linspace(-9, 9, 20001)
    w = np.exp(-(z**2) / 2)
    a = (c * z * np.sqrt(1 + S**2)) ** 2 + c
    closed = float(w @ np.where(a >= S**2 / 2, a, S**4 / (4 * (S**2 - a))) / w.sum())
    assert closed > S**2 + 0.4  # the whole stable set is not minimax-optimal
    assert exact_worst_case(whole, -2.0, 2.0, n_y=41, n_m=101, n_inner=10) == pytest.approx(closed, rel=3e-3)


def test_markov_boundary_and_equivalence_classes_on_the_example():
    graph = EXAMPLE.copy()
    graph.add_edge("x1", "z")  # z: a child of x1 only, irrelevant once x1 is known
    boundary = markov_boundary(graph, "y", ["m"], ["x1", "x2", "z"])
    assert boundary((True, True, True)) == (True, True, False)
    assert boundary((False, False, True)) == (False, False, True)  # without x1, z is a proxy of it
    classes = equivalence_classes(3, boundary)
    every = {boundary(mask) for mask in itertools.product([False, True], repeat=3)}
    assert set(classes) == every and len(classes) == len(every)


def test_search_subsets_on_a_known_risk():
    target = np.array([True, False, True, False])

    def evaluate(masks):
        return (masks != target).sum(axis=1) + 0.1 * masks.sum(axis=1), np.zeros(len(masks))

    for search in ("greedy", "exhaustive"):
        best, table = search_subsets(evaluate, 4, search=search)
        assert best.tolist() == target.tolist()
    assert len(search_subsets(evaluate, 4, search="exhaustive")[1]) == 16
    assert len(search_subsets(evaluate, 4, search="greedy")[1]) <= 1 + 4 + 3 + 2  # each step's removals, the last none better


def test_errors_name_the_problem():
    X, y, env = example_data(n=20)
    with pytest.raises(DataError, match="single value"):
        MinimaxTransfer(graph=EXAMPLE, mutable=["m"]).fit(X, y, environment=np.zeros(len(y)))
    with pytest.raises(DataError, match="environment"):
        MinimaxTransfer(graph=EXAMPLE, mutable=["m"]).fit(X, y, environment=np.arange(len(y)))  # one row each
    with pytest.raises(UnknownNodeError, match="'w'"):
        MinimaxTransfer(graph=EXAMPLE, mutable=["w"]).fit(X, y, environment=env)
    with pytest.raises(UnknownNodeError, match="x2"):
        MinimaxTransfer(graph=nx.DiGraph([("x1", "y"), ("y", "m")]), mutable=["m"]).fit(X, y, environment=env)
    with pytest.raises(DataError, match="target 'y' is mutable"):
        MinimaxTransfer(graph=EXAMPLE, mutable=["y"]).fit(X, pd.Series(y, name="y"), environment=env)
    with pytest.raises(DataError, match="graph= and mutable="):
        MinimaxTransfer(mutable=["m"]).fit(X, y)
    with pytest.raises(GraphError, match="acyclic"):
        MinimaxTransfer(graph=nx.DiGraph([("x1", "y"), ("y", "x1"), ("m", "x2")]), mutable=["m"]).fit(X, y, environment=env)
    with pytest.raises(ParameterError, match="search"):
        MinimaxTransfer(search="all").fit(X, y, environment=env)


# --------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_reproduces_the_paper_counter_example_against_the_exact_worst_case():
    X, y, env = example_data()
    model = MinimaxTransfer(graph=EXAMPLE, mutable=["m"], n_mc=2000, n_steps=100).fit(X, y, environment=env)
    assert model.stable_set_ == ["x1", "x2"] and model.subset_ == ["x1"]
    lo, hi = float(X["m"].min()), float(X["m"].max())
    chosen = exact_worst_case(model.predict, lo, hi)
    whole = exact_worst_case(lambda f: model.predict(f, subset=["x1", "x2"]), lo, hi)
    assert chosen < whole  # on the simulator itself, not only by the estimate
    assert chosen == pytest.approx(S**2, rel=0.05)
    # the estimates (on the fitted model) agree with the exact values within a few standard errors and 5%
    assert abs(model.worst_case_risk_ - chosen) < 3 * model.worst_case_risk_se_ + 0.05 * chosen
    assert abs(model.stable_set_risk_ - whole) < 3 * model.stable_set_risk_se_ + 0.05 * whole


def _random_structure(seed: int, p: int):
    """A random DAG over y and p covariates, one or two of them mutable (at least one a child of y when possible)."""
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(p)]
    dag = random_dag(p + 1, 0.4, random_state=seed)
    order = list(nx.topological_sort(dag))
    mapping = {order[len(order) // 2]: "y"}
    mapping.update({v: n for v, n in zip([v for v in order if v not in mapping], names, strict=True)})
    graph = nx.relabel_nodes(dag, mapping)
    children = sorted(graph.successors("y"))
    mutable = [children[0]] if children else []
    others = [n for n in names if n not in mutable]
    mutable += list(rng.choice(others, size=1, replace=False))
    return graph, names, mutable


def test_equivalence_search_finds_the_exhaustive_optimum_on_30_random_graphs():
    """Any risk that is a function of the stable predictor (so of the Markov boundary): the same optimum as exhaustive search."""
    sizes = []
    for seed in range(30):
        graph, names, mutable = _random_structure(seed, 7)
        stable = [n for n in names if n not in mutable]
        boundary = markov_boundary(graph, "y", mutable, stable)
        values = {}

        def evaluate(masks, boundary=boundary, values=values, seed=seed):
            out = []
            for m in masks:
                key = boundary(m)
                values.setdefault(key, np.random.default_rng([seed, *map(int, key)]).uniform())
                out.append(values[key])
            return np.asarray(out), np.zeros(len(masks))

        best_eq, table_eq = search_subsets(evaluate, len(stable), search="equivalence", boundary=boundary)
        best_ex, table_ex = search_subsets(evaluate, len(stable), search="exhaustive")
        assert boundary(best_ex) == boundary(best_eq), seed
        assert table_eq["risk"].min() == table_ex["risk"].min(), seed
        sizes.append((len(table_eq), len(table_ex)))
    assert np.mean([a for a, _ in sizes]) < 0.5 * np.mean([b for _, b in sizes])


@pytest.mark.slow
def test_equivalence_and_exhaustive_search_agree_end_to_end():
    X, y, env = example_data(n=400)
    X = X.assign(z=X["x1"] + np.random.default_rng(1).normal(size=len(X)))  # a stable child of x1, irrelevant given x1
    graph = EXAMPLE.copy()
    graph.add_edge("x1", "z")
    kw = dict(graph=graph, mutable=["m"], n_mc=800, n_sim=2000, n_steps=60, predictor_steps=300)
    eq = MinimaxTransfer(search="equivalence", **kw).fit(X, y, environment=env)
    ex = MinimaxTransfer(search="exhaustive", **kw).fit(X, y, environment=env)
    assert len(eq.risks_) < len(ex.risks_) == 8
    boundary = markov_boundary(graph, "y", ["m"], eq.stable_set_)
    as_mask = [tuple(c in s for c in eq.stable_set_) for s in (eq.subset_, ex.subset_)]
    assert boundary(as_mask[0]) == boundary(as_mask[1]) and "x2" not in eq.subset_


@pytest.mark.slow
def test_linear_mechanisms_keep_the_whole_stable_set():
    """With linear mechanisms every stable predictor has the same risk in every environment: the largest set is best."""
    rng = np.random.default_rng(0)
    env = np.repeat([0, 1, 2], 400)
    x1 = rng.normal(size=1200)
    y = x1 + rng.normal(size=1200)
    m = np.array([-1.0, 0.5, 1.0])[env] * y + 0.3 * rng.normal(size=1200)
    x2 = y + m + rng.normal(size=1200)
    X = pd.DataFrame({"x1": x1, "m": m, "x2": x2})
    model = MinimaxTransfer(graph=EXAMPLE, mutable=["m"], degree=1, n_mc=2000, n_steps=60).fit(X, y, environment=env)
    assert model.subset_ == ["x1", "x2"]
    risk = model.risks_.set_index("subset")["worst_case_risk"]
    # the risks of the Bayes predictors, the same in every environment: 1/2 with both, 1 with x1, 2/3 with x2
    assert risk[("x1", "x2")] == pytest.approx(0.5, rel=0.1) and risk[("x1",)] == pytest.approx(1.0, rel=0.1)
    assert risk[("x2",)] == pytest.approx(2 / 3, rel=0.1)


@pytest.mark.slow
def test_cdnod_finds_the_mutable_covariate_and_a_second_fit_does_not_recompile():
    from discovery.invariance import _minimax_kernels

    X, y, env = example_data(n=300)
    kw = dict(n_mc=300, n_sim=1000, n_steps=20, predictor_steps=100)
    with pytest.warns(OrientationWarning, match="y -> x1"):  # CD-NOD leaves x1 - y undirected; the choice is reported
        model = MinimaxTransfer(**kw).fit(X, y, environment=env)
    assert model.mutable_ == ["m"]
    before = (_minimax_kernels.worst_case_ascent._cache_size(), _minimax_kernels.fit_predictors._cache_size())
    with pytest.warns(OrientationWarning):
        MinimaxTransfer(**kw, random_state=1).fit(X, y, environment=env)
    assert (_minimax_kernels.worst_case_ascent._cache_size(), _minimax_kernels.fit_predictors._cache_size()) == before


@pytest.mark.slow
def test_passes_scikit_learns_estimator_checks():
    """Nothing mutable (no environment): the stable predictor is the regression on every covariate."""
    from tests.discovery.test_invariant import _assert_conforms, _run_estimator_checks

    _assert_conforms(_run_estimator_checks(MinimaxTransfer(predictor_steps=50, predictor_hidden=4)))
