"""Webhooks to partner systems (issue 14): a subscription per partner client and a row per delivery.

A delivery is a row with a next-attempt time; the beat sweep sends what is due (no Celery countdowns,
which a Redis visibility timeout would repeat). Payloads are built once, as the subscriber may see the
object at the time of the event, and never hold more than that (`casemgmt.webhooks`).
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .crypto import EncryptedTextField


class WebhookEvent(models.TextChoices):
    PLACEMENT_STATUS_CHANGED = "placement.status_changed", _("Placement status changed")
    LEGAL_EVENT_RECORDED = "legal_event.recorded", _("Legal event recorded")
    CONSENT_EXPIRED = "consent.expired", _("Consent expired")
    CONSENT_WITHDRAWN = "consent.withdrawn", _("Consent withdrawn")
    REFERRAL_STATUS_CHANGED = "referral.status_changed", _("Referral status changed")


class WebhookSubscription(models.Model):
    """A partner client's endpoint for the events it may see. The secret signs every delivery."""

    application = models.ForeignKey(
        "oauth2_provider.Application", verbose_name=_("API client"), on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    url = models.URLField(_("URL"), max_length=500)
    events = ArrayField(models.CharField(max_length=32, choices=WebhookEvent.choices), verbose_name=_("events"))
    secret = EncryptedTextField(editable=False)  # needed in clear to sign: encrypted at rest (issue 11)
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True, editable=False)
    paused_reason = models.CharField(_("why paused"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["organisation"], name="webhook_sub_org", condition=Q(is_active=True))]

    def __str__(self) -> str:
        return f"webhook subscription {self.pk}"  # never the URL's query (it may carry a partner's token)

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, given up")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=32, choices=WebhookEvent.choices)
    # The receiver's de-duplication key: the same for a retry and for a replay of one event.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    # One delivery per subscription and occurrence ("legal_event:12"); empty for replays.
    dedupe_key = models.CharField(max_length=80, blank=True)
    payload = models.JSONField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replay_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "dedupe_key"], condition=~Q(dedupe_key=""), name="one_delivery_per_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due", condition=Q(status="pending")),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_sub"),
        ]

    def __str__(self) -> str:
        return f"webhook delivery {self.pk} ({self.event})"
