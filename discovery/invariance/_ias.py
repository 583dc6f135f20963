"""Invariant ancestry search: the ancestors of a target from its minimal invariant sets.

ICP (:class:`~discovery.ICP`) returns the intersection of all the invariant sets; when the
environments act on few mechanisms that intersection is often empty (on the Sachs conditions,
for most proteins). Invariant ancestry search (IAS; Mogensen, Thams and Peters, ICML 2022)
returns instead the union of the *minimal* invariant sets: a set ``S`` is invariant when
``y`` is independent of the environment given ``X_S``, and minimally invariant when no
strict subset of it is. In the population every minimally invariant set holds ancestors of
``y`` only, and their union contains ICP's output, so IAS says more than ICP without claiming
a non-ancestor.

The finite-sample procedure of the paper, as implemented here:

1. test the invariance of every candidate set with ICP's batched sweep (one jitted call over
   :func:`~discovery.invariance.candidate_masks`); by default with :func:`regression_pvalues`,
   a test of the conditional independence of ``y`` and the environment given ``X_S`` (the
   same regression in every environment), which the sweep gives from one more pass over the
   per-environment cross-products; ICP's residual tests are available too;
2. if the empty set is not rejected at level ``alpha``, return the empty set (``y`` does not
   depend on the environment: no ancestor can be found this way);
3. otherwise accept the sets whose p-value exceeds the corrected level
   ``alpha / C(p, min(m, floor(p / 2)))`` (:func:`ias_level`; ``m`` the largest set size
   tested): the minimally invariant sets form an antichain, so by Sperner's theorem there are
   at most that many of them, and a Bonferroni correction over them bounds the probability of
   a false rejection of any of them by ``alpha``;
4. the minimal accepted sets (:func:`minimal_sets`) are the estimated minimally invariant
   sets, and their union the estimate.

If the invariance tests have asymptotic level and power, the output is a subset of the
ancestors of ``y`` with asymptotic probability at least ``1 - alpha`` (the paper's
guarantee, with this correction). In finite samples a set that is not invariant but whose
test lacks power at the corrected level is accepted, and may bring non-ancestors in;
``benchmarks/bench_shift.py`` measures how often (``docs/shift.md``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 600
>>> env = np.repeat([0, 1, 2], n // 3)
>>> a = rng.normal(size=n) + 1.5 * (env == 1)            # intervened on in environment 1
>>> b = a + rng.normal(size=n)                             # the only parent of y
>>> y = b + rng.normal(size=n)
>>> c = y + rng.normal(size=n) + 2.0 * (env == 2)          # a child of y, shifted in environment 2
>>> data = pd.DataFrame({"a": a, "b": b, "c": c})
>>> ias = InvariantAncestrySearch().fit(data, y, env)
>>> sorted(ias.ancestors_), [sorted(s) for s in ias.minimal_invariant_sets_]
(['a', 'b'], [['a'], ['b']])
"""

from __future__ import annotations

import logging
import math
import time
import warnings

import numpy as np

from scm._exceptions import NotFittedError

from .._base import Options
from .._utils import standardize
from ._icp import (
    _REJECTION_HINT,
    ICPParams,
    _batched_statistics,
    _check_representable,
    _max_set_size,
    approximate_pvalues,
    candidate_masks,
    exact_pvalues,
    mask_sets,
    split_inputs,
)
from ._predictors import _LinearPredictor

__all__ = ["InvariantAncestrySearch", "ias_level", "minimal_sets", "regression_pvalues"]

logger = logging.getLogger(__name__)


