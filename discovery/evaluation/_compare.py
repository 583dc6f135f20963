"""Compare discovery algorithms: algorithms x datasets x seeds -> a tidy table.

:func:`compare` fits every algorithm on every dataset it applies to, once per
seed, scores the learned graph against the dataset's ground truth and returns
one row per run::

    results = compare({"pc": PC(), "notears": NOTEARS()}, {"linear": ds}, seeds=(0, 1))

Which algorithm applies to which dataset, how its ``fit`` is called and how its
graph is scored is declared once per estimator class in a small registry
(:func:`register_algorithm`, :data:`CAPABILITIES`): observational learners (PC,
NOTEARS, VI-DP-DAG) run on the pooled variables of any i.i.d. dataset,
context-aware ones (CD-NOD, :class:`ICPGraph`) need an environment column, and
time-series learners (PCMCI, PCMCI+) get time-series data only.

Runs are independent, so they go to any :class:`concurrent.futures.Executor`: a
local process pool (the default, "spawn" context so JAX never sees a fork), the
calling process (``executor="sequential"``) or a Dask cluster
(``distributed.Client(...).get_executor()``). With ``cache_dir`` every finished
run is stored in its own JSON file keyed by a hash of the estimator's
parameters, the data and the seed, so an interrupted comparison resumes where it
stopped; each file carries a checksum, and one that was edited, or that holds another
run's result, is recomputed rather than trusted. A run that raises is recorded (``status="error"`` and the message), it
does not end the comparison.

:func:`compare` composes three phases, each public: :func:`build_tasks` (datasets
materialised and estimators instantiated per seed, applicability, cache keys: a
:class:`TaskPlan` of :class:`RunTask`), :func:`run_tasks` (cache reads, the executor,
the progress bar: one :class:`RunResult` per task) and :func:`tabulate` (the table).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import logging
import math
import multiprocessing
import os
import pathlib
import re
import time
import traceback
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from scm import PDAG, Dataset, LaggedGraph
from scm._exceptions import DataError, ParameterError, ScmkitError
from scm._validation import as_dataframe, check_in_range

from .._utils import ensure_directory, first_line, progress_bar, slug
from ..timeseries import lagged_metrics
from ._truthfree import (
    TRUTH_FREE_METRICS,
    agreement_matrix,
    as_graph_object,
    consensus_graph,
    edge_counts,
    edge_frequencies,
    heldout_loglik,
)

__all__ = [
    "compare",
    "build_tasks",
    "run_tasks",
    "tabulate",
    "TaskPlan",
    "RunTask",
    "RunResult",
    "register_algorithm",
    "capability_of",
    "Capability",
    "CAPABILITIES",
    "METRIC_NAMES",
    "DATASET_KINDS",
    "NOT_APPLICABLE",
    "UNDEFINED",
]

logger = logging.getLogger(__name__)

DATASET_KINDS = ("observational", "multi_environment", "nonstationary", "time_series", "discrete", "grouped")
IID_KINDS = frozenset({"observational", "multi_environment", "nonstationary", "discrete"})
FIT_STYLES = ("plain", "context", "environment", "series", "groups")
SCORE_STYLES = ("cpdag", "dag", "auto", "lagged")

#: The metrics :func:`compare` reports (``sid`` is NaN unless both graphs are DAGs;
#: ``sid_lower`` / ``sid_upper``, the range of :func:`discovery.metrics.sid_bounds`, also
#: cover CPDAG estimates; ``average_precision`` only for algorithms with edge probabilities).
METRIC_NAMES = (
    "shd",
    "sid",
    "sid_lower",
    "sid_upper",
    "skeleton_precision",
    "skeleton_recall",
    "skeleton_f1",
    "arrowhead_precision",
    "arrowhead_recall",
    "arrowhead_f1",
    "n_edges",
    "average_precision",
)

#: Why a metric has no value in a row (``results.attrs["notes"]`` and the ``notes`` column): it does
#: not apply to the run (no true graph, no edge probabilities, not a time series, ...) ...
NOT_APPLICABLE = "not applicable"
#: ... or it applies but this output has no value for it (SID of a graph with ``<->`` edges, the
#: held-out likelihood of a graph that is not a DAG model, ...).
UNDEFINED = "undefined"

# The truth-free metrics a worker computes, by group (mean_shd_to_others is computed by tabulate).
_GROUPS = {
    "counts": ("n_edges", "n_directed", "n_undirected", "n_bidirected", "n_lagged", "n_contemporaneous"),
    "loglik": ("heldout_loglik", "heldout_loglik_se"),
    "stability": ("stability",),
}
_TRUTH_METRICS = tuple(m for m in METRIC_NAMES if m != "n_edges")

# The cache key's version (part of every key, so of every file name): 2 added sid_lower and sid_upper.
_KEY_VERSION = 2
# The cache file's format: 3 added the checksum. A file of another format is recomputed and
# rewritten in place (same key, same name): files written before the checksum are not trusted.
_CACHE_VERSION = 3


# --------------------------------------------------------------------------- capabilities
@dataclasses.dataclass(frozen=True)
class Capability:
    """How the harness runs and scores one estimator class.

    Attributes
    ----------
    kinds : frozenset of str
        The :attr:`scm.Dataset.kind` values it applies to.
    fit : {"plain", "context", "environment", "series", "groups"}
        ``"plain"``: ``est.fit(ds.X)`` (the variables, environment column dropped, data
        pooled); ``"context"``: ``est.fit(ds.data, context=ds.environment)`` (CD-NOD);
        ``"environment"``: ``est.fit(ds.data, environment=ds.environment)``;
        ``"series"``: ``est.fit(ds.data)`` (rows in time order); ``"groups"``:
        ``est.fit(ds.data, groups=ds.environment)`` (grouped, exchangeable data:
        Causal de Finetti).
    score : {"cpdag", "dag", "auto", "lagged"}
        ``"cpdag"``: the estimate is compared with the CPDAG of the true DAG (constraint-based
        methods, which can only learn the Markov equivalence class); ``"dag"``: with the DAG
        itself; ``"auto"``: CPDAG when the estimate has undirected edges; ``"lagged"``:
        :func:`lagged_metrics` against the CPDAG of the true lagged graph.
    edge_probs : str or None
        Name of an attribute holding edge probabilities (a DataFrame), scored by
        ``average_precision``.
    """

    kinds: frozenset
    fit: str = "plain"
    score: str = "auto"
    edge_probs: str | None = None


#: estimator class name -> :class:`Capability`. Looked up along the class's MRO, so a
#: subclass inherits its parent's entry; classes without an entry are treated as
#: observational learners (``Capability(IID_KINDS - {"discrete"}, "plain", "auto")``).
#:
#: Grouped (exchangeable) data: Causal de Finetti is fitted with its groups; CD-NOD with the
#: group id as its context; PC and NOTEARS on the pooled rows (a row's distribution, the
#: mixture over the groups' mechanisms, is Markov to the true DAG, so they can find its
#: equivalence class). ICP is not run on it: every mechanism changes from group to group, so no
#: parent set is invariant, and groups of a few rows are too small for its per-environment
#: regressions.
CAPABILITIES: dict[str, Capability] = {
    "PC": Capability(IID_KINDS | {"grouped"}, "plain", "cpdag"),
    "CDNOD": Capability(frozenset({"multi_environment", "nonstationary", "grouped"}), "context", "cpdag"),
    "NOTEARS": Capability((IID_KINDS - {"discrete"}) | {"grouped"}, "plain", "dag"),
    "VIDPDAG": Capability(IID_KINDS - {"discrete"}, "plain", "dag", "edge_probs_"),
    "ICPGraph": Capability(frozenset({"multi_environment"}), "environment", "dag"),
    "PCMCI": Capability(frozenset({"time_series"}), "series", "lagged"),
    "PCMCIPlus": Capability(frozenset({"time_series"}), "series", "lagged"),
    "CausalDeFinetti": Capability(frozenset({"grouped"}), "groups", "dag"),
}

_DEFAULT_CAPABILITY = Capability(IID_KINDS - {"discrete"}, "plain", "auto")


def register_algorithm(cls, *, kinds, fit: str = "plain", score: str = "auto", edge_probs: str | None = None) -> Capability:
    """Declare how :func:`compare` runs and scores estimators of class ``cls``.

    Parameters
    ----------
    cls : type or str
        The estimator class (or its name).
    kinds : iterable of str
        Dataset kinds it applies to, from :data:`DATASET_KINDS`.
    fit, score, edge_probs
        As in :class:`Capability`.

    Returns
    -------
    Capability

    Examples
    --------
    >>> from discovery.evaluation._compare import register_algorithm, capability_of
    >>> class MyLearner:
    ...     def fit(self, data):
    ...         return self
    >>> cap = register_algorithm(MyLearner, kinds=["observational"], score="dag")
    >>> capability_of(MyLearner()).kinds
    frozenset({'observational'})
    """
    kinds = frozenset(kinds)
    unknown = sorted(kinds - set(DATASET_KINDS))
    if unknown or not kinds:
        raise ParameterError(
            f"The 'kinds' of register_algorithm must be a non-empty subset of {list(DATASET_KINDS)}; got {sorted(kinds)!r}."
        )
    if fit not in FIT_STYLES:
        raise ParameterError(f"The 'fit' parameter of register_algorithm must be one of {list(FIT_STYLES)}; got {fit!r} instead.")
    if score not in SCORE_STYLES:
        raise ParameterError(f"The 'score' parameter of register_algorithm must be one of {list(SCORE_STYLES)}; got {score!r} instead.")
    cap = Capability(kinds, fit, score, edge_probs)
    CAPABILITIES[cls if isinstance(cls, str) else cls.__name__] = cap
    return cap


def capability_of(estimator) -> Capability:
    """The :class:`Capability` of an estimator (an instance or a class).

    The entry of the estimator's class or its nearest registered base class
    (:func:`register_algorithm`); an unregistered estimator gets the default: fitted on
    the pooled variables of any i.i.d. dataset, scored as it is.

    Examples
    --------
    >>> from discovery import PC, PCMCI
    >>> capability_of(PC()).score, capability_of(PCMCI).fit
    ('cpdag', 'series')
    """
    cls = estimator if isinstance(estimator, type) else type(estimator)
    for klass in cls.__mro__:
        if klass.__name__ in CAPABILITIES:
            return CAPABILITIES[klass.__name__]
    return _DEFAULT_CAPABILITY


# --------------------------------------------------------------------------- truth and scoring
def _true_graph(ds: Dataset):
    """The ground truth a learner on ``ds`` is scored against (None when unknown).

    ``ds.graph``, except for a time series that carries its lagged graph
    (``metadata["lagged_graph"]``, as :func:`scm.simulate.time_series` does): lagged
    learners are scored against that.
    """
    if ds.kind == "time_series" and ds.metadata and ds.metadata.get("lagged_graph") is not None:
        return ds.metadata["lagged_graph"]
    return ds.graph


def _changed_nodes(ds: Dataset) -> frozenset:
    """The nodes whose mechanisms change with the environment column: ``ds.changed_nodes``; for
    grouped data that names none, every variable (each group draws every mechanism anew)."""
    if ds.kind == "grouped" and not ds.changed_nodes and ds.graph is not None:
        return frozenset(ds.graph.nodes)
    return frozenset(ds.changed_nodes)


def _with_context(truth, est_graph, changed) -> Any:
    """Add the estimate's context nodes (CD-NOD) to a true DAG, pointing at the changed nodes."""
    if isinstance(truth, PDAG) and truth.is_dag():
        truth = truth.to_networkx()
    if not isinstance(truth, nx.DiGraph):
        return truth
    extra = [n for n in est_graph.nodes if n not in truth]
    if not extra:
        return truth
    g = truth.copy()
    for node in extra:
        g.add_node(node)
        g.add_edges_from((node, c) for c in changed)
    return g


