"""Job and training placements with partner employers and training providers (issue 7).

Partners are system-wide organisations (`accounts.Organisation` of kind employer or training
provider) with one shared `PartnerProfile`; their `Opportunity` rows are shared too. What concerns a
participant (employability profile, placements, check-ins) is case-bound and read through
`casemgmt.access.records_visible_to` under the rules registered in `programs.placement_hooks`.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import City, Organisation
from casemgmt.models import Case

__all__ = [
    "HOLDS_PLACE",
    "LIVE",
    "PARTNER_KINDS",
    "TRANSITIONS",
    "AgreementStatus",
    "CheckIn",
    "EducationLevel",
    "EmployabilityProfile",
    "IncomeBand",
    "Opportunity",
    "OpportunityKind",
    "PartnerProfile",
    "PayBand",
    "Placement",
    "PlacementStatus",
    "Sector",
]

USER = settings.AUTH_USER_MODEL
PARTNER_KINDS = (Organisation.Kind.EMPLOYER, Organisation.Kind.TRAINING_PROVIDER)


class Sector(models.TextChoices):
    LOGISTICS = "logistics", _("Logistics and transport")
    CONSTRUCTION = "construction", _("Construction")
    HOSPITALITY = "hospitality", _("Hospitality and catering")
    AGRICULTURE = "agriculture", _("Agriculture and fishing")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail and sales")
    DIGITAL = "digital", _("Digital and IT")
    CRAFTS = "crafts", _("Crafts and trades")
    CARE = "care", _("Health and care")
    OTHER = "other", _("Other")


class EducationLevel(models.IntegerChoices):
    """Ordered, so that "at least" is a comparison in SQL."""

    NONE = 0, _("No formal education")
    PRIMARY = 1, _("Primary school")
    LOWER_SECONDARY = 2, _("Lower secondary (collège)")
    SECONDARY = 3, _("Secondary (baccalauréat)")
    VOCATIONAL = 4, _("Vocational diploma")
    HIGHER = 5, _("Higher education")


class AgreementStatus(models.TextChoices):
    NONE = "none", _("No agreement")
    NEGOTIATING = "negotiating", _("Negotiating")
    SIGNED = "signed", _("Signed")
    ENDED = "ended", _("Ended")


@pghistory.track()
class PartnerProfile(models.Model):
    """What placement officers keep about a partner organisation; shared by every NGO."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="partner_profile"
    )
    sector = models.CharField(_("sector"), max_length=16, choices=Sector.choices)
    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="+")
    contact_name = models.CharField(_("contact person"), max_length=120, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    agreement_status = models.CharField(
        _("agreement"), max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.NONE
    )
    agreement_from = models.DateField(_("agreement from"), null=True, blank=True)
    agreement_until = models.DateField(_("agreement until"), null=True, blank=True)
    offers = models.TextField(_("what they offer"), blank=True)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agreement_until__isnull=True)
                | models.Q(agreement_from__isnull=True)
                | models.Q(agreement_until__gte=models.F("agreement_from")),
                name="partner_agreement_in_order",
            )
        ]

    def __str__(self) -> str:
        return str(self.organisation_id)


class OpportunityKind(models.TextChoices):
    JOB = "job", _("Job")
    APPRENTICESHIP = "apprenticeship", _("Apprenticeship")
    COURSE = "course", _("Course")


class PayBand(models.TextChoices):
    NONE = "none", _("Unpaid")
    STIPEND = "stipend", _("Training stipend")
    MINIMUM_WAGE = "minimum_wage", _("Minimum wage")
    ABOVE_MINIMUM = "above_minimum", _("Above minimum wage")


