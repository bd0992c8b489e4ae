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
from django.db.models import Exists, OuterRef

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
        started = time.monotonic()
        with transaction.atomic():
            summed = fill_assessment_summary()
        if summed:
            self.stdout.write(
                self.style.SUCCESS(f"Assessment summary of {summed:,} cases in {time.monotonic() - started:.0f}s.")
            )
        started = time.monotonic()
        with transaction.atomic():
            added = fill_programs(self)
        self.stdout.write(
            self.style.SUCCESS(f"Dashboard figures' rows: {added:,} added in {time.monotonic() - started:.0f}s.")
        )
        present = FollowUp.objects.filter(source_type=BENCH_SOURCE).count()
        if present == follow_ups:
            self.stdout.write(f"{present:,} benchmark follow-ups present: nothing to do.")
        else:
            started = time.monotonic()
            with transaction.atomic():
                build_follow_ups(self, total=follow_ups, due=due)
            self.stdout.write(self.style.SUCCESS(f"Benchmark follow-ups ready in {time.monotonic() - started:.0f}s."))
        if summed and not added and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE casemgmt_case")  # index-only scans on the summed rows
        if added and not connection.in_atomic_block:
            # outside a transaction: the visibility map of the new rows, so the reports' joins to the case
            # table are index-only scans from the first run (as autovacuum leaves them in production)
            with connection.cursor() as cursor:
                cursor.execute(
                    "VACUUM ANALYZE casemgmt_case, casemgmt_outcome, casemgmt_legalevent, casemgmt_relapseevent, "
                    "casemgmt_disclosurelog, programs_mentorassignment, programs_mentoringsession, "
                    "programs_placement, programs_checkin, families_engagement, families_counsellingsession"
                )

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


def fill_assessment_summary() -> int:
    """The cases' assessment summary columns (as `assessment_record` keeps them), for the scale cases whose
    assessments were copied in without the service; idempotent (only cases not summed yet)."""
    from casemgmt.casefile import Assessment, case_assessment_summary

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history rows for scale data
    assessed = Assessment.objects.filter(case_id=OuterRef("pk"))
    return Case.objects.filter(Exists(assessed), assessment_count=0).update(**case_assessment_summary())


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


# --- The dashboard's other figures at scale (issue 12) ----------------------------------------------
#
# Mentoring, families, placements, post-exit outcomes, re-offending and relapse events and disclosures to
# authorities, added to an existing scale cluster (each kind once: a kind whose scale rows exist is skipped).
# Each is one INSERT ... SELECT over the scale cases, run by the server (no rows through Python), with
# proportions drawn by `hashint8` of the case id, so a rebuild gives the same rows. Raw SQL by table name:
# the core command seeds the apps' tables without importing them (dependencies point one way).

SCALE_MARK = "scale"  # proposal_note / step_plan / note / title prefix of the scale rows of each kind
MENTORS = 300
OPPORTUNITIES = 40
# Proportions: `abs(hashint8(<case or row id> * 7919 + <salt>)) % 100` is a stable pseudo-random 0..99 (written
# out in each statement, so every statement is one constant string).


