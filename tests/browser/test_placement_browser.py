from playwright.sync_api import expect

from casemgmt.models import Stage
from programs.models import CheckIn, Opportunity, Placement
from tests.browser.conftest import log_in
from tests.factories import case_move_stage, northern_case
from tests.programs.placements.conftest import make_partner


def test_placement_officer_publishes_an_opportunity_places_a_participant_and_records_the_30_day_check_in(page, demo):
    case = northern_case(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    make_partner(demo["placement"], name="Harbour Logistics")
    code = case.participant.case_code
    log_in(page, "placement")

    # Opportunity board → new opportunity
    page.get_by_role("link", name="Opportunities", exact=True).click()
    expect(page.get_by_role("heading", name="Opportunity board")).to_be_visible()
    page.get_by_role("link", name="New opportunity").click()
    page.get_by_label("Partner").select_option(label="Harbour Logistics")
    page.get_by_label("Title").fill("Port warehouse operative")
    page.get_by_label("Kind").select_option("job")
    page.get_by_label("Sector").select_option("logistics")
    page.get_by_label("City").select_option(label="Tangier (TNG)")
    page.get_by_label("Places").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Port warehouse operative")).to_be_visible()
    expect(page.get_by_test_id("places")).to_contain_text("2 of 2 free")

    # Candidates among the officer's cases: propose the participant
    row = page.locator(f"[data-candidate='{case.pk}']")
    expect(row).to_contain_text(code)
    row.get_by_role("button", name="Propose").click()
    expect(page.get_by_test_id("placement-status")).to_have_text("Proposed")

    # Accepted by the partner (recorded on its behalf), then started
    page.get_by_label("New status").select_option("accepted")
    page.get_by_role("button", name="Record the step").click()
    expect(page.get_by_test_id("placement-status")).to_have_text("Accepted by the partner")
    page.get_by_label("New status").select_option("started")
    page.get_by_role("button", name="Record the step").click()
    expect(page.get_by_test_id("placement-status")).to_have_text("Started")

    # The 30-day check-in
    check_in = page.locator("[data-check-in='30']")
    check_in.get_by_label("Still there").select_option("true")
    check_in.get_by_label("Hours per week").fill("35")
    check_in.get_by_label("Participant satisfaction").select_option("4")
    check_in.get_by_role("button", name="Save the 30-day check-in").click()
    expect(page.get_by_test_id("check-in-30")).to_contain_text("still there")

    placement = Placement.objects.get(case=case)
    assert placement.status == "started"
    assert placement.opportunity == Opportunity.objects.get(title="Port warehouse operative")
    recorded = CheckIn.objects.get(placement=placement, day=30)
    assert (recorded.still_there, recorded.hours_per_week, recorded.recorded_by) == (True, 35, demo["placement"])
