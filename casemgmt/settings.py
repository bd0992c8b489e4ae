"""One settings file, driven by environment variables (12-factor).

Production is the default: DEBUG is off unless DJANGO_DEBUG=1, and then a secret key
must be given. `make run` sets demo mode; tests use casemgmt.settings_test.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(int(default))).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-demo-only-key"  # noqa: S105  # nosec B105 - demo mode only, never with DEBUG off

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "django_htmx",
    "csp",
    "template_partials",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    # two-factor login (issue 11): two_factor before its plugins, django-otp's TOTP and static (recovery) devices
    "two_factor",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "casemgmt",
    "programs",
    "families",
    "reports",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user read by the session's own query (one query less per request)
    "accounts.middleware.AuthenticationMiddleware",
    # issue 15: a signed-in user's stored language wins over the cookie and the browser's
    "accounts.middleware.UserLanguageMiddleware",
    # issue 11: idle and absolute session timeouts, then request.user.is_verified() (django-otp)
    "accounts.middleware.SessionTimeoutMiddleware",
    # django-otp's, with the device read by the session's own query (one query less per request)
    "accounts.middleware.OTPMiddleware",
    # request.user as the object itself, no longer behind two lazy proxies (about 2% of a page)
    "accounts.middleware.ResolvedUserMiddleware",
    "casemgmt.middleware.LoginRequiredMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # the CSP header (with this request's nonce) and Cache-Control: no-store (issue 11); after
    # WhiteNoise, which answers static files before these run
    "csp.middleware.CSPMiddleware",
    "casemgmt.middleware.NoStoreMiddleware",
    # after authentication: attaches the acting user and URL to every history row a write makes
    "pghistory.middleware.HistoryMiddleware",
    # last, as django-axes asks: turns a lockout flagged during authentication into the response
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casemgmt.urls"
WSGI_APPLICATION = "casemgmt.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casemgmt.context_processors.navigation",
                "csp.context_processors.nonce",
                "accounts.context_processors.two_factor",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/casemgmt"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
        # Django's PostgreSQL backend with prepared statements for the per-request key lookups
        # (the session row, the case of a case page): dbengine/__init__.py
        engine="dbengine",
    )
}
# dbengine.prepared(): the per-request key lookups as prepared statements; 0 turns them off (a pooler in
# transaction mode without prepared-statement support)
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The manager's dashboard runs its figures' queries side by side on this many connections of its own
# (reports/selectors.dashboard); each web or worker process may then hold this many more connections.
REPORTS_QUERY_THREADS = int(os.environ.get("REPORTS_QUERY_THREADS", "3"))

# --- Database roles (ARCHITECTURE.md, "Database roles and the disclosure chain") ----------
# DATABASE_URL is whatever this process connects as: the application role, which owns no tables,
# for the web app, the worker and beat; the owner role for `migrate` and the maintenance commands
# (the runners and compose set DATABASE_URL to the owner's URL for those). DATABASE_OWNER_URL
# tells the test suite and the runners how to reach the owner.
DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
# The role `migrate` (run by the owner) grants to: DML on ordinary tables, INSERT and SELECT only on
# the append-only ones (disclosure log, access log, stage changes, history events).
DATABASE_APP_ROLE = os.environ.get("DATABASE_APP_ROLE", "casemgmt_app")
DATABASE_APP_TRUNCATE = False  # the test settings let the application role empty tables between tests

# --- Disclosure log chain --------------------------------------------------------
# HMAC key of the disclosure log's hash chain: never in the database, required when DEBUG is off.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "")
if not AUDIT_HMAC_KEY and not DEBUG:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set when DEBUG is off.")
# Retired keys (comma-separated, newest first): verification only, after a rotation.
AUDIT_HMAC_OLD_KEYS = env_list("AUDIT_HMAC_OLD_KEYS")
# One JSON line per anchoring of the chain head (daily); keep it off the database host.
AUDIT_HEAD_FILE = Path(os.environ.get("AUDIT_HEAD_FILE", BASE_DIR / ".data" / "audit-heads.jsonl"))

# --- Encryption at rest (issue 11) ---
# AES-256-GCM keys of the encrypted fields (casemgmt/crypto.py), never derived from SECRET_KEY:
# comma-separated `kid:base64key` (32 bytes); the first encrypts, all decrypt. Rotate by putting a new
# key first, keeping the old one second, and running `manage.py reencrypt`. A system check refuses a
# production start (DEBUG off) without valid keys.
FIELD_ENCRYPTION_KEYS = os.environ.get("FIELD_ENCRYPTION_KEYS", "")
# HMAC key of `Participant.national_id_hash` (exact search on the encrypted national ID). Changing it
# means recomputing every hash from the decrypted IDs (`manage.py reencrypt --rehash`).
NATIONAL_ID_HASH_KEY = os.environ.get("NATIONAL_ID_HASH_KEY", "")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / ".data" / "media"))

# --- Security: production values unless demo mode says otherwise -----------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and the compose health check probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# the switcher's cookie (issue 15): the language before login; signed-in users' is on their profile
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# --- Headers, CSP and logs (issue 11) --------------------------------------------------
# A strict policy: scripts and styles only from our own origin (static files) or carrying this
# request's nonce; no 'unsafe-inline', no 'unsafe-eval', nothing framed, no plugins. Templates hold
# no inline script, event handler or style attribute; data for scripts travels in json_script
# blocks. casemgmt.checks refuses a production start without it (casemgmt.E010-E012).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # Bootstrap and Swagger UI draw small icons from data: URIs in their stylesheets
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Responses other than static files and /healthz may carry personal data: no browser or proxy keeps
# them (casemgmt.middleware.NoStoreMiddleware).
NO_STORE_EXEMPT_PREFIXES = ("/static/", "/healthz")
# Log files: one folder per process group (the test run sets it, scripts/dev.py scans it afterwards).
LOG_DIR = os.environ.get("CASEMGMT_LOG_DIR", "")
# --- Authentication: 2FA, lockout, sessions (issue 11) ---------------------------
# Two-factor login (django-two-factor-auth over django-otp: TOTP, plus recovery codes as static
# tokens). Required for every staff user unless DEBUG is on (`make run` demo mode, where a banner on
# every page says it is off); DJANGO_TWO_FACTOR_REQUIRED overrides either way. A logged-in user whose
# session is not verified reaches only enrolment, login and logout (accounts.middleware); the API
# answers their session calls with a 403 problem. OAuth2 bearer tokens (/o/, partner systems) are not
# staff sessions and are not concerned.
TWO_FACTOR_REQUIRED = env_bool("DJANGO_TWO_FACTOR_REQUIRED", not DEBUG)
# the Django admin's login sends to the one login page and asks for a verified session (with 2FA);
# where 2FA is off (demo mode) the admin takes the logged-in superuser as it is
TWO_FACTOR_PATCH_ADMIN = TWO_FACTOR_REQUIRED
TWO_FACTOR_LOGIN_TIMEOUT = 300  # seconds between the password step and the code step
TWO_FACTOR_REMEMBER_COOKIE_AGE = None  # never "remember this browser": a code at every login
OTP_TOTP_ISSUER = "Reintegration case management"
OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes: wait 1, 2, 4, 8 ... seconds before the next try
OTP_STATIC_THROTTLE_FACTOR = 1

# Lockout (django-axes): failures counted per (username, client IP) pair, so someone guessing from
# elsewhere cannot lock a user out everywhere; unlocked by the cool-off or the system administrator
# (axes' admin pages, `manage.py axes_reset_username <name>` / `axes_reset`). The locked answer is
# the login page with the same generic error as a wrong password (accounts.security).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
# a try during the lockout does not restart the cool-off: the lock ends when announced to the admin
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# authenticate() passes `username`; the login wizard posts it as `auth-username` (accounts.security)
AXES_USERNAME_CALLABLE = "accounts.security.attempted_username"
AXES_PASSWORD_FORM_FIELD = "auth-password"  # masked in the attempt's stored form data  # noqa: S105  # nosec B105 - a form field name
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))

# Sessions: database-backed with the user's id on the row (accounts.StaffSession), so deactivating a
# user deletes all of their sessions in one statement. Idle timeout 15 minutes (the cookie and the
# row expire SESSION_COOKIE_AGE after the last recorded activity, which is refreshed at most once a
# minute so a page view does not always write), absolute 12 hours after login.
SESSION_ENGINE = "accounts.sessions"
SESSION_IDLE_TIMEOUT = int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS", "900"))
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("DJANGO_SESSION_ABSOLUTE_SECONDS", str(12 * 3600)))
SESSION_ACTIVITY_RESOLUTION = 60
# the row outlives the idle limit by a minute, so the middleware (which says why) ends it first
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT + SESSION_ACTIVITY_RESOLUTION
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Cookies: Secure outside demo mode (see above), HttpOnly, SameSite=Lax (links from e-mails keep
# working); the __Host- prefix makes the browser refuse them without Secure, on a sub-domain or path.
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-sessionid"
CSRF_COOKIE_NAME = "csrftoken" if DEBUG else "__Host-csrftoken"
CSRF_COOKIE_HTTPONLY = True  # forms and htmx take the token from the page, never from the cookie
CSRF_COOKIE_SAMESITE = "Lax"

# --- E-mail ---------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "casemgmt@localhost")
# Links in e-mails point here; Message-IDs use the domain (e-mail de-duplication key).
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000")
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("DJANGO_EMAIL_MESSAGE_ID_DOMAIN", "casemgmt.localhost")

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:56379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_BEAT_SCHEDULE: dict = {
    # follow-ups falling due are delivered within a minute; the database says what is due
    # (FOLLOW_UP_DELIVERY_SECONDS shortens it for the tests that run a real beat)
    "deliver-follow-ups": {
        "task": "casemgmt.tasks.deliver_follow_ups",
        "schedule": float(os.environ.get("FOLLOW_UP_DELIVERY_SECONDS", "60")),
    },
    "sweep-follow-ups": {"task": "casemgmt.tasks.sweep_follow_ups", "schedule": 3600.0},
    # closed cases past their organisation's retention period are listed for the manager once a day
    "list-retention-due": {"task": "casemgmt.tasks.list_retention_due", "schedule": 86400.0},
    # the disclosure chain's head, appended to AUDIT_HEAD_FILE outside the database
    "anchor-audit-head": {"task": "casemgmt.tasks.anchor_audit_head", "schedule": 86400.0},
    # webhooks (issue 14): what is due by its next-attempt time; consents that expired, hourly
    "deliver-webhooks": {
        "task": "casemgmt.tasks.deliver_webhooks",
        "schedule": float(os.environ.get("WEBHOOK_SWEEP_SECONDS", "30")),
    },
    "webhook-consent-expiries": {"task": "casemgmt.tasks.webhook_consent_expiries", "schedule": 3600.0},
    # the managers' monthly report (issue 12): on the 1st, for the month just ended; idempotent per manager
    # Idempotency-Key rows past their time to live (issue 13); reads ignore them already
    "purge-idempotency-keys": {"task": "casemgmt.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "reports-monthly-summary": {
        "task": "reports.tasks.send_monthly_summaries",
        "schedule": crontab(day_of_month="1", hour="6", minute="0"),
    },
    # checked import files never confirmed: their rows (personal data) are not kept past a day
    "purge-stale-imports": {"task": "imports.tasks.purge_stale_imports", "schedule": 3600.0},
}

# --- Data protection (issue 10) ---------------------------------------------------
# Anomalies on the DPO's page: a user reading at least this many distinct cases within one window.
DPO_ANOMALY_WINDOW_MINUTES = int(os.environ.get("DPO_ANOMALY_WINDOW_MINUTES", "60"))
DPO_ANOMALY_DISTINCT_CASES = int(os.environ.get("DPO_ANOMALY_DISTINCT_CASES", "20"))
DPO_ANOMALY_LOOKBACK_DAYS = int(os.environ.get("DPO_ANOMALY_LOOKBACK_DAYS", "30"))
# Authority reads outside these local hours (and at the weekend) are listed too.
DPO_OFFICE_HOURS = (8, 18)
# Retention: each NGO sets its period (months after closure, default 24) on its reminder settings page,
# rule "retention_review" (casemgmt/followups.py); `casemgmt.retention` reads it from there.

# --- Webhooks to partner systems (issue 14) ---------------------------------------------
# Deliveries are retried with exponential backoff (30 s doubling, capped at 6 h) up to the maximum,
# and a subscription is paused after this many failed attempts in a row (the admins are told).
WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("WEBHOOK_BACKOFF_SECONDS", "30"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "10"))
WEBHOOK_PAUSE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_PAUSE_AFTER_FAILURES", "10"))
WEBHOOK_TIMEOUT_SECONDS = int(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Production refuses plain http and addresses inside private networks (SSRF); the demo allows both.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", DEBUG)
ADMINS = [("System administrator", a) for a in env_list("DJANGO_ADMIN_EMAILS")]

# --- REST API -------------------------------------------------------------------
# How long a POST's Idempotency-Key is remembered (its first answer replayed), in hours.
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "casemgmt.api.clients.ClientAuthentication",  # bearer tokens of partner clients (issue 13)
        # the staff UI's session, refused (403 problem) while two-factor verification is missing
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "casemgmt.api.clients.ClientScopes",  # a partner client reaches only views that declare its scopes
    ],
    "DEFAULT_THROTTLE_CLASSES": ["casemgmt.api.clients.ClientRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "casemgmt.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "casemgmt.api.schema.ContractSchema",
    "EXCEPTION_HANDLER": "casemgmt.api.problems.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Reintegration case management API",
    "DESCRIPTION": "Partner and staff API. Errors are RFC 9457 problem details; lists use cursor pagination.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The contract is for staff and registered partner clients, not for anonymous visitors.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # issue 13: every body and 2xx answer has an example (casemgmt/api/schema.py)
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "casemgmt.api.schema.add_examples"],
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "casemgmt.models.Stage.choices",
        "WebhookEventEnum": "casemgmt.webhook_models.WebhookEvent.choices",
        "EligibilityEnum": "casemgmt.models.Eligibility.choices",
        "RiskBandEnum": "casemgmt.casefile.RiskBand.choices",
        "MentorKindEnum": "programs.models.mentoring.MentorKind.choices",
        "GenderEnum": "programs.models.mentoring.Gender.choices",
        "VettingStatusEnum": "programs.models.mentoring.VettingStatus.choices",
        "MentorAssignmentStatusEnum": "programs.models.mentoring.AssignmentStatus.choices",
        "MentoringSessionStatusEnum": "programs.models.mentoring.SessionStatus.choices",
        "PlaceTypeEnum": "programs.models.mentoring.PlaceType.choices",
        "MentoringTopicEnum": "programs.models.mentoring.Topic.choices",
        "PlacementStatusEnum": "programs.models.placements.PlacementStatus.choices",
        "OpportunityKindEnum": "programs.models.placements.OpportunityKind.choices",
        "PartnerPlacementMoveEnum": "programs.api.partner.PARTNER_MOVE_CHOICES",
        "LanguagesEnum": "casemgmt.models.LANGUAGES",
        "FamilyRelationEnum": "families.models.Relation.choices",
        "FamilyVulnerabilityEnum": "families.models.Vulnerability.choices",
        "EngagementKindEnum": "families.models.EngagementKind.choices",
        "EngagementStatusEnum": "families.models.EngagementStatus.choices",
        "CounsellingSessionKindEnum": "families.models.SessionKind.choices",
        "CounsellingSessionStatusEnum": "families.models.SessionStatus.choices",
        "PlannableCounsellingSessionKindEnum": "families.models.PLANNABLE_SESSION_KINDS",
        "LoggedCounsellingSessionStatusEnum": "families.models.LOGGED_SESSION_STATUSES",
        "DataCategoryEnum": "casemgmt.casefile.DataCategory.choices",
        "AuthorityCategoryEnum": "casemgmt.boundary_forms.CATEGORY_CHOICES",
        "LegalMandateKindEnum": "casemgmt.boundary_models.MANDATE_KINDS",
        "LegalEventKindEnum": "casemgmt.boundary_models.LEGAL_EVENT_KINDS",
        "SupportReferralStatusEnum": "families.models.ReferralStatus.choices",
        "SupportServiceEnum": "families.models.ServiceKind.choices",
        "ImportKindEnum": "imports.models.ImportKind.choices",
        "ImportStatusEnum": "imports.models.ImportStatus.choices",
        "ImportFileFormatEnum": "imports.models.FileFormat.choices",
    },
}

# Bulk import (issue 14): files are checked and imported within the request, so they stay small.
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "5000"))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))

OAUTH2_PROVIDER = {
    # Partner systems use client credentials only; everything else RFC 9700 warns about is off.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 900,  # nosec B105 - a lifetime, not a secret
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # nosec B105
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "PKCE_REQUIRED": True,
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
    "SCOPES": {
        "cases:read-shared": "Read cases shared with the client's organisation",
        "legal-events:write": "Record legal events on shared cases",
        "referrals:write": "Submit referrals",
        "placements:read": "Read the organisation's placements",
        "placements:write": "Update the organisation's placements",
        "opportunities:write": "Publish opportunities",
        "reports:read": "Read suppressed aggregate reports",
        "webhooks:manage": "Manage the client's webhook subscriptions (events its other scopes may see)",
    },
}

# Every handler scrubs exception messages and query strings (casemgmt/logs.py): logs hold ids and
# case codes only. Django's own default handlers (console when DEBUG, mail_admins with the request's
# POST data) are replaced: `django` and `django.server` log through ours.
_LOG_HANDLER = {"formatter": "plain", "filters": ["personal_data"]}
# --- Partner API clients (issue 13) ---
# A partner system is an `accounts.ApiClient`: an OAuth2 application (client credentials only, see
# casemgmt/api/clients.py) acting as one organisation, with allowed scopes and a rate limit per minute.
OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"] = "casemgmt.api.clients.ClientValidator"
OAUTH2_PROVIDER["DEFAULT_SCOPES"] = []  # a token request without `scope` gets the client's allowed scopes
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# The per-client request counters live in this cache: Redis in production (shared by every web node),
# local memory when REDIS_CACHE_URL is unset (tests, a single demo process).
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "")
if REDIS_CACHE_URL:
    CACHES["api-rate"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
else:
    CACHES["api-rate"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-rate"}
API_RATE_CACHE = "api-rate"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "casemgmt.logs.PersonalDataFilter"}},
    "formatters": {
        "plain": {
            "()": "casemgmt.logs.PersonalDataFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", **_LOG_HANDLER}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
    },
}
if LOG_DIR:
    # One file per process (web or test worker, Celery worker), all in one folder: the test run
    # scans them for its planted marker after the suite (scripts/dev.py).
    # (a Celery worker started by a test inherits the test's PYTEST_XDIST_WORKER: the command line first)
    _process = "celery" if "celery" in sys.argv[0] else os.environ.get("PYTEST_XDIST_WORKER") or Path(sys.argv[0]).stem
    LOGGING["handlers"]["file"] = {
        "class": "logging.FileHandler",
        "filename": str(Path(LOG_DIR) / f"{_process}-{os.getpid()}.log"),
        "encoding": "utf-8",
        **_LOG_HANDLER,
    }
    LOGGING["root"]["handlers"].append("file")

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-Reintegration-2026")

AUTHENTICATION_BACKENDS = [
    # first: refuses a locked-out (username, IP) pair before any password is checked (issue 11)
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.MembershipBackend",
]
