"""The follow-up form on a phone (issue 13 §2): the suggestion never counts a blank item as good and says which
answers it still needs; 采用建议 works on the first tap after typing in a text field; one "各项正常" tap answers
the sleep, diet and social items (each still changeable); the save bar stays within reach; a refused submit
brings the first marked field into view with the cursor in it; a doctor's home is the work list."""

from __future__ import annotations

import re
from typing import Any

import pytest

from followup.models import FollowUp
from followup.visits import rules
from tests.base import PASSWORD, TODAY, World
from tests.browser.conftest import log_in, screenshot

CALM = {
    "risk_level": "0",
    "insight": "1",
    "locking": "1",
    "hospitalisation": "0",
    "lab": "1",
    "adherence": "1",
    "adverse_reaction": "1",
    "treatment_effect": "1",
    "referral": "1",
}


def open_form(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server, "doctor_a", PASSWORD)
    page.goto(f"{live_server.url}/followup/patients/{world.patient_a.uuid}/new/")
    page.check("input[name=mode][value='2']")
    page.check("input[name=contacts][value='1']")
    page.check("input[name=outcome][value='REACHED']")
    for name, value in CALM.items():
        page.check(f"input[name={name}][value='{value}']")


@pytest.mark.django_db(transaction=True)
def test_a_blank_item_is_not_good_and_all_normal_answers_them(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    open_form(page, live_server, world)
    box = page.locator("#suggestion")
    assert "基本稳定" in box.inner_text() and "还需填写" in box.inner_text()
    assert "睡眠情况" in page.inner_text("#suggestion .needs") and "社会人际交往" in page.inner_text(
        "#suggestion .needs"
    )
    screenshot(page, "form-needs-answers")

    page.click("[data-all-normal]")
    for name in rules.ASSESSED_ITEMS:
        assert page.is_checked(f"input[name={name}][value='1']"), name
    assert "稳定" in box.inner_text() and box.locator(".needs").count() == 0
    assert not page.is_visible("input[name=sleep][value='1']")  # folded into one line: the form is shorter
    assert page.is_visible("[data-all-normal-summary]")
    page.click("[data-all-normal-edit]")  # each item stays changeable
    assert page.evaluate("document.activeElement.name") == "sleep"
    page.check("input[name=social_work][value='9']")
    assert page.is_checked("input[name=social_work][value='9']")

    # 采用建议 on the first tap right after typing in a text field (its change event fires on the tap's blur).
    page.fill("input[name=self_harm]", "0")
    page.locator("#suggestion [data-adopt]").click()  # press, blur (change event), release
    assert page.is_checked("input[name=classification][value='3']")

    save = page.locator("#save-followup")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 3)")
    box_of_save = save.bounding_box()
    assert box_of_save is not None and box_of_save["y"] + box_of_save["height"] <= 844  # within the viewport
    screenshot(page, "form-all-normal-adopted")

    save.click()
    page.wait_for_url(re.compile(r"/timeline/$"))
    saved = FollowUp.objects.get(patient=world.patient_a, date=TODAY)
    assert (saved.classification, saved.sleep, saved.diet, saved.social_work) == (3, 1, 1, 9)


@pytest.mark.django_db(transaction=True)
def test_a_refused_form_puts_the_first_error_in_view(world: World, live_server: Any, phone_page: Any) -> None:
    page = phone_page
    open_form(page, live_server, world)
    page.click("[data-all-normal]")
    page.evaluate("document.querySelectorAll('input[name=risk_level]').forEach(el => { el.checked = false; })")
    page.click("#save-followup")
    page.wait_for_load_state("networkidle")
    field = page.locator("[data-field=risk_level]")
    assert "has-error" in (field.get_attribute("class") or "")
    assert field.is_visible() and page.evaluate("document.activeElement.name") == "risk_level"
    assert not FollowUp.objects.filter(patient=world.patient_a).exists()
    screenshot(page, "form-error-in-view")


@pytest.mark.django_db(transaction=True)
def test_a_doctors_home_is_the_work_list(world: World, live_server: Any, phone_page: Any) -> None:
    log_in(phone_page, live_server, "doctor_a", PASSWORD)
    phone_page.goto(f"{live_server.url}/")
    assert phone_page.url.endswith("/followup/worklist/")
