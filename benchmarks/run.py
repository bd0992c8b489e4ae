"""Timed scenarios on the scale data, as ratios against baselines measured in the same run.

Run by `make bench` (scripts/dev.py bench), which starts the embedded PostgreSQL under
.data/bench-pg, migrates and builds the scale data once. Never part of the test suite.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.template import engines  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from benchmarks import followups  # noqa: E402
from benchmarks import reports as report_bench  # noqa: E402
from benchmarks.auth import verified_login  # noqa: E402
from casemgmt.crypto import decrypt, national_id_hash  # noqa: E402
from casemgmt.models import Case  # noqa: E402
from casemgmt.timeline import case_timeline  # noqa: E402

NOTE_TEXT = "casemgmt_note.text"  # the binding of the note's ciphertext (casemgmt/crypto.py)

REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
# rounds before the timed ones: the server's caches of a fresh cluster and of a new connection take a few
# dozen requests to fill (the default list ran 38 -> 23 ms median over its first 300 requests)
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))
ROOT = Path(__file__).resolve().parent
PLAIN = engines["django"].from_string(
    "<table>{% for r in rows %}<tr>{% for c in r %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>"
)

LIST_SQL = """
SELECT p.case_code, p.given_name_latin, p.family_name_latin, p.given_name_arabic, p.family_name_arabic,
       ci.name, c.stage, c.referral_source, c.referral_date,
       (SELECT u.first_name || ' ' || u.last_name FROM casemgmt_caseteammember t
         JOIN accounts_user u ON u.id = t.user_id WHERE t.case_id = c.id AND t.is_lead LIMIT 1)
FROM casemgmt_case c JOIN casemgmt_participant p ON p.id = c.participant_id JOIN accounts_city ci ON ci.id = p.city_id
WHERE c.organisation_id = %(org)s {where}
ORDER BY c.updated_at DESC, c.id LIMIT %(limit)s
"""
COUNT_SQL = """SELECT count(*) FROM casemgmt_case c JOIN casemgmt_participant p ON p.id = c.participant_id
JOIN accounts_city ci ON ci.id = p.city_id WHERE c.organisation_id = %(org)s {where}"""
# The API list's page: every field of its rows (the manager may see them all), in the pagination's order
# (newest case first), one row more than the page to know whether a next page exists, as DRF's cursor does.
API_SQL = """
SELECT c.id, c.participant_id, o.name, c.updated_at, p.case_code, lead.user_id, lead.name, lead.email,
       p.given_name_latin, p.family_name_latin, p.given_name_arabic, p.family_name_arabic, ci.code, p.languages,
       p.date_of_birth, p.national_id, p.phone, p.email, p.address, c.stage, c.stage_changed_at,
       c.referral_source, c.referral_date, c.referring_organisation_id, c.referral_reason
FROM casemgmt_case c JOIN casemgmt_participant p ON p.id = c.participant_id JOIN accounts_city ci ON ci.id = p.city_id
JOIN accounts_organisation o ON o.id = c.organisation_id
LEFT JOIN LATERAL (SELECT t.user_id, u.first_name || ' ' || u.last_name AS name, u.email FROM casemgmt_caseteammember t
  JOIN accounts_user u ON u.id = t.user_id WHERE t.case_id = c.id AND t.is_lead LIMIT 1) lead ON true
