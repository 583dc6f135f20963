"""Effect estimators with any scikit-learn learner for the nuisance models.

Four estimators of ``E[Y | do(X = x)]`` under an adjustment set ``Z``:

- :class:`RegressionAdjustment` (g-computation): fit ``E[Y | X, Z]`` and average it
  over ``Z``;
- :class:`IPW`: weight by the inverse propensity ``P(X = x | Z)`` (binary treatment);
- :class:`AIPW`: the doubly robust combination, cross-fitted; for a continuous
  treatment, the kernel-localised doubly robust dose-response curve;
- :class:`DoubleML`: double/debiased machine learning with cross-fitting, the
  partially linear model (a slope) or the interactive model (the ATE).

All are scikit-learn-style: parameters in a keyword-only ``__init__``, ``fit``
returns ``self`` and sets ``effect_``, ``std_err_``, ``conf_int_``; a continuous
treatment also sets ``dose_response_``. Standard errors come from the estimated
influence function, or from the bootstrap with ``bootstrap=n``.
"""

from __future__ import annotations

import logging
import numbers
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scm import DataError, NotFittedError, ParameterError, UnknownNodeError
from scm._params import AnyOf, Custom, Interval, Options, ParamsMixin, RandomState
from scm._scale import center_scale, pow2, safe_dot, safe_std, standardise
from scm._sklearn import Pow2Scaler, StandardisedOLS
from scm._validation import as_dataframe, check_in_range, check_numeric_frame, check_random_state

from ._adjustment import NotIdentifiableError, _Graph, adjustment_set, is_valid_adjustment

__all__ = ["RegressionAdjustment", "IPW", "AIPW", "DoubleML", "PositivityWarning"]

logger = logging.getLogger(__name__)


class PositivityWarning(UserWarning):
    """Estimated propensities (or dose-response weights) are extreme: the estimate
    extrapolates where treated and untreated units do not overlap."""


# ============================================================================ input


#: The rows the effect estimators need (cross-fitting splits them into folds).
MIN_ROWS = 10


def _prepare(data, treatment, outcome, adjustment, graph, owner):
    """Validate the inputs; return the numeric frame, names and the adjustment list."""
    frame = as_dataframe(data, name="data")
    cols = list(frame.columns)
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if not isinstance(name, (str, numbers.Integral)) or isinstance(name, bool):
            raise ParameterError(f"{role} must be one column name; got {name!r}")
        if name not in cols:
            raise UnknownNodeError(f"{role} {name!r} is not a column of data (columns: {cols[:10]}{' ...' if len(cols) > 10 else ''})")
    if treatment == outcome:
        raise ParameterError(f"treatment and outcome are the same column {treatment!r}")
    if adjustment is None and graph is None:
        raise ParameterError(
            f"{owner}.fit needs adjustment=<list of columns> (use [] for a randomised treatment) or graph=<causal graph>"
        )
    if graph is not None:
        g = _Graph.from_input(graph)
        for role, name in (("treatment", treatment), ("outcome", outcome)):
            if name not in g.pa:
                raise UnknownNodeError(f"{role} {name!r} is not a node of the graph")
        unobserved = [v for v in g.nodes if v not in cols]
        if adjustment is None:
            kind = "optimal" if g.kind != "admg" else "minimal"
            try:
                adjustment = adjustment_set(graph, treatment, outcome, kind=kind, exclude=unobserved)
            except NotIdentifiableError:
                if kind != "optimal":
                    raise
                adjustment = adjustment_set(graph, treatment, outcome, kind="minimal", exclude=unobserved)
            pos = {v: i for i, v in enumerate(g.nodes)}
            adjustment = sorted(adjustment, key=pos.__getitem__)
        elif not is_valid_adjustment(graph, treatment, outcome, list(adjustment)):
            raise NotIdentifiableError(
                f"{sorted(map(str, adjustment))} is not a valid adjustment set for the effect of {treatment!r} on "
                f"{outcome!r} in the given graph (see estimators.adjustment_set)"
            )
    if isinstance(adjustment, str):
        adjustment = [adjustment]
    adjustment = list(adjustment)
    missing = [c for c in adjustment if c not in cols]
    if missing:
        raise UnknownNodeError(f"adjustment column(s) {missing} are not columns of data")
    bad = [c for c in adjustment if c in (treatment, outcome)]
    if bad:
        raise ParameterError(f"the adjustment set may not contain the treatment or the outcome: {bad}")
    if len(set(adjustment)) != len(adjustment):
        raise ParameterError(f"adjustment lists a column twice: {adjustment}")
    num = check_numeric_frame(frame[[treatment, outcome] + adjustment], name="data", min_rows=MIN_ROWS)
    return num, adjustment


def _treatment_kind(t: np.ndarray, name) -> str:
    values = np.unique(t)
    if values.size < 2:
        raise DataError(f"treatment {name!r} is constant ({values[0].item()!r}); there is no contrast to estimate")
    if values.size == 2:
        if set(values.tolist()) != {0.0, 1.0}:
            raise DataError(f"treatment {name!r} has two values {values.tolist()}; code a binary treatment as 0/1")
        return "binary"
    return "continuous"


