"""IDA: the possible causal effects of a treatment when only the Markov equivalence class is known.

A CPDAG (the output of constraint-based discovery) stands for several DAGs, and in general they
disagree about the total effect of ``x`` on ``y``: the class holds DAGs where a neighbour of ``x``
is a confounder and DAGs where it is a mediator. IDA (Maathuis, Kalisch and Bühlmann 2009) answers
with the *set* of effects over the class, under a linear model: in a DAG ``G`` the parents of ``x``
are a valid adjustment set, so the effect is the coefficient of ``x`` in the regression of ``y`` on
``x`` and ``pa_G(x)`` (and 0 when ``y`` is a parent of ``x``). Three phases:

1. the parent sets of ``x`` over the class (:func:`_local_parent_sets`: every set
   ``pa(x) ∪ S``, ``S`` a subset of the undirected neighbours of ``x`` whose orientation
   ``S -> x -> (rest)`` makes no new v-structure at ``x``; or one per DAG of the enumerated
   class, :func:`_global_parent_sets`);
2. the adjustment set per parent set (:func:`_optimal_adjustment`: the parents themselves, or
   for ``method="optimal"`` the O-set of the class oriented around ``x``, Witte, Henckel,
   Maathuis and Didelez 2020);
3. one least-squares regression per set, with its standard error and confidence interval
   (:func:`_regress`, on standardised moments so that a column's scale changes nothing).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

from scm import PDAG, DataError, GraphError, ParameterError, UnknownNodeError, cpdag, dags_in_class, meek_rules
from scm._cpdag import _extension
from scm._scale import center_scale, standardise
from scm._validation import as_dataframe, check_in_range, check_nodes, check_numeric_frame, check_option

from ._adjustment import NotIdentifiableError, _Graph, adjustment_set

__all__ = ["ida", "IDAResult", "EffectRange"]

logger = logging.getLogger(__name__)

METHODS = ("local", "optimal", "global")

#: Regressors whose correlation matrix has an eigenvalue below this fraction of the largest are
#: linearly dependent (two columns correlated beyond 1 - 5e-15): their separate effects are not
#: identified and the regression is refused, naming them.
_COLLINEAR = 1e-14


class EffectRange(NamedTuple):
    """The range of the possible effects.

    Attributes
    ----------
    low, high : float
        The smallest and the largest point estimate.
    ci_low, ci_high : float
        The envelope of their confidence intervals: the lowest lower and the highest upper
        bound. When the true DAG is in the class, its effect's interval is one of them, so the
        envelope covers the true effect with at least the intervals' confidence.
    """

    low: float
    high: float
    ci_low: float
    ci_high: float


@dataclass(repr=False)
class IDAResult:
    """The possible effects of one treatment on one outcome over a Markov equivalence class.

    Not one effect: the graph leaves the parents of the treatment open, and each row of
    :attr:`table` is the effect under one of the parent sets the class allows. The true
    effect is one of these values (under the linear model, when the class holds the true
    DAG), not their mean.

    Attributes
    ----------
    treatment, outcome : hashable
    method : {"local", "optimal", "global"}
        How the rows were formed (see :func:`ida`).
    table : pandas.DataFrame
        One row per parent set (``"local"``, ``"optimal"``) or per DAG of the class
        (``"global"``), with columns ``parents`` (the treatment's parents, a tuple in node
        order), ``adjustment`` (the set regressed on besides the treatment: the parents, or
        the O-set for ``"optimal"``), ``effect``, ``std_err``, ``ci_low``, ``ci_high`` and
        ``note`` (why an effect is exactly 0, else empty).
    alpha : float
        1 - the intervals' confidence level.
    n_obs : int or "population"
        The rows behind the estimates; ``"population"`` for an exact covariance matrix (then
        the effects are exact and every ``std_err`` is 0).
    """

    treatment: Hashable
    outcome: Hashable
    method: str
    table: pd.DataFrame
    alpha: float
    n_obs: int | str

    @property
    def effects(self) -> np.ndarray:
        """The multiset of possible effects (the ``effect`` column), one per row."""
        return self.table["effect"].to_numpy(dtype=float)

    @property
    def range(self) -> EffectRange:
        """Smallest and largest effect, and the envelope of their confidence intervals."""
        t = self.table
        return EffectRange(float(t["effect"].min()), float(t["effect"].max()), float(t["ci_low"].min()),
                           float(t["ci_high"].max()))

    @property
    def identified(self) -> bool:
        """Whether the class agrees on the treatment's parents (a single row), so the effect is one number."""
        return self.table["parents"].nunique() == 1

    def summary(self) -> str:
        """The table and the range, in words that say these are possible effects, not one."""
        level = f"{100 * (1 - self.alpha):g}%"
        r = self.range
        head = (f"IDA ({self.method}): possible effects of {self.treatment!r} on {self.outcome!r} over the "
                "Markov equivalence class")
        if self.identified:
            what = (f"Every DAG of the class gives {self.treatment!r} the same parents, so the effect is identified: "
                    "one value.")
        else:
            unit = "DAG of the class" if self.method == "global" else "possible parent set of the treatment"
            what = (f"The graph does not identify the effect: each of the {len(self.table)} rows is one {unit}, and "
                    "the true effect is one of these values (under a linear model), not their average.")
        source = ("an exact (population) covariance: no sampling error" if self.n_obs == "population"
                  else f"{self.n_obs} rows; {level} t intervals")
        shown = self.table.assign(parents=self.table["parents"].map(_fmt_set), adjustment=self.table["adjustment"].map(_fmt_set))
        lines = [head, what, f"Estimates from {source}.", shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"),
                 f"Range of the possible effects: [{r.low:.4g}, {r.high:.4g}]; envelope of the {level} intervals: "
                 f"[{r.ci_low:.4g}, {r.ci_high:.4g}]."]
        return "\n".join(lines)

    def __repr__(self) -> str:
        r = self.range
        return (f"IDAResult(treatment={self.treatment!r}, outcome={self.outcome!r}, method={self.method!r}, "
                f"{len(self.table)} possible effects in [{r.low:.4g}, {r.high:.4g}], "
                f"intervals within [{r.ci_low:.4g}, {r.ci_high:.4g}])")


