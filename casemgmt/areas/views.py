"""Area populations by year (the denominators of 报告患病率, domain.md §3 and §11).

Who: system administrators list and edit every area's figure. Area staff (county, city, province) may view the
figures of their own jurisdiction but not change them: the figures are the denominators of their own reports
(报告患病率 against its ≥4.5‰ target), and domain.md §1 gives populations to the administrator, so the one
who is measured does not set the measure. Everyone else gets the site's 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.accounts.manage.access import admin_required, is_administrator
from casemgmt.accounts.models import User
from casemgmt.areas import codes
from casemgmt.areas.forms import PopulationForm, YearForm
from casemgmt.areas.models import Area, AreaPopulation
from casemgmt.areas.population import PopulationResult, Subtree, population_of
from casemgmt.audit.models import Action
from casemgmt.audit.services import record_event


@dataclass(frozen=True)
class PopulationRow:
    area: Area
    own: int | None
    resolved: PopulationResult
    has_children: bool


def may_view(user: User, area: Area) -> bool:
    if is_administrator(user):
        return True
    return bool(user.is_active and user.is_area_staff) and any(
        area.code.startswith(prefix) for prefix in user.jurisdiction_prefixes()
    )


def _area_or_404(code: str) -> Area:
    area = Area.objects.filter(code=code).first() if codes.is_valid_code(code) else None
    if area is None:
        raise Http404
    return area


def _rows(areas: list[Area], year: int, within: Subtree | None = None) -> list[PopulationRow]:
    """The rows of *areas*; *within*: the subtree holding them all, read once (an area's children)."""
    own = dict(AreaPopulation.objects.filter(area__in=areas, year=year).values_list("area_id", "population"))
    parents = set(Area.objects.filter(parent__in=areas).values_list("parent_id", flat=True))
    resolve = within.population if within else partial(population_of, year=year)
    return [
        PopulationRow(area=a, own=own.get(a.code), resolved=resolve(a.code), has_children=a.code in parents)
        for a in areas
    ]


@require_GET
@login_required
def population_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not (is_administrator(user) or (user.is_active and user.is_area_staff)):
        raise Http404
    year_form = YearForm(request.GET if "year" in request.GET else {"year": timezone.localdate().year})
    year = int(year_form.cleaned_data["year"]) if year_form.is_valid() else timezone.localdate().year
    code = request.GET.get("area", "")
    area: Area | None = None
    if code:
        area = _area_or_404(code)
        if not may_view(user, area):
            raise Http404
        children = list(area.children.order_by("code"))
    elif is_administrator(user):
        children = list(Area.objects.filter(parent__isnull=True).order_by("code"))
    else:
        children = list(Area.objects.filter(memberships__user=user).order_by("code"))
    ancestors = (
        [a for a in Area.objects.filter(code__in=codes.ancestor_codes(area.code)) if may_view(user, a)] if area else []
    )
    subtree = Subtree(area.code, year) if area else None  # the area's and its children's populations: one read
    return render(
        request,
        "manage/population_list.html",
        {
            "year_form": year_form,
            "year": year,
            "area": area,
            "area_row": _rows([area], year, subtree)[0] if area else None,
            "ancestors": sorted(ancestors, key=lambda a: a.level),
            "rows": _rows(children, year, subtree),
            "can_edit": is_administrator(user),
        },
    )


@require_http_methods(["GET", "POST"])
@admin_required
def population_edit(request: AuthenticatedHttpRequest, code: str, year: int) -> HttpResponse:
    area = _area_or_404(code)
    year_form = YearForm({"year": year})
    if not year_form.is_valid():
        raise Http404
    current = AreaPopulation.objects.filter(area=area, year=year).first()
    initial = {"population": current.population} if current else {}
    form = PopulationForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        value = int(form.cleaned_data["population"])
        with transaction.atomic():
            before = current.population if current else None
            AreaPopulation.objects.update_or_create(area=area, year=year, defaults={"population": value})
            record_event(
                actor=request.user,
                action=Action.POPULATION_CHANGE,
                detail={"area": area.code, "year": year, "before": before, "after": value},
            )
        back = area.parent_id or ""
        return redirect(f"{reverse('areas:population_list')}?area={back}&year={year}")
    return render(request, "manage/population_form.html", {"form": form, "area": area, "year": year})