def reference_graph(truth, graph, score: str = "auto", changed_nodes=frozenset()):
    """What an estimate is compared with: the truth, or the part of it the method can identify.

    ``score="cpdag"`` (or ``"auto"`` and an estimate with undirected edges): the CPDAG of
    a true DAG. Context nodes of the estimate that the truth lacks (CD-NOD's
    environment / time node) are added pointing at ``changed_nodes``; being exogenous
    by construction, their edges stay oriented out of the context, and Meek's rules
    propagate that. A lagged estimate is compared with the CPDAG of a lagged truth.
    """
    from scm import cpdag, meek_rules

    if truth is None:
        return None
    if isinstance(truth, LaggedGraph):
        return truth.cpdag() if isinstance(graph, LaggedGraph) else truth
    contexts = [n for n in graph.nodes if n not in set(truth.nodes)] if graph is not None else []
    dag = _with_context(truth, graph, changed_nodes) if contexts else truth
    wants_cpdag = score == "cpdag" or (score == "auto" and isinstance(graph, PDAG) and graph.undirected_edges)
    if not wants_cpdag:
        return dag
    g = dag if isinstance(dag, nx.DiGraph) else (dag.to_networkx() if dag.is_dag() else None)
    if g is None or not nx.is_directed_acyclic_graph(g):
        return dag
    ref = cpdag(g)
    if contexts:
        ctx = set(contexts)
        undirected = [tuple(e) for e in ref.undirected_edges if ctx & set(e)]
        oriented = [(a, b) if a in ctx else (b, a) for a, b in undirected]
        if oriented:
            ref = meek_rules(ref.without_edges([frozenset(e) for e in undirected]).with_edges(directed=oriented))
    return ref


def score(truth, graph, capability: Capability, *, edge_probs=None, changed_nodes=frozenset(), metrics=None) -> dict:
    """Every metric of ``graph`` against ``truth`` (none when the truth is unknown: see :mod:`._truthfree`)."""
    from ..metrics import all_metrics

    out: dict = {}
    if truth is None:
        return out
    if isinstance(graph, LaggedGraph):
        if not isinstance(truth, LaggedGraph):
            graph = PDAG.from_networkx(graph.summary_graph())
            out.update(all_metrics(truth, graph, compare="dag"))
        else:
            out.update(lagged_metrics(truth.cpdag(), graph))
            out.update(sid=float("nan"), sid_lower=float("nan"), sid_upper=float("nan"))  # no SID for lagged graphs
    else:
        compare = capability.score if capability.score in ("cpdag", "dag", "auto") else "auto"
        has_context = any(n not in set(truth.nodes) for n in graph.nodes)
        if has_context and compare != "dag":  # CD-NOD: the CPDAG with the context edges oriented
            ref = reference_graph(truth, graph, compare, changed_nodes)
            # the SID needs the true DAG (with the context pointing at the changed nodes), not the reference
            sid_truth = _with_context(truth, graph, changed_nodes)
            out.update(all_metrics(ref, graph, compare="dag", edge_probs=edge_probs, sid_truth=sid_truth))
        else:
            truth = _with_context(truth, graph, changed_nodes)
            out.update(all_metrics(truth, graph, compare=compare, edge_probs=edge_probs))
    for name, fn in (metrics or {}).items():
        out[name] = float(fn(truth, graph))
    return out


