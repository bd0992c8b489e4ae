"""Partner API clients (issue 13): OAuth2 client credentials, scopes, a client acting as its organisation,
revocation and expiry, rate limits, the demo clients and the admin's registration.

Every token here comes from the real token endpoint (`/o/token/`, HTTP Basic client authentication), and
every API call carries it as a bearer token: nothing is forced."""

from __future__ import annotations

import base64
import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ApiClient, City, Organisation
from casemgmt import shared_view, webhooks
from casemgmt.api.clients import required_scopes_for
from casemgmt.boundary_models import AuthorityReferral, DisclosureLog
from casemgmt.casefile import LegalEvent
from casemgmt.casefile_services import record_create
from casemgmt.client_demo import DEMO_CLIENTS, seed_demo_clients
from casemgmt.models import Stage
from programs import placement_services
from programs.models import Opportunity, Placement
from tests.factories import case_move_stage, northern_case

TODAY = timezone.localdate
PROBATION, STRAIT, FUND = "demo-probation-office", "demo-strait-logistics", "demo-reintegration-fund"
SECRETS = {client_id: secret for _org, _name, client_id, secret, _scopes in DEMO_CLIENTS}


# --- Helpers and the world -----------------------------------------------------------------------------


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_response(client_id: str, secret: str | None = None, **data):
    body = {"grant_type": "client_credentials", **data}
    return Client().post("/o/token/", body, HTTP_AUTHORIZATION=basic(client_id, secret or SECRETS[client_id]))


