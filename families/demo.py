"""Demo families for seed_demo: households for most cases (invented relatives, never a real person),
engagements of every type held by the demo `counsellor` with planned and logged sessions (summaries and
confidential notes), a parent-network group session, referrals and material support. Idempotent."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from casemgmt.casefile_services import record_create
from casemgmt.models import Case, Stage

from . import services
from .models import Engagement, EngagementKind, Household, HouseholdMember, SessionStatus

RELATIVES = [
    # given name (Latin, Arabic), relation, age, minor, vulnerabilities
    (("Zineb", "زينب"), "mother", 58, False, []),
    (("Abdellah", "عبد الله"), "father", 63, False, ["illness"]),
    (("Salima", "سليمة"), "spouse", 29, False, ["stigma"]),
    (("Adam", "آدم"), "child", 7, True, ["returned_child", "no_documents"]),
    (("Rim", "ريم"), "sibling", 17, True, []),
]
SUMMARIES = [
    "First assessment with the family: needs listed, step plan agreed.",
    "Talked about how the family can support the participant's return home.",
    "Reviewed the school enrolment of the child and the next steps with the lawyer.",
]


def seed() -> None:
    counsellor = User.objects.filter(username="counsellor").first()
    if counsellor is None or Engagement.objects.filter(assignments__counsellor=counsellor).exists():
        return
    rng = random.Random(8)  # noqa: S311  # nosec B311 - demo data, not security
    cases = list(
        Case.objects.filter(team__is_lead=True)
        .exclude(stage__in=[Stage.CLOSED, Stage.DECLINED])
        .select_related("participant")
        .order_by("pk")
        .distinct()
    )
    for index, case in enumerate(cases):
        if index % 5 == 4 or Household.objects.filter(case=case).exists():
            continue  # most cases, not all, have their household recorded
        lead = case.team.get(is_lead=True).user
        for (given, arabic), relation, age, minor, vulnerabilities in rng.sample(RELATIVES, k=rng.randint(2, 4)):
            services.member_add(
                case=case,
                by=lead,
                relation=relation,
                lives_with_participant=relation in ("mother", "father", "child", "sibling"),
                data={
                    "given_name": given,
                    "family_name": case.participant.family_name_latin,
                    "name_arabic": f"{arabic} {case.participant.family_name_arabic}",
                    "age": age,
                    "is_minor": minor,
                    "language": "ar",
                    "phone": "+212 600 000 000" if not minor else "",
                    "vulnerabilities": vulnerabilities,
                },
            )
    _engagements(counsellor)


def _engagements(counsellor: User) -> None:
    today = timezone.localdate()
    now = timezone.now()
    cases = [
        c
        for c in Case.objects.filter(
            organisation_id=counsellor.membership.organisation_id, stage__in=[Stage.ACTIVE, Stage.REVIEW]
        ).order_by("pk")
        if HouseholdMember.objects.filter(case=c).exists()
    ]
    held = []
    for case, kind in zip(cases, EngagementKind.values, strict=False):
        lead = case.team.get(is_lead=True).user
        record_create(
            key="consent",
            case=case,
            by=lead,
            data={
                "purpose": "Family counselling contact",
                "categories": ["family_contact"],
                "given_on": today - datetime.timedelta(days=60),
            },
        )
        members = [link.member for link in HouseholdMember.objects.filter(case=case).select_related("member")[:2]]
        engagement = services.engagement_create(
            case=case,
            by=lead,
            kind=kind,
            members=members,
            counsellors=[counsellor],
            step_plan="1. First assessment with the family. 2. Agree goals. 3. Monthly sessions.",
            started_on=today - datetime.timedelta(days=50),
        )
        services.engagement_update(
            engagement=engagement, by=counsellor, step_plan=engagement.step_plan, status="active"
        )
        for index, days in enumerate((45, 30, 15)):
            attended = index != 1
            services.session_log(
                by=counsellor,
                engagement=engagement,
                data={
                    "starts_at": now - datetime.timedelta(days=days, hours=3),
                    "kind": "family" if index != 2 else "home_visit",
                    "status": SessionStatus.ATTENDED if attended else SessionStatus.MISSED,
                    "duration_minutes": 75 if attended else None,
                    "summary": SUMMARIES[index] if attended else "The family did not come; a new date was set.",
                },
                attendees=members if attended else [],
                confidential_notes=(
                    f"DEMO confidential: the mother spoke of her fear of the neighbours (session {index + 1})."
                    if attended
                    else ""
                ),
            )
        services.session_plan(
            engagement=engagement, by=counsellor, starts_at=now + datetime.timedelta(days=6), kind="family"
        )
        services.session_plan(
            engagement=engagement, by=counsellor, starts_at=now - datetime.timedelta(days=1), kind="phone"
        )
        held.append(engagement)
    if held:
        services.referral_create(
            engagement=held[0],
            by=counsellor,
            data={
                "service": "legal_aid",
                "provider": "Bar association legal aid desk",
                "referred_on": today - datetime.timedelta(days=20),
                "status": "in_progress",
            },
        )
        services.support_add(
            engagement=held[0],
            by=counsellor,
            data={
                "kind": "school",
                "amount": Decimal("450.00"),
                "given_on": today - datetime.timedelta(days=10),
                "note": "School fees",
            },
        )
    if len(held) >= 2:
        services.group_session_create(
            by=counsellor,
            title="Parent network: talking with a child who returns",
            starts_at=now - datetime.timedelta(days=8),
            engagements=held[:3],
        )
