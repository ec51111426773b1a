"""Search spaces: which architectures exist and how to move between them (no torch)."""

from naslab.spaces.base import Architecture, SearchSpace, get_space

__all__ = ["Architecture", "SearchSpace", "get_space"]
