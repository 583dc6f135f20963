"""Bootstrap stability: how often each edge of a learned graph comes back when the data are resampled.

On real data nobody knows the true graph, so a learned edge needs an uncertainty of its
own. :func:`bootstrap` refits an estimator on ``n_resamples`` resamples of the data and
counts, for every edge, the share of the fits that found it::

    res = bootstrap(PC(), data, n_resamples=100, random_state=0)
    res.edges                 # source, target, kind, lag, count, frequency
    res.consensus(0.5)        # the pairs found in at least half of the fits, each with its usual mark
    res.stability()           # one number: how much the fits agree

The resampling follows the data (``resampling="auto"``): rows with replacement for an
i.i.d. table, rows within each environment for multi-environment data (every environment
keeps its size), a moving-block bootstrap for a time series (blocks of ``block_length``
consecutive rows, about ``n ** (1 / 3)`` by default, so that the dependence within a block
survives). How the estimator is fitted on a resample is what the comparison harness does
(:func:`discovery.evaluation.capability_of`, one dispatch for both).

Resamples go to an executor, as the runs of :func:`discovery.compare` do; a Fisher-z search
(PC, CD-NOD with ``ci_test="fisherz"``) runs in-process in lock-step by default
(:class:`discovery.citest.LockStep`): the resampled searches share their kernel calls, with
the graphs of separate fits.

The phases: :func:`_plan` (inputs checked, what to fit and how to resample:
:func:`_frame_and_environment`, :func:`_scheme`),
:func:`_resample_rows` (the rows of every resample, from seeds spawned from ``random_state``),
:func:`_run` (the fits, on the executor), :func:`_count_edges` (the tables).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import logging
import math
import warnings
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from scm import PDAG, Dataset, LaggedGraph
from scm._exceptions import DataError, ParameterError, UnknownNodeError
from scm._validation import check_in_range, check_numeric_frame, check_option, check_random_state

from .._base import is_ci_test
from .._utils import progress_bar
from ._compare import Capability, _instantiate, _one_line, _pack, _resolve_executor, _unpack, as_graph_object, capability_of, fit_as

__all__ = ["bootstrap", "BootstrapResult", "RESAMPLINGS"]

logger = logging.getLogger(__name__)

#: The resampling schemes (``"auto"`` picks one from the estimator and the data).
RESAMPLINGS = ("auto", "rows", "stratified", "block", "groups")
#: Most resamples a call may ask for.
MAX_RESAMPLES = 100_000
EDGE_KINDS = ("directed", "undirected", "bidirected")
_EXECUTORS = ("sequential", "batched")
_STACK_BYTES = 2**27  # the lock-step path's stack of correlation matrices, at most (128 MB)


# --------------------------------------------------------------------------- the result
class BootstrapResult:
    """The edges of a graph learned on each of ``n_resamples`` resamples, counted (see :func:`bootstrap`).

    Attributes
    ----------
    edges : pandas.DataFrame
        One row per edge found in at least one resample: ``source``, ``target``, ``kind``
        (``"directed"`` for ``source -> target``; ``"undirected"`` and ``"bidirected"``
        with ``source`` before ``target`` in the node order), ``lag`` (0 for a graph
        without time; a lagged link is ``source(t - lag) -> target(t)``), ``count`` (the
        resamples whose graph has the edge) and ``frequency`` (``count`` over the
        successful resamples). A contemporaneous link whose orientations conflict in a
        lagged graph (``x-x``) is counted as ``"bidirected"``, the mark PC gives a conflict.
        Sorted by decreasing count, then by node order.
    adjacencies : pandas.DataFrame
        One row per adjacency found at least once, whatever its mark: ``source``,
        ``target`` (node order; for a lagged link its direction), ``lag``, ``count``,
        ``frequency``.
    graphs : list
        The graph learned on each resample (:class:`scm.PDAG` or :class:`scm.LaggedGraph`),
        ``None`` for a resample whose fit failed.
    failures : dict
        ``resample index -> "ErrorType: first line of the message"`` of the fits that raised.
    n_resamples : int
        Resamples drawn.
    n_successes : int
        Resamples whose fit succeeded: the denominator of every frequency.
    nodes : tuple
        The nodes of the graphs.
    resampling : str
        The scheme used: ``"rows"``, ``"stratified"`` or ``"block"``.
    block_length : int or None
        The block length of ``"block"`` resampling.
    executor : str
        Where the fits ran: ``"batched"`` (in-process, in lock-step), ``"sequential"``
        (in-process) or the executor's class name.
    """

    def __init__(self, graphs, failures, *, nodes, resampling, block_length=None, executor="sequential"):
        self.graphs = list(graphs)
        self.failures = dict(failures)
        self.n_resamples = len(self.graphs)
        self.n_successes = self.n_resamples - len(self.failures)
        self.nodes = tuple(nodes)
        self.resampling = resampling
        self.block_length = block_length
        self.executor = executor
        self.edges, self.adjacencies = _count_edges(self.graphs, self.nodes)
        self._lagged = any(isinstance(g, LaggedGraph) for g in self.graphs)
        self._tau_max = max((g.tau_max for g in self.graphs if isinstance(g, LaggedGraph)), default=0)

    def consensus(self, threshold: float = 0.5):
        """The graph of the pairs adjacent in at least ``threshold`` of the resamples.

        Each kept pair gets its most frequent mark: ``a -> b``, ``b -> a``, ``a - b`` or
        ``a <-> b`` (for a lagged link, its direction in time); when two or more marks tie
        for the most, ``a - b``. The result is not checked for acyclicity: majority marks
        of different pairs can close a directed cycle.

        Parameters
        ----------
        threshold : float, default 0.5
            In (0, 1]: the least adjacency frequency of a kept pair.

        Returns
        -------
        scm.PDAG or scm.LaggedGraph
            A lagged graph when the estimator learns lagged graphs.

        Raises
        ------
        ParameterError
            ``threshold`` outside (0, 1].

        Examples
        --------
        >>> res = BootstrapResult([PDAG("ABC", directed=[("A", "B")]), PDAG("ABC", undirected=[("A", "B")]),
        ...                        PDAG("ABC", directed=[("A", "B"), ("C", "B")])], {}, nodes="ABC", resampling="rows")
        >>> res.consensus(0.5)
        PDAG(nodes=['A', 'B', 'C'], edges=['A -> B'])
        >>> res.consensus(0.3)
        PDAG(nodes=['A', 'B', 'C'], edges=['A -> B', 'C -> B'])
        """
        check_in_range(threshold, name="threshold", low=0, high=1, inclusive="right", owner="BootstrapResult.consensus")
        keep = self.adjacencies[self.adjacencies["frequency"] >= threshold]
        marks = {"directed": [], "undirected": [], "bidirected": []}
        by_pair = {}
        for row in self.edges.itertuples(index=False):
            key = _adjacency_key(row.source, row.target, row.lag, self._position)
            by_pair.setdefault(key, []).append(row)
        for row in keep.itertuples(index=False):
            rows = by_pair[(row.source, row.target, row.lag)]
            top = max(r.count for r in rows)
            best = [r for r in rows if r.count == top]
            if len(best) > 1:
                marks["undirected"].append((row.source, row.target))
            else:
                r = best[0]
                marks[r.kind].append((r.source, r.target, r.lag) if r.kind == "directed" else (r.source, r.target))
        if self._lagged:
            return LaggedGraph(self.nodes, directed=marks["directed"], undirected=marks["undirected"],
                               conflicting=marks["bidirected"], tau_max=self._tau_max)
        return PDAG(self.nodes, [e[:2] for e in marks["directed"]], marks["undirected"], marks["bidirected"])

    def stability(self) -> float:
        """How much the resamples agree on the adjacencies: one number in [0.5, 1].

        The mean, over the pairs adjacent in at least one resample, of ``max(f, 1 - f)``
        with ``f`` the pair's adjacency frequency: the average share of the resamples that
        agree with the majority on whether a pair is adjacent. 1 when every resample has
        the same skeleton (also when none has an edge); 0.5 when every pair is a coin flip.
        Orientations do not enter (see :attr:`edges` for them).

        Examples
        --------
        >>> res = BootstrapResult([PDAG("AB", directed=[("A", "B")]), PDAG("AB", undirected=[("A", "B")]), PDAG("AB")],
        ...                       {}, nodes="AB", resampling="rows")
        >>> round(res.stability(), 3)
        0.667
        """
        f = self.adjacencies["frequency"].to_numpy(dtype=float)
        return float(np.mean(np.maximum(f, 1.0 - f))) if f.size else 1.0

    @property
    def _position(self) -> dict:
        return {n: i for i, n in enumerate(self.nodes)}

    def __repr__(self) -> str:
        return (f"BootstrapResult(n_resamples={self.n_resamples}, failures={len(self.failures)}, "
                f"resampling={self.resampling!r}, edges={len(self.edges)}, stability={self.stability():.3f})")


def _adjacency_key(source, target, lag: int, position: dict) -> tuple:
    """A pair's key: a lagged link keeps its direction, a contemporaneous pair is put in node order."""
    if lag == 0 and position[source] > position[target]:
        source, target = target, source
    return source, target, int(lag)


