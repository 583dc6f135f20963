"""Prediction under distribution shift: which method to pick, on simulated and real environments.

Every method is fitted on training environments and scored on held-out environments that it
never saw; the table gives, per method, the mean and the worst test-environment mean squared
error (in units of the variance of the target in the training data: 1 is predicting the mean)
and the time per fit.

Methods: least squares and gradient boosting (scikit-learn, pooled ERM); ICP's parents with
least squares; invariant ancestry search (IAS) with least squares on its ancestors; anchor
regression (gamma = 5); IRM (penalty 100); CausIRL with MMD and with CORAL (weight 10);
minimax transfer and EACS (``discovery.MinimaxTransfer``, ``discovery.AdaptiveCovariateSelection``).

Scenarios:

- ``strength``: random linear Gaussian SCMs (8 nodes, random DAG); two *mutable* nodes (not the
  target) are shifted in the training environments by ``scm.shift`` of size ~1, and in the test
  environments by shifts of growing size (``SCM.do``), with the target's own mechanism fixed;
- ``proxy``: a hidden cause ``u`` of ``y`` with an observed proxy ``p`` (a child of ``u``) and a
  child ``c`` of ``y``; test environments where the proxy keeps its link to ``u`` (it helps) and
  where an intervention on ``p`` breaks it (it misleads), the situation EACS is built for;
- ``minimax``: the minimax paper's kind of example where the whole stable set is not the
  minimax-optimal one (from ``benchmarks/bench_minimax.py``), tested on interventions on the
  mutable mechanism;
- ``sachs``: leave-one-regime-out on the nine conditions of Sachs et al. (2005) (log scale), every
  protein in turn as the target, the other ten as predictors; regimes that intervene on the
  target are left out of its training and test data;
- ``wine``: leave-one-colour-out on the wine-quality data (train on red, test on white and back);
  the training colour is cut into three environments by the terciles of ``alcohol``, a known
  cause of ``quality`` (the shipped background knowledge), so that the methods that need
  several environments run.

Two claims about IAS are checked as well: on Sachs (the observational condition against each
other condition), the targets where IAS returns ancestors and ICP returns none; and over 100
random graphs, how often IAS at alpha = 0.05 includes a non-ancestor (:func:`ias_false_inclusion`).

Run from the repository root::

    python benchmarks/bench_shift.py --quick          # a few minutes
    python benchmarks/bench_shift.py --docs docs/shift.md
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_repo_to_path, command_line, load_average, machine_description, pin_blas_threads  # noqa: E402

if "numpy" not in sys.modules:  # run as a script (imported by a test, numpy is there already)
    pin_blas_threads("1")
add_repo_to_path()

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import scm  # noqa: E402


# --------------------------------------------------------------------------- methods
class _OLSOn:
    """Least squares (with intercept) on a subset of the columns; the mean for the empty set."""

    def fit_subset(self, X: pd.DataFrame, y: np.ndarray, columns):
        self.columns_ = sorted(columns)
        if self.columns_:
            design = np.column_stack([np.ones(len(y)), X[self.columns_].to_numpy()])
            self.beta_ = np.linalg.lstsq(design, y, rcond=None)[0]
        else:
            self.beta_ = np.array([y.mean()])
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if not self.columns_:
            return np.full(len(X), self.beta_[0])
        return self.beta_[0] + X[self.columns_].to_numpy() @ self.beta_[1:]


def _icp(X, y, env):
    from discovery import ICP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a rejected model: the estimate is empty, the predictor the mean
        parents = ICP().fit(X, y, env).parents_
    return _OLSOn().fit_subset(X, y, parents)


def _ias(X, y, env):
    from discovery import InvariantAncestrySearch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return InvariantAncestrySearch().fit(X, y, env)


def _sklearn(make):
    def fit(X, y, env):
        return make().fit(X, y)

    return fit


def _ols():
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def _gbm():
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(random_state=0)


def _anchor(X, y, env):
    from discovery import AnchorRegression

    return AnchorRegression(gamma=5.0).fit(X, y, anchors=env, anchor_kind="environment")


def _irm(X, y, env):
    from discovery import IRM

    return IRM(penalty=100.0).fit(X, y, environment=env)


def _causirl(penalty):
    def fit(X, y, env):
        from discovery import CausIRL

        return CausIRL(penalty=penalty, penalty_weight=10.0).fit(X, y, environment=env)

    return fit


def _minimax(X, y, env, graph=None, mutable=None):
    from discovery import MinimaxTransfer

    kwargs = {"n_mc": 800, "n_sim": 1500, "predictor_steps": 250, "n_steps": 40, "n_restarts": 1}
    return MinimaxTransfer(graph=graph, mutable=mutable, **kwargs).fit(X, y, environment=env)


def _eacs(X, y, env):
    from discovery import AdaptiveCovariateSelection

    return AdaptiveCovariateSelection().fit(X, y, environment=env)


#: name -> fit(X, y, env) returning an object with predict(X)
METHODS = {
    "ERM, least squares": _sklearn(_ols),
    "ERM, gradient boosting": _sklearn(_gbm),
    "ICP + least squares": _icp,
    "IAS + least squares": _ias,
    "anchor regression (gamma 5)": _anchor,
    "IRM (penalty 100)": _irm,
    "CausIRL-MMD (weight 10)": _causirl("mmd"),
    "CausIRL-CORAL (weight 10)": _causirl("coral"),
    "minimax transfer": _minimax,
    "EACS": _eacs,
}


def available_methods() -> dict:
    """The methods whose estimators this checkout has (minimax transfer and EACS come from branch x30a)."""
    import discovery

    out = {}
    for name, fit in METHODS.items():
        needs = {"minimax transfer": "MinimaxTransfer", "EACS": "AdaptiveCovariateSelection"}.get(name)
        if needs is None or needs in discovery.__all__:
            out[name] = fit
    return out


# --------------------------------------------------------------------------- evaluation
def evaluate(methods: dict, tasks, *, extra=None) -> pd.DataFrame:
    """Fit every method on every task's training data and score it on each test environment.

    ``tasks`` yields ``(task, X_train, y_train, env_train, tests)`` with ``tests`` a list of
    ``(label, X_test, y_test)``. ``extra(name, task)`` may return keyword arguments of a
    method (the true graph for minimax transfer). Returns one row per (method, task, test
    environment): relative MSE (MSE / training variance of y), fit seconds, or the error.
    """
    rows = []
    for task, X, y, env, tests in tasks:
        scale = float(np.var(y))
        for name, fit in methods.items():
            kwargs = extra(name, task) if extra else {}
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = fit(X, y, env, **kwargs)
                    seconds = time.perf_counter() - start
                    scores = [(label, float(np.mean((yt - model.predict(Xt)) ** 2)) / scale) for label, Xt, yt in tests]
                for label, mse in scores:
                    rows.append(
                        {
                            "method": name,
                            "task": task["task"],
                            "group": task.get("group", task["task"]),
                            "test": label,
                            "mse": mse,
                            "seconds": seconds,
                            "error": "",
                        }
                    )
            except Exception as exc:  # a method that cannot run on a task is reported, not fatal
                rows.append(
                    {
                        "method": name,
                        "task": task["task"],
                        "test": None,
                        "mse": np.nan,
                        "seconds": time.perf_counter() - start,
                        "error": f"{type(exc).__name__}: {str(exc)[:120]}",
                    }
                )
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame, order) -> pd.DataFrame:
    """Per method: mean test MSE, the mean over groups of the worst test environment, seconds per fit.

    A group is a task (one fit, several test environments), or on Sachs a target (one fit per
    held-out condition): its worst environment is the worst held-out condition."""
    out = []
    for name in order:
        r = results[results.method == name]
        ok = r.dropna(subset=["mse"])
        per_task_worst = ok.groupby("group")["mse"].max()
        fits = r.drop_duplicates("task")
        out.append(
            {
                "method": name,
                "mean MSE": ok["mse"].mean() if len(ok) else np.nan,
                "worst-env MSE": per_task_worst.mean() if len(ok) else np.nan,
                "max MSE": ok["mse"].max() if len(ok) else np.nan,
                "s / fit": fits["seconds"].median(),
                "tasks": f"{ok.task.nunique()}/{r.task.nunique()}",
                "note": next((e for e in r["error"] if e), ""),
            }
        )
    return pd.DataFrame(out)


def markdown_table(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(f"{v:.3g}" if isinstance(v, float) and np.isfinite(v) else ("n/a" if isinstance(v, float) else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- simulated scenarios
def _frame(sample: pd.DataFrame, target: str, hidden=()) -> tuple[pd.DataFrame, np.ndarray]:
    y = sample[target].to_numpy()
    return sample.drop(columns=[target, *hidden]), y


def strength_tasks(n_graphs: int, n: int, seed: int, strengths=(0.5, 1.0, 2.0, 4.0, 8.0)):
    """Random linear SCMs; training shifts of size ~1 on two mutable nodes, test shifts of growing size."""
    rng = np.random.default_rng(seed)
    made = 0
    g_seed = seed
    while made < n_graphs:
        g_seed += 1
        dag = scm.random_dag(8, 2.5, random_state=g_seed)
        targets = [v for v in dag if dag.in_degree(v) > 0 and dag.out_degree(v) > 0]
        if not targets:
            continue
        model = scm.random_scm(dag, noise_scale=(0.5, 1.0), weight_range=(0.5, 1.5), random_state=g_seed)
        target = str(rng.choice(sorted(targets)))
        mutable = [str(v) for v in rng.choice(sorted(set(dag) - {target}), size=2, replace=False)]
        parts, envs = [], []
        for e in range(3):
            shifts = {} if e == 0 else {m: scm.shift(float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5))) for m in mutable}
            parts.append(model.do(shifts).sample(n, random_state=rng) if shifts else model.sample(n, random_state=rng))
            envs.append(np.full(n, e))
        X, y = _frame(pd.concat(parts, ignore_index=True), target)
        tests = []
        for s in strengths:
            for k in range(2):
                shifts = {m: scm.shift(float(s * rng.choice([-1, 1]) * rng.uniform(0.8, 1.2))) for m in mutable}
                Xt, yt = _frame(model.do(shifts).sample(n, random_state=rng), target)
                tests.append((f"shift {s:g} #{k}", Xt, yt))
        made += 1
        yield {"task": f"graph {g_seed}", "graph": dag, "target": target, "mutable": mutable}, X, y, np.concatenate(envs), tests


def _proxy_model(breaks: bool, shift_x: float, shift_u: float, shift_c: float) -> scm.SCM:
    g = nx.DiGraph([("u", "y"), ("x", "y"), ("u", "p"), ("y", "c")])
    mech = {
        "u": scm.Linear({}, intercept=shift_u),
        "x": scm.Linear({}, intercept=shift_x),
        "y": scm.Linear({"u": 1.0, "x": 1.0}),
        "p": scm.Linear({"u": 0.0 if breaks else 1.0}),  # do(p): the link to u is cut
        "c": scm.Linear({"y": 1.0}, intercept=shift_c),
    }
    noise = {"u": 1.0, "x": 1.0, "y": 0.5, "p": 1.2 if breaks else 0.4, "c": 0.5}
    return scm.SCM(g, mech, noise)


def proxy_tasks(n_reps: int, n: int, seed: int):
    """A hidden cause u of y and its proxy p; test environments where the proxy holds or breaks."""
    rng = np.random.default_rng(seed)
    for rep in range(n_reps):
        parts, envs = [], []
        for e in range(8):  # 8 training environments, 2 of them with the proxy broken
            m = _proxy_model(e in (3, 6), rng.normal(0, 1), rng.normal(0, 0.7), rng.normal(0, 0.5))
            parts.append(m.sample(n, random_state=rng))
            envs.append(np.full(n, e))
        X, y = _frame(pd.concat(parts, ignore_index=True), "y", hidden=("u",))
        tests = []
        for k in range(3):
            Xt, yt = _frame(_proxy_model(False, rng.normal(0, 2), rng.normal(0, 1.5), 0.0).sample(n, random_state=rng), "y", ("u",))
            tests.append((f"proxy holds #{k}", Xt, yt))
            Xt, yt = _frame(_proxy_model(True, rng.normal(0, 2), rng.normal(0, 1.5), 0.0).sample(n, random_state=rng), "y", ("u",))
            tests.append((f"proxy broken #{k}", Xt, yt))
            Xt, yt = _frame(_proxy_model(False, 0.0, 0.0, rng.choice([-1, 1]) * 3.0).sample(n, random_state=rng), "y", ("u",))
            tests.append((f"child shifted #{k}", Xt, yt))
        g = nx.DiGraph([("x", "y"), ("p", "y"), ("y", "c")])  # what a user could draw without u: p as a cause
        yield {"task": f"proxy rep {rep}", "graph": g, "target": "y", "mutable": ["p", "c"]}, X, y, np.concatenate(envs), tests


_MINIMAX_GRAPH = nx.DiGraph([("x1", "y"), ("y", "m"), ("y", "x2"), ("m", "x2")])


def _minimax_model(m_mechanism) -> scm.SCM:
    """The minimax paper's kind of counter-example (as in bench_minimax.py): ``x1 -> y``, ``m`` a mutable child of
    ``y`` and ``x2 = y m + noise`` a stable child of both; ``m_mechanism`` is m's mechanism in this environment."""
    mechanisms = {
        "x1": scm.Linear(),
        "y": scm.Linear({"x1": 1.0}),
        "m": m_mechanism,
        "x2": scm.Functional(lambda P, u: P[:, 0] * P[:, 1] + u, parents=["y", "m"]),
    }
    return scm.SCM(_MINIMAX_GRAPH, mechanisms, noise={"x1": 1.0, "y": 3.0, "m": 0.3, "x2": 0.5})


