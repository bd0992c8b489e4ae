"""Writes of the reports: the managers' monthly summary in their notification centre."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role, User
from casemgmt.followup_models import Notification

from .figures import FIGURES, Filters
from .selectors import figure_result


def previous_month(today: datetime.date) -> datetime.date:
    first = today.replace(day=1)
    return (first - datetime.timedelta(days=1)).replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def summary_line(organisation_id: int, month: datetime.date, today: datetime.date) -> str:
    """Counts only (no names, no case codes): four figure queries for the organisation."""
    f = Filters(organisation_id=organisation_id, start=month, end=month_end(month), today=today)

    def total(slug: str) -> int:
        result = figure_result(FIGURES[slug], f)
        measure = FIGURES[slug].measures[0].name
        return result.total[measure] if result.total else sum(row.values[measure] for row in result.rows)

    return _(
        "Report for %(month)s: %(referrals)d referrals, %(exits)d exits, %(placements)d placements started; "
        "%(overdue)d follow-ups overdue today."
    ) % {
        "month": month.strftime("%Y-%m"),
        "referrals": total("referrals_month"),
        "exits": total("exits_reason"),
        "placements": total("placements_started"),
        "overdue": total("overdue_followups"),
    }


@transaction.atomic
def monthly_summaries_send(*, month: datetime.date, today: datetime.date) -> int:
    """One notification per active manager for `month` (its first day); running it again adds nothing
    (the key `report:YYYY-MM` is unique per user). Returns how many were written."""
    managers = User.objects.filter(is_active=True, membership__role=Role.MANAGER).select_related("membership")
    key = f"report:{month:%Y-%m}"
    done = set(Notification.objects.filter(key=key).values_list("user_id", flat=True))
    lines: dict[int, str] = {}
    rows = []
    query = urlencode({"start": month.isoformat(), "end": month_end(month).isoformat()})
    for manager in managers:
        if manager.pk in done:
            continue
        organisation_id = manager.membership.organisation_id
        if organisation_id not in lines:  # the figures once per organisation, not per manager
            lines[organisation_id] = summary_line(organisation_id, month, today)
        rows.append(
            Notification(
                user=manager,
                purpose=Notification.Purpose.REPORT,
                subject=lines[organisation_id][:200],
                link=f"{reverse('reports:dashboard')}?{query}",
                key=key,
            )
        )
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
