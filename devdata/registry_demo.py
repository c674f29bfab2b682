"""The synthetic demo county: areas, populations, one account per role, and about 250 invented patients.

Everything is invented: the place names, the codes' meaning, every patient (``devdata.identities`` through the
bulk path, so encryption, blind indexes, status histories and audit rows are the real ones). Loading is
idempotent: each part is created only when missing, and a second run changes nothing. One closure goes
through the real request/confirm services (two different doctors), and one request is left pending, so the
review queue has something in it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt.accounts.management.provisioning import provision_account
from casemgmt.accounts.models import Role, User
from casemgmt.areas import codes as area_codes
from casemgmt.areas.models import Area, AreaPopulation
from devdata import registry_bulk as bulk
from registry import codes
from registry.models import Patient
from registry.patients import services
from registry.transfers import services as transfers

DEMO_PASSWORD = "Demo-Pass-2026"  # noqa: S105  (a throw-away demo password, documented in README)
DEFAULT_SEED = 2026
POPULATION_YEARS = 3  # the current year and the two before it
PROVINCE = ("320000000000", "东川省")
CITY = ("320500000000", "青溪市")
COUNTY = ("320508000000", "和安县")
TOWNSHIPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("城关镇", ("东门社区", "西门社区", "南街社区", "北街社区", "新华社区", "桥头村", "河西村", "杨柳村")),
    ("柳河镇", ("柳河社区", "柳河村", "上柳村", "下柳村", "渡口村", "李家村", "王庄村", "新河村")),
    ("石桥乡", ("石桥社区", "石桥村", "石门村", "石岭村", "前山村", "后山村", "张湾村", "刘庄村")),
    ("双塘镇", ("双塘社区", "双塘村", "东塘村", "西塘村", "荷花村", "塘口村", "陈家村", "周庄村")),
    ("白沙乡", ("白沙社区", "白沙村", "沙河村", "沙洲村", "滨江村", "渔港村", "赵家村", "孙庄村")),
    ("枫林街道", ("枫林社区", "枫桥社区", "红叶社区", "锦绣社区", "和平社区", "文昌社区", "翠园社区", "金桂社区")),
)
PATIENTS_PER_TOWNSHIP = (52, 45, 38, 44, 36, 35)  # 250 in all
DEMO_MIX = bulk.Mix(
    disorders={**bulk.NATIONAL_DISORDER_MIX, codes.Disorder.OTHER: 2},
    statuses={codes.Status.ACTIVE: 80, codes.Status.LOST: 8, codes.Status.REFUSED: 5, codes.Status.DEAD: 7},
    years_back=3,
)


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


def township_code(index: int) -> str:
    """Township *index* (1-based) of the demo county: 320508001000 ... 320508006000."""
    return f"{COUNTY[0][:6]}{index:03d}000"


def account_specs() -> list[AccountSpec]:
    specs = [
        AccountSpec(f"doctor{i}", Role.DOCTOR, township_code(i), f"{name}精防医生")
        for i, (name, _villages) in enumerate(TOWNSHIPS, start=1)
    ]
    specs.insert(1, AccountSpec("doctor1b", Role.DOCTOR, township_code(1), f"{TOWNSHIPS[0][0]}精防医生（二）"))
    specs += [
        AccountSpec("county", Role.AREA_STAFF, COUNTY[0], f"{COUNTY[1]}精防管理人员"),
        AccountSpec("police1", Role.CASE_MEMBER, COUNTY[0], "社区民警"),
        AccountSpec("admin", Role.ADMIN, None, "系统管理员"),
    ]
    return specs


def _ensure_area(code: str, name: str, parent: Area | None) -> tuple[Area, bool]:
    area, created = Area.objects.get_or_create(
        code=code, defaults={"name": name, "level": area_codes.level_of(code), "parent": parent}
    )
    if area.name != name:
        raise DemoError(
            _("区划代码%(code)s已用于“%(existing)s”，演示数据需要它表示“%(name)s”。")
            % {"code": code, "existing": area.name, "name": name}
        )
    return area, created


def ensure_areas() -> tuple[dict[str, list[Area]], int]:
    """The demo tree; returns the villages of each township (by township code) and how many areas were new."""
    created = 0
    parent: Area | None = None
    for code, name in (PROVINCE, CITY, COUNTY):
        parent, new = _ensure_area(code, name, parent)
        created += new
    villages: dict[str, list[Area]] = {}
    for t_index, (t_name, village_names) in enumerate(TOWNSHIPS, start=1):
        township, new = _ensure_area(township_code(t_index), t_name, parent)
        created += new
        villages[township.code] = []
        for v_index, v_name in enumerate(village_names, start=1):
            village, new = _ensure_area(f"{township.code[:9]}{v_index:03d}", v_name, township)
            created += new
            villages[township.code].append(village)
    return villages, created


def ensure_populations(villages: list[Area], *, seed: int, today: dt.date) -> int:
    """A few thousand residents per village, growing slowly; only missing (village, year) figures are added."""
    years = range(today.year - POPULATION_YEARS + 1, today.year + 1)
    have = set(AreaPopulation.objects.filter(area__in=villages, year__in=years).values_list("area_id", "year"))
    rows = []
    for village in villages:
        rng = random.Random(f"{seed}:{village.code}")
        population = rng.randrange(1500, 4500)
        for year in years:
            if (village.code, year) not in have:
                rows.append(AreaPopulation(area=village, year=year, population=population))
            population += rng.randrange(-30, 60)
    AreaPopulation.objects.bulk_create(rows)
    return len(rows)


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


def create_patients(villages: dict[str, list[Area]], *, seed: int, today: dt.date) -> int:
    """About 250 patients, each township's written by its own doctor; then one closure and one pending."""
    created = 0
    for index, count in enumerate(PATIENTS_PER_TOWNSHIP, start=1):
        created += bulk.create_synthetic_patients(
            villages=villages[township_code(index)],
            count=count,
            actor=User.objects.get(username=f"doctor{index}"),
            seed=seed * 100 + index,
            today=today,
            mix=DEMO_MIX,
        )
    _close_two(villages[township_code(1)], today=today)
    _pending_transfers(villages, today=today)
    return created


