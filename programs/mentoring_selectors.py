"""Mentoring reads: matching, the mentor's portal, the supervisor's caseload view, a case's mentoring.

Every query starts from `mentoring_access` (or the core policy), so nothing here widens a scope.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from casemgmt import access
from casemgmt.models import Case

from . import mentoring_access
from .mentoring_services import active_load
from .models import MentorAssignment, MentoringSession, MentorProfile
from .models.mentoring import AssignmentStatus, SessionStatus


@dataclass
class Match:
    profile: MentorProfile
    score: int
    free: int
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def can_propose(self) -> bool:
        return self.free > 0 and not self.warnings


def rank_mentors(*, user: User, case: Case, gender: str = "") -> list[Match]:
    """Assignable mentors for a case, best first: city served, shared languages, free capacity and,
    when the case asks for it, gender. Three queries whatever the number of mentors."""
    participant = case.participant
    profiles = list(
        mentoring_access.mentors_visible_to(user)
        .select_related("user")
        .prefetch_related("cities")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    load = active_load([p.user_id for p in profiles])
    matches = []
    for profile in profiles:
        free = max(profile.capacity - load.get(profile.user_id, 0), 0)
        match = Match(profile, 0, free)
        if any(c.pk == participant.city_id for c in profile.cities.all()):
            match.score += 4
            match.reasons.append(_("Serves %(city)s") % {"city": participant.city.name})
        shared = [
            label
            for code, label in zip(profile.languages, profile.language_labels(), strict=True)
            if code in participant.languages
        ]
        if shared:
            match.score += 2 * len(shared)
            match.reasons.append(_("Speaks %(languages)s") % {"languages": ", ".join(shared)})
        if free:
            match.score += min(free, 3)
            match.reasons.append(
                _("%(free)s of %(capacity)s places free") % {"free": free, "capacity": profile.capacity}
            )
        else:
            match.warnings.append(_("No free place"))
        if gender:
            if profile.gender == gender:
                match.score += 10
                match.reasons.append(_("Gender as the case asks"))
            else:
                match.warnings.append(_("Not the gender the case asks for"))
        matches.append(match)
    matches.sort(key=lambda m: (not m.can_propose, -m.score, m.profile.user.last_name, m.profile.pk))
    return matches


def case_mentoring(*, user: User, case: Case) -> dict:
    """A case's mentoring page: assignments (caseworkers and managers), sessions, ideology goals with
    the ratings given against them. Sessions come through the core record rule."""
    assignments = []
    if mentoring_access.is_case_staff(user):
        assignments = list(
            mentoring_access.assignments_visible_to(user)
            .filter(case=case)
            .select_related("mentor", "proposed_by", "decided_by", "ended_by")
        )
    sessions = list(
        access.case_records_visible_to(user, case, mentoring_access.SESSION)
        .select_related("mentor", "goal")
        .order_by("-starts_at", "-pk")
    )
    goals = []
    if "goal" in access.RECORD_RULES and access.RECORD_RULES["goal"].opened_by(access.visible_groups(user, case)):
        goals = list(access.case_records_visible_to(user, case, "goal").filter(domain="ideology"))
        ratings: dict[int, list[MentoringSession]] = {}
        for s in sessions:
            if s.goal_id and s.progress_rating:
                ratings.setdefault(s.goal_id, []).append(s)
        for goal in goals:
            goal.mentoring_ratings = sorted(ratings.get(goal.pk, []), key=lambda s: s.starts_at)
    return {"assignments": assignments, "sessions": sessions, "ideology_goals": goals}


def mentor_portal(user: User) -> dict:
    """The mentor's start page: proposals to answer, mentees, planned sessions, sessions to log."""
    now = timezone.now()
    assignments = list(
        mentoring_access.assignments_visible_to(user)
        .filter(status__in=[AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE])
        .select_related("case__participant__city")
        .order_by("status", "case__participant__case_code")
    )
    sessions = mentoring_access.sessions_visible_to(user).filter(
        mentor=user, status=SessionStatus.PLANNED, assignment__status=AssignmentStatus.ACTIVE
    )
    sessions = list(sessions.select_related("case__participant").order_by("starts_at", "pk")[:100])
    return {
        "proposals": [a for a in assignments if a.status == AssignmentStatus.APPROVED],
        "mentees": [a for a in assignments if a.status == AssignmentStatus.ACTIVE],
        "planned": [s for s in sessions if s.starts_at >= now],
        "to_log": [s for s in sessions if s.starts_at < now],
    }


def manager_queue(user: User) -> list[MentorAssignment]:
    """Proposals waiting for this manager's decision."""
    return list(
        mentoring_access.assignments_visible_to(user)
        .filter(status=AssignmentStatus.PROPOSED)
        .select_related("case__participant", "mentor", "proposed_by")
        .order_by("proposed_at", "pk")
    )


def supervision(user: User, *, today: datetime.date | None = None) -> list[MentorProfile]:
    """The supervisor's mentors with caseload and session counts; never a case or a session's content."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=90)
    profiles = list(
        mentoring_access.mentors_visible_to(user)
        .select_related("user")
        .annotate(
            active_mentees=Count(
                "user__mentor_assignments",
                filter=Q(user__mentor_assignments__status=AssignmentStatus.ACTIVE),
                distinct=True,
            ),
            pending=Count(
                "user__mentor_assignments",
                filter=Q(user__mentor_assignments__status=AssignmentStatus.APPROVED),
                distinct=True,
            ),
        )
        .order_by("vetting_expires_on", "pk")
    )
    counts = session_counts([p.user_id for p in profiles], since=since)
    for profile in profiles:
        profile.sessions = counts.get(profile.user_id, {"attended": 0, "recent": 0, "no_show": 0, "to_log": 0})
        profile.vetting_lapsed = not profile.is_assignable(today)
        profile.expires_soon = bool(
            profile.vetting_expires_on and today <= profile.vetting_expires_on <= today + datetime.timedelta(days=60)
        )
    return profiles


def session_counts(mentor_ids, *, since: datetime.date) -> dict[int, dict[str, int]]:
    """Per mentor: sessions attended and logged in all, and attended since a date (one query)."""
    rows = (
        MentoringSession.objects.filter(mentor_id__in=mentor_ids)
        .values("mentor_id")
        .annotate(
            attended=Count("pk", filter=Q(status=SessionStatus.ATTENDED)),
            recent=Count("pk", filter=Q(status=SessionStatus.ATTENDED, starts_at__date__gte=since)),
            no_show=Count("pk", filter=Q(status=SessionStatus.NO_SHOW)),
            to_log=Count("pk", filter=Q(status=SessionStatus.PLANNED, starts_at__lt=timezone.now())),
        )
    )
    return {row.pop("mentor_id"): row for row in rows}
