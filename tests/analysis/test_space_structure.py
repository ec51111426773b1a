"""The space analysis reads the space's declared decisions / graph_spec / canonical form only:
it runs on toy spaces (tests/toy_spaces.py) and refuses spaces that are not a full grid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from naslab.analysis.fanova import space_grid
from naslab.analysis.isomorphism import class_ids
from naslab.analysis.space import analyze_space, decision_labels, zero_output
from naslab.errors import ConfigError
from naslab.spaces.base import Architecture, SearchSpace, get_space
from toy_spaces import ToyCell, ToyGrid, registered


class Partial(ToyGrid):
    """The toy grid without its last arch: not a full factorial space."""

    name = "toy_partial"

    def __len__(self) -> int:
        return 11

    def enumerate(self) -> Iterator[Architecture]:
        for i in range(11):
            yield self.from_index(i)


class FakeBench:
    """The benchmark interface the analysis reads: name, space_name, has_test, column, runs."""

    has_test = True
    test_unavailable_reason = ""

    def __init__(self, space: SearchSpace) -> None:
        self.space_name = space.name
        self.name = f"{space.name}/fake"
        n = len(space)
        rng = np.random.default_rng(0)
        self._test = 50 + 10 * rng.random(n)
        self._runs = self._test[:, None] + rng.normal(size=(n, 2))

    def column(self, metric: str, **_: Any) -> np.ndarray:
        return self._test.copy() if metric == "test_acc" else self._runs.mean(axis=1)

    def run_table(self, metric: str = "val_acc") -> np.ndarray:
        return self._runs.copy()


@pytest.fixture
def toys() -> Iterator[tuple[SearchSpace, SearchSpace]]:
    with registered(ToyGrid, ToyCell, Partial):
        yield get_space("toy_grid"), get_space("toy_cell")


def test_grid_and_labels_from_the_decisions(toys) -> None:  # type: ignore[no-untyped-def]
    grid, cell = toys
    choices, sizes = space_grid(grid)
    assert sizes == (2, 3, 2) and choices.shape == (12, 3)
    assert [tuple(c) for c in choices] == [a.choices for a in grid.enumerate()]
    assert decision_labels(grid) == ["width", "depth", "act"]
    assert decision_labels(cell) == ["0->1", "0->2", "1->2"]
    with pytest.raises(ConfigError, match="full factorial grid"):
        space_grid(get_space("toy_partial"))


def test_classes_and_zero_output_from_canonical_and_graph_spec(toys) -> None:  # type: ignore[no-untyped-def]
    grid, cell = toys
    assert class_ids(grid).tolist() == list(range(12))
    archs = list(cell.enumerate())
    expr = [ToyCell.expression(a.choices) for a in archs]
    cid = class_ids(cell)
    assert len(set(cid.tolist())) == len(set(expr))
    assert all((cid[i] == cid[j]) == (expr[i] == expr[j]) for i in range(27) for j in range(27))
    choices, _ = space_grid(cell)
    assert zero_output(choices, cell).tolist() == [e == "0" for e in expr]
    with pytest.raises(ConfigError, match="graph_spec"):
        zero_output(space_grid(grid)[0], grid)


def test_analyze_space_runs_on_any_full_grid(toys) -> None:  # type: ignore[no-untyped-def]
    grid, cell = toys
    a = analyze_space(FakeBench(grid), n_max=5, walks=200, walk_steps=6, max_lag=3)
    assert a.edges == ["width", "depth", "act"] and a.ops == []
    assert a.options == [["8", "16"], ["1", "2", "3"], ["relu", "gelu"]]
    j = a.to_json()
    assert list(j["anova"]["marginal_means"]["depth"]) == ["1", "2", "3"]
    assert j["isomorphism"]["n_classes"] == 12 and j["isomorphism"]["zero_output_archs"] is None
    b = analyze_space(FakeBench(cell), n_max=5, walks=200, walk_steps=6, max_lag=3)
    assert b.ops == ["zero", "id", "conv"] and b.edges == ["0->1", "0->2", "1->2"]
    zeros = sum(ToyCell.expression(x.choices) == "0" for x in cell.enumerate())
    assert b.isomorphism["zero_output_archs"] == zeros
    with pytest.raises(ConfigError, match="needs a finite space whose decisions form a full factorial grid"):
        analyze_space(FakeBench(get_space("toy_partial")), n_max=5)