# --------------------------------------------------------------------------- one run
@dataclasses.dataclass
class RunTask:
    """One run of :func:`compare`: an estimator, the data it is fitted on and how it is scored.

    Made by :func:`build_tasks`, run by :func:`run_tasks`. It holds no user lambdas (unless
    ``metrics`` does), so it pickles and travels to any worker.

    Attributes
    ----------
    algorithm, dataset : str
        The names the run is reported under.
    seed : int
    estimator : estimator
        A fresh, unfitted estimator for this run (see :func:`build_tasks`).
    data : pandas.DataFrame
        The dataset's data, environment column included (:attr:`Capability.fit` says what
        ``fit`` gets).
    environment : str or None
        The environment / context column.
    kind : str
        The dataset's kind.
    truth : networkx.DiGraph, scm.PDAG, scm.LaggedGraph or None
        What the estimate is scored against (None: unknown, metrics are NaN).
    changed_nodes : frozenset
        Variables whose mechanisms change (the truth of a context node's edges).
    capability : Capability
        How the estimator is fitted and scored.
    metrics : dict
        Extra metrics ``name -> fn(truth, graph)``.
    key : str
        The cache key: a hash of the estimator's class and parameters, the seed, the data
        and the truth (empty without a cache).
    cache_file : str or None
        Where the finished run is stored (None: no cache).
    truth_free : frozenset of str
        The truth-free metrics to compute (:data:`discovery.evaluation._truthfree.TRUTH_FREE_METRICS`;
        empty when every dataset of the comparison has a truth and none was asked for).
    n_bootstrap : int
        Bootstrap resamples behind ``stability`` (0: none).
    cv_folds : int
        Folds of ``heldout_loglik``.
    """

    algorithm: str
    dataset: str
    seed: int
    estimator: Any
    data: pd.DataFrame
    environment: str | None
    kind: str
    truth: Any
    changed_nodes: frozenset
    capability: Capability
    metrics: dict
    key: str
    cache_file: str | None
    truth_free: frozenset = frozenset()
    n_bootstrap: int = 0
    cv_folds: int = 5


@dataclasses.dataclass(frozen=True)
class RunResult:
    """The outcome of one :class:`RunTask` (see :func:`run_tasks`).

    Attributes
    ----------
    row : dict
        The run's row of the results table: ``algorithm``, ``dataset``, ``seed``, the
        metrics, ``fit_seconds``, ``status``, ``error``, ``warnings`` and ``cached``.
    graph : scm.PDAG, scm.LaggedGraph or None
        The learned graph (None when the run failed).
    edge_probs : pandas.DataFrame or None
        Edge probabilities, for estimators that have them.
    bootstrap_consensus : scm.PDAG, scm.LaggedGraph or None
        The consensus of the bootstrap resamples (with ``n_bootstrap > 0``).
    """

    row: dict
    graph: Any = None
    edge_probs: pd.DataFrame | None = None
    bootstrap_consensus: Any = None


def _pack(graph):
    """A picklable form of a graph (PDAG and LaggedGraph refuse to unpickle: they are immutable)."""
    if isinstance(graph, (PDAG, LaggedGraph)):
        return ("graph", _graph_to_json(graph))
    return ("raw", graph)


def _unpack(packed):
    kind, value = packed
    return _graph_from_json(value) if kind == "graph" else value


def _fit(task: RunTask):
    return fit_as(task.capability, task.estimator, task.data, task.environment)


def fit_as(capability: Capability, estimator, data: pd.DataFrame, environment=None, fit_params=None):
    """``estimator.fit`` called as ``capability.fit`` says (see :class:`Capability`); returns the fitted estimator.

    The one dispatch of the harness and of :func:`discovery.evaluation.bootstrap`: ``"plain"``
    gets the variables (``environment`` column dropped), ``"context"``, ``"environment"`` and
    ``"groups"`` the whole table and the column's name, ``"series"`` the whole table.
    ``fit_params`` are passed on.
    """
    extra = dict(fit_params or {})
    how = capability.fit
    if how == "plain":
        cols = [c for c in data.columns if c != environment]
        return estimator.fit(data[cols], **extra)
    if how == "context":
        return estimator.fit(data, context=environment, **extra)
    if how == "environment":
        return estimator.fit(data, environment=environment, **extra)
    if how == "groups":
        return estimator.fit(data, groups=environment, **extra)
    return estimator.fit(data, **extra)


def _stability(task: RunTask):
    """(stability, consensus of the resamples, note) from :func:`discovery.bootstrap`."""
    from sklearn.base import clone

    from ._bootstrap import bootstrap

    data = Dataset(task.data, kind=task.kind, environment=task.environment)  # brings the context column and the kind
    try:  # executor=None: in this process (lock-step Fisher-z searches where it can)
        res = bootstrap(clone(task.estimator, safe=False), data, n_resamples=task.n_bootstrap, random_state=task.seed)
        return float(res.stability()), res.consensus(), None
    except Exception as exc:  # recorded in the notes, as a failed fit is in the error column
        logger.debug("bootstrap of %s on %s failed:\n%s", task.algorithm, task.dataset, traceback.format_exc())
        return float("nan"), None, (UNDEFINED, f"the bootstrap failed: {_one_line(exc)}")


def _truth_free_scores(task: RunTask, graph) -> tuple[dict, dict, Any]:
    """(values, notes, bootstrap consensus) of the truth-free metrics a task asks for."""
    out: dict = {}
    notes: dict = {}
    consensus = None
    want = task.truth_free
    if want & set(_GROUPS["counts"]):
        out.update(edge_counts(graph))
    if want & set(_GROUPS["loglik"]):
        if task.kind == "discrete":
            reason = (NOT_APPLICABLE, "discrete data: the held-out score is that of a linear-Gaussian SCM")
        else:
            try:
                fit = heldout_loglik(graph, task.data, n_folds=task.cv_folds, random_state=task.seed,
                                     context=None if isinstance(graph, LaggedGraph) else task.environment)
                out.update(heldout_loglik=fit["heldout_loglik"], heldout_loglik_se=fit["heldout_loglik_se"])
                reason = None
            except ScmkitError as exc:
                reason = (UNDEFINED, first_line(exc))
        if reason is not None:
            out.update(heldout_loglik=float("nan"), heldout_loglik_se=float("nan"))
            notes.update(heldout_loglik=reason, heldout_loglik_se=reason)
    if "stability" in want:
        value, consensus, reason = _stability(task)
        out["stability"] = value
        if reason is not None:
            notes["stability"] = reason
    return out, notes, consensus


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(exc)}".rstrip(": ")


