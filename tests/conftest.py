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
