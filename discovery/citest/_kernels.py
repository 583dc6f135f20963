"""Pure JAX kernels of the conditional-independence tests.

Arrays in, arrays out: no pandas, no validation, no Python branching on traced
values. Every public-facing batch function here is jitted at module level so a
second call with the same shapes and static arguments reuses the compiled
program. The callers in :mod:`discovery.citest._citest` run them inside
``jax.enable_x64(True)`` so that everything is float64.

Batch layout
------------
Batched kernels take their shared (replicated) inputs first and then query arrays shaped ``(steps, width)`` (or
``(steps, width, k)``): the outer ``steps`` axis is traversed sequentially with
:func:`jax.lax.map` (this bounds memory: only ``width`` queries are live at a
time), the inner ``width`` axis is vectorised with :func:`jax.vmap` and is the
axis sharded across devices. Each returns per-query results shaped
``(steps, width, ...)``.

Shapes in the docstrings use ``n`` samples, ``p`` variables, ``k`` the size of
the conditioning set, ``m`` the number of distinct conditioning sets or of
low-rank features.

Two host-side helpers of the exact KCI, :func:`pivoted_cholesky` and
:func:`woodbury_factor`, are plain numpy: they run once per variable or
conditioning set (their results are cached by the caller), cost ``O(n r^2)`` and
have a data-dependent rank ``r``, which a jitted loop would have to pad to a
fixed maximum (and recompile for).
"""

from __future__ import annotations

import collections
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
from jax import lax

from .._jax import jit
from ._sweep import fisherz_sweep, sweep_submatrices

__all__ = [
    "TRACE_COUNTS",
    "sq_dists",
    "sq_dists_cross",
    "gaussian_gram",
    "center_gram",
    "median_theta",
    "residual_maker",
    "pivoted_cholesky",
    "woodbury_factor",
    "fisherz_batch",
    "fisherz_stacked_batch",
    "kci_uncond_batch",
    "kci_cond_batch",
    "kci_x_gram",
    "kci_cond_group",
    "kci_uncond_factor_host",
    "kci_x_gram_host",
    "kci_cond_group_host",
    "lowrank_uncond_batch",
    "lowrank_cond_batch",
    "discrete_batch",
]

#: How many times each batch kernel has been traced (compiled). A Python-side
#: counter: it is only incremented while JAX traces, never at run time, so tests
#: can assert that a second call with the same shapes does not recompile.
TRACE_COUNTS: collections.Counter = collections.Counter()


# --------------------------------------------------------------------------- #
# building blocks
# --------------------------------------------------------------------------- #
def sq_dists(a):
    """Squared Euclidean distances between the rows of ``a``.

    ``a`` is ``(n, d)`` with small ``d``; the result is ``(n, n)``. Computed as a
    sum over columns of squared differences (exact, no cancellation).
    """
    out = jnp.zeros((a.shape[0], a.shape[0]), a.dtype)
    for j in range(a.shape[1]):  # static: d is a shape
        diff = a[:, j][:, None] - a[:, j][None, :]
        out = out + diff * diff
    return out


def sq_dists_cross(a, b):
    """Squared distances between rows of ``a`` ``(n, d)`` and ``b`` ``(m, d)``: ``(n, m)``."""
    out = jnp.zeros((a.shape[0], b.shape[0]), a.dtype)
    for j in range(a.shape[1]):
        diff = a[:, j][:, None] - b[:, j][None, :]
        out = out + diff * diff
    return out


def gaussian_gram(a, theta):
    """Gaussian kernel matrix ``exp(-0.5 * theta * ||a_i - a_j||^2)``, ``(n, n)``.

    ``theta`` is the inverse squared width, ``1 / sigma^2``.
    """
    return jnp.exp(-0.5 * theta * sq_dists(a))


def center_gram(k):
    """Double-centred kernel matrix ``H K H`` with ``H = I - 1/n``; ``(n, n) -> (n, n)``."""
    col = jnp.mean(k, axis=0)
    row = jnp.mean(k, axis=1)
    return k - col[None, :] - row[:, None] + jnp.mean(col)


def median_theta(a, sub):
    """Inverse squared width of the median heuristic.

    The width is ``sqrt(2) * median`` of the positive pairwise distances between
    the rows ``a[sub]`` (``a`` is ``(n, d)``, ``sub`` an index vector of at most
    ``n`` rows); returns ``1 / width**2`` as a scalar.
    """
    d = jnp.sqrt(sq_dists(a[sub]))
    med = jnp.nanmedian(jnp.where(d > 0, d, jnp.nan))
    return 1.0 / (2.0 * med * med)


