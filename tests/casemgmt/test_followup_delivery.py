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


def _ping(queue: str, broker: str | None) -> bool:
    destination = [f"{queue}@{os.uname().nodename}"]
    if broker is None:
        return bool(app.control.ping(destination=destination, timeout=0.5))
    with app.connection_for_write(broker) as connection:
        return bool(app.control.ping(destination=destination, timeout=0.5, connection=connection))


def start_worker(queue: str, broker: str | None = None) -> subprocess.Popen:
    """A worker of its own, on a queue of its own (parallel test processes share the Redis), using the
    database this test writes to."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        "DJANGO_SETTINGS_MODULE": "casemgmt.settings_test",
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # what the worker enqueues (the e-mails) stays on this queue
    }
    if broker:
        env["CELERY_BROKER_URL"] = env["CELERY_RESULT_BACKEND"] = broker
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "casemgmt", "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h"],
        cwd=ROOT,
        env=subprocess_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not _ping(queue, broker):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("The Celery worker did not start")
    return proc


@pytest.fixture
def queue(transactional_db):
    name = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = "celery"


@pytest.fixture
def worker(queue):
    proc = start_worker(queue)
    yield proc
    proc.terminate()
    proc.wait(20)


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


def _due_follow_ups(demo, n: int) -> list[int]:
    """n follow-ups due today on one case (the rows are what matters to delivery)."""
    case = CaseFactory(
        organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
    )
    FollowUp.objects.filter(case=case).delete()
    today = timezone.localdate()
    rows = FollowUp.objects.bulk_create(
        FollowUp(case=case, kind="first_contact", due_on=today, assignee=demo["caseworker"], key=f"load:{case.pk}:{i}")
        for i in range(n)
    )
    return [r.pk for r in rows]


def test_a_worker_killed_in_the_middle_of_a_delivery_loses_nothing_and_doubles_nothing(queue, demo):
    ids = _due_follow_ups(demo, 2000)
    first = start_worker(queue)
    try:
        tasks.deliver_follow_ups.delay()
        # kill it once the first batches are in, the next ones under way
        assert _wait(lambda: Notification.objects.count() >= 200, seconds=60)
        first.kill()
        first.wait(20)
    finally:
        if first.poll() is None:
            first.kill()
    delivered_before = Notification.objects.count()
    second = start_worker(queue)
    try:
        tasks.deliver_follow_ups.delay()  # what beat does every minute
        assert _wait(lambda: not FollowUp.objects.filter(pk__in=ids, notified_at__isnull=True).exists(), seconds=120)
    finally:
        second.terminate()
        second.wait(20)
    assert delivered_before >= 200
    per_follow_up = Notification.objects.filter(follow_up_id__in=ids, purpose="due").values_list(
        "follow_up_id", flat=True
    )
    assert sorted(per_follow_up) == sorted(ids)  # each exactly once
