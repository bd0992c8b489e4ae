"""Role matrix for the case-file views the other matrices do not reach."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from casemgmt import casefile_services as cs
from casemgmt.casefile import Attachment, GoalProgress
from casemgmt.models import SavedSearch, Stage
from tests.casemgmt.conftest import answers_for
from tests.casemgmt.test_case_pages import ALL
from tests.factories import case_move_stage, northern_case

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


def _expected(name, allowed, ok):
    return 302 if name == "anonymous" else ok if name in allowed else 404


def _login(client, viewer):
    if viewer is not None:
        client.force_login(viewer)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_assessment_compare(client, demo, active_case, template, viewer, request):
    first = cs.assessment_record(
        case=active_case, by=demo["caseworker"], template=template, assessed_on=YESTERDAY, answers=answers_for(template)
    )
    second = cs.assessment_record(
        case=active_case,
        by=demo["caseworker"],
        template=template,
        assessed_on=YESTERDAY,
        answers=answers_for(template, 2),
    )
    _login(client, viewer)
    response = client.get(reverse("assessment-compare", args=[active_case.pk]), {"a": first.pk, "b": second.pk})
    assert response.status_code == _expected(request.node.callspec.params["viewer"], {"caseworker", "manager"}, 200)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_goal_progress(client, records, active_case, viewer, request):
    _login(client, viewer)
    name = request.node.callspec.params["viewer"]
    response = client.post(
        reverse("goal-progress", args=[active_case.pk, records["goal"].pk]), {"date": str(YESTERDAY), "note": "step"}
    )
    assert response.status_code == _expected(name, {"caseworker"}, 302)
    assert GoalProgress.objects.filter(goal=records["goal"]).exists() == (name == "caseworker")


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_screening_page(client, demo, viewer, request):
    case = northern_case(demo, n=300)
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="contact")
    _login(client, viewer)
    name = request.node.callspec.params["viewer"]
    response = client.post(
        reverse("case-screen", args=[case.pk]),
        {"screen-first_contact_date": str(YESTERDAY), "screen-decision": "accept", "screen-reason": "fits"},
    )
    assert response.status_code == _expected(name, {"caseworker", "manager"}, 302)
    case.refresh_from_db()
    assert (case.stage == Stage.ASSESSMENT) == (name in {"caseworker", "manager"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_case_document_upload(client, active_case, viewer, request):
    _login(client, viewer)
    name = request.node.callspec.params["viewer"]
    response = client.post(
        reverse("attachment-upload", args=[active_case.pk]),
        {"record_type": "case", "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")},
    )
    assert response.status_code == _expected(name, {"caseworker", "manager"}, 302)
    assert Attachment.objects.exists() == (name in {"caseworker", "manager"})


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_saved_search_delete(client, demo, viewer, request):
    saved = SavedSearch.objects.create(user=demo["caseworker"], name="mine", querystring="stage=active")
    _login(client, viewer)
    name = request.node.callspec.params["viewer"]
    response = client.post(reverse("saved-search-delete", args=[saved.pk]))
    assert response.status_code == _expected(name, {"caseworker"}, 302)
    assert SavedSearch.objects.exists() == (name != "caseworker")
