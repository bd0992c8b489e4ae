"""Holes found in review of the case file, kept shut."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import casefile_services as cs
from casemgmt.casefile import AssessmentTemplate, Attachment
from casemgmt.models import AccessLog
from casemgmt.services import team_member_add
from tests.casemgmt.conftest import answers_for

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def api():
    return APIClient()


def test_history_hides_the_restricted_versions_of_a_note_made_public_later(client, demo, active_case):
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    note = cs.record_create(
        key="note",
        case=active_case,
        by=demo["colleague"],
        data={"kind": "call", "date": YESTERDAY, "visibility": "restricted", "text": "RESTRICTED-SECRET-V1"},
    )
    cs.record_update(key="note", record=note, by=demo["colleague"], data={"visibility": "team", "text": "public"})
    client.force_login(demo["manager"])
    html = client.get(reverse("case-history", args=[active_case.pk])).content.decode()
    assert "public" in html
    assert "RESTRICTED-SECRET-V1" not in html
    client.force_login(demo["caseworker"])  # the lead saw it all along
    assert "RESTRICTED-SECRET-V1" in client.get(reverse("case-history", args=[active_case.pk])).content.decode()


@pytest.mark.parametrize("value", ["²", "①", "1.5", "-1", "9" * 40])
def test_odd_case_filters_are_400_not_500(api, demo, value):
    api.force_authenticate(demo["caseworker"])
    assert api.get("/api/v1/notes/", {"case": value}).status_code == 400


@pytest.mark.parametrize("record_id", ["abc", "1.5", ""])
def test_odd_record_ids_on_page_upload_are_404(client, demo, active_case, record_id):
    client.force_login(demo["caseworker"])
    response = client.post(
        reverse("attachment-upload", args=[active_case.pk]),
        {"record_type": "note", "record_id": record_id, "file": SimpleUploadedFile("a.pdf", b"%PDF-1.4\n")},
    )
    assert response.status_code == 404


def test_only_the_author_attaches_to_a_note(api, demo, active_case):
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    note = cs.record_create(
        key="note",
        case=active_case,
        by=demo["colleague"],
        data={"kind": "call", "date": YESTERDAY, "visibility": "team", "text": "x"},
    )
    api.force_authenticate(demo["caseworker"])
    response = api.post(
        "/api/v1/attachments/",
        {
            "case": active_case.pk,
            "record_type": "note",
            "record_id": note.pk,
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1"),
        },
        format="multipart",
    )
    assert response.status_code == 404
    api.force_authenticate(demo["colleague"])
    response = api.post(
        "/api/v1/attachments/",
        {
            "case": active_case.pk,
            "record_type": "note",
            "record_id": note.pk,
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1"),
        },
        format="multipart",
    )
    assert response.status_code == 201


def test_case_documents_point_at_no_record(api, demo, active_case):
    api.force_authenticate(demo["caseworker"])
    response = api.post(
        "/api/v1/attachments/",
        {
            "case": active_case.pk,
            "record_type": "case",
            "record_id": 424242,
            "file": SimpleUploadedFile("a.pdf", b"%PDF-1"),
        },
        format="multipart",
    )
    assert response.status_code == 201
    assert Attachment.objects.get().record_id is None


def test_inactive_templates_cannot_be_used(api, demo, active_case, template):
    AssessmentTemplate.objects.filter(pk=template.pk).update(is_active=False)
    api.force_authenticate(demo["caseworker"])
    answers = [{"item": a["item"], "rating": a["rating"]} for a in answers_for(template)]
    response = api.post(
        "/api/v1/assessments/",
        {"case": active_case.pk, "template": template.pk, "assessed_on": str(YESTERDAY), "answers": answers},
        format="json",
    )
    assert response.status_code == 400
    assert "template" in response.json()["errors"]


def test_goal_and_owner_ids_of_other_cases_read_as_unknown(api, demo, active_case):
    from tests.factories import CaseFactory

    other = CaseFactory(
        organisation=demo["caseworker2"].membership.organisation, by=demo["caseworker2"], lead=demo["caseworker2"]
    )
    other_goal = cs.record_create(
        key="goal", case=other, by=demo["caseworker2"], data={"domain": "housing", "title": "x"}
    )
    api.force_authenticate(demo["caseworker"])
    unknown = api.post(
        "/api/v1/service-referrals/",
        {"case": active_case.pk, "kind": "housing", "provider": "p", "referred_on": str(YESTERDAY), "goal": 99999999},
        format="json",
    )
    foreign = api.post(
        "/api/v1/service-referrals/",
        {
            "case": active_case.pk,
            "kind": "housing",
            "provider": "p",
            "referred_on": str(YESTERDAY),
            "goal": other_goal.pk,
        },
        format="json",
    )
    assert unknown.status_code == foreign.status_code == 400
    assert unknown.json()["errors"]["goal"][0].replace("99999999", "N") == foreign.json()["errors"]["goal"][0].replace(
        str(other_goal.pk), "N"
    )


def test_a_goal_whose_owner_left_can_still_change_status(demo, active_case):
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    goal = cs.record_create(
        key="goal",
        case=active_case,
        by=demo["caseworker"],
        data={"domain": "housing", "title": "x", "owner": demo["colleague"]},
    )
    from casemgmt.services import team_member_remove

    team_member_remove(member=active_case.team.get(user=demo["colleague"]), by=demo["caseworker"])
    cs.record_update(key="goal", record=goal, by=demo["caseworker"], data={"status": "achieved"})
    goal.refresh_from_db()
    assert goal.status == "achieved"


def test_api_lists_and_writes_are_logged(api, demo, records, active_case):
    api.force_authenticate(demo["caseworker"])
    api.get("/api/v1/notes/", {"case": active_case.pk})
    api.post(
        "/api/v1/notes/",
        {"case": active_case.pk, "kind": "call", "date": str(YESTERDAY), "text": "x", "visibility": "team"},
        format="json",
    )
    views = set(AccessLog.objects.values_list("view", flat=True))
    assert {"api-note-list", "api-note-create"} <= views