def residual_maker(z, theta, eps):
    """KCI's regularised residual-maker ``R_Z = eps * (H K_Z H + eps I)^{-1}``.

    ``z`` is ``(n, k)``; returns a symmetric ``(n, n)`` matrix. ``H K_Z H + eps I``
    is positive definite, so a Cholesky solve replaces the pseudo-inverse.
    """
    n = z.shape[0]
    kz = center_gram(gaussian_gram(z, theta))
    chol = jax.scipy.linalg.cho_factor(kz + eps * jnp.eye(n, dtype=z.dtype), lower=True)
    r = eps * jax.scipy.linalg.cho_solve(chol, jnp.eye(n, dtype=z.dtype))
    return 0.5 * (r + r.T)


def _map_batched(fn, *queries):
    """``lax.map`` over the leading axis of ``queries`` of ``vmap(fn)`` over the second."""
    return lax.map(lambda q: jax.vmap(fn)(*q), queries)


def _map_masked(fn, valid, *queries):
    """Like :func:`_map_batched`, but steps whose ``valid`` flag is unset return zeros.

    With one query per step (``width == 1``, as the low-rank callers arrange) the
    padded steps are skipped by :func:`jax.lax.cond` and cost nothing; with a wider
    vmapped axis ``cond`` becomes a select and they are computed and discarded.
    """
    out = jax.eval_shape(fn, *(jax.ShapeDtypeStruct(q.shape[2:], q.dtype) for q in queries))

    def guarded(v, *q):
        return lax.cond(v, lambda: fn(*q), lambda: jnp.zeros(out.shape, out.dtype))

    if valid.shape[1] == 1:
        res = lax.map(lambda q: guarded(*(a[0] for a in q)), (valid, *queries))
        return res[:, None]
    return lax.map(lambda q: jax.vmap(guarded)(*q), (valid, *queries))


# --------------------------------------------------------------------------- #
# Fisher-z
# --------------------------------------------------------------------------- #
@jit
def fisherz_batch(corr, idx):
    """Partial correlations of a batch of queries, every ``|S|`` up to a bucket in one program.

    Parameters
    ----------
    corr : (p, p) correlation matrix of the data.
    idx : (steps, width, K) int; each row is ``[x, y, *S, -1, ...]``: the conditioning
        set padded with ``-1`` to the bucket size ``K``.

    Returns
    -------
    (steps, width, 2) array: the partial correlation of ``x`` and ``y`` given ``S`` and
    the smallest pivot of the Cholesky factorisation of the submatrix ordered
    ``[S, x, y]`` (the conditional variance of each variable given the ones before
    it: near zero iff the submatrix is singular, i.e. the columns are collinear).

    Notes
    -----
    The arithmetic is :func:`discovery.citest._sweep.fisherz_sweep`, which the numpy path
    of small batches runs too: the padded slots carry the identity, so one compiled
    program serves every conditioning-set size up to ``K - 2``, and each sweep is
    elementwise arithmetic inside a ``fori_loop``, which XLA compiles
    quickly, once for every size; a batched inverse and eigendecomposition compile more
    slowly, and once for every distinct ``|S|`` (docs/benchmarks.md, "Design decisions:
    CI-test kernels").
    """
    TRACE_COUNTS["fisherz_batch"] += 1
    return fisherz_sweep(corr, idx, xp=jnp, fori_loop=lax.fori_loop)


@jit
def fisherz_stacked_batch(corrs, which, idx):
    """:func:`fisherz_batch` for queries on several correlation matrices at once.

    Parameters
    ----------
    corrs : (m, p, p) correlation matrices (of ``m`` data sets on the same variables, e.g.
        bootstrap resamples).
    which : (steps, width) int: the matrix each query reads, in ``0 .. m - 1``.
    idx : (steps, width, K) int: as in :func:`fisherz_batch`.

    Returns
    -------
    (steps, width, 2) array: as :func:`fisherz_batch`, each query on its own matrix; the
    arithmetic per query is the same (:func:`_partial_correlations`).
    """
    TRACE_COUNTS["fisherz_stacked_batch"] += 1
    p = corrs.shape[-1]
    valid = idx >= 0
    ids = jnp.where(valid, idx, 0)
    sub = jnp.take(corrs.ravel(), which[..., None, None] * (p * p) + ids[..., :, None] * p + ids[..., None, :])
    return sweep_submatrices(sub, valid, xp=jnp, fori_loop=lax.fori_loop)


