"""The NAS-Bench-101 space: NB101's pruning and graph hash (the 30 real records' keys), the
canonical form under node relabelling, validity, the size NB101 states, sampling / mutation /
neighbours, notation and encodings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from naslab.errors import InvalidArchitectureError
from naslab.predictors.encodings import encode, graph_batch
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.nb101 import (
    EDGES,
    N_CELLS,
    N_EDGES,
    OPS,
    count_cells,
    graph_hash,
    iter_cells,
    pack,
    prune,
    unpack,
)
from naslab.testing import check_space
from tests.conftest import require_file

SP = get_space("nb101")
C3, C1, MP = OPS


def _arch(rows: list[str], ops: list[str]) -> Architecture:
    return SP.from_spec([[int(c) for c in r] for r in rows], ["input", *ops, "output"])


def relabelled(a: Architecture, rng: np.random.Generator) -> Architecture:
    """The same raw spec with its interior nodes renumbered (any topological order of its
    edges)."""
    m, ops = unpack(a.choices)
    for _ in range(200):
        perm = [0, *rng.permutation(np.arange(1, 6)).tolist(), 6]  # new node i = old perm[i]
        pm = m[np.ix_(perm, perm)]
        if not np.tril(pm).any():
            return Architecture("nb101", pack(pm, [ops[p - 1] for p in perm[1:-1]]))
    return a


def isomorphs(a: Architecture) -> list[Architecture]:
    rng = np.random.default_rng(list(a.choices))
    return [relabelled(a, rng) for _ in range(3)]


def test_conformance_with_relabellings() -> None:
    check_space("nb101", isomorphs=isomorphs)


def test_the_30_records_hashes_are_reproduced() -> None:
    from naslab.benchmarks.nb101 import read_records

    recs = read_records(require_file("nb101/nb101_30_records.pkl"))
    assert len(recs) == 30
    for key, r in recs.items():
        assert SP.unique_key(r.arch) == key
        assert graph_hash(r.matrix, [OPS.index(o) for o in r.ops[1:-1]]) == key
        # and under node relabellings of the (padded) spec
        for b in isomorphs(r.arch):
            assert SP.unique_key(b) == key and SP.canonical(b) == SP.canonical(r.arch)


def test_pruning_removes_nodes_off_every_input_output_path() -> None:
    # node 1: reached from the input, reaches nothing (dangling); node 2: reaches the output but
    # is never reached (no input); node 3..5 unconnected; path input -> 4 -> output
    a = _arch(["0100100", "0000000", "0000001", "0000000", "0000001", "0000000", "0000000"],
              [C3, C1, MP, C3, C1])
    m, ops = SP.pruned_spec(a)
    assert m == [[0, 1, 0], [0, 0, 1], [0, 0, 0]] and ops == ["input", C3, "output"]
    small = _arch(["010", "001", "000"], [C3])
    assert SP.unique_key(a) == SP.unique_key(small) and SP.canonical(a) == SP.canonical(small)
    # the pruned nodes' ops do not matter; a kept node's op does
    b = _arch(["0100100", "0000000", "0000001", "0000000", "0000001", "0000000", "0000000"],
              [MP, MP, C3, C3, C1])
    assert SP.unique_key(b) == SP.unique_key(a)
    c = _arch(["0100100", "0000000", "0000001", "0000000", "0000001", "0000000", "0000000"],
              [C3, C1, MP, MP, C1])
    assert SP.unique_key(c) != SP.unique_key(a)
    assert prune(np.zeros((4, 4), dtype=int), [0, 0]) is None


def test_validity_follows_nb101() -> None:
    with pytest.raises(InvalidArchitectureError, match="no path connects the input"):
        _arch(["0100000", "0010000", "0000000", "0000001", "0000000", "0000000", "0000000"],
              [C3] * 5)
    # 10 edges, all on input->output paths: too many
    with pytest.raises(InvalidArchitectureError, match="10 edges after pruning.*at most 9"):
        _arch(["0111100", "0000001", "0000001", "0000001", "0000011", "0000001", "0000000"],
              [C3] * 5)
    # 11 raw edges, 5 of them into two dangling nodes: valid (NB101 counts edges after pruning)
    a = _arch(["0111000", "0000111", "0000101", "0000101", "0000010", "0000000", "0000000"],
              [C3] * 5)
    assert int(np.sum(unpack(a.choices)[0])) == 11
    assert sum(map(sum, SP.pruned_spec(a)[0])) == 6
    # the 2-node cell (input -> output) is a cell of NB101
    two = SP.parse("01|00;input,output")
    assert SP.pruned_spec(two) == ([[0, 1], [0, 0]], ["input", "output"])


def test_identical_cells_under_node_relabelling() -> None:
    # two drawings of one cell: a conv3x3 branch and a conv1x1 -> maxpool branch
    a = _arch(["0110000", "0000001", "0001000", "0000001", "0000000", "0000000", "0000000"],
              [C3, C1, MP, C3, C3])
    b = _arch(["0101000", "0010000", "0000001", "0000001", "0000000", "0000000", "0000000"],
              [C1, MP, C3, C1, C1])
    assert a != b and SP.unique_key(a) == SP.unique_key(b)
    assert SP.canonical(a) == SP.canonical(b)
    # the same graph with the branch ops swapped is another cell
    c = _arch(["0110000", "0000001", "0001000", "0000001", "0000000", "0000000", "0000000"],
              [C1, C3, MP, C3, C3])
    assert SP.unique_key(c) != SP.unique_key(a) and SP.canonical(c) != SP.canonical(a)


def test_canonical_form_and_hash_agree_on_samples() -> None:
    rng = np.random.default_rng(7)
    archs = [SP.sample(rng) for _ in range(600)]
    by_hash = {SP.unique_key(a) for a in archs}
    by_canon = {SP.canonical(a) for a in archs}
    pairs = {(SP.unique_key(a), SP.canonical(a)) for a in archs}
    assert len(by_hash) == len(by_canon) == len(pairs)


def test_size_is_the_one_nb101_states() -> None:
    counts = count_cells()
    assert sum(counts.values()) == N_CELLS == SP.n_cells == 423_624
    assert counts == {2: 1, 3: 6, 4: 84, 5: 2441, 6: 62010, 7: 359082}


def test_count_equals_hashing_every_labelled_cell_up_to_5_nodes() -> None:
    for n in range(2, 6):
        pairs = [(s, d) for s in range(n) for d in range(s + 1, n)]
        keys = set()
        for mask in range(1 << len(pairs)):
            m = np.zeros((n, n), dtype=int)
            for k, (s, d) in enumerate(pairs):
                m[s, d] = mask >> k & 1
            if m.sum() > 9 or not ((m[:-1].sum(1) > 0).all() and (m[:, 1:].sum(0) > 0).all()):
                continue
            for lab in itertools.product(range(3), repeat=n - 2):
                keys.add(graph_hash(m, lab))
        assert len(keys) == count_cells(n)[n]
        reps = [graph_hash(m, lab) for m, lab in iter_cells(n) if len(m) == n]
        assert sorted(reps) == sorted(keys)  # one representative per class


def test_sampling_is_nb101_random_spec() -> None:
    archs = [SP.sample(np.random.default_rng(i)) for i in range(400)]
    assert all(SP.is_valid(a) for a in archs)
    sizes = [len(SP.pruned_spec(a)[1]) for a in archs]
    # raw specs: many prune to small cells (as in NASLib's 500 NB101 samples: 11 % are the
    # 2-node cell); a 7-node cell is rare
    assert 0.05 < sizes.count(2) / len(sizes) < 0.18
    assert sizes.count(7) / len(sizes) < 0.03
    edges = np.array([a.choices[:N_EDGES] for a in archs])
    assert 0.3 < edges.mean() < 0.6  # edge draws are fair coins, conditioned on validity


def test_mutation_rates_and_moves() -> None:
    rng = np.random.default_rng(0)
    a = _arch(["0110001", "0001000", "0000100", "0000010", "0000001", "0000001", "0000000"],
              [C3, C1, MP, C3, C1])
    flips, opch = [], []
    for _ in range(1500):
        b = SP.mutate(a, rng)
        assert SP.unique_key(b) != SP.unique_key(a) and SP.is_valid(b)
        flips.append(sum(x != y for x, y in zip(a.choices[:N_EDGES], b.choices[:N_EDGES])))
        opch.append(sum(x != y for x, y in zip(a.choices[N_EDGES:], b.choices[N_EDGES:])))
    # each edge flips with probability 1/7 (3 expected of 21), each op changes with 1/5 (1 of
    # 5), conditioned on a valid, different result
    assert 2.0 < np.mean(flips) < 3.5 and 0.8 < np.mean(opch) < 1.4
    assert np.mean([f == 0 for f in flips]) > 0.03  # op-only moves happen
    # higher rate, more change
    more = [sum(x != y for x, y in zip(a.choices, SP.mutate(a, rng, rate=3.0).choices))
            for _ in range(300)]
    assert np.mean(more) > np.mean(np.add(flips, opch)) + 1


def test_neighbours_are_every_distinct_single_change() -> None:
    a = _arch(["0110001", "0001000", "0000100", "0000010", "0000001", "0000001", "0000000"],
              [C3, C1, MP, C3, C1])
    nb = list(SP.neighbors(a))
    keys = [SP.unique_key(b) for b in nb]
    assert len(set(keys)) == len(keys) and SP.unique_key(a) not in keys
    expected = set()
    ch = a.choices
    for k in range(N_EDGES, len(ch)):
        for o in range(3):
            if o != ch[k]:
                expected.add(ch[:k] + (o,) + ch[k + 1:])
    for e in range(N_EDGES):
        expected.add(ch[:e] + (1 - ch[e],) + ch[e + 1:])
    valid = {SP.unique_key(Architecture("nb101", c)) for c in expected
             if SP.is_valid(Architecture("nb101", c))} - {SP.unique_key(a)}
    assert set(keys) == valid and len(valid) > 20


def test_notation_round_trip_and_errors() -> None:
    a = SP.sample(np.random.default_rng(3))
    assert SP.parse(SP.format(a)) == a and str(a) == SP.format(a)
    assert SP.parse(SP.format(a).replace(";", " ; ").replace(",", ", ")) == a
    ex = "0110000|0001000|0001000|0000101|0000010|0000001|0000000;input,conv3x3,conv1x1,maxpool,conv3x3-bn-relu,conv3x3-bn-relu,output"
    b = SP.parse(ex)
    assert SP.spec(b)[1] == ["input", C3, C1, MP, C3, C3, "output"]
    cases = {
        "0110000|0001000": "must be '<adjacency rows",
        "0110000;input,output": "1 adjacency rows",
        "011|002|000;input,conv3x3,output": "row 1 '002': entry 2 is '2'",
        "011|101|000;input,conv3x3,output": "row 1 '101': entry 0 is 1, but edges go",
        "011|00|000;input,conv3x3,output": "row 1 '00' has 2 entries",
        "011|001|000;input,output": "2 ops",
        "011|001|000;inp,conv3x3,output": "first op must be 'input', got 'inp'",
        "011|001|000;input,conv3x3,out": "last op must be 'output', got 'out'",
        "011|001|000;input,conv5x5,output": "unknown operation 'conv5x5'.*conv3x3",
        "010|000|000;input,conv3x3,output": "no path connects",
    }
    for text, msg in cases.items():
        with pytest.raises(InvalidArchitectureError, match=msg):
            SP.parse(text)
    with pytest.raises(InvalidArchitectureError, match="26|edge bits"):
        SP.validate(Architecture("nb101", (0, 1)))
    with pytest.raises(InvalidArchitectureError, match="edge bits"):
        SP.validate(Architecture("nb101", (2,) * 21 + (0,) * 5))
    assert Architecture.from_json(a.to_json()) == a


def test_encodings() -> None:
    rng = np.random.default_rng(5)
    archs = [SP.sample(rng) for _ in range(30)]
    onehot = encode(SP, archs, "onehot")
    assert onehot.shape == (30, 21 * 2 + 5 * 3) and (onehot.sum(1) == 26).all()
    adj = encode(SP, archs, "adjacency")
    assert adj.shape == (30, 7 * 7 + 7 * 5)
    path = encode(SP, archs, "path")
    assert path.shape == (30, 1 + 3 + 9 + 27 + 81 + 243)  # 364, as BANANAS on NB101
    # path counts: invariant under relabelling, and the count of input->output paths
    for a in archs:
        b = relabelled(a, rng)
        assert (encode(SP, [b], "path") == encode(SP, [a], "path")).all()
        m, _ = SP.pruned_spec(a)
        mm = np.array(m)
        n_paths = sum(np.linalg.matrix_power(mm, k)[0, -1] for k in range(1, len(m)))
        assert encode(SP, [a], "path").sum() == n_paths
    # the reduced graph keeps exactly the pruned cell's nodes
    _, _, mask = graph_batch(SP, archs, "reduced")
    assert [int(m.sum()) for m in mask] == [len(SP.pruned_spec(a)[1]) for a in archs]
    assert len(EDGES) == 21
