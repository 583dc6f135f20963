"""Causal de Finetti (Guo, Tóth, Schölkopf, Huszár, NeurIPS 2023): the unique DAG from grouped data.

In an ICM generative process the parameter ``theta_v`` of each node's mechanism is drawn once
per group and shared by the group's rows. In the graph of two rows of one group
(:func:`two_sample_graph`) ``theta_v`` is a latent parent of ``v^(1)`` and ``v^(2)``, and
cross-sample independences orient every edge:

- bivariate: ``X -> Y`` iff ``X^(1) _||_ Y^(2) | X^(2)`` and not ``Y^(1) _||_ X^(2) | Y^(2)``
  (:func:`bivariate_tests`, :func:`bivariate_rule`);
- multivariate: among the remaining nodes ``R``, ``j`` is a sink iff
  ``X_j^(1) _||_ X_k^(2) | X_{R - j}^(1)`` for every other ``k`` in ``R``; removing the sinks
  layer by layer gives a topological order (:func:`sink_layers`), and within it an edge
  ``j -> k`` is a dependence of ``X_j^(1)`` and ``X_k^(1)`` given a set of non-descendants of
  ``k`` that holds its parents (:func:`layer_edges`).
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import networkx as nx
import numpy as np
import pandas as pd

from scm._exceptions import ParameterError
from scm._validation import check_in_range

from .._base import Interval, Options, ParamsMixin, ci_test_constraints
from ._pairs import PAIRINGS, combine_pvalues, pair_samples, split_groups, two_sample_frames, two_sample_names

__all__ = ["CausalDeFinetti", "PROCEDURES", "bivariate_tests", "bivariate_rule", "sink_layers", "layer_edges"]

logger = logging.getLogger(__name__)

#: Which identification procedure :class:`CausalDeFinetti` runs.
PROCEDURES = ("auto", "bivariate", "multivariate")
_DIRECTIONS = ("X -> Y", "Y -> X", "none")
_COLUMNS = ["phase", "step", "x", "y", "cond", "pvalue", "independent"]


def _as_tests(tests, nodes, owner: str) -> list:
    """The tests as a list, each with the two-sample columns of ``nodes`` first (positions ``j``, ``d + j``)."""
    tests = list(tests) if isinstance(tests, (list, tuple)) else [tests]
    if not tests or not all(hasattr(t, "pvalues") and hasattr(t, "variables") for t in tests):
        raise ParameterError(f"{owner}: tests must be a CITest or a non-empty list of them (one per layer of pairs)")
    names = two_sample_names(nodes)
    for t in tests:
        head = list(t.variables)[: len(names)]
        if head != names:
            raise ParameterError(
                f"{owner}: each test must have the two-sample columns {names[:6]}{' ...' if len(names) > 6 else ''} first "
                f"(two_sample_names(nodes)); got {head[:6]}"
            )
    return tests


def _run(tests, queries) -> np.ndarray:
    """Combined p-values of ``queries`` (positions) over the layers: one batched call per layer."""
    if not queries:
        return np.empty(0)
    return combine_pvalues(np.stack([np.asarray(t.pvalues(queries), dtype=float) for t in tests]))


def _record(phase: str, step: int, queries, pvalues, names, alpha: float) -> pd.DataFrame:
    rows = [
        (phase, step, names[x], names[y], tuple(names[c] for c in s), float(p), bool(p > alpha)) for (x, y, s), p in zip(queries, pvalues)
    ]
    return pd.DataFrame(rows, columns=_COLUMNS)


# --------------------------------------------------------------------------- bivariate
def bivariate_tests(tests, names) -> pd.DataFrame:
    """The three tests of the bivariate rule, on two-sample frames of ``(X, Y)``.

    ``X^(1) _||_ Y^(2) | X^(2)`` (true when ``X -> Y``), ``Y^(1) _||_ X^(2) | Y^(2)`` (true
    when ``Y -> X``) and ``X^(1) _||_ Y^(1)`` (true when there is no edge).

    Parameters
    ----------
    tests : CITest or list of CITest
        One per layer, each on the four columns :func:`two_sample_names` of ``(X, Y)`` (or an
        oracle whose first four variables are those).
    names : pair of str
        The two nodes, in the order of the tests' columns.

    Returns
    -------
    pandas.DataFrame
        Three rows, ``phase = "bivariate"``, ``step`` 0 (X -> Y), 1 (Y -> X), 2 (no edge),
        with the combined p-values.

    Examples
    --------
    >>> from discovery.citest import DSeparation
    >>> from discovery.exchangeable import two_sample_graph
    >>> oracle = DSeparation(two_sample_graph({"X": [], "Y": ["X"]}))
    >>> bivariate_tests(oracle, ["X", "Y"])["pvalue"].tolist()
    [1.0, 0.0, 0.0]
    """
    names = list(names)
    if len(names) != 2:
        raise ParameterError(f"bivariate_tests: names must be two nodes; got {names!r}")
    tests = _as_tests(tests, names, "bivariate_tests")
    queries = [(0, 3, [2]), (1, 2, [3]), (0, 1, [])]
    p = _run(tests, queries)
    labels = two_sample_names(names)
    table = _record("bivariate", 0, queries, p, labels, 0.0)
    table["step"] = [0, 1, 2]
    table["pvalue"] = np.where(p > 1 - 1e-12, 1.0, np.where(p < 1e-12, 0.0, p))  # the oracle's exact 0 / 1
    return table.drop(columns="independent")


def bivariate_rule(p_xy: float, p_yx: float, p_ind: float, *, alpha: float = 0.05) -> str:
    """The paper's bivariate decision from the three p-values of :func:`bivariate_tests`.

    ``"X -> Y"`` when only the first test accepts independence and the marginal test rejects
    it; ``"Y -> X"`` symmetrically; ``"none"`` when all three accept; otherwise the hypothesis
    whose independence has the largest p-value.

    Examples
    --------
    >>> bivariate_rule(0.6, 0.001, 0.0)
    'X -> Y'
    >>> bivariate_rule(0.01, 0.02, 0.3)
    'none'
    """
    for name, value in (("p_xy", p_xy), ("p_yx", p_yx), ("p_ind", p_ind), ("alpha", alpha)):
        if not isinstance(value, Real) or not 0 <= value <= 1:
            raise ParameterError(f"The {name!r} parameter of bivariate_rule must be a number in [0, 1]; got {value!r} instead.")
    keep = (p_xy >= alpha, p_yx >= alpha, p_ind >= alpha)
    if keep == (True, False, False):
        return "X -> Y"
    if keep == (False, True, False):
        return "Y -> X"
    if keep == (True, True, True):
        return "none"
    return _DIRECTIONS[int(np.argmax([p_xy, p_yx, p_ind]))]


# --------------------------------------------------------------------------- multivariate
def sink_layers(tests, nodes, *, alpha: float = 0.05) -> tuple[list[list], pd.DataFrame]:
    """Phase 1: the topological layers, sinks first, by cross-sample tests.

    Among the remaining nodes ``R``, ``j`` is a sink iff ``X_j^(1) _||_ X_k^(2) | X_{R - j}^(1)``
    for every ``k`` in ``R - j`` (all p-values ``>= alpha``); the sinks form the next layer and
    leave ``R``. One batched call per layer of pairs and per round. If no node passes (a
    finite-sample failure), the node with the largest smallest p-value forms the layer alone.

    Parameters
    ----------
    tests : CITest or list of CITest
        One per layer of pairs, on the columns :func:`two_sample_names` of ``nodes`` (positions
        ``j`` and ``d + j``), or an oracle on :func:`two_sample_graph`.
    nodes : list
        The variables, in the order of the tests' columns.
    alpha : float, default 0.05

    Returns
    -------
    order : list of list
        The layers, sinks first.
    pvalues : pandas.DataFrame
        One row per test, ``phase = "sink"``, ``step`` the round.

    Examples
    --------
    >>> from discovery.citest import DSeparation
    >>> from discovery.exchangeable import two_sample_graph
    >>> dag = {"A": [], "B": ["A"], "C": ["A", "B"]}
    >>> order, _ = sink_layers(DSeparation(two_sample_graph(dag)), ["A", "B", "C"])
    >>> order
    [['C'], ['B'], ['A']]
    """
    nodes = list(nodes)
    tests = _as_tests(tests, nodes, "sink_layers")
    check_in_range(alpha, name="alpha", low=0, high=1, owner="sink_layers")
    d = len(nodes)
    labels = two_sample_names(nodes)
    remaining, order, tables = list(range(d)), [], []
    step = 0
    while remaining:
        if len(remaining) == 1:
            order.append([nodes[remaining[0]]])
            break
        queries = [(j, d + k, [r for r in remaining if r != j]) for j in remaining for k in remaining if k != j]
        p = _run(tests, queries)
        tables.append(_record("sink", step, queries, p, labels, alpha))
        smallest = {j: np.inf for j in remaining}
        for (j, _, _), pv in zip(queries, p):
            smallest[j] = min(smallest[j], pv)
        layer = [j for j in remaining if smallest[j] >= alpha]
        if not layer:
            layer = [max(remaining, key=lambda j: smallest[j])]
            logger.info("sink_layers: no node passes at round %d; taking %s (largest smallest p-value)", step, nodes[layer[0]])
        order.append([nodes[j] for j in layer])
        remaining = [j for j in remaining if j not in layer]
        step += 1
    return order, (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=_COLUMNS))


def layer_edges(tests, nodes, order, *, alpha: float = 0.05) -> tuple[nx.DiGraph, pd.DataFrame]:
    """Phase 2: the edges between layers, by tests within sample (1).

    For ``j`` in layer ``n`` and ``k`` in a lower layer ``m < n`` (layers numbered from the
    sinks), ``j -> k`` iff ``X_j^(1)`` and ``X_k^(1)`` are dependent given ``Z``: the layers
    above ``n`` and, when ``n - m >= 2``, also the rest of layer ``n`` and the parents of ``k``
    already found in the layers between. ``Z`` holds every parent of ``k`` but ``j`` and no
    descendant of ``k``, so without the edge the independence holds (local Markov property);
    pairs are processed by increasing ``n - m``, one batched call per distance.

    Parameters
    ----------
    tests : CITest or list of CITest
        As in :func:`sink_layers`.
    nodes : list
    order : list of list
        The layers of :func:`sink_layers`, sinks first.
    alpha : float, default 0.05

    Returns
    -------
    graph : networkx.DiGraph
        A DAG on ``nodes``.
    pvalues : pandas.DataFrame
        One row per test, ``phase = "edge"``, ``step`` the distance ``n - m``.

    Examples
    --------
    >>> from discovery.citest import DSeparation
    >>> from discovery.exchangeable import two_sample_graph
    >>> dag = {"A": [], "B": ["A"], "C": ["A", "B"]}
    >>> graph, _ = layer_edges(DSeparation(two_sample_graph(dag)), ["A", "B", "C"], [["C"], ["B"], ["A"]])
    >>> sorted(graph.edges)
    [('A', 'B'), ('A', 'C'), ('B', 'C')]
    """
    nodes = list(nodes)
    tests = _as_tests(tests, nodes, "layer_edges")
    check_in_range(alpha, name="alpha", low=0, high=1, owner="layer_edges")
    index = {v: i for i, v in enumerate(nodes)}
    layers = [[index[v] for v in layer] for layer in order]
    if sorted(i for layer in layers for i in layer) != list(range(len(nodes))):
        raise ParameterError("layer_edges: order must list every node exactly once")
    labels = two_sample_names(nodes)
    layer_of = {i: li for li, layer in enumerate(layers) for i in layer}
    parents: dict[int, set] = {i: set() for i in range(len(nodes))}
    tables = []
    for dist in range(1, len(layers)):
        queries = []
        for m in range(len(layers) - dist):
            n = m + dist
            above = [i for layer in layers[n + 1 :] for i in layer]
            for j in layers[n]:
                for k in layers[m]:
                    cond = set(above)
                    if dist >= 2:
                        cond |= {i for i in layers[n] if i != j}
                        cond |= {p for p in parents[k] if m < layer_of[p] < n}
                    queries.append((j, k, sorted(cond)))
        p = _run(tests, queries)
        tables.append(_record("edge", dist, queries, p, labels, alpha))
        for (j, k, _), pv in zip(queries, p):
            if pv < alpha:
                parents[k].add(j)
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((nodes[j], nodes[k]) for k, ps in parents.items() for j in sorted(ps))
    return graph, (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=_COLUMNS))


# --------------------------------------------------------------------------- estimator
class CausalDeFinetti(ParamsMixin):
    """Causal de Finetti: the unique causal DAG of grouped (exchangeable) data.

    Each group (environment, subject, batch) has its own mechanism parameters, drawn
    independently per node (the ICM principle); rows of one group share them. Tests across two
    rows of the same group orient every edge, beyond the Markov equivalence class of PC (Guo
    et al., NeurIPS 2023). Two variables: the bivariate rule (:func:`bivariate_tests`,
    :func:`bivariate_rule`). More: sink layers (:func:`sink_layers`), then edges
    (:func:`layer_edges`).

    Rows are paired within groups (:func:`discovery.exchangeable.pair_samples`): a layer takes
    one ordered pair per group, its observations are i.i.d., and each test runs on each layer;
    the layers' p-values are combined by the Cauchy combination
    (:func:`discovery.exchangeable.combine_pvalues`). See ``docs/exchangeable.md``.

    Parameters
    ----------
    ci_test : {"kci", "fisherz", "gsq", "chisq"} or CITest, default "kci"
        The CI test, run by the batched engine of :mod:`discovery.citest` on each layer's
        two-sample frame; or an instance whose first ``2 d`` variables are the two-sample
        columns (e.g. ``DSeparation(two_sample_graph(dag))``, the oracle), used for every layer.
    alpha : float, default 0.05
        Level of every test, in (0, 1).
    pairing : {"disjoint", "all", "first", "rest"}, default "disjoint"
        How rows are paired within groups (see :func:`discovery.exchangeable.pair_samples`).
        ``"rest"`` compares each row with the sum of the rest of its group: more power with
        larger groups, for the multivariate procedure only (the sink tests hold for any
        function of the other rows; the bivariate tests condition on sample (2) and do not).
    procedure : {"auto", "bivariate", "multivariate"}, default "auto"
        ``"auto"``: the bivariate rule for two variables (the multivariate procedure with
        ``pairing="rest"``), the multivariate procedure otherwise.
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test`` is a name.
    random_state : int, default 0
        Seed of the within-group shuffles.

    Attributes
    ----------
    graph_ : networkx.DiGraph
        The learned DAG (fully directed).
    order_ : list of list
        The topological layers, sinks first (bivariate: from the decided direction).
    pvalues_ : pandas.DataFrame
        Every cross-sample test: ``phase`` ("bivariate", "sink", "edge"), ``step``, ``x``,
        ``y``, ``cond`` (two-sample variable names such as ``"X^(1)"``), ``pvalue`` (combined
        over the layers), ``independent`` (``pvalue > alpha``).
    direction_ : str or None
        Two variables: ``"<cause> -> <effect>"`` or ``"none"``; None otherwise.
    n_layers_ : int
        Layers of pairs used.
    n_groups_ : int
    n_tests_ : int
    feature_names_in_ : numpy.ndarray of str

    Examples
    --------
    >>> from scm.simulate import grouped
    >>> ds = grouped({"A": [], "B": ["A"]}, n_groups=300, group_size=2, kind="binary", random_state=0)
    >>> model = CausalDeFinetti(ci_test="gsq").fit(ds.data, groups="group")
    >>> sorted(model.graph_.edges), model.direction_
    ([('A', 'B')], 'A -> B')
    """

    def __init__(
        self,
        *,
        ci_test="kci",
        alpha: float = 0.05,
        pairing: str = "disjoint",
        procedure: str = "auto",
        ci_test_kwargs: dict | None = None,
        random_state: int = 0,
    ):
        self.ci_test = ci_test
        self.alpha = alpha
        self.pairing = pairing
        self.procedure = procedure
        self.ci_test_kwargs = ci_test_kwargs
        self.random_state = random_state

    _parameter_constraints = {
        **ci_test_constraints(("kci", "fisherz", "gsq", "chisq")),
        "alpha": Interval(Real, 0, 1),
        "pairing": Options(PAIRINGS),
        "procedure": Options(PROCEDURES),
        "random_state": Interval(Integral, 0, None, closed="left"),
    }

    def _tests(self, frames: list, names: list) -> list:
        from ..citest import resolve_ci_test

        if isinstance(self.ci_test, str):
            return [resolve_ci_test(self.ci_test, self.ci_test_kwargs, f, owner="CausalDeFinetti") for f in frames]
        resolve_ci_test(self.ci_test, self.ci_test_kwargs, None, owner="CausalDeFinetti")  # options with an instance
        return [self.ci_test]  # the phases check its columns

    def fit(self, data, groups="group") -> CausalDeFinetti:
        """Learn the DAG of grouped ``data``.

        Parameters
        ----------
        data : pandas.DataFrame or array of shape (n_rows, n_columns)
            Column names become node names.
        groups : str or array-like, default "group"
            The column of ``data`` holding the group labels (removed from the variables), or
            the labels (one per row). Every group needs at least 2 rows; at least 5 groups.

        Returns
        -------
        CausalDeFinetti
            ``self``.

        Raises
        ------
        ParameterError
            An invalid parameter (named, with its allowed values).
        UnknownNodeError
            ``groups`` names no column.
        DataError
            A group of one row, fewer than 5 groups (a constant groups column), NaN in the
            labels or the data, non-numeric columns.
        """
        self._validate_params()
        variables, codes = split_groups(data, groups)
        nodes = list(variables.columns)
        procedure = self.procedure
        if procedure == "auto":
            procedure = "bivariate" if len(nodes) == 2 else "multivariate"
        if procedure == "bivariate" and len(nodes) != 2:
            raise ParameterError(f"procedure='bivariate' needs exactly 2 variables; got {len(nodes)}: {nodes[:10]}")
        if procedure == "bivariate" and self.pairing == "rest":
            if self.procedure == "bivariate":
                raise ParameterError(
                    "pairing='rest' needs procedure='multivariate': the bivariate tests condition on sample (2), which a sum "
                    "of rows does not summarise"
                )
            procedure = "multivariate"
        layers = pair_samples(codes, pairing=self.pairing, random_state=self.random_state)
        names = two_sample_names(nodes)
        tests = self._tests(two_sample_frames(variables, layers) if isinstance(self.ci_test, str) else [], names)
        logger.info("CausalDeFinetti: %d variables, %d groups, %d layer(s) of pairs", len(nodes), codes.max() + 1, len(layers))
        graph = nx.DiGraph()
        graph.add_nodes_from(nodes)
        self.direction_ = None
        if procedure == "bivariate":
            table = bivariate_tests(tests, nodes)
            decision = bivariate_rule(*table["pvalue"].tolist(), alpha=float(self.alpha))
            table["independent"] = table["pvalue"] > self.alpha
            x, y = nodes
            self.direction_ = {"X -> Y": f"{x} -> {y}", "Y -> X": f"{y} -> {x}"}.get(decision, "none")
            if decision == "X -> Y":
                graph.add_edge(x, y)
                self.order_ = [[y], [x]]
            elif decision == "Y -> X":
                graph.add_edge(y, x)
                self.order_ = [[x], [y]]
            else:
                self.order_ = [[x, y]]
        else:
            self.order_, sinks = sink_layers(tests, nodes, alpha=float(self.alpha))
            graph, edges = layer_edges(tests, nodes, self.order_, alpha=float(self.alpha))
            table = pd.concat([sinks, edges], ignore_index=True)
            if len(nodes) == 2:
                self.direction_ = " -> ".join(map(str, next(iter(graph.edges)))) if graph.number_of_edges() else "none"
        self.graph_ = graph
        self.pvalues_ = table.reset_index(drop=True)
        self.n_tests_ = int(len(table)) * len(tests)
        self.n_layers_ = len(tests)
        self.n_groups_ = int(codes.max()) + 1
        self.feature_names_in_ = np.asarray([str(v) for v in nodes], dtype=object)
        return self
