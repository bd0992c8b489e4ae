"""Synthetic demo cases for seed_demo: invented names in Arabic and Latin script, Faker for the rest.

Given and family names are combined at random from short lists of common name parts, so no
combination names a real person on purpose; never add the name of a real person here.
"""

from __future__ import annotations

import datetime
import random

from django.utils import timezone
from faker import Faker

from accounts.models import City, Organisation, User

from .models import Case, ReferralSource, Stage, TeamRole
from .services import case_move_stage, case_open, team_member_add

GIVEN = [
    ("Youssef", "يوسف"),
    ("Hamza", "حمزة"),
    ("Ayoub", "أيوب"),
    ("Anas", "أنس"),
    ("Bilal", "بلال"),
    ("Ilyas", "إلياس"),
    ("Zakaria", "زكرياء"),
    ("Soufiane", "سفيان"),
    ("Mehdi", "مهدي"),
    ("Imad", "عماد"),
    ("Nabil", "نبيل"),
    ("Adil", "عادل"),
    ("Tarik", "طارق"),
    ("Khalid", "خالد"),
    ("Reda", "رضا"),
    ("Fatima Zahra", "فاطمة الزهراء"),
    ("Khadija", "خديجة"),
    ("Meryem", "مريم"),
    ("Sanae", "سناء"),
    ("Houda", "هدى"),
]
FAMILY = [
    ("El Amrani", "العمراني"),
    ("Bouzid", "بوزيد"),
    ("Ait Said", "آيت سعيد"),
    ("Ouali", "والي"),
    ("Benjelloun", "بنجلون"),
    ("Tahiri", "الطاهري"),
    ("Zerouali", "الزروالي"),
    ("Mansouri", "المنصوري"),
    ("Haddaoui", "الحداوي"),
    ("Slimani", "السليماني"),
    ("Rifi", "الريفي"),
    ("Chaoui", "الشاوي"),
    ("Lamrini", "اللمريني"),
    ("Guerraoui", "الݣراوي"),
    ("Naji", "ناجي"),
    ("Bakkali", "البقالي"),
]
REASONS = [
    "Released after sentence; family asked for support.",
    "Returned from a conflict zone; referred by the prosecutor's office.",
    "Probation condition: take part in a reintegration program.",
    "Self-referral after a religious counselling session.",
    "Referred by a partner NGO working in the neighbourhood.",
]
# The path a case has walked to reach each stage.
PATHS = {
    Stage.REFERRAL: [],
    Stage.SCREENING: [Stage.SCREENING],
    Stage.ASSESSMENT: [Stage.SCREENING, Stage.ASSESSMENT],
    Stage.ACTIVE: [Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE],
    Stage.REVIEW: [Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.REVIEW],
    Stage.EXITED: [Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED],
    Stage.CLOSED: [Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED, Stage.CLOSED],
    Stage.DECLINED: [Stage.SCREENING, Stage.DECLINED],
}


def seed_cases() -> int:
    """60 cases over the six cities in all stages; returns how many were created (0 when present)."""
    if Case.objects.exists():
        return 0
    fake = Faker(["fr_FR"])
    Faker.seed(2026)
    rng = random.Random(2026)  # noqa: S311  # nosec B311 - demo data, not security
    northern = Organisation.objects.get(name="Northern Reintegration Centre")
    atlantic = Organisation.objects.get(name="Atlantic Family Support Association")
    probation = Organisation.objects.get(name="Regional Probation Office")
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["caseworker", "colleague", "placement", "manager", "caseworker2"])
    }
    cities = list(City.objects.order_by("code"))
    working = [
        Stage.SCREENING,
        Stage.ASSESSMENT,
        Stage.ACTIVE,
        Stage.ACTIVE,
        Stage.REVIEW,
        Stage.EXITED,
        Stage.CLOSED,
        Stage.DECLINED,
    ]

    plan = (
        [(northern, "caseworker", "manager")] * 20
        + [(northern, "colleague", "manager")] * 20
        + [(northern, None, "manager")] * 5
        + [(atlantic, "caseworker2", "caseworker2")] * 15
    )
    created = 0
    for index, (organisation, lead, opener) in enumerate(plan):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        referral_date = timezone.localdate() - datetime.timedelta(days=rng.randint(10, 700))
        source = rng.choice(ReferralSource.values)
        case = case_open(
            by=users[opener],
            organisation=organisation,
            participant={
                "given_name_latin": given[0],
                "family_name_latin": family[0],
                "given_name_arabic": given[1],
                "family_name_arabic": family[1],
                "date_of_birth": fake.date_of_birth(minimum_age=19, maximum_age=55),
                "national_id": f"{rng.choice('ABCDGHJKL')}{rng.choice('ABCDEFGHJK')}{rng.randint(100000, 999999)}",
                "city": cities[index % len(cities)],
                "languages": rng.choice([["ar"], ["ar", "fr"], ["ar", "ber"], ["ar", "es"], ["ar", "fr", "nl"]]),
                "phone": f"+212 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
                "email": "",
                "address": fake.street_address(),
            },
            referral_source=source,
            referral_date=referral_date,
            referring_organisation=probation
            if source in (ReferralSource.PRISON_RELEASE, ReferralSource.COURT_ORDER)
            else None,
            referral_reason=rng.choice(REASONS),
            lead=users[lead] if lead else None,
        )
        created += 1
        if lead is None:
            continue  # new referrals wait in the manager's intake queue
        if lead == "caseworker" and index % 3 == 0:
            team_member_add(case=case, by=users[lead], user=users["placement"], role=TeamRole.PLACEMENT_OFFICER)
        for stage in PATHS[working[index % len(working)] if index % 10 else Stage.REFERRAL]:
            case_move_stage(case=case, by=users[lead], to_stage=stage, reason=_reason_for(stage))
    return created


def _reason_for(stage: str) -> str:
    return {
        Stage.SCREENING: "First contact made; screening interview planned.",
        Stage.ASSESSMENT: "Eligible: accepted into the program.",
        Stage.ACTIVE: "Assessment done; plan agreed with the participant.",
        Stage.REVIEW: "Quarterly plan review.",
        Stage.EXITED: "Goals met; participant leaves the program.",
        Stage.CLOSED: "Last follow-up done.",
        Stage.DECLINED: "Referred elsewhere: needs a specialised health service first.",
    }[stage]
