"""The scheduled publication (beat: ``publish-indicators`` when ``FEDERATION_NATIONAL_URL`` is set).

Retried with backoff while the national instance is unreachable or answers 5xx; a refusal (bad signature,
different options) is not retried — it needs an operator. Re-sending is harmless: the receiver is idempotent.
"""

from __future__ import annotations

from celery import Task, shared_task

from federation.publish import PublishError, publish


@shared_task(bind=True, max_retries=8, ignore_result=True)
def publish_indicators(self: Task[[], None]) -> None:
    try:
        publish()
    except PublishError as exc:
        if not exc.transient:
            raise
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries)) from None
