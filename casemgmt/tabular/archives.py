"""Zip archives read under limits: a .zip of CSV files, and the zips inside .xlsx and .ods workbooks.

A member is inflated only as far as the limits allow, whatever the archive claims: the sizes it declares are
checked when it is opened, and the bytes actually inflated are counted while streaming, so a zip bomb (or a lying
header) stops at the limit with a message instead of filling memory or disk. A damaged archive (truncated,
bad checksums) is a :class:`TabularError` whenever the damage shows, at opening or part-way through a member.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

from .limits import Limits, megabytes
from .problems import TabularError

CHUNK = 64 * 1024
OVERLAP = 4096  # bytes of one chunk kept to find a match that straddles two
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def damaged(label: str) -> TabularError:
    message = _("无法读取压缩文件“%(name)s”：文件已损坏或不完整（可能没有上传完整），请重新导出后再试。")
    return TabularError(message % {"name": label})


def too_large(label: str, limit: int) -> TabularError:
    message = _("文件“%(name)s”解压后超过%(limit)s的上限，可能是异常的压缩文件：请拆分后再导入，或联系系统管理员。")
    return TabularError(message % {"name": label, "limit": megabytes(limit)})


class GuardedZip:
    """A zip archive whose members are inflated under a limit (see the module's description)."""

    def __init__(self, path: Path, label: str, limits: Limits) -> None:
        self.label = label
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(path)
            self.members = [info for info in self.zip.infolist() if not info.is_dir()]
        except DAMAGE as exc:
            raise damaged(label) from exc
        if sum(info.file_size for info in self.members) > limits.inflated_bytes:
            self.zip.close()
            raise too_large(label, limits.inflated_bytes)

    def names(self) -> set[str]:
        return {info.filename for info in self.members}

    def info(self, name: str) -> zipfile.ZipInfo | None:
        try:
            return self.zip.getinfo(name)
        except KeyError:
            return None

    def open(self, info: zipfile.ZipInfo, limit: int | None = None) -> IO[bytes]:
        """A stream of the member that raises :class:`TabularError` past *limit* inflated bytes (or damage)."""
        limit = self.limits.inflated_bytes if limit is None else limit
        if info.file_size > limit:
            raise too_large(self.label, limit)
        try:
            raw = self.zip.open(info)
        except DAMAGE as exc:
            raise damaged(self.label) from exc
        return io.BufferedReader(_Counted(raw, limit, self.label), CHUNK)

    def inflate_all(
        self, info: zipfile.ZipInfo, limit: int | None = None, *, scan: re.Pattern[bytes] | None = None
    ) -> list[bytes]:
        """Inflate the whole member once, checking its size and checksum; return what *scan*'s first group matched
        in it (see :meth:`matches`)."""
        return [groups[0] for groups in self.matches(info, limit, scan=scan)]

    def matches(
        self, info: zipfile.ZipInfo, limit: int | None = None, *, scan: re.Pattern[bytes] | None = None
    ) -> Iterator[tuple[bytes, ...]]:
        """Inflate the whole member, checking its size and checksum, and yield the groups of each match of *scan*
        (a pattern matching at most ``OVERLAP`` bytes), in order."""
        tail = b""
        with self.open(info, limit) as stream:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                if scan is not None:
                    window = tail + chunk
                    yield from (m.groups() for m in scan.finditer(window) if m.end() > len(tail))
                    tail = window[-OVERLAP:]

    def check_parts(self, infos: Iterable[zipfile.ZipInfo], limit: int) -> None:
        for info in infos:
            self.inflate_all(info, limit)

    def close(self) -> None:
        self.zip.close()


class _Counted(io.RawIOBase):
    def __init__(self, raw: IO[bytes], limit: int, label: str) -> None:
        self.raw = raw
        self.limit = limit
        self.label = label
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        try:
            data = self.raw.read(min(len(buffer), CHUNK))
        except DAMAGE as exc:
            raise damaged(self.label) from exc
        self.count += len(data)
        if self.count > self.limit:
            raise too_large(self.label, self.limit)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.raw.close()
        super().close()


def iter_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    yield from iter(lambda: stream.read(CHUNK), b"")
