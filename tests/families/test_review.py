"""Findings of the security review of families (issue 8), kept as the behaviour they asked for: no files
on family rows, counsellors do not write consents, a shared relative is copied when a case moves, only
the NGO's own family-contact consent is a basis, attendance only of readable relatives; and what the
review checked and found right."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, User
from casemgmt import casefile_services as cs
from casemgmt.casefile_services import record_create, record_update
from casemgmt.services import team_set_lead
from families import services as fs
from families.models import FamilyMember
from tests.families.conftest import MEMBER_NAME, SECRET, SECRET2, SUMMARY

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _member_ids(user) -> set[int]:
    return {m["id"] for m in _api(user).get("/api/v1/family-members/").json()["results"]}


# --- Holes (fail while the hole exists) -------------------------------------------------------


def test_counselling_sessions_take_no_files(people, session):
    """A counsellor's file on a session (a scan of their notes) would go to caseworkers and managers,
    like mentoring sessions, counselling sessions must take no files."""
    counsellor = _api(people["counsellor"])
    response = counsellor.post(
        "/api/v1/attachments/",
        {
            "case": session.case_id,
            "record_type": "counselling_session",
            "record_id": session.pk,
            "description": "SCAN-OF-CONFIDENTIAL-NOTES",
            "file": SimpleUploadedFile("notes.pdf", b"%PDF-1.4\n" + SECRET.encode()),
        },
        format="multipart",
    )
    assert response.status_code in (400, 404), response.content
    # and if it got in, the manager must not read it
    listed = _api(people["manager"]).get("/api/v1/attachments/", {"case": session.case_id}).json()["results"]
    assert not any(a["description"] == "SCAN-OF-CONFIDENTIAL-NOTES" for a in listed)


def test_files_cannot_be_added_to_an_ended_engagements_rows(people, active_case, engagement, session):
    """Once engagement A has ended, its sessions are closed to writes; a counsellor still on the case
    through engagement B must not attach files to A's rows."""
    later = fs.engagement_create(
        case=active_case,
        by=people["caseworker"],
        kind="legal",
        members=list(engagement.members.all()),
        counsellors=[people["counsellor"]],
    )
    fs.engagement_end(engagement=engagement, by=people["caseworker"], reason="done")
    assert later.is_open
    response = _api(people["counsellor"]).post(
        "/api/v1/attachments/",
        {
            "case": session.case_id,
            "record_type": "counselling_session",
            "record_id": session.pk,
            "file": SimpleUploadedFile("x.pdf", b"%PDF-1.4\n"),
        },
        format="multipart",
    )
    assert response.status_code in (400, 404)


def test_a_counsellor_cannot_grant_themselves_a_relatives_own_consent(client, people, household, consent, engagement):
    """Consents are CO read-only (handbook §4). A counsellor holding the participant's consent records
    an 'own consent' for the mother, then the participant withdraws: the mother must disappear."""
    client.force_login(people["counsellor"])
    mother = household["mother"]
    response = client.post(
        reverse("families-member-edit", args=[engagement.case_id, mother.pk]),
        {
            "given_name": mother.given_name,
            "family_name": mother.family_name,
            "age": 61,
            "phone": mother.phone,
            "own_consent_given_on": timezone.localdate().isoformat(),
        },
    )
    record_update(key="consent", record=consent, by=people["caseworker"], data={"withdrawn_on": timezone.localdate()})
    assert mother.pk not in _member_ids(people["counsellor"]), response.status_code
    assert MEMBER_NAME not in client.get(reverse("case-family", args=[engagement.case_id])).content.decode()