def _graph_edges(graph) -> list[tuple]:
    """``(source, target, kind, lag)`` of every edge; undirected and bidirected ones in node order."""
    if isinstance(graph, LaggedGraph):
        return [(s, t, "bidirected" if kind == "conflict" else kind, int(lag)) for s, t, lag, kind in graph.edges()]
    return [(a, b, kind, 0) for a, b, kind in graph.edges()]


def _count_edges(graphs, nodes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``edges`` and ``adjacencies`` tables of :class:`BootstrapResult`."""
    position = {n: i for i, n in enumerate(nodes)}
    edges, pairs = Counter(), Counter()
    for g in graphs:
        if g is None:
            continue
        found = _graph_edges(g)
        edges.update(found)
        pairs.update({_adjacency_key(s, t, lag, position) for s, t, _, lag in found})
    n = sum(g is not None for g in graphs)

    def edge_order(item):
        (s, t, kind, lag), count = item
        return -count, position[s], position[t], lag, EDGE_KINDS.index(kind)

    def pair_order(item):
        (s, t, lag), count = item
        return -count, position[s], position[t], lag

    rows = [(*key, count) for key, count in sorted(edges.items(), key=edge_order)]
    edge_table = pd.DataFrame(rows, columns=["source", "target", "kind", "lag", "count"])
    rows = [(*key, count) for key, count in sorted(pairs.items(), key=pair_order)]
    adj_table = pd.DataFrame(rows, columns=["source", "target", "lag", "count"])
    for table in (edge_table, adj_table):
        table["lag"] = table["lag"].astype(int)
        table["count"] = table["count"].astype(int)
        table["frequency"] = table["count"] / n if n else np.nan
    return edge_table, adj_table


# --------------------------------------------------------------------------- phase 1: the plan
@dataclasses.dataclass(frozen=True)
class _Plan:
    """What :func:`bootstrap` fits and how it resamples (made by :func:`_plan`)."""

    estimator: Any
    capability: Capability
    data: pd.DataFrame
    environment: str | None
    fit_params: dict
    resampling: str
    block_length: int | None
    strata: np.ndarray | None


def _plan(estimator, data, resampling, block_length, fit_params) -> _Plan:
    """Check the inputs of :func:`bootstrap` and decide what to fit and how to resample."""
    if not hasattr(estimator, "fit"):
        raise ParameterError(f"The 'estimator' parameter of bootstrap must have a 'fit' method; got {type(estimator).__name__}.")
    ci_test = estimator.get_params().get("ci_test") if hasattr(estimator, "get_params") else None
    if is_ci_test(ci_test) and getattr(ci_test, "n_samples", None) is not None:
        raise ParameterError(
            f"The CI test of {type(estimator).__name__} ({type(ci_test).__name__}) is built on the full data: every resample "
            f"would test the same data. Pass its name (ci_test={getattr(ci_test, 'name', '') or '...'!r}) so that each "
            "resample gets its own test."
        )
    check_option(resampling, RESAMPLINGS, name="resampling", owner="bootstrap")
    if fit_params is not None and not isinstance(fit_params, dict):
        raise ParameterError(f"The 'fit_params' parameter of bootstrap must be a dict or None; got {type(fit_params).__name__}.")
    cap = capability_of(estimator)
    frame, environment, kind, fit_params = _frame_and_environment(type(estimator).__name__, cap, data, dict(fit_params or {}))
    resampling, block_length, strata = _scheme(resampling, block_length, frame, environment, kind, cap)
    return _Plan(estimator, cap, frame, environment, fit_params, resampling, block_length, strata)


def _frame_and_environment(name: str, cap: Capability, data, fit_params: dict) -> tuple:
    """``(frame, environment column or None, Dataset kind or None, fit_params without the column)``, checked."""
    kind, environment = None, None
    if isinstance(data, Dataset):
        kind, environment, frame = data.kind, data.environment, data.data
        if kind not in cap.kinds:
            raise ParameterError(f"{name} does not apply to {kind} data (it applies to {sorted(cap.kinds)}).")
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise DataError(f"The 'data' of bootstrap must be a pandas DataFrame or an scm.Dataset; got {type(data).__name__}.")
    key = {"context": "context", "environment": "environment", "groups": "groups"}.get(cap.fit)
    if key is not None and key in fit_params:
        given = fit_params.pop(key)
        if not isinstance(given, str):
            raise ParameterError(f"fit_params[{key!r}] of bootstrap must name a column of the data (resampled with the rows); "
                                 f"got {type(given).__name__}.")
        if environment is not None and given != environment:
            raise ParameterError(f"fit_params[{key!r}]={given!r} differs from the dataset's environment column {environment!r}.")
        environment = given
    if key is not None and environment is None:
        raise ParameterError(f"{name} is fitted with a {key} column: pass an scm.Dataset with an environment column, or "
                             f"fit_params={{{key!r}: <column name>}}.")
    if environment is not None and environment not in frame.columns:
        raise UnknownNodeError(f"the {key or 'environment'} column {environment!r} is not a column of the data "
                               f"(columns: {list(map(str, frame.columns))[:10]})")
    check_numeric_frame(frame[[c for c in frame.columns if c != environment]], name="data", min_rows=1)  # NaN, inf, types
    return frame, environment, kind, fit_params


def _scheme(resampling: str, block_length, frame: pd.DataFrame, environment, kind, cap: Capability) -> tuple:
    """``(resampling, block_length, strata)``: ``"auto"`` resolved (see :func:`bootstrap`), the block length checked."""
    n = len(frame)
    strata = None
    if environment is not None:
        _, strata = np.unique(frame[environment].to_numpy(), return_inverse=True)
    singletons = strata is not None and np.bincount(strata).min() < 2
    if resampling == "auto":
        if cap.fit == "series" or kind == "time_series":
            resampling = "block"
        elif strata is not None and (kind == "grouped" or cap.fit == "groups"):
            resampling = "groups"
        elif strata is not None and kind != "nonstationary" and not singletons:
            resampling = "stratified"
        else:
            resampling = "rows"
            if singletons:
                logger.info("bootstrap: the column %r has values on one row only (a time index?): rows are resampled "
                            "with their value", environment)
    if resampling in ("stratified", "groups"):
        if strata is None:
            raise ParameterError(f"resampling={resampling!r} needs an environment column: an scm.Dataset with one, or "
                                 "fit_params={'context': <column>} for a context estimator.")
    if resampling == "stratified":
        if singletons:
            warnings.warn(f"bootstrap: some values of {environment!r} have one row only; stratified resampling keeps "
                          "those rows as they are", UserWarning, stacklevel=4)
    if resampling == "block":
        if block_length is None:
            block_length = max(1, math.ceil(n ** (1 / 3)))
        check_in_range(block_length, name="block_length", low=1, high=max(n, 1), inclusive="both", integer=True,
                       owner="bootstrap")
        block_length = int(block_length)
    elif block_length is not None:
        raise ParameterError(f"The 'block_length' parameter of bootstrap applies to resampling='block' only; the resampling "
                             f"is {resampling!r}.")
    return resampling, block_length, strata if resampling in ("stratified", "groups") else None


# --------------------------------------------------------------------------- phase 2: the rows
def _seed_sequence(random_state) -> np.random.SeedSequence:
    """The root of the resamples' seeds: from an int, a SeedSequence, a Generator (one draw) or fresh entropy."""
    check_random_state(random_state)  # the named error for a bad value
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(0, 2**31 - 1)))
    return np.random.SeedSequence(None if random_state is None else int(random_state))


