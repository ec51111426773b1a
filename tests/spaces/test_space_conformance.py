"""Every registered space passes the public space conformance suite."""

import pytest

from naslab import registry
from naslab.testing import check_space


@pytest.mark.parametrize("name", registry.names("space"))
def test_space_conformance(name: str) -> None:
    check_space(name)
