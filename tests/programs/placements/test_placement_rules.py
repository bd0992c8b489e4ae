"""Business rules of placements: places, lifecycle, check-in dates, closed cases, matching."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from casemgmt.models import Stage
from programs import placement_selectors as sel
from programs import placement_services as services
from programs.models import CheckIn, Placement
from tests.factories import case_move_stage, northern_case
from tests.programs.placements.conftest import TODAY, make_opportunity, make_partner


def _ready_case(demo, n):
    case = northern_case(demo, n=n)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    return case


def test_a_full_opportunity_refuses_a_new_placement_with_a_clear_message(demo, active_case, partner):
    officer = demo["placement"]
    one_place = make_opportunity(officer, partner, places=1)
    other = _ready_case(demo, 77)
    first = services.placement_propose(by=officer, case=other, opportunity=one_place, proposed_on=TODAY())
    services.placement_move(by=officer, placement=first, to_status="accepted", on=TODAY())
    with pytest.raises(ValidationError) as error:
        services.placement_propose(by=officer, case=active_case, opportunity=one_place, proposed_on=TODAY())
    assert error.value.message_dict["opportunity"] == ["“Warehouse job” is full: all 1 places are taken."]
    assert not Placement.objects.filter(case=active_case).exists()


def test_accepting_beyond_the_places_is_refused_and_a_freed_place_can_be_taken(demo, active_case, partner):
    officer = demo["placement"]
    one_place = make_opportunity(officer, partner, places=1)
    other = _ready_case(demo, 78)
    a = services.placement_propose(by=officer, case=active_case, opportunity=one_place, proposed_on=TODAY())
    b = services.placement_propose(by=officer, case=other, opportunity=one_place, proposed_on=TODAY())
    services.placement_move(by=officer, placement=a, to_status="accepted", on=TODAY())
    with pytest.raises(ValidationError, match="is full"):
        services.placement_move(by=officer, placement=b, to_status="accepted", on=TODAY())
    services.placement_move(by=officer, placement=a, to_status="withdrawn", on=TODAY(), reason="Moved away")
    assert services.placement_move(by=officer, placement=b, to_status="accepted", on=TODAY()).status == "accepted"
    board = sel.opportunities_visible_to(officer).get(pk=one_place.pk)
    assert (board.taken, board.free) == (1, 0)


def test_places_cannot_be_lowered_below_the_taken_ones(demo, placement, opportunity):
    officer = demo["placement"]
    second = services.placement_propose(
        by=officer, case=_ready_case(demo, 79), opportunity=opportunity, proposed_on=TODAY()
    )
    services.placement_move(by=officer, placement=second, to_status="accepted", on=TODAY())
    with pytest.raises(ValidationError, match="2 places are taken"):
        services.opportunity_update(by=officer, opportunity=opportunity, data={"places": 1})
    with pytest.raises(ValidationError) as error:
        services.opportunity_update(by=officer, opportunity=opportunity, data={"places": 0})
    assert "places" in error.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_acceptances_of_the_last_place_leave_places_at_zero_not_below(demo, partner):
    """Two threads, two database connections, real PostgreSQL: the opportunity row lock serialises them."""
    officer = demo["placement"]
    one_place = make_opportunity(officer, partner, places=1)
    proposals = []
    for n in (81, 82):
        case = _ready_case(demo, n)
        proposals.append(services.placement_propose(by=officer, case=case, opportunity=one_place, proposed_on=TODAY()))
    barrier = threading.Barrier(2)
    results: list[str] = []

    def accept(placement):
        try:
            barrier.wait(timeout=10)
            services.placement_move(by=officer, placement=placement, to_status="accepted", on=TODAY())
            results.append("accepted")
        except ValidationError as error:
            results.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(p,)) for p in proposals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["accepted", "“Warehouse job” is full: all 1 places are taken."]
    assert Placement.objects.filter(opportunity=one_place, status__in=["accepted", "started"]).count() == 1
    assert sel.opportunities_visible_to(officer).get(pk=one_place.pk).free == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_proposals_for_the_same_participant_make_one_placement(demo, partner):
    officer = demo["placement"]
    opportunity = make_opportunity(officer, partner, places=3)
    case = _ready_case(demo, 83)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def propose():
        try:
            barrier.wait(timeout=10)
            services.placement_propose(by=officer, case=case, opportunity=opportunity, proposed_on=TODAY())
            results.append("proposed")
        except ValidationError as error:
            results.append(" ".join(error.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=propose) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["This participant is already placed with this opportunity.", "proposed"]
    assert Placement.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("walk", "to"),
    [
        ([], "started"),
        ([], "completed"),
        (["accepted"], "dropped_out"),
        (["accepted", "started"], "withdrawn"),
        (["accepted", "started"], "accepted"),
        (["accepted", "started", "completed"], "started"),
        (["refused"], "accepted"),
        ([], "no-such-status"),
    ],
)
def test_illegal_transitions_are_refused(demo, active_case, opportunity, walk, to):
    officer = demo["placement"]
    placed = services.placement_propose(by=officer, case=active_case, opportunity=opportunity, proposed_on=TODAY())
    for step in walk:
        placed = services.placement_move(by=officer, placement=placed, to_status=step, on=TODAY(), reason="r")
    with pytest.raises(ValidationError) as error:
        services.placement_move(by=officer, placement=placed, to_status=to, on=TODAY(), reason="r")
    assert "cannot become" in error.value.message_dict["status"][0]
    placed.refresh_from_db()
    assert placed.status == (walk[-1] if walk else "proposed")


def test_ends_need_a_reason_and_dates_in_order(demo, placement):
    officer = demo["placement"]
    with pytest.raises(ValidationError) as error:
        services.placement_move(by=officer, placement=placement, to_status="dropped_out", on=TODAY())
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.placement_move(
            by=officer,
            placement=placement,
            to_status="dismissed",
            on=TODAY() - datetime.timedelta(days=300),
            reason="x",
        )
    assert "on" in error.value.message_dict
    done = services.placement_move(
        by=officer,
        placement=placement,
        to_status="completed",
        on=TODAY(),
        outcome={"certificate": True, "certificate_name": "Forklift", "employed_after": True, "income_band": "minimum"},
    )
    assert (done.certificate, done.certificate_name, done.employed_after, done.income_band) == (
        True,
        "Forklift",
        True,
        "minimum",
    )


def test_check_in_dates_are_computed_from_the_start_date(demo, active_case, opportunity):
    officer = demo["placement"]
    with time_machine.travel(datetime.date(2026, 3, 1), tick=False):
        placed = services.placement_propose(
            by=officer, case=active_case, opportunity=opportunity, proposed_on=datetime.date(2026, 2, 20)
        )
        placed = services.placement_move(
            by=officer, placement=placed, to_status="accepted", on=datetime.date(2026, 2, 25)
        )
        placed = services.placement_move(
            by=officer, placement=placed, to_status="started", on=datetime.date(2026, 3, 1)
        )
    dues = list(CheckIn.objects.filter(placement=placed).values_list("day", "due_on"))
    assert dues == [
        (30, datetime.date(2026, 3, 31)),
        (90, datetime.date(2026, 5, 30)),
        (180, datetime.date(2026, 8, 28)),
    ]
    assert all(c.case_id == active_case.pk for c in CheckIn.objects.filter(placement=placed))


def test_a_check_in_is_recorded_with_who_and_when(demo, placement):
    check_in = placement.check_ins.get(day=30)
    recorded = services.check_in_record(
        by=demo["placement"],
        check_in=check_in,
        recorded_on=TODAY(),
        data={"still_there": True, "hours_per_week": 30, "participant_satisfaction": 4, "partner_satisfaction": 5},
    )
    assert (recorded.recorded_by, recorded.recorded_on, recorded.still_there) == (demo["placement"], TODAY(), True)
    with pytest.raises(ValidationError) as error:
        services.check_in_record(
            by=demo["placement"],
            check_in=check_in,
            recorded_on=TODAY(),
            data={"still_there": True, "partner_satisfaction": 9},
        )
    assert "partner_satisfaction" in error.value.message_dict


def test_a_closed_opportunity_refuses_proposals(demo, active_case, partner):
    closed = make_opportunity(demo["placement"], partner, is_open=False)
    with pytest.raises(ValidationError, match="closed"):
        services.placement_propose(by=demo["placement"], case=active_case, opportunity=closed, proposed_on=TODAY())


def test_a_partner_is_an_employer_or_training_provider_with_a_unique_name(demo, partner):
    with pytest.raises(ValidationError) as error:
        make_partner(demo["placement"], name="test logistics")
    assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_partner(demo["placement"], name="Another", kind="ngo")
    assert "kind" in error.value.message_dict


def test_several_placements_per_participant_over_time(demo, placement, opportunity, active_case):
    officer = demo["placement"]
    services.placement_move(by=officer, placement=placement, to_status="dropped_out", on=TODAY(), reason="Left")
    again = services.placement_propose(by=officer, case=active_case, opportunity=opportunity, proposed_on=TODAY())
    assert Placement.objects.filter(case=active_case).count() == 2
    assert again.status == "proposed"


def test_matching_for_a_case_ranks_by_requirements_city_and_sector_with_reasons(demo, active_case, partner, profile):
    officer = demo["placement"]
    make_opportunity(officer, partner, title="Near and known", city="TNG")
    make_opportunity(officer, partner, title="Far", city="FES", sector="retail")
    make_opportunity(officer, partner, title="Needs a degree", min_education=5)
    full = make_opportunity(officer, partner, title="Full", places=1)
    other = _ready_case(demo, 90)
    taken = services.placement_propose(by=officer, case=other, opportunity=full, proposed_on=TODAY())
    services.placement_move(by=officer, placement=taken, to_status="accepted", on=TODAY())
    matches = sel.opportunities_for_case(officer, active_case)
    titles = [m.obj.title for m in matches]
    assert "Full" not in titles
    assert titles.index("Near and known") < titles.index("Needs a degree")
    assert titles.index("Near and known") < titles.index("Far")
    first = matches[titles.index("Near and known")]
    assert any("Tangier" in r for r in first.reasons)
    assert any("known sector" in r for r in first.reasons)
    assert any("needs" in r for r in matches[titles.index("Needs a degree")].misses)


def test_candidates_for_an_opportunity_are_the_officers_own_team_cases(
    demo, active_case, opportunity, profile, placement2
):
    other_team = northern_case(demo, n=91, team=[])
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=other_team, by=demo["caseworker"], to_stage=stage, reason="walk")
    candidates = sel.candidates_for_opportunity(demo["placement"], opportunity)
    assert [m.obj.pk for m in candidates] == [active_case.pk]
    assert any("Tangier" in r for r in candidates[0].reasons)
    assert sel.candidates_for_opportunity(placement2, opportunity) == []
    assert sel.candidates_for_opportunity(demo["manager"], opportunity) == []


def test_a_closed_case_is_read_only_for_placements(demo, placement, active_case):
    # a started placement is ended before the case can close
    services.placement_move(
        by=demo["placement"], placement=placement, to_status="dropped_out", on=TODAY(), reason="left"
    )
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="done")
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.CLOSED, reason="done")
    with pytest.raises(ValidationError, match="read-only"):
        services.placement_move(by=demo["placement"], placement=placement, to_status="completed", on=TODAY())
    active_case.refresh_from_db()
    from casemgmt import access

    assert not access.can_write_record(
        demo["placement"], access.get_case_for_user(demo["placement"], active_case.pk), "placement"
    )
