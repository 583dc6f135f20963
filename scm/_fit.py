"""Fitting the mechanisms and noises of an SCM to data on a given graph.

:func:`fit_scm` (``SCM.fit``) runs four phases, each a public function of :mod:`scm`:
:func:`check_fit_data` (the graph against the data; discrete columns become integer
codes), :func:`choose_mechanisms` (the kind of model per node, ``"auto"`` resolved on
held-out rows), :func:`fit_mechanism` (one node on its parents) and :func:`fit_noise`
(one node's residuals).
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from ._cpdag import _extension, _warn_orientation
from ._enumerate import dags_in_class
from ._exceptions import DataError, GraphError, ParameterError
from ._graph import PDAG, as_dag
from ._mechanisms import AdditiveNoise, Discrete, Linear, Mechanism
from ._noise import Empirical, Gaussian, Noise
from ._scale import center_scale, safe_dot, standardise, standardised_lstsq
from ._validation import as_dataframe, check_in_range, check_nodes, check_option, check_random_state

__all__ = ["fit_scm", "check_fit_data", "choose_mechanisms", "fit_mechanism", "fit_noise", "AUTO_CANDIDATES", "ORIENTATIONS"]

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


def _ols(P: np.ndarray, y: np.ndarray, node=None, parents=None):
    """Least squares of ``y`` on ``P`` with an intercept, exact under rescaling of any column.

    Solved on centred, standardised columns (:func:`scm._scale.standardised_lstsq`) and mapped
    back, so a parent scaled by ``1e300`` or ``1e-300`` gets its coefficient (scaled by the
    inverse factor) instead of 0. With ``node`` given, parents that are linear combinations of
    each other raise a :class:`DataError` naming them (their separate effects are not identified).
    """
    sol = standardised_lstsq(P, y, rcond=_COLLINEAR_RCOND, names=parents, y_name=node, owner="SCM.fit")
    k = P.shape[1]
    if node is not None and sol["rank"] < k:
        Xs = standardise(P, sol["x_loc"], sol["x_scale"])
        _, _, vt = np.linalg.svd(Xs, full_matrices=False)
        involved = [parents[j] for j in np.flatnonzero(np.abs(vt[-1]) > 1e-3)]
        raise DataError(
            f"parents {involved} of node {node!r} are linear combinations of each other in the data "
            f"(collinear): their separate effects on {node!r} are not identified; drop one of the edges or "
            "fit on data where they vary independently"
        )
    x_div = np.where(sol["x_scale"] > 0, sol["x_scale"], 1.0)
    y_mul = sol["y_scale"] if sol["y_scale"] > 0 else 1.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        ratio = y_mul / x_div
        # beta * (y / x) unless the ratio itself over- or underflows (scales more than ~1e308 apart)
        coef = np.where(np.isfinite(ratio) & (ratio >= np.finfo(float).tiny), sol["beta"] * ratio, sol["beta"] * y_mul / x_div)
    # A coefficient that underflows to 0 (or to a subnormal, losing its digits) is as unrepresentable as inf.
    coef = np.where((sol["beta"] != 0) & (np.abs(coef) < np.finfo(float).tiny), np.inf, coef)
    intercept = sol["y_loc"] - safe_dot(coef, sol["x_loc"]) if k else sol["y_loc"]
    if node is not None and not (np.isfinite(coef).all() and np.isfinite(intercept)):
        bad = [parents[j] for j in np.flatnonzero(~np.isfinite(coef))]
        what = f"the coefficient(s) of {bad}" if bad else "the intercept"
        raise DataError(
            f"node {node!r}: {what} exceed the float64 range (the scales of {node!r} and its parents differ "
            "by more than ~1e308); rescale the columns"
        )
    return intercept, coef


#: Parents are collinear when the standardised design's singular values span more than 1e7
#: (|correlation| above 1 - 2e-14 for two parents): only numerically exact dependence is refused.
_COLLINEAR_RCOND = 1e-7


def _regressor(name: str):
    # scikit-learn is imported here, not with scm: ``import scm`` stays light for the command line.
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler

    from ._sklearn import Pow2Scaler

    # Pow2Scaler divides by powers of two (exact): StandardScaler's moments stay finite for columns
    # near the ends of the float64 range, and its output on ordinary data is unchanged bit for bit.
    if name == "quadratic":
        return make_pipeline(Pow2Scaler(), StandardScaler(), PolynomialFeatures(2, include_bias=False), Ridge(alpha=1e-3))
    if name == "spline":
        return make_pipeline(Pow2Scaler(), StandardScaler(), SplineTransformer(n_knots=6, degree=3), Ridge(alpha=1e-3))
    raise ParameterError(f"unknown model {name!r}")  # pragma: no cover


def _auto_choice(P: np.ndarray, y: np.ndarray, rng: np.random.Generator, node) -> str:
    """Pick among AUTO_CANDIDATES by held-out mean squared error; prefer the simpler within 1%."""
    n = len(y)
    if P.shape[1] == 0 or n < 20:
        return "linear"
    # The choice is scale-invariant; make it so numerically too: choose on standardised columns, so
    # the held-out errors are in units of y's variance (the 1e-12 tie margin is relative, and nothing
    # overflows for columns near the ends of the float64 range).
    P, y = _standardise(P), _standardise(y)
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


def _standardise(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` per column, overflow-safe; constant columns are only centred."""
    loc, scale = center_scale(x)
    return standardise(x, loc, scale)