def _fmt_set(nodes) -> str:
    return "{" + ", ".join(map(str, nodes)) + "}"


# ============================================================================ moments


@dataclass
class _Moments:
    """Standardised second moments: ``corr`` (the correlation matrix; 0 rows for constant columns),
    ``scale`` (the standard deviations), ``dof`` (the rows, None for a population covariance)."""

    index: dict
    corr: np.ndarray
    scale: np.ndarray
    dof: int | None


def _moments_from_data(data, nodes: list) -> _Moments:
    frame = as_dataframe(data, name="data")
    check_nodes(nodes, frame.columns, what="graph node", where="the data's columns")
    frame = check_numeric_frame(frame[nodes], name="data")
    values = frame.to_numpy(dtype=float)
    n = len(values)
    if n < 3:
        raise DataError(f"data has {n} rows; IDA's regressions need at least 3 (one for the treatment, one for the "
                        "intercept and one residual degree of freedom)")
    loc, scale = center_scale(values, nodes, owner="ida")
    z = standardise(values, loc, scale)
    corr = z.T @ z / n
    return _Moments({v: i for i, v in enumerate(nodes)}, corr, scale, n)


def _moments_from_covariance(covariance, n_obs, nodes: list) -> _Moments:
    if not isinstance(covariance, pd.DataFrame):
        raise ParameterError(f"covariance must be a DataFrame labelled by node on both axes; got {type(covariance).__name__}")
    if list(covariance.index) != list(covariance.columns):
        raise ParameterError("covariance must have the same labels, in the same order, on rows and columns")
    check_nodes(nodes, covariance.columns, what="graph node", where="the covariance's labels")
    sub = check_numeric_frame(covariance.loc[nodes, nodes], name="covariance")
    cov = sub.to_numpy(dtype=float)
    if not np.allclose(cov, cov.T, rtol=1e-10, atol=0.0):
        i, j = np.unravel_index(np.argmax(np.abs(cov - cov.T)), cov.shape)
        raise ParameterError(f"covariance is not symmetric: entry [{nodes[i]!r}, {nodes[j]!r}] differs from its transpose")
    var = np.diag(cov)
    if (var < 0).any():
        bad = nodes[int(np.flatnonzero(var < 0)[0])]
        raise ParameterError(f"covariance gives node {bad!r} a negative variance")
    if isinstance(n_obs, str):
        check_option(n_obs, ("population",), name="n_obs", owner="ida")
        dof = None
    else:
        if n_obs is None:
            raise ParameterError("give n_obs with a covariance: the rows it was estimated from (for the standard errors), "
                                 "or n_obs='population' for an exact covariance")
        check_in_range(n_obs, name="n_obs", low=3, inclusive="left", integer=True, owner="ida")
        dof = int(n_obs)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        scale = np.sqrt(var)
        div = np.where(scale > 0, scale, 1.0)
        corr = cov / div[:, None] / div[None, :]
    if not np.isfinite(corr).all():
        raise ParameterError("covariance spans more than the float64 range once standardised; rescale it")
    return _Moments({v: i for i, v in enumerate(nodes)}, corr, scale, dof)


