"""Reading an uploaded CSV or XLSX file into rows of text cells, refusing what is not one."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from .models import FileFormat


class FileProblem(Exception):
    """The file as a whole cannot be read (format, encoding, size, headers): a 400 on `file`."""


@dataclass
class Table:
    file_format: str
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number as the spreadsheet shows it, header -> cell)


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def _too_many() -> FileProblem:
    return FileProblem(
        _("The file has more than %(max)s rows: split it into smaller files.") % {"max": f"{max_rows():,}"}
    )


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise FileProblem(_("This is not a CSV file. Upload a CSV (UTF-8) or an XLSX file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” (or as XLSX) and upload it again.")
        ) from None
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in French or Arabic locales write semicolons
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append([cell.strip() for cell in row])
            if len(rows) > max_rows() + 1:
                raise _too_many()
    except csv.Error:
        raise FileProblem(_("The CSV file is malformed (check its quotes).")) from None
    return rows


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise FileProblem(_("The XLSX file cannot be read. Save it again from your spreadsheet program.")) from None
    except Exception:  # openpyxl raises its own errors (InvalidFileException…) for other damage
        raise FileProblem(_("The XLSX file cannot be read. Save it again from your spreadsheet program.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > max_rows() + 1:
                raise _too_many()
    except FileProblem:
        raise
    except Exception:
        raise FileProblem(_("The XLSX file cannot be read. Save it again from your spreadsheet program.")) from None
    finally:
        workbook.close()
    return rows


def read_table(*, name: str, data: bytes, columns: list[str], required: list[str]) -> Table:
    """The rows of the first sheet (or the CSV) under a header row naming known columns."""
    if len(data) > max_bytes():
        raise FileProblem(
            _("The file is larger than %(mb)s MB: split it into smaller files.") % {"mb": max_bytes() // (1024 * 1024)}
        )
    lower = (name or "").lower()
    if lower.endswith(".xlsx"):
        if not data.startswith(b"PK\x03\x04"):
            raise FileProblem(_("The XLSX file cannot be read. Save it again from your spreadsheet program."))
        file_format, raw = FileFormat.XLSX, _read_xlsx(data)
    elif lower.endswith(".csv"):
        file_format, raw = FileFormat.CSV, _read_csv(data)
    else:
        raise FileProblem(_("Upload a CSV (UTF-8) or an XLSX file (.csv or .xlsx)."))
    while raw and not any(raw[0]):
        raw.pop(0)  # blank lines above the headers
    if not raw:
        raise FileProblem(_("The file is empty."))
    headers = [h.strip().lower() for h in raw[0]]
    while headers and not headers[-1]:
        headers.pop()
    unknown = [h for h in headers if h not in columns]
    missing = [c for c in required if c not in headers]
    repeated = sorted({h for h in headers if h and headers.count(h) > 1})
    problems = []
    if missing:
        problems.append(_("Missing columns: %(names)s.") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(
            _("Unknown columns: %(names)s. Use the headers of the template.")
            % {"names": ", ".join(h or _("(empty)") for h in unknown)}
        )
    if repeated:
        problems.append(_("Repeated columns: %(names)s.") % {"names": ", ".join(repeated)})
    if problems:
        raise FileProblem(" ".join(problems))
    rows = []
    for offset, values in enumerate(raw[1:], start=2):
        if not any(values):
            continue
        cells = {header: (values[i] if i < len(values) else "") for i, header in enumerate(headers)}
        if any(v for i, v in enumerate(values) if i >= len(headers)):
            cells["__extra__"] = "1"
        rows.append((offset, cells))
    if not rows:
        raise FileProblem(_("The file has no rows below the headers."))
    if len(rows) > max_rows():
        raise _too_many()
    return Table(file_format=file_format, headers=headers, rows=rows)
