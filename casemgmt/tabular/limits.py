"""The reader's limits, from settings (``TABULAR_*``, see casemgmt/settings.py), read when a file is opened so a
test or a deployment may change them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

CSV_MAX_LINE_CHARS = 1_000_000  # one physical CSV line; a longer one would be read whole into memory


@dataclass(frozen=True)
class Limits:
    inflated_bytes: int  # all members of one archive together, inflated
    part_bytes: int  # one workbook part parsed whole in memory (shared strings, styles, an .ods's content)
    cell_chars: int  # one cell
    rows: int  # one sheet, blank rows included
    grid_cells: int  # one .xls or .ods sheet, held whole by calamine

    @classmethod
    def current(cls) -> Limits:
        return cls(
            inflated_bytes=settings.TABULAR_MAX_INFLATED_BYTES,
            part_bytes=settings.TABULAR_MAX_PART_BYTES,
            cell_chars=settings.TABULAR_MAX_CELL_CHARS,
            rows=settings.TABULAR_MAX_ROWS,
            grid_cells=settings.TABULAR_MAX_GRID_CELLS,
        )


def megabytes(size: int) -> str:
    return f"{size / 1024**2:.0f} MB" if size >= 1024**2 else f"{size} B"
