"""Deterministic seed derivation: one experiment seed, many independent streams."""

from __future__ import annotations

from collections.abc import Callable

_MASK64 = (1 << 64) - 1


def mix64(*values: int) -> int:
    """SplitMix64-style hash of a sequence of integers (deterministic across processes)."""
    z = 0x9E3779B97F4A7C15
    for v in values:
        z = (z ^ (int(v) & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK64
        z ^= z >> 31
    return z


def derive_seed(*values: int) -> int:
    """A non-negative 31-bit seed derived from ``values`` (e.g. experiment seed, trial number)."""
    return mix64(*values) & 0x7FFFFFFF


def seed_deriver(*prefix: int) -> Callable[[int], int]:
    """``n -> derive_seed(*prefix, n)``, with the prefix mixed once (the runner derives one
    seed per trial from the experiment seed: this is its per-trial hot path)."""
    z0 = 0x9E3779B97F4A7C15
    for v in prefix:
        z0 = (z0 ^ (int(v) & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        z0 = (z0 ^ (z0 >> 27)) * 0x94D049BB133111EB & _MASK64
        z0 ^= z0 >> 31

    def derive(n: int) -> int:
        z = (z0 ^ (n & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK64
        return (z ^ (z >> 31)) & 0x7FFFFFFF

    return derive


def run_for_seed(seed: int, index: int) -> int:
    """A well-mixed 64-bit hash of ``(seed, index)``.

    Tabular benchmarks use it to pick which recorded training run a seeded query sees (as
    NB201's API does with ``is_random=True``). The constants are part of every recorded
    tabular trajectory: changing them changes the results of seeded queries.
    """
    z = (int(seed) * 0x9E3779B97F4A7C15 + int(index) * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
