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

import logging

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
    without a ``test`` method the statistics are NaN.
    """

    def __init__(self, ci_test, labels=None):
        if not hasattr(ci_test, "pvalues") or not hasattr(ci_test, "variables"):
            raise ParameterError(
                "The 'ci_test' parameter must be a CI test with a 'variables' list and a batched "
                f"'pvalues(queries)' method; got {type(ci_test).__name__} instead."
            )
        self.ci_test = ci_test
        self.variables = list(ci_test.variables) if labels is None else list(labels)

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


class CIRunner:
    """Runs CI tests through a backend, caching and recording every distinct test.

    Parameters
    ----------
    backend : object
        ``variables`` (the label of every index) and ``compute(keys) -> (statistics,
        pvalues)`` (see the module docstring).

    Attributes
    ----------
    backend : object
    names : list
        The label of every index (``backend.variables``).
    index : dict
        ``label -> index``.
    cache : dict
        ``(i, j, S) -> (statistic, pvalue)`` of every test run.
    order : list
        The keys in the order they were run (grouped by ``|S|`` within one batch).
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
    """

    def __init__(self, backend):
        self.backend = backend
        self.names = list(backend.variables)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.cache: dict[tuple, tuple[float, float]] = {}
        self.order: list[tuple] = []
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

    def run(self, keys) -> None:
        """Run every key (normalised by :meth:`key`) that is not cached yet, in one backend call."""
        keys = list(keys)
        cache = self.cache
        todo = list(dict.fromkeys(k for k in keys if k not in cache))
        self.n_requested += len(keys)
        self.n_cached += len(keys) - len(todo)
        logger.debug("CI runner: %d queries, %d cached, %d run", len(keys), len(keys) - len(todo), len(todo))
        if not todo:
            return
        stats, pvals = self.backend.compute(todo)
        stats = np.asarray(stats, dtype=float).reshape(-1)
        pvals = np.asarray(pvals, dtype=float).reshape(-1)
        if pvals.shape[0] != len(todo) or stats.shape[0] != len(todo):
            raise ValueError(f"the CI test returned {pvals.shape[0]} p-values for {len(todo)} queries")
        self.n_calls += 1
        for k, s, p in zip(todo, stats, pvals):
            cache[k] = (float(s), float(p))
        self.order.extend(sorted(todo, key=lambda k: len(k[2])))

    def pvalue(self, key) -> float:
        """The p-value of a key already run."""
        return self.cache[key][1]

    def result(self, key) -> tuple[float, float]:
        """``(statistic, pvalue)`` of a key already run."""
        return self.cache[key]

    @property
    def n_tests(self) -> int:
        """The number of distinct tests run."""
        return len(self.order)

    def frame(self) -> pd.DataFrame:
        """Every test run so far, as a tidy table (x, y, cond, statistic, pvalue), by labels."""
        cached = self._frame
        if cached is not None and len(cached) == len(self.order):
            return cached.copy()
        names = self.names
        rows = [(names[i], names[j], tuple(names[s] for s in cond), *self.cache[(i, j, cond)]) for i, j, cond in self.order]
        frame = pd.DataFrame(rows, columns=["x", "y", "cond", "statistic", "pvalue"])
        self._frame = frame.astype({"statistic": float, "pvalue": float})
        return self._frame.copy()


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
