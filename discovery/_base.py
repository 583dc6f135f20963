"""What the discovery estimators share: parameter handling and the columns a fit saw.

Every estimator of :mod:`discovery` stores its keyword-only constructor arguments as
attributes of the same name and declares what each may be in ``_parameter_constraints``;
:class:`ParamsMixin` (from :mod:`scm._params`, shared with :mod:`estimators`) reads the
names from the ``__init__`` signature for ``get_params``, ``set_params``, ``__repr__`` and
:func:`sklearn.base.clone`, and checks the constraints in ``_validate_params``. The
constraint classes are re-exported here, with the one constraint of the ``ci_test`` /
``ci_test_kwargs`` pair that PC, CD-NOD and the time-series search take
(:func:`ci_test_constraints`; :func:`discovery.citest.resolve_ci_test` builds the test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scm._exceptions import DataError, ParameterError, UnknownNodeError
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
    positional_deprecated,
)
from scm._validation import as_dataframe, check_numeric_frame

__all__ = [
    "ParamsMixin",
    "Constraint",
    "Interval",
    "Options",
    "Boolean",
    "InstanceOf",
    "HasAttributes",
    "Satisfies",
    "RandomState",
    "AnyOf",
    "Custom",
    "CITestParameter",
    "ci_test_constraints",
    "is_ci_test",
    "is_layer_sizes",
    "columns_seen_by_fit",
    "positional_deprecated",
]


def columns_seen_by_fit(X, names: list, owner: str, *, name: str = "X") -> pd.DataFrame:
    """``X`` as a numeric DataFrame with the columns ``names`` a fitted estimator saw, in that order.

    A DataFrame must hold those columns (others are ignored); an array must have them,
    and only them, in that order.

    Examples
    --------
    >>> columns_seen_by_fit(pd.DataFrame({"b": [1.0], "a": [2.0], "c": [0.0]}), ["a", "b"], "demo")
         a    b
    0  2.0  1.0
    """
    if isinstance(X, pd.DataFrame):
        X = as_dataframe(X, name=name)  # column names as strings, as fit saw them (a frame with columns 0, 1, ...)
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise UnknownNodeError(f"{name} lacks the column(s) {missing} seen by fit")
        frame = X[names]
    else:
        frame = as_dataframe(X, name=name)
        if frame.shape[1] != len(names):
            # scikit-learn's wording, which its estimator checks look for
            raise DataError(f"{name} has {frame.shape[1]} features, but {owner} is expecting {len(names)} features as input "
                            "(the columns seen by fit)")
        frame.columns = names
    return check_numeric_frame(frame, name=name)


def is_layer_sizes(value, *, min_layers: int = 0) -> bool:
    """Whether ``value`` is a tuple (or list) of at least ``min_layers`` positive ints: hidden layer sizes.

    Examples
    --------
    >>> is_layer_sizes((16, 16)), is_layer_sizes(()), is_layer_sizes((), min_layers=1), is_layer_sizes((8, 0))
    (True, True, False, False)
    """
    return (
        isinstance(value, (tuple, list))
        and len(value) >= min_layers
        and all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1 for h in value)
    )


def is_ci_test(value) -> bool:
    """Whether ``value`` looks like a :class:`discovery.CITest`: ``variables`` and a batched ``pvalues`` or ``test``.

    Examples
    --------
    >>> is_ci_test("fisherz"), is_ci_test(object())
    (False, False)
    """
    return hasattr(value, "variables") and (hasattr(value, "pvalues") or hasattr(value, "test"))


class CITestParameter(Constraint):
    """The ``ci_test`` parameter: the name of a CI test or a CI-test instance.

    Parameters
    ----------
    names : iterable of str, optional
        The names allowed; default: those of :data:`discovery.CI_TESTS` (looked up when a
        name is checked, so that declaring the constraint does not import JAX).
    instance : str, default "a CITest instance"
        What an instance must be, in words, for the error.

    Examples
    --------
    >>> lagged = CITestParameter(("parcorr", "kci"))
    >>> lagged.is_satisfied_by("kci"), lagged.is_satisfied_by("fisherz")
    (True, False)
    >>> lagged.check("gauss", name="ci_test", owner="PCMCI")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'ci_test' parameter of PCMCI must be one of ['parcorr', 'kci'] or a CITest ...; got 'gauss' instead.
    """

    def __init__(self, names=None, *, instance: str = "a CITest instance"):
        self.names = None if names is None else tuple(names)
        self.instance = instance

    def allowed(self) -> list:
        """The names allowed.

        Returns
        -------
        list of str
        """
        if self.names is None:
            from .citest import CI_TESTS

            return list(CI_TESTS)
        return list(self.names)

    @property
    def description(self) -> str:
        return f"one of {self.allowed()} or {self.instance}"

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        if is_ci_test(value) or (isinstance(value, str) and value in self.allowed()):
            return
        where = f" of {owner}" if owner else ""
        raise ParameterError(f"The {name!r} parameter{where} must be {self.description}; got {value!r} instead.")

    def __repr__(self) -> str:
        return f"CITestParameter({self.names!r}, instance={self.instance!r})"


def ci_test_constraints(names=None, *, instance: str = "a CITest instance") -> dict:
    """The constraints of the ``ci_test`` and ``ci_test_kwargs`` parameters, for a constraints table.

    ``ci_test`` is a name (one of ``names``) or a CI-test instance; ``ci_test_kwargs`` a
    dict or ``None``. That options go with a name only, and that an instance has the
    variables of the data, :func:`discovery.citest.resolve_ci_test` checks when it builds
    the test.

    Parameters
    ----------
    names : iterable of str, optional
        The CI-test names allowed (default: those of :data:`discovery.CI_TESTS`).
    instance : str, default "a CITest instance"
        What an instance must be, in words, for the error.

    Returns
    -------
    dict
        ``{"ci_test": CITestParameter, "ci_test_kwargs": InstanceOf}``.

    Examples
    --------
    >>> table = ci_test_constraints(("parcorr", "kci"))
    >>> sorted(table)
    ['ci_test', 'ci_test_kwargs']
    >>> table["ci_test_kwargs"].check(3, name="ci_test_kwargs", owner="PCMCI")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'ci_test_kwargs' parameter of PCMCI must be a dict or None; got 3 instead.
    """
    return {
        "ci_test": CITestParameter(names, instance=instance),
        "ci_test_kwargs": InstanceOf((dict, type(None)), "a dict or None"),
    }
