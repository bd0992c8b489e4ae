"""Follow-up delivery at scale (issue 9): 20,000 due among 500,000, delivered by real Celery workers on the
embedded Redis through the task beat sends every minute, against one bulk SQL update of the same rows.

The rows are built by `manage.py seed_scale` (source_type "bench", numbered by source_id); `prepare()` puts
the due ones back before each run (the previous run delivered them), so the run can be repeated.
Run alone with `python -m benchmarks.followups` (prints, writes nothing); `benchmarks/run.py` records it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from casemgmt.celery import app  # noqa: E402
from casemgmt.management.commands.seed_scale import BENCH_SOURCE, LEFT_USERNAME  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DUE = int(os.environ.get("BENCH_FOLLOW_UPS_DUE", "20000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DEADLINE = float(os.environ.get("BENCH_DELIVERY_DEADLINE", "900"))
DUE_ROWS = "FROM casemgmt_followup WHERE source_type = %(src)s AND source_id < %(due)s"
# what delivery looks for, over the whole table (the benchmark's rows are the only due ones)
DUE_WHERE = "status = 'pending' AND notified_at IS NULL AND due_on <= %(today)s"
ALL_DUE = f"FROM casemgmt_followup WHERE {DUE_WHERE}"


@dataclass
class Result:
    due: int
    total: int
    workers: int
    notified_s: float  # the in-app notifications of every due follow-up (the exactly-once unit)
    mailed_s: float | None  # and every e-mail sent (at least once, de-duplicated), None if not within DEADLINE
    update_s: float  # one bulk UPDATE of the same rows (rolled back)
    update_insert_s: float  # that UPDATE plus INSERT ... SELECT of their notifications (rolled back)


def connect() -> psycopg.Connection:
    """The owner's connection when there is one: preparing the rows switches history triggers off
    (replica role) and vacuums, which the application role may not. The delivery itself runs in the
    workers, as the application role."""
    if settings.DATABASE_OWNER_URL:
        return psycopg.connect(settings.DATABASE_OWNER_URL, autocommit=True)
    db = settings.DATABASES["default"]
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True)


def prepare(conn: psycopg.Connection) -> tuple[int, int]:
    """The due rows pending and undelivered again, their earlier notifications gone, the other rows kept away
    from today as the data ages; no history rows for this (replica role). Returns (due, total)."""
    today = timezone.localdate()
    params = {"src": BENCH_SOURCE, "due": DUE, "today": today, "left": User.objects.get(username=LEFT_USERNAME).pk}
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        # every follow-up's e-mail goes out (scale users built before they had addresses get one)
        conn.execute(
            "UPDATE accounts_user SET email = username || '@scale.invalid' "
            "WHERE username LIKE 'scale-%%' AND email = ''",
            params,
        )
        conn.execute(
            "DELETE FROM casemgmt_notification n USING casemgmt_followup f "
            "WHERE n.follow_up_id = f.id AND f.source_type = %(src)s",
            params,
        )
        conn.execute(
            "UPDATE casemgmt_followup f SET status = 'pending', notified_at = NULL, escalated_at = NULL, "
            "snoozed_until = NULL, due_on = %(today)s::date - (f.source_id %% 5)::int, assignee_id = CASE "
            "WHEN f.source_id %% 20 = 0 THEN %(left)s ELSE (SELECT t.user_id FROM casemgmt_caseteammember t "
            "WHERE t.case_id = f.case_id AND t.is_lead ORDER BY t.id LIMIT 1) END "
            "WHERE f.source_type = %(src)s AND f.source_id < %(due)s",
            params,
        )
        conn.execute(
            "UPDATE casemgmt_followup SET due_on = due_on + 365 WHERE source_type = %(src)s "
            "AND source_id >= %(due)s AND status = 'pending' AND due_on <= %(today)s::date + 7",
            params,
        )
        conn.execute(
            "UPDATE casemgmt_followup SET snoozed_until = snoozed_until + 90 WHERE source_type = %(src)s "
            "AND status = 'snoozed' AND snoozed_until <= %(today)s::date + 7",
            params,
        )
    vacuum(conn)
    due = conn.execute(f"SELECT count(*) {ALL_DUE}", params).fetchone()[0]  # nosec B608 - constants
    total = conn.execute("SELECT count(*) FROM casemgmt_followup").fetchone()[0]
    if due != DUE:
        raise RuntimeError(f"{due} follow-ups due, expected {DUE}: run `manage.py seed_scale` (make bench)")
    return due, total


def bulk_update(conn: psycopg.Connection, *, with_notifications: bool) -> float:
    """The baseline: one UPDATE of the same rows (history triggers included, as for delivery), optionally
    followed by one INSERT ... SELECT of their notifications; rolled back so the delivery still finds them
    due."""
    params = {"today": timezone.localdate()}
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        conn.execute("BEGIN")
        try:
            if with_notifications:
                # the rows first, then the notifications that reference them, in separate statements:
                # PostgreSQL's queue of their deferred foreign-key checks slows the history trigger of an
                # update that runs after them (or in the same statement) ten times
                conn.execute(f"CREATE TEMP TABLE due_now ON COMMIT DROP AS SELECT id, assignee_id {ALL_DUE}", params)
                updated = conn.execute(
                    "UPDATE casemgmt_followup SET notified_at = now() WHERE id IN (SELECT id FROM due_now)"
                )
                conn.execute(
                    "INSERT INTO casemgmt_notification "
                    "(user_id, follow_up_id, purpose, subject, link, key, created_at) "
                    "SELECT assignee_id, id, 'due', '', '', '', now() FROM due_now"
                )
            else:
                updated = conn.execute(f"UPDATE casemgmt_followup SET notified_at = now() WHERE {DUE_WHERE}", params)
            assert updated.rowcount == DUE, updated.rowcount
        finally:
            conn.execute("ROLLBACK")
        samples.append(time.perf_counter() - started)
        vacuum(conn)  # the next sample, and the delivery, meet no dead rows of this one
    return statistics.median(samples)


def vacuum(conn: psycopg.Connection) -> None:
    conn.execute("VACUUM ANALYZE casemgmt_followup")
    conn.execute("VACUUM ANALYZE casemgmt_notification")


def start_workers(queue: str, n: int, log: Path) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "CELERY_TASK_DEFAULT_QUEUE": queue,  # the e-mails they enqueue stay on the benchmark's queue
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    procs = []
    with open(log, "ab") as out:
        for i in range(n):
            procs.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "celery", "-A", "casemgmt", "worker", "--pool=solo"),
                        *("-Q", queue, "-n", f"{queue}-{i}@%h", "--loglevel=WARNING"),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    names = {f"{queue}-{i}@{os.uname().nodename}" for i in range(n)}
    deadline = time.monotonic() + 120
    while True:
        answered = {name for reply in app.control.ping(destination=list(names), timeout=1.0) for name in reply}
        if answered >= names:
            return procs
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop(procs)
            raise RuntimeError(f"workers did not start, see {log}")


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def deliver(conn: psycopg.Connection, *, log: Path) -> tuple[float, float | None]:
    """What beat does every minute: one `deliver_follow_ups` task; workers deliver and send the e-mails."""
    queue = f"bench-followups-{uuid.uuid4().hex[:6]}"
    params = {"src": BENCH_SOURCE, "due": DUE}
    procs = start_workers(queue, WORKERS, log)
    try:
        started = time.perf_counter()
        app.send_task("casemgmt.tasks.deliver_follow_ups", queue=queue)
        notified_s = mailed_s = None
        while time.perf_counter() - started < DEADLINE:
            time.sleep(0.25)
            if notified_s is None:
                left = conn.execute(f"SELECT count(*) {DUE_ROWS} AND notified_at IS NULL", params).fetchone()[0]  # nosec B608
                if left == 0:
                    notified_s = time.perf_counter() - started
                    print(f"  all {DUE:,} notified after {notified_s:.1f}s; e-mails going out", flush=True)
            if notified_s is not None:
                unsent = conn.execute(
                    "SELECT count(*) FROM casemgmt_notification n JOIN casemgmt_followup f ON f.id = n.follow_up_id "
                    "WHERE f.source_type = %(src)s AND n.email_sent_at IS NULL",
                    params,
                ).fetchone()[0]
                if unsent == 0:
                    mailed_s = time.perf_counter() - started
                    break
        if notified_s is None:
            raise RuntimeError(f"not every follow-up was delivered within {DEADLINE:.0f}s, see {log}")
    finally:
        stop(procs)
    once = conn.execute(
        "SELECT count(*), count(DISTINCT n.follow_up_id) FROM casemgmt_notification n "
        "JOIN casemgmt_followup f ON f.id = n.follow_up_id WHERE f.source_type = %(src)s AND n.purpose = 'due'",
        params,
    ).fetchone()
    if once != (DUE, DUE):
        raise RuntimeError(f"expected one notification for each of {DUE} follow-ups, found {once}")
    return notified_s, mailed_s


def run(conn: psycopg.Connection | None = None) -> Result:
    conn = conn or connect()
    print(f"\nFollow-up delivery: preparing {DUE:,} due follow-ups", flush=True)
    due, total = prepare(conn)
    update_s = bulk_update(conn, with_notifications=False)
    update_insert_s = bulk_update(conn, with_notifications=True)
    print(f"  baseline: one bulk UPDATE {update_s:.2f}s, with the notifications' INSERT {update_insert_s:.2f}s")
    log = ROOT / ".data" / "bench-workers.log"
    log.parent.mkdir(exist_ok=True)
    notified_s, mailed_s = deliver(conn, log=log)
    result = Result(due, total, WORKERS, notified_s, mailed_s, update_s, update_insert_s)
    print(
        f"  {due:,} due among {total:,}: notified in {notified_s:.1f}s ({due / notified_s:,.0f}/s, "
        f"{notified_s / update_s:.0f}x the bulk update); e-mails all sent after "
        + (f"{mailed_s:.1f}s" if mailed_s is not None else f"more than {DEADLINE:.0f}s"),
        flush=True,
    )
    return result


if __name__ == "__main__":
    run()
