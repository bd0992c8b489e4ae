"""Pages of the authority boundary.

Authority liaison: a home that lists only the cases with a current basis, a shared case page with
exactly the granted categories, legal events (with `legal status`), referrals of new persons and
their status, information requests, and the exceptional disclosures delivered to them.
NGO manager: the information requests to answer, exceptional disclosures to prepare and deliver;
the auditor or another manager approves them.
Every authority read appends disclosure rows (`shared_view.read_for_user`).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case as Choose
from django.db.models import IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import apply_errors
from accounts.models import Role

from . import access, boundary_services, shared_view
from .boundary_forms import (
    AuthorityLegalEventForm,
    AuthorityReferralForm,
    DisclosureForm,
    DisclosureRejectForm,
    GrantForm,
    InformationRequestForm,
    RefuseForm,
)
from .casefile import DataCategory, LegalEvent
from .casefile_views import register_case_links
from .models import LegalStatus, Stage

PAGE_SIZE = 25
LABELS = {
    "case_code": gettext_lazy("Case code"),
    "caseworker": gettext_lazy("Caseworker"),
    "given_name_latin": gettext_lazy("Given name (Latin script)"),
    "family_name_latin": gettext_lazy("Family name (Latin script)"),
    "given_name_arabic": gettext_lazy("Given name (Arabic script)"),
    "family_name_arabic": gettext_lazy("Family name (Arabic script)"),
    "city": gettext_lazy("City"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "national_id": gettext_lazy("National ID"),
    "legal_status": gettext_lazy("Legal status"),
    "stage": gettext_lazy("Program stage"),
    "stage_entered_on": gettext_lazy("In this stage since"),
    "next_review_on": gettext_lazy("Next review"),
    "risk_band": gettext_lazy("Risk band"),
    "risk_band_on": gettext_lazy("Risk band assessed on"),
    "placement": gettext_lazy("Current placement"),
}
CATEGORY_LABELS = dict(DataCategory.choices)
COMPLIANCE_LABELS = {
    "caseworker_contacts_planned": gettext_lazy("Caseworker contacts recorded"),
    "caseworker_contacts_held": gettext_lazy("Caseworker contacts held"),
    "mentoring_planned": gettext_lazy("Mentoring sessions planned"),
    "mentoring_attended": gettext_lazy("Mentoring sessions attended"),
    "counselling_planned": gettext_lazy("Counselling sessions planned"),
    "counselling_attended": gettext_lazy("Counselling sessions attended"),
}


def _display(row: dict) -> dict:
    """The projected row as labelled fields for the template (the keys are the contract)."""
    fields = []
    for key, value in row.items():
        if key not in LABELS or key == "case_code":
            continue
        if key == "caseworker":
            value = f"{value['name']} · {value['email']} · {value['organisation']}" if value else "—"
        elif key == "legal_status":
            value = LegalStatus(value).label
        elif key == "stage":
            value = Stage(value).label
        elif key == "placement":
            value = (
                f"{value['kind']} · {value['partner']} · {value['status']} · {value['started_on'] or '—'}"
                if value
                else _("None current")
            )
        fields.append((LABELS[key], value if value not in (None, "") else "—"))
    return {
        "row": row,
        "fields": fields,
        "categories": [CATEGORY_LABELS.get(c, c) for c in row.get("categories", [])],
        "legal_events": [{**e, "kind_label": LegalEvent.Kind(e["kind"]).label} for e in row.get("legal_events", [])]
        if "legal_events" in row
        else None,
        "compliance": row.get("compliance"),
        "compliance_measures": [
            COMPLIANCE_LABELS.get(k, k) for k in (row.get("compliance") or [{}])[0] if k != "month"
        ],
    }


def _authority_only(request: HttpRequest) -> None:
    if not access.is_authority(request.user):
        raise Http404


# --- Authority ---------------------------------------------------------------------------------------


def authority_home(request: HttpRequest) -> HttpResponse:
    """The authority's start page: shared cases (current basis only), its referrals, its requests."""
    _authority_only(request)
    user = request.user
    cases = access.shared_cases_for(user).select_related("participant__city").order_by("participant__case_code")
    query = request.GET.get("q", "").strip()[:40]
    if query:
        cases = cases.filter(participant__case_code__icontains=query)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = shared_view.read_for_user(request, list(page.object_list), view="authority-home", detail=False)
    referrals = list(
        access.authority_referrals_visible_to(user).select_related("case__participant").order_by("-submitted_at")[:20]
    )
    for referral in referrals:
        referral.status_label = boundary_services.referral_status(referral)
    return render(
        request,
        "authority/home.html",
        {
            "page": page,
            "rows": [_display(r) for r in rows],
            "query": query,
            "referrals": referrals,
            "requests": access.information_requests_visible_to(user).select_related("case__participant")[:20],
            "disclosures": access.exceptional_disclosures_visible_to(user).select_related("case__participant")[:20],
        },
    )


