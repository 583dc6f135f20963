"""Fisher-z's partial correlations by sweeping: one body of arithmetic for numpy and for JAX.

:func:`discovery.citest._kernels.fisherz_batch` (jitted, ``xp=jax.numpy`` and
``jax.lax.fori_loop``) and the host path of :class:`discovery.citest.FisherZ` (numpy, a
Python loop) both run :func:`fisherz_sweep`, so they compute the same quantities by the same
operations in the same order: the results agree to rounding (``tests/discovery/test_citest.py``
checks 1e-12). The host path serves small batches, and with them a whole PC search on a few
variables, without importing JAX (docs/benchmarks.md, "Start-up of the command line"). This
module imports neither numpy nor JAX: the caller passes its array namespace.
"""

from __future__ import annotations

__all__ = ["fisherz_sweep", "sweep_submatrices"]


def _python_fori_loop(lower: int, upper: int, body, carry):
    """``jax.lax.fori_loop`` for concrete bounds, as a Python loop (the numpy path)."""
    for k in range(lower, upper):
        carry = body(k, carry)
    return carry


def fisherz_sweep(corr, idx, *, xp, fori_loop=_python_fori_loop):
    """Partial correlations of queries ``[x, y, *S]`` and the smallest pivot of their sweep.

    Parameters
    ----------
    corr : array of shape (p, p)
        The correlation matrix of the data.
    idx : int array of shape (..., K)
        Each row ``[x, y, *S, -1, ...]``: the conditioning set padded with ``-1`` to ``K``.
    xp : module
        The array namespace: ``numpy`` or ``jax.numpy``.
    fori_loop : callable, optional
        ``fori_loop(lower, upper, body, carry)``: ``jax.lax.fori_loop`` inside a jitted
        kernel; a Python loop by default.

    Returns
    -------
    array of shape (..., 2)
        The partial correlation of ``x`` and ``y`` given ``S``, and the smallest pivot of
        the sweep of the submatrix ordered ``[S, x, y]`` (the conditional variance of each
        variable given the ones before it: near zero iff the columns are collinear).

    Notes
    -----
    The submatrix is embedded in a ``K x K`` matrix with the identity on the padded slots,
    which are uncorrelated with everything and leave the result unchanged, so one compiled
    program serves every conditioning-set size up to ``K - 2``. Sweeping the matrix on the
    pivots ``2 .. K - 1`` turns the ``(x, y)`` block into the conditional covariance given
    ``S``; each sweep is elementwise arithmetic, which XLA compiles quickly
    (docs/benchmarks.md, "Design decisions: CI-test kernels").

    Examples
    --------
    >>> import numpy as np
    >>> corr = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    >>> out = fisherz_sweep(corr, np.array([[0, 1, 2, -1]]), xp=np)
    >>> round(float(out[0, 0]), 6), round(float(out[0, 1]), 6)   # (0.5 - 0.25) / 0.75
    (0.333333, 0.666667)
    """
    p = corr.shape[0]
    valid = idx >= 0
    ids = xp.where(valid, idx, 0)
    sub = xp.take(corr.ravel(), ids[..., :, None] * p + ids[..., None, :])
    return sweep_submatrices(sub, valid, xp=xp, fori_loop=fori_loop)


def sweep_submatrices(sub, valid, *, xp, fori_loop=_python_fori_loop):
    """The sweep of :func:`fisherz_sweep` on gathered ``[x, y, *S]`` submatrices.

    Parameters
    ----------
    sub : array of shape (..., K, K)
        The correlations of each query's variables, in the order ``[x, y, *S]`` (padded slots
        hold anything).
    valid : bool array of shape (..., K)
        Which slots are real variables.
    xp, fori_loop
        As in :func:`fisherz_sweep`.

    Returns
    -------
    array of shape (..., 2)
        As :func:`fisherz_sweep`. The gather is the caller's, so queries on several
        correlation matrices (bootstrap resamples in lock-step) share this arithmetic.
    """
    kk = valid.shape[-1]
    slots = xp.arange(kk)
    eye = (slots[:, None] == slots[None, :]).astype(sub.dtype)
    h = xp.where(valid[..., :, None] & valid[..., None, :], sub, eye)

    def sweep(k, carry):
        h, smallest = carry
        col = h[..., :, k]
        d = col[..., k]
        h = h - (col / d[..., None])[..., :, None] * col[..., None, :]
        return h, xp.minimum(smallest, d)

    h, smallest = fori_loop(2, kk, sweep, (h, xp.ones(valid.shape[:-1], sub.dtype)))
    h00, h11, h01 = h[..., 0, 0], h[..., 1, 1], h[..., 0, 1]
    r = h01 / xp.sqrt(h00 * h11)
    smallest = xp.minimum(smallest, xp.minimum(h00, h11 - h01 * h01 / h00))
    return xp.stack([r, smallest], axis=-1)