def _check_collinear(Z: np.ndarray, names, t=None, tname=None):
    """Raise a DataError naming constant or linearly dependent adjustment columns."""
    n = Z.shape[0]
    if Z.shape[1] == 0 and t is None:
        return
    for j, c in enumerate(names):
        if Z[:, j].min() == Z[:, j].max():
            raise DataError(f"adjustment column {c!r} is constant; drop it from the adjustment set")
    cols = [np.ones(n)]
    kept = []
    for j, c in enumerate(names + ([tname] if t is not None else [])):
        v = Z[:, j] if j < len(names) else t
        loc, scale = center_scale(v, [c], owner="the effect estimators")
        v = standardise(v, loc, scale)  # overflow-safe: a column scaled by 1e300 is not "collinear with []"
        A = np.column_stack(cols)
        coef, *_ = np.linalg.lstsq(A, v, rcond=None)
        resid = v - A @ coef
        if resid @ resid < 1e-10 * n:
            partners = [kept[i - 1] for i in np.nonzero(np.abs(coef[1:]) > 1e-8)[0] + 1] if len(coef) > 1 else []
            if not partners:  # a column that is constant up to rounding (e.g. 1e12 + tiny noise)
                role = "adjustment column" if j < len(names) else "treatment"
                raise DataError(
                    f"{role} {c!r} is constant up to rounding (its spread is below 1e-5 of its magnitude); "
                    + ("drop it from the adjustment set" if j < len(names) else "there is no contrast to estimate")
                )
            if j < len(names):
                raise DataError(
                    f"adjustment column {c!r} is collinear with {partners} (a linear combination of them); "
                    "drop one of them from the adjustment set"
                )
            raise DataError(
                f"treatment {c!r} is a linear combination of the adjustment columns {partners}: "
                "no variation is left to estimate its effect"
            )
        cols.append(v)
        kept.append(c)


def _extreme_unit(v: np.ndarray) -> float:
    """A power of two to divide ``v`` by when its magnitude is outside ``[2**-64, 2**64]``, else 1."""
    m = float(np.abs(v).max(initial=0.0))
    if m == 0.0 or 2.0**-64 <= m <= 2.0**64:
        return 1.0
    return float(pow2(m))


def _default_outcome():
    return StandardisedOLS()


def _default_treatment(kind):
    if kind == "binary":
        # Pow2Scaler (exact powers of two) keeps StandardScaler finite for columns near the float64 range
        # and leaves its output on ordinary data unchanged bit for bit.
        return make_pipeline(Pow2Scaler(), StandardScaler(), LogisticRegression())
    return StandardisedOLS()


def _is_plain_ols(model) -> bool:
    """A ``LinearRegression`` with an intercept and no constraint: the same estimator as :class:`StandardisedOLS`."""
    return type(model) is LinearRegression and model.fit_intercept and not model.positive


def _check_folds(n_folds, t, kind, owner):
    """``n_folds`` against the rows: at most the rows, and for a binary treatment the smaller arm's units."""
    if n_folds is None or n_folds == 1:
        return
    n = t.shape[0]
    if kind == "binary":
        arms = {int(a): int((t == a).sum()) for a in (0, 1)}
        smaller = min(arms.values())
        if n_folds > smaller:
            raise ParameterError(
                f"The 'n_folds' parameter of {owner} is {n_folds}, but the data have {arms[1]} treated and {arms[0]} "
                f"untreated units; cross-fitting with a binary treatment needs n_folds <= {smaller} (the smaller arm)"
            )
    elif n_folds > n:
        raise ParameterError(f"The 'n_folds' parameter of {owner} is {n_folds}, but the data have {n} rows; use n_folds <= {n}")


def _folds(n_folds, n, t, kind, rng):
    if n_folds == 1:
        idx = np.arange(n)
        return [(idx, idx)]
    if kind == "binary":
        # A bootstrap resample can leave an arm with fewer units than folds: use as many folds as it allows.
        n_folds = max(2, min(n_folds, int(t.sum()), int(n - t.sum())))
    seed = int(rng.integers(2**31 - 1))
    if kind == "binary":
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(n), t))
    return list(KFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(n)))


def _fit_predict(model, X, y, train, test, proba=False):
    m = clone(model)
    m.fit(X[train], y[train])
    if proba:
        p = m.predict_proba(X[test])
        return p[:, list(m.classes_).index(1.0)] if p.ndim == 2 else p
    return m.predict(X[test])


def _features(Z):
    return Z if Z.shape[1] else np.zeros((Z.shape[0], 1))


# ============================================================================ base class


class _Result:
    """What one estimation pass produces."""

    def __init__(self, effect, psi=None, grid=None, curve=None, curve_psi=None, positivity=None, extra=None):
        self.effect, self.psi = effect, psi
        self.grid, self.curve, self.curve_psi = grid, curve, curve_psi
        self.positivity = positivity
        self.extra = extra or {}


def _check_learner(model, *, name: str, owner: str | None = None) -> None:
    """An outcome or treatment model: ``None`` (the default learner) or an estimator with fit/predict."""
    if model is not None and not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise ParameterError(f"{name} must be a scikit-learn estimator with fit/predict; got {model!r}")


def _check_grid(grid, *, name: str, owner: str | None = None) -> None:
    """The dose-response grid: ``None``, a number of points >= 2 or a sequence of finite treatment values."""
    if grid is None:
        return
    if isinstance(grid, numbers.Integral) and not isinstance(grid, bool):
        check_in_range(grid, name=name, low=2, inclusive="left", integer=True, owner=owner)
        return
    try:
        values = np.asarray(grid, dtype=float).ravel()
    except (TypeError, ValueError):
        values = None
    if values is None or values.size < 1 or not np.isfinite(values).all():
        raise ParameterError(f"{name} must be an int >= 2 or a sequence of finite treatment values; got {grid!r}")
    if np.unique(values).size < 2:
        raise ParameterError(
            f"{name} must hold at least 2 distinct treatment values (the effect is the slope of the curve through "
            f"them); got {grid!r}"
        )


