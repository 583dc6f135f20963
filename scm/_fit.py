"""Fitting the mechanisms and noises of an SCM to data on a given graph."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ._exceptions import DataError, ParameterError
from ._graph import as_dag
from ._mechanisms import AdditiveNoise, Discrete, Linear
from ._noise import Empirical, Gaussian
from ._validation import as_dataframe, check_nodes, check_option, check_random_state

__all__ = ["fit_scm", "AUTO_CANDIDATES"]

logger = logging.getLogger(__name__)

#: The small, fast model set that ``mechanism="auto"`` chooses from, simplest first.
AUTO_CANDIDATES = ("linear", "quadratic", "spline")
_MAX_DISCRETE_STATES = 20


def _is_discrete_column(col: pd.Series) -> bool:
    types = pd.api.types
    if isinstance(col.dtype, pd.CategoricalDtype) or types.is_bool_dtype(col) or types.is_object_dtype(col) or types.is_string_dtype(col):
        return True
    return pd.api.types.is_integer_dtype(col) and col.nunique() <= _MAX_DISCRETE_STATES


def _encode_discrete(col: pd.Series):
    """Integer codes 0..k-1 and the state labels of a discrete column."""
    if pd.api.types.is_integer_dtype(col) and col.min() >= 0:
        k = int(col.max()) + 1
        return col.to_numpy(dtype=np.int64), tuple(range(k))
    cat = pd.Categorical(col)
    return cat.codes.astype(np.int64), tuple(cat.categories)


def _ols(P: np.ndarray, y: np.ndarray):
    X = np.column_stack([np.ones(len(y)), P])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return coef[0], coef[1:]


def _regressor(name: str):
    if name == "quadratic":
        return make_pipeline(StandardScaler(), PolynomialFeatures(2, include_bias=False), Ridge(alpha=1e-3))
    if name == "spline":
        return make_pipeline(StandardScaler(), SplineTransformer(n_knots=6, degree=3), Ridge(alpha=1e-3))
    raise ParameterError(f"unknown model {name!r}")  # pragma: no cover


def _auto_choice(P: np.ndarray, y: np.ndarray, rng: np.random.Generator, node) -> str:
    """Pick among AUTO_CANDIDATES by held-out mean squared error; prefer the simpler within 1%."""
    n = len(y)
    if P.shape[1] == 0 or n < 20:
        return "linear"
    # Choose on at most 2,000 training and 1,000 held-out rows; the winner is refit on all rows.
    perm = rng.permutation(n)
    n_te = min(max(n // 5, 1), 1000)
    tr, te = perm[n_te : n_te + 2000], perm[:n_te]
    scores = {}
    b0, b = _ols(P[tr], y[tr])
    scores["linear"] = float(np.mean((y[te] - b0 - P[te] @ b) ** 2))
    for name in AUTO_CANDIDATES[1:]:
        if name == "quadratic" and P.shape[1] > 30:
            continue
        model = _regressor(name).fit(P[tr], y[tr])
        scores[name] = float(np.mean((y[te] - model.predict(P[te])) ** 2))
    best = min(scores.values())
    choice = next(name for name in AUTO_CANDIDATES if name in scores and scores[name] <= best * 1.01 + 1e-12)
    logger.debug("node %r: held-out MSE %s -> %s", node, scores, choice)
    return choice


def fit_scm(graph, data, mechanism="linear", *, noise: str = "empirical", random_state=None):
    """Learn an SCM's mechanisms and noises from data on a fixed graph.

    Parameters
    ----------
    graph : networkx.DiGraph or mapping node -> parents
        The causal DAG; every node must be a column of ``data``.
    data : DataFrame
        Observations. Integer columns with few values, booleans, strings and
        categoricals are discrete: their mechanisms are conditional probability
        tables (maximum likelihood; unseen parent configurations get a uniform row),
        and their parents must be discrete too.
    mechanism : str, regressor or mapping node -> (str or regressor)
        ``"linear"`` (OLS), ``"auto"`` (per node, the best held-out fit among
        linear, quadratic and additive-spline ridge models, preferring the simpler
        within 1%), ``"quadratic"``, ``"spline"``, or any scikit-learn regressor
        (cloned per node); a mapping chooses per node (missing nodes: ``"linear"``).
    noise : {"empirical", "gaussian"}
        Noise of continuous nodes: the resampled residuals, or a Gaussian with the
        residuals' mean and standard deviation.
    random_state : None, int or Generator
        Used by ``"auto"`` for its held-out split.

    Returns
    -------
    SCM

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import SCM
    >>> truth = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"])
    >>> fitted = SCM.fit(truth.graph, truth.sample(2000, random_state=0))
    >>> round(float(fitted.mechanisms["Y"].coefficients["X"]), 1)
    2.0
    """
    # BLAS threads cost far more than they give on these small per-node problems (docs/benchmarks.md,
    # "Design decisions: One BLAS thread while fitting an SCM"); limit them for the duration of the call only.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_scm(graph, data, mechanism=mechanism, noise=noise, random_state=random_state)


def _fit_scm(graph, data, mechanism="linear", *, noise: str = "empirical", random_state=None):
    """Implementation of :func:`fit_scm` (BLAS limits set by the caller)."""
    from ._scm import SCM

    g = as_dag(graph)
    frame = as_dataframe(data, name="data")
    check_nodes(list(g.nodes), frame.columns, what="graph node", where="the data's columns")
    check_option(noise, ("empirical", "gaussian"), name="noise", owner="SCM.fit")
    if len(frame) < 2:
        raise DataError(f"data has {len(frame)} rows; at least 2 are needed to fit an SCM")
    rng = check_random_state(random_state)
    if isinstance(mechanism, Mapping):
        check_nodes(list(mechanism), g, what="node in mechanism")
        choice = {n: mechanism.get(n, "linear") for n in g.nodes}
    else:
        choice = {n: mechanism for n in g.nodes}
    pos = {n: i for i, n in enumerate(g.nodes)}
    discrete = {n: _is_discrete_column(frame[n]) for n in g.nodes}
    codes, states, numeric = {}, {}, {}
    for n in g.nodes:
        col = frame[n]
        if col.isna().any():
            raise DataError(f"data column {n!r} holds NaN; drop or impute missing values first")
        if discrete[n]:
            codes[n], states[n] = _encode_discrete(col)
        else:
            if not pd.api.types.is_numeric_dtype(col):
                raise DataError(f"data column {n!r} must be numeric; got {col.dtype}")
            numeric[n] = col.to_numpy(dtype=float)
            if not np.isfinite(numeric[n]).all():
                raise DataError(f"data column {n!r} holds inf")

    def column(n):
        return codes[n].astype(float) if discrete[n] else numeric[n]

    mechanisms, noises, chosen = {}, {}, {}
    for node in g.nodes:
        parents = sorted(g.predecessors(node), key=pos.__getitem__)
        if discrete[node]:
            cont = [p for p in parents if not discrete[p]]
            if cont:
                raise DataError(
                    f"discrete node {node!r} has continuous parent(s) {cont}; discretise them or give "
                    "the node a numeric dtype"
                )
            cards = [len(states[p]) for p in parents]
            k = len(states[node])
            counts = np.zeros(cards + [k])
            np.add.at(counts, tuple(codes[p] for p in parents) + (codes[node],), 1.0)
            totals = counts.sum(axis=-1, keepdims=True)
            table = np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), 1.0 / k)
            mechanisms[node] = Discrete(table, parents=parents, states=states[node])
            chosen[node] = "discrete"
            continue
        y = numeric[node]
        nonnum = [p for p in parents if not pd.api.types.is_numeric_dtype(frame[p])]
        if nonnum:
            raise DataError(
                f"data column(s) {nonnum} are non-numeric but parents of the continuous node {node!r}; "
                "encode them as numbers (e.g. integer codes or one-hot columns)"
            )
        P = np.column_stack([column(p) for p in parents]) if parents else np.empty((len(y), 0))
        spec = choice[node]
        if isinstance(spec, str):
            check_option(spec, ("linear", "auto", *AUTO_CANDIDATES), name="mechanism", owner="SCM.fit")
            if spec == "auto":
                spec = _auto_choice(P, y, rng, node)
            chosen[node] = spec
            if spec == "linear" or not parents:
                b0, b = _ols(P, y)
                mech = Linear(dict(zip(parents, b)), intercept=b0)
            else:
                mech = AdditiveNoise(_regressor(spec).fit(P, y), parents=parents)
        elif hasattr(spec, "fit") and hasattr(spec, "predict"):
            chosen[node] = type(spec).__name__
            if parents:
                mech = AdditiveNoise(clone(spec).fit(P, y), parents=parents)
            else:
                b0, _ = _ols(P, y)
                mech = Linear({}, intercept=b0)
        else:
            raise ParameterError(
                f"mechanism for node {node!r} must be 'linear', 'auto', 'quadratic', 'spline' or a "
                f"scikit-learn regressor; got {spec!r}"
            )
        resid = y - (mech.mean(P) if hasattr(mech, "mean") else 0.0)
        # Centre additive noise into the intercept of linear mechanisms (residuals of OLS have mean ~0).
        noises[node] = Empirical(resid) if noise == "empirical" else Gaussian(float(resid.std()), float(resid.mean()))
        mechanisms[node] = mech
    model = SCM(g, mechanisms, noises)
    model.fitted_mechanisms_ = chosen
    model.fitted_parents_ = {n: model.parents(n) for n in g.nodes}
    return model
