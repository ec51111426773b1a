"""Architecture (plain data) and the SearchSpace interface."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from naslab.errors import InvalidArchitectureError


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
    """

    name: str = ""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random architecture."""

    @abstractmethod
    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One random local move; the result differs from ``arch``."""

    @abstractmethod
    def neighbors(self, arch: Architecture) -> Iterator[Architecture]:
        """All architectures one local move away, in a fixed order."""

    @abstractmethod
    def canonical(self, arch: Architecture) -> Architecture:
        """The representative of ``arch``'s isomorphism class (equal for isomorphic archs)."""

    @abstractmethod
    def encode(self, arch: Architecture, kind: str = "onehot") -> np.ndarray:
        """A fixed-length numeric encoding of ``arch``."""

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

    def encodings(self) -> list[str]:
        """Names accepted by :meth:`encode`."""
        return ["onehot"]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@functools.lru_cache(maxsize=None)
def get_space(name: str) -> SearchSpace:
    """The shared default instance of the space registered as ``name``."""
    from naslab import registry

    return registry.get("space", name)()  # type: ignore[no-any-return]
