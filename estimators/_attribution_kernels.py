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


_JAX_MIN_WORK = 20_000_000  # coalitions x players^2 from which the compiled kernel beats numpy (compilation included)
_CHUNK_ELEMENTS = 4_000_000  # elements of one (coalitions, p, p) block of mixed weights


def _moments_numpy(masks, old, new):
    """The same as the vmapped kernel, by back-substitution in numpy (no compilation: for small batches)."""
    B_old, c_old, mu_old, var_old = old
    B_new, c_new, mu_new, var_new = new
    p = B_old.shape[0]
    B = np.where(masks[:, None, :], B_new[None], B_old[None])  # (C, p, p)
    a = np.zeros((len(masks), p))
    a[:, -1] = 1.0  # the target is the last node
    for j in range(p - 2, -1, -1):
        a[:, j] = np.einsum("ck,ck->c", B[:, j, :], a)
    c = np.where(masks, c_new, c_old)
    mu = np.where(masks, mu_new, mu_old)
    var = np.where(masks, var_new, var_old)
    return np.einsum("cj,cj->c", a, c + mu), np.einsum("cj,cj->c", a * a, var)


def mixed_linear_moments(masks: np.ndarray, old: tuple, new: tuple) -> tuple[np.ndarray, np.ndarray]:
    """For each coalition (row of ``masks``), the target's exact mean and variance under mixed mechanisms.

    ``old`` and ``new`` are ``(B, c, mu, var)`` of the same linear SCM structure, nodes in
    topological order with the target last. Returns two ``(C,)`` arrays. Large batches run the
    jitted, vmapped kernel (in chunks of one padded shape, so one compilation per number of
    nodes); small ones the same arithmetic in numpy, which needs no compilation.

    Examples
    --------
    >>> B = np.array([[0.0, 2.0], [0.0, 0.0]])  # X -> Y with weight 2 (old), 3 (new)
    >>> old = (B, np.zeros(2), np.zeros(2), np.ones(2))
    >>> new = (1.5 * B, np.zeros(2), np.array([1.0, 0.0]), np.ones(2))  # and X's noise mean 1
    >>> mean, var = mixed_linear_moments(np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=bool), old, new)
    >>> mean.tolist(), var.tolist()
    ([0.0, 2.0, 0.0, 3.0], [5.0, 5.0, 10.0, 10.0])
    """
    old = tuple(np.asarray(x, dtype=np.float64) for x in old)
    new = tuple(np.asarray(x, dtype=np.float64) for x in new)
    masks = np.asarray(masks, dtype=bool)
    C, p = masks.shape
    step = max(1, _CHUNK_ELEMENTS // (p * p))
    if C * p * p < _JAX_MIN_WORK:
        parts = [_moments_numpy(masks[lo : lo + step], old, new) for lo in range(0, C, step)]
        return np.concatenate([m for m, _ in parts]), np.concatenate([v for _, v in parts])
    import jax

    size = min(step, 1 << max(0, (C - 1).bit_length()))
    means, variances = [], []
    with jax.enable_x64(True):
        fn = _compiled()
        for lo in range(0, C, size):
            chunk = masks[lo : lo + size]
            padded = np.zeros((size, p), dtype=bool)
            padded[: len(chunk)] = chunk
            mean, var = fn(padded, old[0], new[0], old[1], new[1], old[2], new[2], old[3], new[3], p - 1)
            means.append(np.asarray(mean, dtype=float)[: len(chunk)])
            variances.append(np.asarray(var, dtype=float)[: len(chunk)])
    return np.concatenate(means), np.concatenate(variances)
