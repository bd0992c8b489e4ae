"""Encryption at rest (issue 11): national ID, every note's text and the conflict history are stored
as AES-256-GCM ciphertext (casemgmt/crypto.py), in the live tables and in their history tables (bound
to the live table's column: the history trigger copies the ciphertext); national IDs get their keyed
hash for exact search."""

from django.db import migrations, models

import casemgmt.crypto
from casemgmt.crypto import decrypt_existing, encrypt_existing

# (table, primary key, column, the table.column the ciphertext is bound to, hash column)
COLUMNS = [
    ("casemgmt_participant", "id", "national_id", "casemgmt_participant.national_id", "national_id_hash"),
    ("casemgmt_participantevent", "pgh_id", "national_id", "casemgmt_participant.national_id", None),
    ("casemgmt_note", "id", "text", "casemgmt_note.text", None),
    ("casemgmt_noteevent", "pgh_id", "text", "casemgmt_note.text", None),
    ("casemgmt_conflicthistory", "id", "country", "casemgmt_conflicthistory.country", None),
    ("casemgmt_conflicthistory", "id", "group_affiliation", "casemgmt_conflicthistory.group_affiliation", None),
    ("casemgmt_conflicthistory", "id", "role", "casemgmt_conflicthistory.role", None),
    ("casemgmt_conflicthistory", "id", "account", "casemgmt_conflicthistory.account", None),
    ("casemgmt_conflicthistoryevent", "pgh_id", "country", "casemgmt_conflicthistory.country", None),
    (
        "casemgmt_conflicthistoryevent",
        "pgh_id",
        "group_affiliation",
        "casemgmt_conflicthistory.group_affiliation",
        None,
    ),
    ("casemgmt_conflicthistoryevent", "pgh_id", "role", "casemgmt_conflicthistory.role", None),
    ("casemgmt_conflicthistoryevent", "pgh_id", "account", "casemgmt_conflicthistory.account", None),
]


def encrypt_rows(apps, schema_editor):
    for table, pk, column, binding, hash_column in COLUMNS:
        encrypt_existing(schema_editor.connection, table, pk, column, binding, hash_column)


def decrypt_rows(apps, schema_editor):
    for table, pk, column, binding, _hash in COLUMNS:
        decrypt_existing(schema_editor.connection, table, pk, column, binding)


class Migration(migrations.Migration):
    dependencies = [
        ("casemgmt", "0015_assessment_case_order_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="participant",
            name="national_id_hash",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="conflicthistory",
            name="account",
            field=casemgmt.crypto.EncryptedTextField(blank=True, verbose_name="account"),
        ),
        migrations.AlterField(
            model_name="conflicthistory",
            name="country",
            field=casemgmt.crypto.EncryptedCharField(max_length=80, verbose_name="country"),
        ),
        migrations.AlterField(
            model_name="conflicthistory",
            name="group_affiliation",
            field=casemgmt.crypto.EncryptedCharField(blank=True, max_length=200, verbose_name="group affiliation"),
        ),
        migrations.AlterField(
            model_name="conflicthistory",
            name="role",
            field=casemgmt.crypto.EncryptedCharField(blank=True, max_length=200, verbose_name="role"),
        ),
        migrations.AlterField(
            model_name="conflicthistoryevent",
            name="account",
            field=casemgmt.crypto.EncryptedTextField(blank=True, verbose_name="account"),
        ),
        migrations.AlterField(
            model_name="conflicthistoryevent",
            name="country",
            field=casemgmt.crypto.EncryptedCharField(max_length=80, verbose_name="country"),
        ),
        migrations.AlterField(
            model_name="conflicthistoryevent",
            name="group_affiliation",
            field=casemgmt.crypto.EncryptedCharField(blank=True, max_length=200, verbose_name="group affiliation"),
        ),
        migrations.AlterField(
            model_name="conflicthistoryevent",
            name="role",
            field=casemgmt.crypto.EncryptedCharField(blank=True, max_length=200, verbose_name="role"),
        ),
        migrations.AlterField(
            model_name="note",
            name="text",
            field=casemgmt.crypto.EncryptedTextField(verbose_name="note"),
        ),
        migrations.AlterField(
            model_name="noteevent",
            name="text",
            field=casemgmt.crypto.EncryptedTextField(verbose_name="note"),
        ),
        migrations.AlterField(
            model_name="participant",
            name="national_id",
            field=casemgmt.crypto.EncryptedCharField(blank=True, max_length=20, verbose_name="national ID"),
        ),
        migrations.AlterField(
            model_name="participantevent",
            name="national_id",
            field=casemgmt.crypto.EncryptedCharField(blank=True, max_length=20, verbose_name="national ID"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
