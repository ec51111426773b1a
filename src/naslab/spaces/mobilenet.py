"""MobileNet-style block space: stages of inverted-residual (MBConv) blocks, the space of
ProxylessNAS (Cai et al. 2019), FBNet (Wu et al. 2019) and Once-for-All (Cai et al. 2020); no
torch.

The skeleton is OFA's MobileNetV3 (``ofa_mbv3``): a 3x3 stem (16 channels, stride 2, h-swish),
one fixed depthwise-separable block (16 -> 16), then :data:`N_STAGES` searchable stages of
MBConv blocks, then a 1x1 "final expand" conv (960), global pooling, a 1x1 "feature mix" conv
(1280) and the classifier. Stage ``s`` has width ``WIDTHS[s]``, its first block has stride
``STRIDES[s]``, activation ``ACTS[s]`` and squeeze-excite where the space's ``se`` says so
(OFA: stages 2, 4 and 5).

Decisions (:attr:`MobileNetSpace.decisions`): one per block slot, ``MAX_DEPTH`` = 4 slots per
stage, named ``s<stage>.b<block>`` (stage 1..5, block 0..3). A block's options are the
kernel x expansion pairs ``k3e3, k3e4, k3e6, k5e3, ..., k7e6`` (kernel in {3, 5, 7},
expansion in {3, 4, 6}); slots 2 and 3 also have ``skip`` (the block is absent: the stage's
depth is 2, 3 or 4, as in OFA). ``choices`` are the option indices of the 20 slots; ``skip``
is the last option (index 9) of a skippable slot.

A stage's blocks after the first all map ``width -> width`` with stride 1 and a residual
connection, so where a skipped slot sits does not matter: ``k3e4-k5e6-skip-k7e3`` is the
same network as ``k3e4-k5e6-k7e3`` (``has_canonical``: :meth:`~MobileNetSpace.canonical`
moves the skips of each stage to its end, OFA's "keep the first blocks"). Sampling,
mutation and neighbours return canonical archs; ProxylessNAS / FBNet (a zero op on slots 2
and 3) may derive non-canonical ones, which build the same network.

Notation: stages joined by ``|``, blocks by ``-``; trailing skips are left out, so a depth-2
stage reads ``k3e4-k5e6``: ``k3e4-k5e6|k7e6-k3e3-k5e4|...`` (5 stages). The parser names the
bad token, its stage and block.

Size: per stage ``9^2 + 9^3 + 9^4 = 7371`` distinct block sequences, ``7371^5 = 2.18e19``
distinct networks (OFA reports about 2e19); :meth:`~MobileNetSpace.size` gives the exact
integer (``len()`` is not defined: the count does not fit an index).

Space options (constructor): ``se`` (squeeze-excite per stage: ``"ofa"`` = OFA's stages
2, 4, 5; ``"all"``; ``"none"``) and ``width_mult`` (multiplies every channel count, OFA's
w1.0 / w1.2 spaces). The registered ``mobilenet`` space is ``se="ofa", width_mult=1.0``;
the network builder takes the same two as options to override them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from naslab.errors import ConfigError, InvalidArchitectureError, check_float, did_you_mean
from naslab.registry import register
from naslab.spaces.base import Architecture, Decision, SearchSpace

KERNELS: tuple[int, ...] = (3, 5, 7)
EXPANSIONS: tuple[int, ...] = (3, 4, 6)
DEPTHS: tuple[int, ...] = (2, 3, 4)
MIN_DEPTH, MAX_DEPTH = DEPTHS[0], DEPTHS[-1]
N_STAGES = 5
#: OFA MobileNetV3's stage widths, first-block strides and activations
WIDTHS: tuple[int, ...] = (24, 40, 80, 112, 160)
STRIDES: tuple[int, ...] = (2, 2, 2, 1, 2)
ACTS: tuple[str, ...] = ("relu", "relu", "h_swish", "h_swish", "h_swish")
#: squeeze-excite per stage in OFA MobileNetV3
SE_OFA: tuple[bool, ...] = (False, True, False, True, True)
SE_MODES = ("ofa", "all", "none")
STEM_WIDTH, FIRST_BLOCK_WIDTH, FINAL_EXPAND_WIDTH, FEATURE_MIX_WIDTH = 16, 16, 960, 1280

#: the kernel x expansion options of a block, in option order
BLOCK_OPS: tuple[str, ...] = tuple(f"k{k}e{e}" for k in KERNELS for e in EXPANSIONS)
SKIP = "skip"
N_BLOCK_OPS = len(BLOCK_OPS)
SKIP_INDEX = N_BLOCK_OPS


def block_op(name: str) -> tuple[int, int] | None:
    """``"k5e4"`` -> ``(5, 4)``; ``"skip"`` -> None."""
    if name == SKIP:
        return None
    i = BLOCK_OPS.index(name)
    return KERNELS[i // len(EXPANSIONS)], EXPANSIONS[i % len(EXPANSIONS)]


def op_index(kernel: int, expansion: int) -> int:
    """The option index of block op ``k<kernel>e<expansion>``."""
    return KERNELS.index(kernel) * len(EXPANSIONS) + EXPANSIONS.index(expansion)


@dataclass(frozen=True)
class StageLayout:
    """One searchable stage: output width (before ``width_mult``), first-block stride,
    activation, squeeze-excite."""

    width: int
    stride: int
    act: str
    se: bool


@dataclass(frozen=True)
class BlockLayout:
    """The space's skeleton (what the builder, the supernets and the latency model read)."""

    stages: tuple[StageLayout, ...]
    width_mult: float
    stem_width: int = STEM_WIDTH
    first_block_width: int = FIRST_BLOCK_WIDTH
    final_expand_width: int = FINAL_EXPAND_WIDTH
    feature_mix_width: int = FEATURE_MIX_WIDTH

    def to_json(self) -> dict[str, Any]:
        return {"stages": [[s.width, s.stride, s.act, s.se] for s in self.stages],
                "width_mult": self.width_mult, "stem_width": self.stem_width,
                "first_block_width": self.first_block_width,
                "final_expand_width": self.final_expand_width,
                "feature_mix_width": self.feature_mix_width}


