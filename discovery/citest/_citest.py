"""Conditional-independence tests with one batched interface.

Every test is built on a data table and answers queries ``x _||_ y | S`` by
column name (or integer column position)::

    test = FisherZ(data)
    test.pvalue("A", "B", ["C"])                       # one query
    test.pvalues([("A", "B", ["C"]), ("A", "D", [])])  # a batch

A batch is split into groups of equal ``|S|``; each group is evaluated by one
jitted, vmapped JAX kernel call (see :mod:`discovery.citest._kernels`), in float64,
sharded over the batch axis when more than one JAX device is present. This is
what a level of the PC search needs: every ``(x, y, S)`` with ``|S| = k`` in one
call. JAX, its kernels and :mod:`scipy.stats` are imported at the first call that
needs them: importing this module, and Fisher-z on small batches (computed with numpy
by the same arithmetic as its kernel, :mod:`discovery.citest._sweep`), do not.

Available tests: :class:`FisherZ` (Gaussian data), :class:`KCI` (kernel CI,
nonlinear; exact or low-rank), :class:`ChiSquare` and :class:`GSquare`
(discrete data) and the oracle :class:`DSeparation` (a known DAG).
"""

from __future__ import annotations

import abc
import functools
import logging
import math
import numbers
import sys
from collections import OrderedDict
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from scm import d_separated
from scm._exceptions import DataError, ParameterError, UnknownNodeError
from scm._graph import check_dag
from scm._validation import check_in_range, check_numeric_frame, check_option

from .._utils import next_pow2, standardize
from ._lockstep import current_lockstep
from ._sweep import fisherz_sweep

__all__ = [
    "CITest", "FisherZ", "KCI", "ChiSquare", "GSquare", "DSeparation", "make_ci_test", "CI_TESTS", "check_linear_independence",
]

logger = logging.getLogger(__name__)

_DEFAULT_BATCH_BYTES = 512 * 2**20


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
@functools.lru_cache(maxsize=64)
def _sharded(kernel, static_items, n_rep, n_bat, devices):
    """A jitted ``shard_map`` of ``kernel`` over the batch axis of its query arrays.

    Each device runs the kernel on its slice of the queries with replicated
    shared inputs; there is no communication between devices. Cached so that
    repeated calls reuse one compiled program.
    """
    import jax
    from jax.sharding import PartitionSpec

    from .._jax import batch_mesh, fast_compile_options

    mesh = batch_mesh(devices)
    rep, bat = PartitionSpec(), PartitionSpec(None, "batch")
    body = functools.partial(kernel, **dict(static_items))
    return jax.jit(
        jax.shard_map(body, mesh=mesh, in_specs=(rep,) * n_rep + (bat,) * n_bat, out_specs=bat, check_vma=False),
        compiler_options=fast_compile_options(),
    )


#: Fisher-z: smallest padded size of ``[x, y, *S]``; queries per device per call of the
#: batched kernel; batches up to this many queries are computed on the host with numpy.
_FISHERZ_MIN_BUCKET = 8
_FISHERZ_WIDTH = 1024
_FISHERZ_HOST_MAX = 4096
#: Fisher-z: batches with ``|S|`` up to this size are computed on the host at any size (unless JAX
#: runs on an accelerator, :func:`_accelerator_in_use`). Per query
#: the numpy sweep of a ``(|S| + 2)``-square submatrix costs 0.1-0.7 us for ``|S| <= 2`` against
#: about 1 us for the kernel's padded 8 x 8 one (docs/benchmarks.md, "PC"), and levels 0 and 1
#: hold nearly all the tests of a search on many variables, so such a search needs no JAX.
_FISHERZ_HOST_MAX_COND = 2
#: Fisher-z: batches whose ``(|S| + 2)``-square submatrices hold at most this many entries in all
#: are computed on the host too (about 0.4 s of numpy; a fresh process's import of JAX and
#: compilation of the kernel take longer), e.g. 400,000 queries with ``|S| = 3``.
_FISHERZ_HOST_CELLS = 2**23
#: Rows of one numpy chunk of the host path (bounds its temporary ``(rows, K, K)`` arrays).
_FISHERZ_HOST_CHUNK = 65536


