"""Mentoring by religious scholars and peer mentors (issue 6).

A mentor is a user with the `mentor` role and a `MentorProfile` kept by their supervisor (vetting).
A `MentorAssignment` walks proposed → approved → active → ended (or rejected / declined); while it is
active the mentor is on the case team, which is what opens the case to them. `MentoringSession`
rows are case-bound records under the core policy (`casemgmt.access`); their confidential notes live
in a table of their own, `MentoringConfidentialNote`, that no generic path (serializers, history,
exports, admin) ever reaches: only the session's mentor reads it.
"""

from __future__ import annotations

import datetime

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import City
from casemgmt.casefile import Goal
from casemgmt.crypto import EncryptedTextField
from casemgmt.models import LANGUAGES, Case

__all__ = [
    "AssignmentStatus",
    "Gender",
    "MentorAssignment",
    "MentorKind",
    "MentorProfile",
    "MentoringConfidentialNote",
    "MentoringSession",
    "PlaceType",
    "SessionStatus",
    "Topic",
    "VettingStatus",
]

USER = settings.AUTH_USER_MODEL


class MentorKind(models.TextChoices):
    SCHOLAR = "scholar", _("Religious scholar")
    PEER = "peer", _("Peer mentor (former participant or detainee)")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class VettingStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    VETTED = "vetted", _("Vetted")
    SUSPENDED = "suspended", _("Suspended")


class MentorProfileQuerySet(models.QuerySet):
    def assignable(self, today: datetime.date | None = None):
        """Vetted and unexpired: the only mentors who may be proposed or keep their mentees."""
        today = today or timezone.localdate()
        return self.filter(vetting_status=VettingStatus.VETTED, vetting_expires_on__gte=today)


