"""Deterministic seed derivation: one experiment seed, many independent streams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def seed_deriver(*prefix: int, chunk: int = 256) -> Callable[[int], int]:
    """``n -> derive_seed(*prefix, n)``, with the prefix mixed once (the runner derives one
    seed per trial from the experiment seed: this is its per-trial hot path). Consecutive
    ``n`` are answered from a table of ``chunk`` seeds computed at once (numpy's uint64
    arithmetic wraps modulo 2**64 as the scalar formula's masks do: the same values)."""
    z0 = 0x9E3779B97F4A7C15
    for v in prefix:
        z0 = (z0 ^ (int(v) & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        z0 = (z0 ^ (z0 >> 27)) * 0x94D049BB133111EB & _MASK64
        z0 ^= z0 >> 31
    window: list[Any] = [0, []]  # [first n of the table, the table]: filled below

    def refill(n: int) -> int:
        if not 0 <= n <= _MASK64 - chunk:
            return derive_seed(*prefix, n)
        import numpy as np

        z = np.arange(n, n + chunk, dtype=np.uint64)
        z ^= np.uint64(z0)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        z &= np.uint64(0x7FFFFFFF)
        window[0], window[1] = n, z.tolist()
        return int(window[1][0])

    def derive(n: int) -> int:
        i = n - window[0]
        if 0 <= i < chunk:
            return window[1][i]  # type: ignore[no-any-return]
        return refill(n)

    refill(0)
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
