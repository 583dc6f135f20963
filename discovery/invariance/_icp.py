"""Invariant causal prediction: the causes of a target are what stays invariant.

Invariant causal prediction (ICP; Peters, Bühlmann and Meinshausen, JRSS-B 2016)
looks at data from several *environments* (experimental conditions, sites, time
periods) that differ by interventions on variables other than the target ``y``. For
the true parents ``S*`` of ``y`` the conditional law of ``y`` given ``X_S*`` is the
same in every environment. ICP tests this invariance for every candidate set ``S``
and returns the intersection of the sets that pass: with probability at least
``1 - alpha`` it is a subset of ``S*``, whatever the interventions were.

This module holds two estimators:

* :class:`ICP`, linear Gaussian ICP, where all ``2^p`` pooled regressions and
  invariance tests run in one batched, jitted JAX call (:mod:`discovery.invariance._kernels`);
* :class:`NonlinearICP` (Heinze-Deml, Peters and Meinshausen, J. Causal Inference
  2018), with any scikit-learn regressor and a residual-distribution or kernel test.

The phases are functions of this module: :func:`candidate_masks` enumerates the
sets, :func:`approximate_pvalues` and :func:`exact_pvalues` turn the batched
statistics into set p-values, :func:`summarise_sets` computes the accepted sets,
the estimate and the per-variable p-values, and :func:`defining_sets` the minimal
sets that meet every accepted set.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> env = np.repeat([0, 1, 2], 300)
>>> x1 = rng.normal(size=900) + 2.0 * (env == 1)          # intervened on in env 1
>>> y = 1.5 * x1 + rng.normal(size=900)
>>> x2 = y + rng.normal(size=900) + 3.0 * (env == 2)       # a child, shifted in env 2
>>> data = pd.DataFrame({"x1": x1, "x2": x2, "y": y, "env": env})
>>> icp = ICP().fit(data, "y", "env")
>>> sorted(icp.parents_)
['x1']
"""

from __future__ import annotations

import itertools
import logging
import math
import numbers
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from scm._exceptions import DataError, NotFittedError, ParameterError, UnknownNodeError
from scm._validation import as_dataframe, check_numeric_frame

from .._base import AnyOf, HasAttributes, Interval, Options, ParamsMixin
from .._utils import next_pow2, standardize

__all__ = [
    "ICP",
    "NonlinearICP",
    "candidate_masks",
    "approximate_pvalues",
    "exact_pvalues",
    "summarise_sets",
    "defining_sets",
]

logger = logging.getLogger(__name__)

#: largest batch of candidate sets sent to the kernel in one call
_MAX_CHUNK = 4096
#: refuse to enumerate more candidate sets than this (ask for ``max_set_size``)
_MAX_SETS = 2**24
#: budget of candidate checks when searching minimal hitting sets
_MAX_HITTING_CHECKS = 2**22

_REJECTION_HINT = (
    "Likely causes: a hidden confounder of the target and its predictors, an "
    "intervention on the target itself in some environment, or a mechanism that is "
    "nonlinear or has non-Gaussian/heteroscedastic noise (try NonlinearICP). The "
    "estimate is the empty set."
)


def _max_set_size(value, p: int) -> int:
    """The largest candidate set: ``max_set_size`` (validated) capped at ``p``, all ``p`` for ``None``."""
    return p if value is None else int(min(value, p))


# =========================================================================== inputs
def _pop_column(frame: pd.DataFrame, name, what: str) -> tuple[pd.Series, pd.DataFrame]:
    if name not in frame.columns:
        sample = [str(c) for c in frame.columns[:10]]
        more = " ..." if frame.shape[1] > 10 else ""
        raise UnknownNodeError(f"{what} {name!r} is not a column of X (columns: {sample}{more})")
    return frame[name], frame.drop(columns=[name])


