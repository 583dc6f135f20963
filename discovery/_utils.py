"""Small helpers shared by the discovery algorithms."""

from __future__ import annotations

__all__ = ["progress"]


def progress(iterable, enabled: bool, **kwargs):
    """Wrap ``iterable`` in a tqdm bar when ``enabled`` (tqdm is imported only then)."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
