"""Pure JAX kernels of invariant causal prediction: every candidate set in one call.

Everything here is arrays in, arrays out: no pandas, no Python branching on traced
values. The orchestration (candidate sets, float64 scope, p-values, summaries) lives
in :mod:`discovery.invariance._icp`.

Notation. ``p`` predictors, ``E`` environments, ``q = p + 2``, ``B`` candidate sets.
The data of environment ``e`` are ``Z_e = [X_e, 1, y_e]`` (predictors and target
centred by their pooled means, a column of ones), and the kernels only see the
per-environment cross-product matrices ``C_e = Z_e^T Z_e`` (``E x q x q``) and their
sum ``C``: every statistic ICP needs is a quadratic form in them, so the cost of a
candidate set does not depend on the number of rows.

A candidate set ``S`` is a 0/1 mask ``m`` over the ``p`` predictors; the intercept
is always in (``m1 = [m, 1]``). Its pooled least-squares problem (the *masked*
normal equations) is solved by the **sweep operator** (Beaton 1964; Goodnight
1979) applied to ``C`` on the pivots of ``m1``: sweeping a symmetric matrix ``G`` on
pivot ``k`` gives

    ``H_kk = -1 / G_kk``, ``H_jk = H_kj = G_jk / G_kk``,
    ``H_jl = G_jl - G_jk G_kl / G_kk``,

and after sweeping on a set ``T`` the blocks are ``H_TT = -G_TT^{-1}`` (so the
coefficients' variance factors come for free), ``H_T,y = G_TT^{-1} G_T,y`` (the OLS
coefficients) and ``H_yy`` the residual sum of squares. For a batch of sets the
sweep on pivot ``k`` is applied where ``m1[k] = 1`` and skipped elsewhere: ``p + 1``
elementwise batch updates in a ``fori_loop``, no per-set factorisation (Gaussian
elimination without pivoting, stable on these positive definite matrices). With
``v = [-beta, 1]`` the residuals of environment ``e`` are ``Z_e v``, so their sum of
squares is ``v^T C_e v`` and their sum is ``(C_e v)[intercept]``.

The exact (Chow) test of environment ``k`` predicts ``y_k`` from the fit on the
other environments (``C - C_k`` swept); with ``r_k`` those prediction errors the
statistic's numerator is
``r_k^T (I + Z_k A_-k^{-1} Z_k^T)^{-1} r_k = r_k^T r_k - u^T A^{-1} u`` with
``u = Z_k^T r_k`` (Woodbury: ``A = A_-k + Z_k^T Z_k`` is the pooled normal matrix,
whose inverse the pooled sweep already holds), so no ``n_k x n_k`` matrix is formed.

Compile time matters as much as run time here: a fit compiles the kernel once per
(number of predictors, environments, batch) and a whole ICP run takes milliseconds, so
the kernels use only elementwise arithmetic, one-hot masks and reductions (no
scatters, no batched matrix products), which XLA compiles quickly.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from .._jax import jit

__all__ = ["masked_sweep", "subset_statistics"]


def masked_sweep(grams: Array, pivots: Array) -> Array:
    """Sweep each matrix of a batch on its own set of pivots.

    Parameters
    ----------
    grams : Array of shape (..., q, q)
        Symmetric positive definite matrices (on the pivoted block).
    pivots : Array of shape (..., r)
        0/1 flags of the pivots ``0 .. r - 1`` (``r <= q``) to sweep, per matrix.

    Returns
    -------
    Array of shape (..., q, q)
        The swept matrices.
    """
    q = grams.shape[-1]
    idx = jnp.arange(q)

    def body(k, h):
        # With e the one-hot vector of pivot k, c = h[..., :, k], d = c[k] and s = c / d,
        # the swept matrix is (h - s c^T) off row and column k, s on them, -1/d at (k, k).
        # Multiplying by exact 0/1 masks keeps every entry exact and the program small.
        e = (idx == k).astype(h.dtype)
        off = 1.0 - e
        corner = e[:, None] * e[None, :]
        col = jax.lax.dynamic_index_in_dim(h, k, axis=h.ndim - 1, keepdims=False)  # (..., q)
        d = jax.lax.dynamic_index_in_dim(col, k, axis=col.ndim - 1, keepdims=True)  # (..., 1)
        s = col / d
        inner = (h - s[..., :, None] * col[..., None, :]) * (off[:, None] * off[None, :])
        border = (e[:, None] * s[..., None, :] + s[..., :, None] * e[None, :]) * (1.0 - corner)
        upd = inner + border + corner * (-1.0 / d)[..., None]
        flag = jax.lax.dynamic_index_in_dim(pivots, k, axis=pivots.ndim - 1, keepdims=True)[..., None] > 0
        return jnp.where(flag, upd, h)

    return jax.lax.fori_loop(0, pivots.shape[-1], body, grams)


@partial(jit, static_argnames=("exact", "per_env"))
def subset_statistics(grams: Array, masks: Array, *, exact: bool = False, per_env: bool = False) -> dict[str, Array]:
    """Pooled OLS and per-environment residual statistics of a batch of candidate sets.

    Parameters
    ----------
    grams : Array of shape (E, p + 2, p + 2)
        ``C_e = Z_e^T Z_e`` with ``Z_e = [X_e, 1, y_e]``, the predictors and target
        centred by their pooled means.
    masks : Array of shape (B, p)
        0/1 masks of the candidate sets.
    exact : bool
        Also compute the Chow-test quantities of every environment.
    per_env : bool
        Also compute the residual sum of squares of each environment's own OLS fit.

    Returns
    -------
    dict of Array
        ``beta (B, p + 1)``: pooled coefficients, zero outside the set, the
        intercept (on the centred scale) last; ``ss (B, E)``, ``s (B, E)``: sum of
        squares and sum of the pooled residuals in each environment;
        ``inv_diag (B, p + 1)``: the diagonal of the inverse normal matrix of the
        set (zero outside it). With ``exact``: ``chow_num (B, E)``, the
        generalised sum of squares of environment ``k``'s prediction errors, and
        ``chow_rss (B, E)``, the residual sum of squares of the fit without ``k``. With
        ``per_env``: ``env_rss (B, E)``, the residual sum of squares of the OLS fit (with
        intercept) on environment ``e`` alone, from the sweep of ``C_e``.
    """
    dtype = grams.dtype
    n_env, q, _ = grams.shape
    k = q - 1  # predictors + intercept
    batch = masks.shape[0]
    m1 = jnp.concatenate([masks.astype(dtype), jnp.ones((batch, 1), dtype)], axis=1)  # (B, k)
    total = jnp.sum(grams, axis=0)
    swept = masked_sweep(jnp.broadcast_to(total, (batch, q, q)), m1)
    beta = swept[:, :k, k] * m1
    v = jnp.concatenate([-beta, jnp.ones((batch, 1), dtype)], axis=1)  # (B, q)
    cv = jnp.sum(grams[None] * v[:, None, None, :], axis=-1)  # (B, E, q): C_e v
    out = {
        "beta": beta,
        "ss": jnp.sum(cv * v[:, None, :], axis=-1),
        "s": cv[:, :, k - 1],
        "inv_diag": -jnp.diagonal(swept, axis1=1, axis2=2)[:, :k] * m1,
    }
    if exact:
        others = total[None, :, :] - grams  # (E, q, q)
        swept_o = masked_sweep(
            jnp.broadcast_to(others[None], (batch, n_env, q, q)),
            jnp.broadcast_to(m1[:, None, :], (batch, n_env, k)),
        )
        beta_o = swept_o[:, :, :k, k] * m1[:, None, :]  # (B, E, k)
        v_o = jnp.concatenate([-beta_o, jnp.ones((batch, n_env, 1), dtype)], axis=2)  # (B, E, q)
        ck = jnp.sum(grams[None] * v_o[:, :, None, :], axis=-1)  # (B, E, q): C_k v_o
        rr = jnp.sum(ck * v_o, axis=-1)
        u = ck[:, :, :k] * m1[:, None, :]
        a_inv = -swept[:, :k, :k] * m1[:, :, None] * m1[:, None, :]
        quad = jnp.sum(u[:, :, :, None] * a_inv[:, None, :, :] * u[:, :, None, :], axis=(-2, -1))
        out["chow_num"] = rr - quad
        out["chow_rss"] = swept_o[:, :, k, k]
    if per_env:
        swept_e = masked_sweep(
            jnp.broadcast_to(grams[None], (batch, n_env, q, q)),
            jnp.broadcast_to(m1[:, None, :], (batch, n_env, k)),
        )
        out["env_rss"] = swept_e[:, :, k, k]
    return out
