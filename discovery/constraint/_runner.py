"""The cached CI-test runner shared by the constraint-based and the time-series searches.

A search asks the same conditional-independence question many times: ``x _||_ y | S`` and
``y _||_ x | S'`` with ``S'`` a permutation of ``S`` are one test, and PC-stable, the max-p
collider rule, PCMCI's PC1 and MCI phases all come back to tests already answered. The
:class:`CIRunner` does the bookkeeping once for every search:

- **keys**: a test is ``(i, j, S)`` with integer indices, ``i < j`` and ``S`` the sorted
  tuple of distinct conditioning indices (:meth:`CIRunner.key`);
- **deduplication**: a key already answered (or repeated in one request) is not sent again;
- **batching**: every new key of one :meth:`CIRunner.run` goes to the backend in one call;
- **record**: statistic and p-value of every distinct test, in the order they were run
  (grouped by ``|S|``), as a tidy table (:meth:`CIRunner.frame`).

The computation is pluggable. A backend has ``variables`` (the label of every index) and
``compute(keys) -> (statistics, pvalues)``:

- :class:`CITestBackend` asks any :class:`discovery.citest.CITest` (its batched ``test``,
  one call per conditioning-set size, or ``pvalues`` for a test without statistics);
- the partial-correlation backend of the time-series family computes on the lagged design
  with the jitted kernels of :mod:`discovery.timeseries._kernels`
  (:class:`discovery.timeseries._pcmci._ParCorrBackend`).

PC's :func:`~discovery.constraint.skeleton` and :func:`~discovery.constraint.orient_colliders`,
CD-NOD's phases, and PCMCI / PCMCI+'s phases build a runner from the CI test they are given,
or share the one their estimator passes them (``runner=``), so one fit runs each test once.

Examples
--------
>>> import networkx as nx
>>> from discovery import DSeparation
>>> runner = CIRunner.from_ci_test(DSeparation(nx.DiGraph([("A", "B"), ("B", "C")])))
>>> keys = [runner.key(0, 2, ()), runner.key(2, 0, [1]), runner.key(0, 2, [1])]
>>> runner.run(keys)
>>> runner.n_tests, runner.pvalue(keys[1])
(2, 1.0)
>>> runner.frame()[["x", "y", "cond", "pvalue"]]
   x  y  cond  pvalue
0  A  C    ()     0.0
1  A  C  (B,)     1.0
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from scm import ParameterError

__all__ = ["CIRunner", "CITestBackend", "as_runner"]

logger = logging.getLogger(__name__)


class CITestBackend:
    """Answers index keys through a CI test with the batched interface of :class:`~discovery.citest.CITest`.

    Parameters
    ----------
    ci_test : CITest
        Anything with ``variables`` and a batched ``pvalues(queries)`` (and, if it has one,
        ``test(queries) -> (statistics, pvalues)``, preferred).
    labels : sequence, optional
        The variable of ``ci_test`` that each index stands for (default: ``ci_test.variables``,
        index ``i`` is variable ``i``). The time-series search passes the labels of the
        lagged-design columns.

    Notes
    -----
    Keys of one request are sent in one call per conditioning-set size, smallest first;
    without a ``test`` method the statistics are NaN. A :class:`~discovery.citest.CITest`
    whose ``test`` is the base class's (every test of :mod:`discovery.citest`) and whose
    indices are its own columns is also asked by :meth:`compute_arrays`, with integer
    arrays: no tuples, names or parsing per query.
    """

    def __init__(self, ci_test, labels=None):
        if not hasattr(ci_test, "pvalues") or not hasattr(ci_test, "variables"):
            raise ParameterError(
                "The 'ci_test' parameter must be a CI test with a 'variables' list and a batched "
                f"'pvalues(queries)' method; got {type(ci_test).__name__} instead."
            )
        self.ci_test = ci_test
        self.variables = list(ci_test.variables) if labels is None else list(labels)
        self._arrays = labels is None and _answers_arrays(ci_test)

    def compute(self, keys) -> tuple[np.ndarray, np.ndarray]:
        """Statistics and p-values of ``keys`` (normalised ``(i, j, S)``), in their order."""
        by_size: dict[int, list[int]] = {}
        for q, k in enumerate(keys):
            by_size.setdefault(len(k[2]), []).append(q)
        stats = np.empty(len(keys))
        pvals = np.empty(len(keys))
        lab = self.variables
        for size in sorted(by_size):
            members = by_size[size]
            queries = [(lab[keys[q][0]], lab[keys[q][1]], tuple(lab[s] for s in keys[q][2])) for q in members]
            if hasattr(self.ci_test, "test"):
                st, pv = self.ci_test.test(queries)
                st = np.asarray(st, dtype=float).reshape(-1)
            else:
                pv = self.ci_test.pvalues(queries)
                st = np.full(len(members), np.nan)
            pv = np.asarray(pv, dtype=float).reshape(-1)
            if pv.shape[0] != len(members) or st.shape[0] != len(members):
                raise ValueError(f"the CI test returned {pv.shape[0]} p-values for {len(members)} queries")
            stats[members] = st
            pvals[members] = pv
        return stats, pvals

    def compute_arrays(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Statistics and p-values of normalised index rows ``[i, j, *S]`` of one size (``i < j``, ``S`` sorted).

        The CI test's own batched evaluation of a group of equal ``|S|`` when it has one
        (see the class Notes), else :meth:`compute` on tuples.
        """
        if not self._arrays:
            return self.compute(_row_keys(rows))
        rows = np.asarray(rows, dtype=np.int64)
        return self.ci_test._test_group(rows[:, 0], rows[:, 1], rows[:, 2:])


