"""The platform the domain apps stand on: settings, areas, accounts, crypto, audit, the background-job tracker
(``jobs``).

Layer: the bottom; it imports no domain app (``registry``, ``followup``, ``metrics``) — import-linter checks it.
"""

from __future__ import annotations

from casemgmt.celery import app as celery_app

__all__ = ["celery_app"]
