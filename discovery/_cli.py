"""The ``scmkit`` command line.

``scmkit compare`` runs the bundled default comparison; ``scmkit discover``
learns a graph from a CSV file. Errors end with a one-line message and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

EPILOG_COMPARE = """examples:
  scmkit compare                       # the default suite, report in ./scmkit-report
  scmkit compare --algorithms pc-fisherz --datasets sachs -o out/
"""

EPILOG_DISCOVER = """examples:
  scmkit discover data.csv --method pc --alpha 0.01 -o graph.json
  scmkit discover data.csv --method cdnod --context regime -o graph.dot
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scmkit", description="Structural causal models and causal discovery.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("compare", help="compare discovery algorithms on the default suite",
                       epilog=EPILOG_COMPARE, formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--algorithms", nargs="+", default=None, help="algorithm names (default: all that apply)")
    c.add_argument("--datasets", nargs="+", default=None, help="dataset names (default: the whole suite)")
    c.add_argument("--seeds", nargs="+", type=int, default=[0], help="random seeds (default: 0)")
    c.add_argument("-o", "--output", default="scmkit-report", help="report directory (default: scmkit-report)")

    d = sub.add_parser("discover", help="learn a causal graph from a CSV file",
                       epilog=EPILOG_DISCOVER, formatter_class=argparse.RawDescriptionHelpFormatter)
    d.add_argument("data", help="CSV file with one column per variable")
    d.add_argument("--method", default="pc", choices=["pc", "cdnod"], help="algorithm (default: pc)")
    d.add_argument("--context", nargs="+", default=None, help="context column(s) for cdnod")
    d.add_argument("--ci-test", default=None, help="conditional-independence test (fisherz, kci, chisq, gsq)")
    d.add_argument("--alpha", type=float, default=0.05, help="significance level (default: 0.05)")
    d.add_argument("-o", "--output", default=None, help="write the graph to .json or .dot (default: JSON on stdout)")
    return p


def _read_csv(path):
    import pandas as pd

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise SystemExit(f"scmkit: error: {path}: no such file") from None
    except Exception as exc:  # pandas' parser errors are many
        raise SystemExit(f"scmkit: error: {path}: cannot read as CSV ({exc.__class__.__name__}: {str(exc).splitlines()[0]})") from None


def _discover(args) -> int:
    from . import CDNOD, PC

    data = _read_csv(args.data)
    if args.method == "pc":
        est = PC(alpha=args.alpha, ci_test=args.ci_test or "fisherz").fit(data)
    else:
        if not args.context:
            raise SystemExit("scmkit: error: --method cdnod needs --context COLUMN")
        missing = [c for c in args.context if c not in data.columns]
        if missing:
            raise SystemExit(f"scmkit: error: {args.data}: context column(s) {missing} not in the file")
        est = CDNOD(alpha=args.alpha, ci_test=args.ci_test or "fisherz").fit(data, context=args.context)
    graph = est.graph_
    if args.output is None:
        print(graph.to_json(indent=2))
    elif args.output.endswith(".json"):
        with open(args.output, "w") as fh:
            fh.write(graph.to_json(indent=2))
    elif args.output.endswith(".dot"):
        with open(args.output, "w") as fh:
            fh.write(graph.to_dot())
    else:
        raise SystemExit(f"scmkit: error: {args.output}: the output must end in .json or .dot")
    return 0


def _compare(args) -> int:
    from ._suite import run_default_suite

    t0 = time.perf_counter()
    table = run_default_suite(algorithms=args.algorithms, datasets=args.datasets, seeds=args.seeds, output=args.output)
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(table.to_string(index=False))
    print(f"\nwrote {args.output}/results.csv and {args.output}/index.html in {time.perf_counter() - t0:.1f} s")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``scmkit`` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from scm import ScmkitError

    try:
        if args.command == "compare":
            return _compare(args)
        return _discover(args)
    except ScmkitError as exc:
        where = f"{getattr(args, 'data', '')}: " if getattr(args, "data", None) else ""
        print(f"scmkit: error: {where}{str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("scmkit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
