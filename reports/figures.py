"""The figures of the manager dashboard (issue 12), each one aggregate SQL query.

A figure is a set of *fact rows* (cases, sessions, placements, follow-ups…), each tied to one case,
grouped by one or two *dimensions* and summarised by *measures*. The same fact rows, filtered by a
dimension key (and a measure's own condition), give the drill-down: the cases behind a figure are
`access.cases_visible_to(user)` restricted to the case ids of those rows, so a figure and its list can
never disagree and the list can never show a case the policy hides.

Every figure is scoped to one organisation: the case's *current* owner (a transferred case, its
history included, counts for the receiving NGO only).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DateField,
    DateTimeField,
    Exists,
    Expression,
    F,
    FilteredRelation,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt.boundary_models import DisclosureLog
from casemgmt.casefile import Goal, LegalEvent, Outcome, RelapseEvent, RiskBand
from casemgmt.followup_models import OPEN_STATUSES, FollowUp
from casemgmt.models import Case, CaseTeamMember, Eligibility, ExitReason, ReferralSource, Stage
from families.models import CounsellingSession, Engagement, EngagementKind, EngagementStatus, SessionKind
from families.models import SessionStatus as FamilySessionStatus
from programs.models import AssignmentStatus, CheckIn, MentorAssignment, MentoringSession, Placement, SessionStatus

# --- Filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the manager asked for: their organisation, a period (inclusive dates), and optionally one
    city, one worker (any member of the case team) and one referral source."""

    organisation_id: int
    start: datetime.date
    end: datetime.date
    city: int | None = None
    worker: int | None = None
    source: str | None = None
    today: datetime.date = field(default_factory=timezone.localdate)

    def start_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    def end_before(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min))


def case_q(f: Filters, ref: str = "") -> Q:
    """The organisation, city, worker and source conditions on the case at `ref` ("" or "case__")."""
    q = Q(**{f"{ref}organisation_id": f.organisation_id})
    if f.city:
        q &= Q(**{f"{ref}participant__city_id": f.city})
    if f.source:
        q &= Q(**{f"{ref}referral_source": f.source})
    if f.worker:
        q &= Exists(CaseTeamMember.objects.filter(case_id=OuterRef(f"{ref}id" if ref else "pk"), user_id=f.worker))
    return q


def on_day(field_name: str, f: Filters) -> Q:
    return Q(**{f"{field_name}__gte": f.start, f"{field_name}__lte": f.end})


def at_time(field_name: str, f: Filters) -> Q:
    # aware bounds, so the index on the timestamp is usable and the day is the local one
    return Q(**{f"{field_name}__gte": f.start_at(), f"{field_name}__lt": f.end_before()})


# --- SQL helpers ----------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's continuous median; NULLs are ignored, like every aggregate."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """`later - earlier` of two dates: whole days as an integer (NULL if either is NULL)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


def text(expr) -> Func:
    return Cast(expr, CharField())


def month_of_date(field_name: str) -> Func:
    return Func(F(field_name), Value("YYYY-MM"), function="to_char", output_field=CharField())


def month_of_time(field_name: str) -> Func:
    # the month in the organisation's time zone, not the database session's (UTC)
    local = Func(F(field_name), Value(settings.TIME_ZONE), template="(%(expressions)s)", arg_joiner=" AT TIME ZONE ")
    return Func(local, Value("YYYY-MM"), function="to_char", output_field=CharField())


def _month_bounds(key: str) -> tuple[datetime.date, datetime.date]:
    """The first day of the month `key` ("2026-10") and of the next one; ValueError if it is no month."""
    first = datetime.datetime.strptime(key, "%Y-%m").date()
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following


def _month_key(value) -> str:
    return NONE if value is None else value.strftime("%Y-%m")


def month_dim(field_name: str, *, title=None) -> Dim:
    """Rows by calendar month of a date field: grouped by `date_trunc` (no text per row), keyed "YYYY-MM",
    and a month's rows are a half-open range on the field, so its index serves the drill-down."""

    def match(key: str) -> Q:
        first, following = _month_bounds(key)
        return Q(**{f"{field_name}__gte": first, f"{field_name}__lt": following})

    return Dim("month", title or _("Month"), TruncMonth(field_name), key=_month_key, match=match)


