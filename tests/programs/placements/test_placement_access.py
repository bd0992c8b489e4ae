"""Role matrix of every placement page and endpoint: out of scope is 404, never 403."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from casemgmt import access
from programs.models import CheckIn, EmployabilityProfile, Opportunity, PartnerProfile, Placement
from tests.programs.placements.conftest import (
    CASE_READERS,
    CASE_WRITERS,
    MATRIX,
    REGISTRY_READERS,
    REGISTRY_WRITERS,
    TODAY,
)

# the list page opens for the roles that read placements; its rows follow the rule
PLACEMENT_LIST_READERS = {"placement", "placement2", "caseworker", "colleague", "caseworker2", "manager"}


def _client(client, people, name):
    if people[name] is not None:
        client.force_login(people[name])
    return client


def _api(people, name):
    api = APIClient()
    if people[name] is not None:
        api.force_authenticate(people[name])
    return api


def _expected(name, allowed, ok=200):
    if name == "anonymous":
        return 302
    return ok if name in allowed else 404


# --- Pages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MATRIX)
def test_case_bound_pages(client, people, name, placement, profile, active_case):
    c = _client(client, people, name)
    check_in = placement.check_ins.get(day=30)
    assert c.get(reverse("case-placements", args=[active_case.pk])).status_code == _expected(name, CASE_READERS)
    assert c.get(reverse("placement-detail", args=[placement.pk])).status_code == _expected(name, CASE_READERS)
    assert c.get(reverse("employability-edit", args=[active_case.pk])).status_code == _expected(name, CASE_WRITERS)
    # writes: only the placement officer on the team (a redirect after the service ran)
    move = c.post(
        reverse("placement-move", args=[placement.pk]),
        {"to_status": "completed", "on": TODAY().isoformat(), "confirm": "on"},
    )
    assert move.status_code == _expected(name, CASE_WRITERS, ok=302)
    record = c.post(
        reverse("check-in-record", args=[placement.pk, check_in.pk]),
        {f"ci{check_in.pk}-recorded_on": TODAY().isoformat(), f"ci{check_in.pk}-still_there": "true"},
    )
    assert record.status_code == _expected(name, CASE_WRITERS, ok=302)
    edit = c.post(reverse("employability-edit", args=[active_case.pk]), {"education_level": "4", "skills": "x"})
    assert edit.status_code == _expected(name, CASE_WRITERS, ok=302)
    propose = c.post(
        reverse("placement-propose", args=[active_case.pk]),
        {"opportunity": placement.opportunity_id, "proposed_on": TODAY().isoformat()},
    )
    assert propose.status_code == _expected(name, CASE_WRITERS, ok=302)
    placement.refresh_from_db()
    assert (placement.status == "completed") == (name in CASE_WRITERS)
    check_in.refresh_from_db()
    assert (check_in.recorded_on is not None) == (name in CASE_WRITERS)
    assert (EmployabilityProfile.objects.get().education_level == 4) == (name in CASE_WRITERS)


@pytest.mark.parametrize("name", MATRIX)
def test_case_page_link_to_placements_only_for_readers(client, people, name, active_case):
    response = _client(client, people, name).get(reverse("case-detail", args=[active_case.pk]))
    if name in CASE_READERS:
        assert reverse("case-placements", args=[active_case.pk]) in response.content.decode()


@pytest.mark.parametrize("name", MATRIX)
def test_placement_list_shows_only_placements_in_scope(client, people, name, placement):
    response = _client(client, people, name).get(reverse("placement-list"), {"status": ""})
    assert response.status_code == _expected(name, PLACEMENT_LIST_READERS)
    if response.status_code == 200:
        shown = [p.pk for p, _due in response.context["rows"]]
        assert (placement.pk in shown) == (name in CASE_READERS)


@pytest.mark.parametrize("name", MATRIX)
def test_registry_pages(client, people, name, opportunity, partner):
    c = _client(client, people, name)
    for url in (
        reverse("partner-list"),
        reverse("partner-detail", args=[partner.pk]),
        reverse("opportunity-board"),
        reverse("opportunity-detail", args=[opportunity.pk]),
    ):
        assert c.get(url).status_code == _expected(name, REGISTRY_READERS), url
    for url in (
        reverse("partner-create"),
        reverse("partner-edit", args=[partner.pk]),
        reverse("opportunity-create"),
        reverse("opportunity-edit", args=[opportunity.pk]),
    ):
        assert c.get(url).status_code == _expected(name, REGISTRY_WRITERS), url
    created = c.post(
        reverse("opportunity-create"),
        {
            "partner": partner.pk,
            "title": f"By {name}",
            "kind": "course",
            "sector": "digital",
            "city": partner.city_id,
            "places": "3",
            "pay_band": "none",
            "is_open": "on",
        },
    )
    assert created.status_code == _expected(name, REGISTRY_WRITERS, ok=302)
    assert Opportunity.objects.filter(title=f"By {name}").exists() == (name in REGISTRY_WRITERS)
    renamed = c.post(
        reverse("opportunity-edit", args=[opportunity.pk]),
        {
            "partner": partner.pk,
            "title": f"Renamed by {name}",
            "kind": "job",
            "sector": "logistics",
            "city": partner.city_id,
            "places": "5",
            "pay_band": "none",
            "is_open": "on",
        },
    )
    assert renamed.status_code == _expected(name, REGISTRY_WRITERS, ok=302)
    opportunity.refresh_from_db()
    assert (opportunity.title == f"Renamed by {name}") == (name in REGISTRY_WRITERS)
    profile = c.post(
        reverse("partner-edit", args=[partner.pk]),
        {"sector": "retail", "city": partner.city_id, "agreement_status": "signed", "contact_name": name},
    )
    assert profile.status_code == _expected(name, REGISTRY_WRITERS, ok=302)
    partner.partner_profile.refresh_from_db()
    assert (partner.partner_profile.contact_name == name) == (name in REGISTRY_WRITERS)


def test_a_placement_officer_off_the_team_sees_the_board_but_not_the_placement(client, people, placement, opportunity):
    client.force_login(people["placement2"])
    page = client.get(reverse("opportunity-detail", args=[opportunity.pk]))
    assert page.status_code == 200
    assert page.context["placements"] == []  # another team's participant stays invisible
    assert page.context["candidates"] == []
    assert "TNG-" not in page.content.decode()


def test_a_partner_added_by_a_placement_officer_records_who(client, people):
    client.force_login(people["placement"])
    response = client.post(
        reverse("partner-create"),
        {
            "name": "New Bakery",
            "kind": "employer",
            "sector": "hospitality",
            "city": people["placement"].organisation.city_id,
            "agreement_status": "negotiating",
        },
    )
    assert response.status_code == 302
    profile = PartnerProfile.objects.get(organisation__name="New Bakery")
    assert profile.updated_by == people["placement"]
    assert profile.organisation.kind == "employer"


def test_form_errors_show_next_to_fields(client, people, active_case):
    client.force_login(people["placement"])
    response = client.post(reverse("partner-create"), {"name": "", "kind": "ngo"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "is-invalid" in html
    assert 'aria-invalid="true"' in html


def test_ending_a_placement_in_the_ui_asks_for_confirmation(client, people, placement):
    client.force_login(people["placement"])
    data = {"to_status": "dismissed", "on": TODAY().isoformat(), "reason": "Late every day"}
    response = client.post(reverse("placement-move", args=[placement.pk]), data, follow=True)
    assert "Tick to confirm" in response.content.decode()
    placement.refresh_from_db()
    assert placement.status == "started"
    client.post(reverse("placement-move", args=[placement.pk]), {**data, "confirm": "on"})
    placement.refresh_from_db()
    assert (placement.status, placement.end_reason) == ("dismissed", "Late every day")


def test_an_illegal_transition_in_the_ui_shows_the_error(client, people, placement):
    client.force_login(people["placement"])
    response = client.post(
        reverse("placement-move", args=[placement.pk]),
        {"to_status": "accepted", "on": TODAY().isoformat()},
        follow=True,
    )
    assert "cannot become" in response.content.decode()
    placement.refresh_from_db()
    assert placement.status == "started"


# --- API ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MATRIX)
def test_placement_endpoints(people, name, placement, active_case):
    api = _api(people, name)
    listing = api.get("/api/v1/placements/")
    if name == "anonymous":
        assert listing.status_code == 401
        assert api.get(f"/api/v1/placements/{placement.pk}/").status_code == 401
        return
    assert listing.status_code == 200
    assert (placement.pk in [r["id"] for r in listing.json()["results"]]) == (name in CASE_READERS)
    reads = 200 if name in CASE_READERS else 404
    assert api.get(f"/api/v1/placements/{placement.pk}/").status_code == reads
    assert api.get(f"/api/v1/placements/{placement.pk}/check-ins/").status_code == reads
    writes = 201 if name in CASE_WRITERS else 404
    recorded = api.post(
        f"/api/v1/placements/{placement.pk}/check-ins/",
        {"day": 30, "recorded_on": TODAY().isoformat(), "still_there": True},
        format="json",
    )
    assert recorded.status_code == writes
    moved = api.post(
        f"/api/v1/placements/{placement.pk}/transition/",
        {"status": "completed", "on": TODAY().isoformat()},
        format="json",
    )
    assert moved.status_code == (200 if name in CASE_WRITERS else 404)
    # proposing on a case out of scope reads like a missing case (400 on the field), a reader who may not
    # write gets 404
    created = api.post(
        "/api/v1/placements/",
        {"case": active_case.pk, "opportunity": placement.opportunity_id, "proposed_on": TODAY().isoformat()},
        format="json",
    )
    if name in CASE_WRITERS:
        assert created.status_code == 201
    elif name in CASE_READERS | {"counsellor", "mentor"}:  # they open the case but may not write placements
        assert created.status_code == 404
    else:
        assert created.status_code == 400
        assert created.json()["errors"] == {"case": ["No such case."]}
    assert CheckIn.objects.filter(recorded_on__isnull=False).exists() == (name in CASE_WRITERS)
    assert Placement.objects.filter(status="completed").exists() == (name in CASE_WRITERS)


@pytest.mark.parametrize("name", MATRIX)
def test_registry_endpoints(people, name, partner, opportunity):
    api = _api(people, name)
    if name == "anonymous":
        assert api.get("/api/v1/partners/").status_code == 401
        assert api.get("/api/v1/opportunities/").status_code == 401
        return
    partners = api.get("/api/v1/partners/")
    assert partners.status_code == 200
    assert (partner.pk in [r["id"] for r in partners.json()["results"]]) == (name in REGISTRY_READERS)
    board = api.get("/api/v1/opportunities/")
    assert (opportunity.pk in [r["id"] for r in board.json()["results"]]) == (name in REGISTRY_READERS)
    reads = 200 if name in REGISTRY_READERS else 404
    assert api.get(f"/api/v1/partners/{partner.pk}/").status_code == reads
    assert api.get(f"/api/v1/opportunities/{opportunity.pk}/").status_code == reads
    writes = name in REGISTRY_WRITERS
    patched = api.patch(f"/api/v1/opportunities/{opportunity.pk}/", {"title": f"Renamed by {name}"}, format="json")
    assert patched.status_code == (200 if writes else 404)
    created = api.post(
        "/api/v1/partners/",
        {"name": f"Partner of {name}", "kind": "training_provider", "sector": "digital", "city": partner.city_id},
        format="json",
    )
    assert created.status_code == (201 if writes else 404)
    profile = api.patch(f"/api/v1/partners/{partner.pk}/", {"contact_name": name}, format="json")
    assert profile.status_code == (200 if writes else 404)
    published = api.post(
        "/api/v1/opportunities/",
        {
            "partner": partner.pk,
            "title": f"API by {name}",
            "kind": "course",
            "sector": "digital",
            "city": partner.city_id,
            "places": 2,
        },
        format="json",
    )
    assert published.status_code == (201 if writes else 404)
    if writes:
        assert (published.json()["taken"], published.json()["free"]) == (0, 2)


def test_registered_rules_agree_between_the_case_shortcut_and_the_full_rule(people, placement, profile, active_case):
    for name, user in people.items():
        if user is None:
            continue
        case = access.cases_visible_to(user).filter(pk=active_case.pk).first()
        for key in ("placement", "placement_check_in", "employability"):
            everywhere = set(access.records_visible_to(user, key).filter(case=active_case).values_list("pk", flat=True))
            expected = name in CASE_READERS
            assert bool(everywhere) == expected, (name, key)
            if case is not None:
                here = set(access.case_records_visible_to(user, case, key).values_list("pk", flat=True))
                assert here == everywhere, (name, key)
