"""Placement pages: partner directory, opportunity board, placements, and the case's placement page.

Thin views: access from `casemgmt.access` (case-bound rows) and `placement_selectors` (the shared
registry), writes through `placement_services`. Out of scope is 404, as everywhere.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import apply_errors
from accounts.models import Organisation
from casemgmt import access
from casemgmt.access import G
from casemgmt.casefile import GoalDomain
from casemgmt.casefile_views import case_links, visible_sections
from casemgmt.reads import log_read, log_reads

from . import placement_selectors as sel
from . import placement_services as services
from .models import EmployabilityProfile, Opportunity, PlacementStatus
from .placement_forms import (
    BoardFilterForm,
    CheckInForm,
    EmployabilityForm,
    MoveForm,
    OpportunityForm,
    PartnerCreateForm,
    PartnerProfileForm,
    ProposeForm,
)

PAGE_SIZE = 25
GROUPS = frozenset({G.PLACEMENTS})


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_string(request: HttpRequest) -> str:
    """The filters of a list, for its pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _require(allowed: bool) -> None:
    if not allowed:
        raise Http404


def _case_context(request: HttpRequest, case) -> dict:
    return {
        "case": case,
        "sections": visible_sections(request.user, case),
        "case_links": case_links(request.user, case),
    }


def _service_errors(request: HttpRequest, error: ValidationError) -> None:
    """A service's refusal as a message, for actions posted from a page that is not their form."""
    if hasattr(error, "error_dict"):
        for errors in error.message_dict.values():
            for message in errors:
                messages.error(request, message)
    else:
        for message in error.messages:
            messages.error(request, message)


# --- Partners ------------------------------------------------------------------------------------


def partner_list(request: HttpRequest) -> HttpResponse:
    _require(sel.can_see_partners(request.user))
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    page = _page(request, sel.partner_list(request.user, q=q, kind=kind))
    return render(
        request,
        "programs/placements/partners.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "kinds": [(k, Organisation.Kind(k).label) for k in sel.PARTNER_KINDS],
            "qs": _query_string(request),
            "can_edit": sel.can_edit_partners(request.user),
        },
    )


