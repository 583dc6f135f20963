"""Causal de Finetti on grouped data: the paper's Figures 3 and 4, beyond the paper, level, speed.

Parts (``--part``, default all, in this order):

* ``speed``: the reference implementation's bivariate and multivariate routines
  (github syguo96/Causal-de-Finetti, ``src/models/causaldf.py``), reconstructed here from
  their public logic with causal-learn's ``CIT(data, "kci")`` as they use it, one KCI object
  and call per test, side by side with ``discovery.CausalDeFinetti(ci_test="kci",
  pairing="first")`` on the same data (two rows per group). Ours is timed from its first call
  in this process, JIT compilation included (``ratio_with_jit``), and again on a second pass
  over the same data sets, every shape compiled (``ratio_compiled``). Agreement of the
  decisions is reported (bivariate: same direction, and the largest p-value difference;
  multivariate: same graph, and same layers).
* ``level``: the null rejection rate of the cross-sample tests at alpha = 0.05 over 200 data
  sets of 100 groups x 4 rows, for each pairing (``disjoint``: two layers of disjoint pairs,
  Cauchy-combined; ``first``: two rows per group; ``rest``: each row against the sum of the
  others, four layers): KCI on the nonlinear generator, Fisher-z on the linear one, the G-test
  on the binary one; and the power of the reverse test.
* ``fig3``: bivariate direction accuracy against the number of environments, continuous
  (the reference's generator, reconstructed: Laplace noise around group locations, integer
  weights, a squared term in half of the environments; 2 rows each; three equally likely
  truths X -> Y, Y -> X, none) and binary (``scm.simulate.grouped(kind="binary")``: Beta(1, 3)
  Bernoulli parameters per node and group, XOR).
* ``fig4``: multivariate binary graphs on 3 nodes (the reference's generator: G(3, 1/2)
  along the order 0 < 1 < 2, every node on an edge), 2 rows per environment; the
  reference's normalised SHD ``|E_est ^ E_true| / (|E_est| + |E_true|)`` (directed edge
  sets; an undirected edge of a CPDAG counts both directions, as the reference scores PC).
* ``beyond``: continuous data with d = 10 nodes (ER, mean degree 2), 500 groups x 4 rows
  (``scm.simulate.grouped(kind="linear")``), SHD to the true DAG of CausalDeFinetti
  (Fisher-z; ``pairing="disjoint"``, the default, and ``"rest"``), CD-NOD (Fisher-z, the
  group as context) and PC (Fisher-z, pooled); also the skeleton SHD, the true edges whose
  parent is not in a layer above the child's (``order_violations``), and a diagnosis row: the
  edge phase on the same data given the oracle's layers.
* ``sinkpower``: the rejection rate and power of the first-round sink tests of the ``beyond``
  data against the oracle's answer for each test, at 500 and 4,000 groups.

Baselines: CD-NOD (the group as its context), PC (pooled), NOTEARS (pooled), VI-DP-DAG
(pooled; ``--vidpdag-iter`` iterations), random. Figures go to ``docs/img/``.

Run: ``python benchmarks/bench_exchangeable.py [--quick] [--part speed level fig3 fig4 beyond sinkpower]``.
"""

from __future__ import annotations

from _common import add_repo_to_path, load_average, machine_description, pin_blas_threads

pin_blas_threads("1")  # before numpy is imported
add_repo_to_path()

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from discovery import CDNOD, NOTEARS, PC, VIDPDAG, CausalDeFinetti  # noqa: E402
from discovery.citest import DSeparation, FisherZ  # noqa: E402
from discovery.exchangeable import (  # noqa: E402
    bivariate_rule,
    combine_pvalues,
    layer_edges,
    pair_samples,
    sink_layers,
    split_groups,
    two_sample_frames,
    two_sample_graph,
)
from discovery.metrics import shd  # noqa: E402
from scm import PDAG  # noqa: E402
from scm.simulate import grouped  # noqa: E402

ALPHA = 0.05


