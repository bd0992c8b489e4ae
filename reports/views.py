"""The manager's dashboard, its drill-downs and exports (issue 12). Managers only; others get 404."""

from __future__ import annotations

from urllib.parse import quote_plus, urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.urls import path, reverse
from django.utils import numberformat
from django.utils.formats import get_format, number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role
from casemgmt import access

from . import exports, selectors
from .figures import FIGURES, Figure
from .forms import FilterForm


def require_manager(request: HttpRequest) -> int:
    """The manager's organisation; everybody else: not found."""
    if not access.has_role(request.user, Role.MANAGER):
        raise Http404
    return request.user.membership.organisation_id


def _form(request: HttpRequest) -> FilterForm:
    return FilterForm(request.GET, organisation_id=require_manager(request))


def filter_query(form: FilterForm) -> str:
    data = form.cleaned_data
    pairs = [("start", data["start"].isoformat()), ("end", data["end"].isoformat())]
    pairs += [(name, data[name]) for name in ("city", "worker", "source") if data.get(name)]
    return urlencode(pairs)


def _number_format():
    """`number_format` with the active language's separators looked up once, not once per cell."""
    language = get_language()
    decimal, grouping, thousands = (
        get_format(name, language) for name in ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR")
    )
    return lambda value, places=None: numberformat.format(value, decimal, places, grouping, thousands, use_l10n=True)


def _format(measure, value, number=number_format) -> str:
    if value is None:
        return "—"
    if measure.kind == "rate":
        return f"{number(value * 100, 1)} %"
    if measure.kind == "days":
        return number(value, 1)
    return number(value)


def _cases_links(figure: Figure, query: str) -> tuple[str, dict[str, str]]:
    """The drill-down URL of a figure's cell is `prefix + quote_plus(row key) + suffix[measure]`: the
    path reversed and the parameters encoded once per figure, not once per cell (about 1,900 cells)."""
    prefix = f"{reverse('reports:cases')}?{urlencode({'figure': figure.slug})}&key="
    suffix = {m.name: f"&{urlencode({'measure': m.name})}&{query}" for m in figure.measures if m.drill}
    return prefix, suffix


def display(result: selectors.Result, query: str) -> dict:
    """A figure's table for the template (every count links to its cases) and its chart data."""
    figure = result.figure
    prefix, suffix = _cases_links(figure, query)
    number = _number_format()

    def cells(values: dict, key: str) -> list:
        link = prefix + quote_plus(key)
        return [
            (_format(m, values[m.name], number), link + suffix[m.name] if m.name in suffix else None)
            for m in figure.measures
        ]

    rows = [{"labels": row.labels, "cells": cells(row.values, row.key)} for row in result.rows]
    total = None if result.total is None else cells(result.total, "")
    return {"result": result, "figure": figure, "rows": rows, "total": total, "chart": chart_data(result)}


def chart_data(result: selectors.Result) -> dict:
    figure = result.figure
    if len(figure.dims) == 1:
        labels = [row.labels[0] for row in result.rows]
        datasets = [
            {"label": str(m.title), "data": [row.values[m.name] for row in result.rows]} for m in result.charted()
        ]
    else:
        xs = list(dict.fromkeys((row.keys[0], row.labels[0]) for row in result.rows))
        series = list(dict.fromkeys((row.keys[1], row.labels[1]) for row in result.rows))
        main = figure.measures[0].name
        grid = {(row.keys[0], row.keys[1]): row.values[main] for row in result.rows}
        labels = [label for _key, label in xs]
        datasets = [{"label": name, "data": [grid.get((x, key), 0) for x, _l in xs]} for key, name in series]
    return {
        "id": f"chart-{figure.slug}",
        "type": "line" if figure.chart == "line" else "bar",
        "stacked": figure.chart == "stacked",
        "labels": labels,
        "datasets": datasets,
    }


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    context = {"form": form, "sections": []}
    if form.is_valid():
        query = filter_query(form)
        section = get_template("reports/dashboard.html#figure")
        tables = []
        # each figure laid out and rendered as its query ends, while the later ones still run
        for result in selectors.dashboard_results(form.filters()):
            item = display(result, query)
            item["html"] = section.render({"item": item, "query": query})
            tables.append(item)
        sections: dict = {}
        for item in tables:
            sections.setdefault(str(item["figure"].section), []).append(item)
        context.update(
            sections=list(sections.items()),
            charts=[item["chart"] for item in tables],
            query=query,
            filters=form.filters(),
        )
    return render(request, "reports/dashboard.html", context)


