"""Encryption at rest (issue 11): AES-256-GCM model fields and the keyed hash of national IDs.

A stored value is `v1:<kid>:<base64url(nonce | ciphertext | tag)>`: the format version, the id of
the key that encrypted it, and a random 96-bit nonce. The associated data binds the value to its
table and column (`v1|<kid>|<table>.<column>`), so a ciphertext copied into another column, or its
key id relabelled, fails to decrypt. History tables (pghistory) hold the same ciphertext as the row
they copy (the trigger copies the column), so their associated data names the tracked table.

Keys come from the environment, never from SECRET_KEY: `FIELD_ENCRYPTION_KEYS` is a comma-separated
list of `kid:base64key` (32 bytes each); the first encrypts, all decrypt (rotation: put the new key
first, keep the old one second, run `manage.py reencrypt`, then drop the old one).

The empty string is stored as the empty string (a blank optional field stays blank, and retention's
"emptied" stays recognisable); that a value is empty is not hidden.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
MIN_HASH_KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DecryptionError(Exception):
    """A stored value that is not ours, altered, moved from another column, or under an unknown key."""


@dataclass(frozen=True)
class Keyring:
    current: str  # the key id that encrypts
    keys: dict[str, bytes]  # every key id that decrypts


def parse_keys(raw: str) -> Keyring:
    """`kid:base64key,kid2:base64key2` -> Keyring; ValueError says what is wrong (never the key)."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        kid, sep, encoded = entry.partition(":")
        if not sep or not _KID.match(kid):
            raise ValueError("each entry must be `kid:base64key`, kid of 1-16 letters, digits, - or _")
        if kid in keys:
            raise ValueError(f"key id {kid!r} appears twice")
        try:
            key = base64.b64decode(
                encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4), validate=True
            )
        except binascii.Error:
            raise ValueError(f"key {kid!r} is not base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"key {kid!r} is {len(key)} bytes, not {KEY_BYTES}")
        keys[kid] = key
        order.append(kid)
    if not order:
        raise ValueError("no key")
    return Keyring(current=order[0], keys=keys)


_parsed: dict[str, Keyring] = {}


def keyring() -> Keyring:
    raw = settings.FIELD_ENCRYPTION_KEYS
    if raw not in _parsed:
        if not raw:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is not set: encrypted fields cannot be read or written.")
        try:
            _parsed[raw] = parse_keys(raw)
        except ValueError as error:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS is invalid: {error}.") from None
    return _parsed[raw]


def generate_key_entry(kid: str) -> str:
    """A fresh `kid:base64key` entry (for the runners and for operators rotating keys)."""
    return f"{kid}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()}"


def _aad(kid: str, binding: str) -> bytes:
    return f"{VERSION}|{kid}|{binding}".encode()


def encrypt(plaintext: str, *, binding: str, ring: Keyring | None = None) -> str:
    """Encrypt under the current key; `binding` is `table.column` (see `binding_of`)."""
    if plaintext == "":
        return ""
    ring = ring or keyring()
    kid = ring.current
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[kid]).encrypt(nonce, plaintext.encode(), _aad(kid, binding))
    return f"{VERSION}:{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def key_id(stored: str) -> str | None:
    """The key id of a stored value (None for the empty value or something that is not ours)."""
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def decrypt(stored: str, *, binding: str, ring: Keyring | None = None) -> str:
    if stored == "":
        return ""
    ring = ring or keyring()
    parts = stored.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError(f"{binding}: not an encrypted value of format {VERSION}")
    _version, kid, body = parts
    key = ring.keys.get(kid)
    if key is None:
        raise DecryptionError(f"{binding}: encrypted under key id {kid!r}, which FIELD_ENCRYPTION_KEYS does not hold")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        if len(raw) < NONCE_BYTES + 16:
            raise ValueError
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(kid, binding))
    except (InvalidTag, ValueError, binascii.Error):
        raise DecryptionError(f"{binding}: the value was altered or belongs to another column") from None
    return plain.decode()


class Decrypted(str):
    """A decrypted value that remembers its stored form: saving it unchanged writes the same
    ciphertext (no new nonce, so pghistory sees no change and records no event)."""

    stored: str
    binding: str


def binding_of(model: type[models.Model], column: str) -> str:
    # a pghistory event row copies the tracked row's column: it is bound to the tracked table
    tracked = getattr(model, "pgh_tracked_model", None)
    table = (tracked or model)._meta.db_table
    return f"{table}.{column}"


