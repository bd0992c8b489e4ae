"""The mentors' confidential notes are AES-GCM ciphertext in the database (issue 11)."""

from __future__ import annotations

from django.db import connection

from programs.mentoring_access import confidential_note_for
from tests.programs.mentoring.conftest import SECRET


def test_a_raw_select_of_the_confidential_notes_shows_ciphertext(demo, session):
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM programs_mentoringconfidentialnote WHERE session_id = %s", [session.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("v1:")
    assert SECRET not in stored
    assert confidential_note_for(demo["mentor"], session).text == SECRET
