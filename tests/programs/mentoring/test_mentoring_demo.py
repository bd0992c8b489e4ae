"""seed_demo's mentoring: who mentors whom, with what, and a second run adds nothing."""

import pytest
from django.core.management import call_command

from programs.models import MentorAssignment, MentoringConfidentialNote, MentoringSession, MentorProfile


@pytest.fixture
def seeded(db, settings, template):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_mentoring(seeded):
    mentor = MentorProfile.objects.get(user__username="mentor")
    assert mentor.kind == "scholar"
    assert mentor.supervisor.username == "supervisor"
    assert mentor.is_assignable()
    assert MentorProfile.objects.get(user__username="peermentor").kind == "peer"
    active = MentorAssignment.objects.filter(status="active")
    assert active.filter(mentor__username="mentor").count() >= 3
    assert active.filter(mentor__username="mentor2").exists()
    assert all(a.case.team.filter(user=a.mentor, role="mentor").exists() for a in active)
    assert MentorAssignment.objects.filter(status="proposed").count() == 1
    sessions = MentoringSession.objects.filter(mentor__username="mentor")
    assert sessions.filter(status="planned").exists()
    assert sessions.exclude(summary="").filter(status="attended").exists()
    assert MentoringConfidentialNote.objects.filter(session__mentor__username="mentor").exists()


def test_second_run_adds_nothing(seeded):
    counts = (MentorAssignment.objects.count(), MentoringSession.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (MentorAssignment.objects.count(), MentoringSession.objects.count()) == counts
