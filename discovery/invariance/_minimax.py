"""Causal minimax transfer: which subset of the stable information to use (Liu, Zheng, Sun, Fang and Wang, ICML 2023).

The environments differ in the mechanisms of some covariates, the *mutable* ones ``M``
(the covariates a context variable points to; CD-NOD's changing modules). Removing those
mechanisms with the do-operator leaves the distribution ``P(. | do(x_M))`` that is the same
in every environment, and with it a family of *stable* predictors

    ``f_S(x_S, x_M) = E[Y | x_S, do(x_M)]``,   ``S`` a subset of the stable set ``X \\ M``.

Each is invariant as a *function*, but its *risk* is not: a new environment may set the
mutable covariates by any function of their parents, and when ``Y`` itself is a parent of
a mutable covariate the adversary can use ``Y`` to hurt the predictor. The whole stable set
is then not always the best one to transfer; :class:`MinimaxTransfer` picks the subset with
the smallest worst-case risk.

Phases (each a function here):

1. :func:`mutable_structure` -- the graph and the mutable covariates (given, or CD-NOD's);
2. :func:`fit_stable_mechanisms` -- a polynomial regression of every stable node on its
   parents, with its residuals (the noise, resampled);
3. :func:`fit_stable_predictors` -- ``f_S`` for many subsets at once, by least squares on a
   sample of the intervened model (the mutable covariates drawn from their observed
   marginals independently of everything, their descendants regenerated);
4. :func:`worst_case_risks` -- for each ``f_S``, gradient ascent of its risk over bounded
   intervention functions of the mutable mechanisms (one jitted, vmapped call);
5. :func:`search_subsets` -- exhaustive over all subsets, or greedy backward elimination
   (``O(p^2)`` subsets instead of ``2^p``).
"""

from __future__ import annotations

import itertools
import logging
import warnings
from numbers import Integral, Real

import networkx as nx
import numpy as np
import pandas as pd

from scm._exceptions import DataError, GraphError, NotFittedError, UnknownNodeError

from .._base import Interval, Options, ParamsMixin, Satisfies, columns_seen_by_fit
from .._utils import standardize
from ._icp import split_inputs
from ._predictors import _split_xy, _two_dimensional, r2_score

__all__ = [
    "MinimaxTransfer",
    "mutable_structure",
    "fit_stable_mechanisms",
    "fit_stable_predictors",
    "worst_case_risks",
    "search_subsets",
    "markov_boundary",
    "relevant_inputs",
    "equivalence_classes",
    "monomial_table",
]

logger = logging.getLogger(__name__)


# =========================================================================== polynomial features
def monomial_table(k: int, degree: int) -> tuple:
    """Every monomial of ``k`` inputs up to ``degree``, as index tuples into ``[1, z_1, ..., z_k]``.

    Index 0 is the constant; a tuple of length ``degree`` lists the factors (padded with 0).

    Examples
    --------
    >>> monomial_table(2, 2)
    ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    """
    return tuple(itertools.combinations_with_replacement(range(k + 1), max(int(degree), 1)))


def _features(z: np.ndarray, table: tuple) -> np.ndarray:
    z1 = np.concatenate([np.ones((z.shape[0], 1)), z], axis=1)
    return np.prod(z1[:, np.asarray(table, dtype=int)], axis=-1)


