"""The ``scmkit`` command line.

``scmkit compare`` runs the bundled default comparison (or a part of it), or
the suite's algorithms on the user's CSV files (no true graph needed), and
writes a report; ``scmkit discover`` learns a graph from a CSV file;
``scmkit effect`` estimates a causal effect given data and a graph;
``scmkit simulate`` writes simulated data and its true graph. Errors end with
a one-line message naming the file and the problem and a non-zero exit status,
never a traceback (``-v`` shows it).

Start-up: the packages are imported by the command that needs them, so ``scmkit compare
--list`` and a Fisher-z ``scmkit discover`` never import JAX; the commands that do compile
JAX kernels keep them in JAX's persistent compilation cache (:func:`compile_cache_dir`),
so a second process skips the compilation (``--no-compile-cache`` or
``SCMKIT_NO_COMPILE_CACHE=1`` turn that off; docs/comparing.md, "Start-up and the compilation
cache").
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import pathlib
import sys
import time
import warnings

from discovery._utils import first_line

DESCRIPTION = """Structural causal models and causal discovery.

commands:
  compare    compare discovery algorithms on the default suite or your CSV files, write an HTML report
  discover   learn a causal graph from a CSV file
  effect     estimate the causal effect of one column on another, given a graph
  simulate   write simulated data and its true graph

Run "scmkit COMMAND --help" for the options and examples of a command."""

EPILOG_COMPARE = """examples:
  scmkit compare                       # the default suite; report in ./scmkit-report
  scmkit compare --list                # the algorithms and datasets of the suite
  scmkit compare --algorithms pc-fisherz notears-linear --datasets sachs linear-er10 -o out/
  scmkit compare --seeds 0 1 2 --jobs 2 --cache .scmkit-cache   # resumable, 2 processes
  scmkit compare --scheduler tcp://10.0.0.5:8786                # on a Dask cluster
  scmkit compare shop.csv -o shop-report/                       # your data: no true graph needed
  scmkit compare sites.csv --context site --bootstrap 50        # several environments in one file
  scmkit compare visits.csv --groups patient                    # several exchangeable rows per patient
  scmkit compare sensors.csv --time-index time --algorithms pcmci-parcorr pcmciplus-parcorr

With data files, every file is a dataset without a known truth: the table and the report give
the edges by kind, bootstrap stability (--bootstrap N resamples, 20 by default; 0: off), the
agreement between algorithms, their consensus graph and the --folds-fold cross-validated
log-likelihood of a linear-Gaussian SCM on each learned graph (higher predicts better).
"""

EPILOG_DISCOVER = """examples:
  scmkit discover data.csv --method pc --alpha 0.01 -o graph.json
  scmkit discover data.csv --method pc --ci-test kci -o graph.png
  scmkit discover data.csv --method cdnod --context regime -o graph.dot
  scmkit discover data.csv --method icp --context environment
  scmkit discover series.csv --method pcmci --tau-max 3 -o links.json

The JSON is {"nodes": [...], "edges": [{"source", "target", "kind"}, ...]} with kind
"directed", "undirected" or "bidirected" (time series: also "lag" and "tau_max").
"""

EPILOG_EFFECT = """examples:
  scmkit effect data.csv --graph graph.json --treatment drug --outcome recovery
  scmkit effect data.csv --graph graph.json --treatment X1 --outcome X4 --estimator regression

The graph is a JSON file as written by "scmkit discover" or "scmkit simulate".
"""

EPILOG_SIMULATE = """examples:
  scmkit simulate --nodes 10 --samples 1000 --kind linear -o data.csv    # also data.graph.json
  scmkit simulate --nodes 8 --samples 500 --kind mlp --seed 3 -o nonlinear.csv
  scmkit simulate --nodes 6 --samples 1200 --environments 4 -o envs.csv  # adds an "environment" column
