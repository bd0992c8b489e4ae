"""Writes on the case file. Callers have checked access through casemgmt.access."""

from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from . import followups
from .access import record_model
from .casefile import (
    Assessment,
    AssessmentAnswer,
    AssessmentItem,
    AssessmentTemplate,
    Attachment,
    Goal,
    GoalProgress,
    Outcome,
    RiskBand,
    case_assessment_summary,
)
from .models import Case, CaseTeamMember, CaseTransfer, Eligibility, ExitReason, LegalStatus, Stage, StageChange
from .services import _set_stage, lock_writable

# Fields a user may set on each kind of row (everything else is set by the service).
WRITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "goal": ("domain", "title", "description", "owner", "target_date", "status"),
    "note": ("kind", "date", "duration_minutes", "participants", "held", "visibility", "text"),
    "legal_event": ("kind", "date", "description"),
    "relapse_event": ("kind", "date", "description"),
    "safety_flag": ("kind", "note", "active"),
    "conflict_history": ("country", "from_date", "to_date", "group_affiliation", "role", "account"),
    "consent": ("purpose", "recipient", "categories", "given_on", "expires_on", "withdrawn_on"),
    "service_referral": ("kind", "provider", "referred_on", "ended_on", "status", "outcome", "goal"),
    "mandate": ("kind", "reference", "issuing_body", "authority", "starts_on", "ends_on", "revoked_on"),
}
# Dates that record what happened: never in the future (a hearing or a target date may be).
PAST_DATES: dict[str, tuple[str, ...]] = {
    "note": ("date",),
    "relapse_event": ("date",),
    "conflict_history": ("from_date", "to_date"),
    "consent": ("given_on", "withdrawn_on"),
    "service_referral": ("referred_on", "ended_on"),
    "mandate": ("revoked_on",),
}
# (earlier, later) pairs that must be in order.
DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "conflict_history": (("from_date", "to_date"),),
    "consent": (("given_on", "expires_on"), ("given_on", "withdrawn_on")),
    "service_referral": (("referred_on", "ended_on"),),
    "mandate": (("starts_on", "ends_on"), ("starts_on", "revoked_on")),
}


def _validate(key: str, record, case: Case, *, owner_changed: bool = True) -> None:
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    for name in PAST_DATES.get(key, ()):
        value = getattr(record, name)
        if value and value > today:
            errors.setdefault(name, []).append(_("This date cannot be in the future."))
    for earlier, later in DATE_ORDER.get(key, ()):
        a, b = getattr(record, earlier), getattr(record, later)
        if a and b and b < a:
            errors.setdefault(later, []).append(
                _("This date cannot be before the %(field)s.") % {"field": record._meta.get_field(earlier).verbose_name}
            )
    if key == "service_referral" and record.goal_id and record.goal.case_id != case.pk:
        errors.setdefault("goal", []).append(_("This goal belongs to another case."))
    if key == "goal" and record.owner_id and owner_changed and not _on_team_or_manager(record.owner, case):
        errors.setdefault("owner", []).append(_("The owner must be on the case team."))
    if errors:
        raise ValidationError(errors)
    record.full_clean(exclude=["case", "recorded_by"])


def _on_team_or_manager(user: User, case: Case) -> bool:
    membership = user.membership_or_none
    if membership and membership.role == "manager" and membership.organisation_id == case.organisation_id:
        return True
    return case.team.filter(user=user).exists()