def _as_vector(values, name: str, n: int, columns) -> pd.Series:
    """A 1-D input of length ``n`` as a Series (its own name, or ``name``)."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise DataError(f"{name} must be one column; got a DataFrame with {values.shape[1]} columns")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        series = values.reset_index(drop=True)
        if values.name is not None and str(values.name) in set(map(str, columns)):
            raise DataError(
                f"{name} {values.name!r} is also a column of X; pass its name ({name}={values.name!r}) "
                "to use that column, or drop it from X"
            )
    else:
        arr = np.asarray(values)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise DataError(f"{name} must be a column name of X or a 1-D array; got an array of shape {arr.shape}")
        series = pd.Series(arr)
    if len(series) != n:
        raise DataError(f"{name} has {len(series)} rows but X has {n}")
    return series


def _plain(value):
    """A numpy scalar as the Python value it holds, for messages (``0``, not ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def split_inputs(X, y, environment, *, owner: str, min_rows_extra: int = 2, min_environments: int = 2):
    """Validate ``fit(X, y, environment)`` and return its clean parts.

    ``environment=None`` is one environment (every row labelled 0), for the estimators that
    accept it (``min_environments=1``); for the others it is an error naming the parameter.

    Returns
    -------
    frame : DataFrame of the predictors (float), target : str, y : ndarray,
    codes : ndarray of int environment codes, labels : list of environment labels.
    """
    frame = as_dataframe(X, name="X")
    n = frame.shape[0]
    # ---- target
    if y is None:
        raise DataError(f"{owner} requires y to be passed, but the target y is None")
    if isinstance(y, str) or (isinstance(y, numbers.Integral) and not isinstance(y, bool) and y in frame.columns):
        target = str(y)
        yv, frame = _pop_column(frame, y, "y")
    else:
        yv = _as_vector(y, "y", n, frame.columns)
        target = str(yv.name) if yv.name is not None else "y"
    # ---- environment
    if environment is None:
        if min_environments > 1:
            raise DataError(f"{owner} needs the environment of every row: pass environment=... (a column name or labels)")
        env = np.zeros(n, dtype=np.int64)
    elif isinstance(environment, str):
        if environment == target and target not in frame.columns:
            raise DataError(f"environment {environment!r} is the target y; the environment must be another column")
        env, frame = _pop_column(frame, environment, "environment")
    else:
        env = _as_vector(environment, "environment", n, frame.columns)
    env = pd.Series(np.asarray(env), name="environment")
    if env.isna().any():
        raise DataError(f"environment holds missing values (first at row {int(np.where(env.isna())[0][0])})")
    # ---- rows: before the values, whose checks would call every column of one row constant
    p = frame.shape[1]
    need = p + min_rows_extra
    rule = f"p + {min_rows_extra}" if min_rows_extra else "p"
    if n < min_environments * max(need, 1):
        if min_environments == 1:
            raise DataError(f"{owner} needs at least {rule} = {max(need, 1)} rows ({p} predictors); X has {n} "
                            f"sample{'' if n == 1 else 's'}")
        raise DataError(
            f"{owner} needs at least two environments of {rule} = {max(need, 1)} rows each ({p} predictors), "
            f"so at least {2 * max(need, 1)} rows; X has {n}"
        )
    # ---- values
    frame = check_numeric_frame(frame, name="X", allow_constant=False)
    ycheck = check_numeric_frame(pd.DataFrame({target: np.asarray(yv)}), name="y", allow_constant=False)
    yarr = ycheck.iloc[:, 0].to_numpy(dtype=float)
    codes, uniques = pd.factorize(env, sort=True)
    labels = list(uniques)
    if len(labels) < min_environments:
        raise DataError(
            f"{owner} needs data from at least two environments; environment has the single value {_plain(labels[0])!r}"
        )
    counts = np.bincount(codes, minlength=len(labels))
    small = [(labels[i], int(c)) for i, c in enumerate(counts) if c < need]
    if small:
        shown = ", ".join(f"{lab!r} ({c} rows)" for lab, c in small[:5])
        raise DataError(
            f"every environment needs at least {rule} = {need} rows for {p} predictors; "
            f"too few in environment(s) {shown}"
        )
    return frame, target, yarr, codes.astype(np.int64), labels


# =========================================================================== candidate sets
def candidate_masks(p: int, max_set_size: int | None = None) -> np.ndarray:
    """0/1 masks of every subset of ``p`` predictors with at most ``max_set_size`` members.

    Ordered by size, then lexicographically (the order of :func:`itertools.combinations`).

    Examples
    --------
    >>> candidate_masks(3, 1).astype(int).tolist()
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    k_max = p if max_set_size is None else min(int(max_set_size), p)
    total = sum(math.comb(p, k) for k in range(k_max + 1))
    if total > _MAX_SETS:
        raise ParameterError(
            f"{total} candidate sets for {p} predictors is too many to enumerate (limit {_MAX_SETS}); "
            "set 'max_set_size' (or screen the predictors first)"
        )
    blocks = [np.zeros((1, p), dtype=bool)]
    for k in range(1, k_max + 1):
        combos = np.array(list(itertools.combinations(range(p), k)), dtype=np.int64)
        block = np.zeros((len(combos), p), dtype=bool)
        block[np.arange(len(combos))[:, None], combos] = True
        blocks.append(block)
    return np.concatenate(blocks, axis=0)


# =========================================================================== p-values
def approximate_pvalues(ss: np.ndarray, s: np.ndarray, n_env: np.ndarray) -> np.ndarray:
    """Set p-values of the approximate test from per-environment residual sums.

    For each environment ``e``, its pooled residuals are compared with those of all
    other environments by a two-sided Welch t-test of the means and a two-sided
    F-test of the variances; the set p-value is
    ``min(1, 2 (E - 1) min_e min(p_t(e), p_F(e)))`` (R's ``InvariantCausalPrediction``
    and ``causalicp``).

    Parameters
    ----------
    ss, s : ndarray of shape (B, E)
        Sum of squares and sum of the residuals in each environment.
    n_env : ndarray of shape (E,)
        Rows per environment.

    Returns
    -------
    ndarray of shape (B,)

    Examples
    --------
    Two candidate sets over three environments of 10 rows; the second set's residuals
    shift in environment 2:

    >>> ss = np.array([[10.0, 10.5, 9.5], [10.0, 40.0, 9.0]])
    >>> s = np.array([[0.5, -0.5, 0.0], [0.5, 15.0, -0.5]])
    >>> approximate_pvalues(ss, s, np.array([10, 10, 10])).round(3)
    array([1.   , 0.036])
    """
    from scipy import stats  # here and below, not at import: importing the family stays light

    n = n_env[None, :].astype(float)
    n_total = n.sum()
    n_o = n_total - n
    s_o = s.sum(axis=1, keepdims=True) - s
    ss_o = ss.sum(axis=1, keepdims=True) - ss
    mean_e, mean_o = s / n, s_o / n_o
    var_e = (ss - s * mean_e) / (n - 1)
    var_o = (ss_o - s_o * mean_o) / (n_o - 1)
    a, b = var_e / n, var_o / n_o
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (mean_e - mean_o) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n - 1) + b**2 / (n_o - 1))
        f = var_e / var_o
    p_t = 2.0 * stats.t.sf(np.abs(t), df)
    p_f = 2.0 * np.minimum(stats.f.cdf(f, n - 1, n_o - 1), stats.f.sf(f, n - 1, n_o - 1))
    e = ss.shape[1]
    smallest = np.minimum(p_t, p_f).min(axis=1)
    return np.minimum(1.0, smallest * 2.0 * (e - 1))


def exact_pvalues(chow_num: np.ndarray, chow_rss: np.ndarray, n_env: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Set p-values of the exact (Chow-type) test.

    For environment ``k``, ``y_k`` is predicted from the OLS fit (with intercept) on
    all other environments; with ``r_k`` the prediction errors, ``Z`` the design
    matrices (``X_S`` and a column of ones) and ``sigma^2 = RSS_-k / (n_-k - |S| - 1)``,

        ``F_k = r_k^T (I + Z_k (Z_-k^T Z_-k)^{-1} Z_k^T)^{-1} r_k / (n_k sigma^2)``

    is exactly ``F(n_k, n_-k - |S| - 1)``-distributed under invariance with Gaussian
    noise (Chow's test of predictive failure). The set p-value is
    ``min(1, E min_k P(F > F_k))``.

    Parameters
    ----------
    chow_num, chow_rss : ndarray of shape (B, E)
        Numerator of ``F_k`` (before division by ``n_k``) and ``RSS_-k``.
    n_env : ndarray of shape (E,)
    sizes : ndarray of shape (B,)
        ``|S|`` of each set.

    Returns
    -------
    ndarray of shape (B,)

    Examples
    --------
    >>> num = np.array([[10.0, 11.0, 9.0], [10.0, 60.0, 9.0]])
    >>> rss = np.array([[20.0, 19.0, 21.0], [20.0, 19.0, 21.0]])
    >>> exact_pvalues(num, rss, np.array([10, 10, 10]), np.array([1, 1])).round(3)
    array([1.   , 0.002])
    """
    from scipy import stats

    n = n_env[None, :].astype(float)
    d2 = n.sum() - n - sizes[:, None] - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = chow_num / (n * (chow_rss / d2))
    pvals = stats.f.sf(stat, n, d2)
    e = chow_num.shape[1]
    return np.minimum(1.0, pvals.min(axis=1) * e)


# =========================================================================== summaries
def defining_sets(accepted: np.ndarray, names) -> list[frozenset]:
    """The minimal sets of variables that intersect every accepted set.

    At least one variable of each defining set is a parent (if the parents' set is
    accepted): useful when the estimate is empty because two correlated variables
    each make an invariant set. Empty if no set or the empty set is accepted.

    Parameters
    ----------
    accepted : ndarray of bool, shape (A, p)
        Masks of the accepted sets.
    names : sequence of str
        The predictor names.

    Returns
    -------
    list of frozenset
        By size, then by sorted names.

    Examples
    --------
    >>> acc = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=bool)
    >>> [sorted(s) for s in defining_sets(acc, ["a", "b", "c"])]
    [['a', 'b'], ['a', 'c'], ['b', 'c']]
    """
    accepted = np.asarray(accepted, dtype=bool)
    if accepted.shape[0] == 0 or not accepted.any(axis=1).all():
        return []
    union = np.flatnonzero(accepted.any(axis=0))
    acc = accepted[:, union]
    found: list[np.ndarray] = []  # masks over ``union``
    checks = 0
    for k in range(1, len(union) + 1):
        combos = np.array(list(itertools.combinations(range(len(union)), k)), dtype=np.int64)
        cand = np.zeros((len(combos), len(union)), dtype=bool)
        cand[np.arange(len(combos))[:, None], combos] = True
        if found:
            prev = np.array(found)
            superset = (cand[:, None, :] >= prev[None, :, :]).all(axis=2).any(axis=1)
            cand = cand[~superset]
        checks += cand.shape[0] * acc.shape[0]
        if checks > _MAX_HITTING_CHECKS:
            logger.warning("defining sets: stopped at size %d (search budget exhausted); the list may be incomplete", k)
            break
        hits = (cand.astype(np.int8) @ acc.T.astype(np.int8) > 0).all(axis=1) if cand.size else np.zeros(0, bool)
        found.extend(cand[hits])
    out = [frozenset(str(names[union[j]]) for j in np.flatnonzero(m)) for m in found]
    return sorted(out, key=lambda s: (len(s), sorted(s)))


def mask_sets(masks: np.ndarray, names) -> list[frozenset]:
    """The sets of ``names`` flagged by each row of the boolean ``masks``."""
    names = [str(c) for c in names]
    return [frozenset(itertools.compress(names, row)) for row in np.asarray(masks, dtype=bool).tolist()]


def summarise_sets(masks: np.ndarray, set_pvalues: np.ndarray, alpha: float, names) -> dict:
    """Accepted sets, estimate and per-variable p-values from the set p-values.

    A set is accepted when its p-value exceeds ``alpha``. The estimate is the
    intersection of the accepted sets (empty when none is accepted). The p-value of
    variable ``k`` is the largest p-value of the tested sets that do not contain
    ``k`` (1 for every variable when no set is accepted), as in R's
    ``InvariantCausalPrediction`` and ``causalicp``.

    Parameters
    ----------
    masks : ndarray of bool, shape (B, p)
        The candidate sets (:func:`candidate_masks`).
    set_pvalues : ndarray of shape (B,)
        Their p-values (:func:`approximate_pvalues` or :func:`exact_pvalues`).
    alpha : float
        Level of the test.
    names : sequence of str
        The ``p`` predictors.

    Returns
    -------
    dict with keys ``accepted`` (bool mask of the rows of ``masks``),
    ``accepted_sets`` (list of frozenset), ``parents`` (frozenset),
    ``pvalues`` (Series), ``model_rejected`` (bool).

    Examples
    --------
    >>> out = summarise_sets(candidate_masks(2), np.array([0.01, 0.3, 0.02, 0.6]), 0.05, ["X1", "X2"])
    >>> sorted(out["parents"]), out["pvalues"].to_dict()
    (['X1'], {'X1': 0.02, 'X2': 0.3})
    """
    names = [str(c) for c in names]
    accepted = set_pvalues > alpha
    acc_masks = masks[accepted]
    rejected = not accepted.any()
    if rejected:
        parents = frozenset()
        pv = np.ones(len(names))
    else:
        parents = frozenset(np.asarray(names, dtype=object)[acc_masks.all(axis=0)].tolist())
        pv = np.where(~masks, set_pvalues[:, None], -np.inf).max(axis=0)
    accepted_sets = mask_sets(acc_masks, names)
    return {
        "accepted": accepted,
        "accepted_sets": accepted_sets,
        "parents": parents,
        "pvalues": pd.Series(pv, index=names, name="pvalue", dtype=float),
        "model_rejected": bool(rejected),
    }


# =========================================================================== shared estimator code
class _InvariantPrediction(ParamsMixin):
    """Fitted-attribute bookkeeping shared by :class:`ICP` and :class:`NonlinearICP`."""

    _target_required = True  # fit(X, y, environment)

    def _store_summary(self, masks, set_pvalues, names, target, labels) -> dict:
        summary = summarise_sets(masks, set_pvalues, self.alpha, names)
        self.accepted_sets_ = summary["accepted_sets"]
        self.parents_ = summary["parents"]
        self.pvalues_ = summary["pvalues"]
        self.model_rejected_ = summary["model_rejected"]
        self.defining_sets_ = defining_sets(masks[summary["accepted"]], names)
        sets = mask_sets(masks, names)
        self.set_pvalues_ = dict(zip(sets, set_pvalues.tolist()))
        self.target_ = target
        self.environments_ = list(labels)
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        if self.model_rejected_:
            warnings.warn(
                f"{type(self).__name__} rejected every candidate set for target {target!r} at alpha={self.alpha} "
                f"(largest set p-value {float(np.max(set_pvalues)):.3g}): the model is rejected. {_REJECTION_HINT}",
                UserWarning,
                stacklevel=3,
            )
        return summary

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "parents_")


