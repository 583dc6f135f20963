"""Plots of learned graphs and of comparison results (matplotlib, no pyplot).

:func:`plot_graph` draws a graph -- optionally coloured against the truth:
correct edges, reversed (or differently marked) edges, extra edges and missing
ones, with a legend. :func:`plot_lagged_graph` draws a time-series graph as
tigramite does: the time-series graph (variables x lags) or the summary graph
with curved arrows labelled by their lags, links coloured by their strength. :func:`plot_comparison` draws one panel per dataset with a
bar per algorithm (mean over seeds), error bars (standard deviation over seeds)
and the individual seeds as points.

Figures are built on :class:`matplotlib.figure.Figure` directly: nothing touches
pyplot's global state or ``rcParams``, and no GUI backend is needed (rendering
is done by Agg when saving).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

from scm import PDAG, LaggedGraph
from scm._exceptions import GraphError, ParameterError
from scm._lagged import link_strengths
from scm._validation import check_option

from ._compare import check_results

__all__ = ["plot_graph", "plot_lagged_graph", "plot_comparison", "edge_status", "EDGE_COLOURS", "graph_layout"]

#: Colour of each edge status (also the legend order).
EDGE_COLOURS = {
    "correct": "#2e7d32",
    "reversed": "#ef6c00",
    "extra": "#c62828",
    "missing": "#9e9e9e",
    "edge": "#37474f",
}
_LEGEND = {
    "correct": "correct",
    "reversed": "reversed / other mark",
    "extra": "extra",
    "missing": "missing",
}
LOWER_IS_BETTER = {"shd", "sid", "sid_lower", "sid_upper", "fit_seconds"}


# --------------------------------------------------------------------------- graph -> pair marks
def _pair_marks(graph) -> tuple[list, dict, dict]:
    """(nodes, pair -> mark, pair -> label). A mark is a frozenset of ``(a, b)`` arrows
    plus ``"--"`` (undirected) / ``"<->"`` (bidirected) / ``"x-x"`` (conflicting)."""
    marks: dict = {}
    labels: dict = {}
    if isinstance(graph, LaggedGraph):
        nodes = list(graph.nodes)
        lags: dict = {}
        for s, t, lag, kind in graph.edges():
            if s == t:
                continue  # a series' own past: not drawn
            pair = frozenset((s, t))
            if kind == "directed":
                marks.setdefault(pair, set()).add((s, t))
            else:
                marks.setdefault(pair, set()).add("--" if kind == "undirected" else "x-x")
            lags.setdefault(pair, set()).add(lag)
        labels = {p: ",".join(map(str, sorted(v))) for p, v in lags.items()}
    else:
        if isinstance(graph, nx.Graph):
            graph = PDAG.from_networkx(graph)
        if not isinstance(graph, PDAG):
            raise GraphError(f"cannot plot a {type(graph).__name__}; give a DiGraph, PDAG or LaggedGraph")
        nodes = list(graph.nodes)
        for a, b, kind in graph.edges():
            pair = frozenset((a, b))
            if kind == "directed":
                marks.setdefault(pair, set()).add((a, b))
            else:
                marks.setdefault(pair, set()).add("--" if kind == "undirected" else "<->")
    return nodes, {p: frozenset(m) for p, m in marks.items()}, labels


def edge_status(graph, truth) -> dict:
    """pair (frozenset) -> ``"correct"``, ``"reversed"``, ``"extra"`` or ``"missing"``.

    ``"reversed"`` covers every pair that is adjacent in both graphs with a different
    mark (opposite direction, or directed in one and undirected in the other).

    Examples
    --------
    >>> import networkx as nx
    >>> s = edge_status(nx.DiGraph([("A", "B"), ("C", "B")]), nx.DiGraph([("A", "B"), ("B", "C"), ("A", "C")]))
    >>> sorted((sorted(p), v) for p, v in s.items())
    [(['A', 'B'], 'correct'), (['A', 'C'], 'missing'), (['B', 'C'], 'reversed')]
    """
    _, est, _ = _pair_marks(graph)
    _, tru, _ = _pair_marks(truth)
    out = {}
    for pair, mark in est.items():
        out[pair] = "extra" if pair not in tru else ("correct" if tru[pair] == mark else "reversed")
    for pair in tru.keys() - est.keys():
        out[pair] = "missing"
    return out


def graph_layout(nodes, edges=(), layout: str = "circular", seed: int = 0) -> dict:
    """Node positions: ``"circular"`` (in the given node order) or ``"spring"`` (fixed seed)."""
    if layout not in ("circular", "spring"):
        raise ParameterError(f"The 'layout' parameter must be one of ['circular', 'spring']; got {layout!r} instead.")
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    if layout == "circular" or g.number_of_nodes() < 3:
        return {n: np.asarray(p) for n, p in nx.circular_layout(g).items()}
    return {n: np.asarray(p) for n, p in nx.spring_layout(g, seed=seed, k=1.5 / math.sqrt(g.number_of_nodes())).items()}


# --------------------------------------------------------------------------- drawing
def _new_axes(figsize=(5, 5)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _draw_edge(ax, pa, pb, *, head: str, colour: str, style: str, rad: float, shrink: float, label: str | None, width: float,
               label_colour=None):
    from matplotlib.patches import FancyArrowPatch

    arrow = FancyArrowPatch(
        pa, pb, arrowstyle=head, mutation_scale=13, color=colour, linestyle=style, linewidth=width,
        shrinkA=shrink, shrinkB=shrink, connectionstyle=f"arc3,rad={rad}", zorder=1,
    )
    ax.add_patch(arrow)
    if label:
        mid = (np.asarray(pa) + np.asarray(pb)) / 2
        d = np.asarray(pb) - np.asarray(pa)
        normal = np.array([d[1], -d[0]]) * rad * 0.5  # the middle of matplotlib's arc3 curve
        ax.text(*(mid + normal), label, fontsize=7, color=colour if label_colour is None else label_colour, ha="center",
                va="center", zorder=3,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


def _frequency_of_marks(frequencies, marks: dict) -> dict:
    """pair -> the bootstrap frequency of the edge drawn for it (the largest of its marks; 0 if never found).

    ``frequencies``: a :class:`~discovery.evaluation.BootstrapResult` or its ``edges`` table.
    """
    table = getattr(frequencies, "edges", frequencies)
    need = {"source", "target", "kind", "frequency"}
    if not isinstance(table, pd.DataFrame) or not need <= set(table.columns):
        raise ParameterError("The 'frequencies' parameter of plot_graph must be a BootstrapResult or its edges table "
                             f"(columns {sorted(need)}); got {type(frequencies).__name__}.")
    found: dict = {}
    for s, t, kind, f in table[["source", "target", "kind", "frequency"]].itertuples(index=False):
        mark = (s, t) if kind == "directed" else ("--" if kind == "undirected" else "<->")
        key = (frozenset((s, t)), mark)
        found[key] = max(found.get(key, 0.0), float(f))
    conflict = {"x-x": "<->"}  # a lagged graph's conflict is counted as bidirected
    return {pair: max(found.get((pair, conflict.get(m, m)), 0.0) for m in mark) for pair, mark in marks.items()}


def plot_graph(graph, truth=None, ax=None, *, layout: str = "circular", seed: int = 0, pos: Mapping | None = None,
               title: str | None = None, legend: bool = True, node_size: float = 900, frequencies=None):
    """Draw a learned graph, coloured against the truth when given.

    Parameters
    ----------
    graph : networkx.DiGraph, scm.PDAG or scm.LaggedGraph
        Directed edges get an arrowhead, undirected ones none, bidirected two. A
        lagged graph is drawn as its summary: one edge per pair of series, labelled
        with its lags (0 = contemporaneous); a series' own past is not drawn.
    truth : same types, optional
        With a truth, edges are green (correct), orange (reversed or a different
        mark), red (extra) and missing true edges are grey and dashed; a legend says so.
    ax : matplotlib Axes, optional
        Where to draw; by default a new :class:`~matplotlib.figure.Figure` (not
        registered with pyplot) is made (``ax.figure``).
    layout : {"circular", "spring"}
        Node placement (spring with the fixed ``seed``), computed on the union of both
        graphs so that a truth and its estimate share positions. Ignored if ``pos`` is given.
    seed : int
    pos : mapping node -> (x, y), optional
        Fixed positions (e.g. to draw several estimates alike).
    title : str, optional
    legend : bool
        Whether to draw the legend (only with a truth).
    node_size : float
        Node marker area in points^2.
    frequencies : BootstrapResult or pandas.DataFrame, optional
        Bootstrap frequencies (:func:`discovery.bootstrap`, or its ``edges`` table): each
        drawn edge is labelled with the frequency of its mark and drawn wider the more
        often it was found (a lagged pair: the largest frequency of its links).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import networkx as nx
    >>> ax = plot_graph(nx.DiGraph([("A", "B"), ("C", "B")]), truth=nx.DiGraph([("A", "B"), ("B", "C")]))
    >>> sorted(t.get_text() for t in ax.get_legend().get_texts())
    ['correct', 'extra', 'missing', 'reversed / other mark']
    >>> edges = pd.DataFrame({"source": ["A", "C"], "target": ["B", "B"], "kind": ["directed"] * 2, "frequency": [0.9, 0.35]})
    >>> ax = plot_graph(nx.DiGraph([("A", "B"), ("C", "B")]), frequencies=edges)
    >>> sorted(t.get_text() for t in ax.texts if "." in t.get_text())
    ['0.35', '0.90']
    """
    from matplotlib.lines import Line2D

    nodes, marks, labels = _pair_marks(graph)
    status = {}
    tmarks = {}
    if truth is not None:
        tnodes, tmarks, _ = _pair_marks(truth)
        nodes = nodes + [n for n in tnodes if n not in set(nodes)]
        status = edge_status(graph, truth)
    if ax is None:
        ax = _new_axes()
    if pos is None:
        pairs = [tuple(p) for p in list(marks) + list(tmarks) if len(p) == 2]
        pos = graph_layout(nodes, pairs, layout=layout, seed=seed)
    missing_pos = [n for n in nodes if n not in pos]
    if missing_pos:
        raise ParameterError(f"'pos' has no position for node(s) {missing_pos[:5]}")
    shrink = math.sqrt(node_size) / 2 + 1

    def draw(pair, mark, colour, style, label, width=1.6):
        arrows = [m for m in mark if isinstance(m, tuple)]
        for m in mark:
            if isinstance(m, tuple):
                a, b = m
                rad = 0.18 if len(arrows) > 1 else 0.0
                _draw_edge(ax, pos[a], pos[b], head="-|>", colour=colour, style=style, rad=rad, shrink=shrink,
                           label=label, width=width)
                label = None
            else:
                a, b = sorted(pair, key=str)
                head = {"--": "-", "<->": "<|-|>", "x-x": "-"}[m]
                _draw_edge(ax, pos[a], pos[b], head=head, colour=colour, style=":" if m == "x-x" else style, rad=0.0,
                           shrink=shrink, label=label, width=width)
                label = None

    freq = _frequency_of_marks(frequencies, marks) if frequencies is not None else {}
    for pair, mark in marks.items():
        if len(pair) < 2:
            continue
        st = status.get(pair, "edge")
        label = labels.get(pair)
        if pair in freq:
            label = f"{freq[pair]:.2f}" if label is None else f"{label} ({freq[pair]:.2f})"
        draw(pair, mark, EDGE_COLOURS[st], "-", label, width=0.6 + 3.4 * freq[pair] if pair in freq else 1.6)
    for pair, st in status.items():
        if st == "missing" and len(pair) == 2:
            draw(pair, tmarks[pair], EDGE_COLOURS["missing"], "--", None, width=1.2)

    xy = np.array([pos[n] for n in nodes]) if nodes else np.zeros((0, 2))
    ax.scatter(xy[:, 0], xy[:, 1], s=node_size, c="#e3f2fd", edgecolors="#1565c0", linewidths=1.2, zorder=2)
    fs = 9 if max((len(str(n)) for n in nodes), default=1) <= 5 else 7
    for n in nodes:
        ax.text(*pos[n], str(n), ha="center", va="center", fontsize=fs, zorder=4)
    ax.set_aspect("equal")
    ax.margins(0.12)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    if truth is not None and legend:
        handles = [Line2D([], [], color=EDGE_COLOURS[k], linestyle="--" if k == "missing" else "-", label=_LEGEND[k])
                   for k in _LEGEND]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7, frameon=False)
    return ax


# --------------------------------------------------------------------------- time-series graphs
def _lagged_input(graph, strengths):
    """(LaggedGraph, strengths): a graph as given, or a fitted estimator's ``graph_`` and ``val_matrix_``."""
    if not isinstance(graph, LaggedGraph):
        fitted = getattr(graph, "graph_", None)
        if not isinstance(fitted, LaggedGraph):
            raise GraphError(f"plot_lagged_graph draws an scm.LaggedGraph or a fitted PCMCI / PCMCIPlus (its graph_); "
                             f"got {type(graph).__name__}")
        if strengths is None:
            strengths = getattr(graph, "val_matrix_", None)
        graph = fitted
    return graph, strengths


