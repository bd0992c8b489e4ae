"""API conventions for placements: 400 problems with field errors (never 500), schema, partner shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from programs.api.placements import PartnerPlacementSerializer
from programs.models import Placement
from tests.programs.placements.conftest import TODAY


@pytest.fixture
def api(demo):
    client = APIClient()
    client.force_authenticate(demo["placement"])
    return client


def _problem(response, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "case"),
        ({"case": "abc", "opportunity": 1, "proposed_on": "2026-01-01"}, "case"),
        ({"case": 999999, "opportunity": 1, "proposed_on": "2026-01-01"}, "case"),
        ({"case": None, "opportunity": None, "proposed_on": "yesterday"}, "proposed_on"),
    ],
)
def test_bad_placement_bodies_are_400_with_field_errors(api, active_case, body, field):
    body = _problem(api.post("/api/v1/placements/", body, format="json"))
    assert field in body["errors"]


def test_an_unknown_opportunity_and_a_future_date_are_field_errors(api, active_case, opportunity):
    body = _problem(
        api.post(
            "/api/v1/placements/",
            {"case": active_case.pk, "opportunity": 999999, "proposed_on": "2026-01-01"},
            format="json",
        )
    )
    assert body["errors"] == {"opportunity": ["No such opportunity."]}
    future = TODAY().replace(year=TODAY().year + 1).isoformat()
    body = _problem(
        api.post(
            "/api/v1/placements/",
            {"case": active_case.pk, "opportunity": opportunity.pk, "proposed_on": future},
            format="json",
        )
    )
    assert "proposed_on" in body["errors"]


def test_a_full_opportunity_is_a_400_problem_with_a_clear_message(api, demo, placement, opportunity, active_case):
    from programs import placement_services as services

    services.opportunity_update(by=demo["placement"], opportunity=opportunity, data={"places": 1})
    from tests.programs.placements.test_placement_rules import _ready_case

    other = _ready_case(demo, 55)
    body = _problem(
        api.post(
            "/api/v1/placements/",
            {"case": other.pk, "opportunity": opportunity.pk, "proposed_on": TODAY().isoformat()},
            format="json",
        )
    )
    assert body["errors"]["opportunity"] == ["“Warehouse job” is full: all 1 places are taken."]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "accepted", "on": TODAY().isoformat()}, "status"),  # started → accepted: illegal
        ({"status": "nonsense", "on": TODAY().isoformat()}, "status"),
        ({"status": "dropped_out"}, "on"),
        ({"status": "dropped_out", "on": TODAY().isoformat()}, "reason"),
        ({"status": "completed", "on": TODAY().isoformat(), "income_band": "rich"}, "income_band"),
    ],
)
def test_bad_transitions_are_400_with_field_errors(api, placement, body, field):
    response = _problem(api.post(f"/api/v1/placements/{placement.pk}/transition/", body, format="json"))
    assert field in response["errors"]
    placement.refresh_from_db()
    assert placement.status == "started"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day": 45, "recorded_on": TODAY().isoformat(), "still_there": True}, "day"),
        ({"day": 30, "recorded_on": TODAY().isoformat()}, "still_there"),
        (
            {"day": 30, "recorded_on": TODAY().isoformat(), "still_there": True, "partner_satisfaction": 6},
            "partner_satisfaction",
        ),
        ({"day": 30, "recorded_on": "2000-01-01", "still_there": True}, "recorded_on"),
    ],
)
def test_bad_check_ins_are_400_with_field_errors(api, placement, body, field):
    response = _problem(api.post(f"/api/v1/placements/{placement.pk}/check-ins/", body, format="json"))
    assert field in response["errors"]


def test_check_ins_of_a_placement_not_started_are_a_field_error(api, demo, active_case, opportunity):
    from programs import placement_services as services

    placed = services.placement_propose(
        by=demo["placement"], case=active_case, opportunity=opportunity, proposed_on=TODAY()
    )
    body = _problem(
        api.post(
            f"/api/v1/placements/{placed.pk}/check-ins/",
            {"day": 30, "recorded_on": TODAY().isoformat(), "still_there": True},
            format="json",
        )
    )
    assert "day" in body["errors"]


def test_bad_registry_bodies_are_400(api, partner):
    body = _problem(api.post("/api/v1/partners/", {"name": "", "kind": "ngo"}, format="json"))
    assert {"name", "kind"} <= set(body["errors"])
    body = _problem(
        api.post("/api/v1/partners/", {"name": "No City", "kind": "employer", "sector": "digital"}, format="json")
    )
    assert "city" in body["errors"]
    body = _problem(
        api.post("/api/v1/opportunities/", {"partner": partner.pk, "title": "x", "places": 0}, format="json")
    )
    assert {"kind", "sector", "city", "places"} <= set(body["errors"])
    assert "kind" in _problem(api.get("/api/v1/opportunities/", {"kind": "circus"}))["errors"]
    assert "case" in _problem(api.get("/api/v1/placements/", {"case": "x"}))["errors"]


def test_the_full_lifecycle_through_the_api(api, active_case, opportunity):
    created = api.post(
        "/api/v1/placements/",
        {"case": active_case.pk, "opportunity": opportunity.pk, "proposed_on": TODAY().isoformat()},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json()["partner"] == opportunity.partner_id
    for to in ("accepted", "started"):
        assert (
            api.post(
                f"/api/v1/placements/{pk}/transition/", {"status": to, "on": TODAY().isoformat()}, format="json"
            ).status_code
            == 200
        )
    check_ins = api.get(f"/api/v1/placements/{pk}/check-ins/").json()
    assert [c["day"] for c in check_ins] == [30, 90, 180]
    recorded = api.post(
        f"/api/v1/placements/{pk}/check-ins/",
        {"day": 30, "recorded_on": TODAY().isoformat(), "still_there": True, "hours_per_week": 38},
        format="json",
    )
    assert recorded.status_code == 201
    assert recorded.json()["hours_per_week"] == 38
    done = api.post(
        f"/api/v1/placements/{pk}/transition/",
        {
            "status": "completed",
            "on": TODAY().isoformat(),
            "certificate": True,
            "certificate_name": "CACES",
            "income_band": "minimum",
        },
        format="json",
    )
    assert done.status_code == 200
    assert done.json()["certificate_name"] == "CACES"


def test_schema_lists_the_placement_endpoints(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/partners/",
        "/api/v1/opportunities/",
        "/api/v1/placements/",
        "/api/v1/placements/{id}/transition/",
        "/api/v1/placements/{id}/check-ins/",
    ):
        assert path in paths


def test_the_partner_shape_carries_first_name_and_case_code_only(placement):
    row = Placement.objects.select_related("case__participant", "opportunity").get(pk=placement.pk)
    data = PartnerPlacementSerializer(row).data
    participant = row.case.participant
    assert data["participant_first_name"] == participant.given_name_latin
    assert data["case_code"] == participant.case_code
    flat = str(data)
    for hidden in (participant.family_name_latin, participant.national_id, participant.phone, participant.address):
        assert hidden not in flat
    assert set(data) == {
        "id",
        "opportunity",
        "opportunity_title",
        "status",
        "proposed_on",
        "accepted_on",
        "started_on",
        "ended_on",
        "participant_first_name",
        "case_code",
    }
