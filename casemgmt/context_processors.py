from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

CASE_ROLES = (Role.CASEWORKER, Role.PLACEMENT_OFFICER, Role.COUNSELLOR, Role.MENTOR, Role.MANAGER)


def navigation(request):
    """The navigation bar for the user's role; pages appear here as capabilities land."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Home"), reverse("home"))]
    if user.role in CASE_ROLES:
        items.append((_("Cases"), reverse("case-list")))
    if user.role in (Role.MANAGER, Role.AUDITOR):
        items.append((_("Access log"), reverse("access-log")))
    if user.role == Role.ADMIN:
        items.append((_("Users"), reverse("orgsettings:user-list")))
    return {"nav_items": items}
