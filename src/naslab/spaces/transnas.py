"""TransNAS-Bench-101 micro (cell) space (Duan et al., CVPR 2021).

A cell is NB201's 4-node DAG: each of the 6 edges ``j -> i`` (j < i) carries one of 4 ops, in
TransNAS-Bench-101's own op codes: ``0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3``
(the digits of its arch strings; NASLib's search-space object numbers them differently, see
docs/data.md). ``Architecture.choices`` holds the 6 op codes in the edge order of the official
string ``64-41414-a_bc_def``: ``(1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)`` - NB201's order. The macro
skeleton ``64-41414`` (64 channels; five modules of two cells, ``4`` = halve the resolution and
double the width, ``1`` = keep both) is fixed in the micro space. 4^6 = 4,096 cells.

``index`` = the cell string's digits read as a base-4 number (``0_00_000`` is 0, ``3_33_333``
4,095): the benchmark files' own ``idx`` is a sampling order, not a property of the arch.

Isomorphism (``canonical``): an edge whose output can never reach the cell output (its target
node reaches the output only through ``none`` edges) does not matter, and nodes 1 and 2 can be
swapped when no edge joins them. Unlike NB201's key, a ``skip_connect`` is *not* contracted:
in the reduction cells (the first cell of modules ``4``) a skip on an edge from the cell input is
a factorized reduction with weights, so cells that NB201 would call equal differ here.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from naslab.errors import InvalidArchitectureError
from naslab.registry import register
from naslab.spaces.base import Architecture, Decision, GraphSpec, SearchSpace

#: TransNAS-Bench-101's op codes 0..3
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
#: (target node, source node) of each edge, in the order of the official cell string
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_EDGES = len(EDGES)
N_OPS = len(OPS)
N_ARCHS = N_OPS**N_EDGES  # 4,096
#: the fixed macro skeleton of the micro space
MACRO = "64-41414"

DECISIONS: tuple[Decision, ...] = tuple(Decision(f"{dst}<-{src}", OPS) for dst, src in EDGES)
GRAPH = GraphSpec(n_nodes=4, edges=tuple((src, dst) for dst, src in EDGES),
                  edge_decisions=tuple(range(N_EDGES)), ops=OPS, zero_ops=("none",),
                  identity_ops=("skip_connect",))
_POW = tuple(N_OPS ** (N_EDGES - 1 - e) for e in range(N_EDGES))  # first edge most significant
#: the node-1/node-2 swap as an edge permutation (valid when edge 2<-1 is none)
_SWAP = (1, 0, 2, 3, 5, 4)


def _dead_reset(ch: tuple[int, ...]) -> tuple[int, ...]:
    """Set to ``none`` every edge whose target node cannot reach the cell output."""
    live = [False, False, False, True]
    for e in sorted(range(N_EDGES), key=lambda k: -EDGES[k][1]):
        dst, src = EDGES[e]
        if live[dst] and ch[e] != 0:
            live[src] = True
    return tuple(c if live[EDGES[e][0]] else 0 for e, c in enumerate(ch))


@register("space", "tnb101", aliases=("transnas101", "transnas-bench-101", "tnb101_micro"))
class TransNASMicroSpace(SearchSpace):
    """The 4,096-cell TransNAS-Bench-101 micro space."""

    name = "tnb101"
    decisions = DECISIONS
    graph_spec = GRAPH
    has_canonical = True
    ops = OPS
    edges = EDGES

    def __init__(self) -> None:
        self._by_index = [self._decode(i) for i in range(N_ARCHS)]
        self._canon: list[int] | None = None

    def _decode(self, index: int) -> Architecture:
        return Architecture(self.name, tuple((index // p) % N_OPS for p in _POW))

    # finite protocol -----------------------------------------------------------------------
    def __len__(self) -> int:
        return N_ARCHS

    def enumerate(self) -> Iterator[Architecture]:
        return iter(self._by_index)

    def index(self, arch: Architecture) -> int:
        ch = self.validate(arch).choices
        return sum(c * p for c, p in zip(ch, _POW))

    def from_index(self, index: int) -> Architecture:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
                or not 0 <= int(index) < N_ARCHS:
            raise InvalidArchitectureError(
                f"TransNAS-Bench-101 micro index must be an integer in 0..{N_ARCHS - 1}, got {index!r}")
        return self._by_index[int(index)]

    def validate(self, arch: Architecture) -> Architecture:
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"expected an Architecture, got {type(arch).__name__}")
        if arch.space != self.name:
            raise InvalidArchitectureError(
                f"architecture belongs to space {arch.space!r}, expected {self.name!r}")
        ch = arch.choices
        if (not isinstance(ch, tuple) or len(ch) != N_EDGES
                or not all(type(c) is int and 0 <= c < N_OPS for c in ch)):
            raise InvalidArchitectureError(
                f"TransNAS-Bench-101 micro choices must be {N_EDGES} op codes in 0..{N_OPS - 1}, "
                f"got {ch!r}")
        return arch

    # moves ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        return Architecture(self.name, tuple(int(x) for x in rng.integers(0, N_OPS, N_EDGES)))

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change the op of one uniformly chosen edge to a uniformly chosen other op."""
        edge = int(rng.integers(N_EDGES))
        ch = list(self.validate(arch).choices)
        ch[edge] = (ch[edge] + 1 + int(rng.integers(N_OPS - 1))) % N_OPS
        return Architecture(self.name, tuple(ch))

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """The 18 cells that differ in one edge (edge-major, op ascending)."""
        ch = self.validate(arch).choices
        for e in range(N_EDGES):
            for op in range(N_OPS):
                if op != ch[e]:
                    yield Architecture(self.name, ch[:e] + (op,) + ch[e + 1:])

    # isomorphism -----------------------------------------------------------------------------
    def class_key(self, arch: Architecture) -> tuple[int, ...]:
        """Equal exactly for isomorphic cells (dead edges reset, then the smaller of the cell
        and its node-1/2 swap when edge 2<-1 is none)."""
        ch = _dead_reset(self.validate(arch).choices)
        if ch[2] == 0:
            sw = tuple(ch[k] for k in _SWAP)
            return min(ch, sw)
        return ch

    def canonical(self, arch: Architecture) -> Architecture:
        """The member of ``arch``'s class with the smallest index."""
        if self._canon is None:
            first: dict[tuple[int, ...], int] = {}
            self._canon = [first.setdefault(self.class_key(a), i)
                           for i, a in enumerate(self._by_index)]
        return self._by_index[self._canon[self.index(arch)]]

    def class_ids(self) -> np.ndarray:
        """For each index, the index of its class representative."""
        self.canonical(self._by_index[0])
        assert self._canon is not None
        return np.asarray(self._canon, dtype=np.int64)

    # notation --------------------------------------------------------------------------------
    def format(self, arch: Architecture) -> str:
        """The official arch string, e.g. ``64-41414-3_33_333``."""
        return f"{MACRO}-{self.cell_code(arch)}"

    def cell_code(self, arch: Architecture) -> str:
        """The cell part ``a_bc_def`` of the official string."""
        c = [str(v) for v in self.validate(arch).choices]
        return f"{c[0]}_{c[1]}{c[2]}_{c[3]}{c[4]}{c[5]}"

    def parse(self, text: str) -> Architecture:
        """Parse ``64-41414-a_bc_def`` (or the bare cell code ``a_bc_def``), digits = op codes
        0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"a TransNAS-Bench-101 arch must be a string, got {type(text).__name__}")
        s = text.strip()
        example = f"{MACRO}-1_02_333"
        if not s:
            raise InvalidArchitectureError(f"empty TransNAS-Bench-101 arch {text!r}; example: {example}")
        parts = s.split("-")
        if len(parts) == 3:
            head = "-".join(parts[:2])
            if head != MACRO:
                raise InvalidArchitectureError(
                    f"TransNAS-Bench-101 micro arch {text!r} must have the macro skeleton "
                    f"{MACRO!r}, got {head!r} (macro-space archs are not part of this space)")
            cell = parts[2]
        elif len(parts) == 1:
            cell = parts[0]
        else:
            raise InvalidArchitectureError(
                f"TransNAS-Bench-101 micro arch {text!r} must read {MACRO}-a_bc_def or a_bc_def; "
                f"example: {example}")
        nodes = cell.split("_")
        if len(nodes) != 3 or [len(n) for n in nodes] != [1, 2, 3]:
            raise InvalidArchitectureError(
                f"TransNAS-Bench-101 micro arch {text!r}: cell code {cell!r} must be three nodes "
                f"a_bc_def with 1, 2 and 3 op digits; example: {example}")
        out = []
        for node, digits in enumerate(nodes, start=1):
            for src, d in enumerate(digits):
                if d not in "0123":
                    raise InvalidArchitectureError(
                        f"TransNAS-Bench-101 micro arch {text!r}: op code {d!r} of node {node} "
                        f"(edge {node}<-{src}) must be a digit 0..3 ("
                        + ", ".join(f"{k} {o}" for k, o in enumerate(OPS)) + ")")
                out.append(int(d))
        return Architecture(self.name, tuple(out))

    def __repr__(self) -> str:
        return "TransNASMicroSpace()"
