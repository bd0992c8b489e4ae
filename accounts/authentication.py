"""The API's session authentication, refusing sessions that two-factor verification has not
completed (issue 11). OAuth2 bearer tokens of partner systems are authenticated before this class
and are not concerned."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication


class VerifiedSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if (
            settings.TWO_FACTOR_REQUIRED
            and user is not None
            and user.is_authenticated
            and user.is_active
            and not user.is_verified()
        ):
            raise exceptions.PermissionDenied(
                _("Two-factor verification is required: log in with your authentication code first.")
            )
        return super().authenticate(request)


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    """The OpenAPI description of the session cookie (drf-spectacular's own does not match subclasses)."""

    target_class = VerifiedSessionAuthentication
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
