"""NOTEARS: DAG learning by continuous optimisation with an acyclicity constraint.

NOTEARS (Zheng et al., 2018; MLP variant Zheng et al., 2020) fits a weighted adjacency
``W`` by least squares with an L1 penalty, under the smooth equality constraint
``h(W) = tr(expm(W * W)) - d = 0`` that holds exactly for DAGs. The constraint is
enforced by an augmented Lagrangian (dual ascent on ``alpha``, penalty ``rho`` raised
tenfold until ``h`` drops by a factor 4), each subproblem solved by L-BFGS. Small
weights are then cut at ``w_threshold``.

The optimiser only drives ``h`` towards 0, so the thresholded graph can still have a
cycle (a known problem of NOTEARS' reference code, xunzheng/notears issue #13). Here
:func:`break_cycles` removes, cycle by cycle, the weakest edge, and logs a warning that
names the removed edges: ``graph_`` is always a DAG.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> a = rng.normal(size=500); b = 1.5 * a + rng.normal(size=500)
>>> model = NOTEARS().fit(pd.DataFrame({"a": a, "b": b}))
>>> sorted(model.graph_.edges)
[('a', 'b')]
"""

from __future__ import annotations

import logging
import time
import warnings
from functools import cache, partial
from numbers import Integral, Real

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pandas as pd
import scipy.linalg
from jax import lax

from scm._exceptions import ConvergenceError, DataError, ParameterError
from scm._graph import check_weighted_adjacency
from scm._validation import check_in_range, check_numeric_frame

from .._base import Boolean, Custom, Interval, Options, ParamsMixin, RandomState, Satisfies, is_layer_sizes
from .._jax import fast_compile_options, jit, parallel_devices, row_sharding
from .._utils import center_scale
from . import _kernels as K

__all__ = ["NOTEARS", "break_cycles"]

logger = logging.getLogger(__name__)

MODELS = ("linear", "mlp")

# lambda1="auto": the L1 penalty of each paper's experiments (Zheng et al. 2018: 0.1 for
# the linear SEM; 2020: 0.01 for the MLPs). With 0.1 the MLPs of the benchmark's
# simulated nonlinear graphs (d = 10) fit the empty graph (docs/benchmarks.md).
DEFAULT_LAMBDA1 = {"linear": 0.1, "mlp": 0.01}

# n <= d rows: the sample covariance is singular and the graph rests on the penalty. NOTEARS fits
# such data only with a penalty and from this many rows on (VIDPDAG's minimum for any fit): with
# fewer, e.g. 3 rows for 4 variables, the centred data span at most n - 1 <= 8 directions and the
# edges that survive the threshold are the penalty's and the noise's, not the data's (issue 26).
MIN_PENALISED_ROWS = 10

# L-BFGS memory of the linear solver. SciPy's default is 10; on the graphs of the NOTEARS
# benchmark 5 pairs gave shorter fits and the same SHD on all graphs but one whose SHD
# moves with rounding: the two-loop recursion's cost grows with the memory
# (docs/benchmarks.md, "Design decisions: Five L-BFGS pairs for linear NOTEARS").
LINEAR_LBFGS_MEMORY = 5


# --------------------------------------------------------------------------- jitted solvers
def acyclicity(w: np.ndarray) -> float:
    """``h(W) = tr(expm(W * W)) - d`` in float64 numpy (SciPy's Pade ``expm``).

    Evaluated outside the jitted solvers: a second copy of the matrix exponential in
    their programs would only add compile time.
    """
    w = np.asarray(w, dtype=np.float64)
    return float(np.trace(scipy.linalg.expm(w * w)) - w.shape[-1])


