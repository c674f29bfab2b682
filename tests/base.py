"""Named personas and a small jurisdiction tree, shared by the tests.

- doctor_a works in township A and may read and write A's patients.
- doctor_a2 is a second doctor of township A (the "second person" who confirms a closure).
- doctor_b works in township B and must get 404 for A's patients.
- county_d is county staff: sees the county's patients masked, read-only (403 on writes).
- police_c is a case-team member of the county (an affiliation, not a jurisdiction) with an explicit grant on
  patient_a only; sees nothing else.
- admin_e administers areas and accounts and sees no patient at all.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from casemgmt.accounts.models import AreaMembership, Role, User
from casemgmt.areas.models import Area, AreaLevel, AreaPopulation
from devdata.identities import synthetic_name, synthetic_national_id, synthetic_phone
from registry import codes
from registry.models import Patient, PatientUserObjectPermission
from registry.patients import forms, services

PASSWORD = "Synthetic-Pass-2026"
# The day the suite started, in the product's time zone: the day tests date their data by (tests/conftest.py
# keeps the product's today on it when a run goes past midnight).
TODAY = timezone.localdate()


@dataclass
class World:
    province: Area
    city: Area
    county: Area
    township_a: Area
    township_b: Area
    village_a1: Area
    village_a2: Area
    village_b1: Area
    doctor_a: User
    doctor_a2: User
    doctor_b: User
    county_d: User
    police_c: User
    admin_e: User
    patient_a: Patient
    patient_b: Patient


def make_area(code: str, name: str, level: int, parent: Area | None) -> Area:
    return Area.objects.create(code=code, name=name, level=level, parent=parent)


def make_user(username: str, role: str, *areas: Area) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, display_name=username)
    for area in areas:
        AreaMembership.objects.create(user=user, area=area)
    return user


_rng = random.Random(20261123)
# A fresh birth date per synthetic patient keeps their ID numbers unique (the random part has only 500 values).
_birth_dates = (dt.date(1940, 1, 1) + dt.timedelta(days=n) for n in itertools.count())


def patient_fields(**overrides: Any) -> dict[str, Any]:
    """Plain values for the registration form; a given ID number alone decides sex and birth date."""
    given_id = "national_id" in overrides and not {"sex", "birth_date"} & set(overrides)
    sex = overrides.pop("sex", _rng.choice((1, 2)))
    birth = overrides.pop("birth_date", None) or next(_birth_dates)
    fields = {
        "name": synthetic_name(_rng),
        "national_id": synthetic_national_id(_rng, "320508", birth, sex),
        "sex": sex,
        "birth_date": birth,
        "phone": synthetic_phone(_rng),
        "address": "幸福路12号",
        "disorder": codes.Disorder.SCHIZOPHRENIA,
        "registered_on": TODAY - dt.timedelta(days=400),
    }
    fields.update(overrides)
    if given_id:
        del fields["sex"], fields["birth_date"]
    return fields


def make_patient(actor: User, village: Area, *, consent: int = 1, **overrides: Any) -> Patient:
    """Register through the web form's parser (``parse_registration``), as the registration page does."""
    registration = forms.parse_registration(patient_fields(**overrides), {"consent": consent})
    return services.register_patient(actor=actor, village=village, registration=registration)


def edit_patient(actor: User, patient: Patient, **changes: object) -> Patient:
    """Change some identity fields through the identity form's parser, the others as stored."""
    current = {name: getattr(patient, name) for name in forms.PatientForm.Meta.fields}
    entry = forms.parse_patient({**current, **changes})
    return services.update_patient(actor=actor, patient=patient, entry=entry)


def grant(patient: Patient, user: User, by: User, **extra: Any) -> PatientUserObjectPermission:
    from django.contrib.auth.models import Permission

    permission = Permission.objects.get(codename="view_patient", content_type__app_label="registry")
    return PatientUserObjectPermission.objects.create(
        content_object=patient, user=user, permission=permission, granted_by=by, reason="case team", **extra
    )


def build_world() -> World:
    province = make_area("320000000000", "江苏省", AreaLevel.PROVINCE, None)
    city = make_area("320500000000", "苏州市", AreaLevel.CITY, province)
    county = make_area("320508000000", "姑苏区", AreaLevel.COUNTY, city)
    township_a = make_area("320508001000", "甲街道", AreaLevel.TOWNSHIP, county)
    township_b = make_area("320508002000", "乙街道", AreaLevel.TOWNSHIP, county)
    village_a1 = make_area("320508001001", "甲一社区", AreaLevel.VILLAGE, township_a)
    village_a2 = make_area("320508001002", "甲二社区", AreaLevel.VILLAGE, township_a)
    village_b1 = make_area("320508002001", "乙一社区", AreaLevel.VILLAGE, township_b)
    for area, population in ((village_a1, 3000), (village_a2, 4000), (village_b1, 5000)):
        AreaPopulation.objects.create(area=area, year=TODAY.year, population=population)
    doctor_a = make_user("doctor_a", Role.DOCTOR, township_a)
    doctor_a2 = make_user("doctor_a2", Role.DOCTOR, township_a)
    doctor_b = make_user("doctor_b", Role.DOCTOR, township_b)
    county_d = make_user("county_d", Role.AREA_STAFF, county)
    police_c = make_user("police_c", Role.CASE_MEMBER, county)  # affiliated with the county: no visibility
    admin_e = make_user("admin_e", Role.ADMIN)
    patient_a = make_patient(doctor_a, village_a1)
    patient_b = make_patient(doctor_b, village_b1)
    grant(patient_a, police_c, doctor_a)
    return World(
        province, city, county, township_a, township_b, village_a1, village_a2, village_b1,
        doctor_a, doctor_a2, doctor_b, county_d, police_c, admin_e, patient_a, patient_b,
    )  # fmt: skip


def comparable_page(content: bytes) -> str:
    """A page less what differs per response or per address asked: the CSRF token and the address the language
    switch returns to. Two refusals compared this way must be identical (nothing tells "not yours" apart)."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())
    return re.sub(r'name="next" value="[^"]+"', "", html)