class _Collector(logging.Handler):
    """Keeps the warnings the library logs during one run (they go to the ``warnings`` column)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")


def _run_task(task: RunTask) -> tuple[dict, Any, Any, Any]:
    """Fit, score and (optionally) cache one run; never raises for an error of the run itself."""
    row = {"algorithm": task.algorithm, "dataset": task.dataset, "seed": task.seed}
    graph = probs = consensus = None
    logged = _Collector()
    loggers = [logging.getLogger(name) for name in ("discovery", "scm")]
    for lg in loggers:
        lg.addHandler(logged)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        try:
            est = _fit(task)
            seconds = time.perf_counter() - t0
            graph = as_graph_object(est.graph_)
            cap = task.capability
            probs = getattr(est, cap.edge_probs) if cap.edge_probs else None
            scores = score(task.truth, graph, cap, edge_probs=probs, changed_nodes=task.changed_nodes, metrics=task.metrics)
            row.update(scores)
            if task.truth_free:
                values, notes, consensus = _truth_free_scores(task, graph)
                row.update(values)
                if notes:
                    row["_notes"] = {m: list(v) for m, v in notes.items()}
            row.update(fit_seconds=seconds, status="ok", error="")
        except Exception as exc:  # a failing run is a result, not a crash
            row.update(fit_seconds=time.perf_counter() - t0, status="error", error=_one_line(exc))
            logger.debug("%s on %s (seed %d) failed:\n%s", task.algorithm, task.dataset, task.seed, traceback.format_exc())
    for lg in loggers:
        lg.removeHandler(logged)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught] + logged.messages
    row["warnings"] = "; ".join(dict.fromkeys(first_line(m, limit=160) for m in messages))
    if task.cache_file and row["status"] == "ok":
        _write_cache(task.cache_file, task.key, row, graph, probs, consensus)
    return row, _pack(graph), probs, _pack(consensus)


# --------------------------------------------------------------------------- cache
def _graph_to_json(graph) -> dict | None:
    if graph is None:
        return None
    kind = "lagged" if isinstance(graph, LaggedGraph) else "pdag"
    return {"type": kind, **graph.to_dict()}


def _graph_from_json(data):
    if data is None:
        return None
    data = dict(data)
    kind = data.pop("type")
    return LaggedGraph.from_dict(data) if kind == "lagged" else PDAG.from_dict(data)


def _checksum(record: dict) -> str:
    """sha256 of a cache record without its ``checksum`` field, in canonical JSON."""
    body = {k: v for k, v in record.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _write_cache(path: str, key: str, row: dict, graph, probs, consensus=None) -> None:
    record = {
        "version": _CACHE_VERSION,
        "key": key,
        "row": row,
        "graph": _graph_to_json(graph),
        "edge_probs": None if probs is None else json.loads(probs.to_json(orient="split")),
    }
    if consensus is not None:  # only with a bootstrap: the files of other runs keep their content
        record["bootstrap_consensus"] = _graph_to_json(consensus)
    # the checksum of what a reader will parse: numpy scalars and tuples become JSON's numbers and lists
    record = json.loads(json.dumps(record, default=_json_default))
    record["checksum"] = _checksum(record)
    path = pathlib.Path(path)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)  # atomic: a half-written file is never read back


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return str(value)


def _read_cache(path: pathlib.Path, key: str):
    """The run stored at ``path`` if it is this run's and intact, else None (the run is redone).

    A file that is missing or unreadable is redone silently; one of another cache format
    (older files have no checksum) with an info line; one whose checksum fails (edited or
    corrupted) or that holds another run's result (a file copied or renamed) with a warning.
    """
    try:
        text = path.read_text()
    except OSError:
        return None  # not there yet
    try:
        record = json.loads(text)
        if not isinstance(record, dict):
            raise TypeError("not a JSON object")
        if record.get("version") != _CACHE_VERSION:
            logger.info("compare: cache file %s has format %r, not %d (no checksum): recomputing the run",
                        path.name, record.get("version"), _CACHE_VERSION)
            return None
        if record.get("checksum") != _checksum(record):
            logger.warning("compare: cache file %s fails its checksum (edited or corrupted): not trusted, "
                           "recomputing the run", path.name)
            return None
        if record.get("key") != key:
            logger.warning("compare: cache file %s holds another run's result (key %.16s..., expected %.16s...): "
                           "not trusted, recomputing the run", path.name, str(record.get("key")), key)
            return None
        probs = record.get("edge_probs")
        if probs is not None:
            probs = pd.DataFrame(probs["data"], index=probs["index"], columns=probs["columns"])
        return record["row"], _graph_from_json(record["graph"]), probs, _graph_from_json(record.get("bootstrap_consensus"))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        logger.warning("compare: cache file %s is unreadable (%s): recomputing the run", path.name, first_line(str(exc)))
        return None


def _stable_repr(value) -> str:
    """A repr without memory addresses, for hashing parameters."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _data_digest(data: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in data.columns]).encode())
    h.update(json.dumps([str(t) for t in data.dtypes]).encode())
    h.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
    return h.hexdigest()


def _truth_digest(truth) -> str:
    if truth is None:
        return "none"
    if isinstance(truth, nx.Graph):
        truth = PDAG.from_networkx(truth)
    return hashlib.sha256(json.dumps(truth.to_dict(), default=str, sort_keys=True).encode()).hexdigest()


def _run_key(estimator, seed: int, data_digest: str, truth_digest: str, ds: Dataset, metrics: dict, truth_free=None) -> str:
    params = estimator.get_params() if hasattr(estimator, "get_params") else vars(estimator)
    payload = {
        "version": _KEY_VERSION,
        "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "params": {k: _stable_repr(v) for k, v in sorted(params.items())},
        "seed": int(seed),
        "data": data_digest,
        "truth": truth_digest,
        "kind": ds.kind,
        "environment": ds.environment,
        "changed": sorted(map(str, ds.changed_nodes)),
        "metrics": sorted(metrics),
    }
    if truth_free:  # truth-free runs only: the keys of runs scored against a truth do not change
        payload["truth_free"] = truth_free
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- inputs
def _instantiate(name: str, spec, seed: int):
    """A fresh estimator for one run: a clone of an instance (``random_state`` set to the seed
    when it has one) or ``spec(seed)`` for a factory."""
    if hasattr(spec, "fit"):
        from sklearn.base import clone

        est = clone(spec, safe=False)
        params = est.get_params() if hasattr(est, "get_params") else {}
        if "random_state" in params and hasattr(est, "set_params"):
            est.set_params(random_state=seed)
        return est
    if callable(spec):
        est = spec(seed)
        if not hasattr(est, "fit"):
            raise ParameterError(f"the factory of algorithm {name!r} returned {type(est).__name__}, which has no 'fit' method")
        return est
    raise ParameterError(f"algorithm {name!r} must be an estimator with 'fit' or a factory 'seed -> estimator'; got {type(spec).__name__}")


def _as_mapping(items, what: str) -> dict:
    if isinstance(items, Mapping):
        out = dict(items)
    elif isinstance(items, (str, bytes)) or not isinstance(items, Sequence | set | frozenset | tuple | list):
        raise ParameterError(f"{what} must be a mapping name -> value or a list; got {type(items).__name__}")
    else:
        out = {}
        for item in items:
            name = "data" if isinstance(item, pd.DataFrame) else (getattr(item, "name", None) or type(item).__name__)
            base, i = str(name), 2
            while name in out:
                name, i = f"{base}-{i}", i + 1
            out[name] = item
    if not out:
        raise ParameterError(f"{what} is empty")
    return out


def _materialise_dataset(name: str, spec, seed: int) -> Dataset:
    ds = spec(seed) if callable(spec) and not isinstance(spec, (Dataset, pd.DataFrame)) else spec
    if isinstance(ds, pd.DataFrame):  # user data: observational, no known truth
        ds = Dataset(ds, name=str(name))
    if not isinstance(ds, Dataset):
        raise ParameterError(
            f"dataset {name!r} must be an scm.Dataset, a DataFrame or a factory 'seed -> Dataset'; got {type(ds).__name__}"
        )
    if ds.kind not in DATASET_KINDS:
        raise ParameterError(f"dataset {name!r} has kind {ds.kind!r}; expected one of {list(DATASET_KINDS)}")
    if ds.kind in ("multi_environment", "nonstationary", "grouped") and ds.environment is None:
        raise DataError(f"dataset {name!r} is {ds.kind} but names no environment column")
    return ds


def _check_metrics(metrics) -> tuple[list | None, dict]:
    """(names to keep or None for all, extra callables)."""
    if metrics is None:
        return None, {}
    if isinstance(metrics, str):
        metrics = [metrics]
    keep, extra = [], {}
    if isinstance(metrics, Mapping):
        for name, fn in metrics.items():
            if not callable(fn):
                raise ParameterError(f"metric {name!r} must be callable (truth, graph) -> float; got {type(fn).__name__}")
            extra[str(name)] = fn
        return list(extra), extra
    known = list(dict.fromkeys(METRIC_NAMES + TRUTH_FREE_METRICS))
    for m in metrics:
        if m not in known:
            raise ParameterError(f"unknown metric {m!r}; known metrics are {known} (or pass a dict name -> callable)")
        keep.append(m)
    return keep, extra


