import datetime

from django.utils import timezone
from playwright.sync_api import expect

from casemgmt.casefile_services import record_create
from casemgmt.models import Stage
from programs.models import MentoringConfidentialNote
from tests.browser.conftest import log_in
from tests.factories import case_move_stage, northern_case
from tests.programs.helpers import activate, make_profile

SUMMARY = "Read the verses on mercy together; calm and engaged."
SECRET = "He fears his cousin who still recruits (confidential)."


def test_mentor_logs_a_session_and_the_caseworker_reads_the_summary_not_the_notes(page, demo):
    case = northern_case(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    make_profile(demo["supervisor"], demo["mentor"])
    activate(case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])
    goal = record_create(
        key="goal",
        case=case,
        by=demo["caseworker"],
        data={"domain": "ideology", "title": "Review of the recruiter's narrative", "owner": demo["caseworker"]},
    )

    log_in(page, "mentor")
    portal = page.get_by_test_id("mentor-portal")
    expect(portal).to_contain_text(case.participant.case_code)
    portal.get_by_role("link", name="Log a session").click()
    when = timezone.localtime() - datetime.timedelta(days=1)
    page.get_by_label("Date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Place").select_option("mosque")
    page.get_by_label("How did it go?").select_option("attended")
    page.get_by_label("Duration (minutes)").fill("50")
    page.get_by_label("Ideological review").check()
    page.get_by_label("Ideology goal").select_option(str(goal.pk))
    page.get_by_label("Progress on that goal").select_option("4")
    page.get_by_label("Shareable summary").fill(SUMMARY)
    page.get_by_label("Confidential notes").fill(SECRET)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("sessions")).to_contain_text(SUMMARY[:40])
    assert MentoringConfidentialNote.objects.get().text == SECRET

    page.context.clear_cookies()
    log_in(page, "caseworker")
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="Mentoring", exact=True).last.click()
    expect(page.get_by_test_id("sessions")).to_contain_text(SUMMARY[:40])
    expect(page.get_by_test_id("ratings")).to_contain_text("4/5")
    assert SECRET not in page.content()
    page.get_by_test_id("sessions").get_by_role("link", name="Open").click()
    expect(page.get_by_test_id("summary")).to_contain_text(SUMMARY)
    expect(page.get_by_test_id("confidential")).to_have_count(0)
    assert SECRET not in page.content()
