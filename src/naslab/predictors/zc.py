"""The ranking of a raw zero-cost proxy score, as a predictor (nothing is learned)."""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab.errors import ConfigError
from naslab.predictors.base import Predictor
from naslab.registry import register
from naslab.spaces.base import Architecture


@register("predictor", "zc", aliases=("zero_cost",))
class ZeroCostPredictor(Predictor):
    """Predicts the raw score of one zero-cost proxy (registry kind ``proxy``).

    ``fit`` learns nothing (the labels are ignored; it only binds the space), so this is the
    baseline "rank by the proxy" of White et al. 2021 / Abdelfattah et al. 2021. Only the
    ranking is meaningful: use rank correlations, not errors.

    Parameters
    ----------
    proxy: registered proxy name (``synflow``, ``jacob_cov`` ...; ``naslab list proxies``).
    proxy_params: keyword arguments of the proxy (``{"dataset": "digits"}`` for
        data-dependent proxies) and ``seed`` / ``cache`` as in
        :class:`~naslab.predictors.encodings.ZeroCostFeatures`.
    """

    def __init__(self, proxy: str = "synflow", proxy_params: dict[str, Any] | None = None) -> None:
        self.proxy = proxy
        self.proxy_params = proxy_params

    def _check_params(self) -> None:
        if not isinstance(self.proxy, str):
            raise ConfigError(f"proxy must be a proxy name, got {self.proxy!r}")

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        from naslab.predictors.encodings import ZeroCostFeatures

        self.zc_ = ZeroCostFeatures([self.proxy], self.proxy_params)

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return np.asarray(self.zc_.raw(archs)[:, 0], dtype=np.float64)
