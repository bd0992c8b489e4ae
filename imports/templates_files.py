"""The downloadable templates: the header row of a kind, as CSV or XLSX (with a sheet explaining the
columns)."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from accounts.models import User

from .kinds import KINDS, column_help


def template_csv(kind: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(KINDS[kind].columns)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(kind: str, user: User) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    spec = KINDS[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    sheet.append(spec.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    help_sheet = workbook.create_sheet(_("Columns"))
    help_sheet.append([_("Column"), _("Meaning"), _("Required"), _("Accepts")])
    for column in column_help(spec, user):
        help_sheet.append(
            [column["name"], column["label"], _("yes") if column["required"] else _("no"), column["accepts"]]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
