"""Pure JAX kernels of CD-NOD phases 3 and 4 (independent changes, driving forces).

Everything here is arrays in, arrays out: no pandas, no Python branching on
traced values. The orchestration (which variables, which parents, subsampling,
float64 scope) lives in :mod:`discovery.constraint._cdnod`.

Notation (Huang et al., JMLR 2020, Sections 4-5). ``n`` samples, ``m``
representative context points (the distinct domains for a categorical context,
the samples themselves for a time index), ``K_C`` the ``n x n`` Gram matrix of
the context, ``R`` its ``m x n`` rows at the representative points, ``w`` the
``m`` weights of the representatives (domain sizes / n, or 1/n).

* The embedding of the changing marginal ``P(X | C = c)`` is the conditional mean
  embedding ``mu_c = Phi_X (K_C + lambda I)^{-1} k_C(c)``; the Gram matrix of
  these embeddings over the representatives is
  ``M = R (K_C + lambda I)^{-1} K_X (K_C + lambda I)^{-1} R^T``.
* The embedding of the changing conditional ``P(Y | X, C = c)`` is the map
  ``x -> mu_{Y | x, c} = Phi_Y K^{-1} (k_X(x) * k_C(c))`` with
  ``K = K_X * K_C + lambda I`` (kernel ridge regression on the product kernel).
  Two context points are compared by the inner product of these maps averaged
  over the sample of ``X``:
  ``<U_c, U_c'> = 1/n sum_l <mu_{Y|x_l,c}, mu_{Y|x_l,c'}>``, which is
  ``M = 1/n R ((K_X K_X) * K^{-1} K_Y K^{-1}) R^T``.
* A Gaussian kernel on these embeddings (median-distance width) gives the Gram
  matrices whose normalised HSIC measures the dependence between two changing
  modules (phase 3); kernel PCA of ``M`` gives the driving force (phase 4).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import Array

from .._jax import jit

__all__ = [
    "gaussian_gram",
    "delta_gram",
    "marginal_embedding_gram",
    "conditional_embedding_gram",
    "pivoted_cholesky",
    "embedding_kernel",
    "normalized_hsic",
    "independent_change_statistics",
    "weighted_kernel_pca",
]


def _sqdist(x: Array, y: Array) -> Array:
    """Squared Euclidean distances, ``x: (n, d)``, ``y: (m, d)`` -> ``(n, m)``."""
    d = jnp.sum(x * x, 1)[:, None] + jnp.sum(y * y, 1)[None, :] - 2.0 * x @ y.T
    return jnp.maximum(d, 0.0)


@jit
def gaussian_gram(x: Array, width: Array) -> Array:
    """Gaussian Gram matrix ``exp(-|x_i - x_j|^2 / (2 width^2))``; ``x: (n, d)`` -> ``(n, n)``."""
    return jnp.exp(-_sqdist(x, x) / (2.0 * width * width))


@jit
def delta_gram(codes: Array) -> Array:
    """Delta kernel ``[c_i == c_j]`` of integer domain codes ``(n,)`` -> ``(n, n)``."""
    return (codes[:, None] == codes[None, :]).astype(jnp.result_type(float))


@functools.partial(jit, static_argnames=("rank",))
def pivoted_cholesky(k: Array, rank: int, tol: float = 1e-8) -> Array:
    """Low-rank factor ``L: (n, rank)`` with ``L L^T ~ k`` (greedy pivoted Cholesky).

    Stops adding columns (they stay zero) once the trace of the residual falls below
    ``tol`` times the trace of ``k``; ``rank`` is a static upper bound.
    """
    n = k.shape[0]
    diag0 = jnp.diag(k)
    stop = tol * jnp.sum(diag0)

    def step(j, carry):
        factor, diag = carry
        p = jnp.argmax(diag)
        pivot = diag[p]
        go = jnp.sum(diag) > stop
        col = k[:, p] - factor @ factor[p]
        col = jnp.where(go, col / jnp.sqrt(jnp.maximum(pivot, 1e-300)), 0.0)
        factor = factor.at[:, j].set(col)
        diag = jnp.maximum(diag - col * col, 0.0)
        return factor, diag

    factor0 = jnp.zeros((n, rank), dtype=k.dtype)
    factor, _ = jax.lax.fori_loop(0, rank, step, (factor0, diag0))
    return factor


@jit
def marginal_embedding_gram(lc: Array, lc_rep: Array, lx: Array, ridge: Array) -> Array:
    """Gram matrix of the embeddings of ``P(X | C = c)`` at the representatives.

    ``M = R (K_C + lambda I)^{-1} K_X (K_C + lambda I)^{-1} R^T`` with ``R = K_C[rep]``,
    computed from low-rank factors: with ``K_C = L_C L_C^T`` the push-through identity
    gives ``(K_C + lambda I)^{-1} R^T = L_C (L_C^T L_C + lambda I)^{-1} L_C[rep]^T``.

    Parameters
    ----------
    lc : (n, rc) factor of the context Gram matrix ``K_C``.
    lc_rep : (m, rc) its rows at the representative context points.
    lx : (n, r) factor of the Gram matrix ``K_X``.
    ridge : scalar regulariser ``lambda``.

    Returns
    -------
    (m, r) factor ``Z`` of the Gram matrix, ``Z Z^T = M``,
    ``M[a, b] = <mu_{X | c_a}, mu_{X | c_b}>``.
    """
    rc = lc.shape[1]
    g = jnp.linalg.solve(lc.T @ lc + ridge * jnp.eye(rc, dtype=lc.dtype), (lc.T @ lx))  # (rc, r)
    return lc_rep @ g  # (m, r): rows of V^T L_X


@jit
def conditional_embedding_gram(kc: Array, lc: Array, lc_rep: Array, kpa: Array, lpa: Array, ly: Array, ridge: Array) -> Array:
    """Gram matrix of the embeddings of ``P(Y | PA, C = c)`` at the representatives.

    Parameters
    ----------
    kc : (n, n) context Gram matrix.
    lc : (n, rc) its low-rank factor; ``lc_rep`` (m, rc) its rows at the representatives.
    kpa : (n, n) Gram matrix of the parents ``PA`` (product kernel for several).
    lpa : (n, q) low-rank factor of ``kpa`` (:func:`pivoted_cholesky`).
    ly : (n, r) low-rank factor of the Gram matrix ``K_Y`` of ``Y``.
    ridge : scalar regulariser ``lambda`` of the kernel ridge regression.

    Returns
    -------
    (m, rc) factor ``Z`` with ``Z Z^T = M = 1/n R ((K_PA K_PA) * K^{-1} K_Y K^{-1}) R^T``,
    ``K = K_PA * K_C + lambda I`` and ``R = K_C[rep] = L_C[rep] L_C^T``.
    """
    n = kc.shape[0]
    k = kpa * kc + ridge * jnp.eye(n, dtype=kc.dtype)
    factor = jax.scipy.linalg.cho_factor(k, lower=True)
    b = jax.scipy.linalg.cho_solve(factor, ly)  # K^{-1} L_Y, so K^{-1} K_Y K^{-1} = B B^T
    kpa2 = (lpa @ (lpa.T @ lpa)) @ lpa.T  # K_PA K_PA from its factor
    inner = kpa2 * (b @ b.T) / n
    core = lc.T @ inner @ lc  # (rc, rc), positive semi-definite
    vals, vecs = jnp.linalg.eigh(0.5 * (core + core.T))
    return lc_rep @ (vecs * jnp.sqrt(jnp.maximum(vals, 0.0))[None, :])


@jit
def embedding_kernel(z: Array) -> Array:
    """Gaussian kernel on embeddings given a factor ``z: (k, r)`` of their linear Gram matrix.

    The width is the median distance between distinct representatives (floored
    so that an unchanging module gives a constant, not a NaN, Gram matrix).
    """
    m = z @ z.T
    diag = jnp.sum(z * z, axis=1)
    d = jnp.maximum(diag[:, None] + diag[None, :] - 2.0 * m, 0.0)
    k = z.shape[0]
    iu = jnp.triu_indices(k, 1)
    scale = jnp.maximum(jnp.median(d[iu]), 1e-12 * jnp.maximum(jnp.max(diag), 1e-300))
    return jnp.exp(-d / (2.0 * scale))


@jit
def normalized_hsic(ka: Array, kb: Array, w: Array) -> Array:
    """Normalised HSIC ``tr(Ka~ Kb~) / (tr Ka~ tr Kb~)`` of weighted representatives.

    ``ka, kb: (k, k)`` Gram matrices over the representatives, ``w: (k,)`` their
    weights (summing to one). With ``Omega = diag(w) - w w^T`` this equals the
    sample-level statistic with centred Gram matrices, every sample carrying the
    embedding of its context point: ``tr(Ka Omega Kb Omega) / (tr(Ka Omega) tr(Kb Omega))``.
    """
    # K Omega = K diag(w) - (K w) w^T, in O(k^2)
    ao = ka * w[None, :] - jnp.outer(ka @ w, w)
    bo = kb * w[None, :] - jnp.outer(kb @ w, w)
    num = jnp.sum(ao * bo.T)
    den = jnp.trace(ao) * jnp.trace(bo)
    return num / jnp.maximum(den, 1e-300)


@jit
def independent_change_statistics(ma_x: Array, mb_y_given_x: Array, ma_y: Array, mb_x_given_y: Array, w: Array) -> Array:
    """The two dependence measures of phase 3 for an edge ``X - Y``.

    Parameters
    ----------
    ma_x, mb_y_given_x : (k, r) factors of the linear Gram matrices of the embeddings of the
        changing cause and effect modules under the hypothesis ``X -> Y``
        (``P(X | PA_X)`` and ``P(Y | X, PA_Y)``).
    ma_y, mb_x_given_y : the same under ``Y -> X``.
    w : (k,) weights of the representatives.

    Returns
    -------
    (2,) array ``[Delta_{X -> Y}, Delta_{Y -> X}]``; the smaller marks the causal direction.
    """
    fwd = normalized_hsic(embedding_kernel(ma_x), embedding_kernel(mb_y_given_x), w)
    bwd = normalized_hsic(embedding_kernel(ma_y), embedding_kernel(mb_x_given_y), w)
    return jnp.stack([fwd, bwd])


@jit
def weighted_kernel_pca(z: Array, w: Array) -> tuple[Array, Array]:
    """Kernel PCA of weighted representatives whose (linear) Gram matrix is ``z z^T``.

    Parameters
    ----------
    z : (k, r) factor of the Gram matrix of the embeddings.
    w : (k,) weights summing to one (a domain weighs its share of the samples).

    Returns
    -------
    scores : (k, r) principal-component scores of each representative, columns in
        decreasing order of variance; column ``j`` has weighted mean zero and weighted
        variance ``eig[j]``.
    eig : (r,) the eigenvalues (variances), decreasing.

    Notes
    -----
    With weighted centring ``Zc = Z - 1 w^T Z`` and the thin SVD
    ``W^{1/2} Zc = P S Q^T``, the eigenvalues of the centred, weighted Gram matrix are
    ``S^2`` and the scores are ``Zc Q`` (the usual ``sqrt(lambda) v`` for equal weights).
    """
    zc = z - (w @ z)[None, :]
    _, sv, qt = jnp.linalg.svd(jnp.sqrt(w)[:, None] * zc, full_matrices=False)
    scores = zc @ qt.T
    # deterministic sign: the entry of largest magnitude is positive
    idx = jnp.argmax(jnp.abs(scores), axis=0)
    sign = jnp.sign(scores[idx, jnp.arange(scores.shape[1])])
    sign = jnp.where(sign == 0, 1.0, sign)
    return scores * sign[None, :], sv * sv