# --------------------------------------------------------------------------- #
# exact KCI
# --------------------------------------------------------------------------- #
def _uncond_moments(kx, ky):
    """HSIC statistic and gamma moments from centred ``(n, n)`` kernels ``kx``, ``ky``."""
    n = kx.shape[0]
    stat = jnp.sum(kx * ky)
    mean = jnp.trace(kx) * jnp.trace(ky) / n
    var = 2.0 * jnp.sum(kx * kx) * jnp.sum(ky * ky) / (n * n)
    return jnp.stack([stat, mean, var])


def _cond_moments(kxr, kyr):
    """KCI statistic and gamma moments from centred, Z-residualised ``(n, n)`` kernels.

    The mean ``sum(diag(KxR) * diag(KyR))`` and variance ``2 * sum((KxR * KyR)**2)``
    are the trace and twice the squared Frobenius norm of ``W W^T`` where the rows of
    ``W`` are ``u_t (x) v_t`` for factors ``KxR = U U^T`` and ``KyR = V V^T``.
    """
    prod = kxr * kyr
    stat = jnp.sum(prod)
    mean = jnp.sum(jnp.diagonal(kxr) * jnp.diagonal(kyr))
    var = 2.0 * jnp.sum(prod * prod)
    return jnp.stack([stat, mean, var])


@partial(jit, static_argnames=("median",))
def kci_uncond_batch(data, theta, sub, qx, qy, *, median):
    """Unconditional KCI (HSIC with gamma null) for a batch of pairs.

    Parameters
    ----------
    data : (n, p) standardised data.
    qx, qy : (steps, width) int column indices.
    theta : scalar inverse squared kernel width (used unless ``median``).
    sub : (s,) int rows used by the median heuristic.
    median : bool, static; use the median heuristic per variable.

    Returns
    -------
    (steps, width, 3): statistic, null mean, null variance.
    """
    TRACE_COUNTS["kci_uncond_batch"] += 1

    def one(ix, iy):
        x = data[:, ix][:, None]
        y = data[:, iy][:, None]
        tx = median_theta(x, sub) if median else theta
        ty = median_theta(y, sub) if median else theta
        return _uncond_moments(center_gram(gaussian_gram(x, tx)), center_gram(gaussian_gram(y, ty)))

    return _map_batched(one, qx, qy)


@partial(jit, static_argnames=("median",))
def kci_cond_batch(data, zsets, theta, eps, sub, qx, qy, qs, *, median):
    """Conditional KCI for a batch of queries sharing ``|S| = k``.

    ``R_Z`` is computed once per distinct conditioning set and shared by the
    queries that use it.

    Parameters
    ----------
    data : (n, p) standardised data.
    zsets : (m, k) int, the distinct conditioning sets.
    qx, qy : (steps, width) int column indices; ``x`` is kernelised as ``[x, z/2]``.
    qs : (steps, width) int index into ``zsets``.
    theta : scalar inverse squared width for the X, Y and Z kernels (unless ``median``).
    eps : scalar ridge of the residual-maker.
    sub : (s,) int rows used by the median heuristic.
    median : bool, static.

    Returns
    -------
    (steps, width, 3): statistic, null mean, null variance.
    """
    TRACE_COUNTS["kci_cond_batch"] += 1
    zs = jnp.transpose(data[:, zsets], (1, 0, 2))  # (m, n, k)

    def rz_of(z):
        tz = median_theta(z, sub) if median else theta
        return residual_maker(z, tz, eps)

    rzs = lax.map(rz_of, zs)  # (m, n, n), sequential to bound memory

    def one(ix, iy, js):
        z = zs[js]
        xa = jnp.concatenate([data[:, ix][:, None], 0.5 * z], axis=1)
        y = data[:, iy][:, None]
        tx = median_theta(xa, sub) if median else theta
        ty = median_theta(y, sub) if median else theta
        r = rzs[js]
        kx = center_gram(gaussian_gram(xa, tx))
        ky = center_gram(gaussian_gram(y, ty))
        return _cond_moments(r @ kx @ r, r @ ky @ r)

    return _map_batched(one, qx, qy, qs)


