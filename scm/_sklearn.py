"""scikit-learn estimators built on the scale-safe helpers of :mod:`scm._scale`.

Kept apart from :mod:`scm._scale` so that ``import scm`` does not import scikit-learn (a
large share of the command line's start-up, docs/benchmarks.md, "Start-up of the command
line"): the mechanisms of :func:`scm.fit_scm` and the effect estimators of :mod:`estimators`
import this module when they fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin

from ._scale import pow2, safe_dot, standardise, standardised_lstsq

__all__ = ["Pow2Scaler", "StandardisedOLS"]


class Pow2Scaler(TransformerMixin, BaseEstimator):
    """Divide each column by a power of two near its largest magnitude (exact, so invisible on ordinary data).

    Put in front of a :class:`~sklearn.preprocessing.StandardScaler` it keeps the scaler's moments
    finite for columns near the ends of the float64 range while leaving its output on ordinary
    data unchanged bit for bit.

    Examples
    --------
    >>> Pow2Scaler().fit_transform(np.array([[3.0], [-1.0]])).ravel().tolist()
    [0.75, -0.25]
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.scale_ = pow2(np.abs(X).max(axis=0)) if X.shape[0] else np.ones(X.shape[1])
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) / self.scale_


class StandardisedOLS(RegressorMixin, BaseEstimator):
    """Ordinary least squares with an intercept, solved on standardised columns.

    The same estimator as :class:`~sklearn.linear_model.LinearRegression` (equal to rounding on
    ordinary data), but exact under rescaling of any column by ``10**k``: predictions are formed
    in standardised units and mapped back, so neither the fit nor the predictions overflow, and
    a column of tiny scale is not dropped as rank deficient.

    Attributes
    ----------
    coef_ : array of shape (k,)
        In the data's units (may be ``inf`` where not representable; predictions do not use it).
    intercept_ : float

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]]) * [1e-200, 1e200]
    >>> y = X @ [1e200, 1e-200] + 1.0
    >>> m = StandardisedOLS().fit(X, y)
    >>> np.allclose(m.predict(X), y)
    True
    """

    def fit(self, X, y):
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        sol = standardised_lstsq(X, y)
        self.x_loc_, self.y_loc_, self.y_scale_ = sol["x_loc"], sol["y_loc"], sol["y_scale"]
        self.x_div_ = np.where(sol["x_scale"] > 0, sol["x_scale"], 1.0)
        self.y_mul_ = self.y_scale_ if self.y_scale_ > 0 else 1.0
        self.beta_ = sol["beta"]
        self.n_features_in_ = X.shape[1]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.coef_ = self.beta_ * (self.y_mul_ / self.x_div_)
            self.intercept_ = self.y_loc_ - safe_dot(self.coef_, self.x_loc_) if self.n_features_in_ else self.y_loc_
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            return self.y_loc_ + self.y_mul_ * (standardise(X, self.x_loc_, self.x_div_) @ self.beta_)
