"""Support referrals' status and outcome (review of issue 8): the counsellors of the referral's open
engagement record them, on a page and through PATCH /api/v1/support-referrals/<id>/; caseworkers and
managers read. The status moves forward only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from families import services as fs
from families.models import REFERRAL_TRANSITIONS, ReferralStatus, SupportReferral
from tests.families.conftest import ROLES, STAFF, api_for, expect_api, expect_page, login

pytestmark = pytest.mark.django_db


def _referral(engagement, by, status="referred", provider="District school"):
    return fs.referral_create(
        engagement=engagement,
        by=by,
        data={"service": "schooling", "provider": provider, "referred_on": timezone.localdate(), "status": status},
    )


@pytest.fixture
def referral(roles, engagement):
    return _referral(engagement, roles["counsellor"])


@pytest.mark.parametrize("name", ROLES)
def test_referral_page(client, roles, referral, other_engagement, name):
    c = login(client, roles, name)
    url = reverse("families-referral-edit", args=[referral.pk])
    expect_page(c.get(url), name, name == "counsellor")
    response = c.post(url, {"status": "in_progress", "outcome": "Enrolled from September"})
    expect_page(response, name, name == "counsellor", ok=302)
    referral.refresh_from_db()
    assert (referral.status == "in_progress") == (name == "counsellor")


@pytest.mark.parametrize("name", ROLES)
def test_referral_api(roles, referral, other_engagement, name):
    api = api_for(roles, name)
    reads = name in STAFF | {"counsellor"}
    listing = api.get("/api/v1/support-referrals/")
    if name == "anonymous":
        assert listing.status_code == 401
    else:
        assert [r["id"] for r in listing.json()["results"]] == ([referral.pk] if reads else [])
    expect_api(api.get(f"/api/v1/support-referrals/{referral.pk}/"), name, reads)
    patched = api.patch(
        f"/api/v1/support-referrals/{referral.pk}/", {"status": "completed", "outcome": "Enrolled"}, format="json"
    )
    # caseworkers and managers read it but do not write it: 404, as the core's record endpoints answer
    expect_api(patched, name, name == "counsellor")
    referral.refresh_from_db()
    assert (referral.status == "completed") == (name == "counsellor")
    if name == "counsellor":
        assert patched.json()["outcome"] == "Enrolled"


def test_caseworkers_see_the_outcome_and_no_update_link(client, roles, referral):
    fs.referral_update(referral=referral, by=roles["counsellor"], status="completed", outcome="OUTCOME-TEXT")
    client.force_login(roles["caseworker"])
    body = client.get(reverse("case-family", args=[referral.case_id])).content.decode()
    assert "OUTCOME-TEXT" in body
    assert reverse("families-referral-edit", args=[referral.pk]) not in body
    client.force_login(roles["counsellor"])
    body = client.get(reverse("families-engagement", args=[referral.engagement_id])).content.decode()
    assert reverse("families-referral-edit", args=[referral.pk]) in body


@pytest.mark.parametrize("start", ReferralStatus.values)
@pytest.mark.parametrize("target", ReferralStatus.values)
def test_transitions(roles, engagement, start, target):
    referral = _referral(engagement, roles["counsellor"], status=start)
    allowed = target == start or target in REFERRAL_TRANSITIONS[start]
    api = api_for(roles, "counsellor")
    response = api.patch(f"/api/v1/support-referrals/{referral.pk}/", {"status": target}, format="json")
    referral.refresh_from_db()
    if allowed:
        assert response.status_code == 200
        assert referral.status == target
    else:
        assert response.status_code == 400
        assert "record a new referral instead" in response.json()["errors"]["status"][0]
        assert referral.status == start


def test_the_lifecycle_table():
    assert {
        "referred": {"in_progress", "completed", "declined"},
        "in_progress": {"completed", "declined"},
        "completed": set(),
        "declined": set(),
    } == REFERRAL_TRANSITIONS


def test_page_errors_are_field_errors(client, roles, referral):
    client.force_login(roles["counsellor"])
    url = reverse("families-referral-edit", args=[referral.pk])
    assert client.post(url, {"status": "completed", "outcome": "Done"}).status_code == 302
    back = client.post(url, {"status": "referred", "outcome": "Done"})
    assert back.status_code == 400
    body = back.content.decode()
    assert "A referral that is completed cannot become referred" in body
    assert "is-invalid" in body
    nonsense = client.post(url, {"status": "lost", "outcome": ""})
    assert nonsense.status_code == 400
    too_long = client.post(url, {"status": "completed", "outcome": "x" * 5000})
    assert too_long.status_code == 400


@pytest.mark.parametrize(
    "body", [{"status": "lost"}, {"outcome": "x" * 5000}, {"status": None}, ["not", "an", "object"], {"status": 3}]
)
def test_api_bad_input_is_400(roles, referral, body):
    response = api_for(roles, "counsellor").patch(f"/api/v1/support-referrals/{referral.pk}/", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")


def test_an_ended_engagements_referrals_are_read_only(client, roles, referral):
    fs.engagement_end(engagement=referral.engagement, by=roles["caseworker"], reason="done")
    client.force_login(roles["caseworker"])
    assert client.get(reverse("families-referral-edit", args=[referral.pk])).status_code == 404
    # the counsellor no longer sees the case at all
    response = api_for(roles, "counsellor").patch(
        f"/api/v1/support-referrals/{referral.pk}/", {"status": "completed"}, format="json"
    )
    assert response.status_code == 404


def test_filters_and_bad_filters(roles, referral):
    api = api_for(roles, "manager")
    assert api.get("/api/v1/support-referrals/", {"status": "referred"}).json()["results"][0]["id"] == referral.pk
    assert api.get("/api/v1/support-referrals/", {"status": "completed"}).json()["results"] == []
    assert api.get("/api/v1/support-referrals/", {"case": referral.case_id}).json()["results"]
    assert api.get("/api/v1/support-referrals/", {"engagement": referral.engagement_id}).json()["results"]
    assert api.get("/api/v1/support-referrals/?status=nope").status_code == 400
    assert api.get("/api/v1/support-referrals/?case=x").status_code == 400


def test_referral_list_costs_the_same_for_few_or_many(roles, engagement, django_assert_num_queries):
    _referral(engagement, roles["counsellor"])
    api = api_for(roles, "manager")
    # session-less API: page of referrals (the manager's visibility in the same SQL), access-log insert
    with django_assert_num_queries(2):
        assert api.get("/api/v1/support-referrals/").status_code == 200
    for i in range(12):
        _referral(engagement, roles["counsellor"], provider=f"P{i}")
    with django_assert_num_queries(2):
        assert len(api.get("/api/v1/support-referrals/").json()["results"]) == 13
    assert SupportReferral.objects.count() == 13
