"""Encryption at rest (issue 11): what the database holds is ciphertext, keys rotate, tampering fails
loudly, and national IDs are found by their keyed hash only."""

from __future__ import annotations

import base64
import datetime
import io

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql
from rest_framework.test import APIClient

from casemgmt import crypto, services
from casemgmt.casefile import ConflictHistory, Note
from casemgmt.casefile_services import record_create, record_update
from casemgmt.crypto import DecryptionError, generate_key_entry, key_id, national_id_hash
from casemgmt.models import Participant
from tests.casemgmt.conftest import active_case  # noqa: F401  (fixture)
from tests.factories import northern_case

TODAY = datetime.date.today
NOTE = "RESTRICTED-NOTE-MARKER-41"
NOTE2 = "RESTRICTED-NOTE-MARKER-42 edited"
TEAM_NOTE = "TEAM-NOTE-MARKER-43"
CONFLICT = {
    "country": "COUNTRY-MARKER-44",
    "group_affiliation": "GROUP-MARKER-45",
    "role": "ROLE-MARKER-46",
    "account": "ACCOUNT-MARKER-47",
}
NATIONAL_ID = "QX 778 899"  # stored normalised: QX778899


def raw(table: str, column: str, **where) -> list[str]:
    """The column's stored values, read past the ORM."""
    query = sql.SQL("SELECT {c} FROM {t}").format(c=sql.Identifier(column), t=sql.Identifier(table))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(
            sql.SQL("{} = %s").format(sql.Identifier(name)) for name in where
        )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection), list(where.values()))
        return [row[0] for row in cursor.fetchall()]


def write_raw(table: str, column: str, value: str, pk_column: str, pk: int) -> None:
    query = sql.SQL("UPDATE {t} SET {c} = %s WHERE {pk} = %s").format(
        t=sql.Identifier(table), c=sql.Identifier(column), pk=sql.Identifier(pk_column)
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection), [value, pk])


@pytest.fixture
def written(demo, active_case):  # noqa: F811
    """A national ID, a restricted note edited once, a team note and a conflict-history row."""
    lead, case = demo["caseworker"], active_case
    services.case_profile_update(case=case, by=lead, changes={"national_id": NATIONAL_ID})
    note = record_create(
        key="note",
        case=case,
        by=lead,
        data={"kind": "visit", "date": TODAY(), "visibility": "restricted", "text": NOTE},
    )
    record_update(key="note", record=note, by=lead, data={"text": NOTE2})
    team_note = record_create(
        key="note", case=case, by=lead, data={"kind": "call", "date": TODAY(), "visibility": "team", "text": TEAM_NOTE}
    )
    conflict = record_create(key="conflict_history", case=case, by=lead, data=dict(CONFLICT))
    return {"case": case, "note": note, "team_note": team_note, "conflict": conflict}


# (table, column, where the plaintext must not appear) for every encrypted column and its history
CORE_COLUMNS = [
    ("casemgmt_participant", "national_id"),
    ("casemgmt_participantevent", "national_id"),
    ("casemgmt_note", "text"),
    ("casemgmt_noteevent", "text"),
    *(
        (table, column)
        for table in ("casemgmt_conflicthistory", "casemgmt_conflicthistoryevent")
        for column in CONFLICT
    ),
]
PLAINTEXTS = [NATIONAL_ID, "QX778899", NOTE, NOTE2, TEAM_NOTE, *CONFLICT.values()]


@pytest.mark.parametrize(("table", "column"), CORE_COLUMNS)
def test_a_raw_select_shows_ciphertext_never_the_plaintext(written, table, column):
    values = [v for v in raw(table, column) if v]
    assert values, "the test wrote rows into this column"
    current = crypto.keyring().current
    for value in values:
        assert value.startswith(f"v1:{current}:")
        assert not any(marker in value for marker in PLAINTEXTS)
        assert not any(marker.encode() in base64.urlsafe_b64decode(value.split(":", 2)[2]) for marker in PLAINTEXTS)


def test_the_orm_reads_plaintext_from_the_rows_and_from_their_history(written):
    participant = written["case"].participant
    participant.refresh_from_db()
    assert participant.national_id == "QX778899"
    assert Note.objects.get(pk=written["note"].pk).text == NOTE2
    history = Note.pgh_event_model.objects.filter(pgh_obj_id=written["note"].pk).order_by("pgh_id")
    assert [e.text for e in history] == [NOTE, NOTE2]
    assert {f: getattr(ConflictHistory.objects.get(pk=written["conflict"].pk), f) for f in CONFLICT} == CONFLICT
    events = Participant.pgh_event_model.objects.filter(pgh_obj_id=participant.pk).order_by("pgh_id")
    assert events.last().national_id == "QX778899"


