"""Random forest predictor (scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.errors import check_int
from naslab.predictors.base import EncodedPredictor
from naslab.registry import register


@register("predictor", "rf", aliases=("random_forest",))
class RandomForestPredictor(EncodedPredictor):
    """Random forest regression on a flat encoding; ``predict_std`` = spread of the trees.

    Parameters
    ----------
    n_estimators, max_features, min_samples_leaf: as scikit-learn's RandomForestRegressor
        (``max_features=1.0`` considers every feature at each split).
    encoding: flat encoding (default ``path``). zc_proxies, zc_params: zero-cost features.
    seed: bootstrap and feature sampling.
    """

    def __init__(self, n_estimators: int = 100, max_features: float | str | None = 1.0,
                 min_samples_leaf: int = 1, encoding: str = "path",
                 zc_proxies: Sequence[str] = (), zc_params: dict[str, Any] | None = None,
                 seed: int = 0) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.encoding = encoding
        self.zc_proxies = zc_proxies
        self.zc_params = zc_params
        self.seed = seed

    def has_std(self) -> bool:
        return True

    def _check_params(self) -> None:
        super()._check_params()
        check_int("n_estimators", self.n_estimators, minimum=1)
        check_int("min_samples_leaf", self.min_samples_leaf, minimum=1)

    def _fit_x(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.ensemble import RandomForestRegressor

        from naslab.errors import ConfigError

        try:
            self.model_ = RandomForestRegressor(
                n_estimators=int(self.n_estimators), max_features=self.max_features,
                min_samples_leaf=int(self.min_samples_leaf), random_state=int(self.seed),
                n_jobs=1).fit(X, y)
        except (ValueError, TypeError) as exc:  # scikit-learn's parameter validation
            raise ConfigError(f"random forest: {exc}") from None

    def _predict_x(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(X), dtype=np.float64)

    def _predict_std_x(self, X: np.ndarray) -> np.ndarray:
        per_tree = np.stack([t.predict(X) for t in self.model_.estimators_])
        return np.asarray(per_tree.std(axis=0), dtype=np.float64)