def _n_features(spec, k: int) -> int:
    """The number of regression features of a built-in model over ``k`` parents (plus the intercept)."""
    if spec == "quadratic":
        return k + k * (k + 1) // 2
    if spec == "spline":
        return k * 8  # SplineTransformer(n_knots=6, degree=3): n_knots + degree - 1 per parent
    return k


def _check_node_data(data: pd.DataFrame, node, parents: list, spec) -> None:
    """Refuse a continuous node's fit that is underdetermined or that would invent an effect.

    - Every fit needs ``len(parents) + 2`` rows: one per parent, one for the intercept and at least
      one residual degree of freedom for the noise (with fewer, least squares interpolates and the
      noise comes out as ~1e-16). The built-in models refuse below it; a user's regressor, which may
      be regularised, gets a warning. The nearly unregularised quadratic and spline models also warn
      while they have fewer rows than features.
    - A constant parent has an effect that the data cannot identify: any coefficient fits equally
      well, so whatever a fit reported (a zero included) would be invented, and ``do(parent=...)``
      would answer with it. It is refused, naming the parent and the node.
    """
    n, k = len(data), len(parents)
    need = k + 2
    builtin = isinstance(spec, str)
    if n < need:
        msg = (
            f"node {node!r} has {k} parent(s) {parents}: fitting it needs at least {need} rows (one per parent, "
            f"one for the intercept and at least one residual degree of freedom for its noise); data has {n}"
        )
        if builtin:
            raise DataError(msg)
        warnings.warn(f"{msg}; the fitted noise of {node!r} is unreliable", UserWarning, stacklevel=4)
    elif builtin and spec in ("quadratic", "spline") and n < _n_features(spec, k) + 2:
        warnings.warn(
            f"node {node!r}: the {spec} model has {_n_features(spec, k)} features for {n} rows, so its ridge fit "
            f"nearly interpolates and the noise of {node!r} is underestimated; use more rows or mechanism='linear'",
            UserWarning,
            stacklevel=4,
        )
    for p in parents:
        col = data[p].to_numpy(dtype=float)
        if col.size and col.min() == col.max():
            raise DataError(
                f"parent {p!r} of node {node!r} is constant in the data (every row is {col[0]:g}): its effect on "
                f"{node!r} is not identified, so any fitted value would be invented and do({p}=...) would move "
                f"{node!r} by it; drop the edge {p!r} -> {node!r} or fit on data where {p!r} varies"
            )


def _parents_in_order(g, node) -> list:
    """The parents of ``node`` in the graph's node order (the order a fitted mechanism reads them)."""
    pos = {n: i for i, n in enumerate(g.nodes)}
    return sorted(g.predecessors(node), key=pos.__getitem__)


def _design(data: pd.DataFrame, parents: list) -> np.ndarray:
    """The ``(n, k)`` float array of the parents' columns (integer codes for discrete parents)."""
    return np.column_stack([data[p].to_numpy(dtype=float) for p in parents]) if parents else np.empty((len(data), 0))


# --------------------------------------------------------------------------- the data the phases read
def _data_frame(data, nodes: list) -> pd.DataFrame:
    """``data`` as a DataFrame with unique column names that holds every node of ``nodes``."""
    frame = as_dataframe(data, name="data")
    check_nodes(nodes, frame.columns, what="graph node", where="the data's columns")
    return frame


def _continuous_column(frame: pd.DataFrame, n, hint: str = "") -> np.ndarray:
    """The values of a continuous node as floats, or a DataError naming the column (non-numeric, NaN, inf)."""
    col = frame[n]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise DataError(f"data column {n!r} must be numeric; got {col.dtype}{hint}")
    values = col.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        what = "NaN" if np.isnan(values).any() else "inf"
        raise DataError(f"data column {n!r} holds {what}" + ("; drop or impute missing values first" if what == "NaN" else ""))
    return values


