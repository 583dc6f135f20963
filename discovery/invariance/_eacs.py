"""Environment-adaptive covariate selection (EACS; Zuo and Wang, arXiv:2601.02322, 2026).

When some causes of ``y`` are unobserved, a non-causal covariate can be a useful *proxy*
for them, until a shift breaks the proxy relation. No single covariate set is best in every
environment; but shifts leave signatures in the distribution of the covariates alone, which
an unlabeled sample of the target environment reveals. :class:`AdaptiveCovariateSelection`
learns, from labeled training environments, a map from such environment-level summaries to
the covariate set to use, and applies it to the target's own summary.

Phases (functions here):

1. :func:`candidate_sets` -- the covariate sets allowed by the prior knowledge (``required``,
   ``forbidden``);
2. :func:`environment_summaries` -- one vector per environment from its covariates alone
   (means, standard deviations and pairwise correlations, or a user function);
3. :func:`leave_one_environment_out_losses` -- the loss of every candidate set in every
   training environment, the predictor fitted on the *other* environments (as it will be
   applied to an unseen one);
4. the selector: every set's loss in a new environment predicted from its summary (a ridge
   regression on the training environments' summaries, or their nearest neighbours), and the
   set of smallest predicted loss.
"""

from __future__ import annotations

import itertools
import logging
from numbers import Integral, Real

import numpy as np
import pandas as pd

from scm._exceptions import DataError, NotFittedError, UnknownNodeError

from .._base import Interval, Options, ParamsMixin, Satisfies, columns_seen_by_fit
from .._utils import standardize
from ._icp import split_inputs
from ._minimax import _ridge
from ._predictors import _split_xy, _two_dimensional, r2_score

__all__ = ["AdaptiveCovariateSelection", "candidate_sets", "environment_summaries", "leave_one_environment_out_losses"]

logger = logging.getLogger(__name__)


def candidate_sets(columns: list, *, required=(), forbidden=(), max_size: int | None = None) -> list[tuple]:
    """Every covariate set that holds ``required``, avoids ``forbidden`` and has at most ``max_size`` members.

    Raises
    ------
    UnknownNodeError
        ``required`` or ``forbidden`` names a column that does not exist.
    DataError
        A covariate is both required and forbidden.

    Examples
    --------
    >>> candidate_sets(["a", "b", "c"], required=["a"], forbidden=["c"])
    [('a',), ('a', 'b')]
    """
    required, forbidden = list(required), list(forbidden)
    for name, given in (("required", required), ("forbidden", forbidden)):
        unknown = [c for c in given if c not in columns]
        if unknown:
            raise UnknownNodeError(f"{name} names {unknown} that are not covariates (columns: {list(columns)[:10]})")
    both = sorted(set(required) & set(forbidden))
    if both:
        raise DataError(f"covariate(s) {both} are both required and forbidden")
    free = [c for c in columns if c not in required and c not in forbidden]
    top = len(free) if max_size is None else max(0, int(max_size) - len(required))
    sets = []
    for k in range(min(top, len(free)) + 1):
        for extra in itertools.combinations(free, k):
            chosen = set(required) | set(extra)
            sets.append(tuple(c for c in columns if c in chosen))
    return sets