# =========================================================================== linear ICP
class ICPParams(ParamsMixin):
    """The parameters of :class:`ICP`, shared with :class:`discovery.ICPGraph` (ICP per node)."""

    _parameter_constraints = {
        "alpha": Interval(Real, 0, 1),
        "test": Options(("approximate", "exact")),
        "max_set_size": AnyOf(None, Interval(Integral, 0, None, closed="left")),
    }

    def __init__(self, *, alpha: float = 0.05, test: str = "approximate", max_set_size: int | None = None):
        self.alpha = alpha
        self.test = test
        self.max_set_size = max_set_size


class ICP(ICPParams, _InvariantPrediction):
    """Invariant causal prediction for a linear Gaussian target (Peters et al., 2016).

    For every set ``S`` of predictors (up to ``max_set_size`` of them), ``y`` is
    regressed on ``X_S`` (OLS with intercept, pooled over the environments) and the
    hypothesis "the residual distribution is the same in every environment" is
    tested. The estimated parents are the intersection of the sets that are not
    rejected at level ``alpha``; under the model (a linear Gaussian structural
    equation for ``y`` that the environments do not change, no hidden confounding of
    ``y``) they are a subset of the true parents with probability ``1 - alpha``.

    All candidate sets are evaluated in one jitted, vmapped JAX call (float64), from
    the per-environment cross-product matrices of the data; see
    :mod:`discovery.invariance._kernels`.

    Parameters
    ----------
    alpha : float, default 0.05
        Level of the tests, in (0, 1).
    test : {"approximate", "exact"}, default "approximate"
        ``"approximate"``: for every environment, its pooled residuals against all
        the others, a Welch t-test of the means and an F-test of the variances
        (both two-sided); the set p-value is
        ``min(1, 2 (E - 1) min_e min(p_t, p_F))``, exactly as R's
        ``InvariantCausalPrediction`` and the Python package ``causalicp``.
        ``"exact"``: Chow's test of predictive failure for every environment (the
        OLS fit on the other environments predicts its rows; the F statistic of the
        prediction errors is exact under Gaussian noise), Bonferroni over the ``E``
        environments; see :func:`exact_pvalues`. Unlike R, which subsamples at most
        200 rows of an environment for this test, all rows are used.
    max_set_size : int, optional
        Only test sets with at most this many predictors (default: all ``2^p``).
        The guarantee then holds if the parents number at most ``max_set_size``.

    Attributes
    ----------
    accepted_sets_ : list of frozenset
        The candidate sets that were not rejected.
    parents_ : frozenset
        The estimate: the intersection of the accepted sets (empty when every set is
        rejected).
    pvalues_ : pandas.Series
        Per predictor: the largest p-value of the tested sets that do not contain it
        (a p-value for "is a parent"); 1 for all when every set is rejected.
    conf_intervals_ : pandas.DataFrame
        Columns ``lower`` and ``upper`` per predictor: the union over the accepted
        sets of the OLS confidence intervals (normal quantile ``1 - alpha / 4``,
        the residual variance of the pooled fit), with 0 for the sets that do not
        contain the predictor -- as in the R package. NaN when every set is
        rejected.
    defining_sets_ : list of frozenset
        The minimal sets that intersect every accepted set (at least one member of
        each is a parent). Empty when the empty set is accepted.
    model_rejected_ : bool
        Whether every set was rejected; a :class:`UserWarning` then names the
        likely causes.
    set_pvalues_ : dict of frozenset to float
        The p-value of every tested set (by size, then lexicographically).
    target_ : str
    environments_ : list
        The environment labels, sorted.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    NonlinearICP : nonlinear mechanisms, any scikit-learn regressor.
    AnchorRegression, IRM : invariance-regularised prediction rather than inference.

    Notes
    -----
    Input: ``X`` a DataFrame; ``y`` a column name of ``X`` or a vector; the
    environment a column name of ``X`` or a vector of labels (any hashable). Every
    environment needs at least ``p + 2`` rows.

    References
    ----------
    J. Peters, P. Bühlmann and N. Meinshausen. Causal inference by using invariant
    prediction: identification and confidence intervals. JRSS-B 78(5), 2016.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> env = np.repeat(["obs", "int"], 400)
    >>> a = rng.normal(size=800) + 1.5 * (env == "int")
    >>> y = a + rng.normal(size=800)
    >>> b = 0.8 * y + rng.normal(size=800)
    >>> icp = ICP(alpha=0.05).fit(pd.DataFrame({"a": a, "b": b}), y, env)
    >>> icp.parents_, [sorted(s) for s in icp.accepted_sets_]
    (frozenset({'a'}), [['a'], ['a', 'b']])
    >>> icp.pvalues_.round(3).to_dict()
    {'a': 0.0, 'b': 0.845}
    >>> bool(icp.conf_intervals_.loc["a", "lower"] < 1.0 < icp.conf_intervals_.loc["a", "upper"])
    True
    """

    def fit(self, X, y, environment) -> ICP:
        """Run ICP for target ``y``.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
            The predictors (and possibly ``y`` and the environment column).
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` (removed from the predictors) or the target values.
        environment : str or array-like of shape (n_samples,)
            A column name of ``X`` (removed from the predictors) or the environment
            label of every row.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            ``alpha`` outside (0, 1), an unknown ``test``, a bad ``max_set_size``.
        DataError
            Non-numeric or missing values, a single environment, an environment with
            fewer than ``p + 2`` rows, ``y`` also among the predictors, collinear
            predictors.
        UnknownNodeError
            ``y`` or ``environment`` names no column of ``X``.
        """
        self._validate_params()
        alpha, test = float(self.alpha), self.test
        frame, target, yv, codes, labels = split_inputs(X, y, environment, owner="ICP")
        names = list(frame.columns)
        p = len(names)
        k_max = _max_set_size(self.max_set_size, p)
        start = time.perf_counter()
        masks = candidate_masks(p, k_max)
        stats_ = _batched_statistics(frame.to_numpy(dtype=float), yv, codes, len(labels), masks, exact=test == "exact", names=names)
        n_env = np.bincount(codes, minlength=len(labels))
        if test == "approximate":
            set_p = approximate_pvalues(stats_["ss"], stats_["s"], n_env)
        else:
            set_p = exact_pvalues(stats_["chow_num"], stats_["chow_rss"], n_env, masks.sum(axis=1).astype(float))
        summary = self._store_summary(masks, set_p, names, target, labels)
        self.conf_intervals_ = _confidence_intervals(stats_, masks, summary["accepted"], n_env.sum(), alpha, names)
        self._coef = stats_["beta"]
        self._set_row = {s: i for i, s in enumerate(self.set_pvalues_)}
        logger.info(
            "ICP(%s): %d candidate sets for target %r in %.3f s; %d accepted; estimate %s",
            test, len(masks), target, time.perf_counter() - start, len(self.accepted_sets_), sorted(self.parents_),
        )
        return self


    def coefficients(self, subset) -> pd.Series:
        """The pooled OLS coefficients of a tested set.

        Parameters
        ----------
        subset : iterable of str
            A tested set of predictors.

        Returns
        -------
        pandas.Series
            One entry per predictor (zero outside ``subset``) and ``intercept``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> env = np.repeat([0, 1], 100)
        >>> x = rng.normal(size=200) + env
        >>> icp = ICP().fit(pd.DataFrame({"x": x}), 2 * x + 1 + rng.normal(size=200), env)
        >>> icp.coefficients({"x"}).round(1).to_dict()
        {'x': 2.0, 'intercept': 0.9}
        """
        if not hasattr(self, "_coef"):
            raise NotFittedError("This ICP instance is not fitted yet; call 'fit' first.")
        key = frozenset(map(str, [subset] if isinstance(subset, str) else subset))
        if key not in self._set_row:
            raise ParameterError(f"{sorted(key)} is not a tested set (max_set_size={self.max_set_size})")
        return pd.Series(self._coef[self._set_row[key]], index=list(self.feature_names_in_) + ["intercept"], name="coefficient")


