"""Constraint-based search: PC and CD-NOD, phase by phase.

Estimators: :class:`PC`, :class:`CDNOD`, with :class:`BackgroundKnowledge`
(required and forbidden edges, tiers).

The phases, each a function of public types, so a search can be run, inspected or
replaced one step at a time:

- PC: :func:`skeleton` (adjacency search, :class:`SkeletonResult`),
  :func:`orient_colliders` (v-structures), :func:`apply_background_knowledge`, then
  :func:`scm.meek_rules`;
- CD-NOD: :func:`context_knowledge`, :func:`context_skeleton`,
  :func:`orient_with_context`, :func:`orient_by_independent_changes`,
  :func:`driving_forces`, :func:`changing_nodes`.

Every phase runs its tests through a :class:`CIRunner`, the cached CI-test runner (one
test asked twice is run once), which the time-series family shares: pass one runner to
several phases (``runner=``) to share its cache, or let each phase build its own from the
CI test it is given. :class:`CITestBackend` answers a runner's queries through any
:class:`discovery.citest.CITest`.

The kernels of CD-NOD's independent-change phase are in :mod:`discovery.constraint._kernels`.
"""

from ._background import BackgroundKnowledge
from ._cdnod import (
    CDNOD,
    changing_nodes,
    context_knowledge,
    context_skeleton,
    driving_forces,
    orient_by_independent_changes,
    orient_with_context,
)
from ._pc import PC, SkeletonResult, apply_background_knowledge, orient_colliders, skeleton
from ._runner import CIRunner, CITestBackend

__all__ = [
    "PC",
    "CDNOD",
    "BackgroundKnowledge",
    # PC's phases
    "skeleton",
    "SkeletonResult",
    "orient_colliders",
    "apply_background_knowledge",
    # CD-NOD's phases
    "context_knowledge",
    "context_skeleton",
    "orient_with_context",
    "orient_by_independent_changes",
    "driving_forces",
    "changing_nodes",
    # the cached CI-test runner every phase shares
    "CIRunner",
    "CITestBackend",
]