WHERE c.organisation_id = %(org)s
ORDER BY c.id DESC LIMIT 51
"""
API_KEYS = (
    "id",
    "participant_id",
    "organisation",
    "updated_at",
    "case_code",
    "lead",
    "given_name_latin",
    "family_name_latin",
    "given_name_arabic",
    "family_name_arabic",
    "city",
    "languages",
    "date_of_birth",
    "national_id",
    "phone",
    "email",
    "address",
    "stage",
    "stage_changed_at",
    "referral_source",
    "referral_date",
    "referring_organisation",
    "referral_reason",
)
NATIONAL_ID = "casemgmt_participant.national_id"

# The timeline's page: the same kinds of events as the app's (all of them visible to the manager; notes
# restricted to the team's), each kind cut to the page, merged and cut once more, one row more than the page.
_TIMELINE_PARTS = (
    "SELECT changed_at, id, 0, to_stage, left(reason, 2000), '', is_reopening FROM casemgmt_stagechange WHERE {c}",
    "SELECT assessed_on + time '12:00' AT TIME ZONE 'UTC', id, 1, risk_band, '', '', false FROM casemgmt_assessment"
    " WHERE {c}",
    "SELECT date + time '12:00' AT TIME ZONE 'UTC', id, 2, kind, text, '', held FROM casemgmt_note"
    " WHERE {c} AND visibility = 'team'",
    "SELECT date + time '12:00' AT TIME ZONE 'UTC', id, 3, kind, left(description, 140), '', false"
    " FROM casemgmt_legalevent WHERE {c}",
    "SELECT date + time '12:00' AT TIME ZONE 'UTC', id, 4, kind, left(description, 140), '', false"
    " FROM casemgmt_relapseevent WHERE {c}",
    "SELECT given_on + time '12:00' AT TIME ZONE 'UTC', id, 5, purpose, '', '', false FROM casemgmt_consent WHERE {c}",
    "SELECT withdrawn_on + time '12:00' AT TIME ZONE 'UTC', id, 6, purpose, '', '', false FROM casemgmt_consent"
    " WHERE {c} AND withdrawn_on IS NOT NULL",
    "SELECT referred_on + time '12:00' AT TIME ZONE 'UTC', id, 7, kind, left(provider, 140), status, false"
    " FROM casemgmt_servicereferral WHERE {c}",
    "SELECT recorded_on + time '12:00' AT TIME ZONE 'UTC', id, 8, kind, '', '', false FROM casemgmt_outcome"
    " WHERE {c} AND recorded_on IS NOT NULL",
    "SELECT starts_at, id, 9, status, left(summary, 140), '', false FROM programs_mentoringsession WHERE {c}",
    "SELECT pl.proposed_on + time '12:00' AT TIME ZONE 'UTC', pl.id, 10, op.title, left(o.name, 140), '', false"
    " FROM programs_placement pl JOIN programs_opportunity op ON op.id = pl.opportunity_id"
    " JOIN accounts_organisation o ON o.id = op.partner_id WHERE pl.{c}",
    "SELECT pl.started_on + time '12:00' AT TIME ZONE 'UTC', pl.id, 11, op.title, left(o.name, 140), '', false"
    " FROM programs_placement pl JOIN programs_opportunity op ON op.id = pl.opportunity_id"
    " JOIN accounts_organisation o ON o.id = op.partner_id WHERE pl.{c} AND pl.started_on IS NOT NULL",
    "SELECT pl.ended_on + time '12:00' AT TIME ZONE 'UTC', pl.id, 12, op.title, left(pl.end_reason, 140), pl.status,"
    " false FROM programs_placement pl JOIN programs_opportunity op ON op.id = pl.opportunity_id"
    " WHERE pl.{c} AND pl.ended_on IS NOT NULL",
    "SELECT recorded_on + time '12:00' AT TIME ZONE 'UTC', id, 13, day::text, left(issues, 140), placement_id::text,"
    " still_there FROM programs_checkin WHERE {c} AND recorded_on IS NOT NULL",
    "SELECT starts_at, id, 14, kind, '', '', false FROM families_counsellingsession"
    " WHERE {c} AND status <> 'cancelled'",
)
TIMELINE_SQL = (
    " UNION ALL ".join(
        f"({part.format(c='case_id = %(c)s')} ORDER BY 1 DESC, 2 DESC LIMIT 51)" for part in _TIMELINE_PARTS
    )
    + " ORDER BY 1 DESC, 2 DESC LIMIT 51"
)
NOTE_KIND = 2


def measure_interleaved(*fns) -> list[tuple[float, float]]:
    """(median, p95) of each function, timed in turns: round by round each one runs once, the order
    rotating, so a change of the shared machine's load between scenarios falls on the app and its
    baselines alike instead of on one of them."""
    for _ in range(WARMUP):
        for fn in fns:
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    for round_ in range(REPEAT):
        for offset in range(len(fns)):
            index = (round_ + offset) % len(fns)
            started = time.perf_counter()
            fns[index]()
            samples[index].append((time.perf_counter() - started) * 1000)
    return [_median_p95(series) for series in samples]


def _median_p95(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def measure(fn) -> tuple[float, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return _median_p95(samples)


def case_scenarios():
    """The case pages' scenarios (issue 5): (rows, fixed cost, cases the manager sees, conn, org, app)."""
    manager = User.objects.get(username="manager")
    superuser, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    org = manager.membership.organisation_id
    case = Case.objects.filter(organisation_id=org, stage="active").order_by("pk").first()
    db = settings.DATABASES["default"]
    # no server-side prepared statements (psycopg's default after 5 runs of a query): the app's Django
    # connections bind on the client, and a repeated baseline query fell back to a generic plan 3x slower
    conn = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True, prepare_threshold=None
    )
    app, admin = Client(), Client()
    verified_login(app, manager)
    verified_login(admin, superuser)
    total = Case.objects.filter(organisation_id=org).count()
    name = "bouzid"

    def page(client, url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    def floor_list(where="", params=None, limit=25):
        def run():
            query = {"org": org, "limit": limit, **(params or {})}
            rows = conn.execute(LIST_SQL.format(where=where), query).fetchall()
            # the count joins only what the filter needs, as a hand-written query would
            count_sql = COUNT_SQL if where else "SELECT count(*) FROM casemgmt_case c WHERE c.organisation_id = %(org)s"
            conn.execute(count_sql.format(where=where), query).fetchone()
            return PLAIN.render({"rows": rows})

        return run

    zone = ZoneInfo(settings.TIME_ZONE)

    def floor_api():
        """The API list's JSON: the same keys and values (local ISO times, the decrypted national ID, the
        lead as an object) and the cursor of the next page."""
        rows = conn.execute(API_SQL, {"org": org}).fetchall()
        results = []
        for r in rows[:50]:
            values = [*r[:5], None if r[5] is None else {"id": r[5], "name": r[6], "email": r[7]}, *r[8:]]
            values[3] = values[3].astimezone(zone).isoformat()
            values[12] = values[12].isoformat() if values[12] else None
            values[13] = decrypt(values[13], binding=NATIONAL_ID) if values[13] else values[13]
            values[18] = values[18].astimezone(zone).isoformat()
            values[20] = values[20].isoformat()
            results.append(dict(zip(API_KEYS, values, strict=True)))
        cursor = base64.b64encode(f"p={rows[49][0]}".encode()).decode() if len(rows) > 50 else None
        following = f"http://testserver/api/v1/cases/?{urlencode({'cursor': cursor})}" if cursor else None
        return json.dumps({"next": following, "previous": None, "results": results})

    with conn.cursor() as cursor:
        cursor.execute("SELECT * FROM casemgmt_participant LIMIT 0")
        national_id_at = [column.name for column in cursor.description].index("national_id")

    def floor_detail():
        # the case with what its page shows of it: participant, city, referring organisation, the receiver
        # of a pending transfer; the national ID decrypted, as the page shows it
        row = list(
            conn.execute(
                "SELECT p.*, c.*, ci.name, ro.name, (SELECT o.name FROM casemgmt_casetransfer t "
                "JOIN accounts_organisation o ON o.id = t.to_organisation_id "
                "WHERE t.case_id = c.id AND t.status = 'pending' LIMIT 1) "
                "FROM casemgmt_case c JOIN casemgmt_participant p ON p.id = c.participant_id "
                "JOIN accounts_city ci ON ci.id = p.city_id "
                "LEFT JOIN accounts_organisation ro ON ro.id = c.referring_organisation_id WHERE c.id = %s",
                [case.pk],
            ).fetchone()
        )
        row[national_id_at] = decrypt(row[national_id_at], binding=NATIONAL_ID) if row[national_id_at] else ""
        # the other rows the case page shows: team, recent moves (with who moved), safety flags, current band
        team = conn.execute(
            "SELECT u.first_name, u.last_name, u.email, t.role, t.is_lead FROM casemgmt_caseteammember t "
            "JOIN accounts_user u ON u.id = t.user_id WHERE t.case_id = %s",
            [case.pk],
        ).fetchall()
        moves = conn.execute(
            "SELECT s.changed_at, s.from_stage, s.to_stage, s.reason, u.first_name, u.last_name "
            "FROM casemgmt_stagechange s LEFT JOIN accounts_user u ON u.id = s.changed_by_id "
            "WHERE s.case_id = %s ORDER BY s.changed_at DESC LIMIT 5",
            [case.pk],
        ).fetchall()
        flags = conn.execute(
            "SELECT kind, note FROM casemgmt_safetyflag WHERE case_id = %s AND active", [case.pk]
        ).fetchall()
        band = conn.execute(
            "SELECT risk_band, assessed_on FROM casemgmt_assessment WHERE case_id = %s "
            "ORDER BY assessed_on DESC LIMIT 1",
            [case.pk],
        ).fetchall()
        conn.execute(
            "INSERT INTO casemgmt_accesslog (user_id, organisation_id, case_id, channel, view, shown, at) "
            "VALUES (%s, %s, %s, 'ui', 'bench-floor', '{}', now())",
            [manager.pk, org, case.pk],
        )
        return PLAIN.render({"rows": [row, *team, *moves, *flags, *band]})

    def floor_timeline():
        # the page's header (case code) and the read it logs, as on the detail page
        header = conn.execute(
            "SELECT p.case_code FROM casemgmt_case c JOIN casemgmt_participant p ON p.id = c.participant_id "
            "WHERE c.id = %s AND c.organisation_id = %s",
            [case.pk, org],
        ).fetchone()
        conn.execute(
            "INSERT INTO casemgmt_accesslog (user_id, organisation_id, case_id, channel, view, shown, at) "
            "VALUES (%s, %s, %s, 'ui', 'bench-floor', '{}', now())",
            [manager.pk, org, case.pk],
        )
        events = conn.execute(TIMELINE_SQL, {"c": case.pk}).fetchall()
        # note texts are encrypted at rest (casemgmt/crypto.py): decrypted and cut in Python, as the page does
        rows = [header]
        for at, pk, kind, code, text, extra, flag in events:
            if kind == NOTE_KIND:
                text = decrypt(text, binding=NOTE_TEXT)[:140]
            rows.append((at, pk, kind, code, text, extra, flag))
        return PLAIN.render({"rows": rows})

    # as the app: the name search, or the national ID's keyed hash (the ID itself is encrypted)
    search_where = "AND (p.search_text LIKE '%%' || casemgmt_normalize(%(q)s) || '%%' OR p.national_id_hash = %(h)s)"
    scenarios = [
        ("case list (default)", page(app, "/cases/"), floor_list(), page(admin, "/bench-admin/casemgmt/case/")),
        (
            "case list (stage + city)",
            page(app, "/cases/?stage=active&city=TNG"),
            floor_list("AND c.stage = 'active' AND ci.code = 'TNG'"),
            page(admin, "/bench-admin/casemgmt/case/?stage__exact=active"),
        ),
        (
            "case list (name search)",
            page(app, f"/cases/?q={name}"),
            floor_list(search_where, {"q": name, "h": national_id_hash(name)}),
            page(admin, f"/bench-admin/casemgmt/case/?q={name}"),
        ),
        (
            "case detail",
            page(app, f"/cases/{case.pk}/"),
            floor_detail,
            page(admin, f"/bench-admin/casemgmt/case/{case.pk}/change/"),
        ),
        ("timeline", page(app, f"/cases/{case.pk}/timeline/"), floor_timeline, None),
        ("API case list", page(app, "/api/v1/cases/"), floor_api, None),
    ]
    # the floors compute what the app shows: the same JSON, the same events in the same order
    assert json.loads(floor_api()) == page(app, "/api/v1/cases/")().json(), "the API floor differs from the app"
    shown = [event.at for event in case_timeline(manager, case, limit=51)]
    floor_events = [row[0] for row in conn.execute(TIMELINE_SQL, {"c": case.pk})]
    assert floor_events == shown, "the timeline floor differs from the app's events"
    # one untimed pass over everything first: a freshly started cluster reads its tables into shared
    # buffers, and the first scenario alone paid for it (the default list 28 ms in such a run, 19 warm)
    for _ in range(WARMUP):
        for _label, *fns in scenarios:
            for fn in fns:
                if fn:
                    fn()
    rows = []
    for label, ours, floor, admin_fn in scenarios:
        timed = measure_interleaved(*(fn for fn in (ours, floor, admin_fn) if fn))
        (app_median, app_p95), (floor_median, _) = timed[:2]
        admin_median = timed[2][0] if admin_fn else None
        rows.append((label, app_median, app_p95, floor_median, admin_median))
        print(
            f"  {label}: {app_median:.1f} ms median, {app_p95:.1f} ms p95; floor {floor_median:.1f} ms"
            + (f"; admin {admin_median:.1f} ms" if admin_median else ""),
            flush=True,
        )
    # after the pages, on a warm server, like them
    overhead = measure_interleaved(page(app, "/bench-empty/"))[0][0]
    print(f"  fixed cost of an authenticated request: {overhead:.1f} ms", flush=True)
    return rows, overhead, total, conn, org, app


def main() -> int:
    rows, overhead, total, conn, org, app = case_scenarios()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # after the case pages (one worker)
    # the manager's dashboard, its filters, a drill-down, the exports and the funder report (issue 12)
    dashboard = report_bench.run(conn, org, app, PLAIN.render, measure)
    delivery = followups.run()  # as the owner (see followups.connect)
    lines = [*case_lines(rows, total=total, rss_mb=rss_mb, overhead=overhead), *report_bench.lines(dashboard)]
    (ROOT / "RESULTS.md").write_text("\n".join([*lines, *delivery_lines(delivery)]))
    print(f"\nWrote {ROOT / 'RESULTS.md'}", flush=True)
    return 0


def main_cases() -> int:
    """`scripts/dev.py bench cases`: only the case pages; their section of RESULTS.md is replaced."""
    rows, overhead, total, _conn, _org, _app = case_scenarios()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = ROOT / "RESULTS.md"
    text = path.read_text()
    kept = text[text.index("## Manager dashboard") :]
    path.write_text("\n".join([*case_lines(rows, total=total, rss_mb=rss_mb, overhead=overhead), kept]))
    print(f"\nWrote the case section of {path}", flush=True)
    return 0


def machine() -> str:
    cpu = subprocess.run(
        ["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(
        **{
            k: settings.DATABASES["default"][v]
            for k, v in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("dbname", "NAME"))
        }
    ) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu or platform.processor()}), {memory:.0f} GiB, Python "
        f"{platform.python_version()}, PostgreSQL {version} (embedded), Django {django.get_version()}; "
        f"load average {load} (1, 5, 15 min) when the results were written: the machine is shared"
    )


