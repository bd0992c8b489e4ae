"""Retention (handbook §4): closed cases past their organisation's retention period are listed for
the manager by a daily task; the manager confirms them; `manage.py apply_retention`, run under the
database owner role, pseudonymises the confirmed ones: names, identifiers, contact and free text of
the case and of every row of the apps to the right, in the live tables and in their history tables.

The access log and the disclosure log hold ids only: they are never touched.

The apps register what they hold with `register_pseudonymiser(fn(case))`; each function calls
`scrub(...)` for its models, which rewrites the rows and the pghistory event rows of those rows.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pghistory
import pgtrigger
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User

from . import followups
from .dpo_models import RetentionReview
from .followup_models import OPEN_STATUSES, FollowUp
from .models import Case, Stage

log = logging.getLogger(__name__)

REMOVED = "[removed]"  # what a required text field holds after pseudonymisation

# fn(case) -> None, registered by the apps in their AppConfig.ready(); runs inside the transaction
PSEUDONYMISERS: list[Callable[[Case], None]] = []


def register_pseudonymiser(fn: Callable[[Case], None]) -> Callable[[Case], None]:
    PSEUDONYMISERS.append(fn)
    return fn


def retention_months(organisation_id: int) -> int:
    """The organisation's retention period after closure, from its reminder settings (default 24)."""
    return int(followups.settings_for("retention_review", organisation_id).params.get("months", 24))


# --- Listing (the daily task) -------------------------------------------------------------------


def list_due(*, today: datetime.date | None = None) -> int:
    """Create a review row for every closed case past its organisation's retention period (idempotent),
    and make sure its manager is reminded through a follow-up. Returns how many were listed now."""
    from .casefile_services import add_months

    today = today or timezone.localdate()
    listed = 0
    organisations = Organisation.objects.filter(
        kind=Organisation.Kind.NGO, cases__stage=Stage.CLOSED, cases__retention_review__isnull=True
    ).distinct()
    for organisation in organisations:
        months = retention_months(organisation.pk)
        cutoff = add_months(today, -months)
        due = Case.objects.filter(
            organisation=organisation, stage=Stage.CLOSED, closed_on__lte=cutoff, retention_review__isnull=True
        ).select_related("participant")
        for case in due.iterator(chunk_size=500):
            with transaction.atomic():
                _review, created = RetentionReview.objects.get_or_create(
                    case=case, defaults={"due_on": add_months(case.closed_on, months)}
                )
                if not created:
                    continue
                listed += 1
                # the reminder scheduled at closure is due now, unless the period was shortened since
                reminded = FollowUp.objects.filter(
                    case=case, kind="retention_review", status__in=OPEN_STATUSES, due_on__lte=today
                )
                if not reminded.exists():
                    followups.schedule(case=case, kind="retention_review", due_on=today, remind="manager")
    return listed


# --- Confirmation (the manager) -----------------------------------------------------------------


@transaction.atomic
def reviews_confirm(*, reviews: Iterable[RetentionReview], by: User) -> int:
    """The manager confirms listed cases for pseudonymisation (recorded: who, when)."""
    ids = [r.pk for r in reviews]
    now = timezone.now()
    confirmed = 0
    with pghistory.context(user=by.pk):
        locked = RetentionReview.objects.select_for_update().filter(pk__in=ids).select_related("case")
        for review in locked:
            if review.status != RetentionReview.Status.LISTED:
                continue
            if review.case.stage != Stage.CLOSED:
                raise ValidationError(_("%(code)s is no longer closed.") % {"code": review.case.participant.case_code})
            review.status, review.confirmed_by, review.confirmed_at = RetentionReview.Status.CONFIRMED, by, now
            review.save(update_fields=["status", "confirmed_by", "confirmed_at"])
            followups.complete(case=review.case, kind="retention_review", by=by, with_="retention_confirmed")
            confirmed += 1
    return confirmed


# --- Pseudonymisation -----------------------------------------------------------------------------


def event_model_of(model: type[models.Model]):
    """The pghistory event model tracking `model`, or None when it is not tracked."""
    import pghistory.models

    for candidate in apps.get_models():
        if issubclass(candidate, pghistory.models.Event) and candidate.pgh_tracked_model is model:
            return candidate
    return None


def blank_value(model: type[models.Model], name: str) -> Any:
    """What a field holds once pseudonymised: empty when allowed, else a fixed marker."""
    f = model._meta.get_field(name)
    if isinstance(f, models.FileField):
        return ""
    if isinstance(f, models.JSONField):
        return {} if not f.null else None
    if f.null:
        return None
    if isinstance(f, models.CharField | models.TextField):
        return "" if f.blank else REMOVED
    raise ValueError(f"{model.__name__}.{name} cannot be pseudonymised")  # a programming error


