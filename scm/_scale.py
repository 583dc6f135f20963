"""Scale-safe arithmetic: moments, dot products and least squares that neither overflow nor underflow.

Data whose columns are multiplied by ``10**k`` (``k`` up to about 150 either way) must give
estimates that rescale exactly: coefficients, effects and intervals by the factor, standardised
quantities not at all. Naive moments square the data (``1e300 ** 2`` is ``inf``, ``1e-300 ** 2``
is ``0``), and least squares on columns of wildly different scales drops the small ones as
"numerically rank deficient". The helpers here avoid both:

- every value is divided by a power of two near its column's largest magnitude before it is
  squared or summed, and the result multiplied back. Scaling by a power of two is exact in
  floating point, so on ordinary data these give *bit for bit* what the naive formula gives,
  and on extreme data a finite answer instead of ``inf`` or ``0``;
- least squares runs on centred and standardised columns and maps the answer back.

Used by :func:`scm.fit_scm` and by the effect estimators of :mod:`estimators`; the scikit-learn
estimators built on them are in :mod:`scm._sklearn` (apart, so that ``import scm`` does not import
scikit-learn).
"""

from __future__ import annotations

import numpy as np

from ._exceptions import DataError

__all__ = ["pow2", "center_scale", "standardise", "safe_std", "safe_dot", "standardised_lstsq"]

_TINY = np.finfo(float).tiny


def pow2(magnitude) -> np.ndarray:
    """The smallest power of two ``>= magnitude`` (1 where the magnitude is 0 or not finite).

    Dividing by it is exact and brings the magnitude into ``(0.5, 1]`` (``(1, 2)`` above
    ``2**1023``, the largest power of two of float64).

    Examples
    --------
    >>> pow2(np.array([3.0, 0.0, 1e300])).tolist()[:2]
    [4.0, 1.0]
    """
    m = np.asarray(magnitude, dtype=float)
    ok = np.isfinite(m) & (m > 0)
    _, e = np.frexp(np.where(ok, m, 1.0))
    # 2**1024 is not a float64: above 2**1023 the quotient is left in (1, 2].
    return np.where(ok, np.ldexp(1.0, np.minimum(e, 1023)), 1.0)


def center_scale(x, names=None, *, owner: str = "data", what: str = "column") -> tuple[np.ndarray, np.ndarray]:
    """Column means and (population) standard deviations of ``x`` without overflow or underflow.

    Each column is divided by a power of two near its largest magnitude before its moments are
    taken, so the answer equals ``x.mean(axis=0), x.std(axis=0)`` bit for bit where those are
    finite and accurate, and stays finite and accurate for columns near the ends of the float64
    range. A constant column has standard deviation 0.

    Parameters
    ----------
    x : array of shape (n, k) or (n,)
    names : sequence, optional
        The columns' names, for the error message.
    owner, what : str
        Who asks and what a column is, for the error message.

    Returns
    -------
    loc, scale : arrays of shape (k,) (scalars for a 1-D ``x``)

    Raises
    ------
    DataError
        If a column's spread exceeds the float64 range (values of both signs near 1.8e308).

    Examples
    --------
    >>> loc, scale = center_scale(np.array([[1e300], [3e300]]))
    >>> float(loc[0]), float(scale[0])
    (2e+300, 1e+300)
    >>> loc, scale = center_scale(np.array([[1e-300], [3e-300]]))
    >>> bool(np.isclose(scale[0], 1e-300, rtol=1e-15, atol=0))
    True
    """
    x = np.asarray(x, dtype=float)
    one_d = x.ndim == 1
    x2 = x[:, None] if one_d else x
    if x2.shape[0] == 0:
        loc, scale = np.zeros(x2.shape[1]), np.zeros(x2.shape[1])
    else:
        # Everything in units of a power of two near each column's largest magnitude (exact scalings):
        # the deviations from the mean are formed there too, so values near +-1.8e308 do not overflow.
        a = pow2(np.abs(x2).max(axis=0))
        xa = x2 / a
        la = xa.mean(axis=0)
        da = xa - la
        b = pow2(np.abs(da).max(axis=0))
        loc = a * la
        with np.errstate(over="ignore", invalid="ignore"):
            scale = a * (b * np.sqrt(((da / b) ** 2).mean(axis=0)))
        bad = ~(np.isfinite(scale) & np.isfinite(loc))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            label = repr(names[j]) if names is not None else str(j)
            raise DataError(
                f"{owner}: {what} {label} spans more than the float64 range (values of both signs near 1.8e308); "
                "rescale it"
            )
    return (loc[0], scale[0]) if one_d else (loc, scale)