def _check_phase_data(g: nx.DiGraph, data, nodes, states: Mapping) -> pd.DataFrame:
    """Check the data a fitting phase reads: the columns of ``nodes``, as :func:`check_fit_data` leaves them.

    The one check that :func:`choose_mechanisms`, :func:`fit_mechanism` and :func:`fit_noise` run on
    their ``data`` (:func:`fit_scm` runs :func:`check_fit_data` once instead, and the phases'
    unchecked implementations). A DataFrame (an array gets the names ``X0, X1, ...``) with unique
    column names holding every node in ``nodes``; a discrete node (in ``states``) holds integer
    codes ``0..k-1`` of its ``k`` states, any other node finite numbers. Errors name the column.
    """
    frame = _data_frame(data, list(nodes))
    hint = " (encode discrete columns with check_fit_data and pass its states)"
    for n in nodes:
        if n in states:
            col = frame[n]
            k = len(states[n])
            values = col.to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(col) else None
            ok = values is not None and bool(np.all((values == np.round(values)) & (values >= 0) & (values < k)))
            if not ok:
                raise DataError(
                    f"data column {n!r} of the discrete node {n!r} must hold its integer codes 0..{k - 1} "
                    f"(as check_fit_data encodes them); got {col.dtype} values outside them"
                )
        else:
            _continuous_column(frame, n, hint)
    return frame


# --------------------------------------------------------------------------- phases
def check_fit_data(graph, data) -> tuple[nx.DiGraph, pd.DataFrame, dict]:
    """Check a graph against data and encode the data for fitting (the first phase of :func:`fit_scm`).

    Integer columns with few values (at most 20), booleans, strings and categoricals
    are discrete: they become integer codes ``0..k-1``; the other columns must be
    numeric and finite. A discrete node must have discrete parents only, and a
    continuous node numeric parents only.

    Parameters
    ----------
    graph : networkx.DiGraph or mapping node -> parents
        The causal DAG; every node must be a column of ``data``.
    data : DataFrame
        Observations (at least 2 rows, no NaN).

    Returns
    -------
    dag : networkx.DiGraph
        The graph as a validated DAG.
    encoded : DataFrame
        One column per node, in the graph's node order: integer codes for discrete
        nodes, floats for continuous ones.
    states : dict
        ``{node: state labels}`` for the discrete nodes (code ``i`` is ``states[node][i]``).

    Raises
    ------
    DataError
        Naming the column: NaN or inf, a non-numeric continuous column, a discrete
        node with continuous parents, a continuous node with non-numeric parents, or
        fewer than 2 rows.
    UnknownNodeError
        If a node of the graph is not a column.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> data = pd.DataFrame({"smoker": ["no", "yes", "yes"], "cough": [0, 1, 1], "age": [30, 50, 41.5]})
    >>> dag, encoded, states = check_fit_data(nx.DiGraph([("smoker", "cough"), ("age", "age_next")]), data.assign(age_next=data.age + 1))
    >>> encoded.dtypes.to_dict()
    {'smoker': dtype('int64'), 'cough': dtype('int64'), 'age': dtype('float64'), 'age_next': dtype('float64')}
    >>> states
    {'smoker': ('no', 'yes'), 'cough': (0, 1)}
    """
    g = as_dag(graph)
    frame = _data_frame(data, list(g.nodes))
    if len(frame) < 2:
        raise DataError(f"data has {len(frame)} rows; at least 2 are needed to fit an SCM")
    columns, states = {}, {}
    for n in g.nodes:
        col = frame[n]
        if col.isna().any():
            raise DataError(f"data column {n!r} holds NaN; drop or impute missing values first")
        if _is_discrete_column(col):
            columns[n], states[n] = _encode_discrete(col)
        else:
            columns[n] = _continuous_column(frame, n)
    for node in g.nodes:
        parents = _parents_in_order(g, node)
        if node in states:
            cont = [p for p in parents if p not in states]
            if cont:
                raise DataError(
                    f"discrete node {node!r} has continuous parent(s) {cont}; discretise them or give "
                    "the node a numeric dtype"
                )
            continue
        nonnum = [p for p in parents if not pd.api.types.is_numeric_dtype(frame[p])]
        if nonnum:
            raise DataError(
                f"data column(s) {nonnum} are non-numeric but parents of the continuous node {node!r}; "
                "encode them as numbers (e.g. integer codes or one-hot columns)"
            )
    return g, pd.DataFrame(columns, index=frame.index), states


