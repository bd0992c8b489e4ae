"""The one access policy: who may see or change what.

Every page, API endpoint, export, history view and reminder asks this module.
Lists get querysets filtered in SQL; single objects come from the same querysets,
so an object outside a user's scope is simply not found (404), never "forbidden".
Being a superuser opens nothing here: the Django admin is for configuration only.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Role, User


def has_role(user: User, *roles: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def users_manageable_by(user: User) -> QuerySet[User]:
    """Staff accounts an organisation admin may list and edit: those of their own organisation."""
    if not has_role(user, Role.ADMIN):
        return User.objects.none()
    return User.objects.filter(membership__organisation_id=user.membership.organisation_id).select_related(
        "membership__organisation"
    )


def get_manageable_user(user: User, user_id: int) -> User:
    return get_object_or_404(users_manageable_by(user), pk=user_id)
