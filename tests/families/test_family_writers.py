"""Who records the family (review of issue 8): households and members are CW r, CO rw, MG r (handbook
§4). The lead or the manager opens an engagement, possibly before any relative is recorded; its
counsellors record the household and its members and add them to the engagement. A relative's own
consent stays consent metadata, recorded by the caseworkers and the manager."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casemgmt.casefile_services import record_update
from families import services as fs
from families.models import Engagement, FamilyMember
from tests.families.conftest import (
    MEMBER_NAME,
    ROLES,
    STAFF,
    api_for,
    expect_api,
    expect_page,
    login,
)

pytestmark = pytest.mark.django_db

COUNSELLORS = {"counsellor", "counsellor2"}


def _new_member(**extra) -> dict:
    return {"relation": "sibling", "given_name": "Nour", "family_name": "Elyazidi", "age": "15", **extra}


# --- Pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROLES)
def test_member_pages_are_the_counsellors(client, roles, household, engagement, other_engagement, name):
    """Add, link, household and edit: counsellors holding an open engagement on the case (the
    participant's consent holds here); caseworkers, the lead and the manager read only."""
    c = login(client, roles, name)
    case_id, mother = engagement.case_id, household["mother"]
    allowed = name in COUNSELLORS
    for url in (
        reverse("families-member-new", args=[case_id]),
        reverse("families-member-link", args=[case_id]),
        reverse("families-household-edit", args=[case_id]),
        reverse("families-member-edit", args=[case_id, mother.pk]),
    ):
        expect_page(c.get(url), name, allowed)
    before = FamilyMember.objects.count()
    expect_page(c.post(reverse("families-member-new", args=[case_id]), _new_member()), name, allowed, ok=302)
    assert FamilyMember.objects.count() == before + (1 if allowed else 0)
    response = c.post(
        reverse("families-member-edit", args=[case_id, mother.pk]),
        {"given_name": "CHANGED", "family_name": mother.family_name, "age": "61"},
    )
    expect_page(response, name, allowed, ok=302)
    mother.refresh_from_db()
    assert (mother.given_name == "CHANGED") == allowed
    response = c.post(reverse("families-household-edit", args=[case_id]), {"address": "NEW-ADDRESS"})
    expect_page(response, name, allowed, ok=302)


@pytest.mark.parametrize("name", ROLES)
def test_own_consent_page_is_the_caseworkers_and_the_managers(client, roles, household, engagement, name):
    c = login(client, roles, name)
    url = reverse("families-member-consent", args=[engagement.case_id, household["child"].pk])
    expect_page(c.get(url), name, name in STAFF)
    today = timezone.localdate().isoformat()
    expect_page(c.post(url, {"own_consent_given_on": today}), name, name in STAFF, ok=302)
    household["child"].refresh_from_db()
    assert (household["child"].own_consent_given_on is not None) == (name in STAFF)


@pytest.mark.parametrize("name", ["caseworker", "teammate", "manager", "counsellor"])
def test_case_page_offers_each_role_its_own_buttons(client, roles, household, engagement, name):
    body = login(client, roles, name).get(reverse("case-family", args=[engagement.case_id])).content.decode()
    assert MEMBER_NAME in body  # everybody here reads the members
    counsellor = name == "counsellor"
    case_id, mother = engagement.case_id, household["mother"].pk

    def link(view, *args) -> bool:
        return f'href="{reverse(view, args=[case_id, *args])}"' in body

    assert link("families-member-new") == counsellor
    assert link("families-household-edit") == counsellor
    assert link("families-member-link") == counsellor
    assert link("families-member-edit", mother) == counsellor
    assert link("families-member-consent", mother) == (not counsellor)
    assert link("families-engagement-new") == (not counsellor)


def test_counsellors_own_consent_fields_are_not_on_their_form(client, roles, household, engagement):
    client.force_login(roles["counsellor"])
    body = client.get(reverse("families-member-edit", args=[engagement.case_id, household["mother"].pk]))
    assert "own_consent_given_on" not in body.content.decode()
    body = client.get(reverse("families-member-new", args=[engagement.case_id]))
    assert "own_consent_given_on" not in body.content.decode()


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ROLES)
def test_api_member_writes(roles, household, engagement, other_engagement, name):
    api = api_for(roles, name)
    case_id, mother = engagement.case_id, household["mother"]
    created = api.post(
        "/api/v1/family-members/",
        {"case": case_id, "relation": "spouse", "given_name": "Amal", "family_name": "Elyazidi"},
        format="json",
    )
    if name == "anonymous":
        assert created.status_code == 401
    elif name in COUNSELLORS:
        assert created.status_code == 201
        assert created.json()["given_name"] == "Amal"
    elif name in STAFF:
        assert created.status_code == 404  # the case is theirs to read, not to write the family of
    else:
        assert created.status_code == 400  # a case out of scope reads like a missing one
        assert created.json()["errors"] == {"case": ["No such case."]}
    patched = api.patch(f"/api/v1/family-members/{mother.pk}/", {"phone": "+212 6 CHANGED"}, format="json")
    expect_api(patched, name, name in COUNSELLORS)
    mother.refresh_from_db()
    assert (mother.phone == "+212 6 CHANGED") == (name in COUNSELLORS)
    consent = api.post(
        f"/api/v1/family-members/{mother.pk}/own-consent/",
        {"own_consent_given_on": timezone.localdate().isoformat()},
        format="json",
    )
    expect_api(consent, name, name in STAFF)