def _resample_rows(n_rows: int, resampling: str, rng: np.random.Generator, *, strata=None, block_length=None) -> np.ndarray:
    """The row positions of one resample.

    ``"rows"``: ``n_rows`` draws with replacement, in row order. ``"stratified"``: as many
    draws within each stratum as it has rows, in row order. ``"groups"``: as many strata
    (groups) drawn with replacement as there are, each with all its rows, returned with the
    new group label of every row (a group drawn twice is two groups). ``"block"``: blocks of
    ``block_length`` consecutive rows starting at uniform positions, concatenated and cut
    to ``n_rows`` (Kunsch's moving-block bootstrap; the order within a block is kept).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> _resample_rows(6, "stratified", rng, strata=np.array([0, 0, 0, 1, 1, 1]))
    array([1, 1, 2, 3, 3, 3])
    >>> _resample_rows(7, "block", np.random.default_rng(2), block_length=3)
    array([4, 5, 6, 1, 2, 3, 0])
    >>> rows, labels = _resample_rows(4, "groups", np.random.default_rng(0), strata=np.array([0, 0, 1, 1]))
    >>> rows.tolist(), labels.tolist()
    ([2, 3, 2, 3], [0, 0, 1, 1])
    """
    if resampling == "block":
        starts = rng.integers(0, n_rows - block_length + 1, size=-(-n_rows // block_length))
        return (starts[:, None] + np.arange(block_length)[None, :]).ravel()[:n_rows]
    if resampling == "groups":
        members = [np.flatnonzero(strata == s) for s in range(int(strata.max()) + 1)]
        drawn = rng.integers(0, len(members), size=len(members))
        rows = np.concatenate([members[g] for g in drawn])
        return rows, np.repeat(np.arange(len(drawn)), [len(members[g]) for g in drawn])
    if resampling == "stratified":
        rows = [rng.choice(members, size=len(members), replace=True)
                for members in (np.flatnonzero(strata == s) for s in range(int(strata.max()) + 1))]
        return np.sort(np.concatenate(rows))
    return np.sort(rng.integers(0, n_rows, size=n_rows))


def _draw(plan: _Plan, n_resamples: int, random_state) -> tuple[list[np.ndarray], list[int]]:
    """The rows and the estimator seed of every resample, from seeds spawned from ``random_state``."""
    rows, seeds = [], []
    for child in _seed_sequence(random_state).spawn(n_resamples):
        row_seq, fit_seq = child.spawn(2)
        rng = np.random.default_rng(row_seq)
        rows.append(_resample_rows(len(plan.data), plan.resampling, rng, strata=plan.strata, block_length=plan.block_length))
        seeds.append(int(fit_seq.generate_state(1, np.uint32)[0] >> 1))  # 31 bits: any random_state takes it
    return rows, seeds


# --------------------------------------------------------------------------- phase 3: the fits
def _fit_resample(estimator, capability: Capability, data: pd.DataFrame, environment, fit_params: dict, rows) -> tuple:
    """Fit one resample: ``(packed graph, None)``, or ``(None, "Error: message")`` when the fit raises.

    ``rows`` is an array of row positions, or for ``"groups"`` resampling ``(rows, new group labels)``.
    """
    labels = None
    if isinstance(rows, tuple):
        rows, labels = rows
    frame = data.iloc[rows].reset_index(drop=True)
    if labels is not None:
        frame[environment] = labels
    try:
        est = fit_as(capability, estimator, frame, environment, fit_params)
        return _pack(as_graph_object(est.graph_)), None
    except Exception as exc:  # a failed resample is counted, not raised
        return None, _one_line(exc)


def _batchable(estimator) -> bool:
    """Whether the estimator's CI test is Fisher-z by name (its kernel calls can be pooled)."""
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    return params.get("ci_test") == "fisherz"


def _run(plan: _Plan, rows, seeds, executor, n_jobs, progress: bool) -> tuple[list, str]:
    """Every resample's ``(packed graph or None, error or None)``, and where they ran."""
    from ..citest import LockStep

    n = len(rows)
    jobs = 1 if n_jobs is None else n_jobs  # unlike compare, no pool unless asked for
    pool, owned = _resolve_executor(executor, jobs, n, owner="bootstrap", strings=_EXECUTORS)
    if pool is not None:
        mode = type(pool).__name__
    elif executor == "batched" or (executor is None and _batchable(plan.estimator)):
        mode = "batched"
    else:
        mode = "sequential"
    if mode == "batched" and not _batchable(plan.estimator):
        params = plan.estimator.get_params() if hasattr(plan.estimator, "get_params") else {}
        raise ParameterError(f"executor='batched' pools Fisher-z kernel calls: it needs ci_test='fisherz' (PC, CD-NOD); "
                             f"{type(plan.estimator).__name__} has ci_test={params.get('ci_test')!r}.")
    estimators = [_instantiate("estimator", plan.estimator, seed) for seed in seeds]
    args = [(est, plan.capability, plan.data, plan.environment, plan.fit_params, r) for est, r in zip(estimators, rows)]
    bar = progress_bar(progress, total=n, desc="bootstrap", unit="resample")
    try:
        if pool is None and mode == "batched":
            def one(a):
                out = _fit_resample(*a)
                bar.update()
                return out

            d = plan.data.shape[1] + 1  # the variables (and a context node)
            threads = max(1, min(64, _STACK_BYTES // (8 * d * d)))  # the stacked correlation matrices stay small
            results = [r for r, _ in LockStep(max_threads=threads).map(one, args)]
        elif pool is None:
            results = []
            for a in args:
                results.append(_fit_resample(*a))
                bar.update()
        else:
            futures = {pool.submit(_fit_resample, *a): i for i, a in enumerate(args)}
            results = [None] * n
            for fut in cf.as_completed(futures):
                try:
                    results[futures[fut]] = fut.result()
                except Exception as exc:  # the worker died, or the task did not pickle
                    results[futures[fut]] = (None, _one_line(exc))
                bar.update()
    finally:
        bar.close()
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)
    return results, mode


# --------------------------------------------------------------------------- the function
def bootstrap(
    estimator,
    data,
    *,
    n_resamples: int = 100,
    random_state=None,
    executor=None,
    n_jobs: int | None = None,
    progress: bool = False,
    resampling: str = "auto",
    block_length: int | None = None,
    fit_params: dict | None = None,
) -> BootstrapResult:
    """Refit ``estimator`` on resamples of ``data`` and count how often each edge comes back.

    Parameters
    ----------
    estimator : estimator
        Any estimator the comparison harness knows (:func:`discovery.evaluation.capability_of`
        says how it is fitted: on the variables, with a context or environment column, or on
        a time series); cloned for each resample, its ``random_state`` (if it has one) set to
        the resample's seed. A CI test given as an instance built on data is refused (it
        would test the full data every time): give it by name.
    data : pandas.DataFrame or scm.Dataset
        The data. A Dataset brings its environment column and its kind (``"time_series"``,
        ``"multi_environment"``, ...); with a DataFrame, a context or environment estimator
        (CD-NOD, ICPGraph) names its column in ``fit_params`` (``{"context": "site"}``).
    n_resamples : int, default 100
        Resamples drawn (at most 100000).
    random_state : int, numpy Generator, SeedSequence or None
        The root of the seeds: resample ``i`` draws its rows and its estimator seed from the
        ``i``-th child of ``numpy.random.SeedSequence(random_state)``, so the result is the
        same on every executor and in every order. ``None``: fresh entropy.
    executor : None, "sequential", "batched" or concurrent.futures.Executor
        Where the fits run. ``None``: in this process, in lock-step (``"batched"``) when the
        estimator's CI test is Fisher-z, else one after the other (``"sequential"``); with
        ``n_jobs`` > 1 a local process pool. ``"batched"``: the resampled searches in
        lock-step, one thread each, their Fisher-z kernel calls pooled
        (:class:`discovery.citest.LockStep`; the same graphs as separate fits). An Executor
        (a process pool; a Dask cluster's ``distributed.Client(...).get_executor()``)
        gets one task per resample.
    n_jobs : int, optional
        With ``executor=None``: worker processes of a local pool ("spawn" start method; -1:
        all cores). ``None`` or 1: in this process.
    progress : bool, default False
        A tqdm progress bar over the resamples.
    resampling : {"auto", "rows", "stratified", "block", "groups"}, default "auto"
        ``"rows"``: rows drawn with replacement. ``"stratified"``: rows drawn with replacement
        within each value of the environment / context column (each keeps its number of
        rows). ``"block"``: moving-block bootstrap of a time series. ``"auto"``: ``"block"``
        for a time-series estimator or dataset; ``"stratified"`` when there is an environment
        column whose every value has two rows or more (not for a ``"nonstationary"``
        Dataset, whose column is a time index); ``"groups"`` for a ``"grouped"`` Dataset or a
        groups estimator (Causal de Finetti): whole groups drawn with replacement, a group
        drawn twice counted as two (the rows of a group are exchangeable, not independent,
        so they are resampled together); else ``"rows"``.
    block_length : int, optional
        The block length of ``"block"`` (default ``ceil(n ** (1 / 3))``); only with it.
    fit_params : dict, optional
        Passed to ``fit`` (``"context"`` / ``"environment"``: the column's name, as above).

    Returns
    -------
    BootstrapResult
        ``edges`` and ``adjacencies`` (counts and frequencies), ``consensus(threshold)``,
        ``stability()``, the ``graphs`` and the ``failures``.

    Raises
    ------
    ParameterError
        A bad parameter, an estimator that does not apply to the dataset's kind, or a
        context estimator without its column.
    DataError
        NaN, inf or non-numeric variables; or every resample failed while a fit on the data
        itself succeeds (a fit on the data that fails raises its own error).

    Warns
    -----
    UserWarning
        When some resamples failed: they are left out of every frequency
        (``failures`` has their errors).

    Notes
    -----
    The frequencies are those of the bootstrap distribution of the estimator's graph, not
    posterior probabilities: an edge that is found in 95% of the resamples can still be
    wrong when the estimator is biased (an unmeasured confounder, a misspecified test), and a
    block bootstrap joins blocks whose first ``tau_max`` rows see a false past. The
    calibration on simulated data is in docs/benchmarks.md, "Bootstrap".

    Examples
    --------
    >>> import scm
    >>> from discovery import PC
    >>> ds = scm.simulate.simulate(n_nodes=4, n_samples=300, random_state=0)
    >>> res = bootstrap(PC(), ds, n_resamples=20, random_state=0)
    >>> res.n_successes, res.resampling, res.executor
    (20, 'rows', 'batched')
    >>> res.edges.columns.tolist()
    ['source', 'target', 'kind', 'lag', 'count', 'frequency']
    >>> res.consensus(0.5) == PC().fit(ds.X).graph_
    True
    """
    check_in_range(n_resamples, name="n_resamples", low=1, high=MAX_RESAMPLES, inclusive="both", integer=True, owner="bootstrap")
    if not isinstance(progress, (bool, np.bool_)):
        raise ParameterError(f"The 'progress' parameter of bootstrap must be a bool; got {progress!r} instead.")
    plan = _plan(estimator, data, resampling, block_length, fit_params)
    rows, seeds = _draw(plan, int(n_resamples), random_state)
    logger.info("bootstrap: %d %s resamples of %d rows for %s", n_resamples, plan.resampling, len(plan.data),
                type(estimator).__name__)
    results, mode = _run(plan, rows, seeds, executor, n_jobs, progress)
    graphs = [_unpack(g) if g is not None else None for g, _ in results]
    failures = {i: err for i, (_, err) in enumerate(results) if err is not None}
    if len(failures) == len(results):
        _raise_for_data(plan, failures)
    if failures:
        first = next(iter(failures.items()))
        text = (f"bootstrap: {len(failures)} of {len(results)} resamples failed and are left out of the frequencies "
                f"(resample {first[0]}: {first[1]})")
        logger.warning(text)
        warnings.warn(text, UserWarning, stacklevel=2)
    nodes = list(dict.fromkeys(n for g in graphs if g is not None for n in g.nodes))
    return BootstrapResult(graphs, failures, nodes=nodes, resampling=plan.resampling, block_length=plan.block_length,
                           executor=mode)


def _raise_for_data(plan: _Plan, failures: dict):
    """Every resample failed: the error of a fit on the data itself, or a DataError naming the first failure."""
    est = _instantiate("estimator", plan.estimator, 0)
    fit_as(plan.capability, est, plan.data, plan.environment, plan.fit_params)  # raises the estimator's own error
    first = next(iter(failures.items()))
    raise DataError(f"every one of the {len(failures)} resamples failed, though a fit on the data succeeds "
                    f"(resample {first[0]}: {first[1]})")
