import datetime

from django.utils import timezone
from playwright.sync_api import expect

from casemgmt.casefile_services import record_create
from casemgmt.models import Stage
from families import services as fs
from families.models import CounsellingConfidentialNote
from tests.browser.conftest import log_in
from tests.factories import case_move_stage, northern_case

SUMMARY = "The parents agreed to visit the school together; calm conversation."
SECRET = "The mother fears her husband's reaction (confidential)."


def test_counsellor_logs_a_session_and_the_caseworker_reads_the_summary_not_the_notes(page, demo):
    case = northern_case(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    record_create(
        key="consent",
        case=case,
        by=demo["caseworker"],
        data={"purpose": "Family counselling", "categories": ["family_contact"], "given_on": timezone.localdate()},
    )
    # the lead opens the engagement before the family is recorded; its counsellor records the mother
    engagement = fs.engagement_create(
        case=case, by=demo["caseworker"], kind="parent_coaching", counsellors=[demo["counsellor"]]
    )

    log_in(page, "counsellor")
    portal = page.get_by_test_id("counsellor-portal")
    expect(portal).to_contain_text(case.participant.case_code)
    page.goto(f"/cases/{case.pk}/family/")
    page.get_by_role("link", name="Add a family member").click()
    page.get_by_label("Relation to the participant").select_option("mother")
    page.get_by_label("Given name").fill("Naima")
    page.locator("#id_family_name").fill("Elyazidi")
    expect(page.get_by_label(str(engagement))).to_be_checked()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("members")).to_contain_text("Naima Elyazidi")
    page.goto("/")
    page.get_by_test_id("counsellor-portal").get_by_role("link", name="Log a session").click()
    when = timezone.localtime() - datetime.timedelta(days=1)
    page.get_by_label("Date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Type").select_option("family")
    page.get_by_label("How did it go?").select_option("attended")
    page.get_by_label("Duration (minutes)").fill("50")
    page.get_by_label("Naima Elyazidi").check()
    page.get_by_label("Shareable summary").fill(SUMMARY)
    page.get_by_label("Confidential notes").fill(SECRET)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("sessions")).to_contain_text(SUMMARY[:40])
    assert CounsellingConfidentialNote.objects.get().text == SECRET

    page.context.clear_cookies()
    log_in(page, "caseworker")
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Family", exact=True).last.click()
    expect(page.get_by_test_id("sessions")).to_contain_text(SUMMARY[:40])
    assert SECRET not in page.content()
    expect(page.get_by_role("link", name="Add a family member")).to_have_count(0)  # the caseworker reads
    page.get_by_test_id("sessions").get_by_role("link", name="Open").click()
    expect(page.get_by_test_id("summary")).to_contain_text(SUMMARY)
    expect(page.get_by_test_id("attendees")).to_contain_text("Naima Elyazidi")
    expect(page.get_by_test_id("confidential")).to_have_count(0)
    assert SECRET not in page.content()
