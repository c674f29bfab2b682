"""Opening a file by what it holds: its bytes decide its kind, the name only which kind the user meant.

.xlsx/.xlsm, .xls and .ods are workbooks: any of the three is read by its content whatever the extension says
(exporters save .xlsx content as .xls). A file whose content is no workbook — empty, text renamed to .xlsx, a
web page saved as .xls (a habit of older report systems), a truncated download — is refused with a message that
says what it is. A .zip holds CSV files; a .csv is one sheet (named by the file); a folder holds ``<sheet>.csv``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.utils.translation import gettext as _

from .archives import GuardedZip
from .calamine import CalamineSource
from .csvfiles import CsvFolderSource, ZipCsvSource
from .limits import Limits
from .problems import TabularError
from .sheets import TabularSource
from .xlsx import XlsxSource

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
SUFFIXES = (*WORKBOOK_SUFFIXES, ".zip", ".csv")
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _what_it_is(head: bytes) -> str:
    """A few words on content that is no workbook, for the message."""
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        return _("网页（HTML）")
    if lowered.startswith(b"<?xml"):
        return _("XML文本")
    if head.startswith(b"%PDF"):
        return _("PDF文件")
    if b"\x00" not in head[:512]:
        return _("文本")
    return _("其他格式")


def _open_workbook(path: Path, label: str, limits: Limits, head: bytes) -> TabularSource:
    if head.startswith(OLE_MAGIC):
        return CalamineSource(path, label, limits)
    if not head.startswith(ZIP_MAGIC):
        message = _(
            "“%(name)s”不是Excel或WPS表格文件（内容是%(kind)s）：请用Excel打开，另存为.xlsx后再导入；"
            "CSV文件请使用 .csv 扩展名。"
        )
        raise TabularError(message % {"name": label, "kind": _what_it_is(head)})
    archive = GuardedZip(path, label, limits)
    names = archive.names()
    if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
        return XlsxSource(archive, path, limits)
    mimetype = archive.info("mimetype")
    if mimetype is not None and archive.zip.read(mimetype)[:100].startswith(ODS_MIMETYPE):
        return CalamineSource(path, label, limits, archive=archive)
    archive.close()
    message = _("“%(name)s”是压缩包，不是Excel或WPS表格文件：CSV文件打包的压缩包请使用 .zip 扩展名。")
    raise TabularError(message % {"name": label})


def open_source(
    path: str | Path,
    *,
    label: str | None = None,
    limits: Limits | None = None,
    lone_csv: Callable[[str], str] | None = None,
) -> TabularSource:
    """Open *path*: a folder of CSV files, a workbook (.xlsx, .xls, .ods), a .zip of CSV files, or one .csv.

    *label* is how messages name the file (default: its own name); an upload passes the name the user gave it.
    *lone_csv* names the sheet a lone .csv file is, from the file's stem (default: the stem itself).
    """
    path = Path(path)
    label = label or path.name
    limits = limits or Limits.current()
    if path.is_dir():
        return CsvFolderSource([p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"], label, limits)
    if not path.is_file():
        raise TabularError(_("找不到文件或文件夹：%(path)s") % {"path": label})
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TabularError(
            _("不支持的文件类型：%(name)s（请提供 .xlsx、.xls、.ods、.csv、CSV文件打包的 .zip，或装有CSV文件的文件夹）")
            % {"name": label}
        )
    with path.open("rb") as handle:
        head = handle.read(1024)
    if not head:
        raise TabularError(_("“%(name)s”是空文件（0字节）：请重新导出或上传。") % {"name": label})
    if suffix in WORKBOOK_SUFFIXES:
        return _open_workbook(path, label, limits, head)
    if suffix == ".zip":
        if not head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
            message = _("“%(name)s”不是zip压缩文件（内容是%(kind)s）。")
            raise TabularError(message % {"name": label, "kind": _what_it_is(head)})
        return ZipCsvSource(GuardedZip(path, label, limits), limits)
    return CsvFolderSource([path], label, limits, sheet=lone_csv(path.stem) if lone_csv else None)