def _fisherz_host(corr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Partial correlations of a batch of queries with numpy (rows ``[x, y, *S]`` of ``idx``).

    The arithmetic of :func:`discovery.citest._kernels.fisherz_batch`
    (:func:`discovery.citest._sweep.fisherz_sweep`), so the same quantities and flags to
    rounding. Up to :data:`_FISHERZ_HOST_MAX` queries it costs a few milliseconds, where
    the kernel's first call costs JAX's import and a compilation, about a second and a half
    (docs/benchmarks.md, "Start-up of the command line"): a PC search on a few variables
    runs without JAX. Returns ``(B, 2)``: the partial correlation and the smallest pivot.
    """
    with np.errstate(all="ignore"):  # a singular submatrix: inf / nan, flagged by its pivot
        if idx.shape[0] <= _FISHERZ_HOST_CHUNK:
            return fisherz_sweep(corr, idx, xp=np)
        step = _FISHERZ_HOST_CHUNK
        return np.concatenate([fisherz_sweep(corr, idx[lo : lo + step], xp=np) for lo in range(0, idx.shape[0], step)])


#: Fisher-z: up to this many statistics the p-values are computed with :func:`math.erfc` (no
#: import of :mod:`scipy.special`, about half a second in a fresh process, inside a first fit).
_ERFC_HOST_MAX = 50_000


def _fisherz_on_host(n_queries: int, k: int) -> bool:
    """Whether a Fisher-z batch of ``n_queries`` with ``|S| = k`` is computed with numpy rather than the JAX kernel.

    Small batches (:data:`_FISHERZ_HOST_MAX`) always; on the CPU also every batch with
    ``|S| <= 2`` (:data:`_FISHERZ_HOST_MAX_COND`) and every batch of at most
    :data:`_FISHERZ_HOST_CELLS` submatrix entries. Depends on the batch only (and on whether
    JAX already runs on an accelerator), so a search takes the same path in every process.
    """
    if n_queries <= _FISHERZ_HOST_MAX:
        return True
    if _accelerator_in_use():
        return False
    return k <= _FISHERZ_HOST_MAX_COND or n_queries * (k + 2) ** 2 <= _FISHERZ_HOST_CELLS


def _accelerator_in_use() -> bool:
    """Whether JAX is imported already and its default backend is an accelerator (GPU, TPU).

    Then the large Fisher-z batches of small ``|S|`` go to the sharded kernel too; on the CPU
    the host path is faster for them, and this check never imports JAX itself.
    """
    jax = sys.modules.get("jax")
    if jax is None:
        return False
    try:
        return jax.default_backend() != "cpu"
    except RuntimeError:  # pragma: no cover - no backend could be initialised
        return False


def _two_sided_normal_pvalues(stat: np.ndarray) -> np.ndarray:
    """``2 * P(Z > |stat|)`` for a standard normal ``Z``: ``erfc(|stat| / sqrt 2)``.

    Small batches use :func:`math.erfc` (so that a search on a few variables never imports
    :mod:`scipy.special`), large ones :func:`scipy.special.ndtr`; both are accurate to a few
    units in the last place, so the two paths agree to about 1e-15 relative.

    Examples
    --------
    >>> _two_sided_normal_pvalues(np.array([0.0, 1.959963984540054])).round(6).tolist()
    [1.0, 0.05]
    """
    stat = np.abs(np.asarray(stat, dtype=float))
    if stat.size <= _ERFC_HOST_MAX:
        root2 = math.sqrt(2.0)
        return np.array([math.erfc(s / root2) for s in stat.tolist()], dtype=float).reshape(stat.shape)
    from scipy import special

    return 2.0 * special.ndtr(-stat)  # scipy.stats.norm.sf, without importing scipy.stats


def _run_batched(kernel, replicated, batched, *, per_device, static=None, mask=False, fixed_width=False):
    """Call a batch kernel of :mod:`discovery.citest._kernels` on ``B`` queries.

    ``kernel(*replicated, *batched, **static)``: the ``batched`` arrays have a
    leading axis of length ``B``. They are padded (by repeating the first query)
    and reshaped to ``(steps, width, ...)`` with ``width = n_devices * chunk``;
    ``chunk <= per_device`` bounds the queries live at once per device. Sizes are
    rounded up to powers of two so that batches of similar size reuse one
    compiled program. With more than one device the ``width`` axis is sharded
    over a 1-D mesh (``NamedSharding``) and the shared inputs are replicated.

    With ``mask=True`` a last batched array is appended: ``True`` for the real
    queries, ``False`` for the padding (kernels can skip those steps).

    With ``fixed_width=True`` every call has the same shape ``(1, n_devices *
    per_device, ...)``: the queries are padded to that width and larger batches are
    split into several calls, so a search compiles the kernel once instead of once per
    batch size (for kernels that are cheap per query and costly to compile).

    Returns the kernel output as a numpy array with leading axis ``B``.
    """
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    from .._jax import batch_mesh

    static = static or {}
    n_queries = batched[0].shape[0]
    block = len(jax.devices()) * int(per_device)
    if fixed_width and n_queries > block:
        parts = [
            _run_batched(kernel, replicated, [np.asarray(a)[lo : lo + block] for a in batched], per_device=per_device,
                         static=static, mask=mask, fixed_width=True)
            for lo in range(0, n_queries, block)
        ]  # fmt: skip
        return np.concatenate(parts, axis=0)
    if mask:
        batched = [*batched, np.ones(n_queries, dtype=bool)]
    devices = tuple(jax.devices())
    n_dev = len(devices)
    chunk = int(per_device) if fixed_width else max(1, min(int(per_device), next_pow2(-(-n_queries // n_dev))))
    width = n_dev * chunk
    steps = next_pow2(-(-n_queries // width))
    total = steps * width
    padded = []
    for i, a in enumerate(batched):
        a = np.asarray(a)
        if total > n_queries:
            fill = np.zeros_like(a[:1]) if (mask and i == len(batched) - 1) else a[:1]
            a = np.concatenate([a, np.repeat(fill, total - n_queries, axis=0)], axis=0)
        padded.append(a.reshape((steps, width) + a.shape[1:]))
    with jax.enable_x64(True):
        if n_dev == 1:
            out = kernel(*replicated, *padded, **static)
        else:
            mesh = batch_mesh(devices)
            shard = NamedSharding(mesh, PartitionSpec(None, "batch"))
            rep = NamedSharding(mesh, PartitionSpec())
            padded = [jax.device_put(a, shard) for a in padded]
            replicated = [jax.device_put(np.asarray(r), rep) for r in replicated]
            fn = _sharded(kernel, tuple(sorted(static.items())), len(replicated), len(padded), devices)
            out = fn(*replicated, *padded)
        out = np.asarray(out)
    return out.reshape((total,) + out.shape[2:])[:n_queries]


def check_linear_independence(corr: np.ndarray, names, cols=None) -> None:
    """Refuse a correlation matrix whose columns are (numerically) linearly dependent.

    The one check of what the continuous tests accept: :class:`FisherZ` and
    :class:`KCI` both run it on the correlation matrix of their data (when there are
    more rows than columns) or, query by query, on that of ``[x, y, *S]``, so that a
    column that is a linear combination of others is refused the same way whichever
    test a search uses. The threshold: the smallest eigenvalue at most ``1e-10`` times
    the largest. The correlation matrix does not depend on the units of the columns.

    Parameters
    ----------
    corr : ndarray of shape (k, k)
        A correlation matrix.
    names : sequence
        The names of the test's variables.
    cols : sequence of int, optional
        The positions in ``names`` of the rows of ``corr`` (default ``0 .. k - 1``).

    Raises
    ------
    scm.DataError
        Naming the columns involved in the dependence.

    Examples
    --------
    >>> corr = np.array([[1.0, 1.0], [1.0, 1.0]])
    >>> check_linear_independence(corr, ["a", "b"])
    Traceback (most recent call last):
    ...
    scm._exceptions.DataError: the correlation matrix of columns ['a', 'b'] is singular: ...
    """
    cols = np.arange(corr.shape[0]) if cols is None else np.asarray(cols)
    w = np.linalg.eigvalsh(corr)  # the eigenvectors (3x the work) only to name the columns of a failure
    if w[0] <= 1e-10 * max(1.0, w[-1]):
        w, v = np.linalg.eigh(corr)
        null = np.abs(v[:, 0])
        involved = [names[int(cols[j])] for j in np.where(null > 1e-6 * null.max())[0]]
        raise DataError(
            f"the correlation matrix of columns {involved} is singular: these columns are "
            "linearly dependent (one is a linear combination of the others); drop one of them"
        )


def _query_submatrices_full_rank(corr: np.ndarray, idx: np.ndarray, names) -> None:
    """:func:`check_linear_independence` on the correlation submatrix of every query row ``[x, y, *S]`` of ``idx``."""
    sub = corr[idx[:, :, None], idx[:, None, :]]
    w = np.linalg.eigvalsh(sub)
    bad = np.flatnonzero(w[:, 0] <= 1e-10 * np.maximum(1.0, w[:, -1]))
    if bad.size:
        cols = idx[bad[0]]
        check_linear_independence(corr[np.ix_(cols, cols)], names, cols)


def _standardized_values(frame: pd.DataFrame, owner: str, ddof: int = 0) -> np.ndarray:
    """The z-scores of a validated numeric frame (moments without overflow, :func:`discovery._utils.standardize`)."""
    z, _, _ = standardize(frame.to_numpy(dtype=float), list(frame.columns), owner=owner, ddof=ddof)
    return z


def _check_duplicate_columns(frame: pd.DataFrame, name: str = "data") -> None:
    """Raise DataError if two columns hold identical data."""
    values = frame.to_numpy()
    seen: dict = {}
    for j, col in enumerate(frame.columns):
        key = values[:, j].tobytes()
        if key in seen and np.array_equal(values[:, seen[key]], values[:, j]):
            raise DataError(
                f"{name} columns {frame.columns[seen[key]]!r} and {col!r} hold identical data; "
                "drop one of them (a variable is not conditionally independent of its copy)"
            )
        seen.setdefault(key, j)


# --------------------------------------------------------------------------- #
# base class
# --------------------------------------------------------------------------- #
class CITest(abc.ABC):
    """Base class of the conditional-independence tests.

    A test is built on data (or, for :class:`DSeparation`, on a graph) and answers
    queries ``x _||_ y | S`` with p-values. Variables are named by column name or
    by integer column position. Subclasses implement ``_test_group``, which
    evaluates a batch of queries of equal ``|S|``.

    Attributes
    ----------
    variables : list of str
        The variable (column) names.
    n_samples : int or None
        The number of rows of the data (``None`` for the oracle).

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import CITest, FisherZ
    >>> rng = np.random.default_rng(0)
    >>> test = FisherZ(rng.normal(size=(200, 3)))
    >>> isinstance(test, CITest), test.variables, test.n_samples
    (True, ['X0', 'X1', 'X2'], 200)
    """

    #: short name used by :func:`make_ci_test`
    name: str = ""
    variables: list
    n_samples: int | None

    # ---------------------------------------------------------------- public
    def pvalue(self, x, y, cond=()) -> float:
        """The p-value of one query ``x _||_ y | cond``.

        Parameters
        ----------
        x, y : str or int
            Variable names (or integer column positions).
        cond : iterable of str or int, optional
            The conditioning set.

        Returns
        -------
        float
        """
        return float(self.test([(x, y, cond)])[1][0])

    def pvalues(self, queries) -> np.ndarray:
        """P-values of a batch of queries.

        Parameters
        ----------
        queries : iterable of ``(x, y, S)`` (or ``(x, y)``) tuples
            Queries of equal ``|S|`` are evaluated together by one kernel call.

        Returns
        -------
        numpy.ndarray of shape (len(queries),)
        """
        return self.test(queries)[1]

    def test(self, queries) -> tuple[np.ndarray, np.ndarray]:
        """Statistics and p-values of a batch of queries.

        Parameters
        ----------
        queries : iterable of ``(x, y, S)`` (or ``(x, y)``) tuples

        Returns
        -------
        statistics, pvalues : numpy.ndarray of shape (len(queries),)
            The meaning of the statistic depends on the test (see its Notes).

        Raises
        ------
        UnknownNodeError
            If a variable is not one of :attr:`variables`.
        ParameterError
            If ``x == y``, or ``x`` or ``y`` is in ``S``, or ``S`` repeats a variable.
        """
        parsed = [self._parse_query(q) for q in queries]
        stat = np.empty(len(parsed))
        pval = np.empty(len(parsed))
        groups: dict[int, list[int]] = {}
        for i, (_, _, s) in enumerate(parsed):
            groups.setdefault(len(s), []).append(i)
        for k, members in sorted(groups.items()):
            xs = np.array([parsed[i][0] for i in members], dtype=np.int64)
            ys = np.array([parsed[i][1] for i in members], dtype=np.int64)
            ss = np.array([parsed[i][2] for i in members], dtype=np.int64).reshape(len(members), k)
            logger.debug("%s: %d queries with |S| = %d", type(self).__name__, len(members), k)
            st, pv = self._test_group(xs, ys, ss)
            stat[members] = st
            pval[members] = pv
        return stat, pval

    def __repr__(self) -> str:
        return f"{type(self).__name__}(variables={len(self.variables)}, n_samples={self.n_samples})"

    # --------------------------------------------------------------- private
    @abc.abstractmethod
    def _test_group(self, xs: np.ndarray, ys: np.ndarray, ss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Statistics and p-values for ``B`` queries with ``|S| = k``.

        ``xs``, ``ys`` are ``(B,)`` column positions with ``xs < ys``, ``ss`` is
        ``(B, k)`` with sorted rows.
        """

    def _index(self, v) -> int:
        lookup = self._lookup
        if isinstance(v, str) or not isinstance(v, numbers.Integral) or isinstance(v, bool):
            try:
                return lookup[v]
            except (KeyError, TypeError):
                pass
        else:
            if v in lookup:  # integer-named nodes (graphs) take precedence
                return lookup[v]
            if 0 <= int(v) < len(self.variables):
                return int(v)
        sample = [str(c) for c in self.variables[:10]]
        more = " ..." if len(self.variables) > 10 else ""
        raise UnknownNodeError(f"unknown variable {v!r}: not a column of the data (known: {sample}{more})")

    @property
    def _lookup(self) -> dict:
        lk = getattr(self, "_lookup_cache", None)
        if lk is None:
            lk = {v: i for i, v in enumerate(self.variables)}
            self._lookup_cache = lk
        return lk

    def _parse_query(self, query):
        if not isinstance(query, (tuple, list)) or len(query) not in (2, 3):
            raise ParameterError(f"a query must be a tuple (x, y) or (x, y, S); got {query!r}")
        x, y = query[0], query[1]
        cond = query[2] if len(query) == 3 else ()
        if cond is None:
            cond = ()
        elif isinstance(cond, (str, numbers.Integral)) or not isinstance(cond, Iterable):
            cond = (cond,)
        xi, yi = self._index(x), self._index(y)
        si = [self._index(c) for c in cond]
        if xi == yi:
            raise ParameterError(f"x and y must differ; got {self.variables[xi]!r} twice")
        if len(set(si)) != len(si):
            raise ParameterError(f"the conditioning set repeats a variable: {[self.variables[i] for i in si]}")
        for v in (xi, yi):
            if v in si:
                raise ParameterError(f"{self.variables[v]!r} is both tested and in the conditioning set")
        xi, yi = min(xi, yi), max(xi, yi)
        return xi, yi, sorted(si)


class _DataCITest(CITest):
    """Shared construction of the data-based tests."""

    def _set_frame(self, frame: pd.DataFrame) -> None:
        _check_duplicate_columns(frame)
        self.variables = list(frame.columns)
        self.n_samples = int(frame.shape[0])
        self._lookup_cache = None


# --------------------------------------------------------------------------- #
# Fisher-z
# --------------------------------------------------------------------------- #
class FisherZ(_DataCITest):
    """Fisher-z test of vanishing partial correlation (Gaussian data).

    Parameters
    ----------
    data : pandas.DataFrame or array of shape (n_samples, n_variables)
        Numeric data; array columns are named ``X0, X1, ...``.
    executor : concurrent.futures.Executor, optional
        Batches of more than ``executor_chunk`` queries (a level of a search on thousands of
        variables) are split into chunks of that size and computed by the executor's workers:
        a process pool, or a Dask cluster (``distributed.Client(...).get_executor()``, the
        executor :func:`discovery.compare` takes), which gets the correlation matrix once.
        The results are those of the in-process host path (docs/scaling.md).
    executor_chunk : int, default 262144
        Queries per task on the executor.

    Attributes
    ----------
    variables : list of str
    n_samples : int
    correlation_ : numpy.ndarray of shape (n_variables, n_variables)

    Raises
    ------
    DataError
        On NaN/inf, non-numeric, constant or duplicated columns, or a column that
        is a linear combination of others (naming the columns involved).

    Notes
    -----
    The partial correlation ``r`` of ``x`` and ``y`` given ``S`` is read off the
    inverse ``P`` of the correlation submatrix of ``[x, y, *S]``:
    ``r = -P[0, 1] / sqrt(P[0, 0] * P[1, 1])``. The statistic is
    ``sqrt(n - |S| - 3) * |atanh(r)|`` and the p-value two-sided standard normal.
    It needs ``n >= |S| + 4``. Agrees with ``causallearn``'s ``fisherz`` to 1e-10.

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import FisherZ
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=500)
    >>> b = a + rng.normal(size=500)
    >>> c = b + rng.normal(size=500)
    >>> test = FisherZ(np.column_stack([a, b, c]))
    >>> test.pvalue("X0", "X2") < 0.01           # dependent
    True
    >>> test.pvalue("X0", "X2", ["X1"]) > 0.05   # independent given the middle of the chain
    True
    """

    name = "fisherz"

    def __init__(self, data, *, executor=None, executor_chunk: int = 262_144):
        if executor is not None and not hasattr(executor, "submit"):
            raise ParameterError(
                f"The 'executor' parameter of FisherZ must be None or a concurrent.futures.Executor "
                f"(a Dask cluster: distributed.Client(...).get_executor()); got {type(executor).__name__} instead."
            )
        check_in_range(executor_chunk, name="executor_chunk", low=1, inclusive="left", integer=True, owner="FisherZ")
        self.executor = executor
        self.executor_chunk = int(executor_chunk)
        self._shared_corr = None
        frame = check_numeric_frame(data, name="data", min_rows=4, allow_constant=False)
        self._set_frame(frame)
        # z-scores first: the correlation of raw columns near 1e154 or beyond overflows
        values = _standardized_values(frame, "FisherZ")
        self.correlation_ = np.corrcoef(values, rowvar=False).reshape(values.shape[1], values.shape[1])
        if self.n_samples > len(self.variables):
            check_linear_independence(self.correlation_, self.variables)

    def _test_group(self, xs, ys, ss):
        k = ss.shape[1]
        if self.n_samples < k + 4:
            raise DataError(
                f"Fisher-z with |S| = {k} needs at least {k + 4} rows; the data have {self.n_samples} "
                f"(in a search, set max_cond_size <= {max(self.n_samples - 4, 0)})"
            )
        idx = np.concatenate([xs[:, None], ys[:, None], ss], axis=1)
        if self.executor is not None and idx.shape[0] > self.executor_chunk:
            out = self._on_executor(idx)
        elif _fisherz_on_host(idx.shape[0], k):
            out = _fisherz_host(self.correlation_, idx)
        else:
            from . import _kernels

            # Pad [x, y, *S] with -1 to a bucket of sizes (8, 16, 32, ...) and the batch to
            # a fixed width: one compiled program serves every level of a search up to |S| = 6.
            bucket = max(_FISHERZ_MIN_BUCKET, next_pow2(k + 2))
            padded = np.full((idx.shape[0], bucket), -1, dtype=np.int64)
            padded[:, : k + 2] = idx
            pool = current_lockstep()
            if pool is not None:  # a search in lock-step with others: one kernel call for all their queries
                out = pool.partial_correlations(self.correlation_, padded)
            else:
                out = _run_batched(
                    _kernels.fisherz_batch, (self._device_correlation(),), (padded,), per_device=_FISHERZ_WIDTH, fixed_width=True
                )
        r, smallest_pivot = out[:, 0], out[:, 1]
        bad = np.where(~np.isfinite(r) | (smallest_pivot <= 1e-10))[0]
        if bad.size:
            cols = idx[bad[0]]
            check_linear_independence(self.correlation_[np.ix_(cols, cols)], self.variables, cols)
        eps = np.finfo(float).eps
        r = np.where(np.abs(r) >= 1, (1.0 - eps) * np.sign(r), r)
        stat = np.sqrt(self.n_samples - k - 3) * np.abs(np.arctanh(r))
        return stat, _two_sided_normal_pvalues(stat)

    def _device_correlation(self):
        """The correlation matrix as a JAX array, put on the default device once (float64).

        Passed as a numpy array, the ``d x d`` matrix would be copied to the device at every
        kernel call: 200 MB per call of 1,024 queries at d = 5,000. With several devices the
        kernel replicates it itself (:func:`_run_batched`).
        """
        import jax

        if len(jax.devices()) > 1:
            return self.correlation_
        cached = getattr(self, "_corr_device", None)
        if cached is None:
            with jax.enable_x64(True):
                cached = self._corr_device = jax.device_put(self.correlation_)
        return cached

    def _on_executor(self, idx: np.ndarray) -> np.ndarray:
        """The partial correlations of a large batch, in chunks of ``executor_chunk`` queries on the executor's workers.

        Each task runs the host path (:func:`_fisherz_host`, numpy) on its chunk, so the
        results are those of this process's host path. A Dask executor gets the correlation
        matrix once, broadcast to its workers (``Client.scatter``); another executor ships it
        with every task.
        """
        corr = self.correlation_
        client = getattr(self.executor, "_client", None)  # distributed's ClientExecutor
        if client is not None:
            if self._shared_corr is None or self._shared_corr[0] is not client:
                self._shared_corr = (client, client.scatter(corr, broadcast=True, hash=False))
            corr = self._shared_corr[1]
        step = self.executor_chunk
        futures = [self.executor.submit(_fisherz_host, corr, idx[lo : lo + step]) for lo in range(0, idx.shape[0], step)]
        return np.concatenate([f.result() for f in futures], axis=0)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["executor"] = state["_shared_corr"] = None  # an executor does not travel to another process
        state.pop("_corr_device", None)
        return state


# --------------------------------------------------------------------------- #
# KCI
# --------------------------------------------------------------------------- #
_KCI_WIDTHS = ("empirical", "median")
_KCI_APPROX = ("exact", "dense", "nystrom", "rff")
_VAR_RANK = 24  # principal directions used by the low-rank null variance
_FACTOR_CACHE_BYTES = 256 * 2**20  # LRU budget of the cached kernel factors of one KCI
#: Exact KCI: smallest padded conditioning-set size, and smallest padded number of queries per
#: group sharing ``(x, Z)``, of :func:`discovery.citest._kernels.kci_x_gram` / ``kci_cond_group``.
_KCI_MIN_SET_BUCKET = 4
_KCI_MIN_GROUP_BUCKET = 4
#: Exact conditional KCI runs with numpy, without compilation, up to this many rows on a CPU
#: backend: there one group's products take milliseconds and a compiled program per rank bucket
#: costs 1-2 s. The trade (measured, 150 queries with |S| = 2, shared machine): 300 rows, first
#: call 0.30 s with numpy against 2.8 s compiling, a call with every shape compiled 0.49 s against
#: 0.35 s; 600 rows, 1.3 s against 2.1 s and 1.2 s against 1.0 s. Above, and on accelerators,
#: the compiled kernels are used.
_KCI_HOST_MAX_ROWS = 600


def _rank_bucket(r: int, n: int) -> int:
    """Padded rank of a factor: the next of 32, 64, 96, 128, 192, 256, 384, 512, ..., at most ``n``.

    Zero columns change no result. The rank fixes the shape (and the compiled program) of a
    kernel call, and its padding costs time in proportion: buckets about a factor
    ``sqrt(2)`` apart keep both the number of programs (about ``2 log2(n / 32)``) and the
    padding (a third at most) small.
    """
    r, b = max(1, int(r)), 32
    while b < r:
        b = 2 * b if b < 64 else (b * 3 // 2 if b & (b - 1) == 0 else b * 4 // 3)
    return max(1, min(b, n))


def _median_theta_np(a: np.ndarray, sub: np.ndarray) -> float:
    """numpy twin of :func:`discovery.citest._kernels.median_theta` (same arithmetic)."""
    a = a[sub]
    sq = np.zeros((a.shape[0], a.shape[0]))
    for j in range(a.shape[1]):
        diff = a[:, j][:, None] - a[:, j][None, :]
        sq += diff * diff
    d = np.sqrt(sq)
    med = np.median(d[d > 0])
    return float(1.0 / (2.0 * med * med))


def _gamma_sf(stat: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Upper tail at ``stat`` of the gamma distribution with this mean and variance (KCI's null).

    Shape ``mean^2 / var``, scale ``var / mean``: ``scipy.stats.gamma.sf(stat, shape,
    scale=scale)``, computed as the regularised upper incomplete gamma function
    ``gammaincc(shape, stat / scale)`` (what ``scipy.stats`` evaluates) without importing
    ``scipy.stats`` (a third of a second). A degenerate null (zero or non-finite shape or
    scale) gives the p-value 1; so does a negative statistic (below the support).
    """
    from scipy import special  # here: a Fisher-z-only first fit does not import it

    with np.errstate(divide="ignore", invalid="ignore"):
        shape = mean**2 / var
        scale = var / mean
        ok = (shape > 0) & (scale > 0) & np.isfinite(shape) & np.isfinite(scale)
        pval = np.where(ok, special.gammaincc(np.where(ok, shape, 1.0), np.where(ok, stat / np.where(ok, scale, 1.0), 0.0)), np.nan)
    pval = np.where(stat < 0, 1.0, pval)
    return np.where(np.isfinite(pval), pval, 1.0)


def _stack_padded(mats, rank: int, count: int) -> np.ndarray:
    """Stack ``(n, r_i)`` matrices zero-padded to ``(count, n, rank)``."""
    out = np.zeros((count, mats[0].shape[0], rank))
    for i, m in enumerate(mats):
        out[i, :, : m.shape[1]] = m
    return out


class KCI(_DataCITest):
    """Kernel-based conditional-independence test (Zhang et al., UAI 2011).

    Gaussian kernels, gamma approximation of the null distribution. The exact
    version reproduces ``causallearn``'s ``KCI_UInd`` / ``KCI_CInd`` with their
    defaults, from low-rank factors of the kernels computed to a stated tolerance;
    the approximate versions (``approximation="nystrom"`` or ``"rff"``) scale
    linearly in ``n``.

    Parameters
    ----------
    data : pandas.DataFrame or array of shape (n_samples, n_variables)
        Numeric data; each column is standardised (``ddof=1``).
    width : {"empirical", "median"}, default "empirical"
        Kernel width rule. ``"empirical"`` is KCI's rule of thumb: unconditional
        tests use ``sigma = 0.8`` (``n < 200``), ``0.5`` (``n < 1200``) or ``0.3``;
        conditional tests use ``sigma = 1.2``, ``0.7`` or ``0.4`` scaled by
        ``sqrt(|S|)`` for the X, Y and Z kernels alike. ``"median"``: ``sigma =
        sqrt(2) * median`` pairwise distance of each kernel's input (at most 1000
        rows, a seeded subsample).
    approximation : {"exact", "dense", "nystrom", "rff"}, default "exact"
        ``"exact"``: pivoted-Cholesky factors of the Y and Z kernels to the
        tolerance ``tol`` and ``R_Z`` by the Woodbury identity (see Notes).
        ``"dense"``: the reference computation with ``n x n`` matrices and an
        ``n x n`` Cholesky solve per conditioning set; several times slower, same
        p-values to about 1e-9. ``"nystrom"`` (landmark rows) and ``"rff"`` (random
        Fourier features) use ``n x m`` feature matrices and never form an ``n x n``
        matrix.
    n_components : int, optional
        Number of low-rank features ``m`` (default 100 for ``"nystrom"``, 200 for
        ``"rff"``; capped at ``n``). Unused by ``"exact"`` and ``"dense"``.
    epsilon : float, default 1e-3
        Ridge of the residual-maker ``R_Z = eps (K_Z + eps I)^{-1}``.
    tol : float, default 1e-13
        ``"exact"`` only: each pivoted Cholesky factor ``L`` of a kernel matrix ``K``
        stops at the first rank with ``tr(K - L L^T) <= tol * tr(K)``. At the default
        the p-values agree with ``"dense"`` to about 1e-9 (1e-12: about 1e-8;
        1e-10: about 1e-6).
    random_state : int, default 0
        Seed of the median subsample, the Nystrom landmarks and the random features.
    max_batch_bytes : int, default 512 MiB
        Memory budget of one vectorised chunk of queries of ``"dense"`` and the low-rank
        approximations; larger batches are processed in sequential chunks inside the same
        kernel call. ``"exact"`` holds a few ``n x n`` matrices per group of queries
        sharing ``(x, Z)`` whatever the budget.

    Attributes
    ----------
    variables : list of str
    n_samples : int
    factor_cache_info_ : dict
        ``{"hits": ..., "misses": ...}`` of the cache of kernel factors (``"exact"``).

    Notes
    -----
    With centred kernel matrices ``Kx`` (of ``[x, z/2]``), ``Ky`` (of ``y``) and
    ``Kz``, and ``R = eps (Kz + eps I)^{-1}``, ``KxR = R Kx R``, ``KyR = R Ky R``:
    the statistic is ``sum(KxR * KyR)``; the null is a gamma distribution with mean
    ``sum(diag(KxR) * diag(KyR))`` and variance ``2 * sum((KxR * KyR)**2)``. These
    trace identities replace causal-learn's eigen-decomposition (which also drops
    eigenvalues below ``1e-5`` of the largest, the only source of difference).
    Unconditional: statistic ``sum(Kx * Ky)``, mean ``tr(Kx) tr(Ky) / n``, variance
    ``2 sum(Kx**2) sum(Ky**2) / n**2``. For symmetry, the variable augmented with
    ``z/2`` is the one that comes first in the data (as causal-learn does).
    With ``width="median"`` the unconditional width is computed on standardised
    data (causal-learn uses the raw data there).

    Exact (default): the centred kernel of each variable ``y`` and of each
    conditioning set ``Z`` is factored by pivoted (incomplete) Cholesky,
    ``H K H ~ L L^T`` with residual trace at most ``tol * n`` (``O(n r^2)``, only
    ``r`` columns of ``K`` are computed). ``R = I - B B^T`` by the Woodbury
    identity with ``B = Lz C^{-T}``, ``C C^T = Lz^T Lz + eps I``, never an ``n x n``
    inverse; the ranks are padded to buckets (32, 64, 96, 128, 192, 256, ...), which
    changes nothing but limits recompilation. Then ``KyR = Ay Ay^T`` with ``Ay = R Ly`` and
    ``KxR = R Kx R = Kx - W - W^T`` (``P = Kx B``, ``W = (P - B B^T P / 2) B^T``):
    about ``4 n^2 rz + 2 n^2 ry`` flops per query instead of ``O(n^3)``. The X kernel
    (of ``[x, z/2]``) is kept dense: its numerical rank at this tolerance is a large
    fraction of ``n`` (about 400 of 1000 rows for ``|S| = 2``), and the null
    variance needs the entries of ``KxR * KyR`` anyway. Unconditional tests use
    the factors alone (``O(n r^2)``). The factors (and widths) are cached per
    variable and per conditioning set in a least-recently-used cache (256 MiB) that
    lives as long as the test, so PC and CD-NOD, which call level by level, factor
    each set once. Queries sharing ``(x, Z)`` share ``KxR``: each such group is one call
    of a compiled program whose shapes depend on the rank bucket of the call's conditioning
    sets but not on ``|S|`` (padded to 4, 8, ...) or on the number of queries, so a search
    compiles the X kernel once and the group program once per rank bucket (one per level
    of a search at most). Unconditional tests are a few small matrix products per pair
    and run with numpy, without compilation; so do the conditional groups (the same
    products) up to 600 rows on a CPU backend, where compiling would cost more than it saves.

    Low rank: features ``Phi`` (``n x m``, centred) replace the kernel matrices,
    ``R`` is applied by the Woodbury identity (ridge residuals on Z's features),
    and the statistic and gamma moments come from ``m x m`` matrices; the null
    variance uses the 24 leading principal directions of each residualised
    feature matrix. Time and memory are linear in ``n``.

    Measured agreement (this package's tests and ``benchmarks/bench_kci.py``):
    exact KCI vs causal-learn, max |dp| about 5e-5 over n = 120 - 600 (|S| = 0,
    1, 2; tolerance 1e-4 in the tests); exact vs dense about 1e-9 (tolerance
    1e-8 in the tests). Low rank vs exact KCI at n = 1000 (10
    queries, |S| = 0, 1, 2): Nystrom max |dp| 0.07 (m = 50), 0.011 (m = 100, the
    default), 0.004 (m = 200); random Fourier features 0.17 (m = 100), 0.10
    (m = 200, the default), 0.13 (m = 400). Prefer ``"nystrom"``.

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import KCI
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=200)
    >>> x = np.sin(z) + 0.3 * rng.normal(size=200)
    >>> y = np.cos(z) + 0.3 * rng.normal(size=200)
    >>> test = KCI(np.column_stack([x, y, z]))
    >>> p = test.pvalues([("X0", "X1", []), ("X0", "X1", ["X2"])])
    >>> bool(p[0] < 0.01), bool(p[1] > 0.05)
    (True, True)
    """

    name = "kci"

    def __init__(
        self,
        data,
        *,
        width: str = "empirical",
        approximation: str = "exact",
        n_components: int | None = None,
        epsilon: float = 1e-3,
        tol: float = 1e-13,
        random_state: int = 0,
        max_batch_bytes: int = _DEFAULT_BATCH_BYTES,
    ):
        self.width = check_option(width, _KCI_WIDTHS, name="width", owner="KCI")
        self.approximation = check_option(approximation, _KCI_APPROX, name="approximation", owner="KCI")
        self.epsilon = float(check_in_range(epsilon, name="epsilon", low=0, owner="KCI"))
        self.tol = float(check_in_range(tol, name="tol", low=0, high=1, owner="KCI"))
        self.random_state = check_in_range(random_state, name="random_state", low=0, inclusive="left", owner="KCI", integer=True)
        self.max_batch_bytes = check_in_range(max_batch_bytes, name="max_batch_bytes", low=0, owner="KCI", integer=True)
        frame = check_numeric_frame(data, name="data", min_rows=5, allow_constant=False)
        self._set_frame(frame)
        # z-scores with moments that do not overflow: raw columns near 1e154 would turn into zeros
        self._data = _standardized_values(frame, "KCI", ddof=1)
        n = self.n_samples
        # what FisherZ accepts, KCI accepts: linearly dependent columns are refused by both
        self._correlation = np.corrcoef(self._data, rowvar=False).reshape(self._data.shape[1], self._data.shape[1])
        if n > len(self.variables):
            check_linear_independence(self._correlation, self.variables)
        lowrank = self.approximation in ("nystrom", "rff")
        if n_components is None:
            n_components = {"nystrom": 100, "rff": 200}.get(self.approximation, 0)
        elif lowrank:
            check_in_range(n_components, name="n_components", low=1, inclusive="left", owner="KCI", integer=True)
        self.n_components = int(min(n_components, n)) if lowrank else None
        rng = np.random.default_rng(self.random_state)
        self._sub = np.sort(rng.permutation(n)[: min(n, 1000)])
        self._factors: OrderedDict = OrderedDict()  # LRU: key -> factor (exact path)
        self._factor_bytes = 0
        self.factor_cache_info_ = {"hits": 0, "misses": 0}
        if lowrank:
            m = self.n_components
            self._landmarks = np.sort(rng.choice(n, size=m, replace=False))
            self._rff_key = int(rng.integers(2**31 - 1))

    # ------------------------------------------------------------ kernels
    def _theta(self, k: int) -> float:
        n = self.n_samples
        if k == 0:
            sigma = 0.8 if n < 200 else (0.5 if n < 1200 else 0.3)
            return 1.0 / sigma**2
        sigma = 1.2 if n < 200 else (0.7 if n < 1200 else 0.4)
        return 1.0 / (sigma**2 * k)

    def _per_device(self, k: int) -> int:
        n = self.n_samples
        if self.approximation == "dense":
            per_query = 10 * n * n * 8
        else:
            # Low-rank queries run one at a time per device (inside the same kernel
            # call): their cost is dominated by O(n m^2) work that vectorises poorly,
            # and vmapped eigendecompositions inside loops have been seen to stall
            # XLA's CPU runtime.
            return 1
        return max(1, self.max_batch_bytes // per_query)

    def _rff_draws(self, k: int):
        m = self.n_components
        rng = np.random.default_rng([self._rff_key, k])
        return (
            rng.standard_normal((k + 1, m)),
            rng.standard_normal((1, m)),
            rng.standard_normal((max(k, 1), m))[:k] if k else np.zeros((0, m)),
            rng.uniform(0.0, 2.0 * np.pi, size=(3, m)),
        )

    def _test_group(self, xs, ys, ss):
        k = ss.shape[1]
        if self.n_samples <= len(self.variables):  # else checked once, on all columns, at construction
            if self.n_samples < k + 3:
                raise DataError(
                    f"KCI with |S| = {k} needs at least {k + 3} rows (with fewer, the {k + 2} columns [x, y, *S] are "
                    f"linearly dependent); the data have {self.n_samples} (in a search, set max_cond_size <= "
                    f"{max(self.n_samples - 3, 0)})"
                )
            _query_submatrices_full_rank(self._correlation, np.column_stack([xs, ys, ss]), self.variables)
        theta = self._theta(k)
        median = self.width == "median"
        per_dev = self._per_device(k)
        if self.approximation == "exact":
            if k == 0:
                out = self._uncond_factor(xs, ys, theta, median)
            else:
                out = self._cond_factor(xs, ys, ss, theta, median)
        elif k == 0:
            if self.approximation == "dense":
                out = self._uncond_exact(xs, ys, theta, median, per_dev)
            else:
                out = self._uncond_lowrank(xs, ys, theta, median, per_dev)
        else:
            out = self._cond(xs, ys, ss, theta, median, per_dev)
        stat, mean, var = out[:, 0], out[:, 1], out[:, 2]
        return stat, _gamma_sf(stat, mean, var)

    # ------------------------------------------------ exact, from factors
    def _cached(self, key, compute):
        """LRU cache of factors keyed by columns (and width), bounded in bytes."""
        cache = self._factors
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            self.factor_cache_info_["hits"] += 1
            return hit
        self.factor_cache_info_["misses"] += 1
        value = compute()
        cache[key] = value
        self._factor_bytes += value.nbytes
        while self._factor_bytes > _FACTOR_CACHE_BYTES and len(cache) > 1:
            _, old = cache.popitem(last=False)
            self._factor_bytes -= old.nbytes
        return value

    def _col_theta(self, cols, theta: float, median: bool) -> float:
        """Inverse squared width of the kernel of ``data[:, cols]``."""
        if not median:
            return theta
        compute = lambda: np.array(_median_theta_np(self._data[:, list(cols)], self._sub))  # noqa: E731
        return self._cached(("theta", tuple(cols)), compute)[()]

    def _x_theta(self, x: int, zset: tuple, theta: float, median: bool) -> float:
        """Inverse squared width of the X kernel, of ``[x, z/2]``."""
        if not median:
            return theta

        def compute():
            xa = np.column_stack([self._data[:, x], 0.5 * self._data[:, list(zset)]])
            return np.array(_median_theta_np(xa, self._sub))

        return self._cached(("theta-x", x, zset), compute)[()]

    def _var_factor(self, col: int, theta: float) -> np.ndarray:
        """Centred pivoted-Cholesky factor of one variable's kernel (cached)."""
        from . import _kernels

        return self._cached(
            ("y", col, theta), lambda: _kernels.pivoted_cholesky(self._data[:, [col]], theta, self.tol)
        )

    def _z_factor(self, zset: tuple, theta: float) -> np.ndarray:
        """Woodbury factor ``B`` of ``R_Z = I - B B^T`` for a conditioning set (cached)."""
        from . import _kernels

        def compute():
            lz = self._factors.get(("y", zset[0], theta)) if len(zset) == 1 else None  # a one-column set: its Y factor
            if lz is None:
                lz = _kernels.pivoted_cholesky(self._data[:, list(zset)], theta, self.tol)
            return _kernels.woodbury_factor(lz, self.epsilon)

        return self._cached(("z", zset, theta), compute)

    def _uncond_factor(self, xs, ys, theta, median):
        from . import _kernels

        cols = np.unique(np.concatenate([xs, ys]))
        facs = {int(c): self._var_factor(int(c), self._col_theta((int(c),), theta, median)) for c in cols}
        return _kernels.kci_uncond_factor_host(facs, xs, ys, self.n_samples)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_on_device", None)  # device copies of the data: a process's own, not picklable
        return state

    def _device_data(self, device):
        """The standardised data on ``device`` (copied once per device and test)."""
        import jax

        cache = self.__dict__.setdefault("_on_device", {})
        if device not in cache:
            cache[device] = jax.device_put(self._data, device)
        return cache[device]

    def _cond_factor(self, xs, ys, ss, theta, median):
        """Conditional queries, one kernel call per group of queries sharing ``(x, Z)``.

        The shapes of every call depend on ``n``, the number of variables, the bucket of
        ``|S|`` (:data:`_KCI_MIN_SET_BUCKET`), the rank buckets of the factors
        (:func:`_rank_bucket`) and the bucket of the group size: not on the number of
        queries, so a search compiles :func:`~discovery.citest._kernels.kci_x_gram` once
        and :func:`~discovery.citest._kernels.kci_cond_group` once per rank bucket.
        Groups are dealt round-robin to the JAX devices; the calls are asynchronous, so
        the devices (and the host, which builds the next group's inputs) work side by side.
        """
        import jax

        from . import _kernels

        n = self.n_samples
        k = ss.shape[1]
        zsets, zpos = np.unique(ss, axis=0, return_inverse=True)
        zpos = zpos.reshape(-1)
        ycols, ypos = np.unique(ys, return_inverse=True)
        zkeys = [tuple(int(c) for c in z) for z in zsets]
        ly = [self._var_factor(int(c), self._col_theta((int(c),), theta, median)) for c in ycols]
        bz = [self._z_factor(z, self._col_theta(z, theta, median)) for z in zkeys]
        if n <= _KCI_HOST_MAX_ROWS and jax.default_backend() == "cpu":
            return self._cond_factor_host(xs, ypos, zpos, zkeys, ly, bz, theta, median)
        ytab = _stack_padded(ly, _rank_bucket(max(f.shape[1] for f in ly), n), len(ly))
        zrank = _rank_bucket(max(f.shape[1] for f in bz), n)  # one bucket for the call: one program
        # groups of queries sharing (Z, x): sorted so that each group is a contiguous run
        order = np.lexsort((ypos, xs, zpos))
        key = np.stack([zpos[order], xs[order]], axis=1)
        starts = np.flatnonzero(np.r_[True, np.any(key[1:] != key[:-1], axis=1)])
        bounds = np.r_[starts, len(order)]
        width = max(_KCI_MIN_GROUP_BUCKET, next_pow2(int(np.diff(bounds).max())))
        kmax = max(_KCI_MIN_SET_BUCKET, next_pow2(k))
        devices = jax.devices()
        pending = []
        with jax.enable_x64(True):
            zdev: dict = {}
            for g, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
                members = order[lo:hi]
                j, x = int(zpos[members[0]]), int(xs[members[0]])
                device = devices[g % len(devices)]
                if (j, device) not in zdev:
                    bpad = np.zeros((n, zrank))
                    bpad[:, : bz[j].shape[1]] = bz[j]
                    zdev = {jd: v for jd, v in zdev.items() if jd[0] == j}  # one set at a time per device
                    zdev[(j, device)] = jax.device_put(bpad, device)
                zcols = np.zeros(kmax, dtype=np.int64)
                zcols[:k] = zkeys[j]
                zmask = np.zeros(kmax)
                zmask[:k] = 1.0
                tx = self._x_theta(x, zkeys[j], theta, median)
                kx = _kernels.kci_x_gram(self._device_data(device), x, zcols, zmask, np.float64(tx))
                lys = np.zeros((width,) + ytab.shape[1:])
                lys[: len(members)] = ytab[ypos[members]]
                valid = np.arange(width) < len(members)
                pending.append((members, _kernels.kci_cond_group(kx, zdev[(j, device)], lys, valid)))
            out = np.empty((len(xs), 3))
            for members, res in pending:
                out[members] = np.asarray(res)[: len(members)]
        return out

    def _cond_factor_host(self, xs, ypos, zpos, zkeys, ly, bz, theta, median):
        """:meth:`_cond_factor` with numpy (small ``n`` on a CPU backend): the same products, no compilation."""
        from . import _kernels

        out = np.empty((len(xs), 3))
        for j, zset in enumerate(zkeys):
            in_z = np.flatnonzero(zpos == j)
            for x in np.unique(xs[in_z]):
                members = in_z[xs[in_z] == x]
                kx = _kernels.kci_x_gram_host(self._data, int(x), zset, self._x_theta(int(x), zset, theta, median))
                out[members] = _kernels.kci_cond_group_host(kx, bz[j], [ly[i] for i in ypos[members]])
        return out

    # ------------------------------------------------ dense and low rank
    def _uncond_exact(self, xs, ys, theta, median, per_dev):
        from . import _kernels

        reps = (self._data, np.float64(theta), self._sub)
        return _run_batched(
            _kernels.kci_uncond_batch, reps, (xs, ys), per_device=per_dev, static={"median": median}
        )

    def _uncond_lowrank(self, xs, ys, theta, median, per_dev):
        from . import _kernels

        kind = self.approximation
        ox, oy, _, phase = self._rff_draws(0)
        omega = np.stack([ox[:1], oy])

        reps = (self._data, np.float64(theta), self._sub, self._landmarks, omega, phase[:2])
        return _run_batched(
            _kernels.lowrank_uncond_batch, reps, (xs, ys), per_device=per_dev,
            static={"median": median, "kind": kind}, mask=True,
        )

    def _cond(self, xs, ys, ss, theta, median, per_dev):
        from . import _kernels

        k = ss.shape[1]
        n = self.n_samples
        zsets, inverse = np.unique(ss, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        if self.approximation == "dense":
            per_set = n * n * 8
        else:
            per_set = (n * self.n_components + self.n_components**2) * 8
        max_sets = max(1, self.max_batch_bytes // per_set)
        out = np.empty((len(xs), 3))
        # blocks of conditioning sets whose cached R_Z fit in the memory budget
        for start in range(0, len(zsets), max_sets):
            block = zsets[start : start + max_sets]
            members = np.where((inverse >= start) & (inverse < start + len(block)))[0]
            m_pad = next_pow2(len(block))
            block = np.concatenate([block, np.repeat(block[:1], m_pad - len(block), axis=0)])
            qs = inverse[members] - start
            if self.approximation == "dense":
                kernel = _kernels.kci_cond_batch
                static = {"median": median}
                reps = (self._data, block, np.float64(theta), np.float64(self.epsilon), self._sub)
            else:
                kind = self.approximation
                m = self.n_components
                r = min(m, _VAR_RANK)
                blk = max(1, min(n, 2**21 // (r * r)))
                ox, oy, oz, phase = self._rff_draws(k)
                kernel = _kernels.lowrank_cond_batch
                static = {"median": median, "kind": kind, "block": blk, "var_rank": r}
                reps = (
                    self._data, block, np.float64(theta), np.float64(self.epsilon), self._sub,
                    self._landmarks, ox, oy, oz, phase,
                )
            out[members] = _run_batched(
                kernel, reps, (xs[members], ys[members], qs), per_device=per_dev, static=static,
                mask=kernel is _kernels.lowrank_cond_batch,
            )
        return out


# --------------------------------------------------------------------------- #
# chi-square / G-square
# --------------------------------------------------------------------------- #
class _DiscreteCITest(_DataCITest):
    """Stratified contingency-table tests on integer-coded data."""

    _gsq = False

    def __init__(self, data):
        frame = check_numeric_frame(data, name="data", min_rows=2, allow_constant=False)
        values = frame.to_numpy(dtype=float)
        nonint = [c for j, c in enumerate(frame.columns) if not np.all(values[:, j] == np.round(values[:, j]))]
        if nonint:
            raise DataError(
                f"{type(self).__name__} needs integer-coded discrete data; column(s) {nonint[:5]} "
                "hold non-integer values"
            )
        self._set_frame(frame)
        codes = np.empty(values.shape, dtype=np.int64)
        for j in range(values.shape[1]):
            codes[:, j] = np.unique(values[:, j], return_inverse=True)[1].reshape(-1)
        self._codes = codes
        self.cardinalities_ = codes.max(axis=0) + 1

    def _test_group(self, xs, ys, ss):
        n = self.n_samples
        card = self.cardinalities_
        k = ss.shape[1]
        mult = np.ones(ss.shape, dtype=np.int64)
        for j in range(k - 2, -1, -1):  # mixed radix over the (sorted) conditioning columns
            mult[:, j] = mult[:, j + 1] * card[ss[:, j + 1]]
        configs = max(int(np.prod(card[row].astype(float))) if k else 1 for row in ss) if len(ss) else 1
        # the mixed-radix key must fit in int64; otherwise fall back to a hash-free per-column rank
        if k and np.max(np.prod(card[ss].astype(float), axis=1)) >= 2**62:
            raise DataError(f"too many configurations of the conditioning set (|S| = {k}) to enumerate")
        n_strata = next_pow2(min(n, configs))
        cx = int(card[xs].max())
        cy = int(card[ys].max())
        per_dev = max(1, _DEFAULT_BATCH_BYTES // (8 * (n_strata * cx * cy * 6 + 8 * n)))

        from scipy import stats

        from . import _kernels

        static = {"n_strata": n_strata, "cx": cx, "cy": cy, "gsq": self._gsq}
        out = _run_batched(_kernels.discrete_batch, (self._codes,), (xs, ys, ss, mult), per_device=per_dev, static=static)
        stat, df = out[:, 0], np.rint(out[:, 1])
        pval = np.where(df > 0, stats.chi2.sf(stat, np.maximum(df, 1)), 1.0)
        return stat, pval


class ChiSquare(_DiscreteCITest):
    """Pearson chi-square test of conditional independence for discrete data.

    Parameters
    ----------
    data : pandas.DataFrame or array of shape (n_samples, n_variables)
        Integer-coded categorical data (any distinct values; each column is
        re-coded ``0 .. card - 1``).

    Attributes
    ----------
    variables : list of str
    n_samples : int
    cardinalities_ : numpy.ndarray of int
        Number of distinct values of each column.

    Notes
    -----
    The statistic sums ``(O - E)^2 / E`` over the ``x``-``y`` tables of every
    observed configuration of ``S``, with ``E`` the product of the stratum's
    margins. Degrees of freedom sum ``(|x| - 1 - empty rows) * (|y| - 1 - empty
    columns)`` over the observed strata; with zero degrees of freedom the p-value
    is 1. This is causal-learn's ``chisq`` (agreement to 1e-8 in the tests).

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import ChiSquare
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 2, size=1000)
    >>> b = (a + (rng.random(1000) < 0.2)) % 2
    >>> c = (b + (rng.random(1000) < 0.2)) % 2
    >>> test = ChiSquare(np.column_stack([a, b, c]))
    >>> bool(test.pvalue(0, 2) < 0.01), bool(test.pvalue(0, 2, [1]) > 0.05)
    (True, True)
    """

    name = "chisq"
    _gsq = False


class GSquare(_DiscreteCITest):
    """G-square (likelihood-ratio) test of conditional independence for discrete data.

    Parameters
    ----------
    data : pandas.DataFrame or array of shape (n_samples, n_variables)
        Integer-coded categorical data.

    Attributes
    ----------
    variables : list of str
    n_samples : int
    cardinalities_ : numpy.ndarray of int

    Notes
    -----
    The statistic is ``2 * sum(O * log(O / E))`` over the strata of ``S``; the
    degrees of freedom are those of :class:`ChiSquare`. This is causal-learn's
    ``gsq`` (agreement to 1e-8 in the tests).

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import GSquare
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 3, size=1000)
    >>> b = rng.integers(0, 3, size=1000)
    >>> test = GSquare(np.column_stack([a, b]))
    >>> bool(test.pvalue(0, 1) > 0.05)
    True
    """

    name = "gsq"
    _gsq = True


# --------------------------------------------------------------------------- #
# oracle
# --------------------------------------------------------------------------- #
class DSeparation(CITest):
    """Oracle "test" that reads independences off a known DAG by d-separation.

    The p-value is 1.0 when ``x`` and ``y`` are d-separated by ``S`` in the graph
    and 0.0 otherwise, so any ``alpha`` in (0, 1) recovers the graph's Markov
    equivalence class in a constraint-based search.

    Parameters
    ----------
    graph : networkx.DiGraph
        A DAG; its nodes are the variables.

    Attributes
    ----------
    variables : list
        The nodes of the graph, in the graph's order.
    n_samples : None
    graph : networkx.DiGraph

    Examples
    --------
    >>> import networkx as nx
    >>> from discovery.citest import DSeparation
    >>> oracle = DSeparation(nx.DiGraph([("A", "C"), ("B", "C")]))
    >>> oracle.pvalues([("A", "B", []), ("A", "B", ["C"])])
    array([1., 0.])
    """

    name = "dsep"

    def __init__(self, graph):
        if not isinstance(graph, nx.DiGraph):
            raise ParameterError(f"DSeparation needs a networkx.DiGraph; got {type(graph).__name__}")
        self.graph = check_dag(graph)
        self.variables = list(self.graph.nodes)
        self.n_samples = None
        self._lookup_cache = None

    def _test_group(self, xs, ys, ss):
        names = self.variables
        sep = np.array(
            [d_separated(self.graph, names[x], names[y], [names[c] for c in s]) for x, y, s in zip(xs, ys, ss)],
            dtype=float,
        )
        return sep, sep


# --------------------------------------------------------------------------- #
# factory
# --------------------------------------------------------------------------- #
CI_TESTS: dict[str, type[CITest]] = {
    "fisherz": FisherZ,
    "kci": KCI,
    "chisq": ChiSquare,
    "gsq": GSquare,
    "dsep": DSeparation,
}


def make_ci_test(name_or_instance, data=None, **kwargs) -> CITest:
    """Build a CI test from its name, or pass an existing one through.

    Parameters
    ----------
    name_or_instance : str or CITest
        One of ``CI_TESTS`` (``"fisherz"``, ``"kci"``, ``"chisq"``, ``"gsq"``,
        ``"dsep"``) or a :class:`CITest` instance (returned unchanged).
    data : DataFrame or array, optional
        The data; for ``"dsep"`` pass ``graph=`` instead (or the graph as ``data``).
    **kwargs
        Options of the test class (e.g. ``width=`` for KCI).

    Returns
    -------
    CITest

    Raises
    ------
    ParameterError
        For an unknown name (the error lists the known ones), options given with
        an instance, or missing data.

    Examples
    --------
    >>> import numpy as np
    >>> from discovery.citest import make_ci_test
    >>> test = make_ci_test("fisherz", np.random.default_rng(0).normal(size=(50, 3)))
    >>> type(test).__name__
    'FisherZ'
    """
    if isinstance(name_or_instance, CITest):
        if kwargs:
            raise ParameterError(f"options {sorted(kwargs)} cannot be applied to an existing CI test instance")
        return name_or_instance
    name = check_option(name_or_instance, list(CI_TESTS), name="ci_test", owner="make_ci_test")
    cls = CI_TESTS[name]
    if cls is DSeparation:
        graph = kwargs.pop("graph", None)
        if graph is None and isinstance(data, nx.DiGraph):
            graph = data
        if graph is None:
            raise ParameterError("the 'dsep' oracle needs the true DAG: make_ci_test('dsep', graph=dag)")
        if kwargs:
            raise ParameterError(f"unexpected options for 'dsep': {sorted(kwargs)}")
        return DSeparation(graph)
    if data is None:
        raise ParameterError(f"the {name!r} CI test needs data")
    return cls(data, **kwargs)
