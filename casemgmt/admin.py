"""System configuration in the Django admin: assessment templates and the default follow-up rules.
Case content is never here."""

from django.contrib import admin

from .casefile import AssessmentDomain, AssessmentItem, AssessmentTemplate
from .followup_models import FollowUpRule


class DomainInline(admin.TabularInline):
    model = AssessmentDomain
    extra = 0
    show_change_link = True


@admin.register(AssessmentTemplate)
class AssessmentTemplateAdmin(admin.ModelAdmin):
    """Instruments are configured, not hard-coded: licensed item text (VERA-2R, ERG22+) stays with the
    programs that hold the licence. A template in use cannot lose items (PROTECT); retire it instead."""

    list_display = ["name", "is_active", "created_at"]
    list_filter = ["is_active"]
    inlines = [DomainInline]


class ItemInline(admin.TabularInline):
    model = AssessmentItem
    extra = 0


@admin.register(AssessmentDomain)
class AssessmentDomainAdmin(admin.ModelAdmin):
    list_display = ["name", "template", "order"]
    list_filter = ["template"]
    inlines = [ItemInline]


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin):
    """The system's defaults of the cadence table; each NGO's admin overrides them in the app's settings."""

    list_display = ["key", "label", "params", "remind", "escalation_days", "enabled"]
    readonly_fields = ["key"]

    def has_add_permission(self, request):  # rules come from the code that applies them
        return False

    def has_delete_permission(self, request, obj=None):
        return False
