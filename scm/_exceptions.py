"""The exception hierarchy of scmkit.

Every error raised on bad input derives from :class:`ScmkitError` *and* from the
matching builtin (``ValueError`` or ``KeyError``), so ``except ValueError`` keeps
working for callers who do not know scmkit's classes.
"""

from __future__ import annotations

__all__ = [
    "ScmkitError",
    "DataError",
    "UnknownNodeError",
    "CycleError",
    "GraphError",
    "NotInvertibleError",
    "GraphChangedError",
    "NotFittedError",
    "ParameterError",
    "ConvergenceError",
    "BootstrapError",
    "OrientationWarning",
]


class ScmkitError(Exception):
    """Base class of every error scmkit raises on purpose."""


class ParameterError(ScmkitError, ValueError):
    """A parameter has a value outside its allowed set or range."""


class DataError(ScmkitError, ValueError):
    """The data are unusable: NaN, non-numeric, constant, too few rows, ..."""


class UnknownNodeError(ScmkitError, KeyError):
    """A node or column name is not in the graph or the data."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class GraphError(ScmkitError, ValueError):
    """A graph is malformed for the requested operation."""


class CycleError(GraphError):
    """A graph that must be acyclic has a directed cycle.

    Attributes
    ----------
    cycle : list
        The nodes of one directed cycle, in order.
    """

    def __init__(self, message: str, cycle=None):
        super().__init__(message)
        self.cycle = list(cycle) if cycle is not None else None


class NotInvertibleError(ScmkitError, ValueError):
    """A mechanism cannot recover its noise from its output (no abduction)."""


class GraphChangedError(ScmkitError, ValueError):
    """The graph of a model changed after the model was built or fitted."""


class NotFittedError(ScmkitError, AttributeError):
    """An estimator was used before ``fit``."""


class ConvergenceError(ScmkitError, RuntimeError):
    """An optimisation diverged (NaN loss) or failed to converge."""


class BootstrapError(DataError):
    """Too many bootstrap refits of a fitted model failed for its interval to be trusted.

    Refits fail on resamples that cannot be fitted (a parent constant in a small resample,
    collinear parents, ...). A few failures are counted and reported with the answer; past a
    tenth of the resamples the interval would describe only the resamples that happen to be
    fittable, so the query is refused instead.
    """


class OrientationWarning(UserWarning):
    """An undirected edge was oriented by an arbitrary choice (:func:`scm.consistent_extension`).

    A CPDAG stands for several DAGs; picking one of them is a guess that interventional
    answers can depend on. Each warning lists the edges it chose. Ask over the whole class
    instead with :func:`estimators.ida` or ``SCM.fit(..., orientation="all")``.
    """
