"""discovery: causal structure learning and the comparison harness.

Every algorithm is a scikit-learn-style estimator: parameters in a keyword-only
``__init__``, ``fit(data, ...)`` returns ``self`` and results live in
trailing-underscore attributes (``graph_``, ``pvalues_``, ``edge_probs_``, ...).
Conditional-independence tests are batched and evaluated by jitted JAX kernels.

One subpackage per family, each with its estimators, its phase functions and its
kernels (``docs/architecture.md``):

- :mod:`discovery.citest`: conditional-independence tests;
- :mod:`discovery.constraint`: PC and CD-NOD;
- :mod:`discovery.differentiable`: DP-DAG, VI-DP-DAG and NOTEARS;
- :mod:`discovery.exchangeable`: Causal de Finetti (grouped data);
- :mod:`discovery.invariance`: ICP, nonlinear ICP, IAS, anchor regression, IRM, CausIRL, minimax transfer, EACS;
- :mod:`discovery.timeseries`: PCMCI and PCMCI+;
- :mod:`discovery.metrics`: SHD, SID, precision / recall, AP;
- :mod:`discovery.evaluation`: the comparison harness, plots and the report; checks of a graph
  and of a fitted model against data.

The names below are re-exported here and imported lazily, so ``import discovery``
does not import JAX until an algorithm is used.
"""

from __future__ import annotations

import importlib

# public name -> the family subpackage that defines it
_EXPORTS = {
    # conditional-independence tests
    "CITest": ".citest",
    "FisherZ": ".citest",
    "KCI": ".citest",
    "ChiSquare": ".citest",
    "GSquare": ".citest",
    "DSeparation": ".citest",
    "make_ci_test": ".citest",
    "CI_TESTS": ".citest",
    # constraint-based search
    "PC": ".constraint",
    "BackgroundKnowledge": ".constraint",
    "CDNOD": ".constraint",
    # differentiable
    "DPDAG": ".differentiable",
    "VIDPDAG": ".differentiable",
    "NOTEARS": ".differentiable",
    # exchangeable (grouped) data
    "CausalDeFinetti": ".exchangeable",
    # invariance
    "ICP": ".invariance",
    "NonlinearICP": ".invariance",
    "AnchorRegression": ".invariance",
    "IRM": ".invariance",
    "CausIRL": ".invariance",
    "MinimaxTransfer": ".invariance",
    "AdaptiveCovariateSelection": ".invariance",
    "ICPGraph": ".invariance",
    "InvariantAncestrySearch": ".invariance",
    # time series
    "PCMCI": ".timeseries",
    "PCMCIPlus": ".timeseries",
    # harness
    "compare": ".evaluation",
    "bootstrap": ".evaluation",
    "BootstrapResult": ".evaluation",
    "register_algorithm": ".evaluation",
    "plot_graph": ".evaluation",
    "plot_lagged_graph": ".evaluation",
    "plot_comparison": ".evaluation",
    "write_report": ".evaluation",
    "edge_counts": ".evaluation",
    "heldout_loglik": ".evaluation",
    "agreement_matrix": ".evaluation",
    "edge_frequencies": ".evaluation",
    "consensus_graph": ".evaluation",
    "check_graph": ".evaluation",
    "check_mechanisms": ".evaluation",
    "GraphCheck": ".evaluation",
    "MechanismCheck": ".evaluation",
}

_SUBPACKAGES = ("citest", "constraint", "differentiable", "evaluation", "exchangeable", "invariance", "metrics", "timeseries")

__all__ = sorted(_EXPORTS) + list(_SUBPACKAGES)


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'discovery' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
