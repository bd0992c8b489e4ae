"""Every write on the case core. Callers have checked access through casemgmt.access."""

from __future__ import annotations

import datetime
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import City, Organisation, Role, User

from . import followups
from .crypto import normalize_national_id
from .models import (
    REOPENABLE,
    AccessLog,
    Case,
    CaseTeamMember,
    Participant,
    Stage,
    StageChange,
    TeamRole,
)

PARTICIPANT_FIELDS = frozenset(
    {
        "given_name_latin",
        "family_name_latin",
        "given_name_arabic",
        "family_name_arabic",
        "date_of_birth",
        "national_id",
        "city",
        "languages",
        "phone",
        "email",
        "address",
    }
)
CASE_FIELDS = frozenset(
    {
        "referral_source",
        "referral_date",
        "referring_organisation",
        "referral_reason",
        "legal_status",
        "sentence_ends_on",
        "legal_conditions",
    }
)

# The membership role a user must hold to take a role on a case team.
TEAM_ROLE_NEEDS = {
    TeamRole.CASEWORKER: Role.CASEWORKER,
    TeamRole.PLACEMENT_OFFICER: Role.PLACEMENT_OFFICER,
    TeamRole.COUNSELLOR: Role.COUNSELLOR,
    TeamRole.MENTOR: Role.MENTOR,
}


def next_case_code(*, city: City, year: int) -> str:
    """`TNG-2026-0042`: city code, year, and the city's yearly sequence (gap-free, race-free)."""
    with connection.cursor() as cursor:
        # One statement: concurrent openings in the same city serialise on the row lock.
        cursor.execute(
            """
            INSERT INTO casemgmt_casecodesequence (city_id, year, last_value) VALUES (%s, %s, 1)
            ON CONFLICT (city_id, year) DO UPDATE SET last_value = casemgmt_casecodesequence.last_value + 1
            RETURNING last_value
            """,
            [city.pk, year],
        )
        (value,) = cursor.fetchone()
    return f"{city.code}-{year}-{value:04d}"


def _validated(instance, *, exclude: list[str] | None = None):
    if isinstance(instance, Participant) and instance.national_id:
        # stored in one form, so that an exact search finds it however it was typed
        instance.national_id = normalize_national_id(instance.national_id)
    instance.full_clean(exclude=[*(exclude or []), "search_text"] if isinstance(instance, Participant) else exclude)
    return instance


@transaction.atomic
def case_open(
    *,
    by: User,
    organisation: Organisation,
    participant: dict[str, Any],
    referral_source: str,
    referral_date: datetime.date,
    referring_organisation: Organisation | None = None,
    referral_reason: str = "",
    lead: User | None = None,
) -> Case:
    """Open a case from a referral. A caseworker who opens it leads it; a manager's lands in intake."""
    with pghistory.context(user=by.pk):
        unknown = set(participant) - PARTICIPANT_FIELDS
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        now = timezone.now()
        person = Participant(case_code="pending", **participant)
        _validated(person, exclude=["case_code"])
        person.case_code = next_case_code(city=person.city, year=timezone.localdate().year)
        person.save()
        case = Case(
            participant=person,
            organisation=organisation,
            stage=Stage.REFERRAL,
            stage_changed_at=now,
            referral_source=referral_source,
            referral_date=referral_date,
            referring_organisation=referring_organisation,
            referral_reason=referral_reason,
        )
        _validated(case, exclude=["participant"])
        if referral_date > timezone.localdate():
            raise ValidationError({"referral_date": _("The referral date cannot be in the future.")})
        case.save()
        StageChange.objects.create(
            case=case,
            from_stage="",
            to_stage=Stage.REFERRAL,
            reason=_("Referral received"),
            changed_by=by,
            changed_at=now,
        )
        if lead is not None:
            team_member_add(case=case, by=by, user=lead, role=TeamRole.CASEWORKER, is_lead=True)
        followups.changed("case.opened", case, by=by)
        return case


