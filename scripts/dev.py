"""`make run` and `make test`: start embedded services, then the app or the suite.

Usage: .venv/bin/python scripts/dev.py run|test [pytest args...]|bench [cases|followups|reports]
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from devservices import APP_ROLE, EmbeddedPostgres, EmbeddedRedis, free_port, remove_tree  # noqa: E402

PY = sys.executable
DATA = ROOT / ".data"
DEFAULT_DEMO_PASSWORD = "demo-Reintegration-2026"
# The benchmark cluster's memory, as docker-compose.yml sets production's: the 100k data (about 1 GB)
# fits in shared buffers instead of being copied in from the OS cache on every scan (the dashboard's
# figures' queries took 12-20% less). BENCH_PG_SHARED_BUFFERS and BENCH_PG_EFFECTIVE_CACHE_SIZE override.
BENCH_SERVER_MEMORY = {
    "shared_buffers": os.environ.get("BENCH_PG_SHARED_BUFFERS", "1GB"),
    "effective_cache_size": os.environ.get("BENCH_PG_EFFECTIVE_CACHE_SIZE", "4GB"),
}


def _kept_secret(name: str, nbytes: int) -> str:
    path = DATA / name
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_key() -> str:
    """A per-checkout secret for demo mode, kept so sessions survive a restart."""
    return _kept_secret("secret_key", 50)


def _audit_key() -> str:
    """The disclosure chain's HMAC key for demo mode, kept (outside the database) so the chain
    written by earlier runs still verifies."""
    return _kept_secret("audit_hmac_key", 32)


def _encryption_env() -> dict[str, str]:
    """Keys of the encrypted fields and of the national-ID hash for demo mode and the benchmark, kept
    (outside the database) so the rows written by earlier runs stay readable; the environment wins."""
    path = DATA / "field_encryption_keys"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        path.write_text(f"d1:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")
        path.chmod(0o600)
    return {
        "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS") or path.read_text().strip(),
        "NATIONAL_ID_HASH_KEY": os.environ.get("NATIONAL_ID_HASH_KEY") or _kept_secret("national_id_hash_key", 32),
    }


def _fresh_encryption_env() -> dict[str, str]:
    """One set per test run, never kept."""
    return {
        "FIELD_ENCRYPTION_KEYS": f"t1:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}",
        "NATIONAL_ID_HASH_KEY": secrets.token_urlsafe(32),
    }


def database_env(pg: EmbeddedPostgres, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The two roles and the database `name` owned by the owner role.

    Returns the environment of the app (web, worker, beat: the application role) and of the
    owner's commands (migrate, seeding, maintenance). Both know the owner's URL and the
    application role's name; only DATABASE_URL differs.
    """
    owner_url, app_url = pg.ensure_roles(name)
    app = {"DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url, "DATABASE_APP_ROLE": APP_ROLE}
    return app, {**app, "DATABASE_URL": owner_url}


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run() -> int:
    # `kill`, a closed terminal and Ctrl-C all stop the same way: children first, then the services.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    port = os.environ.get("PORT", "8000")
    pg = EmbeddedPostgres(DATA / "pg", int(os.environ.get("PG_PORT", "55432")))
    redis = EmbeddedRedis(DATA / "redis", int(os.environ.get("REDIS_PORT", "56379")))
    children: list[subprocess.Popen] = []
    try:
        pg.start()
        app_db, owner_db = database_env(pg, "casemgmt")
        broker = redis.start()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
            "DJANGO_DEBUG": "1",
            "DJANGO_SECRET_KEY": _secret_key(),
            **app_db,
            "CELERY_BROKER_URL": broker,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEMO_PASSWORD": os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD),
            "CELERY_BEAT_SCHEDULE_FILE": str(DATA / "celerybeat-schedule"),
            "AUDIT_HMAC_KEY": os.environ.get("AUDIT_HMAC_KEY") or _audit_key(),
            "AUDIT_HEAD_FILE": os.environ.get("AUDIT_HEAD_FILE", str(DATA / "audit-heads.jsonl")),
            **_encryption_env(),
        }
        owner_env = {**env, **owner_db}
        # The owner migrates (granting the application role its privileges) and seeds; the app,
        # the worker and beat below connect as the application role.
        _manage("migrate", "--no-input", env=owner_env)
        _manage("seed_demo", env=owner_env)
        _manage("anchor_audit_head", env=owner_env)  # beat anchors daily; a demo session rarely lasts a day
        celery = [PY, "-m", "celery", "-A", "casemgmt"]
        children.append(subprocess.Popen([*celery, "worker", "--loglevel=INFO", "--concurrency=2"], cwd=ROOT, env=env))
        children.append(
            subprocess.Popen(
                [*celery, "beat", "--loglevel=INFO", "-s", env["CELERY_BEAT_SCHEDULE_FILE"]], cwd=ROOT, env=env
            )
        )
        children.append(subprocess.Popen([PY, "manage.py", "runserver", f"127.0.0.1:{port}"], cwd=ROOT, env=env))
        print(
            f"\n  Serving http://127.0.0.1:{port}/  (Ctrl-C stops the app, the worker, beat, PostgreSQL and Redis)\n"
            f"  Demo logins (password: {env['DEMO_PASSWORD']}):\n"
            "    caseworker, colleague, counsellor, placement, manager, auditor, admin\n"
            "      (Northern Reintegration Centre)\n"
            "    caseworker2 (Atlantic Family Support Association)\n"
            "    mentor, supervisor (Council of Scholars North)   authority (Regional Probation Office)\n"
            "  Demo API clients: printed by seed_demo above (client id and secret; token at /o/token/)\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1  # a child died on its own
    except KeyboardInterrupt:
        print("\n[run] stopping...", flush=True)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        redis.stop()
        pg.stop()


def _gate(name: str, cmd: list[str], env: dict[str, str], *, fail: bool = True) -> bool:
    print(f"\n== {name}: {' '.join(cmd)}", flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    ok = result.returncode == 0
    print(f"== {name}: {'ok' if ok else 'FAILED'} ({time.monotonic() - started:.1f}s)", flush=True)
    return ok or not fail


def test(pytest_args: list[str]) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="casemgmt-test-"))
    log_dir = tmp / "logs"
    log_dir.mkdir()
    marker = "Qx" + secrets.token_hex(4)  # per run; short enough for every personal field
    pg = EmbeddedPostgres(tmp / "pg", free_port(), fast=True)
    redis = EmbeddedRedis(tmp / "redis", free_port())
    try:
        pg.start()
        app_db, _owner_db = database_env(pg, "casemgmt")
        broker = redis.start()
        # pytest-django creates and migrates the test databases as the owner (DATABASE_OWNER_URL),
        # then the tests run as the application role (tests/conftest.py).
        env = {
            **os.environ,
            **app_db,
            "CELERY_BROKER_URL": broker,
            "EMBEDDED_PG_PORT": str(pg.port),
            "AUDIT_HMAC_KEY": secrets.token_urlsafe(32),  # one per run, never kept
            # Every process of the suite (xdist workers, the Celery workers they start) logs to a file
            # here; the planting test writes the marker into every personal field, the scan after the
            # suite looks for it in every file (scripts/logscan.py).
            "CASEMGMT_LOG_DIR": str(log_dir),
            "CASEMGMT_LOG_MARKER": marker,
            **_fresh_encryption_env(),
        }
        prod_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "casemgmt.example.org",
        }
        test_env = {**env, "DJANGO_SETTINGS_MODULE": "casemgmt.settings_test"}
        ok = True
        if not pytest_args:  # a focused run (make test ARGS=...) skips the gates
            ok &= _gate("ruff check", [PY, "-m", "ruff", "check", "."], env)
            ok &= _gate("ruff format", [PY, "-m", "ruff", "format", "--check", "."], env)
            ok &= _gate("migrations", [PY, "manage.py", "makemigrations", "--check", "--dry-run"], test_env)
            ok &= _gate("deploy check", [PY, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], prod_env)
            ok &= _gate("bandit", [PY, "-m", "bandit", "-q", "-c", "pyproject.toml", "-r", "."], env)
            # The vulnerability database changes with the outside world: report, never fail.
            _gate(
                "pip-audit (report only)", [PY, "-m", "pip_audit", "--progress-spinner", "off", "-l"], env, fail=False
            )
        started = time.monotonic()
        args = pytest_args or ["-n", os.environ.get("PYTEST_WORKERS", "2")]
        print(f"\n== pytest {' '.join(args)}", flush=True)
        code = subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT, env=test_env).returncode
        print(f"== pytest finished in {time.monotonic() - started:.1f}s with exit code {code}", flush=True)
        # A full run must have planted the marker; a focused run scans whatever it logged.
        scan = [PY, "scripts/logscan.py", str(log_dir), marker, *([] if pytest_args else ["--require-planted"])]
        ok &= _gate("log scan for personal data", scan, env)
        if not ok:
            print("\nA quality gate failed (see above).", flush=True)
            return 1
        return code
    finally:
        redis.stop()
        pg.stop()
        remove_tree(tmp)


