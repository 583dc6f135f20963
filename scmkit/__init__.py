"""scmkit: the command line of the scmkit distribution.

It serves the three import packages, so it lives above them: :mod:`scm` (graphs and
structural causal models), :mod:`discovery` (structure learning and the comparison
harness) and :mod:`estimators` (identification and effect estimation). Run it as the
``scmkit`` console script or as ``python -m scmkit``; :func:`main` is the entry point.

What needs two packages at once lives here too: :func:`learn_and_rank` learns a time-series
graph with :class:`discovery.PCMCIPlus` and ranks root causes with
:func:`estimators.rank_root_causes`.
"""

from ._rootcause import learn_and_rank
from .cli import main

__all__ = ["main", "learn_and_rank"]
