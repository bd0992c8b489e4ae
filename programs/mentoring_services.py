"""Every mentoring write: vetting, the assignment workflow, planning and logging sessions.

Services check the business rules (states, vetting, capacity) and take `by=`; views and the API
have asked `mentoring_access` first whether `by` may act at all.
"""

from __future__ import annotations

import datetime
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from casemgmt import followups
from casemgmt.models import Case, CaseTeamMember, TeamRole
from casemgmt.services import lock_writable, team_member_add, team_member_remove

from .models import MentorAssignment, MentoringConfidentialNote, MentoringSession, MentorProfile
from .models.mentoring import AssignmentStatus, SessionStatus, VettingStatus

PROFILE_FIELDS = (
    "kind",
    "qualifications",
    "training",
    "languages",
    "gender",
    "capacity",
    "vetting_status",
    "vetted_on",
    "vetting_expires_on",
    "vetting_note",
)


@transaction.atomic
def mentor_profile_save(
    *, by: User, mentor: User, data: dict[str, Any], cities=None, profile: MentorProfile | None = None
) -> MentorProfile:
    """Create or change a mentor's profile and vetting; the supervisor becomes `by` on creation."""
    with pghistory.context(user=by.pk):
        if profile is None:
            membership = mentor.membership_or_none
            if membership is None or membership.role != Role.MENTOR or not mentor.is_active:
                raise ValidationError({"mentor": _("This person does not hold the role of mentor.")})
            if MentorProfile.objects.filter(user=mentor).exists():
                raise ValidationError({"mentor": _("This mentor already has a profile.")})
            profile = MentorProfile(user=mentor, supervisor=by)
        else:
            profile = MentorProfile.objects.select_for_update().get(pk=profile.pk)
        unknown = set(data) - set(PROFILE_FIELDS)
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        for name, value in data.items():
            setattr(profile, name, value)
        if profile.vetting_status == VettingStatus.VETTED:
            errors = {}
            if not profile.vetted_on:
                errors["vetted_on"] = _("A vetted mentor needs the date of vetting.")
            if not profile.vetting_expires_on:
                errors["vetting_expires_on"] = _("A vetted mentor needs the date the vetting expires.")
            if errors:
                raise ValidationError(errors)
        if profile.vetted_on and profile.vetted_on > timezone.localdate():
            raise ValidationError({"vetted_on": _("The vetting date cannot be in the future.")})
        if profile.vetted_on and profile.vetting_expires_on and profile.vetting_expires_on <= profile.vetted_on:
            raise ValidationError({"vetting_expires_on": _("The expiry must come after the vetting date.")})
        profile.full_clean(exclude=["user", "supervisor", "cities"])
        profile.save()
        if cities is not None:
            profile.cities.set(cities)
        return profile


def active_load(mentor_ids) -> dict[int, int]:
    """Active and approved (about to start) assignments per mentor, in one query."""
    rows = (
        MentorAssignment.objects.filter(
            mentor_id__in=mentor_ids, status__in=[AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE]
        )
        .values("mentor_id")
        .annotate(n=Count("pk"))
    )
    return {row["mentor_id"]: row["n"] for row in rows}


def _check_capacity(mentor: User, *, counting_self: MentorAssignment | None = None) -> MentorProfile:
    profile = MentorProfile.objects.select_for_update().filter(user=mentor).first()
    if profile is None or not profile.is_assignable() or not mentor.is_active:
        raise ValidationError({"mentor": _("This mentor is not vetted, or their vetting has lapsed.")})
    load = MentorAssignment.objects.filter(
        mentor=mentor, status__in=[AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE]
    )
    if counting_self is not None:
        load = load.exclude(pk=counting_self.pk)
    if load.count() >= profile.capacity:
        raise ValidationError(
            {"mentor": _("This mentor has no free place (capacity %(n)s).") % {"n": profile.capacity}}
        )
    return profile


