"""Login lockout (issue 11, django-axes): per (username, client address), generic answers, unlocked
by the cool-off or the system administrator."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.utils import timezone

from tests.security.helpers import GENERIC_ERROR, post_password

PASSWORD = "demo-Reintegration-2026"
HERE, ELSEWHERE = "203.0.113.7", "198.51.100.9"


def _fail(client, times: int, *, username="caseworker", ip=HERE):
    for _ in range(times):
        response = post_password(client, username, "wrong-password", REMOTE_ADDR=ip)
        assert response.status_code == 200
        assert GENERIC_ERROR in response.content.decode()


def _logs_in(client, *, username="caseworker", ip=HERE) -> bool:
    response = post_password(client, username, PASSWORD, REMOTE_ADDR=ip)
    logged_in = response.status_code == 302 and client.get("/").status_code == 200
    client.post("/accounts/logout/")
    return logged_in


def test_five_failures_lock_the_pair_with_the_same_generic_answer(client, caseworker, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    _fail(client, 4)
    assert _logs_in(client)  # four failures do not lock; a success resets the count
    _fail(client, 5)
    locked = post_password(client, "caseworker", PASSWORD, REMOTE_ADDR=HERE)
    wrong = post_password(client, "caseworker", "wrong-password", REMOTE_ADDR=HERE)
    unknown = post_password(client, "nobody-of-that-name", "wrong-password", REMOTE_ADDR=HERE)
    # locked with the right password, a wrong password, an unknown user: one answer, no "locked"
    for response in (locked, wrong, unknown):
        html = response.content.decode()
        assert response.status_code == 200
        assert GENERIC_ERROR in html
        assert "locked" not in html.lower()
        assert "too many" not in html.lower()
    assert client.get("/").status_code == 302


def test_guesses_from_elsewhere_do_not_lock_the_user_out_here(client, caseworker):
    _fail(client, 6, ip=ELSEWHERE)
    assert not _logs_in(client, ip=ELSEWHERE)
    assert _logs_in(client, ip=HERE)  # the same user, from their own address
    _fail(client, 6, username="colleague", ip=HERE)
    assert _logs_in(client, ip=HERE)  # another user's lock at the same address is theirs only


def test_the_system_administrator_unlocks(client, caseworker, superuser):
    _fail(client, 5)
    assert not _logs_in(client)
    assert AccessAttempt.objects.filter(username="caseworker", ip_address=HERE).exists()
    # the admin sees the lock on axes' admin page...
    client.force_login(superuser)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "caseworker" in listing.content.decode()
    client.logout()
    # ...and lifts it with the command (or by deleting the row there)
    call_command("axes_reset_username", "caseworker")
    assert _logs_in(client)


def test_the_lock_ends_after_the_cool_off(client, caseworker, settings):
    assert datetime.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _fail(client, 5)
        clock.shift(datetime.timedelta(minutes=10))
        assert not _logs_in(client)  # a try during the lock does not restart the cool-off
        clock.shift(datetime.timedelta(minutes=5, seconds=5))
        assert _logs_in(client)


@pytest.mark.parametrize(("proxies", "expected"), [(0, "10.0.0.2"), (1, "192.0.2.50"), (2, "198.51.100.1")])
def test_the_client_address_behind_trusted_proxies(rf, settings, proxies, expected):
    """Only addresses appended by trusted proxies count: a client cannot pick its own by sending
    X-Forwarded-For."""
    from accounts.security import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1, 192.0.2.50")
    assert client_ip(request) == expected


def test_a_spoofed_forwarded_address_does_not_escape_the_lock(client, caseworker, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(6):
        post_password(client, "caseworker", "wrong", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, {HERE}")
    response = post_password(
        client, "caseworker", PASSWORD, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"8.8.8.8, {HERE}"
    )
    assert response.status_code == 200
    assert GENERIC_ERROR in response.content.decode()
