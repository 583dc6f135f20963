"""Causal mechanisms: how a node's value arises from its parents and its noise.

A mechanism is called as ``mechanism(parents, noise)`` where ``parents`` is an
``(n, k)`` float array whose columns follow ``mechanism.parents`` (the order the
structural causal model binds) and ``noise`` an ``(n,)`` array; it returns the
``(n,)`` values of the node. ``invertible`` says whether the noise can be
recovered from parents and value (:meth:`Mechanism.abduct`), which is what
counterfactuals need.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ._exceptions import DataError, GraphError, NotInvertibleError, ParameterError
from ._noise import Noise, Uniform
from ._validation import check_real

__all__ = [
    "Mechanism",
    "Linear",
    "AdditiveNoise",
    "PostNonlinear",
    "Discrete",
    "Functional",
    "Constant",
    "Shifted",
    "shift",
]


class Mechanism:
    """Base class of causal mechanisms.

    Attributes
    ----------
    parents : tuple of str or None
        The parent order the mechanism expects; ``None`` lets the model bind it.
    invertible : bool
        Whether :meth:`abduct` recovers the noise exactly.
    """

    parents: tuple | None = None
    invertible: bool = False

    def __call__(self, parents: np.ndarray, noise: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def abduct(self, parents: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Recover the noise that produced ``values`` (only for invertible mechanisms)."""
        raise NotInvertibleError(f"{type(self).__name__} is not invertible in its noise")

    def default_noise(self) -> Noise | None:
        """The noise this mechanism needs when the model gives none (``None``: standard normal)."""
        return None

    def bind(self, parents: Sequence) -> Mechanism:
        """A copy with its parent order set (used by the model when ``parents`` is None)."""
        out = copy.copy(self)
        out.parents = tuple(parents)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(parents={self.parents!r})"


class OutputShapeError(ParameterError):
    """A user function of a mechanism returned the wrong number or kind of values (the model adds the node's name)."""


def _per_row(out, n: int, what: str) -> np.ndarray:
    """``out`` as ``(n,)`` floats: a scalar is broadcast, ``(n,)`` and ``(n, 1)`` pass, anything else is refused."""
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise OutputShapeError(f"{what} returned non-numeric values ({type(out).__name__}); expected ({n},) numbers") from None
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape in ((n,), (n, 1)):
        return arr.reshape(n)
    raise OutputShapeError(f"{what} returned an array of shape {arr.shape}; expected ({n},): one value per row (or a scalar)")


def _as_weight_vector(weights, n: int | None = None):
    try:
        w = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(f"weights must be numbers; got {weights!r}") from None
    if n is not None and w.size != n:
        raise ParameterError(f"expected {n} weights; got {w.size}")
    if not np.isfinite(w).all():
        raise ParameterError("weights must be finite")
    return w


class Linear(Mechanism):
    """``value = intercept + sum_p weight_p * p + noise``.

    Parameters
    ----------
    weights : mapping parent -> float, or sequence of floats
        With a mapping, the parent order is the mapping's; with a sequence, the
        model's parent order is used.
    intercept : float

    Examples
    --------
    >>> import numpy as np
    >>> m = Linear({"X": 2.0}, intercept=1.0)
    >>> m(np.array([[1.0], [2.0]]), np.zeros(2))
    array([3., 5.])
    >>> m.abduct(np.array([[1.0]]), np.array([3.5]))
    array([0.5])
    """

    invertible = True

    def __init__(self, weights: Mapping | Sequence | None = None, intercept: float = 0.0):
        if weights is None:
            weights = {}
        if isinstance(weights, Mapping):
            self.parents = tuple(weights)
            self.weights = _as_weight_vector(list(weights.values()))
        else:
            self.parents = None
            self.weights = _as_weight_vector(weights)
        self.intercept = check_real(intercept, name="intercept", owner="Linear")

    def bind(self, parents):
        if len(parents) != self.weights.size:
            raise GraphError(f"Linear has {self.weights.size} weights but the node has {len(parents)} parents {list(parents)}")
        return super().bind(parents)

    def mean(self, parents: np.ndarray) -> np.ndarray:
        """The noise-free part ``intercept + parents @ weights``."""
        return self.intercept + parents @ self.weights if self.weights.size else np.full(parents.shape[0], self.intercept)

    def __call__(self, parents, noise):
        return self.mean(parents) + noise

    def abduct(self, parents, values):
        return values - self.mean(parents)

    @property
    def coefficients(self) -> dict:
        """``{parent: weight}``."""
        return dict(zip(self.parents or (), self.weights))

    def __repr__(self) -> str:
        coefs = {p: float(f"{float(w):.6g}") for p, w in self.coefficients.items()}  # 6 significant digits, so 1e-300 shows
        return f"Linear({coefs}, intercept={self.intercept:.6g})"