SCALE_STEPS: list[tuple[str, str, str]] = [
    # (label, SQL that tells the kind is present, the INSERT); %(...)s parameters from _program_params
    (
        "mentor assignments",
        "SELECT EXISTS (SELECT 1 FROM programs_mentorassignment WHERE proposal_note = %(mark)s)",
        """
        INSERT INTO programs_mentorassignment
          (case_id, mentor_id, status, gender_preference, proposal_note, proposed_at, decided_at, decision_reason,
           responded_at, response_reason, started_on, ended_on, end_reason, proposed_by_id, decided_by_id,
           ended_by_id)
        SELECT c.id, m.user_id, CASE WHEN c.exited_on IS NULL THEN 'active' ELSE 'ended' END, 'male', %(mark)s,
               s.start - 10, s.start - 7, '', s.start - 3, '', s.start, c.exited_on,
               CASE WHEN c.exited_on IS NULL THEN '' ELSE 'Case exited' END, %(manager)s, %(manager)s,
               CASE WHEN c.exited_on IS NULL THEN NULL ELSE %(manager)s END
        FROM casemgmt_case c
        CROSS JOIN LATERAL (SELECT c.referral_date + 45 + (c.id %% 30)::int AS start) s
        JOIN scale_mentor m ON m.n = c.id %% %(mentors)s
        WHERE c.stage IN ('active', 'review', 'exited', 'closed')
            AND (abs(hashint8((c.id) * 7919 + 1)) %% 100) < 45 AND s.start <= CURRENT_DATE
          AND (c.exited_on IS NULL OR c.exited_on >= s.start)""",
    ),
    (
        "mentoring sessions",
        "SELECT EXISTS (SELECT 1 FROM programs_mentoringsession s JOIN programs_mentorassignment a "
        "ON a.id = s.assignment_id WHERE a.proposal_note = %(mark)s)",
        # monthly, back from the assignment's end (or a month ahead: planned ones), at most 18
        """
        INSERT INTO programs_mentoringsession
          (assignment_id, case_id, mentor_id, recorded_by_id, starts_at, place_type, status, duration_minutes,
           topics, progress_rating, summary, logged_at, created_at, updated_at)
        SELECT a.id, a.case_id, a.mentor_id, a.mentor_id, t.at,
               (ARRAY['office', 'mosque', 'prison', 'home', 'public', 'online'])[1 + t.h %% 6], t.status,
               CASE WHEN t.status = 'attended' THEN 60 END, '{}',
               CASE WHEN t.status = 'attended' THEN 1 + t.h %% 5 END, '',
               CASE WHEN t.status <> 'planned' THEN t.at + interval '2 hours' END, now(), now()
        FROM programs_mentorassignment a
        CROSS JOIN generate_series(0, 17) AS k
        CROSS JOIN LATERAL (
          SELECT d.at, d.h,
                 CASE WHEN d.at > now() THEN 'planned' WHEN d.h < 78 THEN 'attended'
                      WHEN d.h < 90 THEN 'no_show' ELSE 'cancelled' END AS status
          FROM (SELECT ((coalesce(a.ended_on, CURRENT_DATE + 30) - 30 * k)::timestamp + interval '10 hours')
                         AT TIME ZONE %(tz)s AS at,
                       (abs(hashint8((a.id * 32 + k) * 7919 + 2)) %% 100) AS h) d) t
        WHERE a.proposal_note = %(mark)s AND coalesce(a.ended_on, CURRENT_DATE + 30) - 30 * k >= a.started_on""",
    ),
    (
        "family engagements",
        "SELECT EXISTS (SELECT 1 FROM families_engagement WHERE step_plan = %(mark)s)",
        """
        INSERT INTO families_engagement
          (case_id, recorded_by_id, kind, status, step_plan, started_on, ended_on, end_reason, created_at,
           updated_at)
        SELECT c.id, %(counsellor)s, (ARRAY['legal', 'psychological', 'integration', 'parent_coaching'])[1 + c.id %% 4],
               CASE WHEN c.exited_on IS NOT NULL THEN 'ended' WHEN c.id %% 10 = 0 THEN 'assessment' ELSE 'active' END,
               %(mark)s, s.start, c.exited_on, CASE WHEN c.exited_on IS NULL THEN '' ELSE 'Case exited' END,
               now(), now()
        FROM casemgmt_case c
        CROSS JOIN LATERAL (SELECT c.referral_date + 30 + (c.id %% 40)::int AS start) s
        WHERE c.stage IN ('active', 'review', 'exited', 'closed')
            AND (abs(hashint8((c.id) * 7919 + 3)) %% 100) < 30 AND s.start <= CURRENT_DATE
          AND (c.exited_on IS NULL OR c.exited_on >= s.start)""",
    ),
    (
        "engagement counsellors",
        "SELECT EXISTS (SELECT 1 FROM families_engagementcounsellor ec JOIN families_engagement e "
        "ON e.id = ec.engagement_id WHERE e.step_plan = %(mark)s)",
        """
        INSERT INTO families_engagementcounsellor (engagement_id, counsellor_id, assigned_at)
        SELECT e.id, %(counsellor)s, e.started_on::timestamp AT TIME ZONE %(tz)s
        FROM families_engagement e WHERE e.step_plan = %(mark)s""",
    ),
    (
        "counselling sessions",
        "SELECT EXISTS (SELECT 1 FROM families_counsellingsession s JOIN families_engagement e "
        "ON e.id = s.engagement_id WHERE e.step_plan = %(mark)s)",
        # every three weeks back from the engagement's end (or three weeks ahead), at most 10
        """
        INSERT INTO families_counsellingsession
          (engagement_id, case_id, recorded_by_id, kind, starts_at, duration_minutes, status, summary, logged_at,
           created_at, updated_at)
        SELECT e.id, e.case_id, %(counsellor)s, (ARRAY['individual', 'family', 'home_visit', 'phone'])[1 + t.h %% 4],
               t.at, CASE WHEN t.status = 'attended' THEN 50 END, t.status, '',
               CASE WHEN t.status <> 'planned' THEN t.at + interval '1 hour' END, now(), now()
        FROM families_engagement e
        CROSS JOIN generate_series(0, 9) AS k
        CROSS JOIN LATERAL (
          SELECT d.at, d.h,
                 CASE WHEN d.at > now() THEN 'planned' WHEN d.h < 75 THEN 'attended'
                      WHEN d.h < 90 THEN 'missed' ELSE 'cancelled' END AS status
          FROM (SELECT ((coalesce(e.ended_on, CURRENT_DATE + 21) - 21 * k)::timestamp + interval '14 hours')
                         AT TIME ZONE %(tz)s AS at,
                       (abs(hashint8((e.id * 16 + k) * 7919 + 4)) %% 100) AS h) d) t
        WHERE e.step_plan = %(mark)s AND coalesce(e.ended_on, CURRENT_DATE + 21) - 21 * k >= e.started_on""",
    ),
    (
        "opportunities",
        "SELECT EXISTS (SELECT 1 FROM programs_opportunity WHERE title LIKE %(mark_prefix)s)",
        """
        INSERT INTO programs_opportunity
          (title, kind, sector, places, start_date, requirements, min_education, pay_band, is_open, created_at,
           updated_at, city_id, created_by_id, partner_id, updated_by_id)
        SELECT %(mark)s || ' opportunity ' || n, (ARRAY['job', 'apprenticeship', 'course'])[1 + n %% 3],
               (ARRAY['logistics', 'construction', 'hospitality', 'retail', 'digital', 'crafts'])[1 + n %% 6],
               5000, NULL, '', NULL, (ARRAY['stipend', 'minimum_wage', 'above_minimum'])[1 + n %% 3], true, now(),
               now(), (SELECT id FROM accounts_city ORDER BY code OFFSET n %% 6 LIMIT 1), %(placement)s,
               (%(partners)s::bigint[])[1 + n %% cardinality(%(partners)s::bigint[])], %(placement)s
        FROM generate_series(0, %(opportunities)s - 1) AS n""",
    ),
    (
        "placements",
        "SELECT EXISTS (SELECT 1 FROM programs_placement WHERE note = %(mark)s)",
        # started 14 days after the proposal; the exited: completed, dropped out or dismissed; a fifth of the
        # live ones dropped out early: retention at 30/90/180 days follows from the end dates
        """
        INSERT INTO programs_placement
          (case_id, opportunity_id, partner_id, recorded_by_id, status, proposed_on, accepted_on, started_on,
           ended_on, note, end_reason, certificate, certificate_name, employed_after, income_band, created_at,
           updated_at)
        SELECT c.id, o.id, o.partner_id, %(placement)s, p.status, p.proposed, p.proposed + 7, p.started,
               p.ended, %(mark)s, CASE WHEN p.ended IS NULL THEN '' ELSE 'Synthetic end' END, NULL, '',
               CASE WHEN p.status = 'completed' THEN p.h %% 3 <> 0 END, '', now(), now()
        FROM casemgmt_case c
        JOIN scale_opportunity o ON o.n = c.id %% %(opportunities)s
        CROSS JOIN LATERAL (
          SELECT d.proposed, d.started, d.h,
                 CASE WHEN d.started IS NULL THEN 'accepted'
                      WHEN c.exited_on IS NOT NULL AND d.h < 50 THEN 'completed'
                      WHEN c.exited_on IS NOT NULL AND d.h < 85 THEN 'dropped_out'
                      WHEN c.exited_on IS NOT NULL THEN 'dismissed'
                      WHEN d.h < 20 AND d.started + 10 + 2 * d.h < CURRENT_DATE THEN 'dropped_out'
                      ELSE 'started' END AS status,
                 CASE WHEN d.started IS NULL THEN NULL
                      WHEN c.exited_on IS NOT NULL AND d.h < 50
                        THEN least(d.started + 180 + d.h, CURRENT_DATE)
                      WHEN c.exited_on IS NOT NULL OR (d.h < 20 AND d.started + 10 + 2 * d.h < CURRENT_DATE)
                        THEN least(d.started + 10 + 2 * d.h, CURRENT_DATE)
                      END AS ended
          FROM (SELECT c.referral_date + 90 + (c.id %% 60)::int AS proposed,
                       CASE WHEN c.referral_date + 104 + (c.id %% 60)::int <= CURRENT_DATE
                            THEN c.referral_date + 104 + (c.id %% 60)::int END AS started,
                       (abs(hashint8((c.id) * 7919 + 6)) %% 100) AS h) d) p
        WHERE c.stage IN ('active', 'review', 'exited', 'closed')
            AND (abs(hashint8((c.id) * 7919 + 5)) %% 100) < 22 AND p.proposed <= CURRENT_DATE""",
    ),
    (
        "placement check-ins",
        "SELECT EXISTS (SELECT 1 FROM programs_checkin ci JOIN programs_placement p ON p.id = ci.placement_id "
        "WHERE p.note = %(mark)s)",
        # at 30, 90 and 180 days; nine in ten recorded two days after the date
        """
        INSERT INTO programs_checkin
          (placement_id, case_id, recorded_by_id, day, due_on, recorded_on, still_there, issues, created_at,
           updated_at)
        SELECT p.id, p.case_id, CASE WHEN r.recorded THEN %(placement)s END, d.day, p.started_on + d.day,
               CASE WHEN r.recorded THEN p.started_on + d.day + 2 END,
               CASE WHEN r.recorded THEN p.ended_on IS NULL OR p.status = 'completed'
                                         OR p.ended_on >= p.started_on + d.day END,
               '', now(), now()
        FROM programs_placement p
        CROSS JOIN (VALUES (30), (90), (180)) AS d(day)
        CROSS JOIN LATERAL (SELECT p.started_on + d.day + 2 <= CURRENT_DATE
                                   AND (abs(hashint8((p.id * 4 + d.day) * 7919 + 7)) %% 100) < 90 AS recorded) r
        WHERE p.note = %(mark)s AND p.started_on IS NOT NULL""",
    ),
    (
        "post-exit outcomes",
        "SELECT EXISTS (SELECT 1 FROM casemgmt_outcome WHERE notes = %(mark)s)",
        # the exit snapshot and the 6/12/24-month points scheduled at exit, those due recorded (85%)
        """
        INSERT INTO casemgmt_outcome
          (case_id, recorded_by_id, kind, episode, due_on, recorded_on, education, employment, housing, family,
           legal_status, reoffended, relapse, notes, created_at, updated_at)
        SELECT c.id, %(manager)s, k.kind, 1, k.due, CASE WHEN r.recorded THEN k.due END,
               CASE WHEN r.recorded THEN (ARRAY['none', 'in_training', 'completed'])[1 + r.h %% 3] ELSE '' END,
               CASE WHEN r.recorded THEN (ARRAY['unemployed', 'employed', 'employed', 'self_employed',
                                                'in_training'])[1 + r.h %% 5] ELSE '' END,
               CASE WHEN r.recorded THEN (ARRAY['stable', 'stable', 'temporary', 'homeless'])[1 + r.h %% 4]
                    ELSE '' END,
               CASE WHEN r.recorded THEN (ARRAY['supportive', 'supportive', 'strained', 'no_contact'])[1 + r.h %% 4]
                    ELSE '' END,
               CASE WHEN r.recorded THEN (ARRAY['none', 'none', 'probation', 'sentenced'])[1 + r.h %% 4]
                    ELSE '' END,
               CASE WHEN r.recorded
                   AND k.kind <> 'exit' THEN (abs(hashint8((c.id * 8 + k.months) * 7919 + 9)) %% 100) < 7 END,
               CASE WHEN r.recorded
                   AND k.kind <> 'exit' THEN (abs(hashint8((c.id * 8 + k.months) * 7919 + 10)) %% 100) < 5 END,
               %(mark)s, now(), now()
        FROM casemgmt_case c
        CROSS JOIN (VALUES ('exit', 0), ('after_6', 6), ('after_12', 12), ('after_24', 24)) AS m(kind, months)
        CROSS JOIN LATERAL (SELECT m.kind, m.months,
                                   (c.exited_on + make_interval(months => m.months))::date AS due) k
        CROSS JOIN LATERAL (SELECT k.kind = 'exit' OR (k.due <= CURRENT_DATE
            AND (abs(hashint8((c.id * 8 + k.months) * 7919 + 8)) %% 100) < 85)
                                   AS recorded, (abs(hashint8((c.id * 8 + k.months) * 7919 + 11)) %% 100) AS h) r
        WHERE c.exited_on IS NOT NULL""",
    ),
    (
        "re-offending legal events",
        "SELECT EXISTS (SELECT 1 FROM casemgmt_legalevent WHERE description = %(mark)s)",
        """
        INSERT INTO casemgmt_legalevent (case_id, recorded_by_id, kind, date, description, created_at, updated_at)
        SELECT c.id, %(manager)s, (ARRAY['new_charge', 'conviction', 'breach'])[1 + c.id %% 3],
               least(c.referral_date + 120 + 5 * (abs(hashint8((c.id) * 7919 + 13)) %% 100), CURRENT_DATE),
                   %(mark)s, now(), now()
        FROM casemgmt_case c WHERE c.stage IN ('active', 'review', 'exited', 'closed')
            AND (abs(hashint8((c.id) * 7919 + 12)) %% 100) < 6""",
    ),
    (
        "relapse events",
        "SELECT EXISTS (SELECT 1 FROM casemgmt_relapseevent WHERE description = %(mark)s)",
        """
        INSERT INTO casemgmt_relapseevent (case_id, recorded_by_id, kind, date, description, created_at, updated_at)
        SELECT c.id, %(manager)s, (ARRAY['reengagement', 'threat', 'other'])[1 + c.id %% 3],
               least(c.referral_date + 90 + 6 * (abs(hashint8((c.id) * 7919 + 15)) %% 100), CURRENT_DATE),
                   %(mark)s, now(), now()
        FROM casemgmt_case c WHERE c.stage IN ('active', 'review', 'exited', 'closed')
            AND (abs(hashint8((c.id) * 7919 + 14)) %% 100) < 4""",
    ),
]


