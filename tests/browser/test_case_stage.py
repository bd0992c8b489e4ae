from playwright.sync_api import expect

from casemgmt.models import Case, Stage
from tests.browser.conftest import log_in
from tests.factories import northern_case


def test_caseworker_opens_a_case_and_moves_it_to_the_next_stage(page, demo):
    case = northern_case(demo)
    log_in(page, "caseworker")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_role("link", name=case.participant.case_code).click()
    expect(page.get_by_test_id("stage")).to_have_text("Referral")

    page.get_by_label("Screening").check()
    page.get_by_label("Reason", exact=True).fill("First contact made by phone")
    page.get_by_role("button", name="Move the case").click()

    expect(page.get_by_test_id("stage")).to_have_text("Screening")
    expect(page.get_by_role("status").first).to_contain_text("The case moved to")
    assert Case.objects.get(pk=case.pk).stage == Stage.SCREENING


def test_caseworker_opens_a_new_case_from_a_referral(page, demo):
    log_in(page, "caseworker")
    page.goto("/cases/new/")
    page.get_by_label("Given name (Latin script)").fill("Walid")
    page.get_by_label("Family name (Latin script)").fill("Testaoui")
    page.get_by_label("City").select_option(label="Fes (FES)")
    page.get_by_label("Referral source").select_option("family")
    page.get_by_label("Referral date").fill("2026-11-01")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("FES-")
    expect(page.get_by_test_id("stage")).to_have_text("Referral")