def _batched_statistics(X: np.ndarray, y: np.ndarray, codes: np.ndarray, n_env: int, masks: np.ndarray, *, exact: bool, names,
                        per_env: bool = False) -> dict:
    """Run :func:`discovery.invariance._kernels.subset_statistics` over ``masks`` in chunks.

    Returns numpy arrays; ``beta`` is mapped back to the original (uncentred)
    intercept.
    """
    import jax

    from . import _kernels as _icp_kernels

    # z-scores: the statistics are those of the raw columns in exact arithmetic (the tests
    # are invariant and the coefficients equivariant under rescaling), without their overflow
    # or their rounding against each other (issue 26); the coefficients are mapped back below
    xc, x_mean, x_scale = standardize(X, list(names), owner="ICP")
    yc, y_mean, y_scale = standardize(y[:, None], ["y"], owner="ICP")
    y_mean, y_scale = float(y_mean[0]), float(y_scale[0])
    rank = np.linalg.matrix_rank(xc)
    if rank < X.shape[1]:
        raise DataError(
            f"the predictors are collinear (rank {rank} < {X.shape[1]} columns {list(map(str, names))[:10]}); "
            "drop redundant columns"
        )
    z = np.column_stack([xc, np.ones(len(y)), yc[:, 0]])
    grams = np.stack([z[codes == e].T @ z[codes == e] for e in range(n_env)])
    b_total = masks.shape[0]
    chunk = min(_MAX_CHUNK, next_pow2(b_total))
    pieces: dict[str, list] = {}
    with jax.enable_x64(True):
        g = jax.device_put(grams)  # float64 numpy: a plain transfer (jnp.asarray would compile a copy)
        for lo in range(0, b_total, chunk):
            block = masks[lo : lo + chunk]
            pad = chunk - block.shape[0]
            if pad:
                block = np.concatenate([block, np.zeros((pad, block.shape[1]), dtype=bool)])
            out = _icp_kernels.subset_statistics(g, jax.device_put(block.astype(np.float64)), exact=exact, per_env=per_env)
            for k, v in out.items():
                pieces.setdefault(k, []).append(np.asarray(v)[: chunk - pad])
    result = {k: np.concatenate(v, axis=0) for k, v in pieces.items()}
    beta_std = result["beta"]
    if not np.all(np.isfinite(beta_std)):
        raise DataError("the pooled regressions are numerically singular; check for (near-)collinear predictors")
    result["beta_std"] = beta_std
    # back to the original units: b = b_std * sd(y) / sd(x); b0 = mean(y) + sd(y) b0_std - mean(X) b
    with np.errstate(over="ignore", invalid="ignore"):
        result["coef_scale"] = y_scale / x_scale
        coef = beta_std[:, :-1] * result["coef_scale"]
        beta = np.column_stack([coef, y_mean + y_scale * beta_std[:, -1] - coef @ x_mean])
    _check_representable(beta, list(names) + ["intercept"], owner="ICP")
    result["beta"] = beta
    return result


