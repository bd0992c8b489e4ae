"""The endpoints of a partner's own API client (issue 13): employers and training providers.

/api/v1/partner-placements/               the organisation's placements: participant's first name and case
                                           code, the dates and status, nothing of the case file
/api/v1/partner-placements/{id}/status/   the partner's own moves (accept or refuse a proposal, start, end)
/api/v1/partner-opportunities/            the organisation's opportunities; POST publishes one

Scoped by `Placement.partner` / `Opportunity.partner` (one column) to the client's organisation. Staff
users get 404 on every one of them: their placements live at /api/v1/placements/.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from casemgmt.api import clients
from casemgmt.api.conditional import SafeWritesMixin

from .. import placement_selectors as sel
from .. import placement_services as services
from ..models import Opportunity, Placement, PlacementStatus
from .placements import OpportunitySerializer, PartnerPlacementSerializer

# What the partner itself decides; withdrawing a proposal and dropping out are recorded by the NGO's
# placement officer, and so are the outcomes (employment after, income).
PARTNER_MOVES = (
    PlacementStatus.ACCEPTED,
    PlacementStatus.REFUSED,
    PlacementStatus.STARTED,
    PlacementStatus.COMPLETED,
    PlacementStatus.DISMISSED,
)


PARTNER_MOVE_CHOICES = [(s.value, s.label) for s in PARTNER_MOVES]  # named in the API schema


class PartnerMoveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PARTNER_MOVE_CHOICES)
    on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PartnerOpportunitySerializer(OpportunitySerializer):
    partner = serializers.PrimaryKeyRelatedField(read_only=True)


def _partner(request):
    principal = clients.client_of_kind(request.user, *clients.PARTNER_KINDS)
    if principal is None:
        raise NotFound
    return principal


class PartnerPlacementViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The placements made with the client's organisation. A move is a workflow step: If-Match (428 without)."""

    conditional_actions = frozenset({"move"})

    serializer_class = PartnerPlacementSerializer
    queryset = Placement.objects.none()
    lookup_value_regex = r"\d+"
    required_scopes = {"list": ["placements:read"], "retrieve": ["placements:read"], "move": ["placements:write"]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Placement.objects.none()
        principal = _partner(self.request)
        return (
            Placement.objects.filter(partner_id=principal.organisation_id)
            .select_related("case__participant", "opportunity")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(request=PartnerMoveSerializer, responses=PartnerPlacementSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def move(self, request, pk=None):
        """Accept or refuse a proposed placement, record its start, its completion or a dismissal. An illegal
        move (or accepting when the opportunity is full) is a 400 problem."""
        principal = _partner(request)
        placement = self.get_object()
        body = PartnerMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = services.placement_move(
            by=principal.service_user,
            placement=placement,
            to_status=body.validated_data["status"],
            on=body.validated_data["on"],
            reason=body.validated_data.get("reason", ""),
        )
        return Response(PartnerPlacementSerializer(self.get_queryset().get(pk=moved.pk)).data)


class PartnerOpportunityViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The client's organisation's opportunities on the shared board; POST publishes a new one."""

    serializer_class = PartnerOpportunitySerializer
    queryset = Opportunity.objects.none()
    lookup_value_regex = r"\d+"
    required_scopes = {
        "list": ["opportunities:write"],
        "retrieve": ["opportunities:write"],
        "create": ["opportunities:write"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Opportunity.objects.none()
        principal = _partner(self.request)
        rows = Opportunity.objects.filter(partner_id=principal.organisation_id).select_related("partner", "city")
        return sel.with_places(rows).order_by("-pk")

    def create(self, request, *args, **kwargs):
        principal = _partner(request)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = {**body.validated_data, "partner": principal.organisation}
        opportunity = services.opportunity_create(by=principal.service_user, data=data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=opportunity.pk)).data, status=status.HTTP_201_CREATED
        )


def register(router) -> None:
    router.register("partner-placements", PartnerPlacementViewSet, basename="api-partner-placement")
    router.register("partner-opportunities", PartnerOpportunityViewSet, basename="api-partner-opportunity")
