"""The scale generator builds consistent rows the app can read (small numbers here)."""

import datetime
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


def _dashboard_kinds():
    from casemgmt.boundary_models import DisclosureLog
    from casemgmt.casefile import LegalEvent, Outcome, RelapseEvent
    from families.models import CounsellingSession, Engagement
    from programs.models import CheckIn, MentorAssignment, MentoringSession, Placement

    return {
        "assignments": MentorAssignment.objects.count(),
        "mentoring sessions": MentoringSession.objects.count(),
        "engagements": Engagement.objects.count(),
        "counselling sessions": CounsellingSession.objects.count(),
        "placements started": Placement.objects.filter(started_on__isnull=False).count(),
        "check-ins recorded": CheckIn.objects.filter(still_there__isnull=False).count(),
        "post-exit outcomes recorded": Outcome.objects.exclude(kind="exit").filter(recorded_on__isnull=False).count(),
        "re-offending events": LegalEvent.objects.filter(kind__in=["new_charge", "conviction", "breach"]).count(),
        "relapse events": RelapseEvent.objects.count(),
        "disclosures": DisclosureLog.objects.count(),
    }


def test_every_dashboard_kind_has_rows_and_a_second_run_keeps_them(scaled, settings, tmp_path):
    from casemgmt.disclosure_chain import verify

    counts = _dashboard_kinds()
    # events are rare (4-6% of the cases past assessment, about a hundred here): together, not each
    rare = counts.pop("relapse events") + counts.pop("re-offending events")
    assert all(counts.values()), counts
    assert rare
    counts = _dashboard_kinds()
    assert "mentoring sessions:" in scaled
    out = io.StringIO()
    call_command("seed_scale", cases=210, stdout=out)
    assert "mentoring sessions: present, kept" in out.getvalue()
    assert "disclosures: present, kept" in out.getvalue()
    assert _dashboard_kinds() == counts
    # the authority's reads are chained like the app's own rows
    assert verify(path=tmp_path / "no-heads.jsonl").ok


def test_the_dashboard_figures_read_the_scale_rows(scaled, demo):
    from accounts.models import Organisation
    from reports import selectors
    from reports.figures import FIGURES, Filters

    # the scale rows of the larger organisation, whatever their date: a five-year period
    org = Organisation.objects.get(name="Northern Reintegration Centre").pk
    today = datetime.date.today()
    filters = Filters(organisation_id=org, start=today - datetime.timedelta(days=5 * 365), end=today)
    with_rows = {slug for slug, figure in FIGURES.items() if figure.rows(filters).exists()}
    shown = {slug for slug, figure in FIGURES.items() if selectors.figure_result(figure, filters).rows}
    assert shown == with_rows
    # every figure but the rare events has fact rows at 210 cases
    assert set(FIGURES) - with_rows <= {"relapse_events", "legal_events"}
