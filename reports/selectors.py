"""Reads of the reports: each figure as one GROUP BY query (its totals row, where the groups cannot be
summed, by GROUPING SETS in the same query), and the cases behind a figure through the access policy."""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections
from django.db.models import BooleanField, CharField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import translation

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


def _dim_aliases(figure: Figure, filters: Filters) -> dict[str, Any]:
    return {f"d{i}": dim.expression(filters) for i, dim in enumerate(figure.dims)}


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


def _counts_rows(measure: Measure) -> bool:
    return measure.kind == "count" and isinstance(measure.expr, Count) and not measure.expr.distinct


def _summable(measure: Measure, figure: Figure) -> bool:
    """Its total follows from the rows: a count of rows (no DISTINCT), or a rate of such counts."""
    if measure.ratio_of is None:
        return _counts_rows(measure)
    numerator, denominators = measure.ratio_of
    counts = {m.name for m in figure.measures if _counts_rows(m)}
    return numerator in counts and set(denominators) <= counts


def _summed_total(figure: Figure, rows: list[Row]) -> dict[str, Any]:
    """The groups partition the fact rows: each count's total is the sum of its rows, a rate's total the
    ratio of its counts' totals."""
    total = {m.name: sum(row.values[m.name] for row in rows) for m in figure.measures if m.ratio_of is None}
    for m in figure.measures:
        if m.ratio_of is not None:
            numerator, denominators = m.ratio_of
            below = sum(total[name] for name in denominators)
            total[m.name] = _value(m, total[numerator] / below if below else None)
    return {m.name: total[m.name] for m in figure.measures}


DETAIL = "g_detail"  # a constant grouped in the figure's rows only: NULL on the GROUPING SETS totals row


def figure_result(figure: Figure, filters: Filters) -> Result:
    """One query grouped by the figure's dimensions, its totals row (if it has one) included."""
    dims, labels = _dim_aliases(figure, filters), _label_aliases(figure)
    measures = {f"m_{m.name}": m.expr for m in figure.measures}
    summed = not figure.total or all(_summable(m, figure) for m in figure.measures)
    marker = {} if summed else {DETAIL: Value(True, output_field=BooleanField())}
    grouped = (
        figure.rows(filters)
        .annotate(**dims, **labels, **marker)
        .values(*dims, *labels, *marker)
        .annotate(**measures)
        .order_by(*_ordering(figure))
    )
    records = list(grouped) if summed else _with_grouping_sets(grouped)
    rows, total = [], None
    for record in records:
        values = {m.name: _value(m, record[f"m_{m.name}"]) for m in figure.measures}
        if not summed and record[DETAIL] is None:
            total = values
            continue
        keys = [dim.key(record[f"d{i}"]) for i, dim in enumerate(figure.dims)]
        names = _names(figure, keys, record)
        rows.append(Row(KEY_SEPARATOR.join(keys), keys, names, values))
    if figure.total and summed:
        total = _summed_total(figure, rows)
    elif figure.total and total is None:  # no rows at all: the aggregates of nothing
        total = {m.name: _value(m, None) for m in figure.measures}
    return Result(figure, rows, total)


