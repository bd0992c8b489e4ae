"""What an authority reads of a shared case: exactly the fields of the granted categories.

The handbook's category table is the whole contract (section 4). Any basis shows the case code and
the caseworker's contact; each category adds its own fields and nothing else. Every read, by page or
API, goes through `read_cases`/`read_case`, which append the disclosure row in the same transaction.

Apps to the right register what they contribute (mentoring and counselling attendance counts for
`compliance`, the current placement for `placement`) with `register_compliance` and
`register_category`; this module imports none of them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from . import access, disclosure
from .casefile import Assessment, LegalEvent, Note
from .models import Case, CaseTeamMember

IDENTITY = "identity"
LEGAL_STATUS = "legal_status"
PROGRAM_STAGE = "program_stage"
COMPLIANCE = "compliance"
RISK_BAND = "risk_band"
PLACEMENT = "placement"

# The keys each category adds to a case (the API's response keys; the page shows the same).
ALWAYS = ("id", "case_code", "caseworker", "categories", "basis")
CATEGORY_KEYS: dict[str, tuple[str, ...]] = {
    IDENTITY: (
        "given_name_latin",
        "family_name_latin",
        "given_name_arabic",
        "family_name_arabic",
        "city",
        "date_of_birth",
        "national_id",
    ),
    LEGAL_STATUS: ("legal_status", "legal_events"),
    PROGRAM_STAGE: ("stage", "stage_entered_on", "next_review_on"),
    COMPLIANCE: ("compliance",),
    RISK_BAND: ("risk_band", "risk_band_on"),
    PLACEMENT: ("placement",),
}
# Months of compliance figures shown (the current one and the ones before it).
COMPLIANCE_MONTHS = 6
# Note kinds that are contacts the caseworker held with the participant.
CONTACT_NOTE_KINDS = (Note.Kind.VISIT, Note.Kind.CALL, Note.Kind.MEETING)

# (case ids, first month) -> iterable of (case id, month, measure, count); measures are named
# "<source>_planned" / "<source>_attended", e.g. "mentoring_attended".
ComplianceSource = Callable[[list[int], datetime.date], Iterable[tuple[int, datetime.date, str, int]]]
COMPLIANCE_SOURCES: list[ComplianceSource] = []
# category -> (case ids) -> {case id: value}; the value is what the category's key shows.
CATEGORY_SOURCES: dict[str, Callable[[list[int]], dict[int, object]]] = {}


def register_compliance(source: ComplianceSource) -> None:
    COMPLIANCE_SOURCES.append(source)


def register_category(category: str, source: Callable[[list[int]], dict[int, object]]) -> None:
    CATEGORY_SOURCES[category] = source


def session_counts(model, measure: str, *, attended: str = "attended", cancelled: str = "cancelled"):
    """A compliance source for a session model with `case`, `starts_at` and `status`: per month, the
    sessions planned (all but cancelled ones) and attended. Counts only, never content."""

    def source(case_ids: list[int], since: datetime.date):
        rows = (
            model.objects.filter(case_id__in=case_ids, starts_at__date__gte=since)
            .exclude(status=cancelled)
            .annotate(month=TruncMonth("starts_at"))
            .values("case_id", "month")
            .annotate(planned=Count("pk"), attended=Count("pk", filter=Q(status=attended)))
        )
        for row in rows:
            yield row["case_id"], row["month"], f"{measure}_planned", row["planned"]
            yield row["case_id"], row["month"], f"{measure}_attended", row["attended"]

    return source


def keys_for(categories: Iterable[str]) -> list[str]:
    """The response keys of a case opened with these categories, in a stable order."""
    keys = list(ALWAYS)
    for category, names in CATEGORY_KEYS.items():
        if category in categories:
            keys += names
    return keys


def _first_month(today: datetime.date) -> datetime.date:
    month = today.replace(day=1)
    for _ in range(COMPLIANCE_MONTHS - 1):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return month


def _contacts(case_ids: list[int], since: datetime.date):
    rows = (
        Note.objects.filter(case_id__in=case_ids, date__gte=since, kind__in=CONTACT_NOTE_KINDS)
        .annotate(month=TruncMonth("date"))
        .values("case_id", "month")
        .annotate(held=Count("pk", filter=Q(held=True)), planned=Count("pk"))
    )
    for row in rows:
        yield row["case_id"], row["month"], "caseworker_contacts_planned", row["planned"]
        yield row["case_id"], row["month"], "caseworker_contacts_held", row["held"]


def _compliance(case_ids: list[int]) -> dict[int, list[dict]]:
    since = _first_month(timezone.localdate())
    months: dict[int, dict[datetime.date, dict[str, int]]] = defaultdict(dict)
    measures: set[str] = set()
    for source in [_contacts, *COMPLIANCE_SOURCES]:
        for case_id, month, measure, count in source(case_ids, since):
            month = month.date() if isinstance(month, datetime.datetime) else month
            months[case_id].setdefault(month.replace(day=1), {})[measure] = count
            measures.add(measure)
    every_month = []
    month = since
    today = timezone.localdate()
    while month <= today:
        every_month.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return {
        case_id: [
            {"month": m.strftime("%Y-%m"), **{k: months[case_id].get(m, {}).get(k, 0) for k in sorted(measures)}}
            for m in every_month
        ]
        for case_id in case_ids
    }


def _caseworkers(case_ids: list[int]) -> dict[int, dict]:
    """The lead caseworker's contact: name, work e-mail and organisation."""
    rows = CaseTeamMember.objects.filter(case_id__in=case_ids, is_lead=True).select_related(
        "user__membership__organisation"
    )
    out = {}
    for row in rows:
        membership = row.user.membership_or_none
        out[row.case_id] = {
            "name": row.user.get_full_name(),
            "email": row.user.email,
            "organisation": membership.organisation.name if membership else "",
        }
    return out


