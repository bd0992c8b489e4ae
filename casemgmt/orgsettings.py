"""An organisation's own settings pages, run by its `admin` (not the Django admin)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import StyledForm, UserCreateForm, UserUpdateForm, apply_errors
from accounts.models import Role
from accounts.services import user_create, user_update

from . import followups
from .access import get_manageable_user, has_role, users_manageable_by
from .followup_models import OrganisationRuleSetting, Remind
from .followup_services import rule_setting_save

SORTS = {"username": "username", "-username": "-username", "name": "last_name", "role": "membership__role"}


def _require_admin(request: HttpRequest) -> None:
    if not has_role(request.user, Role.ADMIN):
        raise Http404


def user_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    users = users_manageable_by(request.user)
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(
            Q(username__icontains=query) | Q(first_name__icontains=query) | Q(last_name__icontains=query)
        )
    sort = request.GET.get("sort", "username")
    users = users.order_by(SORTS.get(sort, "username"), "pk")
    page = Paginator(users, 25).get_page(request.GET.get("page"))
    return render(request, "orgsettings/user_list.html", {"page": page, "query": query, "sort": sort})


def user_create_view(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    organisation = request.user.membership.organisation
    form = UserCreateForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(organisation=organisation, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Account %(username)s created.") % {"username": user.username})
            return redirect("orgsettings:user-list")
    return render(request, "orgsettings/user_form.html", {"form": form, "creating": True})


def user_edit_view(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_admin(request)
    target = get_manageable_user(request.user, user_id)
    organisation = target.membership.organisation
    initial = {
        "first_name": target.first_name,
        "last_name": target.last_name,
        "email": target.email,
        "role": target.membership.role,
        "is_active": target.is_active,
    }
    form = UserUpdateForm(request.POST or None, initial=initial, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(user=target, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Account %(username)s saved.") % {"username": target.username})
            return redirect("orgsettings:user-list")
    return render(request, "orgsettings/user_form.html", {"form": form, "target": target, "creating": False})


class RuleSettingForm(StyledForm):
    enabled = forms.TypedChoiceField(
        label=gettext_lazy("On"),
        required=False,
        choices=[("", gettext_lazy("As the system sets it")), ("1", gettext_lazy("On")), ("0", gettext_lazy("Off"))],
        coerce=lambda v: v == "1",
        empty_value=None,
    )
    params = forms.JSONField(
        label=gettext_lazy("Intervals and offsets"),
        required=False,
        help_text=gettext_lazy("Empty: the system's. The same keys as the system's, in days or months."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    remind = forms.ChoiceField(
        label=gettext_lazy("Who is reminded"),
        required=False,
        choices=[("", gettext_lazy("As the system sets it")), *Remind.choices],
    )
    escalation_days = forms.IntegerField(
        label=gettext_lazy("Escalate to the manager after (days)"), required=False, min_value=1, max_value=365
    )


def rule_list(request: HttpRequest) -> HttpResponse:
    """The organisation's follow-up rules: the system's defaults and what the NGO changed."""
    _require_admin(request)
    organisation_id = request.user.membership.organisation_id
    rows = []
    for key in sorted(followups.RULES):
        rule = followups.rule_row(key)
        own = OrganisationRuleSetting.objects.filter(rule=rule, organisation_id=organisation_id).first()
        rows.append((rule, own, followups.settings_for(key, organisation_id)))
    return render(request, "orgsettings/rule_list.html", {"rows": rows})


def rule_edit(request: HttpRequest, key: str) -> HttpResponse:
    _require_admin(request)
    if key not in followups.RULES:
        raise Http404
    rule = followups.rule_row(key)
    organisation = request.user.membership.organisation
    own = OrganisationRuleSetting.objects.filter(rule=rule, organisation=organisation).first()
    initial = {}
    if own is not None:
        initial = {
            "enabled": "" if own.enabled is None else ("1" if own.enabled else "0"),
            "params": own.params,
            "remind": own.remind,
            "escalation_days": own.escalation_days,
        }
    form = RuleSettingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rule_setting_save(organisation=organisation, rule=rule, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("orgsettings:rule-list")
    return render(
        request,
        "orgsettings/rule_form.html",
        {"form": form, "rule": rule, "effective": followups.settings_for(key, organisation.pk)},
        status=400 if form.errors else None,
    )


app_name = "orgsettings"
urlpatterns = [
    path("users/", user_list, name="user-list"),
    path("users/new/", user_create_view, name="user-create"),
    path("users/<int:user_id>/", user_edit_view, name="user-edit"),
    path("reminders/", rule_list, name="rule-list"),
    path("reminders/<slug:key>/", rule_edit, name="rule-edit"),
]
