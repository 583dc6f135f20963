"""Shared fixtures: the named graphs of the test suite; the command line without its compilation cache."""

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


@pytest.fixture(autouse=True)
def _no_compile_cache(monkeypatch):
    """``scmkit`` commands run by the tests (in this process or a subprocess) leave the user's
    JAX compilation cache alone; the tests of the cache point it at a temporary directory."""
    monkeypatch.setenv("SCMKIT_NO_COMPILE_CACHE", "1")


#: Doctests too heavy for the fast loop (each trains JAX models): marked slow, as heavy tests are.
SLOW_DOCTESTS = {
    "discovery.invariance._minimax.MinimaxTransfer",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.name in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)
