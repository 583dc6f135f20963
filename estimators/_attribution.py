"""Attribution on a structural causal model: anomaly scores, root causes of anomalies and of distribution changes,
arrow strength, intrinsic causal influence and unit-level contributions.

Every function here takes an :class:`scm.SCM` (built by hand or fitted by :meth:`scm.SCM.fit`) and
answers with pandas objects. The definitions follow DoWhy-GCM (Blöbaum et al.), so the numbers can
be checked against it (``tests/estimators/test_attribution_dowhy.py``); how each is computed is
scmkit's own:

- **The target as a function of the noise.** Every question below is about one target node ``Y``
  and the noise terms of ``Y`` and its ancestors (the *players*). The model is reduced to the map
  ``noise -> Y`` once; when every player's mechanism is linear, that map is ``Y = a @ (noise + c)``
  with ``a`` the total effects of the noises, and most answers are then exact (closed forms or
  one matrix product) instead of Monte-Carlo.
- **Shapley values** (:mod:`estimators._shapley`): exact for up to 12 players, permutation sampling
  in antithetic pairs beyond; the set function is evaluated for a whole batch of coalitions at once.
- **Uncertainty.** A result carries its Monte-Carlo standard error (batch means over the
  set function's draws plus the permutation-sampling error) and, with ``n_bootstrap >= 2`` on a
  model fitted by :meth:`scm.SCM.fit`, a percentile interval from refits of the model on resamples
  of its data (the machinery of :meth:`scm.SCM.interventional_quantity`); a model given by hand
  gets a normal interval from its Monte-Carlo error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd

from scm import SCM, DataError, GraphError, NotFittedError, ParameterError, UnknownNodeError
from scm._bootstrap import Query, answer_query, check_alpha, check_n_bootstrap, seed_sequence
from scm._mechanisms import AdditiveNoise, Linear, Shifted
from scm._noise import Empirical, Gaussian, ScipyNoise
from scm._validation import as_dataframe, check_in_range, check_memory, check_nodes, check_option, check_random_state

from ._divergence import gaussian_kl, knn_kl
from ._shapley import MAX_EXACT_PLAYERS, shapley_values

__all__ = [
    "AttributionResult",
    "anomaly_scores",
    "attribute_anomalies",
    "attribute_distribution_change",
    "arrow_strength",
    "intrinsic_causal_influence",
    "unit_contributions",
    "mechanism_change_test",
]

logger = logging.getLogger(__name__)

_N_BATCHES = 10  # batch means of the set functions' Monte-Carlo error
_ROWS_PER_CALL = 2_000_000  # rows of noise pushed through the model at once (chunks of coalitions)
MIN_ROWS = 10  # fewest rows of a data window for distribution-change attribution


# =============================================================================== the result
@dataclass(frozen=True, repr=False, eq=False)
class AttributionResult:
    """Contributions of nodes (or edges) to a quantity of a target node, with their uncertainty.

    Attributes
    ----------
    contributions : Series or DataFrame
        One value per node (a Series indexed by node), or for several units one row per unit and
        one column per node.
    std_err, lower, upper : Series or DataFrame
        The standard error and the ``1 - alpha`` interval, shaped like ``contributions``: a
        bootstrap percentile interval (refits of a fitted model, ``n_bootstrap >= 2``), a normal
        interval from the Monte-Carlo error (a model given by hand), or NaN (a fitted model
        without a bootstrap: its estimation error is unknown).
    mc_std_err : Series or DataFrame
        The Monte-Carlo standard error alone (0 for exact answers).
    target : node
    quantity : str
        What is attributed ("anomaly score (IT)", "change in the mean", "variance", ...).
    method : str
        How the contributions were computed.
    interval : str
        "percentile bootstrap", "Monte-Carlo normal", "exact" or "not available".
    alpha : float
    note : str
    n_bootstrap, n_failed : int
    details : dict
        Extra answers of the function (e.g. the mechanism-change p-values).

    Examples
    --------
    >>> from scm import SCM
    >>> model = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"])
    >>> res = intrinsic_causal_influence(model, "Y")
    >>> res.to_frame().round(3)
        contribution  std_err  lower  upper  mc_std_err
    X            4.0      0.0    4.0    4.0         0.0
    Y            1.0      0.0    1.0    1.0         0.0
    """

    contributions: pd.Series | pd.DataFrame
    std_err: pd.Series | pd.DataFrame
    lower: pd.Series | pd.DataFrame
    upper: pd.Series | pd.DataFrame
    mc_std_err: pd.Series | pd.DataFrame
    target: object
    quantity: str
    method: str
    interval: str
    alpha: float
    note: str
    n_bootstrap: int = 0
    n_failed: int = 0
    details: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per node (or per ``(unit, node)``): contribution, std_err, lower, upper, mc_std_err."""
        cols = {
            "contribution": self.contributions,
            "std_err": self.std_err,
            "lower": self.lower,
            "upper": self.upper,
            "mc_std_err": self.mc_std_err,
        }
        if isinstance(self.contributions, pd.DataFrame):
            cols = {k: v.stack() for k, v in cols.items()}
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        level = "" if self.interval in ("not available", "exact") else f" at {1 - self.alpha:.0%}"
        return (
            f"AttributionResult: {self.quantity} of {self.target!r}; {self.method}; interval: {self.interval}{level}\n{self.to_frame()!r}"
        )

    def plot(self, ax=None, *, unit=None, sort: bool = True, title: str | None = None):
        """A bar chart of the contributions with their intervals as whiskers (matplotlib); returns the axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        unit : label, optional
            For a result over several units, the unit to draw (default: the first).
        sort : bool
            Largest absolute contribution first.
        title : str, optional
        """
        import matplotlib.pyplot as plt

        frame = self.to_frame()
        if isinstance(self.contributions, pd.DataFrame):
            unit = self.contributions.index[0] if unit is None else unit
            if unit not in self.contributions.index:
                raise UnknownNodeError(f"unit {unit!r} is not among the result's units {list(self.contributions.index)[:10]}")
            frame = frame.xs(unit, level=0)
        if sort:
            frame = frame.reindex(frame["contribution"].abs().sort_values(ascending=False).index)
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(frame) + 2), 3.5))
        x = np.arange(len(frame))
        has_interval = np.isfinite(frame[["lower", "upper"]].to_numpy()).all()
        yerr = None
        if has_interval:
            yerr = np.vstack([frame["contribution"] - frame["lower"], frame["upper"] - frame["contribution"]]).clip(min=0)
        ax.bar(x, frame["contribution"], yerr=yerr, capsize=3, color="tab:blue", ecolor="black")
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in frame.index], rotation=45, ha="right")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel("contribution")
        if title is None:
            title = f"{self.quantity} of {self.target}"
            if has_interval and self.interval != "exact":
                title += f" ({1 - self.alpha:.0%} {self.interval} intervals)"
        ax.set_title(title, fontsize=10)
        return ax


# =============================================================================== checks
def _check_model(model, owner: str) -> SCM:
    if isinstance(model, SCM):
        model._check_graph()
        return model
    if isinstance(model, nx.DiGraph):
        raise NotFittedError(
            f"{owner} needs a structural causal model with mechanisms and noises; got a bare graph. Fit one first: scm.SCM.fit(graph, data)"
        )
    raise NotFittedError(f"{owner} needs a fitted scm.SCM (e.g. scm.SCM.fit(graph, data)); got {type(model).__name__}")


def _check_target(model: SCM, target, owner: str, *, need_ancestors: bool = True) -> list:
    """The players of ``target``: its ancestors in topological order, then the target itself."""
    try:
        known = target in model.graph
    except TypeError:
        known = False
    if not known:
        check_nodes([target], model.graph, what="target node")
    anc = nx.ancestors(model.graph, target)
    if need_ancestors and not anc:
        raise GraphError(
            f"{owner}: the target node {target!r} has no ancestors in the graph, so there is nothing upstream to attribute "
            "to; pick a node with parents"
        )
    order = [v for v in nx.topological_sort(model.graph) if v in anc]
    return order + [target]


def _check_samples(model: SCM, samples, players: list, owner: str, name: str) -> pd.DataFrame:
    return _check_frame(samples, players, owner, name)


def _check_frame(samples, players: list, owner: str, name: str) -> pd.DataFrame:
    """``samples`` as a DataFrame whose columns ``players`` are there, numeric and finite; at least one row."""
    if isinstance(samples, pd.Series):
        samples = samples.to_frame().T
    frame = as_dataframe(samples, name=name)
    if len(frame) == 0:
        raise DataError(f"{owner}: {name} has no rows")
    check_nodes(players, frame.columns, what="node", where=f"the columns of {name}")
    values = frame[players]
    bad = [c for c in players if not pd.api.types.is_numeric_dtype(values[c])]
    if bad:
        raise DataError(f"{owner}: column(s) {bad} of {name} must be numeric")
    arr = values.to_numpy(dtype=float)
    if not np.isfinite(arr).all():
        col = players[int(np.flatnonzero(~np.isfinite(arr).all(axis=0))[0])]
        raise DataError(f"{owner}: column {col!r} of {name} holds NaN or inf")
    return frame