def _solve_linear_program(w, cov, lambda1, rho, alpha, tol, *, max_iter):
    # Solved in the weights of the standardised sources, v[i, j] = s_i w[i, j] (s_i: column i's
    # root mean square): the loss's curvature in w[i, j] is s_i^2, so columns in units 1000-fold
    # apart make the problem a million times worse conditioned in w and L-BFGS crawls along the
    # flat directions; in v the curvature is the correlation matrix's. The same problem, the same
    # minimiser; ``tol`` keeps its meaning on the gradient in w (docs/benchmarks.md, "Design
    # decisions: Linear NOTEARS on columns of different scales").
    d = w.shape[-1]
    s = jnp.sqrt(jnp.diagonal(cov))[:, None]
    fun = lambda v: K.notears_linear_objective(v / s, cov, rho, alpha)  # noqa: E731
    off_diagonal = 1.0 - jnp.eye(d, dtype=w.dtype)
    v, n_iter = K.lbfgs_minimize(
        fun, w * s, max_iter=max_iter, tol=jnp.broadcast_to(tol / s, (d, d)), memory_size=LINEAR_LBFGS_MEMORY,
        l1=lambda1 * off_diagonal / s, unit_hessian=True,
    )  # exact L1 on the off-diagonal weights (OWL-QN)
    return v / s * off_diagonal, n_iter


# Compiling the linear solver is most of a first fit of a small problem. XLA:CPU's older
# loop emitter (:data:`discovery._jax.CPU_FAST_COMPILE_OPTIONS`) compiles it faster at every
# d, with the same iterations and weights, but its code runs slower on large problems. So
# problems of up to 32 nodes take the faster compile; larger ones, whose fits run long
# enough to pay for it, the faster code (docs/benchmarks.md, "Design decisions: XLA's loop
# emitter on CPU").
SMALL_PROBLEM_MAX_NODES = 32

_solve_linear_jit = jax.jit(_solve_linear_program, static_argnames=("max_iter",))


@cache
def _fast_compiling(options: tuple):
    return jax.jit(_solve_linear_program, static_argnames=("max_iter",), compiler_options=dict(options))


def linear_solver(d: int):
    """The jitted linear solver for ``d`` nodes: the fast-compiling one for small problems on CPU."""
    options = fast_compile_options() if d <= SMALL_PROBLEM_MAX_NODES else None
    return _solve_linear_jit if options is None else _fast_compiling(tuple(sorted(options.items())))


def _solve_linear(w, cov, lambda1, rho, alpha, tol, *, max_iter):
    w, n_iter = linear_solver(w.shape[-1])(w, cov, lambda1, rho, alpha, tol, max_iter=max_iter)
    return w, acyclicity(w), n_iter


# NOTEARS-MLP's OWL-QN compiles with the loop emitter (:func:`discovery._jax.jit`) at every
# size: it compiles faster, takes the same iterations and its compiled fits are as fast
# (docs/benchmarks.md, "Design decisions: XLA's loop emitter on CPU"). With several
# devices the rows of ``x`` are split over them (data parallel; the parameters are replicated).
@partial(jit, static_argnames=("max_iter", "devices"))
def _solve_mlp_jit(params, x, lambda1, lambda2, rho, alpha, tol, *, max_iter, devices=()):
    rows = row_sharding(devices)
    if rows is not None:
        x = lax.with_sharding_constraint(x, rows)
    fun = lambda p: K.notears_mlp_objective(p, x, lambda2, rho, alpha)  # noqa: E731
    l1 = jax.tree.map(jnp.zeros_like, params)
    l1["fc1"] = jnp.full_like(params["fc1"], lambda1)  # exact L1 on the first layer (OWL-QN)
    params, n_iter = K.lbfgs_minimize(fun, params, max_iter=max_iter, tol=tol, l1=l1)
    return params, K.notears_mlp_adjacency(params), n_iter


def _solve_mlp(params, x, lambda1, lambda2, rho, alpha, tol, *, max_iter):
    params, a, n_iter = _solve_mlp_jit(
        params, x, lambda1, lambda2, rho, alpha, tol, max_iter=max_iter, devices=parallel_devices()
    )
    return params, acyclicity(a), n_iter


