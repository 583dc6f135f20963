"""Grouped (exchangeable) data: Causal de Finetti.

Data come in groups (environments, subjects, batches) whose mechanisms vary independently
(the independent-causal-mechanism principle); rows of one group share their mechanisms. Tests
across two rows of one group identify the unique DAG, not only its Markov equivalence class
(Guo et al., NeurIPS 2023). ``docs/exchangeable.md`` is the guide.

- :class:`CausalDeFinetti`: the estimator, ``fit(data, groups="group")``.
- Its phases: :func:`bivariate_tests` and :func:`bivariate_rule` (two variables);
  :func:`sink_layers` (the topological layers, sinks first) and :func:`layer_edges` (the edges).
- The two-sample view: :func:`split_groups` (variables and group codes, validated),
  :func:`pair_samples` (layers of within-group pairs), :func:`two_sample_frames` (a frame per
  layer), :func:`two_sample_names`, :func:`combine_pvalues` (Cauchy combination across layers)
  and :func:`two_sample_graph`, whose :class:`discovery.DSeparation` is the oracle.

The CI tests are those of :mod:`discovery.citest` (KCI, Fisher-z, G-test), batched.
"""

from ._causaldf import PROCEDURES, CausalDeFinetti, bivariate_rule, bivariate_tests, layer_edges, sink_layers
from ._pairs import (
    MIN_LAYER_GROUPS,
    PAIRINGS,
    combine_pvalues,
    pair_samples,
    split_groups,
    two_sample_frames,
    two_sample_graph,
    two_sample_names,
)

__all__ = [
    "CausalDeFinetti",
    # phases
    "bivariate_tests",
    "bivariate_rule",
    "sink_layers",
    "layer_edges",
    # the two-sample view
    "split_groups",
    "pair_samples",
    "two_sample_frames",
    "two_sample_names",
    "two_sample_graph",
    "combine_pvalues",
    "PAIRINGS",
    "PROCEDURES",
    "MIN_LAYER_GROUPS",
]