# --------------------------------------------------------------------------- data
def reference_bivariate_continuous(n_env: int, rng: np.random.Generator, n_sample: int = 2):
    """The reference's continuous bivariate generator, reconstructed (our code, its logic)."""
    loc = rng.uniform(-1, 1, (2, n_env))
    noise = rng.laplace(np.repeat(loc[:, :, None], n_sample, axis=2))  # (var, env, sample)
    mode = int(rng.integers(3))
    if mode == 0:
        A = np.tril(rng.integers(1, 10, size=(2, 2)))
        A[0, 0] = 1
        truth = {("X", "Y")}
    elif mode == 1:
        A = np.triu(rng.integers(1, 10, size=(2, 2)))
        A[1, 1] = 1
        truth = {("Y", "X")}
    else:
        A = np.eye(2, dtype=int)
        truth = set()
    D = np.einsum("ij,jkh->ikh", A, noise)
    squared = np.zeros(n_env, dtype=bool)
    squared[rng.choice(n_env, n_env // 2, replace=False)] = True
    B = (A - np.eye(2)) * rng.integers(1, 10)
    D = D + np.einsum("ij,jkh->ikh", B, noise**2) * squared[None, :, None]
    frame = pd.DataFrame({"X": D[0].ravel(), "Y": D[1].ravel(), "group": np.repeat(np.arange(n_env), n_sample)})
    return frame, truth


def binary_pair(n_env: int, rng: np.random.Generator, n_sample: int = 2):
    mode = int(rng.integers(3))
    dag = nx.DiGraph()
    dag.add_nodes_from(["X", "Y"])
    dag.add_edges_from([[("X", "Y")], [("Y", "X")], []][mode])
    ds = grouped(dag, n_groups=n_env, group_size=n_sample, kind="binary", random_state=rng)
    return ds.data, set(dag.edges)


def reference_binary_graph(n_env: int, rng: np.random.Generator, n_var: int = 3):
    """The reference's multivariate binary set-up: G(n, 1/2) along 0 < 1 < ..., every node on an edge."""
    while True:
        edges = [(f"V{u}", f"V{v}") for u in range(n_var) for v in range(u + 1, n_var) if rng.random() < 0.5]
        if len({x for e in edges for x in e}) == n_var:
            break
    ordered = nx.DiGraph()
    ordered.add_nodes_from(f"V{i}" for i in range(n_var))
    ordered.add_edges_from(edges)
    ds = grouped(ordered, n_groups=n_env, group_size=2, kind="binary", random_state=rng)
    return ds.data, set(edges)


# --------------------------------------------------------------------------- methods
def edge_set(graph) -> set:
    """Directed edge set; an undirected edge of a PDAG counts both ways (as the reference scores PC)."""
    if isinstance(graph, PDAG):
        out = set()
        for u, v, kind in graph.edges():
            out.add((u, v))
            if kind != "directed":
                out.add((v, u))
        return out
    return set(graph.edges)


def _pooled(frame):
    return frame.drop(columns="group")


def run_method(name: str, frame: pd.DataFrame, kind: str, rng, vidpdag_iter: int):
    nodes = [c for c in frame.columns if c != "group"]
    if name.startswith("CausalDeFinetti"):
        test = {"binary": "gsq", "continuous": "kci", "linear": "fisherz"}[kind]
        pairing = "rest" if name.endswith("(rest)") else "disjoint"
        return CausalDeFinetti(ci_test=test, alpha=ALPHA, pairing=pairing).fit(frame).graph_
    if name == "CD-NOD":
        test = {"binary": "fisherz", "continuous": "kci", "linear": "fisherz"}[kind]
        model = CDNOD(ci_test=test, alpha=ALPHA, driving_force=False, max_samples=400).fit(frame, context="group")
        return _drop_context(model.graph_, nodes)
    if name == "PC":
        test = {"binary": "gsq", "continuous": "kci", "linear": "fisherz"}[kind]
        return PC(ci_test=test, alpha=ALPHA).fit(_pooled(frame)).graph_
    if name == "NOTEARS":
        return NOTEARS().fit(_pooled(frame).astype(float)).graph_
    if name == "VI-DP-DAG":
        return VIDPDAG(max_iter=vidpdag_iter, random_state=0).fit(_pooled(frame).astype(float)).graph_
    if name == "random":  # a random DAG: random order, each forward pair joined with probability 1/2
        order = list(rng.permutation(nodes))
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        g.add_edges_from((a, b) for i, a in enumerate(order) for b in order[i + 1 :] if rng.random() < 0.5)
        return g
    raise ValueError(name)


def _drop_context(pdag: PDAG, nodes) -> PDAG:
    keep = set(nodes)
    directed = [(u, v) for u, v, k in pdag.edges() if k == "directed" and u in keep and v in keep]
    undirected = [(u, v) for u, v, k in pdag.edges() if k == "undirected" and u in keep and v in keep]
    bidirected = [(u, v) for u, v, k in pdag.edges() if k == "bidirected" and u in keep and v in keep]
    return PDAG(list(nodes), directed=directed, undirected=undirected, bidirected=bidirected)


def normalised_shd(est: set, true: set) -> float:
    """The reference's score: |est ^ true| / (|est| + |true|)."""
    return len(est ^ true) / (len(est) + len(true)) if (est or true) else 0.0


# --------------------------------------------------------------------------- parts
def part_fig3(args, out):
    methods = ["CausalDeFinetti", "CD-NOD", "PC", "NOTEARS", "VI-DP-DAG"]
    settings = {
        "continuous": ([100, 200, 300, 400, 500] if not args.quick else [100, 300, 500], reference_bivariate_continuous),
        "binary": ([100, 250, 500, 1000, 2000] if not args.quick else [100, 500, 2000], binary_pair),
    }
    rows = []
    for kind, (envs, make) in settings.items():
        for n_env in envs:
            rng = np.random.default_rng(1000 + n_env)
            for trial in range(args.trials):
                frame, truth = make(n_env, rng)
                for m in methods:
                    if m == "VI-DP-DAG" and trial >= args.vidpdag_trials:
                        continue
                    t0 = time.perf_counter()
                    est = edge_set(run_method(m, frame, kind, rng, args.vidpdag_iter))
                    rows.append((kind, n_env, trial, m, float(est == truth), time.perf_counter() - t0))
            print(f"fig3 {kind} {n_env} done (load {load_average()})", flush=True)
    table = pd.DataFrame(rows, columns=["data", "environments", "trial", "method", "correct", "seconds"])
    out["fig3"] = table
    return table


def part_fig4(args, out):
    methods = ["CausalDeFinetti", "CD-NOD", "PC", "NOTEARS", "VI-DP-DAG", "random"]
    envs = [2000, 4000, 6000, 8000, 10000] if not args.quick else [2000, 6000, 10000]
    rows = []
    for n_env in envs:
        rng = np.random.default_rng(2000 + n_env)
        for trial in range(args.trials):
            frame, truth = reference_binary_graph(n_env, rng)
            for m in methods:
                if m == "VI-DP-DAG" and trial >= args.vidpdag_trials:
                    continue
                if m == "CD-NOD" and trial >= args.cdnod_trials:
                    continue
                t0 = time.perf_counter()
                est = edge_set(run_method(m, frame, "binary", rng, args.vidpdag_iter))
                rows.append((n_env, trial, m, normalised_shd(est, truth), float(est == truth), time.perf_counter() - t0))
        print(f"fig4 {n_env} done (load {load_average()})", flush=True)
    table = pd.DataFrame(rows, columns=["environments", "trial", "method", "shd_normalised", "exact", "seconds"])
    out["fig4"] = table
    return table


def skeleton_shd(truth: nx.DiGraph, est) -> int:
    """Adjacencies in one graph and not the other (orientation ignored)."""
    true_adj = {frozenset(e) for e in truth.edges}
    est_adj = {frozenset(e) for e in edge_set(est)}
    return len(true_adj ^ est_adj)


def order_violations(truth: nx.DiGraph, order) -> int:
    """True edges ``u -> v`` whose parent is not in a layer above the child's (layers sinks first)."""
    layer = {v: i for i, nodes in enumerate(order) for v in nodes}
    return sum(layer[u] <= layer[v] for u, v in truth.edges)


def true_order_edges(frame: pd.DataFrame, truth: nx.DiGraph):
    """Diagnosis: the edge phase of CausalDeFinetti on the data (Fisher-z, disjoint pairs) given the oracle's layers,
    and the layers the data give (so the two phases' errors can be told apart)."""
    variables, codes = split_groups(frame, "group")
    nodes = list(variables.columns)
    tests = [FisherZ(f) for f in two_sample_frames(variables, pair_samples(codes, pairing="disjoint", random_state=0))]
    oracle_order, _ = sink_layers(DSeparation(two_sample_graph(truth)), nodes)
    data_order, _ = sink_layers(tests, nodes, alpha=ALPHA)
    graph, _ = layer_edges(tests, nodes, oracle_order, alpha=ALPHA)
    return graph, data_order


def part_beyond(args, out):
    rows = []
    for seed in range(args.beyond_seeds):
        ds = grouped(n_nodes=10, expected_degree=2, n_groups=500, group_size=4, kind="linear", random_state=seed)
        truth = ds.graph
        oracle_graph, data_order = true_order_edges(ds.data, truth)
        for m in ["CausalDeFinetti", "CausalDeFinetti (rest)", "CD-NOD", "PC", "diagnosis: edges given the true layers"]:
            t0 = time.perf_counter()
            est = oracle_graph if m.startswith("diagnosis") else run_method(m, ds.data, "linear", None, 0)
            seconds = time.perf_counter() - t0
            found = edge_set(est)
            directed = {(u, v) for u, v in found if (v, u) not in found}
            right = sum((u, v) in directed for u, v in truth.edges)  # true edges found with their direction
            reversed_ = sum((v, u) in directed for u, v in truth.edges)
            undirected = sum((u, v) in found and (v, u) in found for u, v in truth.edges)
            extra = sum(1 for u, v in found if not truth.has_edge(u, v) and not truth.has_edge(v, u)) // 1
            violations = order_violations(truth, data_order) if m == "CausalDeFinetti" else np.nan
            row = (seed, m, truth.number_of_edges(), shd(truth, est), skeleton_shd(truth, est), right, reversed_, undirected, extra)
            rows.append((*row, violations, seconds))
        print(f"beyond seed {seed} done (load {load_average()})", flush=True)
    columns = ["seed", "method", "true_edges", "shd", "skeleton_shd", "right_direction", "reversed", "undirected", "extra_marks"]
    columns += ["order_violations", "seconds"]
    table = pd.DataFrame(rows, columns=columns)
    out["beyond"] = table
    return table


def part_sinkpower(args, out):
    """Level and power of the first-round sink tests of the ``beyond`` data (Fisher-z, disjoint pairs), each test's
    truth from the oracle; at 500 and 4,000 groups."""
    rows = []
    for n_groups in (500, 4000):
        null, alt = [], []
        for seed in range(args.beyond_seeds):
            ds = grouped(n_nodes=10, expected_degree=2, n_groups=n_groups, group_size=4, kind="linear", random_state=seed)
            variables, codes = split_groups(ds.data, "group")
            d = variables.shape[1]
            tests = [FisherZ(f) for f in two_sample_frames(variables, pair_samples(codes, pairing="disjoint", random_state=0))]
            queries = [(j, d + k, [r for r in range(d) if r != j]) for j in range(d) for k in range(d) if k != j]
            p = combine_pvalues(np.stack([t.pvalues(queries) for t in tests]))
            independent = DSeparation(two_sample_graph(ds.graph)).pvalues(queries) > 0.5
            null += list(p[independent])
            alt += list(p[~independent])
        null, alt = np.asarray(null), np.asarray(alt)
        rows.append((n_groups, len(null), float(np.mean(null < ALPHA)), len(alt), float(np.mean(alt < ALPHA))))
        print(f"sinkpower {n_groups} done (load {load_average()})", flush=True)
    table = pd.DataFrame(rows, columns=["groups", "null_tests", "rejection_rate", "alternative_tests", "power"])
    out["sinkpower"] = table
    return table


def part_level(args, out):
    """Null rejection rate and power of the cross-sample tests at alpha = 0.05.

    ``disjoint`` / ``first``: the bivariate test ``X^(1) _||_ Y^(2) | X^(2)`` (true when X -> Y) and its reverse
    ``Y^(1) _||_ X^(2) | Y^(2)`` (false). ``rest``: the sink tests ``Y^(1) _||_ X^(2) | X^(1)`` (true: Y is a sink) and
    ``X^(1) _||_ Y^(2) | Y^(1)`` (false), with sample (2) the sum of the group's other rows.
    """
    rows = []
    for kind, test in (("nonlinear", "kci"), ("linear", "fisherz"), ("binary", "gsq")):
        for pairing in ("disjoint", "first", "rest"):
            rejected, power = [], []
            for seed in range(args.level_sims):
                ds = grouped({"X": [], "Y": ["X"]}, n_groups=100, group_size=4, kind=kind, random_state=seed)
                t = CausalDeFinetti(ci_test=test, pairing=pairing).fit(ds.data).pvalues_.set_index(["phase", "x", "y"])["pvalue"]
                if pairing == "rest":
                    null, alt = t[("sink", "Y^(1)", "X^(2)")], t[("sink", "X^(1)", "Y^(2)")]
                else:
                    null, alt = t[("bivariate", "X^(1)", "Y^(2)")], t[("bivariate", "Y^(1)", "X^(2)")]
                rejected.append(null < ALPHA)
                power.append(alt < ALPHA)
            rate = float(np.mean(rejected))
            half = 1.96 * np.sqrt(rate * (1 - rate) / args.level_sims)
            rows.append(
                (kind, test, pairing, args.level_sims, rate, f"[{max(rate - half, 0):.3f}, {rate + half:.3f}]", float(np.mean(power)))
            )
            print(f"level {kind} {pairing} done (load {load_average()})", flush=True)
    columns = ["data", "test", "pairing", "simulations", "null_rejection_rate", "95% interval", "power"]
    table = pd.DataFrame(rows, columns=columns)
    out["level"] = table
    return table


# --------------------------------------------------------------------------- the reference, reconstructed
def _ref_kci(columns, x, y, cond):
    from causallearn.utils.cit import CIT

    D = np.column_stack(columns)
    return float(CIT(D, "kci")(x, y, cond))


def reference_bivariate(X: np.ndarray, Y: np.ndarray) -> tuple[str, list]:
    """``run_causaldf_bivariate``: X, Y of shape (n_env, 2), three KCI tests, the rule."""
    D = [X[:, 0], X[:, 1], Y[:, 0], Y[:, 1]]
    p_xy = _ref_kci(D, 0, 3, [1])  # X_1 _||_ Y_2 | X_2
    p_yx = _ref_kci(D, 2, 1, [3])  # Y_1 _||_ X_2 | Y_2
    p_ind = _ref_kci(D, 0, 2, [])
    return bivariate_rule(p_xy, p_yx, p_ind, alpha=ALPHA), [p_xy, p_yx, p_ind]


def reference_sink_layers(S1: np.ndarray, S2: np.ndarray) -> list:
    """``test_topological_order``: n rounds; in each, j is a sink iff every KCI(X_j^1, X_k^2 | X_rest^1) >= alpha."""
    d = S1.shape[1]
    remaining, layers = set(range(d)), []
    for _ in range(d):
        layer = []
        for j in sorted(remaining):
            others = sorted(remaining - {j})
            if not others:
                layer.append(j)
                continue
            ps = [_ref_kci([S1[:, j], S2[:, k], *[S1[:, m] for m in others]], 0, 1, list(range(2, 2 + len(others)))) for k in others]
            if all(p >= ALPHA for p in ps):
                layer.append(j)
        layers.append(layer)
        remaining -= set(layer)
    return [layer for layer in layers if layer]


def reference_edges(layers: list, S1: np.ndarray) -> set:
    """``test_edge``: layer n vs n - dist; condition on the layers above n (plus, for dist >= 2, the parents of k found
    in between; the reference's co-parent set evaluates to empty: ``list.remove`` returns None)."""
    parents: dict = {i: set() for i in range(S1.shape[1])}
    L = len(layers)
    for dist in range(1, L):
        for m in range(L - dist):
            n = m + dist
            above = [i for layer in layers[n + 1 :] for i in layer]
            for j in layers[n]:
                for k in layers[m]:
                    cond = set(above)
                    if dist >= 2:
                        cond |= {p for p in parents[k] if p not in above and p not in layers[n]}
                    cond = sorted(cond)
                    p = _ref_kci([S1[:, j], S1[:, k], *[S1[:, c] for c in cond]], 0, 1, list(range(2, 2 + len(cond))))
                    if p <= ALPHA:
                        parents[k].add(j)
    return {(j, k) for k, ps in parents.items() for j in ps}


_COMPILES: list = []


def _count_compiles() -> int:
    """XLA backend compilations so far in this process (``jax.monitoring`` events; the listener is added once)."""
    import jax.monitoring

    if not _COMPILES:
        _COMPILES.append(0)

        def listen(event, duration, **_):
            if event == "/jax/core/compile/backend_compile_duration":
                _COMPILES[0] += 1

        jax.monitoring.register_event_duration_secs_listener(listen)
    return _COMPILES[0]


def _timed_fits(frames, **kci):
    """Fit ours on every frame twice: (seconds of the first pass, from the first call in this process, JIT compilation
    included; seconds of the second pass, every shape compiled; the models). The number of XLA compilations of each
    pass is printed."""
    options = {"ci_test": "kci", "pairing": "first", "ci_test_kwargs": kci or None}
    c0 = _count_compiles()
    t0 = time.perf_counter()
    models = [CausalDeFinetti(**options).fit(f) for f in frames]
    t1 = time.perf_counter()
    c1 = _count_compiles()
    for f in frames:
        CausalDeFinetti(**options).fit(f)
    t2 = time.perf_counter()
    print(f"  XLA compilations: first pass {c1 - c0} ({t1 - t0:.2f} s), second pass {_count_compiles() - c1} ({t2 - t1:.2f} s)", flush=True)
    return t1 - t0, t2 - t1, models


def part_speed(args, out):
    rows = []
    # bivariate: the reference's continuous generator, 2 rows per environment (a Figure 3 column)
    n_env, n_data = 500, args.speed_bivariate
    rng = np.random.default_rng(7)
    data = [reference_bivariate_continuous(n_env, rng)[0] for _ in range(n_data)]
    t_ours, t_rest, ours = _timed_fits(data)
    t0 = time.perf_counter()
    ref = [reference_bivariate(f["X"].to_numpy().reshape(-1, 2), f["Y"].to_numpy().reshape(-1, 2)) for f in data]
    t_ref = time.perf_counter() - t0
    agree = np.mean([o.direction_ == r[0] for o, r in zip(ours, ref)])
    dp = max(float(np.max(np.abs(o.pvalues_["pvalue"].to_numpy() - np.array(r[1])))) for o, r in zip(ours, ref))
    steady = t_ref / t_rest
    rows.append(("bivariate", n_data, n_env, 3 * n_data, t_ref, t_ours, t_ref / t_ours, steady, agree, dp))
    print(f"speed bivariate: reference {t_ref:.2f} s, ours {t_ours:.2f} s (load {load_average()})", flush=True)
    # multivariate: grouped nonlinear data, 2 rows per group
    for d, n_env, n_data in args.speed_multivariate:
        sets = [grouped(n_nodes=d, n_groups=n_env, group_size=2, kind="nonlinear", random_state=100 + s).data for s in range(n_data)]
        t_ours, t_rest, ours = _timed_fits(sets)
        n_tests_ours = sum(len(o.pvalues_) for o in ours)
        t0 = time.perf_counter()
        ref_graphs, ref_orders = [], []
        for f in sets:
            values = f.drop(columns="group").to_numpy()
            S1, S2 = values[0::2], values[1::2]
            layers = reference_sink_layers(S1, S2)
            ref_orders.append(layers)
            ref_graphs.append(reference_edges(layers, S1))
        t_ref = time.perf_counter() - t0
        names = [f"X{i}" for i in range(d)]
        same_order = np.mean([[[names[i] for i in layer] for layer in r] == o.order_ for o, r in zip(ours, ref_orders)])
        same_graph = np.mean([{(names[j], names[k]) for j, k in r} == set(o.graph_.edges) for o, r in zip(ours, ref_graphs)])
        steady = t_ref / t_rest
        rows.append((f"multivariate (d = {d})", n_data, n_env, n_tests_ours, t_ref, t_ours, t_ref / t_ours, steady, same_graph, same_order))
        print(f"speed multivariate d={d} n={n_env}: reference {t_ref:.2f} s, ours {t_ours:.2f} s (load {load_average()})", flush=True)
        # the same with low-rank KCI (Nystrom, 100 landmarks): fixed shapes, other p-values
        t_ours, t_rest, ours = _timed_fits(sets, approximation="nystrom")
        same_order = np.mean([[[names[i] for i in layer] for layer in r] == o.order_ for o, r in zip(ours, ref_orders)])
        same_graph = np.mean([{(names[j], names[k]) for j, k in r} == set(o.graph_.edges) for o, r in zip(ours, ref_graphs)])
        label = f"multivariate (d = {d}), ours with Nystrom KCI"
        rows.append((label, n_data, n_env, n_tests_ours, t_ref, t_ours, t_ref / t_ours, t_ref / t_rest, same_graph, same_order))
    columns = [
        "routine",
        "data_sets",
        "environments",
        "tests_ours",
        "reference_s",
        "ours_s",
        "ratio_with_jit",
        "ratio_compiled",
        "agreement",
        "max_dp_or_same_order",
    ]
    table = pd.DataFrame(rows, columns=columns)
    out["speed"] = table
    return table


# --------------------------------------------------------------------------- report
def plot(out, img_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if "fig3" in out:
        t = out["fig3"]
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for ax, kind in zip(axes, ["continuous", "binary"]):
            sub = t[t["data"] == kind].groupby(["method", "environments"])["correct"].mean().unstack(0)
            for m in sub.columns:
                ax.plot(sub.index, sub[m], marker="o", label=m)
            ax.axhline(1 / 3, color="grey", ls="--", label="random (1/3)")
            ax.set(title=f"bivariate, {kind}", xlabel="environments (2 rows each)", ylabel="correct structure", ylim=(0, 1.02))
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(f"{img_dir}/exchangeable_fig3.png", dpi=110)
    if "fig4" in out:
        t = out["fig4"]
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        sub = t.groupby(["method", "environments"])["shd_normalised"].mean().unstack(0)
        for m in sub.columns:
            ax.plot(sub.index, sub[m], marker="o", label=m)
        ax.set(title="multivariate binary, 3 nodes", xlabel="environments (2 rows each)", ylabel="normalised SHD", ylim=(0, 1))
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(f"{img_dir}/exchangeable_fig4.png", dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials and points")
    parser.add_argument("--part", nargs="+", default=["speed", "level", "fig3", "fig4", "beyond", "sinkpower"])
    parser.add_argument("--img", default="docs/img")
    parser.add_argument("--json", default=None, help="write the tables as JSON here")
    args = parser.parse_args()
    args.trials = 10 if args.quick else 50
    args.vidpdag_trials = 2 if args.quick else 10
    args.cdnod_trials = 5 if args.quick else 20
    args.vidpdag_iter = 2000
    args.level_sims = 50 if args.quick else 200
    args.beyond_seeds = 3 if args.quick else 10
    args.speed_bivariate = 10 if args.quick else 100
    args.speed_multivariate = [(6, 300, 2), (4, 1000, 1)] if args.quick else [(6, 300, 10), (4, 1000, 3)]
    warnings.filterwarnings("ignore")
    print(json.dumps(machine_description(("causallearn", "jax")), default=str))
    print(f"load before: {load_average()}")
    out = {}
    parts = {"speed": part_speed, "level": part_level, "fig3": part_fig3, "fig4": part_fig4, "beyond": part_beyond}
    parts["sinkpower"] = part_sinkpower
    for name in ["speed", "level", "fig3", "fig4", "beyond", "sinkpower"]:
        if name in args.part:
            parts[name](args, out)
    plot(out, args.img)
    pd.set_option("display.width", 200)
    for name, table in out.items():
        print(f"\n## {name}")
        if name == "fig3":
            print(table.groupby(["data", "environments", "method"])["correct"].agg(["mean", "count"]).unstack(2).round(2).to_markdown())
        elif name == "fig4":
            print(table.groupby(["environments", "method"])["shd_normalised"].agg(["mean", "count"]).unstack(1).round(3).to_markdown())
        elif name == "beyond":
            cols = ["shd", "skeleton_shd", "true_edges", "right_direction", "reversed", "undirected", "extra_marks", "order_violations"]
            cols.append("seconds")
            print(table.groupby("method")[cols].agg(["mean", "std"]).round(2).to_markdown())
        else:
            print(table.round(4).to_markdown(index=False))
    print(f"\nload after: {load_average()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({k: v.to_dict(orient="records") for k, v in out.items()}, fh, default=float)


if __name__ == "__main__":
    main()