def partner_create(request: HttpRequest) -> HttpResponse:
    _require(sel.can_edit_partners(request.user))
    form = PartnerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.partner_create(
                by=request.user,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                profile=form.profile_data(),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Partner added."))
            return redirect("partner-detail", profile.organisation_id)
    return render(
        request,
        "programs/placements/form.html",
        {"form": form, "title": _("Add a partner"), "back": reverse("partner-list")},
    )


def _partner(request: HttpRequest, pk: int) -> Organisation:
    return get_object_or_404(sel.partners_visible_to(request.user), pk=pk)


def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner(request, pk)
    profile = getattr(partner, "partner_profile", None)
    opportunities = sel.opportunities_visible_to(request.user).filter(partner=partner).order_by("-is_open", "-pk")
    return render(
        request,
        "programs/placements/partner_detail.html",
        {
            "partner": partner,
            "profile": profile,
            "opportunities": opportunities,
            "can_edit": sel.can_edit_partners(request.user),
        },
    )


def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    partner = _partner(request, pk)
    _require(sel.can_edit_partners(request.user))
    profile = getattr(partner, "partner_profile", None)
    form = PartnerProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.PARTNER_PROFILE_FIELDS}
        try:
            services.partner_profile_save(by=request.user, organisation=partner, data=data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("partner-detail", partner.pk)
    return render(
        request,
        "programs/placements/form.html",
        {
            "form": form,
            "title": _("Partner profile: %(name)s") % {"name": partner.name},
            "back": reverse("partner-detail", args=[partner.pk]),
        },
    )


# --- Opportunities -----------------------------------------------------------------------------------


def opportunity_board(request: HttpRequest) -> HttpResponse:
    _require(sel.can_see_partners(request.user))
    filters = BoardFilterForm(request.GET or {"is_open": "yes"})
    values = filters.cleaned_data if filters.is_valid() else {"is_open": "yes"}
    rows = sel.opportunity_board(
        request.user,
        is_open=values.get("is_open") or "yes",
        kind=values.get("kind", ""),
        city=values.get("city", ""),
        sector=values.get("sector", ""),
        q=(values.get("q") or "").strip()[:100],
    )
    return render(
        request,
        "programs/placements/board.html",
        {
            "page": _page(request, rows),
            "filters": filters,
            "qs": _query_string(request),
            "can_edit": sel.can_edit_partners(request.user),
        },
    )


def _opportunity(request: HttpRequest, pk: int) -> Opportunity:
    return get_object_or_404(sel.opportunities_visible_to(request.user), pk=pk)


def opportunity_create(request: HttpRequest) -> HttpResponse:
    _require(sel.can_edit_partners(request.user))
    initial = {}
    if request.GET.get("partner", "").isdigit():
        initial["partner"] = int(request.GET["partner"])
    form = OpportunityForm(request.POST or None, partners=sel.partners_visible_to(request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(by=request.user, data=form.data_for_service())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Opportunity published."))
            return redirect("opportunity-detail", opportunity.pk)
    return render(
        request,
        "programs/placements/form.html",
        {"form": form, "title": _("New opportunity"), "back": reverse("opportunity-board")},
    )


def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    _require(sel.can_edit_partners(request.user))
    form = OpportunityForm(request.POST or None, instance=opportunity, partners=sel.partners_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(by=request.user, opportunity=opportunity, data=form.data_for_service())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("opportunity-detail", opportunity.pk)
    return render(
        request,
        "programs/placements/form.html",
        {
            "form": form,
            "title": _("Edit: %(title)s") % {"title": opportunity.title},
            "back": reverse("opportunity-detail", args=[opportunity.pk]),
        },
    )


def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    candidates = sel.candidates_for_opportunity(request.user, opportunity) if opportunity.is_open else []
    # only the caller's own placements with this opportunity: other NGOs' participants stay invisible
    placements = (
        access.records_visible_to(request.user, "placement")
        .filter(opportunity=opportunity)
        .select_related("case__participant")
    )
    placements = list(placements)
    # the candidates' names and employability data are reads of their cases too
    shown = [p.case_id for p in placements] + [c.obj.pk for c in candidates]
    log_reads(request, shown, view="opportunity-detail", groups=GROUPS)
    return render(
        request,
        "programs/placements/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "candidates": candidates,
            "placements": placements,
            "can_edit": sel.can_edit_partners(request.user),
        },
    )


# --- Placements --------------------------------------------------------------------------------------


def placement_list(request: HttpRequest) -> HttpResponse:
    _require(sel.can_see_placement_list(request.user))
    status = request.GET.get("status", "live")
    page = _page(request, sel.placement_list(request.user, status=status))
    log_reads(request, [p.case_id for p in page], view="placement-list", groups=GROUPS)
    rows = [(p, sel.next_check_in_shown(p)) for p in page]
    return render(
        request,
        "programs/placements/list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": [("live", _("Under way")), ("", _("All")), *PlacementStatus.choices],
            "qs": _query_string(request),
        },
    )


def _placement(request: HttpRequest, pk: int):
    placement = get_object_or_404(
        access.records_visible_to(request.user, "placement").select_related("opportunity__partner", "recorded_by"),
        pk=pk,
    )
    case = access.get_case_for_user(request.user, placement.case_id)  # the viewer kind, for the write check
    return placement, case


def placement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    placement, case = _placement(request, pk)
    can_write = access.can_write_record(request.user, case, "placement", placement)
    check_ins = access.case_records_visible_to(request.user, case, "placement_check_in").filter(placement=placement)
    check_ins = check_ins.select_related("recorded_by")
    check_ins = list(check_ins)
    log_read(request, case, view="placement-detail", groups=GROUPS)
    allowed = placement.allowed_transitions()
    return render(
        request,
        "programs/placements/detail.html",
        {
            **_case_context(request, case),
            "placement": placement,
            "check_ins": [
                (c, CheckInForm(prefix=f"ci{c.pk}") if can_write and placement.started_on else None) for c in check_ins
            ],
            # the next check-in to record opens; the later ones stay folded
            "next_check_in": next((c.pk for c in check_ins if c.recorded_on is None), None),
            "can_write": can_write,
            "move_form": MoveForm(allowed=allowed) if can_write and allowed else None,
        },
    )


@require_POST
def placement_move(request: HttpRequest, pk: int) -> HttpResponse:
    placement, case = _placement(request, pk)
    _require(access.can_write_record(request.user, case, "placement", placement))
    form = MoveForm(request.POST, allowed=PlacementStatus.values)
    if form.is_valid():
        try:
            moved = services.placement_move(
                by=request.user,
                placement=placement,
                to_status=form.cleaned_data["to_status"],
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
                outcome=form.outcome(),
            )
        except ValidationError as error:
            _service_errors(request, error)
        else:
            messages.success(request, _("The placement is now “%(status)s”.") % {"status": moved.get_status_display()})
    else:
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}" if name in form.fields else error)
    return redirect("placement-detail", placement.pk)


@require_POST
def check_in_record(request: HttpRequest, pk: int, check_in_pk: int) -> HttpResponse:
    placement, case = _placement(request, pk)
    _require(access.can_write_record(request.user, case, "placement_check_in"))
    check_in = get_object_or_404(
        access.case_records_visible_to(request.user, case, "placement_check_in"), pk=check_in_pk, placement=placement
    )
    form = CheckInForm(request.POST, prefix=f"ci{check_in.pk}")
    if form.is_valid():
        try:
            services.check_in_record(
                by=request.user,
                check_in=check_in,
                recorded_on=form.cleaned_data["recorded_on"],
                data=form.data_for_service(),
            )
        except ValidationError as error:
            _service_errors(request, error)
        else:
            messages.success(request, _("%(day)s-day check-in recorded.") % {"day": check_in.day})
    else:
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}" if name in form.fields else error)
    return redirect("placement-detail", placement.pk)


