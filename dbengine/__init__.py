"""The database backend (settings.DATABASES ENGINE "dbengine"): Django's PostgreSQL backend, plus
server-side prepared statements for the few queries that every request runs with the same shape.

Django binds parameters on the client (psycopg's ClientCursor) and never prepares, so PostgreSQL
parses, analyses and plans every query again. For the session row with its user and OTP device and
for the case of a case page, that was about 1 ms of the server's time per query (0.4-0.7 ms of
planning alone, for 0.1 ms of execution), on every request. A query run inside `prepared()` goes
through a server-side binding cursor and is prepared on its connection: PostgreSQL keeps the parsed
statement and, after five runs, a generic plan when it costs no more than the custom ones.

Use it only around single SELECTs whose plan cannot depend on the values bound: lookups by primary
or unique key (a generic plan of a list filtered by organisation could be slower than a custom plan
for a large organisation). Everything else keeps Django's client-side binding, unprepared, and
psycopg's prepared-statement bookkeeping stays off for it. A statement made stale by a migration
(or deallocated) is dropped and prepared again outside a transaction; in one, the error stands and
the rollback clears the cache. `DATABASE_PREPARED_STATEMENTS=0` turns it all off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PREPARED: ContextVar[bool] = ContextVar("PREPARED", default=False)


@contextmanager
def prepared() -> Iterator[None]:
    """Queries run inside are sent as prepared statements (on the default connection's backend)."""
    token = PREPARED.set(True)
    try:
        yield
    finally:
        PREPARED.reset(token)
