"""Kullback-Leibler divergences of one-dimensional distributions: Gaussian closed form and the k-NN estimator.

- :func:`gaussian_kl`: ``KL(N(m0, v0) || N(m1, v1))`` exactly, elementwise over arrays.
- :func:`knn_kl`: the nearest-neighbour estimator of Wang, Kulkarni and Verdú (2009) with ``k = 1``
  in one dimension, ``mean(log(nu / rho)) + log(m / (n - 1))`` (``rho``: distance of a draw of
  ``P`` to its nearest other draw of ``P``; ``nu``: to its nearest draw of ``Q``), for many pairs of
  samples at once (one pair per row). The draws of ``P`` equal to a draw of ``Q`` are left out (as
  DoWhy-GCM does), and a draw of ``P`` repeated within ``P`` is measured to its nearest *distinct*
  neighbour, so resampled (discrete) noise gives finite answers. Estimates are not clipped at 0:
  a difference of two estimates (what the Shapley set functions use) then stays unbiased in sign.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_kl", "knn_kl"]


def gaussian_kl(m0, v0, m1, v1) -> np.ndarray:
    """``KL(N(m0, v0) || N(m1, v1))`` in nats (variances, not standard deviations), elementwise.

    Examples
    --------
    >>> float(gaussian_kl(0.0, 1.0, 0.0, 1.0)), round(float(gaussian_kl(0.0, 1.0, 1.0, 1.0)), 3)
    (0.0, 0.5)
    >>> round(float(gaussian_kl(0.0, 1.0, 0.0, 4.0)), 4)  # (log 4 + 1/4 - 1) / 2
    0.3181
    """
    m0, v0, m1, v1 = (np.asarray(x, dtype=float) for x in (m0, v0, m1, v1))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * (np.log(v1 / v0) + (v0 + (m0 - m1) ** 2) / v1 - 1.0)
    same = (v0 == v1) & (m0 == m1)
    return np.where(same, 0.0, out)


def _knn_kl_row(x: np.ndarray, y: np.ndarray) -> float:
    ys = np.sort(y)
    x = x[~np.isin(x, ys)]
    xu, inverse = np.unique(x, return_inverse=True)
    if len(x) < 2 or len(xu) < 2:
        return 0.0
    gaps = np.diff(xu)
    rho = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])[inverse.ravel()]
    i = np.searchsorted(ys, x)
    left = np.where(i > 0, x - ys[np.maximum(i - 1, 0)], np.inf)
    right = np.where(i < len(ys), ys[np.minimum(i, len(ys) - 1)] - x, np.inf)
    nu = np.minimum(left, right)
    return float(np.mean(np.log(nu / rho)) + np.log(len(ys) / (len(x) - 1)))


def knn_kl(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """The 1-NN estimate of ``KL(P || Q)`` for each row: ``P`` of shape ``(r, n)`` or ``(n,)``, ``Q`` ``(r, m)`` or ``(m,)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> P, Q = rng.normal(0, 1, (20, 2000)), rng.normal(1, 1, (20, 2000))
    >>> est = knn_kl(P, Q)  # 20 estimates of KL(N(0, 1) || N(1, 1)) = 0.5
    >>> est.shape, bool(abs(est.mean() - 0.5) < 4 * est.std() / np.sqrt(20))
    ((20,), True)
    """
    P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)
    if P.ndim == 1:
        return np.asarray(_knn_kl_row(P, Q))
    P, Q = np.broadcast_to(P, (max(len(P), len(Q)), P.shape[1])), np.broadcast_to(Q, (max(len(P), len(Q)), Q.shape[1]))
    return np.array([_knn_kl_row(p, q) for p, q in zip(P, Q)])
