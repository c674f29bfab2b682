"""WSGI entry point. System checks run here too, so a wrong key stops gunicorn at boot, not later."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

application = get_wsgi_application()

from casemgmt.checks import refuse_to_start_on_errors  # noqa: E402  (needs the app registry loaded)

refuse_to_start_on_errors()
