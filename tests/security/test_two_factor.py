"""Two-factor login (issue 11): TOTP with recovery codes, required for every staff page in
production settings, refused replays, the API's answer to an unverified session."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import ROOT, subprocess_env
from tests.security.helpers import code_for, enrol, post_code, post_password

PASSWORD = "demo-Reintegration-2026"


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED = True


def _fresh_time():
    # the start of a 30-second step, so a test's codes all fall in the step it means
    now = int(timezone.now().timestamp())
    return datetime.datetime.fromtimestamp(now - now % 30 + 1, tz=datetime.UTC)


# --- the login page --------------------------------------------------------------------------


def test_login_asks_for_the_code_after_the_password(client, caseworker, required):
    device = enrol(caseworker)
    response = post_password(client, "caseworker", PASSWORD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="token-otp_token"' in html
    assert "Authentication code" in html
    assert client.get("/").status_code == 302  # not logged in between the two steps
    response = post_code(client, code_for(device))
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert page.wsgi_request.user.is_verified()


def test_request_user_is_the_user_itself_and_still_knows_its_verification(client, caseworker, required):
    """accounts.middleware.ResolvedUserMiddleware: no lazy proxy left on request.user, and what the
    proxies answered (the user, is_verified, AnonymousUser before login and after logout) is unchanged."""
    from django.contrib.auth.models import AnonymousUser
    from django.utils.functional import LazyObject

    from accounts.models import User

    anonymous = client.get("/accounts/login/").wsgi_request.user
    assert type(anonymous) is AnonymousUser
    assert not anonymous.is_verified()
    device = enrol(caseworker)
    post_password(client, "caseworker", PASSWORD)
    post_code(client, code_for(device))
    user = client.get("/").wsgi_request.user
    assert not isinstance(user, LazyObject)
    assert type(user) is User
    assert user.pk == caseworker.pk
    assert user.is_verified()
    assert user.otp_device == device
    client.post(reverse("logout"))
    after = client.get("/accounts/login/").wsgi_request.user
    assert type(after) is AnonymousUser
    assert client.get("/").status_code == 302


def _device_queries(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries if table in q["sql"] and "accounts_staffsession" not in q["sql"]]


def test_the_session_query_brings_the_device_that_verified_it(client, caseworker, required):
    """accounts.middleware.OTPMiddleware: the TOTP device and the recovery-code device come with the
    session's row (accounts.sessions), no query of their own, and verify the session as before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import StaffSession
    from accounts.services import recovery_codes_generate

    device = enrol(caseworker)
    post_password(client, "caseworker", PASSWORD)
    post_code(client, code_for(device))
    row = StaffSession.objects.get(session_key=client.session.session_key)
    assert (row.totp_device_id, row.static_device_id) == (device.pk, None)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/")
    assert page.status_code == 200
    assert page.wsgi_request.user.otp_device == device
    assert _device_queries(queries.captured_queries, "otp_totp_totpdevice") == []

    codes = recovery_codes_generate(user=caseworker)
    client.post(reverse("logout"))
    post_password(client, "caseworker", PASSWORD)
    post_code(client, codes[0], step="backup")
    row = StaffSession.objects.get(session_key=client.session.session_key)
    assert row.totp_device_id is None
    assert row.static_device_id is not None
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/")
    assert page.status_code == 200
    assert page.wsgi_request.user.otp_device.pk == row.static_device_id
    assert page.wsgi_request.user.is_verified()
    assert _device_queries(queries.captured_queries, "otp_static_staticdevice") == []
    client.post(reverse("logout"))
    assert not StaffSession.objects.filter(user=caseworker).exists()


