"""Invariance under a change of environment: ICP, nonlinear ICP, anchor regression, IRM.

- :class:`ICP`: invariant causal prediction (Peters et al. 2016), every candidate
  set tested in one jitted call; its phases are :func:`candidate_masks`,
  :func:`approximate_pvalues` / :func:`exact_pvalues`, :func:`summarise_sets` and
  :func:`defining_sets`.
- :class:`NonlinearICP`: the same question with any scikit-learn regressor.
- :class:`ICPGraph`: ICP with every variable as the target, a graph learner.
- :class:`InvariantAncestrySearch`: the union of the minimal invariant sets, ancestors of
  the target where ICP's intersection is empty; its phases :func:`ias_level` and
  :func:`minimal_sets` and its invariance test :func:`regression_pvalues` run on ICP's sweep.
- :class:`AnchorRegression`, :class:`IRM`, :class:`CausIRL`: predictors that trade fit for
  invariance.

Kernels: :mod:`discovery.invariance._kernels` (ICP's batched sweep) and
:mod:`discovery.invariance._irm_kernels` (IRM's objective and trainer, kept apart so
that ICP never imports optax).
"""

from ._ias import InvariantAncestrySearch, ias_level, minimal_sets, regression_pvalues
from ._icp import ICP, NonlinearICP, approximate_pvalues, candidate_masks, defining_sets, exact_pvalues, summarise_sets
from ._icpgraph import ICPGraph
from ._predictors import IRM, AnchorRegression, CausIRL

__all__ = [
    "ICP",
    "NonlinearICP",
    "ICPGraph",
    "InvariantAncestrySearch",
    "AnchorRegression",
    "IRM",
    "CausIRL",
    # ICP's phases
    "candidate_masks",
    "approximate_pvalues",
    "exact_pvalues",
    "summarise_sets",
    "defining_sets",
    # IAS's phases
    "ias_level",
    "minimal_sets",
    "regression_pvalues",
]
