"""Neural Predictor search (Wen et al., ECCV 2020): fit a predictor on evaluated
architectures, evaluate the predicted best of a large random candidate set, iterate."""

from __future__ import annotations

from typing import Any

import numpy as np

from naslab.errors import check_int
from naslab.registry import register
from naslab.spaces.base import Architecture
from naslab.strategies._guided import PredictorGuided


@register("strategy", "neural_predictor", aliases=("neural-predictor", "wen"))
class NeuralPredictorSearch(PredictorGuided):
    """Predictor-ranked random candidates (Wen et al. 2020), made iterative.

    ``n_init`` random architectures are evaluated; then, every round, the predictor is
    refitted on all results (warm-started by default, see ``warm_start``), ``n_candidates`` unseen random architectures are scored (on a
    finite space no larger than ``n_candidates``: every unseen one), and the ``k`` with the
    highest prediction are evaluated. Wen et al. do a single round (N random, then the top K);
    here the round repeats every ``k`` results (set ``k`` to the remaining budget for Wen et
    al.'s single round).

    Parameters
    ----------
    predictor: registered predictor name (default ``gcn``, Wen et al.'s GCN) or a Predictor.
    predictor_params: its hyper-parameters. n_init: random architectures first.
    k: architectures evaluated per round (the predictor is re-fitted every ``k`` results).
    n_candidates: random candidates ranked per round.
    dedup: ``canonical`` (never two isomorphic archs) or ``exact``.
    warm_start: ``"auto"`` (default: update the current model with the new results when the
        predictor ``supports_update()``, refit from scratch on a geometric schedule), ``True``
        (the same, refused for a predictor that cannot be updated) or ``False`` (a fresh fit
        every round, the papers' and naslab's earlier behaviour).
    refit_ratio: with warm starts, fit from scratch again once the data has grown this many
        times since the last fit from scratch (>= 1; 1 = every round).
    warm_effort: an update trains ``warm_effort`` times what a fit spends on as many rows as
        are new (see :meth:`naslab.predictors.base.Predictor.update`).
    """

    def __init__(self, predictor: Any = "gcn", predictor_params: dict[str, Any] | None = None,
                 n_init: int = 20, k: int = 10, n_candidates: int = 2000,
                 dedup: str = "canonical", warm_start: bool | str = "auto",
                 refit_ratio: float = 2.0, warm_effort: float = 1.0) -> None:
        self.predictor = predictor
        self.predictor_params = predictor_params
        self.n_init = n_init
        self.k = k
        self.n_candidates = n_candidates
        self.dedup = dedup
        self.warm_start = warm_start
        self.refit_ratio = refit_ratio
        self.warm_effort = warm_effort

    def _setup(self) -> None:
        self.n_candidates = check_int("n_candidates", self.n_candidates, minimum=1)
        super()._setup()

    def _candidates(self) -> list[Architecture]:
        if self._size is not None and self._size <= self.n_candidates:
            return [a for a in self.space.enumerate() if not self.seen(a)]
        out: dict[Any, Architecture] = {}
        for _ in range(self.n_candidates):
            a = self._random_unseen(exclude=set(out), attempts=20)
            if a is None:
                break
            out[self._key(a)] = a
        return list(out.values())

    def _acquire(self, model: Any, k: int) -> list[Architecture]:
        cands = self._candidates()
        if not cands:
            return []
        pred = model.predict(cands)
        keys = [self._key(a) for a in cands]
        chosen: list[Architecture] = []
        picked: set[Any] = set()
        for i in np.argsort(-pred, kind="stable"):
            if keys[i] in picked:
                continue
            picked.add(keys[i])
            chosen.append(cands[int(i)])
            if len(chosen) == k:
                break
        return chosen
