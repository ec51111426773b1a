"""BANANAS (White, Neiswanger & Savani, AAAI 2021): Bayesian optimisation with an ensemble
of neural predictors on path encodings."""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab.errors import ConfigError, check_int
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies._guided import PredictorGuided

ACQUISITIONS = ("its", "ucb", "mean")


@register("strategy", "bananas")
class Bananas(PredictorGuided):
    """BANANAS: ensemble predictor, independent Thompson sampling, mutation-based
    acquisition optimisation.

    ``n_init`` random architectures first. Then, every ``k`` results, the predictor
    ensemble is refitted on everything told (warm-started by default, see ``warm_start``); ``n_candidates`` candidates are made by mutating the
    ``n_parents`` best architectures so far (round robin, ``mutations`` local moves each; unseen
    only); each candidate gets an acquisition value and the ``k`` best are evaluated next.

    Acquisition ``its`` (independent Thompson sampling, the paper's choice): one draw per
    candidate from N(mean, std) of the ensemble, independently across candidates; ``ucb``:
    mean + ``ucb_beta`` * std; ``mean``: the prediction alone (pure exploitation).

    Parameters
    ----------
    predictor: registered predictor with an uncertainty (default ``bananas``, the MLP
        ensemble on path encodings) or a Predictor. predictor_params: its hyper-parameters.
    n_init, k: random archs first; queries between re-fits (paper: 10 and 10).
    n_candidates, n_parents, mutations: acquisition optimisation (paper: 100 candidates).
    acquisition, ucb_beta: see above. dedup: ``canonical`` or ``exact``.
    warm_start: ``"auto"`` (default: update the current model with the new results when the
        predictor ``supports_update()``, refit from scratch on a geometric schedule), ``True``
        (the same, refused for a predictor that cannot be updated) or ``False`` (a fresh fit
        every round, the papers' and naslab's earlier behaviour).
    refit_ratio: with warm starts, fit from scratch again once the data has grown this many
        times since the last fit from scratch (>= 1; 1 = every round).
    warm_effort: an update trains ``warm_effort`` times what a fit spends on as many rows as
        are new (see :meth:`naslab.predictors.base.Predictor.update`).
    """

    def __init__(self, predictor: Any = "bananas", predictor_params: dict[str, Any] | None = None,
                 n_init: int = 10, k: int = 10, n_candidates: int = 100, n_parents: int = 10,
                 mutations: int = 1, acquisition: str = "its", ucb_beta: float = 0.5,
                 dedup: str = "canonical", warm_start: bool | str = "auto",
                 refit_ratio: float = 2.0, warm_effort: float = 1.0) -> None:
        self.predictor = predictor
        self.predictor_params = predictor_params
        self.n_init = n_init
        self.k = k
        self.n_candidates = n_candidates
        self.n_parents = n_parents
        self.mutations = mutations
        self.acquisition = acquisition
        self.ucb_beta = ucb_beta
        self.dedup = dedup
        self.warm_start = warm_start
        self.refit_ratio = refit_ratio
        self.warm_effort = warm_effort

    def _setup(self) -> None:
        self.n_candidates = check_int("n_candidates", self.n_candidates, minimum=1)
        self.n_parents = check_int("n_parents", self.n_parents, minimum=1)
        self.mutations = check_int("mutations", self.mutations, minimum=1)
        if self.acquisition not in ACQUISITIONS:
            from naslab.errors import did_you_mean

            raise ConfigError(f"acquisition must be one of {', '.join(ACQUISITIONS)}, got "
                              f"{self.acquisition!r}{did_you_mean(str(self.acquisition), ACQUISITIONS)}")
        try:
            self.ucb_beta = float(self.ucb_beta)
        except (TypeError, ValueError):
            raise ConfigError(f"ucb_beta must be a number, got {self.ucb_beta!r}") from None
        super()._setup()

    def _check_predictor(self, proto: Any) -> None:
        if self.acquisition in ("its", "ucb") and not proto.has_std():
            raise ConfigError(
                f"acquisition {self.acquisition!r} needs a predictor with an uncertainty "
                f"(predict_std); {proto!r} has none. Use predictor 'bananas', 'gp' or 'rf', an "
                f"ensemble (e.g. gcn with ensemble>=2), or acquisition='mean'")

    def _candidates(self) -> list[Architecture]:
        ranked = sorted(range(len(self._data)), key=lambda i: -self._data[i][1])
        parents = [self._data[i][0] for i in ranked[: self.n_parents]]
        out: dict[Any, Architecture] = {}
        for i in range(self.n_candidates):
            child = parents[i % len(parents)]
            for _ in range(self.mutations):
                child = self.space.mutate(child, self.rng)
            key = self._key(child)
            if key not in self._keys and key not in out:
                out[key] = child
        # neighbourhoods exhausted: widen with random unseen archs so that k can be met
        while len(out) < self.k:
            a = self._random_unseen(exclude=set(out), attempts=50)
            if a is None:
                break
            out[self._key(a)] = a
        return list(out.values())

    def _acquire(self, model: Any, k: int) -> list[Architecture]:
        cands = self._candidates()
        if not cands:
            return []
        mean = model.predict(cands)
        if self.acquisition == "mean":
            value = mean
        else:
            std = model.predict_std(cands)
            if self.acquisition == "its":
                value = mean + std * self.rng.standard_normal(len(cands))
            else:
                value = mean + self.ucb_beta * std
        order = np.argsort(-value, kind="stable")[:k]
        return [cands[int(i)] for i in order]
