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
from casemgmt.models import Case, CaseTeamMember, FollowUp, TeamRole
from casemgmt.services import lock_writable, team_member_add, team_member_remove

from .models import (
    OPEN_ENGAGEMENT,
    REFERRAL_TRANSITIONS,
    CounsellingConfidentialNote,
    CounsellingSession,
    Engagement,
    EngagementCounsellor,
    EngagementStatus,
    FamilyMember,
    GroupSession,
    Household,
    HouseholdMember,
    ReferralStatus,
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
    engagements=(),
) -> HouseholdMember:
    """Add a relative to the case's household: a new person (data), or one already known from another
    participant's household (member: a sibling's mother), who stays one row. `engagements`: open
    engagements of the case, held by `by`, the relative joins at once (the counsellor records the
    family of the engagement they were given)."""
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
        for engagement in engagements:
            if engagement.case_id != case.pk:
                raise ValidationError({"engagements": _("Choose engagements of this case.")})
            _mine(engagement, by).members.add(member)
        return link


@transaction.atomic
def member_own_consent_update(
    *,
    member: FamilyMember,
    case: Case,
    by: User,
    given_on: datetime.date | None,
    expires_on: datetime.date | None = None,
    withdrawn_on: datetime.date | None = None,
) -> FamilyMember:
    """Record a relative's own consent to counselling contact (a relative who asks for help on their
    own). Consent metadata is the caseworkers' and the manager's to write (handbook §4), never a
    counsellor's: a counsellor writing it would open the relative to themselves."""
    with pghistory.context(user=by.pk):
        if by.role == Role.COUNSELLOR:
            raise ValidationError(_("A relative's consent is recorded by the caseworker or the manager."))
        lock_writable(case)
        member = FamilyMember.objects.select_for_update().get(pk=member.pk)
        if not HouseholdMember.objects.filter(case=case, member=member).exists():
            raise ValidationError(_("This relative is not in the participant's household."))
        member.own_consent_given_on = given_on
        member.own_consent_expires_on = expires_on
        member.own_consent_withdrawn_on = withdrawn_on
        if withdrawn_on and given_on and withdrawn_on < given_on:
            raise ValidationError({"own_consent_withdrawn_on": _("A consent is withdrawn only after it was given.")})
        _check_member(member)
        member.save(update_fields=[*OWN_CONSENT_FIELDS, "updated_at"])
        return member


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
    """Members of this participant's household. None is fine: an engagement may be opened before the
    family is recorded, and its counsellors then record the relatives and add them."""
    members = list(members)
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
    counsellors,
    members=(),
    step_plan: str = "",
    started_on: datetime.date | None = None,
) -> Engagement:
    """Open an engagement; its counsellors join the case team (role counsellor). Members may come
    later, recorded by the counsellors (`engagement_members_add`, `member_add(engagements=...)`)."""
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
    """Change the step plan, or move from the first assessment to active work (never back: see
    `ENGAGEMENT_TRANSITIONS`; ending has its own service, with a reason)."""
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _locked(engagement)
        if status == EngagementStatus.ENDED:
            raise ValidationError({"status": _("End an engagement with its own button, giving a reason.")})
        if status != engagement.status and not engagement.can_move_to(status):
            raise ValidationError(
                {
                    "status": _("An engagement in %(from)s cannot go to %(to)s.")
                    % {
                        "from": engagement.get_status_display(),
                        "to": dict(EngagementStatus.choices).get(status, status),
                    }
                }
            )
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


@transaction.atomic
def engagement_members_add(*, engagement: Engagement, by: User, members) -> Engagement:
    """The engagement's counsellor adds relatives of the household to it (recorded after it opened)."""
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        members = _check_members(engagement.case, members)
        if not members:
            raise ValidationError({"members": _("Choose at least one family member.")})
        engagement.members.add(*members)
        return engagement


