"""Findings of the security review of placements (issue 7), kept as the behaviour they asked for: an
opportunity's partner stays once people are placed; closing a case settles its placements; no check-in
says "still there" after the end; no placement before the referral; candidates' reads are logged; no
files on placement records; and what the review checked and found right."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, Organisation, Role, User
from casemgmt.models import Stage
from programs import placement_selectors as sel
from programs import placement_services as services
from programs.models import LIVE, Opportunity, Placement
from tests.factories import case_move_stage, northern_case
from tests.programs.placements.conftest import TODAY, make_opportunity, make_partner


@pytest.fixture
def atlantic_po(demo) -> User:
    user = User.objects.create_user("atlantic_po", "atlantic_po@demo.invalid", "x-password-long-enough-2026")
    Membership.objects.create(
        user=user,
        organisation=Organisation.objects.get(name="Atlantic Family Support Association"),
        role=Role.PLACEMENT_OFFICER,
    )
    return User.objects.select_related("membership__organisation").get(pk=user.pk)


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ready_case(demo, n):
    case = northern_case(demo, n=n)
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    return case


# --- Findings (fail while the hole exists) ------------------------------------------------------


def test_review_opportunity_partner_change_keeps_placement_partner(demo, placement, opportunity, atlantic_po):
    """Any NGO's placement officer may PATCH the shared opportunity's partner; Placement.partner (the
    column a partner's API client will be scoped by) must not drift from opportunity.partner."""
    other = make_partner(atlantic_po, name="Other Employer")
    response = _api(atlantic_po).patch(f"/api/v1/opportunities/{opportunity.pk}/", {"partner": other.pk}, format="json")
    assert response.status_code in (200, 400)
    placement.refresh_from_db()
    opportunity.refresh_from_db()
    assert placement.partner_id == opportunity.partner_id


def test_review_opportunity_partner_change_through_the_page(demo, placement, opportunity):
    other = make_partner(demo["placement"], name="Other Employer")
    form = {
        "partner": other.pk,
        "title": opportunity.title,
        "kind": opportunity.kind,
        "sector": opportunity.sector,
        "city": opportunity.city_id,
        "places": opportunity.places,
        "pay_band": opportunity.pay_band,
        "is_open": "on",
    }
    _web(demo["placement"]).post(f"/placements/opportunities/{opportunity.pk}/edit/", form)
    placement.refresh_from_db()
    opportunity.refresh_from_db()
    assert placement.partner_id == opportunity.partner_id


def test_review_closing_a_case_settles_its_live_placements(demo, placement, opportunity, active_case):
    """A closed case is read-only: a live placement left on it would hold a shared place forever. A started
    one must be ended by the officer first; proposals and accepted ones are withdrawn by the closure."""
    second = make_opportunity(demo["placement"], opportunity.partner, title="Second job")
    proposal = services.placement_propose(
        by=demo["placement"], case=active_case, opportunity=second, proposed_on=TODAY()
    )
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="done")
    with pytest.raises(ValidationError, match="End the started placement"):
        case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.CLOSED, reason="done")
    services.placement_move(by=demo["placement"], placement=placement, to_status="completed", on=TODAY(), reason="")
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.CLOSED, reason="done")
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"
    assert not Placement.objects.filter(case=active_case, status__in=LIVE).exists()
    assert sel.opportunities_visible_to(demo["placement"]).get(pk=opportunity.pk).taken == 0


def test_review_api_create_with_a_huge_case_id_is_400_not_500(demo, active_case, opportunity):
    response = _api(demo["placement"]).post(
        "/api/v1/placements/",
        {"case": 10**25, "opportunity": opportunity.pk, "proposed_on": TODAY().isoformat()},
        format="json",
    )
    assert response.status_code == 400


def test_review_api_create_with_a_huge_opportunity_id_is_400_not_500(demo, active_case):
    response = _api(demo["placement"]).post(
        "/api/v1/placements/",
        {"case": active_case.pk, "opportunity": 10**25, "proposed_on": TODAY().isoformat()},
        format="json",
    )
    assert response.status_code == 400


def test_review_check_in_cannot_be_recorded_as_still_there_after_the_placement_ended(demo, placement):
    officer = demo["placement"]
    services.placement_move(
        by=officer, placement=placement, to_status="dropped_out", on=TODAY() - datetime.timedelta(days=1), reason="left"
    )
    check_in = placement.check_ins.get(day=90)
    with pytest.raises(ValidationError):
        services.check_in_record(by=officer, check_in=check_in, recorded_on=TODAY(), data={"still_there": True})


