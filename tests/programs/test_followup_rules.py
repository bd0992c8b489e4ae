"""The apps' cadence rules registered with the core: placement check-ins, mentoring and family gaps,
hearings; each produces the right due dates (time-machine) and a second sweep creates nothing new."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from casemgmt import followups
from casemgmt.casefile_services import record_create
from casemgmt.followup_models import FollowUp, Notification
from casemgmt.models import Stage
from programs import mentoring_services as ms
from programs import placement_services as ps
from tests.factories import case_move_stage, northern_case
from tests.programs.helpers import activate, make_profile
from tests.programs.placements.conftest import make_opportunity, make_partner

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _at(day: datetime.date):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(10)).astimezone(), tick=False)


@pytest.fixture
def active(demo):
    case = northern_case(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    return case


def test_placement_check_ins_remind_the_officer_and_go_with_the_placement(demo, active):
    officer = demo["placement"]
    opportunity = make_opportunity(officer, make_partner(officer), places=2)
    placement = ps.placement_propose(by=officer, case=active, opportunity=opportunity, proposed_on=TODAY())
    ps.placement_move(by=officer, placement=placement, to_status="accepted", on=TODAY())
    ps.placement_move(by=officer, placement=placement, to_status="started", on=TODAY())
    rows = list(FollowUp.objects.filter(case=active, kind="placement_check_in").order_by("due_on"))
    assert [r.due_on for r in rows] == [TODAY() + datetime.timedelta(days=d) for d in (30, 90, 180)]
    assert {r.assignee for r in rows} == {officer}
    first = placement.check_ins.get(day=30)
    ps.check_in_record(by=officer, check_in=first, recorded_on=TODAY(), data={"still_there": True})
    ps.placement_move(by=officer, placement=placement, to_status="dropped_out", on=TODAY(), reason="moved away")
    assert [r.status for r in FollowUp.objects.filter(case=active, kind="placement_check_in").order_by("due_on")] == [
        "done",
        "cancelled",
        "cancelled",
    ]


def test_a_mentoring_gap_reminds_the_mentor_at_14_days_and_the_lead_at_21(demo, active):
    make_profile(demo["supervisor"], demo["mentor"])
    assignment = activate(active, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])
    start = assignment.started_on
    with _at(start + datetime.timedelta(days=13)):
        followups.sweep()
    assert not FollowUp.objects.filter(kind="mentoring_gap").exists()
    with _at(start + datetime.timedelta(days=14)):
        followups.sweep()
        followups.sweep()  # a second sweep creates nothing new
    (gap,) = FollowUp.objects.filter(kind="mentoring_gap")
    assert gap.due_on == start + datetime.timedelta(days=14)
    assert gap.assignee == demo["mentor"]
    followups.deliver_due(today=gap.due_on)
    gap.refresh_from_db()
    assert gap.notified_at is not None
    followups.escalate_overdue(today=start + datetime.timedelta(days=20))
    gap.refresh_from_db()
    assert gap.status == "pending"
    followups.escalate_overdue(today=start + datetime.timedelta(days=21))
    gap.refresh_from_db()
    assert gap.status == "escalated"
    assert Notification.objects.get(follow_up=gap, purpose="escalation").user == demo["caseworker"]


def test_an_attended_session_closes_the_gap(demo, active):
    make_profile(demo["supervisor"], demo["mentor"])
    assignment = activate(active, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])
    with _at(assignment.started_on + datetime.timedelta(days=15)):
        followups.sweep()
        ms.session_log(
            by=demo["mentor"],
            assignment=assignment,
            data={
                "starts_at": timezone.now() - datetime.timedelta(hours=1),
                "place_type": "office",
                "status": "attended",
                "duration_minutes": 30,
            },
        )
        assert FollowUp.objects.get(kind="mentoring_gap").status == "done"
        followups.sweep()  # the last session is today: no new gap
        assert FollowUp.objects.filter(kind="mentoring_gap").count() == 1


def test_a_family_contact_gap_reminds_the_counsellor_at_30_days(demo, active):
    from families import services as fs

    relative = fs.member_add(
        case=active, by=demo["caseworker"], relation="mother", data={"given_name": "A", "family_name": "B"}
    ).member
    engagement = fs.engagement_create(
        case=active, by=demo["caseworker"], kind="legal", members=[relative], counsellors=[demo["counsellor"]]
    )
    with _at(engagement.started_on + datetime.timedelta(days=29)):
        followups.sweep()
    assert not FollowUp.objects.filter(kind="family_gap").exists()
    with _at(engagement.started_on + datetime.timedelta(days=30)):
        followups.sweep()
        followups.sweep()
    (gap,) = FollowUp.objects.filter(kind="family_gap")
    assert gap.assignee == demo["counsellor"]
    assert gap.due_on == engagement.started_on + datetime.timedelta(days=30)


def test_hearings_are_reminded_a_week_and_a_day_before(demo, active):
    hearing_day = TODAY() + datetime.timedelta(days=10)
    event = record_create(
        key="legal_event", case=active, by=demo["caseworker"], data={"kind": "hearing", "date": hearing_day}
    )
    dues = sorted(FollowUp.objects.filter(kind="court_date").values_list("due_on", flat=True))
    assert dues == [hearing_day - datetime.timedelta(days=7), hearing_day - datetime.timedelta(days=1)]
    from casemgmt.casefile_services import record_update

    record_update(
        key="legal_event", record=event, by=demo["caseworker"], data={"date": hearing_day + datetime.timedelta(days=2)}
    )
    pending = sorted(FollowUp.objects.filter(kind="court_date", status="pending").values_list("due_on", flat=True))
    assert pending == [hearing_day - datetime.timedelta(days=5), hearing_day + datetime.timedelta(days=1)]
