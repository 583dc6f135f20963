"""The uncertainty of an SCM's answers: Monte-Carlo error and the bootstrap of a fitted model.

A model fitted by :meth:`SCM.fit` remembers its fit recipe (the graph, a private copy of the
encoded data, the mechanism spec, the noise kind and the seed). Its answers get intervals from the
nonparametric bootstrap: the rows of the data are resampled with replacement, the whole recipe is
refitted on each resample (``mechanism="auto"`` chooses again, so the uncertainty of the choice is
included), each refit answers the query, and the spread of the answers gives the standard error and
the interval.

- **Seeds.** One :class:`numpy.random.SeedSequence` per call, from ``random_state``; its first child
  draws the point estimate's Monte-Carlo sample, child ``b + 1`` spawns three streams for refit
  ``b``: the resampled rows, the fit (``"auto"``'s held-out split) and the refit's own Monte-Carlo
  draws. A replicate does not depend on the others, on the chunking or on an executor.
- **Monte-Carlo error.** Each refit answers with fresh draws of the same size as the point
  estimate's, so the spread of the replicates is the fit's error *plus* the Monte-Carlo error of one
  answer: ``std_err`` is the standard error of the point estimate, both errors in (its Monte-Carlo
  part alone is ``mc_std_err``). The percentile interval is centred where the refits' answers are,
  which the point estimate's own draws do not move: the Monte-Carlo error widens it without
  shifting it, so it is conservative when that error is a large part of ``std_err``: at a third of
  it, 95% intervals cover about 96.2% (the result's note says so from there on), at one half 97.6%.
  More draws tighten it.
- **The interval** is the percentile interval (the ``alpha / 2`` and ``1 - alpha / 2`` quantiles of
  the replicates). It respects transformations and the range of the answer (a probability stays in
  [0, 1], a quantile in the support), which the basic interval does not; BCa would correct bias and
  skewness to second order but needs a jackknife, one more refit per row of the data, more than the
  bootstrap itself for the sizes used here. Its coverage is measured in ``docs/benchmarks.md``
  ("Bootstrap intervals of a fitted SCM").
- **Linear refits in batches.** When every node is fitted by ordinary least squares (``"linear"``,
  continuous data), the refits of a chunk of resamples are solved together from weighted normal
  equations (the resample's counts as weights), on the columns standardised once; a resample whose
  system is near-singular, or whose answer is not finite, is refitted alone by :func:`fit_scm`,
  which then fits it or names the problem. Other recipes refit one resample at a time (optionally
  through an ``executor``), with a tqdm bar when ``progress=True``.
- **Failures.** A refit that raises (a parent constant in a small resample, collinear parents, an
  answer that is not finite) is counted, with its reason, in the result's ``n_failed`` and
  ``failures`` and a warning; past a tenth of the resamples a :class:`BootstrapError` refuses the
  interval, which would describe only the resamples that happen to be fittable.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import time
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._exceptions import BootstrapError, ParameterError, ScmkitError
from ._mechanisms import Linear
from ._scale import center_scale, safe_std, standardise
from ._validation import check_in_range, check_random_state, check_sample_size

__all__ = [
    "QueryResult",
    "Query",
    "MeanQuery",
    "QuantityQuery",
    "CounterfactualQuery",
    "as_answer",
    "answer_query",
    "require_fitted",
    "batch_means_se",
    "check_n_bootstrap",
    "check_alpha",
    "check_n_samples",
    "seed_sequence",
    "MAX_BOOTSTRAP",
    "MAX_FAILED_FRACTION",
]

logger = logging.getLogger(__name__)

#: The most refits one call may ask for.
MAX_BOOTSTRAP = 1_000_000
#: Past this fraction of failed refits the interval is refused (:class:`BootstrapError`).
MAX_FAILED_FRACTION = 0.1
_CHUNK = 32  # resamples solved together by the batched least squares
_BATCH_ELEMENTS = 10_000_000  # the most elements of one (b, n, k) array of a batch (80 MB of float64)
_NEAR_SINGULAR = 1e-10  # smallest / largest eigenvalue of a resample's parent correlations below this: refit alone
_N_BATCHES = 20  # batch means of a Monte-Carlo functional
_MC_SHARE = 1 / 3  # above this share of the standard error (95% intervals then cover 96.2%), the note says so


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True, repr=False, eq=False)
class QueryResult:
    """An SCM's answer with its uncertainty.

    Returned by :meth:`SCM.interventional_quantity`, and by :meth:`SCM.interventional_mean` and
    :meth:`SCM.counterfactual` when ``n_bootstrap > 0``. The arrays share one shape: a Series
    (one entry per node or per value of the query) or, for counterfactuals, a DataFrame (one row
    per unit, one column per node).

    Attributes
    ----------
    estimate : Series or DataFrame
        The answer of the model itself (not the mean of the replicates).
    std_err : Series or DataFrame
        The bootstrap standard error (the standard deviation of the replicates: the fit's error plus
        the Monte-Carlo error of one answer); for a model that was given rather than fitted, the
        Monte-Carlo standard error (0 for an exact answer); NaN when not available (a fitted model
        queried with ``n_bootstrap=0``: its estimation error is unknown).
    ci_low, ci_high : Series or DataFrame
        The ``1 - alpha`` interval: bootstrap percentiles, the Monte-Carlo normal interval of a
        given model, or NaN when not available.
    mc_std_err : Series or DataFrame
        The Monte-Carlo standard error of ``estimate`` alone (0 for closed forms and deterministic
        counterfactuals).
    alpha : float
    method : str
        How the answer is computed ("closed form", "Monte Carlo (10000 draws)", ...).
    interval : str
        "percentile bootstrap", "Monte-Carlo normal", "exact" or "not available".
    note : str
        What the uncertainty covers, in words.
    n_bootstrap : int
        The refits asked for.
    n_failed : int
        The refits that failed (left out of the interval).
    failures : dict
        ``{reason: count}`` of the failed refits.
    replicates : DataFrame or None
        One row per successful refit, one column per entry of ``estimate`` (a MultiIndex
        ``(unit, node)`` for counterfactuals): for intervals of one's own.

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import SCM
    >>> truth = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"])
    >>> model = SCM.fit(truth.graph, truth.sample(300, random_state=0))
    >>> res = model.interventional_mean({"X": 1.0}, n_bootstrap=200, random_state=0)
    >>> res.interval, res.n_failed
    ('percentile bootstrap', 0)
    >>> bool(res.ci_low["Y"] < 2.0 < res.ci_high["Y"])
    True
    >>> list(res.to_frame().columns)
    ['estimate', 'std_err', 'ci_low', 'ci_high', 'mc_std_err']
    """

    estimate: pd.Series | pd.DataFrame
    std_err: pd.Series | pd.DataFrame
    ci_low: pd.Series | pd.DataFrame
    ci_high: pd.Series | pd.DataFrame
    mc_std_err: pd.Series | pd.DataFrame
    alpha: float
    method: str
    interval: str
    note: str
    n_bootstrap: int = 0
    n_failed: int = 0
    failures: dict = field(default_factory=dict)
    replicates: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per answer (per node, value, or ``(unit, node)``): estimate, std_err, ci_low, ci_high, mc_std_err."""
        cols = {"estimate": self.estimate, "std_err": self.std_err, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "mc_std_err": self.mc_std_err}
        if isinstance(self.estimate, pd.DataFrame):
            cols = {k: v.stack() for k, v in cols.items()}
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        level = "" if self.interval == "not available" else f" at {1 - self.alpha:.0%}"
        head = f"QueryResult: {self.method}; interval: {self.interval}{level}"
        if self.n_bootstrap:
            head += f" ({self.n_bootstrap - self.n_failed} of {self.n_bootstrap} refits"
            head += f", {self.n_failed} failed)" if self.n_failed else ")"
        return f"{head}\n{self.to_frame()!r}"