def _with_grouping_sets(grouped: QuerySet) -> list[dict]:
    """`grouped` (values().annotate(), with the DETAIL constant) run with `GROUP BY GROUPING SETS ((its
    groups, DETAIL), ())`: the figure's rows and, with DETAIL NULL, the totals row over the same fact rows
    (distinct counts, medians and rates cannot be summed from the groups), in one scan.

    The ORM has no grouping sets: the outer GROUP BY of the compiled query is rewritten (the
    subqueries' own GROUP BY, inside parentheses, are left alone)."""
    compiler = grouped.query.get_compiler(using=grouped.db)
    sql, params = compiler.as_sql()
    aliases = [alias for _expr, _sql, alias in compiler.select]
    ordinal = aliases.index(DETAIL) + 1
    start = _outer_keyword(sql, " GROUP BY ")
    end = _outer_keyword(sql, " ORDER BY ", start)
    end = len(sql) if end < 0 else end
    groups = sql[start + len(" GROUP BY ") : end]
    sql = f"{sql[:start]} GROUP BY GROUPING SETS (({groups}, {ordinal}), ()){sql[end:]}"
    with connections[grouped.db].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _outer_keyword(sql: str, keyword: str, start: int = 0) -> int:
    """Where `keyword` occurs in `sql` outside parentheses and quotes (-1: nowhere)."""
    depth, quote = 0, ""
    for i in range(start, len(sql)):
        char = sql[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and sql.startswith(keyword, i):
            return i
    if start == 0:
        raise ValueError(f"no outer {keyword.strip()} in the figure's query")
    return -1


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
    try:
        condition = _key_q(figure, keys)
    except ValueError:
        return None
    found = (
        figure.rows(filters)
        .annotate(**_dim_aliases(figure, filters))
        .filter(condition)
        .annotate(**labels)
        .order_by()
        .values("pk", *labels)[:1]
    )
    record = next(iter(found), None)
    return None if record is None else _names(figure, keys, record)


def dashboard(filters: Filters, slugs: list[str] | None = None) -> list[Result]:
    """Every figure (or those of `slugs`), in order (see `dashboard_results`)."""
    return list(dashboard_results(filters, slugs))


def dashboard_results(filters: Filters, slugs: list[str] | None = None) -> Iterator[Result]:
    """Every figure (or those of `slugs`), in order, one query each, run side by side on
    settings.REPORTS_QUERY_THREADS database connections (ARCHITECTURE.md, "Reports"): all are started
    at once, and each is given as soon as it and those before it are done, so the caller can lay out one
    while the others run.

    Serially, on the caller's connection, inside a transaction (or with autocommit off): the other
    connections would not see its uncommitted rows (the test suite's transactions among them)."""
    figures = [FIGURES[slug] for slug in (slugs or FIGURES)]
    threads = getattr(settings, "REPORTS_QUERY_THREADS", 1)
    if threads <= 1 or len(figures) < 2 or connection.in_atomic_block or not connection.get_autocommit():
        yield from (figure_result(figure, filters) for figure in figures)
        return
    language = translation.get_language()
    pool = _pool(threads)
    # the slowest first (by their last run in this process), so that no long query starts last
    order = sorted(figures, key=lambda figure: -_LAST_SECONDS.get(figure.slug, 0.0))
    running = {figure.slug: pool.submit(_figure_in_thread, figure, filters, language) for figure in order}
    try:
        for figure in figures:
            yield running[figure.slug].result()
    finally:  # a caller that stops early (an error) leaves nothing queued behind it
        for task in running.values():
            task.cancel()


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """One pool per process (a forked worker makes its own) and size. Its threads keep their connection
    between dashboards, as a web worker keeps its own between requests: each figure's task closes it
    when older than CONN_MAX_AGE or unusable (an idle pool keeps it until its next task)."""
    key = (os.getpid(), threads)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = ThreadPoolExecutor(threads, thread_name_prefix="report-figure")
        return _POOLS[key]


_LAST_SECONDS: dict[str, float] = {}  # each figure's last duration in this process: the order of the next run


def shutdown_pools() -> None:
    """Close every pool thread's connection and end the pools (the tests' clean-up: a connection left
    open would keep the test database from being dropped). One task per thread, held at a barrier
    until each thread has one, since a Django connection is closed only by its own thread."""
    with _POOLS_LOCK:
        pools = list(_POOLS.items())
        _POOLS.clear()
    for (_pid, size), pool in pools:
        barrier = threading.Barrier(size)

        def close(barrier=barrier):
            barrier.wait(timeout=30)
            connection.close()

        for task in [pool.submit(close) for _ in range(size)]:
            task.result()
        pool.shutdown()


def _serial_plans() -> None:
    """The pool's connections plan without PostgreSQL's own parallel workers: the pool already keeps the
    cores busy, and a worker per query on top oversubscribes them (2 cores, 3 figures at once: the
    dashboard took 0.91 s with them, 0.64-0.76 s without). Set once per connection."""
    raw = connection.connection
    if raw is None or getattr(connection, "_report_serial_plans", None) is not raw:
        with connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        connection._report_serial_plans = connection.connection


def _figure_in_thread(figure: Figure, filters: Filters, language: str | None) -> Result:
    close_old_connections()  # too old or in error: closed (and the health check due, as for a request)
    connection.close_if_health_check_failed()  # a dead one (a restarted server) closed before the SET
    _serial_plans()
    started = time.perf_counter()
    try:
        with translation.override(language):  # the labels of the rows, in the manager's language
            return figure_result(figure, filters)
    finally:
        _LAST_SECONDS[figure.slug] = time.perf_counter() - started
        close_old_connections()


class BadKey(ValueError):
    pass


def _key_q(figure: Figure, keys: list[str]) -> Q:
    """The fact rows of one row of the figure: each dimension's own condition (a month: a half-open range
    on its column), else its text expression (annotated as d<i>) equal to the key."""
    condition = Q()
    for i, (dim, part) in enumerate(zip(figure.dims, keys, strict=True)):
        condition &= dim.match(part) if dim.match is not None else Q(**{f"d{i}": part})
    return condition


def figure_case_ids(figure: Figure, filters: Filters, *, key: str = "", measure: str = "") -> QuerySet:
    """The case ids behind one figure, one row of it (`key`) and one count of that row (`measure`)."""
    rows = figure.rows(filters)
    if key:
        parts = key.split(KEY_SEPARATOR)
        if len(parts) != len(figure.dims):
            raise BadKey(key)
        try:
            condition = _key_q(figure, parts)
        except ValueError:
            raise BadKey(key) from None
        rows = rows.annotate(**_dim_aliases(figure, filters)).filter(condition)
    if measure:
        found = [m for m in figure.measures if m.name == measure and m.drill]
        if not found:
            raise BadKey(measure)
        if found[0].where is not None:
            rows = rows.filter(found[0].where)
    return rows.order_by().values(figure.case_ref)


DRILL_DOWN_FIELDS = (
    "stage",
    "participant__case_code",
    "participant__given_name_latin",
    "participant__family_name_latin",
    "participant__city__name",
)


def drill_down(user: User, figure: Figure, filters: Filters, *, key: str = "", measure: str = "") -> QuerySet[Case]:
    """The cases behind a figure, through the one policy: never a case the user may not open."""
    lead = CaseTeamMember.objects.filter(case_id=OuterRef("pk"), is_lead=True)
    return (
        access.cases_visible_to(user)
        .filter(pk__in=figure_case_ids(figure, filters, key=key, measure=measure))
        .select_related("participant__city")
        # what the list shows: not the participant's encrypted fields, nor the rest of the case row
        .only(*DRILL_DOWN_FIELDS)
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
