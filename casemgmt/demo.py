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

from .casefile import GoalDomain
from .casefile_services import case_close, case_exit, outcome_record
from .models import Case, Eligibility, LegalStatus, ReferralSource, Stage, TeamRole
from .services import case_move_stage, case_open, team_member_add

# Demo data of the apps to the right, registered in their AppConfig.ready(); run after the cases.
EXTENSIONS: list = []


def register(seed):
    """Add a function seeding an app's demo rows; it must be idempotent (seed_demo may run twice)."""
    EXTENSIONS.append(seed)
    return seed


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


def seed_cases(count: int = 60) -> int:
    """60 cases (or `count`: the same mix repeated, for reports with volume, issue 12) over the six
    cities in all stages; returns how many were created (0 when present)."""
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
    plan = (plan * (count // len(plan) + 1))[:count]
    created = 0
    for index, (organisation, lead, opener) in enumerate(plan):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        target = working[index % len(working)] if index % 10 else Stage.REFERRAL
        # closed cases exited more than two years ago, so all their follow-ups could be done
        oldest = 1000 if lead and target == Stage.CLOSED else 700
        referral_date = timezone.localdate() - datetime.timedelta(days=rng.randint(oldest - 200, oldest))
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
        path = PATHS[target]
        seeded_file = False
        for stage in path:
            if stage == Stage.SCREENING:
                contact = min(referral_date + datetime.timedelta(days=rng.randint(1, 9)), timezone.localdate())
                Case.objects.filter(pk=case.pk).update(first_contact_date=contact)
            if stage in (Stage.ASSESSMENT, Stage.DECLINED) and path[0] == Stage.SCREENING:
                decision = Eligibility.ACCEPT if stage == Stage.ASSESSMENT else Eligibility.REFER_ELSEWHERE
                Case.objects.filter(pk=case.pk).update(eligibility=decision, eligibility_reason=_reason_for(stage))
            if stage == Stage.EXITED:
                exit_demo_case(
                    case=case,
                    lead=users[lead],
                    rng=rng,
                    referral_date=referral_date,
                    record_follow_ups=target == Stage.CLOSED,
                )
            elif stage == Stage.CLOSED:
                case_close(case=case, by=users[lead], reason=_reason_for(stage))
            else:
                case_move_stage(case=case, by=users[lead], to_stage=stage, reason=_reason_for(stage))
            if stage == Stage.ACTIVE and not seeded_file:
                # the file is written while the case is open; exits and closures come after
                seed_case_file(case=case, lead=users[lead], rng=rng, probation=probation, referral_date=referral_date)
                seeded_file = True
    return created


def exit_demo_case(*, case, lead, rng, referral_date, record_follow_ups: bool) -> None:
    from .casefile import Outcome

    exited_on = min(referral_date + datetime.timedelta(days=rng.randint(60, 150)), timezone.localdate())
    case_exit(
        case=case,
        by=lead,
        reason=rng.choice(["goals_met", "goals_met", "moved", "withdrew"]),
        exited_on=exited_on,
        outcome={
            "employment": rng.choice(Outcome.Employment.values),
            "housing": rng.choice(Outcome.Housing.values),
            "education": rng.choice(Outcome.Education.values),
            "family": rng.choice(Outcome.Family.values),
        },
    )
    today = timezone.localdate()
    for outcome in Outcome.objects.filter(case=case, recorded_on__isnull=True).order_by("due_on"):
        if record_follow_ups or outcome.due_on <= today:
            outcome_record(
                outcome=outcome,
                by=lead,
                recorded_on=min(outcome.due_on, today),
                data={
                    "employment": rng.choice(Outcome.Employment.values),
                    "housing": rng.choice(Outcome.Housing.values),
                    "reoffended": rng.random() < 0.1,
                    "relapse": rng.random() < 0.1,
                },
            )


NOTE_TEXTS = [
    "Met at the office; talked about the job search and the family situation.",
    "Phone call to plan the next mentoring session.",
    "Home visit with the family; the mother attended.",
    "Case conference with the probation officer and the mentor.",
    "Missed appointment; a new date was agreed by phone.",
]
GOALS = [
    (GoalDomain.IDEOLOGY, "Regular sessions of ideological review with the mentor"),
    (GoalDomain.FAMILY, "Rebuild contact with the family"),
    (GoalDomain.EMPLOYMENT, "Find stable work"),
    (GoalDomain.EDUCATION, "Complete a vocational course"),
    (GoalDomain.HOUSING, "Secure stable housing"),
    (GoalDomain.HEALTH, "Start psychological support"),
]
# A tiny valid PDF, so demo attachments open in any viewer.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def seed_case_file(*, case, lead, rng, probation, referral_date) -> None:
    """A plausible file for a case that reached `active`: everything recorded through the services."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .casefile import AssessmentTemplate, DataCategory, LegalEvent, Note, RelapseEvent, SafetyFlag, ServiceReferral
    from .casefile_services import assessment_record, attachment_add, goal_progress_add, record_create
    from .default_template import ensure_default_template
    from .services import case_profile_update

    today = timezone.localdate()

    def day_after(start, spread=60):
        return min(start + datetime.timedelta(days=rng.randint(1, spread)), today)

    ensure_default_template()
    template = AssessmentTemplate.objects.prefetch_related("domains__items").first()
    items = [item for domain in template.domains.all() for item in domain.items.all()]
    assessed = day_after(referral_date, 30)
    for _n in range(rng.choice([1, 2])):
        level = rng.choice([0, 1, 1, 2, 2, 3])
        answers = [
            {
                "item": item.pk,
                "rating": max(0, min(3, level + rng.choice([-1, 0, 0, 1]))),
                "evidence": "Interview and file review.",
                "information_quality": "medium",
            }
            for item in items
        ]
        assessment_record(
            case=case,
            by=lead,
            template=template,
            assessed_on=assessed,
            answers=answers,
            summary="Structured interview with the participant.",
        )
        assessed = day_after(assessed, 120)

    goals = []
    for domain, title in rng.sample(GOALS, 3):
        goal = record_create(
            key="goal",
            case=case,
            by=lead,
            data={
                "domain": domain,
                "title": title,
                "owner": lead,
                "target_date": today + datetime.timedelta(days=rng.randint(30, 200)),
            },
        )
        goal_progress_add(goal=goal, by=lead, date=day_after(referral_date, 90), note="First steps agreed.")
        goals.append(goal)
    for n in range(rng.randint(3, 6)):
        record_create(
            key="note",
            case=case,
            by=lead,
            data={
                "kind": rng.choice(Note.Kind.values),
                "date": day_after(referral_date, 200),
                "duration_minutes": rng.choice([15, 30, 45, 60]),
                "participants": "Participant, caseworker",
                "held": n % 5 != 4,
                "visibility": Note.Visibility.RESTRICTED if n == 0 else Note.Visibility.TEAM,
                "text": rng.choice(NOTE_TEXTS),
            },
        )
    status = rng.choice([LegalStatus.PROBATION, LegalStatus.NONE, LegalStatus.SENTENCED])
    case_profile_update(
        case=case,
        by=lead,
        changes={
            "legal_status": status,
            "legal_conditions": "Report weekly to the probation office; no travel abroad."
            if status == "probation"
            else "",
        },
    )
    record_create(
        key="legal_event",
        case=case,
        by=lead,
        data={
            "kind": LegalEvent.Kind.RELEASE,
            "date": referral_date,
            "description": "Released after serving the sentence.",
        },
    )
    record_create(
        key="legal_event",
        case=case,
        by=lead,
        data={
            "kind": LegalEvent.Kind.CONDITION,
            "date": referral_date,
            "description": "Weekly reporting to probation.",
        },
    )
    if rng.random() < 0.2:
        record_create(
            key="relapse_event",
            case=case,
            by=lead,
            data={
                "kind": RelapseEvent.Kind.REENGAGEMENT,
                "date": day_after(referral_date, 300),
                "description": "Contact with a former network reported by the family.",
            },
        )
    if rng.random() < 0.3:
        record_create(
            key="safety_flag",
            case=case,
            by=lead,
            data={"kind": rng.choice(SafetyFlag.Kind.values), "note": "Agreed at the case conference.", "active": True},
        )
    if rng.random() < 0.5:
        record_create(
            key="conflict_history",
            case=case,
            by=lead,
            data={
                "country": rng.choice(["Country A", "Country B"]),
                "from_date": datetime.date(2015, 3, 1),
                "to_date": datetime.date(2018, 6, 1),
                "group_affiliation": "Armed group (synthetic)",
                "role": "Logistics",
                "account": "Synthetic account for the demo.",
            },
        )
    consent = record_create(
        key="consent",
        case=case,
        by=lead,
        data={
            "purpose": "Coordination with probation",
            "recipient": probation,
            "categories": rng.sample(
                [DataCategory.PROGRAM_STAGE, DataCategory.COMPLIANCE, DataCategory.LEGAL_STATUS, DataCategory.IDENTITY],
                2,
            ),
            "given_on": day_after(referral_date, 20),
            "expires_on": today + datetime.timedelta(days=rng.randint(20, 300)),
        },
    )
    attachment_add(
        case=case,
        by=lead,
        upload=SimpleUploadedFile("signed-consent.pdf", DEMO_PDF),
        record_type="consent",
        record_id=consent.pk,
        description="Signed consent form",
    )
    health = next((g for g in goals if g.domain == GoalDomain.HEALTH), None)
    record_create(
        key="service_referral",
        case=case,
        by=lead,
        data={
            "kind": ServiceReferral.Kind.PSYCHOLOGICAL if health else ServiceReferral.Kind.DOCUMENTS,
            "provider": "Regional health centre" if health else "Civil registry office",
            "referred_on": day_after(referral_date, 60),
            "status": ServiceReferral.Status.IN_PROGRESS,
            "goal": health,
        },
    )


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


def seed_follow_ups() -> None:
    """After every app's demo rows (whose services scheduled their follow-ups): run the gap sweep, deliver
    what is due (the bell), snooze two and complete two of the demo caseworker's, so the demo shows
    due, overdue, snoozed and done follow-ups. Idempotent: keys and states make a second run a no-op."""
    from . import followup_services, followups
    from .followup_models import FollowUp, FollowUpStatus

    followups.sweep()
    while followups.deliver_due():
        pass
    mine = FollowUp.objects.filter(assignee__username="caseworker").order_by("due_on", "pk")
    if not mine.filter(status=FollowUpStatus.SNOOZED).exists():
        for row in mine.filter(status=FollowUpStatus.PENDING)[:2]:
            followup_services.followup_snooze(
                follow_up=row,
                by=row.assignee,
                until=timezone.localdate() + datetime.timedelta(days=5),
                reason="On leave",
            )
    if not mine.filter(status=FollowUpStatus.DONE, completed_with="").exists():
        for row in mine.filter(status=FollowUpStatus.PENDING)[:2]:
            followup_services.followup_complete(follow_up=row, by=row.assignee, note="Done by phone")


def seed_data_subject() -> None:
    """Issue 10: a data-subject export waiting for the manager's approval, and one closed case past the
    retention period listed for the manager's review. Idempotent."""
    from . import retention, subject_export
    from .dpo_models import RetentionReview, SubjectExportRequest

    lead = User.objects.get(username="caseworker")
    if not SubjectExportRequest.objects.exists():
        case = Case.objects.filter(team__user=lead, team__is_lead=True, stage=Stage.ACTIVE).order_by("pk").first()
        if case is not None:
            subject_export.subject_export_request(case=case, by=lead)
    if not RetentionReview.objects.exists():
        closed = Case.objects.filter(stage=Stage.CLOSED, organisation__name="Northern Reintegration Centre")
        case = closed.order_by("pk").first()
        if case is not None:
            # closed long enough ago for the default period of two years
            Case.objects.filter(pk=case.pk).update(closed_on=timezone.localdate() - datetime.timedelta(days=800))
            retention.list_due()