def test_the_same_text_is_never_stored_twice_alike(written, demo):
    again = record_create(
        key="note",
        case=written["case"],
        by=demo["caseworker"],
        data={"kind": "call", "date": TODAY(), "text": TEAM_NOTE},
    )
    first, second = (raw("casemgmt_note", "text", id=pk)[0] for pk in (written["team_note"].pk, again.pk))
    assert first != second  # a fresh 96-bit nonce each time


def test_saving_an_unchanged_record_keeps_its_ciphertext_and_adds_no_history(written):
    # a fresh nonce on every save would look like a change to the history trigger
    participant = Participant.objects.get(pk=written["case"].participant_id)
    before = raw("casemgmt_participant", "national_id", id=participant.pk)
    events = Participant.pgh_event_model.objects.filter(pgh_obj_id=participant.pk).count()
    participant.save()
    assert raw("casemgmt_participant", "national_id", id=participant.pk) == before
    assert Participant.pgh_event_model.objects.filter(pgh_obj_id=participant.pk).count() == events
    participant.national_id = "QX778899"  # the same value typed again: a new ciphertext, same plaintext
    participant.save()
    assert raw("casemgmt_participant", "national_id", id=participant.pk) != before
    assert Participant.objects.get(pk=participant.pk).national_id == "QX778899"


def test_search_text_holds_no_national_id(written):
    participant = written["case"].participant
    (search_text,) = raw("casemgmt_participant", "search_text", id=participant.pk)
    assert "qx778899" not in search_text.lower()
    assert "778899" not in search_text


# --- Tampering ------------------------------------------------------------------------------------


def test_an_altered_ciphertext_fails_loudly(written):
    note = written["note"]
    (stored,) = raw("casemgmt_note", "text", id=note.pk)
    head, body = stored.rsplit(":", 1)
    data = bytearray(base64.urlsafe_b64decode(body))
    data[-1] ^= 1  # one bit of the tag
    write_raw("casemgmt_note", "text", f"{head}:{base64.urlsafe_b64encode(bytes(data)).decode()}", "id", note.pk)
    with pytest.raises(DecryptionError, match="altered"):
        Note.objects.get(pk=note.pk)


def test_a_ciphertext_moved_to_another_column_fails_loudly(written):
    # a valid ciphertext of the restricted note, pasted into the conflict account of the same case
    (stored,) = raw("casemgmt_note", "text", id=written["note"].pk)
    write_raw("casemgmt_conflicthistory", "account", stored, "id", written["conflict"].pk)
    with pytest.raises(DecryptionError, match="another column"):
        ConflictHistory.objects.get(pk=written["conflict"].pk)


def test_a_relabelled_key_id_or_a_plaintext_fails_loudly(written, settings):
    note = written["note"]
    (stored,) = raw("casemgmt_note", "text", id=note.pk)
    _v, _kid, body = stored.split(":", 2)
    other = generate_key_entry("zz")
    settings.FIELD_ENCRYPTION_KEYS = f"{settings.FIELD_ENCRYPTION_KEYS},{other}"
    write_raw("casemgmt_note", "text", f"v1:zz:{body}", "id", note.pk)
    with pytest.raises(DecryptionError):
        Note.objects.get(pk=note.pk)
    write_raw("casemgmt_note", "text", "a plaintext note slipped in", "id", note.pk)
    with pytest.raises(DecryptionError, match="not an encrypted value"):
        Note.objects.get(pk=note.pk)


def test_a_key_that_is_gone_fails_loudly(written, settings):
    settings.FIELD_ENCRYPTION_KEYS = generate_key_entry("new")  # the old key dropped before re-encrypting
    with pytest.raises(DecryptionError, match="does not hold"):
        Note.objects.get(pk=written["note"].pk)


def test_encrypted_columns_refuse_value_lookups(written):
    with pytest.raises(FieldError, match="encrypted"):
        list(Note.objects.filter(text=NOTE2))
    with pytest.raises(FieldError):
        list(Note.objects.filter(text__icontains="MARKER"))
    assert Note.objects.filter(pk=written["note"].pk).exclude(text="").count() == 1


# --- Rotation -------------------------------------------------------------------------------------