@transaction.atomic
def record_create(*, key: str, case: Case, by: User, data: dict[str, Any]):
    """Add a row of one kind to the case file."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        unknown = set(data) - set(WRITABLE_FIELDS[key])
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        if key == "goal" and not data.get("owner"):
            data = {**data, "owner": by}
        record = record_model(key)(case=case, recorded_by=by, **data)
        _validate(key, record, case)
        record.save()
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
        followups.changed(f"{key}.saved", record, by=by)
        return record


@transaction.atomic
def record_update(*, key: str, record, by: User, data: dict[str, Any]):
    """Change a row of the case file; what changed is kept by the history triggers."""
    with pghistory.context(user=by.pk):
        lock_writable(record.case)
        unknown = set(data) - set(WRITABLE_FIELDS[key])
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})
        owner_changed = "owner" in data and getattr(data["owner"], "pk", None) != getattr(record, "owner_id", None)
        for name, value in data.items():
            setattr(record, name, value)
        _validate(key, record, record.case, owner_changed=owner_changed)
        record.save()
        followups.changed(f"{key}.saved", record, by=by)
        return record


# --- Screening ----------------------------------------------------------------------


@transaction.atomic
def case_screen(*, case: Case, by: User, first_contact_date: datetime.date, decision: str, reason: str) -> Case:
    """Record the screening; accepting moves the case to assessment, the other decisions decline it."""
    with pghistory.context(user=by.pk):
        locked = Case.objects.select_for_update().get(pk=case.pk)
        errors = {}
        if locked.stage != Stage.SCREENING:
            errors["decision"] = [_("Only a case in screening can be screened.")]
        if first_contact_date > timezone.localdate():
            errors["first_contact_date"] = [_("This date cannot be in the future.")]
        elif first_contact_date < locked.referral_date:
            errors["first_contact_date"] = [_("The first contact cannot be before the referral.")]
        if decision not in Eligibility.values:
            errors["decision"] = [_("Choose accept, refer elsewhere or decline.")]
        if not (reason or "").strip():
            errors["reason"] = [_("Give the reason for the decision.")]
        if errors:
            raise ValidationError(errors)
        Case.objects.filter(pk=locked.pk).update(
            first_contact_date=first_contact_date, eligibility=decision, eligibility_reason=reason.strip()
        )
        case.first_contact_date, case.eligibility, case.eligibility_reason = first_contact_date, decision, reason
        followups.changed("case.screened", case, by=by)
        to_stage = Stage.ASSESSMENT if decision == Eligibility.ACCEPT else Stage.DECLINED
        label = Eligibility(decision).label
        return _set_stage(
            case, locked, by=by, to_stage=to_stage, reason=f"{label}: {reason.strip()}", is_reopening=False
        )


# --- Assessments ----------------------------------------------------------------------

# Months between assessments by band (handbook section 6).
REASSESSMENT_MONTHS = {RiskBand.HIGH: 3, RiskBand.MEDIUM: 6, RiskBand.LOW: 12}


def derive_risk(answers: list[tuple[AssessmentItem, int]]) -> tuple[str, Decimal]:
    """The band from the ratings (0 to 3): mean risk, lowered by a quarter of the mean protective factors.

    score = max(0, R - 0.25 * P), with R and P the risk and protective ratings as a share of their
    maximum; low below 0.30, medium below 0.60, high from 0.60. Needs do not change the band.
    """
    risk = [rating for item, rating in answers if item.kind == AssessmentItem.Kind.RISK]
    protective = [rating for item, rating in answers if item.kind == AssessmentItem.Kind.PROTECTIVE]
    r = Decimal(sum(risk)) / (3 * len(risk)) if risk else Decimal(0)
    p = Decimal(sum(protective)) / (3 * len(protective)) if protective else Decimal(0)
    score = max(Decimal(0), r - p / 4).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    band = RiskBand.HIGH if score >= Decimal("0.6") else RiskBand.MEDIUM if score >= Decimal("0.3") else RiskBand.LOW
    return band, score


@transaction.atomic
def assessment_record(
    *,
    case: Case,
    by: User,
    template: AssessmentTemplate,
    assessed_on: datetime.date,
    answers: list[dict[str, Any]],
    summary: str = "",
) -> Assessment:
    """Record a structured assessment: every item of the template rated, band and needs derived."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        items = {item.pk: item for item in AssessmentItem.objects.filter(domain__template=template)}
        errors: dict[str, list[str]] = {}
        if assessed_on > timezone.localdate():
            errors["assessed_on"] = [_("This date cannot be in the future.")]
        seen: set[int] = set()
        rows = []
        for answer in answers:
            item_id = answer.get("item")
            item = items.get(item_id)
            if item is None:
                errors.setdefault("answers", []).append(
                    _("Item %(item)s is not part of this template.") % {"item": item_id}
                )
                continue
            if item_id in seen:
                errors.setdefault("answers", []).append(_("Item %(item)s is answered twice.") % {"item": item_id})
            seen.add(item_id)
            rating = answer.get("rating")
            if not isinstance(rating, int) or not 0 <= rating <= 3:
                errors.setdefault("answers", []).append(
                    _("The rating of “%(item)s” must be 0, 1, 2 or 3.") % {"item": item.text}
                )
                continue
            rows.append((item, answer))
        missing = set(items) - seen
        if missing and "answers" not in errors:
            errors["answers"] = [_("Rate every item: %(count)d are missing.") % {"count": len(missing)}]
        if errors:
            raise ValidationError(errors)
        band, score = derive_risk([(item, answer["rating"]) for item, answer in rows])
        needs = {item.code: answer["rating"] for item, answer in rows if item.kind == AssessmentItem.Kind.NEED}
        assessment = Assessment(
            case=case,
            recorded_by=by,
            template=template,
            assessed_on=assessed_on,
            risk_band=band,
            risk_score=score,
            needs_profile=needs,
            summary=summary,
        )
        assessment.full_clean(exclude=["case", "recorded_by"])
        assessment.save()
        answer_rows = []
        for item, answer in rows:
            row = AssessmentAnswer(
                assessment=assessment,
                item=item,
                rating=answer["rating"],
                evidence=answer.get("evidence", ""),
                information_quality=answer.get("information_quality") or "medium",
            )
            row.full_clean(exclude=["assessment", "item"])
            answer_rows.append(row)
        AssessmentAnswer.objects.bulk_create(answer_rows)
        # the case row (locked above) sums up its assessments for the reports: one UPDATE with the touch
        Case.objects.filter(pk=case.pk).update(updated_at=timezone.now(), **case_assessment_summary())
        followups.changed("assessment.recorded", assessment, by=by)
        return assessment