def lock_writable(case: Case) -> Case:
    """Lock the case row for the rest of the transaction and refuse writes on a closed case.

    Every write on a case goes through here, so two people changing the team at once, or
    one closing the case while another edits it, are serialised instead of racing.
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.is_read_only:
        raise ValidationError(_("This case is closed and read-only. Re-open it to change it."))
    return locked


@transaction.atomic
def case_profile_update(*, case: Case, by: User, changes: dict[str, Any]) -> Case:
    """Change participant and referral fields. The caller passes only fields the user may edit."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        unknown = set(changes) - PARTICIPANT_FIELDS - CASE_FIELDS
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        person = case.participant
        person_changes = {k: v for k, v in changes.items() if k in PARTICIPANT_FIELDS}
        case_changes = {k: v for k, v in changes.items() if k in CASE_FIELDS}
        for name, value in person_changes.items():
            setattr(person, name, value)
        for name, value in case_changes.items():
            setattr(case, name, value)
        if "referral_date" in case_changes and case.referral_date > timezone.localdate():
            raise ValidationError({"referral_date": _("The referral date cannot be in the future.")})
        if person_changes:
            _validated(person).save(update_fields=list(person_changes))
        if case_changes:
            _validated(case).save(update_fields=[*case_changes, "updated_at"])
        return case


@transaction.atomic
def case_move_stage(*, case: Case, by: User, to_stage: str, reason: str) -> Case:
    """Move a case one step along the lifecycle, with the reason recorded."""
    with pghistory.context(user=by.pk):
        locked = Case.objects.select_for_update().get(pk=case.pk)  # two people moving at once: one wins
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Give a reason for the stage change.")})
        if not locked.can_move_to(to_stage):
            allowed = ", ".join(str(Stage(s).label) for s in locked.allowed_transitions()) or _("none")
            raise ValidationError(
                {
                    "to_stage": _("A case in stage “%(stage)s” cannot move to “%(to)s”. Allowed: %(allowed)s.")
                    % {
                        "stage": locked.get_stage_display(),
                        "to": Stage(to_stage).label if to_stage in Stage.values else to_stage,
                        "allowed": allowed,
                    }
                }
            )
        if to_stage in (Stage.EXITED, Stage.CLOSED):
            # An exit carries its reason and outcome snapshot, a closure its own rules: see
            # casefile_services.case_exit and case_close.
            raise ValidationError(
                {"to_stage": _("Record the exit or the closure with its own form: it needs more than a reason.")}
            )
        return _set_stage(case, locked, by=by, to_stage=to_stage, reason=reason, is_reopening=False)


def _set_stage(case: Case, locked: Case, *, by: User, to_stage: str, reason: str, is_reopening: bool) -> Case:
    now = timezone.now()
    StageChange.objects.create(
        case=locked,
        from_stage=locked.stage,
        to_stage=to_stage,
        reason=reason,
        is_reopening=is_reopening,
        changed_by=by,
        changed_at=now,
    )
    Case.objects.filter(pk=locked.pk).update(stage=to_stage, stage_changed_at=now, updated_at=now)
    case.stage, case.stage_changed_at, case.updated_at = to_stage, now, now
    followups.changed("case.stage", case, by=by)
    return case


def reopen_target(case: Case) -> str:
    """Where a re-opened case goes: `active`, or `assessment` when the last assessment is older
    than its band's reassessment interval (or there is none)."""
    from .casefile_services import assessment_is_stale

    return Stage.ASSESSMENT if assessment_is_stale(case) else Stage.ACTIVE


@transaction.atomic
def case_reopen(*, case: Case, by: User, reason: str) -> Case:
    """Re-open an exited or closed case; recorded as a stage change, nothing overwritten."""
    with pghistory.context(user=by.pk):
        locked = Case.objects.select_for_update().get(pk=case.pk)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Give a reason for re-opening the case.")})
        if locked.stage not in REOPENABLE:
            raise ValidationError(
                {
                    "to_stage": _("Only exited or closed cases can be re-opened; this one is “%(stage)s”.")
                    % {"stage": locked.get_stage_display()}
                }
            )
        return _set_stage(case, locked, by=by, to_stage=reopen_target(locked), reason=reason, is_reopening=True)