def test_api_counsellor_cannot_patch_consents_and_bad_input_is_400(roles, household, engagement):
    api = api_for(roles, "counsellor")
    mother = household["mother"]
    sneaky = api.patch(
        f"/api/v1/family-members/{mother.pk}/",
        {"own_consent_given_on": timezone.localdate().isoformat(), "phone": "1"},
        format="json",
    )
    assert sneaky.status_code == 200  # the consent field is not part of the counsellor's update
    mother.refresh_from_db()
    assert mother.own_consent_given_on is None
    assert api.patch(f"/api/v1/family-members/{mother.pk}/", {"age": "old"}, format="json").status_code == 400
    future = api.patch(f"/api/v1/family-members/{mother.pk}/", {"date_of_birth": "2999-01-01"}, format="json")
    assert future.status_code == 400
    assert "date_of_birth" in future.json()["errors"]
    staff = api_for(roles, "caseworker")
    wrong = staff.post(
        f"/api/v1/family-members/{mother.pk}/own-consent/",
        {"own_consent_given_on": "2026-01-10", "own_consent_expires_on": "2025-01-01"},
        format="json",
    )
    assert wrong.status_code == 400
    assert "own_consent_expires_on" in wrong.json()["errors"]


# --- The flow: engagement first, family recorded by its counsellor --------------------------


