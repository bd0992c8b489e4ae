"""One chronological view of a case, filtered by what the viewer may see.

Each source gives the newest events of one kind for (user, case), already filtered through
`casemgmt.access`; the timeline merges them. Apps to the right (mentoring, counselling,
placements) add their own sources with `register()` in their AppConfig.ready(); this module
imports none of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User

from . import access
from .access import G
from .models import Case


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime.datetime
    kind: str  # a stable key: "stage", "note", "assessment"...
    title: str
    detail: str = ""
    url: str = ""


Source = Callable[[User, Case, int], Iterable[TimelineEvent]]
SOURCES: list[Source] = []


def register(source: Source) -> Source:
    """Add a source of events; usable as a decorator."""
    SOURCES.append(source)
    return source


def _moment(day: datetime.date | datetime.datetime) -> datetime.datetime:
    if isinstance(day, datetime.datetime):
        return day
    return datetime.datetime.combine(day, datetime.time(12, 0), tzinfo=datetime.UTC)


def case_timeline(user: User, case: Case, *, offset: int = 0, limit: int = 50) -> list[TimelineEvent]:
    """Events newest first; each source is asked for no more than it could contribute to this page."""
    wanted = offset + limit
    events: list[TimelineEvent] = []
    for source in SOURCES:
        events.extend(source(user, case, wanted))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[offset:wanted]


def _detail_url(case: Case, slug: str, pk: int) -> str:
    return reverse("casefile-detail", args=[case.pk, slug, pk])


@register
def stage_changes(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    groups = access.visible_groups(user, case)
    if G.STAGE not in groups:
        return []
    show_reason = access.stage_reasons_visible(user, case)
    return [
        TimelineEvent(
            at=change.changed_at,
            kind="stage",
            title=_("Re-opened: %(stage)s") % {"stage": change.get_to_stage_display()}
            if change.is_reopening
            else _("Stage: %(stage)s") % {"stage": change.get_to_stage_display()},
            detail=change.reason if show_reason else "",
        )
        for change in case.stage_changes.order_by("-changed_at", "-pk")[:limit]
    ]


def _rows(key: str, user: User, case: Case, limit: int, order: str):
    return access.records_visible_to(user, key).filter(case=case).order_by(order, "-pk")[:limit]


@register
def assessments(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    return [
        TimelineEvent(
            _moment(a.assessed_on),
            "assessment",
            _("Assessment: risk band %(band)s") % {"band": a.get_risk_band_display()},
            url=_detail_url(case, "assessments", a.pk),
        )
        for a in _rows("assessment", user, case, limit, "-assessed_on")
    ]


@register
def notes(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    return [
        TimelineEvent(
            _moment(n.date),
            "note",
            f"{n.get_kind_display()}" + ("" if n.held else f" ({_('missed')})"),
            detail=n.text[:140],
            url=_detail_url(case, "notes", n.pk),
        )
        for n in _rows("note", user, case, limit, "-date")
    ]


@register
def legal_events(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    return [
        TimelineEvent(
            _moment(e.date),
            "legal_event",
            e.get_kind_display(),
            detail=e.description[:140],
            url=_detail_url(case, "legal-events", e.pk),
        )
        for e in _rows("legal_event", user, case, limit, "-date")
    ]


@register
def relapse_events(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    return [
        TimelineEvent(
            _moment(e.date),
            "relapse_event",
            e.get_kind_display(),
            detail=e.description[:140],
            url=_detail_url(case, "relapse-events", e.pk),
        )
        for e in _rows("relapse_event", user, case, limit, "-date")
    ]


@register
def consents(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    events = []
    for c in _rows("consent", user, case, limit, "-given_on"):
        events.append(
            TimelineEvent(
                _moment(c.given_on),
                "consent",
                _("Consent given: %(purpose)s") % {"purpose": c.purpose},
                url=_detail_url(case, "consents", c.pk),
            )
        )
        if c.withdrawn_on:
            events.append(
                TimelineEvent(
                    _moment(c.withdrawn_on),
                    "consent",
                    _("Consent withdrawn: %(purpose)s") % {"purpose": c.purpose},
                    url=_detail_url(case, "consents", c.pk),
                )
            )
    return events


@register
def service_referrals(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    return [
        TimelineEvent(
            _moment(s.referred_on),
            "service_referral",
            _("Referred to %(service)s") % {"service": s.get_kind_display()},
            detail=f"{s.provider} — {s.get_status_display()}",
            url=_detail_url(case, "service-referrals", s.pk),
        )
        for s in _rows("service_referral", user, case, limit, "-referred_on")
    ]


@register
def outcomes(user: User, case: Case, limit: int) -> Iterable[TimelineEvent]:
    rows = access.records_visible_to(user, "outcome").filter(case=case, recorded_on__isnull=False)
    return [
        TimelineEvent(
            _moment(o.recorded_on),
            "outcome",
            _("Outcome recorded: %(kind)s") % {"kind": o.get_kind_display()},
            url=_detail_url(case, "outcomes", o.pk),
        )
        for o in rows.order_by("-recorded_on", "-pk")[:limit]
    ]
