"""Acting on follow-ups: who sees and does what, in the pages and the API; the bell; the overdue filter."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import followups
from casemgmt.followup_models import FollowUp, Notification
from casemgmt.services import team_member_add
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def due(demo):
    case = CaseFactory(
        organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
    )
    team_member_add(case=case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    row = FollowUp.objects.get(case=case, kind="first_contact")
    row.due_on = TODAY() - datetime.timedelta(days=2)
    row.save()
    return row


EVERYONE = [
    "caseworker",
    "colleague",
    "manager",
    "placement",
    "counsellor",
    "auditor",
    "admin",
    "caseworker2",
    "mentor",
    "authority",
]


@pytest.mark.parametrize("name", EVERYONE)
def test_who_sees_a_follow_up(client, demo, due, name):
    client.force_login(demo[name])
    sees = name in {"caseworker", "colleague", "manager"}
    assert client.get(reverse("follow-up-detail", args=[due.pk])).status_code == (200 if sees else 404)
    panel = client.get(reverse("case-follow-ups", args=[due.case_id]))
    assert panel.status_code == (200 if sees else 404)
    api = APIClient()
    api.force_authenticate(demo[name])
    assert api.get(f"/api/v1/follow-ups/{due.pk}/").status_code == (200 if sees else 404)
    assert [r["id"] for r in api.get("/api/v1/follow-ups/").json()["results"]] == (
        [due.pk] if name == "caseworker" else []
    )


@pytest.mark.parametrize(("name", "may"), [("caseworker", True), ("manager", True), ("colleague", False)])
def test_who_completes_and_snoozes(client, demo, due, name, may):
    client.force_login(demo[name])
    response = client.post(reverse("follow-up-act", args=[due.pk, "snooze"]), {"snooze-until": "", "snooze-reason": ""})
    assert response.status_code == (400 if may else 404)
    until = (TODAY() + datetime.timedelta(days=5)).isoformat()
    response = client.post(
        reverse("follow-up-act", args=[due.pk, "snooze"]), {"snooze-until": until, "snooze-reason": "on leave"}
    )
    due.refresh_from_db()
    assert (due.status == "snoozed") == may
    if may:
        assert due.snoozed_until.isoformat() == until
        client.post(reverse("follow-up-act", args=[due.pk, "complete"]), {"complete-note": "called"})
        due.refresh_from_db()
        assert due.status == "done"
        assert due.completed_by == demo[name]


def test_the_lead_hands_a_follow_up_over_to_a_team_member_only(client, demo, due):
    client.force_login(demo["caseworker"])
    outsider = client.post(reverse("follow-up-act", args=[due.pk, "reassign"]), {"reassign-to": demo["caseworker2"].pk})
    assert outsider.status_code == 400
    client.post(reverse("follow-up-act", args=[due.pk, "reassign"]), {"reassign-to": demo["colleague"].pk})
    due.refresh_from_db()
    assert due.assignee == demo["colleague"]
    client.force_login(demo["colleague"])  # not the lead: may not hand it on
    assert (
        client.post(
            reverse("follow-up-act", args=[due.pk, "reassign"]), {"reassign-to": demo["caseworker"].pk}
        ).status_code
        == 400
    )


def test_snoozed_comes_back_when_the_snooze_ends(demo, due):
    from casemgmt import followup_services

    followup_services.followup_snooze(
        follow_up=due, by=demo["caseworker"], until=TODAY() + datetime.timedelta(days=3), reason="x"
    )
    assert followups.deliver_due() == 0
    assert followup_services.wake_snoozed(today=TODAY() + datetime.timedelta(days=3)) == 1
    assert followups.deliver_due(today=TODAY() + datetime.timedelta(days=3)) == 1


def test_api_actions_and_errors(demo, due):
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    bad = api.post(f"/api/v1/follow-ups/{due.pk}/snooze/", {"until": TODAY().isoformat(), "reason": ""}, format="json")
    assert bad.status_code == 400
    assert "reason" in bad.json()["errors"]
    today = api.post(
        f"/api/v1/follow-ups/{due.pk}/snooze/", {"until": TODAY().isoformat(), "reason": "x"}, format="json"
    )
    assert "until" in today.json()["errors"]
    assert api.get("/api/v1/follow-ups/", {"due_before": "nope"}).status_code == 400
    assert api.get("/api/v1/follow-ups/", {"status": "pending", "due_before": TODAY().isoformat()}).json()["results"]
    done = api.post(f"/api/v1/follow-ups/{due.pk}/complete/", {"note": "ok"}, format="json")
    assert done.json()["status"] == "done"
    assert api.post(f"/api/v1/follow-ups/{due.pk}/complete/", {}, format="json").status_code == 400  # already done
    other = APIClient()
    other.force_authenticate(demo["colleague"])
    assert other.post(f"/api/v1/follow-ups/{due.pk}/snooze/", {}, format="json").status_code == 404


def test_the_bell_counts_unread_and_marks_read(client, demo, due):
    followups.deliver_due()
    client.force_login(demo["caseworker"])
    assert ">1<" in client.get(reverse("notifications-count")).content.decode().replace(" ", "").replace("\n", "")
    page = client.get(reverse("notifications")).content.decode()
    assert due.case.participant.case_code in page
    client.post(reverse("notifications-read"))
    assert not Notification.objects.filter(user=demo["caseworker"], read_at__isnull=True).exists()
    client.force_login(demo["colleague"])
    assert "badge" not in client.get(reverse("notifications-count")).content.decode()


def test_home_panel_and_overdue_filter(client, demo, due):
    client.force_login(demo["caseworker"])
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="due-panel"' in home
    assert due.case.participant.case_code in home
    listed = client.get(reverse("case-list"), {"overdue": "on"}).content.decode()
    assert due.case.participant.case_code in listed
    due.status = "done"
    due.save()
    assert due.case.participant.case_code not in client.get(reverse("case-list"), {"overdue": "on"}).content.decode()
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    assert api.get("/api/v1/cases/", {"overdue": "true"}).json()["results"] == []


def test_follow_up_lists_cost_the_same_for_few_or_many(client, demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cases(n):
        for _ in range(n):
            CaseFactory(
                organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
            )
        followups.deliver_due()

    def count(call):
        with CaptureQueriesContext(connection) as ctx:
            assert call().status_code == 200
        return len(ctx.captured_queries)

    client.force_login(demo["caseworker"])
    api = APIClient()
    api.force_authenticate(demo["caseworker"])

    def measure():
        return {
            # session, user, one page of follow-ups with their cases, the paginator's count
            "page": count(lambda: client.get(reverse("follow-up-list"))),
            # session, user, one page of notifications with follow-ups and cases, the count
            "notifications": count(lambda: client.get(reverse("notifications"))),
            # one page of follow-ups with their cases (cursor pagination: no count)
            "api": count(lambda: api.get("/api/v1/follow-ups/")),
        }

    cases(2)
    few = measure()
    cases(12)
    assert measure() == few
    assert few["api"] == 1