# --------------------------------------------------------------------------- phases
def augmented_lagrangian(solve, init, *, max_iter: int, h_tol: float, rho_max: float):
    """Dual ascent of NOTEARS: returns ``(params, h, rho, n_outer, n_inner)``.

    ``solve(params, rho, alpha) -> (params, h, n_inner)`` solves one subproblem. As in the
    reference code, ``rho`` is multiplied by 10 (re-solving from the previous iterate)
    until ``h`` falls below a quarter of its previous value, then ``alpha += rho * h``;
    the loop stops when ``h <= h_tol`` or ``rho >= rho_max``.
    """
    params, rho, alpha, h = init, 1.0, 0.0, np.inf
    n_inner = 0
    it = 0
    for it in range(1, max_iter + 1):
        new, h_new = params, h
        while rho < rho_max:
            new, h_new, k = solve(params, rho, alpha)
            n_inner += int(k)
            h_new = float(h_new)
            if not np.isfinite(h_new):
                raise ConvergenceError(
                    f"NOTEARS diverged at dual-ascent step {it} (rho={rho:g}): the acyclicity value is {h_new}; "
                    "standardise the data (standardize=True) or lower the penalty parameters"
                )
            if h_new > 0.25 * h:
                rho *= 10
            else:
                break
        params, h = new, h_new
        alpha += rho * h
        logger.debug("NOTEARS step %d: h=%.3e rho=%.1e inner iterations so far %d", it, h, rho, n_inner)
        if h <= h_tol or rho >= rho_max:
            break
    return params, h, rho, it, n_inner


def break_cycles(weights: np.ndarray, threshold: float, nodes) -> tuple[nx.DiGraph, list]:
    """Threshold a weighted adjacency and break the remaining cycles at their weakest edge.

    Parameters
    ----------
    weights : array of shape (d, d)
        ``weights[i, j]`` is the strength of ``i -> j`` (its absolute value is used).
    threshold : float
        Edges with ``|weight| <= threshold`` are dropped first.
    nodes : sequence
        Node names.

    Returns
    -------
    graph : networkx.DiGraph
        A DAG over ``nodes``.
    removed : list of tuple
        ``(source, target, weight)`` of every edge removed to break a cycle, in order.

    Raises
    ------
    GraphError
        ``weights`` is not a square array of finite numbers (the entry is named by its nodes), or
        ``nodes`` does not name each of its rows (the check of :func:`scm.adjacency_to_dag`).
    ParameterError
        ``threshold`` is not a number >= 0.

    Examples
    --------
    >>> w = np.array([[0.0, 0.9, 0.0], [0.0, 0.0, 0.8], [0.4, 0.0, 0.0]])
    >>> g, removed = break_cycles(w, 0.3, ["a", "b", "c"])
    >>> sorted(g.edges), removed
    ([('a', 'b'), ('b', 'c')], [('c', 'a', 0.4)])
    """
    check_in_range(threshold, name="threshold", low=0, inclusive="left", owner="break_cycles")
    weights, nodes = check_weighted_adjacency(weights, nodes, name="weights")
    return _break_cycles(weights, threshold, nodes)


def _break_cycles(weights: np.ndarray, threshold: float, nodes: list) -> tuple[nx.DiGraph, list]:
    """:func:`break_cycles` on checked weights (NOTEARS' own, finite: checked by ``fit``)."""
    strength = np.abs(np.asarray(weights, dtype=float))
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for i, j in zip(*np.nonzero(strength > threshold)):
        if i != j:
            g.add_edge(nodes[i], nodes[j], weight=float(weights[i, j]))
    removed = []
    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        u, v = min(((a, b) for a, b, *_ in cycle), key=lambda e: (abs(g.edges[e]["weight"]), str(e)))
        removed.append((u, v, g.edges[u, v]["weight"]))
        g.remove_edge(u, v)
    for _, _, data in g.edges(data=True):
        data.pop("weight", None)
    return g, removed


# --------------------------------------------------------------------------- estimator
def _check_lambda1(value, *, name: str, owner: str | None) -> None:
    """``lambda1``: the string ``"auto"`` or a number >= 0 (each kind with its own message)."""
    if isinstance(value, str):
        if value != "auto":
            raise ParameterError(f"The {name!r} parameter of {owner} must be 'auto' or a non-negative number; got {value!r} instead.")
    else:
        check_in_range(value, name=name, low=0, inclusive="left", owner=owner)


