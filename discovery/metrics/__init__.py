"""Metrics comparing estimated graphs with the truth: SHD, SID, precision/recall, AP and AUROC.

Graphs may be DAGs (:class:`networkx.DiGraph`), partially directed graphs
(:class:`scm.PDAG`) or adjacency DataFrames in :meth:`scm.PDAG.to_adjacency`'s
encoding; the ranking metrics take edge probabilities. Nodes are matched by name.
For lagged time-series graphs see :func:`discovery.timeseries.lagged_metrics`.
"""

from ._graphs import as_pdag
from ._metrics import all_metrics, arrowhead_scores, auroc, average_precision, shd, skeleton_scores
from ._sid import sid, sid_bounds

__all__ = ["shd", "sid", "sid_bounds", "skeleton_scores", "arrowhead_scores", "average_precision", "auroc", "all_metrics", "as_pdag"]
