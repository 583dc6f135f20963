"""Shared fixtures: the named graphs of the test suite."""

import networkx as nx
import pytest

NAMED_GRAPHS = {
    "chain": [("A", "B"), ("B", "C")],
    "fork": [("B", "A"), ("B", "C")],
    "collider": [("A", "B"), ("C", "B")],
    "asia": [
        ("asia", "tub"),
        ("smoke", "lung"),
        ("smoke", "bronc"),
        ("tub", "either"),
        ("lung", "either"),
        ("either", "xray"),
        ("either", "dysp"),
        ("bronc", "dysp"),
    ],
    # The M-structure and the diamond exercise colliders with descendants.
    "m_graph": [("U1", "A"), ("U1", "M"), ("U2", "M"), ("U2", "B")],
    "diamond": [("A", "B"), ("A", "C"), ("B", "D"), ("C", "D"), ("D", "E")],
}


@pytest.fixture(params=sorted(NAMED_GRAPHS))
def named_dag(request):
    return request.param, nx.DiGraph(NAMED_GRAPHS[request.param])