def _tanh_m(a: float):
    return scm.Functional(lambda P, u, a=a: 2.0 * np.tanh(a * P[:, 0] / 3.0) + u, parents=["y"])


def minimax_tasks(n_reps: int, n: int, seed: int):
    """Training: m = 2 tanh(a y / 3) + noise with a in {-1, 0.5, 1}; test: other slopes, constants and a steep tanh."""
    rng = np.random.default_rng(seed)
    for rep in range(n_reps):
        parts = [_minimax_model(_tanh_m(a)).sample(n, random_state=rng) for a in (-1.0, 0.5, 1.0)]
        X, y = _frame(pd.concat(parts, ignore_index=True), "y")
        env = np.repeat([0, 1, 2], n)
        tests = []
        for a in (-2.0, 0.0, 2.0, 6.0, -6.0):
            Xt, yt = _frame(_minimax_model(_tanh_m(a)).sample(n, random_state=rng), "y")
            tests.append((f"m = 2 tanh({a:g} y / 3)", Xt, yt))
        for c in (-2.0, 2.0):
            mech = scm.Functional(lambda P, u, c=c: np.full(len(P), c) + u, parents=["y"])
            Xt, yt = _frame(_minimax_model(mech).sample(n, random_state=rng), "y")
            tests.append((f"m = {c:g}", Xt, yt))
        yield {"task": f"minimax rep {rep}", "graph": _MINIMAX_GRAPH, "target": "y", "mutable": ["m"]}, X, y, env, tests