@transaction.atomic
def team_member_add(*, case: Case, by: User, user: User, role: str, is_lead: bool = False) -> CaseTeamMember:
    """Put a user on the case team. The lead must be a caseworker; a new lead replaces the old one."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        needed = TEAM_ROLE_NEEDS.get(role)
        if needed is None:
            raise ValidationError({"role": _("Unknown role on a case team.")})
        membership = user.membership_or_none
        if not user.is_active or membership is None or membership.role != needed:
            raise ValidationError(
                {"user": _("This person does not hold the role of %(role)s.") % {"role": TeamRole(role).label}}
            )
        if needed in (Role.CASEWORKER, Role.PLACEMENT_OFFICER) and membership.organisation_id != case.organisation_id:
            raise ValidationError({"user": _("Caseworkers and placement officers come from the case's organisation.")})
        if is_lead and role != TeamRole.CASEWORKER:
            raise ValidationError({"is_lead": _("The lead must be a caseworker.")})
        if CaseTeamMember.objects.filter(case=case, user=user).exists():
            raise ValidationError({"user": _("This person is already on the team.")})
        if is_lead:
            CaseTeamMember.objects.filter(case=case, is_lead=True).update(is_lead=False)
        member = CaseTeamMember.objects.create(case=case, user=user, role=role, is_lead=is_lead)
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
        return member


@transaction.atomic
def team_set_lead(*, case: Case, by: User, user: User) -> CaseTeamMember:
    """Make a caseworker the lead (a manager assigning intake, or a hand-over)."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        member = CaseTeamMember.objects.filter(case=case, user=user).first()
        if member is None:
            return team_member_add(case=case, by=by, user=user, role=TeamRole.CASEWORKER, is_lead=True)
        if member.role != TeamRole.CASEWORKER:
            raise ValidationError({"user": _("The lead must be a caseworker.")})
        CaseTeamMember.objects.filter(case=case, is_lead=True).exclude(pk=member.pk).update(is_lead=False)
        if not member.is_lead:
            member.is_lead = True
            member.save(update_fields=["is_lead"])
        return member


# Team roles held through another record (a mentor assignment, a family engagement).
JOINED_THROUGH_ASSIGNMENT = frozenset({TeamRole.MENTOR, TeamRole.COUNSELLOR})


@transaction.atomic
def team_member_remove(*, member: CaseTeamMember, by: User, through_assignment: bool = False) -> None:
    """Take someone off the team; the lead is replaced, never removed.

    Mentors and counsellors join and leave with their assignment or family engagement, so only that
    record's service removes them (`through_assignment`); the team panel cannot."""
    with pghistory.context(user=by.pk):
        lock_writable(member.case)
        if member.is_lead:
            raise ValidationError(_("The lead cannot be removed. Make someone else the lead first."))
        if member.role in JOINED_THROUGH_ASSIGNMENT and not through_assignment:
            raise ValidationError(
                _("A mentor or counsellor leaves the team when their assignment or engagement ends; end it there.")
            )
        member.delete()


def access_log_record(*, user: User, case: Case, channel: str, view: str, shown: frozenset[str]) -> AccessLog:
    """The synchronous record of a case read: ids and field groups, no personal data."""
    membership = user.membership_or_none
    return AccessLog.objects.create(
        user=user,
        organisation_id=membership.organisation_id if membership else None,
        case=case,
        channel=channel,
        view=view,
        shown=sorted(shown),
    )


def saved_search_save(*, by: User, name: str, querystring: str):
    """Keep a list's filters under a name for this user (the same name replaces the old search)."""
    from .models import SavedSearch

    name = name.strip()[:80]
    if not name:
        raise ValidationError({"name": _("Give the search a name.")})
    search, _created = SavedSearch.objects.update_or_create(
        user=by, name=name, defaults={"querystring": querystring[:500]}
    )
    return search


def saved_search_delete(*, search, by: User) -> None:
    if search.user_id != by.pk:
        raise ValidationError(_("Only its owner removes a saved search."))
    search.delete()
