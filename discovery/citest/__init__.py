"""Conditional-independence tests with one batched interface.

Every test is a :class:`CITest`: ``pvalue(x, y, cond)`` for one query and
``pvalues(queries)`` / ``test(queries)`` for a whole batch, which goes to one jitted,
vmapped JAX kernel call (:mod:`discovery.citest._kernels`), sharded over
``jax.devices()`` when there are several. Fisher-z computes batches of up to 4096 queries
with numpy instead, by the arithmetic of its kernel (:mod:`discovery.citest._sweep`): a search
on a few variables runs without importing JAX.

- :class:`FisherZ`: partial correlation (Gaussian data);
- :class:`KCI`: kernel CI test, exact or low-rank (Nystrom / random Fourier features);
- :class:`ChiSquare`, :class:`GSquare`: discrete data;
- :class:`DSeparation`: the oracle, d-separation in a known DAG;
- :func:`make_ci_test`, :data:`CI_TESTS`: a test by name;
- :func:`resolve_ci_test`: the test an estimator's ``ci_test`` / ``ci_test_kwargs`` ask for;
- :func:`gaussian_gram`, :func:`median_theta`: KCI's Gaussian kernel and its median-heuristic
  width (JAX), shared with the kernel penalties of other families (CausIRL's MMD);
- :class:`LockStep`: many searches run side by side, one thread each, their Fisher-z kernel
  calls pooled into one (what :func:`discovery.bootstrap` does with resamples);

Fisher-z and KCI accept the same data: both refuse linearly dependent columns with the
same error, from one check. The continuous tests run on z-scores whose moments cannot overflow
(:func:`discovery._utils.standardize`): their p-values do not depend on the units of the
columns. The discrete tests re-code each column's values, which scaling does not change
(their data are integer codes: scaling does not apply).
"""

from ._citest import CI_TESTS, KCI, ChiSquare, CITest, DSeparation, FisherZ, GSquare, make_ci_test
from ._lockstep import LockStep
from ._resolve import resolve_ci_test

__all__ = [
    "CITest", "FisherZ", "KCI", "ChiSquare", "GSquare", "DSeparation", "make_ci_test", "CI_TESTS", "resolve_ci_test", "LockStep",
    "gaussian_gram", "median_theta",
]

#: names of the JAX kernel module re-exported lazily: importing the tests does not import JAX
_LAZY_KERNELS = ("gaussian_gram", "median_theta")


def __getattr__(name: str):
    if name in _LAZY_KERNELS:
        from . import _kernels

        return getattr(_kernels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
