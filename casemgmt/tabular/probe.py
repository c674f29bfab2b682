"""How large are the sheets of an .xls or .ods, asked of python-calamine in a child process whose address space is
capped, before the file is read here.

calamine reads a sheet whole into a dense grid spanning its first to its last filled cell: a 6 KB .xls with
one cell in A1 and one in IV65536 costs about 1 GB (an .ods can do the same with repeated rows). The child
measures each sheet under ``PROBE_ADDRESS_SPACE``; a file that needs more kills the child, and a sheet whose grid
exceeds ``TABULAR_MAX_GRID_CELLS`` is refused — so the reading that follows here stays within that bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE_ADDRESS_SPACE = 1024**3
PROBE_TIMEOUT = 300
PROBE = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
import python_calamine as pc
book = pc.CalamineWorkbook.from_path(sys.argv[1])
sizes = {}
for meta in book.sheets_metadata:
    if meta.typ == pc.SheetTypeEnum.WorkSheet:
        sheet = book.get_sheet_by_name(meta.name)
        sizes[meta.name] = [sheet.height, sheet.width]
        del sheet
print(json.dumps(sizes))
"""


class ProbeFailed(Exception):
    """The child could not measure the file (too large for its memory, damaged, too slow)."""


def sheet_sizes(path: Path) -> dict[str, tuple[int, int]]:
    """Rows and columns of each worksheet's grid, as calamine would hold it."""
    command = [sys.executable, "-c", PROBE, str(path), str(PROBE_ADDRESS_SPACE)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise ProbeFailed("timeout") from exc
    if done.returncode != 0:
        raise ProbeFailed(done.stderr[-500:])
    return {name: (rows, cols) for name, (rows, cols) in json.loads(done.stdout).items()}