_MAX_ABS = 1e150  # beyond this, squares (variances, second moments) overflow float64


def _check_magnitude(frame: pd.DataFrame, columns: list, owner: str, name: str) -> None:
    big = [c for c in columns if np.abs(frame[c].to_numpy(dtype=float)).max(initial=0.0) > _MAX_ABS]
    if big:
        raise DataError(
            f"{owner}: column(s) {big} of {name} hold values beyond {_MAX_ABS:.0e}, whose squares overflow float64; "
            "rescale them (e.g. divide by a power of ten)"
        )


def _check_count(value, name: str, owner: str, low: int = 2, columns: int = 1) -> int:
    """A number of draws: an int >= ``low`` whose ``value x columns`` floats fit in memory."""
    check_in_range(value, name=name, low=low, inclusive="left", integer=True, owner=owner)
    check_memory(
        float(value) * max(columns, 1), name=name, what=f"{value} draws of {columns} values", owner=owner, hint="ask for fewer draws"
    )
    return int(value)


# =============================================================================== the noise -> target map
def _unshift(mech):
    delta = 0.0
    while isinstance(mech, Shifted):
        delta += mech.delta
        mech = mech.base
    return mech, delta


class _NoiseMap:
    """``Y`` as a function of the noises of its ancestors and itself (the players), vectorised over rows."""

    def __init__(self, model: SCM, players: list):
        self.model, self.players = model, list(players)
        self.pos = {v: j for j, v in enumerate(self.players)}
        self.parents = {v: [self.pos[p] for p in model.parents(v)] for v in self.players}
        self.mech = model.mechanisms
        self.noise = [model.noise[v] for v in self.players]
        self.linear = self._linear_parts()

    def _linear_parts(self):
        """``(B, c, a, const)`` when every player is linear: weights, intercepts, total effects on Y, constant."""
        p = len(self.players)
        B, c = np.zeros((p, p)), np.zeros(p)
        for v in self.players:
            mech, delta = _unshift(self.mech[v])
            j = self.pos[v]
            if isinstance(mech, Linear):
                B[self.parents[v], j] = mech.weights
                c[j] = mech.intercept + delta
            else:
                return None  # a Constant drops the noise: not linear in it
        a = np.zeros(p)
        a[-1] = 1.0
        for j in range(p - 2, -1, -1):
            a[j] = B[j] @ a
        return B, c, a, float(a @ c)

    @property
    def is_linear(self) -> bool:
        return self.linear is not None

    def noise_mean_var(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([nz.mean for nz in self.noise], dtype=float), np.array([nz.var for nz in self.noise], dtype=float)

    def sample_noise(self, n: int, rng) -> np.ndarray:
        return np.column_stack([np.asarray(nz.sample(n, rng), dtype=float) for nz in self.noise])

    def values(self, E: np.ndarray) -> np.ndarray:
        """All players' values, ``(n, p)``, from their noises."""
        X = np.empty_like(E)
        n = E.shape[0]
        for v in self.players:
            j = self.pos[v]
            pa = self.parents[v]
            P = X[:, pa] if pa else np.empty((n, 0))
            X[:, j] = self.mech[v](P, E[:, j])
        return X

    def __call__(self, E: np.ndarray) -> np.ndarray:
        if self.linear is not None:
            return E @ self.linear[2] + self.linear[3]
        return self.values(E)[:, -1]

    def abduct(self, frame: pd.DataFrame) -> np.ndarray:
        """The players' noise of observed rows (their mechanisms must be invertible)."""
        noise = self.model.abduct(frame, nodes=self.players)
        return noise[self.players].to_numpy(dtype=float)


def _is_gaussian(noise) -> bool:
    """A normal noise (:class:`scm.Gaussian` or a frozen ``scipy.stats.norm``): the closed-form KL needs it."""
    if isinstance(noise, Gaussian):
        return True
    return isinstance(noise, ScipyNoise) and getattr(getattr(noise.dist, "dist", None), "name", None) == "norm"


def _batch_slices(n: int, k: int = _N_BATCHES) -> list:
    return np.array_split(np.arange(n), k)


def _chunks(n_coalitions: int, rows_per_coalition: int) -> int:
    return max(1, _ROWS_PER_CALL // max(1, rows_per_coalition))


# =============================================================================== the bootstrap bridge
class _AttributionQuery(Query):
    """An attribution as a query of the bootstrap engine: ``compute(model, rng) -> (values, mc_std_err)``."""

    def __init__(self, compute, labels, units=None, exact: bool = False, method: str = ""):
        self.compute, self.labels, self.units, self.exact, self.method = compute, list(labels), units, exact, method

    def __call__(self, model, rng):
        return np.asarray(self.compute(model, rng)[0], dtype=float).ravel()

    def point(self, model, rng):
        values, mc = self.compute(model, rng)
        return np.asarray(values, dtype=float).ravel(), np.asarray(mc, dtype=float).ravel()

    def wrap(self, flat):
        flat = np.asarray(flat, dtype=float)
        if self.units is None:
            return pd.Series(flat, index=pd.Index(self.labels))
        return pd.DataFrame(flat.reshape(len(self.labels), len(self.units)).T, index=self.units, columns=pd.Index(self.labels))

    def columns(self):
        if self.units is None:
            return pd.Index(self.labels)
        return pd.MultiIndex.from_product([self.labels, list(self.units)], names=["node", "unit"])


def _answer(
    model, compute, labels, *, target, quantity, owner, n_bootstrap, alpha, random_state, units=None, exact=False, method="", details=None
) -> AttributionResult:
    n_bootstrap = check_n_bootstrap(n_bootstrap, owner=owner)
    alpha = check_alpha(alpha, owner=owner)
    query = _AttributionQuery(compute, labels, units, exact, method)
    res = answer_query(model, query, n_bootstrap=n_bootstrap, alpha=alpha, random_state=random_state, owner=owner)
    return AttributionResult(
        res.estimate,
        res.std_err,
        res.ci_low,
        res.ci_high,
        res.mc_std_err,
        target,
        quantity,
        query.method,
        res.interval,
        res.alpha,
        res.note,
        res.n_bootstrap,
        res.n_failed,
        dict(details or {}),
    )


def _combine_mc(batch_values: np.ndarray, shapley_se: np.ndarray) -> np.ndarray:
    """Monte-Carlo error from batch means (last axis: the batches) and the permutation-sampling error, in quadrature."""
    k = batch_values.shape[-1]
    batch_se = batch_values.std(axis=-1, ddof=1) / math.sqrt(k) if k > 1 else np.zeros(batch_values.shape[:-1])
    return np.sqrt(batch_se**2 + np.nan_to_num(shapley_se) ** 2)


# =============================================================================== anomaly scores
_SCORE_KINDS = ("it", "zscore")


def _quantile_score(sorted_ref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """DoWhy's two-sided quantile score ``1 - 2 min(P(X < x) + P(X = x)/2, P(X > x) + P(X = x)/2)``, x counted in X."""
    n = sorted_ref.shape[-1]
    less = np.searchsorted(sorted_ref, x, side="left")
    leq = np.searchsorted(sorted_ref, x, side="right")
    eq = leq - less + 1
    low = less + eq / 2
    high = (n - leq) + eq / 2
    return 1.0 - 2.0 * np.minimum(low, high) / (n + 1)


def _tail_thresholds(sorted_ref: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values ``low``, ``high`` with ``g(y) >= g(x)`` exactly when ``y <= low`` or ``y > high``, for ``y`` tied with no draw.

    ``g`` is :func:`_quantile_score` on ``sorted_ref`` (``N`` draws). For such a ``y`` with ``k`` draws below
    it, ``g(y) >= g(x)`` iff ``min(k, N - k) + 1/2 <= m`` with ``m = min(P(X < x) + P(X = x)/2, ...)`` in
    counts: ``k <= floor(m - 1/2)`` (``y`` at most the draw of that rank) or ``k >= ceil(N + 1/2 - m)``.
    Two comparisons per value instead of a binary search: the anomaly set function's inner loop.
    """
    n = sorted_ref.shape[-1]
    less = np.searchsorted(sorted_ref, x, side="left")
    leq = np.searchsorted(sorted_ref, x, side="right")
    eq = leq - less + 1
    m = np.minimum(less + eq / 2, n - leq + eq / 2)
    k_low = np.floor(m - 0.5).astype(int)
    k_high = np.ceil(n + 0.5 - m).astype(int)
    low = np.where(k_low >= 0, sorted_ref[np.clip(k_low, 0, n - 1)], -np.inf)
    high = np.where(k_high <= n, sorted_ref[np.clip(k_high - 1, 0, n - 1)], np.inf)
    return low, high


def _it_score(sorted_ref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The information-theoretic score ``-log`` of the two-sided tail probability (DoWhy's rescaled quantile score)."""
    return -np.log(1.0 - _quantile_score(sorted_ref, x))


def _additive_mean(mech):
    """``f`` of ``value = f(parents) + noise`` (for Linear, AdditiveNoise and their shifts), else None."""
    base, delta = _unshift(mech)
    if isinstance(base, (Linear, AdditiveNoise)):
        return lambda P: base.mean(P) + delta
    return None


def anomaly_scores(model, samples, *, kind: str = "it", n_samples: int = 10_000, random_state=None) -> pd.DataFrame:
    """Per-node outlier scores of samples, each node judged against its mechanism given its parents' values.

    For each sample and node, the node's value is compared with the conditional distribution of
    the node given the sample's values of its parents (for a root node: its marginal), drawn from
    the model's mechanism and noise: ``kind="it"`` is the information-theoretic score
    ``-log P(|tail| at least as extreme)`` of DoWhy-GCM's conditional anomaly scorer (its
    ``RescaledMedianCDFQuantileScorer``: the two-sided quantile of the value among ``n_samples``
    draws, the value itself counted once); ``kind="zscore"`` is ``|value - mean| / std`` of that
    conditional distribution. A score of ``s`` nats under ``"it"`` means a tail probability of
    ``exp(-s)``; ``-log(1 / (n_samples + 1))`` is the largest score draws of that size can give.

    Parameters
    ----------
    model : scm.SCM
    samples : DataFrame or Series
        One row per sample (a Series: one sample), a numeric column per node.
    kind : {"it", "zscore"}
    n_samples : int
        Draws of each conditional distribution.
    random_state : None, int or Generator

    Returns
    -------
    DataFrame
        One row per sample (indexed like ``samples``), one column per node, in the graph's order.

    Raises
    ------
    NotFittedError
        ``model`` is not an SCM.
    UnknownNodeError, DataError
        A node without a column in ``samples``; a non-numeric, NaN or inf value (named).

    Examples
    --------
    >>> from scm import SCM
    >>> model = SCM.from_linear([[0, 1.0], [0, 0]], nodes=["X", "Y"])
    >>> s = pd.DataFrame({"X": [0.0, 0.0], "Y": [0.0, 4.0]})
    >>> anomaly_scores(model, s, kind="zscore", random_state=0).round(1)
         X    Y
    0  0.0  0.0
    1  0.0  4.0
    """
    owner = "anomaly_scores"
    model = _check_model(model, owner)
    kind = check_option(kind, _SCORE_KINDS, name="kind", owner=owner)
    nodes = model.nodes
    n_samples = _check_count(n_samples, "n_samples", owner, columns=len(nodes))
    frame = _check_samples(model, samples, nodes, owner, "samples")
    rng = check_random_state(random_state)
    X = frame[nodes].to_numpy(dtype=float)
    m = X.shape[0]
    pos = {v: j for j, v in enumerate(nodes)}
    mechs, noise = model.mechanisms, model.noise
    out = np.empty((m, len(nodes)))
    for v in nodes:
        j = pos[v]
        pa = [pos[p] for p in model.parents(v)]
        draws = np.asarray(noise[v].sample(n_samples, rng), dtype=float)
        f = _additive_mean(mechs[v])
        if f is not None:  # value = f(parents) + noise: the conditional is the noise shifted by f
            P = X[:, pa] if pa else np.empty((m, 0))
            resid = X[:, j] - f(P)
            ref = np.sort(draws)
            out[:, j] = _it_score(ref, resid) if kind == "it" else np.abs(resid - draws.mean()) / _std(draws)
            continue
        step = max(1, _ROWS_PER_CALL // n_samples)
        for lo in range(0, m, step):
            rows = np.arange(lo, min(lo + step, m))
            P = np.repeat(X[np.ix_(rows, pa)], n_samples, axis=0) if pa else np.empty((len(rows) * n_samples, 0))
            cond = np.asarray(mechs[v](P, np.tile(draws, len(rows))), dtype=float).reshape(len(rows), n_samples)
            if kind == "it":
                out[rows, j] = [_it_score(np.sort(c), x) for c, x in zip(cond, X[rows, j])]
            else:
                out[rows, j] = np.abs(X[rows, j] - cond.mean(axis=1)) / np.maximum(cond.std(axis=1), 1e-300)
    return pd.DataFrame(out, index=frame.index, columns=nodes)


def _std(x: np.ndarray) -> float:
    s = float(np.std(x))
    return s if s > 0 else 1e-300


# =============================================================================== anomaly attribution
def _anomaly_compute(players, frame, *, n_distribution_samples, shapley, n_permutations):
    def compute(model, rng):
        nm = _NoiseMap(model, players)
        e_anom = nm.abduct(frame)  # (m, p)
        m, p = e_anom.shape
        N = n_distribution_samples
        E = nm.sample_noise(N, rng)
        y = nm(E)
        ref = np.sort(y)
        low, high = _tail_thresholds(ref, nm(e_anom))  # g(y) >= g(x) iff y <= low or y > high
        batches = _batch_slices(N)

        def value_fn(masks):
            C = masks.shape[0]
            counts = np.zeros((C, m, len(batches)))
            step = _chunks(C, m * N)
            for lo in range(0, C, step):
                mk = masks[lo : lo + step]
                if nm.is_linear:
                    a = nm.linear[2]
                    D = e_anom[:, None, :] - E[None, :, :]  # (m, N, p)
                    Y = y[None, None, :] + np.einsum("cj,inj->cin", mk * a, D)
                else:
                    rows = np.where(mk[:, None, None, :], e_anom[None, :, None, :], E[None, None, :, :])
                    Y = nm(rows.reshape(-1, p)).reshape(len(mk), m, N)
                hit = (Y <= low[None, :, None]) | (Y > high[None, :, None])
                counts[lo : lo + step] = np.stack([hit[..., b].sum(axis=-1) for b in batches], axis=-1)
            sizes = np.array([len(b) for b in batches], dtype=float)
            full = np.log((counts.sum(axis=-1) + 0.5) / (N + 0.5))
            per_batch = np.log((counts + 0.5) / (sizes + 0.5))
            return np.concatenate([full[..., None], per_batch], axis=-1)  # (C, m, 1 + B)

        est = shapley_values(value_fn, p, method=shapley, n_permutations=n_permutations, random_state=rng, owner="attribute_anomalies")
        values = est.values[:, :, 0]  # (p, m)
        mc = _combine_mc(est.values[:, :, 1:], est.std_err[:, :, 0])
        return values, mc

    return compute


def attribute_anomalies(
    model,
    target,
    anomalous_samples,
    *,
    n_distribution_samples: int = 3000,
    shapley: str = "auto",
    n_permutations: int | None = None,
    n_bootstrap: int = 0,
    alpha: float = 0.05,
    random_state=None,
) -> AttributionResult:
    """Which node's noise made the target anomalous: Shapley attribution of the target's anomaly score.

    The anomaly score of a target value ``y`` is the information-theoretic score
    ``-log P(g(Y) >= g(y))`` with ``g`` the two-sided quantile score of ``Y``'s distribution
    (Janzing et al. 2019, "Causal structure-based root cause analysis of outliers"; DoWhy-GCM's
    ``attribute_anomalies`` with its defaults). The players are the noise terms of the target and its
    ancestors, recovered from each anomalous sample by abduction. The value of a coalition ``S`` is
    ``log P(g(Y) >= g(y) | noise of S fixed at the sample's)``, the other noises drawn from the
    model; the Shapley values of the players add up to the anomaly score (up to the ``+0.5``
    smoothing of the frequencies, as in DoWhy-GCM), and a large share for a node says that its own
    noise (its mechanism, not its inputs) made the target anomalous.

    Parameters
    ----------
    model : scm.SCM
        The target's ancestors must have invertible mechanisms (linear, additive noise, ...).
    target : node
    anomalous_samples : DataFrame or Series
        One row per anomalous sample (a Series: one sample); a column per node.
    n_distribution_samples : int
        Draws of the noises (and of ``Y``, for ``g``) that the probabilities are counted on.
    shapley : {"auto", "exact", "permutation"}
        Exact Shapley values up to 12 players under "auto", permutation sampling beyond.
    n_permutations : int, optional
        For permutation sampling (default ``max(50, 4 * players)``).
    n_bootstrap : int
        0, or refits of a fitted model on resamples of its data (at least 2) for intervals.
    alpha : float
        1 - the interval's level.
    random_state : None, int or Generator

    Returns
    -------
    AttributionResult
        ``contributions`` a Series by node for one sample, else a DataFrame (a row per sample).

    Raises
    ------
    NotFittedError
        ``model`` is not an SCM.
    UnknownNodeError
        ``target`` not in the graph, or a node missing from the samples' columns.
    GraphError
        ``target`` has no ancestors.
    NotInvertibleError
        An ancestor's mechanism cannot recover its noise.
    DataError, ParameterError
        Bad samples or options (named).

    Examples
    --------
    >>> from scm import SCM
    >>> model = SCM.from_linear([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]], nodes=["A", "B", "C"])
    >>> outlier = pd.DataFrame({"A": [0.0], "B": [4.0], "C": [4.0]})  # B's own noise is 4 std
    >>> res = attribute_anomalies(model, "C", outlier, random_state=0)
    >>> res.contributions.idxmax()
    'B'
    """
    owner = "attribute_anomalies"
    model = _check_model(model, owner)
    players = _check_target(model, target, owner)
    single = isinstance(anomalous_samples, pd.Series)
    frame = _check_samples(model, anomalous_samples, players, owner, "anomalous_samples")
    n_distribution_samples = _check_count(
        n_distribution_samples, "n_distribution_samples", owner, low=_N_BATCHES * 2, columns=len(players) * len(frame)
    )
    compute = _anomaly_compute(
        players, frame, n_distribution_samples=n_distribution_samples, shapley=shapley, n_permutations=n_permutations
    )
    units = None if (single or len(frame) == 1) else list(frame.index)
    method = _shapley_words(len(players), shapley, n_permutations) + f"; {n_distribution_samples} noise draws"
    res = _answer(
        model,
        _squeeze(compute, units),
        players,
        target=target,
        quantity="anomaly score (IT)",
        owner=owner,
        n_bootstrap=n_bootstrap,
        alpha=alpha,
        random_state=random_state,
        units=units,
        method=method,
    )
    return res


def _squeeze(compute, units):
    """For one unit, drop the unit axis of a ``(p, m)`` answer."""
    if units is not None:
        return compute

    def one(model, rng):
        values, mc = compute(model, rng)
        return values[:, 0], mc[:, 0]

    return one


def _shapley_words(p: int, shapley: str, n_permutations) -> str:
    if shapley == "exact" or (shapley == "auto" and p <= MAX_EXACT_PLAYERS):
        return f"exact Shapley values over {p} players"
    k = n_permutations if n_permutations is not None else max(50, 4 * p)
    return f"Shapley values by permutation sampling ({k + (k % 2)} orders) over {p} players"


# =============================================================================== intrinsic causal influence
_ICC_METHODS = ("auto", "exact", "monte-carlo")


def _icc_compute(players, *, method, n_samples, shapley, n_permutations):
    def compute(model, rng):
        nm = _NoiseMap(model, players)
        p = len(players)
        if method == "exact" or (method == "auto" and nm.is_linear):
            if not nm.is_linear:
                raise ParameterError(
                    "The 'method' parameter of intrinsic_causal_influence is 'exact', which needs linear mechanisms at "
                    f"the target and its ancestors; {_first_nonlinear(nm)} is not linear. Use method='monte-carlo'"
                )
            _, var = nm.noise_mean_var()
            return nm.linear[2] ** 2 * var, np.zeros(p)
        # pick-freeze (Sobol / Janon): Var(E[Y | noises of S]) = Cov(Y, Y') with Y' sharing the noises of S and drawing
        # the others afresh; one new row per draw and coalition, instead of an inner average per draw
        A = nm.sample_noise(n_samples, rng)
        B = nm.sample_noise(n_samples, rng)
        y_a = nm(A)
        batches = _batch_slices(n_samples)

        def janon(y1, y2):
            centre = 0.5 * (y1.mean(axis=-1) + y2.mean(axis=-1))
            return (y1 * y2).mean(axis=-1) - centre**2

        def value_fn(masks):
            C = masks.shape[0]
            out = np.zeros((C, 1 + len(batches)))
            step = _chunks(C, n_samples)
            for lo in range(0, C, step):
                mk = masks[lo : lo + step]
                y_ab = nm(np.where(mk[:, None, :], A[None], B[None]).reshape(-1, p)).reshape(len(mk), n_samples)
                out[lo : lo + step, 0] = janon(y_a[None], y_ab)
                for b, idx in enumerate(batches):
                    out[lo : lo + step, 1 + b] = janon(y_a[None, idx], y_ab[:, idx])
            out[~masks.any(axis=1)] = 0.0  # nothing fixed: E[Y] is a constant
            return out

        est = shapley_values(
            value_fn, p, method=shapley, n_permutations=n_permutations, random_state=rng, owner="intrinsic_causal_influence"
        )
        return est.values[:, 0], _combine_mc(est.values[:, 1:], est.std_err[:, 0])

    return compute


def _first_nonlinear(nm: _NoiseMap):
    for v in nm.players:
        if not isinstance(_unshift(nm.mech[v])[0], Linear):
            return f"node {v!r} ({type(nm.mech[v]).__name__})"
    return "a node"  # pragma: no cover


def intrinsic_causal_influence(
    model,
    target,
    *,
    method: str = "auto",
    n_samples: int = 20_000,
    shapley: str = "auto",
    n_permutations: int | None = None,
    n_bootstrap: int = 0,
    alpha: float = 0.05,
    random_state=None,
) -> AttributionResult:
    """How much of the target's variance each upstream node adds by its own noise (Janzing et al. 2024).

    The intrinsic causal contribution of a node is the Shapley value of its noise term for the set
    function ``v(S) = Var(E[Y | noises of S])``, over the noises of the target and its ancestors
    (DoWhy-GCM's ``intrinsic_causal_influence`` with its default variance measure and exact
    propagation). The contributions add up to ``Var(Y)``. A node contributes what its own
    randomness injects, not what it passes on from its parents.

    For a linear SCM the answer is exact: ``v`` is additive and a node's contribution is
    ``a_j**2 Var(noise_j)``, with ``a_j`` the total effect of its noise on ``Y``. Otherwise (or with
    ``method="monte-carlo"``) ``v(S)`` is estimated by pick-freeze (the Sobol index estimator of Janon et
    al.): ``Cov(Y, Y')`` over ``n_samples`` pairs that share the noises of ``S`` and draw the others
    independently. DoWhy-GCM averages ``Y`` over 250 draws of the other noises for each of 1000 draws
    of those in ``S``; pick-freeze needs one draw per pair, so it reaches the same error with about a
    tenth of the evaluations of the model.

    Parameters
    ----------
    model : scm.SCM
    target : node
    method : {"auto", "exact", "monte-carlo"}
        "auto": exact when the target and its ancestors are linear.
    n_samples : int
        Pairs of noise draws per coalition (Monte Carlo).
    shapley : {"auto", "exact", "permutation"}
    n_permutations : int, optional
    n_bootstrap : int
        0, or refits of a fitted model (at least 2) for intervals.
    alpha : float
    random_state : None, int or Generator

    Returns
    -------
    AttributionResult
        One contribution per node (the target's ancestors, then the target), in units of ``Var(Y)``.

    Raises
    ------
    NotFittedError, UnknownNodeError, GraphError, ParameterError
        Not an SCM; unknown target; a target without ancestors; bad options (named).

    Examples
    --------
    >>> from scm import SCM
    >>> model = SCM.from_linear([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]], nodes=["A", "B", "C"], noise_std=[1.0, 1.0, 0.5])
    >>> intrinsic_causal_influence(model, "C").contributions.round(2).tolist()  # Var(C) = 1 + 1 + 0.25
    [1.0, 1.0, 0.25]
    """
    owner = "intrinsic_causal_influence"
    model = _check_model(model, owner)
    players = _check_target(model, target, owner)
    method = check_option(method, _ICC_METHODS, name="method", owner=owner)
    n_samples = _check_count(n_samples, "n_samples", owner, low=_N_BATCHES * 2, columns=3 * len(players))
    check_option(shapley, ("auto", "exact", "permutation"), name="shapley", owner=owner)
    exact = method == "exact" or (method == "auto" and _NoiseMap(model, players).is_linear)
    words = (
        "closed form (linear SCM): a_j^2 Var(noise_j)"
        if exact
        else (_shapley_words(len(players), shapley, n_permutations) + f"; pick-freeze, {n_samples} pairs of noise draws")
    )
    compute = _icc_compute(players, method=method, n_samples=n_samples, shapley=shapley, n_permutations=n_permutations)
    return _answer(
        model,
        compute,
        players,
        target=target,
        quantity="variance",
        owner=owner,
        n_bootstrap=n_bootstrap,
        alpha=alpha,
        random_state=random_state,
        exact=exact,
        method=words,
    )


# =============================================================================== unit-level contributions
def _unit_compute(players, frame, *, method, n_background, shapley, n_permutations):
    def compute(model, rng):
        nm = _NoiseMap(model, players)
        e_unit = nm.abduct(frame)  # (m, p)
        m, p = e_unit.shape
        if method == "exact" or (method == "auto" and nm.is_linear):
            if not nm.is_linear:
                raise ParameterError(
                    "The 'method' parameter of unit_contributions is 'exact', which needs linear mechanisms at the target "
                    f"and its ancestors; {_first_nonlinear(nm)} is not linear. Use method='monte-carlo'"
                )
            mu, _ = nm.noise_mean_var()
            return (nm.linear[2][:, None] * (e_unit - mu).T), np.zeros((p, m))
        E = nm.sample_noise(n_background, rng)
        batches = _batch_slices(n_background)

        def value_fn(masks):
            C = masks.shape[0]
            out = np.zeros((C, m, 1 + len(batches)))
            step = _chunks(C, m * n_background)
            for lo in range(0, C, step):
                mk = masks[lo : lo + step]
                rows = np.where(mk[:, None, None, :], e_unit[None, :, None, :], E[None, None, :, :])
                Y = nm(rows.reshape(-1, p)).reshape(len(mk), m, n_background)
                out[lo : lo + step, :, 0] = Y.mean(axis=-1)
                for b, idx in enumerate(batches):
                    out[lo : lo + step, :, 1 + b] = Y[..., idx].mean(axis=-1)
            return out

        est = shapley_values(value_fn, p, method=shapley, n_permutations=n_permutations, random_state=rng, owner="unit_contributions")
        return est.values[:, :, 0], _combine_mc(est.values[:, :, 1:], est.std_err[:, :, 0])

    return compute


def unit_contributions(
    model,
    target,
    sample,
    *,
    method: str = "auto",
    n_background: int = 5000,
    shapley: str = "auto",
    n_permutations: int | None = None,
    n_bootstrap: int = 0,
    alpha: float = 0.05,
    random_state=None,
) -> AttributionResult:
    """How much each upstream node contributed to one unit's value of the target, through its own noise.

    The unit's noise terms are recovered by abduction (the first step of a counterfactual,
    :meth:`scm.SCM.abduct`); the value of a coalition ``S`` is the counterfactual mean of ``Y`` when
    the noises of ``S`` keep the unit's values and the others are drawn afresh,
    ``E[Y | noises of S = the unit's]``. The Shapley values add up to ``y_unit - E[Y]``: how far the
    unit is from the average, split among the nodes whose own deviations put it there (DoWhy-GCM's
    ``intrinsic_causal_influence_sample`` with its default mean difference). For a linear SCM the
    contribution of node ``j`` is exactly ``a_j (noise_j - E[noise_j])``.

    Parameters
    ----------
    model : scm.SCM
    target : node
    sample : DataFrame or Series
        The unit(s): one row each, a column per node.
    method : {"auto", "exact", "monte-carlo"}
    n_background : int
        Draws of the other noises per coalition (Monte-Carlo).
    shapley : {"auto", "exact", "permutation"}
    n_permutations : int, optional
    n_bootstrap : int
    alpha : float
    random_state : None, int or Generator

    Returns
    -------
    AttributionResult
        A Series by node for one unit, else a DataFrame (a row per unit).

    Raises
    ------
    NotFittedError, UnknownNodeError, GraphError, NotInvertibleError, DataError, ParameterError

    Examples
    --------
    >>> from scm import SCM
    >>> model = SCM.from_linear([[0, 2.0], [0, 0]], nodes=["X", "Y"])
    >>> unit = pd.Series({"X": 1.0, "Y": 2.5})  # noise of X: 1, of Y: 0.5
    >>> unit_contributions(model, "Y", unit).contributions.tolist()
    [2.0, 0.5]
    """
    owner = "unit_contributions"
    model = _check_model(model, owner)
    players = _check_target(model, target, owner)
    method = check_option(method, _ICC_METHODS, name="method", owner=owner)
    single = isinstance(sample, pd.Series)
    frame = _check_samples(model, sample, players, owner, "sample")
    n_background = _check_count(n_background, "n_background", owner, low=_N_BATCHES * 2, columns=len(players) * len(frame))
    check_option(shapley, ("auto", "exact", "permutation"), name="shapley", owner=owner)
    exact = method == "exact" or (method == "auto" and _NoiseMap(model, players).is_linear)
    words = (
        "closed form (linear SCM): a_j (noise_j - E noise_j)"
        if exact
        else (_shapley_words(len(players), shapley, n_permutations) + f"; {n_background} noise draws")
    )
    units = None if (single or len(frame) == 1) else list(frame.index)
    compute = _unit_compute(players, frame, method=method, n_background=n_background, shapley=shapley, n_permutations=n_permutations)
    return _answer(
        model,
        _squeeze(compute, units),
        players,
        target=target,
        quantity="deviation from the mean",
        owner=owner,
        n_bootstrap=n_bootstrap,
        alpha=alpha,
        random_state=random_state,
        units=units,
        exact=exact,
        method=words,
    )


# =============================================================================== arrow strength
def _arrow_closed_form(nm: _NoiseMap, measure: str) -> bool:
    """Whether arrow strength has a closed form: linear mechanisms, and for the KL Gaussian noises as well."""
    return nm.is_linear and (measure != "kl" or all(_is_gaussian(nz) for nz in nm.noise))


def _arrow_compute(players, target, *, method, measure, n_outer, n_inner, data):
    def compute(model, rng):
        nm = _NoiseMap(model, players)
        parents = list(model.parents(target))
        k = len(parents)
        mech = model.mechanisms[target]
        base, _ = _unshift(mech)
        if (method == "exact" or method == "auto") and _arrow_closed_form(nm, measure) and data is None:
            # Var(Y | do-cut of the edge p -> Y) - Var(Y | parents) = w_p^2 Var(X_p)
            _, var = nm.noise_mean_var()
            B = nm.linear[0]
            out = np.zeros(k)
            for i, par in enumerate(parents):
                j = nm.pos[par]
                a = np.zeros(len(players))  # total effects on the parent
                a[j] = 1.0
                for q in range(j - 1, -1, -1):
                    a[q] = B[q, : j + 1] @ a[: j + 1]
                out[i] = base.weights[i] ** 2 * float((a * a) @ var)
            if measure == "kl":  # E_pa KL(N(w pa, s^2) || N(w pa with x_i -> E x_i, s^2 + w_i^2 Var x_i)) = log(1 + ...) / 2
                with np.errstate(divide="ignore"):
                    out = 0.5 * np.log1p(out / var[-1])
            return out, np.zeros(k)
        if method == "exact":
            raise ParameterError(
                "The 'method' parameter of arrow_strength is 'exact', which needs linear mechanisms at the target and its "
                + ("ancestors with Gaussian noises (measure='kl') " if measure == "kl" else "ancestors ")
                + f"and no data; {_first_nonlinear(nm) if not nm.is_linear else _why_not_exact(nm, data)}. Use method='monte-carlo'"
            )
        # n_outer draws of the parents, each with its own n_inner independent draws of the cut parent (and of the
        # noise), so that the spread over the outer draws gives the Monte-Carlo error of the whole estimate
        total = n_outer * (1 + n_inner)
        if data is not None:
            X = data[parents].to_numpy(dtype=float)[rng.integers(0, len(data), size=total)]
        else:
            X = nm.values(nm.sample_noise(total, rng))[:, [nm.pos[p] for p in parents]]
        outer, inner = X[:n_outer], X[n_outer:]
        if measure == "kl":
            return _arrow_kl_draws(model.noise[target], mech, outer, inner, n_outer, n_inner, rng)
        f = _additive_mean(mech)
        P_full = np.repeat(outer, n_inner, axis=0)
        noise = None if f is not None else np.asarray(model.noise[target].sample(n_outer * n_inner, rng), dtype=float)
        out = np.zeros((k, n_outer))
        for i in range(k):
            P = P_full.copy()
            P[:, i] = inner[:, i]
            if f is not None:  # additive noise: Var(f + N) - Var(N) = Var(f)
                out[i] = f(P).reshape(n_outer, n_inner).var(axis=1, ddof=1)
            else:
                cut = np.asarray(mech(P, noise), dtype=float).reshape(n_outer, n_inner)
                full = np.asarray(mech(P_full, noise), dtype=float).reshape(n_outer, n_inner)
                out[i] = cut.var(axis=1, ddof=1) - full.var(axis=1, ddof=1)
        return out.mean(axis=1), out.std(axis=1, ddof=1) / math.sqrt(n_outer)

    return compute


def _why_not_exact(nm: _NoiseMap, data) -> str:
    if data is not None:
        return "data were given"
    bad = [v for v, nz in zip(nm.players, nm.noise) if not _is_gaussian(nz)]
    return f"the noise of {bad[0]!r} is {type(nm.noise[nm.players.index(bad[0])]).__name__}, not Gaussian"


def _arrow_kl_draws(noise, mech, outer, inner, n_outer, n_inner, rng):
    """Per outer draw of the parents, the 1-NN KL between ``n_inner`` draws of ``Y | pa`` and of ``Y | pa`` with one parent cut."""
    k = outer.shape[1]
    P_full = np.repeat(outer, n_inner, axis=0)
    full = np.asarray(mech(P_full, np.asarray(noise.sample(n_outer * n_inner, rng), dtype=float)), dtype=float)
    full = full.reshape(n_outer, n_inner)
    out = np.zeros((k, n_outer))
    for i in range(k):
        P = P_full.copy()
        P[:, i] = inner[:, i]
        cut = np.asarray(mech(P, np.asarray(noise.sample(n_outer * n_inner, rng), dtype=float)), dtype=float)
        out[i] = knn_kl(full, cut.reshape(n_outer, n_inner))
    return out.mean(axis=1), out.std(axis=1, ddof=1) / math.sqrt(n_outer)


def arrow_strength(
    model,
    target,
    *,
    method: str = "auto",
    measure: str = "variance",
    data=None,
    n_outer: int = 1000,
    n_inner: int = 500,
    n_bootstrap: int = 0,
    alpha: float = 0.05,
    random_state=None,
) -> AttributionResult:
    """The strength of each arrow into the target (Janzing et al. 2013): the variance it adds, or its KL divergence.

    Cutting the arrow ``X -> Y`` feeds ``Y``'s mechanism an independent draw of ``X`` (from its
    marginal) in place of the parent's value. With ``measure="variance"`` (the default, DoWhy-GCM's
    default for a continuous target) the strength is how much the conditional variance of ``Y``
    given its parents grows: ``E_x[Var(Y | pa = x with x_X replaced by an independent draw of X) -
    Var(Y | pa = x)]``, the parents' values ``x`` drawn from the model (or from ``data``). With
    ``measure="kl"`` it is Janzing et al.'s own definition, the KL divergence of the joint
    distribution of ``Y`` and its parents from the cut one, ``E_x[KL(P(Y | pa = x) || P_cut(Y | pa = x))]``
    in nats (DoWhy-GCM's ``arrow_strength`` with a KL ``difference_estimation_func``).

    For a linear target mechanism with parents from a linear model the answer is exact:
    ``w_X**2 Var(X)``, or for the KL, when every noise is Gaussian as well,
    ``log(1 + w_X**2 Var(X) / Var(N_Y)) / 2``. Otherwise it is averaged over ``n_outer`` draws of
    the parents, each with ``n_inner`` independent draws of the cut parent (additive-noise
    mechanisms need no draws of the noise for the variance: it cancels); the KL of each outer draw
    is estimated from ``n_inner`` draws of ``Y`` with and without the cut by the 1-nearest-neighbour
    estimator (Wang et al. 2009), which needs a continuous noise at the target (not the resampled
    residuals of ``SCM.fit``'s default ``noise="empirical"``).

    Parameters
    ----------
    model : scm.SCM
    target : node
    method : {"auto", "exact", "monte-carlo"}
    measure : {"variance", "kl"}
        The variance the arrow adds, or the KL divergence (nats) that cutting it makes.
    data : DataFrame, optional
        Observed rows to draw the parents' values from (instead of the model).
    n_outer, n_inner : int
        Monte-Carlo draws (see above).
    n_bootstrap : int
    alpha : float
    random_state : None, int or Generator

    Returns
    -------
    AttributionResult
        One strength per parent of the target (index: the parent, i.e. the arrow ``parent -> target``).

    Raises
    ------
    NotFittedError, UnknownNodeError, GraphError, DataError, ParameterError

    Examples
    --------
    >>> from scm import SCM
    >>> model = SCM.from_linear([[0, 0, 2.0], [0, 0, 1.0], [0, 0, 0]], nodes=["A", "B", "Y"], noise_std=[1.0, 3.0, 1.0])
    >>> arrow_strength(model, "Y").contributions.tolist()  # 2^2 * 1, 1^2 * 9
    [4.0, 9.0]
    >>> arrow_strength(model, "Y", measure="kl").contributions.round(4).tolist()  # log(1 + 4) / 2, log(1 + 9) / 2
    [0.8047, 1.1513]
    """
    owner = "arrow_strength"
    model = _check_model(model, owner)
    players = _check_target(model, target, owner)
    method = check_option(method, _ICC_METHODS, name="method", owner=owner)
    measure = check_option(measure, ("variance", "kl"), name="measure", owner=owner)
    if measure == "kl" and isinstance(model.noise[target], Empirical):
        raise ParameterError(
            f"The 'measure' parameter of {owner} is 'kl', but the noise of the target {target!r} is Empirical (resampled "
            "residuals): the distribution of the target given its parents is then discrete and its KL divergence from the "
            "cut one is infinite. Fit the model with SCM.fit(..., noise='gaussian') or use measure='variance'"
        )
    n_outer = _check_count(n_outer, "n_outer", owner, columns=len(players))
    n_inner = _check_count(n_inner, "n_inner", owner, columns=len(players) * n_outer)
    parents = list(model.parents(target))
    if data is not None:
        data = _check_samples(model, data, parents, owner, "data")
        if len(data) < 2:
            raise DataError(f"{owner}: data has {len(data)} row(s); at least 2 are needed to draw the parents from")
    nm = _NoiseMap(model, players)
    exact = method != "monte-carlo" and _arrow_closed_form(nm, measure) and data is None
    if measure == "kl":
        words = (
            "closed form (linear-Gaussian SCM): log(1 + w^2 Var(parent) / Var(noise)) / 2"
            if exact
            else f"Monte Carlo ({n_outer} x {n_inner} draws), 1-NN KL estimator"
        )
    else:
        words = "closed form (linear SCM): w^2 Var(parent)" if exact else f"Monte Carlo ({n_outer} x {n_inner} draws)"
    compute = _arrow_compute(players, target, method=method, measure=measure, n_outer=n_outer, n_inner=n_inner, data=data)
    return _answer(
        model,
        compute,
        parents,
        target=target,
        quantity="arrow strength (KL divergence, nats)" if measure == "kl" else "arrow strength (variance added)",
        owner=owner,
        n_bootstrap=n_bootstrap,
        alpha=alpha,
        random_state=random_state,
        exact=exact,
        method=words,
    )


# =============================================================================== distribution change
_MEASURES = ("mean", "variance", "kl")
_DC_METHODS = ("shapley", "robust")


def _bh(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values."""
    p = np.asarray(pvalues, dtype=float)
    n = len(p)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adj, 1.0)
    return out


def mechanism_change_test(old_data, new_data, node, parents=(), *, mechanism=None) -> float:
    """p-value of "the mechanism of ``node`` given ``parents`` is the same in both data sets".

    The node is regressed on its parents in the pooled data (``mechanism``: a fitted
    :class:`scm.Mechanism` to use instead, e.g. the model's); three tests of its residuals then ask
    whether the data set explains them, and the smallest p-value is Bonferroni-corrected: a Chow-type
    F-test (do a shift and new slopes on the parents, by data set, improve the fit?), the
    Brown-Forsythe test of equal spread and the two-sample Kolmogorov-Smirnov test of equal
    distribution. (DoWhy-GCM uses a kernel conditional-independence test of the data-set label;
    these linear-time tests target the changes a fitted SCM can express: shifts, new weights, new
    noise.)

    Parameters
    ----------
    old_data, new_data : DataFrame
    node : column
    parents : sequence of columns
    mechanism : scm.Mechanism, optional
        An invertible mechanism whose residuals ``abduct(parents, values)`` are tested (default:
        least squares on the pooled data).

    Returns
    -------
    float

    Raises
    ------
    UnknownNodeError
        ``node`` or a parent is not a column of a data set.
    DataError
        Non-numeric, NaN, inf or huge (beyond 1e150) values, or fewer than 10 rows in a data set (named).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> old = pd.DataFrame({"X": rng.normal(size=500)})
    >>> new = pd.DataFrame({"X": rng.normal(size=500) + 0.5})
    >>> bool(mechanism_change_test(old, new, "X") < 0.001)
    True
    """
    owner = "mechanism_change_test"
    parents = list(parents)
    cols = parents + [node]
    old = _check_frame(old_data, cols, owner, "old_data")
    new = _check_frame(new_data, cols, owner, "new_data")
    for name, frame in (("old_data", old), ("new_data", new)):
        _check_magnitude(frame, cols, owner, name)
        if len(frame) < MIN_ROWS:
            raise DataError(f"{owner}: {name} has {len(frame)} rows; at least {MIN_ROWS} are needed to compare mechanisms")
    return _change_pvalue(old[cols].to_numpy(dtype=float), new[cols].to_numpy(dtype=float), mechanism)


def _change_pvalue(A: np.ndarray, Bn: np.ndarray, mechanism=None) -> float:
    """:func:`mechanism_change_test` on checked arrays (parents' columns, then the node's)."""
    from scipy import stats

    n0, n1 = len(A), len(Bn)
    P = np.vstack([A[:, :-1], Bn[:, :-1]])
    y = np.concatenate([A[:, -1], Bn[:, -1]])
    g = np.concatenate([np.zeros(n0), np.ones(n1)])
    if mechanism is not None:
        resid = np.asarray(mechanism.abduct(P, y), dtype=float)
    else:
        Z = np.column_stack([np.ones(n0 + n1), P])
        resid = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    # Chow-type F test: residual ~ [1, P] + group * [1, P]
    Z0 = np.column_stack([np.ones(n0 + n1), P])
    Z1 = np.column_stack([Z0, g[:, None] * Z0])
    rss0 = float(np.sum((resid - Z0 @ np.linalg.lstsq(Z0, resid, rcond=None)[0]) ** 2))
    rss1 = float(np.sum((resid - Z1 @ np.linalg.lstsq(Z1, resid, rcond=None)[0]) ** 2))
    df1, df2 = Z0.shape[1], n0 + n1 - Z1.shape[1]
    if df2 > 0 and rss1 > 0:
        p_chow = float(stats.f.sf(max(rss0 - rss1, 0.0) / df1 / (rss1 / df2), df1, df2))
    else:
        p_chow = 1.0
    r0, r1 = resid[:n0], resid[n0:]
    with np.errstate(all="ignore"):
        p_bf = float(stats.levene(r0, r1, center="median").pvalue) if np.ptp(resid) > 0 else 1.0
    p_ks = float(stats.ks_2samp(r0, r1).pvalue)
    return float(min(1.0, 3.0 * min(np.nan_to_num(p_chow, nan=1.0), np.nan_to_num(p_bf, nan=1.0), p_ks)))


def _fit_spec(model: SCM):
    recipe = getattr(model, "_recipe", None)
    if recipe is None:
        return "linear", "empirical"
    return recipe.mechanism, recipe.noise


def _fit_sub(graph, data, spec, noise, random_state):
    return SCM.fit(graph, data, mechanism=spec, noise=noise, random_state=random_state)


def _changed_models(model, players, old, new, *, changed, test_alpha, rng):
    """The old and new models of the players' subgraph, and the p-value and decision per node."""
    sub = model.graph.subgraph(players).copy()
    spec, noise = _fit_spec(model)
    if isinstance(spec, Mapping):
        spec = {v: s for v, s in spec.items() if v in players}
    seed = int(rng.integers(0, 2**31 - 1))
    m_old = _fit_sub(sub, old[players], spec, noise, seed)
    m_new = _fit_sub(sub, new[players], spec, noise, seed)
    pvals = pd.Series(np.nan, index=players, dtype=float)
    if isinstance(changed, str) and changed == "all":
        decision = pd.Series(True, index=players)
    pooled = None
    if isinstance(changed, str) and changed == "test":
        pooled = _fit_sub(sub, pd.concat([old[players], new[players]], ignore_index=True), spec, noise, seed)
        A, Bn = old[players].to_numpy(dtype=float), new[players].to_numpy(dtype=float)
        pos = {v: j for j, v in enumerate(players)}
        raw = []
        for v in players:
            mech = pooled.mechanisms[v]
            cols = [pos[q] for q in pooled.parents(v)] + [pos[v]]
            raw.append(_change_pvalue(A[:, cols], Bn[:, cols], mech if getattr(mech, "invertible", False) else None))
        pvals[:] = raw
        decision = pd.Series(_bh(np.asarray(raw)) < test_alpha, index=players)
    elif not isinstance(changed, str):
        decision = pd.Series([v in set(changed) for v in players], index=players)
    if not decision.all():
        if pooled is None:
            pooled = _fit_sub(sub, pd.concat([old[players], new[players]], ignore_index=True), spec, noise, seed)
        mech_old, noise_old = m_old.mechanisms, m_old.noise
        mech_new, noise_new = m_new.mechanisms, m_new.noise
        for v in players:
            if not decision[v]:
                mech_old[v] = mech_new[v] = pooled.mechanisms[v]
                noise_old[v] = noise_new[v] = pooled.noise[v]
        m_old, m_new = SCM(sub, mech_old, noise_old), SCM(sub, mech_new, noise_new)
    return m_old, m_new, pvals, decision


def _shapley_change(m_old, m_new, players, *, measure, n_samples, shapley, n_permutations, rng, owner):
    """Mechanism-replacement Shapley values of the change in the target's ``measure``, with their MC error."""
    old_map, new_map = _NoiseMap(m_old, players), _NoiseMap(m_new, players)
    p = len(players)
    gaussian = all(_is_gaussian(nz) for nz in old_map.noise + new_map.noise)
    if old_map.is_linear and new_map.is_linear and (measure != "kl" or gaussian):
        from ._attribution_kernels import mixed_linear_moments

        o = (old_map.linear[0], old_map.linear[1], *old_map.noise_mean_var())
        nw = (new_map.linear[0], new_map.linear[1], *new_map.noise_mean_var())

        base_mean, base_var = mixed_linear_moments(np.zeros((1, p), dtype=bool), o, nw)
        base = base_mean[0] if measure == "mean" else base_var[0]

        def value_fn(masks):
            mean, var = mixed_linear_moments(masks, o, nw)
            if measure == "kl":  # KL(old target || target under the coalition's mechanisms), both Gaussian
                return gaussian_kl(base_mean[0], base_var[0], mean, var)
            return (mean if measure == "mean" else var) - base

        est = shapley_values(value_fn, p, method=shapley, n_permutations=n_permutations, random_state=rng, owner=owner)
        return est.values, np.nan_to_num(est.std_err), True
    # Monte Carlo with common random numbers: the same noise draws for every coalition
    E_old = old_map.sample_noise(n_samples, rng)
    E_new = new_map.sample_noise(n_samples, rng)
    shared = [j for j, (a, b) in enumerate(zip(old_map.noise, new_map.noise)) if a is b]
    E_new[:, shared] = E_old[:, shared]  # a node whose noise did not change keeps its draws: unchanged nodes add nothing
    batches = _batch_slices(n_samples)
    if measure == "kl":
        # KL(old target || target under the coalition) by the 1-NN estimator against an independent old sample; the
        # set function subtracts the estimate for the old model itself (same draws), so it is 0 at the empty coalition
        # and for every coalition of unchanged mechanisms, and its sum over the players estimates KL(old || new)
        ref_y = old_map(old_map.sample_noise(n_samples, rng))

        def stat_fn(Y, axis=None):
            Y = np.atleast_2d(Y)
            out = knn_kl(np.broadcast_to(ref_y[: Y.shape[-1]], Y.shape), Y)
            return out if axis is not None else float(out[0])

        def batch_stat(Y, idx):
            return knn_kl(np.broadcast_to(ref_y[idx], (*Y.shape[:-1], len(idx))), Y[..., idx])

    else:
        stat_fn = np.mean if measure == "mean" else np.var

        def batch_stat(Y, idx):
            return stat_fn(Y[..., idx], axis=-1)

    base_y = old_map(E_old)
    base = np.array([stat_fn(base_y)] + [float(batch_stat(base_y[None, :], idx)[0]) for idx in batches])

    def value_fn(masks):
        C = masks.shape[0]
        out = np.zeros((C, 1 + len(batches)))
        step = _chunks(C, n_samples)
        for lo in range(0, C, step):
            mk = masks[lo : lo + step]
            c = len(mk)
            X = np.empty((c * n_samples, p))
            sel = np.repeat(mk, n_samples, axis=0)
            eo, en = np.tile(E_old, (c, 1)), np.tile(E_new, (c, 1))
            for v in players:
                j = old_map.pos[v]
                pa = old_map.parents[v]
                P = X[:, pa] if pa else np.empty((len(X), 0))
                X[:, j] = np.where(sel[:, j], m_new.mechanisms[v](P, en[:, j]), m_old.mechanisms[v](P, eo[:, j]))
            Y = X[:, -1].reshape(c, n_samples)
            out[lo : lo + step, 0] = stat_fn(Y, axis=1)
            for b, idx in enumerate(batches):
                out[lo : lo + step, 1 + b] = batch_stat(Y, idx)
        return out - base[None, :]

    est = shapley_values(value_fn, p, method=shapley, n_permutations=n_permutations, random_state=rng, owner=owner)
    return est.values[:, 0], _combine_mc(est.values[:, 1:], est.std_err[:, 0]), False


def attribute_distribution_change(
    model,
    old_data,
    new_data,
    target,
    *,
    method: str = "shapley",
    measure: str = "mean",
    changed="test",
    test_alpha: float = 0.05,
    n_samples: int = 2000,
    shapley: str = "auto",
    n_permutations: int | None = None,
    n_folds: int = 5,
    n_bootstrap: int = 0,
    alpha: float = 0.05,
    random_state=None,
) -> AttributionResult:
    """Which mechanisms changed between two data sets, and how much of the change in the target each explains.

    ``method="shapley"`` (Budhathoki et al. 2021, "Why did the distribution change?"; DoWhy-GCM's
    ``distribution_change``): the mechanisms of the target and its ancestors are fitted on the old
    and on the new data (the kind of mechanism the model was fitted with; linear for a model built
    by hand). A mechanism whose change is not significant (``changed="test"``:
    :func:`mechanism_change_test` per node, Benjamini-Hochberg at ``test_alpha``) is fitted once on
    both data sets together and shared, so it gets no credit. The value of a coalition ``S`` is the
    target's ``measure`` when the nodes in ``S`` take their new mechanisms and the others keep their
    old ones, minus its old value; the Shapley values add up to the total change. For linear
    mechanisms the means and variances are exact (no sampling); otherwise ``n_samples`` draws with
    common random numbers across coalitions.

    ``measure="kl"`` attributes the change of the target's whole distribution, as DoWhy-GCM's
    ``distribution_change`` does by default: the value of ``S`` is the Kullback-Leibler divergence
    ``KL(P_old(Y) || P_S(Y))`` of the target's distribution under the mix from its old one, so the
    contributions add up to ``KL(P_old(Y) || P_new(Y))`` in nats. When every mechanism is linear and
    every noise Gaussian (a model fitted with ``noise="gaussian"``, or one built from Gaussians) the
    divergences are those of two normal distributions, exact. Otherwise they are estimated from
    ``n_samples`` draws by the 1-nearest-neighbour estimator of Wang et al. (2009), against an
    independent old sample, minus the same estimate for the old model itself (drawn with the
    coalitions' common random numbers), so that unchanged mechanisms get exactly 0; that estimator
    runs low at finite ``n_samples`` (by 4% to 20% at 2000 draws on pairs of Gaussians), a bias
    ``mc_std_err`` does not cover.

    ``method="robust"`` (Quintas-Martínez et al. 2024, "Multiply robust estimation of causal change
    attributions"): no model is fitted; the target's distribution is factored along a topological
    order into ``P(X_1) P(X_2 | X_1) ... P(Y | X_1..X_K)`` and the mean (or variance) of ``Y`` under
    each mix of old and new factors is estimated from the data by the multiply-robust combination of
    nested regressions (linear least squares) and re-weighting by classifier density ratios
    (logistic regression), cross-fitted over ``n_folds`` folds; Shapley values over the factors as
    above. It stays consistent if, for each factor, either its regression or its weight is right.

    Parameters
    ----------
    model : scm.SCM
        Gives the graph (and the mechanism kind to fit).
    old_data, new_data : DataFrame
        Rows before and after the change (at least 10 each), a column per node.
    target : node
    method : {"shapley", "robust"}
    measure : {"mean", "variance", "kl"}
        The change attributed: of the target's mean, of its variance, or of its whole distribution
        (KL divergence, nats; ``method="shapley"`` only).
    changed : "test", "all" or a list of nodes
        Which mechanisms may differ ("shapley" only): tested, all, or the given ones.
    test_alpha : float
        False-discovery rate of the mechanism-change tests.
    n_samples : int
        Monte-Carlo draws per coalition (non-linear mechanisms).
    shapley : {"auto", "exact", "permutation"}
    n_permutations : int, optional
    n_folds : int
        Cross-fitting folds of the robust estimator.
    n_bootstrap : int
        0, or resamples of both data sets (at least 2): everything, fits and tests included, is
        done again on each.
    alpha : float
    random_state : None, int or Generator

    Returns
    -------
    AttributionResult
        One contribution per node (the target's ancestors and the target); ``details`` holds the total
        change, and for "shapley" the ``pvalues`` and ``changed`` decisions per node.

    Raises
    ------
    NotFittedError, UnknownNodeError, GraphError, DataError, ParameterError
        Not an SCM; unknown target or a node missing from a data set; a target without ancestors;
        fewer than 10 rows in a data set; bad options (named).

    Examples
    --------
    >>> from scm import SCM, shift
    >>> before = SCM.from_linear([[0, 1.0, 0], [0, 0, 1.0], [0, 0, 0]], nodes=["A", "B", "C"])
    >>> after = before.do({"B": shift(2.0)})  # B's mechanism shifted by 2
    >>> old, new = before.sample(1000, random_state=2), after.sample(1000, random_state=102)
    >>> res = attribute_distribution_change(before, old, new, "C", random_state=0)
    >>> res.contributions.round(1).tolist()
    [0.0, 2.1, 0.0]
    >>> res.details["changed"].tolist()
    [False, True, False]
    """
    owner = "attribute_distribution_change"
    model = _check_model(model, owner)
    players = _check_target(model, target, owner)
    method = check_option(method, _DC_METHODS, name="method", owner=owner)
    measure = check_option(measure, _MEASURES, name="measure", owner=owner)
    if method == "robust" and measure == "kl":
        raise ParameterError(
            f"The 'measure' parameter of {owner} is 'kl', which method='robust' does not estimate (it attributes a mean or "
            "a variance); use method='shapley' for the KL divergence, or measure='mean' / 'variance'"
        )
    old, new = _check_two_samples(model, old_data, new_data, players, owner)
    changed = _check_changed(changed, players, target, owner)
    check_in_range(test_alpha, name="test_alpha", low=0, high=1, owner=owner)
    n_samples = _check_count(n_samples, "n_samples", owner, low=_N_BATCHES * 2, columns=len(players))
    n_folds = _check_count(n_folds, "n_folds", owner)
    check_option(shapley, ("auto", "exact", "permutation"), name="shapley", owner=owner)
    n_bootstrap = check_n_bootstrap(n_bootstrap, owner=owner)
    alpha = check_alpha(alpha, owner=owner)

    def run(o, nw, rng):
        if method == "robust":
            from ._robust import robust_change_attribution

            values, mc = robust_change_attribution(
                o, nw, players, measure=measure, n_folds=n_folds, shapley=shapley, n_permutations=n_permutations, rng=rng, owner=owner
            )
            return values, mc, {}, False
        m_old, m_new, pvals, decision = _changed_models(model, players, o, nw, changed=changed, test_alpha=test_alpha, rng=rng)
        values, mc, exact = _shapley_change(
            m_old, m_new, players, measure=measure, n_samples=n_samples, shapley=shapley, n_permutations=n_permutations, rng=rng,
            owner=owner,
        )  # fmt: skip
        return values, mc, {"pvalues": pvals, "changed": decision}, exact

    point_seed, *children = seed_sequence(random_state).spawn(n_bootstrap + 1)
    values, mc, details, exact = run(old, new, np.random.default_rng(point_seed))
    details["total_change"] = _total_change(old[target], new[target], measure)
    reps, failures = _resample_both(run, old, new, children, owner)
    se, lo, hi, interval, note = _two_sample_intervals(reps, len(players), alpha)
    if method == "robust":
        words = f"multiply robust (Quintas-Martinez et al. 2024), {n_folds}-fold cross-fitting; "
    elif exact:
        words = (
            "mechanism replacement, "
            + ("exact KL of the linear-Gaussian SCM" if measure == "kl" else "exact moments of the linear SCM")
            + "; "
        )
    else:
        words = f"mechanism replacement, {n_samples} draws" + (", 1-NN KL estimator" if measure == "kl" else "") + "; "
    wrap = lambda a: pd.Series(np.asarray(a, dtype=float), index=pd.Index(players))  # noqa: E731
    return AttributionResult(
        wrap(values),
        wrap(se),
        wrap(lo),
        wrap(hi),
        wrap(mc),
        target,
        "KL divergence of the new distribution from the old" if measure == "kl" else f"change in the {measure}",
        words + _shapley_words(len(players), shapley, n_permutations),
        interval,
        alpha,
        note,
        n_bootstrap,
        failures,
        details,
    )


def _check_two_samples(model, old_data, new_data, players, owner):
    """The old and new data, checked (the model's columns, magnitudes, enough rows), restricted to ``players``."""
    old = _check_samples(model, old_data, players, owner, "old_data")
    new = _check_samples(model, new_data, players, owner, "new_data")
    for name, frame in (("old_data", old), ("new_data", new)):
        _check_magnitude(frame, players, owner, name)
        if len(frame) < MIN_ROWS:
            raise DataError(f"{owner}: {name} has {len(frame)} rows; at least {MIN_ROWS} are needed to fit and compare mechanisms")
    return old[players].reset_index(drop=True), new[players].reset_index(drop=True)


def _check_changed(changed, players, target, owner):
    """``changed``: 'test', 'all' or a list of the target's ancestors (named when not)."""
    if isinstance(changed, str):
        return check_option(changed, ("test", "all"), name="changed", owner=owner)
    try:
        changed = list(changed)
    except TypeError:
        raise ParameterError(f"The 'changed' parameter of {owner} must be 'test', 'all' or a list of nodes; got {changed!r}") from None
    check_nodes(changed, players, what="changed node", where=f"the target {target!r} and its ancestors")
    return changed


def _total_change(old: pd.Series, new: pd.Series, measure: str) -> float:
    """The data's own change of the target: difference of means or variances, or the 1-NN KL estimate."""
    if measure == "kl":
        return float(knn_kl(old.to_numpy(dtype=float), new.to_numpy(dtype=float)))
    if measure == "mean":
        return float(new.mean() - old.mean())
    return float(new.var(ddof=0) - old.var(ddof=0))


def _resample_both(run, old, new, seeds, owner):
    """``run(old*, new*, rng)[0]`` on one row resample of both data sets per seed; (answers, failures).

    Raises :class:`scm.BootstrapError` when more than a tenth of the resamples fail.
    """
    reps, failures = [], 0
    for child in seeds:
        r = np.random.default_rng(child)
        o = old.iloc[r.integers(0, len(old), len(old))].reset_index(drop=True)
        nw = new.iloc[r.integers(0, len(new), len(new))].reset_index(drop=True)
        try:
            reps.append(run(o, nw, r)[0])
        except (ParameterError, DataError, GraphError, np.linalg.LinAlgError) as exc:
            failures += 1
            logger.info("%s: a bootstrap resample failed: %s", owner, exc)
    if seeds and failures > 0.1 * len(seeds):
        from scm import BootstrapError

        raise BootstrapError(f"{owner}: {failures} of {len(seeds)} bootstrap resamples failed; the data are too few")
    return reps, failures


def _two_sample_intervals(reps, n_players: int, alpha: float):
    """(std_err, lower, upper, interval kind, note) from the resampled answers (NaN without any)."""
    if not reps:
        nan = np.full(n_players, np.nan)
        note = (
            "not available: the mechanisms are fitted to the data and their estimation error is not assessed without "
            "a bootstrap; pass n_bootstrap=... (e.g. 200)"
        )
        return nan, nan, nan, "not available", note
    R = np.vstack(reps)
    lo, hi = np.quantile(R, [alpha / 2, 1 - alpha / 2], axis=0)
    note = f"bootstrap: {len(R)} resamples of both data sets, everything refitted and retested on each"
    return R.std(axis=0, ddof=1), lo, hi, "percentile bootstrap", note
