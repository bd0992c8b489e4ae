"""Reads of the reports: each figure as one GROUP BY query (plus one for its totals row), and the
cases behind a figure through the access policy."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat

from accounts.models import User
from casemgmt import access
from casemgmt.models import Case, CaseTeamMember

from .figures import FIGURES, IN_PERIOD, Figure, Filters, Measure

KEY_SEPARATOR = "|"


@dataclass
class Row:
    key: str  # the drill-down key: the dimension values joined by "|"
    keys: list[str]
    labels: list[str]
    values: dict[str, Any]


@dataclass
class Result:
    figure: Figure
    rows: list[Row]
    total: dict[str, Any] | None

    @property
    def period_note(self):
        return self.figure.period or IN_PERIOD

    def charted(self) -> list[Measure]:
        names = self.figure.charted or (self.figure.measures[0].name,)
        return [m for m in self.figure.measures if m.name in names]


def _dim_aliases(figure: Figure) -> dict[str, Any]:
    return {f"d{i}": dim.expr for i, dim in enumerate(figure.dims)}


def _label_aliases(figure: Figure) -> dict[str, Any]:
    labels = {f"l{i}": dim.label_expr for i, dim in enumerate(figure.dims) if dim.label_expr is not None}
    orders = {f"o{i}": dim.order for i, dim in enumerate(figure.dims) if dim.order is not None}
    return {**labels, **orders}


def _ordering(figure: Figure) -> list[str]:
    return [f"o{i}" if dim.order is not None else f"d{i}" for i, dim in enumerate(figure.dims)]


def _value(measure: Measure, value):
    if value is None:
        return 0 if measure.kind == "count" else None
    if measure.kind in ("rate", "days"):
        return round(float(value), 3 if measure.kind == "rate" else 1)
    return value


def _summable(measure: Measure) -> bool:
    return measure.kind == "count" and isinstance(measure.expr, Count) and not measure.expr.distinct


def figure_result(figure: Figure, filters: Filters) -> Result:
    """One query grouped by the figure's dimensions; one more for the totals row if it has one."""
    dims, labels = _dim_aliases(figure), _label_aliases(figure)
    measures = {f"m_{m.name}": m.expr for m in figure.measures}
    grouped = (
        figure.rows(filters)
        .annotate(**dims, **labels)
        .values(*dims, *labels)
        .annotate(**measures)
        .order_by(*_ordering(figure))
    )
    rows = []
    for record in grouped:
        keys = [str(record[alias]) for alias in dims]
        names = _names(figure, keys, record)
        values = {m.name: _value(m, record[f"m_{m.name}"]) for m in figure.measures}
        rows.append(Row(KEY_SEPARATOR.join(keys), keys, names, values))
    total = None
    if figure.total and all(_summable(m) for m in figure.measures):
        # counts of rows (no DISTINCT): the groups partition the rows, so the total is their sum
        total = {m.name: sum(row.values[m.name] for row in rows) for m in figure.measures}
    elif figure.total:
        aggregated = figure.rows(filters).aggregate(**measures)
        total = {m.name: _value(m, aggregated[f"m_{m.name}"]) for m in figure.measures}
    return Result(figure, rows, total)


def _names(figure: Figure, keys: list[str], record: dict) -> list[str]:
    names = []
    for i, dim in enumerate(figure.dims):
        if dim.label_expr is not None and record.get(f"l{i}") is not None:
            names.append(str(record[f"l{i}"]))
        elif dim.labels is not None and keys[i] in dim.labels:
            names.append(str(dim.labels[keys[i]]))
        else:
            names.append(keys[i])
    return names


def row_labels(figure: Figure, filters: Filters, key: str) -> list[str] | None:
    """The labels of one row of a figure as the dashboard shows them, None if no fact row has that key:
    one query for the first fact row of the key (LIMIT 1), not the figure's aggregate over every row."""
    keys = key.split(KEY_SEPARATOR)
    if len(keys) != len(figure.dims):
        return None
    labels = {f"l{i}": dim.label_expr for i, dim in enumerate(figure.dims) if dim.label_expr is not None}
    found = (
        figure.rows(filters)
        .annotate(**_dim_aliases(figure))
        .filter(**{f"d{i}": part for i, part in enumerate(keys)})
        .annotate(**labels)
        .order_by()
        .values("pk", *labels)[:1]
    )
    record = next(iter(found), None)
    return None if record is None else _names(figure, keys, record)


def dashboard(filters: Filters, slugs: list[str] | None = None) -> list[Result]:
    return [figure_result(FIGURES[slug], filters) for slug in (slugs or FIGURES)]


class BadKey(ValueError):
    pass


def figure_case_ids(figure: Figure, filters: Filters, *, key: str = "", measure: str = "") -> QuerySet:
    """The case ids behind one figure, one row of it (`key`) and one count of that row (`measure`)."""
    rows = figure.rows(filters).annotate(**_dim_aliases(figure))
    if key:
        parts = key.split(KEY_SEPARATOR)
        if len(parts) != len(figure.dims):
            raise BadKey(key)
        rows = rows.filter(**{f"d{i}": part for i, part in enumerate(parts)})
    if measure:
        found = [m for m in figure.measures if m.name == measure and m.drill]
        if not found:
            raise BadKey(measure)
        if found[0].where is not None:
            rows = rows.filter(found[0].where)
    return rows.order_by().values(figure.case_ref)


def drill_down(user: User, figure: Figure, filters: Filters, *, key: str = "", measure: str = "") -> QuerySet[Case]:
    """The cases behind a figure, through the one policy: never a case the user may not open."""
    lead = CaseTeamMember.objects.filter(case_id=OuterRef("pk"), is_lead=True)
    return (
        access.cases_visible_to(user)
        .filter(pk__in=figure_case_ids(figure, filters, key=key, measure=measure))
        .with_list_relations()
        .annotate(
            lead_name=Subquery(
                lead.annotate(
                    n=Concat("user__first_name", Value(" "), "user__last_name", output_field=CharField())
                ).values("n")[:1]
            )
        )
        .order_by("participant__case_code")
    )


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve months, from the first day of the month eleven months back."""
    month = today.month - 11
    year = today.year
    if month < 1:
        month, year = month + 12, year - 1
    return datetime.date(year, month, 1), today


def my_figures(user: User, today: datetime.date | None = None) -> dict:
    """Two queries: the user's open cases (through the policy) by stage, their overdue follow-ups by kind."""
    from django.db.models import Count
    from django.utils import timezone

    from casemgmt.followup_models import OPEN_STATUSES
    from casemgmt.followup_views import label_of
    from casemgmt.models import Stage

    today = today or timezone.localdate()
    labels = dict(Stage.choices)
    by_stage = (
        access.cases_visible_to(user)
        .exclude(stage__in=[Stage.CLOSED, Stage.DECLINED])
        .values("stage")
        .annotate(n=Count("pk"))
        .order_by("stage")
    )
    overdue = (
        access.follow_ups_visible_to(user)
        .filter(assignee=user, status__in=OPEN_STATUSES, due_on__lt=today)
        .exclude(snoozed_until__gte=today)
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by("kind")
    )
    stages = [(labels.get(row["stage"], row["stage"]), row["n"]) for row in by_stage]
    follow_ups = [(label_of(row["kind"]), row["n"]) for row in overdue]
    return {
        "stages": stages,
        "case_total": sum(n for _label, n in stages),
        "overdue": follow_ups,
        "overdue_total": sum(n for _label, n in follow_ups),
    }
