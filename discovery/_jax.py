"""JAX helpers shared by the discovery families: the jit wrapper, compile options, sharding, keys.

Every jitted kernel of :mod:`discovery` is built by :func:`jit` (compiled with
:func:`fast_compile_options` on CPU), and every program that splits work over
``jax.devices()`` gets its mesh here (:func:`parallel_devices`, :func:`row_sharding`,
:func:`replicated_sharding`, :func:`replicate`, :func:`batch_mesh`), so a family never
builds a mesh of its own.
"""

from __future__ import annotations

import functools
import logging
from functools import cache

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from scm._exceptions import ParameterError

__all__ = [
    "CPU_FAST_COMPILE_OPTIONS",
    "batch_mesh",
    "check_key",
    "fast_compile_options",
    "jit",
    "parallel_devices",
    "replicate",
    "replicated_sharding",
    "row_sharding",
]

logger = logging.getLogger(__name__)

#: XLA:CPU compile options of the jitted programs of :mod:`discovery` (all but the linear
#: NOTEARS solver for more than 32 nodes, see :func:`jit`). XLA:CPU's fusion emitters, its
#: default code generator for fused loops, take much longer to compile these programs
#: than its older loop emitter, whose code runs as fast for all of them but the linear
#: NOTEARS solver on large problems (docs/benchmarks.md, "Design decisions: XLA's
#: loop emitter on CPU"). Different code generation rounds differently: results are
#: identical only up to floating-point rounding.
CPU_FAST_COMPILE_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def check_key(key, *, name: str = "key", owner: str | None = None):
    """Check that ``key`` is a JAX PRNG key, and return it.

    A typed key (:func:`jax.random.key`) or a legacy ``uint32`` key of shape ``(..., 2)``
    (:func:`jax.random.PRNGKey`); traced keys pass. An int seed would otherwise fail deep
    inside :mod:`jax.random` with a message that does not say which argument was wrong.
    """
    dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    legacy = dtype == np.uint32 and shape is not None and len(shape) >= 1 and shape[-1] == 2
    if not (typed or legacy):
        where = f" of {owner}" if owner else ""
        raise ParameterError(
            f"The {name!r} parameter{where} must be a JAX PRNG key such as jax.random.key(0); got {key!r} instead."
        )
    return key


def parallel_devices() -> tuple:
    """The devices a data-parallel program splits its rows over: all of ``jax.devices()``
    when there are several, ``()`` for one (the one-device programs stay unsharded).
    """
    devices = tuple(jax.devices())
    return devices if len(devices) > 1 else ()


def batch_mesh(devices: tuple) -> Mesh:
    """The 1-D mesh (axis ``"batch"``) over ``devices`` that every sharded program of :mod:`discovery` uses.

    The batched CI tests split a level's queries over it (``shard_map``), the
    differentiable learners their data rows (:func:`row_sharding`).

    Examples
    --------
    >>> import jax
    >>> batch_mesh(tuple(jax.devices())).axis_names
    ('batch',)
    """
    return Mesh(np.asarray(devices), ("batch",))


def row_sharding(devices: tuple) -> NamedSharding | None:
    """Rows of a (rows, columns) array split over a 1-D mesh of ``devices``; ``None`` for fewer than two.

    The data-parallel layout of the differentiable learners: a jitted program that
    constrains its data rows to it (``jax.lax.with_sharding_constraint``) runs each
    device on its share of the rows with the parameters replicated, and XLA sums the
    row-wise terms of the loss and its gradient across devices. Row counts that do
    not divide evenly are padded by XLA, not by the caller.

    Examples
    --------
    >>> import jax
    >>> row_sharding(tuple(jax.devices()[:1])) is None
    True
    """
    if len(devices) < 2:
        return None
    return NamedSharding(batch_mesh(devices), PartitionSpec("batch", None))


