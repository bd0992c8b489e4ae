"""One chronological view of a case, filtered by what the viewer may see.

Each source gives the newest events of one kind for (user, case), already filtered through
`casemgmt.access`. Query sources (`register_query`) give their rows and, through `columns()`, the
same six columns (`ev_at`, `ev_pk`, `ev_code`, `ev_text`, `ev_extra`, `ev_flag`); all of them are merged, ordered and
cut in ONE SQL statement (UNION ALL), so a page costs one query however many kinds there are.
Python sources (`register`) give events directly and are merged afterwards. Apps to the right
(mentoring, counselling, placements) register their sources in AppConfig.ready(); this module
imports none of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, CharField, DateTimeField, F, QuerySet, Value
from django.db.models.functions import Cast, Left
from django.utils.translation import gettext as _

from accounts.models import User

from . import access
from .access import G
from .casefile import Assessment, Consent, LegalEvent, Note, Outcome, RelapseEvent, ServiceReferral
from .models import Case, StageChange
from .urlcache import pk_url


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime.datetime
    kind: str  # a stable key: "stage", "note", "assessment"...
    title: str
    detail: str = ""
    url: str = ""


Source = Callable[[User, Case, int], Iterable[TimelineEvent]]
SOURCES: list[Source] = []


@dataclass(frozen=True)
class QuerySource:
    kind: str
    rows: Callable[[User, Case], tuple[QuerySet, dict] | None]  # `columns(...)`; None: nothing to see
    event: Callable[[dict, Case], TimelineEvent]


QUERY_SOURCES: list[QuerySource] = []
NOTE_PREVIEW = 140  # characters of a note's text on the timeline
# the output types of the columns, shared by every source (expressions only read them)
_TEXT, _FLAG = CharField(), BooleanField()
COLUMNS = ("ev_at", "ev_pk", "ev_code", "ev_text", "ev_extra", "ev_flag")


def register(source: Source) -> Source:
    """Add a Python source of events; usable as a decorator."""
    SOURCES.append(source)
    return source


def register_query(kind: str, event: Callable[[dict, Case], TimelineEvent]):
    """Add a query source (decorates the function giving its rows; see `columns`)."""

    def decorate(rows: Callable[[User, Case], tuple[QuerySet, dict] | None]):
        QUERY_SOURCES.append(QuerySource(kind, rows, event))
        return rows

    return decorate


def columns(qs: QuerySet, *, at, code="", text="", extra="", flag=False, text_length: int | None = 140):
    """The common shape of a query source: the same columns, in the same order, for the UNION.

    `text_length=None`: the whole text, for an encrypted column (the database cannot cut a ciphertext:
    the source's event decrypts and cuts it)."""
    try:
        return qs, _spec(at, code, text, extra, flag, text_length)
    except TypeError:  # an argument that cannot be a cache key: built for this call only
        return qs, _spec.__wrapped__(at, code, text, extra, flag, text_length)


@lru_cache(maxsize=256)
def _spec(at, code, text, extra, flag, text_length) -> MappingProxyType:
    """The six expressions of one shape, built once: the same objects each time, so the cache of
    compiled SELECTs (`_select_sql`) hashes them without walking them again. Read-only: Django copies
    an expression when a query resolves it, never changes the one it was given."""

    def expr(value, field):
        if isinstance(value, str):
            return Cast(F(value), field) if value else Value("", field)
        return value if hasattr(value, "resolve_expression") else Value(value, field)

    return MappingProxyType(
        {
            "ev_at": F(at) if isinstance(at, str) else at,
            "ev_pk": F("pk"),
            "ev_code": expr(code, _TEXT),
            "ev_text": Left(expr(text, _TEXT), text_length) if text_length else expr(text, _TEXT),
            "ev_extra": expr(extra, _TEXT),
            "ev_flag": expr(flag, _FLAG),
        }
    )


@lru_cache(maxsize=64)
def noon(field: str):
    """A date as midday UTC, so that dated records sort among timestamped ones."""
    return Cast(F(field), DateTimeField()) + Value(datetime.timedelta(hours=12))


def case_timeline(user: User, case: Case, *, offset: int = 0, limit: int = 50) -> list[TimelineEvent]:
    """Events newest first; each source is asked for no more than it could contribute to this page."""
    wanted = offset + limit
    parts, kinds, using = [], [], DEFAULT_DB_ALIAS
    for source in QUERY_SOURCES:
        shape = source.rows(user, case)
        if shape is not None:
            using = shape[0].db
            part = _part_sql(*shape, kind=len(kinds), wanted=wanted)
            if part is not None:
                parts.append(part)
                kinds.append(source)
    events: list[TimelineEvent] = []
    if parts:
        sql = " UNION ALL ".join(part_sql for part_sql, _params in parts)
        params = [param for _sql, part_params in parts for param in part_params]
        with connections[using].cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY 1 DESC, 2 DESC, 7 LIMIT {int(wanted)}", params)  # nosec B608
            for values in cursor.fetchall():
                row = dict(zip(ROW, values, strict=True))
                events.append(kinds[row["ev_kind"]].event(row, case))
    for source in SOURCES:
        events.extend(source(user, case, wanted))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[offset:wanted]


# --- The UNION as SQL ------------------------------------------------------------------------------
# Building and compiling 15 querysets through the ORM took ~7 ms of a timeline page whose SQL runs in
# ~2. The part of each source that depends on who asks and which case (its WHERE) still comes from
# the access policy's queryset, compiled by Django's own compiler; the rest (SELECT list and FROM,
# fixed per source and shape) is compiled once and kept. A source whose queryset is more than a
# filter on its own table (joins, annotations, slices...) goes whole through the ORM instead.
# `tests/casemgmt/test_timeline.py` holds both ways equal for every demo user and case.

ROW = (*COLUMNS, "ev_kind")
_SELECTS: dict[tuple, tuple[str, tuple] | None] = {}


def _part_sql(rows: QuerySet, spec: Mapping, *, kind: int, wanted: int, fast: bool = True) -> tuple[str, list] | None:
    """One source's newest `wanted` rows as `(SQL, params)` for the UNION; None when it has none to give."""
    select = _select_sql(rows.model, spec, rows.db) if fast and _plain(rows.query) else None
    try:
        if select is None:
            part = rows.annotate(**spec).values(*COLUMNS).order_by()
            sql, params = part.query.sql_with_params()
        else:
            sql, select_params = select
            try:
                where, where_params = rows.query.get_compiler(rows.db).compile(rows.query.where)
            except FullResultSet:
                where, where_params = "", ()
            if where:
                sql = f"{sql} WHERE {where}"
            params = (*select_params, *where_params)
    except EmptyResultSet:
        return None
    # Django's compiled SQL with its placeholders; the only values written in are two integers
    order = f"ORDER BY 1 DESC, 2 DESC LIMIT {int(wanted)}"
    return f"(SELECT ev.*, {int(kind)} AS ev_kind FROM ({sql} {order}) AS ev)", list(params)  # noqa: S608  # nosec B608


def _plain(query) -> bool:
    """A filter on the model's own table and nothing else: its WHERE can stand under any SELECT of
    that table."""
    return (
        not query.annotations
        and not query.extra
        and not query.distinct
        and not query.combinator
        and query.group_by is None
        and query.low_mark == 0
        and query.high_mark is None
        and not query.select_for_update
        and all(count == 0 for alias, count in query.alias_refcount.items() if alias != query.base_table)
    )


def _select_sql(model, spec: Mapping, using: str) -> tuple[str, tuple] | None:
    """`SELECT <the six columns> FROM <the model's table>` for one shape of source, compiled once.

    None (go through the ORM) when Django would convert the values it reads, or when the columns do
    not come out in the UNION's order."""
    key = (model, using, tuple(spec.items()))  # expressions compare and hash by their identity
    if key not in _SELECTS:
        query = model._base_manager.annotate(**spec).values(*COLUMNS).order_by().query
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        names = tuple(alias for _expr, _sql, alias in compiler.select)
        converters = compiler.get_converters([expr for expr, _sql, _alias in compiler.select])
        plain = names == COLUMNS and not converters and " WHERE " not in sql
        _SELECTS[key] = (sql, tuple(params)) if plain else None
    return _SELECTS[key]


def _url(case: Case, slug: str) -> Callable[[int], str]:
    """The detail address of a record of the case, reversed once (urlcache.pk_url), not per event."""
    return pk_url("casefile-detail", case.pk, slug)


@lru_cache(maxsize=64)
def _labels(model, field: str) -> dict:
    return dict(model._meta.get_field(field).flatchoices)  # lazy labels: translated where shown


def _display(model, field: str) -> Callable[[str], str]:
    labels = _labels(model, field)
    return lambda value: str(labels.get(value, value))


def _rows(key: str, user: User, case: Case) -> QuerySet:
    return access.case_records_visible_to(user, case, key)


def _stage_event(row: dict, case: Case) -> TimelineEvent:
    stage = _display(StageChange, "to_stage")(row["ev_code"])
    title = _("Re-opened: %(stage)s") if row["ev_flag"] else _("Stage: %(stage)s")
    return TimelineEvent(row["ev_at"], "stage", title % {"stage": stage}, detail=row["ev_text"])


@register_query("stage", _stage_event)
def stage_changes(user: User, case: Case) -> tuple[QuerySet, dict] | None:
    if G.STAGE not in access.visible_groups(user, case):
        return None
    reason = "reason" if access.stage_reasons_visible(user, case) else ""
    return columns(
        StageChange.objects.filter(case=case),
        at="changed_at",
        code="to_stage",
        text=reason,
        flag=F("is_reopening"),
        text_length=2000,
    )


def _record_event(kind: str, slug: str, model, title: Callable[[dict, Callable], str], detail=None):
    """The event of one row of a case-file record: its title, its detail, a link to it."""

    has_kind = any(f.name == "kind" for f in model._meta.fields)

    def event(row: dict, case: Case) -> TimelineEvent:
        label = _display(model, "kind") if has_kind else str
        return TimelineEvent(
            row["ev_at"],
            kind,
            title(row, label),
            detail=detail(row) if detail else row["ev_text"],
            url=_url(case, slug)(row["ev_pk"]),
        )

    return event


@register_query(
    "assessment",
    _record_event(
        "assessment",
        "assessments",
        Assessment,
        lambda row, _label: (
            _("Assessment: risk band %(band)s") % {"band": _display(Assessment, "risk_band")(row["ev_code"])}
        ),
    ),
)
def assessments(user: User, case: Case) -> tuple[QuerySet, dict]:
    return columns(_rows("assessment", user, case), at=noon("assessed_on"), code="risk_band")


@register_query(
    "note",
    _record_event(
        "note",
        "notes",
        Note,
        lambda row, label: label(row["ev_code"]) + ("" if row["ev_flag"] else f" ({_('missed')})"),
        detail=lambda row: Note._meta.get_field("text").decrypt_stored(row["ev_text"])[:NOTE_PREVIEW],
    ),
)
def notes(user: User, case: Case) -> tuple[QuerySet, dict]:
    # the text is encrypted at rest: fetched whole, decrypted and cut in Python
    return columns(
        _rows("note", user, case), at=noon("date"), code="kind", text="text", flag=F("held"), text_length=None
    )


@register_query(
    "legal_event",
    _record_event("legal_event", "legal-events", LegalEvent, lambda row, label: label(row["ev_code"])),
)
def legal_events(user: User, case: Case) -> tuple[QuerySet, dict]:
    return columns(_rows("legal_event", user, case), at=noon("date"), code="kind", text="description")


@register_query(
    "relapse_event",
    _record_event("relapse_event", "relapse-events", RelapseEvent, lambda row, label: label(row["ev_code"])),
)
def relapse_events(user: User, case: Case) -> tuple[QuerySet, dict]:
    return columns(_rows("relapse_event", user, case), at=noon("date"), code="kind", text="description")


@register_query(
    "consent",
    _record_event(
        "consent", "consents", Consent, lambda row, _l: _("Consent given: %(purpose)s") % {"purpose": row["ev_code"]}
    ),
)
def consents_given(user: User, case: Case) -> tuple[QuerySet, dict]:
    return columns(_rows("consent", user, case), at=noon("given_on"), code="purpose")


@register_query(
    "consent",
    _record_event(
        "consent",
        "consents",
        Consent,
        lambda row, _l: _("Consent withdrawn: %(purpose)s") % {"purpose": row["ev_code"]},
    ),
)
def consents_withdrawn(user: User, case: Case) -> tuple[QuerySet, dict]:
    rows = _rows("consent", user, case).filter(withdrawn_on__isnull=False)
    return columns(rows, at=noon("withdrawn_on"), code="purpose")


@register_query(
    "service_referral",
    _record_event(
        "service_referral",
        "service-referrals",
        ServiceReferral,
        lambda row, label: _("Referred to %(service)s") % {"service": label(row["ev_code"])},
        detail=lambda row: f"{row['ev_text']} — {_display(ServiceReferral, 'status')(row['ev_extra'])}",
    ),
)
def service_referrals(user: User, case: Case) -> tuple[QuerySet, dict]:
    return columns(
        _rows("service_referral", user, case), at=noon("referred_on"), code="kind", text="provider", extra="status"
    )


@register_query(
    "outcome",
    _record_event(
        "outcome",
        "outcomes",
        Outcome,
        lambda row, label: _("Outcome recorded: %(kind)s") % {"kind": label(row["ev_code"])},
    ),
)
def outcomes(user: User, case: Case) -> tuple[QuerySet, dict]:
    rows = _rows("outcome", user, case).filter(recorded_on__isnull=False)
    return columns(rows, at=noon("recorded_on"), code="kind")