def test_review_a_placement_date_from_another_era_is_refused(demo, active_case, opportunity):
    with pytest.raises(ValidationError):
        services.placement_propose(
            by=demo["placement"], case=active_case, opportunity=opportunity, proposed_on=datetime.date(1, 1, 1)
        )


# --- Checked, fine (pass) ---------------------------------------------------------------------


def test_review_other_ngo_po_reaches_nothing_case_bound(demo, placement, opportunity, active_case, atlantic_po):
    api, web = _api(atlantic_po), _web(atlantic_po)
    code = active_case.participant.case_code
    assert api.get(f"/api/v1/placements/{placement.pk}/").status_code == 404
    assert api.get(f"/api/v1/placements/{placement.pk}/check-ins/").status_code == 404
    body = {"day": 30, "recorded_on": TODAY().isoformat(), "still_there": True}
    assert api.post(f"/api/v1/placements/{placement.pk}/check-ins/", body, format="json").status_code == 404
    move = {"status": "completed", "on": TODAY().isoformat()}
    assert api.post(f"/api/v1/placements/{placement.pk}/transition/", move, format="json").status_code == 404
    for query in (f"?case={active_case.pk}", f"?opportunity={opportunity.pk}", f"?partner={opportunity.partner_id}"):
        assert api.get(f"/api/v1/placements/{query}").json()["results"] == []
    made = api.post(
        "/api/v1/placements/",
        {"case": active_case.pk, "opportunity": opportunity.pk, "proposed_on": TODAY().isoformat()},
        format="json",
    )
    assert made.status_code == 400
    for url in (
        f"/placements/{placement.pk}/",
        f"/placements/cases/{active_case.pk}/",
        f"/placements/cases/{active_case.pk}/employability/",
    ):
        assert web.get(url).status_code == 404, url
    for url in (
        f"/placements/opportunities/{opportunity.pk}/",
        "/placements/opportunities/",
        f"/placements/partners/{opportunity.partner_id}/",
        "/placements/?status=",
    ):
        page = web.get(url)
        assert page.status_code == 200, url
        assert code not in page.content.decode(), url
    assert web.post(f"/placements/{placement.pk}/move/", {"to_status": "completed"}).status_code == 404
    assert web.post(f"/placements/cases/{active_case.pk}/propose/", {}).status_code == 404


