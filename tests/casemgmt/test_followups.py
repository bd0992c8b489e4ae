"""Follow-ups (issue 9, first part): the core's cadence rules, idempotent scheduling, delivery once,
reassignment when the assignee lost access, e-mails without names, escalation after the delay."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from casemgmt import followups
from casemgmt.casefile_services import add_months, assessment_record, case_exit, outcome_record, record_create
from casemgmt.followup_models import FollowUp, Notification, OrganisationRuleSetting
from casemgmt.models import Stage
from casemgmt.services import case_move_stage, team_member_add, team_member_remove
from tests.casemgmt.conftest import answers_for
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def eager_tasks():
    """Tasks run in this process (the real worker's turn is in test_followup_delivery.py)."""
    from casemgmt.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _open(demo):
    return CaseFactory(
        organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
    )


def _rows(case, kind):
    return list(FollowUp.objects.filter(case=case, kind=kind).order_by("due_on"))


def test_first_contact_is_due_a_week_after_the_referral_and_done_by_the_screening(demo):
    case = _open(demo)
    (row,) = _rows(case, "first_contact")
    assert row.due_on == case.referral_date + datetime.timedelta(days=7)
    assert row.assignee == demo["caseworker"]
    from casemgmt.casefile_services import case_screen

    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="walk")
    case_screen(case=case, by=demo["caseworker"], first_contact_date=TODAY(), decision="accept", reason="fits")
    row.refresh_from_db()
    assert row.status == "done"
    (assessment,) = _rows(case, "initial_assessment")
    assert assessment.due_on == TODAY() + datetime.timedelta(days=14)


