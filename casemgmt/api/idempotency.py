"""`Idempotency-Key` on POST: a retried request with the same key makes one record and gets the first answer.

How it works (all inside the request's transaction, see `casemgmt.api.conditional.SafeWritesMixin`):

1. expired keys of the caller are deleted, then the key row is inserted with
   `INSERT … ON CONFLICT (principal, key) DO NOTHING`. A concurrent request holding the same key in an
   uncommitted transaction makes this insert *wait* for that transaction: one request wins, the other
   waits and then finds the committed row (or, if the winner failed and rolled back, inserts it itself);
2. the winner runs the view; a success (status < 400) is stored on the row in the same transaction as
   the write, so the record and its remembered answer commit together. Failures roll everything back,
   the key included, so a corrected request may reuse it;
3. a request finding a committed row replays its status and body (`Idempotent-Replayed: true`) when its
   fingerprint (method, path, canonical body) is the same, and answers 422 when it is not.

Keys belong to a principal (a staff user, or the OAuth application of a partner client) and expire after
`IDEMPOTENCY_KEY_TTL_HOURS` (24 h); the beat purges expired rows hourly and a read ignores them. The
stored body is what the caller was shown; it holds personal data for at most a day and is readable
only through a replay by the same principal.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, like the IETF draft's sf-string keys
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location", "ETag")


class IdempotencyKey(models.Model):
    principal = models.CharField(max_length=80)  # "user:<id>" or "client:<oauth application id>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True, default="")  # the bytes the first caller got (UTF-8 JSON)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "casemgmt"
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_per_principal")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


def ttl() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_TTL_HOURS", 24))


def principal_of(request) -> str:
    """A partner client is its OAuth application (whoever its token's user is); staff are their user."""
    from oauth2_provider.models import get_access_token_model

    if isinstance(request.auth, get_access_token_model()):
        return f"client:{request.auth.application_id}"
    return f"user:{request.user.pk}"


def fingerprint(request) -> str:
    """Method, path with query, and the body in a canonical form (key order and whitespace do not count;
    an uploaded file counts by its content, not by the multipart boundary)."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # form or multipart: fields and files
        canonical = {}
        for name, values in data.lists():
            canonical[name] = [_file_digest(v) if hasattr(v, "read") else v for v in values]
    else:
        canonical = data
    digest.update(json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str).encode())
    return digest.hexdigest()


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{upload.name}:{digest.hexdigest()}"


@dataclass
class Claim:
    """The key row this request owns; the answer is stored on it when the view succeeds."""

    row_id: int


class Replay(Exception):
    def __init__(self, row: IdempotencyKey):
        super().__init__(row.key)
        self.row = row

    def response(self):
        from django.http import HttpResponse

        headers = {**self.row.response_headers, REPLAYED_HEADER: "true"}
        content_type = headers.pop("Content-Type", "application/json")
        return HttpResponse(
            self.row.response_body or b"", status=self.row.status_code, headers=headers, content_type=content_type
        )


def begin(request) -> Claim | None:
    """Claim the request's key, or raise `Replay` (same request seen before) or a 400/422 error."""
    from rest_framework.exceptions import ValidationError

    from .problems import IdempotencyKeyReused

    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError({HEADER: [_("Use 1 to 255 visible ASCII characters, e.g. a UUID.")]})
    principal, now = principal_of(request), timezone.now()
    mark = fingerprint(request)
    for _attempt in range(3):
        IdempotencyKey.objects.filter(principal=principal, key=key, expires_at__lte=now).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {IdempotencyKey._meta.db_table} "  # noqa: S608 # nosec B608
                "(principal, key, fingerprint, method, path, response_body, response_headers, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, '', '{}', %s, %s) "
                "ON CONFLICT (principal, key) DO NOTHING RETURNING id",
                [principal, key, mark, request.method, request.path[:500], now, now + ttl()],
            )
            inserted = cursor.fetchone()
        if inserted is not None:
            return Claim(row_id=inserted[0])
        row = IdempotencyKey.objects.filter(principal=principal, key=key).first()
        if row is None:  # purged between the insert and the read: claim it again
            continue
        if row.fingerprint != mark:
            raise IdempotencyKeyReused
        raise Replay(row)
    raise IdempotencyKeyReused


def remember(claim: Claim, response) -> None:
    """Store a successful answer, byte for byte, on the claimed row (same transaction as the write)."""
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    body = response.content.decode("utf-8")
    headers = {name: response[name] for name in (*KEPT_HEADERS, "Content-Type") if response.has_header(name)}
    IdempotencyKey.objects.filter(pk=claim.row_id).update(
        status_code=response.status_code, response_body=body, response_headers=headers
    )


def purge_expired(*, now=None) -> int:
    """Delete expired keys (the beat, hourly). Returns how many."""
    deleted, _by_model = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
