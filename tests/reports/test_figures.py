"""Each figure against the hand-built data set of conftest.py (known answers): no data, one case, a
re-opened case (A), a transferred case (B), and another NGO's data that never counts."""

from __future__ import annotations

import pytest

from accounts.models import City, Organisation
from casemgmt import casefile_services as cs
from casemgmt import disclosure
from families.models import CounsellingSession, Engagement
from programs.models import CheckIn, MentorAssignment, MentoringSession, MentorProfile, Opportunity, Placement
from reports.figures import FIGURES, Filters
from reports.selectors import dashboard, drill_down, figure_result

from .conftest import START, TODAY, d, moment


def filters(user, **kwargs) -> Filters:
    return Filters(
        organisation_id=user.membership.organisation_id,
        start=kwargs.pop("start", START),
        end=kwargs.pop("end", TODAY),
        today=TODAY,
        **kwargs,
    )


def table(user, slug, **kwargs) -> dict[str, dict]:
    """{key: values} of one figure."""
    return {row.key: row.values for row in figure_result(FIGURES[slug], filters(user, **kwargs)).rows}


def counts(user, slug, measure=None, **kwargs) -> dict[str, int]:
    name = measure or FIGURES[slug].measures[0].name
    return {key: values[name] for key, values in table(user, slug, **kwargs).items()}


def total(user, slug, **kwargs) -> dict:
    return figure_result(FIGURES[slug], filters(user, **kwargs)).total


def cases_behind(user, slug, key="", measure="", **kwargs) -> set[str]:
    rows = drill_down(user, FIGURES[slug], filters(user, **kwargs), key=key, measure=measure)
    return {case.participant.given_name_latin for case in rows}


# participant_data(n=…) names them Test1 (A) … Test5 (E)
A, B, C, D, E = "Test1", "Test2", "Test3", "Test4", "Test5"


def test_no_data_gives_empty_figures_and_zero_totals(manager):
    results = dashboard(filters(manager))
    assert all(result.rows == [] for result in results)
    assert total(manager, "caseload_stage") == {"cases": 0}
    assert total(manager, "timeliness") == {
        "referred": 0,
        "contacted": 0,
        "contact_days": None,
        "planned": 0,
        "plan_days": None,
    }


def test_one_case(demo, clock, manager):
    from .conftest import open_case

    clock("2026-05-05")
    open_case(
        demo,
        by=manager,
        organisation=manager.membership.organisation,
        day="2026-05-05",
        source="court_order",
        city="TET",
    )
    clock("2026-11-25")
    assert counts(manager, "caseload_stage") == {"referral": 1}
    assert counts(manager, "caseload_risk") == {"none": 1}
    assert counts(manager, "caseload_worker") == {"none": 1}
    assert counts(manager, "referrals_month") == {"2026-05|court_order": 1}
    assert table(manager, "timeliness") == {
        "court_order": {"referred": 1, "contacted": 0, "contact_days": None, "planned": 0, "plan_days": None}
    }
    assert counts(manager, "exits_reason") == {}


def test_caseload(known, manager):
    # A (re-opened, active) and C (referral); B left with its transfer, D was declined
    assert counts(manager, "caseload_stage") == {"active": 1, "referral": 1}
    assert total(manager, "caseload_stage") == {"cases": 2}
    assert counts(manager, "caseload_risk") == {"low": 1, "none": 1}  # A's latest assessment is low
    tng, tet = City.objects.get(code="TNG").pk, City.objects.get(code="TET").pk
    assert counts(manager, "caseload_city") == {str(tng): 1, str(tet): 1}
    lead = known["A"].team.get(is_lead=True).user
    assert counts(manager, "caseload_worker") == {str(lead.pk): 1, "none": 1}
    labels = {row.key: row.labels for row in figure_result(FIGURES["caseload_worker"], filters(manager)).rows}
    assert labels == {str(lead.pk): [lead.get_full_name()], "none": ["No lead"]}


