"""Weight-sharing supernets over cell spaces (imports torch).

A supernet holds, on every edge of every cell, all candidate operations of the space's
:class:`~naslab.spaces.base.GraphSpec`; an architecture is a path through it. The machinery
is layered so that other cell spaces (the DARTS cell) reuse it:

* :class:`MixedEdge` - all candidate ops of one edge (:func:`naslab.nn.ops.make_op`), run
  one at a time, as a weighted sum, or with generated parameters;
* :class:`SearchCell` - the wiring of one cell from a ``GraphSpec``: node 0 is the cell input,
  node ``i`` the sum of its incoming edges (in edge order), the last node the cell output;
* :class:`CellSupernet` - the skeleton-independent API: forward modes, sampling, the arch /
  path / weight conversions, :meth:`~CellSupernet.extract`, BN recalibration, checkpoints;
* a skeleton subclass per space (:class:`NB201Supernet`: NB201's stem, three stages separated
  by residual reduction blocks, head), built through the ``supernet`` registry
  (:func:`naslab.nn.supernets.build_supernet`).

Forward modes (``supernet(x, ...)``, exactly one choice argument):

* **single path** - ``arch=`` an Architecture (one choice shared by all cells, as NB201's
  search code) or a sequence of ``n_cells`` Architectures (one per cell); or ``path=`` op
  indices per edge (``(E,)`` or ``(n_cells, E)``);
* **weighted sum** - ``weights=`` a tensor ``(E, O)`` (shared) or ``(n_cells, E, O)``: edge
  output ``sum_k w[e, k] * op_k(x)`` (``softmax(alpha)`` for DARTS). Ops whose weight is exactly
  zero are not computed; their weight is still added (a zero that carries its gradient), as
  GDAS's hard one-hot forward does, so ``hard - soft.detach() + soft`` weights compute one op
  per edge and pass gradients to every logit;
* **generated weights** (SMASH) - single path plus ``generated=`` a mapping
  ``(cell, edge) -> {parameter name: tensor}`` whose tensors replace the chosen op's own
  parameters in that forward (:func:`torch.func.functional_call`; gradients flow into the
  generator). :meth:`CellSupernet.generated_shapes` lists the conv weights of an arch's path.

BN options (``bn=``): ``"standalone"`` (affine BN with running statistics, the stand-alone
network's) or ``"search"`` (``affine=False, track_running_stats=False``: cell BNs normalise
with batch statistics in train and eval, as NB201's search code; the skeleton keeps its
ordinary BNs). With ``"standalone"`` weight inheritance is exact: the single-path forward of
``arch`` equals the stand-alone network of ``arch`` (:func:`naslab.nn.build_network`) with the
supernet's weights copied in, in train and eval mode, and :meth:`CellSupernet.extract` returns
that network.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union, cast

import numpy as np
import torch
from torch import nn

from naslab.errors import ConfigError, DataError, InvalidArchitectureError, check_int
from naslab.nn.ops import ResNetBasicblock, make_op
from naslab.spaces.base import Architecture, GraphSpec, SearchSpace, get_space

__all__ = ["BN_MODES", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "MixedEdge", "SearchCell",
           "CellSupernet", "NB201Supernet", "load_supernet", "read_checkpoint"]

#: bn option -> (affine, track_running_stats) of the cell ops
BN_MODES: dict[str, tuple[bool, bool]] = {"standalone": (True, True), "search": (False, False)}
CHECKPOINT_FORMAT = "naslab-supernet"
CHECKPOINT_VERSION = 1

#: what selects a path: an arch (shared), one arch per cell, or per-edge op indices
ArchChoice = Union[Architecture, Sequence[Architecture]]
Generated = Mapping[tuple[int, int], Mapping[str, torch.Tensor]]


class MixedEdge(nn.Module):
    """Every candidate op of one cell edge, ``ops[k]`` built by ``make_op(op_names[k], ...)``."""

    def __init__(self, op_names: Sequence[str], C_in: int, C_out: int, stride: int, *,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.op_names = tuple(op_names)
        self.ops = nn.ModuleList([make_op(o, C_in, C_out, stride, affine=affine,
                                          track_running_stats=track_running_stats)
                                  for o in self.op_names])

    def forward(self, x: torch.Tensor, k: int,
                params: Mapping[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Op ``k`` on ``x``; ``params`` replace some of that op's parameters for this call."""
        op = self.ops[k]
        if params:
            from torch.func import functional_call

            out: torch.Tensor = functional_call(op, dict(params), (x,), strict=False)
            return out
        res: torch.Tensor = op(x)
        return res

    def weighted(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``sum_k w[k] * op_k(x)``; ops with ``w[k] == 0`` exactly are skipped (their weight
        is added, a zero carrying its gradient)."""
        live = (w.detach() != 0).tolist()
        out: torch.Tensor | None = None
        skipped: torch.Tensor | None = None
        for k, on in enumerate(live):
            if on:
                term = w[k] * self.ops[k](x)
                out = term if out is None else out + term
            else:
                skipped = w[k] if skipped is None else skipped + w[k]
        if out is None:  # every weight zero: the edge outputs zeros of the right shape
            out = self.ops[0](x).mul(0.0)
        return out if skipped is None else out + skipped


class SearchCell(nn.Module):
    """One cell of a supernet, wired from a :class:`GraphSpec`.

    Edge ``e = (src, dst)`` reads node ``src``: edges from the cell input get ``C_in`` channels
    and ``stride``, the others ``C_out -> C_out`` with stride 1 (NB201's cell). Node ``i`` is
    the sum of the outputs of its incoming edges in edge order; the last node is the output.
    """

    def __init__(self, spec: GraphSpec, C_in: int, C_out: int, stride: int = 1, *,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        self.spec = spec
        mods = []
        for src, _dst in spec.edges:
            cin, s = (C_in, stride) if src == 0 else (C_out, 1)
            mods.append(MixedEdge(spec.ops, cin, C_out, s, affine=affine,
                                  track_running_stats=track_running_stats))
        self.edges = nn.ModuleList(mods)
        incoming: list[list[int]] = [[] for _ in range(spec.n_nodes)]
        for e, (_src, dst) in enumerate(spec.edges):
            incoming[dst].append(e)
        for node in range(1, spec.n_nodes):
            if not incoming[node]:
                raise ConfigError(f"cell graph node {node} has no incoming edge; every node "
                                  f"after the input needs one")
        self._incoming = incoming

    def forward(self, x: torch.Tensor, path: Sequence[int] | None = None,
                weights: torch.Tensor | None = None,
                params: Mapping[int, Mapping[str, torch.Tensor]] | None = None) -> torch.Tensor:
        """Single path (``path[e]`` = op index of edge e, ``params[e]`` generated parameters of
        that op) or weighted sum (``weights`` of shape (edges, ops))."""
        edges = [cast(MixedEdge, m) for m in self.edges]
        src_of = self.spec.edges
        nodes = [x]
        for node in range(1, self.spec.n_nodes):
            acc: torch.Tensor | None = None
            for e in self._incoming[node]:
                inp = nodes[src_of[e][0]]
                if weights is not None:
                    out = edges[e].weighted(inp, weights[e])
                else:
                    assert path is not None
                    out = edges[e](inp, path[e], None if params is None else params.get(e))
                acc = out if acc is None else acc + out
            assert acc is not None
            nodes.append(acc)
        return nodes[-1]


class CellSupernet(nn.Module):
    """The skeleton-independent supernet API (see the module docstring).

    A skeleton subclass builds ``self.cells`` (a ModuleList mixing :class:`SearchCell` s and
    fixed blocks), sets :attr:`network_options` (the stand-alone builder's keyword arguments)
    and implements :meth:`stem_forward` and :meth:`head_forward`; parameter names must mirror
    the stand-alone network's, with ``cells.<i>.edges.<e>.ops.<k>.`` in place of
    ``cells.<i>.edges.<e>.`` (what :meth:`standalone_state_dict` maps).
    """

    #: registry name of the builder (the space's name)
    builder: str = ""
    #: the skeleton's blocks in forward order: SearchCells and fixed blocks
    cells: nn.ModuleList

    def __init__(self, space: SearchSpace | str, *, bn: str = "standalone") -> None:
        super().__init__()
        sp = get_space(space) if isinstance(space, str) else space
        spec = sp.graph_spec
        if spec is None or not sp.decisions:
            raise ConfigError(f"a cell supernet needs a space that declares its decisions and "
                              f"a cell graph (graph_spec); space {sp.name!r} does not")
        if bn not in BN_MODES:
            raise ConfigError(f"supernet bn must be one of {', '.join(BN_MODES)}, got {bn!r}")
        self.space, self.spec, self.bn = sp, spec, bn
        self.affine, self.track_running_stats = BN_MODES[bn]
        self.network_options: dict[str, Any] = {}
        # edge e's decision and, per option of that decision, the index in spec.ops
        lut = []
        for e, d in enumerate(spec.edge_decisions):
            try:
                opts = sp.decisions[d].options
                lut.append(tuple(spec.ops.index(o) for o in opts))
            except (IndexError, ValueError):
                raise ConfigError(f"space {sp.name!r}: graph_spec edge {e} names decision {d}, "
                                  f"whose options must be among graph_spec.ops") from None
        self._lut = lut
        self._path_cache: dict[tuple[Any, ...], tuple[int, ...]] = {}

    # --- structure -------------------------------------------------------------------------
    @property
    def search_cells(self) -> list[SearchCell]:
        """The cells holding mixed edges, in forward order (cell index = position here)."""
        return [m for m in self.cells if isinstance(m, SearchCell)]

    @property
    def n_cells(self) -> int:
        return sum(isinstance(m, SearchCell) for m in self.cells)

    @property
    def n_edges(self) -> int:
        return len(self.spec.edges)

    @property
    def op_names(self) -> tuple[str, ...]:
        return self.spec.ops

    def alpha_shape(self, per_cell: bool = False) -> tuple[int, ...]:
        """Shape of a weight tensor for the weighted-sum forward: (edges, ops), or
        (cells, edges, ops) with one set of weights per cell."""
        base = (self.n_edges, len(self.spec.ops))
        return (self.n_cells, *base) if per_cell else base

    # --- conversions -----------------------------------------------------------------------
    def arch_to_path(self, arch: Architecture) -> tuple[int, ...]:
        """Op index (into ``op_names``) of every edge for ``arch`` (validated by the space)."""
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"expected an Architecture of space "
                                           f"{self.space.name!r}, got {type(arch).__name__}")
        hit = self._path_cache.get(arch.choices)
        if hit is not None and arch.space == self.space.name:
            return hit
        self.space.validate(arch)
        idx = self.space.decision_indices(arch)
        path = tuple(self._lut[e][idx[d]] for e, d in enumerate(self.spec.edge_decisions))
        self._path_cache[arch.choices] = path
        return path

    def path_to_arch(self, path: Sequence[int]) -> Architecture:
        """The architecture whose path is ``path`` (op indices per edge)."""
        p = [int(v) for v in path]
        if len(p) != self.n_edges or not all(0 <= v < len(self.spec.ops) for v in p):
            raise InvalidArchitectureError(f"a path is {self.n_edges} op indices in "
                                           f"0..{len(self.spec.ops) - 1}, got {list(path)!r}")
        idx: dict[int, int] = {}
        for e, d in enumerate(self.spec.edge_decisions):
            try:
                opt = self._lut[e].index(p[e])
            except ValueError:
                raise InvalidArchitectureError(
                    f"edge {e}: op {self.spec.ops[p[e]]!r} is not an option of decision "
                    f"{self.space.decisions[d].name!r}") from None
            if idx.setdefault(d, opt) != opt:
                raise InvalidArchitectureError(f"edges sharing decision "
                                               f"{self.space.decisions[d].name!r} got different "
                                               f"ops in path {p!r}")
        return self.space.from_decision_indices([idx[d] for d in range(len(self.space.decisions))])

    def arch_from_weights(self, weights: torch.Tensor) -> Architecture | list[Architecture]:
        """The argmax op of every edge of a (edges, ops) weight tensor (one arch), or of a
        (cells, edges, ops) tensor (one arch per cell)."""
        w = weights.detach()
        if tuple(w.shape) == self.alpha_shape():
            return self.path_to_arch(w.argmax(-1).tolist())
        if tuple(w.shape) == self.alpha_shape(True):
            return [self.path_to_arch(row) for row in w.argmax(-1).tolist()]
        raise ConfigError(f"weights must have shape {self.alpha_shape()} or "
                          f"{self.alpha_shape(True)}, got {tuple(w.shape)}")

    # --- sampling --------------------------------------------------------------------------
    def sample_arch(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random single path: every decision's option drawn uniformly (SPOS's
        uniform sampling; ops of every edge equally likely)."""
        sizes = [d.size for d in self.space.decisions]
        return self.space.from_decision_indices([int(v) for v in rng.integers(0, sizes)])

    def sample_archs(self, rng: np.random.Generator) -> list[Architecture]:
        """One uniformly random architecture per cell (:meth:`sample_arch` ``n_cells`` times)."""
        return [self.sample_arch(rng) for _ in range(self.n_cells)]

    # --- forward ---------------------------------------------------------------------------
    def stem_forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def head_forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _per_cell(self, arch: Any, path: Any, weights: torch.Tensor | None
                  ) -> tuple[list[tuple[int, ...]] | None, list[torch.Tensor] | None]:
        given = sum(v is not None for v in (arch, path, weights))
        if given != 1:
            raise ConfigError("supernet forward needs exactly one of arch=, path= or weights= "
                              f"(got {given})")
        n = self.n_cells
        if weights is not None:
            if not isinstance(weights, torch.Tensor):
                raise ConfigError(f"weights must be a tensor, got {type(weights).__name__}")
            shape = tuple(weights.shape)
            if shape == self.alpha_shape():
                return None, [weights] * n
            if shape == self.alpha_shape(True):
                return None, [weights[c] for c in range(n)]
            raise ConfigError(f"weights must have shape {self.alpha_shape()} (shared by all "
                              f"cells) or {self.alpha_shape(True)} (per cell), got {shape}")
        if arch is not None:
            if isinstance(arch, Architecture):
                return [self.arch_to_path(arch)] * n, None
            archs = list(arch)
            if len(archs) != n:
                raise ConfigError(f"one architecture per cell needs {n} architectures, got "
                                  f"{len(archs)}")
            return [self.arch_to_path(a) for a in archs], None
        rows = path.tolist() if isinstance(path, (torch.Tensor, np.ndarray)) else list(path)
        if rows and isinstance(rows[0], (list, tuple)):
            if len(rows) != n:
                raise ConfigError(f"a per-cell path needs {n} rows, got {len(rows)}")
            return [self._check_path(r) for r in rows], None
        return [self._check_path(rows)] * n, None

    def _check_path(self, p: Sequence[int]) -> tuple[int, ...]:
        out = tuple(int(v) for v in p)
        if len(out) != self.n_edges or not all(0 <= v < len(self.spec.ops) for v in out):
            raise ConfigError(f"a path is {self.n_edges} op indices in "
                              f"0..{len(self.spec.ops) - 1}, got {list(p)!r}")
        return out

    def forward(self, x: torch.Tensor, arch: ArchChoice | None = None, *,
                path: Any = None, weights: torch.Tensor | None = None,
                generated: Generated | None = None) -> torch.Tensor:
        """Logits of the chosen path(s) / weighted mixture (see the module docstring)."""
        paths, ws = self._per_cell(arch, path, weights)
        if generated is not None and paths is None:
            raise ConfigError("generated= weights go with a single path (arch= or path=), not "
                              "with weights=")
        gen_by_cell: dict[int, dict[int, Mapping[str, torch.Tensor]]] = {}
        if generated:
            for key, params in generated.items():
                c, e = key
                if not (0 <= c < self.n_cells and 0 <= e < self.n_edges):
                    raise ConfigError(f"generated weights key {key!r} must be (cell, edge) with "
                                      f"cell < {self.n_cells} and edge < {self.n_edges}")
                gen_by_cell.setdefault(c, {})[e] = params
        h = self.stem_forward(x)
        c = 0
        for m in self.cells:
            if isinstance(m, SearchCell):
                if paths is not None:
                    h = m(h, path=paths[c], params=gen_by_cell.get(c))
                else:
                    assert ws is not None
                    h = m(h, weights=ws[c])
                c += 1
            else:
                h = m(h)
        return self.head_forward(h)

    def generated_shapes(self, arch: ArchChoice, *, kinds: tuple[type[nn.Module], ...] = (
            nn.Conv2d,)) -> dict[tuple[int, int], dict[str, torch.Size]]:
        """For SMASH: ``(cell, edge) -> {parameter name: shape}`` of the weights of modules of
        ``kinds`` (default: convolutions) in the op each edge of ``arch``'s path runs; names are
        relative to the op, as ``generated=`` takes them. Edges whose op has none are left out."""
        paths, _ = self._per_cell(arch, None, None)
        assert paths is not None
        out: dict[tuple[int, int], dict[str, torch.Size]] = {}
        for c, cell in enumerate(self.search_cells):
            for e, k in enumerate(paths[c]):
                edge = cast(MixedEdge, cell.edges[e])
                op: nn.Module = edge.ops[k]
                shapes: dict[str, torch.Size] = {}
                for name, mod in op.named_modules():
                    w = getattr(mod, "weight", None)
                    if isinstance(mod, kinds) and isinstance(w, torch.Tensor):
                        shapes[f"{name}.weight" if name else "weight"] = w.shape
                if shapes:
                    out[(c, e)] = shapes
        return out

    # --- inheritance -----------------------------------------------------------------------
    def standalone_state_dict(self, arch: Architecture) -> dict[str, torch.Tensor]:
        """The state dict of ``arch``'s stand-alone network (:func:`naslab.nn.build_network`)
        with the supernet's weights: the skeleton's tensors and, on each edge, those of the op
        ``arch`` chooses (tensors are shared, not copied)."""
        path = self.arch_to_path(arch)
        cell_pos = {i for i, m in enumerate(self.cells) if isinstance(m, SearchCell)}
        out: dict[str, torch.Tensor] = {}
        for key, t in self.state_dict(keep_vars=False).items():
            parts = key.split(".")
            if (len(parts) > 5 and parts[0] == "cells" and int(parts[1]) in cell_pos
                    and parts[2] == "edges" and parts[4] == "ops"):
                e, k = int(parts[3]), int(parts[5])
                if k != path[e]:
                    continue
                key = ".".join(parts[:4] + parts[6:])
            out[key] = t
        return out

    def extract(self, arch: Architecture) -> nn.Module:
        """``arch``'s stand-alone network (its space's builder) with the supernet's weights
        copied in, on the supernet's device, in the supernet's train / eval mode. Needs
        ``bn="standalone"`` (with search BN the stand-alone network has parameters and
        statistics the supernet does not)."""
        if self.bn != "standalone":
            raise ConfigError(f"extract() needs a supernet with bn='standalone' (this one has "
                              f"bn={self.bn!r}: its cell BNs have no affine parameters or "
                              f"running statistics to copy); train the derived architecture "
                              f"from scratch instead")
        from naslab.nn.networks import build_network

        gen = torch.Generator(device="cpu")
        gen.manual_seed(0)  # every weight is overwritten below
        net = build_network(arch, generator=gen, **self.network_options)
        try:
            net.load_state_dict(self.standalone_state_dict(arch), strict=True)
        except RuntimeError as exc:  # a skeleton that does not mirror its network: a bug
            raise ConfigError(f"supernet {type(self).__name__} does not mirror the stand-alone "
                              f"network of {arch}: {exc}") from None
        dev = next(self.parameters()).device
        return net.to(dev).train(self.training)

    # --- BN recalibration ------------------------------------------------------------------
    @torch.no_grad()
    def recalibrate_bn(self, arch: ArchChoice, batches: Iterable[torch.Tensor]) -> int:
        """Reset every BN's running statistics and recompute them for ``arch`` as the exact
        average over ``batches`` (train-mode forwards, no gradients; BN momentum None while
        doing so). Returns the number of batches used. The supernet ends in eval mode.
        Deterministic: the same batches give the same statistics. BNs off ``arch``'s path
        keep reset statistics; BNs without running statistics (``bn="search"`` cells) are
        untouched."""
        bns = [m for m in self.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
        saved = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        n = 0
        self.train()
        try:
            for xb in batches:
                if isinstance(arch, Architecture):
                    self(xb, arch=arch)
                else:
                    self(xb, arch=list(arch))
                n += 1
        finally:
            for m, mom in zip(bns, saved):
                m.momentum = mom
            self.eval()
        if n == 0:
            raise ConfigError("BN recalibration needs at least one batch, got none")
        return n

    # --- checkpoints -----------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """What fixes the supernet's shape (checked when a checkpoint is loaded)."""
        return {"builder": self.builder, "space": self.space.name, "bn": self.bn,
                "ops": list(self.spec.ops), "edges": [list(e) for e in self.spec.edges],
                **{k: v for k, v in sorted(self.network_options.items())}}

    def save(self, path: str | Path, *, meta: Mapping[str, Any] | None = None) -> Path:
        """Write config + weights (+ JSON-able ``meta``) to ``path`` atomically (torch.save of
        plain containers and tensors, loadable with ``weights_only=True``)."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        blob = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
                "config": self.config(), "meta": dict(meta or {}),
                "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()}}
        tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            torch.save(blob, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
        return p

    def load(self, path: str | Path) -> dict[str, Any]:
        """Load a checkpoint's weights into this supernet (its config must equal this one's;
        otherwise ConfigError naming the differences). Returns the checkpoint's ``meta``."""
        blob = read_checkpoint(path)
        check_config(blob["config"], self.config(), path)
        dev = next(self.parameters()).device
        self.load_state_dict({k: v.to(dev) for k, v in blob["state_dict"].items()}, strict=True)
        return dict(blob["meta"])


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A supernet checkpoint's content (``torch.load(weights_only=True)``), format-checked."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"supernet checkpoint {p} does not exist")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input
        raise DataError(f"{p} is not a readable naslab supernet checkpoint "
                        f"({type(exc).__name__}: {exc})") from None
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise DataError(f"{p} is not a naslab supernet checkpoint (format "
                        f"{blob.get('format') if isinstance(blob, dict) else type(blob).__name__!r},"
                        f" expected {CHECKPOINT_FORMAT!r})")
    v = blob.get("version")
    if not isinstance(v, int) or v > CHECKPOINT_VERSION:
        raise DataError(f"{p} is a supernet checkpoint of version {v!r}; this naslab reads "
                        f"versions up to {CHECKPOINT_VERSION}")
    for key in ("config", "meta", "state_dict"):
        if not isinstance(blob.get(key), dict):
            raise DataError(f"{p}: supernet checkpoint lacks its {key!r} section")
    return cast(dict[str, Any], blob)


def check_config(found: Mapping[str, Any], expected: Mapping[str, Any],
                 path: str | Path) -> None:
    """ConfigError unless a checkpoint's config equals the expected one (names each field that
    differs: space, width, depth, classes, input channels, BN mode, ops)."""
    keys = sorted(set(found) | set(expected))
    diffs = [f"{k}: checkpoint {found.get(k)!r}, expected {expected.get(k)!r}"
             for k in keys if found.get(k) != expected.get(k)]
    if diffs:
        raise ConfigError(f"supernet checkpoint {path} does not fit: " + "; ".join(diffs))


def load_supernet(path: str | Path, *, expect: Mapping[str, Any] | None = None,
                  device: str = "cpu") -> tuple[CellSupernet, dict[str, Any]]:
    """The supernet saved in ``path`` (rebuilt from its config through the ``supernet``
    registry) and the checkpoint's ``meta``. ``expect``: config fields the checkpoint must
    have (e.g. ``{"space": "nb201", "num_classes": 10}``), else ConfigError."""
    from naslab.nn.supernets import build_supernet

    blob = read_checkpoint(path)
    cfg = dict(blob["config"])
    if expect:
        diffs = [f"{k}: checkpoint {cfg.get(k)!r}, expected {v!r}" for k, v in expect.items()
                 if cfg.get(k) != v]
        if diffs:
            raise ConfigError(f"supernet checkpoint {path} does not fit: " + "; ".join(diffs))
    options = {k: v for k, v in cfg.items() if k not in ("builder", "space", "ops", "edges")}
    gen = torch.Generator(device="cpu")
    gen.manual_seed(0)
    net = build_supernet(cfg.get("space", ""), generator=gen, **options)
    check_config(cfg, net.config(), path)
    net.load_state_dict(blob["state_dict"], strict=True)
    return net.to(device), dict(blob["meta"])


class NB201Supernet(CellSupernet):
    """NAS-Bench-201's skeleton with mixed-op cells (NB201's ``TinyNetwork`` search models).

    Stem 3x3 conv + BN; three stages of ``N`` search cells (``C``, ``2C``, ``4C`` channels)
    separated by the residual reduction block; BN + ReLU, global average pooling, linear
    classifier - the stand-alone :class:`~naslab.nn.nb201.NB201Network`'s layout and
    parameter names, so that :meth:`extract` is a rename.
    """

    builder = "nb201"

    def __init__(self, space: SearchSpace | str = "nb201", *, C: int = 16, N: int = 5,
                 num_classes: int = 10, in_channels: int = 3, bn: str = "standalone") -> None:
        super().__init__(space, bn=bn)
        C = check_int("C", C, minimum=1)
        N = check_int("N", N, minimum=1)
        num_classes = check_int("num_classes", num_classes, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        self.C, self.N, self.num_classes, self.in_channels = C, N, num_classes, in_channels
        self.network_options = {"C": C, "N": N, "num_classes": num_classes,
                                "in_channels": in_channels}
        self.stem = nn.Sequential(nn.Conv2d(in_channels, C, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(C))
        cells: list[nn.Module] = []
        c_prev = C
        for stage, c in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                cells.append(ResNetBasicblock(c_prev, c, 2))
            for _ in range(N):
                cells.append(SearchCell(self.spec, c, c, 1, affine=self.affine,
                                        track_running_stats=self.track_running_stats))
            c_prev = c
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def stem_forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(f"supernet input must be a (batch, {self.in_channels}, H, W) "
                              f"tensor, got shape {tuple(x.shape)}")
        out: torch.Tensor = self.stem(x)
        return out

    def head_forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.global_pooling(self.lastact(x)).flatten(1)
        logits: torch.Tensor = self.classifier(out)
        return logits

    def extra_repr(self) -> str:
        return (f"C={self.C}, N={self.N}, num_classes={self.num_classes}, "
                f"in_channels={self.in_channels}, bn={self.bn!r}, cells={self.n_cells}")
