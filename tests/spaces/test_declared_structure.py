"""Declared structure of spaces: Decision, GraphSpec, base encodings, decision indices, the
identity canonical default, and the conformance suite on toy spaces (tests/toy_spaces.py)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from naslab import registry
from naslab.errors import ConfigError, InvalidArchitectureError
from naslab.spaces import DEFAULT_SPACE, Architecture, Decision, GraphSpec, SearchSpace, get_space
from naslab.testing import check_space
from toy_spaces import ToyCell, ToyGrid, registered


@pytest.fixture
def toys() -> Iterator[tuple[SearchSpace, SearchSpace]]:
    with registered(ToyGrid, ToyCell):
        yield get_space("toy_grid"), get_space("toy_cell")


def test_decision_and_graph_spec_validate_their_fields() -> None:
    d = Decision("kernel", ("3", "5", "7"))
    assert d.size == 3
    with pytest.raises(ConfigError, match="non-empty tuple"):
        Decision("kernel", ())
    with pytest.raises(ConfigError, match="'3' repeated"):
        Decision("kernel", ("3", "3"))
    with pytest.raises(ConfigError, match="name"):
        Decision("", ("a",))
    g = GraphSpec(3, ((0, 1), (1, 2)), (0, 1), ("a", "b"), zero_ops=("a",))
    assert g.compute_ops == ("b",) and g.n_graph_nodes == 4 and g.longest_path() == 2
    with pytest.raises(ConfigError, match="0 <= src < dst < 3"):
        GraphSpec(3, ((1, 0), (1, 2)), (0, 1), ("a", "b"))
    with pytest.raises(ConfigError, match="one decision index per edge"):
        GraphSpec(3, ((0, 1), (1, 2)), (0,), ("a", "b"))
    with pytest.raises(ConfigError, match="zero_ops"):
        GraphSpec(3, ((0, 1), (1, 2)), (0, 1), ("a", "b"), zero_ops=("none",))


def test_nb201_declares_six_edge_decisions_and_its_cell() -> None:
    sp = get_space(DEFAULT_SPACE)
    assert [d.name for d in sp.decisions] == ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]
    assert all(d.options == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                             "avg_pool_3x3") for d in sp.decisions)
    g = sp.graph_spec
    assert g is not None and g.n_nodes == 4 and g.edges[2] == (1, 2)
    assert g.zero_ops == ("none",) and g.identity_ops == ("skip_connect",)
    assert g.compute_ops == ("nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert sp.has_canonical
    assert sp.graph_labels() == ("input", "output", *g.ops)
    a = sp.from_index(4321)
    assert sp.decision_indices(a) == a.choices and sp.from_decision_indices(a.choices) == a


def test_base_encodings_follow_the_decisions(toys) -> None:  # type: ignore[no-untyped-def]
    grid, _ = toys
    assert grid.encodings() == ["onehot", "index"]
    a = grid.parse("width=16,depth=3,act=relu")
    assert a.choices == (1, 2, 0)
    oh = grid.encode(a)
    assert oh.dtype == np.float32 and oh.tolist() == [0, 1, 0, 0, 1, 1, 0]
    idx = grid.encode(a, "index")
    assert idx.dtype == np.int64 and idx.tolist() == [1, 2, 0]
    with pytest.raises(InvalidArchitectureError, match="did you mean 'index'"):
        grid.encode(a, "indx")
    with pytest.raises(InvalidArchitectureError, match="must be one of"):
        grid.encode(a, "adjacency")  # no graph declared
    with pytest.raises(ConfigError, match="declares no cell graph"):
        grid.graph(a)
    with pytest.raises(ConfigError, match="declares no cell graph"):
        grid.graph_labels()


def test_identity_canonical_is_the_default(toys) -> None:  # type: ignore[no-untyped-def]
    grid, cell = toys
    assert not grid.has_canonical
    for a in grid.enumerate():
        assert grid.canonical(a) is a
    # the cell has a real one: all-zero and "only dead edges" compute the same
    zero = cell.parse("1<-0=zero,2<-0=zero,2<-1=zero")
    dead = cell.parse("1<-0=conv,2<-0=zero,2<-1=zero")
    assert cell.canonical(zero) == cell.canonical(dead)
    assert cell.canonical(cell.parse("1<-0=id,2<-0=zero,2<-1=conv")) == \
        cell.canonical(cell.parse("1<-0=zero,2<-0=conv,2<-1=zero"))


def test_decision_indices_round_trip_and_errors(toys) -> None:  # type: ignore[no-untyped-def]
    grid, _ = toys
    for a in grid.enumerate():
        assert grid.from_decision_indices(grid.decision_indices(a)) == a
    assert grid.from_decision_indices(np.array([1, 0, 1])) == Architecture("toy_grid", (1, 0, 1))
    with pytest.raises(InvalidArchitectureError, match="decision 'depth' must be an integer in 0..2, got 3"):
        grid.from_decision_indices([0, 3, 0])
    with pytest.raises(InvalidArchitectureError, match="has 3 decisions, got 2"):
        grid.from_decision_indices([0, 0])
    with pytest.raises(InvalidArchitectureError, match="'width'"):
        grid.from_decision_indices([True, 0, 0])


def test_graph_derived_from_graph_spec(toys) -> None:  # type: ignore[no-untyped-def]
    _, cell = toys
    assert cell.encodings() == ["onehot", "index", "adjacency"]
    a = cell.parse("1<-0=conv,2<-0=zero,2<-1=id")
    adj, feats = cell.graph(a)
    # nodes: 0 input, 1 edge 0->1, 2 edge 0->2, 3 edge 1->2, 4 output
    want = np.zeros((5, 5), dtype=np.float32)
    want[0, 1] = want[0, 2] = want[1, 3] = want[2, 4] = want[3, 4] = 1
    assert adj.dtype == np.float32 and np.array_equal(adj, want)
    assert feats.dtype == np.float32
    assert [cell.graph_labels()[i] for i in feats.argmax(axis=1)] == \
        ["input", "conv", "zero", "id", "output"]
    assert cell.encode(a, "adjacency").tolist() == np.concatenate([adj.ravel(), feats.ravel()]).tolist()


def test_nb201_graph_is_the_declared_one() -> None:
    from naslab.spaces.nb201 import NB201Space

    sp = get_space(DEFAULT_SPACE)
    assert np.array_equal(sp.graph(sp.from_index(0))[0], NB201Space.GRAPH_ADJ)
    # node 1+e = edge e of (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2); node 7 the output
    want = {(0, 1), (0, 2), (0, 4),          # edges leaving the input
            (1, 3), (1, 5),                  # 1<-0 feeds the edges leaving node 1
            (2, 6), (3, 6),                  # 2<-0 and 2<-1 feed 3<-2
            (4, 7), (5, 7), (6, 7)}          # edges into node 3 feed the output
    assert {(int(u), int(v)) for u, v in np.argwhere(NB201Space.GRAPH_ADJ)} == want


def test_graph_encodings_use_declared_zero_and_identity_ops(toys) -> None:  # type: ignore[no-untyped-def]
    from naslab.predictors.encodings import encode

    grid, cell = toys
    # paths of 0..2 compute ops over (conv,): (), (conv,), (conv, conv)
    assert encode(cell, [cell.parse("1<-0=conv,2<-0=conv,2<-1=conv")], "path").tolist() == [[0, 1, 1]]
    # id contracted, zero removed: one path through a single conv
    assert encode(cell, [cell.parse("1<-0=id,2<-0=zero,2<-1=conv")], "path").tolist() == [[0, 1, 0]]
    with pytest.raises(ConfigError, match="declares no cell graph"):
        encode(grid, [grid.sample(np.random.default_rng(0))], "path")
    assert encode(grid, [grid.parse("width=8,depth=2,act=gelu")], "onehot").tolist() == \
        [[1, 0, 0, 1, 0, 0, 1]]


def test_reinforce_policy_has_one_softmax_per_decision(toys) -> None:  # type: ignore[no-untyped-def]
    from naslab.estimators.base import Objective
    from naslab.testing import SyntheticEstimator

    grid, _ = toys
    s = registry.create("strategy", "reinforce")
    s.setup(grid, Objective("val_acc"), seed=0)
    p = s.probs()
    assert p.shape == (3, 3) and p[0, 2] == 0 and p[2, 2] == 0 and np.allclose(p.sum(axis=1), 1)
    est = SyntheticEstimator()
    for a in s.ask(20):
        assert grid.validate(a) == a
        s.tell(a, est.evaluate(a).without_test())

    class NoDecisions(ToyGrid):
        decisions = ()

    with pytest.raises(ConfigError, match="declares none"):
        registry.create("strategy", "reinforce").setup(NoDecisions(), Objective("val_acc"), seed=0)


def test_toy_spaces_pass_the_conformance_suite(toys) -> None:  # type: ignore[no-untyped-def]
    check_space("toy_grid")
    check_space("toy_cell")


def test_the_conformance_suite_catches_broken_spaces() -> None:
    # each broken space gets its own name: get_space caches instances by name
    class NoCanonical(ToyCell):  # claims a canonical form but returns the arch itself
        name = "toy_no_canonical"

        def canonical(self, arch: Architecture) -> Architecture:
            return arch

    class StuckMutation(ToyGrid):
        name = "toy_stuck"

        def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
            return arch

    class VagueErrors(ToyGrid):
        name = "toy_vague"

        def parse(self, text: str) -> Architecture:
            try:
                return super().parse(text)
            except InvalidArchitectureError:
                raise InvalidArchitectureError("cannot parse") from None

    class ChangingShape(ToyGrid):
        name = "toy_shape"

        def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
            return np.zeros(1 + arch.choices[0], dtype=np.float32) if kind == "onehot" \
                else super().encode(arch, kind)

    for cls, msg in ((NoCanonical, "different canonical forms"), (StuckMutation, "returned its input"),
                     (VagueErrors, "does not name 'zz_bogus_option'"),
                     (ChangingShape, "varying shapes")):
        with registered(cls):
            with pytest.raises(AssertionError, match=msg):
                check_space(cls.name)
