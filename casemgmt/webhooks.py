"""Signed webhooks to partner systems (issue 14).

Flow: a service reports a change through `followups.changed()`; the listener here asks each registered
*source* which subscribers may see the change and what they may see of it, and stores one
`WebhookDelivery` row per subscriber (in the writer's transaction, so a rolled-back write sends
nothing). After the commit a task tries the delivery at once; the beat sweep (`deliver_due`, every
WEBHOOK_SWEEP_SECONDS) sends what is due again, with exponential backoff, by the row's
`next_attempt_at` (no Celery countdowns: the Redis visibility timeout would repeat them).

Signing follows the Standard Webhooks scheme: `webhook-signature: v1,<base64 HMAC-SHA256(secret,
"{id}.{timestamp}.{body}")>` with `webhook-id` and `webhook-timestamp` headers; receivers refuse a
timestamp older than five minutes (`verify`). The id is the event's, the same on retries and replays,
so a receiver de-duplicates by it.

Logs carry delivery and subscription ids only, never a URL, a payload or a response body.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import disclosure
from .webhook_models import WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger(__name__)

SIGNATURE_VERSION = "v1"
TOLERANCE_SECONDS = 300
USER_AGENT = "casemgmt-webhooks/1"
RESPONSE_READ_LIMIT = 1024  # bytes read of a receiver's answer (never stored)


def _setting(name: str, default):
    return getattr(settings, name, default)


# --- Signing -------------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


class InvalidSignature(Exception):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> dict:
    """What a receiver does: check the timestamp's age and the signature, then parse the body.
    Raises `InvalidSignature` on a missing header, an old or future timestamp or a wrong signature."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, stamp, signatures = lower["webhook-id"], lower["webhook-timestamp"], lower["webhook-signature"]
        timestamp = int(stamp)
    except (KeyError, ValueError) as exc:
        raise InvalidSignature("missing or malformed webhook headers") from exc
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp outside the tolerance (a replay?)")
    try:
        expected = sign(secret, msg_id, timestamp, body)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignature("bad secret") from exc
    if not any(hmac.compare_digest(expected, given) for given in signatures.split()):
        raise InvalidSignature("signature does not match")
    return json.loads(body)


# --- Subscriptions -------------------------------------------------------------------------

# Which organisation kinds may hear which events (the scopes of the client are checked by the API).
EVENTS_FOR_KIND = {
    "authority": {
        WebhookEvent.LEGAL_EVENT_RECORDED,
        WebhookEvent.CONSENT_EXPIRED,
        WebhookEvent.CONSENT_WITHDRAWN,
        WebhookEvent.REFERRAL_STATUS_CHANGED,
    },
    "employer": {WebhookEvent.PLACEMENT_STATUS_CHANGED},
    "training_provider": {WebhookEvent.PLACEMENT_STATUS_CHANGED},
}


# The scope a client needs to hear of each event: the one that lets it read what the payload carries.
EVENT_SCOPES = {
    WebhookEvent.LEGAL_EVENT_RECORDED: "cases:read-shared",
    WebhookEvent.CONSENT_EXPIRED: "cases:read-shared",
    WebhookEvent.CONSENT_WITHDRAWN: "cases:read-shared",
    WebhookEvent.REFERRAL_STATUS_CHANGED: "referrals:write",
    WebhookEvent.PLACEMENT_STATUS_CHANGED: "placements:read",
}


def events_for(organisation, scopes: Iterable[str] | None = None) -> list[str]:
    """The events a client of this organisation (holding these scopes, if given) may subscribe to."""
    allowed = EVENTS_FOR_KIND.get(organisation.kind, set())
    if scopes is not None:
        allowed = {e for e in allowed if EVENT_SCOPES[e] in set(scopes)}
    return sorted(allowed)


def check_url(url: str) -> None:
    """HTTPS only, and no internal addresses (SSRF), unless the settings allow them (demo, tests)."""
    parsed = urllib.parse.urlsplit(url)
    allow_private = _setting("WEBHOOK_ALLOW_PRIVATE_URLS", False)
    if parsed.scheme != "https" and not (allow_private and parsed.scheme == "http"):
        raise ValidationError({"url": [_("Use an https:// address.")]})
    if not parsed.hostname:
        raise ValidationError({"url": [_("Enter a full address with a host name.")]})
    if parsed.username or parsed.password:
        raise ValidationError({"url": [_("Put no user name or password in the address.")]})
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ValidationError({"url": [_("This host name cannot be resolved.")]}) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise ValidationError({"url": [_("This address points into a private network.")]})


