"""discovery: causal structure learning and the comparison harness.

Every algorithm is a scikit-learn-style estimator: parameters in a keyword-only
``__init__``, ``fit(data, ...)`` returns ``self`` and results live in
trailing-underscore attributes (``graph_``, ``pvalues_``, ``edge_probs_``, ...).
Conditional-independence tests are batched and evaluated by jitted JAX kernels.

Names are imported lazily, so ``import discovery`` does not import JAX until an
algorithm is used.
"""

from __future__ import annotations

import importlib

# public name -> private module that defines it
_EXPORTS = {
    # conditional-independence tests
    "CITest": "._citest",
    "FisherZ": "._citest",
    "KCI": "._citest",
    "ChiSquare": "._citest",
    "GSquare": "._citest",
    "DSeparation": "._citest",
    "make_ci_test": "._citest",
    "CI_TESTS": "._citest",
    # constraint-based search
    "PC": "._pc",
    "BackgroundKnowledge": "._background",
    "CDNOD": "._cdnod",
    # differentiable
    "DPDAG": "._dpdag",
    "VIDPDAG": "._vidpdag",
    "NOTEARS": "._notears",
    # invariance
    "ICP": "._icp",
    "NonlinearICP": "._icp",
    "AnchorRegression": "._invariant",
    "IRM": "._invariant",
    # time series
    "PCMCI": "._pcmci",
    "PCMCIPlus": "._pcmci",
    # harness
    "compare": "._compare",
    "ICPGraph": "._compare",
    "register_algorithm": "._compare",
    "plot_graph": "._plot",
    "plot_comparison": "._plot",
    "write_report": "._report",
}

__all__ = sorted(_EXPORTS) + ["citest", "metrics"]


def __getattr__(name: str):
    if name in ("citest", "metrics"):
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
