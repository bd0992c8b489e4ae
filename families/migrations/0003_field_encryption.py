"""Encryption at rest (issue 11): the counsellors' confidential notes (casemgmt/crypto.py)."""

from django.db import migrations

import casemgmt.crypto
from casemgmt.crypto import decrypt_existing, encrypt_existing

# (table, primary key, column, the table.column the ciphertext is bound to, hash column)
COLUMNS = [
    ("families_counsellingconfidentialnote", "id", "text", "families_counsellingconfidentialnote.text", None),
]


def encrypt_rows(apps, schema_editor):
    for table, pk, column, binding, hash_column in COLUMNS:
        encrypt_existing(schema_editor.connection, table, pk, column, binding, hash_column)


def decrypt_rows(apps, schema_editor):
    for table, pk, column, binding, _hash in COLUMNS:
        decrypt_existing(schema_editor.connection, table, pk, column, binding)


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0002_engagement_counsellor_history_and_session_form_token"),
    ]

    operations = [
        migrations.AlterField(
            model_name="counsellingconfidentialnote",
            name="text",
            field=casemgmt.crypto.EncryptedTextField(verbose_name="confidential notes"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