@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure (one row, one count): through the access policy."""
    form = _form(request)
    figure = FIGURES.get(request.GET.get("figure", ""))
    if figure is None or not form.is_valid():
        raise Http404
    key, measure = request.GET.get("key", ""), request.GET.get("measure", "")
    try:
        rows = selectors.drill_down(request.user, figure, form.filters(), key=key, measure=measure)
    except selectors.BadKey:
        raise Http404 from None
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    base = request.GET.copy()
    base.pop("page", None)
    context = {
        "figure": figure,
        "page": page,
        "filters": form.filters(),
        "row_label": _row_label(figure, form.filters(), key),
        "measure": next((m for m in figure.measures if m.name == measure), None),
        "base_query": base.urlencode(),
        "query": filter_query(form),
    }
    return render(request, "reports/cases.html", context)


def _row_label(figure: Figure, filters, key: str) -> str:
    """The row's labels as on the dashboard (a worker's or a city's name): the figure's one query."""
    if not key:
        return _("All")
    labels = selectors.row_labels(figure, filters, key)
    return " · ".join(labels) if labels is not None else key


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period_line(filters) -> str:
    return _("Period %(start)s to %(end)s") % {"start": filters.start.isoformat(), "end": filters.end.isoformat()}


@require_GET
def export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """One figure's table as CSV or XLSX, or every table (`all.xlsx`), with the dashboard's filters."""
    form = _form(request)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    if not form.is_valid():
        return HttpResponse(status=400)
    filters = form.filters()
    stem = f"{slug}-{filters.start.isoformat()}-{filters.end.isoformat()}"
    if slug == "all" and fmt == "xlsx":
        results = selectors.dashboard(filters)
        return _download(exports.results_xlsx(results, _period_line(filters)), f"report-{stem}.xlsx", XLSX)
    figure = FIGURES.get(slug)
    if figure is None:
        raise Http404
    result = selectors.figure_result(figure, filters)
    if fmt == "csv":
        return _download(exports.csv_bytes(result), f"{stem}.csv", "text/csv; charset=utf-8")
    return _download(exports.results_xlsx([result], _period_line(filters)), f"{stem}.xlsx", XLSX)


app_name = "reports"
urlpatterns = [
    path("reports/", dashboard, name="dashboard"),
    path("reports/cases/", cases, name="cases"),
    path("reports/export/<slug:slug>.<str:fmt>", export, name="export"),
]


# --- The funder report ----------------------------------------------------------------------


def _quarter(request: HttpRequest):
    from django.utils import timezone

    from . import funder

    return funder.parse_quarter(request.GET.get("period"), timezone.localdate())


@require_GET
def funder_page(request: HttpRequest) -> HttpResponse:
    """Printable: aggregates only, suppression applied; no names, no case codes."""
    from . import funder

    organisation_id = require_manager(request)
    try:
        quarter = _quarter(request)
    except funder.BadPeriod as error:
        return render(
            request, "reports/funder.html", {"error": str(error), "period": request.GET.get("period", "")}, status=400
        )
    tables = funder.funder_report(organisation_id, quarter)
    context = {"quarter": quarter, "tables": tables, "organisation": request.user.membership.organisation}
    return render(request, "reports/funder.html", context)


@require_GET
def funder_xlsx(request: HttpRequest) -> HttpResponse:
    from . import funder

    organisation_id = require_manager(request)
    try:
        quarter = _quarter(request)
    except funder.BadPeriod:
        return HttpResponse(status=400)
    tables = funder.funder_report(organisation_id, quarter)
    name = request.user.membership.organisation.name
    sheets = [
        (table.title, f"{name} — {quarter} — {table.title} ({table.unit})", table.header(), table.body())
        for table in tables
    ]
    return _download(exports.xlsx_bytes(sheets), f"funder-report-{quarter}.xlsx", XLSX)


urlpatterns += [
    path("reports/funder/", funder_page, name="funder"),
    path("reports/funder.xlsx", funder_xlsx, name="funder-xlsx"),
]