def _ridge(features: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Least squares with a small ridge (not on the constant), for well-posed fits of many monomials."""
    gram = features.T @ features
    penalty = ridge * len(y) * np.eye(features.shape[1])
    penalty[0, 0] = 0.0
    return np.linalg.solve(gram + penalty, features.T @ y)


# =========================================================================== phase 1: structure
def mutable_structure(
    frame: pd.DataFrame,
    y: np.ndarray,
    target: str,
    codes: np.ndarray | None,
    *,
    graph=None,
    mutable=None,
    ci_test: str = "fisherz",
    alpha: float = 0.05,
) -> tuple[nx.DiGraph, list]:
    """The DAG over the covariates and the target, and the mutable covariates.

    Given ``graph`` and ``mutable`` they are checked and returned. Without ``graph``, CD-NOD
    (``ci_test``, ``alpha``) learns it from the data with the environment as its context
    node; its undirected edges are oriented by :func:`scm.consistent_extension`. Without
    ``mutable``, the mutable covariates are CD-NOD's changing modules (the nodes adjacent
    to the context node; with a given graph, CD-NOD is run to find them).

    Raises
    ------
    UnknownNodeError
        A graph missing a column, or ``mutable`` naming a node that is not a covariate.
    DataError
        The target's own mechanism changes across environments (minimax transfer needs it stable).
    """
    columns = list(map(str, frame.columns))
    nodes = columns + [target]
    learned = None
    if graph is None or mutable is None:
        if codes is None or len(np.unique(codes)) < 2:
            raise DataError(
                "MinimaxTransfer needs graph= and mutable=, or the environment of every row (at least two "
                "environments) to learn them with CD-NOD"
            )
        from ..constraint import CDNOD

        context = "__environment__"
        data = frame.copy()
        data[target] = y
        data[context] = codes
        model = CDNOD(ci_test=ci_test, alpha=alpha, independent_changes=False, driving_force=False).fit(data, context=context)
        learned = model
        if mutable is None:
            mutable = [v for v in model.changing_nodes_ if v != context]
    if graph is None:
        from scm import PDAG, consistent_extension

        pdag = learned.graph_
        keep = [v for v in pdag.nodes if v != context]
        sub = PDAG(
            keep,
            directed=[e for e in pdag.directed_edges if context not in e],
            undirected=[e for e in pdag.undirected_edges if context not in e],
        )
        graph = consistent_extension(sub)
    graph = graph.to_networkx() if hasattr(graph, "to_networkx") and not isinstance(graph, nx.DiGraph) else graph
    if not isinstance(graph, nx.DiGraph):
        raise GraphError(f"graph must be a networkx.DiGraph over the columns of X and the target; got {type(graph).__name__}")
    if not nx.is_directed_acyclic_graph(graph):
        raise GraphError("graph must be acyclic")
    graph = nx.relabel_nodes(graph, {v: str(v) for v in graph.nodes})
    missing = [v for v in nodes if v not in graph]
    if missing:
        raise UnknownNodeError(f"graph lacks the node(s) {missing[:10]} (it needs every column of X and the target {target!r})")
    extra = [v for v in graph.nodes if v not in nodes]
    if extra:
        raise UnknownNodeError(f"graph has node(s) {extra[:10]} that are neither columns of X nor the target {target!r}")
    mutable = [str(m) for m in ([mutable] if isinstance(mutable, str) else list(mutable))]
    if target in mutable:
        raise DataError(
            f"the target {target!r} is mutable (its mechanism changes across environments); minimax transfer "
            "needs a stable target mechanism"
        )
    unknown = [m for m in mutable if m not in columns]
    if unknown:
        raise UnknownNodeError(f"mutable names {unknown} that are not columns of X (columns: {columns[:10]})")
    return graph, [c for c in columns if c in set(mutable)]


# =========================================================================== phase 2: stable mechanisms
def fit_stable_mechanisms(values: np.ndarray, nodes: list, graph: nx.DiGraph, mutable: list, degree: int, ridge: float = 1e-6):
    """Polynomial regressions of the stable nodes on their parents.

    Parameters
    ----------
    values : ndarray of shape (n, len(nodes))
        Standardised data, in the order of ``nodes``.

    Returns
    -------
    structure : tuple
        ``(kind, node index, parent indices, monomials)`` per node in topological order
        (see :mod:`discovery.invariance._minimax_kernels`).
    coefs : list of ndarray
        One coefficient vector per node (``[0.0]`` for a mutable node).
    residuals : list of ndarray
        The in-sample residuals of every stable node (empty for a mutable node).
    """
    index = {v: i for i, v in enumerate(nodes)}
    order = [v for v in nx.lexicographical_topological_sort(graph, key=lambda v: index[v])]
    structure, coefs, residuals = [], [np.zeros(1)] * len(nodes), [np.zeros(0)] * len(nodes)
    for v in order:
        i = index[v]
        parents = tuple(sorted(index[p] for p in graph.predecessors(v)))
        if v in mutable:
            structure.append(("mutable", i, parents, None))
            continue
        table = monomial_table(len(parents), degree)
        feats = _features(values[:, list(parents)], table)
        coef = _ridge(feats, values[:, i], ridge)
        coefs[i] = coef
        residuals[i] = values[:, i] - feats @ coef
        structure.append(("stable", i, parents, table))
    return tuple(structure), coefs, residuals


def _noise(residuals: list, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, n_nodes)`` residuals resampled independently per node (zeros for mutable nodes)."""
    out = np.zeros((n, len(residuals)))
    for i, r in enumerate(residuals):
        if len(r):
            out[:, i] = r[rng.integers(0, len(r), size=n)]
    return out


