"""A partner client's webhook subscriptions over the API (issue 14): its own organisation and application
from the token, events limited by its organisation's kind and its token's scopes, another client's
subscriptions out of reach, the secret shown once, safe writes, and what a scope taken away stops.

Tokens come from the real token endpoint (`tests.api.test_partner_clients` helpers)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiClient
from casemgmt import webhooks
from casemgmt.webhook_models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.api import test_partner_clients
from tests.api.test_partner_clients import FUND, PROBATION, STRAIT, as_client, organisation

world = test_partner_clients.world  # the demo clients, a case shared with the probation office

LIST = reverse("api-webhook-subscription-list")
LEGAL = WebhookEvent.LEGAL_EVENT_RECORDED.value
PLACEMENT = WebhookEvent.PLACEMENT_STATUS_CHANGED.value


def detail(pk, name="detail"):
    return reverse(f"api-webhook-subscription-{name}", args=[pk])


def subscribe(client, url="https://hooks.example/in", events=(LEGAL,), **extra):
    return client.post(LIST, {"url": url, "events": list(events), **extra}, format="json")


def etag(client, pk):
    response = client.get(detail(pk))
    assert response.status_code == 200
    return response["ETag"]


def test_a_client_subscribes_for_its_own_organisation_and_sees_the_secret_once(world):
    probation = as_client(PROBATION)
    northern = world["northern"]
    response = subscribe(probation, organisation=northern.pk, application=1)  # ignored: the token decides
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == [LEGAL]
    assert body["is_active"]
    assert not body["paused"]
    row = WebhookSubscription.objects.get(pk=body["id"])
    assert row.organisation == organisation("Regional Probation Office")
    assert row.application.client_id == PROBATION
    assert row.secret == body["secret"]
    listed = probation.get(LIST).json()
    assert [r["id"] for r in listed["results"]] == [row.pk]
    assert "secret" not in listed["results"][0]
    shown = probation.get(detail(row.pk))
    assert "secret" not in shown.json()
    assert shown.has_header("ETag")


def test_events_beyond_the_kind_or_the_scopes_and_bad_addresses_are_400_and_write_nothing(world, settings):
    probation = as_client(PROBATION)
    wrong_kind = subscribe(probation, events=[PLACEMENT])  # an authority hears no placements
    assert wrong_kind.status_code == 400
    assert "events" in wrong_kind.json()["errors"]
    assert subscribe(probation, events=[]).json()["errors"].keys() == {"events"}
    unknown = subscribe(probation, events=["case.everything"]).json()["errors"]
    assert [key.split(".")[0] for key in unknown] == ["events"]
    # a token without the scope that reads legal events cannot hear of them
    narrow = as_client(PROBATION, scope="webhooks:manage referrals:write")
    no_scope = subscribe(narrow, events=[LEGAL])
    assert no_scope.status_code == 400
    assert "cases:read-shared" in no_scope.json()["errors"]["events"][0]
    assert subscribe(narrow, events=[WebhookEvent.REFERRAL_STATUS_CHANGED]).status_code == 201
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    for url in ("http://hooks.example/in", "https://10.0.0.7/in", "https://u:p@hooks.example/", "not a url"):
        response = subscribe(probation, url=url)
        assert response.status_code == 400, url
        assert "url" in response.json()["errors"], url
    assert WebhookSubscription.objects.count() == 1  # only the referral one


def test_only_clients_with_the_manage_scope_reach_the_endpoints(world, demo):
    without = as_client(PROBATION, scope="cases:read-shared legal-events:write")
    assert without.get(LIST).status_code == 403
    assert subscribe(without).status_code == 403
    assert as_client(FUND).get(LIST).status_code == 403  # a funder's client can hold no such scope
    for username in ("admin", "manager", "authority", "caseworker2"):
        staff = APIClient()
        staff.force_login(demo[username])
        assert staff.get(LIST).status_code == 404, username
        assert subscribe(staff).status_code == 404, username
    assert not WebhookSubscription.objects.exists()


def test_another_clients_subscription_is_out_of_reach(world):
    strait = as_client(STRAIT)
    theirs = subscribe(strait, events=[PLACEMENT]).json()["id"]
    probation = as_client(PROBATION)
    assert probation.get(LIST).json()["results"] == []
    tag = etag(strait, theirs)
    assert probation.get(detail(theirs)).status_code == 404
    assert (
        probation.patch(detail(theirs), {"url": "https://x.example/"}, format="json", HTTP_IF_MATCH=tag).status_code
        == 404
    )
    assert probation.delete(detail(theirs), HTTP_IF_MATCH=tag).status_code == 404
    assert probation.post(detail(theirs, "rotate-secret")).status_code == 404
    assert probation.get(detail(theirs, "deliveries")).status_code == 404
    row = WebhookSubscription.objects.get(pk=theirs)
    assert row.is_active
    assert row.url == "https://hooks.example/in"


def test_changes_take_if_match_and_the_same_rules(world):
    probation = as_client(PROBATION)
    pk = subscribe(probation).json()["id"]
    assert probation.patch(detail(pk), {"url": "https://hooks.example/v2"}, format="json").status_code == 428
    assert (
        probation.patch(
            detail(pk), {"url": "https://hooks.example/v2"}, format="json", HTTP_IF_MATCH='"stale"'
        ).status_code
        == 412
    )
    tag = etag(probation, pk)
    bad = probation.patch(detail(pk), {"events": [PLACEMENT]}, format="json", HTTP_IF_MATCH=tag)
    assert bad.status_code == 400
    assert "events" in bad.json()["errors"]
    events = [LEGAL, WebhookEvent.CONSENT_WITHDRAWN.value]
    good = probation.patch(
        detail(pk), {"url": "https://hooks.example/v2", "events": events}, format="json", HTTP_IF_MATCH=tag
    )
    assert good.status_code == 200, good.content
    assert good.json()["url"] == "https://hooks.example/v2"
    row = WebhookSubscription.objects.get(pk=pk)
    assert row.url == "https://hooks.example/v2"
    assert row.events == sorted(events)


def test_rotating_the_secret_shows_the_new_one_once(world):
    probation = as_client(PROBATION)
    created = subscribe(probation).json()
    rotated = probation.post(detail(created["id"], "rotate-secret"))
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert WebhookSubscription.objects.get(pk=created["id"]).secret == rotated.json()["secret"]


def test_ending_a_subscription_stops_what_waits_and_keeps_the_record(world, demo):
    probation = as_client(PROBATION)
    pk = subscribe(probation).json()["id"]
    sub = WebhookSubscription.objects.get(pk=pk)
    waiting = WebhookDelivery.objects.create(subscription=sub, event=LEGAL, payload={}, next_attempt_at=None)
    ended = probation.delete(detail(pk), HTTP_IF_MATCH=etag(probation, pk))
    assert ended.status_code == 200
    assert ended.json()["is_active"] is False
    assert probation.get(LIST).json()["results"] == []
    assert probation.get(detail(pk)).status_code == 404
    sub.refresh_from_db()
    waiting.refresh_from_db()
    assert not sub.is_active
    assert waiting.status == WebhookDelivery.Status.FAILED
    assert waiting.next_attempt_at is None


def test_deliveries_are_listed_without_payloads_and_a_scope_taken_away_stops_them(world, demo):
    probation = as_client(PROBATION)
    pk = subscribe(probation).json()["id"]
    case = world["shared"]  # shared with the probation office for identity and legal status
    url = reverse("api-shared-case-legal-events", args=[case.pk])
    posted = probation.post(url, {"kind": "hearing", "date": datetime.date.today()}, format="json")
    assert posted.status_code == 201, posted.content
    rows = probation.get(detail(pk, "deliveries")).json()["results"]
    assert [(r["event"], r["status"], r["attempts"]) for r in rows] == [(LEGAL, "pending", 0)]
    assert "payload" not in rows[0]
    payload = WebhookDelivery.objects.get(pk=rows[0]["id"]).payload
    assert payload["legal_event"]["id"] == posted.json()["id"]
    # the system administrator takes the scope away: the next legal event goes to nobody
    client_row = ApiClient.objects.get(application__client_id=PROBATION)
    client_row.allowed_scopes = "legal-events:write webhooks:manage"
    client_row.save(update_fields=["allowed_scopes"])
    assert webhooks.subscribers(LEGAL, [client_row.organisation_id]) == []
    again = probation.post(url, {"kind": "breach", "date": datetime.date.today()}, format="json")
    assert again.status_code == 201
    assert WebhookDelivery.objects.filter(subscription_id=pk).count() == 1


def test_the_list_reads_a_constant_number_of_queries(world):
    probation = as_client(PROBATION)

    def queries_of_the_list(expected):
        with CaptureQueriesContext(connection) as queries:
            response = probation.get(LIST)
        assert len(response.json()["results"]) == expected
        return len(queries)

    assert subscribe(probation, url="https://hooks.example/0").status_code == 201
    one = queries_of_the_list(1)
    for i in range(1, 6):
        assert subscribe(probation, url=f"https://hooks.example/{i}").status_code == 201
    assert queries_of_the_list(6) == one


def test_the_deliveries_list_reads_a_constant_number_of_queries(world):
    probation = as_client(PROBATION)
    pk = subscribe(probation).json()["id"]
    url = reverse("api-shared-case-legal-events", args=[world["shared"].pk])

    def record_legal_event():
        posted = probation.post(url, {"kind": "hearing", "date": datetime.date.today()}, format="json")
        assert posted.status_code == 201, posted.content

    def queries_of_the_deliveries(expected):
        with CaptureQueriesContext(connection) as queries:
            response = probation.get(detail(pk, "deliveries"))
        assert response.status_code == 200
        assert len(response.json()["results"]) == expected
        return len(queries)

    record_legal_event()
    one = queries_of_the_deliveries(1)
    for _ in range(5):
        record_legal_event()
    assert queries_of_the_deliveries(6) == one