def choose_mechanisms(graph, data, mechanism="linear", *, states=None, random_state=None) -> dict:
    """The kind of mechanism to fit at each node (the second phase of :func:`fit_scm`).

    Discrete nodes get ``"discrete"`` (a conditional probability table). Continuous
    nodes get what ``mechanism`` asks for; ``"auto"`` is resolved here, per node, to
    the best held-out fit among :data:`AUTO_CANDIDATES` (linear, quadratic and
    additive-spline ridge models), preferring the simpler within 1% of the best
    mean squared error, chosen on at most 2,000 training and 1,000 held-out rows.

    Parameters
    ----------
    graph : networkx.DiGraph
        The DAG from :func:`check_fit_data`.
    data : DataFrame
        The encoded data from :func:`check_fit_data`.
    mechanism : str, regressor or mapping node -> (str or regressor)
        ``"linear"``, ``"auto"``, ``"quadratic"``, ``"spline"`` or a scikit-learn
        regressor; a mapping chooses per node (missing nodes: ``"linear"``).
    states : dict, optional
        The discrete nodes' states from :func:`check_fit_data` (default: none discrete).
    random_state : None, int or numpy.random.Generator
        The held-out splits of ``"auto"`` (drawn node by node, in the graph's order).

    Returns
    -------
    dict
        ``{node: "discrete" | "linear" | "quadratic" | "spline" | regressor}`` in the
        graph's node order (a regressor is returned as given, unfitted).

    Raises
    ------
    ParameterError
        An unknown option or an object that is not a regressor (the node is named).
    UnknownNodeError
        A node of the ``mechanism`` mapping that is not in the graph, a node of the graph that
        is not a column of ``data``.
    DataError
        Naming the column, data that are not as :func:`check_fit_data` leaves them: duplicated
        column names, a non-numeric, NaN or inf column of a continuous node, codes outside a
        discrete node's states. For an ``"auto"`` node, as in :func:`fit_mechanism`: too few
        rows, or a constant parent.

    Notes
    -----
    The choice is made on standardised columns, so it does not change when a column is
    multiplied by a constant.

    Examples
    --------
    >>> import networkx as nx, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500)
    >>> data = pd.DataFrame({"X": x, "Y": 2 * x + 0.1 * rng.normal(size=500), "Z": x**2 + 0.1 * rng.normal(size=500)})
    >>> dag, encoded, states = check_fit_data(nx.DiGraph([("X", "Y"), ("X", "Z")]), data)
    >>> choose_mechanisms(dag, encoded, "auto", states=states, random_state=0)
    {'X': 'linear', 'Y': 'linear', 'Z': 'quadratic'}
    """
    g = as_dag(graph)
    states = {} if states is None else states
    data = _check_phase_data(g, data, list(g.nodes), states)
    return _choose_mechanisms(g, data, mechanism, states, random_state)


def _choose_mechanisms(g: nx.DiGraph, data: pd.DataFrame, mechanism, states: Mapping, random_state) -> dict:
    """:func:`choose_mechanisms` on a checked DAG and checked data."""
    rng = check_random_state(random_state)
    if isinstance(mechanism, Mapping):
        check_nodes(list(mechanism), g, what="node in mechanism")
        requested = {n: mechanism.get(n, "linear") for n in g.nodes}
    else:
        requested = {n: mechanism for n in g.nodes}
    choice = {}
    for node in g.nodes:
        if node in states:
            choice[node] = "discrete"
            continue
        spec = requested[node]
        if isinstance(spec, str):
            check_option(spec, ("linear", "auto", *AUTO_CANDIDATES[1:]), name="mechanism", owner="SCM.fit")
            if spec == "auto":
                parents = _parents_in_order(g, node)
                _check_node_data(data, node, parents, spec)
                spec = _auto_choice(_design(data, parents), data[node].to_numpy(dtype=float), rng, node)
        elif not (hasattr(spec, "fit") and hasattr(spec, "predict")):
            raise ParameterError(
                f"mechanism for node {node!r} must be 'linear', 'auto', 'quadratic', 'spline' or a "
                f"scikit-learn regressor; got {spec!r}"
            )
        choice[node] = spec
    return choice


