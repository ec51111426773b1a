"""naslab.errors.check_int / check_float: the one validator and its wording."""

from __future__ import annotations

import numpy as np
import pytest

from naslab.errors import ConfigError, check_float, check_int


@pytest.mark.parametrize("kw, value, message", [
    ({"minimum": 1}, 0, "n must be a positive integer, got 0"),
    ({"minimum": 1}, "3", "n must be a positive integer, got '3'"),
    ({"minimum": 1}, True, "n must be a positive integer, got True"),
    ({"minimum": 1}, 2.0, "n must be a positive integer, got 2.0"),
    ({"minimum": 0}, -1, "n must be a non-negative integer, got -1"),
    ({"minimum": 2}, 1, "n must be an integer >= 2, got 1"),
    ({"minimum": 1, "maximum": 4}, 5, "n must be an integer in 1..4, got 5"),
    ({"maximum": 9}, 10, "n must be an integer <= 9, got 10"),
    ({}, None, "n must be an integer, got None"),
    ({"minimum": 1, "expected": ">= 1"}, 0, "n must be >= 1, got 0"),
    ({"minimum": 1, "expected": "an integer >= 1"}, 0, "n must be an integer >= 1, got 0"),
])
def test_check_int_wording(kw: dict, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_int("n", value, **kw)
    assert str(err.value) == message


def test_check_int_accepts_numpy_integers_and_returns_int() -> None:
    v = check_int("n", np.int64(3), minimum=1, maximum=3)
    assert v == 3 and type(v) is int


@pytest.mark.parametrize("kw, value, message", [
    ({"minimum": 0, "strict_min": True}, -1, "x must be a positive number, got -1"),
    ({"minimum": 0, "strict_min": True}, 0, "x must be a positive number, got 0"),
    ({"minimum": 0}, -0.1, "x must be a number >= 0, got -0.1"),
    ({"minimum": 1, "strict_min": True}, 1, "x must be a number > 1, got 1"),
    ({"minimum": 0, "maximum": 0.9}, 1.5, "x must be a number in [0, 0.9], got 1.5"),
    ({}, "0.5", "x must be a number, got '0.5'"),
    ({}, float("nan"), "x must be a number, got nan"),
    ({"minimum": 0, "finite": True}, float("inf"), "x must be a number >= 0, got inf"),
])
def test_check_float_wording(kw: dict, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_float("x", value, **kw)
    assert str(err.value) == message


def test_check_float_returns_floats() -> None:
    assert check_float("x", 3, minimum=0) == 3.0 and type(check_float("x", np.float32(2))) is float
    assert check_float("x", float("inf"), minimum=0) == float("inf")  # allowed unless finite=True
