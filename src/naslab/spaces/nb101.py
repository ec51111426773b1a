"""NAS-Bench-101 cell space (Ying et al., ICML 2019).

A cell is a DAG on at most 7 nodes: node 0 the cell input, node 6 the cell output, interior
nodes 1..5 each carrying one op of ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``
(NB101's names and its order, which is also the label order of its graph hash). Edges go from a
lower to a higher node; a cell has at most 9 edges.

``Architecture.choices`` is NB101's *raw* spec (its ``ModelSpec(matrix, ops)`` before pruning),
26 integers: the 21 upper-triangle entries of the 7x7 adjacency matrix in row-major order
(``(0,1), (0,2), ..., (5,6)``; 0 = no edge, 1 = edge), then the op index (into :data:`OPS`) of
nodes 1..5. The space declares these as its decisions (21 edge-presence decisions named
``dst<-src`` and 5 op decisions ``op1..op5``) and its graph as a
:class:`~naslab.spaces.base.GraphSpec` with ops on nodes.

As in NB101's ``ModelSpec``: nodes that cannot be reached from the input or cannot reach the
output are pruned (:func:`prune`), and a spec is valid when its pruned cell connects input to
output with at most 9 edges (the limit applies after pruning). Specs that prune to isomorphic
cells are the same network: :func:`spec_hash` is NB101's graph hash (the iterative MD5 label
hashing of ``graph_util.hash_module`` on the pruned matrix, op labels ``-1`` input, ``-2`` output,
0/1/2 the ops), the key of every NB101 record; :meth:`NB101Space.canonical` a representative.

NB101 states that the space holds 423,624 unique cells (:data:`N_CELLS`); :func:`count_cells`
counts them (isomorphism classes of valid labelled cells, Burnside's lemma over the automorphisms
of each unlabelled DAG) and ``benchmarks/nb101_cells.py`` checks the count and that NB101's hash
gives every class its own key. The space has no official index (NB101 keys records by hash), so
it is not a finite, indexed space here: ``len()``/``index()`` are not offered.

Notation (:meth:`NB101Space.format` / :meth:`~NB101Space.parse`): the adjacency rows, ``|``
between rows, then ``;`` and the op list with input and output, as NB101's ``ModelSpec``::

    0110000|0001000|0001000|0000101|0000010|0000001|0000000;input,conv3x3-bn-relu,conv1x1-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output

The parser also takes 2..6-node matrices (NB101's pruned records) and pads them to 7 nodes with
unconnected interior nodes.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from naslab.errors import InvalidArchitectureError, did_you_mean
from naslab.registry import register
from naslab.spaces.base import EDGE_PRESENCE, Architecture, Decision, GraphSpec, SearchSpace

#: interior ops, in NB101's order (``available_ops``; the labels 0, 1, 2 of its hash)
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT, OUTPUT = "input", "output"
#: short op names the parser also accepts
OP_ALIASES: dict[str, str] = {"conv3x3": OPS[0], "conv1x1": OPS[1], "maxpool": OPS[2]}
N_NODES = 7
N_INTERIOR = N_NODES - 2
MAX_EDGES = 9
#: candidate edges (src, dst) in row-major upper-triangle order: the first 21 choices
EDGES: tuple[tuple[int, int], ...] = tuple((s, d) for s in range(N_NODES)
                                           for d in range(s + 1, N_NODES))
N_EDGES = len(EDGES)
N_CHOICES = N_EDGES + N_INTERIOR
#: unique cells (isomorphism classes of valid cells) as NB101 states them
N_CELLS = 423_624
#: NB101's default mutation rate: each edge flips with rate / 7, each op changes with rate / 5
MUTATION_RATE = 1.0

DECISIONS: tuple[Decision, ...] = (
    tuple(Decision(f"{d}<-{s}", EDGE_PRESENCE) for s, d in EDGES)
    + tuple(Decision(f"op{k}", OPS) for k in range(1, N_INTERIOR + 1)))
GRAPH = GraphSpec(n_nodes=N_NODES, edges=EDGES, edge_decisions=tuple(range(N_EDGES)), ops=OPS,
                  node_decisions=tuple(range(N_EDGES, N_CHOICES)))

_EDGE_POS = {e: k for k, e in enumerate(EDGES)}
_EXAMPLE = ("0110000|0001000|0001000|0000101|0000010|0000001|0000000;input,conv3x3-bn-relu,"
            "conv1x1-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output")
_MEMO_LIMIT = 200_000


# ------------------------------------------------------------------------------------------
# specs: (matrix, interior op indices)
# ------------------------------------------------------------------------------------------


def prune(matrix: Any, ops: Sequence[int]) -> tuple[np.ndarray, list[int]] | None:
    """NB101's pruning: drop every node that is not on an input->output path.

    ``matrix``: square upper-triangular 0/1 adjacency (row = source) of ``n`` nodes; ``ops``:
    the op index of each of the ``n - 2`` interior nodes. Returns the pruned ``(matrix, ops)``,
    or None when no path connects the input to the output (NB101: an invalid spec).
    """
    m = np.asarray(matrix, dtype=np.int64)
    n = m.shape[0]
    fwd = [False] * n
    fwd[0] = True
    for v in range(1, n):
        fwd[v] = any(fwd[u] and m[u, v] for u in range(v))
    bwd = [False] * n
    bwd[n - 1] = True
    for v in range(n - 2, -1, -1):
        bwd[v] = any(bwd[w] and m[v, w] for w in range(v + 1, n))
    keep = [v for v in range(n) if fwd[v] and bwd[v]]
    if not (fwd[n - 1] and bwd[0]):
        return None
    pm = m[np.ix_(keep, keep)]
    return pm, [int(ops[v - 1]) for v in keep[1:-1]]


def graph_hash(matrix: Any, ops: Sequence[int]) -> str:
    """NB101's graph hash of a (pruned) cell: the key of its records.

    Each node starts as the MD5 of ``(out-degree, in-degree, label)`` (label -1 input, -2
    output, else the op index); then, as many rounds as there are nodes, a node's hash becomes
    the MD5 of its sorted in-neighbour hashes, ``|``, its sorted out-neighbour hashes, ``|``
    and its own hash; the key is the MD5 of the sorted final hashes. Equal for isomorphic cells.
    """
    m = np.asarray(matrix, dtype=np.int64)
    n = m.shape[0]
    labels = [-1] + [int(o) for o in ops] + [-2]
    if len(labels) != n:
        raise InvalidArchitectureError(
            f"NB101 hash: {n} nodes need {n - 2} interior ops, got {len(ops)}")
    ins = [[int(u) for u in np.flatnonzero(m[:, v])] for v in range(n)]
    outs = [[int(w) for w in np.flatnonzero(m[v])] for v in range(n)]
    h = [hashlib.md5(str((len(outs[v]), len(ins[v]), labels[v])).encode("utf-8")).hexdigest()
         for v in range(n)]
    for _ in range(n):
        h = [hashlib.md5(("".join(sorted(h[u] for u in ins[v])) + "|"
                          + "".join(sorted(h[w] for w in outs[v])) + "|" + h[v]
                          ).encode("utf-8")).hexdigest() for v in range(n)]
    return hashlib.md5(str(sorted(h)).encode("utf-8")).hexdigest()


def unpack(choices: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    """Raw ``choices`` -> (7x7 int64 adjacency, the 5 interior op indices)."""
    m = np.zeros((N_NODES, N_NODES), dtype=np.int64)
    for (s, d), b in zip(EDGES, choices[:N_EDGES]):
        m[s, d] = b
    return m, [int(c) for c in choices[N_EDGES:]]


def pack(matrix: Any, ops: Sequence[int]) -> tuple[int, ...]:
    """(matrix of 2..7 nodes, interior op indices) -> raw 7-node ``choices``. A smaller cell is
    padded: its nodes keep their numbers, its output becomes node 6, the nodes in between are
    unconnected and carry op 0."""
    m = np.asarray(matrix, dtype=np.int64)
    n = m.shape[0]
    pos = list(range(n - 1)) + [N_NODES - 1]
    full = np.zeros((N_NODES, N_NODES), dtype=np.int64)
    full[np.ix_(pos, pos)] = m
    op_full = [0] * N_INTERIOR
    for k, o in enumerate(ops):
        op_full[k] = int(o)
    return tuple(int(full[s, d]) for s, d in EDGES) + tuple(op_full)


def _canonical_code(matrix: np.ndarray, ops: list[int]) -> tuple[np.ndarray, list[int]]:
    """The relabelling of a pruned cell with the smallest code among its topological orders
    (input first, output last): a canonical form of its isomorphism class."""
    n = matrix.shape[0]
    if n <= 3:
        return matrix, ops
    perms = _interior_perms(n)  # (k, n): new node i is old node perms[:, i]
    pm = matrix[perms[:, :, None], perms[:, None, :]]  # (k, n, n)
    upper = ~np.tril(np.ones((n, n), dtype=bool))
    ok = ~((pm > 0) & ~upper).any(axis=(1, 2))
    pm, p = pm[ok], perms[ok]
    lab = np.asarray([0] + ops + [0], dtype=np.int64)[p][:, 1:-1]
    bits = pm[:, upper]  # (k', n(n-1)/2) row-major upper triangle
    keys = np.concatenate([bits, lab], axis=1)
    best = int(np.lexsort(keys.T[::-1])[0])
    return pm[best], [int(v) for v in lab[best]]


_PERMS: dict[int, np.ndarray] = {}


def _interior_perms(n: int) -> np.ndarray:
    p = _PERMS.get(n)
    if p is None:
        inner = list(itertools.permutations(range(1, n - 1)))
        p = np.array([(0, *q, n - 1) for q in inner], dtype=np.int64)
        _PERMS[n] = p
    return p


# ------------------------------------------------------------------------------------------
# counting the space
# ------------------------------------------------------------------------------------------


def _full_dags(n: int, max_edges: int) -> np.ndarray:
    """Every upper-triangular n-node 0/1 matrix (rows of row-major upper-triangle bits) with at
    most ``max_edges`` edges on which every node lies on an input->output path (NB101's
    ``is_full_dag``: every non-output node has an out-edge, every non-input node an in-edge)."""
    pairs = [(s, d) for s in range(n) for d in range(s + 1, n)]
    m = len(pairs)
    masks = np.arange(1 << m, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(m)) & 1).astype(np.uint8)
    bits = bits[bits.sum(axis=1) <= max_edges]
    out_inc = np.zeros((m, n), dtype=np.int64)
    in_inc = np.zeros((m, n), dtype=np.int64)
    for k, (s, d) in enumerate(pairs):
        out_inc[k, s] = 1
        in_inc[k, d] = 1
    outdeg = bits.astype(np.float32) @ out_inc.astype(np.float32)
    indeg = bits.astype(np.float32) @ in_inc.astype(np.float32)
    ok = (outdeg[:, :-1] > 0).all(axis=1) & (indeg[:, 1:] > 0).all(axis=1)
    return bits[ok]


def _classes(n: int, max_edges: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """One representative (n x n matrix) per isomorphism class of unlabelled full DAGs with
    ``n`` nodes, and its automorphisms (the interior permutations that map it onto itself)."""
    if n == 2:
        return [(np.array([[0, 1], [0, 0]], dtype=np.int64), _interior_perms(2))]
    bits = _full_dags(n, max_edges)
    pairs = [(s, d) for s in range(n) for d in range(s + 1, n)]
    perms = _interior_perms(n)
    inv = np.argsort(perms, axis=1)  # inv[k, old] = new position of old node
    # code of the relabelled matrix: bit (new src * n + new dst) for every edge
    weights = np.array([[2.0 ** (inv[k, s] * n + inv[k, d]) for s, d in pairs]
                        for k in range(len(perms))])  # (k, m), exact in float64 (< 2^53)
    codes = np.empty((len(bits), len(perms)))
    for start in range(0, len(bits), 65536):
        chunk = bits[start:start + 65536].astype(np.float64)
        codes[start:start + 65536] = chunk @ weights.T
    canon = codes.min(axis=1)
    _, first = np.unique(canon, return_index=True)
    out = []
    for i in first:
        auto = perms[codes[i] == codes[i, 0]]  # perms[0] is the identity
        mat = np.zeros((n, n), dtype=np.int64)
        for (s, d), b in zip(pairs, bits[i]):
            mat[s, d] = b
        out.append((mat, auto))
    return out


def _cycles(perm: np.ndarray) -> int:
    seen = [False] * len(perm)
    c = 0
    for v in range(1, len(perm) - 1):
        if not seen[v]:
            c += 1
            while not seen[v]:
                seen[v] = True
                v = int(perm[v])
    return c


def count_cells(max_nodes: int = N_NODES, max_edges: int = MAX_EDGES,
                n_ops: int = len(OPS)) -> dict[int, int]:
    """Unique cells (isomorphism classes of valid labelled cells) per node count, 2..max_nodes.

    For each unlabelled full DAG (every node on an input->output path, at most ``max_edges``
    edges) up to isomorphism, the labellings of its interior nodes with ``n_ops`` ops up to its
    automorphisms, by Burnside's lemma: the mean over automorphisms g of ``n_ops ** cycles(g)``.
    NB101 (7 nodes, 9 edges, 3 ops): 423,624 in all. Exact; needs no hashing.
    """
    out = {}
    for n in range(2, max_nodes + 1):
        total = 0
        for _, auto in _classes(n, max_edges):
            fixed = sum(n_ops ** _cycles(g) for g in auto)
            assert fixed % len(auto) == 0
            total += fixed // len(auto)
        out[n] = total
    return out


def iter_cells(max_nodes: int = N_NODES, max_edges: int = MAX_EDGES,
               n_ops: int = len(OPS)) -> Iterator[tuple[np.ndarray, list[int]]]:
    """One (matrix, interior ops) per unique cell - the cells :func:`count_cells` counts: per
    unlabelled class, the labellings that are the smallest of their orbit under its
    automorphisms."""
    for n in range(2, max_nodes + 1):
        for mat, auto in _classes(n, max_edges):
            for lab in itertools.product(range(n_ops), repeat=n - 2):
                full = (-1, *lab, -2)
                if all(tuple(full[int(g[v])] for v in range(n)) >= full for g in auto):
                    yield mat, list(lab)


# ------------------------------------------------------------------------------------------
# the space
# ------------------------------------------------------------------------------------------


@register("space", "nb101", aliases=("nasbench101", "nas-bench-101"))
class NB101Space(SearchSpace):
    """The NAS-Bench-101 cell space: raw 7-node specs, valid after NB101's pruning."""

    name = "nb101"
    decisions = DECISIONS
    graph_spec = GRAPH
    has_canonical = True
    ops = OPS
    #: unique cells, as NB101 states (checked by :func:`count_cells`)
    n_cells = N_CELLS

    def __init__(self) -> None:
        self._hash_memo: dict[tuple[Any, ...], str] = {}
        self._canon_memo: dict[tuple[Any, ...], Architecture] = {}

    # specs -------------------------------------------------------------------------------
    def spec(self, arch: Architecture) -> tuple[list[list[int]], list[str]]:
        """NB101's raw ``ModelSpec`` of ``arch``: (7x7 adjacency rows, op names incl. input
        and output)."""
        m, ops = unpack(self.validate(arch).choices)
        return m.tolist(), [INPUT, *(OPS[o] for o in ops), OUTPUT]

    def pruned_spec(self, arch: Architecture) -> tuple[list[list[int]], list[str]]:
        """The spec after NB101's pruning (what NB101 trained and stored): (n x n adjacency
        rows, op names incl. input and output), n <= 7."""
        m, ops = self._pruned(self.validate(arch))
        return m.tolist(), [INPUT, *(OPS[o] for o in ops), OUTPUT]

    def pruned_arch(self, arch: Architecture) -> Architecture:
        """``arch`` with its pruned nodes removed (the others keep their order) and the cell
        padded back to 7 nodes: the same network as ``arch`` (see :meth:`canonical`)."""
        return Architecture(self.name, pack(*self._pruned(self.validate(arch))))

    def from_spec(self, matrix: Any, ops: Sequence[str | int]) -> Architecture:
        """The architecture of an NB101 spec: ``matrix`` n x n (2 <= n <= 7, upper triangular
        0/1), ``ops`` the n op names (``input`` first, ``output`` last) or the n - 2 interior
        op indices. Smaller cells are padded to 7 nodes (unconnected interior nodes)."""
        try:
            m = np.asarray(matrix, dtype=np.int64)
        except (TypeError, ValueError):
            raise InvalidArchitectureError(
                f"NB101 spec matrix must be a square 0/1 matrix, got {matrix!r}") from None
        if m.ndim != 2 or m.shape[0] != m.shape[1] or not 2 <= m.shape[0] <= N_NODES:
            raise InvalidArchitectureError(
                f"NB101 spec matrix must be square with 2..{N_NODES} rows, got shape {m.shape}")
        n = m.shape[0]
        if not np.isin(m, (0, 1)).all() or np.tril(m).any():
            raise InvalidArchitectureError(
                f"NB101 spec matrix must be upper triangular with 0/1 entries, got {m.tolist()}")
        names = list(ops)
        if len(names) == n and all(isinstance(o, str) for o in names):
            if names[0] != INPUT or names[-1] != OUTPUT:
                raise InvalidArchitectureError(
                    f"NB101 spec ops must start with 'input' and end with 'output', got {names}")
            idx = [self._op_index(str(o), f"spec ops {names}") for o in names[1:-1]]
        elif len(names) == n - 2 and all(type(o) is int and 0 <= o < len(OPS) for o in names):
            idx = [int(o) for o in names]
        else:
            raise InvalidArchitectureError(
                f"NB101 spec of {n} nodes needs {n} op names (input ... output) or {n - 2} op "
                f"indices in 0..{len(OPS) - 1}, got {names!r}")
        return self.validate(Architecture(self.name, pack(m, idx)))

    def _pruned(self, arch: Architecture) -> tuple[np.ndarray, list[int]]:
        m, ops = unpack(arch.choices)
        pr = prune(m, ops)
        assert pr is not None  # validated
        return pr

    # validity ----------------------------------------------------------------------------
    def validate(self, arch: Architecture) -> Architecture:
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"expected an Architecture, got {type(arch).__name__}")
        if arch.space != self.name:
            raise InvalidArchitectureError(
                f"architecture belongs to space {arch.space!r}, expected {self.name!r}")
        ch = arch.choices
        if isinstance(ch, tuple) and ch in self._hash_memo:
            return arch
        if (not isinstance(ch, tuple) or len(ch) != N_CHOICES
                or not all(type(b) is int and b in (0, 1) for b in ch[:N_EDGES])
                or not all(type(o) is int and 0 <= o < len(OPS) for o in ch[N_EDGES:])):
            raise InvalidArchitectureError(
                f"NB101 choices must be {N_EDGES} edge bits (0/1) then {N_INTERIOR} op indices "
                f"in 0..{len(OPS) - 1}, got {ch!r}")
        problem = self._problem(ch)
        if problem:
            raise InvalidArchitectureError(f"NB101 cell {self.format(arch)!r} is invalid: {problem}")
        return arch

    def _problem(self, choices: tuple[Any, ...]) -> str:
        """Why a raw spec is not a valid NB101 cell ('' if it is); memoises its hash."""
        m, ops = unpack(choices)
        pr = prune(m, ops)
        if pr is None:
            return "no path connects the input to the output"
        n_edges = int(pr[0].sum())
        if n_edges > MAX_EDGES:
            return (f"it has {n_edges} edges after pruning, NB101 allows at most {MAX_EDGES}")
        if len(self._hash_memo) >= _MEMO_LIMIT:
            self._hash_memo.clear()
        self._hash_memo[choices] = graph_hash(*pr)
        return ""

    def is_valid(self, arch: Architecture) -> bool:
        """Whether ``arch`` is a valid NB101 cell (no exception)."""
        try:
            self.validate(arch)
        except InvalidArchitectureError:
            return False
        return True

    def _valid_choices(self, choices: tuple[int, ...]) -> bool:
        return choices in self._hash_memo or not self._problem(choices)

    # isomorphism -------------------------------------------------------------------------
    def unique_key(self, arch: Architecture) -> str:
        """NB101's graph hash of ``arch`` (the key of its records): equal for archs that prune
        to isomorphic cells."""
        h = self._hash_memo.get(arch.choices)
        if h is None:
            self.validate(arch)
            h = self._hash_memo[arch.choices]
        return h

    spec_hash = unique_key

    def canonical(self, arch: Architecture) -> Architecture:
        """The representative of ``arch``'s class: its pruned cell relabelled to the smallest
        code among its topological orders, padded to 7 nodes (:func:`pack`).

        Isomorphic in NB101's sense (one graph hash, one record), but not always the same
        network to the parameter: NB101's channel split gives a remainder channel to the
        lowest-numbered nodes feeding the output, so relabelling can move it to a node with
        another op. Build the record's own spec (:meth:`pruned_arch`) to count its
        parameters."""
        c = self._canon_memo.get(arch.choices)
        if c is None:
            m, ops = self._pruned(self.validate(arch))
            cm, cops = _canonical_code(m, ops)
            c = Architecture(self.name, pack(cm, cops))
            if len(self._canon_memo) >= _MEMO_LIMIT:
                self._canon_memo.clear()
            self._canon_memo[arch.choices] = c
        return c

    # sampling and moves ------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        """NB101's random spec: every upper-triangle edge present with probability 1/2, every
        interior op uniform, drawn again until the spec is valid (uniform over valid raw
        specs, as NB101's ``random_spec``; not uniform over unique cells)."""
        while True:
            ch = (tuple(int(b) for b in rng.integers(0, 2, N_EDGES))
                  + tuple(int(o) for o in rng.integers(0, len(OPS), N_INTERIOR)))
            if self._valid_choices(ch):
                return Architecture(self.name, ch)

    def mutate(self, arch: Architecture, rng: np.random.Generator, *,
               rate: float = MUTATION_RATE) -> Architecture:
        """NB101's mutation of the raw spec: each of the 21 edges flips with probability
        ``rate / 7``, each interior op changes with probability ``rate / 5`` to one of the
        other two ops, drawn again until the result is valid - and (unlike NB101's example
        code, which may return the parent) a different cell (another graph hash)."""
        key = self.unique_key(arch)
        ch = arch.choices
        p_edge, p_op = rate / N_NODES, rate / N_INTERIOR
        while True:
            flips = rng.random(N_EDGES) < p_edge
            edges = tuple(int(b) ^ int(f) for b, f in zip(ch[:N_EDGES], flips))
            ops = list(ch[N_EDGES:])
            for k in np.flatnonzero(rng.random(N_INTERIOR) < p_op):
                ops[k] = (ops[k] + 1 + int(rng.integers(len(OPS) - 1))) % len(OPS)
            new = edges + tuple(ops)
            if self._valid_choices(new) and self._hash_memo[new] != key:
                return Architecture(self.name, new)

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """Every valid cell one change of the raw spec away - an interior op replaced (node
        1..5, ops ascending), then one edge flipped (row-major) - that is a different cell
        from ``arch`` and from the neighbours before it (one per graph hash)."""
        seen = {self.unique_key(arch)}
        ch = arch.choices
        cands: list[tuple[int, ...]] = []
        for k in range(N_INTERIOR):
            for o in range(len(OPS)):
                if o != ch[N_EDGES + k]:
                    cands.append(ch[:N_EDGES + k] + (o,) + ch[N_EDGES + k + 1:])
        for e in range(N_EDGES):
            cands.append(ch[:e] + (1 - ch[e],) + ch[e + 1:])
        for c in cands:
            if self._valid_choices(c):
                h = self._hash_memo[c]
                if h not in seen:
                    seen.add(h)
                    yield Architecture(self.name, c)

    # notation ----------------------------------------------------------------------------
    def format(self, arch: Architecture) -> str:
        m, ops = unpack(arch.choices)
        rows = "|".join("".join(str(int(b)) for b in row) for row in m)
        return rows + ";" + ",".join([INPUT, *(OPS[o] for o in ops), OUTPUT])

    def parse(self, text: str) -> Architecture:
        """Parse ``<rows separated by |>;<ops separated by ,>`` (see the module docstring);
        2..7 nodes, smaller cells padded to 7. Errors name the bad row or op."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"NB101 arch must be a string, got {type(text).__name__}")
        s = "".join(text.split())
        rows_text, sep, ops_text = s.partition(";")
        if not sep or not rows_text or not ops_text:
            raise InvalidArchitectureError(
                f"NB101 arch {text!r} must be '<adjacency rows separated by |>;<ops separated by "
                f",>'; example: {_EXAMPLE}")
        rows = rows_text.split("|")
        n = len(rows)
        if not 2 <= n <= N_NODES:
            raise InvalidArchitectureError(
                f"NB101 arch {text!r} has {n} adjacency rows; cells have 2..{N_NODES} nodes")
        m = np.zeros((n, n), dtype=np.int64)
        for i, row in enumerate(rows):
            if len(row) != n:
                raise InvalidArchitectureError(
                    f"NB101 arch {text!r}: row {i} {row!r} has {len(row)} entries, the matrix "
                    f"has {n} rows")
            for j, c in enumerate(row):
                if c not in "01":
                    raise InvalidArchitectureError(
                        f"NB101 arch {text!r}: row {i} {row!r}: entry {j} is {c!r}, expected 0 or 1")
                if c == "1" and j <= i:
                    raise InvalidArchitectureError(
                        f"NB101 arch {text!r}: row {i} {row!r}: entry {j} is 1, but edges go from "
                        f"a lower to a higher node (upper triangle only)")
                m[i, j] = int(c)
        names = ops_text.split(",")
        if len(names) != n:
            raise InvalidArchitectureError(
                f"NB101 arch {text!r}: {len(names)} ops {ops_text!r} for {n} nodes (input, "
                f"{n - 2} interior ops, output)")
        if names[0] != INPUT:
            raise InvalidArchitectureError(
                f"NB101 arch {text!r}: the first op must be 'input', got {names[0]!r}")
        if names[-1] != OUTPUT:
            raise InvalidArchitectureError(
                f"NB101 arch {text!r}: the last op must be 'output', got {names[-1]!r}")
        idx = [self._op_index(o, f"arch {text!r}") for o in names[1:-1]]
        return self.validate(Architecture(self.name, pack(m, idx)))

    @staticmethod
    def _op_index(name: str, where: str) -> int:
        op = OP_ALIASES.get(name, name)
        if op not in OPS:
            known = OPS + tuple(OP_ALIASES)
            raise InvalidArchitectureError(
                f"NB101 {where}: unknown operation {name!r}{did_you_mean(name, known)}; interior "
                f"operations are {', '.join(OPS)}")
        return OPS.index(op)

    # encodings ---------------------------------------------------------------------------
    # onehot (57 floats: 21 edges x 2 + 5 nodes x 3), index (the 26 raw choices) and
    # adjacency (graph(): the raw 7x7 adjacency + 7x5 node one-hot over input, output and the
    # three ops, flattened) come from the base class; path encodings (BANANAS: 364 op
    # sequences of length 0..5) and the pruned graph from naslab.predictors.encodings.
