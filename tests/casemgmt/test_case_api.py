"""Case, participant and team endpoints: role matrix, field subsets on the keys, writes."""

import pytest
from rest_framework.test import APIClient

from casemgmt.models import AccessLog, Case, Stage, TeamRole
from casemgmt.services import team_member_add
from tests.casemgmt.test_case_pages import ALL
from tests.factories import CaseFactory, case_move_stage, northern_case
from tests.programs.helpers import make_profile

IN_SCOPE = {"caseworker", "placement", "manager"}
MOVERS = {"caseworker", "manager"}


@pytest.fixture
def api():
    return APIClient()


def _as(api, viewer):
    if viewer is not None:
        api.force_authenticate(viewer)
    return api


def _name(request):
    return request.node.callspec.params["viewer"]


def _expect(name, allowed, ok=200):
    if name == "anonymous":
        return 401
    return ok if name in allowed else 404


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_list(api, case, viewer, request):
    response = _as(api, viewer).get("/api/v1/cases/")
    name = _name(request)
    if name == "anonymous":
        assert response.status_code == 401
        return
    ids = [row["id"] for row in response.json()["results"]]
    assert (case.pk in ids) == (name in IN_SCOPE)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_detail(api, case, viewer, request):
    response = _as(api, viewer).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == _expect(_name(request), IN_SCOPE)
    if response.status_code == 404:
        assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_participant_list_and_detail(api, case, viewer, request):
    name = _name(request)
    api = _as(api, viewer)
    detail = api.get(f"/api/v1/participants/{case.participant_id}/")
    assert detail.status_code == _expect(name, IN_SCOPE)
    listing = api.get("/api/v1/participants/")
    if name != "anonymous":
        ids = [row["id"] for row in listing.json()["results"]]
        assert (case.participant_id in ids) == (name in IN_SCOPE)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_transition(api, case, viewer, request):
    name = _name(request)
    response = _as(api, viewer).post(
        f"/api/v1/cases/{case.pk}/transition/", {"to_stage": "screening", "reason": "first contact"}
    )
    assert response.status_code == _expect(name, MOVERS)
    case.refresh_from_db()
    assert (case.stage == Stage.SCREENING) == (name in MOVERS)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_team_read_and_write(api, demo, case, viewer, request):
    name = _name(request)
    api = _as(api, viewer)
    assert api.get(f"/api/v1/cases/{case.pk}/team/").status_code == _expect(name, IN_SCOPE)
    response = api.post(f"/api/v1/cases/{case.pk}/team/", {"user": demo["colleague"].pk, "role": "caseworker"})
    assert response.status_code == _expect(name, MOVERS, ok=201)
    member = case.team.get(user=demo["placement"])
    response = api.delete(f"/api/v1/cases/{case.pk}/team/{member.pk}/")
    assert response.status_code == _expect(name, MOVERS, ok=204)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_create(api, demo, viewer, request):
    name = _name(request)
    before = Case.objects.count()
    response = _as(api, viewer).post(
        "/api/v1/cases/",
        {
            "given_name_latin": "Samir",
            "family_name_latin": "Testouni",
            "city": "TET",
            "referral_source": "family",
            "referral_date": "2026-10-01",
        },
        format="json",
    )
    allowed = {"caseworker", "colleague", "manager", "caseworker2"}
    assert response.status_code == _expect(name, allowed, ok=201)
    assert Case.objects.count() == before + (1 if name in allowed else 0)
    if response.status_code == 201:
        body = response.json()
        assert body["case_code"].startswith("TET-")
        assert body["stage"] == "referral"
        case = Case.objects.get(pk=body["id"])
        assert case.organisation == demo[name].membership.organisation
        # a caseworker who opens a case leads it; a manager's lands in the intake queue
        assert (body["lead"] is not None) == (name != "manager")


ALL_KEYS = {
    "id", "participant_id", "organisation", "updated_at", "case_code", "lead",
    "given_name_latin", "family_name_latin", "given_name_arabic", "family_name_arabic", "city",
    "stage", "stage_changed_at", "languages", "date_of_birth", "national_id", "phone", "email", "address",
    "referral_source", "referral_date", "referring_organisation", "referral_reason",
}  # fmt: skip
NO_IDENTITY = {"date_of_birth", "national_id"}
NO_REFERRAL = {"referral_source", "referral_date", "referring_organisation", "referral_reason"}
NO_CONTACT = {"phone", "email", "address"}


