"""Estimators: tabular, training, zero-cost, supernet, predictor, hardware, composite."""

from naslab.estimators.base import Cost, Estimator, Evaluation, Objective

__all__ = ["Cost", "Estimator", "Evaluation", "Objective"]
