"""The disclosure log is append-only three times over: privileges, a trigger, and a keyed hash chain.

The suite connects as the application role (tests/conftest.py); tampering is done the way an
intruder holding the owner's credentials would: a connection of its own, triggers disabled.
"""

from __future__ import annotations

import io
import json
import threading

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from casemgmt import dbroles, disclosure, disclosure_chain, tasks
from casemgmt.boundary_models import DisclosureLog
from casemgmt.models import AccessLog, StageChange
from tests.conftest import owner_connect

TABLE = DisclosureLog._meta.db_table


@pytest.fixture
def head_file(settings, tmp_path):
    settings.AUDIT_HEAD_FILE = tmp_path / "heads.jsonl"
    return settings.AUDIT_HEAD_FILE


def _append(case, n: int = 1, view: str = "shared-case") -> list[DisclosureLog]:
    org = case.organisation_id  # any organisation: the chain does not care which
    return [
        disclosure.record(
            organisation_id=org,
            case_id=case.pk,
            categories=["identity", "program stage"],
            basis=["consent"],
            basis_ids=[f"consent:{i}"],
            channel="ui",
            view=view,
        )
        for i in range(n)
    ]


def _entry(case, **overrides) -> dict:
    """The keyword arguments of one record() call, as record_many() takes them."""
    return {
        "organisation_id": case.organisation_id,
        "case_id": case.pk,
        "categories": ["identity"],
        "basis": ["mandate"],
        "channel": "api",
        "view": "shared-cases",
        **overrides,
    }


def _verify(**kwargs) -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err, **kwargs)
    except CommandError as error:
        returncode = error.returncode  # manage.py exits with it: the maintenance loop and cron see 1
        return returncode != 1, out.getvalue() + str(error)
    return True, out.getvalue()


def _tamper(sql: str, params=()) -> None:
    """As the owner, with the table's triggers off: what the chain must still reveal."""
    with owner_connect() as owner:
        owner.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        try:
            owner.execute(sql, params)
        finally:
            owner.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


# --- Roles and privileges ------------------------------------------------------------


def test_the_suite_runs_as_the_application_role_which_owns_nothing(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
        user, superuser, createrole = cursor.fetchone()
        assert user == settings.DATABASE_APP_ROLE
        assert not superuser
        assert not createrole
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        )
        assert cursor.fetchone()[0] == 0
        # not a member of the owner: no SET ROLE back door
        cursor.execute(
            "SELECT pg_has_role(current_user, pg_get_userbyid(relowner), 'MEMBER') FROM pg_class WHERE relname = %s",
            [TABLE],
        )
        assert cursor.fetchone()[0] is False


def _privileges(cursor, table: str) -> set[str]:
    cursor.execute(
        "SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p "
        "WHERE has_table_privilege(current_user, %s, p)",
        [f"public.{table}"],
    )
    return {row[0] for row in cursor.fetchall()}


def test_append_only_tables_get_insert_and_select_only(db):
    append_only = dbroles.append_only_tables()
    assert {"casemgmt_disclosurelog", "casemgmt_accesslog", "casemgmt_stagechange"} <= append_only
    assert {"casemgmt_caseevent", "casemgmt_participantevent", "accounts_membershipevent"} <= append_only
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {row[0] for row in cursor.fetchall()}
        assert append_only <= tables
        for table in sorted(tables):
            privileges = _privileges(cursor, table) - {"TRUNCATE"}  # the test settings' flush
            if table in append_only:
                assert privileges == {"SELECT", "INSERT"}, table
            else:
                assert privileges == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table


def test_update_and_delete_on_the_log_fail_for_the_application_role(db, case):
    (row,) = _append(case)
    for attempt in (
        lambda: DisclosureLog.objects.filter(pk=row.pk).update(view="tampered"),
        lambda: DisclosureLog.objects.filter(pk=row.pk).delete(),
        lambda: connection.cursor().execute(f"UPDATE {TABLE} SET categories = '{{risk band}}' WHERE id = %s", [row.pk]),
        lambda: connection.cursor().execute(f"DELETE FROM {TABLE}"),
    ):
        denied = pytest.raises(DatabaseError, match="permission denied for table casemgmt_disclosurelog")
        with denied, transaction.atomic():
            attempt()
    stored = DisclosureLog.objects.get(pk=row.pk)
    assert (stored.view, stored.categories) == ("shared-case", ["identity", "program stage"])


@pytest.mark.parametrize("model", [AccessLog, StageChange])
def test_other_append_only_tables_refuse_the_application_role_too(db, model):
    table = model._meta.db_table
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match=f"permission denied for table {table}"), transaction.atomic():
            connection.cursor().execute(statement)


def test_history_events_cannot_be_rewritten_by_the_application(db, case):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        connection.cursor().execute("UPDATE casemgmt_participantevent SET given_name_latin = 'x'")


