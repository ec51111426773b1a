"""The DARTS cell space (Liu, Simonyan & Yang, ICLR 2019), as NAS-Bench-301 uses it.

An architecture is a pair of cells, ``normal`` and ``reduce``. Each cell has two inputs (``0`` =
the output of the cell before the previous one, ``1`` = the previous cell's output) and four
intermediate nodes ``2..5``; node ``k`` sums two ops applied to two *distinct* inputs among
``0..k-1``; the cell's output concatenates nodes ``2..5``. Ops are the DARTS code's
``PRIMITIVES`` without ``none`` (DARTS derives discrete cells without it):
``max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3,
dil_conv_5x5`` - also the order of NASLib's "compact" op ids and of NB301's configuration.

Notation: the DARTS code's ``Genotype`` (``str(genotype)`` there)::

    Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
             reduce=[...], reduce_concat=[2, 3, 4, 5])

8 ``(op, input)`` pairs per cell, two per node in node order. ``parse`` also reads
``normal_concat=range(2, 6)`` (what DARTS's search prints) and NASLib's compact form
``[[(input, op_id), ...8], [...8]]`` (the keys of NASLib's NB301 data files).

Declared decisions (per cell, 21; 42 in all), the layout of NB301's configuration space:

* ``<cell>.<k>.inputs`` for nodes 3..5: the unordered pair of inputs, options ``"0_1"``,
  ``"0_2"``, ... (3, 6, 10 options; node 2 always reads 0 and 1);
* ``<cell>.<k><-<i>`` for every candidate edge ``i -> k`` (14 per cell): the op on that edge,
  used only when ``i`` is one of node k's inputs (so any combination of decisions is a valid
  architecture, and uniform decisions give uniform genotypes);
* ``<cell>.out<-<k>``: the cell output's concatenation of node k, a decision with the single
  option ``skip_connect`` (fixed in this space; declared so that the cell graph has its edges
  into the output).

``graph_spec`` is that cell DAG: node 0 is the cell input (both inputs of both cells: graph
encodings do not tell them apart; the one-hot encoding does), nodes 1-4 / 5-8 the intermediate
nodes of the normal / reduction cell, node 9 the output; edges carry the candidate-edge and
concatenation decisions. :meth:`DartsSpace.graph` labels an unused candidate edge ``none``, so
the reduced graph of the predictors is the genotype's.

Isomorphism (``canonical``): ops on unused candidate edges do not matter (they are reset to the
first op), and the intermediate nodes of a cell can be renumbered in any order that keeps
every node after its inputs (the two inputs are fixed; the concatenation order does not change
what the network can compute). The canonical form is the smallest cell over those
renumberings (nodes compared as input pairs, then ops). ``index`` numbers genotypes (mixed radix over the nodes' input pairs and ops,
normal cell first; DARTS has no official index); unused edges do not enter it.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections import namedtuple
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from naslab.errors import InvalidArchitectureError, did_you_mean
from naslab.registry import register
from naslab.spaces.base import Architecture, Decision, GraphSpec, SearchSpace

#: the DARTS code's PRIMITIVES, in its order (``none`` is a supernet op only)
PRIMITIVES: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                               "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
#: ops of discrete cells; op index = NASLib's compact op id = NB301's order
OPS: tuple[str, ...] = PRIMITIVES[1:]
N_OPS = len(OPS)
CELLS: tuple[str, ...] = ("normal", "reduce")
#: intermediate nodes of a cell (0 and 1 are its inputs)
NODES: tuple[int, ...] = (2, 3, 4, 5)
CONCAT: tuple[int, ...] = NODES
#: the DARTS code's genotype type (field names and order as there)
Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")

#: input pairs a node may read, in option order: node k reads two of 0..k-1
PAIRS: dict[int, tuple[tuple[int, int], ...]] = {
    k: tuple((i, j) for i in range(k) for j in range(i + 1, k)) for k in NODES}
_PAIR_INDEX = {k: {p: n for n, p in enumerate(PAIRS[k])} for k in NODES}

#: one cell's (node, input pair, op of the lower input, op of the higher input), node order
CellNodes = tuple[tuple[int, int, int, int], ...]


def _cell_layout() -> tuple[list[Decision], dict[tuple[int, int], int], dict[int, int],
                            dict[int, int], list[tuple[str, int, int | None]]]:
    """Decisions of one cell (names without the cell prefix) and their positions."""
    decs: list[Decision] = []
    op_pos: dict[tuple[int, int], int] = {}     # (node, input) -> position
    in_pos: dict[int, int] = {}                 # node -> position of its input-pair decision
    out_pos: dict[int, int] = {}                # node -> position of its concat decision
    kinds: list[tuple[str, int, int | None]] = []
    for k in NODES:
        if len(PAIRS[k]) > 1:
            in_pos[k] = len(decs)
            decs.append(Decision(f"{k}.inputs", tuple(f"{i}_{j}" for i, j in PAIRS[k])))
            kinds.append(("inputs", k, None))
        for i in range(k):
            op_pos[(k, i)] = len(decs)
            decs.append(Decision(f"{k}<-{i}", OPS))
            kinds.append(("op", k, i))
    for k in CONCAT:
        out_pos[k] = len(decs)
        decs.append(Decision(f"out<-{k}", ("skip_connect",)))
        kinds.append(("out", k, None))
    return decs, op_pos, in_pos, out_pos, kinds


_CELL_DECS, _OP_POS, _IN_POS, _OUT_POS, _KINDS = _cell_layout()
CELL_WIDTH = len(_CELL_DECS)                 # 21
N_DECISIONS = 2 * CELL_WIDTH                 # 42

DECISIONS: tuple[Decision, ...] = tuple(
    Decision(f"{cell}.{d.name}", d.options) for cell in CELLS for d in _CELL_DECS)

#: radix of each genotype digit of one cell: per node (pair, op of lower input, op of higher)
_RADIX: tuple[int, ...] = tuple(r for k in NODES for r in (len(PAIRS[k]), N_OPS, N_OPS))
CELL_SIZE = math.prod(_RADIX)                    # 1,037,664,180 genotypes per cell
N_GENOTYPES = CELL_SIZE * CELL_SIZE               # ~1.08e18


def _graph_node(c: int, k: int) -> int:
    """Node of :data:`GRAPH` of cell ``c``'s node ``k`` (inputs 0 and 1 are graph node 0)."""
    return 0 if k < 2 else 1 + 4 * c + (k - 2)


