"""The authority boundary over REST.

/api/v1/shared-cases/            an authority's shared view (exactly the granted categories' keys; every
                                 response appends disclosure rows), + POST {id}/legal-events/
/api/v1/authority-referrals/     an authority's referrals of new persons and their status
/api/v1/information-requests/    an authority asks; the NGO manager grants (with the consent) or refuses
/api/v1/exceptional-disclosures/ the snapshots delivered to the authority
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.models import City, Organisation, Role
from casemgmt import access, boundary_services, shared_view
from casemgmt.boundary_forms import CATEGORY_CHOICES
from casemgmt.boundary_models import AuthorityReferral, ExceptionalDisclosure, InformationRequest
from casemgmt.casefile import LegalEvent
from casemgmt.models import Case, LegalStatus, Stage

from . import clients
from .conditional import SafeWritesMixin

# --- Shared cases -----------------------------------------------------------------------------------


class CaseworkerContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    organisation = serializers.CharField()


class SharedLegalEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LegalEvent.Kind.choices)
    date = serializers.DateField()
    description = serializers.CharField()


class SharedPlacementSerializer(serializers.Serializer):
    kind = serializers.CharField()
    partner = serializers.CharField()
    status = serializers.CharField()
    started_on = serializers.DateField(allow_null=True)


class SharedCaseSerializer(serializers.Serializer):
    """For the schema only: a response carries `id`, `case_code`, `caseworker`, `categories`, `basis`
    and then exactly the keys of the granted categories (identity; legal status; program stage;
    compliance; risk band; placement). Keys of categories not granted are absent, not null."""

    id = serializers.IntegerField()
    case_code = serializers.CharField()
    caseworker = CaseworkerContactSerializer(allow_null=True)
    categories = serializers.ListField(child=serializers.ChoiceField(choices=CATEGORY_CHOICES))
    basis = serializers.ListField(child=serializers.CharField())
    given_name_latin = serializers.CharField(required=False)
    family_name_latin = serializers.CharField(required=False)
    given_name_arabic = serializers.CharField(required=False)
    family_name_arabic = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    national_id = serializers.CharField(required=False)
    legal_status = serializers.ChoiceField(choices=LegalStatus.choices, required=False)
    legal_events = SharedLegalEventSerializer(many=True, required=False, help_text="Detail only.")
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    stage_entered_on = serializers.DateField(required=False)
    next_review_on = serializers.DateField(required=False, allow_null=True)
    compliance = serializers.ListField(child=serializers.DictField(), required=False, help_text="Detail only.")
    risk_band = serializers.CharField(required=False, allow_null=True)
    risk_band_on = serializers.DateField(required=False, allow_null=True)
    placement = SharedPlacementSerializer(required=False, allow_null=True)


class AuthorityLegalEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LegalEvent.Kind.choices)
    date = serializers.DateField()
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SharedCaseViewSet(SafeWritesMixin, viewsets.GenericViewSet):
    """Cases shared with the caller's authority organisation (a current consent or mandate)."""

    serializer_class = SharedCaseSerializer
    queryset = Case.objects.none()
    lookup_value_regex = r"\d+"
    # Partner clients (issue 13): an authority's client sees what its liaisons see.
    required_scopes = {
        "list": ["cases:read-shared"],
        "retrieve": ["cases:read-shared"],
        "legal_events": ["legal-events:write"],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        return clients.shared_cases(self.request.user).select_related("participant__city")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = shared_view.read_for_user(request, list(page), view="api-shared-case-list", detail=False)
        return self.get_paginated_response(rows)

    def retrieve(self, request, pk=None):
        case = self.get_object()
        return Response(shared_view.read_for_user(request, [case], view="api-shared-case-detail", detail=True)[0])

    @extend_schema(request=AuthorityLegalEventSerializer, responses={201: SharedLegalEventSerializer})
    @action(detail=True, methods=["post"], url_path="legal-events")
    def legal_events(self, request, pk=None):
        """Record a legal event (with the `legal status` category)."""
        case = self.get_object()
        if not access.can_record_legal_events_as_authority(request.user, case):
            raise NotFound
        body = AuthorityLegalEventSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        principal = clients.client_of_kind(request.user, clients.AUTHORITY)
        if principal is not None:
            event = boundary_services.legal_event_on_shared_case(
                clients.shared_cases(principal), case=case, by=principal.service_user, data=body.validated_data
            )
        else:
            event = boundary_services.authority_legal_event(case=case, by=request.user, data=body.validated_data)
        data = {"id": event.pk, "kind": event.kind, "date": event.date, "description": event.description}
        return Response(SharedLegalEventSerializer(data).data, status=status.HTTP_201_CREATED)


# --- Referrals ------------------------------------------------------------------------------------------


class AuthorityReferralSerializer(serializers.ModelSerializer):
    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)
    status = serializers.SerializerMethodField()
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_active=True, kind=Organisation.Kind.NGO), write_only=True
    )
    programme = serializers.CharField(source="case.organisation.name", read_only=True)
    given_name_latin = serializers.CharField(write_only=True, max_length=100)
    family_name_latin = serializers.CharField(write_only=True, max_length=100)
    given_name_arabic = serializers.CharField(write_only=True, max_length=100, required=False, allow_blank=True)
    family_name_arabic = serializers.CharField(write_only=True, max_length=100, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(write_only=True, required=False, allow_null=True)
    city = serializers.PrimaryKeyRelatedField(queryset=City.objects.all(), write_only=True)
    reason = serializers.CharField(write_only=True, max_length=4000)

    class Meta:
        model = AuthorityReferral
        fields = [
            "id",
            "case_code",
            "programme",
            "reference",
            "submitted_at",
            "status",
            "organisation",
            "given_name_latin",
            "family_name_latin",
            "given_name_arabic",
            "family_name_arabic",
            "date_of_birth",
            "city",
            "reason",
        ]
        read_only_fields = ["id", "case_code", "programme", "submitted_at", "status"]

    def get_status(self, obj) -> str:
        return str(boundary_services.referral_status(obj))


PARTICIPANT_KEYS = (
    "given_name_latin",
    "family_name_latin",
    "given_name_arabic",
    "family_name_arabic",
    "date_of_birth",
    "city",
)


class AuthorityReferralViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """An authority's referrals of new persons: the status only, nothing else of the case."""

    serializer_class = AuthorityReferralSerializer
    queryset = AuthorityReferral.objects.none()
    lookup_value_regex = r"\d+"
    required_scopes = {"list": ["referrals:write"], "retrieve": ["referrals:write"], "create": ["referrals:write"]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuthorityReferral.objects.none()
        principal = clients.client_of_kind(self.request.user, clients.AUTHORITY)
        if principal is not None:
            rows = AuthorityReferral.objects.filter(authority_id=principal.organisation_id)
        else:
            rows = access.authority_referrals_visible_to(self.request.user)
        return rows.select_related("case__participant", "case__organisation")

    def create(self, request):
        principal = clients.client_of_kind(request.user, clients.AUTHORITY)
        if principal is None and not access.is_authority(request.user):
            raise NotFound
        body = AuthorityReferralSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        participant = {k: data[k] for k in PARTICIPANT_KEYS if data.get(k) not in (None, "")}
        if principal is not None:
            referral = boundary_services.referral_from_authority(
                authority=principal.organisation,
                by=principal.service_user,
                organisation=data["organisation"],
                participant=participant,
                reason=data["reason"],
                reference=data.get("reference", ""),
            )
            return Response(AuthorityReferralSerializer(referral).data, status=status.HTTP_201_CREATED)
        referral = boundary_services.authority_referral_submit(
            by=request.user,
            organisation=data["organisation"],
            participant=participant,
            reason=data["reason"],
            reference=data.get("reference", ""),
        )
        return Response(AuthorityReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


# --- Information requests ---------------------------------------------------------------------------------


class InformationRequestSerializer(serializers.ModelSerializer):
    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=CATEGORY_CHOICES), allow_empty=False, min_length=1
    )
    case = serializers.IntegerField(source="case_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = InformationRequest
        fields = [
            "id",
            "case",
            "case_code",
            "authority",
            "categories",
            "purpose",
            "status",
            "requested_at",
            "decided_at",
            "reason",
            "consent",
        ]
        read_only_fields = ["id", "case_code", "authority", "status", "requested_at", "decided_at", "reason", "consent"]


class GrantSerializer(serializers.Serializer):
    given_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class RefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class InformationRequestViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Authorities ask (POST); the case's NGO managers grant with the participant's consent or refuse."""

    serializer_class = InformationRequestSerializer
    queryset = InformationRequest.objects.none()
    conditional_actions = frozenset({"grant", "refuse"})
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return InformationRequest.objects.none()
        return access.information_requests_visible_to(self.request.user).select_related("case__participant")

    def create(self, request):
        if not access.is_authority(request.user):
            raise NotFound
        body = InformationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = access.shared_cases_for(request.user).filter(pk=body.validated_data["case_id"]).first()
        if case is None:
            raise serializers.ValidationError({"case": [_("No such case.")]})
        item = boundary_services.information_request_submit(
            case=case,
            by=request.user,
            categories=body.validated_data["categories"],
            purpose=body.validated_data["purpose"],
        )
        return Response(InformationRequestSerializer(item).data, status=status.HTTP_201_CREATED)

    def _decidable(self):
        item = self.get_object()
        if not access.has_role(self.request.user, Role.MANAGER):
            raise NotFound
        return item

    @extend_schema(request=GrantSerializer, responses=InformationRequestSerializer)
    @action(detail=True, methods=["post"])
    def grant(self, request, pk=None):
        """Record the participant's consent (the requested categories, naming the authority) and grant."""
        item = self._decidable()
        body = GrantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = boundary_services.information_request_grant(request=item, by=request.user, **body.validated_data)
        return Response(InformationRequestSerializer(item).data)

    @extend_schema(request=RefuseSerializer, responses=InformationRequestSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        item = self._decidable()
        body = RefuseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = boundary_services.information_request_refuse(request=item, by=request.user, **body.validated_data)
        return Response(InformationRequestSerializer(item).data)


# --- Exceptional disclosures (the authority's side) ------------------------------------------------------


class DeliveredDisclosureSerializer(serializers.ModelSerializer):
    case_code = serializers.CharField(source="case.participant.case_code", read_only=True)
    snapshot = serializers.SerializerMethodField()

    class Meta:
        model = ExceptionalDisclosure
        fields = ["id", "case_code", "legal_basis", "categories", "approved_at", "delivered_at", "snapshot"]
        read_only_fields = fields

    def get_snapshot(self, obj) -> dict | None:
        return obj.snapshot if self.context.get("with_snapshot") else None


class ExceptionalDisclosureViewSet(
    SafeWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Disclosures delivered to the caller's authority; the snapshot only on the detail (logged)."""

    serializer_class = DeliveredDisclosureSerializer
    queryset = ExceptionalDisclosure.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not access.is_authority(self.request.user):
            return ExceptionalDisclosure.objects.none()
        return access.exceptional_disclosures_visible_to(self.request.user).select_related("case__participant")

    def retrieve(self, request, pk=None):
        item = self.get_object()
        shared_view.read_delivered_disclosure(request, item, view="api-exceptional-disclosure")
        return Response(DeliveredDisclosureSerializer(item, context={"with_snapshot": True}).data)
