"""Issue 13, safe writes: ETag / If-Match (412, 428) and Idempotency-Key on POST, on the real database."""

from __future__ import annotations

import contextlib
import datetime
import threading

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from casemgmt import services
from casemgmt.api.idempotency import IdempotencyKey, purge_expired
from casemgmt.api.problems import PROBLEM_CONTENT_TYPE
from casemgmt.models import Case, Participant, Stage

NEW_CASE = {
    "given_name_latin": "Samir",
    "family_name_latin": "Testouni",
    "city": "TET",
    "referral_source": "family",
    "referral_date": "2026-10-01",
}


from tests.api.test_partner_clients import world  # noqa: E402,F401  the partner clients' world


def staff(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE)
    body = response.json()
    assert body["status"] == status
    return body


# --- ETag and If-Match -----------------------------------------------------------------------------


def test_a_single_resource_has_a_strong_etag_that_follows_its_state(caseworker, case):
    api = staff(caseworker)
    first = api.get(f"/api/v1/cases/{case.pk}/")
    etag = first["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert api.get(f"/api/v1/cases/{case.pk}/")["ETag"] == etag  # same state, same tag
    Participant.objects.filter(pk=case.participant_id).update(phone="+212 611 111 111")
    assert api.get(f"/api/v1/cases/{case.pk}/")["ETag"] != etag  # a participant column changed
    assert "ETag" not in api.get("/api/v1/cases/")  # a list has none


def test_a_write_with_the_current_etag_succeeds_and_answers_the_new_one(caseworker, case):
    api = staff(caseworker)
    etag = api.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    response = api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "+212 622 222 222"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response["ETag"] == api.get(f"/api/v1/cases/{case.pk}/")["ETag"]


def test_a_stale_if_match_is_412_and_changes_nothing(caseworker, case):
    api = staff(caseworker)
    stale = api.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "+212 633 333 333"}, format="json").status_code == 200
    response = api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "+212 644 444 444"}, format="json", HTTP_IF_MATCH=stale)
    body = problem(response, 412)
    assert body["instance"] == f"/api/v1/cases/{case.pk}/"
    assert Participant.objects.get(pk=case.participant_id).phone == "+212 633 333 333"


@pytest.mark.parametrize("header", ['W/"{}"', '"not-the-tag"', "garbage"])
def test_weak_or_foreign_tags_never_match(caseworker, case, header):
    api = staff(caseworker)
    etag = api.get(f"/api/v1/cases/{case.pk}/")["ETag"].strip('"')
    response = api.patch(
        f"/api/v1/cases/{case.pk}/", {"phone": "+212 6"}, format="json", HTTP_IF_MATCH=header.format(etag)
    )
    problem(response, 412)


def test_if_match_star_and_a_list_of_tags(caseworker, case):
    api = staff(caseworker)
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "1"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    etag = api.get(f"/api/v1/cases/{case.pk}/")["ETag"]
    tags = f'"old", {etag}'
    assert api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "2"}, format="json", HTTP_IF_MATCH=tags).status_code == 200


def test_staff_may_write_without_if_match(caseworker, case):
    response = staff(caseworker).patch(f"/api/v1/cases/{case.pk}/", {"phone": "+212 655 555 555"}, format="json")
    assert response.status_code == 200
    assert "ETag" in response


# Partner clients (real ones: registered, tokens from /o/token/, see tests/api/test_partner_clients.py).