def _graph() -> tuple[GraphSpec, tuple[tuple[int, int, int], ...]]:
    edges: list[tuple[int, int]] = []
    edge_dec: list[int] = []
    cand: list[tuple[int, int, int]] = []       # (cell, node, input) of each candidate edge
    out = 1 + 4 * len(CELLS)
    for c in range(len(CELLS)):
        base = c * CELL_WIDTH
        for kind, k, i in _KINDS:
            if kind == "op":
                assert i is not None
                edges.append((_graph_node(c, i), _graph_node(c, k)))
                edge_dec.append(base + _OP_POS[(k, i)])
                cand.append((c, k, i))
            elif kind == "out":
                edges.append((_graph_node(c, k), out))
                edge_dec.append(base + _OUT_POS[k])
    spec = GraphSpec(n_nodes=out + 1, edges=tuple(edges), edge_decisions=tuple(edge_dec),
                     ops=PRIMITIVES, zero_ops=("none",), identity_ops=("skip_connect",))
    return spec, tuple(cand)


#: the cell DAG of both cells (see the module docstring)
GRAPH, _CANDIDATES = _graph()
_N_CAND_PER_CELL = len(_OP_POS)   # 14

#: renumberings of the four intermediate nodes (inputs 0 and 1 stay)
_PERMS: tuple[dict[int, int], ...] = tuple(
    {0: 0, 1: 1, **dict(zip(NODES, p))} for p in itertools.permutations(NODES))

_EXAMPLE = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
            "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
            "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
            "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
            "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
            "reduce_concat=[2, 3, 4, 5])")