def _check_representable(values: np.ndarray, names: list, *, owner: str) -> None:
    """Refuse estimates that overflow float64 once mapped back to the units of the data."""
    bad = ~np.isfinite(np.asarray(values, dtype=float).reshape(-1, len(names))).all(axis=0)
    if bad.any():
        raise DataError(
            f"{owner}: the {names[int(np.flatnonzero(bad)[0])]!r} coefficient does not fit in float64 in the units "
            "of the data (the columns' scales differ by too much); rescale the data"
        )


def _confidence_intervals(stats_: dict, masks: np.ndarray, accepted: np.ndarray, n_total: int, alpha: float, names) -> pd.DataFrame:
    """Union over the accepted sets of the coefficients' confidence intervals (R's rule)."""
    from scipy import stats

    if not accepted.any():
        return pd.DataFrame(np.nan, index=names, columns=["lower", "upper"])
    m = masks[accepted]
    sizes = m.sum(axis=1)
    sigma2 = stats_["ss"][accepted].sum(axis=1) / (n_total - sizes - 1)
    se = np.sqrt(sigma2[:, None] * stats_["inv_diag"][accepted][:, :-1])
    delta = stats.norm.ppf(1 - alpha / 4) * se
    beta = stats_["beta_std"][accepted][:, :-1]  # z-score units: mapped back below, as the coefficients
    lower = np.where(m, beta - delta, 0.0).min(axis=0)
    upper = np.where(m, beta + delta, 0.0).max(axis=0)
    with np.errstate(over="ignore", invalid="ignore"):
        bounds = np.column_stack([lower, upper]) * stats_["coef_scale"][:, None]
    _check_representable(bounds.T, list(names), owner="ICP")
    return pd.DataFrame({"lower": bounds[:, 0], "upper": bounds[:, 1]}, index=names)


