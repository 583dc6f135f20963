"""Time-series causal discovery: PCMCI (Runge et al. 2019) and PCMCI+ (Runge 2020).

Both learn a :class:`scm.LaggedGraph` from one or several multivariate time series,
assuming stationarity (the same links at every time), causal sufficiency and no links longer
than ``tau_max``. The work is split into phases, each a function of this module:

1. :func:`pc1_parents` -- *condition selection*. For every target ``X_j(t)``, start from all
   lagged candidates ``X_i(t - tau)``, ``1 <= tau <= tau_max``, and remove a candidate when it
   is independent of ``X_j(t)`` given the ``k`` strongest other candidates, for
   ``k = 0, 1, 2, ...``; candidates are re-ranked by their weakest dependence after every
   level. The result is a small superset of the lagged parents.
2. :func:`mci_tests` -- *momentary conditional independence* (PCMCI). Test
   ``X_i(t - tau) _||_ X_j(t) | P(X_j(t)), P(X_i(t - tau))`` (the parents of ``X_i`` shifted
   by ``tau``) for every candidate link; a link is kept when its p-value (optionally FDR
   adjusted) is at most ``alpha``.
3. PCMCI+ replaces phase 2 by a PC-style search with MCI conditions:
   :func:`mci_skeleton` removes lagged and contemporaneous adjacencies given growing sets of
   contemporaneous neighbours (always also conditioning on the lagged parents of both ends),
   :func:`orient_contemporaneous_colliders` orients unshielded colliders
   (``"majority"``, ``"conservative"`` or the plain separating-set rule) and
   :func:`orient_contemporaneous_rules` applies Meek's rules R1-R3 with conflict marking.

Every CI test of one level (or one phase) is sent in one batch through the cached CI-test
runner the constraint-based family uses too (:mod:`discovery.constraint._runner`: a test asked
twice runs once, also across phases when an estimator shares the runner): with the
partial-correlation test (``"parcorr"``) that is one jitted, vmapped JAX call
(:mod:`discovery.timeseries._kernels`) in float64 on the *lagged design* -- one column per
(variable, lag), lags ``0 .. 2 tau_max``, one row per time step ``t >= 2 tau_max`` of every
series -- so every test uses the same samples, as in tigramite.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> x = np.zeros((1000, 2))
>>> for t in range(1, 1000):
...     x[t, 0] = 0.6 * x[t - 1, 0] + rng.normal()
...     x[t, 1] = 0.5 * x[t - 1, 1] + 0.7 * x[t - 1, 0] + rng.normal()
>>> PCMCI(tau_max=2).fit(pd.DataFrame(x, columns=["A", "B"])).graph_
LaggedGraph(nodes=['A', 'B'], edges=['A(t-1) -> A(t)', 'A(t-1) -> B(t)', 'B(t-1) -> B(t)'])
"""

from __future__ import annotations

import itertools
import logging
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

from scm._exceptions import DataError, ParameterError, UnknownNodeError
from scm._lagged import LaggedGraph
from scm._validation import as_dataframe, check_in_range

from .._base import AnyOf, Boolean, HasAttributes, InstanceOf, Interval, Options, ParamsMixin, ci_test_constraints
from .._utils import adjust_pvalues, next_pow2, standardize
from .._utils import progress as _progress
from ..constraint import CIRunner

__all__ = [
    "PCMCI",
    "PCMCIPlus",
    "LaggedDesign",
    "lagged_design",
    "pc1_parents",
    "PC1Result",
    "mci_tests",
    "mci_skeleton",
    "MCISkeletonResult",
    "orient_contemporaneous_colliders",
    "CollidersResult",
    "orient_contemporaneous_rules",
]

logger = logging.getLogger(__name__)

CI_TEST_NAMES = ("parcorr", "kci")
#: The constraints of ``ci_test`` / ``ci_test_kwargs``, for the estimators and the phase functions.
_CI_TEST_CONSTRAINTS = ci_test_constraints(CI_TEST_NAMES, instance="a CITest instance over the time-unrolled variables (name, -lag)")
COLLIDER_RULES = ("majority", "conservative", "none")
FDR_METHODS = ("bh",)

# contemporaneous / lagged edge marks (mark[i, j, lag] describes X_i(t - lag) *-* X_j(t))
_NONE, _CIRCLE, _OUT, _IN, _CONFLICT = 0, 1, 2, 3, 4

_WIDTH = 256  # queries vectorised at once
_MIN_K = 32  # smallest padded conditioning size: one compiled program serves |Z| <= 32
_MIN_CHUNKS = 64  # smallest capacity (in chunks of _WIDTH queries) of one kernel call




# ---------------------------------------------------------------------------- data
@dataclass(frozen=True)
class LaggedDesign:
    """The lagged design matrix shared by every CI test of one fit.

    Attributes
    ----------
    names : list of str
        The variable names (``N`` of them).
    window : int
        The largest lag in the design (``2 * tau_max``).
    values : numpy.ndarray of shape (n_samples, N * (window + 1))
        Column ``lag * N + i`` holds ``X_i(t - lag)``; one row per usable time step of every
        series (``t >= window``). Masked entries hold 0.
    valid : numpy.ndarray of bool, same shape, or None
        ``False`` where the value is masked; ``None`` without a mask.
    n_timepoints : tuple of int
        The length of each series.
    """

    names: list
    window: int
    values: np.ndarray
    valid: np.ndarray | None
    n_timepoints: tuple

    @property
    def n_samples(self) -> int:
        """Number of rows (usable time steps)."""
        return int(self.values.shape[0])

    def column(self, var: int, lag: int) -> int:
        """Column of ``X_var(t - lag)``."""
        return lag * len(self.names) + var

    def label(self, col: int) -> str:
        """``"name(t-lag)"`` of a column."""
        lag, var = divmod(int(col), len(self.names))
        return f"{self.names[var]}(t)" if lag == 0 else f"{self.names[var]}(t-{lag})"


def _series_list(data, name: str) -> list:
    """The series of ``data``: one for a DataFrame, Series or 1-D / 2-D array, one per item of a list or a 3-D array.

    A list (or tuple) is several series, each a DataFrame or a 2-D ``(T, N)`` array, or one
    univariate series when its items are numbers. A list of 1-D items (arrays, lists,
    Series) is refused: it reads as the rows of one series as well as several univariate
    series (``list(df.to_numpy())`` and ``[s1, s2]`` look alike), and a wrong guess gives
    a graph of the wrong variables without a word.
    """
    if isinstance(data, (pd.DataFrame, pd.Series)):
        return [data]
    if isinstance(data, (list, tuple)):
        if len(data) == 0:
            raise DataError(f"{name} is an empty list; give at least one time series")
        dims = {np.ndim(item) for item in data}
        if dims == {0}:
            return [np.asarray(data)]  # numbers: one univariate series, as a 1-D array
        if 1 in dims or 0 in dims:
            raise DataError(
                f"{name} is a list of {len(data)} one-dimensional items (rows or univariate series?); a list holds "
                f"several series, each a DataFrame or a 2-D (T, N) array. For one series whose rows these are, pass "
                f"np.asarray({name}) (or a DataFrame); for several univariate series, pass each as a column "
                f"(np.asarray(s)[:, None])"
            )
        return list(data)
    try:
        arr = np.asarray(data)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise DataError(f"{name} must be a DataFrame, a list of DataFrames or an array; got {type(data).__name__}") from exc
    if arr.ndim == 3:
        if arr.shape[0] == 0:
            raise DataError(f"{name} is a 3-D array of shape {arr.shape}: it holds no series")
        return [arr[m] for m in range(arr.shape[0])]
    if arr.ndim in (1, 2):
        return [arr]
    raise DataError(f"{name} must be 2-D (T, N) or 3-D (M, T, N); got an array of shape {arr.shape}")


def lagged_design(data, tau_max: int, mask=None) -> LaggedDesign:
    """Validate time series and build the lagged design for lags ``0 .. 2 tau_max``.

    Parameters
    ----------
    data : DataFrame (T, N), array (T, N) or (M, T, N), or list of DataFrames / arrays
        One or several series of the same variables (rows in time order). Column names
        become variable names (arrays: ``X0, X1, ...``). A list holds several series, each
        a DataFrame or a 2-D array (a list of numbers is one univariate series); a list of
        1-D items (rows? univariate series?) is refused as ambiguous.
    tau_max : int
        Largest lag of a link (the design covers ``2 * tau_max``, the MCI conditions).
    mask : same structure as ``data`` of bool, optional
        ``True`` marks a missing or excluded value (it may hold NaN). A test drops every time
        step whose lagged window touches a masked value of one of its variables.

    Returns
    -------
    LaggedDesign

    Raises
    ------
    DataError
        For non-numeric columns, NaN/inf outside the mask, a constant series, series of
        different variables, or too few time steps for ``tau_max`` (all named).

    Examples
    --------
    >>> import numpy as np
    >>> d = lagged_design(np.arange(12.0).reshape(6, 2) ** 2, tau_max=1)
    >>> d.values.shape, d.label(3)
    ((4, 6), 'X1(t-1)')

    See Also
    --------
    pc1_parents, mci_tests, mci_skeleton : the phases that run on it.
    """
    check_in_range(tau_max, name="tau_max", low=0, inclusive="left", integer=True, owner="lagged_design")
    frames = [as_dataframe(s, name="data") for s in _series_list(data, "data")]
    names = list(frames[0].columns)
    if not names:
        raise DataError("data has no columns; give at least one variable")
    for m, f in enumerate(frames[1:], 1):
        if list(f.columns) != names:
            raise DataError(f"series {m} has columns {list(f.columns)[:10]}; series 0 has {names[:10]}: all series need the same variables")
    if mask is not None:
        masks = _series_list(mask, "mask")
        if len(masks) != len(frames):
            raise DataError(f"mask has {len(masks)} series; data has {len(frames)}")
    else:
        masks = [None] * len(frames)
    window = 2 * int(tau_max)
    values, valid, lengths = [], [], []
    any_masked = False
    for m, (f, mk) in enumerate(zip(frames, masks)):
        where = "data" if len(frames) == 1 else f"data series {m}"
        if f.shape[0] <= window:  # before the dtypes: the columns of an empty frame are of dtype object
            raise DataError(
                f"{where} has T={f.shape[0]} time points; tau_max={tau_max} needs more than 2 * tau_max = {window} "
                "(every test drops the first 2 * tau_max steps)"
            )
        bad = [c for c in f.columns if not (pd.api.types.is_numeric_dtype(f[c]) or pd.api.types.is_bool_dtype(f[c]))]
        if bad:
            kinds = ", ".join(f"{c!r} ({f[c].dtype})" for c in bad[:5])
            raise DataError(f"{where} must be numeric; non-numeric column(s): {kinds}")
        x = f.to_numpy(dtype=float)
        if mk is None:
            mk = np.zeros(x.shape, dtype=bool)
        else:
            mk = np.asarray(mk.to_numpy() if isinstance(mk, (pd.DataFrame, pd.Series)) else mk)
            if mk.ndim == 1:
                mk = mk[:, None]
            if mk.shape != x.shape:
                raise DataError(f"the mask of {where} has shape {mk.shape}; the data have shape {x.shape}")
            if mk.dtype != bool:
                if not np.isin(mk, (0, 1)).all():
                    raise DataError("mask must be boolean (True marks a masked value)")
                mk = mk.astype(bool)
        finite = np.isfinite(x) | mk
        if not finite.all():
            col = int(np.where(~finite.all(axis=0))[0][0])
            row = int(np.where(~finite[:, col])[0][0])
            raise DataError(
                f"{where} column {names[col]!r} holds NaN or inf at row {f.index[row]!r} outside the mask; "
                "mask it (mask=...) or impute it"
            )
        T = x.shape[0]
        any_masked |= bool(mk.any())
        x = np.where(mk, 0.0, x)
        values.append(np.concatenate([x[window - lag : T - lag] for lag in range(window + 1)], axis=1))
        valid.append(np.concatenate([~mk[window - lag : T - lag] for lag in range(window + 1)], axis=1))
        lengths.append(T)
    # constant series (over the unmasked values of all series)
    for i, c in enumerate(names):
        vals = np.concatenate([v[:, i][ok[:, i]] for v, ok in zip(values, valid)])
        if vals.size == 0 or vals.max() == vals.min():
            raise DataError(f"data column {c!r} is constant; a constant series carries no information")
    design = np.concatenate(values, axis=0)
    ok = np.concatenate(valid, axis=0) if any_masked else None
    return LaggedDesign(names=names, window=window, values=design, valid=ok, n_timepoints=tuple(lengths))


