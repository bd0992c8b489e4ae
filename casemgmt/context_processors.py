from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

from . import access

# Entries of the apps to the right, registered in their AppConfig.ready(): user -> [(label, url)].
NAV_SOURCES: list = []


def register_nav(source):
    NAV_SOURCES.append(source)
    return source


def navigation(request):
    """The navigation bar for the user's role; pages appear here as capabilities land."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Home"), reverse("home"))]
    if access.can_see_case_pages(user):
        items.append((_("Cases"), reverse("case-list")))
    if user.role == Role.MANAGER:
        items.append((_("Intake"), reverse("intake")))
        items.append((_("Transfers"), reverse("transfer-list")))
        items.append((_("Exports"), reverse("subject-export-list")))
        items.append((_("Retention"), reverse("retention-list")))
        items.append((_("Authority requests"), reverse("information-requests")))
    if user.role in (Role.MANAGER, Role.AUDITOR):
        items.append((_("Disclosures"), reverse("disclosures")))
    if access.is_authority(user):
        items.append((_("Refer a person"), reverse("authority-referral-create")))
    if access.can_see_dpo_pages(user):
        items.append((_("Data protection"), reverse("access-log")))
    for source in NAV_SOURCES:
        items.extend(source(user))
    if user.role == Role.ADMIN:
        items.append((_("Users"), reverse("orgsettings:user-list")))
        items.append((_("Reminders"), reverse("orgsettings:rule-list")))
    return {"nav_items": items}