class AdditiveNoise(Mechanism):
    """``value = f(parents) + noise`` with ``f`` a callable or a fitted scikit-learn regressor.

    Parameters
    ----------
    f : callable or regressor
        ``f(P)`` maps an ``(n, k)`` array to ``(n,)``; an object with ``predict`` is
        called as ``f.predict(P)``.
    parents : sequence of str, optional
        The column order ``f`` expects.

    Examples
    --------
    >>> import numpy as np
    >>> m = AdditiveNoise(lambda P: np.sin(P[:, 0]), parents=["X"])
    >>> float(m(np.array([[0.0]]), np.array([0.25]))[0])
    0.25
    """

    invertible = True

    def __init__(self, f, parents: Sequence | None = None):
        if not (callable(f) or hasattr(f, "predict")):
            raise ParameterError(f"AdditiveNoise needs a callable or an object with predict(); got {f!r}")
        self.f = f
        self.parents = tuple(parents) if parents is not None else None

    def mean(self, parents):
        if parents.shape[1] == 0 and hasattr(self.f, "predict"):
            return np.asarray(self.f.predict(np.zeros((parents.shape[0], 1))), dtype=float).ravel()
        out = self.f.predict(parents) if hasattr(self.f, "predict") else self.f(parents)
        return _per_row(out, parents.shape[0], "the function f of an AdditiveNoise mechanism")

    def __call__(self, parents, noise):
        return self.mean(parents) + noise

    def abduct(self, parents, values):
        return values - self.mean(parents)

    def __repr__(self) -> str:
        name = type(self.f).__name__ if hasattr(self.f, "predict") else getattr(self.f, "__name__", "f")
        return f"AdditiveNoise({name}, parents={self.parents!r})"


class PostNonlinear(Mechanism):
    """``value = g(f(parents) + noise)``; invertible when ``g_inverse`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> m = PostNonlinear(lambda P: P[:, 0], np.exp, np.log, parents=["X"])
    >>> float(m.abduct(np.array([[1.0]]), np.exp(np.array([1.5])))[0])
    0.5
    """

    def __init__(self, f: Callable, g: Callable, g_inverse: Callable | None = None, parents: Sequence | None = None):
        self.f, self.g, self.g_inverse = f, g, g_inverse
        self.parents = tuple(parents) if parents is not None else None
        self.invertible = g_inverse is not None

    def _inner(self, parents):
        out = self.f.predict(parents) if hasattr(self.f, "predict") else self.f(parents)
        return _per_row(out, parents.shape[0], "the function f of a PostNonlinear mechanism")

    def __call__(self, parents, noise):
        return _per_row(self.g(self._inner(parents) + noise), noise.shape[0], "the function g of a PostNonlinear mechanism")

    def abduct(self, parents, values):
        if self.g_inverse is None:
            raise NotInvertibleError("PostNonlinear without g_inverse cannot recover its noise")
        return np.asarray(self.g_inverse(values), dtype=float) - self._inner(parents)


class Functional(Mechanism):
    """Any ``value = f(parents, noise)``; give ``inverse(parents, value) -> noise`` to make it invertible.

    Examples
    --------
    >>> import numpy as np
    >>> m = Functional(lambda P, u: P[:, 0] * np.exp(u), parents=["X"])
    >>> m.invertible
    False
    """

    def __init__(self, f: Callable, parents: Sequence | None = None, inverse: Callable | None = None, noise: Noise | None = None):
        if not callable(f):
            raise ParameterError(f"Functional needs a callable f(parents, noise); got {f!r}")
        self.f, self.inverse = f, inverse
        self.parents = tuple(parents) if parents is not None else None
        self.invertible = inverse is not None
        self._noise = noise

    def __call__(self, parents, noise):
        what = "the intervention function" if getattr(self, "_from_do", False) else "the function f of a Functional mechanism"
        return _per_row(self.f(parents, noise), noise.shape[0], what)

    def abduct(self, parents, values):
        if self.inverse is None:
            raise NotInvertibleError("Functional mechanism has no inverse; give inverse=... for counterfactuals")
        return np.asarray(self.inverse(parents, values), dtype=float)

    def default_noise(self):
        return self._noise


class Constant(Mechanism):
    """A hard intervention: the node is fixed to ``value`` (its noise is ignored)."""

    invertible = True

    def __init__(self, value: float):
        self.value = check_real(value, name="value", owner="Constant")
        self.parents = ()

    def __call__(self, parents, noise):
        return np.full(noise.shape, self.value)

    def abduct(self, parents, values):
        return np.zeros_like(values)

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


class Shifted(Mechanism):
    """A shift intervention: the base mechanism plus ``delta``."""

    def __init__(self, base: Mechanism, delta: float):
        if not isinstance(base, Mechanism):
            raise ParameterError(f"The 'base' parameter of Shifted must be a Mechanism; got {base!r} instead.")
        self.base, self.delta = base, check_real(delta, name="delta", owner="Shifted")
        self.parents = base.parents
        self.invertible = base.invertible

    def bind(self, parents):
        out = super().bind(parents)
        out.base = self.base.bind(parents)
        return out

    def __call__(self, parents, noise):
        return self.base(parents, noise) + self.delta

    def abduct(self, parents, values):
        return self.base.abduct(parents, values - self.delta)

    def default_noise(self):
        return self.base.default_noise()

    def __repr__(self) -> str:
        return f"Shifted({self.base!r}, delta={self.delta!r})"