def assessment_is_stale(case: Case, *, today: datetime.date | None = None) -> bool:
    """True when the case has no assessment, or its last one is older than the band's interval."""
    last = Assessment.objects.filter(case=case).order_by("-assessed_on", "-pk").first()
    if last is None:
        return True
    today = today or timezone.localdate()
    months = REASSESSMENT_MONTHS[last.risk_band]
    year, month = divmod(last.assessed_on.month - 1 + months, 12)
    due = last.assessed_on.replace(year=last.assessed_on.year + year, month=month + 1, day=1)
    return today >= due


# --- Goals ------------------------------------------------------------------------------


@transaction.atomic
def goal_progress_add(*, goal: Goal, by: User, date: datetime.date, note: str) -> GoalProgress:
    with pghistory.context(user=by.pk):
        lock_writable(goal.case)
        errors = {}
        if date > timezone.localdate():
            errors["date"] = [_("This date cannot be in the future.")]
        if not (note or "").strip():
            errors["note"] = [_("Describe the progress.")]
        if errors:
            raise ValidationError(errors)
        progress = GoalProgress.objects.create(goal=goal, date=date, note=note.strip(), recorded_by=by)
        if goal.status == Goal.Status.NOT_STARTED:
            goal.status = Goal.Status.IN_PROGRESS
            goal.save(update_fields=["status", "updated_at"])
        return progress


# --- Attachments --------------------------------------------------------------------------

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# What a file's first bytes say it is, and the names it may carry.
SIGNATURES: list[tuple[bytes, str, tuple[str, ...]]] = [
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
]


