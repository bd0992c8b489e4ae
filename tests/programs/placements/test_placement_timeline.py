"""Placements on the case timeline and in the case's change history; demo data; navigation."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casemgmt import access
from casemgmt.timeline import case_timeline
from programs import placement_services as services
from programs.models import CheckIn, Opportunity, PartnerProfile, Placement, PlacementStatus
from tests.programs.placements.conftest import TODAY


def _titles(user, case):
    annotated = access.cases_visible_to(user).get(pk=case.pk)
    return [e.title for e in case_timeline(user, annotated)]


def test_placement_events_on_the_timeline_for_readers_only(demo, placement, active_case):
    services.check_in_record(
        by=demo["placement"], check_in=placement.check_ins.get(day=30), recorded_on=TODAY(), data={"still_there": True}
    )
    services.placement_move(
        by=demo["placement"], placement=placement, to_status="dropped_out", on=TODAY(), reason="Moved"
    )
    for name in ("placement", "caseworker", "manager"):
        titles = _titles(demo[name], active_case)
        assert "Placement proposed: Warehouse job" in titles, name
        assert "Placement started: Warehouse job" in titles
        assert "Placement dropped out: Warehouse job" in titles
        assert "30-day check-in: still there" in titles
    for name in ("counsellor", "mentor"):
        assert not any("lacement" in t or "check-in" in t for t in _titles(demo[name], active_case)), name


def test_the_timeline_stays_one_query_with_placements(demo, placement, active_case):
    user = demo["placement"]
    annotated = access.cases_visible_to(user).get(pk=active_case.pk)
    access.visible_groups(user, annotated)
    with CaptureQueriesContext(connection) as ctx:
        case_timeline(user, annotated)
    assert len(ctx.captured_queries) == 1


def test_the_timeline_page_links_to_the_placement(client, demo, placement, active_case):
    client.force_login(demo["caseworker"])
    html = client.get(reverse("case-timeline", args=[active_case.pk])).content.decode()
    assert reverse("placement-detail", args=[placement.pk]) in html


def test_the_case_history_shows_placement_versions_to_caseworkers(client, demo, placement, active_case):
    client.force_login(demo["caseworker"])
    response = client.get(reverse("case-history", args=[active_case.pk]))
    assert response.status_code == 200
    assert "Started" in response.content.decode() or "started" in response.content.decode()


def test_the_case_page_shows_the_employment_goals_and_the_profile(client, demo, placement, profile, active_case):
    from casemgmt.casefile_services import record_create

    record_create(
        key="goal", case=active_case, by=demo["caseworker"], data={"domain": "employment", "title": "Find a job"}
    )
    record_create(
        key="goal", case=active_case, by=demo["caseworker"], data={"domain": "family", "title": "FAMILY-GOAL"}
    )
    client.force_login(demo["placement"])
    html = client.get(reverse("case-placements", args=[active_case.pk])).content.decode()
    assert "Find a job" in html
    assert "FAMILY-GOAL" not in html
    assert "Secondary (baccalauréat)" in html
    assert "Warehouse job" in html


def test_placements_are_listed_under_the_employment_goals(client, demo, placement, active_case):
    from casemgmt.casefile_services import record_create

    work = record_create(
        key="goal", case=active_case, by=demo["caseworker"], data={"domain": "employment", "title": "Work"}
    )
    family = record_create(
        key="goal", case=active_case, by=demo["caseworker"], data={"domain": "family", "title": "Fam"}
    )
    link = reverse("placement-detail", args=[placement.pk])
    for name in ("caseworker", "placement", "manager"):
        client.force_login(demo[name])
        assert link in client.get(reverse("casefile-detail", args=[active_case.pk, "goals", work.pk])).content.decode()
    client.force_login(demo["caseworker"])
    assert (
        link not in client.get(reverse("casefile-detail", args=[active_case.pk, "goals", family.pk])).content.decode()
    )


def test_navigation(client, demo):
    for name, shown in (("placement", True), ("manager", True), ("caseworker", False), ("mentor", False)):
        client.force_login(demo[name])
        html = client.get("/").content.decode()
        assert (reverse("opportunity-board") in html) == shown, name


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_demo_placements_in_every_state_on_the_officers_cases(seeded, demo):
    statuses = set(Placement.objects.values_list("status", flat=True))
    assert statuses == set(PlacementStatus.values)
    officer = demo["placement"]
    assert Placement.objects.count() == access.records_visible_to(officer, "placement").count()
    assert CheckIn.objects.filter(recorded_on__isnull=False).exists()
    assert (
        PartnerProfile.objects.filter(
            organisation__name__in=["Strait Logistics", "Tetouan Vocational Institute"]
        ).count()
        == 2
    )
    assert PartnerProfile.objects.count() >= 4
    from programs.placement_selectors import with_places

    board = with_places(Opportunity.objects.all())
    assert board.filter(is_open=True, free__lte=0).exists()  # a full opportunity
    assert board.filter(is_open=True, free__gt=0).exists()
    assert all(o.free >= 0 for o in board)
    before = (Placement.objects.count(), CheckIn.objects.count(), Opportunity.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Placement.objects.count(), CheckIn.objects.count(), Opportunity.objects.count()) == before
    assert datetime.date.today()  # dates are relative to today
