"""The downloadable template workbook: every sheet, Chinese header labels, the codes in a comment on each header
and an instructions sheet. Built with openpyxl at request time (it is small and always matches the schema)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font

from casemgmt.exports import inert, inert_row
from casemgmt.tabular import SheetSpec
from followup import codes as fcodes
from followup.models import CaseCloseReason, EmergencyDisposition, EmergencySituation
from registry import codes as rcodes

from .cells import choices_text, numbered_choices_text
from .schema import SHEETS, CaseOpening, TransferOutcome, label

if TYPE_CHECKING:
    from django.db.models import Choices

CODES: dict[tuple[str, str], str | type[Choices]] = {
    ("areas", "level"): "1 省、2 市、3 县/区、4 乡镇/街道、5 村/社区",
    ("patients", "sex"): rcodes.Sex,
    ("patients", "household_type"): rcodes.HouseholdType,
    ("patients", "employment"): rcodes.Employment,
    ("patients", "disorder"): rcodes.Disorder,
    ("patients", "consent"): rcodes.Consent,
    ("patients", "status"): rcodes.Status,
    ("patients", "lost_reason"): rcodes.LostReason,
    ("patients", "death_cause"): rcodes.DeathCause,
    ("patients", "economic_status"): rcodes.EconomicStatus,
    ("followups", "mode"): fcodes.Mode,
    ("followups", "outcome"): fcodes.Outcome,
    ("followups", "risk_level"): "0—5",
    ("followups", "insight"): fcodes.Insight,
    ("followups", "symptoms"): fcodes.Symptom,
    ("followups", "social_selfcare"): fcodes.Grade,
    ("followups", "social_housework"): fcodes.Grade,
    ("followups", "social_work"): fcodes.WorkGrade,
    ("followups", "social_learning"): fcodes.Grade,
    ("followups", "social_contact"): fcodes.Grade,
    ("followups", "adherence"): fcodes.Adherence,
    ("followups", "hospitalisation"): fcodes.Hospitalisation,
    ("followups", "classification"): fcodes.Classification,
    ("followups", "family_support"): "1 是、0 否",
    ("followups", "referral"): fcodes.Referral,
    ("followups", "lost_reason"): rcodes.LostReason,
    ("followups", "death_cause"): rcodes.DeathCause,
    ("transfers", "outcome"): TransferOutcome,
    ("status_history", "status"): rcodes.Status,
    ("status_history", "lost_reason"): rcodes.LostReason,
    ("status_history", "death_cause"): rcodes.DeathCause,
    ("emergencies", "risk_level"): "0—5",
}
# Columns that take a code by its key, its number in the list or its Chinese name (exchange.md §1, version 2).
NUMBERED: dict[tuple[str, str], type[Choices]] = {
    ("rehab", "provider_type"): fcodes.RehabProvider,
    ("cases", "opened_because"): CaseOpening,
    ("cases", "close_reason"): CaseCloseReason,
    ("emergencies", "situations"): EmergencySituation,
    ("emergencies", "disposition"): EmergencyDisposition,
}
MULTI = {("followups", "symptoms"), ("cases", "opened_because"), ("emergencies", "situations")}
TEXT_COLUMNS = {"code", "area_code", "national_id", "phone", "guardian_phone", "village_code", "from_village_code",
                "to_village_code", "ref", "patient_ref", "followup_ref"}  # fmt: skip
DATE_HINT = "YYYY-MM-DD"
MOMENT_HINT = "YYYY-MM-DD HH:MM"


def code_hint(sheet: str, key: str) -> str:
    numbered = NUMBERED.get((sheet, key))
    hint = numbered_choices_text(numbered) if numbered is not None else CODES.get((sheet, key))
    if hint is None:
        if key.endswith("_at"):
            return MOMENT_HINT
        return DATE_HINT if key.endswith(("date", "_on")) or key == "date" else ""
    text = hint if isinstance(hint, str) else choices_text(hint)
    return f"{text}\n{_('可填多个，用逗号分隔')}" if (sheet, key) in MULTI else text


def _header(spec: SheetSpec, key: str) -> tuple[str, str]:
    required = _("必填") if key in spec.required else _("选填")
    note = f"{key} · {required}"
    hint = code_hint(spec.name, key)
    return label(spec, key), f"{note}\n{hint}" if hint else note


def build_template() -> bytes:
    book = Workbook()
    guide = book.create_sheet(_("说明"))
    book.remove(book.worksheets[0])
    guide.append(inert_row([_("工作表"), _("列名（英文）"), _("列名（中文）"), _("必填"), _("代码 / 格式")]))
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for spec in SHEETS:
        sheet = book.create_sheet(spec.name)
        for column, key in enumerate(spec.columns, start=1):
            text, note = _header(spec, key)
            cell = sheet.cell(row=1, column=column, value=inert(text))
            cell.font = Font(bold=True)
            cell.comment = Comment(note, "jingfang", width=320, height=140)
            if key in TEXT_COLUMNS:  # Excel would round an 18-digit ID number typed into a number cell
                sheet.column_dimensions[cell.column_letter].number_format = "@"
            sheet.column_dimensions[cell.column_letter].width = max(12, len(text) * 2 + 4)
            guide.append(
                inert_row([spec.name, key, text, "✓" if key in spec.required else "", code_hint(spec.name, key)])
            )
        sheet.freeze_panes = "A2"
    guide.append([])
    guide.append(
        inert_row([_("第一行为列名，可用英文列名或中文列名；空白单元格表示“不详”。日期填 YYYY-MM-DD 或Excel日期。")])
    )
    guide.append(inert_row([_("除patients外的工作表均可省略；整个文件全部通过检查才会写入，重复导入不会重复写入。")]))
    guide.append(
        inert_row(
            [
                _(
                    "第2版：可省略的工作表可以为空或只有列名行；康复机构类型、开案原因、结案原因、应急处置的情形和处置结果可填英文代码、序号或中文名称。"
                )
            ]
        )
    )
    for letter, width in zip("ABCDE", (14, 20, 18, 6, 60), strict=True):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
