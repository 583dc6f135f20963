"""DP-DAG: a differentiable probability distribution over DAGs.

DP-DAG (Charpentier, Kibler and Günnemann, ICLR 2022) samples a DAG in two steps:

1. a linear ordering of the nodes, by *Gumbel-top-k*: add Gumbel noise to the
   permutation logits ``psi`` (one per node) and sort; this is a Plackett-Luce sample;
2. edges that agree with the ordering: ``E ~ Bernoulli(sigmoid(theta))`` for the edge
   logits ``theta`` (d x d), kept only where they point forward.

The adjacency is ``A = E * (P.T @ U @ P)`` with ``P`` the permutation matrix and ``U``
the strictly upper-triangular matrix of ones, so **every sample is a DAG by
construction** (no constraint, no penalty). Both steps are relaxed for gradients: the
sort by SoftSort (default) or Gumbel-Sinkhorn, the Bernoulli by the binary concrete
(Gumbel-softmax) distribution, each with straight-through gradients, so the forward
value is an exact 0/1 DAG while ``psi`` and ``theta`` receive gradients.

The functional core is :func:`sample` / :func:`mode` / :func:`edge_probs` on a params
dict ``{"psi": (d,), "theta": (d, d)}`` and a key; :class:`DPDAG` is a thin immutable
wrapper (a JAX pytree, so it can be passed through ``jax.jit`` and ``jax.grad``).

Examples
--------
>>> import jax
>>> q = DPDAG(4, key=jax.random.key(0))
>>> A = q.sample(jax.random.key(1), n=3)
>>> A.shape
(3, 4, 4)
>>> bool((A * A.transpose(0, 2, 1)).sum() == 0)  # never both i -> j and j -> i
True
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from scm._exceptions import ParameterError
from scm._validation import check_in_range, check_memory, check_option

from .._jax import check_key, jit
from . import _kernels as K

__all__ = ["DPDAG", "sample", "mode", "edge_probs", "RELAXATIONS"]

#: The relaxations of the permutation sample.
RELAXATIONS = ("softsort", "sinkhorn")


# --------------------------------------------------------------------------- functional core
def sample(params: dict, key, *, n: int = 1, tau=1.0, relaxation: str = "softsort", hard: bool = True, sinkhorn_iters: int = 20):
    """``n`` DP-DAG samples of shape (n, d, d); differentiable in ``params``.

    See :func:`discovery.differentiable._kernels.sample_dag`. The options are checked here, outside
    the compiled program (``tau`` only when it is a concrete number, not a tracer).

    Examples
    --------
    >>> import jax
    >>> params = DPDAG(3, key=jax.random.key(0)).params
    >>> sample(params, jax.random.key(1), n=2, relaxation="sinkhorn").shape
    (2, 3, 3)
    """
    check_option(relaxation, RELAXATIONS, name="relaxation", owner="discovery.sample")
    _check_samples(n, int(params["theta"].shape[-1]), name="n", owner="discovery.sample")
    check_in_range(sinkhorn_iters, name="sinkhorn_iters", low=1, inclusive="left", integer=True, owner="discovery.sample")
    _check_tau(tau, owner="discovery.sample")
    check_key(key, owner="discovery.sample")
    return _sample(params, key, n=int(n), tau=tau, relaxation=relaxation, hard=bool(hard), sinkhorn_iters=int(sinkhorn_iters))


@partial(jit, static_argnames=("n", "relaxation", "hard", "sinkhorn_iters"))
def _sample(params: dict, key, *, n: int, tau, relaxation: str, hard: bool, sinkhorn_iters: int):
    return K.sample_dags(params, key, n, tau=tau, relaxation=relaxation, hard=hard, sinkhorn_iters=sinkhorn_iters)


def _check_samples(n, d: int, *, name: str, owner: str) -> int:
    """``n`` samples of (d, d) matrices: an int >= 1 whose arrays fit in this machine's memory (:func:`scm._validation.check_memory`)."""
    check_in_range(n, name=name, low=1, inclusive="left", integer=True, owner=owner)
    check_memory(float(n) * d * d, name=name, owner=owner, what=f"{n} samples of {d} x {d} adjacency matrices", dtype="float32",
                 hint="draw fewer samples (or in batches)")
    return int(n)


def _check_tau(tau, owner: str) -> None:
    """``tau > 0`` for a Python number or a concrete array; a tracer is left to the caller."""
    if isinstance(tau, jax.core.Tracer):
        return
    if isinstance(tau, (jax.Array, np.ndarray, np.generic)):
        if np.ndim(tau) != 0:
            raise ParameterError(f"The 'tau' parameter of {owner} must be a scalar; got shape {np.shape(tau)}")
        tau = float(tau)
    check_in_range(tau, name="tau", low=0, owner=owner)