def _legal_events(case_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for event in LegalEvent.objects.filter(case_id__in=case_ids).order_by("-date", "-pk"):
        out[event.case_id].append(
            {"id": event.pk, "kind": event.kind, "date": event.date.isoformat(), "description": event.description}
        )
    return out


def _risk(case_ids: list[int]) -> dict[int, tuple[str, datetime.date]]:
    latest = (
        Assessment.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "-assessed_on", "-pk")
        .distinct("case_id")
        .values_list("case_id", "risk_band", "assessed_on")
    )
    return {case_id: (band, on) for case_id, band, on in latest}


def _next_reviews(case_ids: list[int]) -> dict[int, datetime.date]:
    from .followup_models import FollowUp

    rows = (
        FollowUp.objects.filter(
            case_id__in=case_ids, kind__in=["reassessment", "plan_review"], status__in=["pending", "snoozed"]
        )
        .order_by("case_id", "due_on")
        .distinct("case_id")
        .values_list("case_id", "due_on")
    )
    return dict(rows)


def project(cases: list[Case], *, detail: bool) -> list[dict]:
    """The dicts an authority receives for these cases (of `access.shared_cases_for`). Lists show
    the same keys as the detail except the legal events and compliance figures, which only the
    detail shows (they are read, and logged, when opened)."""
    ids = [c.pk for c in cases]
    granted = {c.pk: access.shared_categories(c) for c in cases}
    wanted = set().union(*granted.values()) if granted else set()
    caseworkers = _caseworkers(ids)
    events = _legal_events([i for i in ids if LEGAL_STATUS in granted[i]]) if detail and LEGAL_STATUS in wanted else {}
    compliance = _compliance([i for i in ids if COMPLIANCE in granted[i]]) if detail and COMPLIANCE in wanted else {}
    risk = _risk([i for i in ids if RISK_BAND in granted[i]]) if RISK_BAND in wanted else {}
    reviews = _next_reviews([i for i in ids if PROGRAM_STAGE in granted[i]]) if PROGRAM_STAGE in wanted else {}
    placements = {}
    if PLACEMENT in wanted and PLACEMENT in CATEGORY_SOURCES:
        placements = CATEGORY_SOURCES[PLACEMENT]([i for i in ids if PLACEMENT in granted[i]])
    out = []
    for case in cases:
        categories = granted[case.pk]
        p = case.participant
        row: dict = {
            "id": case.pk,
            "case_code": p.case_code,
            "caseworker": caseworkers.get(case.pk),
            "categories": sorted(categories),
            "basis": access.shared_basis(case)[0],
        }
        if IDENTITY in categories:
            row.update(
                given_name_latin=p.given_name_latin,
                family_name_latin=p.family_name_latin,
                given_name_arabic=p.given_name_arabic,
                family_name_arabic=p.family_name_arabic,
                city=p.city.name if p.city_id else "",
                date_of_birth=p.date_of_birth.isoformat() if p.date_of_birth else None,
                national_id=p.national_id,
            )
        if LEGAL_STATUS in categories:
            row["legal_status"] = case.legal_status
            if detail:
                row["legal_events"] = events.get(case.pk, [])
        if PROGRAM_STAGE in categories:
            review = reviews.get(case.pk)
            row.update(
                stage=case.stage,
                stage_entered_on=timezone.localtime(case.stage_changed_at).date().isoformat(),
                next_review_on=review.isoformat() if review else None,
            )
        if COMPLIANCE in categories and detail:
            row["compliance"] = compliance.get(case.pk, [])
        if RISK_BAND in categories:
            band, on = risk.get(case.pk, ("", None))
            row.update(risk_band=band or None, risk_band_on=on.isoformat() if on else None)
        if PLACEMENT in categories:
            row["placement"] = placements.get(case.pk)
        out.append(row)
    return out


