"""NAS-Bench-201 cell space (Dong & Yang, ICLR 2020).

A cell is a DAG on 4 nodes; each of the 6 edges ``j -> i`` (j < i) carries one of 5 operations.
``Architecture.choices`` holds the op index of each edge in official edge order
``(1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)``; ops are indexed as in NB201:
``none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3``.

The official index of an architecture (row order of every NB201 / NATS-Bench file) comes from
``nb201_order.npy``: the NATS-Bench ``meta_archs`` list (MIT licence) stored as base-5 codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import numpy as np

from naslab.errors import InvalidArchitectureError, did_you_mean
from naslab.registry import register
from naslab.spaces.base import Architecture, Decision, GraphSpec, SearchSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (target node, source node) of each edge, in official order
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
N_EDGES = len(EDGES)
N_OPS = len(OPS)
N_ARCHS = N_OPS**N_EDGES  # 15,625
_POW = tuple(N_OPS**k for k in range(N_EDGES))

#: one decision per edge, named ``dst<-src``, over the five ops (in official edge order)
DECISIONS: tuple[Decision, ...] = tuple(Decision(f"{dst}<-{src}", OPS) for dst, src in EDGES)
#: the cell: 4 nodes, edge e = EDGES[e] carries decision e
GRAPH = GraphSpec(n_nodes=4, edges=tuple((src, dst) for dst, src in EDGES),
                  edge_decisions=tuple(range(N_EDGES)), ops=OPS, zero_ops=("none",),
                  identity_ops=("skip_connect",))


def _code(choices: tuple[int, ...]) -> int:
    return sum(c * p for c, p in zip(choices, _POW))


#: ``op~j`` of each edge (edge k = (i, j): node i's input from node j, i = 1..3) and op
_TOKENS = tuple(tuple(f"{op}~{j}" for op in OPS) for i in range(1, 4) for j in range(i))


def _decode(code: int) -> tuple[int, ...]:
    out = []
    for _ in range(N_EDGES):
        code, r = divmod(code, N_OPS)
        out.append(r)
    return tuple(out)


def unique_string(choices: tuple[int, ...]) -> str:
    """NB201's isomorphism key, ``CellStructure.to_unique_str(consider_zero=True)``.

    ``none`` (or an input that is itself zero) contributes ``#``, ``skip_connect`` passes its
    input's expression through, every other op wraps it as ``(expr)@op``; a node is the sorted
    ``+``-join of its incoming terms. Reproducing the published key exactly gives the published
    6,466 classes (an all-zero sum such as ``#+#`` is not collapsed to ``#``, as in NB201).
    """
    nodes = ["0"]
    k = 0
    for i in range(1, 4):
        terms = []
        for j in range(i):
            op = choices[k]
            k += 1
            src = nodes[j]
            if op == 0 or src == "#":
                terms.append("#")
            elif op == 1:
                terms.append(src)
            else:
                terms.append("(" + src + ")@" + OPS[op])
        nodes.append("+".join(sorted(terms)))
    return nodes[3]


@register("space", "nb201", aliases=("nasbench201", "nas-bench-201"))
class NB201Space(SearchSpace):
    """The 15,625-architecture NAS-Bench-201 cell space."""

    name = "nb201"
    decisions = DECISIONS
    graph_spec = GRAPH
    has_canonical = True
    ops = OPS
    edges = EDGES
    #: number of options of each decision (kept for compatibility; use ``decisions``)
    choice_sizes: tuple[int, ...] = (N_OPS,) * N_EDGES

    def __init__(self) -> None:
        raw = np.load(str(resources.files("naslab.spaces") / "nb201_order.npy"))
        self._index_to_code = raw.astype(np.int64)
        code_to_index = np.empty(N_ARCHS, dtype=np.int64)
        code_to_index[self._index_to_code] = np.arange(N_ARCHS)
        self._code_to_index = code_to_index
        # the choices of every index at once (digit k of the base-N_OPS code is edge k's op)
        digits = (self._index_to_code[:, None] // np.array(_POW, dtype=np.int64)) % N_OPS
        rows = list(map(tuple, digits.tolist()))
        self._choices_to_index = {c: i for i, c in enumerate(rows)}
        self._by_index = [Architecture("nb201", c) for c in rows]
        self._canon: np.ndarray | None = None
        self._keys: list[str] | None = None

    # basic protocol ----------------------------------------------------------------------
    def __len__(self) -> int:
        return N_ARCHS

    def enumerate(self) -> Iterator[Architecture]:
        """All architectures in official index order."""
        return iter(self._by_index)

    def index(self, arch: Architecture) -> int:
        """Official NB201 / NATS-Bench topology index (0..15624)."""
        try:
            return self._choices_to_index[arch.choices]
        except (KeyError, TypeError):
            self.validate(arch)
            raise  # pragma: no cover - validate raises first

    def arch_key(self, arch: Architecture) -> int:
        """The official index (seeds per-arch randomness, e.g. proxy initialisations)."""
        return self.index(arch)

    def from_index(self, index: int) -> Architecture:
        if not (0 <= int(index) < N_ARCHS) or isinstance(index, bool):
            raise InvalidArchitectureError(
                f"NB201 index must be an integer in 0..{N_ARCHS - 1}, got {index!r}"
            )
        return self._by_index[int(index)]

    def validate(self, arch: Architecture) -> Architecture:
        # the runner validates every proposal: the common case in one test
        if type(arch) is Architecture and arch.space == self.name and \
                arch.choices in self._choices_to_index:
            return arch
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"expected an Architecture, got {type(arch).__name__}")
        if arch.space != self.name:
            raise InvalidArchitectureError(
                f"architecture belongs to space {arch.space!r}, expected {self.name!r}"
            )
        ch = arch.choices
        if arch.choices not in self._choices_to_index:
            raise InvalidArchitectureError(
                f"NB201 choices must be {N_EDGES} op indices in 0..{N_OPS - 1}, got {ch!r}"
            )
        return arch

    def sample(self, rng: np.random.Generator) -> Architecture:
        return Architecture(self.name, tuple(rng.integers(0, N_OPS, N_EDGES).tolist()))

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change the op of one uniformly chosen edge to a uniformly chosen different op."""
        edge = int(rng.integers(N_EDGES))
        ch = list(arch.choices)
        ch[edge] = (ch[edge] + 1 + int(rng.integers(N_OPS - 1))) % N_OPS
        return Architecture(self.name, tuple(ch))

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """The 24 architectures that differ in exactly one edge (edge-major, op ascending)."""
        ch = arch.choices
        for e in range(N_EDGES):
            for op in range(N_OPS):
                if op != ch[e]:
                    yield Architecture(self.name, ch[:e] + (op,) + ch[e + 1:])

    # isomorphism -------------------------------------------------------------------------
    def unique_key(self, arch: Architecture) -> str:
        """NB201's isomorphism key (identical for archs in one class)."""
        return unique_string(arch.choices)

    def _build_classes(self) -> None:
        keys = [unique_string(a.choices) for a in self._by_index]
        first: dict[str, int] = {}
        canon = np.empty(N_ARCHS, dtype=np.int64)
        for i, k in enumerate(keys):
            canon[i] = first.setdefault(k, i)
        self._canon, self._keys = canon, keys

    def canonical(self, arch: Architecture) -> Architecture:
        """The class member with the smallest official index."""
        if self._canon is None:
            self._build_classes()
        assert self._canon is not None
        return self._by_index[int(self._canon[self.index(arch)])]

    def class_ids(self) -> np.ndarray:
        """For each official index, the official index of its class representative."""
        if self._canon is None:
            self._build_classes()
        assert self._canon is not None
        return self._canon.copy()

    # notation ----------------------------------------------------------------------------
    def format(self, arch: Architecture) -> str:
        t = [_TOKENS[e][c] for e, c in enumerate(arch.choices)]
        return f"|{t[0]}|+|{t[1]}|{t[2]}|+|{t[3]}|{t[4]}|{t[5]}|"

    def parse(self, text: str) -> Architecture:
        """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"NB201 arch must be a string, got {type(text).__name__}")
        s = text.strip()
        example = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
        nodes = s.split("+")
        if len(nodes) != 3:
            raise InvalidArchitectureError(
                f"NB201 arch {text!r} must have 3 nodes separated by '+', found {len(nodes)}; "
                f"example: {example}"
            )
        choices: list[int] = []
        for i, node in enumerate(nodes, start=1):
            if not (node.startswith("|") and node.endswith("|") and len(node) > 1):
                raise InvalidArchitectureError(
                    f"NB201 arch {text!r}: node {i} {node!r} must be written as |op~input|...|"
                )
            toks = node[1:-1].split("|")
            if len(toks) != i:
                raise InvalidArchitectureError(
                    f"NB201 arch {text!r}: node {i} must have {i} incoming edge(s), found {len(toks)} in {node!r}"
                )
            for j, tok in enumerate(toks):
                op, sep, src = tok.partition("~")
                if not sep:
                    raise InvalidArchitectureError(
                        f"NB201 arch {text!r}: edge token {tok!r} in node {i} must be 'op~{j}'"
                    )
                if op not in OPS:
                    raise InvalidArchitectureError(
                        f"NB201 arch {text!r}: unknown operation {op!r} in token {tok!r}"
                        f"{did_you_mean(op, OPS)}; operations are {', '.join(OPS)}"
                    )
                if src != str(j):
                    raise InvalidArchitectureError(
                        f"NB201 arch {text!r}: token {tok!r} in node {i} must read from node {j}, "
                        f"got input {src!r}"
                    )
                choices.append(OPS.index(op))
        return Architecture(self.name, tuple(choices))

    # encodings ---------------------------------------------------------------------------
    # onehot (30 floats: 6 edges x 5 ops), index (the 6 op indices) and adjacency (the
    # op-on-node graph of graph(): 8x8 adjacency + 8x7 node one-hot, flattened) are the base
    # class's, derived from ``decisions`` and ``graph_spec``.

    #: adjacency of the op-on-node graph: node 0 input, nodes 1..6 the edges, node 7 output
    GRAPH_ADJ: np.ndarray = GRAPH.op_node_adjacency()
