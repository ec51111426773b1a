"""Search spaces: which architectures exist and how to move between them (no torch)."""

from naslab.spaces.base import Architecture, Decision, GraphSpec, SearchSpace, get_space

#: the space the CLI and the conformance suites use when none is given
DEFAULT_SPACE = "nb201"

__all__ = ["DEFAULT_SPACE", "Architecture", "Decision", "GraphSpec", "SearchSpace", "get_space"]