def environment_summaries(values: np.ndarray, codes: np.ndarray, n_env: int) -> np.ndarray:
    """Per environment: the covariates' means, standard deviations and pairwise correlations.

    Parameters
    ----------
    values : ndarray (n, p)
    codes : ndarray (n,) of environment indices in ``[0, n_env)``

    Returns
    -------
    ndarray (n_env, 2 p + p (p - 1) / 2)

    Examples
    --------
    >>> v = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])
    >>> environment_summaries(v, np.array([0, 0, 0, 1, 1, 1]), 2).round(2).tolist()
    [[1.0, 1.0, 0.82, 0.82, 1.0], [1.0, 1.0, 0.82, 0.82, -1.0]]
    """
    p = values.shape[1]
    upper = np.triu_indices(p, 1)
    out = []
    for e in range(n_env):
        v = values[codes == e]
        sd = v.std(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(v, rowvar=False) if p > 1 else np.ones((1, 1))
        corr = np.nan_to_num(np.atleast_2d(corr), nan=0.0)
        out.append(np.concatenate([v.mean(axis=0), sd, corr[upper]]))
    return np.asarray(out)


def _fit_ols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    design = np.column_stack([np.ones(len(y)), x])
    return _ridge(design, y, 1e-8)


def _predict_ols(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    return coef[0] + x @ coef[1:]


def leave_one_environment_out_losses(
    values: np.ndarray, y: np.ndarray, codes: np.ndarray, n_env: int, sets: list[list[int]], estimator=None
) -> np.ndarray:
    """``(n_env, n_sets)`` mean squared errors: set ``s`` fitted on all environments but ``e``, scored on ``e``.

    ``estimator``: None for least squares with an intercept, else a scikit-learn regressor (cloned per fit).
    """
    losses = np.empty((n_env, len(sets)))
    for e in range(n_env):
        train, test = codes != e, codes == e
        for j, cols in enumerate(sets):
            pred = _fit_predict(values[train][:, cols], y[train], values[test][:, cols], estimator)
            losses[e, j] = np.mean((y[test] - pred) ** 2)
    return losses


def _fit_predict(x_train, y_train, x_test, estimator):
    if estimator is None:
        return _predict_ols(_fit_ols(x_train, y_train), x_test)
    from sklearn.base import clone

    if x_train.shape[1] == 0:
        return np.full(len(x_test), y_train.mean())
    return clone(estimator).fit(x_train, y_train).predict(x_test)


class AdaptiveCovariateSelection(ParamsMixin):
    """Environment-adaptive covariate selection (Zuo and Wang, 2026).

    Learns which covariate set predicts ``y`` best in an environment from a summary of that
    environment's covariates, then predicts a target environment with the set its own
    (unlabeled) summary calls for.

    Parameters
    ----------
    required : list of str, default ()
        Covariates every set must hold (e.g. known causes of ``y``).
    forbidden : list of str, default ()
        Covariates no set may hold (e.g. known to be unreliable under every shift).
    max_size : int, optional
        Largest set considered (all sizes by default).
    selector : {"ridge", "neighbors"}, default "ridge"
        How a new environment's losses are predicted from its summary: a ridge regression of
        every set's loss on the (standardised) summaries of the training environments, which
        learns which summary statistics matter; or the mean loss of its ``n_neighbors``
        nearest training environments.
    ridge : float, default 1.0
        The ridge penalty of ``selector="ridge"``.
    n_neighbors : int, default 3
        Training environments whose losses are averaged, for ``selector="neighbors"``.
    summary : callable, optional
        ``summary(values (n, p)) -> 1-D array``: the environment summary; by default means,
        standard deviations and pairwise correlations of the covariates (standardised across
        training environments before the distances are taken).
    estimator : scikit-learn regressor, optional
        The predictor fitted on each set; least squares with an intercept by default.

    Attributes
    ----------
    candidate_sets_ : list of tuple of str
    environment_losses_ : pandas.DataFrame
        Leave-one-environment-out mean squared error of every set (columns) in every
        training environment (rows), in units of the pooled variance of ``y`` (the fits run on
        z-scores, so the choice does not depend on the units of the columns).
    best_sets_ : dict
        The set of smallest loss in each training environment.
    static_set_ : tuple of str
        The set of smallest mean loss over the training environments (the best non-adaptive choice).
    environments_ : list
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Where the paper leaves a choice this implementation decides (see ``docs/invariance.md``):
    the training labels are *leave-one-environment-out* losses (the set is judged as it will
    be used, on an environment it was not fitted to); the selector is cost-sensitive (it
    predicts every set's loss and takes the smallest, so a near-tie between two sets does not
    become a hard label), by default a ridge regression on the standardised summaries; the
    predictor of each set is refitted on all training environments pooled.

    References
    ----------
    S. Zuo and Y. Wang. Environment-adaptive covariate selection: learning when to use
    spurious correlations for out-of-distribution prediction. arXiv:2601.02322, 2026.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frames, ys = [], []
    >>> for e in range(12):
    ...     u, x1 = rng.normal(size=300), rng.normal(size=300)
    ...     broken = e % 2 == 1                                     # a shift that breaks the proxy
    ...     p1 = (rng.normal(size=300) * 2 if broken else u + 0.3 * rng.normal(size=300))
    ...     p2 = u + 0.3 * rng.normal(size=300)
    ...     ys.append(x1 + u + 0.3 * rng.normal(size=300))
    ...     frames.append(pd.DataFrame({"x1": x1, "p1": p1, "p2": p2 * (1 + e % 3), "env": e}))
    >>> X, y = pd.concat(frames, ignore_index=True), np.concatenate(ys)
    >>> model = AdaptiveCovariateSelection(required=["x1"]).fit(X, y, environment="env")
    >>> model.static_set_
    ('x1', 'p2')
    >>> model.selected_set(frames[0].drop(columns="env")), model.selected_set(frames[1].drop(columns="env"))
    (('x1', 'p1', 'p2'), ('x1', 'p2'))
    """

    _estimator_type = "regressor"

    _parameter_constraints = {
        "required": Satisfies(lambda v: isinstance(v, (list, tuple)), "a list of column names"),
        "forbidden": Satisfies(lambda v: isinstance(v, (list, tuple)), "a list of column names"),
        "max_size": Satisfies(
            lambda v: v is None or (isinstance(v, Integral) and not isinstance(v, bool) and v >= 0), "None or an int >= 0"
        ),
        "selector": Options(("ridge", "neighbors")),
        "ridge": Interval(Real, 0, None, closed="left"),
        "n_neighbors": Interval(Integral, 1, None, closed="left"),
        "summary": Satisfies(lambda v: v is None or callable(v), "None or a callable"),
        "estimator": Satisfies(lambda v: v is None or (hasattr(v, "fit") and hasattr(v, "predict")), "None or a scikit-learn regressor"),
    }

    def __init__(
        self,
        *,
        required=(),
        forbidden=(),
        max_size: int | None = None,
        selector: str = "ridge",
        ridge: float = 1.0,
        n_neighbors: int = 3,
        summary=None,
        estimator=None,
    ):
        self.required = required
        self.forbidden = forbidden
        self.max_size = max_size
        self.selector = selector
        self.ridge = ridge
        self.n_neighbors = n_neighbors
        self.summary = summary
        self.estimator = estimator

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "candidate_sets_")

    def fit(self, X, y, *, environment=None) -> AdaptiveCovariateSelection:
        """Learn the map from environment summaries to covariate sets.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the target values.
        environment : str or array-like of shape (n_samples,)
            A column name of ``X`` or the environment of every row; at least two environments
            (three or more for the selector to have something to learn from), each with at
            least two rows.

        Returns
        -------
        self

        Raises
        ------
        DataError
            No environment, a single environment, an environment with fewer than two rows,
            non-numeric or missing values, a covariate both required and forbidden.
        UnknownNodeError
            ``required`` or ``forbidden`` naming an unknown covariate.
        """
        owner = "AdaptiveCovariateSelection"
        self._validate_params()
        _two_dimensional(X, owner)
        frame, target, yv, codes, labels = split_inputs(X, y, environment, owner=owner, min_rows_extra=0, min_environments=2)
        counts = np.bincount(codes)
        if counts.min() < 2:
            raise DataError(f"every environment needs at least two rows; environment {labels[int(np.argmin(counts))]!r} has one")
        frame.columns = list(map(str, frame.columns))
        columns = list(frame.columns)
        sets = candidate_sets(columns, required=list(self.required), forbidden=list(self.forbidden), max_size=self.max_size)
        # z-scores (moments computed without overflow): the losses are in units of var(y) and the
        # selection does not depend on the columns' units
        values, self._x_mean, self._x_scale = standardize(frame.to_numpy(dtype=float), columns, owner=owner)
        ys, y_mean, y_scale = standardize(yv[:, None], [target], owner=owner)
        yv, self._y_mean, self._y_scale = ys[:, 0], float(y_mean[0]), float(y_scale[0])
        n_env = len(labels)
        index = {c: i for i, c in enumerate(columns)}
        cols = [[index[c] for c in s] for s in sets]
        losses = leave_one_environment_out_losses(values, yv, codes, n_env, cols, self.estimator)
        summaries = self._summaries(values, codes, n_env)
        centre, spread = summaries.mean(axis=0), summaries.std(axis=0)
        spread[spread == 0] = 1.0
        self._summary_centre, self._summary_spread = centre, spread
        self._train_summaries = z = (summaries - centre) / spread
        self._losses = losses
        # the ridge map summary -> every set's loss, and its leave-one-environment-out error (hat-matrix shortcut)
        self._loss_mean = losses.mean(axis=0)
        gram = z.T @ z + float(self.ridge) * np.eye(z.shape[1])
        self._loss_weights = np.linalg.solve(gram, z.T @ (losses - self._loss_mean))
        hat = np.einsum("ij,ij->i", z @ np.linalg.inv(gram), z)
        loo = (losses - self._loss_mean - z @ self._loss_weights) / (1.0 - hat + 1.0 / n_env)[:, None]
        self._loss_spread = np.sqrt(np.mean(loo**2, axis=0))
        self._models = {}
        self._values, self._y = values, yv
        self.candidate_sets_ = sets
        self.environments_ = list(labels)
        self.environment_losses_ = pd.DataFrame(
            losses, index=pd.Index(labels, name="environment"), columns=[", ".join(s) if s else "(none)" for s in sets]
        )
        self.best_sets_ = {lab: sets[int(np.argmin(losses[e]))] for e, lab in enumerate(labels)}
        self.static_set_ = sets[int(np.argmin(losses.mean(axis=0)))]
        self.n_features_in_ = len(columns)
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        logger.info("AdaptiveCovariateSelection: %d candidate sets, %d environments; static best %s", len(sets), n_env, self.static_set_)
        return self

    def _summaries(self, values: np.ndarray, codes: np.ndarray, n_env: int) -> np.ndarray:
        if self.summary is None:
            return environment_summaries(values, codes, n_env)
        out = [np.asarray(self.summary(values[codes == e]), dtype=float).ravel() for e in range(n_env)]
        if len({len(o) for o in out}) != 1 or not np.all(np.isfinite(np.concatenate(out))):
            raise DataError("summary must return a finite 1-D array of the same length for every environment")
        return np.asarray(out)

    def _check_fitted(self) -> None:
        if not hasattr(self, "candidate_sets_"):
            raise NotFittedError("This AdaptiveCovariateSelection instance is not fitted yet; call 'fit' first.")

    def _target_values(self, X) -> np.ndarray:
        self._check_fitted()
        _two_dimensional(X, "AdaptiveCovariateSelection")
        values = columns_seen_by_fit(X, list(self.feature_names_in_), "AdaptiveCovariateSelection").to_numpy(dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            return (values - self._x_mean) / self._x_scale

    def set_losses(self, X_target) -> pd.DataFrame:
        """Every candidate set's predicted loss in the environment of ``X_target`` (unlabeled).

        Returns
        -------
        pandas.DataFrame
            Indexed by set; ``loss``: the predicted mean squared error (units of var(y));
            ``spread``: its uncertainty, the root mean squared leave-one-environment-out error
            of the ridge map (``selector="ridge"``) or the standard deviation of the
            neighbours' losses (``"neighbors"``).
        """
        return self._set_losses(self._target_values(X_target))

    def _set_losses(self, values: np.ndarray) -> pd.DataFrame:
        if values.shape[0] < 2:
            raise DataError(f"the target environment needs at least two rows to be summarised; got {values.shape[0]}")
        s = (self._summaries(values, np.zeros(len(values), dtype=int), 1)[0] - self._summary_centre) / self._summary_spread
        if self.selector == "ridge":
            loss, spread = self._loss_mean + s @ self._loss_weights, self._loss_spread
        else:
            dist = np.linalg.norm(self._train_summaries - s, axis=1)
            near = np.argsort(dist, kind="stable")[: min(int(self.n_neighbors), len(dist))]
            loss, spread = self._losses[near].mean(axis=0), self._losses[near].std(axis=0)
        return pd.DataFrame({"loss": loss, "spread": spread}, index=pd.Index(self.candidate_sets_, tupleize_cols=False, name="set"))

    def selected_set(self, X_target) -> tuple:
        """The covariate set chosen for the environment of ``X_target`` (all its rows are one environment)."""
        return self._selected(self._target_values(X_target))

    def _selected(self, values: np.ndarray) -> tuple:
        losses = self._set_losses(values)
        return self.candidate_sets_[int(np.argmin(losses["loss"].to_numpy()))]

    def _model(self, chosen: tuple):
        if chosen not in self._models:
            cols = [list(self.feature_names_in_).index(c) for c in chosen]
            x = self._values[:, cols]
            if self.estimator is None:
                self._models[chosen] = ("ols", _fit_ols(x, self._y))
            elif not cols:
                self._models[chosen] = ("mean", float(self._y.mean()))
            else:
                from sklearn.base import clone

                self._models[chosen] = ("sklearn", clone(self.estimator).fit(x, self._y))
        return self._models[chosen]

    def predict(self, X, *, environment=None) -> np.ndarray:
        """Predict ``y`` in the target environment(s), each with the set its own summary selects.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        environment : array-like of shape (n_samples,), optional
            Labels of several target environments in ``X`` (each summarised and predicted on
            its own); without it all rows are one environment.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        values = self._target_values(X)
        groups = np.zeros(len(values), dtype=int) if environment is None else pd.factorize(np.asarray(environment))[0]
        if len(groups) != len(values):
            raise DataError(f"environment has {len(groups)} labels but X has {len(values)} rows")
        out = np.empty(len(values))
        names = list(self.feature_names_in_)
        for g in np.unique(groups):
            rows = groups == g
            chosen = self._selected(values[rows]) if rows.sum() >= 2 else self.static_set_
            kind, model = self._model(chosen)
            x = values[rows][:, [names.index(c) for c in chosen]]
            if kind == "ols":
                out[rows] = _predict_ols(model, x)
            elif kind == "mean":
                out[rows] = model
            else:
                out[rows] = model.predict(x)
        with np.errstate(over="ignore"):
            return out * self._y_scale + self._y_mean

    def score(self, X, y, sample_weight=None) -> float:
        """The coefficient of determination R² of :meth:`predict` (all rows one target environment)."""
        frame, _, yv = _split_xy(X, y, owner="AdaptiveCovariateSelection")
        return r2_score(yv, self.predict(frame if isinstance(y, str) else X), sample_weight)
