"""Small, fast random helpers for the generator (plain ``random.Random``; no per-call list building)."""

from __future__ import annotations

import bisect
import itertools
import os
import random
import struct
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

T = TypeVar("T")


class Chooser(Generic[T]):
    """A weighted choice with the cumulative weights computed once."""

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.keys = list(weights)
        self.cumulative = list(itertools.accumulate(float(weights[k]) for k in self.keys))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.keys[bisect.bisect_right(self.cumulative, rng.random() * self.total)]

    def table(self, size: int) -> tuple[T, ...]:
        """The choice as a lookup table: ``table[int(rng.random() * size)]`` picks as ``self(rng)`` does, for
        weights that are whole numbers summing to *size*."""
        if self.total != size or any(not c.is_integer() for c in self.cumulative):
            raise ValueError("the weights must be whole numbers summing to the table size")
        return tuple(self.keys[bisect.bisect_right(self.cumulative, i)] for i in range(size))


def uuid_strings(chunk: int = 4096) -> Iterator[str]:
    """Unique UUIDs as hyphenated lowercase strings (the form ``str(uuid.UUID)`` gives), in increasing order.

    The first 64 bits count up from the current time in milliseconds shifted left by 16 bits (as UUIDv7 puts
    the time first), the last 64 are random. Increasing keys make PostgreSQL append to the unique indexes
    instead of touching random pages, several times faster for millions of rows; the time prefix and the
    random part keep a second run (same seed, same database) from colliding. Row UUIDs are not derived from the
    seed: what must be deterministic is the data (clear columns, decrypted identities), not the keys.
    """
    for key in uuid_keys(chunk):
        yield f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"


def uuid_keys(chunk: int = 4096) -> Iterator[str]:
    """The same UUIDs as 32 hex digits, which both databases accept: for rows whose UUID is not part of an
    encryption's associated data (that needs the hyphenated form ``str(uuid.UUID)`` gives)."""
    counter = (time.time_ns() // 1_000_000) << 16
    while True:
        # A chunk at once: the big-endian counters and the random halves interleaved into one byte string.
        counters = struct.pack(f">{chunk}Q", *range(counter + 1, counter + chunk + 1))
        random_halves = os.urandom(8 * chunk)
        raw = bytearray(16 * chunk)
        for byte in range(8):
            raw[byte::16] = counters[byte::8]
            raw[8 + byte :: 16] = random_halves[byte::8]
        text = raw.hex()
        yield from [text[i : i + 32] for i in range(0, 32 * chunk, 32)]
        counter += chunk


def any_of(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]
