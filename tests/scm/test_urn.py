"""The causal Pólya urn (scm.simulate.polya_urn): its known answers and its errors."""

import networkx as nx
import numpy as np
import pytest

from scm import Dataset, ParameterError, UnknownNodeError
from scm.simulate import polya_urn


def _freq_close(values, expected):
    se = np.sqrt(expected * (1 - expected) / len(values))
    assert abs(values.mean() - expected) < 4 * se, (values.mean(), expected, len(values))


def test_urn_predictive_observed_and_set():
    """Observing a colour reinforces the urn, (a + 1) / (a + b + 1); setting it does not, a / (a + b)."""
    obs = polya_urn(n_groups=30_000, group_size=2, balls=(2.0, 3.0), random_state=0)
    x = obs.data["X"].to_numpy().reshape(-1, 2)
    _freq_close(x[:, 0], 2 / 5)
    _freq_close(x[x[:, 0] == 1, 1], 3 / 6)
    _freq_close(x[x[:, 0] == 0, 1], 2 / 6)
    set_ = polya_urn(n_groups=30_000, group_size=2, balls=(2.0, 3.0), do={"X": 1}, do_rows=[0], random_state=1)
    xs = set_.data["X"].to_numpy().reshape(-1, 2)
    assert (xs[:, 0] == 1).all()
    _freq_close(xs[:, 1], 2 / 5)
    # Y's urn under X = 1 still learns from the row where X was set: P(Y_2 = 1 | Y_1 = 1, X_1 = X_2 = 1) = 3 / 6
    y = set_.data["Y"].to_numpy().reshape(-1, 2)
    _freq_close(y[(y[:, 0] == 1) & (xs[:, 1] == 1), 1], 3 / 6)


def test_urn_dataset_layout():
    g = nx.DiGraph([("A", "C"), ("B", "C")])
    ds = polya_urn(g, n_groups=5, group_size=3, balls={"C": [(1, 1), (2, 1), (1, 2), (3, 3)]}, random_state=0)
    assert isinstance(ds, Dataset) and ds.kind == "grouped" and ds.environment == "group"
    assert ds.data.shape == (15, 4) and ds.data["group"].value_counts().tolist() == [3] * 5
    assert set(np.unique(ds.data[["A", "B", "C"]])) <= {0, 1}
    urns = ds.metadata["urns"]["C"]
    assert urns.columns.tolist() == ["A", "B", "a", "b"] and urns[["a", "b"]].to_numpy().tolist() == [[1, 1], [2, 1], [1, 2], [3, 3]]
    assert ds.metadata["prior"].loc[("C", "theta[A=1,B=0]"), "a"] == 2.0
    assert ds.metadata["parameters"].shape == (5, 6)
    assert not ds.metadata["intervened"].to_numpy().any()
    # one seed, one answer
    assert polya_urn(g, n_groups=5, group_size=3, random_state=3).data.equals(polya_urn(g, n_groups=5, group_size=3, random_state=3).data)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"balls": (1.0, -1.0)}, ParameterError, "positive"),
        ({"balls": "many"}, ParameterError, "'balls'"),
        ({"balls": {"Y": [(1, 1)]}}, ParameterError, "needs 2"),
        ({"balls": {"Q": (1, 1)}}, UnknownNodeError, "'Q'"),
        ({"do": {"X": 2}}, ParameterError, r"do\['X'\]"),
        ({"do": {"Z": 1}}, UnknownNodeError, "'Z'"),
        ({"do": {"X": 1}, "do_rows": 5}, ParameterError, "'do_rows'"),
        ({"n_groups": 0}, ParameterError, "'n_groups'"),
        ({"group_size": 1.5}, ParameterError, "'group_size'"),
    ],
)
def test_urn_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        polya_urn(**{"n_groups": 3, "group_size": 2, **kwargs})