@transaction.atomic
def mentor_propose(
    *, case: Case, by: User, mentor: User, gender_preference: str = "", note: str = ""
) -> MentorAssignment:
    """A caseworker proposes a mentor; the manager decides next."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        _check_capacity(mentor)
        if gender_preference:
            profile = mentor.mentor_profile
            if profile.gender != gender_preference:
                raise ValidationError({"mentor": _("This mentor is not of the gender the case asks for.")})
        if MentorAssignment.objects.filter(
            case=case, status__in=[AssignmentStatus.PROPOSED, AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE]
        ).exists():
            raise ValidationError(_("This case already has a mentor, or a proposal under way. End or settle it first."))
        try:
            with transaction.atomic():
                return MentorAssignment.objects.create(
                    case=case,
                    mentor=mentor,
                    status=AssignmentStatus.PROPOSED,
                    gender_preference=gender_preference,
                    proposal_note=note,
                    proposed_by=by,
                )
        except IntegrityError as error:  # a proposal made at the same moment
            raise ValidationError(_("This case already has a mentor, or a proposal under way.")) from error


def _locked(assignment: MentorAssignment, *expected: str) -> MentorAssignment:
    locked = MentorAssignment.objects.select_for_update().select_related("case").get(pk=assignment.pk)
    if locked.status not in expected:
        raise ValidationError(
            _("This assignment is %(status)s; that step is no longer possible.")
            % {"status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def mentor_assignment_decide(
    *, assignment: MentorAssignment, by: User, approve: bool, reason: str = ""
) -> MentorAssignment:
    """The manager approves (the mentor is asked next) or rejects with a reason."""
    with pghistory.context(user=by.pk):
        lock_writable(assignment.case)
        assignment = _locked(assignment, AssignmentStatus.PROPOSED)
        if not approve and not reason.strip():
            raise ValidationError({"reason": _("Say why the proposal is rejected.")})
        if approve:
            _check_capacity(assignment.mentor, counting_self=assignment)
        assignment.status = AssignmentStatus.APPROVED if approve else AssignmentStatus.REJECTED
        assignment.decided_by, assignment.decided_at, assignment.decision_reason = by, timezone.now(), reason.strip()
        assignment.save()
        return assignment


@transaction.atomic
def mentor_assignment_respond(
    *, assignment: MentorAssignment, by: User, accept: bool, reason: str = ""
) -> MentorAssignment:
    """The mentor accepts (the assignment starts and they join the team) or declines with a reason."""
    with pghistory.context(user=by.pk):
        lock_writable(assignment.case)
        assignment = _locked(assignment, AssignmentStatus.APPROVED)
        if assignment.mentor_id != by.pk:
            raise ValidationError(_("Only the proposed mentor answers this proposal."))
        if not accept and not reason.strip():
            raise ValidationError({"reason": _("Say why you decline.")})
        assignment.responded_at, assignment.response_reason = timezone.now(), reason.strip()
        if accept:
            _check_capacity(by, counting_self=assignment)
            assignment.status = AssignmentStatus.ACTIVE
            assignment.started_on = timezone.localdate()
            if not CaseTeamMember.objects.filter(case=assignment.case, user=by).exists():
                team_member_add(case=assignment.case, by=by, user=by, role=TeamRole.MENTOR)
        else:
            assignment.status = AssignmentStatus.DECLINED
        assignment.save()
        return assignment


@transaction.atomic
def mentor_assignment_end(*, assignment: MentorAssignment, by: User, reason: str) -> MentorAssignment:
    """End an active assignment: the mentor leaves the team at once; planned sessions are cancelled."""
    with pghistory.context(user=by.pk):
        lock_writable(assignment.case)
        assignment = _locked(assignment, AssignmentStatus.ACTIVE)
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the mentoring ends.")})
        _end(assignment, by=by, reason=reason.strip())
        return assignment


def _end(assignment: MentorAssignment, *, by: User, reason: str) -> None:
    """Ended: planned sessions cancelled, the mentor off the team (the case row is locked by the caller)."""
    assignment.status = AssignmentStatus.ENDED
    assignment.ended_on, assignment.ended_by, assignment.end_reason = timezone.localdate(), by, reason
    assignment.save()
    assignment.sessions.filter(status=SessionStatus.PLANNED).update(
        status=SessionStatus.CANCELLED, updated_at=timezone.now()
    )
    member = CaseTeamMember.objects.filter(
        case_id=assignment.case_id, user_id=assignment.mentor_id, role=TeamRole.MENTOR
    ).first()
    if member is not None:
        team_member_remove(member=member, by=by, through_assignment=True)


# The workflow's steps by name, for the pages and the API alike: (assignment, by, reason) -> assignment.
ASSIGNMENT_STEPS = {
    "approve": lambda a, by, r: mentor_assignment_decide(assignment=a, by=by, approve=True, reason=r),
    "reject": lambda a, by, r: mentor_assignment_decide(assignment=a, by=by, approve=False, reason=r),
    "accept": lambda a, by, r: mentor_assignment_respond(assignment=a, by=by, accept=True, reason=r),
    "decline": lambda a, by, r: mentor_assignment_respond(assignment=a, by=by, accept=False, reason=r),
    "end": lambda a, by, r: mentor_assignment_end(assignment=a, by=by, reason=r),
}


def _active_assignment_of(assignment: MentorAssignment, by: User) -> MentorAssignment:
    if assignment.status != AssignmentStatus.ACTIVE or assignment.mentor_id != by.pk:
        raise ValidationError(_("Only the mentor of an active assignment plans and logs its sessions."))
    return assignment


@transaction.atomic
def session_plan(
    *, assignment: MentorAssignment, by: User, starts_at: datetime.datetime, place_type: str
) -> MentoringSession:
    with pghistory.context(user=by.pk):
        lock_writable(assignment.case)
        _active_assignment_of(_locked(assignment, AssignmentStatus.ACTIVE), by)
        if starts_at < timezone.now() - datetime.timedelta(days=1):
            raise ValidationError({"starts_at": _("Plan sessions from today on; log past ones instead.")})
        session = MentoringSession(
            case_id=assignment.case_id,
            assignment=assignment,
            mentor=by,
            recorded_by=by,
            starts_at=starts_at,
            place_type=place_type,
        )
        session.full_clean(exclude=["case", "assignment", "mentor", "recorded_by"])
        session.save()
        return session


LOG_FIELDS = MentoringSession.SHAREABLE_FIELDS


@transaction.atomic
def session_log(
    *,
    by: User,
    data: dict[str, Any],
    confidential_notes: str = "",
    session: MentoringSession | None = None,
    assignment: MentorAssignment | None = None,
) -> MentoringSession:
    """Log how a planned session went, or log an unplanned one (session None, assignment given)."""
    with pghistory.context(user=by.pk):
        if session is not None:
            session = MentoringSession.objects.select_for_update().select_related("assignment").get(pk=session.pk)
            assignment = session.assignment
        if assignment is None:
            raise ValidationError(_("A session belongs to an assignment."))
        lock_writable(assignment.case)
        _active_assignment_of(_locked(assignment, AssignmentStatus.ACTIVE), by)
        if session is None:
            session = MentoringSession(case_id=assignment.case_id, assignment=assignment, mentor=by, recorded_by=by)
        elif session.mentor_id != by.pk:
            raise ValidationError(_("Only the session's mentor logs it."))
        unknown = set(data) - set(LOG_FIELDS)
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        for name, value in data.items():
            setattr(session, name, value)
        errors = {}
        if session.status == SessionStatus.PLANNED:
            errors["status"] = _("Say how the session went: attended, no-show or cancelled.")
        if session.status == SessionStatus.ATTENDED and not session.duration_minutes:
            errors["duration_minutes"] = _("An attended session needs its duration.")
        if session.starts_at and session.starts_at > timezone.now() + datetime.timedelta(minutes=5):
            errors["starts_at"] = _("A session is logged once it has taken place.")
        if session.goal_id is not None and (
            session.goal.case_id != assignment.case_id or session.goal.domain != "ideology"
        ):
            errors["goal"] = _("Choose one of this case's ideology goals.")
        if session.progress_rating is not None and session.goal_id is None:
            errors["goal"] = _("A progress rating is given against one of the case's ideology goals.")
        if session.status != SessionStatus.ATTENDED and session.progress_rating is not None:
            errors["progress_rating"] = _("Only an attended session carries a progress rating.")
        if errors:
            raise ValidationError(errors)
        session.full_clean(exclude=["case", "assignment", "mentor", "recorded_by", "goal"])
        session.logged_at = timezone.now()
        session.save()
        followups.changed("mentoring_session.logged", session, by=by)
        text = confidential_notes.strip()
        if text:
            MentoringConfidentialNote.objects.update_or_create(session=session, defaults={"author": by, "text": text})
        else:
            MentoringConfidentialNote.objects.filter(session=session).delete()
        return session


ENDING_REASONS = {
    "exited": "The participant left the program.",
    "closed": "The case was closed.",
    "transferred": "The case moved to another organisation.",
}


def settle_case(*, case: Case, by: User, event: str) -> None:
    """The case exits, closes or moves to another NGO (called by the core, case row locked): the active
    assignment ends, the mentor leaves the team, planned sessions are cancelled, and a proposal still
    under way is withdrawn, so no mentor keeps a place, a portal entry or a door to the case."""
    reason = _(ENDING_REASONS[event])
    for assignment in MentorAssignment.objects.select_for_update().filter(
        case=case, status__in=[AssignmentStatus.PROPOSED, AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE]
    ):
        if assignment.status == AssignmentStatus.ACTIVE:
            _end(assignment, by=by, reason=reason)
        else:
            assignment.status = AssignmentStatus.WITHDRAWN
            assignment.decision_reason = assignment.decision_reason or reason
            assignment.save()
