"""Data-subject rights (issue 10): the export of everything held about one participant, approved by a
manager, and the retention review of closed cases that ends in pseudonymisation."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import Case

USER = settings.AUTH_USER_MODEL


@pghistory.track()
class SubjectExportRequest(models.Model):
    """The lead caseworker asks for an export of everything held about the participant; a manager of
    the owning organisation approves (who and when are recorded); then the lead downloads it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the manager's approval")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="subject_exports")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveSmallIntegerField(default=0)  # each download is also an AccessLog row

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="pending"), name="one_pending_subject_export_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"subject export {self.pk} of {self.case_id} ({self.status})"


@pghistory.track()
class RetentionReview(models.Model):
    """A closed case past its organisation's retention period, listed for the manager by the daily task.
    The manager confirms it; `manage.py apply_retention` then pseudonymises the case and its rows."""

    class Status(models.TextChoices):
        LISTED = "listed", _("Waiting for the manager")
        CONFIRMED = "confirmed", _("Confirmed, waiting for pseudonymisation")
        PSEUDONYMISED = "pseudonymised", _("Pseudonymised")

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="retention_review")
    due_on = models.DateField(_("retention period ended on"))
    listed_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("status"), max_length=13, choices=Status.choices, default=Status.LISTED)
    confirmed_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    pseudonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"retention of {self.case_id} ({self.status})"