def _answers_arrays(ci_test) -> bool:
    """Whether ``ci_test`` evaluates index arrays by ``_test_group`` exactly as its ``test`` does."""
    try:
        from ..citest import CITest
    except ImportError:  # pragma: no cover - discovery.citest is part of the package
        return False
    return isinstance(ci_test, CITest) and type(ci_test).test is CITest.test


def _row_keys(rows: np.ndarray) -> list[tuple]:
    """Index rows ``[i, j, *S]`` as the runner's tuple keys ``(i, j, S)``."""
    return [(r[0], r[1], tuple(r[2:])) for r in np.asarray(rows).tolist()]


def _pack(rows: np.ndarray, bits: int) -> np.ndarray:
    """One sortable scalar per index row: an int64 when the row fits in 63 bits, else its big-endian bytes."""
    rows = np.asarray(rows)
    if rows.shape[1] * bits <= 63:
        out = np.zeros(rows.shape[0], dtype=np.int64)
        for c in range(rows.shape[1]):
            out = (out << bits) | rows[:, c].astype(np.int64)
        return out
    return np.ascontiguousarray(rows.astype(">u4")).view(f"V{4 * rows.shape[1]}").reshape(-1)


class _Table:
    """The results of the tests of one conditioning-set size, as arrays, with a sorted index for look-ups."""

    def __init__(self, width: int, bits: int):
        self.width, self.bits = width, bits
        self.rows: list[np.ndarray] = []
        self.stats: list[np.ndarray] = []
        self.pvals: list[np.ndarray] = []
        self.size = 0
        self._index = None  # (sorted packed keys, their positions), rebuilt after an append

    def append(self, rows, stats, pvals) -> tuple[int, int]:
        start = self.size
        self.rows.append(np.asarray(rows, dtype=np.int32))
        self.stats.append(np.asarray(stats, dtype=float))
        self.pvals.append(np.asarray(pvals, dtype=float))
        self.size += len(rows)
        self._index = None
        return start, self.size

    def _column(self, parts):
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        return parts[0] if parts else np.empty(0)

    def all_rows(self) -> np.ndarray:
        return self._column(self.rows) if self.rows else np.empty((0, self.width), dtype=np.int32)

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        return self._column(self.stats), self._column(self.pvals)

    def find(self, packed) -> np.ndarray:
        """The position of every packed key in the table, ``-1`` where absent."""
        if self.size == 0:
            return np.full(len(packed), -1, dtype=np.int64)
        if self._index is None:
            keys = _pack(self.all_rows(), self.bits)
            order = np.argsort(keys, kind="stable")
            self._index = (keys[order], order)
        keys, order = self._index
        at = np.minimum(np.searchsorted(keys, packed), len(keys) - 1)
        return np.where(keys[at] == packed, order[at], -1)


