"""Tests of the parameter constraints and the validator of scm._params (shared by discovery and estimators)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge

from scm import ParameterError
from scm._params import (
    AnyOf,
    Boolean,
    Constraint,
    Custom,
    HasAttributes,
    InstanceOf,
    Interval,
    Options,
    ParamsMixin,
    RandomState,
    Satisfies,
)


@pytest.mark.parametrize(
    "constraint, good, bad, message",
    [
        (Interval(Real, 0, 1), [0.5, np.float32(0.1)], [1.5, 0, 1, np.nan, np.inf, True, "0.5"],
         "The 'p' parameter of Owner must be in the range (0, 1); got 1.5 instead."),
        (Interval(Real, 0, 1, closed="both"), [0, 1, 0.5], [1.1, -0.1],
         "The 'p' parameter of Owner must be in the range [0, 1]; got 1.1 instead."),
        (Interval(Integral, 1, None, closed="left"), [1, np.int64(7), 10**12], [2.5, 0, 2.0, True, None],
         "The 'p' parameter of Owner must be an int; got 2.5 instead."),
        (Interval(Real, None, 0, closed="right"), [0, -1e9], [1e-9],
         "The 'p' parameter of Owner must be in the range (-inf, 0]; got 1e-09 instead."),
        (Options(("a", "b")), ["a", "b"], ["c", 1, None, ["a"], np.array(["a"])],
         "The 'p' parameter of Owner must be one of ['a', 'b']; got 'c' instead."),
        (Boolean(), [True, False, np.bool_(True)], [1, 0, "yes", None],
         "The 'p' parameter of Owner must be a bool; got 1 instead."),
        (InstanceOf((dict, type(None)), "a dict or None"), [{}, None], [[], "x"],
         "The 'p' parameter of Owner must be a dict or None; got [] instead."),
        (HasAttributes(("fit", "predict"), "a learner"), [Ridge()], [object(), "ridge"],
         "The 'p' parameter of Owner must be a learner; got object instead."),
        (Satisfies(lambda v: v % 2 == 0, "an even number"), [0, 4], [3, "x", None],
         "The 'p' parameter of Owner must be an even number; got 3 instead."),
        (RandomState(), [None, 0, np.random.default_rng(0), np.random.SeedSequence(1), np.random.RandomState(0)],
         ["seed", 1.5], "random_state must be None, an int or a numpy Generator; got 'seed'"),
        (AnyOf(None, Interval(Integral, 0, None, closed="left")), [None, 0, 5], [-1, "x"],
         "The 'p' parameter of Owner must be in the range [0, inf); got -1 instead."),
        (AnyOf(Options(("auto",)), None, Interval(Integral, 2, None, closed="left")), ["auto", None, 2], ["x", 1],
         "The 'p' parameter of Owner must be an int; got 'x' instead."),
    ],
)  # fmt: skip
def test_constraint(constraint, good, bad, message):
    """Good values pass, bad ones fail; the first bad value gives the message (word for word)."""
    assert isinstance(constraint, Constraint)
    for value in good:
        assert constraint.is_satisfied_by(value), value
        constraint.check(value, name="p", owner="Owner")
    for value in bad:
        assert not constraint.is_satisfied_by(value), value
        with pytest.raises(ParameterError):
            constraint.check(value, name="p", owner="Owner")
    with pytest.raises(ParameterError) as info:
        constraint.check(bad[0], name="p", owner="Owner")
    assert str(info.value) == message


def test_random_state_check_does_not_draw():
    legacy = np.random.RandomState(0)
    state = legacy.get_state()[1].copy()
    RandomState().check(legacy, name="random_state")
    np.testing.assert_array_equal(legacy.get_state()[1], state)


def test_custom_raises_its_own_message():
    def check(value, *, name, owner):
        if value != "ok":
            raise ParameterError(f"{owner}.{name} is not ok: {value!r}")

    constraint = Custom(check, "'ok'")
    assert constraint.is_satisfied_by("ok") and not constraint.is_satisfied_by("no")
    with pytest.raises(ParameterError, match=r"^Owner.p is not ok: 'no'$"):
        constraint.check("no", name="p", owner="Owner")


def test_descriptions():
    assert str(Interval(Real, 0, 1)) == "a number in the range (0, 1)"
    assert str(Interval(Integral, 2, None, closed="left")) == "an int in the range [2, inf)"
    assert str(AnyOf(None, Options(("bh",)))) == "None or one of ['bh']"
    assert repr(AnyOf(None, Boolean())) == "AnyOf(None, Boolean())"


def test_bad_declarations():
    with pytest.raises(TypeError, match="kind"):
        Interval(float, 0, 1)
    with pytest.raises(TypeError, match="closed"):
        Interval(Real, 0, 1, closed="open")
    with pytest.raises(TypeError, match="constraints or None"):
        AnyOf(None, "boolean")


# ------------------------------------------------------------------ the validator
class _Toy(ParamsMixin):
    _parameter_constraints = {
        "low": Interval(Real, None, None),
        "high": Interval(Real, None, None),
        "learner": AnyOf(None, HasAttributes(("fit", "predict"), "a regressor")),
    }

    def __init__(self, *, low=0.0, high=1.0, learner=None):
        self.low = low
        self.high = high
        self.learner = learner

    def _validate_joint_params(self):
        if self.high <= self.low:
            raise ParameterError(f"The 'high' parameter of {type(self).__name__} must be > low = {self.low}; got {self.high} instead.")


def test_validator_checks_each_parameter_in_signature_order_then_the_joint_rule():
    _Toy()._validate_params()
    with pytest.raises(ParameterError, match="'low' parameter of _Toy must be a number; got 'x'"):
        _Toy(low="x", high="y")._validate_params()
    with pytest.raises(ParameterError, match="'learner' parameter of _Toy must be a regressor; got str instead"):
        _Toy(learner="ridge")._validate_params()
    with pytest.raises(ParameterError, match=r"'high' parameter of _Toy must be > low = 2"):
        _Toy(low=2.0)._validate_params()


def test_nested_learner_parameters_as_in_scikit_learn():
    model = _Toy(learner=Ridge(alpha=2.0))
    deep = model.get_params()
    assert deep["learner__alpha"] == 2.0 and "learner__alpha" not in model.get_params(deep=False)
    assert list(model.get_params(deep=False)) == ["low", "high", "learner"]
    model.set_params(learner__alpha=3.0, low=-1.0)
    assert model.learner.alpha == 3.0 and model.low == -1.0
    copy = clone(model)
    assert copy.learner is not model.learner and copy.learner.alpha == 3.0
    assert repr(model) == "_Toy(low=-1.0, learner=Ridge(alpha=3.0))"
    with pytest.raises(ParameterError, match=r"_Toy has no parameter 'learner__alpha': its parameter 'learner' is None"):
        _Toy().set_params(learner__alpha=1.0)
    with pytest.raises(ParameterError, match=r"^_Toy has no parameter 'lerner__alpha'; valid parameters are \['low', 'high', 'learner'\]"):
        _Toy().set_params(lerner__alpha=1.0)