def _checked(organisation, url: str, events: Iterable[str], scopes: Iterable[str] | None) -> list[str]:
    """The events, sorted and de-duplicated, once the organisation's kind, the client's scopes and the
    address allow them; every problem at once as field errors."""
    events = sorted(set(events))
    errors = {}
    allowed = EVENTS_FOR_KIND.get(organisation.kind, set())
    unknown = [e for e in events if e not in WebhookEvent.values]
    if not events:
        errors["events"] = [_("Choose at least one event.")]
    elif unknown:
        errors["events"] = [_("Unknown event: %(event)s.") % {"event": unknown[0]}]
    elif not set(events) <= allowed:
        errors["events"] = [_("Your organisation cannot receive this event.")]
    elif scopes is not None and (missing := [e for e in events if EVENT_SCOPES[e] not in set(scopes)]):
        errors["events"] = [
            _("This client's scopes do not cover the event %(event)s (it needs %(scope)s).")
            % {"event": missing[0], "scope": EVENT_SCOPES[missing[0]]}
        ]
    try:
        check_url(url)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return events


@transaction.atomic
def subscribe(
    *, application, organisation, url: str, events: Iterable[str], scopes: Iterable[str] | None = None
) -> WebhookSubscription:
    """A partner client subscribes its endpoint; the secret is returned once on the row (`secret`).
    `scopes` (the client's token's) narrow the events to those its scopes may read."""
    events = _checked(organisation, url, events, scopes)
    return WebhookSubscription.objects.create(
        application=application, organisation=organisation, url=url, events=events, secret=new_secret()
    )


@transaction.atomic
def subscription_update(
    subscription: WebhookSubscription, *, scopes: Iterable[str] | None = None, **changes
) -> WebhookSubscription:
    """Change the address and/or the events of a subscription, under the same rules as `subscribe`."""
    url = changes.get("url", subscription.url)
    events = changes.get("events", subscription.events)
    subscription.events = _checked(subscription.organisation, url, events, scopes)
    subscription.url = url
    subscription.save(update_fields=["url", "events"])
    return subscription


@transaction.atomic
def unsubscribe(subscription: WebhookSubscription) -> None:
    """The client ends a subscription: nothing more is sent (waiting deliveries are given up); the
    row and its delivery records stay for the system administrator's oversight."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None, last_error="subscription ended"
    )


def rotate_secret(subscription: WebhookSubscription) -> str:
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription.secret


def resume(subscription: WebhookSubscription) -> int:
    """The system administrator resumes a paused subscription: its waiting deliveries go out now."""
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            paused_at=None, paused_reason="", consecutive_failures=0
        )
        return WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=timezone.now()
        )


def replay(delivery: WebhookDelivery) -> WebhookDelivery:
    """The system administrator sends a delivery again: a new row, same event id and payload."""
    copy = WebhookDelivery.objects.create(
        subscription_id=delivery.subscription_id,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        replay_of=delivery,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue([copy.pk]))
    return copy


# --- Sources: which change is which event, for whom, with what -----------------------------


@dataclass(frozen=True)
class Outgoing:
    """One event for one subscriber organisation. `disclosure` (kwargs of `disclosure.record`, without
    the client) is logged per subscription when the payload carries case data to an authority."""

    event: str
    organisation_id: int
    dedupe_key: str
    payload: dict
    disclosure: dict | None = None


# internal event name (as sent to followups.changed) -> source(obj) -> outgoing events
SOURCES: dict[str, list[Callable[[object], list[Outgoing]]]] = {}


def register_source(internal_events: Iterable[str], source: Callable[[object], list[Outgoing]]) -> None:
    for name in internal_events:
        SOURCES.setdefault(name, []).append(source)


def on_change(event: str, obj) -> None:
    """The listener `followups.changed` calls inside the writer's transaction."""
    for source in SOURCES.get(event, ()):
        outgoing = source(obj)
        if outgoing:
            queue(outgoing)