@dataclasses.dataclass(eq=False)
class CIRecord:
    """Every distinct test a runner ran, as arrays; the table of :meth:`CIRunner.frame` is built on demand.

    Estimators keep this instead of the table (``pvalues_`` is built from it when read), so
    a search of a million tests does not hold a million Python tuples.

    Attributes
    ----------
    names : list
        The label of every index.
    chunks : list of tuple
        ``(rows, statistics, pvalues)`` in the order run: ``rows`` an ``(m, 2 + k)`` int array
        of tests ``[i, j, *S]``.
    """

    names: list
    chunks: list

    def __post_init__(self):
        self.names = list(self.names)
        self.chunks = list(self.chunks)

    def __len__(self) -> int:
        return sum(len(c[0]) for c in self.chunks)

    def frame(self) -> pd.DataFrame:
        """The tests as a tidy table (x, y, cond, statistic, pvalue), by labels."""
        names = np.empty(len(self.names), dtype=object)
        names[:] = self.names
        parts = []
        for rows, stats, pvals in self.chunks:
            rows = np.asarray(rows, dtype=np.int64)
            cond = [()] * len(rows) if rows.shape[1] == 2 else list(map(tuple, names[rows[:, 2:]].tolist()))
            columns = {"x": names[rows[:, 0]], "y": names[rows[:, 1]], "cond": cond}
            parts.append(pd.DataFrame(columns | {"statistic": np.asarray(stats, dtype=float), "pvalue": np.asarray(pvals, dtype=float)}))
        if not parts:
            return pd.DataFrame([], columns=["x", "y", "cond", "statistic", "pvalue"]).astype({"statistic": float, "pvalue": float})
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        for col in ("x", "y"):
            frame[col] = frame[col].astype(object)
        return frame


class _CacheView(Mapping):
    """``(i, j, S) -> (statistic, pvalue)`` of every test a runner ran (read-only, built from its tables)."""

    def __init__(self, runner):
        self._runner = runner

    def __getitem__(self, key):
        return self._runner.result(key)

    def __contains__(self, key) -> bool:
        try:
            self._runner.result(key)
        except (KeyError, TypeError, IndexError):
            return False
        return True

    def __iter__(self):
        return iter(self._runner.order)

    def __len__(self) -> int:
        return self._runner.n_tests


