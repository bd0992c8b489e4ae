"""Mentoring fixtures: vetted profiles, an active assignment with a logged session carrying markers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casemgmt.casefile_services import record_create
from programs import mentoring_services as ms
from tests.casemgmt.conftest import active_case, template  # noqa: F401  (fixtures)
from tests.programs.helpers import activate, make_profile

SUMMARY = "SHAREABLE-SUMMARY-MARKER"
SECRET = "CONFIDENTIAL-MARKER-7Q"
TODAY = timezone.localdate


@pytest.fixture
def profiles(demo):
    supervisor = demo["supervisor"]
    return {
        "mentor": make_profile(supervisor, demo["mentor"]),
        "mentor2": make_profile(
            supervisor, demo["mentor2"], gender="female", languages=["ber"], cities=["CAS"], capacity=1
        ),
        "peermentor": make_profile(supervisor, demo["peermentor"], kind="peer", languages=["es"], cities=["FES"]),
    }


@pytest.fixture
def assignment(demo, profiles, active_case):  # noqa: F811
    return activate(active_case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])


@pytest.fixture
def ideology_goal(demo, active_case):  # noqa: F811
    return record_create(
        key="goal",
        case=active_case,
        by=demo["caseworker"],
        data={"domain": "ideology", "title": "Ideological review", "owner": demo["caseworker"]},
    )


@pytest.fixture
def session(demo, assignment, ideology_goal):
    return ms.session_log(
        by=demo["mentor"],
        assignment=assignment,
        data={
            "starts_at": timezone.now() - datetime.timedelta(days=1),
            "place_type": "mosque",
            "status": "attended",
            "duration_minutes": 60,
            "topics": ["texts"],
            "goal": ideology_goal,
            "progress_rating": 3,
            "summary": SUMMARY,
        },
        confidential_notes=SECRET,
    )