def test_a_counsellor_cannot_extend_a_relatives_own_consent(client, people, household, consent, engagement):
    """A relative's own consent expires tomorrow; the counsellor (who reads her only through it) must
    not be able to push the expiry out and keep access."""
    mother = household["mother"]
    fs.member_update(
        member=mother,
        by=people["caseworker"],
        data={
            "own_consent_given_on": timezone.localdate() - datetime.timedelta(days=10),
            "own_consent_expires_on": timezone.localdate() + datetime.timedelta(days=1),
        },
    )
    record_update(key="consent", record=consent, by=people["caseworker"], data={"withdrawn_on": timezone.localdate()})
    client.force_login(people["counsellor"])
    client.post(
        reverse("families-member-edit", args=[engagement.case_id, mother.pk]),
        {
            "given_name": mother.given_name,
            "family_name": mother.family_name,
            "age": 61,
            "own_consent_given_on": (timezone.localdate() - datetime.timedelta(days=10)).isoformat(),
            "own_consent_expires_on": "2099-12-31",
        },
    )
    mother.refresh_from_db()
    assert mother.own_consent_expires_on == timezone.localdate() + datetime.timedelta(days=1)


def test_a_counsellor_cannot_create_a_relative_with_an_own_consent(people, active_case, household, consent, engagement):
    response = _api(people["counsellor"]).post(
        "/api/v1/family-members/",
        {
            "case": active_case.pk,
            "relation": "father",
            "given_name": "Self",
            "family_name": "Granted",
            "own_consent_given_on": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201 or response.status_code == 400
    if response.status_code == 201:
        assert FamilyMember.objects.get(pk=response.json()["id"]).own_consent_given_on is None


def _transfer(people, case, to):
    receiver = User.objects.create_user("atl-manager-review", password="x-long-password-2026")
    Membership.objects.create(user=receiver, organisation=to, role=Role.MANAGER)
    consent = cs.record_create(
        key="consent",
        case=case,
        by=people["caseworker"],
        data={"purpose": "Transfer", "recipient": to, "categories": ["identity"], "given_on": timezone.localdate()},
    )
    transfer = cs.transfer_request(case=case, by=people["caseworker"], to_organisation=to, consent=consent, reason="x")
    cs.transfer_decide(transfer=transfer, by=receiver, accept=True)
    return receiver


def test_after_a_transfer_the_receiving_ngo_does_not_follow_the_senders_shared_relative(
    client, people, active_case, household
):
    """The mother of two siblings is one row. One sibling's case moves to Atlantic; what Northern later
    records about her for the sibling it keeps must not reach Atlantic, and Atlantic must not rewrite
    Northern's row (cross-organisation isolation)."""
    from tests.factories import northern_case

    mother = household["mother"]
    sibling = northern_case(people)
    fs.member_add(case=sibling, by=people["caseworker"], relation="mother", member=mother)
    atlantic = Organisation.objects.get(name="Atlantic Family Support Association")
    receiver = _transfer(people, sibling, atlantic)
    # Northern keeps working with the mother on ITS case (active_case)
    fs.member_update(
        member=mother, by=people["caseworker"], data={"vulnerability_note": "NORTHERN-ONLY-NOTE", "phone": "+212 6 NEW"}
    )
    body = _api(receiver).get(f"/api/v1/family-members/{mother.pk}/")
    assert "NORTHERN-ONLY-NOTE" not in body.content.decode()
    # Atlantic's caseworker, lead of the moved case, edits "their" relative: Northern's row must not change
    sibling.refresh_from_db()
    team_set_lead(case=sibling, by=receiver, user=people["caseworker2"])
    client.force_login(people["caseworker2"])
    client.post(
        reverse("families-member-edit", args=[sibling.pk, mother.pk]),
        {"given_name": "OVERWRITTEN-BY-ATLANTIC", "family_name": "X", "age": 61},
    )
    mother.refresh_from_db()
    assert mother.given_name != "OVERWRITTEN-BY-ATLANTIC"


def _counsellor_reads(people, household) -> bool:
    return household["mother"].pk in _member_ids(people["counsellor"])


@pytest.fixture
def engagement_without_consent(people, active_case, household):
    return fs.engagement_create(
        case=active_case,
        by=people["caseworker"],
        kind="psychological",
        members=[household["mother"], household["child"]],
        counsellors=[people["counsellor"]],
    )


def test_a_consent_naming_another_recipient_is_no_family_contact_basis(people, household, engagement_without_consent):
    probation = Organisation.objects.get(name="Regional Probation Office")
    assert not _counsellor_reads(people, household)
    record_create(
        key="consent",
        case=engagement_without_consent.case,
        by=people["caseworker"],
        data={
            "purpose": "Probation information",
            "recipient": probation,
            "categories": ["family_contact"],
            "given_on": timezone.localdate(),
        },
    )
    assert not _counsellor_reads(people, household)


def test_api_log_cannot_record_attendance_of_relatives_hidden_from_the_counsellor(people, engagement_without_consent):
    """Without a family-contact basis the page offers no relative to tick; the API must not accept
    the hidden relatives' ids either (processing without a basis, and an id oracle)."""
    session = fs.session_plan(
        engagement=engagement_without_consent,
        by=people["counsellor"],
        starts_at=timezone.now() - datetime.timedelta(hours=2),
        kind="family",
    )
    hidden = [m.pk for m in engagement_without_consent.members.all()]
    response = _api(people["counsellor"]).post(
        f"/api/v1/counselling-sessions/{session.pk}/log/",
        {"status": "attended", "duration_minutes": 30, "attendees": hidden},
        format="json",
    )
    assert response.status_code == 400
    assert not session.attendees.exists()


# --- Checked and fine (pass) ----------------------------------------------------------------


def test_other_engagements_counsellor_gets_404_everywhere(client, people, session, other_session):
    api = _api(people["counsellor2"])
    assert api.get(f"/api/v1/counselling-sessions/{session.pk}/").status_code == 404
    assert (
        api.post(f"/api/v1/counselling-sessions/{session.pk}/log/", {"status": "missed"}, format="json").status_code
        == 404
    )
    assert api.get(f"/api/v1/engagements/{session.engagement_id}/").status_code == 404
    assert (
        api.post(f"/api/v1/engagements/{session.engagement_id}/end/", {"reason": "x"}, format="json").status_code == 404
    )
    body = api.get("/api/v1/counselling-sessions/").content.decode()
    assert SECRET not in body
    assert SECRET2 in body
    client.force_login(people["counsellor2"])
    for url in (
        reverse("families-session", args=[session.pk]),
        reverse("families-session-log", args=[session.pk]),
        reverse("families-engagement", args=[session.engagement_id]),
        reverse("families-engagement-end", args=[session.engagement_id]),
        reverse("families-session-plan", args=[session.engagement_id]),
        reverse("families-support-new", args=[session.engagement_id]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (reverse("case-timeline", args=[session.case_id]), reverse("case-family", args=[session.case_id])):
        text = client.get(url).content.decode()
        assert SECRET not in text
        assert SUMMARY not in text


def test_log_response_and_form_rerender_show_only_own_notes(client, people, session):
    api = _api(people["counsellor"])
    r = api.post(f"/api/v1/counselling-sessions/{session.pk}/log/", {"status": "planned"}, format="json")
    assert r.status_code == 400
    assert SECRET not in r.content.decode()
    ok = api.post(f"/api/v1/counselling-sessions/{session.pk}/log/", {"status": "attended"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["confidential_notes"] == SECRET
    client.force_login(people["counsellor"])
    page = client.post(reverse("families-session-log", args=[session.pk]), {"status": "attended"})
    assert page.status_code == 400
    client.force_login(people["caseworker"])
    assert client.get(reverse("families-session-log", args=[session.pk])).status_code == 404
    assert SECRET not in client.get(reverse("case-documents", args=[session.case_id])).content.decode()


def test_family_members_api_create_is_one_answer_for_missing_and_foreign(people, active_case, household):
    other = _api(people["caseworker2"])
    a = other.post(
        "/api/v1/family-members/",
        {"case": active_case.pk, "relation": "father", "given_name": "a", "family_name": "b"},
        format="json",
    )
    b = other.post(
        "/api/v1/family-members/",
        {"case": 99999999, "relation": "father", "given_name": "a", "family_name": "b"},
        format="json",
    )
    assert a.status_code == b.status_code == 400
    assert a.json()["errors"] == b.json()["errors"]
    from tests.factories import CaseFactory

    atlantic = people["caseworker2"].membership.organisation
    atl = CaseFactory(organisation=atlantic, by=people["caseworker2"], lead=people["caseworker2"])
    # Atlantic's counsellor, engaged on Atlantic's case with the participant's consent, links relatives
    their_counsellor = User.objects.create_user("atl-counsellor", password="x-long-password-2026")
    Membership.objects.create(user=their_counsellor, organisation=atlantic, role=Role.COUNSELLOR)
    record_create(
        key="consent",
        case=atl,
        by=people["caseworker2"],
        data={"purpose": "Family", "categories": ["family_contact"], "given_on": timezone.localdate()},
    )
    fs.engagement_create(case=atl, by=people["caseworker2"], kind="legal", counsellors=[their_counsellor])
    other = _api(User.objects.select_related("membership").get(pk=their_counsellor.pk))
    c = other.post(
        "/api/v1/family-members/",
        {"case": atl.pk, "relation": "mother", "existing_member": household["mother"].pk},
        format="json",
    )
    d = other.post(
        "/api/v1/family-members/", {"case": atl.pk, "relation": "mother", "existing_member": 99999999}, format="json"
    )
    assert c.status_code == d.status_code == 400
    assert c.json()["errors"] == d.json()["errors"]


@pytest.mark.parametrize("amount", ["-1", "1e20", "99999999999", "NaN", "Infinity", "abc"])
def test_support_amounts_are_400(client, people, engagement, amount):
    client.force_login(people["counsellor"])
    r = client.post(
        reverse("families-support-new", args=[engagement.pk]),
        {"kind": "food", "amount": amount, "given_on": timezone.localdate().isoformat()},
    )
    assert r.status_code == 400


@pytest.mark.parametrize("name", ["caseworker2", "authority", "auditor", "admin", "mentor", "placement", "colleague"])
def test_outsiders_get_nothing(client, people, session, name):
    api = _api(people[name])
    for url in (
        "/api/v1/households/",
        "/api/v1/family-members/",
        "/api/v1/engagements/",
        "/api/v1/counselling-sessions/",
    ):
        assert api.get(url).json()["results"] == [], (name, url)
    client.force_login(people[name])
    for url in (
        reverse("case-family", args=[session.case_id]),
        reverse("families-session", args=[session.pk]),
        reverse("families-engagement", args=[session.engagement_id]),
        reverse("families-home"),
    ):
        assert client.get(url).status_code in (404, 302), (name, url)


def test_anonymous_gets_nothing(client, session):
    assert APIClient().get("/api/v1/counselling-sessions/").status_code in (401, 403)
    r = client.get(reverse("families-session", args=[session.pk]))
    assert r.status_code in (302, 404)


def test_withdrawal_hides_members_on_log_form_and_group_page(client, people, consent, household, engagement, session):
    record_update(key="consent", record=consent, by=people["caseworker"], data={"withdrawn_on": timezone.localdate()})
    client.force_login(people["counsellor"])
    for url in (
        reverse("families-session-log", args=[session.pk]),
        reverse("families-session-log-new", args=[engagement.pk]),
        reverse("families-engagement", args=[engagement.pk]),
        reverse("case-timeline", args=[engagement.case_id]),
        reverse("families-home"),
    ):
        assert MEMBER_NAME not in client.get(url).content.decode(), url


def test_ended_engagement_closes_everything(client, people, session):
    fs.engagement_end(engagement=session.engagement, by=people["caseworker"], reason="done")
    client.force_login(people["counsellor"])
    assert client.get(reverse("families-session", args=[session.pk])).status_code == 404
    assert client.get(reverse("case-family", args=[session.case_id])).status_code == 404
    assert _api(people["counsellor"]).get("/api/v1/counselling-sessions/").json()["results"] == []
