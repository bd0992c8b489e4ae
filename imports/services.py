"""Checking (dry run) and importing a file. Callers have checked `imports.access.can_import`.

Both run every row through the kind's own form and service (`kinds.py`) inside a transaction:
the dry run rolls it back, so it writes nothing and still catches what only the database or the
service knows (a name taken, a full opportunity); the import commits only when every row passed,
so one bad row leaves nothing written.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.models import User

from .kinds import KINDS, Existing, Kind, bad_cell_messages, form_data
from .models import ImportedRow, ImportRun, ImportStatus
from .parsing import FileProblem, Table, read_table


@dataclass
class Report:
    to_create: int = 0
    created: int = 0
    skipped: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    fingerprints: list[tuple[str, int]] = field(default_factory=list)  # (fingerprint, object id) created


def fingerprint(*, kind: str, row: dict[str, str]) -> str:
    """A keyed hash of the row's cells (order of columns and spaces around cells do not matter), so
    the table holds nothing a national ID could be guessed back from."""
    canonical = json.dumps([kind, sorted((k, v.strip()) for k, v in row.items() if v.strip())], ensure_ascii=False)
    return salted_hmac("imports.row", canonical, algorithm="sha256").hexdigest()


def _table(kind: Kind, *, user: User, name: str, data: bytes) -> Table:
    blank = kind.make_form(user, None)
    try:
        return read_table(name=name, data=data, columns=kind.columns, required=kind.required(blank))
    except FileProblem as problem:
        raise ValidationError({"file": [str(problem)]}) from None


def _error(report: Report, row: int, column: str, message: str) -> None:
    report.errors.append({"row": row, "column": column, "message": str(message)})


def _process(*, by: User, kind: Kind, table: Table, write: bool) -> Report:
    """Every row through the form and the service, each in a savepoint. Runs inside the caller's
    transaction; writes stay only if the caller commits."""
    report = Report()
    organisation_id = by.membership.organisation_id
    prints = {number: fingerprint(kind=kind.key, row=row) for number, row in table.rows}
    imported = set(
        ImportedRow.objects.filter(
            organisation_id=organisation_id, kind=kind.key, fingerprint__in=set(prints.values())
        ).values_list("fingerprint", flat=True)
    )
    blank = kind.make_form(by, None)  # the fields and their choices, to read the cells against
    seen_prints: dict[str, int] = {}
    seen_keys: dict[tuple, int] = {}
    for number, row in table.rows:
        if row.pop("__extra__", None):
            _error(report, number, "", _("This row has cells beyond the last column."))
            continue
        print_ = prints[number]
        if print_ in imported:
            report.skipped.append({"row": number, "reason": _("Already imported.")})
            continue
        if print_ in seen_prints:
            report.skipped.append({"row": number, "reason": _("Same as row %(row)s.") % {"row": seen_prints[print_]}})
            continue
        seen_prints[print_] = number
        form = kind.make_form(by, form_data(kind, by, blank, row))
        if not form.is_valid():
            for column, messages in bad_cell_messages(form, row).items():
                for message in messages:
                    _error(report, number, "" if column == "__all__" else column, message)
            continue
        key = kind.natural_key(form)
        if key is not None and key in seen_keys:
            report.skipped.append({"row": number, "reason": _("Same record as row %(row)s.") % {"row": seen_keys[key]}})
            continue
        existing: Existing | None = kind.find_existing(by, form)
        if existing is not None:
            report.skipped.append({"row": number, "reason": existing.reason})
            continue
        try:
            with transaction.atomic():
                created = kind.create(by, form)
        except IntegrityError:
            # a record saved meanwhile by someone else took this row's place (a unique name…)
            _error(report, number, "", _("This row conflicts with a record saved meanwhile: check the file again."))
            continue
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for column, messages in error.message_dict.items():
                    for message in messages:
                        _error(report, number, "" if column == "__all__" else column, message)
            else:
                for message in error.messages:
                    _error(report, number, "", message)
            continue
        if key is not None:
            seen_keys[key] = number
        report.to_create += 1
        report.fingerprints.append((print_, created.pk))
    if write and not report.errors:
        report.created = report.to_create
    return report


def _store(run: ImportRun, report: Report, *, status: str) -> None:
    run.status = status
    run.to_create = report.to_create
    run.created = report.created
    run.skipped = len(report.skipped)
    run.error_count = len(report.errors)
    run.errors = report.errors
    run.skipped_rows = report.skipped


def import_check(*, by: User, kind: str, name: str, data: bytes) -> ImportRun:
    """Dry run: read the file, run every row, write nothing but the run (its report and the file,
    kept for the import)."""
    spec = KINDS[kind]
    table = _table(spec, user=by, name=name, data=data)
    with transaction.atomic():
        report = _process(by=by, kind=spec, table=table, write=False)
        transaction.set_rollback(True)
    run = ImportRun(
        organisation_id=by.membership.organisation_id,
        created_by=by,
        kind=kind,
        file_name=(name or "")[-200:],
        file_format=table.file_format,
        file_sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        total_rows=len(table.rows),
    )
    _store(run, report, status=ImportStatus.INVALID if report.errors else ImportStatus.CHECKED)
    run.save()
    return run


def import_apply(*, by: User, run: ImportRun) -> ImportRun:
    """Import a checked file: all rows or none. Rows seen since the dry run (another import, the same
    file twice) are skipped, not duplicated: the run row is locked, so two confirmations of one run
    import it once."""
    with transaction.atomic():
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ImportStatus.CHECKED:
            raise ValidationError({"status": [_("Only a checked file without errors can be imported.")]})
        spec = KINDS[locked.kind]
        table = _table(spec, user=by, name=locked.file_name, data=bytes(locked.content))
        locked.total_rows = len(table.rows)
        with transaction.atomic():
            report = _process(by=by, kind=spec, table=table, write=True)
            if report.errors:
                transaction.set_rollback(True)
            else:
                ImportedRow.objects.bulk_create(
                    ImportedRow(
                        organisation_id=locked.organisation_id,
                        kind=locked.kind,
                        fingerprint=print_,
                        run=locked,
                        object_id=object_id,
                    )
                    for print_, object_id in report.fingerprints
                )
        _store(locked, report, status=ImportStatus.FAILED if report.errors else ImportStatus.IMPORTED)
        if report.errors:
            locked.to_create = 0
        locked.content = b""  # imported or refused: the rows now live in the app, or must be fixed and re-sent
        locked.finished_at = timezone.now()
        locked.save()
    return locked


def import_file(*, by: User, kind: str, name: str, data: bytes) -> ImportRun:
    """Check and import in one call (the API's `dry_run=false`): nothing is written unless every row
    passes."""
    run = import_check(by=by, kind=kind, name=name, data=data)
    if run.status == ImportStatus.INVALID:
        run.content = b""
        run.save(update_fields=["content"])
        return run
    return import_apply(by=by, run=run)


def read_upload(upload_file) -> bytes:
    """The uploaded bytes, refusing a file over the size limit before reading it all."""
    from .parsing import max_bytes

    if upload_file.size is not None and upload_file.size > max_bytes():
        raise ValidationError(
            {
                "file": [
                    _("The file is larger than %(mb)s MB: split it into smaller files.")
                    % {"mb": max_bytes() // (1024 * 1024)}
                ]
            }
        )
    return upload_file.read()


STALE_AFTER = datetime.timedelta(days=1)


def import_purge_stale(*, now: datetime.datetime) -> int:
    """Forget the file of runs checked more than a day ago and never imported: the dry run's report
    stays, the rows (personal data) go; such a run can no longer be confirmed (upload it again)."""
    return (
        ImportRun.objects.filter(created_at__lt=now - STALE_AFTER, finished_at__isnull=True)
        .exclude(content=b"")
        .update(content=b"", status=ImportStatus.EXPIRED, finished_at=now)
    )