# --------------------------------------------------------------------------- real data
def sachs_tasks(targets=None):
    """Leave-one-regime-out on Sachs (log scale), one target at a time."""
    from scm.datasets import load_sachs

    ds = load_sachs("interventional", log=True)
    data, regimes = ds.data, ds.metadata["targets"]
    proteins = [c for c in data.columns if c != "regime"]
    for target in targets or proteins:
        keep = data[~data.regime.map(lambda r, t=target: t in regimes[r])]
        for held in keep.regime.unique():
            train, test = keep[keep.regime != held], keep[keep.regime == held]
            X = train[proteins].drop(columns=[target]).reset_index(drop=True)
            tests = [(held, test[proteins].drop(columns=[target]).reset_index(drop=True), test[target].to_numpy())]
            task = {"task": f"{target} | {held}", "group": target, "target": target}
            yield task, X, train[target].to_numpy(), train.regime.to_numpy(), tests


def wine_tasks():
    """Leave-one-colour-out on the wine data; the training colour split by the terciles of alcohol."""
    from scm.datasets import load_wine

    data = load_wine().data
    for train_colour, test_colour in (("red", "white"), ("white", "red")):
        train, test = data[data.colour == train_colour], data[data.colour == test_colour]
        env = pd.qcut(train["alcohol"], 3, labels=False).to_numpy()
        X = train.drop(columns=["quality", "colour"]).reset_index(drop=True)
        Xt = test.drop(columns=["quality", "colour"]).reset_index(drop=True)
        tests = [(test_colour, Xt, test["quality"].to_numpy())]
        yield {"task": f"{train_colour} -> {test_colour}"}, X, train["quality"].to_numpy(), env, tests


