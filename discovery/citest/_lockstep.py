"""Searches in lock-step: many searches, one thread each, whose Fisher-z kernel calls are pooled.

A bootstrap runs the same constraint-based search (PC, CD-NOD) on many resamples of one
data set. Each search sends every level of its CI tests to the Fisher-z kernel in one call;
:class:`LockStep` runs the searches side by side, one thread each, and holds each kernel
call back until every running search is waiting for one (or has finished): then the
queries of all of them go to one call of :func:`discovery.citest._kernels.fisherz_stacked_batch`,
each query reading the correlation matrix of its own search.

Nothing else changes: each search builds its own :class:`~discovery.citest.FisherZ` on its
own data, validates it, answers its small batches on the host and post-processes its own
partial correlations; only the kernel call is shared, with the same arithmetic per query.
So a search gives the graph it gives alone. The pooling is a property of the thread a
search runs in (:func:`current_lockstep`), not of the estimator: any estimator whose CI
test is Fisher-z takes part without knowing it.

Python runs one thread at a time (the GIL): the searches' own bookkeeping is not faster in
threads. What is saved is kernel calls: a search of ``d`` variables sends a level of a few
hundred queries padded to a call of 1024; in lock-step ``B`` searches fill the calls (see
docs/benchmarks.md, "Bootstrap").
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from scm._validation import check_in_range

from .._utils import next_pow2

__all__ = ["LockStep", "current_lockstep"]

logger = logging.getLogger(__name__)

_local = threading.local()


def current_lockstep() -> LockStep | None:
    """The :class:`LockStep` whose :meth:`LockStep.map` runs the calling thread (None outside one).

    Examples
    --------
    >>> current_lockstep() is None
    True
    """
    return getattr(_local, "pool", None)


@dataclasses.dataclass(eq=False)
class _Request:
    """One held-back kernel call: a correlation matrix and its padded queries; ``out`` once answered."""

    corr: np.ndarray
    padded: np.ndarray
    out: Any = None


class LockStep:
    """Run one function per item, each in its own thread, pooling their Fisher-z kernel calls.

    Inside :meth:`map`, every :class:`~discovery.citest.FisherZ` batch that would go to the
    jitted kernel waits until each running item is waiting too, or
    done; then all the waiting batches go to one kernel call (a few, if they differ in
    conditioning-set bucket or number of variables). The results are those of the separate
    calls: the kernel does the same arithmetic per query. Batches that Fisher-z answers in numpy
    (small ones; on a CPU also those with ``|S| <= 2`` or few submatrix entries) are not pooled: on
    a CPU most searches make few kernel calls, and lock-step gains most on accelerators.

    Parameters
    ----------
    max_threads : int, default 64
        Items run at once (each in a thread); the next item starts when one finishes.

    Attributes
    ----------
    n_solo_calls : int
        Kernel calls the items would have made alone (1024 queries per call).
    n_kernel_calls : int
        Kernel calls made for them, pooled.

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import FisherZ
    >>> rng = np.random.default_rng(0)
    >>> datasets = [rng.normal(size=(200, 22)) for _ in range(4)]
    >>> def all_pairs(data):  # 4,620 queries with |S| = 1
    ...     test = FisherZ(data)
    ...     return test.pvalues([(i, j, [k]) for i in range(22) for j in range(i + 1, 22) for k in range(22) if k not in (i, j)])
    >>> lock = LockStep()
    >>> pooled = lock.map(all_pairs, datasets)
    >>> alone = [all_pairs(d) for d in datasets]
    >>> all(np.array_equal(p, a) and e is None for (p, e), a in zip(pooled, alone))
    True
    >>> lock.n_kernel_calls <= lock.n_solo_calls  # on a CPU both are 0: these batches run in numpy
    True
    """

    def __init__(self, *, max_threads: int = 64):
        self.max_threads = int(check_in_range(max_threads, name="max_threads", low=1, inclusive="left", integer=True,
                                              owner="LockStep"))
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._live = 0
        self._stack = 1
        self.n_solo_calls = 0
        self.n_kernel_calls = 0

    def map(self, fn: Callable[[Any], Any], items: Iterable) -> list[tuple[Any, Exception | None]]:
        """``fn(item)`` for every item, in lock-step; ``(result, None)`` or ``(None, exception)`` each, in order.

        An exception raised by ``fn`` on one item is returned for that item and does not stop
        the others.
        """
        items = list(items)
        out: list[tuple[Any, Exception | None]] = [(None, None)] * len(items)
        if not items:
            return out
        order = iter(range(len(items)))
        n_threads = min(self.max_threads, len(items))
        self._stack = next_pow2(n_threads)  # one compiled program for the whole map

        def worker():
            _local.pool = self
            try:
                while True:
                    with self._cond:
                        i = next(order, None)
                    if i is None:
                        return
                    try:
                        out[i] = (fn(items[i]), None)
                    except Exception as exc:  # the item's failure, returned
                        out[i] = (None, exc)
            finally:
                _local.pool = None
                with self._cond:  # one thread fewer to wait for
                    self._live -= 1
                    self._flush_if_ready()

        # every thread counts from the start: a thread slow to start is waited for, not left out of a call
        self._live = n_threads
        threads = [threading.Thread(target=worker, name=f"lockstep-{j}", daemon=True) for j in range(n_threads)]
        started = []
        try:
            for t in threads:
                t.start()
                started.append(t)
        finally:
            if len(started) < n_threads:  # the threads that did not start are not waited for
                with self._cond:
                    self._live -= n_threads - len(started)
                    self._flush_if_ready()
            for t in started:
                t.join()
        logger.debug("lock-step: %d items, %d kernel calls pooled into %d", len(items), self.n_solo_calls,
                     self.n_kernel_calls)
        return out

    def partial_correlations(self, corr: np.ndarray, padded: np.ndarray) -> np.ndarray:
        """What :func:`discovery.citest._kernels.fisherz_batch` returns for ``padded`` on ``corr``,
        computed with the waiting batches of the other items (called by FisherZ in a worker thread)."""
        request = _Request(np.asarray(corr, dtype=float), np.asarray(padded))
        with self._cond:
            self.n_solo_calls += -(-len(request.padded) // _width())
            self._pending.append(request)
            self._flush_if_ready()
            while request.out is None:
                self._cond.wait()
        if isinstance(request.out, BaseException):
            raise request.out
        return request.out

    def _flush_if_ready(self) -> None:
        """With the lock held: when every running item is waiting, answer all their batches."""
        if not self._pending or len(self._pending) < self._live:
            return
        batch, self._pending = self._pending, []
        groups: dict[tuple, list[_Request]] = {}
        for r in batch:
            groups.setdefault((r.corr.shape[0], r.padded.shape[1]), []).append(r)
        for reqs in groups.values():
            try:
                results = self._compute(reqs)
            except Exception as exc:  # every waiting item gets the error
                results = [exc] * len(reqs)
            for r, res in zip(reqs, results):
                r.out = res
        self._cond.notify_all()

    def _compute(self, reqs: list[_Request]) -> list[np.ndarray]:
        from . import _kernels
        from ._citest import _FISHERZ_WIDTH, _run_batched

        p = reqs[0].corr.shape[0]
        corrs = np.zeros((max(self._stack, next_pow2(len(reqs))), p, p))
        for j, r in enumerate(reqs):
            corrs[j] = r.corr
        which = np.concatenate([np.full(len(r.padded), j, dtype=np.int64) for j, r in enumerate(reqs)])
        idx = np.concatenate([r.padded for r in reqs])
        out = _run_batched(_kernels.fisherz_stacked_batch, (corrs,), (which, idx), per_device=_FISHERZ_WIDTH,
                           fixed_width=True)
        self.n_kernel_calls += -(-len(idx) // _width())
        bounds = np.cumsum([0] + [len(r.padded) for r in reqs])
        return [out[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _width() -> int:
    """Queries per kernel call (all devices)."""
    import jax

    from ._citest import _FISHERZ_WIDTH

    return _FISHERZ_WIDTH * len(jax.devices())