def fit_mechanism(graph, data, node, spec="linear", *, states=None) -> Mechanism:
    """Fit the mechanism of one node on its parents (the third phase of :func:`fit_scm`).

    Parameters
    ----------
    graph : networkx.DiGraph
        The DAG; the mechanism reads the node's parents in the graph's node order.
    data : DataFrame
        The encoded data from :func:`check_fit_data`.
    node
        The node to fit.
    spec : {"linear", "quadratic", "spline", "discrete"} or regressor
        As chosen by :func:`choose_mechanisms`. ``"linear"``: ordinary least squares
        (:class:`Linear`); ``"quadratic"`` / ``"spline"``: a ridge regression on
        polynomial or spline features, and a regressor (cloned, then fitted), as an
        :class:`AdditiveNoise` mechanism (a node without parents gets its mean as a
        :class:`Linear` intercept); ``"discrete"``: the maximum-likelihood
        :class:`Discrete` table (unseen parent configurations get a uniform row).
    states : dict, optional
        The discrete nodes' states from :func:`check_fit_data`; needed for ``"discrete"``.

    Returns
    -------
    Mechanism

    Raises
    ------
    ParameterError
        An unknown ``spec``, ``"discrete"`` for a continuous node or another spec for a
        discrete one.
    UnknownNodeError
        ``node`` is not in the graph, or it or a parent is not a column of ``data``.
    DataError
        Naming the column, data that are not as :func:`check_fit_data` leaves them (the check
        :func:`choose_mechanisms` and :func:`fit_noise` run too): duplicated column names, a
        non-numeric, NaN or inf column of the node or a continuous parent, codes outside a
        discrete node's states. Naming the node (and parents), for a continuous node:

        - fewer than ``len(parents) + 2`` rows (one per parent, one for the intercept, at
          least one residual degree of freedom for the noise), which the built-in models
          refuse; a scikit-learn regressor, which may be regularised, gets a ``UserWarning``
          instead, as do the nearly unregularised ``"quadratic"`` and ``"spline"`` models
          while they have fewer rows than features;
        - a parent that is constant in the data. Its effect is not identified: every
          coefficient fits the data equally well, so a fitted one (zero included) would be
          invented, and ``do(parent=...)`` on the fitted model would answer with it. An
          error rather than a zero with a warning, because a model that silently claims
          "no effect" is as wrong as one that claims any other; drop the edge or fit on
          data where the parent varies;
        - ``"linear"``: parents that are exactly collinear (their separate effects are not
          identified either), or coefficients beyond the float64 range.

    Notes
    -----
    ``"linear"`` is solved on centred, standardised columns and mapped back, so multiplying
    any column by ``10**k`` rescales the intercept and weights exactly (to rounding), instead
    of losing a column of extreme scale as "rank deficient". ``"quadratic"`` and ``"spline"``
    divide each column by a power of two before their scaler (exact, and invisible on
    ordinary data) so that columns near the float64 range keep finite moments.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> data = pd.DataFrame({"X": [0.0, 1.0, 2.0, 3.0], "Y": [1.0, 3.0, 5.0, 7.0]})
    >>> fit_mechanism(nx.DiGraph([("X", "Y")]), data, "Y")
    Linear({'X': 2.0}, intercept=1)
    """
    g = as_dag(graph)
    check_nodes([node], g)
    states = {} if states is None else states
    data = _check_phase_data(g, data, [*_parents_in_order(g, node), node], states)
    return _fit_mechanism(g, data, node, spec, states)


def _fit_mechanism(g: nx.DiGraph, data: pd.DataFrame, node, spec, states: Mapping) -> Mechanism:
    """:func:`fit_mechanism` on a checked DAG and checked data."""
    parents = _parents_in_order(g, node)
    if isinstance(spec, str):
        check_option(spec, ("linear", *AUTO_CANDIDATES[1:], "discrete"), name="spec", owner="fit_mechanism")
    if (spec == "discrete") != (node in states):
        raise ParameterError(
            f"node {node!r} is {'discrete' if node in states else 'continuous'}: "
            f"{'only' if node in states else 'not'} spec='discrete' fits it; got {spec!r}"
        )
    if node in states:
        cards = [len(states[p]) for p in parents]
        k = len(states[node])
        counts = np.zeros(cards + [k])
        np.add.at(counts, tuple(data[p].to_numpy(dtype=np.int64) for p in parents) + (data[node].to_numpy(dtype=np.int64),), 1.0)
        totals = counts.sum(axis=-1, keepdims=True)
        table = np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), 1.0 / k)
        return Discrete(table, parents=parents, states=states[node])
    if not isinstance(spec, str) and not (hasattr(spec, "fit") and hasattr(spec, "predict")):
        raise ParameterError(f"spec for node {node!r} must be 'linear', 'quadratic', 'spline', 'discrete' or a regressor; got {spec!r}")
    _check_node_data(data, node, parents, spec)
    y = data[node].to_numpy(dtype=float)
    P = _design(data, parents)
    if isinstance(spec, str):
        if spec == "linear" or not parents:
            b0, b = _ols(P, y, node, parents)
            return Linear(dict(zip(parents, b)), intercept=b0)
        return AdditiveNoise(_regressor(spec).fit(P, y), parents=parents)
    if parents:
        from sklearn.base import clone

        return AdditiveNoise(clone(spec).fit(P, y), parents=parents)
    b0, _ = _ols(P, y)
    return Linear({}, intercept=b0)


