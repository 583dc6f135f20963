"""Coverage of the bootstrap intervals of a fitted SCM's interventional means.

A known SCM on the DAG ``Z -> X, Z -> Y, X -> Y, Y -> W`` (X's effect on Y is confounded by Z;
W is a grandchild of X) is sampled ``--reps`` times at each size ``n``; each sample is fitted on
the true graph by ``SCM.fit`` and asked for the 95% bootstrap interval of

- ``E[Y | do(X = 1)]``, ``E[W | do(X = 1)]`` (one call: ``interventional_mean({"X": 1.0}, ...)``),
- ``E[Y | do(X = -1)]`` (a second call),

and each interval is compared with the true value. Settings (``--settings``):

- ``linear``: the truth is ``scm.simulate.random_scm(dag, kind="linear")`` (weights uniform on
  +-[0.5, 2], Gaussian noise with standard deviations uniform on [0.5, 1]); fitted with
  ``mechanism="linear"``, whose means are closed forms and whose refits are batched least
  squares; the true means are closed forms too.
- ``nonlinear``: an additive-noise SCM with smooth mechanisms (``X = tanh(1.5 Z) + 0.6 e``,
  ``Y = 1.2 sin(X) + 0.5 X + 0.4 Z^2 + 0.5 e``, ``W = 1.5 tanh(Y) + 0.5 e``, standard normal
  noises), which additive splines can represent; fitted with ``mechanism={"Y": "spline", "W":
  "spline"}`` (X's own mechanism does not enter ``E[. | do(X = x)]``; it is fitted linear) and
  Monte-Carlo means of ``--mc`` draws per answer (model and refits); the true means come from
  2,000,000 draws of the true model.
- ``mlp`` (not run by default): ``random_scm(dag, kind="mlp")``, random tanh / sigmoid networks of
  the parents (not additive), fitted with ``mechanism="auto"``: what coverage looks like when the
  mechanism learner cannot represent the truth.

Coverage is the fraction of intervals that contain the truth, with its 95% Wilson interval over
the replications; *se ratio* is the standard deviation of the estimates over the replications
divided by the mean bootstrap standard error (1: calibrated); *bias / se* is the mean error of
the estimate divided by the mean bootstrap standard error (smoothing bias shows here).

Run from the repository root::

    python benchmarks/bench_scm_coverage.py --docs docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time

from _common import add_repo_to_path, blas_settings, command_line, load_average, machine_description, pin_blas_threads

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--reps", type=int, default=200, help="replications per setting and size (default 200)")
_parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000], help="rows per sample (default 200 1000)")
_parser.add_argument("--settings", nargs="+", default=["linear", "nonlinear"], choices=["linear", "nonlinear", "mlp"])
_parser.add_argument("--boot-linear", type=int, default=500, help="refits per interval, linear setting (default 500)")
_parser.add_argument("--boot-nonlinear", type=int, default=200, help="refits per interval, other settings (default 200)")
_parser.add_argument("--mc", type=int, default=1000, help="Monte-Carlo draws per answer, non-linear settings (default 1000)")
_parser.add_argument("--alpha", type=float, default=0.05, help="1 - the intervals' level (default 0.05)")
_parser.add_argument("--seed", type=int, default=0, help="seed of the truths, the samples and the bootstrap (default 0)")
_parser.add_argument("--truth-draws", type=int, default=2_000_000, help="draws of the true model for non-linear truths")
_parser.add_argument("--json", help="write the per-replication records (and the run's machine, load and times) to this file, "
                     "after each setting and size")
_parser.add_argument("--from-json", help="no simulation: tabulate the records of an earlier --json file (and write --docs)")
_parser.add_argument("--reference-fits", type=int, default=0,
                     help="also fit this many fresh samples per setting and size (no bootstrap) for the estimator's true "
                          "standard deviation, the reference of the bootstrap's (saved with --json)")
_parser.add_argument("--timing", action="store_true",
                     help="also time the refits: batched least squares against one at a time (saved with --json)")
_parser.add_argument("--docs", help="write the section 'Bootstrap intervals of a fitted SCM' into this Markdown file")
_parser.add_argument("--reading", help="a paragraph on what the figures say, kept with the run (--json) and printed in the section")
_parser.add_argument("--blas-threads", default="1", help="OPENBLAS/OMP/MKL_NUM_THREADS, or 'default' (default 1)")
ARGS = _parser.parse_args()
pin_blas_threads(ARGS.blas_threads)
add_repo_to_path()

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from scm import SCM, AdditiveNoise, Linear  # noqa: E402
from scm.simulate import random_scm  # noqa: E402

DAG = nx.DiGraph([("Z", "X"), ("Z", "Y"), ("X", "Y"), ("Y", "W")])
TARGETS = [("Y", 1.0), ("W", 1.0), ("Y", -1.0)]  # (node, x) for E[node | do(X = x)]
SECTION = "## Bootstrap intervals of a fitted SCM"


def _nonlinear_truth() -> SCM:
    mechanisms = {
        "Z": Linear(),
        "X": AdditiveNoise(lambda P: np.tanh(1.5 * P[:, 0]), parents=["Z"]),
        "Y": AdditiveNoise(lambda P: 1.2 * np.sin(P[:, 1]) + 0.5 * P[:, 1] + 0.4 * P[:, 0] ** 2, parents=["Z", "X"]),
        "W": AdditiveNoise(lambda P: 1.5 * np.tanh(P[:, 0]), parents=["Y"]),
    }
    return SCM(DAG, mechanisms, {"Z": 1.0, "X": 0.6, "Y": 0.5, "W": 0.5})


def setting(name: str):
    """(truth, fit options, query options, refits) of a setting."""
    if name == "linear":
        truth = random_scm(DAG, kind="linear", random_state=ARGS.seed)
        return truth, {"mechanism": "linear"}, {}, ARGS.boot_linear
    truth = _nonlinear_truth() if name == "nonlinear" else random_scm(DAG, kind="mlp", random_state=ARGS.seed)
    # X's mechanism does not enter E[. | do(X = x)] (the intervention replaces it) and Z is a root: splines where they matter.
    mechanism = {"Y": "spline", "W": "spline"} if name == "nonlinear" else "auto"
    return truth, {"mechanism": mechanism}, {"n_samples": ARGS.mc}, ARGS.boot_nonlinear


def mc_variances(records: list[dict]) -> list[dict]:
    """``Var(node | do(X = x))`` of the true models whose answers are Monte-Carlo means: one answer's Monte-Carlo
    variance is it over the draws per answer."""
    out = []
    for name in sorted({r["setting"] for r in records}):
        truth, _, query_opts, _ = setting(name)
        if "n_samples" not in query_opts:
            continue
        for x in sorted({x for _, x in TARGETS}):
            draws = truth.do({"X": x}).sample(ARGS.truth_draws, random_state=np.random.default_rng([ARGS.seed, 98]))
            for node, xt in TARGETS:
                if xt == x:
                    out.append({"setting": name, "target": f"E[{node} | do(X = {x:g})]", "var": float(draws[node].var()),
                                "draws_per_answer": query_opts["n_samples"]})
    return out


def true_means(name: str, truth: SCM) -> dict:
    out = {}
    for x in sorted({x for _, x in TARGETS}):
        if name == "linear":
            mean = truth.interventional_mean({"X": x})
        else:
            draws = truth.do({"X": x}).sample(ARGS.truth_draws, random_state=np.random.default_rng([ARGS.seed, 99]))
            mean = draws.mean()
        for node, xt in TARGETS:
            if xt == x:
                out[(node, x)] = float(mean[node])
    return out


def run_setting(name: str, records: list, save) -> None:
    truth, fit_opts, query_opts, n_boot = setting(name)
    truth_values = true_means(name, truth)
    print(f"[{name}] true values: {truth_values}", flush=True)
    for n in ARGS.sizes:
        start = time.perf_counter()
        for rep in range(ARGS.reps):
            data = truth.sample(n, random_state=np.random.default_rng([ARGS.seed, n, rep]))
            fitted = SCM.fit(DAG, data, random_state=rep, **fit_opts)
            for x in sorted({x for _, x in TARGETS}):
                res = fitted.interventional_mean({"X": x}, n_bootstrap=n_boot, alpha=ARGS.alpha,
                                                 random_state=np.random.default_rng([ARGS.seed, n, rep, 1]), **query_opts)
                for node, xt in TARGETS:
                    if xt != x:
                        continue
                    t = truth_values[(node, x)]
                    lo, hi = float(res.ci_low[node]), float(res.ci_high[node])
                    records.append({"setting": name, "n": n, "rep": rep, "target": f"E[{node} | do(X = {x:g})]",
                                    "truth": t, "estimate": float(res.estimate[node]), "std_err": float(res.std_err[node]),
                                    "ci_low": lo, "ci_high": hi, "covered": bool(lo <= t <= hi), "n_failed": res.n_failed,
                                    "n_bootstrap": n_boot})
            if (rep + 1) % 20 == 0:
                print(f"[{name}] n={n}: {rep + 1}/{ARGS.reps} replications, {time.perf_counter() - start:.0f} s", flush=True)
        seconds = time.perf_counter() - start
        for r in records:
            if r["n"] == n and r["setting"] == name:
                r["seconds_per_replication"] = seconds / ARGS.reps
        save()


def reference_sd(records: list[dict], n_fits: int) -> list[dict]:
    """The estimator's standard deviation and bias over ``n_fits`` fresh samples (no bootstrap), per setting, size, target."""
    out = []
    for name, n in sorted({(r["setting"], r["n"]) for r in records}):
        truth, fit_opts, query_opts, _ = setting(name)
        truth_values = true_means(name, truth)
        est = {t: [] for t in TARGETS}
        for rep in range(n_fits):
            data = truth.sample(n, random_state=np.random.default_rng([ARGS.seed, n, rep, 7]))
            fitted = SCM.fit(DAG, data, random_state=rep, **fit_opts)
            for x in sorted({x for _, x in TARGETS}):
                mean = fitted.interventional_mean({"X": x}, random_state=np.random.default_rng([ARGS.seed, n, rep, 8]),
                                                  **query_opts)
                for node, xt in TARGETS:
                    if xt == x:
                        est[(node, x)].append(float(mean[node]))
        for (node, x), values in est.items():
            out.append({"setting": name, "n": n, "target": f"E[{node} | do(X = {x:g})]", "fits": n_fits,
                        "true_sd": float(np.std(values, ddof=1)), "bias": float(np.mean(values) - truth_values[(node, x)])})
        print(f"[{name}] n={n}: reference from {n_fits} fits done", flush=True)
    return out


