from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:  # placeholder, replaced by the registry pages
    return HttpResponse("")