# --------------------------------------------------------------------------- #
# exact KCI from low-rank factors
# --------------------------------------------------------------------------- #
def pivoted_cholesky(a, theta, tol):
    """Centred low-rank factor of a Gaussian kernel matrix by pivoted Cholesky (numpy).

    Greedy pivoted (incomplete) Cholesky of ``K = exp(-0.5 * theta * ||a_i - a_j||^2)``:
    it stops at the first rank ``r`` whose residual trace ``tr(K - G G^T)`` is at most
    ``tol * tr(K) = tol * n``. Only the ``r`` pivot columns of ``K`` are computed, so
    time is ``O(n r^2)`` and memory ``O(n r)``; ``K`` is never formed.

    Parameters
    ----------
    a : (n, d) numpy array.
    theta : inverse squared kernel width.
    tol : relative residual trace at which to stop.

    Returns
    -------
    (n, r) numpy array ``L = H G`` (columns centred), so that ``L L^T`` approximates
    the centred kernel ``H K H`` with ``tr(H K H - L L^T) <= tol * n``.
    """
    a = np.asarray(a, dtype=np.float64)
    n = a.shape[0]
    resid = np.ones(n)  # diagonal of the residual K - G G^T
    limit = tol * n
    cap = min(n, 64)
    rows = np.empty((cap, n))  # G^T, row-major so that the update is one gemv
    r = 0
    while r < n and resid.sum() > limit:
        i = int(np.argmax(resid))
        if r == cap:
            cap = min(n, 2 * cap)
            grown = np.empty((cap, n))
            grown[:r] = rows[:r]
            rows = grown
        diff = a - a[i]
        col = np.exp(-0.5 * theta * np.einsum("ij,ij->i", diff, diff))
        if r:
            col -= rows[:r, i] @ rows[:r]
        g = col / np.sqrt(resid[i])
        rows[r] = g
        resid -= g * g
        resid[i] = 0.0
        np.maximum(resid, 0.0, out=resid)
        r += 1
    g = rows[:r].T
    return g - g.mean(axis=0, keepdims=True)


def woodbury_factor(factor, eps):
    """``B`` with ``eps (L L^T + eps I)^{-1} = I - B B^T`` (numpy), ``(n, r) -> (n, r)``.

    By the Woodbury identity ``eps (L L^T + eps I)^{-1} = I - L (L^T L + eps I)^{-1} L^T``;
    with the Cholesky factor ``C C^T = L^T L + eps I``, ``B = L C^{-T}``. KCI's
    residual-maker ``R_Z`` is then applied as ``R F = F - B (B^T F)`` in ``O(n r)`` per
    column of ``F``, never as an ``(n, n)`` inverse. ``L^T L + eps I`` has eigenvalues
    at least ``eps``, so the solve is well conditioned.
    """
    r = factor.shape[1]
    chol = np.linalg.cholesky(factor.T @ factor + eps * np.eye(r))
    return scipy.linalg.solve_triangular(chol, factor.T, lower=True).T


@jit
def kci_x_gram(data, x, zcols, zmask, theta):
    """Centred Gaussian kernel matrix of ``[x, z/2]``: one program for every ``|S|`` up to ``K``.

    Parameters
    ----------
    data : (n, p) standardised data.
    x : int scalar, the column of ``x``.
    zcols : (K,) int, the conditioning columns padded to the bucket size ``K`` (any valid
        column in the padded slots).
    zmask : (K,) float, 1 for a conditioning column, 0 for a padded slot.
    theta : scalar inverse squared width.

    Returns
    -------
    (n, n) ``H K H`` with ``K = exp(-0.5 * theta * ||a_i - a_j||^2)``, ``a = [x, z/2]``.

    Notes
    -----
    A padded slot contributes the exact zero ``(0 - 0)^2`` to the squared distances, so
    the result is the same, to the last bit, as without padding, and one compiled program
    serves every conditioning-set size of a search (the distances are one fused pass).
    """
    TRACE_COUNTS["kci_x_gram"] += 1
    col = data[:, x]
    diff = col[:, None] - col[None, :]
    sq = diff * diff
    z = 0.5 * data[:, zcols] * zmask[None, :]  # (n, K), padded columns zero
    for j in range(zcols.shape[0]):  # static: K is a shape
        d = z[:, j][:, None] - z[:, j][None, :]
        sq = sq + d * d
    return center_gram(jnp.exp(-0.5 * theta * sq))


