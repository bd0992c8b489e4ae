"""Mentoring's registrations with the core (access rules, timeline, navigation, home, demo data)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
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
from casemgmt.casefile_views import register_case_links, register_record_links
from casemgmt.urlcache import fixed_url, pk_url

from . import mentoring_access, mentoring_demo, mentoring_selectors, mentoring_services
from .models import MentoringSession
from .models.mentoring import SessionStatus

# Sessions: caseworkers on the team and managers read every session (never the confidential notes,
# which are another table); a mentor reads the sessions they hold themselves, on cases where their
# assignment is active. Only that mentor writes them.
access.register_record(
    mentoring_access.SESSION,
    MentoringSession,
    RecordRule(
        G.MENTORING,
        {
            LEAD: access.ALL_ROWS,
            "caseworker": access.ALL_ROWS,
            MANAGER: access.ALL_ROWS,
            "mentor": lambda user: Q(mentor=user),
        },
        frozenset({"mentor"}),
        author_edits_only=True,
        attachable=False,  # nothing in a session is for files; a mentor would think them private
    ),
    history_fields=MentoringSession.SHAREABLE_FIELDS,
)

# Exit, closure or transfer settles the case's mentoring.
casefile_services.register_case_ending(mentoring_services.settle_case)

# A suspended or lapsed mentor's team rows open nothing, from the next request on.
access.register_team_condition(Role.MENTOR, lambda user: mentoring_access.vetting_valid())


def _session_event(row: dict, case) -> timeline.TimelineEvent:
    status = dict(SessionStatus.choices).get(row["ev_code"], row["ev_code"])
    return timeline.TimelineEvent(
        row["ev_at"],
        "mentoring",
        _("Mentoring session: %(status)s") % {"status": status},
        detail=row["ev_text"],
        url=pk_url("mentoring-session")(row["ev_pk"]),
    )


@timeline.register_query("mentoring", _session_event)
def mentoring_sessions(user, case):
    if G.MENTORING not in access.visible_groups(user, case):
        return None
    return timeline.columns(
        access.case_records_visible_to(user, case, mentoring_access.SESSION),
        at="starts_at",
        code="status",
        text="summary",
    )


@context_processors.register_nav
def mentoring_nav(user):
    if user.role in (Role.MENTOR, Role.MANAGER, Role.MENTOR_SUPERVISOR):
        label = gettext_lazy("Mentors") if user.role == Role.MENTOR_SUPERVISOR else gettext_lazy("Mentoring")
        return [(label, fixed_url("mentoring-home"))]
    return []


@views.register_home_panel
def mentoring_home_panel(request):
    user = request.user
    if user.role == Role.MENTOR:
        return "programs/mentoring/_mentor_panel.html", mentoring_selectors.mentor_portal(user)
    return None


demo.register(mentoring_demo.seed)


@register_case_links
def mentoring_case_link(user, case):
    if G.MENTORING not in access.visible_groups(user, case):
        return []
    return [(gettext_lazy("Mentoring"), reverse("case-mentoring", args=[case.pk]))]


@register_record_links("goal")
def ideology_goal_ratings(user, case, goal):
    """Under an ideology goal: the mentoring sessions' progress ratings given against it."""
    if goal.domain != "ideology" or G.MENTORING not in access.visible_groups(user, case):
        return []
    sessions = access.case_records_visible_to(user, case, mentoring_access.SESSION).filter(
        goal=goal, progress_rating__isnull=False
    )
    return [
        (
            _("Mentoring session of %(date)s: progress %(rating)s/5")
            % {"date": date_format(timezone.localtime(s.starts_at), "SHORT_DATE_FORMAT"), "rating": s.progress_rating},
            reverse("mentoring-session", args=[s.pk]),
        )
        for s in sessions.order_by("starts_at", "pk")
    ]


# --- Follow-ups: a gap in mentoring reminds the mentor after 14 days, the lead caseworker after 21 --------


