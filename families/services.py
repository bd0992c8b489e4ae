"""Every family-counselling write: households and members, engagements, sessions, group sessions, support.

Services check the business rules (states, organisations, membership of the engagement) and take
`by=`; views and the API have asked `families.access` first whether `by` may act at all.
"""

from __future__ import annotations

import datetime
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from casemgmt import followups
from casemgmt.models import Case, CaseTeamMember, TeamRole
from casemgmt.services import lock_writable, team_member_add, team_member_remove

from .models import (
    OPEN_ENGAGEMENT,
    CounsellingConfidentialNote,
    CounsellingSession,
    Engagement,
    EngagementCounsellor,
    EngagementStatus,
    FamilyMember,
    GroupSession,
    Household,
    HouseholdMember,
    SessionKind,
    SessionStatus,
    SupportEntry,
    SupportReferral,
)

MEMBER_FIELDS = (
    "given_name",
    "family_name",
    "name_arabic",
    "date_of_birth",
    "age",
    "is_minor",
    "phone",
    "contact_note",
    "language",
    "vulnerabilities",
    "vulnerability_note",
    "own_consent_given_on",
    "own_consent_expires_on",
    "own_consent_withdrawn_on",
)


OWN_CONSENT_FIELDS = ("own_consent_given_on", "own_consent_expires_on", "own_consent_withdrawn_on")


def _refuse_consent_by_counsellor(by: User, data: dict, member: FamilyMember | None = None) -> None:
    """Consents are recorded by the caseworkers and the manager (handbook §4: CO reads them); a counsellor
    must not open a relative to themselves by writing a consent."""
    if by.role != Role.COUNSELLOR:
        return
    changed = [
        name
        for name in OWN_CONSENT_FIELDS
        if name in data and data[name] != (getattr(member, name) if member is not None else None)
    ]
    if changed:
        raise ValidationError(
            {name: _("A relative's consent is recorded by the caseworker or the manager.") for name in changed}
        )


def _unknown(data: dict, allowed) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})


def household_for(case: Case) -> Household:
    household, _created = Household.objects.get_or_create(case=case)
    return household


@transaction.atomic
def household_update(*, case: Case, by: User, address: str = "", situation: str = "") -> Household:
    with pghistory.context(user=by.pk):
        lock_writable(case)
        household = household_for(case)
        household.address, household.situation = address, situation
        household.save()
        return household


