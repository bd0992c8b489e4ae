"""Django's PostgreSQL DatabaseWrapper with a prepared-statement cursor for `dbengine.prepared()`."""

from __future__ import annotations

from django.db import DataError, ProgrammingError
from django.db.backends.postgresql import base, operations
from psycopg.pq import Format

from . import PREPARED

# psycopg prepares nothing while its connection's threshold is None (Django's default, for
# connection poolers in transaction mode). With a number, psycopg would prepare a query run that
# many times through a server-side binding cursor; Django's cursors bind on the client and are never
# prepared, so only PreparedCursor, which asks for it on every run, is.
PREPARE_THRESHOLD = 5


class PreparedCursor(base.ServerBindingCursor):
    """Server-side binding; every query prepared on its connection (psycopg keeps the 100 most recent)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        # one statement only: pghistory's context tracking prepends `SELECT set_config(...);` to any
        # statement that does not start with SELECT (pghistory.runtime), and a prepared statement
        # cannot hold two; SELECTs are all prepared() is for
        if not (isinstance(query, str) and query.lstrip()[:6].upper() == "SELECT"):
            raise ProgrammingError("dbengine.prepared() runs SELECT statements only")
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """The SQL with its values, as Django's debug cursor and CaptureQueriesContext show the others
        (psycopg keeps no client-side text of a prepared statement's run)."""
        if isinstance(cursor, PreparedCursor):
            try:
                return self.compose_sql(sql, params)
            except DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("prepare_threshold") is None:
            params["prepare_threshold"] = PREPARE_THRESHOLD
        return params

    def create_cursor(self, name=None):
        if name is not None or not PREPARED.get():
            return super().create_cursor(name)
        cursor = PreparedCursor(self.connection)
        # as Django's create_cursor: the time zone of the connection's loader, if it differs
        loader = self.connection.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
        if self.timezone != loader.timezone:
            base.register_tzloader(self.timezone, cursor)
        return cursor