# --------------------------------------------------------------------------- CI tests
def _t_pvalues(r, df):
    """Two-sided p-values of Student's t test of a (partial) correlation ``r`` with ``df`` dof."""
    r = np.asarray(r, dtype=float)
    df = np.asarray(df, dtype=float)
    out = np.full(r.shape, np.nan)
    ok = (df >= 1) & np.isfinite(r)
    one = ok & (np.abs(np.abs(r) - 1.0) <= np.finfo(float).tiny)
    out[one] = 0.0
    rest = ok & ~one
    from scipy import stats  # here, not at import: importing the family stays light (docs/architecture.md)

    t = r[rest] * np.sqrt(df[rest] / (1.0 - r[rest] ** 2))
    out[rest] = 2.0 * stats.t.sf(np.abs(t), df[rest])
    return out


class _ParCorrBackend:
    """Partial-correlation (ParCorr) tests on the lagged design, batched in JAX.

    A backend of :class:`discovery.constraint._runner.CIRunner`: keys are ``(x, y, Z)`` with
    design columns, ``x < y`` and ``Z`` sorted. The statistic is the partial correlation ``r``
    (the correlation of the least-squares residuals of ``x`` and ``y`` on ``Z``), the p-value
    two-sided from Student's t with ``n - 2 - |Z|`` degrees of freedom: tigramite's
    ``ParCorr(significance="analytic")``. Every request is one jitted kernel call.
    """

    def __init__(self, design: LaggedDesign):
        self.design = design
        self.variables = [design.label(c) for c in range(design.values.shape[1])]
        # z-scores with moments that cannot overflow: the partial correlations do not depend on the
        # units of the series, and raw columns near 1e154 would overflow their squares
        self.values, _, _ = standardize(design.values, self.variables, owner="ParCorr")
        self.corr = None
        if design.valid is None:
            xs = self.values
            self.corr = (xs.T @ xs) / xs.shape[0]
            # With more rows than design columns the whole design must have full rank: a
            # dependence there is a series that is a linear function of others. With fewer rows
            # it never has (wide, short series); each test then checks its own columns.
            if xs.shape[0] > xs.shape[1]:
                w = np.linalg.eigvalsh(self.corr)
                if w[0] <= 1e-10 * max(1.0, w[-1]):
                    raise _singular(_null_columns(self.corr, self.variables))

    def _dependent(self, cols) -> list:
        """The columns among ``cols`` (one test's) that are linearly dependent, by label."""
        if self.corr is not None:
            sub = self.corr[np.ix_(cols, cols)]
        else:
            rows = self.design.valid[:, cols].all(axis=1)
            sub = np.corrcoef(self.values[rows][:, cols], rowvar=False)
        return _null_columns(sub, [self.variables[c] for c in cols])

    def compute(self, keys):
        """Partial correlations and p-values of ``keys`` (normalised ``(x, y, Z)`` design columns)."""
        import jax  # at the first test, not at import: importing the family does not import JAX

        from . import _kernels as _ts_kernels

        k = max(len(z) for _, _, z in keys)
        kpad = max(_MIN_K, next_pow2(k))
        n_q = len(keys)
        chunks = max(_MIN_CHUNKS, next_pow2(-(-n_q // _WIDTH)))
        cap = chunks * _WIDTH
        idx = np.zeros((cap, kpad + 2), dtype=np.int32)
        active = np.zeros((cap, kpad + 2), dtype=bool)
        sizes = np.zeros(n_q, dtype=np.int64)
        sizes[:] = np.fromiter((len(z) for _, _, z in keys), dtype=np.int64, count=n_q)
        idx[:n_q, 0] = np.fromiter((key[0] for key in keys), dtype=np.int32, count=n_q)
        idx[:n_q, 1] = np.fromiter((key[1] for key in keys), dtype=np.int32, count=n_q)
        flat = np.fromiter(itertools.chain.from_iterable(z for _, _, z in keys), dtype=np.int32, count=int(sizes.sum()))
        rows = np.repeat(np.arange(n_q), sizes)
        idx[rows, 2 + np.arange(flat.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)] = flat
        active[:n_q] = np.arange(kpad + 2)[None, :] < (sizes + 2)[:, None]
        active[n_q:, :2] = True  # padding queries: a harmless x, y
        idx[n_q:, 1] = 1
        n_chunks = np.int32(-(-n_q // _WIDTH))
        idx = idx.reshape(chunks, _WIDTH, kpad + 2)
        active = active.reshape(chunks, _WIDTH, kpad + 2)
        with jax.enable_x64(True):
            if self.design.valid is None:
                r = np.asarray(_ts_kernels.parcorr_batch(self.corr, idx, active, n_chunks)).reshape(-1)[:n_q]
                n = np.full(n_q, self.design.n_samples, dtype=float)
            else:
                out = np.asarray(
                    _ts_kernels.parcorr_masked_batch(self.values, self.design.valid, idx, active, n_chunks)
                ).reshape(-1, 2)[:n_q]
                r, n = out[:, 0], out[:, 1]
        logger.debug("parcorr: %d tests with |Z| <= %d in one call", n_q, k)
        df = n - 2 - sizes
        runs = df >= 1
        singular = runs & ~np.isfinite(r)  # enough rows, yet the test's own columns are dependent
        if singular.any():
            x, y, z = keys[int(np.argmax(singular))]
            raise _singular(self._dependent([x, y, *z]))
        if not runs.all():
            worst = int(np.argmin(df))
            logger.warning(
                "parcorr: %d of %d tests skipped: their conditioning sets (up to %d columns, on %d rows) leave no "
                "degree of freedom (n - 2 - |Z| < 1); their p-value is NaN, no evidence of dependence (as in "
                "tigramite). Lower tau_max, cap the conditioning sets (max_conds_dim) or give longer series",
                int((~runs).sum()), n_q, int(sizes[worst]), int(n[worst]),
            )
        return r, _t_pvalues(r, df)


def _null_columns(corr, labels) -> list:
    """The labels that carry the smallest eigenvector of ``corr`` (the columns of a linear dependence)."""
    w, v = np.linalg.eigh(corr)
    null = np.abs(v[:, 0])
    return [labels[j] for j in np.where(null > 1e-6 * null.max())[0]]


def _singular(columns) -> DataError:
    return DataError(
        f"the lagged design is singular: columns {list(columns)[:10]} are linearly dependent "
        "(a series is a linear function of others or of its own past); drop one of them"
    )


def _design_labels(test, design: LaggedDesign) -> list:
    """The variable of ``test`` that stands for each design column: ``(name, -lag)`` or ``"name(t-lag)"``."""
    names = design.names
    N = len(names)

    def as_tuple(c):
        lag, var = divmod(int(c), N)
        return (names[var], -lag)

    known = set(test.variables)
    cols = range(N * (design.window + 1))
    if all(as_tuple(c) in known for c in cols):
        return [as_tuple(c) for c in cols]
    if all(design.label(c) in known for c in cols):
        return [design.label(c) for c in cols]
    missing = [design.label(c) for c in cols if as_tuple(c) not in known and design.label(c) not in known]
    raise ParameterError(
        "the CI test instance passed as 'ci_test' must have the time-unrolled variables, named "
        f"(name, -lag) or 'name(t-lag)', for lags 0 .. 2 * tau_max = {design.window}; missing {missing[:5]}"
    )


def _lagged_runner(design: LaggedDesign, ci_test="parcorr", ci_test_kwargs=None, *, owner: str) -> CIRunner:
    """The cached CI-test runner of a time-series search on ``design`` (the one place that builds it).

    ``"parcorr"``: :class:`_ParCorrBackend`; ``"kci"``: :class:`discovery.KCI` on the
    (unmasked) design rows, ``ci_test_kwargs`` its options; a CITest instance over the
    time-unrolled variables, named ``(name, -lag)`` or ``"name(t-lag)"``. ``owner`` is the
    estimator or phase function named in errors.
    """
    from ..citest import KCI, resolve_ci_test

    if not isinstance(design, LaggedDesign):
        raise ParameterError(
            f"The 'design' parameter of {owner} must be a LaggedDesign (see lagged_design); got {type(design).__name__} instead."
        )
    for name, value in (("ci_test", ci_test), ("ci_test_kwargs", ci_test_kwargs)):
        _CI_TEST_CONSTRAINTS[name].check(value, name=name, owner=owner)
    if not isinstance(ci_test, str):
        test = resolve_ci_test(ci_test, ci_test_kwargs, owner=owner, names=CI_TEST_NAMES)
        return CIRunner.from_ci_test(test, _design_labels(test, design))
    tau_max = design.window // 2
    # What a test needs is its own degrees of freedom, n - 2 - |Z| >= 1 (ParCorr's t test):
    # checked per test, where a test that cannot run is skipped with a warning. Here only the
    # smallest test, without conditions, must be able to run.
    minimum = 3
    if design.n_samples < minimum:
        raise DataError(
            f"too few samples after lagging: {design.n_samples} time steps remain with tau_max={tau_max} "
            f"(2 * tau_max = {design.window} are dropped per series); a test needs at least {minimum}. "
            "Lower tau_max or give longer series."
        )
    kwargs = dict(ci_test_kwargs or {})
    if ci_test == "parcorr":
        if kwargs:
            raise ParameterError(f"ci_test='parcorr' takes no options; got ci_test_kwargs={kwargs!r}")
        return CIRunner(_ParCorrBackend(design))
    values = design.values
    if design.valid is not None:
        values = values[design.valid.all(axis=1)]
        if values.shape[0] < minimum:
            raise DataError(f"too few unmasked time steps for KCI: {values.shape[0]}")
    labels = [design.label(c) for c in range(values.shape[1])]
    return CIRunner.from_ci_test(KCI(pd.DataFrame(values, columns=labels), **kwargs))


def _phase_runner(design, ci_test, ci_test_kwargs, runner, owner) -> CIRunner:
    """``runner`` (shared by an estimator between phases; it must run on the columns of ``design``) or a new one."""
    if runner is None:
        return _lagged_runner(design, ci_test, ci_test_kwargs, owner=owner)
    if not isinstance(runner, CIRunner):
        raise ParameterError(f"The 'runner' parameter of {owner} must be a CIRunner; got {type(runner).__name__} instead.")
    if not isinstance(design, LaggedDesign):
        raise ParameterError(
            f"The 'design' parameter of {owner} must be a LaggedDesign (see lagged_design); got {type(design).__name__} instead."
        )
    if len(runner.names) != design.values.shape[1]:
        raise ParameterError(
            f"The 'runner' passed to {owner} runs on {len(runner.names)} columns; the design has {design.values.shape[1]}."
        )
    return runner


# ------------------------------------------------------------------ background knowledge
@dataclass(frozen=True)
class _Links:
    """Candidate links after background knowledge: what may be tested and what is fixed."""

    forbidden: frozenset  # (i, j, lag) indices; lag 0 forbids the adjacency both ways
    required: frozenset  # (i, j, lag): X_i(t - lag) -> X_j(t) always present

    def allowed(self, i, j, lag) -> bool:
        if lag == 0:
            return i != j and (i, j, 0) not in self.forbidden and (j, i, 0) not in self.forbidden
        return (i, j, lag) not in self.forbidden

    def fixed(self, i, j, lag) -> bool:
        if lag == 0:
            return (i, j, 0) in self.required or (j, i, 0) in self.required
        return (i, j, lag) in self.required


def _check_background(knowledge, names, tau_min, tau_max, owner) -> _Links:
    if knowledge is None:
        return _Links(frozenset(), frozenset())
    if isinstance(knowledge, Mapping):
        unknown = set(knowledge) - {"required", "forbidden"}
        if unknown:
            raise ParameterError(f"background_knowledge of {owner} takes the keys 'required' and 'forbidden'; got {sorted(unknown)}")
        req, forb = knowledge.get("required", ()), knowledge.get("forbidden", ())
    elif hasattr(knowledge, "required") and hasattr(knowledge, "forbidden"):
        req, forb = knowledge.required, knowledge.forbidden
    else:
        raise ParameterError(
            f"The 'background_knowledge' parameter of {owner} must be None or a dict "
            "{'required': [(source, target, lag), ...], 'forbidden': [...]}; "
            f"got {type(knowledge).__name__} instead."
        )
    pos = {n: i for i, n in enumerate(names)}

    def parse(links, what):
        out = set()
        for e in links:
            e = tuple(e)
            if len(e) != 3:
                raise ParameterError(f"{what} links must be (source, target, lag) triples; got {e!r}")
            s, t, lag = e
            for v in (s, t):
                if v not in pos:
                    raise UnknownNodeError(f"background knowledge names {v!r}, which is not a variable (known: {list(names)[:10]})")
            if isinstance(lag, bool) or not isinstance(lag, numbers.Integral) or not tau_min <= lag <= tau_max:
                raise ParameterError(f"the lag of the {what} link {e!r} must be an int in [tau_min, tau_max] = [{tau_min}, {tau_max}]")
            if lag == 0 and s == t:
                raise ParameterError(f"the {what} link {e!r} is a contemporaneous self-loop")
            out.add((pos[s], pos[t], int(lag)))
        return frozenset(out)

    required, forbidden = parse(req, "required"), parse(forb, "forbidden")
    clash = [(names[i], names[j], lag) for i, j, lag in required if (i, j, lag) in forbidden or (lag == 0 and (j, i, 0) in forbidden)]
    if clash:
        raise ParameterError(f"background knowledge both requires and forbids {clash[0]!r}")
    both = [(names[i], names[j]) for i, j, lag in required if lag == 0 and (j, i, 0) in required]
    if both:
        raise ParameterError(f"background knowledge requires the contemporaneous link {both[0]!r} in both directions")
    import networkx as nx

    contemp = nx.DiGraph([(i, j) for i, j, lag in required if lag == 0])
    if contemp.number_of_edges() and not nx.is_directed_acyclic_graph(contemp):
        cycle = [names[u] for u, _ in nx.find_cycle(contemp)]
        raise ParameterError(f"the required contemporaneous links form a cycle: {' -> '.join(cycle + cycle[:1])}")
    return _Links(forbidden=forbidden, required=required)


# ---------------------------------------------------------------------------- PC1
@dataclass(frozen=True)
class PC1Result:
    """What :func:`pc1_parents` found.

    Attributes
    ----------
    parents : dict
        ``j -> [(i, lag), ...]``: the selected lagged conditions of every target, strongest
        first (ranked by the smallest absolute statistic over the tests).
    pval_max : dict
        ``j -> {(i, lag): largest p-value over its tests}``.
    val_at_max : dict
        ``j -> {(i, lag): statistic of the test with the largest p-value}``.
    n_levels : int
        The number of levels run.
    names : tuple
        The variable names (``i``, ``j`` index them).
    """

    parents: dict
    pval_max: dict
    val_at_max: dict
    n_levels: int
    names: tuple = ()

    @property
    def named_parents(self) -> dict:
        """``target -> [(source, lag), ...]``: :attr:`parents` by variable names."""
        names = self.names
        return {names[j]: [(names[i], lag) for i, lag in ps] for j, ps in self.parents.items()}


def _check_params(owner, **params) -> None:
    """Check phase-function parameters against the estimators' constraints table."""
    for name, value in params.items():
        _PHASE_CONSTRAINTS[name].check(value, name=name, owner=owner)


def _check_lags(design, tau_min, tau_max, owner) -> tuple[int, int]:
    """``tau_min <= tau_max``, both ints >= 0, and the design long enough for ``tau_max``."""
    _check_params(owner, tau_min=tau_min, tau_max=tau_max)
    if tau_max < tau_min:
        raise ParameterError(f"The 'tau_max' parameter of {owner} must be >= tau_min = {tau_min}; got {tau_max} instead.")
    if 2 * int(tau_max) > design.window:
        raise ParameterError(
            f"The 'tau_max' parameter of {owner} is {tau_max}, but the design covers lags 0 .. {design.window}: "
            f"build it with lagged_design(data, tau_max={tau_max})."
        )
    return int(tau_min), int(tau_max)


def _parents_of(parents, design: LaggedDesign, owner: str) -> dict:
    """``j -> [(i, lag), ...]`` (indices) from a :class:`PC1Result` or a mapping by index or by name."""
    if isinstance(parents, PC1Result):
        return parents.parents
    if not isinstance(parents, Mapping):
        raise ParameterError(
            f"The 'parents' parameter of {owner} must be a PC1Result or a dict target -> [(source, lag), ...]; "
            f"got {type(parents).__name__} instead."
        )
    names = design.names
    N = len(names)
    pos = {n: i for i, n in enumerate(names)}

    def index(v):
        if v in pos:
            return pos[v]
        if isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v < N:
            return int(v)
        raise UnknownNodeError(f"{owner}: parents name {v!r}, which is not a variable (known: {names[:10]})")

    out = {j: [] for j in range(N)}
    for target, ps in parents.items():
        out[index(target)] = [(index(s), int(lag)) for s, lag in ps]
    return out


def pc1_parents(
    design: LaggedDesign,
    ci_test="parcorr",
    *,
    tau_min: int = 1,
    tau_max: int = 1,
    pc_alpha: float = 0.2,
    max_conds_dim: int | None = None,
    max_combinations: int = 1,
    background_knowledge=None,
    ci_test_kwargs: dict | None = None,
    progress: bool = False,
    runner: CIRunner | None = None,
) -> PC1Result:
    """PC1 condition selection: a superset of the lagged parents of every variable.

    For every target ``j`` the candidates are ``(i, lag)`` for all ``i`` and
    ``max(1, tau_min) <= lag <= tau_max`` (minus forbidden links), in the order of ``i``
    then ``lag``. At level ``k = 0, 1, ...`` every candidate is tested against ``X_j(t)``
    given the first ``max_combinations`` size-``k`` subsets of the other candidates (in the
    current ranking); it is removed if some test has ``p > pc_alpha``. After each level the
    candidates are re-ranked by the smallest absolute statistic over their tests. A target
    stops when it has at most ``k`` candidates. Every test of a level (all targets) is sent
    in one batch.

    Parameters
    ----------
    design : LaggedDesign
        The lagged design of the data (:func:`lagged_design`, built with at least ``tau_max``).
    ci_test : {"parcorr", "kci"} or CITest, default "parcorr"
        As in :class:`PCMCI`: the batched partial correlation, KCI, or a CI test over the
        time-unrolled variables.
    tau_min, tau_max : int, default 1
        The lags of the candidate links.
    pc_alpha : float, default 0.2
        Significance level in (0, 1): a candidate with ``p > pc_alpha`` is removed.
    max_conds_dim : int, optional
        Largest ``k`` (default: the number of candidates).
    max_combinations : int, default 1
        Conditioning subsets tested per candidate and level.
    background_knowledge : dict, optional
        ``{"required": [(source, target, lag), ...], "forbidden": [...]}``, as in
        :class:`PCMCI`: forbidden links are not candidates, required ones are never tested
        nor removed.
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test="kci"``.
    progress : bool, default False
        A tqdm progress bar over the levels.
    runner : CIRunner, optional
        A cached runner on ``design`` shared with the MCI phases (an estimator passes one;
        ``ci_test`` and ``ci_test_kwargs`` are then not used).

    Returns
    -------
    PC1Result

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((500, 2))
    >>> for t in range(1, 500):
    ...     x[t, 0] = 0.6 * x[t - 1, 0] + rng.normal()
    ...     x[t, 1] = 0.7 * x[t - 1, 0] + rng.normal()
    >>> design = lagged_design(pd.DataFrame(x, columns=["A", "B"]), tau_max=2)
    >>> pc1 = pc1_parents(design, tau_max=2, pc_alpha=0.05)
    >>> pc1.named_parents
    {'A': [('A', 1)], 'B': [('A', 1)]}

    See Also
    --------
    lagged_design : the design.
    mci_tests : PCMCI's next phase.
    mci_skeleton : PCMCI+'s next phase.
    """
    owner = "pc1_parents"
    runner = _phase_runner(design, ci_test, ci_test_kwargs, runner, owner)
    tau_min, tau_max = _check_lags(design, tau_min, tau_max, owner)
    _check_params(owner, pc_alpha=pc_alpha, max_conds_dim=max_conds_dim, max_combinations=max_combinations, progress=progress)
    links = _check_background(background_knowledge, design.names, tau_min, tau_max, owner)
    tester = runner
    N = len(design.names)
    lo = max(1, tau_min)
    col = design.column
    parents = {j: [(i, lag) for i in range(N) for lag in range(lo, tau_max + 1) if links.allowed(i, j, lag)] for j in range(N)}
    pval_max = {j: {p: None for p in parents[j]} for j in range(N)}
    val_at = {j: {p: None for p in parents[j]} for j in range(N)}
    val_min: dict = {j: {} for j in range(N)}
    max_dim = N * (tau_max - lo + 1) if max_conds_dim is None else int(max_conds_dim)
    active = list(range(N))
    n_levels = 0
    for k in _progress(range(max_dim + 1), progress, desc="PC1", unit="level"):
        active = [j for j in active if len(parents[j]) - 1 >= k]
        if not active:
            break
        plan = []
        keys = []
        # The first max_combinations k-subsets (in lexicographic order) of a sequence use only its
        # first k + max_combinations - 1 items: the other candidates are not listed beyond those.
        take = k + max_combinations - 1
        for j in active:
            cand = parents[j]
            cols = [col(i, lag) for i, lag in cand]
            for at, p in enumerate(cand):
                if links.fixed(p[0], j, p[1]):
                    plan.append((j, p, None))
                    continue
                others = cols[:at] + cols[at + 1 : take + 1] if at < take else cols[:take]
                combos = itertools.islice(itertools.combinations(others, k), max_combinations)
                tk = [CIRunner.key(cols[at], j, c) for c in combos]  # X_j(t) is design column j
                plan.append((j, p, tk))
                keys.extend(tk)
        tester.run(keys)
        nonsig: dict = {j: [] for j in active}
        for j, p, tk in plan:
            results = [(1.0, 0.0)] if tk is None else [tester.result(key) for key in tk]
            for val, pval in results:
                val_min[j][p] = min(abs(val), val_min[j].get(p, math.inf))
                if pval_max[j][p] is None or pval > pval_max[j][p]:
                    pval_max[j][p] = pval
                    val_at[j][p] = val
                if not pval <= pc_alpha:
                    nonsig[j].append(p)
                    break
        removed = 0
        for j in active:
            for p in nonsig[j]:
                del val_min[j][p]
            removed += len(nonsig[j])
            vm = val_min[j]
            parents[j] = sorted(vm, key=lambda q: abs(vm[q]), reverse=True)
        n_levels = k + 1
        logger.info("PC1 level %d: %d tests, %d candidates removed", k, len(keys), removed)
    clean = lambda d: {j: {p: v for p, v in d[j].items() if v is not None} for j in d}  # noqa: E731
    return PC1Result(
        parents=parents, pval_max=clean(pval_max), val_at_max=clean(val_at), n_levels=n_levels, names=tuple(design.names)
    )


# ---------------------------------------------------------------------------- MCI
def mci_tests(
    design: LaggedDesign,
    parents,
    ci_test="parcorr",
    *,
    tau_min: int = 1,
    tau_max: int = 1,
    max_conds_py: int | None = None,
    max_conds_px: int | None = None,
    background_knowledge=None,
    ci_test_kwargs: dict | None = None,
    runner: CIRunner | None = None,
):
    """MCI tests of every candidate link, in one batch.

    ``X_i(t - lag) _||_ X_j(t) | P_j, P_i(shifted by lag)`` for all ``i, j`` and
    ``tau_min <= lag <= tau_max`` (not ``i == j`` at lag 0), with ``P_j`` the first
    ``max_conds_py`` conditions of ``j`` and ``P_i`` the first ``max_conds_px`` of ``i``.

    Parameters
    ----------
    design : LaggedDesign
        The lagged design of the data (:func:`lagged_design`).
    parents : PC1Result or dict
        The conditions of every target, strongest first: the result of :func:`pc1_parents`,
        or ``{target: [(source, lag), ...]}`` by names (or indices).
    ci_test : {"parcorr", "kci"} or CITest, default "parcorr"
        As in :class:`PCMCI`.
    tau_min, tau_max : int, default 1
        The lags of the links tested.
    max_conds_py, max_conds_px : int or None
        How many conditions of the target and of the lagged source enter a test (None: all).
    background_knowledge : dict, optional
        As in :class:`PCMCI`: forbidden links are not tested; required links are not tested
        and get statistic 1, p-value 0.
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test="kci"``.
    runner : CIRunner, optional
        A cached runner on ``design`` shared with :func:`pc1_parents` (``ci_test`` is then not used).

    Returns
    -------
    val_matrix, p_matrix : numpy.ndarray of shape (N, N, tau_max + 1)
        Statistic and p-value of ``X_i(t - lag) -> X_j(t)`` at ``[i, j, lag]`` (0 and 1 where
        not tested; required links 1 and 0). Lag-0 entries are symmetrised: both hold the
        values of the direction with the larger p-value.
    tested : numpy.ndarray of bool, same shape
        The candidate links.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((500, 2))
    >>> for t in range(1, 500):
    ...     x[t, 0] = 0.6 * x[t - 1, 0] + rng.normal()
    ...     x[t, 1] = 0.7 * x[t - 1, 0] + rng.normal()
    >>> design = lagged_design(pd.DataFrame(x, columns=["A", "B"]), tau_max=1)
    >>> val, pv, tested = mci_tests(design, {"A": [("A", 1)], "B": [("A", 1)]})
    >>> bool(pv[0, 1, 1] < 1e-10), bool(pv[1, 0, 1] > 0.05), round(float(val[0, 1, 1]), 2)
    (True, True, 0.59)

    See Also
    --------
    pc1_parents : the phase before, which selects ``parents``.
    PCMCI : the estimator composing the two phases.
    """
    owner = "mci_tests"
    runner = _phase_runner(design, ci_test, ci_test_kwargs, runner, owner)
    tau_min, tau_max = _check_lags(design, tau_min, tau_max, owner)
    _check_params(owner, max_conds_py=max_conds_py, max_conds_px=max_conds_px)
    links = _check_background(background_knowledge, design.names, tau_min, tau_max, owner)
    parents = _parents_of(parents, design, owner)
    tester = runner
    N = len(design.names)
    col = design.column
    big = N * (tau_max - tau_min + 1)
    py = big if max_conds_py is None else max_conds_py
    px = big if max_conds_px is None else max_conds_px
    val = np.zeros((N, N, tau_max + 1))
    pv = np.ones((N, N, tau_max + 1))
    tested = np.zeros((N, N, tau_max + 1), dtype=bool)
    plan = []
    # conditions as design columns: (var, l) is column l * N + var, so shifting a condition of the
    # source by ``lag`` adds lag * N to its column
    cond_cols = [[col(c, cl) for c, cl in parents[j]] for j in range(N)]
    for j in range(N):
        cy = set(cond_cols[j][:py])
        for i in range(N):
            cx = cond_cols[i][:px]
            for lag in range(tau_min, tau_max + 1):
                if (i == j and lag == 0) or not links.allowed(i, j, lag):
                    continue
                if lag == 0 and (j, i, 0) in links.required:
                    continue  # the reverse of a required contemporaneous link: not a candidate
                tested[i, j, lag] = True
                if links.fixed(i, j, lag):
                    plan.append((i, j, lag, None))
                    continue
                x, shift = col(i, lag), lag * N
                # P_j and P_i shifted by lag, without X_i(t - lag) and X_j(t); the key sorts them
                z = cy.union([c + shift for c in cx])
                z.discard(x)
                z.discard(j)
                plan.append((i, j, lag, CIRunner.key(x, j, z)))
    tester.run([k for *_, k in plan if k is not None])
    for i, j, lag, key in plan:
        val[i, j, lag], pv[i, j, lag] = (1.0, 0.0) if key is None else tester.result(key)
    if tau_min == 0:
        for i, j, _ in (r for r in links.required if r[2] == 0):
            tested[j, i, 0] = True  # so that symmetrising copies the required link's values
    _symmetrize(pv, val, tested[:, :, 0], links)
    logger.info("MCI: %d tests", len(plan))
    return val, pv, tested


def _symmetrize(pv, val, pairs, links) -> None:
    """Give both directions of a contemporaneous pair the values of the larger p-value.

    Ties keep the entry ``[i, j]`` with ``i < j``; for a required link ``i -> j`` the entry
    ``[i, j]`` is copied to ``[j, i]``.
    """
    N = pv.shape[0]
    for i in range(N):
        for j in range(N):
            if not pairs[i, j] or i == j:
                continue
            if (i, j, 0) in links.required:
                pv[j, i, 0], val[j, i, 0] = pv[i, j, 0], val[i, j, 0]
            elif (j, i, 0) in links.required:
                continue
            elif pv[i, j, 0] >= pv[j, i, 0]:
                pv[j, i, 0], val[j, i, 0] = pv[i, j, 0], val[i, j, 0]


def _fdr_bh(pv, mask):
    """Benjamini-Hochberg adjusted p-values of the entries ``pv[mask]``."""
    q = np.array(pv, dtype=float)
    q[mask] = adjust_pvalues(pv[mask], "bh")
    return q


# ------------------------------------------------------------------------ PCMCI+
@dataclass
class _SkeletonState:
    mark: np.ndarray  # (N, N, tau_max + 1) int marks
    fixed: np.ndarray  # (N, N, tau_max + 1) bool: required links, never tested
    p_matrix: np.ndarray
    val_matrix: np.ndarray
    sepsets: dict  # (i, lag, j) -> list of contemporaneous separating variables
    n_levels: int = 0


def _adjacent_list(mark, j, *, conflicts=True):
    """``[(i, lag), ...]`` with ``mark[i, j, lag] != NONE``, by ``i`` then ``lag``."""
    sub = mark[:, j, :]
    ok = sub != _NONE if conflicts else (sub != _NONE) & (sub != _CONFLICT)
    ii, ll = np.nonzero(ok)
    return list(zip(ii.tolist(), ll.tolist()))


def _contemp_adjacent(mark, j, *, conflicts=True):
    return [i for i, lag in _adjacent_list(mark, j, conflicts=conflicts) if lag == 0]


class _Conditions:
    """MCI conditioning sets of PCMCI+: contemporaneous set ``S`` plus lagged parents."""

    def __init__(self, design, parents, max_py, max_px):
        self.col = design.column
        self.parents = parents
        self.py, self.px = max_py, max_px

    def key(self, i, lag, j, S):
        z = [(s, 0) for s in S]
        z += [c for c in self.parents[j][: self.py] if c != (i, lag) and c not in z]
        z += [c for c in ((k, kl + lag) for k, kl in self.parents[i][: self.px]) if c not in z]
        z = [c for c in dict.fromkeys(z) if c != (i, lag) and c != (j, 0)]
        col = self.col
        return CIRunner.key(col(i, lag), col(j, 0), [col(*c) for c in z])


def _marks_from_graph(graph: LaggedGraph, names, tau_max: int) -> np.ndarray:
    """The edge marks of a PCMCI+ graph (the inverse of :func:`_graph_from_marks`)."""
    pos = {n: i for i, n in enumerate(names)}
    unknown = [n for n in graph.nodes if n not in pos]
    if unknown or len(graph.nodes) != len(names):
        raise ParameterError(f"the graph's variables {list(graph.nodes)[:10]} are not those of the design {list(names)[:10]}")
    N = len(names)
    mark = np.zeros((N, N, tau_max + 1), dtype=np.int8)
    for s, t, lag in graph.lagged_links:
        mark[pos[s], pos[t], lag] = _OUT
    for s, t in graph.directed_contemporaneous:
        mark[pos[s], pos[t], 0], mark[pos[t], pos[s], 0] = _OUT, _IN
    for kind, edges in ((_CIRCLE, graph.undirected_contemporaneous), (_CONFLICT, graph.conflicting_edges)):
        for e in edges:
            a, b = (pos[v] for v in e)
            mark[a, b, 0] = mark[b, a, 0] = kind
    return mark


def _sepsets_by_index(sepsets, names) -> dict:
    """``(i, lag, j) -> [k, ...]`` from ``(source, target, lag) -> [names]`` (order kept)."""
    pos = {n: i for i, n in enumerate(names)}
    return {(pos[s], lag, pos[t]): [pos[v] for v in S] for (s, t, lag), S in sepsets.items()}


def _sepsets_by_name(sepsets, names) -> dict:
    return {(names[i], names[j], lag): [names[s] for s in S] for (i, lag, j), S in sepsets.items()}


@dataclass(frozen=True, eq=False, repr=False)
class MCISkeletonResult:
    """What :func:`mci_skeleton` found.

    Attributes
    ----------
    graph : scm.LaggedGraph
        The skeleton: the lagged links kept (directed forward in time) and the contemporaneous
        adjacencies kept (undirected; a required contemporaneous link stays directed).
    sepsets : dict
        ``(source, target, lag) -> [contemporaneous separating variables]`` of every removed
        adjacency (for lag 0, both directions).
    p_matrix, val_matrix : numpy.ndarray of shape (N, N, tau_max + 1)
        The largest p-value of every candidate link over its PC1 and skeleton tests and the
        statistic of that test (contemporaneous pairs symmetrised), as tigramite's
        ``run_pcmciplus``; 1 and 0 where not tested.
    tested : numpy.ndarray of bool, same shape
        The candidate links.
    n_levels : int
        The number of levels run.
    """

    graph: LaggedGraph
    sepsets: dict
    p_matrix: np.ndarray
    val_matrix: np.ndarray
    tested: np.ndarray
    n_levels: int = 0

    def __repr__(self) -> str:
        return f"MCISkeletonResult(graph={self.graph!r}, sepsets={self.sepsets!r}, n_levels={self.n_levels})"


def mci_skeleton(
    design: LaggedDesign,
    parents,
    ci_test="parcorr",
    *,
    tau_min: int = 0,
    tau_max: int = 1,
    alpha: float = 0.01,
    max_conds_dim: int | None = None,
    max_conds_py: int | None = None,
    max_conds_px: int | None = None,
    background_knowledge=None,
    ci_test_kwargs: dict | None = None,
    progress: bool = False,
    runner: CIRunner | None = None,
) -> MCISkeletonResult:
    """PCMCI+ steps 2-4: remove adjacencies by MCI tests given contemporaneous sets.

    The candidates are the lagged conditions selected by PC1 (``parents``) and, with
    ``tau_min=0``, every contemporaneous pair. Level ``p = 0, 1, ...``: every remaining
    adjacency ``X_i(t - lag) *-* X_j(t)`` whose target has at least ``p`` other
    contemporaneous neighbours is tested given every size-``p`` subset ``S`` of them (plus the
    lagged parents of both ends); the first ``S`` with ``p > alpha`` removes it and becomes its
    separating set. Neighbours are ranked by their weakest dependence after every level. All
    tests of a level are computed in one batch and then read in the sequential order of the
    algorithm (so removing ``i - j`` skips the test of ``j - i``).

    Parameters
    ----------
    design : LaggedDesign
        The lagged design of the data (:func:`lagged_design`).
    parents : PC1Result or dict
        The lagged conditions of every target, strongest first: the result of
        :func:`pc1_parents` (whose p-values then enter ``p_matrix``), or
        ``{target: [(source, lag), ...]}`` by names (or indices).
    ci_test : {"parcorr", "kci"} or CITest, default "parcorr"
        As in :class:`PCMCIPlus`.
    tau_min : int, default 0
        0 tests contemporaneous adjacencies too.
    tau_max : int, default 1
    alpha : float, default 0.01
        Significance level in (0, 1).
    max_conds_dim : int or None
        Largest contemporaneous conditioning set (None: the number of variables).
    max_conds_py, max_conds_px : int or None
        Lagged conditions of the target and of the source in each test (None: all).
    background_knowledge : dict, optional
        As in :class:`PCMCIPlus`: forbidden links are not candidates; required ones are kept
        untested (a required lag-0 link stays directed).
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test="kci"``.
    progress : bool, default False
        A tqdm progress bar over the levels.
    runner : CIRunner, optional
        A cached runner on ``design`` shared with the other phases (``ci_test`` is then not used).

    Returns
    -------
    MCISkeletonResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((800, 3))
    >>> for t in range(1, 800):
    ...     e = rng.normal(size=3)
    ...     x[t, 0] = 0.6 * x[t - 1, 0] + e[0]
    ...     x[t, 1] = 0.7 * x[t, 0] + e[1]
    ...     x[t, 2] = 0.6 * x[t, 1] + e[2]
    >>> design = lagged_design(pd.DataFrame(x, columns=["A", "B", "C"]), tau_max=1)
    >>> pc1 = pc1_parents(design, tau_max=1, pc_alpha=0.01)
    >>> skel = mci_skeleton(design, pc1, tau_max=1, alpha=0.01)
    >>> skel.graph
    LaggedGraph(nodes=['A', 'B', 'C'], edges=['A(t-1) -> A(t)', 'A(t) - B(t)', 'B(t) - C(t)'])
    >>> skel.sepsets[("A", "C", 0)]
    ['B']

    See Also
    --------
    pc1_parents : the phase before.
    orient_contemporaneous_colliders : the phase after.
    """
    owner = "mci_skeleton"
    runner = _phase_runner(design, ci_test, ci_test_kwargs, runner, owner)
    tau_min, tau_max = _check_lags(design, tau_min, tau_max, owner)
    _check_params(
        owner, alpha=alpha, max_conds_dim=max_conds_dim, max_conds_py=max_conds_py, max_conds_px=max_conds_px, progress=progress
    )
    links = _check_background(background_knowledge, design.names, tau_min, tau_max, owner)
    pc1 = parents if isinstance(parents, PC1Result) else None
    parents = _parents_of(parents, design, owner)
    names = design.names
    N = len(names)

    # the link table of PCMCI+: PC1's largest p-values first
    pv = np.ones((N, N, tau_max + 1))
    val = np.zeros((N, N, tau_max + 1))
    tested = np.zeros((N, N, tau_max + 1), dtype=bool)
    if pc1 is not None:
        for j in range(N):
            for (i, lag), p in pc1.pval_max[j].items():
                pv[i, j, lag] = p
                val[i, j, lag] = pc1.val_at_max[j][(i, lag)]
                tested[i, j, lag] = True

    # the candidate adjacencies: lagged parents, and every allowed contemporaneous pair
    mark = np.zeros((N, N, tau_max + 1), dtype=np.int8)
    fixed = np.zeros((N, N, tau_max + 1), dtype=bool)
    for j in range(N):
        for i, lag in parents[j]:
            mark[i, j, lag] = _OUT
            fixed[i, j, lag] = links.fixed(i, j, lag)
    if tau_min == 0:
        for i in range(N):
            for j in range(N):
                if i != j and links.allowed(i, j, 0):
                    tested[i, j, 0] = True
                    if (i, j, 0) in links.required:
                        mark[i, j, 0], mark[j, i, 0] = _OUT, _IN
                        fixed[i, j, 0] = fixed[j, i, 0] = True
                    elif (j, i, 0) not in links.required:
                        mark[i, j, 0] = _CIRCLE
    pc_links = mark != _NONE
    state = _SkeletonState(
        mark=mark, fixed=fixed, p_matrix=np.where(pc_links, 0.0, 1.0), val_matrix=np.zeros((N, N, tau_max + 1)), sepsets={}
    )
    big = N * (tau_max - tau_min + 1)
    conditions = _Conditions(
        design, parents, big if max_conds_py is None else max_conds_py, big if max_conds_px is None else max_conds_px
    )
    max_dim = N if max_conds_dim is None else int(max_conds_dim)
    _skeleton_levels(
        runner, conditions, state, tau_min=tau_min, tau_max=tau_max, alpha=alpha, max_conds_dim=max_dim, progress=progress
    )

    # the skeleton's largest p-values replace PC1's for the candidates
    sp, sv = state.p_matrix.copy(), state.val_matrix.copy()
    _symmetrize(sp, sv, pc_links[:, :, 0], links)
    pv[:, :, 0], val[:, :, 0] = sp[:, :, 0], sv[:, :, 0]
    lagged = pc_links.copy()
    lagged[:, :, 0] = False
    pv[lagged], val[lagged] = sp[lagged], sv[lagged]
    return MCISkeletonResult(
        graph=_graph_from_marks(state.mark, names, tau_max),
        sepsets=_sepsets_by_name(state.sepsets, names),
        p_matrix=pv,
        val_matrix=val,
        tested=tested,
        n_levels=state.n_levels,
    )


def _skeleton_levels(
    tester,
    conditions: _Conditions,
    state: _SkeletonState,
    *,
    tau_min: int,
    tau_max: int,
    alpha: float,
    max_conds_dim: int,
    progress: bool = False,
) -> _SkeletonState:
    """The levels of :func:`mci_skeleton`, on the edge marks of ``state`` (updated in place)."""
    mark, fixed = state.mark, state.fixed
    N = mark.shape[0]
    pmat, vmat = state.p_matrix, state.val_matrix
    val_min = {j: {p: math.inf for p in _adjacent_list(mark, j)} for j in range(N)}
    adjt = {j: _contemp_adjacent(mark, j) for j in range(N)}
    level = 0
    bar = _progress(itertools.count(), progress, desc="PCMCI+ skeleton", unit="level")
    for level in bar:
        if level > max_conds_dim:
            break
        remaining = [
            (i, j, lag)
            for i in range(N)
            for j in range(N)
            for lag in range(tau_min, tau_max + 1)
            if mark[i, j, lag] != _NONE and len([a for a in adjt[j] if not (lag == 0 and a == i)]) >= level
        ]
        if not remaining:
            break
        plan, keys = [], []
        for i, j, lag in remaining:
            nb = [a for a in adjt[j] if not (lag == 0 and a == i)]
            combos = list(itertools.combinations(nb, level))
            if fixed[i, j, lag]:
                plan.append((i, j, lag, combos, None))
                continue
            tk = [conditions.key(i, lag, j, S) for S in combos]
            plan.append((i, j, lag, combos, tk))
            keys.extend(tk)
        tester.run(keys)
        removed = 0
        for i, j, lag, combos, tk in plan:
            if mark[i, j, lag] == _NONE:
                continue
            for q, S in enumerate(combos):
                val, pval = (1.0, 0.0) if tk is None else tester.result(tk[q])
                val_min[j][(i, lag)] = min(abs(val), val_min[j][(i, lag)])
                if pval >= pmat[i, j, lag]:
                    pmat[i, j, lag], vmat[i, j, lag] = pval, val
                if not pval <= alpha:
                    removed += 1
                    if lag == 0:
                        mark[i, j, 0] = mark[j, i, 0] = _NONE
                        state.sepsets[(i, 0, j)] = list(S)
                        state.sepsets[(j, 0, i)] = list(S)
                        pmat[j, i, 0] = pmat[i, j, 0]
                    else:
                        mark[i, j, lag] = _NONE
                        state.sepsets[(i, lag, j)] = list(S)
                    break
        logger.info("PCMCI+ skeleton level %d: %d tests, %d adjacencies removed", level, len(keys), removed)
        state.n_levels = level + 1
        for j in range(N):
            present = set(_adjacent_list(mark, j))
            ranked = {p: abs(v) for p, v in val_min[j].items() if p in present}
            adjt[j] = [i for i, lag in sorted(ranked, key=ranked.get, reverse=True) if lag == 0]
    return state


def _unshielded_triples(mark):
    """``((i, lag), k, j)``: ``X_i(t - lag) *-> X_k(t) o-o X_j(t)`` with ``X_i(t - lag)``, ``X_j(t)`` non-adjacent."""
    N = mark.shape[0]
    out = []
    for j in range(N):
        for k, lagk in _adjacent_list(mark, j, conflicts=False):
            if lagk == 0 and mark[k, j, 0] == _CIRCLE:
                for i, lagi in _adjacent_list(mark, k, conflicts=False):
                    if (i, lagi) != (j, 0) and mark[i, j, lagi] == _NONE and mark[i, k, lagi] in (_CIRCLE, _OUT):
                        out.append(((i, lagi), k, j))
    return out


def _orient(mark, a, b):
    mark[a, b, 0], mark[b, a, 0] = _OUT, _IN


@dataclass(frozen=True)
class CollidersResult:
    """What :func:`orient_contemporaneous_colliders` found.

    Attributes
    ----------
    graph : scm.LaggedGraph
        The skeleton with the colliders oriented (conflicting orientations as ``"conflict"`` edges).
    sepsets : dict
        The separating sets of the skeleton, updated by the collider tests:
        ``(source, target, lag) -> [contemporaneous variables]``.
    ambiguous : list
        Unshielded triples ``((source, lag), middle, target)`` left undecided.
    """

    graph: LaggedGraph
    sepsets: dict
    ambiguous: list


def orient_contemporaneous_colliders(
    design: LaggedDesign,
    skeleton: MCISkeletonResult,
    parents,
    ci_test="parcorr",
    *,
    rule: str = "majority",
    alpha: float = 0.01,
    conflict_resolution: bool = True,
    max_conds_py: int | None = None,
    max_conds_px: int | None = None,
    ci_test_kwargs: dict | None = None,
    runner: CIRunner | None = None,
) -> CollidersResult:
    """PCMCI+ collider phase: orient unshielded triples ``X_i(t - lag) *-* X_k(t) o-o X_j(t)``.

    ``rule="none"``: a collider iff ``X_k(t)`` is not in the separating set of the ends.
    ``"majority"`` / ``"conservative"``: test the ends given every subset of the
    contemporaneous neighbours of ``X_j`` (and of ``X_i`` at lag 0), in one batch; among the
    subsets that separate, the fraction containing ``X_k`` decides: below 1/2 a collider,
    above 1/2 not, 1/2 (or no separating subset) *ambiguous* (``"conservative"``: a collider
    only at 0, a non-collider only at 1). Colliders are oriented in triple order; with
    ``conflict_resolution`` an edge oriented both ways becomes a conflict (``x-x``).

    Parameters
    ----------
    design : LaggedDesign
        The lagged design of the data.
    skeleton : MCISkeletonResult
        The result of :func:`mci_skeleton`.
    parents : PC1Result or dict
        The lagged conditions used by :func:`mci_skeleton` (they condition every test here too).
    ci_test : {"parcorr", "kci"} or CITest, default "parcorr"
        As in :class:`PCMCIPlus` (not used with ``rule="none"``).
    rule : {"majority", "conservative", "none"}, default "majority"
    alpha : float, default 0.01
        Significance level in (0, 1).
    conflict_resolution : bool, default True
    max_conds_py, max_conds_px : int or None
        As in :func:`mci_skeleton`.
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test="kci"``.
    runner : CIRunner, optional
        A cached runner on ``design`` shared with the other phases (``ci_test`` is then not used).

    Returns
    -------
    CollidersResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((800, 3))
    >>> for t in range(1, 800):
    ...     e = rng.normal(size=3)
    ...     x[t, 0] = 0.6 * x[t - 1, 0] + e[0]
    ...     x[t, 2] = 0.6 * x[t - 1, 2] + e[2]
    ...     x[t, 1] = 0.6 * x[t, 0] + 0.6 * x[t, 2] + e[1]
    >>> design = lagged_design(pd.DataFrame(x, columns=["A", "B", "C"]), tau_max=1)
    >>> pc1 = pc1_parents(design, tau_max=1, pc_alpha=0.01)
    >>> skel = mci_skeleton(design, pc1, tau_max=1)
    >>> res = orient_contemporaneous_colliders(design, skel, pc1)
    >>> sorted(res.graph.directed_contemporaneous), res.ambiguous
    ([('A', 'B'), ('C', 'B')], [])

    See Also
    --------
    mci_skeleton : the phase before.
    orient_contemporaneous_rules : the phase after.
    """
    owner = "orient_contemporaneous_colliders"
    _check_params(owner, rule=rule, alpha=alpha, conflict_resolution=conflict_resolution)
    if not isinstance(skeleton, MCISkeletonResult):
        raise ParameterError(
            f"The 'skeleton' parameter of {owner} must be the MCISkeletonResult of mci_skeleton; got {type(skeleton).__name__} instead."
        )
    tester = None if rule == "none" else _phase_runner(design, ci_test, ci_test_kwargs, runner, owner)
    _check_params(owner, max_conds_py=max_conds_py, max_conds_px=max_conds_px)
    names = design.names
    parents = _parents_of(parents, design, owner)
    big = len(names) * (design.window + 1)  # no limit: at least as many as any target's conditions
    conditions = _Conditions(
        design, parents, big if max_conds_py is None else max_conds_py, big if max_conds_px is None else max_conds_px
    )
    mark = _marks_from_graph(skeleton.graph, names, skeleton.graph.tau_max)
    state = _SkeletonState(
        mark=mark, fixed=np.zeros(mark.shape, dtype=bool), p_matrix=skeleton.p_matrix, val_matrix=skeleton.val_matrix,
        sepsets=_sepsets_by_index(skeleton.sepsets, names), n_levels=skeleton.n_levels,
    )
    ambiguous = _orient_colliders(tester, conditions, state, rule=rule, alpha=alpha, conflict_resolution=conflict_resolution)
    return CollidersResult(
        graph=_graph_from_marks(state.mark, names, skeleton.graph.tau_max),
        sepsets=_sepsets_by_name(state.sepsets, names),
        ambiguous=[((names[i], lag), names[k], names[j]) for (i, lag), k, j in ambiguous],
    )


def _orient_colliders(tester, conditions, state, *, rule, alpha, conflict_resolution):
    """The collider phase on the edge marks of ``state`` (updated in place); returns the ambiguous triples."""
    mark = state.mark
    triples = _unshielded_triples(mark)
    colliders, ambiguous = [], []
    sepsets = state.sepsets
    if rule == "none":
        colliders = [t for t in triples if t[1] not in sepsets.get((t[0][0], t[0][1], t[2]), [])]
    else:
        N = mark.shape[0]
        adjt = {j: _contemp_adjacent(mark, j) for j in range(N)}

        def subsets(pool):
            return [c for r in range(len(pool) + 1) for c in itertools.combinations(pool, r)] if pool else []

        plans, keys = [], []
        for (i, lag), _, j in triples:
            sets = subsets([a for a in adjt[j] if not (lag == 0 and a == i)])
            if lag == 0:
                sets += subsets([a for a in adjt[i] if a != j])
            sets = list(dict.fromkeys(tuple(sorted(s)) for s in sets))
            tk = [conditions.key(i, lag, j, S) for S in sets]
            plans.append((sets, tk))
            keys.extend(tk)
        tester.run(keys)
        for t, (sets, tk) in zip(triples, plans):
            (i, lag), k, j = t
            seps = [S for S, key in zip(sets, tk) if not tester.result(key)[1] <= alpha]
            if not seps:
                ambiguous.append(t)
                continue
            frac = sum(k in S for S in seps) / len(seps)
            if rule == "majority":
                collider, noncollider = frac < 0.5, frac > 0.5
            else:
                collider, noncollider = frac == 0, frac == 1
            if collider:
                colliders.append(t)
                for key in ((i, lag, j), (j, lag, i)) if lag == 0 else ((i, lag, j),):
                    if k in sepsets.get(key, []):
                        sepsets[key].remove(k)
            elif noncollider:
                for key in ((i, lag, j), (j, lag, i)) if lag == 0 else ((i, lag, j),):
                    if k not in sepsets.setdefault(key, []):
                        sepsets[key].append(k)
            else:
                ambiguous.append(t)
        logger.info("PCMCI+ colliders: %d triples, %d tests, %d ambiguous", len(triples), len(keys), len(ambiguous))
    oriented: list = []
    for (i, lag), k, j in colliders:
        for a in (j, i) if lag == 0 else (j,):
            if (k, a) not in oriented and (a, k) not in oriented:
                _orient(mark, a, k)
                oriented.append((a, k))
            if conflict_resolution and (k, a) in oriented:
                mark[a, k, 0] = mark[k, a, 0] = _CONFLICT
    return ambiguous


def orient_contemporaneous_rules(graph: LaggedGraph, ambiguous=(), *, conflict_resolution: bool = True) -> LaggedGraph:
    """PCMCI+ rule phase: Meek's rules R1-R3 on contemporaneous undirected edges.

    R1: ``X_i(t - lag) -> X_k(t) - X_j(t)``, ends non-adjacent: ``X_k -> X_j``.
    R2: ``X_i -> X_k -> X_j`` with ``X_i - X_j``: ``X_i -> X_j``.
    R3: ``X_i - X_k -> X_j`` and ``X_i - X_l -> X_j`` with ``X_k``, ``X_l`` non-adjacent
    and ``X_i - X_j``: ``X_i -> X_j``. Ambiguous triples are not used; the rules repeat
    until none applies. With ``conflict_resolution`` an edge oriented both ways becomes
    a conflict (``x-x``).

    Parameters
    ----------
    graph : scm.LaggedGraph
        The graph after the collider phase (:attr:`CollidersResult.graph`).
    ambiguous : list, optional
        Unshielded triples ``((source, lag), middle, target)`` the rules must not use
        (:attr:`CollidersResult.ambiguous`).
    conflict_resolution : bool, default True

    Returns
    -------
    scm.LaggedGraph
        A new graph.

    Examples
    --------
    >>> from scm import LaggedGraph
    >>> g = LaggedGraph(["A", "B", "C"], directed=[("A", "B", 1)], undirected=[("B", "C")])
    >>> orient_contemporaneous_rules(g)
    LaggedGraph(nodes=['A', 'B', 'C'], edges=['A(t-1) -> B(t)', 'B(t) -> C(t)'])

    See Also
    --------
    orient_contemporaneous_colliders : the phase before.
    PCMCIPlus : the estimator composing the phases.
    """
    owner = "orient_contemporaneous_rules"
    if not isinstance(graph, LaggedGraph):
        raise ParameterError(f"The 'graph' parameter of {owner} must be an scm.LaggedGraph; got {type(graph).__name__} instead.")
    _check_params(owner, conflict_resolution=conflict_resolution)
    names = list(graph.nodes)
    pos = {n: i for i, n in enumerate(names)}
    amb = []
    for t in ambiguous:
        try:
            (s, lag), k, j = t
            amb.append(((pos[s], int(lag)), pos[k], pos[j]))
        except (KeyError, TypeError, ValueError):
            raise ParameterError(
                f"{owner}: an ambiguous triple must be ((source, lag), middle, target) over the graph's nodes; got {t!r}"
            ) from None
    mark = _marks_from_graph(graph, names, graph.tau_max)
    _apply_rules(mark, amb, conflict_resolution=conflict_resolution)
    return _graph_from_marks(mark, names, graph.tau_max)


def _apply_rules(mark, ambiguous, *, conflict_resolution: bool = True) -> None:
    """The rules of :func:`orient_contemporaneous_rules` on edge marks, in place."""
    N = mark.shape[0]
    amb = set(ambiguous)
    oriented: list = []

    def apply(a, b):
        if (b, a) not in oriented and (a, b) not in oriented:
            _orient(mark, a, b)
            oriented.append((a, b))
        if conflict_resolution and (b, a) in oriented:
            mark[a, b, 0] = mark[b, a, 0] = _CONFLICT

    def rule1():
        found = []
        for j in range(N):
            for k, lagk in _adjacent_list(mark, j, conflicts=False):
                if lagk == 0 and mark[j, k, 0] == _CIRCLE:
                    for i, lagi in _adjacent_list(mark, k, conflicts=False):
                        if (i, lagi) != (j, 0) and mark[i, j, lagi] == _NONE and mark[i, k, lagi] == _OUT:
                            found.append(((i, lagi), k, j))
        left = False
        for t in found:
            if t not in amb:
                left = True
                apply(t[1], t[2])
        return left

    def rule2():
        found = []
        for j in range(N):
            for k in _contemp_adjacent(mark, j, conflicts=False):
                if mark[k, j, 0] == _OUT:
                    for i in _contemp_adjacent(mark, k, conflicts=False):
                        if mark[i, k, 0] == _OUT and i != j and mark[i, j, 0] == _CIRCLE and mark[j, i, 0] == _CIRCLE:
                            found.append(((i, 0), k, j))
        left = False
        for t in found:
            if t not in amb:
                left = True
                apply(t[0][0], t[2])
        return left

    def rule3():
        found = []
        for j in range(N):
            adj = _contemp_adjacent(mark, j, conflicts=False)
            for i in adj:
                if mark[j, i, 0] != _CIRCLE:
                    continue
                for k in adj:
                    for m in adj:
                        if (
                            k != m and k != i and m != i
                            and mark[k, j, 0] == _OUT and mark[m, j, 0] == _OUT
                            and mark[k, i, 0] == _CIRCLE and mark[m, i, 0] == _CIRCLE
                            and mark[k, m, 0] == _NONE
                        ):
                            found.append((((i, 0), k, j), ((i, 0), m, j)))
        left = False
        for t1, t2 in found:
            if t1 not in amb and t2 not in amb:
                left = True
                apply(t1[0][0], t1[2])
        return left

    any1 = any2 = any3 = True
    while any1 or any2 or any3:
        any1 = rule1()
        any2 = rule2()
        any3 = rule3()


# ---------------------------------------------------------------------- estimators
#: The constraints of the parameters that PCMCI and PCMCI+ share.
_COMMON_CONSTRAINTS = {
    **_CI_TEST_CONSTRAINTS,
    "tau_min": Interval(Integral, 0, None, closed="left"),
    "tau_max": Interval(Integral, 0, None, closed="left"),
    "alpha": Interval(Real, 0, 1),
    "max_conds_dim": AnyOf(None, Interval(Integral, 0, None, closed="left")),
    "max_combinations": Interval(Integral, 1, None, closed="left"),
    "max_conds_py": AnyOf(None, Interval(Integral, 0, None, closed="left")),
    "max_conds_px": AnyOf(None, Interval(Integral, 0, None, closed="left")),
    "background_knowledge": AnyOf(
        None,
        InstanceOf(Mapping, "a dict"),
        HasAttributes(
            ("required", "forbidden"), "None or a dict {'required': [(source, target, lag), ...], 'forbidden': [...]}"
        ),
    ),
    "progress": Boolean(),
}


#: The constraints of the phase functions' parameters: the estimators' (``rule`` is PCMCI+'s
#: ``contemporaneous_collider_rule``), so a phase and its estimator refuse the same values.
_PHASE_CONSTRAINTS = {
    **_COMMON_CONSTRAINTS,
    "pc_alpha": Interval(Real, 0, 1),
    "rule": Options(COLLIDER_RULES),
    "conflict_resolution": Boolean(),
}


class _TimeSeriesBase(ParamsMixin):
    """Shared data preparation and result tables (parameter handling from :class:`ParamsMixin`)."""

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "graph_")

    def _validate_joint_params(self) -> None:
        if self.tau_max < self.tau_min:
            raise ParameterError(
                f"The 'tau_max' parameter of {type(self).__name__} must be >= tau_min = {self.tau_min}; got {self.tau_max} instead."
            )

    def _make_tester(self, data, mask):
        """The lagged design of ``data`` and the cached CI-test runner on it."""
        design = lagged_design(data, int(self.tau_max), mask=mask)
        return design, _lagged_runner(design, self.ci_test, self.ci_test_kwargs, owner=type(self).__name__)

    def _table(self, design, val, pv, tested, q=None) -> pd.DataFrame:
        """Tidy table of the tested links, by target, lag and source (pairs at lag 0 once)."""
        names = np.empty(len(design.names), dtype=object)
        names[:] = design.names
        keep = np.array(tested[:, :, : int(self.tau_max) + 1], dtype=bool)
        # a contemporaneous pair once: [i, j, 0] with i > j is dropped when [j, i, 0] was tested
        keep[:, :, 0] &= ~(np.tril(np.ones(keep.shape[:2], dtype=bool), -1) & keep[:, :, 0].T)
        j, lag, i = np.nonzero(keep.transpose(1, 2, 0))  # ordered by target, lag, source
        table = {"source": names[i], "target": names[j], "lag": lag.astype(np.int64), "statistic": val[i, j, lag], "pvalue": pv[i, j, lag]}
        if q is not None:
            table["qvalue"] = q[i, j, lag]
        return pd.DataFrame(table)

    @staticmethod
    def _statistics_table(pvalues: pd.DataFrame) -> pd.DataFrame:
        """The test statistic of every tested link (``val_matrix_`` as a table)."""
        return pvalues[["source", "target", "lag", "statistic"]].copy()

    def _set_common(self, design, tester, graph, val, pv) -> None:
        names = design.names
        self.graph_ = graph
        self.val_matrix_ = val
        self.p_matrix_ = pv
        parents = {}
        for t in names:
            ps = [(s, lag) for s, lag in graph.parents(t) if lag > 0 or (s, t) in graph.directed_contemporaneous]
            i_t = names.index(t)
            ps.sort(key=lambda p: (-abs(val[names.index(p[0]), i_t, p[1]]), p[1], names.index(p[0])))
            parents[t] = ps
        self.parents_ = parents
        self.n_tests_ = tester.n_tests
        self.n_samples_ = design.n_samples
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)


class PCMCI(_TimeSeriesBase):
    """PCMCI: lagged causal links of multivariate time series (Runge et al., 2019).

    PC1 condition selection (:func:`pc1_parents`) followed by momentary conditional
    independence tests (:func:`mci_tests`). Assumes stationarity, causal sufficiency and no
    contemporaneous effects (use :class:`PCMCIPlus` when variables may act within one time
    step).

    Parameters
    ----------
    ci_test : {"parcorr", "kci"} or CITest, default "parcorr"
        ``"parcorr"``: partial correlation with a t test (linear dependence), batched in JAX;
        ``"kci"``: kernel CI test (:class:`discovery.KCI`, nonlinear, slow for long series;
        options via ``ci_test_kwargs``). A :class:`discovery.CITest` instance must have the
        time-unrolled variables, named ``(name, -lag)`` or ``"name(t-lag)"`` (``"name(t)"`` at
        lag 0), for lags ``0 .. 2 tau_max`` -- e.g. an oracle ``DSeparation`` on the relabelled
        ``true_graph.to_unrolled(n)``.
    tau_min : int, default 1
        Smallest lag tested. With 0, contemporaneous pairs are also tested by MCI and reported
        as undirected edges (PCMCI cannot orient them).
    tau_max : int, default 1
        Largest lag tested.
    pc_alpha : float, default 0.2
        Significance level of the PC1 condition selection, in (0, 1).
    alpha : float, default 0.05
        Significance level of the MCI tests, in (0, 1): a link is kept if ``p <= alpha``
        (``q <= alpha`` with ``fdr``).
    max_conds_dim : int or None
        Largest conditioning set in PC1 (None: no limit).
    max_combinations : int, default 1
        Number of conditioning subsets per level in PC1 (1: the strongest candidates only).
    max_conds_py, max_conds_px : int or None
        How many of the selected conditions of the target (``py``) and of the lagged source
        (``px``) enter an MCI test (None: all).
    fdr : {None, "bh"}
        Benjamini-Hochberg adjustment of the lagged MCI p-values (contemporaneous ones are
        left alone, as in tigramite).
    background_knowledge : dict, optional
        ``{"required": [(source, target, lag), ...], "forbidden": [...]}``. Forbidden links are
        never tested nor reported; required links are never tested and always kept (statistic
        1, p-value 0). A forbidden lag-0 link forbids the contemporaneous adjacency.
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test="kci"``.
    progress : bool, default False
        tqdm progress bars over the PC1 levels.

    Attributes
    ----------
    graph_ : scm.LaggedGraph
        The significant links (``tau_max`` = the parameter).
    pvalues_ : pandas.DataFrame
        One row per tested link: ``source, target, lag, statistic, pvalue`` (and ``qvalue``
        with ``fdr``); contemporaneous pairs appear once.
    statistics_ : pandas.DataFrame
        ``source, target, lag, statistic``: the MCI test statistic of every tested link (the
        partial correlation with ``"parcorr"``, the CI test's statistic otherwise; NaN for a
        test without statistics), the entries of ``val_matrix_``.
    parents_ : dict
        ``target -> [(source, lag), ...]``: the parents in ``graph_``, strongest first.
    pc1_parents_ : dict
        ``target -> [(source, lag), ...]``: the conditions selected by PC1 (a superset).
    val_matrix_, p_matrix_ : numpy.ndarray of shape (N, N, tau_max + 1)
        Statistic and p-value of ``X_i(t - lag) -> X_j(t)`` at ``[i, j, lag]``, as
        tigramite's ``val_matrix`` / ``p_matrix`` (1 and 0 where not tested).
    q_matrix_ : numpy.ndarray or None
        FDR-adjusted p-values (with ``fdr``).
    n_tests_ : int
        Distinct CI tests run.
    n_samples_ : int
        Time steps used by each test (rows of the lagged design).
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray

    Notes
    -----
    *Agreement with tigramite.* With ``ci_test="parcorr"`` the PC1 and MCI tests are those of
    ``tigramite.pcmci.PCMCI(dataframe, ParCorr()).run_pcmci(tau_min, tau_max, pc_alpha, ...)``
    (same candidate order, ranking, tie-breaking and samples: every test drops the first
    ``2 tau_max`` steps), so ``p_matrix_`` and ``val_matrix_`` agree to about 1e-12 and the
    lagged links are the same; a mask behaves as tigramite's ``mask_type="xyz"``. With
    ``tau_min=0`` a contemporaneous pair is an edge here when the larger of its two MCI
    p-values is at most ``alpha`` (tigramite marks a one-sided significant pair ``-->``).

    *Batching.* All tests of one PC1 level (every target at once) and all MCI tests are one
    jitted call each; a fit compiles a few programs (one per padded conditioning size), so
    the first fit of a session pays for their compilation (docs/benchmarks.md,
    "Time-series discovery").

    Examples
    --------
    >>> import scm
    >>> ds = scm.simulate.time_series(n_series=3, n_timepoints=500, max_lag=2, contemporaneous=False, random_state=1)
    >>> model = PCMCI(tau_max=2).fit(ds.data)
    >>> truth = {(r.source, r.target, r.lag) for r in ds.metadata["links"].itertuples()}
    >>> model.graph_.lagged_links == truth
    True
    >>> model.pvalues_.columns.tolist()
    ['source', 'target', 'lag', 'statistic', 'pvalue']
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "pc_alpha": _PHASE_CONSTRAINTS["pc_alpha"],
        "fdr": AnyOf(None, Options(FDR_METHODS)),
    }

    def __init__(
        self,
        *,
        ci_test="parcorr",
        tau_min: int = 1,
        tau_max: int = 1,
        pc_alpha: float = 0.2,
        alpha: float = 0.05,
        max_conds_dim: int | None = None,
        max_combinations: int = 1,
        max_conds_py: int | None = None,
        max_conds_px: int | None = None,
        fdr: str | None = None,
        background_knowledge=None,
        ci_test_kwargs: dict | None = None,
        progress: bool = False,
    ):
        self.ci_test = ci_test
        self.tau_min = tau_min
        self.tau_max = tau_max
        self.pc_alpha = pc_alpha
        self.alpha = alpha
        self.max_conds_dim = max_conds_dim
        self.max_combinations = max_combinations
        self.max_conds_py = max_conds_py
        self.max_conds_px = max_conds_px
        self.fdr = fdr
        self.background_knowledge = background_knowledge
        self.ci_test_kwargs = ci_test_kwargs
        self.progress = progress

    def fit(self, data, mask=None) -> PCMCI:
        """Learn the lagged links of ``data``.

        Parameters
        ----------
        data : DataFrame (T, N), array (T, N) or (M, T, N), or list of DataFrames / arrays
            One or several series of the same variables, rows in time order. A list holds
            several series, each a DataFrame or a 2-D array; a list of 1-D items (rows?
            univariate series?) is refused as ambiguous.
        mask : same structure of bool, optional
            ``True`` marks a missing value; a test drops the time steps whose lagged window
            touches a masked value of one of its variables.

        Returns
        -------
        PCMCI
            ``self``.

        Raises
        ------
        ParameterError
            For an invalid parameter (named, with the allowed values).
        DataError
            For non-numeric or constant series, NaN outside the mask, or too few time steps
            for ``tau_max``.
        UnknownNodeError
            If the background knowledge names an unknown variable.
        """
        self._validate_params()
        design, tester = self._make_tester(data, mask)
        links = _check_background(self.background_knowledge, design.names, self.tau_min, self.tau_max, "PCMCI")
        logger.info("PCMCI on %d variables, %d samples, tau_max=%d", len(design.names), design.n_samples, self.tau_max)
        pc1 = pc1_parents(
            design, tau_min=self.tau_min, tau_max=self.tau_max, pc_alpha=self.pc_alpha,
            max_conds_dim=self.max_conds_dim, max_combinations=self.max_combinations,
            background_knowledge=self.background_knowledge, progress=self.progress, runner=tester,
        )
        val, pv, tested = mci_tests(
            design, pc1, tau_min=self.tau_min, tau_max=self.tau_max, max_conds_py=self.max_conds_py,
            max_conds_px=self.max_conds_px, background_knowledge=self.background_knowledge, runner=tester,
        )
        graph, q = _mci_graph(design.names, pv, tested, links, alpha=self.alpha, fdr=self.fdr, tau_max=int(self.tau_max))
        self.pc1_parents_ = pc1.named_parents
        self.q_matrix_ = q
        self._set_common(design, tester, graph, val, pv)
        self.pvalues_ = self._table(design, val, pv, tested, q)
        self.statistics_ = self._statistics_table(self.pvalues_)
        return self


def _mci_graph(names, pv, tested, links, *, alpha, fdr, tau_max):
    """PCMCI's links: the tested links with (FDR-adjusted) p-value at most ``alpha``; returns ``(graph, q_matrix)``.

    FDR adjusts the lagged p-values only; a contemporaneous pair is an undirected edge when
    both directions are significant, a required one keeps its direction.
    """
    q = None
    if fdr == "bh":
        m = tested.copy()
        m[:, :, 0] = False
        q = _fdr_bh(pv, m)
    decide = pv if q is None else q
    directed, undirected = [], []
    for i, j, lag in zip(*np.nonzero(tested & (decide <= alpha))):
        i, j, lag = int(i), int(j), int(lag)
        if lag > 0:
            directed.append((names[i], names[j], lag))
        elif (i, j, 0) in links.required:
            directed.append((names[i], names[j], 0))
        elif (j, i, 0) in links.required:
            continue
        elif i < j and tested[j, i, 0] and decide[j, i, 0] <= alpha:
            undirected.append((names[i], names[j]))
    return LaggedGraph(names, directed, undirected, tau_max=tau_max), q


class PCMCIPlus(_TimeSeriesBase):
    """PCMCI+: lagged and contemporaneous causal links of time series (Runge, UAI 2020).

    Phases: PC1 condition selection of lagged parents (:func:`pc1_parents`); a PC-style
    skeleton search over lagged and contemporaneous adjacencies with MCI tests that always
    condition on the lagged parents of both ends (:func:`mci_skeleton`); collider
    orientation (:func:`orient_contemporaneous_colliders`); Meek's rules R1-R3
    (:func:`orient_contemporaneous_rules`). Lagged links are oriented by time.
    Assumes stationarity, causal sufficiency and acyclic contemporaneous effects.

    Parameters
    ----------
    ci_test : {"parcorr", "kci"} or CITest, default "parcorr"
        As in :class:`PCMCI`.
    tau_min : int, default 0
        Smallest lag tested (0: contemporaneous links too).
    tau_max : int, default 1
    alpha : float, default 0.01
        The one significance level of every phase (tigramite's ``pc_alpha`` of
        ``run_pcmciplus``), in (0, 1).
    max_conds_dim : int or None
        Largest contemporaneous conditioning set in the skeleton phase (None: ``N``) and
        largest PC1 conditioning set (None: no limit).
    max_combinations : int, default 1
        Conditioning subsets per level in PC1 (the skeleton phase tests all of them).
    max_conds_py, max_conds_px : int or None
        Lagged conditions of the target and the source used in the MCI tests.
    contemporaneous_collider_rule : {"majority", "conservative", "none"}, default "majority"
        How unshielded triples are decided (see :func:`orient_contemporaneous_colliders`).
    conflict_resolution : bool, default True
        Mark edges oriented both ways as conflicting (``"conflict"`` edges of the graph)
        instead of keeping the first orientation; makes the result order-independent.
    background_knowledge : dict, optional
        As in :class:`PCMCI`; a required lag-0 link ``(s, t, 0)`` is kept directed ``s -> t``.
    ci_test_kwargs : dict, optional
    progress : bool, default False

    Attributes
    ----------
    graph_ : scm.LaggedGraph
        Lagged links (directed), contemporaneous edges directed, undirected (not identified)
        or conflicting.
    pvalues_ : pandas.DataFrame
        ``source, target, lag, statistic, pvalue`` of every candidate link: the largest
        p-value over its tests (for contemporaneous pairs, over both directions).
    statistics_ : pandas.DataFrame
        ``source, target, lag, statistic``: the statistic of the test with that largest
        p-value (the partial correlation with ``"parcorr"``), the entries of ``val_matrix_``.
    parents_ : dict
        ``target -> [(source, lag), ...]``: directed parents in ``graph_`` (lag 0 included).
    lagged_parents_ : dict
        The PC1 conditions of every target.
    val_matrix_, p_matrix_ : numpy.ndarray of shape (N, N, tau_max + 1)
        As tigramite's ``run_pcmciplus`` results.
    sepsets_ : dict
        ``(source, target, lag) -> [contemporaneous separating variables]`` of removed
        adjacencies (after the collider phase's updates).
    ambiguous_triples_ : list
        Unshielded triples ``((source, lag), middle, target)`` left ambiguous.
    conflicts_ : pandas.DataFrame
        The contemporaneous edges oriented both ways (``conflict_resolution=True``: the
        conflicting edges of ``graph_``), columns ``x, y, phase, edge``: the edge ``x - y``
        (``x < y`` by name), the phase that met the conflict (``"colliders"`` or
        ``"rules"``) and ``"x x-x y"``. Sorted by names; empty without conflicts.
    n_tests_, n_samples_, n_features_in_, feature_names_in_

    Notes
    -----
    With ``ci_test="parcorr"`` the result matches tigramite's
    ``PCMCI(dataframe, ParCorr()).run_pcmciplus(tau_min, tau_max, pc_alpha=alpha, ...)``:
    same graph and ``p_matrix`` / ``val_matrix`` to about 1e-12. Batching computes every test
    of a skeleton level at once, then reads them in the sequential order of the algorithm,
    so a few more tests are run than strictly needed (``n_tests_`` counts them).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = np.zeros((1000, 3))
    >>> for t in range(1, 1000):
    ...     e = rng.normal(size=3)
    ...     x[t, 0] = 0.7 * x[t - 1, 0] + e[0]
    ...     x[t, 1] = 0.6 * x[t - 1, 1] + 0.6 * x[t, 0] + e[1]
    ...     x[t, 2] = 0.5 * x[t - 1, 2] + 0.6 * x[t - 1, 1] + e[2]
    >>> PCMCIPlus(tau_max=1).fit(pd.DataFrame(x, columns=["A", "B", "C"])).graph_
    LaggedGraph(nodes=['A', 'B', 'C'], edges=['A(t-1) -> A(t)', 'B(t-1) -> B(t)', 'B(t-1) -> C(t)', 'C(t-1) -> C(t)', 'A(t) -> B(t)'])
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "contemporaneous_collider_rule": _PHASE_CONSTRAINTS["rule"],
        "conflict_resolution": _PHASE_CONSTRAINTS["conflict_resolution"],
    }

    def __init__(
        self,
        *,
        ci_test="parcorr",
        tau_min: int = 0,
        tau_max: int = 1,
        alpha: float = 0.01,
        max_conds_dim: int | None = None,
        max_combinations: int = 1,
        max_conds_py: int | None = None,
        max_conds_px: int | None = None,
        contemporaneous_collider_rule: str = "majority",
        conflict_resolution: bool = True,
        background_knowledge=None,
        ci_test_kwargs: dict | None = None,
        progress: bool = False,
    ):
        self.ci_test = ci_test
        self.tau_min = tau_min
        self.tau_max = tau_max
        self.alpha = alpha
        self.max_conds_dim = max_conds_dim
        self.max_combinations = max_combinations
        self.max_conds_py = max_conds_py
        self.max_conds_px = max_conds_px
        self.contemporaneous_collider_rule = contemporaneous_collider_rule
        self.conflict_resolution = conflict_resolution
        self.background_knowledge = background_knowledge
        self.ci_test_kwargs = ci_test_kwargs
        self.progress = progress

    def fit(self, data, mask=None) -> PCMCIPlus:
        """Learn the lagged and contemporaneous links of ``data``.

        Parameters
        ----------
        data, mask
            As in :meth:`PCMCI.fit`.

        Returns
        -------
        PCMCIPlus
            ``self``.

        Raises
        ------
        ParameterError, DataError, UnknownNodeError
            As in :meth:`PCMCI.fit`.
        """
        owner = "PCMCIPlus"
        self._validate_params()
        design, tester = self._make_tester(data, mask)
        names = design.names
        N = len(names)
        tau_min, tau_max, alpha = int(self.tau_min), int(self.tau_max), float(self.alpha)
        _check_background(self.background_knowledge, names, tau_min, tau_max, owner)
        logger.info("PCMCI+ on %d variables, %d samples, tau_max=%d", N, design.n_samples, tau_max)
        bk, conflicts = self.background_knowledge, bool(self.conflict_resolution)
        conds = dict(max_conds_py=self.max_conds_py, max_conds_px=self.max_conds_px)

        pc1 = pc1_parents(
            design, tau_min=tau_min, tau_max=tau_max, pc_alpha=alpha, max_conds_dim=self.max_conds_dim,
            max_combinations=self.max_combinations, background_knowledge=bk, progress=self.progress, runner=tester,
        )
        skel = mci_skeleton(
            design, pc1, tau_min=tau_min, tau_max=tau_max, alpha=alpha, max_conds_dim=self.max_conds_dim, **conds,
            background_knowledge=bk, progress=self.progress, runner=tester,
        )
        colliders = orient_contemporaneous_colliders(
            design, skel, pc1, rule=self.contemporaneous_collider_rule, alpha=alpha, conflict_resolution=conflicts,
            **conds, runner=tester,
        )
        graph = orient_contemporaneous_rules(colliders.graph, colliders.ambiguous, conflict_resolution=conflicts)

        self.lagged_parents_ = pc1.named_parents
        self.sepsets_ = colliders.sepsets
        self.ambiguous_triples_ = colliders.ambiguous
        self.conflicts_ = _conflicts_table(colliders.graph, graph)
        self._set_common(design, tester, graph, skel.val_matrix, skel.p_matrix)
        self.pvalues_ = self._table(design, skel.val_matrix, skel.p_matrix, skel.tested)
        self.statistics_ = self._statistics_table(self.pvalues_)
        return self


def _conflicts_table(after_colliders: LaggedGraph, final: LaggedGraph) -> pd.DataFrame:
    """The conflicting contemporaneous edges of ``final``, by the phase that marked them."""
    early = {frozenset(e) for e in after_colliders.conflicting_edges}
    rows = []
    for e in final.conflicting_edges:
        x, y = sorted(e, key=str)
        rows.append({"x": x, "y": y, "phase": "colliders" if frozenset(e) in early else "rules", "edge": f"{x} x-x {y}"})
    rows.sort(key=lambda r: (str(r["x"]), str(r["y"])))
    return pd.DataFrame(rows, columns=["x", "y", "phase", "edge"])


def _graph_from_marks(mark, names, tau_max) -> LaggedGraph:
    N = len(names)
    directed, undirected, conflict = [], [], []
    for i, j, lag in zip(*np.nonzero(mark[:, :, 1:] == _OUT)):
        directed.append((names[i], names[j], int(lag) + 1))
    for i in range(N):
        for j in range(N):
            m = mark[i, j, 0]
            if m == _OUT:
                directed.append((names[i], names[j], 0))
            elif i < j and m == _CIRCLE:
                undirected.append((names[i], names[j]))
            elif i < j and m == _CONFLICT:
                conflict.append((names[i], names[j]))
    return LaggedGraph(names, directed, undirected, conflict, tau_max=tau_max)

