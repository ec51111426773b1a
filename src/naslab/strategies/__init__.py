"""Ask/tell black-box strategies (random, evolution, local search, REINFORCE, ...)."""

from naslab.strategies.base import Strategy, Suggestion

__all__ = ["Strategy", "Suggestion"]
