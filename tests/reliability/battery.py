"""The reliability battery of issue 26, as data: corruptions x input kinds x entry points.

Three tables and the machinery that joins them; ``test_battery.py`` runs every applicable
(entry point, corruption) pair.

- :data:`CORRUPTIONS`: a small function of a clean input that returns the corrupted input (and,
  for ``"same"``, the reference whose result must be reproduced), what it expects by default
  (``"error"``: a named scmkit error whose message names the offending column, node or
  parameter; ``"same"``: the same result as the reference; ``"error_or_ok"``: either a named
  error or a result that passes the entry point's sanity check) and what the message must name.
- :data:`KINDS`: the kinds of input an entry point takes ("table", "x/y/environment",
  "graph+data", "cli-csv", ...): each builds small, seeded clean inputs (an :class:`Inputs`)
  and lists the corruptions that apply to it.
- :data:`ENTRIES`: the public entry points, **one line each**: a name (the dotted path of the
  public object, so the coverage test can find it; ``[variant]`` for a second line on the same
  object; ``scmkit ...`` for the command line), a kind and a callable ``(inputs) -> result``.
  Optional fields name the parameters that the parameter corruptions may spoil (``option``: a
  string option with a set of allowed values; ``number``: a numeric parameter; ``seed``; ``count``:
  a size; ``path``: a directory or file; ``per_node``: one value per node), override an
  expectation (``expect``), add a sanity check (``check``), choose what ``"same"`` compares
  (``summary``) or mark the line ``slow``.

Every case also checks that its inputs were not mutated (deep copies compared after the call),
that no numpy / scipy / sklearn warning leaked, and, for the command line, that a failure is exit
status 2 with one ``scmkit: error:`` line on stderr and no traceback.

:data:`KNOWN_FAILURES` lists the cases that fail today, with what goes wrong; the runner marks
them ``xfail(strict=True)`` so that a fix flips them to a failure asking for the line's removal.
:data:`EXCLUDED` lists the public names deliberately left out of :data:`ENTRIES`, with the reason.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import importlib
import io
import json
import math
import pathlib
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

import discovery
import estimators
import scm
import scmkit
from discovery import (
    CDNOD,
    DPDAG,
    ICP,
    IRM,
    KCI,
    NOTEARS,
    PC,
    PCMCI,
    VIDPDAG,
    AdaptiveCovariateSelection,
    AnchorRegression,
    BackgroundKnowledge,
    CausalDeFinetti,
    CausIRL,
    ChiSquare,
    DSeparation,
    FisherZ,
    GSquare,
    ICPGraph,
    InvariantAncestrySearch,
    MinimaxTransfer,
    NonlinearICP,
    PCMCIPlus,
    agreement_matrix,
    bootstrap,
    check_graph,
    check_mechanisms,
    compare,
    consensus_graph,
    edge_counts,
    edge_frequencies,
    heldout_loglik,
    make_ci_test,
    plot_comparison,
    plot_graph,
    plot_lagged_graph,
    write_report,
)
from discovery.citest import resolve_ci_test
from discovery.constraint import (
    apply_background_knowledge,
    changing_nodes,
    context_knowledge,
    context_skeleton,
    driving_forces,
    orient_by_independent_changes,
    orient_colliders,
    orient_with_context,
    skeleton,
)
from discovery.differentiable import break_cycles, prepare_data, transform_columns
from discovery.evaluation import implied_independences
from discovery.evaluation import summarise as summarise_results
from discovery.exchangeable import (
    bivariate_rule,
    bivariate_tests,
    combine_pvalues,
    layer_edges,
    pair_samples,
    sink_layers,
    split_groups,
    two_sample_frames,
    two_sample_graph,
    two_sample_names,
)
from discovery.metrics import (
    all_metrics,
    arrowhead_scores,
    as_pdag,
    auroc,
    average_precision,
    shd,
    sid,
    sid_bounds,
    skeleton_scores,
)
from discovery.timeseries import (
    lagged_design,
    lagged_metrics,
    mci_skeleton,
    mci_tests,
    orient_contemporaneous_colliders,
    orient_contemporaneous_rules,
    pc1_parents,
)
from estimators import AIPW, IPW, DoubleML, RegressionAdjustment
from scm import PDAG, SCM, LaggedGraph, SCMClass, ScmkitError
from scm import datasets as scm_datasets
from scm import simulate as scm_simulate

from .known_failures import ISOLATED, KNOWN_FAILURES  # the cases that fail today; those that kill the interpreter

# --------------------------------------------------------------------------- #
# inputs, corrupted inputs and outcomes
# --------------------------------------------------------------------------- #
BAD_OPTION = "no-such-option"
NOT_A_NUMBER = "not-a-number"
UNKNOWN = "NOPE"
EXTRA = "zzz_extra"
HUGE = 10**12


class Inputs(dict):
    """The inputs of one call: a dict whose keys also read as attributes (``i.data``, ``i.opts``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def but(self, **changes) -> Inputs:
        """A shallow copy with some keys replaced (corruptions build new objects, never edit)."""
        new = Inputs(self)
        new.update(changes)
        return new


@dataclasses.dataclass(frozen=True)
class Corrupted:
    """A corrupted input, what its error must name, and the reference of a ``"same"`` case."""

    inputs: Inputs
    offender: str | tuple | None = None  # any of these words must appear in the error message
    reference: Inputs | None = None  # "same": the input whose result must be reproduced (default: the clean one)


@dataclasses.dataclass
class CliResult:
    status: int
    out: str
    err: str


class CliFailure(Exception):
    """A command-line run that exited with a non-zero status."""

    def __init__(self, result: CliResult):
        super().__init__(result.err.strip())
        self.result = result


class RecordedError(Exception):
    """An error that an entry point recorded instead of raising (the ``error`` column of ``compare``)."""

    def __init__(self, text: str):
        super().__init__(text)
        name = text.split(":", 1)[0].strip()
        self.named = any(cls.__name__ == name for cls in _scmkit_errors())


def _scmkit_errors() -> list[type]:
    found, todo = [], [ScmkitError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


# --------------------------------------------------------------------------- #
# small, seeded clean data
# --------------------------------------------------------------------------- #
N_ROWS = 120
COLUMNS = ["age", "bmi", "crp", "dbp"]  # names that cannot appear by chance in an error message


@functools.cache
def _chain_frame() -> pd.DataFrame:
    """age -> bmi -> crp, dbp independent."""
    rng = np.random.default_rng(0)
    age = rng.normal(size=N_ROWS)
    bmi = 0.8 * age + rng.normal(size=N_ROWS)
    crp = 0.8 * bmi + rng.normal(size=N_ROWS)
    dbp = rng.normal(size=N_ROWS)
    return pd.DataFrame({"age": age, "bmi": bmi, "crp": crp, "dbp": dbp})


@functools.cache
def _discrete_frame() -> pd.DataFrame:
    """The chain on three levels each, stored as floats."""
    rng = np.random.default_rng(1)
    n = 200
    age = rng.integers(0, 3, n)
    bmi = np.where(rng.random(n) < 0.7, age, rng.integers(0, 3, n))
    crp = np.where(rng.random(n) < 0.7, bmi, rng.integers(0, 3, n))
    dbp = rng.integers(0, 3, n)
    return pd.DataFrame({"age": age, "bmi": bmi, "crp": crp, "dbp": dbp}).astype(float)


@functools.cache
def _environment_frame() -> tuple[pd.DataFrame, np.ndarray]:
    """Two environments that shift age; age -> bmi -> crp -> dbp."""
    rng = np.random.default_rng(2)
    env = np.repeat([0, 1], N_ROWS // 2)
    age = 1.5 * env + rng.normal(size=N_ROWS)
    bmi = 0.8 * age + rng.normal(size=N_ROWS)
    crp = 0.8 * bmi + rng.normal(size=N_ROWS)
    dbp = 0.8 * crp + rng.normal(size=N_ROWS)
    return pd.DataFrame({"age": age, "bmi": bmi, "crp": crp, "dbp": dbp}), env


@functools.cache
def _series_frame() -> pd.DataFrame:
    """A VAR(1): age(t-1) -> bmi(t), bmi(t-1) -> crp(t), every series autocorrelated."""
    rng = np.random.default_rng(3)
    t = 200
    x = np.zeros((t, 4))
    for s in range(1, t):
        e = rng.normal(size=4)
        x[s, 0] = 0.5 * x[s - 1, 0] + e[0]
        x[s, 1] = 0.4 * x[s - 1, 1] + 0.6 * x[s - 1, 0] + e[1]
        x[s, 2] = 0.4 * x[s - 1, 2] + 0.6 * x[s - 1, 1] + e[2]
        x[s, 3] = 0.5 * x[s - 1, 3] + e[3]
    return pd.DataFrame(x, columns=COLUMNS)


@functools.cache
def _effect_frame() -> pd.DataFrame:
    """age confounds a binary dose and crp; dbp is noise."""
    rng = np.random.default_rng(4)
    age = rng.normal(size=N_ROWS)
    dose = (0.5 * age + rng.normal(size=N_ROWS) > 0).astype(float)
    crp = dose + 0.8 * age + rng.normal(size=N_ROWS)
    dbp = rng.normal(size=N_ROWS)
    return pd.DataFrame({"age": age, "dose": dose, "crp": crp, "dbp": dbp})


@functools.cache
def _front_door_frame() -> pd.DataFrame:
    """FRONT_DOOR's observed columns: age, the confounder, is latent."""
    rng = np.random.default_rng(5)
    n = 400
    age = rng.random(n) < 0.5
    dose = rng.random(n) < np.where(age, 0.7, 0.3)
    bmi = rng.random(n) < np.where(dose, 0.8, 0.2)
    crp = rng.random(n) < 0.2 + 0.4 * bmi + 0.3 * age
    return pd.DataFrame({"dose": dose, "bmi": bmi, "crp": crp}).astype(int)


@functools.cache
def _ida_frame() -> pd.DataFrame:
    """IDA_DAG's columns, continuous (dose <- age -> crp, dose -> bmi -> crp), and dbp, noise outside the graph."""
    rng = np.random.default_rng(6)
    age = rng.normal(size=N_ROWS)
    dose = 0.8 * age + rng.normal(size=N_ROWS)
    bmi = 0.8 * dose + rng.normal(size=N_ROWS)
    crp = 0.8 * bmi + 0.5 * age + rng.normal(size=N_ROWS)
    return pd.DataFrame({"age": age, "dose": dose, "bmi": bmi, "crp": crp, "dbp": rng.normal(size=N_ROWS)})


CHAIN = nx.DiGraph([("age", "bmi"), ("bmi", "crp")])
CHAIN.add_node("dbp")
@functools.cache
def _grouped_effect_frame() -> pd.DataFrame:
    """_effect_frame's graph with a continuous dose and per-group slopes: 24 groups of 5 rows (the 'group' column)."""
    rng = np.random.default_rng(5)
    group = np.arange(N_ROWS) // 5
    slope = rng.normal(1.0, 0.3, group.max() + 1)[group]
    age = rng.normal(size=N_ROWS)
    dose = 0.5 * age + rng.normal(size=N_ROWS)
    crp = slope * dose + 0.8 * age + rng.normal(size=N_ROWS)
    return pd.DataFrame({"age": age, "dose": dose, "crp": crp, "dbp": rng.normal(size=N_ROWS), "group": group})


EFFECT_DAG = nx.DiGraph([("age", "dose"), ("age", "crp"), ("dose", "crp")])
EFFECT_DAG.add_node("dbp")
# dose <- age -> crp, dose -> bmi -> crp: back door through age, front door through bmi
FRONT_DOOR = nx.DiGraph([("age", "dose"), ("age", "crp"), ("dose", "bmi"), ("bmi", "crp")])
ESTIMATE = nx.DiGraph([("dose", "age"), ("age", "crp"), ("dose", "bmi"), ("bmi", "crp")])  # one edge reversed


# its CPDAG: age - dose - bmi, age -> crp <- bmi; dose's parents are open ({}, {age} or {bmi}): IDA's case
IDA_DAG = nx.DiGraph([("age", "dose"), ("age", "crp"), ("dose", "bmi"), ("bmi", "crp")])


@functools.cache
def _chain_model() -> SCM:
    weights = pd.DataFrame(0.0, index=COLUMNS, columns=COLUMNS)
    weights.loc["age", "bmi"] = weights.loc["bmi", "crp"] = 0.8
    return SCM.from_linear(weights)


@functools.cache
def _chain_class() -> SCMClass:
    """A linear SCM per DAG of the chain's class (age - bmi - crp, dbp alone): three members."""
    return SCM.fit(scm.cpdag(CHAIN), _chain_frame(), orientation="all")


def _edge_probs() -> pd.DataFrame:
    nodes = list(FRONT_DOOR.nodes)
    probs = pd.DataFrame(0.1, index=nodes, columns=nodes)
    for a, b in FRONT_DOOR.edges:
        probs.loc[a, b] = 0.9
    for n in nodes:
        probs.loc[n, n] = 0.0
    return probs


def _results_table() -> pd.DataFrame:
    return pd.DataFrame({
        "algorithm": ["pc", "notears"], "dataset": ["chain", "chain"], "seed": [0, 0], "shd": [1.0, 2.0],
        "fit_seconds": [0.1, 0.2], "status": ["ok", "ok"], "error": ["", ""],
    })


@functools.cache
def _var_process():
    return scm_simulate.draw_innovations(scm_simulate.draw_lagged_structure(3, max_lag=1, random_state=0), random_state=0)


@functools.cache
def _fault_frame() -> pd.DataFrame:
    """The chain with bmi's mechanism shifted by 3: the fault window of the root-cause lines."""
    rng = np.random.default_rng(7)
    n = 40
    age = rng.normal(size=n)
    bmi = 0.8 * age + 3.0 + rng.normal(size=n)
    crp = 0.8 * bmi + rng.normal(size=n)
    return pd.DataFrame({"age": age, "bmi": bmi, "crp": crp, "dbp": rng.normal(size=n)})


@functools.cache
def _series_fault_frame() -> pd.DataFrame:
    """_series_frame's process run on, with age's innovations shifted by 3."""
    rng = np.random.default_rng(8)
    x = np.zeros((60, 4))
    for s in range(1, 60):
        e = rng.normal(size=4)
        x[s, 0] = 0.5 * x[s - 1, 0] + 3.0 + e[0]
        x[s, 1] = 0.4 * x[s - 1, 1] + 0.6 * x[s - 1, 0] + e[1]
        x[s, 2] = 0.4 * x[s - 1, 2] + 0.6 * x[s - 1, 1] + e[2]
        x[s, 3] = 0.5 * x[s - 1, 3] + e[3]
    return pd.DataFrame(x, columns=COLUMNS)


def _series_graph():
    return LaggedGraph(COLUMNS, directed=[("age", "age", 1), ("age", "bmi", 1), ("bmi", "crp", 1), ("bmi", "bmi", 1),
                                          ("crp", "crp", 1), ("dbp", "dbp", 1)])


BIF = b"""network tiny { }
variable age { type discrete [ 2 ] { lo, hi }; }
variable crp { type discrete [ 2 ] { lo, hi }; }
probability ( age ) { table 0.25, 0.75; }
probability ( crp | age ) { (lo) 0.9, 0.1; (hi) 0.3, 0.7; }
"""


# --------------------------------------------------------------------------- #
# kinds of input
# --------------------------------------------------------------------------- #
TABLE = ("nan", "inf", "neginf", "constant", "string", "categorical", "duplicate_names", "empty", "one_row",
         "few_rows", "single_column", "integer", "scale", "wrong_type_frame")
CSV = ("nan", "inf", "neginf", "constant", "string", "duplicate_names", "empty", "one_row", "few_rows",
       "single_column", "integer", "scale")
GRAPH_DATA = ("cycle", "missing_column", "extra_column")
# parameter corruptions: each applies to the entry points that name the parameter
PARAMETERS = ("bad_option", "wrong_type_number", "negative_seed", "negative_count", "huge_count", "zero_count",
              "one_count", "path_is_file", "short_list")


@dataclasses.dataclass(frozen=True)
class Kind:
    """A kind of input: how to build it clean, and which corruptions apply to it."""

    name: str
    build: Callable[[pathlib.Path], Inputs]
    corruptions: tuple
    frame: str = "data"  # the key of the frame the table corruptions spoil
    victim: str = "bmi"  # the column they spoil
    spare: str = "dbp"  # the column renamed to the victim's name (duplicate names)
    keep: tuple = ("age",)  # the columns of "single_column"
    rows: tuple = ("data",)  # the keys cut by the row corruptions (all aligned row by row)
    ordered: bool = False  # rows are time points: the row corruptions keep the first ones
    names: tuple = ()  # the keys holding node / column names: each gets an "unknown:<key>" corruption
    expect: Mapping = dataclasses.field(default_factory=dict)  # corruption -> expectation, for this kind

    def applicable(self) -> tuple:
        return (*self.corruptions, *(f"unknown:{k}" for k in self.names), *PARAMETERS)


def _kind(name, build, corruptions, **kw) -> Kind:
    return Kind(name, build, tuple(corruptions), **kw)


def _with(**fixed):
    """A builder of clean inputs: fresh copies of ``fixed`` (values may be factories), plus empty opts."""

    def build(tmp):
        out = Inputs(opts={}, tmp=tmp)
        for key, value in fixed.items():
            value = value() if callable(value) and not isinstance(value, type) else value
            out[key] = copy.deepcopy(value)
        return out

    return build


def _env_x():
    return _environment_frame()[0]


def _env_env():
    return _environment_frame()[1]


def _context_frame():
    frame, env = _environment_frame()
    return frame.assign(site=env)


@functools.cache
def _grouped_frame() -> pd.DataFrame:
    """Grouped data from scm.simulate.grouped: 40 batches of 3 rows, age -> bmi -> crp, dbp alone."""
    dag = {"age": [], "bmi": ["age"], "crp": ["bmi"], "dbp": []}
    ds = scm_simulate.grouped(dag, n_groups=40, group_size=3, kind="linear", random_state=0)
    return ds.data.rename(columns={"group": "batch"})


def _single_level_groups(i, k, e):
    df = _frame(i, k)
    df[i.groups] = 0
    return _set(i, k, df, (i.groups, "group"))


def _singleton_group(i, k, e):
    df = _frame(i, k)
    return _set(i, k, df.iloc[2:], "group")  # the first batch keeps one row


def _two_sample_tests(i, columns=None):
    """FisherZ tests on the two-sample frames of grouped inputs (the phases' input), and the nodes."""
    variables, codes = split_groups(i.data, i.groups)
    if columns is not None:
        variables = variables[list(variables.columns[:columns])]
    frames = two_sample_frames(variables, pair_samples(codes))
    return [FisherZ(f) for f in frames], list(variables.columns)


def _context_pdag():
    return PDAG(["age", "bmi", "crp", "dbp", "site"], directed=[("site", "age")],
                undirected=[("age", "bmi"), ("bmi", "crp"), ("crp", "dbp")])


def _observed():
    return _chain_model().sample(6, random_state=0)


@functools.cache
def _fitted_model() -> SCM:
    """The chain fitted to the chain's data (a model with a fit recipe: the bootstrap can refit it)."""
    graph = nx.DiGraph([("age", "bmi"), ("bmi", "crp")])
    graph.add_node("dbp")
    return SCM.fit(graph, _chain_frame())


def _changed_chain_frame() -> pd.DataFrame:
    """The chain's data after a change: bmi's mechanism shifted by 1."""
    return _chain_model().do({"bmi": scm.shift(1.0)}).sample(N_ROWS, random_state=1)


def _lagged_graph():
    return LaggedGraph(COLUMNS, directed=[("age", "bmi", 1), ("bmi", "crp", 1)], undirected=[("crp", "dbp")])


INTERVENTION_VALUES = ("nan_value", "inf_value", "string_value", "function_nan", "function_shape")
OBSERVED = ("nan", "inf", "neginf", "string", "duplicate_names", "empty", "integer", "wrong_type_frame", "missing_column",
            "extra_column")  # the corruptions of the observed units of a counterfactual


def _model_kinds(name: str, model) -> list[Kind]:
    """The kinds of a model's queries: the model alone, with interventions, and with observed units and interventions."""
    return [
        _kind(name, _with(model=model), ()),
        _kind(f"{name}+interventions", _with(model=model, interventions={"age": 1.0}), INTERVENTION_VALUES,
              names=("interventions",)),
        _kind(f"{name}+observed+interventions", _with(model=model, observed=_observed, interventions={"age": 0.0}),
              (*OBSERVED, "nan_value", "string_value"), frame="observed", rows=("observed",), names=("interventions",),
              expect={"empty": "error_or_ok"}),
    ]


def _lagged_strengths():
    """A val_matrix of _lagged_graph: strengths[i, j, lag] of COLUMNS[i](t - lag) -> COLUMNS[j](t)."""
    val = np.zeros((4, 4, 2))
    val[0, 1, 1], val[1, 2, 1], val[2, 3, 0], val[3, 2, 0] = 0.5, -0.4, 0.3, 0.3
    return val


KINDS: dict[str, Kind] = {k.name: k for k in [
    _kind("table", _with(data=_chain_frame), TABLE, expect={"single_column": "error_or_ok"}),
    _kind("ci-query", _with(data=_chain_frame, x="age", y="crp", z=("bmi",)), TABLE, names=("x", "z")),
    _kind("ci-query-discrete", _with(data=_discrete_frame, x="age", y="crp", z=("bmi",)), TABLE, names=("x", "z")),
    _kind("x/y/environment", _with(X=_env_x, y="crp", environment=_env_env),
          (*TABLE, "environment_length", "single_level_environment", "environment_list"), frame="X", keep=("crp",),
          rows=("X", "environment"), names=("y",)),
    _kind("table+context", _with(data=_context_frame, context="site"), (*TABLE, "single_level_context"),
          keep=("age", "site"), names=("context",)),
    _kind("table+groups", _with(data=_grouped_frame, groups="batch"), (*TABLE, "single_level_groups", "singleton_group"),
          keep=("age", "batch"), names=("groups",)),
    _kind("table+context+pdag", _with(data=_context_frame, context="site", pdag=_context_pdag),
          (*TABLE, "single_level_context", "missing_column"), keep=("age", "site"), names=("context",)),
    _kind("series", _with(data=_series_frame), (*TABLE, "list_of_rows"), ordered=True),
    _kind("table+knowledge", _with(data=_chain_frame, required=[("age", "bmi")]), ("missing_column",),
          names=("required",)),
    _kind("skeleton+knowledge", _with(graph=lambda: CHAIN.to_undirected(), required=[("age", "bmi")]),
          ("wrong_type_graph",), names=("required",)),
    _kind("skeleton+contexts", _with(graph=lambda: nx.Graph([("site", "age"), ("age", "bmi"), ("bmi", "crp")]),
                                     contexts=["site"]), ("wrong_type_graph",), names=("contexts",)),
    _kind("variables+contexts", _with(variables=COLUMNS, contexts=["site"]), ("context_is_variable", "duplicate_variables")),
    # few_rows: 3 rows still fit a chain (one parent at most); the check refuses an interpolating fit
    _kind("graph+data", _with(graph=CHAIN, data=_chain_frame), (*TABLE, *GRAPH_DATA), expect={"few_rows": "error_or_ok"}),
    _kind("treatment/outcome+data", _with(data=_effect_frame, treatment="dose", outcome="crp", adjustment=["age"]),
          (*TABLE, "scale_outcome"), victim="age", keep=("crp",), names=("treatment", "outcome", "adjustment"),
          expect={"constant": "error_or_ok"}),
    _kind("graph+treatment/outcome+data", _with(data=_effect_frame, graph=EFFECT_DAG, treatment="dose", outcome="crp"),
          (*TABLE, *GRAPH_DATA, "scale_outcome"), victim="age", keep=("crp",), names=("treatment", "outcome"),
          expect={"constant": "error_or_ok"}),
    _kind("cpdag+treatment/outcome+data",
          _with(data=_ida_frame, graph=lambda: scm.cpdag(IDA_DAG), treatment="dose", outcome="crp"),
          (*TABLE, *GRAPH_DATA, "wrong_type_graph", "scale_outcome"), victim="age", keep=("crp",),
          names=("treatment", "outcome"), expect={"few_rows": "error_or_ok"}),
    # grouped (exchangeable) data: the node columns and the "group" column
    _kind("graph+treatment/outcome+grouped", _with(data=_grouped_effect_frame, graph=EFFECT_DAG, treatment="dose", outcome="crp"),
          (*TABLE, *GRAPH_DATA), victim="age", keep=("crp", "group"), names=("treatment", "outcome"),
          expect={"constant": "error_or_ok", "scale": "error_or_ok", "few_rows": "error_or_ok"}),
    _kind("cpdag+data", _with(graph=lambda: scm.cpdag(IDA_DAG), data=_ida_frame), (*TABLE, *GRAPH_DATA, "wrong_type_graph"),
          victim="age", expect={"few_rows": "error_or_ok"}),
    _kind("graph-query", _with(graph=FRONT_DOOR, x="dose", y="crp", z=("age",)), ("cycle", "wrong_type_graph"),
          names=("x", "y", "z")),
    _kind("graph+node", _with(graph=FRONT_DOOR, x="dose"), ("cycle", "wrong_type_graph"), names=("x",)),
    _kind("graph", _with(graph=FRONT_DOOR), ("cycle", "wrong_type_graph")),
    _kind("pdag", _with(graph=lambda: scm.cpdag(FRONT_DOOR)), ("cycle", "wrong_type_graph")),
    _kind("graph-pair", _with(true=FRONT_DOOR, est=ESTIMATE), ("cycle", "mismatched_graphs", "wrong_type_graph")),
    _kind("graph+probs", _with(true=FRONT_DOOR, probs=_edge_probs),
          ("nan", "inf", "scale", "cycle", "mismatched_graphs", "wrong_type_frame"), frame="probs", victim="bmi",
          expect={"scale": "error_or_ok"}),
    _kind("lagged-graph", _with(graph=_lagged_graph), ("wrong_type_graph",)),
    # the strengths of a lagged graph's links (a val_matrix); numeric strings are read as numbers, as numpy does
    _kind("lagged-graph+strengths", _with(graph=_lagged_graph, strengths=_lagged_strengths),
          ("nan", "inf", "neginf", "scale", "string", "wrong_type_frame"), frame="strengths",
          expect={"scale": "error_or_ok", "string": "error_or_ok"}),
    _kind("lagged-pair", _with(true=_lagged_graph, est=lambda: LaggedGraph(COLUMNS, directed=[("age", "bmi", 1)])),
          ("mismatched_graphs", "wrong_type_graph")),
    _kind("adjacency", _with(adjacency=lambda: np.triu(np.ones((4, 4), dtype=int), 1), nodes=COLUMNS),
          ("nan", "inf", "scale", "cycle", "non_square", "nodes_mismatch", "string", "wrong_type_frame"),
          frame="adjacency", expect={"scale": "error_or_ok", "string": "error_or_ok"}),
    _kind("json", _with(text=lambda: scm.cpdag(FRONT_DOOR).to_json()),
          ("truncated_json", "wrong_type_json", "bad_edge_kind", "unknown_edge_node", "missing_key", "not_an_object")),
    _kind("lagged-json", _with(text=lambda: _lagged_graph().to_json()),
          ("truncated_json", "wrong_type_json", "bad_edge_kind", "unknown_edge_node", "missing_key", "not_an_object")),
    _kind("bif", _with(source=BIF), ("truncated_bif", "unknown_bif_parent", "wrong_type_bif")),
    *_model_kinds("model", _chain_model),
    *_model_kinds("class", _chain_class),
    *_model_kinds("fitted-model", _fitted_model),
    _kind("model+observed", _with(model=_chain_model, observed=_observed), OBSERVED, frame="observed", rows=("observed",),
          expect={"empty": "error_or_ok"}),
    # two data sets of the chain, before and after a change: the corruptions spoil the second
    _kind("model+old/new", _with(model=_chain_model, old=_chain_frame, new=_changed_chain_frame), TABLE, frame="new",
          rows=("new",), expect={"scale": "error_or_ok", "integer": "error_or_ok", "constant": "error_or_ok",
                                 "single_column": "error", "categorical": "error"}),
    _kind("draws", _with(draws=lambda: _chain_frame()["bmi"].to_numpy()), ("nan_draws", "inf_draws", "empty_draws",
                                                                          "string_draws")),
    _kind("results", _with(results=_results_table, metric="shd"),
          ("nan", "empty", "duplicate_names", "wrong_type_frame", "missing_column"), frame="results", victim="shd",
          spare="fit_seconds", rows=("results",), names=("metric",), expect={"nan": "error_or_ok", "empty": "error_or_ok"}),
    # root-cause ranking: a normal window (the corrupted frame) and a fault window
    # "scale" multiplies a column of the normal window only: a different problem, so finite answers are all we ask
    _kind("graph+windows", _with(graph=CHAIN, data=_chain_frame, fault=_fault_frame, target="crp"), (*TABLE, *GRAPH_DATA),
          names=("target",), expect={"scale": "error_or_ok"}),
    _kind("lagged-graph+windows", _with(graph=_series_graph, data=_series_frame, fault=_series_fault_frame, target="crp"),
          (*TABLE, "wrong_type_graph"), ordered=True, names=("target",), expect={"scale": "error_or_ok"}),
    _kind("series-windows", _with(data=_series_frame, fault=_series_fault_frame, target="crp"), TABLE, ordered=True,
          names=("target",), expect={"scale": "error_or_ok"}),
    _kind("parameters", _with(), ()),
    _kind("cli-csv", _with(data=_chain_frame), CSV, expect={"single_column": "error_or_ok"}),
    _kind("cli-series", _with(data=_series_frame), CSV, ordered=True, expect={"single_column": "error_or_ok"}),
    _kind("cli-csv+context", _with(data=_context_frame, context="site"), (*CSV, "single_level_context"),
          keep=("age", "site"), names=("context",), expect={"single_column": "error_or_ok"}),
    _kind("cli-effect", _with(data=_effect_frame, graph=EFFECT_DAG, treatment="dose", outcome="crp"),
          (*CSV, *GRAPH_DATA, "scale_outcome"), victim="age", keep=("crp",), names=("treatment", "outcome"),
          expect={"constant": "error_or_ok", "single_column": "error"}),
    _kind("cli-parameters", _with(), ()),
]}


# --------------------------------------------------------------------------- #
# corruptions
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class Corruption:
    name: str
    apply: Callable  # (inputs, kind, entry) -> Corrupted
    expect: str = "error"  # "error", "same" or "error_or_ok"
    applies: Callable = lambda kind, entry: True  # noqa: E731


def _frame(i, k):
    return i[k.frame].copy()


def _set(i, k, frame, offender=None, reference=None):
    return Corrupted(i.but(**{k.frame: frame}), offender, reference)


def _cell(value):
    def apply(i, k, e):
        if isinstance(i[k.frame], np.ndarray):
            a = i[k.frame].astype(float)
            a[0, 1] = value
            return _set(i, k, a)
        df = _frame(i, k)
        df[k.victim] = df[k.victim].astype(float)
        row = df.index[min(3, len(df) - 1)]
        if row == k.victim:
            # a square matrix of scores over the nodes (edge probabilities): row 3 is the victim's own row, and
            # the diagonal P[bmi, bmi] is never read (no self-loops; a NaN there is accepted by design, see
            # tests/discovery/test_metrics.py): spoil a score that is ranked, P[age, bmi]
            row = df.index[0]
        df.loc[row, k.victim] = value
        return _set(i, k, df, k.victim)

    return apply


def _constant(i, k, e):
    df = _frame(i, k)
    df[k.victim] = 1.5
    return _set(i, k, df, k.victim)


def _string(i, k, e):
    if isinstance(i[k.frame], np.ndarray):
        return _set(i, k, i[k.frame].astype(str))
    df = _frame(i, k)
    df[k.victim] = [f"s{j}" for j in range(len(df))]
    return _set(i, k, df, k.victim)


def _categorical(i, k, e):
    df = _frame(i, k)
    df[k.victim] = pd.Categorical(np.where(df[k.victim] > df[k.victim].median(), "high", "low"))
    return _set(i, k, df, k.victim)


def _duplicate_names(i, k, e):
    df = _frame(i, k)
    df.columns = [k.victim if c == k.spare else c for c in df.columns]
    return _set(i, k, df, k.victim)


def _rows(count):
    """Keep ``count(frame)`` rows: the first ones of a series, else rows spread over the frame (so that
    every environment keeps some)."""

    def apply(i, k, e):
        total, n = len(i[k.frame]), count(i[k.frame])
        keep = np.arange(n) if k.ordered else np.linspace(0, total - 1, n).round().astype(int)
        return Corrupted(i.but(**{key: i[key].iloc[keep] if isinstance(i[key], pd.DataFrame) else np.asarray(i[key])[keep]
                                  for key in k.rows}))

    return apply


def _single_column(i, k, e):
    return _set(i, k, i[k.frame][list(k.keep)].copy())


def _integer(i, k, e):
    ref = _frame(i, k)
    floats = [c for c in ref.columns if pd.api.types.is_float_dtype(ref[c])]
    for c in floats:  # integer-valued columns (a 0/1 treatment, levels) are only cast
        if not (ref[c] == ref[c].round()).all():
            ref[c] = (ref[c] * 10).round()
    corrupted = ref.copy()
    corrupted[floats] = corrupted[floats].astype("int64")
    return Corrupted(i.but(**{k.frame: corrupted}), reference=i.but(**{k.frame: ref}))


def _scale(column):
    def apply(i, k, e):
        if isinstance(i[k.frame], np.ndarray):  # a matrix: every entry
            return _set(i, k, i[k.frame] * 1e300)
        df = _frame(i, k)
        name = column(i, k)
        df[name] = df[name] * 1e300
        return _set(i, k, df, name)

    return apply


TYPE_WORDS = ("DataFrame", "dict", "list", "array", "2-D", "frame", "table")  # an error that says what it expected


def _wrong_type_frame(i, k, e):
    """A dict of lists where a frame is expected (nested lists where an array is)."""
    frame = i[k.frame]
    return _set(i, k, frame.tolist() if isinstance(frame, np.ndarray) else frame.to_dict("list"), (k.frame, *TYPE_WORDS))


def _environment_length(i, k, e):
    return Corrupted(i.but(environment=i.environment[:-1]), ("environment", "anchors", "length", "rows"))


def _single_level_environment(i, k, e):
    return Corrupted(i.but(environment=np.zeros_like(i.environment)), ("environment", "anchors", "environments",
                                                                       "level", "levels"))


def _single_level_context(i, k, e):
    df = _frame(i, k)
    df[i.context] = 0
    return _set(i, k, df, (i.context, "environment", "context"))


def _list_of_rows(i, k, e):
    return _set(i, k, i[k.frame].to_numpy().tolist())


def _unknown_value(value):
    """The same structure with one name replaced by an unknown one."""
    if isinstance(value, str):
        return UNKNOWN
    if isinstance(value, dict):
        items = list(value.items())
        return {**dict(items[:-1]), UNKNOWN: items[-1][1]}
    if isinstance(value, (list, tuple)):
        if not value:
            return type(value)([UNKNOWN])
        return type(value)([*value[:-1], _unknown_value(value[-1])])
    raise TypeError(f"no unknown name for {value!r}")


def _unknown(key):
    def apply(i, k, e):
        return Corrupted(i.but(**{key: _unknown_value(i[key])}), UNKNOWN)

    return apply


def _graph_key(i):
    return "graph" if "graph" in i else "true"


def _cycle(i, k, e):
    if "adjacency" in i:
        a = i.adjacency.copy()
        a[2, 0] = 1
        return Corrupted(i.but(adjacency=a))
    key = _graph_key(i)
    graph = i[key]
    if isinstance(graph, PDAG):
        graph = PDAG(graph.nodes, directed=[("age", "dose"), ("dose", "bmi"), ("bmi", "crp"), ("crp", "age")])
    else:
        graph = graph.copy()
        graph.add_edge("crp", "age")
    return Corrupted(i.but(**{key: graph}), ("age", "bmi", "crp", "dose"))


def _missing_column(i, k, e):
    return _set(i, k, i[k.frame].drop(columns=[k.victim]), k.victim)


def _extra_column(i, k, e):
    return _set(i, k, i[k.frame].assign(**{EXTRA: np.linspace(0.0, 1.0, len(i[k.frame]))}), EXTRA)


def _wrong_type_graph(i, k, e):
    key = "est" if "est" in i else "graph"
    return Corrupted(i.but(**{key: "age -> crp"}), (key, "graph", "DiGraph", "PDAG", "LaggedGraph", "str"))


def _mismatched_graphs(i, k, e):
    if "probs" in i:
        probs = i.probs.copy()
        probs[EXTRA] = 0.5
        probs.loc[EXTRA] = 0.5
        return Corrupted(i.but(probs=probs), EXTRA)
    est = i.est
    if isinstance(est, LaggedGraph):
        est = LaggedGraph([*est.nodes, EXTRA], directed=[*est.lagged_links, (EXTRA, "age", 1)])
    else:
        est = est.copy()
        est.add_edge(EXTRA, "age")
    return Corrupted(i.but(est=est), EXTRA)


def _scale_outcome(i, k, e):
    df = _frame(i, k)
    df[i.outcome] = df[i.outcome] * 1e300
    return _set(i, k, df, i.outcome)


# adjacency matrices
def _adjacency(change, offender=None):
    def apply(i, k, e):
        return Corrupted(i.but(**change(i)), offender)

    return apply


# JSON texts
def _json_edit(edit):
    def apply(i, k, e):
        data = json.loads(i.text)
        offender = edit(data)
        return Corrupted(i.but(text=json.dumps(data)), offender)

    return apply


def _bad_edge_kind(data):
    data["edges"][0]["kind"] = "sideways"
    return "sideways"


def _unknown_edge_node(data):
    data["edges"][0]["target"] = UNKNOWN
    return UNKNOWN


def _missing_key(data):
    del data["edges"]
    return "edges"


# interventions
def _intervention(value, offender="bmi"):
    def apply(i, k, e):
        return Corrupted(i.but(interventions={**i.interventions, offender: value}), offender)

    return apply


def _nan_function(parents):
    return np.full(len(parents), np.nan)


def _wide_function(parents):
    return np.zeros((len(parents), 2))


# one-dimensional draws
def _draws(change):
    def apply(i, k, e):
        return Corrupted(i.but(draws=change(i.draws)), ("values", "value", "NaN", "inf", "empty", "numeric"))

    return apply


def _nan_draws(v):
    v = v.astype(float)
    v[3] = np.nan
    return v


def _inf_draws(v):
    v = v.astype(float)
    v[3] = np.inf
    return v


# parameters
def _param(field, value):
    """Spoil the parameter the entry point names in ``field``; the error must name it (or show the
    value, when the value is telling)."""

    def apply(i, k, e):
        name = getattr(e, field)
        v = value(i) if callable(value) else value
        bare = name.lstrip("-").replace("-", "_")  # --samples: the CLI passes it on as n_samples
        offender = (name, bare, f"n_{bare}", *((str(v),) if len(str(v)) > 1 else ()))
        return Corrupted(i.but(opts={**i.opts, name: v}), offender)

    return apply


def _file_path(i):
    path = pathlib.Path(i.tmp) / "a-file"
    path.write_text("not a directory\n")
    return str(path)


def _names(field):
    return lambda kind, entry: getattr(entry, field) is not None


CORRUPTIONS: dict[str, Corruption] = {c.name: c for c in [
    Corruption("clean", lambda i, k, e: Corrupted(i), "ok"),
    # tables
    Corruption("nan", _cell(np.nan)),
    Corruption("inf", _cell(np.inf)),
    Corruption("neginf", _cell(-np.inf)),
    Corruption("constant", _constant),
    Corruption("string", _string),
    Corruption("categorical", _categorical),
    Corruption("duplicate_names", _duplicate_names),
    Corruption("empty", _rows(lambda df: 0)),
    Corruption("one_row", _rows(lambda df: 1)),
    Corruption("few_rows", _rows(lambda df: df.shape[1] - 1)),  # fewer rows than variables
    Corruption("single_column", _single_column, "error_or_ok"),
    Corruption("integer", _integer, "same"),
    Corruption("scale", _scale(lambda i, k: k.victim), "same"),  # one column times 1e300
    Corruption("scale_outcome", _scale_outcome, "error_or_ok"),
    Corruption("wrong_type_frame", _wrong_type_frame, "error_or_ok"),  # a dict of lists
    Corruption("list_of_rows", _list_of_rows, "error_or_ok"),
    # environments and contexts
    Corruption("environment_length", _environment_length),
    Corruption("single_level_environment", _single_level_environment),
    Corruption("environment_list", lambda i, k, e: Corrupted(i.but(environment=list(i.environment))), "same"),
    Corruption("single_level_context", _single_level_context),
    Corruption("single_level_groups", _single_level_groups),
    Corruption("singleton_group", _singleton_group),
    Corruption("context_is_variable", lambda i, k, e: Corrupted(i.but(contexts=["bmi"]), "bmi")),
    Corruption("duplicate_variables", lambda i, k, e: Corrupted(i.but(variables=[*i.variables, "bmi"]), "bmi")),
    # graphs
    Corruption("cycle", _cycle),
    Corruption("missing_column", _missing_column),  # a graph node (or model node) not in the data
    Corruption("extra_column", _extra_column, "error_or_ok"),  # a data column not in the graph
    Corruption("wrong_type_graph", _wrong_type_graph),  # a string where a graph is expected
    Corruption("mismatched_graphs", _mismatched_graphs),  # an estimate with a node the truth lacks
    # adjacency matrices
    Corruption("non_square", _adjacency(lambda i: {"adjacency": i.adjacency[:, :-1]}, ("adjacency", "square", "shape"))),
    Corruption("nodes_mismatch", _adjacency(lambda i: {"nodes": i.nodes[:-1]}, ("nodes", "names"))),
    # JSON and BIF text
    Corruption("truncated_json", lambda i, k, e: Corrupted(i.but(text=i.text[:-7]), ("JSON", "json"))),
    Corruption("wrong_type_json", lambda i, k, e: Corrupted(i.but(text=json.loads(i.text))), "error_or_ok"),
    Corruption("bad_edge_kind", _json_edit(_bad_edge_kind)),
    Corruption("unknown_edge_node", _json_edit(_unknown_edge_node)),
    Corruption("missing_key", _json_edit(_missing_key)),
    Corruption("not_an_object", lambda i, k, e: Corrupted(i.but(text="[]"), ("nodes", "edges", "object"))),
    Corruption("truncated_bif", lambda i, k, e: Corrupted(i.but(source=i.source[:-12]), ("BIF", "bif", "crp"))),
    Corruption("unknown_bif_parent", lambda i, k, e: Corrupted(i.but(source=i.source.replace(b"| age", b"| NOPE")),
                                                               UNKNOWN)),
    Corruption("wrong_type_bif", lambda i, k, e: Corrupted(i.but(source=12345), ("source", "path", "int"))),
    # interventions
    Corruption("nan_value", _intervention(np.nan)),
    Corruption("inf_value", _intervention(np.inf)),
    Corruption("string_value", _intervention("high")),
    Corruption("function_nan", _intervention(_nan_function)),
    Corruption("function_shape", _intervention(_wide_function)),
    # draws of an empirical distribution
    Corruption("nan_draws", _draws(_nan_draws)),
    Corruption("inf_draws", _draws(_inf_draws)),
    Corruption("empty_draws", _draws(lambda v: v[:0])),
    Corruption("string_draws", _draws(lambda v: np.array([f"s{j}" for j in range(len(v))]))),
    # parameters (each applies when the entry point names the parameter)
    Corruption("bad_option", _param("option", BAD_OPTION), applies=_names("option")),
    Corruption("wrong_type_number", _param("number", NOT_A_NUMBER), applies=_names("number")),
    Corruption("negative_seed", _param("seed", -5), applies=_names("seed")),
    Corruption("negative_count", _param("count", -1), applies=_names("count")),
    Corruption("huge_count", _param("count", HUGE), applies=_names("count")),
    Corruption("zero_count", _param("count", 0), "error_or_ok", applies=_names("count")),
    Corruption("one_count", _param("count", 1), "error_or_ok", applies=_names("count")),
    Corruption("path_is_file", _param("path", _file_path), applies=_names("path")),
    Corruption("short_list", _param("per_node", [1.0]), applies=_names("per_node")),
]}


def _add_unknown_corruptions():
    for kind in KINDS.values():
        for key in kind.names:
            name = f"unknown:{key}"
            CORRUPTIONS.setdefault(name, Corruption(name, _unknown(key)))


_add_unknown_corruptions()


# --------------------------------------------------------------------------- #
# helpers of the entry points' callables
# --------------------------------------------------------------------------- #
def cli(argv: list) -> CliResult:
    """``scmkit.main(argv)`` in this process: its exit status, stdout and stderr."""
    from scmkit import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 1
    return CliResult(status, out.getvalue(), err.getvalue())


def argv(opts: Mapping) -> list:
    return [str(a) for pair in opts.items() for a in pair]


def csv(i: Inputs, frame: str = "data") -> str:
    """Write ``i[frame]`` as a CSV file in the case's directory and return its path."""
    path = pathlib.Path(i.tmp) / f"{frame}.csv"
    i[frame].to_csv(path, index=False)
    return str(path)


def graph_json(i: Inputs) -> str:
    path = pathlib.Path(i.tmp) / "graph.json"
    path.write_text(PDAG.from_networkx(i.graph).to_json())
    return str(path)


def compared(table: pd.DataFrame) -> pd.DataFrame:
    """The table of ``compare``, or its first recorded error raised (the battery judges the error)."""
    failed = table[table["status"] != "ok"]
    if len(failed):
        raise RecordedError(str(failed["error"].iloc[0]))
    return table


def _compare_summary(result, i):
    """What ``scmkit compare DATA.csv`` found: the edges of each run (its log-likelihood is in the data's units)."""
    table = pd.read_csv(pathlib.Path(i.tmp) / "report" / "results.csv")
    return {"stdout_status": result.status, "edges": table[["algorithm", "n_edges", "n_directed", "n_undirected", "n_bidirected"]],
            "status": table["status"].tolist()}


def closed(ax):
    """A matplotlib axes' texts, the figure closed."""
    import matplotlib.pyplot as plt

    texts = sorted(t.get_text() for t in ax.texts)
    plt.close(ax.figure)
    return texts


def _sd(x) -> float:
    """Standard deviation without overflow (a column may be scaled by 1e300)."""
    x = np.asarray(x, dtype=float)
    m = np.max(np.abs(x))
    return float(np.std(x / m) * m) if m > 0 and np.isfinite(m) else float("nan")


def standardised_coef(est, i) -> dict:
    """Coefficients times the standard deviation of their column over that of the target:
    what a scale-equivariant linear fit leaves unchanged when a column is rescaled."""
    X = i.X if "X" in i else i.data
    sy = _sd(X[i.y])
    return {str(n): float(c) * _sd(X[n]) / sy for n, c in zip(est.feature_names_in_, est.coef_)}


def standardised_scm(model, i) -> dict:
    """Linear weights and noise scales of a fitted SCM in units of the data's standard deviations."""
    data = i.data
    out = {}
    for node, mech in model.mechanisms.items():
        sd = _sd(data[node]) or 1.0
        for parent, w in zip(getattr(mech, "parents", ()), np.atleast_1d(getattr(mech, "weights", []))):
            out[f"{parent}->{node}"] = float(w) * (_sd(data[parent]) or 1.0) / sd
        noise = model.noise.get(node)
        values = getattr(noise, "values", None)
        if values is not None:
            out[f"noise:{node}"] = _sd(values) / sd
    return out


def _check_scm(model, i):
    """A fitted SCM: finite weights, a noise scale that is not a numerical zero, and no effect
    of a constant column."""
    data = i.data if isinstance(i.data, pd.DataFrame) else pd.DataFrame(i.data)
    for node, mech in model.mechanisms.items():
        for parent, w in zip(getattr(mech, "parents", ()), np.atleast_1d(getattr(mech, "weights", []))):
            if not np.isfinite(w):
                return f"weight {parent}->{node} is {w}"
            if parent in data and data[parent].nunique() == 1 and w != 0:
                return f"constant column {parent!r} got a non-zero effect {w:.3g} on {node!r}"
        values = getattr(model.noise.get(node), "values", None)
        if values is not None and len(values) and node in data and data[node].nunique() > 1 and _sd(values) < 1e-8 * _sd(data[node]):
            return f"noise of {node!r} has std {_sd(values):.3g}: an interpolating fit"
    return None


def _check_class(models, i):
    """Every member of a fitted SCMClass passes :func:`_check_scm`."""
    return next((problem for m in models.models if (problem := _check_scm(m, i))), None)


def _check_series(est, i):
    n_vars = len(i.data[0]) if isinstance(i.data, list) else i.data.shape[1]
    nodes = list(est.graph_.nodes) if hasattr(est, "graph_") else list(getattr(est, "names", []))
    if len(nodes) != n_vars:
        return f"{len(nodes)} series found in data of {n_vars} columns"
    return None


def _check_sample(sample, i):
    if isinstance(sample, pd.DataFrame) and not np.isfinite(sample.to_numpy(dtype=float)).all():
        return "the sample holds NaN or inf"
    return None


def _sample_of(model):
    return model.sample(40, random_state=0)


def _query_summary(result, i):
    """An SCM query's answer: a Series or DataFrame as it is; a QueryResult's estimate, and its interval when it has one."""
    if not isinstance(result, scm.QueryResult):
        return result
    out = {"estimate": result.estimate}
    if result.interval != "not available":  # a fitted model queried without bootstrap: NaN by design, with a note
        out.update(ci_low=result.ci_low, ci_high=result.ci_high)
    return out


def _effect_summary(result, i):
    return {"estimate": result.estimate, **({} if np.isnan(result.std_err) else {"conf_int": result.conf_int})}


def _array(data):
    return data.to_numpy() if isinstance(data, pd.DataFrame) else data


def _check_constant_coef(est, i):
    """A constant column gets an exact zero coefficient."""
    X = i.X
    for name, c in zip(est.feature_names_in_, est.coef_):
        if X[name].nunique() == 1 and c != 0:
            return f"constant column {name!r} got the coefficient {c:.3g}"
    return None


def _graph_check_summary(res, i):
    """The p-values, counts and permutation baseline of check_graph (the verdict's figures)."""
    return {"pvalue": res.table["pvalue"].to_numpy(), "n_violated": res.n_violated, "n_adjusted": res.n_violated_adjusted,
            "permutations": res.permutation_violations}


def _mechanism_check_summary(res, i):
    """Held-out R^2 and residual p-values where they apply (the log-likelihood depends on the units of a column)."""
    scored = res.table[res.table["r2_status"] == "ok"]
    return {"nodes": scored["node"].tolist(), "values": scored[["r2", "residual_pvalue"]].to_numpy(dtype=float)}


def _check_notears(est, i):
    if len(i.data) < i.data.shape[1] and est.graph_.number_of_edges():
        return f"{est.graph_.number_of_edges()} edges from {len(i.data)} rows"
    return None


# --------------------------------------------------------------------------- #
# entry points: one line each
# --------------------------------------------------------------------------- #
@dataclasses.dataclass(frozen=True)
class Entry:
    name: str  # the public object's dotted path ([variant] for another line on it); "scmkit ..." for the CLI
    kind: str
    call: Callable[[Inputs], Any]
    option: str | None = None  # a string parameter with a set of allowed values
    number: str | None = None  # a numeric parameter
    seed: str | None = None  # a random_state parameter
    count: str | None = None  # a size: rows, nodes, time points
    path: str | None = None  # a directory or file path
    per_node: str | None = None  # a parameter with one value per node
    expect: Mapping = dataclasses.field(default_factory=dict)  # corruption -> expectation
    check: Callable | None = None  # (result, inputs) -> a problem or None
    summary: Callable | None = None  # (result, inputs) -> what "same" compares
    slow: bool | tuple = False  # True, or the corruptions whose case is slow


TRAINS = ("clean", "integer", "scale", "wrong_type_frame", "single_column")  # the cases that get to train a model


E = Entry
SAME_OR_ERROR = "error_or_ok"
NOT_SCALE_FREE = {"scale": SAME_OR_ERROR}  # the summary is not scale-invariant: finite is all we ask

ENTRIES: list[Entry] = [
    # ---- discovery: constraint-based search
    E("discovery.PC", "table", lambda i: PC(**i.opts).fit(i.data), option="ci_test", number="alpha"),
    E("discovery.PC[kci]", "table", lambda i: PC(ci_test="kci", **i.opts).fit(i.data), number="alpha"),
    E("discovery.BackgroundKnowledge", "table+knowledge",
      lambda i: PC(background_knowledge=BackgroundKnowledge(required=i.required)).fit(i.data)),
    E("discovery.CausalDeFinetti", "table+groups", lambda i: CausalDeFinetti(ci_test="fisherz", **i.opts).fit(i.data, groups=i.groups),
      option="pairing", number="alpha", seed="random_state"),
    E("discovery.CausalDeFinetti[kci]", "table+groups", lambda i: CausalDeFinetti(**i.opts).fit(i.data, groups=i.groups),
      option="ci_test", number="alpha"),
    E("discovery.exchangeable.split_groups", "table+groups", lambda i: split_groups(i.data, i.groups),
      expect={"scale": "error_or_ok"}),  # returns the data, scaled
    E("discovery.exchangeable.pair_samples", "table+groups", lambda i: pair_samples(split_groups(i.data, i.groups)[1], **i.opts),
      option="pairing", seed="random_state"),
    E("discovery.exchangeable.two_sample_frames", "table+groups",
      lambda i: two_sample_frames(split_groups(i.data, i.groups)[0], pair_samples(split_groups(i.data, i.groups)[1])),
      expect={"scale": "error_or_ok"}),  # returns the data, scaled
    E("discovery.exchangeable.sink_layers", "table+groups", lambda i: sink_layers(*_two_sample_tests(i), **i.opts), number="alpha"),
    E("discovery.exchangeable.layer_edges", "table+groups",
      lambda i: layer_edges(*_two_sample_tests(i), sink_layers(*_two_sample_tests(i))[0], **i.opts), number="alpha"),
    E("discovery.exchangeable.bivariate_tests", "table+groups", lambda i: bivariate_tests(*_two_sample_tests(i, columns=2))),
    E("discovery.exchangeable.bivariate_rule", "parameters",
      lambda i: bivariate_rule(**{"p_xy": 0.5, "p_yx": 0.01, "p_ind": 0.001, **i.opts}), number="alpha"),
    E("discovery.exchangeable.combine_pvalues", "parameters", lambda i: combine_pvalues(**{"pvalues": [[0.1, 0.5], [0.3, 0.2]], **i.opts})),
    E("discovery.exchangeable.two_sample_names", "parameters", lambda i: two_sample_names(**{"nodes": ["age", "bmi"], **i.opts})),
    E("discovery.exchangeable.two_sample_graph", "graph", lambda i: two_sample_graph(i.graph)),
    E("discovery.CDNOD", "table+context", lambda i: CDNOD(**i.opts).fit(i.data, context=i.context), option="ci_test",
      number="alpha", seed="random_state"),
    E("discovery.CDNOD[fisherz]", "table+context", lambda i: CDNOD(ci_test="fisherz", **i.opts).fit(i.data, context=i.context),
      option="context_kind", number="ridge"),
    E("discovery.constraint.skeleton", "table", lambda i: skeleton(FisherZ(i.data), **i.opts), number="alpha"),
    E("discovery.constraint.orient_colliders", "table",
      lambda i: orient_colliders(nx.Graph([("age", "bmi"), ("bmi", "crp")]), None, ci_test=FisherZ(i.data),
                                 **{"rule": "maxp", **i.opts}),
      option="rule", number="alpha"),
    E("discovery.constraint.apply_background_knowledge", "skeleton+knowledge",
      lambda i: apply_background_knowledge(i.graph, BackgroundKnowledge(required=i.required))),
    E("discovery.constraint.context_knowledge", "variables+contexts", lambda i: context_knowledge(i.variables, i.contexts)),
    E("discovery.constraint.context_skeleton", "table+context", lambda i: context_skeleton(FisherZ(i.data), [i.context], **i.opts),
      number="alpha"),
    E("discovery.constraint.orient_with_context", "skeleton+contexts",
      lambda i: orient_with_context(i.graph, {}, i.contexts, **i.opts), option="rule"),
    E("discovery.constraint.orient_by_independent_changes", "table+context+pdag",
      lambda i: orient_by_independent_changes(i.pdag, i.data, i.context, **i.opts), option="context_kind", number="ridge",
      seed="random_state"),
    E("discovery.constraint.driving_forces", "table+context+pdag",
      lambda i: driving_forces(i.pdag, i.data, i.context, **i.opts), option="context_kind", number="n_components",
      seed="random_state"),
    E("discovery.constraint.changing_nodes", "skeleton+contexts", lambda i: changing_nodes(i.graph, i.contexts)),
    # ---- discovery: CI tests
    E("discovery.FisherZ", "ci-query", lambda i: FisherZ(i.data).pvalue(i.x, i.y, i.z)),
    E("discovery.KCI", "ci-query", lambda i: KCI(i.data, **i.opts).pvalue(i.x, i.y, i.z), option="approximation",
      number="epsilon", seed="random_state"),
    E("discovery.ChiSquare", "ci-query-discrete", lambda i: ChiSquare(i.data).pvalue(i.x, i.y, i.z),
      expect={"categorical": SAME_OR_ERROR}),
    E("discovery.GSquare", "ci-query-discrete", lambda i: GSquare(i.data).pvalue(i.x, i.y, i.z),
      expect={"categorical": SAME_OR_ERROR}),
    E("discovery.DSeparation", "graph-query", lambda i: DSeparation(i.graph).pvalue(i.x, i.y, i.z)),
    E("discovery.make_ci_test", "ci-query",
      lambda i: make_ci_test(**{"name_or_instance": "fisherz", **i.opts}, data=i.data).pvalue(i.x, i.y, i.z),
      option="name_or_instance"),
    E("discovery.citest.resolve_ci_test", "ci-query",
      lambda i: resolve_ci_test(**{"ci_test": "fisherz", **i.opts}, data=i.data, owner="PC").pvalue(i.x, i.y, i.z),
      option="ci_test"),
    # ---- discovery: differentiable
    E("discovery.NOTEARS", "table", lambda i: NOTEARS(max_iter=3, **i.opts).fit(i.data), option="model", number="lambda2",
      seed="random_state", expect=NOT_SCALE_FREE, check=_check_notears),
    E("discovery.NOTEARS[standardize]", "table", lambda i: NOTEARS(max_iter=3, standardize=True).fit(i.data),
      check=_check_notears),
    E("discovery.VIDPDAG", "table", lambda i: VIDPDAG(max_iter=50, chunk_size=50, random_state=0, **i.opts).fit(i.data),
      option="transform", number="tau", slow=TRAINS),
    E("discovery.DPDAG", "parameters",
      lambda i: DPDAG(**{"n_nodes": 4, "key": _jax_key(), **i.opts}).sample(_jax_key(), n=2), option="permutation",
      number="tau", count="n_nodes", slow=("one_count",)),  # one node: another shape to compile
    E("discovery.differentiable.prepare_data", "table", lambda i: prepare_data(i.data, random_state=0, **i.opts),
      option="transform", number="validation_fraction", summary=lambda r, i: r.transformed_columns),
    E("discovery.differentiable.transform_columns", "table",
      lambda i: transform_columns(_array(i.data), list(i.data), **{"transform": "rank", **i.opts}),
      option="transform", expect={"wrong_type_frame": "error", **dict.fromkeys(("constant", "duplicate_names", "empty", "one_row",
                                                                                 "few_rows"), SAME_OR_ERROR)}),
    E("discovery.differentiable.break_cycles", "adjacency", lambda i: break_cycles(i.adjacency, 0.3, i.nodes),
      expect={"cycle": SAME_OR_ERROR, "scale": SAME_OR_ERROR}),
    # ---- discovery: invariance
    E("discovery.ICP", "x/y/environment", lambda i: ICP(**i.opts).fit(i.X, i.y, i.environment), option="test",
      number="alpha"),
    E("discovery.NonlinearICP", "x/y/environment", lambda i: NonlinearICP(**i.opts).fit(i.X, i.y, i.environment),
      option="test", number="alpha", seed="random_state", slow=("clean", "integer", "environment_list")),
    E("discovery.InvariantAncestrySearch", "x/y/environment",
      lambda i: InvariantAncestrySearch(**i.opts).fit(i.X, i.y, i.environment), option="test", number="alpha",
      summary=lambda est, i: {**standardised_coef(est, i), "ancestors": sorted(est.ancestors_)}),
    E("discovery.ICPGraph", "table+context", lambda i: ICPGraph(**i.opts).fit(i.data, environment=i.context),
      option="test", number="alpha"),
    E("discovery.AnchorRegression", "x/y/environment", lambda i: AnchorRegression(**i.opts).fit(i.X, i.y, anchors=i.environment),
      number="gamma", summary=standardised_coef, check=_check_constant_coef,
      expect={"single_level_environment": SAME_OR_ERROR, "constant": SAME_OR_ERROR}),
    E("discovery.IRM", "x/y/environment",
      lambda i: IRM(n_steps=50, anneal_steps=10, **i.opts).fit(i.X, i.y, environment=i.environment), option="solver",
      number="learning_rate", seed="random_state", summary=standardised_coef),
    E("discovery.CausIRL", "x/y/environment",
      lambda i: CausIRL(n_steps=50, penalty_rows=64, **i.opts).fit(i.X, i.y, environment=i.environment), option="penalty",
      number="penalty_weight", seed="random_state", summary=standardised_coef,
      slow=("clean", "integer", "scale", "environment_list")),
    E("discovery.MinimaxTransfer", "x/y/environment",
      lambda i: MinimaxTransfer(mutable=[], predictor_hidden=4, predictor_steps=20, **i.opts).fit(i.X, i.y, environment=i.environment),
      option="search", number="alpha", seed="random_state", summary=lambda r, i: r.subset_),
    E("discovery.AdaptiveCovariateSelection", "x/y/environment",
      lambda i: AdaptiveCovariateSelection(**i.opts).fit(i.X, i.y, environment=i.environment), number="n_neighbors",
      summary=lambda r, i: r.static_set_),
    # ---- discovery: time series
    E("discovery.PCMCI", "series", lambda i: PCMCI(**i.opts).fit(i.data), option="ci_test", number="pc_alpha",
      check=_check_series),
    E("discovery.PCMCIPlus", "series", lambda i: PCMCIPlus(**i.opts).fit(i.data), option="contemporaneous_collider_rule",
      number="alpha", check=_check_series),
    E("discovery.timeseries.lagged_design", "series", lambda i: lagged_design(i.data, **{"tau_max": 1, **i.opts}),
      number="tau_max", check=_check_series, summary=lambda r, i: r.values, expect=NOT_SCALE_FREE),
    E("discovery.timeseries.pc1_parents", "series", lambda i: pc1_parents(lagged_design(i.data, 1), **i.opts),
      option="ci_test", number="pc_alpha", summary=lambda r, i: r.parents),
    E("discovery.timeseries.mci_tests", "series",
      lambda i: mci_tests(lagged_design(i.data, 1), {c: [] for c in COLUMNS}, **i.opts)[1], option="ci_test",
      number="max_conds_py"),
    E("discovery.timeseries.mci_skeleton", "series",
      lambda i: mci_skeleton(lagged_design(i.data, 1), {c: [] for c in COLUMNS}, **i.opts).graph, option="ci_test",
      number="alpha"),
    E("discovery.timeseries.orient_contemporaneous_colliders", "series", lambda i: _colliders(i.data, **i.opts).graph,
      option="rule", number="alpha"),
    E("discovery.timeseries.orient_contemporaneous_rules", "lagged-graph", lambda i: orient_contemporaneous_rules(i.graph)),
    E("discovery.timeseries.lagged_metrics", "lagged-pair", lambda i: lagged_metrics(i.true, i.est)),
    # ---- discovery: metrics
    E("discovery.metrics.shd", "graph-pair", lambda i: shd(i.true, i.est, **i.opts), number="reversed_cost",
      expect={"cycle": SAME_OR_ERROR}),
    E("discovery.metrics.sid", "graph-pair", lambda i: sid(i.true, i.est)),
    E("discovery.metrics.sid_bounds", "graph-pair",
      lambda i: sid_bounds(i.true, scm.cpdag(i.est) if isinstance(i.est, nx.DiGraph) else i.est, **i.opts), option="method",
      number="limit"),
    E("discovery.metrics.skeleton_scores", "graph-pair", lambda i: skeleton_scores(i.true, i.est),
      expect={"cycle": SAME_OR_ERROR}),
    E("discovery.metrics.arrowhead_scores", "graph-pair", lambda i: arrowhead_scores(i.true, i.est),
      expect={"cycle": SAME_OR_ERROR}),
    E("discovery.metrics.all_metrics", "graph-pair", lambda i: all_metrics(i.true, i.est, **i.opts), option="compare",
      expect={"cycle": SAME_OR_ERROR}, summary=lambda r, i: {k: v for k, v in r.items() if not k.startswith("sid")}),
    E("discovery.metrics.as_pdag", "graph", lambda i: as_pdag(i.graph), expect={"cycle": SAME_OR_ERROR}),
    E("discovery.metrics.average_precision", "graph+probs", lambda i: average_precision(i.true, i.probs, **i.opts),
      option="kind", expect={"cycle": SAME_OR_ERROR}),
    E("discovery.metrics.auroc", "graph+probs", lambda i: auroc(i.true, i.probs, **i.opts), option="kind",
      expect={"cycle": SAME_OR_ERROR}),
    # ---- discovery: the harness
    E("discovery.compare", "table",
      lambda i: compared(compare({"pc": PC()}, {"chain": scm.Dataset(i.data, graph=CHAIN)}, executor="sequential", **i.opts)),
      path="cache_dir", summary=lambda r, i: r["shd"].tolist(), expect={"single_column": SAME_OR_ERROR}),
    E("discovery.compare[no truth]", "table",
      lambda i: compared(compare({"pc": PC()}, {"shop": i.data}, executor="sequential", **i.opts)), number="cv_folds",
      summary=lambda r, i: r[["n_edges", "n_directed", "n_undirected"]].to_numpy(), expect={"single_column": SAME_OR_ERROR}),
    E("discovery.heldout_loglik", "graph+data", lambda i: heldout_loglik(i.graph, i.data, **i.opts), count="n_folds",
      seed="random_state", expect=NOT_SCALE_FREE),  # the log-density is in the data's units: a column x 1e300 shifts it
    E("discovery.edge_counts", "graph", lambda i: edge_counts(i.graph), expect={"cycle": SAME_OR_ERROR}),
    # graphs learned on the same data are compared on the nodes they share (CD-NOD's context node is its own)
    E("discovery.agreement_matrix", "graph-pair", lambda i: agreement_matrix({"a": i.true, "b": i.est}),
      expect={"cycle": SAME_OR_ERROR, "mismatched_graphs": SAME_OR_ERROR}),
    E("discovery.edge_frequencies", "graph-pair", lambda i: edge_frequencies([i.true, i.est]),
      expect={"cycle": SAME_OR_ERROR, "mismatched_graphs": SAME_OR_ERROR}),
    E("discovery.consensus_graph", "graph-pair", lambda i: consensus_graph([i.true, i.est], **i.opts), number="threshold",
      expect={"cycle": SAME_OR_ERROR, "mismatched_graphs": SAME_OR_ERROR}),
    E("discovery.bootstrap", "table", lambda i: bootstrap(PC(), i.data, **{"n_resamples": 4, "random_state": 0, **i.opts}),
      option="resampling", number="n_resamples", seed="random_state", count="n_resamples", summary=lambda r, i: r.edges),
    E("discovery.bootstrap[context]", "table+context",
      lambda i: bootstrap(CDNOD(ci_test="fisherz"), i.data, n_resamples=3, random_state=0, fit_params={"context": i.context},
                          **i.opts), option="resampling", summary=lambda r, i: r.edges, slow=True),
    E("discovery.bootstrap[series]", "series", lambda i: bootstrap(PCMCI(), i.data, n_resamples=3, random_state=0, **i.opts),
      number="block_length", summary=lambda r, i: r.edges, slow=True),
    E("discovery.BootstrapResult.consensus", "parameters",
      lambda i: bootstrap(PC(), _chain_frame(), n_resamples=4, random_state=0).consensus(**i.opts), number="threshold"),
    E("discovery.evaluation.summarise", "results", lambda i: summarise_results(i.results, i.metric),
      summary=lambda r, i: r[["dataset", "algorithm", "n"]]),
    E("discovery.plot_comparison", "results", lambda i: closed(plot_comparison(i.results, i.metric).axes[0])),
    E("discovery.write_report", "results",
      lambda i: write_report(i.results, i.opts.get("directory", i.tmp / "report"), metrics=[i.metric]).name,
      path="directory"),
    E("discovery.check_graph", "graph+data", lambda i: check_graph(i.graph, i.data, **{"random_state": 0, **i.opts}),
      option="ci_test", number="alpha", seed="random_state", count="n_permutations", summary=_graph_check_summary),
    E("discovery.check_graph[implied]", "graph+data", lambda i: check_graph(i.graph, i.data, n_permutations=0, **i.opts),
      option="implied", summary=_graph_check_summary),
    E("discovery.check_graph[correction]", "graph+data", lambda i: check_graph(i.graph, i.data, n_permutations=0, **i.opts),
      option="correction", summary=_graph_check_summary),
    E("discovery.evaluation.implied_independences", "graph", lambda i: implied_independences(i.graph, **i.opts),
      option="implied"),
    E("discovery.check_mechanisms", "graph+data", lambda i: check_mechanisms(i.graph, i.data, **{"random_state": 0, **i.opts}),
      option="residual_test", number="alpha", seed="random_state", count="n_folds", summary=_mechanism_check_summary),
    E("discovery.plot_lagged_graph", "lagged-graph", lambda i: closed(plot_lagged_graph(i.graph, **{"style": "summary", **i.opts})),
      option="style", number="vmax"),
    E("discovery.plot_lagged_graph[strengths]", "lagged-graph+strengths",
      lambda i: closed(plot_lagged_graph(i.graph, strengths=i.strengths, style="summary"))),
    E("discovery.plot_graph", "graph-pair", lambda i: closed(plot_graph(i.est, truth=i.true, **i.opts)), option="layout",
      expect={"cycle": SAME_OR_ERROR, "mismatched_graphs": SAME_OR_ERROR}),
    # ---- scm: graphs
    E("scm.d_separated", "graph-query", lambda i: scm.d_separated(i.graph, i.x, i.y, i.z)),
    E("scm.check_dag", "graph", lambda i: scm.check_dag(i.graph)),
    E("scm.as_dag", "graph", lambda i: scm.as_dag(i.graph)),
    E("scm.topological_order", "graph", lambda i: scm.topological_order(i.graph)),
    E("scm.cpdag", "graph", lambda i: scm.cpdag(i.graph)),
    E("scm.v_structures", "graph", lambda i: scm.v_structures(i.graph)),
    E("scm.skeleton_pdag", "graph", lambda i: scm.skeleton_pdag(i.graph), expect={"cycle": SAME_OR_ERROR}),
    E("scm.dag_to_adjacency", "graph", lambda i: scm.dag_to_adjacency(i.graph)),
    E("scm.ancestors", "graph+node", lambda i: scm.ancestors(i.graph, i.x), expect={"cycle": SAME_OR_ERROR}),
    E("scm.descendants", "graph+node", lambda i: scm.descendants(i.graph, i.x), expect={"cycle": SAME_OR_ERROR}),
    E("scm.markov_blanket", "graph+node", lambda i: scm.markov_blanket(i.graph, i.x)),
    E("scm.meek_rules", "pdag", lambda i: scm.meek_rules(i.graph)),
    E("scm.consistent_extension", "pdag", lambda i: scm.consistent_extension(i.graph)),
    E("scm.dags_in_class", "pdag", lambda i: scm.dags_in_class(i.graph, **i.opts), number="limit",
      expect={"cycle": SAME_OR_ERROR}),
    E("scm.adjacency_to_dag", "adjacency", lambda i: scm.adjacency_to_dag(i.adjacency, i.nodes)),
    E("scm.PDAG.from_adjacency", "adjacency", lambda i: PDAG.from_adjacency(i.adjacency, i.nodes),
      expect={"cycle": SAME_OR_ERROR}),
    E("scm.PDAG.from_json", "json", lambda i: PDAG.from_json(i.text)),
    E("scm.LaggedGraph.from_json", "lagged-json", lambda i: LaggedGraph.from_json(i.text)),
    E("scm.LaggedGraph.to_dot", "lagged-graph+strengths", lambda i: i.graph.to_dot(strengths=i.strengths, **i.opts),
      number="digits"),
    E("scm.LaggedGraph.from_array", "adjacency", lambda i: LaggedGraph.from_array(np.stack([i.adjacency, i.adjacency], -1), i.nodes),
      expect={"cycle": SAME_OR_ERROR}),
    # ---- scm: models
    E("scm.SCM", "graph", lambda i: SCM(i.graph, _linear_mechanisms())),
    E("scm.SCM.fit", "graph+data", lambda i: SCM.fit(i.graph, i.data, **i.opts), option="mechanism", seed="random_state",
      summary=standardised_scm, check=_check_scm, expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR}),
    E("scm.SCM.fit[orientation]", "cpdag+data", lambda i: SCM.fit(i.graph, i.data, **{"orientation": "all", **i.opts}),
      option="orientation", summary=lambda r, i: [standardised_scm(m, i) for m in r.models], check=_check_class,
      expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR}),
    E("scm.SCMClass.interventional_mean", "class+interventions", lambda i: i.model.interventional_mean(i.interventions),
      check=_check_sample),
    E("scm.SCMClass.do", "class+interventions", lambda i: i.model.do(i.interventions).sample(40, random_state=0),
      check=_check_sample),
    E("scm.SCMClass.sample", "class", lambda i: i.model.sample(**{"n": 40, "random_state": 0, **i.opts}), number="n",
      seed="random_state", count="n"),
    E("scm.SCMClass.counterfactual", "class+observed+interventions",
      lambda i: i.model.counterfactual(i.observed, i.interventions, **i.opts), seed="random_state", count="n_samples",
      check=_check_sample),
    E("scm.fit_scm", "graph+data", lambda i: scm.fit_scm(i.graph, i.data, **i.opts), option="noise",
      summary=standardised_scm, check=_check_scm, expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR}),
    E("scm.check_fit_data", "graph+data", lambda i: scm.check_fit_data(i.graph, i.data)[1],
      expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR, "scale": SAME_OR_ERROR}),
    E("scm.choose_mechanisms", "graph+data",
      lambda i: scm.choose_mechanisms(i.graph, i.data, **{"mechanism": "auto", "random_state": 0, **i.opts}), option="mechanism",
      seed="random_state", expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR}),
    E("scm.fit_mechanism", "graph+data", lambda i: scm.fit_mechanism(i.graph, i.data, "crp", **i.opts), option="spec",
      expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR, "scale": SAME_OR_ERROR}),
    E("scm.fit_noise", "graph+data",
      lambda i: scm.fit_noise(i.graph, i.data, "crp", scm.Linear({"bmi": 0.8}), **i.opts).values, option="kind",
      expect={"categorical": SAME_OR_ERROR, "constant": SAME_OR_ERROR, "scale": SAME_OR_ERROR, "one_row": SAME_OR_ERROR,
              "few_rows": SAME_OR_ERROR}),
    E("scm.SCM.from_linear", "adjacency", lambda i: _sample_of(SCM.from_linear(i.adjacency, nodes=i.nodes, **i.opts)),
      number="noise_std", per_node="noise_std", check=_check_sample, expect={"scale": SAME_OR_ERROR}),
    E("scm.SCM.sample", "model", lambda i: i.model.sample(**{"n": 40, "random_state": 0, **i.opts}), number="n",
      seed="random_state", count="n"),
    E("scm.SCM.sample_noise", "model", lambda i: i.model.sample_noise(**{"n": 40, "random_state": 0, **i.opts}),
      number="n", seed="random_state", count="n"),
    E("scm.SCM.do", "model+interventions", lambda i: _sample_of(i.model.do(i.interventions)), check=_check_sample),
    E("scm.SCM.interventional_mean", "model+interventions", lambda i: i.model.interventional_mean(i.interventions),
      check=_check_sample),
    E("scm.SCM.counterfactual", "model+observed+interventions",
      lambda i: i.model.counterfactual(i.observed, i.interventions, **i.opts), seed="random_state", count="n_samples",
      check=_check_sample),
    E("scm.SCM.interventional_mean[bootstrap]", "fitted-model+interventions",
      lambda i: i.model.interventional_mean(i.interventions, **{"n_bootstrap": 41, "random_state": 0, **i.opts}),
      number="alpha", seed="random_state", count="n_bootstrap", summary=_query_summary),
    E("scm.SCM.interventional_mean[monte-carlo]", "fitted-model+interventions",
      lambda i: i.model.interventional_mean(i.interventions, **{"n_samples": 200, "n_bootstrap": 41, "random_state": 0,
                                                                 **i.opts}),
      count="n_samples", summary=_query_summary),
    E("scm.SCM.interventional_quantity", "fitted-model+interventions",
      lambda i: i.model.interventional_quantity(i.interventions, lambda s: (s["crp"] > 0).mean(),
                                                **{"n_samples": 300, "n_bootstrap": 41, "random_state": 0, **i.opts}),
      number="alpha", seed="random_state", count="n_bootstrap", summary=_query_summary),
    E("scm.SCM.interventional_quantity[given]", "model+interventions",
      lambda i: i.model.interventional_quantity(i.interventions, lambda s: s["crp"].quantile([0.25, 0.75]),
                                                **{"n_samples": 300, "random_state": 0, **i.opts}),
      number="alpha", seed="random_state", count="n_samples", summary=_query_summary),
    E("scm.SCM.counterfactual[bootstrap]", "fitted-model+observed+interventions",
      lambda i: i.model.counterfactual(i.observed, i.interventions, **{"n_bootstrap": 41, "random_state": 0, **i.opts}),
      number="alpha", seed="random_state", count="n_bootstrap", summary=_query_summary),
    E("scm.SCM.abduct", "model+observed", lambda i: i.model.abduct(i.observed, **i.opts), seed="random_state",
      count="n_samples", check=_check_sample),
    E("scm.SCM.predict", "model+observed", lambda i: i.model.predict(i.observed), check=_check_sample),
    E("scm.Empirical", "draws", lambda i: scm.Empirical(i.draws).sample(5, _rng())),
    E("scm.Gaussian", "parameters", lambda i: scm.Gaussian(**i.opts).sample(5, _rng()), number="std"),
    E("scm.Uniform", "parameters", lambda i: scm.Uniform(**i.opts).sample(5, _rng()), number="low"),
    E("scm.Laplace", "parameters", lambda i: scm.Laplace(**i.opts).sample(5, _rng()), number="scale"),
    E("scm.Linear", "parameters", lambda i: scm.Linear({"age": 2.0}, **i.opts)(np.ones((2, 1)), np.zeros(2)),
      number="intercept"),
    E("scm.Constant", "parameters", lambda i: scm.Constant(**{"value": 1.0, **i.opts})(np.ones((2, 0)), np.zeros(2)),
      number="value"),
    E("scm.as_noise", "parameters", lambda i: scm.as_noise(i.opts.get("obj", 1.0)).sample(3, _rng()), option="obj"),
    # ---- scm: simulators and datasets
    E("scm.simulate.simulate", "parameters",
      lambda i: scm_simulate.simulate(**{"n_nodes": 4, "n_samples": 50, "random_state": 0, **i.opts}).data,
      option="graph_kind", number="expected_degree", seed="random_state", count="n_samples"),
    E("scm.simulate.simulate[n_nodes]", "parameters", lambda i: scm_simulate.simulate(**{"n_nodes": 4, "n_samples": 50, **i.opts}).data,
      option="scm_kind", number="noise_scale", count="n_nodes"),
    E("scm.simulate.random_dag", "parameters", lambda i: scm_simulate.random_dag(**{"n_nodes": 5, "random_state": 0, **i.opts}),
      option="kind", number="expected_degree", seed="random_state", count="n_nodes"),
    E("scm.simulate.random_scm", "graph", lambda i: _sample_of(scm_simulate.random_scm(i.graph, random_state=0, **i.opts)),
      option="kind", number="noise_scale", check=_check_sample),
    E("scm.simulate.multi_environment", "graph",
      lambda i: scm_simulate.multi_environment(i.graph, **{"n_environments": 2, "n_samples": 30, "random_state": 0, **i.opts}).data,
      option="change", number="strength", seed="random_state", count="n_environments"),
    E("scm.simulate.nonstationary", "graph",
      lambda i: scm_simulate.nonstationary(i.graph, **{"n_samples": 40, "random_state": 0, **i.opts}).data, option="drift",
      number="strength", seed="random_state", count="n_samples"),
    E("scm.simulate.grouped", "graph",
      lambda i: scm_simulate.grouped(i.graph, **{"n_groups": 10, "group_size": 3, "random_state": 0, **i.opts}).data,
      option="kind", seed="random_state", count="n_groups"),
    E("scm.simulate.polya_urn", "graph",
      lambda i: scm_simulate.polya_urn(i.graph, **{"n_groups": 10, "group_size": 3, "random_state": 0, **i.opts}).data,
      seed="random_state", count="n_groups"),
    E("scm.simulate.time_series", "parameters",
      lambda i: scm_simulate.time_series(**{"n_series": 3, "n_timepoints": 60, "burn_in": 10, "random_state": 0, **i.opts}).data,
      option="noise", number="max_spectral_radius", seed="random_state", count="n_timepoints"),
    E("scm.simulate.draw_lagged_structure", "parameters",
      lambda i: scm_simulate.draw_lagged_structure(**{"n_series": 3, "random_state": 0, **i.opts}).links,
      number="max_spectral_radius", seed="random_state", count="n_series"),
    E("scm.simulate.draw_innovations", "parameters",
      lambda i: scm_simulate.draw_innovations(_var_process(), **{"random_state": 0, **i.opts}).noise, option="noise",
      seed="random_state"),
    E("scm.simulate.simulate_var", "parameters",
      lambda i: scm_simulate.simulate_var(_var_process(), **{"n_timepoints": 40, "burn_in": 10, "random_state": 0, **i.opts}),
      number="burn_in", seed="random_state", count="n_timepoints"),
    E("scm.simulate.inject_fault", "model",
      lambda i: scm_simulate.inject_fault(i.model, **{"n_normal": 30, "n_fault": 10, "random_state": 0, **i.opts}).fault,
      option="fault", number="strength", seed="random_state", count="n_normal"),
    E("scm.simulate.fault_dataset", "parameters",
      lambda i: scm_simulate.fault_dataset(**{"n_nodes": 4, "n_normal": 30, "n_fault": 10, "random_state": 0, **i.opts}).fault,
      option="kind", number="strength", seed="random_state", count="n_nodes"),
    E("scm.datasets.microservice_graph", "parameters", lambda i: sorted(scm_datasets.microservice_graph(**i.opts).edges)),
    E("scm.datasets.microservice_scm", "parameters", lambda i: scm_datasets.microservice_scm(**i.opts).sample(5, random_state=0)),
    E("scm.datasets.load_microservice_anomaly", "parameters", lambda i: scm_datasets.load_microservice_anomaly(**i.opts)),
    E("scm.datasets.microservice_faults", "parameters",
      lambda i: scm_datasets.microservice_faults(**{"n_cases": 2, "n_normal": 20, "random_state": 0, **i.opts})[0].fault,
      seed="random_state", count="n_cases"),
    E("scm.datasets.load_sachs", "parameters", lambda i: scm_datasets.load_sachs(**i.opts).data.shape, option="kind"),
    E("scm.datasets.sachs_graph", "parameters", lambda i: scm_datasets.sachs_graph(**i.opts), option="source"),
    E("scm.datasets.load_wine", "parameters", lambda i: scm_datasets.load_wine(**i.opts).data.shape),
    E("scm.datasets.load_syntren", "parameters", lambda i: scm_datasets.load_syntren(**{"i": 1, **i.opts}).data.shape,
      number="i"),
    E("scm.datasets.list_bnlearn", "parameters", lambda i: scm_datasets.list_bnlearn(**i.opts), option="kind"),
    E("scm.datasets.load_bnlearn", "parameters", lambda i: scm_datasets.load_bnlearn(**{"name": "asia", **i.opts}).nodes,
      option="name"),
    E("scm.datasets.bnlearn_dataset", "parameters",
      lambda i: scm_datasets.bnlearn_dataset(**{"name": "asia", "n": 20, "random_state": 0, **i.opts}).data,
      option="name", seed="random_state", count="n"),
    E("scm.datasets.read_bif", "bif",
      lambda i: scm_datasets.read_bif(io.BytesIO(i.source) if isinstance(i.source, bytes) else i.source).nodes),
    # ---- estimators
    E("estimators.rank_root_causes", "graph+windows",
      lambda i: estimators.rank_root_causes(i.data, i.fault, i.graph, target=i.target, **{"method": "rcd", **i.opts}),
      option="method", number="alpha", seed="random_state"),
    E("estimators.rank_root_causes[zscore]", "graph+windows",
      lambda i: estimators.rank_root_causes(i.data, i.fault, target=i.target, method="zscore", **i.opts), number="alpha",
      expect={"cycle": SAME_OR_ERROR}),  # no graph given: the corrupted one is not read
    E("estimators.rank_root_causes[random_walk]", "graph+windows",
      lambda i: estimators.rank_root_causes(i.data, i.fault, i.graph, target=i.target, method="random_walk", **i.opts),
      number="restart", expect={"cycle": SAME_OR_ERROR}),  # a random walk takes cyclic graphs (call graphs often are)
    E("estimators.rank_root_causes[time_series]", "lagged-graph+windows",
      lambda i: estimators.rank_root_causes(i.data, i.fault, i.graph, target=i.target, **{"method": "rcd", **i.opts}),
      option="ci_test", number="n_bins"),
    E("scmkit.learn_and_rank", "series-windows",
      lambda i: scmkit.learn_and_rank(i.data, i.fault, target=i.target, **{"method": "rcd", "tau_max": 1, **i.opts}),
      option="contemporaneous", slow=True),
    E("estimators.prepare_windows", "graph+windows",
      lambda i: estimators.prepare_windows(i.data, i.fault, i.graph, target=i.target, **{"method": "rcd", **i.opts}).candidates,
      option="method"),
    E("estimators.rank_scores", "parameters",
      lambda i: estimators.rank_scores(pd.Series({"age": 1.0, "bmi": 2.0, "crp": 0.5}), **i.opts), number="alpha"),
    E("estimators.adjustment_set", "graph-query", lambda i: estimators.adjustment_set(i.graph, i.x, i.y, include=i.z, **i.opts),
      option="kind"),
    E("estimators.adjustment_sets", "graph-query", lambda i: estimators.adjustment_sets(i.graph, i.x, i.y, exclude=i.z, **i.opts),
      option="kind", number="limit"),
    E("estimators.is_valid_adjustment", "graph-query", lambda i: estimators.is_valid_adjustment(i.graph, i.x, i.y, i.z)),
    E("estimators.frontdoor_sets", "graph-query", lambda i: estimators.frontdoor_sets(i.graph, i.x, i.y, exclude=i.z, **i.opts),
      number="limit"),
    E("estimators.is_valid_frontdoor", "graph-query", lambda i: estimators.is_valid_frontdoor(i.graph, i.x, i.y, i.z)),
    E("estimators.identify", "graph-query", lambda i: str(estimators.identify(i.graph, i.x, i.y, latent=i.z))),
    E("estimators.RegressionAdjustment", "treatment/outcome+data",
      lambda i: RegressionAdjustment(**{"random_state": 0, **i.opts}).fit(i.data, i.treatment, i.outcome, adjustment=i.adjustment),
      number="alpha", seed="random_state"),
    E("estimators.IPW", "treatment/outcome+data",
      lambda i: IPW(**{"random_state": 0, **i.opts}).fit(i.data, i.treatment, i.outcome, adjustment=i.adjustment),
      number="positivity_threshold",
      seed="random_state", count="n_folds"),
    E("estimators.AIPW", "treatment/outcome+data",
      lambda i: AIPW(random_state=0, **i.opts).fit(i.data, i.treatment, i.outcome, adjustment=i.adjustment), number="alpha",
      count="n_folds"),
    E("estimators.DoubleML", "treatment/outcome+data",
      lambda i: DoubleML(random_state=0, **i.opts).fit(i.data, i.treatment, i.outcome, adjustment=i.adjustment),
      option="model", number="alpha", count="n_folds"),
    E("estimators.RegressionAdjustment[graph]", "graph+treatment/outcome+data",
      lambda i: RegressionAdjustment(random_state=0).fit(i.data, i.treatment, i.outcome, graph=i.graph)),
    E("estimators.effect", "graph+treatment/outcome+data",
      lambda i: estimators.effect(i.data, i.graph, i.treatment, i.outcome, random_state=0, **i.opts).estimate,
      option="estimator", number="alpha"),
    E("estimators.effect[scm]", "fitted-model",
      lambda i: estimators.effect(i.model, treatment="age", outcome="crp", value=1.0, baseline=0.0,
                                  **{"n_bootstrap": 41, "random_state": 0, **i.opts}),
      number="alpha", seed="random_state", count="n_bootstrap", summary=_effect_summary),
    E("estimators.anomaly_scores", "model+observed",
      lambda i: estimators.anomaly_scores(i.model, i.observed, **{"n_samples": 200, "random_state": 0, **i.opts}),
      option="kind", seed="random_state", count="n_samples", expect={"empty": "error"}),
    E("estimators.attribute_anomalies", "model+observed",
      lambda i: estimators.attribute_anomalies(i.model, "crp", i.observed,
                                               **{"n_distribution_samples": 200, "random_state": 0, **i.opts}).contributions,
      option="shapley", seed="random_state", count="n_distribution_samples", expect={"empty": "error"}),
    E("estimators.unit_contributions", "model+observed",
      lambda i: estimators.unit_contributions(i.model, "crp", i.observed, **{"random_state": 0, **i.opts}).contributions,
      option="method", seed="random_state", count="n_background", expect={"empty": "error"}),
    E("estimators.intrinsic_causal_influence", "fitted-model",
      lambda i: estimators.intrinsic_causal_influence(i.model, "crp", **{"n_bootstrap": 41, "random_state": 0, **i.opts}).contributions,
      option="method", number="alpha", seed="random_state", count="n_bootstrap"),
    E("estimators.arrow_strength", "fitted-model",
      lambda i: estimators.arrow_strength(i.model, "crp", **{"method": "monte-carlo", "n_outer": 50, "n_inner": 20,
                                                              "random_state": 0, **i.opts}).contributions,
      option="method", seed="random_state", count="n_outer"),
    E("estimators.attribute_distribution_change", "model+old/new",
      lambda i: estimators.attribute_distribution_change(i.model, i.old, i.new, "crp", **{"random_state": 0, **i.opts}).contributions,
      option="measure", number="test_alpha", seed="random_state", count="n_samples"),
    E("estimators.arrow_strength[kl]", "model",
      lambda i: estimators.arrow_strength(i.model, "crp", **{"measure": "kl", "method": "monte-carlo", "n_outer": 50, "n_inner": 20,
                                                              "random_state": 0, **i.opts}).contributions,
      option="measure", seed="random_state", count="n_inner"),
    E("estimators.attribute_distribution_change[kl]", "model+old/new",
      lambda i: estimators.attribute_distribution_change(i.model, i.old, i.new, "crp", **{"measure": "kl", "n_samples": 200,
                                                                                          "random_state": 0, **i.opts}).contributions,
      option="shapley", number="test_alpha", seed="random_state", count="n_samples"),
    E("estimators.attribute_distribution_change[robust]", "model+old/new",
      lambda i: estimators.attribute_distribution_change(i.model, i.old, i.new, "crp", method="robust",
                                                         **{"random_state": 0, **i.opts}).contributions,
      option="measure", seed="random_state", count="n_folds"),
    E("estimators.mechanism_change_test", "model+old/new",
      lambda i: estimators.mechanism_change_test(i.old, i.new, "crp", ["bmi"]), expect={"scale": "error_or_ok"}),
    E("estimators.effect[cpdag]", "cpdag+treatment/outcome+data",
      lambda i: estimators.effect(i.data, i.graph, i.treatment, i.outcome, **i.opts).range, option="estimator",
      number="alpha"),
    E("estimators.ExchangeableModel", "graph+treatment/outcome+grouped",
      lambda i: estimators.ExchangeableModel(**i.opts).fit(i.data, i.graph, groups="group")
      .effect(i.treatment, i.outcome, value=1.0, baseline=0.0, random_state=0).estimate, option="mechanism", number="tol",
      slow=True),  # EM per node: about 0.3 s a case
    E("estimators.exchangeable_effect", "graph+treatment/outcome+grouped",
      lambda i: estimators.exchangeable_effect(i.data, i.graph, i.treatment, i.outcome, groups="group", new_group=0, value=1.0,
                                               **{"random_state": 0, **i.opts}).estimate,
      number="alpha", seed="random_state", count="n_draws", slow=True),
    E("estimators.ida", "cpdag+treatment/outcome+data",
      lambda i: estimators.ida(i.graph, i.data, i.treatment, i.outcome, **i.opts).table[["effect", "std_err", "ci_low", "ci_high"]],
      option="method", number="alpha"),
    E("estimators.effect[latent]", "graph-query",
      lambda i: estimators.effect(_front_door_frame(), i.graph, i.x, i.y, latent=i.z, random_state=0).method),
    # ---- the command line
    E("scmkit discover --method pc", "cli-csv", lambda i: cli(["discover", csv(i), "--method", "pc", *argv(i.opts)]),
      option="--ci-test", number="--alpha"),
    E("scmkit discover --method notears", "cli-csv", lambda i: cli(["discover", csv(i), "--method", "notears", *argv(i.opts)]),
      seed="--seed", expect=NOT_SCALE_FREE),
    E("scmkit discover --method vidpdag", "cli-csv", lambda i: cli(["discover", csv(i), "--method", "vidpdag", *argv(i.opts)]),
      seed="--seed", slow=(*TRAINS, "duplicate_names")),
    E("scmkit discover --method cdnod", "cli-csv+context",
      lambda i: cli(["discover", csv(i), "--method", "cdnod", "--context", i.context, *argv(i.opts)]), option="--ci-test",
      number="--alpha"),
    E("scmkit discover --method icp", "cli-csv+context",
      lambda i: cli(["discover", csv(i), "--method", "icp", "--context", i.context, *argv(i.opts)]), number="--alpha"),
    E("scmkit discover --method pcmci", "cli-series",
      lambda i: cli(["discover", csv(i), "--method", "pcmci", *argv(i.opts)]), option="--ci-test", number="--tau-max"),
    E("scmkit discover --method pcmciplus", "cli-series",
      lambda i: cli(["discover", csv(i), "--method", "pcmciplus", *argv(i.opts)]), number="--alpha"),
    E("scmkit effect", "cli-effect",
      lambda i: cli(["effect", csv(i), "--graph", graph_json(i), "--treatment", i.treatment, "--outcome", i.outcome,
                     "--estimator", "regression", *argv(i.opts)]), option="--estimator", number="--alpha", seed="--seed"),
    E("scmkit simulate", "cli-parameters",
      lambda i: cli(["simulate", "--nodes", 4, "--samples", 50, "-o", i.tmp / "sim.csv", *argv(i.opts)]), option="--kind",
      number="--degree", seed="--seed", count="--samples"),
    E("scmkit simulate[--nodes]", "cli-parameters",
      lambda i: cli(["simulate", "--nodes", 4, "--samples", 50, "-o", i.tmp / "sim.csv", *argv(i.opts)]),
      option="--graph-kind", count="--nodes"),
    E("scmkit compare", "cli-parameters",
      lambda i: cli(["compare", "--datasets", "linear-er10", "--algorithms", "pc-fisherz", "-o", i.tmp / "report",
                     "--no-progress", *argv(i.opts)]), option="--algorithms", seed="--seeds", path="--cache"),
    E("scmkit compare DATA.csv", "cli-csv",
      lambda i: cli(["compare", csv(i), "--algorithms", "pc-fisherz", "--bootstrap", 0, "-o", i.tmp / "report", "--no-progress",
                     *argv(i.opts)]), number="--folds", count="--bootstrap", summary=_compare_summary,
      slow=("integer", "scale", "zero_count", "one_count")),  # full runs with a report; the refusals are quick
    E("scmkit compare DATA.csv --context", "cli-csv+context",
      lambda i: cli(["compare", csv(i), "--context", i.context, "--algorithms", "pc-fisherz", "--bootstrap", 0, "-o",
                     i.tmp / "report", "--no-progress", *argv(i.opts)]), summary=_compare_summary, slow=True),
    E("scmkit compare[-o]", "cli-parameters",
      lambda i: cli(["compare", "--datasets", "linear-er10", "--algorithms", "pc-fisherz", "--no-progress",
                     *argv({"-o": i.tmp / "report", **i.opts})]), option="--datasets", path="-o"),
]



