"""Injected faults: the change is where and how large it is said to be; the windows; errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from scm import SCM, FaultDataset, ParameterError, UnknownNodeError
from scm.datasets import MICROSERVICES, microservice_faults, microservice_scm
from scm.simulate import draw_innovations, draw_lagged_structure, fault_dataset, inject_fault


def _chain():
    return SCM.from_linear([[0, 0.8, 0], [0, 0, 0.8], [0, 0, 0]], nodes=["A", "B", "C"])


def _innovations(data: pd.DataFrame, process, node) -> np.ndarray:
    """``node``'s innovations recovered from a linear VAR's data with its true coefficients."""
    C = process.coefficients
    j = list(process.nodes).index(node)
    x = data.to_numpy()
    L = process.max_lag
    pred = sum(x[L - tau : len(x) - tau] @ C[:, j, tau] for tau in range(1, L + 1)) + x[L:] @ C[:, j, 0]
    return x[L:, j] - pred


def test_static_shift_moves_only_the_root_cause_noise():
    ds = inject_fault(_chain(), root_cause="B", strength=2.0, n_normal=4000, n_fault=4000, random_state=0)
    assert ds.kind == "static" and ds.target == "C" and ds.fault_type == "shift"
    delta = ds.metadata["parameter"]
    assert 2.0 <= abs(delta) <= 4.0
    noise_normal, noise_fault = ds.metadata["scm_normal"].abduct(ds.normal), ds.metadata["scm_normal"].abduct(ds.fault)
    moved = noise_fault.mean() - noise_normal.mean()
    assert moved["B"] == pytest.approx(delta, abs=0.1)
    assert abs(moved["A"]) < 0.1 and abs(moved["C"]) < 0.1


def test_static_mechanism_change_keeps_the_parents():
    ds = inject_fault(_chain(), root_cause="C", fault="mechanism", random_state=1)
    after = ds.metadata["scm_fault"]
    assert after.parents("C") == ("B",) and after.mechanisms["C"].coefficients != ds.metadata["scm_normal"].mechanisms["C"].coefficients
    assert ds.target == "C"  # no descendant: the root cause itself


def test_time_series_shift_continues_the_series():
    process = draw_innovations(draw_lagged_structure(3, 2, contemporaneous=True, random_state=0), random_state=0)
    ds = inject_fault(process, root_cause="X1", strength=3.0, n_normal=2000, n_fault=2000, random_state=0)
    assert ds.normal.index[-1] + 1 == ds.fault.index[0]
    both = pd.concat([ds.normal, ds.fault])
    e = _innovations(both, process, "X1")
    n0 = len(ds.normal) - process.max_lag
    assert abs(e[:n0].mean()) < 0.1
    assert e[n0:].mean() == pytest.approx(ds.metadata["parameter"], abs=0.1)
    other = _innovations(both, process, "X0")
    assert abs(other[n0:].mean()) < 0.1


def test_time_series_mechanism_redraws_links_into_the_root_only():
    process = draw_innovations(draw_lagged_structure(4, 2, random_state=3), random_state=3)
    root = next(t for s, t, *_ in process.links if s != t)
    ds = inject_fault(process, root_cause=root, fault="mechanism", n_normal=50, n_fault=50, random_state=0)
    before, after = process.coefficients, ds.metadata["process_fault"].coefficients
    j = list(process.nodes).index(root)
    changed = before != after
    assert changed[:, j].any() and not np.delete(changed, j, axis=1).any()
    assert ds.metadata["process_fault"].spectral_radius < 1


def test_fault_dataset_is_reproducible():
    a = fault_dataset("static", "mechanism", n_nodes=5, random_state=4)
    b = fault_dataset("static", "mechanism", n_nodes=5, random_state=4)
    pd.testing.assert_frame_equal(a.fault, b.fault)
    assert a.root_cause == b.root_cause and nx.utils.graphs_equal(a.graph, b.graph)
    assert a.target in nx.descendants(a.graph, a.root_cause)


def test_errors():
    with pytest.raises(ParameterError, match="'model' parameter of inject_fault"):
        inject_fault(nx.DiGraph([("A", "B")]))
    with pytest.raises(UnknownNodeError, match="'Z'"):
        inject_fault(_chain(), root_cause="Z")
    with pytest.raises(ParameterError, match="'fault'"):
        inject_fault(_chain(), fault="drift")
    with pytest.raises(ParameterError, match="no noise"):
        inject_fault(draw_lagged_structure(3, 1, random_state=0))
    with pytest.raises(UnknownNodeError, match="root_cause 'Q'"):
        FaultDataset(pd.DataFrame({"A": [1.0]}), pd.DataFrame({"A": [2.0]}), "Q")


def test_microservice_model_and_faults():
    data = microservice_scm().sample(500, random_state=0)
    assert list(data.columns) == list(MICROSERVICES)
    # the product service waits for the slowest of its calls
    assert (data["Product Service"] >= data[["Shipping Cost Service", "Caching Service", "Customer DB"]].max(axis=1)).all()
    cases = microservice_faults(4, n_normal=100, n_fault=50, delay=(2.0, 2.0), random_state=0)
    for case in cases:
        assert case.root_cause != "Website" and case.metadata["delay"] == 2.0
        assert case.fault[case.root_cause].mean() > case.normal[case.root_cause].mean() + 1.0
