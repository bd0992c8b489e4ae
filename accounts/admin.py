"""Django admin: system-wide configuration for the system administrator only.

Case content is never registered here: being a superuser opens no case data.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .models import ApiClient, City, Membership, Organisation, User
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


# --- Partner API clients (issue 13) ---------------------------------------------------------------


class ApiClientAddForm(forms.ModelForm):
    name = forms.CharField(label=_("Name of the partner system"), max_length=255)
    scopes = forms.MultipleChoiceField(
        label=_("Allowed scopes"),
        choices=[(s, s) for s in settings.OAUTH2_PROVIDER["SCOPES"]],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiClient
        fields = ["organisation", "rate_limit_per_minute"]

    def clean(self):
        data = super().clean()
        if data.get("organisation") and data.get("scopes"):
            try:
                data["scopes"] = services.validate_client_scopes(data["organisation"], data["scopes"])
            except ValidationError as error:
                raise ValidationError(error.message_dict.get("allowed_scopes") or error.messages) from None
        return data


class ApiClientChangeForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ["allowed_scopes", "rate_limit_per_minute", "is_active"]

    def clean_allowed_scopes(self):
        scopes = self.cleaned_data["allowed_scopes"].split()
        try:
            return " ".join(services.validate_client_scopes(self.instance.organisation, scopes))
        except ValidationError as error:
            raise ValidationError(error.messages) from None


SECRET_SHOWN_ONCE = _(
    "Client id: %(id)s — client secret: %(secret)s — copy the secret now: "
    "it is stored hashed and will not be shown again."
)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """The system administrator registers partner systems. The secret is shown once, at creation: it is
    stored hashed. Deactivating a client (or deleting it, which deletes its tokens) takes effect on the
    client's next request."""

    list_display = ["application", "organisation", "allowed_scopes", "rate_limit_per_minute", "is_active"]
    list_filter = ["is_active", "organisation__kind"]
    list_select_related = ["application", "organisation"]
    readonly_fields = ["client_id", "organisation", "created_at"]

    def client_id(self, obj):
        return obj.application.client_id

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ApiClientChangeForm if obj is not None else ApiClientAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "organisation", "scopes", "rate_limit_per_minute"]
        return ["client_id", "organisation", "allowed_scopes", "rate_limit_per_minute", "is_active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        data = form.cleaned_data
        created, secret = services.api_client_register(
            name=data["name"],
            organisation=data["organisation"],
            scopes=data["scopes"],
            rate_limit_per_minute=data["rate_limit_per_minute"],
        )
        obj.pk = created.pk
        obj.application = created.application
        messages.warning(
            request,
            SECRET_SHOWN_ONCE % {"id": created.application.client_id, "secret": secret},
        )