@pghistory.track()
class Opportunity(models.Model):
    """A job, apprenticeship or course a partner offers; shared by every NGO."""

    partner = models.ForeignKey(
        Organisation, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="opportunities"
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=OpportunityKind.choices)
    sector = models.CharField(_("sector"), max_length=16, choices=Sector.choices)
    city = models.ForeignKey(City, verbose_name=_("city"), on_delete=models.PROTECT, related_name="+")
    places = models.PositiveSmallIntegerField(_("places"), validators=[MinValueValidator(1), MaxValueValidator(500)])
    start_date = models.DateField(_("start date"), null=True, blank=True)
    requirements = models.TextField(_("requirements"), blank=True)
    min_education = models.PositiveSmallIntegerField(
        _("minimum education"), choices=EducationLevel.choices, null=True, blank=True
    )
    pay_band = models.CharField(_("wage or stipend"), max_length=16, choices=PayBand.choices, default=PayBand.NONE)
    is_open = models.BooleanField(_("open"), default=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_open", "start_date", "pk"]
        verbose_name_plural = _("opportunities")
        indexes = [models.Index(fields=["is_open", "city", "sector"])]
        constraints = [models.CheckConstraint(condition=models.Q(places__gte=1), name="opportunity_has_places")]

    def __str__(self) -> str:
        return self.title


@pghistory.track()
class EmployabilityProfile(models.Model):
    """One per case: what the placement officer knows of the participant's employability."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="employability")
    education_level = models.PositiveSmallIntegerField(
        _("education level"), choices=EducationLevel.choices, default=EducationLevel.NONE
    )
    sectors = ArrayField(
        models.CharField(max_length=16, choices=Sector.choices),
        verbose_name=_("sectors of skill or experience"),
        default=list,
        blank=True,
    )
    skills = models.TextField(_("skills"), blank=True)
    work_history = models.TextField(_("work history"), blank=True)
    certificates = models.TextField(_("certificates"), blank=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    constraints = models.TextField(
        _("constraints"), blank=True, help_text=_("For example a probation curfew or reporting days.")
    )
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("employability profile")

    def __str__(self) -> str:
        return str(self.get_education_level_display())

    @property
    def sector_labels(self) -> list[str]:
        return [str(Sector(s).label) for s in self.sectors if s in Sector.values]


class PlacementStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted by the partner")
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    DISMISSED = "dismissed", _("Dismissed")
    REFUSED = "refused", _("Refused by the partner")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class IncomeBand(models.TextChoices):
    NONE = "none", _("No income")
    BELOW_MINIMUM = "below_minimum", _("Below minimum wage")
    MINIMUM = "minimum", _("Around minimum wage")
    ABOVE_MINIMUM = "above_minimum", _("Above minimum wage")


# Placements that hold one of the opportunity's places, and those still under way.
HOLDS_PLACE = (PlacementStatus.ACCEPTED, PlacementStatus.STARTED)
LIVE = (PlacementStatus.PROPOSED, PlacementStatus.ACCEPTED, PlacementStatus.STARTED)
# The lifecycle: proposed → accepted (by the partner) → started → an end; refused or withdrawn before the start.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PlacementStatus.PROPOSED: (PlacementStatus.ACCEPTED, PlacementStatus.REFUSED, PlacementStatus.WITHDRAWN),
    PlacementStatus.ACCEPTED: (PlacementStatus.STARTED, PlacementStatus.REFUSED, PlacementStatus.WITHDRAWN),
    PlacementStatus.STARTED: (PlacementStatus.COMPLETED, PlacementStatus.DROPPED_OUT, PlacementStatus.DISMISSED),
    PlacementStatus.COMPLETED: (),
    PlacementStatus.DROPPED_OUT: (),
    PlacementStatus.DISMISSED: (),
    PlacementStatus.REFUSED: (),
    PlacementStatus.WITHDRAWN: (),
}


@pghistory.track()
class Placement(models.Model):
    """A participant placed with an opportunity; several per case over time."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="placements"
    )
    # The opportunity's partner, kept on the row so a partner's API client (later issue) is scoped by one column.
    partner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=PlacementStatus.choices, default=PlacementStatus.PROPOSED
    )
    proposed_on = models.DateField(_("proposed on"))
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    end_reason = models.TextField(_("reason"), blank=True)
    certificate = models.BooleanField(_("certificate obtained"), null=True, blank=True)
    certificate_name = models.CharField(_("certificate"), max_length=200, blank=True)
    employed_after = models.BooleanField(_("employed after the placement"), null=True, blank=True)
    income_band = models.CharField(_("income band"), max_length=16, choices=IncomeBand.choices, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-proposed_on", "-pk"]
        indexes = [models.Index(fields=["case", "-proposed_on"]), models.Index(fields=["opportunity", "status"])]
        constraints = [
            # one live placement per participant and opportunity
            models.UniqueConstraint(
                fields=["case", "opportunity"],
                condition=models.Q(status__in=["proposed", "accepted", "started"]),
                name="one_live_placement_per_opportunity",
            ),
            models.CheckConstraint(
                condition=models.Q(started_on__isnull=True) | models.Q(started_on__gte=models.F("proposed_on")),
                name="placement_starts_after_proposal",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_status_display())

    def allowed_transitions(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]


@pghistory.track()
class CheckIn(models.Model):
    """A check-in due 30, 90 or 180 days after the start, created when the placement starts."""

    DAYS = (30, 90, 180)

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")  # the placement's, for the rule
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="check_ins")
    day = models.PositiveSmallIntegerField(_("days after start"))
    due_on = models.DateField(_("due on"))
    recorded_on = models.DateField(_("recorded on"), null=True, blank=True)
    still_there = models.BooleanField(_("still there"), null=True, blank=True)
    hours_per_week = models.PositiveSmallIntegerField(
        _("hours per week"), null=True, blank=True, validators=[MaxValueValidator(80)]
    )
    participant_satisfaction = models.PositiveSmallIntegerField(
        _("participant satisfaction (1 to 5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    partner_satisfaction = models.PositiveSmallIntegerField(
        _("partner satisfaction (1 to 5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    issues = models.TextField(_("issues"), blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("check-in")
        indexes = [models.Index(fields=["recorded_on", "due_on"])]
        constraints = [
            models.UniqueConstraint(fields=["placement", "day"], name="one_check_in_per_day"),
            models.CheckConstraint(
                condition=models.Q(participant_satisfaction__isnull=True)
                | models.Q(participant_satisfaction__range=(1, 5)),
                name="participant_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(partner_satisfaction__isnull=True) | models.Q(partner_satisfaction__range=(1, 5)),
                name="partner_satisfaction_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day}"
