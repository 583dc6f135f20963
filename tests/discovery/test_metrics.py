"""Graph metrics: hand-computed values and agreement with gadjid's SID."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import scm
from discovery import metrics


def _dag(A, names):
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((names[i], names[j]) for i, j in zip(*np.nonzero(A)))
    return g


def test_shd_counts_pairs():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    assert metrics.shd(t, t) == 0
    assert metrics.shd(t, nx.DiGraph([("B", "A"), ("B", "C")])) == 1
    assert metrics.shd(t, nx.DiGraph([("B", "A"), ("B", "C")]), reversed_cost=2) == 2
    est = scm.PDAG(["A", "B", "C"], undirected=[("A", "B")], directed=[("A", "C")])
    assert metrics.shd(t, est) == 3  # A-B mark differs, A-C extra, B-C missing


def test_precision_recall():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    est = scm.PDAG(["A", "B", "C"], directed=[("B", "A"), ("B", "C")])
    assert metrics.skeleton_scores(t, est) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert metrics.arrowhead_scores(t, est)["precision"] == 0.5
    with pytest.raises(scm.GraphError, match="different nodes"):
        metrics.shd(t, nx.DiGraph([("A", "Z")]))


def test_sid_agrees_with_gadjid():
    gadjid = pytest.importorskip("gadjid")
    rng = np.random.default_rng(0)
    for _ in range(150):
        d = int(rng.integers(2, 9))
        names = [f"V{i}" for i in range(d)]

        def rand_adj():
            a = np.triu(rng.random((d, d)) < 0.4, 1).astype(np.int8)
            p = rng.permutation(d)
            return a[np.ix_(p, p)]

        A, B = rand_adj(), rand_adj()
        ref = gadjid.sid(A, B, edge_direction="from row to column")[1]
        assert metrics.sid(_dag(A, names), _dag(B, names)) == ref


def test_sid_needs_dags():
    with pytest.raises(scm.GraphError, match="two DAGs"):
        metrics.sid(nx.DiGraph([("A", "B")]), scm.PDAG(["A", "B"], undirected=[("A", "B")]))


def test_ranking_metrics():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    perfect = pd.DataFrame([[0, 0.9, 0.1], [0.2, 0, 0.8], [0.0, 0.1, 0]], index=list("ABC"), columns=list("ABC"))
    assert metrics.average_precision(t, perfect) == 1.0
    assert metrics.auroc(t, perfect) == 1.0
    reversed_ = perfect.T
    assert metrics.average_precision(t, reversed_) < 0.5
    assert metrics.average_precision(t, reversed_, kind="skeleton") == 1.0
    with pytest.raises(scm.ParameterError, match="'kind'"):
        metrics.average_precision(t, perfect, kind="both")


def test_ranking_metrics_match_rows_and_columns_by_label_and_reject_bad_frames():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    perfect = pd.DataFrame([[0, 0.9, 0.1], [0.2, 0, 0.8], [0.0, 0.1, 0]], index=list("ABC"), columns=list("ABC"))
    shuffled = perfect.loc[list("CAB"), list("BCA")]
    assert metrics.average_precision(t, shuffled) == 1.0
    assert metrics.auroc(t, shuffled) == 1.0
    # P[A, B] read from the wrong cell would rank a non-edge first
    assert metrics.average_precision(t, perfect.set_axis(list("BAC"), axis=1)) < 1.0
    diagonal_nan = perfect.mask(np.eye(3, dtype=bool))
    assert metrics.average_precision(t, diagonal_nan) == 1.0  # the diagonal is never read
    with pytest.raises(scm.GraphError, match=r"its columns misses \['C'\] and has extra labels \['D'\]"):
        metrics.average_precision(t, perfect.set_axis(list("ABD"), axis=1))
    with pytest.raises(scm.GraphError, match=r"index has duplicated labels \['A'\]"):
        metrics.average_precision(t, perfect.set_axis(list("AAC"), axis=0))
    with pytest.raises(scm.DataError, match=r"NaN or inf \(first at \['B', 'C'\]"):
        metrics.auroc(t, perfect.mask(perfect == 0.8))  # P[B, C]
    with pytest.raises(scm.DataError, match="must be numbers"):
        metrics.average_precision(t, perfect.astype(object).where(perfect > 0.5, "low"))
    with pytest.raises(scm.GraphError, match=r"different nodes: \['C', 'D'\]"):
        metrics.average_precision(t, nx.DiGraph([("A", "B"), ("B", "D")]))
    with pytest.raises(scm.GraphError, match="got ndarray"):
        metrics.average_precision(t, perfect.to_numpy())


def test_all_metrics_uses_cpdag_for_pdag_estimates():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    out = metrics.all_metrics(t, scm.cpdag(t))
    assert out["shd"] == 0 and np.isnan(out["sid"])
    out = metrics.all_metrics(t, t)
    assert out["shd"] == 0 and out["sid"] == 0
