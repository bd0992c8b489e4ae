"""Writes on users and memberships. Callers have already checked access (casemgmt.access)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import ROLES_BY_ORGANISATION_KIND, Membership, Organisation, User


def _check_role(*, organisation: Organisation, role: str) -> None:
    if role not in ROLES_BY_ORGANISATION_KIND.get(organisation.kind, ()):
        raise ValidationError({"role": _("This role is not available in this kind of organisation.")})


@transaction.atomic
def user_create(
    *,
    organisation: Organisation,
    by: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    password: str,
) -> User:
    """Create a staff account with its membership in one transaction."""
    _check_role(organisation=organisation, role=role)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user.set_password(password)
    user.full_clean()
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    by: User,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    is_active: bool,
) -> User:
    """Change a staff account's names, role or active flag."""
    membership = user.membership
    _check_role(organisation=membership.organisation, role=role)
    if user.pk == by.pk and (not is_active or role != membership.role):
        # An administrator who demotes or deactivates themselves locks the organisation out.
        raise ValidationError(_("You cannot change your own role or deactivate your own account."))
    deactivated = user.is_active and not is_active
    user.first_name, user.last_name, user.email, user.is_active = first_name, last_name, email, is_active
    user.save(update_fields=["first_name", "last_name", "email", "is_active"])
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if deactivated:
        # Every open session ends now (issue 11); MembershipBackend.get_user refusing inactive users
        # on each request stays as the second line.
        user_sessions_end(user=user)
    return user


def recovery_codes_generate(*, user: User, count: int = 10) -> list[str]:
    """Replace the user's recovery codes (django-otp static tokens, each usable once)."""
    from django_otp.plugins.otp_static.models import StaticToken

    device, _created = user.staticdevice_set.get_or_create(defaults={"name": "backup"})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(count)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def user_sessions_end(*, user: User) -> int:
    """End every session of the user at once (deactivation): their session rows are deleted, so the
    next request of any of their browsers or API clients is anonymous."""
    from .models import StaffSession

    deleted, _ = StaffSession.objects.filter(user=user).delete()
    return deleted


# --- Preferences (issue 15) -------------------------------------------------------------------------


def _check_language(language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("This language is not available.")})


@transaction.atomic
def user_language_set(*, user: User, by: User, language: str) -> User:
    """Store the language a user chose in the switcher on their own profile: every later request of
    theirs, in any browser, is in it (accounts.middleware.UserLanguageMiddleware)."""
    if user.pk != by.pk:
        raise ValidationError(_("Only the user themselves chooses their language."))
    _check_language(language)
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


@transaction.atomic
def user_preferences_update(*, user: User, by: User, language: str, show_hijri_dates: bool) -> User:
    """The preferences page: language (blank: the browser's) and the Hijri date beside Gregorian dates."""
    if user.pk != by.pk:
        raise ValidationError(_("Only the user themselves changes their preferences."))
    if language:
        _check_language(language)
    user.language, user.show_hijri_dates = language, show_hijri_dates
    user.save(update_fields=["language", "show_hijri_dates"])
    return user


# --- Partner API clients (issue 13) ---------------------------------------------------------------


def validate_client_scopes(organisation, scopes) -> list[str]:
    """The scopes a client of this organisation may hold (its kind decides); refuses any other."""
    from .models import PARTNER_SCOPES

    allowed = PARTNER_SCOPES.get(organisation.kind)
    if not allowed:
        raise ValidationError(
            {"organisation": _("Only authorities, employers, training providers and funders have API clients.")}
        )
    wrong = sorted(set(scopes) - set(allowed))
    if wrong or not scopes:
        raise ValidationError(
            {
                "allowed_scopes": _("A %(kind)s client may hold: %(allowed)s.")
                % {"kind": organisation.get_kind_display(), "allowed": ", ".join(allowed)}
            }
        )
    return [s for s in allowed if s in scopes]


@transaction.atomic
def api_client_register(
    *,
    name: str,
    organisation,
    scopes,
    rate_limit_per_minute: int | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
):
    """Register a partner system: a confidential OAuth2 application (client credentials only) with a
    service account of its own (no membership, unusable password) and the ApiClient row.

    Returns (api_client, plain secret): the secret is stored hashed and can be shown only now."""
    from oauth2_provider.generators import generate_client_id, generate_client_secret
    from oauth2_provider.models import Application

    from .models import DEFAULT_RATE_LIMIT_PER_MINUTE, ApiClient

    chosen = validate_client_scopes(organisation, scopes)
    client_id = client_id or generate_client_id()
    secret = client_secret or generate_client_secret()
    service_user = User(username=f"api-client-{client_id[:40]}", first_name=name[:150])
    service_user.set_unusable_password()
    service_user.save()
    application = Application.objects.create(
        name=name,
        client_id=client_id,
        client_secret=secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        user=service_user,
        redirect_uris="",
        skip_authorization=False,
    )
    api_client = ApiClient.objects.create(
        application=application,
        organisation=organisation,
        allowed_scopes=" ".join(chosen),
        rate_limit_per_minute=rate_limit_per_minute or DEFAULT_RATE_LIMIT_PER_MINUTE,
    )
    return api_client, secret
