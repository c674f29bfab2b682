"""Builders for registry workbooks (exchange.md §1) used by the import tests: xlsx, CSV folder, zip of CSVs."""

from __future__ import annotations

import csv
import datetime as dt
import random
import zipfile
from pathlib import Path
from typing import Any

import openpyxl

from devdata.identities import synthetic_name, synthetic_national_id
from tests.base import TODAY, World

Sheets = dict[str, list[list[Any]]]

PATIENT_HEADER = [
    "ref",
    "national_id",
    "name",
    "sex",
    "birth_date",
    "village_code",
    "disorder",
    "registered_on",
    "consent",
    "status",
    "status_date",
    "lost_reason",
    "death_cause",
    "phone",
    "guardian_name",
]
FOLLOWUP_HEADER = [
    "ref",
    "patient_ref",
    "date",
    "mode",
    "outcome",
    "risk_level",
    "insight",
    "symptoms",
    "adherence",
    "hospitalisation",
    "classification",
    "next_date",
    "family_support",
    "self_harm",
]


def day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def national_id(seed: int, born: dt.date, sex: int) -> str:
    return synthetic_national_id(random.Random(seed), "320508", born, sex)


def patient_row(ref: str, village: str, *, seed: int, sex: int = 1, **over: Any) -> list[Any]:
    born = dt.date(1970, 1, 1) + dt.timedelta(days=seed)
    values = {
        "ref": ref,
        "national_id": national_id(seed, born, sex),
        "name": synthetic_name(random.Random(seed)),
        "sex": sex,
        "birth_date": born.isoformat(),
        "village_code": village,
        "disorder": 1,
        "registered_on": day(400),
        "consent": 1,
        "status": "ACTIVE",
        "status_date": None,
        "lost_reason": None,
        "death_cause": None,
        "phone": "13800001111",
        "guardian_name": None,
    }
    values.update(over)
    return [values[k] for k in PATIENT_HEADER]


def followup_row(ref: str, patient_ref: str, days_ago: int, **over: Any) -> list[Any]:
    values = {
        "ref": ref,
        "patient_ref": patient_ref,
        "date": day(days_ago),
        "mode": 2,
        "outcome": "REACHED",
        "risk_level": 0,
        "insight": 1,
        "symptoms": "1,3",
        "adherence": 1,
        "hospitalisation": 0,
        "classification": 3,
        "next_date": day(days_ago - 90),
        "family_support": 1,
        "self_harm": 0,
    }
    values.update(over)
    return [values[k] for k in FOLLOWUP_HEADER]


def valid_sheets(world: World) -> Sheets:
    """Three patients (one transferred from A1 to A2, one dead), follow-ups, medication, rehab, a health check."""
    a1, a2 = world.village_a1.code, world.village_a2.code
    return {
        "patients": [
            list(PATIENT_HEADER),  # a copy: a test may add a column
            patient_row("P1", a1, seed=1),
            patient_row("P2", a2, seed=2, sex=2),
            patient_row("P3", a1, seed=3, status="DEAD", status_date=day(30), death_cause=2),
        ],
        "transfers": [
            ["patient_ref", "from_village_code", "to_village_code", "requested_on", "accepted_on"],
            ["P2", a1, a2, day(200), day(190)],
        ],
        "followups": [
            list(FOLLOWUP_HEADER),
            followup_row("F1", "P1", 300),
            followup_row("F2", "P1", 200, risk_level=None),  # reached without a risk level: kept
            followup_row("F3", "P2", 100),
            followup_row(
                "F4",
                "P3",
                60,
                outcome="NOT_REACHED",
                mode=3,
                risk_level=None,
                insight=None,
                symptoms=None,
                adherence=None,
                hospitalisation=None,
                classification=None,
                next_date=None,
            ),
        ],
        "medications": [
            ["followup_ref", "drug", "morning_mg", "noon_mg", "evening_mg", "depot_every_weeks", "depot_mg"],
            ["F1", "利培酮", 1, None, 2, None, None],
            ["F3", "棕榈酸帕利哌酮", None, None, None, 4, 150],
        ],
        "rehab": [["patient_ref", "provider_type", "start_date", "end_date"], ["P1", "clubhouse", day(250), None]],
        "health_checks": [["patient_ref", "date"], ["P1", day(120)]],
    }


def write_xlsx(path: Path, sheets: Sheets) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def write_csv_folder(folder: Path, sheets: Sheets) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in sheets.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(["" if v is None else v for v in row] for row in rows)
    return folder


def write_zip(path: Path, sheets: Sheets) -> Path:
    folder = write_csv_folder(path.with_suffix(""), sheets)
    with zipfile.ZipFile(path, "w") as archive:
        for file in folder.iterdir():
            archive.write(file, f"export/{file.name}")
    return path
