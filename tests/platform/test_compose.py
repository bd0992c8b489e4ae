"""docker-compose.yml has the production shape. No Docker engine runs here, so we read it."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat", "maintenance"]


def test_services():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat", "maintenance"}
    assert SERVICES["postgres"]["image"] == "postgres:18"
    assert SERVICES["redis"]["image"].startswith("redis:")


def test_commands():
    assert SERVICES["web"]["command"][:2] == ["gunicorn", "casemgmt.wsgi:application"]
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "casemgmt", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "casemgmt", "beat"]
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert "manage.py apply_retention" in SERVICES["maintenance"]["command"][-1]


def test_exactly_one_beat():
    runs_beat = [name for name, svc in SERVICES.items() if "beat" in svc.get("command", [])]
    assert runs_beat == ["beat"]
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    # the worker must not embed a scheduler (-B), or scaling workers multiplies the sweeps
    assert "-B" not in SERVICES["worker"]["command"]
    assert "--beat" not in SERVICES["worker"]["command"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_the_image_and_production_environment(name):
    service = SERVICES[name]
    assert service["image"] == "casemgmt:latest"
    env = service["environment"]
    assert env["DJANGO_DEBUG"] == "0"
    assert env["DJANGO_SETTINGS_MODULE"] == "casemgmt.settings"
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    # secrets are required from the environment, never written in the file
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")


def test_every_variable_the_app_services_set_is_read_by_the_settings():
    settings_source = (ROOT / "casemgmt" / "settings.py").read_text()
    read = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'env_(?:bool|list)\("([A-Z_]+)"', settings_source))
    env = SERVICES["web"]["environment"]
    unknown = set(env) - read - {"DJANGO_SETTINGS_MODULE"}
    assert not unknown, f"compose sets variables the settings never read: {unknown}"
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"} <= set(env)


def test_web_waits_for_migrations_and_healthy_backing_services():
    assert SERVICES["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["migrate"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_dockerfile_runs_gunicorn_as_an_unprivileged_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert "collectstatic" in dockerfile
    assert '"gunicorn", "casemgmt.wsgi:application"' in dockerfile
