"""Every registered strategy passes the public conformance suite and its quality check."""

import pytest

from naslab import registry
from naslab.testing import check_strategy
from naslab.testing.quality import QUALITY, check_strategy_quality


@pytest.mark.parametrize("name", registry.names("strategy"))
def test_strategy_conformance(name: str) -> None:
    check_strategy(name)


def _quality_param(name: str) -> object:
    spec = QUALITY.get(name)  # a strategy without an entry is not skipped: the check fails
    return pytest.param(name, marks=pytest.mark.slow) if spec is not None and spec.slow else name


@pytest.mark.parametrize("name", [_quality_param(n) for n in registry.names("strategy")])
def test_strategy_quality(name: str, data_dir) -> None:  # type: ignore[no-untyped-def]
    """Paired against random search on the tabular benchmark at the budgets of its
    naslab.testing.quality.QUALITY entry (figures in docs/benchmarks.md)."""
    check_strategy_quality(name, data_dir=str(data_dir))
