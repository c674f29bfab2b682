# ruff: noqa: E501  (the XML parts are written as Excel writes them, one element a line)
"""Hostile files for the reader's tests and bench (casemgmt.tabular): archives that inflate far beyond their size.

Each is written streaming, so making a bomb of hundreds of megabytes costs no memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="patients" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
SHEET = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"""
STRING = b"<si><t>" + "某某村某某组".encode() * 8 + b"</t></si>"
CHUNK_STRINGS = 10_000


def shared_strings_bomb(path: Path, inflated_bytes: int) -> Path:
    """A valid .xlsx of one cell whose shared strings inflate to about *inflated_bytes* (one string repeated: a few
    hundred KB of file)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", SHEET)
        count = max(1, inflated_bytes // len(STRING))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
            member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for start in range(0, count, CHUNK_STRINGS):
                member.write(STRING * min(CHUNK_STRINGS, count - start))
            member.write(b"</sst>")
    return path


def zip_bomb(path: Path, inflated_bytes: int, header: bytes = b"ref,patient_ref,date,mode,outcome\n") -> Path:
    """A .zip of CSV files: a one-line patients.csv and a followups.csv of *inflated_bytes* of empty lines."""
    block = b"\r\n" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("patients.csv", b"ref,national_id,name,village_code,disorder,registered_on\r\n")
        with archive.open("followups.csv", "w", force_zip64=True) as member:
            member.write(header)
            for start in range(0, inflated_bytes, len(block)):
                member.write(block[: min(len(block), inflated_bytes - start)])
    return path


def understate_size(path: Path, member: str, claimed: int) -> Path:
    """Make a member of a zip (written whole, without zip64) declare *claimed* inflated bytes in its local header
    and in the central directory, whatever it really inflates to."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        central = archive.start_dir
        names = [i.filename for i in archive.infolist()]
    data[info.header_offset + 22 : info.header_offset + 26] = claimed.to_bytes(4, "little")
    for name in names:  # central directory records, in order
        if data[central : central + 4] != b"PK\x01\x02":
            raise ValueError(f"{path.name}: no central directory record at {central}")
        name_len, extra_len, comment_len = (
            int.from_bytes(data[central + i : central + i + 2], "little") for i in (28, 30, 32)
        )
        if name == member:
            data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
        central += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(data))
    return path