def list_keys(categories: Iterable[str]) -> list[str]:
    return [k for k in keys_for(categories) if k not in ("legal_events", "compliance")]


def shown_categories(row: dict) -> list[str]:
    """The categories whose fields a projected row actually carries (what the log records)."""
    return [c for c, names in CATEGORY_KEYS.items() if any(n in row for n in names)]


@transaction.atomic
def read_cases(
    cases: list[Case], *, organisation_id: int, channel: str, view: str, detail: bool, user_id=None, client_id=""
) -> list[dict]:
    """Project the cases and append one disclosure row per case, in the same transaction."""
    rows = project(cases, detail=detail)
    entries = []
    for case, row in zip(cases, rows, strict=True):
        kinds, ids = access.shared_basis(case)
        entries.append(
            {
                "organisation_id": organisation_id,
                "case_id": case.pk,
                "categories": shown_categories(row),
                "basis": kinds,
                "basis_ids": ids,
                "channel": channel,
                "view": view,
                "user_id": user_id,
                "client_id": client_id,
            }
        )
    if entries:
        disclosure.record_many(entries)
    return rows


def read_for_user(request, cases: list[Case], *, view: str, detail: bool) -> list[dict]:
    channel = "api" if request.path.startswith("/api/") else "ui"
    if getattr(request.user, "is_api_client", False):  # a partner system (issue 13): logged with its client id
        return read_cases(
            cases,
            organisation_id=request.user.organisation_id,
            channel="api",
            view=view,
            detail=detail,
            client_id=request.user.client_id,
        )
    return read_cases(
        cases,
        organisation_id=request.user.membership.organisation_id,
        channel=channel,
        view=view,
        detail=detail,
        user_id=request.user.pk,
    )


def snapshot(case: Case, categories: Iterable[str]) -> dict:
    """An exceptional disclosure's content: the chosen categories' fields as they are now (for the
    snapshot, the case is projected as if exactly those categories were granted)."""
    case.consented_categories = list(categories)
    case.basis_mandate_ids = []
    case.basis_consent_ids = []
    row = project([case], detail=True)[0]
    row.pop("basis", None)
    row["taken_at"] = timezone.now().isoformat()
    return row


def read_delivered_disclosure(request, item, *, view: str) -> dict:
    """An authority reads a delivered exceptional disclosure: its snapshot, logged on that basis."""
    disclosure.record(
        organisation_id=request.user.membership.organisation_id,
        case_id=item.case_id,
        categories=item.categories,
        basis=["exceptional"],
        basis_ids=[f"exceptional:{item.pk}"],
        channel="api" if request.path.startswith("/api/") else "ui",
        view=view,
        user_id=request.user.pk,
    )
    return item.snapshot