def test_rotation_keeps_old_rows_readable_and_reencrypt_moves_them(written, as_owner, settings):
    old_kid = crypto.keyring().current
    settings.FIELD_ENCRYPTION_KEYS = f"{generate_key_entry('r2')},{settings.FIELD_ENCRYPTION_KEYS}"
    # the new key encrypts, the old one (second) still decrypts
    assert Note.objects.get(pk=written["note"].pk).text == NOTE2
    participant = Participant.objects.get(pk=written["case"].participant_id)
    assert participant.national_id == "QX778899"
    newer = record_create(
        key="note",
        case=written["case"],
        by=written["note"].recorded_by,
        data={"kind": "call", "date": TODAY(), "text": "x"},
    )
    assert key_id(raw("casemgmt_note", "text", id=newer.pk)[0]) == "r2"

    out = io.StringIO()
    call_command("reencrypt", "--batch", "2", stdout=out)
    assert "Current key: r2" in out.getvalue()
    assert "casemgmt_noteevent.text:" in out.getvalue()
    for table, column in CORE_COLUMNS:
        kids = {key_id(v) for v in raw(table, column) if v}
        assert kids == {"r2"}, (table, column, kids)
    # the old key can go now: everything reads under the new one alone
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS.split(",")[0]
    assert Note.objects.get(pk=written["note"].pk).text == NOTE2
    assert [e.text for e in Note.pgh_event_model.objects.filter(pgh_obj_id=written["note"].pk).order_by("pgh_id")] == [
        NOTE,
        NOTE2,
    ]
    assert {f: getattr(ConflictHistory.objects.get(pk=written["conflict"].pk), f) for f in CONFLICT} == CONFLICT
    # re-encrypting records no change of the records
    assert Note.pgh_event_model.objects.filter(pgh_obj_id=written["note"].pk).count() == 2
    # idempotent: a second run has nothing to do
    out = io.StringIO()
    call_command("reencrypt", stdout=out)
    assert "Done: 0 values moved to key r2" in out.getvalue()
    assert old_kid != "r2"


def test_reencrypt_as_the_application_role_refuses_before_changing_anything(written, settings):
    settings.FIELD_ENCRYPTION_KEYS = f"{generate_key_entry('r3')},{settings.FIELD_ENCRYPTION_KEYS}"
    with pytest.raises(CommandError, match="run reencrypt as the owner"):
        call_command("reencrypt", stdout=io.StringIO())
    assert {key_id(v) for v in raw("casemgmt_note", "text") if v} != {"r3"}


def test_reencrypt_stops_at_a_value_it_cannot_decrypt(written, as_owner, settings):
    write_raw("casemgmt_note", "text", "plain text planted", "id", written["team_note"].pk)
    settings.FIELD_ENCRYPTION_KEYS = f"{generate_key_entry('r4')},{settings.FIELD_ENCRYPTION_KEYS}"
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("reencrypt", stdout=io.StringIO())


# --- National ID search ---------------------------------------------------------------------------


def _search(user, query):
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/v1/cases/", {"search": query})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_national_id_is_found_exactly_through_its_keyed_hash(written, demo):
    case = written["case"]
    participant = Participant.objects.get(pk=case.participant_id)
    assert participant.national_id_hash == national_id_hash("QX778899")
    assert raw("casemgmt_participant", "national_id_hash", id=participant.pk) == [national_id_hash("qx 778899")]
    for query in ("QX778899", "qx778899", " qx 778 899 "):
        assert _search(demo["caseworker"], query) == {case.pk}, query
    for query in ("QX77889", "778899", "QX7788990"):  # partial or longer: no match
        assert _search(demo["caseworker"], query) == set(), query


def test_the_hash_is_keyed(settings):
    first = national_id_hash("QX778899")
    settings.NATIONAL_ID_HASH_KEY = "another-key-of-at-least-thirty-two-characters"
    assert national_id_hash("QX778899") != first
    assert national_id_hash("") == ""


def test_the_hash_follows_a_change_and_a_removal(written, demo):
    case = written["case"]
    services.case_profile_update(case=case, by=demo["caseworker"], changes={"national_id": "ZK 1"})
    assert _search(demo["caseworker"], "QX778899") == set()
    assert _search(demo["caseworker"], "zk1") == {case.pk}
    services.case_profile_update(case=case, by=demo["caseworker"], changes={"national_id": ""})
    assert raw("casemgmt_participant", "national_id_hash", id=case.participant_id) == [""]
    assert raw("casemgmt_participant", "national_id", id=case.participant_id) == [""]


def test_a_national_id_of_another_organisation_is_not_found(written, demo):
    # the other NGO's caseworker searching the exact ID finds nothing of ours
    assert _search(demo["caseworker2"], "QX778899") == set()
    other = northern_case(demo, n=901)
    assert other.pk not in _search(demo["caseworker"], "QX778899")


# --- Keys and the production check ----------------------------------------------------------------


def test_the_production_check_fails_without_valid_keys(settings):
    from casemgmt.crypto import encryption_keys

    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = ""
    assert [e.id for e in encryption_keys(None)] == ["casemgmt.E101"]
    for bad in ("k1", "k1:notbase64!!", f"k1:{base64.b64encode(b'short').decode()}", "bad id:" + "A" * 44):
        settings.FIELD_ENCRYPTION_KEYS = bad
        assert [e.id for e in encryption_keys(None)] == ["casemgmt.E102"], bad
    settings.FIELD_ENCRYPTION_KEYS = f"{generate_key_entry('a')},{generate_key_entry('a')}"
    assert [e.id for e in encryption_keys(None)] == ["casemgmt.E102"]  # one id twice
    settings.FIELD_ENCRYPTION_KEYS = f"{generate_key_entry('a')},{generate_key_entry('b')}"
    assert encryption_keys(None) == []
    settings.NATIONAL_ID_HASH_KEY = "short"
    assert [e.id for e in encryption_keys(None)] == ["casemgmt.E103"]
    assert all(e.level >= 40 for e in encryption_keys(None))  # errors, not warnings, with DEBUG off