# =========================================================================== nonlinear ICP
def _default_regressor():
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=100, min_samples_leaf=5, oob_score=True, random_state=0)


class NonlinearICP(_InvariantPrediction):
    """Nonlinear invariant causal prediction (Heinze-Deml, Peters and Meinshausen, 2018).

    The invariance hypothesis for a set ``S`` is ``y`` independent of the
    environment ``E`` given ``X_S``. Any scikit-learn regressor predicts ``y`` from
    ``X_S`` (out of sample: out-of-bag or cross-fitted predictions; for the empty set,
    the mean), and the residuals are tested for equality in distribution across the
    environments. As in :class:`ICP`, the estimate is the intersection of the
    accepted sets. The regressor is fitted to the z-scores of ``X`` and ``y`` (means and
    standard deviations computed without overflow), so the result does not depend on
    the units of the columns, whatever the regressor.

    Parameters
    ----------
    regressor : scikit-learn regressor, optional
        Cloned for every set. Default: ``RandomForestRegressor(n_estimators=100,
        min_samples_leaf=5, oob_score=True, random_state=0)``.
    test : {"residuals", "kci"}, default "residuals"
        ``"residuals"``: a Kruskal-Wallis test of the residuals' locations and a
        Levene (Brown-Forsythe, median-centred) test of their scales across all
        environments; set p-value ``min(1, 2 min(p_KW, p_Levene))``. ``"kci"``: the
        kernel independence test :class:`~discovery.citest.KCI` of the residuals
        against the environment codes.
    alpha : float, default 0.05
        Level of the tests, in (0, 1).
    max_set_size : int, optional
        Only test sets with at most this many predictors.
    cv : "auto", "oob", int or None, default "auto"
        How residuals are made out of sample. ``"oob"``: the regressor's
        out-of-bag predictions (``oob_prediction_``, e.g. a random forest with
        ``oob_score=True``); an int: ``cv``-fold cross-fitting (shuffled folds);
        ``None``: in-sample residuals (biased towards acceptance with flexible
        regressors). ``"auto"``: ``"oob"`` if the regressor has ``oob_score=True``,
        else 5-fold.
    random_state : int, default 0
        Seed of the cross-fitting folds and of the KCI test.

    Attributes
    ----------
    accepted_sets_, parents_, pvalues_, defining_sets_, model_rejected_, set_pvalues_,
    target_, environments_, n_features_in_, feature_names_in_
        As in :class:`ICP`. (There are no confidence intervals.)

    References
    ----------
    C. Heinze-Deml, J. Peters and N. Meinshausen. Invariant causal prediction for
    nonlinear models. Journal of Causal Inference 6(2), 2018.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> rng = np.random.default_rng(0)
    >>> env = np.repeat([0, 1], 300)
    >>> x = rng.normal(size=600) + 2.0 * env
    >>> y = np.tanh(2 * x) + 0.3 * rng.normal(size=600)
    >>> w = y + 0.3 * rng.normal(size=600) - 1.0 * env
    >>> rf = RandomForestRegressor(n_estimators=40, min_samples_leaf=10, oob_score=True, random_state=0)
    >>> nicp = NonlinearICP(regressor=rf).fit(pd.DataFrame({"x": x, "w": w}), y, env)
    >>> nicp.parents_
    frozenset({'x'})
    """

    _parameter_constraints = {
        "regressor": AnyOf(None, HasAttributes(("fit", "predict", "get_params"), "a scikit-learn regressor")),
        "test": Options(("residuals", "kci")),
        "alpha": Interval(Real, 0, 1),
        "max_set_size": AnyOf(None, Interval(Integral, 0, None, closed="left")),
        "cv": AnyOf(Options(("auto", "oob")), None, Interval(Integral, 2, None, closed="left")),
        "random_state": Interval(Integral, 0, None, closed="left"),
    }

    def __init__(
        self,
        *,
        regressor=None,
        test: str = "residuals",
        alpha: float = 0.05,
        max_set_size: int | None = None,
        cv="auto",
        random_state: int = 0,
    ):
        self.regressor = regressor
        self.test = test
        self.alpha = alpha
        self.max_set_size = max_set_size
        self.cv = cv
        self.random_state = random_state

    def _validate_joint_params(self) -> None:
        if self.cv == "oob" and self.regressor is not None and not self.regressor.get_params().get("oob_score", False):
            raise ParameterError("cv='oob' needs a regressor with out-of-bag predictions (oob_score=True)")

    def _regressor_and_cv(self):
        """The regressor (the default one for ``None``) and the residual scheme (``"auto"`` resolved)."""
        reg = _default_regressor() if self.regressor is None else self.regressor
        cv = self.cv
        if cv == "auto":
            cv = "oob" if reg.get_params().get("oob_score", False) else 5
        return reg, cv

    def fit(self, X, y, environment) -> NonlinearICP:
        """Run nonlinear ICP for target ``y``.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the target values.
        environment : str or array-like of shape (n_samples,)
            A column name of ``X`` or the environment label of every row.

        Returns
        -------
        self

        Raises
        ------
        ParameterError, DataError, UnknownNodeError
            As :meth:`ICP.fit`.
        """
        self._validate_params()
        test, (reg, cv) = self.test, self._regressor_and_cv()
        frame, target, yv, codes, labels = split_inputs(X, y, environment, owner="NonlinearICP")
        names = list(frame.columns)
        p = len(names)
        k_max = _max_set_size(self.max_set_size, p)
        masks = candidate_masks(p, k_max)
        # The regressor sees z-scores of X and y: the invariance tests then do not depend on the
        # units of the columns, and values beyond float32 (scikit-learn's trees) stay in range.
        values, _, _ = standardize(frame.to_numpy(dtype=float), names, owner="NonlinearICP")
        yz, _, _ = standardize(yv[:, None], [target], owner="NonlinearICP")
        yz = yz[:, 0]
        if isinstance(cv, Integral) and len(yz) < cv:
            raise DataError(f"cv={cv}-fold cross-fitting needs at least {cv} rows; X has {len(yz)}")
        start = time.perf_counter()
        set_p = np.empty(len(masks))
        for i, m in enumerate(masks):
            resid = self._residuals(reg, cv, values[:, m], yz)
            set_p[i] = self._invariance_pvalue(resid, codes, len(labels), test)
        self._store_summary(masks, set_p, names, target, labels)
        logger.info(
            "NonlinearICP(%s): %d candidate sets for target %r in %.2f s; estimate %s",
            test, len(masks), target, time.perf_counter() - start, sorted(self.parents_),
        )
        return self

    def _residuals(self, reg, cv, xs: np.ndarray, y: np.ndarray) -> np.ndarray:
        if xs.shape[1] == 0:
            return y - y.mean()
        from sklearn.base import clone

        est = clone(reg)
        if cv == "oob":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                est.fit(xs, y)
            for w in caught:
                if "do not have OOB scores" in str(w.message):
                    # scikit-learn predicts 0 for such rows: their residuals would be the raw y
                    raise DataError(
                        f"NonlinearICP: the regressor left some of the {len(y)} rows without an out-of-bag prediction "
                        "(too few trees for cv='oob'); use more trees or cv=5"
                    )
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return y - np.asarray(est.oob_prediction_, dtype=float)
        if cv is None:
            est.fit(xs, y)
            return y - est.predict(xs)
        from sklearn.model_selection import KFold, cross_val_predict

        folds = KFold(n_splits=int(cv), shuffle=True, random_state=int(self.random_state))
        return y - cross_val_predict(est, xs, y, cv=folds)

    def _invariance_pvalue(self, resid: np.ndarray, codes: np.ndarray, n_env: int, test: str) -> float:
        from scipy import stats

        if test == "residuals":
            groups = [resid[codes == e] for e in range(n_env)]
            p_kw = stats.kruskal(*groups).pvalue
            p_lev = stats.levene(*groups, center="median").pvalue
            return float(min(1.0, 2.0 * min(p_kw, p_lev)))
        from ..citest import KCI

        frame = pd.DataFrame({"residual": resid, "environment": codes.astype(float)})
        return float(KCI(frame, random_state=int(self.random_state)).pvalue("residual", "environment"))
