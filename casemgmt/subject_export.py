"""The data-subject export: everything held about one participant, as JSON and as a printable page.

The core builds its own sections; the apps to the right add theirs through `register_section` in
their `AppConfig.ready()` (the core imports none of them). Confidential mentoring and counselling notes
are listed by date and author only, as held under professional secrecy: a section never loads their
text (`confidential_listing`). Restricted case notes are included: they are about the participant.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Iterable
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .dpo_models import SubjectExportRequest
from .models import Case

# key -> fn(case) -> JSON-able data (a list of rows or a dict); the order is the order of the export
SECTIONS: dict[str, Callable[[Case], Any]] = {}
SECRECY_NOTE = "Held under professional secrecy: listed by date and author only, content not included."


def register_section(key: str, build: Callable[[Case], Any]) -> Callable[[Case], Any]:
    """Add a section to every export (`build(case)` returns lists of dicts, dicts or scalars)."""
    SECTIONS[key] = build
    return build


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.username


def value_of(obj: models.Model, f: models.Field) -> Any:
    """One field as the participant should read it: labels for choices, names for people and
    organisations, ISO dates, file names rather than storage paths."""
    if f.many_to_one or f.one_to_one:
        related = getattr(obj, f.name)
        if related is None:
            return None
        if related.__class__.__name__ == "User":
            return _person(related)
        if hasattr(related, "name"):
            return related.name
        return related.pk
    value = getattr(obj, f.attname)
    if isinstance(f, models.FileField):
        return None  # the storage path says nothing more than `original_name`; files are listed as metadata
    if f.choices and not isinstance(value, list | tuple):
        return str(dict(f.flatchoices).get(value, value)) if value not in (None, "") else value
    if isinstance(f, models.JSONField):
        return value
    if isinstance(value, list | tuple):
        choices = dict(f.base_field.flatchoices) if getattr(f, "base_field", None) is not None else {}
        return [str(choices.get(v, v)) for v in value]
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def row(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every concrete field of a row (minus `exclude`), by its verbose name's field key."""
    skip = {"search_text", *exclude}
    return {f.name: value_of(obj, f) for f in obj._meta.concrete_fields if f.name not in skip}