@pytest.mark.parametrize(
    ("username", "keys"),
    [
        ("caseworker", ALL_KEYS),
        ("manager", ALL_KEYS),
        ("placement", ALL_KEYS - NO_IDENTITY - NO_REFERRAL),
        ("mentor", ALL_KEYS - NO_IDENTITY - NO_REFERRAL - NO_CONTACT),
    ],
)
def test_field_subsets_on_the_keys(api, demo, case, username, keys):
    make_profile(demo["supervisor"], demo["mentor"])  # a mentor's team row opens the case while vetted
    team_member_add(case=case, by=demo["caseworker"], user=demo["mentor"], role=TeamRole.MENTOR)
    api.force_authenticate(demo[username])
    assert set(api.get(f"/api/v1/cases/{case.pk}/").json()) == keys
    listed = next(row for row in api.get("/api/v1/cases/").json()["results"] if row["id"] == case.pk)
    assert set(listed) == keys
    participant = api.get(f"/api/v1/participants/{case.participant_id}/").json()
    assert set(participant) >= NO_IDENTITY if keys == ALL_KEYS else not NO_IDENTITY & set(participant)


def test_api_detail_read_is_logged(api, caseworker, case):
    api.force_authenticate(caseworker)
    api.get(f"/api/v1/cases/{case.pk}/")
    log = AccessLog.objects.get()
    assert (log.channel, log.view, log.user_id) == ("api", "api-case-detail", caseworker.pk)


def test_list_filters(api, demo, caseworker, case):
    api.force_authenticate(caseworker)

    def ids(**params):
        return [row["id"] for row in api.get("/api/v1/cases/", params).json()["results"]]

    assert ids(stage="referral") == [case.pk]
    assert ids(stage="active") == []
    assert ids(city="TNG") == [case.pk]
    assert ids(city="FES") == []
    assert ids(search=case.participant.case_code) == [case.pk]
    assert ids(search="elyaz") == [case.pk]
    assert ids(search="اليزيدي") == [case.pk]
    assert ids(lead=caseworker.pk) == [case.pk]
    assert ids(lead=demo["colleague"].pk) == []
    assert ids(referral_source="family") == [case.pk]


