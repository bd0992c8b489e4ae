"""Test settings: production settings in demo mode with a fast hasher."""

import os
import secrets
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
# `make test` passes a key made for the run; a bare pytest makes one (child processes inherit it).
os.environ.setdefault("AUDIT_HMAC_KEY", secrets.token_urlsafe(32))

from casemgmt.settings import *  # noqa: F403

DEBUG = False  # tests see the production behaviour (error pages, no browsable API)
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: the suite creates many users
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Uploaded files of a test run go to a throwaway folder, never into the checkout.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="casemgmt-media-"))
# The application role may empty tables (transactional tests flush with TRUNCATE, which fires no
# row trigger); it still may not UPDATE or DELETE the append-only tables.
DATABASE_APP_TRUNCATE = True
AUDIT_HEAD_FILE = Path(tempfile.mkdtemp(prefix="casemgmt-audit-")) / "audit-heads.jsonl"
WEBHOOK_ALLOW_PRIVATE_URLS = True  # the tests run local receivers on 127.0.0.1
WEBHOOK_TIMEOUT_SECONDS = 3