def _program_params() -> dict:
    def user(name: str) -> int:
        return User.objects.get(username=name).pk

    partners = list(
        Organisation.objects.filter(kind__in=["employer", "training_provider"])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return {
        "mark": SCALE_MARK,
        "mark_prefix": f"{SCALE_MARK} %",
        "manager": user("manager"),
        "counsellor": user("counsellor"),
        "placement": user("placement"),
        "partners": partners,
        "mentors": MENTORS,
        "opportunities": OPPORTUNITIES,
        "tz": settings.TIME_ZONE,
    }


def scale_mentors(count: int = MENTORS) -> None:
    """`count` vetted mentors of the religious organisation (users, memberships, profiles), once."""
    from django.contrib.auth.hashers import make_password

    religious = Organisation.objects.get(name="Council of Scholars North")
    names = [f"scale-mentor{i:03}" for i in range(count)]
    have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    unusable = make_password(None)
    User.objects.bulk_create(
        User(
            username=n,
            first_name="Scale",
            last_name=f"Mentor {n[-3:]}",
            email=f"{n}@scale.invalid",
            password=unusable,
        )
        for n in names
        if n not in have
    )
    users = User.objects.filter(username__in=names)
    Membership.objects.bulk_create(
        Membership(user=u, organisation=religious, role=Role.MENTOR) for u in users.filter(membership__isnull=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO programs_mentorprofile
              (user_id, kind, qualifications, training, languages, gender, capacity, vetting_status, vetted_on,
               vetting_expires_on, vetting_note, updated_at, supervisor_id)
            SELECT u.id, CASE WHEN u.id %% 4 = 0 THEN 'peer' ELSE 'scholar' END, '', '', ARRAY['ar', 'fr'],
                   CASE WHEN u.id %% 5 = 0 THEN 'female' ELSE 'male' END, 60, 'vetted', CURRENT_DATE - 200,
                   CURRENT_DATE + 500, '', now(), %s
            FROM accounts_user u
            WHERE u.username = ANY(%s) AND NOT EXISTS (SELECT 1 FROM programs_mentorprofile p WHERE p.user_id = u.id)
            """,
            [User.objects.get(username="supervisor").pk, names],
        )
        cursor.execute(
            "CREATE TEMP TABLE scale_mentor ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY u.id) - 1 AS n, "
            "u.id AS user_id FROM accounts_user u WHERE u.username = ANY(%s)",
            [names],
        )


def fill_programs(cmd) -> int:
    """The rows of the dashboard's other figures (see SCALE_STEPS), each kind only if its scale rows are
    missing; returns the rows inserted."""
    params = _program_params()
    inserted = 0
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history rows for scale data
        scale_mentors()
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("CREATE TEMP TABLE scale_opportunity (n int, id bigint, partner_id bigint) ON COMMIT DROP")
        for n, (label, present_sql, insert_sql) in enumerate(SCALE_STEPS, 1):
            cursor.execute(present_sql, params)
            if cursor.fetchone()[0]:
                cmd.stdout.write(f"  [{n:>2}/{len(SCALE_STEPS)}] {label}: present, kept")
            else:
                started = time.monotonic()
                cursor.execute(insert_sql, params)
                inserted += cursor.rowcount
                seconds = time.monotonic() - started
                cmd.stdout.write(f"  [{n:>2}/{len(SCALE_STEPS)}] {label}: {cursor.rowcount:,} rows in {seconds:.1f}s")
            cmd.stdout.flush()
            if label == "opportunities":
                cursor.execute(
                    "INSERT INTO scale_opportunity SELECT row_number() OVER (ORDER BY id) - 1, id, partner_id "
                    "FROM programs_opportunity WHERE title LIKE %(mark_prefix)s",
                    params,
                )
        inserted += fill_disclosures(cmd)
        cursor.execute("ANALYZE")
    return inserted


DISCLOSURE_VIEW = "scale"


def fill_disclosures(cmd, *, cases_every: int = 10, reads: int = 12) -> int:
    """Reads of the Regional Probation Office over the last two years: `reads` on every `cases_every`-th
    scale case that has a consent, written with COPY and chained by the same keyed hash as the app's
    rows (`disclosure.row_hash`), so `verify_audit` still holds on the benchmark cluster."""
    from casemgmt.disclosure import CHAIN_FIELDS, hmac_keys, row_hash

    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM casemgmt_disclosurelog WHERE view = %s)", [DISCLOSURE_VIEW])
        if cursor.fetchone()[0]:
            cmd.stdout.write("  disclosures: present, kept")
            return 0
        cursor.execute("LOCK TABLE casemgmt_disclosurelog IN EXCLUSIVE MODE")  # the chain's head stays ours
        cursor.execute("SELECT id, row_hash FROM casemgmt_disclosurelog ORDER BY id DESC LIMIT 1")
        last_id, prev = cursor.fetchone() or (0, "")
        cursor.execute(
            "SELECT DISTINCT case_id FROM casemgmt_consent WHERE case_id %% %s = 0 ORDER BY case_id", [cases_every]
        )
        case_ids = [r[0] for r in cursor.fetchall()]
    authority = Organisation.objects.get(name="Regional Probation Office").pk
    user = User.objects.get(username="authority").pk
    key = hmac_keys()[0]
    now = datetime.datetime.now(datetime.UTC)
    events = sorted(
        (now - datetime.timedelta(seconds=(case_id * 7919 + n * 104_729) % (730 * 86_400)), case_id, n)
        for case_id in case_ids
        for n in range(reads)
    )
    total = len(events)

    def rows():
        nonlocal prev
        for i, (at, case_id, n) in enumerate(events, 1):
            basis = ["consent", "mandate"] if n % 10 == 0 else (["mandate"] if n % 3 == 0 else ["consent"])
            values = {
                "id": last_id + i,
                "at": at,
                "user_id": user,
                "client_id": "",
                "organisation_id": authority,
                "case_id": case_id,
                "categories": ["program_stage"],
                "basis": basis,
                "basis_ids": [],
                "channel": "api" if n % 4 == 0 else "ui",
                "view": DISCLOSURE_VIEW,
                "prev_hash": prev,
            }
            digest = row_hash(values, key)
            yield (*(values[f] for f in CHAIN_FIELDS), digest)
            prev = digest

    columns = [*CHAIN_FIELDS, "row_hash"]  # the chained columns in the chain's order, then the hash
    cmd.stdout.write(f"  disclosures: {total:,} reads by the authority")
    _copy(cmd, "casemgmt_disclosurelog", columns, rows(), total, "disclosures")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('casemgmt_disclosurelog', 'id'), %s)", [last_id + total])
    return total