def shared_case(request: HttpRequest, case_id: int) -> HttpResponse:
    _authority_only(request)
    case = access.get_shared_case(request.user, case_id)
    row = shared_view.read_for_user(request, [case], view="authority-case", detail=True)[0]
    context = {
        "case": case,
        "shown": _display(row),
        "request_form": InformationRequestForm(prefix="request"),
    }
    if access.can_record_legal_events_as_authority(request.user, case):
        context["event_form"] = AuthorityLegalEventForm(prefix="event")
    return render(request, "authority/case.html", context)


@require_POST
def shared_case_legal_event(request: HttpRequest, case_id: int) -> HttpResponse:
    _authority_only(request)
    case = access.get_shared_case(request.user, case_id)
    if not access.can_record_legal_events_as_authority(request.user, case):
        raise Http404
    form = AuthorityLegalEventForm(request.POST, prefix="event")
    if form.is_valid():
        try:
            boundary_services.authority_legal_event(case=case, by=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Legal event recorded."))
            return redirect("shared-case", case.pk)
    row = shared_view.read_for_user(request, [case], view="authority-case", detail=True)[0]
    return render(
        request,
        "authority/case.html",
        {
            "case": case,
            "shown": _display(row),
            "event_form": form,
            "request_form": InformationRequestForm(prefix="request"),
        },
        status=400,
    )


@require_POST
def shared_case_request(request: HttpRequest, case_id: int) -> HttpResponse:
    _authority_only(request)
    case = access.get_shared_case(request.user, case_id)
    form = InformationRequestForm(request.POST, prefix="request")
    if form.is_valid():
        try:
            boundary_services.information_request_submit(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Request sent to the programme's manager."))
            return redirect("shared-case", case.pk)
    row = shared_view.read_for_user(request, [case], view="authority-case", detail=True)[0]
    context = {"case": case, "shown": _display(row), "request_form": form}
    if access.can_record_legal_events_as_authority(request.user, case):
        context["event_form"] = AuthorityLegalEventForm(prefix="event")
    return render(request, "authority/case.html", context, status=400)


def authority_referral_create(request: HttpRequest) -> HttpResponse:
    _authority_only(request)
    form = AuthorityReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = boundary_services.authority_referral_submit(by=request.user, **form.service_kwargs())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                _("Referral %(code)s sent; it is in the programme's intake queue.")
                % {"code": referral.case.participant.case_code},
            )
            return redirect("home")
    return render(request, "authority/referral_form.html", {"form": form}, status=400 if form.errors else 200)


def authority_disclosure(request: HttpRequest, pk: int) -> HttpResponse:
    """A delivered exceptional disclosure: the one snapshot, logged as read on that basis."""
    _authority_only(request)
    item = get_object_or_404(access.exceptional_disclosures_visible_to(request.user), pk=pk)
    snapshot = shared_view.read_delivered_disclosure(request, item, view="authority-disclosure")
    return render(request, "authority/disclosure.html", {"item": item, "shown": _display(snapshot)})


# --- NGO manager ---------------------------------------------------------------------------------------


def information_requests(request: HttpRequest) -> HttpResponse:
    if not access.has_role(request.user, Role.MANAGER):
        raise Http404
    rows = (
        access.information_requests_visible_to(request.user)
        .select_related("case__participant", "authority", "requested_by", "decided_by")
        .annotate(waiting=Choose(When(status="pending", then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("waiting", "-requested_at")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.category_labels = [CATEGORY_LABELS.get(c, c) for c in item.categories]
    return render(
        request,
        "authority/requests.html",
        {"page": page, "grant_form": GrantForm(prefix="grant"), "refuse_form": RefuseForm(prefix="refuse")},
    )


@require_POST
def information_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.has_role(request.user, Role.MANAGER):
        raise Http404
    item = get_object_or_404(access.information_requests_visible_to(request.user), pk=pk)
    grant = request.POST.get("decision") == "grant"
    form = GrantForm(request.POST, prefix="grant") if grant else RefuseForm(request.POST, prefix="refuse")
    if form.is_valid():
        try:
            if grant:
                boundary_services.information_request_grant(request=item, by=request.user, **form.cleaned_data)
            else:
                boundary_services.information_request_refuse(request=item, by=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [_("Not allowed.")])))
        else:
            messages.success(
                request, _("Consent recorded; the request is granted.") if grant else _("Request refused.")
            )
        return redirect("information-requests")
    messages.error(
        request, " ".join(f"{form.fields[n].label}: {e}" for n, errors in form.errors.items() for e in errors)
    )
    return redirect("information-requests")


def disclosures(request: HttpRequest) -> HttpResponse:
    if not access.has_role(request.user, Role.MANAGER, Role.AUDITOR):
        raise Http404
    rows = access.exceptional_disclosures_visible_to(request.user).select_related(
        "case__participant", "authority", "prepared_by", "approved_by", "delivered_by"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:
        item.can_approve = item.status == "prepared" and access.can_approve_disclosure(request.user, item)
        item.can_deliver = item.status == "approved" and access.is_manager_of(request.user, item.organisation_id)
        item.category_labels = [CATEGORY_LABELS.get(c, c) for c in item.categories]
    return render(request, "authority/disclosures.html", {"page": page, "reject_form": DisclosureRejectForm()})


@require_POST
def disclosure_act(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.has_role(request.user, Role.MANAGER, Role.AUDITOR):
        raise Http404
    item = get_object_or_404(access.exceptional_disclosures_visible_to(request.user), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "approve":
            boundary_services.disclosure_approve(disclosure=item, by=request.user)
            messages.success(request, _("Approved; the snapshot is taken. A manager records its delivery."))
        elif action == "reject":
            boundary_services.disclosure_reject(disclosure=item, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Disclosure rejected."))
        elif action == "deliver":
            boundary_services.disclosure_deliver(disclosure=item, by=request.user)
            messages.success(request, _("Delivery recorded; the authority now sees the snapshot."))
        else:
            raise Http404
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("disclosures")


def disclosure_prepare(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if access.viewer_kind(request.user, case) != access.MANAGER:
        raise Http404
    form = DisclosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            boundary_services.disclosure_prepare(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Disclosure prepared; the auditor or another manager must approve it."))
            return redirect("disclosures")
    return render(
        request, "authority/disclosure_form.html", {"case": case, "form": form}, status=400 if form.errors else 200
    )


@register_case_links
def _disclosure_link(user, case):
    if access.viewer_kind(user, case) == access.MANAGER and not case.is_read_only:
        return [(_("Exceptional disclosure"), reverse("disclosure-prepare", args=[case.pk]))]
    return []


urlpatterns = [
    path("shared/cases/<int:case_id>/", shared_case, name="shared-case"),
    path("shared/cases/<int:case_id>/legal-events/", shared_case_legal_event, name="shared-case-legal-event"),
    path("shared/cases/<int:case_id>/request/", shared_case_request, name="shared-case-request"),
    path("shared/referrals/new/", authority_referral_create, name="authority-referral-create"),
    path("shared/disclosures/<int:pk>/", authority_disclosure, name="authority-disclosure"),
    path("authority-requests/", information_requests, name="information-requests"),
    path("authority-requests/<int:pk>/decide/", information_request_decide, name="information-request-decide"),
    path("disclosures/", disclosures, name="disclosures"),
    path("disclosures/<int:pk>/act/", disclosure_act, name="disclosure-act"),
    path("cases/<int:case_id>/disclose/", disclosure_prepare, name="disclosure-prepare"),
]
