"""Follow-up and notification pages: the due-and-overdue list, acting on a follow-up, the bell."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import StyledForm, apply_errors

from . import access, followup_services, followups
from .followup_models import OPEN_STATUSES, Notification


class CompleteForm(StyledForm):
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)


class SnoozeForm(StyledForm):
    until = forms.DateField(label=gettext_lazy("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("Why it waits"), max_length=2000)


class ReassignForm(StyledForm):
    to = forms.ModelChoiceField(label=gettext_lazy("Give it to"), queryset=None)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = candidates


def label_of(kind: str) -> str:
    rule = followups.RULES.get(kind)
    return _(rule.label) if rule else kind


def _annotate(rows, today):
    for row in rows:
        row.label = label_of(row.kind)
        row.overdue = row.due_on < today
    return rows


def due_list(request: HttpRequest) -> HttpResponse:
    """Mine first: due and overdue (and the next fortnight); a manager also sees the escalated ones."""
    user = request.user
    today = timezone.localdate()
    mine = (
        access.follow_ups_visible_to(user)
        .filter(assignee=user, status__in=OPEN_STATUSES, due_on__lte=today + datetime.timedelta(days=14))
        .select_related("case__participant")
        .order_by("due_on", "pk")
    )
    page = Paginator(mine, 50).get_page(request.GET.get("page"))
    escalated = []
    if user.role == "manager":
        escalated = (
            access.follow_ups_visible_to(user)
            .filter(status="escalated")
            .select_related("case__participant", "assignee")
            .order_by("due_on", "pk")[:100]
        )
    return render(
        request,
        "followups/list.html",
        {"page": page, "rows": _annotate(list(page), today), "escalated": _annotate(list(escalated), today)},
    )


def case_follow_ups(request: HttpRequest, case_id: int) -> HttpResponse:
    """The open follow-ups of one case, as far as the viewer may see them (a panel of the case page)."""
    case = access.get_case_for_user(request.user, case_id)
    today = timezone.localdate()
    rows = (
        access.follow_ups_visible_to(request.user)
        .filter(case=case, status__in=OPEN_STATUSES)
        .select_related("assignee")
        .order_by("due_on", "pk")[:50]
    )
    return render(request, "followups/case_panel.html", {"case": case, "rows": _annotate(list(rows), today)})


def _follow_up(request, pk):
    return get_object_or_404(
        access.follow_ups_visible_to(request.user).select_related("case__participant", "assignee"), pk=pk
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = _follow_up(request, pk)
    return render(request, "followups/detail.html", _detail_context(request, row))


def _detail_context(request, row, **forms_) -> dict:
    may_act = access.can_act_on_follow_up(request.user, row) and row.status in OPEN_STATUSES
    candidates = access.follow_up_reassign_candidates(request.user, row) if row.status in OPEN_STATUSES else None
    row.label = label_of(row.kind)
    return {
        "row": row,
        "may_act": may_act,
        "complete_form": forms_.get("complete") or CompleteForm(prefix="complete"),
        "snooze_form": forms_.get("snooze")
        or SnoozeForm(prefix="snooze", initial={"until": timezone.localdate() + datetime.timedelta(days=7)}),
        "reassign_form": forms_.get("reassign")
        or (
            ReassignForm(prefix="reassign", candidates=candidates)
            if candidates is not None and candidates.exists()
            else None
        ),
    }


@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    row = _follow_up(request, pk)
    if action == "reassign":
        candidates = access.follow_up_reassign_candidates(request.user, row)
        form = ReassignForm(request.POST, prefix="reassign", candidates=candidates)
        call = lambda data: followup_services.followup_reassign(follow_up=row, by=request.user, to=data["to"])  # noqa: E731
    elif action in ("complete", "snooze") and access.can_act_on_follow_up(request.user, row):
        if action == "complete":
            form = CompleteForm(request.POST, prefix="complete")
            call = lambda data: followup_services.followup_complete(follow_up=row, by=request.user, note=data["note"])  # noqa: E731
        else:
            form = SnoozeForm(request.POST, prefix="snooze")
            call = lambda data: followup_services.followup_snooze(  # noqa: E731
                follow_up=row, by=request.user, until=data["until"], reason=data["reason"]
            )
    else:
        raise Http404
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                {"complete": _("Marked done."), "snooze": _("Snoozed."), "reassign": _("Handed over.")}[action],
            )
            return redirect("follow-up-list")
    return render(request, "followups/detail.html", _detail_context(request, row, **{action: form}), status=400)


def notifications(request: HttpRequest) -> HttpResponse:
    rows = Notification.objects.filter(user=request.user).select_related("follow_up__case__participant")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for notification in page:
        # a notification without a follow-up (a monthly report) carries its own subject and link
        notification.label = (
            label_of(notification.follow_up.kind) if notification.follow_up_id else notification.subject
        )
    return render(request, "followups/notifications.html", {"page": page})


@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [int(i) for i in raw if i.isdecimal() and len(i) <= 18] if raw else None
    followup_services.notifications_mark_read(user=request.user, ids=ids)
    return redirect("notifications")


def notifications_count(request: HttpRequest) -> HttpResponse:
    """The bell's count, loaded after the page (so no page pays for it)."""
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return render(request, "followups/_bell.html", {"count": count})


urlpatterns = [
    path("follow-ups/", due_list, name="follow-up-list"),
    path("follow-ups/<int:pk>/", detail, name="follow-up-detail"),
    path("follow-ups/<int:pk>/<slug:action>/", act, name="follow-up-act"),
    path("cases/<int:case_id>/follow-ups/", case_follow_ups, name="case-follow-ups"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/read/", notifications_read, name="notifications-read"),
    path("notifications/count/", notifications_count, name="notifications-count"),
]
