"""Invariance-regularised regression: anchor regression and IRM.

Where :class:`~discovery.ICP` *infers* the causal parents of a target (with a
guarantee, from tests), the two estimators here *predict* the target in a way that
is robust to shifts between environments, by trading some in-sample fit for
invariance:

* :class:`AnchorRegression` (Rothenhäusler, Meinshausen, Bühlmann and Peters,
  JRSS-B 2021): a closed-form interpolation between OLS and instrumental-variable
  regression, optimal under shift interventions of bounded strength in the
  directions of exogenous "anchor" variables (the environment indicators, or any
  exogenous covariates);
* :class:`IRM` (invariant risk minimisation, IRMv1; Arjovsky, Bottou, Gulrajani
  and Lopez-Paz, 2019): a linear model trained with optax to minimise the pooled
  risk plus a penalty on how far it is from being optimal in every environment.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> env = np.repeat([0, 1, 2], 500)
>>> h = rng.normal(size=1500)                                  # hidden confounder
>>> x = 2.0 * env + h + rng.normal(size=1500)                  # shifted by the environment
>>> y = 2.0 * x - 2.0 * h + rng.normal(size=1500)
>>> ols = AnchorRegression(gamma=1.0).fit(x[:, None], y, anchors=env)
>>> iv = AnchorRegression(gamma=np.inf).fit(x[:, None], y, anchors=env)
>>> round(float(ols.coef_[0]), 1), round(float(iv.coef_[0]), 1)
(1.6, 2.0)

Both are scikit-learn regressors (``sklearn.utils.estimator_checks`` passes them; the checks
that cannot apply are listed in ``tests/discovery/test_invariant.py``): the environment is a
keyword argument of ``fit`` (without it, all rows are one environment), ``score`` is the R²
of ``predict``, and they work in pipelines, grid searches and cross-validation.
"""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd

from scm._exceptions import ConvergenceError, DataError, NotFittedError, UnknownNodeError
from scm._validation import as_dataframe, check_numeric_frame, check_option

from .._base import Boolean, Interval, Options, ParamsMixin, Satisfies, columns_seen_by_fit, positional_deprecated
from .._utils import standardize
from ._icp import _check_representable, _plain, split_inputs

__all__ = ["AnchorRegression", "IRM", "CausIRL"]

logger = logging.getLogger(__name__)


# =========================================================================== helpers
def _anchor_matrix(anchors, frame: pd.DataFrame, kind: str) -> tuple[np.ndarray, pd.DataFrame, list]:
    """Split the anchors off ``frame`` (if named) and encode them as a numeric matrix."""
    n = frame.shape[0]
    if isinstance(anchors, str) or (
        isinstance(anchors, (list, tuple)) and anchors and all(isinstance(a, str) for a in anchors)
    ):
        names = [anchors] if isinstance(anchors, str) else list(anchors)
        missing = [a for a in names if a not in frame.columns]
        if missing:
            raise UnknownNodeError(f"anchor column(s) {missing} are not columns of X (columns: {list(map(str, frame.columns))[:10]})")
        table = frame[names]
        frame = frame.drop(columns=names)
    else:
        if isinstance(anchors, pd.Series):
            table = anchors.reset_index(drop=True).to_frame(name=anchors.name if anchors.name is not None else "A")
        elif isinstance(anchors, pd.DataFrame):
            table = anchors.reset_index(drop=True)
        else:
            arr = np.asarray(anchors)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise DataError(f"anchors must be 1-D or 2-D; got an array of shape {arr.shape}")
            table = pd.DataFrame(arr, columns=["A"] if arr.shape[1] == 1 else [f"A{i}" for i in range(arr.shape[1])])
        # Only a Series or DataFrame names its anchors; an array or a list is taken as it is,
        # whatever the columns of X (its default names "A", "A0", ... are labels, not references).
        clash = [str(c) for c in table.columns if c in frame.columns]
        if clash and isinstance(anchors, (pd.Series, pd.DataFrame)):
            raise DataError(f"anchor(s) {clash} are also columns of X; pass their names to use those columns, or drop them from X")
        if len(table) != n:
            raise DataError(f"anchors have {len(table)} rows but X has {n}")
    if table.isna().to_numpy().any():
        raise DataError("anchors hold missing values")
    if kind == "auto":
        single = table.shape[1] == 1
        col = table.iloc[:, 0]
        kind = "environment" if single and not pd.api.types.is_float_dtype(col) else "continuous"
    if kind == "environment":
        if table.shape[1] != 1:
            raise DataError(f"anchor_kind='environment' needs one column of labels; got {table.shape[1]} columns")
        codes, labels = pd.factorize(table.iloc[:, 0], sort=True)
        if len(labels) < 2:
            raise DataError(f"the anchors hold a single environment {_plain(labels[0])!r}; at least two are needed")
        a = np.eye(len(labels))[codes]
        return a, frame, list(labels)
    # a constant anchor spans no direction: refused, instead of a silent fall-back to OLS
    values = check_numeric_frame(table, name="anchors", allow_constant=False).to_numpy(dtype=float)
    # z-scores: the projection does not depend on the anchors' units, but the rank tolerance
    # of its SVD would (a column of anchors scaled by 1e-150 would be dropped)
    values, _, _ = standardize(values, list(map(str, table.columns)), owner="AnchorRegression")
    return values, frame, list(map(str, table.columns))


