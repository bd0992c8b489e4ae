"""Case pages: thin views over access, selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import apply_errors
from dbengine import prepared

from . import access, selectors, services, timeline
from .access import G
from .casefile import Assessment
from .forms import (
    CaseFilterForm,
    CaseOpenForm,
    CaseProfileForm,
    CloseForm,
    ExitForm,
    ReopenForm,
    ScreeningForm,
    StageForm,
    TeamAddForm,
    TransferForm,
)
from .models import REOPENABLE, CaseTeamMember, Stage, TeamRole
from .reads import log_read

# What templates/cases/list.html shows of a row (its lead comes from the list's annotations): nothing
# else of the participant (identity, contact: encrypted or not) is fetched or decrypted for the list.
LIST_COLUMNS = (
    "stage",
    "referral_source",
    "referral_date",
    "participant__case_code",
    "participant__given_name_latin",
    "participant__family_name_latin",
    "participant__given_name_arabic",
    "participant__family_name_arabic",
    "participant__city__name",
    "organisation__name",
)


def case_list(request: HttpRequest) -> HttpResponse:
    allowed = access.allowed_list_filters(request.user)
    form = CaseFilterForm(request.GET or None, leads=access.lead_choices(request.user), allowed=allowed)
    filters = form.cleaned_data if form.is_valid() else {}
    cases = selectors.case_list(
        user=request.user,
        query=filters.get("q") or "",
        stage=filters.get("stage") or "",
        city=filters.get("city") or "",
        referral_source=filters.get("referral_source") or "",
        lead=filters.get("lead"),
        risk_band=filters.get("risk_band") or "",
        overdue=bool(filters.get("overdue")),
        sort=filters.get("sort") or selectors.DEFAULT_SORT,
        columns=LIST_COLUMNS,
        lead_columns=("name",),  # the row shows the lead's name only
    )
    page = Paginator(cases, 25).get_page(request.GET.get("page"))
    rows = [(case, _list_row(case, access.visible_groups(request.user, case))) for case in page.object_list]
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "querystring": querystring.urlencode(),
        "can_open": access.can_open_case(request.user),
        "filtered": any(
            filters.get(k) for k in ("q", "stage", "city", "referral_source", "lead", "risk_band", "overdue")
        ),
        "saved_searches": access.saved_searches_of(request.user),
    }
    template = "cases/list.html#results" if request.htmx else "cases/list.html"
    return render(request, template, context)


def _list_row(case, groups: frozenset[str]) -> dict:
    """The cells of one row of the case list, each only where the viewer's groups on that case show it
    (`access.visible_groups`). Plain values: the template reads dictionary keys, which Django's
    templates look up first, instead of trying each model attribute as a key before it (a tenth of
    the page's rendering)."""
    participant = case.participant
    names = G.NAMES in groups
    referral = G.REFERRAL in groups
    return {
        "url": case.get_absolute_url(),
        "code": participant.case_code,
        "name_latin": participant.name_latin if names else "",
        "name_arabic": participant.name_arabic if names else "",
        "city": participant.city.name if names else "",
        "stage": case.get_stage_display(),
        "lead": case.lead_name,
        "referral_source": case.get_referral_source_display() if referral else "",
        "referral_date": case.referral_date if referral else None,
    }


SAVED_SEARCH_KEYS = {"q", "stage", "city", "referral_source", "lead", "risk_band", "overdue", "sort"}


@require_POST
def saved_search_create(request: HttpRequest) -> HttpResponse:
    """Keep the current list filters under a name, for this user only."""
    if not access.can_see_case_pages(request.user):
        raise Http404
    name = request.POST.get("name", "")
    # only the list's own filters are kept
    kept = QueryDict(request.POST.get("querystring", ""), mutable=True)
    for key in list(kept):
        if key not in SAVED_SEARCH_KEYS:
            del kept[key]
    querystring = kept.urlencode()[:500]
    try:
        search = services.saved_search_save(by=request.user, name=name, querystring=querystring)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Search “%(name)s” saved.") % {"name": search.name})
    return redirect(f"{reverse('case-list')}?{querystring}")


@require_POST
def saved_search_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.saved_search_delete(
        search=get_object_or_404(access.saved_searches_of(request.user), pk=pk), by=request.user
    )
    messages.success(request, _("Saved search removed."))
    return redirect("case-list")


def case_open(request: HttpRequest) -> HttpResponse:
    if not access.can_open_case(request.user):
        raise Http404
    form = CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(
                by=request.user,
                organisation=request.user.membership.organisation,
                participant=form.participant_data(),
                lead=request.user if request.user.role == "caseworker" else None,
                **form.referral_data(),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Case %(code)s opened.") % {"code": case.participant.case_code})
            return redirect(case)
    return render(request, "cases/open.html", {"form": form})


def _detail_context(request: HttpRequest, case) -> dict:
    user = request.user
    groups = access.visible_groups(user, case)
    context = {
        "case": case,
        "participant": case.participant,
        "groups": groups,
        "can_edit": bool(access.editable_groups(user, case)),
        "can_move": access.can_move_stage(user, case),
        "can_see_history": access.can_see_history(user, case),
        "kind": access.viewer_kind(user, case),
    }
    context.update(_team_context(request, case))
    if context["can_move"]:
        context["stage_form"] = StageForm(case=case)
        context["reopen_form"] = ReopenForm(prefix="reopen") if case.stage in REOPENABLE else None
        # the exit and transfer forms load when opened (case_form below): they are most of a page's widgets
        context["can_exit"] = case.stage in (Stage.ACTIVE, Stage.REVIEW)
        if case.stage == Stage.EXITED:
            context["close_form"] = CloseForm(prefix="close")
    context["can_transfer"] = access.can_request_transfer(user, case)
    # the receiving organisation's name, from the case's query (get_case_for_user(with_pending_transfer=True))
    context["pending_transfer_to"] = case.pending_transfer_to
    context["stage_changes"] = case.stage_changes.select_related("changed_by")[:5] if "stage" in groups else []
    context["sections"] = visible_sections(user, case)
    context["case_links"] = _case_links(user, case)
    if G.SAFETY in groups:
        context["flags"] = access.case_records_visible_to(user, case, "safety_flag").filter(active=True)
    if G.RISK in groups:
        context["risk"] = latest_band(case)
    if context["can_move"] and case.stage == Stage.SCREENING:
        # In screening the case moves by recording the screening, not by a bare stage move.
        context["screening_form"] = ScreeningForm(prefix="screen", initial={"first_contact_date": timezone.localdate()})
        context["stage_form"] = None
    context["stage_reasons"] = access.stage_reasons_visible(user, case)
    # the case's own rows, read by its key: prepared statements (dbengine), planned once per connection
    with prepared():
        for name in ("team", "stage_changes", "flags"):
            if name in context:
                context[name] = list(context[name])
    return context


def latest_band(case) -> Assessment | None:
    """The band and date of the case's latest assessment, from the case row's own summary of its
    assessments (kept by `casefile_services.assessment_record`, the only writer of assessments): no
    query. Shown where the viewer sees the risk group, the same roles that read the assessments."""
    if not case.latest_risk_band:
        return None
    return Assessment(case=case, risk_band=case.latest_risk_band, assessed_on=case.latest_assessed_on)


def visible_sections(user, case):
    from .casefile_views import visible_sections as sections

    return sections(user, case)


def _case_links(user, case):
    from .casefile_views import case_links

    return case_links(user, case)


def _team_context(request: HttpRequest, case, form=None) -> dict:
    """The team panel; the add form itself loads on demand (case_form), unless it comes back with errors."""
    can_manage = access.can_manage_team(request.user, case)
    return {
        "team": selectors.case_team(case) if "team" in access.visible_groups(request.user, case) else [],
        "can_manage_team": can_manage,
        "team_form": form,
        "case": case,
    }


FORMS = {
    "team": (
        access.can_manage_team,
        lambda request, case: TeamAddForm(candidates=access.team_candidates(request.user, case)),
    ),
    "exit": (
        lambda user, case: access.can_move_stage(user, case) and case.stage in (Stage.ACTIVE, Stage.REVIEW),
        lambda request, case: ExitForm(prefix="exit", initial={"exited_on": timezone.localdate()}),
    ),
    "transfer": (
        access.can_request_transfer,
        lambda request, case: TransferForm(
            prefix="transfer", case=case, consents=access.records_visible_to(request.user, "consent").filter(case=case)
        ),
    ),
}


def case_form(request: HttpRequest, case_id: int, which: str) -> HttpResponse:
    """One of the case page's action forms, loaded when the user opens it (a page of its own without JS)."""
    case = access.get_case_for_user(request.user, case_id)
    allowed, build = FORMS.get(which, (None, None))
    if allowed is None or not allowed(request.user, case):
        raise Http404
    context = {"case": case, "which": which, "form": build(request, case)}
    template = "cases/case_form.html#form" if request.htmx else "cases/case_form.html"
    return render(request, template, context)


def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id, with_pending_transfer=True)
    context = _detail_context(request, case)
    log_read(request, case, view="case-detail", groups=context["groups"])
    return render(request, "cases/detail.html", context)


def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    editable = access.editable_groups(request.user, case)
    if not editable:
        raise Http404
    participant = case.participant
    initial = {name: getattr(participant, name) for name in services.PARTICIPANT_FIELDS}
    initial.update({name: getattr(case, name) for name in services.CASE_FIELDS})
    form = CaseProfileForm(request.POST or None, initial=initial, editable_groups=editable)
    log_read(request, case, view="case-edit")  # the form shows the current values
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if value != initial.get(name)}
        try:
            services.case_profile_update(case=case, by=request.user, changes=changes)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(case)
    return render(request, "cases/edit.html", {"form": form, "case": case})


