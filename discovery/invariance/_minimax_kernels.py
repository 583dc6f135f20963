"""Pure JAX kernels of :class:`discovery.MinimaxTransfer`: the SCM with intervened mutable mechanisms, and the adversary.

The model is described by static tuples (hashable, so that a second fit on a graph of the
same shape does not recompile) and traced arrays:

* ``structure``: one entry per node in topological order, ``(kind, node, parents, monomials)``
  with ``kind`` ``"stable"`` (polynomial mechanism plus a resampled residual) or
  ``"mutable"`` (an intervention function chosen by the adversary); ``monomials`` is a
  tuple of index tuples into ``[1, parents...]`` (one tuple per feature, the product of
  those columns), ``None`` for a mutable node;
* ``coefs``: the stable mechanisms' coefficients, one array per node (zeros for mutable nodes);
* ``noise``: ``(n, n_nodes)`` residuals drawn for the stable nodes;
* ``lo``, ``hi``: ``(n_nodes,)`` ranges of the intervention functions.

An intervention function on a mutable node ``m`` is ``lo_m + (hi_m - lo_m) * sigmoid(MLP(pa(m)))``,
a one-hidden-layer tanh network of the (standardised) parents: a bounded class that is dense
in the bounded measurable functions of the parents, over which the adversary maximises the
risk of a predictor by gradient ascent (optax Adam), from several random starts at once.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from jax import Array

from .._jax import jit

__all__ = [
    "features",
    "propagate",
    "predictor_output",
    "init_predictor",
    "fit_predictors",
    "predictor_risk",
    "init_adversary",
    "worst_case_ascent",
]


def features(z: Array, monomials: tuple) -> Array:
    """The monomial features of ``z: (n, k)``: column ``f`` is the product of ``[1, z][:, i]`` for ``i`` in ``monomials[f]``."""
    z1 = jnp.concatenate([jnp.ones((z.shape[0], 1), z.dtype), z], axis=1)
    idx = jnp.asarray(monomials, dtype=jnp.int32)  # (F, degree)
    return jnp.prod(z1[:, idx], axis=-1)


def _mlp(params: dict, pa: Array) -> Array:
    hidden = jnp.tanh(pa @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


def propagate(structure: tuple, coefs: tuple, noise: Array, adversary: tuple, lo: Array, hi: Array) -> Array:
    """Every node's value ``(n, n_nodes)``: stable mechanisms with their residuals, mutable ones from the adversary's functions."""
    n, n_nodes = noise.shape
    cols: list = [None] * n_nodes
    k = 0
    for kind, node, parents, monomials in structure:
        pa = jnp.stack([cols[p] for p in parents], axis=1) if parents else jnp.zeros((n, 0), noise.dtype)
        if kind == "stable":
            cols[node] = features(pa, monomials) @ coefs[node] + noise[:, node]
        else:
            raw = _mlp(adversary[k], pa)
            cols[node] = lo[node] + (hi[node] - lo[node]) * jax.nn.sigmoid(raw)
            k += 1
    return jnp.stack(cols, axis=1)


def predictor_output(params: dict, z: Array, mask: Array) -> Array:
    """The stable predictor on the inputs ``z: (n, p)`` with those outside ``mask: (p,)`` zeroed: a linear term plus one tanh layer."""
    zm = z * mask
    return jnp.tanh(zm @ params["w1"] + params["b1"]) @ params["w2"] + zm @ params["w0"] + params["b2"]


def init_predictor(key: Array, p: int, hidden: int) -> dict:
    """Random parameters of a stable predictor of ``p`` inputs (the linear term starts at zero)."""
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (p, hidden)) / jnp.sqrt(max(p, 1)),
        "b1": jnp.zeros((hidden,)),
        "w2": jax.random.normal(k2, (hidden,)) / jnp.sqrt(hidden),
        "w0": jnp.zeros((p,)),
        "b2": jnp.zeros(()),
    }


@partial(jit, static_argnames=("hidden", "n_steps"))
def fit_predictors(z: Array, y: Array, masks: Array, keys: Array, learning_rate: Array, *, hidden: int, n_steps: int) -> dict:
    """Least-squares fits of one predictor per mask ``masks: (B, p)`` on ``(z, y)``, full-batch Adam; batched parameters."""
    opt = optax.adam(learning_rate)

    def train(mask, key):
        params = init_predictor(key, z.shape[1], hidden)

        def loss(prm):
            return jnp.mean((y - predictor_output(prm, z, mask)) ** 2)

        def step(carry, _):
            prm, state = carry
            grads = jax.grad(loss)(prm)
            updates, state = opt.update(grads, state, prm)
            return (optax.apply_updates(prm, updates), state), None

        (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=n_steps)
        return params

    return jax.vmap(train)(masks, keys)


def predictor_risk(structure, coefs, noise, adversary, lo, hi, pred, mask, inputs, target) -> tuple[Array, Array]:
    """Mean squared error of the stable predictor ``pred`` (on ``values[:, inputs]``) and its Monte-Carlo standard error."""
    values = propagate(structure, coefs, noise, adversary, lo, hi)
    out = predictor_output(pred, values[:, jnp.asarray(inputs, dtype=jnp.int32)], mask)
    sq = (values[:, target] - out) ** 2
    return sq.mean(), sq.std() / jnp.sqrt(sq.shape[0])


def init_adversary(key: Array, structure: tuple, hidden: int, scale: float = 1.0) -> tuple:
    """Random parameters of the intervention functions, one dict per mutable node (in ``structure``'s order)."""
    params = []
    for kind, _, parents, _ in structure:
        if kind != "mutable":
            continue
        key, k1, k2, k3 = jax.random.split(key, 4)
        params.append(
            {
                "w1": scale * jax.random.normal(k1, (len(parents), hidden)),
                "b1": scale * jax.random.normal(k2, (hidden,)),
                "w2": scale * jax.random.normal(k3, (hidden,)) / jnp.sqrt(hidden),
                "b2": jnp.zeros(()),
            }
        )
    return tuple(params)


@partial(jit, static_argnames=("structure", "inputs", "target", "hidden", "n_restarts", "n_steps"))
def worst_case_ascent(
    structure: tuple,
    coefs: tuple,
    noise_fit: Array,
    noise_eval: Array,
    lo: Array,
    hi: Array,
    preds: dict,
    masks: Array,
    keys: Array,
    learning_rate: Array,
    *,
    inputs: tuple,
    target: int,
    hidden: int,
    n_restarts: int,
    n_steps: int,
) -> tuple[Array, Array]:
    """The worst-case risk of each stable predictor (``preds``: batched parameters, ``masks: (B, p)``) over the intervention functions.

    ``keys: (B,)`` typed JAX keys, one per predictor.

    For every predictor, ``n_steps`` Adam steps of gradient *ascent* of the risk on the
    Monte-Carlo sample ``noise_fit`` from ``n_restarts`` random starts and from the worst
    constant intervention ``do(M = lo + q (hi - lo))`` on a grid of ``q``; the functions found
    are then scored on the independent sample ``noise_eval`` (so the estimate is not biased
    upwards by fitting the adversary to the sample). Returns, per predictor, the largest
    evaluated risk over the starts and its Monte-Carlo standard error, each ``(B,)``.
    """
    opt = optax.adam(learning_rate)

    quantiles = jnp.linspace(0.02, 0.98, 9)

    def constant(adv, q):  # every intervention function the constant lo + q (hi - lo)
        return tuple({**a, "w2": jnp.zeros_like(a["w2"]), "b2": jnp.log(q) - jnp.log1p(-q)} for a in adv)

    def one(pred, mask, k, from_constant):
        def loss(adv):
            return -predictor_risk(structure, coefs, noise_fit, adv, lo, hi, pred, mask, inputs, target)[0]

        adv0 = init_adversary(k, structure, hidden)
        # a start from the worst hard intervention do(M = c) on a grid: the ascent cannot end below it
        best_q = quantiles[jnp.argmin(jax.vmap(lambda q: loss(constant(adv0, q)))(quantiles))]
        adv0 = jax.tree_util.tree_map(lambda a, c: jnp.where(from_constant, c, a), adv0, constant(adv0, best_q))
        state0 = opt.init(adv0)

        def step(carry, _):
            adv, state = carry
            grads = jax.grad(loss)(adv)
            updates, state = opt.update(grads, state, adv)
            return (optax.apply_updates(adv, updates), state), None

        (adv, _), _ = jax.lax.scan(step, (adv0, state0), None, length=n_steps)
        return predictor_risk(structure, coefs, noise_eval, adv, lo, hi, pred, mask, inputs, target)

    keys = jax.vmap(lambda k: jax.random.split(k, n_restarts + 1))(keys)  # (B, n_restarts + 1)
    first = jnp.arange(n_restarts + 1) == 0  # start 0 from the worst constant, the others at random
    risk, se = jax.vmap(lambda prm, msk, ks: jax.vmap(lambda kk, f: one(prm, msk, kk, f))(ks, first))(preds, masks, keys)
    best = jnp.argmax(risk, axis=1)
    rows = jnp.arange(risk.shape[0])
    return risk[rows, best], se[rows, best]