def rows(queryset: Iterable[models.Model], *, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    return [row(obj, exclude=exclude) for obj in queryset]


def confidential_listing(notes: Iterable[tuple[Any, Any]]) -> dict[str, Any]:
    """(date, author) pairs of confidential notes, never their text."""
    return {
        "note": SECRECY_NOTE,
        "notes": [{"date": value_of_date(day), "author": _person(author)} for day, author in notes],
    }


def value_of_date(day) -> str | None:
    return day.isoformat() if day is not None else None


def build(case: Case, *, by=None) -> dict[str, Any]:
    """The whole export of one case, sections in order; `by` is who produced it (for the header)."""
    data: dict[str, Any] = {
        "export": {
            "case_code": case.participant.case_code,
            "organisation": case.organisation.name,
            "produced_at": timezone.now().isoformat(),
            "produced_by": _person(by),
        }
    }
    for key, section in SECTIONS.items():
        data[key] = section(case)
    return data


# --- The core's sections -----------------------------------------------------------------------


def _core_sections() -> None:
    from . import casefile
    from .boundary_models import (
        AuthorityReferral,
        DisclosureLog,
        ExceptionalDisclosure,
        InformationRequest,
        LegalMandate,
    )
    from .models import CaseTeamMember, CaseTransfer, StageChange

    def of_case(model, *, exclude=(), related=()):
        return lambda case: rows(
            model.objects.filter(case=case).select_related("recorded_by", *related), exclude=("case", *exclude)
        )

    register_section("participant", lambda case: row(case.participant))
    register_section("case", lambda case: row(case, exclude=("participant",)))
    register_section(
        "team",
        lambda case: rows(CaseTeamMember.objects.filter(case=case).select_related("user"), exclude=("case",)),
    )
    register_section(
        "stage_changes",
        lambda case: rows(
            StageChange.objects.filter(case=case).select_related("changed_by").order_by("changed_at", "pk"),
            exclude=("case",),
        ),
    )

    def assessments(case):
        result = []
        for assessment in casefile.Assessment.objects.filter(case=case).select_related("template", "recorded_by"):
            entry = row(assessment, exclude=("case",))
            entry["answers"] = [
                {**row(a, exclude=("assessment", "item")), "item": a.item.text}
                for a in assessment.answers.select_related("item").order_by("item__domain__order", "item__order")
            ]
            result.append(entry)
        return result

    register_section("assessments", assessments)

    def goals(case):
        result = []
        for goal in casefile.Goal.objects.filter(case=case).select_related("owner", "recorded_by"):
            entry = row(goal, exclude=("case",))
            entry["progress"] = rows(goal.progress.select_related("recorded_by"), exclude=("goal",))
            result.append(entry)
        return result

    register_section("goals", goals)
    # every note, restricted ones included: they are about the participant (handbook §4)
    register_section("notes", of_case(casefile.Note))
    register_section("legal_events", of_case(casefile.LegalEvent))
    register_section("relapse_events", of_case(casefile.RelapseEvent))
    register_section("safety_flags", of_case(casefile.SafetyFlag))
    register_section("conflict_history", of_case(casefile.ConflictHistory))
    register_section("consents", of_case(casefile.Consent, related=("recipient",)))
    register_section("legal_mandates", of_case(LegalMandate, related=("authority",)))
    register_section("service_referrals", of_case(casefile.ServiceReferral, related=("goal",)))
    register_section("attachments", of_case(casefile.Attachment, exclude=("file",)))
    register_section("outcomes", of_case(casefile.Outcome))
    register_section(
        "transfers",
        lambda case: rows(
            CaseTransfer.objects.filter(case=case).select_related(
                "from_organisation", "to_organisation", "requested_by", "decided_by"
            ),
            exclude=("case", "consent"),
        ),
    )

    def disclosures(case):
        # every read by an authority: when, which authority, which categories, on which basis
        return [
            {
                "at": d.at.isoformat(),
                "authority": d.organisation.name,
                "categories": list(d.categories),
                "basis": list(d.basis),
                "channel": d.get_channel_display(),
            }
            for d in DisclosureLog.objects.filter(case=case).select_related("organisation").order_by("at", "pk")
        ]

    register_section("disclosures_to_authorities", disclosures)
    register_section(
        "exceptional_disclosures",
        lambda case: rows(
            ExceptionalDisclosure.objects.filter(case=case).select_related(
                "organisation", "authority", "prepared_by", "approved_by", "delivered_by"
            ),
            exclude=("case",),
        ),
    )
    register_section(
        "information_requests",
        lambda case: rows(
            InformationRequest.objects.filter(case=case).select_related("authority", "requested_by", "decided_by"),
            exclude=("case", "consent"),
        ),
    )
    register_section(
        "authority_referral",
        lambda case: rows(
            AuthorityReferral.objects.filter(case=case).select_related("authority", "submitted_by"),
            exclude=("case",),
        ),
    )


_core_sections()


# --- Services: request, approval, download ------------------------------------------------------


@transaction.atomic
def subject_export_request(*, case: Case, by) -> SubjectExportRequest:
    """The lead asks for the export; one pending request per case."""
    with pghistory.context(user=by.pk):
        if SubjectExportRequest.objects.filter(case=case, status=SubjectExportRequest.Status.PENDING).exists():
            raise ValidationError(_("An export of this case is already waiting for the manager's approval."))
        return SubjectExportRequest.objects.create(case=case, requested_by=by)


@transaction.atomic
def subject_export_decide(*, export: SubjectExportRequest, by, approve: bool) -> SubjectExportRequest:
    """A manager of the owning organisation approves or refuses (recorded: who, when)."""
    with pghistory.context(user=by.pk):
        locked = SubjectExportRequest.objects.select_for_update().get(pk=export.pk)
        if locked.status != SubjectExportRequest.Status.PENDING:
            raise ValidationError(_("This request has already been decided."))
        locked.status = SubjectExportRequest.Status.APPROVED if approve else SubjectExportRequest.Status.REFUSED
        locked.decided_by, locked.decided_at = by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        return locked


@transaction.atomic
def subject_export_produce(*, export: SubjectExportRequest, by, channel: str, view: str) -> dict[str, Any]:
    """Build the approved export for the lead and record the read in the access log."""
    from .models import AccessLog
    from .services import access_log_record

    if export.status != SubjectExportRequest.Status.APPROVED:
        raise ValidationError(_("This export has not been approved."))
    SubjectExportRequest.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1)
    access_log_record(
        user=by,
        case=export.case,
        channel=channel or AccessLog.Channel.UI,
        view=view,
        shown=frozenset({"subject_export"}),
    )
    return build(export.case, by=by)
