"""Every bad input gets a clear error that names the culprit and leaves inputs unchanged."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from scm import SCM, Linear


@pytest.fixture
def model():
    return SCM.from_linear(pd.DataFrame([[0, 1.0], [0, 0]], index=["X", "Y"], columns=["X", "Y"]))


@pytest.fixture
def data(model):
    return model.sample(50, random_state=0)


def test_errors_subclass_builtins():
    assert issubclass(scm.DataError, ValueError)
    assert issubclass(scm.UnknownNodeError, KeyError)
    assert issubclass(scm.CycleError, ValueError)
    assert issubclass(scm.ParameterError, ValueError)
    assert all(issubclass(e, scm.ScmkitError) for e in (scm.DataError, scm.UnknownNodeError, scm.GraphChangedError))


@pytest.mark.parametrize(
    "mutate, error, match",
    [
        (lambda d: d.assign(Y=np.where(np.arange(len(d)) == 3, np.nan, d["Y"])), scm.DataError, "'Y' holds NaN"),
        (lambda d: d.assign(X=np.where(np.arange(len(d)) == 1, np.inf, d["X"])), scm.DataError, "'X' holds inf"),
        (lambda d: d.assign(X=["a"] * len(d)), scm.DataError, "'X'"),
        (lambda d: d.drop(columns="Y"), scm.UnknownNodeError, "'Y'"),
        (lambda d: d.head(1), scm.DataError, "1 rows"),
    ],
)
def test_fit_bad_data(model, data, mutate, error, match):
    bad = mutate(data.copy())
    before = bad.copy()
    with pytest.raises(error, match=match):
        SCM.fit(model.graph, bad)
    pd.testing.assert_frame_equal(bad, before)


def test_fit_bad_options(model, data):
    with pytest.raises(scm.ParameterError, match="'mechanism' parameter of SCM.fit must be one of"):
        SCM.fit(model.graph, data, mechanism="cubic")
    with pytest.raises(scm.ParameterError, match="'noise'"):
        SCM.fit(model.graph, data, noise="student")
    with pytest.raises(scm.UnknownNodeError, match="'Q'"):
        SCM.fit(model.graph, data, mechanism={"Q": "linear"})
    with pytest.raises(scm.CycleError, match="X -> Y -> X"):
        SCM.fit(nx.DiGraph([("X", "Y"), ("Y", "X")]), data)


def test_counterfactual_bad_input(model, data):
    with pytest.raises(scm.UnknownNodeError, match="'Y'"):
        model.counterfactual(data[["X"]], {"X": 0.0})
    with pytest.raises(scm.DataError, match="'X' holds NaN"):
        model.counterfactual(data.assign(X=np.nan), {"X": 0.0})
    with pytest.raises(scm.UnknownNodeError, match="'W'"):
        model.counterfactual(data, {"W": 0.0})
    with pytest.raises(scm.DataError, match="numeric"):
        model.counterfactual(data.assign(Y="a"), {"X": 0.0})


def test_do_bad_input(model):
    with pytest.raises(scm.UnknownNodeError, match="'W'"):
        model.do({"W": 1.0})
    with pytest.raises(scm.ParameterError, match="'X'"):
        model.do({"X": "high"})
    with pytest.raises(scm.ParameterError, match="finite"):
        model.do({"X": float("nan")})
    with pytest.raises(scm.ParameterError, match="mapping"):
        model.do([("X", 1.0)])


def test_sample_bad_input(model):
    with pytest.raises(scm.ParameterError, match="'n'"):
        model.sample(0)
    with pytest.raises(scm.ParameterError, match="'n'"):
        model.sample(2.5)
    with pytest.raises(scm.ParameterError, match="random_state"):
        model.sample(3, random_state="seed")


def test_construction_errors():
    g = nx.DiGraph([("X", "Y")])
    with pytest.raises(scm.UnknownNodeError, match="'Y'"):
        SCM(g, {"X": Linear()})
    with pytest.raises(scm.UnknownNodeError, match="'Z'"):
        SCM(g, {"X": Linear(), "Y": Linear({"X": 1.0}), "Z": Linear()})
    with pytest.raises(scm.GraphError, match="'Y' expects parents \\['W'\\]"):
        SCM(g, {"X": Linear(), "Y": Linear({"W": 1.0})})
    with pytest.raises(scm.CycleError):
        SCM(nx.DiGraph([("X", "Y"), ("Y", "X")]), {"X": Linear(), "Y": Linear()})
    with pytest.raises(scm.ParameterError, match="noise of node 'X'"):
        SCM(g, {"X": Linear(), "Y": Linear({"X": 1.0})}, {"X": "wide"})
    with pytest.raises(scm.ParameterError, match="square"):
        SCM.from_linear(np.zeros((2, 3)))
    with pytest.raises(scm.CycleError):
        SCM.from_linear([[0, 1], [1, 0]])
    with pytest.raises(scm.UnknownNodeError, match="'Q'"):
        SCM.from_linear([[0, 1], [0, 0]], nodes=["A", "B"], noise_std={"Q": 1.0})
    with pytest.raises(scm.ParameterError, match="sum to 1"):
        scm.Discrete([0.5, 0.6])


def test_closed_form_needs_linear():
    g = nx.DiGraph([("X", "Y")])
    m = SCM(g, {"X": Linear(), "Y": scm.AdditiveNoise(np.sin, parents=["X"])})
    with pytest.raises(scm.ParameterError, match="node 'Y' has AdditiveNoise"):
        m.interventional_mean()


def test_graph_changed_refused():
    g = nx.DiGraph([("X", "Y")])
    m = SCM(g, {"X": Linear(), "Y": Linear({"X": 1.0})})
    g.add_edge("Z", "Y")
    for call in (lambda: m.sample(2), lambda: m.do({"X": 1.0}), lambda: m.interventional_mean()):
        with pytest.raises(scm.GraphChangedError, match="changed"):
            call()


def test_discrete_parent_codes_checked():
    m = SCM(nx.DiGraph([("A", "B")]), {"A": scm.Discrete([0.5, 0.5]), "B": scm.Discrete([[1, 0], [0, 1]], parents=["A"])})
    with pytest.raises(scm.DataError, match="'A'"):
        m.counterfactual(pd.DataFrame({"A": [3], "B": [0]}), {"B": scm.shift(0.0)})
