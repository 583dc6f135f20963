"""Every exported estimator of discovery and estimators follows one parameter convention.

Parameters are read from the ``__init__`` signature (``get_params``, ``clone``), declared in a
constraints table that covers exactly that signature, and checked by one validator at the
start of ``fit``: an invalid value derived from each parameter's constraint is refused with a
``ParameterError`` that names the parameter and the value.
"""

from __future__ import annotations

import inspect

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils import get_tags

import discovery
import estimators
from discovery._base import CITestParameter
from scm import ParameterError
from scm._params import AnyOf, Boolean, Constraint, Interval, Options, ParamsMixin, RandomState


def _exported_estimators() -> list[type]:
    found = []
    for package in (discovery, estimators):
        for name in package.__all__:
            obj = getattr(package, name)
            if isinstance(obj, type) and hasattr(obj, "fit"):
                found.append(obj)
    return found


ESTIMATORS = _exported_estimators()
IDS = [cls.__name__ for cls in ESTIMATORS]


def _signature(cls) -> list[str]:
    return list(inspect.signature(cls.__init__).parameters)[1:]


# ------------------------------------------------------------------ small valid inputs
_rng = np.random.default_rng(0)
_N = 60
_ENV = np.repeat([0, 1], _N // 2)
_FRAME = pd.DataFrame({"A": _rng.normal(size=_N), "B": _rng.normal(size=_N), "Y": _rng.normal(size=_N)})
_z = _rng.normal(size=_N)
_x = (_z + _rng.normal(size=_N) > 0).astype(float)
_EFFECT = pd.DataFrame({"x": _x, "y": _x + _z + _rng.normal(size=_N), "z": _z})

FIT = {
    "PC": lambda est: est.fit(_FRAME),
    "CDNOD": lambda est: est.fit(_FRAME.assign(C=_ENV), context="C"),
    "NOTEARS": lambda est: est.fit(_FRAME),
    "VIDPDAG": lambda est: est.fit(_FRAME),
    "ICP": lambda est: est.fit(_FRAME, "Y", _ENV),
    "NonlinearICP": lambda est: est.fit(_FRAME, "Y", _ENV),
    "ICPGraph": lambda est: est.fit(_FRAME.assign(environment=_ENV), environment="environment"),
    "AnchorRegression": lambda est: est.fit(_FRAME, "Y", anchors=_ENV),
    "IRM": lambda est: est.fit(_FRAME, "Y", environment=_ENV),
    "PCMCI": lambda est: est.fit(_FRAME),
    "PCMCIPlus": lambda est: est.fit(_FRAME),
    "RegressionAdjustment": lambda est: est.fit(_EFFECT, "x", "y", adjustment=["z"]),
    "IPW": lambda est: est.fit(_EFFECT, "x", "y", adjustment=["z"]),
    "AIPW": lambda est: est.fit(_EFFECT, "x", "y", adjustment=["z"]),
    "DoubleML": lambda est: est.fit(_EFFECT, "x", "y", adjustment=["z"]),
    "InvariantAncestrySearch": lambda est: est.fit(_FRAME, "Y", _ENV),
    "CausIRL": lambda est: est.fit(_FRAME, "Y", environment=_ENV),
    "MinimaxTransfer": lambda est: est.fit(_FRAME, "Y", environment=_ENV),
    "AdaptiveCovariateSelection": lambda est: est.fit(_FRAME, "Y", environment=_ENV),
    "CausalDeFinetti": lambda est: est.fit(_FRAME.assign(group=np.repeat(np.arange(_N // 2), 2)), groups="group"),
    "ExchangeableModel": lambda est: est.fit(
        _FRAME.assign(group=np.repeat(np.arange(_N // 3), 3)), nx.DiGraph([("A", "Y"), ("B", "Y")]), groups="group"
    ),
}


# ------------------------------------------------------------------ invalid values from constraints
def _candidates(constraint):
    """Values that the constraint is likely to refuse, most telling first."""
    if isinstance(constraint, Interval):
        yield "not-a-number"
    elif isinstance(constraint, (Options, CITestParameter)):
        yield "no-such-option"
    elif isinstance(constraint, Boolean):
        yield 2
    elif isinstance(constraint, RandomState):
        yield "not-a-seed"
    elif isinstance(constraint, AnyOf):
        for member in constraint.constraints:
            yield from _candidates(member)


def invalid_value(constraint):
    """A value that ``constraint`` refuses (derived from its kind; any object for the others)."""
    for value in (*_candidates(constraint), object()):
        if not constraint.is_satisfied_by(value):
            return value
    raise AssertionError(f"no invalid value found for {constraint!r}")


CASES = [(cls, name) for cls in ESTIMATORS for name in _signature(cls)]
CASE_IDS = [f"{cls.__name__}-{name}" for cls, name in CASES]


# ------------------------------------------------------------------ tests
def test_every_exported_estimator_is_walked():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert names == set(FIT), "give a new estimator a small valid fit in FIT"
    assert {"PC", "PCMCIPlus", "ICPGraph", "DoubleML"} <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_one_convention(cls):
    assert issubclass(cls, ParamsMixin)
    assert not hasattr(cls, "_param_names")
    assert not hasattr(cls, "_check_params")
    assert cls._validate_params is ParamsMixin._validate_params


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_get_params_keys_are_the_signature(cls):
    est = cls()
    assert list(est.get_params()) == _signature(cls)
    assert list(est.get_params(deep=False)) == _signature(cls)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_clone_round_trips(cls):
    est = cls()
    copy = clone(est)
    assert type(copy) is cls and copy is not est
    params, copied = est.get_params(deep=False), copy.get_params(deep=False)
    assert list(copied) == list(params)
    for name, value in params.items():
        assert type(copied[name]) is type(value) and copied[name] == value, name
    assert repr(copy) == repr(est) == f"{cls.__name__}()"
    get_tags(copy)  # scikit-learn can read the tags


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_constraints_cover_exactly_the_signature(cls):
    table = cls._parameter_constraints
    assert set(table) == set(_signature(cls))
    assert all(isinstance(c, Constraint) for c in table.values())


@pytest.mark.parametrize("cls", ESTIMATORS, ids=IDS)
def test_defaults_are_valid(cls):
    est = cls()
    for name, value in est.get_params(deep=False).items():
        assert cls._parameter_constraints[name].is_satisfied_by(value), name
    est._validate_params()


@pytest.mark.parametrize("cls, name", CASES, ids=CASE_IDS)
def test_invalid_parameter_is_refused_by_fit_and_named(cls, name):
    value = invalid_value(cls._parameter_constraints[name])
    est = cls().set_params(**{name: value})
    with pytest.raises(ParameterError) as info:
        FIT[cls.__name__](est)
    message = str(info.value)
    assert name in message, message
    assert repr(value) in message or type(value).__name__ in message, message