def bench(only: list[str]) -> int:
    """Scale data in a kept cluster (.data/bench-pg), then the timed scenarios of benchmarks/run.py
    (`bench followups`: only the follow-up delivery, printed, RESULTS.md untouched; `bench reports` and
    `bench cases`: only the report scenarios or the case pages, their section of RESULTS.md replaced)."""
    pg = EmbeddedPostgres(
        DATA / "bench-pg", int(os.environ.get("BENCH_PG_PORT", "55442")), settings=BENCH_SERVER_MEMORY
    )
    redis = EmbeddedRedis(DATA / "bench-redis", free_port())
    try:
        pg.start()
        app_db, owner_db = database_env(pg, "casemgmt_bench")
        env = {
            **os.environ,
            **app_db,
            "CELERY_BROKER_URL": redis.start(),
            "DJANGO_SETTINGS_MODULE": "casemgmt.settings",
            "DJANGO_DEBUG": "1",
            "AUDIT_HMAC_KEY": _audit_key(),
            **_encryption_env(),
        }
        _manage("migrate", "--no-input", env={**env, **owner_db})
        _manage("seed_scale", "--cases", os.environ.get("BENCH_CASES", "100000"), env={**env, **owner_db})
        bench_env = {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.settings", "DJANGO_DEBUG": "0"}
        modules = {"followups": "benchmarks.followups", "reports": "benchmarks.reports"}
        module = modules.get(only[0], "benchmarks.run") if only else "benchmarks.run"
        args = ["cases"] if only == ["cases"] else []
        return subprocess.run([PY, "-m", module, *args], cwd=ROOT, env=bench_env).returncode
    finally:
        redis.stop()
        pg.stop()


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"run", "test", "bench"}:
        print(__doc__)
        return 2
    if sys.argv[1] == "run":
        return run()
    if sys.argv[1] == "bench":
        return bench(sys.argv[2:])
    return test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