def _do_sample(structure: tuple, coefs: list, residuals: list, observed: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A sample of ``P(. | do(x_M))`` with ``x_M`` drawn from the observed marginals of the mutable nodes, independently."""
    values = np.zeros((n, len(residuals)))
    noise = _noise(residuals, n, rng)
    for kind, i, parents, table in structure:
        if kind == "mutable":
            values[:, i] = observed[rng.integers(0, observed.shape[0], size=n), i]
        else:
            values[:, i] = _features(values[:, list(parents)], table) @ coefs[i] + noise[:, i]
    return values


# =========================================================================== phase 3: predictors
def _keys(seeds: np.ndarray, random_state: int, salt: int):
    """One typed JAX key per subset seed: a subset's fits do not depend on which search evaluates it."""
    import jax
    import jax.numpy as jnp

    base = jax.random.fold_in(jax.random.key(int(random_state)), salt)
    return jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.asarray(np.asarray(seeds) % (2**31 - 1), dtype=jnp.int32))


def fit_stable_predictors(
    sample: np.ndarray,
    inputs: list,
    target: int,
    masks: np.ndarray,
    seeds: np.ndarray,
    *,
    hidden: int = 32,
    n_steps: int = 400,
    learning_rate: float = 0.02,
    random_state: int = 0,
) -> dict:
    """``f_S(x_S, x_M) = E[y | x_S, do(x_M)]`` for every mask, by least squares on a sample of the intervened model.

    Each predictor is a linear term plus one tanh layer of ``hidden`` units, on the inputs
    in its mask (the others are zeroed), trained by full-batch Adam in one jitted, vmapped call.

    Parameters
    ----------
    sample : ndarray (n, n_nodes)
        A sample of ``P(. | do(x_M))`` (or the data, when nothing is mutable), standardised.
    inputs : list of int
        The node indices of the predictor's inputs (every covariate).
    masks : ndarray of bool, shape (B, len(inputs))
        The inputs each predictor uses (its subset ``S`` and the mutable covariates).
    seeds : ndarray of int, shape (B,)
        One seed per predictor (of its subset) for its initial weights.

    Returns
    -------
    dict of ndarray
        The predictors' parameters, batched along the first axis.
    """
    import jax
    import jax.numpy as jnp

    from . import _minimax_kernels

    with jax.enable_x64(True):
        params = _minimax_kernels.fit_predictors(
            jnp.asarray(sample[:, inputs]),
            jnp.asarray(sample[:, target]),
            jnp.asarray(masks, dtype=float),
            _keys(seeds, random_state, 1),
            jnp.asarray(float(learning_rate)),
            hidden=int(hidden),
            n_steps=int(n_steps),
        )
        return {k: np.asarray(v) for k, v in params.items()}


