"""One tracker for background jobs (the workbook import, the PDF export): the abstract model their rows share —
who asked and when, the status, the progress, the stored file — the cleanup of jobs whose worker died, and the
deletion of finished jobs' files once they have been kept long enough.

May import Django only: ``casemgmt`` is the bottom layer. The job models of the higher apps subclass
``BackgroundJob``, and the cleanup finds them through the app registry, so nothing here names them.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import ClassVar, Protocol

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
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

    @property
    def file_expired(self) -> bool:
        """A finished job whose file was deleted after the retention period (``delete_expired_files``)."""
        return self.status == DONE and not self.file_path

    @property
    def retention_hours(self) -> int:
        """How long a finished job's file is kept (setting ``JOB_FILE_RETENTION_HOURS``), for its page."""
        return int(settings.JOB_FILE_RETENTION_HOURS)


def job_models() -> list[type[BackgroundJob]]:
    """Every concrete job model of the installed apps."""
    return [model for model in apps.get_models() if issubclass(model, BackgroundJob)]


def job_timeout() -> dt.timedelta:
    """How long an open job may go without an update before its worker is presumed dead (setting)."""
    return dt.timedelta(minutes=settings.BACKGROUND_JOB_TIMEOUT_MINUTES)


def fail_job(job: BackgroundJob, message: str, *, now: dt.datetime | None = None) -> bool:
    """Mark *job* failed with *message*, if it is still open, and delete its stored file. False when the job had
    ended meanwhile (the update is conditional, so a job that finished keeps its result)."""
    model = type(job)
    changes = {"status": FAILED, "file_path": "", **job.failure_changes(message, now or timezone.now())}
    if not model._default_manager.filter(pk=job.pk, status__in=model.OPEN_STATUSES).update(**changes):
        return False
    try:
        job.discard_file()
    except OSError:
        logger.exception("could not delete the file of background job %s %s", model.__name__, job.pk)
    return True


DISPATCH_FAILED = _("后台任务服务暂时不可用，任务未能提交。请稍后重试；如仍不行，请联系系统管理员。")


class JobTask(Protocol):
    def delay(self, job_id: int) -> object: ...


def dispatch_on_commit(job: BackgroundJob, task: JobTask) -> None:
    """Queue ``task(job.pk)`` once the transaction commits (only the id travels in the message).

    When the broker cannot take the message (Redis down), the job is failed at once with a message the user reads
    on its page, and its stored file deleted: it never stays "pending" — which would also block a retry of the same
    request — and the request that started it still answers.
    """
    model, pk = type(job), job.pk

    def send() -> None:
        try:
            task.delay(pk)
        except Exception:  # kombu's OperationalError and the socket errors under it: the broker is unreachable
            logger.exception("background job %s %s: the task could not be queued", model.__name__, pk)
            stored = model._default_manager.filter(pk=pk).first()
            if stored is not None:
                fail_job(
                    stored, gettext("后台任务服务暂时不可用，任务未能提交。请稍后重试；如仍不行，请联系系统管理员。")
                )

    transaction.on_commit(send)


def fail_abandoned_jobs(*, now: dt.datetime | None = None, timeout: dt.timedelta | None = None) -> int:
    """Mark failed every open job last updated more than *timeout* ago, and delete its stored file; returns how
    many jobs were failed.

    A worker that died (killed, out of memory, a lost message) never ends its job: the job page would show it
    running for ever, and an open PDF export also blocks the same request.
    """
    now = now or timezone.now()
    cutoff = now - (timeout or job_timeout())
    message = gettext("后台任务长时间没有进展，已停止。请重新提交。")
    failed = 0
    for model in job_models():
        stale = model._default_manager.filter(
            status__in=model.OPEN_STATUSES, **{f"{model.LAST_UPDATE_FIELD}__lt": cutoff}
        )
        for job in stale:
            if fail_job(job, message, now=now):
                failed += 1
                logger.warning("background job %s %s abandoned since %s: marked failed", model.__name__, job.pk, cutoff)
    return failed


def delete_expired_files(*, now: dt.datetime | None = None, keep: dt.timedelta | None = None) -> int:
    """Delete the files of finished jobs requested more than *keep* ago (``JOB_FILE_RETENTION_HOURS``); returns
    how many were deleted.

    A built export waits on disk for its owner to download it: a doctor's registry workbook carries the identity
    of every patient of the township. Once the retention period has passed the file is deleted and the job says
    so on its page (its owner may ask again); the row stays, so the audit and a PDF's verification code keep
    their reference. The row forgets the path in the same transaction as the file goes: a file that cannot be
    deleted keeps its row's path and is tried again at the next run.
    """
    cutoff = (now or timezone.now()) - (keep or dt.timedelta(hours=settings.JOB_FILE_RETENTION_HOURS))
    deleted = 0
    for model in job_models():
        finished = model._default_manager.filter(status=DONE, **{f"{model.LAST_UPDATE_FIELD}__lt": cutoff})
        for job in finished.exclude(file_path="").only("pk", "file_path"):
            try:
                with transaction.atomic():
                    if model._default_manager.filter(pk=job.pk, file_path=job.file_path).update(file_path=""):
                        job.discard_file()
                        deleted += 1
            except OSError:
                logger.exception("could not delete the expired file of background job %s %s", model.__name__, job.pk)
    if deleted:
        logger.info("deleted the files of %s finished background jobs past their retention", deleted)
    return deleted
