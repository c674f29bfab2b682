"""The generator on areas that exist already (``generate_on``): units of one county written by their own doctors,
with the county's ID numbers shared between its units."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from casemgmt.accounts.models import Role
from casemgmt.areas.models import Area, AreaLevel
from devdata.synthetic.areas import County
from devdata.synthetic.run import generate_on
from registry.models import Patient
from tests.base import make_user

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 30)
PER_TOWNSHIP = 1500  # enough for two units' ID numbers to meet if each counted on its own


def _county() -> dict[str, tuple[str, ...]]:
    province = Area.objects.create(code="610000000000", name="陕西省", level=AreaLevel.PROVINCE)
    city = Area.objects.create(code="610100000000", name="西安市", level=AreaLevel.CITY, parent=province)
    county = Area.objects.create(code="610102000000", name="新城区", level=AreaLevel.COUNTY, parent=city)
    townships: dict[str, tuple[str, ...]] = {}
    for t in (1, 2):
        township = Area.objects.create(
            code=f"610102{t:03d}000", name=f"街道{t}", level=AreaLevel.TOWNSHIP, parent=county
        )
        villages = [
            Area.objects.create(code=f"610102{t:03d}{v:03d}", name=f"社区{t}-{v}", level=AreaLevel.VILLAGE,
                                parent=township)
            for v in (1, 2)
        ]  # fmt: skip
        townships[township.code] = tuple(v.code for v in villages)
    return townships


def test_units_of_one_county_each_with_its_doctor_and_unique_id_numbers() -> None:
    townships = _county()
    first, second = townships
    doctor = make_user("doc_unit1", Role.DOCTOR, Area.objects.get(code=first))
    units = [County(first, PER_TOWNSHIP, townships[first]), County(second, PER_TOWNSHIP, townships[second])]
    summary = generate_on(units, doctors={first: doctor.pk}, years=1, seed=3, today=TODAY)
    assert summary.patients == 2 * PER_TOWNSHIP == Patient.objects.count()
    written_in_first = Patient.objects.filter(created_by=doctor)
    assert written_in_first.count() == PER_TOWNSHIP
    others = Patient.objects.exclude(created_by=doctor)
    assert {p.created_by.username for p in others.select_related("created_by")} == {"synth_610102"}
    assert max(Counter(Patient.objects.values_list("national_id_index", flat=True)).values()) == 1
    assert {n[:6] for n in (p.national_id for p in Patient.objects.all())} == {"610102"}
