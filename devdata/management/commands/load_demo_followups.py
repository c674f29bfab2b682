"""The demo's hand-made follow-ups (run after load_demo): histories for active patients without any, at-risk visits
that open cases, emergencies and case teams."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from casemgmt.accounts.models import Role, User
from casemgmt.management import options as option
from devdata.followup_demo import load_demo_followups
from registry.models import Patient


class Command(BaseCommand):
    help = "Synthetic follow-ups for the demo patients (idempotent: patients with follow-ups are skipped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: object, **options: object) -> None:
        doctors = {
            m.area.prefix: user
            for user in User.objects.filter(role=Role.DOCTOR)
            .prefetch_related("memberships__area")
            .order_by("-username")
            for m in user.memberships.all()
        }

        def actor_for(patient: Patient) -> User:
            for prefix, doctor in doctors.items():
                if patient.village_id.startswith(prefix):
                    return doctor
            return patient.created_by

        with transaction.atomic():
            written = load_demo_followups(
                actor_for=actor_for, seed=option.integer(options, "seed"), today=timezone.localdate()
            )
        self.stdout.write(f"演示随访记录：新增 {written} 条。")
