"""Every registered predictor passes the predictor conformance suite on NB101 architectures
(unchanged predictor code: graph and path encodings come from the space's declared graph)."""

from __future__ import annotations

import pytest

from naslab import registry
from naslab.testing.predictors import check_predictor

FAST = {"gcn": {"epochs": 40}, "bananas": {"epochs": 60}}
#: ~40 s on the 364-wide NB101 path encoding: with the slow tests (fast on NB201's suite)
SLOW = {"bananas"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in registry.names("predictor") if n != "zc"])
def test_predictor_conformance_on_nb101(name: str) -> None:
    check_predictor(name, params=FAST.get(name), space="nb101")
