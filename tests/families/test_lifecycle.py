"""Minor findings of the review of issue 8: the engagement's lifecycle goes forward only, and a session
form sent twice creates one session."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from families import services as fs
from families.models import ENGAGEMENT_TRANSITIONS, CounsellingSession, Engagement, EngagementStatus

pytestmark = pytest.mark.django_db


def test_the_lifecycle_table():
    assert {
        "assessment": {"active", "ended"},
        "active": {"ended"},
        "ended": set(),
    } == ENGAGEMENT_TRANSITIONS


@pytest.mark.parametrize("start", ["assessment", "active"])
@pytest.mark.parametrize("target", EngagementStatus.values)
def test_engagement_update_moves(demo, engagement, start, target):
    Engagement.objects.filter(pk=engagement.pk).update(status=start)
    engagement.refresh_from_db()
    allowed = target != "ended" and (target == start or target in ENGAGEMENT_TRANSITIONS[start])
    if allowed:
        fs.engagement_update(engagement=engagement, by=demo["counsellor"], step_plan="x", status=target)
        engagement.refresh_from_db()
        assert engagement.status == target
    else:
        with pytest.raises(ValidationError) as error:
            fs.engagement_update(engagement=engagement, by=demo["counsellor"], step_plan="x", status=target)
        assert "status" in error.value.message_dict
        engagement.refresh_from_db()
        assert engagement.status == start


@pytest.mark.parametrize("target", EngagementStatus.values)
def test_an_ended_engagement_moves_nowhere(demo, engagement, target):
    fs.engagement_end(engagement=engagement, by=demo["caseworker"], reason="done")
    with pytest.raises(ValidationError):
        fs.engagement_update(engagement=engagement, by=demo["caseworker"], step_plan="", status=target)


def test_the_page_refuses_going_back_to_the_assessment(client, demo, engagement):
    fs.engagement_update(engagement=engagement, by=demo["counsellor"], step_plan="", status="active")
    client.force_login(demo["counsellor"])
    url = reverse("families-engagement-edit", args=[engagement.pk])
    form = client.get(url).content.decode()
    assert 'value="assessment"' not in form  # not offered
    back = client.post(url, {"status": "assessment", "step_plan": "again"})
    assert back.status_code == 400
    assert "is-invalid" in back.content.decode()
    engagement.refresh_from_db()
    assert engagement.status == "active"
    assert client.post(url, {"status": "active", "step_plan": "new plan"}).status_code == 302
    engagement.refresh_from_db()
    assert engagement.step_plan == "new plan"


def _log_data(household, token):
    when = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    return {
        "form_token": str(token),
        "starts_at": when,
        "kind": "family",
        "status": "attended",
        "duration_minutes": "45",
        "attendees": [household["mother"].pk],
        "summary": "once",
    }


def test_a_double_submitted_log_form_logs_one_session(client, demo, engagement, household):
    client.force_login(demo["counsellor"])
    url = reverse("families-session-log-new", args=[engagement.pk])
    form = client.get(url).content.decode()
    assert 'name="form_token"' in form
    token = uuid.uuid4()
    first = client.post(url, _log_data(household, token))
    second = client.post(url, _log_data(household, token))
    assert first.status_code == second.status_code == 302
    assert CounsellingSession.objects.filter(engagement=engagement).count() == 1
    # a new form (a new token) logs a new session
    assert client.post(url, _log_data(household, uuid.uuid4())).status_code == 302
    assert CounsellingSession.objects.filter(engagement=engagement).count() == 2


def test_each_form_shows_a_fresh_token(client, demo, engagement):
    client.force_login(demo["counsellor"])
    url = reverse("families-session-log-new", args=[engagement.pk])

    def token() -> str:
        return re.search(r'name="form_token" value="([0-9a-f-]{36})"', client.get(url).content.decode()).group(1)

    assert token() != token()


def test_a_double_submitted_plan_form_plans_one_session(client, demo, engagement):
    client.force_login(demo["counsellor"])
    url = reverse("families-session-plan", args=[engagement.pk])
    data = {
        "form_token": str(uuid.uuid4()),
        "starts_at": (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "kind": "family",
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert CounsellingSession.objects.filter(engagement=engagement).count() == 1


def test_a_token_of_another_engagement_is_refused(demo, people, engagement, other_engagement, household):
    token = uuid.uuid4()
    data = {
        "starts_at": timezone.now() - datetime.timedelta(days=1),
        "kind": "family",
        "status": "missed",
    }
    fs.session_log(by=demo["counsellor"], engagement=engagement, data=data, form_token=token)
    with pytest.raises(ValidationError):
        fs.session_log(by=people["counsellor2"], engagement=other_engagement, data=data, form_token=token)
    assert CounsellingSession.objects.count() == 1


def test_a_broken_token_is_a_form_error(client, demo, engagement, household):
    client.force_login(demo["counsellor"])
    url = reverse("families-session-log-new", args=[engagement.pk])
    response = client.post(url, _log_data(household, "not-a-uuid"))
    assert response.status_code == 400
    assert CounsellingSession.objects.count() == 0
