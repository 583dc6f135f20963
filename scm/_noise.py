"""Noise distributions of structural causal models.

A noise object draws ``n`` independent values with ``sample(n, rng)`` and knows its
``mean`` and ``var`` (used by the closed-form answers of linear models). Any frozen
``scipy.stats`` distribution is accepted too and wrapped by :func:`as_noise`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._exceptions import DataError, ParameterError
from ._validation import check_real

__all__ = ["Noise", "Gaussian", "Uniform", "Laplace", "Empirical", "ScipyNoise", "as_noise"]


def _is_real(value) -> bool:
    """A finite real number (a 0-d array included; not a bool or a string)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and bool(np.isfinite(value))


class Noise:
    """Base class: a univariate distribution of exogenous noise."""

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def var(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Gaussian(Noise):
    """Normal noise ``N(mean, std**2)``.

    Examples
    --------
    >>> import numpy as np
    >>> Gaussian(std=2.0).sample(3, np.random.default_rng(0)).shape
    (3,)
    """

    def __init__(self, std: float = 1.0, mean: float = 0.0):
        if not _is_real(std) or std < 0:
            raise ParameterError(f"Gaussian std must be a finite number >= 0; got {std!r}")
        self.std = float(std)
        self.loc = check_real(mean, name="mean", owner="Gaussian")

    def sample(self, n, rng):
        return rng.normal(self.loc, self.std, size=n)

    @property
    def mean(self):
        return self.loc

    @property
    def var(self):
        return self.std**2


class Uniform(Noise):
    """Uniform noise on ``[low, high)``."""

    def __init__(self, low: float = -1.0, high: float = 1.0):
        if not (_is_real(low) and _is_real(high)) or high <= low:
            raise ParameterError(f"Uniform needs finite low < high; got low={low!r}, high={high!r}")
        self.low, self.high = float(low), float(high)

    def sample(self, n, rng):
        return rng.uniform(self.low, self.high, size=n)

    @property
    def mean(self):
        return 0.5 * (self.low + self.high)

    @property
    def var(self):
        return (self.high - self.low) ** 2 / 12.0


class Laplace(Noise):
    """Laplace noise with location ``mean`` and ``scale`` (variance ``2 scale**2``)."""

    def __init__(self, scale: float = 1.0, mean: float = 0.0):
        if not _is_real(scale) or scale <= 0:
            raise ParameterError(f"Laplace scale must be a finite number > 0; got {scale!r}")
        self.scale = float(scale)
        self.loc = check_real(mean, name="mean", owner="Laplace")

    def sample(self, n, rng):
        return rng.laplace(self.loc, self.scale, size=n)

    @property
    def mean(self):
        return self.loc

    @property
    def var(self):
        return 2.0 * self.scale**2


class Empirical(Noise):
    """Resample a fixed set of values (e.g. the residuals of a fitted mechanism)."""

    def __init__(self, values):
        try:
            values = np.asarray(values, dtype=float).ravel()
        except (TypeError, ValueError):
            raise DataError(f"Empirical noise needs numbers; got {type(values).__name__} with non-numeric values") from None
        if values.size == 0 or not np.isfinite(values).all():
            raise DataError("Empirical noise needs at least one finite value")
        self.values = values

    def sample(self, n, rng):
        return rng.choice(self.values, size=n, replace=True)

    @property
    def mean(self):
        return float(self.values.mean())

    @property
    def var(self):
        return float(self.values.var())

    def __repr__(self) -> str:
        a = float(np.abs(self.values).max()) or 1.0  # the std without overflow, for values near the float64 range
        return f"Empirical(n_values={self.values.size}, mean={self.mean:.3g}, std={a * float(np.std(self.values / a)):.3g})"


class ScipyNoise(Noise):
    """Wrap a frozen ``scipy.stats`` distribution."""

    def __init__(self, dist):
        if not (hasattr(dist, "rvs") and hasattr(dist, "mean") and hasattr(dist, "var")):
            raise ParameterError(f"expected a frozen scipy.stats distribution; got {dist!r}")
        self.dist = dist

    def sample(self, n, rng):
        return np.asarray(self.dist.rvs(size=n, random_state=rng), dtype=float)

    @property
    def mean(self):
        return float(self.dist.mean())

    @property
    def var(self):
        return float(self.dist.var())


def is_distribution(obj) -> bool:
    """Whether ``obj`` can be used as a noise distribution."""
    return isinstance(obj, Noise) or (hasattr(obj, "rvs") and hasattr(obj, "mean") and hasattr(obj, "var"))


def as_noise(obj, *, name: str = "noise") -> Noise:
    """Turn a Noise, a frozen scipy distribution or a number (Gaussian std) into a Noise."""
    if isinstance(obj, Noise):
        return obj
    if hasattr(obj, "rvs") and hasattr(obj, "mean") and hasattr(obj, "var"):
        return ScipyNoise(obj)
    if isinstance(obj, (int, float, np.floating, np.integer)) and not isinstance(obj, bool):
        return Gaussian(std=float(obj))
    raise ParameterError(
        f"{name} must be a scmkit noise (Gaussian, Uniform, Laplace, Empirical), a frozen scipy.stats "
        f"distribution or a number (the std of Gaussian noise); got {obj!r}"
    )