def _truth_free_metrics(keep, truth_free_mode: bool, n_bootstrap: int) -> frozenset:
    """The truth-free metrics the runs compute: those asked for, or all of them (``keep`` None) when
    a dataset has no truth; ``stability`` with a bootstrap only."""
    if keep is None:
        wanted = set(TRUTH_FREE_METRICS) if truth_free_mode else set()
        if n_bootstrap:
            wanted.add("stability")
        else:
            wanted.discard("stability")
        return frozenset(wanted)
    wanted = set(keep) & set(TRUTH_FREE_METRICS)
    if "stability" in wanted and not n_bootstrap:
        raise ParameterError("metric 'stability' needs bootstrap resamples: pass n_bootstrap > 0 to compare")
    return frozenset(wanted)


def _resolve_executor(executor, n_jobs, n_tasks, *, owner: str = "compare", strings=("sequential",)):
    """(executor or None for in-process, whether we own it and must shut it down)."""
    if isinstance(executor, str):
        if executor not in strings:
            allowed = ", ".join(repr(s) for s in strings)
            raise ParameterError(
                f"The 'executor' parameter of {owner} must be an Executor, {allowed} or None; got {executor!r} instead."
            )
        return None, False
    if executor is not None:
        if not hasattr(executor, "submit"):
            raise ParameterError(f"The 'executor' parameter of {owner} must have a 'submit' method; got {type(executor).__name__} instead.")
        return executor, False
    if n_jobs is not None and (not isinstance(n_jobs, int | np.integer) or n_jobs == 0 or n_jobs < -1):
        raise ParameterError(f"The 'n_jobs' parameter of {owner} must be a positive int, -1 or None; got {n_jobs!r} instead.")
    cores = os.cpu_count() or 1
    workers = cores if n_jobs in (None, -1) else int(n_jobs)
    workers = min(workers, n_tasks)
    if workers <= 1:
        return None, False
    ctx = multiprocessing.get_context("spawn")  # JAX is multithreaded: never fork it
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx), True


# --------------------------------------------------------------------------- the harness, in three phases
@dataclasses.dataclass(frozen=True)
class TaskPlan:
    """The runs of a comparison and what the results table needs besides them (see :func:`build_tasks`).

    Attributes
    ----------
    tasks : list of RunTask
        For each seed, for each dataset, the algorithms that apply (the row order of
        :func:`tabulate`).
    truths : dict
        ``dataset -> true graph`` of the first seed.
    changed_nodes : dict
        ``dataset -> frozenset`` of the nodes whose mechanisms change.
    columns : list of str or None
        The metric columns to keep (None: every metric that applies).
    skipped : tuple of (algorithm, dataset)
        The pairs that do not match (the algorithm does not apply, or ``only`` excludes them).
    truth_free : bool
        Whether a dataset has no true graph: the table then has the truth-free columns, a
        ``notes`` column, and ``attrs`` the agreement matrices and consensus graphs.
    """

    tasks: list
    truths: dict
    changed_nodes: dict
    columns: list | None = None
    skipped: tuple = ()
    truth_free: bool = False


def build_tasks(algorithms, datasets, metrics=None, seeds=(0,), cache_dir=None, *, only: Mapping | None = None,
                n_bootstrap: int = 0, cv_folds: int = 5) -> TaskPlan:
    """Every run of a comparison, ready to go: the first phase of :func:`compare`.

    Materialises each dataset for each seed (a factory is called with the seed),
    instantiates each algorithm for each seed (a clone with ``random_state`` set to the
    seed, or the factory's estimator), keeps the pairs that apply
    (:func:`capability_of`, ``only``) and, with ``cache_dir``, computes each run's cache
    key and file. Nothing is fitted and no cache file is read.

    Parameters
    ----------
    algorithms, datasets, metrics, seeds, cache_dir, only, n_bootstrap, cv_folds
        As in :func:`compare`.

    Returns
    -------
    TaskPlan

    Raises
    ------
    ParameterError
        Bad arguments, or no algorithm applies to any dataset.

    Examples
    --------
    >>> import scm
    >>> from discovery import PC, PCMCI
    >>> from discovery.evaluation import build_tasks
    >>> ds = scm.simulate.simulate(n_nodes=4, n_samples=200, random_state=0)
    >>> plan = build_tasks({"pc": PC(), "pcmci": PCMCI()}, {"er4": ds}, seeds=[0, 1])
    >>> [(t.algorithm, t.dataset, t.seed) for t in plan.tasks], plan.skipped
    ([('pc', 'er4', 0), ('pc', 'er4', 1)], (('pcmci', 'er4'),))
    """
    algorithms = _as_mapping(algorithms, "algorithms")
    datasets = _as_mapping(datasets, "datasets")
    keep, extra = _check_metrics(metrics)
    try:
        seeds = [int(s) for s in ([seeds] if isinstance(seeds, int | np.integer) else seeds)]
    except (TypeError, ValueError):
        raise ParameterError(f"The 'seeds' parameter of compare must be an int or a list of ints; got {seeds!r} instead.") from None
    if not seeds:
        raise ParameterError("The 'seeds' parameter of compare is empty.")
    only = {} if only is None else dict(only)
    unknown = [a for a in only if a not in algorithms]
    if unknown:
        raise ParameterError(f"The 'only' parameter of compare names unknown algorithm(s) {unknown}; known: {list(algorithms)}")
    n_bootstrap = check_in_range(n_bootstrap, name="n_bootstrap", low=0, inclusive="left", integer=True, owner="compare")
    cv_folds = check_in_range(cv_folds, name="cv_folds", low=2, inclusive="left", integer=True, owner="compare")
    cache = None
    if cache_dir is not None:
        cache = ensure_directory(cache_dir, name="cache_dir", owner="compare")

    # materialise datasets and estimators in the caller: workers only get picklable tasks
    materialised = [(seed, dname, _materialise_dataset(dname, dspec, seed)) for seed in seeds for dname, dspec in datasets.items()]
    truth_free_mode = any(_true_graph(ds) is None for _, _, ds in materialised)
    truth_free = _truth_free_metrics(keep, truth_free_mode, n_bootstrap)
    settings = {"metrics": sorted(truth_free), "n_bootstrap": n_bootstrap, "cv_folds": cv_folds} if truth_free else None
    tasks: list[RunTask] = []
    truths: dict = {}
    changed: dict = {}
    skipped = []
    for seed, dname, ds in materialised:
        truth = _true_graph(ds)
        truths.setdefault(dname, truth)
        changed_nodes = _changed_nodes(ds)
        changed.setdefault(dname, changed_nodes)
        digest = _data_digest(ds.data) if cache else ""
        tdigest = _truth_digest(truth) if cache else ""
        for aname, aspec in algorithms.items():
            est = _instantiate(aname, aspec, seed)
            cap = capability_of(est)
            if ds.kind not in cap.kinds or (aname in only and dname not in only[aname]):
                skipped.append((aname, dname))
                continue
            key = _run_key(est, seed, digest, tdigest, ds, extra, settings) if cache else ""
            cache_file = str(cache / f"{slug(aname)}__{slug(dname)}__{seed}__{key[:16]}.json") if cache else None
            tasks.append(RunTask(aname, dname, seed, est, ds.data, ds.environment, ds.kind, truth,
                                 changed_nodes, cap, extra, key, cache_file, truth_free, n_bootstrap,
                                 cv_folds))  # fmt: skip
    if not tasks:
        raise ParameterError(
            f"no algorithm applies to any dataset: algorithms {list(algorithms)} handle dataset kinds "
            f"{sorted(set().union(*(capability_of(_instantiate(a, s, seeds[0])).kinds for a, s in algorithms.items())))}, "
            f"the datasets are {sorted({_materialise_dataset(d, s, seeds[0]).kind for d, s in datasets.items()})}"
        )
    skipped = tuple(dict.fromkeys(skipped))
    for aname, dname in skipped:
        logger.debug("%s does not apply to %s: skipped", aname, dname)
    logger.info("compare: %d runs planned, %d skipped pairs", len(tasks), len(skipped))
    return TaskPlan(tasks, truths, changed, keep, skipped, truth_free_mode)


