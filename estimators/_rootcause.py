"""Root-cause ranking: which variable's mechanism changed between a normal window and a window with a fault.

One entry point, :func:`rank_root_causes`, composed of one function per phase:

- :func:`prepare_windows` checks the two windows and the graph and, for a time series, builds
  the lagged window (each variable at time ``t`` with the lagged copies its links need);
- a scorer per method (``_score_zscore``, ``_score_random_walk``, ``_score_rcd``,
  ``_score_attribution``), each mapping the prepared windows to one score per candidate,
  larger meaning more likely the root cause;
- :func:`rank_scores` turns scores (and bootstrap replicates of them) into the ranked table.

The methods:

``"attribution"``
    Fit an :class:`scm.SCM` on the normal window (the graph given) and score each node by how
    anomalous its own value is in the fault window given its parents' values: the mean over the
    fault rows of its conditional anomaly score (:func:`estimators.anomaly_scores`, the
    information-theoretic score of DoWhy-GCM). A node whose mechanism changed has anomalous noise;
    a node downstream of it only inherits anomalous inputs, which its parents explain.
``"shapley"``
    The same model; ``n_anomalies`` fault rows drawn at random (the most anomalous ones would be
    those where the target's own noise is largest), and the Shapley attribution of the target's
    anomaly score to the noise of each of its ancestors (:func:`estimators.attribute_anomalies`,
    DoWhy-GCM's ``attribute_anomalies``), averaged over them; for a time series the share of a
    lagged copy (the variable's past value) goes to its variable.
``"distribution_change"``
    The same model; each ancestor of ``target`` scored by how much of the change of the
    target's distribution the change of its mechanism explains
    (:func:`estimators.attribute_distribution_change`).
``"random_walk"``
    Random walk with restart over the graph from the target (or the most changed node) towards
    the causes, as in MicroCause / CloudRanger and the root-cause step of Mulan: a node's
    weight is its absolute correlation with the target (or with the fault indicator) over both
    windows; the walker moves to a parent with probability proportional to the parent's weight,
    back to a child with a tenth of that, stays by the weight it has over its best parent;
    the score is the stationary probability.
``"zscore"``
    The largest deviation of a variable in the fault window from the normal window's mean, in
    units of the normal window's standard deviation (N-sigma).
``"rcd"``
    The changing-node test of RCD (Ikram et al., 2022): with the fault window as an
    intervention indicator ``F``, a variable is a root cause when it depends on ``F`` given its
    parents (its changing module, as in CD-NOD). With a graph the parents are read from it;
    without one every conditioning set of at most ``max_conditioning`` other variables is tried
    and the largest p-value kept, RCD's local search. The score is ``-log10(p)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

import scm
from scm import DataError, GraphError, LaggedGraph, NotFittedError, ParameterError, UnknownNodeError
from scm._bootstrap import check_alpha, check_n_bootstrap
from scm._scale import center_scale, safe_std, standardise
from scm._validation import check_in_range, check_numeric_frame, check_option, check_random_state

__all__ = ["rank_root_causes", "prepare_windows", "rank_scores", "RootCauseWindows", "ROOT_CAUSE_METHODS", "RCD_TESTS"]

#: The methods of :func:`rank_root_causes`.
ROOT_CAUSE_METHODS = ("attribution", "shapley", "distribution_change", "random_walk", "zscore", "rcd")

#: The built-in independence tests of the ``"rcd"`` method (a callable is accepted too).
RCD_TESTS = ("fisherz", "gsquare")

_NEEDS_GRAPH = ("attribution", "shapley", "distribution_change", "random_walk")
_NEEDS_DAG = ("attribution", "shapley", "distribution_change")
_NEEDS_TARGET = ("shapley", "distribution_change")
_MIN_NORMAL_ROWS = 10
_FORWARD_WEIGHT = 0.1  # the random walk's step back to a child, relative to the child's weight (MicroCause's rho)
_LN10 = np.log(10.0)


@dataclass(frozen=True)
class RootCauseWindows:
    """The two windows of :func:`rank_root_causes`, checked and, for a time series, lagged.

    Attributes
    ----------
    kind : {"static", "time_series"}
    variables : list
        The variables (the columns of the windows as given).
    candidates : list
        The variables that may be the root cause: all of them, or the target and its ancestors.
    normal, fault : pandas.DataFrame
        The windows as the scorers see them. Static: the columns as given. Time series: one row
        per time point with a full past (the first ``tau_max`` rows of each window are dropped),
        the variables at time ``t`` under their own names and the lagged copies a link needs
        as ``"name[t-k]"``.
    dag : networkx.DiGraph or None
        The graph over the columns of ``normal`` (lagged copies are parentless); None without a graph.
    summary : networkx.DiGraph or None
        The graph over the variables (the summary graph of a time series; may have cycles).
    parents : dict
        ``{variable: [columns of normal]}``, what each variable's mechanism reads (its
        parents, with undirected contemporaneous neighbours of a time series); None without a graph.
    target : hashable or None
    lagged : dict
        ``{column: (variable, lag)}`` for the lagged copies of a time series (empty for static data).
    """

    kind: str
    variables: list
    candidates: list
    normal: pd.DataFrame
    fault: pd.DataFrame
    dag: nx.DiGraph | None
    summary: nx.DiGraph | None
    parents: dict | None
    target: Hashable | None
    lagged: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- phase 1: the windows
def _lag_name(node, lag: int) -> str:
    return f"{node}[t-{lag}]"


def _check_graph_nodes(graph_nodes, columns: list, owner: str) -> None:
    graph_nodes = list(graph_nodes)
    missing = [n for n in graph_nodes if n not in columns]
    if missing:
        raise UnknownNodeError(f"{owner}: graph node(s) {missing[:10]} are not columns of the windows (columns: {columns[:10]})")
    extra = [c for c in columns if c not in graph_nodes]
    if extra:
        raise UnknownNodeError(
            f"{owner}: column(s) {extra[:10]} of the windows are not nodes of the graph; drop them or add them to the graph"
        )


def _windows(normal, fault, min_normal: int, min_fault: int, owner: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    normal = check_numeric_frame(normal, name=f"{owner} normal window", min_rows=min_normal, allow_constant=False)
    fault = check_numeric_frame(fault, name=f"{owner} fault window", min_rows=min_fault)
    cols = list(normal.columns)
    missing = [c for c in cols if c not in fault.columns]
    extra = [c for c in fault.columns if c not in cols]
    if missing or extra:
        raise UnknownNodeError(
            f"{owner}: the windows have different columns (missing from the fault window: {missing[:10]}; "
            f"only in the fault window: {extra[:10]})"
        )
    return normal, fault[cols]


def _lagged_frame(window: pd.DataFrame, needed: dict, tau_max: int) -> pd.DataFrame:
    """The window at time t (rows tau_max..) with the lagged copies ``{name[t-k]: (node, k)}``."""
    n = len(window) - tau_max
    frame = {c: window[c].to_numpy()[tau_max:] for c in window.columns}
    for name, (node, lag) in needed.items():
        frame[name] = window[node].to_numpy()[tau_max - lag : tau_max - lag + n]
    return pd.DataFrame(frame, index=window.index[tau_max:])


def _time_series_windows(normal, fault, graph: LaggedGraph, owner: str):
    """The lagged windows, the window DAG and each variable's parents (as columns of the lagged window)."""
    cols = list(normal.columns)
    tau = graph.tau_max
    for what, w, need in (("normal", normal, tau + _MIN_NORMAL_ROWS), ("fault", fault, tau + 1)):
        if len(w) < need:
            raise DataError(
                f"{owner} {what} window has {len(w)} rows; at least {need} are needed "
                f"(tau_max = {tau} of them give the first time point its past)"
            )
    dag = nx.DiGraph()
    dag.add_nodes_from(cols)
    needed, parents = {}, {c: [] for c in cols}
    for s, t, lag in sorted(graph.lagged_links, key=repr):
        name = _lag_name(s, lag)
        if name in cols:
            raise GraphError(f"{owner}: the lagged copy {name!r} of {s!r} has the name of a column; rename that column")
        needed[name] = (s, lag)
        dag.add_edge(name, t)
        parents[t].append(name)
    for s, t in graph.directed_contemporaneous:
        dag.add_edge(s, t)
        parents[t].append(s)
    for e in graph.undirected_contemporaneous | graph.conflicting_edges:
        a, b = tuple(e)
        parents[a].append(b)
        parents[b].append(a)
    return _lagged_frame(normal, needed, tau), _lagged_frame(fault, needed, tau), dag, parents, needed


