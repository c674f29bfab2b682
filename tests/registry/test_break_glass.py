"""Break-glass (紧急调阅, issue 14 §4): a doctor or area officer facing a patient outside their scope opens that one
record by typing the full ID number and stating a reason. The access is read-only, limited to that patient, lasts
``BREAK_GLASS_HOURS``, is audited, and is listed for the patient's own township doctors and the county officers
covering the patient until county staff acknowledge it.

Personas (tests.base): doctor_b (township B) breaks the glass on patient_a (township A); doctor_a is patient_a's
own township doctor; county_d covers both townships; police_c (case team) and admin_e may not break the glass;
county_x is the officer of another county.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casemgmt.accounts.models import AreaMembership, Role, User
from casemgmt.areas.models import Area, AreaLevel
from casemgmt.audit.models import Action, AuditEvent
from registry.access.disclosure import Disclosure, disclosure_for
from registry.access.visibility import can_write
from registry.breakglass import services as breakglass
from registry.models import BreakGlassAccess, Patient
from registry.patients import idnumber
from registry.patients.bounds import ID_NUMBER_MESSAGES
from tests.base import World, make_area, make_patient, make_user

pytestmark = pytest.mark.django_db

REASON = "急诊送来，需核对用药史"
UNREGISTERED = "11010119990101123" + idnumber.check_digit("11010119990101123")
BREAK_GLASS = reverse("registry:break_glass")
LOG = reverse("registry:break_glass_log")


@dataclass
class Other:
    """Another county with its own officer and patient: nothing of county D's break-glass reaches it."""

    county: Area
    village: Area
    county_x: User
    patient_x: Patient


@pytest.fixture
def other(world: World) -> Other:
    county = make_area("320509000000", "另一区", AreaLevel.COUNTY, world.city)
    township = make_area("320509001000", "丙街道", AreaLevel.TOWNSHIP, county)
    village = make_area("320509001001", "丙一社区", AreaLevel.VILLAGE, township)
    county_x = make_user("county_x", Role.AREA_STAFF, county)
    doctor_x = make_user("doctor_x", Role.DOCTOR, township)
    return Other(county, village, county_x, make_patient(doctor_x, village))


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(user: User) -> User:
    """The user as a new request sees it (no cached jurisdiction)."""
    return User.objects.get(pk=user.pk)


def detail(patient: Patient) -> str:
    return reverse("registry:patient_detail", kwargs={"patient_uuid": patient.uuid})


def review_url(access: BreakGlassAccess) -> str:
    return reverse("registry:break_glass_review", kwargs={"access_uuid": access.uuid})


def open_access(world: World, user: User | None = None, patient: Patient | None = None) -> BreakGlassAccess:
    result = breakglass.probe(
        actor=user or world.doctor_b, national_id=(patient or world.patient_a).national_id, reason=REASON
    )
    assert result.outcome == breakglass.Outcome.OPENED and result.access is not None
    return result.access


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).prefetch_related("subjects").order_by("id"))


def subjects(event: AuditEvent) -> list[str]:
    return [str(s.patient_uuid) for s in event.subjects.all()]


def probed(user: User) -> bool:
    return AuditEvent.objects.filter(actor=user, action__in=[Action.IDENTITY_PROBE, Action.BREAK_GLASS]).exists()


def audit_text() -> str:
    return json.dumps([[e.purpose, e.detail] for e in AuditEvent.objects.all()], ensure_ascii=False)


# --- the one rule ------------------------------------------------------------------------------------------------


def test_a_live_access_makes_that_one_patient_visible(world: World) -> None:
    another_a = make_patient(world.doctor_a, world.village_a2)
    assert not Patient.objects.visible_to(fresh(world.doctor_b)).filter(pk=world.patient_a.pk).exists()
    open_access(world)
    visible = set(Patient.objects.visible_to(fresh(world.doctor_b)))
    assert world.patient_a in visible and world.patient_b in visible
    assert another_a not in visible


def test_an_expired_access_shows_nothing(world: World) -> None:
    access = open_access(world)
    BreakGlassAccess.objects.filter(pk=access.pk).update(
        opened_at=timezone.now() - dt.timedelta(hours=5), expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert not Patient.objects.visible_to(fresh(world.doctor_b)).filter(pk=world.patient_a.pk).exists()
    response = logged_in(world.doctor_b).get(detail(world.patient_a))
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["police_c", "admin_e"])
def test_an_access_row_of_a_user_who_may_not_break_the_glass_shows_nothing(world: World, persona: str) -> None:
    """Only doctors and area staff break the glass: a row for anyone else (written by hand) opens nothing."""
    user = getattr(world, persona)
    BreakGlassAccess.objects.create(
        user=user, patient=world.patient_b, reason=REASON, expires_at=timezone.now() + dt.timedelta(hours=4)
    )
    assert not Patient.objects.visible_to(fresh(user)).filter(pk=world.patient_b.pk).exists()