def run_tasks(tasks, executor=None, progress: bool = False, *, n_jobs: int | None = None) -> list[RunResult]:
    """Run each task once, or read it back from its cache file: the second phase of :func:`compare`.

    A task whose ``cache_file`` holds a finished run with the same key is not run
    (``cached=True`` in its row). The others go to ``executor``; each fits, scores and,
    when it succeeds and has a ``cache_file``, writes its result there. A run that
    raises, or whose worker dies, gives a row with ``status="error"``: this function
    does not raise for it.

    Parameters
    ----------
    tasks : list of RunTask
        From :func:`build_tasks` (``plan.tasks``, or a part of it).
    executor, progress, n_jobs
        As in :func:`compare`.

    Returns
    -------
    list of RunResult
        One per task, in the order of ``tasks``.

    Raises
    ------
    ParameterError
        A bad ``executor`` or ``n_jobs``.

    Examples
    --------
    >>> import scm
    >>> from discovery import PC
    >>> from discovery.evaluation import build_tasks, run_tasks
    >>> ds = scm.simulate.simulate(n_nodes=4, n_samples=200, random_state=0)
    >>> plan = build_tasks({"pc": PC(), "bad": PC(alpha=2.0)}, {"er4": ds})
    >>> [(r.row["algorithm"], r.row["status"], type(r.graph).__name__) for r in run_tasks(plan.tasks, "sequential")]
    [('pc', 'ok', 'PDAG'), ('bad', 'error', 'NoneType')]
    """
    tasks = list(tasks)
    done: dict[int, RunResult] = {}
    for i, task in enumerate(tasks):
        if task.cache_file and (hit := _read_cache(pathlib.Path(task.cache_file), task.key)) is not None:
            row, graph, probs, consensus = hit
            done[i] = RunResult({**row, "cached": True}, graph, probs, consensus)
    todo = [i for i in range(len(tasks)) if i not in done]
    logger.info("compare: %d runs (%d cached)", len(tasks), len(done))
    pool, owned = _resolve_executor(executor, n_jobs, len(todo))
    bar = progress_bar(progress, total=len(tasks), initial=len(done), desc="compare", unit="run")
    try:
        if pool is None:
            for i in todo:
                task = tasks[i]
                bar.set_postfix_str(f"{task.algorithm} on {task.dataset}", refresh=False)
                done[i] = _finish(task, _run_task(task))
                bar.update()
        else:
            futures = {pool.submit(_run_task, tasks[i]): i for i in todo}
            for fut in cf.as_completed(futures):
                i = futures[fut]
                task = tasks[i]
                try:
                    result = fut.result()
                except Exception as exc:  # the worker died, or the task did not pickle
                    message = _one_line(exc)
                    if isinstance(exc, BrokenProcessPool):
                        message = ("BrokenProcessPool: a worker process died (out of memory, or a script without "
                                   "`if __name__ == '__main__':` around the call, which the 'spawn' start method needs)")
                    row = {"algorithm": task.algorithm, "dataset": task.dataset, "seed": task.seed,
                           "fit_seconds": float("nan"), "status": "error", "error": message, "warnings": ""}
                    result = (row, None, None, None)
                done[i] = _finish(task, result)
                bar.update()
    finally:
        bar.close()
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)
    return [done[i] for i in range(len(tasks))]


def _finish(task: RunTask, result) -> RunResult:
    row, graph, probs, consensus = result
    graph = _unpack(graph) if graph is not None else None
    consensus = _unpack(consensus) if consensus is not None else None
    row = {**row, "cached": False}
    logger.info("%s on %s (seed %d): %s in %.2f s", task.algorithm, task.dataset, task.seed, row["status"], row["fit_seconds"])
    return RunResult(row, graph, probs, consensus)


def tabulate(plan: TaskPlan, results) -> pd.DataFrame:
    """The tidy results table of a comparison: the last phase of :func:`compare`.

    Parameters
    ----------
    plan : TaskPlan
        From :func:`build_tasks`.
    results : list of RunResult
        From :func:`run_tasks`, one per task of ``plan``, in its order.

    Returns
    -------
    pandas.DataFrame
        As :func:`compare` returns it: one row per run; ``attrs`` holds the learned
        graphs, the truths, the changed nodes and the notes; without a truth also the
        agreement matrices and the consensus graphs.

    Raises
    ------
    ParameterError
        If ``results`` and ``plan.tasks`` differ in length.

    Examples
    --------
    >>> import scm
    >>> from discovery import PC
    >>> from discovery.evaluation import build_tasks, run_tasks, tabulate
    >>> ds = scm.simulate.simulate(n_nodes=4, n_samples=200, random_state=0)
    >>> plan = build_tasks({"pc": PC()}, {"er4": ds}, metrics=["shd", "skeleton_f1"], seeds=[0, 1])
    >>> table = tabulate(plan, run_tasks(plan.tasks, "sequential"))
    >>> list(table.columns)
    ['algorithm', 'dataset', 'seed', 'shd', 'skeleton_f1', 'fit_seconds', 'status', 'error', 'warnings', 'cached']
    >>> sorted(table.attrs["graphs"])
    [('pc', 'er4', 0), ('pc', 'er4', 1)]
    """
    results = list(results)
    if len(results) != len(plan.tasks):
        raise ParameterError(f"tabulate needs one result per task: {len(plan.tasks)} tasks, {len(results)} results")
    rows = [dict(r.row) for r in results]
    run_notes = [row.pop("_notes", None) or {} for row in rows]
    frame = pd.DataFrame(rows)
    lead = ["algorithm", "dataset", "seed"]
    tail = ["fit_seconds", "status", "error", "warnings", "cached"]
    keep = plan.columns
    metric_cols = [c for c in frame.columns if c not in lead + tail]
    if any(t is not None for t in plan.truths.values()):
        metric_cols += [m for m in METRIC_NAMES[:-1] if m not in metric_cols]  # same schema when every run failed
    agreement = _agreement(plan, results) if plan.truth_free and (keep is None or "mean_shd_to_others" in keep) else None
    if agreement is not None:
        frame["mean_shd_to_others"] = agreement["mean"]
    metric_cols += [m for m in _expected_truth_free(plan) if m not in metric_cols]
    named = METRIC_NAMES + tuple(m for m in TRUTH_FREE_METRICS if m not in METRIC_NAMES)
    ordered = [m for m in named if m in metric_cols] + [m for m in metric_cols if m not in named]
    if keep is not None:
        ordered = [m for m in ordered if m in keep]
        for m in keep:
            if m not in ordered:
                frame[m] = np.nan
                ordered.append(m)
    notes = [_row_notes(task, result, values, ordered, extra, agreement["notes"][i] if agreement else {})
             for i, (task, result, values, extra) in enumerate(zip(plan.tasks, results, frame.to_dict("records"), run_notes))]
    if plan.truth_free:
        frame["notes"] = [_render_notes(n) for n in notes]
        tail = ["fit_seconds", "status", "error", "notes", "warnings", "cached"]
    frame = frame.reindex(columns=lead + ordered + tail)
    frame["seed"] = frame["seed"].astype(int)
    frame["cached"] = frame["cached"].astype(bool)
    frame["error"] = frame["error"].fillna("")
    frame["warnings"] = frame["warnings"].fillna("")
    for m in ordered:
        frame[m] = pd.to_numeric(frame[m], errors="coerce").astype(float)
    frame.attrs["graphs"] = GraphStore(((t.algorithm, t.dataset, t.seed), r.graph) for t, r in zip(plan.tasks, results))
    frame.attrs["truths"] = GraphStore(plan.truths)
    frame.attrs["changed_nodes"] = GraphStore(plan.changed_nodes)
    frame.attrs["notes"] = GraphStore(((t.algorithm, t.dataset, t.seed), n) for t, n in zip(plan.tasks, notes))
    if plan.truth_free:
        frame.attrs["cv_folds"] = plan.tasks[0].cv_folds if plan.tasks else None
        frame.attrs["agreement"] = GraphStore(agreement["matrices"] if agreement else {})
        frame.attrs["consensus"] = GraphStore(agreement["consensus"] if agreement else {})
        frame.attrs["edge_frequencies"] = GraphStore(agreement["frequencies"] if agreement else {})
        frame.attrs["bootstrap_consensus"] = GraphStore(
            ((t.algorithm, t.dataset, t.seed), r.bootstrap_consensus) for t, r in zip(plan.tasks, results)
            if r.bootstrap_consensus is not None)
    return frame