def _last_session_days(today):
    """Active assignments with the day of their last attended session (or their start)."""
    from django.db.models import Max, Q
    from django.db.models.functions import Coalesce, TruncDate

    from .models import MentorAssignment
    from .models.mentoring import AssignmentStatus

    return (
        MentorAssignment.objects.filter(status=AssignmentStatus.ACTIVE)
        .select_related("case", "mentor")
        .annotate(
            last=Coalesce(TruncDate(Max("sessions__starts_at", filter=Q(sessions__status="attended"))), "started_on")
        )
    )


def _mentoring_gaps(today) -> None:
    import datetime

    settings_by_org: dict = {}
    for assignment in _last_session_days(today):
        org = assignment.case.organisation_id
        if org not in settings_by_org:
            settings_by_org[org] = followups.settings_for("mentoring_gap", org)
        rule = settings_by_org[org]
        if not rule.enabled or assignment.last is None:
            continue
        due = assignment.last + datetime.timedelta(days=int(rule.params["days"]))
        if due <= today:
            followups.schedule(
                case=assignment.case,
                kind="mentoring_gap",
                due_on=due,
                source=assignment,
                holder=assignment.mentor,
                remind=followups.Remind.HOLDER,
                suffix=f"since-{assignment.last.isoformat()}",
            )


def _mentoring_session_held(session, by, rule) -> None:
    if session.status == "attended":
        followups.complete(case=session.case, kind="mentoring_gap", by=by, with_=f"mentoring_session:{session.pk}")


followups.register_rule(
    followups.Rule(
        "mentoring_gap",
        "No mentoring session for 14 days (the lead caseworker hears of it after 21)",
        {"days": 14},
        remind=followups.Remind.HOLDER,
        events={"mentoring_session.logged": _mentoring_session_held},
        sweep=_mentoring_gaps,
        escalate_to=followups.Remind.LEAD,
    )
)


# The authority's `compliance` category: mentoring sessions planned and attended per month (counts only).
shared_view.register_compliance(shared_view.session_counts(MentoringSession, "mentoring"))
# --- Data-subject export and retention (issue 10) ----------------------------------------------


def _export_mentoring(case):
    from casemgmt.subject_export import confidential_listing, rows

    from .models import MentorAssignment, MentoringConfidentialNote

    return {
        "assignments": rows(
            MentorAssignment.objects.filter(case=case).select_related(
                "mentor", "proposed_by", "decided_by", "ended_by"
            ),
            exclude=("case",),
        ),
        "sessions": rows(
            MentoringSession.objects.filter(case=case).select_related("mentor", "recorded_by", "goal"),
            exclude=("case", "assignment"),
        ),
        # professional secrecy: the date and the author, never the text (not even loaded)
        "confidential_notes": confidential_listing(
            (note.session.starts_at.date(), note.author)
            for note in MentoringConfidentialNote.objects.filter(session__case=case)
            .select_related("author", "session")
            .only("session__starts_at", "author__first_name", "author__last_name", "author__username")
            .order_by("session__starts_at", "pk")
        ),
    }


def _pseudonymise_mentoring(case) -> None:
    from django.db.models import Q

    from casemgmt.retention import scrub

    from .models import MentorAssignment, MentoringConfidentialNote

    by_case = Q(case_id=case.pk)
    scrub(
        MentorAssignment,
        MentorAssignment.objects.filter(case=case),
        ["proposal_note", "decision_reason", "response_reason", "end_reason"],
        events=by_case,
    )
    scrub(MentoringSession, MentoringSession.objects.filter(case=case), ["summary"], events=by_case)
    scrub(MentoringConfidentialNote, MentoringConfidentialNote.objects.filter(session__case=case), ["text"])


subject_export.register_section("mentoring", _export_mentoring)
retention.register_pseudonymiser(_pseudonymise_mentoring)
