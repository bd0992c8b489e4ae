import re

from playwright.sync_api import expect

from casemgmt.casefile import Goal
from casemgmt.default_template import ensure_default_template
from casemgmt.models import Case, Stage
from tests.browser.conftest import log_in
from tests.factories import case_move_stage, northern_case


def test_caseworker_screens_a_referral_records_an_assessment_and_adds_a_goal(page, demo):
    ensure_default_template()  # transactional tests flush the rows the data migration made
    case = northern_case(demo)
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="First contact planned")
    log_in(page, "caseworker")
    page.goto(f"/cases/{case.pk}/")

    # Screening: accept
    page.get_by_label("First contact").fill("2026-11-20")
    page.get_by_label("Accept").check()
    page.get_by_label("Reason for the decision").fill("Meets the criteria; motivated")
    page.get_by_role("button", name="Record the screening").click()
    expect(page.get_by_test_id("stage")).to_have_text("Assessment")

    # Assessment: rate every item
    page.get_by_role("link", name="Assessments", exact=True).click()
    expect(page.get_by_role("heading", name="Assessments")).to_be_visible()
    page.get_by_role("link", name="Add", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("New assessment"))).to_be_visible()
    expect(page.locator("select[name^=rating_]")).to_have_count(19)
    for select in page.locator("select[name^=rating_]").all():
        select.select_option("2")
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.get_by_test_id("risk-band")).to_have_text("Medium")

    # Plan goal
    page.get_by_role("link", name="Reintegration plan", exact=True).click()
    expect(page.get_by_role("heading", name="Reintegration plan")).to_be_visible()
    page.get_by_role("link", name="Add", exact=True).click()
    page.get_by_label("Domain").select_option("employment")
    page.get_by_label("Goal").fill("Find a job in logistics")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a job in logistics")

    assert Case.objects.get(pk=case.pk).stage == Stage.ASSESSMENT
    assert Goal.objects.get(case=case).owner == demo["caseworker"]
