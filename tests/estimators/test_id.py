"""The ID algorithm: hand-checked formulas, y0 parity, and exact truth on random discrete models."""

import itertools
import warnings

import networkx as nx
import numpy as np
import pytest

from estimators import NotIdentifiableError, identify
from estimators._id import Fraction, Prob, Product, Sum, _eval, _Joint
from scm import PDAG

# Named ADMGs: (directed edges, bidirected edges, treatment, outcome, identifiable)
GRAPHS = {
    "backdoor": ([("z", "x"), ("z", "y"), ("x", "y")], [], ["x"], ["y"], True),
    "front_door": ([("x", "m"), ("m", "y")], [("x", "y")], ["x"], ["y"], True),
    "napkin": ([("w", "r"), ("r", "x"), ("x", "y")], [("w", "x"), ("w", "y")], ["x"], ["y"], True),
    "bow": ([("x", "y")], [("x", "y")], ["x"], ["y"], False),
    "iv": ([("z", "x"), ("x", "y")], [("x", "y")], ["x"], ["y"], False),
    "confounded_mediator": ([("x", "z"), ("z", "y")], [("x", "z")], ["x"], ["y"], False),  # P(z | do(x)) is a bow
    "confounded_outcome_path": ([("x", "z"), ("z", "y")], [("z", "y")], ["x"], ["y"], True),
    "two_treatments": ([("x1", "z"), ("z", "x2"), ("x2", "y"), ("x1", "y")], [("x1", "z"), ("z", "y")], ["x1", "x2"], ["y"], True),
    "verma_like": ([("a", "b"), ("b", "c"), ("c", "d")], [("a", "c"), ("b", "d")], ["b"], ["d"], True),
    "mediator_chain": ([("x", "m1"), ("m1", "m2"), ("m2", "y")], [("x", "y"), ("m1", "y")], ["x"], ["y"], False),
}


def _admg(directed, bidirected):
    """A PDAG when no pair has two edges, else a DAG with explicit latents (bow arcs)."""
    pairs = {frozenset(e) for e in directed}
    if any(frozenset(e) in pairs for e in bidirected):
        g = nx.DiGraph(directed)
        latent = []
        for i, (a, b) in enumerate(bidirected):
            u = f"_U{i}"
            g.add_edges_from([(u, a), (u, b)])
            latent.append(u)
        return g, latent
    nodes = list(dict.fromkeys(n for e in list(directed) + list(bidirected) for n in e))
    return PDAG(nodes, directed, (), bidirected), None


def _random_model(directed, bidirected, rng, card=2):
    """A random discrete SCM with one binary latent per bidirected edge: the observed
    joint and a function giving the exact P(y | do(x))."""
    obs = list(dict.fromkeys(n for e in list(directed) + list(bidirected) for n in e))
    lat = [f"_U{i}" for i in range(len(bidirected))]
    g = nx.DiGraph()
    g.add_nodes_from(obs + lat)
    g.add_edges_from(directed)
    for u, (a, b) in zip(lat, bidirected):
        g.add_edges_from([(u, a), (u, b)])
    order = list(nx.topological_sort(g))
    cpts = {}
    for v in order:
        pa = sorted(g.predecessors(v), key=order.index)
        t = rng.dirichlet(np.ones(card) * 0.7, size=(card,) * len(pa))
        cpts[v] = (pa, t)
    allv = order
    letters = {v: chr(97 + i) for i, v in enumerate(allv)}

    def joint(do=None):
        do = do or {}
        ops, subs = [], []
        for v in allv:
            pa, t = cpts[v]
            if v in do:
                t = np.zeros((card,) * len(pa) + (card,))
                t[..., do[v]] = 1.0
            ops.append(t)
            subs.append("".join(letters[p] for p in pa) + letters[v])
        full = np.einsum(",".join(subs) + "->" + "".join(letters[v] for v in allv), *ops)
        keep = [v for v in allv if v in obs]
        drop = tuple(i for i, v in enumerate(allv) if v not in obs)
        return keep, full.sum(axis=drop)

    return joint


def _truth(joint, xs, ys, card=2):
    out = {}
    for xv in itertools.product(range(card), repeat=len(xs)):
        names, table = joint(dict(zip(xs, xv)))
        drop = tuple(i for i, n in enumerate(names) if n not in ys)
        marg = table.sum(axis=drop)
        kept = [n for n in names if n in ys]
        marg = np.transpose(marg, [kept.index(y) for y in ys])
        for yv in itertools.product(range(card), repeat=len(ys)):
            out[xv + yv] = float(marg[yv])
    return out


def _evaluate(estimand, joint):
    names, table = joint()
    s = estimand.evaluate(joint=(names, table))
    return {tuple(int(i) for i in k): float(v) for k, v in s.items()}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_identify_matches_exact_truth(name):
    directed, bidirected, xs, ys, ok = GRAPHS[name]
    graph, latent = _admg(directed, bidirected)
    if not ok:
        with pytest.raises(NotIdentifiableError) as info:
            identify(graph, xs, ys, latent=latent)
        F, F2 = info.value.hedge
        assert F2 < F and F & set(xs) and not F2 & set(xs)
        assert "hedge" in str(info.value)
        return
    est = identify(graph, xs, ys, latent=latent)
    for seed in range(3):
        joint = _random_model(directed, bidirected, np.random.default_rng(seed))
        got, want = _evaluate(est, joint), _truth(joint, xs, ys)
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[k] for k in want], list(want.values()), atol=1e-10)


