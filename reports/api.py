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

from accounts.models import Organisation, Role
from casemgmt import access
from casemgmt.api import clients
from casemgmt.api.conditional import SafeWritesMixin

from . import funder


def _programme_for_funder(request) -> Organisation:
    """A funder's client names the programme (an active NGO) whose suppressed report it reads: every
    figure is per programme, so suppression (counts under 5) applies per programme as on the page."""
    raw = request.query_params.get("organisation", "")
    organisation = None
    if raw.isdigit() and len(raw) < 19:
        organisation = Organisation.objects.filter(pk=int(raw), kind=Organisation.Kind.NGO, is_active=True).first()
    if organisation is None:
        choices = Organisation.objects.filter(kind=Organisation.Kind.NGO, is_active=True).order_by("pk")
        names = "; ".join(f"{o.pk} = {o.name}" for o in choices)
        raise ValidationError({"organisation": [f"Name a programme by the id of an active NGO: {names}."]})
    return organisation


class ReportSummaryView(SafeWritesMixin, APIView):
    required_scopes = ["reports:read"]  # partner clients (issue 13): funders' statistics systems
    etag_from_content = True

    @extend_schema(
        operation_id="reports_summary",
        parameters=[
            OpenApiParameter(
                "period", OpenApiTypes.STR, description="A complete calendar quarter, e.g. 2026-Q3 (default: the last)"
            ),
            OpenApiParameter(
                "organisation",
                OpenApiTypes.INT,
                description="Funder clients: the programme (NGO id) to report on. Managers: ignored (their own).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
        description="The funder report of the user's organisation: aggregates only, counts under 5 suppressed.",
    )
    def get(self, request):
        principal = clients.client_of_kind(request.user, clients.FUNDER)
        if principal is None and not access.has_role(request.user, Role.MANAGER):
            raise Http404
        try:
            quarter = funder.parse_quarter(request.query_params.get("period"), timezone.localdate())
        except funder.BadPeriod as error:
            raise ValidationError({"period": [str(error)]}) from None
        organisation = request.user.membership.organisation if principal is None else _programme_for_funder(request)
        tables = funder.funder_report(organisation.pk, quarter)
        return Response(funder.as_json(organisation.name, quarter, tables))