def _lagged_arrow(ax, pa, pb, *, kind: str, colour, rad: float, shrink: float, width: float, label=None):
    """One edge of a lagged graph: an arrow, or no heads (undirected), or dotted without heads (conflict)."""
    head = "-|>" if kind == "directed" else "-"
    _draw_edge(ax, pa, pb, head=head, colour=colour, style=":" if kind == "conflict" else "-", rad=rad, shrink=shrink,
               label=label, width=width, label_colour="#263238")


def plot_lagged_graph(graph, *, strengths=None, ax=None, style: str = "time_series", cmap: str = "RdBu_r",
                      vmax: float | None = None, colorbar: bool = True, label: str = "link strength",
                      title: str | None = None, node_size: float = 500):
    """Draw a time-series graph the way tigramite does: by lags, or as its summary.

    Parameters
    ----------
    graph : scm.LaggedGraph or a fitted PCMCI / PCMCIPlus
        The graph; a fitted estimator gives its ``graph_`` and, unless ``strengths`` is
        given, its ``val_matrix_`` as the strengths.
    strengths : array of shape (N, N, tau_max + 1) or mapping, optional
        Link strengths (tigramite's ``val_matrix``: ``strengths[i, j, lag]`` for
        ``nodes[i](t - lag) -> nodes[j](t)``; or ``(source, target, lag) -> value``);
        links are coloured by them. Without strengths the links are dark grey.
    ax : matplotlib Axes, optional
        Where to draw; by default a new :class:`~matplotlib.figure.Figure` (not registered
        with pyplot) is made (``ax.figure``).
    style : {"time_series", "summary"}
        ``"time_series"`` (tigramite's ``plot_time_series_graph``): a grid of variables (rows)
        by time steps ``t - tau_max .. t`` (columns), every link drawn at each step where
        both its ends fall in the window. ``"summary"`` (tigramite's ``plot_graph``): one
        node per variable on a circle, one curved arrow per ordered pair of variables
        labelled with its lags (0: contemporaneous), coloured by its strongest lag; a
        variable's dependence on its own past colours its node and is listed under it.
    cmap : str
        The colour map of the strengths (tigramite's default, red for positive, blue for negative).
    vmax : float, optional
        The strengths' colour scale runs from ``-vmax`` to ``vmax``; by default
        ``max(1, max |strength|)``: tigramite's -1 .. 1 for partial correlations.
    colorbar : bool
        Draw a colour bar of the strengths (when there are any).
    label : str
        The colour bar's label (tigramite's ``link_colorbar_label``, e.g. ``"MCI"``).
    title : str, optional
    node_size : float
        Node marker area in points^2.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    GraphError
        If ``graph`` is neither a LaggedGraph nor a fitted estimator with one.
    ParameterError
        On an unknown ``style``, a ``vmax`` that is not a positive number, or strengths of
        the wrong shape, for links the graph lacks, or not finite.

    See Also
    --------
    scm.LaggedGraph.to_dot : the same graph as Graphviz DOT text.

    Examples
    --------
    >>> import numpy as np
    >>> from scm import LaggedGraph
    >>> g = LaggedGraph(["X", "Y", "Z"], directed=[("X", "X", 1), ("X", "Y", 1), ("Y", "Z", 2)],
    ...                 undirected=[("X", "Z")])
    >>> val = np.zeros((3, 3, 3))
    >>> val[0, 0, 1], val[0, 1, 1], val[1, 2, 2], val[0, 2, 0] = 0.6, 0.45, -0.3, 0.2
    >>> ax = plot_lagged_graph(g, strengths=val)                    # variables x lags
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['t-2', 't-1', 't']
    >>> ax = plot_lagged_graph(g, strengths=val, style="summary")   # arrows labelled by lags
    >>> sorted(t.get_text() for t in ax.texts if t.get_text() in {"0", "1", "2"})
    ['0', '1', '2']
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    graph, strengths = _lagged_input(graph, strengths)
    style = check_option(style, ("time_series", "summary"), name="style", owner="plot_lagged_graph")
    values = {} if strengths is None else link_strengths(graph, strengths, owner="plot_lagged_graph")
    if vmax is None:
        vmax = max([1.0] + [abs(v) for v in values.values()])
    elif isinstance(vmax, bool) or not isinstance(vmax, (int, float, np.floating, np.integer)) or not 0 < vmax < np.inf:
        raise ParameterError(f"The 'vmax' parameter of plot_lagged_graph must be a positive number; got {vmax!r} instead.")
    try:
        colours = colormaps[cmap]
    except (KeyError, TypeError):
        raise ParameterError(f"The 'cmap' parameter of plot_lagged_graph must be a matplotlib colour map name; "
                             f"got {cmap!r} instead.") from None
    norm = Normalize(-float(vmax), float(vmax))

    def colour(key):
        return colours(norm(values[key])) if key in values else EDGE_COLOURS["edge"]

    if ax is None:
        nodes, lags = len(graph.nodes), graph.tau_max + 1
        ax = _new_axes((1.6 + 1.3 * lags, 0.6 + 0.7 * nodes) if style == "time_series" else (5, 5))
    shrink = math.sqrt(node_size) / 2 + 1
    if style == "time_series":
        _draw_time_series_graph(ax, graph, colour, shrink, node_size)
    else:
        _draw_summary_graph(ax, graph, values, colour, colours, norm, shrink, node_size)
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar and values:
        ax.figure.colorbar(ScalarMappable(norm, colours), ax=ax, label=label, shrink=0.8)
    return ax


def _draw_time_series_graph(ax, graph: LaggedGraph, colour, shrink: float, node_size: float) -> None:
    """Variables in rows (the first on top), time steps ``t - tau_max .. t`` in columns."""
    tau = graph.tau_max
    row = {v: -i for i, v in enumerate(graph.nodes)}

    def at(v, lag):
        return (tau - lag, row[v])

    for s, t, lag, kind in graph.edges():
        # straight, unless the segment would run through a node of the grid (steps with a common divisor)
        rad = 0.0 if math.gcd(lag, abs(row[s] - row[t])) == 1 else 0.3
        for u in range(tau - lag + 1):  # the link ending at t - u
            _lagged_arrow(ax, at(s, u + lag), at(t, u), kind=kind, colour=colour((s, t, lag)), rad=rad, shrink=shrink,
                          width=2.0)
    xy = np.array([at(v, lag) for v in graph.nodes for lag in range(tau + 1)], dtype=float)
    ax.scatter(xy[:, 0], xy[:, 1], s=node_size, c="#eceff1", edgecolors="#455a64", linewidths=1.0, zorder=2)
    ax.set_xticks(range(tau + 1), [f"t-{lag}" if lag else "t" for lag in range(tau, -1, -1)], fontsize=8)
    ax.set_yticks([row[v] for v in graph.nodes], [str(v) for v in graph.nodes], fontsize=9)
    ax.set_xlim(-0.5, tau + 0.5)
    ax.set_ylim(-len(graph.nodes) + 0.5, 0.5)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)


def _draw_summary_graph(ax, graph: LaggedGraph, values: dict, colour, colours, norm, shrink: float, node_size: float) -> None:
    """One node per variable on a circle, one curved arrow per ordered pair labelled with its lags."""
    nodes = list(graph.nodes)
    pairs: dict = {}  # (a, b, kind) -> lags
    auto: dict = {}  # variable -> lags of its own past
    for s, t, lag, kind in graph.edges():
        if s == t:
            auto.setdefault(s, []).append(lag)
        else:
            pairs.setdefault((s, t, kind), []).append(lag)
    pos = graph_layout(nodes, [(a, b) for a, b, _ in pairs], layout="circular")
    for (a, b, kind), lags in pairs.items():
        strongest = max((k for k in ((a, b, lag) for lag in lags) if k in values), key=lambda k: abs(values[k]), default=(a, b, lags[0]))
        rad = 0.0 if kind != "directed" else 0.25
        _lagged_arrow(ax, pos[a], pos[b], kind=kind, colour=colour(strongest), rad=rad, shrink=shrink, width=2.0,
                      label=",".join(map(str, sorted(lags))))
    faces = []
    for v in nodes:
        own = [(v, v, lag) for lag in auto.get(v, []) if (v, v, lag) in values]
        faces.append(colours(norm(values[max(own, key=lambda k: abs(values[k]))])) if own else "#eceff1")
    xy = np.array([pos[v] for v in nodes]) if nodes else np.zeros((0, 2))
    ax.scatter(xy[:, 0], xy[:, 1], s=node_size, c=faces, edgecolors="#455a64", linewidths=1.0, zorder=2)
    fs = 9 if max((len(str(v)) for v in nodes), default=1) <= 5 else 7
    for v in nodes:
        ax.text(*pos[v], str(v), ha="center", va="center", fontsize=fs, zorder=4)
        if v in auto:
            ax.text(pos[v][0], pos[v][1] - 0.17, "auto " + ",".join(map(str, sorted(auto[v]))), ha="center",
                    va="top", fontsize=6, color="#455a64", zorder=4)
    ax.set_aspect("equal")
    ax.margins(0.15)
    ax.set_axis_off()


def plot_comparison(results: pd.DataFrame, metric: str = "shd", *, datasets=None, algorithms=None, ncols: int | None = None):
    """One panel per dataset: ``metric`` per algorithm, mean over seeds with error bars.

    Bars are the mean over the successful seeds, error bars one standard deviation
    (when there is more than one seed), dots the individual seeds; a run that failed
    is marked "error", one whose metric is undefined (``results.attrs["notes"]``)
    "undefined", one where it does not apply "n/a", and an algorithm that did not run
    on a dataset is absent. A dataset with no value at all is left out (unless no
    dataset has one).

    Parameters
    ----------
    results : pandas.DataFrame
        The table of :func:`discovery.compare` (columns ``algorithm``, ``dataset``, ``seed``,
        ``metric`` and optionally ``status``).
    metric : str
        A numeric column, e.g. ``"shd"``, ``"skeleton_f1"``, ``"fit_seconds"``.
    datasets, algorithms : list of str, optional
        Subsets and order (default: as they appear in ``results``).
    ncols : int, optional
        Panels per row (default up to 4).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    DataError
        If ``results`` is not a DataFrame or names a column twice (see
        :func:`discovery.evaluation._compare.check_results`).
    ParameterError
        If ``results`` lacks ``algorithm``, ``dataset`` or ``metric`` (named), or has no rows.

    Examples
    --------
    >>> import pandas as pd
    >>> res = pd.DataFrame({"algorithm": ["pc", "pc", "ges"], "dataset": ["d", "d", "d"],
    ...                     "seed": [0, 1, 0], "shd": [2.0, 4.0, 3.0]})
    >>> fig = plot_comparison(res, "shd")
    >>> [ax.get_title() for ax in fig.axes]
    ['d']
    """
    from matplotlib.figure import Figure

    results = check_results(results, ["algorithm", "dataset", metric], owner="plot_comparison")
    dsets = list(dict.fromkeys(results["dataset"])) if datasets is None else list(datasets)
    algos = list(dict.fromkeys(results["algorithm"])) if algorithms is None else list(algorithms)
    if not dsets:
        raise ParameterError("results is empty: nothing to plot")
    ok_rows = results[results["status"] == "ok"] if "status" in results.columns else results
    numeric = pd.to_numeric(ok_rows[metric], errors="coerce")
    with_values = [d for d in dsets if numeric[ok_rows["dataset"] == d].notna().any()]
    if with_values:  # a panel without a single value is left out (SID of a time series, AUPRC without probabilities)
        dsets = with_values
    notes = results.attrs.get("notes") or {}
    ncols = ncols or min(4, len(dsets))
    nrows = math.ceil(len(dsets) / ncols)
    fig = Figure(figsize=(3.4 * ncols, 3.0 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    palette = ["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#ad1457", "#827717"]
    colours = {a: palette[i % len(palette)] for i, a in enumerate(algos)}
    rng = np.random.default_rng(0)
    for ax, dname in zip(axes, dsets):
        sub = results[results["dataset"] == dname]
        present = [a for a in algos if (sub["algorithm"] == a).any()]
        for x, aname in enumerate(present):
            runs = sub[sub["algorithm"] == aname]
            ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
            values = pd.to_numeric(ok[metric], errors="coerce").dropna().to_numpy(dtype=float)
            if len(values):
                mean = values.mean()
                std = values.std(ddof=1) if len(values) > 1 else 0.0
                ax.bar(x, mean, width=0.65, color=colours[aname], alpha=0.55, edgecolor=colours[aname])
                if len(values) > 1:
                    ax.errorbar(x, mean, yerr=std, color="black", capsize=4, linewidth=1)
                jitter = (rng.random(len(values)) - 0.5) * 0.25 if len(values) > 1 else np.zeros(1)
                ax.scatter(x + jitter, values, s=12, color="black", zorder=3)
            else:
                failed = len(runs) - len(ok)
                status = {notes.get((aname, dname, s), {}).get(metric, ("n/a",))[0] for s in ok["seed"]} if "seed" in ok else set()
                label = "error" if failed else ("undefined" if status == {"undefined"} else "n/a")
                ax.text(x, 0, label, rotation=90, ha="center", va="bottom", fontsize=8,
                        color=EDGE_COLOURS["extra"] if failed else "#616161")
        ax.set_xticks(range(len(present)), present, rotation=35, ha="right", fontsize=8)
        ax.set_xlim(-0.6, max(len(present), 1) - 0.4)
        ax.set_title(str(dname), fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    for ax in axes[len(dsets):]:
        ax.set_visible(False)
    if metric in LOWER_IS_BETTER:
        better = " (lower is better)"
    elif metric.endswith(("f1", "precision", "recall")) or metric in ("average_precision", "stability", "heldout_loglik"):
        better = " (higher is better)"
    else:
        better = ""
    fig.suptitle(f"{metric}{better}", fontsize=11)
    return fig
