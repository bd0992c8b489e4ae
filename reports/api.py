"""`/api/v1/reports/summary/?period=2026-Q3`: the funder report as JSON, suppression applied.

Managers (session or OAuth) now; the partner-API issue opens it to funder clients (`reports:read`)."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from casemgmt import access
from casemgmt.api.conditional import SafeWritesMixin

from . import funder


class ReportSummaryView(SafeWritesMixin, APIView):
    etag_from_content = True

    @extend_schema(
        operation_id="reports_summary",
        parameters=[
            OpenApiParameter(
                "period", OpenApiTypes.STR, description="A complete calendar quarter, e.g. 2026-Q3 (default: the last)"
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
        description="The funder report of the user's organisation: aggregates only, counts under 5 suppressed.",
    )
    def get(self, request):
        if not access.has_role(request.user, Role.MANAGER):
            raise Http404
        try:
            quarter = funder.parse_quarter(request.query_params.get("period"), timezone.localdate())
        except funder.BadPeriod as error:
            raise ValidationError({"period": [str(error)]}) from None
        organisation = request.user.membership.organisation
        tables = funder.funder_report(organisation.pk, quarter)
        return Response(funder.as_json(organisation.name, quarter, tables))
