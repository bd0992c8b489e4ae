"""The disclosure log: one append-only row per read of a case by an authority user or partner system.

`record()` and `record_many()` are the only writers. Rows hold ids and categories, never personal
data. Each row carries `row_hash`, an HMAC-SHA256 (key `settings.AUDIT_HMAC_KEY`, never stored in
the database) over its canonical content and `prev_hash`, the previous row's `row_hash`: whoever
edits, inserts or removes a row without the key breaks the chain (`manage.py verify_audit`).

Appends are serialised by a transaction-scoped advisory lock taken before the last row is read, and
ids are drawn under it, so the chain's order is the id order. The lock is held until the caller's
transaction commits: an authority read's transaction tail is serialised with the others (they are
few and short). Needs READ COMMITTED (Django's default): each statement after the lock sees the
previous appender's committed row.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from .boundary_models import DisclosureLog

# pg_advisory_xact_lock key of the chain's appends: any constant, the same for every writer.
LOCK_ID = 0x636D_6473_6C6F_67  # "cmdslog"
# The row's content as the HMAC covers it. A new column of DisclosureLog must join this list
# (tests/casemgmt/test_disclosure_log.py fails until it does); old rows stay verifiable as long
# as the new column's value for them serialises as before, or the version changes.
CHAIN_FIELDS = (
    "id",
    "at",
    "user_id",
    "client_id",
    "organisation_id",
    "case_id",
    "categories",
    "basis",
    "basis_ids",
    "channel",
    "view",
    "prev_hash",
)
VERSION = "v1"


def hmac_keys() -> list[bytes]:
    """The current key first, then the retired ones (verification only), newest first."""
    if not settings.AUDIT_HMAC_KEY:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY is not set: the disclosure log cannot be written or verified.")
    return [key.encode() for key in [settings.AUDIT_HMAC_KEY, *settings.AUDIT_HMAC_OLD_KEYS]]


def canonical(values: Mapping[str, Any]) -> bytes:
    """One byte string per row content: JSON, sorted keys, no spaces, the time in UTC to the microsecond."""
    data = {name: values[name] for name in CHAIN_FIELDS}
    data["at"] = values["at"].astimezone(datetime.UTC).isoformat(timespec="microseconds")
    data["v"] = VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def row_hash(values: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(values), hashlib.sha256).hexdigest()


def record(
    *,
    organisation_id: int,
    case_id: int,
    categories: Iterable[str],
    basis: Iterable[str],
    basis_ids: Iterable[str] = (),
    channel: str,
    view: str,
    user_id: int | None = None,
    client_id: str = "",
) -> DisclosureLog:
    """Append one row for one case shown to an authority (its categories and the basis that opened them)."""
    return record_many(
        [
            {
                "organisation_id": organisation_id,
                "case_id": case_id,
                "categories": categories,
                "basis": basis,
                "basis_ids": basis_ids,
                "channel": channel,
                "view": view,
                "user_id": user_id,
                "client_id": client_id,
            }
        ]
    )[0]


def _row(
    *,
    organisation_id: int,
    case_id: int,
    categories: Iterable[str],
    basis: Iterable[str],
    basis_ids: Iterable[str] = (),
    channel: str,
    view: str,
    user_id: int | None = None,
    client_id: str = "",
) -> DisclosureLog:
    return DisclosureLog(
        user_id=user_id,
        client_id=client_id,
        organisation_id=organisation_id,
        case_id=case_id,
        categories=sorted(set(categories)),
        basis=sorted(set(basis)),
        basis_ids=sorted(set(basis_ids)),
        channel=channel,
        view=view,
    )


@transaction.atomic
def record_many(rows: Sequence[Mapping[str, Any]]) -> list[DisclosureLog]:
    """Append one row per mapping (the keyword arguments of `record`), chained in the given order,
    under one lock: a list response of 50 shared cases costs three queries, not 150."""
    entries = [_row(**row) for row in rows]
    if not entries:
        return []
    key = hmac_keys()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])
        # A new statement, so a new snapshot: it sees the row the previous lock holder committed.
        cursor.execute(
            """SELECT (SELECT row_hash FROM casemgmt_disclosurelog ORDER BY id DESC LIMIT 1),
                      array(SELECT nextval(pg_get_serial_sequence('casemgmt_disclosurelog', 'id'))
                            FROM generate_series(1, %s))""",
            [len(entries)],
        )
        prev, ids = cursor.fetchone()
    prev = prev or ""
    now = timezone.now()  # taken under the lock: times never decrease along the chain
    for entry, pk in zip(entries, sorted(ids), strict=True):
        entry.id, entry.at, entry.prev_hash = pk, now, prev
        entry.row_hash = prev = row_hash(vars(entry), key)
    return DisclosureLog.objects.bulk_create(entries)