class CIRunner:
    """Runs CI tests through a backend, caching and recording every distinct test.

    Two ways in, one cache and one record: :meth:`run` takes tuple keys (the phases whose
    queries are few or irregular), :meth:`run_arrays` integer index rows of one
    conditioning-set size (a level of PC's skeleton: no Python object per query). A test
    run by one is answered from the cache when asked by the other.

    Parameters
    ----------
    backend : object
        ``variables`` (the label of every index) and ``compute(keys) -> (statistics,
        pvalues)`` (see the module docstring); optionally ``compute_arrays(rows)``.

    Attributes
    ----------
    backend : object
    names : list
        The label of every index (``backend.variables``).
    index : dict
        ``label -> index``.
    cache : Mapping
        ``(i, j, S) -> (statistic, pvalue)`` of every test run (read-only).
    order : list
        The keys in the order they were run (grouped by ``|S|`` within one batch); built on access.
    n_calls : int
        Batches sent to the backend.
    n_requested, n_cached : int
        Keys asked for, and those answered from the cache (repeats included).

    Examples
    --------
    >>> import networkx as nx
    >>> from discovery import DSeparation
    >>> runner = CIRunner.from_ci_test(DSeparation(nx.DiGraph([("A", "B"), ("B", "C")])))
    >>> runner.run([runner.key(0, 2, [1]), runner.key(2, 0, [1])])  # one test asked twice: run once
    >>> runner.n_tests, runner.n_cached, runner.pvalue(runner.key(0, 2, [1]))
    (1, 1, 1.0)
    >>> stats, pvals = runner.run_arrays(np.array([[0, 2, 1], [0, 1, 2]]))  # rows [i, j, *S], one |S|
    >>> pvals.tolist(), runner.n_tests, runner.n_cached
    ([1.0, 0.0], 2, 2)
    """

    def __init__(self, backend):
        self.backend = backend
        self.names = list(backend.variables)
        self.index = {n: i for i, n in enumerate(self.names)}
        self._bits = max(1, (len(self.names) - 1).bit_length())
        self._memo: dict[tuple, tuple[float, float]] = {}  # tuple keys run or looked up by run()
        self._memo_sizes: set[int] = set()  # the |S| of the tuple keys run by run()
        self._array_sizes: set[int] = set()  # the |S| of the rows run by run_arrays()
        self._tables: dict[int, _Table] = {}  # |S| -> every test of that size
        self._chunks: list[tuple[int, int, int]] = []  # (|S|, start, stop) in the tables, in the order run
        self.n_calls = 0
        self.n_requested = 0
        self.n_cached = 0
        self._frame = None

    @classmethod
    def from_ci_test(cls, ci_test, labels=None) -> CIRunner:
        """A runner over a :class:`~discovery.citest.CITest` (see :class:`CITestBackend`)."""
        return cls(CITestBackend(ci_test, labels))

    @property
    def ci_test(self):
        """The CI test of a :class:`CITestBackend` (None for other backends)."""
        return getattr(self.backend, "ci_test", None)

    @staticmethod
    def key(x: int, y: int, cond) -> tuple:
        """The cache key of a test: ``(i, j, S)`` with ``i < j`` and ``S`` sorted, distinct (indices)."""
        cond = tuple(sorted(set(cond)))
        return (x, y, cond) if x < y else (y, x, cond)

    def _table(self, k: int) -> _Table:
        table = self._tables.get(k)
        if table is None:
            table = self._tables[k] = _Table(k + 2, self._bits)
        return table

    def _store(self, k: int, rows, stats, pvals) -> None:
        start, stop = self._table(k).append(rows, stats, pvals)
        self._chunks.append((k, start, stop))

    def _compute(self, compute, n: int, *args):
        stats, pvals = compute(*args)
        stats = np.asarray(stats, dtype=float).reshape(-1)
        pvals = np.asarray(pvals, dtype=float).reshape(-1)
        if pvals.shape[0] != n or stats.shape[0] != n:
            raise ValueError(f"the CI test returned {pvals.shape[0]} p-values for {n} queries")
        return stats, pvals

    def run(self, keys) -> None:
        """Run every key (normalised by :meth:`key`) that is not cached yet, in one backend call."""
        keys = list(keys)
        memo = self._memo
        todo = list(dict.fromkeys(k for k in keys if k not in memo))
        if todo and self._array_sizes:  # answered through run_arrays: copy into the memo
            by_size: dict[int, list] = {}
            for k in todo:
                if len(k[2]) in self._array_sizes:
                    by_size.setdefault(len(k[2]), []).append(k)
            for size, group in by_size.items():
                table = self._tables.get(size)
                if table is None or table.size == 0:
                    continue
                rows = np.array([(k[0], k[1], *k[2]) for k in group], dtype=np.int64).reshape(len(group), size + 2)
                at = table.find(_pack(rows, self._bits))
                stats, pvals = table.values()
                for k, a in zip(group, at.tolist()):
                    if a >= 0:
                        memo[k] = (float(stats[a]), float(pvals[a]))
            todo = [k for k in todo if k not in memo]
        self.n_requested += len(keys)
        self.n_cached += len(keys) - len(todo)
        logger.debug("CI runner: %d queries, %d cached, %d run", len(keys), len(keys) - len(todo), len(todo))
        if not todo:
            return
        stats, pvals = self._compute(self.backend.compute, len(todo), todo)
        self.n_calls += 1
        for k, s, p in zip(todo, stats.tolist(), pvals.tolist()):
            memo[k] = (s, p)
        by_size = {}
        self._memo_sizes.update(len(k[2]) for k in todo)
        for q, k in enumerate(todo):
            by_size.setdefault(len(k[2]), []).append(q)
        for size in sorted(by_size):
            members = by_size[size]
            rows = np.array([(todo[q][0], todo[q][1], *todo[q][2]) for q in members], dtype=np.int64).reshape(-1, size + 2)
            self._store(size, rows, stats[members], pvals[members])

    def run_arrays(self, rows, *, unique: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Run index rows ``[i, j, *S]`` of one conditioning-set size; return the statistics and p-values of every row.

        Parameters
        ----------
        rows : int array of shape (m, 2 + k)
            Each row a test ``x _||_ y | S`` by indices; rows are normalised here (``i < j``,
            ``S`` sorted; ``S`` must not repeat an index nor hold ``i`` or ``j``).
        unique : bool, default False
            The caller guarantees that no two rows are the same test (skips the deduplication).

        Returns
        -------
        statistics, pvalues : numpy.ndarray of shape (m,)
            Rows already run (by either method) come from the cache; the others go to the
            backend in one call.
        """
        rows = np.array(rows, dtype=np.int64, ndmin=2)
        m, width = rows.shape
        k = width - 2
        if m == 0:
            return np.empty(0), np.empty(0)
        if k > 1:
            rows[:, 2:] = np.sort(rows[:, 2:], axis=1)
        swap = rows[:, 0] > rows[:, 1]
        rows[swap, 0], rows[swap, 1] = rows[swap, 1], rows[swap, 0]
        packed = _pack(rows, self._bits)
        if unique:
            first, inverse = np.arange(m), np.arange(m)
        else:
            _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
            keep = np.sort(first)  # first occurrences, in the order asked
            inverse = np.searchsorted(keep, first[inverse])
            first = keep
        distinct, dpacked = rows[first], packed[first]
        table = self._table(k)
        at = table.find(dpacked)
        stats = np.full(len(distinct), np.nan)
        pvals = np.full(len(distinct), np.nan)
        hit = at >= 0
        if hit.any():
            old_stats, old_pvals = table.values()
            stats[hit], pvals[hit] = old_stats[at[hit]], old_pvals[at[hit]]
        new = ~hit
        if new.any() and k in self._memo_sizes:  # answered through run()
            for q in np.flatnonzero(new).tolist():
                answer = self._memo.get(_row_keys(distinct[q : q + 1])[0])
                if answer is not None:
                    stats[q], pvals[q] = answer
                    new[q] = False
        n_new = int(new.sum())
        self.n_requested += m
        self.n_cached += m - n_new
        logger.debug("CI runner: %d queries, %d cached, %d run", m, m - n_new, n_new)
        if n_new:
            todo = distinct[new]
            compute = getattr(self.backend, "compute_arrays", None)
            if compute is None:
                st, pv = self._compute(self.backend.compute, n_new, _row_keys(todo))
            else:
                st, pv = self._compute(compute, n_new, todo)
            self.n_calls += 1
            stats[new], pvals[new] = st, pv
            self._store(k, todo, st, pv)
            self._array_sizes.add(k)
        return stats[inverse], pvals[inverse]

    def pvalue(self, key) -> float:
        """The p-value of a key already run."""
        return self.result(key)[1]

    def result(self, key) -> tuple[float, float]:
        """``(statistic, pvalue)`` of a key already run."""
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        i, j, cond = key
        table = self._tables.get(len(cond))
        at = -1 if table is None else int(table.find(_pack(np.array([[i, j, *cond]], dtype=np.int64), self._bits))[0])
        if at < 0:
            raise KeyError(key)
        stats, pvals = table.values()
        return float(stats[at]), float(pvals[at])

    @property
    def cache(self) -> Mapping:
        """``(i, j, S) -> (statistic, pvalue)`` of every test run (a read-only view)."""
        return _CacheView(self)

    @property
    def order(self) -> list[tuple]:
        """Every key run, in the order run (grouped by ``|S|`` within one batch)."""
        return [key for rows, _, _ in self.record().chunks for key in _row_keys(rows)]

    @property
    def n_tests(self) -> int:
        """The number of distinct tests run."""
        return sum(stop - start for _, start, stop in self._chunks)

    def record(self) -> CIRecord:
        """Every test run so far, as arrays (:class:`CIRecord`); :meth:`frame` is its table."""
        chunks = []
        for k, start, stop in self._chunks:
            table = self._tables[k]
            stats, pvals = table.values()
            chunks.append((table.all_rows()[start:stop], stats[start:stop], pvals[start:stop]))
        return CIRecord(self.names, chunks)

    def frame(self) -> pd.DataFrame:
        """Every test run so far, as a tidy table (x, y, cond, statistic, pvalue), by labels."""
        cached = self._frame
        if cached is None or len(cached) != self.n_tests:
            cached = self._frame = self.record().frame()
        return cached.copy()


def as_runner(ci_test, runner: CIRunner | None = None, *, owner: str = "ci_test") -> CIRunner:
    """The runner a phase function uses: ``runner`` if given (it must wrap ``ci_test``), else a new one.

    Parameters
    ----------
    ci_test : CITest or None
        The CI test named in the phase's signature.
    runner : CIRunner, optional
        A runner shared by an estimator between its phases.
    owner : str
        The function named in errors.

    Returns
    -------
    CIRunner
    """
    if runner is not None:
        if not isinstance(runner, CIRunner):
            raise ParameterError(f"The 'runner' parameter of {owner} must be a CIRunner; got {type(runner).__name__} instead.")
        if ci_test is not None and runner.ci_test is not None and runner.ci_test is not ci_test:
            raise ParameterError(f"The 'runner' passed to {owner} runs another CI test than 'ci_test'.")
        return runner
    if ci_test is None:
        raise ParameterError(f"{owner} needs a 'ci_test'.")
    return CIRunner.from_ci_test(ci_test)