def fit_noise(graph, data, node, mechanism: Mechanism, kind: str = "empirical") -> Noise:
    """The noise of one node given its fitted mechanism (the last phase of :func:`fit_scm`).

    The residuals ``value - mechanism.mean(parents)`` of a continuous node become its
    noise: resampled as they are (``"empirical"``) or a Gaussian with their mean and
    standard deviation (``"gaussian"``). A :class:`Discrete` node keeps the uniform
    noise of its table's coupling: there is nothing to fit.

    Parameters
    ----------
    graph : networkx.DiGraph
        The DAG.
    data : DataFrame
        The encoded data from :func:`check_fit_data`.
    node
        The node.
    mechanism : Mechanism
        Its fitted mechanism (:func:`fit_mechanism`).
    kind : {"empirical", "gaussian"}

    Returns
    -------
    Noise

    Raises
    ------
    UnknownNodeError
        ``node`` is not in the graph, or it or a parent is not a column of ``data``.
    DataError
        Naming the column, as in :func:`fit_mechanism`: duplicated column names, a
        non-numeric, NaN or inf column of the node or a parent; residuals beyond the
        float64 range.

    Examples
    --------
    >>> import networkx as nx, pandas as pd
    >>> data = pd.DataFrame({"X": [0.0, 1.0, 2.0, 3.0], "Y": [1.5, 2.5, 5.5, 6.5]})
    >>> g = nx.DiGraph([("X", "Y")])
    >>> mech = fit_mechanism(g, data, "Y")
    >>> mech
    Linear({'X': 1.8}, intercept=1.3)
    >>> fit_noise(g, data, "Y", mech).values.round(4)  # the residuals, resampled
    array([ 0.2, -0.6,  0.6, -0.2])
    >>> round(fit_noise(g, data, "Y", mech, "gaussian").std, 4)  # or a Gaussian of their mean and std
    0.4472
    """
    check_option(kind, ("empirical", "gaussian"), name="noise", owner="SCM.fit")
    if isinstance(mechanism, Discrete):
        return mechanism.default_noise()
    g = as_dag(graph)
    check_nodes([node], g)
    data = _check_phase_data(g, data, [*_parents_in_order(g, node), node], {})
    return _fit_noise(g, data, node, mechanism, kind)


def _fit_noise(g: nx.DiGraph, data: pd.DataFrame, node, mechanism: Mechanism, kind: str) -> Noise:
    """:func:`fit_noise` on a checked DAG and checked data."""
    if isinstance(mechanism, Discrete):
        return mechanism.default_noise()
    y = data[node].to_numpy(dtype=float)
    P = _design(data, _parents_in_order(g, node))
    with np.errstate(over="ignore", invalid="ignore"):
        resid = y - (mechanism.mean(P) if hasattr(mechanism, "mean") else 0.0)
    if not np.isfinite(resid).all():
        raise DataError(
            f"the residuals of node {node!r} are beyond the float64 range (about 1.8e308): its values span too much "
            "for its noise to be represented; rescale the column"
        )
    return _noise_from_residuals(resid, kind, node)


def _noise_from_residuals(resid: np.ndarray, kind: str, node) -> Noise:
    """A node's noise from its (finite) residuals: resampled as they are, or a Gaussian of their moments."""
    # Centre additive noise into the intercept of linear mechanisms (residuals of OLS have mean ~0).
    if kind == "empirical":
        return Empirical(resid)
    loc, scale = center_scale(resid, [node], owner="fit_noise", what="residuals of node")
    return Gaussian(float(scale), float(loc))  # overflow-safe: residuals of 1e300 keep a finite std


# --------------------------------------------------------------------------- composed
#: The values of ``orientation``: what :func:`fit_scm` does with the undirected edges of a CPDAG.
ORIENTATIONS = ("refuse", "all", "extension")