def sniff(head: bytes) -> tuple[str, tuple[str, ...]] | None:
    for magic, content_type, extensions in SIGNATURES:
        if head.startswith(magic):
            return content_type, extensions
    return None


@transaction.atomic
def attachment_add(
    *, case: Case, by: User, upload, record_type: str = "case", record_id: int | None = None, description: str = ""
) -> Attachment:
    """Store a file outside the web root after checking its size and what its content really is."""
    with pghistory.context(user=by.pk):
        lock_writable(case)
        name = (upload.name or "file").rsplit("/", 1)[-1][:200]
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(
                {"file": _("The file is larger than %(mb)d MB.") % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}}
            )
        if upload.size == 0:
            raise ValidationError({"file": _("The file is empty.")})
        head = upload.read(16)
        upload.seek(0)
        kind = sniff(head)
        if kind is None:
            raise ValidationError({"file": _("Only PDF, PNG and JPEG files can be attached.")})
        content_type, extensions = kind
        if not name.lower().endswith(extensions):
            raise ValidationError(
                {"file": _("The file's name does not match its content (%(type)s).") % {"type": content_type}}
            )
        if record_type != "case":
            record = record_model(record_type).objects.filter(pk=record_id, case=case).first()
            if record is None:
                raise ValidationError({"record_id": _("No such record on this case.")})
        if record_type == "case":
            record_id = None  # a case document points at no record
        attachment = Attachment(
            case=case,
            recorded_by=by,
            record_type=record_type,
            record_id=record_id,
            original_name=name,
            content_type=content_type,
            size=upload.size,
            description=description,
        )
        attachment.file.save(name, upload, save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)  # no row, no file
            raise
        return attachment


# --- Exit, post-exit outcomes, closure ------------------------------------------------------

OUTCOME_FIELDS = ("education", "employment", "housing", "family", "legal_status", "notes")
POST_EXIT_FIELDS = (*OUTCOME_FIELDS, "reoffended", "relapse")
POST_EXIT_MONTHS = {Outcome.Kind.AFTER_6: 6, Outcome.Kind.AFTER_12: 12, Outcome.Kind.AFTER_24: 24}


def add_months(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.month - 1 + months, 12)
    target_year, target_month = day.year + year, month + 1
    last_day = calendar.monthrange(target_year, target_month)[1]
    return day.replace(year=target_year, month=target_month, day=min(day.day, last_day))