def _check_member(member: FamilyMember) -> None:
    errors = {}
    if member.own_consent_withdrawn_on and not member.own_consent_given_on:
        errors["own_consent_withdrawn_on"] = _("A consent is withdrawn only after it was given.")
    if member.own_consent_expires_on and not member.own_consent_given_on:
        errors["own_consent_expires_on"] = _("Give the date the consent was given first.")
    if (
        member.own_consent_given_on
        and member.own_consent_expires_on
        and member.own_consent_expires_on < member.own_consent_given_on
    ):
        errors["own_consent_expires_on"] = _("The expiry cannot come before the consent.")
    if member.date_of_birth and member.date_of_birth > timezone.localdate():
        errors["date_of_birth"] = _("The date of birth cannot be in the future.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def member_add(
    *,
    case: Case,
    by: User,
    relation: str,
    lives_with_participant: bool = False,
    data: dict[str, Any] | None = None,
    member: FamilyMember | None = None,
) -> HouseholdMember:
    """Add a relative to the case's household: a new person (data), or one already known from another
    participant's household (member: a sibling's mother), who stays one row."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        household = household_for(case)
        if member is None:
            data = dict(data or {})
            _unknown(data, MEMBER_FIELDS)
            _refuse_consent_by_counsellor(by, data)
            member = FamilyMember(organisation_id=case.organisation_id, **data)
            _check_member(member)
            member.full_clean(exclude=["organisation"])
            member.save()
        elif member.organisation_id != case.organisation_id:
            raise ValidationError({"member": _("This relative is known to another organisation.")})
        if HouseholdMember.objects.filter(household=household, member=member).exists():
            raise ValidationError({"member": _("This relative is already in the household.")})
        link = HouseholdMember(
            case=case,
            household=household,
            member=member,
            relation=relation,
            lives_with_participant=lives_with_participant,
            recorded_by=by,
        )
        link.full_clean(exclude=["case", "household", "member", "recorded_by"])
        link.save()
        return link


@transaction.atomic
def member_update(*, member: FamilyMember, by: User, data: dict[str, Any]) -> FamilyMember:
    with pghistory.context(user=by.pk):
        member = FamilyMember.objects.select_for_update().get(pk=member.pk)
        _unknown(data, MEMBER_FIELDS)
        _refuse_consent_by_counsellor(by, data, member)
        for name, value in data.items():
            setattr(member, name, value)
        _check_member(member)
        member.full_clean(exclude=["organisation"])
        member.save()
        return member


# --- Engagements ----------------------------------------------------------------------------


def _check_counsellors(case: Case, counsellors) -> list[User]:
    counsellors = list(counsellors)
    if not counsellors:
        raise ValidationError({"counsellors": _("Assign at least one counsellor.")})
    for user in counsellors:
        membership = user.membership_or_none
        if (
            not user.is_active
            or membership is None
            or membership.role != Role.COUNSELLOR
            or membership.organisation_id != case.organisation_id
        ):
            raise ValidationError({"counsellors": _("Counsellors come from the case's organisation.")})
    return counsellors


def _check_members(case: Case, members) -> list[FamilyMember]:
    members = list(members)
    if not members:
        raise ValidationError({"members": _("Choose at least one family member.")})
    in_household = set(HouseholdMember.objects.filter(case=case).values_list("member_id", flat=True))
    if any(m.pk not in in_household for m in members):
        raise ValidationError({"members": _("Choose members of this participant's household.")})
    return members


def _join_team(case: Case, by: User, counsellor: User) -> None:
    if not CaseTeamMember.objects.filter(case=case, user=counsellor).exists():
        team_member_add(case=case, by=by, user=counsellor, role=TeamRole.COUNSELLOR)


def _leave_team_unless_engaged(case: Case, by: User, counsellor: User) -> None:
    """Off the team once they hold no open engagement on the case any more."""
    still = EngagementCounsellor.objects.filter(
        counsellor=counsellor, engagement__case=case, engagement__status__in=OPEN_ENGAGEMENT
    ).exists()
    if still:
        return
    member = CaseTeamMember.objects.filter(case=case, user=counsellor, role=TeamRole.COUNSELLOR).first()
    if member is not None:
        team_member_remove(member=member, by=by, through_assignment=True)


@transaction.atomic
def engagement_create(
    *,
    case: Case,
    by: User,
    kind: str,
    members,
    counsellors,
    step_plan: str = "",
    started_on: datetime.date | None = None,
) -> Engagement:
    """Open an engagement; its counsellors join the case team (role counsellor)."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        members = _check_members(case, members)
        counsellors = _check_counsellors(case, counsellors)
        started_on = started_on or timezone.localdate()
        if started_on > timezone.localdate() + datetime.timedelta(days=60):
            raise ValidationError({"started_on": _("Start within the next two months.")})
        engagement = Engagement(case=case, kind=kind, step_plan=step_plan, started_on=started_on, recorded_by=by)
        engagement.full_clean(exclude=["case", "recorded_by", "members"])
        engagement.save()
        engagement.members.set(members)
        for counsellor in counsellors:
            EngagementCounsellor.objects.create(engagement=engagement, counsellor=counsellor)
            _join_team(case, by, counsellor)
        return engagement


def _locked(engagement: Engagement) -> Engagement:
    locked = Engagement.objects.select_for_update().select_related("case").get(pk=engagement.pk)
    if not locked.is_open:
        raise ValidationError(_("This engagement has ended; re-open the work with a new engagement."))
    return locked


@transaction.atomic
def engagement_update(*, engagement: Engagement, by: User, step_plan: str, status: str) -> Engagement:
    """Change the step plan, or move from the first assessment to active work."""
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _locked(engagement)
        if status not in OPEN_ENGAGEMENT:
            raise ValidationError({"status": _("End an engagement with its own button, giving a reason.")})
        engagement.step_plan, engagement.status = step_plan, status
        engagement.save(update_fields=["step_plan", "status", "updated_at"])
        return engagement


@transaction.atomic
def engagement_end(*, engagement: Engagement, by: User, reason: str) -> Engagement:
    """End an engagement: planned sessions are cancelled, counsellors without another open engagement on
    the case leave its team at once."""
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _locked(engagement)
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the engagement ends.")})
        _end(engagement, by=by, reason=reason.strip())
        return engagement