@require_POST
def case_move(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id, with_pending_transfer=True)
    if not access.can_move_stage(request.user, case):
        raise Http404
    form = StageForm(request.POST, case=case)
    if form.is_valid():
        try:
            services.case_move_stage(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The case moved to “%(stage)s”.") % {"stage": case.get_stage_display()})
            return redirect(case)
    context = _detail_context(request, case)
    context["stage_form"] = form
    log_read(request, case, view="case-detail", groups=context["groups"])
    return render(request, "cases/detail.html", context, status=400)


@require_POST
def case_reopen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id, with_pending_transfer=True)
    if not access.can_move_stage(request.user, case):
        raise Http404
    form = ReopenForm(request.POST, prefix="reopen")
    if form.is_valid():
        try:
            services.case_reopen(case=case, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The case was re-opened in “%(stage)s”.") % {"stage": case.get_stage_display()})
            return redirect(case)
    context = _detail_context(request, case)
    context["reopen_form"] = form
    log_read(request, case, view="case-detail", groups=context["groups"])
    return render(request, "cases/detail.html", context, status=400)


def _team_response(request: HttpRequest, case, form=None, status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "cases/detail.html#team-panel", _team_context(request, case, form), status=status)
    return redirect(case)


@require_POST
def team_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_manage_team(request.user, case):
        raise Http404
    form = TeamAddForm(request.POST, candidates=access.team_candidates(request.user, case))
    if form.is_valid():
        user = form.cleaned_data["user"]
        try:
            if form.cleaned_data["make_lead"]:
                services.team_set_lead(case=case, by=request.user, user=user)
            else:
                services.team_member_add(case=case, by=request.user, user=user, role=TeamRole(form.team_role()))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(name)s joined the team.") % {"name": user.get_full_name()})
            return _team_response(request, case)
    if not request.htmx:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _team_response(request, case, form, status=400)


@require_POST
def team_remove(request: HttpRequest, case_id: int, member_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_manage_team(request.user, case):
        raise Http404
    member = get_object_or_404(CaseTeamMember.objects.select_related("user", "case"), pk=member_id, case=case)
    try:
        services.team_member_remove(member=member, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s left the team.") % {"name": member.user.get_full_name()})
    return _team_response(request, case)


def case_history(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_see_history(request.user, case):
        raise Http404
    groups = access.visible_groups(request.user, case)
    entries = selectors.case_history(case=case, groups=groups, user=request.user)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    reads = Paginator(access.case_reads(request.user, case).select_related("user", "organisation"), 50).get_page(
        request.GET.get("reads")
    )
    log_read(request, case, view="case-history", groups=groups)
    return render(request, "cases/history.html", {"case": case, "page": page, "reads": reads})


def case_timeline(request: HttpRequest, case_id: int) -> HttpResponse:
    """Everything that happened on the case, newest first, as far as the viewer may see it."""
    case = access.get_case_for_user(request.user, case_id)
    raw = request.GET.get("page", "1")
    page = int(raw) if raw.isdecimal() and len(raw) <= 5 else 1
    size = 50
    events = timeline.case_timeline(request.user, case, offset=(page - 1) * size, limit=size + 1)
    log_read(request, case, view="case-timeline")
    return render(
        request,
        "cases/timeline.html",
        {
            "case": case,
            "events": events[:size],
            "page": page,
            "has_next": len(events) > size,
            "sections": visible_sections(request.user, case),
        },
    )


urlpatterns = [
    path("cases/", case_list, name="case-list"),
    path("cases/new/", case_open, name="case-open"),
    path("cases/saved-searches/", saved_search_create, name="saved-search-create"),
    path("cases/saved-searches/<int:pk>/delete/", saved_search_delete, name="saved-search-delete"),
    path("cases/<int:case_id>/", case_detail, name="case-detail"),
    path("cases/<int:case_id>/edit/", case_edit, name="case-edit"),
    path("cases/<int:case_id>/move/", case_move, name="case-move"),
    path("cases/<int:case_id>/reopen/", case_reopen, name="case-reopen"),
    path("cases/<int:case_id>/team/", team_add, name="case-team-add"),
    path("cases/<int:case_id>/team/<int:member_id>/remove/", team_remove, name="case-team-remove"),
    path("cases/<int:case_id>/history/", case_history, name="case-history"),
    path("cases/<int:case_id>/timeline/", case_timeline, name="case-timeline"),
    path("cases/<int:case_id>/forms/<slug:which>/", case_form, name="case-form"),
]
