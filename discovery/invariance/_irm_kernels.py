"""Pure JAX objective and jitted trainer of :class:`discovery.IRM` (IRMv1).

Kept apart from :mod:`discovery.invariance._kernels` so that ICP never imports optax.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from jax import Array

from .._jax import jit

__all__ = ["irm_objective", "irm_train"]


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


#: A phase whose loss exceeds this many times (1 + its starting value) has diverged (the data are z-scores,
#: so the starting loss is about the number of environments).
DIVERGENCE_FACTOR = 1e3


def _run_optimizer(opt, params: dict, fun, n_steps: Array, use_value: bool) -> tuple[dict, Array, Array]:
    """``n_steps`` (traced) steps of ``opt`` on ``fun`` from ``params``, fresh state.

    Returns the parameters, the last loss evaluated and the first step whose loss was
    non-finite or above ``DIVERGENCE_FACTOR * (1 + |starting loss|)`` (-1 if none): the
    loss at step ``i`` is the one after ``i`` updates, and step ``n_steps`` is the final
    parameters.
    """
    value_and_grad = optax.value_and_grad_from_state(fun) if use_value else None
    state = opt.init(params)
    limit = DIVERGENCE_FACTOR * (1.0 + jnp.abs(fun(params)))

    def flag(first_bad, i, value):
        bad = ~jnp.isfinite(value) | (value > limit)
        return jnp.where((first_bad < 0) & bad, i, first_bad)

    def body(i, carry):
        params, state, _, first_bad = carry
        if use_value:
            value, grad = value_and_grad(params, state=state)
            updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        else:
            value, grad = jax.value_and_grad(fun)(params)
            updates, state = opt.update(grad, state, params)
        return optax.apply_updates(params, updates), state, value, flag(first_bad, i, value)

    init = (params, state, jnp.asarray(jnp.inf, dtype=params["beta"].dtype), jnp.asarray(-1, dtype=jnp.int32))
    params, _, _, first_bad = jax.lax.fori_loop(0, n_steps, body, init)
    value = fun(params)
    return params, value, flag(first_bad, n_steps, value)


@partial(jit, static_argnames=("n_env", "fit_intercept", "solver"))
def irm_train(x: Array, y: Array, codes: Array, key: Array, penalty: Array, learning_rate: Array, l2: Array,
              n_steps: Array, anneal_steps: Array, *, n_env: int, fit_intercept: bool, solver: str) -> tuple[dict, Array, Array]:
    """Train IRM: ``anneal_steps`` steps with weight 1, then ``n_steps`` with ``penalty``.

    Each phase starts from a fresh optimiser state (the objective jumps between them).
    The step counts, penalty, learning rate and ridge are traced, so changing them does
    not recompile. Returns the parameters ``{"beta": (p,), "b": ()}``, the final
    objective, and for each phase (annealing, penalty) the first step whose loss was
    non-finite or exploded, -1 if none (see :func:`_run_optimizer`): shape ``(2,)``.
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

        params, value, first_bad = _run_optimizer(opt, params, fun, steps, use_value)
        return params, (value, first_bad)

    weights = jnp.stack([jnp.ones((), x.dtype), jnp.asarray(penalty, x.dtype)])
    steps = jnp.stack([anneal_steps, n_steps])
    params, (losses, first_bad) = jax.lax.scan(phase, params, (weights, steps))
    return params, losses[-1], first_bad