#: Constraints of the parameters most effect estimators share (each class takes its own subset).
_CONSTRAINTS = {
    "outcome_model": Custom(_check_learner, "None or a scikit-learn regressor"),
    "treatment_model": Custom(_check_learner, "None or a scikit-learn estimator (a classifier for a binary treatment)"),
    "n_folds": Interval(numbers.Integral, 1, None, closed="left"),
    "positivity_threshold": Interval(numbers.Real, 0, 0.5),
    "grid": Custom(_check_grid, "None, an int >= 2 or a sequence of finite treatment values"),
    "bootstrap": AnyOf(None, Interval(numbers.Integral, 2, None, closed="left")),
    "alpha": Interval(numbers.Real, 0, 1),
    "random_state": RandomState(),
}


def _constraints(*names, **overrides) -> dict:
    """The constraints table of an estimator: the shared entries ``names``, plus ``overrides``."""
    return {**{n: _CONSTRAINTS[n] for n in names}, **overrides}


class _EffectEstimator(ParamsMixin):
    """Shared ``fit``: validation, bootstrap and influence-function inference."""

    _binary_only = False

    def _learner(self, model, kind, role):
        if model is None:
            return _default_treatment(kind) if role == "treatment" else _default_outcome()
        if role == "treatment" and kind == "binary" and not hasattr(model, "predict_proba"):
            raise ParameterError(
                f"treatment_model of {type(self).__name__} must be a classifier with predict_proba for a binary "
                f"treatment; got {type(model).__name__}"
            )
        if role == "treatment" and kind == "continuous" and is_classifier(model):
            raise ParameterError(f"treatment_model must be a regressor for a continuous treatment; got {type(model).__name__}")
        if _is_plain_ols(model):
            # Least squares solved on standardised columns: the same estimator, exact under rescaling of any
            # column (sklearn's solver drops a column scaled by 1e-150 as rank deficient).
            return StandardisedOLS()
        return model

    def fit(self, data, treatment, outcome, *, adjustment=None, graph=None):
        """Estimate the effect of ``treatment`` on ``outcome``.

        Parameters
        ----------
        data : pandas.DataFrame
            Numeric data, one row per unit.
        treatment, outcome : str
            Column names. A treatment with values {0, 1} is binary (the ATE is
            estimated); one with more values is continuous (the dose-response curve).
        adjustment : list of str, optional
            The adjustment set (``[]`` for a randomised treatment).
        graph : networkx.DiGraph or scm.PDAG, optional
            A causal graph to choose the adjustment set from (the O-set when one is
            observed, else a minimal set of observed nodes), or to check a given one.

        Returns
        -------
        self

        Raises
        ------
        DataError
            NaN, inf, non-numeric, constant or collinear columns, a treatment arm too small
            for its regression, or an effect beyond the float64 range in the data's units.
        ParameterError
            Invalid parameters, e.g. ``n_folds`` above the rows (or, for a binary treatment,
            above the smaller arm's units).

        Notes
        -----
        Multiplying a column by ``10**k`` rescales the effect, its standard error, interval
        and dose-response exactly (to rounding) with the default learners and with a plain
        ``LinearRegression`` (both are solved on standardised columns), and leaves the
        estimated propensities unchanged. A learner of your own is used as given: whether
        its answers rescale is up to it.
        """
        self._validate_params()
        name = type(self).__name__
        frame, adj = _prepare(data, treatment, outcome, adjustment, graph, name)
        T = frame[treatment].to_numpy()
        Y = frame[outcome].to_numpy()
        Z = frame[adj].to_numpy()
        kind = _treatment_kind(T, treatment)
        if kind == "continuous" and (self._binary_only or not self._supports_continuous()):
            raise DataError(
                f"{name}{self._model_label()} needs a binary 0/1 treatment; {treatment!r} takes "
                f"{np.unique(T).size} values (use AIPW, RegressionAdjustment or DoubleML(model='partially_linear'))"
            )
        _check_collinear(Z, adj, T if kind == "continuous" else None, treatment)
        _check_folds(getattr(self, "n_folds", None), T, kind, name)
        rng = check_random_state(self.random_state)
        self.treatment_, self.outcome_, self.adjustment_set_ = treatment, outcome, adj
        self.treatment_kind_ = kind
        self.n_samples_ = T.shape[0]
        # An outcome (or continuous treatment) of extreme magnitude is divided by a power of two (exact) for
        # the estimation and the answers multiplied back, so that sums of many weighted outcomes cannot
        # overflow; ordinary data (magnitudes within 2**+-64) are left alone, bit for bit.
        y_unit = _extreme_unit(Y)
        self._t_unit = _extreme_unit(T) if kind == "continuous" else 1.0
        Y = Y / y_unit
        T = T / self._t_unit
        self._grid = self._make_grid(T) if kind == "continuous" else None
        res = self._estimate(T, Y, Z, kind, rng, main=True)
        self.effect_ = float(res.effect)
        self.positivity_ = res.positivity
        for k, v in res.extra.items():
            setattr(self, k, v)
        z = stats.norm.ppf(1 - self.alpha / 2)
        n_boot = self._n_bootstrap(res)
        if n_boot:
            effects, curves = [], []
            n = T.shape[0]
            for _ in range(n_boot):
                idx = rng.integers(0, n, n)
                if kind == "binary" and np.unique(T[idx]).size < 2:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", PositivityWarning)
                    b = self._estimate(T[idx], Y[idx], Z[idx], kind, rng, main=False)
                effects.append(b.effect)
                if b.curve is not None:
                    curves.append(b.curve)
            effects = np.asarray(effects)
            self.std_err_ = float(safe_std(effects, ddof=1))
            lo, hi = np.quantile(effects, [self.alpha / 2, 1 - self.alpha / 2])
            self.conf_int_ = (float(lo), float(hi))
            self.inference_ = f"bootstrap ({len(effects)} replicates, percentile interval)"
            if res.curve is not None:
                C = np.asarray(curves)
                se = safe_std(C, axis=0, ddof=1)
                lo_c, hi_c = np.quantile(C, [self.alpha / 2, 1 - self.alpha / 2], axis=0)
        else:
            n = T.shape[0]
            self.std_err_ = float(safe_std(res.psi, ddof=1) / np.sqrt(n))
            self.conf_int_ = (self.effect_ - z * self.std_err_, self.effect_ + z * self.std_err_)
            self.inference_ = "influence function (normal interval)"
            if res.curve is not None:
                se = safe_std(res.curve_psi, axis=0, ddof=1) / np.sqrt(n)
                lo_c, hi_c = res.curve - z * se, res.curve + z * se
        if res.curve is not None:
            self.dose_response_ = pd.DataFrame(
                {treatment: res.grid, "estimate": res.curve, "std_err": se, "lower": lo_c, "upper": hi_c}
            )
        else:
            self.dose_response_ = None
        if y_unit != 1.0 or self._t_unit != 1.0:
            self._back_to_data_units(y_unit, self._t_unit, treatment, outcome)
        logger.info("%s: effect of %r on %r = %.4g (se %.3g)", name, treatment, outcome, self.effect_, self.std_err_)
        return self

    def _back_to_data_units(self, y_unit: float, t_unit: float, treatment, outcome) -> None:
        """Multiply the answers of an estimation on rescaled Y (and T) back into the data's units."""
        internal = (self.effect_, self.std_err_)
        with np.errstate(over="ignore", under="ignore"):
            slope = lambda v: float(v * y_unit / t_unit)  # noqa: E731 - exact: both units are powers of two
            self.effect_, self.std_err_ = slope(self.effect_), slope(self.std_err_)
            self.conf_int_ = tuple(slope(v) for v in self.conf_int_)
            if getattr(self, "potential_outcome_means_", None) is not None:
                self.potential_outcome_means_ = tuple(float(v * y_unit) for v in self.potential_outcome_means_)
            if getattr(self, "bandwidth_", None) is not None:
                self.bandwidth_ = float(self.bandwidth_ * t_unit)
            if self.dose_response_ is not None:
                self.dose_response_[treatment] = self.dose_response_[treatment] * t_unit
                cols = ["estimate", "std_err", "lower", "upper"]
                self.dose_response_[cols] = self.dose_response_[cols] * y_unit
        lost = any(v != 0 and abs(w) < np.finfo(float).tiny for v, w in zip(internal, (self.effect_, self.std_err_)))
        if lost or not (np.isfinite(self.effect_) and np.isfinite(self.std_err_)):
            raise DataError(
                f"the effect of {treatment!r} on {outcome!r} (or its standard error) is beyond the float64 range "
                "(about 1e-308 to 1.8e308) in the data's units; rescale the outcome or the treatment"
            )

    def _supports_continuous(self) -> bool:
        return True

    def _model_label(self) -> str:
        return ""

    def _n_bootstrap(self, res) -> int:
        return self.bootstrap or 0

    def _make_grid(self, T):
        grid = getattr(self, "grid", None)
        if grid is None:
            grid = 10
        if isinstance(grid, numbers.Integral) and not isinstance(grid, bool):  # validated: >= 2
            lo, hi = np.quantile(T, [0.05, 0.95])
            return np.linspace(lo, hi, int(grid))
        return np.asarray(grid, dtype=float).ravel() / getattr(self, "_t_unit", 1.0)  # validated: finite values

    def _check_fitted(self):
        if not hasattr(self, "effect_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(data, treatment, outcome, ...)")

    def summary(self) -> pd.Series:
        """The estimate, its standard error and interval, as a Series."""
        self._check_fitted()
        return pd.Series(
            {
                "effect": self.effect_,
                "std_err": self.std_err_,
                "lower": self.conf_int_[0],
                "upper": self.conf_int_[1],
                "n": self.n_samples_,
            },
            name=f"{self.outcome_} <- do({self.treatment_})",
        )


