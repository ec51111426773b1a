"""NB201 space invariants, checked against the official files."""

from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pytest

from conftest import require_file
from naslab.errors import InvalidArchitectureError
from naslab.spaces import Architecture, get_space
from naslab.spaces.nb201 import OPS

SPACE = get_space("nb201")


def test_size_and_enumeration_are_the_official_order() -> None:
    meta = require_file("nb201/nats-fixtures/NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2")
    import bz2
    import pickle

    official = pickle.loads(bz2.BZ2File(meta).read())["meta_archs"]
    assert len(SPACE) == 15625 == len(official)
    archs = list(SPACE.enumerate())
    assert [str(a) for a in archs] == official
    assert len(set(archs)) == 15625
    for i in (0, 1, 11, 284, 6111, 15624):
        assert SPACE.index(archs[i]) == i
        assert SPACE.from_index(i) == archs[i]


def test_index_matches_every_data_file_row_order() -> None:
    for rel, col in (("nb201/nb201_val_200ep.csv", "arch"), ("nb201/nats_bench.csv", "ArchitectureString")):
        with open(require_file(rel), newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r[col] for r in rows] == [str(a) for a in SPACE.enumerate()]


def test_parse_format_round_trip_and_json() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = SPACE.sample(rng)
        assert SPACE.parse(str(a)) == a
        assert Architecture.from_json(a.to_json()) == a
    s = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    a = SPACE.parse(s)
    assert a.choices == (3, 3, 4, 1, 3, 1) and str(a) == s


@pytest.mark.parametrize("text, fragment", [
    ("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "'conv_3x3'"),
    ("|nor_conv_3x~0|+|none~0|none~1|+|none~0|none~1|none~2|", "did you mean 'nor_conv_3x3'"),
    ("|none~0|+|none~0|none~1|", "3 nodes"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 must have 2"),
    ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "'none~1'"),
    ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "'none0'"),
    ("", "3 nodes"),
])
def test_parse_errors_name_the_bad_token(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArchitectureError) as exc:
        SPACE.parse(text)
    assert fragment in str(exc.value)


def test_invalid_architectures_are_rejected() -> None:
    for bad in (Architecture("nb201", (0, 0, 0, 0, 0)), Architecture("nb201", (0, 0, 0, 0, 0, 5)),
                Architecture("other", (0,) * 6)):
        with pytest.raises(InvalidArchitectureError):
            SPACE.validate(bad)
    with pytest.raises(InvalidArchitectureError):
        SPACE.from_index(15625)
    with pytest.raises(InvalidArchitectureError):
        SPACE.encode(SPACE.from_index(0), "nope")


def test_mutate_changes_exactly_one_edge_to_another_op() -> None:
    rng = np.random.default_rng(1)
    counts = np.zeros((6, 5))
    a = SPACE.from_index(123)
    for _ in range(3000):
        b = SPACE.mutate(a, rng)
        diff = [i for i in range(6) if a.choices[i] != b.choices[i]]
        assert len(diff) == 1
        counts[diff[0], b.choices[diff[0]]] += 1
    # every edge and every other op is reachable, roughly uniformly
    for e in range(6):
        others = [o for o in range(5) if o != a.choices[e]]
        assert counts[e, a.choices[e]] == 0
        assert all(counts[e, o] > 80 for o in others)


def test_neighbors_are_the_24_one_edge_changes() -> None:
    for i in (0, 77, 15624):
        a = SPACE.from_index(i)
        nb = list(SPACE.neighbors(a))
        assert len(nb) == 24 == len(set(nb))
        assert a not in nb
        assert all(sum(x != y for x, y in zip(a.choices, b.choices)) == 1 for b in nb)


def test_isomorphism_classes_match_the_published_unique_strings() -> None:
    with open(require_file("nb201/nats_bench.csv"), newline="") as f:
        keys = [r["UniqueString"] for r in csv.DictReader(f)]
    ours = SPACE.class_ids()
    assert len(set(ours.tolist())) == 6466 == len(set(keys))
    # class for class: the two partitions are identical
    theirs_by_key: dict[str, int] = {}
    theirs = np.array([theirs_by_key.setdefault(k, i) for i, k in enumerate(keys)])
    assert np.array_equal(ours, theirs)
    # our key string is the published one
    assert all(SPACE.unique_key(SPACE.from_index(i)) == keys[i] for i in range(0, 15625, 97))


def test_canonical_is_a_class_representative() -> None:
    groups: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(SPACE.class_ids()):
        groups[int(c)].append(i)
    big = max(groups.values(), key=len)
    reps = {SPACE.canonical(SPACE.from_index(i)) for i in big}
    assert len(reps) == 1 and SPACE.index(reps.pop()) == min(big)
    # an all-'none' cell and one with only unreachable convs share a class
    zero = SPACE.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    dead = SPACE.parse("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|none~2|")
    assert SPACE.canonical(zero) == SPACE.canonical(dead)


def test_encodings() -> None:
    a = SPACE.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")
    oh = SPACE.encode(a, "onehot")
    assert oh.shape == (30,) and oh.sum() == 6
    assert [OPS[int(np.argmax(r))] for r in oh.reshape(6, 5)] == [OPS[c] for c in a.choices]
    adj, ops = SPACE.graph(a)
    assert adj.shape == (8, 8) and ops.shape == (8, 7)
    assert np.allclose(np.triu(adj, 1), adj)  # a DAG in topological order
    assert adj[0].sum() == 3 and adj[:, 7].sum() == 3  # 3 edges leave the input, 3 enter the output
    assert SPACE.encode(a, "adjacency").shape == (64 + 56,)
    assert list(SPACE.encode(a, "index")) == list(a.choices)
