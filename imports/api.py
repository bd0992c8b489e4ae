"""`/api/v1/imports/`: POST a file (multipart: kind, file, dry_run), GET a run's status and report,
POST `<id>/confirm/` to import a checked run. Same services and rules as the pages."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from casemgmt.api.conditional import SafeWritesMixin
from casemgmt.api.problems import PROBLEM_CONTENT_TYPE, problem

from . import access, services
from .models import ImportKind, ImportRun, ImportStatus


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class SkippedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reason = serializers.CharField()


class ImportRunSerializer(serializers.ModelSerializer):
    errors = RowErrorSerializer(many=True, read_only=True)
    skipped_rows = SkippedRowSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "url",
            "kind",
            "file_name",
            "file_format",
            "status",
            "total_rows",
            "to_create",
            "created",
            "skipped",
            "error_count",
            "errors",
            "skipped_rows",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, run) -> str:
        return reverse("api-import-detail", args=[run.pk])


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=True)

    def __init__(self, *args, kinds: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:  # the schema shows every kind; a request accepts the user's own
            self.fields["kind"].choices = [(k, ImportKind(k).label) for k in kinds]


def _row_problem(request, run: ImportRun) -> Response:
    """An import refused for its rows: 400, the row errors as an extension member, nothing written."""
    body = problem(
        status_code=400,
        title=_("Invalid input"),
        detail=_("The file has rows with errors: nothing was imported."),
        instance=request.path,
        errors={
            "rows": [
                (_("Row %(row)s") % {"row": e["row"]})
                + (f", {e['column']}" if e["column"] else "")
                + f": {e['message']}"
                for e in run.errors
            ]
        },
    )
    body["import"] = ImportRunSerializer(run).data
    return Response(body, status=400, content_type=PROBLEM_CONTENT_TYPE)


class ImportViewSet(SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = ImportRun.objects.all()
    serializer_class = ImportRunSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        if not access.kinds_for(self.request.user):
            raise Http404
        return access.runs_visible_to(self.request.user)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportRunSerializer},
        description=(
            "Upload a CSV (UTF-8) or XLSX file of one kind. With dry_run (the default) every row is checked "
            "and nothing is written; without, the file is imported when every row passes (all rows or none). "
            "A file that cannot be read (format, encoding, headers, over 5,000 rows or 5 MB) is a 400 problem."
        ),
    )
    def create(self, request):
        kinds = access.kinds_for(request.user)
        if not kinds:
            raise Http404
        upload = ImportUploadSerializer(data=request.data, kinds=kinds)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        content = services.read_upload(data["file"])
        run_service = services.import_check if data["dry_run"] else services.import_file
        run = run_service(by=request.user, kind=data["kind"], name=data["file"].name, data=content)
        if not data["dry_run"] and run.status in (ImportStatus.INVALID, ImportStatus.FAILED):
            return _row_problem(request, run)
        return Response(ImportRunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ImportRunSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Import a checked run (after its dry run): all rows or none; rows already imported are skipped."""
        run = self.get_object()
        run = services.import_apply(by=request.user, run=run)  # a run not ready: a 400 problem on `status`
        if run.status == ImportStatus.FAILED:
            return _row_problem(request, run)
        return Response(ImportRunSerializer(run).data)
