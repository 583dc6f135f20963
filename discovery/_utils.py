"""Small helpers shared by the discovery algorithms."""

from __future__ import annotations

import logging
from functools import cache

__all__ = ["CPU_FAST_COMPILE_OPTIONS", "fast_compile_options", "progress"]

logger = logging.getLogger(__name__)

#: XLA:CPU compile options of the larger jitted programs (the NOTEARS solver for small
#: problems, VI-DP-DAG's training chunk and held-out ELBO). XLA:CPU's fusion emitters, its
#: default code generator for fused loops, take much longer to compile these programs
#: than its older loop emitter: 0.6 against 0.4 s for the NOTEARS solver at d = 20, 1.27
#: against 0.73 s for VI-DP-DAG's training chunk on Sachs. The older emitter's code is as
#: fast for VI-DP-DAG (ms per step at d = 20, 50, 100 within 4 %) and 3-8 % slower for the
#: NOTEARS solver at d = 10-30, 15 % at d = 50 (2-core x86_64, jaxlib 0.10.2;
#: docs/benchmarks.md). Different code generation rounds differently: results are
#: identical only up to floating-point rounding.
CPU_FAST_COMPILE_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def progress(iterable, enabled: bool, **kwargs):
    """Wrap ``iterable`` in a tqdm bar when ``enabled`` (tqdm is imported only then)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


@cache
def _compiler_accepts(options: tuple) -> bool:
    """Whether XLA compiles a trivial program with these ``(name, value)`` options."""
    import jax
    import numpy as np

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
    import jax

    if jax.default_backend() != "cpu":
        return None
    options = tuple(CPU_FAST_COMPILE_OPTIONS.items())
    return dict(options) if _compiler_accepts(options) else None
