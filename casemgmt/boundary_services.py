"""Writes across the NGO-authority boundary: an authority's legal events, referrals and information
requests; the manager's answers; exceptional disclosures with their second approver."""

from __future__ import annotations

import datetime
from typing import Any

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organisation, User

from . import access, casefile_services, followups, services, shared_view
from .boundary_models import AUTHORITY_CATEGORIES, AuthorityReferral, ExceptionalDisclosure, InformationRequest
from .casefile import LegalEvent
from .models import Case, Eligibility, ReferralSource, Stage


def _categories(values, field: str = "categories") -> list[str]:
    allowed = {str(c) for c in AUTHORITY_CATEGORIES}
    chosen = sorted(set(values or ()))
    if not chosen:
        raise ValidationError({field: [_("Choose at least one category.")]})
    unknown = [c for c in chosen if c not in allowed]
    if unknown:
        raise ValidationError({field: [_("Unknown category: %(c)s.") % {"c": ", ".join(unknown)}]})
    return chosen


# --- The authority's own writes -----------------------------------------------------------------


@transaction.atomic
def authority_legal_event(*, case: Case, by: User, data: dict[str, Any]) -> LegalEvent:
    """An authority records a legal event on a case it shares with `legal status` granted."""
    return legal_event_on_shared_case(access.shared_cases_for(by), case=case, by=by, data=data)


@transaction.atomic
def legal_event_on_shared_case(shared_cases, *, case: Case, by: User, data: dict[str, Any]) -> LegalEvent:
    """The legal event of an authority (its liaison, or its partner client's service account as `by`),
    on a case of `shared_cases` (the authority's shared view) with `legal status` granted."""
    shared = shared_cases.filter(pk=case.pk).first()
    if shared is None or not access.can_record_legal_events_as_authority(by, shared):
        raise PermissionDenied
    with pghistory.context(user=by.pk):
        services.lock_writable(case)
        unknown = set(data) - set(casefile_services.WRITABLE_FIELDS["legal_event"])
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        event = LegalEvent(case=case, recorded_by=by, **data)
        casefile_services._validate("legal_event", event, case)
        event.save()
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
        followups.changed("legal_event.saved", event, by=by)
        return event


def referral_targets() -> list[Organisation]:
    """NGOs an authority may refer a person to."""
    return list(Organisation.objects.filter(is_active=True, kind=Organisation.Kind.NGO).order_by("name"))


@transaction.atomic
def authority_referral_submit(
    *, by: User, organisation: Organisation, participant: dict[str, Any], reason: str, reference: str = ""
) -> AuthorityReferral:
    """A new person referred by an authority: the case opens in the NGO's intake queue (no lead yet)."""
    if not access.is_authority(by):
        raise PermissionDenied
    return referral_from_authority(
        authority=by.membership.organisation,
        by=by,
        organisation=organisation,
        participant=participant,
        reason=reason,
        reference=reference,
    )