class shift:
    """Mark an intervention as a shift: ``scm.do({"X": shift(1.0)})`` adds 1 to X's mechanism.

    Examples
    --------
    >>> shift(0.5)
    shift(0.5)
    """

    def __init__(self, delta: float):
        self.delta = check_real(delta, name="delta", owner="shift")

    def __repr__(self) -> str:
        return f"shift({self.delta!r})"


class Discrete(Mechanism):
    """A conditional probability table over integer-coded states ``0..k-1``.

    The noise is ``U ~ Uniform(0, 1)`` and the value is the inverse CDF of the row of
    the table selected by the parents' states (the monotone coupling). Abduction is
    not a point: the noise posterior given an observation is uniform on
    ``[F(v - 1), F(v))``, see :meth:`noise_interval`.

    Parameters
    ----------
    table : array of shape (card_parent_1, ..., card_parent_k, card_node)
        ``table[i1, ..., ik, :]`` is the distribution of the node given the parents'
        states; each such row sums to 1.
    parents : sequence of str
        Parent names in the order of the table's leading axes.
    states : sequence, optional
        Labels of the node's states (default ``0..k-1``).

    Examples
    --------
    >>> import numpy as np
    >>> m = Discrete([[0.9, 0.1], [0.2, 0.8]], parents=["A"])
    >>> m(np.array([[0.0], [1.0]]), np.array([0.5, 0.5]))
    array([0, 1])
    >>> m.noise_interval(np.array([[1.0]]), np.array([1]))
    (array([0.2]), array([1.]))
    """

    def __init__(self, table, parents: Sequence = (), states: Sequence | None = None):
        try:
            t = np.asarray(table, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(f"The 'table' parameter of Discrete must be an array of probabilities; got {table!r}") from None
        parents = tuple(parents)
        if t.ndim != len(parents) + 1:
            raise ParameterError(f"a table over {len(parents)} parent(s) needs {len(parents) + 1} axes; got shape {t.shape}")
        if (t < 0).any() or not np.isfinite(t).all():
            raise ParameterError("probability table entries must be finite and >= 0")
        sums = t.sum(axis=-1)
        if not np.allclose(sums, 1.0, atol=1e-6):
            raise ParameterError(f"each row of a probability table must sum to 1; row sums range {sums.min():.4g}..{sums.max():.4g}")
        self.table = t / sums[..., None]
        self.parents = parents
        self.states = tuple(states) if states is not None else tuple(range(t.shape[-1]))
        if len(self.states) != t.shape[-1]:
            raise ParameterError(f"{len(self.states)} state labels for a table with {t.shape[-1]} states")
        self._cdf = np.cumsum(self.table, axis=-1)
        self._cdf[..., -1] = 1.0

    @property
    def cardinality(self) -> int:
        """Number of states."""
        return self.table.shape[-1]

    def bind(self, parents):
        if tuple(parents) != self.parents and set(parents) == set(self.parents):
            return self  # the model adopts the table's order
        if tuple(parents) != self.parents:
            raise GraphError(f"Discrete table is over parents {list(self.parents)}; the graph gives {list(parents)}")
        return self

    def _rows(self, parents: np.ndarray) -> np.ndarray:
        n = parents.shape[0]
        if parents.shape[1] == 0:
            return np.broadcast_to(self._cdf, (n, self.cardinality))
        idx = np.asarray(np.rint(parents), dtype=np.int64)
        if not np.array_equal(idx, parents):
            raise DataError(f"parents {list(self.parents)} of a discrete node must hold integer state codes")
        for j, p in enumerate(self.parents):
            card = self.table.shape[j]
            if idx[:, j].min(initial=0) < 0 or idx[:, j].max(initial=0) >= card:
                raise DataError(f"parent {p!r} has state codes outside 0..{card - 1}")
        return self._cdf[tuple(idx.T)]

    def __call__(self, parents, noise):
        cdf = self._rows(parents)
        return (noise[:, None] >= cdf).sum(axis=1).clip(0, self.cardinality - 1).astype(np.int64)

    def noise_interval(self, parents, values):
        """The interval ``[low, high)`` of noise values that produce ``values``."""
        cdf = self._rows(parents)
        v = np.asarray(values).astype(np.int64)
        if v.min(initial=0) < 0 or v.max(initial=0) >= self.cardinality:
            raise DataError(f"values outside the states 0..{self.cardinality - 1}")
        rows = np.arange(v.size)
        high = cdf[rows, v]
        low = np.where(v > 0, cdf[rows, np.maximum(v - 1, 0)], 0.0)
        return low, high

    def probabilities(self, parents) -> np.ndarray:
        """``(n, k)`` state probabilities given the parents' states."""
        cdf = self._rows(parents)
        return np.diff(cdf, axis=1, prepend=0.0)

    def default_noise(self):
        return Uniform(0.0, 1.0)

    def __repr__(self) -> str:
        return f"Discrete(parents={list(self.parents)}, states={list(self.states)})"
