"""Test settings: production settings in demo mode with a fast hasher."""

import base64
import os
import secrets
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
# `make test` passes a key made for the run; a bare pytest makes one (child processes inherit it).
os.environ.setdefault("AUDIT_HMAC_KEY", secrets.token_urlsafe(32))
# Encryption at rest (casemgmt/crypto.py): `make test` passes keys made for the run; a bare pytest makes them.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", f"t1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
os.environ.setdefault("NATIONAL_ID_HASH_KEY", secrets.token_urlsafe(32))

# Log files of the run (scripts/dev.py passes one folder for all its processes and scans it after the
# suite); a bare pytest gets a folder of its own, inherited by the Celery workers it starts.
os.environ.setdefault("CASEMGMT_LOG_DIR", tempfile.mkdtemp(prefix="casemgmt-logs-"))

from casemgmt.settings import *  # noqa: F403

DEBUG = False  # tests see the production behaviour (error pages, no browsable API)
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: the suite creates many users
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The console shows warnings only; the log files of a `make test` run (CASEMGMT_LOG_DIR) get
# everything from INFO up, as production writes it, for the scan for the planted marker.
LOGGING["handlers"]["console"]["level"] = "WARNING"  # noqa: F405
# Uploaded files of a test run go to a throwaway folder, never into the checkout.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="casemgmt-media-"))
# The application role may empty tables (transactional tests flush with TRUNCATE, which fires no
# row trigger); it still may not UPDATE or DELETE the append-only tables.
DATABASE_APP_TRUNCATE = True
AUDIT_HEAD_FILE = Path(tempfile.mkdtemp(prefix="casemgmt-audit-")) / "audit-heads.jsonl"
# Two-factor login is off for the suite (tests log in with force_login); the 2FA tests turn it on.
TWO_FACTOR_REQUIRED = False
TWO_FACTOR_PATCH_ADMIN = False
WEBHOOK_ALLOW_PRIVATE_URLS = True  # the tests run local receivers on 127.0.0.1
WEBHOOK_TIMEOUT_SECONDS = 3
