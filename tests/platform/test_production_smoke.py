"""The production commands of docker-compose.yml, run against the embedded services.

gunicorn, a Celery worker and beat start with production settings (DEBUG off, a real
secret, manifest static files) and /healthz answers 200 only when all of them work.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
import yaml
from devservices import free_port

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
BIN = Path(sys.executable).parent


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


@pytest.fixture
def production_database():
    port = os.environ["EMBEDDED_PG_PORT"]
    name = f"smoke_{secrets.token_hex(4)}"
    with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:{port}/{name}"
    with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_gunicorn_worker_and_beat_serve_with_production_settings(production_database, tmp_path):
    port = free_port()
    broker = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/7"  # its own queue, away from test workers
    compose_env = {k: v for k, v in COMPOSE["web"]["environment"].items() if "${" not in v}
    env = subprocess_env(**compose_env)
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=production_database,
        CELERY_BROKER_URL=broker,
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    assert env["DJANGO_DEBUG"] == "0"
    subprocess.run(_command("migrate"), cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
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
