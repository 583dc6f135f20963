"""Differentiable structure learning: DP-DAG, VI-DP-DAG and NOTEARS.

- :class:`DPDAG`: a distribution over DAGs (a permutation and an edge matrix) with
  exact sampling, its mode and exact edge marginals; the functional core
  :func:`sample`, :func:`mode` and :func:`edge_probs` takes its parameter dict and
  runs inside ``jax.jit`` and ``jax.grad``.
- :class:`VIDPDAG`: variational inference over DP-DAGs with MLP mechanisms; its
  phases are :func:`transform_columns` (data preparation), :func:`init_state`,
  :func:`make_train_chunk` and :func:`make_val_elbo` (the jitted training and
  validation programs).
- :class:`NOTEARS`: continuous acyclicity-constrained optimisation (linear and MLP),
  with :func:`break_cycles` for its last step.

The pure JAX kernels (sampling, relaxations, KL terms, MLPs, the acyclicity function,
the L-BFGS / OWL-QN solver) live in :mod:`discovery.differentiable._kernels`.
"""

from ._dpdag import DPDAG, RELAXATIONS, edge_probs, mode, sample
from ._notears import NOTEARS, break_cycles
from ._vidpdag import TRANSFORMS, VIDPDAG, init_state, make_train_chunk, make_val_elbo, transform_columns

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
    "transform_columns",
    "init_state",
    "make_train_chunk",
    "make_val_elbo",
    # NOTEARS's last phase
    "break_cycles",
]
