"""Architecture (plain data), the declared structure of a space (Decision, GraphSpec) and the
SearchSpace interface.

A space declares what it is made of as data: ``decisions`` (the categorical decisions an
architecture is a vector of) and, for cell spaces, ``graph_spec`` (the DAG whose edges carry op
decisions). Everything that needs the structure - one-hot and index encodings, graph encodings,
policy strategies (REINFORCE, ENAS controllers), supernet edges and alpha shapes, the
search-space analysis - derives it from these two attributes, never from a particular space.
"""

from __future__ import annotations

import functools
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from naslab.errors import ConfigError, InvalidArchitectureError, did_you_mean


#: cached layout of SearchSpace.graph: (adjacency, op rows, option->op table or None when the
#: options are the ops in order, decision of each edge or None when edge e is decision e, labels)
_GraphLayout = tuple[np.ndarray, np.ndarray, "np.ndarray | None", "np.ndarray | None", int]


@dataclass(frozen=True, slots=True)
class Decision:
    """One categorical decision of a space: its name and the names of its options.

    NB201: six decisions ``"1<-0" ... "3<-2"`` (one per cell edge, named ``dst<-src``), each
    over the five op names; the architecture's choice for decision ``d`` is the index of the
    chosen option in ``options``.
    """

    name: str
    options: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"decision name must be a non-empty string, got {self.name!r}")
        opts = self.options
        if (not isinstance(opts, tuple) or not opts
                or not all(isinstance(o, str) and o for o in opts)):
            raise ConfigError(f"decision {self.name!r}: options must be a non-empty tuple of "
                              f"option names, got {opts!r}")
        if len(set(opts)) != len(opts):
            dup = sorted({o for o in opts if opts.count(o) > 1})
            raise ConfigError(f"decision {self.name!r}: option names must be unique, "
                              f"{', '.join(map(repr, dup))} repeated")

    @property
    def size(self) -> int:
        """Number of options."""
        return len(self.options)


#: the options of an edge-presence decision of a :class:`GraphSpec` with ops on nodes:
#: option 0 = the edge is absent, option 1 = present
EDGE_PRESENCE: tuple[str, ...] = ("0", "1")