def _outcome_errors(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(fields)
    for name in unknown:
        errors[name] = [_("Unknown field.")]
    for name in ("education", "employment", "housing", "family"):
        value = data.get(name, "")
        choices = Outcome._meta.get_field(name).choices
        if value and value not in dict(choices):
            errors[name] = [_("Not a valid choice.")]
    if data.get("legal_status") and data["legal_status"] not in LegalStatus.values:
        errors["legal_status"] = [_("Not a valid choice.")]
    return errors


@transaction.atomic
def case_exit(*, case: Case, by: User, reason: str, exited_on: datetime.date, outcome: dict[str, Any]) -> Case:
    """Record that the participant leaves the program, with the outcome snapshot, and schedule the
    post-exit follow-ups at 6, 12 and 24 months."""
    with pghistory.context(user=by.pk):
        locked = Case.objects.select_for_update().get(pk=case.pk)
        errors = _outcome_errors(outcome, OUTCOME_FIELDS)
        if locked.stage not in (Stage.ACTIVE, Stage.REVIEW):
            errors["reason"] = [_("Only an active case, or one under review, can exit.")]
        if reason not in ExitReason.values:
            errors["reason"] = [_("Choose an exit reason.")]
        if exited_on > timezone.localdate():
            errors["exited_on"] = [_("This date cannot be in the future.")]
        elif exited_on < locked.referral_date:
            errors["exited_on"] = [_("The exit cannot be before the referral.")]
        else:
            reopened = locked.stage_changes.filter(is_reopening=True).order_by("-changed_at").first()
            if reopened and exited_on < timezone.localtime(reopened.changed_at).date():
                errors["exited_on"] = [_("The exit cannot be before the case was re-opened.")]
        if errors:
            raise ValidationError(errors)
        episode = Outcome.objects.filter(case=locked, kind=Outcome.Kind.EXIT).count() + 1
        Outcome.objects.create(
            case=locked,
            recorded_by=by,
            kind=Outcome.Kind.EXIT,
            episode=episode,
            due_on=exited_on,
            recorded_on=exited_on,
            **outcome,
        )
        for kind, months in POST_EXIT_MONTHS.items():
            Outcome.objects.create(
                case=locked, recorded_by=by, kind=kind, episode=episode, due_on=add_months(exited_on, months)
            )
        followups.changed("case.exited", locked, by=by)
        _settle_case(locked, by=by, event="exited")
        Case.objects.filter(pk=locked.pk).update(exit_reason=reason, exited_on=exited_on, closed_on=None)
        case.exit_reason, case.exited_on = reason, exited_on
        return _set_stage(
            case, locked, by=by, to_stage=Stage.EXITED, reason=str(ExitReason(reason).label), is_reopening=False
        )


@transaction.atomic
def outcome_record(*, outcome: Outcome, by: User, recorded_on: datetime.date, data: dict[str, Any]) -> Outcome:
    """Fill in a post-exit follow-up (the same fields as at exit, plus re-offending and relapse)."""
    with pghistory.context(user=by.pk):
        lock_writable(outcome.case)
        outcome = Outcome.objects.select_for_update().get(pk=outcome.pk)  # re-read under the lock
        errors = _outcome_errors(data, POST_EXIT_FIELDS)
        if outcome.recorded_on is not None:
            errors["recorded_on"] = [_("This follow-up is already recorded.")]
        if outcome.kind == Outcome.Kind.EXIT:
            errors["kind"] = [_("The exit snapshot is recorded with the exit.")]
        if recorded_on > timezone.localdate():
            errors["recorded_on"] = [_("This date cannot be in the future.")]
        elif outcome.case.exited_on and recorded_on < outcome.case.exited_on:
            errors["recorded_on"] = [_("A follow-up cannot be before the exit.")]
        if errors:
            raise ValidationError(errors)
        for name, value in data.items():
            setattr(outcome, name, value)
        outcome.recorded_on = recorded_on
        outcome.save()
        followups.changed("outcome.recorded", outcome, by=by)
        return outcome


def open_follow_ups(case: Case):
    """Post-exit follow-ups of the latest exit that are not recorded yet."""
    latest = Outcome.objects.filter(case=case, kind=Outcome.Kind.EXIT).order_by("-episode").first()
    if latest is None:
        return Outcome.objects.none()
    return Outcome.objects.filter(case=case, episode=latest.episode, recorded_on__isnull=True).exclude(
        kind=Outcome.Kind.EXIT
    )


@transaction.atomic
def case_close(*, case: Case, by: User, reason: str) -> Case:
    """Close an exited case: after its last post-exit follow-up, or earlier by a manager's decision.
    A closed case is read-only; the retention clock starts on the closing date."""
    with pghistory.context(user=by.pk):
        locked = Case.objects.select_for_update().get(pk=case.pk)
        errors = {}
        if locked.stage != Stage.EXITED:
            errors["reason"] = [_("Only an exited case can be closed.")]
        elif open_follow_ups(locked).exists() and by.role != "manager":
            errors["reason"] = [_("Post-exit follow-ups are still open; only a manager may close the case now.")]
        if not (reason or "").strip():
            errors.setdefault("reason", []).append(_("Give a reason for closing the case."))
        if errors:
            raise ValidationError(errors)
        _settle_case(locked, by=by, event="closed")
        today = timezone.localdate()
        Case.objects.filter(pk=locked.pk).update(closed_on=today)
        case.closed_on = today
        return _set_stage(case, locked, by=by, to_stage=Stage.CLOSED, reason=reason.strip(), is_reopening=False)


# What the apps to the right settle when a case leaves the program or its organisation (open mentor
# assignments, family engagements), registered in their AppConfig.ready(). Each is called inside the
# transaction, the case row locked and still writable: fn(case=..., by=..., event=...), with event one
# of "exited", "closed", "transferred".
CASE_ENDINGS: list = []


def register_case_ending(settle):
    CASE_ENDINGS.append(settle)
    return settle


def _settle_case(case: Case, *, by: User, event: str) -> None:
    for settle in CASE_ENDINGS:
        settle(case=case, by=by, event=event)


# --- Transfer -------------------------------------------------------------------------------


@transaction.atomic
def transfer_request(*, case: Case, by: User, to_organisation, consent, reason: str) -> CaseTransfer:
    """Ask another NGO to take the case over, on the strength of the participant's consent."""
    with pghistory.context(user=by.pk):
        locked = lock_writable(case)
        errors: dict[str, list[str]] = {}
        if (
            to_organisation.kind != "ngo"
            or to_organisation.pk == locked.organisation_id
            or not to_organisation.is_active
        ):
            errors["to_organisation"] = [_("Choose another active NGO.")]
        today = timezone.localdate()
        if consent.case_id != locked.pk or consent.recipient_id != to_organisation.pk or not consent.is_current(today):
            errors["consent"] = [_("Record the participant's current consent naming the receiving organisation.")]
        if not (reason or "").strip():
            errors["reason"] = [_("Give a reason for the transfer.")]
        if CaseTransfer.objects.filter(case=locked, status=CaseTransfer.Status.PENDING).exists():
            errors["to_organisation"] = [_("A transfer of this case is already waiting for an answer.")]
        if errors:
            raise ValidationError(errors)
        return CaseTransfer.objects.create(
            case=locked,
            case_code=locked.participant.case_code,
            from_organisation_id=locked.organisation_id,
            to_organisation=to_organisation,
            consent=consent,
            reason=reason.strip(),
            requested_by=by,
        )


@transaction.atomic
def transfer_decide(*, transfer: CaseTransfer, by: User, accept: bool, reason: str = "") -> CaseTransfer:
    """The receiving manager accepts (the case, its code and history, now belong to them) or refuses."""
    with pghistory.context(user=by.pk):
        locked = CaseTransfer.objects.select_for_update().get(pk=transfer.pk)
        if locked.status != CaseTransfer.Status.PENDING:
            raise ValidationError({"status": [_("This transfer was already decided.")]})
        if not accept and not (reason or "").strip():
            raise ValidationError({"reason": [_("Give a reason for refusing.")]})
        if accept:
            # the case must still be open, and the consent still current, when the receiver says yes
            lock_writable(locked.case)
            if not locked.consent.is_current(timezone.localdate()):
                raise ValidationError({"consent": [_("The participant's consent is no longer current.")]})
        now = timezone.now()
        locked.status = CaseTransfer.Status.ACCEPTED if accept else CaseTransfer.Status.REFUSED
        locked.decided_by, locked.decided_at, locked.decision_reason = by, now, (reason or "").strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        if accept:
            case = Case.objects.select_for_update().get(pk=locked.case_id)
            _settle_case(case, by=by, event="transferred")
            # The sending team's access ends with the move; the receiving manager assigns a lead.
            CaseTeamMember.objects.filter(case=case).delete()
            Case.objects.filter(pk=case.pk).update(organisation_id=locked.to_organisation_id, updated_at=now)
            StageChange.objects.create(
                case=case,
                from_stage=case.stage,
                to_stage=case.stage,
                changed_by=by,
                changed_at=now,
                reason=_("Transferred from %(from)s") % {"from": locked.from_organisation.name},
            )
        return locked
