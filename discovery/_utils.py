"""Small helpers shared by the discovery families (no JAX here: see :mod:`discovery._jax`).

Importing this module imports numpy only (not :mod:`scm`), so the command line can use
:func:`first_line` without slowing ``scmkit --help``.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["center_scale", "first_line", "next_pow2", "prf", "progress", "progress_bar", "slug"]


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

