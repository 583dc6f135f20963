"""plot_lagged_graph: tigramite's two pictures of a time-series graph, links coloured by strength."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex
from matplotlib.patches import FancyArrowPatch

import scm
from discovery import PCMCIPlus, plot_lagged_graph
from discovery.evaluation._plot import EDGE_COLOURS
from scm import GraphError, LaggedGraph, ParameterError

NODES = ["X", "Y", "Z"]


@pytest.fixture
def graph():
    return LaggedGraph(NODES, directed=[("X", "X", 1), ("X", "Y", 1), ("Y", "X", 2), ("Z", "Z", 2), ("Y", "Z", 0)],
                       undirected=[("X", "Z")], tau_max=2)


@pytest.fixture
def val():
    v = np.zeros((3, 3, 3))
    v[0, 0, 1], v[0, 1, 1], v[1, 0, 2], v[2, 2, 2], v[1, 2, 0], v[0, 2, 0] = 0.6, 0.45, -0.3, 0.2, -0.8, 0.1
    v[2, 0, 0] = 0.1
    return v


def _arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _hex(rgba):
    return to_hex(rgba, keep_alpha=False)


def test_time_series_style_draws_every_link_at_every_step_coloured_by_strength(graph, val):
    before = dict(matplotlib.rcParams)
    ax = plot_lagged_graph(graph, strengths=val)
    assert dict(matplotlib.rcParams) == before
    # rows: X, Y, Z from the top (y = 0, -1, -2); columns: t-2, t-1, t (x = 0, 1, 2)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["t-2", "t-1", "t"]
    assert [t.get_text() for t in ax.get_yticklabels()] == NODES
    assert len(ax.collections[0].get_offsets()) == 3 * 3
    cmap, norm = colormaps["RdBu_r"], Normalize(-1, 1)
    row = {"X": 0, "Y": -1, "Z": -2}
    expected = []
    for s, t, lag, _ in graph.edges():
        key = (NODES.index(s), NODES.index(t), lag)
        for u in range(3 - lag):  # ending at t - u, starting lag steps before
            expected.append(((2 - u - lag, row[s]), (2 - u, row[t]), _hex(cmap(norm(val[key])))))
    drawn = [(tuple(map(float, a._posA_posB[0])), tuple(map(float, a._posA_posB[1])), _hex(a.get_edgecolor()))
             for a in _arrows(ax)]
    assert sorted(drawn) == sorted(expected)
    assert len(drawn) == 2 + 2 + 1 + 1 + 3 + 3  # links repeated at each step of the window
    # the undirected edge has no arrowheads; the colour bar has tigramite's -1 .. 1 scale
    heads = sorted((type(a.get_arrowstyle()).__name__, a._posA_posB[0][1], a._posA_posB[1][1]) for a in _arrows(ax))
    assert [h for h in heads if h[0] == "Curve"] == [("Curve", 0.0, -2.0)] * 3  # X(t') - Z(t') at each step
    assert all(h[0] == "CurveFilledB" for h in heads if h[0] != "Curve")
    colorbar = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbar) == 1 and colorbar[0].get_ylabel() == "link strength"
    assert colorbar[0].get_ylim() == (-1.0, 1.0)


def test_summary_style_labels_each_ordered_pair_with_its_lags(graph, val):
    ax = plot_lagged_graph(graph, strengths=val, style="summary", label="MCI")
    cmap, norm = colormaps["RdBu_r"], Normalize(-1, 1)
    arrows = _arrows(ax)
    assert len(arrows) == 4  # X->Y (1), Y->X (2), Y->Z (0), X-Z (0); the series' own past is not an arrow
    colours = sorted(_hex(a.get_edgecolor()) for a in arrows)
    assert colours == sorted(_hex(cmap(norm(v))) for v in (0.45, -0.3, -0.8, 0.1))
    texts = [t.get_text() for t in ax.texts]
    assert sorted(t for t in texts if t.isdigit()) == ["0", "0", "1", "2"]
    assert "auto 1" in texts and "auto 2" in texts  # under X and Z
    faces = [_hex(c) for c in ax.collections[0].get_facecolors()]
    assert faces == [_hex(cmap(norm(0.6))), "#eceff1", _hex(cmap(norm(0.2)))]  # X, Y (no own past), Z
    assert [a.get_ylabel() for a in ax.figure.axes if a is not ax] == ["MCI"]


def test_summary_colours_a_pair_by_its_strongest_lag():
    g = LaggedGraph(["A", "B"], directed=[("A", "B", 1), ("A", "B", 2)])
    ax = plot_lagged_graph(g, strengths={("A", "B", 1): 0.2, ("A", "B", 2): -0.9}, style="summary", vmax=2.0)
    (arrow,) = _arrows(ax)
    assert _hex(arrow.get_edgecolor()) == _hex(colormaps["RdBu_r"](Normalize(-2, 2)(-0.9)))
    assert "1,2" in [t.get_text() for t in ax.texts]


def test_without_strengths_links_are_grey_and_there_is_no_colour_bar(graph):
    for style in ("time_series", "summary"):
        ax = plot_lagged_graph(graph, style=style, title="g")
        assert {_hex(a.get_edgecolor()) for a in _arrows(ax)} == {EDGE_COLOURS["edge"]}
        assert ax.figure.axes == [ax] and ax.get_title() == "g"


def test_a_fitted_pcmciplus_gives_its_graph_and_val_matrix():
    ds = scm.simulate.time_series(n_series=3, n_timepoints=300, max_lag=1, contemporaneous=True, random_state=1)
    model = PCMCIPlus(tau_max=1).fit(ds.data)
    direct = plot_lagged_graph(model.graph_, strengths=model.val_matrix_)
    fitted = plot_lagged_graph(model)
    assert [_hex(a.get_edgecolor()) for a in _arrows(fitted)] == [_hex(a.get_edgecolor()) for a in _arrows(direct)]
    assert len(_arrows(fitted)) > 0
    # a strength given explicitly wins over val_matrix_
    plain = plot_lagged_graph(model, strengths={}, colorbar=False)
    assert {_hex(a.get_edgecolor()) for a in _arrows(plain)} == {EDGE_COLOURS["edge"]}


def test_into_given_axes_without_pyplot(graph):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    n = len(plt.get_fignums())
    ax = Figure().add_subplot()
    assert plot_lagged_graph(graph, ax=ax, colorbar=False) is ax
    assert len(plt.get_fignums()) == n


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"style": "process"}, ParameterError, "'style' parameter of plot_lagged_graph must be one of"),
        ({"vmax": 0}, ParameterError, "'vmax'"),
        ({"vmax": float("nan")}, ParameterError, "'vmax'"),
        ({"vmax": True}, ParameterError, "'vmax'"),
        ({"cmap": "no-such-map"}, ParameterError, "'cmap'"),
        ({"strengths": np.full((3, 3, 3), np.nan)}, ParameterError, "plot_lagged_graph must be a finite number"),
        ({"strengths": np.zeros((2, 2, 3))}, ParameterError, r"shape \(3, 3, L\)"),
    ],
)
def test_bad_arguments_are_named(graph, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot_lagged_graph(graph, **kwargs)


def test_not_a_lagged_graph():
    import networkx as nx

    with pytest.raises(GraphError, match="LaggedGraph or a fitted PCMCI"):
        plot_lagged_graph(nx.DiGraph([("A", "B")]))
    with pytest.raises(GraphError, match="got PCMCIPlus"):
        plot_lagged_graph(PCMCIPlus())  # not fitted: no graph_