# --------------------------------------------------------------------------- IAS claims
def ias_false_inclusion(n_graphs: int = 100, seed: int = 0, n: int = 5000, n_env: int = 5, test: str = "regression") -> dict:
    """How often IAS (alpha = 0.05) outputs a non-ancestor of the target, over random linear SCMs.

    Each graph: a random DAG on 6 nodes (expected degree 2.5), random linear Gaussian
    mechanisms (weights ±[0.5, 1.5], noise standard deviations in [0.5, 1]), a target with at
    least one parent; one observational environment and ``n_env - 1`` in which the same two
    random non-targets get mean shifts of size U(1, 2) and random sign, drawn anew in each
    environment; ``n`` rows per environment.

    Returns ``{"rate", "se", "nonempty", "runs", "icp_nonempty"}``: the share of runs with a
    non-ancestor in the output, the Monte-Carlo standard error of a 5% rate over these runs, how
    many runs gave a non-empty output (and how many ICP, approximate test, did).
    """
    from discovery import ICP, InvariantAncestrySearch

    rng = np.random.default_rng(seed)
    bad = nonempty = icp_nonempty = runs = 0
    g_seed = 10_000 * seed
    while runs < n_graphs:
        g_seed += 1
        dag = scm.random_dag(6, 2.5, random_state=g_seed)
        targets = sorted(v for v in dag if dag.in_degree(v) > 0)
        if not targets:
            continue
        target = str(rng.choice(targets))
        model = scm.random_scm(dag, noise_scale=(0.5, 1.0), weight_range=(0.5, 1.5), random_state=g_seed)
        shifted = [str(v) for v in rng.choice(sorted(set(dag) - {target}), size=2, replace=False)]
        parts = [model.sample(n, random_state=rng)]
        for _ in range(n_env - 1):
            shifts = {v: scm.shift(float(rng.choice([-1, 1]) * rng.uniform(1, 2))) for v in shifted}
            parts.append(model.do(shifts).sample(n, random_state=rng))
        data = pd.concat(parts, ignore_index=True)
        env = np.repeat(np.arange(n_env), n)
        X, y = data.drop(columns=[target]), data[target].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            found = InvariantAncestrySearch(alpha=0.05, test=test).fit(X, y, env).ancestors_
            icp_nonempty += bool(ICP(alpha=0.05).fit(X, y, env).parents_)
        runs += 1
        nonempty += bool(found)
        bad += bool(found - nx.ancestors(dag, target))
    rate = bad / runs
    return {"rate": rate, "se": float(np.sqrt(0.05 * 0.95 / runs)), "nonempty": nonempty, "runs": runs, "icp_nonempty": icp_nonempty}


