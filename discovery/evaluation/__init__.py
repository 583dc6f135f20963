"""Compare discovery algorithms: the harness, the default suite, plots and the HTML report.

- :func:`compare`: algorithms x datasets x seeds -> a tidy table, on any executor
  (local processes, the calling process, a Dask cluster), resumable from a cache. Its
  phases: :func:`build_tasks` (a :class:`TaskPlan` of :class:`RunTask`),
  :func:`run_tasks` (one :class:`RunResult` each) and :func:`tabulate`.
- :func:`register_algorithm`, :func:`capability_of`: which datasets an estimator
  applies to and how it is fitted and scored.
- :func:`summarise`: mean and standard deviation over seeds.
- Without a true graph: :func:`edge_counts`, :func:`heldout_loglik` (the cross-validated
  log-likelihood of a linear-Gaussian SCM on a learned graph), :func:`agreement_matrix`
  (SHD between algorithms), :func:`edge_frequencies` and :func:`consensus_graph`.
- :func:`bootstrap`: refit an estimator on resamples of one data set and count how often
  each edge comes back (a :class:`BootstrapResult`: frequencies, a consensus graph, one
  stability number): the uncertainty of a learned graph when the truth is unknown.
- :func:`plot_graph`, :func:`plot_comparison`, :func:`write_report`: figures and the report;
  :func:`plot_lagged_graph`: a time-series graph by lags or as its summary, links coloured
  by their strength (tigramite's two plots).
- :func:`default_datasets`, :func:`default_algorithms`, :func:`run_default_suite`:
  the bundled suite ``scmkit compare`` runs.
- :func:`check_graph` (a :class:`GraphCheck`), :func:`implied_independences`: do the data
  contradict the independences a graph implies, and does it beat random relabellings of its
  nodes; :func:`check_mechanisms` (a :class:`MechanismCheck`): held-out fit and residual
  independence of a fitted model's mechanisms.

This package is named ``evaluation`` rather than ``compare`` so that the subpackage
does not shadow the function :func:`discovery.compare`.
"""

from ._bootstrap import BootstrapResult, bootstrap
from ._check import GraphCheck, MechanismCheck, check_graph, check_mechanisms, implied_independences
from ._compare import (
    Capability,
    RunResult,
    RunTask,
    TaskPlan,
    build_tasks,
    capability_of,
    compare,
    register_algorithm,
    run_tasks,
    summarise,
    tabulate,
)
from ._plot import plot_comparison, plot_graph, plot_lagged_graph
from ._report import write_report
from ._suite import default_algorithms, default_datasets, run_default_suite
from ._truthfree import agreement_matrix, consensus_graph, edge_counts, edge_frequencies, heldout_loglik

__all__ = [
    "compare",
    "build_tasks",
    "run_tasks",
    "tabulate",
    "TaskPlan",
    "RunTask",
    "RunResult",
    "summarise",
    "edge_counts",
    "heldout_loglik",
    "agreement_matrix",
    "edge_frequencies",
    "consensus_graph",
    "bootstrap",
    "BootstrapResult",
    "register_algorithm",
    "capability_of",
    "Capability",
    "plot_graph",
    "plot_lagged_graph",
    "plot_comparison",
    "write_report",
    "default_datasets",
    "default_algorithms",
    "run_default_suite",
    "check_graph",
    "implied_independences",
    "GraphCheck",
    "check_mechanisms",
    "MechanismCheck",
]