@pytest.mark.parametrize(("band", "months"), [("high", 3), ("medium", 6), ("low", 12)])
def test_reassessment_by_band_and_the_next_assessment_replaces_it(demo, template, band, months):
    case = _open(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    rating = {"high": 3, "medium": 2, "low": 0}[band]
    day = TODAY() - datetime.timedelta(days=2)
    first = assessment_record(
        case=case, by=demo["caseworker"], template=template, assessed_on=day, answers=answers_for(template, rating)
    )
    assert first.risk_band == band
    (row,) = [r for r in _rows(case, "reassessment") if r.status == "pending"]
    assert row.due_on == add_months(day, months)
    assert _rows(case, "initial_assessment")[0].status == "done"
    assessment_record(
        case=case, by=demo["caseworker"], template=template, assessed_on=TODAY(), answers=answers_for(template, rating)
    )
    statuses = sorted(r.status for r in _rows(case, "reassessment"))
    assert statuses == ["done", "pending"]


def test_an_organisation_changes_the_interval(demo, template):
    from casemgmt.followup_models import FollowUpRule

    followups.rule_row("reassessment")
    OrganisationRuleSetting.objects.create(
        organisation=demo["caseworker"].membership.organisation,
        rule=FollowUpRule.objects.get(key="reassessment"),
        params={"months": {"high": 1, "medium": 2, "low": 4}},
    )
    case = _open(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    assessment_record(
        case=case, by=demo["caseworker"], template=template, assessed_on=TODAY(), answers=answers_for(template, 3)
    )
    (row,) = _rows(case, "reassessment")
    assert row.due_on == add_months(TODAY(), 1)


def test_consent_expiry_a_month_before_and_withdrawal_cancels(demo):
    case = _open(demo)
    consent = record_create(
        key="consent",
        case=case,
        by=demo["caseworker"],
        data={
            "purpose": "Probation",
            "categories": ["identity"],
            "given_on": TODAY(),
            "expires_on": TODAY() + datetime.timedelta(days=90),
        },
    )
    (row,) = _rows(case, "consent_expiry")
    assert row.due_on == TODAY() + datetime.timedelta(days=60)
    from casemgmt.casefile_services import record_update

    record_update(key="consent", record=consent, by=demo["caseworker"], data={"withdrawn_on": TODAY()})
    row.refresh_from_db()
    assert row.status == "cancelled"


def test_exit_schedules_the_post_exit_follow_ups_and_recording_one_completes_it(demo):
    case = _open(demo)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    exited = TODAY() - datetime.timedelta(days=1)
    case_exit(case=case, by=demo["caseworker"], reason="goals_met", exited_on=exited, outcome={})
    rows = _rows(case, "post_exit_outcome")
    assert [r.due_on for r in rows] == [add_months(exited, m) for m in (6, 12, 24)]
    from casemgmt.casefile import Outcome

    six = Outcome.objects.get(case=case, kind=Outcome.Kind.AFTER_6)
    outcome_record(outcome=six, by=demo["caseworker"], recorded_on=TODAY(), data={})
    assert sorted(r.status for r in _rows(case, "post_exit_outcome")) == ["done", "pending", "pending"]


def test_a_rule_that_runs_twice_creates_nothing_new(demo):
    case = _open(demo)
    before = FollowUp.objects.count()
    followups.changed("case.opened", case, by=demo["manager"])
    followups.changed("case.opened", case, by=demo["manager"])
    assert FollowUp.objects.count() == before


def test_delivery_notifies_once_and_mails_a_code_and_a_link_never_a_name(
    demo, django_capture_on_commit_callbacks, eager_tasks
):
    case = _open(demo)
    (row,) = _rows(case, "first_contact")
    with time_machine.travel(datetime.datetime.combine(row.due_on, datetime.time(9)).astimezone()):
        with django_capture_on_commit_callbacks(execute=True):
            assert followups.deliver_due() == 1
        assert followups.deliver_due() == 0  # already delivered
    (notification,) = Notification.objects.filter(follow_up=row)
    assert notification.user == demo["caseworker"]
    (message,) = mail.outbox
    participant = case.participant
    assert participant.case_code in message.subject
    assert f"/cases/{case.pk}/" in message.body
    for secret in (participant.given_name_latin, participant.family_name_latin, participant.family_name_arabic):
        assert secret not in message.subject + message.body
    assert message.extra_headers["Message-ID"].startswith(f"<notification-{notification.pk}@")
    followups.send_email(notification.pk)  # a retry of the e-mail task sends nothing more
    assert len(mail.outbox) == 1


def test_an_e_mail_whose_task_was_lost_is_sent_by_a_later_delivery_run_once(demo):
    """The broker fails right after a delivery batch committed: its e-mail task never runs. The next
    minute's delivery task sends what is unsent after EMAIL_RESEND_AFTER, and only once."""
    from casemgmt import tasks

    case = _open(demo)
    (row,) = _rows(case, "first_contact")
    due = datetime.datetime.combine(row.due_on, datetime.time(9)).astimezone()
    with time_machine.travel(due):
        assert followups.deliver_due() == 1  # no on-commit callbacks run here: the e-mail task is lost
    assert mail.outbox == []
    with time_machine.travel(due + datetime.timedelta(minutes=1)):
        tasks.deliver_follow_ups()  # too early: its own task may still be on its way
    assert mail.outbox == []
    with time_machine.travel(due + followups.EMAIL_RESEND_AFTER + datetime.timedelta(minutes=1)):
        tasks.deliver_follow_ups()
        tasks.deliver_follow_ups()
    (message,) = mail.outbox
    assert case.participant.case_code in message.subject
    assert Notification.objects.get(follow_up=row).email_sent_at is not None


def test_an_assignee_who_lost_access_is_not_notified_the_lead_is(demo):
    case = _open(demo)
    team_member_add(case=case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    row = followups.schedule(case=case, kind="first_contact", due_on=TODAY(), suffix="colleague")
    row.assignee = demo["colleague"]
    row.save()
    team_member_remove(member=case.team.get(user=demo["colleague"]), by=demo["caseworker"])
    followups.deliver_due()
    row.refresh_from_db()
    assert row.assignee == demo["caseworker"]
    assert not Notification.objects.filter(user=demo["colleague"]).exists()
    assert Notification.objects.filter(follow_up=row, user=demo["caseworker"]).exists()


def test_a_delivery_batch_costs_as_many_queries_for_fifty_follow_ups_as_for_three(
    demo, django_capture_on_commit_callbacks, eager_tasks
):
    """Claim, access re-check (per assignee), hand-over of those who lost access (per batch), notifications
    and the e-mail task: a fixed number of queries per batch, however many rows it holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    mine, handed_over = _open(demo), _open(demo)  # `colleague` is on neither team: the lead gets theirs

    def deliver(n: int, label: str) -> int:
        for case, user in ((mine, demo["caseworker"]), (handed_over, demo["colleague"])):
            FollowUp.objects.bulk_create(
                FollowUp(case=case, kind="first_contact", due_on=TODAY(), assignee=user, key=f"{label}:{case.pk}:{i}")
                for i in range(n)
            )
        mail.outbox.clear()
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            assert followups.deliver_due() == 2 * n
        assert len(mail.outbox) == 2 * n  # one e-mail task for the batch, one e-mail per notification
        return len(queries)

    FollowUp.objects.filter(case__in=[mine, handed_over]).delete()
    few, many = deliver(3, "few"), deliver(50, "many")
    assert many <= few
    assert not Notification.objects.filter(user=demo["colleague"]).exists()
    assert set(FollowUp.objects.values_list("assignee", flat=True)) == {demo["caseworker"].pk}
    assert Notification.objects.count() == FollowUp.objects.count() == 106  # one each


def test_escalation_to_the_manager_after_the_delay(demo):
    case = _open(demo)
    (row,) = _rows(case, "first_contact")
    followups.deliver_due(today=row.due_on)
    assert followups.escalate_overdue(today=row.due_on + datetime.timedelta(days=6)) == 0  # not yet
    assert followups.escalate_overdue(today=row.due_on + datetime.timedelta(days=7)) == 1
    row.refresh_from_db()
    assert row.status == "escalated"
    assert Notification.objects.get(follow_up=row, purpose="escalation").user == demo["manager"]
    assert followups.escalate_overdue(today=row.due_on + datetime.timedelta(days=9)) == 0


def test_closing_or_declining_cancels_what_is_left(demo):
    case = _open(demo)
    case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="walk")
    from casemgmt.casefile_services import case_screen

    case_screen(case=case, by=demo["caseworker"], first_contact_date=TODAY(), decision="decline", reason="not for us")
    assert {r.status for r in FollowUp.objects.filter(case=case)} <= {"done", "cancelled"}