def _rng():
    return np.random.default_rng(0)


def _jax_key():
    import jax

    return jax.random.key(0)


def _colliders(data, **opts):
    design = lagged_design(data, 1)
    pc1 = pc1_parents(design, tau_max=1)
    skel = mci_skeleton(design, pc1, tau_max=1)
    return orient_contemporaneous_colliders(design, skel, pc1, **opts)


def _linear_mechanisms() -> dict:
    return {n: scm.Linear({p: 1.0 for p in FRONT_DOOR.predecessors(n)}) for n in FRONT_DOOR}


# --------------------------------------------------------------------------- #
# public names left out of ENTRIES, with the reason
# --------------------------------------------------------------------------- #
EXCLUDED: dict[str, str] = {
    # interfaces and result containers: built by the library, not from user data
    "discovery.citest.CITest": "the abstract interface of the CI tests, each of which has its line",
    "discovery.constraint.SkeletonResult": "the result of skeleton",
    "discovery.constraint.CIRunner": "takes a CITest (not data) and index keys; reached through skeleton and PC",
    "discovery.constraint.CITestBackend": "adapts a CITest for CIRunner; reached through skeleton and PC",
    "discovery.differentiable.PreparedData": "the result of prepare_data",
    "discovery.differentiable.TrainResult": "the result of train_early_stopping",
    "discovery.timeseries.LaggedDesign": "the result of lagged_design",
    "discovery.timeseries.PC1Result": "the result of pc1_parents",
    "discovery.timeseries.MCISkeletonResult": "the result of mci_skeleton",
    "discovery.timeseries.CollidersResult": "the result of orient_contemporaneous_colliders",
    "discovery.evaluation.TaskPlan": "the result of build_tasks",
    "discovery.evaluation.RunTask": "one task of a TaskPlan",
    "discovery.evaluation.RunResult": "the result of run_tasks",
    "discovery.evaluation.Capability": "the record register_algorithm returns",
    "discovery.evaluation.GraphCheck": "the result of check_graph",
    "discovery.evaluation.MechanismCheck": "the result of check_mechanisms",
    "discovery.citest.LockStep": "runs a user function over items (no data of its own); reached through discovery.bootstrap",
    "estimators.Estimand": "the result of identify",
    "estimators.Prob": "a node of an Estimand's expression",
    "estimators.Product": "a node of an Estimand's expression",
    "estimators.Sum": "a node of an Estimand's expression",
    "estimators.Fraction": "a node of an Estimand's expression",
    "estimators.EffectResult": "the result of effect",
    "estimators.AttributionResult": "the result of the attribution functions",
    "estimators.IDAResult": "the result of ida",
    "estimators.EffectRange": "a field of IDAResult and EffectResult",
    "estimators.ExchangeableEffectResult": "the result of ExchangeableModel.effect and exchangeable_effect",
    "estimators.RootCauseWindows": "the result of prepare_windows",
    "scm.FaultDataset": "a container of two windows and their root cause, built by the fault simulators (each has its line)",
    "scm.simulate.FaultDataset": "the same class as scm.FaultDataset",
    "scm.QueryResult": "the result of SCM.interventional_quantity, and of interventional_mean / counterfactual with n_bootstrap",
    "scm.Dataset": "a container of data and truth, built by the simulators and loaders (each has its line)",
    "scm.simulate.VARProcess": "the result of draw_lagged_structure / draw_innovations",
    "scm.simulate.RandomMLP": "a mechanism function drawn by random_scm",
    "scm.simulate.RandomGPFunction": "a mechanism function drawn by random_scm",
    # the jitted programs of VI-DP-DAG and DP-DAG: arrays and parameter dicts in, arrays out;
    # their inputs come from prepare_data / init_state (which validate) and VIDPDAG.fit composes them
    "discovery.differentiable.sample": "DP-DAG's jitted core on a parameter dict; reached through DPDAG.sample",
    "discovery.differentiable.mode": "DP-DAG's jitted core on a parameter dict",
    "discovery.differentiable.edge_probs": "DP-DAG's jitted core on a parameter dict",
    "discovery.differentiable.init_state": "builds VI-DP-DAG's parameters from sizes; reached through VIDPDAG",
    "discovery.differentiable.make_train_chunk": "a factory of a jitted program (no data)",
    "discovery.differentiable.make_val_elbo": "a factory of a jitted program (no data)",
    "discovery.differentiable.train_early_stopping": "the training loop over prepare_data's arrays; reached through VIDPDAG",
    "discovery.differentiable.finalise_posterior": "post-processes trained parameters; reached through VIDPDAG",
    # KCI's kernel building blocks, re-exported for CausIRL's MMD: JAX arrays in, arrays out, inside jitted code
    "discovery.citest.gaussian_gram": "a pure JAX kernel (array and width in, matrix out); reached through KCI and CausIRL",
    "discovery.citest.median_theta": "a pure JAX kernel (array and row indices in, a width out); reached through KCI and CausIRL",
    # ICP's array phases: arrays of sums of squares from ICP's own sweep
    "discovery.invariance.candidate_masks": "a sizes-to-masks helper of ICP (two integers in)",
    "discovery.invariance.approximate_pvalues": "ICP's p-values from its own arrays of sums; reached through ICP",
    "discovery.invariance.exact_pvalues": "ICP's p-values from its own arrays of sums; reached through ICP",
    "discovery.invariance.summarise_sets": "ICP's summary of its own masks and p-values; reached through ICP",
    "discovery.invariance.defining_sets": "ICP's summary of its own masks; reached through ICP",
    "discovery.invariance.ias_level": "IAS's corrected level from three numbers (alpha, p, max_set_size); reached through "
                                      "InvariantAncestrySearch",
    "discovery.invariance.minimal_sets": "IAS's summary of its own masks and acceptances; reached through InvariantAncestrySearch",
    "discovery.invariance.regression_pvalues": "IAS's p-values from the arrays of sums of ICP's sweep; reached through "
                                               "InvariantAncestrySearch",
    "discovery.invariance.mutable_structure": "MinimaxTransfer's first phase on its validated frame and codes; reached through "
                                              "MinimaxTransfer (its bad graphs and names: tests/discovery/test_minimax.py)",
    "discovery.invariance.fit_stable_mechanisms": "MinimaxTransfer's phase on its own standardised array; reached through it",
    "discovery.invariance.fit_stable_predictors": "MinimaxTransfer's phase on its own simulated array; reached through it",
    "discovery.invariance.worst_case_risks": "MinimaxTransfer's phase on its own fitted structure; reached through it",
    "discovery.invariance.search_subsets": "takes a risk function and a size (no data); reached through MinimaxTransfer",
    "discovery.invariance.equivalence_classes": "takes a boundary function and a size (no data); reached through MinimaxTransfer",
    "discovery.invariance.markov_boundary": "builds a function from MinimaxTransfer's graph; reached through it",
    "discovery.invariance.relevant_inputs": "builds a function from MinimaxTransfer's graph; reached through it",
    "discovery.invariance.candidate_sets": "a list-of-names helper of AdaptiveCovariateSelection, whose line reaches it (its "
                                           "unknown and conflicting names: tests/discovery/test_eacs.py)",
    "discovery.invariance.environment_summaries": "AdaptiveCovariateSelection's phase on its own arrays; reached through it",
    "discovery.invariance.leave_one_environment_out_losses": "AdaptiveCovariateSelection's phase on its own arrays and "
                                                             "index lists; reached through it",
    # the harness's phases and registry
    "discovery.evaluation.build_tasks": "compare's planning phase: data are checked when a task runs (the compare line)",
    "discovery.evaluation.run_tasks": "compare's phase over build_tasks' tasks; reached through compare",
    "discovery.evaluation.tabulate": "compare's phase over run_tasks' results; reached through compare",
    "discovery.evaluation.register_algorithm": "edits the harness's global registry; tested in tests/discovery/test_compare.py",
    "discovery.evaluation.capability_of": "reads the registry for an estimator (no data)",
    "discovery.evaluation.default_datasets": "the fixed bundled suite; reached through the 'scmkit compare' lines",
    "discovery.evaluation.default_algorithms": "the fixed bundled suite; reached through the 'scmkit compare' lines",
    "discovery.evaluation.run_default_suite": "what 'scmkit compare' runs; reached through its lines",
    # model components: constructed by code, checked when an SCM is built or sampled
    "scm.Mechanism": "the abstract mechanism interface",
    "scm.Noise": "the abstract noise interface",
    "scm.AdditiveNoise": "wraps a user function; its outputs are checked by SCM.sample (the function_* corruptions)",
    "scm.PostNonlinear": "wraps user functions; as AdditiveNoise",
    "scm.Functional": "wraps a user function; as AdditiveNoise",
    "scm.Discrete": "a probability table, read from BIF files by read_bif (its line)",
    "scm.Shifted": "built by shift() for SCM.do",
    "scm.shift": "an intervention for SCM.do; built by code",
    "scm.ScipyNoise": "wraps a frozen scipy distribution; reached through as_noise",
}



