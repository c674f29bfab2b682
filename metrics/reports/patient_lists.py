"""The patients behind a figure: the members of one §11 set for an area and period, as the user may see them.

Membership is the engine's own definition (``metrics.indicators.definitions.membership`` over
``metrics.indicators.facts.iter_facts``) so a list always agrees with the figure it explains. The members are then
narrowed to ``Patient.objects.visible_to(user)``: a patient counted for the area at the cut-off who has since moved
outside the user's jurisdiction is counted but not listed (the page says how many).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from casemgmt.accounts.models import User
from casemgmt.areas import codes
from casemgmt.areas.models import Area
from casemgmt.readdb import read_alias
from metrics.indicators.definitions import Membership, Options, membership
from metrics.indicators.facts import iter_facts
from metrics.indicators.periods import Period
from registry.models import Patient, PatientQuerySet

VISIBILITY_CHUNK = 5000


@dataclass(frozen=True)
class PatientSet:
    label: Promise
    test: Callable[[Membership], bool]


SETS: dict[str, PatientSet] = {
    "registered": PatientSet(_("在册 R"), lambda m: m.registered),
    "managed": PatientSet(_("在管 M"), lambda m: m.managed),
    "at_home": PatientSet(_("居家 H"), lambda m: m.at_home),
    "regular": PatientSet(_("规范管理 Reg"), lambda m: m.regular),
    "medication": PatientSet(_("服药 T"), lambda m: m.medication),
    "regular_medication": PatientSet(_("规律服药 G"), lambda m: m.regular_medication),
    "face_to_face": PatientSet(_("面访 F"), lambda m: m.face_to_face),
    "stable": PatientSet(_("病情稳定 St"), lambda m: m.stable),
    "rehabilitation": PatientSet(_("社区康复 Rh"), lambda m: m.rehabilitation),
    "lost": PatientSet(_("失访 L"), lambda m: m.lost),
    "family_support": PatientSet(_("家属心理支持 Fs"), lambda m: m.family_support),
    "health_check": PatientSet(_("体检 Hc"), lambda m: m.health_check),
    "schizophrenia": PatientSet(_("在册精神分裂症"), lambda m: m.schizophrenia),
    "schizophrenia_managed": PatientSet(_("在管精神分裂症"), lambda m: m.schizophrenia and m.managed),
    "schizophrenia_medication": PatientSet(_("精神分裂症服药"), lambda m: m.schizophrenia and m.medication),
}


def indicator_sets(name: str, options: Options) -> tuple[str, str | None]:
    """(numerator set, denominator set) of an indicator; None where the denominator is not patients."""
    managed = options.medication_denominator == "managed"
    medication_base = "managed" if managed else "registered"
    return {
        "reported_prevalence": ("registered", None),
        "management_rate": ("managed", "registered"),
        "regular_management_rate": ("regular", "registered"),
        "medication_rate": ("medication", medication_base),
        "regular_medication_rate": ("regular_medication", medication_base),
        "schizophrenia_medication_rate": (
            "schizophrenia_medication",
            "schizophrenia_managed" if managed else "schizophrenia",
        ),
        "face_to_face_rate": ("face_to_face", "managed"),
        "stable_rate": ("stable", "at_home"),
        "rehabilitation_rate": ("rehabilitation", "at_home"),
        "lost_rate": ("lost", "registered"),
        "family_support_rate": ("family_support", "managed"),
        "health_check_rate": ("health_check", "managed"),
    }[name]


def member_ids(area: Area, period: Period, options: Options, set_name: str) -> list[int]:
    """Primary keys of the patients in *set_name* for *area* and *period* (the engine's definitions)."""
    prefix = codes.significant_prefix(area.code)
    test = SETS[set_name].test
    return [int(facts.key) for facts in iter_facts(prefix, period) if test(membership(facts, prefix, period, options))]


@dataclass(frozen=True)
class Members:
    counted: int  # members of the set (the figure)
    visible: list[int]  # those the user may see, ordered by village then record


def visible_members(user: User, ids: list[int]) -> Members:
    """Narrow *ids* to ``visible_to(user)``, chunked so a large area never sends one huge IN list."""
    visible: list[tuple[str, int]] = []
    for start in range(0, len(ids), VISIBILITY_CHUNK):
        chunk = ids[start : start + VISIBILITY_CHUNK]
        visible += [
            (village, pk)
            for pk, village in Patient.objects.using(read_alias())
            .visible_to(user)
            .filter(pk__in=chunk)
            .values_list("pk", "village_id")
        ]
    return Members(counted=len(ids), visible=[pk for _village, pk in sorted(visible)])


def page_patients(user: User, ids: list[int]) -> list[Patient]:
    """The patients of one page, in the order of *ids*, with their village (one query)."""
    patients: PatientQuerySet = (
        Patient.objects.using(read_alias()).visible_to(user).filter(pk__in=ids).select_related("village")
    )
    by_pk = {patient.pk: patient for patient in patients}
    return [by_pk[pk] for pk in ids if pk in by_pk]
