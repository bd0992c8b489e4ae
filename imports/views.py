"""Pages: upload (dry run), the run's report with the confirm button, the import, the templates."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import apply_errors

from . import access, services
from .forms import UploadForm
from .kinds import KINDS, column_help
from .models import ImportKind, ImportStatus
from .templates_files import template_csv, template_xlsx

app_name = "imports"


def _kinds(request: HttpRequest) -> list[str]:
    kinds = access.kinds_for(request.user)
    if not kinds:
        raise Http404
    return kinds


def upload(request: HttpRequest) -> HttpResponse:
    kinds = _kinds(request)
    form = UploadForm(request.POST or None, request.FILES or None, kinds=kinds)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                run = services.import_check(
                    by=request.user,
                    kind=form.cleaned_data["kind"],
                    name=upload_file.name,
                    data=services.read_upload(upload_file),
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                return redirect("imports:run", run.pk)
        status = 400
    context = {
        "form": form,
        "kinds": [
            {"key": k, "label": ImportKind(k).label, "columns": column_help(KINDS[k], request.user)} for k in kinds
        ],
        "runs": access.runs_visible_to(request.user)[:20],
    }
    return render(request, "imports/upload.html", context, status=status)


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = access.get_run_for_user(request.user, pk)
    return render(request, "imports/run.html", {"run": run, "can_confirm": run.status == ImportStatus.CHECKED})


@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    run = access.get_run_for_user(request.user, pk)
    try:
        run = services.import_apply(by=request.user, run=run)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("imports:run", run.pk)
    if run.status == ImportStatus.IMPORTED:
        messages.success(
            request,
            _("Imported: %(created)s created, %(skipped)s skipped.") % {"created": run.created, "skipped": run.skipped},
        )
    else:
        messages.error(request, _("The import was refused and nothing was written: see the errors below."))
    return redirect("imports:run", run.pk)


def template(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in access.kinds_for(request.user) or fmt not in ("csv", "xlsx"):
        raise Http404
    if fmt == "csv":
        response = HttpResponse(template_csv(kind), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            template_xlsx(kind, request.user),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.{fmt}"'
    return response


urlpatterns = [
    path("imports/", upload, name="upload"),
    path("imports/template/<slug:kind>.<slug:fmt>", template, name="template"),
    path("imports/<int:pk>/", run_detail, name="run"),
    path("imports/<int:pk>/confirm/", confirm, name="confirm"),
]
