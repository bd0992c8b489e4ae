"""An organisation's own settings pages, run by its `admin` (not the Django admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from accounts.forms import UserCreateForm, UserUpdateForm, apply_errors
from accounts.models import Role
from accounts.services import user_create, user_update

from .access import get_manageable_user, has_role, users_manageable_by

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


app_name = "orgsettings"
urlpatterns = [
    path("users/", user_list, name="user-list"),
    path("users/new/", user_create_view, name="user-create"),
    path("users/<int:user_id>/", user_edit_view, name="user-edit"),
]
