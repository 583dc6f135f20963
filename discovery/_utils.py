"""Small helpers shared by the discovery families (no JAX here: see :mod:`discovery._jax`).

Importing this module imports numpy only (not :mod:`scm`), so the command line can use
:func:`first_line` without slowing ``scmkit --help``.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

__all__ = [
    "adjust_pvalues", "center_scale", "ensure_directory", "first_line", "next_pow2", "prf", "progress", "progress_bar", "slug",
    "standardize",
]


def next_pow2(k: int) -> int:
    """The smallest power of two ``>= k`` (1 for ``k <= 1``): the padded size of a batch or a set.

    Examples
    --------
    >>> [next_pow2(k) for k in (0, 1, 2, 3, 5, 8)]
    [1, 1, 2, 4, 8, 8]
    """
    return 1 << max(0, int(k) - 1).bit_length()


def prf(tp: int, fp: int, fn: int) -> dict:
    """Precision, recall and F1 from true positives, false positives and false negatives (0 where undefined).

    Examples
    --------
    >>> prf(3, 1, 2)
    {'precision': 0.75, 'recall': 0.6, 'f1': 0.6666666666666665}
    """
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": prec, "recall": rec, "f1": f1}


def adjust_pvalues(pvalues, method: str = "bh") -> np.ndarray:
    """Adjusted p-values of a family of tests: Benjamini-Hochberg (``"bh"``) or Holm (``"holm"``).

    ``"bh"`` controls the false discovery rate (the expected share of false rejections among
    the rejections; valid for independent or positively dependent tests), ``"holm"`` the
    family-wise error rate (the probability of any false rejection; valid under any
    dependence). Rejecting the tests whose adjusted p-value is at most ``alpha`` keeps that
    rate at ``alpha``. Both are monotone in the raw p-values and capped at 1.

    Parameters
    ----------
    pvalues : array_like of shape (m,)
    method : {"bh", "holm"}

    Returns
    -------
    numpy.ndarray of shape (m,)

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.5], "holm")
    array([0.04, 0.09, 0.09, 0.5 ])
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.5], "bh")
    array([0.04      , 0.05333333, 0.05333333, 0.5       ])
    """
    p = np.asarray(pvalues, dtype=float).reshape(-1)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "bh":
        adj = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise ValueError(f"unknown adjustment {method!r}; expected 'bh' or 'holm'")
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def slug(text) -> str:
    """``text`` as a short file-name-safe string (at most 60 characters, never empty).

    Examples
    --------
    >>> slug("pc / fisherz, alpha=0.01")
    'pc-fisherz-alpha-0.01'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-")[:60] or "x"


def first_line(text, limit: int | None = None) -> str:
    """The first non-empty line of ``text`` (an exception's message, say), cut to ``limit`` characters.

    Examples
    --------
    >>> first_line("  bad value\\nTraceback ...")
    'bad value'
    >>> first_line("x" * 10, limit=8)
    'xxxxx...'
    """
    line = (str(text).strip().splitlines() or [""])[0]
    if limit is not None and len(line) > limit:
        line = line[: limit - 3] + "..."
    return line