def test_the_trigger_refuses_update_and_delete_even_for_the_owner(transactional_db, case):
    (row,) = _append(case)
    with owner_connect() as owner:
        for statement in (f"UPDATE {TABLE} SET view = 'tampered' WHERE id = %s", f"DELETE FROM {TABLE} WHERE id = %s"):
            with pytest.raises(psycopg.errors.RaiseException, match="Cannot"):
                owner.execute(statement, [row.pk])
        # the owner may, but the application may not, decide privileges: it owns the table
        assert owner.execute(
            "SELECT current_user = pg_get_userbyid(relowner) FROM pg_class WHERE relname = %s", [TABLE]
        ).fetchone()[0]
    assert DisclosureLog.objects.get(pk=row.pk).view == "shared-case"


def test_tables_made_later_fail_closed_until_the_grant_step(transactional_db):
    with owner_connect() as owner:
        owner.execute("CREATE TABLE zz_later (id int)")
        try:
            with connection.cursor() as cursor:
                assert _privileges(cursor, "zz_later") == {"SELECT", "INSERT"}
        finally:
            owner.execute("DROP TABLE zz_later")


def test_grant_app_role_refuses_the_application_role(db):
    with pytest.raises(CommandError, match="Connected as the application role"):
        call_command("grant_app_role")


def test_grant_app_role_as_the_owner_is_idempotent(as_owner):
    out = io.StringIO()
    call_command("grant_app_role", stdout=out)
    call_command("grant_app_role", stdout=out)
    assert "casemgmt_disclosurelog" in out.getvalue()


# --- The chain -----------------------------------------------------------------------


def test_the_hmac_covers_every_column():
    columns = {f.attname for f in DisclosureLog._meta.concrete_fields} - {"row_hash"}
    assert set(disclosure.CHAIN_FIELDS) == columns


def test_rows_are_chained_with_a_keyed_hash(db, case):
    first, second = _append(case, 2)
    key = settings.AUDIT_HMAC_KEY.encode()
    assert first.prev_hash == ""  # the first row of the log
    assert second.prev_hash == first.row_hash
    stored = DisclosureLog.objects.values(*disclosure.CHAIN_FIELDS, "row_hash").get(pk=second.pk)
    assert stored["row_hash"] == disclosure.row_hash(stored, key) == second.row_hash
    assert disclosure.row_hash(stored, b"another key" * 4) != second.row_hash
    assert second.at >= first.at
    assert second.pk > first.pk


def test_record_many_appends_a_list_under_one_lock(db, case, django_assert_num_queries):
    rows = [_entry(case, client_id="partner")] * 3
    # savepoint, the lock, the last hash with three new ids, one INSERT, release
    with django_assert_num_queries(5):
        made = disclosure.record_many(rows)
    assert [m.prev_hash for m in made[1:]] == [m.row_hash for m in made[:-1]]
    assert disclosure.record_many([]) == []


def test_no_key_no_row(db, case, settings):
    settings.AUDIT_HMAC_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="AUDIT_HMAC_KEY"):
        _append(case)


def test_verify_passes_on_an_intact_chain_and_reports_progress(db, case, head_file):
    _append(case, 5)
    call_command("anchor_audit_head", stdout=io.StringIO())
    _append(case, 2)
    err = io.StringIO()
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=err)
    assert "intact: 7 rows" in out.getvalue()
    assert "1 recorded heads checked" in out.getvalue()
    assert "7 of 7 rows (100%)" in err.getvalue()


def test_verify_catches_an_edited_row(transactional_db, case, head_file):
    rows = _append(case, 4)
    _tamper(f"UPDATE {TABLE} SET categories = '{{identity,risk band}}' WHERE id = %s", [rows[1].pk])
    ok, report = _verify()
    assert not ok
    assert f"PROBLEM altered: row {rows[1].pk}: altered" in report
    assert report.count("PROBLEM") == 1


def test_verify_catches_an_edit_that_recomputes_the_hash_without_the_key(transactional_db, case, head_file):
    rows = _append(case, 3)
    forged = DisclosureLog.objects.values(*disclosure.CHAIN_FIELDS).get(pk=rows[1].pk)
    forged["view"] = "nothing-to-see"
    _tamper(
        f"UPDATE {TABLE} SET view = %s, row_hash = %s WHERE id = %s",
        [forged["view"], disclosure.row_hash(forged, b"a guessed key"), rows[1].pk],
    )
    ok, report = _verify()
    assert not ok
    assert f"row {rows[1].pk}: altered" in report


def test_verify_catches_an_inserted_row(transactional_db, case, head_file):
    _first, second = _append(case, 2)
    with connection.cursor() as cursor:  # a gap in the ids, as a rolled-back append leaves
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [TABLE])
        gap = cursor.fetchone()[0]
    (third,) = _append(case)
    with owner_connect() as owner:  # INSERT needs no trigger switched off
        owner.execute(
            f"""INSERT INTO {TABLE} (id, at, client_id, organisation_id, case_id, categories, basis, basis_ids,
                channel, view, prev_hash, row_hash)
                SELECT %s, at, client_id, organisation_id, case_id, categories, basis, basis_ids, channel,
                       'invented-read', row_hash, repeat('0', 64) FROM {TABLE} WHERE id = %s""",
            [gap, second.pk],
        )
    ok, report = _verify()
    assert not ok
    assert f"PROBLEM inserted: row {gap}: inserted" in report
    assert report.count("PROBLEM") == 1
    assert third.prev_hash == second.row_hash