def _pending_transfers(villages: dict[str, list[Area]], *, today: dt.date) -> None:
    """Two pending transfers through the real service: one from township 1 to 2 waiting for 20 days (shown to
    county staff), one from township 2 to 1 asked yesterday (on doctor1's transfers page)."""
    for source, target, days in ((1, 2, 20), (2, 1, 1)):
        patient = (
            Patient.objects.filter(village__in=villages[township_code(source)], status=codes.Status.ACTIVE)
            .order_by("-id")
            .first()
        )
        if patient is None:
            continue
        transfers.request_transfer(
            actor=User.objects.get(username=f"doctor{source}"),
            patient=patient,
            to_village=villages[township_code(target)][0],
            reason=str(_("随子女居住")),
            today=today - dt.timedelta(days=days),
        )


def _close_two(villages: list[Area], *, today: dt.date) -> None:
    """Close one record through the real two-person review, and leave a second request pending."""
    requester = User.objects.get(username="doctor1")
    reviewer = User.objects.get(username="doctor1b")
    active = list(Patient.objects.filter(village__in=villages, status=codes.Status.ACTIVE).order_by("id")[:2])
    if len(active) < 2:
        return
    closed = services.request_closure(
        actor=requester, patient=active[0], effective_date=today, reason=codes.ClosureReason.DUPLICATE
    )
    services.decide_closure(actor=reviewer, closure=closed, confirm=True)
    services.request_closure(
        actor=reviewer, patient=active[1], effective_date=today, reason=codes.ClosureReason.MOVED_OUT
    )


def load_demo(*, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> DemoReport:
    """Load whatever part of the demo is missing, all in one transaction."""
    today = today or timezone.localdate()
    county_prefix = COUNTY[0][:6]
    with transaction.atomic():
        if Patient.objects.exclude(village__code__startswith=county_prefix).exists():
            raise DemoError(_("数据库中已有演示县以外的患者档案：演示数据只能装入专用的演示数据库。"))
        villages, areas_created = ensure_areas()
        all_villages = [v for vs in villages.values() for v in vs]
        populations_created = ensure_populations(all_villages, seed=seed, today=today)
        accounts_created = ensure_accounts()
        patients_created = 0
        if not Patient.objects.filter(village__code__startswith=county_prefix).exists():
            patients_created = create_patients(villages, seed=seed, today=today)
    return DemoReport(areas_created, populations_created, accounts_created, patients_created, account_rows())
