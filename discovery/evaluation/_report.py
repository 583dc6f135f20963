"""A static HTML report of a comparison: ``index.html``, ``results.csv`` and PNG figures.

:func:`write_report` turns the table of :func:`discovery.compare` into a
directory that opens in any browser without a server or network access: a
styled summary table (mean +- standard deviation over seeds, the best value per
dataset in bold), one comparison plot per metric, each dataset's learned graphs
next to the truth, the errors and every run.
"""

from __future__ import annotations

import html
import math
import pathlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from scm._exceptions import ParameterError

from .._utils import ensure_directory, slug

__all__ = ["write_report", "REPORT_METRICS"]

#: The metrics shown in the summary table and plotted (when present and not all NaN).
#: ``sid_lower`` and ``sid_upper`` stand for the SID: equal to it for DAG estimates, and defined
#: for CPDAG estimates too (the range over the DAGs in the class).
REPORT_METRICS = ("shd", "skeleton_f1", "arrowhead_f1", "sid_lower", "sid_upper", "average_precision", "fit_seconds")
_LOWER_IS_BETTER = {"shd", "sid", "sid_lower", "sid_upper", "fit_seconds"}

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


def _summary_table(results: pd.DataFrame, metrics: list) -> str:
    ok = results[results["status"] == "ok"] if "status" in results.columns else results
    dsets = list(dict.fromkeys(results["dataset"]))
    algos = list(dict.fromkeys(results["algorithm"]))
    seeds = results["seed"].nunique() if "seed" in results.columns else 1
    head = "".join(f"<th>{html.escape(m)}{' &darr;' if m in _LOWER_IS_BETTER else ' &uarr;'}</th>" for m in metrics)
    rows = [f"<tr><th class='text'>dataset</th><th class='text'>algorithm</th><th>runs ok</th>{head}</tr>"]
    for dname in dsets:
        sub = ok[ok["dataset"] == dname]
        allsub = results[results["dataset"] == dname]
        stats = {}
        for m in metrics:
            g = sub.groupby("algorithm", sort=False)[m]
            stats[m] = (g.mean(), g.std(ddof=1))
        best = {}
        for m in metrics:
            means = stats[m][0].dropna()
            if len(means) > 1 and m != "fit_seconds":
                best[m] = means.min() if m in _LOWER_IS_BETTER else means.max()
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
                text = _fmt(mean, m)
                if seeds > 1 and not (isinstance(std, float) and math.isnan(std)):
                    text += f" &plusmn; {_fmt(std, m)}"
                cls = " class='best'" if m in best and not math.isnan(mean) and math.isclose(mean, best[m]) else ""
                cells.append(f"<td{cls}>{text}</td>")
            cls = " class='first'" if first else ""
            dcell = f"<td class='text'><b>{html.escape(str(dname))}</b></td>" if first else "<td></td>"
            rows.append(f"<tr{cls}>{dcell}<td class='text'>{html.escape(str(aname))}</td><td>{n_ok}/{len(runs)}</td>{''.join(cells)}</tr>")
            first = False
    return "<table>" + "\n".join(rows) + "</table>"


