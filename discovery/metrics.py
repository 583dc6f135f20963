"""Metrics comparing estimated graphs with the truth: SHD, SID, precision/recall, AUPRC."""

from ._metrics import all_metrics, arrowhead_scores, as_pdag, auroc, average_precision, shd, skeleton_scores
from ._sid import sid, sid_bounds

__all__ = ["shd", "sid", "sid_bounds", "skeleton_scores", "arrowhead_scores", "average_precision", "auroc", "all_metrics", "as_pdag"]
