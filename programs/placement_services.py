"""Writes on partners, opportunities, employability profiles, placements and check-ins.

Callers have checked access (`casemgmt.access` for case-bound rows, `placement_selectors` for the
shared partner registry). Every write records who made it, in its row and through pghistory.
"""

from __future__ import annotations

import datetime
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import City, Organisation, User
from casemgmt import followups
from casemgmt.models import Case
from casemgmt.services import lock_writable

from .models import (
    HOLDS_PLACE,
    LIVE,
    PARTNER_KINDS,
    CheckIn,
    EmployabilityProfile,
    Opportunity,
    PartnerProfile,
    Placement,
    PlacementStatus,
)

PARTNER_PROFILE_FIELDS = (
    "sector",
    "city",
    "contact_name",
    "contact_phone",
    "contact_email",
    "agreement_status",
    "agreement_from",
    "agreement_until",
    "offers",
)
OPPORTUNITY_FIELDS = (
    "partner",
    "title",
    "kind",
    "sector",
    "city",
    "places",
    "start_date",
    "requirements",
    "min_education",
    "pay_band",
    "is_open",
)
EMPLOYABILITY_FIELDS = (
    "education_level",
    "sectors",
    "skills",
    "work_history",
    "certificates",
    "availability",
    "constraints",
)
CHECK_IN_FIELDS = ("still_there", "hours_per_week", "participant_satisfaction", "partner_satisfaction", "issues")
OUTCOME_FIELDS = ("certificate", "certificate_name", "employed_after", "income_band")
# Ends that need a reason.
NEEDS_REASON = (
    PlacementStatus.REFUSED,
    PlacementStatus.WITHDRAWN,
    PlacementStatus.DROPPED_OUT,
    PlacementStatus.DISMISSED,
)
STAGES_FOR_PLACEMENT = ("assessment", "active", "review")


def _refuse_unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})


def _not_in_future(day: datetime.date | None, field: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: _("This date cannot be in the future.")})


# --- Partners -------------------------------------------------------------------------------


@transaction.atomic
def partner_create(*, by: User, name: str, kind: str, profile: dict[str, Any]) -> PartnerProfile:
    """Add a partner organisation (employer or training provider) to the shared registry, with its profile."""
    with pghistory.context(user=by.pk):
        _refuse_unknown(profile, PARTNER_PROFILE_FIELDS)
        errors: dict[str, list[str]] = {}
        name = (name or "").strip()
        if not name:
            errors["name"] = [_("Give the partner's name.")]
        elif Organisation.objects.filter(name__iexact=name).exists():
            errors["name"] = [_("An organisation with this name exists already.")]
        if kind not in PARTNER_KINDS:
            errors["kind"] = [_("A partner is an employer or a training provider.")]
        if errors:
            raise ValidationError(errors)
        city = profile.get("city")
        organisation = Organisation.objects.create(name=name, kind=kind, city=city if isinstance(city, City) else None)
        partner = PartnerProfile(organisation=organisation, updated_by=by, **profile)
        _agreement_order(partner)
        partner.full_clean(exclude=["organisation", "updated_by"])
        partner.save()
        return partner


@transaction.atomic
def partner_profile_save(*, by: User, organisation: Organisation, data: dict[str, Any]) -> PartnerProfile:
    """Create or change the profile of an existing partner organisation."""
    with pghistory.context(user=by.pk):
        _refuse_unknown(data, PARTNER_PROFILE_FIELDS)
        if organisation.kind not in PARTNER_KINDS:
            raise ValidationError(_("Only employers and training providers have a partner profile."))
        partner = PartnerProfile.objects.select_for_update().filter(organisation=organisation).first()
        if partner is None:
            partner = PartnerProfile(organisation=organisation)
        for name, value in data.items():
            setattr(partner, name, value)
        partner.updated_by = by
        _agreement_order(partner)
        partner.full_clean(exclude=["organisation", "updated_by"])
        partner.save()
        return partner


def _agreement_order(partner: PartnerProfile) -> None:
    if partner.agreement_from and partner.agreement_until and partner.agreement_until < partner.agreement_from:
        raise ValidationError({"agreement_until": _("The agreement cannot end before it starts.")})


# --- Opportunities ----------------------------------------------------------------------------


def _validate_opportunity(opportunity: Opportunity) -> None:
    if opportunity.partner_id and opportunity.partner.kind not in PARTNER_KINDS:
        raise ValidationError({"partner": _("Choose an employer or a training provider.")})
    opportunity.full_clean(exclude=["created_by", "updated_by"])


@transaction.atomic
def opportunity_create(*, by: User, data: dict[str, Any]) -> Opportunity:
    """Publish a job, apprenticeship or course of a partner on the shared board."""
    with pghistory.context(user=by.pk):
        _refuse_unknown(data, OPPORTUNITY_FIELDS)
        opportunity = Opportunity(created_by=by, updated_by=by, **data)
        _validate_opportunity(opportunity)
        opportunity.save()
        return opportunity


