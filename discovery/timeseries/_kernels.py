"""Pure JAX kernels of the time-series (PCMCI) conditional-independence tests.

Arrays in, arrays out: no pandas, no validation, no Python branching on traced values.
The callers in :mod:`discovery.timeseries._pcmci` run them inside ``jax.enable_x64(True)`` (scoped,
never global) so that everything is float64.

A query is ``x _||_ y | Z`` on the columns of the *lagged design*: one column per
(variable, lag) pair, one row per usable time step. Queries are padded to a common number
of conditioning columns ``k``: ``idx[b] = [x, y, z_1, ..., z_k]`` with an ``active`` flag
per slot; an inactive slot is replaced by an independent unit-variance dummy (its row and
column of the moment matrix become those of the identity), which leaves the partial
correlation unchanged, so queries with different ``|Z|`` share one compiled program.

Batch layout: query arrays are shaped ``(capacity, width, ...)`` and a traced scalar
``n_chunks`` says how many leading chunks hold queries. A :func:`jax.lax.fori_loop` walks the
chunks (bounding memory; its trip count is dynamic) and :func:`jax.vmap` vectorises ``width``.
Since compiling costs far more than evaluating these small kernels (docs/benchmarks.md,
"Design decisions: CI-test kernels"), the caller keeps ``capacity``, ``width`` and the
padded ``k`` on a few fixed sizes: a whole level of tests is one call, and a fit compiles once
per size.
"""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
from jax import lax

from .._jax import jit

__all__ = ["TRACE_COUNTS", "partial_correlation", "parcorr_batch", "parcorr_masked_batch"]

#: How many times each kernel has been traced (compiled); incremented only while tracing.
TRACE_COUNTS: collections.Counter = collections.Counter()


def partial_correlation(sub):
    """Partial correlation of variables 0 and 1 given the others, from a moment matrix.

    Parameters
    ----------
    sub : (k + 2, k + 2) symmetric positive definite covariance (or scatter) matrix of
        ``[x, y, z_1, ..., z_k]``.

    Returns
    -------
    scalar
        ``S01 / sqrt(S00 S11)`` with ``S = sub[:2, :2] - W^T W``, ``W = L^{-1} sub[2:, :2]``
        and ``L`` the Cholesky factor of ``sub[2:, 2:]``: the correlation of the residuals
        of ``x`` and ``y`` after least-squares regression on ``Z``. NaN if ``sub[2:, 2:]``
        is singular.
    """
    sxy = sub[:2, :2]
    if sub.shape[0] > 2:  # static: a shape
        chol = jnp.linalg.cholesky(sub[2:, 2:])
        w = jax.scipy.linalg.solve_triangular(chol, sub[2:, :2], lower=True)
        sxy = sxy - w.T @ w
    return sxy[0, 1] / jnp.sqrt(sxy[0, 0] * sxy[1, 1])


def _padded(sub, active):
    """Replace inactive rows/columns of ``sub`` by those of the identity."""
    keep = active[:, None] & active[None, :]
    return jnp.where(keep, sub, jnp.eye(sub.shape[0], dtype=sub.dtype))


def _chunked(one, n_chunks, out_shape, dtype, *queries):
    """Apply ``vmap(one)`` to the first ``n_chunks`` chunks of ``queries`` (dynamic trip count).

    ``queries`` are ``(capacity, width, ...)``; chunks beyond ``n_chunks`` are left at zero,
    so one compiled program serves every batch that fits the capacity.
    """
    out = jnp.zeros(out_shape, dtype)

    def body(s, acc):
        return acc.at[s].set(jax.vmap(one)(*(q[s] for q in queries)))

    return lax.fori_loop(0, n_chunks, body, out)


@jit
def parcorr_batch(corr, idx, active, n_chunks):
    """Partial correlations of a batch of queries sharing one sample (no mask).

    Parameters
    ----------
    corr : (p, p) correlation matrix of the lagged design.
    idx : (capacity, width, k + 2) int; each row ``[x, y, *Z]`` (padded slots hold any index).
    active : (capacity, width, k + 2) bool; ``False`` marks padded conditioning slots.
    n_chunks : int scalar (traced); only the first ``n_chunks`` chunks are computed.

    Returns
    -------
    (capacity, width) partial correlations (0 in chunks not computed).
    """
    TRACE_COUNTS["parcorr_batch"] += 1

    def one(ids, act):
        return partial_correlation(_padded(corr[ids][:, ids], act))

    return _chunked(one, n_chunks, idx.shape[:2], corr.dtype, idx, active)


@jit
def parcorr_masked_batch(design, valid, idx, active, n_chunks):
    """Partial correlations of a batch of queries, each on its own rows (masked data).

    A row is used by a query when every *active* column of the query is valid in it
    (tigramite's ``mask_type="xyz"``).

    Parameters
    ----------
    design : (n, p) lagged design; invalid entries may hold any finite value.
    valid : (n, p) bool; ``False`` where the value is masked.
    idx : (capacity, width, k + 2) int.
    active : (capacity, width, k + 2) bool.
    n_chunks : int scalar (traced).

    Returns
    -------
    (capacity, width, 2): the partial correlation and the number of rows used.
    """
    TRACE_COUNTS["parcorr_masked_batch"] += 1

    def one(ids, act):
        cols = design[:, ids]
        ok = jnp.all(valid[:, ids] | ~act[None, :], axis=1)
        w = ok.astype(design.dtype)
        n = jnp.sum(w)
        mean = (w @ cols) / jnp.maximum(n, 1.0)
        xc = (cols - mean) * w[:, None]
        sub = _padded(xc.T @ xc, act)
        return jnp.stack([partial_correlation(sub), n])

    return _chunked(one, n_chunks, idx.shape[:2] + (2,), design.dtype, idx, active)
