"""SCM fitting and queries: scmkit vs dowhy-gcm, side by side in one process.

The data: a random linear SCM on 100 nodes (Erdős–Rényi DAG with expected degree 3,
weights uniform on +-[0.5, 1.5] then rescaled so each node's parents explain half of
its variance, Gaussian noise) and 10,000 observational rows. Both libraries get the
same graph and the same data, and are timed on

1. fitting the mechanisms (scmkit ``mechanism="linear"`` and ``"auto"``; dowhy-gcm
   auto-assignment with ``AssignmentQuality.GOOD`` + ``gcm.fit``, and dowhy-gcm with a
   linear additive-noise model assigned by hand to every non-root node);
2. drawing 10,000 interventional samples under ``do(X = x)`` for the node ``X`` with the
   most descendants;
3. 1,000 counterfactuals of observed units under ``do(X = x)``;

and their answers are checked against the true model's closed forms (step 4).

BLAS is pinned to one thread (``OPENBLAS_NUM_THREADS=1`` and friends, set before
numpy is imported), for both libraries; ``--blas-threads default`` leaves it alone.
dowhy-gcm keeps its default ``n_jobs=-1`` (joblib worker processes for the model
selection of its auto-assignment) unless ``--dowhy-n-jobs`` says otherwise.

Run from the repository root::

    python benchmarks/bench_scm_dowhy.py --docs docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import sys

from _common import (
    BLAS_VARS,
    add_repo_to_path,
    blas_settings,
    command_line,
    load_average,
    machine_description,
    pin_blas_threads,
    replace_markdown_section,
    timed,
)

# ----------------------------------------------------------------------------- BLAS threads
# Must happen before numpy (or anything that imports it) is imported.
_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--nodes", type=int, default=100, help="number of nodes (default 100)")
_parser.add_argument("--degree", type=float, default=3.0, help="expected degree (parents + children) of a node (default 3)")
_parser.add_argument("--rows", type=int, default=10_000, help="observational rows (default 10000)")
_parser.add_argument("--samples", type=int, default=10_000, help="interventional samples (default 10000)")
_parser.add_argument("--units", type=int, default=1_000, help="counterfactual units (default 1000)")
_parser.add_argument("--node", help="the intervened node (default: the one with the most descendants)")
_parser.add_argument("--seed", type=int, default=0, help="seed of the graph, weights, data and of both libraries (default 0)")
_parser.add_argument("--repeat", type=int, default=5, help="runs per timed step, the fastest reported (default 5); "
                     "dowhy-gcm's auto-assignment + fit always runs once")
_parser.add_argument("--blas-threads", default="1",
                     help="value for OPENBLAS/OMP/MKL_NUM_THREADS, or 'default' to leave them unset (default 1)")
_parser.add_argument("--dowhy-n-jobs", type=int, default=None, help="gcm.config.default_n_jobs (default: dowhy's own, -1)")
_parser.add_argument("--skip-dowhy-auto", action="store_true", help="skip dowhy-gcm's slow auto-assignment")
_parser.add_argument("--blas-check", action="store_true", help="also time the cheap steps in a child process with "
                     "BLAS threads left at their default, for comparison")
_parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # used by --blas-check's child
_parser.add_argument("--docs", metavar="PATH", help="write the results as the section of this Markdown file (e.g. docs/benchmarks.md)")
ARGS = _parser.parse_args()
pin_blas_threads(ARGS.blas_threads)
add_repo_to_path()

import datetime  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from dowhy import gcm  # noqa: E402

from scm import SCM  # noqa: E402

SECTION = "## SCM fitting and queries vs dowhy-gcm"


# ------------------------------------------------------------------------------ the problem
def random_linear_scm(d: int, degree: float, rng: np.random.Generator) -> SCM:
    """A random linear Gaussian SCM on an Erdős–Rényi DAG.

    Edge probability ``degree / (d - 1)`` between every ordered pair of a random
    permutation, so a node has ``degree`` neighbours (parents + children) on average.
    Weights are uniform on ``[-1.5, -0.5] U [0.5, 1.5]``; then, in topological order,
    the incoming weights of each node are rescaled so that its parents' contribution
    has variance 1, like its unit-variance noise (every non-root has variance 2, so
    variances do not grow down the graph). Intercepts are uniform on ``[-1, 1]``.
    """
    order = rng.permutation(d)
    names = [f"X{i:02d}" for i in range(d)]
    W = np.zeros((d, d))  # in topological positions: W[a, b] effect of order[a] on order[b], a < b
    mask = np.triu(rng.random((d, d)) < degree / (d - 1), k=1)
    W[mask] = rng.uniform(0.5, 1.5, size=mask.sum()) * rng.choice([-1.0, 1.0], size=mask.sum())
    C = np.zeros((d, d))  # covariance of the nodes in topological positions
    for b in range(d):
        pa = np.nonzero(W[:, b])[0]
        if pa.size:
            w = W[pa, b]
            w /= np.sqrt(w @ C[np.ix_(pa, pa)] @ w)
            W[pa, b] = w
            C[b, :b] = C[:b, b] = w @ C[pa, :b]
            C[b, b] = 2.0
        else:
            C[b, b] = 1.0
    # back to node names: node order[a] is at position a
    Wn = np.zeros((d, d))
    Wn[np.ix_(order, order)] = W
    frame = pd.DataFrame(Wn, index=names, columns=names)
    intercepts = dict(zip(names, rng.uniform(-1.0, 1.0, size=d)))
    return SCM.from_linear(frame, noise_std=1.0, intercepts=intercepts)


# ----------------------------------------------------------------------------------- dowhy
def seed_dowhy():
    """dowhy-gcm draws from numpy's and Python's global generators: seed both."""
    gcm.util.general.set_random_seed(ARGS.seed)


def dowhy_model(graph: nx.DiGraph, data: pd.DataFrame, how: str):
    model = gcm.InvertibleStructuralCausalModel(nx.DiGraph(graph))  # its own copy: dowhy annotates nodes
    t0 = time.perf_counter()
    if how == "auto":
        summary = gcm.auto.assign_causal_mechanisms(model, data, quality=gcm.auto.AssignmentQuality.GOOD)
    else:
        summary = None
        for node in model.graph.nodes:
            if model.graph.in_degree(node) == 0:
                model.set_causal_mechanism(node, gcm.EmpiricalDistribution())
            else:
                model.set_causal_mechanism(node, gcm.AdditiveNoiseModel(gcm.ml.create_linear_regressor()))
    t_assign = time.perf_counter() - t0
    gcm.fit(model, data)
    return model, t_assign, summary


def dowhy_mechanism_counts(model) -> dict:
    counts: dict = {}
    for node in model.graph.nodes:
        mech = model.causal_mechanism(node)
        if isinstance(mech, gcm.AdditiveNoiseModel):
            name = type(mech.prediction_model).__name__
            if hasattr(mech.prediction_model, "sklearn_model"):
                name = type(mech.prediction_model.sklearn_model).__name__
                if name == "Pipeline":
                    name = "+".join(type(s).__name__ for _, s in mech.prediction_model.sklearn_model.steps)
        else:
            name = type(mech).__name__
        counts[name] = counts.get(name, 0) + 1
    return counts


# ----------------------------------------------------------------------------------- report
def fmt_s(t) -> str:
    if t is None:
        return "-"
    return f"{t:.3g}" if t < 100 else f"{t:.0f}"


def fmt_ratio(a, b) -> str:
    if a is None or b is None:
        return "-"
    return f"{b / a:.1f}x"


# ------------------------------------------------------------------------------------ main
def main() -> int:
    warnings.filterwarnings("ignore", category=FutureWarning)
    gcm.config.disable_progress_bars()
    if ARGS.dowhy_n_jobs is not None:
        gcm.config.set_default_n_jobs(ARGS.dowhy_n_jobs)
    rng = np.random.default_rng(ARGS.seed)
    truth = random_linear_scm(ARGS.nodes, ARGS.degree, rng)
    graph = truth.graph
    data = truth.sample(ARGS.rows, random_state=rng)
    obs = data.iloc[: ARGS.units]
    n_desc = {n: len(nx.descendants(graph, n)) for n in graph.nodes}
    if ARGS.node is not None:
        if ARGS.node not in graph:
            raise SystemExit(f"--node {ARGS.node!r} is not a node of the graph ({list(graph.nodes)[:3]}...)")
        X = ARGS.node
    else:
        X = max(graph.nodes, key=lambda n: (n_desc[n], n))
    desc = sorted(nx.descendants(graph, X))
    sd_X = float(np.sqrt(truth.interventional_cov().loc[X, X]))
    x = round(float(truth.interventional_mean().loc[X]) + 2.0 * sd_X, 3)  # two standard deviations up
    info = machine_description(("sklearn", "dowhy"))
    R = ARGS.repeat

    print(f"scmkit vs dowhy-gcm {info['dowhy']}: {ARGS.nodes}-node random linear SCM, {graph.number_of_edges()} edges, "
          f"{ARGS.rows} rows; do({X} = {x}), {len(desc)} descendants")
    print(f"BLAS: {blas_settings()} (set before importing numpy); "
          f"threadpoolctl sees: {info['blas']}")
    print(f"dowhy-gcm n_jobs = {gcm.config.default_n_jobs}; dowhy seeded with gcm.util.general.set_random_seed({ARGS.seed}) "
          "before each call; scmkit with random_state")
    print(f"machine: nproc {info['nproc']}, {info['cpu']}, Python {info['python']}, numpy {info['numpy']}, "
          f"scikit-learn {info['sklearn']}; load average {info['load']}")

    rows = []  # (step, scmkit s, dowhy s)
    # ---- 1. fit
    sk_lin, t_sk_lin = timed(lambda: SCM.fit(graph, data, mechanism="linear"), R)
    sk_auto, t_sk_auto = timed(lambda: SCM.fit(graph, data, mechanism="auto", random_state=ARGS.seed), R)
    (dw_lin, t_dw_lin_assign, _), t_dw_lin = timed(lambda: dowhy_model(graph, data, "linear"), R, before=seed_dowhy)
    dw_auto = t_dw_auto = t_dw_auto_assign = None
    if not ARGS.skip_dowhy_auto:
        (dw_auto, t_dw_auto_assign, _), t_dw_auto = timed(lambda: dowhy_model(graph, data, "auto"), 1, before=seed_dowhy)
    sk_auto_counts = pd.Series(sk_auto.fitted_mechanisms_).value_counts().to_dict()
    rows.append(("fit, linear (scmkit `linear` / dowhy hand-assigned linear ANM)", t_sk_lin, t_dw_lin))
    rows.append(("fit, auto (scmkit `auto` / dowhy auto-assignment GOOD + fit)", t_sk_auto, t_dw_auto))
    rows.append(("fit: scmkit `auto` vs dowhy hand-assigned linear", t_sk_auto, t_dw_lin))

    # ---- 2. interventional samples
    N = ARGS.samples
    pairs = [("linear", sk_lin, dw_lin)] + ([("auto", sk_auto, dw_auto)] if dw_auto is not None else [("auto", sk_auto, None)])
    inter, cfs = {}, {}
    for tag, sk, dw in pairs:
        s, t_s = timed(lambda sk=sk: sk.do({X: x}).sample(N, random_state=ARGS.seed), R)
        inter[("scmkit", tag)] = s
        t_d = None
        if dw is not None:
            d, t_d = timed(lambda dw=dw: gcm.interventional_samples(dw, {X: lambda v: x}, num_samples_to_draw=N), R, before=seed_dowhy)
            inter[("dowhy", tag)] = d
        rows.append((f"{N:,} interventional samples, {tag} fits", t_s, t_d))
    # ---- 3. counterfactuals
    for tag, sk, dw in pairs:
        s, t_s = timed(lambda sk=sk: sk.counterfactual(obs, {X: x}), R)
        cfs[("scmkit", tag)] = s
        t_d = None
        if dw is not None:
            d, t_d = timed(lambda dw=dw: gcm.counterfactual_samples(dw, {X: lambda v: x}, observed_data=obs), R, before=seed_dowhy)
            cfs[("dowhy", tag)] = d
        rows.append((f"{len(obs):,} counterfactuals, {tag} fits", t_s, t_d))

    # ---- 4. accuracy against the true model
    true_mean = truth.interventional_mean({X: x})[desc]
    true_sd = np.sqrt(np.diag(truth.interventional_cov({X: x}).loc[desc, desc]))
    se = true_sd / np.sqrt(N)
    true_cf = truth.counterfactual(obs, {X: x})
    total_effect = truth.interventional_mean({X: 1.0}) - truth.interventional_mean({X: 0.0})
    identity = (true_cf - obs).to_numpy() - np.outer(x - obs[X].to_numpy(), total_effect[list(obs.columns)].to_numpy())
    identity_err = float(np.abs(identity).max())
    if identity_err > 1e-8:
        raise AssertionError(f"true counterfactual change differs from (x - x_obs) * total effect by {identity_err:.3g}")
    acc = []  # (library, fits, max |mean err|, rms mean err, max |cf err|, rms cf err)
    for (lib, tag), s in inter.items():
        err = (s[desc].mean() - true_mean).to_numpy()
        cf = cfs[(lib, tag)][list(obs.columns)].to_numpy()
        cf_err = cf - true_cf.to_numpy()
        acc.append((lib, tag, np.abs(err).max(), np.sqrt(np.mean(err**2)), np.abs(cf_err).max(), np.sqrt(np.mean(cf_err**2))))
    closed = {}
    for tag, sk in (("linear", sk_lin), ("auto", sk_auto)):
        try:
            err = (sk.interventional_mean({X: x})[desc] - true_mean).to_numpy()
            closed[tag] = (np.abs(err).max(), np.sqrt(np.mean(err**2)))
        except Exception:  # non-linear mechanisms chosen: no closed form
            closed[tag] = None

    if ARGS.json:
        print(json.dumps({"rows": rows, "blas": info["blas"]}))
        return 0
    blas_check = None
    if ARGS.blas_check:
        child = [sys.executable, __file__, "--blas-threads", "default", "--skip-dowhy-auto", "--json",
                 *(f"--{k.replace('_', '-')}={getattr(ARGS, k)}"
                   for k in ("nodes", "degree", "rows", "samples", "units", "seed", "repeat"))]
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
        out = subprocess.run(child, capture_output=True, text=True, check=True, env=env).stdout
        blas_check = json.loads(out.strip().splitlines()[-1])

    # ---- report
    goal = None if t_dw_auto is None else t_dw_auto / t_sk_auto
    print()
    print(f"{'step':<66} {'scmkit s':>9} {'dowhy s':>9} {'ratio':>7}")
    for step, a, b in rows:
        print(f"{step.replace('`', ''):<66} {fmt_s(a):>9} {fmt_s(b):>9} {fmt_ratio(a, b):>7}")
    if t_dw_auto is not None:
        print(f"  dowhy auto: assignment (model selection) {t_dw_auto_assign:.1f} s + fit {t_dw_auto - t_dw_auto_assign:.1f} s; "
              f"chose {dowhy_mechanism_counts(dw_auto)}")
    print(f"  scmkit auto chose {sk_auto_counts}")
    print(f"  goal 'fit with auto >= 20x faster than dowhy auto-assignment + fit': "
          f"{'-' if goal is None else f'{goal:.1f}x, ' + ('met' if goal >= 20 else 'NOT met')}")
    print()
    print(f"accuracy vs the true model ({len(desc)} descendants of {X}; Monte-Carlo s.e. of a mean: "
          f"RMS {np.sqrt(np.mean(se**2)):.4f}, max {se.max():.4f})")
    print(f"{'library':<8} {'fits':<7} {'max|mean err|':>14} {'RMS mean err':>13} {'max|cf err|':>12} {'RMS cf err':>11}")
    for lib, tag, a, b, c, dd in acc:
        print(f"{lib:<8} {tag:<7} {a:>14.4f} {b:>13.4f} {c:>12.4g} {dd:>11.4g}")
    for tag, v in closed.items():
        if v is not None:
            print(f"  scmkit {tag} fit, closed-form interventional_mean (no Monte-Carlo error): max {v[0]:.4f}, RMS {v[1]:.4f}")
    print(f"  true counterfactual change = (x - x_obs) * total effect holds to {identity_err:.1e}")
    if blas_check is not None:
        print()
        print(f"BLAS threads at their default ({blas_check['blas']}) vs pinned to {ARGS.blas_threads}, same steps, seconds:")
        print(f"{'step':<66} {'scmkit':>15} {'dowhy':>15}")
        for (step, a, b), (_, a2, b2) in zip(rows, blas_check["rows"]):
            print(f"{step.replace('`', ''):<66} {fmt_s(a2):>7} / {fmt_s(a):<7} {fmt_s(b2):>7} / {fmt_s(b):<7}")

    if ARGS.docs:
        write_docs(Path(ARGS.docs), info=info, graph=graph, X=X, x=x, desc=desc, rows=rows, acc=acc, se=se,
                   closed=closed, goal=goal, sk_auto_counts=sk_auto_counts,
                   dw_auto=(None if dw_auto is None else (t_dw_auto_assign, t_dw_auto, dowhy_mechanism_counts(dw_auto))),
                   identity_err=identity_err, blas_check=blas_check)
        print(f"\nwrote section {SECTION!r} of {ARGS.docs}")
    return 0


# ------------------------------------------------------------------------------------ docs
def write_docs(path: Path, *, info, graph, X, x, desc, rows, acc, se, closed, goal, sk_auto_counts, dw_auto, identity_err,
               blas_check=None):
    blas = blas_settings(markdown=True)
    lines = [
        SECTION,
        "",
        f"scmkit and dowhy-gcm {info['dowhy']} side by side in one Python process on the same data: a random linear "
        f"SCM on {ARGS.nodes} nodes (Erdős–Rényi DAG, expected degree {ARGS.degree:g}, {graph.number_of_edges()} edges; "
        "weights uniform on ±[0.5, 1.5], rescaled so each node's parents explain half its variance; "
        f"Gaussian noise; intercepts uniform on [-1, 1]) and {ARGS.rows:,} observational rows. The intervention is "
        f"do({X} = {x}) (two standard deviations above its mean) on "
        + (f"the node with the most descendants ({len(desc)}; "
           f"{'a root' if graph.in_degree(X) == 0 else f'{graph.in_degree(X)} parent(s)'})."
           if ARGS.node is None else f"{X}, which has {len(desc)} descendants."),
        "",
        f"- **Machine:** `nproc` = {info['nproc']}, {info['cpu']}; Python {info['python']}, numpy {info['numpy']}, "
        f"scikit-learn {info['sklearn']}, dowhy {info['dowhy']}. Run on {datetime.date.today().isoformat()} "
        f"(load average before the run: {info['load']}).",
        f"- **Threads:** {blas}, set in `os.environ` before numpy is imported, for both libraries "
        f"(threadpoolctl: {info['blas']}). dowhy-gcm keeps `n_jobs={gcm.config.default_n_jobs}`: its auto-assignment "
        "evaluates candidate models in joblib worker processes.",
        f"- **Seeds:** graph, weights and data from `numpy.random.default_rng({ARGS.seed})`; scmkit takes "
        f"`random_state={ARGS.seed}`; dowhy-gcm draws from numpy's global generator, so "
        f"`gcm.util.general.set_random_seed({ARGS.seed})` is called before each dowhy call. Progress bars off "
        "(`gcm.config.disable_progress_bars()`).",
        f"- **Timing:** wall clock, best of {ARGS.repeat} run(s); dowhy's auto-assignment + fit runs once. "
        "Ratio = dowhy time / scmkit time.",
        "",
        "```bash",
        command_line(__file__),
        "```",
        "",
        "| step | scmkit s | dowhy-gcm s | ratio |",
        "|---|---:|---:|---:|",
    ]
    for step, a, b in rows:
        lines.append(f"| {step} | {fmt_s(a)} | {fmt_s(b)} | {fmt_ratio(a, b)} |")
    lines.append("")
    if dw_auto is not None:
        t_assign, t_total, counts = dw_auto
        lines.append(f"dowhy's auto-assignment spends {t_assign:.1f} s choosing models and {t_total - t_assign:.1f} s fitting "
                     f"them; it chose {', '.join(f'{k} ({v})' for k, v in counts.items())}. scmkit `auto` chose "
                     f"{', '.join(f'{k} ({v})' for k, v in sk_auto_counts.items())}.")
        lines.append("")
    if goal is not None:
        lines.append(f"Goal of issue 2, fitting with `auto` at least 20x faster than dowhy-gcm's auto-assignment + fit: "
                     f"**{goal:.1f}x, {'met' if goal >= 20 else 'not met'}**.")
        lines.append("")
    lines += [
        f"Accuracy against the true model. *Mean err*: the mean of each of the {len(desc)} descendants of {X} over the "
        f"{ARGS.samples:,} interventional samples minus the exact `interventional_mean` of the true model; the "
        f"Monte-Carlo standard error of such a mean is {np.sqrt(np.mean(se**2)):.3f} (RMS; max {se.max():.3f}). "
        f"*cf err*: each library's counterfactuals of the {ARGS.units:,} units minus the true model's "
        "(which equal the observed values plus (x - x_obs) times the total effect, checked to "
        f"{identity_err:.0e}), over all nodes and units.",
        "",
        "| library | fits | max abs mean err | RMS mean err | max abs cf err | RMS cf err |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for lib, tag, a, b, c, dd in acc:
        lines.append(f"| {lib} | {tag} | {a:.4f} | {b:.4f} | {c:.3g} | {dd:.3g} |")
    lines.append("")
    if closed.get("linear") is not None and closed.get("linear") == closed.get("auto"):
        closed = {"`linear` and `auto` fits (the same model here)": closed["linear"]}
    for tag, v in closed.items():
        if v is not None:
            label = tag if tag.startswith("`") else f"`{tag}` fit"
            lines.append(f"The closed-form `interventional_mean` of scmkit's {label} is off by at most {v[0]:.4f} "
                         f"(RMS {v[1]:.4f}): no Monte-Carlo error, only estimation error.")
    lines.append("")
    if blas_check is not None:
        lines += [
            f"BLAS threads left at their default ({blas_check['blas']}) instead of pinned to {ARGS.blas_threads}, "
            "same steps in a child process (`--blas-check`, which skips dowhy's auto-assignment), seconds, default / pinned:",
            "",
            "| step | scmkit | dowhy-gcm |",
            "|---|---:|---:|",
        ]
        for (step, a, b), (_, a2, b2) in zip(rows, blas_check["rows"]):
            lines.append(f"| {step} | {fmt_s(a2)} / {fmt_s(a)} | {fmt_s(b2)} / {fmt_s(b)} |")
        lines.append("")
    lines.append(f"The machine is shared with other work: the load average was {info['load']} when the run started "
                 f"and {load_average()} when it ended; on a loaded machine every figure "
                 "above is slower, dowhy-gcm's auto-assignment (which uses both cores) most.")
    section = "\n".join(lines).rstrip() + "\n"
    replace_markdown_section(path, SECTION, section, new_file=(
        "# Benchmarks\n\nEach section gives the machine, the command and the figures. "
        "How to run them: `benchmarks/README.md`.\n"))


if __name__ == "__main__":
    sys.exit(main())
