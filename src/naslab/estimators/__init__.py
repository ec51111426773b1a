"""Estimators: tabular, training, zero-cost, supernet, predictor, hardware, composite."""

from naslab.estimators.base import Cost, Estimator, Evaluation, Objective
from naslab.estimators.factory import COMMON_OPTIONS, make_estimator

__all__ = ["COMMON_OPTIONS", "Cost", "Estimator", "Evaluation", "Objective", "make_estimator"]
