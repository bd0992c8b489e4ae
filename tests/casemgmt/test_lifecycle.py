"""Stage moves follow the lifecycle; closure is read-only; re-opening is recorded."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from casemgmt import services
from casemgmt.models import TRANSITIONS, Stage, StageChange
from tests.factories import case_move_stage as walk
from tests.factories import northern_case

WALK = [Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.REVIEW, Stage.ACTIVE, Stage.EXITED, Stage.CLOSED]


def test_a_case_walks_the_whole_lifecycle_and_each_move_is_recorded(demo, case):
    for stage in WALK:
        walk(case=case, by=demo["caseworker"], to_stage=stage, reason=f"to {stage}")
    case.refresh_from_db()
    assert case.stage == Stage.CLOSED
    moves = list(StageChange.objects.filter(case=case).order_by("changed_at", "pk").values_list("to_stage", flat=True))
    assert moves == [Stage.REFERRAL, *WALK]


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], Stage.ACTIVE),
        ([], Stage.EXITED),
        ([Stage.SCREENING], Stage.ACTIVE),
        ([Stage.SCREENING, Stage.DECLINED], Stage.SCREENING),
        ([Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED, Stage.CLOSED], Stage.ACTIVE),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(demo, case, path, illegal):
    for stage in path:
        walk(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    with pytest.raises(ValidationError) as caught:
        services.case_move_stage(case=case, by=demo["caseworker"], to_stage=illegal, reason="jump")
    message = caught.value.message_dict["to_stage"][0]
    assert "cannot move to" in message
    case.refresh_from_db()
    assert case.stage == (path[-1] if path else Stage.REFERRAL)


def test_every_stage_has_a_way_forward_or_is_an_end():
    ends = {stage for stage, nexts in TRANSITIONS.items() if not nexts}
    assert ends == {Stage.CLOSED, Stage.DECLINED}


def test_a_reason_is_required(demo, case):
    with pytest.raises(ValidationError) as caught:
        services.case_move_stage(case=case, by=demo["caseworker"], to_stage=Stage.SCREENING, reason="  ")
    assert "reason" in caught.value.message_dict


def test_the_page_shows_the_refusal_next_to_the_field(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(reverse("case-move", args=[case.pk]), {"to_stage": Stage.ACTIVE, "reason": "jump"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()  # only allowed moves are offered
    response = client.post(reverse("case-move", args=[case.pk]), {"to_stage": Stage.SCREENING, "reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_closed_cases_are_read_only(demo, case):
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED, Stage.CLOSED):
        walk(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    with pytest.raises(ValidationError, match="read-only"):
        services.case_profile_update(case=case, by=demo["caseworker"], changes={"phone": "1"})
    with pytest.raises(ValidationError, match="read-only"):
        services.team_member_add(case=case, by=demo["caseworker"], user=demo["colleague"], role="caseworker")


def test_closed_case_page_offers_no_edit(client, demo, case):
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED, Stage.CLOSED):
        walk(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    client.force_login(demo["caseworker"])
    assert client.get(reverse("case-edit", args=[case.pk])).status_code == 404
    html = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "Read-only" in html
    assert reverse("case-reopen", args=[case.pk]) in html


@pytest.mark.parametrize("last", [Stage.EXITED, Stage.CLOSED])
def test_reopening_is_recorded_and_returns_to_assessment_without_a_current_assessment(demo, case, last):
    path = [Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE, Stage.EXITED]
    if last == Stage.CLOSED:
        path.append(Stage.CLOSED)
    for stage in path:
        walk(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    services.case_reopen(case=case, by=demo["manager"], reason="Relapse signs; family asks for help")
    case.refresh_from_db()
    assert case.stage == Stage.ASSESSMENT
    change = StageChange.objects.filter(case=case).order_by("-pk").first()
    assert change.is_reopening
    assert change.from_stage == last
    assert change.changed_by == demo["manager"]
    assert StageChange.objects.filter(case=case).count() == len(path) + 2  # nothing overwritten


def test_only_exited_or_closed_cases_reopen(demo, case):
    with pytest.raises(ValidationError, match="Only exited or closed"):
        services.case_reopen(case=case, by=demo["caseworker"], reason="why not")


def test_stage_changes_cannot_be_rewritten(demo, case):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        StageChange.objects.filter(case=case).update(reason="rewritten")


def test_case_codes_follow_city_year_and_sequence(demo):
    first, second = northern_case(demo, n=1), northern_case(demo, n=2)
    year = first.created_at.year
    assert first.participant.case_code == f"TNG-{year}-0001"
    assert second.participant.case_code == f"TNG-{year}-0002"


def test_manager_assigns_a_lead_to_an_intake_referral(client, demo):
    from tests.factories import CaseFactory

    referral = CaseFactory(organisation=demo["manager"].membership.organisation, by=demo["manager"])
    assert not referral.team.exists()
    client.force_login(demo["manager"])
    response = client.post(
        reverse("case-team-add", args=[referral.pk]), {"user": demo["colleague"].pk, "make_lead": "on"}
    )
    assert response.status_code == 302
    assert referral.team.get(is_lead=True).user == demo["colleague"]


def test_the_lead_cannot_be_removed_and_a_new_lead_replaces_the_old(demo, case):
    lead = case.team.get(is_lead=True)
    with pytest.raises(ValidationError, match="lead cannot be removed"):
        services.team_member_remove(member=lead, by=demo["manager"])
    services.team_set_lead(case=case, by=demo["manager"], user=demo["colleague"])
    assert case.team.get(is_lead=True).user == demo["colleague"]
    assert case.team.filter(user=demo["caseworker"], is_lead=False).exists()


@pytest.mark.parametrize(
    ("username", "role", "message"),
    [
        ("caseworker2", "caseworker", "come from the case's organisation"),
        ("counsellor", "caseworker", "does not hold the role"),
        ("authority", "caseworker", "does not hold the role"),
    ],
)
def test_team_members_must_fit_the_case(demo, case, username, role, message):
    with pytest.raises(ValidationError, match=message):
        services.team_member_add(case=case, by=demo["caseworker"], user=demo[username], role=role)


def test_team_add_via_htmx_returns_the_panel(client, demo, case):
    client.force_login(demo["caseworker"])
    response = client.post(
        reverse("case-team-add", args=[case.pk]), {"user": demo["colleague"].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert demo["colleague"].get_full_name() in html
