"""Hooks of django-axes (issue 11): the client's address and the answer to a locked-out login."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the last trusted proxy saw it.

    With TRUSTED_PROXY_COUNT = n, the n-th address from the right of X-Forwarded-For (each proxy
    appends the address it received the request from); entries further left are the client's own
    claims and are ignored, so a client cannot pick its address to dodge the lockout.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username an attempt was made for: from authenticate()'s credentials, else the login
    wizard's prefixed form field."""
    if credentials and credentials.get("username"):
        return credentials["username"]
    return request.POST.get("auth-username") if request is not None else None


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials=None) -> HttpResponse:
    """A locked-out attempt gets exactly what a wrong password gets: the login page with the generic
    error (the password was not even checked), so the page does not tell whether an account exists
    or is locked."""
    if original_response is not None:
        return original_response
    from django.shortcuts import redirect

    return redirect(settings.LOGIN_URL)