@dataclass(frozen=True, slots=True)
class GraphSpec:
    """A cell DAG and which decisions shape it; two kinds of cell.

    Node 0 is the cell input, node ``n_nodes - 1`` the cell output, nodes are numbered in
    topological order (every edge goes from a lower to a higher node).

    *Ops on edges* (NB201; ``node_decisions`` empty): ``edges[e] = (src, dst)`` is the e-th
    op-carrying edge and ``edge_decisions[e]`` the index (into ``space.decisions``) of the
    decision that picks its op among ``ops``; a node sums its incoming edges.

    *Ops on nodes* (NB101; ``node_decisions`` given): ``edges`` are the candidate edges and
    ``edge_decisions[e]`` the index of the decision that switches edge e off or on (options
    :data:`EDGE_PRESENCE`); ``node_decisions[k]`` is the index of the decision that picks the
    op (among ``ops``) of interior node ``k + 1`` (one per interior node, ``n_nodes - 2``).

    ``zero_ops`` are ops whose output is zero (``none``), ``identity_ops`` ops that pass their
    input through (``skip_connect``): graph encodings remove / contract them. What graph
    encodings and cell supernets are built from.
    """

    n_nodes: int
    edges: tuple[tuple[int, int], ...]
    edge_decisions: tuple[int, ...]
    ops: tuple[str, ...]
    zero_ops: tuple[str, ...] = ()
    identity_ops: tuple[str, ...] = ()
    node_decisions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = self.n_nodes
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ConfigError(f"GraphSpec n_nodes must be an integer >= 2 (input and output), "
                              f"got {n!r}")
        for e, edge in enumerate(self.edges):
            if (not isinstance(edge, tuple) or len(edge) != 2
                    or not all(isinstance(v, int) and 0 <= v < n for v in edge)
                    or not edge[0] < edge[1]):
                raise ConfigError(f"GraphSpec edge {e} must be a pair (src, dst) of node numbers "
                                  f"with 0 <= src < dst < {n}, got {edge!r}")
        if len(self.edge_decisions) != len(self.edges):
            raise ConfigError(f"GraphSpec needs one decision index per edge ({len(self.edges)}), "
                              f"got {len(self.edge_decisions)}")
        if not self.ops or len(set(self.ops)) != len(self.ops):
            raise ConfigError(f"GraphSpec ops must be a non-empty tuple of unique op names, "
                              f"got {self.ops!r}")
        for what, names in (("zero_ops", self.zero_ops), ("identity_ops", self.identity_ops)):
            bad = [o for o in names if o not in self.ops]
            if bad:
                raise ConfigError(f"GraphSpec {what} {bad!r} are not among its ops {self.ops!r}")
        if self.node_decisions and len(self.node_decisions) != n - 2:
            raise ConfigError(f"GraphSpec with ops on nodes needs one decision index per "
                              f"interior node ({n - 2}), got {len(self.node_decisions)}")

    @property
    def ops_on_nodes(self) -> bool:
        """True for a cell whose ops sit on its interior nodes and whose edges are switched on
        or off (NB101); False for ops on edges (NB201)."""
        return bool(self.node_decisions)

    @property
    def compute_ops(self) -> tuple[str, ...]:
        """The ops that are neither zero nor identity (the vocabulary of path encodings)."""
        return tuple(o for o in self.ops if o not in self.zero_ops and o not in self.identity_ops)

    @property
    def n_graph_nodes(self) -> int:
        """Nodes of the op-on-node graph: input, one per op-carrying edge, output (ops on
        nodes: the cell's own ``n_nodes``)."""
        return self.n_nodes if self.ops_on_nodes else len(self.edges) + 2

    def op_node_adjacency(self) -> np.ndarray:
        """Directed adjacency (row = source) of the op-on-node graph, float32.

        Node 0 is the input, node ``1 + e`` the op of edge e, the last node the output. An edge
        leaving the cell input reads node 0; an edge leaving node ``src`` reads the sum of the
        edges entering ``src``; edges entering the cell output feed the output node.
        """
        m = self.n_graph_nodes
        out_node = m - 1
        adj = np.zeros((m, m), dtype=np.float32)
        for e, (src, dst) in enumerate(self.edges):
            if src == 0:
                adj[0, 1 + e] = 1.0
            else:
                for e2, (_, dst2) in enumerate(self.edges):
                    if dst2 == src:
                        adj[1 + e2, 1 + e] = 1.0
            if dst == self.n_nodes - 1:
                adj[1 + e, out_node] = 1.0
        return adj

    def longest_path(self) -> int:
        """Edges on the longest input->output path of the cell (0 when none exists)."""
        depth = [-1] * self.n_nodes
        depth[0] = 0
        for src, dst in sorted(self.edges, key=lambda ed: ed[1]):
            if depth[src] >= 0:
                depth[dst] = max(depth[dst], depth[src] + 1)
        return max(depth[-1], 0)

    def max_path_ops(self) -> int:
        """Ops on the longest input->output path the cell can have: its edges (ops on edges,
        NB201: 3) or its interior nodes (ops on nodes, NB101: 5)."""
        longest = self.longest_path()
        return max(longest - 1, 0) if self.ops_on_nodes else longest


