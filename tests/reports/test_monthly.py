"""The monthly summary: one notification per manager and month, in their notification centre."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.urls import reverse

from casemgmt.followup_models import Notification
from reports.services import monthly_summaries_send, previous_month
from reports.tasks import send_monthly_summaries

from .conftest import TODAY


def test_previous_month():
    assert previous_month(datetime.date(2026, 1, 1)) == datetime.date(2025, 12, 1)
    assert previous_month(datetime.date(2026, 11, 25)) == datetime.date(2026, 10, 1)


def test_one_summary_per_manager_and_month(known, follow_ups, manager, atlantic_manager, client):
    assert monthly_summaries_send(month=datetime.date(2026, 6, 1), today=TODAY) == 2
    assert monthly_summaries_send(month=datetime.date(2026, 6, 1), today=TODAY) == 0  # idempotent
    mine = Notification.objects.get(user=manager)
    # June: D was referred (C in May); A exited in July; three follow-ups overdue today
    assert mine.subject == (
        "Report for 2026-06: 1 referrals, 0 exits, 0 placements started; 3 follow-ups overdue today."
    )
    assert mine.link == reverse("reports:dashboard") + "?start=2026-06-01&end=2026-06-30"
    assert mine.follow_up is None
    assert mine.purpose == "report"
    theirs = Notification.objects.get(user=atlantic_manager)
    assert theirs.subject.startswith("Report for 2026-06: 0 referrals")
    client.force_login(manager)
    page = client.get(reverse("notifications")).content.decode()
    assert "Report for 2026-06" in page
    assert "?start=2026-06-01&amp;end=2026-06-30" in page
    assert "1" in client.get(reverse("notifications-count")).content.decode()
    # another month is another notification
    assert monthly_summaries_send(month=datetime.date(2026, 7, 1), today=TODAY) == 2
    assert Notification.objects.filter(user=manager).count() == 2


def test_no_summary_for_other_roles(known, demo):
    monthly_summaries_send(month=datetime.date(2026, 6, 1), today=TODAY)
    for who in ("caseworker", "auditor", "admin", "caseworker2", "authority"):
        assert not Notification.objects.filter(user=demo[who]).exists()


def test_the_beat_runs_it_monthly(demo):
    entry = settings.CELERY_BEAT_SCHEDULE["reports-monthly-summary"]
    assert entry["task"] == "reports.tasks.send_monthly_summaries"
    assert entry["schedule"].day_of_month == {1}
    assert send_monthly_summaries() == 1  # the demo's one manager (no data: zero counts)
    assert send_monthly_summaries() == 0


def test_a_summary_is_never_mailed(known, manager):
    from casemgmt.followups import send_email

    monthly_summaries_send(month=datetime.date(2026, 6, 1), today=TODAY)
    assert send_email(Notification.objects.get(user=manager).pk) is False