@pghistory.track()
class MentorProfile(models.Model):
    user = models.OneToOneField(USER, on_delete=models.PROTECT, related_name="mentor_profile")
    kind = models.CharField(_("kind"), max_length=8, choices=MentorKind.choices)
    qualifications = models.TextField(_("qualifications"), blank=True)
    training = models.TextField(_("training received"), blank=True)
    languages = ArrayField(
        models.CharField(max_length=3, choices=LANGUAGES), verbose_name=_("languages"), default=list, blank=True
    )
    cities = models.ManyToManyField(City, verbose_name=_("cities served"), related_name="mentors", blank=True)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    capacity = models.PositiveSmallIntegerField(
        _("capacity (active mentees at most)"), default=5, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    supervisor = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="supervised_mentors", verbose_name=_("supervisor")
    )
    vetting_status = models.CharField(
        _("vetting status"), max_length=9, choices=VettingStatus.choices, default=VettingStatus.PENDING
    )
    vetted_on = models.DateField(_("vetted on"), null=True, blank=True)
    vetting_expires_on = models.DateField(_("vetting expires on"), null=True, blank=True)
    vetting_note = models.TextField(_("vetting note"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MentorProfileQuerySet.as_manager()

    class Meta:
        ordering = ["user__last_name", "user__first_name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(vetting_status="vetted") | Q(vetted_on__isnull=False, vetting_expires_on__isnull=False),
                name="mentor_vetted_has_dates",
            ),
            models.CheckConstraint(
                condition=Q(vetting_expires_on__isnull=True)
                | Q(vetted_on__isnull=True)
                | Q(vetting_expires_on__gt=models.F("vetted_on")),
                name="mentor_vetting_expires_after_vetting",
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    def is_assignable(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return (
            self.vetting_status == VettingStatus.VETTED
            and self.vetting_expires_on is not None
            and self.vetting_expires_on >= today
        )

    def language_labels(self) -> list[str]:
        labels = dict(LANGUAGES)
        return [str(labels.get(code, code)) for code in self.languages]


class AssignmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed (awaiting the manager)")
    APPROVED = "approved", _("Approved (awaiting the mentor)")
    REJECTED = "rejected", _("Rejected by the manager")
    DECLINED = "declined", _("Declined by the mentor")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    WITHDRAWN = "withdrawn", _("Withdrawn (the case left the program or the organisation)")


OPEN_ASSIGNMENT = (AssignmentStatus.PROPOSED, AssignmentStatus.APPROVED, AssignmentStatus.ACTIVE)


@pghistory.track()
class MentorAssignment(models.Model):
    Status = AssignmentStatus

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="mentor_assignments")
    mentor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="mentor_assignments")
    status = models.CharField(_("status"), max_length=9, choices=AssignmentStatus.choices)
    gender_preference = models.CharField(_("mentor gender asked for"), max_length=6, choices=Gender.choices, blank=True)
    proposal_note = models.TextField(_("why this mentor"), blank=True)
    proposed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    response_reason = models.TextField(_("mentor's reason"), blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    ended_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    end_reason = models.TextField(_("end reason"), blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            # One mentor at a time: at most one proposed, approved or active assignment per case.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["proposed", "approved", "active"]),
                name="one_open_mentor_assignment_per_case",
            )
        ]
        indexes = [models.Index(fields=["mentor", "status"])]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.mentor_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASSIGNMENT


class PlaceType(models.TextChoices):
    OFFICE = "office", _("NGO office")
    MOSQUE = "mosque", _("Mosque or religious centre")
    PRISON = "prison", _("Prison")
    HOME = "home", _("Participant's home")
    PUBLIC = "public", _("Public place")
    ONLINE = "online", _("Online or phone")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


class Topic(models.TextChoices):
    TEXTS = "texts", _("Religious texts and their interpretation")
    IDEOLOGY = "ideology", _("Ideological review")
    IDENTITY = "identity", _("Identity and belonging")
    VIOLENCE = "violence", _("Violence and its legitimacy")
    FAMILY = "family", _("Family")
    WORK = "work", _("Work and education")
    PEERS = "peers", _("Friends and networks")
    FAITH = "faith", _("Practice of faith")
    OTHER = "other", _("Other")


@pghistory.track()
class MentoringSession(models.Model):
    """A planned or logged session. Confidential notes are NOT here (MentoringConfidentialNote)."""

    Status = SessionStatus
    # What caseworkers and managers read (pages, API, change history); never the confidential notes.
    SHAREABLE_FIELDS = (
        "starts_at",
        "place_type",
        "status",
        "duration_minutes",
        "topics",
        "goal",
        "progress_rating",
        "summary",
    )

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(MentorAssignment, on_delete=models.PROTECT, related_name="sessions")
    mentor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", editable=False)
    starts_at = models.DateTimeField(_("date and time"))
    place_type = models.CharField(_("place"), max_length=8, choices=PlaceType.choices)
    status = models.CharField(_("status"), max_length=9, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    topics = ArrayField(
        models.CharField(max_length=10, choices=Topic.choices), verbose_name=_("topics"), default=list, blank=True
    )
    goal = models.ForeignKey(
        Goal,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("ideology goal"),
        limit_choices_to={"domain": "ideology"},
    )
    progress_rating = models.PositiveSmallIntegerField(
        _("progress on the ideology goal (1-5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    summary = models.TextField(_("shareable summary"), blank=True)
    logged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["case", "-starts_at"]), models.Index(fields=["mentor", "status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_rating__isnull=True) | Q(progress_rating__gte=1, progress_rating__lte=5),
                name="mentoring_rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def is_logged(self) -> bool:
        return self.status != SessionStatus.PLANNED

    def topic_labels(self) -> list[str]:
        labels = dict(Topic.choices)
        return [str(labels.get(t, t)) for t in self.topics]


class MentoringConfidentialNote(models.Model):
    """The mentor's own notes on a session: professional secrecy.

    Deliberately not tracked by pghistory, not registered in the admin, not in any serializer but the
    mentor's own, and not in the core record rules: only `programs.mentoring_access` reaches it.
    """

    session = models.OneToOneField(MentoringSession, on_delete=models.CASCADE, related_name="confidential")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField(_("confidential notes"))  # AES-GCM at rest (casemgmt/crypto.py)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"confidential notes of session {self.session_id}"  # never the text
