"""Gaussian process predictor (scikit-learn)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.predictors.base import EncodedPredictor, check_choice, standardize
from naslab.registry import register

KERNELS = ("matern", "rbf")


@register("predictor", "gp", aliases=("gaussian_process",))
class GPPredictor(EncodedPredictor):
    """Gaussian process regression on a flat encoding, hyper-parameters by marginal likelihood.

    Kernel: ``c * k(x, x') + white`` with ``k`` a Matérn-5/2 (``kernel="matern"``) or RBF
    kernel with one length scale, fitted (L-BFGS from a fixed start, no random restarts, so the
    fit is deterministic) on standardised targets. ``predict_std`` is the posterior standard
    deviation of the latent function (without the noise term).

    Parameters
    ----------
    kernel: ``matern`` or ``rbf``. encoding: flat encoding (default ``path+onehot``).
    zc_proxies, zc_params: zero-cost features.

    No ``seed``: the fit has nothing random in it (a seed would change no prediction); the
    predictor-guided strategies and the harness seed only predictors that take one.
    """

    def __init__(self, kernel: str = "matern", encoding: str = "path+onehot",
                 zc_proxies: Sequence[str] = (), zc_params: dict[str, Any] | None = None) -> None:
        self.kernel = kernel
        self.encoding = encoding
        self.zc_proxies = zc_proxies
        self.zc_params = zc_params

    def has_std(self) -> bool:
        return True

    def _check_params(self) -> None:
        super()._check_params()
        check_choice("kernel", self.kernel, KERNELS)

    def _fit_x(self, X: np.ndarray, y: np.ndarray) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

        ys, self.y_mean_, self.y_std_ = standardize(y)
        scale = float(np.sqrt(X.shape[1]))
        base = (Matern(length_scale=scale, length_scale_bounds=(1e-2, 1e4), nu=2.5)
                if self.kernel == "matern" else RBF(length_scale=scale, length_scale_bounds=(1e-2, 1e4)))
        k = (ConstantKernel(1.0, (1e-3, 1e3)) * base
             + WhiteKernel(0.1, noise_level_bounds=(1e-6, 1e1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_ = GaussianProcessRegressor(k, n_restarts_optimizer=0,
                                                   normalize_y=False).fit(X, ys)
        # posterior of the latent function: the same model without the white-noise term
        self.noise_ = float(self.model_.kernel_.k2.noise_level)

    def _predict_x(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(X) * self.y_std_ + self.y_mean_, dtype=np.float64)

    def _predict_std_x(self, X: np.ndarray) -> np.ndarray:
        _, sd = self.model_.predict(X, return_std=True)
        var = np.maximum(sd ** 2 - self.noise_, 0.0)
        return np.asarray(np.sqrt(var) * self.y_std_, dtype=np.float64)