@jit
def kci_cond_group(kx, zfactor, yfactors, yvalid):
    """Conditional KCI moments of the queries ``x _||_ y_i | Z`` that share ``x`` and ``Z``.

    ``R = eps (Kz + eps I)^{-1} = I - B B^T`` (``B`` from :func:`woodbury_factor`) is
    applied without an ``(n, n)`` inverse: ``KxR = R Kx R = Kx - W - W^T`` with
    ``P = Kx B``, ``W = (P - B (B^T P) / 2) B^T``, and ``KyR = Ay Ay^T`` with
    ``Ay = R Ly``. The X kernel (of ``[x, z/2]``, whose numerical rank is a large fraction
    of ``n``) stays dense: ``KxR`` costs about ``4 n^2 rz`` flops (two ``(n, n) x (n, rz)``
    products), once for the group, and each ``y`` ``2 n^2 ry`` more, instead of the
    ``O(n^3)`` inverse and products of the dense path.

    Parameters
    ----------
    kx : (n, n) centred kernel matrix of ``[x, z/2]`` (:func:`kci_x_gram`).
    zfactor : (n, rz) ``B`` of the conditioning set, zero-padded to a rank bucket.
    yfactors : (m, n, ry) centred factors ``Ly`` of the Y kernels, zero-padded.
    yvalid : (m,) bool, a real ``y`` (not padding); padded slots compute nothing.

    Returns
    -------
    (m, 3): statistic ``sum(KxR * KyR)``, null mean ``sum(diag(KxR) * diag(KyR))`` and
    null variance ``2 * sum((KxR * KyR)**2)`` of each ``y`` (zeros for padding).
    """
    TRACE_COUNTS["kci_cond_group"] += 1
    b = zfactor
    p = kx @ b
    w = (p - 0.5 * (b @ (b.T @ p))) @ b.T  # Q B^T
    kxr = kx - w - w.T
    diag = jnp.diagonal(kxr)

    def moments(ly):
        ay = ly - b @ (b.T @ ly)
        prod = kxr * (ay @ ay.T)
        stat = jnp.sum(prod)
        mean = jnp.sum(diag * jnp.sum(ay * ay, axis=1))
        var = 2.0 * jnp.sum(prod * prod)
        return jnp.stack([stat, mean, var])

    def one(q):
        valid, ly = q
        return lax.cond(valid, lambda: moments(ly), lambda: jnp.zeros(3, kx.dtype))

    return lax.map(one, (yvalid, yfactors))


def kci_x_gram_host(data, x: int, zcols, theta: float) -> np.ndarray:
    """numpy twin of :func:`kci_x_gram` (no padding): centred kernel matrix of ``[x, z/2]``, ``(n, n)``."""
    col = data[:, x]
    sq = np.subtract.outer(col, col)
    sq *= sq
    d = np.empty_like(sq)
    for c in zcols:
        z = 0.5 * data[:, c]
        np.subtract.outer(z, z, out=d)
        d *= d
        sq += d
    sq *= -0.5 * theta
    k = np.exp(sq, out=sq)
    colmean = k.mean(axis=0)  # k is symmetric: the row means are the column means
    k -= colmean[None, :]
    k -= colmean[:, None]
    k += colmean.mean()
    return k


def kci_cond_group_host(kx: np.ndarray, zfactor: np.ndarray, yfactors) -> np.ndarray:
    """numpy twin of :func:`kci_cond_group`: the moments ``(m, 3)`` of the queries sharing ``x`` and ``Z``.

    ``yfactors`` is a list of the ``(n, ry)`` factors (unpadded). The same arithmetic (about
    ``4 n^2 rz + 2 n^2 ry`` flops), without compilation: for small ``n`` compiling a program per
    rank bucket costs more than the products themselves.
    """
    b = zfactor
    p = kx @ b
    w = (p - 0.5 * (b @ (b.T @ p))) @ b.T
    kxr = kx - w - w.T
    diag = np.diagonal(kxr)
    out = np.empty((len(yfactors), 3))
    for i, ly in enumerate(yfactors):
        ay = ly - b @ (b.T @ ly)
        prod = kxr * (ay @ ay.T)
        out[i] = (prod.sum(), np.sum(diag * np.einsum("ij,ij->i", ay, ay)), 2.0 * np.sum(prod * prod))
    return out


