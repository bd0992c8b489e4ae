"""Professional secrecy, the family-contact basis and group-session privacy.

A marker in the confidential notes is searched for in every page, API answer, history view and
timeline each role can reach: only the counsellors of that engagement ever receive it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt.casefile_services import record_update
from families import services as fs
from families.models import CounsellingConfidentialNote, CounsellingSession
from tests.families.conftest import MEMBER_NAME, SECRET, SUMMARY, log, make_counsellor

pytestmark = pytest.mark.django_db

NON_COUNSELLORS = [
    "caseworker",
    "colleague",
    "manager",
    "mentor",
    "placement",
    "caseworker2",
    "authority",
    "auditor",
    "admin",
    "counsellor2",
    "counsellor3",
]


def _pages(session) -> list[str]:
    case_id, engagement_id = session.case_id, session.engagement_id
    return [
        reverse("home"),
        reverse("case-list"),
        reverse("case-detail", args=[case_id]),
        reverse("case-history", args=[case_id]),
        reverse("case-timeline", args=[case_id]),
        reverse("case-family", args=[case_id]),
        reverse("families-engagement", args=[engagement_id]),
        reverse("families-session", args=[session.pk]),
        reverse("families-session-log", args=[session.pk]),
        reverse("families-home"),
        reverse("mentoring-home"),
        reverse("access-log"),
        reverse("casefile-list", args=[case_id, "consents"]),
    ]


def _api_urls(session) -> list[str]:
    case_id = session.case_id
    return [
        "/api/v1/cases/",
        f"/api/v1/cases/{case_id}/",
        f"/api/v1/cases/{case_id}/timeline/",
        "/api/v1/households/",
        "/api/v1/family-members/",
        "/api/v1/engagements/",
        f"/api/v1/engagements/{session.engagement_id}/",
        "/api/v1/counselling-sessions/",
        f"/api/v1/counselling-sessions/{session.pk}/",
        f"/api/v1/counselling-sessions/?case={case_id}",
        "/api/v1/support-referrals/",
        "/api/v1/consents/",
        "/api/v1/schema/",
    ]


@pytest.mark.parametrize("name", NON_COUNSELLORS)
def test_the_confidential_marker_reaches_no_one_else(client, people, session, other_session, name):
    # a second version of the session and of the notes, so the history has something to show
    fs.session_log(
        by=people["counsellor"], session=session, data={"summary": SUMMARY + " v2"}, confidential_notes=SECRET + " v2"
    )
    client.force_login(people[name])
    api = APIClient()
    api.force_authenticate(people[name])
    seen_summary = False
    for url in _pages(session):
        body = client.get(url).content.decode()
        assert SECRET not in body, (name, url)
        seen_summary |= SUMMARY in body
    for url in _api_urls(session):
        body = api.get(url).content.decode()
        assert SECRET not in body, (name, url)
        seen_summary |= SUMMARY in body
    assert seen_summary == (name in {"caseworker", "manager"})


def test_the_engagements_counsellor_does_read_the_marker_on_page_and_api(client, people, session):
    client.force_login(people["counsellor"])
    assert SECRET in client.get(reverse("families-session", args=[session.pk])).content.decode()
    assert SECRET in client.get(reverse("families-session-log", args=[session.pk])).content.decode()
    api = APIClient()
    api.force_authenticate(people["counsellor"])
    assert api.get(f"/api/v1/counselling-sessions/{session.pk}/").json()["confidential_notes"] == SECRET


@pytest.mark.parametrize("name", ["caseworker", "manager", "auditor"])
def test_history_shows_sessions_but_never_notes(client, people, session, name):
    fs.session_log(
        by=people["counsellor"], session=session, data={"summary": "second"}, confidential_notes=SECRET + "2"
    )
    client.force_login(people[name])
    response = client.get(reverse("case-history", args=[session.case_id]))
    body = response.content.decode()
    assert SECRET not in body
    if response.status_code == 200:
        assert "second" in body


def test_timeline_carries_dates_and_types_only(people, session):
    api = APIClient()
    api.force_authenticate(people["caseworker"])
    events = api.get(f"/api/v1/cases/{session.case_id}/timeline/").json()["results"]
    counselling = [e for e in events if e["kind"] == "counselling"]
    assert len(counselling) == 1
    assert "Family session" in counselling[0]["title"]
    body = str(counselling)
    assert SUMMARY not in body
    assert SECRET not in body
    assert MEMBER_NAME not in body


def test_nothing_in_the_admin_or_the_schema_exposes_the_notes(client, superuser, session):
    from django.contrib import admin

    client.force_login(superuser)
    assert CounsellingConfidentialNote not in admin.site._registry
    schema = client.get("/api/v1/schema/").content.decode()
    assert "CounsellingConfidentialNote" not in schema
    assert "confidential_notes" in schema  # only in the own-session serializer and the log body
    # a superuser opens no case content anywhere
    assert client.get(reverse("families-session", args=[session.pk])).status_code == 404


# --- Family-contact basis --------------------------------------------------------------------


def _counsellor_sees_member(people, household, name="counsellor"):
    api = APIClient()
    api.force_authenticate(people[name])
    return api.get(f"/api/v1/family-members/{household['mother'].pk}/").status_code == 200


def test_withdrawing_the_family_contact_consent_hides_members_on_the_next_request(
    client, people, consent, household, session
):
    fs.household_update(case=session.case, by=people["caseworker"], address="HOUSEHOLD-ADDRESS-7", situation="")
    client.force_login(people["counsellor"])
    url = reverse("case-family", args=[session.case_id])
    assert MEMBER_NAME in client.get(url).content.decode()
    assert "HOUSEHOLD-ADDRESS-7" in client.get(url).content.decode()
    assert _counsellor_sees_member(people, household)

    record_update(key="consent", record=consent, by=people["caseworker"], data={"withdrawn_on": timezone.localdate()})

    body = client.get(url).content.decode()
    assert MEMBER_NAME not in body
    assert "2 family members" in body  # the household's existence and size, not its members
    assert not _counsellor_sees_member(people, household)
    api = APIClient()
    api.force_authenticate(people["counsellor"])
    households = api.get("/api/v1/households/").json()["results"]
    assert households[0]["member_count"] == 2
    assert households[0]["address"] == ""
    assert "HOUSEHOLD-ADDRESS-7" not in body
    assert households[0]["members"] == []
    assert api.get("/api/v1/family-members/").json()["results"] == []
    engagement = api.get(f"/api/v1/engagements/{session.engagement_id}/").json()
    assert engagement["members"] == []
    assert api.get(f"/api/v1/counselling-sessions/{session.pk}/").json()["attendees"] == []
    session_page = client.get(reverse("families-session", args=[session.pk])).content.decode()
    assert MEMBER_NAME not in session_page
    # the caseworkers read the members regardless
    client.force_login(people["caseworker"])
    assert MEMBER_NAME in client.get(url).content.decode()


def test_an_expired_consent_counts_as_none(people, consent, household, engagement):
    consent.given_on = timezone.localdate() - datetime.timedelta(days=30)
    consent.expires_on = timezone.localdate() - datetime.timedelta(days=1)
    consent.save()
    assert not _counsellor_sees_member(people, household)


def test_a_relatives_own_consent_opens_that_relative_only(people, consent, household, engagement):
    record_update(key="consent", record=consent, by=people["caseworker"], data={"withdrawn_on": timezone.localdate()})
    fs.member_update(
        member=household["mother"],
        by=people["caseworker"],
        data={"own_consent_given_on": timezone.localdate() - datetime.timedelta(days=2)},
    )
    assert _counsellor_sees_member(people, household)
    api = APIClient()
    api.force_authenticate(people["counsellor"])
    assert api.get(f"/api/v1/family-members/{household['child'].pk}/").status_code == 404
    fs.member_update(
        member=household["mother"], by=people["caseworker"], data={"own_consent_withdrawn_on": timezone.localdate()}
    )
    assert not _counsellor_sees_member(people, household)


def test_one_relative_serves_two_siblings_cases(demo, people, household, active_case):
    """The mother of two participants is one row, linked to both households."""
    from tests.factories import northern_case

    sibling_case = northern_case(demo)
    link = fs.member_add(case=sibling_case, by=demo["caseworker"], relation="mother", member=household["mother"])
    assert link.member_id == household["mother"].pk
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    results = api.get("/api/v1/households/").json()["results"]
    assert sorted(r["case"] for r in results) == sorted([active_case.pk, sibling_case.pk])
    assert all(household["mother"].pk in [m["member"] for m in r["members"]] for r in results)
    # another NGO's case cannot take this relative
    other = people["caseworker2"]
    from tests.factories import CaseFactory

    atlantic = CaseFactory(organisation=other.membership.organisation, by=other, lead=other)
    with pytest.raises(Exception, match="another organisation"):
        fs.member_add(case=atlantic, by=other, relation="mother", member=household["mother"])


# --- Group sessions --------------------------------------------------------------------------


def test_group_session_each_family_sees_its_own_attendance_only(client, demo, people, engagement, session):
    from tests.factories import northern_case

    other_case = northern_case(demo, team=[])
    other_member = fs.member_add(
        case=other_case,
        by=demo["caseworker"],
        relation="father",
        data={"given_name": "OTHERFAMILY-NAME", "family_name": "Zeroual"},
    ).member
    from casemgmt.casefile_services import record_create

    record_create(
        key="consent",
        case=other_case,
        by=demo["caseworker"],
        data={"purpose": "Family", "categories": ["family_contact"], "given_on": timezone.localdate()},
    )
    other_engagement = fs.engagement_create(
        case=other_case,
        by=demo["caseworker"],
        kind="parent_coaching",
        members=[other_member],
        counsellors=[demo["counsellor"]],
    )
    group = fs.group_session_create(
        by=demo["counsellor"],
        title="Parent network evening",
        starts_at=timezone.now() - datetime.timedelta(hours=3),
        engagements=[engagement, other_engagement],
    )
    rows = {s.case_id: s for s in CounsellingSession.objects.filter(group_session=group)}
    assert set(rows) == {engagement.case_id, other_case.pk}
    fs.session_log(
        by=demo["counsellor"],
        session=rows[other_case.pk],
        data={"status": "attended", "duration_minutes": 90, "summary": "OTHER-FAMILY-SUMMARY"},
        attendees=[other_member],
    )
    fs.session_log(
        by=demo["counsellor"],
        session=rows[engagement.case_id],
        data={"status": "missed"},
        attendees=[],
    )
    other_code = other_case.participant.case_code
    # The first family's caseworker and the manager: nothing of the other family on any page or answer
    for name in ("caseworker", "manager"):
        client.force_login(demo[name])
        api = APIClient()
        api.force_authenticate(demo[name])
        bodies = [
            client.get(reverse("case-family", args=[engagement.case_id])).content.decode(),
            client.get(reverse("families-session", args=[rows[engagement.case_id].pk])).content.decode(),
            client.get(reverse("families-engagement", args=[engagement.pk])).content.decode(),
            api.get(f"/api/v1/counselling-sessions/{rows[engagement.case_id].pk}/").content.decode(),
            api.get(f"/api/v1/counselling-sessions/?case={engagement.case_id}").content.decode(),
        ]
        for body in bodies:
            assert "OTHERFAMILY-NAME" not in body
            assert "OTHER-FAMILY-SUMMARY" not in body
            assert other_code not in body
        assert "Parent network evening" in bodies[1]
        assert "Missed" in bodies[1]
    # the group page is the facilitator's, and nobody else's
    client.force_login(demo["counsellor"])
    assert client.get(reverse("families-group", args=[group.pk])).status_code == 200
    for name in ("caseworker", "manager", "colleague"):
        client.force_login(demo[name])
        assert client.get(reverse("families-group", args=[group.pk])).status_code == 404
    client.force_login(people["counsellor2"])
    assert client.get(reverse("families-group", args=[group.pk])).status_code == 404


def test_second_counsellor_of_the_group_does_not_see_another_familys_row(people, engagement):
    """A colleague counsellor who holds none of the group's engagements reaches none of its rows."""
    other = make_counsellor(people, "counsellor4")
    api = APIClient()
    api.force_authenticate(other)
    assert api.get("/api/v1/counselling-sessions/").json()["results"] == []
    log(engagement, people["counsellor"])
    assert api.get("/api/v1/counselling-sessions/").json()["results"] == []


