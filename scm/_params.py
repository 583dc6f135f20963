"""Scikit-learn-style parameters, shared by the estimators of ``discovery`` and ``estimators``.

An estimator stores each keyword argument of its ``__init__`` as an attribute of the same
name and does nothing else there. :class:`ParamsMixin` reads the parameter names from that
signature (as :mod:`sklearn.base` does), so ``get_params``, ``set_params``, ``__repr__`` and
:func:`sklearn.base.clone` need no hand-kept list of names.

What a parameter may be is declared as data: a class attribute ``_parameter_constraints``
maps every parameter to a constraint, and one validator,
:meth:`ParamsMixin._validate_params`, called at the start of ``fit``, checks them all. The
constraints call the checks of :mod:`scm._validation`, so an error names the parameter, the
estimator and the bad value::

    The 'alpha' parameter of PC must be in the range (0, 1); got 1.5 instead.

The constraints:

- :class:`Interval` -- an int or a real number in a range, each end open or closed;
- :class:`Options` -- one of a set of strings;
- :class:`Boolean` -- a bool (numpy's included), not a truthy int or string;
- :class:`InstanceOf` -- an instance of some types;
- :class:`HasAttributes` -- an object with some attributes or methods (a duck type);
- :class:`Satisfies` -- any value a predicate accepts;
- :class:`RandomState` -- what :func:`scm._validation.check_random_state` accepts;
- :class:`AnyOf` -- any of several constraints (``None`` among them means "None allowed");
- :class:`Custom` -- a function that raises its own error, for the rare odd parameter.

A rule that ties several parameters together (``tau_min <= tau_max``) cannot be declared per
parameter; an estimator states it in :meth:`ParamsMixin._validate_joint_params`.

This module is private: ``discovery`` and ``estimators`` import it, users do not.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import warnings
from collections.abc import Callable, Iterable

import numpy as np

from ._exceptions import ParameterError
from ._validation import check_bool, check_in_range, check_option, check_random_state

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
    "positional_deprecated",
]


def positional_deprecated(*names: str):
    """Let a method take its keyword-only parameters ``names`` by position too, with a FutureWarning.

    The deprecation path of a parameter that became keyword-only (``fit(X, y, environment)``
    -> ``fit(X, y, *, environment=...)``, the scikit-learn signature): extra positional
    arguments go, in order, to ``names``, and the caller is told to pass them by keyword.
    The wrapped method keeps its signature (``inspect.signature`` shows the keyword-only form).

    Parameters
    ----------
    *names : str
        The keyword-only parameters that used to be positional, in their old order.

    Examples
    --------
    >>> class Model:
    ...     @positional_deprecated("environment")
    ...     def fit(self, X, y, *, environment=None):
    ...         return environment
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Model().fit([[0.0]], [1.0], "site")
    'site'
    >>> print(caught[0].category.__name__, caught[0].message)
    FutureWarning Pass environment as a keyword argument: Model.fit(X, y, environment=...); passing it by position ...
    """

    def decorate(method):
        params = list(inspect.signature(method).parameters.values())
        n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        shown = ", ".join(p.name for p in params[1:n_positional])
        owner = method.__qualname__

        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            extra = args[n_positional:]
            if extra:
                if len(extra) > len(names):
                    raise TypeError(f"{owner}() takes {n_positional} positional arguments but {len(args)} were given")
                given = names[: len(extra)]
                twice = [name for name in given if name in kwargs]
                if twice:
                    raise TypeError(f"{owner}() got multiple values for argument {twice[0]!r}")
                keywords = ", ".join(f"{name}=..." for name in given)
                warnings.warn(
                    f"Pass {' and '.join(given)} as a keyword argument{'s' if len(given) > 1 else ''}: "
                    f"{owner}({shown}, {keywords}); passing {'them' if len(given) > 1 else 'it'} by position is "
                    "deprecated and will be an error in a future version.",
                    FutureWarning,
                    stacklevel=2,
                )
                kwargs.update(zip(given, extra))
                args = args[:n_positional]
            return method(*args, **kwargs)

        return wrapper

    return decorate


def _where(owner: str | None) -> str:
    return f" of {owner}" if owner else ""


def _must_be(name: str, owner: str | None, description: str, shown: str) -> ParameterError:
    """The error of a parameter outside its description (the wording of :mod:`scm._validation`)."""
    return ParameterError(f"The {name!r} parameter{_where(owner)} must be {description}; got {shown} instead.")


# --------------------------------------------------------------------------- constraints
class Constraint:
    """What one parameter may be: a check that raises, and a description.

    Subclasses implement :meth:`check`; :meth:`is_satisfied_by` is derived from it, so the
    two never disagree.

    Attributes
    ----------
    description : str
        What the value must be, in words (``"a bool"``, ``"one of ['a', 'b']"``).

    Examples
    --------
    >>> Interval(numbers.Real, 0, 1).is_satisfied_by(0.5)
    True
    >>> Interval(numbers.Real, 0, 1).check(1.5, name="alpha", owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'alpha' parameter of PC must be in the range (0, 1); got 1.5 instead.
    """

    description: str = "any value"

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        """Raise :class:`scm.ParameterError` (naming ``name``, ``owner`` and ``value``) unless ``value`` is allowed.

        Parameters
        ----------
        value
            The value to check.
        name : str
            The parameter's name, for the message.
        owner : str, optional
            Whose parameter it is (the estimator's class name), for the message.

        Raises
        ------
        scm.ParameterError
        """
        raise NotImplementedError

    def is_satisfied_by(self, value) -> bool:
        """Whether :meth:`check` accepts ``value``.

        Parameters
        ----------
        value

        Returns
        -------
        bool
        """
        try:
            self.check(value, name="value")
        except ParameterError:
            return False
        return True

    def __str__(self) -> str:
        return self.description


class Interval(Constraint):
    """An int or a real number in a range, checked by :func:`scm._validation.check_in_range`.

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        ``numbers.Integral``: an int (numpy's included, not a bool); ``numbers.Real``: a
        finite real number (not a bool).
    low, high : number or None
        The ends of the range (``None``: unbounded).
    closed : {"neither", "left", "right", "both"}, default "neither"
        Which ends belong to the range.

    Examples
    --------
    >>> Interval(numbers.Integral, 1, None, closed="left")
    Interval(Integral, 1, None, closed='left')
    >>> str(Interval(numbers.Integral, 1, None, closed="left"))
    'an int in the range [1, inf)'
    >>> Interval(numbers.Integral, 1, None, closed="left").check(2.5, name="max_iter", owner="NOTEARS")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'max_iter' parameter of NOTEARS must be an int; got 2.5 instead.
    """

    _CLOSED = ("neither", "left", "right", "both")

    def __init__(self, kind, low=None, high=None, *, closed: str = "neither"):
        if kind not in (numbers.Integral, numbers.Real):
            raise TypeError(f"Interval's kind must be numbers.Integral or numbers.Real; got {kind!r}")
        if closed not in self._CLOSED:
            raise TypeError(f"Interval's closed must be one of {list(self._CLOSED)}; got {closed!r}")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed
        lb = "[" if closed in ("both", "left") else "("
        rb = "]" if closed in ("both", "right") else ")"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        self.description = f"{'an int' if kind is numbers.Integral else 'a number'} in the range {lb}{lo}, {hi}{rb}"

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        check_in_range(
            value, name=name, low=self.low, high=self.high, inclusive=self.closed, owner=owner, integer=self.kind is numbers.Integral
        )

    def __repr__(self) -> str:
        return f"Interval({self.kind.__name__}, {self.low!r}, {self.high!r}, closed={self.closed!r})"


class Options(Constraint):
    """One of a set of strings, checked by :func:`scm._validation.check_option` (the error lists them).

    Parameters
    ----------
    values : iterable of str
        The allowed strings, in the order the error lists them.

    Examples
    --------
    >>> Options(("sepset", "maxp")).check("majority", name="orientation", owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'orientation' parameter of PC must be one of ['sepset', 'maxp']; got 'majority' instead.
    """

    def __init__(self, values: Iterable[str]):
        self.values = tuple(values)
        self.description = f"one of {list(self.values)}"

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        check_option(value, self.values, name=name, owner=owner)

    def __repr__(self) -> str:
        return f"Options({self.values!r})"


class Boolean(Constraint):
    """A bool (numpy's included), checked by :func:`scm._validation.check_bool`.

    Examples
    --------
    >>> Boolean().check(1, name="stable", owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'stable' parameter of PC must be a bool; got 1 instead.
    """

    description = "a bool"

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        check_bool(value, name=name, owner=owner)

    def __repr__(self) -> str:
        return "Boolean()"


class _IsNone(Constraint):
    """``None``; written ``None`` among the members of :class:`AnyOf`."""

    description = "None"

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        if value is not None:
            raise _must_be(name, owner, self.description, repr(value))

    def __repr__(self) -> str:
        return "None"


class InstanceOf(Constraint):
    """An instance of some types; the error shows the value.

    Parameters
    ----------
    types : type or tuple of types
        As for :func:`isinstance` (``type(None)`` allows ``None``).
    description : str
        What the value must be, in words, for the error.

    Examples
    --------
    >>> kwargs = InstanceOf((dict, type(None)), "a dict or None")
    >>> kwargs.is_satisfied_by(None), kwargs.is_satisfied_by({"width": 1.0})
    (True, True)
    >>> kwargs.check([1], name="ci_test_kwargs", owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'ci_test_kwargs' parameter of PC must be a dict or None; got [1] instead.
    """

    def __init__(self, types, description: str):
        self.types = types
        self.description = description

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        if not isinstance(value, self.types):
            raise _must_be(name, owner, self.description, repr(value))

    def __repr__(self) -> str:
        return f"InstanceOf({self.types!r}, {self.description!r})"


class HasAttributes(Constraint):
    """An object with some attributes or methods (a duck type); the error shows the value's type.

    Parameters
    ----------
    names : iterable of str
        The attributes the value must have.
    description : str
        What the value must be, in words, for the error.

    Examples
    --------
    >>> regressor = HasAttributes(("fit", "predict"), "a scikit-learn regressor")
    >>> regressor.check(object(), name="regressor", owner="NonlinearICP")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'regressor' parameter of NonlinearICP must be a scikit-learn regressor; got object instead.
    """

    def __init__(self, names: Iterable[str], description: str):
        self.names = tuple(names)
        self.description = description

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        if not all(hasattr(value, a) for a in self.names):
            raise _must_be(name, owner, self.description, type(value).__name__)

    def __repr__(self) -> str:
        return f"HasAttributes({self.names!r}, {self.description!r})"


class Satisfies(Constraint):
    """Any value that a predicate accepts; the error shows the value.

    Parameters
    ----------
    predicate : callable
        ``predicate(value) -> bool``; a ``TypeError`` or ``ValueError`` it raises counts as
        ``False``.
    description : str
        What the value must be, in words, for the error.

    Examples
    --------
    >>> sizes = Satisfies(lambda h: isinstance(h, tuple) and all(k >= 1 for k in h), "a tuple of positive ints")
    >>> sizes.check((16, 0), name="hidden", owner="VIDPDAG")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'hidden' parameter of VIDPDAG must be a tuple of positive ints; got (16, 0) instead.
    """

    def __init__(self, predicate: Callable[[object], bool], description: str):
        self.predicate = predicate
        self.description = description

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        try:
            ok = bool(self.predicate(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise _must_be(name, owner, self.description, repr(value))

    def __repr__(self) -> str:
        return f"Satisfies({self.description!r})"


class RandomState(Constraint):
    """A seed: what :func:`scm._validation.check_random_state` accepts.

    ``None``, an int, a :class:`numpy.random.SeedSequence`, a :class:`numpy.random.Generator` or a
    legacy :class:`numpy.random.RandomState`. The check does not draw from a generator, so
    validating leaves its state alone.

    Examples
    --------
    >>> RandomState().is_satisfied_by(0), RandomState().is_satisfied_by(np.random.default_rng(0))
    (True, True)
    >>> RandomState().check("seed", name="random_state", owner="NOTEARS")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: random_state must be None, an int or a numpy Generator; got 'seed'
    """

    description = "None, an int or a numpy Generator"
    _TYPES = (type(None), numbers.Integral, np.random.SeedSequence, np.random.Generator, np.random.RandomState)

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        bad_int = isinstance(value, numbers.Integral) and (isinstance(value, (bool, np.bool_)) or value < 0)
        if bad_int or not isinstance(value, self._TYPES):
            check_random_state(value)  # raises, with its own message

    def __repr__(self) -> str:
        return "RandomState()"


class AnyOf(Constraint):
    """Any of several constraints; ``None`` among them allows ``None``.

    When no member accepts the value, the error is the last member's: put last the one
    whose message says the most (the range of a number rather than ``None``).

    Parameters
    ----------
    *constraints : Constraint or None
        The alternatives.

    Examples
    --------
    >>> max_cond_size = AnyOf(None, Interval(numbers.Integral, 0, None, closed="left"))
    >>> max_cond_size.is_satisfied_by(None), max_cond_size.is_satisfied_by(3)
    (True, True)
    >>> str(max_cond_size)
    'None or an int in the range [0, inf)'
    >>> max_cond_size.check(-1, name="max_cond_size", owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'max_cond_size' parameter of PC must be in the range [0, inf); got -1 instead.
    """

    def __init__(self, *constraints):
        if not constraints:
            raise TypeError("AnyOf needs at least one constraint")
        self.constraints = tuple(_IsNone() if c is None else c for c in constraints)
        bad = [c for c in self.constraints if not isinstance(c, Constraint)]
        if bad:
            raise TypeError(f"AnyOf takes constraints or None; got {bad!r}")
        self.description = " or ".join(c.description for c in self.constraints)

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        if any(c.is_satisfied_by(value) for c in self.constraints):
            return
        self.constraints[-1].check(value, name=name, owner=owner)

    def __repr__(self) -> str:
        return f"AnyOf({', '.join(map(repr, self.constraints))})"


class Custom(Constraint):
    """A parameter whose check fits no other constraint: a function that raises its own error.

    For the rare parameter whose message depends on the kind of value (a string option
    or else a number in a range, each with its own wording).

    Parameters
    ----------
    check : callable
        ``check(value, *, name, owner)``: returns for an allowed value, raises
        :class:`scm.ParameterError` (naming ``name`` and the value) otherwise.
    description : str
        What the value must be, in words.

    Examples
    --------
    >>> def check_lambda(value, *, name, owner):
    ...     if isinstance(value, str):
    ...         if value != "auto":
    ...             raise ParameterError(f"The {name!r} parameter of {owner} must be 'auto' or a number; got {value!r} instead.")
    ...     else:
    ...         check_in_range(value, name=name, low=0, inclusive="left", owner=owner)
    >>> lambda1 = Custom(check_lambda, "'auto' or a non-negative number")
    >>> lambda1.is_satisfied_by("auto"), lambda1.is_satisfied_by(0.1), lambda1.is_satisfied_by(-0.1)
    (True, True, False)
    """

    def __init__(self, check: Callable[..., None], description: str):
        self._check = check
        self.description = description

    def check(self, value, *, name: str, owner: str | None = None) -> None:
        self._check(value, name=name, owner=owner)

    def __repr__(self) -> str:
        return f"Custom({getattr(self._check, '__name__', self._check)!r}, {self.description!r})"


# --------------------------------------------------------------------------- the mixin
@functools.cache
def _init_parameters(cls: type) -> tuple[str, ...]:
    """The names of the parameters of ``cls.__init__``, in signature order (cached per class)."""
    init = cls.__init__
    if init is object.__init__:
        return ()
    signature = inspect.signature(init)
    params = list(signature.parameters.values())[1:]  # without self
    varargs = [("*" if p.kind is p.VAR_POSITIONAL else "**") + p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if varargs:
        raise TypeError(
            f"{cls.__name__}.__init__ must name each of its parameters (scikit-learn convention, so that get_params, "
            f"set_params and clone can read them); it takes {varargs[0]} in {cls.__name__}{signature}"
        )
    return tuple(p.name for p in params)


def _same_value(value, default) -> bool:
    """Whether ``value`` equals a default: the same object, or the same type and ``==`` says so."""
    if value is default:
        return True
    if type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except Exception:  # numpy arrays, data frames: no single truth value
        return False


class ParamsMixin:
    """``get_params``, ``set_params``, ``__repr__`` and one validator from the ``__init__`` signature.

    A subclass takes its parameters as named arguments of ``__init__`` (no ``*args`` or
    ``**kwargs``), each with a default, and stores each one unchanged as an attribute of
    the same name. It declares what each parameter may be in ``_parameter_constraints``
    and calls :meth:`_validate_params` at the start of ``fit``.

    Attributes
    ----------
    _parameter_constraints : dict
        Parameter name -> :class:`Constraint`, one entry per parameter of ``__init__``.
    _estimator_type : str or None
        ``"regressor"`` for a regressor (scikit-learn's tags), else ``None``.
    _target_required : bool
        Whether ``fit`` needs ``y`` (scikit-learn's tags).

    Examples
    --------
    >>> class Smoother(ParamsMixin):
    ...     _parameter_constraints = {
    ...         "width": Interval(numbers.Real, 0, None),
    ...         "kernel": Options(("gauss", "box")),
    ...     }
    ...     def __init__(self, *, width=1.0, kernel="gauss"):
    ...         self.width = width
    ...         self.kernel = kernel
    ...     def fit(self, X, y=None):
    ...         self._validate_params()
    ...         return self
    >>> model = Smoother(width=2.0)
    >>> model.get_params()
    {'width': 2.0, 'kernel': 'gauss'}
    >>> model.set_params(kernel="box") is model
    True
    >>> model
    Smoother(width=2.0, kernel='box')
    >>> Smoother()
    Smoother()
    >>> Smoother(kernel="tophat").fit(None)
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'kernel' parameter of Smoother must be one of ['gauss', 'box']; got 'tophat' instead.
    """

    _parameter_constraints: dict = {}
    _estimator_type: str | None = None
    _target_required: bool = False

    @classmethod
    def _get_param_names(cls) -> tuple[str, ...]:
        """The parameter names, read from the signature of ``__init__`` (in its order).

        Returns
        -------
        tuple of str

        Raises
        ------
        TypeError
            If ``__init__`` takes ``*args`` or ``**kwargs``.
        """
        return _init_parameters(cls)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters, as a dict (scikit-learn convention).

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of the values that have ``get_params`` themselves (a
            scikit-learn learner), as ``<parameter>__<its parameter>``.

        Returns
        -------
        dict
            Parameter name -> current value, in the order of the ``__init__`` signature.
        """
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
        return out

    def set_params(self, **params):
        """Set constructor parameters; unknown names are an error.

        Parameters
        ----------
        **params
            New values, by parameter name; ``<parameter>__<its parameter>`` sets a parameter
            of a nested learner.

        Returns
        -------
        self
            The estimator itself, so that calls can be chained.

        Raises
        ------
        scm.ParameterError
            If a name is not a parameter of ``__init__`` (no parameter is set then for that
            name or any later one, nor any nested one).
        """
        names = self._get_param_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, sep, inner = key.partition("__")
            if name not in names:
                raise ParameterError(f"{type(self).__name__} has no parameter {key!r}; valid parameters are {list(names)}.")
            if sep:
                nested.setdefault(name, {})[inner] = value
            else:
                setattr(self, name, value)
        for name, inner_params in nested.items():
            learner = getattr(self, name)
            if not hasattr(learner, "set_params"):
                raise ParameterError(
                    f"{type(self).__name__} has no parameter {name + '__' + next(iter(inner_params))!r}: "
                    f"its parameter {name!r} is {learner!r}, which has no parameters."
                )
            learner.set_params(**inner_params)
        return self

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints``, then :meth:`_validate_joint_params`.

        Called at the start of ``fit``; a parameter without a declared constraint is not
        checked (the test suite requires one for every parameter of every exported estimator).

        Raises
        ------
        scm.ParameterError
            For the first parameter (in signature order) outside its constraint; the
            message names it, the estimator's class and the value.
        """
        owner = type(self).__name__
        constraints = self._parameter_constraints
        for name in self._get_param_names():
            constraint = constraints.get(name)
            if constraint is not None:
                constraint.check(getattr(self, name), name=name, owner=owner)
        self._validate_joint_params()

    def _validate_joint_params(self) -> None:
        """A rule that ties several parameters together (each one already passed its constraint).

        Nothing by default; an estimator overrides it for a rule no single constraint can
        state (``tau_min <= tau_max``).

        Raises
        ------
        scm.ParameterError
        """

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

        The defaults are those of an instance built with no arguments. A value equals its
        default when it is the same object, or when it has the same type and ``==`` says
        so; a comparison that raises or does not give a single truth value (numpy arrays,
        data frames) counts as different.

        Returns
        -------
        str
        """
        defaults = type(self)().get_params(deep=False)
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items() if not _same_value(v, defaults[k])]
        return f"{type(self).__name__}({', '.join(changed)})"
