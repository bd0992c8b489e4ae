"""API conventions: problem details for every error, cursor pagination, /me for every role."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import Membership, Role, User
from casemgmt.api.problems import PROBLEM_CONTENT_TYPE, exception_handler
from tests.conftest import DEMO_USERNAMES


@pytest.fixture
def api():
    return APIClient()


def _assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"] == "about:blank"
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/me/", "/api/v1/users/", "/api/v1/schema/", "/api/v1/docs/"])
def test_anonymous_gets_401_problem_details(api, url):
    body = _assert_problem(api.get(url), 401)
    assert body["instance"] == url
    assert api.get(url)["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_unknown_api_url_is_a_404_problem(api, caseworker):
    api.force_authenticate(caseworker)
    _assert_problem(api.get("/api/v1/no-such-thing/"), 404)


def test_missing_object_is_a_404_problem(api, admin, caseworker2):
    api.force_authenticate(admin)
    _assert_problem(api.get(f"/api/v1/users/{caseworker2.pk}/"), 404)  # another organisation: not found


def test_wrong_method_is_a_405_problem(api, caseworker):
    api.force_authenticate(caseworker)
    _assert_problem(api.post("/api/v1/me/", {}), 405)


def test_csrf_failure_on_session_write_is_a_403_problem(caseworker):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(caseworker)
    _assert_problem(api.post("/api/v1/me/", {}), 403)


def test_validation_errors_carry_field_messages_under_errors():
    class Thing(serializers.Serializer):
        name = serializers.CharField()

    request = APIRequestFactory().post("/api/v1/things/")
    serializer = Thing(data={})
    with pytest.raises(serializers.ValidationError) as caught:
        serializer.is_valid(raise_exception=True)
    response = exception_handler(caught.value, {"request": request})
    assert response.status_code == 400
    assert response.data["errors"] == {"name": ["This field is required."]}
    assert response.data["title"] == "Invalid input"
    assert response.content_type == PROBLEM_CONTENT_TYPE


def test_model_validation_errors_from_services_become_400_with_fields():
    request = APIRequestFactory().post("/api/v1/things/")
    response = exception_handler(DjangoValidationError({"role": ["Not allowed."]}), {"request": request})
    assert response.status_code == 400
    assert response.data["errors"] == {"role": ["Not allowed."]}


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_me_returns_organisation_and_role(api, demo, username):
    user = demo[username]
    api.force_authenticate(user)
    response = api.get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == username
    assert body["role"] == user.membership.role
    assert body["organisation"] == {
        "id": user.membership.organisation_id,
        "name": user.membership.organisation.name,
        "kind": user.membership.organisation.kind,
    }


def test_me_for_a_user_without_organisation(api, superuser):
    api.force_authenticate(superuser)
    body = api.get("/api/v1/me/").json()
    assert body["organisation"] is None
    assert body["role"] is None


@pytest.mark.parametrize("username", ["caseworker", "manager", "auditor", "caseworker2", "authority", "mentor"])
def test_only_an_organisation_admin_lists_users(api, demo, username):
    api.force_authenticate(demo[username])
    assert api.get("/api/v1/users/").json()["results"] == []


def test_cursor_pagination_follows_next_and_caps_page_size(api, admin, django_assert_max_num_queries):
    organisation = admin.membership.organisation
    for i in range(250):
        user = User(username=f"bulk{i:03}")
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, organisation=organisation, role=Role.CASEWORKER)
    api.force_authenticate(admin)

    response = api.get("/api/v1/users/", {"page_size": 1000})
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert len(body["results"]) == 200  # capped
    assert body["previous"] is None

    seen = []
    url = "/api/v1/users/?page_size=100"
    while url:
        # one page of users with membership; no query per row
        with django_assert_max_num_queries(1):
            body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 257
    assert seen == sorted(seen, reverse=True)


def test_openapi_schema_and_swagger_ui_are_served_locally(api, caseworker):
    api.force_authenticate(caseworker)
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
