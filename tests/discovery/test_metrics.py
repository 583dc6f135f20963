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

        def rand_adj(d):
            a = np.triu(rng.random((d, d)) < 0.4, 1).astype(np.int8)
            p = rng.permutation(d)
            return a[np.ix_(p, p)]

        A, B = rand_adj(d), rand_adj(d)
        ref = gadjid.sid(A, B, edge_direction="from row to column")[1]
        assert metrics.sid(_dag(A, names), _dag(B, names)) == ref


def _random_dag(rng, d, p, names):
    a = np.triu(rng.random((d, d)) < p, 1)
    perm = rng.permutation(d)
    return _dag(a[np.ix_(perm, perm)], names)


def test_sid_agrees_with_gadjid_on_larger_sparse_graphs():
    gadjid = pytest.importorskip("gadjid")
    rng = np.random.default_rng(5)
    for d in (30, 60):
        names = [f"V{i}" for i in range(d)]
        for _ in range(3):
            t, h = _random_dag(rng, d, 3 / d, names), _random_dag(rng, d, 3 / d, names)
            adj = [nx.to_numpy_array(g, nodelist=names, dtype=np.int8) for g in (t, h)]
            assert metrics.sid(t, h) == gadjid.sid(*adj, edge_direction="from row to column")[1]


def test_sid_names_what_makes_a_graph_not_a_dag():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    with pytest.raises(scm.GraphError, match="estimated graph .* undirected edge A - B; for a CPDAG estimate use sid_bounds"):
        metrics.sid(t, scm.PDAG(["A", "B", "C"], undirected=[("A", "B")]))
    with pytest.raises(scm.GraphError, match="estimated graph .* cycle"):
        metrics.sid(t, nx.DiGraph([("A", "B"), ("B", "C"), ("C", "A")]))
    with pytest.raises(scm.GraphError, match="true graph .* cycle"):
        metrics.sid(nx.DiGraph([("A", "B"), ("B", "C"), ("C", "A")]), t)
    with pytest.raises(scm.GraphError, match="bidirected edge A <-> B"):
        metrics.sid_bounds(t, scm.PDAG(["A", "B", "C"], bidirected=[("A", "B")]))
    with pytest.raises(scm.GraphError, match="different nodes"):
        metrics.sid_bounds(t, nx.DiGraph([("A", "B")]))


def test_sid_bounds_equal_the_extremes_over_the_class():
    # brute force: gadjid's SID of every DAG in the class; the exact bounds must hit both
    # extremes, the local ones must bracket them (and are looser on some graphs)
    gadjid = pytest.importorskip("gadjid")
    rng = np.random.default_rng(1)
    looser = 0
    for _ in range(120):
        d = int(rng.integers(2, 8))
        names = [f"V{i}" for i in range(d)]
        t, h = _random_dag(rng, d, rng.random() * 0.8, names), _random_dag(rng, d, rng.random() * 0.8, names)
        est = scm.cpdag(h)
        sids = [
            gadjid.sid(nx.to_numpy_array(t, nodelist=names, dtype=np.int8), nx.to_numpy_array(m, nodelist=names, dtype=np.int8),
                       edge_direction="from row to column")[1]
            for m in scm.dags_in_class(est)
        ]
        assert metrics.sid_bounds(t, est) == (min(sids), max(sids))
        low, high = metrics.sid_bounds(t, est, method="local")
        assert low <= min(sids) and max(sids) <= high
        looser += (low, high) != (min(sids), max(sids))
    assert looser > 0


def test_sid_bounds_of_a_pdag_with_background_knowledge():
    # one undirected edge of a CPDAG oriented: no longer a CPDAG, so the whole class is enumerated
    rng = np.random.default_rng(2)
    checked = 0
    for _ in range(80):
        d = int(rng.integers(3, 8))
        names = [f"V{i}" for i in range(d)]
        t, h = _random_dag(rng, d, 0.5, names), _random_dag(rng, d, 0.5, names)
        c = scm.cpdag(h)
        if not c.undirected_edges:
            continue
        a, b = sorted(min(c.undirected_edges, key=sorted))
        pdag = c.orient(*((a, b) if h.has_edge(a, b) else (b, a)))
        sids = [metrics.sid(t, m) for m in scm.dags_in_class(pdag)]
        assert metrics.sid_bounds(t, pdag) == (min(sids), max(sids))
        if pdag.undirected_edges:  # else a DAG, which every method takes
            with pytest.raises(scm.GraphError, match="needs a CPDAG"):
                metrics.sid_bounds(t, pdag, method="local")
            checked += 1
    assert checked > 20


