"""The metrics app's Celery tasks, imported here so ``app.autodiscover_tasks`` finds them; each lives with the
package that owns its work and keeps its historical name (``metrics.tasks.<name>``)."""

from __future__ import annotations

from metrics.reports.tasks import build_report_pdf
from metrics.state.tasks import refresh_area_state, refresh_indicator_state

__all__ = ["build_report_pdf", "refresh_area_state", "refresh_indicator_state"]
