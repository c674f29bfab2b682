"""One tracker for background jobs (the workbook import, the PDF export): the abstract model their rows share —
who asked and when, the status, the progress, the stored file — and the cleanup of jobs whose worker died.

May import Django only: ``casemgmt`` is the bottom layer. The job models of the higher apps subclass
``BackgroundJob``, and the cleanup finds them through the app registry, so nothing here names them.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import ClassVar

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# The states every job has; each job's ``Status`` choices add its own working stages between them.
PENDING = "pending"
DONE = "done"
FAILED = "failed"


class BackgroundJob(models.Model):
    """The fields and behaviour every background job shares.

    A job names its own ``Status`` choices, because the stages differ (a PDF is running; a workbook is checked,
    then loaded, and may be rejected), so each model narrows ``status`` with them; ``OPEN_STATUSES`` lists the
    states in which a worker still owes the job an end. Only the id travels in the task's message.
    """

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (PENDING,)
    # The column that says when the job last changed. Neither job records its updates, and a new column would
    # change the tables, so it is the request time: the timeout must exceed the longest legitimate run.
    LAST_UPDATE_FIELD: ClassVar[str] = "requested_at"

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=10, default=PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    file_path = models.CharField(_("文件路径"), max_length=300, blank=True, default="")

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        """A worker still owes this job an end (it is queued or running)."""
        return self.status in self.OPEN_STATUSES

    @classmethod
    def set_progress(cls, pk: int, percent: int, **changes: object) -> int:
        """Write the progress (and any other columns, e.g. the status) of job *pk* in one UPDATE."""
        return cls._default_manager.filter(pk=pk).update(progress=percent, **changes)

    def failure_changes(self, message: str, now: dt.datetime) -> dict[str, object]:
        """The columns, besides the status, that record why and when the job failed; none by default."""
        return {}

    def discard_file(self) -> None:
        """Delete the job's stored file (an upload waiting for its job, or a built export)."""
        if self.file_path:
            Path(self.file_path).unlink(missing_ok=True)


def job_models() -> list[type[BackgroundJob]]:
    """Every concrete job model of the installed apps."""
    return [model for model in apps.get_models() if issubclass(model, BackgroundJob)]


def job_timeout() -> dt.timedelta:
    """How long an open job may go without an update before its worker is presumed dead (setting)."""
    return dt.timedelta(minutes=settings.BACKGROUND_JOB_TIMEOUT_MINUTES)


def fail_abandoned_jobs(*, now: dt.datetime | None = None, timeout: dt.timedelta | None = None) -> int:
    """Mark failed every open job last updated more than *timeout* ago, and delete its stored file; returns how
    many jobs were failed.

    A worker that died (killed, out of memory, a lost message) never ends its job: the job page would show it
    running for ever, and an open PDF export also blocks the same request. The update is conditional on the job
    still being open, so a job that ended meanwhile keeps its result.
    """
    now = now or timezone.now()
    cutoff = now - (timeout or job_timeout())
    message = gettext("后台任务长时间没有进展，已停止。请重新提交。")
    failed = 0
    for model in job_models():
        manager = model._default_manager
        stale = manager.filter(status__in=model.OPEN_STATUSES, **{f"{model.LAST_UPDATE_FIELD}__lt": cutoff})
        for job in stale:
            changes = {"status": FAILED, "file_path": "", **job.failure_changes(message, now)}
            if not manager.filter(pk=job.pk, status__in=model.OPEN_STATUSES).update(**changes):
                continue  # it ended between the two queries
            failed += 1
            logger.warning("background job %s %s abandoned since %s: marked failed", model.__name__, job.pk, cutoff)
            try:
                job.discard_file()
            except OSError:
                logger.exception("could not delete the file of background job %s %s", model.__name__, job.pk)
    return failed
