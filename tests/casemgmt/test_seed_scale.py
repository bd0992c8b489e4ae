"""The scale generator builds consistent rows the app can read (small numbers here)."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from casemgmt.casefile import Assessment, Note
from casemgmt.models import Case, CaseCodeSequence


@pytest.fixture
def scaled(as_owner, settings):
    # seed_scale is an owner's command (`make bench` runs it so): it switches history triggers off
    # for its session, which the application role may not do.
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_scale", cases=210, notes_per_case=3, stdout=out)
    return out.getvalue()


def test_counts_and_progress(scaled):
    assert Case.objects.count() == 210
    assert Note.objects.count() == 630
    assert Assessment.objects.count() == 420
    assert "notes:" in scaled
    assert "100%" in scaled


def test_the_app_reads_scale_rows_through_the_policy(scaled, demo):
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    mine = api.get("/api/v1/cases/", {"page_size": 200}).json()["results"]
    assert mine  # the demo caseworker leads one case in fifty
    assert len(mine) < 210
    case = Case.objects.get(pk=mine[0]["id"])
    assert api.get(f"/api/v1/cases/{case.pk}/timeline/").status_code == 200
    found = api.get("/api/v1/cases/", {"search": case.participant.family_name_latin.lower()}).json()["results"]
    assert case.pk in {row["id"] for row in found}


def test_new_cases_continue_the_sequences(scaled, demo):
    from tests.factories import northern_case

    assert CaseCodeSequence.objects.exists()
    case = northern_case(demo, n=9999)
    assert Case.objects.filter(participant__case_code=case.participant.case_code).count() == 1


def test_running_again_does_nothing(scaled, settings):
    out = io.StringIO()
    call_command("seed_scale", cases=210, stdout=out)
    assert "nothing to do" in out.getvalue()
