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


_SCRIPT_UNSAFE = ("'unsafe-inline'", "'unsafe-eval'")


@register(deploy=False)
def content_security_policy(app_configs, **kwargs):
    """A production start needs the CSP (issue 11): the middleware, a policy, and a script-src
    (or its default-src fallback) without 'unsafe-inline' / 'unsafe-eval'. In demo mode (DEBUG)
    a missing policy is only a warning."""
    level = Warning if settings.DEBUG else Error
    problems = []
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    directives = policy.get("DIRECTIVES") or {}
    if "csp.middleware.CSPMiddleware" not in settings.MIDDLEWARE:
        problems.append(
            level("csp.middleware.CSPMiddleware is not in MIDDLEWARE: no Content-Security-Policy.", id="casemgmt.E010")
        )
    script_src = directives.get("script-src", directives.get("default-src"))
    if not script_src:
        problems.append(
            level(
                "CONTENT_SECURITY_POLICY has no script-src (nor default-src).",
                hint="See the block 'Headers, CSP and logs (issue 11)' in casemgmt/settings.py.",
                id="casemgmt.E011",
            )
        )
    else:
        unsafe = [str(source) for source in script_src if str(source) in _SCRIPT_UNSAFE]
        if unsafe:
            problems.append(
                level(
                    f"CONTENT_SECURITY_POLICY script-src allows {', '.join(unsafe)}.",
                    hint="Move the script to a static file; data goes in a json_script block.",
                    id="casemgmt.E012",
                )
            )
    if not directives.get("frame-ancestors"):
        problems.append(level("CONTENT_SECURITY_POLICY has no frame-ancestors.", id="casemgmt.E013"))
    return problems
