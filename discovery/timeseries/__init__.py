"""Causal discovery on time series: PCMCI and PCMCI+.

Estimators: :class:`PCMCI` (lagged links), :class:`PCMCIPlus` (lagged and
contemporaneous links). Their phases, on public types:

- :func:`lagged_design` builds the :class:`LaggedDesign` (every variable at every lag);
- :func:`pc1_parents`: PCMCI's condition selection (PC1, :class:`PC1Result`);
- :func:`mci_tests`: the momentary conditional independence tests;
- :func:`mci_skeleton` (:class:`MCISkeletonResult`), :func:`orient_contemporaneous_colliders`
  (:class:`CollidersResult`), :func:`orient_contemporaneous_rules`: PCMCI+'s phases after PC1;
- :func:`lagged_metrics`: SHD and precision / recall / F1 between lagged graphs.

The partial-correlation kernels live in :mod:`discovery.timeseries._kernels`.
"""

from ._metrics import lagged_metrics
from ._pcmci import (
    PCMCI,
    CollidersResult,
    LaggedDesign,
    MCISkeletonResult,
    PC1Result,
    PCMCIPlus,
    lagged_design,
    mci_skeleton,
    mci_tests,
    orient_contemporaneous_colliders,
    orient_contemporaneous_rules,
    pc1_parents,
)

__all__ = [
    "PCMCI",
    "PCMCIPlus",
    "LaggedDesign",
    "lagged_design",
    "pc1_parents",
    "PC1Result",
    "mci_tests",
    "mci_skeleton",
    "MCISkeletonResult",
    "orient_contemporaneous_colliders",
    "CollidersResult",
    "orient_contemporaneous_rules",
    "lagged_metrics",
]