# --------------------------------------------------------------------------------------------
# cell <-> choices
# --------------------------------------------------------------------------------------------


def _cell_nodes(choices: Sequence[int], c: int) -> CellNodes:
    """Cell ``c`` of a choice vector as (node, lower input, higher input, op lo, op hi)."""
    base = c * CELL_WIDTH
    out = []
    for k in NODES:
        i, j = PAIRS[k][choices[base + _IN_POS[k]]] if k in _IN_POS else PAIRS[k][0]
        out.append((i, j, choices[base + _OP_POS[(k, i)]], choices[base + _OP_POS[(k, j)]]))
    return tuple(out)


def _cell_choices(nodes: CellNodes) -> list[int]:
    """The 21 decisions of one cell (unused edges and concatenations at option 0)."""
    out = [0] * CELL_WIDTH
    for k, (i, j, oi, oj) in zip(NODES, nodes):
        if k in _IN_POS:
            out[_IN_POS[k]] = _PAIR_INDEX[k][(i, j)]
        out[_OP_POS[(k, i)]] = oi
        out[_OP_POS[(k, j)]] = oj
    return out


def _node(k: int, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int, int, int]:
    """Node ``k`` reading (input, op) ``a`` and ``b``, ordered by input."""
    (i, oi), (j, oj) = sorted((a, b))
    return (i, j, oi, oj)


def _cell_index(nodes: CellNodes) -> int:
    idx = 0
    for k, (i, j, oi, oj) in zip(NODES, nodes):
        for d, r in zip((_PAIR_INDEX[k][(i, j)], oi, oj), (len(PAIRS[k]), N_OPS, N_OPS)):
            idx = idx * r + d
    return idx


def _cell_from_index(idx: int) -> CellNodes:
    digits = []
    for r in reversed(_RADIX):
        idx, d = divmod(idx, r)
        digits.append(d)
    digits.reverse()
    out = []
    for n, k in enumerate(NODES):
        p, oi, oj = digits[3 * n: 3 * n + 3]
        i, j = PAIRS[k][p]
        out.append((i, j, oi, oj))
    return tuple(out)


#: input pairs of a cell's nodes -> the renumberings that keep every node after its inputs
_VALID_PERMS: dict[tuple[tuple[int, int], ...], tuple[dict[int, int], ...]] = {}


def _valid_perms(pairs: tuple[tuple[int, int], ...]) -> tuple[dict[int, int], ...]:
    hit = _VALID_PERMS.get(pairs)
    if hit is None:
        hit = tuple(p for p in _PERMS
                    if all(p[i] < p[k] and p[j] < p[k] for k, (i, j) in zip(NODES, pairs)))
        _VALID_PERMS[pairs] = hit
    return hit


def _canonical_cell(nodes: CellNodes) -> tuple[int, ...]:
    """The renumbering of one cell's intermediate nodes whose node list (each node as
    ``(input_lo, input_hi, op_lo, op_hi)``) is smallest, as the cell's 21 decisions."""
    best = nodes
    for perm in _valid_perms(tuple((i, j) for i, j, _, _ in nodes)):
        new = list(nodes)
        for k, (i, j, oi, oj) in zip(NODES, nodes):
            new[perm[k] - 2] = _node(perm[k], (perm[i], oi), (perm[j], oj))
        cand = tuple(new)
        if cand < best:   # nodes in order, each as (inputs, ops)
            best = cand
    return tuple(_cell_choices(best))


# --------------------------------------------------------------------------------------------
# the space
# --------------------------------------------------------------------------------------------


