"""Every registered predictor passes the public predictor conformance suite."""

from __future__ import annotations

import pytest

from naslab import registry
from naslab.testing.predictors import check_predictor

# smaller training budgets keep the suite fast; the checks are the same
FAST = {"gcn": {"epochs": 40}, "bananas": {"epochs": 60}}


def _param(name: str) -> object:
    # zc learns nothing from labels (no tau to reach) and builds a network per arch: slow
    return pytest.param(name, marks=pytest.mark.slow) if name == "zc" else name


@pytest.mark.parametrize("name", [_param(n) for n in registry.names("predictor")])
def test_predictor_conformance(name: str) -> None:
    if name == "zc":
        check_predictor("zc", params={"proxy": "params"}, min_tau=None)
    else:
        check_predictor(name, params=FAST.get(name))
