"""Differentiable structure learning: DP-DAG, VI-DP-DAG and NOTEARS.

- :class:`DPDAG`: a distribution over DAGs (a permutation and an edge matrix) with
  exact sampling, its mode and exact edge marginals; the functional core
  :func:`sample`, :func:`mode` and :func:`edge_probs` takes its parameter dict and
  runs inside ``jax.jit`` and ``jax.grad``.
- :class:`VIDPDAG`: variational inference over DP-DAGs with MLP mechanisms; its
  ``fit`` is :func:`prepare_data` (validation, :func:`transform_columns`,
  standardisation, the validation split, placement on the devices: a
  :class:`PreparedData`), :func:`train_early_stopping` (from :func:`init_state`, the
  jitted programs of :func:`make_train_chunk` and :func:`make_val_elbo` in a loop with
  the NaN check, early stopping and the progress bar: a :class:`TrainResult`) and
  :func:`finalise_posterior` (the DP-DAG, its edge probabilities and its mode).
- :class:`NOTEARS`: continuous acyclicity-constrained optimisation (linear and MLP),
  with :func:`break_cycles` for its last step.

The pure JAX kernels (sampling, relaxations, KL terms, MLPs, the acyclicity function,
the L-BFGS / OWL-QN solver) live in :mod:`discovery.differentiable._kernels`.
"""

from ._dpdag import DPDAG, RELAXATIONS, edge_probs, mode, sample
from ._notears import NOTEARS, break_cycles
from ._vidpdag import (
    TRANSFORMS,
    VIDPDAG,
    PreparedData,
    TrainResult,
    finalise_posterior,
    init_state,
    make_train_chunk,
    make_val_elbo,
    prepare_data,
    train_early_stopping,
    transform_columns,
)

__all__ = [
    "DPDAG",
    "VIDPDAG",
    "NOTEARS",
    "RELAXATIONS",
    "TRANSFORMS",
    # DP-DAG's functional core
    "sample",
    "mode",
    "edge_probs",
    # VI-DP-DAG's phases
    "prepare_data",
    "transform_columns",
    "init_state",
    "make_train_chunk",
    "make_val_elbo",
    "train_early_stopping",
    "finalise_posterior",
    "PreparedData",
    "TrainResult",
    # NOTEARS's last phase
    "break_cycles",
]
