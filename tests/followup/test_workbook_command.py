"""``manage.py import_workbook``: the report it prints and its exit status."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casemgmt.accounts.models import User
from followup.management.commands.import_workbook import SYSTEM_USERNAME
from registry.models import Patient
from tests.base import World
from tests.followup.workbook_base import PATIENT_HEADER, valid_sheets, write_xlsx, write_zip

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_workbook", *args, stdout=out)
    return out.getvalue()


def test_a_clean_workbook_prints_counts_per_sheet(world: World, tmp_path: Path) -> None:
    output = run(str(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world))))
    assert "patients：新增 3，更新 0，未变 0" in output and "followups：新增 4" in output and "导入完成" in output
    system = User.objects.get(username=SYSTEM_USERNAME)
    assert not system.is_active and not system.has_usable_password()
    assert Patient.objects.filter(created_by=system).count() == 3
    again = run(str(write_xlsx(tmp_path / "book.xlsx", valid_sheets(world))))
    assert "patients：新增 0，更新 0，未变 3" in again


def test_dry_run_writes_nothing(world: World, tmp_path: Path) -> None:
    output = run(str(write_zip(tmp_path / "book.zip", valid_sheets(world))), "--dry-run")
    assert "试运行" in output and Patient.objects.count() == 2


def test_problems_are_printed_and_the_exit_status_is_not_zero(world: World, tmp_path: Path) -> None:
    sheets = valid_sheets(world)
    sheets["patients"][1][PATIENT_HEADER.index("sex")] = 2
    sheets["patients"][2][PATIENT_HEADER.index("disorder")] = None
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_workbook", str(write_xlsx(tmp_path / "b.xlsx", sheets)), stdout=out)
    assert raised.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("工作表“patients”第2行“sex”列：性别与身份证号不符")
    assert lines[1] == "工作表“patients”第3行“disorder”列：不能为空。"
    assert "共发现 2 个问题" in lines[2]
    assert Patient.objects.count() == 2


def test_a_missing_file_is_a_command_error(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="找不到文件或文件夹"):
        run(str(tmp_path / "nothing.xlsx"))


@pytest.mark.django_db(transaction=True)
def test_the_exit_status_from_a_shell(world: World, tmp_path: Path) -> None:
    """The real process: status 1 and the report on stdout (what an operator's script sees)."""
    import os
    import subprocess

    from django.db import connection

    sheets = valid_sheets(world)
    sheets["followups"][1][2] = "2999-01-01"
    path = write_xlsx(tmp_path / "b.xlsx", sheets)
    if connection.vendor != "postgresql":
        pytest.skip("the subprocess needs a shared database")
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    result = subprocess.run(  # noqa: S603
        [".venv/bin/python", "manage.py", "import_workbook", str(path)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("工作表“followups”第2行“date”列：日期不能晚于今天")
    assert "共发现 1 个问题" in result.stdout
