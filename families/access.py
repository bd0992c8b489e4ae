"""Who may see and do what in family counselling, built on the core policy (`casemgmt.access`).

Case visibility and the record rules are the core's (registered in `families.hooks`); this module adds
the family-contact basis, the engagement workflow and the confidential notes, which only the
counsellors of the session's own engagement ever read. Everything out of scope answers 404.
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Role, User
from casemgmt import access
from casemgmt.access import LEAD, MANAGER, G
from casemgmt.casefile import Consent
from casemgmt.models import Case

from .models import (
    OPEN_ENGAGEMENT,
    CounsellingConfidentialNote,
    CounsellingSession,
    Engagement,
    EngagementCounsellor,
    FamilyMember,
    GroupSession,
    Household,
    SupportReferral,
)

MEMBER = "household_member"
ENGAGEMENT = "family_engagement"
SESSION = "counselling_session"
REFERRAL = "family_referral"
SUPPORT = "family_support"
CASE_STAFF_KINDS = (LEAD, "caseworker", MANAGER)


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.membership_or_none)


# --- Conditions the core's rules use --------------------------------------------------------


def open_engagement_on_case(user: User) -> Q:
    """The condition on a counsellor's team rows: an open engagement of theirs on that case.

    Checked on every request, so an ended engagement closes the case at once even if a team row stayed."""
    return Q(
        Exists(
            EngagementCounsellor.objects.filter(
                counsellor=user, engagement__case=OuterRef("case"), engagement__status__in=OPEN_ENGAGEMENT
            )
        )
    )


def family_contact_basis(user: User) -> Q:
    """On household-member rows: the participant's current family-contact consent, or the relative's
    own current consent. Evaluated in SQL at query time, so a withdrawal counts from the next request."""
    today = timezone.localdate()
    # a consent to share family contact with another organisation (probation, a transfer) is no basis
    case_consent = Consent.objects.filter(
        case=OuterRef("case"),
        categories__contains=["family_contact"],
        given_on__lte=today,
        withdrawn_on__isnull=True,
    ).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today),
        Q(recipient__isnull=True) | Q(recipient_id=OuterRef("case__organisation_id")),
    )
    own = Q(member__own_consent_given_on__lte=today, member__own_consent_withdrawn_on__isnull=True) & (
        Q(member__own_consent_expires_on__isnull=True) | Q(member__own_consent_expires_on__gte=today)
    )
    return Q(Exists(case_consent)) | own


def of_my_engagements(user: User, prefix: str = "engagement__") -> Q:
    """Rows of engagements the counsellor is assigned to (one assignment row per pair: no duplicates)."""
    return Q(**{f"{prefix}assignments__counsellor": user})


def _current_family_contact_consents():
    today = timezone.localdate()
    return Consent.objects.filter(
        categories__contains=["family_contact"], given_on__lte=today, withdrawn_on__isnull=True
    ).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today),
        Q(recipient__isnull=True) | Q(recipient_id=F("case__organisation_id")),
    )


def has_case_family_contact_consent(case: Case) -> bool:
    return _current_family_contact_consents().filter(case=case).exists()


def cases_with_household_details(user: User, case_ids) -> set[int]:
    """Of these (visible) cases, those whose household address and situation the user may read:
    all for caseworkers and managers; for a counsellor, those with the participant's current consent."""
    case_ids = set(case_ids)
    if user.role != Role.COUNSELLOR:
        return case_ids
    return set(_current_family_contact_consents().filter(case_id__in=case_ids).values_list("case_id", flat=True))


# --- Households and members -----------------------------------------------------------------


def sees_family(user: User, case: Case) -> bool:
    return G.FAMILY in access.visible_groups(user, case)


def households_visible_to(user: User) -> QuerySet[Household]:
    """Households of the cases whose family the user may open (the count of members is no secret
    to a counsellor holding an engagement; the members are, without a basis)."""
    if not _active(user) or user.role not in (Role.CASEWORKER, Role.MANAGER, Role.COUNSELLOR):
        return Household.objects.none()
    return Household.objects.filter(case__in=access.cases_visible_to(user).values("pk"))


def links_visible_to(user: User) -> QuerySet:
    return access.records_visible_to(user, MEMBER)


def members_visible_to(user: User) -> QuerySet[FamilyMember]:
    """Relatives whose details the user may read: through at least one link they may read."""
    return FamilyMember.objects.filter(Exists(links_visible_to(user).filter(member=OuterRef("pk"))))


def get_member_for_user(user: User, pk: int) -> FamilyMember:
    return get_object_or_404(members_visible_to(user), pk=pk)


def can_add_members(user: User, case: Case) -> bool:
    """A counsellor holding an open engagement on the case (handbook §4: households and family
    members, CO rw; CW and MG read). A new relative may be recorded without the participant's consent
    (a relative who asks for help on their own): what the counsellor types reveals nothing, and the
    counsellor reads the row only once a basis exists."""
    return access.can_write_record(user, case, MEMBER)


def can_link_members(user: User, case: Case) -> bool:
    """Linking a relative known from a sibling's household, on the participant's family-contact consent
    (the link shows the relative to everyone of this case's family)."""
    return access.can_write_record(user, case, MEMBER) and has_case_family_contact_consent(case)


def can_edit_household(user: User, case: Case) -> bool:
    """The household's address and situation: a counsellor who may read them (the participant's consent)."""
    return access.can_write_record(user, case, MEMBER) and has_case_family_contact_consent(case)


def can_record_own_consent(user: User, case: Case) -> bool:
    """A relative's own consent is consent metadata: the caseworkers on the team and the manager write it
    (handbook §4, consents CW rw, MG rw, CO r), never the counsellor it would open the relative to."""
    return not case.is_read_only and access.viewer_kind(user, case) in CASE_STAFF_KINDS


