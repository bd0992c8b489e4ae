"""Reads for the data-protection officer (the organisation's `auditor`) and managers: filtered and
sorted access and disclosure logs, grants and mandates with their expiries, anomalies counted in SQL,
and the change history of a case as who/when/what kind of record, never a value.

Scope always comes from `casemgmt.access`; nothing here loads case content (case codes only).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db.models import CharField, Count, DateTimeField, F, IntegerField, Max, Min, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat, ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from accounts.models import User

from . import access
from .models import Case

ACCESS_SORTS = {
    "-at": ("-at", "-pk"),
    "at": ("at", "pk"),
    "user": ("user__username", "-at", "-pk"),
    "case": ("case_code", "-at", "-pk"),
}
DISCLOSURE_SORTS = {
    **ACCESS_SORTS,
    "authority": ("organisation__name", "-at", "-pk"),
}


@dataclass(frozen=True)
class LogFilters:
    since: datetime.date | None = None
    until: datetime.date | None = None
    user: int | None = None
    case_code: str = ""
    organisation: int | None = None
    channel: str = ""
    basis: str = ""  # disclosure log only
    sort: str = "-at"
    invalid: bool = False


def case_ref(user: User):
    """How a log row names its case for this reader. Managers read the case code; the auditor gets no
    case code (handbook section 4, "case code: DPO —") and names cases by their internal number."""
    if access.has_role(user, "manager"):
        return F("case__participant__case_code")
    return Concat(Value("#"), Cast("case_id", CharField()))


def _case_filter(rows: QuerySet, value: str, user: User) -> QuerySet:
    value = value.strip().upper()
    number = value.lstrip("#")
    if number.isdigit() and len(number) <= 18:
        return rows.filter(case_id=int(number))
    if access.has_role(user, "manager"):
        return rows.filter(case__participant__case_code=value)
    return rows.none()


def _common(rows: QuerySet, f: LogFilters, user: User) -> QuerySet:
    if f.invalid:
        rows = rows.none()
    if f.since:
        rows = rows.filter(at__date__gte=f.since)
    if f.until:
        rows = rows.filter(at__date__lte=f.until)
    if f.user:
        rows = rows.filter(user_id=f.user)
    if f.case_code:
        rows = _case_filter(rows, f.case_code, user)
    if f.organisation:
        rows = rows.filter(organisation_id=f.organisation)
    if f.channel:
        rows = rows.filter(channel=f.channel)
    # the case reference is read as a column: the participant row (names) is never loaded
    return rows.annotate(case_code=case_ref(user))


def access_log(user: User, f: LogFilters) -> QuerySet:
    """Reads of the organisation's cases (and by its staff), filtered and sorted; one query per page."""
    rows = _common(access.access_logs_visible_to(user), f, user).select_related("user", "organisation")
    return rows.order_by(*ACCESS_SORTS.get(f.sort, ACCESS_SORTS["-at"]))


def disclosure_log(user: User, f: LogFilters) -> QuerySet:
    """What authorities read of the organisation's cases, filtered and sorted; one query per page."""
    rows = _common(access.disclosure_logs_visible_to(user), f, user).select_related("user", "organisation")
    if f.basis:
        rows = rows.filter(basis__contains=[f.basis])
    return rows.order_by(*DISCLOSURE_SORTS.get(f.sort, DISCLOSURE_SORTS["-at"]))


# --- Grants and mandates -----------------------------------------------------------------------

EXPIRING_DAYS = 30
GRANT_STATES = ("current", "expiring", "ended")


def authority_consents(user: User, *, state: str = "", today: datetime.date | None = None) -> QuerySet:
    """Consents naming an authority, with the case code and recipient; metadata only (no purpose text)."""
    today = today or timezone.localdate()
    rows = access.authority_consents_visible_to(user)
    current = Q(withdrawn_on__isnull=True, given_on__lte=today) & (
        Q(expires_on__isnull=True) | Q(expires_on__gte=today)
    )
    if state == "current":
        rows = rows.filter(current)
    elif state == "expiring":
        rows = rows.filter(current, expires_on__lte=today + datetime.timedelta(days=EXPIRING_DAYS))
    elif state == "ended":
        rows = rows.filter(Q(withdrawn_on__isnull=False) | Q(expires_on__lt=today))
    return (
        rows.annotate(case_code=case_ref(user), recipient_name=F("recipient__name"))
        .only("pk", "case_id", "categories", "given_on", "expires_on", "withdrawn_on", "recorded_by_id")
        .order_by(F("expires_on").asc(nulls_last=True), "pk")
    )


