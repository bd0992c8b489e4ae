"""Demo partners, opportunities and placements (run by seed_demo after the cases; idempotent)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import City, Organisation, User
from casemgmt.models import Case, CaseTeamMember

from . import placement_services as services
from .models import LIVE, EducationLevel, Opportunity, PartnerProfile, Placement, PlacementStatus

# name, kind, city, sector, contact, agreement, offers: all invented.
PARTNERS = [
    (
        "Strait Logistics",
        Organisation.Kind.EMPLOYER,
        "TNG",
        "logistics",
        "Hicham Berrada-Lamrani",
        "signed",
        "Warehouse and forklift jobs near the port; on-the-job training.",
    ),
    (
        "Tetouan Vocational Institute",
        Organisation.Kind.TRAINING_PROVIDER,
        "TET",
        "crafts",
        "Latifa Amrani-Chafik",
        "signed",
        "Six-month courses in electricity, plumbing and welding, with a stipend.",
    ),
    (
        "Tangier Harbour Catering",
        Organisation.Kind.EMPLOYER,
        "TNG",
        "hospitality",
        "Mounir Ziani-Sabri",
        "negotiating",
        "Kitchen assistants and waiting staff.",
    ),
    (
        "Fnideq Builders Cooperative",
        Organisation.Kind.EMPLOYER,
        "FNQ",
        "construction",
        "Said Rifi-Ouazzani",
        "signed",
        "Apprenticeships on building sites.",
    ),
    (
        "North Digital Skills Academy",
        Organisation.Kind.TRAINING_PROVIDER,
        "TNG",
        "digital",
        "Asmae Tahiri-Benali",
        "none",
        "Evening courses in office software and web basics.",
    ),
]

# partner, title, kind, sector, city, places, minimum education, pay band, open
OPPORTUNITIES = [
    ("Strait Logistics", "Warehouse operative", "job", "logistics", "TNG", 4, None, "minimum_wage", True),
    ("Strait Logistics", "Forklift driver trainee", "apprenticeship", "logistics", "TNG", 1, 2, "stipend", True),
    ("Tetouan Vocational Institute", "Electrician course", "course", "crafts", "TET", 6, 2, "stipend", True),
    ("Tetouan Vocational Institute", "Welding course", "course", "manufacturing", "TET", 2, 1, "stipend", True),
    ("Tangier Harbour Catering", "Kitchen assistant", "job", "hospitality", "TNG", 3, None, "minimum_wage", True),
    (
        "Fnideq Builders Cooperative",
        "Building-site apprentice",
        "apprenticeship",
        "construction",
        "FNQ",
        2,
        None,
        "stipend",
        True,
    ),
    ("North Digital Skills Academy", "Office software course", "course", "digital", "TNG", 10, 3, "none", False),
]

# The steps each demo placement walks, and how many days ago it was proposed.
WALKS = [
    ([], 5),
    ([PlacementStatus.ACCEPTED], 20),
    ([PlacementStatus.ACCEPTED, PlacementStatus.STARTED], 60),
    ([PlacementStatus.ACCEPTED, PlacementStatus.STARTED], 220),
    ([PlacementStatus.ACCEPTED, PlacementStatus.STARTED, PlacementStatus.COMPLETED], 260),
    ([PlacementStatus.ACCEPTED, PlacementStatus.STARTED, PlacementStatus.DROPPED_OUT], 150),
    ([PlacementStatus.ACCEPTED, PlacementStatus.STARTED, PlacementStatus.DISMISSED], 130),
    ([PlacementStatus.REFUSED], 40),
    ([PlacementStatus.WITHDRAWN], 35),
]


def seed_placements() -> None:
    if Placement.objects.exists():
        return
    officer = User.objects.filter(username="placement").first()
    if officer is None:
        return
    today = timezone.localdate()
    for name, kind, city, sector, contact, agreement, offers in PARTNERS:
        organisation, _ = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "city": City.objects.get(code=city)}
        )
        if not PartnerProfile.objects.filter(organisation=organisation).exists():
            services.partner_profile_save(
                by=officer,
                organisation=organisation,
                data={
                    "sector": sector,
                    "city": City.objects.get(code=city),
                    "contact_name": contact,
                    "contact_phone": "+212 539 000 000",
                    "agreement_status": agreement,
                    "agreement_from": today - datetime.timedelta(days=400) if agreement == "signed" else None,
                    "offers": offers,
                },
            )
    opportunities = {}
    for partner, title, kind, sector, city, places, education, pay, is_open in OPPORTUNITIES:
        opportunity = Opportunity.objects.filter(title=title, partner__name=partner).first()
        if opportunity is None:
            opportunity = services.opportunity_create(
                by=officer,
                data={
                    "partner": Organisation.objects.get(name=partner),
                    "title": title,
                    "kind": kind,
                    "sector": sector,
                    "city": City.objects.get(code=city),
                    "places": places,
                    "start_date": today + datetime.timedelta(days=21),
                    "requirements": "Motivation; a clean workplace record since release.",
                    "min_education": education,
                    "pay_band": pay,
                    "is_open": is_open,
                },
            )
        opportunities[title] = opportunity
    cases = list(
        Case.objects.filter(
            stage__in=services.STAGES_FOR_PLACEMENT,
            pk__in=CaseTeamMember.objects.filter(user=officer, role="placement_officer").values("case_id"),
        ).order_by("pk")
    )
    if not cases:
        return
    for index, case in enumerate(cases):
        services.employability_save(
            by=officer,
            case=case,
            data={
                "education_level": [EducationLevel.PRIMARY, EducationLevel.LOWER_SECONDARY, EducationLevel.SECONDARY][
                    index % 3
                ],
                "sectors": [["logistics"], ["crafts", "construction"], ["hospitality"]][index % 3],
                "skills": "Driving licence B; basic French.",
                "work_history": "Casual work at the port before custody.",
                "availability": "Weekdays",
                "constraints": "Probation curfew from 21:00; reports on Mondays." if index % 2 else "",
            },
        )
    # The forklift apprenticeship (one place) ends up full: its only place is taken by a started placement.
    titles = [
        "Forklift driver trainee",
        "Warehouse operative",
        "Electrician course",
        "Kitchen assistant",
        "Welding course",
        "Building-site apprentice",
        "Warehouse operative",
        "Kitchen assistant",
        "Electrician course",
    ]
    order = [2, 1, 0, 3, 4, 5, 6, 7, 8]  # the first started placement takes the forklift place
    for n, walk_index in enumerate(order):
        steps, days_ago = WALKS[walk_index]
        opportunity = opportunities[titles[n]]
        free = [
            c
            for c in cases[n % len(cases) :] + cases[: n % len(cases)]
            if not Placement.objects.filter(case=c, opportunity=opportunity, status__in=LIVE).exists()
        ]
        if not free:
            continue
        case = free[0]
        proposed_on = today - datetime.timedelta(days=days_ago)
        placement = services.placement_propose(
            by=officer, case=case, opportunity=opportunity, proposed_on=proposed_on, note="Demo placement."
        )
        day = proposed_on
        for step in steps:
            # a week to accept and to start; an end a hundred days later
            gap = 7 if step in (PlacementStatus.ACCEPTED, PlacementStatus.STARTED) else 100
            day = min(day + datetime.timedelta(days=gap), today)
            reason = "" if step in (PlacementStatus.ACCEPTED, PlacementStatus.STARTED) else "Demo: see the notes."
            outcome = {}
            if step == PlacementStatus.COMPLETED:
                outcome = {"certificate": True, "certificate_name": "Course certificate", "employed_after": True}
                outcome["income_band"] = "minimum"
            placement = services.placement_move(
                by=officer, placement=placement, to_status=step, on=day, reason=reason, outcome=outcome
            )
        if placement.started_on:
            until = placement.ended_on or today
            for check_in in placement.check_ins.filter(due_on__lte=until):
                services.check_in_record(
                    by=officer,
                    check_in=check_in,
                    recorded_on=check_in.due_on,
                    data={
                        "still_there": True,
                        "hours_per_week": 35,
                        "participant_satisfaction": 4,
                        "partner_satisfaction": 3 + check_in.day % 2,
                        "issues": "",
                    },
                )