# --------------------------------------------------------------------------- #
# running one case
# --------------------------------------------------------------------------- #
ENTRY_BY_NAME = {e.name: e for e in ENTRIES}


def expectation(entry: Entry, corruption: str) -> str:
    kind = KINDS[entry.kind]
    return entry.expect.get(corruption) or kind.expect.get(corruption) or CORRUPTIONS[corruption].expect


def cases() -> list[tuple[Entry, str]]:
    """Every (entry point, corruption) pair that applies, the clean run first."""
    out = []
    for entry in ENTRIES:
        kind = KINDS[entry.kind]
        out.append((entry, "clean"))
        for name in kind.applicable():
            if CORRUPTIONS[name].applies(kind, entry):
                out.append((entry, name))
    return out


def case_id(entry: Entry, corruption: str) -> str:
    return f"{entry.name}-{corruption}"


def is_slow(entry: Entry, corruption: str) -> bool:
    slow = entry.slow is True or corruption in (entry.slow or ())
    return slow or case_id(entry, corruption) in ISOLATED  # a child process imports everything again


@dataclasses.dataclass
class Outcome:
    result: Any = None
    error: BaseException | None = None
    warnings: list = dataclasses.field(default_factory=list)


def run(entry: Entry, inputs: Inputs) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = entry.call(inputs)
        except Exception as exc:  # judged by the caller
            return Outcome(error=exc, warnings=list(caught))
        finally:
            _close_figures()
    if isinstance(result, CliResult) and result.status != 0:
        return Outcome(error=CliFailure(result), warnings=list(caught))
    return Outcome(result=result, warnings=list(caught))


