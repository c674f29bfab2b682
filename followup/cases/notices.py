"""What the doctor is told about the patient's case right after saving a follow-up (domain.md §8).

Called by the visit pages after ``record_followup``; imports only the cases' own services and models.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from followup.cases import services as case_services
from followup.models import Case, CaseOpenReason, FollowUp


def opened_reason_labels(case: Case) -> list[str]:
    labels = dict(CaseOpenReason.choices)
    return [str(labels.get(code, code)) for code in case.opened_reasons]


def tell_after_followup(request: HttpRequest, followup: FollowUp) -> None:
    """Tell the doctor that saving the follow-up opened a case (with the link to build the team), or that the
    last two reached follow-ups were stable, so the open case may be closed."""
    opened = case_services.opened_by_followup(followup)
    if opened is not None:
        link = reverse("followup:case_detail", kwargs={"case_uuid": opened.uuid})
        messages.warning(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("已为该患者开启个案管理（%(reasons)s）。") % {"reasons": "、".join(opened_reason_labels(opened))},
                link,
                _("添加团队成员并制定管理方案"),
            ),
        )
        return
    case = case_services.open_case_of(followup.patient)
    if case is not None and case_services.closing_suggested(case):
        link = reverse("followup:case_detail", kwargs={"case_uuid": case.uuid})
        messages.info(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("最近两次随访病情稳定，可考虑结案。"),
                link,
                _("查看个案"),
            ),
        )