# ============================================================================ phase 3: one regression


def _regress(m: _Moments, x, y, adjustment, alpha: float) -> tuple[float, float, float, float]:
    """``(effect, std_err, ci_low, ci_high)``: the coefficient of ``x`` in the least-squares regression of
    ``y`` on ``x`` and ``adjustment`` (with an intercept), its standard error and t interval.

    Computed from standardised moments and mapped back: ``beta = b * sd(y) / sd(x)`` with ``b`` the
    standardised coefficient, so multiplying a column by ``10**k`` rescales the answer exactly.
    """
    cols = [x, *adjustment]
    names = [y, *cols]
    for v in names:
        if m.scale[m.index[v]] == 0:
            raise DataError(f"column {v!r} is constant: the regression of {y!r} on {cols} is not defined "
                            "(a constant variable carries no information about effects)")
    idx = [m.index[v] for v in cols]
    a = m.corr[np.ix_(idx, idx)]
    c = m.corr[idx, m.index[y]]
    eig, vec = np.linalg.eigh(a)
    if eig[0] <= _COLLINEAR * max(eig[-1], 1.0):
        involved = [cols[j] for j in np.flatnonzero(np.abs(vec[:, 0]) > 1e-3)]
        raise DataError(f"columns {involved} are linearly dependent (collinear): the effect of {x!r} on {y!r} adjusted for "
                        f"{list(adjustment)} is not identified from these data")
    b = np.linalg.solve(a, c)
    sx, sy = m.scale[m.index[x]], m.scale[m.index[y]]
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = sy / sx
        effect = float(b[0] * ratio)
    if not np.isfinite(effect):
        raise DataError(f"the effect of {x!r} on {y!r} exceeds the float64 range (their scales differ by more than "
                        "~1e308); rescale the columns")
    if m.dof is None:
        return effect, 0.0, effect, effect
    df = m.dof - len(cols) - 1
    if df < 1:
        raise DataError(f"the regression of {y!r} on {cols} needs at least {len(cols) + 2} rows (one per regressor, one "
                        f"for the intercept, one residual degree of freedom); there are {m.dof}")
    resid = max(float(m.corr[m.index[y], m.index[y]] - c @ b), 0.0)
    inv00 = float(np.linalg.solve(a, np.eye(len(cols))[0])[0])
    with np.errstate(over="ignore", invalid="ignore"):
        se = float(np.sqrt(resid * inv00 / df) * ratio)
    half = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return effect, se, effect - half, effect + half


# ============================================================================ phases 1 and 2: parent and adjustment sets


def _local_parent_sets(g: PDAG, x, *, limit: int) -> list[frozenset]:
    """The locally valid parent sets of ``x`` in the CPDAG ``g`` (Maathuis et al. 2009, Lemma 3.1).

    ``pa(x) ∪ S`` for every subset ``S`` of the undirected neighbours of ``x`` such that orienting
    ``S -> x`` and ``x -> (neighbours - S)`` creates no new v-structure with collider ``x``: every two
    nodes of ``S`` are adjacent, and every node of ``S`` is adjacent to every parent of ``x`` (pairs of
    parents are v-structures of the CPDAG already). So ``S`` runs over the cliques of the neighbours
    (and the empty set). Each such set is the parent set of ``x`` in at least one DAG of the class, and
    every DAG's is among them. Sorted by size, then by node order.
    """
    pos = {v: i for i, v in enumerate(g.nodes)}
    pa = frozenset(g.parents(x))
    sib = sorted(g.neighbors(x), key=pos.__getitem__)
    h = nx.Graph()
    h.add_nodes_from(s for s in sib if all(g.adjacent(s, p) for p in pa))
    h.add_edges_from((a, b) for a, b in itertools.combinations(list(h.nodes), 2) if g.adjacent(a, b))
    sets = [frozenset()]
    for clique in nx.enumerate_all_cliques(h):
        sets.append(frozenset(clique))
        if len(sets) > limit:
            raise ParameterError(f"{x!r} has more than limit={limit} locally valid parent sets; raise 'limit'")
    out = [pa | s for s in sets]
    return sorted(out, key=lambda s: (len(s), sorted(pos[v] for v in s)))


