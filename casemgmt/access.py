"""The one access policy: who may see or change what.

Every page, API endpoint, export, history view and reminder asks this module.
Lists get querysets filtered in SQL; single objects come from the same querysets,
so an object outside a user's scope is simply not found (404), never "forbidden".
Being a superuser opens nothing here: the Django admin is for configuration only.

Field visibility follows the handbook's table (section 4): a team member's field set
follows their role on the case team; a manager's follows their membership role.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery, Value
from django.shortcuts import get_object_or_404

from accounts.models import Role, User

from .models import AccessLog, Case, CaseTeamMember, Participant


def has_role(user: User, *roles: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


# --- Organisation users -----------------------------------------------------------


def users_manageable_by(user: User) -> QuerySet[User]:
    """Staff accounts an organisation admin may list and edit: those of their own organisation."""
    if not has_role(user, Role.ADMIN):
        return User.objects.none()
    return User.objects.filter(membership__organisation_id=user.membership.organisation_id).select_related(
        "membership__organisation"
    )


def get_manageable_user(user: User, user_id: int) -> User:
    return get_object_or_404(users_manageable_by(user), pk=user_id)


# --- Field groups -----------------------------------------------------------------


class G:
    """Field groups: the unit in which case data is shown or hidden."""

    CODE = "code"  # case code and the lead caseworker's contact
    NAMES = "names"  # given and family names in both scripts, city
    STAGE = "stage"
    LANGUAGES = "languages"  # languages (and safety flags, with the case file)
    IDENTITY = "identity"  # date of birth, national ID
    CONTACT = "contact"  # the participant's phone, e-mail, address
    REFERRAL = "referral"  # referral and screening
    TEAM = "team"  # who is on the case team


# Model fields per group, for serializers, forms and the change history.
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    G.CODE: ("case_code",),
    G.NAMES: ("given_name_latin", "family_name_latin", "given_name_arabic", "family_name_arabic", "city"),
    G.STAGE: ("stage", "stage_changed_at"),
    G.LANGUAGES: ("languages",),
    G.IDENTITY: ("date_of_birth", "national_id"),
    G.CONTACT: ("phone", "email", "address"),
    G.REFERRAL: ("referral_source", "referral_date", "referring_organisation", "referral_reason"),
    G.TEAM: ("user", "role", "is_lead"),
}

ALL_GROUPS = frozenset(GROUP_FIELDS)
# Viewer kinds: the role on the case team ("lead" for the lead caseworker) or "manager".
LEAD = "lead"
MANAGER = "manager"
VISIBLE: dict[str, frozenset[str]] = {
    LEAD: ALL_GROUPS,
    "caseworker": ALL_GROUPS,
    "placement_officer": frozenset({G.CODE, G.NAMES, G.STAGE, G.LANGUAGES, G.CONTACT, G.TEAM}),
    # A counsellor reads the family's contact details (families app), not the participant's.
    "counsellor": frozenset({G.CODE, G.NAMES, G.STAGE, G.LANGUAGES, G.TEAM}),
    "mentor": frozenset({G.CODE, G.NAMES, G.STAGE, G.LANGUAGES, G.TEAM}),
    MANAGER: ALL_GROUPS,
}
EDITABLE: dict[str, frozenset[str]] = {
    LEAD: frozenset({G.NAMES, G.LANGUAGES, G.IDENTITY, G.CONTACT, G.REFERRAL}),
    "caseworker": frozenset({G.NAMES, G.LANGUAGES, G.IDENTITY, G.CONTACT, G.REFERRAL}),
    MANAGER: frozenset({G.REFERRAL}),  # the intake; identity and contact are read-only for managers
}
TEAM_ROLES = ("caseworker", "placement_officer", "counsellor", "mentor")


# --- Cases ------------------------------------------------------------------------


def _my_team_rows(user: User):
    return CaseTeamMember.objects.filter(case=OuterRef("pk"), user=user)


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases this user may open; the single source for lists and details.

    Each case carries `viewer_kind`: "manager", "lead" or the user's role on the team,
    so lists decide field visibility per row without a query per row.
    """
    if not (user.is_authenticated and user.is_active):
        return Case.objects.none()
    role = user.role
    if role == Role.MANAGER:
        return Case.objects.filter(organisation_id=user.membership.organisation_id).annotate(viewer_kind=Value(MANAGER))
    if role in (Role.CASEWORKER, Role.PLACEMENT_OFFICER, Role.COUNSELLOR, Role.MENTOR):
        mine = _my_team_rows(user)
        return Case.objects.filter(Exists(mine)).annotate(
            viewer_kind=Subquery(mine.values("role")[:1]),
            viewer_is_lead=Exists(mine.filter(is_lead=True)),
        )
    # auditor, admin, mentor supervisor: no case content. Authorities: with the sharing basis (issue 10).
    return Case.objects.none()


