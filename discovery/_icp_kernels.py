"""Pure JAX kernels of invariant causal prediction: every candidate set in one call.

Everything here is arrays in, arrays out: no pandas, no Python branching on traced
values. The orchestration (candidate sets, float64 scope, p-values, summaries) lives
in :mod:`discovery._icp`.

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

The module also holds the pure objective and the jitted trainer of
:class:`discovery.IRM` (:func:`irm_objective`, :func:`irm_train`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from jax import Array

__all__ = ["masked_sweep", "subset_statistics", "irm_objective", "irm_train"]


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
    r = pivots.shape[-1]
    idx = jnp.arange(q)

    def body(k, h):
        on_k = idx == k
        e_k = on_k.astype(h.dtype)
        col = h @ e_k  # (..., q): column k
        d = (col @ e_k)[..., None]  # (..., 1): pivot
        scaled = col / d
        upd = h - scaled[..., :, None] * col[..., None, :]
        upd = jnp.where(on_k[:, None], scaled[..., None, :], upd)
        upd = jnp.where(on_k[None, :], scaled[..., :, None], upd)
        upd = jnp.where(on_k[:, None] & on_k[None, :], (-1.0 / d)[..., None], upd)
        flag = (pivots @ e_k[:r])[..., None, None] > 0
        return jnp.where(flag, upd, h)

    return jax.lax.fori_loop(0, r, body, grams)


@partial(jax.jit, static_argnames=("exact",))
def subset_statistics(grams: Array, masks: Array, *, exact: bool = False) -> dict[str, Array]:
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

    Returns
    -------
    dict of Array
        ``beta (B, p + 1)``: pooled coefficients, zero outside the set, the
        intercept (on the centred scale) last; ``ss (B, E)``, ``s (B, E)``: sum of
        squares and sum of the pooled residuals in each environment;
        ``inv_diag (B, p + 1)``: the diagonal of the inverse normal matrix of the
        set (zero outside it). With ``exact``: ``chow_num (B, E)``, the
        generalised sum of squares of environment ``k``'s prediction errors, and
        ``chow_rss (B, E)``, the residual sum of squares of the fit without ``k``.
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
    cv = jnp.einsum("eij,bj->bei", grams, v)  # (B, E, q)
    out = {
        "beta": beta,
        "ss": jnp.einsum("bei,bi->be", cv, v),
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
        ck = jnp.einsum("eij,bej->bei", grams, v_o)  # C_k v_o
        rr = jnp.einsum("bei,bei->be", ck, v_o)
        u = ck[:, :, :k] * m1[:, None, :]
        a_inv = -swept[:, :k, :k] * m1[:, :, None] * m1[:, None, :]
        quad = jnp.einsum("bei,bij,bej->be", u, a_inv, u)
        out["chow_num"] = rr - quad
        out["chow_rss"] = swept_o[:, :, k, k]
    return out


# --------------------------------------------------------------------------- IRM
def irm_objective(params: dict, x: Array, y: Array, codes: Array, n_env: int, weight: Array, l2: Array, fit_intercept: bool) -> Array:
    """IRMv1 objective of the linear model ``f = x @ beta + b``.

    ``sum_e R_e + weight * sum_e (dR_e(w f)/dw at w = 1)^2 + l2 |beta|^2``, divided by
    ``max(weight, 1)``; ``R_e`` is the mean squared error of environment ``e`` and the
    derivative is ``-2 mean_e((y - f) f)``. ``x: (n, p)``, ``y: (n,)``, ``codes: (n,)``
    environment indices in ``[0, n_env)``.
    """
    b = params["b"] if fit_intercept else 0.0
    f = x @ params["beta"] + b
    counts = jax.ops.segment_sum(jnp.ones_like(y), codes, num_segments=n_env)
    resid = y - f
    risks = jax.ops.segment_sum(resid**2, codes, num_segments=n_env) / counts
    grads = -2.0 * jax.ops.segment_sum(resid * f, codes, num_segments=n_env) / counts
    loss = risks.sum() + weight * jnp.sum(grads**2) + l2 * jnp.sum(params["beta"] ** 2)
    return loss / jnp.maximum(weight, 1.0)


def _run_optimizer(opt, params: dict, fun, n_steps: Array, use_value: bool) -> tuple[dict, Array]:
    """``n_steps`` (traced) steps of ``opt`` on ``fun`` from ``params``, fresh state."""
    value_and_grad = optax.value_and_grad_from_state(fun) if use_value else None
    state = opt.init(params)

    def body(_, carry):
        params, state, _ = carry
        if use_value:
            value, grad = value_and_grad(params, state=state)
            updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        else:
            value, grad = jax.value_and_grad(fun)(params)
            updates, state = opt.update(grad, state, params)
        return optax.apply_updates(params, updates), state, value

    init = (params, state, jnp.asarray(jnp.inf, dtype=params["beta"].dtype))
    params, _, value = jax.lax.fori_loop(0, n_steps, body, init)
    return params, value


@partial(jax.jit, static_argnames=("n_env", "fit_intercept", "solver"))
def irm_train(x: Array, y: Array, codes: Array, key: Array, penalty: Array, learning_rate: Array, l2: Array,
              n_steps: Array, anneal_steps: Array, *, n_env: int, fit_intercept: bool, solver: str) -> tuple[dict, Array]:
    """Train IRM: ``anneal_steps`` steps with weight 1, then ``n_steps`` with ``penalty``.

    Each phase starts from a fresh optimiser state (the objective jumps between them).
    The step counts, penalty, learning rate and ridge are traced, so changing them does
    not recompile. Returns the parameters ``{"beta": (p,), "b": ()}`` and the final
    objective.
    """
    p = x.shape[1]
    params = {"beta": 0.01 * jax.random.normal(key, (p,), dtype=x.dtype), "b": jnp.zeros((), x.dtype)}
    if solver == "lbfgs":
        opt, use_value = optax.lbfgs(), True
    else:
        opt, use_value = optax.adam(learning_rate), False

    def phase(params, spec):
        weight, steps = spec

        def fun(prm):
            return irm_objective(prm, x, y, codes, n_env, weight, l2, fit_intercept)

        params, _ = _run_optimizer(opt, params, fun, steps, use_value)
        return params, fun(params)

    weights = jnp.stack([jnp.ones((), x.dtype), jnp.asarray(penalty, x.dtype)])
    steps = jnp.stack([anneal_steps, n_steps])
    params, losses = jax.lax.scan(phase, params, (weights, steps))
    return params, losses[-1]