def subscribers(event: str, organisation_ids: Iterable[int]) -> list[WebhookSubscription]:
    ids = list(set(organisation_ids))
    if not ids:
        return []
    subs = (
        WebhookSubscription.objects.filter(
            is_active=True,
            organisation_id__in=ids,
            events__contains=[event],
            application__api_client__is_active=True,
        )
        .select_related("application__api_client")
        .order_by("pk")
    )
    # A client whose scope was taken away since it subscribed hears nothing more of that event.
    return [s for s in subs if EVENT_SCOPES[event] in s.application.api_client.scopes]


def has_subscribers(event: str, organisation_ids: Iterable[int]) -> bool:
    """One cheap query before a source builds a payload."""
    return WebhookSubscription.objects.filter(
        is_active=True, organisation_id__in=list(organisation_ids), events__contains=[event]
    ).exists()


def queue(outgoing: list[Outgoing]) -> list[WebhookDelivery]:
    """Store one delivery per subscription of each outgoing event's organisation (once per occurrence)."""
    created: list[WebhookDelivery] = []
    now = timezone.now()
    by_event: dict[str, list[Outgoing]] = {}
    for item in outgoing:
        by_event.setdefault(item.event, []).append(item)
    for event, items in by_event.items():
        subs = subscribers(event, (i.organisation_id for i in items))
        for item in items:
            for sub in (s for s in subs if s.organisation_id == item.organisation_id):
                payload = json.loads(json.dumps(item.payload, cls=DjangoJSONEncoder))
                row, made = WebhookDelivery.objects.get_or_create(
                    subscription=sub,
                    dedupe_key=item.dedupe_key,
                    defaults={"event": event, "payload": payload, "next_attempt_at": now},
                )
                if not made:
                    continue
                created.append(row)
                if item.disclosure:
                    disclosure.record(
                        **item.disclosure,
                        organisation_id=item.organisation_id,
                        channel="webhook",
                        view=f"webhook:{event}",
                        client_id=sub.application.client_id,
                    )
    if created:
        ids = [row.pk for row in created]
        transaction.on_commit(lambda: _enqueue(ids))
    return created


def _enqueue(ids: list[int]) -> None:
    from . import tasks

    try:
        tasks.deliver_webhooks.delay(ids)
    except Exception:  # the broker is down: the beat sweep sends them
        log.warning("webhook deliveries %s not queued; the sweep will send them", ids)


# --- Delivery ----------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer (3xx), never followed: no hop into a private network


_opener = urllib.request.build_opener(_NoRedirect)


def backoff(attempts: int) -> datetime.timedelta:
    """Delay after the n-th failed attempt: 30 s, 1 min, 2 min, ... capped at 6 hours."""
    base = _setting("WEBHOOK_BACKOFF_SECONDS", 30)
    return datetime.timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def max_attempts() -> int:
    return _setting("WEBHOOK_MAX_ATTEMPTS", 10)


def pause_after() -> int:
    return _setting("WEBHOOK_PAUSE_AFTER_FAILURES", 10)


def body_of(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event,
        "created_at": delivery.created_at.astimezone(datetime.UTC).isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def _post(subscription: WebhookSubscription, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status code, error) of one attempt. Never raises for the receiver's failures."""
    try:
        check_url(subscription.url)
    except ValidationError:
        return None, "address refused"
    body = body_of(delivery)
    stamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310  # nosec B310 - http(s) only, checked by check_url
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": str(delivery.event_id),
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(subscription.secret, str(delivery.event_id), stamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=_setting("WEBHOOK_TIMEOUT_SECONDS", 10)) as response:
            response.read(RESPONSE_READ_LIMIT)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, type(reason).__name__[:100]


def _claim(ids: list[int] | None, batch: int) -> list[int]:
    """Take due deliveries for a lease (other sweepers skip them), committed before any request goes out."""
    lease = timezone.now() + datetime.timedelta(seconds=_setting("WEBHOOK_TIMEOUT_SECONDS", 10) * 3)
    with transaction.atomic():
        rows = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
                subscription__is_active=True,
                subscription__paused_at__isnull=True,
            )
            .order_by("next_attempt_at", "pk")
        )
        if ids is not None:
            rows = rows.filter(pk__in=ids)
        claimed = list(rows.values_list("pk", flat=True)[:batch])
        WebhookDelivery.objects.filter(pk__in=claimed).update(next_attempt_at=lease)
    return claimed


