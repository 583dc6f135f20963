"""Identification of interventional distributions: the ID algorithm.

:func:`identify` runs the ID algorithm of Shpitser and Pearl (2006) (equivalently
Tian and Pearl 2002) on a graph with latent confounders, an ADMG given as an
:class:`scm.PDAG` with directed and bidirected edges (``a <-> b``: an unobserved
common cause), or on a DAG (no latents: the truncated factorisation). It returns
an :class:`Estimand`: an expression of sums, products and ratios of observational
(conditional) probabilities that prints as a formula and can be evaluated on a
joint distribution or on discrete data. When the effect is not identifiable it
raises :class:`NotIdentifiableError` carrying the *hedge*: two C-forests
``F' ⊂ F`` rooted in the outcome's ancestors that witness it.

Examples
--------
>>> from scm import PDAG
>>> front_door = PDAG.from_edges([("x", "m"), ("m", "y"), ("x", "y", "bidirected")])
>>> print(identify(front_door, "x", "y"))
Σ_{m} P(m | x) Σ_{x'} P(x') P(y | x', m)
>>> import networkx as nx
>>> bow = nx.DiGraph([("x", "y"), ("u", "x"), ("u", "y")])   # u unobserved
>>> identify(bow, "x", "y", latent=["u"])
Traceback (most recent call last):
...
estimators._adjustment.NotIdentifiableError: P(y | do(x)) is not identifiable: hedge F = {x, y}, F' = {y}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scm import DataError, ParameterError
from scm._validation import check_nodes

from ._adjustment import NotIdentifiableError, _as_node_set, _Graph

__all__ = ["identify", "Estimand", "Prob", "Product", "Sum", "Fraction"]


# ============================================================================ expressions


class _Expr:
    """Base class of estimand expressions (immutable)."""

    def free(self) -> frozenset:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Prob(_Expr):
    """``P(outcomes | given)`` of the observational distribution."""

    outcomes: tuple
    given: tuple = ()

    def free(self):
        return frozenset(self.outcomes) | frozenset(self.given)


@dataclass(frozen=True)
class Product(_Expr):
    """A product of factors."""

    factors: tuple

    def free(self):
        return frozenset().union(*(f.free() for f in self.factors))


@dataclass(frozen=True)
class Sum(_Expr):
    """``Σ_{over} expr``: marginalisation over the variables ``over``."""

    over: tuple
    expr: _Expr

    def free(self):
        return self.expr.free() - frozenset(self.over)


@dataclass(frozen=True)
class Fraction(_Expr):
    """``numerator / denominator``."""

    numerator: _Expr
    denominator: _Expr

    def free(self):
        return self.numerator.free() | self.denominator.free()


def _product(factors) -> _Expr:
    flat = []
    for f in factors:
        flat.extend(f.factors if isinstance(f, Product) else [f])
    return flat[0] if len(flat) == 1 else Product(tuple(flat))


def _sum(over, expr, order) -> _Expr:
    over = [v for v in order if v in set(over) and v in expr.free()]
    if not over:
        return expr
    if isinstance(expr, Sum):
        return Sum(tuple(v for v in order if v in set(over) | set(expr.over)), expr.expr)
    return Sum(tuple(over), expr)


# ----------------------------------------------------------------------------- printing


def _name(v, scope: dict) -> str:
    return scope.get(v, str(v))


def _to_text(e: _Expr, scope: dict, taken: set) -> str:
    if isinstance(e, Prob):
        out = ", ".join(_name(v, scope) for v in e.outcomes)
        if e.given:
            return f"P({out} | {', '.join(_name(v, scope) for v in e.given)})"
        return f"P({out})"
    if isinstance(e, Product):
        parts = []
        for f in e.factors:
            t = _to_text(f, scope, taken)
            parts.append(f"[{t}]" if isinstance(f, Sum) and f is not e.factors[-1] else t)
        return " ".join(parts)
    if isinstance(e, Sum):
        inner = dict(scope)
        names = []
        for v in e.over:
            name = str(v)
            while name in taken:
                name += "'"
            inner[v] = name
            names.append(name)
        body = _to_text(e.expr, inner, taken | set(names))
        return f"Σ_{{{', '.join(names)}}} {body}"
    if isinstance(e, Fraction):
        return f"({_to_text(e.numerator, scope, taken)}) / ({_to_text(e.denominator, scope, taken)})"
    raise TypeError(type(e))  # pragma: no cover


# ----------------------------------------------------------------------------- evaluation


class _Joint:
    """A joint probability table over named discrete variables."""

    def __init__(self, names, table):
        self.names = list(names)
        self.table = np.asarray(table, dtype=float)
        self.card = dict(zip(self.names, self.table.shape))
        self._cache = {}

    def marginal(self, keep) -> tuple:
        key = frozenset(keep)
        if key not in self._cache:
            drop = tuple(i for i, n in enumerate(self.names) if n not in key)
            kept = [n for n in self.names if n in key]
            self._cache[key] = (kept, self.table.sum(axis=drop))
        return self._cache[key]


def _align(factor, names):
    """Broadcast a factor ``(vars, array)`` to the axis order ``names``."""
    vars_, arr = factor
    if not vars_:
        return np.asarray(arr).reshape((1,) * len(names))
    perm = [vars_.index(n) for n in names if n in vars_]
    arr = np.transpose(arr, perm)
    shape = [arr.shape[[n for n in names if n in vars_].index(n)] if n in vars_ else 1 for n in names]
    return arr.reshape(shape)


def _eval(e: _Expr, joint: _Joint) -> tuple:
    if isinstance(e, Prob):
        allv = list(dict.fromkeys(e.outcomes + e.given))
        names, num = joint.marginal(allv)
        if not e.given:
            return names, num
        gnames, den = joint.marginal(e.given)
        den = _align((gnames, den), names)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        return names, out
    if isinstance(e, Product):
        facs = [_eval(f, joint) for f in e.factors]
        names = list(dict.fromkeys(n for f in facs for n in f[0]))
        out = np.ones([1] * len(names))
        for f in facs:
            out = out * _align(f, names)
        shape = [joint.card[n] for n in names]
        return names, np.broadcast_to(out, shape).copy()
    if isinstance(e, Sum):
        names, arr = _eval(e.expr, joint)
        axes = tuple(names.index(v) for v in e.over if v in names)
        factor = np.prod([joint.card[v] for v in e.over if v not in names]) if e.over else 1.0
        return [n for n in names if n not in e.over], arr.sum(axis=axes) * factor
    if isinstance(e, Fraction):
        num = _eval(e.numerator, joint)
        den = _eval(e.denominator, joint)
        names = list(dict.fromkeys(num[0] + den[0]))
        a, b = _align(num, names), _align(den, names)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)
        shape = [joint.card[n] for n in names]
        return names, np.broadcast_to(out, shape).copy()
    raise TypeError(type(e))  # pragma: no cover


# ============================================================================ the estimand


class Estimand:
    """An identified interventional distribution ``P(outcome | do(treatment))``.

    Attributes
    ----------
    treatment, outcome : tuple
    expression : Prob, Product, Sum or Fraction
        The formula as an expression tree over observational probabilities.

    Examples
    --------
    >>> import networkx as nx
    >>> e = identify(nx.DiGraph([("z", "x"), ("z", "y"), ("x", "y")]), "x", "y")
    >>> print(e)
    Σ_{z} P(z) P(y | z, x)
    >>> e.variables
    ['z', 'x', 'y']
    """

    def __init__(self, treatment, outcome, expression, order):
        self.treatment = tuple(treatment)
        self.outcome = tuple(outcome)
        self.expression = expression
        self._order = list(order)

    def __str__(self) -> str:
        free = set(self.treatment) | set(self.outcome)
        return _to_text(self.expression, {}, {str(v) for v in free})

    def __repr__(self) -> str:
        t = ", ".join(map(str, self.outcome))
        d = ", ".join(map(str, self.treatment))
        return f"Estimand(P({t} | do({d})) = {self})"

    @property
    def variables(self) -> list:
        """Observed variables the formula reads, in topological order."""
        used = set()

        def walk(e):
            if isinstance(e, Prob):
                used.update(e.outcomes, e.given)
            elif isinstance(e, Product):
                for f in e.factors:
                    walk(f)
            elif isinstance(e, Sum):
                walk(e.expr)
            elif isinstance(e, Fraction):
                walk(e.numerator)
                walk(e.denominator)

        walk(self.expression)
        return [v for v in self._order if v in used]

    def evaluate(self, data=None, *, joint=None) -> pd.Series:
        """``P(outcome | do(treatment))`` for every combination of values.

        Parameters
        ----------
        data : DataFrame, optional
            Discrete data with integer state codes ``0..k-1``; the empirical joint
            distribution of :attr:`variables` is plugged into the formula.
        joint : (names, array), optional
            Instead of data, a joint probability table: ``array`` has one axis per
            name (the states of that variable).

        Returns
        -------
        pandas.Series
            Indexed by ``(treatment values..., outcome values...)``.

        Examples
        --------
        >>> import numpy as np, networkx as nx
        >>> e = identify(nx.DiGraph([("x", "y")]), "x", "y")
        >>> p = np.array([[0.4, 0.1], [0.1, 0.4]])
        >>> e.evaluate(joint=(["x", "y"], p)).round(2).tolist()
        [0.8, 0.2, 0.2, 0.8]
        """
        if (data is None) == (joint is None):
            raise ParameterError("give exactly one of 'data' and 'joint'")
        if data is not None:
            joint = _empirical_joint(data, self.variables + [v for v in self.treatment + self.outcome if v not in self.variables])
        else:
            names, table = joint
            table = np.asarray(table, dtype=float)
            if table.ndim != len(names):
                raise DataError(f"joint table has {table.ndim} axes for {len(names)} names")
            check_nodes(self.variables, set(names), what="variable", where="the joint table")
            joint = _Joint(names, table / table.sum())
        names, arr = _eval(self.expression, joint)
        order = list(self.treatment) + list(self.outcome)
        extra = [n for n in names if n not in order]
        if extra:
            # The formula does not depend on these (e.g. r in the napkin); average over P(extra).
            enames, w = joint.marginal(extra)
            arr = arr * _align((enames, w), names)
            arr = arr.sum(axis=tuple(names.index(n) for n in extra))
            names = [n for n in names if n not in extra]
        full = _align((names, arr), order)
        full = np.broadcast_to(full, [joint.card[n] for n in order])
        index = pd.MultiIndex.from_product([range(joint.card[n]) for n in order], names=order)
        return pd.Series(full.reshape(-1), index=index, name="probability")


def _empirical_joint(data, names) -> _Joint:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a DataFrame of discrete state codes; got {type(data).__name__}")
    check_nodes(names, set(data.columns), what="variable", where="the data's columns")
    arr = data[names].to_numpy()
    if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr.astype(float)).all():
        raise DataError(f"data columns {names} must be finite numbers (integer state codes)")
    codes = np.rint(arr.astype(float)).astype(np.int64)
    if not np.array_equal(codes, arr.astype(float)) or codes.min(initial=0) < 0:
        bad = [n for j, n in enumerate(names) if not np.array_equal(codes[:, j], arr[:, j].astype(float)) or codes[:, j].min() < 0]
        raise DataError(f"column(s) {bad} must hold integer state codes 0..k-1 for a plug-in estimate")
    card = tuple(int(codes[:, j].max()) + 1 for j in range(codes.shape[1]))
    table = np.zeros(card)
    np.add.at(table, tuple(codes.T), 1.0)
    return _Joint(names, table / codes.shape[0])


# ============================================================================ the algorithm


class _Dist:
    """The current distribution of the recursion: a marginal of the observed joint
    (``expr is None``) or an expression over ``vars``."""

    def __init__(self, vars_, expr=None):
        self.vars = frozenset(vars_)
        self.expr = expr

    def conditional(self, target, given, order) -> _Expr:
        given = tuple(v for v in order if v in set(given))
        if self.expr is None:
            return Prob((target,), given)
        num = _sum(self.vars - set(given) - {target}, self.expr, order)
        den = _sum(self.vars - set(given), self.expr, order)
        return Fraction(num, den)

    def marginal(self, keep, order) -> _Dist:
        if self.expr is None:
            return _Dist(keep)
        return _Dist(keep, _sum(self.vars - set(keep), self.expr, order))

    def margin_expr(self, ys, order) -> _Expr:
        if self.expr is None:
            return Prob(tuple(v for v in order if v in set(ys)))
        return _sum(self.vars - set(ys), self.expr, order)


def _fmt_set(s, order) -> str:
    return "{" + ", ".join(str(v) for v in order if v in s) + "}"


def _id(ys: frozenset, xs: frozenset, P: _Dist, g: _Graph, order: list) -> _Expr:
    V = frozenset(g.nodes)
    top = [v for v in order if v in V]
    # line 1
    if not xs:
        return P.margin_expr(ys, order)
    # line 2
    an_y = frozenset(g.ancestors(ys))
    if an_y != V:
        return _id(ys, xs & an_y, P.marginal(an_y, order), g.subgraph(an_y), order)
    # line 3
    g_bar = g.copy()
    g_bar.remove_directed([(p, x) for x in xs for p in list(g.pa[x])])
    for x in xs:
        g_bar.sib[x] = set()
    for v in V:
        g_bar.sib[v] -= xs
    w = (V - xs) - frozenset(g_bar.ancestors(ys))
    if w:
        return _id(ys, xs | w, P, g, order)
    # line 4
    comps = g.districts(V - xs)
    if len(comps) > 1:
        factors = [_id(frozenset(s), V - frozenset(s), P, g, order) for s in comps]
        return _sum(V - (ys | xs), _product(factors), order)
    S = frozenset(comps[0])
    all_comps = [frozenset(c) for c in g.districts()]
    # line 5
    if all_comps == [V]:
        raise _Hedge(V, S)
    # line 6
    if S in all_comps:
        factors = [P.conditional(v, top[: top.index(v)], order) for v in top if v in S]
        return _sum(S - ys, _product(factors), order)
    # line 7
    S2 = next(c for c in all_comps if S < c)
    factors = [P.conditional(v, top[: top.index(v)], order) for v in top if v in S2]
    return _id(ys, xs & S2, _Dist(S2, _product(factors)), g.subgraph(S2), order)


class _Hedge(Exception):
    def __init__(self, F, F2):
        self.F, self.F2 = F, F2


def identify(graph, treatment, outcome, *, latent=None) -> Estimand:
    """Identify ``P(outcome | do(treatment))`` by the ID algorithm.

    Parameters
    ----------
    graph : scm.PDAG or networkx.DiGraph
        An ADMG (a PDAG with directed and bidirected edges; ``a <-> b`` is a latent
        common cause of ``a`` and ``b``) over the observed variables, or a DAG.
    treatment, outcome : node or collection of nodes
    latent : collection of nodes, optional
        With a DAG: its unobserved nodes. The DAG is replaced by its latent
        projection onto the observed nodes, an ADMG that may hold a directed and a
        bidirected edge between the same pair (a "bow arc"; a PDAG holds those too).

    Returns
    -------
    Estimand
        Prints as the formula; :meth:`Estimand.evaluate` computes it.

    Raises
    ------
    NotIdentifiableError
        With ``.hedge = (F, F')``, the node sets of the two C-forests of the hedge.
    GraphError
        If the graph has undirected edges (a CPDAG: identify in each DAG, or use
        :func:`adjustment_set`, which handles amenable CPDAGs) or a directed cycle.

    Notes
    -----
    Lines 1-7 of Shpitser and Pearl (2006), Fig. 3; the topological order is the
    graph's (:func:`scm.topological_order` ties broken by node order). The formula
    is not simplified beyond merging nested sums, so it can be longer than a
    hand-derived one while equal as a function of the distribution. It may read
    variables that are neither treatment nor outcome without summing them out
    (``r`` in the napkin graph): its value does not depend on them, and
    :meth:`Estimand.evaluate` averages over their observed distribution.

    Examples
    --------
    >>> from scm import PDAG
    >>> napkin = PDAG.from_edges([("w", "r"), ("r", "x"), ("x", "y"),
    ...                           ("w", "x", "bidirected"), ("w", "y", "bidirected")])
    >>> e = identify(napkin, "x", "y")
    >>> e.variables
    ['w', 'r', 'x', 'y']
    """
    g = _Graph.from_input(graph) if latent is None else _Graph.projected(graph, latent)
    if g.kind == "cpdag":
        from scm import GraphError

        raise GraphError("identify needs a DAG or an ADMG (directed + bidirected edges); the graph has undirected edges")
    xs = _as_node_set(treatment, g, "treatment")
    ys = _as_node_set(outcome, g, "outcome")
    if not xs or not ys:
        raise ParameterError("treatment and outcome must each name at least one node")
    both = set(xs) & set(ys)
    if both:
        raise ParameterError(f"treatment and outcome overlap: {sorted(map(str, both))}")
    import networkx as nx

    d = nx.DiGraph()
    d.add_nodes_from(g.nodes)
    d.add_edges_from((p, v) for v in g.nodes for p in g.pa[v])
    pos = {n: i for i, n in enumerate(g.nodes)}
    order = list(nx.lexicographical_topological_sort(d, key=pos.__getitem__))
    try:
        expr = _id(frozenset(ys), frozenset(xs), _Dist(g.nodes), g, order)
    except _Hedge as h:
        t = ", ".join(map(str, ys))
        dd = ", ".join(map(str, xs))
        raise NotIdentifiableError(
            f"P({t} | do({dd})) is not identifiable: hedge F = {_fmt_set(h.F, order)}, F' = {_fmt_set(h.F2, order)}",
            hedge=(frozenset(h.F), frozenset(h.F2)),
        ) from None
    return Estimand([v for v in order if v in set(xs)], [v for v in order if v in set(ys)], expr, order)
