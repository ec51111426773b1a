"""Two tiny spaces for tests of the declared structure (not registered: use ``registered``).

``ToyGrid``: three decisions of different sizes (2 x 3 x 2 = 12 archs), no graph, no canonical
form. ``ToyCell``: a 3-node cell whose 3 edges each carry one of (zero, id, conv) (27 archs),
with a real canonical form (the smallest index of the archs that compute the same expression).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from naslab import registry
from naslab.errors import InvalidArchitectureError
from naslab.spaces.base import Architecture, Decision, GraphSpec, SearchSpace


class ToyGrid(SearchSpace):
    """Archs written ``width=8,depth=1,act=relu``."""

    name = "toy_grid"
    decisions = (Decision("width", ("8", "16")), Decision("depth", ("1", "2", "3")),
                 Decision("act", ("relu", "gelu")))

    def _sizes(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.decisions)

    def __len__(self) -> int:
        return int(np.prod(self._sizes()))

    def enumerate(self) -> Iterator[Architecture]:
        for i in range(len(self)):
            yield self.from_index(i)

    def index(self, arch: Architecture) -> int:
        self.validate(arch)
        return int(np.ravel_multi_index(arch.choices, self._sizes()))

    def from_index(self, index: int) -> Architecture:
        if not 0 <= int(index) < len(self):
            raise InvalidArchitectureError(f"toy index must be in 0..{len(self) - 1}, got {index}")
        return Architecture(self.name, tuple(int(i) for i in np.unravel_index(int(index), self._sizes())))

    def validate(self, arch: Architecture) -> Architecture:
        if not isinstance(arch, Architecture) or arch.space != self.name:
            raise InvalidArchitectureError(f"not an arch of {self.name!r}: {arch!r}")
        ch = arch.choices
        if len(ch) != len(self.decisions) or not all(
                isinstance(c, int) and 0 <= c < d.size for c, d in zip(ch, self.decisions)):
            raise InvalidArchitectureError(f"{self.name} choices out of range: {ch!r}")
        return arch

    def sample(self, rng: np.random.Generator) -> Architecture:
        return Architecture(self.name, tuple(int(rng.integers(d.size)) for d in self.decisions))

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        k = int(rng.integers(len(self.decisions)))
        ch = list(arch.choices)
        size = self.decisions[k].size
        ch[k] = (ch[k] + 1 + int(rng.integers(size - 1))) % size
        return Architecture(self.name, tuple(ch))

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        for k, d in enumerate(self.decisions):
            for o in range(d.size):
                if o != arch.choices[k]:
                    yield Architecture(self.name, arch.choices[:k] + (o,) + arch.choices[k + 1:])

    def format(self, arch: Architecture) -> str:
        return ",".join(f"{d.name}={d.options[c]}" for d, c in zip(self.decisions, arch.choices))

    def parse(self, text: str) -> Architecture:
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"{self.name} arch must be a string, got {text!r}")
        parts = text.split(",")
        if len(parts) != len(self.decisions):
            raise InvalidArchitectureError(
                f"{self.name} arch {text!r} must have {len(self.decisions)} comma-separated parts")
        out = []
        for d, part in zip(self.decisions, parts):
            key, _, val = part.partition("=")
            if key != d.name or val not in d.options:
                raise InvalidArchitectureError(f"{self.name} arch {text!r}: bad part {part!r}")
            out.append(d.options.index(val))
        return Architecture(self.name, tuple(out))


CELL_OPS = ("zero", "id", "conv")
CELL_EDGES = ((0, 1), (0, 2), (1, 2))


class ToyCell(ToyGrid):
    """A 3-node cell: edges 0->1, 0->2, 1->2, each zero / id / conv."""

    name = "toy_cell"
    decisions = tuple(Decision(f"{dst}<-{src}", CELL_OPS) for src, dst in CELL_EDGES)
    graph_spec = GraphSpec(n_nodes=3, edges=CELL_EDGES, edge_decisions=(0, 1, 2), ops=CELL_OPS,
                           zero_ops=("zero",), identity_ops=("id",))
    has_canonical = True

    @staticmethod
    def expression(choices: tuple[int, ...]) -> str:
        """What the cell computes: zero terms vanish, id passes its input, conv wraps it."""

        def term(c: int, src: str) -> str | None:
            op = CELL_OPS[c]
            if op == "zero" or src == "0":
                return None
            return src if op == "id" else f"conv({src})"

        def node(*terms: str | None) -> str:
            return "+".join(sorted(t for t in terms if t is not None)) or "0"

        n1 = node(term(choices[0], "x"))
        return node(term(choices[1], "x"), term(choices[2], n1))

    def canonical(self, arch: Architecture) -> Architecture:
        key = self.expression(self.validate(arch).choices)
        for a in self.enumerate():
            if self.expression(a.choices) == key:
                return a
        raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def registered(*spaces: type[SearchSpace]) -> Iterator[None]:
    """Register the toy spaces for the duration of a test (``Architecture.__str__`` and JSON
    look spaces up by name)."""
    registry.names("space")  # discover the real ones first
    entries = registry._entries["space"]
    saved = dict(entries)
    try:
        for cls in spaces:
            entries[cls.name] = cls
        yield
    finally:
        entries.clear()
        entries.update(saved)
