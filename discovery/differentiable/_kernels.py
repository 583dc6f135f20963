"""Pure JAX kernels of the differentiable DAG learners (DP-DAG, VI-DP-DAG, NOTEARS).

Arrays in, arrays out: no pandas, no validation, no Python branching on traced
values. The orchestration (validation, jit boundaries, training loops) lives in
:mod:`discovery.differentiable._dpdag`, :mod:`discovery.differentiable._vidpdag` and :mod:`discovery.differentiable._notears`.

Conventions
-----------
* ``d`` nodes, ``n`` rows, ``B`` a minibatch, ``H`` hidden units.
* Adjacency matrices follow the package convention ``A[i, j] = 1`` means ``i -> j``.
* A permutation matrix ``P`` of shape ``(d, d)`` has ``P[r, j] = 1`` when node ``j`` sits
  at position ``r`` of the ordering (position 0 is the first node, a source). With
  ``U`` the strictly upper-triangular matrix of ones, ``(P.T @ U @ P)[i, j] = 1`` iff
  node ``i`` comes before node ``j``: every edge it allows points forward in the
  ordering, so ``E * (P.T @ U @ P)`` is a DAG for any 0/1 matrix ``E``.
* DP-DAG parameters are a dict ``{"psi": (d,), "theta": (d, d)}``: permutation logits
  (a larger ``psi[i]`` puts ``i`` earlier) and edge logits.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = [
    "draw",
    "init_dpdag_params",
    "sorted_permutation",
    "softsort",
    "sinkhorn_sort",
    "straight_through",
    "permutation_from_scores",
    "edges_from_noise",
    "gumbel_from_uniform",
    "logistic_from_uniform",
    "uniform_open",
    "dag_noise",
    "dag_from_noise",
    "order_mask",
    "sample_dag",
    "sample_dags",
    "mode_dag",
    "order_probs",
    "edge_marginals",
    "permutation_log_prob",
    "edge_log_prob",
    "bernoulli_kl",
    "permutation_kl",
    "permutation_kl_from_noise",
    "init_mlps",
    "mlp_forward",
    "gaussian_loglik",
    "expm_taylor",
    "trace_expm",
    "notears_h",
    "notears_linear_objective",
    "init_notears_mlp",
    "notears_mlp_forward",
    "notears_mlp_adjacency",
    "notears_mlp_objective",
    "lbfgs_minimize",
]


# ----------------------------------------------------------------------------- random draws
def draw(sampler, key, shape: tuple, dtype=jnp.float32, **kwargs):
    """``sampler(key, shape, dtype, **kwargs)``, drawn as one flat vector and reshaped.

    The values are the same as a direct draw of ``shape``: JAX's threefry generator
    (partitionable or not) numbers the random bits by their flat index. Only the
    compiled program differs: with ``jax_threefry_partitionable`` (JAX's default) a
    draw of a 2-D or 3-D shape builds its counters from a multi-dimensional iota,
    which XLA's CPU backend compiles several times more slowly than the flat draw
    (docs/benchmarks.md, "Design decisions: VI-DP-DAG's programs"). ``sampler`` is
    one of :mod:`jax.random`'s samplers (``uniform``, ``gumbel``, ``logistic``, ...).
    """
    size = math.prod(shape)
    return sampler(key, (size,), dtype, **kwargs).reshape(shape)


# ----------------------------------------------------------------------------- DP-DAG
def init_dpdag_params(key, d: int, *, scale: float = 0.01, dtype=jnp.float32) -> dict:
    """Initial DP-DAG parameters: ``psi ~ N(0, scale^2)`` (d,), ``theta = 0`` (d, d).

    ``theta = 0`` gives every edge probability 1/2 given the ordering; the small random
    ``psi`` breaks the symmetry of the orderings.
    """
    return {
        "psi": scale * jax.random.normal(key, (d,), dtype),
        "theta": jnp.zeros((d, d), dtype),
    }


def sorted_permutation(scores):
    """Hard permutation matrix (d, d) sorting ``scores`` in decreasing order.

    ``P[r, j] = 1`` iff node ``j`` has the ``r``-th largest score.
    """
    d = scores.shape[-1]
    return jax.nn.one_hot(jnp.argsort(-scores), d, dtype=scores.dtype)


def softsort(scores, tau):
    """SoftSort relaxation (Prillo and Eisenschlos, 2020) of :func:`sorted_permutation`.

    ``P[r, j] = softmax_j(-|sort(scores)[r] - scores[j]| / tau)``: row-stochastic, and it
    tends to the hard permutation as ``tau -> 0``.
    """
    s_sorted = -jnp.sort(-scores)
    return jax.nn.softmax(-jnp.abs(s_sorted[:, None] - scores[None, :]) / tau, axis=-1)


def sinkhorn_sort(scores, tau, n_iters: int = 20):
    """Gumbel-Sinkhorn relaxation (Mena et al., 2018) of :func:`sorted_permutation`.

    The log-potentials are ``-(sort(scores)[r] - scores[j])^2 / tau``. Up to terms that
    depend on the row or on the column only (which Sinkhorn normalisation removes),
    this is the rank-one matrix ``2 sort(scores)[r] scores[j] / tau``, whose maximum-weight
    assignment is the sort itself (rearrangement inequality): the hard permutation is
    :func:`sorted_permutation` and no Hungarian algorithm is needed. ``n_iters``
    alternating row/column normalisations in log space give a doubly stochastic matrix.
    """
    s_sorted = -jnp.sort(-scores)
    log_alpha = -((s_sorted[:, None] - scores[None, :]) ** 2) / tau

    def body(_, la):
        la = la - jax.nn.logsumexp(la, axis=1, keepdims=True)
        return la - jax.nn.logsumexp(la, axis=0, keepdims=True)

    return jnp.exp(lax.fori_loop(0, n_iters, body, log_alpha))


def straight_through(hard, soft):
    """``hard`` in the forward pass, the gradient of ``soft`` in the backward pass."""
    return hard + (soft - lax.stop_gradient(soft))


def permutation_from_scores(scores, *, tau, relaxation: str = "softsort", hard: bool = True, sinkhorn_iters: int = 20):
    """The permutation sorting perturbed ``scores`` (d,), relaxed for the gradient.

    ``relaxation`` picks the soft matrix whose gradient is used (``"softsort"`` or
    ``"sinkhorn"``); ``hard`` returns the exact permutation matrix with straight-through
    gradients, otherwise the soft matrix itself.
    """
    if relaxation == "sinkhorn":
        soft = sinkhorn_sort(scores, tau, sinkhorn_iters)
    else:
        soft = softsort(scores, tau)
    if not hard:
        return soft
    return straight_through(lax.stop_gradient(sorted_permutation(scores)), soft)


def edges_from_noise(theta, noise, *, tau, hard: bool = True):
    """Binary-concrete (Gumbel-softmax) edges from logistic ``noise`` of the shape of ``theta``.

    ``soft = sigmoid((theta + L) / tau)``; the hard sample is ``theta + L > 0``, exactly
    Bernoulli(sigmoid(theta)) for standard logistic ``L``, with straight-through gradients.
    """
    soft = jax.nn.sigmoid((theta + noise) / tau)
    if not hard:
        return soft
    return straight_through(lax.stop_gradient((theta + noise > 0).astype(theta.dtype)), soft)


def gumbel_from_uniform(u):
    """Standard Gumbel variates ``-log(-log(u))`` from uniforms on (0, 1)."""
    return -jnp.log(-jnp.log(u))


def logistic_from_uniform(u):
    """Standard logistic variates ``log(u) - log(1 - u)`` from uniforms on (0, 1)."""
    return jnp.log(u) - jnp.log1p(-u)


def uniform_open(key, size: int, dtype=jnp.float32):
    """``size`` uniforms on ``[tiny, 1)``: one flat threefry draw (see :func:`draw`)."""
    return jax.random.uniform(key, (size,), dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)


def dag_noise(key, n: int, d: int, dtype=jnp.float32, *, extra: int = 0):
    """The noise of ``n`` DP-DAG samples: Gumbel ``(n, d)`` and logistic ``(n, d, d)``.

    Both come from *one* flat uniform draw. A draw per sample (``vmap`` over split
    keys) gives a batched random-bits program that XLA's CPU backend compiles several
    times more slowly (docs/benchmarks.md, "Design decisions: VI-DP-DAG's
    programs"). With ``extra >
    0`` the same draw also returns ``extra`` more uniforms on ``[tiny, 1)`` as a third
    output, for the caller's other random numbers.
    """
    u = uniform_open(key, n * (d + d * d) + extra, dtype)
    gumbel = gumbel_from_uniform(u[: n * d]).reshape(n, d)
    logistic = logistic_from_uniform(u[n * d : n * (d + d * d)]).reshape(n, d, d)
    if extra:
        return gumbel, logistic, u[n * (d + d * d) :]
    return gumbel, logistic


def dag_from_noise(params: dict, gumbel, logistic, *, tau, relaxation: str = "softsort", hard: bool = True,
                   sinkhorn_iters: int = 20):
    """The DP-DAG sample ``A = E * (P.T @ U @ P)`` (d, d) for given noise (see :func:`dag_noise`).

    ``P`` sorts ``psi + gumbel`` (a Plackett-Luce ordering with weights ``exp(psi)``) and
    ``E = theta + logistic > 0`` (Bernoulli(sigmoid(theta)) edges). With ``hard=True``
    the forward value is an exact 0/1 DAG (the diagonal is masked explicitly) and the
    gradients reach ``psi`` and ``theta`` through the relaxations.
    """
    perm = permutation_from_scores(
        params["psi"] + gumbel, tau=tau, relaxation=relaxation, hard=hard, sinkhorn_iters=sinkhorn_iters
    )
    edges = edges_from_noise(params["theta"], logistic, tau=tau, hard=hard)
    d = perm.shape[-1]
    off_diag = 1.0 - jnp.eye(d, dtype=perm.dtype)
    return edges * order_mask(perm) * off_diag


def order_mask(perm):
    """``P.T @ U @ P`` for a (possibly soft) permutation matrix: 1 where ``i`` precedes ``j``."""
    d = perm.shape[-1]
    upper = jnp.triu(jnp.ones((d, d), perm.dtype), k=1)
    return perm.T @ upper @ perm


def sample_dag(params: dict, key, *, tau, relaxation: str = "softsort", hard: bool = True, sinkhorn_iters: int = 20):
    """One DP-DAG sample ``A = E * (P.T @ U @ P)`` of shape (d, d) (see :func:`dag_from_noise`)."""
    d = params["psi"].shape[-1]
    gumbel, logistic = dag_noise(key, 1, d, params["psi"].dtype)
    return dag_from_noise(params, gumbel[0], logistic[0], tau=tau, relaxation=relaxation, hard=hard,
                          sinkhorn_iters=sinkhorn_iters)


def sample_dags(params: dict, key, n: int, **kwargs):
    """``n`` independent DP-DAG samples, shape (n, d, d), from one noise draw (see :func:`dag_noise`)."""
    gumbel, logistic = dag_noise(key, n, params["psi"].shape[-1], params["psi"].dtype)
    return jax.vmap(lambda g, e: dag_from_noise(params, g, e, **kwargs))(gumbel, logistic)


def mode_dag(params: dict, threshold=0.5):
    """The most probable ordering (``argsort(-psi)``) with the edges ``sigmoid(theta) > threshold``."""
    perm = sorted_permutation(params["psi"])
    probs = jax.nn.sigmoid(params["theta"])
    d = perm.shape[-1]
    return ((probs > threshold) * order_mask(perm) * (1.0 - jnp.eye(d, dtype=perm.dtype))).astype(params["theta"].dtype)


def order_probs(psi):
    """Exact ``P(i precedes j)`` under the Gumbel-top-k (Plackett-Luce) ordering: ``sigmoid(psi_i - psi_j)``.

    The difference of two independent Gumbel variables is logistic, so
    ``P(psi_i + g_i > psi_j + g_j) = sigmoid(psi_i - psi_j)``. The diagonal is 0.
    """
    d = psi.shape[-1]
    return jax.nn.sigmoid(psi[:, None] - psi[None, :]) * (1.0 - jnp.eye(d, dtype=psi.dtype))


def edge_marginals(params: dict):
    """Exact marginal ``P(i -> j) = sigmoid(theta_ij) * sigmoid(psi_i - psi_j)`` (edges independent of the ordering)."""
    return jax.nn.sigmoid(params["theta"]) * order_probs(params["psi"])


def permutation_log_prob(psi, order):
    """Plackett-Luce log-probability of an ordering (node indices, first to last).

    ``sum_r s_r - logsumexp(s_r, ..., s_{d-1})`` with ``s = psi[order]``. The suffix
    log-sum-exps are taken over a triangular mask (``O(d^2)``, exact): the gradient of
    :func:`jax.lax.cumlogsumexp` compiles several times more slowly on XLA's CPU backend
    (docs/benchmarks.md, "Design decisions: VI-DP-DAG's programs").
    """
    s = psi[order]
    d = s.shape[-1]
    later = jnp.triu(jnp.ones((d, d), dtype=bool))  # later[r, q]: position q is at or after r
    suffix = jax.nn.logsumexp(jnp.where(later, s[None, :], -jnp.inf), axis=-1)
    return jnp.sum(s - suffix)


def edge_log_prob(theta, adjacency, mask):
    """``log q(E = adjacency | ordering)`` over the pairs the ordering allows (``mask`` = 1).

    ``-inf`` if ``adjacency`` has an edge outside ``mask``.
    """
    ll = adjacency * jax.nn.log_sigmoid(theta) + (1.0 - adjacency) * jax.nn.log_sigmoid(-theta)
    outside = jnp.any((adjacency > 0) & (mask == 0))
    return jnp.where(outside, -jnp.inf, jnp.sum(mask * ll))


def bernoulli_kl(theta, prior_p):
    """``sum_{i != j} KL(Bernoulli(sigmoid(theta_ij)) || Bernoulli(prior_p))``, a proper KL (>= 0)."""
    p = jax.nn.sigmoid(theta)
    log_p, log_q = jax.nn.log_sigmoid(theta), jax.nn.log_sigmoid(-theta)
    kl = p * (log_p - jnp.log(prior_p)) + (1.0 - p) * (log_q - jnp.log1p(-prior_p))
    d = theta.shape[-1]
    return jnp.sum(kl * (1.0 - jnp.eye(d, dtype=theta.dtype)))


def permutation_kl(psi, key, n_samples: int):
    """Monte Carlo ``KL(PL(psi) || uniform)`` from ``n_samples`` orderings drawn with ``key``.

    See :func:`permutation_kl_from_noise`; the orderings' Gumbel noise is one flat draw.
    """
    d = psi.shape[-1]
    gumbel = gumbel_from_uniform(uniform_open(key, n_samples * d, psi.dtype)).reshape(n_samples, d)
    return permutation_kl_from_noise(psi, gumbel)


def permutation_kl_from_noise(psi, gumbel):
    """Monte Carlo ``KL(PL(psi) || uniform)`` and a surrogate whose gradient estimates its gradient.

    ``KL = E[log q(P)] + log d!`` for the Plackett-Luce (Gumbel-top-k) ordering ``q``.
    The rows of ``gumbel`` (``n_samples >= 2`` rows of standard Gumbel noise, shape
    ``(n_samples, d)``) give the orderings ``argsort(-(psi + gumbel))``; the
    score-function surrogate ``mean_k stop(log q_k - b_k) * log q_k`` with the
    leave-one-out baseline ``b_k = mean_{l != k} log q_l`` has, in expectation, the
    gradient of ``E[log q]`` (the baseline does not depend on sample ``k``, so it adds
    no bias), and the baseline removes the constant ``-log d!`` scale of ``log q`` that
    dominates the variance of a baseline-free estimate. The orderings are cheap (no
    mechanism evaluation), so they are drawn separately from the likelihood samples.

    Returns ``(kl_estimate, surrogate)``, both scalars.
    """
    n_samples, d = gumbel.shape
    orders = lax.stop_gradient(jnp.argsort(-(psi[None, :] + gumbel), axis=-1))
    logq = jax.vmap(lambda o: permutation_log_prob(psi, o))(orders)
    baseline = (jnp.sum(logq) - logq) / (n_samples - 1)
    surrogate = jnp.mean(lax.stop_gradient(logq - baseline) * logq)
    return lax.stop_gradient(jnp.mean(logq)) + math.lgamma(d + 1), surrogate


# ----------------------------------------------------------------------------- node-wise MLPs
def init_mlps(key, d: int, hidden: tuple, dtype=jnp.float32) -> list:
    """One MLP ``R^d -> R`` per node, stacked: a list of ``(W, b)`` layers.

    Shapes: first layer ``W (d, d, H0)`` (node, input, unit), then ``W (d, H_{k-1}, H_k)``,
    last ``W (d, H_last, 1)``; biases ``(d, H)``. Glorot-uniform weights, zero biases.
    """
    sizes = (d, *hidden, 1)
    shapes = [(d, fan_in, fan_out) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    # One flat draw for every layer (each separate draw is one more random-bits program to compile).
    u = jax.random.uniform(key, (sum(math.prod(s) for s in shapes),), dtype, minval=-1.0, maxval=1.0)
    layers, start = [], 0
    for shape in shapes:
        lim = math.sqrt(6.0 / (shape[1] + shape[2]))
        size = math.prod(shape)
        layers.append((lim * u[start : start + size].reshape(shape), jnp.zeros((d, shape[2]), dtype)))
        start += size
    return layers


def mlp_forward(layers: list, x, adjacency):
    """Predict every node from its parents: (B, d) -> (B, d).

    Node ``j``'s MLP sees ``x * adjacency[:, j]`` (its parents only), for all nodes at once.
    """
    w0, b0 = layers[0]
    h = jnp.einsum("bi,jih->bjh", x, adjacency.T[:, :, None] * w0) + b0
    for w, b in layers[1:]:
        h = jax.nn.leaky_relu(h)
        h = jnp.einsum("bjh,jhk->bjk", h, w) + b
    return h[..., 0]


def gaussian_loglik(x, mean, log_sigma):
    """Gaussian log-likelihood summed over nodes, averaged over rows: (B, d) -> scalar."""
    z = (x - mean) * jnp.exp(-log_sigma)
    ll = -0.5 * z**2 - log_sigma - 0.5 * math.log(2 * math.pi)
    return jnp.mean(jnp.sum(ll, axis=-1))


# ----------------------------------------------------------------------------- NOTEARS
def expm_taylor(m):
    """Matrix exponential by scaling and squaring of a degree-12 Taylor polynomial.

    The matrix is scaled by ``2^-s`` until ``alpha(A) <= 1/2``, where the truncation
    error of degree 12 is below ``0.5^13 / 13! < 2e-14``; then squared ``s`` times.
    ``alpha`` is the bound of Al-Mohy and Higham (2009, Theorem 4.2) on the tail of a
    power series, ``alpha = min_p max(d_p, d_{p+1})`` over ``p = 1..4`` with
    ``d_k = ||A^k||_1^{1/k}``: for the nearly nilpotent ``W * W`` of NOTEARS it is
    many times smaller than ``||A||_1`` (0.9 against 16 on a fitted 50-node graph),
    which saves three to four squarings. The norms are bounded by those of ``|A|^k``,
    exact for the nonnegative matrices used here and computed by ``k`` vector-matrix
    products. The polynomial is evaluated by the Paterson-Stockmeyer scheme in ``A^4``
    (five matrix products instead of twelve). Compiles much faster than
    :func:`jax.scipy.linalg.expm` (one branch instead of five Pade orders), which
    matters inside the L-BFGS loop.
    """
    absm = jnp.abs(m)
    v = jnp.ones(m.shape[-1], m.dtype)
    dk = []
    for k in range(1, 6):  # d_k = ||A^k||_1^(1/k) <= max(1^T |A|^k)^(1/k)
        v = v @ absm
        dk.append(jnp.max(v) ** (1.0 / k))
    alpha = jnp.min(jnp.stack([jnp.maximum(dk[p], dk[p + 1]) for p in range(4)]))
    s = jnp.maximum(0.0, jnp.ceil(jnp.log2(jnp.maximum(alpha, 1e-30) / 0.5))).astype(jnp.int32)
    a = m / jnp.exp2(s.astype(m.dtype))
    eye = jnp.eye(m.shape[-1], dtype=m.dtype)
    a2 = a @ a
    a3 = a2 @ a
    a4 = a2 @ a2
    c = [1.0 / math.factorial(k) for k in range(13)]

    def block(j):  # sum_{i<4} c[4j + i] A^i
        return c[4 * j] * eye + c[4 * j + 1] * a + c[4 * j + 2] * a2 + c[4 * j + 3] * a3

    r = block(2) + c[12] * a4
    r = block(1) + a4 @ r
    r = block(0) + a4 @ r
    return lax.fori_loop(0, s, lambda _, x: x @ x, r)


@jax.custom_vjp
def trace_expm(m):
    """``tr(expm(m))`` with the analytic gradient ``expm(m).T``."""
    return jnp.trace(expm_taylor(m))


def _trace_expm_fwd(m):
    e = expm_taylor(m)
    return jnp.trace(e), e


def _trace_expm_bwd(e, g):
    return (g * e.T,)


trace_expm.defvjp(_trace_expm_fwd, _trace_expm_bwd)


def notears_h(w):
    """NOTEARS acyclicity ``h(W) = tr(expm(W * W)) - d``: 0 iff ``W`` is a DAG."""
    return trace_expm(w * w) - w.shape[-1]


@jax.custom_vjp
def _half_quadratic(r, cov):
    """``0.5 tr(r^T cov r)`` for a symmetric ``cov``, with the gradient ``cov @ r`` in ``r``.

    Autodiff would form ``0.5 (cov + cov^T) @ r``: a second matrix product per
    evaluation, one of the seven or eight of NOTEARS' linear objective.
    """
    return 0.5 * jnp.sum(r * (cov @ r))


def _half_quadratic_fwd(r, cov):
    cr = cov @ r
    return 0.5 * jnp.sum(r * cr), (r, cr)


def _half_quadratic_bwd(res, g):
    r, cr = res
    return g * cr, 0.5 * g * (r @ r.T)  # d/dcov = 0.5 r r^T (cov is data; for completeness)


_half_quadratic.defvjp(_half_quadratic_fwd, _half_quadratic_bwd)


def notears_linear_objective(w, cov, rho, alpha):
    """Augmented Lagrangian of linear NOTEARS for ``cov = X.T X / n``, without its L1 term.

    ``0.5/n ||X - X W||^2 = 0.5 tr((I - W).T cov (I - W))`` plus ``rho/2 h^2 + alpha h``.
    The diagonal of ``w`` is masked. ``cov`` must be symmetric (its gradient in ``w`` is
    ``-cov @ (I - W)``). The L1 penalty ``lambda1 * |W|_1`` is exact and left to the
    solver (:func:`lbfgs_minimize` with ``l1``, OWL-QN).
    """
    d = w.shape[-1]
    eye = jnp.eye(d, dtype=w.dtype)
    w = w * (1.0 - eye)
    loss = _half_quadratic(eye - w, cov)
    h = notears_h(w)
    return loss + 0.5 * rho * h * h + alpha * h


def init_notears_mlp(rng: np.random.Generator, d: int, hidden: tuple) -> dict:
    """Parameters of NOTEARS-MLP in float64 numpy: ``fc1 (d, H0, d)`` (node, unit, input) and locally connected layers.

    Uniform on ``+-1/sqrt(fan_in)`` (PyTorch's default for linear layers, as in the
    reference code), biases zero. Drawn with numpy: the solver's program is the only one
    a first fit compiles.
    """
    lim = 1.0 / math.sqrt(d)
    params = {"fc1": rng.uniform(-lim, lim, (d, hidden[0], d)), "b1": np.zeros((d, hidden[0]))}
    rest = []
    sizes = (*hidden, 1)
    for fi, fo in zip(sizes[:-1], sizes[1:]):
        lim = 1.0 / math.sqrt(fi)
        rest.append((rng.uniform(-lim, lim, (d, fi, fo)), np.zeros((d, fo))))
    params["layers"] = rest
    return params


def notears_mlp_forward(params: dict, x):
    """NOTEARS-MLP prediction of every node, (n, d) -> (n, d) (sigmoid activations)."""
    d = x.shape[-1]
    fc1 = params["fc1"] * (1.0 - jnp.eye(d, dtype=x.dtype))[:, None, :]
    h = jnp.einsum("ni,jki->njk", x, fc1) + params["b1"]
    for w, b in params["layers"]:
        h = jax.nn.sigmoid(h)
        h = jnp.einsum("njh,jhk->njk", h, w) + b
    return h[..., 0]


def notears_mlp_adjacency(params: dict):
    """Weighted adjacency ``A[i, j] = ||fc1[j, :, i]||_2``: how much input ``i`` drives node ``j``.

    numpy in, numpy out (no device program); JAX arrays and tracers in, JAX out.
    """
    fc1 = params["fc1"]
    xp = jnp if isinstance(fc1, jax.Array) else np
    sq = xp.sum(fc1**2, axis=1).T * (1.0 - np.eye(fc1.shape[0]))
    return xp.sqrt(sq)


def notears_mlp_objective(params, x, lambda2, rho, alpha):
    """Augmented Lagrangian of NOTEARS-MLP (Zheng et al., 2020) without its L1 term.

    The L1 penalty on ``fc1`` is exact and left to the solver
    (:func:`lbfgs_minimize` with ``l1``, OWL-QN).
    """
    d = x.shape[-1]
    n = x.shape[0]
    resid = x - notears_mlp_forward(params, x)
    loss = 0.5 / n * jnp.sum(resid**2)
    fc1 = params["fc1"] * (1.0 - jnp.eye(d, dtype=x.dtype))[:, None, :]
    sq = jnp.sum(fc1**2, axis=1).T
    h = trace_expm(sq) - d
    l2 = jnp.sum(fc1**2) + sum(jnp.sum(w**2) for w, _ in params["layers"])
    return loss + 0.5 * rho * h * h + alpha * h + 0.5 * lambda2 * l2


def _two_loop(g, s_hist, y_hist, rho, n_mem, head):
    """L-BFGS two-loop recursion: ``-H g`` from the ``n_mem`` newest pairs of a ring buffer.

    ``s_hist``, ``y_hist``: ``(m, n)``; the newest pair sits at ``head - 1`` (mod ``m``).
    With no pair stored the direction is the steepest descent ``-g``. (Measured
    against an unrolled recursion and the compact representation of Byrd, Nocedal and
    Schnabel: this loop form compiled fastest and ran fastest for NOTEARS.)
    """
    m = s_hist.shape[0]

    def newest_first(i, carry):
        q, alphas = carry
        j = (head - 1 - i) % m
        a = jnp.where(i < n_mem, rho[j] * jnp.dot(s_hist[j], q), 0.0)
        return q - a * y_hist[j], alphas + a * jax.nn.one_hot(j, m, dtype=q.dtype)

    q, alphas = lax.fori_loop(0, m, newest_first, (g, jnp.zeros(m, g.dtype)))
    last = (head - 1) % m
    yy = jnp.dot(y_hist[last], y_hist[last])
    gamma = jnp.where(n_mem > 0, jnp.dot(s_hist[last], y_hist[last]) / jnp.where(yy > 0, yy, 1.0), 1.0)

    def oldest_first(i, r):
        j = (head - n_mem + i) % m
        b = rho[j] * jnp.dot(y_hist[j], r)
        return jnp.where(i < n_mem, r + s_hist[j] * (alphas[j] - b), r)

    return -lax.fori_loop(0, m, oldest_first, gamma * q)


def lbfgs_minimize(fun, params, *, max_iter: int, tol, ftol=2.220446049250313e-09, memory_size: int = 10,
                   max_linesearch: int = 40, l1=None, unit_hessian: bool = False):
    """Minimise ``fun(params)`` by L-BFGS with a backtracking Armijo line search, in one ``lax.while_loop``.

    A deliberately small program: the objective is traced once (in the line-search
    body, which also evaluates the start point), and every loop is a ``fori_loop``/``while_loop`` over
    vector operations, so XLA compiles it several times faster than a strong-Wolfe
    (zoom) line search, whose nested loops trace the objective at several call sites.
    The first step is scaled to unit length (``unit_hessian=True``: the full gradient
    step, for problems scaled so that the Hessian is near the identity); later steps
    start at 1 and backtrack by safeguarded quadratic interpolation (factor in [0.1, 0.5])
    until the Armijo condition holds. A first trial that satisfies Armijo's condition
    while the slope along the step is still steeper than ``c2 = 0.9`` times the initial one
    (the weak Wolfe condition fails) is extended fourfold until the slope flattens, the
    Armijo condition fails (the step before is taken) or, for OWL-QN, a coordinate reaches
    zero: without it a step that the first iteration's scaling made far too short (a
    problem whose curvature differs by orders of magnitude between coordinates) was
    accepted, and the relative-decrease rule below then stopped at a point far from the
    minimum (issue 26; SciPy's line search extends steps too). A pair ``(s, y)`` enters
    the memory only when ``s^T y`` is positive, which keeps the inverse-Hessian estimate
    positive definite.

    Stops, as SciPy's L-BFGS-B does, when the largest absolute gradient entry is below
    ``tol`` (its ``pgtol``), when an iteration lowers the objective by at most ``ftol``
    relative to ``max(|f_old|, |f_new|, 1)`` (its ``ftol``; the default is its
    ``factr = 1e7`` times machine epsilon), when the line search fails, or after
    ``max_iter`` iterations. The relative-decrease rule matters under a large
    augmented-Lagrangian penalty, where the gradient stays large in absolute terms long
    after the objective has stopped moving.

    With ``l1`` (per-coordinate weights ``lam >= 0``, a pytree like ``params``) it
    minimises ``fun(params) + sum(lam * |params|)`` by OWL-QN (Andrew and Gao, 2007): the
    gradient is replaced by the pseudo-gradient of the L1 term, the direction is kept to
    the orthant it points into, trial points are projected onto that orthant (coordinates
    that would change sign become exactly zero) and Armijo's condition is checked on the
    whole objective; the stopping rules use the pseudo-gradient and the whole objective.
    A line search then starts at twice the previous step (at most 1): the projected steps
    are often short, and starting at 1 every time cost about one extra evaluation per
    iteration on NOTEARS-MLP.

    Parameters
    ----------
    fun : callable
        Scalar objective of a pytree of arrays.
    params : pytree
        Starting point.
    max_iter : int
        Maximum number of iterations (static).
    tol : float or pytree
        Gradient tolerance: one number, or one per coordinate (a pytree like ``params``);
        may be traced.
    ftol : float
        Relative-decrease tolerance (may be traced).
    memory_size : int
        Number of stored ``(s, y)`` pairs.
    max_linesearch : int
        Maximum objective evaluations per line search.
    l1 : pytree or None
        Weights of an exact L1 penalty (zero: not penalised), or None for plain L-BFGS.
    unit_hessian : bool
        Start (and restart) with the step ``-g`` instead of a step of unit length: for a
        problem preconditioned so that its Hessian is near the identity.

    Returns
    -------
    params : pytree
        The last accepted point.
    n_iter : Array
        Iterations run. Pure: call it inside ``jax.jit``.
    """
    from jax.flatten_util import ravel_pytree

    x0, unravel = ravel_pytree(params)
    dtype = x0.dtype
    value_and_grad = jax.value_and_grad(lambda v: fun(unravel(v)))
    owl = l1 is not None
    lam = ravel_pytree(l1)[0].astype(dtype) if owl else None
    tol = ravel_pytree(tol)[0].astype(dtype)  # (1,) for one number: it broadcasts
    m = memory_size
    c1, c2, extension = 1e-4, 0.9, 4.0  # Armijo's and Wolfe's constants (SciPy's), the extension factor

    def whole(f, x):  # the objective with its L1 term
        return f + jnp.sum(lam * jnp.abs(x)) if owl else f

    def pseudo_gradient(x, g):
        if not owl:
            return g
        right, left = g + lam, g - lam  # one-sided derivatives at zero
        at_zero = jnp.where(right < 0, right, jnp.where(left > 0, left, 0.0))
        return jnp.where(x != 0, g + lam * jnp.sign(x), at_zero)

    def body(st):
        # Iteration k = -1 only evaluates the start point (f = inf, d = 0: the line search
        # accepts x0 at once), so the objective appears once in the program.
        x, f, g = st["x"], st["f"], st["g"]
        start = st["k"] < 0
        pg = pseudo_gradient(x, g)
        d = _two_loop(pg, st["s"], st["y"], st["rho"], st["n_mem"], st["head"])
        if owl:  # keep the components that descend along -pg (the orthant of the step)
            d = jnp.where((lam > 0) & (d * pg >= 0), 0.0, d)
        slope = jnp.dot(pg, d)
        restart = ~(slope < 0) & ~start  # not a descent direction (round-off): drop the memory
        d = jnp.where(restart, -pg, d)
        slope = jnp.where(restart, -jnp.dot(pg, pg), slope)
        d = jnp.where(start, 0.0, d)
        slope = jnp.where(start, 0.0, slope)
        first = (st["n_mem"] == 0) | restart
        later = jnp.minimum(1.0, 2.0 * st["t_prev"]) if owl else 1.0
        unit = 1.0 if unit_hessian else 1.0 / jnp.maximum(1.0, jnp.sqrt(jnp.dot(pg, pg)))
        t0 = jnp.where(first, unit, later).astype(dtype)
        f_whole = st["fw"]  # whole(f, x), kept in the state (inf at the start)
        orthant = jnp.where(x != 0, jnp.sign(x), -jnp.sign(pg)) if owl else None

        def trial(t):
            z = x + t * d
            if not owl:
                return z, jnp.asarray(False)
            cut = (lam > 0) & (d != 0) & (jnp.sign(z) != orthant)  # would leave the orthant: set to zero
            return jnp.where(cut, 0.0, z), jnp.any(cut)

        def armijo(c):
            decrease = jnp.dot(pg, c["x_t"] - x) if owl else c["t"] * slope
            return jnp.isfinite(c["fw_t"]) & (c["fw_t"] <= f_whole + c1 * decrease)

        def curvature(c):  # the weak Wolfe condition along the step taken
            s_t = c["x_t"] - x
            return jnp.dot(pseudo_gradient(c["x_t"], c["g_t"]), s_t) >= c2 * jnp.dot(pg, s_t)

        def done(c):
            a = armijo(c)
            overshot = c["lo_valid"] & ~a  # an extension failed Armijo: take the step before it
            return overshot | (a & (c["backtracked"] | c["cut"] | curvature(c)))

        def ls_cond(c):
            return (c["n"] == 0) | (~done(c) & (c["n"] < max_linesearch))

        def ls_body(c):
            t, n = c["t"], c["n"]
            a = armijo(c) & (n > 0)
            extend = a  # Armijo held but the slope is still steep (else the loop had stopped): go further
            quad = -slope * t * t / (2.0 * (c["fw_t"] - f_whole - slope * t))
            shrunk = jnp.where(jnp.isfinite(quad), jnp.clip(quad, 0.1 * t, 0.5 * t), 0.5 * t)
            t_new = jnp.where(n == 0, t, jnp.where(extend, extension * t, shrunk))
            x_t, cut = trial(t_new)
            f_t, g_t = value_and_grad(x_t)
            out = {"t": t_new, "x_t": x_t, "f_t": f_t, "fw_t": whole(f_t, x_t), "g_t": g_t, "n": n + 1, "cut": cut,
                   "backtracked": c["backtracked"] | ((n > 0) & ~extend), "lo_valid": c["lo_valid"] | extend}
            for key in ("t", "x_t", "f_t", "fw_t", "g_t"):  # the last step that satisfied Armijo
                out["lo_" + key] = jnp.where(extend, c[key], c["lo_" + key])
            return out

        inf = jnp.asarray(jnp.inf, dtype)
        no = jnp.asarray(False)
        here = {"t": t0, "x_t": x, "f_t": inf, "fw_t": inf, "g_t": g}
        ls = lax.while_loop(
            ls_cond, ls_body,
            {**here, **{"lo_" + k: v for k, v in here.items()}, "n": jnp.int32(0), "cut": no, "backtracked": no,
             "lo_valid": no},
        )  # fmt: skip
        back = ls["lo_valid"] & ~armijo(ls)
        t, x_t, f_t, fw_t, g_t = (jnp.where(back, ls["lo_" + k], ls[k]) for k in ("t", "x_t", "f_t", "fw_t", "g_t"))
        ok = back | armijo(ls)
        s_new = x_t - x if owl else t * d
        y_new = g_t - g
        sy = jnp.dot(s_new, y_new)
        store = ok & (sy > 1e-10 * jnp.dot(y_new, y_new))
        head = st["head"]
        slot = jax.nn.one_hot(head, m, dtype=dtype)[:, None]
        n_mem = jnp.where(restart, 0, st["n_mem"])  # a restart drops the memory
        out = dict(st)
        out.update(
            x=jnp.where(ok, x_t, x),
            f=jnp.where(ok, f_t, f),
            g=jnp.where(ok, g_t, g),
            fw=jnp.where(ok, fw_t, f_whole),
            fw_old=f_whole,
            s=jnp.where(store, st["s"] * (1.0 - slot) + slot * s_new[None, :], st["s"]),
            y=jnp.where(store, st["y"] * (1.0 - slot) + slot * y_new[None, :], st["y"]),
            rho=jnp.where(store, st["rho"] * (1.0 - slot[:, 0]) + slot[:, 0] / jnp.where(sy > 0, sy, 1.0), st["rho"]),
            head=jnp.where(store, (head + 1) % m, head),
            n_mem=jnp.where(store, jnp.minimum(n_mem + 1, m), n_mem),
            k=st["k"] + 1,
            failed=~ok,
            t_prev=jnp.where(ok & ~start, t, st["t_prev"]),
        )
        return out

    def cond(st):
        scale = jnp.maximum(jnp.maximum(jnp.abs(st["fw_old"]), jnp.abs(st["fw"])), 1.0)
        moving = (st["k"] == 0) | ((st["fw_old"] - st["fw"]) > ftol * scale)
        large = jnp.any(jnp.abs(pseudo_gradient(st["x"], st["g"])) >= tol)
        going = (st["k"] < max_iter) & large & moving & ~st["failed"]
        return (st["k"] < 0) | going

    n = x0.shape[0]
    init = {
        "x": x0, "f": jnp.asarray(jnp.inf, dtype), "g": jnp.zeros_like(x0), "fw": jnp.asarray(jnp.inf, dtype),
        "fw_old": jnp.asarray(jnp.inf, dtype), "s": jnp.zeros((m, n), dtype), "y": jnp.zeros((m, n), dtype),
        "rho": jnp.zeros(m, dtype), "head": jnp.int32(0), "n_mem": jnp.int32(0), "k": jnp.int32(-1),
        "failed": jnp.asarray(False), "t_prev": jnp.asarray(1.0, dtype),
    }  # fmt: skip
    st = lax.while_loop(cond, body, init)
    return unravel(st["x"]), st["k"]