@dataclass(frozen=True, slots=True)
class Architecture:
    """One architecture of a search space, as plain data.

    ``choices`` holds the space's decision vector (for NB201: six op indices in official edge
    order). Architectures are hashable, compare by value, round-trip through JSON
    (:meth:`to_json`/:meth:`from_json`), and ``str(arch)`` is the space's official notation.
    """

    space: str
    choices: tuple[Any, ...]

    def __str__(self) -> str:
        return get_space(self.space).format(self)

    def to_json(self) -> dict[str, Any]:
        return {"space": self.space, "choices": list(self.choices)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Architecture:
        try:
            space, choices = data["space"], data["choices"]
        except (KeyError, TypeError):
            raise InvalidArchitectureError(
                f"architecture JSON must be an object with keys 'space' and 'choices', got {data!r}"
            ) from None
        return get_space(space).validate(cls(space, _freeze(choices)))


def _freeze(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return tuple(_freeze(v) for v in x)
    return x


class SearchSpace(ABC):
    """Which architectures exist and how to move between them.

    Spaces hold no network code (no torch import). Finite spaces also implement ``__len__``,
    :meth:`enumerate`, :meth:`index` and :meth:`from_index`.

    Declared structure (class attributes, read by strategies, encodings and the analysis):
    ``decisions`` - the categorical decisions an architecture is a vector of (empty when the
    space is not a fixed vector of categoricals); ``graph_spec`` - the cell DAG whose edges
    carry op decisions, or None; ``has_canonical`` - whether :meth:`canonical` is a real
    isomorphism key (the default is the identity).
    """

    name: str = ""
    decisions: tuple[Decision, ...] = ()
    graph_spec: GraphSpec | None = None
    has_canonical: bool = False

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random architecture."""

    @abstractmethod
    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One random local move; the result differs from ``arch``."""

    @abstractmethod
    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """All architectures one local move away, in a fixed order."""

    def canonical(self, arch: Architecture) -> Architecture:
        """The representative of ``arch``'s isomorphism class (equal for isomorphic archs).

        The default is the identity (every arch its own class); spaces with a real canonical
        form override it and set ``has_canonical = True``.
        """
        return arch

    @abstractmethod
    def parse(self, text: str) -> Architecture:
        """Parse the official notation; raises InvalidArchitectureError naming the bad part."""

    @abstractmethod
    def format(self, arch: Architecture) -> str:
        """The official notation of ``arch`` (what ``str(arch)`` returns)."""

    @abstractmethod
    def validate(self, arch: Architecture) -> Architecture:
        """Return ``arch`` if it belongs to this space, else raise InvalidArchitectureError."""

    # finite spaces -----------------------------------------------------------------------
    def __len__(self) -> int:
        raise TypeError(f"search space {self.name!r} is not finite")

    def enumerate(self) -> Iterator[Architecture]:
        raise TypeError(f"search space {self.name!r} cannot be enumerated")

    def index(self, arch: Architecture) -> int:
        raise TypeError(f"search space {self.name!r} has no official index")

    def from_index(self, index: int) -> Architecture:
        raise TypeError(f"search space {self.name!r} has no official index")

    def arch_key(self, arch: Architecture) -> int:
        """A stable non-negative integer naming ``arch``: what seeds per-architecture
        randomness, such as a zero-cost proxy's network initialisation, so that it does not
        depend on which other archs are scored, and what keys score caches. Default: 62 bits
        of the BLAKE2b hash of its notation (isomorphic archs get different keys: their
        networks may differ); indexed spaces return the official index."""
        text = self.format(arch).encode("utf-8")
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 2

    # declared decisions ------------------------------------------------------------------
    def decision_indices(self, arch: Architecture) -> tuple[int, ...]:
        """The option index chosen for each of :attr:`decisions` (default: ``arch.choices``).

        Spaces whose ``choices`` are not already that vector override this and
        :meth:`from_decision_indices`.
        """
        return tuple(arch.choices)

    def from_decision_indices(self, idx: Sequence[int]) -> Architecture:
        """The architecture choosing option ``idx[d]`` for decision ``d`` (validated)."""
        vals = tuple(idx)
        sizes = self._decision_sizes()
        if not sizes:
            self._require_decisions("from_decision_indices")
        if len(vals) == len(sizes) and all(type(v) is int and 0 <= v < s
                                           for v, s in zip(vals, sizes)):
            return self.validate(Architecture(self.name, vals))
        decisions = self.decisions
        if len(vals) != len(decisions):
            raise InvalidArchitectureError(
                f"space {self.name!r} has {len(decisions)} decisions, got {len(vals)} decision "
                f"indices {vals!r}")
        out = []
        for d, v in zip(decisions, vals):
            if (isinstance(v, bool) or not isinstance(v, (int, np.integer))
                    or not 0 <= int(v) < d.size):
                raise InvalidArchitectureError(
                    f"space {self.name!r}: the index of decision {d.name!r} must be an integer "
                    f"in 0..{d.size - 1}, got {v!r}")
            out.append(int(v))
        return self.validate(Architecture(self.name, tuple(out)))

    def _decision_sizes(self) -> tuple[int, ...]:
        sizes: tuple[int, ...] | None = self.__dict__.get("_decision_sizes_cache")
        if sizes is None:
            sizes = tuple(d.size for d in self.decisions)
            self.__dict__["_decision_sizes_cache"] = sizes
        return sizes

    def _require_decisions(self, what: str) -> tuple[Decision, ...]:
        if not self.decisions:
            raise ConfigError(f"{what} needs a space declared as a fixed vector of categorical "
                              f"decisions (SearchSpace.decisions); space {self.name!r} declares "
                              f"none")
        return self.decisions

    # encodings ---------------------------------------------------------------------------
    def encodings(self) -> list[str]:
        """Names accepted by :meth:`encode`: ``onehot`` and ``index`` where the space declares
        decisions, ``adjacency`` where it declares a graph."""
        kinds = ["onehot", "index"] if self.decisions else []
        if self.graph_spec is not None:
            kinds.append("adjacency")
        return kinds

    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        """A fixed-length numeric encoding of ``arch``.

        ``onehot``: float32, one block per decision (its size), 1 at the chosen option;
        ``index``: int64, the decision indices; ``adjacency``: float32, the op-on-node graph of
        :meth:`graph` flattened (adjacency, then node one-hot). Spaces with other encodings
        override this (and :meth:`encodings`).
        """
        if kind == "onehot" and self.decisions:
            starts, width = self._onehot_layout()
            out = np.zeros(width, dtype=np.float32)
            out[starts + np.asarray(self.decision_indices(arch), dtype=np.int64)] = 1.0
            return out
        if kind == "index" and self.decisions:
            return np.asarray(self.decision_indices(arch), dtype=np.int64)
        if kind == "adjacency" and self.graph_spec is not None:
            adj, ops = self.graph(arch)
            return np.concatenate([adj.ravel(), ops.ravel()])
        kinds = self.encodings()
        raise InvalidArchitectureError(
            f"space {self.name!r}: encoding kind must be one of {kinds}, got {kind!r}"
            f"{did_you_mean(str(kind), kinds)}")

    def _onehot_layout(self) -> tuple[np.ndarray, int]:
        """First column of each decision's one-hot block, and the total width."""
        layout: tuple[np.ndarray, int] | None = self.__dict__.get("_onehot_layout_cache")
        if layout is None:
            sizes = self._decision_sizes()
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            layout = (starts, int(sum(sizes)))
            self.__dict__["_onehot_layout_cache"] = layout
        return layout

    # graph -------------------------------------------------------------------------------
    def _require_graph(self) -> GraphSpec:
        spec = self.graph_spec
        if spec is None:
            raise ConfigError(
                f"search space {self.name!r} declares no cell graph (graph_spec is None); "
                f"graph-based encodings (adjacency, path, reduced, GNN predictors) need one. "
                f"Use encoding 'onehot' for this space")
        return spec

    def graph_labels(self) -> tuple[str, ...]:
        """Node labels of :meth:`graph`: ``("input", "output", *graph_spec.ops)``."""
        return ("input", "output", *self._require_graph().ops)

    def graph(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        """The cell as a DAG with ops on nodes (the form a GNN predictor reads).

        Ops on edges: node 0 is the cell input, node ``1 + e`` the op of edge e of
        :attr:`graph_spec`, the last node the cell output (see
        :meth:`GraphSpec.op_node_adjacency`). Ops on nodes: the cell itself, its edges those
        switched on. Returns the directed adjacency (float32, row = source) and node features
        (float32): one-hot over :meth:`graph_labels`. Derived from ``graph_spec``;
        ConfigError when it is None.
        """
        spec = self._require_graph()
        if spec.ops_on_nodes:
            return self._node_op_graph(spec, arch)
        layout: _GraphLayout | None = self.__dict__.get("_graph_layout_cache")
        if layout is None:
            layout = self._graph_layout()
            self.__dict__["_graph_layout_cache"] = layout
        adj, rows, lut, edge_dec, n_labels = layout
        chosen = np.asarray(self.decision_indices(arch), dtype=np.int64)
        ops = np.zeros((adj.shape[0], n_labels), dtype=np.float32)
        ops[0, 0] = 1.0
        ops[-1, 1] = 1.0
        if edge_dec is not None:
            chosen = chosen[edge_dec]
        ops[rows, 2 + (chosen if lut is None else lut[rows - 1, chosen])] = 1.0
        return adj.copy(), ops

    def _node_op_graph(self, spec: GraphSpec, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        idx = self.decision_indices(arch)
        n = spec.n_nodes
        adj = np.zeros((n, n), dtype=np.float32)
        for (src, dst), d in zip(spec.edges, spec.edge_decisions):
            if idx[d]:
                adj[src, dst] = 1.0
        feats = np.zeros((n, 2 + len(spec.ops)), dtype=np.float32)
        feats[0, 0] = feats[n - 1, 1] = 1.0
        for k, d in enumerate(spec.node_decisions):
            feats[k + 1, 2 + spec.ops.index(self.decisions[d].options[idx[d]])] = 1.0
        return adj, feats

    def _graph_layout(self) -> _GraphLayout:
        spec = self._require_graph()
        n_edges = len(spec.edges)
        width = max((d.size for d in self.decisions), default=0)
        lut = np.zeros((n_edges, width), dtype=np.int64)  # edge, option -> index in spec.ops
        for e, d in enumerate(spec.edge_decisions):
            try:
                lut[e, : self.decisions[d].size] = [spec.ops.index(o)
                                                    for o in self.decisions[d].options]
            except (IndexError, ValueError):
                raise ConfigError(
                    f"space {self.name!r}: graph_spec edge {e} names decision {d}, which must "
                    f"be one of its decisions with options among graph_spec.ops "
                    f"{spec.ops!r}") from None
        identity_lut = all(self.decisions[d].options == spec.ops[: self.decisions[d].size]
                           for d in spec.edge_decisions)
        direct = tuple(spec.edge_decisions) == tuple(range(len(self.decisions)))
        return (spec.op_node_adjacency(), np.arange(1, n_edges + 1),
                None if identity_lut else lut,
                None if direct else np.asarray(spec.edge_decisions, dtype=np.int64),
                2 + len(spec.ops))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@functools.lru_cache(maxsize=None)
def get_space(name: str) -> SearchSpace:
    """The shared default instance of the space registered as ``name``."""
    from naslab import registry

    space: SearchSpace = registry.get("space", name)()
    return space
