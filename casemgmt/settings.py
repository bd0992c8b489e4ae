"""One settings file, driven by environment variables (12-factor).

Production is the default: DEBUG is off unless DJANGO_DEBUG=1, and then a secret key
must be given. `make run` sets demo mode; tests use casemgmt.settings_test.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
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
    "template_partials",
    "django.contrib.postgres",
    "pgtrigger",
    "pghistory",
    "accounts",
    "casemgmt",
    "programs",
    "families",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "casemgmt.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # after authentication: attaches the acting user and URL to every history row a write makes
    "pghistory.middleware.HistoryMiddleware",
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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/casemgmt"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
X_FRAME_OPTIONS = "DENY"

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
    # the managers' monthly report (issue 12): on the 1st, for the month just ended; idempotent per manager
    # Idempotency-Key rows past their time to live (issue 13); reads ignore them already
    "purge-idempotency-keys": {"task": "casemgmt.tasks.purge_idempotency_keys", "schedule": 3600.0},
    "reports-monthly-summary": {
        "task": "reports.tasks.send_monthly_summaries",
        "schedule": crontab(day_of_month="1", hour="6", minute="0"),
    },
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

# --- REST API -------------------------------------------------------------------
# How long a POST's Idempotency-Key is remembered (its first answer replayed), in hours.
IDEMPOTENCY_KEY_TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
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
    },
}

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
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-Reintegration-2026")

AUTHENTICATION_BACKENDS = ["accounts.backends.MembershipBackend"]
