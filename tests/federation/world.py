"""Two provinces' registries in one database, as the province side of the federation tests publishes them:
Jiangsu from ``tests.base.build_world`` and a small Anhui (real NBS 2023 codes of 芜湖市 镜湖区)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from casemgmt.accounts.models import Role
from casemgmt.areas.models import AreaLevel, AreaPopulation
from federation.signing import new_key_pair
from registry.models import Patient
from tests.base import TODAY, World, build_world, make_area, make_patient, make_user
from tests.followup.base import reached_data, record


@dataclass
class Federation:
    world: World
    patients: list[Patient]
    keys: dict[str, tuple[str, str]]  # province → (private seed, public key)

    def trusted(self) -> list[str]:
        return [f"{code}:{public}" for code, (_, public) in self.keys.items()]


def build_federation(keys: dict[str, tuple[str, str]] | None = None) -> Federation:
    world = build_world()
    province = make_area("340000000000", "安徽省", AreaLevel.PROVINCE, None)
    city = make_area("340200000000", "芜湖市", AreaLevel.CITY, province)
    county = make_area("340202000000", "镜湖区", AreaLevel.COUNTY, city)
    township = make_area("340202001000", "滨江街道", AreaLevel.TOWNSHIP, county)
    village = make_area("340202001001", "滨江社区", AreaLevel.VILLAGE, township)
    AreaPopulation.objects.create(area=county, year=TODAY.year, population=478_658)
    doctor = make_user("doctor_wuhu", Role.DOCTOR, township)
    anhui = [make_patient(doctor, village) for _ in range(6)]
    yesterday = TODAY - dt.timedelta(days=1)
    for patient in anhui[:4]:
        record(patient, doctor, reached_data(yesterday))
    record(world.patient_a, world.doctor_a, reached_data(yesterday))
    return Federation(
        world=world,
        patients=[world.patient_a, world.patient_b, *anhui],
        keys=keys or {"32": new_key_pair(), "34": new_key_pair()},
    )
