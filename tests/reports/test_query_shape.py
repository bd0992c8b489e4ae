"""The shapes that keep the dashboard cheap at scale (issue 12): the case's assessment summary columns
(kept by the service, backfilled by the migration), totals rows in the figure's own query (GROUPING
SETS), month rows as date_trunc groups whose drill-down is a half-open range in local time."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import connection

from casemgmt import casefile_services as cs
from casemgmt.casefile import AssessmentTemplate, case_assessment_summary
from casemgmt.default_template import ensure_default_template
from casemgmt.models import Case
from programs.models import MentorAssignment, MentoringSession
from reports.figures import FIGURES, LocalMonth, period_months
from reports.selectors import BadKey, _outer_keyword, figure_case_ids, figure_result

from .conftest import TZ, answers, d, open_case
from .test_figures import A, cases_behind, filters, program_rows, table  # noqa: F401  (program_rows: a fixture)

SUMMARY = ["assessment_count", "first_assessed_on", "first_risk_band", "latest_assessed_on", "latest_risk_band"]


def summary(case: Case) -> tuple:
    return tuple(Case.objects.filter(pk=case.pk).values_list(*SUMMARY).get())


@pytest.fixture
def assessed(demo, clock, manager):
    """Two Northern cases: X assessed three times out of date order (high, then an earlier low, then a
    medium on the same day as the first, recorded later), Y never."""
    ensure_default_template()
    template = AssessmentTemplate.objects.get()
    org, cw = manager.membership.organisation, demo["caseworker"]
    clock("2026-03-01")
    x = open_case(demo, by=manager, organisation=org, day="2026-03-01", source="family", city="TNG", lead=cw, n=1)
    y = open_case(demo, by=manager, organisation=org, day="2026-03-01", source="family", city="TNG", lead=cw, n=2)
    clock("2026-06-01")
    record = {"case": x, "by": cw, "template": template}
    cs.assessment_record(**record, assessed_on=d("2026-05-20"), answers=answers(template, 3))
    assert summary(x) == (1, d("2026-05-20"), "high", d("2026-05-20"), "high")
    cs.assessment_record(**record, assessed_on=d("2026-04-02"), answers=answers(template, 0))
    assert summary(x) == (2, d("2026-04-02"), "low", d("2026-05-20"), "high")
    cs.assessment_record(**record, assessed_on=d("2026-05-20"), answers=answers(template, 1))
    return x, y


def test_assessment_record_keeps_the_case_summary(assessed):
    x, y = assessed
    # same day as the high one, recorded later: the latest (ties go to the later row, as on the case page)
    assert summary(x) == (3, d("2026-04-02"), "low", d("2026-05-20"), "medium")
    assert summary(y) == (0, None, "", None, "")
    assert summary(x) == tuple(Case.objects.filter(pk=x.pk).values_list(*case_assessment_summary().keys()).get())


def test_the_migration_backfill_computes_what_the_service_keeps(assessed):
    x, y = assessed
    kept = {case.pk: summary(case) for case in (x, y)}
    Case.objects.update(assessment_count=0, first_assessed_on=None, first_risk_band="", latest_risk_band="")
    migration = importlib.import_module("casemgmt.migrations.0021_case_assessment_summary")
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)
    assert {case.pk: summary(case) for case in (x, y)} == kept


def test_caseload_by_band_and_risk_movement_read_the_summary(assessed, manager):
    x, _y = assessed
    assert {key: v["cases"] for key, v in table(manager, "caseload_risk").items()} == {"medium": 1, "none": 1}
    assert {key: v["cases"] for key, v in table(manager, "risk_movement").items()} == {"low|medium": 1}
    # the latest assessment outside the period: not in the movement
    assert table(manager, "risk_movement", end=d("2026-05-19")) == {}
    rows = figure_case_ids(FIGURES["risk_movement"], filters(manager), key="low|medium", measure="cases")
    assert [row["pk"] for row in rows] == [x.pk]


@pytest.mark.usefixtures("program_rows")
def test_a_totals_row_that_cannot_be_summed_comes_from_the_same_query(manager, django_assert_num_queries):
    for slug in ("disclosures_basis", "legal_events", "timeliness"):
        with django_assert_num_queries(1):
            result = figure_result(FIGURES[slug], filters(manager))
        assert result.total is not None
    # distinct cases: A is behind both bases, so the total is not the sum of the rows
    result = figure_result(FIGURES["disclosures_basis"], filters(manager))
    assert [row.values["cases"] for row in result.rows] == [1, 1]
    assert result.total == {"reads": 3, "cases": 1}


def test_no_rows_give_the_aggregates_of_nothing(manager, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = figure_result(FIGURES["disclosures_basis"], filters(manager))
    assert result.rows == []
    assert result.total == {"reads": 0, "cases": 0}


def local_midnight(day: str) -> datetime.datetime:
    """The instant `day` starts in the organisation's zone by the database's zone rules (those of the
    month grouping), whatever Python's tz data says."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamp AT TIME ZONE %s", [day, str(TZ)])
        return cursor.fetchone()[0]


def session(demo, case, assignment, at: datetime.datetime, status: str) -> MentoringSession:
    """A mentoring session of `case` by the demo mentor at `at`."""
    return MentoringSession.objects.create(
        case=case,
        assignment=assignment,
        mentor=demo["mentor"],
        recorded_by=demo["mentor"],
        starts_at=at,
        place_type="office",
        status=status,
    )