def test_the_rule_keeps_its_query_count(world: World, django_assert_num_queries: Any) -> None:
    """Grants and live accesses are fetched as one id list (one query), like the grants alone before."""
    open_access(world)
    user = fresh(world.doctor_b)
    with django_assert_num_queries(3):  # memberships, the granted and broken-glass ids, the patients
        assert len(list(Patient.objects.visible_to(user))) == 2
    police = fresh(world.police_c)
    with django_assert_num_queries(2):  # the granted ids, the patients (no memberships for a case member)
        assert list(Patient.objects.visible_to(police)) == [world.patient_a]


def test_the_access_reads_the_full_record_and_never_writes(world: World) -> None:
    open_access(world)
    user = fresh(world.doctor_b)
    assert not can_write(user, world.patient_a)
    assert disclosure_for(user, Client().session, world.patient_a) == Disclosure.FULL


# --- the model -------------------------------------------------------------------------------------------------


def test_the_hours_come_from_the_setting(world: World, settings: Any) -> None:
    settings.BREAK_GLASS_HOURS = 2
    access = open_access(world)
    assert access.expires_at - access.opened_at == dt.timedelta(hours=2)
    assert (access.user, access.patient, access.reason) == (world.doctor_b, world.patient_a, REASON)
    assert access.reviewed_by is None and access.reviewed_at is None


def test_the_database_refuses_a_reason_too_short(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        BreakGlassAccess.objects.create(
            user=world.doctor_b,
            patient=world.patient_a,
            reason="看看",
            expires_at=timezone.now() + dt.timedelta(hours=4),
        )


# --- the break-glass page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["doctor_a", "doctor_b", "county_d"])
def test_doctors_and_area_staff_get_the_form(world: World, persona: str) -> None:
    response = logged_in(getattr(world, persona)).get(BREAK_GLASS)
    assert response.status_code == 200
    assert 'name="national_id"' in response.content.decode() and 'method="post"' in response.content.decode()


@pytest.mark.parametrize("persona", ["police_c", "admin_e"])
def test_case_members_and_administrators_get_404(world: World, persona: str) -> None:
    client = logged_in(getattr(world, persona))
    assert client.get(BREAK_GLASS).status_code == 404
    response = client.post(BREAK_GLASS, {"national_id": world.patient_b.national_id, "reason": REASON})
    assert response.status_code == 404
    assert not BreakGlassAccess.objects.exists()


@pytest.mark.parametrize("url", [BREAK_GLASS, LOG])
def test_anonymous_is_sent_to_login(world: World, url: str) -> None:
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_wrong_methods(world: World) -> None:
    client = logged_in(world.county_d)
    assert client.put(BREAK_GLASS).status_code == 405
    assert client.post(LOG).status_code == 405
    access = open_access(world)
    assert client.get(review_url(access)).status_code == 405


@pytest.mark.parametrize(
    ("number", "code"),
    [("1234", "shape"), (UNREGISTERED[:17] + ("1" if UNREGISTERED[17] != "1" else "2"), "check_digit")],
)
def test_a_bad_id_number_is_refused_at_the_field(world: World, number: str, code: str) -> None:
    response = logged_in(world.doctor_b).post(BREAK_GLASS, {"national_id": number, "reason": REASON})
    assert response.status_code == 200
    assert str(ID_NUMBER_MESSAGES[code]) in response.context["form"].errors["national_id"]
    assert not BreakGlassAccess.objects.exists() and not probed(world.doctor_b)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "请说明紧急调阅的理由"),
        ("   ", "请说明紧急调阅的理由"),
        ("急诊", "理由太短"),
        ("啊啊啊啊啊啊啊啊啊", "请具体说明"),
        ("核对身份 " + "320508199001011234", "请勿在理由中填写身份证号"),
        ("长" * 201, "200"),
    ],
)
def test_the_reason_must_say_something(world: World, reason: str, message: str) -> None:
    response = logged_in(world.doctor_b).post(
        BREAK_GLASS, {"national_id": world.patient_a.national_id, "reason": reason}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["reason"])
    assert not BreakGlassAccess.objects.exists() and not probed(world.doctor_b)


