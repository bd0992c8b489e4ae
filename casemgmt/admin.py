"""System configuration in the Django admin: assessment templates and the default follow-up rules.
Case content is never here."""

from django.contrib import admin
from django.utils.translation import gettext as _

from .casefile import AssessmentDomain, AssessmentItem, AssessmentTemplate
from .followup_models import FollowUpRule
from .webhook_models import WebhookDelivery, WebhookSubscription


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


# --- Webhook oversight (issue 14): subscriptions and deliveries, never a payload ----------------


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "organisation", "application", "events", "is_active", "paused_at", "consecutive_failures")
    list_filter = ("is_active", ("paused_at", admin.EmptyFieldListFilter))
    readonly_fields = (
        "application",
        "organisation",
        "url",
        "events",
        "consecutive_failures",
        "paused_at",
        "paused_reason",
        "created_at",
    )
    fields = ("is_active", *readonly_fields)
    actions = ("resume_subscriptions",)

    def has_add_permission(self, request):
        return False  # partner clients subscribe through the API

    @admin.action(description=_("Resume (send waiting deliveries now)"))
    def resume_subscriptions(self, request, queryset):
        from . import webhooks

        count = sum(webhooks.resume(sub) >= 0 for sub in queryset)
        self.message_user(request, _("%(n)s subscriptions resumed.") % {"n": count})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "subscription",
        "event",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event")
    fields = (
        "subscription",
        "event",
        "event_id",
        "status",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "replay_of",
        "created_at",
    )
    readonly_fields = fields  # the payload (partner data) is not shown here
    actions = ("replay_deliveries",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Replay (send again with the same event id)"))
    def replay_deliveries(self, request, queryset):
        from . import webhooks

        for delivery in queryset:
            webhooks.replay(delivery)
        self.message_user(request, _("%(n)s deliveries queued again.") % {"n": queryset.count()})
