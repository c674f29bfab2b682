"""The API令牌 page (create, see once, revoke) and the OpenAPI schema of /api/v1/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from casemgmt.accounts.http import AuthenticatedHttpRequest
from casemgmt.api import tokens
from casemgmt.api.forms import TokenForm
from casemgmt.api.schema import openapi_document


def _page(request: AuthenticatedHttpRequest, form: TokenForm, *, created: str = "") -> HttpResponse:
    now = timezone.now()
    rows = [(token, tokens.is_live(token, now)) for token in tokens.tokens_of(request.user)]
    context = {"form": form, "rows": rows, "created": created}
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Doctors and area staff manage their own tokens; other roles have no use for the API (403)."""
    if not tokens.may_hold_tokens(request.user):
        raise PermissionDenied
    if request.method == "GET":
        return _page(request, TokenForm())
    if "revoke" in request.POST:
        token_id = request.POST.get("revoke", "")
        well_formed = token_id.isascii() and token_id.isdigit() and len(token_id) < 19
        revoked = tokens.revoke(request.user, int(token_id)) if well_formed else None
        if revoked is None:
            raise Http404
        messages.success(request, _("令牌“%(name)s”已吊销。") % {"name": revoked.name})
        return redirect("api_tokens")
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    _token, plain = tokens.issue(request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"])
    return _page(request, TokenForm(), created=plain)


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    """The schema is public: it describes the endpoints, not data."""
    return JsonResponse(openapi_document(request), json_dumps_params={"ensure_ascii": False})
