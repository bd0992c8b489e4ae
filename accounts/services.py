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
    user.first_name, user.last_name, user.email, user.is_active = first_name, last_name, email, is_active
    user.save(update_fields=["first_name", "last_name", "email", "is_active"])
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    # Deactivation ends every session at once: MembershipBackend.get_user refuses
    # inactive users on each request, so an open session is worthless from now on.
    return user
