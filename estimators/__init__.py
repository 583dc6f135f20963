"""estimators: identification and estimation of causal effects.

Identification on a graph:

- :func:`adjustment_set`, :func:`adjustment_sets`, :func:`is_valid_adjustment`: the
  generalised adjustment criterion on DAGs, CPDAGs and ADMGs (minimal, optimal and
  all sets, in linear time per set);
- :func:`frontdoor_sets`, :func:`is_valid_frontdoor`: Pearl's front-door criterion;
- :func:`identify`: the ID algorithm for graphs with latent confounders, returning
  an :class:`Estimand` that prints as a formula, or raising
  :class:`NotIdentifiableError` with the hedge.

Estimation with any scikit-learn learner, scikit-learn style (``fit`` sets
``effect_``, ``std_err_``, ``conf_int_``, and ``dose_response_`` for a continuous
treatment): :class:`RegressionAdjustment`, :class:`IPW`, :class:`AIPW`,
:class:`DoubleML`. :func:`effect` does it all in one call and explains its choices;
given a fitted :class:`scm.SCM` it answers the same query in closed form or by
simulation.

Exchangeable (grouped) data, whose mechanisms vary from group to group
(Do-Finetti, Guo et al. 2024): :class:`ExchangeableModel` learns the mechanisms'
prior from the groups and answers ``do`` queries within one group after seeing
some of its rows; :func:`exchangeable_effect` does it in one call.

Attribution on a structural causal model (:class:`scm.SCM`), with DoWhy-GCM's definitions:
:func:`anomaly_scores`, :func:`attribute_anomalies` (which node's noise made a sample
anomalous), :func:`attribute_distribution_change` (which mechanisms changed between two data
sets and how much of the target's change each explains; mechanism-replacement Shapley or the
multiply robust estimator), :func:`arrow_strength`, :func:`intrinsic_causal_influence` and
:func:`unit_contributions`; each returns an :class:`AttributionResult` with intervals.

Examples
--------
>>> import networkx as nx
>>> from estimators import adjustment_set
>>> g = nx.DiGraph([("age", "drug"), ("age", "recovery"), ("drug", "recovery")])
>>> sorted(adjustment_set(g, "drug", "recovery"))
['age']
"""

from ._adjustment import (
    NotIdentifiableError,
    adjustment_set,
    adjustment_sets,
    frontdoor_sets,
    is_valid_adjustment,
    is_valid_frontdoor,
)
from ._attribution import (
    AttributionResult,
    anomaly_scores,
    arrow_strength,
    attribute_anomalies,
    attribute_distribution_change,
    intrinsic_causal_influence,
    mechanism_change_test,
    unit_contributions,
)
from ._effect import EffectResult, effect
from ._estimators import AIPW, IPW, DoubleML, PositivityWarning, RegressionAdjustment
from ._exchangeable import ExchangeableEffectResult, ExchangeableModel, exchangeable_effect
from ._id import Estimand, Fraction, Prob, Product, Sum, identify
from ._ida import EffectRange, IDAResult, ida
from ._rootcause import RCD_TESTS, ROOT_CAUSE_METHODS, RootCauseWindows, prepare_windows, rank_root_causes, rank_scores

__all__ = [
    # identification
    "adjustment_set",
    "adjustment_sets",
    "is_valid_adjustment",
    "frontdoor_sets",
    "is_valid_frontdoor",
    "identify",
    "Estimand",
    "Prob",
    "Product",
    "Sum",
    "Fraction",
    # estimation
    "RegressionAdjustment",
    "IPW",
    "AIPW",
    "DoubleML",
    "effect",
    "EffectResult",
    "ida",
    "IDAResult",
    "EffectRange",
    # exchangeable (grouped) data
    "ExchangeableModel",
    "exchangeable_effect",
    "ExchangeableEffectResult",
    # attribution
    "anomaly_scores",
    "attribute_anomalies",
    "attribute_distribution_change",
    "arrow_strength",
    "intrinsic_causal_influence",
    "unit_contributions",
    "mechanism_change_test",
    "AttributionResult",
    # root causes
    "rank_root_causes",
    "prepare_windows",
    "rank_scores",
    "RootCauseWindows",
    "ROOT_CAUSE_METHODS",
    "RCD_TESTS",
    # errors and warnings
    "NotIdentifiableError",
    "PositivityWarning",
]