def test_sid_bounds_hand_computed_and_limits():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    assert metrics.sid_bounds(t, t) == (0, 0)
    # A -> B -> C: 0; A <- B -> C: 3; A <- B <- C: 6
    assert metrics.sid_bounds(t, scm.cpdag(t)) == (0, 6)
    assert metrics.sid_bounds(t, scm.cpdag(t), method="local") == (0, 6)
    # truth A <- B -> C, same class. Exact: 0 (itself), 3 (A -> B -> C or C -> B -> A). Local, per
    # node: A and C 0-2 each, B 0-1 (B's parents {A, C} would add a v-structure: not a parent set)
    fork = nx.DiGraph([("B", "A"), ("B", "C")])
    assert metrics.sid_bounds(fork, scm.cpdag(t)) == (0, 3)
    assert metrics.sid_bounds(fork, scm.cpdag(t), method="local") == (0, 5)
    names = [f"V{i}" for i in range(8)]
    complete = nx.DiGraph([(a, b) for i, a in enumerate(names) for b in names[i + 1:]])
    with pytest.raises(scm.GraphError, match="8 nodes, 28 undirected edges.*more than 100 orientations.*method='local'"):
        metrics.sid_bounds(complete, scm.cpdag(complete), limit=100)  # 8! of them
    # the local bounds need only the 2^7 cliques of each node's neighbours
    assert metrics.sid_bounds(complete, scm.cpdag(complete), method="local")[0] == 0
    with pytest.raises(scm.GraphError, match="more than 100 possible parent sets"):
        metrics.sid_bounds(complete, scm.cpdag(complete), method="local", limit=100)
    with pytest.raises(scm.ParameterError, match="'method'"):
        metrics.sid_bounds(t, t, method="tight")
    with pytest.raises(scm.ParameterError, match="'limit'"):
        metrics.sid_bounds(t, t, limit=0)


def test_all_metrics_gives_pc_style_cpdags_an_sid_range():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    out = metrics.all_metrics(t, scm.cpdag(t))
    assert np.isnan(out["sid"]) and (out["sid_lower"], out["sid_upper"]) == (0.0, 6.0)
    out = metrics.all_metrics(t, t)
    assert out["sid"] == out["sid_lower"] == out["sid_upper"] == 0.0


def test_a_pdag_without_dag_extension_has_no_sid():
    # an unchorded undirected 4-cycle, as PC's conflicting orientations can leave: every
    # acyclic orientation adds a v-structure, so the PDAG stands for no DAG
    t = nx.DiGraph([("A", "B"), ("B", "C"), ("C", "D"), ("A", "D")])
    square = scm.PDAG(list("ABCD"), undirected=[("A", "B"), ("B", "C"), ("C", "D"), ("D", "A")])
    assert scm.dags_in_class(square) == []
    with pytest.raises(scm.GraphError, match="represents no DAG: every orientation of its 4 undirected edges"):
        metrics.sid_bounds(t, square)
    out = metrics.all_metrics(t, square)
    assert np.isnan(out["sid"]) and np.isnan(out["sid_lower"]) and np.isnan(out["sid_upper"])
    assert out["shd"] == metrics.shd(scm.cpdag(t), square)


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


def test_adjacency_frames_are_read_in_the_pdag_encoding_and_anything_else_is_refused():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    g = scm.PDAG(list("ABC"), directed=[("A", "B")], bidirected=[("B", "C")])
    frame = pd.DataFrame(g.to_adjacency(), index=g.nodes, columns=g.nodes)
    assert metrics.shd(g, frame) == 0.0  # the bidirected flag (2) survives; it used to become B - C
    assert metrics.shd(g, frame.astype(float)) == 0.0
    assert metrics.shd(g, frame.loc[list("CAB")]) == 0.0  # rows matched to columns by label
    assert metrics.shd(t, pd.DataFrame([[0, 1, 0], [0, 0, 1], [0, 0, 0]], index=list("ABC"), columns=list("ABC")) > 0) == 0.0
    probs = pd.DataFrame([[0, 0.97, 0.01], [0.02, 0, 0.95], [0.01, 0.03, 0]], index=list("ABC"), columns=list("ABC"))
    # edge probabilities used to count as edges wherever non-zero (a complete graph here)
    with pytest.raises(scm.GraphError, match=r"holds 0.97 at \['A', 'B'\].*Threshold edge probabilities"):
        metrics.shd(t, probs)
    with pytest.raises(scm.GraphError, match=r"holds 0.01 at \['A', 'C'\]"):
        metrics.skeleton_scores(t, (probs > 0.5).astype(float).where(probs != 0.01, 0.01))
    with pytest.raises(scm.GraphError, match=r"holds nan at \['A', 'B'\]"):
        metrics.shd(t, (probs > 0.5).astype(float).mask(probs > 0.9))
    with pytest.raises(scm.GraphError, match=r"holds -1"):
        metrics.arrowhead_scores(t, -(probs > 0.5).astype(int))
    with pytest.raises(scm.DataError, match="must hold numbers; got dtype"):
        metrics.as_pdag((probs > 0.5).astype(int).to_numpy().astype(str), nodes=list("ABC"))
    with pytest.raises(scm.GraphError, match=r"same labels on rows and columns; they differ in \['A', 'D'\]"):
        metrics.shd(t, frame.set_axis(list("DBC"), axis=0))
    with pytest.raises(scm.GraphError, match=r"duplicated labels in its columns: \['A'\]"):
        metrics.shd(t, frame.set_axis(list("AAC"), axis=1))
    for cost, match in ((-1, r"must be in the range \[0.0, inf\)"), ("x", "must be a number"), (np.nan, "must be a number")):
        with pytest.raises(scm.ParameterError, match=f"'reversed_cost' parameter of shd {match}"):
            metrics.shd(t, t, reversed_cost=cost)
    assert metrics.shd(t, nx.DiGraph([("B", "A"), ("B", "C")]), reversed_cost=0) == 0.0


def test_all_metrics_uses_cpdag_for_pdag_estimates():
    t = nx.DiGraph([("A", "B"), ("B", "C")])
    out = metrics.all_metrics(t, scm.cpdag(t))
    assert out["shd"] == 0 and np.isnan(out["sid"])
    out = metrics.all_metrics(t, t)
    assert out["shd"] == 0 and out["sid"] == 0
