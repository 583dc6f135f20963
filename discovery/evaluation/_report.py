"""A static HTML report of a comparison: ``index.html``, ``results.csv`` and PNG figures.

:func:`write_report` turns the table of :func:`discovery.compare` into a
directory that opens in any browser without a server or network access: a
styled summary table (mean +- standard deviation over seeds, the best value per
dataset in bold when one algorithm alone attains it), one comparison plot per
metric, each dataset's learned graphs next to the truth, the errors and every run.
Without a true graph the report shows what needs none: edges by kind, stability,
the agreement between algorithms, the consensus graph and the held-out
log-likelihood, and says so.
"""

from __future__ import annotations

import html
import math
import pathlib
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from scm._exceptions import ParameterError

from .._utils import ensure_directory, slug
from ._compare import NOT_APPLICABLE

__all__ = ["write_report", "REPORT_METRICS", "TRUTH_FREE_REPORT_METRICS"]

#: The metrics shown in the summary table and plotted (when present and not all NaN).
#: ``sid_lower`` and ``sid_upper`` stand for the SID: equal to it for DAG estimates, and defined
#: for CPDAG estimates too (the range over the DAGs in the class).
REPORT_METRICS = ("shd", "skeleton_f1", "arrowhead_f1", "sid_lower", "sid_upper", "average_precision", "fit_seconds")
#: What the summary adds (before ``fit_seconds``) when a dataset has no true graph.
TRUTH_FREE_REPORT_METRICS = ("n_edges", "n_directed", "n_undirected", "n_bidirected", "n_lagged", "stability",
                             "mean_shd_to_others", "heldout_loglik", "fit_seconds")
_LOWER_IS_BETTER = {"shd", "sid", "sid_lower", "sid_upper", "fit_seconds"}
_TABLE_ONLY = {"n_directed", "n_undirected", "n_bidirected", "n_lagged", "n_contemporaneous"}  # summarised by n_edges's plot
#: Descriptive columns: no "better" direction, never highlighted.
_NEUTRAL = {"n_edges", "n_directed", "n_undirected", "n_bidirected", "n_lagged", "n_contemporaneous", "mean_shd_to_others",
            "heldout_loglik_se"}