def test_the_row_device_passes_django_otps_checks(client, caseworker, caseworker2, required):
    """The device read with the session is checked as django-otp checks its own: unconfirmed or deleted,
    the session is no longer verified; a device of someone else verifies nobody; a row whose device is
    not the one the session's data names is not believed (django-otp's own lookup decides)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import StaffSession

    with time_machine.travel(_fresh_time(), tick=False) as traveller:

        def login(device):
            traveller.shift(60)  # a new code: the device refuses a replayed one
            client.post(reverse("logout"))
            post_password(client, "caseworker", PASSWORD)
            assert post_code(client, code_for(device)).status_code == 302
            return client.session.session_key

        device = enrol(caseworker)
        login(device)
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
        page = client.get("/")
        assert page.status_code == 302
        assert not page.wsgi_request.user.is_verified()
        assert DEVICE_ID_SESSION_KEY not in client.session  # as django-otp leaves it
        assert StaffSession.objects.filter(totp_device=device).count() == 0

        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        key = login(device)
        device.delete()
        assert StaffSession.objects.get(session_key=key).totp_device_id is not None  # no constraint, nothing cascades
        page = client.get("/")
        assert page.status_code == 302
        assert not page.wsgi_request.user.is_verified()

        device = enrol(caseworker)
        key = login(device)
        theirs = enrol(caseworker2)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = theirs.persistent_id  # the row follows the data on save
        session.save()
        assert StaffSession.objects.get(session_key=key).totp_device_id == theirs.pk
        page = client.get("/")  # not verified: logged out (test_a_session_opened_without_the_code_is_ended)
        assert page.status_code == 302
        assert not page.wsgi_request.user.is_authenticated

        key = login(device)
        StaffSession.objects.filter(session_key=key).update(totp_device=theirs)  # the row disagrees with the data
        page = client.get("/")
        assert page.status_code == 200
        assert page.wsgi_request.user.otp_device == device


def test_wrong_code_does_not_log_in(client, caseworker, required):
    device = enrol(caseworker)
    post_password(client, "caseworker", PASSWORD)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = post_code(client, wrong)
    assert response.status_code == 200
    assert 'name="token-otp_token"' in response.content.decode()
    assert client.get("/").status_code == 302


def test_the_login_page_has_no_inline_script_or_style(client, caseworker):
    enrol(caseworker)
    for response in (client.get("/accounts/login/"), post_password(client, "caseworker", PASSWORD)):
        html = response.content.decode()
        assert "<script>" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert "style=" not in html
        assert re.search(r'<label class="form-label" for="id_(auth-username|token-otp_token)">', html)


def test_totp_replay_is_refused_by_the_device(db):
    """django-otp's TOTP device remembers the last time step used: the same code never works twice."""
    from accounts.models import User

    user = User.objects.create_user("replayer", password="x-long-password-2026")
    device = enrol(user)
    with time_machine.travel(_fresh_time(), tick=False):
        code = code_for(device)
        assert device.verify_token(code) is True
        device.refresh_from_db()
        assert device.verify_token(code) is False


def test_a_replayed_code_does_not_log_in_again(client, caseworker, required):
    device = enrol(caseworker)
    with time_machine.travel(_fresh_time(), tick=False):
        code = code_for(device)
        post_password(client, "caseworker", PASSWORD)
        assert post_code(client, code).status_code == 302
        client.post("/accounts/logout/")
        post_password(client, "caseworker", PASSWORD)
        response = post_code(client, code)
        assert response.status_code == 200
        assert client.get("/").status_code == 302


def test_first_login_enrols_then_shows_recovery_codes(client, caseworker, required):
    """Production: a staff user without a device is sent to set one up, whatever page they asked for;
    the code confirming the enrolment cannot be used again to log in."""
    response = post_password(client, "caseworker", PASSWORD)
    assert response.status_code == 302
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor:setup") + "?next=")
    setup = response["Location"]
    assert client.get(setup).status_code == 200
    response = client.post(setup, {"setup_view-current_step": "welcome"})
    assert response.status_code == 200
    secret = response.context["secret_key"]
    assert client.get(reverse("two_factor:qr")).status_code == 200  # the QR code of that key
    key = response.context["wizard"]["form"].key
    with time_machine.travel(_fresh_time(), tick=False):
        probe = TOTPDevice(user=caseworker, key=key)
        code = code_for(probe)
        response = client.post(setup, {"setup_view-current_step": "generator", "generator-token": code})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("two_factor:backup_tokens"))
        codes = client.get(response["Location"])
        assert codes.status_code == 200
        assert StaticToken.objects.filter(device__user=caseworker).count() == 10
        assert client.get("/cases/").status_code == 200
        assert secret
        # the confirming code, replayed at the next login, is refused
        client.post("/accounts/logout/")
        post_password(client, "caseworker", PASSWORD)
        assert post_code(client, code).status_code == 200
        assert client.get("/cases/").status_code == 302


