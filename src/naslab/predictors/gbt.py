"""Gradient-boosted trees: LightGBM (``lgb``) and XGBoost (``xgb``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_float, check_int
from naslab.predictors.base import EncodedPredictor
from naslab.registry import register


class _BoostedTrees(EncodedPredictor):
    backend = ""
    model_: Any

    def __init__(self, n_estimators: int = 300, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 3, subsample: float = 0.9, colsample: float = 0.8,
                 encoding: str = "path", zc_proxies: Sequence[str] = (),
                 zc_params: dict[str, Any] | None = None, seed: int = 0) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample = colsample
        self.encoding = encoding
        self.zc_proxies = zc_proxies
        self.zc_params = zc_params
        self.seed = seed

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("n_estimators", "num_leaves", "min_child_samples"):
            check_int(name, getattr(self, name), minimum=1)
        check_float("learning_rate", self.learning_rate, minimum=0, strict_min=True, finite=True)
        for name in ("subsample", "colsample"):
            v = check_float(name, getattr(self, name), minimum=0, strict_min=True, finite=True)
            if v > 1.0:
                raise ConfigError(f"{name} must be in (0, 1], got {v!r}")

    def _predict_x(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(X))


@register("predictor", "lgb", aliases=("lightgbm", "gbdt"))
class LGBPredictor(_BoostedTrees):
    """Gradient-boosted trees with LightGBM (deterministic, one thread).

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples: boosting rounds and tree shape
        (``min_child_samples`` is small because training sets can have 10 archs).
    subsample, colsample: row (bagging) and feature fractions per tree.
    encoding: flat encoding (default ``path``). zc_proxies, zc_params: zero-cost features.
    seed: bagging and feature sampling.
    """

    backend = "lightgbm"

    def _fit_x(self, X: np.ndarray, y: np.ndarray) -> None:
        try:
            import lightgbm
        except ImportError:
            raise ConfigError("predictor 'lgb' needs LightGBM: pip install 'naslab[ml]'") from None
        self.model_ = lightgbm.LGBMRegressor(
            n_estimators=int(self.n_estimators), learning_rate=float(self.learning_rate),
            num_leaves=int(self.num_leaves), min_child_samples=int(self.min_child_samples),
            min_data_in_bin=1, subsample=float(self.subsample),
            subsample_freq=1 if self.subsample < 1 else 0, colsample_bytree=float(self.colsample),
            random_state=int(self.seed), n_jobs=1, deterministic=True, force_row_wise=True,
            verbose=-1).fit(X, y)


@register("predictor", "xgb", aliases=("xgboost",))
class XGBPredictor(_BoostedTrees):
    """Gradient-boosted trees with XGBoost (needs the ``xgboost`` package; ``lgb`` is the same
    model family with LightGBM, which the ``ml`` extra installs).

    Parameters as ``lgb``; ``num_leaves`` maps to XGBoost's ``max_leaves`` (lossguide growth)
    and ``min_child_samples`` to ``min_child_weight``.
    """

    backend = "xgboost"

    def _fit_x(self, X: np.ndarray, y: np.ndarray) -> None:
        try:
            import xgboost
        except ImportError:
            raise ConfigError(
                "predictor 'xgb' needs XGBoost, which is not installed (pip install xgboost); "
                "predictor 'lgb' is gradient-boosted trees with LightGBM (pip install "
                "'naslab[ml]')") from None
        self.model_ = xgboost.XGBRegressor(
            n_estimators=int(self.n_estimators), learning_rate=float(self.learning_rate),
            max_leaves=int(self.num_leaves), grow_policy="lossguide", max_depth=0,
            min_child_weight=float(self.min_child_samples), subsample=float(self.subsample),
            colsample_bytree=float(self.colsample), random_state=int(self.seed), n_jobs=1,
            tree_method="hist").fit(X, y)