@pytest.mark.parametrize(
    ("params", "field"), [({"stage": "limbo"}, "stage"), ({"city": "XXX"}, "city"), ({"lead": "abc"}, "lead")]
)
def test_bad_filters_are_400_with_field_errors(api, caseworker, params, field):
    api.force_authenticate(caseworker)
    response = api.get("/api/v1/cases/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_illegal_transition_is_400_with_a_clear_message(api, caseworker, case):
    api.force_authenticate(caseworker)
    response = api.post(f"/api/v1/cases/{case.pk}/transition/", {"to_stage": "active", "reason": "skip ahead"})
    assert response.status_code == 400
    message = response.json()["errors"]["to_stage"][0]
    assert "cannot move to" in message
    assert "Screening" in message  # what is allowed instead
    case.refresh_from_db()
    assert case.stage == Stage.REFERRAL


def test_patch_respects_editable_fields(api, demo, case):
    api.force_authenticate(demo["caseworker"])
    response = api.patch(f"/api/v1/cases/{case.pk}/", {"national_id": "AB123456", "city": "FES"}, format="json")
    assert response.status_code == 200, response.json()
    case.participant.refresh_from_db()
    assert case.participant.national_id == "AB123456"
    assert case.participant.city.code == "FES"

    api.force_authenticate(demo["manager"])  # the intake only
    response = api.patch(f"/api/v1/cases/{case.pk}/", {"national_id": "ZZ1"}, format="json")
    assert response.status_code == 400
    assert "national_id" in response.json()["errors"]
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"referral_reason": "x"}, format="json").status_code == 200

    api.force_authenticate(demo["placement"])
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "1"}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "not a date"}, "date_of_birth"),
        ({"referral_date": "2999-01-01"}, "referral_date"),
        ({"city": "ZZZ"}, "city"),
        ({"languages": ["klingon"]}, "languages"),
        ({"email": "nope"}, "email"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(api, caseworker, case, payload, field):
    api.force_authenticate(caseworker)
    before = Case.objects.values().get(pk=case.pk), type(case.participant).objects.values().get(pk=case.participant_id)
    response = api.patch(f"/api/v1/cases/{case.pk}/", payload, format="json")
    assert response.status_code == 400
    # nested messages are flattened with dots (`languages.0`): every problem's `errors` is {field: [messages]}
    assert any(key.split(".")[0] == field for key in response.json()["errors"])
    after = Case.objects.values().get(pk=case.pk), type(case.participant).objects.values().get(pk=case.participant_id)
    assert before == after


def test_create_with_missing_fields_creates_nothing(api, caseworker):
    api.force_authenticate(caseworker)
    response = api.post("/api/v1/cases/", {"given_name_latin": "X"}, format="json")
    assert response.status_code == 400
    assert {"family_name_latin", "city", "referral_source", "referral_date"} <= set(response.json()["errors"])
    assert not Case.objects.exists()


@pytest.mark.parametrize("username", ["caseworker", "colleague", "manager", "placement", "mentor", "caseworker2"])
def test_the_fast_list_rows_equal_the_serializer(demo, username, django_assert_num_queries):
    """`case_rows` (the API list) writes exactly what `CaseSerializer` writes, row by row and role by role,
    from the list's columns alone (no query per row for a column it did not load)."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from casemgmt import selectors
    from casemgmt.api.cases import CaseSerializer, case_list_columns, case_list_values, case_rows
    from casemgmt.services import case_profile_update

    make_profile(demo["supervisor"], demo["mentor"])
    cases = [northern_case(demo, n=n) for n in range(3)]
    # a referral nobody leads yet: its lead is null in both
    CaseFactory(organisation=demo["caseworker"].membership.organisation, by=demo["manager"])
    team_member_add(case=cases[0], by=demo["caseworker"], user=demo["mentor"], role=TeamRole.MENTOR)
    team_member_add(case=cases[1], by=demo["caseworker"], user=demo["colleague"], role=TeamRole.CASEWORKER)
    case_profile_update(case=cases[2], by=demo["caseworker"], changes={"date_of_birth": None, "languages": []})
    case_move_stage(case=cases[1], by=demo["caseworker"], to_stage=Stage.SCREENING, reason="walk")
    user = demo[username]
    request = Request(APIRequestFactory().get("/api/v1/cases/"))
    request.user = user
    rows = list(selectors.case_list(user=user))
    expected = CaseSerializer(rows, many=True, context={"request": request}).data
    # the list's queryset as CaseViewSet builds it: its columns, and the lead as one JSON subquery
    listed = list(
        case_list_values(
            selectors.case_list(user=user, columns=case_list_columns(user), lead_columns=("object",)), user
        )
    )
    with django_assert_num_queries(0):
        assert case_rows(listed, user) == [dict(row) for row in expected]
    assert len(rows) == {"caseworker": 3, "colleague": 1, "manager": 4, "placement": 3, "mentor": 1}.get(username, 0)
    if username == "manager":
        assert [row["lead"] for row in expected].count(None) == 1


@pytest.mark.parametrize("zone", ["UTC", "Africa/Casablanca", "Asia/Kolkata"])
def test_the_list_writes_times_as_drf_does(zone):
    """`_datetime` (the API list's times, the zone asked for once per response) equals DRF's
    DateTimeField in the active time zone, `Z` for UTC included."""
    import datetime
    import zoneinfo

    from django.utils import timezone
    from rest_framework import serializers

    from casemgmt.api.cases import _datetime

    moments = [datetime.datetime(2026, month, 3, 10, 30, 5, 123456, tzinfo=datetime.UTC) for month in (1, 3, 7, 12)]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for moment in moments:
            assert _datetime(moment, timezone.get_current_timezone()) == serializers.DateTimeField().to_representation(
                moment
            )
    assert _datetime(None, zoneinfo.ZoneInfo(zone)) is None
