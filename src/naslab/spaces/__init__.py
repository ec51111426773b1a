"""Search spaces: which architectures exist and how to move between them (no torch)."""

from naslab.spaces.base import Architecture, SearchSpace, get_space

DEFAULT_SPACE = "nb201"

__all__ = ["Architecture", "SearchSpace", "get_space"]