# =========================================================================== phases
def ias_level(alpha: float, p: int, max_set_size: int | None = None) -> float:
    """The level at which IAS accepts sets once the empty set is rejected.

    ``alpha / C(p, min(m, floor(p / 2)))`` with ``m`` the largest tested set size (``p`` for
    ``None``): the binomial coefficient is the size of the largest antichain of subsets of
    ``p`` items with at most ``m`` members (Sperner's theorem and its LYM extension), which
    bounds the number of minimally invariant sets.

    Parameters
    ----------
    alpha : float
        The level of the whole procedure, in (0, 1).
    p : int
        The number of predictors.
    max_set_size : int, optional
        The largest candidate set.

    Returns
    -------
    float

    Examples
    --------
    >>> ias_level(0.05, 4), ias_level(0.05, 4, max_set_size=1)
    (0.008333333333333333, 0.0125)
    """
    m = p if max_set_size is None else min(int(max_set_size), p)
    return float(alpha) / math.comb(p, min(m, p // 2))


def regression_pvalues(ss: np.ndarray, env_rss: np.ndarray, n_env: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Set p-values of the test that the regression of ``y`` on ``X_S`` is the same in every environment.

    In a linear Gaussian model, ``y`` is independent of the environment given ``X_S`` exactly when
    the regression of ``y`` on ``X_S`` (intercept, coefficients and residual variance) is the same
    in every environment. Two tests, combined by Bonferroni (``min(1, 2 min(p_coef, p_var))``):

    * the coefficients (Chow's test of a structural break): with ``k = |S| + 1`` parameters,
      ``RSS_pooled`` the residual sum of squares of the pooled fit and ``RSS_sep`` the sum over
      the environments of those of their own fits,
      ``F = ((RSS_pooled - RSS_sep) / ((E - 1) k)) / (RSS_sep / (n - E k))`` is
      ``F((E - 1) k, n - E k)`` under the null;
    * the residual variances ``RSS_e / (n_e - k)``: Bartlett's test, ``chi2(E - 1)``.

    Unlike the residual tests of ICP (:func:`approximate_pvalues`, :func:`exact_pvalues`), which
    ask whether *some* coefficients make the residuals alike (ICP's null hypothesis), this tests
    the conditional independence that defines invariance in invariant ancestry search: with mean
    shifts of as many directions as ``|S|``, the pooled fit can align the residuals of a set that
    does not make ``y`` independent of the environment.

    Parameters
    ----------
    ss : ndarray of shape (B, E)
        Sum of squares of the pooled fit's residuals in each environment (their row sums are
        ``RSS_pooled``).
    env_rss : ndarray of shape (B, E)
        Residual sum of squares of each environment's own fit.
    n_env : ndarray of shape (E,)
    sizes : ndarray of shape (B,)
        ``|S|`` of each set.

    Returns
    -------
    ndarray of shape (B,)

    Examples
    --------
    >>> ss = np.array([[20.0, 20.0], [40.0, 40.0]])
    >>> rss = np.array([[19.5, 19.8], [19.5, 19.8]])
    >>> regression_pvalues(ss, rss, np.array([30, 30]), np.array([1, 1])).round(3)
    array([1., 0.])
    """
    from scipy import stats

    n_env = np.asarray(n_env, dtype=float)
    e = len(n_env)
    k = np.asarray(sizes, dtype=float) + 1.0
    n = n_env.sum()
    rss_pooled = ss.sum(axis=1)
    rss_sep = env_rss.sum(axis=1)
    d1, d2 = (e - 1) * k, n - e * k
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.maximum(rss_pooled - rss_sep, 0.0) / d1 / (rss_sep / d2)
        p_coef = stats.f.sf(f, d1, d2)
        df = n_env[None, :] - k[:, None]
        var = env_rss / df
        pooled_var = rss_sep / df.sum(axis=1)
        c = 1.0 + (np.sum(1.0 / df, axis=1) - 1.0 / df.sum(axis=1)) / (3.0 * (e - 1))
        bartlett = (df.sum(axis=1) * np.log(pooled_var) - np.sum(df * np.log(var), axis=1)) / c
        p_var = stats.chi2.sf(bartlett, e - 1)
    return np.minimum(1.0, 2.0 * np.minimum(p_coef, p_var))


def minimal_sets(masks: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    """Which accepted sets have no accepted strict subset.

    Parameters
    ----------
    masks : ndarray of bool, shape (B, p)
        The candidate sets, ordered by size (as :func:`candidate_masks` returns them).
    accepted : ndarray of bool, shape (B,)
        Whether each set is accepted as invariant.

    Returns
    -------
    ndarray of bool, shape (B,)
        True for the accepted sets none of whose strict subsets is accepted.

    Examples
    --------
    >>> masks = candidate_masks(2)                      # {}, {0}, {1}, {0, 1}
    >>> minimal_sets(masks, np.array([False, True, False, True])).tolist()
    [False, True, False, False]
    """
    masks = np.asarray(masks, dtype=bool)
    accepted = np.asarray(accepted, dtype=bool)
    sizes = masks.sum(axis=1)
    if np.any(np.diff(sizes) < 0):
        order = np.argsort(sizes, kind="stable")
        out = np.zeros(len(masks), dtype=bool)
        out[order] = minimal_sets(masks[order], accepted[order])
        return out
    out = np.zeros(len(masks), dtype=bool)
    found = np.zeros((0, masks.shape[1]), dtype=bool)
    for k in np.unique(sizes[accepted]):
        rows = np.flatnonzero(accepted & (sizes == k))
        cand = masks[rows]
        # any accepted strict subset contains a minimal one, found at a smaller size
        covered = (cand[:, None, :] >= found[None, :, :]).all(axis=2).any(axis=1) if len(found) else np.zeros(len(rows), bool)
        out[rows[~covered]] = True
        found = np.concatenate([found, cand[~covered]])
    return out


def _pooled_least_squares(values: np.ndarray, y: np.ndarray, mask: np.ndarray, names: list, target: str) -> tuple[np.ndarray, float]:
    """OLS with intercept of ``y`` on the columns of ``mask`` (zero coefficients elsewhere), in the data's units."""
    coef = np.zeros(values.shape[1])
    yz, y_mean, y_scale = standardize(y[:, None], [target], owner="InvariantAncestrySearch")
    y_mean, y_scale = float(y_mean[0]), float(y_scale[0])
    if not mask.any():
        return coef, y_mean
    cols = [names[j] for j in np.flatnonzero(mask)]
    xz, x_mean, x_scale = standardize(values[:, mask], cols, owner="InvariantAncestrySearch")
    design = np.column_stack([xz, np.ones(len(y))])
    beta = np.linalg.lstsq(design, yz[:, 0], rcond=None)[0]
    with np.errstate(over="ignore", invalid="ignore"):
        coef[mask] = beta[:-1] * (y_scale / x_scale)
        intercept = y_mean + y_scale * beta[-1] - x_mean @ coef[mask]
    _check_representable(np.append(coef, intercept), list(names) + ["intercept"], owner="InvariantAncestrySearch")
    return coef, float(intercept)


# =========================================================================== estimator
class InvariantAncestrySearch(_LinearPredictor, ICPParams):
    """Invariant ancestry search (Mogensen, Thams and Peters, 2022): ancestors where ICP finds none.

    Every candidate set ``S`` is tested for invariance (``y`` independent of the environment
    given ``X_S``) by ICP's batched sweep, every set in one jitted call. If the empty set is not
    rejected at level ``alpha`` the answer is the empty set. Otherwise the sets accepted at
    the corrected level :func:`ias_level` whose strict subsets are all rejected are the
    estimated *minimally invariant* sets, and their union is the estimate: under the model
    (invariance tests with asymptotic level and power), a subset of the ancestors of ``y``
    with asymptotic probability at least ``1 - alpha``. It contains ICP's estimate in the
    population, and is often larger: a minimally invariant set may hold an ancestor that is
    not a parent (a parent's cause that the environments shift, when the parent itself is
    not shifted). A least-squares model on the estimated ancestors gives :meth:`predict`.

    Parameters
    ----------
    alpha : float, default 0.05
        Level of the procedure, in (0, 1): the level of the test of the empty set, and before
        the correction of :func:`ias_level`, of the other sets.
    test : {"regression", "approximate", "exact"}, default "regression"
        The invariance test. ``"regression"``: :func:`regression_pvalues`, the same regression
        of ``y`` on ``X_S`` (coefficients, intercept, residual variance) in every environment,
        a test of the conditional independence that defines invariance here. ``"approximate"``,
        ``"exact"``: ICP's residual tests (:func:`approximate_pvalues`, :func:`exact_pvalues`),
        which test ICP's weaker null hypothesis that *some* coefficients make the residuals
        alike: with mean shifts in as many directions as ``|S|`` they accept sets that are not
        invariant whatever the sample size, and IAS then outputs non-ancestors (in
        ``docs/shift.md``, 2 to 4 times as often).
    max_set_size : int, optional
        Only test sets with at most this many predictors (the paper's ``IAS_m``); the
        correction then uses the largest antichain of such sets.

    Attributes
    ----------
    ancestors_ : frozenset
        The estimate: the union of ``minimal_invariant_sets_``.
    minimal_invariant_sets_ : list of frozenset
        The estimated minimally invariant sets (by size, then lexicographically). ``[]``
        when the empty set is accepted or when no set is.
    minimal_set_pvalues_ : dict of frozenset to float
        The invariance p-value of each of them.
    empty_set_pvalue_ : float
        The p-value of the invariance of the empty set (``y`` independent of the environment).
    empty_set_rejected_ : bool
        Whether it is below ``alpha``; without that, the estimate is empty.
    level_ : float
        The level at which the non-empty sets were accepted, :func:`ias_level`.
    accepted_sets_ : list of frozenset
        The non-empty sets accepted at ``level_`` (empty when the empty set is accepted).
    model_rejected_ : bool
        The empty set was rejected and so was every other set: a :class:`UserWarning`
        names the likely causes, and the estimate is empty.
    set_pvalues_ : dict of frozenset to float
        The invariance p-value of every tested set (by size, then lexicographically).
    coef_ : ndarray of shape (n_features,)
        Pooled least-squares coefficients on ``ancestors_`` (zero for the other predictors).
    intercept_ : float
    target_ : str
    environments_ : list
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    ICP : the intersection of the invariant sets (a subset of the parents).

    Notes
    -----
    The regression test needs every environment to have more rows than ``|S| + 1``; inputs and
    the errors for bad ones are those of :meth:`ICP.fit` (``y`` and the
    environment as column names or vectors; at least two environments of ``p + 2`` rows).
    Not a plain scikit-learn regressor: ``fit`` needs the environment (``check_estimator``
    calls ``fit(X, y)``), but ``predict``, ``score``, ``get_params`` and ``clone`` follow
    scikit-learn.

    References
    ----------
    P. B. Mogensen, N. Thams and J. Peters. Invariant ancestry search. Proceedings of the
    39th International Conference on Machine Learning (ICML), PMLR 162, 2022.

    Examples
    --------
    ``a`` causes ``y`` only through ``b``; only ``a`` is shifted by the environments, so ICP finds
    no parent (``{a}`` and ``{b}`` are both invariant) while IAS returns both ancestors:

    >>> import numpy as np, pandas as pd
    >>> from discovery import ICP
    >>> rng = np.random.default_rng(1)
    >>> env = np.repeat(["obs", "int"], 500)
    >>> a = rng.normal(size=1000) + 1.0 * (env == "int")
    >>> b = a + rng.normal(size=1000)
    >>> y = b + rng.normal(size=1000)
    >>> X = pd.DataFrame({"a": a, "b": b})
    >>> sorted(ICP().fit(X, y, env).parents_)
    []
    >>> ias = InvariantAncestrySearch().fit(X, y, env)
    >>> sorted(ias.ancestors_), round(ias.empty_set_pvalue_, 6)
    (['a', 'b'], 0.0)
    >>> ias.coef_.round(2).tolist(), ias.predict(X.head(2)).round(2).tolist()
    ([0.02, 0.97], [0.56, 1.66])
    """

    _target_required = True

    _parameter_constraints = {**ICPParams._parameter_constraints, "test": Options(("regression", "approximate", "exact"))}

    def __init__(self, *, alpha: float = 0.05, test: str = "regression", max_set_size: int | None = None):
        self.alpha = alpha
        self.test = test
        self.max_set_size = max_set_size

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "ancestors_")

    def fit(self, X, y, environment) -> InvariantAncestrySearch:
        """Run invariant ancestry search for target ``y``.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
            The predictors (and possibly ``y`` and the environment column).
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` (removed from the predictors) or the target values.
        environment : str or array-like of shape (n_samples,)
            A column name of ``X`` (removed from the predictors) or the environment label of
            every row.

        Returns
        -------
        self

        Raises
        ------
        ParameterError, DataError, UnknownNodeError
            As :meth:`ICP.fit`: bad parameters, non-numeric or missing values, a single
            environment, an environment with fewer than ``p + 2`` rows, collinear predictors,
            ``y`` or ``environment`` naming no column of ``X``.
        """
        self._validate_params()
        alpha, test = float(self.alpha), self.test
        frame, target, yv, codes, labels = split_inputs(X, y, environment, owner="InvariantAncestrySearch")
        names = [str(c) for c in frame.columns]
        values = frame.to_numpy(dtype=float)
        p = len(names)
        k_max = _max_set_size(self.max_set_size, p)
        start = time.perf_counter()
        masks = candidate_masks(p, k_max)
        stats_ = _batched_statistics(
            values, yv, codes, len(labels), masks, exact=test == "exact", names=names, per_env=test == "regression"
        )
        n_env = np.bincount(codes, minlength=len(labels))
        sizes = masks.sum(axis=1).astype(float)
        if test == "regression":
            set_p = regression_pvalues(stats_["ss"], stats_["env_rss"], n_env, sizes)
        elif test == "approximate":
            set_p = approximate_pvalues(stats_["ss"], stats_["s"], n_env)
        else:
            set_p = exact_pvalues(stats_["chow_num"], stats_["chow_rss"], n_env, sizes)
        self._store(masks, set_p, names, alpha, k_max)
        union = np.zeros(p, dtype=bool)
        for s in self.minimal_invariant_sets_:
            union |= np.isin(names, list(s))
        self.coef_, self.intercept_ = _pooled_least_squares(values, yv, union, names, target)
        self.target_ = target
        self.environments_ = list(labels)
        self.n_features_in_ = p
        self.feature_names_in_ = np.asarray(names, dtype=object)
        if self.model_rejected_:
            warnings.warn(
                f"InvariantAncestrySearch rejected every candidate set for target {target!r} (the empty set at "
                f"alpha={alpha}, the others at the corrected level {self.level_:.3g}; largest set p-value "
                f"{float(np.max(set_p)):.3g}): the model is rejected. {_REJECTION_HINT}",
                UserWarning,
                stacklevel=2,
            )
        logger.info(
            "InvariantAncestrySearch(%s): %d candidate sets for target %r in %.3f s; empty-set p-value %.3g; estimate %s",
            test,
            len(masks),
            target,
            time.perf_counter() - start,
            self.empty_set_pvalue_,
            sorted(self.ancestors_),
        )
        return self

    def _store(self, masks: np.ndarray, set_p: np.ndarray, names: list, alpha: float, k_max: int) -> None:
        """The decision of the procedure from the set p-values (steps 2-4 of the module docstring)."""
        sets = mask_sets(masks, names)
        self.set_pvalues_ = dict(zip(sets, set_p.tolist()))
        empty = ~masks.any(axis=1)
        self.empty_set_pvalue_ = float(set_p[empty][0])
        self.empty_set_rejected_ = bool(self.empty_set_pvalue_ <= alpha)
        self.level_ = ias_level(alpha, len(names), k_max)
        accepted = (set_p > self.level_) & ~empty if self.empty_set_rejected_ else np.zeros(len(masks), dtype=bool)
        minimal = minimal_sets(masks, accepted)
        self.accepted_sets_ = [sets[i] for i in np.flatnonzero(accepted)]
        self.minimal_invariant_sets_ = [sets[i] for i in np.flatnonzero(minimal)]
        self.minimal_set_pvalues_ = {sets[i]: float(set_p[i]) for i in np.flatnonzero(minimal)}
        self.ancestors_ = frozenset().union(*self.minimal_invariant_sets_)
        self.model_rejected_ = bool(self.empty_set_rejected_ and not accepted.any())

    def predict(self, X) -> np.ndarray:
        """Predict the target with the least-squares model on the estimated ancestors.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
            A DataFrame must hold the columns seen by ``fit`` (others are ignored); an array
            must have them, in that order.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if not hasattr(self, "ancestors_"):
            raise NotFittedError("This InvariantAncestrySearch instance is not fitted yet; call 'fit' first.")
        return super().predict(X)
