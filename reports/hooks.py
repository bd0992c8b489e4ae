"""What reports registers with the core: the managers' navigation entry and the caseworkers' home panel."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from casemgmt import access
from casemgmt.context_processors import register_nav
from casemgmt.urlcache import fixed_url
from casemgmt.views import register_home_panel


@register_nav
def reports_nav(user):
    if access.has_role(user, Role.MANAGER):
        return [(_("Reports"), fixed_url("reports:dashboard"))]
    return []


@register_home_panel
def my_figures_panel(request):
    """A caseworker's own figures on the start page: their open cases by stage, their overdue follow-ups."""
    user = request.user
    if not access.has_role(user, Role.CASEWORKER):
        return None
    from .selectors import my_figures

    return "reports/_home_panel.html", my_figures(user)