def test_review_mass_assignment_on_create_and_transition_is_ignored(demo, active_case, opportunity):
    other = make_partner(demo["placement"], name="Other Employer")
    api = _api(demo["placement"])
    made = api.post(
        "/api/v1/placements/",
        {
            "case": active_case.pk,
            "opportunity": opportunity.pk,
            "proposed_on": TODAY().isoformat(),
            "status": "started",
            "partner": other.pk,
            "started_on": TODAY().isoformat(),
            "recorded_by": demo["caseworker"].pk,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    p = Placement.objects.get(pk=made.json()["id"])
    assert (p.status, p.partner_id, p.started_on, p.recorded_by_id) == (
        "proposed",
        opportunity.partner_id,
        None,
        demo["placement"].pk,
    )
    moved = api.post(
        f"/api/v1/placements/{p.pk}/transition/",
        {"status": "started", "on": TODAY().isoformat()},
        format="json",
    )
    assert moved.status_code == 400
    moved = api.post(
        f"/api/v1/placements/{p.pk}/transition/",
        {"status": "accepted", "on": TODAY().isoformat(), "case": 1, "opportunity": 1, "partner": other.pk},
        format="json",
    )
    assert moved.status_code == 200
    p.refresh_from_db()
    assert (p.case_id, p.opportunity_id, p.partner_id) == (active_case.pk, opportunity.pk, opportunity.partner_id)
    assert api.patch(f"/api/v1/placements/{p.pk}/", {"status": "started"}, format="json").status_code == 405
    assert api.put(f"/api/v1/placements/{p.pk}/", {"status": "started"}, format="json").status_code == 405


@pytest.mark.parametrize(
    ("method", "url", "body", "fmt"),
    [
        ("post", "/api/v1/placements/{p}/transition/", "not json", "raw"),
        ("post", "/api/v1/placements/{p}/transition/", {}, "json"),
        ("post", "/api/v1/placements/{p}/transition/", {"status": "bogus", "on": "2020-01-01"}, "json"),
        ("post", "/api/v1/placements/{p}/transition/", {"status": "completed", "on": "99999-01-01"}, "json"),
        ("post", "/api/v1/placements/{p}/check-ins/", {"day": "abc"}, "json"),
        (
            "post",
            "/api/v1/placements/{p}/check-ins/",
            {"day": 7, "recorded_on": "2020-01-01", "still_there": 1},
            "json",
        ),
        (
            "post",
            "/api/v1/placements/{p}/check-ins/",
            {"day": 30, "recorded_on": "2020-01-01", "still_there": True, "hours_per_week": 10**9},
            "json",
        ),
        ("patch", "/api/v1/opportunities/{o}/", {"places": "x"}, "json"),
        ("patch", "/api/v1/opportunities/{o}/", {"places": 100000}, "json"),
        ("patch", "/api/v1/opportunities/{o}/", {"places": 0}, "json"),
        ("patch", "/api/v1/opportunities/{o}/", {"min_education": 99}, "json"),
        ("patch", "/api/v1/opportunities/{o}/", {"kind": "spy"}, "json"),
        ("patch", "/api/v1/opportunities/{o}/", {"partner": 10**25}, "json"),
        ("patch", "/api/v1/opportunities/{o}/", {"start_date": "0000-01-01"}, "json"),
        ("patch", "/api/v1/partners/{partner}/", {"city": 10**25}, "json"),
        (
            "patch",
            "/api/v1/partners/{partner}/",
            {"agreement_from": "2030-01-01", "agreement_until": "2020-01-01"},
            "json",
        ),
        ("post", "/api/v1/partners/", {"name": "", "kind": "ngo"}, "json"),
        ("get", "/api/v1/placements/?case=abc", None, "json"),
        ("get", "/api/v1/placements/?case=99999999999999999999", None, "json"),
        ("get", "/api/v1/placements/?status=spy", None, "json"),
        ("get", "/api/v1/opportunities/?open=maybe", None, "json"),
    ],
)
def test_review_bad_input_is_4xx_never_500(demo, placement, opportunity, method, url, body, fmt):
    api = _api(demo["placement"])
    url = url.format(p=placement.pk, o=opportunity.pk, partner=opportunity.partner_id)
    if fmt == "raw":
        response = api.generic(method.upper(), url, body, content_type="application/json")
    elif body is None:
        response = getattr(api, method)(url)
    else:
        response = getattr(api, method)(url, body, format="json")
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/placements/99999999999999999999999/",
        "/api/v1/opportunities/99999999999999999999999/",
        "/api/v1/partners/99999999999999999999999/",
        "/placements/99999999999999999999999/",
        "/placements/cases/99999999999999999999999/",
        "/placements/opportunities/99999999999999999999999/",
        "/placements/partners/99999999999999999999999/",
    ],
)
def test_review_huge_ids_are_404(demo, url):
    client = _api(demo["placement"]) if url.startswith("/api") else _web(demo["placement"])
    assert client.get(url).status_code == 404


def test_review_web_forms_with_garbage_do_not_500(demo, placement, active_case, opportunity):
    web = _web(demo["placement"])
    assert web.post(f"/placements/{placement.pk}/move/", {"to_status": "zzz", "on": "x"}).status_code == 302
    check_in = placement.check_ins.get(day=30)
    assert (
        web.post(
            f"/placements/{placement.pk}/check-ins/{check_in.pk}/",
            {f"ci{check_in.pk}-recorded_on": "99999-1-1", f"ci{check_in.pk}-still_there": "maybe"},
        ).status_code
        == 302
    )
    assert (
        web.post(
            f"/placements/cases/{active_case.pk}/propose/", {"opportunity": "abc", "from_opportunity": "//evil"}
        ).status_code
        == 302
    )
    assert (
        web.post(
            f"/placements/cases/{active_case.pk}/propose/",
            {"opportunity": str(10**25), "proposed_on": TODAY().isoformat()},
        ).status_code
        == 302
    )
    assert web.get("/placements/opportunities/?page=abc&city=ZZZ&is_open=maybe").status_code == 200
    assert web.get("/placements/?status=zzz&page=99999999999999999999").status_code == 200


def test_review_no_files_on_placement_records(demo, placement, active_case, profile):
    """No placement page lists files, so an officer could not see what they uploaded: refused."""
    for record_type, record_id in (("placement", placement.pk), ("employability", profile.pk)):
        pdf = SimpleUploadedFile("cv.pdf", b"%PDF-1.4\n% test\n", content_type="application/pdf")
        response = _api(demo["placement"]).post(
            "/api/v1/attachments/",
            {"case": active_case.pk, "record_type": record_type, "record_id": record_id, "file": pdf},
            format="multipart",
        )
        assert response.status_code in (400, 404), response.content


