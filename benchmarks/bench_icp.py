"""Invariant causal prediction: scmkit's batched ICP vs causalicp, side by side in one process.

The data: a random linear Gaussian SCM on ``--predictors + 1`` nodes (Erdős–Rényi DAG with
edge probability 0.3 in a random order, weights uniform on ±[0.5, 1.5]); the target is a
node with parents in the second half of the order. Environment 0 is observational; in each
other environment a third of the non-target nodes get a mean shift (±U(1, 3)) and their
noise scale multiplied by U(0.5, 2). ``--rows`` rows per environment.

Both libraries test all ``2^p`` sets with the approximate test at ``alpha = 0.05``
(``causalicp.fit(..., precompute=True)``, its default and faster mode). Timed: scmkit's
first ``ICP().fit`` in the process (wall clock *including* JIT compilation; the import of
JAX is timed separately), its warm fit (median of ``--repeat``), and causalicp's fit (once:
it takes tens of seconds). Checked: the same accepted sets and estimate, and the largest
differences of the per-variable p-values and confidence intervals.

``--sachs PATH`` instead runs ICP for every protein of the Sachs et al. (2005) data and
writes the table into the section "## ICP on the Sachs data" of PATH (docs/invariance.md).

Run from the repository root::

    python benchmarks/bench_icp.py --docs docs/benchmarks.md
    python benchmarks/bench_icp.py --sachs docs/invariance.md
"""

from __future__ import annotations

import argparse
import sys

from _common import (
    add_repo_to_path,
    blas_settings,
    load_average,
    machine_description,
    pin_blas_threads,
    replace_markdown_section,
)

# ----------------------------------------------------------------------------- BLAS threads
# Must happen before numpy (or anything that imports it) is imported.
_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--predictors", type=int, default=12, help="number of predictors p (default 12)")
_parser.add_argument("--envs", type=int, default=3, help="number of environments (default 3)")
_parser.add_argument("--rows", type=int, default=1000, help="rows per environment (default 1000)")
_parser.add_argument("--seed", type=int, default=0, help="seed of the SCM and the data (default 0)")
_parser.add_argument("--repeat", type=int, default=5, help="warm scmkit fits, median reported (default 5)")
_parser.add_argument("--blas-threads", default="1", help="value for OPENBLAS/OMP/MKL_NUM_THREADS, or 'default' (default 1)")
_parser.add_argument("--docs", metavar="PATH", help="write the results as the section of this Markdown file")
_parser.add_argument("--sachs", metavar="PATH", help="run ICP on the Sachs data and write its table into this Markdown file")
ARGS = _parser.parse_args()
pin_blas_threads(ARGS.blas_threads)
add_repo_to_path()

import datetime  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SECTION = "## Invariant causal prediction"
SACHS_SECTION = "## ICP on the Sachs data"