# --- The case's placement page -------------------------------------------------------------------------


def _case(request: HttpRequest, case_id: int):
    case = access.get_case_for_user(request.user, case_id)
    _require(G.PLACEMENTS in access.visible_groups(request.user, case))
    return case


def case_placements(request: HttpRequest, case_id: int) -> HttpResponse:
    """Employability profile, matching opportunities, placements and the education/employment goals."""
    case = _case(request, case_id)
    user = request.user
    can_write = access.can_write_record(user, case, "placement")
    profile = access.case_records_visible_to(user, case, "employability").first()
    placements = access.case_records_visible_to(user, case, "placement").select_related("opportunity__partner")
    goals = (
        access.case_records_visible_to(user, case, "goal")
        .filter(domain__in=[GoalDomain.EDUCATION, GoalDomain.EMPLOYMENT])
        .select_related("owner")
    )
    matches = sel.opportunities_for_case(user, case) if can_write else []
    log_read(request, case, view="case-placements", groups=GROUPS)
    return render(
        request,
        "programs/placements/case.html",
        {
            **_case_context(request, case),
            "profile": profile,
            "placements": placements,
            "goals": goals,
            "matches": matches,
            "can_write": can_write,
            "propose_form": ProposeForm(opportunities=Opportunity.objects.none()) if can_write else None,
        },
    )


def employability_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    _require(access.can_write_record(request.user, case, "employability"))
    profile = EmployabilityProfile.objects.filter(case=case).first()
    form = EmployabilityForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.employability_save(by=request.user, case=case, data=form.data_for_service())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Employability profile saved."))
            return redirect("case-placements", case.pk)
    log_read(request, case, view="employability-edit", groups=GROUPS)
    return render(
        request,
        "programs/placements/form.html",
        {
            **_case_context(request, case),
            "form": form,
            "title": _("Employability profile"),
            "back": reverse("case-placements", args=[case.pk]),
        },
    )


@require_POST
def placement_propose(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    _require(access.can_write_record(request.user, case, "placement"))
    form = ProposeForm(request.POST, opportunities=sel.opportunities_visible_to(request.user))
    if form.is_valid():
        try:
            placement = services.placement_propose(
                by=request.user,
                case=case,
                opportunity=form.cleaned_data["opportunity"],
                proposed_on=form.cleaned_data["proposed_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _service_errors(request, error)
        else:
            messages.success(request, _("Placement proposed."))
            return redirect("placement-detail", placement.pk)
    else:
        for name, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[name].label}: {error}" if name in form.fields else error)
    back = request.POST.get("from_opportunity", "")
    if back.isdigit():  # proposed from the opportunity's candidate list
        return redirect("opportunity-detail", int(back))
    return redirect("case-placements", case.pk)


urlpatterns = [
    path("placements/", placement_list, name="placement-list"),
    path("placements/<int:pk>/", placement_detail, name="placement-detail"),
    path("placements/<int:pk>/move/", placement_move, name="placement-move"),
    path("placements/<int:pk>/check-ins/<int:check_in_pk>/", check_in_record, name="check-in-record"),
    path("placements/partners/", partner_list, name="partner-list"),
    path("placements/partners/new/", partner_create, name="partner-create"),
    path("placements/partners/<int:pk>/", partner_detail, name="partner-detail"),
    path("placements/partners/<int:pk>/edit/", partner_edit, name="partner-edit"),
    path("placements/opportunities/", opportunity_board, name="opportunity-board"),
    path("placements/opportunities/new/", opportunity_create, name="opportunity-create"),
    path("placements/opportunities/<int:pk>/", opportunity_detail, name="opportunity-detail"),
    path("placements/opportunities/<int:pk>/edit/", opportunity_edit, name="opportunity-edit"),
    path("placements/cases/<int:case_id>/", case_placements, name="case-placements"),
    path("placements/cases/<int:case_id>/employability/", employability_edit, name="employability-edit"),
    path("placements/cases/<int:case_id>/propose/", placement_propose, name="placement-propose"),
]
