"""ASGI entry point (not used by the default deployment; kept for completeness)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")

application = get_asgi_application()