@register("space", "darts", aliases=("nb301", "nasbench301", "nas-bench-301"))
class DartsSpace(SearchSpace):
    """The DARTS / NAS-Bench-301 cell space: ~1.08e18 genotypes (normal x reduction cell)."""

    name = "darts"
    decisions = DECISIONS
    graph_spec = GRAPH
    has_canonical = True
    ops = OPS
    primitives = PRIMITIVES

    def __init__(self) -> None:
        self._canon: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._sizes = tuple(d.size for d in DECISIONS)

    # --- genotype views ---------------------------------------------------------------------
    def cells(self, arch: Architecture) -> tuple[CellNodes, CellNodes]:
        """(normal, reduce) as per-node ``(input_lo, input_hi, op_lo, op_hi)`` (op indices
        into :data:`OPS`)."""
        ch = self.validate(arch).choices
        return _cell_nodes(ch, 0), _cell_nodes(ch, 1)

    def _from_cells(self, normal: CellNodes, reduce: CellNodes) -> Architecture:
        return Architecture(self.name, tuple(_cell_choices(normal) + _cell_choices(reduce)))

    def normalize(self, arch: Architecture) -> Architecture:
        """``arch`` with the ops of unused candidate edges reset (the same genotype)."""
        return self._from_cells(*self.cells(arch))

    def genotype(self, arch: Architecture) -> Any:
        """The DARTS code's ``Genotype`` of ``arch`` (pairs of a node ordered by input)."""
        cells = []
        for nodes in self.cells(arch):
            pairs: list[tuple[str, int]] = []
            for i, j, oi, oj in nodes:
                pairs += [(OPS[oi], i), (OPS[oj], j)]
            cells.append(pairs)
        return Genotype(normal=cells[0], normal_concat=list(CONCAT),
                        reduce=cells[1], reduce_concat=list(CONCAT))

    def from_genotype(self, genotype: Any) -> Architecture:
        """The architecture of a DARTS ``Genotype`` (any object with its four fields)."""
        try:
            parts = [getattr(genotype, f) for f in Genotype._fields]
        except AttributeError:
            raise InvalidArchitectureError(
                f"a DARTS genotype needs the fields {', '.join(Genotype._fields)}, got "
                f"{type(genotype).__name__}") from None
        return self._build(repr(genotype), parts[0], parts[1], parts[2], parts[3])

    def to_compact(self, arch: Architecture) -> tuple[tuple[tuple[int, int], ...], ...]:
        """NASLib's compact form: per cell 8 ``(input, op id)`` pairs, op ids of :data:`OPS`."""
        out = []
        for nodes in self.cells(arch):
            cell: list[tuple[int, int]] = []
            for i, j, oi, oj in nodes:
                cell += [(i, oi), (j, oj)]
            out.append(tuple(cell))
        return tuple(out)

    def format_compact(self, arch: Architecture) -> str:
        """The compact form as NASLib writes it: ``[[(0, 3), (1, 3), ...], [...]]``."""
        return str([list(c) for c in self.to_compact(arch)])

    def from_compact(self, compact: Any, *, text: str | None = None) -> Architecture:
        """The architecture of NASLib's compact form (``(input, op id)`` pairs)."""
        what = text if text is not None else repr(compact)
        if not isinstance(compact, (list, tuple)) or len(compact) != 2:
            raise InvalidArchitectureError(
                f"DARTS compact arch {what!r} must be two cells (normal, reduce) of 8 "
                f"(input, op id) pairs, got {type(compact).__name__}"
                f"{'' if not isinstance(compact, (list, tuple)) else f' of length {len(compact)}'}")
        cells = []
        for cname, cell in zip(CELLS, compact):
            if not isinstance(cell, (list, tuple)):
                raise InvalidArchitectureError(
                    f"DARTS compact arch {what!r}: the {cname} cell must be a list of 8 "
                    f"(input, op id) pairs, got {cell!r}")
            pairs = []
            for p, item in enumerate(cell):
                if (not isinstance(item, (list, tuple)) or len(item) != 2
                        or not all(type(v) is int for v in item)):
                    raise InvalidArchitectureError(
                        f"DARTS compact arch {what!r}: {cname} pair {p} must be (input, op id) "
                        f"with two integers, got {item!r}")
                inp, op = item
                if not 0 <= op < N_OPS:
                    raise InvalidArchitectureError(
                        f"DARTS compact arch {what!r}: {cname} pair {p} {tuple(item)!r} has op id "
                        f"{op}; op ids are 0..{N_OPS - 1} ({', '.join(OPS)})")
                pairs.append((OPS[op], inp))
            cells.append(pairs)
        return self._build(what, cells[0], list(CONCAT), cells[1], list(CONCAT))

    def _build(self, text: str, normal: Any, normal_concat: Any, reduce: Any,
               reduce_concat: Any) -> Architecture:
        cells = []
        for cname, cell, concat in (("normal", normal, normal_concat),
                                    ("reduce", reduce, reduce_concat)):
            cells.append(self._cell(text, cname, cell))
            try:
                ok = sorted(int(v) for v in concat) == list(CONCAT) and len(concat) == len(CONCAT)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise InvalidArchitectureError(
                    f"DARTS genotype {text!r}: {cname}_concat must be [2, 3, 4, 5] (every "
                    f"intermediate node; this space has no other), got {concat!r}")
        return self._from_cells(cells[0], cells[1])

    @staticmethod
    def _cell(text: str, cname: str, cell: Any) -> CellNodes:
        if not isinstance(cell, (list, tuple)) or len(cell) != 2 * len(NODES):
            n = len(cell) if isinstance(cell, (list, tuple)) else None
            raise InvalidArchitectureError(
                f"DARTS genotype {text!r}: {cname} must be a list of {2 * len(NODES)} "
                f"(op, input) pairs, two per node 2..5, got "
                + (f"{n} pairs" if n is not None else f"{type(cell).__name__}"))
        nodes = []
        for n, k in enumerate(NODES):
            got = []
            for p in (2 * n, 2 * n + 1):
                item = cell[p]
                if (not isinstance(item, (list, tuple)) or len(item) != 2
                        or not isinstance(item[0], str) or type(item[1]) is not int):
                    raise InvalidArchitectureError(
                        f"DARTS genotype {text!r}: {cname} pair {p} must be (op name, input "
                        f"node), got {item!r}")
                op, inp = item
                if op not in OPS:
                    hint = (" ('none' is a supernet op; discrete DARTS cells have no 'none' "
                            "edge)" if op == "none" else did_you_mean(op, OPS))
                    raise InvalidArchitectureError(
                        f"DARTS genotype {text!r}: unknown op {op!r} in {cname} pair {p} "
                        f"{tuple(item)!r}{hint}; ops are {', '.join(OPS)}")
                if not 0 <= inp < k:
                    raise InvalidArchitectureError(
                        f"DARTS genotype {text!r}: {cname} pair {p} {tuple(item)!r} feeds node "
                        f"{k}, which reads inputs 0..{k - 1}, got input {inp}")
                got.append((inp, OPS.index(op)))
            if got[0][0] == got[1][0]:
                raise InvalidArchitectureError(
                    f"DARTS genotype {text!r}: {cname} node {k} (pairs {2 * n} and {2 * n + 1}) "
                    f"reads input {got[0][0]} twice; a node's two inputs must differ")
            nodes.append(_node(k, got[0], got[1]))
        return tuple(nodes)

    # --- notation -------------------------------------------------------------------------
    def format(self, arch: Architecture) -> str:
        """``str()`` of the DARTS code's Genotype (concat as a list)."""
        g = self.genotype(arch)
        return (f"Genotype(normal={g.normal!r}, normal_concat={g.normal_concat!r}, "
                f"reduce={g.reduce!r}, reduce_concat={g.reduce_concat!r})")

    def parse(self, text: str) -> Architecture:
        """Parse a DARTS ``Genotype(...)`` string or NASLib's compact ``[[(input, op id), ...],
        [...]]``; InvalidArchitectureError names the bad part."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"a DARTS genotype must be a string, got {type(text).__name__}")
        s = text.strip()
        if not s:
            raise InvalidArchitectureError(f"empty DARTS genotype {text!r}; example: {_EXAMPLE}")
        try:
            tree = ast.parse(s, mode="eval").body
        except SyntaxError as e:
            raise InvalidArchitectureError(
                f"DARTS genotype {text!r} is not a Genotype(...) expression ({e.msg} at "
                f"column {e.offset}); example: {_EXAMPLE}") from None
        if isinstance(tree, (ast.List, ast.Tuple)):
            return self.from_compact(self._literal(text, tree, "the compact arch"), text=text)
        if not isinstance(tree, ast.Call) or _call_name(tree) != "Genotype":
            raise InvalidArchitectureError(
                f"DARTS genotype {text!r} must be Genotype(normal=..., normal_concat=..., "
                f"reduce=..., reduce_concat=...) or NASLib's compact [[(input, op id), ...], "
                f"[...]]; example: {_EXAMPLE}")
        fields = list(Genotype._fields)
        if len(tree.args) > len(fields):
            raise InvalidArchitectureError(
                f"DARTS genotype {text!r} has {len(tree.args)} positional fields, at most 4 "
                f"({', '.join(fields)})")
        given: dict[str, Any] = {}
        for name, node in zip(fields, tree.args):
            given[name] = node
        for kw in tree.keywords:
            if kw.arg not in fields:
                raise InvalidArchitectureError(
                    f"DARTS genotype {text!r}: unknown field {kw.arg!r}"
                    f"{did_you_mean(str(kw.arg), fields)}; fields are {', '.join(fields)}")
            if kw.arg in given:
                raise InvalidArchitectureError(f"DARTS genotype {text!r}: field {kw.arg!r} is given twice")
            given[kw.arg] = kw.value
        missing = [f for f in fields if f not in given]
        if missing:
            raise InvalidArchitectureError(
                f"DARTS genotype {text!r} lacks field(s) {', '.join(missing)}")
        vals = {}
        for f in fields:
            node = given[f]
            if f.endswith("_concat") and isinstance(node, ast.Call) and _call_name(node) == "range":
                vals[f] = list(range(*self._literal(text, ast.Tuple(node.args, ast.Load()), f)))
            else:
                vals[f] = self._literal(text, node, f)
        return self._build(text, vals["normal"], vals["normal_concat"], vals["reduce"],
                           vals["reduce_concat"])

    @staticmethod
    def _literal(text: str, node: ast.AST, what: str) -> Any:
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError):
            raise InvalidArchitectureError(
                f"DARTS genotype {text!r}: {what} must be a literal, got "
                f"{ast.unparse(node)!r}") from None

    def validate(self, arch: Architecture) -> Architecture:
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"expected an Architecture, got {type(arch).__name__}")
        if arch.space != self.name:
            raise InvalidArchitectureError(
                f"architecture belongs to space {arch.space!r}, expected {self.name!r}")
        ch = arch.choices
        if (not isinstance(ch, tuple) or len(ch) != N_DECISIONS
                or not all(type(v) is int and 0 <= v < s for v, s in zip(ch, self._sizes))):
            raise InvalidArchitectureError(
                f"DARTS choices must be {N_DECISIONS} decision indices (see "
                f"DartsSpace.decisions), got {ch!r}")
        return arch

    # --- sampling and moves ---------------------------------------------------------------
    def __len__(self) -> int:
        """Number of genotypes (isomorphic ones counted separately)."""
        return N_GENOTYPES

    def index(self, arch: Architecture) -> int:
        """The genotype's number in 0..len-1 (normal cell most significant)."""
        n, r = self.cells(arch)
        return _cell_index(n) * CELL_SIZE + _cell_index(r)

    def from_index(self, index: int) -> Architecture:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) \
                or not 0 <= int(index) < N_GENOTYPES:
            raise InvalidArchitectureError(
                f"DARTS genotype index must be an integer in 0..{N_GENOTYPES - 1}, got {index!r}")
        n, r = divmod(int(index), CELL_SIZE)
        return self._from_cells(_cell_from_index(n), _cell_from_index(r))

    def enumerate(self) -> Iterator[Architecture]:
        """Every genotype in index order (lazily: there are ~1.08e18)."""
        return (self.from_index(i) for i in range(N_GENOTYPES))

    def sample(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random genotype (each node: a uniform input pair and two uniform ops)."""
        cells = []
        for _ in CELLS:
            nodes = []
            for k in NODES:
                i, j = PAIRS[k][int(rng.integers(len(PAIRS[k])))]
                oi, oj = (int(v) for v in rng.integers(N_OPS, size=2))
                nodes.append((i, j, oi, oj))
            cells.append(tuple(nodes))
        return self._from_cells(cells[0], cells[1])

    def _moves(self, arch: Architecture) -> list[Architecture]:
        cells = list(self.cells(arch))
        out = []
        for c in range(len(CELLS)):
            nodes = cells[c]
            for n, (k, (i, j, oi, oj)) in enumerate(zip(NODES, nodes)):
                for slot in (0, 1):
                    cur = (oi, oj)[slot]
                    for op in range(N_OPS):
                        if op != cur:
                            node = (i, j, op, oj) if slot == 0 else (i, j, oi, op)
                            out.append(self._replace(cells, c, n, node))
                for slot in (0, 1):
                    keep = ((j, oj) if slot == 0 else (i, oi))
                    moved = (oi, oj)[slot]
                    for t in range(k):
                        if t not in (i, j):
                            out.append(self._replace(cells, c, n, _node(k, (t, moved), keep)))
        return out

    def _replace(self, cells: list[CellNodes], c: int, n: int,
                 node: tuple[int, int, int, int]) -> Architecture:
        new = list(cells)
        new[c] = cells[c][:n] + (node,) + cells[c][n + 1:]
        return self._from_cells(new[0], new[1])

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """The 120 genotypes one move away: an edge's op changed (16 edges x 6 ops) or one
        input of a node (3..5) moved to another free input, the edge keeping its op (24).
        Cell-major, node, then op changes before input moves."""
        return iter(self._moves(arch))

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A uniformly chosen neighbour (one op change or one input move)."""
        moves = self._moves(arch)
        return moves[int(rng.integers(len(moves)))]

    # --- isomorphism ----------------------------------------------------------------------
    def canonical(self, arch: Architecture) -> Architecture:
        """Unused edges reset, then the smallest renumbering of each cell's intermediate
        nodes (see the module docstring)."""
        ch = self.validate(arch).choices
        hit = self._canon.get(ch)
        if hit is None:
            hit = (_canonical_cell(_cell_nodes(ch, 0)) + _canonical_cell(_cell_nodes(ch, 1)))
            if len(self._canon) >= 200_000:
                self._canon.clear()
            self._canon[ch] = hit
        return Architecture(self.name, hit)

    # --- encodings ------------------------------------------------------------------------
    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        """The base encodings; ``onehot`` of the normalized arch (unused candidate edges at their
        first op), so that it depends on the genotype only. ``index`` is the raw decision
        vector."""
        return super().encode(self.normalize(arch) if kind == "onehot" else arch, kind)

    # --- graph ----------------------------------------------------------------------------
    def graph(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        """The op-on-node graph of :data:`GRAPH` (38 nodes) with every unused candidate edge
        labelled ``none`` (so reducing the graph leaves the genotype's 16 ops)."""
        adj, feats = super().graph(arch)
        cells = self.cells(arch)
        none = 2 + PRIMITIVES.index("none")
        for e, (c, k, i) in enumerate(self._candidate_rows()):
            if i is not None and i not in cells[c][k - 2][:2]:
                feats[1 + e] = 0.0
                feats[1 + e, none] = 1.0
        return adj, feats

    def _candidate_rows(self) -> list[tuple[int, int, int | None]]:
        """(cell, node, input or None for a concat edge) of each GRAPH edge."""
        rows: list[tuple[int, int, int | None]] | None = self.__dict__.get("_rows")
        if rows is None:
            rows = []
            for c in range(len(CELLS)):
                for kind, k, i in _KINDS:
                    if kind == "op":
                        rows.append((c, k, i))
                    elif kind == "out":
                        rows.append((c, k, None))
            self.__dict__["_rows"] = rows
        return rows

    def __repr__(self) -> str:
        return "DartsSpace()"


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return ""
