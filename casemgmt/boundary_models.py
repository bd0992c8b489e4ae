"""The NGO-authority boundary (issue 10): legal mandates, the disclosure log, information requests,
referrals from authorities and exceptional disclosures.

Consents (casefile.Consent) and mandates are the two sharing bases; `casemgmt.access` turns them into
the categories an authority organisation may read per case. Every read by an authority user (and
later a partner system) writes one DisclosureLog row: ids and categories, never personal data.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .casefile import CaseRecord, DataCategory, LegalEvent
from .models import Case

USER = settings.AUTH_USER_MODEL

# What a mandate opens (handbook section 4); anything more needs the participant's consent.
MANDATE_CATEGORIES = (
    DataCategory.IDENTITY,
    DataCategory.LEGAL_STATUS,
    DataCategory.PROGRAM_STAGE,
    DataCategory.COMPLIANCE,
)
# Categories an authority can be given (family contact is about the NGO's own counselling work).
AUTHORITY_CATEGORIES = tuple(c for c in DataCategory if c != DataCategory.FAMILY_CONTACT)


@pghistory.track()
class LegalMandate(CaseRecord):
    """A court order or probation supervision linking the case to an authority organisation."""

    class Kind(models.TextChoices):
        COURT_ORDER = "court_order", _("Court order")
        PROBATION = "probation", _("Probation supervision")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=80)
    issuing_body = models.CharField(_("issuing body"), max_length=200)
    authority = models.ForeignKey(
        Organisation,
        verbose_name=_("authority"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Organisation.Kind.AUTHORITY},
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["case", "authority"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="mandate_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(str(c) for c in MANDATE_CATEGORIES)

    def is_current(self, on) -> bool:
        return self.revoked_on is None and self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)


class DisclosureLog(models.Model):
    """One row per read of a case by an authority user or partner system: who, which organisation,
    which case, which categories, on which basis, when. Ids and categories only, so retention never
    rewrites it. Append-only: the application role may only insert and select, and a trigger
    refuses UPDATE and DELETE; each row carries a keyed hash chained to the previous row."""

    class Basis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        MANDATE = "mandate", _("Legal mandate")
        EXCEPTIONAL = "exceptional", _("Exceptional disclosure")

    class Channel(models.TextChoices):
        UI = "ui", _("Web page")
        API = "api", _("API")
        WEBHOOK = "webhook", _("Webhook")

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    client_id = models.CharField(max_length=100, blank=True)  # partner systems (issue 13)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    categories = ArrayField(models.CharField(max_length=16))
    basis = ArrayField(models.CharField(max_length=12))  # kinds, e.g. ["consent", "mandate"]
    basis_ids = ArrayField(models.CharField(max_length=24), default=list)  # "consent:12", "mandate:3"
    channel = models.CharField(max_length=8, choices=Channel.choices)
    view = models.CharField(max_length=60)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "-at"]), models.Index(fields=["organisation", "-at"])]
        triggers = [pgtrigger.Protect(name="disclosure_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.organisation_id} read {self.case_id} ({self.view})"


@pghistory.track()
class InformationRequest(models.Model):
    """An authority asks for categories it does not hold on a case it shares; the NGO's manager asks
    the participant and records a new consent, or refuses with a reason. Nobody grants without one."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        GRANTED = "granted", _("Granted with the participant's consent")
        REFUSED = "refused", _("Refused")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    categories = ArrayField(
        models.CharField(max_length=16, choices=DataCategory.choices), verbose_name=_("data categories")
    )
    purpose = models.TextField(_("purpose"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    consent = models.ForeignKey("casemgmt.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["case", "status"]), models.Index(fields=["authority", "-requested_at"])]

    def __str__(self) -> str:
        return f"request {self.pk} on {self.case_id}"


@pghistory.track()
class AuthorityReferral(models.Model):
    """A new person referred by an authority. The case it opened sits in the NGO's intake queue; the
    authority follows only its status (handbook: "status of own referrals")."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="authority_referral")
    authority = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)
    reference = models.CharField(_("your reference"), max_length=80, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"referral {self.pk}"


@pghistory.track(exclude=["snapshot"])  # the snapshot is written once; history keeps the decisions
class ExceptionalDisclosure(models.Model):
    """Danger to others or a mandatory report: a manager prepares it with a written legal basis and
    the categories; the organisation's auditor or another manager approves; the authority sees the one
    snapshot taken at approval, once the delivery is recorded. Never live access."""

    class LegalBasis(models.TextChoices):
        DANGER = "danger", _("Danger to others")
        MANDATORY_REPORT = "mandatory_report", _("Mandatory report")

    class Status(models.TextChoices):
        PREPARED = "prepared", _("Waiting for approval")
        APPROVED = "approved", _("Approved, not delivered")
        DELIVERED = "delivered", _("Delivered")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(
        Organisation,
        verbose_name=_("authority"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Organisation.Kind.AUTHORITY},
    )
    legal_basis = models.CharField(_("legal basis"), max_length=16, choices=LegalBasis.choices)
    justification = models.TextField(_("written legal basis"))
    categories = ArrayField(
        models.CharField(max_length=16, choices=DataCategory.choices), verbose_name=_("data categories")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREPARED)
    prepared_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(_("reason"), blank=True)
    snapshot = models.JSONField(default=dict, blank=True)  # the granted categories' fields at approval
    delivered_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-prepared_at", "-pk"]
        indexes = [models.Index(fields=["authority", "status"]), models.Index(fields=["case"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True) | ~models.Q(approved_by=models.F("prepared_by")),
                name="disclosure_second_approver",
            )
        ]

    def __str__(self) -> str:
        return f"disclosure {self.pk} on {self.case_id}"


MANDATE_KINDS = LegalMandate.Kind.choices  # named in the API schema
LEGAL_EVENT_KINDS = LegalEvent.Kind.choices  # named in the API schema
