"""Django admin: system-wide configuration for the system administrator only.

Case content is never registered here: being a superuser opens no case data.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import City, Membership, Organisation, User
from .services import user_sessions_end


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_ar"]
    search_fields = ["code", "name", "name_ar"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "city", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


class MembershipInline(admin.StackedInline):
    model = Membership
    can_delete = False
    max_num = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "membership__organisation", "membership__role", "is_active"]
    list_filter = ["is_active", "is_superuser", "membership__role", "membership__organisation__kind"]
    list_select_related = ["membership__organisation"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_sessions_end(user=obj)  # a deactivated user's open sessions end at once (issue 11)