def standardise(x, loc, scale):
    """``(x - loc) / scale`` without overflow in the difference (bit for bit the same where that is finite).

    A zero ``scale`` (a constant column) only centres.

    Examples
    --------
    >>> standardise(np.array([1.7e308, -1.7e308]), 0.0, 1.7e308).tolist()
    [1.0, -1.0]
    """
    scale = np.where(np.asarray(scale) > 0, scale, 1.0)
    a = pow2(scale)
    return (np.asarray(x, dtype=float) / a - np.asarray(loc) / a) / (scale / a)


def safe_std(x, *, ddof: int = 0, axis: int = 0):
    """``np.std(x, ddof=ddof, axis=axis)`` without overflow or underflow (bit for bit equal where that is finite).

    Examples
    --------
    >>> float(safe_std(np.array([1e300, -1e300])))  # np.std gives inf
    1e+300
    """
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.std(x, ddof=ddof, axis=axis)
    a = pow2(np.abs(x).max(axis=axis, keepdims=True))
    with np.errstate(over="ignore", invalid="ignore"):
        return np.squeeze(a, axis=axis) * np.std(x / a, ddof=ddof, axis=axis)


def safe_dot(u, v) -> float:
    """``u @ v`` for vectors, with each scaled by a power of two first (inf only if the result itself overflows).

    Examples
    --------
    >>> float(safe_dot(np.array([1e200]), np.array([1e-200])))
    1.0
    """
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    a = pow2(np.abs(u).max(initial=0.0))
    b = pow2(np.abs(v).max(initial=0.0))
    with np.errstate(over="ignore"):
        return float(((u / a) @ (v / b)) * a * b)


def standardised_lstsq(X, y, *, rcond: float | None = None, names=None, y_name=None, owner: str = "least squares"):
    """Least squares with an intercept, solved on centred and standardised columns.

    Parameters
    ----------
    X : array of shape (n, k)
    y : array of shape (n,)
    rcond : float, optional
        As in :func:`numpy.linalg.lstsq` (on the standardised design).
    names, y_name, owner : optional
        The columns' and the response's names and the caller, for the error of a column
        that spans more than the float64 range.

    Returns
    -------
    dict
        ``x_loc``, ``x_scale`` (0 for a constant column), ``y_loc``, ``y_scale``, ``beta`` (the
        coefficients in standardised units: ``(y - y_loc) / y_scale`` on ``(X - x_loc) / x_scale``),
        ``rank`` and ``singular_values`` of the standardised design, and ``resid`` in
        standardised units of ``y``.

    Examples
    --------
    >>> X = np.array([[0.0], [1e300], [2e300]])
    >>> sol = standardised_lstsq(X, np.array([1.0, 3.0, 5.0]))
    >>> bool(np.isclose(sol["beta"][0] * sol["y_scale"] / sol["x_scale"][0], 2e-300, rtol=1e-15, atol=0))
    True
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    x_loc, x_scale = center_scale(X, names, owner=owner)
    y_loc, y_scale = center_scale(y, None if y_name is None else [y_name], owner=owner)
    Xs = standardise(X, x_loc, x_scale)
    Ys = standardise(y, y_loc, y_scale)
    if X.shape[1]:
        beta, _, rank, sv = np.linalg.lstsq(Xs, Ys, rcond=rcond)
    else:
        beta, rank, sv = np.zeros(0), 0, np.zeros(0)
    return {
        "x_loc": x_loc, "x_scale": x_scale, "y_loc": float(y_loc), "y_scale": float(y_scale),
        "beta": beta, "rank": int(rank), "singular_values": sv, "resid": Ys - Xs @ beta,
    }