# ------------------------------------------------------------------------------ the problem
def simulate(p: int, n_env: int, n: int, seed: int):
    """The benchmark's SCM and data; returns (frame, target, environment, parents)."""
    rng = np.random.default_rng(seed)
    d = p + 1
    w = np.triu(rng.uniform(0.5, 1.5, (d, d)) * rng.choice([-1.0, 1.0], (d, d)) * (rng.random((d, d)) < 0.3), 1)
    pos = int(rng.integers(d // 2, d))
    if not w[:, pos].any():
        w[int(rng.integers(pos)), pos] = 1.0
    others = [j for j in range(d) if j != pos]
    blocks = []
    for e in range(n_env):
        shift, scale = np.zeros(d), np.ones(d)
        if e > 0:
            hit = rng.choice(others, size=max(1, len(others) // 3), replace=False)
            shift[hit] = rng.uniform(1.0, 3.0, hit.size) * rng.choice([-1.0, 1.0], hit.size)
            scale[hit] = rng.uniform(0.5, 2.0, hit.size)
        x = np.zeros((n, d))
        for j in range(d):
            x[:, j] = x @ w[:, j] + scale[j] * rng.normal(size=n) + shift[j]
        blocks.append(x)
    names = [f"X{j:02d}" for j in range(d)]
    frame = pd.DataFrame(np.vstack(blocks), columns=names)
    env = np.repeat(np.arange(n_env), n)
    parents = sorted(names[j] for j in np.flatnonzero(w[:, pos]))
    return frame, names[pos], env, parents


# ------------------------------------------------------------------------------ benchmark
def run_benchmark() -> int:
    load_before = load_average()
    frame, target, env, parents = simulate(ARGS.predictors, ARGS.envs, ARGS.rows, ARGS.seed)
    t0 = time.perf_counter()
    import jax  # noqa: F401

    from discovery import ICP

    t_import = time.perf_counter() - t0

    def fit():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*rejected every candidate set.*")
            return ICP(alpha=0.05).fit(frame, target, env)

    t0 = time.perf_counter()
    ours = fit()
    t_cold = time.perf_counter() - t0
    warm = []
    for _ in range(ARGS.repeat):
        t0 = time.perf_counter()
        fit()
        warm.append(time.perf_counter() - t0)
    t_warm = statistics.median(warm)

    import causalicp

    t_index = list(frame.columns).index(target)
    blocks = [frame.to_numpy()[env == e] for e in range(ARGS.envs)]
    t0 = time.perf_counter()
    ref = causalicp.fit(blocks, t_index, alpha=0.05, precompute=True, verbose=False, color=False)
    t_ref = time.perf_counter() - t0

    names = list(frame.columns)
    ref_sets = {frozenset(names[j] for j in s) for s in ref.accepted_sets}
    same_sets = set(ours.accepted_sets_) == ref_sets
    ref_est = None if ref.estimate is None else sorted(names[j] for j in ref.estimate)
    our_est = None if ours.model_rejected_ else sorted(ours.parents_)
    preds = [c for c in names if c != target]
    ref_p = np.array([ref.pvalues[names.index(c)] for c in preds], dtype=float)
    dp = float(np.abs(ours.pvalues_.loc[preds].to_numpy() - ref_p).max())
    if ref.conf_intervals is not None:
        ref_ci = np.delete(np.asarray(ref.conf_intervals, dtype=float), t_index, axis=1).T
        dci = float(np.abs(ours.conf_intervals_.loc[preds].to_numpy() - ref_ci).max())
    else:
        dci = float("nan")
    result = {
        "t_import": t_import, "t_cold": t_cold, "t_warm": t_warm, "t_ref": t_ref,
        "ratio_cold": t_ref / t_cold, "ratio_warm": t_ref / t_warm,
        "n_sets": 2**ARGS.predictors, "n_accepted": len(ours.accepted_sets_), "n_accepted_ref": len(ref.accepted_sets),
        "same_sets": same_sets, "estimate": our_est, "estimate_ref": ref_est, "parents": parents,
        "dp": dp, "dci": dci, "target": target, "load_before": load_before,
    }
    print(table(result))
    if ARGS.docs:
        replace_markdown_section(Path(ARGS.docs), SECTION, docs_section(result, machine_description(("scipy", "jax", "causalicp"))))
        print(f"\nwrote section {SECTION!r} of {ARGS.docs}")
    return 0 if same_sets and our_est == ref_est else 1


def table(r: dict) -> str:
    rows = [
        "| | scmkit `ICP` | causalicp | ratio |",
        "|---|---|---|---|",
        f"| first fit (incl. JIT compile) | {r['t_cold']:.2f} s | {r['t_ref']:.1f} s | **{r['ratio_cold']:.0f}x** |",
        f"| warm fit (median of {ARGS.repeat}) | {r['t_warm'] * 1000:.0f} ms | | {r['ratio_warm']:.0f}x |",
        f"| import of JAX + scmkit (once per process) | {r['t_import']:.2f} s | | |",
        f"| accepted sets (of {r['n_sets']}) | {r['n_accepted']} | {r['n_accepted_ref']} | identical: {r['same_sets']} |",
        f"| estimate (true parents of {r['target']}: {', '.join(r['parents']) or 'none'}) | "
        f"{_fmt_est(r['estimate'])} | {_fmt_est(r['estimate_ref'])} | |",
        f"| max abs difference, per-variable p-values / interval bounds | {r['dp']:.1e} / {r['dci']:.1e} | | |",
    ]
    return "\n".join(rows)


def _fmt_est(est) -> str:
    if est is None:
        return "model rejected"
    return "{" + ", ".join(est) + "}" if est else "{} (empty)"


def docs_section(r: dict, info: dict) -> str:
    blas = blas_settings(markdown=True)
    lines = [
        SECTION,
        "",
        f"`discovery.ICP` against causalicp {info['causalicp']} (the Python port of R's `InvariantCausalPrediction` "
        f"approximate test) in one process on the same data: a random linear Gaussian SCM with p = {ARGS.predictors} "
        f"predictors of the target, {ARGS.envs} environments (one observational, the others with mean shifts and noise "
        f"rescaling of a third of the non-target nodes) and {ARGS.rows:,} rows each. Both test all {r['n_sets']:,} "
        "sets at alpha = 0.05; causalicp with `precompute=True` (its default, faster mode).",
        "",
        f"- **Machine:** `nproc` = {info['nproc']}, {info['cpu']}; Python {info['python']}, numpy {info['numpy']}, "
        f"scipy {info['scipy']}, jax {info['jax']}. Run on {datetime.date.today().isoformat()} "
        f"(load average before the run: {r['load_before']}; the machine was shared, so absolute times are noisy).",
        f"- **Threads:** {blas}, set before numpy is imported, for both libraries.",
        f"- **Seeds:** SCM and data from `numpy.random.default_rng({ARGS.seed})`; neither library draws random numbers.",
        "- **Timing:** wall clock. scmkit's first fit in the process includes tracing and XLA compilation of the "
        "batched kernel (one compilation per number of predictors and environments); the import of JAX is listed "
        "separately. causalicp runs once. Ratio = causalicp time / scmkit time.",
        "",
        "```bash",
        "python benchmarks/bench_icp.py " + " ".join(sys.argv[1:]),
        "```",
        "",
        table(r),
        "",
        "scmkit evaluates all sets in one jitted call from the per-environment cross-product matrices "
        "(a masked sweep operator gives every set's OLS fit, residual sums per environment and the "
        "coefficients' variance factors; the Welch t and F p-values are computed vectorised at the end); "
        "causalicp regresses and tests the sets one by one in Python.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ Sachs
SACHS_STIMULATION = ["cd3_cd28", "cd3_cd28+aktinhib", "cd3_cd28+g0076", "cd3_cd28+psitect", "cd3_cd28+u0126", "cd3_cd28+ly"]


def run_sachs() -> int:
    from discovery import ICP
    from scm.datasets import load_sachs

    ds = load_sachs("interventional", log=True)
    data, graph, targets = ds.data, ds.graph, ds.metadata["targets"]
    proteins = [c for c in data.columns if c != "regime"]

    def icp(frame, protein):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*rejected every candidate set.*")
            model = ICP(alpha=0.05).fit(frame, protein, "regime")
        if model.model_rejected_:
            return f"rejected (max p {max(model.set_pvalues_.values()):.0e})"
        est = ", ".join(sorted(model.parents_)) or "{}"
        extra = ""
        if not model.parents_ and model.defining_sets_:
            extra = "; defining sets " + ", ".join("{" + ", ".join(sorted(s)) + "}" for s in model.defining_sets_[:3])
        return est + extra

    rows = []
    t0 = time.perf_counter()
    for protein in proteins:
        own = [r for r, t in targets.items() if protein in t]
        a = data
        b = data[data["regime"].isin(SACHS_STIMULATION) & ~data["regime"].isin(own)]
        c = b.groupby("regime", group_keys=False).sample(n=100, random_state=0)
        truth = ", ".join(sorted(graph.predecessors(protein))) or "none"
        rows.append(f"| {protein} | {truth} | {icp(a, protein)} | {icp(b, protein)} | {icp(c, protein)} |")
    elapsed = time.perf_counter() - t0
    lines = [
        SACHS_SECTION,
        "",
        "<!-- produced by `python benchmarks/bench_icp.py --sachs docs/invariance.md`; do not edit by hand -->",
        "",
        "ICP (approximate test, alpha = 0.05, all 1,024 sets of the other 10 proteins) for each protein of the "
        "Sachs et al. (2005) flow-cytometry data (`scm.datasets.load_sachs(\"interventional\", log=True)`: "
        "7,466 cells, natural log of the intensities), the regime as environment, against the 17-edge consensus "
        "graph. Three settings: (A) all nine regimes; (B) the six regimes with the anti-CD3/CD28 stimulation "
        "(the baseline and its five inhibitors), without the regimes whose reagent targets the protein itself "
        "(ICP assumes the target's own mechanism is not intervened on); (C) as B, 100 cells sampled per regime "
        "(seed 0).",
        "",
        "| protein | consensus parents | A: all regimes | B: anti-CD3/CD28 regimes, own targets removed | C: B, 100 cells per regime |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"All {3 * len(proteins)} runs took {elapsed:.1f} s. With thousands of cells, the linear Gaussian "
        "invariance model is rejected for every protein, even among the regimes that share the stimulation: "
        "some assumption of ICP's model fails -- linear mechanisms with invariant Gaussian noise, no hidden "
        "confounders, no intervention on the target (the inhibitors act on enzyme activity rather than on the "
        "measured phosphorylation, so the listed targets are the experimenters' intent, not clean interventions). "
        "That is ICP's designed behaviour -- it returns no parents "
        "rather than wrong ones, and warns. With 100 cells per regime (C) the tests lose the power to see the "
        "misfit for three proteins, and the estimates then hold children of the protein in the consensus graph "
        "(pip3: pip2; pkc: erk, mek): a small sample hides the violation rather than removing it. "
        "`NonlinearICP` relaxes linearity (not run here: one random-forest fit per candidate set).",
        "",
    ]
    path = Path(ARGS.sachs)
    replace_markdown_section(path, SACHS_SECTION, "\n".join(lines))
    print("\n".join(lines))
    print(f"\nwrote section {SACHS_SECTION!r} of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_sachs() if ARGS.sachs else run_benchmark())
