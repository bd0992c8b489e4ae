"""Sessions (issue 11): a new id at login, idle timeout 15 minutes, absolute 12 hours, every session
of a deactivated user ended at once, hardened cookies in production."""

from __future__ import annotations

import datetime
import subprocess
import sys

import time_machine
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.backends import MembershipBackend
from accounts.middleware import AuthenticationMiddleware
from accounts.models import StaffSession, User
from accounts.sessions import LOADING_USER_OF, SessionStore
from tests.conftest import ROOT, subprocess_env
from tests.security.helpers import post_password

PASSWORD = "demo-Reintegration-2026"
COOKIE = "sessionid"  # the test settings' name (production: __Host-sessionid, tested below)


def test_login_gives_a_new_session_id(client, caseworker):
    client.get("/accounts/login/")
    post_password(client, "nobody", "wrong-password")  # the wizard keeps its state in a session
    before = client.cookies[COOKIE].value
    assert StaffSession.objects.filter(session_key=before, user=None).exists()
    response = post_password(client, "caseworker", PASSWORD)
    assert response.status_code == 302
    after = client.cookies[COOKIE].value
    assert after != before
    assert not StaffSession.objects.filter(session_key=before).exists()  # the old id is dead
    assert StaffSession.objects.get(session_key=after).user_id == caseworker.pk
    # a cookie planted before login (session fixation) is useless afterwards
    attacker = Client()
    attacker.cookies[COOKIE] = before
    assert attacker.get("/").status_code == 302


def test_idle_timeout_after_15_minutes(client, caseworker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(caseworker)
        clock.shift(datetime.timedelta(minutes=10))
        assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=14, seconds=50))  # 14:50 since the last request
        assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        login = client.get(response["Location"])
        assert "logged out after 15 minutes without activity" in login.content.decode()
        assert not StaffSession.objects.filter(user=caseworker).exists()
        assert client.get("/api/v1/cases/").status_code in (401, 403)


def test_absolute_timeout_after_12_hours_of_activity(client, caseworker):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(caseworker)
        for _ in range(12 * 6 - 1):  # a request every 10 minutes for 11 h 50
            clock.shift(datetime.timedelta(minutes=10))
            assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=10, seconds=1))  # 12 h and a second after login
        response = client.get("/")
        assert response.status_code == 302
        assert "a session lasts at most 12 hours" in client.get(response["Location"]).content.decode()


def test_most_requests_do_not_write_the_session(client, caseworker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(caseworker)
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
        client.get("/cases/")
    session_sql = [q["sql"] for q in queries.captured_queries if "accounts_staffsession" in q["sql"]]
    assert session_sql
    assert all(sql.startswith("SELECT") for sql in session_sql), session_sql


def _two_browsers(user) -> tuple[Client, Client]:
    browsers = (Client(), Client())
    for browser in browsers:
        browser.force_login(user)
        assert browser.get("/").status_code == 200
    assert StaffSession.objects.filter(user=user).count() == 2
    return browsers


def test_deactivation_in_the_organisations_user_pages_ends_every_session(client, admin, counsellor):
    browsers = _two_browsers(counsellor)
    client.force_login(admin)
    response = client.post(
        reverse("orgsettings:user-edit", args=[counsellor.pk]),
        {"first_name": "C", "last_name": "D", "email": "c@demo.invalid", "role": "counsellor"},  # is_active unticked
    )
    assert response.status_code == 302
    assert not StaffSession.objects.filter(user=counsellor).exists()
    for browser in browsers:
        response = browser.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert browser.get("/api/v1/cases/").status_code in (401, 403)
    assert client.get("/").status_code == 200  # the admin's own session is untouched


def test_deactivation_in_the_django_admin_ends_every_session(client, superuser, counsellor):
    browsers = _two_browsers(counsellor)
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[counsellor.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "is_active": "",
            "groups": [],
            "user_permissions": [],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": counsellor.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": counsellor.date_joined.strftime("%H:%M:%S"),
            "membership-TOTAL_FORMS": "1",
            "membership-INITIAL_FORMS": "1",
            "membership-MIN_NUM_FORMS": "0",
            "membership-MAX_NUM_FORMS": "1",
            "membership-0-id": counsellor.membership.pk,
            "membership-0-user": counsellor.pk,
            "membership-0-organisation": counsellor.membership.organisation_id,
            "membership-0-role": counsellor.membership.role,
        }
    )
    data = {k: v for k, v in data.items() if v != ""}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    counsellor.refresh_from_db()
    assert not counsellor.is_active
    assert not StaffSession.objects.filter(user=counsellor).exists()
    for browser in browsers:
        assert browser.get("/").status_code == 302


