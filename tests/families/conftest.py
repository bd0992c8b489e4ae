"""Family fixtures: a case with a household, the participant's family-contact consent, two engagements
held by two different counsellors, and a logged session of each carrying markers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import Membership, Role, User
from casemgmt.casefile_services import record_create
from families import services as fs
from tests.casemgmt.conftest import active_case, template  # noqa: F401  (fixtures)

SUMMARY = "FAMILY-SUMMARY-MARKER"
SECRET = "COUNSEL-SECRET-MARKER-9Z"
SECRET2 = "OTHER-ENGAGEMENT-SECRET-4K"
MEMBER_NAME = "Zoubida-Marker"
TODAY = timezone.localdate


def make_counsellor(demo, username: str) -> User:
    user = User.objects.create_user(username, f"{username}@demo.invalid", "x-demo-password-long", first_name="Test")
    Membership.objects.create(user=user, organisation=demo["counsellor"].membership.organisation, role=Role.COUNSELLOR)
    return User.objects.select_related("membership__organisation").get(pk=user.pk)


@pytest.fixture
def people(demo):
    """The demo users plus a counsellor holding ANOTHER engagement of the case and one holding none."""
    return {
        **demo,
        "counsellor2": make_counsellor(demo, "counsellor2"),
        "counsellor3": make_counsellor(demo, "counsellor3"),
    }


@pytest.fixture
def household(demo, active_case):  # noqa: F811
    lead = demo["caseworker"]
    mother = fs.member_add(
        case=active_case,
        by=lead,
        relation="mother",
        lives_with_participant=True,
        data={"given_name": MEMBER_NAME, "family_name": "Elyazidi", "age": 61, "phone": "+212 611 000 111"},
    )
    child = fs.member_add(
        case=active_case,
        by=lead,
        relation="child",
        data={
            "given_name": "Yassir",
            "family_name": "Elyazidi",
            "age": 8,
            "is_minor": True,
            "vulnerabilities": ["returned_child"],
        },
    )
    return {"mother": mother.member, "child": child.member}


@pytest.fixture
def consent(demo, active_case):  # noqa: F811
    return record_create(
        key="consent",
        case=active_case,
        by=demo["caseworker"],
        data={
            "purpose": "Family counselling",
            "categories": ["family_contact"],
            "given_on": TODAY() - datetime.timedelta(days=5),
        },
    )


@pytest.fixture
def engagement(demo, active_case, household, consent):  # noqa: F811
    return fs.engagement_create(
        case=active_case,
        by=demo["caseworker"],
        kind="psychological",
        members=[household["mother"], household["child"]],
        counsellors=[demo["counsellor"]],
        step_plan="STEP-PLAN-TEXT",
    )


@pytest.fixture
def other_engagement(people, active_case, household, consent):  # noqa: F811
    return fs.engagement_create(
        case=active_case,
        by=people["manager"],
        kind="legal",
        members=[household["mother"]],
        counsellors=[people["counsellor2"]],
    )


def log(engagement, by, *, summary=SUMMARY, secret=SECRET, attendees=None, days=1):
    return fs.session_log(
        by=by,
        engagement=engagement,
        data={
            "starts_at": timezone.now() - datetime.timedelta(days=days),
            "kind": "family",
            "status": "attended",
            "duration_minutes": 60,
            "summary": summary,
        },
        attendees=attendees if attendees is not None else list(engagement.members.all()),
        confidential_notes=secret,
    )


@pytest.fixture
def session(demo, engagement):
    return log(engagement, demo["counsellor"])


@pytest.fixture
def other_session(people, other_engagement):
    return log(other_engagement, people["counsellor2"], summary="other summary", secret=SECRET2)


# --- The role matrix of the review of issue 8 (who writes the family, referrals, hand-overs) ----------

ROLES = [
    "caseworker",  # the lead
    "teammate",  # another caseworker on the team
    "counsellor",  # holds the engagement
    "counsellor2",  # holds ANOTHER engagement of the same case
    "manager",
    "caseworker2",  # another NGO
    "authority",  # no sharing basis
    "auditor",
    "anonymous",
]
STAFF = {"caseworker", "teammate", "manager"}


@pytest.fixture
def roles(people, active_case):  # noqa: F811
    """`people` with `colleague` put on the case team as a caseworker (not the lead): `teammate`."""
    from casemgmt.services import team_member_add

    team_member_add(case=active_case, by=people["caseworker"], user=people["colleague"], role="caseworker")
    return {**people, "teammate": people["colleague"]}


def login(client, roles, name):
    if name != "anonymous":
        client.force_login(roles[name])
    return client


def api_for(roles, name):
    from rest_framework.test import APIClient

    api = APIClient()
    if name != "anonymous":
        api.force_authenticate(roles[name])
    return api


def expect_page(response, name, allowed, ok=200):
    """Allowed: `ok`; anyone else 404 (visible but not writable reads like missing, as everywhere in
    the app); anonymous: the login page."""
    if name == "anonymous":
        assert response.status_code == 302, name
        assert "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (ok if allowed else 404), (name, response.status_code)


def expect_api(response, name, allowed, ok=200):
    if name == "anonymous":
        assert response.status_code == 401, name
    else:
        assert response.status_code == (ok if allowed else 404), (name, response.status_code, response.content)
