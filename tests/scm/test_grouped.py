"""scm.simulate.grouped: the ICM generative process of grouped (exchangeable) data."""

import networkx as nx
import numpy as np
import pytest

from scm import ParameterError
from scm.simulate import GROUPED_KINDS, grouped


@pytest.mark.parametrize("kind", GROUPED_KINDS)
def test_shape_truth_and_determinism(kind):
    dag = nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C")])
    ds = grouped(dag, n_groups=20, group_size=3, kind=kind, random_state=0)
    assert ds.kind == "grouped" and ds.environment == "group" and ds.scm is None
    assert list(ds.data.columns) == ["A", "B", "C", "group"]
    assert ds.data["group"].tolist() == np.repeat(np.arange(20), 3).tolist()
    assert set(ds.graph.edges) == set(dag.edges)
    params = ds.metadata["parameters"]
    assert params.index.name == "group" and len(params) == 20
    assert set(params.columns.get_level_values("node")) == {"A", "B", "C"}
    assert ds.metadata["kind"] == kind
    assert set(params.columns) <= set(ds.metadata["prior"].index)  # nonlinear: also its fixed weights
    again = grouped(dag, n_groups=20, group_size=3, kind=kind, random_state=0)
    assert again.data.equals(ds.data) and again.metadata["parameters"].equals(params)
    if kind == "binary":
        assert set(np.unique(ds.data[["A", "B", "C"]].to_numpy())) <= {0, 1}


def test_linear_parameters_generate_the_data():
    """A root's group mean is its group intercept; a child's residual is its group slope times the parent."""
    ds = grouped({"A": [], "B": ["A"]}, n_groups=5, group_size=4000, kind="linear", random_state=1)
    p = ds.metadata["parameters"]
    means = ds.data.groupby("group")["A"].mean()
    assert np.allclose(means, p[("A", "intercept")], atol=0.05 * p[("A", "scale")].max() + 0.02)
    for g, rows in ds.data.groupby("group"):
        slope = np.polyfit(rows["A"], rows["B"], 1)[0]
        assert slope == pytest.approx(p.loc[g, ("B", "A")], abs=0.1)


def test_binary_mechanism_is_xor_with_parent_product():
    ds = grouped({"A": [], "B": [], "C": ["A", "B"]}, n_groups=300, group_size=2, kind="binary", random_state=2)
    d = ds.data
    theta = ds.metadata["parameters"][("C", "theta")].to_numpy()[d["group"]]
    flipped = (d["C"] ^ (d["A"] * d["B"])).to_numpy()  # the Bernoulli(theta) draw
    assert abs(flipped.mean() - theta.mean()) < 0.05


def test_uneven_groups_and_random_graph():
    ds = grouped(n_nodes=4, n_groups=3, group_size=[2, 3, 5], random_state=0)
    assert ds.data["group"].value_counts().sort_index().tolist() == [2, 3, 5]
    assert ds.graph.number_of_nodes() == 4 and nx.is_directed_acyclic_graph(ds.graph)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_groups": 1}, "n_groups"),
        ({"group_size": 1}, "group_size"),
        ({"group_size": [2, 1]}, "group_size"),
        ({"kind": "poisson"}, "kind"),
        ({"graph": {"group": []}}, "group"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        grouped(**{"n_nodes": 3, "n_groups": 2, **kwargs})