class _OneAtATime:
    """An executor that runs the refits in this process, one after the other: the refits without batching."""

    map = staticmethod(map)


def time_refits() -> list[dict]:
    """Seconds per refit of interventional_mean(n_bootstrap=500): batched least squares vs one at a time, best of 3."""
    from _common import timed

    rows = []
    for name in ("linear", "nonlinear"):
        truth, fit_opts, query_opts, _ = setting(name)
        n_boot = 500 if name == "linear" else 100
        for n in ARGS.sizes:
            fitted = SCM.fit(DAG, truth.sample(n, random_state=0), **fit_opts)
            modes = {"batched": None, "one at a time": _OneAtATime()} if name == "linear" else {"one at a time": None}
            for mode, executor in modes.items():
                _, sec = timed(lambda: fitted.interventional_mean({"X": 1.0}, n_bootstrap=n_boot, random_state=0,
                                                                  executor=executor, **query_opts), 3)
                rows.append({"setting": name, "n": n, "mode": mode, "refits": n_boot, "ms_per_refit": 1000 * sec / n_boot})
                print(rows[-1], flush=True)
    return rows


def wilson(k: int, m: int, z: float = 1.96) -> tuple[float, float]:
    p = k / m
    centre = (p + z * z / (2 * m)) / (1 + z * z / m)
    half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    return centre - half, centre + half


