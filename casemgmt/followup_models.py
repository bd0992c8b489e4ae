"""Follow-ups as data (issue 9): the database is the source of truth, Celery only delivers.

A `FollowUp` row per due follow-up, unique by `key`, so a rule that runs twice creates nothing new.
A `Notification` is the exactly-once unit of delivery (unique per follow-up, user and purpose).
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

__all__ = ["FollowUp", "FollowUpRule", "FollowUpStatus", "Notification", "OrganisationRuleSetting", "Remind"]


class Remind(models.TextChoices):
    LEAD = "lead", _("The lead caseworker")
    MANAGER = "manager", _("The manager")
    HOLDER = "holder", _("Whoever holds the source record (mentor, counsellor, placement officer)")


class FollowUpRule(models.Model):
    """A line of the handbook's cadence table with its defaults, kept by the system administrator."""

    key = models.CharField(_("key"), max_length=40, unique=True)
    label = models.CharField(_("follow-up"), max_length=200)
    params = models.JSONField(_("intervals and offsets"), default=dict, blank=True)
    remind = models.CharField(_("who is reminded"), max_length=8, choices=Remind.choices, default=Remind.LEAD)
    escalation_days = models.PositiveSmallIntegerField(_("escalate to the manager after (days)"), default=7)
    enabled = models.BooleanField(_("on"), default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return str(self.label)


class OrganisationRuleSetting(models.Model):
    """An NGO's own settings for a rule (its admin, in the app's settings pages); empty means default."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="rule_settings")
    rule = models.ForeignKey(FollowUpRule, on_delete=models.CASCADE, related_name="organisation_settings")
    params = models.JSONField(_("intervals and offsets"), null=True, blank=True)
    remind = models.CharField(_("who is reminded"), max_length=8, choices=Remind.choices, blank=True)
    escalation_days = models.PositiveSmallIntegerField(_("escalate after (days)"), null=True, blank=True)
    enabled = models.BooleanField(_("on"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "rule"], name="one_setting_per_rule")]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.rule_id}"


class FollowUpStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    SNOOZED = "snoozed", _("Snoozed")
    CANCELLED = "cancelled", _("Cancelled")
    ESCALATED = "escalated", _("Escalated")


OPEN_STATUSES = (FollowUpStatus.PENDING, FollowUpStatus.SNOOZED, FollowUpStatus.ESCALATED)


@pghistory.track()
class FollowUp(models.Model):
    Status = FollowUpStatus

    case = models.ForeignKey("casemgmt.Case", on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("follow-up"), max_length=40)
    due_on = models.DateField(_("due on"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=9, choices=FollowUpStatus.choices, default=FollowUpStatus.PENDING)
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)  # the snooze reason, the completion note
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    completed_with = models.CharField(_("satisfied by"), max_length=80, blank=True)  # "mentoring_session:12"
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            # the delivery sweep: pending rows falling due, not yet notified
            models.Index(
                fields=["due_on"], name="followup_to_deliver", condition=Q(status="pending", notified_at__isnull=True)
            ),
            models.Index(fields=["assignee", "status", "due_on"]),
            models.Index(fields=["case", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.due_on} ({self.status})"


class NotificationPurpose(models.TextChoices):
    DUE = "due", _("Due")
    ESCALATION = "escalation", _("Overdue: escalated")
    REPORT = "report", _("Monthly report")
    SYSTEM = "system", _("System")


class Notification(models.Model):
    """The in-app notification: created once per follow-up, user and purpose, whatever the retries.

    A notification without a follow-up (the managers' monthly report, issue 12) carries its own
    `subject` and `link` and a `key` unique per user (`report:2026-10`), which makes it exactly-once
    as well. No personal data in either: the link leads to a page that checks access itself.
    """

    Purpose = NotificationPurpose

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    follow_up = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="notifications", null=True, blank=True
    )
    subject = models.CharField(max_length=200, blank=True)
    link = models.CharField(max_length=300, blank=True)
    key = models.CharField(max_length=80, blank=True)
    purpose = models.CharField(max_length=10, choices=NotificationPurpose.choices, default=NotificationPurpose.DUE)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["follow_up", "user", "purpose"], name="one_notification_per_purpose"),
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="one_notification_per_key"),
            models.CheckConstraint(
                condition=Q(follow_up__isnull=False) | ~Q(key=""), name="notification_has_a_follow_up_or_key"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            # the e-mails still to send (the minute's delivery re-sends those whose task was lost)
            models.Index(
                fields=["created_at"],
                condition=models.Q(email_sent_at__isnull=True, follow_up__isnull=False),
                name="notification_email_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.follow_up_id or self.key} → {self.user_id}"