@transaction.atomic
def opportunity_update(*, by: User, opportunity: Opportunity, data: dict[str, Any]) -> Opportunity:
    """Change an opportunity; its places never drop below the placements holding one."""
    with pghistory.context(user=by.pk):
        _refuse_unknown(data, OPPORTUNITY_FIELDS)
        locked = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        new_partner = data.get("partner")
        moved = new_partner is not None and getattr(new_partner, "pk", new_partner) != locked.partner_id
        if moved and locked.placements.exists():
            # each placement keeps the partner it was made with (a partner's API client is scoped by it)
            raise ValidationError(
                {"partner": _("Participants have been placed with this opportunity: its partner stays.")}
            )
        for name, value in data.items():
            setattr(locked, name, value)
        locked.updated_by = by
        _validate_opportunity(locked)
        taken = locked.placements.filter(status__in=HOLDS_PLACE).count()
        if locked.places < taken:
            raise ValidationError(
                {"places": _("%(taken)s places are taken by accepted or started placements.") % {"taken": taken}}
            )
        locked.save()
        return locked


# --- Employability profile ----------------------------------------------------------------------


@transaction.atomic
def employability_save(*, by: User, case: Case, data: dict[str, Any]) -> EmployabilityProfile:
    """Create or change the employability profile of a case."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        _refuse_unknown(data, EMPLOYABILITY_FIELDS)
        profile = EmployabilityProfile.objects.filter(case=case).first()
        if profile is None:
            profile = EmployabilityProfile(case=case, recorded_by=by)
        for name, value in data.items():
            setattr(profile, name, value)
        profile.updated_by = by
        profile.full_clean(exclude=["case", "recorded_by", "updated_by"])
        profile.save()
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
        return profile


# --- Placements ---------------------------------------------------------------------------------


def _refuse_when_full(opportunity: Opportunity, *, field: str) -> None:
    """Called with the opportunity row locked, so two requests for its last place are serialised."""
    taken = opportunity.placements.filter(status__in=HOLDS_PLACE).count()
    if taken >= opportunity.places:
        raise ValidationError(
            {
                field: _("“%(title)s” is full: all %(places)s places are taken.")
                % {"title": opportunity.title, "places": opportunity.places}
            }
        )


@transaction.atomic
def placement_propose(
    *, by: User, case: Case, opportunity: Opportunity, proposed_on: datetime.date, note: str = ""
) -> Placement:
    """Propose a participant for an open opportunity that has a free place."""
    with pghistory.context(user=by.pk):
        locked_case = lock_writable(case)
        locked = Opportunity.objects.select_for_update().select_related("partner").get(pk=opportunity.pk)
        if locked_case.stage not in STAGES_FOR_PLACEMENT:
            raise ValidationError(
                _("A case in stage %(stage)s cannot be placed.") % {"stage": locked_case.get_stage_display()}
            )
        if not locked.is_open:
            raise ValidationError({"opportunity": _("“%(title)s” is closed.") % {"title": locked.title}})
        _refuse_when_full(locked, field="opportunity")
        _not_in_future(proposed_on, "proposed_on")
        if proposed_on.year < 2000:  # records may be entered late, but not from another era
            raise ValidationError({"proposed_on": _("Check the year.")})
        if Placement.objects.filter(case=case, opportunity=locked, status__in=LIVE).exists():
            raise ValidationError({"opportunity": _("This participant is already placed with this opportunity.")})
        placement = Placement(
            case=case,
            opportunity=locked,
            partner_id=locked.partner_id,
            proposed_on=proposed_on,
            note=note,
            recorded_by=by,
        )
        placement.full_clean(exclude=["case", "opportunity", "partner", "recorded_by"])
        try:
            with transaction.atomic():
                placement.save()
        except IntegrityError as error:  # the partial unique index, under a race
            raise ValidationError(
                {"opportunity": _("This participant is already placed with this opportunity.")}
            ) from error
        followups.changed("placement.proposed", placement, by=by)
        return placement


def check_in_dates(started_on: datetime.date) -> list[tuple[int, datetime.date]]:
    """The check-ins of a placement: 30, 90 and 180 days after its start (handbook section 6)."""
    return [(day, started_on + datetime.timedelta(days=day)) for day in CheckIn.DAYS]


@transaction.atomic
def placement_move(
    *,
    by: User,
    placement: Placement,
    to_status: str,
    on: datetime.date,
    reason: str = "",
    outcome: dict[str, Any] | None = None,
) -> Placement:
    """Move a placement along its lifecycle; refuses illegal moves, and accepting a full opportunity."""
    with pghistory.context(user=by.pk):
        lock_writable(placement.case)
        locked = Placement.objects.select_for_update().get(pk=placement.pk)
        if to_status not in locked.allowed_transitions():
            allowed = ", ".join(str(PlacementStatus(s).label) for s in locked.allowed_transitions()) or _("none")
            raise ValidationError(
                {
                    "status": _("A placement that is “%(from)s” cannot become “%(to)s” (possible: %(allowed)s).")
                    % {
                        "from": locked.get_status_display(),
                        "to": PlacementStatus(to_status).label if to_status in PlacementStatus.values else to_status,
                        "allowed": allowed,
                    }
                }
            )
        _not_in_future(on, "on")
        earliest = locked.started_on or locked.accepted_on or locked.proposed_on
        if on < earliest:
            raise ValidationError({"on": _("This date cannot be before %(day)s.") % {"day": earliest}})
        reason = (reason or "").strip()
        if to_status in NEEDS_REASON and not reason:
            raise ValidationError({"reason": _("Give the reason.")})
        outcome = outcome or {}
        _refuse_unknown(outcome, OUTCOME_FIELDS)
        if outcome and to_status not in (
            PlacementStatus.COMPLETED,
            PlacementStatus.DROPPED_OUT,
            PlacementStatus.DISMISSED,
        ):
            raise ValidationError(_("Outcomes are recorded when the placement ends."))
        if to_status == PlacementStatus.ACCEPTED:
            # The opportunity row is the lock for its places: of two acceptances of the last place, one waits
            # here and then finds the opportunity full.
            opportunity = Opportunity.objects.select_for_update().get(pk=locked.opportunity_id)
            _refuse_when_full(opportunity, field="status")
            locked.accepted_on = on
        elif to_status == PlacementStatus.STARTED:
            locked.started_on = on
            CheckIn.objects.bulk_create(
                CheckIn(case_id=locked.case_id, placement=locked, day=day, due_on=due)
                for day, due in check_in_dates(on)
            )
        else:
            locked.ended_on = on
            locked.end_reason = reason
            for name, value in outcome.items():
                setattr(locked, name, value)
            if outcome.get("certificate") is False:
                locked.certificate_name = ""
        locked.status = to_status
        locked.full_clean(exclude=["case", "opportunity", "partner", "recorded_by"])
        locked.save()
        followups.changed(f"placement.{to_status}", locked, by=by)
        return locked


@transaction.atomic
def check_in_record(*, by: User, check_in: CheckIn, recorded_on: datetime.date, data: dict[str, Any]) -> CheckIn:
    """Record what was found at a check-in (also to correct it later)."""
    with pghistory.context(user=by.pk):
        lock_writable(check_in.placement.case)
        _refuse_unknown(data, CHECK_IN_FIELDS)
        locked = CheckIn.objects.select_for_update().select_related("placement").get(pk=check_in.pk)
        _not_in_future(recorded_on, "recorded_on")
        if recorded_on < locked.placement.started_on:
            raise ValidationError({"recorded_on": _("A check-in cannot be before the start.")})
        errors = {}
        if data.get("still_there") is None:
            errors["still_there"] = [_("Say whether the participant is still there.")]
        ended_on = locked.placement.ended_on
        if ended_on is not None and data.get("still_there") and recorded_on > ended_on:
            # the retention figures read these: a placement that ended is not still going
            errors["still_there"] = [
                _("The placement ended on %(day)s: the participant is no longer there.") % {"day": ended_on}
            ]
        if errors:
            raise ValidationError(errors)
        for name, value in data.items():
            setattr(locked, name, value)
        locked.recorded_on = recorded_on
        locked.recorded_by = by
        locked.full_clean(exclude=["case", "placement", "recorded_by"])
        locked.save()
        followups.changed("placement_check_in.recorded", locked, by=by)
        return locked


def settle_case(*, case: Case, by: User, event: str) -> None:
    """Closing a case (called by the core, case row locked): proposals and accepted placements are
    withdrawn, freeing their places; a started placement must be ended first (completed, dropped out,
    dismissed), since only the officer knows how it ended. Exit and transfer leave placements as they are:
    a participant may keep the job, and the receiving NGO carries on."""
    if event != "closed":
        return
    live = Placement.objects.select_for_update().filter(case=case, status__in=LIVE)
    started = [p for p in live if p.status == PlacementStatus.STARTED]
    if started:
        raise ValidationError(
            {
                "reason": _("End the started placement first (%(titles)s): say how it ended.")
                % {"titles": ", ".join(p.opportunity.title for p in started)}
            }
        )
    today = timezone.localdate()
    for placement in live:
        placement.status, placement.ended_on = PlacementStatus.WITHDRAWN, today
        placement.end_reason = _("The case was closed.")
        placement.save()
