"""Case-file pages: one set of generic views for the row kinds, plus assessments, goals,
screening, attachments and the intake queue."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import apply_errors

from . import access, casefile_services
from .casefile import Assessment, AssessmentTemplate
from .casefile_forms import AssessmentForm, AttachmentForm, GoalProgressForm, record_form_class
from .casefile_services import POST_EXIT_FIELDS
from .forms import CloseForm, ExitForm, OutcomeRecordForm, ScreeningForm, TransferForm
from .reads import file_response, log_read


@dataclass(frozen=True)
class Section:
    key: str
    slug: str
    title: str
    columns: tuple[str, ...]  # model field names shown in the list
    creatable: bool = True  # outcomes are made by the exit, not added by hand


SECTIONS = [
    Section("safety_flag", "safety-flags", gettext_lazy("Safety flags"), ("kind", "note", "active")),
    Section("goal", "goals", gettext_lazy("Reintegration plan"), ("domain", "title", "owner", "target_date", "status")),
    Section(
        "note",
        "notes",
        gettext_lazy("Notes and contacts"),
        ("date", "kind", "held", "visibility", "participants", "recorded_by"),
    ),
    Section("assessment", "assessments", gettext_lazy("Assessments"), ("assessed_on", "risk_band", "recorded_by")),
    Section("legal_event", "legal-events", gettext_lazy("Legal events"), ("date", "kind", "description")),
    Section("relapse_event", "relapse-events", gettext_lazy("Relapse events"), ("date", "kind", "description")),
    Section(
        "conflict_history",
        "conflict-history",
        gettext_lazy("Travel and conflict history"),
        ("country", "from_date", "to_date", "group_affiliation", "role"),
    ),
    Section(
        "consent",
        "consents",
        gettext_lazy("Consents"),
        ("purpose", "recipient", "categories", "given_on", "expires_on", "withdrawn_on"),
    ),
    Section(
        "mandate",
        "mandates",
        gettext_lazy("Legal mandates"),
        ("kind", "reference", "authority", "starts_on", "ends_on", "revoked_on"),
    ),
    Section(
        "service_referral",
        "service-referrals",
        gettext_lazy("Service referrals"),
        ("kind", "provider", "referred_on", "status", "goal"),
    ),
    Section(
        "outcome",
        "outcomes",
        gettext_lazy("Outcomes"),
        ("kind", "episode", "due_on", "recorded_on", "employment"),
        creatable=False,
    ),
]
BY_SLUG = {s.slug: s for s in SECTIONS}
# Case pages of the apps to the right, registered in their AppConfig.ready(): (user, case) -> [(label, url)].
CASE_LINK_SOURCES: list = []


def register_case_links(source):
    CASE_LINK_SOURCES.append(source)
    return source


def case_links(user, case) -> list[tuple[str, str]]:
    """Links to the registered case pages the viewer may open, after the case-file sections."""
    return [link for source in CASE_LINK_SOURCES for link in source(user, case)] + _subject_export_link(user, case)


def _subject_export_link(user, case) -> list[tuple[str, str]]:
    """The lead's data-subject export (issue 10), last in the navigation."""
    if not access.can_request_subject_export(user, case):
        return []
    return [(_("Data-subject export"), reverse("subject-export-case", args=[case.pk]))]


# Rows of the apps to the right shown under a case-file row (placements under an employment goal):
# key -> [(user, case, record) -> [(label, url)]], registered in their AppConfig.ready().
RECORD_LINK_SOURCES: dict[str, list] = {}


def register_record_links(key: str):
    """Decorator: add a source of links shown under rows of one kind."""

    def decorate(source):
        RECORD_LINK_SOURCES.setdefault(key, []).append(source)
        return source

    return decorate


def _render(request, template: str, context: dict, status: int | None = None) -> HttpResponse:
    """Every case-file page carries the section navigation of the viewer."""
    if "case" in context and "sections" not in context:
        context["sections"] = visible_sections(request.user, context["case"])
    if "case" in context and "case_links" not in context:
        context["case_links"] = case_links(request.user, context["case"])
    return render(request, template, context, status=status)


def _section(slug: str) -> Section:
    section = BY_SLUG.get(slug)
    if section is None:
        raise Http404
    return section


