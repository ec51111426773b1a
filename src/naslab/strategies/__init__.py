"""Ask/tell black-box strategies (random, evolution, local search, REINFORCE, ...)."""

from naslab.strategies.base import Strategy, Suggestion, Told

__all__ = ["Strategy", "Suggestion", "Told"]
