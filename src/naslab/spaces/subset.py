"""A finite subset of a space: the architectures a local benchmark recorded.

:class:`SubsetSpace` keeps the base space's name, notation, decisions, cell graph and encodings
(its architectures *are* the base space's, so networks, supernets and string forms work
unchanged) and restricts what exists to a list of members - one per isomorphism class when the
base space has a canonical form (an architecture is a member when its canonical form is).
Strategies search it as any finite space:

* ``sample`` draws a member uniformly;
* ``neighbors(a)`` are the members nearest to ``a`` in Hamming distance over the decision
  indices (the smallest distance > 0 at which members exist; in member order), and
  ``mutate`` picks one of them uniformly - on a sparse subset a "local move" jumps to the
  nearest recorded architectures, not to one-edge changes;
* ``index`` / ``from_index`` / ``enumerate`` use the member order (the benchmark's row order).

Architectures built decision by decision (e.g. REINFORCE's policy samples) are usually not
members: validating them raises InvalidArchitectureError naming the subset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from naslab.errors import ConfigError, InvalidArchitectureError
from naslab.spaces.base import Architecture, SearchSpace

__all__ = ["SubsetSpace"]


class SubsetSpace(SearchSpace):
    """The members ``archs`` of space ``base`` (see the module docstring); ``label`` names the
    subset in messages (e.g. the benchmark file)."""

    def __init__(self, base: SearchSpace, archs: Sequence[Architecture], *,
                 label: str = "") -> None:
        if not archs:
            raise ConfigError("a subset space needs at least one architecture")
        self.base = base
        self.name = base.name
        self.decisions = base.decisions
        self.graph_spec = base.graph_spec
        self.has_canonical = base.has_canonical
        self.label = label or f"a subset of {len(archs)} architectures of {base.name!r}"
        members: list[Architecture] = []
        pos: dict[tuple[Any, ...], int] = {}
        for a in archs:
            c = base.canonical(base.validate(a))
            if c.choices in pos:
                raise ConfigError(f"{self.label}: architectures {a} and "
                                  f"{members[pos[c.choices]]} are the same (isomorphic)")
            pos[c.choices] = len(members)
            members.append(c)
        self.members = members
        self._pos = pos
        self._idx = (np.array([base.decision_indices(a) for a in members], dtype=np.int64)
                     if base.decisions else None)

    # finite space --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.members)

    def enumerate(self) -> Iterator[Architecture]:
        return iter(self.members)

    def position(self, arch: Architecture) -> int | None:
        """Member position of ``arch`` (of its canonical form), or None when not a member."""
        hit = self._pos.get(arch.choices)
        if hit is not None:
            return hit
        try:
            c = self.base.canonical(arch)
        except (InvalidArchitectureError, KeyError, TypeError, IndexError):
            return None
        return self._pos.get(c.choices)

    def index(self, arch: Architecture) -> int:
        i = self.position(self.base.validate(arch))
        if i is None:
            raise self._not_member(arch)
        return i

    def from_index(self, index: int) -> Architecture:
        if isinstance(index, bool) or not 0 <= int(index) < len(self.members):
            raise InvalidArchitectureError(f"{self.label}: index must be an integer in "
                                           f"0..{len(self.members) - 1}, got {index!r}")
        return self.members[int(index)]

    def _not_member(self, arch: Architecture) -> InvalidArchitectureError:
        return InvalidArchitectureError(
            f"architecture {self.base.format(arch)} is not among the {len(self.members)} "
            f"architectures of {self.label} (strategies searching it must propose its members: "
            f"sample / mutate / neighbours do; policies over single decisions cannot)")

    def validate(self, arch: Architecture) -> Architecture:
        self.base.validate(arch)
        if self.position(arch) is None:
            raise self._not_member(arch)
        return arch

    # moves ---------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Architecture:
        return self.members[int(rng.integers(len(self.members)))]

    def _nearest(self, arch: Architecture) -> list[int]:
        if self._idx is None:
            raise ConfigError(f"{self.label}: moves need a base space with declared decisions")
        me = np.asarray(self.base.decision_indices(self.base.canonical(arch)), dtype=np.int64)
        dist = (self._idx != me[None, :]).sum(axis=1)
        own = self.position(arch)
        if own is not None:
            dist[own] = 0
        dist = np.where(dist == 0, np.iinfo(np.int64).max, dist)
        if len(self.members) == 1 and own is not None:
            return []
        best = int(dist.min())
        return [int(i) for i in np.flatnonzero(dist == best)]

    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        for i in self._nearest(arch):
            yield self.members[i]

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        near = self._nearest(arch)
        if not near:
            raise ConfigError(f"{self.label} has a single architecture: nothing to move to")
        return self.members[near[int(rng.integers(len(near)))]]

    # the base space's structure ------------------------------------------------------------
    def canonical(self, arch: Architecture) -> Architecture:
        return self.base.canonical(arch)

    def parse(self, text: str) -> Architecture:
        return self.base.parse(text)

    def format(self, arch: Architecture) -> str:
        return self.base.format(arch)

    def decision_indices(self, arch: Architecture) -> tuple[int, ...]:
        return self.base.decision_indices(arch)

    def from_decision_indices(self, idx: Sequence[int]) -> Architecture:
        return self.validate(self.base.from_decision_indices(idx))

    def encodings(self) -> list[str]:
        return self.base.encodings()

    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        return self.base.encode(arch, kind)

    def graph(self, arch: Architecture) -> tuple[np.ndarray, np.ndarray]:
        return self.base.graph(arch)

    def graph_labels(self) -> tuple[str, ...]:
        return self.base.graph_labels()

    def __repr__(self) -> str:
        return f"SubsetSpace({self.base!r}, {len(self.members)} architectures)"