def test_printed_formulas():
    fd, _ = _admg(*GRAPHS["front_door"][:2])
    assert str(identify(fd, "x", "y")) == "Σ_{m} P(m | x) Σ_{x'} P(x') P(y | x', m)"
    bd, _ = _admg(*GRAPHS["backdoor"][:2])
    assert str(identify(bd, "x", "y")) == "Σ_{z} P(z) P(y | z, x)"
    napkin, _ = _admg(*GRAPHS["napkin"][:2])
    assert str(identify(napkin, "x", "y")) == (
        "(Σ_{w} P(w) P(x | w, r) P(y | w, r, x)) / (Σ_{w, y'} P(w) P(x | w, r) P(y' | w, r, x))"
    )


def test_bow_hedge_shown():
    g = nx.DiGraph([("x", "y"), ("u", "x"), ("u", "y")])
    with pytest.raises(NotIdentifiableError, match=r"hedge F = \{x, y\}, F' = \{y\}") as info:
        identify(g, "x", "y", latent=["u"])
    assert info.value.hedge == (frozenset({"x", "y"}), frozenset({"y"}))
    assert isinstance(info.value, ValueError)


def test_plug_in_on_data_close_to_truth():
    directed, bidirected = GRAPHS["front_door"][:2]
    joint = _random_model(directed, bidirected, np.random.default_rng(5))
    names, table = joint()
    rng = np.random.default_rng(0)
    idx = rng.choice(table.size, size=200_000, p=table.ravel())
    import pandas as pd

    data = pd.DataFrame(np.array(np.unravel_index(idx, table.shape)).T, columns=names)
    est = identify(_admg(directed, bidirected)[0], "x", "y")
    got = est.evaluate(data)
    want = _truth(joint, ["x"], ["y"])
    np.testing.assert_allclose(got.to_numpy(), [want[k] for k in sorted(want)], atol=0.01)


def test_input_errors():
    fd, _ = _admg(*GRAPHS["front_door"][:2])
    with pytest.raises(KeyError, match="unknown treatment"):
        identify(fd, "nope", "y")
    with pytest.raises(ValueError, match="overlap"):
        identify(fd, "x", "x")
    from scm import GraphError

    with pytest.raises(GraphError, match="undirected"):
        identify(PDAG(["a", "b"], undirected=[("a", "b")]), "a", "b")


# ------------------------------------------------------------------------------- y0 parity

y0 = pytest.importorskip("y0")


def _to_ours(expr, names):
    """Translate a y0 DSL expression into our expression tree."""
    import y0.dsl as d

    if isinstance(expr, d.Probability):
        dist = expr.distribution
        return Prob(tuple(names[v.name] for v in dist.children), tuple(names[v.name] for v in dist.parents))
    if isinstance(expr, d.Product):
        return Product(tuple(_to_ours(e, names) for e in expr.expressions))
    if isinstance(expr, d.Sum):
        return Sum(tuple(names[v.name] for v in expr.ranges), _to_ours(expr.expression, names))
    if isinstance(expr, d.Fraction):
        return Fraction(_to_ours(expr.numerator, names), _to_ours(expr.denominator, names))
    raise TypeError(f"unexpected y0 node {type(expr).__name__}")


def _y0_identify(directed, bidirected, xs, ys):
    import y0.dsl as d
    from y0.algorithm.identify import identify_outcomes
    from y0.graph import NxMixedGraph

    V = {n: d.Variable(n.upper()) for e in list(directed) + list(bidirected) for n in e}
    g = NxMixedGraph.from_edges(
        directed=[(V[a], V[b]) for a, b in directed], undirected=[(V[a], V[b]) for a, b in bidirected]
    )
    out = identify_outcomes(g, treatments={V[x] for x in xs}, outcomes={V[y] for y in ys})
    return out, {v.name: k for k, v in V.items()}


Y0_CASES = ["backdoor", "front_door", "napkin", "bow", "iv", "confounded_mediator", "confounded_outcome_path", "two_treatments", "verma_like", "mediator_chain"]


# y0 0.2.11 returns P(Y | X) for the napkin graph and P(Y | X1) for "two_treatments"; neither is
# P(y | do(x)) (the napkin leaves the back-door path x <- r <- w <-> y open; the other ignores
# x2), they differ from the exact truth below while ours matches it. The test pins that down
# instead of hiding the cases.
Y0_WRONG = {"napkin", "two_treatments"}


@pytest.mark.parametrize("name", Y0_CASES)
def test_agrees_with_y0(name):
    from estimators import Estimand

    directed, bidirected, xs, ys, ok = GRAPHS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, names = _y0_identify(directed, bidirected, xs, ys)
    graph, latent = _admg(directed, bidirected)
    if theirs is None:
        with pytest.raises(NotIdentifiableError):
            identify(graph, xs, ys, latent=latent)
        return
    ours = identify(graph, xs, ys, latent=latent)
    theirs_est = Estimand(xs, ys, _to_ours(theirs, names), ours._order)
    y0_error = 0.0
    for seed in range(3):
        joint = _random_model(directed, bidirected, np.random.default_rng(100 + seed))
        mine, y0_vals, truth = _evaluate(ours, joint), _evaluate(theirs_est, joint), _truth(joint, xs, ys)
        keys = sorted(truth)
        np.testing.assert_allclose([mine[k] for k in keys], [truth[k] for k in keys], atol=1e-10)
        y0_error = max(y0_error, np.max(np.abs(np.subtract([y0_vals[k] for k in keys], [truth[k] for k in keys]))))
        if name not in Y0_WRONG:
            np.testing.assert_allclose([y0_vals[k] for k in keys], [mine[k] for k in keys], atol=1e-10, err_msg=f"y0: {theirs}")
    if name in Y0_WRONG:
        assert y0_error > 1e-3
    else:
        assert y0_error < 1e-10