def _global_parent_sets(g: PDAG, x, *, limit: int) -> list[frozenset]:
    """The parent set of ``x`` in each DAG of the class of ``g`` (global IDA: one per DAG, with repeats)."""
    try:
        dags = dags_in_class(g, limit=limit)
    except GraphError as exc:
        if "more than" not in str(exc):
            raise
        raise ParameterError(f"the class has more than limit={limit} DAGs; raise 'limit', or use method='local' (one row "
                             "per parent set of the treatment, without enumerating the class)") from None
    if not dags:
        raise GraphError("the graph represents no DAG: every orientation of its undirected edges adds a directed cycle "
                         "or a v-structure it does not have")
    return [frozenset(d.predecessors(x)) for d in dags]


def _optimal_adjustment(g: PDAG, x, y, parents: frozenset):
    """The O-set for ``(x, y)`` in the class ``g`` restricted to the DAGs where ``x`` has ``parents``
    (Witte et al. 2020), or None when ``y`` is not a possible descendant of ``x`` there (effect 0).

    Orient every edge at ``x`` accordingly and close under Meek's rules: the result (a maximally
    oriented PDAG) represents exactly those DAGs and, all edges at ``x`` being directed, is amenable
    relative to ``(x, y)``, so its O-set (Henckel, Perković and Maathuis 2022) is a valid adjustment
    set in each of them and the most efficient one.
    """
    sib = g.neighbors(x)
    oriented = g.with_edges(directed=[(s, x) for s in sib & parents] + [(x, t) for t in sib - parents])
    closed = meek_rules(oriented)
    if y not in _Graph.from_input(closed).descendants([x], possible=True):
        return None
    return adjustment_set(closed, x, y, kind="optimal")


# ============================================================================ the function


def _is_cpdag(pdag: PDAG) -> bool:
    """Whether ``pdag`` is the CPDAG of a DAG (of every DAG it represents): the CPDAG of one of its extensions."""
    try:
        member, _ = _extension(pdag)  # any member will do: the class has one CPDAG, so no choice is made here
    except GraphError:
        return False
    return cpdag(member) == pdag


def _as_class_graph(graph, method: str) -> PDAG:
    """The graph as a PDAG over which the class is read: a DAG, or a CPDAG (any extendable PDAG for ``"global"``)."""
    g = _Graph.from_input(graph)  # type and cycles, named
    if g.kind == "admg":
        raise GraphError("ida needs a DAG or a CPDAG; this graph has bidirected edges (latent confounders): use "
                         "estimators.identify or adjustment on an ADMG")
    pdag = graph if isinstance(graph, PDAG) else PDAG(graph.nodes, graph.edges)
    if g.kind == "cpdag" and method != "global":
        try:
            _extension(pdag)
        except GraphError as exc:
            raise GraphError(f"the graph represents no DAG ({exc})") from None
        if not _is_cpdag(pdag):
            raise GraphError(
                f"method={method!r} needs a CPDAG, and this PDAG is not the CPDAG of any DAG (it carries orientations "
                "the class does not force, e.g. background knowledge); method='global' enumerates the DAGs it represents"
            )
    return pdag


