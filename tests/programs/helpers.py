"""Mentoring test helpers, importable from any test module."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import City
from programs import mentoring_services as ms
from programs.models import MentorAssignment

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


def activate(case, *, lead, manager, mentor) -> MentorAssignment:
    assignment = ms.mentor_propose(case=case, by=lead, mentor=mentor)
    ms.mentor_assignment_decide(assignment=assignment, by=manager, approve=True)
    ms.mentor_assignment_respond(assignment=assignment, by=mentor, accept=True)
    return MentorAssignment.objects.get(pk=assignment.pk)


def engage_counsellor(case, *, by, counsellor):
    """A counsellor's team row opens the case while they hold a family engagement on it (issue 8)."""
    from families.services import engagement_create, member_add

    relative = member_add(case=case, by=by, relation="mother", data={"given_name": "A", "family_name": "B"}).member
    return engagement_create(case=case, by=by, kind="legal", members=[relative], counsellors=[counsellor])