def _end(engagement: Engagement, *, by: User, reason: str) -> None:
    """Ended: planned sessions cancelled, counsellors without another open engagement off the team (the
    case row is locked by the caller)."""
    engagement.status = EngagementStatus.ENDED
    engagement.ended_on, engagement.end_reason = timezone.localdate(), reason
    engagement.save()
    engagement.sessions.filter(status=SessionStatus.PLANNED).update(
        status=SessionStatus.CANCELLED, updated_at=timezone.now()
    )
    for row in engagement.assignments.select_related("counsellor"):
        _leave_team_unless_engaged(engagement.case, by, row.counsellor)


def settle_case(*, case, by: User, event: str) -> None:
    """Closing or transferring a case (called by the core, case row locked) ends its open engagements:
    the sending NGO's counsellors must not keep a door to a case that moved, nor one that closed. After
    an exit the family may still be supported until the case closes."""
    if event not in ("closed", "transferred"):
        return
    if event == "transferred":
        _copy_shared_relatives(case)
    reason = _("The case was closed.") if event == "closed" else _("The case moved to another organisation.")
    for engagement in Engagement.objects.select_for_update().filter(case=case).exclude(status=EngagementStatus.ENDED):
        _end(engagement, by=by, reason=reason)


# --- Sessions -------------------------------------------------------------------------------


def _mine(engagement: Engagement, by: User) -> Engagement:
    engagement = _locked(engagement)
    if not EngagementCounsellor.objects.filter(engagement=engagement, counsellor=by).exists():
        raise ValidationError(_("Only the engagement's counsellors plan and log its sessions."))
    return engagement


def _check_attendees(engagement: Engagement, attendees) -> list[FamilyMember]:
    attendees = list(attendees or [])
    allowed = set(engagement.members.values_list("pk", flat=True))
    if any(a.pk not in allowed for a in attendees):
        raise ValidationError({"attendees": _("Attendees are members of this engagement.")})
    return attendees


@transaction.atomic
def session_plan(
    *, engagement: Engagement, by: User, starts_at: datetime.datetime, kind: str, group: GroupSession | None = None
) -> CounsellingSession:
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        session = CounsellingSession(
            case_id=engagement.case_id,
            engagement=engagement,
            group_session=group,
            kind=kind,
            starts_at=starts_at,
            recorded_by=by,
        )
        session.full_clean(exclude=["case", "engagement", "recorded_by", "group_session", "attendees"])
        session.save()
        return session


LOG_FIELDS = ("starts_at", "kind", "status", "duration_minutes", "summary")


@transaction.atomic
def session_log(
    *,
    by: User,
    data: dict[str, Any],
    attendees=None,
    confidential_notes: str | None = "",
    session: CounsellingSession | None = None,
    engagement: Engagement | None = None,
) -> CounsellingSession:
    """Log how a planned session went, or log one that was not planned (session None, engagement given).

    `attendees=None` and `confidential_notes=None` leave them as they are (an API call not sending them)."""
    with pghistory.context(user=by.pk):
        if session is not None:
            session = CounsellingSession.objects.select_for_update().get(pk=session.pk)
            engagement = session.engagement
        if engagement is None:
            raise ValidationError(_("A session belongs to an engagement."))
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        if session is None:
            session = CounsellingSession(case_id=engagement.case_id, engagement=engagement, recorded_by=by)
        _unknown(data, LOG_FIELDS)
        for name, value in data.items():
            setattr(session, name, value)
        errors = {}
        if session.status == SessionStatus.PLANNED:
            errors["status"] = _("Say how the session went: attended, missed or cancelled.")
        if session.status == SessionStatus.ATTENDED and not session.duration_minutes:
            errors["duration_minutes"] = _("An attended session needs its duration.")
        if session.starts_at and session.starts_at > timezone.now() + datetime.timedelta(minutes=5):
            errors["starts_at"] = _("A session is logged once it has taken place.")
        if session.group_session_id and session.kind != SessionKind.GROUP:
            errors["kind"] = _("A family's part in a group session stays a group session.")
        if errors:
            raise ValidationError(errors)
        if attendees is None:  # not sent: as they were
            attendees = list(session.attendees.all()) if session.pk else []
        attendees = _check_attendees(engagement, attendees)
        if session.status == SessionStatus.ATTENDED and not attendees:
            raise ValidationError({"attendees": _("Who attended? Choose at least one family member.")})
        session.full_clean(exclude=["case", "engagement", "recorded_by", "group_session", "attendees"])
        session.logged_at = timezone.now()
        session.save()
        session.attendees.set(attendees if session.status == SessionStatus.ATTENDED else [])
        followups.changed("counselling_session.logged", session, by=by)
        if confidential_notes is not None:
            text = confidential_notes.strip()
            if text:
                CounsellingConfidentialNote.objects.update_or_create(
                    session=session, defaults={"author": by, "text": text}
                )
            else:
                CounsellingConfidentialNote.objects.filter(session=session).delete()
        return session


