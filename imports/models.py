"""An import run (one uploaded file, checked then imported) and the fingerprints of imported rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class ImportKind(models.TextChoices):
    PARTNERS = "partners", _("Partner organisations")
    OPPORTUNITIES = "opportunities", _("Opportunities")
    PARTICIPANTS = "participants", _("Participants (cases in the intake queue)")


class ImportStatus(models.TextChoices):
    CHECKED = "checked", _("Checked: ready to import")
    INVALID = "invalid", _("Checked: has errors")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Import refused: nothing written")
    EXPIRED = "expired", _("Not imported within a day: upload the file again")


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ImportRun(models.Model):
    """One uploaded file: its dry run, then (once) its import. The file itself is kept only until it
    is imported (`content` is emptied then): the rows hold personal data that belongs in the cases."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    file_name = models.CharField(_("file"), max_length=200)
    file_format = models.CharField(max_length=4, choices=FileFormat.choices)
    file_sha256 = models.CharField(max_length=64)
    content = models.BinaryField(default=b"", editable=False)
    status = models.CharField(_("status"), max_length=12, choices=ImportStatus.choices)
    total_rows = models.PositiveIntegerField(default=0)
    to_create = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "column": "city", "message": "..."}], messages in the language of the request
    errors = models.JSONField(default=list, blank=True)
    # [{"row": 4, "reason": "..."}]
    skipped_rows = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"


class ImportedRow(models.Model):
    """A row this organisation has imported, by a keyed hash of its cells (no personal data): the same
    row in a later file is skipped as already imported."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    fingerprint = models.CharField(max_length=64)
    run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="imported_rows")
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind", "fingerprint"], name="imported_row_once")
        ]

    def __str__(self) -> str:
        return self.fingerprint
