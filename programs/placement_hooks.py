"""Placements' registrations with the core (access rules, timeline, navigation, demo data)."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from casemgmt import (
    access,
    casefile_services,
    casefile_views,
    context_processors,
    demo,
    followups,
    retention,
    shared_view,
    subject_export,
    timeline,
)
from casemgmt.access import ALL_ROWS, LEAD, MANAGER, G, RecordRule
from casemgmt.models import Case
from casemgmt.urlcache import fixed_url, pk_url

from . import placement_services
from .models import CheckIn, EmployabilityProfile, Placement, PlacementStatus
from .placement_selectors import can_see_partners

# --- Access: handbook §4, "employability profile, placements, check-ins": CW r, PO rw, MG r ----------
# (the authority's "placement" category comes with the sharing basis, issue 10).
PLACEMENT_RULE = RecordRule(
    G.PLACEMENTS,
    {LEAD: ALL_ROWS, "caseworker": ALL_ROWS, MANAGER: ALL_ROWS, "placement_officer": ALL_ROWS},
    frozenset({"placement_officer"}),
    attachable=False,  # no placement page lists files; an officer could not see what they uploaded
)
# Closing a case withdraws its proposals and asks for started placements to be ended first.
casefile_services.register_case_ending(placement_services.settle_case)
# The case's change history shows these fields of each version (to readers of the group only).
access.register_record(
    "placement",
    Placement,
    PLACEMENT_RULE,
    history_fields=("opportunity", "status", "proposed_on", "accepted_on", "started_on", "ended_on", "end_reason"),
)
access.register_record(
    "placement_check_in",
    CheckIn,
    PLACEMENT_RULE,
    history_fields=("day", "due_on", "recorded_on", "still_there", "hours_per_week", "issues"),
)
access.register_record(
    "employability",
    EmployabilityProfile,
    PLACEMENT_RULE,
    history_fields=("education_level", "sectors", "skills", "work_history", "certificates", "constraints"),
)


# --- Navigation -------------------------------------------------------------------------------


@context_processors.register_nav
def _nav(user: User) -> list[tuple[str, str]]:
    if not can_see_partners(user):  # placement officers and managers
        return []
    return [
        (gettext_lazy("Placements"), fixed_url("placement-list")),
        (gettext_lazy("Opportunities"), fixed_url("opportunity-board")),
        (gettext_lazy("Partners"), fixed_url("partner-list")),
    ]


@casefile_views.register_case_links
def _case_links(user: User, case: Case) -> list[tuple[str, str]]:
    if G.PLACEMENTS not in access.visible_groups(user, case):
        return []
    return [(gettext_lazy("Placements"), reverse("case-placements", args=[case.pk]))]


@casefile_views.register_record_links("goal")
def _placements_under_goal(user: User, case: Case, goal) -> list[tuple[str, str]]:
    """Placements serve the education and employment goals: listed under them for readers of placements."""
    if goal.domain not in ("education", "employment") or G.PLACEMENTS not in access.visible_groups(user, case):
        return []
    rows = access.case_records_visible_to(user, case, "placement").select_related("opportunity__partner")
    return [
        (
            _("Placement: %(title)s (%(partner)s) — %(status)s")
            % {"title": p.opportunity.title, "partner": p.opportunity.partner.name, "status": p.get_status_display()},
            reverse("placement-detail", args=[p.pk]),
        )
        for p in rows
    ]


# --- Timeline: proposals, starts, ends and recorded check-ins, in the one UNION query ----------------


def _placement_url(row: dict) -> str:
    return pk_url("placement-detail")(row["ev_pk"])


def _status_label(value: str) -> str:
    return str(PlacementStatus(value).label) if value in PlacementStatus.values else value


def _rows(user: User, case: Case, key: str) -> QuerySet | None:
    if G.PLACEMENTS not in access.visible_groups(user, case):
        return None
    return access.case_records_visible_to(user, case, key)


def _proposed_event(row: dict, case: Case) -> timeline.TimelineEvent:
    return timeline.TimelineEvent(
        row["ev_at"],
        "placement",
        _("Placement proposed: %(title)s") % {"title": row["ev_code"]},
        detail=row["ev_text"],
        url=_placement_url(row),
    )


@timeline.register_query("placement", _proposed_event)
def _proposed(user: User, case: Case):
    rows = _rows(user, case, "placement")
    if rows is None:
        return None
    return timeline.columns(
        rows, at=timeline.noon("proposed_on"), code="opportunity__title", text="opportunity__partner__name"
    )


def _started_event(row: dict, case: Case) -> timeline.TimelineEvent:
    return timeline.TimelineEvent(
        row["ev_at"],
        "placement",
        _("Placement started: %(title)s") % {"title": row["ev_code"]},
        detail=row["ev_text"],
        url=_placement_url(row),
    )


@timeline.register_query("placement", _started_event)
def _started(user: User, case: Case):
    rows = _rows(user, case, "placement")
    if rows is None:
        return None
    return timeline.columns(
        rows.filter(started_on__isnull=False),
        at=timeline.noon("started_on"),
        code="opportunity__title",
        text="opportunity__partner__name",
    )


def _ended_event(row: dict, case: Case) -> timeline.TimelineEvent:
    return timeline.TimelineEvent(
        row["ev_at"],
        "placement",
        _("Placement %(status)s: %(title)s")
        % {"status": _status_label(row["ev_extra"]).lower(), "title": row["ev_code"]},
        detail=row["ev_text"],
        url=_placement_url(row),
    )


@timeline.register_query("placement", _ended_event)
def _ended(user: User, case: Case):
    rows = _rows(user, case, "placement")
    if rows is None:
        return None
    return timeline.columns(
        rows.filter(ended_on__isnull=False),
        at=timeline.noon("ended_on"),
        code="opportunity__title",
        text="end_reason",
        extra="status",
    )


def _check_in_event(row: dict, case: Case) -> timeline.TimelineEvent:
    there = _("still there") if row["ev_flag"] else _("no longer there")
    return timeline.TimelineEvent(
        row["ev_at"],
        "placement_check_in",
        _("%(day)s-day check-in: %(there)s") % {"day": row["ev_code"], "there": there},
        detail=row["ev_text"],
        url=pk_url("placement-detail")(int(row["ev_extra"])),
    )


@timeline.register_query("placement_check_in", _check_in_event)
def _check_ins(user: User, case: Case):
    rows = _rows(user, case, "placement_check_in")
    if rows is None:
        return None
    return timeline.columns(
        rows.filter(recorded_on__isnull=False),
        at=timeline.noon("recorded_on"),
        code="day",
        text="issues",
        extra="placement_id",
        flag=F("still_there"),
    )


# --- Demo data ------------------------------------------------------------------------------------


@demo.register
def _seed_demo() -> None:
    from .placement_demo import seed_placements

    seed_placements()


# --- Follow-ups: the 30/90/180-day check-ins remind the placement officer who started the placement -----


def _check_ins_due(placement, by, rule) -> None:
    holder = by if by is not None and by.role == "placement_officer" else None
    for check_in in placement.check_ins.filter(recorded_on__isnull=True):
        followups.schedule(
            case=placement.case,
            kind="placement_check_in",
            due_on=check_in.due_on,
            source=check_in,
            holder=holder,
            remind=followups.Remind.HOLDER if holder else rule.remind,
        )


def _check_in_recorded(check_in, by, rule) -> None:
    followups.complete(
        case=check_in.case, kind="placement_check_in", by=by, with_=f"check-in:{check_in.pk}", source=check_in
    )


def _placement_ended(placement, by, rule) -> None:
    for check_in in placement.check_ins.filter(recorded_on__isnull=True):
        followups.cancel(case=placement.case, kind="placement_check_in", source=check_in)


followups.register_rule(
    followups.Rule(
        "placement_check_in",
        "Placement check-in (30, 90 and 180 days after the start)",
        {"days": [30, 90, 180]},
        remind=followups.Remind.HOLDER,
        events={
            "placement.started": _check_ins_due,
            "placement_check_in.recorded": _check_in_recorded,
            "placement.completed": _placement_ended,
            "placement.dropped_out": _placement_ended,
            "placement.dismissed": _placement_ended,
        },
    )
)


def _current_placements(case_ids: list[int]) -> dict[int, dict]:
    """The authority's `placement` category: the current placement's kind, partner, status and start."""
    rows = (
        Placement.objects.filter(case_id__in=case_ids, status__in=["accepted", "started"])
        .select_related("opportunity", "partner")
        .order_by("case_id", "-started_on", "-pk")
        .distinct("case_id")
    )
    return {
        row.case_id: {
            "kind": row.opportunity.kind,
            "partner": row.partner.name,
            "status": row.status,
            "started_on": row.started_on.isoformat() if row.started_on else None,
        }
        for row in rows
    }


shared_view.register_category("placement", _current_placements)
# --- Data-subject export and retention (issue 10) ----------------------------------------------


def _export_placements(case: Case) -> dict:
    from casemgmt.subject_export import rows

    from .models import CheckIn, EmployabilityProfile, Placement

    return {
        "employability_profile": rows(
            EmployabilityProfile.objects.filter(case=case).select_related("recorded_by", "updated_by"),
            exclude=("case",),
        ),
        "placements": rows(
            Placement.objects.filter(case=case).select_related("opportunity", "partner", "recorded_by"),
            exclude=("case",),
        ),
        "check_ins": rows(CheckIn.objects.filter(case=case).select_related("recorded_by"), exclude=("case",)),
    }


def _pseudonymise_placements(case: Case) -> None:
    from django.db.models import Q

    from casemgmt.retention import scrub

    from .models import CheckIn, EmployabilityProfile, Placement

    by_case = Q(case_id=case.pk)
    scrub(
        EmployabilityProfile,
        EmployabilityProfile.objects.filter(case=case),
        ["skills", "work_history", "certificates", "availability", "constraints"],
        events=by_case,
    )
    scrub(Placement, Placement.objects.filter(case=case), ["note", "end_reason", "certificate_name"], events=by_case)
    scrub(CheckIn, CheckIn.objects.filter(case=case), ["issues"], events=by_case)


subject_export.register_section("placements", _export_placements)
retention.register_pseudonymiser(_pseudonymise_placements)


# --- Webhooks (issue 14): the partner hears of its own placements, first name and case code only -----


def _placement_webhook(placement: Placement):
    from casemgmt.webhook_models import WebhookEvent
    from casemgmt.webhooks import Outgoing, has_subscribers

    if not has_subscribers(WebhookEvent.PLACEMENT_STATUS_CHANGED, [placement.partner_id]):
        return []
    participant = placement.case.participant
    return [
        Outgoing(
            event=WebhookEvent.PLACEMENT_STATUS_CHANGED,
            organisation_id=placement.partner_id,
            dedupe_key=f"placement:{placement.pk}:{placement.status}",
            payload={
                "placement_id": placement.pk,
                "opportunity_id": placement.opportunity_id,
                "status": placement.status,
                "proposed_on": placement.proposed_on,
                "accepted_on": placement.accepted_on,
                "started_on": placement.started_on,
                "ended_on": placement.ended_on,
                "participant_first_name": participant.given_name_latin,
                "case_code": participant.case_code,
            },
        )
    ]


def _register_webhooks() -> None:
    from casemgmt import webhooks

    webhooks.register_source([f"placement.{status}" for status in PlacementStatus.values], _placement_webhook)


_register_webhooks()
