"""Webhook delivery through the real parts (issue 14): a legal event commits, a real Celery worker on the
embedded Redis makes the first attempt at once, the local receiver fails it, and the real beat's sweep
picks the row up again by its next-attempt time (no Celery countdown) and delivers it, signed so that the
receiver's verification passes, with the same event id on both attempts."""

from __future__ import annotations

import time

import pytest

from casemgmt import webhooks
from casemgmt.webhook_models import WebhookDelivery, WebhookEvent
from tests.casemgmt import test_followup_delivery as delivery_tests
from tests.casemgmt import test_webhooks as webhook_tests

queue = delivery_tests.queue  # a queue of this test's own on the suite's Redis
shared = webhook_tests.shared  # a case moved to active, shareable by consent


def wait_for(condition) -> bool:
    return delivery_tests._wait(condition, seconds=60.0)


@pytest.mark.slow
def test_a_real_worker_retries_by_the_beat_sweep_and_the_receiver_verifies_the_signature(queue, demo, shared, tmp_path):
    receiver = webhook_tests.Receiver(statuses=[503, 200])
    worker = delivery_tests.start_worker(queue, log=tmp_path / "worker.log", extra_env={"WEBHOOK_BACKOFF_SECONDS": "2"})
    beat = delivery_tests.start_beat(queue, tmp_path, WEBHOOK_SWEEP_SECONDS="1", FOLLOW_UP_DELIVERY_SECONDS="3600")
    try:
        sub = webhook_tests.subscribe(webhook_tests.probation(), receiver.url, [WebhookEvent.LEGAL_EVENT_RECORDED])
        webhook_tests.give_consent(shared, demo["caseworker"], ["legal_status"])
        event = webhook_tests.legal_event(shared, demo["caseworker"], kind="breach")
        delivery = WebhookDelivery.objects.get(subscription=sub)

        def diagnostics() -> str:
            logs = "".join((tmp_path / n).read_text(errors="replace")[-2000:] for n in ("worker.log", "beat.log"))
            return f"{len(receiver.requests)} request(s); logs:\n{logs}"

        # the worker's first attempt right after the commit fails (503) and sets the next attempt
        assert wait_for(lambda: len(receiver.requests) >= 1), diagnostics()
        first_at = time.monotonic()
        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).attempts >= 1), diagnostics()
        delivery.refresh_from_db()
        assert delivery.last_status_code == 503
        # the beat's sweep (every second) sends it again once its next-attempt time has come: 200
        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered"), diagnostics()
        retried_after = time.monotonic() - first_at
        delivery.refresh_from_db()
        assert delivery.attempts == 2
        assert delivery.last_status_code == 200
        assert retried_after >= 1.5  # not before the backoff (2 s) ran out
        assert len(receiver.requests) == 2  # delivered once, retried once, nothing doubled
        (first_headers, _first_body), (headers, body) = receiver.requests
        assert first_headers["webhook-id"] == headers["webhook-id"] == str(delivery.event_id)
        sent = webhooks.verify(sub.secret, headers, body)  # what the receiver does
        assert sent["type"] == "legal_event.recorded"
        assert sent["data"]["legal_event"]["id"] == event.pk
        assert sent["data"]["case_code"] == shared.participant.case_code
        with pytest.raises(webhooks.InvalidSignature):
            webhooks.verify(sub.secret, headers, body.replace(b"breach", b"hearing"))  # tampered in transit
    finally:
        for proc in (beat, worker):
            delivery_tests._stop(proc)
        receiver.close()
