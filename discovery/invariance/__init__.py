"""Invariance under a change of environment: ICP and IAS, anchor regression, IRM and CausIRL, minimax transfer, EACS.

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
- :class:`MinimaxTransfer`: the subset of the stable covariates (mutable mechanisms removed
  with the do-operator) with the smallest worst-case risk (Liu et al., ICML 2023); its phases
  :func:`mutable_structure`, :func:`fit_stable_mechanisms`, :func:`fit_stable_predictors`,
  :func:`worst_case_risks`, :func:`search_subsets`.
- :class:`AdaptiveCovariateSelection`: environment-adaptive covariate selection (EACS; Zuo and
  Wang, 2026), the covariate set chosen from the target environment's unlabeled covariates;
  its phases :func:`candidate_sets`, :func:`environment_summaries`,
  :func:`leave_one_environment_out_losses`.

Kernels: :mod:`discovery.invariance._kernels` (ICP's batched sweep, shared by IAS),
:mod:`discovery.invariance._irm_kernels` (the objectives of IRM and CausIRL and their one
trainer, kept apart so that ICP never imports optax), :mod:`discovery.invariance._minimax_kernels`
(the minimax adversary).
"""

from ._eacs import AdaptiveCovariateSelection, candidate_sets, environment_summaries, leave_one_environment_out_losses
from ._ias import InvariantAncestrySearch, ias_level, minimal_sets, regression_pvalues
from ._icp import ICP, NonlinearICP, approximate_pvalues, candidate_masks, defining_sets, exact_pvalues, summarise_sets
from ._icpgraph import ICPGraph
from ._minimax import (
    MinimaxTransfer,
    equivalence_classes,
    fit_stable_mechanisms,
    fit_stable_predictors,
    markov_boundary,
    mutable_structure,
    relevant_inputs,
    search_subsets,
    worst_case_risks,
)
from ._predictors import IRM, AnchorRegression, CausIRL

__all__ = [
    "ICP",
    "NonlinearICP",
    "ICPGraph",
    "InvariantAncestrySearch",
    "AnchorRegression",
    "IRM",
    "CausIRL",
    "MinimaxTransfer",
    "AdaptiveCovariateSelection",
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
    # minimax transfer's phases
    "mutable_structure",
    "fit_stable_mechanisms",
    "fit_stable_predictors",
    "worst_case_risks",
    "search_subsets",
    "markov_boundary",
    "relevant_inputs",
    "equivalence_classes",
    # EACS's phases
    "candidate_sets",
    "environment_summaries",
    "leave_one_environment_out_losses",
]