def attempt(delivery_id: int) -> str:
    """One attempt of one claimed delivery; records the result and pauses a failing subscription."""
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    code, error = _post(subscription, delivery)
    now = timezone.now()
    ok = code is not None and 200 <= code < 300
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        row.attempts += 1
        row.last_attempt_at = now
        row.last_status_code = code
        row.last_error = "" if ok else error
        if ok:
            row.status, row.delivered_at, row.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        else:
            if row.attempts >= max_attempts():
                row.status, row.next_attempt_at = WebhookDelivery.Status.FAILED, None
            else:
                row.next_attempt_at = now + backoff(row.attempts)
            _failed(subscription.pk)
        row.save()
    log.info("webhook delivery %s attempt %s: %s", delivery_id, row.attempts, code or error)
    return row.status


def _failed(subscription_id: int) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id).update(consecutive_failures=F("consecutive_failures") + 1)
    sub = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if sub.paused_at is None and sub.consecutive_failures >= pause_after():
        sub.paused_at = timezone.now()
        sub.paused_reason = _("%(n)s failed attempts in a row") % {"n": sub.consecutive_failures}
        sub.save(update_fields=["paused_at", "paused_reason"])
        transaction.on_commit(lambda: _notify_paused(subscription_id))


def _notify_paused(subscription_id: int) -> None:
    """The system administrators hear of it in the app and by e-mail (ids only)."""
    from django.contrib.auth import get_user_model
    from django.core.mail import mail_admins
    from django.urls import reverse

    from .followup_models import Notification

    link = reverse("admin:casemgmt_webhooksubscription_change", args=[subscription_id])
    subject = _("Webhook subscription %(id)s paused after repeated failures") % {"id": subscription_id}
    admins = get_user_model().objects.filter(is_superuser=True, is_active=True).values_list("pk", flat=True)
    key = f"webhook-paused:{subscription_id}:{int(time.time())}"
    Notification.objects.bulk_create(
        [
            Notification(user_id=pk, subject=subject, link=link, key=key, purpose=Notification.Purpose.SYSTEM)
            for pk in admins
        ],
        ignore_conflicts=True,
    )
    mail_admins(subject, f"{settings.SITE_URL}{link}", fail_silently=True)
    log.warning("webhook subscription %s paused", subscription_id)


def deliver(ids: list[int] | None = None, *, batch: int = 100) -> int:
    """Send the given deliveries (or every due one) that are still due; returns the number attempted."""
    done = 0
    while claimed := _claim(ids, batch):
        for pk in claimed:
            attempt(pk)
        done += len(claimed)
        if ids is not None:
            break
    return done


# --- The consent-expiry sweep -------------------------------------------------------------


def consent_expiries(*, today: datetime.date | None = None) -> int:
    """Consents naming a subscriber that expired since the subscription began (and were not withdrawn)."""
    from .casefile import Consent

    today = today or timezone.localdate()
    subs = WebhookSubscription.objects.filter(is_active=True, events__contains=[WebhookEvent.CONSENT_EXPIRED])
    outgoing = []
    for sub in subs.order_by("pk"):
        since = max(timezone.localtime(sub.created_at).date(), today - datetime.timedelta(days=30))
        sent = set(
            WebhookDelivery.objects.filter(subscription=sub, dedupe_key__endswith=":expired").values_list(
                "dedupe_key", flat=True
            )
        )
        consents = Consent.objects.filter(
            recipient_id=sub.organisation_id, withdrawn_on__isnull=True, expires_on__lt=today, expires_on__gte=since
        ).select_related("case__participant")
        outgoing += [
            consent_outgoing(c, WebhookEvent.CONSENT_EXPIRED) for c in consents if f"consent:{c.pk}:expired" not in sent
        ]
    with transaction.atomic():
        return len(queue(outgoing))


def consent_outgoing(consent, event: str) -> Outgoing:
    what = "withdrawn" if event == WebhookEvent.CONSENT_WITHDRAWN else "expired"
    on = consent.withdrawn_on if what == "withdrawn" else consent.expires_on
    return Outgoing(
        event=event,
        organisation_id=consent.recipient_id,
        dedupe_key=f"consent:{consent.pk}:{what}",
        payload={
            "consent_id": consent.pk,
            "case_code": consent.case.participant.case_code,
            "categories": sorted(consent.categories or []),
            f"{what}_on": on,
        },
        disclosure={
            "case_id": consent.case_id,
            "categories": ["identity"],
            "basis": ["consent"],
            "basis_ids": [f"consent:{consent.pk}"],
        },
    )