def _slope(grid, curve, curve_psi):
    """Least-squares slope through the curve, and its influence function."""
    gc = grid - grid.mean()
    s = pow2(np.abs(gc).max())  # exact power of two: gc @ gc neither overflows nor underflows
    w = (gc / s) / ((gc / s) @ (gc / s)) / s
    return safe_dot(w, curve), (_safe_matvec(curve_psi, w) if curve_psi is not None else None)


def _safe_matvec(M, w):
    """``M @ w`` with both scaled by powers of two first (no overflow in the products)."""
    a, b = pow2(np.abs(M).max(initial=0.0)), pow2(np.abs(w).max(initial=0.0))
    with np.errstate(over="ignore"):
        return ((M / a) @ (w / b)) * (a * b)


def _positivity_binary(e, threshold):
    low = e < threshold
    high = e > 1 - threshold
    n_ext = int(low.sum() + high.sum())
    info = {
        "min_propensity": float(e.min()),
        "max_propensity": float(e.max()),
        "threshold": threshold,
        "n_extreme": n_ext,
        "share_extreme": n_ext / e.size,
    }
    if n_ext:
        warnings.warn(
            PositivityWarning(
                f"{n_ext} of {e.size} units ({100 * n_ext / e.size:.1f}%) have an estimated propensity outside "
                f"[{threshold}, {1 - threshold}] (min {e.min():.3g}, max {e.max():.3g}); they were clipped. The estimate "
                "extrapolates where treated and untreated units do not overlap: consider trimming the population "
                "or another adjustment set. Details in positivity_."
            ),
            stacklevel=3,
        )
    return info


