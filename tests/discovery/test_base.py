"""Tests of the shared scikit-learn-style parameter handling (ParamsMixin, from scm._params via discovery._base)."""

from __future__ import annotations

import inspect

import networkx as nx
import numpy as np
import pytest
from sklearn.base import clone

from discovery import (
    CDNOD,
    ICP,
    IRM,
    NOTEARS,
    PC,
    PCMCI,
    VIDPDAG,
    AnchorRegression,
    BackgroundKnowledge,
    DSeparation,
    ICPGraph,
    NonlinearICP,
    PCMCIPlus,
)  # fmt: skip
from discovery._base import ParamsMixin
from scm import ParameterError

# estimator class -> (a parameter, a non-default value for it)
CHANGED = {
    PC: ("alpha", 0.01),
    CDNOD: ("alpha", 0.01),
    NOTEARS: ("lambda1", 0.5),
    VIDPDAG: ("max_iter", 100),
    PCMCI: ("tau_max", 3),
    PCMCIPlus: ("tau_max", 2),
    ICPGraph: ("alpha", 0.1),
    ICP: ("alpha", 0.1),
    NonlinearICP: ("alpha", 0.1),
    AnchorRegression: ("gamma", 2.0),
    IRM: ("penalty", 5.0),
}
ESTIMATORS = list(CHANGED)
IDS = [cls.__name__ for cls in ESTIMATORS]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_uses_the_mixin(cls):
    assert issubclass(cls, ParamsMixin)
    for name in ("get_params", "set_params", "__repr__", "_validate_params"):
        assert getattr(cls, name) is getattr(ParamsMixin, name)
    assert not hasattr(cls, "_param_names")  # read from the signature, not kept by hand
    assert list(cls().get_params()) == list(inspect.signature(cls.__init__).parameters)[1:]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_get_params_round_trips_through_set_params(cls):
    name, value = CHANGED[cls]
    source = cls().set_params(**{name: value})
    params = source.get_params()
    target = cls()
    assert target.set_params(**params) is target
    assert target.get_params() == params
    assert getattr(target, name) == value


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_unknown_parameter_is_an_error(cls):
    model = cls()
    with pytest.raises(ParameterError, match=rf"^{cls.__name__} has no parameter 'no_such_param'; valid parameters are \["):
        model.set_params(no_such_param=1)
    assert not hasattr(model, "no_such_param")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_repr_shows_only_changed_parameters(cls):
    name, value = CHANGED[cls]
    assert repr(cls()) == f"{cls.__name__}()"
    assert repr(cls(**{name: value})) == f"{cls.__name__}({name}={value!r})"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_sklearn_clone(cls):
    name, value = CHANGED[cls]
    model = cls(**{name: value})
    copy = clone(model)
    assert type(copy) is cls and copy is not model
    assert copy.get_params().keys() == model.get_params().keys()
    assert getattr(copy, name) == value


def test_repr_with_unusual_values():
    oracle = DSeparation(nx.DiGraph([("A", "B")]))
    knowledge = BackgroundKnowledge(required=[("A", "B")])
    model = PC(ci_test=oracle, background_knowledge=knowledge, ci_test_kwargs={"x": 1})
    assert repr(model) == f"PC(ci_test={oracle!r}, background_knowledge={knowledge!r}, ci_test_kwargs={{'x': 1}})"
    assert repr(NOTEARS(hidden=(10,))) == "NOTEARS()"  # an equal tuple is the default
    assert repr(NOTEARS(hidden=(5, 5))) == "NOTEARS(hidden=(5, 5))"
    # an array (no single truth value for ==) is shown, not an error
    assert repr(AnchorRegression(gamma=np.array([1.0, 2.0]))) == "AnchorRegression(gamma=array([1., 2.]))"
    # a value of another type than the default is shown even when == would say equal
    assert repr(ICPGraph(alpha=np.float64(0.05))).startswith("ICPGraph(alpha=")


class _WithArray(ParamsMixin):
    def __init__(self, *, weights=None, options=None):
        self.weights = np.ones(2) if weights is None else weights
        self.options = {"a": 1} if options is None else options


def test_repr_with_array_and_dict_defaults():
    assert repr(_WithArray(options={"a": 1})) == "_WithArray(weights=array([1., 1.]))"  # equal arrays: no truth value
    assert repr(_WithArray(options={"a": 2})) == "_WithArray(weights=array([1., 1.]), options={'a': 2})"


def test_toy_subclass_reads_its_signature():
    model = _WithArray(options={"a": 2})
    assert list(model.get_params()) == ["weights", "options"]
    assert model.set_params(options={"b": 3}) is model and model.options == {"b": 3}
    with pytest.raises(ParameterError, match=r"^_WithArray has no parameter 'width'; valid parameters are \['weights', 'options'\]\.$"):
        model.set_params(width=1)
    copy = clone(model)
    assert copy is not model and copy.options == {"b": 3} and copy.options is not model.options
    model._validate_params()  # no constraints declared: nothing to check


class _Subclass(PC):
    """A user's subclass keeps the parameters of its base (the signature is inherited)."""


def test_a_subclass_inherits_parameters_and_constraints():
    model = _Subclass(alpha=0.01)
    assert list(model.get_params()) == list(PC().get_params())
    assert repr(model) == "_Subclass(alpha=0.01)"
    with pytest.raises(ParameterError, match=r"The 'alpha' parameter of _Subclass must be in the range \(0, 1\); got 2 instead\."):
        _Subclass(alpha=2)._validate_params()


def test_varargs_in_init_are_refused():
    class Loose(ParamsMixin):
        def __init__(self, *, width=1.0, **options):
            self.width = width

    class Positional(ParamsMixin):
        def __init__(self, *layers):
            self.layers = layers

    with pytest.raises(TypeError, match=r"Loose.__init__ must name each of its parameters .* takes \*\*options"):
        Loose().get_params()
    with pytest.raises(TypeError, match=r"takes \*layers"):
        clone(Positional())


def test_scikit_learn_tags_say_what_fit_needs():
    """GridSearchCV and friends read these (scikit-learn >= 1.6 refuses an estimator without them)."""
    from sklearn.base import is_regressor
    from sklearn.utils import get_tags

    for est, kind, needs_y in ((PC(), None, False), (VIDPDAG(), None, False), (ICP(), None, True),
                               (AnchorRegression(), "regressor", True), (IRM(), "regressor", True)):
        tags = get_tags(est)
        assert (tags.estimator_type, tags.target_tags.required) == (kind, needs_y), type(est).__name__
        assert is_regressor(est) == (kind == "regressor")
