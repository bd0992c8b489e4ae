"""Logging in through the real login page (the two-step wizard) and making authentication codes."""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN_URL = "/accounts/login/"
STEP = "login_view-current_step"  # the wizard's management field (prefix from the view's class name)
GENERIC_ERROR = "Please enter a correct username and password"


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator app for the user, as the setup wizard makes it."""
    return TOTPDevice.objects.create(user=user, name="default", confirmed=True)


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def post_password(client, username: str, password: str, **extra):
    return client.post(LOGIN_URL, {STEP: "auth", "auth-username": username, "auth-password": password}, **extra)


def post_code(client, code: str, *, step: str = "token", **extra):
    return client.post(LOGIN_URL, {STEP: step, f"{step}-otp_token": code}, **extra)
