from playwright.sync_api import expect

from casemgmt import services
from casemgmt.models import Case, Stage
from tests.browser.conftest import log_in
from tests.factories import case_move_stage, northern_case


def test_caseworker_searches_a_name_opens_the_case_and_records_an_exit(page, demo):
    case = northern_case(demo)
    services.case_profile_update(
        case=case, by=demo["caseworker"], changes={"given_name_latin": "Noé", "family_name_latin": "Chérkaoui"}
    )
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    log_in(page, "caseworker")
    page.get_by_role("link", name="Cases", exact=True).click()
    page.get_by_label("Case code or name").fill("cherkaoui")  # typed without the accent
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=case.participant.case_code).click()
    expect(page.get_by_test_id("stage")).to_have_text("Active")

    page.locator("summary", has_text="Record the exit").click()
    page.get_by_label("Exit reason").select_option("goals_met")
    page.get_by_label("Employment").select_option("employed")
    page.get_by_role("button", name="Record the exit").click()

    expect(page.get_by_test_id("stage")).to_have_text("Exited")
    assert Case.objects.get(pk=case.pk).exit_reason == "goals_met"
