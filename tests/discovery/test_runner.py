"""The cached CI-test runner shared by PC, CD-NOD, PCMCI and PCMCI+."""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from discovery import PC, DSeparation, FisherZ
from discovery.constraint import CIRunner, CITestBackend, orient_colliders, skeleton
from discovery.constraint._runner import as_runner
from scm import ParameterError, meek_rules

CHAIN = nx.DiGraph([("A", "B"), ("B", "C"), ("C", "D")])


class Counting(DSeparation):
    """An oracle that records every batch it answers."""

    def __init__(self, graph):
        super().__init__(graph)
        self.batches = []

    def test(self, queries):
        queries = list(queries)
        self.batches.append(queries)
        return super().test(queries)


class PValuesOnly:
    """A duck-typed CI test with p-values only (no statistics)."""

    def __init__(self, oracle):
        self.variables = oracle.variables
        self.oracle = oracle

    def pvalues(self, queries):
        return self.oracle.pvalues(queries)


def test_keys_are_normalised_and_deduplicated():
    assert CIRunner.key(3, 1, [5, 2, 2]) == (1, 3, (2, 5)) == CIRunner.key(1, 3, (5, 2))
    test = Counting(CHAIN)
    runner = CIRunner.from_ci_test(test)
    k1, k2 = runner.key(0, 2, [1]), runner.key(2, 0, [1])
    runner.run([k1, k2, runner.key(0, 3, ())])
    assert runner.n_tests == 2 and len(test.batches) == 2  # one call per conditioning-set size
    runner.run([k1, runner.key(0, 3, ())])  # all cached: no call
    assert len(test.batches) == 2 and runner.n_calls == 1
    assert runner.n_requested == 5 and runner.n_cached == 3
    assert runner.result(k1) == (1.0, 1.0) and runner.pvalue(runner.key(0, 3, ())) == 0.0


def test_frame_lists_tests_by_size_in_order_run():
    runner = CIRunner.from_ci_test(DSeparation(CHAIN))
    runner.run([runner.key(0, 3, [1, 2]), runner.key(0, 2, ()), runner.key(0, 2, [1])])
    frame = runner.frame()
    assert frame.columns.tolist() == ["x", "y", "cond", "statistic", "pvalue"]
    assert frame["cond"].tolist() == [(), ("B",), ("B", "C")]
    assert frame["pvalue"].tolist() == [0.0, 1.0, 1.0]
    frame.loc[0, "pvalue"] = 0.5  # a copy
    assert runner.frame()["pvalue"].iloc[0] == 0.0


def test_pvalues_only_test_gives_nan_statistics():
    runner = CIRunner.from_ci_test(PValuesOnly(DSeparation(CHAIN)))
    runner.run([runner.key(0, 2, [1])])
    stat, p = runner.result(runner.key(0, 2, [1]))
    assert np.isnan(stat) and p == 1.0


def test_wrong_number_of_answers_and_bad_tests():
    class Short(PValuesOnly):
        def pvalues(self, queries):
            return np.ones(len(list(queries)) - 1)

    runner = CIRunner.from_ci_test(Short(DSeparation(CHAIN)))
    with pytest.raises(ValueError, match="returned 1 p-values for 2 queries"):
        runner.run([runner.key(0, 2, [1]), runner.key(0, 3, [1])])
    with pytest.raises(ParameterError, match="'ci_test' parameter must be a CI test"):
        CITestBackend(object())
    oracle = DSeparation(CHAIN)
    with pytest.raises(ParameterError, match="runs another CI test"):
        as_runner(oracle, CIRunner.from_ci_test(DSeparation(CHAIN)), owner="skeleton")
    with pytest.raises(ParameterError, match="'runner' parameter of skeleton must be a CIRunner"):
        skeleton(oracle, runner="cache")


def test_labels_map_indices_to_other_variable_names():
    oracle = DSeparation(nx.relabel_nodes(CHAIN, {"A": "A(t-1)", "B": "B(t)", "C": "C(t)", "D": "D(t)"}))
    runner = CIRunner.from_ci_test(oracle, labels=["A(t-1)", "B(t)", "C(t)", "D(t)"])
    runner.run([runner.key(0, 2, [1])])
    assert runner.frame()["x"].tolist() == ["A(t-1)"]


def test_phases_share_the_cache_of_one_runner():
    """PC.fit is skeleton -> colliders -> Meek on one runner: the max-p rule reuses the skeleton's tests."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=500), rng.normal(size=500)
    c = a + b + rng.normal(size=500)
    df = pd.DataFrame({"A": a, "B": b, "C": c, "D": c + rng.normal(size=500)})
    test = FisherZ(df)
    runner = CIRunner.from_ci_test(test)
    skel = skeleton(test, runner=runner)
    after_skeleton = runner.n_cached
    graph = orient_colliders(skel.graph, rule="maxp", ci_test=test, runner=runner)
    assert runner.n_cached > after_skeleton  # some max-p tests were answered by the skeleton's
    model = PC(orientation="maxp").fit(df)
    assert model.n_tests_ == runner.n_tests
    pd.testing.assert_frame_equal(model.pvalues_, runner.frame())
    assert model.graph_ == meek_rules(graph)


def test_cache_hits_are_logged(caplog):
    runner = CIRunner.from_ci_test(DSeparation(CHAIN))
    with caplog.at_level(logging.DEBUG, logger="discovery.constraint._runner"):
        runner.run([runner.key(0, 2, ())])
        runner.run([runner.key(0, 2, ()), runner.key(0, 3, ())])
    assert "2 queries, 1 cached, 1 run" in caplog.text
