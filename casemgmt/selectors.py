"""Reads that span relations, for pages and the API. Scope always comes from casemgmt.access."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Exists, Func, JSONField, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Concat, JSONObject
from django.utils import timezone

from accounts.models import City, Organisation, User

from .access import GROUP_FIELDS, G, allowed_list_filters, cases_visible_to
from .crypto import national_id_hash, normalize_national_id  # noqa: F401  (imports use it)
from .models import Case, CaseTeamMember

SORTS = {
    "code": ("participant__case_code",),
    "-code": ("-participant__case_code",),
    "name": ("participant__family_name_latin", "participant__given_name_latin"),
    "stage": ("stage", "-updated_at"),
    "-updated": ("-updated_at",),
    "referral": ("referral_date",),
    "-referral": ("-referral_date",),
}
DEFAULT_SORT = "-updated"


def participant_by_national_id(value: str, *, organisation_id: int | None = None):
    """The participant with this national ID (as typed: normalised here), among the cases of one
    organisation when given. The one lookup by national ID outside the case search: through the keyed
    hash (the column itself is encrypted, issue 11)."""
    from .models import Participant

    digest = national_id_hash(value or "")
    if not digest:
        return None
    rows = Participant.objects.filter(national_id_hash=digest)
    if organisation_id is not None:
        rows = rows.filter(case__organisation_id=organisation_id)
    return rows.order_by("pk").first()


def _lead_rows():
    return CaseTeamMember.objects.filter(case=OuterRef("pk"), is_lead=True)


_LEAD_NAME = Concat("user__first_name", Value(" "), "user__last_name")
_LEAD_COLUMNS = {
    "id": lambda: Subquery(_lead_rows().values("user_id")[:1]),
    "name": lambda: Subquery(_lead_rows().annotate(n=_LEAD_NAME).values("n")[:1]),
    "email": lambda: Subquery(_lead_rows().values("user__email")[:1]),
    # the three in one subquery, as the API writes the lead: {"id", "name", "email"} or None
    "object": lambda: Subquery(
        _lead_rows().annotate(j=JSONObject(id="user_id", name=_LEAD_NAME, email="user__email")).values("j")[:1],
        output_field=JSONField(),
    ),
}


def case_list(
    *,
    user: User,
    query: str = "",
    stage: str = "",
    city: str = "",
    referral_source: str = "",
    lead: int | None = None,
    risk_band: str = "",
    overdue: bool = False,
    sort: str = DEFAULT_SORT,
    columns: tuple[str, ...] | None = None,
    lead_columns: tuple[str, ...] = ("id", "name", "email"),
) -> QuerySet[Case]:
    """The case list for one user: scope, search, filters, sort; one query per page.

    `columns`: the only fields to load (`only()` paths, e.g. `participant__case_code`), so a list does
    not fetch or decrypt what it does not show; None loads whole rows. `lead_columns`: which of the
    lead's `lead_id`, `lead_name`, `lead_email`, `lead_object` (the three as one JSON object) to
    annotate, each a subquery per row."""
    cases = cases_visible_to(user).with_list_relations()
    if columns is not None:
        # the relations of with_list_relations stay joined (their keys alone, when no column asks more)
        cases = cases.only("participant__city__id", "organisation__id", *columns)
    cases = cases.annotate(**{f"lead_{name}": _LEAD_COLUMNS[name]() for name in lead_columns})
    query = " ".join(query.split())
    if query:
        # Normalised by the same database function as the stored column: accents, case, Arabic
        # diacritics and letter variants do not matter; a trigram index serves the LIKE.
        normalized = Func(Value(query), function="casemgmt_normalize", output_field=TextField())
        condition = Q(participant__search_text__contains=normalized)
        if "national_id" in allowed_list_filters(user):
            # the ID is encrypted: an exact match of its keyed hash (normalised: spaces, case)
            condition |= Q(participant__national_id_hash=national_id_hash(query))
        cases = cases.filter(condition)
    if stage:
        cases = cases.filter(stage=stage)
    if city:
        cases = cases.filter(participant__city__code=city)
    if referral_source:
        cases = cases.filter(referral_source=referral_source)
    if lead:
        cases = cases.filter(Exists(_lead_rows().filter(user_id=lead)))
    if risk_band and "risk_band" in allowed_list_filters(user):
        # the current band is the one of the latest assessment: the case row's summary of its
        # assessments (casefile.case_assessment_summary), in the (organisation, stage) index
        cases = cases.filter(latest_risk_band=risk_band)
    if overdue:
        # cases with a follow-up past its due date and not done (escalated ones included)
        from .followup_models import OPEN_STATUSES, FollowUp

        late = FollowUp.objects.filter(case=OuterRef("pk"), status__in=OPEN_STATUSES, due_on__lt=timezone.localdate())
        cases = cases.filter(Exists(late))
    return cases.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]), "pk")


def case_team(case: Case) -> QuerySet[CaseTeamMember]:
    return case.team.select_related("user").order_by("-is_lead", "role", "user__last_name")


def case_lead(case: Case) -> User | None:
    member = case.team.filter(is_lead=True).select_related("user").first()
    return member.user if member else None


# --- Change history -----------------------------------------------------------------


@dataclass
class HistoryEntry:
    at: datetime.datetime
    user: User | None
    record: str  # "participant", "case", "team"
    action: str  # "created", "changed", "added", "removed"
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field label, old, new)
    subject: str = ""  # for team rows: whom it is about
    seq: int = 0  # the event id: orders events written in the same transaction


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def case_history(*, case: Case, groups: frozenset[str], user: User | None = None) -> list[HistoryEntry]:
    """Who changed what on a case, newest first, showing only fields in `groups`.

    Reads the trigger-written pghistory tables, so changes made by QuerySet.update()
    or raw SQL appear too. With `user`, the case-file rows that user may read are included
    (a restricted note shows only to its author and the lead, here as everywhere).
    """
    fields = {name for group in groups - {G.TEAM} for name in GROUP_FIELDS[group]}
    participant_events = apps.get_model("casemgmt", "ParticipantEvent")
    case_events = apps.get_model("casemgmt", "CaseEvent")
    team_events = apps.get_model("casemgmt", "CaseTeamMemberEvent")

    streams = [
        (
            "participant",
            list(
                participant_events.objects.filter(pgh_obj_id=case.participant_id)
                .select_related("pgh_context")
                .order_by("pgh_id")
            ),
        ),
        ("case", list(case_events.objects.filter(pgh_obj_id=case.pk).select_related("pgh_context").order_by("pgh_id"))),
    ]
    team = []
    if G.TEAM in groups:
        team = list(team_events.objects.filter(case_id=case.pk).select_related("pgh_context").order_by("pgh_id"))

    user_ids = {_event_user_id(e) for _, events in streams for e in events} | {_event_user_id(e) for e in team}
    user_ids |= {e.user_id for e in team}
    users = User.objects.in_bulk([uid for uid in user_ids if uid])
    cities = {c.pk: c.name for c in City.objects.all()} if "city" in fields else {}
    organisations = dict(Organisation.objects.values_list("pk", "name")) if "referring_organisation" in fields else {}
    lookups = {"city": cities, "referring_organisation": organisations}

    entries: list[HistoryEntry] = []
    for record, events in streams:
        model = Case if record == "case" else apps.get_model("casemgmt", "Participant")
        tracked = [f for f in model._meta.concrete_fields if f.name in fields]
        previous = None
        for event in events:
            changes = []
            for f in tracked:
                new = getattr(event, f.attname)
                old = getattr(previous, f.attname) if previous is not None else None
                if previous is None or old != new:
                    table = lookups.get(f.name)
                    changes.append(
                        (
                            _label(model, f.name),
                            table.get(old, old) if table else old,
                            table.get(new, new) if table else new,
                        )
                    )
            action = "created" if previous is None else "changed"
            previous = event
            if changes:
                entries.append(
                    HistoryEntry(
                        event.pgh_created_at,
                        users.get(_event_user_id(event)),
                        record,
                        action,
                        changes,
                        seq=event.pgh_id,
                    )
                )
    for event in team:
        subject = users.get(event.user_id)
        action = {"insert": "added", "delete": "removed"}.get(event.pgh_label, "changed")
        details = [
            (_label(CaseTeamMember, "role"), None, event.get_role_display()),
            (_label(CaseTeamMember, "is_lead"), None, event.is_lead),
        ]
        entries.append(
            HistoryEntry(
                event.pgh_created_at,
                users.get(_event_user_id(event)),
                "team",
                action,
                details,
                subject=subject.get_full_name() if subject else "",
                seq=event.pgh_id,
            )
        )
    if user is not None:
        entries += _record_history(case=case, groups=groups, user=user, users=users)
    entries.sort(key=lambda e: (e.at, e.seq), reverse=True)
    return entries


RECORD_HISTORY_FIELDS = {
    "assessment": ("assessed_on", "risk_band", "summary"),
    "outcome": (
        "kind",
        "due_on",
        "recorded_on",
        "education",
        "employment",
        "housing",
        "family",
        "reoffended",
        "relapse",
    ),
}


def _record_history(*, case: Case, groups: frozenset[str], user: User, users: dict) -> list[HistoryEntry]:
    from .access import RECORD_RULES, REGISTERED_HISTORY_FIELDS, record_model, rows_condition
    from .casefile_services import WRITABLE_FIELDS

    entries: list[HistoryEntry] = []
    for key, rule in RECORD_RULES.items():
        if not rule.opened_by(groups):
            continue
        model = record_model(key)
        names = RECORD_HISTORY_FIELDS.get(key) or WRITABLE_FIELDS.get(key) or REGISTERED_HISTORY_FIELDS.get(key, ())
        if not names:
            continue
        # Each version is judged by the same rule as a live row (its visibility, author, kind and domain
        # are in the version), so a note that was restricted then shows none of its restricted versions.
        events = list(
            apps.get_model(model._meta.app_label, f"{model.__name__}Event")
            .objects.filter(rows_condition(user, key), case_id=case.pk)
            .select_related("pgh_context")
            .order_by("pgh_obj_id", "pgh_id")
        )
        missing = {_event_user_id(e) for e in events} - set(users)
        if missing - {None}:
            users.update(User.objects.in_bulk([uid for uid in missing if uid]))
        fields = [model._meta.get_field(n) for n in names]
        previous = None
        for event in events:
            if previous is not None and previous.pgh_obj_id != event.pgh_obj_id:
                previous = None
            changes = []
            for f in fields:
                new = getattr(event, f.attname)
                old = getattr(previous, f.attname) if previous is not None else None
                if previous is None or old != new:
                    changes.append((str(f.verbose_name), old, new))
            if changes:
                entries.append(
                    HistoryEntry(
                        event.pgh_created_at,
                        users.get(_event_user_id(event)),
                        str(model._meta.verbose_name),
                        "created" if previous is None else "changed",
                        changes,
                        seq=event.pgh_id,
                    )
                )
            previous = event
    return entries


def _event_user_id(event) -> int | None:
    context = event.pgh_context
    if context is None:
        return None
    user = context.metadata.get("user")
    return int(user) if user is not None else None
