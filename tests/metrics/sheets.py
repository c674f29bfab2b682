"""Reading the report's spreadsheet back in tests."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook


def level_table(content: bytes, sheet: str) -> dict[str, dict[str, object]]:
    """A level sheet as {area name: {"规范管理率/分子": 7, "规范管理率/率": 0.8, "在册患者": 12, ...}}."""
    rows = list(load_workbook(BytesIO(content))[sheet].iter_rows(values_only=True))
    keys: list[str] = []
    current = ""
    for top, sub in zip(rows[0], rows[1], strict=True):
        current = str(top) if top else current  # a merged label covers its three columns
        keys.append(f"{current}/{sub}" if sub else current)
    return {str(row[0]): dict(zip(keys, row, strict=True)) for row in rows[2:]}
