"""REINFORCE's baseline update: today's rule (default, ids unchanged) and NB201's scripts'."""

from __future__ import annotations

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError
from naslab.estimators.base import Evaluation, Objective
from naslab.spaces import get_space

SPACE = get_space("nb201")


def test_before_is_the_scripts_bias_corrected_average_including_the_reward() -> None:
    s = registry.create("strategy", "reinforce", baseline_update="before",
                        baseline_momentum=0.9)
    s.setup(SPACE, Objective("val_acc"), seed=0)
    rewards = [70.0, 80.0, 75.0, 90.0]
    num = den = 0.0
    for r in rewards:
        arch = s.ask(1)[0]
        s.tell(arch, Evaluation({"val_acc": r}))
        num, den = 0.9 * num + 0.1 * r, 0.9 * den + 0.1  # reinforce.py's ExponentialMovingAverage
        assert s.baseline == pytest.approx(num / den)
    assert s.baseline == pytest.approx(np.average(rewards, weights=0.9 ** np.arange(3, -1, -1)))


def test_the_default_is_unchanged_and_left_out_of_the_description() -> None:
    d = registry.create("strategy", "reinforce").describe()
    assert "baseline_update" not in d["params"]
    assert registry.create("strategy", "reinforce", baseline_update="before").describe()[
        "params"]["baseline_update"] == "before"
    with pytest.raises(ConfigError, match="baseline_update must be 'after'"):
        registry.create("strategy", "reinforce", baseline_update="x").setup(
            SPACE, Objective("val_acc"), seed=0)