def get_case_for_user(user: User, case_id: int) -> Case:
    return get_object_or_404(cases_visible_to(user).with_list_relations(), pk=case_id)


def viewer_kind(user: User, case: Case) -> str | None:
    """ "manager", "lead", a team role, or None. Uses the annotations of cases_visible_to."""
    kind = getattr(case, "viewer_kind", None)
    if kind is None:
        annotated = cases_visible_to(user).filter(pk=case.pk).first()
        if annotated is None:
            return None
        case.viewer_kind, case.viewer_is_lead = annotated.viewer_kind, getattr(annotated, "viewer_is_lead", False)
        kind = case.viewer_kind
    if kind != MANAGER and getattr(case, "viewer_is_lead", False):
        return LEAD
    return kind


def visible_groups(user: User, case: Case) -> frozenset[str]:
    return VISIBLE.get(viewer_kind(user, case) or "", frozenset())


def editable_groups(user: User, case: Case) -> frozenset[str]:
    if case.is_read_only:
        return frozenset()
    return EDITABLE.get(viewer_kind(user, case) or "", frozenset())


def visible_fields(user: User, case: Case) -> frozenset[str]:
    return frozenset(f for group in visible_groups(user, case) for f in GROUP_FIELDS[group])


def can_move_stage(user: User, case: Case) -> bool:
    """Stage moves, exits, closures and re-openings: the lead or a manager."""
    return viewer_kind(user, case) in (LEAD, MANAGER)


def can_manage_team(user: User, case: Case) -> bool:
    return not case.is_read_only and viewer_kind(user, case) in (LEAD, MANAGER)


def can_open_case(user: User) -> bool:
    return has_role(user, Role.CASEWORKER, Role.MANAGER)


def can_see_history(user: User, case: Case) -> bool:
    """Change history and access log of a case: caseworkers on the team and managers (handbook §4)."""
    return viewer_kind(user, case) in (LEAD, "caseworker", MANAGER)


def team_candidates(user: User, case: Case) -> QuerySet[User]:
    """Colleagues the lead or a manager may add: caseworkers and placement officers of the owning NGO.

    Counsellors join through a family engagement and mentors through an assignment.
    """
    if not can_manage_team(user, case):
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            membership__organisation_id=case.organisation_id,
            membership__role__in=[Role.CASEWORKER, Role.PLACEMENT_OFFICER],
        )
        .exclude(case_teams__case=case)
        .select_related("membership")
        .order_by("last_name", "first_name")
    )


def participants_visible_to(user: User) -> QuerySet[Participant]:
    return Participant.objects.filter(case__in=cases_visible_to(user).values("pk"))


# --- Audit ------------------------------------------------------------------------


def access_logs_visible_to(user: User) -> QuerySet[AccessLog]:
    """Managers and the auditor read who read their organisation's cases; nobody else here."""
    if not has_role(user, Role.MANAGER, Role.AUDITOR):
        return AccessLog.objects.none()
    return AccessLog.objects.filter(case__organisation_id=user.membership.organisation_id)