def _graph_figure(dname, truth, estimates: dict, changed, path: pathlib.Path) -> None:
    from matplotlib.figure import Figure

    from ._compare import reference_graph
    from ._plot import _pair_marks, graph_layout, plot_graph

    panels = ([("truth", truth, None)] if truth is not None else []) + [
        (name, g, reference_graph(truth, g, "auto", changed)) for name, g in estimates.items()
    ]
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
        ``results`` and not all NaN).
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
    from ._plot import plot_comparison

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
    changed = results.attrs.get("changed_nodes", {})
    results.to_csv(out / "results.csv", index=False)
    if metrics is None:
        metrics = [m for m in REPORT_METRICS if m in results.columns and pd.to_numeric(results[m], errors="coerce").notna().any()]
    else:
        bad = [m for m in metrics if m not in results.columns]
        if bad:
            raise ParameterError(f"results have no column(s) {bad}; columns: {list(results.columns)}")
        metrics = list(metrics)

    parts = []
    n_err = int((results["status"] != "ok").sum()) if "status" in results.columns else 0
    dsets = list(dict.fromkeys(results["dataset"]))
    algos = list(dict.fromkeys(results["algorithm"]))
    seeds = sorted(set(results["seed"]))
    stamp = pd.Timestamp.now().isoformat(timespec="seconds")
    parts.append(
        f"<header><h1>{html.escape(title)}</h1><p>{len(results)} runs &middot; {len(algos)} algorithms &middot; "
        f"{len(dsets)} datasets &middot; seeds {html.escape(', '.join(map(str, seeds)))} &middot; "
        f"{n_err} error{'s' if n_err != 1 else ''} &middot; {html.escape(stamp)}</p></header><main>"
    )
    parts.append("<h2>Summary</h2><p class='note'>Mean over seeds (&plusmn; standard deviation); &darr; lower is better, "
                 "&uarr; higher is better; the best value per dataset is highlighted. Constraint-based methods are scored "
                 "against the CPDAG of the true DAG, time-series methods against the true lagged graph's CPDAG. "
                 "Download every run as <a href='results.csv'>results.csv</a>.</p>")
    parts.append(_summary_table(results, metrics))

    parts.append("<h2>Comparison plots</h2><div class='figures'>")
    for m in metrics:
        name = f"comparison-{slug(m)}.png"
        fig = plot_comparison(results, m)
        fig.savefig(out / name, dpi=90)
        parts.append(f"<figure><img src='{name}' alt='{html.escape(m)} per algorithm and dataset'>"
                     f"<figcaption>{html.escape(m)}: bars are means over seeds, error bars one standard deviation, "
                     "dots single seeds.</figcaption></figure>")
    parts.append("</div>")

    if graphs:
        shown_seed = seeds[0] if seed is None else seed
        parts.append(f"<h2>Learned graphs</h2><p class='note'>Seed {shown_seed}. Edges are coloured against the truth: "
                     "<span style='color:#2e7d32'>correct</span>, <span style='color:#ef6c00'>reversed or differently "
                     "marked</span>, <span style='color:#c62828'>extra</span>, <span style='color:#9e9e9e'>missing "
                     "(dashed)</span>. Time series are drawn as summary graphs with the lags on the edges.</p>"
                     "<div class='figures'>")
        for dname in dsets:
            est = {a: graphs[(a, dname, shown_seed)] for a in algos if graphs.get((a, dname, shown_seed)) is not None}
            truth = truths.get(dname)
            if not est and truth is None:
                continue
            name = f"graphs-{slug(dname)}.png"
            _graph_figure(dname, truth, est, changed.get(dname, frozenset()), out / name)
            parts.append(f"<figure><img src='{name}' alt='learned graphs on {html.escape(str(dname))}'>"
                         f"<figcaption>{html.escape(str(dname))}</figcaption></figure>")
        parts.append("</div>")

    if n_err:
        errs = results[results["status"] != "ok"]
        rows = "".join(
            f"<tr><td class='text'>{html.escape(str(r.algorithm))}</td><td class='text'>{html.escape(str(r.dataset))}</td>"
            f"<td>{r.seed}</td><td class='error'>{html.escape(str(getattr(r, 'error', '')))}</td></tr>"
            for r in errs.itertuples(index=False)
        )
        parts.append("<h2>Errors</h2><table><tr><th class='text'>algorithm</th><th class='text'>dataset</th><th>seed</th>"
                     f"<th class='text'>error</th></tr>{rows}</table>")

    if checks_section:
        parts.append(checks_section)

    shown = results.drop(columns=[c for c in ("warnings",) if c in results.columns])
    parts.append("<h2>All runs</h2><details><summary>Show every run</summary>"
                 + shown.to_html(index=False, float_format=lambda v: f"{v:.3g}", escape=True, na_rep="&ndash;", border=0)
                 .replace("&amp;ndash;", "&ndash;") + "</details>")
    parts.append("</main>")
    page = ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