@transaction.atomic
def referral_from_authority(
    *,
    authority: Organisation,
    by: User,
    organisation: Organisation,
    participant: dict[str, Any],
    reason: str,
    reference: str = "",
) -> AuthorityReferral:
    """The referral of `authority` (its liaison, or its partner client's service account as `by`)."""
    if authority.kind != Organisation.Kind.AUTHORITY or not authority.is_active:
        raise PermissionDenied
    if organisation.kind != Organisation.Kind.NGO or not organisation.is_active:
        raise ValidationError({"organisation": [_("Choose a programme (NGO).")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why you refer this person.")]})
    case = services.case_open(
        by=by,
        organisation=organisation,
        participant=participant,
        referral_source=ReferralSource.AUTHORITY,
        referral_date=timezone.localdate(),
        referring_organisation=authority,
        referral_reason=reason,
    )
    return AuthorityReferral.objects.create(case=case, authority=authority, submitted_by=by, reference=reference)


REFERRAL_STATUS_LABELS = {
    "received": gettext_lazy("Received"),
    "screening": gettext_lazy("In screening"),
    "accepted": gettext_lazy("Accepted into the programme"),
    "declined": gettext_lazy("Declined"),
    "referred_elsewhere": gettext_lazy("Referred elsewhere"),
}


def referral_status_code(referral: AuthorityReferral) -> str:
    """What the referring authority may know: received, in screening, accepted, declined, referred
    elsewhere. Nothing else of the case."""
    case = referral.case
    if case.eligibility == Eligibility.REFER_ELSEWHERE:
        return "referred_elsewhere"
    if case.eligibility == Eligibility.DECLINE or case.stage == Stage.DECLINED:
        return "declined"
    if case.eligibility == Eligibility.ACCEPT:
        return "accepted"
    if case.stage == Stage.SCREENING:
        return "screening"
    return "received"


def referral_status(referral: AuthorityReferral) -> str:
    return str(REFERRAL_STATUS_LABELS[referral_status_code(referral)])


@transaction.atomic
def information_request_submit(*, case: Case, by: User, categories, purpose: str) -> InformationRequest:
    """An authority asks for more on a case it shares; the NGO's manager answers."""
    if access.shared_cases_for(by).filter(pk=case.pk).first() is None:
        raise PermissionDenied
    chosen = _categories(categories)
    if not purpose.strip():
        raise ValidationError({"purpose": [_("Say what the information is needed for.")]})
    with pghistory.context(user=by.pk):
        return InformationRequest.objects.create(
            case=case,
            authority=by.membership.organisation,
            requested_by=by,
            categories=chosen,
            purpose=purpose.strip(),
        )


def _decidable(request: InformationRequest, by: User) -> InformationRequest:
    locked = InformationRequest.objects.select_for_update().get(pk=request.pk)
    if not access.is_manager_of(by, locked.case.organisation_id):
        raise PermissionDenied
    if locked.status != InformationRequest.Status.PENDING:
        raise ValidationError(_("This request has already been answered."))
    return locked


@transaction.atomic
def information_request_grant(
    *, request: InformationRequest, by: User, given_on: datetime.date, expires_on: datetime.date | None
) -> InformationRequest:
    """The participant said yes: the manager records the consent (naming the authority, the requested
    categories and purpose) and the request is granted. Nobody grants without it."""
    locked = _decidable(request, by)
    with pghistory.context(user=by.pk):
        consent = casefile_services.record_create(
            key="consent",
            case=locked.case,
            by=by,
            data={
                "purpose": locked.purpose[:300],
                "recipient": locked.authority,
                "categories": list(locked.categories),
                "given_on": given_on,
                "expires_on": expires_on,
            },
        )
        locked.status = InformationRequest.Status.GRANTED
        locked.consent = consent
        locked.decided_by, locked.decided_at = by, timezone.now()
        locked.save()
        return locked


@transaction.atomic
def information_request_refuse(*, request: InformationRequest, by: User, reason: str) -> InformationRequest:
    locked = _decidable(request, by)
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the refusal.")]})
    with pghistory.context(user=by.pk):
        locked.status = InformationRequest.Status.REFUSED
        locked.reason = reason.strip()
        locked.decided_by, locked.decided_at = by, timezone.now()
        locked.save()
        return locked


# --- Exceptional disclosure -----------------------------------------------------------------------


@transaction.atomic
def disclosure_prepare(
    *, case: Case, by: User, authority: Organisation, legal_basis: str, justification: str, categories
) -> ExceptionalDisclosure:
    """A manager prepares a disclosure with a written legal basis; it waits for a second approver."""
    if not access.is_manager_of(by, case.organisation_id):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if authority.kind != Organisation.Kind.AUTHORITY:
        errors["authority"] = [_("Choose an authority.")]
    if legal_basis not in ExceptionalDisclosure.LegalBasis.values:
        errors["legal_basis"] = [_("Choose the legal basis.")]
    if len(justification.strip()) < 20:
        errors["justification"] = [_("Write the legal basis and why it applies (at least 20 characters).")]
    try:
        chosen = _categories(categories)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with pghistory.context(user=by.pk):
        return ExceptionalDisclosure.objects.create(
            case=case,
            organisation_id=case.organisation_id,
            authority=authority,
            legal_basis=legal_basis,
            justification=justification.strip(),
            categories=chosen,
            prepared_by=by,
        )


def _locked_disclosure(disclosure: ExceptionalDisclosure, status: str) -> ExceptionalDisclosure:
    locked = ExceptionalDisclosure.objects.select_for_update().get(pk=disclosure.pk)
    if locked.status != status:
        raise ValidationError(_("This disclosure is no longer %(status)s.") % {"status": status})
    return locked


@transaction.atomic
def disclosure_approve(*, disclosure: ExceptionalDisclosure, by: User) -> ExceptionalDisclosure:
    """The second approver (the auditor or another manager) approves; the snapshot is taken now."""
    locked = _locked_disclosure(disclosure, ExceptionalDisclosure.Status.PREPARED)
    if not access.can_approve_disclosure(by, locked):
        raise PermissionDenied
    case = Case.objects.select_related("participant__city").get(pk=locked.case_id)
    with pghistory.context(user=by.pk):
        locked.snapshot = shared_view.snapshot(case, locked.categories)
        locked.status = ExceptionalDisclosure.Status.APPROVED
        locked.approved_by, locked.approved_at = by, timezone.now()
        locked.save()
        return locked


@transaction.atomic
def disclosure_reject(*, disclosure: ExceptionalDisclosure, by: User, reason: str) -> ExceptionalDisclosure:
    locked = _locked_disclosure(disclosure, ExceptionalDisclosure.Status.PREPARED)
    if not access.can_approve_disclosure(by, locked):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    with pghistory.context(user=by.pk):
        locked.status = ExceptionalDisclosure.Status.REJECTED
        locked.rejection_reason = reason.strip()
        locked.save()
        return locked


@transaction.atomic
def disclosure_deliver(*, disclosure: ExceptionalDisclosure, by: User) -> ExceptionalDisclosure:
    """A manager records the delivery; from then on the authority sees the snapshot (and only it)."""
    locked = _locked_disclosure(disclosure, ExceptionalDisclosure.Status.APPROVED)
    if not access.is_manager_of(by, locked.organisation_id):
        raise PermissionDenied
    with pghistory.context(user=by.pk):
        locked.status = ExceptionalDisclosure.Status.DELIVERED
        locked.delivered_by, locked.delivered_at = by, timezone.now()
        locked.save()
        return locked