def kci_uncond_factor_host(factors: dict, xs, ys, n: int) -> np.ndarray:
    """Unconditional KCI (HSIC, gamma null) from low-rank factors, with numpy.

    Parameters
    ----------
    factors : dict ``column -> (n, r)`` centred kernel factor ``L`` (``L L^T = H K H``).
    xs, ys : (B,) int columns of each pair.
    n : the number of rows.

    Returns
    -------
    (B, 3): statistic ``||Lx^T Ly||^2``, null mean ``||Lx||^2 ||Ly||^2 / n`` and null
    variance ``2 ||Lx^T Lx||^2 ||Ly^T Ly||^2 / n^2``: the trace identities of
    :func:`kci_uncond_batch` from ``(r, r)`` products, ``O(n r^2)`` per pair. With ranks
    of a few tens this is BLAS work of milliseconds that a compiled program would not
    repay; the pairs sharing ``x`` are one matrix product.
    """
    trace = {c: float(np.sum(f * f)) for c, f in factors.items()}
    frob = {c: float(np.sum((f.T @ f) ** 2)) for c, f in factors.items()}
    out = np.empty((len(xs), 3))
    xs, ys = np.asarray(xs), np.asarray(ys)
    for x in np.unique(xs):
        members = np.flatnonzero(xs == x)
        lys = [factors[int(y)] for y in ys[members]]
        cross = factors[int(x)].T @ np.concatenate(lys, axis=1)  # (rx, sum of ry)
        ends = np.cumsum([f.shape[1] for f in lys])
        for q, block in zip(members, np.split(cross, ends[:-1], axis=1)):
            y = int(ys[q])
            out[q] = (np.sum(block * block), trace[int(x)] * trace[y] / n, 2.0 * frob[int(x)] * frob[y] / (n * n))
    return out


# --------------------------------------------------------------------------- #
# low-rank KCI
# --------------------------------------------------------------------------- #
def _features(a, theta, landmarks, omega, phase, kind):
    """Centred low-rank features ``Phi`` (``(n, m)``) with ``Phi Phi^T ~ H K H``.

    ``kind`` (static) is ``"nystrom"`` (``landmarks``: ``(m,)`` row indices) or
    ``"rff"`` (``omega``: ``(d, m)`` standard normal draws, ``phase``: ``(m,)``
    uniform on ``[0, 2 pi)``).
    """
    if kind == "nystrom":
        lm = a[landmarks]
        kmm = jnp.exp(-0.5 * theta * sq_dists(lm))
        knm = jnp.exp(-0.5 * theta * sq_dists_cross(a, lm))
        s, u = jnp.linalg.eigh(kmm)
        keep = s > 1e-10 * s[-1]
        inv_sqrt = jnp.where(keep, 1.0 / jnp.sqrt(jnp.where(keep, s, 1.0)), 0.0)
        phi = (knm @ u) * inv_sqrt[None, :]
    else:
        m = omega.shape[1]
        phi = jnp.sqrt(2.0 / m) * jnp.cos(jnp.sqrt(theta) * (a @ omega) + phase[None, :])
    return phi - jnp.mean(phi, axis=0, keepdims=True)


def _sym_square_features(a):
    """Rows ``u_t`` with ``u_s . u_t = (a_s . a_t)^2``: ``(n, r) -> (n, r (r + 1) / 2)``.

    ``(a_s . a_t)^2 = sum_{i,k} a_si a_sk a_ti a_tk``; the symmetric pairs ``i < k``
    are kept once with weight ``sqrt(2)``.
    """
    r = a.shape[1]
    iu, ku = jnp.triu_indices(r)
    w = jnp.where(iu == ku, 1.0, jnp.sqrt(2.0)).astype(a.dtype)
    return a[:, iu] * a[:, ku] * w[None, :]


