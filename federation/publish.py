"""The province side: every published area's document for every period slot, signed and sent (issue 17 §5).

Which areas: the province and its areas down to ``FEDERATION_PUBLISH_LEVEL`` (default 3, counties), each with its
children — so the national instance can show a county with its townships. Which periods: every year, quarter,
month and year-to-date slot of the last ``FEDERATION_PUBLISH_YEARS`` years that has begun. Small counts are
suppressed as for any export that leaves the county (metrics.indicators.suppression). One batch per period;
a batch whose figures equal the last one the national instance accepted is not sent again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from casemgmt.areas.models import Area
from federation import signing
from federation.envelope import FORMAT, canonical, digest, options_key
from federation.models import Publication
from metrics.indicators.definitions import Options
from metrics.indicators.options import default_options, suppress_below
from metrics.indicators.periods import Period, PeriodError, parse_period
from metrics.indicators.suppression import policy_for, suppress_document
from metrics.reports.engine import compute

logger = logging.getLogger(__name__)
PROVINCE_LEVEL = 1


class PublishError(Exception):
    """The national instance could not be reached or refused the batch."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message, transient)  # both in args: the error pickles (Celery keeps it across retries)
        self.transient = transient

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class PublishReport:
    sent: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    documents: int = 0


def period_keys(today: dt.date, years: int) -> Iterator[str]:
    """Every slot key of the last *years* years that has begun by *today*, oldest first."""
    for year in range(today.year - years + 1, today.year + 1):
        last_month = 12 if year < today.year else today.month
        yield str(year)
        for quarter in range(1, (last_month + 2) // 3 + 1):
            yield f"{year}-Q{quarter}"
        for month in range(1, last_month + 1):
            yield f"{year}-{month:02d}"
            yield f"{year}-YTD-{month:02d}"


def published_areas(province: str) -> list[Area]:
    level = int(settings.FEDERATION_PUBLISH_LEVEL)
    return list(Area.objects.filter(code__startswith=province, level__lte=level).order_by("level", "code"))


def documents_for(areas: list[Area], period: Period, options: Options) -> list[dict[str, object]]:
    """Each area's document with its children, as it leaves the county: small counts suppressed."""
    policy = policy_for(below=suppress_below(), report_level=PROVINCE_LEVEL, scope_levels=[PROVINCE_LEVEL])
    return [suppress_document(compute(area, period, options, children=True).document(), policy) for area in areas]


def batch_body(province: str, period: Period, options: Options, documents: list[dict[str, object]]) -> bytes:
    return canonical(
        {
            "format": FORMAT,
            "province": province,
            "period": period.key,
            "options": options.as_dict(),
            "published_at": timezone.now().isoformat(),
            "documents": documents,
        }
    )


def send(body: bytes, province: str) -> dict[str, object]:
    """POST one signed batch; the national instance's counts, or PublishError."""
    url = str(settings.FEDERATION_NATIONAL_URL)
    if not url.startswith(("https://", "http://")):
        raise PublishError("FEDERATION_NATIONAL_URL must be an http(s) URL", transient=False)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            signing.PROVINCE_HEADER: province,
            signing.SIGNATURE_HEADER: signing.sign(body),
        },
    )
    try:
        timeout = int(settings.FEDERATION_TIMEOUT_SECONDS)
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked scheme
            answer: dict[str, object] = json.loads(response.read().decode("utf-8"))
            return answer
    except urllib.error.HTTPError as exc:
        message = exc.read(2000).decode("utf-8", "replace")
        raise PublishError(f"HTTP {exc.code}: {message}", transient=exc.code >= 500 or exc.code == 429) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise PublishError(f"national instance unreachable: {exc}", transient=True) from None


def _already_accepted(period_key: str, key: str, content: str) -> bool:
    last = (
        Publication.objects.filter(period_key=period_key, options_key=key)
        .exclude(state=Publication.State.FAILED)
        .order_by("-attempted_at", "-pk")
        .first()
    )
    return last is not None and last.digest == content


def publish_period(province: str, period: Period, options: Options, areas: list[Area], report: PublishReport) -> None:
    documents = documents_for(areas, period, options)
    key = options_key(options.as_dict())
    content = digest({"documents": [digest(doc) for doc in documents]})
    report.documents += len(documents)
    if _already_accepted(period.key, key, content):
        report.unchanged.append(period.key)
        return

    def record(state: str, answer: dict[str, object]) -> None:
        Publication.objects.create(
            period_key=period.key, options_key=key, digest=content, documents=len(documents), state=state, answer=answer
        )

    try:
        answer = send(batch_body(province, period, options, documents), province)
    except PublishError as exc:
        record(Publication.State.FAILED, {"error": str(exc)[:500]})
        raise
    record(Publication.State.SENT, answer)
    report.sent.append(period.key)


def publish(*, periods: list[str] | None = None, today: dt.date | None = None) -> PublishReport:
    """Publish this province's documents for *periods* (default: every slot of the configured years)."""
    province = str(settings.FEDERATION_PROVINCE)
    if len(province) != 2 or not province.isdigit() or not settings.FEDERATION_NATIONAL_URL:
        raise PublishError("FEDERATION_PROVINCE and FEDERATION_NATIONAL_URL must be set", transient=False)
    today = today or timezone.localdate()
    keys = periods or list(period_keys(today, int(settings.FEDERATION_PUBLISH_YEARS)))
    options = default_options()
    areas = published_areas(province)
    report = PublishReport()
    for key in keys:
        try:
            period = parse_period(key, today=today)
        except PeriodError as exc:
            raise PublishError(str(exc), transient=False) from None
        publish_period(province, period, options, areas, report)
    logger.info(
        "federation.publish province=%s sent=%d unchanged=%d documents=%d",
        province,
        len(report.sent),
        len(report.unchanged),
        report.documents,
    )
    return report