def ida(
    graph,
    data=None,
    treatment=None,
    outcome=None,
    *,
    method: str = "local",
    alpha: float = 0.05,
    covariance=None,
    n_obs=None,
    limit: int = 10_000,
) -> IDAResult:
    """The possible effects of ``treatment`` on ``outcome`` over the class of a CPDAG (IDA).

    A CPDAG does not fix the parents of the treatment, so in general it does not fix the
    effect. IDA (Maathuis, Kalisch and Bühlmann 2009) returns one estimate per parent set the
    class allows: the coefficient of the treatment in the least-squares regression of the
    outcome on the treatment and an adjustment set (0 when the outcome is one of the parents).
    Under a linear model whose DAG is in the class, the true effect is one of these values.

    Parameters
    ----------
    graph : scm.PDAG or networkx.DiGraph
        A CPDAG (e.g. ``PC().fit(data).graph_``) or a DAG (then there is one row). Every node
        must be a column of ``data`` (IDA assumes no hidden confounders).
    data : pandas.DataFrame, optional
        Observations, numeric and finite; columns outside the graph are ignored. Or give
        ``covariance`` instead.
    treatment, outcome : node
        One treatment and one outcome, distinct.
    method : {"local", "optimal", "global"}
        ``"local"`` (Maathuis et al. 2009): one row per locally valid parent set ``pa(x) ∪ S``,
        ``S`` a set of undirected neighbours of the treatment whose orientation into it makes no
        new v-structure there; the adjustment set is the parent set. ``"optimal"`` (Witte,
        Henckel, Maathuis and Didelez 2020, "optimal IDA"): the same parent sets, but each
        estimate adjusts for the O-set of the class restricted to that orientation (the valid
        set of smallest asymptotic variance), and is exactly 0 when no DAG of that restricted
        class has a causal path from treatment to outcome. ``"global"``: one row per DAG of the
        class (enumerated, at most ``limit``), adjusting for its parents: the multiset of
        Maathuis et al.'s global IDA, whose distinct values are those of ``"local"``; it also
        takes a PDAG with background knowledge (a maximally oriented PDAG), which
        ``"local"`` and ``"optimal"`` refuse.
    alpha : float
        1 - the confidence level of the t intervals.
    covariance : pandas.DataFrame, optional
        Instead of ``data``: a covariance matrix labelled by node (the sample covariance with
        ``n_obs - 1`` in the denominator, or an exact one).
    n_obs : int or "population", optional
        With ``covariance``: the rows it was estimated from, or ``"population"`` for an exact
        covariance (the effects are then exact: ``std_err`` 0, intervals of zero width).
    limit : int
        The most parent sets (``"local"``, ``"optimal"``) or DAGs (``"global"``) enumerated.

    Returns
    -------
    IDAResult
        ``table`` (one row per parent set or DAG: parents, adjustment, effect, std_err,
        ci_low, ci_high, note), ``effects`` (the multiset), ``range`` (smallest and largest
        effect and the envelope of the intervals), ``summary()``.

    Raises
    ------
    UnknownNodeError
        A treatment, outcome or graph node that is not in the graph or the data.
    GraphError, CycleError
        Bidirected edges, a directed cycle, a PDAG that represents no DAG, or (``"local"``,
        ``"optimal"``) a PDAG that is not a CPDAG.
    DataError
        Non-numeric, NaN, constant or collinear columns, or too few rows, naming them.
    ParameterError
        Bad options, treatment equal to outcome, more than ``limit`` sets.

    See Also
    --------
    estimators.effect : reports this range when a CPDAG does not identify the effect.
    scm.SCM.fit : ``orientation="all"`` fits a model per DAG of the class.

    Notes
    -----
    Locally valid parent sets (Maathuis et al. 2009, Lemma 3.1) are found by listing the
    cliques among the treatment's undirected neighbours; each is the parent set of the
    treatment in some DAG of the class and every DAG's parent set is among them, so
    ``"local"`` and ``"global"`` have the same distinct values but different multiplicities
    (``"global"`` repeats a value once per DAG). All three give the same values with an exact
    covariance; with data, ``"optimal"`` has the smaller variance.

    Examples
    --------
    ``z -> x -> y`` and ``z -> y`` with weights 1, 2 and 0.5: the CPDAG is a triangle of
    undirected edges, so ``x`` may have parents {}, {z}, {y} or {z, y}:

    >>> import pandas as pd
    >>> from scm import SCM, cpdag
    >>> w = pd.DataFrame([[0, 1.0, 0.5], [0, 0, 2.0], [0, 0, 0]], index=list("zxy"), columns=list("zxy"))
    >>> truth = SCM.from_linear(w)
    >>> res = ida(cpdag(truth.graph), treatment="x", outcome="y", covariance=truth.interventional_cov(), n_obs="population")
    >>> res.table[["parents", "effect"]]
      parents  effect
    0      ()    2.25
    1    (z,)    2.00
    2    (y,)    0.00
    3  (z, y)    0.00
    >>> res.range
    EffectRange(low=0.0, high=2.25, ci_low=0.0, ci_high=2.25)
    >>> res = ida(cpdag(truth.graph), truth.sample(2000, random_state=0), "x", "y", method="optimal")
    >>> row = res.table.loc[1]  # x <- z: the O-set of x -> y is {z}
    >>> row["adjustment"], round(float(row["effect"]), 2), round(float(row["std_err"]), 3)
    (('z',), 1.98, 0.022)
    """
    check_option(method, METHODS, name="method", owner="ida")
    check_in_range(alpha, name="alpha", low=0, high=1, owner="ida")
    check_in_range(limit, name="limit", low=1, inclusive="left", integer=True, owner="ida")
    pdag = _as_class_graph(graph, method)
    nodes = list(pdag.nodes)
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if name is None:
            raise ParameterError(f"give the {role} (one node of the graph)")
        if not isinstance(name, Hashable) or (isinstance(name, (tuple, frozenset)) and name not in pdag):
            raise ParameterError(f"ida takes one {role} node; got {name!r} (joint effects of several treatments are not "
                                 "implemented)")
        if name not in pdag:
            raise UnknownNodeError(f"{role} {name!r} is not a node of the graph (nodes: {nodes[:10]})")
    if treatment == outcome:
        raise ParameterError(f"treatment and outcome are the same node {treatment!r}")
    if (data is None) == (covariance is None):
        raise ParameterError("give either data (observations) or covariance (with n_obs), not both or neither")
    if data is not None:
        if n_obs is not None:
            raise ParameterError("n_obs is for a covariance; with data the number of rows is read from it")
        moments = _moments_from_data(data, nodes)
    else:
        moments = _moments_from_covariance(covariance, n_obs, nodes)
    parent_sets = _parent_sets(pdag, treatment, method, limit)
    table = _effects_table(pdag, moments, treatment, outcome, parent_sets, method, alpha)
    logger.info("ida(%s): %d rows, effects in [%.4g, %.4g]", method, len(table), table["effect"].min(), table["effect"].max())
    return IDAResult(treatment, outcome, method, table, float(alpha), "population" if moments.dof is None else moments.dof)


