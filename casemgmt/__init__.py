"""The platform the domain apps stand on: settings, areas, accounts, crypto, audit."""

from __future__ import annotations

from casemgmt.celery import app as celery_app

__all__ = ["celery_app"]
