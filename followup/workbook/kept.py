"""What the checking pass parsed, kept for the writing pass so the file is read and parsed only once.

Each sheet's parsed rows (what ``rows.parse_*`` returned, in file order) are kept pickled in batches: a row of
the followups sheet takes some 150 bytes this way instead of the 600 of its objects, so the 100,000 patients and
400,000 follow-ups of issue 15 §8 come to about 85 MB. Beyond ``IN_MEMORY`` bytes (32 MB: most of that file, and
a province's) the batches go to an unnamed temporary file, each encrypted with AES-GCM under a key made for this
load and held only in this process's memory: the rows carry identity and clinical values, and the file is
unreadable once the process lets go of it (it has no name on disk, and the key dies with the load). Memory
stays bounded whatever the size of the workbook, and the file costs nothing measurable (the 100,000 patients
spilled whole: 178 s and a peak of 238 MB, against 160-190 s and 321 MB all in memory; docs/performance.md).
Once the checking pass has found a problem nothing will be written: what was kept is dropped, nothing more kept.
"""

from __future__ import annotations

import dataclasses
import io
import operator
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .cells import ProblemLog, RowCheck

BATCH = 1000  # rows per pickled batch, and per batch the writing pass handles
IN_MEMORY = 32 * 2**20  # bytes of pickled batches kept in memory; more go to the encrypted temporary file
NONCE = 12

T = TypeVar("T")
Parse = Callable[[RowCheck], T]  # one of ``rows.parse_*``: the kept rows of a sheet are known by their parser


class _Pickler(pickle.Pickler):
    """Pickles a dataclass instance as its class and a tuple of its field values.

    Python's own way for a dataclass with slots calls ``dataclasses.fields`` for every instance and sets every
    field back one call at a time. Here the values are read with one ``attrgetter`` per class and passed back to
    the class (the rows' dataclasses have every field in ``__init__`` and no ``__post_init__``): on 1,000
    follow-up rows 5 ms to pickle instead of 12, 10 ms to unpickle instead of 12. On the whole checking pass of
    issue 15 §8 the gain was within the machine's noise (42.2 s against 43.4 s with the standard pickler).
    """

    def reducer_override(self, obj: object) -> object:
        cls = type(obj)
        if cls not in _GETTERS:
            _GETTERS[cls] = _getter(cls)
        getter = _GETTERS[cls]
        return NotImplemented if getter is None else (_remake, (cls, getter(obj)))


_GETTERS: dict[type, Callable[[object], tuple[object, ...]] | None] = {}


def _getter(cls: type) -> Callable[[object], tuple[object, ...]] | None:
    """The values of an instance's fields, in order (None: not a dataclass, pickled as usual)."""
    if not dataclasses.is_dataclass(cls):
        return None
    names = [f.name for f in dataclasses.fields(cls)]
    if len(names) == 1:
        return lambda obj: (getattr(obj, names[0]),)
    return operator.attrgetter(*names)


def _remake(cls: Callable[..., T], values: tuple[object, ...]) -> T:
    return cls(*values)


def _dumps(batch: list[object]) -> bytes:
    out = io.BytesIO()
    _Pickler(out, pickle.HIGHEST_PROTOCOL).dump(batch)
    return out.getvalue()


class _Spill:
    """The encrypted temporary file for the batches beyond ``IN_MEMORY``; a batch is known by (offset, length)."""

    def __init__(self) -> None:
        self.file: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115  (closed by KeptRows.close)
        self.aead = AESGCM(AESGCM.generate_key(bit_length=256))

    def put(self, data: bytes) -> tuple[int, int]:
        nonce = os.urandom(NONCE)
        blob = nonce + self.aead.encrypt(nonce, data, None)
        offset = self.file.seek(0, io.SEEK_END)
        self.file.write(blob)
        return offset, len(blob)

    def get(self, where: tuple[int, int]) -> bytes:
        offset, length = where
        self.file.seek(offset)
        blob = self.file.read(length)
        return self.aead.decrypt(blob[:NONCE], blob[NONCE:], None)


class KeptRows:
    def __init__(self, problems: ProblemLog) -> None:
        self.problems = problems
        self._sealed: dict[Parse[object], list[bytes | tuple[int, int]]] = {}
        self._open: dict[Parse[object], list[object]] = {}
        self._in_memory = 0
        self._spill: _Spill | None = None

    def parse(self, parse: Parse[T], r: RowCheck) -> T:
        """*parse* of the row, kept for the writing pass (a sheet's rows are kept in the order they come)."""
        parsed = parse(r)
        if self.problems:
            self.close()
            return parsed
        batch = self._open.setdefault(parse, [])
        batch.append(parsed)
        if len(batch) >= BATCH:
            self._sealed.setdefault(parse, []).append(self._store(_dumps(batch)))
            batch.clear()
        return parsed

    def batches(self, parse: Parse[T]) -> Iterator[list[T]]:
        """The rows kept from *parse*, in batches in file order; each batch is unpickled as it is asked for."""
        for sealed in self._sealed.get(parse, []):
            data = sealed if isinstance(sealed, bytes) else self._spilled().get(sealed)
            yield cast("list[T]", pickle.loads(data))  # noqa: S301  (bytes pickled by this process just before)
        if rest := self._open.get(parse):
            yield cast("list[T]", list(rest))

    @property
    def spilled(self) -> bool:
        return self._spill is not None

    def close(self) -> None:
        """Let go of everything kept (the temporary file too)."""
        self._sealed.clear()
        self._open.clear()
        self._in_memory = 0
        if self._spill is not None:
            self._spill.file.close()
            self._spill = None

    def _store(self, data: bytes) -> bytes | tuple[int, int]:
        if self._in_memory + len(data) <= IN_MEMORY:
            self._in_memory += len(data)
            return data
        if self._spill is None:
            self._spill = _Spill()
        return self._spill.put(data)

    def _spilled(self) -> _Spill:
        if self._spill is None:
            raise RuntimeError("kept rows were let go of")
        return self._spill