def visible_sections(user, case) -> list[Section]:
    groups = access.visible_groups(user, case)
    return [s for s in SECTIONS if access.RECORD_RULES[s.key].opened_by(groups)]


def _case_and_section(request, case_id: int, slug: str):
    case = access.get_case_for_user(request.user, case_id)
    section = _section(slug)
    if section not in visible_sections(request.user, case):
        raise Http404
    return case, section


def _cell(record, name: str):
    field = record._meta.get_field(name)
    if getattr(field, "choices", None) and not field.many_to_one:
        return getattr(record, f"get_{name}_display")()
    value = getattr(record, name)
    if isinstance(value, list):
        labels = dict(field.base_field.choices or []) if hasattr(field, "base_field") else {}
        return ", ".join(str(labels.get(v, v)) for v in value)
    if name == "recorded_by" or name == "owner":
        return value.get_full_name() if value else ""
    return value


def _form_action(request: HttpRequest, form, apply, success, back) -> HttpResponse:
    """A POSTed form on the case page: run the service, say what happened, go back to the page.

    Field errors (from the form or the service) come back as one message, since the form lives
    inside the case page rather than on a page of its own."""
    if form.is_valid():
        try:
            apply(form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, success())
            return redirect(back)
    messages.error(
        request,
        " ".join(
            f"{form.fields[name].label}: {e}" if name in form.fields else str(e)
            for name, errors in form.errors.items()
            for e in errors
        ),
    )
    return redirect(back)


def record_list(request: HttpRequest, case_id: int, slug: str) -> HttpResponse:
    case, section = _case_and_section(request, case_id, slug)
    model = access.record_model(section.key)
    related = [n for n in section.columns if model._meta.get_field(n).many_to_one]
    rows = access.records_visible_to(request.user, section.key).filter(case=case).select_related(*related)
    headers = [model._meta.get_field(n).verbose_name for n in section.columns]
    table = [(row, [_cell(row, n) for n in section.columns]) for row in rows]
    log_read(request, case, view=f"casefile-{slug}", groups=frozenset({access.RECORD_RULES[section.key].group}))
    return _render(
        request,
        "casefile/list.html",
        {
            "case": case,
            "section": section,
            "headers": headers,
            "table": table,
            "can_add": section.creatable and access.can_write_record(request.user, case, section.key),
            "sections": visible_sections(request.user, case),
        },
    )


