"""Family-counselling reads: the counsellor's portal, a case's family page, an engagement's page.

Every query starts from `families.access` (or the core policy), so nothing here widens a scope.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import User
from casemgmt import access
from casemgmt.models import Case

from . import access as fa
from .models import (
    OPEN_ENGAGEMENT,
    Engagement,
    EngagementCounsellor,
    FamilyMember,
    Household,
    HouseholdMember,
    SessionStatus,
)

PAGE_SIZE = 25


def counsellor_portal(user: User) -> dict:
    """The counsellor's start page: open engagements, sessions to log, planned sessions."""
    now = timezone.now()
    engagements = list(
        fa.my_open_engagements(user)
        .select_related("case__participant")
        .order_by("case__participant__case_code", "pk")[:100]
    )
    sessions = list(
        fa.sessions_visible_to(user)
        .filter(status=SessionStatus.PLANNED, engagement__status__in=OPEN_ENGAGEMENT)
        .select_related("case__participant", "engagement")
        .order_by("starts_at", "pk")[:100]
    )
    return {
        "engagements": engagements,
        "planned": [s for s in sessions if s.starts_at >= now],
        "to_log": [s for s in sessions if s.starts_at < now],
    }


def _members_by_engagement(engagements: list[Engagement], visible: set[int]) -> None:
    """Each engagement's members the viewer may read (`shown_members`) and how many are hidden."""
    for engagement in engagements:
        members = list(engagement.members.all())
        engagement.shown_members = [m for m in members if m.pk in visible]
        engagement.hidden_members = len(members) - len(engagement.shown_members)


def case_family(*, user: User, case: Case, page: str | int | None = 1) -> dict:
    """A case's family page: household, the members the viewer may read, engagements, sessions
    (a page of them), referrals and the support ledger, each through its record rule."""
    household = Household.objects.filter(case=case).first()
    links = list(
        access.case_records_visible_to(user, case, fa.MEMBER).select_related("member").order_by("pk")
        if household
        else []
    )
    member_count = HouseholdMember.objects.filter(case=case).count() if household else 0
    visible = {link.member_id for link in links}
    engagements = list(
        access.case_records_visible_to(user, case, fa.ENGAGEMENT)
        .prefetch_related(
            Prefetch("members", queryset=FamilyMember.objects.only("pk", "given_name", "family_name")),
            Prefetch("assignments", queryset=EngagementCounsellor.objects.select_related("counsellor")),
        )
        .order_by("-started_on", "-pk")
    )
    _members_by_engagement(engagements, visible)
    sessions = (
        access.case_records_visible_to(user, case, fa.SESSION)
        .select_related("engagement", "group_session")
        .prefetch_related(Prefetch("attendees", queryset=FamilyMember.objects.only("pk", "given_name", "family_name")))
        .order_by("-starts_at", "-pk")
    )
    session_page = Paginator(sessions, PAGE_SIZE).get_page(page)
    for session in session_page:
        session.shown_attendees = [a for a in session.attendees.all() if a.pk in visible]
    return {
        "household": household,
        "links": links,
        "member_count": member_count,
        "hidden_count": member_count - len(links),
        "engagements": engagements,
        "page": session_page,
        "referrals": list(
            access.case_records_visible_to(user, case, fa.REFERRAL)
            .select_related("engagement")
            .order_by("-referred_on", "-pk")
        ),
        "support": list(
            access.case_records_visible_to(user, case, fa.SUPPORT)
            .select_related("engagement")
            .order_by("-given_on", "-pk")
        ),
    }


def engagement_page(*, user: User, engagement: Engagement, case: Case, page: str | int | None = 1) -> dict:
    visible = set(access.case_records_visible_to(user, case, fa.MEMBER).values_list("member_id", flat=True))
    engagement = (
        Engagement.objects.filter(pk=engagement.pk)
        .select_related("case__participant")
        .prefetch_related(
            "members", Prefetch("assignments", queryset=EngagementCounsellor.objects.select_related("counsellor"))
        )
        .get()
    )
    _members_by_engagement([engagement], visible)
    sessions = (
        access.case_records_visible_to(user, case, fa.SESSION)
        .filter(engagement=engagement)
        .select_related("group_session")
        .prefetch_related("attendees")
        .order_by("-starts_at", "-pk")
    )
    session_page = Paginator(sessions, PAGE_SIZE).get_page(page)
    for session in session_page:
        session.shown_attendees = [a for a in session.attendees.all() if a.pk in visible]
    return {
        "engagement": engagement,
        "page": session_page,
        "referrals": list(
            access.case_records_visible_to(user, case, fa.REFERRAL)
            .filter(engagement=engagement)
            .select_related("engagement")
        ),
        "support": list(access.case_records_visible_to(user, case, fa.SUPPORT).filter(engagement=engagement)),
        "visible_members": visible,
    }
