"""Performance predictors: encodings + surrogate models with fit/predict (torch only inside
the GNN/MLP code paths, never at import).

Registered predictors (kind ``predictor``): ``gcn`` (graph convolutional network, Wen et al.),
``bananas`` (ensemble of MLPs on path encodings, White et al.), ``gp`` (Gaussian process),
``rf`` (random forest), ``lgb`` / ``xgb`` (gradient-boosted trees), ``zc`` (the ranking of a
raw zero-cost proxy score). The evaluation harness is :mod:`naslab.predictors.evaluate`.
"""

from naslab.predictors.base import NotFittedError, Predictor
from naslab.predictors.encodings import encode, graph_batch

__all__ = ["NotFittedError", "Predictor", "encode", "graph_batch"]