def mandates(user: User, *, state: str = "", today: datetime.date | None = None) -> QuerySet:
    """Legal mandates of the organisation's cases: kind, authority, dates (not the court reference)."""
    today = today or timezone.localdate()
    rows = access.mandates_visible_to(user)
    current = Q(revoked_on__isnull=True, starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if state == "current":
        rows = rows.filter(current)
    elif state == "expiring":
        rows = rows.filter(current, ends_on__lte=today + datetime.timedelta(days=EXPIRING_DAYS))
    elif state == "ended":
        rows = rows.filter(Q(revoked_on__isnull=False) | Q(ends_on__lt=today))
    return (
        rows.annotate(case_code=case_ref(user), authority_name=F("authority__name"))
        .only("pk", "case_id", "kind", "starts_on", "ends_on", "revoked_on")
        .order_by(F("ends_on").asc(nulls_last=True), "pk")
    )


# --- Anomalies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnomalySettings:
    window_minutes: int
    distinct_cases: int
    lookback_days: int
    office_hours: tuple[int, int]

    @classmethod
    def from_settings(cls) -> AnomalySettings:
        return cls(
            window_minutes=settings.DPO_ANOMALY_WINDOW_MINUTES,
            distinct_cases=settings.DPO_ANOMALY_DISTINCT_CASES,
            lookback_days=settings.DPO_ANOMALY_LOOKBACK_DAYS,
            office_hours=tuple(settings.DPO_OFFICE_HOURS),
        )


def bulk_readers(user: User, conf: AnomalySettings, *, now: datetime.datetime | None = None) -> QuerySet:
    """Users who read at least `distinct_cases` different cases within one window of `window_minutes`
    (fixed windows aligned on the epoch), over the last `lookback_days`: one grouped query."""
    now = now or timezone.now()
    seconds = conf.window_minutes * 60
    window = RawSQL(
        "to_timestamp(floor(extract(epoch from casemgmt_accesslog.at) / %s) * %s)",
        (seconds, seconds),
        output_field=DateTimeField(),
    )
    return (
        access.access_logs_visible_to(user)
        .filter(at__gte=now - datetime.timedelta(days=conf.lookback_days))
        .annotate(window=window)
        .values("user_id", "user__username", "user__first_name", "user__last_name", "window")
        .annotate(cases=Count("case_id", distinct=True), reads=Count("id"), first=Min("at"), last=Max("at"))
        .filter(cases__gte=conf.distinct_cases)
        .order_by("-window", "-cases")
    )


def off_hours_authority_reads(user: User, conf: AnomalySettings, *, now: datetime.datetime | None = None) -> QuerySet:
    """Authority reads of the organisation's cases outside office hours or at the weekend (local time),
    per authority user: counts in one grouped query."""
    now = now or timezone.now()
    start, end = conf.office_hours
    tz = timezone.get_current_timezone()
    return (
        access.disclosure_logs_visible_to(user)
        .filter(at__gte=now - datetime.timedelta(days=conf.lookback_days))
        .annotate(hour=ExtractHour("at", tzinfo=tz), weekday=ExtractIsoWeekDay("at", tzinfo=tz))
        .filter(Q(hour__lt=start) | Q(hour__gte=end) | Q(weekday__gte=6))
        .values("user_id", "client_id", "user__username", "organisation__name")
        .annotate(reads=Count("id"), cases=Count("case_id", distinct=True), first=Min("at"), last=Max("at"))
        .order_by("-reads", "user_id")
    )


# --- Change history without values ------------------------------------------------------------


def _event_models():
    import pghistory.models

    return [m for m in apps.get_models() if issubclass(m, pghistory.models.Event)]


def _case_path(tracked) -> str | None:
    """How a tracked model's rows reach their case: "" for Case itself, "participant" for the
    participant, "case" for case-bound rows, "<fk>__case" one hop away (assessment answers, goal progress)."""
    names = {f.name: f for f in tracked._meta.concrete_fields}
    if tracked is Case:
        return ""
    if tracked._meta.label == "casemgmt.Participant":
        return "participant"
    if "case" in names:
        return "case"
    for f in names.values():
        target = f.related_model if f.many_to_one else None
        if target is not None and target is not Case and any(g.name == "case" for g in target._meta.concrete_fields):
            return f"{f.name}__case"
    return None


def case_change_events(case: Case) -> QuerySet:
    """Every history row of the case and of its records, in one UNION query: when, which kind of record,
    inserted / updated / deleted, and the acting user's id. No field, no value."""
    parts = []
    for event_model in _event_models():
        tracked = event_model.pgh_tracked_model
        path = _case_path(tracked)
        if path is None:
            continue
        if path == "":
            rows = event_model.objects.filter(pgh_obj_id=case.pk)
        elif path == "participant":
            rows = event_model.objects.filter(pgh_obj_id=case.participant_id)
        else:
            rows = event_model.objects.filter(**{f"{path}_id": case.pk})
        parts.append(
            rows.annotate(
                record=Value(tracked._meta.label_lower, output_field=CharField()),
                by=Cast(KeyTextTransform("user", "pgh_context__metadata"), IntegerField()),
            ).values("pgh_created_at", "pgh_id", "record", "pgh_label", "by")
        )
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-pgh_created_at", "-pgh_id")


def record_labels() -> dict[str, str]:
    return {m.pgh_tracked_model._meta.label_lower: str(m.pgh_tracked_model._meta.verbose_name) for m in _event_models()}
