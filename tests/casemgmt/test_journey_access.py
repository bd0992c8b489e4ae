"""Role matrix and query counts for the journey pages and endpoints (exit, close, outcomes,
transfers, timeline API)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import casefile_services as cs
from casemgmt.casefile import Outcome
from casemgmt.models import Stage
from tests.casemgmt.test_case_pages import ALL

TODAY = timezone.localdate


def _expected(name, allowed, ok):
    return 302 if name == "anonymous" else ok if name in allowed else 404


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_exit_page_post(client, active_case, viewer, request):
    name = request.node.callspec.params["viewer"]
    if viewer is not None:
        client.force_login(viewer)
    response = client.post(
        reverse("case-exit", args=[active_case.pk]), {"exit-reason": "goals_met", "exit-exited_on": str(TODAY())}
    )
    movers = {"caseworker", "manager"}
    assert response.status_code == _expected(name, movers, 302)
    active_case.refresh_from_db()
    assert (active_case.stage == Stage.EXITED) == (name in movers)


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_close_and_outcome_pages(client, demo, active_case, viewer, request):
    cs.case_exit(case=active_case, by=demo["caseworker"], reason="goals_met", exited_on=TODAY(), outcome={})
    outcome = Outcome.objects.get(case=active_case, kind="after_6")
    name = request.node.callspec.params["viewer"]
    if viewer is not None:
        client.force_login(viewer)
    response = client.post(
        reverse("outcome-record", args=[active_case.pk, outcome.pk]),
        {"outcome-recorded_on": str(TODAY()), "outcome-employment": "employed"},
    )
    assert response.status_code == _expected(name, {"caseworker", "manager"}, 302)
    outcome.refresh_from_db()
    assert (outcome.recorded_on is not None) == (name in {"caseworker", "manager"})
    response = client.post(reverse("case-close", args=[active_case.pk]), {"close-reason": "done"})
    assert response.status_code == _expected(name, {"caseworker", "manager"}, 302)
    active_case.refresh_from_db()
    assert (active_case.stage == Stage.CLOSED) == (name == "manager")  # the lead waits for the follow-ups


@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_transfer_pages(client, demo, active_case, viewer, request):
    from accounts.models import Organisation

    atlantic = Organisation.objects.get(name="Atlantic Family Support Association")
    consent = cs.record_create(
        key="consent",
        case=active_case,
        by=demo["caseworker"],
        data={"purpose": "Transfer", "recipient": atlantic, "categories": ["identity"], "given_on": TODAY()},
    )
    name = request.node.callspec.params["viewer"]
    if viewer is not None:
        client.force_login(viewer)
    response = client.post(
        reverse("case-transfer", args=[active_case.pk]),
        {"transfer-to_organisation": atlantic.pk, "transfer-consent": consent.pk, "transfer-reason": "moved"},
    )
    assert response.status_code == _expected(name, {"caseworker", "manager"}, 302)
    assert client.get(reverse("transfer-list")).status_code == _expected(name, {"manager"}, 200)
    assert active_case.transfers.exists() == (name in {"caseworker", "manager"})


@pytest.mark.parametrize("username", ["caseworker", "placement", "manager", "colleague", "caseworker2", "authority"])
def test_timeline_endpoint_roles(demo, active_case, username):
    api = APIClient()
    api.force_authenticate(demo[username])
    expected = 200 if username in {"caseworker", "placement", "manager"} else 404
    assert api.get(f"/api/v1/cases/{active_case.pk}/timeline/").status_code == expected


def _count(call):
    with CaptureQueriesContext(connection) as ctx:
        assert call().status_code == 200
    return len(ctx.captured_queries)


def test_outcomes_and_transfers_lists_do_not_grow(client, demo, active_case):
    from casemgmt.services import case_reopen
    from tests.factories import case_move_stage

    api = APIClient()
    api.force_authenticate(demo["manager"])
    client.force_login(demo["manager"])
    cs.case_exit(case=active_case, by=demo["caseworker"], reason="goals_met", exited_on=TODAY(), outcome={})
    few_api = _count(lambda: api.get("/api/v1/post-exit-outcomes/", {"case": active_case.pk}))
    few_page = _count(lambda: client.get(reverse("transfer-list")))
    for _ in range(3):  # more exits, more outcome rows
        case_reopen(case=active_case, by=demo["caseworker"], reason="again")
        active_case.refresh_from_db()
        if active_case.stage == Stage.ASSESSMENT:
            case_move_stage(case=active_case, by=demo["caseworker"], to_stage=Stage.ACTIVE, reason="ok")
        cs.case_exit(
            case=active_case,
            by=demo["caseworker"],
            reason="goals_met",
            exited_on=TODAY() - datetime.timedelta(days=0),
            outcome={},
        )
    assert Outcome.objects.filter(case=active_case).count() == 16
    assert _count(lambda: api.get("/api/v1/post-exit-outcomes/", {"case": active_case.pk})) == few_api
    assert _count(lambda: client.get(reverse("transfer-list"))) == few_page


def test_transfers_page_queries_do_not_grow(client, demo):
    from accounts.models import Organisation
    from tests.factories import northern_case

    atlantic = Organisation.objects.get(name="Atlantic Family Support Association")

    def transfer(n):
        case = northern_case(demo, n=n)
        consent = cs.record_create(
            key="consent",
            case=case,
            by=demo["caseworker"],
            data={"purpose": "Transfer", "recipient": atlantic, "categories": ["identity"], "given_on": TODAY()},
        )
        cs.transfer_request(case=case, by=demo["caseworker"], to_organisation=atlantic, consent=consent, reason="x")

    client.force_login(demo["manager"])
    transfer(1)
    one = _count(lambda: client.get(reverse("transfer-list")))
    for n in range(2, 8):
        transfer(n)
    assert _count(lambda: client.get(reverse("transfer-list"))) == one


@pytest.mark.parametrize("which", ["team", "exit", "transfer"])
@pytest.mark.parametrize("viewer", ALL, indirect=True)
def test_action_forms_load_only_for_those_who_may_act(client, active_case, viewer, request, which):
    name = request.node.callspec.params["viewer"]
    if viewer is not None:
        client.force_login(viewer)
    response = client.get(reverse("case-form", args=[active_case.pk, which]), HTTP_HX_REQUEST="true")
    assert response.status_code == _expected(name, {"caseworker", "manager"}, 200)
    if response.status_code == 200:
        assert "<html" not in response.content.decode()  # the partial alone for htmx
        assert client.get(reverse("case-form", args=[active_case.pk, which])).status_code == 200  # and a page


def test_unknown_action_form_is_404(client, demo, active_case):
    client.force_login(demo["caseworker"])
    assert client.get(reverse("case-form", args=[active_case.pk, "delete"])).status_code == 404