def test_a_patient_already_visible_just_opens_the_record(world: World) -> None:
    response = logged_in(world.doctor_a).post(
        BREAK_GLASS, {"national_id": world.patient_a.national_id.lower(), "reason": REASON}
    )
    assert response.status_code == 302 and response["Location"] == detail(world.patient_a)
    assert not BreakGlassAccess.objects.exists()
    [probe] = events(Action.IDENTITY_PROBE)
    assert subjects(probe) == [str(world.patient_a.uuid)] and probe.actor == world.doctor_a
    assert not events(Action.BREAK_GLASS)


def test_a_patient_outside_the_scope_is_opened_for_hours(world: World, settings: Any) -> None:
    settings.BREAK_GLASS_HOURS = 4
    client = logged_in(world.doctor_b)
    response = client.post(BREAK_GLASS, {"national_id": " " + world.patient_a.national_id + " ", "reason": REASON})
    assert response.status_code == 302 and response["Location"] == detail(world.patient_a)
    access = BreakGlassAccess.objects.get()
    assert (access.user, access.patient, access.reason) == (world.doctor_b, world.patient_a, REASON)
    assert access.expires_at - access.opened_at == dt.timedelta(hours=4)
    [event] = events(Action.BREAK_GLASS)
    assert subjects(event) == [str(world.patient_a.uuid)]
    assert (event.actor, event.purpose) == (world.doctor_b, REASON)
    page = client.get(response["Location"])
    assert page.status_code == 200
    until = timezone.localtime(access.expires_at).strftime("%H:%M")
    html = page.content.decode()
    assert until in html and "紧急调阅" in html
    assert world.patient_a.name in html and world.patient_a.national_id in html  # the full record, read-only
    [view] = [e for e in events(Action.VIEW) if e.actor == world.doctor_b]
    assert subjects(view) == [str(world.patient_a.uuid)]
    assert world.patient_a.national_id not in audit_text() and world.patient_a.name not in audit_text()


def test_an_unknown_number_gets_a_neutral_message(world: World) -> None:
    response = logged_in(world.doctor_b).post(BREAK_GLASS, {"national_id": UNREGISTERED, "reason": REASON})
    assert response.status_code == 200
    assert "未找到" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    [probe] = events(Action.IDENTITY_PROBE)
    assert subjects(probe) == [] and probe.actor == world.doctor_b
    assert UNREGISTERED not in audit_text()


def test_a_second_probe_during_the_access_opens_no_second_access(world: World) -> None:
    open_access(world)
    response = logged_in(world.doctor_b).post(
        BREAK_GLASS, {"national_id": world.patient_a.national_id, "reason": REASON}
    )
    assert response.status_code == 302 and response["Location"] == detail(world.patient_a)
    assert BreakGlassAccess.objects.count() == 1


def test_the_number_is_never_in_a_url_and_a_get_does_not_search(world: World) -> None:
    client = logged_in(world.doctor_b)
    response = client.get(BREAK_GLASS, {"national_id": world.patient_a.national_id, "reason": REASON})
    assert response.status_code == 200 and not BreakGlassAccess.objects.exists()
    assert world.patient_a.national_id not in response.content.decode()
    response = client.post(BREAK_GLASS, {"national_id": world.patient_a.national_id, "reason": REASON})
    assert world.patient_a.national_id not in response["Location"]


def test_area_staff_of_another_county_may_break_the_glass_too(world: World, other: Other) -> None:
    client = logged_in(other.county_x)
    response = client.post(BREAK_GLASS, {"national_id": world.patient_a.national_id, "reason": REASON})
    assert response.status_code == 302
    page = client.get(detail(world.patient_a))
    assert page.status_code == 200 and world.patient_a.national_id in page.content.decode()


WRITE_PAGES = [  # (name, methods): the write pages, and the access log (for those answerable for the patient)
    ("registry:patient_edit", ("get", "post")),
    ("registry:supplementary_edit", ("get", "post")),
    ("registry:status_change", ("get", "post")),
    ("registry:transfer_request", ("get", "post")),
    ("registry:access_log", ("get",)),
    ("followup:followup_new", ("get", "post")),
]


@pytest.mark.parametrize(("name", "methods"), WRITE_PAGES)
def test_the_write_pages_give_404_during_the_access(world: World, name: str, methods: tuple[str, ...]) -> None:
    open_access(world)
    client = logged_in(world.doctor_b)
    url = reverse(name, kwargs={"patient_uuid": world.patient_a.uuid})
    for method in methods:
        assert getattr(client, method)(url).status_code == 404