"""

METHODS = ("pc", "cdnod", "vidpdag", "notears", "icp", "pcmci", "pcmciplus")
GRAPH_SUFFIXES = (".json", ".dot", ".png")


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


#: Seeds go to numpy and JAX: non-negative and within numpy's legacy 32-bit range.
MAX_SEED = 2**32 - 1
#: Bootstrap resamples per run of scmkit compare: each is a fit, so more than this is a typo.
MAX_BOOTSTRAP = 10_000


def _int_option(low: int, high: int | None = None, *, or_minus_one: bool = False):
    """An argparse ``type`` for an integer option in ``[low, high]`` (and -1 if ``or_minus_one``).

    argparse then refuses a bad value itself, naming the option: ``argument --seed: must be
    an integer in [0, 4294967295]; got -5``, exit status 2.
    """
    span = f"in [{low}, {high}]" if high is not None else f">= {low}"
    wanted = f"an integer {span}" + (" or -1" if or_minus_one else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {text!r}") from None
        ok = value >= low and (high is None or value <= high)
        if not ok and not (or_minus_one and value == -1):
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {value}")
        return value

    return parse


def _float_option(low: float, high: float | None = None, *, open_low: bool = False, open_high: bool = False):
    """An argparse ``type`` for a finite number in a range (ends open or closed)."""
    if high is None:
        wanted = f"a number {'>' if open_low else '>='} {low:g}"
    else:
        wanted = f"a number in {'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {text!r}") from None
        ok = math.isfinite(value) and (value > low if open_low else value >= low)
        if high is not None:
            ok = ok and (value < high if open_high else value <= high)
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {wanted}; got {text}")
        return value

    return parse


_SEED = _int_option(0, MAX_SEED)
_PROBABILITY = _float_option(0.0, 1.0, open_low=True, open_high=True)


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="scmkit", description=DESCRIPTION, formatter_class=raw)
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr and show tracebacks")
    p.add_argument("--no-compile-cache", action="store_true",
                   help="do not keep compiled JAX kernels on disk (also: SCMKIT_NO_COMPILE_CACHE=1); "
                        "by default they are kept in $XDG_CACHE_HOME/scmkit/jax or ~/.cache/scmkit/jax")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("compare", help="compare discovery algorithms on the default suite or your data", description=(
        "Run every discovery algorithm on every dataset of the default suite it applies to, score the learned "
        "graphs against the truth, print the table and write an HTML report (index.html, results.csv, figures). "
        "Given CSV files, run them on your data instead, which needs no true graph."),
        epilog=EPILOG_COMPARE, formatter_class=raw)
    c.add_argument("data", nargs="*", metavar="DATA.csv",
                   help="CSV files with one numeric column per variable (default: the bundled suite)")
    c.add_argument("--context", default=None, metavar="COLUMN",
                   help="with DATA.csv: the environment / regime column (multi-environment data)")
    c.add_argument("--groups", default=None, metavar="COLUMN",
                   help="with DATA.csv: the group column (several exchangeable rows per group: grouped data)")
    c.add_argument("--time-index", default=None, metavar="COLUMN",
                   help="with DATA.csv: the time column; rows are sorted by it and the data is a time series")
    c.add_argument("--bootstrap", type=_int_option(0, MAX_BOOTSTRAP), default=None, metavar="N",
                   help="bootstrap resamples per run for the stability column (default: 20 with DATA.csv, 0 for the suite)")
    c.add_argument("--folds", type=_int_option(2), default=None, metavar="K",
                   help="with DATA.csv: folds of the held-out log-likelihood (default: 5)")
    c.add_argument("--algorithms", nargs="+", default=None, metavar="NAME", help="algorithm names (default: all that apply)")
    c.add_argument("--datasets", nargs="+", default=None, metavar="NAME", help="dataset names (default: the whole suite)")
    c.add_argument("--seeds", nargs="+", type=_SEED, default=[0], metavar="SEED", help="random seeds (default: 0)")
    c.add_argument("-o", "--output", default="scmkit-report", help="report directory (default: scmkit-report)")
    c.add_argument("--jobs", type=_int_option(1, or_minus_one=True), default=1, metavar="N",
                   help="local worker processes (default 1: in this process; -1: all cores)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on a Dask cluster (e.g. tcp://host:8786)")
    c.add_argument("--cache", default=None, metavar="DIR", help="cache finished runs here and resume from them")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    c.add_argument("--list", action="store_true", help="list the algorithms and datasets of the suite and exit")

    d = sub.add_parser("discover", help="learn a causal graph from a CSV file", description=(
        "Learn a causal graph from a CSV file with one numeric column per variable (and, for cdnod/icp, a "
        "context column) and write it as JSON, DOT or PNG."), epilog=EPILOG_DISCOVER, formatter_class=raw)
    d.add_argument("data", help="CSV file with one column per variable")
    d.add_argument("--method", default="pc", choices=METHODS, help="algorithm (default: pc)")
    d.add_argument("--context", nargs="+", default=None, metavar="COLUMN",
                   help="context / environment column(s): required by cdnod and icp (icp: one column)")
    d.add_argument("--ci-test", default=None, help="CI test: fisherz, kci, chisq, gsq (pc, cdnod); parcorr, kci (pcmci)")
    d.add_argument("--alpha", type=_PROBABILITY, default=None, help="significance level (default: the method's)")
    d.add_argument("--tau-max", type=_int_option(0), default=1, help="largest lag for pcmci / pcmciplus (default: 1)")
    d.add_argument("--seed", type=_SEED, default=0, help="random seed of notears / vidpdag (default: 0)")
    d.add_argument("-o", "--output", default=None, help="write the graph to .json, .dot or .png (default: JSON on stdout)")

    e = sub.add_parser("effect", help="estimate a causal effect given data and a graph", description=(
        "Estimate the effect of --treatment on --outcome: identification on the graph (adjustment, front-door "
        "or the ID algorithm), then an estimator with a confidence interval; prints why each choice was made."),
        epilog=EPILOG_EFFECT, formatter_class=raw)
    e.add_argument("data", help="CSV file with one column per observed variable")
    e.add_argument("--graph", required=True, help="graph JSON file (DAG or CPDAG)")
    e.add_argument("--treatment", required=True, help="treatment column")
    e.add_argument("--outcome", required=True, help="outcome column")
    e.add_argument("--estimator", default="auto", choices=["auto", "regression", "ipw", "aipw", "doubleml"],
                   help="estimator (default: auto)")
    e.add_argument("--alpha", type=_PROBABILITY, default=0.05, help="1 - confidence level (default: 0.05)")
    e.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")

    s = sub.add_parser("simulate", help="write simulated data and its true graph", description=(
        "Draw a random DAG and structural causal model, sample data and write it as CSV, with the true graph as "
        "JSON next to it (data.csv -> data.graph.json)."), epilog=EPILOG_SIMULATE, formatter_class=raw)
    s.add_argument("--nodes", type=_int_option(1), default=10, help="number of variables (default: 10)")
    s.add_argument("--samples", type=_int_option(1), default=1000, help="number of rows (default: 1000)")
    s.add_argument("--kind", default="linear", choices=["linear", "mlp", "gp"], help="mechanisms (default: linear)")
    s.add_argument("--degree", type=_float_option(0.0), default=2.0,
                   help="expected degree of the DAG, at most --nodes - 1 (default: 2)")
    s.add_argument("--graph-kind", default="ER", choices=["ER", "SF"], help="Erdős–Rényi or scale-free (default: ER)")
    s.add_argument("--environments", type=_int_option(1), default=1,
                   help="number of environments (default 1); > 1 adds an 'environment' column and shifted mechanisms")
    s.add_argument("--seed", type=_SEED, default=0, help="random seed (default: 0)")
    s.add_argument("-o", "--output", required=True, help="CSV file to write")
    return p


# --------------------------------------------------------------------------- input
def _read_csv(path):
    """A DataFrame from a CSV file, or a CLIError naming the file and the problem."""
    import pandas as pd

    p = pathlib.Path(path)
    if not p.exists():
        raise CLIError(f"{path}: no such file")
    if p.is_dir():
        raise CLIError(f"{path}: is a directory, not a CSV file")
    _check_header(p)
    try:
        frame = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path}: the file is empty") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text CSV file (cannot decode it as UTF-8)") from None
    except Exception as exc:  # pandas' parser errors are many
        raise CLIError(f"{path}: cannot read as CSV ({exc.__class__.__name__}: {first_line(exc)})") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise CLIError(f"{path}: no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_header(path: pathlib.Path) -> None:
    """Refuse a CSV header that names a column twice (pandas would rename the second 'a' to 'a.1')."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next((row for row in csv.reader(fh) if any(cell.strip() for cell in row)), [])  # as pandas, past blank lines
    except (UnicodeDecodeError, csv.Error):
        return  # the reader below says what is wrong with the file
    names = [h.strip() for h in header]
    seen: dict = {}
    for i, name in enumerate(names):
        if name in seen:
            raise CLIError(f"{path}: duplicate column name {name!r} (columns {seen[name] + 1} and {i + 1}); "
                           "rename one of them")
        seen[name] = i