def make_layout(se: str | Sequence[bool] = "ofa", width_mult: float = 1.0) -> BlockLayout:
    """The OFA MobileNetV3 skeleton with squeeze-excite ``se`` and ``width_mult``."""
    if isinstance(se, str):
        if se not in SE_MODES:
            raise ConfigError(f"se must be one of {', '.join(SE_MODES)} or one bool per stage "
                              f"({N_STAGES}), got {se!r}{did_you_mean(se, SE_MODES)}")
        flags = SE_OFA if se == "ofa" else (se == "all",) * N_STAGES
    else:
        flags = tuple(se)
        if len(flags) != N_STAGES or not all(isinstance(f, bool) for f in flags):
            raise ConfigError(f"se must be one of {', '.join(SE_MODES)} or one bool per stage "
                              f"({N_STAGES}), got {se!r}")
    w = check_float("width_mult", width_mult, minimum=0.0, strict_min=True, finite=True)
    return BlockLayout(tuple(StageLayout(c, s, a, f)
                             for c, s, a, f in zip(WIDTHS, STRIDES, ACTS, flags)), float(w))


def _decisions() -> tuple[Decision, ...]:
    out = []
    for s in range(N_STAGES):
        for b in range(MAX_DEPTH):
            opts = BLOCK_OPS + ((SKIP,) if b >= MIN_DEPTH else ())
            out.append(Decision(f"s{s + 1}.b{b}", opts))
    return tuple(out)


DECISIONS: tuple[Decision, ...] = _decisions()
N_SLOTS = len(DECISIONS)
_EXAMPLE = "k3e4-k5e6|k7e6-k3e3-k5e4|k3e3-k3e3-k3e3-k3e3|k5e6-k5e6|k7e4-k7e4-k7e4"