def test_engagement_opened_before_the_family_then_the_counsellor_records_it(client, roles, active_case, consent):
    counsellor = roles["counsellor"]
    client.force_login(roles["caseworker"])
    response = client.post(
        reverse("families-engagement-new", args=[active_case.pk]),
        {"kind": "parent_coaching", "counsellors": [counsellor.pk], "started_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    engagement = Engagement.objects.get(case=active_case)
    assert not engagement.members.exists()
    client.force_login(counsellor)
    form = client.get(reverse("families-member-new", args=[active_case.pk])).content.decode()
    assert "Add to my engagements" in form
    response = client.post(
        reverse("families-member-new", args=[active_case.pk]),
        _new_member(relation="mother", given_name="Latifa", engagements=[engagement.pk]),
    )
    assert response.status_code == 302
    latifa = FamilyMember.objects.get(given_name="Latifa")
    assert list(engagement.members.all()) == [latifa]
    # a relative recorded without ticking the engagement is added from the engagement page
    client.post(reverse("families-member-new", args=[active_case.pk]), _new_member(given_name="Karim"))
    karim = FamilyMember.objects.get(given_name="Karim")
    page = client.get(reverse("families-engagement-members", args=[engagement.pk])).content.decode()
    assert "Karim" in page
    assert "Latifa" not in page  # already in it
    bad = client.post(reverse("families-engagement-members", args=[engagement.pk]), {})
    assert bad.status_code == 400
    ok = client.post(reverse("families-engagement-members", args=[engagement.pk]), {"members": [karim.pk]})
    assert ok.status_code == 302
    assert set(engagement.members.all()) == {latifa, karim}
    # the caseworker reads them, and can log nothing
    client.force_login(roles["caseworker"])
    body = client.get(reverse("families-engagement", args=[engagement.pk])).content.decode()
    assert "Latifa" in body
    assert "Karim" in body
    assert reverse("families-engagement-members", args=[engagement.pk]) not in body


def test_api_engagement_without_members_and_members_action(roles, active_case, consent):
    created = api_for(roles, "manager").post(
        "/api/v1/engagements/",
        {"case": active_case.pk, "kind": "legal", "counsellors": [roles["counsellor"].pk]},
        format="json",
    )
    assert created.status_code == 201
    engagement_id = created.json()["id"]
    api = api_for(roles, "counsellor")
    member = api.post(
        "/api/v1/family-members/",
        {
            "case": active_case.pk,
            "relation": "father",
            "given_name": "Driss",
            "family_name": "Elyazidi",
            "engagements": [engagement_id],
        },
        format="json",
    )
    assert member.status_code == 201
    assert api.get(f"/api/v1/engagements/{engagement_id}/").json()["members"] == [member.json()["id"]]
    other = api.post(
        "/api/v1/family-members/",
        {"case": active_case.pk, "relation": "sibling", "given_name": "Hind", "family_name": "E"},
        format="json",
    ).json()["id"]
    added = api.post(f"/api/v1/engagements/{engagement_id}/members/", {"members": [other]}, format="json")
    assert added.status_code == 200
    assert set(added.json()["members"]) == {member.json()["id"], other}
    assert (
        api.post(f"/api/v1/engagements/{engagement_id}/members/", {"members": [999999]}, format="json").status_code
        == 400
    )
    for name in ("caseworker", "teammate", "manager", "counsellor2", "caseworker2", "auditor"):
        response = api_for(roles, name).post(
            f"/api/v1/engagements/{engagement_id}/members/", {"members": [other]}, format="json"
        )
        assert response.status_code == 404, name
    foreign = api.post(
        "/api/v1/family-members/",
        {"case": active_case.pk, "relation": "sibling", "given_name": "X", "family_name": "Y", "engagements": [999]},
        format="json",
    )
    assert foreign.status_code == 400
    assert "engagements" in foreign.json()["errors"]


def test_a_relative_who_asks_on_their_own(client, roles, active_case, household):
    """No family-contact consent of the participant: the counsellor records the relative who came to
    them, but reads them only once the caseworker records the relative's own consent; nothing else of
    the family opens."""
    engagement = fs.engagement_create(
        case=active_case, by=roles["caseworker"], kind="psychological", counsellors=[roles["counsellor"]]
    )
    client.force_login(roles["counsellor"])
    assert client.get(reverse("families-member-link", args=[active_case.pk])).status_code == 404
    assert client.get(reverse("families-household-edit", args=[active_case.pk])).status_code == 404
    response = client.post(
        reverse("families-member-new", args=[active_case.pk]),
        _new_member(relation="father", given_name="Selfcomer", engagements=[engagement.pk]),
        follow=True,
    )
    assert "You will see their details once" in response.content.decode()
    father = FamilyMember.objects.get(given_name="Selfcomer")
    assert "Selfcomer" not in client.get(reverse("case-family", args=[active_case.pk])).content.decode()
    # the caseworker records his own consent
    client.force_login(roles["teammate"])
    response = client.post(
        reverse("families-member-consent", args=[active_case.pk, father.pk]),
        {"own_consent_given_on": (timezone.localdate() - datetime.timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 302
    client.force_login(roles["counsellor"])
    body = client.get(reverse("case-family", args=[active_case.pk])).content.decode()
    assert "Selfcomer" in body
    assert MEMBER_NAME not in body  # his consent opens him, not the rest of the family
    # the API answers a counsellor's new relative without a basis with its id only
    created = api_for(roles, "counsellor").post(
        "/api/v1/family-members/",
        {"case": active_case.pk, "relation": "sibling", "given_name": "Quiet", "family_name": "E"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json() == {"id": FamilyMember.objects.get(given_name="Quiet").pk}


def test_withdrawing_the_participants_consent_closes_the_counsellors_writes(client, roles, consent, engagement):
    record_update(key="consent", record=consent, by=roles["caseworker"], data={"withdrawn_on": timezone.localdate()})
    client.force_login(roles["counsellor"])
    assert client.get(reverse("families-household-edit", args=[engagement.case_id])).status_code == 404
    assert client.get(reverse("families-member-link", args=[engagement.case_id])).status_code == 404
    body = client.get(reverse("case-family", args=[engagement.case_id])).content.decode()
    assert MEMBER_NAME not in body


@pytest.mark.parametrize("name", ROLES)
def test_engagement_member_and_edit_pages(client, roles, household, engagement, other_engagement, name):
    """Adding relatives to an engagement: its counsellors. Step plan and status: its counsellors and
    those who open engagements (the lead, caseworkers on the team, the manager)."""
    c = login(client, roles, name)
    engagement.members.remove(household["child"])
    url = reverse("families-engagement-members", args=[engagement.pk])
    expect_page(c.get(url), name, name == "counsellor")
    expect_page(c.post(url, {"members": [household["child"].pk]}), name, name == "counsellor", ok=302)
    assert engagement.members.filter(pk=household["child"].pk).exists() == (name == "counsellor")
    edit = reverse("families-engagement-edit", args=[engagement.pk])
    allowed = name in STAFF | {"counsellor"}
    expect_page(c.get(edit), name, allowed)
    expect_page(c.post(edit, {"status": "active", "step_plan": "PLAN"}), name, allowed, ok=302)