@transaction.atomic
def group_session_create(*, by: User, title: str, starts_at: datetime.datetime, engagements) -> GroupSession:
    """A parent-network meeting: one planned group session row per family engagement (each the
    counsellor's own), so each family's record holds only its own attendance."""
    with pghistory.context(user=by.pk):
        engagements = list(engagements)
        if len(engagements) < 2:
            raise ValidationError({"engagements": _("A group session brings together at least two families.")})
        if len({e.case_id for e in engagements}) != len(engagements):
            raise ValidationError({"engagements": _("Choose one engagement per family.")})
        if not title.strip():
            raise ValidationError({"title": _("Give the meeting a title (no family's name).")})
        group = GroupSession.objects.create(
            organisation_id=by.membership.organisation_id, title=title.strip(), starts_at=starts_at, facilitator=by
        )
        for engagement in engagements:
            session_plan(engagement=engagement, by=by, starts_at=starts_at, kind=SessionKind.GROUP, group=group)
        return group


# --- Support --------------------------------------------------------------------------------


@transaction.atomic
def referral_create(*, engagement: Engagement, by: User, data: dict[str, Any]) -> SupportReferral:
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        _unknown(data, ("service", "provider", "referred_on", "status", "outcome"))
        referral = SupportReferral(case_id=engagement.case_id, engagement=engagement, recorded_by=by, **data)
        referral.full_clean(exclude=["case", "engagement", "recorded_by"])
        referral.save()
        return referral


@transaction.atomic
def referral_update(*, referral: SupportReferral, by: User, status: str, outcome: str) -> SupportReferral:
    with pghistory.context(user=by.pk):
        lock_writable(referral.engagement.case)
        _mine(referral.engagement, by)
        referral = SupportReferral.objects.select_for_update().get(pk=referral.pk)
        referral.status, referral.outcome = status, outcome
        referral.full_clean(exclude=["case", "engagement", "recorded_by"])
        referral.save()
        return referral


@transaction.atomic
def support_add(*, engagement: Engagement, by: User, data: dict[str, Any]) -> SupportEntry:
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        _unknown(data, ("kind", "amount", "given_on", "note"))
        entry = SupportEntry(case_id=engagement.case_id, engagement=engagement, recorded_by=by, **data)
        if entry.given_on and entry.given_on > timezone.localdate():
            raise ValidationError({"given_on": _("Record support once it is given.")})
        entry.full_clean(exclude=["case", "engagement", "recorded_by"])
        entry.save()
        return entry


def _copy_shared_relatives(case) -> None:
    """A relative is one row per organisation. When a case moves, its relatives still shared with the
    sending NGO's other cases (a sibling) are copied for the receiving NGO, which then reads and edits
    its copy; the sender's row, and what the sender records on it, stays the sender's."""
    from casemgmt.models import CaseTransfer

    transfer = (
        CaseTransfer.objects.filter(case=case, status=CaseTransfer.Status.ACCEPTED).order_by("-decided_at").first()
    )
    if transfer is None:
        return
    for link in HouseholdMember.objects.select_related("member").filter(case=case):
        member = link.member
        if member.organisation_id == transfer.to_organisation_id:
            continue
        shared = HouseholdMember.objects.filter(member=member).exclude(case=case).exists()
        if not shared:
            FamilyMember.objects.filter(pk=member.pk).update(organisation_id=transfer.to_organisation_id)
            continue
        copy = FamilyMember.objects.get(pk=member.pk)
        copy.pk, copy.id = None, None
        copy.organisation_id = transfer.to_organisation_id
        copy.save()
        link.member = copy
        link.save(update_fields=["member"])
