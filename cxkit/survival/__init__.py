"""Survival analysis of churn by segment.

Kaplan-Meier, log-rank and RMST (:class:`SegmentSurvival`), Cox proportional
hazards with Efron ties (:class:`CoxModel`), cumulative incidence of churn
reasons (:class:`CumulativeIncidence`), and the clocks that keep comparisons
free of immortal-time bias (:func:`survival_frame`).
"""

from cxkit.survival.competing import CumulativeIncidence
from cxkit.survival.cox import CoxModel
from cxkit.survival.kaplan_meier import SegmentSurvival
from cxkit.survival.lifetable import LifeTable
from cxkit.survival.logrank import StatisticalResult, logrank_test, pairwise_logrank

__all__ = ["CoxModel", "CumulativeIncidence", "LifeTable", "SegmentSurvival", "StatisticalResult", "logrank_test",
           "pairwise_logrank"]
