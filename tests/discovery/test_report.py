"""Plots and the HTML report: edge colours, no global matplotlib state, files, a headless-browser render."""

import html.parser
import shutil
import subprocess

import matplotlib
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import scm
from discovery import PC, PCMCI, compare
from discovery.evaluation import plot_comparison, plot_graph, write_report
from discovery.evaluation._compare import reference_graph
from discovery.evaluation._plot import EDGE_COLOURS, edge_status
from scm import PDAG, LaggedGraph, ParameterError

from .test_truthfree import Fixed  # an algorithm that returns a given graph


def _arrow_colours(ax):
    from matplotlib.patches import FancyArrowPatch

    return sorted(to_hex(p.get_edgecolor()) for p in ax.patches if isinstance(p, FancyArrowPatch))


@pytest.fixture(scope="module")
def results():
    ds = scm.simulate.simulate(n_nodes=5, n_samples=300, random_state=0)
    ts = scm.simulate.time_series(n_series=3, n_timepoints=200, max_lag=1, random_state=0)

    def data(seed):
        return scm.simulate.simulate(n_nodes=4, n_samples=200, random_state=seed)

    return compare({"pc": PC(), "pc-strict": PC(alpha=0.001), "broken": PC(alpha=2.0), "pcmci": PCMCI()},
                   {"er5": ds, "sim": data, "ts": ts}, seeds=[0, 1], executor="sequential")


def test_edge_status_and_colours():
    truth = nx.DiGraph([("A", "B"), ("B", "C"), ("C", "D")])
    est = PDAG(["A", "B", "C", "D"], directed=[("A", "B"), ("C", "B")], undirected=[("A", "D")])
    status = edge_status(est, truth)
    assert status == {frozenset("AB"): "correct", frozenset("BC"): "reversed", frozenset("AD"): "extra", frozenset("CD"): "missing"}
    before = dict(matplotlib.rcParams)
    ax = plot_graph(est, truth=truth, layout="spring", seed=1)
    assert dict(matplotlib.rcParams) == before
    assert _arrow_colours(ax) == sorted(EDGE_COLOURS[k] for k in ("correct", "reversed", "extra", "missing"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["correct", "reversed / other mark", "extra", "missing"]
    assert sorted(t.get_text() for t in ax.texts) == ["A", "B", "C", "D"]
    # the spring layout is seeded: same call, same positions
    again = plot_graph(est, truth=truth, layout="spring", seed=1)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), again.collections[0].get_offsets())
    # without a truth: one colour, no legend
    plain = plot_graph(truth)
    assert set(_arrow_colours(plain)) == {EDGE_COLOURS["edge"]} and plain.get_legend() is None


def test_no_pyplot_figures_are_created():
    import matplotlib.pyplot as plt

    n = len(plt.get_fignums())
    plot_graph(nx.DiGraph([("A", "B")]))
    plot_comparison(pd.DataFrame({"algorithm": ["a"], "dataset": ["d"], "seed": [0], "shd": [1.0]}))
    assert len(plt.get_fignums()) == n


def test_plot_into_given_axes_and_lagged_graphs():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    truth = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 1), ("X", "Y", 2), ("Y", "Z", 0), ("X", "X", 1)])
    est = LaggedGraph(["X", "Y", "Z"], directed=[("X", "Y", 1), ("X", "Y", 2)], undirected=[("Y", "Z")])
    assert plot_graph(est, truth=truth, ax=ax, title="lags") is ax
    assert "1,2" in [t.get_text() for t in ax.texts] and ax.get_title() == "lags"
    assert edge_status(est, truth)[frozenset("YZ")] == "reversed"
    with pytest.raises(ParameterError, match="layout"):
        plot_graph(est, layout="kamada")


def test_cdnod_reference_orients_context_edges():
    truth = nx.DiGraph([("A", "B"), ("B", "C")])
    est = PDAG(["A", "B", "C", "env"], directed=[("env", "B"), ("B", "C")], undirected=[("A", "B")])
    ref = reference_graph(truth, est, "cpdag", frozenset({"B"}))
    # env -> B <- A is a collider; Meek orients B -> C
    assert ref.has_directed("env", "B") and ref.has_directed("A", "B") and ref.has_directed("B", "C")


def test_plot_comparison_panels_and_error_bars(results):
    fig = plot_comparison(results, "shd")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["er5", "sim", "ts"]
    sim = fig.axes[1]
    assert len(sim.containers) >= 2  # bars and error bars over the two seeds
    assert any(t.get_text() == "error" for t in fig.axes[0].texts)  # the broken algorithm
    with pytest.raises(ParameterError, match="columns"):
        plot_comparison(results.drop(columns=["shd"]), "shd")


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def test_write_report(results, tmp_path):
    page = write_report(results, tmp_path / "rep")
    assert page == tmp_path / "rep" / "index.html"
    text = page.read_text()
    parser = _Images()
    parser.feed(text)
    assert "comparison-shd.png" in parser.sources and "graphs-er5.png" in parser.sources
    for src in parser.sources:
        png = (page.parent / src).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, src
    assert "<table" in text and "Errors" in text and "alpha" in text
    assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing fetched from the network
    back = pd.read_csv(page.parent / "results.csv")
    assert len(back) == len(results) and set(back["status"]) == {"ok", "error"}
    # without graphs (e.g. a table read back from CSV): still a page with plots
    page2 = write_report(back, tmp_path / "rep2", metrics=["shd"])
    assert sorted(p.name for p in page2.parent.iterdir()) == ["comparison-shd.png", "index.html", "results.csv"]
    with pytest.raises(ParameterError, match="no column"):
        write_report(back, tmp_path / "rep3", metrics=["accuracy"])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp_path, *args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.slow
