"""seed_demo's families: households for most cases, engagements of every type held by `counsellor`,
sessions with summaries and confidential notes, a group session, support; a second run adds nothing."""

import pytest
from django.core.management import call_command

from casemgmt.models import Case
from families.models import (
    CounsellingConfidentialNote,
    CounsellingSession,
    Engagement,
    EngagementKind,
    FamilyMember,
    GroupSession,
    Household,
    SupportEntry,
    SupportReferral,
)
from tests.casemgmt.conftest import template  # noqa: F401  (fixture)


@pytest.fixture
def seeded(db, settings, template):  # noqa: F811
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_families(seeded):
    assert Household.objects.count() > Case.objects.count() / 2
    engagements = Engagement.objects.filter(assignments__counsellor__username="counsellor")
    assert set(engagements.values_list("kind", flat=True)) == set(EngagementKind.values)
    assert all(e.case.team.filter(user__username="counsellor", role="counsellor").exists() for e in engagements)
    sessions = CounsellingSession.objects.filter(engagement__in=engagements)
    assert sessions.filter(status="planned").exists()
    assert sessions.filter(status="attended").exclude(summary="").exists()
    assert CounsellingConfidentialNote.objects.filter(session__in=sessions).exists()
    group = GroupSession.objects.get()
    assert group.family_sessions.values("case").distinct().count() >= 2
    assert SupportEntry.objects.exists()
    assert SupportReferral.objects.exists()
    assert FamilyMember.objects.filter(vulnerabilities__contains=["returned_child"]).exists()


def test_second_run_adds_nothing(seeded):
    counts = (Household.objects.count(), FamilyMember.objects.count(), CounsellingSession.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Household.objects.count(), FamilyMember.objects.count(), CounsellingSession.objects.count()) == counts
