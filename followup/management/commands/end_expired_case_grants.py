"""End the case-team memberships whose grant has expired, with audit events (also a Celery beat task)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from followup.cases.services import end_expired_memberships


class Command(BaseCommand):
    help = "End case-team memberships whose per-patient grant has expired (audited)."

    def handle(self, *args: object, **options: object) -> None:
        ended = end_expired_memberships(now=timezone.now())
        self.stdout.write(f"已结束过期的团队成员资格：{ended} 个。")
