"""The TransNAS-Bench-101 micro space: notation, index, moves, canonical form."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from naslab.errors import InvalidArchitectureError
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.transnas import TransNASMicroSpace
from naslab.testing import check_space

SPACE = get_space("tnb101")
assert isinstance(SPACE, TransNASMicroSpace)


def _swap(a: Architecture) -> list[Architecture]:
    """Node 1 <-> node 2 relabelled, when no edge joins them (the only other isomorphism)."""
    c = a.choices
    if c[2] != 0:
        return []
    return [Architecture("tnb101", (c[1], c[0], 0, c[3], c[5], c[4]))]


def test_conformance_with_the_node_swap() -> None:
    check_space("tnb101", isomorphs=_swap)


def test_official_strings_and_index_order() -> None:
    a = SPACE.parse("64-41414-1_02_333")
    assert a.choices == (1, 0, 2, 3, 3, 3) and str(a) == "64-41414-1_02_333"
    assert SPACE.parse("1_02_333") == a
    assert SPACE.index(SPACE.parse("0_00_000")) == 0
    assert SPACE.index(SPACE.parse("3_33_333")) == 4095 == len(SPACE) - 1
    assert SPACE.index(SPACE.parse("0_00_001")) == 1 and SPACE.index(SPACE.parse("1_00_000")) == 4**5
    assert [SPACE.index(a) for a in SPACE.enumerate()] == list(range(4096))
    assert SPACE.decisions[0].options == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
    assert [d.name for d in SPACE.decisions] == ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]


@pytest.mark.parametrize("text, fragment", [
    ("64-41414-1_02_334", "op code '4' of node 3 (edge 3<-2)"),
    ("64-41414-1_02_33", "1, 2 and 3 op digits"),
    ("64-4141-1_02_333", "macro skeleton '64-41414'"),
    ("64-41414-basic", "cell code 'basic'"),
    ("", "empty"),
])
def test_bad_strings_name_the_bad_part(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArchitectureError) as e:
        SPACE.parse(text)
    assert fragment in str(e.value), str(e.value)


def test_canonical_classes_dead_edges_and_the_swap() -> None:
    # output only through 3<-0: every other edge's op is irrelevant when 3<-1, 3<-2 are none
    base = SPACE.parse("0_00_300")
    same = [SPACE.parse(f"{a}_{b}{c}_300") for a, b, c in itertools.product("0123", repeat=3)]
    assert {SPACE.canonical(x) for x in same} == {SPACE.canonical(base)}
    # the swap of nodes 1 and 2 (no edge between them)
    assert SPACE.canonical(SPACE.parse("3_20_012")) == SPACE.canonical(SPACE.parse("2_30_021"))
    # not with an edge between them
    assert SPACE.canonical(SPACE.parse("3_21_012")) != SPACE.canonical(SPACE.parse("2_31_021"))
    # skip_connect is not contracted (a factorized reduction in reduction cells)
    assert SPACE.canonical(SPACE.parse("1_00_010")) != SPACE.canonical(SPACE.parse("0_00_100"))
    ids = SPACE.class_ids()
    assert all(ids[ids[i]] == ids[i] for i in range(4096))       # representatives are members
    assert all(ids[i] <= i for i in range(4096))                 # ... with the smallest index


def test_moves_change_one_edge() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        a = SPACE.sample(rng)
        nb = list(SPACE.neighbors(a))
        assert len(nb) == 18
        assert all(sum(x != y for x, y in zip(a.choices, b.choices)) == 1 for b in nb)
        assert SPACE.mutate(a, rng) in nb