def test_the_transferred_case_counts_for_the_receiver_only(known, manager, atlantic_manager):
    assert counts(atlantic_manager, "caseload_stage") == {"assessment": 1, "referral": 1}  # B and E
    assert counts(atlantic_manager, "referrals_month") == {"2026-03|self": 1, "2026-04|prison_release": 1}
    assert table(atlantic_manager, "timeliness")["prison_release"]["contact_days"] == 7.0
    assert "2026-04|prison_release" not in counts(manager, "referrals_month")
    assert cases_behind(atlantic_manager, "caseload_stage", "assessment", "cases") == {B}
    assert cases_behind(manager, "caseload_stage") == {A, C}


def test_referrals(known, manager):
    assert counts(manager, "referrals_month") == {"2026-03|family": 1, "2026-05|court_order": 1, "2026-06|family": 1}
    assert counts(manager, "referrals_outcome") == {
        "family|accept": 1,
        "family|decline": 1,
        "court_order|pending": 1,
    }
    assert cases_behind(manager, "referrals_outcome", "family|decline", "cases") == {D}


def test_days_to_first_contact_and_to_plan(known, manager):
    assert table(manager, "timeliness") == {
        # A: 3 days to contact, 10 from first assessment to plan; D: 5 days, no plan
        "family": {"referred": 2, "contacted": 2, "contact_days": 4.0, "planned": 1, "plan_days": 10.0},
        "court_order": {"referred": 1, "contacted": 0, "contact_days": None, "planned": 0, "plan_days": None},
    }
    assert total(manager, "timeliness") == {
        "referred": 3,
        "contacted": 2,
        "contact_days": 4.0,
        "planned": 1,
        "plan_days": 10.0,
    }
    assert cases_behind(manager, "timeliness", "", "contacted") == {A, D}
    assert cases_behind(manager, "timeliness", "family", "planned") == {A}


def test_filters_city_worker_source_and_period(known, demo, manager):
    tng = City.objects.get(code="TNG").pk
    assert counts(manager, "referrals_month", city=tng) == {"2026-03|family": 1, "2026-06|family": 1}
    assert counts(manager, "referrals_month", source="court_order") == {"2026-05|court_order": 1}
    assert counts(manager, "referrals_month", worker=demo["caseworker"].pk) == {
        "2026-03|family": 1,
        "2026-06|family": 1,
    }
    assert counts(manager, "referrals_month", start=d("2026-05-01"), end=d("2026-05-31")) == {"2026-05|court_order": 1}
    assert cases_behind(manager, "referrals_month", "2026-03|family", "cases", city=tng) == {A}
    # a worker of another organisation opens nothing
    assert counts(manager, "referrals_month", worker=demo["caseworker2"].pk) == {}


def test_re_opened_case_keeps_its_exit_outcome_and_risk_movement(known, manager):
    a = known["A"]
    assert a.stage == "active"
    assert counts(manager, "exits_reason") == {"goals_met": 1}
    assert counts(manager, "outcomes_employment") == {"exit|employed": 1}
    assert counts(manager, "outcomes_education") == {"exit|in_training": 1}
    assert counts(manager, "risk_movement") == {"high|low": 1}
    assert cases_behind(manager, "risk_movement", "high|low", "cases") == {A}
    # the period selects exits: none in the first quarter
    assert counts(manager, "exits_reason", end=d("2026-03-31")) == {}


def test_overdue_follow_ups(known, follow_ups, demo, manager, atlantic_manager):
    cw, mg = str(demo["caseworker"].pk), str(demo["manager"].pk)
    assert counts(manager, "overdue_followups") == {
        "plan_review|" + cw: 1,
        "reassessment|" + cw: 1,
        "first_contact|" + mg: 1,
    }
    assert total(manager, "overdue_followups") == {"follow_ups": 3}
    assert cases_behind(manager, "overdue_followups", "first_contact|" + mg, "follow_ups") == {C}
    assert counts(atlantic_manager, "overdue_followups") == {f"first_contact|{demo['caseworker2'].pk}": 1}