def _propensity(model, Z, T, folds, threshold):
    X = _features(Z)
    e = np.empty(T.shape[0])
    for train, test in folds:
        e[test] = _fit_predict(model, X, T, train, test, proba=True)
    info = _positivity_binary(e, threshold)
    return np.clip(e, threshold, 1 - threshold), info


def _arm_predictions(model, Z, T, Y, folds):
    """Cross-fitted E[Y | T = t, Z] for t = 0, 1 (separate fits per arm)."""
    X = _features(Z)
    mu = np.empty((T.shape[0], 2))
    for train, test in folds:
        for a in (0, 1):
            tr = train[T[train] == a]
            m = clone(model).fit(X[tr], Y[tr])
            mu[test, a] = m.predict(X[test])
    return mu


# ============================================================================ estimators


class RegressionAdjustment(_EffectEstimator):
    """Regression adjustment (g-computation, the "g-formula").

    Fits ``E[Y | X, Z]`` with ``outcome_model`` and averages its predictions over
    the observed ``Z`` with the treatment set to each value: for a binary
    treatment ``ATE = mean(mu_1(Z) - mu_0(Z))`` with one model per arm; for a
    continuous one the curve ``E[Y | do(X = x)] = mean(mu(x, Z))`` on a grid.

    Parameters
    ----------
    outcome_model : scikit-learn regressor, optional
        Default :class:`~sklearn.linear_model.LinearRegression`.
    bootstrap : int, optional
        Bootstrap replicates for the interval. Default: the exact influence function
        of least squares when ``outcome_model`` is a ``LinearRegression``, else 100
        bootstrap replicates (plug-in estimators of flexible learners have no
        simple influence function).
    grid : int or sequence, optional
        Continuous treatment: number of evenly spaced points between the 5% and 95%
        quantiles (default 10) or the values themselves.
    alpha : float
        1 - confidence level (default 0.05).
    random_state : None, int or Generator

    Attributes
    ----------
    effect_ : float
        The ATE (binary) or the least-squares slope of the dose-response curve.
    std_err_, conf_int_ : float, (float, float)
    dose_response_ : DataFrame or None
        Continuous treatment: columns ``<treatment>, estimate, std_err, lower, upper``.
    potential_outcome_means_ : (float, float)
        Binary treatment: ``E[Y | do(X=0)]`` and ``E[Y | do(X=1)]``.
    adjustment_set_ : list
    treatment_kind_ : {"binary", "continuous"}

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=2000)
    >>> x = (0.5 * z + rng.normal(size=2000) > 0).astype(float)
    >>> y = 2 * x + z + rng.normal(size=2000)
    >>> df = pd.DataFrame({"x": x, "y": y, "z": z})
    >>> est = RegressionAdjustment().fit(df, "x", "y", adjustment=["z"])
    >>> round(est.effect_, 1), bool(est.conf_int_[0] < 2 < est.conf_int_[1])
    (2.0, True)
    """

    _parameter_constraints = _constraints("outcome_model", "bootstrap", "grid", "alpha", "random_state")

    def __init__(self, *, outcome_model=None, bootstrap=None, grid=None, alpha=0.05, random_state=None):
        self.outcome_model = outcome_model
        self.bootstrap = bootstrap
        self.grid = grid
        self.alpha = alpha
        self.random_state = random_state

    def _is_ols(self):
        return self.outcome_model is None or type(self.outcome_model) is LinearRegression

    def _n_bootstrap(self, res):
        if self.bootstrap:
            return self.bootstrap
        return 0 if self._is_ols() else 100

    def _estimate(self, T, Y, Z, kind, rng, main):
        model = self._learner(self.outcome_model, kind, "outcome")
        n = T.shape[0]
        need_if = main and not self.bootstrap and self._is_ols()
        if kind == "binary":
            if main:
                _check_arms(T, Z.shape[1], "RegressionAdjustment")
            X = _features(Z)
            mu = np.empty((n, 2))
            psi = np.zeros(n)
            for a in (0, 1):
                m = clone(model).fit(X[T == a], Y[T == a])
                mu[:, a] = m.predict(X)
                if need_if:
                    psi += (1 if a else -1) * _ols_correction(X, Y, T == a, m)
            ate = float(np.mean(mu[:, 1] - mu[:, 0]))
            psi = psi + (mu[:, 1] - mu[:, 0] - ate)
            extra = {"potential_outcome_means_": (float(mu[:, 0].mean()), float(mu[:, 1].mean()))}
            return _Result(ate, psi if need_if else None, extra=extra)
        grid = self._grid
        X = np.column_stack([T, Z])
        m = clone(model).fit(X, Y)
        G = len(grid)
        curve = np.empty(G)
        curve_psi = np.empty((n, G)) if need_if else None
        for k, g in enumerate(grid):
            Xg = X.copy()
            Xg[:, 0] = g
            pred = m.predict(Xg)
            curve[k] = pred.mean()
            if need_if:
                curve_psi[:, k] = pred - curve[k] + _ols_correction(X, Y, np.ones(n, bool), m, xbar=Xg)
        slope, psi = _slope(grid, curve, curve_psi)
        return _Result(slope, psi, grid, curve, curve_psi)


