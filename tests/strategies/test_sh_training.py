"""Successive halving over the training estimator (fidelity = epochs): only the epochs
actually trained are paid for."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from naslab import registry  # noqa: E402
from naslab.estimators.training import TrainingEstimator  # noqa: E402
from naslab.runner import Experiment, MaxTrials  # noqa: E402
from naslab.spaces.base import get_space  # noqa: E402


class CountingTrainer(TrainingEstimator):
    """The training estimator, recording how many epochs each evaluation trained."""

    def __init__(self, *args, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kw)
        self.trained: list[tuple[float | None, int, float]] = []

    def evaluate(self, arch, *, fidelity=None, seed=0):  # type: ignore[no-untyped-def]
        ev = super().evaluate(arch, fidelity=fidelity, seed=seed)
        self.trained.append((fidelity, len(ev.info["history"]), ev.cost.simulated_s))
        return ev


@pytest.mark.slow
def test_sh_on_the_training_estimator_pays_only_for_epochs_trained() -> None:
    est = CountingTrainer("digits", "cpu", epochs=9, C=4, N=1, n_train=300, n_val=150, n_test=100,
                          num_threads=1)
    sh = registry.create("strategy", "sh")  # defaults from the estimator: eta 3, epochs 1..9
    res = Experiment(get_space("nb201"), sh, est, termination=MaxTrials(13), seed=0).run()
    assert sh.ladder_ == (1.0, 3.0, 9.0)
    assert [t.fidelity for t in res.trials] == [1.0] * 9 + [3.0] * 3 + [None]
    # every evaluation trained exactly its fidelity's epochs, from scratch
    assert [(f, n) for f, n, _ in est.trained] == [(1.0, 1)] * 9 + [(3.0, 3)] * 3 + [(None, 9)]
    assert sum(n for _, n, _ in est.trained) == 27  # not 13 x 9 = 117
    # the recorded simulated cost is the training time of those epochs, and nothing else
    for rec, (_, _, sim) in zip(res.trials, est.trained):
        assert rec.cost.simulated_s == pytest.approx(sim) and sim > 0
    assert res.simulated_cost_s == pytest.approx(sum(s for _, _, s in est.trained))
    # promotions follow validation accuracy; the incumbent is the 9-epoch result
    first = res.trials[:9]
    best3 = sorted(first, key=lambda t: (-t.objective, t.number))[:3]
    assert {t.arch for t in res.trials[9:12]} == {t.arch for t in best3}
    assert res.best is not None and res.best.number == 12