def linkable_members(user: User, case: Case) -> QuerySet[FamilyMember]:
    """Relatives the user already reads on other cases of the same organisation, not yet in this
    household: a sibling's mother is linked, not recorded twice."""
    return (
        members_visible_to(user)
        .filter(organisation_id=case.organisation_id)
        .exclude(links__case=case)
        .order_by("family_name", "given_name", "pk")
    )


def can_edit_member(user: User, member: FamilyMember, case: Case) -> bool:
    return (
        access.can_write_record(user, case, MEMBER)
        and access.case_records_visible_to(user, case, MEMBER).filter(member=member).exists()
    )


# --- Engagements ----------------------------------------------------------------------------


def engagements_visible_to(user: User) -> QuerySet[Engagement]:
    return access.records_visible_to(user, ENGAGEMENT)


def get_engagement_for_user(user: User, pk: int) -> Engagement:
    return get_object_or_404(engagements_visible_to(user).select_related("case__participant"), pk=pk)


def can_create_engagement(user: User, case: Case) -> bool:
    """The lead, a caseworker on the team, or a manager of the owning organisation."""
    return access.can_write_record(user, case, ENGAGEMENT)


def can_change_counsellors(user: User, engagement: Engagement, case: Case) -> bool:
    """Who holds an open engagement is a team change: the lead and the manager (handbook §3, "assigns
    teams"), not a counsellor, who would hand the confidential notes on by their own choice."""
    if not engagement.is_open or case.is_read_only:
        return False
    return access.viewer_kind(user, case) in (LEAD, MANAGER)


def is_counsellor_of(user: User, engagement: Engagement) -> bool:
    return (
        _active(user)
        and user.role == Role.COUNSELLOR
        and EngagementCounsellor.objects.filter(engagement=engagement, counsellor=user).exists()
    )


def can_end_engagement(user: User, engagement: Engagement, case: Case) -> bool:
    """Those who create engagements, and the engagement's own counsellors."""
    if not engagement.is_open or case.is_read_only:
        return False
    return access.viewer_kind(user, case) in CASE_STAFF_KINDS or is_counsellor_of(user, engagement)


def counsellor_candidates(case: Case) -> QuerySet[User]:
    """Active counsellors of the case's organisation."""
    return User.objects.filter(
        is_active=True, membership__organisation_id=case.organisation_id, membership__role=Role.COUNSELLOR
    ).order_by("last_name", "first_name")


# --- Sessions, support ----------------------------------------------------------------------


def sessions_visible_to(user: User) -> QuerySet[CounsellingSession]:
    return access.records_visible_to(user, SESSION)


def get_session_for_user(user: User, pk: int) -> CounsellingSession:
    return get_object_or_404(
        sessions_visible_to(user).select_related("case__participant", "engagement", "group_session"), pk=pk
    )


def can_write_sessions(user: User, engagement: Engagement, case: Case) -> bool:
    """Only the engagement's own counsellors plan and log, while it is open."""
    return engagement.is_open and access.can_write_record(user, case, SESSION) and is_counsellor_of(user, engagement)


def can_write_support(user: User, engagement: Engagement, case: Case) -> bool:
    return engagement.is_open and access.can_write_record(user, case, SUPPORT) and is_counsellor_of(user, engagement)


def referrals_visible_to(user: User) -> QuerySet[SupportReferral]:
    return access.records_visible_to(user, REFERRAL)


def get_referral_for_user(user: User, pk: int) -> SupportReferral:
    return get_object_or_404(referrals_visible_to(user).select_related("engagement", "case__participant"), pk=pk)


def can_update_referral(user: User, referral: SupportReferral, case: Case) -> bool:
    """The counsellors of the referral's open engagement; caseworkers and managers read."""
    return can_write_support(user, referral.engagement, case) and access.can_write_record(user, case, REFERRAL)


def confidential_note_for(user: User, session: CounsellingSession) -> CounsellingConfidentialNote | None:
    """The session's confidential notes, for the counsellors of its engagement and nobody else (not the
    caseworker, not the manager, not a counsellor of another engagement of the case, not a superuser)."""
    if not sessions_visible_to(user).filter(pk=session.pk).exists():
        return None
    if not is_counsellor_of(user, session.engagement):
        return None
    return CounsellingConfidentialNote.objects.filter(session=session).first()


def confidential_notes_for(user: User, session_ids) -> dict[int, str]:
    """The caller's readable notes for many sessions in one query (API lists)."""
    if not _active(user) or user.role != Role.COUNSELLOR or not session_ids:
        return {}
    return dict(
        CounsellingConfidentialNote.objects.filter(
            session_id__in=list(session_ids), session__engagement__assignments__counsellor=user
        )
        .filter(session__in=sessions_visible_to(user).values("pk"))
        .values_list("session_id", "text")
    )


# --- Group sessions -------------------------------------------------------------------------


def group_sessions_visible_to(user: User) -> QuerySet[GroupSession]:
    """The facilitator's own group sessions; a family's team reaches only its own session row."""
    if not _active(user) or user.role != Role.COUNSELLOR:
        return GroupSession.objects.none()
    return GroupSession.objects.filter(facilitator=user)


def can_see_family_home(user: User) -> bool:
    return _active(user) and user.role == Role.COUNSELLOR


def my_open_engagements(user: User) -> QuerySet[Engagement]:
    if not can_see_family_home(user):
        return Engagement.objects.none()
    return engagements_visible_to(user).filter(status__in=OPEN_ENGAGEMENT)
