"""The MobileNet block space: size, notation, canonical form, moves, encodings."""

from __future__ import annotations

import numpy as np
import pytest

from naslab.errors import ConfigError, InvalidArchitectureError
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.mobilenet import (BLOCK_OPS, DECISIONS, SKIP_INDEX, MobileNetSpace,
                                     make_layout)
from naslab.testing import check_space

SP = get_space("mobilenet")
TEXT = "k3e4-k5e6|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|k7e4-k7e4-k7e4"


def test_conformance() -> None:
    check_space("mobilenet", n=60)


def test_size_is_ofas_2e19_and_counts_distinct_networks() -> None:
    assert SP.size() == (81 + 729 + 6561) ** 5
    assert 2.1e19 < SP.size() < 2.2e19
    assert SP.n_vectors() == (9 * 9 * 10 * 10) ** 5
    # the canonical forms of one stage's decision vectors are exactly the 7371 sequences
    stage = {tuple(c) for c in np.ndindex(9, 9, 10, 10)
             if SP.canonical(Architecture("mobilenet", tuple(c) + (0,) * 16)).choices[:4] == c}
    assert len(stage) == 81 + 729 + 6561
    with pytest.raises(TypeError):
        len(SP)


def test_decisions_and_options() -> None:
    assert len(DECISIONS) == 20 and [d.name for d in DECISIONS[:5]] == [
        "s1.b0", "s1.b1", "s1.b2", "s1.b3", "s2.b0"]
    assert DECISIONS[0].options == BLOCK_OPS and len(BLOCK_OPS) == 9
    assert DECISIONS[2].options == (*BLOCK_OPS, "skip")


def test_parse_format_and_trailing_skips() -> None:
    a = SP.parse(TEXT)
    assert str(a) == TEXT and SP.depths(a) == [2, 3, 4, 2, 3]
    assert SP.blocks(a)[0] == [(3, 4), (5, 6)]
    b = SP.parse("k3e4-k5e6-skip-skip|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|"
                 "k7e4-k7e4-k7e4")
    assert b == a
    # a skip in the middle is a different decision vector, the same network
    c = SP.parse("k3e4-k5e6-skip-k7e6|" + TEXT.split("|", 1)[1])
    assert c != SP.canonical(c) and SP.format(SP.canonical(c)).startswith("k3e4-k5e6-k7e6|")
    assert SP.blocks(c) == SP.blocks(SP.canonical(c))


@pytest.mark.parametrize("text, fragment", [
    ("k3e4-k5e6|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k4e6|k7e4-k7e4-k7e4", "'k4e6' (stage 4, block 2)"),
    ("k3e4|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|k7e4-k7e4-k7e4", "stage 1 'k3e4'"),
    ("k3e4-k5e6|k7e6-k3e3", "5 stages"),
    ("skip-k5e6|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|k7e4-k7e4-k7e4", "block 1 of stage 1"),
    ("k3e4-k5e6-k3e3-k3e3-k3e3|k7e6-k3e3|k3e3-k3e3|k5e6-k5e6|k7e4-k7e4", "found 5"),
])
def test_parse_errors_name_the_bad_token(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=None) as exc:
        SP.parse(text)
    assert fragment in str(exc.value)


def test_mutation_and_neighbours_stay_canonical_and_in_the_space() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        a = SP.sample(rng)
        assert SP.canonical(a) == a
        b = SP.mutate(a, rng)
        assert SP.validate(b) == b and SP.canonical(b) == b and b != a
        diff = sum(x != y for x, y in zip(a.choices, b.choices))
        assert diff == 1
    a = SP.parse(TEXT)
    nb = list(SP.neighbors(a))
    # per stage: 8 other ops per block, 9 appended ops (depth < 4), 1 removal (depth > 2)
    depths = SP.depths(a)
    assert len(nb) == sum(8 * d + (9 if d < 4 else 0) + (1 if d > 2 else 0) for d in depths)
    assert all(SP.canonical(x) == x for x in nb)


def test_sampling_covers_depths_and_ops_uniformly() -> None:
    rng = np.random.default_rng(0)
    archs = [SP.sample(rng) for _ in range(3000)]
    depth = np.array([SP.depths(a) for a in archs])
    frac = [(depth == d).mean() for d in (2, 3, 4)]
    assert np.allclose(frac, 1 / 3, atol=0.02)
    first = np.array([a.choices[0] for a in archs])
    assert np.allclose(np.bincount(first, minlength=9) / len(first), 1 / 9, atol=0.02)


def test_ofa_encoding() -> None:
    a = SP.parse(TEXT)
    v = SP.encode(a, "ofa").reshape(20, 6)
    assert v.shape == (20, 6) and v.sum() == 2 * sum(SP.depths(a))
    assert list(v[0]) == [1, 0, 0, 0, 1, 0]          # k3 e4
    assert not v[2].any() and not v[3].any()           # stage 1 has depth 2
    c = Architecture("mobilenet", (0, 0, SKIP_INDEX, 4) + a.choices[4:])
    assert np.array_equal(SP.encode(c, "ofa"), SP.encode(SP.canonical(c), "ofa"))


def test_space_options() -> None:
    assert [s.se for s in SP.layout.stages] == [False, True, False, True, True]
    sp = MobileNetSpace(se="none", width_mult=1.2)
    assert not any(s.se for s in sp.layout.stages) and sp.layout.width_mult == 1.2
    assert all(make_layout("all").stages[i].se for i in range(5))
    with pytest.raises(ConfigError, match="se must be one of"):
        MobileNetSpace(se="some")
    with pytest.raises(ConfigError, match="width_mult"):
        MobileNetSpace(width_mult=0)