def _check_columns(frame, path, columns, what="column"):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in list(frame.columns)[:12])
        raise CLIError(f"{path}: {what} {', '.join(map(repr, missing))} not in the file (columns: {shown})")


def _check_numeric(frame, path, *, skip=(), min_rows=5):
    import pandas as pd

    cols = [c for c in frame.columns if c not in set(skip)]
    bad = [c for c in cols if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    if bad:
        example = frame[bad[0]].dropna()
        sample = f", e.g. {str(example.iloc[0])!r}" if len(example) else ""
        raise CLIError(f"{path}: non-numeric column(s) {', '.join(map(repr, bad[:5]))}{sample}; "
                       "encode categories as numbers (or pass the column as --context)")
    nan = [c for c in frame.columns if frame[c].isna().any()]
    if nan:
        row = int(frame[nan[0]].isna().to_numpy().nonzero()[0][0])
        raise CLIError(f"{path}: column {nan[0]!r} has NaN / missing values (first at data row {row + 1}); "
                       "drop or impute them first")
    if len(frame) < min_rows:
        raise CLIError(f"{path}: only {len(frame)} rows; at least {min_rows} are needed")


def _output_kind(output):
    if output is None:
        return None
    suffix = pathlib.Path(output).suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise CLIError(f"{output}: the output must end in {', '.join(GRAPH_SUFFIXES)}")
    return suffix


# --------------------------------------------------------------------------- output of graphs
def _write_graph(graph, output, suffix, title=None) -> None:
    import networkx as nx

    from scm import PDAG

    if isinstance(graph, nx.Graph):
        graph = PDAG.from_networkx(graph)
    if suffix is None:
        print(graph.to_json(indent=2))
        return
    if suffix == ".json":
        text = graph.to_json(indent=2) + "\n"
    elif suffix == ".dot":
        text = graph.to_dot() + "\n"  # a LaggedGraph's: one node per variable and lag
    else:
        from discovery import plot_graph

        ax = plot_graph(graph, title=title)
        ax.figure.savefig(output, dpi=110)
        return
    pathlib.Path(output).write_text(text)


# --------------------------------------------------------------------------- commands
def _discover(args) -> int:
    import discovery  # each estimator at its use: PC with Fisher-z runs without importing JAX

    suffix = _output_kind(args.output)
    data = _read_csv(args.data)
    context = args.context or []
    if args.method in ("cdnod", "icp") and not context:
        raise CLIError(f"--method {args.method} needs --context COLUMN (the environment / regime / time column)")
    if args.method == "icp" and len(context) != 1:
        raise CLIError("--method icp takes exactly one --context column")
    if context and args.method not in ("cdnod", "icp"):
        raise CLIError(f"--context is used by cdnod and icp only, not by --method {args.method}")
    _check_columns(data, args.data, context, "context column")
    _check_numeric(data, args.data, skip=context)
    alpha = {} if args.alpha is None else {"alpha": args.alpha}
    m = args.method
    if m == "pc":
        est = discovery.PC(ci_test=args.ci_test or "fisherz", **alpha).fit(data)
    elif m == "cdnod":
        est = discovery.CDNOD(ci_test=args.ci_test or "fisherz", **alpha).fit(data, context=context)
    elif m == "icp":
        est = discovery.ICPGraph(**alpha).fit(data, environment=context[0])
    elif m in ("pcmci", "pcmciplus"):
        cls = discovery.PCMCI if m == "pcmci" else discovery.PCMCIPlus
        est = cls(ci_test=args.ci_test or "parcorr", tau_max=args.tau_max, **alpha).fit(data)
    else:
        if args.ci_test or args.alpha is not None:
            raise CLIError(f"--ci-test and --alpha do not apply to --method {m}")
        cls = discovery.NOTEARS if m == "notears" else discovery.VIDPDAG
        est = cls(random_state=args.seed).fit(data)
    _write_graph(est.graph_, args.output, suffix, title=f"{m} on {pathlib.Path(args.data).name}")
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _read_graph(path):
    from scm import PDAG

    p = pathlib.Path(path)
    if not p.exists():
        raise CLIError(f"{path}: no such file")
    try:
        data = json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CLIError(f"{path}: not a JSON file ({exc.__class__.__name__}: {first_line(exc)})") from None
    if not isinstance(data, dict) or "nodes" not in data or "edges" not in data:
        raise CLIError(f'{path}: not a graph file; expected {{"nodes": [...], "edges": [...]}}')
    if any(isinstance(e, dict) and "lag" in e for e in data["edges"]):
        raise CLIError(f"{path}: a time-series (lagged) graph; effect needs a DAG or CPDAG")
    try:
        graph = PDAG.from_dict(data)
    except Exception as exc:
        raise CLIError(f"{path}: not a valid graph ({exc.__class__.__name__}: {first_line(exc)})") from None
    return graph.to_networkx() if graph.is_dag() else graph


def _effect(args) -> int:
    from estimators import effect

    data = _read_csv(args.data)
    graph = _read_graph(args.graph)
    _check_columns(data, args.data, [args.treatment, args.outcome])
    _check_numeric(data, args.data)
    res = effect(data, graph, args.treatment, args.outcome, estimator=args.estimator, alpha=args.alpha,
                 random_state=args.seed)
    lo, hi = res.conf_int
    level = round(100 * (1 - args.alpha), 6)
    if res.identified:
        print(f"effect of {args.treatment} on {args.outcome}: {res.estimate:.4g}")
        print(f"{level:g}% confidence interval: [{lo:.4g}, {hi:.4g}]   (std. error {res.std_err:.3g})")
    else:
        r = res.range
        print(f"effect of {args.treatment} on {args.outcome}: not identified by the graph; possible effects in [{r.low:.4g}, {r.high:.4g}]")
        print(f"{level:g}% confidence intervals within: [{lo:.4g}, {hi:.4g}]")
        print(res.possible_effects.table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"method: {res.method}")
    if res.adjustment_set is not None:
        print(f"adjustment set: {{{', '.join(map(str, res.adjustment_set))}}}")
    if res.estimand:
        print(f"estimand: {res.estimand}")
    print(f"\n{res.explanation}")
    return 0


def _simulate(args) -> int:
    from scm import PDAG, simulate

    out = pathlib.Path(args.output)
    if out.suffix.lower() != ".csv":
        raise CLIError(f"{args.output}: the output must end in .csv")
    if args.degree > args.nodes - 1:
        raise CLIError(f"--degree {args.degree:g} is more than --nodes - 1 = {args.nodes - 1}, the largest expected degree "
                       f"of a DAG on {args.nodes} node{'s' if args.nodes != 1 else ''}")
    if args.samples < args.environments:
        raise CLIError(f"--samples {args.samples} is fewer than --environments {args.environments}: each environment "
                       "needs rows")
    if args.environments == 1:
        ds = simulate.simulate(n_nodes=args.nodes, n_samples=args.samples, expected_degree=args.degree,
                               graph_kind=args.graph_kind, scm_kind=args.kind, random_state=args.seed)
    else:
        per = max(1, args.samples // args.environments)
        dag = simulate.random_dag(args.nodes, args.degree, args.graph_kind, random_state=args.seed)
        ds = simulate.multi_environment(dag, n_environments=args.environments, n_samples=per, scm_kind=args.kind,
                                        random_state=args.seed)
    graph_path = out.with_name(out.stem + ".graph.json")
    ds.data.to_csv(out, index=False)
    graph_path.write_text(PDAG.from_networkx(ds.graph).to_json(indent=2) + "\n")
    changed = f"; changing nodes {sorted(ds.changed_nodes)}" if ds.changed_nodes else ""
    print(f"wrote {out} ({len(ds.data)} rows x {ds.data.shape[1]} columns) and {graph_path} "
          f"({ds.graph.number_of_edges()} edges){changed}")
    return 0


def _list_suite() -> int:
    # From the suite's table, not its estimators: --list imports neither them nor JAX.
    from discovery.evaluation._compare import CAPABILITIES
    from discovery.evaluation._suite import DEFAULT_ALGORITHMS, DEFAULT_DATASETS, default_restrictions

    only = default_restrictions()
    print("algorithms:")
    for name, (cls, params) in DEFAULT_ALGORITHMS.items():
        kinds = ", ".join(sorted(CAPABILITIES[cls].kinds))
        extra = f"; only on {', '.join(only[name])}" if name in only else ""
        shown = f"{cls}({', '.join(f'{k}={v!r}' for k, v in params.items())})"
        print(f"  {name:<20} {shown}  [{kinds}{extra}]")
    print("datasets:")
    for name, (_, text) in DEFAULT_DATASETS.items():
        print(f"  {name:<20} {text}")
    return 0


def _compare(args) -> int:
    if args.list:
        return _list_suite()
    from discovery._utils import ensure_directory

    for option, path in (("-o/--output", args.output), ("--cache", args.cache)):
        if path is not None:  # before the runs, not after them
            try:
                ensure_directory(path, name=option, owner="scmkit compare", create=False)
            except ValueError:
                raise CLIError(f"{option} {path}: not a directory (a file is in the way)") from None
    datasets = _user_datasets(args) if args.data else None
    if datasets is None:
        for option, value in (("--context", args.context), ("--groups", args.groups), ("--time-index", args.time_index),
                              ("--folds", args.folds)):
            if value is not None:
                raise CLIError(f"{option} applies to data files (scmkit compare DATA.csv {option} ...), not to the bundled suite")
    algorithms = _compare_algorithms(args, user_data=datasets is not None)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    client = executor = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise CLIError("--scheduler needs dask.distributed: pip install 'scmkit[dask]'") from None
        try:
            client = Client(args.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise CLIError(f"--scheduler {args.scheduler}: cannot connect ({exc.__class__.__name__}: {first_line(exc)})") from None
        executor = client.get_executor()
    t0 = time.perf_counter()
    common = {"seeds": args.seeds, "output": args.output, "executor": executor, "n_jobs": args.jobs, "cache_dir": args.cache,
              "progress": progress}
    try:
        with _announce():
            if datasets is None:
                from discovery.evaluation._suite import run_default_suite

                table = run_default_suite(algorithms=algorithms, datasets=args.datasets, n_bootstrap=args.bootstrap or 0, **common)
            else:
                from discovery.evaluation._suite import run_on_data
                from scm import ParameterError

                n_boot = 20 if args.bootstrap is None else args.bootstrap
                try:
                    table = run_on_data(datasets, algorithms, n_bootstrap=n_boot, cv_folds=args.folds or 5, **common)
                except ParameterError as exc:  # e.g. no chosen algorithm applies to the files' kind of data
                    raise CLIError(first_line(exc)) from None
    finally:
        if client is not None:
            client.close()
    _print_table(table, args, truth_free=datasets is not None)
    errors = table[table["status"] != "ok"]
    for r in errors.itertuples(index=False):
        print(f"error: {r.algorithm} on {r.dataset} (seed {r.seed}): {r.error}")
    where = os.path.join(args.output, "index.html")
    print(f"\n{len(table)} runs ({len(errors)} failed) in {time.perf_counter() - t0:.1f} s; report: {where}")
    return 0


# --------------------------------------------------------------------------- JAX's compilation cache
#: JAX's settings (read from the environment when JAX is imported) that keep every compiled
#: kernel of a command in its persistent cache: the CI-test kernels compile in a few tenths of a
#: second each, under JAX's default threshold of one second.
COMPILE_CACHE_SETTINGS = {
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
}


def compile_cache_dir() -> pathlib.Path:
    """The directory of the command line's JAX compilation cache.

    ``$XDG_CACHE_HOME/scmkit/jax`` when ``XDG_CACHE_HOME`` is an absolute path (the XDG
    base directory specification ignores a relative one), else ``~/.cache/scmkit/jax``.

    Examples
    --------
    >>> compile_cache_dir().parts[-2:]
    ('scmkit', 'jax')
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = pathlib.Path(base) if os.path.isabs(base) else pathlib.Path.home() / ".cache"
    return root / "scmkit" / "jax"


def compile_cache_environment(disabled: bool = False) -> dict:
    """The environment variables that turn on JAX's persistent compilation cache for a command.

    ``{}`` when ``disabled`` (``--no-compile-cache``) or ``SCMKIT_NO_COMPILE_CACHE`` is set to
    anything but ``""`` or ``"0"``. Variables the user has set are left to them: an explicit
    ``JAX_COMPILATION_CACHE_DIR`` wins.

    Examples
    --------
    >>> sorted(compile_cache_environment())
    ['JAX_COMPILATION_CACHE_DIR', 'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', 'JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES']
    >>> compile_cache_environment(disabled=True)
    {}
    """
    if disabled or os.environ.get("SCMKIT_NO_COMPILE_CACHE", "") not in ("", "0"):
        return {}
    wanted = {"JAX_COMPILATION_CACHE_DIR": str(compile_cache_dir()), **COMPILE_CACHE_SETTINGS}
    return {k: v for k, v in wanted.items() if k not in os.environ}
class _announce:
    """Log what ``scmkit compare`` does (writing the report, ...) on stderr as ``scmkit: ...`` lines, also
    without -v: a handler on the suite's logger for the duration of the command."""

    def __enter__(self):
        self.logger = logging.getLogger("discovery.evaluation._suite")
        self.handler = logging.StreamHandler(sys.stderr)
        self.handler.setFormatter(logging.Formatter("scmkit: %(message)s"))
        self.level, self.propagate = self.logger.level, self.logger.propagate
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)
        self.logger.propagate = self.propagate
        return False


def _compare_algorithms(args, *, user_data: bool):
    """The --algorithms names, checked against the suite (a data file given after --algorithms is named)."""
    if not args.algorithms:
        return None
    from discovery.evaluation._suite import default_algorithms

    known = list(default_algorithms())
    unknown = [a for a in args.algorithms if a not in known]
    if unknown:
        files = [a for a in unknown if a.lower().endswith(".csv") or pathlib.Path(a).is_file()]
        hint = (f"; {', '.join(map(repr, files))} looks like a data file: put data files before --algorithms"
                if files else "")
        raise CLIError(f"--algorithms: unknown algorithm(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}{hint}")
    return list(args.algorithms)


def _user_datasets(args) -> dict:
    """name -> scm.Dataset of each data file (its stem), checked: a named CLIError for anything wrong."""
    if args.datasets:
        raise CLIError("--datasets selects from the bundled suite; with data files, every file is a dataset")
    given = [o for o, v in (("--context", args.context), ("--groups", args.groups), ("--time-index", args.time_index))
             if v is not None]
    if len(given) > 1:
        raise CLIError(f"{' and '.join(given)} exclude each other: a file is either several environments, groups of "
                       "exchangeable rows or one time series")
    out: dict = {}
    for path in args.data:
        frame = _read_csv(path)
        name = base = pathlib.Path(path).stem or "data"
        i = 2
        while name in out:
            name, i = f"{base}-{i}", i + 1
        out[name] = _user_dataset(frame, path, name, args.context, args.time_index, args.groups)
    return out


def _user_dataset(frame, path, name, context, time_index, groups=None):
    import numpy as np
    import pandas as pd

    from scm import Dataset

    special = [c for c in (context, time_index, groups) if c is not None]
    option = "--context" if context is not None else ("--groups" if groups is not None else "--time-index")
    _check_columns(frame, path, special, f"{option} column")
    _check_numeric(frame, path, skip=special, min_rows=10)
    variables = [c for c in frame.columns if c not in special]
    infinite = [c for c in variables if not np.isfinite(frame[c].to_numpy(dtype=float)).all()]
    if infinite:
        row = int(np.flatnonzero(~np.isfinite(frame[infinite[0]].to_numpy(dtype=float)))[0])
        raise CLIError(f"{path}: column {infinite[0]!r} holds inf (first at data row {row + 1}); drop or clip it first")
    if len(variables) < 2:
        raise CLIError(f"{path}: {len(variables)} variable column(s) {variables}; causal discovery needs at least two")
    constant = [c for c in variables if frame[c].nunique() == 1]
    if constant:
        raise CLIError(f"{path}: column(s) {', '.join(map(repr, constant))} are constant (every row is "
                       f"{frame[constant[0]].iloc[0]!r}): a constant variable has no causes or effects to find; drop it")
    if context is not None:
        levels = frame[context].nunique()
        if levels < 2:
            raise CLIError(f"{path}: --context column {context!r} has a single value {frame[context].iloc[0]!r}: "
                           "there are no environments to compare")
        return Dataset(frame, name=name, kind="multi_environment", environment=context)
    if groups is not None:
        sizes = frame[groups].value_counts()
        if len(sizes) < 2:
            raise CLIError(f"{path}: --groups column {groups!r} has a single value {frame[groups].iloc[0]!r}: "
                           "grouped data needs at least two groups")
        return Dataset(frame, name=name, kind="grouped", environment=groups)
    if time_index is not None:
        stamps = frame[time_index]
        if not pd.api.types.is_numeric_dtype(stamps):
            try:
                stamps = pd.to_datetime(stamps, format="mixed")
            except (ValueError, TypeError):
                raise CLIError(f"{path}: --time-index column {time_index!r} holds neither numbers nor dates "
                               f"(e.g. {str(frame[time_index].iloc[0])!r})") from None
        if stamps.duplicated().any():
            dup = stamps[stamps.duplicated()].iloc[0]
            raise CLIError(f"{path}: --time-index column {time_index!r} repeats the time {str(dup)!r}: one row per time point")
        order = stamps.argsort(kind="stable").to_numpy()
        series = frame[variables].iloc[order].reset_index(drop=True)
        return Dataset(series, name=name, kind="time_series")
    return Dataset(frame, name=name)


_TRUTH_FREE_SHOWN = ("n_edges", "n_directed", "n_undirected", "n_bidirected", "n_lagged", "stability", "mean_shd_to_others",
                     "heldout_loglik", "heldout_loglik_se")


def _print_table(table, args, *, truth_free: bool) -> None:
    import pandas as pd

    cols = ["algorithm", "dataset"] + (["seed"] if len(set(args.seeds)) > 1 else [])
    if truth_free:
        shown = [c for c in _TRUTH_FREE_SHOWN if c in table.columns]
        cols += shown + [c for c in ("fit_seconds", "status") if c in table.columns]
        notes = table.attrs.get("notes") or {}
        view = table[cols].astype(object)
        for i, r in enumerate(table.itertuples(index=False)):
            for c in shown:
                value = view.iat[i, cols.index(c)]
                if isinstance(value, float) and math.isnan(value):
                    status = notes.get((r.algorithm, r.dataset, r.seed), {}).get(c, ("-",))[0]
                    view.iat[i, cols.index(c)] = {"not applicable": "n/a", "undefined": "undef"}.get(status, "-")
                elif isinstance(value, float):
                    view.iat[i, cols.index(c)] = f"{value:.0f}" if value.is_integer() and c.startswith("n_") else f"{value:.3f}"
        view["fit_seconds"] = [f"{v:.2f}" for v in table["fit_seconds"]]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(view.to_string(index=False))
        print("n/a: not applicable, undef: undefined (the notes column of results.csv says why); "
              "heldout_loglik: higher predicts held-out rows better")
        return
    cols += [c for c in ("shd", "sid_lower", "sid_upper", "skeleton_f1", "arrowhead_f1", "fit_seconds", "status") if c in table.columns]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(table[cols].to_string(index=False, na_rep="-"))


def main(argv=None) -> int:
    """Entry point of the ``scmkit`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    quiet = logging.ERROR if args.command == "compare" else logging.WARNING  # compare keeps warnings in its table
    logging.basicConfig(level=logging.INFO if args.verbose else quiet, format="%(levelname)s %(name)s: %(message)s")
    from scm import ScmkitError

    commands = {"compare": _compare, "discover": _discover, "effect": _effect, "simulate": _simulate}
    # JAX reads these when a command first imports it (worker processes inherit them); a JAX
    # imported before (main called from Python) keeps its settings. Restored on return.
    cache_env = {} if "jax" in sys.modules else compile_cache_environment(args.no_compile_cache)
    os.environ.update(cache_env)
    shown = warnings.showwarning
    warnings.showwarning = _show_warning  # one line per warning; restored below
    try:
        return commands[args.command](args)
    except BrokenPipeError:  # the reader of our output went away (scmkit compare --list | head): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush of stdout at exit would fail again
        return 0
    except CLIError as exc:
        print(f"scmkit: error: {exc}", file=sys.stderr)
        return 2
    except (ScmkitError, OSError) as exc:
        if args.verbose:
            raise
        where = f"{args.data}: " if getattr(args, "data", None) and isinstance(exc, ScmkitError) else ""
        text = first_line(exc) or type(exc).__name__
        print(f"scmkit: error: {where}{text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("scmkit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # pragma: no cover - a bug: still one line unless -v
        if args.verbose:
            raise
        text = first_line(exc)
        print(f"scmkit: error: {type(exc).__name__}: {text} (run with -v for the traceback)", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = shown
        for key in cache_env:
            os.environ.pop(key, None)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = first_line(message)
    print(f"scmkit: warning: {category.__name__}: {text}", file=sys.stderr if file is None else file)
