"""The dashboard, drill-downs and exports: who may open them, what they show, what they cost."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import City
from reports.figures import FIGURES
from reports.selectors import figure_result

from .conftest import START, TODAY
from .test_figures import A, C, filters

PERIOD = f"start={START.isoformat()}&end={TODAY.isoformat()}"
ROLES = ["manager", "caseworker", "auditor", "admin", "caseworker2", "authority", "anonymous"]
PAGES = [
    reverse("reports:dashboard"),
    reverse("reports:cases") + "?figure=caseload_stage&key=active&measure=cases",
    reverse("reports:export", args=["caseload_stage", "csv"]),
    reverse("reports:export", args=["caseload_stage", "xlsx"]),
    reverse("reports:export", args=["all", "xlsx"]),
]


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", PAGES)
def test_managers_only(client, demo, who, url):
    if who != "anonymous":
        client.force_login(demo[who])
    response = client.get(url)
    expected = {"manager": 200, "anonymous": 302}.get(who, 404)
    assert response.status_code == expected
    if who == "anonymous":
        assert reverse("login") in response["Location"]


def test_nav_entry_for_managers_only(client, demo):
    client.force_login(demo["manager"])
    assert reverse("reports:dashboard") in client.get(reverse("home")).content.decode()
    client.force_login(demo["caseworker"])
    assert reverse("reports:dashboard") not in client.get(reverse("home")).content.decode()


def test_dashboard_shows_each_figure_with_its_table_and_links(known, client, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:dashboard") + "?" + PERIOD)
    content = response.content.decode()
    for slug in FIGURES:
        assert f'data-figure="{slug}"' in content
        assert f'data-testid="table-{slug}"' in content
    assert 'id="report-data" type="application/json"' in content
    assert "<script>" not in content  # no inline script: the charts are drawn by a static file
    assert "figure=caseload_stage&amp;key=active&amp;measure=cases" in content


def test_drill_down_lists_the_cases_behind_a_figure(known, client, manager):
    client.force_login(manager)
    url = reverse("reports:cases") + f"?figure=caseload_stage&key=&measure=cases&{PERIOD}"
    content = client.get(url).content.decode()
    assert known["A"].participant.case_code in content
    assert known["C"].participant.case_code in content
    assert known["B"].participant.case_code not in content  # transferred away
    assert known["E"].participant.case_code not in content  # another NGO's


def test_drill_down_goes_through_the_access_policy(known, manager, atlantic_manager):
    # the selectors answer with cases_visible_to(user): the organisation comes from the user, so
    # asking for another NGO's organisation in the filters still lists only the user's own cases
    from reports.selectors import drill_down

    forged = filters(atlantic_manager)  # Atlantic's organisation id, used by Northern's manager
    rows = drill_down(manager, FIGURES["caseload_stage"], forged)
    assert list(rows) == []
    mine = {c.participant.given_name_latin for c in drill_down(manager, FIGURES["caseload_stage"], filters(manager))}
    assert mine == {A, C}


@pytest.mark.parametrize(
    "query",
    [
        "figure=nope",
        "figure=caseload_stage&key=a|b",
        "figure=caseload_stage&measure=nope",
        "figure=timeliness&measure=contact_days",
        "figure=mentoring_sessions&key=2026-13",  # a month key names a calendar month
        "figure=referrals_month&key=October|family",
    ],
)
def test_bad_drill_down_is_not_found(client, manager, query):
    client.force_login(manager)
    assert client.get(reverse("reports:cases") + "?" + query).status_code == 404


def test_bad_filters(client, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:dashboard") + "?start=2026-05-01&end=2026-01-01")
    assert response.status_code == 200
    assert "comes before its start" in response.content.decode()
    assert client.get(reverse("reports:export", args=["caseload_stage", "csv"]) + "?start=x").status_code == 400
    assert client.get(reverse("reports:export", args=["nope", "csv"])).status_code == 404
    assert client.get(reverse("reports:export", args=["caseload_stage", "pdf"])).status_code == 404


def test_csv_matches_the_screen(known, client, manager):
    client.force_login(manager)
    tng = City.objects.get(code="TNG").pk
    response = client.get(reverse("reports:export", args=["referrals_month", "csv"]) + f"?{PERIOD}&city={tng}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["Month", "Referral source", "Referrals"], ["2026-03", "Family", "1"], ["2026-06", "Family", "1"]]


def test_xlsx_read_back_matches_the_screen(known, follow_ups, client, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:export", args=["all", "xlsx"]) + "?" + PERIOD)
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(book.sheetnames) == len(FIGURES)
    for sheet_name, (slug, figure) in zip(book.sheetnames, FIGURES.items(), strict=True):
        sheet = list(book[sheet_name].iter_rows(values_only=True))
        result = figure_result(figure, filters(manager))
        assert sheet[1] == tuple(str(dim.title) for dim in figure.dims) + tuple(str(m.title) for m in figure.measures)
        body = sheet[2:]
        if result.total is not None:
            assert body[-1][len(figure.dims) :] == tuple(result.total[m.name] for m in figure.measures), slug
            body = body[:-1]
        expected = [tuple(row.labels) + tuple(row.values[m.name] for m in figure.measures) for row in result.rows]
        assert list(body) == expected, slug
    # and the screen shows the same numbers
    screen = client.get(reverse("reports:dashboard") + "?" + PERIOD).content.decode()
    assert 'data-testid="table-caseload_stage"' in screen
    stage_sheet = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert stage_sheet[2:] == [("Active", 1), ("Referral", 1), ("Total", 2)]


def test_dashboard_query_count_is_flat(demo, clock, client, manager, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import open_case

    org = manager.membership.organisation
    clock("2026-03-02")
    open_case(demo, by=manager, organisation=org, day="2026-03-02", source="family", city="TNG", n=1)
    clock("2026-11-25")
    client.force_login(manager)
    url = reverse("reports:dashboard") + "?" + PERIOD
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    clock("2026-04-02")
    for n in range(2, 12):
        open_case(demo, by=manager, organisation=org, day="2026-04-02", source="self", city="FES", n=n)
    clock("2026-11-25")
    # session, user with membership, the city and worker choices of the filter form, one query per
    # figure (its totals row included: summed from the groups, or by GROUPING SETS in the same query),
    # the navigation's and home panels' own: the same for 1 or 11 cases
    with django_assert_num_queries(len(few)):
        client.get(url)
    assert len(few) <= len(FIGURES) + 6


@pytest.mark.parametrize("who", ["caseworker", "manager", "auditor", "caseworker2", "authority"])
def test_my_figures_on_the_caseworkers_home_page(known, follow_ups, client, demo, who):
    client.force_login(demo[who])
    content = client.get(reverse("home")).content.decode()
    if who not in ("caseworker", "caseworker2"):
        assert 'data-testid="my-figures"' not in content
        return
    assert 'data-testid="my-figures"' in content
    from reports.selectors import my_figures

    figures = my_figures(demo[who], today=TODAY)
    if who == "caseworker":
        # A (active) is hers, D was declined; overdue: the plan review and the escalated reassessment
        assert figures["stages"] == [("Active", 1)]
        assert figures["overdue_total"] == 2
        assert "2 overdue follow-ups" in content
    else:
        # E only: B left its team with the transfer; Northern's cases are never counted
        assert figures["stages"] == [("Referral", 1)]
        assert figures["overdue_total"] == 1


def test_drill_down_names_the_row_as_the_dashboard_does(known, client, demo, manager):
    client.force_login(manager)
    lead = demo["caseworker"]
    url = reverse("reports:cases") + f"?figure=caseload_worker&key={lead.pk}&measure=cases&{PERIOD}"
    content = client.get(url).content.decode()
    assert f"Caseload by lead caseworker: {lead.get_full_name()}" in content
    assert known["A"].participant.case_code in content
    assert known["C"].participant.case_code not in content
