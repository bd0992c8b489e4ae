"""Mentoring fixtures: vetted profiles, an active assignment with a logged session carrying markers."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import City
from casemgmt.casefile_services import record_create
from programs import mentoring_services as ms
from programs.models import MentorAssignment
from tests.casemgmt.conftest import active_case, template  # noqa: F401  (fixtures)

SUMMARY = "SHAREABLE-SUMMARY-MARKER"
SECRET = "CONFIDENTIAL-MARKER-7Q"
TODAY = timezone.localdate


def make_profile(supervisor, mentor, **overrides):
    data = {
        "kind": "scholar",
        "gender": "male",
        "languages": ["ar", "fr"],
        "capacity": 3,
        "vetting_status": "vetted",
        "vetted_on": TODAY() - datetime.timedelta(days=100),
        "vetting_expires_on": TODAY() + datetime.timedelta(days=100),
    }
    cities = overrides.pop("cities", ["TNG"])
    data.update(overrides)
    return ms.mentor_profile_save(by=supervisor, mentor=mentor, data=data, cities=City.objects.filter(code__in=cities))


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


def activate(case, *, lead, manager, mentor) -> MentorAssignment:
    assignment = ms.mentor_propose(case=case, by=lead, mentor=mentor)
    ms.mentor_assignment_decide(assignment=assignment, by=manager, approve=True)
    ms.mentor_assignment_respond(assignment=assignment, by=mentor, accept=True)
    return MentorAssignment.objects.get(pk=assignment.pk)


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
