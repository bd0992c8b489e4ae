"""Partner API clients (issue 13): who a bearer token speaks for, what it may reach, how often.

A partner system authenticates with OAuth2 client credentials (`/o/token/`, django-oauth-toolkit). Its
token makes `request.user` a `ClientPrincipal`, never a staff `User`: it has no membership and no role,
so every function of `casemgmt.access` that decides by role or membership gives it nothing. A view opens
itself to clients only by declaring `required_scopes` (DOT's TokenHasScope convention):

    required_scopes = ["reports:read"]                        # every action / method
    required_scopes = {"list": ["placements:read"], ...}      # per viewset action (or lower-case method)

A view without the declaration, or an action missing from the mapping, answers 403 to every client
(`ClientScopes`, a default permission class); staff sessions are not affected by it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_validators import OAuth2Validator
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiClient, Organisation


class ClientPrincipal:
    """The caller of a partner client's request: its organisation and its token's scopes, nothing else."""

    is_api_client = True
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    role = None
    membership_or_none = None

    def __init__(self, api_client: ApiClient, scopes: frozenset[str]):
        self.api_client = api_client
        self.organisation = api_client.organisation
        self.organisation_id = api_client.organisation_id
        self.client_id = api_client.application.client_id
        self.scopes = scopes & api_client.scopes  # narrowed if the admin took a scope away since
        self.rate_limit_per_minute = api_client.rate_limit_per_minute

    @property
    def username(self) -> str:
        return f"client:{self.client_id}"

    @property
    def service_user(self):
        """The application's service account (no membership): the author recorded on the client's writes."""
        return self.api_client.application.user

    def is_kind(self, *kinds: str) -> bool:
        return self.organisation.kind in kinds and self.organisation.is_active

    def has_perm(self, *args, **kwargs) -> bool:
        return False

    def __str__(self) -> str:
        return self.username


def is_client(user) -> bool:
    return isinstance(user, ClientPrincipal)


def client_of_kind(user, *kinds: str) -> ClientPrincipal | None:
    return user if is_client(user) and user.is_kind(*kinds) else None


def _active_client(application) -> ApiClient | None:
    if application is None:
        return None
    return (
        ApiClient.objects.select_related("organisation", "application__user")
        .filter(application_id=application.pk, is_active=True, organisation__is_active=True)
        .first()
    )


class ClientAuthentication(OAuth2Authentication):
    """A bearer token counts only if it belongs to an active client of an active organisation; the token
    row is read on every request, so a revoked or deleted token (or client) is refused at once."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _user, token = result
        api_client = _active_client(token.application)
        if api_client is None:
            request.oauth2_error = {"error": "invalid_token"}
            raise exceptions.AuthenticationFailed(_("This client is not registered or no longer active."))
        return ClientPrincipal(api_client, frozenset(token.scope.split())), token


class ClientValidator(OAuth2Validator):
    """Only the client-credentials grant, only for registered active clients, only their allowed scopes."""

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type != "client_credentials" or _active_client(client) is None:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        api_client = _active_client(client)
        return api_client is not None and set(scopes) <= api_client.scopes

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        api_client = _active_client(request.client)
        return sorted(api_client.scopes) if api_client else []


def required_scopes_for(view, request) -> list[str] | None:
    declared = getattr(view, "required_scopes", None)
    if declared is None:
        return None
    if isinstance(declared, dict):
        key = getattr(view, "action", None) or request.method.lower()
        return declared.get(key)
    return list(declared)


class ClientScopes(BasePermission):
    """A partner client reaches a view only if the view declares scopes for the action and the token has
    them all (403 otherwise). Staff users pass through to the view's own access rules."""

    message = _("This client's scopes do not cover this endpoint.")

    def has_permission(self, request, view) -> bool:
        if not is_client(request.user):
            return True
        required = required_scopes_for(view, request)
        return required is not None and set(required) <= request.user.scopes


class ClientRateThrottle(BaseThrottle):
    """Requests per minute per client (the ApiClient row's limit), counted in a fixed one-minute window in
    the `API_RATE_CACHE` cache (Redis in production, so every web node counts into the same key)."""

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if not is_client(principal):
            return True
        now = time.time()
        window = int(now // 60)
        key = f"api-rate:{principal.api_client.pk}:{window}"
        cache = caches[settings.API_RATE_CACHE]
        cache.add(key, 0, timeout=120)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=120)
            count = 1
        self._wait = max(1, int((window + 1) * 60 - now + 0.999))
        return count <= principal.rate_limit_per_minute

    def wait(self) -> int:
        return self._wait


AUTHORITY = Organisation.Kind.AUTHORITY
PARTNER_KINDS = (Organisation.Kind.EMPLOYER, Organisation.Kind.TRAINING_PROVIDER)
FUNDER = Organisation.Kind.FUNDER


def shared_cases(user):
    """The shared view of the caller: an authority liaison's (`access.shared_cases_for`) or an authority
    client's (`access.shared_cases_for_organisation` of its organisation); nobody else has one."""
    from casemgmt import access
    from casemgmt.models import Case

    if is_client(user):
        if not user.is_kind(AUTHORITY):
            return Case.objects.none()
        return access.shared_cases_for_organisation(user.organisation_id)
    return access.shared_cases_for(user)
