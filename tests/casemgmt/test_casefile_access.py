"""Role matrix for every case-file page and endpoint."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from casemgmt.casefile_views import SECTIONS
from tests.casemgmt.test_case_pages import ALL
from tests.programs.helpers import make_profile

# Who reads one row of each kind (the fixture's goal is an employment goal, its legal event a hearing).
READERS = {
    "assessment": {"caseworker", "manager"},
    "goal": {"caseworker", "manager", "placement"},
    "note": {"caseworker", "manager", "placement"},
    "legal_event": {"caseworker", "manager"},
    "relapse_event": {"caseworker", "manager"},
    "safety_flag": {"caseworker", "manager", "placement"},
    "conflict_history": {"caseworker", "manager"},
    "consent": {"caseworker", "manager"},
    "service_referral": {"caseworker", "manager"},
}
WRITERS = {key: {"caseworker", "manager"} if key == "consent" else {"caseworker"} for key in READERS}
# Whole sections a viewer may open (placement officers see condition events among legal events).
SECTION_READERS = {**READERS, "legal_event": {"caseworker", "manager", "placement"}}
API_PATHS = {s.key: s.slug for s in SECTIONS}
SLUGS = {s.key: s.slug for s in SECTIONS}


def _login(client, viewer):
    if viewer is not None:
        client.force_login(viewer)
    return client


def _expected(name, allowed, ok=200, anonymous=302):
    if name == "anonymous":
        return anonymous
    return ok if name in allowed else 404


@pytest.mark.parametrize("key", list(READERS))
@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_pages(client, records, active_case, viewer, request, key):
    name = request.node.callspec.params["viewer"]
    _login(client, viewer)
    record = records[key]
    slug = SLUGS[key]
    assert client.get(reverse("casefile-list", args=[active_case.pk, slug])).status_code == _expected(
        name, SECTION_READERS[key]
    )
    assert client.get(reverse("casefile-detail", args=[active_case.pk, slug, record.pk])).status_code == _expected(
        name, READERS[key]
    )
    assert client.get(reverse("casefile-create", args=[active_case.pk, slug])).status_code == _expected(
        name, WRITERS[key]
    )
    if key != "assessment":
        assert client.get(reverse("casefile-edit", args=[active_case.pk, slug, record.pk])).status_code == _expected(
            name, WRITERS[key]
        )


@pytest.mark.parametrize("key", list(READERS))
@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_endpoints(records, active_case, viewer, request, key):
    name = request.node.callspec.params["viewer"]
    api = APIClient()
    if viewer is not None:
        api.force_authenticate(viewer)
    record = records[key]
    path = f"/api/v1/{API_PATHS[key]}/"
    listing = api.get(path, {"case": active_case.pk})
    if name == "anonymous":
        assert listing.status_code == 401
        return
    assert listing.status_code == 200
    assert (record.pk in [r["id"] for r in listing.json()["results"]]) == (name in READERS[key])
    assert api.get(f"{path}{record.pk}/").status_code == _expected(name, READERS[key])
    response = api.patch(f"{path}{record.pk}/", {}, format="json")
    if key == "assessment":
        assert response.status_code in (404, 405)
    else:
        assert response.status_code == _expected(name, WRITERS[key])


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_create_endpoint_refuses_outsiders(active_case, viewer, request):
    name = request.node.callspec.params["viewer"]
    api = APIClient()
    if viewer is not None:
        api.force_authenticate(viewer)
    response = api.post(
        "/api/v1/notes/",
        {"case": active_case.pk, "kind": "call", "date": "2026-11-01", "text": "hello", "visibility": "team"},
        format="json",
    )
    if name == "anonymous":
        assert response.status_code == 401
    elif name == "caseworker":
        assert response.status_code == 201
    elif name in {"manager", "placement"}:
        assert response.status_code == 404  # they see the case but may not write notes
    else:
        assert response.status_code == 400  # the case is not theirs: "No such case", like a missing one
        assert response.json()["errors"] == {"case": ["No such case."]}


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_intake_and_documents(client, records, active_case, viewer, request):
    name = request.node.callspec.params["viewer"]
    _login(client, viewer)
    assert client.get(reverse("intake")).status_code == _expected(name, {"manager"})
    assert client.get(reverse("case-documents", args=[active_case.pk])).status_code == _expected(
        name, {"caseworker", "manager"}
    )


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_referral_and_template_endpoints(active_case, viewer, request):
    name = request.node.callspec.params["viewer"]
    api = APIClient()
    if viewer is not None:
        api.force_authenticate(viewer)
    referrals = api.get("/api/v1/referrals/")
    templates = api.get("/api/v1/assessment-templates/")
    if name == "anonymous":
        assert referrals.status_code == templates.status_code == 401
        return
    assert bool(templates.json()["results"]) == (name in {"caseworker", "colleague", "manager", "caseworker2"})
    assert referrals.json()["results"] == []  # the case is past screening


def test_placement_officer_sees_only_condition_events(client, demo, records, active_case):
    from casemgmt.casefile_services import record_create

    condition = record_create(
        key="legal_event",
        case=active_case,
        by=demo["caseworker"],
        data={"kind": "condition", "date": records["legal_event"].date, "description": "Weekly reporting"},
    )
    client.force_login(demo["placement"])
    response = client.get(reverse("casefile-list", args=[active_case.pk, "legal-events"]))
    assert [r.pk for r, _cells in response.context["table"]] == [condition.pk]


def test_plan_goals_are_filtered_by_domain_for_other_roles(demo, records, active_case):
    from casemgmt.access import records_visible_to
    from casemgmt.casefile_services import record_create
    from casemgmt.services import team_member_add

    family = record_create(
        key="goal",
        case=active_case,
        by=demo["caseworker"],
        data={"domain": "family", "title": "Family contact", "owner": demo["caseworker"]},
    )
    ideology = record_create(
        key="goal",
        case=active_case,
        by=demo["caseworker"],
        data={"domain": "ideology", "title": "Review", "owner": demo["caseworker"]},
    )
    make_profile(demo["supervisor"], demo["mentor"])  # a mentor's team row opens the case while vetted
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["mentor"], role="mentor")
    # A counsellor's team row opens the case while they hold a family engagement on it (issue 8).
    from families.services import engagement_create, member_add

    relative = member_add(
        case=active_case, by=demo["caseworker"], relation="mother", data={"given_name": "A", "family_name": "B"}
    ).member
    engagement_create(
        case=active_case, by=demo["caseworker"], kind="legal", members=[relative], counsellors=[demo["counsellor"]]
    )

    def goals(username):
        return set(records_visible_to(demo[username], "goal").values_list("pk", flat=True))

    assert goals("mentor") == {ideology.pk}
    assert goals("counsellor") == {family.pk}
    assert goals("placement") == {records["goal"].pk}
    assert goals("caseworker") == goals("manager") == {records["goal"].pk, family.pk, ideology.pk}
