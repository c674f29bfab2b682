"""CSV files: one file, a folder of ``<sheet>.csv`` files, or a .zip of them (members streamed, not extracted).

The encoding is found by reading the file once before its rows: UTF-8 (with or without the byte-order mark Excel
writes) if the whole file is valid UTF-8, else GB18030 (a superset of GBK, what Chinese Excel writes as "CSV"),
else neither — a clear message instead of garbled names. Physical lines are read with a length limit, so one
endless line cannot fill memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, TypeVar

from django.utils.translation import gettext as _

from .archives import CHUNK, DAMAGE, GuardedZip, damaged
from .limits import CSV_MAX_LINE_CHARS, Limits
from .problems import TabularError
from .sheets import TabularSource

FileT = TypeVar("FileT")
Opener = Callable[[], IO[bytes]]
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _decodes(open_bytes: Opener, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with open_bytes() as stream:
        try:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(open_bytes: Opener, label: str) -> str:
    """``utf-8-sig`` (BOM or not) or ``gb18030``; otherwise a :class:`TabularError` saying what the file is."""
    with open_bytes() as stream:
        head = stream.read(8)
    if head.startswith(UTF16_BOMS):
        message = _("“%(name)s”是Unicode文本（UTF-16），不是CSV：请在Excel中另存为“CSV UTF-8（逗号分隔）”后重新导入。")
        raise TabularError(message % {"name": label})
    if head.startswith(BINARY_MAGIC):
        message = _("“%(name)s”的内容是Excel工作簿或压缩包，不是CSV文本：请核对文件的扩展名。")
        raise TabularError(message % {"name": label})
    if _decodes(open_bytes, "utf-8"):
        return "utf-8-sig"
    if _decodes(open_bytes, "gb18030"):
        return "gb18030"
    message = _(
        "“%(name)s”的编码无法识别（既不是UTF-8，也不是GBK/GB18030），或者不是文本文件："
        "请在Excel中另存为“CSV UTF-8（逗号分隔）”后重新导入。"
    )
    raise TabularError(message % {"name": label})


def _lines(stream: IO[str], label: str) -> Iterator[str]:
    number = 0
    while True:
        line = stream.readline(CSV_MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > CSV_MAX_LINE_CHARS:
            message = _("“%(name)s”第%(line)d行过长（超过%(max)d个字符），不是正常的CSV文件。")
            raise TabularError(message % {"name": label, "line": number, "max": CSV_MAX_LINE_CHARS})
        yield line


def csv_rows(open_bytes: Opener, encoding: str, label: str) -> Iterator[Sequence[object]]:
    stream = io.TextIOWrapper(open_bytes(), encoding=encoding, newline="")
    reader = csv.reader(_lines(stream, label))
    try:
        yield from reader
    except UnicodeDecodeError as exc:  # the file changed since its encoding was found
        raise TabularError(_("“%(name)s”的编码无法识别。") % {"name": label}) from exc
    except csv.Error as exc:
        message = _("“%(name)s”第%(line)d行不是有效的CSV（例如单元格过长或引号不成对）。")
        raise TabularError(message % {"name": label, "line": reader.line_num}) from exc
    except DAMAGE as exc:
        raise damaged(label) from exc
    finally:
        stream.close()


def by_sheet_name(files: Iterable[tuple[str, FileT]]) -> dict[str, FileT]:
    """Index CSV files, given as (path, handle), by sheet name: the file name without ``.csv``.

    Two files for one sheet (``areas.csv`` in two folders of a zip, or ``Areas.csv`` beside ``areas.csv``) are
    refused: reading either would be a guess, and the other's rows would be silently ignored.
    """
    found: dict[str, FileT] = {}
    paths: dict[str, str] = {}
    for path, handle in files:
        sheet = PurePosixPath(path.replace("\\", "/")).stem  # some Windows tools write backslashes in zips
        key = sheet.casefold()
        if key in paths:
            raise TabularError(
                _("有两个文件都对应工作表“%(sheet)s”：%(first)s 和 %(second)s，请只保留一个。")
                % {"sheet": sheet, "first": paths[key], "second": path}
            )
        paths[key] = path
        found[sheet] = handle
    return found


class _CsvSource(TabularSource):
    """Sheets that are CSV files; each file's encoding is found once."""

    def __init__(self, label: str, limits: Limits | None) -> None:
        super().__init__(label, limits)
        self._encodings: dict[str, str] = {}

    def _opener(self, name: str) -> tuple[Opener, str]:
        raise NotImplementedError

    def _raw_rows(self, name: str) -> Iterator[Sequence[object]]:
        open_bytes, label = self._opener(name)
        if name not in self._encodings:
            self._encodings[name] = detect_encoding(open_bytes, label)
        return csv_rows(open_bytes, self._encodings[name], label)


class CsvFolderSource(_CsvSource):
    """A folder holding ``<sheet>.csv`` files, or one .csv file (a source with one sheet, whose messages name the
    file by *label*: a stored upload's own name means nothing to the user)."""

    def __init__(
        self, files: Sequence[Path], label: str, limits: Limits | None = None, *, sheet: str | None = None
    ) -> None:
        super().__init__(label, limits)
        self._files = by_sheet_name((f.name, f) for f in sorted(files))
        if sheet is not None and len(self._files) == 1:  # a lone file named as its reader says
            self._files = {sheet: next(iter(self._files.values()))}

    def sheet_names(self) -> list[str]:
        return list(self._files)

    def _opener(self, name: str) -> tuple[Opener, str]:
        path = self._files[name]
        return (lambda: path.open("rb")), (self.label if len(self._files) == 1 else path.name)


class ZipCsvSource(_CsvSource):
    """A .zip of ``<sheet>.csv`` files, at its root or in one folder."""

    def __init__(self, archive: GuardedZip, limits: Limits | None = None) -> None:
        super().__init__(archive.label, limits)
        self._zip = archive
        members = [
            info
            for info in archive.members
            if info.filename.lower().endswith(".csv") and "__MACOSX" not in info.filename
        ]
        if not members:
            archive.close()
            raise TabularError(_("压缩文件“%(name)s”中没有CSV文件。") % {"name": archive.label})
        try:
            self._members = by_sheet_name((m.filename, m) for m in members)
        except TabularError:
            archive.close()
            raise

    def sheet_names(self) -> list[str]:
        return list(self._members)

    def _opener(self, name: str) -> tuple[Opener, str]:
        info = self._members[name]
        return (lambda: self._zip.open(info)), f"{self._zip.label}/{info.filename}"

    def close(self) -> None:
        self._zip.close()
