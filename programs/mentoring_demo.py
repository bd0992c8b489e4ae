"""Demo mentoring for seed_demo: the demo `mentor` (a vetted scholar supervised by `supervisor`)
mentors several of `caseworker`'s cases with planned and logged sessions; `mentor2` has other
mentees; `peermentor` is a peer mentor; one proposal waits for the manager. Idempotent."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import City, User
from casemgmt.casefile import Goal
from casemgmt.casefile_services import record_create
from casemgmt.models import Case, Stage

from . import mentoring_services as ms
from .models import MentorAssignment, MentorProfile
from .models.mentoring import SessionStatus

PROFILES = [
    # username, kind, gender, languages, cities, capacity, qualifications
    ("mentor", "scholar", "male", ["ar", "fr"], ["TNG", "TET"], 6, "Licence in Islamic studies; imam and preacher."),
    ("mentor2", "scholar", "female", ["ar", "ber"], ["CAS", "TNG"], 4, "Master in comparative theology; murchida."),
    ("peermentor", "peer", "male", ["ar", "es"], ["TNG", "FNQ"], 3, "Former participant; peer-mentor training 2025."),
]
SUMMARIES = [
    "Discussed the verses often quoted by recruiters and their context; participant asked good questions.",
    "Talked about the participant's return to his neighbourhood and his former friends.",
    "Reviewed the reading agreed last time; participant engaged and calmer than before.",
]


def seed() -> None:
    if MentorProfile.objects.filter(user__username="mentor").exists():
        return
    supervisor = User.objects.get(username="supervisor")
    today = timezone.localdate()
    for username, kind, gender, languages, cities, capacity, qualifications in PROFILES:
        ms.mentor_profile_save(
            by=supervisor,
            mentor=User.objects.get(username=username),
            cities=City.objects.filter(code__in=cities),
            data={
                "kind": kind,
                "gender": gender,
                "languages": languages,
                "capacity": capacity,
                "qualifications": qualifications,
                "training": "Program induction; safeguarding; supervision every month.",
                "vetting_status": "vetted",
                "vetted_on": today - datetime.timedelta(days=200),
                "vetting_expires_on": today + datetime.timedelta(days=165 if username != "peermentor" else 40),
            },
        )
    manager = User.objects.get(username="manager")
    # `caseworker`'s active cases first (the demo mentor's mentees), then the colleague's.
    cases = sorted(
        Case.objects.filter(
            organisation__name="Northern Reintegration Centre",
            stage__in=[Stage.ACTIVE, Stage.REVIEW],
            team__is_lead=True,
        ).values_list("pk", "team__user__username"),
        key=lambda row: (row[1] != "caseworker", row[0]),
    )
    cases = [Case.objects.get(pk=pk) for pk, _lead in cases]
    plan = [("mentor", 4), ("mentor2", 2), ("peermentor", 1)]  # the demo mentor's four: caseworker's
    used = 0
    for username, count in plan:
        mentor = User.objects.get(username=username)
        for case in cases[used : used + count]:
            lead = case.team.get(is_lead=True).user
            _active_with_sessions(case=case, lead=lead, manager=manager, mentor=mentor, today=today)
        used += count
    if len(cases) > used:  # one proposal waiting for the manager
        ms.mentor_propose(
            case=cases[used],
            by=cases[used].team.get(is_lead=True).user,
            mentor=User.objects.get(username="mentor2"),
            note="Speaks Tamazight like the participant; serves Tangier.",
        )


def _active_with_sessions(*, case, lead, manager, mentor, today) -> None:
    assignment = ms.mentor_propose(case=case, by=lead, mentor=mentor, note="Matches city and language.")
    ms.mentor_assignment_decide(assignment=assignment, by=manager, approve=True)
    ms.mentor_assignment_respond(assignment=assignment, by=mentor, accept=True)
    assignment = MentorAssignment.objects.get(pk=assignment.pk)
    goal = Goal.objects.filter(case=case, domain="ideology").first() or record_create(
        key="goal",
        case=case,
        by=lead,
        data={"domain": "ideology", "title": "Regular sessions of ideological review with the mentor", "owner": lead},
    )
    now = timezone.now()
    # the peer mentor's mentee has not been seen for three weeks: a mentoring gap for the demo
    for index, days in enumerate((50, 35, 21) if mentor.username == "peermentor" else (40, 26, 12)):
        attended = index != 1 or case.pk % 2
        ms.session_log(
            by=mentor,
            assignment=assignment,
            data={
                "starts_at": now - datetime.timedelta(days=days, hours=2),
                "place_type": "mosque" if index % 2 == 0 else "office",
                "status": SessionStatus.ATTENDED if attended else SessionStatus.NO_SHOW,
                "duration_minutes": 60 if attended else None,
                "topics": ["texts", "ideology"] if index != 1 else ["identity", "peers"],
                "goal": goal if attended else None,
                "progress_rating": min(2 + index, 5) if attended else None,
                "summary": SUMMARIES[index] if attended else "The participant did not come; the caseworker was told.",
            },
            confidential_notes=(
                f"DEMO confidential: the participant confided doubts about his brother (session {index + 1})."
                if attended
                else ""
            ),
        )
    ms.session_plan(assignment=assignment, by=mentor, starts_at=now - datetime.timedelta(hours=3), place_type="office")
    ms.session_plan(assignment=assignment, by=mentor, starts_at=now + datetime.timedelta(days=5), place_type="mosque")
