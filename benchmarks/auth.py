"""Logging the benchmark's clients in as the app's own two-factor login would.

With DEBUG off (benchmarks.settings), TWO_FACTOR_REQUIRED holds: a session no OTP device verified
reaches no page (accounts.middleware.TwoFactorRequiredMiddleware) and no API call
(accounts.authentication). The login wizard (two_factor's LoginView) checks the code, sets
`user.otp_device` and calls `django.contrib.auth.login`, whose `user_logged_in` signal has django_otp
store the device in the session (`django_otp.login`). Here the user gets a confirmed TOTP device, the
client logs in (`force_login`: no password, no code typed) and the device is stored in the client's
session by the same `django_otp.login`, so every measured request still goes through the OTP
middleware and the two-factor check.
"""

from __future__ import annotations

import django_otp
from django.http import HttpRequest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "bench"


def verified_login(client: Client, user) -> TOTPDevice:
    """Log `client` in as `user` with a session verified by the user's (benchmark) TOTP device."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, name=DEVICE_NAME, defaults={"confirmed": True})
    client.force_login(user)
    # force_login's own request has no `user`, so django_otp's login signal cannot store the device
    # there: store it on a request over the client's session, as the wizard's request would
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, device)
    request.session.save()
    if client.session.get(django_otp.DEVICE_ID_SESSION_KEY) != device.persistent_id:
        raise RuntimeError(f"the benchmark's TOTP device did not verify {user.username}'s session")
    del user.otp_device  # set by django_otp.login on this object; the requests load their own user
    return device