def _projector_basis(a: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of the centred anchors."""
    ac = a - a.mean(axis=0)
    u, s, _ = np.linalg.svd(ac, full_matrices=False)
    tol = s.max(initial=0.0) * max(ac.shape) * np.finfo(float).eps
    return u[:, s > tol]


def _two_dimensional(X, owner: str) -> None:
    """Refuse a 1-D ``X``, as scikit-learn does: one feature is ``X.reshape(-1, 1)``, one sample ``X.reshape(1, -1)``."""
    if isinstance(X, pd.DataFrame) or type(X).__module__.startswith("scipy.sparse"):
        return
    if getattr(X, "ndim", None) == 1 or (not hasattr(X, "ndim") and np.asarray(X).ndim == 1):
        raise DataError(f"{owner} expects X of shape (n_samples, n_features); got a 1-D array. Reshape your data with "
                        "X.reshape(-1, 1) if it has one feature, or X.reshape(1, -1) if it is one sample")


def _samples(n: int) -> str:
    return f"{n} sample{'' if n == 1 else 's'}"


def _split_xy(X, y, *, owner: str) -> tuple[pd.DataFrame, str, np.ndarray]:
    _two_dimensional(X, owner)
    frame = as_dataframe(X, name="X")
    if y is None:
        raise DataError(f"{owner} requires y to be passed, but the target y is None")
    if isinstance(y, str):
        if y not in frame.columns:
            raise UnknownNodeError(f"y {y!r} is not a column of X (columns: {list(map(str, frame.columns))[:10]})")
        yv = frame[y].to_numpy()
        frame = frame.drop(columns=[y])
        name = y
    else:
        if isinstance(y, pd.Series) and y.name is not None and y.name in frame.columns:
            raise DataError(f"y {y.name!r} is also a column of X; pass y={y.name!r} to use that column, or drop it from X")
        yv = np.asarray(y)
        if yv.ndim == 2 and yv.shape[1] == 1:
            yv = yv[:, 0]
        if yv.ndim != 1:
            raise DataError(f"y must be a column name of X or a 1-D array; got an array of shape {yv.shape}")
        if len(yv) != len(frame):
            raise DataError(f"y has {len(yv)} rows but X has {len(frame)}")
        name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
    yv = check_numeric_frame(pd.DataFrame({name: yv}), name="y").iloc[:, 0].to_numpy(dtype=float)
    return frame, name, yv


def r2_score(y, pred, sample_weight=None) -> float:
    """The coefficient of determination of ``pred`` against ``y``: scikit-learn's ``r2_score``, overflow-safe.

    Both are divided by one power of two near their largest magnitude first (exact, so the
    answer equals scikit-learn's on ordinary data, and stays finite for values near 1e300
    whose squares would overflow). A constant ``y`` gives 1 for a perfect prediction, else 0,
    as scikit-learn does.

    Examples
    --------
    >>> r2_score(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    0.5
    >>> r2_score(np.array([1.0, 2.0, 3.0]) * 1e300, np.array([1.0, 2.0, 4.0]) * 1e300)
    0.5
    """
    from scm._scale import pow2

    y, pred = np.asarray(y, dtype=float), np.asarray(pred, dtype=float)
    if len(y) < 2:
        raise DataError(f"R^2 needs at least two samples; got {len(y)}")
    if sample_weight is None:
        w = 1.0
    else:
        w = np.asarray(sample_weight, dtype=float)
        if w.shape != y.shape or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise DataError(f"sample_weight must hold {len(y)} finite weights >= 0, not all 0; got shape {w.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        scale = pow2(np.max(np.abs(np.concatenate([y, pred]))))
        ys, ps = y / scale, pred / scale
        num = np.sum(w * (ys - ps) ** 2)
        centre = np.mean(ys) if sample_weight is None else np.average(ys, weights=w)
        den = np.sum(w * (ys - centre) ** 2)
    if den == 0:
        return 1.0 if num == 0 else 0.0
    return float(1.0 - num / den)


class _LinearPredictor:
    """``predict`` and ``score`` (R²) for fitted linear models with ``coef_``, ``intercept_`` and feature names."""

    _estimator_type = "regressor"

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet; call 'fit' first.")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "coef_")

    def predict(self, X) -> np.ndarray:
        """Predict the target.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
            A DataFrame must hold the columns seen by ``fit`` (others are ignored);
            an array must have them in that order.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        self._check_fitted()
        _two_dimensional(X, type(self).__name__)
        values = columns_seen_by_fit(X, list(self.feature_names_in_), type(self).__name__).to_numpy(dtype=float)
        return values @ self.coef_ + self.intercept_

    def score(self, X, y, sample_weight=None) -> float:
        """The coefficient of determination R² of :meth:`predict` on ``X`` against ``y``.

        As scikit-learn's regressors: ``1 - sum(w (y - pred)^2) / sum(w (y - mean_w(y))^2)``
        (:func:`r2_score`, overflow-safe); 1 is a perfect prediction, 0 that of the mean.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
            As in :meth:`predict`.
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the true values.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        float
        """
        self._check_fitted()
        frame, _, yv = _split_xy(X, y, owner=type(self).__name__)
        return r2_score(yv, self.predict(frame if isinstance(y, str) else X), sample_weight)


# =========================================================================== anchor regression
class AnchorRegression(_LinearPredictor, ParamsMixin):
    """Anchor regression (Rothenhäusler, Meinshausen, Bühlmann and Peters, 2021).

    With anchors ``A`` (exogenous variables such as the environment indicators),
    ``Pi_A`` the projection on their (centred) column space and ``X``, ``y`` centred,
    the coefficients minimise

        ``|| (I - Pi_A)(y - X b) ||^2 + gamma || Pi_A (y - X b) ||^2``,

    which is OLS of ``W y`` on ``W X`` with ``W = I - (1 - sqrt(gamma)) Pi_A``.
    ``gamma = 1`` is OLS; ``gamma = 0`` partials the anchors out (OLS on the
    residuals of ``X`` and ``y`` after regressing them on ``A``); ``gamma -> inf``
    is the instrumental-variable (two-stage least-squares) estimator with ``A`` as
    instruments, when it is identified (``rank(Pi_A X) = p``). In between, the
    estimator minimises the worst-case risk over shift interventions of strength up
    to ``gamma`` in the directions of ``A``.

    Parameters
    ----------
    gamma : float, default 5.0
        In ``[0, inf]``; ``numpy.inf`` gives two-stage least squares.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        ``mean(y) - mean(X) @ coef_``.
    anchor_names_ : list
        The environment labels (one-hot anchors) or the anchor column names.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    References
    ----------
    D. Rothenhäusler, N. Meinshausen, P. Bühlmann and J. Peters. Anchor regression:
    heterogeneous data meet causality. JRSS-B 83(2), 2021.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> env = np.repeat(["a", "b", "c"], 200)
    >>> x = 2.0 * (env == "b") - 1.0 * (env == "c") + rng.normal(size=600)
    >>> y = 0.5 * x + rng.normal(size=600)
    >>> model = AnchorRegression(gamma=10.0).fit(pd.DataFrame({"x": x, "env": env}), y, anchors="env")
    >>> model.anchor_names_, model.coef_.round(2).tolist()
    (['a', 'b', 'c'], [0.45])
    >>> model.predict(pd.DataFrame({"x": [0.0, 1.0]})).round(2).tolist()
    [-0.02, 0.42]
    >>> round(model.score(pd.DataFrame({"x": x}), y), 3)                   # R^2
    0.381
    """

    _parameter_constraints = {
        "gamma": Satisfies(
            lambda g: not isinstance(g, bool) and isinstance(g, Real) and not np.isnan(g) and g >= 0, "a number in [0, inf]"
        ),
    }

    def __init__(self, *, gamma: float = 5.0):
        self.gamma = gamma

    @positional_deprecated("anchors")
    def fit(self, X, y, *, anchors=None, anchor_kind: str = "auto") -> AnchorRegression:
        """Fit the anchor-regression coefficients.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the target values.
        anchors : str, list of str or array-like, optional
            Column name(s) of ``X`` (removed from the predictors) or the anchor
            values (1-D or 2-D). Keyword only (by position it still works, with a
            ``FutureWarning``). Without anchors the projection is zero and every finite
            ``gamma`` gives OLS: all rows are one environment.
        anchor_kind : {"auto", "environment", "continuous"}, default "auto"
            ``"environment"``: one column of labels, one-hot encoded (the projection
            then replaces each row by its environment's mean). ``"continuous"``:
            numeric anchors used as they are. ``"auto"``: ``"environment"`` for a
            single column that is not of float dtype (ints, strings, booleans,
            categories), else ``"continuous"``.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            ``gamma`` negative or NaN, an unknown ``anchor_kind``.
        FutureWarning
            Warned, not raised: ``anchors`` passed by position.
        DataError
            Non-numeric or missing values, a single environment, fewer than ``p + 2``
            rows (the fit would interpolate), predictors that are collinear (after
            partialling out the anchors when ``gamma = 0``), ``gamma = inf`` with fewer
            independent anchor directions than predictors (the IV estimator is not
            identified), or a coefficient that overflows float64 in the units of the data.

        Notes
        -----
        The fit runs on the z-scores of ``X``, ``y`` and continuous anchors (moments
        computed without overflow) and the coefficients are mapped back, so multiplying
        a column by ``10**k`` divides its coefficient by ``10**k`` and leaves the others
        unchanged, to rounding. Anchors given as an array or a list are used as they are;
        only a named Series or DataFrame whose name is also a column of ``X`` is refused.
        """
        owner = "AnchorRegression"
        self._validate_params()
        gamma = self.gamma
        anchor_kind = check_option(anchor_kind, ("auto", "environment", "continuous"), name="anchor_kind", owner=owner)
        if isinstance(y, str) and (anchors == y if isinstance(anchors, str) else isinstance(anchors, list) and y in anchors):
            raise DataError(f"the anchors name the target y {y!r}; the anchors must be other columns")
        frame, y_name, yv = _split_xy(X, y, owner=owner)
        if anchors is None:  # one environment: no direction to project on, OLS
            a, anchor_names = np.zeros((len(frame), 0)), []
        else:
            a, frame, anchor_names = _anchor_matrix(anchors, frame, anchor_kind)
        n, p = frame.shape
        if n < p + 2:  # before the values, whose checks would call every column of one row constant
            raise DataError(
                f"AnchorRegression needs at least p + 2 = {p + 2} rows for {p} predictors (an intercept and one "
                f"residual degree of freedom; with fewer the fit interpolates the data); X has {_samples(n)}"
            )
        values = check_numeric_frame(frame, name="X", allow_constant=False).to_numpy(dtype=float)
        names = list(map(str, frame.columns))
        # Solved on z-scores and mapped back: the coefficients are equivariant under rescaling
        # a column, which a least-squares solve on raw columns of very different scales is not
        # (its rank cut-off drops the small ones).
        xc, x_mean, x_scale = standardize(values, names, owner=owner)
        yc, y_mean, y_scale = standardize(yv[:, None], [y_name], owner=owner)
        yc, y_mean, y_scale = yc[:, 0], float(y_mean[0]), float(y_scale[0])
        basis = _projector_basis(a)
        px, py = basis @ (basis.T @ xc), basis @ (basis.T @ yc)
        if np.isinf(gamma):
            rank = np.linalg.matrix_rank(px)
            if rank < xc.shape[1]:
                raise DataError(
                    f"gamma=inf (two-stage least squares) is not identified: the anchors span {basis.shape[1]} "
                    f"direction(s) and Pi_A X has rank {rank} < {xc.shape[1]} predictors; use a finite gamma"
                )
            coef = np.linalg.lstsq(px, py, rcond=None)[0]
        else:
            shrink = 1.0 - np.sqrt(gamma)
            design = xc - shrink * px
            rank = np.linalg.matrix_rank(design)
            if rank < p:
                raise DataError(
                    f"the coefficients are not identified: the predictors {names[:10]} are collinear"
                    f"{' once the anchors are partialled out (gamma=0)' if gamma == 0 else ''} (rank {rank} < {p}); "
                    "drop redundant columns"
                )
            coef = np.linalg.lstsq(design, yc - shrink * py, rcond=None)[0]
        with np.errstate(over="ignore", invalid="ignore"):
            coef = coef * (y_scale / x_scale)
            intercept = y_mean - x_mean @ coef
        _check_representable(np.append(coef, intercept), names + ["intercept"], owner=owner)
        self.coef_ = coef
        self.intercept_ = float(intercept)
        self.anchor_names_ = anchor_names
        self.n_features_in_ = values.shape[1]
        self.feature_names_in_ = np.asarray(list(map(str, frame.columns)), dtype=object)
        return self


# =========================================================================== trained linear models
class _TrainedLinear(_LinearPredictor, ParamsMixin):
    """``fit`` of the linear models trained by :mod:`discovery.invariance._irm_kernels` (IRM, CausIRL).

    Subclasses implement ``_train(xs, ys, codes, n_env)``, which runs the jitted trainer on the
    z-scores (inside ``jax.enable_x64``) and returns its parameters, final loss and first bad steps,
    and name the parameter of the penalty's weight in ``_weight_param``.
    """

    _weight_param = "penalty"

    def _fit_trained(self, X, y, environment):
        import jax

        owner = type(self).__name__
        self._validate_params()
        _two_dimensional(X, owner)
        frame, target, yv, codes, labels = split_inputs(X, y, environment, owner=owner, min_rows_extra=0,
                                                        min_environments=1 if environment is None else 2)
        values = frame.to_numpy(dtype=float)
        names = list(map(str, frame.columns))
        n, p = values.shape
        need = p + 1 + int(bool(self.fit_intercept))
        if n < need:
            text = (
                f"{owner}: {n} rows for {p} predictors{' and an intercept' if self.fit_intercept else ''}: at least {need} "
                "are needed for one residual degree of freedom; with fewer the fit interpolates the data"
            )
            if self.l2 == 0:
                raise DataError(text + " (or set a ridge penalty l2 > 0)")
            warnings.warn(text + f"; the coefficients rest on the ridge penalty l2={self.l2}", UserWarning, stacklevel=3)
        # z-scores with moments that cannot overflow (a column near 1e300 would get a std of inf and a zero coefficient)
        xs, x_mean, x_std = standardize(values, names, owner=owner)
        ys, y_mean, y_std = standardize(yv[:, None], [target], owner=owner)
        ys, y_mean, y_std = ys[:, 0], float(y_mean[0]), float(y_std[0])
        with jax.enable_x64(True):
            params, loss, first_bad = self._train(xs, ys, codes, len(labels))
            beta = np.asarray(params["beta"])
            b = float(params["b"])
            loss = float(loss)
            first_bad = np.asarray(first_bad)
        self._check_divergence(first_bad, loss, beta, b)
        with np.errstate(over="ignore", invalid="ignore"):
            coef = beta * (y_std / x_std)
            intercept = y_mean + y_std * b - x_mean @ coef
        _check_representable(np.append(coef, intercept), names + ["intercept"], owner=owner)
        self.coef_ = coef
        self.intercept_ = float(intercept)
        self.loss_ = loss
        self.environments_ = list(labels)
        self.n_features_in_ = values.shape[1]
        self.feature_names_in_ = np.asarray(list(map(str, frame.columns)), dtype=object)
        logger.info("%s: %d steps, final loss %.4g", owner, self.n_steps, loss)
        return self

    def _check_divergence(self, first_bad: np.ndarray, loss: float, beta: np.ndarray, b: float) -> None:
        """Raise ConvergenceError naming the first step whose loss was non-finite or exploded."""
        from ._irm_kernels import DIVERGENCE_FACTOR

        finite = np.isfinite(loss) and np.all(np.isfinite(beta)) and np.isfinite(b)
        if finite and np.all(first_bad < 0):
            return
        phase = 0 if first_bad[0] >= 0 else 1
        step = int(first_bad[phase]) if first_bad[phase] >= 0 else int(self.n_steps)
        offset = 0 if phase == 0 else int(self.anneal_steps)
        weight_name = self._weight_param
        weight = float(getattr(self, weight_name))
        which = "the annealing phase, penalty weight 1" if phase == 0 else f"the penalty phase, weight {weight:g}"
        hint = (
            f"lower 'learning_rate' (got {self.learning_rate:g}) or use solver='lbfgs'"
            if self.solver == "adam"
            else f"lower '{weight_name}' (got {weight:g}) or use solver='adam' with a small learning rate"
        )
        raise ConvergenceError(
            f"{type(self).__name__} diverged: the loss became non-finite or exceeded {DIVERGENCE_FACTOR:g} times its starting "
            f"value at step {offset + step} of {int(self.anneal_steps) + int(self.n_steps)} ({which}; final loss {loss:.3g}); {hint}"
        )


# =========================================================================== IRM
class IRM(_TrainedLinear):
    """Invariant risk minimisation for a linear model (IRMv1; Arjovsky et al., 2019).

    The model ``f(x) = x @ beta + b`` minimises

        ``sum_e R_e(f) + lambda * sum_e (d/dw R_e(w * f) at w = 1)^2``,

    with ``R_e`` the mean squared error in environment ``e``. The penalty is zero when
    scaling the predictions cannot lower any environment's risk, i.e. when ``f`` is
    simultaneously optimal (in this one direction) in every environment. Trained
    full-batch with optax in one jitted call. As in the reference implementation the
    penalty weight is 1 for the first ``anneal_steps`` steps, then ``penalty`` (with
    a fresh optimiser state), and the loss is divided by the weight when it exceeds 1.

    Parameters
    ----------
    penalty : float, default 100.0
        ``lambda`` after annealing, ``>= 0``. ``0`` gives pooled least squares.
    anneal_steps : int, default 100
        Steps with penalty weight 1 before ``penalty`` applies.
    n_steps : int, default 2000
        Optimiser steps with the full penalty (after the annealing steps).
    solver : {"adam", "lbfgs"}, default "adam"
        ``optax.adam``, as in the paper, or ``optax.lbfgs`` (zoom line search:
        converges in a few hundred steps even for a large ``penalty``, but its
        first call compiles for several seconds).
    learning_rate : float, default 0.05
        Adam's step size (unused by L-BFGS).
    l2 : float, default 0.0
        Ridge penalty on ``beta`` (standardised scale).
    fit_intercept : bool, default True
    random_state : int, default 0
        Seed of the initial coefficients (``jax.random.key``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    loss_ : float
        The final objective (standardised scale).
    environments_ : list
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    ``X`` and ``y`` are centred and scaled by their pooled standard deviations before
    training (moments computed without overflow; the coefficients are mapped back), so
    ``penalty`` and ``learning_rate`` do not depend on the units of the data. IRM has no guarantee
    of finding the causal coefficients in linear models with few environments
    (Rosenfeld et al., 2021); prefer :class:`AnchorRegression` or :class:`ICP` there.

    References
    ----------
    M. Arjovsky, L. Bottou, I. Gulrajani and D. Lopez-Paz. Invariant risk
    minimization. arXiv:1907.02893, 2019.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> env = np.repeat([0, 1], 1000)
    >>> x1 = rng.normal(size=2000) * (1 + env)
    >>> y = x1 + rng.normal(size=2000)
    >>> x2 = y + rng.normal(size=2000) * (0.3 + 2 * env)          # spurious, unstable
    >>> X = pd.DataFrame({"x1": x1, "x2": x2})
    >>> IRM(penalty=0.0).fit(X, y, environment=env).coef_.round(2).tolist()      # pooled least squares
    [0.73, 0.26]
    >>> IRM(penalty=100.0).fit(X, y, environment=env).coef_.round(2).tolist()    # towards the invariant (1, 0)
    [0.9, 0.11]
    """

    _parameter_constraints = {
        "penalty": Interval(Real, 0, None, closed="left"),
        "anneal_steps": Interval(Integral, 0, None, closed="left"),
        "n_steps": Interval(Integral, 1, None, closed="left"),
        "solver": Options(("lbfgs", "adam")),
        "learning_rate": Interval(Real, 0, None),
        "l2": Interval(Real, 0, None, closed="left"),
        "fit_intercept": Boolean(),
        "random_state": Interval(Integral, 0, None, closed="left"),
    }

    def __init__(
        self,
        *,
        penalty: float = 100.0,
        anneal_steps: int = 100,
        n_steps: int = 2000,
        solver: str = "adam",
        learning_rate: float = 0.05,
        l2: float = 0.0,
        fit_intercept: bool = True,
        random_state: int = 0,
    ):
        self.penalty = penalty
        self.anneal_steps = anneal_steps
        self.n_steps = n_steps
        self.solver = solver
        self.learning_rate = learning_rate
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    @positional_deprecated("environment")
    def fit(self, X, y, *, environment=None) -> IRM:
        """Train the invariant linear model.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the target values.
        environment : str or array-like of shape (n_samples,), optional
            A column name of ``X`` or the environment label of every row. Keyword only
            (by position it still works, with a ``FutureWarning``). Without it all rows are
            one environment, whose invariance penalty vanishes at the least-squares fit:
            the model is pooled (ridge) least squares.

        Returns
        -------
        self

        Raises
        ------
        ParameterError, DataError, UnknownNodeError
            Bad parameters or inputs (as :meth:`ICP.fit`); fewer than ``p + 2`` rows
            (``p + 1`` without intercept) with ``l2 = 0`` (with ``l2 > 0``, a
            ``UserWarning``).
        ConvergenceError
            The loss became non-finite or exceeded 1000 times its starting value; the
            message names the step and suggests a smaller ``learning_rate``.
        """
        return self._fit_trained(X, y, environment)

    def _train(self, xs: np.ndarray, ys: np.ndarray, codes: np.ndarray, n_env: int):
        import jax
        import jax.numpy as jnp

        from . import _irm_kernels

        return _irm_kernels.irm_train(
            jnp.asarray(xs),
            jnp.asarray(ys),
            jnp.asarray(codes),
            jax.random.key(int(self.random_state)),
            jnp.asarray(float(self.penalty)),
            jnp.asarray(float(self.learning_rate)),
            jnp.asarray(float(self.l2)),
            jnp.asarray(int(self.n_steps)),
            jnp.asarray(int(self.anneal_steps)),
            n_env=n_env,
            fit_intercept=bool(self.fit_intercept),
            solver=self.solver,
        )


# =========================================================================== CausIRL
def matching_splits(codes: np.ndarray, n_env: int, n_splits: int, n_rows: int, random_state: int):
    """The penalty rows and the random splits of CausIRL (one draw per fit).

    ``n_rows`` rows are drawn without replacement; for each split, each environment's drawn rows
    are shuffled and cut at a uniformly drawn point, the first parts pooled into one mixture and
    the second parts into the other (as the reference implementation does with each minibatch).
    A split whose mixtures hold fewer than two rows each is drawn again. With one environment
    both mixtures are all the rows (the distance is zero).

    Returns
    -------
    rows : ndarray of int, shape (m,)
    first, second : ndarray of shape (n_splits, m)
        Weights of the two mixtures, each row summing to 1.
    """
    rng = np.random.default_rng(random_state)
    n = len(codes)
    rows = np.sort(rng.choice(n, size=min(n, n_rows), replace=False))
    sub = codes[rows]
    m = len(rows)
    if n_env == 1:
        same = np.full((n_splits, m), 1.0 / m)
        return rows, same, same.copy()
    member = np.zeros((n_splits, m), dtype=bool)
    for s in range(n_splits):
        while True:
            for e in range(n_env):
                idx = rng.permutation(np.flatnonzero(sub == e))
                member[s, idx] = False
                member[s, idx[: rng.integers(0, len(idx) + 1)]] = True
            if 2 <= member[s].sum() <= m - 2:
                break
    first = member / member.sum(axis=1, keepdims=True)
    second = ~member / (~member).sum(axis=1, keepdims=True)
    return rows, first, second


class CausIRL(_TrainedLinear):
    """Invariant causal mechanisms through distribution matching (CausIRL; Chevalley et al., 2022).

    A linear model ``f(x) = x @ beta + b`` trained to minimise

        ``mean_e R_e(f) + penalty_weight * D(x @ beta | mixture 1, x @ beta | mixture 2)``

    with ``R_e`` the mean squared error in environment ``e``. Where the usual
    distribution-matching methods match the representation across every pair of environments,
    CausIRL matches it between two random *mixtures* of the environments: each environment's
    rows are cut at a random point and the parts pooled, so that the representation's
    distribution must not depend on how the environments are weighted -- what an intervention
    on the environment variable changes, in the paper's causal model. In this linear model the
    representation is the model's output ``x @ beta`` (a one-dimensional feature layer). ``D``
    is the squared maximum mean discrepancy with a Gaussian kernel (``penalty="mmd"``; the
    kernel and the median heuristic of its width are KCI's) or CORAL (``penalty="coral"``: the squared
    differences of the means and variances). Trained full-batch with optax by IRM's trainer.

    Parameters
    ----------
    penalty : {"mmd", "coral"}, default "mmd"
        The distance between the two mixtures.
    penalty_weight : float, default 1.0
        Its weight after the ``anneal_steps`` steps (the reference implementation's
        ``mmd_gamma``), ``>= 0``; ``0`` gives pooled least squares (with equal weights per
        environment).
    anneal_steps : int, default 0
        Steps with weight 1 before ``penalty_weight`` applies (fresh optimiser state between).
    n_steps : int, default 1000
        Optimiser steps with the full weight.
    solver : {"adam", "lbfgs"}, default "adam"
    learning_rate : float, default 0.05
        Adam's step size (unused by L-BFGS).
    l2 : float, default 0.0
        Ridge penalty on ``beta`` (standardised scale).
    n_splits : int, default 8
        Random splits into two mixtures, drawn once per fit; the penalty is their mean.
    penalty_rows : int, default 512
        The penalty is computed on at most this many rows (drawn once per fit): the MMD costs
        ``n_splits * penalty_rows^2`` per step.
    fit_intercept : bool, default True
    random_state : int, default 0
        Seed of the initial coefficients, the penalty rows and the splits.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    loss_ : float
        The final objective (standardised scale).
    environments_ : list
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    The reference implementation (DomainBed's ``CausIRL_MMD``, ``CausIRL_CORAL``) draws a new
    split of every minibatch at each stochastic gradient step; here the objective is the
    average over ``n_splits`` splits drawn once, a deterministic Monte-Carlo estimate of the
    same expected penalty, so that the full-batch solvers (L-BFGS's line search too) see one
    objective. Its MMD sums Gaussian kernels of seven fixed widths; this uses one, the median
    heuristic of the (z-scored) target, on whose scale the outputs are: a width that does not
    follow the outputs keeps the penalty smooth and lets it see the size of ``beta`` (with the
    median heuristic of the current outputs the penalty is blind to it, and large weights
    ended at sign-flipped coefficients). A large ``penalty_weight`` therefore also shrinks the
    outputs towards their mean, where any shift of the inputs remains. ``X`` and ``y``
    are z-scored before training and the coefficients mapped back, as for :class:`IRM`.
    Without ``environment`` all rows are one environment: both mixtures are the whole data
    and the model is least squares.

    References
    ----------
    M. Chevalley, C. Bunne, A. Krause and S. Bauer. Invariant causal mechanisms through
    distribution matching. arXiv:2206.11646, 2022.

    Examples
    --------
    ``x2`` predicts ``y`` well in the training environments, but its distribution moves with the
    environment; matching the output's distribution moves weight from ``x2`` to ``x1`` (the
    invariant model is ``[1, 0]``):

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> env = np.repeat([0, 1], 1000)
    >>> x1 = rng.normal(size=2000)
    >>> y = x1 + rng.normal(size=2000)
    >>> x2 = y + 0.5 * rng.normal(size=2000) + 2.0 * env          # a child of y, shifted
    >>> X = pd.DataFrame({"x1": x1, "x2": x2})
    >>> CausIRL(penalty_weight=0.0, n_steps=300).fit(X, y, environment=env).coef_.round(2).tolist()  # least squares
    [0.54, 0.45]
    >>> CausIRL(penalty="mmd", penalty_weight=10.0, n_steps=300).fit(X, y, environment=env).coef_.round(2).tolist()
    [0.75, 0.25]
    """

    _weight_param = "penalty_weight"

    _parameter_constraints = {
        "penalty": Options(("mmd", "coral")),
        "penalty_weight": Interval(Real, 0, None, closed="left"),
        "anneal_steps": Interval(Integral, 0, None, closed="left"),
        "n_steps": Interval(Integral, 1, None, closed="left"),
        "solver": Options(("lbfgs", "adam")),
        "learning_rate": Interval(Real, 0, None),
        "l2": Interval(Real, 0, None, closed="left"),
        "n_splits": Interval(Integral, 1, None, closed="left"),
        "penalty_rows": Interval(Integral, 4, None, closed="left"),
        "fit_intercept": Boolean(),
        "random_state": Interval(Integral, 0, None, closed="left"),
    }

    def __init__(
        self,
        *,
        penalty: str = "mmd",
        penalty_weight: float = 1.0,
        anneal_steps: int = 0,
        n_steps: int = 1000,
        solver: str = "adam",
        learning_rate: float = 0.05,
        l2: float = 0.0,
        n_splits: int = 8,
        penalty_rows: int = 512,
        fit_intercept: bool = True,
        random_state: int = 0,
    ):
        self.penalty = penalty
        self.penalty_weight = penalty_weight
        self.anneal_steps = anneal_steps
        self.n_steps = n_steps
        self.solver = solver
        self.learning_rate = learning_rate
        self.l2 = l2
        self.n_splits = n_splits
        self.penalty_rows = penalty_rows
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def fit(self, X, y, *, environment=None) -> CausIRL:
        """Train the distribution-matching linear model.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the target values.
        environment : str or array-like of shape (n_samples,), optional
            A column name of ``X`` or the environment label of every row (keyword only).
            Without it all rows are one environment and the model is (ridge) least squares.

        Returns
        -------
        self

        Raises
        ------
        ParameterError, DataError, UnknownNodeError
            Bad parameters or inputs, as :meth:`IRM.fit`: a single environment label passed
            explicitly, fewer than ``p + 2`` rows with ``l2 = 0``, an unknown column.
        ConvergenceError
            The loss became non-finite or exploded; the message names the step.
        """
        return self._fit_trained(X, y, environment)

    def _train(self, xs: np.ndarray, ys: np.ndarray, codes: np.ndarray, n_env: int):
        import jax
        import jax.numpy as jnp

        from . import _irm_kernels

        rows, first, second = matching_splits(codes, n_env, int(self.n_splits), int(self.penalty_rows), int(self.random_state))
        return _irm_kernels.causirl_train(
            jnp.asarray(xs),
            jnp.asarray(ys),
            jnp.asarray(codes),
            jax.random.key(int(self.random_state)),
            jnp.asarray(rows),
            jnp.asarray(first),
            jnp.asarray(second),
            jnp.asarray(float(self.penalty_weight)),
            jnp.asarray(float(self.learning_rate)),
            jnp.asarray(float(self.l2)),
            jnp.asarray(int(self.n_steps)),
            jnp.asarray(int(self.anneal_steps)),
            n_env=n_env,
            fit_intercept=bool(self.fit_intercept),
            solver=self.solver,
            kind=self.penalty,
        )