class NOTEARS(ParamsMixin):
    """NOTEARS structure learning (linear or MLP), in JAX, with a guaranteed DAG output.

    Parameters
    ----------
    model : {"linear", "mlp"}, default "linear"
        Linear SEM ``X = X W + noise`` (Zheng et al., 2018) or one MLP per node whose
        first-layer weights define the graph (NOTEARS-MLP, Zheng et al., 2020).
    lambda1 : float or "auto", default "auto"
        L1 penalty (on ``W``; on the first-layer weights of the MLPs). ``"auto"``: 0.1
        for the linear model and 0.01 for the MLPs, the values of the two papers'
        experiments.
    lambda2 : float, default 0.01
        L2 penalty on all MLP weights (``model="mlp"`` only).
    hidden : tuple of int, default (10,)
        Hidden layer sizes of each node's MLP (``model="mlp"`` only).
    max_iter : int, default 100
        Maximum number of dual-ascent (outer) steps.
    h_tol : float, default 1e-8
        Stop when ``h(W) <= h_tol``.
    rho_max : float, default 1e16
        Stop when the penalty ``rho`` reaches this value.
    w_threshold : float, default 0.3
        Edges with ``|W[i, j]| <= w_threshold`` are dropped (for the MLP: the L2 norm of
        the first-layer weights of input ``i`` in node ``j``'s MLP).
    inner_max_iter : int, default 1000
        Maximum L-BFGS iterations per subproblem.
    inner_tol : float, default 1e-4
        A subproblem stops when every entry of the objective's (pseudo-)gradient, the L1
        term included, is below this in absolute value.
    standardize : bool, default False
        Fit on z-scored columns. ``weights_``, ``lambda1`` and ``w_threshold`` are then in
        the units of the standardised data, and a fit no longer depends on how each
        column is scaled (see Notes). ``False`` centres the columns only, as the
        reference implementation does.
    random_state : int, numpy Generator or None, default None
        Seeds the MLP initialisation (the linear model starts at ``W = 0``).

    Attributes
    ----------
    weights_ : pandas.DataFrame
        The learned ``W`` before thresholding (rows: causes, columns: effects); for the
        MLP the first-layer L2 norms.
    graph_ : networkx.DiGraph
        The thresholded graph with cycles broken: always a DAG.
    h_ : float
        ``h`` of the final (unthresholded) weights.
    removed_edges_ : list of tuple
        ``(source, target, weight)`` removed to break cycles after thresholding
        (usually empty).
    rho_ : float
        The final penalty parameter.
    n_iter_ : int
        Dual-ascent steps run.
    n_inner_iter_ : int
        L-BFGS iterations run, over all subproblems.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray of str

    Notes
    -----
    *Solver.* Each subproblem is solved by L-BFGS with an Armijo line search that backtracks,
    or extends a step that leaves the slope steep (the weak Wolfe condition of SciPy's line
    search) (:func:`discovery.differentiable._kernels.lbfgs_minimize`) inside one
    ``lax.while_loop``, jitted once per data shape (a second fit of the same size does not
    recompile). It stops on SciPy's rules (``inner_tol`` on the gradient, a relative decrease
    below ``factr * eps``), so the subproblems end where the reference code's do. It is not
    :func:`optax.lbfgs`: optax's zoom line search traces the objective at three call
    sites and compiled much longer, and its backtracking line search left ``h`` above
    ``h_tol`` at ``rho_max`` on the benchmark graphs (docs/benchmarks.md, "Design
    decisions: NOTEARS: its own L-BFGS instead of optax.lbfgs"). The reference code
    solves a bound-constrained problem with SciPy's L-BFGS-B on ``W = W+ - W-``; here the
    L1 penalty (on ``W``; on the MLPs' first layer) is exact too and solved by OWL-QN (Andrew
    and Gao, 2007: the same loop with pseudo-gradients and orthant projections), so weights
    end exactly at zero where the reference code's bounds are active. A smoothed penalty,
    used before, needed several times more iterations on the benchmark graphs, for the
    linear model and the MLPs alike (docs/benchmarks.md, "Linear NOTEARS: exact L1 by
    OWL-QN instead of a smoothed L1" and "NOTEARS-MLP: where its time goes"). The linear loss uses the
    centred second-moment matrix, ``0.5/n ||X - XW||^2 = 0.5 tr((I - W)^T S (I - W))``, so a
    gradient costs ``O(d^3)`` whatever ``n``; the linear solver keeps 5 L-BFGS pairs (SciPy
    keeps 10), which was faster and as accurate on 9 of the 10 benchmark graphs
    (docs/benchmarks.md, "Design decisions: Five L-BFGS pairs for linear NOTEARS"). ``expm``
    chooses its scaling from the norms of powers of ``W * W``
    (:func:`discovery.differentiable._kernels.expm_taylor`), which near a DAG saves most of the squarings.

    *Columns of different scales.* The linear subproblems are solved in the weights of the
    standardised sources, ``V[i, j] = s_i W[i, j]`` (``s_i``: column ``i``'s root mean
    square): the loss's curvature in ``W[i, j]`` is ``s_i^2``, so with raw columns 1000-fold
    apart the problem is a million times worse conditioned in ``W``. It is the same problem
    and the same minimiser. Before (issue 26), 9 of the 99 two-variable Tübingen cause-effect pairs, whose
    columns differ 16 to 47,000-fold, stopped after one dual step at ``W ~ 0`` with no edge,
    an objective up to 4 times the reference code's: L-BFGS's first step is cut to the
    stiffest coordinate's scale, a backtracking-only line search accepted it, and the
    relative-decrease rule then ended the subproblem after two iterations with ``h`` already
    below ``h_tol``. Now every such pair reaches the reference's objective or better, and
    two-variable problems the exact optimum over their three DAGs for column scales 10^-100
    to 10^100 apart (tests/discovery/test_notears.py). The penalty is not rescaled: with a
    loss near the end of the float64 range (a column scaled by 10^140, a loss of 1e280)
    ``rho_max = 1e16`` no longer enforces ``h <= h_tol`` (a warning says so, and the
    thresholded graph is made acyclic as always); ``standardize=True`` avoids it.

    *Precision.* Everything runs in float64 (inside :func:`jax.enable_x64`, set for the
    call only): ``h_tol = 1e-8`` is below float32 resolution.

    *Rows.* With ``n`` rows of ``d`` variables, ``n > d`` is fitted. With ``n <= d`` the
    sample covariance is singular (some variable is an exact linear function of the
    others), so the graph rests on the penalty: refused without one, fitted with a
    ``UserWarning`` with one (the default ``lambda1="auto"`` is one) from 10 rows on, and
    refused with fewer (3 rows for 4 variables is a ``DataError`` asking for 5). The
    error names the rows needed.

    *Scale.* By default columns are centred, not scaled, as in the reference
    implementation, so the result depends on the units of each column. Linear NOTEARS is
    known to exploit the marginal variances ("varsortability", Reisach et al., 2021): on
    Sachs it scores a lower SHD on the raw intensities than on standardised data, while
    on SynTReN, whose column scales span three orders of magnitude, standardising more
    than halves its mean SHD (docs/benchmarks.md, "Differentiable DAG learning", the
    Sachs and SynTReN tables).
    ``standardize=True`` fits the z-scored columns, the same as standardising the data
    beforehand, so that rescaling a column no longer changes the graph. It does not make
    the equal-noise-variance model hold: on data simulated with equal noise variances it
    can reverse edges that the raw fit gets right.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1000)
    >>> y = 2.0 * x + rng.normal(size=1000)
    >>> z = -1.0 * y + rng.normal(size=1000)
    >>> model = NOTEARS(lambda1=0.05).fit(pd.DataFrame({"x": x, "y": y, "z": z}))
    >>> sorted(model.graph_.edges)
    [('x', 'y'), ('y', 'z')]
    >>> round(float(model.weights_.loc["x", "y"]), 1), model.removed_edges_
    (2.0, [])
    """

    _parameter_constraints = {
        "model": Options(MODELS),
        "lambda1": Custom(_check_lambda1, "'auto' or a non-negative number"),
        "lambda2": Interval(Real, 0, None, closed="left"),
        "hidden": Satisfies(lambda h: is_layer_sizes(h, min_layers=1), "a non-empty tuple of positive ints"),
        "max_iter": Interval(Integral, 1, None, closed="left"),
        "h_tol": Interval(Real, 0, None),
        "rho_max": Interval(Real, 1, None),
        "w_threshold": Interval(Real, 0, None, closed="left"),
        "inner_max_iter": Interval(Integral, 1, None, closed="left"),
        "inner_tol": Interval(Real, 0, None),
        "standardize": Boolean(),
        "random_state": RandomState(),
    }

    def __init__(
        self,
        *,
        model: str = "linear",
        lambda1: float | str = "auto",
        lambda2: float = 0.01,
        hidden: tuple = (10,),
        max_iter: int = 100,
        h_tol: float = 1e-8,
        rho_max: float = 1e16,
        w_threshold: float = 0.3,
        inner_max_iter: int = 1000,
        inner_tol: float = 1e-4,
        standardize: bool = False,
        random_state=None,
    ):
        self.model = model
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.hidden = hidden
        self.max_iter = max_iter
        self.h_tol = h_tol
        self.rho_max = rho_max
        self.w_threshold = w_threshold
        self.inner_max_iter = inner_max_iter
        self.inner_tol = inner_tol
        self.standardize = standardize
        self.random_state = random_state

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "graph_")

    def _check_rows(self, n: int, d: int) -> None:
        """The rows rule of :meth:`fit` (``n`` rows, ``d`` variables).

        ``n > d``: fitted. ``n <= d``: some column is an exact linear function of the others, so
        a fit can explain it away whatever the causal structure; refused without a penalty,
        fitted with a warning with one when ``n >= MIN_PENALISED_ROWS`` (10), else refused. The
        error names the rows needed: ``d + 1``, or ``min(d + 1, 10)`` with a penalty.
        """
        if n > d:
            return
        penalties = {"lambda1": self._lambda1()}
        if self.model == "mlp":
            penalties["lambda2"] = float(self.lambda2)
        text = (
            f"NOTEARS: {n} rows for {d} variables; an unpenalised fit needs at least d + 1 = {d + 1} (with fewer, "
            "the sample covariance is singular: some variable is an exact linear function of the others)"
        )
        active = {k: v for k, v in penalties.items() if v > 0}
        if not active:
            more = "" if n >= MIN_PENALISED_ROWS else f" and at least {MIN_PENALISED_ROWS} rows"
            raise DataError(text + f"; give more rows or a penalty (lambda1 > 0){more}")
        shown = ", ".join(f"{k}={v:g}" for k, v in active.items())
        if n < MIN_PENALISED_ROWS:
            raise DataError(
                text + f"; with a penalty ({shown}) fewer rows than that are fitted only from {MIN_PENALISED_ROWS} rows "
                f"on: give at least {min(d + 1, MIN_PENALISED_ROWS)} rows"
            )
        warnings.warn(text + f"; the graph rests on the penalty ({shown})", UserWarning, stacklevel=3)

    def _lambda1(self) -> float:
        if self.lambda1 == "auto":  # validated: a string is "auto"
            return DEFAULT_LAMBDA1[self.model]
        return float(self.lambda1)

    def fit(self, data, y=None) -> NOTEARS:
        """Learn a DAG from ``data``.

        Parameters
        ----------
        data : pandas.DataFrame or array of shape (n_samples, n_features)
            At least 2 columns and 3 rows; column names become node names. The rows
            rule, for ``n`` rows of ``d`` variables: ``n > d`` is fitted; ``n <= d`` (a
            singular sample covariance: the graph rests on the penalty) is refused without
            a penalty (``lambda1 = 0``, and ``lambda2 = 0`` for the MLP), and with one is
            fitted with a ``UserWarning`` from 10 rows on (``MIN_PENALISED_ROWS``, the
            minimum of :class:`VIDPDAG`) and refused below.
        y : ignored

        Returns
        -------
        NOTEARS
            ``self``.

        Raises
        ------
        ParameterError
            For an invalid parameter (named, with its allowed values).
        DataError
            For NaN/inf, non-numeric or constant columns (named), or too few rows by the
            rule above: fewer than 3, or ``n <= d`` without a penalty (the error says
            ``d + 1`` rows are needed) or with a penalty and fewer than 10 rows (it says
            ``min(d + 1, 10)``). With a penalty and ``10 <= n <= d`` rows a ``UserWarning``
            says how many rows an unpenalised fit needs.
        ConvergenceError
            If the optimisation produces NaN.
        """
        from scm._validation import check_random_state

        self._validate_params()
        frame = check_numeric_frame(data, name="data", min_rows=3, allow_constant=False)
        names = list(frame.columns)
        if len(names) < 2:
            raise DataError(f"NOTEARS needs at least 2 columns (variables); data has {len(names)}")
        self._check_rows(frame.shape[0], len(names))
        rng = check_random_state(self.random_state)
        lambda1 = self._lambda1()
        x = frame.to_numpy(dtype=np.float64)
        # raw columns enter second moments (the covariance, squared residuals): keep them finite
        loc, scale = center_scale(x, names, owner="NOTEARS", max_abs=None if self.standardize else 1e150)
        x = x - loc
        if self.standardize:
            x = x / scale  # not constant: checked above
        n, d = x.shape
        t0 = time.perf_counter()
        with jax.enable_x64(True):
            if self.model == "linear":
                cov = x.T @ x / n  # numpy inputs: no eager device programs to compile before the solver

                def solve(w, rho, alpha):
                    return _solve_linear(w, cov, lambda1, rho, alpha, self.inner_tol, max_iter=int(self.inner_max_iter))

                init = np.zeros((d, d))
            else:
                xj = jnp.asarray(x)

                def solve(p, rho, alpha):
                    return _solve_mlp(
                        p, xj, lambda1, self.lambda2, rho, alpha, self.inner_tol,
                        max_iter=int(self.inner_max_iter),
                    )

                init = K.init_notears_mlp(rng, d, tuple(int(h) for h in self.hidden))
            params, h, rho, n_outer, n_inner = augmented_lagrangian(
                solve, init, max_iter=int(self.max_iter), h_tol=float(self.h_tol), rho_max=float(self.rho_max)
            )
            params = jax.tree.map(np.asarray, params)  # the rest is numpy: no eager device programs
            w = params if self.model == "linear" else K.notears_mlp_adjacency(params)
        if not np.all(np.isfinite(w)):
            raise ConvergenceError("NOTEARS produced non-finite weights; standardise the data (standardize=True) or lower the penalties")
        if h > self.h_tol:
            logger.warning(
                "NOTEARS stopped with h(W) = %.3g > h_tol = %g after %d steps (rho = %.1e); cycles may remain "
                "before thresholding", h, self.h_tol, n_outer, rho,
            )
        graph, removed = _break_cycles(w, float(self.w_threshold), names)  # w: checked finite above
        if removed:
            text = ", ".join(f"{u} -> {v} ({wt:+.3g})" for u, v, wt in removed)
            logger.warning("NOTEARS: the thresholded graph had cycles; removed the weakest edge of each: %s", text)
        logger.info(
            "NOTEARS-%s on %d variables, %d rows: %d steps, %d L-BFGS iterations, h=%.2e, %.2f s",
            self.model, d, n, n_outer, n_inner, h, time.perf_counter() - t0,
        )
        self.weights_ = pd.DataFrame(w, index=names, columns=names)
        self.graph_ = graph
        self.h_ = float(h)
        self.removed_edges_ = removed
        self.rho_ = float(rho)
        self.n_iter_ = int(n_outer)
        self.n_inner_iter_ = int(n_inner)
        self.n_features_in_ = d
        self.feature_names_in_ = np.asarray(names, dtype=object)
        return self
