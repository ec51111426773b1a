"""Encodings: sizes, hand-computed path encodings, isomorphism invariance over all of NB201."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from naslab.errors import ConfigError
from naslab.predictors.encodings import encode, encoding_size, graph_batch, graph_spec
from naslab.spaces.base import Architecture, get_space
from naslab.spaces.nb201 import OPS

SP = get_space("nb201")
C1, C3, POOL, SKIP, NONE = (OPS.index(o) for o in
                            ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "none"))


def arch(*ops: int) -> Architecture:
    return Architecture("nb201", tuple(ops))


def path_index(*ops: str) -> int:
    spec = graph_spec(SP)
    return spec.paths[tuple(spec.compute_ops.index(o) for o in ops)]


def test_sizes() -> None:
    a = arch(C3, C3, C3, C3, C3, C3)
    assert encode(SP, [a], "onehot").shape == (1, 30)
    assert encode(SP, [a], "adjacency").shape == (1, 8 * 8 + 8 * 7)
    # paths of 0..3 ops over (conv1x1, conv3x3, avg_pool): 1 + 3 + 9 + 27
    assert encode(SP, [a], "path").shape == (1, 40)
    assert encode(SP, [a], "path+onehot").shape == (1, 70)
    assert encoding_size(SP, "path+onehot") == 70
    oh = encode(SP, [SP.from_index(i) for i in range(50)], "onehot")
    assert (oh.sum(axis=1) == 6).all() and set(np.unique(oh)) == {0.0, 1.0}


def test_path_encoding_by_hand() -> None:
    # all conv3x3: paths 0-3, 0-1-3, 0-2-3, 0-1-2-3
    v = encode(SP, [arch(C3, C3, C3, C3, C3, C3)], "path")[0]
    expect = np.zeros(40)
    expect[path_index("nor_conv_3x3")] = 1
    expect[path_index("nor_conv_3x3", "nor_conv_3x3")] = 2
    expect[path_index("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3")] = 1
    np.testing.assert_array_equal(v, expect)
    # every edge none: no path at all
    assert encode(SP, [arch(NONE, NONE, NONE, NONE, NONE, NONE)], "path").sum() == 0
    # all skips: four op-free paths
    v = encode(SP, [arch(SKIP, SKIP, SKIP, SKIP, SKIP, SKIP)], "path")[0]
    assert v[path_index()] == 4 and v.sum() == 4
    # 1<-0 conv1x1, 3<-1 pool, everything else none: one path conv1x1 -> pool
    v = encode(SP, [arch(C1, NONE, NONE, NONE, POOL, NONE)], "path")[0]
    assert v[path_index("nor_conv_1x1", "avg_pool_3x3")] == 1 and v.sum() == 1
    # a conv on an edge whose output never reaches node 3 adds nothing
    v2 = encode(SP, [arch(C1, C3, NONE, NONE, POOL, NONE)], "path")[0]
    np.testing.assert_array_equal(v, v2)
    assert encode(SP, [arch(C1, C3, NONE, NONE, POOL, NONE)], "path_binary").max() == 1


def test_path_encoding_is_isomorphism_invariant_on_all_nb201() -> None:
    archs = list(SP.enumerate())
    enc = encode(SP, archs, "path")
    cid = SP.class_ids()
    rep = {}
    for i, c in enumerate(cid):
        key = enc[i].tobytes()
        assert rep.setdefault(c, key) == key, f"arch {i} differs from its class representative {c}"
    # and it is informative: thousands of distinct encodings (NB201 has 6,466 classes)
    assert len({e.tobytes() for e in enc}) > 4000


def test_skip_equivalent_archs_share_path_encoding() -> None:
    # skip 0->1 then conv 1->3  ==  conv 0->3 (same NB201 unique string)
    a = arch(SKIP, NONE, NONE, NONE, C3, NONE)
    b = arch(NONE, NONE, NONE, C3, NONE, NONE)
    assert SP.unique_key(a) == SP.unique_key(b)
    np.testing.assert_array_equal(encode(SP, [a], "path"), encode(SP, [b], "path"))
    # while the one-hot tells them apart
    assert not np.array_equal(encode(SP, [a], "onehot"), encode(SP, [b], "onehot"))


def test_reduced_graph() -> None:
    # 1<-0 skip, 3<-1 conv3x3, rest none: input -> conv3x3 -> output after contraction
    adj, x, mask = graph_batch(SP, [arch(SKIP, NONE, NONE, NONE, C3, NONE)], "reduced")
    assert mask[0].tolist() == [1, 0, 0, 0, 0, 1, 0, 1]  # input, the conv (edge 4), output
    assert adj[0, 0, 5] == 1 and adj[0, 5, 7] == 1 and adj[0].sum() == 2
    assert x.shape == (1, 8, 5) and x[0, 5].tolist() == [0, 0, 0, 1, 0]  # in, out, c1, c3, pool
    # all skips: the four input->output routes merge into one edge of multiplicity 4
    adj, x, mask = graph_batch(SP, [arch(SKIP, SKIP, SKIP, SKIP, SKIP, SKIP)], "reduced")
    assert adj[0, 0, 7] == 4 and adj[0].sum() == 4 and mask[0].sum() == 2
    raw_adj, raw_x, raw_mask = graph_batch(SP, [arch(C3, C3, C3, C3, C3, C3)], "raw")
    np.testing.assert_array_equal(raw_adj[0], SP.graph(arch(C3, C3, C3, C3, C3, C3))[0])
    assert raw_mask.sum() == 8 and raw_x.shape == (1, 8, 7)


def test_bad_kinds() -> None:
    a = [arch(C3, C3, C3, C3, C3, C3)]
    with pytest.raises(ConfigError, match="did you mean 'path'"):
        encode(SP, a, "pth")
    with pytest.raises(ConfigError, match="zc_proxies"):
        encode(SP, a, "path+zc")
    with pytest.raises(ConfigError, match="graph kind"):
        graph_batch(SP, a, "pruned")
    with pytest.raises(ConfigError, match="twice"):
        encode(SP, a, "path+path")


def test_no_torch_on_import() -> None:
    code = ("import sys; from naslab import registry; registry.names('predictor'); "
            "import naslab.predictors.evaluate; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