def _close_figures():
    """Close the figures a case left open (a failed plot), so that none piles up into the next case."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


_OWN = ("scm", "discovery", "estimators", "scmkit")


def foreign_warnings(caught) -> list[str]:
    """Warnings of numpy, scipy, sklearn, jax, ...: scmkit's own are UserWarning or its own classes."""
    out = []
    for w in caught:
        cat = w.category
        own = cat is UserWarning or cat.__module__.split(".")[0] in _OWN
        if not own:
            out.append(f"{cat.__module__}.{cat.__name__}: {str(w.message).splitlines()[0][:160]}")
    return out


def _message(exc: BaseException) -> str:
    if isinstance(exc, CliFailure):
        return exc.result.err
    return str(exc)


def error_problem(exc: BaseException) -> str | None:
    """Why ``exc`` is not a named scmkit error (None when it is)."""
    if isinstance(exc, CliFailure):
        r = exc.result
        lines = [ln for ln in r.err.strip().splitlines() if ln.strip()]
        errors = [ln for ln in lines if re.match(r"scmkit( \w+)?: error: ", ln)]
        if "Traceback" in r.err:
            return f"exit {r.status} with a traceback"
        if r.status != 2:
            return f"exit status {r.status} (expected 2): {errors[-1] if errors else lines[-1:]}"
        if len(errors) != 1:
            return f"{len(errors)} 'scmkit: error:' lines on stderr: {lines}"
        others = [ln for ln in lines if ln not in errors and not ln.startswith(("usage:", " ", "scmkit: warning:"))]
        if others:
            return f"stray lines on stderr: {others}"
        if not errors[0].split("error:", 1)[1].strip():
            return "an empty error line"
        return None
    if isinstance(exc, RecordedError):
        return None if exc.named else f"recorded a bare error: {exc}"
    if isinstance(exc, ScmkitError):
        return None if str(exc).strip() else f"{type(exc).__name__} with an empty message"
    return f"{type(exc).__module__}.{type(exc).__name__} leaked: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def names_offender(message: str, offender) -> bool:
    if offender is None:
        return True
    words = (offender,) if isinstance(offender, str) else offender
    return any(re.search(rf"(?<![\w]){re.escape(str(w))}(?![\w])", message) for w in words)