def _candidates(summary: nx.DiGraph | None, variables: list, target, owner: str) -> list:
    if target is None:
        return list(variables)
    if target not in variables:
        raise UnknownNodeError(f"{owner}: target {target!r} is not a variable of the windows (variables: {variables[:10]})")
    if summary is None:
        return list(variables)
    anc = nx.ancestors(summary, target) - {target}
    if not anc:
        raise GraphError(
            f"{owner}: target {target!r} has no ancestors in the graph, so there is nothing upstream to rank; "
            "its own mechanism is the only candidate (use target=None to rank every variable)"
        )
    return [v for v in variables if v in anc or v == target]


def prepare_windows(normal, fault, graph=None, *, target=None, method: str = "zscore") -> RootCauseWindows:
    """Check the two windows and the graph; for a time series, build the lagged window (phase 1).

    Parameters
    ----------
    normal, fault : pandas.DataFrame
        The window of normal operation and the window with the fault: numeric, the same
        columns (in any order), no NaN. The normal window needs at least 10 rows (plus
        ``tau_max`` for a time series), the fault window at least 1 (plus ``tau_max``).
    graph : networkx.DiGraph, scm.LaggedGraph or None
        Over the columns of the windows. A :class:`scm.LaggedGraph` makes the data a time
        series. A DAG is required by ``method="attribution"`` and ``"distribution_change"``
        (for a time series: every contemporaneous edge directed).
    target : hashable, optional
        Restrict the candidates to the target and its ancestors.
    method : str
        One of :data:`ROOT_CAUSE_METHODS` (what the graph must be depends on it).

    Returns
    -------
    RootCauseWindows

    Raises
    ------
    DataError
        A window that is not numeric, holds NaN / inf, or has too few rows (naming it); a constant
        column in the normal window (it has no normal variation to compare the fault with).
    UnknownNodeError
        Windows with different columns, a graph node that is not a column or a column that
        is not a node, a target that is not a variable.
    GraphError
        A target without ancestors; a graph with a cycle or an undirected edge where the
        method needs a DAG; a missing graph where the method needs one.

    Examples
    --------
    >>> import pandas as pd
    >>> from scm import LaggedGraph
    >>> w = pd.DataFrame({"A": range(12), "B": range(0, 24, 2)}, dtype=float)
    >>> prep = prepare_windows(w, w + 1, LaggedGraph(["A", "B"], directed=[("A", "B", 1)]))
    >>> list(prep.normal.columns), prep.parents["B"]
    (['A', 'B', 'A[t-1]'], ['A[t-1]'])
    """
    owner = "rank_root_causes"
    check_option(method, ROOT_CAUSE_METHODS, name="method", owner=owner)
    if graph is None and method in _NEEDS_GRAPH:
        raise GraphError(f"{owner}: method {method!r} needs a graph (a networkx.DiGraph, or a scm.LaggedGraph for a time series)")
    if isinstance(graph, LaggedGraph):
        normal, fault = _windows(normal, fault, 1, 1, owner)
        variables = list(normal.columns)
        _check_graph_nodes(graph.nodes, variables, owner)
        if method in _NEEDS_DAG and (graph.undirected_contemporaneous or graph.conflicting_edges):
            bad = sorted(tuple(sorted(map(str, e))) for e in graph.undirected_contemporaneous | graph.conflicting_edges)
            raise GraphError(
                f"{owner}: method {method!r} fits an SCM, which needs every contemporaneous edge directed; "
                f"these are not: {bad[:10]} (orient them, e.g. with background knowledge, or use method='rcd' or 'random_walk')"
            )
        n_lag, f_lag, dag, parents, lagged = _time_series_windows(normal, fault, graph, owner)
        summary = graph.summary_graph()
        if method in _NEEDS_DAG:
            scm.check_dag(dag)
        return RootCauseWindows("time_series", variables, _candidates(summary, variables, target, owner), n_lag, f_lag, dag,
                                summary, parents, target, lagged)  # fmt: skip
    normal, fault = _windows(normal, fault, _MIN_NORMAL_ROWS, 1, owner)
    variables = list(normal.columns)
    if graph is None:
        return RootCauseWindows("static", variables, _candidates(None, variables, target, owner), normal, fault, None, None, None, target)
    if not isinstance(graph, nx.DiGraph):
        graph = scm.as_dag(graph)  # a mapping node -> parents, checked
    _check_graph_nodes(graph.nodes, variables, owner)
    if method in _NEEDS_DAG or method == "rcd":
        scm.check_dag(graph)
    parents = {v: list(graph.predecessors(v)) for v in variables}
    return RootCauseWindows("static", variables, _candidates(graph, variables, target, owner), normal, fault, graph, graph, parents,
                            target)  # fmt: skip