def token(client_id: str, secret: str | None = None, **data) -> str:
    response = token_response(client_id, secret, **data)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def bearer(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


def as_client(client_id: str, **data) -> APIClient:
    return bearer(token(client_id, **data))


def organisation(name: str) -> Organisation:
    return Organisation.objects.get(name=name)


def make_opportunity(officer, partner, title="Warehouse job"):
    data = {
        "partner": partner,
        "title": title,
        "kind": "job",
        "sector": "logistics",
        "city": City.objects.get(code="TNG"),
        "places": 3,
        "start_date": TODAY() + datetime.timedelta(days=10),
        "pay_band": "minimum_wage",
    }
    return placement_services.opportunity_create(by=officer, data=data)


def active_case(demo, **participant):
    case = northern_case(demo, **participant)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    case.refresh_from_db()
    return case


@pytest.fixture
def world(demo):
    """The demo clients; a Northern case shared with the probation office by a consent for identity and
    legal status only; a case shared with nobody; a placement proposed to Strait Logistics and one to
    another partner (the Tetouan institute, which has a client of its own)."""
    seed_demo_clients()
    officer = demo["placement"]
    shared = active_case(demo)
    record_create(
        key="consent",
        case=shared,
        by=demo["caseworker"],
        data={
            "purpose": "Coordination",
            "recipient": organisation("Regional Probation Office"),
            "categories": ["identity", "legal_status"],
            "given_on": TODAY() - datetime.timedelta(days=5),
        },
    )
    unshared = active_case(demo)
    strait = organisation("Strait Logistics")
    institute = organisation("Tetouan Vocational Institute")
    strait_job = make_opportunity(officer, strait)
    institute_course = make_opportunity(officer, institute, title="Welding course")
    day = TODAY() - datetime.timedelta(days=3)
    strait_placement = placement_services.placement_propose(
        by=officer, case=shared, opportunity=strait_job, proposed_on=day
    )
    institute_placement = placement_services.placement_propose(
        by=officer, case=unshared, opportunity=institute_course, proposed_on=day
    )
    institute_client, institute_secret = account_services.api_client_register(
        name="Institute LMS",
        organisation=institute,
        scopes=["placements:read", "placements:write", "opportunities:write"],
    )
    return {
        "shared": shared,
        "unshared": unshared,
        "strait_job": strait_job,
        "institute_course": institute_course,
        "strait_placement": strait_placement,
        "institute_placement": institute_placement,
        "institute": (institute_client.application.client_id, institute_secret),
        "northern": organisation("Northern Reintegration Centre"),
    }


# --- The token endpoint: client credentials only, short-lived, limited to the allowed scopes ------------


def test_the_token_endpoint_needs_no_session_and_gives_a_short_lived_token_with_the_allowed_scopes(world):
    response = token_response(PROBATION)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {
        "cases:read-shared",
        "legal-events:write",
        "referrals:write",
        "webhooks:manage",
    }
    assert "refresh_token" not in body
    # a wrong secret is refused
    assert token_response(PROBATION, "not-the-secret").status_code == 401


def test_a_token_never_holds_a_scope_the_client_is_not_allowed(world):
    response = token_response(STRAIT, scope="placements:read reports:read")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    narrow = token_response(STRAIT, scope="placements:read")
    assert narrow.json()["scope"] == "placements:read"
    # a narrowed token does not reach an endpoint needing the scope it did not ask for
    client = bearer(narrow.json()["access_token"])
    url = reverse("api-partner-placement-move", args=[world["strait_placement"].pk])
    assert client.post(url, {"status": "accepted", "on": TODAY()}, format="json").status_code == 403
    assert client.get(reverse("api-partner-placement-list")).status_code == 200


@pytest.mark.parametrize(
    "grant",
    [
        {"grant_type": "password", "username": "manager", "password": "demo-Reintegration-2026"},
        {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://example.invalid/cb"},
        {"grant_type": "refresh_token", "refresh_token": "x"},
        {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
    ],
)
def test_client_credentials_is_the_only_grant(world, grant):
    response = Client().post("/o/token/", grant, HTTP_AUTHORIZATION=basic(PROBATION, SECRETS[PROBATION]))
    assert response.status_code in (400, 401, 404)  # DOT answers an unknown device code with 404
    assert "access_token" not in response.json()
    assert not AccessToken.objects.exists()


def test_an_application_of_another_grant_or_without_a_registered_client_gets_no_token(world, manager):
    password_app = Application.objects.create(
        name="password app",
        client_id="pw-app",
        client_secret="pw-secret-pw-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
        user=manager,
    )
    ApiClient.objects.create(
        application=password_app, organisation=organisation("Strait Logistics"), allowed_scopes="placements:read"
    )
    grant = {"grant_type": "password", "username": "manager", "password": "demo-Reintegration-2026"}
    response = Client().post("/o/token/", grant, HTTP_AUTHORIZATION=basic("pw-app", "pw-secret-pw-secret"))
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()
    Application.objects.create(
        name="unregistered",
        client_id="bare-app",
        client_secret="bare-secret-bare-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    assert token_response("bare-app", "bare-secret-bare-secret").status_code in (400, 401)
    assert not AccessToken.objects.exists()


# --- Expiry and revocation ----------------------------------------------------------------------------------


def test_a_token_expires_after_15_minutes(world):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = as_client(FUND)
        url = reverse("api-reports-summary") + f"?organisation={world['northern'].pk}"
        assert client.get(url).status_code == 200
        traveller.shift(datetime.timedelta(seconds=899))
        assert client.get(url).status_code == 200
        traveller.shift(datetime.timedelta(seconds=2))
        response = client.get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_revocation_takes_effect_at_once(world):
    access_token = token(FUND)
    client = bearer(access_token)
    url = reverse("api-reports-summary") + f"?organisation={world['northern'].pk}"
    assert client.get(url).status_code == 200
    revoke = Client().post("/o/revoke_token/", {"token": access_token}, HTTP_AUTHORIZATION=basic(FUND, SECRETS[FUND]))
    assert revoke.status_code == 200
    assert client.get(url).status_code == 401


def test_the_admin_revoking_a_token_or_deactivating_the_client_takes_effect_at_once(world, superuser):
    client = as_client(FUND)
    url = reverse("api-reports-summary") + f"?organisation={world['northern'].pk}"
    assert client.get(url).status_code == 200
    admin = Client()
    admin.force_login(superuser)
    row = AccessToken.objects.get(application__client_id=FUND)
    response = admin.post(  # DOT's admin revokes tokens with an action (no raw delete)
        reverse("admin:oauth2_provider_accesstoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    assert not AccessToken.objects.filter(pk=row.pk).exists()
    assert client.get(url).status_code == 401

    client = as_client(FUND)
    assert client.get(url).status_code == 200
    api_client = ApiClient.objects.get(application__client_id=FUND)
    response = admin.post(
        reverse("admin:accounts_apiclient_change", args=[api_client.pk]),
        {"allowed_scopes": "reports:read", "rate_limit_per_minute": "120"},  # is_active unticked
    )
    assert response.status_code == 302, response.content
    assert client.get(url).status_code == 401
    assert token_response(FUND).status_code in (400, 401)  # no new token either


def test_the_admin_registers_a_client_and_shows_the_secret_once(demo, superuser):
    admin = Client()
    admin.force_login(superuser)
    fund = organisation("Reintegration Fund")
    wrong = admin.post(
        reverse("admin:accounts_apiclient_add"),
        {"name": "Fund stats", "organisation": fund.pk, "scopes": ["cases:read-shared"], "rate_limit_per_minute": 60},
    )
    assert wrong.status_code == 200
    assert not ApiClient.objects.exists()  # a funder may hold reports:read only
    response = admin.post(
        reverse("admin:accounts_apiclient_add"),
        {"name": "Fund stats", "organisation": fund.pk, "scopes": ["reports:read"], "rate_limit_per_minute": 60},
        follow=True,
    )
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    client_id, secret = re.search(r"Client id: (\S+) — client secret: (\S+) —", text).groups()
    api_client = ApiClient.objects.get(application__client_id=client_id)
    assert api_client.organisation == fund
    assert api_client.rate_limit_per_minute == 60
    assert api_client.application.client_secret != secret  # stored hashed
    assert api_client.application.user.membership_or_none is None  # a service account without a role
    assert secret not in admin.get(reverse("admin:accounts_apiclient_change", args=[api_client.pk])).content.decode()
    assert token_response(client_id, secret).json()["scope"] == "reports:read"


# --- The scope by organisation matrix over every API endpoint of the resolver ---------------------------------

# (url name, method) → the demo clients it is open to. Everything else answers 403 to every client.
OPEN = {
    ("api-shared-case-list", "get"): {PROBATION},
    ("api-shared-case-detail", "get"): {PROBATION},
    ("api-shared-case-legal-events", "post"): {PROBATION},
    ("api-authority-referral-list", "get"): {PROBATION},
    ("api-authority-referral-list", "post"): {PROBATION},
    ("api-authority-referral-detail", "get"): {PROBATION},
    ("api-partner-placement-list", "get"): {STRAIT},
    ("api-partner-placement-detail", "get"): {STRAIT},
    ("api-partner-placement-move", "post"): {STRAIT},
    ("api-partner-opportunity-list", "get"): {STRAIT},
    ("api-partner-opportunity-list", "post"): {STRAIT},
    ("api-partner-opportunity-detail", "get"): {STRAIT},
    ("api-reports-summary", "get"): {FUND},
    # webhook subscriptions (issue 14): every client whose organisation may hear an event
    ("api-webhook-subscription-list", "get"): {PROBATION, STRAIT},
    ("api-webhook-subscription-list", "post"): {PROBATION, STRAIT},
    ("api-webhook-subscription-detail", "get"): {PROBATION, STRAIT},
    ("api-webhook-subscription-detail", "patch"): {PROBATION, STRAIT},
    ("api-webhook-subscription-detail", "delete"): {PROBATION, STRAIT},
    ("api-webhook-subscription-deliveries", "get"): {PROBATION, STRAIT},
    ("api-webhook-subscription-rotate-secret", "post"): {PROBATION, STRAIT},
    # the contract itself (no case data) is readable with any valid token
    ("api-schema", "get"): {PROBATION, STRAIT, FUND},
    ("api-docs", "get"): {PROBATION, STRAIT, FUND},
}
VIEW_ACTIONS = {"get", "post", "put", "patch", "delete"}
WEBHOOK_CONDITIONAL = {("api-webhook-subscription-detail", "patch"), ("api-webhook-subscription-detail", "delete")}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def api_endpoints() -> list[tuple[str, str, list[str], dict]]:
    """(url name, method, kwargs names, actions) of every pattern under /api/v1/ in the resolver."""
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/") or not pattern.name:
            continue
        view = pattern.callback
        kwargs = re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)
        actions = getattr(view, "actions", None)
        if actions:
            methods = list(actions)
        else:
            cls = view.cls
            methods = [m for m in VIEW_ACTIONS if hasattr(cls, m)]
        for method in methods:
            found.append((pattern.name, method, kwargs, actions or {}))
    return found


ENDPOINTS = api_endpoints()


def test_the_matrix_covers_every_endpoint_and_every_declared_scope_is_classified():
    names = {name for name, *_ in ENDPOINTS}
    assert {key[0] for key in OPEN} <= names, {key[0] for key in OPEN} - names
    assert len(ENDPOINTS) > 100
    # A view that opens an action to clients (`required_scopes`) must be classified in OPEN: a new partner
    # endpoint fails here until its row says which clients it serves.
    for name, method, _kwargs, actions in ENDPOINTS:
        pattern_view = next(p.callback for _r, p in _walk(get_resolver().url_patterns) if p.name == name)
        cls = pattern_view.cls
        view = cls(**getattr(pattern_view, "initkwargs", {}))
        view.action = actions.get(method)
        request = type("R", (), {"method": method.upper()})()
        declared = required_scopes_for(view, request)
        if declared is not None and name not in ("api-schema", "api-docs"):
            assert (name, method) in OPEN, f"{name} {method} declares {declared}: classify it in OPEN"


def _url(name: str, kwargs: list[str], own: dict[str, int]) -> str:
    values = {k: str(own.get(name, 999999)) for k in kwargs}
    try:
        return reverse(name, kwargs=values)
    except NoReverseMatch:
        return reverse(name, kwargs=dict.fromkeys(kwargs, "x"))


def _own_objects(world, referral, client_id) -> dict[str, int]:
    own = {}
    if client_id in (PROBATION, STRAIT):
        api_client = ApiClient.objects.get(application__client_id=client_id)
        event = "legal_event.recorded" if client_id == PROBATION else "placement.status_changed"
        sub = webhooks.subscribe(
            application=api_client.application,
            organisation=api_client.organisation,
            url="https://hooks.example/in",
            events=[event],
        )
        own = dict.fromkeys(
            [
                "api-webhook-subscription-detail",
                "api-webhook-subscription-deliveries",
                "api-webhook-subscription-rotate-secret",
            ],
            sub.pk,
        )
    return own | {
        "api-shared-case-detail": world["shared"].pk,
        "api-shared-case-legal-events": world["shared"].pk,
        "api-authority-referral-detail": referral.pk,
        "api-partner-placement-detail": world["strait_placement"].pk,
        "api-partner-placement-move": world["strait_placement"].pk,
        "api-partner-opportunity-detail": world["strait_job"].pk,
    }


@pytest.mark.parametrize("client_id", [PROBATION, STRAIT, FUND])
def test_scope_by_organisation_matrix_over_every_endpoint(world, client_id):
    referral = AuthorityReferral.objects.create(
        case=world["unshared"],
        authority=organisation("Regional Probation Office"),
        submitted_by=ApiClient.objects.get(application__client_id=PROBATION).application.user,
    )
    own = _own_objects(world, referral, client_id)
    client = as_client(client_id)
    ApiClient.objects.filter(application__client_id=client_id).update(rate_limit_per_minute=10_000)
    failures = []
    for name, method, kwargs, _actions in ENDPOINTS:
        url = _url(name, kwargs, own)
        if name == "api-reports-summary":
            url += f"?organisation={world['northern'].pk}"
        in_scope = client_id in OPEN.get((name, method), ())
        if method == "get":
            response = client.get(url)
        elif in_scope:
            response = getattr(client, method)(url, {}, format="json")
        else:  # no body at all: the refusal must not depend on what the body would have been
            response = client.generic(method.upper(), url)
        status = response.status_code
        if in_scope:
            expected = {200} if method == "get" else {400}  # an empty body is refused field by field
            if name == "api-partner-placement-move" or (name, method) in WEBHOOK_CONDITIONAL:
                expected = {428}  # a partner's workflow step needs If-Match before anything else (safe writes)
            if name == "api-webhook-subscription-rotate-secret":
                expected = {200}  # no body to refuse
            if status not in expected:
                failures.append(f"{method.upper()} {url}: {status}, expected {expected} (in scope)")
        elif status != 403:
            failures.append(f"{method.upper()} {url}: {status}, expected 403 (out of scope)")
        elif status == 403:
            assert response["Content-Type"].startswith("application/problem+json")
    assert not failures, "\n".join(failures)
    assert not LegalEvent.objects.exists()
    assert Opportunity.objects.count() == 2  # no write got through


def test_staff_users_get_404_from_the_partner_endpoints(world, demo):
    for username in ("placement", "manager", "authority", "caseworker2"):
        client = APIClient()
        client.force_login(demo[username])
        for url in (
            reverse("api-partner-placement-list"),
            reverse("api-partner-placement-detail", args=[world["strait_placement"].pk]),
            reverse("api-partner-opportunity-list"),
        ):
            assert client.get(url).status_code == 404, (username, url)


# --- The authority client: what a liaison of the authority sees, disclosure-logged with the client id ---------


def test_the_authority_client_sees_the_shared_view_and_every_read_is_logged_with_its_client_id(world, authority):
    client = as_client(PROBATION)
    rows = client.get(reverse("api-shared-case-list")).json()["results"]
    assert [r["id"] for r in rows] == [world["shared"].pk]  # the unshared case is not listed
    expected_keys = set(shared_view.list_keys(["identity", "legal_status"])) | {
        "id",
        "case_code",
        "caseworker",
        "categories",
        "basis",
    }
    assert set(rows[0]) <= expected_keys
    assert "stage" not in rows[0]
    assert "placement" not in rows[0]
    assert "risk_band" not in rows[0]
    detail = client.get(reverse("api-shared-case-detail", args=[world["shared"].pk])).json()
    assert sorted(detail["categories"]) == ["identity", "legal_status"]
    assert "stage" not in detail
    assert "placement" not in detail
    assert client.get(reverse("api-shared-case-detail", args=[world["unshared"].pk])).status_code == 404

    logs = list(DisclosureLog.objects.order_by("pk"))
    assert [(log.client_id, log.user_id, log.case_id) for log in logs] == [
        (PROBATION, None, world["shared"].pk),
        (PROBATION, None, world["shared"].pk),
    ]
    assert all(set(log.categories) <= {"identity", "legal_status"} for log in logs)
    assert logs[0].organisation_id == organisation("Regional Probation Office").pk
    assert logs[0].basis == ["consent"]

    # exactly what the authority's liaison sees
    liaison = APIClient()
    liaison.force_login(authority)
    assert liaison.get(reverse("api-shared-case-list")).json()["results"] == rows


def test_the_authority_client_records_legal_events_and_refers_new_persons(world):
    client = as_client(PROBATION)
    url = reverse("api-shared-case-legal-events", args=[world["shared"].pk])
    response = client.post(url, {"kind": "hearing", "date": str(TODAY()), "description": "Hearing"}, format="json")
    assert response.status_code == 201, response.content
    event = LegalEvent.objects.get()
    assert event.case_id == world["shared"].pk
    assert event.recorded_by == ApiClient.objects.get(application__client_id=PROBATION).application.user
    # not on a case it does not share
    other = reverse("api-shared-case-legal-events", args=[world["unshared"].pk])
    assert client.post(other, {"kind": "hearing", "date": str(TODAY())}, format="json").status_code == 404
    bad = client.post(url, {"kind": "nonsense", "date": "yesterday"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"kind", "date"}

    referral = {
        "organisation": world["northern"].pk,
        "given_name_latin": "Adil",
        "family_name_latin": "Referred",
        "city": City.objects.get(code="TET").pk,
        "reason": "Released last month; asked for support.",
    }
    response = client.post(reverse("api-authority-referral-list"), referral, format="json")
    assert response.status_code == 201, response.content
    created = AuthorityReferral.objects.get(pk=response.json()["id"])
    assert created.authority == organisation("Regional Probation Office")
    assert created.case.stage == Stage.REFERRAL
    assert created.case.organisation == world["northern"]
    listed = client.get(reverse("api-authority-referral-list")).json()["results"]
    assert [r["id"] for r in listed] == [created.pk]
    assert set(listed[0]) == {"id", "case_code", "programme", "reference", "submitted_at", "status"}


def test_an_authority_client_without_a_sharing_basis_sees_nothing(world):
    police = Organisation.objects.create(name="City Police", kind=Organisation.Kind.AUTHORITY)
    api_client, secret = account_services.api_client_register(
        name="Police system", organisation=police, scopes=["cases:read-shared", "legal-events:write"]
    )
    client = bearer(token(api_client.application.client_id, secret))
    assert client.get(reverse("api-shared-case-list")).json()["results"] == []
    assert client.get(reverse("api-shared-case-detail", args=[world["shared"].pk])).status_code == 404
    url = reverse("api-shared-case-legal-events", args=[world["shared"].pk])
    assert client.post(url, {"kind": "hearing", "date": str(TODAY())}, format="json").status_code == 404
    assert not DisclosureLog.objects.exists()


# --- The employer client -----------------------------------------------------------------------------------------


def test_the_employer_sees_only_its_placements_with_first_name_and_case_code(world):
    client = as_client(STRAIT)
    rows = client.get(reverse("api-partner-placement-list")).json()["results"]
    assert [r["id"] for r in rows] == [world["strait_placement"].pk]
    participant = world["shared"].participant
    assert rows[0]["participant_first_name"] == participant.given_name_latin
    assert rows[0]["case_code"] == participant.case_code
    assert set(rows[0]) == {
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
    body = client.get(reverse("api-partner-placement-list")).content.decode()
    assert participant.family_name_latin not in body
    other = world["institute_placement"]
    assert client.get(reverse("api-partner-placement-detail", args=[other.pk])).status_code == 404
    move = reverse("api-partner-placement-move", args=[other.pk])
    assert client.post(move, {"status": "accepted", "on": str(TODAY())}, format="json").status_code == 404
    # and the other partner's client sees its own, not Strait's
    institute = bearer(token(*world["institute"]))
    assert [r["id"] for r in institute.get(reverse("api-partner-placement-list")).json()["results"]] == [other.pk]
    own_jobs = institute.get(reverse("api-partner-opportunity-list")).json()["results"]
    assert [o["id"] for o in own_jobs] == [world["institute_course"].pk]


def test_the_employer_moves_its_placements_where_the_domain_lets_the_partner(world):
    client = as_client(STRAIT)
    url = reverse("api-partner-placement-move", args=[world["strait_placement"].pk])
    etag = client.get(reverse("api-partner-placement-detail", args=[world["strait_placement"].pk]))["ETag"]
    assert client.post(url, {"status": "accepted", "on": str(TODAY())}, format="json").status_code == 428
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_IF_MATCH=etag)
    withdrawn = client.post(url, {"status": "withdrawn", "on": str(TODAY())}, format="json")
    assert withdrawn.status_code == 400
    assert "status" in withdrawn.json()["errors"]  # the NGO's move
    too_early = client.post(url, {"status": "started", "on": str(TODAY())}, format="json")
    assert too_early.status_code == 400
    assert "status" in too_early.json()["errors"]  # proposed → started: no
    accepted = client.post(url, {"status": "accepted", "on": str(TODAY())}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    placement = Placement.objects.get(pk=world["strait_placement"].pk)
    assert placement.status == "accepted"
    assert placement.accepted_on == TODAY()


def test_the_employer_publishes_opportunities_for_itself_only(world):
    client = as_client(STRAIT)
    data = {
        "partner": organisation("Tetouan Vocational Institute").pk,  # ignored: always the client's own
        "title": "Night shift loader",
        "kind": "job",
        "sector": "logistics",
        "city": City.objects.get(code="TNG").pk,
        "places": 2,
        "start_date": str(TODAY() + datetime.timedelta(days=20)),
        "pay_band": "minimum_wage",
    }
    response = client.post(reverse("api-partner-opportunity-list"), data, format="json")
    assert response.status_code == 201, response.content
    created = Opportunity.objects.get(pk=response.json()["id"])
    assert created.partner == organisation("Strait Logistics")
    bad = client.post(reverse("api-partner-opportunity-list"), {**data, "places": -1}, format="json")
    assert bad.status_code == 400
    assert "places" in bad.json()["errors"]


# --- The funder client ---------------------------------------------------------------------------------------------


def test_the_funder_reads_only_the_suppressed_summary(world):
    client = as_client(FUND)
    url = reverse("api-reports-summary")
    missing = client.get(url)
    assert missing.status_code == 400
    assert "organisation" in missing.json()["errors"]
    assert client.get(url + "?organisation=abc").status_code == 400
    assert client.get(url + f"?organisation={organisation('Strait Logistics').pk}").status_code == 400
    report = client.get(url + f"?organisation={world['northern'].pk}")
    assert report.status_code == 200
    text = report.content.decode()
    assert world["shared"].participant.case_code not in text
    assert world["shared"].participant.given_name_latin not in text
    for other in (reverse("api-shared-case-list"), reverse("api-partner-placement-list"), reverse("api-case-list")):
        assert client.get(other).status_code == 403


# --- Rate limits ---------------------------------------------------------------------------------------------------


def test_the_rate_limit_answers_429_with_retry_after(world):
    ApiClient.objects.filter(application__client_id=FUND).update(rate_limit_per_minute=3)
    url = reverse("api-reports-summary") + f"?organisation={world['northern'].pk}"
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 0, 15, tzinfo=datetime.UTC), tick=False):
        client = as_client(FUND)
        assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
        response = client.get(url)
        assert response.status_code == 429
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["status"] == 429
        assert int(response["Retry-After"]) == 45  # the rest of the minute
        # another client has its own counter
        assert as_client(STRAIT).get(reverse("api-partner-placement-list")).status_code == 200
    with time_machine.travel(datetime.datetime(2026, 11, 25, 10, 1, 1, tzinfo=datetime.UTC), tick=False):
        assert client.get(url).status_code == 200  # a new minute


def test_the_rate_counter_works_on_the_shared_redis_cache(world, settings):
    """Production counts in Redis (REDIS_CACHE_URL) so every web node shares the counter: the test run's
    embedded Redis (the Celery broker) on another database."""
    broker = settings.CELERY_BROKER_URL
    settings.CACHES = {
        **settings.CACHES,
        "api-rate": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": broker[:-1] + "3"},
    }
    from django.core.cache import caches

    try:
        caches["api-rate"].clear()
    except Exception:
        pytest.skip("no Redis in this run")
    ApiClient.objects.filter(application__client_id=FUND).update(rate_limit_per_minute=2)
    url = reverse("api-reports-summary") + f"?organisation={world['northern'].pk}"
    with time_machine.travel(datetime.datetime(2026, 11, 25, 11, 0, 50, tzinfo=datetime.UTC), tick=False):
        client = as_client(FUND)
        statuses = [client.get(url).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert int(client.get(url)["Retry-After"]) == 10
    caches["api-rate"].clear()


# --- The demo clients ------------------------------------------------------------------------------------------------


def test_seed_demo_prints_three_working_clients(demo, capsys, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", "--cases", "1")
    call_command("seed_demo", "--cases", "1")  # idempotent: the printed secrets still work
    out = capsys.readouterr().out
    printed = re.findall(r"^  (.+): client id (\S+)  client secret (\S+)  scopes (.+)$", out, re.M)
    assert len(printed) == 6
    latest = {org: (cid, secret, scopes) for org, cid, secret, scopes in printed[3:]}
    assert set(latest) == {"Regional Probation Office", "Strait Logistics", "Reintegration Fund"}
    assert organisation("Reintegration Fund").kind == "funder"
    for _org, (client_id, secret, scopes) in latest.items():
        response = token_response(client_id, secret)
        assert response.status_code == 200
        assert set(response.json()["scope"].split()) == set(scopes.split())


# --- Query counts: the partner clients' lists stay flat as rows are added ----------------------------


def _list_queries(client_id: str, url: str) -> tuple[int, int]:
    """(queries, rows) of one list request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_client(client_id)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_partner_client_lists_take_the_same_number_of_queries_for_more_rows(world, demo):
    lists = {
        PROBATION: reverse("api-shared-case-list"),
        STRAIT: reverse("api-partner-placement-list"),
    }
    before = {(client_id, url): _list_queries(client_id, url) for client_id, url in lists.items()}
    before[(STRAIT, "opportunities")] = _list_queries(STRAIT, reverse("api-partner-opportunity-list"))
    officer = demo["placement"]
    more_jobs = make_opportunity(officer, organisation("Strait Logistics"), title="Forklift trainee")
    for _ in range(2):
        case = active_case(demo)
        record_create(
            key="consent",
            case=case,
            by=demo["caseworker"],
            data={
                "purpose": "Coordination",
                "recipient": organisation("Regional Probation Office"),
                "categories": ["identity", "legal_status"],
                "given_on": TODAY() - datetime.timedelta(days=5),
            },
        )
        placement_services.placement_propose(by=officer, case=case, opportunity=more_jobs, proposed_on=TODAY())
    after = {(client_id, url): _list_queries(client_id, url) for client_id, url in lists.items()}
    after[(STRAIT, "opportunities")] = _list_queries(STRAIT, reverse("api-partner-opportunity-list"))
    assert {key: n for key, (n, _rows) in after.items()} == {key: n for key, (n, _rows) in before.items()}
    assert all(after[key][1] > before[key][1] for key in before)  # the lists did grow