def _local_midnight(day: datetime.date) -> Func:
    # the instant the day starts in the organisation's time zone, by the database's own zone rules: the
    # same rules as the month grouping's AT TIME ZONE, so a row at the edge of a month is in the month it
    # is counted in (Python's and the server's tz data may differ)
    return Func(
        Value(day.isoformat()),
        Value(settings.TIME_ZONE),
        template="(%(expressions)s)",
        arg_joiner="::timestamp AT TIME ZONE ",
        output_field=DateTimeField(),
    )


def period_months(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The first day of each calendar month from `start`'s to `end`'s."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _previous_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def month_buckets(months: list[datetime.date]) -> tuple[list[datetime.date], list[datetime.date]]:
    """For `width_bucket` over the period's months: the months whose starts are the thresholds (the
    period's and the one after), and the month of each bucket (0: before the first start, the month
    before the period)."""
    starts = [*months, _next_month(months[-1])]
    return starts, [_previous_month(months[0]), *starts]


class LocalMonth(Expression):
    """The first day of the local calendar month of a timestamp column, for the rows of one period: a
    binary search (`width_bucket`) over the instants the months start, which the database computes from
    constants with its own zone rules (`_local_midnight`'s, the drill-down's) and folds once per query,
    instead of a time-zone conversion and `date_trunc` on every row (110 -> 42 ms over 170k sessions at
    100k cases). The thresholds include the month before and after the period, so a row the period's
    bounds (computed in Python, whose zone rules may differ by an hour) let in at an edge gets the month
    `date_trunc` would give it, the one its drill-down finds it in."""

    output_field = DateField()

    def __init__(self, column, months: list[datetime.date]):
        super().__init__()
        self.column, self.months = column, list(months)

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = self.copy()
        resolved.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return resolved

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        starts, days = month_buckets(self.months)
        thresholds = ", ".join(["(%s::timestamp AT TIME ZONE %s)"] * len(starts))
        sql = f"(ARRAY[{', '.join(['%s::date'] * len(days))}])[width_bucket({column}, ARRAY[{thresholds}]) + 1]"
        start_params = [value for month in starts for value in (month.isoformat(), settings.TIME_ZONE)]
        return sql, (*(day.isoformat() for day in days), *column_params, *start_params)


def local_month_dim(field_name: str, *, title=None) -> Dim:
    """Rows by calendar month of a timestamp in the organisation's time zone (not the database session's,
    UTC), keyed "YYYY-MM"; a month's rows are a half-open range of instants (the index on the column
    serves it). Grouped by `LocalMonth` over the period's months."""

    def match(key: str) -> Q:
        first, following = _month_bounds(key)
        return Q(**{f"{field_name}__gte": _local_midnight(first), f"{field_name}__lt": _local_midnight(following)})

    def expr_of(f: Filters) -> LocalMonth:
        # a period that ends before it starts has no rows; its grouping still needs a month
        return LocalMonth(F(field_name), period_months(f.start, max(f.start, f.end)))

    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return Dim(
        "month", title or _("Month"), TruncMonth(field_name, tzinfo=zone), key=_month_key, match=match, expr_of=expr_of
    )


def ratio(numerator, denominator) -> Func:
    return Cast(numerator, FloatField()) / NullIf(Cast(denominator, FloatField()), Value(0.0))


def _user_name(prefix: str) -> Concat:
    return Concat(f"{prefix}first_name", Value(" "), f"{prefix}last_name", output_field=CharField())


# --- Figure definitions -----------------------------------------------------------------------

NONE = "none"
IN_PERIOD = _("in the period")


@dataclass(frozen=True)
class Dim:
    name: str
    title: Any
    expr: Any  # a text expression: keys are compared as strings in drill-downs (unless `match` is given)
    labels: Mapping[str, Any] | None = None  # static labels (choices)
    label_expr: Any = None  # or a label computed in the same query (a city's or a worker's name)
    order: Any = None  # how rows sort, when the text key would sort wrongly ("180" before "30")
    key: Callable[[Any], str] = str  # the row's key from the grouped value
    match: Callable[[str], Q] | None = None  # the fact rows of one key (ValueError: no such key)
    expr_of: Callable[[Filters], Any] | None = None  # `expr` for the period of the filters, if it depends on it

    def expression(self, filters: Filters):
        return self.expr if self.expr_of is None else self.expr_of(filters)


@dataclass(frozen=True)
class Measure:
    name: str
    title: Any
    expr: Any  # an aggregate over the fact rows
    kind: str = "count"  # count | rate | days | number
    where: Q | None = None  # the rows a count covers: its drill-down is restricted to them too
    drill: bool = True  # counts of cases or rows link to the cases behind them
    # a rate that is the figure's count `ratio_of[0]` over the sum of its counts `ratio_of[1]`: its total is
    # computed from theirs, so the totals row needs no GROUPING SETS (which PostgreSQL cannot run in parallel)
    ratio_of: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Figure:
    slug: str
    title: Any
    section: Any
    rows: Callable[[Filters], QuerySet]
    dims: tuple[Dim, ...]
    measures: tuple[Measure, ...]
    case_ref: str = "case_id"  # how a fact row names its case
    chart: str = "bar"  # bar | stacked | line
    period: Any = None  # how the period applies, shown under the title (default: IN_PERIOD)
    total: bool = False  # a totals row (one more query)
    charted: tuple[str, ...] = ()  # the measures drawn (default: the first); the table shows them all

    def main_measure(self) -> Measure:
        return self.measures[0]


def _count_cases(where: Q | None = None, ref: str = "case_id") -> Count:
    return Count(ref, distinct=True, filter=where)


def _count_rows(where: Q | None = None) -> Count:
    return Count("pk", filter=where)


def _choices(choices) -> dict[str, Any]:
    return dict(choices)


STAGE_DIM = Dim("stage", _("Stage"), F("stage"), _choices(Stage.choices))
SOURCE_DIM = Dim("source", _("Referral source"), F("referral_source"), _choices(ReferralSource.choices))


def _caseload(f: Filters) -> QuerySet:
    # the current caseload: every case not closed or declined, today (the period does not apply)
    return Case.objects.filter(case_q(f)).exclude(stage__in=[Stage.CLOSED, Stage.DECLINED])


def _caseload_by_lead(f: Filters) -> QuerySet:
    # the lead joined once (at most one per case: `one_lead_per_case`), not looked up per case
    return _caseload(f).alias(lead=FilteredRelation("team", condition=Q(team__is_lead=True)))


RISK_LABELS = {**_choices(RiskBand.choices), NONE: _("Not assessed")}
OUTCOME_LABELS = {**_choices(Eligibility.choices), "pending": _("Not yet decided")}
CASELOAD_NOTE = _("today, cases not closed or declined")


def _referrals(f: Filters) -> QuerySet:
    return Case.objects.filter(case_q(f), on_day("referral_date", f))


def _timeliness(f: Filters) -> QuerySet:
    # the first goal's day against the case's first assessment (its summary column): only cases with a plan
    plan_days = (
        Goal.objects.filter(case_id=OuterRef("pk"))
        .order_by("created_at")
        .annotate(days=DaysBetween(F("created_at__date"), OuterRef("first_assessed_on")))
        .values("days")[:1]
    )
    return _referrals(f).annotate(
        contact_days=DaysBetween(F("first_contact_date"), F("referral_date")),
        plan_days=Subquery(plan_days, output_field=IntegerField()),
    )


def _overdue(f: Filters) -> QuerySet:
    # open follow-ups past their date today (a snoozed one from the end of its snooze)
    return FollowUp.objects.filter(case_q(f, "case__"), status__in=OPEN_STATUSES, due_on__lt=f.today).exclude(
        snoozed_until__gte=f.today
    )


def _followup_labels() -> dict[str, Any]:
    from casemgmt import followups

    return {key: rule.label for key, rule in followups.RULES.items()}


class _LazyLabels(Mapping):
    """Labels read when first used: follow-up rules register in the apps' ready()."""

    def __init__(self, source):
        self._source = source

    def _data(self):
        return self._source()

    def __getitem__(self, key):
        return self._data()[key]

    def __iter__(self):
        return iter(self._data())

    def __len__(self):
        return len(self._data())


def _mentoring_sessions(f: Filters) -> QuerySet:
    return MentoringSession.objects.filter(case_q(f, "case__"), at_time("starts_at", f))


ATTENDED = Q(status=SessionStatus.ATTENDED)
NO_SHOW = Q(status=SessionStatus.NO_SHOW)
HOLDS_PLACE = (AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE)


def _mentor_assignments(f: Filters) -> QuerySet:
    # the mentors holding places for this organisation's cases, today
    return MentorAssignment.objects.filter(case_q(f, "case__"), status__in=HOLDS_PLACE)


def _mentor_load(output_field=None):
    # the mentor's places taken across every organisation: capacity is the mentor's, not the NGO's
    count = Count("pk") if output_field is None else Cast(Count("pk"), output_field)
    return (
        MentorAssignment.objects.filter(mentor_id=OuterRef("mentor_id"), status__in=HOLDS_PLACE)
        .order_by()
        .values("mentor_id")
        .annotate(n=count)
        .values("n")
    )


class PerGroup(Subquery):
    """A correlated subquery on grouped columns only, evaluated once per group: the GROUP BY takes the
    outer columns it refers to, not the subquery itself (which would run it for every fact row). Marked
    as an aggregate so that values().annotate() does not add it to the GROUP BY by its alias."""

    contains_aggregate = True

    def get_group_by_cols(self):
        return list(self.get_external_cols())


def _engagements(f: Filters) -> QuerySet:
    return Engagement.objects.filter(case_q(f, "case__"), on_day("started_on", f))


def _family_sessions(f: Filters) -> QuerySet:
    return CounsellingSession.objects.filter(case_q(f, "case__"), at_time("starts_at", f))


def _placements(f: Filters) -> QuerySet:
    return Placement.objects.filter(case_q(f, "case__"), on_day("started_on", f))


def _check_ins(f: Filters) -> QuerySet:
    # the check-ins of placements started in the period
    return CheckIn.objects.filter(case_q(f, "case__"), on_day("placement__started_on", f))


def _outcomes(f: Filters) -> QuerySet:
    # recorded outcomes whose point in time (the exit, or 6/12/24 months after) falls in the period
    return Outcome.objects.filter(case_q(f, "case__"), on_day("due_on", f), recorded_on__isnull=False)


OUTCOME_KIND_DIM = Dim("point", _("When"), F("kind"), _choices(Outcome.Kind.choices))
UNKNOWN_LABEL = _("Not recorded")


def _risk_movement(f: Filters) -> QuerySet:
    # cases assessed at least twice (first and latest differ) whose latest assessment falls in the period:
    # the case's own summary columns (casefile.case_assessment_summary), no look-up per case
    return Case.objects.filter(case_q(f), on_day("latest_assessed_on", f), assessment_count__gte=2)


def _exits(f: Filters) -> QuerySet:
    # the case's latest exit (a case that exited twice in the period counts once, with its last reason)
    return Case.objects.filter(case_q(f), on_day("exited_on", f)).exclude(exit_reason="")


REOFFENDING_KINDS = (LegalEvent.Kind.NEW_CHARGE, LegalEvent.Kind.CONVICTION, LegalEvent.Kind.BREACH)


def _legal_events(f: Filters) -> QuerySet:
    return LegalEvent.objects.filter(case_q(f, "case__"), on_day("date", f), kind__in=REOFFENDING_KINDS)


def _relapse_events(f: Filters) -> QuerySet:
    return RelapseEvent.objects.filter(case_q(f, "case__"), on_day("date", f))


def _post_exit(f: Filters) -> QuerySet:
    return _outcomes(f).exclude(kind=Outcome.Kind.EXIT)


def _disclosures(f: Filters) -> QuerySet:
    return DisclosureLog.objects.filter(case_q(f, "case__"), at_time("at", f))


BASIS_LABELS = _choices(DisclosureLog.Basis.choices)


def _basis_label(key: str) -> str:
    return " + ".join(str(BASIS_LABELS.get(part, part)) for part in key.split("+"))


class _BasisLabels(Mapping):
    def __getitem__(self, key):
        return _basis_label(key)

    def __iter__(self):
        return iter(BASIS_LABELS)

    def __len__(self):
        return len(BASIS_LABELS)


FIGURES: dict[str, Figure] = {}


def _register(*figures: Figure) -> None:
    for figure in figures:
        FIGURES[figure.slug] = figure


CASELOAD = _("Caseload")
REFERRALS = _("Referrals")
FOLLOW_UPS = _("Follow-ups")
MENTORING = _("Mentoring")
FAMILIES = _("Families")
PLACEMENTS = _("Placements")
OUTCOMES = _("Outcomes")
AUTHORITIES = _("Authorities")

_register(
    Figure(
        "caseload_stage",
        _("Caseload by stage"),
        CASELOAD,
        _caseload,
        (STAGE_DIM,),
        (Measure("cases", _("Cases"), _count_rows()),),
        case_ref="pk",
        period=CASELOAD_NOTE,
        total=True,
    ),
    Figure(
        "caseload_risk",
        _("Caseload by risk band"),
        CASELOAD,
        _caseload,
        (
            Dim(
                "band",
                _("Risk band (latest assessment)"),
                Coalesce(NullIf(F("latest_risk_band"), Value("")), Value(NONE)),
                RISK_LABELS,
            ),
        ),
        (Measure("cases", _("Cases"), _count_rows()),),
        case_ref="pk",
        period=CASELOAD_NOTE,
    ),
    Figure(
        "caseload_city",
        _("Caseload by city"),
        CASELOAD,
        _caseload,
        (Dim("city", _("City"), text(F("participant__city_id")), label_expr=F("participant__city__name")),),
        (Measure("cases", _("Cases"), _count_rows()),),
        case_ref="pk",
        period=CASELOAD_NOTE,
    ),
    Figure(
        "caseload_worker",
        _("Caseload by lead caseworker"),
        CASELOAD,
        _caseload_by_lead,
        (
            Dim(
                "worker",
                _("Lead caseworker"),
                Coalesce(text(F("lead__user_id")), Value(NONE)),
                labels={NONE: _("No lead")},
                # no lead: NULL (the "No lead" label), not the concatenation of two missing names
                label_expr=SqlCase(When(lead__user_id__isnull=False, then=_user_name("lead__user__"))),
            ),
        ),
        (Measure("cases", _("Cases"), _count_rows()),),
        case_ref="pk",
        period=CASELOAD_NOTE,
    ),
    Figure(
        "referrals_month",
        _("Referrals per month by source"),
        REFERRALS,
        _referrals,
        (month_dim("referral_date"), SOURCE_DIM),
        (Measure("cases", _("Referrals"), _count_rows()),),
        case_ref="pk",
        chart="stacked",
        period=_("referred in the period"),
    ),
    Figure(
        "referrals_outcome",
        _("Referrals by source and screening outcome"),
        REFERRALS,
        _referrals,
        (
            SOURCE_DIM,
            Dim(
                "outcome",
                _("Screening outcome"),
                Coalesce(NullIf(F("eligibility"), Value("")), Value("pending")),
                OUTCOME_LABELS,
            ),
        ),
        (Measure("cases", _("Referrals"), _count_rows()),),
        case_ref="pk",
        chart="stacked",
        period=_("referred in the period"),
    ),
    Figure(
        "timeliness",
        _("Days to first contact and to plan"),
        REFERRALS,
        _timeliness,
        (SOURCE_DIM,),
        (
            Measure("referred", _("Referred"), _count_rows()),
            Measure(
                "contacted",
                _("First contact made"),
                _count_rows(Q(first_contact_date__isnull=False)),
                where=Q(first_contact_date__isnull=False),
            ),
            Measure(
                "contact_days", _("Median days to first contact"), Median("contact_days"), kind="days", drill=False
            ),
            Measure(
                "planned",
                _("Plan made after an assessment"),
                _count_rows(Q(plan_days__isnull=False)),
                where=Q(plan_days__isnull=False),
            ),
            Measure(
                "plan_days",
                _("Median days from first assessment to plan"),
                Median("plan_days"),
                kind="days",
                drill=False,
            ),
        ),
        case_ref="pk",
        period=_("referred in the period"),
        total=True,
        charted=("contact_days", "plan_days"),
    ),
    Figure(
        "overdue_followups",
        _("Overdue follow-ups by kind and worker"),
        FOLLOW_UPS,
        _overdue,
        (
            Dim("kind", _("Follow-up"), F("kind"), _LazyLabels(_followup_labels)),
            Dim("worker", _("Held by"), text(F("assignee_id")), label_expr=_user_name("assignee__")),
        ),
        (Measure("follow_ups", _("Overdue follow-ups"), _count_rows()),),
        chart="stacked",
        period=_("today"),
        total=True,
    ),
    Figure(
        "mentoring_sessions",
        _("Mentoring sessions per month and attendance"),
        MENTORING,
        _mentoring_sessions,
        (local_month_dim("starts_at"),),
        (
            Measure("sessions", _("Sessions"), _count_rows()),
            Measure("attended", _("Attended"), _count_rows(ATTENDED), where=ATTENDED),
            Measure("no_show", _("No-show"), _count_rows(NO_SHOW), where=NO_SHOW),
            Measure(
                "attendance",
                _("Attendance rate (attended ÷ attended or no-show)"),
                ratio(_count_rows(ATTENDED), _count_rows(ATTENDED | NO_SHOW)),
                kind="rate",
                drill=False,
                ratio_of=("attended", ("attended", "no_show")),  # the two statuses are disjoint
            ),
        ),
        chart="line",
        total=True,
        charted=("sessions", "attended", "no_show"),
    ),
    Figure(
        "mentor_capacity",
        _("Mentor capacity use"),
        MENTORING,
        _mentor_assignments,
        (Dim("mentor", _("Mentor"), text(F("mentor_id")), label_expr=_user_name("mentor__")),),
        (
            Measure("ours", _("Places for our cases"), _count_rows()),
            # once per mentor (the group), not once per assignment row inside MAX() (12x the SQL at 100k cases)
            Measure(
                "load", _("Places taken (all organisations)"), PerGroup(_mentor_load()), kind="number", drill=False
            ),
            Measure("capacity", _("Capacity"), Max("mentor__mentor_profile__capacity"), kind="number", drill=False),
            Measure(
                "use",
                _("Capacity use"),
                PerGroup(_mentor_load(FloatField()))
                / NullIf(Cast(Max("mentor__mentor_profile__capacity"), FloatField()), Value(0.0)),
                kind="rate",
                drill=False,
            ),
        ),
        period=_("today: approved and active assignments"),
        charted=("ours", "load", "capacity"),
    ),
    Figure(
        "family_engagements",
        _("Family engagements by type"),
        FAMILIES,
        _engagements,
        (
            Dim("kind", _("Type"), F("kind"), _choices(EngagementKind.choices)),
            Dim("status", _("Status"), F("status"), _choices(EngagementStatus.choices)),
        ),
        (Measure("engagements", _("Engagements"), _count_rows()),),
        chart="stacked",
        period=_("started in the period"),
        total=True,
    ),
    Figure(
        "family_sessions",
        _("Family sessions by type"),
        FAMILIES,
        _family_sessions,
        (
            Dim("kind", _("Type"), F("kind"), _choices(SessionKind.choices)),
            Dim("status", _("Status"), F("status"), _choices(FamilySessionStatus.choices)),
        ),
        (Measure("sessions", _("Sessions"), _count_rows()),),
        chart="stacked",
        total=True,
    ),
    Figure(
        "placements_started",
        _("Placements started per month"),
        PLACEMENTS,
        _placements,
        (month_dim("started_on"),),
        (Measure("placements", _("Placements started"), _count_rows()),),
        chart="line",
        total=True,
    ),
    Figure(
        "placement_retention",
        _("Placement retention at 30, 90 and 180 days"),
        PLACEMENTS,
        _check_ins,
        (Dim("day", _("Days after start"), text(F("day")), order=F("day")),),
        (
            Measure(
                "recorded",
                _("Check-ins recorded"),
                _count_rows(Q(still_there__isnull=False)),
                where=Q(still_there__isnull=False),
            ),
            Measure(
                "retained", _("Still in the placement"), _count_rows(Q(still_there=True)), where=Q(still_there=True)
            ),
            Measure(
                "retention",
                _("Retention rate"),
                ratio(_count_rows(Q(still_there=True)), _count_rows(Q(still_there__isnull=False))),
                kind="rate",
                drill=False,
            ),
        ),
        period=_("placements started in the period"),
        charted=("recorded", "retained"),
    ),
    Figure(
        "outcomes_education",
        _("Education at exit and 6, 12 and 24 months after"),
        OUTCOMES,
        _outcomes,
        (
            OUTCOME_KIND_DIM,
            Dim(
                "education",
                _("Education"),
                Coalesce(NullIf(F("education"), Value("")), Value(NONE)),
                {**_choices(Outcome.Education.choices), NONE: UNKNOWN_LABEL},
            ),
        ),
        (Measure("people", _("Outcomes recorded"), _count_rows()),),
        chart="stacked",
        period=_("exits, or points 6/12/24 months after, in the period"),
    ),
    Figure(
        "outcomes_employment",
        _("Employment at exit and 6, 12 and 24 months after"),
        OUTCOMES,
        _outcomes,
        (
            OUTCOME_KIND_DIM,
            Dim(
                "employment",
                _("Employment"),
                Coalesce(NullIf(F("employment"), Value("")), Value(NONE)),
                {**_choices(Outcome.Employment.choices), NONE: UNKNOWN_LABEL},
            ),
        ),
        (Measure("people", _("Outcomes recorded"), _count_rows()),),
        chart="stacked",
        period=_("exits, or points 6/12/24 months after, in the period"),
    ),
    Figure(
        "risk_movement",
        _("Risk band: first and latest assessment"),
        OUTCOMES,
        _risk_movement,
        (
            Dim("first", _("First assessment"), F("first_risk_band"), _choices(RiskBand.choices)),
            Dim("latest", _("Latest assessment"), F("latest_risk_band"), _choices(RiskBand.choices)),
        ),
        (Measure("cases", _("Cases"), _count_rows()),),
        case_ref="pk",
        chart="stacked",
        period=_("assessed at least twice, the latest in the period"),
    ),
    Figure(
        "exits_reason",
        _("Exits by reason"),
        OUTCOMES,
        _exits,
        (Dim("reason", _("Exit reason"), F("exit_reason"), _choices(ExitReason.choices)),),
        (Measure("cases", _("Exits"), _count_rows()),),
        case_ref="pk",
        period=_("exited in the period (a case's latest exit)"),
        total=True,
    ),
    Figure(
        "legal_events",
        _("Re-offending: new charges, convictions and breaches"),
        OUTCOMES,
        _legal_events,
        (Dim("kind", _("Legal event"), F("kind"), _choices(LegalEvent.Kind.choices)),),
        (Measure("events", _("Events"), _count_rows()), Measure("cases", _("Participants"), _count_cases())),
        total=True,
    ),
    Figure(
        "relapse_events",
        _("Relapse events"),
        OUTCOMES,
        _relapse_events,
        (Dim("kind", _("Relapse event"), F("kind"), _choices(RelapseEvent.Kind.choices)),),
        (Measure("events", _("Events"), _count_rows()), Measure("cases", _("Participants"), _count_cases())),
        total=True,
    ),
    Figure(
        "post_exit",
        _("Re-offending and relapse after exit"),
        OUTCOMES,
        _post_exit,
        (OUTCOME_KIND_DIM,),
        (
            Measure("recorded", _("Follow-ups recorded"), _count_rows()),
            Measure("reoffended", _("Re-offended"), _count_rows(Q(reoffended=True)), where=Q(reoffended=True)),
            Measure("relapse", _("Relapse"), _count_rows(Q(relapse=True)), where=Q(relapse=True)),
        ),
        period=_("6/12/24 months after exit, in the period"),
        charted=("reoffended", "relapse"),
    ),
    Figure(
        "disclosures_basis",
        _("Disclosures to authorities by basis"),
        AUTHORITIES,
        _disclosures,
        (
            Dim(
                "basis",
                _("Basis"),
                Func(F("basis"), Value("+"), function="array_to_string", output_field=CharField()),
                _BasisLabels(),
            ),
        ),
        (Measure("reads", _("Reads by authorities"), _count_rows()), Measure("cases", _("Cases"), _count_cases())),
        total=True,
    ),
)
