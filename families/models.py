"""Families: households, family members, counselling engagements and sessions, support (issue 8).

A case has one `Household`; a `FamilyMember` (a person) is linked to households through
`HouseholdMember` rows carrying the relation, so one mother of two participants (siblings) is one
row serving both cases. An `Engagement` is a counselling relationship with one or more members,
held by counsellors (`EngagementCounsellor`); while a counsellor holds an open engagement they are
on the case team. `CounsellingSession` rows are case-bound records under the core policy
(`casemgmt.access`); their confidential notes live in `CounsellingConfidentialNote`, a table no
generic path (serializers, history, exports, admin) ever reaches: only the engagement's counsellors
read it. A `GroupSession` (parent-network meeting) has one `CounsellingSession` per family, so each
family's record carries its own attendance and nothing of the others.
"""

from __future__ import annotations

import datetime

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from casemgmt.crypto import EncryptedTextField
from casemgmt.models import LANGUAGES, Case

USER = settings.AUTH_USER_MODEL


class Relation(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    SPOUSE = "spouse", _("Spouse")
    SIBLING = "sibling", _("Brother or sister")
    CHILD = "child", _("Child")
    GRANDPARENT = "grandparent", _("Grandparent")
    OTHER = "other", _("Other relative")


class Vulnerability(models.TextChoices):
    RETURNED_CHILD = "returned_child", _("Child returned from a conflict zone")
    TRAUMA = "trauma", _("Trauma")
    DISABILITY = "disability", _("Disability")
    ILLNESS = "illness", _("Chronic illness")
    NO_DOCUMENTS = "no_documents", _("Without identity documents")
    STIGMA = "stigma", _("Stigma or threats in the neighbourhood")


@pghistory.track()
class Household(models.Model):
    """The participant's family household: one per case."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="household")
    address = models.CharField(_("household address"), max_length=300, blank=True)
    situation = models.TextField(_("household situation"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"household of case {self.case_id}"


@pghistory.track()
class FamilyMember(models.Model):
    """A relative, possibly of several participants (siblings): linked to households by `HouseholdMember`."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    name_arabic = models.CharField(_("name in Arabic script"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    age = models.PositiveSmallIntegerField(
        _("age (when the date of birth is unknown)"), null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    is_minor = models.BooleanField(_("minor"), default=False)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    contact_note = models.CharField(_("how to reach them"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=3, choices=LANGUAGES, blank=True)
    vulnerabilities = ArrayField(
        models.CharField(max_length=16, choices=Vulnerability.choices),
        verbose_name=_("vulnerabilities"),
        default=list,
        blank=True,
    )
    vulnerability_note = models.TextField(_("about the vulnerabilities"), blank=True)
    # A relative who asks for help on their own gives their own consent to counselling contact.
    own_consent_given_on = models.DateField(_("own consent given on"), null=True, blank=True)
    own_consent_expires_on = models.DateField(_("own consent expires on"), null=True, blank=True)
    own_consent_withdrawn_on = models.DateField(_("own consent withdrawn on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "pk"]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def vulnerability_labels(self) -> list[str]:
        labels = dict(Vulnerability.choices)
        return [str(labels.get(v, v)) for v in self.vulnerabilities]

    def has_own_consent(self, on: datetime.date) -> bool:
        return (
            self.own_consent_given_on is not None
            and self.own_consent_given_on <= on
            and self.own_consent_withdrawn_on is None
            and (self.own_consent_expires_on is None or self.own_consent_expires_on >= on)
        )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class HouseholdMember(models.Model):
    """A family member in one participant's household, with the relation to that participant.

    `case` repeats `household.case` (set by the service) so the row is a case-bound record the core
    policy filters like any other."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="links")
    member = models.ForeignKey(FamilyMember, on_delete=models.PROTECT, related_name="links")
    relation = models.CharField(_("relation to the participant"), max_length=12, choices=Relation.choices)
    lives_with_participant = models.BooleanField(_("lives with the participant"), default=False)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["household", "member"], name="one_link_per_household_member")]

    def __str__(self) -> str:
        return f"{self.member_id} in household {self.household_id} ({self.relation})"


class EngagementKind(models.TextChoices):
    LEGAL = "legal", _("Legal counsel")
    PSYCHOLOGICAL = "psychological", _("Psychological counsel")
    INTEGRATION = "integration", _("Social and economic integration support")
    PARENT_COACHING = "parent_coaching", _("Parent coaching")


class EngagementStatus(models.TextChoices):
    ASSESSMENT = "assessment", _("First assessment")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


OPEN_ENGAGEMENT = (EngagementStatus.ASSESSMENT, EngagementStatus.ACTIVE)
# The lifecycle: the first assessment leads to active work; either ends (with a reason, through
# `engagement_end`). Nothing goes back: an active engagement is not re-assessed, an ended one is not
# re-opened (new work is a new engagement). Staying in the same status (a step-plan edit) is no move.
ENGAGEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    EngagementStatus.ASSESSMENT: frozenset({EngagementStatus.ACTIVE, EngagementStatus.ENDED}),
    EngagementStatus.ACTIVE: frozenset({EngagementStatus.ENDED}),
    EngagementStatus.ENDED: frozenset(),
}


@pghistory.track()
class Engagement(models.Model):
    """A counselling relationship with one or more family members of a case."""

    Status = EngagementStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="family_engagements")
    kind = models.CharField(_("type"), max_length=16, choices=EngagementKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=EngagementStatus.choices, default=EngagementStatus.ASSESSMENT
    )
    members = models.ManyToManyField(FamilyMember, related_name="engagements", verbose_name=_("family members"))
    step_plan = models.TextField(_("step plan"), blank=True)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    end_reason = models.TextField(_("end reason"), blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="ended") | Q(ended_on__isnull=False), name="ended_engagement_has_end_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ENGAGEMENT

    def can_move_to(self, status: str) -> bool:
        return status in ENGAGEMENT_TRANSITIONS.get(self.status, frozenset())


# Who was assigned when, and who removed whom: a hand-over changes who reads the confidential notes.
@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class EngagementCounsellor(models.Model):
    """A counsellor assigned to an engagement: what puts them on the case team."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="assignments")
    counsellor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="family_engagements")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["engagement", "counsellor"], name="one_row_per_engagement_counsellor")
        ]

    def __str__(self) -> str:
        return f"counsellor {self.counsellor_id} on engagement {self.engagement_id}"


class GroupSession(models.Model):
    """A parent-network meeting with several families. It names no family: each family's own
    `CounsellingSession` row (group_session set) carries its attendance."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("date and time"))
    facilitator = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class SessionKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual counselling")
    FAMILY = "family", _("Family session")
    HOME_VISIT = "home_visit", _("Home visit")
    PHONE = "phone", _("Phone or online")
    GROUP = "group", _("Parent-network group")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ATTENDED = "attended", _("Attended")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


# The choice subsets the API offers for planning and logging (named in the API schema's enums).
PLANNABLE_SESSION_KINDS = [c for c in SessionKind.choices if c[0] != SessionKind.GROUP]
LOGGED_SESSION_STATUSES = [c for c in SessionStatus.choices if c[0] != SessionStatus.PLANNED]


@pghistory.track()
class CounsellingSession(models.Model):
    """A planned or logged session of an engagement. Confidential notes are NOT here."""

    Status = SessionStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="sessions")
    group_session = models.ForeignKey(
        GroupSession, on_delete=models.PROTECT, related_name="family_sessions", null=True, blank=True
    )
    kind = models.CharField(_("type"), max_length=10, choices=SessionKind.choices)
    starts_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    status = models.CharField(_("status"), max_length=9, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    attendees = models.ManyToManyField(FamilyMember, related_name="+", blank=True, verbose_name=_("attendees"))
    summary = models.TextField(_("shareable summary"), blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    logged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The token of the form that created the row: a second POST of the same form (a double click, a
    # resent request) finds this row instead of creating another session.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["case", "-starts_at"]), models.Index(fields=["engagement", "status"])]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def is_logged(self) -> bool:
        return self.status != SessionStatus.PLANNED


class CounsellingConfidentialNote(models.Model):
    """The counsellors' notes on a session: professional secrecy.

    Deliberately not tracked by pghistory, not in the admin, not in any serializer but the one for the
    engagement's own counsellors, and not a core record kind: only `families.access` reaches it."""

    session = models.OneToOneField(CounsellingSession, on_delete=models.CASCADE, related_name="confidential")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(_("confidential notes"))  # AES-GCM at rest (casemgmt/crypto.py)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"confidential notes of counselling session {self.session_id}"  # never the text


class ServiceKind(models.TextChoices):
    LEGAL_AID = "legal_aid", _("Legal aid")
    HEALTH = "health", _("Health")
    SCHOOLING = "schooling", _("Schooling")
    HOUSING = "housing", _("Housing")
    BENEFITS = "benefits", _("Benefits")


class ReferralStatus(models.TextChoices):
    REFERRED = "referred", _("Referred")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")


# A referral goes forward only: the service takes the family on (in progress) or answers at once;
# completed and declined are final (a new attempt is a new referral). The outcome text may be
# completed in any status.
REFERRAL_TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralStatus.REFERRED: frozenset({ReferralStatus.IN_PROGRESS, ReferralStatus.COMPLETED, ReferralStatus.DECLINED}),
    ReferralStatus.IN_PROGRESS: frozenset({ReferralStatus.COMPLETED, ReferralStatus.DECLINED}),
    ReferralStatus.COMPLETED: frozenset(),
    ReferralStatus.DECLINED: frozenset(),
}


@pghistory.track()
class SupportReferral(models.Model):
    """A family member referred to an outside service, with its outcome."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="referrals")
    service = models.CharField(_("service"), max_length=10, choices=ServiceKind.choices)
    provider = models.CharField(_("provider"), max_length=200)
    referred_on = models.DateField(_("referred on"))
    status = models.CharField(_("status"), max_length=11, choices=ReferralStatus.choices, default="referred")
    outcome = models.TextField(_("outcome"), blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-referred_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_service_display()}: {self.provider}"


class SupportKind(models.TextChoices):
    FOOD = "food", _("Food parcel")
    CASH = "cash", _("Cash grant")
    SCHOOL = "school", _("School supplies or fees")
    RENT = "rent", _("Rent")
    TRANSPORT = "transport", _("Transport")
    OTHER = "other", _("Other")


@pghistory.track()
class SupportEntry(models.Model):
    """One line of the ledger of material support given to the family."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="support")
    kind = models.CharField(_("kind"), max_length=10, choices=SupportKind.choices)
    amount = models.DecimalField(
        _("amount (MAD)"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)], null=True, blank=True
    )
    given_on = models.DateField(_("given on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_on", "-pk"]
        verbose_name = _("support given")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.given_on}"