@pytest.fixture
def program_rows(known, demo):
    """Mentoring, family, placement, event and disclosure rows on A (Northern) and E (Atlantic)."""
    a, e = known["A"], known["E"]
    cw, mentor = demo["caseworker"], demo["mentor"]
    MentorProfile.objects.create(user=mentor, kind="scholar", gender="male", capacity=4, supervisor=demo["supervisor"])
    assignments = {
        case: MentorAssignment.objects.create(case=case, mentor=mentor, status="active", proposed_by=cw)
        for case in (a, e)
    }
    for case, day, status in [
        (a, "2026-10-05", "attended"),
        (a, "2026-10-12", "no_show"),
        (a, "2026-11-02", "attended"),
        (a, "2026-11-09", "cancelled"),
        (a, "2025-11-09", "attended"),  # before the period
        (e, "2026-10-06", "attended"),
    ]:
        MentoringSession.objects.create(
            case=case,
            assignment=assignments[case],
            mentor=mentor,
            recorded_by=mentor,
            starts_at=moment(day),
            place_type="office",
            status=status,
        )
    legal = Engagement.objects.create(case=a, kind="legal", status="active", started_on=d("2026-09-01"), recorded_by=cw)
    Engagement.objects.create(
        case=a,
        kind="psychological",
        status="ended",
        started_on=d("2025-12-01"),
        ended_on=d("2026-02-01"),
        recorded_by=cw,
    )
    Engagement.objects.create(case=e, kind="legal", status="active", started_on=d("2026-09-01"), recorded_by=cw)
    for kind, day, status in [("family", "2026-09-10", "attended"), ("home_visit", "2026-09-20", "missed")]:
        CounsellingSession.objects.create(
            case=a, engagement=legal, kind=kind, starts_at=moment(day), status=status, recorded_by=cw
        )
    employer = Organisation.objects.get(name="Strait Logistics")
    opportunity = Opportunity.objects.create(
        partner=employer,
        title="Warehouse",
        kind="job",
        sector="logistics",
        city=City.objects.get(code="TNG"),
        places=3,
        created_by=cw,
        updated_by=cw,
    )
    placement = Placement.objects.create(
        case=a,
        opportunity=opportunity,
        partner=employer,
        status="started",
        proposed_on=d("2026-08-05"),
        started_on=d("2026-08-10"),
        recorded_by=cw,
    )
    CheckIn.objects.create(
        case=a, placement=placement, day=30, due_on=d("2026-09-09"), recorded_on=d("2026-09-09"), still_there=True
    )
    CheckIn.objects.create(
        case=a, placement=placement, day=90, due_on=d("2026-11-08"), recorded_on=d("2026-11-08"), still_there=False
    )
    CheckIn.objects.create(case=a, placement=placement, day=180, due_on=d("2027-02-06"))
    cs.record_create(
        key="relapse_event", case=a, by=cw, data={"kind": "threat", "date": d("2026-09-15"), "description": "x"}
    )
    for kind in ("new_charge", "hearing"):
        cs.record_create(
            key="legal_event", case=a, by=cw, data={"kind": kind, "date": d("2026-10-01"), "description": ""}
        )
    probation = Organisation.objects.get(name="Regional Probation Office")
    for case, basis in [(a, ["consent"]), (a, ["consent"]), (a, ["mandate", "consent"]), (e, ["consent"])]:
        disclosure.record(
            organisation_id=probation.pk,
            case_id=case.pk,
            categories=["identity"],
            basis=basis,
            channel="ui",
            view="test",
        )


def test_mentoring(program_rows, manager, atlantic_manager, demo):
    assert table(manager, "mentoring_sessions") == {
        "2026-10": {"sessions": 2, "attended": 1, "no_show": 1, "attendance": 0.5},
        "2026-11": {"sessions": 2, "attended": 1, "no_show": 0, "attendance": 1.0},
    }
    assert total(manager, "mentoring_sessions") == {"sessions": 4, "attended": 2, "no_show": 1, "attendance": 0.667}
    # the mentor holds two places (one per NGO) of four: each NGO sees its own place and the mentor's use
    mentor = str(demo["mentor"].pk)
    assert table(manager, "mentor_capacity") == {mentor: {"ours": 1, "load": 2, "capacity": 4, "use": 0.5}}
    assert counts(atlantic_manager, "mentoring_sessions") == {"2026-10": 1}
    assert cases_behind(manager, "mentoring_sessions", "2026-10", "no_show") == {A}


