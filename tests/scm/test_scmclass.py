"""SCM.fit on a CPDAG (orientation=...) and scm.SCMClass: one model per DAG of the class, answers as ranges."""

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from scm import PDAG, SCM, CycleError, GraphError, OrientationWarning, ParameterError, SCMClass, cpdag, dags_in_class


def _triangle():
    """z -> x, z -> y, x -> y: its CPDAG is a triangle of undirected edges, a class of six DAGs."""
    w = pd.DataFrame([[0, 1.0, 0.5], [0, 0, 2.0], [0, 0, 0]], index=list("zxy"), columns=list("zxy"))
    truth = SCM.from_linear(w)
    return truth, cpdag(truth.graph), truth.sample(3000, random_state=0)


def test_a_cpdag_is_refused_by_default_naming_its_undirected_edges_and_the_options():
    _, g, data = _triangle()
    with pytest.raises(GraphError, match=r"3 undirected edge\(s\) \(x - y, z - x, z - y\).*orientation='all'.*estimators.ida"):
        SCM.fit(g, data)
    with pytest.raises(ParameterError, match="'orientation'"):
        SCM.fit(g, data, orientation="guess")


def test_extension_warns_and_fits_one_dag():
    _, g, data = _triangle()
    with pytest.warns(OrientationWarning, match=r"SCM.fit\(orientation='extension'\) oriented 3 undirected edge\(s\)") as caught:
        model = SCM.fit(g, data, orientation="extension")
    assert len(caught) == 1
    assert isinstance(model, SCM) and cpdag(model.graph) == g
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SCM.fit(nx.DiGraph([("x", "y")]), data, orientation="extension")  # a DAG: nothing chosen, nothing said


def test_all_fits_every_dag_and_answers_with_ranges():
    truth, g, data = _triangle()
    models = SCM.fit(g, data, orientation="all", random_state=0)
    assert isinstance(models, SCMClass) and len(models) == 6 and models.pdag == g
    assert {frozenset(d.edges) for d in models.graphs} == {frozenset(d.edges) for d in dags_in_class(g)}
    for d, m in zip(models.graphs, models.models):  # each member is the plain fit on its DAG
        plain = SCM.fit(d, data)
        assert repr(plain.mechanisms) == repr(m.mechanisms)
    table = models.interventional_mean({"x": 1.0})
    assert list(table.columns) == ["min", "max"] + [f"dag_{i}" for i in range(6)]
    for i, m in enumerate(models):
        pd.testing.assert_series_equal(table[f"dag_{i}"], m.interventional_mean({"x": 1.0}), check_names=False)
    np.testing.assert_allclose(table["min"], table.iloc[:, 2:].min(axis=1))
    np.testing.assert_allclose(table["max"], table.iloc[:, 2:].max(axis=1))
    # the truth (E[y | do(x = 1)] = 2 + 0.5 E[z] = 2) lies in the range; members with y -> x leave y at its mean
    assert table.loc["y", "min"] <= 2.0 + 0.1 and table.loc["y", "max"] >= 2.0 - 0.1
    assert table.loc["y", "min"] == pytest.approx(min(data["y"].mean(), table.loc["y", "min"]))


def test_do_sample_and_counterfactual_over_the_class():
    _, g, data = _triangle()
    models = SCM.fit(g, data, orientation="all", noise="gaussian")
    intervened = models.do({"x": 2.0})
    assert isinstance(intervened, SCMClass) and len(intervened) == len(models)
    s = intervened.sample(50, random_state=1)
    assert s.index.names == ["dag", "row"] and len(s) == 50 * len(models)
    assert (s["x"] == 2.0).all()
    again = intervened.sample(50, random_state=1)
    pd.testing.assert_frame_equal(s, again)
    first = models[0].do({"x": 2.0}).sample(50, random_state=np.random.default_rng(1))
    pd.testing.assert_frame_equal(s.loc[0], first.rename_axis("row"))
    obs = data.iloc[:3]
    cf = models.counterfactual(obs, {"x": 0.0})
    assert cf.index.names[0] == "dag" and len(cf) == 3 * len(models)
    for i, m in enumerate(models):
        pd.testing.assert_frame_equal(cf.loc[i], m.counterfactual(obs, {"x": 0.0}))
    spread = cf.groupby(level=1).agg(["min", "max"])
    assert (spread[("y", "min")] <= spread[("y", "max")]).all()


def test_all_on_a_dag_is_a_class_of_one():
    truth, _, data = _triangle()
    models = SCM.fit(truth.graph, data, orientation="all")
    assert len(models) == 1 and set(models.graphs[0].edges) == set(truth.graph.edges)
    table = models.interventional_mean({"x": 1.0})
    assert (table["min"] == table["max"]).all()


def test_limit_and_bad_class_graphs():
    _, g, data = _triangle()
    with pytest.raises(GraphError, match="more than limit=5 DAGs.*estimators.ida"):
        SCM.fit(g, data, orientation="all", limit=5)
    with pytest.raises(ParameterError, match="'limit'"):
        SCM.fit(g, data, orientation="all", limit=0)
    square = PDAG(list("abcd"), undirected=[("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")])
    square_data = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 4)), columns=list("abcd"))
    with pytest.raises(GraphError, match="represents no DAG"):
        SCM.fit(square, square_data, orientation="all")
    cyc = PDAG(list("zxy"), directed=[("z", "x"), ("x", "y"), ("y", "z")])
    with pytest.raises(CycleError, match="z -> x -> y -> z|x -> y -> z -> x|y -> z -> x -> y"):
        SCM.fit(cyc, data, orientation="all")
    with pytest.raises(GraphError, match="bidirected"):
        SCM.fit(PDAG(list("zxy"), directed=[("z", "x")], bidirected=[("x", "y")]), data, orientation="all")


def test_scmclass_constructor_errors():
    truth, _, _ = _triangle()
    with pytest.raises(ParameterError, match="at least one"):
        SCMClass([])
    with pytest.raises(ParameterError, match="sequence of SCMs"):
        SCMClass(truth)
    with pytest.raises(ParameterError, match="scm.SCM"):
        SCMClass([truth, "not a model"])
    other = SCM.from_linear(pd.DataFrame([[0, 1.0], [0, 0]], index=["a", "b"], columns=["a", "b"]))
    with pytest.raises(GraphError, match="share their nodes"):
        SCMClass([truth, other])
    assert repr(SCMClass([truth])) == "SCMClass(1 DAG over 3 nodes)"
    assert scm.SCMClass is SCMClass
