"""Changing the counsellors of an open engagement (review of issue 8): the lead and the manager add or
remove; the team rows follow; an added counsellor reads the engagement's confidential notes (a
hand-over inside the engagement), a removed one loses them on the next request; one stays."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from casemgmt import followups
from casemgmt.models import CaseTeamMember, FollowUp
from families import access as fa
from families import services as fs
from tests.families.conftest import ROLES, SECRET, api_for, expect_api, expect_page, login

pytestmark = pytest.mark.django_db

CHANGERS = {"caseworker", "manager"}  # the lead and the manager


def _on_team(case, user) -> bool:
    return CaseTeamMember.objects.filter(case=case, user=user, role="counsellor").exists()


@pytest.mark.parametrize("name", ROLES)
def test_counsellors_page(client, roles, session, other_engagement, name):
    c = login(client, roles, name)
    url = reverse("families-engagement-counsellors", args=[session.engagement_id])
    expect_page(c.get(url), name, name in CHANGERS)
    response = c.post(url, {"add": [roles["counsellor3"].pk]})
    expect_page(response, name, name in CHANGERS, ok=302)
    assert _on_team(session.case, roles["counsellor3"]) == (name in CHANGERS)


@pytest.mark.parametrize("name", ROLES)
def test_counsellors_api(roles, session, other_engagement, name):
    response = api_for(roles, name).post(
        f"/api/v1/engagements/{session.engagement_id}/counsellors/", {"add": [roles["counsellor3"].pk]}, format="json"
    )
    expect_api(response, name, name in CHANGERS)
    if name in CHANGERS:
        assert set(response.json()["counsellors"]) == {roles["counsellor"].pk, roles["counsellor3"].pk}


@pytest.mark.parametrize("name", ["caseworker", "teammate", "manager", "counsellor"])
def test_the_button_shows_for_the_lead_and_the_manager(client, roles, session, name):
    body = login(client, roles, name).get(reverse("families-engagement", args=[session.engagement_id]))
    url = reverse("families-engagement-counsellors", args=[session.engagement_id])
    assert (url in body.content.decode()) == (name in CHANGERS)


def test_a_hand_over_moves_the_notes_and_the_team_rows_at_once(client, roles, session):
    engagement, case = session.engagement, session.case
    old, new = roles["counsellor"], roles["counsellor3"]
    client.force_login(roles["manager"])
    response = client.post(
        reverse("families-engagement-counsellors", args=[engagement.pk]), {"add": [new.pk], "remove": [old.pk]}
    )
    assert response.status_code == 302
    assert _on_team(case, new)
    assert not _on_team(case, old)
    # the new counsellor reads the engagement and its notes, on pages and through the API
    assert fa.confidential_note_for(new, session).text == SECRET
    client.force_login(new)
    assert SECRET in client.get(reverse("families-session", args=[session.pk])).content.decode()
    assert api_for(roles, "counsellor3").get(f"/api/v1/counselling-sessions/{session.pk}/").json()[
        "confidential_notes"
    ] == (SECRET)
    # the old one loses everything on the next request
    client.force_login(old)
    assert client.get(reverse("families-session", args=[session.pk])).status_code == 404
    assert client.get(reverse("case-family", args=[case.pk])).status_code == 404
    old_api = api_for(roles, "counsellor")
    assert old_api.get(f"/api/v1/counselling-sessions/{session.pk}/").status_code == 404
    assert SECRET not in old_api.get("/api/v1/counselling-sessions/").content.decode()
    assert fa.confidential_note_for(old, session) is None
    # and the history says who was assigned and who removed
    events = apps.get_model("families", "EngagementCounsellorEvent").objects.filter(engagement_id=engagement.pk)
    assert set(events.values_list("pgh_label", "counsellor_id")) == {
        ("insert", old.pk),
        ("insert", new.pk),
        ("delete", old.pk),
    }


def test_a_removed_counsellor_with_another_open_engagement_stays_on_the_team(roles, session, other_session):
    """counsellor2 holds the other engagement; added to this one and removed again, they keep the case
    through their own engagement but lose this engagement's notes."""
    engagement = session.engagement
    fs.engagement_counsellors_change(engagement=engagement, by=roles["caseworker"], add=[roles["counsellor2"]])
    assert fa.confidential_note_for(roles["counsellor2"], session).text == SECRET
    fs.engagement_counsellors_change(engagement=engagement, by=roles["caseworker"], remove=[roles["counsellor2"]])
    assert _on_team(session.case, roles["counsellor2"])
    assert fa.confidential_note_for(roles["counsellor2"], session) is None
    assert fa.confidential_note_for(roles["counsellor2"], other_session) is not None


def test_one_counsellor_stays_and_errors_are_field_errors(client, roles, session):
    engagement = session.engagement
    api = api_for(roles, "caseworker")
    url = f"/api/v1/engagements/{engagement.pk}/counsellors/"
    last = api.post(url, {"remove": [roles["counsellor"].pk]}, format="json")
    assert last.status_code == 400
    assert last.json()["errors"] == {"remove": ["One counsellor at least stays on the engagement."]}
    assert api.post(url, {}, format="json").status_code == 400
    assert api.post(url, {"add": [roles["caseworker"].pk]}, format="json").status_code == 400  # not a counsellor
    assert api.post(url, {"add": [roles["counsellor"].pk]}, format="json").status_code == 400  # holds it
    assert api.post(url, {"remove": [roles["counsellor3"].pk]}, format="json").status_code == 400  # does not
    assert api.post(url, {"add": "everyone"}, format="json").status_code == 400
    other_ngo = api.post(url, {"add": [roles["caseworker2"].pk]}, format="json")
    assert other_ngo.status_code == 400
    client.force_login(roles["caseworker"])
    page = client.post(
        reverse("families-engagement-counsellors", args=[engagement.pk]), {"remove": [roles["counsellor"].pk]}
    )
    assert page.status_code == 400
    assert "One counsellor at least stays on the engagement." in page.content.decode()
    assert _on_team(session.case, roles["counsellor"])


def test_an_ended_engagement_keeps_its_counsellors(client, roles, session):
    fs.engagement_end(engagement=session.engagement, by=roles["caseworker"], reason="done")
    client.force_login(roles["caseworker"])
    assert client.get(reverse("families-engagement-counsellors", args=[session.engagement_id])).status_code == 404


def test_the_removed_counsellors_reminder_passes_to_one_who_stays(roles, engagement):
    old, new = roles["counsellor"], roles["counsellor3"]
    followups.schedule(
        case=engagement.case,
        kind="family_gap",
        due_on=timezone.localdate() - datetime.timedelta(days=1),
        source=engagement,
        holder=old,
        remind=followups.Remind.HOLDER,
    )
    fs.engagement_counsellors_change(engagement=engagement, by=roles["manager"], add=[new], remove=[old])
    assert FollowUp.objects.get(kind="family_gap").assignee == new
