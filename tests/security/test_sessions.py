"""Sessions (issue 11): a new id at login, idle timeout 15 minutes, absolute 12 hours, every session
of a deactivated user ended at once, hardened cookies in production."""

from __future__ import annotations

import datetime
import subprocess
import sys

import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffSession
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