@jit
def mode(params: dict, threshold=0.5):
    """The most probable ordering (``argsort(-psi)``) with the edges ``sigmoid(theta) > threshold``."""
    return K.mode_dag(params, threshold)


@jit
def edge_probs(params: dict):
    """Exact marginal edge probabilities ``P(i -> j) = sigmoid(theta_ij) sigmoid(psi_i - psi_j)``."""
    return K.edge_marginals(params)


@partial(jit, static_argnames=("n_samples",))
def _mc_edge_probs(params: dict, key, n_samples: int):
    return jnp.mean(K.sample_dags(params, key, n_samples, tau=1.0, hard=True), axis=0)


def _as_params(psi, theta):
    """``psi`` and ``theta`` as float arrays of shapes (d,) and (d, d), d >= 1, finite when concrete."""
    arrays = []
    for name, x in (("psi", psi), ("theta", theta)):
        if not isinstance(x, jax.core.Tracer):
            x = np.asarray(x) if not isinstance(x, jax.Array) else x
            if x.dtype == bool or not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
                raise ParameterError(f"{name} must hold real numbers; got dtype {x.dtype}")
            if not bool(np.all(np.isfinite(np.asarray(x)))):
                raise ParameterError(f"{name} holds NaN or inf; DP-DAG logits must be finite")
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.result_type(float))
        arrays.append(x)
    psi, theta = arrays
    if psi.ndim != 1:
        raise ParameterError(f"psi must have shape (d,); got shape {tuple(psi.shape)}")
    d = psi.shape[0]
    if d < 1:
        raise ParameterError("psi must have at least one entry (a DP-DAG needs at least 1 node)")
    if theta.shape != (d, d):
        raise ParameterError(f"theta must have shape ({d}, {d}) to match psi; got shape {tuple(theta.shape)}")
    return psi, theta