# --------------------------------------------------------------------------- phase 2: one scorer per method
def _score_zscore(win: RootCauseWindows) -> pd.Series:
    """N-sigma: the largest ``|x - mean| / std`` of each candidate in the fault window (std of the normal window)."""
    cols = win.candidates
    normal = win.normal[cols].to_numpy(dtype=float)
    mu, _ = center_scale(normal, cols, owner="rank_root_causes")
    sd = safe_std(normal, ddof=1)
    dev = np.abs(win.fault[cols].to_numpy(dtype=float) - mu).max(axis=0)
    return pd.Series(dev / sd, index=cols)  # the normal window has no constant column: sd > 0


def _standardised(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns centred and scaled without overflow (the tests and correlations below are scale-free)."""
    values = frame.to_numpy(dtype=float)
    loc, scale = center_scale(values, list(frame.columns), owner="rank_root_causes", what="column")
    return pd.DataFrame(standardise(values, loc, scale), index=frame.index, columns=frame.columns)


def _abs_corr(x: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``|corr(x, Y[:, j])|`` for every column (0 for a constant column)."""
    xc = x - x.mean()
    Yc = Y - Y.mean(axis=0)
    den = np.sqrt((xc @ xc) * (Yc * Yc).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, np.abs(xc @ Yc) / den, 0.0)
    return np.clip(r, 0.0, 1.0)


def _score_random_walk(win: RootCauseWindows, restart: float) -> pd.Series:
    """Personalised PageRank towards the causes, weights from correlations (see the module docstring)."""
    vs = win.variables
    both = _standardised(pd.concat([win.normal[vs], win.fault[vs]], ignore_index=True)).to_numpy()
    if win.target is not None:
        w = _abs_corr(both[:, vs.index(win.target)], both)
        w[vs.index(win.target)] = 1.0
    else:
        indicator = np.r_[np.zeros(len(win.normal)), np.ones(len(win.fault))]
        w = _abs_corr(indicator, both)
    pos = {v: i for i, v in enumerate(vs)}
    n = len(vs)
    P = np.zeros((n, n))
    for v in vs:
        i = pos[v]
        pa = [pos[p] for p in win.summary.predecessors(v) if p != v]
        ch = [pos[c] for c in win.summary.successors(v) if c != v]
        P[i, pa] = w[pa]
        P[i, ch] = _FORWARD_WEIGHT * w[ch]
        P[i, i] = max(0.0, w[i] - (w[pa].max() if pa else 0.0))
        if P[i].sum() <= 0:
            P[i, i] = 1.0
    P /= P.sum(axis=1, keepdims=True)
    start = np.zeros(n)
    start[pos[win.target] if win.target is not None else int(np.argmax(w))] = 1.0
    # Stationary distribution of "restart to start w.p. restart, else one step of P": pi = restart e + (1 - restart) P^T pi.
    pi = np.linalg.solve(np.eye(n) - (1.0 - restart) * P.T, restart * start)
    return pd.Series(pi, index=vs)[win.candidates]


def _residualise(y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones(len(y)), Z])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def _fisherz_logp(x: np.ndarray, f: np.ndarray, Z: np.ndarray) -> float:
    """log p of the Fisher-z test of ``x _||_ f | Z`` (partial correlation, two-sided)."""
    rx, rf = _residualise(x, Z), _residualise(f, Z)
    den = np.sqrt((rx @ rx) * (rf @ rf))
    r = 0.0 if den <= 0 else float(np.clip((rx @ rf) / den, -1 + 1e-15, 1 - 1e-15))
    dof = len(x) - Z.shape[1] - 3
    if dof < 1:
        return 0.0
    z = abs(np.arctanh(r)) * np.sqrt(dof)
    return float(np.log(2.0) + stats.norm.logsf(z))