# --- the review list -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["doctor_a", "county_d"])
def test_the_patients_own_doctor_and_county_see_the_access(world: World, persona: str) -> None:
    open_access(world)
    response = logged_in(getattr(world, persona)).get(LOG)
    assert response.status_code == 200
    html = response.content.decode()
    assert REASON in html and "doctor_b" in html and "未审阅" in html
    assert (f'action="{review_url(BreakGlassAccess.objects.get())}"' in html) is (persona == "county_d")
    [listed] = [e for e in events(Action.LIST) if e.actor == getattr(world, persona)]
    assert subjects(listed) == [str(world.patient_a.uuid)]


def test_the_county_sees_a_masked_name(world: World) -> None:
    open_access(world)
    html = logged_in(world.county_d).get(LOG).content.decode()
    assert world.patient_a.name not in html and world.patient_a.national_id not in html


def test_other_doctors_and_counties_do_not_see_it(world: World, other: Other) -> None:
    access = open_access(world)
    for user in (world.doctor_b, other.county_x):
        response = logged_in(user).get(LOG)
        assert response.status_code == 200 and REASON not in response.content.decode()
        assert logged_in(user).post(review_url(access), {"note": "看过"}).status_code == 404
    access.refresh_from_db()
    assert access.reviewed_at is None


@pytest.mark.parametrize("persona", ["police_c", "admin_e"])
def test_case_members_and_administrators_get_404_on_the_list(world: World, persona: str) -> None:
    access = open_access(world)
    client = logged_in(getattr(world, persona))
    assert client.get(LOG).status_code == 404
    assert client.post(review_url(access), {}).status_code == 404


def test_anonymous_review_is_sent_to_login(world: World) -> None:
    access = open_access(world)
    response = Client().post(review_url(access), {})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_county_acknowledges_with_a_note(world: World) -> None:
    access = open_access(world)
    client = logged_in(world.county_d)
    response = client.post(review_url(access), {"note": "已电话核实"})
    assert response.status_code == 302 and response["Location"] == LOG
    access.refresh_from_db()
    assert (access.reviewed_by, access.review_note) == (world.county_d, "已电话核实")
    assert access.reviewed_at is not None
    [event] = events(Action.BREAK_GLASS_REVIEW)
    assert subjects(event) == [str(world.patient_a.uuid)] and event.actor == world.county_d
    assert "已审阅" in client.get(LOG).content.decode()
    reviewed_at = access.reviewed_at
    client.post(review_url(access), {"note": "再次"})  # a second acknowledgement changes nothing
    access.refresh_from_db()
    assert (access.reviewed_at, access.review_note) == (reviewed_at, "已电话核实")
    assert len(events(Action.BREAK_GLASS_REVIEW)) == 1


def test_the_review_note_is_optional_and_bounded(world: World) -> None:
    access = open_access(world)
    client = logged_in(world.county_d)
    response = client.post(review_url(access), {"note": "长" * 201})
    assert response.status_code == 200 and "200" in response.content.decode()
    access.refresh_from_db()
    assert access.reviewed_at is None and not events(Action.BREAK_GLASS_REVIEW)
    assert client.post(review_url(access), {}).status_code == 302
    access.refresh_from_db()
    assert access.reviewed_by == world.county_d and access.review_note == ""


def test_the_patients_doctor_may_not_acknowledge(world: World) -> None:
    access = open_access(world)
    assert logged_in(world.doctor_a).post(review_url(access), {"note": "看过"}).status_code == 403
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_the_county_sees_the_unreviewed_count_in_the_navigation(world: World) -> None:
    client = logged_in(world.county_d)
    assert 'data-unreviewed="0"' in client.get(LOG).content.decode()
    access = open_access(world)
    open_access(world, user=world.doctor_a, patient=world.patient_b)
    html = client.get(reverse("registry:patient_list")).content.decode()
    assert 'data-unreviewed="2"' in html
    breakglass.review(actor=world.county_d, access=access, note="")
    assert 'data-unreviewed="1"' in client.get(reverse("registry:patient_list")).content.decode()
    doctor_html = logged_in(world.doctor_a).get(reverse("registry:patient_list")).content.decode()
    assert BREAK_GLASS in doctor_html and "data-unreviewed" not in doctor_html


def test_every_record_page_says_until_when_the_access_lasts(world: World) -> None:
    """Not only the flash after opening: each page of the record, while the access lasts, says it ends at HH:MM."""
    access = open_access(world)
    until = timezone.localtime(access.expires_at).strftime("%H:%M")
    client = logged_in(world.doctor_b)
    for url in (detail(world.patient_a), reverse("followup:timeline", kwargs={"patient_uuid": world.patient_a.uuid})):
        html = client.get(url).content.decode()
        assert f'data-break-glass-until="{until}"' in html, url
    own = client.get(detail(world.patient_b)).content.decode()
    assert "data-break-glass-until" not in own


