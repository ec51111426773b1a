"""The strategy conformance suite, unchanged, on the DARTS and TransNAS-Bench-101 spaces."""

from __future__ import annotations

import pytest

from naslab.testing import check_strategy


@pytest.mark.parametrize("space", ["darts", "tnb101"])
@pytest.mark.parametrize("name", ["rs", "re", "ls", "reinforce"])
def test_black_box_strategies(name: str, space: str) -> None:
    check_strategy(name, space=space)


@pytest.mark.slow
def test_bananas_on_transnas() -> None:
    check_strategy("bananas", space="tnb101", n=30)
