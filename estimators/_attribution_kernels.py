"""JAX kernels of the attribution functions: pure array programs, batched over coalitions with ``vmap``.

Arrays in, arrays out; no pandas, no Python branching on traced values. The callers in
:mod:`estimators._attribution` own the jit boundary (one compiled program per shape) and run the
kernels in float64 inside ``jax.enable_x64``.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["mixed_linear_moments"]


def _moments_one(mask, B_old, B_new, c_old, c_new, mu_old, mu_new, var_old, var_new, target):
    """Mean and variance of the target of a linear SCM whose nodes in ``mask`` take the new mechanism and noise.

    ``B[i, j]`` is the weight of ``i`` in ``j``'s mechanism, nodes in topological order (so ``B`` is
    strictly upper triangular); ``c`` the intercepts, ``mu`` / ``var`` the noise means and variances.
    The total effect ``a`` of each node's noise on the target solves ``(I - B) a = e_target``.
    """
    import jax.numpy as jnp
    from jax.scipy.linalg import solve_triangular

    B = jnp.where(mask[None, :], B_new, B_old)  # column j is node j's mechanism
    c = jnp.where(mask, c_new, c_old)
    mu = jnp.where(mask, mu_new, mu_old)
    var = jnp.where(mask, var_new, var_old)
    p = B.shape[0]
    e = jnp.zeros(p).at[target].set(1.0)
    a = solve_triangular(jnp.eye(p) - B, e, lower=False)
    return a @ (c + mu), (a * a) @ var


@functools.cache
def _compiled():
    import jax

    batched = jax.vmap(_moments_one, in_axes=(0, None, None, None, None, None, None, None, None, None))
    return jax.jit(batched, static_argnums=(9,))


def mixed_linear_moments(masks: np.ndarray, old: tuple, new: tuple, target: int) -> tuple[np.ndarray, np.ndarray]:
    """For each coalition (row of ``masks``), the target's exact mean and variance under mixed mechanisms.

    ``old`` and ``new`` are ``(B, c, mu, var)`` of the same linear SCM structure (nodes in
    topological order). Returns two ``(C,)`` arrays.
    """
    import jax

    masks = np.asarray(masks, dtype=bool)
    C = masks.shape[0]
    size = 1 << max(0, (C - 1).bit_length())  # pad to a power of two: few shapes, few compilations
    padded = np.zeros((size, masks.shape[1]), dtype=bool)
    padded[:C] = masks
    with jax.enable_x64(True):
        fn = _compiled()
        args = [np.asarray(x, dtype=np.float64) for x in (*old, *new)]
        B_old, c_old, mu_old, var_old, B_new, c_new, mu_new, var_new = args
        mean, var = fn(padded, B_old, B_new, c_old, c_new, mu_old, mu_new, var_old, var_new, int(target))
        return np.asarray(mean, dtype=float)[:C], np.asarray(var, dtype=float)[:C]