def case_lines(rows, *, total: int, rss_mb: float, overhead: float) -> list[str]:
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Figures of one run; on a shared machine the milliseconds move with the load "
        "of the moment, the ratios against the baselines measured in the same run much less.",
        f"Data: `manage.py seed_scale` (100,000 cases in all; the manager below sees {total:,} of them), "
        f"{REPEAT} timed requests per scenario after {WARMUP} warm-ups, in-process (Django test client: middleware, "
        "session, access policy and the access-log write included), timed in turns with its baselines: "
        "each round runs the app, the floor and the admin once, in a rotating order, so a change of the "
        "machine's load falls on all three.",
        "",
        "Baselines measured in the same run: **floor** = the same rows by hand-written SQL through psycopg (plus "
        "the access-log insert on the detail and timeline pages, which log a read), rendered through one plain "
        "template or `json.dumps`; "
        "**admin** = a Django admin changelist over the same table with the same search, on a benchmark-only "
        "admin site.",
        "",
        "| scenario | median ms | p95 ms | floor ms | x floor | admin ms | vs admin |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, median, p95, floor, admin_ms in rows:
        versus = f"{admin_ms:.1f} | {median / admin_ms:.2f}x" if admin_ms else "— | —"
        lines.append(f"| {label} | {median:.1f} | {p95:.1f} | {floor:.1f} | {median / floor:.1f}x | {versus} |")
    lines += [
        "",
        f"Fixed cost of an authenticated request through the same middleware (an empty bench-only page, "
        f"session and user loaded, no case data): {overhead:.1f} ms median. The floor pays none of it.",
        "",
        f"Peak memory of the benchmark process (one in-process web worker) after the case pages: {rss_mb:.0f} MB.",
        "",
    ]
    return lines


