"""The board, the directory and the placement lists cost the same for one row or many."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from casemgmt.models import Stage
from programs import placement_services as services
from tests.factories import case_move_stage, northern_case
from tests.programs.placements.conftest import TODAY, make_opportunity, make_partner


def _count(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response
    return len(ctx.captured_queries)


def _placements(demo, partner, n, start):
    """n started placements (with their check-ins) on n cases of `placement`'s team."""
    officer = demo["placement"]
    for i in range(start, start + n):
        case = northern_case(demo, n=i)
        for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
            case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
        opportunity = make_opportunity(officer, partner, title=f"Job {i}", places=1)
        day = TODAY() - datetime.timedelta(days=5)
        placed = services.placement_propose(by=officer, case=case, opportunity=opportunity, proposed_on=day)
        placed = services.placement_move(by=officer, placement=placed, to_status="accepted", on=day)
        services.placement_move(by=officer, placement=placed, to_status="started", on=day)


@pytest.mark.parametrize("username", ["placement", "manager"])
def test_board_directory_and_placement_list_pages_do_not_grow(client, demo, username):
    officer = demo["placement"]
    partner = make_partner(officer)
    _placements(demo, partner, 1, 0)
    client.force_login(demo[username])
    # session with user and membership, cities of the filter, count, one page of opportunities with partner, city
    # and taken places
    board_one = _count(lambda: client.get(reverse("opportunity-board")))
    assert board_one == 4
    # session with user and membership, count, one page of partners with profile, city and open opportunities
    partners_one = _count(lambda: client.get(reverse("partner-list")))
    assert partners_one == 3
    # session with user and membership, count, one page of placements with case, participant, opportunity, partner
    # and next check-in (subqueries); the access-log insert (one row per case, one statement)
    list_one = _count(lambda: client.get(reverse("placement-list")))
    assert list_one == 4
    for i in range(1, 15):
        make_partner(officer, name=f"Partner {i}")
    _placements(demo, partner, 14, 1)
    assert _count(lambda: client.get(reverse("opportunity-board"))) == board_one
    assert _count(lambda: client.get(reverse("partner-list"))) == partners_one
    assert _count(lambda: client.get(reverse("placement-list"))) == list_one


def test_case_placements_page_does_not_grow_with_placements(client, demo):
    officer = demo["placement"]
    partner = make_partner(officer)
    case = northern_case(demo, n=0)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    client.force_login(officer)

    def add(title):
        opportunity = make_opportunity(officer, partner, title=title)
        services.placement_propose(by=officer, case=case, opportunity=opportunity, proposed_on=TODAY())

    add("first")
    one = _count(lambda: client.get(reverse("case-placements", args=[case.pk])))
    for i in range(8):
        add(f"more {i}")
    assert _count(lambda: client.get(reverse("case-placements", args=[case.pk]))) == one


def test_api_lists_do_not_grow(demo):
    officer = demo["placement"]
    partner = make_partner(officer)
    _placements(demo, partner, 1, 0)
    api = APIClient()
    api.force_authenticate(officer)
    # one page (cursor pagination: no count); placements also log their reads in one insert
    counts = {
        url: _count(lambda url=url: api.get(url))
        for url in ("/api/v1/partners/", "/api/v1/opportunities/", "/api/v1/placements/")
    }
    assert counts["/api/v1/opportunities/"] == 1
    assert counts["/api/v1/partners/"] == 1
    assert counts["/api/v1/placements/"] == 2
    for i in range(1, 10):
        make_partner(officer, name=f"Partner {i}")
    _placements(demo, partner, 9, 1)
    for url, before in counts.items():
        assert _count(lambda url=url: api.get(url)) == before, url
