"""Data-subject rights pages: the lead's export (request, download as JSON, printable page), the
manager's approvals, and the manager's retention review of closed cases."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import StyledForm
from accounts.models import Role

from . import access, retention, subject_export
from .dpo_models import RetentionReview, SubjectExportRequest


def _lead_case(request: HttpRequest, case_id: int):
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_request_subject_export(request.user, case):
        raise Http404
    return case


def case_exports(request: HttpRequest, case_id: int) -> HttpResponse:
    """The lead's page for one case: past requests and a button to ask for a new export."""
    case = _lead_case(request, case_id)
    if request.method == "POST":
        try:
            subject_export.subject_export_request(case=case, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Export requested; a manager will approve it."))
        return redirect("subject-export-case", case.pk)
    exports = case.subject_exports.select_related("requested_by", "decided_by")[:20]
    return render(request, "subject_export/case.html", {"case": case, "exports": exports})


def export_list(request: HttpRequest) -> HttpResponse:
    """A manager's requests to decide (and the decided ones); a lead's own requests."""
    exports = access.subject_exports_visible_to(request.user)
    if not access.has_role(request.user, Role.MANAGER, Role.CASEWORKER):
        raise Http404
    exports = exports.select_related("case__participant", "requested_by", "decided_by").order_by(
        "-status", "-requested_at", "-pk"
    )
    # the participant row is joined for the case code only (the template shows nothing else)
    page = Paginator(
        exports.only(
            "pk",
            "status",
            "requested_at",
            "decided_at",
            "downloads",
            "case__id",
            "case__participant__case_code",
            "requested_by__first_name",
            "requested_by__last_name",
            "requested_by__username",
            "decided_by__first_name",
            "decided_by__last_name",
            "decided_by__username",
        ),
        50,
    ).get_page(request.GET.get("page"))
    context = {"page": page, "is_manager": request.user.role == Role.MANAGER}
    return render(request, "subject_export/list.html", context)


@require_POST
def export_decide(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(access.subject_exports_visible_to(request.user).select_related("case"), pk=pk)
    if not access.can_decide_subject_export(request.user, export):
        raise Http404
    decision = request.POST.get("decision")
    if decision not in ("approve", "refuse"):
        messages.error(request, _("Choose approve or refuse."))
        return redirect("subject-export-list")
    try:
        subject_export.subject_export_decide(export=export, by=request.user, approve=decision == "approve")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("subject-export-list")


def _approved_for_lead(request: HttpRequest, pk: int) -> SubjectExportRequest:
    export = get_object_or_404(access.subject_exports_visible_to(request.user), pk=pk)
    _lead_case(request, export.case_id)
    if export.status != SubjectExportRequest.Status.APPROVED:
        raise Http404
    return export


def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The approved export as JSON, for the lead; logged as a read of the case."""
    export = _approved_for_lead(request, pk)
    data = subject_export.subject_export_produce(export=export, by=request.user, channel="ui", view="subject-export")
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    code = data["export"]["case_code"]
    response["Content-Disposition"] = f'attachment; filename="subject-export-{code}.json"'
    response["Cache-Control"] = "no-store"
    return response


def export_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The same export as a printable page."""
    export = _approved_for_lead(request, pk)
    data = subject_export.subject_export_produce(export=export, by=request.user, channel="ui", view="subject-print")
    sections = [(key.replace("_", " ").capitalize(), value) for key, value in data.items() if key != "export"]
    response = render(request, "subject_export/print.html", {"header": data["export"], "sections": sections})
    response["Cache-Control"] = "no-store"
    return response


# --- Retention review (managers) -------------------------------------------------------------


class ConfirmForm(StyledForm):
    reviews = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Cases"), queryset=RetentionReview.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I confirm: these cases will be pseudonymised; this cannot be undone."), required=False
    )

    def __init__(self, *args, reviews, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviews"].queryset = reviews
        self.fields["reviews"].error_messages["required"] = _("Choose at least one case.")


def _reviews(request: HttpRequest):
    if not access.has_role(request.user, Role.MANAGER):
        raise Http404
    return access.retention_reviews_visible_to(request.user)


def retention_list(request: HttpRequest) -> HttpResponse:
    """Closed cases past the retention period, to confirm one by one or several at once."""
    reviews = (
        _reviews(request)
        .select_related("case__participant", "confirmed_by")
        .only(
            "pk",
            "status",
            "due_on",
            "listed_at",
            "confirmed_at",
            "pseudonymised_at",
            "case__id",
            "case__closed_on",
            "case__participant__case_code",
            "confirmed_by__first_name",
            "confirmed_by__last_name",
            "confirmed_by__username",
        )
    )
    status = request.GET.get("status", RetentionReview.Status.LISTED)
    if status not in RetentionReview.Status.values:
        status = RetentionReview.Status.LISTED
    page = Paginator(reviews.filter(status=status), 50).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "statuses": RetentionReview.Status.choices}
    return render(request, "subject_export/retention.html", context)


def retention_confirm(request: HttpRequest) -> HttpResponse:
    """Two steps: the chosen cases are shown again with a confirmation box; only then recorded."""
    listed = _reviews(request).filter(status=RetentionReview.Status.LISTED).select_related("case__participant")
    if request.method != "POST":
        return redirect("retention-list")
    form = ConfirmForm(request.POST, reviews=listed)
    if form.is_valid() and form.cleaned_data["confirm"]:
        try:
            count = retention.reviews_confirm(reviews=form.cleaned_data["reviews"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(n)d case(s) confirmed for pseudonymisation.") % {"n": count})
            return redirect("retention-list")
    elif form.is_valid() and request.POST.get("step") == "confirm":
        form.add_error("confirm", _("Tick the box to confirm."))
    status = 400 if form.errors else 200
    return render(request, "subject_export/retention_confirm.html", {"form": form}, status=status)


urlpatterns = [
    path("cases/<int:case_id>/subject-export/", case_exports, name="subject-export-case"),
    path("subject-exports/", export_list, name="subject-export-list"),
    path("subject-exports/<int:pk>/decide/", export_decide, name="subject-export-decide"),
    path("subject-exports/<int:pk>/download.json", export_download, name="subject-export-download"),
    path("subject-exports/<int:pk>/print/", export_print, name="subject-export-print"),
    path("retention/", retention_list, name="retention-list"),
    path("retention/confirm/", retention_confirm, name="retention-confirm"),
]
