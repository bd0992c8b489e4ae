"""Django's PostgreSQL DatabaseWrapper with a prepared-statement cursor for `dbengine.prepared()`."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.db import ProgrammingError
from django.db.backends.postgresql import base, operations
from psycopg import errors
from psycopg.pq import Format, TransactionStatus

from . import PREPARED

# psycopg prepares nothing while its connection's threshold is None (Django's default, kept for every
# other query: psycopg then neither counts nor remembers their SQL, values inlined). PreparedCursor
# sets a threshold only for its own run and asks for preparation explicitly.
PREPARE_THRESHOLD = 5
# a statement prepared before a migration changed what it selects ("cached plan must not change result
# type", 0A000), or deallocated behind psycopg's back (26000)
STALE_STATEMENT = (errors.FeatureNotSupported, errors.InvalidSqlStatementName)


def _one_select(query) -> bool:
    """One SELECT statement: pghistory's execute wrapper prepends `SELECT set_config(...); ` to what
    does not start with SELECT, and a prepared statement holds one statement."""
    return isinstance(query, str) and query.lstrip()[:6].upper() == "SELECT" and ";" not in query


class PreparedCursor(base.ServerBindingCursor):
    """Server-side binding; every query prepared on its connection (psycopg keeps the 100 most recent)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if not _one_select(query):
            raise ProgrammingError("dbengine.prepared() runs single SELECT statements only")
        with _preparing(self.connection):
            try:
                return super().execute(query, params, prepare=True, binary=binary)
            except STALE_STATEMENT:
                # Outside a transaction nothing else is lost: drop this connection's prepared
                # statements (psycopg sees the command and forgets its own) and prepare the query
                # again. In a transaction the error stands; its rollback clears psycopg's cache too.
                if self.connection.info.transaction_status != TransactionStatus.IDLE:
                    raise
                super().execute("DEALLOCATE ALL", prepare=False)
                return super().execute(query, params, prepare=True, binary=binary)

    def executemany(self, query, params_seq, *, returning=False):
        raise ProgrammingError("dbengine.prepared() runs single SELECT statements only")


@contextmanager
def _preparing(connection):
    """psycopg's prepared-statement bookkeeping on for this run only."""
    threshold = connection.prepare_threshold
    connection.prepare_threshold = PREPARE_THRESHOLD
    try:
        yield
    finally:
        connection.prepare_threshold = threshold


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """The SQL with its values, as Django's debug cursor and CaptureQueriesContext show the others
        (psycopg keeps no client-side text of a prepared statement's run)."""
        if isinstance(cursor, PreparedCursor):
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def create_cursor(self, name=None):
        # DATABASE_PREPARED_STATEMENTS=0 (settings): everything as Django does it, e.g. behind a
        # connection pooler in transaction mode without prepared-statement support
        if name is not None or not PREPARED.get() or not settings.DATABASE_PREPARED_STATEMENTS:
            return super().create_cursor(name)
        cursor = PreparedCursor(self.connection)
        # as Django's create_cursor: the time zone of the connection's loader, if it differs
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
        if self.timezone != loader.timezone:
            base.register_tzloader(self.timezone, cursor)
        return cursor
