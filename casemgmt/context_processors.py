from django.utils.translation import gettext_lazy as _

from accounts.models import Role

from . import access
from .urlcache import fixed_url

# Entries of the apps to the right, registered in their AppConfig.ready(): user -> [(label, url)]
# (argument-less URLs: casemgmt.urlcache.fixed_url reverses each once).
NAV_SOURCES: list = []


def register_nav(source):
    NAV_SOURCES.append(source)
    return source


def navigation(request):
    """The navigation bar for the user's role; pages appear here as capabilities land."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Home"), fixed_url("home"))]
    if access.can_see_case_pages(user):
        items.append((_("Cases"), fixed_url("case-list")))
    if user.role == Role.MANAGER:
        items.append((_("Intake"), fixed_url("intake")))
        items.append((_("Transfers"), fixed_url("transfer-list")))
        items.append((_("Exports"), fixed_url("subject-export-list")))
        items.append((_("Retention"), fixed_url("retention-list")))
        items.append((_("Authority requests"), fixed_url("information-requests")))
    if user.role in (Role.MANAGER, Role.AUDITOR):
        items.append((_("Disclosures"), fixed_url("disclosures")))
    if access.is_authority(user):
        items.append((_("Refer a person"), fixed_url("authority-referral-create")))
    if access.can_see_dpo_pages(user):
        items.append((_("Data protection"), fixed_url("access-log")))
    for source in NAV_SOURCES:
        items.extend(source(user))
    if user.role == Role.ADMIN:
        items.append((_("Users"), fixed_url("orgsettings:user-list")))
        items.append((_("Reminders"), fixed_url("orgsettings:rule-list")))
    return {"nav_items": items}
