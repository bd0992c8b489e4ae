"""The data-protection officer's pages (the organisation's `auditor`, and its managers where the
handbook gives them the same reads): access and disclosure logs with filters, sorting and CSV export,
grants and mandates with expiries, anomalies, and a case's change history as who/when only.
No case content anywhere: case codes, ids, categories and staff names."""

from __future__ import annotations

import csv

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from accounts.models import Organisation, User

from . import access, dpo
from .boundary_models import DisclosureLog
from .forms import DATE
from .models import AccessLog
from .reads import log_read

PAGE_SIZE = 50


class LogFilterForm(StyledForm):
    since = forms.DateField(label=_("From"), required=False, widget=DATE)
    until = forms.DateField(label=_("To"), required=False, widget=DATE)
    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.none(), required=False)
    case_code = forms.CharField(
        label=_("Case"), max_length=20, required=False, help_text=_("A case number (#123); managers: or a case code.")
    )
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", "—"), *AccessLog.Channel.choices])
    basis = forms.ChoiceField(label=_("Basis"), required=False, choices=[("", "—"), *DisclosureLog.Basis.choices])
    sort = forms.ChoiceField(label=_("Sort"), required=False)

    def __init__(self, *args, users, organisations, sorts: dict[str, str], with_basis: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self.fields["organisation"].queryset = organisations
        self.fields["sort"].choices = list(sorts.items())
        if not with_basis:
            del self.fields["basis"]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end of the period cannot be before its start."))
        return data

    def filters(self) -> dpo.LogFilters:
        if not self.is_valid():
            return dpo.LogFilters(invalid=self.is_bound)  # a wrong filter shows no rows, never all of them
        d = self.cleaned_data
        return dpo.LogFilters(
            since=d.get("since"),
            until=d.get("until"),
            user=d["user"].pk if d.get("user") else None,
            case_code=d.get("case_code") or "",
            organisation=d["organisation"].pk if d.get("organisation") else None,
            channel=d.get("channel") or "",
            basis=d.get("basis") or "",
            sort=d.get("sort") or "-at",
        )


SORT_LABELS = {"-at": _("Newest first"), "at": _("Oldest first"), "user": _("User"), "case": _("Case")}


def _require_dpo(request: HttpRequest) -> None:
    if not access.can_see_dpo_pages(request.user):
        raise Http404


def _org_users(request: HttpRequest):
    return User.objects.filter(membership__organisation_id=request.user.membership.organisation_id).order_by("username")


def _access_form(request: HttpRequest) -> LogFilterForm:
    # a read after a transfer may come from another NGO's staff: the filter offers organisations by name
    return LogFilterForm(
        request.GET or None,
        users=_org_users(request),
        organisations=Organisation.objects.filter(kind=Organisation.Kind.NGO).order_by("name"),
        sorts=SORT_LABELS,
        with_basis=False,
    )


def _disclosure_form(request: HttpRequest) -> LogFilterForm:
    return LogFilterForm(
        request.GET or None,
        users=User.objects.filter(membership__organisation__kind=Organisation.Kind.AUTHORITY).order_by("username"),
        organisations=Organisation.objects.filter(kind=Organisation.Kind.AUTHORITY).order_by("name"),
        sorts={**SORT_LABELS, "authority": _("Authority")},
        with_basis=True,
    )


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def access_log(request: HttpRequest) -> HttpResponse:
    """Who read the organisation's cases: filters, sorting, pages, CSV of the same rows."""
    _require_dpo(request)
    form = _access_form(request)
    rows = dpo.access_log(request.user, form.filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "querystring": _querystring(request), "is_auditor": _is_auditor(request)}
    return render(request, "dpo/access_log.html", context)


def disclosure_log(request: HttpRequest) -> HttpResponse:
    """What authorities read of the organisation's cases, on which basis."""
    _require_dpo(request)
    form = _disclosure_form(request)
    rows = dpo.disclosure_log(request.user, form.filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "querystring": _querystring(request), "is_auditor": _is_auditor(request)}
    return render(request, "dpo/disclosure_log.html", context)


def _is_auditor(request: HttpRequest) -> bool:
    return access.has_role(request.user, "auditor")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # a spreadsheet must never run a cell as a formula
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _stream_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def access_log_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered rows as CSV, streamed: ids, codes and group names, no case content, no names."""
    _require_dpo(request)
    rows = (
        dpo.access_log(request.user, _access_form(request).filters())
        .values_list("pk", "at", "user_id", "organisation_id", "case_id", "case_code", "channel", "view", "shown")
        .iterator(chunk_size=2000)
    )
    header = ["id", "at", "user_id", "organisation_id", "case_id", "case_ref", "channel", "view", "shown"]
    return _stream_csv(
        f"access-log-{_stamp()}.csv",
        header,
        ((pk, at.isoformat(), u, o, c, code, ch, v, " ".join(shown)) for pk, at, u, o, c, code, ch, v, shown in rows),
    )


def disclosure_log_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_dpo(request)
    rows = (
        dpo.disclosure_log(request.user, _disclosure_form(request).filters())
        .values_list(
            "pk",
            "at",
            "user_id",
            "client_id",
            "organisation_id",
            "case_id",
            "case_code",
            "categories",
            "basis",
            "basis_ids",
            "channel",
            "view",
        )
        .iterator(chunk_size=2000)
    )
    header = [
        "id",
        "at",
        "user_id",
        "client_id",
        "authority_id",
        "case_id",
        "case_ref",
        "categories",
        "basis",
        "basis_ids",
        "channel",
        "view",
    ]
    return _stream_csv(
        f"disclosure-log-{_stamp()}.csv",
        header,
        (
            (pk, at.isoformat(), u, client, o, c, code, " ".join(cat), " ".join(basis), " ".join(ids), ch, v)
            for pk, at, u, client, o, c, code, cat, basis, ids, ch, v in rows
        ),
    )


class GrantFilterForm(StyledForm):
    state = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("All")),
            ("current", _("Current")),
            ("expiring", _("Expires within 30 days")),
            ("ended", _("Expired, withdrawn or revoked")),
        ],
    )


def grants(request: HttpRequest) -> HttpResponse:
    """Consents naming an authority and legal mandates, with their expiries; metadata only."""
    _require_dpo(request)
    form = GrantFilterForm(request.GET or None)
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    consents = Paginator(dpo.authority_consents(request.user, state=state), PAGE_SIZE).get_page(
        request.GET.get("consents")
    )
    mandate_rows = Paginator(dpo.mandates(request.user, state=state), PAGE_SIZE).get_page(request.GET.get("mandates"))
    context = {
        "form": form,
        "state": state,
        "consents": consents,
        "mandates": mandate_rows,
        "today": timezone.localdate(),
        "is_auditor": _is_auditor(request),
    }
    return render(request, "dpo/grants.html", context)


def anomalies(request: HttpRequest) -> HttpResponse:
    """Patterns worth a look, counted in SQL: bulk reading by one user, authority reads off hours."""
    _require_dpo(request)
    conf = dpo.AnomalySettings.from_settings()
    context = {
        "conf": conf,
        "bulk": list(dpo.bulk_readers(request.user, conf)[:200]),
        "off_hours": list(dpo.off_hours_authority_reads(request.user, conf)[:200]),
    }
    return render(request, "dpo/anomalies.html", context)


def case_history(request: HttpRequest, case_id: int) -> HttpResponse:
    """The auditor's view of a case's change history: who changed which kind of record, when, how
    (created, changed, deleted); no field and no value."""
    case = get_object_or_404(access.audited_cases(request.user).select_related("participant"), pk=case_id)
    events = dpo.case_change_events(case)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    users = User.objects.in_bulk({row["by"] for row in rows if row["by"]})
    labels = dpo.record_labels()
    for row in rows:
        row["user"] = users.get(row["by"])
        row["label"] = labels.get(row["record"], row["record"])
    log_read(request, case, view="dpo-history", groups=frozenset())
    context = {"case_code": f"#{case.pk}", "case_id": case.pk, "page": page, "rows": rows}
    return render(request, "dpo/case_history.html", context)


def case_history_lookup(request: HttpRequest) -> HttpResponse:
    """The auditor types a case number (from the logs) and lands on its history (404 outside the
    organisation). The auditor holds no case codes (handbook section 4)."""
    from django.shortcuts import redirect

    number = (request.GET.get("code") or "").strip().lstrip("#")
    if not access.has_role(request.user, "auditor"):
        raise Http404
    if not number:
        return render(request, "dpo/history_lookup.html", {})
    if not (number.isdigit() and len(number) <= 18):
        raise Http404
    case = get_object_or_404(access.audited_cases(request.user), pk=int(number))
    return redirect("dpo-case-history", case.pk)


urlpatterns = [
    path("audit/access-log/", access_log, name="access-log"),
    path("audit/access-log.csv", access_log_csv, name="access-log-csv"),
    path("audit/disclosure-log/", disclosure_log, name="disclosure-log"),
    path("audit/disclosure-log.csv", disclosure_log_csv, name="disclosure-log-csv"),
    path("audit/grants/", grants, name="dpo-grants"),
    path("audit/anomalies/", anomalies, name="dpo-anomalies"),
    path("audit/history/", case_history_lookup, name="dpo-history-lookup"),
    path("audit/cases/<int:case_id>/history/", case_history, name="dpo-case-history"),
]
