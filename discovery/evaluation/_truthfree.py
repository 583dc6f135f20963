"""What a comparison can say without a true graph: edges, agreement, consensus, held-out fit.

On real data nobody knows the true graph, so SHD, SID and precision / recall cannot be
computed. :func:`discovery.compare` then reports, per algorithm and dataset, what needs no
truth:

- :func:`edge_counts`: the edges of the learned graph by kind (directed, undirected,
  bidirected; lagged and contemporaneous for time series);
- :func:`agreement_matrix`: the SHD between the outputs of every pair of algorithms on the
  same data (0: they agree);
- :func:`edge_frequencies` and :func:`consensus_graph`: how many of the algorithms found each
  edge, and the graph of the edges most of them found;
- :func:`heldout_loglik`: how well each learned graph predicts held-out rows: the
  cross-validated log-likelihood, per row, of a linear-Gaussian SCM fitted on the graph
  (scm's fitting phases, as in :func:`~discovery.evaluation.check_mechanisms`), so that graphs can be
  ranked by prediction.

Every DAG of a Markov equivalence class defines the same set of linear-Gaussian
distributions, and the maximum-likelihood fit of that set is the same distribution
whichever DAG of the class parametrises it; a CPDAG is therefore scored through any
consistent extension (:func:`scm.consistent_extension`), and the score does not depend on
which. A graph with bidirected edges, a directed cycle or no consistent extension is not a
DAG model: it has no score (:class:`scm.GraphError` naming the reason).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from scm import PDAG, LaggedGraph
from scm._cpdag import _extension
from scm._exceptions import DataError, GraphError, ParameterError, UnknownNodeError
from scm._validation import as_dataframe, check_in_range, check_random_state

from .._utils import standardize

__all__ = [
    "edge_counts",
    "heldout_loglik",
    "agreement_matrix",
    "edge_frequencies",
    "consensus_graph",
    "as_graph_object",
    "TRUTH_FREE_METRICS",
    "MAX_CONTEXT_LEVELS",
]

logger = logging.getLogger(__name__)

#: The columns :func:`discovery.compare` adds when a dataset has no true graph (``n_lagged`` and
#: ``n_contemporaneous`` only for time-series graphs, ``stability`` only with ``n_bootstrap > 0``,
#: ``mean_shd_to_others`` only when several algorithms ran on the dataset).
TRUTH_FREE_METRICS = (
    "n_edges",
    "n_directed",
    "n_undirected",
    "n_bidirected",
    "n_lagged",
    "n_contemporaneous",
    "stability",
    "mean_shd_to_others",
    "heldout_loglik",
    "heldout_loglik_se",
)

#: A context (environment) column with at most this many levels enters the fitted SCM as
#: one indicator per level but the first; one with more levels (a time index) as one numeric column.
MAX_CONTEXT_LEVELS = 20

# --------------------------------------------------------------------------- graphs
def as_graph_object(graph):
    """A learned graph as a PDAG or LaggedGraph (a DiGraph becomes an all-directed PDAG).

    Examples
    --------
    >>> import networkx as nx
    >>> as_graph_object(nx.DiGraph([("A", "B")]))
    PDAG(nodes=['A', 'B'], edges=['A -> B'])
    """
    if isinstance(graph, (PDAG, LaggedGraph)):
        return graph
    if isinstance(graph, nx.Graph):
        return PDAG.from_networkx(graph)
    raise GraphError(f"cannot score a graph of type {type(graph).__name__}; give a DiGraph, PDAG or LaggedGraph")


def edge_counts(graph) -> dict:
    """The edges of a graph by kind.

    Parameters
    ----------
    graph : networkx.DiGraph, scm.PDAG or scm.LaggedGraph

    Returns
    -------
    dict
        ``n_edges``, ``n_directed``, ``n_undirected`` and ``n_bidirected``; a lagged graph adds
        ``n_lagged`` (links from the past, lag >= 1) and ``n_contemporaneous`` (edges within a
        time step), and its ``n_bidirected`` counts the contemporaneous edges with conflicting
        orientations (``x-x``, PCMCI+'s counterpart of PC's ``<->``).

    Raises
    ------
    GraphError
        If ``graph`` is not a graph.

    Examples
    --------
    >>> from scm import PDAG, LaggedGraph
    >>> edge_counts(PDAG(["A", "B", "C"], directed=[("A", "B")], undirected=[("B", "C")]))
    {'n_edges': 2, 'n_directed': 1, 'n_undirected': 1, 'n_bidirected': 0}
    >>> edge_counts(LaggedGraph(["X", "Y"], directed=[("X", "Y", 1), ("X", "X", 1)], undirected=[("X", "Y")]))["n_lagged"]
    2
    """
    g = as_graph_object(graph)
    if isinstance(g, LaggedGraph):
        kinds = [kind for *_, kind in g.edges()]
        n_lagged = len(g.lagged_links)
        return {
            "n_edges": len(kinds),
            "n_directed": kinds.count("directed"),
            "n_undirected": kinds.count("undirected"),
            "n_bidirected": kinds.count("conflict"),
            "n_lagged": n_lagged,
            "n_contemporaneous": len(kinds) - n_lagged,
        }
    return {
        "n_edges": len(g.edges()),
        "n_directed": len(g.directed_edges),
        "n_undirected": len(g.undirected_edges),
        "n_bidirected": len(g.bidirected_edges),
    }


def _named_graphs(graphs, owner: str) -> dict:
    """name -> PDAG / LaggedGraph from a mapping or a list (named 0, 1, ...); all of one type."""
    if isinstance(graphs, Mapping):
        items = dict(graphs)
    elif isinstance(graphs, (list, tuple)):
        items = dict(enumerate(graphs))
    else:
        raise ParameterError(f"{owner} takes a mapping name -> graph or a list of graphs; got {type(graphs).__name__}")
    if not items:
        raise ParameterError(f"{owner} needs at least one graph; got none")
    out = {name: as_graph_object(g) for name, g in items.items()}
    lagged = {name for name, g in out.items() if isinstance(g, LaggedGraph)}
    if lagged and len(lagged) != len(out):
        plain = [name for name in out if name not in lagged]
        raise GraphError(f"{owner} cannot mix time-series graphs ({sorted(map(str, lagged))}) with others ({sorted(map(str, plain))})")
    return out


def _restrict(g, nodes):
    """``g`` on the nodes of ``nodes`` it has (in its own order), edges between them only."""
    keep = [n for n in g.nodes if n in nodes]
    inside = set(keep)
    if isinstance(g, LaggedGraph):
        directed = [(s, t, lag) for s, t, lag in g.lagged_links if s in inside and t in inside]
        directed += [(s, t, 0) for s, t in g.directed_contemporaneous if s in inside and t in inside]
        undirected = [tuple(e) for e in g.undirected_contemporaneous if e <= inside]
        conflicting = [tuple(e) for e in g.conflicting_edges if e <= inside]
        return LaggedGraph(keep, directed, undirected, conflicting, tau_max=g.tau_max)
    return PDAG(keep, [e for e in g.directed_edges if set(e) <= inside], [tuple(e) for e in g.undirected_edges if e <= inside],
                [tuple(e) for e in g.bidirected_edges if e <= inside])


def _distance(a, b) -> float:
    """SHD between two learned graphs of one type, on the nodes they share."""
    from ..metrics import shd
    from ..timeseries import lagged_metrics

    common = set(a.nodes) & set(b.nodes)
    if not common:
        raise GraphError("the graphs share no node: their distance is undefined")
    a, b = _restrict(a, common), _restrict(b, common)
    return float(lagged_metrics(a, b)["shd"]) if isinstance(a, LaggedGraph) else float(shd(a, b))


def agreement_matrix(graphs) -> pd.DataFrame:
    """The SHD between every pair of graphs learned on the same data: how much algorithms agree.

    Parameters
    ----------
    graphs : mapping name -> graph, or a list of graphs
        DiGraphs / PDAGs (compared with :func:`discovery.metrics.shd`) or lagged graphs (with
        :func:`discovery.timeseries.lagged_metrics`), not a mix. Nodes that only some graphs
        have (CD-NOD's context node) are left out of the pairs that lack them: two graphs
        are compared on the nodes they share.

    Returns
    -------
    pandas.DataFrame
        Symmetric, zero on the diagonal, rows and columns named as ``graphs``.

    Raises
    ------
    ParameterError
        No graph, or not a mapping / list.
    GraphError
        Something that is not a graph, a mix of lagged and non-lagged graphs, or two graphs
        that share no node.

    Examples
    --------
    >>> import networkx as nx
    >>> agreement_matrix({"a": nx.DiGraph([("X", "Y")]), "b": nx.DiGraph([("Y", "X")]), "c": nx.DiGraph([("X", "Y")])})
         a    b    c
    a  0.0  1.0  0.0
    b  1.0  0.0  1.0
    c  0.0  1.0  0.0
    """
    items = _named_graphs(graphs, "agreement_matrix")
    names = list(items)
    m = np.zeros((len(names), len(names)))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            m[i, j] = m[j, i] = _distance(items[names[i]], items[names[j]])
    return pd.DataFrame(m, index=names, columns=names)


# --------------------------------------------------------------------------- consensus
def _marks(g) -> dict:
    """link -> mark. PDAG: pair -> ("directed", a, b) / ("undirected",) / ("bidirected",); a lagged
    graph: lagged links (source, target, lag) -> ("directed",) and contemporaneous pairs as a PDAG's
    (``("conflict",)`` for x-x)."""
    out: dict = {}
    if isinstance(g, LaggedGraph):
        for s, t, lag, kind in g.edges():
            if lag > 0:
                out[(s, t, lag)] = ("directed",)
            else:
                out[frozenset((s, t))] = ("directed", s, t) if kind == "directed" else (kind,)
        return out
    for a, b, kind in g.edges():
        out[frozenset((a, b))] = ("directed", a, b) if kind == "directed" else (kind,)
    return out


def _tally(items: dict):
    """(nodes in first-seen order, link -> {mark: count}, link -> number of graphs having both endpoints)."""
    nodes: list = []
    for g in items.values():
        nodes += [n for n in g.nodes if n not in set(nodes)]
    counts: dict = {}
    for g in items.values():
        for link, mark in _marks(g).items():
            counts.setdefault(link, {}).setdefault(mark, 0)
            counts[link][mark] += 1
    node_sets = [set(g.nodes) for g in items.values()]
    eligible = {}
    for link in counts:
        ends = set(link[:2]) if isinstance(link, tuple) else set(link)
        eligible[link] = sum(ends <= s for s in node_sets)
    return nodes, counts, eligible


def edge_frequencies(graphs) -> pd.DataFrame:
    """How many graphs have each edge, with each mark: a tidy table.

    Parameters
    ----------
    graphs : mapping name -> graph, or a list of graphs
        As in :func:`agreement_matrix` (e.g. the outputs of several algorithms on one dataset).

    Returns
    -------
    pandas.DataFrame
        One row per edge and mark: ``source``, ``target``, ``kind`` (``"directed"``,
        ``"undirected"``, ``"bidirected"``; ``"conflict"`` for lagged graphs), ``lag`` (lagged
        graphs only), ``count`` (graphs with that edge and mark) and ``frequency`` (``count``
        over the graphs that have both endpoints as nodes), most frequent first. Undirected,
        bidirected and conflicting edges list their endpoints in node order.

    Raises
    ------
    ParameterError, GraphError
        As :func:`agreement_matrix`.

    Examples
    --------
    >>> from scm import PDAG
    >>> edge_frequencies([PDAG("XYZ", directed=[("X", "Y")]), PDAG("XYZ", directed=[("X", "Y")], undirected=[("Y", "Z")])])
      source target        kind  count  frequency
    0      X      Y    directed      2        1.0
    1      Y      Z  undirected      1        0.5
    """
    items = _named_graphs(graphs, "edge_frequencies")
    lagged = isinstance(next(iter(items.values())), LaggedGraph)
    nodes, counts, eligible = _tally(items)
    pos = {n: i for i, n in enumerate(nodes)}
    rows = []
    for link, marks in counts.items():
        for mark, count in marks.items():
            if mark[0] == "directed" and len(mark) == 3:
                s, t, lag = mark[1], mark[2], 0
            elif isinstance(link, tuple):
                s, t, lag = link
            else:
                s, t = sorted(link, key=pos.__getitem__)
                lag = 0
            row = {"source": s, "target": t, "kind": mark[0], "lag": lag, "count": count,
                   "frequency": count / eligible[link]}
            rows.append(row)
    columns = ["source", "target", "kind", "lag", "count", "frequency"]
    frame = pd.DataFrame(rows, columns=columns)
    if not lagged:
        frame = frame.drop(columns="lag")
    if len(frame):
        order = sorted(range(len(frame)), key=lambda i: (-frame["frequency"].iat[i], pos[frame["source"].iat[i]],
                                                         pos[frame["target"].iat[i]], frame["kind"].iat[i]))
        frame = frame.iloc[order].reset_index(drop=True)
    frame["count"] = frame["count"].astype(int)
    frame["frequency"] = frame["frequency"].astype(float)
    return frame


def consensus_graph(graphs, threshold: float = 0.5):
    """The edges that more than ``threshold`` of the graphs have, with their majority mark.

    A pair of nodes (for lagged graphs: a lagged link, or a contemporaneous pair) is an edge of
    the consensus when the share of graphs adjacent there exceeds ``threshold`` (the share is
    over the graphs that have both nodes, so that CD-NOD's context edges are weighed among the
    graphs that could have them). Its mark is the one a strict majority of those graphs give
    it; with no majority (say one algorithm says ``A -> B`` and another ``B -> A``) the
    edge is undirected: the graphs agree on the adjacency, not on its orientation. (The consensus
    of bootstrap resamples, :meth:`discovery.BootstrapResult.consensus`, keeps what at least
    ``threshold`` of many resamples found; among a handful of algorithms a strict majority is
    asked, so that one algorithm out of two is no consensus.)

    Parameters
    ----------
    graphs : mapping name -> graph, or a list of graphs
        As in :func:`agreement_matrix`.
    threshold : float in [0, 1), default 0.5
        The share of graphs an adjacency needs to exceed (0.5: a strict majority).

    Returns
    -------
    scm.PDAG or scm.LaggedGraph
        Over every node of any graph. It summarises what the graphs agree on; it need not be
        a CPDAG, nor acyclic.

    Raises
    ------
    ParameterError
        A ``threshold`` outside [0, 1), or no graph.
    GraphError
        As :func:`agreement_matrix`.

    Examples
    --------
    >>> from scm import PDAG
    >>> graphs = [PDAG("XYZ", directed=[("X", "Y"), ("Y", "Z")]), PDAG("XYZ", directed=[("Y", "X")]),
    ...           PDAG("XYZ", directed=[("X", "Y")])]
    >>> consensus_graph(graphs)  # X, Y adjacent in 3 of 3 graphs, X -> Y in 2; Y -> Z in 1 of 3 only
    PDAG(nodes=['X', 'Y', 'Z'], edges=['X -> Y'])
    >>> consensus_graph(graphs[:2], threshold=0.4)  # adjacent in both, no majority for a direction
    PDAG(nodes=['X', 'Y', 'Z'], edges=['Y -> Z', 'X - Y'])
    """
    threshold = check_in_range(threshold, name="threshold", low=0.0, high=1.0, inclusive="left", owner="consensus_graph")
    items = _named_graphs(graphs, "consensus_graph")
    lagged = isinstance(next(iter(items.values())), LaggedGraph)
    nodes, counts, eligible = _tally(items)
    directed, undirected, other = [], [], []
    for link, marks in counts.items():
        total = sum(marks.values())
        if total / eligible[link] <= threshold:
            continue
        mark, top = max(marks.items(), key=lambda kv: kv[1])
        if 2 * top <= total:
            mark = ("undirected",)
        if isinstance(link, tuple):  # a lagged link
            directed.append(link)
        elif mark[0] == "directed":
            directed.append((mark[1], mark[2], 0) if lagged else (mark[1], mark[2]))
        elif mark[0] == "undirected":
            undirected.append(tuple(link))
        else:
            other.append(tuple(link))
    if lagged:
        tau = max(g.tau_max for g in items.values())
        return LaggedGraph(nodes, directed, undirected, other, tau_max=tau)
    return PDAG(nodes, directed, undirected, other)


# --------------------------------------------------------------------------- held-out likelihood
def _scoring_dag(graph, context=None) -> nx.DiGraph:
    """A DAG of the graph's equivalence class (context edges oriented out of the context).

    Any DAG of the class gives the same score, so the arbitrary orientation is not warned about
    (``scm._cpdag._extension``: :func:`scm.consistent_extension` without its OrientationWarning).
    """

    if graph.bidirected_edges:
        pairs = sorted(tuple(sorted(map(str, e))) for e in graph.bidirected_edges)[:3]
        raise GraphError(f"the graph has {len(graph.bidirected_edges)} bidirected (<->) edge(s), e.g. {pairs}: it is not a DAG "
                         "or CPDAG, so no SCM is fitted on it")
    if context is not None and context in graph.nodes:  # the context is exogenous by construction
        touching = [e for e in graph.undirected_edges if context in e]
        touching += [frozenset(e) for e in graph.directed_edges if e[1] == context]
        if touching:
            out = [(context, next(iter(e - {context}))) for e in touching]
            graph = graph.without_edges(touching).with_edges(directed=out)
    try:
        return _extension(graph)[0]
    except GraphError as exc:
        raise GraphError(f"no DAG to fit: {exc}") from None


def _context_columns(values: pd.Series, name) -> tuple[np.ndarray, np.ndarray]:
    """(design columns of the context, its level codes for stratified folds)."""
    if values.isna().any():
        raise DataError(f"context column {name!r} holds NaN; every row needs its environment")
    codes, levels = pd.factorize(values, sort=True)
    if len(levels) < 2:
        raise DataError(f"context column {name!r} has a single level ({levels[0]!r}): there is no environment to condition on")
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if len(levels) > MAX_CONTEXT_LEVELS and numeric:
        z, _, _ = standardize(values.to_numpy(dtype=float)[:, None], [name], owner="heldout_loglik")
        return z, codes
    return (codes[:, None] == np.arange(1, len(levels))[None, :]).astype(float), codes


def _fold_ids(n: int, n_folds: int, rng: np.random.Generator, strata=None, ordered: bool = False) -> np.ndarray:
    """Fold of each row: contiguous blocks for time series, else shuffled within each stratum."""
    if ordered:
        return np.arange(n) * n_folds // n
    strata = np.zeros(n, dtype=int) if strata is None else np.asarray(strata)
    ids = np.empty(n, dtype=int)
    offset = 0
    for level in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == level))
        ids[rows] = (offset + np.arange(len(rows))) % n_folds
        offset += len(rows)
    return ids


def _gaussian_loglik(dag: nx.DiGraph, frame: pd.DataFrame, scored: list, folds: np.ndarray, n_folds: int) -> np.ndarray:
    """Per-row held-out log-density of the ``scored`` columns under a linear-Gaussian SCM fitted on the other
    folds: the out-of-fold fits of :func:`~discovery.evaluation.check_mechanisms` (``scm.fit_mechanism`` and a
    Gaussian ``scm.fit_noise`` per node), summed over the scored nodes."""
    from ._check import _out_of_fold

    tests = [np.flatnonzero(folds == f) for f in range(n_folds)]
    oof = _out_of_fold(dag, frame, {}, "linear", tests, np.random.default_rng(0))  # "linear" draws nothing
    for node in scored:
        if not np.isfinite(oof[node]["loglik"]).all():
            raise DataError(f"node {node!r} is an exact function of its parents in the training rows (zero residual "
                            "variance): its held-out density is undefined")
    return np.sum([oof[node]["loglik"] for node in scored], axis=0)


def _iid_problem(g: PDAG, frame: pd.DataFrame, context):
    """(DAG, design frame, scored nodes, strata, log-scale sum, variables) of a graph over i.i.d. rows.

    The design's columns have internal names (``v<i>`` for the variables, ``c<j>`` for the context's
    indicators), so that no user column name can collide with them.
    """
    variables = [c for c in frame.columns if c != context]
    extra = [n for n in g.nodes if n not in variables and n != context]
    if extra:
        raise UnknownNodeError(f"graph node(s) {extra[:10]} are not columns of the data (columns: {list(frame.columns)[:10]})")
    unseen = [v for v in variables if v not in set(g.nodes)]
    if unseen:
        hint = "" if context is not None else "; pass context= to name an environment column"
        raise DataError(f"data column(s) {unseen[:10]} are not nodes of the graph: score a graph over every variable{hint}")
    values = frame[variables]
    from scm._validation import check_numeric_frame

    values = check_numeric_frame(values, name="data", min_rows=2, allow_constant=False)
    z, _, scale = standardize(values.to_numpy(dtype=float), variables, owner="heldout_loglik")
    names = {v: f"v{i}" for i, v in enumerate(variables)}
    design = pd.DataFrame(z, columns=[names[v] for v in variables])
    strata = None
    dag = _scoring_dag(g, context)
    edges = [(names[a], names[b]) for a, b in dag.edges if a in names and b in names]
    if context is not None:
        ctx, strata = _context_columns(frame[context], context)
        cnames = [f"c{j}" for j in range(ctx.shape[1])]
        for j, c in enumerate(cnames):
            design[c] = ctx[:, j]
        if context in dag:
            edges += [(c, names[child]) for child in dag.successors(context) for c in cnames]
    out = nx.DiGraph()
    out.add_nodes_from(design.columns)
    out.add_edges_from(edges)
    return out, design, [names[v] for v in variables], strata, float(np.log(scale).sum()), variables


def _lagged_problem(g: LaggedGraph, frame: pd.DataFrame):
    """(window DAG, lagged design, scored time-t nodes, log-scale sum, variables) of a lagged graph."""

    variables = list(frame.columns)
    if set(g.nodes) != set(variables):
        differ = sorted(map(str, set(g.nodes) ^ set(variables)))[:10]
        raise UnknownNodeError(f"the lagged graph's nodes and the data's columns differ in {differ}")
    if g.conflicting_edges:
        pairs = sorted(tuple(sorted(map(str, e))) for e in g.conflicting_edges)[:3]
        raise GraphError(f"the graph has {len(g.conflicting_edges)} contemporaneous edge(s) with conflicting orientations "
                         f"(x-x), e.g. {pairs}: no DAG to fit")
    from scm._validation import check_numeric_frame

    values = check_numeric_frame(frame, name="data", min_rows=2, allow_constant=False)
    z, _, scale = standardize(values.to_numpy(dtype=float), variables, owner="heldout_loglik")
    tau = g.tau_max
    n = len(z) - tau
    if n < 2:
        raise DataError(f"data has {len(z)} time points; a graph with lags up to {tau} needs at least {tau + 2}")
    idx = {v: i for i, v in enumerate(variables)}
    design = pd.DataFrame({f"v{i}_l{lag}": z[tau - lag: tau - lag + n, i] for lag in range(tau + 1) for i in range(len(variables))})
    directed = [(f"v{idx[s]}_l{lag}", f"v{idx[t]}_l0") for s, t, lag in g.lagged_links]
    directed += [(f"v{idx[s]}_l0", f"v{idx[t]}_l0") for s, t in g.directed_contemporaneous]
    undirected = [tuple(f"v{idx[v]}_l0" for v in e) for e in g.undirected_contemporaneous]
    try:
        dag = _extension(PDAG(list(design.columns), directed, undirected))[0]  # any DAG of the class: the same score
    except GraphError as exc:
        raise GraphError(f"no DAG to fit: {_original_names(str(exc), variables)}") from None
    return dag, design, [f"v{i}_l0" for i in range(len(variables))], float(np.log(scale).sum()), variables


def heldout_loglik(graph, data, *, n_folds: int = 5, random_state=0, context=None) -> dict:
    """Cross-validated log-likelihood per row of a linear-Gaussian SCM fitted on a graph.

    A truth-free score of a learned graph: the rows are split into ``n_folds`` folds; on each
    fold's complement a linear SCM with Gaussian noise is fitted on the graph by maximum
    likelihood (:func:`scm.fit_mechanism` and :func:`scm.fit_noise`, the out-of-fold fits of
    :func:`~discovery.evaluation.check_mechanisms`: least squares per node, the residual variance), and the
    log-density of the held-out rows under it is summed over the variables. The mean over all
    rows (each held out once) is the score: higher predicts better. Missing edges cost
    likelihood; spurious ones cost a little too, through overfitting on the training folds.

    The score is that of the graph's Markov equivalence class: every DAG of a class gives the
    same maximum-likelihood distribution, so a CPDAG is scored through a consistent extension
    and the choice does not matter.

    Parameters
    ----------
    graph : networkx.DiGraph, scm.PDAG or scm.LaggedGraph
        A DAG or CPDAG over the data's variables (and possibly the context), or a lagged graph
        over a time series' variables.
    data : pandas.DataFrame
        Numeric, finite, non-constant columns: one per variable (plus the ``context`` column).
        For a lagged graph: the series, rows in time order.
    n_folds : int >= 2, default 5
        Folds of the cross-validation. i.i.d. rows are shuffled (``random_state``), within each
        level of the context when there is one; a time series is cut into ``n_folds``
        contiguous blocks of time (the rows from ``tau_max`` on, each with its lagged window).
    random_state : int, None or numpy.random.Generator, default 0
        The shuffle of the folds: the same seed gives every graph on the same data the same
        folds (compare graphs with one seed).
    context : str, optional
        An environment / regime column of ``data``. It is conditioned on, not scored: when the
        graph has it as a node (CD-NOD), its children get one indicator per level but the first
        as parents (one numeric parent for a numeric context with more than
        :data:`MAX_CONTEXT_LEVELS` levels); its edges are taken as pointing out of it. A graph
        without the node scores the variables pooled over the environments.

    Returns
    -------
    dict
        ``heldout_loglik`` (mean log-density per row, in nats, in the units of the data: a column
        multiplied by ``c`` lowers it by ``log c``), ``heldout_loglik_se`` (its standard error
        over rows), ``n_rows`` and ``n_folds``.

    Raises
    ------
    GraphError
        A graph with bidirected (or conflicting ``x-x``) edges, a directed cycle or no consistent
        extension: not a DAG model.
    DataError
        Non-numeric, non-finite or constant data, too few rows, a variable that is not a node of
        the graph, a node that its parents determine exactly, or a fold whose fit fails (e.g. a
        constant or collinear parent in the training rows), named.
    UnknownNodeError
        A node of the graph, or ``context``, that is not a column of ``data``.
    ParameterError
        A bad ``n_folds``, ``random_state`` or ``context`` for a lagged graph.

    Examples
    --------
    >>> import networkx as nx, scm
    >>> truth = scm.SCM.from_linear([[0, 1.5, 0], [0, 0, -1.0], [0, 0, 0]], nodes=["A", "B", "C"])
    >>> data = truth.sample(500, random_state=0)
    >>> chain, empty = heldout_loglik(truth.graph, data), heldout_loglik(nx.empty_graph(["A", "B", "C"], nx.DiGraph), data)
    >>> bool(chain["heldout_loglik"] > empty["heldout_loglik"])
    True
    >>> reversed_chain = nx.DiGraph([("C", "B"), ("B", "A")])  # the same Markov equivalence class
    >>> bool(abs(heldout_loglik(reversed_chain, data)["heldout_loglik"] - chain["heldout_loglik"]) < 1e-9)
    True
    """
    n_folds = check_in_range(n_folds, name="n_folds", low=2, inclusive="left", integer=True, owner="heldout_loglik")
    rng = check_random_state(random_state)
    g = as_graph_object(graph)
    frame = as_dataframe(data, name="data")
    if frame.columns.has_duplicates:
        dup = sorted(map(str, frame.columns[frame.columns.duplicated()]))[:5]
        raise DataError(f"data has duplicated column name(s) {dup}")
    if isinstance(g, LaggedGraph):
        if context is not None:
            raise ParameterError("the 'context' parameter of heldout_loglik is for i.i.d. data; a lagged graph takes the series alone")
        dag, design, scored, log_scale, variables = _lagged_problem(g, frame)
        folds = _fold_ids(len(design), n_folds, rng, ordered=True)
    else:
        if context is not None and context not in frame.columns:
            raise UnknownNodeError(f"context column {context!r} is not a column of the data (columns: {list(frame.columns)[:10]})")
        dag, design, scored, strata, log_scale, variables = _iid_problem(g, frame, context)
        folds = _fold_ids(len(design), n_folds, rng, strata)
    if len(design) < n_folds:
        raise DataError(f"data has {len(design)} usable rows; {n_folds}-fold cross-validation needs at least {n_folds}")
    try:
        per_row = _gaussian_loglik(dag, design, scored, folds, n_folds) - log_scale
    except DataError as exc:
        raise DataError(f"heldout_loglik: {_original_names(str(exc), variables)}") from None
    n = len(per_row)
    return {
        "heldout_loglik": float(per_row.mean()),
        "heldout_loglik_se": float(per_row.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"),
        "n_rows": int(n),
        "n_folds": int(n_folds),
    }


def _original_names(text: str, variables: list) -> str:
    """An error about the internal node names ('v3', 'v3_l1', 'c0') in the data's names."""
    import re

    def name(match):
        kind, i, lag = match.group(1), int(match.group(2)), match.group(3)
        if kind == "c" or i >= len(variables):
            return "the context" if kind == "c" else match.group(0)
        return repr(f"{variables[i]}(t-{lag})") if lag not in (None, "0") else repr(variables[i])

    return re.sub(r"'([vc])(\d+)(?:_l(\d+))?'", name, text)
