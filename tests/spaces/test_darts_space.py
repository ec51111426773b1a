"""The DARTS cell space: genotype notation, NASLib's compact form, decisions, moves, canonical
form, index, graph."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest

from naslab.errors import InvalidArchitectureError
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.darts import (CELL_SIZE, N_GENOTYPES, OPS, PAIRS, PRIMITIVES, DartsSpace,
                                 Genotype)
from naslab.testing import check_space

SPACE = get_space("darts")
assert isinstance(SPACE, DartsSpace)

#: DARTS_V2 as published in the DARTS code's genotypes.py
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
            "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
            "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
            "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
            "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
            "reduce_concat=[2, 3, 4, 5])")

#: the same genotype as naslab writes it: the two pairs of each node ordered by input
DARTS_V2_SORTED = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2)], "
    "reduce_concat=[2, 3, 4, 5])")


def _samples(n: int = 40) -> list[Architecture]:
    return [SPACE.sample(np.random.default_rng([7, i])) for i in range(n)]


def _isomorphs(a: Architecture) -> Iterator[Architecture]:
    """Archs isomorphic to ``a``: ops changed on unused candidate edges, and every renumbering
    of a cell's intermediate nodes that keeps nodes after their inputs."""
    ch = list(a.choices)
    for d, dec in enumerate(SPACE.decisions):
        cell, _, name = dec.name.partition(".")
        if "<-" not in name or name.startswith("out"):
            continue
        k, i = (int(v) for v in name.split("<-"))
        nodes = SPACE.cells(a)[0 if cell == "normal" else 1]
        if i not in nodes[k - 2][:2]:
            yield SPACE.from_decision_indices(ch[:d] + [(ch[d] + 3) % dec.size] + ch[d + 1:])
    g = SPACE.genotype(a)
    for perm in itertools.permutations((2, 3, 4, 5)):
        pm = {0: 0, 1: 1, **dict(zip((2, 3, 4, 5), perm))}
        cells = []
        for pairs in (g.normal, g.reduce):
            nodes = {pm[2 + n // 2]: [] for n in range(0, 8, 2)}
            for n, (op, inp) in enumerate(pairs):
                nodes[pm[2 + n // 2]].append((op, pm[inp]))
            if any(inp >= k for k, ps in nodes.items() for _, inp in ps):
                break
            cells.append([p for k in sorted(nodes) for p in nodes[k]])
        else:
            yield SPACE.from_genotype(Genotype(cells[0], [2, 3, 4, 5], cells[1], [2, 3, 4, 5]))


def test_conformance_with_the_space_isomorphisms() -> None:
    check_space("darts", isomorphs=lambda a: list(_isomorphs(a)))


def test_declared_decisions_follow_nb301s_configuration_layout() -> None:
    names = [d.name for d in SPACE.decisions]
    assert len(names) == 42 and len(set(names)) == 42
    normal = [n for n in names if n.startswith("normal.")]
    assert normal[:6] == ["normal.2<-0", "normal.2<-1", "normal.3.inputs", "normal.3<-0",
                          "normal.3<-1", "normal.3<-2"]
    assert sum("<-" in n and ".out" not in n for n in normal) == 14      # candidate edges
    assert SPACE.decisions[names.index("normal.5.inputs")].options == (
        "0_1", "0_2", "0_3", "0_4", "1_2", "1_3", "1_4", "2_3", "2_4", "3_4")
    assert all(SPACE.decisions[names.index(n)].options == OPS for n in names
               if "<-" in n and ".out" not in n)
    assert OPS == PRIMITIVES[1:] and PRIMITIVES[0] == "none"
    assert SPACE.encode(SPACE.sample(np.random.default_rng(0))).shape == (2 * (14 * 7 + 3 + 6 + 10 + 4),)
    # the graph: one op node per candidate edge and per concatenation, input and output
    assert SPACE.graph_spec is not None and SPACE.graph_spec.n_graph_nodes == 2 * (14 + 4) + 2


def test_genotype_round_trip_and_the_dart_codes_notation() -> None:
    a = SPACE.parse(DARTS_V2)
    assert SPACE.format(a) == DARTS_V2_SORTED == str(a)
    assert SPACE.parse(DARTS_V2_SORTED) == a
    g = SPACE.genotype(a)
    assert g.normal[7] == ("dil_conv_3x3", 2) and g.reduce_concat == [2, 3, 4, 5]
    assert SPACE.from_genotype(g) == a
    # DARTS's search prints the concat as range(2, 6); the pairs of a node in any order
    alt = DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)").replace(
        "('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2)",
        "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2)")
    assert SPACE.parse(alt) == a
    assert SPACE.parse("  " + DARTS_V2.replace("'", '"') + "\n") == a
    for x in _samples():
        assert SPACE.parse(SPACE.format(x)) == x
        assert SPACE.parse(SPACE.format_compact(x)) == x


def test_naslib_compact_form_uses_nb301s_op_order() -> None:
    # the first record of NASLib's zc_nasbench301.json, decoded by hand with
    # OPS = max_pool, avg_pool, skip, sep3, sep5, dil3, dil5 (ids 0..6), pairs (input, op id)
    text = ("[[(0, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
            "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 6)]]")
    g = SPACE.genotype(SPACE.parse(text))
    assert g.normal == [("max_pool_3x3", 0), ("dil_conv_3x3", 1), ("avg_pool_3x3", 0),
                        ("avg_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                        ("sep_conv_3x3", 1), ("skip_connect", 3)]
    assert g.reduce == [("skip_connect", 0), ("max_pool_3x3", 1), ("sep_conv_3x3", 0),
                        ("sep_conv_3x3", 1), ("avg_pool_3x3", 0), ("max_pool_3x3", 3),
                        ("max_pool_3x3", 2), ("dil_conv_5x5", 3)]
    assert SPACE.to_compact(SPACE.parse(text))[0][:2] == ((0, 0), (1, 5))


@pytest.mark.parametrize("text, fragment", [
    (DARTS_V2.replace("dil_conv_3x3", "dil_conv_3x4"), "'dil_conv_3x4'"),
    (DARTS_V2.replace("dil_conv_3x3", "dil_conv_3x4"), "did you mean 'dil_conv_3x3'"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "normal pair 7"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 0)"), "normal node 5"),
    (DARTS_V2.replace("('skip_connect', 2), ('max_pool_3x3', 1)]", "('skip_connect', 2)]"),
     "reduce must be a list of 8"),
    (DARTS_V2.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[4, 5]"), "reduce_concat"),
    (DARTS_V2.replace("('sep_conv_3x3', 0)", "('none', 0)", 1), "supernet op"),
    (DARTS_V2.replace("normal_concat", "normal_concatenate"), "unknown field 'normal_concatenate'"),
    (DARTS_V2[:-1], "not a Genotype(...) expression"),
    ("Genome(normal=[])", "must be Genotype("),
    ("[[(0, 0)] * 8, [(0, 7)] * 8]", "must be a literal"),
    ("[[(0, 0), (1, 5), (1, 1), (0, 1), (1, 3), (0, 3), (1, 3), (3, 2)], "
     "[(1, 0), (0, 2), (1, 3), (0, 3), (3, 0), (0, 1), (2, 0), (3, 7)]]", "op id 7"),
    ("", "empty DARTS genotype"),
])
def test_bad_notation_names_the_bad_part(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=None) as e:
        SPACE.parse(text)
    assert fragment in str(e.value), str(e.value)


def test_sampling_is_uniform_over_input_pairs_and_ops() -> None:
    rng = np.random.default_rng(0)
    pairs5, ops = [], []
    for _ in range(3000):
        n, _r = SPACE.cells(SPACE.sample(rng))
        pairs5.append(n[3][:2])
        ops += [n[0][2], n[0][3]]
    counts = np.array([pairs5.count(p) for p in PAIRS[5]])
    assert counts.min() > 3000 / 10 * 0.75 and counts.max() < 3000 / 10 * 1.25
    assert np.bincount(ops, minlength=7).min() > 6000 / 7 * 0.85


def test_neighbours_are_the_120_one_move_genotypes() -> None:
    a = SPACE.parse(DARTS_V2)
    nb = list(SPACE.neighbors(a))
    assert len(nb) == len(set(nb)) == 120
    base = SPACE.cells(a)
    for b in nb:
        cb = SPACE.cells(b)
        diff = [(c, k) for c in range(2) for k in range(4) if cb[c][k] != base[c][k]]
        assert len(diff) == 1
        (c, k), old, new = diff[0], base[diff[0][0]][diff[0][1]], cb[diff[0][0]][diff[0][1]]
        old_set, new_set = {(old[0], old[2]), (old[1], old[3])}, {(new[0], new[2]), (new[1], new[3])}
        assert len(old_set & new_set) == 1      # one edge kept, the other changed op or input
    rng = np.random.default_rng(1)
    assert all(SPACE.mutate(a, rng) in set(nb) for _ in range(50))


def test_canonical_is_invariant_and_separates_different_cells() -> None:
    for a in _samples(15):
        c = SPACE.canonical(a)
        for b in _isomorphs(a):
            assert SPACE.canonical(b) == c
    # node renumbering by hand: nodes 2 and 3 both read inputs only -> swappable
    g1 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), "
          "('skip_connect', 1), ('sep_conv_5x5', 2), ('avg_pool_3x3', 3), ('dil_conv_3x3', 4), "
          "('skip_connect', 0)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
          "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
          "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
    g2 = g1.replace("normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), "
                    "('skip_connect', 1), ('sep_conv_5x5', 2), ('avg_pool_3x3', 3)",
                    "normal=[('max_pool_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0), "
                    "('sep_conv_3x3', 1), ('sep_conv_5x5', 3), ('avg_pool_3x3', 2)")
    assert SPACE.parse(g1) != SPACE.parse(g2)
    assert SPACE.canonical(SPACE.parse(g1)) == SPACE.canonical(SPACE.parse(g2))
    # the ops of the two swapped nodes differ: another renumbering would be another network
    g3 = g1.replace("('sep_conv_5x5', 2), ('avg_pool_3x3', 3)", "('avg_pool_3x3', 2), ('sep_conv_5x5', 3)")
    assert SPACE.canonical(SPACE.parse(g3)) != SPACE.canonical(SPACE.parse(g1))
    # normal and reduce cells are not interchangeable
    a = SPACE.parse(DARTS_V2)
    g = SPACE.genotype(a)
    swapped = SPACE.from_genotype(Genotype(g.reduce, [2, 3, 4, 5], g.normal, [2, 3, 4, 5]))
    assert SPACE.canonical(swapped) != SPACE.canonical(a)


def test_index_numbers_genotypes() -> None:
    assert len(SPACE) == N_GENOTYPES == CELL_SIZE**2 == (1 * 3 * 6 * 10 * 7**8) ** 2
    assert SPACE.index(SPACE.from_index(0)) == 0
    assert SPACE.index(SPACE.from_index(N_GENOTYPES - 1)) == N_GENOTYPES - 1
    for a in _samples(20):
        assert SPACE.from_index(SPACE.index(a)) == a
    first = next(iter(SPACE.enumerate()))
    assert SPACE.genotype(first).normal == [("max_pool_3x3", 0), ("max_pool_3x3", 1)] * 4
    # unused candidate edges do not enter the index
    a = SPACE.parse(DARTS_V2)
    b = next(_isomorphs(a))
    assert b != a and SPACE.index(b) == SPACE.index(a) and SPACE.normalize(b) == a
    with pytest.raises(InvalidArchitectureError, match=str(N_GENOTYPES)):
        SPACE.from_index(N_GENOTYPES)


def test_graph_marks_unused_edges_none_and_reduces_to_the_genotype() -> None:
    from naslab.predictors.encodings import encode, graph_encoding

    ge = graph_encoding(SPACE)
    labels = SPACE.graph_labels()
    for a in _samples(10):
        adj, feats = SPACE.graph(a)
        lab = [labels[i] for i in feats.argmax(1)]
        assert lab.count("none") == 2 * (14 - 8)
        _, red, alive = ge.reduce(a)
        # alive: input, output and the 16 ops of the genotype that are not skip_connect
        g = SPACE.genotype(a)
        n_skip = sum(op == "skip_connect" for op, _ in g.normal + g.reduce)
        assert int(alive.sum()) == 2 + 16 - n_skip
        # neither the path nor the one-hot encoding sees unused edges (index does: it is the
        # raw decision vector)
        b = next(_isomorphs(a))
        for kind in ("path", "onehot", "adjacency"):
            assert np.array_equal(encode(SPACE, [a], kind), encode(SPACE, [b], kind)), kind
        assert not np.array_equal(SPACE.encode(a, "index"), SPACE.encode(b, "index"))
    assert ge.max_path_ops >= 4 and ge.compute_ops == tuple(
        o for o in OPS if o != "skip_connect")
