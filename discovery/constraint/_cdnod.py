"""CD-NOD: causal discovery from heterogeneous or nonstationary data.

CD-NOD (Huang, Zhang, Zhang, Ramsey, Sanchez-Romero, Glymour and Schölkopf, JMLR 2020)
adds a *context* variable ``C`` -- a domain index (categorical) or a time index
(continuous) -- to the data as a surrogate of the unobserved factors that change the
causal mechanisms. ``C`` is exogenous: no variable causes it. The algorithm has four
phases, each a function of this module:

1. :func:`context_skeleton` -- the PC adjacency search over the variables plus ``C``
   (:func:`discovery.constraint.skeleton`). A variable adjacent to ``C`` has a *changing*
   mechanism ``P(X | PA_X)``.
2. :func:`orient_with_context` -- orient ``C -> X`` for every changing ``X`` (background
   knowledge "nothing causes the context"), then the unshielded colliders and Meek's rules
   (:func:`discovery.constraint.orient_colliders`, :func:`scm.meek_rules`).
3. :func:`orient_by_independent_changes` -- an edge ``X - Y`` between two changing
   variables that is still undirected is oriented by the *independent change* principle:
   in the causal direction the changes of ``P(X)`` and of ``P(Y | X)`` across ``C`` are
   independent, in the anti-causal direction ``P(Y)`` and ``P(X | Y)`` change dependently.
   Both dependences are measured by a normalised HSIC between kernel embeddings of the
   modules at each context value (:mod:`discovery.constraint._kernels`).
4. :func:`driving_forces` -- a low-dimensional representation of how each changing
   mechanism varies with ``C``: kernel PCA of the embeddings of ``P(X | PA_X, C = c)``.

:class:`CDNOD` composes them as a scikit-learn-style estimator.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> c = np.repeat([0, 1, 2, 3], 250)                       # four domains
>>> x = rng.normal(size=1000) + c                          # P(X) changes with the domain
>>> y = 1.5 * x + rng.normal(size=1000)                    # P(Y | X) does not
>>> z = 0.8 * y - 0.5 * c + rng.normal(size=1000)          # P(Z | Y) changes
>>> data = pd.DataFrame({"X": x, "Y": y, "Z": z, "C": c})
>>> model = CDNOD(ci_test="fisherz", independent_changes=False, driving_force=False).fit(data, context="C")
>>> model.changing_nodes_
['X', 'Z']
>>> model.graph_
PDAG(nodes=['X', 'Y', 'Z', 'C'], edges=['X -> Y', 'Y -> Z', 'C -> X', 'C -> Z'])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from numbers import Integral, Real

import networkx as nx
import numpy as np
import pandas as pd

from scm import PDAG
from scm._cpdag import _meek_rules
from scm._exceptions import DataError, ParameterError
from scm._graph import check_graph_input
from scm._validation import check_nodes, check_numeric_frame, check_random_state

from .._base import Boolean, Interval, Options, ParamsMixin, ci_test_constraints
from .._utils import progress as _progress
from .._utils import standardize
from ._background import BackgroundKnowledge
from ._pc import SEARCH_CONSTRAINTS, _conflict_table, _orient_and_propagate, apply_background_knowledge, orient_colliders, skeleton
from ._runner import CIRunner, as_runner

__all__ = [
    "CDNOD",
    "context_skeleton",
    "orient_with_context",
    "orient_by_independent_changes",
    "driving_forces",
    "context_knowledge",
    "changing_nodes",
]

logger = logging.getLogger(__name__)

CONTEXT_KINDS = ("auto", "categorical", "continuous")

#: The rows CD-NOD needs: :class:`CDNOD` refuses fewer in its data, :func:`context_skeleton`
#: in the data of its CI test.
MIN_ROWS = 5

#: An integer-valued context with at most this many distinct values is a domain index
#: under ``context_kind="auto"`` (when every value is also repeated on average).
_MAX_AUTO_DOMAINS = 50




# =========================================================================== context
@dataclass(frozen=True)
class _Context:
    """The validated context: names, numeric codes for the CI test, kinds, labels."""

    names: list  # context node names
    numeric: pd.DataFrame  # numeric values used by the CI test (domain codes or time)
    kinds: list  # "categorical" / "continuous" per context column
    labels: list  # per column: the original domain labels (categorical) or None


def _plain(value):
    """A numpy scalar as the Python value it holds, for messages (``0.0``, not ``np.float64(0.0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _looks_categorical(values: pd.Series) -> bool:
    if isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values):
        return True
    if not pd.api.types.is_numeric_dtype(values):
        return True
    arr = values.to_numpy(dtype=float)
    n_unique = len(np.unique(arr))
    integral = bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
    return integral and n_unique <= _MAX_AUTO_DOMAINS and n_unique <= len(arr) / 2


def _as_context(data: pd.DataFrame, context, context_kind: str) -> tuple[pd.DataFrame, _Context]:
    """Split ``data`` into the variables and the context; validate both."""
    if isinstance(context, str) or (isinstance(context, (list, tuple)) and context and all(isinstance(c, str) for c in context)):
        names = [context] if isinstance(context, str) else list(context)
        missing = [c for c in names if c not in data.columns]
        if missing:
            raise DataError(
                f"context column(s) {missing} are not columns of data (columns: {list(map(str, data.columns))[:10]}); "
                "pass column names of data or the context values as an array"
            )
        if len(set(names)) != len(names):
            raise DataError(f"context names a column twice: {names}")
        ctx = data[names]
        variables = data.drop(columns=names)
    else:
        if isinstance(context, pd.DataFrame):
            ctx = context.copy()
        elif isinstance(context, pd.Series):
            ctx = context.to_frame(name=context.name if context.name is not None else "C")
        else:
            try:
                arr = np.asarray(context)
            except Exception as exc:  # pragma: no cover - exotic inputs
                raise DataError(f"context must be column name(s) of data or an array; got {type(context).__name__}") from exc
            if arr.ndim == 0:
                raise DataError(f"context must be column name(s) of data or an array of length n_samples; got {context!r}")
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2:
                raise DataError(f"context must be 1-D or 2-D; got an array of shape {arr.shape}")
            cols = ["C"] if arr.shape[1] == 1 else [f"C{i}" for i in range(arr.shape[1])]
            ctx = pd.DataFrame(arr, columns=cols)
        ctx.columns = [str(c) for c in ctx.columns]
        if len(ctx) != len(data):
            raise DataError(f"context has {len(ctx)} rows but data has {len(data)}")
        ctx.index = data.index
        clash = [c for c in ctx.columns if c in data.columns]
        if clash:
            raise DataError(f"context name(s) {clash} are also columns of data; rename them or pass context='{clash[0]}'")
        names = list(ctx.columns)
        variables = data
    if variables.shape[1] < 1:
        raise DataError("data has no variable besides the context")

    numeric, kinds, labels = {}, [], []
    for name in names:
        col = ctx[name]
        if col.isna().any():
            row = col.index[np.flatnonzero(col.isna().to_numpy())[0]]
            raise DataError(f"context {name!r} holds NaN (first at row {row!r}); drop or fill those rows first")
        n_unique = col.nunique()
        if n_unique < 2:
            raise DataError(
                f"context {name!r} has a single value ({_plain(col.iloc[0])!r}); CD-NOD needs at least two domains or time points"
            )
        kind = context_kind
        if kind == "auto":
            kind = "categorical" if _looks_categorical(col) else "continuous"
        if kind == "categorical":
            codes, uniques = pd.factorize(col, sort=True)
            numeric[name] = codes.astype(float)
            labels.append(list(uniques))
        else:
            if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                raise DataError(f"context {name!r} is not numeric ({col.dtype}); it cannot be a continuous (time) index")
            vals = col.to_numpy(dtype=float)
            if not np.all(np.isfinite(vals)):
                raise DataError(f"context {name!r} holds inf")
            numeric[name] = vals
            labels.append(None)
        kinds.append(kind)
    numeric_frame = pd.DataFrame(numeric, index=data.index)[names]
    return variables, _Context(names=names, numeric=numeric_frame, kinds=kinds, labels=labels)


def _split_context(data, context, context_kind: str) -> tuple[pd.DataFrame, _Context]:
    """The validated variables (numeric, non-constant, at least ``MIN_ROWS`` rows) and context of ``data``."""
    from scm._validation import as_dataframe

    frame = data if isinstance(data, pd.DataFrame) else as_dataframe(data, name="data")
    if frame.shape[0] < MIN_ROWS:  # before the context, whose checks read its first value
        raise DataError(f"data has {frame.shape[0]} rows; CD-NOD needs at least {MIN_ROWS}")
    variables, ctx = _as_context(frame, context, context_kind)
    variables = check_numeric_frame(variables, name="data", min_rows=MIN_ROWS, allow_constant=False)
    return variables, ctx


# ===================================================================== phases 1 - 2
def context_knowledge(variables, contexts):
    """Background knowledge "nothing causes the context": contexts in tier 0, variables in tier 1.

    Parameters
    ----------
    variables : list of str
        The variables (tier 1).
    contexts : list of str
        The context nodes (tier 0: no edge may point into them).

    Returns
    -------
    BackgroundKnowledge

    Raises
    ------
    ParameterError
        If a name is listed twice: among the variables, among the contexts, or as both a
        context and a variable (a context is exogenous; a variable is not).

    Examples
    --------
    >>> context_knowledge(["X", "Y"], ["C"])
    BackgroundKnowledge(tiers={'C': 0, 'X': 1, 'Y': 1})
    >>> context_knowledge(["X", "C"], ["C"])
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: context_knowledge: 'C' is listed as a context and as a variable; ...

    See Also
    --------
    context_skeleton, orient_with_context : the phases that use it.
    """
    contexts = [contexts] if isinstance(contexts, str) else list(contexts)
    variables = [variables] if isinstance(variables, str) else list(variables)
    role: dict = {}
    for kind, names in (("context", contexts), ("variable", variables)):
        for name in names:
            if name in role:
                if role[name] == kind:
                    raise ParameterError(f"context_knowledge: the {kind} {name!r} is listed twice")
                raise ParameterError(
                    f"context_knowledge: {name!r} is listed as a context and as a variable; a context node is exogenous "
                    "(tier 0), not one of the variables (tier 1)"
                )
            role[name] = kind
    return BackgroundKnowledge(tiers={name: 0 if kind == "context" else 1 for name, kind in role.items()})


def changing_nodes(graph, contexts) -> list:
    """The variables adjacent to a context node, in node order: those whose mechanism changes.

    Parameters
    ----------
    graph : networkx.Graph or scm.PDAG
        A skeleton (phase 1) or a partially oriented graph over the variables and the contexts.
    contexts : list of str
        The context nodes.

    Returns
    -------
    list of str

    Raises
    ------
    GraphError
        If ``graph`` is not a networkx graph or a PDAG.
    UnknownNodeError
        Naming the contexts that are not nodes of ``graph``.

    Examples
    --------
    >>> import networkx as nx
    >>> changing_nodes(nx.Graph([("C", "X"), ("X", "Y")]), ["C"])
    ['X']

    See Also
    --------
    context_skeleton : returns them with the skeleton.
    """
    check_graph_input(graph, (nx.Graph, PDAG), name="graph", owner="changing_nodes")
    nodes = list(graph.nodes)
    contexts = set(check_nodes(contexts, set(nodes), what="context node", where="the graph"))
    if isinstance(graph, PDAG):
        adj = {n: graph.adjacencies(n) for n in nodes}
    else:
        adj = {n: set(graph.neighbors(n)) for n in nodes}
    return [n for n in nodes if n not in contexts and adj[n] & contexts]


def context_skeleton(ci_test, contexts, *, alpha=0.05, max_cond_size=None, stable=True, progress=False, runner=None):
    """Phase 1: the PC-stable skeleton over the variables and the context node(s).

    The context nodes are ordinary nodes of the adjacency search (they can be in
    separating sets); the knowledge that no variable causes them does not change the
    skeleton. A variable adjacent to a context node has a changing mechanism.

    Parameters
    ----------
    ci_test : CITest
        A batched CI test over the variables *and* the context columns.
    contexts : list of str
        The context node names (variables of ``ci_test``).
    alpha, max_cond_size, stable, progress
        As in :func:`discovery.constraint.skeleton`.
    runner : CIRunner, optional
        A cached runner over ``ci_test`` shared with phase 2 (built by the phase if None).

    Returns
    -------
    result : discovery.constraint.SkeletonResult
    changing : list of str
        The variables adjacent to a context node.

    Raises
    ------
    DataError
        If the data of ``ci_test`` have fewer than ``MIN_ROWS`` (5) rows, the rows
        :class:`CDNOD` needs.
    ParameterError
        If a context node is not a variable of ``ci_test``, or is listed twice (see
        :func:`context_knowledge`).

    Examples
    --------
    >>> import networkx as nx
    >>> from discovery import DSeparation
    >>> dag = nx.DiGraph([("C", "X"), ("X", "Y")])
    >>> res, changing = context_skeleton(DSeparation(dag), ["C"])
    >>> sorted(map(sorted, res.graph.edges)), changing
    ([['C', 'X'], ['X', 'Y']], ['X'])

    See Also
    --------
    context_knowledge : the background knowledge "nothing causes the context".
    orient_with_context : phase 2.
    discovery.constraint.skeleton : the adjacency search it runs.
    """
    runner = as_runner(ci_test, runner, owner="context_skeleton")
    n_rows = getattr(runner.ci_test, "n_samples", None)  # None: an oracle (DSeparation) or another backend
    if n_rows is not None and n_rows < MIN_ROWS:
        raise DataError(f"context_skeleton: the data of the CI test have {n_rows} rows; CD-NOD needs at least {MIN_ROWS}")
    names = runner.names
    missing = [c for c in contexts if c not in names]
    if missing:
        raise ParameterError(f"context node(s) {missing} are not variables of the CI test ({names[:10]})")
    bk = context_knowledge([v for v in names if v not in contexts], contexts)
    res = skeleton(
        ci_test, alpha=alpha, max_cond_size=max_cond_size, stable=stable, background_knowledge=bk, progress=progress, runner=runner
    )
    return res, changing_nodes(res.graph, contexts)


def orient_with_context(
    skeleton_graph,
    separating_sets,
    contexts,
    *,
    nodes=None,
    rule="sepset",
    conflict="bidirected",
    ci_test=None,
    alpha=0.05,
    max_cond_size=None,
    runner=None,
    return_conflicts=False,
):
    """Phase 2: orient ``C -> X`` at every context node, then colliders and Meek's rules.

    Parameters
    ----------
    skeleton_graph : networkx.Graph
        The skeleton of phase 1 (over variables and context nodes).
    separating_sets : dict
        ``frozenset({x, y}) -> tuple of tuples``, as found by the skeleton search.
    contexts : list of str
        The context nodes (exogenous).
    nodes : list, optional
        Node order of the result (default: the skeleton's).
    rule, conflict, ci_test, alpha, max_cond_size
        As in :func:`discovery.constraint.orient_colliders`.
    runner : CIRunner, optional
        A cached runner over ``ci_test`` shared with phase 1 (the max-p rules reuse its tests).
    return_conflicts : bool, default False
        Also return the conflicting orientations, ``(a, b, phase, into_a, into_b)`` records
        (see :func:`discovery.constraint.orient_colliders`; with ``conflict="bidirected"``
        Meek's rules run in order-independent rounds and add theirs).

    Returns
    -------
    PDAG
        With ``return_conflicts=True``, a tuple ``(PDAG, conflicts)``.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.Graph([("C", "X"), ("X", "Y")])
    >>> orient_with_context(g, {frozenset({"C", "Y"}): (("X",),)}, ["C"], nodes=["X", "Y", "C"])
    PDAG(nodes=['X', 'Y', 'C'], edges=['X -> Y', 'C -> X'])

    See Also
    --------
    context_skeleton : phase 1.
    orient_by_independent_changes : phase 3.
    discovery.constraint.orient_colliders, scm.meek_rules : the orientation steps it runs.
    """
    check_graph_input(skeleton_graph, (nx.Graph, PDAG), name="skeleton_graph", owner="orient_with_context")
    nodes = list(skeleton_graph.nodes) if nodes is None else list(nodes)
    bk = context_knowledge([v for v in nodes if v not in contexts], contexts)
    pdag = apply_background_knowledge(skeleton_graph, bk, nodes=nodes)
    pdag, conflicts = orient_colliders(
        pdag,
        separating_sets,
        rule=rule,
        conflict=conflict,
        ci_test=ci_test,
        alpha=alpha,
        max_cond_size=max_cond_size,
        background_knowledge=bk,
        runner=runner,
        return_conflicts=True,
    )
    graph, conflicts = _orient_and_propagate(pdag, conflicts, conflict)
    return (graph, conflicts) if return_conflicts else graph


# ===================================================================== phases 3 - 4
class _Embedder:
    """Kernel matrices of the (sub)sampled data for phases 3 and 4, cached per variable set.

    Holds float64 JAX arrays; must be used inside ``jax.enable_x64(True)``.
    """

    def __init__(self, values: pd.DataFrame, context: _Context, *, width, context_width, ridge, max_samples, random_state):
        import jax.numpy as jnp

        from . import _kernels as K

        self.K = K
        self.jnp = jnp
        n = len(values)
        rng = check_random_state(random_state)
        codes = context.numeric.to_numpy(dtype=float)
        categorical = all(k == "categorical" for k in context.kinds)
        if n > max_samples:
            if categorical:
                # stratified: keep each domain's share
                joint = pd.MultiIndex.from_arrays(codes.T).factorize()[0] if codes.shape[1] > 1 else codes[:, 0].astype(int)
                keep = []
                for g in np.unique(joint):
                    members = np.flatnonzero(joint == g)
                    take = max(2, int(round(len(members) * max_samples / n)))
                    keep.append(rng.choice(members, size=min(take, len(members)), replace=False))
                sub = np.sort(np.concatenate(keep))
            else:
                sub = np.sort(rng.choice(n, size=max_samples, replace=False))
        else:
            sub = np.arange(n)
        self.sub = sub
        # z-scores with moments that cannot overflow: the kernels see the same values whatever the units
        self.x, _, _ = standardize(values.to_numpy(dtype=float)[sub], list(values.columns), owner="CDNOD")
        self.names = list(values.columns)
        self.col = {c: i for i, c in enumerate(self.names)}
        self.width = float(width)
        self.ridge = float(ridge)
        c = codes[sub]
        n_sub = len(sub)
        kc = jnp.ones((n_sub, n_sub))
        for j, kind in enumerate(context.kinds):
            if kind == "categorical":
                kc = kc * K.delta_gram(jnp.asarray(c[:, j].astype(np.int64)))
            else:
                lo, hi = c[:, j].min(), c[:, j].max()
                scaled = (c[:, j] - lo) / (hi - lo if hi > lo else 1.0)
                kc = kc * K.gaussian_gram(jnp.asarray(scaled[:, None]), float(context_width))
        self.kc = kc
        if categorical:
            # one representative per (joint) domain, weighted by its share of the samples
            tuples = [tuple(r) for r in c]
            first = {}
            for i, t in enumerate(tuples):
                first.setdefault(t, i)
            order = sorted(first)  # sorted by codes
            rep = np.array([first[t] for t in order])
            counts = np.array([sum(1 for t in tuples if t == o) for o in order], dtype=float)
            self.rep = rep
            self.weights = counts / counts.sum()
            if len(context.names) == 1:
                labels = context.labels[0]
                self.index = pd.Index([labels[int(o[0])] for o in order], name=context.names[0])
            else:
                self.index = pd.MultiIndex.from_tuples(
                    [tuple(context.labels[j][int(o[j])] for j in range(len(o))) for o in order], names=context.names
                )
        else:
            self.rep = np.arange(n_sub)
            self.weights = np.full(n_sub, 1.0 / n_sub)
            self.index = values.index[sub]
        # low-rank factor of K_C: exact for domains (rank = number of domains), and a
        # smooth time kernel has a quickly decaying spectrum
        self.lc = K.pivoted_cholesky(kc, min(n_sub, 300), 1e-10)
        self.lc_rep = self.lc[self.rep]
        self.w = jnp.asarray(self.weights)
        self._gram: dict = {}
        self.rank = 100  # upper bound of the low-rank factors of the variables' Gram matrices
        self._emb: dict = {}

    def gram(self, cols) -> tuple:
        """Gram matrix of the standardised columns and its low-rank factor (cached)."""
        key = tuple(sorted(cols, key=self.col.__getitem__))
        if key not in self._gram:
            idx = [self.col[c] for c in key]
            width = self.width * np.sqrt(len(idx))
            k = self.K.gaussian_gram(self.jnp.asarray(self.x[:, idx]), width)
            rank = min(self.rank, k.shape[0])
            self._gram[key] = (k, self.K.pivoted_cholesky(k, rank))
        return self._gram[key]

    def module(self, target, parents) -> object:
        """Linear Gram matrix of the embeddings of ``P(target | parents, C = c)`` at the representatives."""
        parents = tuple(sorted(parents, key=self.col.__getitem__))
        key = (target, parents)
        if key not in self._emb:
            ky, ly = self.gram([target])
            if parents:
                kpa, lpa = self.gram(parents)
                m = self.K.conditional_embedding_gram(self.kc, self.lc, self.lc_rep, kpa, lpa, ly, self.ridge)
            else:
                m = self.K.marginal_embedding_gram(self.lc, self.lc_rep, ly, self.ridge)
            self._emb[key] = m
        return self._emb[key]


def _variable_parents(pdag: PDAG, node, contexts) -> set:
    return {p for p in pdag.parents(node) if p not in contexts}


def _creates_cycle(pdag: PDAG, a, b) -> bool:
    """Whether adding ``a -> b`` closes a directed cycle (a directed path ``b ~> a``)."""
    g = nx.DiGraph(list(pdag.directed_edges))
    g.add_nodes_from(pdag.nodes)
    return nx.has_path(g, b, a)


def _check_kernel_params(owner, context_kind, kernel_width, context_width, ridge, max_samples, random_state) -> None:
    """Validate the kernel parameters of phases 3 and 4 by :class:`CDNOD`'s constraints (named in errors, with ``owner``)."""
    params = dict(
        context_kind=context_kind, context_width=context_width, kernel_width=kernel_width, ridge=ridge,
        max_samples=max_samples, random_state=random_state,
    )
    for name, value in params.items():
        CDNOD._parameter_constraints[name].check(value, name=name, owner=owner)


def _embedding_inputs(pdag, data, context, owner, *, context_kind, kernel_width, context_width, ridge, max_samples, random_state):
    """Validate the inputs of phases 3-4: the variables, the context, and the graph's nodes."""
    from scm import UnknownNodeError

    if not isinstance(pdag, PDAG):
        raise ParameterError(f"The 'pdag' parameter of {owner} must be an scm.PDAG; got {type(pdag).__name__} instead.")
    _check_kernel_params(owner, context_kind, kernel_width, context_width, ridge, max_samples, random_state)
    variables, ctx = _split_context(data, context, context_kind)
    known = set(variables.columns) | set(ctx.names)
    missing = [n for n in pdag.nodes if n not in known]
    if missing:
        raise UnknownNodeError(
            f"node(s) {missing[:10]} of the graph are neither columns of data nor context nodes "
            f"(variables: {list(variables.columns)[:10]}, context: {ctx.names})"
        )
    return variables, ctx


def orient_by_independent_changes(
    pdag: PDAG,
    data,
    context="C",
    *,
    context_kind: str = "auto",
    kernel_width: float = 1.0,
    context_width: float = 0.05,
    ridge: float = 0.1,
    max_samples: int = 1000,
    random_state: int = 0,
    progress: bool = False,
    embedder=None,
):
    """Phase 3: orient undirected edges between changing variables by independent changes.

    For an undirected edge ``X - Y`` whose ends are both adjacent to a context node, the
    hypothesis ``X -> Y`` implies that the changes of ``P(X | PA_X)`` and of
    ``P(Y | X, PA_Y)`` across the context are independent; ``Y -> X`` the same for
    ``P(Y | PA_Y)`` and ``P(X | Y, PA_X)`` (``PA`` are the directed variable parents
    already found). Each dependence is the normalised HSIC ``Delta`` between Gaussian
    kernels of the modules' kernel embeddings over the context values; the direction
    with the smaller ``Delta`` is chosen. Edges are oriented from the most to the least
    clear-cut (largest ratio of the two statistics), closing the graph under Meek's rules
    after each; an edge already oriented by then, or whose orientation would close a
    directed cycle, is left as it is.

    Parameters
    ----------
    pdag : PDAG
        The output of phase 2 (over the variables and the context nodes).
    data : pandas.DataFrame or array of shape (n_samples, n_features)
        The variables, and the context column(s) when ``context`` names them.
    context : str, list of str, array-like, pandas.Series or DataFrame, default "C"
        As in :meth:`CDNOD.fit`: column name(s) of ``data``, or the context values.
    context_kind : {"auto", "categorical", "continuous"}, default "auto"
    kernel_width, context_width, ridge, max_samples, random_state
        The kernels of the embeddings and the subsample, as in :class:`CDNOD`.
    progress : bool, default False
        A tqdm progress bar over the candidate edges.
    embedder : optional
        The kernel matrices of the data, shared with phase 4 by :class:`CDNOD` (internal; built
        here from ``data`` and the kernel parameters when None).

    Returns
    -------
    pdag : PDAG
    table : pandas.DataFrame
        One row per candidate edge: ``edge``, ``x``, ``y``, ``direction`` chosen,
        ``stat_x_to_y`` (``Delta_{X -> Y}``), ``stat_y_to_x``, ``applied`` (False when Meek's
        rules had already oriented it or the orientation would close a cycle).

    Raises
    ------
    UnknownNodeError
        If a node of ``pdag`` is neither a variable of ``data`` nor a context node.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scm import PDAG
    >>> rng = np.random.default_rng(0)
    >>> dom = np.repeat(np.arange(6), 80)
    >>> a, b = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)
    >>> x = a[dom] * rng.normal(size=480)
    >>> y = b[dom] * np.tanh(x) + 0.3 * rng.normal(size=480)
    >>> data = pd.DataFrame({"X": x, "Y": y, "C": dom})
    >>> phase2 = PDAG(["X", "Y", "C"], directed=[("C", "X"), ("C", "Y")], undirected=[("X", "Y")])
    >>> graph, table = orient_by_independent_changes(phase2, data, "C")
    >>> graph
    PDAG(nodes=['X', 'Y', 'C'], edges=['X -> Y', 'C -> X', 'C -> Y'])
    >>> table[["edge", "direction", "applied"]]
        edge direction  applied
    0  X - Y    X -> Y     True

    See Also
    --------
    orient_with_context : phase 2.
    driving_forces : phase 4.
    """
    import jax

    owner = "orient_by_independent_changes"
    variables, ctx = _embedding_inputs(
        pdag, data, context, owner, context_kind=context_kind, kernel_width=kernel_width, context_width=context_width,
        ridge=ridge, max_samples=max_samples, random_state=random_state,
    )
    with jax.enable_x64(True):
        if embedder is None:
            embedder = _Embedder(
                variables, ctx, width=kernel_width, context_width=context_width, ridge=ridge, max_samples=max_samples,
                random_state=random_state,
            )
        return _orient_by_independent_changes(pdag, embedder, ctx.names, progress)


def _orient_by_independent_changes(pdag, embedder, contexts, progress):
    contexts = set(contexts)
    changing = set(changing_nodes(pdag, contexts))
    candidates = []
    for e in pdag.undirected_edges:
        a, b = sorted(e, key=str)  # by name, not column order: the phase does not depend on it
        if a in changing and b in changing:
            candidates.append((a, b))
    candidates.sort(key=lambda t: (str(t[0]), str(t[1])))
    K = embedder.K
    rows = []
    for x, y in _progress(candidates, progress, desc="CD-NOD independent changes", unit="edge"):
        pa_x = _variable_parents(pdag, x, contexts) - {y}
        pa_y = _variable_parents(pdag, y, contexts) - {x}
        stats = K.independent_change_statistics(
            embedder.module(x, pa_x),
            embedder.module(y, pa_y | {x}),
            embedder.module(y, pa_y),
            embedder.module(x, pa_x | {y}),
            embedder.w,
        )
        fwd, bwd = (float(v) for v in np.asarray(stats))
        rows.append({"edge": f"{x} - {y}", "x": x, "y": y, "direction": f"{x} -> {y}" if fwd <= bwd else f"{y} -> {x}",
                     "stat_x_to_y": fwd, "stat_y_to_x": bwd})
        logger.debug("independent changes %s - %s: %.4g vs %.4g", x, y, fwd, bwd)

    def clarity(r):
        lo, hi = sorted((r["stat_x_to_y"], r["stat_y_to_x"]))
        return hi / lo if lo > 0 else np.inf

    order = sorted(range(len(rows)), key=lambda i: -clarity(rows[i]))
    applied = [False] * len(rows)
    g = pdag
    for i in order:
        r = rows[i]
        a, b = (r["x"], r["y"]) if r["stat_x_to_y"] <= r["stat_y_to_x"] else (r["y"], r["x"])
        if not g.has_undirected(a, b) or _creates_cycle(g, a, b):
            continue
        g = _meek_rules(g.orient(a, b), order_independent=True)  # an estimated pattern: no acyclicity check
        applied[i] = True
    table = pd.DataFrame(rows, columns=["edge", "x", "y", "direction", "stat_x_to_y", "stat_y_to_x"])
    table["applied"] = pd.Series(applied, dtype=bool)
    return g, table


def driving_forces(
    pdag: PDAG,
    data,
    context="C",
    *,
    nodes=None,
    n_components: int = 2,
    context_kind: str = "auto",
    kernel_width: float = 1.0,
    context_width: float = 0.05,
    ridge: float = 0.1,
    max_samples: int = 1000,
    random_state: int = 0,
    progress: bool = False,
    embedder=None,
):
    """Phase 4: the driving force of each changing mechanism, by kernel PCA.

    For each node ``X`` in ``nodes`` the embeddings of ``P(X | PA_X, C = c)`` at every
    context value ``c`` (every domain, or every time point) are compared by their Gram
    matrix; kernel PCA of that matrix gives the leading directions in which the
    mechanism changes. ``PA_X`` are the directed variable parents of ``X`` in ``pdag``
    (undirected neighbours are ignored).

    Parameters
    ----------
    pdag : PDAG
        The learned graph (phase 2 or 3), over the variables and the context nodes.
    data : pandas.DataFrame or array of shape (n_samples, n_features)
        The variables, and the context column(s) when ``context`` names them.
    context : str, list of str, array-like, pandas.Series or DataFrame, default "C"
        As in :meth:`CDNOD.fit`.
    nodes : list of str, optional
        The variables whose mechanism is described (default: the changing nodes of ``pdag``,
        :func:`changing_nodes`).
    n_components : int, default 2
        Kernel principal components per node.
    context_kind, kernel_width, context_width, ridge, max_samples, random_state
        As in :class:`CDNOD`.
    progress : bool, default False
        A tqdm progress bar over the nodes.
    embedder : optional
        The kernel matrices of the data, shared with phase 3 by :class:`CDNOD` (internal; built
        here when None).

    Returns
    -------
    forces : pandas.DataFrame
        Indexed like the context (one row per domain, or per sample / time point),
        columns ``"<X>_pc1", "<X>_pc2", ...``; the scores of each component have
        (weighted) mean zero and variance equal to its eigenvalue.
    explained : pandas.DataFrame
        The fraction of the embedding variance of each component (rows: nodes).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scm import PDAG
    >>> rng = np.random.default_rng(0)
    >>> dom = np.repeat(np.arange(5), 100)
    >>> x = rng.normal(size=500) * rng.uniform(0.5, 2, 5)[dom]
    >>> data = pd.DataFrame({"X": x, "Y": x + rng.normal(size=500), "C": dom})
    >>> graph = PDAG(["X", "Y", "C"], directed=[("C", "X"), ("X", "Y")])
    >>> forces, explained = driving_forces(graph, data, "C", n_components=1)
    >>> forces.shape, list(forces.columns), list(explained.index)
    ((5, 1), ['X_pc1'], ['X'])

    See Also
    --------
    orient_by_independent_changes : phase 3.
    changing_nodes : the default ``nodes``.
    """
    import jax

    from scm import UnknownNodeError

    owner = "driving_forces"
    CDNOD._parameter_constraints["n_components"].check(n_components, name="n_components", owner=owner)
    variables, ctx = _embedding_inputs(
        pdag, data, context, owner, context_kind=context_kind, kernel_width=kernel_width, context_width=context_width,
        ridge=ridge, max_samples=max_samples, random_state=random_state,
    )
    if nodes is None:
        nodes = changing_nodes(pdag, ctx.names)
    else:
        nodes = list(nodes)
        unknown = [n for n in nodes if n not in set(variables.columns)]
        if unknown:
            raise UnknownNodeError(f"driving_forces: node(s) {unknown[:10]} are not variables of data ({list(variables.columns)[:10]})")
    with jax.enable_x64(True):
        if embedder is None:
            embedder = _Embedder(
                variables, ctx, width=kernel_width, context_width=context_width, ridge=ridge, max_samples=max_samples,
                random_state=random_state,
            )
        return _driving_forces(pdag, embedder, ctx.names, nodes, n_components, progress)


def _driving_forces(pdag, embedder, contexts, nodes, n_components, progress):
    K = embedder.K
    cols, ratios = {}, {}
    k = len(embedder.rep)
    ncomp = min(int(n_components), max(k - 1, 1))
    for x in _progress(list(nodes), progress, desc="CD-NOD driving forces", unit="variable"):
        pa = _variable_parents(pdag, x, contexts)
        scores, eig = K.weighted_kernel_pca(embedder.module(x, pa), embedder.w)
        scores, eig = np.asarray(scores), np.asarray(eig)
        total = eig.sum()
        for j in range(ncomp):
            cols[f"{x}_pc{j + 1}"] = scores[:, j] if j < scores.shape[1] else np.zeros(k)
        ratios[x] = [float(eig[j] / total) if total > 0 and j < eig.shape[0] else 0.0 for j in range(ncomp)]
    forces = pd.DataFrame(cols, index=embedder.index)
    explained = pd.DataFrame.from_dict(ratios, orient="index", columns=[f"pc{j + 1}" for j in range(ncomp)])
    return forces, explained


# ========================================================================= estimator
class CDNOD(ParamsMixin):
    """Causal discovery from heterogeneous/nonstationary data (CD-NOD).

    The context (a domain index or a time index) is added to the data as a node ``C``
    that no variable causes. Phase 1 finds the skeleton over the variables and ``C``
    (the variables adjacent to ``C`` are those whose mechanism changes); phase 2 orients
    ``C -> X``, the colliders and Meek's rules; phase 3 orients remaining edges between
    changing variables by the independence of their changes; phase 4 estimates the
    driving force of each changing mechanism. See the module docstring for the phases.

    Parameters
    ----------
    ci_test : str or CITest, default "kci"
        A CI test name (``"kci"``, ``"fisherz"``, ...; see :func:`discovery.make_ci_test`)
        or an instance built on the variables *and* the context columns (e.g. a
        :class:`discovery.DSeparation` oracle on the augmented DAG).
    alpha : float, default 0.05
        Significance level of the CI tests, in (0, 1).
    max_cond_size : int or None, default None
        Largest conditioning set of the skeleton search.
    orientation : {"sepset", "maxp", "definite_maxp"}, default "sepset"
        Collider rule of phase 2 (see :func:`discovery.constraint.orient_colliders`).
    conflict : {"bidirected", "keep_existing", "overwrite"}, default "bidirected"
        Conflicting colliders in phase 2 (see :class:`discovery.PC`): ``"bidirected"`` marks
        the contested edge ``<->`` and gives a graph that does not depend on the column
        order; ``"keep_existing"`` is causal-learn's rule (``uc_priority=2``).
    independent_changes : bool, default True
        Run phase 3.
    driving_force : bool, default True
        Run phase 4.
    n_components : int, default 2
        Number of kernel principal components of each driving force.
    context_kind : {"auto", "categorical", "continuous"}, default "auto"
        A categorical context (domain index; a delta kernel in phases 3-4) or a
        continuous one (time index; a Gaussian kernel). ``"auto"``: non-numeric, boolean
        or categorical columns, and integer-valued columns with at most 50 distinct
        values that repeat, are categorical; anything else is continuous.
    context_width : float, default 0.05
        Width of the Gaussian kernel of a continuous context, in units of its range
        (the context is rescaled to [0, 1]).
    kernel_width : float, default 1.0
        Width of the Gaussian kernels of the (standardised) variables in phases 3-4,
        multiplied by ``sqrt(k)`` for ``k`` variables.
    ridge : float, default 0.1
        Regulariser of the conditional mean embeddings (kernel ridge regressions).
    max_samples : int, default 1000
        Phases 3-4 build ``n x n`` kernel matrices; above this many samples they use a
        random (domain-stratified) subsample of this size.
    ci_test_kwargs : dict, optional
        Options of the CI test when ``ci_test`` is a name (e.g. ``{"approximation": "nystrom"}``).
    random_state : int, default 0
        Seed of the subsample of phases 3-4.
    progress : bool, default False
        tqdm progress bars.

    Attributes
    ----------
    graph_ : scm.PDAG
        The learned graph over the variables and the context node(s).
    graph_phase2_ : scm.PDAG
        The graph after phases 1-2 (before orientation by independent changes).
    conflicts_ : pandas.DataFrame
        The edges whose orientations conflicted in phase 2 (see :attr:`discovery.PC.conflicts_`).
    skeleton_ : networkx.Graph
    changing_nodes_ : list of str
        Variables adjacent to a context node (their mechanism changes).
    context_nodes_ : list of str
    context_kinds_ : dict
        ``context node -> "categorical" | "continuous"``.
    sepsets_ : dict
        ``frozenset({x, y}) -> tuple`` separating set of every removed pair.
    pvalues_ : pandas.DataFrame
        Every CI test run (columns ``x, y, cond, statistic, pvalue``).
    n_tests_ : int
    independent_changes_ : pandas.DataFrame
        Phase 3: one row per undirected edge between changing variables after phase 2,
        columns ``edge, x, y, direction, stat_x_to_y, stat_y_to_x, applied`` (empty when
        phase 3 is off or has nothing to orient).
    driving_force_ : pandas.DataFrame or None
        Phase 4: indexed like the context (one row per domain, or per sample of a time
        index; at most ``max_samples`` rows), columns ``"<X>_pc1", ...`` for every changing
        ``X``.
    driving_force_explained_ : pandas.DataFrame or None
        Fraction of the embedding variance per component (rows: changing variables).
    feature_names_in_ : numpy.ndarray of str
        The variables (without the context).

    Notes
    -----
    *Comparison with causal-learn.* ``causallearn.search.ConstraintBased.CDNOD.cdnod(data,
    c_indx, alpha, fisherz)`` appends the context as the last column and runs PC-stable,
    orients ``C -> X``, the colliders with ``uc_rule=0, uc_priority=2`` and Meek's rules.
    With ``ci_test="fisherz"``, ``independent_changes=False`` and ``conflict="keep_existing"``
    (the default ``"bidirected"`` differs only where colliders conflict) this class gives
    the same skeleton, changing nodes and orientations, except that causal-learn applies Meek's
    R1-R3 but not R4 and skips an orientation that would close a cycle, where
    :func:`scm.meek_rules` applies R1-R4 (see :class:`discovery.PC`). causal-learn stops
    after phase 2 (phases 3-4 are marked TODO there). The context is given to the CI test
    as numeric codes (sorted domain labels -> 0, 1, ...), as causal-learn's ``c_indx``.

    *Phases 3-4.* The embeddings of ``P(X | C = c)`` are conditional mean embeddings
    ``Phi_X (K_C + ridge I)^{-1} k_C(c)``; those of ``P(Y | X, C = c)`` come from a kernel
    ridge regression of ``Phi_Y`` on the product kernel of ``X`` and ``C``, compared across
    ``c`` by the inner product of the regressions averaged over the sample of ``X``. The
    dependence between two modules is ``tr(Ka~ Kb~) / (tr Ka~ tr Kb~)`` with ``Ka~, Kb~``
    centred Gaussian kernels of the embeddings (median width). This needs ``O(n^3)``
    time, hence ``max_samples``. With a handful of domains the statistic compares a
    handful of points: more domains (or a finer time index) make it more reliable.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> dom = np.repeat(np.arange(6), 80)                      # six domains
    >>> a, b = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 6)   # independent changes
    >>> x = a[dom] * rng.normal(size=480)
    >>> y = b[dom] * np.tanh(x) + 0.3 * rng.normal(size=480)
    >>> data = pd.DataFrame({"X": x, "Y": y, "domain": dom})
    >>> model = CDNOD(alpha=0.01).fit(data, context="domain")   # KCI
    >>> model.changing_nodes_
    ['X', 'Y']
    >>> model.graph_phase2_
    PDAG(nodes=['X', 'Y', 'domain'], edges=['domain -> X', 'domain -> Y', 'X - Y'])
    >>> model.graph_
    PDAG(nodes=['X', 'Y', 'domain'], edges=['X -> Y', 'domain -> X', 'domain -> Y'])
    >>> model.independent_changes_[["edge", "direction"]]
        edge direction
    0  X - Y    X -> Y
    >>> model.driving_force_.shape
    (6, 4)
    """

    def __init__(
        self,
        *,
        ci_test="kci",
        alpha: float = 0.05,
        max_cond_size: int | None = None,
        orientation: str = "sepset",
        conflict: str = "bidirected",
        independent_changes: bool = True,
        driving_force: bool = True,
        n_components: int = 2,
        context_kind: str = "auto",
        context_width: float = 0.05,
        kernel_width: float = 1.0,
        ridge: float = 0.1,
        max_samples: int = 1000,
        ci_test_kwargs: dict | None = None,
        random_state: int = 0,
        progress: bool = False,
    ):
        self.ci_test = ci_test
        self.alpha = alpha
        self.max_cond_size = max_cond_size
        self.orientation = orientation
        self.conflict = conflict
        self.independent_changes = independent_changes
        self.driving_force = driving_force
        self.n_components = n_components
        self.context_kind = context_kind
        self.context_width = context_width
        self.kernel_width = kernel_width
        self.ridge = ridge
        self.max_samples = max_samples
        self.ci_test_kwargs = ci_test_kwargs
        self.random_state = random_state
        self.progress = progress

    _parameter_constraints = {
        **ci_test_constraints(),
        **SEARCH_CONSTRAINTS,
        "independent_changes": Boolean(),
        "driving_force": Boolean(),
        "n_components": Interval(Integral, 1, None, closed="left"),
        "context_kind": Options(CONTEXT_KINDS),
        "context_width": Interval(Real, 0, None),
        "kernel_width": Interval(Real, 0, None),
        "ridge": Interval(Real, 0, None),
        "max_samples": Interval(Integral, 10, None, closed="left"),
        "random_state": Interval(Integral, 0, None, closed="left"),
        "progress": Boolean(),
    }

    def _make_ci_test(self, frame: pd.DataFrame):
        from ..citest import resolve_ci_test

        return resolve_ci_test(self.ci_test, self.ci_test_kwargs, frame, owner="CDNOD", what="the variables and the context")

    # --------------------------------------------------------------------- fit
    def fit(self, data, context="C") -> CDNOD:
        """Learn the causal graph of ``data`` with the context as a surrogate node.

        Parameters
        ----------
        data : pandas.DataFrame or array of shape (n_samples, n_features)
            Column names become node names (arrays: ``X0, X1, ...``).
        context : str, list of str, array-like, pandas.Series or DataFrame, default "C"
            Column name(s) of ``data`` holding the context (removed from the variables),
            or the context values themselves (one value per row; a 2-D array gives
            several context nodes ``C0, C1, ...``; a Series keeps its name).

        Returns
        -------
        CDNOD
            ``self``.

        Raises
        ------
        ParameterError
            An invalid parameter (named, with its allowed values).
        DataError
            A context with a single value or NaN, non-numeric, NaN or constant data
            columns, a context of the wrong length (the offender is named).
        """
        import jax

        self._validate_params()
        variables, ctx = _split_context(data, context, self.context_kind)
        names = list(variables.columns)
        augmented = pd.concat([variables, ctx.numeric], axis=1)
        nodes = names + ctx.names
        test = self._make_ci_test(augmented)
        runner = CIRunner.from_ci_test(test)
        logger.info("CD-NOD on %d variables, %d samples, context %s (%s)", len(names), len(variables), ctx.names, ctx.kinds)

        # phase 1
        skel, changing = context_skeleton(
            test, ctx.names, alpha=self.alpha, max_cond_size=self.max_cond_size, stable=True, progress=self.progress,
            runner=runner,
        )
        # phase 2
        graph2, conflicts = orient_with_context(
            skel.graph, skel.separating_sets, ctx.names, nodes=nodes, rule=self.orientation, conflict=self.conflict,
            ci_test=test, alpha=self.alpha, max_cond_size=self.max_cond_size, runner=runner, return_conflicts=True,
        )
        graph = graph2
        table = pd.DataFrame(columns=["edge", "x", "y", "direction", "stat_x_to_y", "stat_y_to_x", "applied"])
        forces = explained = None
        if (self.independent_changes or self.driving_force) and changing:
            kernels = dict(
                context_kind=self.context_kind, kernel_width=self.kernel_width, context_width=self.context_width,
                ridge=self.ridge, max_samples=self.max_samples, random_state=self.random_state,
            )
            with jax.enable_x64(True):
                # one embedder (kernel matrices, cached per variable set) serves phases 3 and 4
                embedder = _Embedder(
                    variables, ctx, width=self.kernel_width, context_width=self.context_width, ridge=self.ridge,
                    max_samples=self.max_samples, random_state=self.random_state,
                )
                # phase 3
                if self.independent_changes:
                    graph, table = orient_by_independent_changes(
                        graph2, data, context, **kernels, progress=self.progress, embedder=embedder
                    )
                # phase 4
                if self.driving_force:
                    forces, explained = driving_forces(
                        graph, data, context, nodes=changing, n_components=self.n_components, **kernels,
                        progress=self.progress, embedder=embedder,
                    )
        self.graph_ = PDAG(nodes, graph.directed_edges, graph.undirected_edges, graph.bidirected_edges)
        self.graph_phase2_ = PDAG(nodes, graph2.directed_edges, graph2.undirected_edges, graph2.bidirected_edges)
        self.conflicts_ = _conflict_table(conflicts, self.graph_phase2_)
        self.skeleton_ = skel.graph
        self.changing_nodes_ = list(changing)
        self.context_nodes_ = list(ctx.names)
        self.context_kinds_ = dict(zip(ctx.names, ctx.kinds))
        self.sepsets_ = skel.sepsets
        self.separating_sets_ = skel.separating_sets
        self.pvalues_ = runner.frame()
        self.n_tests_ = runner.n_tests
        self.independent_changes_ = table
        self.driving_force_ = forces
        self.driving_force_explained_ = explained
        self.n_features_in_ = len(names)
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "graph_")