def _bins(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Quantile bins 0..n_bins-1 (fewer for a column with few distinct values)."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right")


def _gsquare_logp(x: np.ndarray, f: np.ndarray, Z: np.ndarray, n_bins: int) -> float:
    """log p of the G-test of ``x _||_ f | Z`` on quantile-binned data (RCD's discrete test), stratified by Z's bins."""
    xb = _bins(x, n_bins)
    strata = np.zeros(len(x), dtype=np.int64)
    for j in range(Z.shape[1]):
        strata = strata * (n_bins + 1) + _bins(Z[:, j], n_bins)
    g2, dof = 0.0, 0
    for s in np.unique(strata):
        m = strata == s
        table = np.zeros((xb.max() + 1, 2))
        np.add.at(table, (xb[m], f[m].astype(np.int64)), 1.0)
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        if table.shape[0] < 2 or table.shape[1] < 2:
            continue
        expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
        nz = table > 0
        g2 += 2.0 * float((table[nz] * np.log(table[nz] / expected[nz])).sum())
        dof += (table.shape[0] - 1) * (table.shape[1] - 1)
    return 0.0 if dof == 0 else float(stats.chi2.logsf(g2, dof))


def _rcd_logp(ci_test, n_bins: int) -> Callable:
    if ci_test == "fisherz":
        return _fisherz_logp
    if ci_test == "gsquare":
        return lambda x, f, Z: _gsquare_logp(x, f, Z, n_bins)

    def logp(x, f, Z):
        p = float(ci_test(x, f, Z))
        if not (np.isfinite(p) and 0.0 <= p <= 1.0):
            raise ParameterError(f"rank_root_causes: the ci_test callable returned {p!r}; a p-value in [0, 1] was expected")
        return float(np.log(max(p, 1e-300)))

    return logp