def test_a_recovery_code_logs_in_once(client, caseworker, required):
    from accounts.services import recovery_codes_generate

    enrol(caseworker)
    codes = recovery_codes_generate(user=caseworker)
    post_password(client, "caseworker", PASSWORD)
    response = post_code(client, codes[0], step="backup")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    post_password(client, "caseworker", PASSWORD)
    assert post_code(client, codes[0], step="backup").status_code == 200
    assert client.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=caseworker).count() == 9


def test_a_session_opened_without_the_code_is_ended(client, caseworker, required):
    """A user with a device whose session was opened with the password only (the admin's old login
    form, a session from before enrolment) is logged out and must log in with a code."""
    enrol(caseworker)
    client.force_login(caseworker)
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get(reverse("two_factor:setup")).status_code == 302  # logged out: login first


# --- every staff URL, from the resolver --------------------------------------------------------------

# Reachable by an unverified session on purpose: the login itself, logout, the language switch, the
# health probe, and enrolment with its QR code.
OPEN_NAMES = {"login", "logout", "set_language", "healthz", "two_factor:setup", "two_factor:qr"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else None


def _concrete(route: str) -> str:
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<path:\w+>", "x/y", route)
    route = re.sub(r"<(?:str:|slug:)?\w+>", "x", route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "accounts", route)  # the admin's app-label regex
    return "/" + route.replace("\\", "")


ROUTES = sorted({(route, name) for route, name in _walk(get_resolver().url_patterns) if name not in OPEN_NAMES})


def test_the_walk_covers_pages_api_and_admin():
    routes = [r for r, _ in ROUTES]
    assert any(r.startswith("api/") for r in routes)
    assert any(r.startswith("admin/") for r in routes)
    assert "" in routes
    assert len(ROUTES) > 200


@pytest.mark.django_db
def test_every_staff_url_requires_two_factor(client, required, demo):
    """Production settings (TWO_FACTOR_REQUIRED): a logged-in user without a verified device gets no
    page: every UI URL (GET and POST) sends to enrolment, every API URL answers a 403 problem."""
    user = demo["manager"]
    user.is_staff = user.is_superuser = True  # the admin's pages too
    user.save()
    client.force_login(user)
    setup = reverse("two_factor:setup")
    failures = []
    for route, name in ROUTES:
        if route.startswith("o/"):
            continue  # the OAuth2 token endpoints: partner systems, no session (test below)
        if name == "admin:login":
            # the admin's own form; production replaces it by the two-factor login at start-up
            # (TWO_FACTOR_PATCH_ADMIN follows TWO_FACTOR_REQUIRED: test_production_settings_require_two_factor)
            continue
        url = _concrete(route)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            status = response.status_code
            if route.startswith("api/"):
                ok = status == 403 and response["Content-Type"] == "application/problem+json"
                ok = ok or status in (404, 405)  # no such object / method: nothing served either
                if ok and status == 403:
                    ok = "Two-factor" in response.json()["detail"]
            else:
                ok = (status == 302 and response["Location"].startswith(setup)) or status == 404
            if not ok:
                failures.append(f"{method.upper()} {url} ({name}): {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "username",
    [
        "caseworker",
        "counsellor",
        "placement",
        "manager",
        "auditor",
        "admin",
        "mentor",
        "supervisor",
        "authority",
        "caseworker2",
    ],
)
def test_every_staff_role_is_sent_to_enrol(client, demo, required, username):
    client.force_login(demo[username])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor:setup"))
    api = client.get("/api/v1/cases/")
    assert api.status_code == 403
    assert api["Content-Type"] == "application/problem+json"


def test_a_verified_session_reaches_pages_and_api(client, caseworker, required):
    device = enrol(caseworker)
    post_password(client, "caseworker", PASSWORD)
    post_code(client, code_for(device))
    assert client.get("/cases/").status_code == 200
    assert client.get("/api/v1/cases/").status_code == 200
    assert client.get(reverse("two_factor:profile")).status_code == 200


def test_oauth_bearer_tokens_are_not_staff_sessions(client, caseworker, required):
    """Partner systems authenticate with OAuth2 bearer tokens: no staff 2FA applies to them."""
    import base64

    from accounts.models import Organisation
    from accounts.services import api_client_register

    authority = Organisation.objects.create(name="Test Probation Unit", kind=Organisation.Kind.AUTHORITY)
    _client, secret = api_client_register(name="Partner", organisation=authority, scopes=["cases:read-shared"])
    basic = base64.b64encode(f"{_client.client_id}:{secret}".encode()).decode()
    answer = client.post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert answer.status_code == 200, answer.content  # the token endpoint needs no session, no 2FA
    bearer = f"Bearer {answer.json()['access_token']}"
    response = client.get("/api/v1/shared-cases/", HTTP_AUTHORIZATION=bearer)
    assert response.status_code == 200, response.content
    # a staff user's unverified browser session, sent along, changes nothing for the token
    client.force_login(caseworker)
    assert client.get("/api/v1/shared-cases/", HTTP_AUTHORIZATION=bearer).status_code == 200
    assert client.get("/api/v1/cases/").status_code == 403


# --- demo mode ---------------------------------------------------------------------------------------


def test_demo_mode_shows_a_banner_and_lets_unverified_users_in(client, caseworker, settings):
    settings.TWO_FACTOR_REQUIRED = False
    assert "two-factor login is off" in client.get("/accounts/login/").content.decode()
    client.force_login(caseworker)
    page = client.get("/")
    assert page.status_code == 200
    assert 'data-testid="two-factor-off"' in page.content.decode()
    assert client.get("/api/v1/cases/").status_code == 200


def test_no_banner_when_required(client, caseworker, required):
    device = enrol(caseworker)
    post_password(client, "caseworker", PASSWORD)
    post_code(client, code_for(device))
    assert 'data-testid="two-factor-off"' not in client.get("/").content.decode()


def test_each_user_sees_only_their_own_two_factor_page(client, demo):
    """Per-account pages: another organisation's user or an authority sees their own state only."""
    from accounts.services import recovery_codes_generate

    enrol(demo["caseworker"])
    codes = recovery_codes_generate(user=demo["caseworker"])
    for other in ("caseworker2", "authority"):
        client.force_login(demo[other])
        html = client.get(reverse("two_factor:profile")).content.decode()
        assert "not set up" in html
        assert client.get(reverse("two_factor:backup_tokens")).status_code == 302  # needs their own verified device
        assert not any(code in html for code in codes)


# --- production settings -------------------------------------------------------------------------------

PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.TWO_FACTOR_REQUIRED, 'accounts.middleware.TwoFactorRequiredMiddleware' in s.MIDDLEWARE, "
    "'accounts.middleware.OTPMiddleware' in s.MIDDLEWARE, s.TWO_FACTOR_PATCH_ADMIN)"
)


def _production(**env: str) -> str:
    base = subprocess_env(
        DJANGO_SETTINGS_MODULE="casemgmt.settings", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, **env
    )
    if "DJANGO_TWO_FACTOR_REQUIRED" not in env:
        base.pop("DJANGO_TWO_FACTOR_REQUIRED", None)
    result = subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_production_settings_require_two_factor():
    # the last: the admin's login is two-factor's and the admin asks for a verified session
    assert _production() == "True True True True"


def test_turning_it_off_in_production_fails_the_deploy_check(settings):
    from accounts.checks import two_factor_required

    settings.DEBUG = False
    settings.TWO_FACTOR_REQUIRED = False
    assert [w.id for w in two_factor_required(None)] == ["accounts.W001"]
    settings.TWO_FACTOR_REQUIRED = True
    assert two_factor_required(None) == []