def test_a_partner_client_without_if_match_gets_428_and_a_stale_one_412(world):  # noqa: F811  (the fixture imported above)
    from tests.api.test_partner_clients import STRAIT, as_client

    api = as_client(STRAIT)
    placement = world["strait_placement"]
    detail = reverse("api-partner-placement-detail", args=[placement.pk])
    move = reverse("api-partner-placement-move", args=[placement.pk])
    etag = api.get(detail)["ETag"]
    problem(api.post(move, {"status": "accepted", "on": str(timezone.localdate())}, format="json"), 428)
    placement.refresh_from_db()
    assert placement.status == "proposed"
    response = api.post(
        move, {"status": "accepted", "on": str(timezone.localdate())}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == api.get(detail)["ETag"] != etag
    # the next step with the old tag: the state moved on
    step = {"status": "started", "on": str(timezone.localdate())}
    problem(api.post(move, step, format="json", HTTP_IF_MATCH=etag), 412)


def test_creating_under_a_resource_needs_no_if_match(world):  # noqa: F811  (the fixture imported above)
    """A legal event is a new row under the shared case, not a change of it: Idempotency-Key's business."""
    from tests.api.test_partner_clients import PROBATION, as_client

    url = reverse("api-shared-case-legal-events", args=[world["shared"].pk])
    event = {"kind": "hearing", "date": str(timezone.localdate()), "description": "Hearing"}
    assert as_client(PROBATION).post(url, event, format="json").status_code == 201


@pytest.mark.parametrize("username", ["caseworker2", "authority", "mentor"])
def test_out_of_scope_is_404_whatever_the_headers(demo, case, username):
    """Another NGO's caseworker, an authority without a sharing basis, a mentor not on the team."""
    user = demo[username]
    etag = staff(demo["caseworker"]).get(f"/api/v1/cases/{case.pk}/")["ETag"]
    api = staff(user)
    for headers in ({}, {"HTTP_IF_MATCH": etag}, {"HTTP_IF_MATCH": '"stale"'}):
        response = api.patch(f"/api/v1/cases/{case.pk}/", {"phone": "1"}, format="json", **headers)
        problem(response, 404)
    problem(api.get(f"/api/v1/cases/{case.pk}/"), 404)


def test_another_partners_placement_is_404_whatever_the_headers(world):  # noqa: F811  (the fixture imported above)
    from tests.api.test_partner_clients import STRAIT, as_client

    other = world["institute_placement"]
    move = reverse("api-partner-placement-move", args=[other.pk])
    api = as_client(STRAIT)
    for headers in ({}, {"HTTP_IF_MATCH": '"stale"'}):
        problem(api.post(move, {"status": "accepted", "on": str(timezone.localdate())}, format="json", **headers), 404)


def test_the_etag_of_a_case_is_the_same_through_the_referral_endpoint(manager, caseworker, case):
    """/referrals/{id}/ and /cases/{id}/ are the same stored resource: a tag from one works on the other."""
    etag = staff(caseworker).get(f"/api/v1/cases/{case.pk}/")["ETag"]
    assert staff(manager).get(f"/api/v1/referrals/{case.pk}/")["ETag"] == etag


def _barrier_in(monkeypatch, module, name: str, parties: int = 2) -> threading.Barrier:
    """Make the service wait (up to 2 s) for the other writer: without the row lock both writers would
    pass the comparison before either writes, and both would succeed."""
    barrier = threading.Barrier(parties)
    real = getattr(module, name)

    def waiting(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, waiting)
    return barrier


def _in_threads(*calls):
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_with_the_same_etag_one_gets_412(demo, monkeypatch):
    from tests.factories import northern_case

    case = northern_case(demo)
    etag = staff(demo["caseworker"]).get(f"/api/v1/cases/{case.pk}/")["ETag"]
    _barrier_in(monkeypatch, services, "case_profile_update")

    def write(phone):
        return lambda: staff(demo["caseworker"]).patch(
            f"/api/v1/cases/{case.pk}/", {"phone": phone}, format="json", HTTP_IF_MATCH=etag
        )

    statuses = sorted(r.status_code for r in _in_threads(write("+212 677 000 001"), write("+212 677 000 002")))
    assert statuses == [200, 412]


# --- Idempotency-Key ---------------------------------------------------------------------------------


def test_a_retried_create_makes_one_record_and_gets_the_first_answer(caseworker):
    api = staff(caseworker)
    first = api.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="case-7f3a")
    assert first.status_code == 201
    again = api.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="case-7f3a")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.filter(participant__family_name_latin="Testouni").count() == 1
    # the same body, key order changed: the same request
    reordered = dict(reversed(list(NEW_CASE.items())))
    assert api.post("/api/v1/cases/", reordered, format="json", HTTP_IDEMPOTENCY_KEY="case-7f3a").json() == first.json()
    # without a key, a retry is a new record
    assert api.post("/api/v1/cases/", NEW_CASE, format="json").status_code == 201
    assert Case.objects.filter(participant__family_name_latin="Testouni").count() == 2


