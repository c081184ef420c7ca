"""Lifetime value by segment: survival with a fitted tail, honest intervals, and the value at stake."""

from cxkit.ltv.sbg import ShiftedBetaGeometric, discrete_counts
from cxkit.ltv.segment_ltv import SegmentLTV, sensitivity
from cxkit.ltv.weibull import DiscreteWeibull

__all__ = ["DiscreteWeibull", "SegmentLTV", "ShiftedBetaGeometric", "discrete_counts", "sensitivity"]