# ---- what "same" compares, and the sanity check of a result
RESULT_ATTRIBUTES = ("graph_", "parents_", "accepted_sets_", "coef_", "intercept_", "effect_", "std_err_", "conf_int_",
                     "loss_")


def summarise(obj) -> Any:
    if isinstance(obj, CliResult):
        return {"status": obj.status, "stdout": obj.out}
    if isinstance(obj, (PDAG, LaggedGraph)):
        return {"nodes": sorted(map(str, obj.nodes)), "edges": sorted(map(str, obj.edges()))}
    if isinstance(obj, nx.Graph):
        edges = obj.edges if obj.is_directed() else (tuple(sorted(map(str, e))) for e in obj.edges)
        return {"nodes": sorted(map(str, obj.nodes)), "edges": sorted(map(str, edges))}
    if isinstance(obj, SCM):
        return {"graph": summarise(obj.graph), "mechanisms": {str(k): repr(v) for k, v in obj.mechanisms.items()}}
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):
        return {a: summarise(getattr(obj, a)) for a in RESULT_ATTRIBUTES if hasattr(obj, a)}
    if isinstance(obj, pd.DataFrame):
        return {"columns": list(map(str, obj.columns)), "index": list(map(str, obj.index)), "values": summarise(obj.to_numpy())}
    if isinstance(obj, pd.Series):
        return {"index": list(map(str, obj.index)), "values": summarise(obj.to_numpy())}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "biuf":
            return obj.astype(float)
        return [summarise(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, float, np.number)):
        return float(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(map(str, obj))
    if isinstance(obj, Mapping):
        return {str(k): summarise(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [summarise(v) for v in obj]
    if dataclasses.is_dataclass(obj):
        return {f.name: summarise(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, str):
        return obj
    return repr(obj)


def non_finite(summary, path="result") -> str | None:
    if isinstance(summary, np.ndarray):
        bad = ~np.isfinite(summary)
        return f"{path} holds {summary[bad][0]}" if bad.any() else None
    if isinstance(summary, float):
        return None if math.isfinite(summary) else f"{path} is {summary}"
    if isinstance(summary, dict):
        items = summary.items()
    elif isinstance(summary, list):
        items = enumerate(summary)
    else:
        return None
    for k, v in items:
        found = non_finite(v, f"{path}[{k!r}]")
        if found:
            return found
    return None


def differ(a, b, rtol=1e-6, atol=1e-9, path="result") -> str | None:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape:
            return f"{path}: shape {a.shape} != {b.shape}"
        if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            j = np.unravel_index(np.argmax(np.abs(a - b)), a.shape) if a.size else ()
            return f"{path}: {b[j]!r} instead of {a[j]!r}"
        return None
    if isinstance(a, float) and isinstance(b, float):
        if math.isclose(a, b, rel_tol=rtol, abs_tol=atol) or (math.isnan(a) and math.isnan(b)):
            return None
        return f"{path}: {b!r} instead of {a!r}"
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(b)} instead of {sorted(a)}"
        return next((d for k in a if (d := differ(a[k], b[k], rtol, atol, f"{path}[{k!r}]"))), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {b!r} instead of {a!r}"[:400]
        return next((d for j, (x, y) in enumerate(zip(a, b)) if (d := differ(x, y, rtol, atol, f"{path}[{j}]"))), None)
    return None if a == b else f"{path}: {b!r} instead of {a!r}"[:400]


# ---- inputs unchanged
def snapshot(inputs: Inputs) -> dict:
    return {k: copy.deepcopy(v) for k, v in inputs.items()}


def _same_object(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (pd.DataFrame, pd.Series)):
        return a.equals(b) and list(a.index) == list(b.index) and (
            not isinstance(a, pd.DataFrame) or (list(a.columns) == list(b.columns) and list(a.dtypes) == list(b.dtypes)))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, nx.Graph):
        return list(a.nodes(data=True)) == list(b.nodes(data=True)) and list(a.edges(data=True)) == list(b.edges(data=True))
    if isinstance(a, (PDAG, LaggedGraph)):
        return list(a.nodes) == list(b.nodes) and a.edges() == b.edges()
    if isinstance(a, SCM):
        return (_same_object(a.graph, b.graph) and repr(a.mechanisms) == repr(b.mechanisms)
                and repr(a.noise) == repr(b.noise))
    if isinstance(a, SCMClass):
        return len(a) == len(b) and all(_same_object(x, y) for x, y in zip(a.models, b.models))
    if isinstance(a, Mapping):
        return list(a) == list(b) and all(_same_object(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_object(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    try:
        return bool(a == b)
    except Exception:
        return repr(a) == repr(b)


def mutated(before: dict, inputs: Inputs) -> list[str]:
    return [k for k in before if k != "tmp" and not _same_object(before[k], inputs[k])]


# ---- the case
_CLEAN: dict[str, Any] = {}


def _reference_summary(entry: Entry, reference: Inputs | None, tmp: pathlib.Path):
    if reference is None:
        if entry.name not in _CLEAN:
            clean = KINDS[entry.kind].build(tmp)
            out = run(entry, clean)
            _CLEAN[entry.name] = (out, clean)
        out, inputs = _CLEAN[entry.name]
    else:
        out, inputs = run(entry, reference), reference
    if out.error is not None:
        return None, f"the reference input fails: {error_problem(out.error) or _message(out.error)[:200]}"
    return _summary(entry, out.result, inputs), None


def _summary(entry, result, inputs):
    return summarise(entry.summary(result, inputs) if entry.summary else result)


def _sanity(entry, result, inputs) -> str | None:
    try:
        found = non_finite(_summary(entry, result, inputs))
        if found is None and entry.check is not None:
            found = entry.check(result, inputs)
    except Exception as exc:  # the result is not what the entry point documents
        return f"the result cannot be read: {type(exc).__name__}: {exc}"
    return found


def run_case(entry: Entry, corruption: str, tmp: pathlib.Path) -> list[str]:
    """Run one case; return its problems (empty: the case passes)."""
    kind = KINDS[entry.kind]
    clean = kind.build(tmp)
    corrupted = CORRUPTIONS[corruption].apply(clean, kind, entry)
    expect = expectation(entry, corruption)
    before = snapshot(corrupted.inputs)
    out = run(entry, corrupted.inputs)
    problems = []
    changed = mutated(before, corrupted.inputs)
    if changed:
        problems.append(f"inputs mutated: {changed}")
    leaked = foreign_warnings(out.warnings)
    if leaked:
        problems.append(f"warnings leaked: {leaked}")

    if out.error is not None:
        if expect in ("ok", "same"):
            got = error_problem(out.error) or f"{type(out.error).__name__}: {_message(out.error)[:300]}"
            problems.append(f"expected a result, got {got}")
        else:
            bad = error_problem(out.error)
            if bad:
                problems.append(bad)
            elif not names_offender(_message(out.error), corrupted.offender):
                problems.append(f"the error does not name {corrupted.offender!r}: {_message(out.error).strip()[:300]}")
        return problems

    if expect == "error":
        shown = summarise(out.result)
        problems.append(f"no error; returned {str(shown)[:300]}")
        return problems
    sanity = _sanity(entry, out.result, corrupted.inputs)
    if sanity:
        problems.append(f"wrong result: {sanity}")
    if expect == "same":
        ref, failed = _reference_summary(entry, corrupted.reference, tmp)
        if failed:
            problems.append(failed)
        else:
            found = differ(ref, _summary(entry, out.result, corrupted.inputs))
            if found:
                problems.append(f"not the same result as the {'clean' if corrupted.reference is None else 'float'} input: {found}")
    return problems


def run_case_isolated(entry: Entry, corruption: str, tmp: pathlib.Path) -> list[str]:
    """:func:`run_case` in a child process: a crash of the interpreter becomes a problem."""
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    code = ("import json, pathlib, sys; from tests.reliability import battery as b; "
            "e = b.ENTRY_BY_NAME[sys.argv[1]]; print(json.dumps(b.run_case(e, sys.argv[2], pathlib.Path(sys.argv[3]))))")
    env = {**__import__("os").environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", code, entry.name, corruption, str(tmp)], capture_output=True, text=True,
                          env=env, cwd=root, timeout=300)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [""])[-1]
        return [f"the interpreter died (exit status {proc.returncode}): {last[:300]}"]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def resolve(name: str) -> list:
    """The public objects an entry point's name designates: ``scm.SCM.fit`` -> [scm.SCM, SCM.fit]."""
    if name.startswith("scmkit "):
        return []
    parts = name.split("[", 1)[0].split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        found = []
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
            found.append(obj)
        return found
    raise LookupError(name)


def public_names() -> dict[str, Any]:
    """Every public class and function of the packages the battery covers, by dotted name."""
    modules = [discovery, *(importlib.import_module(f"discovery.{s}") for s in discovery._SUBPACKAGES), scm,
               scm_simulate, scm_datasets, estimators]
    out = {}
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, (BaseException, Warning)):
                continue  # the errors and warnings themselves
            if callable(obj) and not isinstance(obj, type(scm)):
                out[f"{module.__name__}.{name}"] = obj
    return out


__all__ = ["CORRUPTIONS", "ENTRIES", "EXCLUDED", "ISOLATED", "KINDS", "KNOWN_FAILURES", "case_id", "cases", "is_slow", "public_names",
           "resolve", "run_case", "run_case_isolated"]
