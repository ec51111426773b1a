"""Every registered predictor passes the public predictor conformance suite."""

from __future__ import annotations

import pytest

from naslab import registry
from naslab.testing.predictors import check_predictor

# smaller training budgets keep the suite fast; the checks are the same
FAST = {"gcn": {"epochs": 40}, "bananas": {"epochs": 60}}


@pytest.mark.parametrize("name", registry.names("predictor"))
def test_predictor_conformance(name: str) -> None:
    if name == "zc":
        pytest.skip("zc learns nothing from labels: checked by test_zc_conformance (slow)")
    check_predictor(name, params=FAST.get(name))


@pytest.mark.slow
def test_zc_conformance() -> None:
    pytest.importorskip("torch")
    check_predictor("zc", params={"proxy": "params"}, min_tau=None)
