"""Delivery through a real Celery worker on the embedded Redis, against this test's database."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from casemgmt import followups, tasks
from casemgmt.celery import app
from casemgmt.followup_models import FollowUp, Notification
from tests.conftest import ROOT, subprocess_env
from tests.factories import CaseFactory


def _probe(broker: str) -> Celery:
    """A client app of its own on `broker`, to reach a worker on another Redis than the suite's. Two traps:
    `app.control.ping(connection=...)` publishes through the *app's* producer pool (the suite's Redis) and
    only listens for replies on the connection given, so the ping never reaches that worker; and every
    Celery app of this process reads CELERY_BROKER_URL (the suite's Redis) from the environment before its
    own `broker=`. The read and write URLs are looked up before that variable, so they are set here."""
    probe = Celery("probe", set_as_current=False)
    probe.conf.broker_read_url = probe.conf.broker_write_url = broker
    return probe


def _ping(queue: str, broker: str | None) -> bool:
    destination = [f"{queue}@{os.uname().nodename}"]
    if broker is None:
        return bool(app.control.ping(destination=destination, timeout=0.5))
    probe = _probe(broker)
    try:
        return bool(probe.control.ping(destination=destination, timeout=0.5))
    except OperationalError:  # that Redis is not (yet, or no longer) up
        time.sleep(0.5)
        return False
    finally:
        probe.close()


def start_worker(
    queue: str, broker: str | None = None, *, log: Path | None = None, extra_env: dict | None = None
) -> subprocess.Popen:
    """A worker of its own, on a queue of its own (parallel test processes share the Redis), using the
    database this test writes to; on `broker` (a Redis of the test's own) if given. The broker reaches the
    worker through its environment, as in production (CELERY_BROKER_URL)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        "DJANGO_SETTINGS_MODULE": "casemgmt.settings_test",
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # what the worker enqueues (the e-mails) stays on this queue
        **(extra_env or {}),
    }
    if broker:
        env["CELERY_BROKER_URL"] = env["CELERY_RESULT_BACKEND"] = broker
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child writes to it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "casemgmt",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=subprocess_env(**env),
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    if log:
        output.close()
    deadline = time.monotonic() + 60
    while not _ping(queue, broker):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("The Celery worker did not start" + (f":\n{log.read_text()[-3000:]}" if log else ""))
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


def _follow_ups(demo, n: int, due_on: datetime.date, label: str) -> list[int]:
    """n follow-ups of the caseworker on one case of theirs, due on a day (bulk rows, as the sweeps write)."""
    case = CaseFactory(
        organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
    )
    FollowUp.objects.filter(case=case).delete()
    rows = FollowUp.objects.bulk_create(
        FollowUp(case=case, kind="first_contact", due_on=due_on, assignee=demo["caseworker"], key=f"{label}:{i}")
        for i in range(n)
    )
    return [r.pk for r in rows]


def start_beat(queue: str, tmp_path: Path, broker: str | None = None, **schedule: str) -> subprocess.Popen:
    """The one beat, as in production, on a queue of the test's own (and a Redis of its own if `broker`),
    with the schedule's intervals the test sets (`FOLLOW_UP_DELIVERY_SECONDS="1"`, ...)."""
    brokers = {"CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker} if broker else {}
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="casemgmt.settings_test", CELERY_TASK_DEFAULT_QUEUE=queue, **brokers, **schedule
    )
    with open(tmp_path / "beat.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                *("-m", "celery", "-A", "casemgmt", "beat", "--loglevel=INFO"),
                *("-s", str(tmp_path / "beat-schedule"), "--pidfile", str(tmp_path / "beat.pid")),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.mark.slow
def test_redis_stopped_while_follow_ups_fall_due_then_started_delivers_every_one_once(queue, demo, tmp_path):
    """Redis goes down, follow-ups fall due meanwhile, Redis comes back on the same port: the same worker
    reconnects, beat's next tick enqueues a delivery and every due follow-up gets exactly one notification
    and its e-mail. A Redis of the test's own (its own port and data folder), so stopping it leaves the
    suite's Redis, and the tests running beside this one, alone."""
    from devservices import EmbeddedRedis, free_port, port_open

    redis = EmbeddedRedis(tmp_path / "redis", free_port())
    broker = redis.start()
    probe = _probe(broker)
    logs = tmp_path / "worker.log"
    worker = beat = None

    def diagnostics() -> str:
        tail = "".join(f"\n--- {p.name}:\n{_read(p)[-4000:]}" for p in (logs, tmp_path / "beat.log"))
        return f"{Notification.objects.count()} notifications{tail}"

    today = timezone.localdate()
    try:
        before = _follow_ups(demo, 5, today, "before")  # due now: proves the whole chain works first
        falling_due = _follow_ups(demo, 40, today + datetime.timedelta(days=1), "outage")
        worker = start_worker(queue, broker, log=logs)
        # ticking every second instead of every minute; this beat is about the follow-ups only
        beat = start_beat(queue, tmp_path, broker, FOLLOW_UP_DELIVERY_SECONDS="1", WEBHOOK_SWEEP_SECONDS="3600")
        assert _wait(
            lambda: Notification.objects.filter(follow_up__in=before, email_sent_at__isnull=False).count() == 5,
            seconds=60,
        ), diagnostics()
        assert not Notification.objects.filter(follow_up__in=falling_due).exists()  # not due yet

        redis.stop()
        assert not port_open(redis.port)
        # What beat meets at each tick now: the broker refuses the message (beat logs it and ticks on).
        with pytest.raises(OperationalError):
            probe.send_task("casemgmt.tasks.deliver_follow_ups", queue=queue, retry=False)
        # Time passes: the day comes. The rows are the truth; nobody needed Redis to write them, and
        # writing follow-ups never enqueues anything (only beat and the e-mails after a delivery do).
        assert FollowUp.objects.filter(pk__in=falling_due).update(due_on=today) == 40
        late = _follow_ups(demo, 10, today - datetime.timedelta(days=2), "late")  # written during the outage
        due = falling_due + late
        # Both notice: a tick of beat fails, the worker loses its connection (and keeps trying).
        # (the log keeps the exception's type, not its message: casemgmt/logs.py withholds messages)
        assert _wait(lambda: "SchedulingError" in _read(tmp_path / "beat.log")), diagnostics()
        assert _wait(lambda: "Connection to broker lost" in _read(logs)), diagnostics()
        assert worker.poll() is None  # neither died of the outage
        assert beat.poll() is None

        redis.start()  # same port, same data folder
        assert redis.proc.poll() is None  # ours, not something else that took the port meanwhile
        assert _wait(lambda: _ping(queue, broker), seconds=60), diagnostics()  # the same worker is back
        assert _wait(
            lambda: Notification.objects.filter(follow_up__in=due, email_sent_at__isnull=False).count() == len(due),
            seconds=60,
        ), diagnostics()
        ticks = _read(tmp_path / "beat.log").count("Sending due task deliver-follow-ups")
        # Let a few more deliveries run: nothing new.
        assert _wait(
            lambda: _read(tmp_path / "beat.log").count("Sending due task deliver-follow-ups") >= ticks + 3,
            seconds=30,
        ), diagnostics()
        time.sleep(1)
        assert worker.poll() is None  # the same worker all along: it reconnected by itself
    finally:
        for proc in (beat, worker):
            if proc is not None:
                _stop(proc)
        probe.close()
        redis.stop()
    per_follow_up = Notification.objects.filter(follow_up__in=before + due, purpose="due").values_list(
        "follow_up_id", flat=True
    )
    assert sorted(per_follow_up) == sorted(before + due)  # each exactly once
    assert not FollowUp.objects.filter(pk__in=before + due, notified_at__isnull=True).exists()
    assert Notification.objects.filter(email_sent_at__isnull=True).count() == 0
