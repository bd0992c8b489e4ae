"""docker-compose.yml has the production shape. No Docker engine runs here, so we read it."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat", "maintenance"]
OWNER_SERVICES = ["migrate", "maintenance"]  # the only ones that know the owner's password
INIT_SCRIPT = ROOT / "deploy" / "postgres-init" / "10-casemgmt-roles.sh"


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
    assert SERVICES["maintenance"]["command"][:2] == ["sh", "-c"]


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
    assert env["REDIS_CACHE_URL"].startswith("redis://redis:6379/")  # rate limits across web nodes
    # secrets are required from the environment, never written in the file
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert env["AUDIT_HMAC_KEY"].startswith("${AUDIT_HMAC_KEY:?")
    assert env["FIELD_ENCRYPTION_KEYS"].startswith("${FIELD_ENCRYPTION_KEYS:?")
    assert env["NATIONAL_ID_HASH_KEY"].startswith("${NATIONAL_ID_HASH_KEY:?")
    assert env["AUDIT_HEAD_FILE"].startswith("/var/lib/casemgmt/audit/")
    assert env["DATABASE_APP_ROLE"] == "casemgmt_app"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_owner_migrates_and_maintains_and_the_application_role_serves(name):
    url = SERVICES[name]["environment"]["DATABASE_URL"]
    if name in OWNER_SERVICES:
        assert url.startswith("postgres://casemgmt_owner:${CASEMGMT_OWNER_DB_PASSWORD:?")
    else:
        assert url.startswith("postgres://casemgmt_app:${CASEMGMT_APP_DB_PASSWORD:?")
    assert url.endswith("@postgres:5432/casemgmt")
    # the owner's credentials never reach the serving processes, by any variable
    if name not in OWNER_SERVICES:
        assert not any("CASEMGMT_OWNER_DB_PASSWORD" in value for value in SERVICES[name]["environment"].values())


def test_postgres_is_given_memory_for_the_working_set():
    command = SERVICES["postgres"]["command"]
    assert command[0] == "postgres"
    settings = dict(
        value.split("=", 1) for flag, value in zip(command[1::2], command[2::2], strict=True) if flag == "-c"
    )
    assert settings["shared_buffers"] == "${POSTGRES_SHARED_BUFFERS:-1GB}"
    assert settings["effective_cache_size"] == "${POSTGRES_EFFECTIVE_CACHE_SIZE:-4GB}"


def test_postgres_creates_both_roles_on_first_start():
    postgres = SERVICES["postgres"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    env = postgres["environment"]
    assert env["POSTGRES_USER"] == "postgres"  # the superuser is neither of the app's roles
    assert env["CASEMGMT_OWNER_DB_PASSWORD"].startswith("${CASEMGMT_OWNER_DB_PASSWORD:?")
    assert env["CASEMGMT_APP_DB_PASSWORD"].startswith("${CASEMGMT_APP_DB_PASSWORD:?")
    script = INIT_SCRIPT.read_text()
    assert INIT_SCRIPT.stat().st_mode & 0o111, "the image runs *.sh init scripts only when executable"
    assert "CREATE ROLE casemgmt_owner LOGIN PASSWORD :'owner_password';" in script
    assert "CREATE ROLE casemgmt_app LOGIN PASSWORD :'app_password';" in script
    assert "CREATE DATABASE casemgmt OWNER casemgmt_owner;" in script
    assert "ON_ERROR_STOP=1" in script


def test_exactly_one_maintenance_service_runs_retention_and_the_audit_chain_daily():
    maintenance = SERVICES["maintenance"]
    assert maintenance["deploy"]["replicas"] == 1
    loop = maintenance["command"][2]
    steps = [line.strip() for line in loop.splitlines() if "manage.py" in line]
    assert [step.split()[2] for step in steps] == ["apply_retention", "verify_audit", "anchor_audit_head"]
    assert "sleep 86400" in loop
    assert "$" not in loop  # compose would interpolate it
    assert maintenance["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    runs_maintenance = [name for name, svc in SERVICES.items() if "apply_retention" in str(svc.get("command", ""))]
    assert runs_maintenance == ["maintenance"]


def test_the_head_file_lives_on_a_volume_of_its_own_shared_by_worker_and_maintenance():
    directory = SERVICES["web"]["environment"]["AUDIT_HEAD_FILE"].rsplit("/", 1)[0]
    for name in ("worker", "maintenance"):  # beat's daily task runs on a worker
        assert f"audit-heads:{directory}" in SERVICES[name]["volumes"]
    assert "audit-heads" in COMPOSE["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"chown app:app {directory}" in dockerfile  # a fresh volume takes the image's owner


def test_every_variable_the_app_services_set_is_read_by_the_settings():
    settings_source = (ROOT / "casemgmt" / "settings.py").read_text()
    read = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'env_(?:bool|list)\("([A-Z_]+)"', settings_source))
    env = SERVICES["web"]["environment"]
    unknown = set(env) - read - {"DJANGO_SETTINGS_MODULE"}
    assert not unknown, f"compose sets variables the settings never read: {unknown}"
    required = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "AUDIT_HMAC_KEY"}
    required |= {"FIELD_ENCRYPTION_KEYS", "NATIONAL_ID_HASH_KEY"}
    assert required <= set(env)


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
