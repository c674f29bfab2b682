"""Who may see an area's indicators: aggregates of an area lying within the user's jurisdiction.

The indicator engine returns aggregates only and selects patients by custody history, so it cannot start from
``Patient.objects.visible_to(user)``; a page or endpoint serving a person calls this first instead. Case-team
members and administrators have no jurisdiction prefixes and therefore see no indicators.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.models import User
from casemgmt.areas import codes
from metrics.models import PdfExport


def may_view_area(user: User, area_code: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    area_prefix = codes.significant_prefix(area_code)
    return any(area_prefix.startswith(prefix) for prefix in user.jurisdiction_prefixes())


def pdf_exports_visible_to(user: User) -> QuerySet[PdfExport]:
    """A PDF export belongs to the user who asked for it; every lookup of exports starts here."""
    return PdfExport.objects.filter(requested_by_id=user.pk)


def get_pdf_export_for_user(request: AuthenticatedHttpRequest, export_id: int, *, write: bool = False) -> PdfExport:
    """The export, if the user asked for it (404 otherwise: missing and someone else's alike).

    Its owner may do everything with it, so ``write`` adds no rule; whether the user may export at all (403) is
    checked by the views before.
    """
    export = pdf_exports_visible_to(request.user).filter(pk=export_id).first()
    if export is None:
        raise Http404
    return export


def scope_levels(user: User) -> list[int]:
    """The levels of the user's membership areas (1 province … 5 village); decides small-count suppression."""
    return [codes.level_of(codes.code_from_prefix(prefix)) for prefix in user.jurisdiction_prefixes()]
