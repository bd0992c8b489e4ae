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
