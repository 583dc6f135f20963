"""Pure JAX objectives and jitted trainers of :class:`discovery.IRM` (IRMv1) and :class:`discovery.CausIRL`.

Both train a linear model ``f = x @ beta + b`` full-batch with optax, in one jitted call, by the
same two-phase loop (:func:`_train`: a phase with penalty weight 1, then one with the full
weight, each from a fresh optimiser state); they differ only in the objective:
:func:`irm_objective` (IRMv1's gradient penalty) and :func:`matching_objective` (CausIRL's
distance between the distributions of the model's output on two random mixtures of the
environments: MMD with the Gaussian kernel of :mod:`discovery.citest`, or CORAL).

Kept apart from :mod:`discovery.invariance._kernels` so that ICP never imports optax.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from jax import Array

from .._jax import jit
from ..citest import gaussian_gram, median_theta

__all__ = ["irm_objective", "irm_train", "matching_objective", "causirl_train"]


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


def _train(x: Array, key: Array, penalty: Array, learning_rate: Array, n_steps: Array, anneal_steps: Array, objective,
           solver: str) -> tuple[dict, Array, Array]:
    """The two-phase loop shared by the trainers: ``objective(params, weight)`` minimised with
    weight 1 for ``anneal_steps`` steps, then with ``penalty`` for ``n_steps`` steps.

    Returns the parameters, the final objective and the first bad step of each phase (see
    :func:`_run_optimizer`).
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
            return objective(prm, weight)

        params, value, first_bad = _run_optimizer(opt, params, fun, steps, use_value)
        return params, (value, first_bad)

    weights = jnp.stack([jnp.ones((), x.dtype), jnp.asarray(penalty, x.dtype)])
    steps = jnp.stack([anneal_steps, n_steps])
    params, (losses, first_bad) = jax.lax.scan(phase, params, (weights, steps))
    return params, losses[-1], first_bad


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

    def objective(prm, weight):
        return irm_objective(prm, x, y, codes, n_env, weight, l2, fit_intercept)

    return _train(x, key, penalty, learning_rate, n_steps, anneal_steps, objective, solver)


# --------------------------------------------------------------------------- CausIRL
#: rows of the median heuristic of CausIRL's MMD (the penalty rows are a random draw, so the first ones are too)
_MEDIAN_ROWS = 256


def _split_moments(f: Array, w: Array) -> tuple[Array, Array]:
    """Weighted mean and variance of ``f (n,)`` under each row of weights ``w (S, n)`` (rows sum to 1)."""
    mean = w @ f
    var = w @ (f * f) - mean**2
    return mean, var


def mmd_penalty(f: Array, first: Array, second: Array, theta: Array) -> Array:
    """Mean over the splits of the squared MMD between the two weighted samples of ``f``.

    ``f (m,)`` the model's outputs on the penalty rows; ``first``, ``second`` ``(S, m)``
    weights (each row sums to 1) of the two mixtures of every split; ``theta`` the inverse
    squared width of the Gaussian kernel :func:`discovery.citest.gaussian_gram`. The squared
    MMD of weights ``u``, ``v`` is ``(u - v)^T K (u - v)`` (the V-statistic).
    """
    k = gaussian_gram(f[:, None], theta)
    d = first - second
    return jnp.mean(jnp.sum((d @ k) * d, axis=1))


def target_theta(y: Array, rows: Array) -> Array:
    """The kernel width of :func:`mmd_penalty`: the median heuristic
    (:func:`discovery.citest.median_theta`) of the target on the first (at most)
    ``_MEDIAN_ROWS`` penalty rows. The outputs are on the target's scale; a width fixed
    from the data (rather than from the current outputs) keeps the penalty smooth and
    sensitive to the size of ``beta``, not only to its direction."""
    return median_theta(y[rows][:, None], jnp.arange(min(rows.shape[0], _MEDIAN_ROWS)))


def coral_penalty(f: Array, first: Array, second: Array, theta: Array) -> Array:
    """Mean over the splits of the CORAL distance (squared differences of the means and of the
    variances) between the two weighted samples of ``f``; arguments as :func:`mmd_penalty`
    (``theta`` unused)."""
    m1, v1 = _split_moments(f, first)
    m2, v2 = _split_moments(f, second)
    return jnp.mean((m1 - m2) ** 2 + (v1 - v2) ** 2)


def matching_objective(params: dict, x: Array, y: Array, codes: Array, n_env: int, weight: Array, l2: Array,
                       fit_intercept: bool, rows: Array, first: Array, second: Array, theta: Array, kind: str) -> Array:
    """CausIRL's objective of the linear model ``f = x @ beta + b``.

    ``mean_e R_e + weight * D + l2 |beta|^2``, divided by ``max(weight, 1)`` as IRM's;
    ``R_e`` is the mean squared error of environment ``e`` and ``D`` the distance
    (``kind``: ``"mmd"`` or ``"coral"``) between the distributions of ``x @ beta`` on two
    mixtures of the environments, averaged over splits: ``rows (m,)`` indexes the penalty
    rows and ``first``, ``second`` ``(S, m)`` weigh them, ``theta`` the MMD's kernel width
    (see :func:`mmd_penalty`).
    """
    b = params["b"] if fit_intercept else 0.0
    out = x @ params["beta"]
    counts = jax.ops.segment_sum(jnp.ones_like(y), codes, num_segments=n_env)
    risks = jax.ops.segment_sum((y - out - b) ** 2, codes, num_segments=n_env) / counts
    fn = mmd_penalty if kind == "mmd" else coral_penalty
    dist = fn(out[rows], first, second, theta)
    loss = risks.mean() + weight * dist + l2 * jnp.sum(params["beta"] ** 2)
    return loss / jnp.maximum(weight, 1.0)


@partial(jit, static_argnames=("n_env", "fit_intercept", "solver", "kind"))
def causirl_train(x: Array, y: Array, codes: Array, key: Array, rows: Array, first: Array, second: Array, penalty: Array,
                  learning_rate: Array, l2: Array, n_steps: Array, anneal_steps: Array, *, n_env: int, fit_intercept: bool,
                  solver: str, kind: str) -> tuple[dict, Array, Array]:
    """Train CausIRL with :func:`matching_objective`, by the loop of :func:`irm_train`; same returns."""

    theta = target_theta(y, rows)

    def objective(prm, weight):
        return matching_objective(prm, x, y, codes, n_env, weight, l2, fit_intercept, rows, first, second, theta, kind)

    return _train(x, key, penalty, learning_rate, n_steps, anneal_steps, objective, solver)