def test_deploy_check_refuses_a_production_start_without_keys():
    import subprocess
    import sys

    from tests.conftest import ROOT, subprocess_env

    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="casemgmt.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="cases.example.org",
    )
    env.pop("FIELD_ENCRYPTION_KEYS", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "casemgmt.E101" in result.stderr + result.stdout


def test_keys_are_parsed_with_the_first_encrypting():
    first, second = generate_key_entry("new"), generate_key_entry("old")
    ring = crypto.parse_keys(f"{first}, {second}")
    assert ring.current == "new"
    assert set(ring.keys) == {"new", "old"}
    stored = crypto.encrypt("hello", binding="t.c", ring=crypto.parse_keys(second))
    assert crypto.decrypt(stored, binding="t.c", ring=ring) == "hello"
    with pytest.raises(DecryptionError):
        crypto.decrypt(stored, binding="t.other", ring=ring)


# --- The data migrations --------------------------------------------------------------------------


def test_the_data_migration_encrypts_plaintext_rows_once_and_reverses(written, as_owner):
    from casemgmt.crypto import decrypt_existing, encrypt_existing

    pk = written["team_note"].pk
    events = Note.pgh_event_model.objects.count()
    decrypt_existing(connection, "casemgmt_note", "id", "text", "casemgmt_note.text")  # as before the migration
    assert raw("casemgmt_note", "text", id=pk) == [TEAM_NOTE]
    participant_id = written["case"].participant_id
    write_raw("casemgmt_participant", "national_id", "QX778899", "id", participant_id)
    write_raw("casemgmt_participant", "national_id_hash", "", "id", participant_id)

    assert encrypt_existing(connection, "casemgmt_note", "id", "text", "casemgmt_note.text") >= 2
    participants = encrypt_existing(
        connection, "casemgmt_participant", "id", "national_id", "casemgmt_participant.national_id", "national_id_hash"
    )
    assert participants == 1  # the other participants' IDs were encrypted already
    (stored,) = raw("casemgmt_note", "text", id=pk)
    assert stored.startswith("v1:")
    assert Note.objects.get(pk=pk).text == TEAM_NOTE
    assert raw("casemgmt_participant", "national_id_hash", id=participant_id) == [national_id_hash("QX778899")]
    assert Participant.objects.get(pk=participant_id).national_id == "QX778899"
    # a second run leaves encrypted rows alone; no history rows were written by either direction
    assert encrypt_existing(connection, "casemgmt_note", "id", "text", "casemgmt_note.text") == 0
    assert raw("casemgmt_note", "text", id=pk) == [stored]
    assert Note.pgh_event_model.objects.count() == events


def test_the_bulk_write_paths_keep_the_hash_in_step(written, demo):
    case = written["case"]
    Participant.objects.filter(pk=case.participant_id).update(national_id="BK 42")
    assert _search(demo["caseworker"], "bk42") == {case.pk}
    participant = Participant.objects.get(pk=case.participant_id)
    participant.national_id = "BU43"
    Participant.objects.bulk_update([participant], ["national_id"])
    assert _search(demo["caseworker"], "BU43") == {case.pk}
    assert _search(demo["caseworker"], "bk42") == set()
    clone = Participant.objects.filter(pk=case.participant_id).values().get()
    for derived in ("id", "search_text", "national_id_hash"):
        clone.pop(derived)
    clone["case_code"] = "TNG-2099-0001"
    clone["national_id"] = "BC44"
    (created,) = Participant.objects.bulk_create([Participant(**clone)])
    assert raw("casemgmt_participant", "national_id_hash", id=created.pk) == [national_id_hash("bc 44")]
    assert raw("casemgmt_participant", "national_id", id=created.pk)[0].startswith("v1:")


def test_the_timeline_shows_the_decrypted_start_of_a_note(written, demo):
    from casemgmt.timeline import NOTE_PREVIEW, case_timeline

    long_text = "TIMELINE-MARKER " + "x" * 300
    record_create(
        key="note",
        case=written["case"],
        by=demo["caseworker"],
        data={"kind": "call", "date": TODAY(), "text": long_text},
    )
    details = [e.detail for e in case_timeline(demo["caseworker"], written["case"]) if e.kind == "note"]
    assert long_text[:NOTE_PREVIEW] in details
    assert NOTE2 in details  # the restricted note, for its author
