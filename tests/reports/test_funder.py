"""The funder report: one complete calendar quarter, aggregates only, suppression applied; the
printable page, its XLSX and `/api/v1/reports/summary/`."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from reports.funder import BadPeriod, Quarter, funder_report, last_complete_quarter, parse_quarter
from reports.suppression import PRIMARY, SECONDARY, determined, lines_of

from .conftest import open_case
from .test_suppression import feasible_values

TODAY = datetime.date(2026, 11, 25)
ROLES = ["manager", "caseworker", "auditor", "admin", "caseworker2", "authority", "anonymous"]


def test_quarters():
    assert last_complete_quarter(TODAY) == Quarter(2026, 3)
    assert last_complete_quarter(datetime.date(2026, 2, 1)) == Quarter(2025, 4)
    assert parse_quarter("", TODAY) == Quarter(2026, 3)
    q = parse_quarter("2026-Q2", TODAY)
    assert (q.start, q.end, q.months) == (
        datetime.date(2026, 4, 1),
        datetime.date(2026, 6, 30),
        ["2026-04", "2026-05", "2026-06"],
    )
    for bad in ("2026-Q5", "2026Q1", "Q1-2026", "2026-06", "1999-Q1", "2026-Q4", "2027-Q1"):
        with pytest.raises(BadPeriod):
            parse_quarter(bad, TODAY)


@pytest.fixture
def first_quarter(demo, clock, manager):
    """Northern, 2026-Q1: 7 family referrals in January, 6 self-referrals in February, 2 NGO in March;
    Atlantic: 9 in January (never counted for Northern)."""
    org = manager.membership.organisation
    atlantic = demo["caseworker2"].membership.organisation
    n = 10
    for day, source, count, organisation in [
        ("2026-01-12", "family", 7, org),
        ("2026-02-09", "self", 6, org),
        ("2026-03-16", "ngo", 2, org),
        ("2026-01-20", "family", 9, atlantic),
    ]:
        clock(day)
        for _ in range(count):
            n += 1
            open_case(demo, by=manager, organisation=organisation, day=day, source=source, city="TNG", n=n)
    clock("2026-11-25", 12)


def _table(tables, slug):
    return next(table for table in tables if table.slug == slug)


def test_referrals_table_suppressed(first_quarter, manager):
    tables = funder_report(manager.membership.organisation_id, Quarter(2026, 1))
    referrals = _table(tables, "referrals")
    body = {row[0]: row[1:] for row in referrals.body()}
    assert referrals.header() == ["Referral source", "2026-01", "2026-02", "2026-03", "Total"]
    # January's 7 sits in a column of zeros: with the column total 7 published, the hidden zeros would
    # follow (7 - 7 = 0 for cells of 0…4), so the 7 itself is hidden too
    assert body["Family"] == [SECONDARY, PRIMARY, PRIMARY, 7]
    assert body["Self-referral"][1:] == [6, PRIMARY, 6] or body["Self-referral"][1] == SECONDARY
    assert body["NGO"][2:] == [PRIMARY, PRIMARY]
    grid, shown = referrals.suppressed.values, referrals.suppressed.shown
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            assert (shown[i][j] == PRIMARY) == (value < 5)
    for table in tables:
        result = table.suppressed
        lines = lines_of(len(result.values), len(result.values[0]))
        # the same checks the brute force of test_suppression.py validates on small tables
        assert determined(result.values, lines, result.primary, result.secondary) == set(), table.slug
        if len(result.primary | result.secondary) <= 8:
            for cell, values in feasible_values(result).items():
                assert len(values) >= 2, (table.slug, cell)


def test_known_quarter_with_transfer_reopen(known, manager, atlantic_manager):
    # 2026-Q2 for Northern: C (court order, May) and D (family, June); B went to Atlantic with its referral
    tables = funder_report(manager.membership.organisation_id, Quarter(2026, 2))
    total_row = _table(tables, "referrals").body()[-1]
    assert total_row == ["Total", PRIMARY, PRIMARY, PRIMARY, PRIMARY]
    exits = funder_report(manager.membership.organisation_id, Quarter(2026, 3))
    assert _table(exits, "exits").body()[0] == ["Goals met", PRIMARY]  # A exited in July, then re-opened


@pytest.mark.parametrize("who", ROLES)
def test_who_may_open_the_funder_page_and_xlsx(client, demo, who):
    if who != "anonymous":
        client.force_login(demo[who])
    for url in (reverse("reports:funder"), reverse("reports:funder-xlsx")):
        response = client.get(url + "?period=2026-Q1")
        assert response.status_code == {"manager": 200, "anonymous": 302}.get(who, 404)


def test_funder_page_has_no_names_or_codes(first_quarter, client, manager):
    from casemgmt.models import Case

    client.force_login(manager)
    content = client.get(reverse("reports:funder") + "?period=2026-Q1").content.decode()
    assert 'data-testid="funder-referrals"' in content
    for case in Case.objects.select_related("participant"):
        assert case.participant.case_code not in content
        assert case.participant.family_name_latin not in content
    assert client.get(reverse("reports:funder") + "?period=2026-Q9").status_code == 400
    assert client.get(reverse("reports:funder-xlsx") + "?period=2026-Q4").status_code == 400


def test_funder_xlsx_matches_the_page(first_quarter, client, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:funder-xlsx") + "?period=2026-Q1")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    tables = funder_report(manager.membership.organisation_id, Quarter(2026, 1))
    assert len(book.sheetnames) == len(tables)
    for name, table in zip(book.sheetnames, tables, strict=True):
        rows = [list(row) for row in book[name].iter_rows(values_only=True)]
        assert rows[1] == table.header()
        assert rows[2:] == table.body()


@pytest.mark.parametrize("who", ROLES)
def test_who_may_read_the_summary_api(demo, who):
    api = APIClient()
    if who != "anonymous":
        api.force_authenticate(demo[who])
    response = api.get("/api/v1/reports/summary/?period=2026-Q1")
    assert response.status_code == {"manager": 200, "anonymous": 401}.get(who, 404)


def test_summary_api(first_quarter, manager):
    api = APIClient()
    api.force_authenticate(manager)
    body = api.get("/api/v1/reports/summary/?period=2026-Q1").json()
    assert body["period"] == "2026-Q1"
    assert body["suppression"]["under_threshold"] == "<5"
    referrals = next(t for t in body["tables"] if t["slug"] == "referrals")
    page = _table(funder_report(manager.membership.organisation_id, Quarter(2026, 1)), "referrals")
    assert referrals["rows"] == page.body()
    default = api.get("/api/v1/reports/summary/").json()
    assert default["period"] == str(last_complete_quarter(datetime.date.today()))


@pytest.mark.parametrize("period", ["2026-Q5", "soon", "2026-Q4"])
def test_summary_api_bad_period_is_a_problem(manager, period):
    api = APIClient()
    api.force_authenticate(manager)
    response = api.get(f"/api/v1/reports/summary/?period={period}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
