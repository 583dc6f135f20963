"""ADMGs written directly as PDAGs with a bow arc (directed + bidirected on one pair)."""

import pytest

from estimators import NotIdentifiableError, identify
from scm import PDAG


def test_bow_arc_is_not_identifiable():
    g = PDAG.from_edges([("x", "y"), ("x", "y", "bidirected")])
    with pytest.raises(NotIdentifiableError, match="hedge"):
        identify(g, "x", "y")


def test_front_door_with_a_bow_arc_free_confounder():
    g = PDAG.from_edges([("x", "m"), ("m", "y"), ("x", "y", "bidirected")])
    assert "Σ_{m}" in str(identify(g, "x", "y"))


def test_bow_arc_on_the_mediator_blocks_front_door():
    # x -> m with x <-> m as well: P(m | do(x)) is not identifiable, so neither is the effect
    g = PDAG.from_edges([("x", "m"), ("m", "y"), ("x", "m", "bidirected"), ("x", "y", "bidirected")])
    with pytest.raises(NotIdentifiableError):
        identify(g, "x", "y")
