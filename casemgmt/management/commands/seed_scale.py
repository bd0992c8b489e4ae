"""Synthetic scale data for benchmarks: ~100,000 cases with notes, assessments, legal events,
consents and stage changes, written with COPY in minutes. Never in production (DEBUG must be on).

The rows bypass the services on purpose (that is what makes it fast): history triggers are
switched off for the session (`session_replication_role = replica`), so scale rows have no
pghistory trail. Assessments carry a band but no item answers.
"""

from __future__ import annotations

import datetime
import random
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from accounts.models import City, Membership, Organisation, Role, User
from casemgmt.crypto import encrypt, keyring, national_id_hash
from casemgmt.demo import FAMILY, GIVEN
from casemgmt.followup_models import FollowUp
from casemgmt.management.commands.seed_demo import seed_reference_data, seed_users
from casemgmt.models import Case, CaseCodeSequence

STAGES = ["referral", "screening", "assessment", "active", "active", "active", "review", "exited", "closed", "declined"]
SOURCES = ["prison_release", "court_order", "authority", "family", "self", "ngo", "religious_org"]
EXIT_REASONS = ["goals_met", "goals_met", "withdrew", "moved", "reoffended", "program_ended"]
NOTE_KINDS = ["visit", "call", "meeting", "case_conference", "other"]
CASEWORKERS = 50
BENCH_SOURCE = "bench"  # source_type of the benchmark's follow-ups; source_id numbers them from 0
FOLLOW_UP_KINDS = ["plan_review", "reassessment", "consent_expiry", "court_date", "case_conference", "first_contact"]
LEFT_USERNAME = "scale-left"  # a caseworker on no team: follow-ups still assigned to them go to the lead


class Command(BaseCommand):
    help = "Build synthetic scale data (default 100,000 cases) for `make bench`."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--notes-per-case", type=int, default=10)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--follow-ups", type=int, default=500_000, help="follow-ups in all (benchmark rows)")
        parser.add_argument("--due", type=int, default=20_000, help="of which due and not yet delivered")

    def handle(self, *args, cases: int, notes_per_case: int, seed: int, follow_ups: int, due: int, **options):
        if not settings.DEBUG:
            raise CommandError("seed_scale refuses to run with DEBUG off.")
        if Case.objects.count() >= cases:
            self.stdout.write(f"{Case.objects.count()} cases present: nothing to do.")
        else:
            rng = random.Random(seed)  # noqa: S311  # nosec B311 - synthetic data
            started = time.monotonic()
            with transaction.atomic():
                seed_reference_data()
                seed_users(password=settings.DEMO_PASSWORD)
                workers = self._caseworkers()
                build(self, rng=rng, cases=cases, notes_per_case=notes_per_case, workers=workers)
            self.stdout.write(self.style.SUCCESS(f"Scale data ready in {time.monotonic() - started:.0f}s."))
        if not Case.objects.filter(first_contact_date__isnull=False).exists():
            started = time.monotonic()
            with transaction.atomic():
                fill_screening_and_exits()
            self.stdout.write(self.style.SUCCESS(f"Screening and exits filled in {time.monotonic() - started:.0f}s."))
        present = FollowUp.objects.filter(source_type=BENCH_SOURCE).count()
        if present == follow_ups:
            self.stdout.write(f"{present:,} benchmark follow-ups present: nothing to do.")
            return
        started = time.monotonic()
        with transaction.atomic():
            build_follow_ups(self, total=follow_ups, due=due)
        self.stdout.write(self.style.SUCCESS(f"Benchmark follow-ups ready in {time.monotonic() - started:.0f}s."))

    def _caseworkers(self) -> list[int]:
        northern = Organisation.objects.get(name="Northern Reintegration Centre")
        ids = [User.objects.get(username="caseworker").pk]
        for i in range(CASEWORKERS - 1):
            user, created = User.objects.get_or_create(
                username=f"scale-cw{i:02}",
                defaults={
                    "first_name": "Scale",
                    "last_name": f"Worker {i:02}",
                    "email": f"scale-cw{i:02}@scale.invalid",
                },
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                Membership.objects.create(user=user, organisation=northern, role=Role.CASEWORKER)
            ids.append(user.pk)
        return ids


def _progress(cmd, label: str, done: int, total: int) -> None:
    cmd.stdout.write(f"\r  {label}: {done:>9,}/{total:,} ({100 * done // max(total, 1)}%)", ending="")
    cmd.stdout.flush()
    if done >= total:
        cmd.stdout.write("")


def _copy(cmd, table: str, columns: list[str], rows, total: int, label: str) -> None:
    # table and column names are constants of this module, never input
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # nosec B608
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql) as copy:
        for n, row in enumerate(rows, 1):
            copy.write_row(row)
            if n % 20_000 == 0 or n == total:
                _progress(cmd, label, n, total)