def _predictor_output(params: dict, z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`discovery.invariance._minimax_kernels.predictor_output` (one predictor)."""
    zm = z * mask
    return np.tanh(zm @ params["w1"] + params["b1"]) @ params["w2"] + zm @ params["w0"] + params["b2"]


# =========================================================================== phase 4: worst case
def worst_case_risks(
    structure: tuple,
    coefs: list,
    residuals: list,
    lo: np.ndarray,
    hi: np.ndarray,
    preds: dict,
    masks: np.ndarray,
    seeds: np.ndarray,
    inputs: list,
    target: int,
    *,
    n_mc: int = 2000,
    hidden: int = 8,
    n_restarts: int = 2,
    n_steps: int = 150,
    learning_rate: float = 0.1,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimated worst-case risk of each stable predictor over bounded intervention functions (standardised units).

    The adversary of predictor ``b`` starts from keys derived from ``seeds[b]`` (its subset), so
    a subset gets the same estimate whichever search evaluates it; its ascent runs on one
    Monte-Carlo sample of the noises and is scored on another (drawn from ``random_state``).

    Returns
    -------
    risk, se : ndarray (B,)
        The largest risk found over the random starts, evaluated on the fresh sample, and its
        Monte-Carlo standard error.
    """
    import jax
    import jax.numpy as jnp

    from . import _minimax_kernels

    rng = np.random.default_rng(random_state)
    noise_fit, noise_eval = _noise(residuals, n_mc, rng), _noise(residuals, n_mc, rng)
    with jax.enable_x64(True):
        risk, se = _minimax_kernels.worst_case_ascent(
            tuple(structure),
            tuple(jnp.asarray(c) for c in coefs),
            jnp.asarray(noise_fit),
            jnp.asarray(noise_eval),
            jnp.asarray(lo),
            jnp.asarray(hi),
            {k: jnp.asarray(v) for k, v in preds.items()},
            jnp.asarray(masks, dtype=float),
            _keys(seeds, random_state, 2),
            jnp.asarray(float(learning_rate)),
            inputs=tuple(int(i) for i in inputs),
            target=int(target),
            hidden=int(hidden),
            n_restarts=int(n_restarts),
            n_steps=int(n_steps),
        )
        return np.asarray(risk), np.asarray(se)


# =========================================================================== phase 5: search
def markov_boundary(graph: nx.DiGraph, target: str, mutable: list, stable: list):
    """``boundary(mask) -> mask``: the smallest part ``T`` of a stable subset ``S`` with ``y`` d-separated from ``S \\ T``.

    The d-separations are read in the graph with the arrows into the mutable covariates
    removed (the do-graph), given ``T`` and the mutable covariates. Under faithfulness the
    boundary is unique and ``E[y | x_S, do(x_M)] = E[y | x_T, do(x_M)]``: subsets with the same
    boundary have the same stable predictor, hence the same worst-case risk (one equivalence
    class). ``T`` holds each ``v`` of ``S`` not d-separated from ``y`` by ``S \\ {v}`` and ``M``.
    """
    from scm import d_separated

    do_graph = graph.copy()
    do_graph.remove_edges_from([(u, v) for u, v in graph.edges if v in set(mutable)])
    cache: dict = {}

    def boundary(mask) -> tuple:
        key = tuple(bool(b) for b in mask)
        if key not in cache:
            chosen = [v for v, b in zip(stable, key, strict=True) if b]
            out = []
            for v in stable:
                if v not in chosen:
                    out.append(False)
                    continue
                given = [u for u in chosen if u != v] + list(mutable)
                out.append(not d_separated(do_graph, {v}, {target}, set(given)))
            cache[key] = tuple(out)
        return cache[key]

    return boundary


def relevant_inputs(graph: nx.DiGraph, target: str, mutable: list, columns: list):
    """``relevant(mask) -> mask`` over all covariates: the inputs ``E[y | x_S, do(x_M)]`` depends on.

    Of the stable subset in ``mask`` and the mutable covariates, those not d-separated from
    ``y`` by the others in the do-graph. A predictor given only these cannot pick up a spurious
    dependence on an irrelevant input (an interaction with a mutable covariate that the
    adversary would exploit).
    """
    from scm import d_separated

    do_graph = graph.copy()
    do_graph.remove_edges_from([(u, v) for u, v in graph.edges if v in set(mutable)])
    cache: dict = {}

    def relevant(mask) -> np.ndarray:
        key = tuple(bool(b) for b in mask)
        if key not in cache:
            chosen = [c for c, b in zip(columns, key, strict=True) if b or c in mutable]
            cache[key] = np.array([c in chosen and not d_separated(do_graph, {c}, {target}, set(chosen) - {c}) for c in columns])
        return cache[key]

    return relevant


def equivalence_classes(p: int, boundary) -> list[tuple]:
    """The Markov boundaries of all ``2^p`` subsets, found without listing the subsets.

    From a subset ``S`` with boundary ``T``: every subset of ``S`` that holds ``T`` has the
    boundary ``T`` too, so the other classes below ``S`` lie below some ``S \\ {v}``, ``v`` in
    ``T``; the search recurses on those alone. With boundaries of at most ``k`` covariates it
    visits ``O(p^k)`` subsets rather than ``2^p``.

    Examples
    --------
    >>> def boundary(mask):                     # y depends on covariates 0 and 1 only
    ...     return (mask[0], mask[1], False)
    >>> sorted(equivalence_classes(3, boundary))
    [(False, False, False), (False, True, False), (True, False, False), (True, True, False)]
    """
    seen, classes, stack = set(), [], [tuple([True] * p)]
    while stack:
        s = stack.pop()
        if s in seen:
            continue
        seen.add(s)
        t = tuple(boundary(s))
        if t not in classes:
            classes.append(t)
        for v in range(p):
            if t[v]:
                stack.append(s[:v] + (False,) + s[v + 1 :])
    return classes


def search_subsets(evaluate, p: int, *, search: str, boundary=None) -> tuple[np.ndarray, pd.DataFrame]:
    """The subset of ``p`` stable covariates with the smallest worst-case risk.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(masks (B, p) bool) -> (risk (B,), se (B,))``.
    search : {"equivalence", "greedy", "exhaustive"}
        ``"exhaustive"``: all ``2^p`` subsets. ``"equivalence"``: one subset per equivalence
        class (:func:`equivalence_classes` of ``boundary``, its Markov boundary) and the whole
        set. ``"greedy"``: backward elimination from the whole stable set, removing at each
        step the covariate whose removal lowers the worst-case risk most, until none does
        (at most ``p (p + 1) / 2 + 1`` subsets, each step's in one batch).
    boundary : callable, optional
        ``boundary(mask) -> mask``, needed by ``"equivalence"`` (:func:`markov_boundary`).

    Returns
    -------
    best : ndarray of bool (p,)
    table : DataFrame
        Every subset evaluated: ``mask`` (as a tuple), ``risk``, ``se``.

    Examples
    --------
    >>> target = np.array([True, False, True])
    >>> def evaluate(masks):                        # a risk that counts the wrong choices
    ...     return (masks != target).sum(axis=1).astype(float), np.zeros(len(masks))
    >>> search_subsets(evaluate, 3, search="greedy")[0].tolist()
    [True, False, True]
    """
    whole = tuple([True] * p)
    if search in ("exhaustive", "equivalence"):
        if search == "exhaustive":
            masks = [tuple(m) for m in itertools.product([True, False], repeat=p)]
        else:
            masks = [whole] + [c for c in equivalence_classes(p, boundary) if c != whole]
        masks = np.array(masks, dtype=bool).reshape(-1, p)
        risk, se = evaluate(masks)
        table = pd.DataFrame({"mask": [tuple(m) for m in masks], "risk": risk, "se": se})
        return masks[int(np.argmin(risk))], table
    current = np.ones(p, dtype=bool)
    risk, se = evaluate(current[None])
    rows = [(tuple(current), float(risk[0]), float(se[0]))]
    best_risk = float(risk[0])
    while current.any():
        on = np.flatnonzero(current)
        masks = np.repeat(current[None], len(on), axis=0)
        masks[np.arange(len(on)), on] = False
        risk, se = evaluate(masks)
        rows += [(tuple(m), float(r), float(s)) for m, r, s in zip(masks, risk, se, strict=True)]
        j = int(np.argmin(risk))
        if risk[j] >= best_risk:
            break
        current, best_risk = masks[j], float(risk[j])
    return current, pd.DataFrame(rows, columns=["mask", "risk", "se"])


def _mask_seed(mask) -> int:
    return int(sum(1 << i for i, m in enumerate(mask) if m))


class _Evaluator:
    """``evaluate(masks) -> (risk, se)`` for :func:`search_subsets`: fits the stable predictors and their adversaries.

    Works in batches of a fixed size (one compilation per shape) and keeps every fitted predictor.
    """

    batch_size = 16

    def __init__(self, est: MinimaxTransfer, sample, values, columns, mutable, model, relevant=None):
        self.est, self.sample, self.values, self.model, self.relevant = est, sample, values, model, relevant
        self.p = len(columns)
        self.stable_pos = [i for i, c in enumerate(columns) if c not in mutable]
        self.always = np.array([c in mutable for c in columns])
        self.predictors: dict = {}

    def input_mask(self, masks: np.ndarray) -> np.ndarray:
        full = np.zeros((len(masks), self.p), dtype=bool)
        full[:, self.stable_pos] = masks
        if self.relevant is not None:
            return np.array([self.relevant(m) for m in full])
        return full | self.always

    def __call__(self, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = self.est
        b = min(self.batch_size, 1 << max(len(masks) - 1, 0).bit_length())  # 1, 2, 4, 8 or 16: few shapes to compile
        risk, se = np.empty(len(masks)), np.empty(len(masks))
        for start in range(0, len(masks), b):
            block = masks[start : start + b]
            padded = np.concatenate([block, np.repeat(block[-1:], b - len(block), axis=0)])
            inputs_mask = self.input_mask(padded)
            seeds = np.array([_mask_seed(m) for m in padded], dtype=np.int64)
            preds = fit_stable_predictors(
                self.sample,
                list(range(self.p)),
                self.p,
                inputs_mask,
                seeds,
                hidden=est.predictor_hidden,
                n_steps=est.predictor_steps,
                random_state=est.random_state,
            )
            for j, m in enumerate(block):
                self.predictors[tuple(m)] = {k: v[j] for k, v in preds.items()}
            if self.model is None:  # nothing mutable: every environment is the training one, the in-sample risk
                r, s = [], []
                for j in range(len(block)):
                    sq = (
                        self.values[:, self.p]
                        - _predictor_output(self.predictors[tuple(block[j])], self.values[:, : self.p], inputs_mask[j])
                    ) ** 2
                    r.append(sq.mean())
                    s.append(sq.std() / np.sqrt(len(sq)))
            else:
                structure, coefs, residuals, lo, hi = self.model
                r, s = worst_case_risks(
                    structure,
                    coefs,
                    residuals,
                    lo,
                    hi,
                    preds,
                    inputs_mask,
                    seeds,
                    list(range(self.p)),
                    self.p,
                    n_mc=est.n_mc,
                    hidden=est.hidden,
                    n_restarts=est.n_restarts,
                    n_steps=est.n_steps,
                    learning_rate=est.learning_rate,
                    random_state=est.random_state,
                )
            risk[start : start + len(block)] = np.asarray(r)[: len(block)]
            se[start : start + len(block)] = np.asarray(s)[: len(block)]
        return risk, se


# =========================================================================== the estimator
class MinimaxTransfer(ParamsMixin):
    """Minimax transfer of stable information (Liu, Zheng, Sun, Fang and Wang, ICML 2023).

    Predicts ``y`` with ``f_S(x) = E[y | x_S, do(x_M)]`` for the subset ``S`` of the stable
    covariates whose worst-case risk, over every new environment that changes the mutable
    mechanisms ``M`` (within the bounds ``intervention_range``), is smallest.

    Parameters
    ----------
    graph : networkx.DiGraph, optional
        The DAG over the columns of ``X`` and the target. Without it CD-NOD learns it.
    mutable : list of str, optional
        The covariates whose mechanisms change across environments. Without it, CD-NOD's
        changing modules. ``[]``: nothing is mutable, every stable predictor has the same
        risk in every environment and the whole set is chosen.
    degree : int, default 2
        Degree of the polynomial mechanisms of the stable nodes (1: linear; with linear
        mechanisms every stable predictor's risk is the same in every environment, and the
        whole stable set is optimal).
    intervention_range : "observed" or float, default "observed"
        The values an intervention function may give a mutable covariate: its observed
        range, or ``mean +- r`` standard deviations for a number ``r > 0``.
    search : {"equivalence", "greedy", "exhaustive"}, default "equivalence"
        See :func:`search_subsets`: one subset per equivalence class (the paper's search),
        backward elimination, or every subset.
    n_mc : int, default 2000
        Monte-Carlo draws of the noises, for the adversary's ascent and (fresh) for its evaluation.
    n_sim : int, default 4000
        Draws of the intervened model to which the predictors are fitted.
    hidden : int, default 8
        Width of the adversary's intervention functions (one tanh layer).
    predictor_hidden : int, default 32
        Width of the stable predictors (a linear term plus one tanh layer).
    predictor_steps : int, default 400
        Adam steps (learning rate 0.02) of each stable predictor's least-squares fit.
    n_restarts : int, default 2
        Random starts of the adversary per subset, besides the start from the worst constant
        intervention (the largest risk is kept).
    n_steps : int, default 150
        Adam steps of the adversary.
    learning_rate : float, default 0.1
    ci_test, alpha
        CD-NOD's test and level, when it learns the graph or the mutable covariates.
    random_state : int, default 0

    Attributes
    ----------
    subset_ : list of str
        The chosen stable covariates (the predictor also uses the mutable ones, through ``do``).
    stable_set_ : list of str
        Every stable covariate.
    mutable_ : list of str
    graph_ : networkx.DiGraph
    worst_case_risk_, worst_case_risk_se_ : float
        The chosen predictor's estimated worst-case mean squared error (units of ``y``
        squared) and its Monte-Carlo standard error.
    stable_set_risk_, stable_set_risk_se_ : float
        The same for the whole stable set.
    risks_ : pandas.DataFrame
        Every subset evaluated: ``subset`` (tuple of names), ``worst_case_risk``, ``se``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Notes
    -----
    Mechanisms and predictors are polynomials of degree ``degree`` fitted by least squares on
    z-scores, with resampled residuals as the noise. The worst case is over deterministic
    intervention functions of the mutable covariates' parents (a stochastic mechanism cannot do
    worse: the risk is linear in the mechanism's conditional law), approximated by a
    one-layer network; the ascent can miss the supremum, so the estimate is a lower bound up
    to Monte-Carlo error. See ``docs/invariance.md`` for what this implementation decided where
    the paper leaves a choice.

    References
    ----------
    M. Liu, X. Zheng, X. Sun, F. Fang and Y. Wang. Which invariance should we transfer? A
    causal minimax learning approach. ICML 2023 (arXiv:2107.01876).

    Examples
    --------
    >>> import numpy as np, pandas as pd, networkx as nx
    >>> rng = np.random.default_rng(0)
    >>> env = np.repeat([0, 1, 2], 300)
    >>> x1 = rng.normal(size=900)
    >>> y = x1 + 3 * rng.normal(size=900)
    >>> m = 2 * np.tanh(np.array([-1.0, 0.5, 1.0])[env] * y / 3) + 0.3 * rng.normal(size=900)   # mutable child of y
    >>> x2 = y * m + 0.5 * rng.normal(size=900)                                           # stable child of y and m
    >>> X = pd.DataFrame({"x1": x1, "m": m, "x2": x2})
    >>> g = nx.DiGraph([("x1", "y"), ("y", "m"), ("y", "x2"), ("m", "x2")])
    >>> model = MinimaxTransfer(graph=g, mutable=["m"], n_mc=800, n_sim=1500, predictor_steps=250, n_steps=40,
    ...                         n_restarts=1).fit(X, y, environment=env)
    >>> model.stable_set_, model.subset_
    (['x1', 'x2'], ['x1'])
    >>> bool(model.worst_case_risk_ < model.stable_set_risk_)       # the whole stable set is not minimax-optimal
    True
    """

    _estimator_type = "regressor"

    _parameter_constraints = {
        "graph": Satisfies(lambda g: g is None or isinstance(g, nx.DiGraph), "None or a networkx.DiGraph"),
        "mutable": Satisfies(lambda m: m is None or isinstance(m, (str, list, tuple)), "None or a list of column names"),
        "degree": Interval(Integral, 1, 3, closed="both"),
        "intervention_range": Satisfies(
            lambda r: (
                (isinstance(r, str) and r == "observed") or (isinstance(r, Real) and not isinstance(r, bool) and r > 0 and np.isfinite(r))
            ),
            '"observed" or a positive number of standard deviations',
        ),
        "search": Options(("equivalence", "greedy", "exhaustive")),
        "n_mc": Interval(Integral, 10, None, closed="left"),
        "n_sim": Interval(Integral, 10, None, closed="left"),
        "hidden": Interval(Integral, 1, None, closed="left"),
        "predictor_hidden": Interval(Integral, 1, None, closed="left"),
        "predictor_steps": Interval(Integral, 1, None, closed="left"),
        "n_restarts": Interval(Integral, 1, None, closed="left"),
        "n_steps": Interval(Integral, 0, None, closed="left"),
        "learning_rate": Interval(Real, 0, None),
        "ci_test": Options(("fisherz", "kci")),
        "alpha": Interval(Real, 0, 1, closed="neither"),
        "random_state": Interval(Integral, 0, None, closed="left"),
    }

    def __init__(
        self,
        *,
        graph=None,
        mutable=None,
        degree: int = 2,
        intervention_range="observed",
        search: str = "equivalence",
        n_mc: int = 2000,
        n_sim: int = 4000,
        hidden: int = 8,
        predictor_hidden: int = 32,
        predictor_steps: int = 400,
        n_restarts: int = 2,
        n_steps: int = 150,
        learning_rate: float = 0.1,
        ci_test: str = "fisherz",
        alpha: float = 0.05,
        random_state: int = 0,
    ):
        self.graph = graph
        self.mutable = mutable
        self.degree = degree
        self.intervention_range = intervention_range
        self.search = search
        self.n_mc = n_mc
        self.n_sim = n_sim
        self.hidden = hidden
        self.predictor_hidden = predictor_hidden
        self.predictor_steps = predictor_steps
        self.n_restarts = n_restarts
        self.n_steps = n_steps
        self.learning_rate = learning_rate
        self.ci_test = ci_test
        self.alpha = alpha
        self.random_state = random_state

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "subset_")

    def fit(self, X, y, *, environment=None) -> MinimaxTransfer:
        """Choose the stable subset with the smallest worst-case risk and fit its predictor.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
        y : str or array-like of shape (n_samples,)
            A column name of ``X`` or the target values.
        environment : str or array-like of shape (n_samples,), optional
            A column name of ``X`` or the environment of every row. Needed to learn the graph
            or the mutable covariates; without it (and without ``mutable``) all rows are one
            environment and nothing is mutable.

        Returns
        -------
        self

        Raises
        ------
        ParameterError
            Bad parameters.
        DataError
            One environment given, an environment with fewer than two rows, non-numeric
            or missing values, a mutable target.
        UnknownNodeError, GraphError
            A graph that does not cover the columns, or a mutable name that is not a column.
        """
        owner = "MinimaxTransfer"
        self._validate_params()
        _two_dimensional(X, owner)
        frame, target, yv, codes, labels = split_inputs(
            X, y, environment, owner=owner, min_rows_extra=0, min_environments=1 if environment is None else 2
        )
        counts = np.bincount(codes)
        if environment is not None and counts.min() < 2:
            raise DataError(f"every environment needs at least two rows; environment {labels[int(np.argmin(counts))]!r} has one")
        frame.columns = list(map(str, frame.columns))
        columns = list(frame.columns)
        if target in columns:
            raise DataError(f"the target name {target!r} is also a column of X")
        mutable = self.mutable
        if mutable is None and self.graph is None and environment is None:
            mutable = []
        if mutable is not None and len(mutable) == 0 and self.graph is None:
            graph = nx.DiGraph()
            graph.add_nodes_from(columns + [target])
            graph.add_edges_from((c, target) for c in columns)
            mutable = []
        else:
            graph, mutable = mutable_structure(
                frame,
                yv,
                target,
                codes if environment is not None else None,
                graph=self.graph,
                mutable=mutable,
                ci_test=self.ci_test,
                alpha=self.alpha,
            )
        nodes = columns + [target]
        raw = np.column_stack([frame.to_numpy(dtype=float), yv])
        values, mean, scale = standardize(raw, nodes, owner=owner)
        stable = [c for c in columns if c not in mutable]
        rng = np.random.default_rng(self.random_state)
        if mutable:
            structure, coefs, residuals = fit_stable_mechanisms(values, nodes, graph, mutable, self.degree)
            sample = _do_sample(structure, coefs, residuals, values, self.n_sim, rng)
            if self.intervention_range == "observed":
                lo, hi = values.min(axis=0), values.max(axis=0)
            else:
                lo, hi = np.full(len(nodes), -float(self.intervention_range)), np.full(len(nodes), float(self.intervention_range))
            model = (structure, coefs, residuals, lo, hi)
        else:
            sample, model = values, None
        relevant = relevant_inputs(graph, target, mutable, columns) if mutable else None
        evaluator = _Evaluator(self, sample, values, columns, mutable, model, relevant)
        if mutable:
            boundary = markov_boundary(graph, target, mutable, stable) if self.search == "equivalence" else None
            best, table = search_subsets(evaluator, len(stable), search=self.search, boundary=boundary)
        else:
            best = np.ones(len(stable), dtype=bool)
            table = pd.DataFrame(dict(zip(("risk", "se"), evaluator(best[None]), strict=True)))
            table.insert(0, "mask", [tuple(best)])
        whole = table[table["mask"] == tuple(np.ones(len(stable), dtype=bool))].iloc[0]
        chosen = table[table["mask"] == tuple(best)].iloc[0]
        self._predictors = {
            tuple(c for c, b in zip(stable, m, strict=True) if b): (params, evaluator.input_mask(np.asarray(m)[None])[0])
            for m, params in evaluator.predictors.items()
        }
        self._mean, self._scale = mean, scale
        y_var = float(scale[len(columns)]) ** 2
        self.graph_ = graph
        self.mutable_ = list(mutable)
        self.stable_set_ = stable
        self.subset_ = [c for c, b in zip(stable, best, strict=True) if b]
        self.worst_case_risk_ = float(chosen["risk"]) * y_var
        self.worst_case_risk_se_ = float(chosen["se"]) * y_var
        self.stable_set_risk_ = float(whole["risk"]) * y_var
        self.stable_set_risk_se_ = float(whole["se"]) * y_var
        self.risks_ = pd.DataFrame(
            {
                "subset": [tuple(c for c, b in zip(stable, m, strict=True) if b) for m in table["mask"]],
                "worst_case_risk": table["risk"].to_numpy() * y_var,
                "se": table["se"].to_numpy() * y_var,
            }
        )
        self.n_features_in_ = len(columns)
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        logger.info(
            "MinimaxTransfer: chose %s (worst-case risk %.4g) of the stable set %s (%.4g)",
            self.subset_,
            self.worst_case_risk_,
            stable,
            self.stable_set_risk_,
        )
        return self

    def predict(self, X, *, subset=None) -> np.ndarray:
        """Predict the target with the chosen stable predictor ``E[y | x_S, do(x_M)]``.

        Parameters
        ----------
        X : pandas.DataFrame or array of shape (n_samples, n_features)
            The columns seen by ``fit`` (a DataFrame may hold others, ignored).
        subset : list of str, optional
            Predict with the stable predictor of another subset that the search evaluated
            (one of ``risks_["subset"]``), e.g. the whole stable set, to compare.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        if not hasattr(self, "subset_"):
            raise NotFittedError("This MinimaxTransfer instance is not fitted yet; call 'fit' first.")
        key = tuple(c for c in self.stable_set_ if c in set(self.subset_ if subset is None else subset))
        if subset is not None and (key not in self._predictors or len(key) != len(set(subset))):
            raise UnknownNodeError(
                f"subset {list(subset)} was not evaluated by the search; evaluated subsets: {[list(k) for k in self._predictors][:10]}"
            )
        params, mask = self._predictors[key]
        _two_dimensional(X, "MinimaxTransfer")
        values = columns_seen_by_fit(X, list(self.feature_names_in_), "MinimaxTransfer").to_numpy(dtype=float)
        p = len(self.feature_names_in_)
        z = (values - self._mean[:p]) / self._scale[:p]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pred = _predictor_output(params, z, mask)
        return pred * self._scale[p] + self._mean[p]

    def score(self, X, y, sample_weight=None) -> float:
        """The coefficient of determination R² of :meth:`predict` on ``X`` against ``y`` (as scikit-learn's regressors)."""
        frame, _, yv = _split_xy(X, y, owner="MinimaxTransfer")
        return r2_score(yv, self.predict(frame if isinstance(y, str) else X), sample_weight)
