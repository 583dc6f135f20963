"""Scikit-learn-style parameter handling shared by the discovery estimators.

Every estimator of :mod:`discovery` stores its keyword-only constructor arguments
as attributes of the same name and lists those names in a class attribute
``_param_names``. :class:`ParamsMixin` turns that tuple into ``get_params``,
``set_params`` and a ``__repr__`` that shows only the parameters that differ from
their defaults, so that :func:`sklearn.base.clone` and friends work unchanged.
"""

from __future__ import annotations

import pandas as pd

from scm._exceptions import DataError, ParameterError, UnknownNodeError
from scm._validation import as_dataframe, check_numeric_frame

__all__ = ["ParamsMixin", "columns_seen_by_fit"]


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


class ParamsMixin:
    """``get_params``, ``set_params`` and ``__repr__`` from a tuple of parameter names.

    A subclass lists its constructor parameters in ``_param_names``, stores each
    one as an attribute of the same name, and can be built with no arguments
    (every parameter has a default).

    Attributes
    ----------
    _param_names : tuple of str
        Names of the constructor parameters, in the order ``get_params`` and
        ``__repr__`` list them.

    Examples
    --------
    >>> class Smoother(ParamsMixin):
    ...     _param_names = ("width", "kernel")
    ...     def __init__(self, *, width=1.0, kernel="gauss"):
    ...         self.width = width
    ...         self.kernel = kernel
    >>> model = Smoother(width=2.0)
    >>> model.get_params()
    {'width': 2.0, 'kernel': 'gauss'}
    >>> model.set_params(kernel="box") is model
    True
    >>> model
    Smoother(width=2.0, kernel='box')
    >>> Smoother()
    Smoother()
    """

    _param_names: tuple = ()
    _estimator_type: str | None = None
    _target_required: bool = False

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters, as a dict (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; nested estimators are not
            expanded.

        Returns
        -------
        dict
            Parameter name -> current value, in the order of ``_param_names``.
        """
        return {k: getattr(self, k) for k in self._param_names}

    def set_params(self, **params):
        """Set constructor parameters; unknown names are an error.

        Parameters
        ----------
        **params
            New values, by parameter name.

        Returns
        -------
        self
            The estimator itself, so that calls can be chained.

        Raises
        ------
        scm.ParameterError
            If a name is not one of ``_param_names`` (no parameter is set then
            for that name or any later one).
        """
        for k, v in params.items():
            if k not in self._param_names:
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {k!r}; valid parameters are {list(self._param_names)}."
                )
            setattr(self, k, v)
        return self

    def __sklearn_tags__(self):
        """scikit-learn's estimator tags (version 1.6 on; older versions do not ask).

        What ``GridSearchCV`` and the other meta-estimators read: by default an
        unsupervised estimator of 2-D data (``y`` optional); a subclass that needs a
        target sets ``_target_required``, and a regressor ``_estimator_type = "regressor"``.
        """
        from sklearn.utils import RegressorTags, Tags, TargetTags

        regressor = self._estimator_type == "regressor"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=self._target_required or regressor),
            regressor_tags=RegressorTags() if regressor else None,
        )

    def __repr__(self) -> str:
        """``ClassName(name=value, ...)`` with the parameters that differ from the defaults.

        A value equals its default when it is the same object, or when it has the
        same type and ``==`` says so; a comparison that raises or does not give a
        single truth value (numpy arrays, data frames) counts as different.

        Returns
        -------
        str
        """
        defaults = type(self)().get_params()
        changed = []
        for k, v in self.get_params().items():
            d = defaults[k]
            same = v is d
            if not same and type(v) is type(d):
                try:
                    same = bool(v == d)
                except Exception:
                    same = False
            if not same:
                changed.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(changed)})"