def build(cmd, *, rng: random.Random, cases: int, notes_per_case: int, workers: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history triggers for scale rows
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM casemgmt_participant")
        base = cursor.fetchone()[0]
    cities = list(City.objects.order_by("code"))
    northern = Organisation.objects.get(name="Northern Reintegration Centre").pk
    atlantic = Organisation.objects.get(name="Atlantic Family Support Association").pk
    atlantic_worker = User.objects.get(username="caseworker2").pk
    manager = User.objects.get(username="manager").pk
    template = _template_id()  # before any COPY: the connection serves nothing else during one
    today = datetime.date.today()
    now = datetime.datetime.now(datetime.UTC)
    year = today.year - 1  # scale codes use last year's sequence, away from demo codes
    counters: dict[int, int] = {}
    plan = []
    for i in range(cases):
        city = cities[i % len(cities)]
        counters[city.pk] = counters.get(city.pk, 0) + 1
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        referral = today - datetime.timedelta(days=rng.randint(5, 1500))
        plan.append(
            (
                base + i + 1,
                city,
                counters[city.pk],
                given,
                family,
                referral,
                rng.choice(STAGES),
                atlantic if i % 7 == 0 else northern,
            )
        )

    ring = keyring()  # the encrypted columns (national ID, note text) are written as ciphertext
    cmd.stdout.write(f"Writing {cases:,} participants and cases")
    _copy(
        cmd,
        "casemgmt_participant",
        [
            "id",
            "case_code",
            "given_name_latin",
            "family_name_latin",
            "given_name_arabic",
            "family_name_arabic",
            "date_of_birth",
            "national_id",
            "national_id_hash",
            "city_id",
            "languages",
            "phone",
            "email",
            "address",
            "created_at",
        ],
        (
            (
                pid,
                f"{city.code}-{year}-{seq:05d}",
                g[0],
                f[0],
                g[1],
                f[1],
                datetime.date(1970 + pid % 35, 1 + pid % 12, 1 + pid % 28),
                # encrypted in Python as the field would (crypto.py), with its keyed hash for search
                encrypt(f"S{pid:08d}", binding="casemgmt_participant.national_id", ring=ring),
                national_id_hash(f"S{pid:08d}"),
                city.pk,
                ["ar", "fr"],
                f"+212 6{pid % 100:02d} {pid % 1000:03d} {pid % 997:03d}",
                "",
                "",
                now,
            )
            for pid, city, seq, g, f, _r, _s, _o in plan
        ),
        cases,
        "participants",
    )
    _copy(
        cmd,
        "casemgmt_case",
        [
            "id",
            "participant_id",
            "organisation_id",
            "stage",
            "stage_changed_at",
            "referral_source",
            "referral_date",
            "referral_reason",
            "first_contact_date",
            "eligibility",
            "eligibility_reason",
            "legal_status",
            "legal_conditions",
            "exit_reason",
            "created_at",
            "updated_at",
        ],
        (
            (
                pid,
                pid,
                org,
                stage,
                now,
                SOURCES[pid % len(SOURCES)],
                referral,
                "Synthetic referral",
                None,
                "",
                "",
                "none",
                "",
                "",
                now,
                now - datetime.timedelta(minutes=pid % 50_000),
            )
            for pid, _c, _s, _g, _f, referral, stage, org in plan
        ),
        cases,
        "cases",
    )
    _copy(
        cmd,
        "casemgmt_caseteammember",
        ["case_id", "user_id", "role", "is_lead", "added_at"],
        (
            (pid, atlantic_worker if org == atlantic else workers[pid % len(workers)], "caseworker", True, now)
            for pid, _c, _s, _g, _f, _r, stage, org in plan
            if stage != "referral"
        ),
        sum(1 for p in plan if p[6] != "referral"),
        "team rows",
    )
    total_notes = cases * notes_per_case
    _copy(
        cmd,
        "casemgmt_note",
        [
            "case_id",
            "recorded_by_id",
            "kind",
            "date",
            "duration_minutes",
            "participants",
            "held",
            "visibility",
            "text",
            "created_at",
            "updated_at",
        ],
        (
            (
                pid,
                workers[pid % len(workers)],
                NOTE_KINDS[(pid + n) % 5],
                referral + datetime.timedelta(days=n * 9),
                30,
                "",
                n % 7 != 0,
                "restricted" if n % 10 == 0 else "team",
                encrypt("Synthetic contact note.", binding="casemgmt_note.text", ring=ring),
                now,
                now,
            )
            for pid, _c, _s, _g, _f, referral, _st, _o in plan
            for n in range(notes_per_case)
        ),
        total_notes,
        "notes",
    )
    _copy(
        cmd,
        "casemgmt_assessment",
        [
            "case_id",
            "recorded_by_id",
            "template_id",
            "assessed_on",
            "risk_band",
            "risk_score",
            "needs_profile",
            "summary",
            "created_at",
            "updated_at",
        ],
        (
            (
                pid,
                workers[pid % len(workers)],
                template,
                referral + datetime.timedelta(days=20 + 90 * n),
                ("low", "medium", "high")[(pid + n) % 3],
                0.4,
                "{}",
                "",
                now,
                now,
            )
            for pid, _c, _s, _g, _f, referral, _st, _o in plan
            for n in range(2)
        ),
        cases * 2,
        "assessments",
    )
    _copy(
        cmd,
        "casemgmt_legalevent",
        ["case_id", "recorded_by_id", "kind", "date", "description", "created_at", "updated_at"],
        (
            (pid, workers[pid % len(workers)], "hearing", referral, "Synthetic hearing", now, now)
            for pid, _c, _s, _g, _f, referral, _st, _o in plan
        ),
        cases,
        "legal events",
    )
    _copy(
        cmd,
        "casemgmt_stagechange",
        ["case_id", "from_stage", "to_stage", "reason", "is_reopening", "changed_by_id", "changed_at"],
        (
            (pid, "", "referral", "Referral received", False, manager, now - datetime.timedelta(days=pid % 900))
            for pid, *_rest in plan
        ),
        cases,
        "stage changes",
    )
    _copy(
        cmd,
        "casemgmt_consent",
        ["case_id", "recorded_by_id", "purpose", "categories", "given_on", "created_at", "updated_at"],
        (
            (pid, workers[pid % len(workers)], "Coordination with probation", ["program_stage"], referral, now, now)
            for pid, _c, _s, _g, _f, referral, _st, _o in plan
            if pid % 2 == 0
        ),
        cases // 2,
        "consents",
    )
    for city in cities:
        CaseCodeSequence.objects.update_or_create(
            city=city, year=year, defaults={"last_value": counters.get(city.pk, 0)}
        )
    with connection.cursor() as cursor:
        for table in (
            "casemgmt_participant",
            "casemgmt_case",
            "casemgmt_note",
            "casemgmt_assessment",
            "casemgmt_legalevent",
            "casemgmt_stagechange",
            "casemgmt_consent",
            "casemgmt_caseteammember",
        ):
            cursor.execute(  # table names are the constants above
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608  # nosec B608
            )
        cursor.execute("ANALYZE")
    sys.stdout.flush()


def fill_screening_and_exits() -> None:
    """The screening and exit columns of the scale cases, by one UPDATE (also on a data set built before
    they were filled): first contact 0-20 days after the referral for cases past the referral stage, a
    decision for cases past screening (declined ones: decline), and an exit date and reason for exited
    and closed cases (so the reports' timeliness and exits figures have data at scale)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history rows for scale data
        cursor.execute(
            """
            UPDATE casemgmt_case SET
              first_contact_date = CASE WHEN stage <> 'referral' THEN referral_date + (id %% 21)::int END,
              eligibility = CASE WHEN stage = 'declined' THEN 'decline'
                                 WHEN stage IN ('referral', 'screening') THEN ''
                                 WHEN id %% 25 = 0 THEN 'refer_elsewhere' ELSE 'accept' END,
              exited_on = CASE WHEN stage IN ('exited', 'closed')
                               THEN LEAST(referral_date + (60 + id %% 400)::int, CURRENT_DATE) END,
              exit_reason = CASE WHEN stage IN ('exited', 'closed')
                                 THEN (%s::text[])[1 + id %% %s] ELSE '' END
            """,
            [EXIT_REASONS, len(EXIT_REASONS)],
        )
        cursor.execute("ANALYZE casemgmt_case")


def left_user() -> int:
    """A caseworker of Northern who is on no case's team any more (an assignment that ended)."""
    user, created = User.objects.get_or_create(
        username=LEFT_USERNAME,
        defaults={"first_name": "Scale", "last_name": "Left", "email": "scale-left@scale.invalid"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        northern = Organisation.objects.get(name="Northern Reintegration Centre")
        Membership.objects.create(user=user, organisation=northern, role=Role.CASEWORKER)
    return user.pk


def build_follow_ups(cmd, *, total: int, due: int) -> None:
    """`total` follow-ups on the cases that have a lead, `source_id` 0..total-1; the first `due` of them
    pending, due in the last five days and not yet delivered, each 20th still assigned to a caseworker who
    left the case (delivery hands it to the lead). Of the rest: 60% pending and due in 1-13 months, 30% done,
    5% cancelled, 5% snoozed for another month or more. `benchmarks/run.py` puts the due ones back before
    each run (and moves the others away from today as the data ages)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history rows for scale data
        cursor.execute("SELECT case_id, user_id FROM casemgmt_caseteammember WHERE is_lead ORDER BY case_id")
        leads = cursor.fetchall()
        # an earlier set of another size goes first (the notifications of its deliveries with it)
        cursor.execute(
            "DELETE FROM casemgmt_notification WHERE follow_up_id IN "
            "(SELECT id FROM casemgmt_followup WHERE source_type = %s)",
            [BENCH_SOURCE],
        )
        cursor.execute("DELETE FROM casemgmt_followup WHERE source_type = %s", [BENCH_SOURCE])
    left = left_user()
    today = datetime.date.today()
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)

    def rows():
        for n in range(total):
            case_id, lead = leads[n % len(leads)]
            kind = FOLLOW_UP_KINDS[n % len(FOLLOW_UP_KINDS)]
            status, snoozed, completed_at, completed_by = "pending", None, None, None
            if n < due:
                due_on = today - (n % 5) * day
                assignee = left if n % 20 == 0 else lead
            else:
                assignee, share = lead, n % 20
                if share < 12:
                    due_on = today + (30 + n % 365) * day
                elif share < 18:
                    due_on, status, completed_at, completed_by = today - (1 + n % 700) * day, "done", now, lead
                elif share == 18:
                    due_on, status = today - (1 + n % 700) * day, "cancelled"
                else:
                    due_on, status, snoozed = today - 3 * day, "snoozed", today + (30 + n % 90) * day
            yield (
                case_id,
                kind,
                due_on,
                assignee,
                BENCH_SOURCE,
                n,
                status,
                snoozed,
                "",
                completed_at,
                completed_by,
                "",
                None,
                None,
                f"{kind}:{case_id}:{BENCH_SOURCE}:{n}:",
                now,
            )

    cmd.stdout.write(f"Writing {total:,} follow-ups ({due:,} due)")
    _copy(
        cmd,
        "casemgmt_followup",
        [
            "case_id",
            "kind",
            "due_on",
            "assignee_id",
            "source_type",
            "source_id",
            "status",
            "snoozed_until",
            "note",
            "completed_at",
            "completed_by_id",
            "completed_with",
            "notified_at",
            "escalated_at",
            "key",
            "created_at",
        ],
        rows(),
        total,
        "follow-ups",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE casemgmt_followup")
    sys.stdout.flush()


_TEMPLATE: list[int] = []


def _template_id() -> int:
    if not _TEMPLATE:
        from casemgmt.casefile import AssessmentTemplate
        from casemgmt.default_template import ensure_default_template

        ensure_default_template()
        _TEMPLATE.append(AssessmentTemplate.objects.order_by("pk").values_list("pk", flat=True).first())
    return _TEMPLATE[0]