# --------------------------------------------------------------------------- queries
class Query:
    """A question put to a model and to each of its bootstrap refits.

    Subclasses set ``exact`` (no Monte-Carlo error) and ``method``, and define ``__call__(model,
    rng)``: a refit's answer as a 1-D float array, and ``point(model, rng)``: the answer of the
    model itself and its Monte-Carlo standard error (same shape). ``wrap`` gives a flat array back
    its labels (a Series by default; ``labels`` is set by ``point``).
    """

    exact: bool = True
    method: str = "closed form"
    labels = None

    def __call__(self, model, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def point(self, model, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        values = np.asarray(self(model, rng), dtype=float)
        return values, np.zeros_like(values)

    def wrap(self, flat: np.ndarray):
        return pd.Series(np.asarray(flat, dtype=float), index=self.labels)

    def columns(self):
        """The labels of the replicates' columns."""
        return pd.Index(self.labels)


class MeanQuery(Query):
    """``E[X | do(interventions)]`` of every node: closed form (``n_samples=None``) or the mean of ``n_samples`` draws."""

    def __init__(self, interventions, nodes, n_samples: int | None):
        self.interventions, self.n_samples, self.labels = interventions, n_samples, list(nodes)
        self.exact = n_samples is None
        self.method = "closed form" if self.exact else f"Monte Carlo ({n_samples} draws)"

    def _draws(self, model, rng) -> np.ndarray:
        intervened = model.do(self.interventions) if self.interventions else model
        return intervened.sample(self.n_samples, random_state=rng).to_numpy(dtype=float)

    def __call__(self, model, rng):
        if self.exact:
            return model._closed_form_mean(self.interventions).to_numpy(dtype=float)
        return self._draws(model, rng).mean(axis=0)

    def point(self, model, rng):
        if self.exact:
            values = self(model, rng)
            return values, np.zeros_like(values)
        draws = self._draws(model, rng)
        return draws.mean(axis=0), safe_std(draws, ddof=1, axis=0) / math.sqrt(self.n_samples)


class QuantityQuery(Query):
    """``fn`` of ``n_samples`` draws of the intervened model; its Monte-Carlo error by batch means."""

    exact = False

    def __init__(self, interventions, fn, n_samples: int, owner: str):
        self.interventions, self.fn, self.n_samples, self.owner = interventions, fn, n_samples, owner
        self.method = f"Monte Carlo ({n_samples} draws)"

    def _sample(self, model, rng) -> pd.DataFrame:
        intervened = model.do(self.interventions) if self.interventions else model
        return intervened.sample(self.n_samples, random_state=rng)

    def __call__(self, model, rng):
        labels, values = self._evaluate(self._sample(model, rng))
        if labels != self.labels:
            raise ParameterError(
                f"The 'fn' parameter of {self.owner} returned the labels {labels[:10]} on a refit, but {self.labels[:10]} on "
                "the model: it must return the same quantities for every sample"
            )
        return values

    def point(self, model, rng):
        sample = self._sample(model, rng)
        self.labels, values = self._evaluate(sample)
        bad = [label for label, v in zip(self.labels, values) if not np.isfinite(v)]
        if bad:
            raise ParameterError(
                f"The 'fn' parameter of {self.owner} returned NaN or inf for {bad[:10]} on the model's own sample of "
                f"{self.n_samples} draws; it must return finite numbers"
            )
        return values, self._batch_se(sample, len(values))

    def _batch_se(self, sample: pd.DataFrame, size: int) -> np.ndarray:
        k = min(_N_BATCHES, self.n_samples // 2)
        answers = []
        for part in np.array_split(np.arange(self.n_samples), k) if k >= 2 else []:
            try:  # fn may need more rows than a batch holds: then the Monte-Carlo error is unknown (NaN)
                labels, values = self._evaluate(sample.iloc[part])
            except Exception:  # noqa: BLE001 - the user's function, on a batch of its sample
                return np.full(size, np.nan)
            if labels != self.labels:
                return np.full(size, np.nan)
            answers.append(values)
        se = batch_means_se(np.vstack(answers)) if answers else np.full(size, np.nan)
        return np.where(np.isfinite(se), se, np.nan)

    def _evaluate(self, sample: pd.DataFrame) -> tuple[list, np.ndarray]:
        return as_answer(self.fn(sample), name="fn", owner=self.owner)


class CounterfactualQuery(Query):
    """The counterfactual values of observed units, averaged over ``n_samples`` draws of the noise posteriors."""

    def __init__(self, observed: pd.DataFrame, interventions, n_samples: int, nodes):
        self.observed, self.interventions, self.n_samples = observed, interventions, n_samples
        self.nodes = list(nodes)
        self.method = "abduction, action, prediction" + (f" (mean of {n_samples} draws per unit)" if n_samples > 1 else "")

    def _draws(self, model, rng) -> tuple[np.ndarray, bool]:
        frame, random = model._counterfactual_draws(self.observed, self.interventions, self.n_samples, rng)
        return frame.to_numpy(dtype=float).reshape(self.n_samples, len(self.observed), len(self.nodes)), random

    def __call__(self, model, rng):
        return self._draws(model, rng)[0].mean(axis=0).ravel()

    def point(self, model, rng):
        draws, random = self._draws(model, rng)
        self.exact = not random
        if self.n_samples > 1:
            mc = safe_std(draws, ddof=1, axis=0) / math.sqrt(self.n_samples)
        else:
            mc = np.full(draws.shape[1:], np.nan if random else 0.0)
        return draws.mean(axis=0).ravel(), mc.ravel()

    def wrap(self, flat):
        values = np.asarray(flat, dtype=float).reshape(len(self.observed), len(self.nodes))
        return pd.DataFrame(values, index=self.observed.index, columns=self.nodes)

    def columns(self):
        units = np.repeat(self.observed.index.to_numpy(), len(self.nodes))
        return pd.MultiIndex.from_arrays([units, np.tile(np.array(self.nodes, dtype=object), len(self.observed))],
                                         names=["unit", "node"])


def as_answer(out, *, name: str, owner: str) -> tuple[list, np.ndarray]:
    """A query function's output as ``(labels, float values)``: a number, a Series, a mapping or a 1-D array."""
    if isinstance(out, pd.DataFrame):
        raise ParameterError(
            f"The {name!r} parameter of {owner} returned a DataFrame; it must return a number, a Series, a mapping label -> "
            "number or a 1-D array (e.g. sample['Y'].quantile([0.1, 0.9]))"
        )
    if isinstance(out, pd.Series):
        labels, raw = list(out.index), out.to_numpy()
    elif isinstance(out, Mapping):
        labels, raw = list(out.keys()), list(out.values())
    elif np.ndim(out) == 0:
        labels, raw = ["value"], [out]
    elif np.ndim(out) == 1:
        labels, raw = list(range(len(out))), out
    else:
        raise ParameterError(f"The {name!r} parameter of {owner} returned an array of shape {np.shape(out)}; it must be 0- or 1-D")
    try:
        values = np.asarray(raw, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(f"The {name!r} parameter of {owner} returned non-numeric values: {str(raw)[:100]}") from None
    if values.size == 0:
        raise ParameterError(f"The {name!r} parameter of {owner} returned nothing (an empty result)")
    return labels, values


def check_n_bootstrap(n_bootstrap, *, owner: str) -> int:
    """``n_bootstrap``: 0 (no bootstrap) or an int in [2, MAX_BOOTSTRAP]; a ParameterError naming it otherwise."""
    check_in_range(n_bootstrap, name="n_bootstrap", low=0, high=MAX_BOOTSTRAP, inclusive="both", integer=True, owner=owner)
    if n_bootstrap == 1:
        raise ParameterError(
            f"The 'n_bootstrap' parameter of {owner} must be 0 (no bootstrap) or at least 2 (one refit has no spread: its "
            "interval would have zero width); got 1 instead."
        )
    return int(n_bootstrap)


def check_n_samples(n_samples, n_columns: int, *, owner: str) -> int:
    """Monte-Carlo draws per answer: an int >= 2 (one draw has no Monte-Carlo error) whose arrays fit in memory."""
    check_sample_size(n_samples, n_columns, name="n_samples", owner=owner)
    if n_samples < 2:
        raise ParameterError(
            f"The 'n_samples' parameter of {owner} must be at least 2 (one draw gives no estimate of its Monte-Carlo "
            f"error); got {n_samples!r} instead."
        )
    return int(n_samples)


def check_alpha(alpha, *, owner: str) -> float:
    """``alpha`` in (0, 1)."""
    return float(check_in_range(alpha, name="alpha", low=0, high=1, owner=owner))


def seed_sequence(random_state) -> np.random.SeedSequence:
    """The root :class:`numpy.random.SeedSequence` of one call, from ``random_state`` (None, an int or a Generator).

    An int gives the same sequence every time; a Generator is advanced by one draw (as any use of it
    would be); a SeedSequence is copied, so that spawning from it leaves the caller's unchanged.

    Examples
    --------
    >>> seed_sequence(3).entropy
    3
    """
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.SeedSequence(random_state.entropy, spawn_key=random_state.spawn_key)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        check_random_state(random_state)  # a negative seed is refused, naming random_state
        return np.random.SeedSequence(int(random_state))
    if random_state is None:
        return np.random.SeedSequence()
    rng = check_random_state(random_state)
    return np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())


def require_fitted(model, *, owner: str):
    """The model's fit recipe; a ParameterError when the model was not fitted to data."""
    recipe = getattr(model, "_recipe", None)
    if recipe is None:
        raise ParameterError(
            f"The 'n_bootstrap' parameter of {owner} needs a model fitted to data by SCM.fit (the bootstrap refits it on "
            "resamples of its data); this model was built by hand, simulated or derived by do(), so there is no data to "
            "resample. Use n_bootstrap=0, or call the query on the fitted model with the interventions as an argument."
        )
    return recipe


# --------------------------------------------------------------------------- the engine
def answer_query(model, query: Query, *, n_bootstrap: int, alpha: float, random_state, progress: bool = False,
                 executor=None, owner: str) -> QueryResult:
    """Answer ``query`` on ``model`` and, with ``n_bootstrap > 0``, on as many refits of it; see the module docstring.

    Parameters are assumed checked (:func:`check_n_bootstrap`, :func:`check_alpha`).
    """
    recipe = require_fitted(model, owner=owner) if n_bootstrap else None
    if n_bootstrap and (n_bootstrap - 1) * alpha / 2 < 1:
        warnings.warn(
            f"{owner}: n_bootstrap={n_bootstrap} is too few for a {1 - alpha:.4g} percentile interval (its ends are the "
            f"extreme replicates, so it is too narrow); use at least {math.ceil(2 / alpha) + 1}, better ten times as many",
            UserWarning,
            stacklevel=3,
        )
    root = seed_sequence(random_state)
    point_seed, *children = root.spawn(n_bootstrap + 1)
    values, mc = query.point(model, np.random.default_rng(point_seed))
    values, mc = np.asarray(values, dtype=float), np.asarray(mc, dtype=float)
    reps, failures = None, {}
    if n_bootstrap:
        reps, failures = _replicates(recipe, query, children, progress=progress, executor=executor, owner=owner)
    return _result(query, values, mc, reps, failures, n_bootstrap, alpha, fitted=getattr(model, "_recipe", None) is not None)


def _result(query: Query, values, mc, reps, failures, n_bootstrap, alpha, *, fitted: bool) -> QueryResult:
    nan = np.full_like(values, np.nan)
    mc_words = "" if query.exact else " and the Monte-Carlo error of one answer (each refit answers with its own draws)"
    if reps is not None:
        se = safe_std(reps, ddof=1, axis=0)
        lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
        interval = "percentile bootstrap"
        note = (f"bootstrap: {len(reps)} refits of the model on resamples of its data's rows; the interval covers the fit's "
                f"estimation error{mc_words}")
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(se > 0, mc / se, 0.0)
        if not query.exact and np.nanmax(share, initial=0.0) > _MC_SHARE:
            note += (f"; the Monte-Carlo error is more than a third of the standard error (up to "
                     f"{np.nanmax(share):.0%}): it widens the interval without moving its centre, so the interval is "
                     "conservative; more draws (n_samples) make it tighter")
    elif not fitted and query.exact:
        se, lo, hi = np.zeros_like(values), values, values
        interval = "exact"
        note = "exact: the model was given (not fitted to data) and the answer is computed without sampling"
    elif not fitted:
        from scipy import stats

        z = stats.norm.ppf(1 - alpha / 2)
        se, lo, hi = mc, values - z * mc, values + z * mc
        interval = "Monte-Carlo normal"
        note = "the model was given (not fitted to data): the only error is the Monte-Carlo error of the answer"
    else:
        se, lo, hi = nan, nan, nan
        interval = "not available"
        note = ("not available: the model was fitted to data and its estimation error is not assessed without a "
                "bootstrap; pass n_bootstrap=... (e.g. 200) for a standard error and an interval"
                + ("" if query.exact else "; mc_std_err is the Monte-Carlo error alone"))
    failed = sum(failures.values())
    frame = None if reps is None else pd.DataFrame(reps, columns=query.columns())
    return QueryResult(query.wrap(values), query.wrap(se), query.wrap(lo), query.wrap(hi), query.wrap(mc), float(alpha),
                       query.method, interval, note, n_bootstrap, failed, dict(failures), frame)


def _progress(enabled: bool, total: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc)


def _replicates(recipe, query: Query, children: list, *, progress: bool, executor, owner: str):
    """The answers of the refits (an array, one row per successful refit) and the failures ``{reason: count}``."""
    import sklearn  # imported here: `import scm` imports neither scikit-learn nor threadpoolctl
    from threadpoolctl import threadpool_limits

    n_boot = len(children)
    n = recipe.n_rows
    streams = [child.spawn(3) for child in children]  # rows, fit, query
    batched = _LinearBatch(recipe) if executor is None and recipe.is_linear() else None
    start = time.perf_counter()
    outcomes: list = [None] * n_boot
    bar = _progress(progress, n_boot, f"{owner}: bootstrap refits")
    # The refits' warnings are recorded here, in the calling thread (catch_warnings is not thread-safe, so never in a
    # task), and each is raised once with its count.
    # The refits' data were checked by the first fit: scikit-learn need not check them (nor the parameters of the
    # regressors that fitted them) again, a tenth to a fifth of a spline refit.
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings(record=True) as seen, \
            sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        warnings.simplefilter("always")
        if executor is None:
            step = batched.chunk_size() if batched is not None else _CHUNK
            for lo in range(0, n_boot, step):
                chunk = range(lo, min(lo + step, n_boot))
                rows = [np.random.default_rng(streams[b][0]).integers(0, n, n) for b in chunk]
                models = batched.refits(rows) if batched is not None else [None] * len(rows)
                for b, r, m in zip(chunk, rows, models):
                    outcomes[b] = _replicate(recipe, query, r, m, streams[b][1], streams[b][2])
                if bar is not None:
                    bar.update(len(chunk))
        else:
            tasks = [(recipe, query, n, s, os.getpid()) for s in streams]
            for b, out in enumerate(executor.map(_replicate_task, tasks)):
                outcomes[b] = out
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    values, failures = [], Counter()
    caught = Counter((w.category, str(w.message)) for w in seen)
    for value, reason in outcomes:
        if reason is None:
            values.append(value)
        else:
            failures[reason] += 1
    logger.info("%s: %d bootstrap refits (%s) in %.2f s, %d failed", owner, n_boot,
                "batched least squares" if batched is not None else "one at a time", time.perf_counter() - start,
                sum(failures.values()))
    _report(failures, caught, n_boot, owner)
    return np.vstack(values), failures


def _report(failures: Counter, caught: Counter, n_boot: int, owner: str) -> None:
    """Refuse too many failures; warn once about the others and about each warning the refits raised."""
    n_failed = sum(failures.values())
    common = "; ".join(f"{reason} ({k}x)" for reason, k in failures.most_common(3))
    if n_failed > MAX_FAILED_FRACTION * n_boot or n_boot - n_failed < 2:
        raise BootstrapError(
            f"{owner}: {n_failed} of {n_boot} bootstrap refits failed (more than {MAX_FAILED_FRACTION:.0%}), so an interval "
            f"would describe only the resamples that happen to be fittable. Most common: {common}. The data are too few "
            "or too degenerate for this model's refits: use more rows, fewer parents, or a simpler mechanism"
        )
    for (category, message), k in caught.items():
        warnings.warn(f"{message} [raised {k} times during {n_boot} bootstrap refits]", category, stacklevel=4)
    if n_failed:
        warnings.warn(
            f"{owner}: {n_failed} of {n_boot} bootstrap refits failed and are left out of the interval (it describes the "
            f"fittable resamples); reasons: {common}. The result's n_failed and failures keep the count",
            UserWarning,
            stacklevel=4,
        )


def _replicate_task(task):
    """One refit and its answer, from ``(recipe, query, n_rows, streams, caller's pid)`` (what an executor maps over).

    In the caller's process (threads) BLAS is already limited to one thread by the caller; in a worker
    process it is limited for the task (threadpoolctl costs a few milliseconds, small beside a refit
    that is worth sending to another process).
    """
    from threadpoolctl import threadpool_limits

    recipe, query, n, (rows_seed, fit_seed, query_seed), caller = task
    rows = np.random.default_rng(rows_seed).integers(0, n, n)
    if os.getpid() == caller:
        return _replicate(recipe, query, rows, None, fit_seed, query_seed)
    with threadpool_limits(limits=1, user_api="blas"):
        return _replicate(recipe, query, rows, None, fit_seed, query_seed)


def _replicate(recipe, query: Query, rows: np.ndarray, model, fit_seed, query_seed):
    """``(answer, None)`` of one refit, or ``(None, reason)`` when it fails (a named scmkit error or a non-finite answer)."""
    try:
        if model is None:
            model = recipe.refit(rows, np.random.default_rng(fit_seed))
        value = np.asarray(query(model, np.random.default_rng(query_seed)), dtype=float)
    except ScmkitError as exc:
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return None, reason[:240]
    if not np.isfinite(value).all():
        return None, "the refit's answer is not finite"
    return value, None


class _LinearBatch:
    """Least-squares refits of a linear recipe, a chunk of resamples at a time.

    The columns are standardised once (overflow-safe moments of the full data); a resample is a
    vector of counts, and each node's weighted normal equations are solved for every resample of the
    chunk together. Coefficients are mapped back to the data's units as :func:`fit_scm` maps them,
    and the residuals become the noise as :func:`fit_noise` makes it. ``refits`` returns None for a
    resample whose system is near-singular or whose numbers are not finite: it is refitted alone.
    """

    def __init__(self, recipe):
        from ._fit import _parents_in_order

        self.recipe = recipe
        self.nodes = list(recipe.graph.nodes)
        pos = {v: j for j, v in enumerate(self.nodes)}
        self.raw = recipe.data[self.nodes].to_numpy(dtype=float)
        self.loc, self.scale = center_scale(self.raw, self.nodes, owner="SCM.fit")
        self.z = standardise(self.raw, self.loc, self.scale)
        self.scale = np.where(self.scale > 0, self.scale, 1.0)  # what standardise divided by
        self.parents = {v: _parents_in_order(recipe.graph, v) for v in self.nodes}
        self.pidx = {v: [pos[p] for p in self.parents[v]] for v in self.nodes}
        self.pos = pos
        self.template = None  # the first refit, validated; the others share its graph, order and parents

    def chunk_size(self) -> int:
        """Resamples per batch: up to ``_CHUNK``, fewer for large data (each batch holds a few ``(b, n, k)`` arrays)."""
        n, k = self.z.shape[0], max([len(p) for p in self.pidx.values()] + [1])
        return int(max(1, min(_CHUNK, _BATCH_ELEMENTS // (n * k))))

    def refits(self, rows: list) -> list:
        from ._fit import _noise_from_residuals
        from ._scm import SCM

        n = self.z.shape[0]
        w = np.stack([np.bincount(r, minlength=n) for r in rows]).astype(float) / n  # (b, n), rows sum to 1
        means = w @ self.z  # (b, d)
        ok = np.ones(len(rows), dtype=bool)
        coefs, intercepts = {}, {}
        with np.errstate(all="ignore"):
            for v in self.nodes:
                j, pa = self.pos[v], self.pidx[v]
                if pa:
                    xc = self.z[None, :, pa] - means[:, None, pa]  # (b, n, k)
                    yc = self.z[None, :, j] - means[:, None, j]
                    wx = xc * w[:, :, None]
                    gram = np.einsum("bni,bnk->bik", wx, xc)
                    rhs = np.einsum("bni,bn->bi", wx, yc)
                    var = np.diagonal(gram, axis1=1, axis2=2)
                    good = ok & (var.min(axis=1) > 1e-20)  # a constant parent (rounding leaves ~1e-33): refit alone
                    inv = 1.0 / np.sqrt(np.where(var > 0, var, 1.0))
                    corr = gram * inv[:, :, None] * inv[:, None, :]
                    eig = np.linalg.eigvalsh(np.where(good[:, None, None], corr, np.eye(len(pa))))
                    good &= eig[:, 0] > _NEAR_SINGULAR * eig[:, -1]
                    beta = np.zeros((len(rows), len(pa)))
                    if good.any():
                        beta[good] = np.linalg.solve(gram[good], rhs[good][:, :, None])[:, :, 0]
                    ok &= good
                    a = means[:, j] - np.einsum("bi,bi->b", means[:, pa], beta)
                    coef = beta * self.scale[j] / self.scale[pa]
                    intercept = self.loc[j] + self.scale[j] * a - coef @ self.loc[pa]
                else:
                    coef = np.zeros((len(rows), 0))
                    intercept = self.loc[j] + self.scale[j] * means[:, j]
                ok &= np.isfinite(coef).all(axis=1) & np.isfinite(intercept)
                coefs[v], intercepts[v] = coef, intercept
        out = []
        for b, r in enumerate(rows):
            model = self._model(b, r, coefs, intercepts, SCM, _noise_from_residuals) if ok[b] else None
            out.append(model)
        return out

    def _model(self, b, rows, coefs, intercepts, SCM, noise_from_residuals):
        mechanisms, noises = {}, {}
        with np.errstate(all="ignore"):
            for v in self.nodes:
                j, pa = self.pos[v], self.pidx[v]
                coef = coefs[v][b]
                mech = Linear(dict(zip(self.parents[v], coef.tolist())), intercept=float(intercepts[v][b]))
                resid = self.raw[rows, j] - mech.mean(self.raw[np.ix_(rows, pa)] if pa else np.empty((len(rows), 0)))
                if not np.isfinite(resid).all():
                    return None
                mechanisms[v] = mech
                noises[v] = noise_from_residuals(resid, self.recipe.noise, v)
        if self.template is None:
            self.template = SCM(self.recipe.graph, mechanisms, noises)
            return self.template
        return SCM._like(self.template, mechanisms, noises)


def batch_means_se(values: np.ndarray) -> np.ndarray:
    """The Monte-Carlo standard error from the answers of ``_N_BATCHES`` equal batches of one sample (rows: batches)."""
    k = values.shape[0]
    if k < 2:
        return np.full(values.shape[1:], np.nan)
    return safe_std(values, ddof=1, axis=0) / math.sqrt(k)
