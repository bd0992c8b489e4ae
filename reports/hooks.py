"""What reports registers with the core: the managers' navigation entry and the caseworkers' home panel."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from casemgmt import access
from casemgmt.context_processors import register_nav


@register_nav
def reports_nav(user):
    if access.has_role(user, Role.MANAGER):
        return [(_("Reports"), reverse("reports:dashboard"))]
    return []