def scrub(
    model: type[models.Model],
    rows: QuerySet,
    fields: Iterable[str],
    *,
    events: Q | None = None,
    values: dict[str, Any] | None = None,
) -> int:
    """Rewrite `fields` of `rows` (blanked, or the given `values`) and of every history row of them.

    History rows are found by `events` (a filter on the event model; by default the rows' ids), so
    the versions of rows deleted since (attachments, team rows) are rewritten too."""
    values = {**{name: blank_value(model, name) for name in fields}, **(values or {})}
    ids = list(rows.values_list("pk", flat=True))
    count = model._default_manager.filter(pk__in=ids).update(**values) if ids else 0
    event_model = event_model_of(model)
    if event_model is not None:
        event_fields = {f.name for f in event_model._meta.concrete_fields}
        kept = {k: v for k, v in values.items() if k in event_fields}
        if kept:
            condition = events if events is not None else Q(pgh_obj_id__in=ids)
            event_model.objects.filter(condition).update(**kept)
    return count


def _core(case: Case) -> None:
    from . import casefile
    from .boundary_models import AuthorityReferral, ExceptionalDisclosure, InformationRequest, LegalMandate
    from .models import CaseTransfer, Participant, StageChange

    participant = case.participant
    code = participant.case_code
    scrub(
        Participant,
        Participant.objects.filter(pk=participant.pk),
        [
            "given_name_arabic",
            "family_name_arabic",
            "date_of_birth",
            "national_id",
            "national_id_hash",
            "phone",
            "email",
            "address",
        ],
        values={"given_name_latin": "Pseudonymised", "family_name_latin": code},
    )  # the search column is generated from the names: it follows
    scrub(Case, Case.objects.filter(pk=case.pk), ["referral_reason", "eligibility_reason", "legal_conditions"])
    by_case = Q(case_id=case.pk)

    def of_case(model, fields):
        scrub(model, model.objects.filter(case=case), fields, events=by_case)

    # stage changes are append-only: the owner lifts the trigger for this one rewrite
    with pgtrigger.ignore("casemgmt.StageChange:stage_change_append_only"):
        of_case(StageChange, ["reason"])
    of_case(CaseTransfer, ["reason", "decision_reason"])
    of_case(casefile.Assessment, ["summary"])
    scrub(
        casefile.AssessmentAnswer,
        casefile.AssessmentAnswer.objects.filter(assessment__case=case),
        ["evidence"],
        events=Q(assessment__case_id=case.pk),
    )
    of_case(casefile.Goal, ["title", "description"])
    scrub(
        casefile.GoalProgress,
        casefile.GoalProgress.objects.filter(goal__case=case),
        ["note"],
        events=Q(goal__case_id=case.pk),
    )
    of_case(casefile.Note, ["participants", "text"])
    of_case(casefile.LegalEvent, ["description"])
    of_case(casefile.RelapseEvent, ["description"])
    of_case(casefile.SafetyFlag, ["note"])
    of_case(casefile.ConflictHistory, ["country", "group_affiliation", "role", "account"])
    of_case(casefile.Consent, ["purpose"])
    of_case(casefile.ServiceReferral, ["provider", "outcome"])
    of_case(casefile.Outcome, ["notes"])
    for attachment in casefile.Attachment.objects.filter(case=case).exclude(file=""):
        attachment.file.delete(save=False)  # the stored file itself
    of_case(casefile.Attachment, ["file", "original_name", "description"])
    of_case(LegalMandate, ["reference", "issuing_body"])
    of_case(InformationRequest, ["purpose", "reason"])
    of_case(AuthorityReferral, ["reference"])
    of_case(ExceptionalDisclosure, ["justification", "rejection_reason", "snapshot"])
    of_case(FollowUp, ["note"])


@transaction.atomic
def pseudonymise(*, review: RetentionReview) -> bool:
    """Pseudonymise one confirmed case and mark it; False when there is nothing (more) to do."""
    locked = RetentionReview.objects.select_for_update().select_related("case__participant").get(pk=review.pk)
    if locked.status != RetentionReview.Status.CONFIRMED:
        return False
    case = locked.case
    if case.stage != Stage.CLOSED:  # re-opened after the confirmation: keep it, the manager decides again
        return False
    with pghistory.context(purpose="retention", review=locked.pk):
        _core(case)
        for fn in PSEUDONYMISERS:
            fn(case)
        locked.status, locked.pseudonymised_at = RetentionReview.Status.PSEUDONYMISED, timezone.now()
        locked.save(update_fields=["status", "pseudonymised_at"])
    return True


def confirmed_reviews() -> QuerySet[RetentionReview]:
    return RetentionReview.objects.filter(status=RetentionReview.Status.CONFIRMED).order_by("pk")