def _parent_sets(pdag: PDAG, x, method: str, limit: int) -> list[frozenset]:
    if method == "global":
        return _global_parent_sets(pdag, x, limit=limit)
    return _local_parent_sets(pdag, x, limit=limit)


def _effects_table(pdag: PDAG, m: _Moments, x, y, parent_sets, method: str, alpha: float) -> pd.DataFrame:
    """Phases 2 and 3 for every parent set: one row each, regressions shared between equal sets."""
    pos = {v: i for i, v in enumerate(pdag.nodes)}
    done: dict = {}
    rows = []
    for parents in parent_sets:
        if parents not in done:
            done[parents] = _one_row(pdag, m, x, y, parents, method, alpha, pos)
        rows.append(done[parents])
    return pd.DataFrame(rows, columns=["parents", "adjustment", "effect", "std_err", "ci_low", "ci_high", "note"])


def _one_row(pdag, m, x, y, parents, method, alpha, pos) -> tuple:
    ordered = tuple(sorted(parents, key=pos.__getitem__))
    if y in parents:
        return ordered, (), 0.0, 0.0, 0.0, 0.0, f"{y} is a parent of {x}: effect 0"
    adjustment = parents
    if method == "optimal":
        try:
            adjustment = _optimal_adjustment(pdag, x, y, parents)
        except NotIdentifiableError as exc:  # pragma: no cover - the O-set exists in an amenable graph
            logger.warning("no O-set for parents %s (%s): adjusting for the parents", ordered, exc)
            adjustment = parents
        if adjustment is None:
            return ordered, (), 0.0, 0.0, 0.0, 0.0, f"no causal path from {x} to {y} in these DAGs: effect 0"
    adj = tuple(sorted(adjustment, key=pos.__getitem__))
    return (ordered, adj, *_regress(m, x, y, adj, alpha), "")
