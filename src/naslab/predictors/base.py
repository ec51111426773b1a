"""Predictor interface: a surrogate f(architecture) -> metric learned from labelled archs.

scikit-learn conventions: ``__init__`` only stores its arguments (hyper-parameters, ``seed``);
``fit`` validates them and the data and sets learned attributes whose names end in ``_``;
``predict`` returns one value per architecture; ``predict_std`` returns the model's
uncertainty, or ``None`` when it has none. ``get_params``/``clone`` give an unfitted copy with
the same hyper-parameters (strategies refit a fresh clone every round, or, where
``supports_update()``, continue training the fitted model with ``update`` - a warm start).

Every random component draws from ``seed``; torch models run inside a forked torch RNG
(the global torch and numpy RNGs are never touched), so the same seed and data give the same
predictions on the CPU.
"""

from __future__ import annotations

import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from naslab.errors import ConfigError, NaslabError, check_float, check_int
from naslab.spaces.base import Architecture, SearchSpace, get_space


class NotFittedError(NaslabError, RuntimeError):
    """``predict`` was called before ``fit``."""


class Predictor(ABC):
    """A performance predictor: ``fit(archs, y)`` then ``predict(archs)``.

    Subclasses implement ``_fit(archs, y)`` and ``_predict(archs)`` (and ``_predict_std`` when
    the model has an uncertainty); the public methods validate input and time the calls
    (``fit_time_s_``).
    """

    def has_std(self) -> bool:
        """Whether ``predict_std`` returns an uncertainty (may depend on hyper-parameters)."""
        return False

    # public API ---------------------------------------------------------------------------
    def fit(self, archs: Sequence[Architecture], y: Sequence[float] | np.ndarray) -> Predictor:
        """Learn from architectures ``archs`` and their targets ``y`` (e.g. validation accuracy)."""
        archs = _check_archs(archs, "archs")
        yy = _check_targets(y, len(archs))
        if len(archs) < 2:
            raise ConfigError(f"a predictor needs at least 2 training architectures, got {len(archs)}")
        self.space_: SearchSpace = get_space(archs[0].space)
        self._check_params()
        t0 = time.perf_counter()
        self._fit(archs, yy)
        self.fit_time_s_ = time.perf_counter() - t0
        self.n_train_ = len(archs)
        return self

    def supports_update(self) -> bool:
        """Whether :meth:`update` can continue training a fitted model (warm start)."""
        return False

    def update(self, archs: Sequence[Architecture], y: Sequence[float] | np.ndarray, *,
               seed: int, effort: float = 1.0) -> Predictor:
        """Warm start: continue training this fitted predictor on ``archs`` / ``y``.

        ``archs`` are the architectures it was fitted (or last updated) on, in the same order,
        followed by the new ones. The model keeps its weights and its input / target scaling
        (fixed at ``fit``) and trains for ``effort`` times the training a ``fit`` spends on as
        many rows as are new (e.g. ``epochs * n_new / batch_size`` steps), on mini-batches of
        all the rows, drawn with ``seed``; so the cost is proportional to the new data, and no
        new rows means no change. Same model, data and seed -> the same result.
        """
        if not self.supports_update():
            raise ConfigError(f"{type(self).__name__} cannot be updated (warm-started); fit a "
                              f"fresh clone instead")
        if not hasattr(self, "n_train_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(archs, y) "
                                 f"before update")
        archs = _check_archs(archs, "archs")
        yy = _check_targets(y, len(archs))
        if len(archs) < self.n_train_:
            raise ConfigError(f"update needs the {self.n_train_} architectures the predictor was "
                              f"trained on followed by the new ones, got {len(archs)} in all")
        self._check_predict(archs)
        seed = check_int("seed", seed, minimum=0)
        effort = check_float("effort", effort, minimum=0, finite=True)
        t0 = time.perf_counter()
        self._update(archs, yy, len(archs) - self.n_train_, seed, effort)
        self.fit_time_s_ = time.perf_counter() - t0
        self.n_train_ = len(archs)
        return self

    def predict(self, archs: Sequence[Architecture]) -> np.ndarray:
        """Predicted target of each architecture (float64 vector)."""
        archs = self._check_predict(archs)
        if not archs:
            return np.zeros(0)
        return np.asarray(self._predict(archs), dtype=np.float64).reshape(len(archs))

    def predict_std(self, archs: Sequence[Architecture]) -> np.ndarray | None:
        """Predictive standard deviation of each architecture, or None (no uncertainty)."""
        if not self.has_std():
            return None
        archs = self._check_predict(archs)
        if not archs:
            return np.zeros(0)
        return np.asarray(self._predict_std(archs), dtype=np.float64).reshape(len(archs))

    # hyper-parameters ---------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor arguments (hyper-parameters)."""
        out = {}
        for name, p in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            out[name] = getattr(self, name)
        return out

    def clone(self, **overrides: Any) -> Predictor:
        """An unfitted copy with the same hyper-parameters (``overrides`` replace some)."""
        params = self.get_params()
        for k in overrides:
            if k not in params:
                raise ConfigError(f"{type(self).__name__} has no parameter {k!r}")
        params.update(overrides)
        return type(self)(**params)

    def describe(self) -> dict[str, Any]:
        return {"predictor": getattr(self, "registry_name", type(self).__name__),
                "params": self.get_params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # subclass hooks -----------------------------------------------------------------------
    def _check_params(self) -> None:
        """Validate hyper-parameters (called by ``fit``); raise ConfigError naming the bad one."""

    @abstractmethod
    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict(self, archs: list[Architecture]) -> np.ndarray: ...

    def _update(self, archs: list[Architecture], y: np.ndarray, n_new: int, seed: int,
                effort: float) -> None:
        """Warm-start hook (with ``supports_update``): continue training, see :meth:`update`."""
        raise NotImplementedError

    def _predict_std(self, archs: list[Architecture]) -> np.ndarray:
        raise NotImplementedError

    # helpers ------------------------------------------------------------------------------
    def _check_predict(self, archs: Sequence[Architecture]) -> list[Architecture]:
        if not hasattr(self, "space_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(archs, y) first")
        archs = _check_archs(archs, "archs", allow_empty=True)
        for a in archs:
            if a.space != self.space_.name:
                raise ConfigError(f"predictor was fitted on space {self.space_.name!r}, got an "
                                  f"architecture of space {a.space!r}")
        return archs


def _check_targets(y: Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    """``y`` as a finite float vector of one target per architecture (``n``)."""
    yy = np.asarray(y, dtype=np.float64)
    if yy.ndim != 1 or len(yy) != n:
        raise ConfigError(f"y must be a vector with one target per architecture ({n}), "
                          f"got shape {yy.shape}")
    if not np.isfinite(yy).all():
        raise ConfigError("y must be finite (no NaN or inf)")
    return yy


def _check_archs(archs: Any, what: str, allow_empty: bool = False) -> list[Architecture]:
    if isinstance(archs, Architecture) or isinstance(archs, (str, bytes)):
        raise ConfigError(f"{what} must be a sequence of Architecture, got a single {type(archs).__name__}")
    out = list(archs)
    if not out and not allow_empty:
        raise ConfigError(f"{what} must not be empty")
    for a in out:
        if not isinstance(a, Architecture):
            raise ConfigError(f"{what} must hold Architecture objects, got {type(a).__name__}")
    if out and any(a.space != out[0].space for a in out):
        raise ConfigError(f"{what} mixes architectures of several spaces")
    return out


class EncodedPredictor(Predictor):
    """A predictor on a flat encoding (:func:`naslab.predictors.encodings.encode`).

    Subclasses keep the arguments ``encoding``, ``zc_proxies``, ``zc_params`` (and ``seed``
    when their fit draws random numbers) and implement ``_fit_x(X, y)`` / ``_predict_x(X)`` on
    float32 matrices.
    """

    encoding: str
    zc_proxies: Sequence[str]
    zc_params: dict[str, Any] | None

    def _check_params(self) -> None:
        from naslab.predictors.encodings import parse_kind

        parts = parse_kind(self.encoding)
        if ("zc" in parts) != bool(self.zc_proxies):
            raise ConfigError("encoding includes 'zc' exactly when zc_proxies is given; got "
                              f"encoding={self.encoding!r}, zc_proxies={self.zc_proxies!r}")
        params = self.get_params()
        if "seed" in params:
            check_int("seed", params["seed"], minimum=0)

    def _features(self, archs: Sequence[Architecture]) -> np.ndarray:
        from naslab.predictors.encodings import encode

        return encode(self.space_, archs, self.encoding, zc=getattr(self, "zc_", None))

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        if self.zc_proxies:
            from naslab.predictors.encodings import ZeroCostFeatures

            self.zc_ = ZeroCostFeatures(self.zc_proxies, self.zc_params)
        self._fit_x(self._features(archs), y)

    def _update(self, archs: list[Architecture], y: np.ndarray, n_new: int, seed: int,
                effort: float) -> None:
        self._update_x(self._features(archs), y, n_new, seed, effort)

    def _update_x(self, X: np.ndarray, y: np.ndarray, n_new: int, seed: int,
                  effort: float) -> None:
        raise NotImplementedError

    def _predict(self, archs: list[Architecture]) -> np.ndarray:
        return self._predict_x(self._features(archs))

    def _predict_std(self, archs: list[Architecture]) -> np.ndarray:
        return self._predict_std_x(self._features(archs))

    @abstractmethod
    def _fit_x(self, X: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict_x(self, X: np.ndarray) -> np.ndarray: ...

    def _predict_std_x(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    from naslab.errors import did_you_mean

    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}"
                          f"{did_you_mean(str(value), choices)}")
    return str(value)


def standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(y - mean) / std`` with the mean and std (std 1 when y is constant)."""
    mu = float(np.mean(y))
    sd = float(np.std(y))
    if not sd > 1e-12:
        sd = 1.0
    return (y - mu) / sd, mu, sd
