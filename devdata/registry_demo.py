"""The demo: the pilot city 芜湖市 on its real map, with synthetic patients at a realistic prevalence, and one
county (南陵县) with an account for every role.

The areas, their names and the 2020 census figures are real (``devdata.demo_map``); every patient is invented,
built by the synthetic generator (``devdata.synthetic``: identities sealed with the real encryption, status
histories, custody spans, follow-up histories, care states, audit rows) at about 4.5 registered patients per
1,000 residents. The first townships of the demo county each get their own doctor, who writes their patients.
Loading is idempotent: each part is created only when missing, and a second run changes nothing. On top of the
generated records, the hand-made ones go through the real services: one closure through the two-person review
(two doctors of one township), a second closure left pending, and two pending transfers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.management.provisioning import provision_account
from casemgmt.accounts.models import Role, User
from casemgmt.areas.models import Area
from devdata import demo_map
from devdata.synthetic.run import generate_on
from registry import codes
from registry.models import Patient
from registry.patients import services
from registry.transfers import services as transfers

DEMO_PASSWORD = "Demo-Pass-2026"  # noqa: S105  (a throw-away demo password, documented in README)
DEFAULT_SEED = 2026
POPULATION_YEARS = 3  # the current year and the two before it
HISTORY_YEARS = 3  # of generated follow-up history, ending today
PER_THOUSAND = 4.5  # registered patients per 1,000 residents (domain.md §2: the national 4-6)
CITY = demo_map.CITY
COUNTY = ("340223000000", "南陵县")  # the demo county: rural, 9 townships, 173 villages
DEMO_TOWNSHIPS = 6  # the first townships of the demo county, each with its own doctor


class DemoError(Exception):
    """The database holds something the demo would clash with; the message is for the operator."""


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str
    area_code: str | None
    display_name: str


@dataclass(frozen=True)
class AccountRow:
    username: str
    role: str
    areas: str


@dataclass(frozen=True)
class DemoReport:
    areas_created: int
    populations_created: int
    accounts_created: int
    patients_created: int
    accounts: list[AccountRow]

    @property
    def changed(self) -> bool:
        return any((self.areas_created, self.populations_created, self.accounts_created, self.patients_created))


def demo_townships() -> list[Area]:
    """The demo county's first townships, in code order (籍山镇, 许镇镇, ...)."""
    return list(Area.objects.filter(parent_id=COUNTY[0]).order_by("code")[:DEMO_TOWNSHIPS])


def account_specs() -> list[AccountSpec]:
    townships = demo_townships()
    specs = [
        AccountSpec(f"doctor{i}", Role.DOCTOR, township.code, f"{township.name}精防医生")
        for i, township in enumerate(townships, start=1)
    ]
    specs.insert(1, AccountSpec("doctor1b", Role.DOCTOR, townships[0].code, f"{townships[0].name}精防医生（二）"))
    specs += [
        AccountSpec("county", Role.AREA_STAFF, COUNTY[0], f"{COUNTY[1]}精防管理人员"),
        AccountSpec("city", Role.AREA_STAFF, CITY[0], f"{CITY[1]}精防管理人员"),
        AccountSpec("police1", Role.CASE_MEMBER, COUNTY[0], "社区民警"),
        AccountSpec("admin", Role.ADMIN, None, "系统管理员"),
    ]
    return specs


def ensure_accounts() -> int:
    """Missing demo accounts are created with the demo password; existing ones are left exactly as they are."""
    existing = set(
        User.objects.filter(username__in=[s.username for s in account_specs()]).values_list("username", flat=True)
    )
    created = 0
    for spec in account_specs():
        if spec.username in existing:
            continue
        areas = [Area.objects.get(code=spec.area_code)] if spec.area_code else []
        provision_account(
            username=spec.username, role=spec.role, areas=areas, display_name=spec.display_name, password=DEMO_PASSWORD
        )
        created += 1
    return created