def test_families(program_rows, manager):
    assert counts(manager, "family_engagements") == {"legal|active": 1}  # the ended one began before the period
    assert counts(manager, "family_sessions") == {"family|attended": 1, "home_visit|missed": 1}


def test_placements_and_retention(program_rows, manager):
    assert counts(manager, "placements_started") == {"2026-08": 1}
    assert table(manager, "placement_retention") == {
        "30": {"recorded": 1, "retained": 1, "retention": 1.0},
        "90": {"recorded": 1, "retained": 0, "retention": 0.0},
        "180": {"recorded": 0, "retained": 0, "retention": None},
    }
    rows = figure_result(FIGURES["placement_retention"], filters(manager)).rows
    assert [row.key for row in rows] == ["30", "90", "180"]


def test_events_and_disclosures(program_rows, manager, atlantic_manager):
    assert table(manager, "relapse_events") == {"threat": {"events": 1, "cases": 1}}
    assert table(manager, "legal_events") == {"new_charge": {"events": 1, "cases": 1}}  # a hearing is not re-offending
    assert table(manager, "disclosures_basis") == {
        "consent": {"reads": 2, "cases": 1},
        "consent+mandate": {"reads": 1, "cases": 1},
    }
    assert total(atlantic_manager, "disclosures_basis") == {"reads": 1, "cases": 1}
    assert cases_behind(manager, "disclosures_basis", "consent", "reads") == {A}


@pytest.fixture
def figure_pools():
    """The pools' threads and connections, closed after the test (they would hold the test database)."""
    from reports import selectors

    yield selectors
    selectors.shutdown_pools()


def _on_every_pool_thread(selectors, threads: int, task):
    """`task()` once on each thread of the pool of that size (held at a barrier until each has one)."""
    import threading

    barrier = threading.Barrier(threads)

    def held():
        barrier.wait(timeout=30)
        return task()

    pool = selectors._pool(threads)
    return [future.result() for future in [pool.submit(held) for _ in range(threads)]]


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_runs_its_figures_side_by_side_with_the_same_answers(
    known, manager, settings, monkeypatch, figure_pools
):
    """Committed rows (a transaction=True test): the figures' queries run on the pool's own connections,
    in the manager's language, and answer what the serial run on the caller's connection answers."""
    import threading

    from django.utils import translation

    from reports import selectors

    ran_on = []
    one_figure = selectors.figure_result

    def recording(figure, f):
        ran_on.append(threading.current_thread().name)
        return one_figure(figure, f)

    monkeypatch.setattr(selectors, "figure_result", recording)

    def answers(threads: int, language: str):
        settings.REPORTS_QUERY_THREADS = threads
        with translation.override(language):
            return [
                (r.figure.slug, [(x.key, x.labels, x.values) for x in r.rows], r.total)
                for r in dashboard(filters(manager))
            ]

    serial_en, serial_fr = answers(1, "en"), answers(1, "fr")
    assert not any(name.startswith("report-figure") for name in ran_on)
    assert serial_fr != serial_en  # the stage labels, among others, are translated: the comparison can fail
    ran_on.clear()
    assert answers(3, "fr") == serial_fr
    assert len(ran_on) == len(FIGURES)
    assert all(name.startswith("report-figure") for name in ran_on)

    def parallel_workers():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            return cursor.fetchone()[0]

    # every thread that ran a figure planned without parallel workers
    assert _on_every_pool_thread(figure_pools, 3, parallel_workers) == ["0", "0", "0"]
    assert any(values for _slug, rows, _total in serial_fr for _key, _labels, values in rows)


def test_the_pools_connections_plan_without_parallel_workers(db, django_assert_num_queries):
    """The pool keeps the cores busy itself: its connections are set, once each, to plan no parallel
    workers (the SET is rolled back with the test's transaction)."""
    from django.db import connection

    from reports.selectors import _serial_plans

    connection._report_serial_plans = None
    try:
        _serial_plans()
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            assert cursor.fetchone()[0] == "0"
        with django_assert_num_queries(0):
            _serial_plans()
    finally:
        connection._report_serial_plans = None
