"""Families' registrations with the core: record rules, the counsellor's team-row condition, the
timeline (session dates and types only), the case page, navigation, start-page panel, demo data."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from casemgmt import (
    access,
    casefile_services,
    context_processors,
    demo,
    followups,
    retention,
    shared_view,
    subject_export,
    timeline,
    views,
)
from casemgmt.access import LEAD, MANAGER, G, RecordRule
from casemgmt.casefile_views import register_case_links
from casemgmt.urlcache import fixed_url, pk_url

from . import access as fa
from . import demo as families_demo
from . import selectors
from . import services as family_services
from .models import CounsellingSession, Engagement, HouseholdMember, SessionKind, SupportEntry, SupportReferral

_STAFF = {LEAD: access.ALL_ROWS, "caseworker": access.ALL_ROWS, MANAGER: access.ALL_ROWS}

# Household members: caseworkers on the team and managers read them all (they know the family from the
# participant); a counsellor of the case only on a family-contact basis, decided in SQL per request.
# Only counsellors holding an open engagement write them (handbook §4: CW r, CO rw, MG r).
access.register_record(
    fa.MEMBER,
    HouseholdMember,
    RecordRule(
        G.FAMILY,
        {**_STAFF, "counsellor": fa.family_contact_basis},
        frozenset({"counsellor"}),
        attachable=False,
    ),
    history_fields=("member", "relation", "lives_with_participant"),
)
# Engagements: opened by the lead, a caseworker on the team or a manager; a counsellor reads the ones
# they are assigned to (not a colleague's engagement on the same case).
access.register_record(
    fa.ENGAGEMENT,
    Engagement,
    RecordRule(
        G.FAMILY,
        {**_STAFF, "counsellor": lambda user: fa.of_my_engagements(user, prefix="")},
        frozenset({LEAD, "caseworker", MANAGER}),
        attachable=False,
    ),
    history_fields=("kind", "status", "step_plan", "started_on", "ended_on", "end_reason"),
)
# Sessions, referrals and the support ledger: caseworkers on the team and managers read; the counsellors
# of the engagement read and write. Confidential notes are another table, in no rule.
for _key, _model, _fields in (
    (fa.SESSION, CounsellingSession, ("kind", "starts_at", "duration_minutes", "status", "summary")),
    (fa.REFERRAL, SupportReferral, ("service", "provider", "referred_on", "status", "outcome")),
    (fa.SUPPORT, SupportEntry, ("kind", "amount", "given_on", "note")),
):
    access.register_record(
        _key,
        _model,
        # no files: a scan on a session would reach the caseworkers past the professional secrecy
        RecordRule(
            G.FAMILY, {**_STAFF, "counsellor": fa.of_my_engagements}, frozenset({"counsellor"}), attachable=False
        ),
        history_fields=_fields,
    )

# A counsellor's team rows open a case only while they hold an open engagement on it.
access.register_team_condition(Role.COUNSELLOR, fa.open_engagement_on_case)
# Closing or transferring a case ends its engagements.
casefile_services.register_case_ending(family_services.settle_case)


def _session_event(row: dict, case) -> timeline.TimelineEvent:
    kind = dict(SessionKind.choices).get(row["ev_code"], row["ev_code"])
    return timeline.TimelineEvent(
        row["ev_at"],
        "counselling",
        _("Family counselling session: %(kind)s") % {"kind": kind},
        url=pk_url("families-session")(row["ev_pk"]),
    )


@timeline.register_query("counselling", _session_event)
def counselling_sessions(user, case):
    """Dates and types only: never the summary, the attendees or the notes."""
    if G.FAMILY not in access.visible_groups(user, case):
        return None
    rows = access.case_records_visible_to(user, case, fa.SESSION).exclude(status="cancelled")
    return timeline.columns(rows, at="starts_at", code="kind")


@context_processors.register_nav
def families_nav(user):
    if fa.can_see_family_home(user):
        return [(gettext_lazy("Family counselling"), fixed_url("families-home"))]
    return []


@views.register_home_panel
def families_home_panel(request):
    if fa.can_see_family_home(request.user):
        return "families/_counsellor_panel.html", selectors.counsellor_portal(request.user)
    return None


demo.register(families_demo.seed)


@register_case_links
def family_case_link(user, case):
    if G.FAMILY not in access.visible_groups(user, case):
        return []
    return [(gettext_lazy("Family"), reverse("case-family", args=[case.pk]))]


# --- Follow-ups: no family contact for 30 days reminds the engagement's counsellor ----------------------


def _family_gaps(today) -> None:
    import datetime

    from django.db.models import Max, Q
    from django.db.models.functions import Coalesce, TruncDate

    settings_by_org: dict = {}
    engagements = (
        Engagement.objects.filter(status__in=["assessment", "active"])
        .select_related("case")
        .prefetch_related("assignments__counsellor")
        .annotate(
            last=Coalesce(TruncDate(Max("sessions__starts_at", filter=Q(sessions__status="attended"))), "started_on")
        )
    )
    for engagement in engagements:
        org = engagement.case.organisation_id
        if org not in settings_by_org:
            settings_by_org[org] = followups.settings_for("family_gap", org)
        rule = settings_by_org[org]
        counsellors = [a.counsellor for a in engagement.assignments.all() if a.counsellor.is_active]
        if not rule.enabled or engagement.last is None or not counsellors:
            continue
        due = engagement.last + datetime.timedelta(days=int(rule.params["days"]))
        if due <= today:
            followups.schedule(
                case=engagement.case,
                kind="family_gap",
                due_on=due,
                source=engagement,
                holder=counsellors[0],
                remind=followups.Remind.HOLDER,
                suffix=f"since-{engagement.last.isoformat()}",
            )


def _family_contact_held(session, by, rule) -> None:
    if session.status == "attended":
        followups.complete(
            case=session.case,
            kind="family_gap",
            by=by,
            with_=f"counselling_session:{session.pk}",
            source=session.engagement,
        )


followups.register_rule(
    followups.Rule(
        "family_gap",
        "No family counselling contact for 30 days",
        {"days": 30},
        remind=followups.Remind.HOLDER,
        events={"counselling_session.logged": _family_contact_held},
        sweep=_family_gaps,
    )
)


# The authority's `compliance` category: counselling sessions planned and attended per month (counts only).
shared_view.register_compliance(shared_view.session_counts(CounsellingSession, "counselling"))
# --- Data-subject export and retention (issue 10) ----------------------------------------------


def _export_family(case) -> dict:
    from casemgmt.subject_export import confidential_listing, row, rows

    from .models import CounsellingConfidentialNote, Household

    household = Household.objects.filter(case=case).first()
    links = HouseholdMember.objects.filter(case=case).select_related("member", "recorded_by")
    engagements = []
    for engagement in (
        Engagement.objects.filter(case=case)
        .select_related("recorded_by")
        .prefetch_related("members", "assignments__counsellor")
    ):
        entry = row(engagement, exclude=("case",))
        entry["members"] = [str(m.pk) for m in engagement.members.all()]
        entry["counsellors"] = [a.counsellor.get_full_name() for a in engagement.assignments.all()]
        engagements.append(entry)
    return {
        "household": row(household, exclude=("case",)) if household else None,
        "members": [
            {**row(link.member, exclude=("organisation",)), **row(link, exclude=("case", "household", "member"))}
            for link in links
        ],
        "engagements": engagements,
        "sessions": rows(
            CounsellingSession.objects.filter(case=case).select_related("recorded_by", "group_session"),
            exclude=("case",),
        ),
        # professional secrecy: the date and the author, never the text (not even loaded)
        "confidential_notes": confidential_listing(
            (note.session.starts_at.date(), note.author)
            for note in CounsellingConfidentialNote.objects.filter(session__case=case)
            .select_related("author", "session")
            .only("session__starts_at", "author__first_name", "author__last_name", "author__username")
            .order_by("session__starts_at", "pk")
        ),
        "support_referrals": rows(
            SupportReferral.objects.filter(case=case).select_related("recorded_by"), exclude=("case",)
        ),
        "support": rows(SupportEntry.objects.filter(case=case).select_related("recorded_by"), exclude=("case",)),
    }


def _pseudonymise_family(case) -> None:
    from django.db.models import Q

    from casemgmt.dpo_models import RetentionReview
    from casemgmt.retention import scrub

    from .models import CounsellingConfidentialNote, FamilyMember, Household

    by_case = Q(case_id=case.pk)
    scrub(Household, Household.objects.filter(case=case), ["address", "situation"], events=by_case)
    # a relative linked to another participant's case that is not pseudonymised (a sibling) stays as is
    shared = HouseholdMember.objects.exclude(case=case).exclude(
        case__retention_review__status=RetentionReview.Status.PSEUDONYMISED
    )
    members = FamilyMember.objects.filter(links__case=case).exclude(pk__in=shared.values("member_id")).distinct()
    scrub(
        FamilyMember,
        members,
        ["given_name", "family_name", "name_arabic", "date_of_birth", "phone", "contact_note", "vulnerability_note"],
    )
    scrub(Engagement, Engagement.objects.filter(case=case), ["step_plan", "end_reason"], events=by_case)
    scrub(CounsellingSession, CounsellingSession.objects.filter(case=case), ["summary"], events=by_case)
    scrub(CounsellingConfidentialNote, CounsellingConfidentialNote.objects.filter(session__case=case), ["text"])
    scrub(SupportReferral, SupportReferral.objects.filter(case=case), ["provider", "outcome"], events=by_case)
    scrub(SupportEntry, SupportEntry.objects.filter(case=case), ["note"], events=by_case)


subject_export.register_section("family", _export_family)
retention.register_pseudonymiser(_pseudonymise_family)
