"""Shapley values of batched set functions: exact weights, permutation sampling, its error estimate."""

import itertools
import math

import numpy as np
import pytest

from estimators._shapley import MAX_EXACT_PLAYERS, exact_coalitions, shapley_values
from scm import ParameterError


def _brute_force(v, p):
    """Shapley values by their definition, one coalition at a time."""
    out = np.zeros(p)
    for i in range(p):
        others = [j for j in range(p) if j != i]
        for r in range(p):
            for S in itertools.combinations(others, r):
                m = np.zeros((2, p), dtype=bool)
                m[:, list(S)] = True
                m[1, i] = True
                w = math.factorial(r) * math.factorial(p - r - 1) / math.factorial(p)
                vals = v(m)
                out[i] += w * (vals[1] - vals[0])
    return out


def _game(p, seed):
    """A random non-additive game: pairwise synergies plus a threshold term."""
    rng = np.random.default_rng(seed)
    a, Q = rng.normal(size=p), rng.normal(size=(p, p))

    def v(masks):
        x = masks.astype(float)
        return x @ a + np.einsum("ci,ij,cj->c", x, Q, x) + (x.sum(axis=1) > p / 2)

    return v


@pytest.mark.parametrize("p", [1, 2, 4, 6])
def test_exact_matches_the_definition(p):
    v = _game(p, p)
    est = shapley_values(v, p)
    assert est.method == "exact"
    np.testing.assert_allclose(est.values, _brute_force(v, p), atol=1e-12)
    full, empty = v(np.ones((1, p), dtype=bool))[0], v(np.zeros((1, p), dtype=bool))[0]
    assert est.values.sum() == pytest.approx(full - empty)  # efficiency


def test_exact_weights_sum_to_zero_per_player():
    masks, W = exact_coalitions(5)
    assert masks.shape == (32, 5)
    np.testing.assert_allclose(W.sum(axis=0), 0.0, atol=1e-15)  # a constant game gives nothing to anyone


def test_vector_valued_set_functions_are_attributed_column_by_column():
    v = _game(4, 0)
    est = shapley_values(lambda m: np.stack([v(m), 2 * v(m)], axis=1), 4)
    np.testing.assert_allclose(est.values[:, 1], 2 * est.values[:, 0])


def test_permutation_sampling_is_unbiased_and_its_error_is_honest():
    p = 7
    v = _game(p, 1)
    exact = shapley_values(v, p, method="exact").values
    approx = shapley_values(v, p, method="permutation", n_permutations=400, random_state=0)
    z = (approx.values - exact) / approx.std_err
    assert np.all(np.abs(z) < 4.5)
    assert approx.values.sum() == pytest.approx(exact.sum())  # every order is efficient


def test_additive_games_are_exact_under_sampling():
    a = np.arange(1.0, 15.0)
    est = shapley_values(lambda m: m.astype(float) @ a, 14, n_permutations=10, random_state=0)
    assert est.method.startswith("permutation")  # 14 > MAX_EXACT_PLAYERS
    np.testing.assert_allclose(est.values, a)
    np.testing.assert_allclose(est.std_err, 0.0, atol=1e-12)


def test_auto_switches_to_sampling_past_twelve_players():
    assert MAX_EXACT_PLAYERS == 12
    assert shapley_values(lambda m: m.sum(axis=1).astype(float), 12).method == "exact"
    assert shapley_values(lambda m: m.sum(axis=1).astype(float), 13, random_state=0).method.startswith("permutation")


def test_bad_options_are_named():
    with pytest.raises(ParameterError, match="method"):
        shapley_values(lambda m: m.sum(axis=1), 3, method="kernel")
    with pytest.raises(ParameterError, match="n_permutations"):
        shapley_values(lambda m: m.sum(axis=1), 3, method="permutation", n_permutations=1)
    with pytest.raises(ParameterError, match="too many"):
        shapley_values(lambda m: m.sum(axis=1), 25, method="exact")