class _OnlyBlankExact(Exact):
    """Equality on a ciphertext is meaningless (a fresh nonce each time); only `= ''` is allowed."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.target.model.__name__}.{self.lhs.target.name} is encrypted: it can only be compared "
                "to the empty string (national IDs are searched through national_id_hash)."
            )
        return super().get_prep_lookup()


class EncryptedMixin:
    """AES-256-GCM in the database, plaintext in Python. No lookups but `isnull` and `= ''`."""

    @property
    def binding(self) -> str:
        return binding_of(self.model, self.column)

    def decrypt_stored(self, value: str | None) -> str | None:
        if value is None:
            return None
        plain = Decrypted(decrypt(value, binding=self.binding))
        plain.stored = value
        plain.binding = self.binding
        return plain

    def from_db_value(self, value, expression, connection):
        return self.decrypt_stored(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        unchanged = isinstance(value, Decrypted) and value.binding == self.binding
        if unchanged and key_id(value.stored) == keyring().current:
            return value.stored
        return encrypt(str(value), binding=self.binding)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _OnlyBlankExact
        if lookup_name in ("isnull", "df", "ndf"):  # df/ndf: pgtrigger's OLD/NEW "is distinct from"
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name):
        return None


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedCharField(EncryptedMixin, models.CharField):
    """`max_length` limits the plaintext (forms, full_clean); the column is text (ciphertext is longer)."""

    def db_type(self, connection):
        return "text"

    def cast_db_type(self, connection):
        return "text"


def encrypted_columns() -> list[tuple[type[models.Model], models.Field]]:
    """Every encrypted column of every installed model, history tables included."""
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedMixin)
    ]


# --- National IDs: a keyed hash for exact search ------------------------------------------------


def normalize_national_id(value: str) -> str:
    """One form however it was typed: no spaces anywhere, upper case."""
    return "".join(value.split()).upper()


def national_id_hash(value: str) -> str:
    """HMAC-SHA256 (NATIONAL_ID_HASH_KEY) of the normalised ID, hex; '' for no ID."""
    normalized = normalize_national_id(value or "")
    if not normalized:
        return ""
    key = settings.NATIONAL_ID_HASH_KEY
    if not key:
        raise ImproperlyConfigured("NATIONAL_ID_HASH_KEY is not set: national IDs cannot be stored or searched.")
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()


# --- System check -------------------------------------------------------------------------------


@checks.register()
def encryption_keys(app_configs, **kwargs):
    """Production does not start (migrate runs the checks) without valid keys."""
    problems = []
    level = checks.Warning if settings.DEBUG else checks.Error
    raw = settings.FIELD_ENCRYPTION_KEYS
    hint = "Generate an entry with `python -c 'from casemgmt.crypto import generate_key_entry as g; print(g(\"k1\"))'`."
    if not raw:
        problems.append(level("FIELD_ENCRYPTION_KEYS is not set.", hint=hint, id="casemgmt.E101"))
    else:
        try:
            parse_keys(raw)
        except ValueError as error:
            problems.append(level(f"FIELD_ENCRYPTION_KEYS is invalid: {error}.", hint=hint, id="casemgmt.E102"))
    if len(settings.NATIONAL_ID_HASH_KEY.encode()) < MIN_HASH_KEY_BYTES:
        problems.append(
            level(
                f"NATIONAL_ID_HASH_KEY is missing or shorter than {MIN_HASH_KEY_BYTES} characters.",
                hint="A random value: `python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
                id="casemgmt.E103",
            )
        )
    return problems


# --- Bulk rewriting: the data migrations and `manage.py reencrypt` --------------------------------


def rewrite_column(
    connection,
    *,
    table: str,
    pk: str,
    column: str,
    transform,
    pending: str,
    pending_params: list | tuple = (),
    hash_column: str | None = None,
    batch: int = 1000,
    progress=None,
) -> int:
    """Rewrite `column` of the rows matching the SQL condition `pending` with `transform(value)`, in
    primary-key order, `batch` rows per statement; returns how many rows changed.

    Each UPDATE only applies where the column still holds the value read (a concurrent edit wins),
    and pgtrigger's triggers are skipped: re-encrypting is no change of the record, so pghistory
    records no event. `hash_column` also receives `national_id_hash` of the plaintext (participants).
    """
    import pgtrigger
    from psycopg import sql

    ident = sql.Identifier
    select = sql.SQL("SELECT {pk}, {col} FROM {t} WHERE {pk} > %s AND ({pending}) ORDER BY {pk} LIMIT %s").format(
        pk=ident(pk), col=ident(column), t=ident(table), pending=sql.SQL(pending)
    )
    extra = sql.SQL(", {h} = v.h").format(h=ident(hash_column)) if hash_column else sql.SQL("")
    update = sql.SQL(
        "UPDATE {t} SET {col} = v.new{extra} FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) "
        "AS v(id, old, new, h) WHERE {t}.{pk} = v.id AND {t}.{col} = v.old"
    ).format(t=ident(table), col=ident(column), pk=ident(pk), extra=extra)
    changed, last = 0, 0
    with pgtrigger.ignore(), connection.cursor() as cursor:
        while True:
            cursor.execute(select.as_string(cursor.connection), [last, *pending_params, batch])
            rows = cursor.fetchall()
            if not rows:
                return changed
            ids, olds, news, hashes = [], [], [], []
            for row_id, old in rows:
                new, plain = transform(old)
                ids.append(row_id)
                olds.append(old)
                news.append(new)
                hashes.append(national_id_hash(plain) if hash_column else "")
            cursor.execute(update.as_string(cursor.connection), [ids, olds, news, hashes])
            changed += cursor.rowcount
            last = ids[-1]
            if progress:
                progress(changed)


def encrypt_existing(connection, table: str, pk: str, column: str, binding: str, hash_column: str | None = None):
    """Data migrations: encrypt the plaintext values of one column (values already encrypted stay)."""

    def transform(value):
        return encrypt(value, binding=binding), value

    return rewrite_column(
        connection,
        table=table,
        pk=pk,
        column=column,
        transform=transform,
        pending=f"{connection.ops.quote_name(column)} <> '' AND left({connection.ops.quote_name(column)}, 3) <> 'v1:'",
        hash_column=hash_column,
    )


def decrypt_existing(connection, table: str, pk: str, column: str, binding: str):
    """Reverse of `encrypt_existing` (a migration rolled back)."""

    def transform(value):
        plain = decrypt(value, binding=binding)
        return plain, plain

    return rewrite_column(
        connection,
        table=table,
        pk=pk,
        column=column,
        transform=transform,
        pending=f"left({connection.ops.quote_name(column)}, 3) = 'v1:'",
    )
