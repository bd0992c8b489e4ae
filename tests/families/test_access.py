"""Who opens what in family counselling, page by page and endpoint by endpoint (404 outside scope, 401
or the login page for anonymous callers)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.families.conftest import MEMBER_NAME, SECRET, SECRET2, SUMMARY

pytestmark = pytest.mark.django_db

EVERYONE = [
    "caseworker",  # the lead
    "colleague",  # a caseworker of the same NGO, off this case's team
    "counsellor",  # holds the engagement
    "counsellor2",  # holds ANOTHER engagement of the same case
    "counsellor3",  # a counsellor of the NGO holding no engagement
    "manager",
    "mentor",
    "placement",  # on the team as placement officer: no family data
    "caseworker2",  # another NGO
    "authority",
    "auditor",
    "admin",
    "anonymous",
]
CASE_STAFF = {"caseworker", "manager"}


def _client(client, people, name):
    if name != "anonymous":
        client.force_login(people[name])
    return client


def _api(people, name):
    api = APIClient()
    if name != "anonymous":
        api.force_authenticate(people[name])
    return api


def _expect_page(response, name, allowed):
    if name == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if allowed else 404), name


@pytest.mark.parametrize("name", EVERYONE)
def test_case_family_page(client, people, session, other_session, name):
    response = _client(client, people, name).get(reverse("case-family", args=[session.case_id]))
    _expect_page(response, name, name in CASE_STAFF | {"counsellor", "counsellor2"})
    if response.status_code == 200:
        body = response.content.decode()
        assert MEMBER_NAME in body  # the consent holds: everyone here reads the members
        assert SECRET not in body
        assert SECRET2 not in body
        # caseworkers and managers see every session's summary; a counsellor only their own engagement's
        assert (SUMMARY in body) == (name in CASE_STAFF | {"counsellor"})
        assert ("other summary" in body) == (name in CASE_STAFF | {"counsellor2"})


@pytest.mark.parametrize("name", EVERYONE)
def test_engagement_page(client, people, session, name):
    response = _client(client, people, name).get(reverse("families-engagement", args=[session.engagement_id]))
    _expect_page(response, name, name in CASE_STAFF | {"counsellor"})
    if response.status_code == 200:
        body = response.content.decode()
        assert "STEP-PLAN-TEXT" in body
        assert SECRET not in body


@pytest.mark.parametrize("name", EVERYONE)
def test_session_page_shows_notes_to_the_engagements_counsellors_only(client, people, session, name):
    response = _client(client, people, name).get(reverse("families-session", args=[session.pk]))
    _expect_page(response, name, name in CASE_STAFF | {"counsellor"})
    if response.status_code == 200:
        body = response.content.decode()
        assert SUMMARY in body
        assert (SECRET in body) == (name == "counsellor")


@pytest.mark.parametrize("name", EVERYONE)
def test_writing_pages(client, people, session, name):
    """Log, plan, referral and support forms: the engagement's own counsellor only. Opening an
    engagement: the team's caseworkers and the manager. Recording the family: counsellors holding an
    open engagement on the case (handbook §4: CW r, CO rw, MG r)."""
    c = _client(client, people, name)
    mine = name == "counsellor"
    for url in (
        reverse("families-session-log", args=[session.pk]),
        reverse("families-session-log-new", args=[session.engagement_id]),
        reverse("families-session-plan", args=[session.engagement_id]),
        reverse("families-referral-new", args=[session.engagement_id]),
        reverse("families-support-new", args=[session.engagement_id]),
    ):
        _expect_page(c.get(url), name, mine)
    _expect_page(c.get(reverse("families-engagement-new", args=[session.case_id])), name, name in CASE_STAFF)
    _expect_page(c.get(reverse("families-member-new", args=[session.case_id])), name, name == "counsellor")
    _expect_page(c.get(reverse("families-household-edit", args=[session.case_id])), name, name == "counsellor")
    _expect_page(c.get(reverse("families-member-link", args=[session.case_id])), name, name == "counsellor")
    _expect_page(
        c.get(reverse("families-engagement-end", args=[session.engagement_id])),
        name,
        name in CASE_STAFF | {"counsellor"},
    )


@pytest.mark.parametrize("name", EVERYONE)
def test_home_page(client, people, session, name):
    response = _client(client, people, name).get(reverse("families-home"))
    _expect_page(response, name, name.startswith("counsellor"))


@pytest.mark.parametrize("name", EVERYONE)
def test_api_endpoints(people, session, other_session, household, name):
    api = _api(people, name)
    case_id = session.case_id
    sees_case = name in CASE_STAFF | {"counsellor", "counsellor2"}
    sees_session = name in CASE_STAFF | {"counsellor"}
    urls = {
        "/api/v1/households/": sees_case,
        "/api/v1/family-members/": sees_case,
        "/api/v1/engagements/": sees_case,
        "/api/v1/counselling-sessions/": sees_case,
    }
    for url in urls:
        response = api.get(url)
        if name == "anonymous":
            assert response.status_code == 401
            continue
        assert response.status_code == 200, (name, url)
        assert bool(response.json()["results"]) == urls[url], (name, url)
    household_id = session.case.household.pk
    details = {
        f"/api/v1/households/{household_id}/": sees_case,
        f"/api/v1/family-members/{household['mother'].pk}/": sees_case,
        f"/api/v1/engagements/{session.engagement_id}/": sees_session,
        f"/api/v1/counselling-sessions/{session.pk}/": sees_session,
        f"/api/v1/counselling-sessions/{other_session.pk}/": name in CASE_STAFF | {"counsellor2"},
    }
    for url, allowed in details.items():
        response = api.get(url)
        expected = 401 if name == "anonymous" else 200 if allowed else 404
        assert response.status_code == expected, (name, url)
        body = response.content.decode()
        # (compare whole addresses: an engagement's id may equal a session's)
        assert (SECRET in body) == (name == "counsellor" and url == f"/api/v1/counselling-sessions/{session.pk}/")
        assert (SECRET2 in body) == (
            name == "counsellor2" and url == f"/api/v1/counselling-sessions/{other_session.pk}/"
        )
    assert case_id


@pytest.mark.parametrize("name", EVERYONE)
def test_api_log_and_plan_are_the_engagements_counsellors(people, session, name):
    api = _api(people, name)
    log = api.post(f"/api/v1/counselling-sessions/{session.pk}/log/", {"status": "missed"}, format="json")
    plan = api.post(
        "/api/v1/counselling-sessions/",
        {"engagement": session.engagement_id, "starts_at": "2031-01-01T10:00Z", "kind": "family"},
        format="json",
    )
    if name == "anonymous":
        assert log.status_code == plan.status_code == 401
    elif name == "counsellor":
        assert log.status_code == 200
        assert log.json()["status"] == "missed"
        assert log.json()["confidential_notes"] == SECRET  # not sent: kept
        assert plan.status_code == 201
    else:
        assert log.status_code == 404, name
        assert plan.status_code == 400, name
        assert plan.json()["errors"] == {"engagement": ["Not an open engagement of yours."]}


def test_a_counsellor_cannot_read_another_engagements_notes(client, people, session, other_session):
    client.force_login(people["counsellor"])
    assert client.get(reverse("families-session", args=[other_session.pk])).status_code == 404
    assert client.get(reverse("families-session-log", args=[other_session.pk])).status_code == 404
    api = _api(people, "counsellor")
    assert api.get(f"/api/v1/counselling-sessions/{other_session.pk}/").status_code == 404
    listing = api.get("/api/v1/counselling-sessions/", {"case": other_session.case_id})
    assert [r["id"] for r in listing.json()["results"]] == [session.pk]
    assert SECRET2 not in listing.content.decode()
    assert api.post(f"/api/v1/counselling-sessions/{other_session.pk}/log/", {"status": "missed"}).status_code == 404
    # and the other way round
    client.force_login(people["counsellor2"])
    body = client.get(reverse("families-session", args=[other_session.pk])).content.decode()
    assert SECRET2 in body
    assert client.get(reverse("families-session", args=[session.pk])).status_code == 404


def test_without_an_engagement_a_counsellor_sees_nothing_of_the_case(client, people, engagement):
    """A team row alone opens nothing: the counsellor's rows need an open engagement on the case."""
    from casemgmt.models import CaseTeamMember

    CaseTeamMember.objects.create(case=engagement.case, user=people["counsellor3"], role="counsellor")
    client.force_login(people["counsellor3"])
    assert client.get(reverse("case-detail", args=[engagement.case_id])).status_code == 404
    assert client.get(reverse("case-family", args=[engagement.case_id])).status_code == 404