def test_production_cookies_are_secure_httponly_samesite():
    env = subprocess_env(DJANGO_SETTINGS_MODULE="casemgmt.settings", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_NAME, s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SAMESITE, "
        "s.SESSION_IDLE_TIMEOUT, s.SESSION_ABSOLUTE_TIMEOUT, s.SESSION_ENGINE)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == [
        "__Host-sessionid",
        "True",
        "True",
        "Lax",
        "__Host-csrftoken",
        "True",
        "True",
        "Lax",
        "900",
        "43200",
        "accounts.sessions",
    ]


def test_the_session_cookie_carries_its_attributes(client, caseworker, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = post_password(client, "caseworker", PASSWORD)
    morsel = response.cookies[COOKIE]
    assert morsel["secure"]
    assert morsel["httponly"]
    assert morsel["samesite"] == "Lax"
    assert not morsel["max-age"]  # ends with the browser; the server ends it after 15 idle minutes


def _session_request_queries(client, url="/"):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_session_query_brings_the_user(client, caseworker):
    """One query reads the session row with its user, membership and organisation; no second user query."""
    client.force_login(caseworker)
    client.get("/")
    sql = _session_request_queries(client)
    session_reads = [q for q in sql if 'FROM "accounts_staffsession"' in q]
    assert len(session_reads) == 1
    assert '"accounts_user"' in session_reads[0]
    assert '"accounts_membership"' in session_reads[0]
    assert not [q for q in sql if q.startswith('SELECT "accounts_user"."id"') and 'FROM "accounts_user"' in q]


def test_a_session_row_of_another_user_is_not_taken_for_the_sessions_user(client, caseworker, counsellor):
    """The user of the row is used only when it is the one the session's data names; otherwise the
    backend reads the named user as before (and the password hash of that user still decides)."""
    client.force_login(caseworker)
    key = client.cookies[COOKIE].value
    StaffSession.objects.filter(session_key=key).update(user=counsellor)
    request = RequestFactory().get("/")
    request.session = SessionStore(key)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    assert request.user.pk == caseworker.pk
    assert request.session.row_user.pk == counsellor.pk


def test_the_rows_user_is_refused_when_deactivated_or_the_password_changed(client, caseworker):
    client.force_login(caseworker)
    assert client.get("/").status_code == 200
    caseworker.set_password("another-Reintegration-2026")
    caseworker.save()
    assert client.get("/").status_code == 302  # the session's password hash no longer matches
    client.force_login(caseworker)
    User.objects.filter(pk=caseworker.pk).update(is_active=False)
    assert client.get("/").status_code == 302


def test_a_session_read_before_the_user_is_not_taken_for_it(client, caseworker):
    """A row read earlier in the request (before a deactivation, say) is not used: the backend queries."""
    client.force_login(caseworker)
    request = RequestFactory().get("/")
    request.session = SessionStore(client.cookies[COOKIE].value)
    assert request.session.get("_auth_user_id")  # read now, before anyone asks for the user
    User.objects.filter(pk=caseworker.pk).update(is_active=False)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    assert not request.user.is_authenticated


def test_an_expired_session_gives_no_user_and_no_key(client, caseworker):
    client.force_login(caseworker)
    key = client.cookies[COOKIE].value
    StaffSession.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    request = RequestFactory().get("/")
    request.session = SessionStore(key)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    assert not request.user.is_authenticated
    assert request.session.session_key is None
    assert request.session.row_user is None


def test_the_store_is_known_to_the_backend_only_during_get_user(client, caseworker):
    client.force_login(caseworker)
    assert client.get("/").status_code == 200
    assert LOADING_USER_OF.get() is None
    client.logout()
    assert LOADING_USER_OF.get() is None


def test_the_user_outside_a_request_is_read_by_the_backend(caseworker):
    """Outside a request's `auth.get_user` (no store in LOADING_USER_OF) the backend queries as before."""
    assert LOADING_USER_OF.get() is None
    assert MembershipBackend().get_user(caseworker.pk) == caseworker
