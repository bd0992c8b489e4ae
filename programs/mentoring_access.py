"""Who may see and do what in mentoring, built on the core policy (`casemgmt.access`).

Case visibility and the session rows' rule are the core's (registered in `mentoring_hooks`); this
module adds the workflow around them: mentor profiles, assignments, and the confidential notes,
which only the session's own mentor ever reads. Everything out of scope answers 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Role, User
from casemgmt import access
from casemgmt.access import LEAD
from casemgmt.models import Case

from .models import MentorAssignment, MentoringConfidentialNote, MentoringSession, MentorProfile
from .models.mentoring import AssignmentStatus

SESSION = "mentoring_session"
CASEWORKER_KINDS = (LEAD, "caseworker")


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.membership_or_none)


def vetting_valid() -> Q:
    """The condition on a mentor's team rows: vetted and unexpired, checked on every request."""
    today = timezone.localdate()
    return Q(user__mentor_profile__vetting_status="vetted", user__mentor_profile__vetting_expires_on__gte=today)


# --- Mentor profiles ------------------------------------------------------------------------


def mentors_visible_to(user: User) -> QuerySet[MentorProfile]:
    """Caseworkers and managers: assignable mentors (for matching); supervisors: the mentors they
    supervise, whatever their vetting; a mentor: their own profile."""
    if not _active(user):
        return MentorProfile.objects.none()
    role = user.role
    if role in (Role.CASEWORKER, Role.MANAGER):
        return MentorProfile.objects.assignable().filter(user__is_active=True)
    if role == Role.MENTOR_SUPERVISOR:
        return MentorProfile.objects.filter(supervisor=user)
    if role == Role.MENTOR:
        return MentorProfile.objects.filter(user=user)
    return MentorProfile.objects.none()


def can_see_vetting(user: User) -> bool:
    return _active(user) and user.role == Role.MENTOR_SUPERVISOR


def can_manage_vetting(user: User, profile: MentorProfile | None = None) -> bool:
    """The supervisor records vetting of the mentors they supervise, and profiles for unprofiled
    mentors of their own organisation."""
    if not can_see_vetting(user):
        return False
    return profile is None or profile.supervisor_id == user.pk


def unprofiled_mentors(user: User) -> QuerySet[User]:
    if not can_manage_vetting(user):
        return User.objects.none()
    return User.objects.filter(
        is_active=True,
        membership__role=Role.MENTOR,
        membership__organisation_id=user.membership.organisation_id,
        mentor_profile__isnull=True,
    ).order_by("last_name", "first_name")


# --- Assignments ----------------------------------------------------------------------------


def assignments_visible_to(user: User) -> QuerySet[MentorAssignment]:
    """Caseworkers on the team and managers: the case's assignments. A mentor: their own, from the
    manager's approval to the end of the assignment, and only while their vetting is valid. Nobody else."""
    if not _active(user):
        return MentorAssignment.objects.none()
    role = user.role
    if role == Role.MANAGER:
        return MentorAssignment.objects.filter(case__organisation_id=user.membership.organisation_id)
    if role == Role.CASEWORKER:
        return MentorAssignment.objects.filter(case__in=access.cases_visible_to(user).values("pk"))
    if role == Role.MENTOR:
        if not MentorProfile.objects.assignable().filter(user=user).exists():
            return MentorAssignment.objects.none()
        # Proposals approved for them, and their active mentees (on cases they can still open); nothing
        # once an assignment ends or is declined.
        return MentorAssignment.objects.filter(mentor=user).filter(
            Q(status=AssignmentStatus.APPROVED)
            | Q(status=AssignmentStatus.ACTIVE, case__in=access.cases_visible_to(user).values("pk"))
        )
    return MentorAssignment.objects.none()


def get_assignment_for_user(user: User, pk: int) -> MentorAssignment:
    return get_object_or_404(
        assignments_visible_to(user).select_related("case__participant__city", "mentor", "proposed_by"), pk=pk
    )


def is_case_staff(user: User) -> bool:
    """A caseworker on the team or a manager (assignments reach them only through the case): they see
    the whole assignment; the mentor sees their side of it."""
    return user.role in (Role.CASEWORKER, Role.MANAGER)


def can_propose(user: User, case: Case) -> bool:
    """The lead or a caseworker on the team, on an open case."""
    return not case.is_read_only and access.viewer_kind(user, case) in CASEWORKER_KINDS


def can_decide(user: User, assignment: MentorAssignment) -> bool:
    return (
        assignment.status == AssignmentStatus.PROPOSED
        and user.role == Role.MANAGER
        and assignment.case.organisation_id == user.membership.organisation_id
        and not assignment.case.is_read_only
    )


def can_respond(user: User, assignment: MentorAssignment) -> bool:
    return (
        assignment.status == AssignmentStatus.APPROVED
        and assignment.mentor_id == user.pk
        and not assignment.case.is_read_only
    )


def can_end(user: User, assignment: MentorAssignment) -> bool:
    """The lead, a manager, or the mentor themselves end an active assignment."""
    if assignment.status != AssignmentStatus.ACTIVE or assignment.case.is_read_only:
        return False
    if assignment.mentor_id == user.pk:
        return True
    if user.role == Role.MANAGER:
        return assignment.case.organisation_id == user.membership.organisation_id
    case = access.cases_visible_to(user).filter(pk=assignment.case_id).first()
    return case is not None and access.viewer_kind(user, case) == LEAD


STEP_ALLOWED = {
    "approve": can_decide,
    "reject": can_decide,
    "accept": can_respond,
    "decline": can_respond,
    "end": can_end,
}


def may_take_step(user: User, assignment: MentorAssignment, step: str) -> bool:
    return step in STEP_ALLOWED and STEP_ALLOWED[step](user, assignment)


# --- Sessions -------------------------------------------------------------------------------


def sessions_visible_to(user: User) -> QuerySet[MentoringSession]:
    return access.records_visible_to(user, SESSION)


def get_session_for_user(user: User, pk: int) -> MentoringSession:
    return get_object_or_404(sessions_visible_to(user).select_related("case__participant", "mentor", "goal"), pk=pk)


def can_write_session(user: User, session: MentoringSession | None, case: Case) -> bool:
    """Only the mentor of an active assignment plans and logs, and only their own sessions."""
    if not access.can_write_record(user, case, SESSION, session):
        return False
    return session is None or session.mentor_id == user.pk


def confidential_note_for(user: User, session: MentoringSession) -> MentoringConfidentialNote | None:
    """The session's confidential notes, for its own mentor and nobody else (not the manager, not the
    supervisor, not a later mentor of the case, not a superuser)."""
    if session.mentor_id != user.pk or not sessions_visible_to(user).filter(pk=session.pk).exists():
        return None
    return MentoringConfidentialNote.objects.filter(session=session).first()


def sees_confidential_notes(user: User, session: MentoringSession) -> bool:
    return session.mentor_id == user.pk


# --- Supervision ----------------------------------------------------------------------------


def can_see_mentoring_home(user: User) -> bool:
    return _active(user) and user.role in (Role.MENTOR, Role.MENTOR_SUPERVISOR, Role.MANAGER)
