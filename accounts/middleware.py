"""The signed-in user's language (issue 15), session timeouts and required two-factor verification (issue 11)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import LazyObject, SimpleLazyObject, empty
from django_otp import devices_for_user
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from .sessions import LOADING_USER_OF, VERIFYING_SESSION

# Session keys: when the user logged in, and the last recorded activity (epoch seconds).
LOGIN_AT = "_login_at"
SEEN_AT = "_seen_at"
ENDED = "_session_ended"  # why the previous session ended, shown once on the login page

# The API authenticates for itself (accounts.authentication refuses an unverified session with a
# 403 problem); /o/ is the partner systems' OAuth2 token endpoint, not a staff session.
API_PREFIXES = ("/api/", "/o/")


def two_factor_exempt(view_func):
    """Mark a view an unverified (password-only) session may reach: enrolment and logout."""
    view_func.two_factor_exempt = True
    return view_func


def session_started(request) -> None:
    """Called at every login (user_logged_in): the clocks of both timeouts start now."""
    now = int(timezone.now().timestamp())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, except that `request.user` takes the user the session's query brought (accounts.sessions):
    one query less on every signed-in request. `auth.get_user` itself runs unchanged."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user_of(request))


def _user_of(request):
    if not hasattr(request, "_cached_user"):  # the attribute Django's own lazy user caches in
        # only a session read by this very call: a row read earlier in the request could be older
        fresh = not hasattr(request.session, "_session_cache")
        token = LOADING_USER_OF.set(request.session if fresh else None)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            LOADING_USER_OF.reset(token)
    return request._cached_user


class UserLanguageMiddleware:
    """A signed-in user's pages are in the language stored on their profile (the switcher stores it),
    whatever the browser; without a stored choice, LocaleMiddleware's answer stands (the language
    cookie, else Accept-Language), as for everybody who is not signed in (the login page).

    After AuthenticationMiddleware: it reads request.user, which the later middleware loads anyway
    (one query for user, membership and organisation, accounts.backends), so it costs no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language in self.languages:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Ends a session 15 minutes after its last request (idle) or 12 hours after login (absolute).

    Only the session is read: the user is not loaded. The last activity is written at most once per
    SESSION_ACTIVITY_RESOLUTION seconds, so most requests do not write the session row.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = int(timezone.now().timestamp())
            login_at = session.get(LOGIN_AT, now)
            seen_at = session.get(SEEN_AT, now)
            idle = now - seen_at > settings.SESSION_IDLE_TIMEOUT
            if idle or now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)  # flushes the session: a new key, no data, the row deleted
                request.session[ENDED] = "idle" if idle else "absolute"
            elif LOGIN_AT not in session or now - seen_at >= settings.SESSION_ACTIVITY_RESOLUTION:
                session[LOGIN_AT] = login_at
                session[SEEN_AT] = now
        return self.get_response(request)


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's, except that the device comes from the session's own query (accounts.sessions) when
    it is the device the session's data names: one query less on every signed-in request. django-otp's
    checks (the device belongs to this user and is confirmed, else the session is no longer verified)
    run unchanged on it; any other device, or none on the row, is looked up by django-otp as before."""

    def _verify_user_sync(self, request, user):
        token = VERIFYING_SESSION.set(getattr(request, "session", None))
        try:
            return super()._verify_user_sync(request, user)
        finally:
            VERIFYING_SESSION.reset(token)

    def _device_from_persistent_id(self, persistent_id: str):
        device_of_row = getattr(VERIFYING_SESSION.get(), "device_of_row", None)
        device = device_of_row(self._normalize_persistent_id(persistent_id)) if device_of_row else None
        return device if device is not None else super()._device_from_persistent_id(persistent_id)


class ResolvedUserMiddleware:
    """After OTPMiddleware: `request.user` becomes the user object itself instead of two nested lazy
    proxies (ours above, django-otp's around it). Each attribute read through a SimpleLazyObject is a
    Python-level call, and a page reads the user a few hundred times (access checks, templates): about
    0.3 ms (2%) of a case page, measured side by side with and without this middleware.
    UserLanguageMiddleware has loaded the user already, and django-otp's wrapper costs the device
    query every page pays for `is_verified()` anyway, so no query is added.
    Login and logout still replace `request.user` as Django does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        while isinstance(user, LazyObject):
            if user._wrapped is empty:
                user._setup()
            user = user._wrapped
        request.user = user
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """With TWO_FACTOR_REQUIRED, a logged-in user whose session no OTP device verified reaches no page
    but enrolment, login, logout, the language switch and the health probe.

    Without a device they are sent to enrol (first login); with one, the session was opened without a
    code (the admin's login, a session from before enrolment): it is ended and they log in again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.TWO_FACTOR_REQUIRED or request.path_info.startswith(API_PREFIXES):
            return None
        if not getattr(view_func, "login_required", True) or getattr(view_func, "two_factor_exempt", False):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if any(devices_for_user(user, confirmed=True)):
            logout(request)
            return redirect_to_login(request.get_full_path())
        return redirect_to_login(request.get_full_path(), reverse("two_factor:setup"))