@register("space", "mobilenet")
class MobileNetSpace(SearchSpace):
    """OFA MobileNetV3-style block space: 5 stages x 2-4 MBConv blocks, kernel {3, 5, 7},
    expansion {3, 4, 6} per block (see the module docstring)."""

    name = "mobilenet"
    decisions = DECISIONS
    has_canonical = True
    block_ops = BLOCK_OPS
    kernel_options = KERNELS
    expansion_options = EXPANSIONS
    depth_options = DEPTHS
    n_stages = N_STAGES
    max_depth = MAX_DEPTH
    min_depth = MIN_DEPTH

    def __init__(self, *, se: str | Sequence[bool] = "ofa", width_mult: float = 1.0) -> None:
        self.layout = make_layout(se, width_mult)
        self.se = se if isinstance(se, str) else tuple(se)
        self.width_mult = float(width_mult)

    # size ----------------------------------------------------------------------------------
    def size(self) -> int:
        """Distinct networks: ``(sum_d 9^d for d in 2..4) ** 5`` = 21,758,655,492,572,485,851
        (about 2.2e19, OFA's "2e19")."""
        per_stage = sum(N_BLOCK_OPS ** d for d in DEPTHS)
        return int(per_stage ** N_STAGES)

    def n_vectors(self) -> int:
        """Decision vectors (skips anywhere in slots 2, 3): ``(9*9*10*10) ** 5``."""
        n = 1
        for d in DECISIONS:
            n *= d.size
        return n

    def describe(self) -> dict[str, Any]:
        return {"space": self.name, "size": self.size(), "decision_vectors": self.n_vectors(),
                "layout": self.layout.to_json(), "kernels": list(KERNELS),
                "expansions": list(EXPANSIONS), "depths": list(DEPTHS)}

    # structure helpers ---------------------------------------------------------------------
    @staticmethod
    def stage_slots(stage: int) -> range:
        """Decision indices of stage ``stage`` (0-based)."""
        return range(stage * MAX_DEPTH, (stage + 1) * MAX_DEPTH)

    def blocks(self, arch: Architecture) -> list[list[tuple[int, int]]]:
        """Per stage, the (kernel, expansion) of its blocks in network order (skips removed)."""
        ch = self.validate(arch).choices
        out = []
        for s in range(N_STAGES):
            ops = [block_op(DECISIONS[i].options[ch[i]]) for i in self.stage_slots(s)]
            out.append([o for o in ops if o is not None])
        return out

    def depths(self, arch: Architecture) -> list[int]:
        return [len(b) for b in self.blocks(arch)]

    def from_blocks(self, blocks: Sequence[Sequence[tuple[int, int]]]) -> Architecture:
        """The canonical arch of per-stage (kernel, expansion) lists (depth 2..4 each)."""
        if len(blocks) != N_STAGES:
            raise InvalidArchitectureError(f"mobilenet needs {N_STAGES} stages, got {len(blocks)}")
        ch: list[int] = []
        for s, st in enumerate(blocks):
            if not MIN_DEPTH <= len(st) <= MAX_DEPTH:
                raise InvalidArchitectureError(
                    f"mobilenet stage {s + 1} must have {MIN_DEPTH}..{MAX_DEPTH} blocks, got "
                    f"{len(st)}")
            for k, e in st:
                if k not in KERNELS or e not in EXPANSIONS:
                    raise InvalidArchitectureError(
                        f"mobilenet stage {s + 1}: block (kernel {k}, expansion {e}) is not in "
                        f"kernels {KERNELS} x expansions {EXPANSIONS}")
                ch.append(op_index(k, e))
            ch += [SKIP_INDEX] * (MAX_DEPTH - len(st))
        return Architecture(self.name, tuple(ch))

    # basic protocol ------------------------------------------------------------------------
    def validate(self, arch: Architecture) -> Architecture:
        if not isinstance(arch, Architecture):
            raise InvalidArchitectureError(f"expected an Architecture, got {type(arch).__name__}")
        if arch.space != self.name:
            raise InvalidArchitectureError(
                f"architecture belongs to space {arch.space!r}, expected {self.name!r}")
        ch = arch.choices
        if (not isinstance(ch, tuple) or len(ch) != N_SLOTS
                or not all(type(c) is int and 0 <= c < d.size for c, d in zip(ch, DECISIONS))):
            raise InvalidArchitectureError(
                f"mobilenet choices must be {N_SLOTS} option indices (0..8 for blocks 0-1 of a "
                f"stage, 0..9 for blocks 2-3, 9 = skip), got {ch!r}")
        return arch

    def canonical(self, arch: Architecture) -> Architecture:
        """Skips of every stage moved to its end (the same network)."""
        ch = self.validate(arch).choices
        out: list[int] = []
        for s in range(N_STAGES):
            st = [ch[i] for i in self.stage_slots(s)]
            kept = [c for c in st if c != SKIP_INDEX]
            out += kept + [SKIP_INDEX] * (MAX_DEPTH - len(kept))
        return Architecture(self.name, tuple(out))

    def sample(self, rng: np.random.Generator) -> Architecture:
        """OFA's sampler: per stage a depth uniform in {2, 3, 4}, per block a kernel and an
        expansion uniform (canonical archs; uniform over choices, not over networks)."""
        ch: list[int] = []
        for _ in range(N_STAGES):
            d = DEPTHS[int(rng.integers(len(DEPTHS)))]
            ops = [int(rng.integers(N_BLOCK_OPS)) for _ in range(d)]
            ch += ops + [SKIP_INDEX] * (MAX_DEPTH - d)
        return Architecture(self.name, tuple(ch))

    def _moves(self, arch: Architecture) -> list[Architecture]:
        ch = list(self.canonical(arch).choices)
        out: list[Architecture] = []
        for s in range(N_STAGES):
            slots = list(self.stage_slots(s))
            depth = sum(1 for i in slots if ch[i] != SKIP_INDEX)
            for b in range(depth):
                i = slots[b]
                for o in range(N_BLOCK_OPS):
                    if o != ch[i]:
                        out.append(Architecture(self.name, tuple(ch[:i] + [o] + ch[i + 1:])))
            if depth < MAX_DEPTH:  # a block appended (any op)
                i = slots[depth]
                for o in range(N_BLOCK_OPS):
                    out.append(Architecture(self.name, tuple(ch[:i] + [o] + ch[i + 1:])))
            if depth > MIN_DEPTH:  # the last block removed
                i = slots[depth - 1]
                out.append(Architecture(self.name, tuple(ch[:i] + [SKIP_INDEX] + ch[i + 1:])))
        return out

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One uniformly chosen move of :meth:`neighbors` (of the canonical form): change one
        block's op, append a block to a stage or remove its last block."""
        moves = self._moves(arch)
        return moves[int(rng.integers(len(moves)))]

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """Canonical archs one move away (stage by stage: each block's 8 other ops, a block
        appended with each of 9 ops, the last block removed); none equals ``arch``."""
        seen = {self.canonical(arch)}
        for b in self._moves(arch):
            if b not in seen:
                seen.add(b)
                yield b

    # notation ------------------------------------------------------------------------------
    def format(self, arch: Architecture) -> str:
        ch = self.validate(arch).choices
        stages = []
        for s in range(N_STAGES):
            toks = [DECISIONS[i].options[ch[i]] for i in self.stage_slots(s)]
            while toks and toks[-1] == SKIP:
                toks.pop()
            stages.append("-".join(toks))
        return "|".join(stages)

    def parse(self, text: str) -> Architecture:
        """Parse ``k3e4-k5e6|k7e6-k3e3-k5e4|...``: 5 stages joined by ``|``, each 2 to 4
        blocks ``k<kernel>e<expansion>`` joined by ``-`` (``skip`` allowed in blocks 3-4)."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"mobilenet arch must be a string, got {type(text).__name__}; example: {_EXAMPLE}")
        stages = text.strip().split("|")
        if len(stages) != N_STAGES:
            raise InvalidArchitectureError(
                f"mobilenet arch {text!r} must have {N_STAGES} stages joined by '|', found "
                f"{len(stages)}; example: {_EXAMPLE}")
        ch: list[int] = []
        allowed = (*BLOCK_OPS, SKIP)
        for s, stage in enumerate(stages):
            toks = [t.strip() for t in stage.split("-")]
            if not MIN_DEPTH <= len(toks) <= MAX_DEPTH:
                raise InvalidArchitectureError(
                    f"mobilenet arch {text!r}: stage {s + 1} {stage!r} must have "
                    f"{MIN_DEPTH}..{MAX_DEPTH} blocks joined by '-', found {len(toks)}")
            for b, tok in enumerate(toks):
                if tok not in allowed:
                    raise InvalidArchitectureError(
                        f"mobilenet arch {text!r}: unknown block {tok!r} (stage {s + 1}, block "
                        f"{b + 1}){did_you_mean(tok, allowed)}; a block is k<kernel>e<expansion> "
                        f"with kernel in {{3, 5, 7}} and expansion in {{3, 4, 6}}, or skip")
                if tok == SKIP and b < MIN_DEPTH:
                    raise InvalidArchitectureError(
                        f"mobilenet arch {text!r}: block {b + 1} of stage {s + 1} cannot be "
                        f"'skip' (a stage has at least {MIN_DEPTH} blocks)")
                ch.append(SKIP_INDEX if tok == SKIP else BLOCK_OPS.index(tok))
            ch += [SKIP_INDEX] * (MAX_DEPTH - len(toks))
        return Architecture(self.name, tuple(ch))

    # encodings -----------------------------------------------------------------------------
    def encodings(self) -> list[str]:
        """``onehot`` / ``index`` (of the decisions) and ``ofa``: OFA's accuracy-predictor
        features -- per block slot of the canonical form a one-hot kernel (3) and a one-hot
        expansion (3), zeros for an absent block (120 floats)."""
        return [*super().encodings(), "ofa"]

    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        if kind != "ofa":
            return super().encode(arch, kind)
        out = np.zeros((N_SLOTS, len(KERNELS) + len(EXPANSIONS)), dtype=np.float32)
        for s, st in enumerate(self.blocks(arch)):
            for b, (k, e) in enumerate(st):
                row = s * MAX_DEPTH + b
                out[row, KERNELS.index(k)] = 1.0
                out[row, len(KERNELS) + EXPANSIONS.index(e)] = 1.0
        return out.ravel()

    def __repr__(self) -> str:
        return f"MobileNetSpace(se={self.se!r}, width_mult={self.width_mult})"
