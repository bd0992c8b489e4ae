"""The application role's privileges, granted by the owner after every `migrate`.

Two roles (ARCHITECTURE.md, "Database roles and the disclosure chain"): the owner owns every table
and runs migrations and maintenance commands; the application role, which the web app, the worker
and beat connect as, owns nothing. This module decides what the application may do to each table:

- ordinary tables: SELECT, INSERT, UPDATE, DELETE;
- append-only tables (the disclosure log, the access log, stage changes: every model with a
  `pgtrigger.Protect` on UPDATE; and every pghistory event table): SELECT and INSERT only, so
  history is rewritten (pseudonymised by retention) only by the owner's maintenance commands;
- sequences: USAGE and SELECT (`disclosure.record` takes ids with `nextval`).

Default privileges make tables created later readable and insertable only, so a migration that adds
a table fails closed until the grant step (run by the post_migrate handler, or
`manage.py grant_app_role`) has decided its privileges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pghistory.models
import pgtrigger
from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from psycopg import sql

SCHEMA = "public"
APPEND_ONLY = "SELECT, INSERT"
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"


class GrantError(Exception):
    pass


@dataclass
class Granted:
    role: str
    read_write: list[str] = field(default_factory=list)
    append_only: list[str] = field(default_factory=list)
    not_owned: list[str] = field(default_factory=list)  # tables the connecting role cannot grant on


def append_only_tables() -> set[str]:
    """Tables whose rows, once written, the application never changes."""
    tables = set()
    for model in apps.get_models():
        if issubclass(model, pghistory.models.Event):
            tables.add(model._meta.db_table)
        for trigger in getattr(model._meta, "triggers", []):
            if isinstance(trigger, pgtrigger.Protect) and "UPDATE" in str(trigger.operation):
                tables.add(model._meta.db_table)
    return tables


def _current_user(cursor) -> str:
    cursor.execute("SELECT current_user")
    return cursor.fetchone()[0]


def grant_app_role(*, using: str = "default", role: str | None = None, truncate: bool | None = None) -> Granted:
    """Give `role` (settings.DATABASE_APP_ROLE) its privileges on every table the connecting role owns."""
    role = role or settings.DATABASE_APP_ROLE
    truncate = settings.DATABASE_APP_TRUNCATE if truncate is None else truncate
    connection = connections[using]
    append_only = append_only_tables()
    granted = Granted(role=role)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        me = _current_user(cursor)
        if me == role:
            raise GrantError(f"Connected as the application role {role}: run this as the owner (DATABASE_OWNER_URL).")
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise GrantError(f"The application role {role} does not exist (see DATABASE_APP_ROLE).")
        cursor.execute(
            """SELECT c.relname, pg_get_userbyid(c.relowner) = current_user
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname""",
            [SCHEMA],
        )
        for table, owned in cursor.fetchall():
            if not owned:
                granted.not_owned.append(table)
            elif table in append_only:
                granted.append_only.append(table)
            else:
                granted.read_write.append(table)

        def run(statement: str, *names: str, privileges: str = "") -> None:
            idents = [sql.Identifier(name) for name in names]
            query = sql.SQL(statement).format(
                privileges=sql.SQL(privileges), tables=sql.SQL(", ").join(idents), role=sql.Identifier(role)
            )
            cursor.execute(query.as_string(connection.connection))

        extra = ", TRUNCATE" if truncate else ""
        run("GRANT USAGE ON SCHEMA public TO {role}")
        run("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {privileges} ON TABLES TO {role}", privileges=APPEND_ONLY)
        run("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")
        owned = granted.read_write + granted.append_only
        if owned:
            run("REVOKE ALL ON TABLE {tables} FROM {role}", *owned)
        if granted.read_write:
            run("GRANT {privileges} ON TABLE {tables} TO {role}", *granted.read_write, privileges=READ_WRITE + extra)
        if granted.append_only:
            run("GRANT {privileges} ON TABLE {tables} TO {role}", *granted.append_only, privileges=APPEND_ONLY + extra)
        cursor.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) = current_user""",
            [SCHEMA],
        )
        sequences = [name for (name,) in cursor.fetchall()]
        if sequences:
            run("GRANT USAGE, SELECT ON SEQUENCE {tables} TO {role}", *sequences)
    return granted


def grant_after_migrate(sender, *, using: str, verbosity: int = 1, stdout=None, **kwargs) -> None:
    """post_migrate: the owner grants after every migrate. Skipped when the application role itself
    emits the signal (a transactional test's flush), or when there is no application role (a
    single-role database: nothing to grant to)."""
    import sys

    out = stdout or sys.stdout
    with connections[using].cursor() as cursor:
        if _current_user(cursor) == settings.DATABASE_APP_ROLE:
            return
    try:
        granted = grant_app_role(using=using)
    except GrantError as error:
        if verbosity:
            out.write(f"  Privileges of the application role not granted: {error}\n")
        return
    if verbosity:
        out.write(
            f"  Granted {granted.role}: read-write on {len(granted.read_write)} tables, "
            f"insert and select only on {len(granted.append_only)} append-only tables.\n"
        )
        if granted.not_owned:
            out.write(f"  Not owned by the connecting role, not granted: {', '.join(granted.not_owned)}\n")
