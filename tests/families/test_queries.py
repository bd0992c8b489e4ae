"""The counsellor's home, the family pages and the family endpoints cost the same for few or many rows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt.casefile_services import record_create
from casemgmt.models import Stage
from families import services as fs
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _count(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _family(demo, n_members: int, n_sessions: int):
    """A case with a household, consent, an engagement held by `counsellor`, sessions and support."""
    lead, counsellor = demo["caseworker"], demo["counsellor"]
    case = CaseFactory(
        organisation=lead.membership.organisation,
        by=demo["manager"],
        lead=lead,
        stage_path=(Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE),
    )
    record_create(
        key="consent",
        case=case,
        by=lead,
        data={"purpose": "Family", "categories": ["family_contact"], "given_on": timezone.localdate()},
    )
    members = [
        fs.member_add(case=case, by=lead, relation="sibling", data={"given_name": f"M{i}", "family_name": "F"}).member
        for i in range(n_members)
    ]
    engagement = fs.engagement_create(
        case=case, by=lead, kind="psychological", members=members, counsellors=[counsellor]
    )
    for i in range(n_sessions):
        fs.session_log(
            by=counsellor,
            engagement=engagement,
            data={
                "starts_at": timezone.now() - datetime.timedelta(days=i + 1),
                "kind": "family",
                "status": "attended",
                "duration_minutes": 30,
                "summary": f"s{i}",
            },
            attendees=members,
            confidential_notes=f"c{i}",
        )
        fs.session_plan(
            engagement=engagement,
            by=counsellor,
            starts_at=timezone.now() + datetime.timedelta(days=i + 1),
            kind="phone",
        )
        fs.support_add(engagement=engagement, by=counsellor, data={"kind": "food", "given_on": timezone.localdate()})
        fs.referral_create(
            engagement=engagement,
            by=counsellor,
            data={"service": "health", "provider": f"P{i}", "referred_on": timezone.localdate()},
        )
    return case, engagement


def test_pages_and_endpoints_do_not_grow(client, demo):
    case, engagement = _family(demo, 1, 1)
    counsellor = APIClient()
    counsellor.force_authenticate(demo["counsellor"])
    staff = APIClient()
    staff.force_authenticate(demo["caseworker"])

    def measure():
        client.force_login(demo["counsellor"])
        counts = {
            "home": _count(lambda: client.get(reverse("families-home"))),
            "counsellor case page": _count(lambda: client.get(reverse("case-family", args=[case.pk]))),
            "engagement page": _count(lambda: client.get(reverse("families-engagement", args=[engagement.pk]))),
            "counsellor sessions api": _count(lambda: counsellor.get("/api/v1/counselling-sessions/")),
            "staff sessions api": _count(lambda: staff.get("/api/v1/counselling-sessions/")),
            "households api": _count(lambda: staff.get("/api/v1/households/")),
            "members api": _count(lambda: staff.get("/api/v1/family-members/")),
            "engagements api": _count(lambda: staff.get("/api/v1/engagements/")),
        }
        client.force_login(demo["caseworker"])
        counts["staff case page"] = _count(lambda: client.get(reverse("case-family", args=[case.pk])))
        return counts

    few = measure()
    assert few == {
        # session with user and membership, the counsellor's open engagements (with case and participant),
        # their sessions to log and planned, their group sessions
        "home": 4,
        # session with user, case; household, readable member links, member count; engagements, their
        # members, their counsellors; session count and one page of sessions, their attendees;
        # referrals; support ledger; access-log insert; the family-contact consent check (may add members)
        "counsellor case page": 15,
        # the same minus the household and the count, plus the engagement, the readable links, and two
        # checks that the caller is one of the engagement's counsellors (may log, may end)
        "engagement page": 15,
        # page of sessions, their attendees, access-log insert, readable members on those cases, own notes
        "counsellor sessions api": 5,
        # the same without the notes
        "staff sessions api": 4,
        # page of households with member counts, access-log insert, readable links on those cases
        "households api": 3,
        # one page of readable members
        "members api": 1,
        # page of engagements, their members, their counsellors, access-log insert, readable members
        "engagements api": 5,
        # as the counsellor's case page, without the consent check (a caseworker adds members regardless)
        "staff case page": 14,
    }
    for _ in range(3):
        _family(demo, 3, 4)
    case_more, engagement_more = case, engagement
    for i in range(5):  # more rows on the measured case and engagement too
        fs.session_log(
            by=demo["counsellor"],
            engagement=engagement_more,
            data={
                "starts_at": timezone.now() - datetime.timedelta(days=30 + i),
                "kind": "phone",
                "status": "missed",
            },
            attendees=[],
        )
    assert case_more.pk == case.pk
    assert measure() == few