def test_report_renders_in_headless_chromium(results, tmp_path):
    page = write_report(results, tmp_path / "rep")
    # 1. every image loads: a copy of the page with a probe script, read back with --dump-dom
    probe = page.with_name("probe.html")
    script = ("<script>window.addEventListener('load', () => { const im = [...document.images];"
              "document.body.setAttribute('data-loaded', im.filter(i => i.complete && i.naturalWidth > 0).length"
              " + '/' + im.length); });</script>")
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    n_images = page.read_text().count("<img ")
    assert f'data-loaded="{n_images}/{n_images}"' in dom.stdout
    # 2. a screenshot that is not blank
    shot = tmp_path / "shot.png"
    proc = _chromium(tmp_path, "--window-size=1280,1800", f"--screenshot={shot}", page.as_uri())
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1800, 1280) and shot.stat().st_size > 50_000
    assert pixels.std() > 0.1  # text, tables and plots, not a uniform page
    header = pixels[:40].reshape(-1, 3).mean(axis=0)
    assert header[2] > header[0] + 0.2  # the blue title bar is there: the CSS applied


# --------------------------------------------------------------------------- polish: ties, empty graphs, missing values
def _best_cells(page: str) -> list:
    import re

    return re.findall(r"<td class='best'>([^<]*)</td>", page)


def test_no_single_winner_for_ties_or_empty_graphs(tmp_path):
    rows = [  # dataset, algorithm, shd, n_edges
        ("tie", "a", 2.0, 3), ("tie", "b", 2.0, 4), ("tie", "c", 5.0, 4),
        ("empty-wins", "empty", 1.0, 0), ("empty-wins", "c", 3.0, 2),
        ("clear", "x", 1.0, 2), ("clear", "y", 3.0, 2),
    ]
    res = pd.DataFrame([{"algorithm": a, "dataset": d, "seed": 0, "shd": v, "n_edges": n, "fit_seconds": 0.1, "status": "ok",
                         "error": ""} for d, a, v, n in rows])
    page = write_report(res, tmp_path / "rep", metrics=["shd"]).read_text()
    assert _best_cells(page) == ["1"]  # only x on "clear": a tie and an empty graph are not highlighted
    assert page.count("<span class='tag'>empty graph</span>") == 1
    assert "tied values and empty graphs" in page


def test_plot_comparison_leaves_out_panels_without_values(results):
    fig = plot_comparison(results, "sid_lower")  # no SID for the time series
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["er5", "sim"]


@pytest.fixture(scope="module")
def truth_free_results():
    ds = scm.simulate.simulate(n_nodes=5, n_samples=300, random_state=0)
    cols = list(ds.data.columns)
    algos = {"pc": PC(), "bidirected": Fixed(PDAG(cols, bidirected=[(cols[0], cols[1])])), "empty": Fixed(PDAG(cols))}
    return compare(algos, {"shop": ds.data, "sim": ds}, executor="sequential")


def test_truth_free_report_says_what_it_shows(truth_free_results, tmp_path):
    page = write_report(truth_free_results, tmp_path / "rep").read_text()
    assert "shop have no true graph" in page or "shop has no true graph" in page
    assert "the first panel is the consensus of the algorithms" in page
    assert "Without a true graph" in page and "heldout_loglik" in page and "Agreement between algorithms" in page
    assert "Edges are coloured against the truth" in page  # "sim" has a truth: its panels still are
    # n/a (no truth on shop) and undefined (no held-out score for the <-> graph) are distinct markers, with the reason
    assert "<span class='na' title='no true graph'>n/a</span>" in page
    assert "<span class='undef' title='the graph has 1 bidirected (&lt;-&gt;) edge(s)" in page
    names = sorted(p.name for p in (tmp_path / "rep").iterdir())
    assert "graphs-shop.png" in names and "comparison-heldout_loglik.png" in names
    assert "comparison-n_directed.png" not in names  # the edges by kind are in the table


def test_report_without_any_truth_never_mentions_one(tmp_path):
    ds = scm.simulate.simulate(n_nodes=4, n_samples=200, random_state=1)
    res = compare({"pc": PC(), "pc-strict": PC(alpha=0.001)}, {"shop": ds.data}, executor="sequential")
    page = write_report(res, tmp_path / "rep").read_text()
    assert "coloured against the truth" not in page and "CPDAG of the true DAG" not in page
    assert "No dataset has a known true graph" in page
    # read back from results.csv (no attrs): the notes column still tells the markers apart, the mode is the same
    back = pd.read_csv(tmp_path / "rep" / "results.csv")
    page2 = write_report(back, tmp_path / "rep2").read_text()
    assert "No dataset has a known true graph" in page2 and "coloured against the truth" not in page2