def _score_rcd(win: RootCauseWindows, ci_test, max_conditioning: int, n_bins: int) -> pd.Series:
    """-log10 p of ``X _||_ F | S``: S the parents, or the largest p over RCD's small conditioning sets without a graph."""
    data = pd.concat([win.normal, win.fault], ignore_index=True)
    if not callable(ci_test):
        data = _standardised(data)
    f = np.r_[np.zeros(len(win.normal)), np.ones(len(win.fault))]
    logp = _rcd_logp(ci_test, n_bins)
    scores = {}
    for v in win.candidates:
        x = data[v].to_numpy()
        if win.parents is not None:
            sets = [win.parents[v]]
        else:
            others = [u for u in win.variables if u != v]
            sets = [list(S) for k in range(max_conditioning + 1) for S in itertools.combinations(others, k)]
        scores[v] = -max(logp(x, f, data[S].to_numpy().reshape(len(x), -1)) for S in sets) / _LN10
    return pd.Series(scores)[win.candidates]


def _fit_model(win: RootCauseWindows, model, mechanism, rng):
    if model is not None:
        return model
    return scm.SCM.fit(win.dag, win.normal, mechanism=mechanism, random_state=rng)


def _score_attribution(win: RootCauseWindows, model, method: str, mechanism, n_anomalies: int, rng) -> pd.Series:
    """Attribution on an SCM fitted on the normal window (see the module docstring)."""
    from ._attribution import anomaly_scores, attribute_anomalies, attribute_distribution_change

    fitted = _fit_model(win, model, mechanism, rng)
    if method == "distribution_change":
        values = attribute_distribution_change(fitted, win.normal, win.fault, win.target, random_state=rng).contributions.abs()
    elif method == "attribution":
        values = anomaly_scores(fitted, win.fault[fitted.nodes], random_state=rng).mean(axis=0)
    else:  # "shapley": a random subset of the fault rows (its most anomalous rows would select the target's own noise)
        rows = np.sort(rng.choice(len(win.fault), size=min(n_anomalies, len(win.fault)), replace=False))
        contributions = attribute_anomalies(fitted, win.target, win.fault.iloc[rows], random_state=rng).contributions
        values = contributions.mean(axis=0) if isinstance(contributions, pd.DataFrame) else contributions
        # a lagged copy's noise is the variable's past value: its share goes to the variable
        values = values.groupby(lambda c: win.lagged.get(c, (c, 0))[0]).sum()
    return values.astype(float).reindex(win.candidates).fillna(0.0)