@transaction.atomic
def engagement_counsellors_change(*, engagement: Engagement, by: User, add=(), remove=()) -> Engagement:
    """Hand an open engagement over, in part or whole: added counsellors join the case team (role
    counsellor) and from then read the engagement's rows and confidential notes; removed ones lose them
    at once, and leave the team unless they hold another open engagement on the case. One counsellor at
    least stays. Their open family-gap reminders pass to a counsellor who stays."""
    with pghistory.context(user=by.pk):
        case = engagement.case
        lock_writable(case)
        engagement = _locked(engagement)
        add, remove = list(add), list(remove)
        if not add and not remove:
            raise ValidationError({"counsellors": _("Choose a counsellor to add or to remove.")})
        current = set(engagement.assignments.values_list("counsellor_id", flat=True))
        if add:
            _check_counsellors(case, add)
        if any(user.pk in current for user in add):
            raise ValidationError({"add": _("This counsellor already holds the engagement.")})
        if any(user.pk not in current for user in remove):
            raise ValidationError({"remove": _("This counsellor does not hold the engagement.")})
        if {u.pk for u in add} & {u.pk for u in remove}:
            raise ValidationError({"remove": _("Add or remove a counsellor, not both.")})
        staying = (current - {u.pk for u in remove}) | {u.pk for u in add}
        if not staying:
            raise ValidationError({"remove": _("One counsellor at least stays on the engagement.")})
        for counsellor in add:
            EngagementCounsellor.objects.create(engagement=engagement, counsellor=counsellor)
            _join_team(case, by, counsellor)
        if remove:
            EngagementCounsellor.objects.filter(engagement=engagement, counsellor__in=remove).delete()
            FollowUp.objects.filter(
                case=case,
                kind="family_gap",
                source_type=engagement._meta.model_name,
                source_id=engagement.pk,
                status__in=followups.OPEN_STATUSES,
                assignee__in=remove,
            ).update(assignee_id=min(staying))
            for counsellor in remove:
                _leave_team_unless_engaged(case, by, counsellor)
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


def _already_sent(engagement: Engagement, form_token) -> CounsellingSession | None:
    """The session a form with this token already created (a double submit), under the engagement's
    row lock so a second request waits for the first and then finds its row."""
    if form_token is None:
        return None
    existing = CounsellingSession.objects.filter(form_token=form_token).first()
    if existing is not None and existing.engagement_id != engagement.pk:
        raise ValidationError(_("This form was already used for another engagement; open it again."))
    return existing


@transaction.atomic
def session_plan(
    *,
    engagement: Engagement,
    by: User,
    starts_at: datetime.datetime,
    kind: str,
    group: GroupSession | None = None,
    form_token=None,
) -> CounsellingSession:
    """Plan a session. A `form_token` already used returns the session it created (idempotent form)."""
    with pghistory.context(user=by.pk):
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        existing = _already_sent(engagement, form_token)
        if existing is not None:
            return existing
        session = CounsellingSession(
            form_token=form_token,
            case_id=engagement.case_id,
            engagement=engagement,
            group_session=group,
            kind=kind,
            starts_at=starts_at,
            recorded_by=by,
        )
        session.full_clean(exclude=["case", "engagement", "recorded_by", "group_session", "attendees", "form_token"])
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
    form_token=None,
) -> CounsellingSession:
    """Log how a planned session went, or log one that was not planned (session None, engagement given).

    `attendees=None` and `confidential_notes=None` leave them as they are (an API call not sending them).
    A new session's `form_token` makes the form idempotent: the same form sent twice logs one session
    (the second answer is the first one's row, unchanged)."""
    with pghistory.context(user=by.pk):
        if session is not None:
            session = CounsellingSession.objects.select_for_update().get(pk=session.pk)
            engagement = session.engagement
        if engagement is None:
            raise ValidationError(_("A session belongs to an engagement."))
        lock_writable(engagement.case)
        engagement = _mine(engagement, by)
        if session is None:
            existing = _already_sent(engagement, form_token)
            if existing is not None:
                return existing
            session = CounsellingSession(
                case_id=engagement.case_id, engagement=engagement, recorded_by=by, form_token=form_token
            )
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
        session.full_clean(exclude=["case", "engagement", "recorded_by", "group_session", "attendees", "form_token"])
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
    """Record how a referral went: its status moves forward only (`REFERRAL_TRANSITIONS`), the outcome
    text may be completed at any time while the engagement is open."""
    with pghistory.context(user=by.pk):
        lock_writable(referral.engagement.case)
        _mine(referral.engagement, by)
        referral = SupportReferral.objects.select_for_update().get(pk=referral.pk)
        if status != referral.status and status not in REFERRAL_TRANSITIONS.get(referral.status, ()):
            labels = dict(ReferralStatus.choices)
            raise ValidationError(
                {
                    "status": _("A referral that is %(from)s cannot become %(to)s; record a new referral instead.")
                    % {"from": referral.get_status_display().lower(), "to": str(labels.get(status, status)).lower()}
                }
            )
        referral.status, referral.outcome = status, outcome.strip()
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
