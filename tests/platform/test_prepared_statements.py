"""dbengine: the per-request key lookups (the session row, the case of a case page) are prepared
statements on their connection; every other query keeps Django's client-side binding, unprepared."""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from casemgmt.models import Case
from dbengine import prepared

pytestmark = pytest.mark.django_db


def _statements(table: str) -> list[tuple[str, int, int]]:
    """(statement, generic plans, custom plans) of this connection's prepared statements on `table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f'%FROM "{table}"%'],
        )
        return cursor.fetchall()


def _prepared(table: str, fragment: str) -> list[tuple[str, int, int]]:
    """The prepared statements on `table` whose SQL holds `fragment` (a column compared to a `$n`)."""
    return [row for row in _statements(table) if fragment in row[0]]


def test_only_a_query_inside_prepared_is_prepared():
    User.objects.create_user("probe", email="probe@demo.invalid", first_name="Pro", last_name="Be")
    probe = User.objects.filter(email="probe@demo.invalid", last_name="Be")
    assert [user.username for user in probe.all()] == ["probe"]
    assert not _prepared("accounts_user", '"accounts_user"."last_name" = $')
    with prepared():
        assert [user.username for user in probe.all()] == ["probe"]
        assert [user.username for user in probe.all()] == ["probe"]  # the same statement, run again
    mine = _prepared("accounts_user", '"accounts_user"."last_name" = $')
    assert len(mine) == 1
    assert mine[0][1] + mine[0][2] == 2  # planned twice as one statement, not parsed twice
    # after the block, Django's own cursor again: bound on the client, not prepared
    with CaptureQueriesContext(connection) as queries:
        assert probe.filter(first_name="Pro").exists()
    assert "'Pro'" in queries.captured_queries[0]["sql"]
    assert not _prepared("accounts_user", '"accounts_user"."first_name" = $')


def test_the_session_and_the_case_page_use_their_prepared_statements(client, case, caseworker):
    """Request after request, the session row and the case are read by the same prepared statements,
    which PostgreSQL soon runs on a generic plan (no planning per request); the page is as before."""
    client.force_login(caseworker)
    url = reverse("case-detail", args=[case.pk])
    for _ in range(8):
        page = client.get(url)
        assert page.status_code == 200
        assert case.participant.case_code in page.content.decode()
    session = _statements("accounts_staffsession")
    assert len(session) == 1
    statement, generic, custom = session[0]
    assert '"accounts_staffsession"."session_key" = $' in statement
    assert generic + custom >= 8  # each request's, one statement
    assert generic > 0
    cases = _prepared("casemgmt_case", '"casemgmt_case"."id" = $')
    assert len(cases) == 1
    assert cases[0][1] + cases[0][2] >= 8
    assert cases[0][1] > 0
    # the case's team, recent moves and safety flags, read by the case's key
    for table in ("casemgmt_caseteammember", "casemgmt_stagechange", "casemgmt_safetyflag"):
        rows = _prepared(table, f'"{table}"."case_id" = $')
        assert len(rows) == 1, table
        assert rows[0][1] + rows[0][2] == 8, table


def test_a_prepared_lookup_still_answers_404_outside_the_scope(client, case, caseworker2):
    """The prepared case lookup is the access policy's own query: another team's caseworker gets 404."""
    client.force_login(caseworker2)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404
    assert Case.objects.filter(pk=case.pk).exists()
    # the 404 came from the prepared lookup, which found nothing in caseworker2's scope
    assert _prepared("casemgmt_case", '"casemgmt_case"."id" = $')


def test_a_prepared_query_is_captured_with_its_values():
    """Query-count tests and the debug log show a prepared run as they show the others: SQL with values."""
    with CaptureQueriesContext(connection) as queries, prepared():
        assert not User.objects.filter(username="nobody-at-all").exists()
    assert len(queries.captured_queries) == 1
    assert "'nobody-at-all'" in queries.captured_queries[0]["sql"]


def test_prepared_refuses_anything_but_a_select():
    """pghistory prepends set_config to other statements, which one prepared statement cannot hold."""
    User.objects.create_user("kept", email="kept@demo.invalid", first_name="Kept")
    with prepared(), connection.cursor() as cursor, pytest.raises(ProgrammingError, match="SELECT statements only"):
        cursor.execute("UPDATE accounts_user SET first_name = %s WHERE username = %s", ["Changed", "kept"])
    assert User.objects.get(username="kept").first_name == "Kept"


def test_inside_a_history_context_a_write_is_refused_too():
    """pghistory's wrapper turns a write into `SELECT set_config(...); UPDATE ...`: still refused, unsent."""
    import pghistory

    User.objects.create_user("kept2", email="kept2@demo.invalid", first_name="Kept")
    with pghistory.context(note="probe"), prepared(), connection.cursor() as cursor:
        with pytest.raises(ProgrammingError, match="single SELECT statements only"):
            cursor.execute("UPDATE accounts_user SET first_name = %s WHERE username = %s", ["Changed", "kept2"])
        with pytest.raises(ProgrammingError, match="single SELECT statements only"):
            cursor.executemany("SELECT 1 WHERE %s", [[True]])
    assert User.objects.get(username="kept2").first_name == "Kept"


def test_other_queries_leave_psycopg_unprepared_and_the_switch_turns_it_off(settings):
    """Outside its own runs the connection keeps Django's threshold (None: psycopg neither counts nor
    keeps the SQL of other queries); DATABASE_PREPARED_STATEMENTS=False prepares nothing at all."""
    with prepared():
        assert User.objects.filter(username="nobody-1").count() == 0
    assert connection.connection.prepare_threshold is None
    settings.DATABASE_PREPARED_STATEMENTS = False
    with prepared():
        assert User.objects.filter(username="nobody-2", first_name="Off").count() == 0
    assert not _prepared("accounts_user", '"accounts_user"."first_name" = $')


def _deallocate_behind_psycopgs_back(fragment: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{fragment}%"])
        (name,) = cursor.fetchone()
        cursor.execute(f'DEALLOCATE "{name}"')  # a named DEALLOCATE, which psycopg does not notice


@pytest.mark.django_db(transaction=True)
def test_a_stale_statement_is_prepared_again_outside_a_transaction():
    """A statement gone from the server (deallocated, or invalid after a migration changed what it
    selects) is dropped and prepared again on the next run instead of failing every request."""
    User.objects.create_user("stale", email="stale@demo.invalid", first_name="St")
    query = User.objects.filter(email="stale@demo.invalid", first_name="St")
    with prepared():
        assert [user.username for user in query.all()] == ["stale"]
    _deallocate_behind_psycopgs_back('"accounts_user"."first_name" = $')
    with prepared():
        assert [user.username for user in query.all()] == ["stale"]
    assert _prepared("accounts_user", '"accounts_user"."first_name" = $')


@pytest.mark.django_db(transaction=True)
def test_in_a_transaction_a_stale_statement_fails_and_its_rollback_recovers():
    from django.db import transaction

    User.objects.create_user("stale2", email="stale2@demo.invalid", last_name="St")
    query = User.objects.filter(email="stale2@demo.invalid", last_name="St")
    with prepared():
        assert query.all().count() == 1
    _deallocate_behind_psycopgs_back('"accounts_user"."last_name" = $')
    with pytest.raises(ProgrammingError), transaction.atomic(), prepared():
        query.all().count()
    with prepared():
        assert query.all().count() == 1
