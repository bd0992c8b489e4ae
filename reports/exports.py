"""CSV and XLSX of the dashboard's tables: the same header and rows as the tables on the screen."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.utils.translation import gettext as _
from openpyxl import Workbook

from .selectors import Result


def table(result: Result) -> tuple[list[str], list[list]]:
    """The header and rows of a figure's table: dimension labels, then every measure (totals last)."""
    figure = result.figure
    header = [str(dim.title) for dim in figure.dims] + [str(m.title) for m in figure.measures]
    rows = [row.labels + [row.values[m.name] for m in figure.measures] for row in result.rows]
    if result.total is not None:
        rows.append([_("Total")] + [""] * (len(figure.dims) - 1) + [result.total[m.name] for m in figure.measures])
    return header, rows


def _safe(value):
    # a label starting with = + - @ would be a formula in a spreadsheet (CSV injection)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def csv_bytes(result: Result) -> bytes:
    header, rows = table(result)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_safe(v) for v in header])
    writer.writerows([[_safe(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes spreadsheet programs read UTF-8


def sheet_title(text: str, used: set[str]) -> str:
    title = "".join(c for c in text if c not in "[]:*?/\\")[:31] or "Sheet"
    base, n = title, 2
    while title in used:
        suffix = f" {n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def xlsx_bytes(sheets: Iterable[tuple[str, str, list[str], list[list]]]) -> bytes:
    """One sheet per table: (sheet name, title line, header, rows)."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for name, title, header, rows in sheets:
        sheet = book.create_sheet(sheet_title(name, used))
        sheet.append([title])
        sheet.append(header)
        for row in rows:
            sheet.append([_safe(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def results_xlsx(results: list[Result], period_line: str) -> bytes:
    def sheets():
        for result in results:
            header, rows = table(result)
            yield (
                str(result.figure.title),
                f"{result.figure.title} — {result.period_note} — {period_line}",
                header,
                rows,
            )

    return xlsx_bytes(sheets())