def delivery_lines(d: followups.Result) -> list[str]:
    mailed = (
        f"{d.mailed_s:.1f} | {d.due / d.mailed_s:,.0f}"
        if d.mailed_s is not None
        else f"> {followups.DEADLINE:.0f} (not all sent) | —"
    )
    return [
        "## Follow-up delivery (issue 9)",
        "",
        f"{d.due:,} due follow-ups among {d.total:,} (`seed_scale`: on the cases above, 60% pending later, 30% "
        "done, 5% cancelled, 5% snoozed; each 20th due one still assigned to a caseworker who left the case, so "
        f"delivery hands it to the lead). Delivered as in production: {d.workers} Celery workers (`--pool=solo`, "
        "one process each) on the embedded Redis, one `deliver_follow_ups` task sent (what beat sends every "
        "minute), batches claimed with `select_for_update(skip_locked)`, access re-checked, one notification "
        "per follow-up, e-mails through Django's locmem backend (one e-mail task per batch). Timed from sending "
        "the task until the database shows every follow-up notified, then every e-mail sent; checked: exactly "
        "one notification per follow-up.",
        "",
        "Baseline measured in the same run: **one bulk SQL `UPDATE`** of the same rows (`notified_at = now()`, "
        "history trigger included), rolled back so the delivery still finds them due; and that update followed "
        "by one `INSERT ... SELECT` of their notifications (the ids kept in a temporary table). Median of 3.",
        "",
        "| what | seconds | rows/s | x bulk update |",
        "|---|---|---|---|",
        f"| delivery: every follow-up notified | {d.notified_s:.1f} | {d.due / d.notified_s:,.0f} "
        f"| {d.notified_s / d.update_s:.0f}x |",
        f"| delivery: every e-mail sent too | {mailed} | "
        + (f"{d.mailed_s / d.update_s:.0f}x |" if d.mailed_s is not None else "— |"),
        f"| baseline: one bulk UPDATE | {d.update_s:.2f} | {d.due / d.update_s:,.0f} | 1x |",
        f"| baseline: bulk UPDATE + INSERT of the notifications | {d.update_insert_s:.2f} "
        f"| {d.due / d.update_insert_s:,.0f} | {d.update_insert_s / d.update_s:.1f}x |",
        "",
        f"Target: every due follow-up delivered in under 60 s: "
        f"**{'met' if d.notified_s < 60 else 'missed'}** ({d.notified_s:.1f} s).",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main_cases() if sys.argv[1:] == ["cases"] else main())