def expected_coverage(std_errs: np.ndarray, mc_var: float) -> float:
    """The coverage a percentile interval of these standard errors has when one answer's Monte-Carlo variance
    ``mc_var`` widens it but does not move its centre (normal approximation, averaged over the replications)."""
    z = stats.norm.ppf(1 - ARGS.alpha / 2)
    fit_sd = np.sqrt(np.maximum(std_errs**2 - mc_var, 1e-12 * std_errs**2))
    return float(np.mean(2 * stats.norm.cdf(z * std_errs / fit_sd) - 1))


def summary(records: list[dict], reference: list | None = None, mc_var: list | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(records)
    ref = {(r["setting"], r["n"], r["target"]): r for r in reference or []}
    mcv = {(r["setting"], r["target"]): r["var"] / r["draws_per_answer"] for r in mc_var or []}
    rows = []
    for (name, n, target), g in frame.groupby(["setting", "n", "target"], sort=False):
        k, m = int(g["covered"].sum()), len(g)
        lo, hi = wilson(k, m)
        err = g["estimate"] - g["truth"]
        se = g["std_err"].mean()
        rows.append({"setting": name, "n": n, "target": target, "coverage": k / m, "wilson_low": lo, "wilson_high": hi,
                     "mean_width": (g["ci_high"] - g["ci_low"]).mean(), "se_ratio": g["estimate"].std(ddof=1) / se,
                     "bias_over_se": err.mean() / se, "failed_refits": int(g["n_failed"].sum()),
                     "refits": int(g["n_bootstrap"].iloc[0]), "seconds": g["seconds_per_replication"].iloc[0],
                     "se_over_true_sd": se / ref[(name, n, target)]["true_sd"] if (name, n, target) in ref else np.nan,
                     "ref_bias_over_se": ref[(name, n, target)]["bias"] / se if (name, n, target) in ref else np.nan,
                     "expected_coverage": expected_coverage(g["std_err"].to_numpy(), mcv.get((name, target), 0.0))})
    return pd.DataFrame(rows)


def _num(value, fmt: str) -> str:
    return "-" if not np.isfinite(value) else format(value, fmt)


def markdown(table: pd.DataFrame, meta: dict) -> str:
    level = 1 - ARGS.alpha
    info = meta["info"]
    lines = [
        SECTION,
        "",
        f"How often the {level:.0%} bootstrap interval of a fitted SCM's interventional mean contains the true value: "
        f"{ARGS.reps} replications per row, each a fresh sample of the true model fitted on the true DAG "
        "`Z -> X, Z -> Y, X -> Y, Y -> W` (`benchmarks/bench_scm_coverage.py`, whose docstring describes the truths). "
        "Linear: `mechanism=\"linear\"`, closed-form means, batched least-squares refits. Nonlinear: additive smooth "
        "mechanisms, Y and W fitted with additive cubic splines (`mechanism={\"Y\": \"spline\", \"W\": \"spline\"}`; "
        "X's own mechanism does not enter the targets), Monte-Carlo means of "
        f"{ARGS.mc} draws per answer (model and each refit). Percentile intervals, seeds from one `SeedSequence` per call.",
        "",
        f"- **Machine:** `nproc` = {info['nproc']}, {info['cpu']}; Python {info['python']}, numpy {info['numpy']}, "
        f"scikit-learn {info.get('sklearn', '?')}. Run on {meta['started']} (load average before the run: "
        f"{meta['load_before']}; after: {meta['load_after']}); {meta['elapsed'] / 60:.0f} min in all.",
        f"- **Threads:** {blas_settings(markdown=True)}.",
        *([f"- **Runs:** {meta['note']}"] if meta.get("note") else []),
        "",
        "```bash",
        meta["command"],
        "```",
        "",
        "| setting | n | target | refits | coverage | 95% Wilson | expected | mean width | se ratio | bias / se "
        "| mean se / true sd | true bias / se | failed refits | s / replication |",
        "|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.setting} | {r.n} | {r.target.replace('|', chr(92) + '|')} | {r.refits} | {r.coverage:.1%} | "
            f"[{r.wilson_low:.1%}, {r.wilson_high:.1%}] | {r.expected_coverage:.1%} | "
            f"{r.mean_width:.3g} | {r.se_ratio:.2f} | {r.bias_over_se:+.2f} | {_num(r.se_over_true_sd, '.2f')} | "
            f"{_num(r.ref_bias_over_se, '+.2f')} | {r.failed_refits} | {r.seconds:.2f} |"
        )
    if meta.get("timing"):
        lines += [
            "",
            "Time per refit of `interventional_mean({\"X\": 1.0}, n_bootstrap=...)` (fit and answer; best of 3, "
            f"measured on {meta['timing_date']}, load average {meta['timing_load']}): linear fits refitted together by "
            "batched weighted least squares, or one at a time through `fit_scm` (forced here by an executor that runs "
            "the refits in turn); spline fits are always refitted one at a time.",
            "",
            "| setting | n | refits | mode | ms per refit |",
            "|---|---:|---:|---|---:|",
            *(f"| {r['setting']} | {r['n']} | {r['refits']} | {r['mode']} | {r['ms_per_refit']:.2f} |" for r in meta["timing"]),
        ]
    inside = table[(table["coverage"] >= 0.90) & (table["coverage"] <= 0.97)]
    outside = table.drop(inside.index)
    lines += [
        "",
        f"Goal of issue 27, coverage between 90% and 97% at the 95% level: **{len(inside)} of {len(table)} rows**"
        + ("." if outside.empty else "; outside it: " + "; ".join(
            f"{r.setting} n = {r.n} {r.target}: {r.coverage:.1%}" for r in outside.itertuples()) + "."),
        "",
        *([meta["reading"], ""] if meta.get("reading") else []),
        "Why the percentile interval: it respects transformations and the range of the answer (a probability from "
        "`interventional_quantity` stays in [0, 1]), and needs no fit beyond the refits; the basic interval can leave the "
        "range, and BCa's acceleration needs a jackknife, one more refit per row of the data (200 to 1,000 here), more than "
        "the bootstrap itself.",
    ]
    lines += [
        "",
        "*expected*: the coverage the interval should have given how much of its standard error is Monte-Carlo error "
        "(one answer's Monte-Carlo variance, the true model's variance over the draws per answer, widens the percentile "
        "interval without moving its centre: 2 Phi(1.96 se / sqrt(se^2 - mc^2)) - 1, averaged over the replications; the "
        "nominal level for closed forms). "
        "*se ratio*: standard deviation of the estimates over the replications / mean bootstrap standard error "
        "(1 when the bootstrap's spread is right). *bias / se*: mean error of the estimate / mean bootstrap standard error. "
        + (f"*mean se / true sd* and *true bias / se*: the same against the estimator's standard deviation and bias "
           f"over {meta['reference'][0]['fits']} further fits of fresh samples (no bootstrap), a reference far less noisy "
           "than the replications' own. " if meta.get("reference") else "")
        + "*s / replication*: wall clock of one replication (one fit and its intervals for the three targets, two "
        "bootstrap calls), on the shared machine.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    if ARGS.from_json:
        with open(ARGS.from_json) as fh:
            saved = json.load(fh)
        meta, records = saved["meta"], saved["records"]
        for key in ("reps", "mc", "alpha"):  # what the section says of the run is the run's, not this command's
            setattr(ARGS, key, meta["args"][key])
    else:
        meta = {"started": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "load_before": load_average(),
                "info": machine_description(["sklearn"]), "command": command_line(__file__),
                "args": {k: v for k, v in vars(ARGS).items() if k not in ("from_json",)}}
        records = []
        t0 = time.perf_counter()

        def save():
            meta.update(load_after=load_average(), elapsed=time.perf_counter() - t0)
            if ARGS.json:
                with open(ARGS.json, "w") as fh:
                    json.dump({"meta": meta, "records": records}, fh)

        for name in ARGS.settings:
            run_setting(name, records, save)
        save()
    if ARGS.reference_fits:
        meta.update(reference=reference_sd(records, ARGS.reference_fits))
        if ARGS.json:
            with open(ARGS.json, "w") as fh:
                json.dump({"meta": meta, "records": records}, fh)
    if ARGS.timing:
        meta.update(timing=time_refits(), timing_date=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                    timing_load=load_average())
        if ARGS.json:
            with open(ARGS.json, "w") as fh:
                json.dump({"meta": meta, "records": records}, fh)
    if ARGS.reading:
        meta["reading"] = ARGS.reading
    if "mc_var" not in meta:
        meta["mc_var"] = mc_variances(records)
    if ARGS.json:
        with open(ARGS.json, "w") as fh:
            json.dump({"meta": meta, "records": records}, fh)
    table = summary(records, meta.get("reference"), meta["mc_var"])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    z = stats.norm.ppf(1 - ARGS.alpha / 2)
    print(f"(nominal {1 - ARGS.alpha:.0%}; z = {z:.3f})")
    if ARGS.docs:
        from _common import replace_markdown_section

        replace_markdown_section(ARGS.docs, SECTION, markdown(table, meta))
        print(f"wrote the section {SECTION!r} of {ARGS.docs}")


if __name__ == "__main__":
    sys.exit(main())