def fit_scm(graph, data, mechanism="linear", *, noise: str = "empirical", random_state=None, orientation: str = "refuse",
            limit: int = 100):
    """Learn an SCM's mechanisms and noises from data on a fixed graph.

    Four phases, each a public function: :func:`check_fit_data` (the graph against
    the data, discrete columns encoded), :func:`choose_mechanisms` (the kind of model
    per node, ``"auto"`` resolved), :func:`fit_mechanism` (each node on its parents)
    and :func:`fit_noise` (each node's residuals).

    Parameters
    ----------
    graph : networkx.DiGraph, scm.PDAG or mapping node -> parents
        The causal DAG, or a CPDAG (see ``orientation``); every node must be a column of
        ``data``.
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
        Used by ``"auto"`` for its held-out split (the same split for every member of a
        class).
    orientation : {"refuse", "all", "extension"}
        What to do with the undirected edges of a CPDAG, which stands for several DAGs
        whose interventional answers differ. ``"refuse"`` (the default): a
        :class:`GraphError` naming them. ``"all"``: fit one model per DAG of the class
        (:func:`scm.dags_in_class`) and return an :class:`SCMClass`, whose queries answer
        with the value of every member and their range (also for a DAG: a class of one).
        ``"extension"``: fit one DAG of the class (:func:`consistent_extension`), chosen
        arbitrarily; an :class:`OrientationWarning` lists the edges it oriented.
    limit : int
        ``orientation="all"``: the most DAGs fitted; a larger class is refused (the
        possible effects of one treatment are then better asked of
        :func:`estimators.ida`, which looks at the treatment's neighbourhood only).

    Returns
    -------
    SCM or SCMClass
        An :class:`SCMClass` with ``orientation="all"``, else an SCM. A fitted SCM remembers
        its fit recipe (the graph, a private copy of the encoded data, the mechanism spec, the
        noise kind and the seed), so that its queries can refit it on resamples of the data:
        ``n_bootstrap=`` of :meth:`SCM.interventional_mean`, :meth:`SCM.interventional_quantity`,
        :meth:`SCM.counterfactual` and :func:`estimators.effect` gives their answers a standard
        error and an interval. The copy is made once; the caller's frame is neither kept nor
        changed. Models derived from it by :meth:`SCM.do` have no recipe.

    Raises
    ------
    DataError
        Naming the column or node: NaN, inf or non-numeric data (:func:`check_fit_data`);
        too few rows for a node, a constant parent or collinear parents
        (:func:`fit_mechanism` says why each is refused).
    GraphError
        A CPDAG with ``orientation="refuse"``, a class larger than ``limit``, a PDAG that
        represents no DAG, or bidirected edges.
    UnknownNodeError, CycleError, ParameterError
        A node that is not a column, a cyclic graph, an unknown option.

    Examples
    --------
    >>> import networkx as nx
    >>> from scm import SCM
    >>> truth = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"])
    >>> fitted = SCM.fit(truth.graph, truth.sample(2000, random_state=0))
    >>> round(float(fitted.mechanisms["Y"].coefficients["X"]), 1)
    2.0

    A CPDAG is refused unless ``orientation`` says what to do with its undirected edges:

    >>> from scm import cpdag
    >>> SCM.fit(cpdag(truth.graph), truth.sample(2000, random_state=0))
    Traceback (most recent call last):
    ...
    scm._exceptions.GraphError: graph is a CPDAG with 1 undirected edge(s) (X - Y): ...
    >>> SCM.fit(cpdag(truth.graph), truth.sample(2000, random_state=0), orientation="all")
    SCMClass(2 DAGs over 2 nodes)
    """
    check_option(orientation, ORIENTATIONS, name="orientation", owner="SCM.fit")
    if isinstance(graph, PDAG) and graph.undirected_edges and not graph.bidirected_edges:
        if orientation == "refuse":
            pos = {v: i for i, v in enumerate(graph.nodes)}
            shown = [" - ".join(map(str, sorted(e, key=pos.__getitem__))) for e in graph.undirected_edges]
            shown = sorted(shown)
            raise GraphError(
                f"graph is a CPDAG with {len(shown)} undirected edge(s) ({', '.join(shown[:10])}"
                f"{', ...' if len(shown) > 10 else ''}): it stands for several DAGs whose interventional answers differ. "
                "Pass orientation='all' to fit one model per DAG of the class (answers as ranges), orientation='extension' "
                "to fit one arbitrarily chosen DAG (with an OrientationWarning), or ask estimators.ida for the possible effects"
            )
        if orientation == "extension":
            graph, chosen = _extension(graph)
            _warn_orientation(chosen, "SCM.fit(orientation='extension')", stacklevel=3)
    if orientation == "all":
        return _fit_class(graph, data, mechanism=mechanism, noise=noise, random_state=random_state, limit=limit)
    # BLAS threads cost far more than they give on these small per-node problems (docs/benchmarks.md,
    # "Design decisions: One BLAS thread while fitting an SCM"); limit them for the duration of the call only.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_scm(graph, data, mechanism=mechanism, noise=noise, random_state=random_state)


def _fit_class(graph, data, *, mechanism, noise, random_state, limit: int):
    """``orientation="all"``: one model per DAG of the class of ``graph``, as an :class:`SCMClass`."""
    from ._scmclass import SCMClass

    check_in_range(limit, name="limit", low=1, inclusive="left", integer=True, owner="SCM.fit")
    if isinstance(graph, PDAG) and not graph.bidirected_edges:
        directed = nx.DiGraph(list(graph.directed_edges))
        directed.add_nodes_from(graph.nodes)
        as_dag(directed)  # a directed cycle is a CycleError naming it, before the enumeration
        pdag = graph
        try:
            dags = dags_in_class(graph, limit=limit)
        except GraphError as exc:
            if "more than" not in str(exc):
                raise
            raise GraphError(
                f"the class of this CPDAG has more than limit={limit} DAGs: raise 'limit' to fit them all, or ask "
                "estimators.ida for the possible effects of one treatment (it looks only at the treatment's neighbours)"
            ) from None
        if not dags:
            raise GraphError("the graph represents no DAG: every orientation of its undirected edges adds a directed cycle "
                             "or a v-structure it does not have")
    else:
        dag = as_dag(graph)
        pdag, dags = PDAG(dag.nodes, dag.edges), [dag]
    seed = int(check_random_state(random_state).integers(2**31 - 1))  # one split for every member
    logger.info("fitting %d models, one per DAG of the class", len(dags))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        models = [_fit_scm(d, data, mechanism=mechanism, noise=noise, random_state=seed) for d in dags]
    return SCMClass(models, pdag=pdag)