def _check_arms(T, k, owner):
    """Each arm of a binary treatment needs ``k + 2`` units for its own regression on ``k`` adjustment columns."""
    need = k + 2
    for a, label in ((1, "treated"), (0, "untreated")):
        n_a = int((T == a).sum())
        if n_a < need:
            raise DataError(
                f"{owner} fits the outcome separately in each arm: the {label} arm has {n_a} unit(s), but a "
                f"regression on {k} adjustment column(s) needs at least {need} (one per column, the intercept and "
                "one residual degree of freedom)"
            )


def _ols_correction(X, Y, mask, model, xbar=None):
    """Influence of the least-squares fit on mean(prediction): xbar' A^-1 x_i e_i (0 off ``mask``)."""
    n = X.shape[0]
    # The correction is invariant to affine maps of the columns of X: compute it on standardised
    # columns, so that D'D neither overflows nor loses a column of tiny scale.
    # Columns constant over all rows (the zero column standing for an empty adjustment set) are the
    # intercept's business: drop them.
    loc, scale = center_scale(X)
    keep = scale > 0
    loc, scale = loc[keep], scale[keep]
    D = np.column_stack([np.ones(n), standardise(X[:, keep], loc, scale)])
    Dm = D[mask]
    A = Dm.T @ Dm / n
    xb = D.mean(axis=0) if xbar is None else np.column_stack([np.ones(n), standardise(xbar[:, keep], loc, scale)]).mean(axis=0)
    e = np.zeros(n)
    e[mask] = Y[mask] - model.predict(X[mask])
    try:
        h = np.linalg.solve(A, xb)
    except np.linalg.LinAlgError:
        raise DataError(
            "the least-squares fit behind the interval is singular: the adjustment columns are collinear (or constant) "
            "within a treatment arm; drop one of them or use bootstrap=..."
        ) from None
    return (D @ h) * e


class IPW(_EffectEstimator):
    """Inverse probability weighting (normalised, "Hájek") for a binary treatment.

    ``E[Y | do(X=1)] = sum(X Y / e(Z)) / sum(X / e(Z))`` (likewise for ``X = 0``)
    with the propensity ``e(Z) = P(X = 1 | Z)`` from ``treatment_model``,
    cross-fitted over ``n_folds`` folds.

    Parameters
    ----------
    treatment_model : scikit-learn classifier, optional
        With ``predict_proba``; default standardised logistic regression.
    n_folds : int
        Cross-fitting folds for the propensity (1: fit and predict on all rows).
    positivity_threshold : float
        Propensities outside ``[t, 1 - t]`` are reported (:class:`PositivityWarning`,
        ``positivity_``) and clipped. Default 0.01.
    bootstrap : int, optional
        Bootstrap replicates instead of the influence function.
    alpha : float
    random_state : None, int or Generator

    Attributes
    ----------
    effect_, std_err_, conf_int_ : the ATE and its inference
    positivity_ : dict
        ``min_propensity``, ``max_propensity``, ``n_extreme``, ``share_extreme``, ``threshold``.
    potential_outcome_means_ : (float, float)

    Notes
    -----
    The interval treats the propensity as known, which is conservative when it
    is estimated by maximum likelihood from a correct model.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=4000)
    >>> x = (0.5 * z + rng.normal(size=4000) > 0).astype(float)
    >>> df = pd.DataFrame({"x": x, "y": 2 * x + z + rng.normal(size=4000), "z": z})
    >>> est = IPW(random_state=0).fit(df, "x", "y", adjustment=["z"])
    >>> bool(abs(est.effect_ - 2) < 0.3)
    True
    """

    _binary_only = True
    _parameter_constraints = _constraints(
        "treatment_model", "n_folds", "positivity_threshold", "bootstrap", "alpha", "random_state"
    )

    def __init__(self, *, treatment_model=None, n_folds=5, positivity_threshold=0.01, bootstrap=None, alpha=0.05, random_state=None):
        self.treatment_model = treatment_model
        self.n_folds = n_folds
        self.positivity_threshold = positivity_threshold
        self.bootstrap = bootstrap
        self.alpha = alpha
        self.random_state = random_state

    def _estimate(self, T, Y, Z, kind, rng, main):
        model = self._learner(self.treatment_model, kind, "treatment")
        folds = _folds(self.n_folds, T.shape[0], T, kind, rng)
        e, info = _propensity(model, Z, T, folds, self.positivity_threshold)
        w1, w0 = T / e, (1 - T) / (1 - e)
        m1 = np.sum(w1 * Y) / np.sum(w1)
        m0 = np.sum(w0 * Y) / np.sum(w0)
        psi = w1 * (Y - m1) / w1.mean() - w0 * (Y - m0) / w0.mean()
        info["ess_treated"] = float(w1.sum() ** 2 / (w1**2).sum())
        info["ess_control"] = float(w0.sum() ** 2 / (w0**2).sum())
        return _Result(m1 - m0, psi, positivity=info, extra={"potential_outcome_means_": (float(m0), float(m1))})