def record_create(request: HttpRequest, case_id: int, slug: str) -> HttpResponse:
    case, section = _case_and_section(request, case_id, slug)
    if section.key == "assessment":
        return assessment_create(request, case)
    if not section.creatable or not access.can_write_record(request.user, case, section.key):
        raise Http404
    form = record_form_class(section.key)(request.POST or None, case=case)
    if request.method == "POST" and form.is_valid():
        try:
            record = casefile_services.record_create(
                key=section.key, case=case, by=request.user, data=form.data_for_service()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(_detail_url(case, section, record))
    return _render(
        request,
        "casefile/form.html",
        {"case": case, "section": section, "form": form, "sections": visible_sections(request.user, case)},
    )


def _detail_url(case, section, record) -> str:
    return reverse("casefile-detail", args=[case.pk, section.slug, record.pk])


def _get_record(request, case, section, pk):
    return get_object_or_404(access.records_visible_to(request.user, section.key), pk=pk, case=case)


def record_detail(request: HttpRequest, case_id: int, slug: str, pk: int) -> HttpResponse:
    case, section = _case_and_section(request, case_id, slug)
    if section.key == "assessment":
        return assessment_detail(request, case, pk)
    record = _get_record(request, case, section, pk)
    model = type(record)
    names = [f.name for f in model._meta.concrete_fields if f.name not in {"id", "case"}]
    if section.key == "outcome":
        allowed = access.outcome_fields_for(request.user)
        names = [n for n in names if allowed is None or n in allowed]
    fields = [(model._meta.get_field(n).verbose_name, _cell(record, n)) for n in names]
    context = {
        "case": case,
        "section": section,
        "record": record,
        "fields": fields,
        "can_edit": access.can_write_record(request.user, case, section.key, record),
        "attachments": access.records_visible_to(request.user, "attachment").filter(
            case=case, record_type=section.key, record_id=record.pk
        ),
        "can_attach": access.can_attach(request.user, case, section.key, record),
        "attachment_form": AttachmentForm(),
        "sections": visible_sections(request.user, case),
    }
    if section.key == "outcome" and record.kind != "exit" and access.can_write_record(request.user, case, "outcome"):
        context["outcome_form"] = OutcomeRecordForm(
            prefix="outcome",
            initial={"recorded_on": timezone.localdate(), **{n: getattr(record, n) for n in POST_EXIT_FIELDS}},
        )
    context["related_links"] = [
        link for source in RECORD_LINK_SOURCES.get(section.key, ()) for link in source(request.user, case, record)
    ]
    if section.key == "goal":
        context["progress"] = record.progress.select_related("recorded_by")
        context["progress_form"] = GoalProgressForm(initial={"date": timezone.localdate()})
        context["services"] = access.records_visible_to(request.user, "service_referral").filter(goal=record)
    log_read(request, case, view=f"casefile-{slug}-detail", groups=frozenset({access.RECORD_RULES[section.key].group}))
    return _render(request, "casefile/detail.html", context)


def record_edit(request: HttpRequest, case_id: int, slug: str, pk: int) -> HttpResponse:
    case, section = _case_and_section(request, case_id, slug)
    if not section.creatable or section.key == "assessment":
        raise Http404  # assessments are kept as recorded; outcomes are recorded on their own page
    record = _get_record(request, case, section, pk)
    if not access.can_write_record(request.user, case, section.key, record):
        raise Http404
    form = record_form_class(section.key)(request.POST or None, instance=record, case=case)
    log_read(request, case, view=f"casefile-{slug}-edit", groups=frozenset({access.RECORD_RULES[section.key].group}))
    if request.method == "POST" and form.is_valid():
        data = form.data_for_service()
        record.refresh_from_db()  # the form wrote the values onto the instance; the service sets them again
        try:
            casefile_services.record_update(key=section.key, record=record, by=request.user, data=data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(_detail_url(case, section, record))
    return _render(
        request,
        "casefile/form.html",
        {
            "case": case,
            "section": section,
            "form": form,
            "record": record,
            "sections": visible_sections(request.user, case),
        },
    )


@require_POST
def goal_progress(request: HttpRequest, case_id: int, pk: int) -> HttpResponse:
    case, section = _case_and_section(request, case_id, "goals")
    goal = _get_record(request, case, section, pk)
    if not access.can_write_record(request.user, case, "goal", goal):
        raise Http404
    return _form_action(
        request,
        GoalProgressForm(request.POST),
        lambda data: casefile_services.goal_progress_add(goal=goal, by=request.user, **data),
        lambda: _("Progress recorded."),
        _detail_url(case, section, goal),
    )


@require_POST
def outcome_record(request: HttpRequest, case_id: int, pk: int) -> HttpResponse:
    case, section = _case_and_section(request, case_id, "outcomes")
    outcome = _get_record(request, case, section, pk)
    if not access.can_write_record(request.user, case, "outcome", outcome):
        raise Http404
    form = OutcomeRecordForm(request.POST, prefix="outcome")
    return _form_action(
        request,
        form,
        lambda data: casefile_services.outcome_record(
            outcome=outcome, by=request.user, recorded_on=data["recorded_on"], data=form.data_for_service()
        ),
        lambda: _("Follow-up recorded."),
        _detail_url(case, section, outcome),
    )


@require_POST
def case_exit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_move_stage(request.user, case):
        raise Http404
    form = ExitForm(request.POST, prefix="exit")
    return _form_action(
        request,
        form,
        lambda data: casefile_services.case_exit(
            case=case, by=request.user, reason=data["reason"], exited_on=data["exited_on"], outcome=form.outcome()
        ),
        lambda: _("The exit is recorded; follow-ups are due at 6, 12 and 24 months."),
        case,
    )


@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_move_stage(request.user, case):
        raise Http404
    return _form_action(
        request,
        CloseForm(request.POST, prefix="close"),
        lambda data: casefile_services.case_close(case=case, by=request.user, reason=data["reason"]),
        lambda: _("The case is closed and read-only."),
        case,
    )


@require_POST
def case_transfer(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_request_transfer(request.user, case):
        raise Http404
    consents = access.records_visible_to(request.user, "consent").filter(case=case)
    return _form_action(
        request,
        TransferForm(request.POST, prefix="transfer", case=case, consents=consents),
        lambda data: casefile_services.transfer_request(case=case, by=request.user, **data),
        lambda: _("Transfer requested; the receiving manager decides."),
        case,
    )


def transfer_list(request: HttpRequest) -> HttpResponse:
    if not access.has_role(request.user, "manager"):
        raise Http404
    transfers = access.transfers_visible_to(request.user).select_related(
        "from_organisation", "to_organisation", "requested_by", "decided_by"
    )
    return render(
        request,
        "casefile/transfers.html",
        {"transfers": transfers, "organisation_id": request.user.membership.organisation_id},
    )


@require_POST
def transfer_decide(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = get_object_or_404(access.transfers_visible_to(request.user), pk=pk)
    if not access.can_decide_transfer(request.user, transfer):
        raise Http404
    accept = request.POST.get("decision") == "accept"
    try:
        casefile_services.transfer_decide(
            transfer=transfer, by=request.user, accept=accept, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("transfer-list")
    if accept:
        messages.success(
            request, _("Case %(code)s is now yours: assign a lead caseworker.") % {"code": transfer.case_code}
        )
        return redirect("case-detail", transfer.case_id)
    messages.success(request, _("Transfer refused."))
    return redirect("transfer-list")


# --- Assessments ----------------------------------------------------------------------


def assessment_create(request: HttpRequest, case) -> HttpResponse:
    if not access.can_write_record(request.user, case, "assessment"):
        raise Http404
    template = AssessmentTemplate.objects.filter(is_active=True).order_by("pk").first()
    if template is None:
        messages.error(request, _("No active assessment template: ask the system administrator."))
        return redirect("casefile-list", case.pk, "assessments")
    form = AssessmentForm(request.POST or None, template=template, initial={"assessed_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            assessment = casefile_services.assessment_record(
                case=case,
                by=request.user,
                template=template,
                assessed_on=form.cleaned_data["assessed_on"],
                summary=form.cleaned_data["summary"],
                answers=form.answers(),
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request, _("Assessment recorded: risk band %(band)s.") % {"band": assessment.get_risk_band_display()}
            )
            return redirect("casefile-detail", case.pk, "assessments", assessment.pk)
    return _render(
        request,
        "casefile/assessment_form.html",
        {
            "case": case,
            "form": form,
            "template": template,
            "section": BY_SLUG["assessments"],
            "sections": visible_sections(request.user, case),
        },
    )


def _assessment(request, case, pk) -> Assessment:
    return get_object_or_404(
        access.records_visible_to(request.user, "assessment").select_related("recorded_by", "template"),
        pk=pk,
        case=case,
    )


def assessment_detail(request: HttpRequest, case, pk: int) -> HttpResponse:
    assessment = _assessment(request, case, pk)
    answers = assessment.answers.select_related("item__domain").order_by("item__domain__order", "item__order")
    others = access.records_visible_to(request.user, "assessment").filter(case=case).exclude(pk=pk)
    log_read(request, case, view="casefile-assessment-detail", groups=frozenset({access.G.ASSESSMENT}))
    return _render(
        request,
        "casefile/assessment_detail.html",
        {
            "case": case,
            "assessment": assessment,
            "answers": answers,
            "others": others,
        },
    )


def assessment_compare(request: HttpRequest, case_id: int) -> HttpResponse:
    case, _section = _case_and_section(request, case_id, "assessments")
    try:
        first = _assessment(request, case, int(request.GET.get("a", "")))
        second = _assessment(request, case, int(request.GET.get("b", "")))
    except ValueError as error:
        raise Http404 from error
    if first.assessed_on > second.assessed_on:
        first, second = second, first
    before = {a.item_id: a for a in first.answers.all()}
    rows = []
    for answer in second.answers.select_related("item__domain").order_by("item__domain__order", "item__order"):
        old = before.get(answer.item_id)
        rows.append(
            (
                answer.item,
                old.rating if old else None,
                answer.rating,
                None if old is None else answer.rating - old.rating,
            )
        )
    log_read(request, case, view="casefile-assessment-compare", groups=frozenset({access.G.ASSESSMENT}))
    return _render(
        request,
        "casefile/assessment_compare.html",
        {
            "case": case,
            "first": first,
            "second": second,
            "rows": rows,
        },
    )


# --- Screening and intake ----------------------------------------------------------------


@require_POST
def case_screen(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if not access.can_move_stage(request.user, case):
        raise Http404
    return _form_action(
        request,
        ScreeningForm(request.POST, prefix="screen"),
        lambda data: casefile_services.case_screen(case=case, by=request.user, **data),
        lambda: _("Screening recorded; the case is now “%(stage)s”.") % {"stage": case.get_stage_display()},
        case,
    )


# --- Attachments --------------------------------------------------------------------------


@require_POST
def attachment_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    record_type = request.POST.get("record_type", "case")
    if record_type != "case" and record_type not in access.RECORD_RULES:
        raise Http404
    record_id, record = None, None
    back = reverse("case-documents", args=[case.pk])
    if record_type != "case":
        section = next((s for s in SECTIONS if s.key == record_type), None)
        raw_id = request.POST.get("record_id", "")
        if section is None or not re.fullmatch(r"[0-9]{1,18}", raw_id):
            raise Http404
        record = _get_record(request, case, section, int(raw_id))
        record_id = record.pk
        back = _detail_url(case, section, record)
    if not access.can_attach(request.user, case, record_type, record):
        raise Http404
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            casefile_services.attachment_add(
                case=case,
                by=request.user,
                upload=form.cleaned_data["file"],
                record_type=record_type,
                record_id=record_id,
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("File attached."))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(back)


def case_documents(request: HttpRequest, case_id: int) -> HttpResponse:
    case = access.get_case_for_user(request.user, case_id)
    if access.G.DOCUMENTS not in access.visible_groups(request.user, case):
        raise Http404
    attachments = access.records_visible_to(request.user, "attachment").filter(case=case).select_related("recorded_by")
    log_read(request, case, view="case-documents", groups=frozenset({access.G.DOCUMENTS}))
    return _render(
        request,
        "casefile/documents.html",
        {
            "case": case,
            "attachments": attachments,
            "form": AttachmentForm(),
            "can_attach": access.can_attach(request.user, case, "case"),
        },
    )


def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    return file_response(
        request, access.get_record_for_user(request.user, "attachment", pk), view="attachment-download"
    )


def intake_queue(request: HttpRequest) -> HttpResponse:
    """The manager's queue: new referrals without a lead."""
    if not access.has_role(request.user, "manager"):
        raise Http404
    from .selectors import case_list

    referrals = case_list(user=request.user, stage="referral").filter(lead_id__isnull=True).order_by("referral_date")
    caseworkers = access.lead_candidates(request.user)
    return _render(request, "casefile/intake.html", {"referrals": referrals, "caseworkers": caseworkers})


urlpatterns = [
    path("intake/", intake_queue, name="intake"),
    path("transfers/", transfer_list, name="transfer-list"),
    path("transfers/<int:pk>/decide/", transfer_decide, name="transfer-decide"),
    path("cases/<int:case_id>/transfer/", case_transfer, name="case-transfer"),
    path("cases/<int:case_id>/screen/", case_screen, name="case-screen"),
    path("cases/<int:case_id>/exit/", case_exit, name="case-exit"),
    path("cases/<int:case_id>/close/", case_close, name="case-close"),
    path("cases/<int:case_id>/outcomes/<int:pk>/record/", outcome_record, name="outcome-record"),
    path("cases/<int:case_id>/documents/", case_documents, name="case-documents"),
    path("cases/<int:case_id>/attachments/", attachment_upload, name="attachment-upload"),
    path("attachments/<int:pk>/download/", attachment_download, name="attachment-download"),
    path("cases/<int:case_id>/assessments/compare/", assessment_compare, name="assessment-compare"),
    path("cases/<int:case_id>/goals/<int:pk>/progress/", goal_progress, name="goal-progress"),
    path("cases/<int:case_id>/<slug:slug>/", record_list, name="casefile-list"),
    path("cases/<int:case_id>/<slug:slug>/new/", record_create, name="casefile-create"),
    path("cases/<int:case_id>/<slug:slug>/<int:pk>/", record_detail, name="casefile-detail"),
    path("cases/<int:case_id>/<slug:slug>/<int:pk>/edit/", record_edit, name="casefile-edit"),
]
