"""Delivery through a real Celery worker on the embedded Redis, against this test's database."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from casemgmt import followups, tasks
from casemgmt.celery import app
from casemgmt.followup_models import FollowUp, Notification
from tests.conftest import ROOT, subprocess_env
from tests.factories import CaseFactory


@pytest.fixture
def worker(transactional_db):
    """A worker of its own, on a queue of its own (parallel test processes share the Redis), using the
    database this test writes to."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    queue = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "casemgmt", "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h"],
        cwd=ROOT,
        env=subprocess_env(
            DJANGO_SETTINGS_MODULE="casemgmt.settings_test",
            DATABASE_URL=url,
            DATABASE_CONN_MAX_AGE="0",
            CELERY_TASK_DEFAULT_QUEUE=queue,  # what the worker enqueues (the e-mails) stays on this queue
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("The Celery worker did not start")
    yield proc
    proc.terminate()
    proc.wait(20)
    app.conf.task_default_queue = "celery"


def _wait(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_delivers_each_due_follow_up_once_and_mails_it(worker, demo):
    cases = [
        CaseFactory(
            organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
        )
        for _ in range(3)
    ]
    due = FollowUp.objects.filter(case__in=cases, kind="first_contact")
    assert due.update(due_on=timezone.localdate()) == 3  # due today: delivered, not yet overdue
    later = followups.schedule(
        case=cases[0], kind="first_contact", due_on=timezone.localdate() + datetime.timedelta(days=3), suffix="later"
    )
    tasks.deliver_follow_ups.delay()
    tasks.deliver_follow_ups.delay()  # beat and a manual run at once: still one notification each
    assert _wait(lambda: Notification.objects.filter(email_sent_at__isnull=False).count() == 3), (
        list(Notification.objects.values("pk", "email_sent_at")),
        list(FollowUp.objects.values("pk", "notified_at", "due_on", "status")),
    )
    time.sleep(1)  # the second run had its chance
    assert Notification.objects.count() == 3
    assert set(Notification.objects.values_list("follow_up__case", flat=True)) == {c.pk for c in cases}
    later.refresh_from_db()
    assert later.notified_at is None
