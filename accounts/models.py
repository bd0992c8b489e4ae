from __future__ import annotations

import pghistory
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _


class City(models.Model):
    """Reference table: the city code is the first part of every case code (TNG-2026-0042)."""

    code = models.CharField(_("code"), max_length=3, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ar = models.CharField(_("name in Arabic"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z]{3}$"), name="city_code_three_capitals"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Organisation(models.Model):
    class Kind(models.TextChoices):
        NGO = "ngo", _("NGO")
        AUTHORITY = "authority", _("Authority")
        RELIGIOUS = "religious", _("Religious organisation")
        EMPLOYER = "employer", _("Employer")
        TRAINING_PROVIDER = "training_provider", _("Training provider")
        FUNDER = "funder", _("Funder")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    city = models.ForeignKey(City, verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    COUNSELLOR = "counsellor", _("Counsellor")
    PLACEMENT_OFFICER = "placement_officer", _("Placement officer")
    MANAGER = "manager", _("Manager")
    AUDITOR = "auditor", _("Auditor (data protection)")
    ADMIN = "admin", _("Organisation administrator")
    MENTOR = "mentor", _("Mentor")
    MENTOR_SUPERVISOR = "mentor_supervisor", _("Mentor supervisor")
    AUTHORITY_LIAISON = "authority_liaison", _("Authority liaison")


# Which roles a staff account may hold in each kind of organisation. Employers,
# training providers and funders use the API through clients, not staff accounts.
ROLES_BY_ORGANISATION_KIND: dict[str, tuple[str, ...]] = {
    Organisation.Kind.NGO: (
        Role.CASEWORKER,
        Role.COUNSELLOR,
        Role.PLACEMENT_OFFICER,
        Role.MANAGER,
        Role.AUDITOR,
        Role.ADMIN,
        Role.MENTOR,
    ),
    Organisation.Kind.RELIGIOUS: (Role.MENTOR, Role.MENTOR_SUPERVISOR, Role.ADMIN),
    Organisation.Kind.AUTHORITY: (Role.AUTHORITY_LIAISON, Role.ADMIN),
    Organisation.Kind.EMPLOYER: (),
    Organisation.Kind.TRAINING_PROVIDER: (),
    Organisation.Kind.FUNDER: (),
}


class User(AbstractUser):
    """Custom user from the first migration; the role lives on the membership."""

    # the language the user chose in the switcher or on the preferences page; blank: the browser's
    language = models.CharField(_("language"), max_length=8, blank=True)
    show_hijri_dates = models.BooleanField(
        _("show Hijri dates"), default=False, help_text=_("Show the Hijri date beside the Gregorian one.")
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def membership_or_none(self) -> Membership | None:
        try:
            return self.membership
        except Membership.DoesNotExist:
            return None

    @property
    def role(self) -> str | None:
        membership = self.membership_or_none
        return membership.role if membership else None

    @property
    def organisation(self) -> Organisation | None:
        membership = self.membership_or_none
        return membership.organisation if membership else None


@pghistory.track()  # who gave whom which role, and when: a new manager reads every case
class Membership(models.Model):
    """Every staff user belongs to exactly one organisation with one role."""

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["organisation", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.organisation}"


_SESSION_DEVICE = {
    "null": True,
    "blank": True,
    "on_delete": models.DO_NOTHING,
    "db_constraint": False,
    "db_index": False,
    "related_name": "+",
}


class StaffSession(AbstractBaseSession):
    """Django's database session with the logged-in user's id on the row (issue 11).

    Deactivating a user deletes every session of theirs in one statement
    (`accounts.services.user_sessions_end`), instead of decoding every session row.
    """

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The OTP device that verified the session (django-otp keeps its id in the session's data), so the
    # session's query reads it with the user (accounts.sessions). No constraint: a device deleted while
    # its session lives joins no row, and django-otp's own lookup then finds none either (unverified);
    # a session's save never fails on it.
    totp_device = models.ForeignKey("otp_totp.TOTPDevice", **_SESSION_DEVICE)
    static_device = models.ForeignKey("otp_static.StaticDevice", **_SESSION_DEVICE)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


# --- Partner API clients (issue 13) ---------------------------------------------------------------

PARTNER_SCOPES: dict[str, tuple[str, ...]] = {
    # Which scopes a client of each kind of organisation may be given at all (the admin form checks).
    Organisation.Kind.AUTHORITY: ("cases:read-shared", "legal-events:write", "referrals:write", "webhooks:manage"),
    Organisation.Kind.EMPLOYER: ("placements:read", "placements:write", "opportunities:write", "webhooks:manage"),
    Organisation.Kind.TRAINING_PROVIDER: (
        "placements:read",
        "placements:write",
        "opportunities:write",
        "webhooks:manage",
    ),
    Organisation.Kind.FUNDER: ("reports:read",),
}
DEFAULT_RATE_LIMIT_PER_MINUTE = 120


class ApiClient(models.Model):
    """A partner system: an OAuth2 application (client credentials only) acting as one organisation.

    The application's `user` is a service account with no membership (so no staff role and no case
    access); writes record it as their author. Registered by the system administrator in the admin."""

    application = models.OneToOneField(
        "oauth2_provider.Application",
        verbose_name=_("OAuth2 application"),
        on_delete=models.CASCADE,
        related_name="api_client",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="api_clients"
    )
    allowed_scopes = models.CharField(
        _("allowed scopes"), max_length=500, help_text=_("Space-separated, e.g. 'cases:read-shared legal-events:write'")
    )
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), default=DEFAULT_RATE_LIMIT_PER_MINUTE)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        constraints = [
            models.CheckConstraint(condition=models.Q(rate_limit_per_minute__gte=1), name="api_client_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.application.name} ({self.organisation})"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.allowed_scopes.split())

    @property
    def client_id(self) -> str:
        return self.application.client_id