def test_the_same_key_with_another_body_is_422(caseworker):
    api = staff(caseworker)
    assert api.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    other = {**NEW_CASE, "given_name_latin": "Karim"}
    body = problem(api.post("/api/v1/cases/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-1"), 422)
    assert "Idempotency-Key" in body["detail"]
    assert not Case.objects.filter(participant__given_name_latin="Karim").exists()


def test_keys_belong_to_their_principal(caseworker, colleague):
    for user in (caseworker, colleague):
        assert staff(user).post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert Case.objects.filter(participant__family_name_latin="Testouni").count() == 2
    assert set(IdempotencyKey.objects.values_list("principal", flat=True)) == {
        f"user:{caseworker.pk}",
        f"user:{colleague.pk}",
    }


def test_a_partner_client_is_keyed_by_its_application(world):  # noqa: F811  (the fixture imported above)
    from tests.api.test_partner_clients import STRAIT, as_client

    job = {
        "title": "Night shift loader",
        "kind": "job",
        "sector": "logistics",
        "city": world["strait_job"].city_id,
        "places": 2,
        "start_date": str(timezone.localdate() + datetime.timedelta(days=20)),
        "pay_band": "minimum_wage",
    }
    api = as_client(STRAIT)
    url = reverse("api-partner-opportunity-list")
    first = api.post(url, job, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert first.status_code == 201, first.content
    again = api.post(url, job, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert IdempotencyKey.objects.get().principal.startswith("client:")


def test_a_failed_request_does_not_use_up_its_key(caseworker):
    api = staff(caseworker)
    bad = {**NEW_CASE, "city": "XXX"}
    problem(api.post("/api/v1/cases/", bad, format="json", HTTP_IDEMPOTENCY_KEY="fix-me"), 400)
    assert not IdempotencyKey.objects.exists()
    assert api.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="fix-me").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "é"])
def test_a_malformed_key_is_400_with_the_header_named(caseworker, key):
    response = staff(caseworker).post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert "Idempotency-Key" in problem(response, 400)["errors"]
    assert not Case.objects.exists()


def test_keys_expire(caseworker):
    api = staff(caseworker)
    assert api.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    IdempotencyKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert api.post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert Case.objects.filter(participant__family_name_latin="Testouni").count() == 2  # a new request
    assert IdempotencyKey.objects.count() == 1
    IdempotencyKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert purge_expired() == 1
    assert not IdempotencyKey.objects.exists()


def test_a_workflow_step_replays_instead_of_failing_the_second_time(caseworker, case):
    """A retried transition (the answer was lost) gets the first answer, not a 400 'already moved'."""
    api = staff(caseworker)
    move = {"to_stage": "screening", "reason": "first contact"}
    before = case.stage_changes.count()
    first = api.post(f"/api/v1/cases/{case.pk}/transition/", move, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    assert first.status_code == 200
    again = api.post(f"/api/v1/cases/{case.pk}/transition/", move, format="json", HTTP_IDEMPOTENCY_KEY="mv-1")
    assert (again.status_code, again.json()) == (200, first.json())
    case.refresh_from_db()
    assert case.stage == Stage.SCREENING
    assert case.stage_changes.count() == before + 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_make_one_record(demo, monkeypatch):
    _barrier_in(monkeypatch, services, "case_open")

    def create():
        return staff(demo["caseworker"]).post("/api/v1/cases/", NEW_CASE, format="json", HTTP_IDEMPOTENCY_KEY="race")

    first, second = _in_threads(create, create)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert Case.objects.filter(participant__family_name_latin="Testouni").count() == 1
    assert {first.get("Idempotent-Replayed"), second.get("Idempotent-Replayed")} == {None, "true"}
