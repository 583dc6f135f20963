"""What the discovery estimators share: parameter handling and the columns a fit saw.

Every estimator of :mod:`discovery` stores its keyword-only constructor arguments as
attributes of the same name and declares what each may be in ``_parameter_constraints``;
:class:`ParamsMixin` (from :mod:`scm._params`, shared with :mod:`estimators`) reads the
names from the ``__init__`` signature for ``get_params``, ``set_params``, ``__repr__`` and
:func:`sklearn.base.clone`, and checks the constraints in ``_validate_params``. The
constraint classes are re-exported here.
"""

from __future__ import annotations

import pandas as pd

from scm._exceptions import DataError, UnknownNodeError
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
    "columns_seen_by_fit",
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
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise UnknownNodeError(f"{name} lacks the column(s) {missing} seen by fit")
        frame = X[names]
    else:
        frame = as_dataframe(X, name=name)
        if frame.shape[1] != len(names):
            raise DataError(f"{name} has {frame.shape[1]} columns but {owner} was fitted on {len(names)}")
        frame.columns = names
    return check_numeric_frame(frame, name=name)
