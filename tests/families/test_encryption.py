"""The counsellors' confidential notes are AES-GCM ciphertext in the database (issue 11)."""

from __future__ import annotations

from django.db import connection

from families.access import confidential_note_for
from families.models import CounsellingConfidentialNote
from tests.families.conftest import SECRET


def test_a_raw_select_of_the_confidential_notes_shows_ciphertext(demo, session):
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM families_counsellingconfidentialnote WHERE session_id = %s", [session.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("v1:")
    assert SECRET not in stored
    # the engagement's counsellor still reads the plaintext, through the one access path
    assert confidential_note_for(demo["counsellor"], session).text == SECRET
    assert CounsellingConfidentialNote.objects.get(session=session).text == SECRET