def test_review_closed_case_blocks_check_ins_and_profile_everywhere(demo, placement, active_case):
    # a started placement is ended before the case can close
    services.placement_move(
        by=demo["placement"], placement=placement, to_status="dropped_out", on=TODAY(), reason="left"
    )
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.EXITED, reason="done")
    case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.CLOSED, reason="done")
    api, web = _api(demo["placement"]), _web(demo["placement"])
    body = {"day": 30, "recorded_on": TODAY().isoformat(), "still_there": True}
    assert api.post(f"/api/v1/placements/{placement.pk}/check-ins/", body, format="json").status_code == 404
    check_in = placement.check_ins.get(day=30)
    assert (
        web.post(
            f"/placements/{placement.pk}/check-ins/{check_in.pk}/",
            {f"ci{check_in.pk}-recorded_on": TODAY().isoformat(), f"ci{check_in.pk}-still_there": "true"},
        ).status_code
        == 404
    )
    assert web.post(f"/placements/cases/{active_case.pk}/employability/", {"education_level": 1}).status_code == 404
    with pytest.raises(ValidationError, match="read-only"):
        services.employability_save(by=demo["placement"], case=active_case, data={"education_level": 1})
    with pytest.raises(ValidationError, match="read-only"):
        services.check_in_record(
            by=demo["placement"], check_in=check_in, recorded_on=TODAY(), data={"still_there": True}
        )
    pdf = SimpleUploadedFile("cv.pdf", b"%PDF-1.4\n% test\n", content_type="application/pdf")
    response = api.post(
        "/api/v1/attachments/",
        {"case": active_case.pk, "record_type": "placement", "record_id": placement.pk, "file": pdf},
        format="multipart",
    )
    assert response.status_code in (400, 404)


@pytest.mark.django_db(transaction=True)
def test_review_lowering_places_races_with_an_acceptance_never_overbooks(demo, partner):
    officer = demo["placement"]
    opp = make_opportunity(officer, partner, places=2)
    a = services.placement_propose(by=officer, case=_ready_case(demo, 91), opportunity=opp, proposed_on=TODAY())
    b = services.placement_propose(by=officer, case=_ready_case(demo, 92), opportunity=opp, proposed_on=TODAY())
    services.placement_move(by=officer, placement=a, to_status="accepted", on=TODAY())
    barrier = threading.Barrier(2)

    def accept():
        try:
            barrier.wait(timeout=10)
            services.placement_move(by=officer, placement=b, to_status="accepted", on=TODAY())
        except ValidationError:
            pass
        finally:
            connection.close()

    def lower():
        try:
            barrier.wait(timeout=10)
            services.opportunity_update(by=officer, opportunity=opp, data={"places": 1})
        except ValidationError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=accept), threading.Thread(target=lower)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    row = sel.opportunities_visible_to(officer).get(pk=opp.pk)
    assert row.free >= 0
    assert row.taken <= Opportunity.objects.get(pk=opp.pk).places


def test_review_candidate_rows_on_the_opportunity_page_are_logged_as_reads(demo, active_case, opportunity, profile):
    """The candidates table shows names and employability data (education level) of the officer's cases;
    the same view logs the placement rows it shows, but not these."""
    from casemgmt.models import AccessLog

    page = _web(demo["placement"]).get(f"/placements/opportunities/{opportunity.pk}/")
    assert active_case.participant.case_code in page.content.decode()
    assert AccessLog.objects.filter(case=active_case, view="opportunity-detail").exists()


@pytest.mark.parametrize("name", ["authority", "auditor", "admin", "counsellor", "mentor", "caseworker2", "anonymous"])
def test_review_roles_without_placement_rights_get_nothing(people, placement, opportunity, active_case, name):
    user = people[name]
    api, web = APIClient(), Client()
    if user is not None:
        api.force_authenticate(user)
        web.force_login(user)
    for url in ("/api/v1/placements/", "/api/v1/opportunities/", "/api/v1/partners/"):
        response = api.get(url)
        assert response.status_code in (401, 403, 404) or response.json()["results"] == [], (url, response.content)
    for url in (
        f"/api/v1/placements/{placement.pk}/",
        f"/api/v1/placements/{placement.pk}/check-ins/",
        f"/api/v1/opportunities/{opportunity.pk}/",
        f"/api/v1/partners/{opportunity.partner_id}/",
    ):
        assert api.get(url).status_code in (401, 403, 404), url
    for url in (
        f"/placements/{placement.pk}/",
        f"/placements/cases/{active_case.pk}/",
        f"/placements/opportunities/{opportunity.pk}/",
        f"/placements/partners/{opportunity.partner_id}/",
        "/placements/opportunities/",
        "/placements/partners/",
    ):
        assert web.get(url).status_code in (302, 404), url
    page = web.get(f"/cases/{active_case.pk}/timeline/")
    assert "Warehouse job" not in page.content.decode()
