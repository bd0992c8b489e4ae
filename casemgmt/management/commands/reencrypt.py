"""Move every encrypted value to the current key (the first of FIELD_ENCRYPTION_KEYS).

Run after putting a new key first (the old one still listed), then drop the old key. Idempotent:
rows already under the current key are not read again. History tables are INSERT/SELECT only for the
application role, so a complete run needs the owner role (`DATABASE_URL` = the owner's URL); the
command checks the privileges first and changes nothing when one table is out of reach.
`--rehash` recomputes `national_id_hash` (after a new NATIONAL_ID_HASH_KEY).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from casemgmt.crypto import DecryptionError, decrypt, encrypt, encrypted_columns, keyring, rewrite_column


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the current key (FIELD_ENCRYPTION_KEYS)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=1000, help="rows per statement (default 1000)")
        parser.add_argument("--rehash", action="store_true", help="also recompute every national_id_hash")

    def handle(self, *args, batch: int, rehash: bool, **options):
        ring = keyring()
        columns = encrypted_columns()
        tables = sorted({model._meta.db_table for model, _field in columns})
        with connection.cursor() as cursor:
            cursor.execute("SELECT t FROM unnest(%s::text[]) AS t WHERE NOT has_table_privilege(t, 'UPDATE')", [tables])
            denied = [row[0] for row in cursor.fetchall()]
        if denied:
            raise CommandError(
                f"This role may not UPDATE {', '.join(denied)} (history tables are append-only for the application "
                "role): run reencrypt as the owner (DATABASE_URL = the owner's URL). Nothing was changed."
            )
        self.stdout.write(f"Current key: {ring.current}; {len(columns)} columns in {len(tables)} tables.")
        total = 0
        for model, field in columns:
            table, pk, column, binding = model._meta.db_table, model._meta.pk.column, field.column, field.binding
            label = f"{table}.{column}"

            def transform(value, binding=binding, label=label):
                try:
                    plain = decrypt(value, binding=binding, ring=ring)
                except DecryptionError as error:
                    raise CommandError(
                        f"{error} (a row of {label} cannot be decrypted: nothing of it was changed)"
                    ) from None
                return encrypt(plain, binding=binding, ring=ring), plain

            def progress(done, label=label):
                self.stdout.write(f"  {label}: {done} rows")

            quoted = connection.ops.quote_name(column)
            with transaction.atomic():  # one table column at a time: a failure keeps the columns done
                changed = rewrite_column(
                    connection,
                    table=table,
                    pk=pk,
                    column=column,
                    transform=transform,
                    pending=f"{quoted} <> '' AND left({quoted}, %s) <> %s",
                    pending_params=[len(f"v1:{ring.current}:"), f"v1:{ring.current}:"],
                    batch=batch,
                    progress=progress,
                )
            total += changed
            self.stdout.write(f"{label}: {changed} re-encrypted")
        if rehash:
            self._rehash(batch)
        self.stdout.write(self.style.SUCCESS(f"Done: {total} values moved to key {ring.current}."))

    def _rehash(self, batch: int) -> None:
        from casemgmt.models import Participant

        field = Participant._meta.get_field("national_id")

        def transform(value):
            return value, decrypt(value, binding=field.binding)  # the ciphertext stays, the hash is recomputed

        with transaction.atomic():
            changed = rewrite_column(
                connection,
                table=Participant._meta.db_table,
                pk="id",
                column="national_id",
                transform=transform,
                pending="national_id <> ''",
                hash_column="national_id_hash",
                batch=batch,
                progress=lambda done: self.stdout.write(f"  national_id_hash: {done} rows"),
            )
        self.stdout.write(f"national_id_hash: {changed} recomputed")
