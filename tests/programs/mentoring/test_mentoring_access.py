"""Who opens what in mentoring, page by page and endpoint by endpoint (404 outside scope), and the
confidential notes, which reach nobody but their mentor on any page, API answer or history view."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from programs import mentoring_services as ms
from programs.models import MentorAssignment, MentoringSession
from tests.programs.mentoring.conftest import SECRET, SUMMARY

pytestmark = pytest.mark.django_db

EVERYONE = [
    "caseworker",
    "colleague",
    "placement",
    "counsellor",
    "manager",
    "auditor",
    "admin",
    "caseworker2",
    "mentor",
    "mentor2",
    "supervisor",
    "authority",
]
CASE_STAFF = {"caseworker", "manager"}  # `colleague` is not on this case's team


def _client(client, demo, name):
    client.force_login(demo[name])
    return client


def _api(demo, name):
    api = APIClient()
    api.force_authenticate(demo[name])
    return api


@pytest.mark.parametrize("name", EVERYONE)
def test_case_mentoring_page(client, demo, session, name):
    response = _client(client, demo, name).get(reverse("case-mentoring", args=[session.case_id]))
    expected = 200 if name in CASE_STAFF | {"mentor"} else 404
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        assert SUMMARY in body
        assert SECRET not in body


@pytest.mark.parametrize("name", EVERYONE)
def test_session_page_shows_confidential_notes_to_their_mentor_only(client, demo, session, name):
    response = _client(client, demo, name).get(reverse("mentoring-session", args=[session.pk]))
    expected = 200 if name in CASE_STAFF | {"mentor"} else 404
    assert response.status_code == expected
    if expected == 200:
        assert (SECRET in response.content.decode()) == (name == "mentor")


@pytest.mark.parametrize("name", EVERYONE)
def test_session_api_and_timeline_never_carry_the_notes_to_others(demo, session, name):
    api = _api(demo, name)
    listing = api.get("/api/v1/mentoring-sessions/")
    detail = api.get(f"/api/v1/mentoring-sessions/{session.pk}/")
    timeline = api.get(f"/api/v1/cases/{session.case_id}/timeline/")
    sees = name in CASE_STAFF | {"mentor"}
    assert detail.status_code == (200 if sees else 404)
    assert listing.status_code == 200
    assert [r["id"] for r in listing.json()["results"]] == ([session.pk] if sees else [])
    for response in (listing, detail, timeline):
        assert (SECRET in response.content.decode()) == (name == "mentor" and response is not timeline), name
    if sees:
        assert "mentoring" in {e["kind"] for e in timeline.json()["results"]}


@pytest.mark.parametrize("name", ["caseworker", "manager", "auditor"])
def test_history_views_never_show_the_notes(client, demo, session, name):
    ms.session_log(by=demo["mentor"], session=session, data={"summary": "second"}, confidential_notes=SECRET + " v2")
    response = _client(client, demo, name).get(reverse("case-history", args=[session.case_id]))
    assert SECRET not in response.content.decode()
    if response.status_code == 200:
        assert "second" in response.content.decode()  # the session's own history is there


def test_nothing_in_the_admin_or_the_schema_exposes_the_notes(client, superuser, session):
    client.force_login(superuser)
    from django.contrib import admin

    from programs.models import MentoringConfidentialNote

    assert MentoringConfidentialNote not in admin.site._registry
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert "MentoringConfidentialNote" not in schema.content.decode()


@pytest.mark.parametrize("name", EVERYONE)
def test_assignment_page_and_api(client, demo, assignment, name):
    page = _client(client, demo, name).get(reverse("mentoring-assignment", args=[assignment.pk]))
    api = _api(demo, name).get(f"/api/v1/mentor-assignments/{assignment.pk}/")
    expected = 200 if name in CASE_STAFF | {"mentor"} else 404
    assert page.status_code == expected
    assert api.status_code == expected
    if name == "mentor":
        assert "proposal_note" not in api.json()  # the mentor's side only


def test_a_proposed_mentor_sees_only_what_they_need(client, demo, profiles, active_case):
    a = ms.mentor_propose(case=active_case, by=demo["caseworker"], mentor=demo["mentor"], gender_preference="male")
    assert _api(demo, "mentor").get(f"/api/v1/mentor-assignments/{a.pk}/").status_code == 404  # before approval
    ms.mentor_assignment_decide(assignment=a, by=demo["manager"], approve=True)
    body = _api(demo, "mentor").get(f"/api/v1/mentor-assignments/{a.pk}/").json()
    assert set(body) == {
        "id",
        "case",
        "case_code",
        "city",
        "languages",
        "gender_preference",
        "status",
        "started_on",
        "ended_on",
    }
    page = _client(client, demo, "mentor").get(reverse("mentoring-assignment", args=[a.pk])).content.decode()
    participant = active_case.participant
    assert participant.case_code in page
    assert participant.family_name_latin not in page
    assert participant.national_id not in page
    assert client.get(reverse("case-detail", args=[active_case.pk])).status_code == 404


@pytest.mark.parametrize("name", EVERYONE)
def test_matching_page_and_endpoint(client, demo, profiles, active_case, name):
    page = _client(client, demo, name).get(reverse("case-mentoring-match", args=[active_case.pk]))
    api = _api(demo, name).get("/api/v1/mentors/match/", {"case": active_case.pk})
    allowed = name == "caseworker"  # the lead; a manager approves, a colleague off the team sees nothing
    assert page.status_code == (200 if allowed else 404)
    # who sees the case but may not propose: 404; a case out of the caller's scope: "no such case"
    assert api.status_code == (200 if allowed else 404 if name in {"manager", "placement"} else 400)


def test_propose_through_the_page_then_approve_accept_and_end(client, demo, profiles, active_case):
    client.force_login(demo["caseworker"])
    response = client.post(
        reverse("case-mentoring-match", args=[active_case.pk]), {"mentor": demo["mentor"].pk, "note": "good fit"}
    )
    assignment = MentorAssignment.objects.get(case=active_case)
    assert response.status_code == 302
    for name, action in (("caseworker", "approve"), ("mentor", "approve"), ("manager", "accept")):
        client.force_login(demo[name])
        client.post(reverse("mentoring-assignment-action", args=[assignment.pk, action]))
        assignment.refresh_from_db()
        assert assignment.status == "proposed", (name, action)  # not theirs to take
    client.force_login(demo["manager"])
    client.post(reverse("mentoring-assignment-action", args=[assignment.pk, "approve"]))
    client.force_login(demo["mentor"])
    client.post(reverse("mentoring-assignment-action", args=[assignment.pk, "accept"]))
    assignment.refresh_from_db()
    assert assignment.status == "active"
    response = client.post(reverse("mentoring-assignment-action", args=[assignment.pk, "end"]), {"reason": ""})
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    client.post(reverse("mentoring-assignment-action", args=[assignment.pk, "end"]), {"reason": "moving"})
    assignment.refresh_from_db()
    assert assignment.status == "ended"
    assert client.get(reverse("case-mentoring", args=[active_case.pk])).status_code == 404


def test_api_workflow_and_errors(demo, profiles, active_case):
    lead = _api(demo, "caseworker")
    bad = lead.post("/api/v1/mentor-assignments/", {"case": active_case.pk, "mentor": demo["caseworker"].pk})
    assert bad.status_code == 400
    assert "mentor" in bad.json()["errors"]
    other = _api(demo, "caseworker2").post(
        "/api/v1/mentor-assignments/", {"case": active_case.pk, "mentor": demo["mentor"].pk}
    )
    assert other.status_code == 400  # a case out of scope reads as "no such case"
    created = lead.post("/api/v1/mentor-assignments/", {"case": active_case.pk, "mentor": demo["mentor"].pk})
    assert created.status_code == 201
    pk = created.json()["id"]
    again = lead.post("/api/v1/mentor-assignments/", {"case": active_case.pk, "mentor": demo["peermentor"].pk})
    assert again.status_code == 400
    assert _api(demo, "mentor").post(f"/api/v1/mentor-assignments/{pk}/accept/").status_code == 404
    assert _api(demo, "manager").post(f"/api/v1/mentor-assignments/{pk}/reject/", {"reason": ""}).status_code == 400
    assert _api(demo, "manager").post(f"/api/v1/mentor-assignments/{pk}/approve/").json()["status"] == "approved"
    mentor = _api(demo, "mentor")
    assert mentor.post(f"/api/v1/mentor-assignments/{pk}/accept/").json()["status"] == "active"
    planned = mentor.post(
        "/api/v1/mentoring-sessions/",
        {
            "assignment": pk,
            "starts_at": (timezone.now() - datetime.timedelta(hours=2)).isoformat(),
            "place_type": "office",
        },
    )
    assert planned.status_code == 201
    sid = planned.json()["id"]
    wrong = mentor.post(f"/api/v1/mentoring-sessions/{sid}/log/", {"status": "attended"}, format="json")
    assert wrong.status_code == 400
    assert "duration_minutes" in wrong.json()["errors"]
    logged = mentor.post(
        f"/api/v1/mentoring-sessions/{sid}/log/",
        {"status": "attended", "duration_minutes": 45, "summary": SUMMARY, "confidential_notes": SECRET},
        format="json",
    )
    assert logged.status_code == 200
    assert logged.json()["confidential_notes"] == SECRET
    staff = _api(demo, "caseworker").get(f"/api/v1/mentoring-sessions/{sid}/").json()
    assert staff["summary"] == SUMMARY
    assert "confidential_notes" not in staff
    assert (
        _api(demo, "caseworker").post(f"/api/v1/mentoring-sessions/{sid}/log/", {"status": "no_show"}).status_code
        == 404
    )
    assert (
        _api(demo, "mentor2")
        .post(
            "/api/v1/mentoring-sessions/", {"assignment": pk, "starts_at": "2030-01-01T10:00Z", "place_type": "office"}
        )
        .status_code
        == 400
    )
    assert MentoringSession.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "count"),
    [("caseworker", 3), ("manager", 3), ("supervisor", 3), ("mentor", 1), ("auditor", 0), ("caseworker2", 3)],
)
def test_mentor_directory_per_role(demo, profiles, name, count):
    response = _api(demo, name).get("/api/v1/mentors/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == count
    assert all(("vetting_status" in r) == (name == "supervisor") for r in results)


def test_supervisor_page_shows_counts_not_content(client, demo, session):
    client.force_login(demo["supervisor"])
    body = client.get(reverse("mentoring-home")).content.decode()
    assert "supervision" in body
    for secret in (SECRET, SUMMARY, session.case.participant.case_code, session.case.participant.family_name_latin):
        assert secret not in body
    for name in ("caseworker", "auditor", "admin", "authority", "counsellor"):
        client.force_login(demo[name])
        assert client.get(reverse("mentoring-home")).status_code == 404, name


def test_vetting_pages_are_the_supervisors(client, demo, profiles):
    url = reverse("mentoring-mentor-edit", args=[profiles["mentor"].pk])
    for name in ("caseworker", "manager", "mentor", "admin"):
        client.force_login(demo[name])
        assert client.get(url).status_code == 404, name
    client.force_login(demo["supervisor"])
    response = client.post(url, {"kind": "scholar", "gender": "male", "capacity": "4", "vetting_status": "vetted"})
    assert response.status_code == 400
    assert "vetted_on" in response.content.decode()


@pytest.mark.parametrize(("name", "shown"), [("caseworker", True), ("manager", True), ("mentor", True)])
def test_ratings_appear_under_the_ideology_goal(client, demo, session, name, shown):
    url = reverse("casefile-detail", args=[session.case_id, "goals", session.goal_id])
    response = _client(client, demo, name).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert ("3/5" in body) == shown
    assert SECRET not in body


def test_supervisor_adds_a_profile_for_an_unprofiled_mentor(client, demo):
    client.force_login(demo["supervisor"])
    url = reverse("mentoring-mentor-new")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "mentor": demo["mentor2"].pk,
            "kind": "scholar",
            "gender": "female",
            "languages": ["ar", "ber"],
            "capacity": "3",
            "vetting_status": "vetted",
            "vetted_on": "2026-01-10",
            "vetting_expires_on": "2027-01-10",
            "cities": [],
        },
    )
    assert response.status_code == 302
    profile = demo["mentor2"].mentor_profile
    assert profile.supervisor == demo["supervisor"]
    assert profile.languages == ["ar", "ber"]
    for name in ("caseworker", "manager", "mentor", "admin"):
        client.force_login(demo[name])
        assert client.get(url).status_code == 404, name


def test_mentor_plans_and_logs_through_the_pages(client, demo, assignment, ideology_goal):
    client.force_login(demo["mentor"])
    plan = reverse("mentoring-session-plan", args=[assignment.pk])
    assert client.get(plan).status_code == 200
    past = (timezone.localtime() - datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(plan, {"starts_at": past, "place_type": "office"}).status_code == 400
    soon = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(plan, {"starts_at": soon, "place_type": "office"}).status_code == 302
    planned = MentoringSession.objects.get()
    log = reverse("mentoring-session-log", args=[planned.pk])
    assert client.get(log).status_code == 200
    response = client.post(
        log, {"starts_at": soon, "place_type": "office", "status": "attended", "duration_minutes": "40"}
    )
    assert response.status_code == 400  # a session in the future is not logged yet
    yesterday = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        log,
        {
            "starts_at": yesterday,
            "place_type": "office",
            "status": "attended",
            "duration_minutes": "40",
            "topics": ["texts", "identity"],
            "goal": ideology_goal.pk,
            "progress_rating": "4",
            "summary": SUMMARY,
            "confidential_notes": SECRET,
        },
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.topics == ["texts", "identity"]
    assert planned.progress_rating == 4
    for name in ("caseworker", "manager", "peermentor"):
        client.force_login(demo[name])
        assert client.get(plan).status_code == 404, name
        assert client.get(log).status_code == 404, name


def test_anonymous_callers_get_the_login_page_or_401(client, session, assignment, profiles):
    pages = [
        reverse("mentoring-home"),
        reverse("case-mentoring", args=[session.case_id]),
        reverse("case-mentoring-match", args=[session.case_id]),
        reverse("mentoring-assignment", args=[assignment.pk]),
        reverse("mentoring-session", args=[session.pk]),
        reverse("mentoring-session-log", args=[session.pk]),
        reverse("mentoring-session-plan", args=[assignment.pk]),
        reverse("mentoring-mentor-new"),
        reverse("mentoring-mentor-edit", args=[profiles["mentor"].pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]
    api = APIClient()
    for url in ("/api/v1/mentors/", "/api/v1/mentor-assignments/", "/api/v1/mentoring-sessions/"):
        assert api.get(url).status_code in (401, 403), url
    assert client.post(reverse("mentoring-assignment-action", args=[assignment.pk, "end"])).status_code in (302, 403)
    assignment.refresh_from_db()
    assert assignment.status == "active"
