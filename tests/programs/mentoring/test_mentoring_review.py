"""Findings of the security review of mentoring (issue 6), each kept as the behaviour it asked for:
transfer, exit and closure settle the mentoring; a mentor's view ends with the assignment; ids of
other cases' goals and of mentors cannot be probed; hand-over, suspension, the team API and bad input."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, User
from casemgmt import casefile_services as cs
from casemgmt.models import Stage
from programs import mentoring_services as ms
from tests.factories import case_move_stage, northern_case
from tests.programs.helpers import activate

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def atlantic():
    return Organisation.objects.get(name="Atlantic Family Support Association")


@pytest.fixture
def atlantic_manager(demo, atlantic):
    user = User.objects.create_user("atl-mgr-probe", password="x-long-password-2026", first_name="A", last_name="M")
    Membership.objects.create(user=user, organisation=atlantic, role=Role.MANAGER)
    return user


def _transfer(demo, case, atlantic, atlantic_manager):
    consent = cs.record_create(
        key="consent",
        case=case,
        by=demo["caseworker"],
        data={"purpose": "Transfer", "recipient": atlantic, "categories": ["identity"], "given_on": YESTERDAY},
    )
    transfer = cs.transfer_request(
        case=case, by=demo["caseworker"], to_organisation=atlantic, consent=consent, reason="x"
    )
    cs.transfer_decide(transfer=transfer, by=atlantic_manager, accept=True)


# --- 1. Transfer leaves the mentoring open ------------------------------------------------------


def test_transfer_does_not_leave_the_mentor_reading_names_of_a_case_they_lost(
    client, demo, assignment, atlantic, atlantic_manager
):
    case = assignment.case
    _transfer(demo, case, atlantic, atlantic_manager)
    client.force_login(demo["mentor"])
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404  # team rows were deleted...
    home = client.get(reverse("mentoring-home")).content.decode()
    # ...but the still-"active" assignment keeps the participant's name and code on the mentor's portal
    assert case.participant.given_name_latin not in home
    assert case.participant.case_code not in home


def test_transfer_settles_open_assignments(demo, profiles, active_case, atlantic, atlantic_manager):
    """A proposal made by the sending NGO must not be approvable by the receiving NGO's manager
    (nor an active assignment survive without its team row)."""
    proposal = ms.mentor_propose(case=active_case, by=demo["caseworker"], mentor=demo["mentor"])
    _transfer(demo, active_case, atlantic, atlantic_manager)
    response = _api(atlantic_manager).post(f"/api/v1/mentor-assignments/{proposal.pk}/approve/")
    proposal.refresh_from_db()
    assert proposal.status not in ("proposed", "approved", "active"), (response.status_code, proposal.status)


# --- 2. Closing a case strands the assignment ----------------------------------------------------


def test_closing_a_case_ends_its_mentoring_and_frees_the_place(demo, profiles, active_case):
    # mentor2 has capacity 1
    a = activate(active_case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor2"])
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="done")
    case_move_stage(case=active_case, by=demo["manager"], to_stage=Stage.CLOSED, reason="done")
    # nobody can end it any more (can_end and lock_writable refuse on a closed case: 400)
    _api(demo["manager"]).post(f"/api/v1/mentor-assignments/{a.pk}/end/", {"reason": "closed"})
    a.refresh_from_db()
    assert a.status != "active", "closed case keeps an active assignment forever: mentor stays on the team"
    other = northern_case(demo, stage_path=[Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE])
    ms.mentor_propose(case=other, by=demo["caseworker"], mentor=demo["mentor2"])  # place freed


# --- 3. The mentor's page shows more than their side of the assignment -------------------------


def test_mentor_page_does_not_show_the_end_reason_written_by_staff(client, demo, assignment):
    marker = "END-REASON-MARKER: participant re-arrested"
    ms.mentor_assignment_end(assignment=assignment, by=demo["manager"], reason=marker)
    client.force_login(demo["mentor"])
    response = client.get(reverse("mentoring-assignment", args=[assignment.pk]))
    api = _api(demo["mentor"]).get(f"/api/v1/mentor-assignments/{assignment.pk}/")
    assert marker not in api.content.decode()  # the API's mentor side leaves it out...
    assert marker not in response.content.decode()  # ...the page does not


def test_former_mentor_no_longer_sees_the_former_mentee(client, demo, assignment):
    ms.mentor_assignment_end(assignment=assignment, by=demo["manager"], reason="done")
    client.force_login(demo["mentor"])
    assert client.get(reverse("mentoring-assignment", args=[assignment.pk])).status_code == 404
    assert _api(demo["mentor"]).get("/api/v1/mentor-assignments/").json()["results"] == []


# --- 4. Oracle on other cases' goals in the log endpoint -----------------------------------------


def test_log_answers_the_same_for_a_goal_of_another_case_and_a_missing_goal(demo, assignment, session):
    other = northern_case(demo)
    foreign = cs.record_create(
        key="goal",
        case=other,
        by=demo["caseworker"],
        data={"domain": "ideology", "title": "x", "owner": demo["caseworker"]},
    )
    api = _api(demo["mentor"])
    body = {"status": "attended", "duration_minutes": 30, "progress_rating": 2}
    a = api.post(f"/api/v1/mentoring-sessions/{session.pk}/log/", {**body, "goal": foreign.pk}, format="json")
    b = api.post(f"/api/v1/mentoring-sessions/{session.pk}/log/", {**body, "goal": 987654321}, format="json")
    assert a.status_code == b.status_code == 400
    assert a.json()["errors"]["goal"] == [m.replace("987654321", str(foreign.pk)) for m in b.json()["errors"]["goal"]]


# --- 5. Bad input never answers 500 (expected to pass) -------------------------------------------


def test_bad_input_is_400_or_404(demo, assignment, session):
    mentor, lead, manager = _api(demo["mentor"]), _api(demo["caseworker"]), _api(demo["manager"])
    calls = [
        (lead.post, "/api/v1/mentor-assignments/", {"case": "abc", "mentor": "x"}),
        (lead.post, "/api/v1/mentor-assignments/", {"case": 10**30, "mentor": demo["mentor"].pk}),
        (lead.post, "/api/v1/mentor-assignments/", {"case": assignment.case_id, "mentor": 10**30}),
        (lead.post, "/api/v1/mentor-assignments/", [1, 2]),
        (lead.get, "/api/v1/mentor-assignments/?case=1e3", None),
        (lead.get, "/api/v1/mentor-assignments/?status=zzz", None),
        (lead.get, "/api/v1/mentors/match/?case=" + str(10**30), None),
        (lead.get, f"/api/v1/mentors/match/?case={assignment.case_id}&gender=x", None),
        (manager.post, f"/api/v1/mentor-assignments/{assignment.pk}/end/", ["x"]),
        (mentor.post, f"/api/v1/mentoring-sessions/{session.pk}/log/", {"status": "attended", "goal": "abc"}),
        (mentor.post, f"/api/v1/mentoring-sessions/{session.pk}/log/", {"status": "attended", "goal": 10**30}),
        (mentor.post, f"/api/v1/mentoring-sessions/{session.pk}/log/", {"status": "attended", "topics": "texts"}),
        (mentor.post, f"/api/v1/mentoring-sessions/{session.pk}/log/", {"status": "attended", "starts_at": "x"}),
        (
            mentor.post,
            f"/api/v1/mentoring-sessions/{session.pk}/log/",
            {"status": "attended", "duration_minutes": 30, "starts_at": "0001-01-01T00:00:00+05:00"},
        ),
        (mentor.post, "/api/v1/mentoring-sessions/", {"assignment": 10**30, "starts_at": "x", "place_type": "y"}),
        (
            mentor.post,
            "/api/v1/mentoring-sessions/",
            {"assignment": assignment.pk, "starts_at": "9999-12-31T23:59:59-14:00", "place_type": "office"},
        ),
        (mentor.get, "/api/v1/mentoring-sessions/?case=-1", None),
    ]
    for method, url, data in calls:
        response = method(url, data, format="json") if data is not None else method(url)
        assert response.status_code < 500, (url, data, response.status_code)


# --- 6. Checks expected to pass -------------------------------------------------------------------


def test_hand_over_new_mentor_sees_none_of_the_predecessors_sessions(client, demo, assignment, session):
    ms.mentor_assignment_end(assignment=assignment, by=demo["manager"], reason="hand-over")
    activate(assignment.case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor2"])
    api = _api(demo["mentor2"])
    assert api.get(f"/api/v1/mentoring-sessions/{session.pk}/").status_code == 404
    assert api.get("/api/v1/mentoring-sessions/").json()["results"] == []
    timeline = api.get(f"/api/v1/cases/{assignment.case_id}/timeline/").content.decode()
    client.force_login(demo["mentor2"])
    page = client.get(reverse("case-mentoring", args=[assignment.case_id])).content.decode()
    from tests.programs.mentoring.conftest import SECRET, SUMMARY

    for body in (timeline, page):
        assert SUMMARY not in body
        assert SECRET not in body
    assert client.get(reverse("mentoring-session", args=[session.pk])).status_code == 404
    # the old mentor is gone
    assert _api(demo["mentor"]).get(f"/api/v1/cases/{assignment.case_id}/").status_code == 404


def test_suspended_mentor_reaches_nothing_through_core_endpoints(demo, assignment, session, ideology_goal):
    from programs.models import MentorProfile

    MentorProfile.objects.filter(user=demo["mentor"]).update(vetting_status="suspended")
    api = _api(demo["mentor"])
    cid = assignment.case_id
    for url in (
        f"/api/v1/cases/{cid}/",
        f"/api/v1/cases/{cid}/timeline/",
        f"/api/v1/cases/{cid}/team/",
        f"/api/v1/goals/{ideology_goal.pk}/",
        f"/api/v1/mentoring-sessions/{session.pk}/",
        f"/api/v1/mentor-assignments/{assignment.pk}/",
        f"/api/v1/participants/{assignment.case.participant_id}/",
    ):
        assert api.get(url).status_code == 404, url
    for url in (
        "/api/v1/cases/",
        "/api/v1/participants/",
        "/api/v1/goals/",
        "/api/v1/attachments/",
        "/api/v1/mentoring-sessions/",
        "/api/v1/mentor-assignments/",
        f"/api/v1/safety-flags/?case={cid}",
    ):
        assert api.get(url).json()["results"] == [], url
    assert api.post(f"/api/v1/mentor-assignments/{assignment.pk}/end/", {"reason": "x"}).status_code == 404
    assert api.post(f"/api/v1/mentoring-sessions/{session.pk}/log/", {"status": "no_show"}).status_code == 404


def test_team_api_cannot_add_or_remove_a_mentor(demo, assignment, profiles):
    from casemgmt.models import CaseTeamMember

    lead = _api(demo["caseworker"])
    cid = assignment.case_id
    member = CaseTeamMember.objects.get(case_id=cid, user=demo["mentor"])
    assert lead.delete(f"/api/v1/cases/{cid}/team/{member.pk}/").status_code == 400
    add = lead.post(f"/api/v1/cases/{cid}/team/", {"user": demo["mentor2"].pk, "role": "mentor"}, format="json")
    assert add.status_code == 400
    manager = _api(demo["manager"])
    assert manager.delete(f"/api/v1/cases/{cid}/team/{member.pk}/").status_code == 400
    assert CaseTeamMember.objects.filter(case_id=cid, user=demo["mentor"]).exists()


def test_no_files_on_mentoring_sessions(demo, assignment, session):
    """Nothing in a session is for files, and a mentor would take them for private: refused for all."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    for name in ("mentor", "caseworker"):
        upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%probe\n", content_type="application/pdf")
        response = _api(demo[name]).post(
            "/api/v1/attachments/",
            {"case": assignment.case_id, "record_type": "mentoring_session", "record_id": session.pk, "file": upload},
            format="multipart",
        )
        assert response.status_code in (400, 404), name
    assert _api(demo["caseworker"]).get(f"/api/v1/attachments/?case={assignment.case_id}").json()["results"] == []