def center_scale(x: np.ndarray, names: list, *, owner: str, max_abs: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of ``x``, computed without overflow.

    Each column is divided by its largest magnitude before its moments are taken, so
    data near the top of the float64 range give finite moments instead of ``inf``
    (which would turn a z-scored column into zeros). ``max_abs`` is the largest
    standard deviation the caller can work with (e.g. the square root of the largest
    float64 for a covariance); above it a ``DataError`` names the column.

    Examples
    --------
    >>> loc, scale = center_scale(np.array([[1e200], [3e200]]), ["a"], owner="demo")
    >>> float(loc[0]), float(scale[0])
    (2e+200, 1e+200)
    """
    from scm._exceptions import DataError

    with np.errstate(over="raise", invalid="raise"):
        try:
            a = np.abs(x).max(axis=0)
            a = np.where(a > 0, a, 1.0)
            loc = a * (x / a).mean(axis=0)
            dev = x - loc
            b = np.abs(dev).max(axis=0)
            b = np.where(b > 0, b, 1.0)
            scale = b * np.sqrt(((dev / b) ** 2).mean(axis=0))
        except FloatingPointError:
            scale = np.full(x.shape[1], np.inf)
            loc = np.zeros(x.shape[1])
    bad = ~np.isfinite(scale) | ((scale > max_abs) if max_abs is not None else False)
    if np.any(bad):
        j = int(np.flatnonzero(bad)[0])
        limit = f"{max_abs:.3g}" if max_abs is not None else "the float64 range"
        raise DataError(
            f"{owner}: column {names[j]!r} has values too large to fit (standard deviation "
            f"{scale[j]:.3g}, above {limit}); rescale the data"
        )
    return loc, scale


def standardize(x: np.ndarray, names: list, *, owner: str, ddof: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The z-scores of the columns of ``x``, with moments from :func:`center_scale`.

    What the scale-invariant statistics and scale-equivariant estimates of
    ``discovery`` run on, so that multiplying a column by ``10**k`` changes their
    inputs only by rounding, whatever ``k`` (the raw values would overflow the
    squares and cross products of a covariance near ``10**154``, or drown the other
    columns in a least-squares solve). Estimates on the z-scores are mapped back with
    ``loc`` and ``scale``.

    Parameters
    ----------
    x : ndarray of shape (n, p)
        Finite values.
    names : list
        The column names, for the errors.
    owner : str
        The estimator or test named in the errors.
    ddof : int, default 0
        Delta degrees of freedom of the standard deviation (1: the sample standard
        deviation).

    Returns
    -------
    z : ndarray of shape (n, p)
        ``(x - loc) / scale``; a constant column gives zeros.
    loc, scale : ndarray of shape (p,)
        The column means and standard deviations (``scale`` is 0 for a constant column).

    Raises
    ------
    scm.DataError
        A column whose spread does not fit in float64 (values of both signs near the
        largest float), named.

    Examples
    --------
    >>> z, loc, scale = standardize(np.array([[1e300, 1.0], [3e300, 3.0]]), ["a", "b"], owner="demo")
    >>> z.tolist(), scale.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [1e+300, 1.0])
    """
    x = np.asarray(x, dtype=np.float64)
    loc, scale = center_scale(x, names, owner=owner)
    n = x.shape[0]
    if ddof and n > ddof:
        scale = scale * np.sqrt(n / (n - ddof))
    safe = np.where(scale > 0, scale, 1.0)
    return (x - loc) / safe, loc, scale


def ensure_directory(path, *, name: str, owner: str, create: bool = True) -> pathlib.Path:
    """``path`` as a directory (created with its parents when ``create``), or a ``ParameterError``.

    A path that exists but is a file (or has a file among its parents) is refused with
    an error naming the parameter, instead of the ``FileExistsError`` of ``mkdir``.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = ensure_directory(os.path.join(tmp, "a", "b"), name="directory", owner="demo")
    ...     path.is_dir()
    True
    """
    from scm._exceptions import ParameterError

    out = pathlib.Path(path)
    for part in (out, *out.parents):
        if part.exists() and not part.is_dir():
            what = "is a file" if part == out else f"is inside {str(part)!r}, which is a file"
            raise ParameterError(f"The {name!r} parameter of {owner} must be a directory; {str(out)!r} {what}.")
    if create:
        out.mkdir(parents=True, exist_ok=True)
    return out


def progress(iterable, enabled: bool, **kwargs):
    """Wrap ``iterable`` in a tqdm bar when ``enabled`` (tqdm is imported only then)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


class _NoBar:
    """What :func:`progress_bar` gives when disabled: the calls of a tqdm bar, doing nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def set_postfix_str(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(enabled: bool, **kwargs):
    """A manual tqdm bar (``update``, ``set_postfix``, ``close``) when ``enabled``, else a silent stand-in.

    For loops whose steps are not the items of an iterable (training chunks, futures
    as they complete); tqdm is imported only when a bar is shown.

    Examples
    --------
    >>> bar = progress_bar(False, total=3)
    >>> bar.update(); bar.close()
    """
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(**kwargs)

