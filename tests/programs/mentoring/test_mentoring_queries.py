"""The mentor's portal, the session lists and the supervisor's page cost the same for few or many rows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt.models import Stage
from programs import mentoring_services as ms
from tests.factories import CaseFactory
from tests.programs.helpers import activate

pytestmark = pytest.mark.django_db


def _count(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _mentee_with_sessions(demo, n_sessions: int):
    case = CaseFactory(
        organisation=demo["caseworker"].membership.organisation,
        by=demo["manager"],
        lead=demo["caseworker"],
        stage_path=(Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE),
    )
    assignment = activate(case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])
    for i in range(n_sessions):
        ms.session_log(
            by=demo["mentor"],
            assignment=assignment,
            data={
                "starts_at": timezone.now() - datetime.timedelta(days=i + 1),
                "place_type": "office",
                "status": "attended",
                "duration_minutes": 30,
                "summary": f"s{i}",
            },
            confidential_notes=f"c{i}",
        )
        ms.session_plan(
            assignment=assignment,
            by=demo["mentor"],
            starts_at=timezone.now() - datetime.timedelta(hours=i + 1),
            place_type="office",
        )
    return case


@pytest.fixture
def big_capacity(profiles, demo):
    ms.mentor_profile_save(
        by=demo["supervisor"], mentor=demo["mentor"], profile=profiles["mentor"], data={"capacity": 10}
    )


def test_portal_and_lists_do_not_grow(client, demo, big_capacity):
    first = _mentee_with_sessions(demo, 1)
    api = APIClient()
    api.force_authenticate(demo["mentor"])
    client.force_login(demo["mentor"])
    staff = APIClient()
    staff.force_authenticate(demo["caseworker"])

    def measure():
        return {
            # session, user, the panel's assignments (with case, participant, city), its sessions
            "portal": _count(lambda: client.get(reverse("mentoring-home"))),
            # page of sessions, the mentor's confidential notes for it, the access-log rows
            "mentor api": _count(lambda: api.get("/api/v1/mentoring-sessions/")),
            "staff api": _count(lambda: staff.get("/api/v1/mentoring-sessions/")),
            "case page": _count(lambda: client.get(reverse("case-mentoring", args=[first.pk]))),
        }

    few = measure()
    # portal: session with user, vetting check, assignments, sessions; mentor API: page, own notes, access
    # log; staff API: page, access log; case page (mentor): session with user, case, sessions, goals,
    # vetting check, own assignment, access log
    assert few == {"portal": 4, "mentor api": 3, "staff api": 2, "case page": 7}
    for _ in range(3):
        _mentee_with_sessions(demo, 4)
    for i in range(6):
        ms.session_log(
            by=demo["mentor"],
            assignment=first.mentor_assignments.get(),
            data={
                "starts_at": timezone.now() - datetime.timedelta(days=20 + i),
                "place_type": "office",
                "status": "no_show",
            },
        )
    assert measure() == few


def test_supervision_page_does_not_grow(client, demo, big_capacity):
    client.force_login(demo["supervisor"])
    _mentee_with_sessions(demo, 1)
    few = _count(lambda: client.get(reverse("mentoring-home")))
    for _ in range(3):
        _mentee_with_sessions(demo, 3)
    assert _count(lambda: client.get(reverse("mentoring-home"))) == few