def test_unanswered_probes_are_limited_per_hour(world: World, settings: Any) -> None:
    """Numbers nobody has cannot be tried without end (finding out whether someone is registered by trying the
    thousand numbers of a birth date): past the hourly limit the form refuses, says why, and looks nothing up."""
    settings.BREAK_GLASS_UNANSWERED_PROBES_PER_HOUR = 3
    client = logged_in(world.doctor_b)
    for sequence in range(3):
        first17 = f"110101199901011{sequence:02d}"
        number = first17 + idnumber.check_digit(first17)
        assert "未找到" in client.post(BREAK_GLASS, {"national_id": number, "reason": REASON}).content.decode()
    response = client.post(BREAK_GLASS, {"national_id": world.patient_a.national_id, "reason": REASON})
    assert response.status_code == 200 and "查询次数过多" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    assert len(events(Action.IDENTITY_PROBE)) == 3
    # Others are not affected, and the limit is per hour.
    other_doctor = logged_in(world.doctor_a).post(BREAK_GLASS, {"national_id": UNREGISTERED, "reason": REASON})
    assert "未找到" in other_doctor.content.decode()
    # An hour later the count starts again (the same function the view asks, with a later clock).
    assert breakglass.too_many_unanswered(world.doctor_b)
    later = timezone.now() + dt.timedelta(hours=1, minutes=1)
    assert not breakglass.too_many_unanswered(world.doctor_b, now=later)


def test_the_patients_emergency_records_are_read_during_the_access(world: World) -> None:
    """The record's emergency panel links to its emergency records: they open (read-only) during the access, those
    of the township's other patients do not, and their write pages answer 404."""
    from followup.emergencies import services as emergencies

    def record(patient: Patient) -> Any:
        now = timezone.now()
        values = {"occurred_at": now - dt.timedelta(hours=2), "place": "路边"}
        return emergencies.record_emergency(
            actor=world.doctor_a, values=values, handler=None, complete=False, now=now, patient=patient
        )

    theirs, another = record(world.patient_a), record(make_patient(world.doctor_a, world.village_a2))
    client = logged_in(world.doctor_b)

    def url(name: str, emergency: Any) -> str:
        return reverse(f"followup:{name}", kwargs={"emergency_uuid": emergency.uuid})

    assert client.get(url("emergency_detail", theirs)).status_code == 404
    open_access(world)
    assert client.get(url("emergency_detail", theirs)).status_code == 200
    assert client.get(url("emergency_detail", another)).status_code == 404
    assert client.get(url("emergency_edit", theirs)).status_code == 404
    assert client.post(url("emergency_link", theirs)).status_code == 404
    [view] = [e for e in events(Action.VIEW) if e.actor == world.doctor_b]
    assert subjects(view) == [str(world.patient_a.uuid)]


def test_the_patients_follow_ups_are_read_during_the_access(world: World) -> None:
    """The timeline of a record opened by break-glass links to each follow-up: they open (read-only), and only
    while the access lasts."""
    from tests.followup.base import record

    followup = record(world.patient_a, world.doctor_a)
    url = reverse(
        "followup:followup_detail", kwargs={"patient_uuid": world.patient_a.uuid, "followup_uuid": followup.uuid}
    )
    client = logged_in(world.doctor_b)
    assert client.get(url).status_code == 404
    access = open_access(world)
    timeline = client.get(reverse("followup:timeline", kwargs={"patient_uuid": world.patient_a.uuid}))
    assert url in timeline.content.decode()
    assert client.get(url).status_code == 200
    BreakGlassAccess.objects.filter(pk=access.pk).update(
        opened_at=timezone.now() - dt.timedelta(hours=5), expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(url).status_code == 404


def test_nobody_acknowledges_their_own_access(world: World, other: Other) -> None:
    """county_x opened a patient of county D, then came to cover county D too: the review is someone else's."""
    access = open_access(world, user=other.county_x)
    AreaMembership.objects.create(user=other.county_x, area=world.county)
    client = logged_in(other.county_x)
    html = client.get(LOG).content.decode()
    assert REASON in html and f'action="{review_url(access)}"' not in html
    assert client.post(review_url(access), {"note": "本人"}).status_code == 403
    access.refresh_from_db()
    assert access.reviewed_at is None
    assert logged_in(world.county_d).post(review_url(access), {}).status_code == 302