def replicated_sharding(devices: tuple) -> NamedSharding | None:
    """A full copy on each of ``devices`` (the mesh of :func:`row_sharding`); ``None`` for fewer than two.

    The layout of the parameters and of the data a data-parallel step gathers its
    minibatch from (:func:`replicate` places inputs so).
    """
    if len(devices) < 2:
        return None
    return NamedSharding(batch_mesh(devices), PartitionSpec())


def replicate(tree, devices: tuple):
    """``tree`` placed whole on every one of ``devices`` (:func:`replicated_sharding`); unchanged for one.

    Inputs of a data-parallel program go beside its replicated parameters this way:
    left uncommitted, a small array (fewer rows than devices) can be given a partial
    tiling by XLA that JAX cannot map back to the mesh (``IndivisibleError``).
    """
    return jax.device_put(tree, replicated_sharding(devices)) if len(devices) > 1 else tree


@cache
def _compiler_accepts(options: tuple) -> bool:
    """Whether XLA compiles a trivial program with these ``(name, value)`` options."""
    try:
        jax.jit(lambda x: x + 1, compiler_options=dict(options)).lower(np.float32(0)).compile()
    except jax.errors.JaxRuntimeError as exc:  # "No such compile option" on another jaxlib
        logger.debug("XLA rejects the compile options %s (%s); using its defaults", dict(options), exc)
        return False
    return True


def fast_compile_options() -> dict | None:
    """``compiler_options`` for :func:`jax.jit` of a large program: faster compilation on CPU.

    :data:`CPU_FAST_COMPILE_OPTIONS` when JAX's default backend is the CPU and this XLA
    accepts them (the options are XLA debug flags, which a jaxlib may rename or drop;
    checked once per process by compiling a trivial program), else ``None``, XLA's
    defaults. GPU and TPU backends always get their defaults.

    Examples
    --------
    >>> import jax
    >>> f = jax.jit(lambda x: x * 2, compiler_options=fast_compile_options())
    >>> float(f(1.5))
    3.0
    """
    if jax.default_backend() != "cpu":
        return None
    options = tuple(CPU_FAST_COMPILE_OPTIONS.items())
    return dict(options) if _compiler_accepts(options) else None


class _LazyJit:
    """A :func:`jax.jit` of ``fun`` built at its first use, when the backend is known.

    JAX accepts ``compiler_options`` only on a top-level jit: a call whose arguments are
    tracers (from inside another traced function) goes to a plain :func:`jax.jit`.
    """

    def __init__(self, fun, jit_kwargs: dict):
        functools.update_wrapper(self, fun)
        self._fun = fun
        self._jit_kwargs = jit_kwargs
        self._jitted = None
        self._nested = None

    def _get(self):
        if self._jitted is None:
            self._jitted = jax.jit(self._fun, compiler_options=fast_compile_options(), **self._jit_kwargs)
        return self._jitted

    def __call__(self, *args, **kwargs):
        if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves((args, kwargs))):
            if self._nested is None:
                self._nested = jax.jit(self._fun, **self._jit_kwargs)
            return self._nested(*args, **kwargs)
        return self._get()(*args, **kwargs)

    def __getattr__(self, name):  # lower, trace, eval_shape, clear_cache, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._get(), name)


def jit(fun=None, **jit_kwargs):
    """:func:`jax.jit` compiled with :func:`fast_compile_options`, chosen at the first call.

    Used as ``@jit`` or ``@partial(jit, static_argnames=...)`` on the module-level kernels
    of :mod:`discovery`: importing a module compiles nothing and asks XLA nothing; the
    first call builds the :func:`jax.jit` (with the backend JAX uses by then) and later
    calls go straight to it. Attributes such as ``lower`` are the jitted function's.

    Examples
    --------
    >>> @jit
    ... def double(x):
    ...     return 2 * x
    >>> float(double(1.5)), double.__name__
    (3.0, 'double')
    """
    if fun is None:
        return functools.partial(jit, **jit_kwargs)
    return _LazyJit(fun, jit_kwargs)
