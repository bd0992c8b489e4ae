"""Placement endpoints: partners, opportunities, placements and their check-ins.

Same conventions as `casemgmt.api`: cursor pagination, RFC 9457 problems, 404 outside scope, explicit
serializer fields, lists filtered in SQL by the policy.

A partner's own API client (a later issue) will be scoped by `Placement.partner` (one column) and
serialized with `PartnerPlacementSerializer` below: the participant's first name and case code, the
placement's dates and status, and nothing of the case file.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import City, Organisation
from casemgmt import access
from casemgmt.access import G
from casemgmt.api.conditional import SafeWritesMixin
from casemgmt.api.params import query_choice, query_int
from casemgmt.reads import log_read, log_reads

from .. import placement_selectors as sel
from .. import placement_services as services
from ..models import (
    PARTNER_KINDS,
    AgreementStatus,
    CheckIn,
    IncomeBand,
    Opportunity,
    OpportunityKind,
    Placement,
    PlacementStatus,
    Sector,
)

GROUPS = frozenset({G.PLACEMENTS})


# --- Partners -------------------------------------------------------------------------------------


class PartnerSerializer(serializers.Serializer):
    """A partner organisation with its (shared) profile, flat."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=[(k, Organisation.Kind(k).label) for k in PARTNER_KINDS])
    sector = serializers.ChoiceField(choices=Sector.choices, source="partner_profile.sector", required=False)
    city = serializers.PrimaryKeyRelatedField(
        queryset=City.objects.all(), source="partner_profile.city", required=False
    )
    contact_name = serializers.CharField(
        source="partner_profile.contact_name", max_length=120, required=False, allow_blank=True
    )
    contact_phone = serializers.CharField(
        source="partner_profile.contact_phone", max_length=40, required=False, allow_blank=True
    )
    contact_email = serializers.EmailField(source="partner_profile.contact_email", required=False, allow_blank=True)
    agreement_status = serializers.ChoiceField(
        choices=AgreementStatus.choices, source="partner_profile.agreement_status", required=False
    )
    agreement_from = serializers.DateField(source="partner_profile.agreement_from", required=False, allow_null=True)
    agreement_until = serializers.DateField(source="partner_profile.agreement_until", required=False, allow_null=True)
    offers = serializers.CharField(source="partner_profile.offers", required=False, allow_blank=True)
    open_opportunities = serializers.IntegerField(read_only=True)


class PartnerViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Employers and training providers (shared by every NGO): placement officers and managers read,
    placement officers add partners and keep their profiles."""

    serializer_class = PartnerSerializer
    queryset = Organisation.objects.none()
    etag_related = ("partner_profile",)
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return sel.partners_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        if not sel.can_edit_partners(request.user):
            raise NotFound
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        profile = services.partner_create(
            by=request.user, name=data["name"], kind=data["kind"], profile=data.get("partner_profile", {})
        )
        partner = self.get_queryset().get(pk=profile.organisation_id)
        return Response(self.get_serializer(partner).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        partner = self.get_object()
        if not sel.can_edit_partners(request.user):
            raise NotFound
        serializer = self.get_serializer(partner, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if {"name", "kind"} & set(serializer.validated_data):
            raise serializers.ValidationError(
                {"name": [_("The organisation's name and kind are kept by the system administrator.")]}
            )
        services.partner_profile_save(
            by=request.user, organisation=partner, data=serializer.validated_data.get("partner_profile", {})
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=partner.pk)).data)


# --- Opportunities -----------------------------------------------------------------------------------


class OpportunitySerializer(serializers.ModelSerializer):
    partner = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.filter(kind__in=PARTNER_KINDS))
    taken = serializers.IntegerField(read_only=True)
    free = serializers.IntegerField(read_only=True)

    class Meta:
        model = Opportunity
        fields = ["id", *services.OPPORTUNITY_FIELDS, "taken", "free", "created_at", "updated_at"]
        read_only_fields = ["id", "taken", "free", "created_at", "updated_at"]


BOARD_FILTERS = [
    OpenApiParameter("open", str, enum=["yes", "no", "all"], description="Open (default), closed or all"),
    OpenApiParameter("kind", str, enum=OpportunityKind.values),
    OpenApiParameter("city", str, description="City code, e.g. TNG"),
    OpenApiParameter("sector", str, enum=Sector.values),
]


class OpportunityViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The shared opportunity board, with taken and free places."""

    serializer_class = OpportunitySerializer
    queryset = Opportunity.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.action != "list":
            return sel.opportunities_visible_to(self.request.user)
        params = self.request.query_params
        errors = {}
        if params.get("kind", "") not in ("", *OpportunityKind.values):
            errors["kind"] = [_("Unknown kind.")]
        if params.get("sector", "") not in ("", *Sector.values):
            errors["sector"] = [_("Unknown sector.")]
        if params.get("open", "yes") not in ("yes", "no", "all"):
            errors["open"] = [_("Use yes, no or all.")]
        if errors:
            raise serializers.ValidationError(errors)
        return sel.opportunity_board(
            self.request.user,
            is_open=params.get("open", "yes"),
            kind=params.get("kind", ""),
            city=params.get("city", "")[:3],
            sector=params.get("sector", ""),
        )

    @extend_schema(parameters=BOARD_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        if not sel.can_edit_partners(request.user):
            raise NotFound
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        opportunity = services.opportunity_create(by=request.user, data=dict(serializer.validated_data))
        return Response(
            self.get_serializer(sel.opportunities_visible_to(request.user).get(pk=opportunity.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, *args, **kwargs):
        opportunity = self.get_object()
        if not sel.can_edit_partners(request.user):
            raise NotFound
        serializer = self.get_serializer(opportunity, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.opportunity_update(by=request.user, opportunity=opportunity, data=dict(serializer.validated_data))
        return Response(self.get_serializer(sel.opportunities_visible_to(request.user).get(pk=opportunity.pk)).data)


# --- Placements ---------------------------------------------------------------------------------------


class PlacementSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="case_id")
    opportunity = serializers.IntegerField(source="opportunity_id")

    class Meta:
        model = Placement
        fields = [
            "id",
            "case",
            "opportunity",
            "partner",
            "status",
            "proposed_on",
            "accepted_on",
            "started_on",
            "ended_on",
            "note",
            "end_reason",
            "certificate",
            "certificate_name",
            "employed_after",
            "income_band",
            "recorded_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "partner",
            "status",
            "accepted_on",
            "started_on",
            "ended_on",
            "end_reason",
            "certificate",
            "certificate_name",
            "employed_after",
            "income_band",
            "recorded_by",
            "created_at",
            "updated_at",
        ]


class PartnerPlacementSerializer(serializers.ModelSerializer):
    """For a partner's own API client (later issue): its placements, first name and case code only."""

    participant_first_name = serializers.CharField(source="case.participant.given_name_latin", read_only=True)
    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)
    opportunity_title = serializers.CharField(source="opportunity.title", read_only=True)

    class Meta:
        model = Placement
        fields = [
            "id",
            "opportunity",
            "opportunity_title",
            "status",
            "proposed_on",
            "accepted_on",
            "started_on",
            "ended_on",
            "participant_first_name",
            "case_code",
        ]
        read_only_fields = fields


class MoveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PlacementStatus.choices)
    on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    certificate = serializers.BooleanField(required=False, allow_null=True)
    certificate_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    employed_after = serializers.BooleanField(required=False, allow_null=True)
    income_band = serializers.ChoiceField(choices=IncomeBand.choices, required=False)


class CheckInSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckIn
        fields = [
            "id",
            "placement",
            "day",
            "due_on",
            "recorded_on",
            "still_there",
            "hours_per_week",
            "participant_satisfaction",
            "partner_satisfaction",
            "issues",
            "recorded_by",
        ]
        read_only_fields = fields


class CheckInRecordSerializer(serializers.Serializer):
    day = serializers.ChoiceField(choices=[(d, str(d)) for d in CheckIn.DAYS])
    recorded_on = serializers.DateField()
    still_there = serializers.BooleanField()
    hours_per_week = serializers.IntegerField(min_value=0, max_value=80, required=False, allow_null=True)
    participant_satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    partner_satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    issues = serializers.CharField(required=False, allow_blank=True, max_length=4000)


PLACEMENT_FILTERS = [
    OpenApiParameter("case", int, description="Only placements of this case"),
    OpenApiParameter("status", str, enum=PlacementStatus.values),
]


class PlacementViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Placements of the cases visible to the caller: the lead, caseworkers and managers read, the
    placement officer on the team proposes and moves them (acceptance recorded on the partner's behalf)."""

    serializer_class = PlacementSerializer
    queryset = Placement.objects.none()
    conditional_actions = frozenset({"transition"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        rows = access.records_visible_to(self.request.user, "placement")
        if self.action != "list":
            return rows.select_related("case")
        case_id = query_int(self.request, "case")
        if case_id is not None:
            rows = rows.filter(case_id=case_id)
        wanted = query_choice(self.request, "status", PlacementStatus.values)
        if wanted is not None:
            rows = rows.filter(status=wanted)
        return rows

    def _case(self, placement):
        return access.get_case_for_user(self.request.user, placement.case_id)

    @extend_schema(parameters=PLACEMENT_FILTERS)
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_reads(request, [p.case_id for p in page], view="api-placement-list", groups=GROUPS)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        placement = self.get_object()
        log_read(request, placement.case, view="api-placement-detail", groups=GROUPS)
        return Response(self.get_serializer(placement).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            case = access.get_case_for_user(request.user, data["case_id"])
        except Http404 as error:
            raise serializers.ValidationError({"case": [_("No such case.")]}) from error
        if not access.can_write_record(request.user, case, "placement"):
            raise NotFound
        opportunity = sel.opportunities_visible_to(request.user).filter(pk=data["opportunity_id"]).first()
        if opportunity is None:
            raise serializers.ValidationError({"opportunity": [_("No such opportunity.")]})
        placement = services.placement_propose(
            by=request.user,
            case=case,
            opportunity=opportunity,
            proposed_on=data["proposed_on"],
            note=data.get("note", ""),
        )
        log_read(request, case, view="api-placement-create", groups=GROUPS)
        return Response(self.get_serializer(placement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MoveSerializer, responses=PlacementSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the placement: accepted, started (creates the 30/90/180-day check-ins), completed, dropped_out,
        dismissed, refused or withdrawn. An illegal move or a full opportunity is a 400 problem."""
        placement = self.get_object()
        case = self._case(placement)
        if not access.can_write_record(request.user, case, "placement", placement):
            raise NotFound
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        outcome = {k: data.pop(k) for k in services.OUTCOME_FIELDS if k in data}
        outcome = {k: v for k, v in outcome.items() if v not in (None, "")}
        moved = services.placement_move(
            by=request.user,
            placement=placement,
            to_status=data["status"],
            on=data["on"],
            reason=data.get("reason", ""),
            outcome=outcome,
        )
        return Response(self.get_serializer(moved).data)

    @extend_schema(methods=["GET"], responses=CheckInSerializer(many=True))
    @extend_schema(methods=["POST"], request=CheckInRecordSerializer, responses={201: CheckInSerializer})
    @action(detail=True, methods=["get", "post"], url_path="check-ins", pagination_class=None)
    def check_ins(self, request, pk=None):
        """The check-ins of a placement (due 30, 90 and 180 days after its start); POST records one."""
        placement = self.get_object()
        case = self._case(placement)
        rows = access.case_records_visible_to(request.user, case, "placement_check_in").filter(placement=placement)
        if request.method == "POST":
            if not access.can_write_record(request.user, case, "placement_check_in"):
                raise NotFound
            serializer = CheckInRecordSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            check_in = rows.filter(day=data.pop("day")).first()
            if check_in is None:
                raise serializers.ValidationError({"day": [_("This placement has no such check-in (not started?).")]})
            recorded = services.check_in_record(
                by=request.user, check_in=check_in, recorded_on=data.pop("recorded_on"), data=data
            )
            return Response(CheckInSerializer(recorded).data, status=status.HTTP_201_CREATED)
        log_read(request, case, view="api-placement-check-ins", groups=GROUPS)
        return Response(CheckInSerializer(rows, many=True).data)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("partners", PartnerViewSet, basename="api-partner")
    router.register("opportunities", OpportunityViewSet, basename="api-opportunity")
    router.register("placements", PlacementViewSet, basename="api-placement")
