"""Holes found in review of the case journey, kept shut."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, User
from casemgmt import casefile_services as cs
from casemgmt.casefile import Outcome
from casemgmt.models import SavedSearch, Stage
from casemgmt.services import case_reopen, team_member_add
from tests.factories import case_move_stage, northern_case

TODAY = timezone.localdate


@pytest.fixture
def atlantic(demo):
    org = Organisation.objects.get(name="Atlantic Family Support Association")
    boss = User.objects.create_user("atl-boss", password="x-long-password-2026")
    Membership.objects.create(user=boss, organisation=org, role=Role.MANAGER)
    return org, boss


def _transfer(demo, case, org, reason="SECRET-REASON"):
    consent = cs.record_create(
        key="consent",
        case=case,
        by=demo["caseworker"],
        data={"purpose": "Transfer", "recipient": org, "categories": ["identity"], "given_on": TODAY()},
    )
    return cs.transfer_request(
        case=case, by=demo["caseworker"], to_organisation=org, consent=consent, reason=reason
    ), consent


def test_receiver_sees_only_the_case_code_before_accepting(client, demo, active_case, atlantic):
    org, boss = atlantic
    _transfer(demo, active_case, org)
    client.force_login(boss)
    assert "SECRET-REASON" not in client.get(reverse("transfer-list")).content.decode()
    api = APIClient()
    api.force_authenticate(boss)
    row = api.get("/api/v1/transfers/").json()["results"][0]
    assert "reason" not in row
    assert "case" not in row
    assert row["case_code"] == active_case.participant.case_code
    api.force_authenticate(demo["manager"])  # the sender sees its own reason
    assert api.get("/api/v1/transfers/").json()["results"][0]["reason"] == "SECRET-REASON"


def test_sending_ngo_restricted_notes_stay_with_their_authors(demo, active_case, atlantic):
    org, boss = atlantic
    cs.record_create(
        key="note",
        case=active_case,
        by=demo["caseworker"],
        data={"kind": "call", "date": TODAY(), "visibility": "restricted", "text": "OLD-ORG-SECRET"},
    )
    transfer, _ = _transfer(demo, active_case, org)
    cs.transfer_decide(transfer=transfer, by=boss, accept=True)
    from casemgmt.services import team_set_lead

    active_case.refresh_from_db()
    team_set_lead(case=active_case, by=boss, user=demo["caseworker2"])
    api = APIClient()
    api.force_authenticate(demo["caseworker2"])
    assert "OLD-ORG-SECRET" not in str(api.get(f"/api/v1/cases/{active_case.pk}/timeline/").json())
    assert api.get("/api/v1/notes/", {"case": active_case.pk}).json()["results"] == []


def test_acceptance_rechecks_consent_and_case(demo, active_case, atlantic):
    org, boss = atlantic
    transfer, consent = _transfer(demo, active_case, org)
    cs.record_update(key="consent", record=consent, by=demo["caseworker"], data={"withdrawn_on": TODAY()})
    with pytest.raises(ValidationError, match="no longer current"):
        cs.transfer_decide(transfer=transfer, by=boss, accept=True)
    other = northern_case(demo, n=77)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED):
        case_move_stage(case=other, by=demo["caseworker"], to_stage=stage, reason="walk")
    second, _ = _transfer(demo, other, org)
    cs.case_close(case=other, by=demo["manager"], reason="closed meanwhile")
    with pytest.raises(ValidationError, match="read-only"):
        cs.transfer_decide(transfer=second, by=boss, accept=True)


def test_huge_timeline_page_is_not_a_500(client, demo, active_case):
    client.force_login(demo["caseworker"])
    assert client.get(reverse("case-timeline", args=[active_case.pk]), {"page": "9" * 30}).status_code == 200


def test_second_exit_cannot_predate_the_reopening(demo, active_case):
    cs.case_exit(case=active_case, by=demo["caseworker"], reason="goals_met", exited_on=TODAY(), outcome={})
    case_reopen(case=active_case, by=demo["caseworker"], reason="again")
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.ACTIVE, reason="ok")
    with pytest.raises(ValidationError) as caught:
        cs.case_exit(
            case=active_case,
            by=demo["caseworker"],
            reason="goals_met",
            exited_on=TODAY() - datetime.timedelta(days=200),
            outcome={},
        )
    assert "exited_on" in caught.value.message_dict


def test_a_recorded_follow_up_is_not_overwritten(demo, active_case):
    cs.case_exit(case=active_case, by=demo["caseworker"], reason="goals_met", exited_on=TODAY(), outcome={})
    outcome = Outcome.objects.get(case=active_case, kind="after_6")
    cs.outcome_record(outcome=outcome, by=demo["caseworker"], recorded_on=TODAY(), data={"employment": "employed"})
    with pytest.raises(ValidationError, match="already recorded"):
        cs.outcome_record(
            outcome=outcome, by=demo["caseworker"], recorded_on=TODAY(), data={"employment": "unemployed"}
        )
    outcome.refresh_from_db()
    assert outcome.employment == "employed"


def test_outcome_list_costs_the_same_for_one_or_many_cases(demo):
    api = APIClient()
    api.force_authenticate(demo["manager"])

    def exited_case(n):
        case = northern_case(demo, n=n)
        for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED):
            case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/post-exit-outcomes/").status_code == 200
        return len(ctx.captured_queries)

    exited_case(1)
    one = count()
    for n in range(2, 6):
        exited_case(n)
    assert count() == one


@pytest.mark.parametrize("username", ["caseworker2", "authority", "auditor", "admin"])
def test_saved_searches_only_for_case_roles_and_only_list_filters(client, demo, username):
    client.force_login(demo[username])
    response = client.post(reverse("saved-search-create"), {"name": "x", "querystring": "stage=active"})
    assert response.status_code == (302 if username == "caseworker2" else 404)
    client.force_login(demo["caseworker"])
    client.post(reverse("saved-search-create"), {"name": "y", "querystring": "stage=active&evil=1&next=/x"})
    assert SavedSearch.objects.get(name="y").querystring == "stage=active"


def test_receiving_lead_still_sees_own_organisations_restricted_notes(demo, active_case):
    # the lead rule still opens restricted notes of colleagues of the lead's own organisation
    team_member_add(case=active_case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")
    cs.record_create(
        key="note",
        case=active_case,
        by=demo["colleague"],
        data={"kind": "call", "date": TODAY(), "visibility": "restricted", "text": "COLLEAGUE-NOTE"},
    )
    api = APIClient()
    api.force_authenticate(demo["caseworker"])
    assert [n["text"] for n in api.get("/api/v1/notes/", {"case": active_case.pk}).json()["results"]] == [
        "COLLEAGUE-NOTE"
    ]