def test_a_transfer_closes_the_case_to_the_sending_ngos_counsellor(client, people, session):
    """Counsellors are NGO staff: their team rows open only their own organisation's cases."""
    from accounts.models import Membership, Organisation, Role, User
    from casemgmt import casefile_services as cs

    atlantic = Organisation.objects.get(name="Atlantic Family Support Association")
    receiver = User.objects.create_user("atl-manager-fam", password="x-long-password-2026")
    Membership.objects.create(user=receiver, organisation=atlantic, role=Role.MANAGER)
    consent = cs.record_create(
        key="consent",
        case=session.case,
        by=people["caseworker"],
        data={
            "purpose": "Transfer",
            "recipient": atlantic,
            "categories": ["identity"],
            "given_on": timezone.localdate() - datetime.timedelta(days=1),
        },
    )
    transfer = cs.transfer_request(
        case=session.case, by=people["caseworker"], to_organisation=atlantic, consent=consent, reason="moved"
    )
    cs.transfer_decide(transfer=transfer, by=receiver, accept=True)
    client.force_login(people["counsellor"])
    assert client.get(reverse("case-family", args=[session.case_id])).status_code == 404
    assert client.get(reverse("families-session", args=[session.pk])).status_code == 404
    api = APIClient()
    api.force_authenticate(people["counsellor"])
    assert api.get("/api/v1/counselling-sessions/").json()["results"] == []
    assert api.get("/api/v1/family-members/").json()["results"] == []
    # the receiving manager reads the case's family record, never the notes
    client.force_login(receiver)
    body = client.get(reverse("families-session", args=[session.pk])).content.decode()
    assert SUMMARY in body
    assert SECRET not in body
