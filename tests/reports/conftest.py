"""A hand-built data set with known answers, written through the services where the business rules
live (opening, screening, assessing, exiting, re-opening, transferring), on fixed dates.

Northern (manager `manager`), period 2026-01-01 … 2026-11-25 (today in these tests):
  A  family referral 2026-03-02, Tangier, lead `caseworker`; first contact 2026-03-05 (3 days),
     accepted; assessed high 2026-03-20; first goal 2026-03-30 (plan 10 days); assessed low
     2026-06-01; exited 2026-07-01 (goals met; employed, in training); RE-OPENED 2026-08-01 → active.
  B  prison-release referral 2026-04-10, Casablanca, lead `colleague`; contact 2026-04-17; accepted;
     TRANSFERRED to Atlantic 2026-05-01 (counts for Atlantic only, its history included).
  C  court-order referral 2026-05-05, Tetouan, no lead, never contacted (stage referral).
  D  family referral 2026-06-10, Tangier, lead `caseworker`; contact 2026-06-15 (5 days), declined.
Atlantic (manager `atlantic_manager`): E self-referral 2026-03-15, lead `caseworker2`; and B.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from accounts.models import City, Membership, Organisation, Role, User
from casemgmt import casefile_services as cs
from casemgmt import services
from casemgmt.casefile import AssessmentTemplate
from casemgmt.default_template import ensure_default_template
from casemgmt.followup_models import FollowUp
from casemgmt.models import Case, Stage
from tests.factories import participant_data

TZ = zoneinfo.ZoneInfo("Africa/Casablanca")
TODAY = datetime.date(2026, 11, 25)
START = datetime.date(2026, 1, 1)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def moment(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(d(day), datetime.time(hour), tzinfo=TZ)


@pytest.fixture
def clock():
    """Walk the calendar: `clock(day)` moves "now" to 10:00 that day (no ticking)."""
    traveller = time_machine.travel(moment("2026-01-01"), tick=False)
    frozen = traveller.start()

    def move(day: str, hour: int = 10):
        frozen.move_to(moment(day, hour))

    yield move
    traveller.stop()


@pytest.fixture
def atlantic(demo):
    return Organisation.objects.get(name="Atlantic Family Support Association")


@pytest.fixture
def atlantic_manager(demo, atlantic):
    user = User.objects.create_user(
        "atlantic-manager", password="x-long-password-2026", first_name="Awa", last_name="Test"
    )
    Membership.objects.create(user=user, organisation=atlantic, role=Role.MANAGER)
    return user


def open_case(demo, *, by, organisation, day, source, city, lead=None, n=0) -> Case:
    return services.case_open(
        by=by,
        organisation=organisation,
        participant=participant_data(n=n, city=City.objects.get(code=city)),
        referral_source=source,
        referral_date=d(day),
        referral_reason="Known-answer referral",
        lead=lead,
    )


def answers(template, rating):
    items = [item for domain in template.domains.prefetch_related("items") for item in domain.items.all()]
    return [
        {
            "item": item.pk,
            "rating": 0 if item.kind == "protective" else rating,
            "evidence": "interview",
            "information_quality": "high",
        }
        for item in items
    ]


@pytest.fixture
def known(demo, clock, atlantic, atlantic_manager):
    """The data set of the module docstring; returns the cases by letter."""
    ensure_default_template()
    template = AssessmentTemplate.objects.get()
    northern = demo["manager"].membership.organisation
    cw, colleague, manager = demo["caseworker"], demo["colleague"], demo["manager"]

    clock("2026-03-02")
    a = open_case(demo, by=manager, organisation=northern, day="2026-03-02", source="family", city="TNG", lead=cw, n=1)
    clock("2026-03-05")
    services.case_move_stage(case=a, by=cw, to_stage=Stage.SCREENING, reason="screen")
    cs.case_screen(case=a, by=cw, first_contact_date=d("2026-03-05"), decision="accept", reason="fits")
    clock("2026-03-15")
    e = open_case(
        demo,
        by=demo["caseworker2"],
        organisation=atlantic,
        day="2026-03-15",
        source="self",
        city="CAS",
        lead=demo["caseworker2"],
        n=5,
    )
    clock("2026-03-20")
    cs.assessment_record(case=a, by=cw, template=template, assessed_on=d("2026-03-20"), answers=answers(template, 3))
    clock("2026-03-30")
    cs.record_create(key="goal", case=a, by=cw, data={"domain": "employment", "title": "Find work", "owner": cw})
    services.case_move_stage(case=a, by=cw, to_stage=Stage.ACTIVE, reason="plan made")

    clock("2026-04-10")
    b = open_case(
        demo,
        by=manager,
        organisation=northern,
        day="2026-04-10",
        source="prison_release",
        city="CAS",
        lead=colleague,
        n=2,
    )
    clock("2026-04-17")
    services.case_move_stage(case=b, by=colleague, to_stage=Stage.SCREENING, reason="screen")
    cs.case_screen(case=b, by=colleague, first_contact_date=d("2026-04-17"), decision="accept", reason="fits")
    clock("2026-04-20")
    cs.assessment_record(
        case=b, by=colleague, template=template, assessed_on=d("2026-04-20"), answers=answers(template, 1)
    )
    consent = cs.record_create(
        key="consent",
        case=b,
        by=colleague,
        data={"purpose": "Transfer", "recipient": atlantic, "categories": ["identity"], "given_on": d("2026-04-20")},
    )
    clock("2026-05-01")
    transfer = cs.transfer_request(case=b, by=colleague, to_organisation=atlantic, consent=consent, reason="Moved")
    cs.transfer_decide(transfer=transfer, by=atlantic_manager, accept=True)

    clock("2026-05-05")
    c = open_case(demo, by=manager, organisation=northern, day="2026-05-05", source="court_order", city="TET", n=3)
    clock("2026-06-01")
    cs.assessment_record(case=a, by=cw, template=template, assessed_on=d("2026-06-01"), answers=answers(template, 0))
    clock("2026-06-10")
    dd = open_case(demo, by=manager, organisation=northern, day="2026-06-10", source="family", city="TNG", lead=cw, n=4)
    clock("2026-06-15")
    services.case_move_stage(case=dd, by=cw, to_stage=Stage.SCREENING, reason="screen")
    cs.case_screen(case=dd, by=cw, first_contact_date=d("2026-06-15"), decision="decline", reason="not eligible")
    clock("2026-07-01")
    cs.case_exit(
        case=a,
        by=cw,
        reason="goals_met",
        exited_on=d("2026-07-01"),
        outcome={"employment": "employed", "education": "in_training"},
    )
    clock("2026-08-01")
    services.case_reopen(case=a, by=manager, reason="Asked for support again")
    clock("2026-11-25", 12)
    cases = {"A": a, "B": b, "C": c, "D": dd, "E": e}
    for case in cases.values():
        case.refresh_from_db()
    return cases


@pytest.fixture
def follow_ups(demo, known):
    """Replace the generated follow-ups by a known set: what is overdue today is decided here."""
    FollowUp.objects.all().delete()
    a, c, e = known["A"], known["C"], known["E"]

    def row(case, kind, due, who, status="pending", **extra):
        return FollowUp.objects.create(
            case=case, kind=kind, due_on=d(due), assignee=who, status=status, key=f"t-{case.pk}-{kind}-{due}", **extra
        )

    row(a, "plan_review", "2026-11-01", demo["caseworker"])  # overdue
    row(a, "reassessment", "2026-11-10", demo["caseworker"], status="escalated")  # overdue
    row(c, "first_contact", "2026-05-12", demo["manager"])  # overdue
    row(a, "case_conference", "2026-11-30", demo["caseworker"])  # not yet due
    row(a, "consent_expiry", "2026-10-01", demo["caseworker"], status="done")  # done
    row(a, "hearing", "2026-11-20", demo["caseworker"], status="snoozed", snoozed_until=d("2026-12-01"))  # waits
    row(e, "first_contact", "2026-03-22", demo["caseworker2"])  # Atlantic's