def _expected_truth_free(plan: TaskPlan) -> list:
    """The truth-free columns of the table (present even when every run failed)."""
    wanted = set().union(*(t.truth_free for t in plan.tasks)) if plan.tasks else set()
    if not any(t.kind == "time_series" for t in plan.tasks):
        wanted -= {"n_lagged", "n_contemporaneous"}
    if not plan.truth_free or (plan.columns is not None and "mean_shd_to_others" not in plan.columns):
        wanted.discard("mean_shd_to_others")
    else:
        wanted.add("mean_shd_to_others")
    return [m for m in TRUTH_FREE_METRICS if m in wanted]


def _agreement(plan: TaskPlan, results) -> dict:
    """Per (dataset, seed): the agreement matrix and the consensus of the algorithms' graphs; per run:
    its mean SHD to the other algorithms and why it has none."""
    groups: dict = {}
    for i, (task, result) in enumerate(zip(plan.tasks, results)):
        if result.row.get("status") == "ok" and result.graph is not None:
            groups.setdefault((task.dataset, task.seed), {})[task.algorithm] = (i, result.graph)
    mean = [float("nan")] * len(plan.tasks)
    notes: list = [{} for _ in plan.tasks]
    matrices, consensus, frequencies = {}, {}, {}
    for key, members in groups.items():
        graphs = {a: g for a, (_, g) in members.items()}
        if len(graphs) < 2:
            for i, _ in members.values():
                notes[i]["mean_shd_to_others"] = (NOT_APPLICABLE, "only one algorithm ran on this dataset")
            continue
        try:
            m = agreement_matrix(graphs)
            consensus[key] = consensus_graph(graphs)
            frequencies[key] = edge_frequencies(graphs)
        except ScmkitError as exc:
            for i, _ in members.values():
                notes[i]["mean_shd_to_others"] = (UNDEFINED, first_line(exc))
            continue
        matrices[key] = m
        for a, (i, _) in members.items():
            mean[i] = float(m.loc[a].drop(a).mean())
    return {"mean": mean, "notes": notes, "matrices": matrices, "consensus": consensus, "frequencies": frequencies}


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _why_no_truth_metric(metric: str, graph, truth) -> tuple[str, str]:
    """Why a metric scored against an existing truth has no value for ``graph``."""
    if metric == "average_precision":
        return NOT_APPLICABLE, "the algorithm gives no edge probabilities"
    if metric in ("sid", "sid_lower", "sid_upper"):
        if isinstance(graph, LaggedGraph) or isinstance(truth, LaggedGraph):
            return NOT_APPLICABLE, "no SID for time-series graphs"
        t = as_graph_object(truth)
        if not t.is_dag():
            return UNDEFINED, "the true graph is not a DAG"
        if graph.bidirected_edges:
            return UNDEFINED, "the estimate has <-> edges: it represents no DAG"
        if not nx.is_directed_acyclic_graph(nx.DiGraph(list(graph.directed_edges))):
            return UNDEFINED, "the estimate has a directed cycle"
        if metric == "sid" and graph.undirected_edges:
            return UNDEFINED, "the estimate is not a DAG: sid_lower and sid_upper bound the SID of its class"
        return UNDEFINED, "the estimate is not a DAG nor a CPDAG whose DAGs can be enumerated"
    return UNDEFINED, "no value for this estimate"


def _row_notes(task: RunTask, result: RunResult, values: dict, columns: list, run_notes: dict, agreement: dict) -> dict:
    """metric -> (NOT_APPLICABLE or UNDEFINED, reason) for the columns a successful run has no value in."""
    if values.get("status") != "ok" or result.graph is None:
        return {}
    graph = result.graph
    out: dict = {}
    for m in columns:
        if m in TRUTH_FREE_METRICS and m not in METRIC_NAMES:
            continue
        if m == "n_edges" and not _is_missing(values.get(m)):
            continue
        if task.truth is None:
            if m != "n_edges":
                out[m] = (NOT_APPLICABLE, "no true graph")
        elif _is_missing(values.get(m)):
            out[m] = _why_no_truth_metric(m, graph, task.truth)
    out.update({m: tuple(v) for m, v in run_notes.items()})
    if not isinstance(graph, LaggedGraph):
        out.update({m: (NOT_APPLICABLE, "not a time series") for m in ("n_lagged", "n_contemporaneous") if m in columns})
    out.update(agreement)
    return {m: out[m] for m in columns if m in out}


def _render_notes(notes: dict) -> str:
    """``"shd, sid: not applicable (no true graph); heldout_loglik: undefined (...)"``."""
    groups: dict = {}
    for metric, (status, reason) in notes.items():
        groups.setdefault((status, reason), []).append(metric)
    return "; ".join(f"{', '.join(ms)}: {status} ({reason.replace('; ', ', ')})" for (status, reason), ms in groups.items())


