"""The case file (issue 4): assessments, plan, notes, legal and relapse events, safety flags,
conflict history, consents, service referrals and attachments. Every row belongs to one case and
is read through `casemgmt.access.records_visible_to`."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .crypto import EncryptedCharField, EncryptedTextField
from .models import Case

USER = settings.AUTH_USER_MODEL


class CaseRecord(models.Model):
    """Common columns of every case-file row."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# --- Assessments ------------------------------------------------------------------


class AssessmentTemplate(models.Model):
    """A configurable instrument (domains → items). Licensed item text is never shipped."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssessmentDomain(models.Model):
    template = models.ForeignKey(AssessmentTemplate, on_delete=models.PROTECT, related_name="domains")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["template", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["template", "code"], name="domain_code_per_template")]

    def __str__(self) -> str:
        return self.name


class AssessmentItem(models.Model):
    class Kind(models.TextChoices):
        RISK = "risk", _("Risk factor")
        PROTECTIVE = "protective", _("Protective factor")
        NEED = "need", _("Need")

    domain = models.ForeignKey(AssessmentDomain, on_delete=models.PROTECT, related_name="items")
    code = models.SlugField(_("code"), max_length=40)
    text = models.CharField(_("item"), max_length=300)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["domain__order", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["domain", "code"], name="item_code_per_domain")]

    def __str__(self) -> str:
        return self.text


class RiskBand(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


@pghistory.track()
class Assessment(CaseRecord):
    template = models.ForeignKey(AssessmentTemplate, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"))
    risk_band = models.CharField(_("risk band"), max_length=6, choices=RiskBand.choices, editable=False)
    risk_score = models.DecimalField(max_digits=4, decimal_places=3, editable=False)
    needs_profile = models.JSONField(_("needs profile"), default=dict, editable=False)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        ordering = ["-assessed_on", "-pk"]
        # first and latest assessment of a case in one index (read backwards for the latest), the band
        # included: the reports' per-case band look-ups are index-only, with no sort on the id
        indexes = [
            models.Index(fields=["case", "assessed_on", "id"], include=["risk_band"], name="assessment_case_order")
        ]

    def __str__(self) -> str:
        return f"{self.assessed_on} ({self.risk_band})"


def case_assessment_summary(ref: str = "pk") -> dict[str, models.Expression]:
    """The `Case` columns that sum up the case's assessments (count, first and latest date and band), as
    subqueries on the case at `ref`: `Case.objects.filter(...).update(**case_assessment_summary())`."""
    of_case = Assessment.objects.filter(case_id=models.OuterRef(ref))
    first = of_case.order_by("assessed_on", "pk")
    latest = of_case.order_by("-assessed_on", "-pk")
    count = of_case.order_by().values("case_id").annotate(n=models.Count("pk")).values("n")
    return {
        "assessment_count": Coalesce(models.Subquery(count), 0),
        "first_assessed_on": models.Subquery(first.values("assessed_on")[:1]),
        "first_risk_band": Coalesce(models.Subquery(first.values("risk_band")[:1]), models.Value("")),
        "latest_assessed_on": models.Subquery(latest.values("assessed_on")[:1]),
        "latest_risk_band": Coalesce(models.Subquery(latest.values("risk_band")[:1]), models.Value("")),
    }


class InformationQuality(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


@pghistory.track()
class AssessmentAnswer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(AssessmentItem, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MaxValueValidator(3)])
    evidence = models.TextField(_("evidence"), blank=True)
    information_quality = models.CharField(
        _("information quality"), max_length=6, choices=InformationQuality.choices, default=InformationQuality.MEDIUM
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="one_answer_per_item"),
            models.CheckConstraint(condition=models.Q(rating__lte=3), name="rating_0_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.rating}"


# --- Plan -------------------------------------------------------------------------


class GoalDomain(models.TextChoices):
    IDEOLOGY = "ideology", _("Ideological review")
    FAMILY = "family", _("Family")
    EDUCATION = "education", _("Education and training")
    EMPLOYMENT = "employment", _("Employment")
    HOUSING = "housing", _("Housing")
    HEALTH = "health", _("Health (incl. psychological)")
    LEGAL = "legal", _("Legal")
    SOCIAL = "social", _("Social network")


@pghistory.track()
class Goal(CaseRecord):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        ACHIEVED = "achieved", _("Achieved")
        DROPPED = "dropped", _("Dropped")

    domain = models.CharField(_("domain"), max_length=12, choices=GoalDomain.choices)
    title = models.CharField(_("goal"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NOT_STARTED)

    class Meta:
        ordering = ["domain", "target_date", "pk"]
        indexes = [models.Index(fields=["case", "domain"])]

    def __str__(self) -> str:
        return self.title


@pghistory.track()
class GoalProgress(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="progress")
    date = models.DateField(_("date"))
    note = models.TextField(_("progress"))
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.date}: {self.note[:40]}"


# --- Notes and contacts -------------------------------------------------------------


@pghistory.track()
class Note(CaseRecord):
    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        CASE_CONFERENCE = "case_conference", _("Case conference")
        OTHER = "other", _("Other")

    class Visibility(models.TextChoices):
        TEAM = "team", _("Team")
        RESTRICTED = "restricted", _("Restricted (author and lead only)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    date = models.DateField(_("date"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    participants = models.CharField(_("who took part"), max_length=300, blank=True)
    held = models.BooleanField(_("contact held"), default=True, help_text=_("Untick for a missed contact."))
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    text = EncryptedTextField(_("note"))  # every note, team or restricted (ARCHITECTURE.md, encryption)

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["case", "-date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


# --- Legal and relapse events ---------------------------------------------------------


@pghistory.track()
class LegalEvent(CaseRecord):
    class Kind(models.TextChoices):
        HEARING = "hearing", _("Hearing")
        RELEASE = "release", _("Release")
        PROBATION_APPOINTMENT = "probation_appointment", _("Probation appointment")
        CONDITION = "condition", _("Condition")
        NEW_CHARGE = "new_charge", _("New charge")
        CONVICTION = "conviction", _("Conviction")
        BREACH = "breach", _("Breach")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    date = models.DateField(_("date"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["case", "-date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


@pghistory.track()
class RelapseEvent(CaseRecord):
    class Kind(models.TextChoices):
        REENGAGEMENT = "reengagement", _("Re-engagement with an extremist network")
        THREAT = "threat", _("Threat")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    date = models.DateField(_("date"))
    description = models.TextField(_("description"))

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


# --- Safety flags and conflict history ------------------------------------------------------


@pghistory.track()
class SafetyFlag(CaseRecord):
    class Kind(models.TextChoices):
        OFFICE_ONLY = "office_only", _("Meet in the office only")
        TWO_STAFF = "two_staff", _("Two staff members at every meeting")
        NO_HOME_VISIT = "no_home_visit", _("No home visits")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-active", "-created_at"]

    def __str__(self) -> str:
        return self.get_kind_display()


@pghistory.track()
class ConflictHistory(CaseRecord):
    # encrypted at rest, the country too: with the dates it places the person in a conflict zone
    country = EncryptedCharField(_("country"), max_length=80)
    from_date = models.DateField(_("from"), null=True, blank=True)
    to_date = models.DateField(_("to"), null=True, blank=True)
    group_affiliation = EncryptedCharField(_("group affiliation"), max_length=200, blank=True)
    role = EncryptedCharField(_("role"), max_length=200, blank=True)
    account = EncryptedTextField(_("account"), blank=True)

    class Meta:
        ordering = ["from_date", "pk"]
        verbose_name_plural = _("conflict history")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to_date__isnull=True)
                | models.Q(from_date__isnull=True)
                | models.Q(to_date__gte=models.F("from_date")),
                name="conflict_period_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.country


# --- Consents -------------------------------------------------------------------------


class DataCategory(models.TextChoices):
    IDENTITY = "identity", _("Identity")
    LEGAL_STATUS = "legal_status", _("Legal status")
    PROGRAM_STAGE = "program_stage", _("Program stage")
    COMPLIANCE = "compliance", _("Compliance")
    RISK_BAND = "risk_band", _("Risk band")
    PLACEMENT = "placement", _("Placement")
    FAMILY_CONTACT = "family_contact", _("Family contact")


@pghistory.track()
class Consent(CaseRecord):
    purpose = models.CharField(_("purpose"), max_length=300)
    recipient = models.ForeignKey(
        Organisation,
        verbose_name=_("recipient organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    categories = ArrayField(
        models.CharField(max_length=16, choices=DataCategory.choices), verbose_name=_("data categories")
    )
    given_on = models.DateField(_("given on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)

    class Meta:
        ordering = ["-given_on", "-pk"]
        indexes = [models.Index(fields=["case", "recipient"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=models.F("given_on")),
                name="consent_expires_after_given",
            )
        ]

    def __str__(self) -> str:
        return self.purpose

    def is_current(self, on) -> bool:
        return self.withdrawn_on is None and (self.expires_on is None or self.expires_on >= on) and self.given_on <= on


# --- Service referrals --------------------------------------------------------------


@pghistory.track()
class ServiceReferral(CaseRecord):
    class Kind(models.TextChoices):
        PSYCHOLOGICAL = "psychological", _("Psychological treatment")
        HEALTH = "health", _("Health")
        HOUSING = "housing", _("Housing")
        LEGAL_AID = "legal_aid", _("Legal aid")
        DOCUMENTS = "documents", _("Identity documents")
        SOCIAL = "social", _("Social programs")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        REFERRED = "referred", _("Referred")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")

    kind = models.CharField(_("service"), max_length=16, choices=Kind.choices)
    provider = models.CharField(_("provider"), max_length=200)
    referred_on = models.DateField(_("referred on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REFERRED)
    outcome = models.TextField(_("outcome"), blank=True)
    goal = models.ForeignKey(
        Goal, verbose_name=_("plan goal"), on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )

    class Meta:
        ordering = ["-referred_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.provider}"


# The plan domain a service referral serves, to show it under the matching goal.
SERVICE_GOAL_DOMAIN = {
    ServiceReferral.Kind.PSYCHOLOGICAL: GoalDomain.HEALTH,
    ServiceReferral.Kind.HEALTH: GoalDomain.HEALTH,
    ServiceReferral.Kind.HOUSING: GoalDomain.HOUSING,
    ServiceReferral.Kind.LEGAL_AID: GoalDomain.LEGAL,
    ServiceReferral.Kind.DOCUMENTS: GoalDomain.LEGAL,
    ServiceReferral.Kind.SOCIAL: GoalDomain.SOCIAL,
}


# --- Attachments ----------------------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Attachment(CaseRecord):
    """A file on a case or on one of its records, stored outside the web root."""

    record_type = models.CharField(_("belongs to"), max_length=20, default="case")
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "record_type", "record_id"])]

    def __str__(self) -> str:
        return self.original_name


# --- Outcomes -----------------------------------------------------------------------------


@pghistory.track()
class Outcome(CaseRecord):
    """The outcome snapshot at exit, and the post-exit follow-ups at 6, 12 and 24 months."""

    class Kind(models.TextChoices):
        EXIT = "exit", _("At exit")
        AFTER_6 = "after_6", _("6 months after exit")
        AFTER_12 = "after_12", _("12 months after exit")
        AFTER_24 = "after_24", _("24 months after exit")

    class Education(models.TextChoices):
        NONE = "none", _("Not in education")
        IN_TRAINING = "in_training", _("In education or training")
        COMPLETED = "completed", _("Completed a course")

    class Employment(models.TextChoices):
        UNEMPLOYED = "unemployed", _("Unemployed")
        EMPLOYED = "employed", _("Employed")
        SELF_EMPLOYED = "self_employed", _("Self-employed")
        IN_TRAINING = "in_training", _("In training")

    class Housing(models.TextChoices):
        STABLE = "stable", _("Stable")
        TEMPORARY = "temporary", _("Temporary")
        HOMELESS = "homeless", _("Homeless")

    class Family(models.TextChoices):
        SUPPORTIVE = "supportive", _("Supportive")
        STRAINED = "strained", _("Strained")
        NO_CONTACT = "no_contact", _("No contact")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    episode = models.PositiveSmallIntegerField(default=1, help_text="1 for the first exit, 2 after a re-opening…")
    due_on = models.DateField(_("due on"))
    recorded_on = models.DateField(_("recorded on"), null=True, blank=True)
    education = models.CharField(_("education"), max_length=12, choices=Education.choices, blank=True)
    employment = models.CharField(_("employment"), max_length=14, choices=Employment.choices, blank=True)
    housing = models.CharField(_("housing"), max_length=10, choices=Housing.choices, blank=True)
    family = models.CharField(_("family"), max_length=10, choices=Family.choices, blank=True)
    legal_status = models.CharField(_("legal status"), max_length=16, blank=True)
    reoffended = models.BooleanField(_("re-offended"), null=True, blank=True)
    relapse = models.BooleanField(_("relapse"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["episode", "due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "episode", "kind"], name="one_outcome_per_kind_and_exit")
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())
