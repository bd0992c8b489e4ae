"""Shared fixtures: the demo organisations and users, a real Celery worker, helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accounts.models import User

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))  # devservices: the embedded servers of make run/test
DEMO_USERNAMES = [
    "caseworker",
    "colleague",
    "counsellor",
    "placement",
    "manager",
    "auditor",
    "admin",
    "caseworker2",
    "mentor",
    "supervisor",
    "authority",
    "mentor2",
    "peermentor",
]


# --- The two database roles ------------------------------------------------------
# Like production, the tests connect as the application role, which owns no tables: pytest-django
# creates and migrates each test database (one per xdist worker) as the owner (DATABASE_OWNER_URL),
# the post_migrate handler grants the application role its privileges (plus TRUNCATE, for the flush
# of transactional tests), then the default connection is pointed at the application role.

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
_ROLES: dict[str, dict] = {}


def _switch_role(role: str) -> None:
    """Point the default connection (same database) at the "owner" or the "app" role."""
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    if not _ROLES:
        import dj_database_url

        if not settings.DATABASE_OWNER_URL:
            pytest.exit("DATABASE_OWNER_URL is not set: run the suite with `make test`.", returncode=3)
        _ROLES["app"] = {key: connection.settings_dict[key] for key in _CREDENTIALS}
        owner = dj_database_url.parse(settings.DATABASE_OWNER_URL)
        _ROLES["owner"] = {key: owner[key] for key in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update(_ROLES[role])
    settings.DATABASES["default"].update(_ROLES[role])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """pytest-django's (the xdist suffix), then: the test database is created by the owner."""
    _switch_role("owner")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's (create and migrate, as the owner), then the tests run as the application role."""
    with django_db_blocker.unblock():
        _switch_role("app")
    yield
    with django_db_blocker.unblock():
        _switch_role("owner")  # only the owner may drop the test database


@pytest.fixture
def as_owner(transactional_db):
    """This test's queries run as the owner (maintenance commands). Transactional: the connection is
    reopened, so no test transaction can wrap it; the flush afterwards runs as the application role."""
    _switch_role("owner")
    yield
    _switch_role("app")


def owner_connect(**kwargs):
    """A connection of its own to the test database as the owner (psycopg, autocommit)."""
    import psycopg
    from django.db import connection

    owner, db = _ROLES["owner"], connection.settings_dict
    return psycopg.connect(
        host=owner["HOST"],
        port=owner["PORT"],
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
        **kwargs,
    )


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Each test stores uploads in its own folder, so no test sees another's files."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def demo(db) -> dict[str, User]:
    """The demo organisations and users of seed_demo, built by the same code."""
    from casemgmt.management.commands.seed_demo import seed_reference_data, seed_users

    seed_reference_data()
    seed_users(password="demo-Reintegration-2026")
    return {user.username: user for user in User.objects.select_related("membership__organisation")}


def _demo_user_fixture(username: str):
    @pytest.fixture(name=username)
    def fixture(demo):
        return demo[username]

    return fixture


for _name in DEMO_USERNAMES:
    globals()[_name] = _demo_user_fixture(_name)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@demo.invalid", "root-password-long-enough")


def subprocess_env(**overrides: str) -> dict[str, str]:
    # casemgmt.settings_test puts demo values into this process's environment; a child starts clean.
    dropped = {"DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "DJANGO_SECRET_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def celery_worker_process():
    """A real Celery worker on the embedded Redis of the test run."""
    from casemgmt.celery import app

    node = f"test-{os.getpid()}@%h"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "casemgmt", "worker", "--pool=solo", "-n", node, "--loglevel=WARNING"],
        cwd=ROOT,
        env=subprocess_env(DJANGO_SETTINGS_MODULE="casemgmt.settings_test"),
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("The Celery worker did not start")
    yield proc
    proc.terminate()
    proc.wait(20)


# --- Case fixtures ------------------------------------------------------------------

VIEWERS = ["caseworker", "placement", "colleague", "manager", "auditor", "admin", "caseworker2", "authority"]


@pytest.fixture
def case(demo):
    """A Northern case: `caseworker` leads, `placement` is on the team."""
    from tests.factories import northern_case

    return northern_case(demo)


@pytest.fixture
def viewer(request, demo):
    """Parametrise with a username from VIEWERS, or "anonymous"."""
    return None if request.param == "anonymous" else demo[request.param]
