"""Exit with an outcome snapshot, post-exit follow-ups, closure, re-opening."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import casefile_services as cs
from casemgmt.casefile import Outcome
from casemgmt.models import Stage
from casemgmt.services import case_reopen

TODAY = timezone.localdate


def _exit(case, by, on=None):
    return cs.case_exit(
        case=case,
        by=by,
        reason="goals_met",
        exited_on=on or TODAY(),
        outcome={"employment": "employed", "housing": "stable"},
    )


def test_exit_records_the_snapshot_and_schedules_follow_ups(demo, active_case):
    exited_on = datetime.date(2026, 8, 31)
    active_case.referral_date = datetime.date(2026, 1, 1)
    active_case.save(update_fields=["referral_date"])
    _exit(active_case, demo["caseworker"], exited_on)
    active_case.refresh_from_db()
    assert (active_case.stage, active_case.exit_reason, active_case.exited_on) == (Stage.EXITED, "goals_met", exited_on)
    rows = {o.kind: o for o in Outcome.objects.filter(case=active_case)}
    assert rows["exit"].employment == "employed"
    assert rows["exit"].recorded_on == exited_on
    # end of month handled: 31 August + 6 months is the last day of February
    assert rows["after_6"].due_on == datetime.date(2027, 2, 28)
    assert rows["after_12"].due_on == datetime.date(2027, 8, 31)
    assert rows["after_24"].due_on == datetime.date(2028, 8, 31)
    assert all(rows[k].recorded_on is None for k in ("after_6", "after_12", "after_24"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reason": "bored"}, "reason"),
        ({"exited_on": TODAY() + datetime.timedelta(days=3)}, "exited_on"),
        ({"outcome": {"employment": "astronaut"}}, "employment"),
        ({"outcome": {"salary": 1}}, "salary"),
    ],
)
def test_bad_exits_change_nothing(demo, active_case, kwargs, field):
    args = {"reason": "goals_met", "exited_on": TODAY(), "outcome": {}, **kwargs}
    with pytest.raises(ValidationError) as caught:
        cs.case_exit(case=active_case, by=demo["caseworker"], **args)
    assert field in caught.value.message_dict
    active_case.refresh_from_db()
    assert active_case.stage == Stage.ACTIVE
    assert not Outcome.objects.exists()


def test_a_bare_stage_move_cannot_exit(demo, active_case):
    from casemgmt.services import case_move_stage

    with pytest.raises(ValidationError, match="its own form"):
        case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="bye")


def test_the_lead_closes_only_after_the_follow_ups_a_manager_earlier(demo, active_case):
    _exit(active_case, demo["caseworker"])
    with pytest.raises(ValidationError, match="only a manager"):
        cs.case_close(case=active_case, by=demo["caseworker"], reason="done")
    for outcome in Outcome.objects.filter(case=active_case, recorded_on__isnull=True):
        cs.outcome_record(
            outcome=outcome,
            by=demo["caseworker"],
            recorded_on=TODAY(),
            data={"employment": "employed", "reoffended": False, "relapse": False},
        )
    cs.case_close(case=active_case, by=demo["caseworker"], reason="all follow-ups done")
    active_case.refresh_from_db()
    assert (active_case.stage, active_case.closed_on) == (Stage.CLOSED, TODAY())


def test_manager_closes_early(demo, active_case):
    _exit(active_case, demo["caseworker"])
    cs.case_close(case=active_case, by=demo["manager"], reason="moved abroad, no follow-up possible")
    active_case.refresh_from_db()
    assert active_case.stage == Stage.CLOSED


def test_reopening_then_a_second_exit_keeps_the_first_outcomes(demo, active_case):
    _exit(active_case, demo["caseworker"])
    case_reopen(case=active_case, by=demo["caseworker"], reason="asked for help")
    active_case.refresh_from_db()
    assert active_case.stage == Stage.ASSESSMENT  # no assessment on record: assess again
    from casemgmt.services import case_move_stage

    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.ACTIVE, reason="reassessed")
    _exit(active_case, demo["caseworker"])
    assert Outcome.objects.filter(case=active_case).count() == 8
    assert set(Outcome.objects.filter(case=active_case).values_list("episode", flat=True)) == {1, 2}


def test_follow_up_cannot_be_before_the_exit_nor_in_the_future(demo, active_case):
    _exit(active_case, demo["caseworker"])
    outcome = Outcome.objects.get(case=active_case, kind="after_6")
    with pytest.raises(ValidationError):
        cs.outcome_record(
            outcome=outcome, by=demo["caseworker"], recorded_on=TODAY() - datetime.timedelta(days=400), data={}
        )
    with pytest.raises(ValidationError):
        cs.outcome_record(
            outcome=outcome, by=demo["caseworker"], recorded_on=TODAY() + datetime.timedelta(days=4), data={}
        )


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("caseworker", 200),
        ("manager", 200),
        ("placement", 404),
        ("colleague", 404),
        ("caseworker2", 404),
        ("authority", 404),
    ],
)
def test_exit_and_close_endpoints(demo, active_case, username, status):
    api = APIClient()
    api.force_authenticate(demo[username])
    response = api.post(
        f"/api/v1/cases/{active_case.pk}/exit/",
        {"reason": "goals_met", "exited_on": str(TODAY()), "outcome": {"employment": "employed"}},
        format="json",
    )
    assert response.status_code == status
    if status == 200:
        assert response.json()["stage"] == "exited"
        close = api.post(f"/api/v1/cases/{active_case.pk}/close/", {"reason": "done"})
        assert close.status_code == (200 if username == "manager" else 400)


@pytest.mark.parametrize("username", ["caseworker", "manager", "placement", "colleague", "caseworker2", "authority"])
def test_outcome_fields_per_role(demo, active_case, username):
    _exit(active_case, demo["caseworker"])
    api = APIClient()
    api.force_authenticate(demo[username])
    rows = api.get("/api/v1/post-exit-outcomes/", {"case": active_case.pk}).json()["results"]
    if username in {"caseworker", "manager"}:
        assert len(rows) == 4
        assert "housing" in rows[0]
    elif username == "placement":
        assert len(rows) == 4
        assert set(rows[0]) == {"id", "case", "kind", "episode", "due_on", "recorded_on", "employment"}
    else:
        assert rows == []


def test_exit_page_flow(client, demo, active_case):
    client.force_login(demo["caseworker"])
    html = client.get(active_case.get_absolute_url()).content.decode()
    assert reverse("case-form", args=[active_case.pk, "exit"]) in html  # the form loads when opened
    form = client.get(reverse("case-form", args=[active_case.pk, "exit"]), HTTP_HX_REQUEST="true").content.decode()
    assert reverse("case-exit", args=[active_case.pk]) in form
    response = client.post(
        reverse("case-exit", args=[active_case.pk]),
        {"exit-reason": "moved", "exit-exited_on": str(TODAY()), "exit-employment": "unemployed"},
    )
    assert response.status_code == 302
    active_case.refresh_from_db()
    assert active_case.stage == Stage.EXITED
    outcome = Outcome.objects.get(case=active_case, kind="after_6")
    response = client.post(
        reverse("outcome-record", args=[active_case.pk, outcome.pk]),
        {"outcome-recorded_on": str(TODAY()), "outcome-employment": "employed", "outcome-reoffended": "false"},
    )
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert (outcome.employment, outcome.reoffended) == ("employed", False)
