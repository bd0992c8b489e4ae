"""Holes found in review of the case core, kept shut."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, User
from casemgmt.models import AccessLog, Stage
from tests.factories import case_move_stage


@pytest.fixture
def api():
    return APIClient()


def test_api_team_add_refuses_people_the_policy_does_not_offer(api, demo, case):
    api.force_authenticate(demo["caseworker"])
    for username, role in [
        ("mentor", "mentor"),
        ("caseworker2", "caseworker"),
        ("counsellor", "counsellor"),
        ("placement", "caseworker"),
        ("authority", "caseworker"),
    ]:
        response = api.post(f"/api/v1/cases/{case.pk}/team/", {"user": demo[username].pk, "role": role})
        assert response.status_code == 400, username
        assert response.json()["errors"] == {"user": ["Not a valid choice for this case team."]}
    assert set(case.team.values_list("user__username", flat=True)) == {"caseworker", "placement"}


def test_a_changed_role_closes_the_team_row(client, demo, case):
    lead = demo["caseworker"]
    lead.membership.role = Role.PLACEMENT_OFFICER
    lead.membership.save()
    client.force_login(lead)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404


def test_moving_to_another_organisation_closes_the_team_row(client, demo, case):
    lead = demo["caseworker"]
    lead.membership.organisation = Organisation.objects.get(name="Atlantic Family Support Association")
    lead.membership.save()
    client.force_login(lead)
    assert client.get(reverse("case-detail", args=[case.pk])).status_code == 404


def test_stage_reasons_are_hidden_from_roles_without_referral_data(client, demo, case):
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="SECRET-REASON")
    client.force_login(demo["placement"])
    assert "SECRET-REASON" not in client.get(reverse("case-detail", args=[case.pk])).content.decode()
    client.force_login(demo["caseworker"])
    assert "SECRET-REASON" in client.get(reverse("case-detail", args=[case.pk])).content.decode()


def test_every_response_with_case_data_is_logged(client, api, demo, case):
    client.force_login(demo["caseworker"])
    client.get(reverse("case-edit", args=[case.pk]))
    api.force_authenticate(demo["caseworker"])
    api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "+212 600 111 222"}, format="json")
    api.post(f"/api/v1/cases/{case.pk}/transition/", {"to_stage": "screening", "reason": "x"})
    views = set(AccessLog.objects.values_list("view", flat=True))
    assert {"case-edit", "api-case-update", "api-case-transition"} <= views


def test_referral_source_filter_is_not_offered_to_roles_without_referral_data(client, api, demo, case):
    client.force_login(demo["placement"])
    response = client.get(reverse("case-list"), {"referral_source": "family"})
    assert "referral_source" not in response.context["form"].fields
    assert [c.pk for c, _ in response.context["rows"]] == [case.pk]  # the filter is ignored
    api.force_authenticate(demo["placement"])
    response = api.get("/api/v1/cases/", {"referral_source": "court_order"})
    assert response.status_code == 400


@pytest.mark.parametrize("body", [[{"phone": "1"}], 5, "text"])
def test_patch_with_a_body_that_is_not_an_object_is_400(api, demo, case, body):
    api.force_authenticate(demo["caseworker"])
    assert api.patch(f"/api/v1/cases/{case.pk}/", body, format="json").status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/participants/abc/", "/api/v1/cases/abc/", "/api/v1/cases/1.5/"])
def test_non_numeric_ids_are_404(api, demo, url):
    api.force_authenticate(demo["caseworker"])
    assert api.get(url).status_code == 404


def test_access_log_page_keeps_own_staff_reads(client, demo, case):
    from casemgmt.services import access_log_record

    access_log_record(user=demo["caseworker"], case=case, channel="ui", view="x", shown=frozenset())
    client.force_login(demo["auditor"])
    assert len(client.get(reverse("access-log")).context["page"].object_list) == 1


def test_an_inactive_user_sees_nothing(api, demo, case):
    user = demo["caseworker"]
    user.is_active = False
    user.save()
    api.force_authenticate(user)
    assert api.get("/api/v1/cases/").json()["results"] == []


def test_a_user_without_membership_sees_nothing(api, case):
    loner = User.objects.create_user("loner", password="x-long-password-2026")
    api.force_authenticate(loner)
    assert api.get("/api/v1/cases/").json()["results"] == []
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert not Membership.objects.filter(user=loner).exists()