def _fit_scm(graph, data, mechanism="linear", *, noise: str = "empirical", random_state=None):
    """Implementation of :func:`fit_scm` (BLAS limits set by the caller)."""
    from ._scm import SCM

    check_option(noise, ("empirical", "gaussian"), name="noise", owner="SCM.fit")
    g, encoded, states = check_fit_data(graph, data)
    recipe = _FitRecipe.build(g, encoded, states, mechanism, noise, random_state)
    choice, mechanisms, noises = _fit_phases(g, encoded, states, mechanism, noise, random_state)
    model = SCM(g, mechanisms, noises)
    model.fitted_mechanisms_ = {node: c if isinstance(c, str) else type(c).__name__ for node, c in choice.items()}
    model.fitted_parents_ = {n: model.parents(n) for n in g.nodes}
    model._recipe = recipe
    return model


def _fit_phases(g, encoded: pd.DataFrame, states: dict, mechanism, noise: str, random_state):
    """The last three phases of :func:`fit_scm` on encoded data: the choice, the mechanisms and the noises.

    :func:`check_fit_data` has checked the graph and the data (once, for the fit and every bootstrap refit
    of its rows): the phases' implementations skip their checks.
    """
    choice = _choose_mechanisms(g, encoded, mechanism, states, random_state)
    mechanisms = {node: _fit_mechanism(g, encoded, node, choice[node], states) for node in g.nodes}
    noises = {node: _fit_noise(g, encoded, node, mechanisms[node], noise) for node in g.nodes}
    return choice, mechanisms, noises


@dataclass(frozen=True)
class _FitRecipe:
    """What :func:`fit_scm` did, so that it can be done again on a resample of the rows (the bootstrap).

    ``graph`` is a copy of the DAG at fit time and ``data`` a private copy of the encoded data
    (made once, at fit time: the caller's frame is neither kept nor changed); ``states`` are the
    discrete nodes' state labels of the full data, kept for every resample (a state absent from a
    resample keeps its place in the table). ``mechanism`` is the spec as given (regressors
    cloned) and ``random_state`` the seed of the fit as given (a Generator is copied before use).
    """

    graph: nx.DiGraph
    data: pd.DataFrame
    states: dict
    mechanism: object
    noise: str
    random_state: object

    @classmethod
    def build(cls, g, encoded, states, mechanism, noise, random_state) -> _FitRecipe:
        if isinstance(mechanism, Mapping):
            spec = {node: _copy_spec(s) for node, s in mechanism.items()}
        else:
            spec = _copy_spec(mechanism)
        seed = copy.deepcopy(random_state) if isinstance(random_state, np.random.Generator) else random_state
        return cls(g.copy(), encoded.reset_index(drop=True).copy(deep=True), dict(states), spec, noise, seed)

    @property
    def n_rows(self) -> int:
        return len(self.data)

    def is_linear(self) -> bool:
        """Whether every refit is ordinary least squares: continuous nodes only, ``"linear"`` at every node."""
        if self.states:
            return False
        if isinstance(self.mechanism, Mapping):
            return all(isinstance(s, str) and s == "linear" for s in self.mechanism.values())
        return isinstance(self.mechanism, str) and self.mechanism == "linear"

    def refit(self, rows=None, random_state=None):
        """The recipe on the rows ``rows`` of the data (all rows when None): a new :class:`SCM`.

        Raises what :func:`fit_scm` raises on such data (a constant parent in a small resample, ...).
        """
        from ._scm import SCM

        data = self.data if rows is None else self.data.take(rows).reset_index(drop=True)
        _, mechanisms, noises = _fit_phases(self.graph, data, self.states, self.mechanism, self.noise, random_state)
        return SCM(self.graph, mechanisms, noises)


def _copy_spec(spec):
    """A mechanism spec as the recipe keeps it: a string as is, a regressor cloned (later changes to it do not leak in)."""
    if isinstance(spec, str) or not hasattr(spec, "get_params"):
        return spec
    from sklearn.base import clone

    return clone(spec)