def _kron_gram_sq_norm(a, b, block):
    """``||W^T W||_F^2`` with ``W[t] = a[t] (x) b[t]``, without forming ``W``.

    ``||W^T W||_F^2 = sum_{s,t} (a_s . a_t)^2 (b_s . b_t)^2 = ||U^T V||_F^2`` with the
    symmetric square features ``U``, ``V`` of ``a`` and ``b`` (:func:`_sym_square_features`):
    ``O(n ra^2 rb^2 / 4)`` flops instead of ``O(n ra^2 rb^2)`` for ``W^T W``. ``a`` is
    ``(n, ra)``, ``b`` ``(n, rb)``; rows are accumulated in blocks of ``block`` (static),
    so memory is ``O(block (ra^2 + rb^2) + ra^2 rb^2 / 4)``.
    """
    n = a.shape[0]
    nb = -(-n // block)
    pad = nb * block - n
    a = jnp.pad(a, ((0, pad), (0, 0))).reshape(nb, block, a.shape[1])
    b = jnp.pad(b, ((0, pad), (0, 0))).reshape(nb, block, b.shape[1])
    ma = a.shape[2] * (a.shape[2] + 1) // 2
    mb = b.shape[2] * (b.shape[2] + 1) // 2

    def step(acc, ab):
        return acc + _sym_square_features(ab[0]).T @ _sym_square_features(ab[1]), None

    cross, _ = lax.scan(step, jnp.zeros((ma, mb), a.dtype), (a, b))
    return jnp.sum(cross * cross)


@partial(jit, static_argnames=("median", "kind"))
def lowrank_uncond_batch(data, theta, sub, landmarks, omega, phase, qx, qy, qvalid, *, median, kind):
    """Low-rank unconditional KCI for a batch of pairs; never forms an ``(n, n)`` matrix.

    Parameters
    ----------
    data : (n, p) standardised data.
    qx, qy : (steps, width) int column indices.
    theta, sub, median : as in :func:`kci_uncond_batch`.
    landmarks : (m,) int Nystrom landmark rows.
    omega : (2, 1, m) random-feature frequencies for X and Y; phase : (2, m).
    qvalid : (steps, width) bool; padding steps (unset) are skipped and return zeros.
    kind : ``"nystrom"`` or ``"rff"`` (static).

    Returns
    -------
    (steps, width, 3): statistic, null mean, null variance, computed from ``(m, m)``
    matrices: ``||Px^T Py||^2``, ``||Px||^2 ||Py||^2 / n`` and
    ``2 ||Px^T Px||^2 ||Py^T Py||^2 / n^2``.
    """
    TRACE_COUNTS["lowrank_uncond_batch"] += 1
    n = data.shape[0]

    def one(ix, iy):
        x = data[:, ix][:, None]
        y = data[:, iy][:, None]
        tx = median_theta(x, sub) if median else theta
        ty = median_theta(y, sub) if median else theta
        px = _features(x, tx, landmarks, omega[0], phase[0], kind)
        py = _features(y, ty, landmarks, omega[1], phase[1], kind)
        stat = jnp.sum((px.T @ py) ** 2)
        mean = jnp.sum(px * px) * jnp.sum(py * py) / n
        var = 2.0 * jnp.sum((px.T @ px) ** 2) * jnp.sum((py.T @ py) ** 2) / (n * n)
        return jnp.stack([stat, mean, var])

    return _map_masked(one, qvalid, qx, qy)


def _principal(a, r):
    """The ``r`` leading principal directions of ``a`` (``(n, m) -> (n, r)``).

    ``a a^T`` is approximated by ``b b^T`` with ``b = a V_r``, ``V_r`` the top
    eigenvectors of the ``(m, m)`` matrix ``a^T a``.
    """
    _, v = jnp.linalg.eigh(a.T @ a)
    return a @ v[:, -r:]


@partial(jit, static_argnames=("median", "kind", "block", "var_rank"))
def lowrank_cond_batch(
    data, zsets, theta, eps, sub, landmarks, omega_x, omega_y, omega_z, phase, qx, qy, qs, qvalid, *, median, kind,
    block, var_rank,
):
    """Low-rank conditional KCI; memory and time linear in ``n``.

    ``R_Z`` is applied by the Woodbury identity,
    ``eps (Pz Pz^T + eps I)^{-1} F = F - Pz (Pz^T Pz + eps I)^{-1} Pz^T F``,
    i.e. ridge residuals of the features ``F`` on Z's features ``Pz``.

    Parameters
    ----------
    data : (n, p); zsets : (m_sets, k); qx, qy, qs : (steps, width) int.
    qvalid : (steps, width) bool; padding steps (unset) are skipped and return zeros.
    theta, eps, sub, median : as in :func:`kci_cond_batch`.
    landmarks : (m,) int; omega_x : (k + 1, m); omega_y : (1, m); omega_z : (k, m);
    phase : (3, m).
    kind : ``"nystrom"`` or ``"rff"`` (static); block : rows per accumulation step.
    var_rank : static; the null variance ``2 ||W^T W||^2`` (``W[t] = a_t (x) b_t``)
        uses the ``var_rank`` leading principal directions of the residualised
        features, so it costs ``O(n var_rank^4 / 4)`` (see :func:`_kron_gram_sq_norm`).

    Returns
    -------
    (steps, width, 3): statistic, null mean, null variance.
    """
    TRACE_COUNTS["lowrank_cond_batch"] += 1
    zs = jnp.transpose(data[:, zsets], (1, 0, 2))  # (m_sets, n, k)

    def z_factor(z):
        tz = median_theta(z, sub) if median else theta
        pz = _features(z, tz, landmarks, omega_z, phase[2], kind)
        m = pz.shape[1]
        chol = jax.scipy.linalg.cho_factor(pz.T @ pz + eps * jnp.eye(m, dtype=pz.dtype), lower=True)
        return pz, chol[0]

    pzs, chols = lax.map(z_factor, zs)

    def one(ix, iy, js):
        z = zs[js]
        pz, chol = pzs[js], chols[js]
        xa = jnp.concatenate([data[:, ix][:, None], 0.5 * z], axis=1)
        y = data[:, iy][:, None]
        tx = median_theta(xa, sub) if median else theta
        ty = median_theta(y, sub) if median else theta
        px = _features(xa, tx, landmarks, omega_x, phase[0], kind)
        py = _features(y, ty, landmarks, omega_y, phase[1], kind)

        def resid(f):
            return f - pz @ jax.scipy.linalg.cho_solve((chol, True), pz.T @ f)

        ax, ay = resid(px), resid(py)
        stat = jnp.sum((ax.T @ ay) ** 2)
        mean = jnp.sum(jnp.sum(ax * ax, axis=1) * jnp.sum(ay * ay, axis=1))
        var = 2.0 * _kron_gram_sq_norm(_principal(ax, var_rank), _principal(ay, var_rank), block)
        return jnp.stack([stat, mean, var])

    return _map_masked(one, qvalid, qx, qy, qs)


# --------------------------------------------------------------------------- #
# chi-square / G-square
# --------------------------------------------------------------------------- #
@partial(jit, static_argnames=("n_strata", "cx", "cy", "gsq"))
def discrete_batch(codes, qx, qy, qs, mult, *, n_strata, cx, cy, gsq):
    """Stratified chi-square or G-square statistics for a batch of queries.

    Parameters
    ----------
    codes : (n, p) int, each column coded ``0 .. card - 1``.
    qx, qy : (steps, width) int column indices.
    qs : (steps, width, k) int conditioning columns (``k`` may be 0).
    mult : (steps, width, k) int mixed-radix multipliers of the conditioning
        columns, so ``sum(codes[:, S] * mult)`` enumerates the configurations.
    n_strata : static upper bound on the number of observed configurations.
    cx, cy : static table sizes (at least the largest cardinality of ``x`` / ``y``).
    gsq : static; G-square instead of chi-square.

    Returns
    -------
    (steps, width, 2): statistic and degrees of freedom. Degrees of freedom sum
    ``(cx - 1 - empty rows) * (cy - 1 - empty columns)`` over the non-empty
    strata (padding rows and columns count as empty and cancel out).
    """
    TRACE_COUNTS["discrete_batch"] += 1
    n = codes.shape[0]

    def one(ix, iy, s_cols, s_mult):
        key = jnp.sum(codes[:, s_cols] * s_mult[None, :], axis=1)  # (n,)
        order = jnp.argsort(key)
        sk = key[order]
        new = jnp.concatenate([jnp.zeros((1,), sk.dtype), (sk[1:] != sk[:-1]).astype(sk.dtype)])
        stratum = jnp.zeros((n,), sk.dtype).at[order].set(jnp.cumsum(new))
        flat = (stratum * cx + codes[:, ix]) * cy + codes[:, iy]
        counts = jnp.zeros((n_strata * cx * cy,), codes.dtype).at[flat].add(1)
        c = counts.reshape(n_strata, cx, cy).astype(jnp.float64)
        sx = jnp.sum(c, axis=2)
        sy = jnp.sum(c, axis=1)
        sm = jnp.sum(sx, axis=1)
        e = sx[:, :, None] * sy[:, None, :] / jnp.where(sm > 0, sm, 1.0)[:, None, None]
        e_safe = jnp.where(e == 0, 1.0, e)
        if gsq:
            ratio = jnp.where(c > 0, c / e_safe, 1.0)
            stat = 2.0 * jnp.sum(c * jnp.log(ratio))
        else:
            stat = jnp.sum((c - e) ** 2 / e_safe)
        zero_rows = jnp.sum(sx == 0, axis=1)
        zero_cols = jnp.sum(sy == 0, axis=1)
        df = jnp.sum(jnp.where(sm > 0, (cx - 1 - zero_rows) * (cy - 1 - zero_cols), 0))
        return jnp.stack([stat, df.astype(jnp.float64)])

    return _map_batched(one, qx, qy, qs, mult)