_CSS = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #212121; margin: 0; background: #fafafa; }
header { background: #0d47a1; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: .85; }
main { padding: 8px 32px 40px 32px; max-width: 1400px; }
h2 { border-bottom: 2px solid #0d47a1; padding-bottom: 4px; margin-top: 32px; }
table { border-collapse: collapse; background: white; box-shadow: 0 1px 3px rgba(0,0,0,.12); margin: 8px 0 16px 0; }
th, td { padding: 5px 10px; text-align: right; border-bottom: 1px solid #e0e0e0; white-space: nowrap; }
th { background: #e3f2fd; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tr.first td { border-top: 2px solid #90caf9; }
td.best { font-weight: 700; color: #1b5e20; background: #e8f5e9; }
td.error { color: #b71c1c; text-align: left; white-space: normal; max-width: 700px; }
.figures { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; background: white; padding: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
figure img { max-width: 100%; display: block; }
figcaption { font-size: 12px; color: #616161; margin-top: 4px; }
.note { color: #616161; font-size: 13px; }
.na, .undef { color: #757575; font-size: 12px; cursor: help; }
.undef { font-style: italic; }
.tag { color: #757575; font-size: 11px; border: 1px solid #bdbdbd; border-radius: 3px; padding: 0 3px; }
dl { max-width: 1000px; } dt { font-weight: 600; margin-top: 6px; } dd { margin-left: 16px; color: #424242; }
details summary { cursor: pointer; color: #0d47a1; margin: 8px 0; }
"""


def _fmt(value, metric: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "&ndash;"
    if metric == "fit_seconds":
        return f"{value:.2f}"
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{value:.0f}"
    return f"{value:.3f}"


def _direction(metric: str) -> str | None:
    """"lower" / "higher" is better, or None for a count that is neither (edges, agreement)."""
    if metric in _LOWER_IS_BETTER:
        return "lower"
    if metric in _NEUTRAL:
        return None
    return "higher"


_NOTE_PATTERN = re.compile(r"^(?P<metrics>[\w, ]+): (?P<status>not applicable|undefined) \((?P<reason>.*)\)$")


def _notes_of(results: pd.DataFrame) -> dict:
    """(algorithm, dataset, seed) -> {metric: (status, reason)}: ``attrs["notes"]`` of compare, else the
    ``notes`` column read back (a table from results.csv), else nothing."""
    notes = results.attrs.get("notes")
    if notes:
        return notes
    if "notes" not in results.columns:
        return {}
    out = {}
    for r in results.itertuples(index=False):
        parsed = {}
        for part in str(getattr(r, "notes", "") or "").split("; "):
            match = _NOTE_PATTERN.match(part.strip()) if part.strip() and part.strip() != "nan" else None
            if match:
                parsed.update({m.strip(): (match["status"], match["reason"]) for m in match["metrics"].split(",")})
        out[(r.algorithm, r.dataset, r.seed)] = parsed
    return out


def _missing_marker(notes: dict, runs: pd.DataFrame, metric: str) -> str:
    """The cell of a metric with no value: "n/a" (not applicable) or "undefined", the reason as a tooltip."""
    found = [notes.get((r.algorithm, r.dataset, r.seed), {}).get(metric) for r in runs.itertuples(index=False)]
    found = [f for f in found if f is not None]
    if not found or len({status for status, _ in found}) != 1:
        return "&ndash;"
    status, reason = found[0]
    label, cls = ("n/a", "na") if status == NOT_APPLICABLE else ("undefined", "undef")
    return f"<span class='{cls}' title='{html.escape(str(reason), quote=True)}'>{label}</span>"


def _empty_outputs(results: pd.DataFrame, graphs: Mapping) -> set:
    """(algorithm, dataset) whose every successful run learned a graph without edges."""
    ok = results[results["status"] == "ok"] if "status" in results.columns else results
    out = set()
    for (aname, dname), runs in ok.groupby(["algorithm", "dataset"], sort=False):
        if "n_edges" in runs.columns and runs["n_edges"].notna().all():
            counts = list(runs["n_edges"])
        else:
            found = [graphs.get((aname, dname, s)) for s in runs["seed"]] if graphs else []
            if not found or any(g is None for g in found):
                continue
            counts = [len(g.edges()) for g in found]
        if counts and all(c == 0 for c in counts):
            out.add((aname, dname))
    return out


def _best(means: pd.Series, metric: str, empty: set, dname, se: pd.Series | None = None) -> str | None:
    """The one algorithm to highlight for a metric on a dataset, or None: only a single algorithm with a
    non-empty graph that attains the best value alone is (ties and empty graphs are shown plainly).

    With standard errors ``se`` (per algorithm), a lead no larger than the larger standard error of
    the best and the runner-up is a tie too: a held-out log-likelihood of -11.390 +- 0.15 does not
    beat -11.392 +- 0.15.

    Examples
    --------
    >>> means = pd.Series({"pc": -11.390, "vidpdag": -11.392, "notears": -11.561})
    >>> _best(means, "heldout_loglik", set(), "cells") is None  # no standard errors: pc leads alone
    False
    >>> _best(means, "heldout_loglik", set(), "cells", se=pd.Series({"pc": 0.15, "vidpdag": 0.15, "notears": 0.15})) is None
    True
    """
    direction = _direction(metric)
    means = means.dropna()
    if direction is None or metric == "fit_seconds" or len(means) < 2:
        return None
    best = means.min() if direction == "lower" else means.max()
    winners = [a for a, v in means.items() if math.isclose(v, best, rel_tol=1e-9, abs_tol=1e-12)]
    if len(winners) != 1 or (winners[0], dname) in empty:
        return None
    if se is not None:
        others = means.drop(winners[0])
        runner = others.idxmin() if direction == "lower" else others.idxmax()
        spread = np.nanmax([se.get(winners[0], np.nan), se.get(runner, np.nan), 0.0])
        if abs(best - others[runner]) <= spread:
            return None
    return winners[0]


def _summary_table(results: pd.DataFrame, metrics: list, notes: Mapping | None = None, empty: set = frozenset()) -> str:
    notes = notes or {}
    ok = results[results["status"] == "ok"] if "status" in results.columns else results
    dsets = list(dict.fromkeys(results["dataset"]))
    algos = list(dict.fromkeys(results["algorithm"]))
    seeds = results["seed"].nunique() if "seed" in results.columns else 1

    def arrow(m):
        return {"lower": " &darr;", "higher": " &uarr;", None: ""}[_direction(m)]

    head = "".join(f"<th>{html.escape(m)}{arrow(m)}</th>" for m in metrics)
    rows = [f"<tr><th class='text'>dataset</th><th class='text'>algorithm</th><th>runs ok</th>{head}</tr>"]
    for dname in dsets:
        sub = ok[ok["dataset"] == dname]
        allsub = results[results["dataset"] == dname]
        stats = {}
        for m in metrics:
            g = sub.groupby("algorithm", sort=False)[m]
            stats[m] = (g.mean(), g.std(ddof=1))
        se = sub.groupby("algorithm", sort=False)["heldout_loglik_se"].mean() if "heldout_loglik_se" in sub.columns else None
        best = {m: _best(stats[m][0], m, empty, dname, se=se if m == "heldout_loglik" and seeds == 1 else None)
                for m in metrics}
        first = True
        for aname in algos:
            runs = allsub[allsub["algorithm"] == aname]
            if runs.empty:
                continue
            n_ok = int((runs["status"] == "ok").sum()) if "status" in runs.columns else len(runs)
            cells = []
            for m in metrics:
                mean = stats[m][0].get(aname, np.nan)
                std = stats[m][1].get(aname, np.nan)
                if isinstance(mean, float) and math.isnan(mean):
                    oks = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
                    cells.append(f"<td>{_missing_marker(notes, oks, m)}</td>")
                    continue
                text = _fmt(mean, m)
                if seeds > 1 and not (isinstance(std, float) and math.isnan(std)):
                    text += f" &plusmn; {_fmt(std, m)}"
                elif m == "heldout_loglik" and se is not None and not math.isnan(se.get(aname, np.nan)):
                    text += f" &plusmn; {se.get(aname):.3f}"
                cls = " class='best'" if best[m] == aname else ""
                cells.append(f"<td{cls}>{text}</td>")
            cls = " class='first'" if first else ""
            dcell = f"<td class='text'><b>{html.escape(str(dname))}</b></td>" if first else "<td></td>"
            tag = " <span class='tag'>empty graph</span>" if (aname, dname) in empty else ""
            rows.append(f"<tr{cls}>{dcell}<td class='text'>{html.escape(str(aname))}{tag}</td><td>{n_ok}/{len(runs)}</td>"
                        f"{''.join(cells)}</tr>")
            first = False
    return "<table>" + "\n".join(rows) + "</table>"


def _graph_figure(dname, truth, estimates: dict, changed, path: pathlib.Path, consensus=None) -> None:
    from matplotlib.figure import Figure

    from ._compare import reference_graph
    from ._plot import _pair_marks, graph_layout, plot_graph

    if truth is not None:
        first = [("truth", truth, None)]
    else:
        first = [("consensus", consensus, None)] if consensus is not None else []
    panels = first + [(name, g, reference_graph(truth, g, "auto", changed)) for name, g in estimates.items()]
    n = len(panels)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(3.3 * ncols, 3.5 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    nodes: list = []
    for _, g, _ in panels:
        nodes += [v for v in _pair_marks(g)[0] if v not in set(nodes)]
    pos = graph_layout(nodes, layout="circular")
    size = 700 if len(nodes) <= 12 else 380
    for ax, (name, g, ref) in zip(axes, panels):
        plot_graph(g, truth=ref, ax=ax, pos=pos, title=str(name), legend=False, node_size=size)
    for ax in axes[n:]:
        ax.set_visible(False)
    if truth is not None and len(panels) > 1:
        from matplotlib.lines import Line2D

        from ._plot import _LEGEND, EDGE_COLOURS

        handles = [Line2D([], [], color=EDGE_COLOURS[k], linestyle="--" if k == "missing" else "-", label=v) for k, v in _LEGEND.items()]
        fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(str(dname), fontsize=12)
    fig.savefig(path, dpi=90)


def _truth_free_datasets(results: pd.DataFrame, truths: Mapping, dsets: list) -> list:
    """The datasets of the table with no true graph (from ``truths``, else from the table's columns)."""
    if truths:
        return [d for d in dsets if truths.get(d) is None]
    if "heldout_loglik" not in results.columns and "notes" not in results.columns:
        return []  # a table of compare from before the truth-free columns: every dataset had a truth
    out = []
    for d in dsets:
        sub = results[results["dataset"] == d]
        if "shd" not in sub.columns or sub["shd"].isna().all():
            out.append(d)
    return out


def _metric_list(results: pd.DataFrame, metrics, truth_free: bool) -> list:
    if metrics is not None:
        bad = [m for m in metrics if m not in results.columns]
        if bad:
            raise ParameterError(f"results have no column(s) {bad}; columns: {list(results.columns)}")
        return list(metrics)
    wanted = REPORT_METRICS if not truth_free else REPORT_METRICS[:-1] + TRUTH_FREE_REPORT_METRICS
    return [m for m in wanted if m in results.columns and pd.to_numeric(results[m], errors="coerce").notna().any()]


_SUMMARY_TRUTH = ("Constraint-based methods are scored against the CPDAG of the true DAG, time-series methods against the "
                  "true lagged graph's CPDAG.")
_SUMMARY_MARKERS = ("<span class='na'>n/a</span>: the metric does not apply to the run (e.g. no true graph, no edge "
                    "probabilities); <span class='undef'>undefined</span>: it applies but this output has no value (e.g. "
                    "the SID of a graph with &lt;-&gt; edges); hover for the reason.")

_TRUTH_FREE_COLUMNS = """<h2>Without a true graph</h2><p class='note'>Dataset(s) {names} have no known true graph, so SHD,
SID and precision / recall do not apply. For them the table reports what needs no truth:</p><dl>
<dt>n_edges, n_directed, n_undirected, n_bidirected</dt><dd>the learned graph's edges by kind (time series:
also n_lagged, links from the past, and n_contemporaneous; their n_bidirected counts the conflicting x-x edges).
Counts are descriptive: more is not better.</dd>
<dt>stability</dt><dd>how much of the graph survives resampling the data: each algorithm refitted on bootstrap
resamples (discovery.bootstrap); 1 means every resample gave the same graph.</dd>
<dt>mean_shd_to_others</dt><dd>the mean structural Hamming distance between this algorithm's graph and each other
algorithm's graph on the same data (0: they agree); the full matrix is under <a href='#agreement'>Agreement</a>.</dd>
<dt>heldout_loglik</dt><dd>how well the graph predicts data it was not fitted on: the {folds}-fold cross-validated
log-likelihood per row (nats) of a linear-Gaussian SCM fitted on the graph, &plusmn; its standard error over rows
(one seed) or the standard deviation over seeds. Higher is better; a difference much larger than the errors is a real
difference. A CPDAG is scored through any DAG of its class (all give the same value); a graph with &lt;-&gt; edges
or cycles is no DAG model and has none.</dd>
<dt>consensus</dt><dd>the graph of the edges that more than half of the algorithms found (with the orientation most
of them give, undirected when they disagree on it): the first panel of <a href='#graphs'>Learned graphs</a>.</dd></dl>"""


def _agreement_section(results: pd.DataFrame, shown_seed) -> str:
    matrices = results.attrs.get("agreement") or {}
    parts = []
    for (dname, seed), m in matrices.items():
        if seed != shown_seed:
            continue
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in m.columns)
        body = "".join(
            f"<tr><th class='text'>{html.escape(str(a))}</th>"
            + "".join(f"<td>{_fmt(float(v), 'shd')}</td>" for v in m.loc[a]) + "</tr>"
            for a in m.index
        )
        parts.append(f"<h3>{html.escape(str(dname))}</h3><table><tr><th></th>{head}</tr>{body}</table>")
    if not parts:
        return ""
    return ("<h2 id='agreement'>Agreement between algorithms</h2><p class='note'>Structural Hamming distance between the "
            f"graphs two algorithms learned on the same data (seed {shown_seed}; 0: the same graph). Algorithms that agree "
            "are not thereby right, but an edge many of them find is less likely an artefact of one method.</p>"
            + "".join(parts))


def _consensus_tables(results: pd.DataFrame, shown_seed) -> str:
    freqs = results.attrs.get("edge_frequencies") or {}
    parts = []
    for (dname, seed), table in freqs.items():
        if seed != shown_seed or table.empty:
            continue
        shown = table.assign(frequency=table["frequency"].map(lambda v: f"{v:.2f}"))
        parts.append(f"<details><summary>{html.escape(str(dname))}: {len(table)} edge marks</summary>"
                     + shown.to_html(index=False, escape=True, border=0) + "</details>")
    if not parts:
        return ""
    return ("<p class='note'>Which algorithms found which edge: <i>count</i> algorithms gave the edge this mark, "
            "<i>frequency</i> is the share of the algorithms that could have (those with both nodes).</p>" + "".join(parts))


def write_report(results: pd.DataFrame, directory, graphs: Mapping | None = None, *, truths: Mapping | None = None,
                 metrics=None, title: str = "scmkit comparison", seed: int | None = None, checks=None) -> pathlib.Path:
    """Write ``index.html``, ``results.csv`` and the figures of a comparison to ``directory``.

    Parameters
    ----------
    results : pandas.DataFrame
        The table of :func:`discovery.compare`.
    directory : str or path
        Created if needed; existing report files are overwritten.
    graphs : mapping (algorithm, dataset, seed) -> graph, optional
        The learned graphs (default ``results.attrs["graphs"]``, set by ``compare``).
        Each dataset gets one PNG with the truth and every algorithm's graph for one seed.
    truths : mapping dataset -> graph, optional
        The true graphs (default ``results.attrs["truths"]``).
    metrics : list of str, optional
        Metrics of the summary table and plots (default: :data:`REPORT_METRICS` present in
        ``results`` and not all NaN; with a dataset that has no true graph, also
        :data:`TRUTH_FREE_REPORT_METRICS`, and the report explains them, shows the agreement
        matrices and draws the consensus graph first).
    title : str
    seed : int, optional
        Whose graphs to draw (default: the first seed of ``results``).
    checks : mapping title -> result, or sequence of results, optional
        Results of :func:`~discovery.evaluation.check_graph` and
        :func:`~discovery.evaluation.check_mechanisms`, shown in a section "Checks against the
        data" (default ``results.attrs["checks"]``, if any).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Raises
    ------
    DataError
        If ``results`` is not a DataFrame or names a column twice (see
        :func:`discovery.evaluation._compare.check_results`).
    ParameterError
        If ``results`` lacks ``algorithm``, ``dataset``, ``seed`` or a metric of ``metrics``
        (named) or has no rows, or ``directory`` is a file.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> res = pd.DataFrame({"algorithm": ["pc"], "dataset": ["d"], "seed": [0], "shd": [1.0],
    ...                     "fit_seconds": [0.1], "status": ["ok"], "error": [""]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     page = write_report(res, tmp)
    ...     sorted(p.name for p in page.parent.iterdir())
    ['comparison-fit_seconds.png', 'comparison-shd.png', 'index.html', 'results.csv']
    """
    from ._compare import check_results

    results = check_results(results, ["algorithm", "dataset", "seed"], owner="write_report")
    if results.empty:
        raise ParameterError("results has no rows: there is no run to report")
    checks = checks if checks is not None else results.attrs.get("checks")
    if checks:
        from ._check import checks_html

        checks_section = checks_html(checks)  # refused before anything is written
    else:
        checks_section = ""
    out = ensure_directory(directory, name="directory", owner="write_report")
    graphs = graphs if graphs is not None else results.attrs.get("graphs", {})
    truths = truths if truths is not None else results.attrs.get("truths", {})
    dsets = list(dict.fromkeys(results["dataset"]))
    truth_free = _truth_free_datasets(results, truths, dsets)
    metrics = _metric_list(results, metrics, bool(truth_free))
    results.to_csv(out / "results.csv", index=False)
    seeds = sorted(set(results["seed"]))
    shown_seed = seeds[0] if seed is None else seed

    parts = [_header(results, title, dsets, seeds)]
    parts.append(_summary_section(results, metrics, graphs, truth_free, len(truth_free) == len(dsets)))
    if truth_free:
        folds = results.attrs.get("cv_folds", "K")
        parts.append(_TRUTH_FREE_COLUMNS.format(names=", ".join(html.escape(str(d)) for d in truth_free), folds=folds))
    parts.append(_plots_section(results, metrics, out))
    parts.append(_agreement_section(results, shown_seed))
    if graphs:
        parts.append(_graphs_section(results, graphs, truths, dsets, truth_free, shown_seed, out))
    parts.append(_errors_section(results))
    parts.append(checks_section)
    shown = results.drop(columns=[c for c in ("warnings",) if c in results.columns])
    parts.append("<h2>All runs</h2><details><summary>Show every run</summary>"
                 + shown.to_html(index=False, float_format=lambda v: f"{v:.3g}", escape=True, na_rep="&ndash;", border=0)
                 .replace("&amp;ndash;", "&ndash;") + "</details>")
    parts.append("</main>")
    page = ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(p for p in parts if p) + "\n</body></html>\n")
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _header(results: pd.DataFrame, title: str, dsets: list, seeds: list) -> str:
    n_err = int((results["status"] != "ok").sum()) if "status" in results.columns else 0
    algos = list(dict.fromkeys(results["algorithm"]))
    stamp = pd.Timestamp.now().isoformat(timespec="seconds")
    return (f"<header><h1>{html.escape(title)}</h1><p>{len(results)} runs &middot; {len(algos)} algorithms &middot; "
            f"{len(dsets)} datasets &middot; seeds {html.escape(', '.join(map(str, seeds)))} &middot; "
            f"{n_err} error{'s' if n_err != 1 else ''} &middot; {html.escape(stamp)}</p></header><main>")


def _summary_section(results: pd.DataFrame, metrics: list, graphs: Mapping, truth_free: list, all_truth_free: bool) -> str:
    notes = _notes_of(results)
    empty = _empty_outputs(results, graphs)
    if all_truth_free:
        scored = ("No dataset has a known true graph: the columns are the truth-free ones explained below, and the "
                  "held-out log-likelihood is the one that ranks the graphs.")
    elif truth_free:
        scored = _SUMMARY_TRUTH + " Datasets without a true graph get the truth-free columns explained below."
    else:
        scored = _SUMMARY_TRUTH
    note = ("<h2>Summary</h2><p class='note'>Mean over seeds (&plusmn; standard deviation); &darr; lower is better, "
            "&uarr; higher is better, no arrow: a count that is neither. The best value per dataset is highlighted when a "
            "single algorithm attains it with a graph that has edges: tied values and empty graphs (tagged) are shown "
            "plainly, and so is a held-out log-likelihood whose lead is within a standard error of the runner-up. "
            f" {scored} {_SUMMARY_MARKERS} Download every run as <a href='results.csv'>results.csv</a>.</p>")
    return note + _summary_table(results, metrics, notes, empty)


def _plots_section(results: pd.DataFrame, metrics: list, out: pathlib.Path) -> str:
    from ._plot import plot_comparison

    figures = []
    for m in metrics:
        if m in _TABLE_ONLY or not pd.to_numeric(results[m], errors="coerce").notna().any():
            continue  # a panel with no value is left out; the edges by kind are in the table
        name = f"comparison-{slug(m)}.png"
        fig = plot_comparison(results, m)
        fig.savefig(out / name, dpi=90)
        figures.append(f"<figure><img src='{name}' alt='{html.escape(m)} per algorithm and dataset'>"
                       f"<figcaption>{html.escape(m)}: bars are means over seeds, error bars one standard deviation, "
                       "dots single seeds.</figcaption></figure>")
    if not figures:
        return ""
    return "<h2>Comparison plots</h2><div class='figures'>" + "".join(figures) + "</div>"


def _graphs_section(results, graphs, truths, dsets, truth_free, shown_seed, out: pathlib.Path) -> str:
    changed = results.attrs.get("changed_nodes", {})
    consensus = results.attrs.get("consensus") or {}
    algos = list(dict.fromkeys(results["algorithm"]))
    with_truth = [d for d in dsets if d not in truth_free]
    text = [f"Seed {shown_seed}."]
    if with_truth:
        text.append("Edges are coloured against the truth: <span style='color:#2e7d32'>correct</span>, "
                    "<span style='color:#ef6c00'>reversed or differently marked</span>, <span style='color:#c62828'>extra"
                    "</span>, <span style='color:#9e9e9e'>missing (dashed)</span>.")
    if truth_free:
        text.append(f"{', '.join(html.escape(str(d)) for d in truth_free)} {'has' if len(truth_free) == 1 else 'have'} "
                    "no true graph: the edges are drawn in one colour, and the first panel is the consensus of the "
                    "algorithms (the edges more than half of them found).")
    text.append("Time series are drawn as summary graphs with the lags on the edges.")
    figures = []
    for dname in dsets:
        est = {a: graphs[(a, dname, shown_seed)] for a in algos if graphs.get((a, dname, shown_seed)) is not None}
        truth = truths.get(dname)
        if not est and truth is None:
            continue
        name = f"graphs-{slug(dname)}.png"
        _graph_figure(dname, truth, est, changed.get(dname, frozenset()), out / name,
                      consensus=consensus.get((dname, shown_seed)) if truth is None else None)
        figures.append(f"<figure><img src='{name}' alt='learned graphs on {html.escape(str(dname))}'>"
                       f"<figcaption>{html.escape(str(dname))}</figcaption></figure>")
    if not figures:
        return ""
    return (f"<h2 id='graphs'>Learned graphs</h2><p class='note'>{' '.join(text)}</p><div class='figures'>"
            + "".join(figures) + "</div>" + (_consensus_tables(results, shown_seed) if truth_free else ""))


def _errors_section(results: pd.DataFrame) -> str:
    if "status" not in results.columns or not (results["status"] != "ok").any():
        return ""
    errs = results[results["status"] != "ok"]
    rows = "".join(
        f"<tr><td class='text'>{html.escape(str(r.algorithm))}</td><td class='text'>{html.escape(str(r.dataset))}</td>"
        f"<td>{r.seed}</td><td class='error'>{html.escape(str(getattr(r, 'error', '')))}</td></tr>"
        for r in errs.itertuples(index=False)
    )
    return ("<h2>Errors</h2><table><tr><th class='text'>algorithm</th><th class='text'>dataset</th><th>seed</th>"
            f"<th class='text'>error</th></tr>{rows}</table>")
