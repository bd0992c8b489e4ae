"""Writes on users and memberships. Callers have already checked access (casemgmt.access)."""

from __future__ import annotations

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