class AIPW(_EffectEstimator):
    """Augmented inverse probability weighting: the doubly robust estimator.

    Binary treatment: cross-fitted outcome models per arm ``mu_a(Z)`` and propensity
    ``e(Z)``; the ATE is the mean of the efficient influence function
    ``mu_1 - mu_0 + X (Y - mu_1) / e - (1 - X) (Y - mu_0) / (1 - e)``. Consistent if
    either nuisance model is, and root-n normal when both converge fast enough.

    Continuous treatment: the kernel-localised doubly robust dose-response curve
    (Colangelo and Lee 2020; Kennedy et al. 2017):
    ``theta(x) = mean[mu(x, Z) + K_h(X - x) (Y - mu(x, Z)) / f(x | Z)]`` with
    ``mu(x, z)`` from ``outcome_model`` on ``(X, Z)`` and the conditional density
    ``f(x | z)`` Gaussian around ``treatment_model``'s prediction with the residual
    variance; Gaussian kernel, bandwidth ``h``.

    Parameters
    ----------
    outcome_model : scikit-learn regressor, optional
        Default ``LinearRegression``.
    treatment_model : scikit-learn classifier (binary) or regressor (continuous), optional
        Defaults: standardised logistic regression / ``LinearRegression``.
    n_folds : int
        Cross-fitting folds (default 5; 1 disables cross-fitting).
    positivity_threshold : float
        Binary: propensities outside ``[t, 1 - t]`` are reported and clipped.
        Continuous: a grid point whose effective sample size of the kernel weights
        falls below ``max(20, t * n)`` is reported. Default 0.01.
    bandwidth : float, optional
        Continuous: kernel bandwidth (default ``1.06 * sd(X) * n^(-1/4)``, slightly
        undersmoothed).
    grid : int or sequence, optional
        Continuous: as in :class:`RegressionAdjustment`.
    bootstrap : int, optional
    alpha : float
    random_state : None, int or Generator

    Attributes
    ----------
    effect_, std_err_, conf_int_
        The ATE, or for a continuous treatment the least-squares slope of the curve.
    dose_response_ : DataFrame or None
    positivity_ : dict or DataFrame
    potential_outcome_means_ : (float, float)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=2000)
    >>> x = (0.5 * z + rng.normal(size=2000) > 0).astype(float)
    >>> df = pd.DataFrame({"x": x, "y": 2 * x + z ** 2 + rng.normal(size=2000), "z": z})
    >>> est = AIPW(random_state=0).fit(df, "x", "y", adjustment=["z"])
    >>> bool(est.conf_int_[0] < 2 < est.conf_int_[1])
    True
    """

    _parameter_constraints = _constraints(
        "outcome_model", "treatment_model", "n_folds", "positivity_threshold", "grid", "bootstrap", "alpha", "random_state",
        bandwidth=AnyOf(None, Interval(numbers.Real, 0, None)),
    )

    def __init__(
        self,
        *,
        outcome_model=None,
        treatment_model=None,
        n_folds=5,
        positivity_threshold=0.01,
        bandwidth=None,
        grid=None,
        bootstrap=None,
        alpha=0.05,
        random_state=None,
    ):
        self.outcome_model = outcome_model
        self.treatment_model = treatment_model
        self.n_folds = n_folds
        self.positivity_threshold = positivity_threshold
        self.bandwidth = bandwidth
        self.grid = grid
        self.bootstrap = bootstrap
        self.alpha = alpha
        self.random_state = random_state

    def _estimate(self, T, Y, Z, kind, rng, main):
        folds = _folds(self.n_folds, T.shape[0], T, kind, rng)
        out_model = self._learner(self.outcome_model, kind, "outcome")
        trt_model = self._learner(self.treatment_model, kind, "treatment")
        if kind == "binary":
            return _aipw_binary(out_model, trt_model, T, Y, Z, folds, self.positivity_threshold)
        return self._dose_response(out_model, trt_model, T, Y, Z, folds)

    def _dose_response(self, out_model, trt_model, T, Y, Z, folds):
        n = T.shape[0]
        grid = self._grid
        h = self.bandwidth / self._t_unit if self.bandwidth else 1.06 * safe_std(T) * n ** (-0.25)
        XZ = np.column_stack([T, Z])
        Xz = _features(Z)
        mu = np.empty((n, len(grid)))
        mhat = np.empty(n)
        for train, test in folds:
            m = clone(out_model).fit(XZ[train], Y[train])
            for k, g in enumerate(grid):
                Xg = XZ[test].copy()
                Xg[:, 0] = g
                mu[test, k] = m.predict(Xg)
            mhat[test] = _fit_predict(trt_model, Xz, T, train, test)
        r = T - mhat
        a = pow2(np.abs(r).max())
        sigma = float(a * np.sqrt(np.mean((r / a) ** 2)))  # the residuals' root mean square, overflow-safe
        # w = K_h(T - g) / f(g | Z) with both densities in standardised units: the ratio
        # (pdf_K / pdf_f) * (sigma / h) is dimensionless, so it does not change when T is rescaled.
        dens = stats.norm.pdf((grid[None, :] - mhat[:, None]) / sigma)  # sigma * f(g | Z_i)
        kern = stats.norm.pdf((T[:, None] - grid[None, :]) / h)  # h * K_h(T_i - g)
        w = kern / np.maximum(dens, 1e-300) * (sigma / h)
        psi_full = mu + w * (Y[:, None] - mu)
        curve = psi_full.mean(axis=0)
        ess = w.sum(axis=0) ** 2 / np.maximum((w**2).sum(axis=0), 1e-300)
        floor = max(20.0, self.positivity_threshold * n)
        pos = pd.DataFrame({"grid": grid, "ess": ess, "max_weight_share": w.max(axis=0) / np.maximum(w.sum(axis=0), 1e-300)})
        weak = pos[pos["ess"] < floor]
        if len(weak):
            warnings.warn(
                PositivityWarning(
                    f"{len(weak)} of {len(grid)} grid points have an effective sample size below {floor:g} "
                    f"(treatment values {np.round(weak['grid'].to_numpy(), 3).tolist()}): few units with such "
                    "adjustment values receive that dose; the curve there extrapolates. Details in positivity_."
                ),
                stacklevel=3,
            )
        curve_psi = psi_full - curve
        slope, psi = _slope(grid, curve, curve_psi)
        return _Result(slope, psi, grid, curve, curve_psi, positivity=pos, extra={"bandwidth_": float(h)})


