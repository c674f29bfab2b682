"""Small, fast random helpers for the generator (plain ``random.Random``; no per-call list building)."""

from __future__ import annotations

import bisect
import itertools
import os
import random
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Chooser(Generic[T]):
    """A weighted choice with the cumulative weights computed once."""

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.keys = list(weights)
        self.cumulative = list(itertools.accumulate(float(weights[k]) for k in self.keys))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.keys[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def uuid_strings(chunk: int = 4096) -> Iterator[str]:
    """Random (version-less) UUIDs as hyphenated lowercase strings, the form ``str(uuid.UUID)`` gives.

    Row UUIDs are random on purpose, not derived from the seed: the same seed can be loaded twice into one
    database without colliding, and the data that matters (clear columns, decrypted identities) stays
    deterministic.
    """
    while True:
        raw = os.urandom(16 * chunk).hex()
        for i in range(0, 32 * chunk, 32):
            h = raw[i : i + 32]
            yield f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def any_of(rng: random.Random, items: Any) -> Any:
    return items[int(rng.random() * len(items))]
