"""Shapley values of a set function evaluated a batch of coalitions at a time.

A *set function* here is a callable ``value_fn(masks)`` that takes a boolean array of shape
``(C, p)`` (one coalition of the ``p`` players per row) and returns the value of every coalition at
once, shape ``(C,)`` or ``(C, m)`` for ``m`` quantities sharing the coalitions (e.g. one per
anomalous unit). Asking for all coalitions in one call is what lets the attribution functions
push them through a model as one array program instead of one small call per coalition.

- **Exact** (``p <= 12``, :data:`MAX_EXACT_PLAYERS`): all ``2**p`` coalitions, combined with the
  Shapley weights ``|S|! (p - |S| - 1)! / p!`` as one matrix product.
- **Permutation sampling** (beyond, or asked for): ``n_permutations`` random orders of the
  players, drawn in antithetic pairs (an order and its reverse: the prefixes of one are the
  complements of the other's, which cancels much of the variance for the nearly additive games of
  attribution); every prefix coalition of every order is evaluated once (duplicates removed), and
  each player's value is the mean of its marginal contributions. The standard error is that of the
  mean over the independent pairs.

Both return the values and their Monte-Carlo standard error (0 for exact values, apart from what
the set function's own sampling adds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scm import ParameterError
from scm._validation import check_in_range, check_memory, check_option, check_random_state

__all__ = ["MAX_EXACT_PLAYERS", "ShapleyEstimate", "exact_coalitions", "shapley_values"]

#: Up to this many players, Shapley values are exact (all ``2**p`` coalitions) under ``method="auto"``.
MAX_EXACT_PLAYERS = 12
_METHODS = ("auto", "exact", "permutation")


@dataclass(frozen=True)
class ShapleyEstimate:
    """Shapley values ``values`` (``(p,)`` or ``(p, m)``), their Monte-Carlo ``std_err`` and how they were computed."""

    values: np.ndarray
    std_err: np.ndarray
    method: str
    n_coalitions: int


def exact_coalitions(n_players: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``2**p`` coalitions and the matrix ``W`` with ``shapley = W.T @ v`` for their values ``v``.

    ``W[c, i]`` is ``w(|S_c| - 1)`` when player ``i`` is in coalition ``S_c`` and ``-w(|S_c|)``
    otherwise, with ``w(s) = s! (p - s - 1)! / p!``.

    Examples
    --------
    >>> masks, W = exact_coalitions(2)
    >>> masks.astype(int).tolist()
    [[0, 0], [1, 0], [0, 1], [1, 1]]
    >>> v = np.array([0.0, 1.0, 2.0, 4.0])  # v({1, 2}) = 4: one unit of synergy, shared equally
    >>> (W.T @ v).tolist()
    [1.5, 2.5]
    """
    p = n_players
    codes = np.arange(2**p, dtype=np.int64)
    masks = ((codes[:, None] >> np.arange(p)) & 1).astype(bool)
    size = masks.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)] + [0.0])
    W = np.where(masks, weight[np.maximum(size - 1, 0)][:, None], -weight[size][:, None])
    return masks, W


def _as_values(out, n_coalitions: int) -> np.ndarray:
    arr = np.asarray(out, dtype=float)
    if arr.shape[:1] != (n_coalitions,):
        raise ParameterError(f"the set function returned shape {arr.shape} for {n_coalitions} coalitions")
    return arr


def shapley_values(
    value_fn, n_players: int, *, method: str = "auto", n_permutations: int | None = None, random_state=None, owner: str = "shapley_values"
) -> ShapleyEstimate:
    """Shapley values of ``value_fn`` over ``n_players`` players.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(masks) -> values``: ``masks`` a boolean ``(C, p)`` array, one coalition per
        row; ``values`` of shape ``(C,)`` or ``(C, m)``.
    n_players : int
    method : {"auto", "exact", "permutation"}
        ``"auto"``: exact up to :data:`MAX_EXACT_PLAYERS` players, permutation sampling beyond.
    n_permutations : int, optional
        Orders of the players for permutation sampling (rounded up to an even number: they come in
        antithetic pairs); default ``max(50, 4 * p)``.
    random_state : None, int or Generator
    owner : str
        The public function asking, for error messages.

    Returns
    -------
    ShapleyEstimate

    Examples
    --------
    >>> def v(masks):  # a glove game: player 0 holds a left glove, players 1 and 2 right gloves
    ...     return (masks[:, 0] & (masks[:, 1] | masks[:, 2])).astype(float)
    >>> est = shapley_values(v, 3)
    >>> np.round(est.values, 4).tolist(), est.method
    ([0.6667, 0.1667, 0.1667], 'exact')
    >>> approx = shapley_values(v, 3, method="permutation", n_permutations=2000, random_state=0)
    >>> bool(np.all(np.abs(approx.values - est.values) < 4 * approx.std_err + 1e-12))
    True
    """
    check_option(method, _METHODS, name="method", owner=owner)
    p = int(n_players)
    if p < 1:
        raise ParameterError(f"{owner}: there must be at least one player; got {p}")
    if method == "exact" or (method == "auto" and p <= MAX_EXACT_PLAYERS):
        if p > 20:
            raise ParameterError(
                f"The 'method' parameter of {owner} is 'exact' for {p} players: 2**{p} coalitions are too many; use "
                f"method='permutation' (or 'auto', exact up to {MAX_EXACT_PLAYERS} players)"
            )
        masks, W = exact_coalitions(p)
        v = _as_values(value_fn(masks), len(masks))
        values = np.tensordot(W, v, axes=(0, 0))
        return ShapleyEstimate(values, np.zeros_like(values), "exact", len(masks))
    if n_permutations is None:
        n_permutations = max(50, 4 * p)
    check_in_range(n_permutations, name="n_permutations", low=2, inclusive="left", integer=True, owner=owner)
    check_memory(
        float(n_permutations) * (p + 1) * p,
        name="n_permutations",
        what=f"{n_permutations} orders of {p} players",
        owner=owner,
        hint="ask for fewer orders",
    )
    pairs = (int(n_permutations) + 1) // 2
    rng = check_random_state(random_state)
    orders = np.argsort(rng.random((pairs, p)), axis=1)
    orders = np.concatenate([orders, orders[:, ::-1]])  # antithetic: row k + pairs reverses row k
    n_perm = len(orders)
    # prefix masks: prefix[k, j] = players in the first j places of order k (j = 0..p)
    rank = np.empty_like(orders)
    rank[np.arange(n_perm)[:, None], orders] = np.arange(p)[None, :]
    prefix = rank[:, None, :] < np.arange(p + 1)[None, :, None]  # (n_perm, p + 1, p)
    flat = prefix.reshape(-1, p)
    packed = np.packbits(flat, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    v_unique = _as_values(value_fn(flat[first]), len(first))
    v = v_unique[inverse.ravel()].reshape((n_perm, p + 1) + v_unique.shape[1:])
    marginal = np.diff(v, axis=1)  # (n_perm, p, ...): the gain of adding the j-th player of the order
    contrib = np.empty_like(marginal)
    contrib[np.arange(n_perm)[:, None], orders] = marginal  # by player
    paired = 0.5 * (contrib[:pairs] + contrib[pairs:])
    values = paired.mean(axis=0)
    se = paired.std(axis=0, ddof=1) / math.sqrt(pairs) if pairs > 1 else np.full_like(values, np.nan)
    return ShapleyEstimate(values, se, f"permutation sampling ({n_perm} orders)", len(first))
