"""The CI test an estimator's ``ci_test`` / ``ci_test_kwargs`` parameters ask for.

PC, CD-NOD and the time-series search take the same two parameters: a CI test by name
with its options, or a ready instance. :func:`resolve_ci_test` is the one place that turns
them into a test and checks what the declared constraints
(:func:`discovery._base.ci_test_constraints`) cannot: options go with a name only, and an
instance is built on the variables of the data.
"""

from __future__ import annotations

from scm._exceptions import ParameterError
from scm._validation import as_dataframe

from .._base import ci_test_constraints
from ._citest import CITest, make_ci_test

__all__ = ["resolve_ci_test"]


def resolve_ci_test(
    ci_test, ci_test_kwargs=None, data=None, *, owner: str, names=None, what: str = "the same variables as the data"
) -> CITest:
    """Build the CI test named by ``ci_test`` on ``data``, or check the instance given.

    Parameters
    ----------
    ci_test : str or CITest
        A name of :data:`discovery.CI_TESTS` (within ``names``) or an instance.
    ci_test_kwargs : dict, optional
        Options of the test; only with a name.
    data : pandas.DataFrame or array, optional
        The data the test runs on (a name builds the test on it). With an instance, its
        columns must be the instance's variables; without data they are not checked.
    owner : str
        The estimator whose parameters these are, for the messages.
    names : iterable of str, optional
        The names allowed (default: every name of :data:`discovery.CI_TESTS`).
    what : str, default "the same variables as the data"
        The variables an instance must have, in words, for the message.

    Returns
    -------
    CITest
        A new test built on ``data``, or ``ci_test`` itself.

    Raises
    ------
    scm.ParameterError
        An unknown name or an object that is no CI test, options that are not a dict or
        come with an instance, or an instance on other variables than ``data``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> data = pd.DataFrame(np.random.default_rng(0).normal(size=(100, 3)), columns=["A", "B", "C"])
    >>> test = resolve_ci_test("kci", {"approximation": "nystrom"}, data, owner="PC")
    >>> type(test).__name__, test.variables
    ('KCI', ['A', 'B', 'C'])
    >>> resolve_ci_test(test, None, data, owner="PC") is test
    True
    >>> resolve_ci_test(test, {"width": 1.0}, data, owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The 'ci_test_kwargs' parameter of PC is only used when 'ci_test' is a name.
    >>> resolve_ci_test(test, None, data[["A", "B"]], owner="PC")
    Traceback (most recent call last):
    ...
    scm._exceptions.ParameterError: The CI test instance passed as 'ci_test' must be built on the same ... got ['A', 'B', 'C'].
    """
    constraints = ci_test_constraints(names)
    for name, value in (("ci_test", ci_test), ("ci_test_kwargs", ci_test_kwargs)):
        constraints[name].check(value, name=name, owner=owner)
    kwargs = dict(ci_test_kwargs or {})
    if isinstance(ci_test, str):
        return make_ci_test(ci_test, data, **kwargs)
    if kwargs:
        raise ParameterError(f"The 'ci_test_kwargs' parameter of {owner} is only used when 'ci_test' is a name.")
    if data is not None:
        columns = list(as_dataframe(data, name="data").columns)
        variables = list(ci_test.variables)
        if set(variables) != set(columns):
            raise ParameterError(
                f"The CI test instance passed as 'ci_test' must be built on {what} ({columns[:10]}); got {variables[:10]}."
            )
    return ci_test