def compare(
    algorithms,
    datasets,
    metrics=None,
    seeds=(0,),
    executor=None,
    cache_dir=None,
    progress: bool = False,
    *,
    n_jobs: int | None = None,
    only: Mapping | None = None,
    n_bootstrap: int = 0,
    cv_folds: int = 5,
) -> pd.DataFrame:
    """Run every algorithm on every dataset it applies to, for every seed, and score it.

    ``tabulate(plan, run_tasks(plan.tasks, executor, progress, n_jobs=n_jobs))`` with
    ``plan = build_tasks(algorithms, datasets, metrics, seeds, cache_dir, only=only, n_bootstrap=n_bootstrap,
    cv_folds=cv_folds)``:
    see :func:`build_tasks`, :func:`run_tasks` and :func:`tabulate` to run the phases
    one by one (say, to inspect or filter the runs before they go to a cluster).

    Parameters
    ----------
    algorithms : mapping name -> estimator or factory
        An unfitted estimator (cloned for each run; a ``random_state`` parameter is set
        to the run's seed) or a callable ``seed -> estimator``. Which datasets it
        applies to, how ``fit`` is called and how it is scored comes from
        :func:`capability_of` (see :data:`CAPABILITIES`, :func:`register_algorithm`).
    datasets : mapping name -> scm.Dataset, DataFrame or factory, or a list of them
        A :class:`scm.Dataset` (the same data for every seed) or a callable
        ``seed -> Dataset`` (fresh simulated data per seed). A list is named by
        ``Dataset.name``. A DataFrame is observational data with no known truth; for
        multi-environment data or a time series without a truth, pass
        ``scm.Dataset(frame, kind="multi_environment", environment=column)`` or
        ``scm.Dataset(frame, kind="time_series")`` (rows in time order).
    metrics : None, list of str or mapping name -> callable, optional
        ``None``: every metric in :data:`METRIC_NAMES` that applies and, when a dataset
        has no true graph, every truth-free metric
        (:data:`~discovery.evaluation._truthfree.TRUTH_FREE_METRICS`). A list keeps those
        columns. A mapping adds ``fn(truth, graph) -> float`` columns (``graph`` a
        :class:`scm.PDAG` or :class:`scm.LaggedGraph`; must be picklable for a process
        pool or a cluster).
    seeds : iterable of int
        One run per seed.
    executor : concurrent.futures.Executor, "sequential" or None
        Where runs go. ``None``: a local process pool ("spawn" start method) with
        ``n_jobs`` workers, or the calling process when that is one worker or one run.
        For a Dask cluster pass ``distributed.Client(...).get_executor()``.
    cache_dir : str or path, optional
        Store each successful run as ``<algorithm>__<dataset>__<seed>__<hash>.json``;
        the hash covers the estimator's class and parameters, the seed, the data and the
        truth, so a changed setting reruns and an unchanged one is read back (resume).
        Errors are not cached: they are retried next time. A file whose checksum fails
        (edited) or that holds another run's result is recomputed, with a warning.
    progress : bool
        Show a tqdm progress bar over runs (on stderr).
    n_jobs : int, optional
        Worker processes of the default pool (``None`` or -1: all cores; 1: in-process).
    only : mapping algorithm -> list of dataset names, optional
        Restrict an algorithm to some datasets (on top of its capabilities), e.g. a slow
        kernel method to the small datasets.
    n_bootstrap : int >= 0, default 0
        Bootstrap resamples per run behind the ``stability`` column
        (:func:`discovery.bootstrap`: the run's estimator refitted on resampled data; 0: no
        column). Each resample is a fit: the run takes ``n_bootstrap + 1`` times as long.
    cv_folds : int >= 2, default 5
        Folds of the ``heldout_loglik`` score (:func:`heldout_loglik`; seeded by the run's seed,
        so every algorithm on a dataset is scored on the same folds).

    Returns
    -------
    pandas.DataFrame
        One row per run, in the order algorithms x datasets x seeds: ``algorithm``,
        ``dataset``, ``seed``, the metrics, ``fit_seconds``, ``status`` (``"ok"`` or
        ``"error"``), ``error`` (one line; empty when ok), ``warnings`` (those the fit
        raised) and ``cached``. ``results.attrs`` holds ``"graphs"`` (``(algorithm,
        dataset, seed) -> learned graph``), ``"truths"`` (``dataset -> true graph`` of
        the first seed) and ``"changed_nodes"`` for :func:`write_report`; these are
        read-only mappings shared by every copy of the table. ``"notes"`` maps each run to
        ``metric -> (status, reason)`` for the metrics it has no value in: ``"not applicable"``
        (the metric does not apply to the run: no true graph, no edge probabilities, not a
        time series, ...) or ``"undefined"`` (it applies, but this output has none: the SID of
        a graph with ``<->`` edges, the held-out likelihood of a graph that is no DAG model).

        **Without a truth.** When a dataset has no true graph, the metrics that need one are
        absent (not applicable: NaN with a note when other datasets have a truth), and the
        table reports instead, per run: ``n_edges``, ``n_directed``, ``n_undirected``,
        ``n_bidirected`` (:func:`edge_counts`; time series add ``n_lagged`` and
        ``n_contemporaneous``); ``stability`` (with ``n_bootstrap``); ``mean_shd_to_others``,
        the mean SHD between its graph and those of the other algorithms on the same data;
        ``heldout_loglik`` and ``heldout_loglik_se`` (:func:`heldout_loglik`: the
        cross-validated log-likelihood per row of a linear-Gaussian SCM fitted on the graph,
        higher predicts better); and a ``notes`` column spelling out ``attrs["notes"]``.
        ``attrs`` then also holds ``"agreement"`` (``(dataset, seed) ->`` the SHD matrix
        between the algorithms, :func:`agreement_matrix`), ``"consensus"`` (``(dataset,
        seed) ->`` the graph of the edges most algorithms found, :func:`consensus_graph`),
        ``"edge_frequencies"`` (:func:`edge_frequencies`) and ``"bootstrap_consensus"``
        (``(algorithm, dataset, seed) ->`` the consensus of its resamples). Datasets with a
        truth get the same table as before, truth-free columns aside.

    Raises
    ------
    ParameterError
        Bad arguments, or no algorithm applies to any dataset.

    Examples
    --------
    >>> import scm
    >>> from discovery import PC, NOTEARS, compare
    >>> ds = scm.simulate.simulate(n_nodes=5, n_samples=300, random_state=0)
    >>> res = compare({"pc": PC(), "notears": NOTEARS()}, {"er5": ds}, executor="sequential")
    >>> res[["algorithm", "dataset", "seed", "status"]]
      algorithm dataset  seed status
    0        pc     er5     0     ok
    1   notears     er5     0     ok
    """
    plan = build_tasks(algorithms, datasets, metrics, seeds, cache_dir, only=only, n_bootstrap=n_bootstrap, cv_folds=cv_folds)
    results = run_tasks(plan.tasks, executor, progress, n_jobs=n_jobs)
    return tabulate(plan, results)


class GraphStore(Mapping):
    """A read-only mapping kept in ``results.attrs``: pandas deep-copies ``attrs`` on
    every operation, and graphs are immutable, so copies share this one store."""

    def __init__(self, items=()):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __deepcopy__(self, memo):
        return self

    def __eq__(self, other) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"GraphStore({len(self._items)} graphs)"


def check_results(results, columns, *, owner: str) -> pd.DataFrame:
    """The results table of :func:`compare` as ``owner`` reads it: the one check of :func:`summarise`,
    :func:`~discovery.evaluation.plot_comparison` and :func:`~discovery.evaluation.write_report`.

    Parameters
    ----------
    results
        The argument.
    columns : iterable of str
        The columns ``owner`` reads.
    owner : str
        The function, for the messages.

    Returns
    -------
    pandas.DataFrame
        ``results`` itself (its ``attrs`` kept).

    Raises
    ------
    DataError
        If ``results`` is not a DataFrame (a dict of columns, say), or names a column twice
        (the duplicated names are listed: pandas would read them as a frame, not a column).
    ParameterError
        Naming the columns of ``columns`` that ``results`` lacks.

    Examples
    --------
    >>> table = pd.DataFrame([[1.0, 2.0]], columns=["shd", "shd"])
    >>> check_results(table, ["shd"], owner="summarise")
    Traceback (most recent call last):
    ...
    scm._exceptions.DataError: results has duplicated column names: ['shd']
    """
    if not isinstance(results, pd.DataFrame):
        raise DataError(f"{owner} expects the results table of compare() (a pandas DataFrame) as 'results'; got "
                        f"{type(results).__name__}")
    results = as_dataframe(results, name="results")  # duplicated column names are a DataError naming them
    missing = [c for c in columns if c not in results.columns]
    if missing:
        raise ParameterError(f"{owner}: results have no column(s) {missing}; columns: {list(results.columns)}")
    return results


def summarise(results: pd.DataFrame, metric: str = "shd") -> pd.DataFrame:
    """Mean and standard deviation of ``metric`` over seeds: one row per (dataset, algorithm).

    Parameters
    ----------
    results : DataFrame
        The table of :func:`compare` (failed runs are left out).
    metric : str, default "shd"
        A column of ``results``.

    Returns
    -------
    DataFrame
        ``dataset``, ``algorithm``, ``mean``, ``std`` and ``n`` (the runs averaged).

    Raises
    ------
    DataError
        If ``results`` is not a DataFrame or names a column twice (see :func:`check_results`).
    ParameterError
        If ``results`` lacks ``metric``, ``dataset`` or ``algorithm`` (named).

    Examples
    --------
    >>> results = pd.DataFrame({"dataset": ["d"] * 3, "algorithm": ["pc"] * 3, "seed": [0, 1, 2],
    ...                         "status": ["ok", "ok", "error"], "shd": [2.0, 4.0, np.nan]})
    >>> summarise(results)
      dataset algorithm  mean       std  n
    0       d        pc   3.0  1.414214  2
    """
    results = check_results(results, ["dataset", "algorithm", metric], owner="summarise")
    ok = results[results["status"] == "ok"] if "status" in results else results
    g = ok.groupby(["dataset", "algorithm"], sort=False)[metric]
    out = pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.count()}).reset_index()
    return out
