"""Every registered strategy passes the public conformance suite."""

import pytest

from naslab import registry
from naslab.testing import check_strategy


@pytest.mark.parametrize("name", registry.names("strategy"))
def test_strategy_conformance(name: str) -> None:
    check_strategy(name)
