"""Settings come from the environment and refuse an unsafe production start."""

import subprocess
import sys

from tests.conftest import ROOT, subprocess_env

LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def _load(**env: str) -> subprocess.CompletedProcess:
    base = subprocess_env(DJANGO_SETTINGS_MODULE="casemgmt.settings")
    base.pop("DJANGO_SECRET_KEY", None)
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _load(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_starts_with_a_secret_key_and_debug_off():
    result = _load(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_is_off_unless_asked_for():
    result = _load(DJANGO_SECRET_KEY="x" * 50)
    assert result.stdout.strip() == "False"


def test_demo_mode_runs_without_a_secret_key():
    result = _load(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_production_refuses_to_start_without_the_audit_key():
    base = subprocess_env(DJANGO_SETTINGS_MODULE="casemgmt.settings", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50)
    base.pop("AUDIT_HMAC_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY must be set when DEBUG is off" in result.stderr


def test_the_system_check_refuses_a_short_audit_key(settings):
    from casemgmt.checks import audit_hmac_key

    settings.DEBUG = False
    settings.AUDIT_HMAC_KEY = "short"
    assert [e.id for e in audit_hmac_key(None)] == ["casemgmt.E002"]
    settings.AUDIT_HMAC_KEY = ""
    assert [e.id for e in audit_hmac_key(None)] == ["casemgmt.E001"]
    settings.AUDIT_HMAC_KEY = "k" * 32
    settings.AUDIT_HMAC_OLD_KEYS = ["old"]
    assert [e.id for e in audit_hmac_key(None)] == ["casemgmt.E002"]
    settings.AUDIT_HMAC_OLD_KEYS = []
    assert audit_hmac_key(None) == []
