"""/healthz for the load balancer (no login, no patient data) and /manage/status/ for administrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from casemgmt import health
from casemgmt.accounts.http import AuthenticatedHttpRequest


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the web-critical checks pass, 503 otherwise; the workers are reported, not required."""
    found = health.checks()
    body = {
        "status": "ok" if health.healthy(found) else "fail",
        "checks": {check.name: "ok" if check.ok else "fail" for check in found},
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)


@login_required
@require_GET
def status_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not (request.user.is_system_admin or request.user.is_superuser):
        raise Http404
    return render(request, "status.html", {"lines": health.status()})