def _aipw_binary(out_model, trt_model, T, Y, Z, folds, threshold):
    e, info = _propensity(trt_model, Z, T, folds, threshold)
    mu = _arm_predictions(out_model, Z, T, Y, folds)
    phi1 = mu[:, 1] + T * (Y - mu[:, 1]) / e
    phi0 = mu[:, 0] + (1 - T) * (Y - mu[:, 0]) / (1 - e)
    ate = float(np.mean(phi1 - phi0))
    extra = {"potential_outcome_means_": (float(phi0.mean()), float(phi1.mean()))}
    return _Result(ate, phi1 - phi0 - ate, positivity=info, extra=extra)


_DML_MODELS = ("partially_linear", "interactive")


class DoubleML(_EffectEstimator):
    """Double/debiased machine learning (Chernozhukov et al. 2018) with cross-fitting.

    Parameters
    ----------
    model : {"partially_linear", "interactive"}
        ``"partially_linear"``: ``Y = theta X + g(Z) + e``; ``theta`` from the
        residual-on-residual regression of ``Y - E[Y | Z]`` on ``X - E[X | Z]``
        (binary or continuous treatment; for a continuous one also a linear
        ``dose_response_``). ``"interactive"``: binary treatment, the ATE from the
        efficient score (the cross-fitted AIPW estimator).
    outcome_model : scikit-learn regressor, optional
        ``E[Y | Z]`` (partially linear) or ``E[Y | X = a, Z]`` (interactive).
        Default ``LinearRegression``.
    treatment_model : scikit-learn classifier or regressor, optional
        ``E[X | Z]``: a classifier with ``predict_proba`` for a binary treatment.
    n_folds : int
        Cross-fitting folds (>= 2, default 5).
    positivity_threshold : float
        Binary treatment: propensities outside ``[t, 1 - t]`` are reported and
        clipped (default 0.01).
    grid : int or sequence, optional
        Continuous treatment: grid of the linear dose-response curve.
    bootstrap : int, optional
    alpha : float
    random_state : None, int or Generator

    Attributes
    ----------
    effect_, std_err_, conf_int_
        ``theta`` (partially linear) or the ATE (interactive).
    dose_response_ : DataFrame or None
        Partially linear, continuous treatment: ``E[Y] + theta (x - E[X])``.
    positivity_ : dict or None

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=2000)
    >>> x = np.sin(z) + rng.normal(size=2000)
    >>> df = pd.DataFrame({"x": x, "y": 0.5 * x + np.cos(z) + rng.normal(size=2000), "z": z})
    >>> from sklearn.neighbors import KNeighborsRegressor as KNN
    >>> est = DoubleML(outcome_model=KNN(50), treatment_model=KNN(50), random_state=0)
    >>> bool(est.fit(df, "x", "y", adjustment=["z"]).conf_int_[0] < 0.5 < est.conf_int_[1])
    True
    """

    _parameter_constraints = _constraints(
        "outcome_model", "treatment_model", "positivity_threshold", "grid", "bootstrap", "alpha", "random_state",
        model=Options(_DML_MODELS),
        n_folds=Interval(numbers.Integral, 2, None, closed="left"),
    )

    def __init__(
        self,
        *,
        model="partially_linear",
        outcome_model=None,
        treatment_model=None,
        n_folds=5,
        positivity_threshold=0.01,
        grid=None,
        bootstrap=None,
        alpha=0.05,
        random_state=None,
    ):
        self.model = model
        self.outcome_model = outcome_model
        self.treatment_model = treatment_model
        self.n_folds = n_folds
        self.positivity_threshold = positivity_threshold
        self.grid = grid
        self.bootstrap = bootstrap
        self.alpha = alpha
        self.random_state = random_state

    def _supports_continuous(self):
        return self.model == "partially_linear"

    def _model_label(self):
        return f"(model={self.model!r})"

    def _estimate(self, T, Y, Z, kind, rng, main):
        folds = _folds(self.n_folds, T.shape[0], T, kind, rng)
        out_model = self._learner(self.outcome_model, kind, "outcome")
        trt_model = self._learner(self.treatment_model, kind, "treatment")
        if self.model == "interactive":
            return _aipw_binary(out_model, trt_model, T, Y, Z, folds, self.positivity_threshold)
        X = _features(Z)
        n = T.shape[0]
        ell, m = np.empty(n), np.empty(n)
        for train, test in folds:
            ell[test] = _fit_predict(out_model, X, Y, train, test)
            m[test] = _fit_predict(trt_model, X, T, train, test, proba=kind == "binary")
        info = None
        if kind == "binary":
            info = _positivity_binary(m, self.positivity_threshold)
            m = np.clip(m, self.positivity_threshold, 1 - self.positivity_threshold)
        v, u = T - m, Y - ell
        # In units of powers of two (exact): v @ v and v @ u neither overflow nor underflow.
        sv, su = pow2(np.abs(v).max()), pow2(np.abs(u).max())
        vs, us = v / sv, u / su
        b = (vs @ us) / (vs @ vs)  # theta in units of su / sv
        theta = float(b * (su / sv))
        psi = (us - b * vs) * vs / np.mean(vs * vs) * (su / sv)
        res = _Result(theta, psi, positivity=info)
        if kind == "continuous":
            grid = self._grid
            tbar, ybar = T.mean(), Y.mean()
            res.grid = grid
            res.curve = ybar + theta * (grid - tbar)
            res.curve_psi = (Y - ybar)[:, None] + np.outer(psi, grid - tbar) - theta * (T - tbar)[:, None]
        return res
