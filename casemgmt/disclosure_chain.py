"""Checking the disclosure log's hash chain, and anchoring its head outside the database.

`verify()` walks the log in id order (a server-side cursor, so memory stays flat) and reports:
- an altered row: its HMAC does not match its content, and the next row still points to it;
- an inserted row: its HMAC does not match, and the next row points past it to the row before;
- removed rows: a row's `prev_hash` is not the previous row's hash;
- a row signed with a retired key after a newer key was in use;
- a chain cut back behind a recorded head: a head line of `AUDIT_HEAD_FILE` names a row that is
  gone or has another hash (rows deleted from the end leave a valid, shorter chain: only a record
  kept outside the database can tell).

`anchor_head()` appends one JSON line (time, last id, its hash, and an HMAC of the line) to the head
file: daily, by beat and by the compose maintenance service.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .boundary_models import DisclosureLog
from .disclosure import CHAIN_FIELDS, hmac_keys, row_hash

FIELDS = (*CHAIN_FIELDS, "row_hash")


@dataclass(frozen=True)
class Head:
    at: str
    last_id: int | None
    row_hash: str
    line: int = 0
    signed: bool = True


@dataclass(frozen=True)
class Problem:
    kind: str  # altered, inserted, removed, retired-key, cut-back, head-file
    row_id: int | None
    message: str


@dataclass
class Report:
    rows: int = 0
    last_id: int | None = None
    last_hash: str = ""
    heads_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _head_mac(values: dict, key: bytes) -> str:
    body = json.dumps(
        {k: values[k] for k in ("at", "last_id", "row_hash")}, sort_keys=True, separators=(",", ":")
    ).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def head_file() -> Path:
    return Path(settings.AUDIT_HEAD_FILE)


def anchor_head(*, path: Path | None = None) -> Head:
    """Append the chain's current head (last id and hash) to the head file; returns it."""
    path = path or head_file()
    last = DisclosureLog.objects.order_by("-id").values_list("id", "row_hash").first()
    values = {
        "at": timezone.now().astimezone(datetime.UTC).isoformat(timespec="seconds"),
        "last_id": last[0] if last else None,
        "row_hash": last[1] if last else "",
    }
    values["mac"] = _head_mac(values, hmac_keys()[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(values, sort_keys=True) + "\n"
    # One write of one short line under an exclusive lock: beat and the maintenance service may
    # anchor at the same moment without interleaving.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Head(at=values["at"], last_id=values["last_id"], row_hash=values["row_hash"])


def read_heads(path: Path | None = None) -> tuple[list[Head], list[Problem]]:
    path = path or head_file()
    heads: list[Head] = []
    problems: list[Problem] = []
    if not path.exists():
        return heads, problems
    keys = hmac_keys()
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if not text.strip():
            continue
        try:
            values = json.loads(text)
            head = Head(
                at=values["at"], last_id=values["last_id"], row_hash=values["row_hash"], line=number, signed=True
            )
            signed = any(hmac.compare_digest(values["mac"], _head_mac(values, key)) for key in keys)
        except (ValueError, KeyError, TypeError):
            problems.append(Problem("head-file", None, f"{path}, line {number}: not a head record"))
            continue
        if not signed:
            problems.append(Problem("head-file", head.last_id, f"{path}, line {number}: not signed by a known key"))
            continue
        heads.append(head)
    return heads, problems


def _rows(chunk_size: int) -> Iterator[dict]:
    query = DisclosureLog.objects.order_by("id").values_list(*FIELDS)
    for values in query.iterator(chunk_size=chunk_size):
        yield dict(zip(FIELDS, values, strict=True))


def _with_next(rows: Iterator[dict]) -> Iterator[tuple[dict, dict | None]]:
    current = next(rows, None)
    while current is not None:
        following = next(rows, None)
        yield current, following
        current = following


def _key_index(row: dict, keys: list[bytes]) -> int | None:
    for index, key in enumerate(keys):
        if hmac.compare_digest(row["row_hash"], row_hash(row, key)):
            return index
    return None


def verify(
    *,
    path: Path | None = None,
    chunk_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    every: int = 50_000,
) -> Report:
    """Walk the whole chain and the head file; the report lists every problem found."""
    path = path or head_file()
    keys = hmac_keys()
    report = Report()
    heads, report.problems = read_heads(path)
    if not path.exists():
        report.notes.append(f"No head file at {path}: rows removed from the end cannot be detected.")
    recorded = {}
    for head in heads:
        if head.last_id is not None:
            recorded.setdefault(head.last_id, []).append(head)
    total = DisclosureLog.objects.count() if progress else 0
    tip, tip_id = "", None  # the stored hash of the last row the chain runs through
    newest_key = len(keys)  # keys only ever move to newer ones (smaller index) along the chain
    problems = report.problems
    for row, following in _with_next(_rows(chunk_size)):
        report.rows += 1
        pk = row["id"]
        index = _key_index(row, keys)
        if index is not None:
            if row["prev_hash"] != tip:
                where = f"after row {tip_id}" if tip_id is not None else "at the start of the log"
                problems.append(Problem("removed", pk, f"row {pk}: rows are missing {where} (its predecessor is gone)"))
            if index > newest_key:
                problems.append(Problem("retired-key", pk, f"row {pk}: signed with a retired key after a newer one"))
            newest_key = min(newest_key, index)
            tip, tip_id = row["row_hash"], pk
        elif following is not None and following["prev_hash"] == tip != row["row_hash"]:
            problems.append(Problem("inserted", pk, f"row {pk}: inserted (not signed, and the chain runs past it)"))
        else:
            how = " or appended without the key" if following is None else ""
            problems.append(Problem("altered", pk, f"row {pk}: altered{how} (its hash does not match its content)"))
            tip, tip_id = row["row_hash"], pk
        for head in recorded.pop(pk, ()):
            report.heads_checked += 1
            if not hmac.compare_digest(head.row_hash, row["row_hash"]):
                problems.append(
                    Problem("cut-back", pk, f"row {pk}: not the row recorded as the head at {head.at} (hash differs)")
                )
        if progress and report.rows % every == 0:
            progress(report.rows, total)
        report.last_id, report.last_hash = pk, row["row_hash"]
    if progress and report.rows % every:
        progress(report.rows, total)
    end = report.last_id if report.last_id is not None else "no row"
    for last_id, missing in sorted(recorded.items()):  # recorded heads whose row was never met
        report.heads_checked += len(missing)
        if report.last_id is None or last_id > report.last_id:
            message = f"the chain was cut back: row {last_id}, recorded as the head at {missing[-1].at}, is gone"
            problems.append(Problem("cut-back", last_id, f"{message} (the log now ends at {end})"))
        else:
            message = f"row {last_id}, recorded as the head at {missing[-1].at}, is gone"
            problems.append(Problem("removed", last_id, message))
    return report