def _scores(
    win: RootCauseWindows, method: str, *, model, mechanism, restart, ci_test, max_conditioning, n_bins, n_anomalies, rng
) -> pd.Series:
    if method == "zscore":
        return _score_zscore(win)
    if method == "random_walk":
        return _score_random_walk(win, restart)
    if method == "rcd":
        return _score_rcd(win, ci_test, max_conditioning, n_bins)
    return _score_attribution(win, model, method, mechanism, n_anomalies, rng)


# --------------------------------------------------------------------------- phase 3: the table
def rank_scores(scores: pd.Series, replicates: pd.DataFrame | None = None, *, alpha: float = 0.05) -> pd.DataFrame:
    """Rank candidates by score, largest first; with bootstrap replicates, how often each ranks first and in the top 3.

    Parameters
    ----------
    scores : pandas.Series
        One score per candidate (index: the candidates).
    replicates : pandas.DataFrame, optional
        One row per bootstrap replicate, one column per candidate.
    alpha : float
        The percentile interval of the replicates' scores covers ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        Indexed by node (name ``"node"``), sorted by rank: ``score``, ``rank`` (1 = the most
        likely root cause; ties share the best rank) and, with replicates,
        ``rank1_frequency``, ``top3_frequency``, ``score_low``, ``score_high``.

    Raises
    ------
    ParameterError
        ``scores`` not a Series, ``replicates`` not a DataFrame, ``alpha`` not in (0, 1).
    DataError
        A score that is NaN, infinite or not a number.
    UnknownNodeError
        A candidate without a column in ``replicates``.

    Examples
    --------
    >>> import pandas as pd
    >>> rank_scores(pd.Series({"A": 0.5, "B": 2.0}))
          score  rank
    node
    B       2.0     1
    A       0.5     2
    """
    owner = "rank_scores"
    alpha = check_alpha(alpha, owner=owner)
    if not isinstance(scores, pd.Series):
        raise ParameterError(
            f"The 'scores' parameter of {owner} must be a pandas Series (one score per candidate); got {type(scores).__name__} instead."
        )
    scores = check_numeric_frame(scores.to_frame("score"), name=f"{owner} scores", allow_nan=False)["score"]
    if replicates is not None:
        if not isinstance(replicates, pd.DataFrame):
            raise ParameterError(
                f"The 'replicates' parameter of {owner} must be a pandas DataFrame; got {type(replicates).__name__} instead."
            )
        missing = [c for c in scores.index if c not in replicates.columns]
        if missing:
            raise UnknownNodeError(f"{owner}: candidate(s) {missing[:10]} have no column in the replicates")
    table = pd.DataFrame({"score": scores.astype(float)})
    table["rank"] = table["score"].rank(ascending=False, method="min").astype(np.int64)
    if replicates is not None and len(replicates):
        ranks = replicates.rank(axis=1, ascending=False, method="min")
        table["rank1_frequency"] = (ranks == 1).mean(axis=0)
        table["top3_frequency"] = (ranks <= 3).mean(axis=0)
        table["score_low"] = replicates.quantile(alpha / 2, axis=0)
        table["score_high"] = replicates.quantile(1 - alpha / 2, axis=0)
    table.index.name = "node"
    return table.sort_values(["rank"], kind="stable")