def test_verify_catches_a_removed_row(transactional_db, case, head_file):
    rows = _append(case, 4)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [rows[2].pk])
    ok, report = _verify()
    assert not ok
    assert f"PROBLEM removed: row {rows[3].pk}: rows are missing after row {rows[1].pk}" in report


def test_verify_catches_the_first_rows_removed(transactional_db, case, head_file):
    rows = _append(case, 3)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [rows[0].pk])
    ok, report = _verify()
    assert not ok
    assert f"row {rows[1].pk}: rows are missing at the start of the log" in report


def test_verify_catches_a_chain_cut_back_behind_the_recorded_head(transactional_db, case, head_file):
    rows = _append(case, 5)
    tasks.anchor_audit_head()  # what beat runs daily
    assert _verify()[0]
    # Rows deleted from the end leave a valid, shorter chain, which the application then extends.
    _tamper(f"DELETE FROM {TABLE} WHERE id >= %s", [rows[3].pk])
    (later,) = _append(case)
    assert later.prev_hash == rows[2].row_hash
    ok, report = _verify()
    assert not ok
    assert f"PROBLEM removed: row {rows[4].pk}, recorded as the head at" in report
    # and without the new row: the chain ends before the head
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [later.pk])
    ok, report = _verify()
    assert not ok
    assert f"PROBLEM cut-back: the chain was cut back: row {rows[4].pk}" in report
    assert f"the log now ends at {rows[2].pk}" in report


def test_verify_catches_a_row_appended_without_the_key(transactional_db, case, head_file):
    (row,) = _append(case)
    with connection.cursor() as cursor:  # the application role may INSERT: bypassing record()
        cursor.execute(
            f"""INSERT INTO {TABLE} (at, client_id, organisation_id, case_id, categories, basis, basis_ids, channel,
                view, prev_hash, row_hash)
                SELECT now(), '', organisation_id, case_id, categories, basis, basis_ids, channel, view, row_hash,
                       md5('x') || md5('y') FROM {TABLE} WHERE id = %s RETURNING id""",
            [row.pk],
        )
        forged = cursor.fetchone()[0]
    ok, report = _verify()
    assert not ok
    assert f"row {forged}: altered or appended without the key" in report


def test_a_head_line_edited_in_the_file_is_reported(db, case, head_file):
    _append(case)
    call_command("anchor_audit_head", stdout=io.StringIO())
    line = json.loads(head_file.read_text())
    line["last_id"] -= 1
    head_file.write_text(json.dumps(line) + "\n")
    ok, report = _verify()
    assert not ok
    assert "line 1: not signed by a known key" in report


def test_a_missing_head_file_is_noted(db, case, head_file):
    _append(case)
    ok, report = _verify()
    assert ok
    assert "No head file" in report


def test_key_rotation_keeps_old_rows_verifiable(db, case, head_file, settings):
    old_key = settings.AUDIT_HMAC_KEY
    _append(case, 2)
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_OLD_KEYS = "n" * 40, [old_key]
    _append(case, 2)
    assert _verify()[0]
    settings.AUDIT_HMAC_OLD_KEYS = []
    ok, report = _verify()
    assert not ok  # the old rows need the old key
    # a row signed with the retired key after the rotation (a leaked old key) is refused
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_OLD_KEYS = old_key, []
    (late,) = _append(case)
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_OLD_KEYS = "n" * 40, [old_key]
    ok, report = _verify()
    assert not ok
    assert f"PROBLEM retired-key: row {late.pk}" in report


def test_concurrent_appends_from_two_connections_make_one_valid_chain(transactional_db, case, head_file):
    per_thread = 15
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def append() -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    if i % 5 == 0:
                        disclosure.record_many([_entry(case)] * 2)
                    else:
                        _append(case)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=append) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert DisclosureLog.objects.count() == 2 * (per_thread + 3)
    report = disclosure_chain.verify()
    assert report.ok, report.problems
    hashes = list(DisclosureLog.objects.order_by("id").values_list("prev_hash", "row_hash"))
    assert all(prev == hashes[i][1] for i, (prev, _) in enumerate(hashes[1:]))
    assert len({prev for prev, _ in hashes}) == len(hashes)  # no fork: two rows never share a predecessor


def test_beat_anchors_the_head_daily(db, case, head_file):
    from casemgmt.celery import app

    schedule = app.conf.beat_schedule["anchor-audit-head"]
    assert schedule["task"] == "casemgmt.tasks.anchor_audit_head"
    assert schedule["schedule"] == 86400.0
    (row,) = _append(case)
    assert tasks.anchor_audit_head() == row.pk
    line = json.loads(head_file.read_text().splitlines()[-1])
    assert (line["last_id"], line["row_hash"]) == (row.pk, row.row_hash)