@pytest.mark.usefixtures("program_rows")
def test_a_month_is_the_local_calendar_month(known, demo, manager):
    """Half an hour before local midnight on 1 November counts, and drills down, in October; local
    midnight itself in November: grouping and drill-down agree at the edge of a month."""
    a = known["A"]
    assignment = MentorAssignment.objects.get(case=a)
    november = local_midnight("2026-11-01")
    for at in (november - datetime.timedelta(minutes=30), november):
        session(demo, a, assignment, at, "no_show")
    sessions = table(manager, "mentoring_sessions")
    assert (sessions["2026-10"]["no_show"], sessions["2026-11"]["no_show"]) == (2, 1)
    assert cases_behind(manager, "mentoring_sessions", "2026-10", "no_show") == {A}
    for month, n in (("2026-10", 2), ("2026-11", 1)):
        rows = figure_case_ids(FIGURES["mentoring_sessions"], filters(manager), key=month, measure="no_show")
        assert len(rows) == n
    with pytest.raises(BadKey):
        figure_case_ids(FIGURES["mentoring_sessions"], filters(manager), key="2026-13")


def test_the_months_of_a_period_cross_the_year_and_start_with_the_first_days_month():
    day = datetime.date
    assert period_months(day(2025, 11, 15), day(2026, 2, 3)) == [
        day(2025, 11, 1),
        day(2025, 12, 1),
        day(2026, 1, 1),
        day(2026, 2, 1),
    ]
    assert period_months(day(2026, 3, 31), day(2026, 3, 31)) == [day(2026, 3, 1)]


@pytest.mark.usefixtures("program_rows")
def test_a_period_starting_mid_month_groups_its_first_days_in_that_month(known, demo, manager):
    """The month grouping searches the period's month starts: the first of them is before the period's
    start, so a session on the period's first day is in its month; the totals row sums the groups and
    the attendance rate of the total is the ratio of the summed counts."""
    a = known["A"]
    assignment = MentorAssignment.objects.get(case=a)
    for day, status in (("2026-10-20", "attended"), ("2026-11-02", "no_show"), ("2026-11-03", "attended")):
        session(demo, a, assignment, local_midnight(day) + datetime.timedelta(hours=10), status)
    result = figure_result(FIGURES["mentoring_sessions"], filters(manager, start=d("2026-10-20"), end=d("2026-11-10")))
    by_month = {row.key: row.values for row in result.rows}
    assert sorted(by_month) == ["2026-10", "2026-11"]
    assert by_month["2026-10"]["attended"] >= 1
    assert by_month["2026-11"]["no_show"] >= 1
    # the total against the database's own count of the period's sessions of the organisation
    from django.db.models import Count, Q

    period = filters(manager, start=d("2026-10-20"), end=d("2026-11-10"))
    counted = MentoringSession.objects.filter(
        case__organisation_id=manager.membership.organisation_id,
        starts_at__gte=period.start_at(),
        starts_at__lt=period.end_before(),
    ).aggregate(
        sessions=Count("pk"),
        attended=Count("pk", filter=Q(status="attended")),
        no_show=Count("pk", filter=Q(status="no_show")),
    )
    assert counted["attended"] + counted["no_show"] > 0
    assert {k: result.total[k] for k in ("sessions", "attended", "no_show")} == counted
    assert result.total["attendance"] == round(counted["attended"] / (counted["attended"] + counted["no_show"]), 3)


@pytest.mark.usefixtures("program_rows")
def test_a_row_outside_the_periods_months_gets_the_month_date_trunc_gives_it(known, demo):
    """Python's and the database's zone rules may put the period's bounds an hour apart: a row let in
    before the first month's start (by the database's rules) or after the last month's end is in the month
    before or after, as `date_trunc ... AT TIME ZONE` and the drill-down's ranges have it."""
    from django.db.models import F

    a = known["A"]
    assignment = MentorAssignment.objects.get(case=a)
    november, december = local_midnight("2026-11-01"), local_midnight("2026-12-01")
    moments = [november - datetime.timedelta(minutes=30), november, december - datetime.timedelta(minutes=1), december]
    made = [session(demo, a, assignment, at, "attended").pk for at in moments]
    months = dict(
        MentoringSession.objects.filter(pk__in=made)
        .annotate(month=LocalMonth(F("starts_at"), [datetime.date(2026, 11, 1)]))
        .values_list("starts_at", "month")
    )
    assert [months[at] for at in moments] == [d("2026-10-01"), d("2026-11-01"), d("2026-11-01"), d("2026-12-01")]


def test_the_outer_group_by_is_found_outside_subqueries():
    sql = "SELECT (SELECT count(*) FROM t GROUP BY a ORDER BY 1) AS \"x\", 'GROUP BY' FROM u GROUP BY 1 ORDER BY 1"
    start = _outer_keyword(sql, " GROUP BY ")
    assert sql[start:] == " GROUP BY 1 ORDER BY 1"
    assert sql[_outer_keyword(sql, " ORDER BY ", start) :] == " ORDER BY 1"
    assert _outer_keyword("SELECT 1 FROM u GROUP BY 1", " ORDER BY ", 10) == -1
