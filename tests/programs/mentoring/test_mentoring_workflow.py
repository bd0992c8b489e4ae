"""Mentoring rules: the assignment workflow, vetting, capacity, matching, session logging."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from casemgmt import access
from casemgmt.casefile_services import record_create
from casemgmt.models import CaseTeamMember
from casemgmt.services import team_member_remove
from programs import mentoring_access as ma
from programs import mentoring_selectors as selectors
from programs import mentoring_services as ms
from programs.models import MentorAssignment, MentoringSession
from tests.factories import CaseFactory, northern_case
from tests.programs.helpers import activate, make_profile
from tests.programs.mentoring.conftest import SECRET

pytestmark = pytest.mark.django_db


def test_the_whole_workflow_puts_the_mentor_on_the_team_and_takes_them_off(demo, profiles, active_case):
    lead, manager, mentor = demo["caseworker"], demo["manager"], demo["mentor"]
    a = ms.mentor_propose(case=active_case, by=lead, mentor=mentor, gender_preference="male", note="close by")
    assert a.status == "proposed"
    assert not access.cases_visible_to(mentor).filter(pk=active_case.pk).exists()
    assert not ma.assignments_visible_to(mentor).exists()  # not until the manager approves
    ms.mentor_assignment_decide(assignment=a, by=manager, approve=True)
    assert ma.assignments_visible_to(mentor).filter(pk=a.pk).exists()
    assert not access.cases_visible_to(mentor).filter(pk=active_case.pk).exists()  # proposed: no case yet
    ms.mentor_assignment_respond(assignment=a, by=mentor, accept=True)
    a.refresh_from_db()
    assert a.status == "active"
    assert a.started_on == timezone.localdate()
    assert CaseTeamMember.objects.filter(case=active_case, user=mentor, role="mentor").exists()
    assert access.cases_visible_to(mentor).filter(pk=active_case.pk).exists()
    planned = ms.session_plan(
        assignment=a, by=mentor, starts_at=timezone.now() + datetime.timedelta(days=3), place_type="office"
    )
    ms.mentor_assignment_end(assignment=a, by=lead, reason="Goals reached")
    a.refresh_from_db()
    planned.refresh_from_db()
    assert a.status == "ended"
    assert a.ended_on == timezone.localdate()
    assert planned.status == "cancelled"
    assert not CaseTeamMember.objects.filter(case=active_case, user=mentor).exists()
    assert not access.cases_visible_to(mentor).filter(pk=active_case.pk).exists()


@pytest.mark.parametrize(
    "step",
    ["accept_before_approval", "approve_twice", "second_proposal", "reject_without_reason", "decline_without_reason"],
)
def test_illegal_steps_are_refused(demo, profiles, active_case, step):
    lead, manager, mentor = demo["caseworker"], demo["manager"], demo["mentor"]
    a = ms.mentor_propose(case=active_case, by=lead, mentor=mentor)
    if step == "approve_twice":
        ms.mentor_assignment_decide(assignment=a, by=manager, approve=True)
    if step == "decline_without_reason":
        ms.mentor_assignment_decide(assignment=a, by=manager, approve=True)
    calls = {
        "accept_before_approval": lambda: ms.mentor_assignment_respond(assignment=a, by=mentor, accept=True),
        "approve_twice": lambda: ms.mentor_assignment_decide(assignment=a, by=manager, approve=True),
        "second_proposal": lambda: ms.mentor_propose(case=active_case, by=lead, mentor=demo["peermentor"]),
        "reject_without_reason": lambda: ms.mentor_assignment_decide(
            assignment=a, by=manager, approve=False, reason=" "
        ),
        "decline_without_reason": lambda: ms.mentor_assignment_respond(assignment=a, by=mentor, accept=False),
    }
    with pytest.raises(ValidationError):
        calls[step]()


def test_only_the_proposed_mentor_answers_and_ending_twice_is_refused(demo, profiles, active_case):
    a = ms.mentor_propose(case=active_case, by=demo["caseworker"], mentor=demo["mentor"])
    ms.mentor_assignment_decide(assignment=a, by=demo["manager"], approve=True)
    with pytest.raises(ValidationError):
        ms.mentor_assignment_respond(assignment=a, by=demo["peermentor"], accept=True)
    ms.mentor_assignment_respond(assignment=a, by=demo["mentor"], accept=True)
    ms.mentor_assignment_end(assignment=a, by=demo["manager"], reason="moved away")
    with pytest.raises(ValidationError):
        ms.mentor_assignment_end(assignment=a, by=demo["manager"], reason="again")


def test_one_active_mentor_per_case_and_history_kept(demo, profiles, active_case):
    first = activate(active_case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor"])
    with pytest.raises(ValidationError):
        ms.mentor_propose(case=active_case, by=demo["caseworker"], mentor=demo["peermentor"])
    ms.mentor_assignment_end(assignment=first, by=demo["caseworker"], reason="hand over")
    second = activate(active_case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["peermentor"])
    assert list(MentorAssignment.objects.filter(case=active_case).values_list("status", flat=True)) == [
        "active",
        "ended",
    ]
    assert second.mentor == demo["peermentor"]


def test_capacity_limits_proposals_and_acceptance(demo, profiles):
    # mentor2 has room for one mentee
    cases = [
        CaseFactory(
            organisation=demo["caseworker"].membership.organisation, by=demo["manager"], lead=demo["caseworker"]
        )
        for _ in range(2)
    ]
    activate(cases[0], lead=demo["caseworker"], manager=demo["manager"], mentor=demo["mentor2"])
    with pytest.raises(ValidationError, match="no free place"):
        ms.mentor_propose(case=cases[1], by=demo["caseworker"], mentor=demo["mentor2"])
    matches = {m.profile.user_id: m for m in selectors.rank_mentors(user=demo["caseworker"], case=cases[1])}
    assert matches[demo["mentor2"].pk].free == 0
    assert not matches[demo["mentor2"].pk].can_propose


def test_lapsed_or_suspended_vetting_removes_access_at_once(demo, profiles, assignment, session):
    mentor, case = demo["mentor"], assignment.case
    assert access.cases_visible_to(mentor).filter(pk=case.pk).exists()
    expiry = profiles["mentor"].vetting_expires_on
    with time_machine.travel(datetime.datetime.combine(expiry + datetime.timedelta(days=1), datetime.time(12))):
        assert not access.cases_visible_to(mentor).filter(pk=case.pk).exists()
        assert not ma.sessions_visible_to(mentor).exists()
        assert not ma.assignments_visible_to(mentor).exists()
    assert access.cases_visible_to(mentor).filter(pk=case.pk).exists()
    ms.mentor_profile_save(
        by=demo["supervisor"], mentor=mentor, profile=profiles["mentor"], data={"vetting_status": "suspended"}
    )
    assert not access.cases_visible_to(mentor).filter(pk=case.pk).exists()
    assert not ma.sessions_visible_to(mentor).exists()


def test_unvetted_mentor_cannot_be_proposed(demo, profiles, active_case):
    ms.mentor_profile_save(
        by=demo["supervisor"], mentor=demo["mentor"], profile=profiles["mentor"], data={"vetting_status": "pending"}
    )
    with pytest.raises(ValidationError, match="not vetted"):
        ms.mentor_propose(case=active_case, by=demo["caseworker"], mentor=demo["mentor"])


def test_vetting_needs_dates_in_order(demo, profiles):
    with pytest.raises(ValidationError) as error:
        ms.mentor_profile_save(
            by=demo["supervisor"],
            mentor=demo["mentor"],
            profile=profiles["mentor"],
            data={"vetted_on": timezone.localdate(), "vetting_expires_on": timezone.localdate()},
        )
    assert "vetting_expires_on" in error.value.message_dict


def test_matching_ranks_by_city_language_capacity_and_gender(demo, profiles, active_case):
    # The case is in Tangier and speaks Arabic and French: `mentor` serves Tangier and speaks both.
    ranked = selectors.rank_mentors(user=demo["caseworker"], case=active_case)
    assert next(m.profile.user.username for m in ranked) == "mentor"
    top = ranked[0]
    assert any("Tangier" in r for r in top.reasons)
    assert any("Arabic" in r for r in top.reasons)
    female = selectors.rank_mentors(user=demo["caseworker"], case=active_case, gender="female")
    assert female[0].profile.user.username == "mentor2"
    assert any("Not the gender" in w for m in female[1:] for w in m.warnings)
    with pytest.raises(ValidationError, match="gender"):
        ms.mentor_propose(case=active_case, by=demo["caseworker"], mentor=demo["mentor"], gender_preference="female")


def test_supervisor_sees_unassignable_mentors_but_caseworkers_do_not(demo, profiles):
    ms.mentor_profile_save(
        by=demo["supervisor"],
        mentor=demo["peermentor"],
        profile=profiles["peermentor"],
        data={"vetting_status": "suspended"},
    )
    assert set(ma.mentors_visible_to(demo["supervisor"])) == set(profiles.values())
    assert profiles["peermentor"] not in set(ma.mentors_visible_to(demo["caseworker"]))
    assert not ma.mentors_visible_to(demo["caseworker2"]).filter(pk=profiles["peermentor"].pk).exists()
    for name in ("auditor", "admin", "authority", "counsellor", "placement"):
        assert not ma.mentors_visible_to(demo[name]).exists(), name


def test_session_logging_rules(demo, assignment, ideology_goal):
    mentor = demo["mentor"]
    base = {"starts_at": timezone.now() - datetime.timedelta(hours=3), "place_type": "office"}
    bad = [
        ({"status": "attended"}, "duration_minutes"),
        ({"status": "no_show", "goal": ideology_goal, "progress_rating": 4}, "progress_rating"),
        ({"status": "attended", "duration_minutes": 30, "progress_rating": 4}, "goal"),
        (
            {"status": "attended", "duration_minutes": 30, "starts_at": timezone.now() + datetime.timedelta(days=2)},
            "starts_at",
        ),
    ]
    for data, field in bad:
        with pytest.raises(ValidationError) as error:
            ms.session_log(by=mentor, assignment=assignment, data={**base, **data})
        assert field in error.value.message_dict, data
    other = northern_case(demo)
    foreign_goal = record_create(
        key="goal",
        case=other,
        by=demo["caseworker"],
        data={"domain": "ideology", "title": "x", "owner": demo["caseworker"]},
    )
    with pytest.raises(ValidationError) as error:
        ms.session_log(
            by=mentor,
            assignment=assignment,
            data={**base, "status": "attended", "duration_minutes": 30, "goal": foreign_goal, "progress_rating": 2},
        )
    assert "goal" in error.value.message_dict
    assert not MentoringSession.objects.exists()  # every refusal left nothing behind


def test_only_the_mentor_of_the_active_assignment_logs(demo, assignment, session):
    with pytest.raises(ValidationError):
        ms.session_log(by=demo["caseworker"], session=session, data={"summary": "edited"})
    ms.mentor_assignment_end(assignment=assignment, by=demo["manager"], reason="done")
    with pytest.raises(ValidationError):
        ms.session_log(by=demo["mentor"], session=session, data={"summary": "edited"})


def test_confidential_notes_are_the_mentors_alone(demo, profiles, assignment, session):
    assert ma.confidential_note_for(demo["mentor"], session).text == SECRET
    for name in ("caseworker", "manager", "supervisor", "auditor", "admin", "peermentor", "caseworker2"):
        assert ma.confidential_note_for(demo[name], session) is None, name
    # a later mentor of the same case does not read them either
    ms.mentor_assignment_end(assignment=assignment, by=demo["manager"], reason="hand over")
    activate(assignment.case, lead=demo["caseworker"], manager=demo["manager"], mentor=demo["peermentor"])
    assert not ma.sessions_visible_to(demo["peermentor"]).filter(pk=session.pk).exists()
    assert ma.confidential_note_for(demo["peermentor"], session) is None


def test_the_team_panel_cannot_remove_a_mentor(demo, assignment):
    member = CaseTeamMember.objects.get(case=assignment.case, user=demo["mentor"])
    with pytest.raises(ValidationError, match="assignment"):
        team_member_remove(member=member, by=demo["caseworker"])
    assert CaseTeamMember.objects.filter(pk=member.pk).exists()


def test_profiles_only_for_mentors(demo):
    with pytest.raises(ValidationError):
        make_profile(demo["supervisor"], demo["caseworker"])