@jax.tree_util.register_pytree_node_class
class DPDAG:
    """A differentiable distribution over DAGs on ``n_nodes`` nodes (DP-DAG).

    Parameters
    ----------
    n_nodes : int
        Number of nodes ``d`` (at least 1): its ``d x d`` edge logits must fit in this
        machine's memory (else a :class:`scm.ParameterError` gives the size).
    key : jax.random.PRNGKey
        Initialises ``psi ~ N(0, init_scale^2)``; ``theta`` starts at 0 (every allowed
        edge has probability 1/2).
    permutation : {"softsort", "sinkhorn"}, default "softsort"
        The relaxation of the sort used for gradients. The forward (hard) sample is
        the same for both: Gumbel-top-k. ``"sinkhorn"`` normalises the matrix
        ``-(sort(s)_r - s_j)^2 / tau`` of the perturbed scores ``s`` by Sinkhorn
        iterations (see :func:`discovery.differentiable._kernels.sinkhorn_sort`).
    tau : float, default 1.0
        Temperature of both relaxations (sort and edges), > 0.
    init_scale : float, default 0.01
        Standard deviation of the initial ``psi``.
    sinkhorn_iters : int, default 20
        Sinkhorn normalisations (``permutation="sinkhorn"`` only).

    Attributes
    ----------
    psi : jax.Array of shape (d,)
        Permutation logits: a larger ``psi[i]`` puts node ``i`` earlier.
    theta : jax.Array of shape (d, d)
        Edge logits; ``sigmoid(theta[i, j])`` is ``P(i -> j | i precedes j)``.
    params : dict
        ``{"psi": psi, "theta": theta}``.

    Notes
    -----
    ``A[i, j] = 1`` means ``i -> j``. The object is immutable: :meth:`replace` returns a
    new one. As a pytree its leaves are ``psi`` and ``theta``, so ``jax.grad`` of a
    function of a :class:`DPDAG` returns a :class:`DPDAG` of gradients.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, numpy as np
    >>> q = DPDAG(3, key=jax.random.key(0)).replace(psi=jnp.array([0.0, 1.0, 2.0]), theta=jnp.full((3, 3), 4.0))
    >>> q.mode().astype(int)  # psi orders the nodes 2, 1, 0; every forward edge is likely
    Array([[0, 0, 0],
           [1, 0, 0],
           [1, 1, 0]], dtype=int32)
    >>> np.asarray(q.edge_probs(), dtype=float).round(2).tolist()  # sigmoid(theta_ij) * sigmoid(psi_i - psi_j)
    [[0.0, 0.26, 0.12], [0.72, 0.0, 0.26], [0.86, 0.72, 0.0]]
    >>> g = jax.grad(lambda q: q.sample(jax.random.key(1), n=8).sum())(q)
    >>> bool(jnp.all(jnp.isfinite(g.psi))), bool(jnp.any(g.theta != 0))
    (True, True)
    """

    def __init__(
        self,
        n_nodes: int,
        *,
        key,
        permutation: str = "softsort",
        tau: float = 1.0,
        init_scale: float = 0.01,
        sinkhorn_iters: int = 20,
    ):
        check_in_range(n_nodes, name="n_nodes", low=1, inclusive="left", integer=True, owner="DPDAG")
        # theta holds n_nodes ** 2 logits: refused here, before XLA sees a shape whose size overflows (it aborts)
        check_memory(float(n_nodes) ** 2, name="n_nodes", owner="DPDAG", dtype="float32",
                     what=f"{n_nodes} nodes (a {n_nodes} x {n_nodes} matrix of edge logits)", hint="use fewer nodes")
        check_in_range(init_scale, name="init_scale", low=0, inclusive="left", owner="DPDAG")
        check_key(key, owner="DPDAG")
        params = K.init_dpdag_params(key, int(n_nodes), scale=float(init_scale))
        self._set(params["psi"], params["theta"], permutation, tau, sinkhorn_iters)

    def _set(self, psi, theta, permutation, tau, sinkhorn_iters) -> None:
        check_option(permutation, RELAXATIONS, name="permutation", owner="DPDAG")
        _check_tau(tau, owner="DPDAG")
        check_in_range(sinkhorn_iters, name="sinkhorn_iters", low=1, inclusive="left", integer=True, owner="DPDAG")
        object.__setattr__(self, "psi", psi)
        object.__setattr__(self, "theta", theta)
        object.__setattr__(self, "permutation", permutation)
        object.__setattr__(self, "tau", tau)
        object.__setattr__(self, "sinkhorn_iters", int(sinkhorn_iters))

    @classmethod
    def from_params(cls, psi, theta, *, permutation: str = "softsort", tau: float = 1.0, sinkhorn_iters: int = 20) -> DPDAG:
        """Build a DP-DAG from given logits ``psi`` (d,) and ``theta`` (d, d)."""
        psi, theta = _as_params(psi, theta)
        obj = object.__new__(cls)
        obj._set(psi, theta, permutation, tau, sinkhorn_iters)
        return obj

    def __setattr__(self, name, value):
        raise AttributeError("DPDAG is immutable; use .replace(...)")

    # pytree protocol
    def tree_flatten(self):
        return (self.psi, self.theta), (self.permutation, self.tau, self.sinkhorn_iters)

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        for name, value in zip(("psi", "theta", "permutation", "tau", "sinkhorn_iters"), (*children, *aux)):
            object.__setattr__(obj, name, value)
        return obj

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``d``."""
        return int(self.psi.shape[-1])

    @property
    def params(self) -> dict:
        """``{"psi": psi, "theta": theta}``, the input of the functional core."""
        return {"psi": self.psi, "theta": self.theta}

    def replace(self, **changes) -> DPDAG:
        """A new DP-DAG with some of ``psi, theta, permutation, tau, sinkhorn_iters`` changed."""
        allowed = ("psi", "theta", "permutation", "tau", "sinkhorn_iters")
        unknown = set(changes) - set(allowed)
        if unknown:
            raise ParameterError(f"DPDAG.replace got unknown field(s) {sorted(unknown)}; allowed: {list(allowed)}")
        values = {k: changes.get(k, getattr(self, k)) for k in allowed}
        return DPDAG.from_params(**values)

    def __repr__(self) -> str:
        return f"DPDAG(n_nodes={self.n_nodes}, permutation={self.permutation!r}, tau={self.tau})"

    # ------------------------------------------------------------------ distribution
    def sample(self, key, n: int = 1, hard: bool = True):
        """Draw ``n`` DAGs as adjacency matrices of shape (n, d, d).

        Parameters
        ----------
        key : jax.random.PRNGKey
        n : int, default 1
        hard : bool, default True
            Exact 0/1 DAGs with straight-through gradients; ``False`` returns the relaxed
            (soft) matrices ``E_soft * (P_soft.T @ U @ P_soft)``.

        Returns
        -------
        jax.Array of shape (n, d, d)
            ``A[k, i, j] = 1`` iff ``i -> j`` in sample ``k``.

        Raises
        ------
        ParameterError
            If ``n`` is not an int >= 1 or its ``n x d x d`` samples do not fit in this
            machine's memory (the size is given).
        """
        _check_samples(n, self.n_nodes, name="n", owner="DPDAG.sample")
        check_key(key, owner="DPDAG.sample")
        return _sample(
            self.params, key, n=int(n), tau=self.tau, relaxation=self.permutation, hard=bool(hard),
            sinkhorn_iters=self.sinkhorn_iters,
        )

    def mode(self, threshold: float = 0.5):
        """The most probable ordering with the edges of probability above ``threshold`` given it.

        Returns a (d, d) 0/1 array. The ordering sorts ``psi`` decreasingly (the
        Plackett-Luce mode); edge ``i -> j`` is kept if ``i`` precedes ``j`` and
        ``sigmoid(theta[i, j]) > threshold``.
        """
        check_in_range(threshold, name="threshold", low=0, high=1, inclusive="left", owner="DPDAG.mode")
        return mode(self.params, threshold)

    def edge_probs(self, *, method: str = "exact", key=None, n_samples: int = 1000):
        """Marginal edge probabilities ``P(i -> j)``, a (d, d) array.

        Parameters
        ----------
        method : {"exact", "monte_carlo"}, default "exact"
            ``"exact"``: ``sigmoid(theta_ij) * sigmoid(psi_i - psi_j)``. Exact because the
            edges are independent of the ordering and, under Gumbel-top-k,
            ``P(i precedes j) = P(psi_i + g_i > psi_j + g_j) = sigmoid(psi_i - psi_j)``
            (the difference of two Gumbel variables is logistic). ``"monte_carlo"``:
            the frequency over ``n_samples`` hard samples drawn with ``key`` (a check).
        key : jax.random.PRNGKey, optional
            Required for ``"monte_carlo"``.
        n_samples : int, default 1000
        """
        check_option(method, ("exact", "monte_carlo"), name="method", owner="DPDAG.edge_probs")
        if method == "exact":
            return edge_probs(self.params)
        if key is None:
            raise ParameterError("DPDAG.edge_probs(method='monte_carlo') needs a 'key'")
        _check_samples(n_samples, self.n_nodes, name="n_samples", owner="DPDAG.edge_probs")
        check_key(key, owner="DPDAG.edge_probs")
        return _mc_edge_probs(self.params, key, int(n_samples))

    def order_probs(self):
        """Exact ``P(i precedes j) = sigmoid(psi_i - psi_j)``, a (d, d) array."""
        return K.order_probs(self.psi)

    def log_prob(self, adjacency, ordering):
        """``log q(A | ordering)``: the log-probability of the edges given an ordering.

        Parameters
        ----------
        adjacency : array of shape (d, d)
            A 0/1 adjacency ``A[i, j] = 1`` iff ``i -> j``.
        ordering : sequence of int
            The node indices from first to last.

        Returns
        -------
        jax.Array (scalar)
            ``sum over i before j of log Bernoulli(A[i, j]; sigmoid(theta[i, j]))``, and
            ``-inf`` if ``A`` has an edge pointing backwards in ``ordering``. (The marginal
            ``log q(A)`` sums over every ordering consistent with ``A``, which is not
            tractable in general; :meth:`ordering_log_prob` gives the ordering's term.)
        """
        perm = self._perm_matrix(ordering)
        if np.shape(adjacency) != tuple(self.theta.shape):
            raise ParameterError(f"adjacency must have shape {tuple(self.theta.shape)}; got {np.shape(adjacency)}")
        if not isinstance(adjacency, jax.core.Tracer):
            values = np.asarray(adjacency)
            bad = ~np.isin(values, (0, 1))
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise ParameterError(
                    f"adjacency must hold 0/1 (or bool) entries; got {values[i, j].tolist()!r} at [{i}, {j}]"
                )
        a = jnp.asarray(adjacency, dtype=self.theta.dtype)
        return K.edge_log_prob(self.theta, a, K.order_mask(perm))

    def ordering_log_prob(self, ordering):
        """Plackett-Luce ``log q(ordering)`` of the Gumbel-top-k ordering."""
        self._perm_matrix(ordering)
        return K.permutation_log_prob(self.psi, jnp.asarray(np.asarray(ordering, dtype=int)))

    def _perm_matrix(self, ordering):
        order = np.asarray(ordering)
        d = self.n_nodes
        if order.dtype == bool or not np.issubdtype(order.dtype, np.integer):
            raise ParameterError(f"ordering must be integer node indices 0..{d - 1}; got dtype {order.dtype}: {ordering!r}")
        if order.shape != (d,) or sorted(order.tolist()) != list(range(d)):
            raise ParameterError(f"ordering must be a permutation of 0..{d - 1}; got {ordering!r}")
        return jax.nn.one_hot(jnp.asarray(order), d, dtype=self.theta.dtype)
