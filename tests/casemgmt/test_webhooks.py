"""Signed webhooks (issue 14): signatures, what each subscriber may see, retries with backoff against a
local failing receiver, pausing, replay, and nothing sent for a rolled-back write."""

from __future__ import annotations

import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import PARTNER_SCOPES, City, Organisation
from accounts.services import api_client_register
from casemgmt import boundary_services, webhooks
from casemgmt.boundary_models import DisclosureLog
from casemgmt.casefile_services import case_screen, record_create, record_update
from casemgmt.followup_models import Notification
from casemgmt.models import Stage
from casemgmt.webhook_models import WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.factories import case_move_stage

TODAY = timezone.localdate
PROBATION = "Regional Probation Office"


class Receiver:
    """A local HTTP receiver: records every request and answers with the next planned status."""

    def __init__(self, statuses=(200,)):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def payloads(self):
        return [json.loads(body) for _headers, body in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def client_for(org):
    """A registered partner client of the organisation, holding every scope its kind may hold."""
    api_client, _secret = api_client_register(
        name=f"client of {org.pk}", organisation=org, scopes=PARTNER_SCOPES[org.kind]
    )
    return api_client.application


def subscribe(org, url, events):
    return webhooks.subscribe(application=client_for(org), organisation=org, url=url, events=events)


def probation():
    return Organisation.objects.get(name=PROBATION)


def other_authority():
    return Organisation.objects.create(name="Coastal Police Unit", kind=Organisation.Kind.AUTHORITY)


def give_consent(case, by, categories, recipient=None, **extra):
    data = {
        "purpose": "Coordination",
        "recipient": recipient or probation(),
        "categories": categories,
        "given_on": TODAY() - datetime.timedelta(days=10),
        **extra,
    }
    return record_create(key="consent", case=case, by=by, data=data)


def legal_event(case, by, kind="hearing"):
    return record_create(
        key="legal_event", case=case, by=by, data={"kind": kind, "date": TODAY(), "description": "Hearing at court"}
    )


@pytest.fixture
def shared(demo, case):
    for stage in (Stage.SCREENING, Stage.ASSESSMENT, Stage.ACTIVE):
        case_move_stage(case=case, by=demo["caseworker"], to_stage=stage, reason="walk")
    return case


# --- Signatures ------------------------------------------------------------------------------


def test_signature_verifies_and_refuses_tampering_and_replays():
    secret = webhooks.new_secret()
    body = b'{"id":"e1","type":"legal_event.recorded"}'
    now = int(time.time())
    headers = {
        "webhook-id": "e1",
        "webhook-timestamp": str(now),
        "webhook-signature": webhooks.sign(secret, "e1", now, body),
    }
    assert webhooks.verify(secret, headers, body)["id"] == "e1"
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(secret, headers, body.replace(b"e1", b"e2"))  # tampered body
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(secret, {**headers, "webhook-id": "e2"}, body)  # another event's id
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(webhooks.new_secret(), headers, body)  # another secret
    with pytest.raises(webhooks.InvalidSignature):  # an old request replayed ten minutes later
        webhooks.verify(secret, headers, body, now=now + 600)
    old = now - 600
    replayed = {**headers, "webhook-timestamp": str(old), "webhook-signature": webhooks.sign(secret, "e1", old, body)}
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(secret, replayed, body)
    with pytest.raises(webhooks.InvalidSignature):
        webhooks.verify(secret, {"webhook-id": "e1"}, body)
    # During a secret rotation the header carries two signatures; either verifies.
    both = f"{webhooks.sign(webhooks.new_secret(), 'e1', now, body)} {headers['webhook-signature']}"
    assert webhooks.verify(secret, {**headers, "webhook-signature": both}, body)


# --- Subscriptions ---------------------------------------------------------------------------


def test_subscription_rules(demo, settings):
    authority = probation()
    with pytest.raises(ValidationError) as error:
        subscribe(authority, "https://partner.example/hook", [WebhookEvent.PLACEMENT_STATUS_CHANGED])
    assert "events" in error.value.message_dict  # an authority hears no placements
    with pytest.raises(ValidationError) as error:
        subscribe(authority, "https://partner.example/hook", ["case.everything"])
    assert "events" in error.value.message_dict
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    for url in (
        "http://partner.example/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://user:pw@x.example/",
    ):
        with pytest.raises(ValidationError) as error:
            subscribe(authority, url, [WebhookEvent.LEGAL_EVENT_RECORDED])
        assert "url" in error.value.message_dict, url
    assert not WebhookSubscription.objects.exists()


# --- Legal events: only authorities sharing the case with legal status ----------------------


def test_legal_event_reaches_only_authorities_with_legal_status(demo, shared, receiver):
    sub = subscribe(probation(), receiver.url, [WebhookEvent.LEGAL_EVENT_RECORDED])
    other = subscribe(other_authority(), receiver.url, [WebhookEvent.LEGAL_EVENT_RECORDED])

    legal_event(shared, demo["caseworker"])  # no basis yet: nothing
    give_consent(shared, demo["caseworker"], ["identity"])
    legal_event(shared, demo["caseworker"])  # a basis, but not legal status: nothing
    assert not WebhookDelivery.objects.exists()

    give_consent(shared, demo["caseworker"], ["legal_status"])
    event = legal_event(shared, demo["caseworker"], kind="breach")
    record_update(key="legal_event", record=event, by=demo["caseworker"], data={"description": "Changed"})
    rows = list(WebhookDelivery.objects.all())
    assert [(r.subscription_id, r.event) for r in rows] == [(sub.pk, WebhookEvent.LEGAL_EVENT_RECORDED)]
    assert rows[0].payload == {
        "case_id": shared.pk,
        "case_code": shared.participant.case_code,
        "legal_event": {
            "id": event.pk,
            "kind": "breach",
            "date": TODAY().isoformat(),
            "description": "Hearing at court",
        },
    }
    log = DisclosureLog.objects.get(channel="webhook")
    assert (log.organisation_id, log.case_id, log.client_id) == (probation().pk, shared.pk, sub.application.client_id)
    assert log.categories == ["identity", "legal_status"]
    assert log.basis == ["consent"]
    assert other.deliveries.count() == 0

    assert webhooks.deliver() == 1
    headers, body = receiver.requests[0]
    envelope = webhooks.verify(sub.secret, headers, body)
    assert envelope["type"] == "legal_event.recorded"
    assert envelope["data"] == rows[0].payload
    assert envelope["id"] == str(rows[0].event_id)
    rows[0].refresh_from_db()
    assert (rows[0].status, rows[0].attempts, rows[0].last_status_code) == ("delivered", 1, 200)


def test_a_rolled_back_write_sends_nothing(demo, shared, receiver):
    subscribe(probation(), receiver.url, [WebhookEvent.LEGAL_EVENT_RECORDED])
    give_consent(shared, demo["caseworker"], ["legal_status"])

    def failing_writer():
        with transaction.atomic():
            legal_event(shared, demo["caseworker"])
            raise RuntimeError("the writer fails after the event")

    with pytest.raises(RuntimeError):
        failing_writer()
    assert not WebhookDelivery.objects.exists()
    assert not DisclosureLog.objects.filter(channel="webhook").exists()


# --- Consents --------------------------------------------------------------------------------


def test_consent_withdrawn_and_expired(demo, shared, receiver):
    sub = subscribe(probation(), receiver.url, [WebhookEvent.CONSENT_WITHDRAWN, WebhookEvent.CONSENT_EXPIRED])
    withdrawn = give_consent(shared, demo["caseworker"], ["identity", "program_stage"])
    record_update(key="consent", record=withdrawn, by=demo["caseworker"], data={"withdrawn_on": TODAY()})
    record_update(key="consent", record=withdrawn, by=demo["caseworker"], data={"purpose": "Again"})  # same news
    other_recipient = give_consent(shared, demo["caseworker"], ["identity"], recipient=other_authority())
    record_update(key="consent", record=other_recipient, by=demo["caseworker"], data={"withdrawn_on": TODAY()})
    rows = list(WebhookDelivery.objects.filter(subscription=sub))
    assert [r.event for r in rows] == ["consent.withdrawn"]
    assert rows[0].payload == {
        "consent_id": withdrawn.pk,
        "case_code": shared.participant.case_code,
        "categories": ["identity", "program_stage"],
        "withdrawn_on": TODAY().isoformat(),
    }

    expiring = give_consent(shared, demo["caseworker"], ["identity"], expires_on=TODAY() + datetime.timedelta(days=2))
    assert webhooks.consent_expiries() == 0  # not expired yet
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        assert webhooks.consent_expiries() == 1
        assert webhooks.consent_expiries() == 0  # once
    expired = WebhookDelivery.objects.get(event="consent.expired")
    assert expired.payload["consent_id"] == expiring.pk
    assert set(expired.payload) == {"consent_id", "case_code", "categories", "expired_on"}


# --- Placements: the partner's own, first name and case code only ---------------------------


def test_placement_status_reaches_only_its_partner(demo, shared, receiver):
    from programs import placement_services as services
    from tests.programs.placements.conftest import make_opportunity, make_partner

    officer = demo["placement"]
    partner = make_partner(officer)
    rival = make_partner(officer, name="Rival Transport")
    sub = subscribe(partner, receiver.url, [WebhookEvent.PLACEMENT_STATUS_CHANGED])
    rival_sub = subscribe(rival, receiver.url, [WebhookEvent.PLACEMENT_STATUS_CHANGED])
    opportunity = make_opportunity(officer, partner)
    day = TODAY() - datetime.timedelta(days=3)
    placed = services.placement_propose(by=officer, case=shared, opportunity=opportunity, proposed_on=day)
    services.placement_move(by=officer, placement=placed, to_status="accepted", on=day)
    rows = list(WebhookDelivery.objects.filter(subscription=sub).order_by("pk"))
    assert [r.payload["status"] for r in rows] == ["proposed", "accepted"]
    assert set(rows[0].payload) == {
        "placement_id",
        "opportunity_id",
        "status",
        "proposed_on",
        "accepted_on",
        "started_on",
        "ended_on",
        "participant_first_name",
        "case_code",
    }
    assert rows[1].payload["participant_first_name"] == shared.participant.given_name_latin
    assert rival_sub.deliveries.count() == 0
    assert webhooks.deliver() == 2
    assert [p["data"]["status"] for p in receiver.payloads()] == ["proposed", "accepted"]


# --- Referrals: the referring authority hears the status only --------------------------------


def test_referral_status_changes_reach_the_referring_authority(demo, receiver):
    sub = subscribe(probation(), receiver.url, [WebhookEvent.REFERRAL_STATUS_CHANGED])
    referral = boundary_services.authority_referral_submit(
        by=demo["authority"],
        organisation=demo["manager"].membership.organisation,
        participant={"given_name_latin": "Ref", "family_name_latin": "Synthetic", "city": City.objects.first()},
        reason="Asks for support.",
        reference="PRB-7",
    )
    case_move_stage(case=referral.case, by=demo["manager"], to_stage=Stage.SCREENING, reason="first call")
    case_screen(case=referral.case, by=demo["manager"], first_contact_date=TODAY(), decision="accept", reason="Fits")
    rows = list(WebhookDelivery.objects.filter(subscription=sub).order_by("pk"))
    assert [r.payload for r in rows] == [
        {"referral_id": referral.pk, "reference": "PRB-7", "status": "screening", "status_label": "In screening"},
        {
            "referral_id": referral.pk,
            "reference": "PRB-7",
            "status": "accepted",
            "status_label": "Accepted into the programme",
        },
    ]


# --- Retries, backoff, pause, replay ----------------------------------------------------------


@pytest.fixture
def one_delivery(demo, shared):
    def make(url):
        sub = subscribe(probation(), url, [WebhookEvent.LEGAL_EVENT_RECORDED])
        give_consent(shared, demo["caseworker"], ["legal_status"])
        legal_event(shared, demo["caseworker"])
        return sub, WebhookDelivery.objects.get(subscription=sub)

    return make


def test_failures_back_off_exponentially_then_succeed(one_delivery):
    failing = Receiver(statuses=[500, 503, 200])
    try:
        sub, delivery = one_delivery(failing.url)
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            assert webhooks.deliver() == 1
            delivery.refresh_from_db()
            assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
            assert delivery.next_attempt_at == start + datetime.timedelta(seconds=30)
            assert webhooks.deliver() == 0  # not due yet
            clock.shift(31)
            assert webhooks.deliver() == 1
            delivery.refresh_from_db()
            assert (delivery.attempts, delivery.last_status_code) == (2, 503)
            assert delivery.next_attempt_at == start + datetime.timedelta(seconds=31 + 60)
            clock.shift(61)
            assert webhooks.deliver() == 1
        delivery.refresh_from_db()
        sub.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
        assert sub.consecutive_failures == 0
        assert sub.paused_at is None
        assert len({h["webhook-id"] for h, _b in failing.requests}) == 1  # one event id on every retry
    finally:
        failing.close()


def test_an_unreachable_receiver_is_a_failed_attempt(one_delivery):
    dead = Receiver()
    url = dead.url
    dead.close()  # nothing listens there any more
    _sub, delivery = one_delivery(url)
    webhooks.deliver()
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert delivery.last_error


def test_repeated_failures_pause_the_subscription_and_tell_the_admins(one_delivery, settings, superuser):
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 3
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    failing = Receiver(statuses=[500])
    try:
        sub, delivery = one_delivery(failing.url)
        with time_machine.travel(timezone.now(), tick=False) as clock, pytest.MonkeyPatch.context() as patch:
            patch.setattr(transaction, "on_commit", lambda fn, using=None, robust=False: fn())
            for _ in range(3):
                assert webhooks.deliver() == 1
                clock.shift(3600)
            sub.refresh_from_db()
            assert sub.paused_at is not None
            assert sub.consecutive_failures == 3
            assert webhooks.deliver() == 0  # paused: nothing goes out
            assert len(failing.requests) == 3
            note = Notification.objects.get(user=superuser, purpose="system")
            assert str(sub.pk) in note.subject
            assert note.link.endswith(f"/{sub.pk}/change/")
            failing.statuses = [200]
            assert webhooks.resume(sub) == 1
            assert webhooks.deliver() == 1
        delivery.refresh_from_db()
        assert delivery.status == "delivered"
    finally:
        failing.close()


def test_gives_up_after_the_maximum_attempts(one_delivery, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_PAUSE_AFTER_FAILURES = 100
    failing = Receiver(statuses=[500])
    try:
        _sub, delivery = one_delivery(failing.url)
        with time_machine.travel(timezone.now(), tick=False) as clock:
            webhooks.deliver()
            clock.shift(3600)
            webhooks.deliver()
            clock.shift(3600 * 24)
            assert webhooks.deliver() == 0
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    finally:
        failing.close()


def test_replay_sends_the_same_event_again(one_delivery, receiver):
    sub, delivery = one_delivery(receiver.url)
    webhooks.deliver()
    copy = webhooks.replay(delivery)
    assert webhooks.deliver() == 1
    copy.refresh_from_db()
    assert copy.status == "delivered"
    assert copy.replay_of_id == delivery.pk
    first, second = receiver.requests
    assert first[0]["webhook-id"] == second[0]["webhook-id"] == str(delivery.event_id)
    assert webhooks.verify(sub.secret, second[0], second[1])["data"] == delivery.payload


def test_admin_oversight_shows_no_payload_and_replays(one_delivery, receiver, superuser, client):
    from django.urls import reverse

    _sub, delivery = one_delivery(receiver.url)
    webhooks.deliver()
    client.force_login(superuser)
    page = client.get(reverse("admin:casemgmt_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert "Hearing at court" not in page.content.decode()  # the payload is the partner's, not the admin's
    response = client.post(
        reverse("admin:casemgmt_webhookdelivery_changelist"),
        {"action": "replay_deliveries", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(replay_of=delivery).count() == 1
