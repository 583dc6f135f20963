"""scmkit.learn_and_rank: PCMCI+ on the normal window, then the ranking."""

from __future__ import annotations

import logging

import pytest

from scm import LaggedGraph, ParameterError
from scm.simulate import fault_dataset
from scmkit import learn_and_rank


@pytest.mark.slow
def test_learn_and_rank_finds_the_root_cause_on_the_learned_graph(caplog):
    case = fault_dataset("time_series", "shift", n_nodes=4, n_normal=300, n_fault=60, strength=3.0, random_state=2)
    with caplog.at_level(logging.INFO, logger="scmkit._rootcause"):
        table = learn_and_rank(case.normal, case.fault, tau_max=2, method="attribution", random_state=0)
    assert table.index[0] == case.root_cause
    graph = table.attrs["graph"]
    assert isinstance(graph, LaggedGraph) and not graph.undirected_contemporaneous and not graph.conflicting_edges
    kept = learn_and_rank(case.normal, case.fault, tau_max=2, method="rcd", contemporaneous="keep", pcmci_options={"alpha": 0.05})
    assert kept.index[0] == case.root_cause


@pytest.mark.slow
def test_learn_and_rank_bad_option():
    case = fault_dataset("time_series", "shift", n_nodes=3, n_normal=100, n_fault=20, random_state=0)
    with pytest.raises(ParameterError, match="'contemporaneous'"):
        learn_and_rank(case.normal, case.fault, contemporaneous="orient")