def _resample(frame: pd.DataFrame, rng) -> pd.DataFrame:
    return frame.iloc[rng.integers(0, len(frame), len(frame))].reset_index(drop=True)


def rank_root_causes(
    normal,
    fault,
    graph=None,
    *,
    target=None,
    method: str = "attribution",
    model=None,
    mechanism="linear",
    restart: float = 0.15,
    ci_test="fisherz",
    max_conditioning: int = 1,
    n_bins: int = 5,
    n_anomalies: int = 10,
    n_bootstrap: int = 0,
    alpha: float = 0.05,
    random_state=None,
) -> pd.DataFrame:
    """Rank the variables that may have caused a fault: whose mechanism changed between two windows.

    Given a window of normal operation and a window with a fault (static rows, or a time
    series with a :class:`scm.LaggedGraph`), score every candidate variable, largest score
    first. The methods are described in :mod:`estimators._rootcause`; in short:
    ``"attribution"`` (an SCM fitted on the normal window: how anomalous each node's own noise
    is, given its parents), ``"shapley"`` (the Shapley attribution of the target's anomaly to
    its ancestors' noise), ``"distribution_change"`` (mechanism-change attribution of the
    target's distribution), and the baselines a user
    compares against: ``"random_walk"`` (random walk with restart on the graph, Mulan /
    MicroCause style), ``"zscore"`` (largest deviation) and ``"rcd"`` (RCD's changing-node test,
    the fault window as an intervention indicator).

    Learning the graph is the caller's step (estimators do not import discovery): for a time
    series fit ``discovery.PCMCIPlus`` on the normal window and pass its ``graph_``; the
    command line does both (``scmkit``'s root-cause helper).

    Parameters
    ----------
    normal, fault : pandas.DataFrame
        The two windows (same columns, numeric, no NaN; the normal window at least 10 rows).
    graph : networkx.DiGraph, scm.LaggedGraph or None
        The causal graph over the columns; a :class:`scm.LaggedGraph` for a time series. Needed
        by every method but ``"zscore"`` and ``"rcd"``.
    target : hashable, optional
        The variable that alerted. Candidates are then the target and its ancestors; required by
        ``"shapley"`` and ``"distribution_change"`` (the variable whose anomaly or change they explain).
    method : {"attribution", "shapley", "distribution_change", "random_walk", "zscore", "rcd"}
    model : scm.SCM, optional
        For the attribution methods on static data: a model already fitted
        (on the normal window); default: ``SCM.fit(graph, normal, mechanism=mechanism)``.
    mechanism : str or mapping
        The mechanisms fitted when no model is given (as in :meth:`scm.SCM.fit`).
    restart : float
        ``"random_walk"``: probability of jumping back to the start node, in (0, 1).
    ci_test : {"fisherz", "gsquare"} or callable
        ``"rcd"``: the test of ``X _||_ F | S``: Fisher-z on the partial correlation, a G-test on
        quantile-binned data (``n_bins`` bins, as RCD discretises), or a callable
        ``(x, f, Z) -> p-value`` on arrays of shapes ``(n,)``, ``(n,)``, ``(n, k)``.
    max_conditioning : int
        ``"rcd"`` without a graph: the largest conditioning set tried.
    n_bins : int
        ``"rcd"`` with ``ci_test="gsquare"``: bins per variable (>= 2).
    n_anomalies : int
        ``"shapley"``: how many fault rows (drawn at random) to attribute.
    n_bootstrap : int
        0 (no bootstrap) or the number of replicates (>= 2): both windows are resampled by rows
        (rows of the lagged window for a time series) and the method rerun (the model refitted,
        unless given as ``model``).
    alpha : float
        The bootstrap interval of each score covers ``1 - alpha``.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        Indexed by candidate (``"node"``), sorted by rank: ``score``, ``rank`` (1 = the most
        likely root cause) and, with ``n_bootstrap``, ``rank1_frequency``, ``top3_frequency``,
        ``score_low``, ``score_high``. ``attrs`` holds ``method``, ``target``, ``kind`` and
        ``n_bootstrap``.

    Raises
    ------
    ParameterError
        An unknown method or test, an out-of-range parameter, a ``model`` given for a time series,
        no ``target`` for ``"shapley"`` or ``"distribution_change"``.
    NotFittedError
        A ``model`` that is not a fitted :class:`scm.SCM`.
    DataError
        A window that is not numeric, holds NaN / inf or has too few rows; a constant column in
        the normal window.
    UnknownNodeError
        A target or graph node that is not a column, windows with different columns.
    GraphError
        A missing graph where the method needs one, a target without ancestors, a graph that is
        not a DAG where the method fits an SCM.

    Examples
    --------
    >>> from scm.simulate import fault_dataset
    >>> case = fault_dataset("static", "shift", n_nodes=6, random_state=0)
    >>> table = rank_root_causes(case.normal, case.fault, case.graph, method="rcd")
    >>> table.index[0] == case.root_cause
    True
    >>> rank_root_causes(case.normal, case.fault, method="zscore").columns.tolist()
    ['score', 'rank']
    """
    owner = "rank_root_causes"
    check_option(method, ROOT_CAUSE_METHODS, name="method", owner=owner)
    check_in_range(restart, name="restart", low=0, high=1, owner=owner)
    if not callable(ci_test):
        check_option(ci_test, RCD_TESTS, name="ci_test", owner=owner)
    check_in_range(max_conditioning, name="max_conditioning", low=0, inclusive="left", integer=True, owner=owner)
    check_in_range(n_bins, name="n_bins", low=2, inclusive="left", integer=True, owner=owner)
    n_bootstrap = check_n_bootstrap(n_bootstrap, owner=owner)
    alpha = check_alpha(alpha, owner=owner)
    check_in_range(n_anomalies, name="n_anomalies", low=1, inclusive="left", integer=True, owner=owner)
    if method in _NEEDS_TARGET and target is None:
        raise ParameterError(
            f"The 'target' parameter of {owner} is required by method={method!r} (the variable whose anomaly or change to explain)."
        )
    if model is not None:
        if not isinstance(model, scm.SCM):
            raise NotFittedError(
                f"The 'model' parameter of {owner} must be a fitted scm.SCM (scm.SCM.fit(graph, normal)); "
                f"got {type(model).__name__} instead."
            )
        if isinstance(graph, LaggedGraph):
            raise ParameterError(
                f"The 'model' parameter of {owner} is for static data; for a time series the model is fitted on the lagged window"
            )
        if graph is None:
            graph = model.graph
    rng = check_random_state(random_state)
    win = prepare_windows(normal, fault, graph, target=target, method=method)
    if model is not None:
        _check_graph_nodes(model.nodes, win.variables, owner)
    options = {"model": model, "mechanism": mechanism, "restart": float(restart), "ci_test": ci_test,
               "max_conditioning": int(max_conditioning), "n_bins": int(n_bins), "n_anomalies": int(n_anomalies)}  # fmt: skip
    scores = _scores(win, method, rng=rng, **options)
    replicates = None
    if n_bootstrap:
        rows = []
        for _ in range(n_bootstrap):
            boot = replace(win, normal=_resample(win.normal, rng), fault=_resample(win.fault, rng))
            rows.append(_scores(boot, method, rng=rng, **options))
        replicates = pd.DataFrame(rows).reset_index(drop=True)
    table = rank_scores(scores, replicates, alpha=alpha)
    table.attrs.update({"method": method, "target": target, "kind": win.kind, "n_bootstrap": n_bootstrap})
    return table
