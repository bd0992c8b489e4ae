"""System checks of the project's own settings (`manage.py check`, run by migrate and runserver)."""

from django.conf import settings
from django.core.checks import Error, Warning, register

MIN_AUDIT_KEY_LENGTH = 32


@register()
def audit_hmac_key(app_configs, **kwargs):
    """The disclosure chain is only evidence if its key is set, strong, and outside the database."""
    key = settings.AUDIT_HMAC_KEY
    if not key:
        if settings.DEBUG:
            return [
                Warning(
                    "AUDIT_HMAC_KEY is not set: disclosure rows cannot be written.",
                    hint="`make run` sets one; otherwise export a random value of at least 32 characters.",
                    id="casemgmt.W001",
                )
            ]
        return [Error("AUDIT_HMAC_KEY is not set.", id="casemgmt.E001")]
    short = [k for k in [key, *settings.AUDIT_HMAC_OLD_KEYS] if len(k) < MIN_AUDIT_KEY_LENGTH]
    if short and not settings.DEBUG:
        return [
            Error(
                f"An audit HMAC key is shorter than {MIN_AUDIT_KEY_LENGTH} characters.",
                hint="Generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
                id="casemgmt.E002",
            )
        ]
    return []