def account_rows() -> list[AccountRow]:
    """The demo accounts as they are now in the database, in the order of ``account_specs``."""
    users = {
        u.username: u
        for u in User.objects.filter(username__in=[s.username for s in account_specs()]).prefetch_related(
            "memberships__area"
        )
    }
    rows = []
    for spec in account_specs():
        user = users.get(spec.username)
        if user is None:
            continue
        areas = "、".join(f"{m.area.name} ({m.area.code})" for m in user.memberships.all()) or "—"
        rows.append(AccountRow(user.username, str(Role(user.role).label) if user.role else "", areas))
    return rows


def create_patients(counties: list[demo_map.CountyMap], *, seed: int, today: dt.date, per_thousand: float) -> int:
    """Patients for the whole city through the generator, the demo townships' written by their own doctors; then
    the hand-made records of the demo county."""
    townships = [t.code for t in demo_townships()]
    doctors = {t: User.objects.get(username=f"doctor{i}").pk for i, t in enumerate(townships, start=1)}
    units = demo_map.patient_units(counties, own_townships={COUNTY[0]: townships}, per_thousand=per_thousand, seed=seed)
    summary = generate_on(units, doctors=doctors, years=HISTORY_YEARS, seed=seed, today=today)
    _close_two(townships[0], today=today)
    _pending_transfers(townships, today=today)
    return summary.patients


def _pending_transfers(townships: list[str], *, today: dt.date) -> None:
    """Two pending transfers through the real service: one from township 1 to 2 waiting for 20 days (shown to
    county staff), one from township 2 to 1 asked yesterday (on doctor1's transfers page)."""
    for source, target, days in ((1, 2, 20), (2, 1, 1)):
        patient = (
            Patient.objects.filter(village__code__startswith=townships[source - 1][:9], status=codes.Status.ACTIVE)
            .order_by("-id")
            .first()
        )
        village = Area.objects.filter(parent_id=townships[target - 1]).order_by("code").first()
        if patient is None or village is None:
            continue
        transfers.request_transfer(
            actor=User.objects.get(username=f"doctor{source}"),
            patient=patient,
            to_village=village,
            reason=str(_("随子女居住")),
            today=today - dt.timedelta(days=days),
        )


def _close_two(township: str, *, today: dt.date) -> None:
    """Close one record through the real two-person review, and leave a second request pending."""
    requester = User.objects.get(username="doctor1")
    reviewer = User.objects.get(username="doctor1b")
    active = list(
        Patient.objects.filter(village__code__startswith=township[:9], status=codes.Status.ACTIVE).order_by("id")[:2]
    )
    if len(active) < 2:
        return
    closed = services.request_closure(
        actor=requester, patient=active[0], effective_date=today, reason=codes.ClosureReason.DUPLICATE
    )
    services.decide_closure(actor=reviewer, closure=closed, confirm=True)
    services.request_closure(
        actor=reviewer, patient=active[1], effective_date=today, reason=codes.ClosureReason.MOVED_OUT
    )


def load_demo(
    *, seed: int = DEFAULT_SEED, today: dt.date | None = None, per_thousand: float = PER_THOUSAND
) -> DemoReport:
    """Load whatever part of the demo is missing, all in one transaction. *per_thousand* sets how many patients
    (per 1,000 residents) the city gets: the tests load a small fraction."""
    today = today or timezone.localdate()
    city_prefix = CITY[0][:4]
    with transaction.atomic():
        if Patient.objects.exclude(village__code__startswith=city_prefix).exists():
            raise DemoError(_("数据库中已有演示城市以外的患者档案：演示数据只能装入专用的演示数据库。"))
        try:
            areas_created = demo_map.load_city()
        except demo_map.MapError as exc:
            raise DemoError(str(exc)) from exc
        counties = demo_map.city_counties()
        years = range(today.year - POPULATION_YEARS + 1, today.year + 1)
        populations_created = demo_map.ensure_populations(counties, seed=seed, years=years)
        accounts_created = ensure_accounts()
        patients_created = 0
        if not Patient.objects.filter(village__code__startswith=city_prefix).exists():
            patients_created = create_patients(counties, seed=seed, today=today, per_thousand=per_thousand)
    return DemoReport(areas_created, populations_created, accounts_created, patients_created, account_rows())