def ias_level_table(n_graphs: int, seed: int) -> pd.DataFrame:
    """:func:`ias_false_inclusion` over the test, the number of environments and the rows per environment."""
    rows = []
    for test, n_env, n in [
        ("regression", 5, 1000),
        ("regression", 5, 5000),
        ("regression", 5, 20000),
        ("regression", 2, 5000),
        ("approximate", 5, 5000),
        ("approximate", 2, 5000),
    ]:
        r = ias_false_inclusion(n_graphs, seed, n=n, n_env=n_env, test=test)
        rows.append(
            {
                "test": test,
                "environments": n_env,
                "rows each": n,
                "runs with a non-ancestor": f"{r['rate']:.0%}",
                "non-empty outputs": r["nonempty"],
                "ICP non-empty": r["icp_nonempty"],
            }
        )
    return pd.DataFrame(rows)


def _first_sets(sets, k: int = 3) -> str:
    shown = "; ".join("{" + ", ".join(sorted(s)) + "}" for s in sets[:k])
    return shown + (f"; ... ({len(sets)} sets)" if len(sets) > k else "")


def ias_on_sachs() -> pd.DataFrame:
    """IAS and ICP on the observational condition against each other one, every non-targeted protein."""
    from discovery import ICP, InvariantAncestrySearch
    from scm.datasets import load_sachs, sachs_graph

    ds = load_sachs("interventional", log=True)
    data, regimes = ds.data, ds.metadata["targets"]
    truth = sachs_graph("bnlearn")
    proteins = [c for c in data.columns if c != "regime"]
    rows = []
    for held in regimes:
        if held == "cd3_cd28":
            continue
        sub = data[data.regime.isin(["cd3_cd28", held])]
        for target in proteins:
            if target in regimes[held]:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                icp = ICP().fit(sub[proteins], target, sub.regime.to_numpy())
                ias = InvariantAncestrySearch().fit(sub[proteins], target, sub.regime.to_numpy())
            if ias.ancestors_ and not icp.parents_:
                anc = nx.ancestors(truth, target)
                rows.append(
                    {
                        "condition": held,
                        "target": target,
                        "IAS ancestors": ", ".join(sorted(ias.ancestors_)),
                        "minimal invariant sets": _first_sets(ias.minimal_invariant_sets_),
                        "empty-set p": f"{ias.empty_set_pvalue_:.2g}",
                        "ancestors in the 17-edge graph": f"{len(ias.ancestors_ & anc)}/{len(ias.ancestors_)}",
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- main
def _minimax_extra(name, task):
    if name == "minimax transfer" and "graph" in task:
        # y is passed as an array (named "y"): the graph's target node gets that name
        g = nx.relabel_nodes(task["graph"], {task["target"]: "y"})
        return {"graph": g, "mutable": list(task["mutable"])}
    return {}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer graphs, targets and repetitions")
    parser.add_argument("--docs", help="write the results into this Markdown file (docs/shift.md)")
    parser.add_argument("--scenarios", default="strength,proxy,minimax,sachs,wine,ias")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--section", default="## Results", help="the heading of the section written into --docs")
    parser.add_argument(
        "--sachs-minimax", action="store_true", help="also run minimax transfer on Sachs (CD-NOD and the adversary: ~30 s per fit, 88 fits)"
    )
    args = parser.parse_args(argv)
    scenarios = args.scenarios.split(",")
    methods = available_methods()
    order = list(methods)
    info = machine_description(["jax", "sklearn"])
    sections = []
    start = time.perf_counter()
    loads = [load_average()]

    def run(title, tasks, text, extra=None, skip=()):
        res = evaluate({k: v for k, v in methods.items() if k not in skip}, tasks, extra=extra)
        table = summarise(res, [m for m in order if m not in skip])
        print(f"\n## {title}\n{markdown_table(table)}", flush=True)
        loads.append(load_average())
        sections.append((title, text, table, res))
        return res

    quick = args.quick
    if "strength" in scenarios:
        res = run(
            "Random linear SCMs, shifts of growing strength",
            strength_tasks(3 if quick else 10, 300, args.seed),
            "8-node random linear Gaussian SCMs; two mutable non-targets shifted by ~1 in two of three training "
            "environments (300 rows each), test environments shift them by 0.5 to 8 (`SCM.do`, `scm.shift`).",
            extra=_minimax_extra,
        )
        by = res.dropna(subset=["mse"]).assign(strength=lambda d: d.test.str.extract(r"shift ([\d.]+)")[0].astype(float))
        pivot = by.groupby(["method", "strength"])["mse"].mean().unstack().reindex(order)
        print(pivot.round(3).to_string(), flush=True)
        sections[-1] = (*sections[-1][:3], res, pivot)
    if "proxy" in scenarios:
        res = run(
            "Hidden cause with a proxy: the proxy holds or breaks",
            proxy_tasks(2 if quick else 5, 300, args.seed + 1),
            "`u -> y <- x`, `u -> p` (the proxy), `y -> c`; `u` is hidden. Eight training environments (two with the "
            "proxy broken); test environments with larger shifts where the proxy holds, where `do(p)` breaks it, and where the "
            "child `c` is shifted by 3.",
            extra=_minimax_extra,
        )
        kinds = res.dropna(subset=["mse"]).assign(kind=lambda d: d.test.str.rsplit(" #", n=1).str[0])
        pivot = kinds.groupby(["method", "kind"])["mse"].mean().unstack().reindex(order)
        print(pivot.round(3).to_string(), flush=True)
        sections[-1] = (*sections[-1][:3], res, pivot)
    if "minimax" in scenarios:
        run(
            "The whole stable set is not minimax-optimal",
            minimax_tasks(1 if quick else 3, 1000, args.seed + 2),
            "The minimax paper's kind of example (`benchmarks/bench_minimax.py`): `x1 -> y`, `y -> m` (mutable), "
            "`x2 = y m + noise`; training environments set `m = 2 tanh(a y / 3)` for a in {-1, 0.5, 1}; test environments "
            "other slopes (up to 6 and -6) and constants. Minimax transfer gets the true graph and `mutable=['m']`.",
            extra=_minimax_extra,
        )
    if "sachs" in scenarios:
        targets = ["erk", "akt", "pip3"] if quick else None
        skip = () if args.sachs_minimax else ("minimax transfer",)
        run(
            "Sachs: leave one condition out",
            sachs_tasks(targets),
            "Every protein in turn (" + ("erk, akt, pip3" if quick else "all 11") + ") predicted from the other ten; "
            "train on all conditions but one, test on that one; conditions that intervene on the target are dropped. "
            "*worst-env*: the worst held-out condition of each target, averaged over the targets."
            + (
                ""
                if args.sachs_minimax
                else " Minimax transfer is not run here (about 30 s per fit: CD-NOD learns the graph, "
                "then the adversary; `--sachs-minimax` runs it)."
            ),
            skip=skip,
        )
    if "wine" in scenarios:
        run(
            "Wine: train on one colour, test on the other",
            wine_tasks(),
            "Red -> white and white -> red; the training colour is cut into three environments by the terciles of alcohol.",
        )
    ias_text = ""
    if "ias" in scenarios:
        n_graphs = 30 if quick else 100
        table = ias_level_table(n_graphs, args.seed)
        sachs_ias = ias_on_sachs()
        ias_text = (
            f"How often IAS at alpha = 0.05 includes a non-ancestor, over {n_graphs} random graphs per line (6 nodes; two "
            "non-targets shifted by U(1, 2) in every environment but the first; `ias_false_inclusion` in the script). The "
            f"Monte-Carlo standard error of a 5% rate over {n_graphs} runs is {np.sqrt(0.05 * 0.95 / n_graphs):.1%}.\n\n"
            + markdown_table(table)
            + "\n\nSachs, the observational condition against each other condition: the targets where ICP returns no parent "
            "and IAS returns ancestors (the last column counts those that are ancestors in the 17-edge consensus graph, "
            "`scm.datasets.sachs_graph('bnlearn')`):\n\n" + markdown_table(sachs_ias)
        )
        print("\n" + ias_text, flush=True)
    elapsed = time.perf_counter() - start
    if args.docs:
        write_docs(args.docs, args.section, sections, ias_text, info, loads, elapsed)


def write_docs(path, heading, sections, ias_text, info, loads, elapsed) -> None:
    from _common import replace_markdown_section

    parts = [
        heading + "\n",
        f"Command: `{command_line(__file__)}`; {info['nproc']} cores ({info['cpu']}), Python {info['python']}, numpy "
        f"{info['numpy']}, jax {info.get('jax')}, scikit-learn {info.get('sklearn')}, `OPENBLAS_NUM_THREADS=1`; load averages "
        f"during the run: {' -> '.join(loads)} (the machine was shared: times are upper bounds); {elapsed / 60:.1f} minutes in all.\n",
        "MSE is in units of the training variance of the target (1 = predicting the training mean). *mean*: over every "
        "(task, test environment); *worst-env*: the worst test environment of each task, averaged over tasks; *max*: the "
        "worst of all; *s / fit*: median seconds per fit (the first fit of a jitted method includes compilation).\n",
    ]
    for section in sections:
        title, text, table = section[:3]
        parts.append(f"### {title}\n\n{text}\n\n{markdown_table(table)}\n")
        if len(section) > 4:
            pivot = section[4]
            pv = pivot.copy()
            numeric = all(isinstance(c, float) for c in pv.columns)
            pv.columns = [f"shift {c:g}" if numeric else str(c) for c in pv.columns]
            what = "the size of the test shift" if numeric else "the kind of test environment"
            parts.append(f"Mean MSE by {what}:\n\n" + markdown_table(pv.reset_index()) + "\n")
    if ias_text:
        parts.append("### Invariant ancestry search: level and Sachs\n\n" + ias_text + "\n")
    replace_markdown_section(path, heading, "\n".join(parts), new_file="# Prediction under shift\n")


if __name__ == "__main__":
    main()
